/* SPDX-License-Identifier: MIT */
/*
 * The blades' worker (bladework.c): requests to the blades' backend (mgmt-proc's blade.h:
 * netns moves, link up and down, link queries) run on one thread of their own, in the
 * order they were given, so the event loop never waits for a namespace (each answer is
 * bounded by MP_BLADE_TIMEOUT_MS, 2 s; a busy machine takes most of that).
 *
 * A job is a list of operations and a function called on the loop once all of them ran,
 * with each operation's result filled in. Jobs run one after the other: what was given
 * first is done first, so "take the VF out of blade1" given before "put it into blade2"
 * happens in that order. The backend is used only by the worker from cmc_bw_start() on.
 */
#ifndef CMC_BLADEWORK_H
#define CMC_BLADEWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "blade.h"
#include "config.h"
#include "loop.h"

enum cmc_bw_kind {
	CMC_BW_CREATE,	/* make the blade exist and open its stream of link changes (fd) */
	CMC_BW_MAP,	/* bdf into blade as ifname, up; then cidr if set; then, if it is up with
			 * a MAC other than mac, down and up (its driver missed a change) */
	CMC_BW_UNMAP,	/* bdf out of blade, back home */
	CMC_BW_BOUNCE,	/* ifname down and up if it is up (a VF whose settings changed) */
	CMC_BW_KICK,	/* ifname down and up if it is up without carrier (a stuck VF) */
	CMC_BW_LOOK,	/* ifname as it is now (nd) */
	CMC_BW_VMPORT,	/* a VM's port: bridge joining ifname (its VF) and tap, mac pinned to
			 * the tap (mp_blade_vmport_add); then the VF's carrier waited for,
			 * at most 3 s (nd: the VF as last seen) */
	CMC_BW_VMPORT_DEL,	/* bridge and tap removed (mp_blade_vmport_del) */
	CMC_BW_NFT,	/* the ruleset nft holds run by `nft -f -` in blade (mp_blade_run),
			 * at most CMC_BW_NFT_TIMEOUT_MS */
	CMC_BW_HEALTH,	/* whether the blade is up: nd.present (mp_blade_health) */
	CMC_BW_POWER_OFF,	/* the blade powered off (mp_blade_power_off) */
};

#define CMC_BW_NFT_MAX 4096		/* a ruleset (template.h: 16 peers take under 2 KiB) */
#define CMC_BW_NFT_TIMEOUT_MS 2000
#define CMC_BW_NFT_PATH "/usr/sbin/nft"	/* Debian's nftables */

struct cmc_bw_op {
	enum cmc_bw_kind kind;
	unsigned slot, pf, vf;		/* the VF, for the caller's bookkeeping */
	unsigned long long gen;		/* the caller's, returned as given */
	char bdf[MP_BDF_STRLEN];
	char blade[CMC_CONFIG_NAME_MAX + 1];
	char ifname[16];
	char cidr[32];			/* MAP: "" for none */
	uint8_t mac[6];			/* MAP: what the VF should have; VMPORT: the VM's */
	char bridge[16], tap[16];	/* VMPORT, VMPORT_DEL; NFT: tap, the port its rules are for */
	char nft[CMC_BW_NFT_MAX];	/* NFT: the ruleset */
	/* Results */
	int rc;				/* 0 or -errno */
	char err[256];
	struct mp_blade_netdev nd;	/* LOOK, KICK, BOUNCE: the netdev before anything was done */
	bool bounced;			/* MAP, BOUNCE, KICK: taken down and up */
	int fd;				/* CREATE: the blade's link-change stream, or -1 */
};

struct cmc_bw;
/* On the loop, once every operation of the job ran (or, at cmc_bw_stop(), did not: rc is
 * -ECANCELED). ops is the worker's copy, valid during the call. */
typedef void (*cmc_bw_done_fn)(void *arg, struct cmc_bw_op *ops, unsigned n);

/* Starts the thread. be: the backend (may be NULL: every operation fails with -ENOTSUP).
 * -errno (-ENOMEM, pthread's or eventfd's error). */
int cmc_bw_start(struct cmc_loop *loop, struct mp_blade_backend *be, struct cmc_bw **out)
	__attribute__((warn_unused_result));
/*
 * Jobs not yet started are called back with -ECANCELED, the one running finishes its
 * current operation (bounded), then the thread ends. Every done function has been called
 * when this returns.
 */
void cmc_bw_stop(struct cmc_bw *bw);

/* Queues n operations (copied; n may be 0: done is then called once everything queued
 * before it ran). -ENOMEM, -ESHUTDOWN (stopping). */
int cmc_bw_submit(struct cmc_bw *bw, const struct cmc_bw_op *ops, unsigned n, cmc_bw_done_fn done,
		  void *arg) __attribute__((warn_unused_result));
/* Jobs queued or running. */
unsigned cmc_bw_pending(const struct cmc_bw *bw);

#endif
