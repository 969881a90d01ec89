/* SPDX-License-Identifier: MIT */
/*
 * drivers: NIC backends behind one ops table. A backend owns one physical function
 * (PF) of an SR-IOV card and sets up its virtual functions (VFs):
 *
 *   igb-vfio   the Intel 82576 PF driven from user space through VFIO: cmcd itself
 *              answers the VFs' mailbox and programs the card's embedded bridge.
 *   kernel     the PF stays with its kernel driver; VFs are configured through
 *              rtnetlink (IFLA_VF_*) and sysfs.
 *
 * Functions return 0 or a negative errno; never print, exit or abort. What a backend
 * has to report (a VF's refused request, link changes, a card gone) goes to the
 * event callback, which the daemon logs and rate-limits.
 */
#ifndef CMC_NIC_H
#define CMC_NIC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NIC_WUR __attribute__((warn_unused_result))
#define NIC_MAX_VFS 8
/* Static forwarding entries (fdb_set) a port holds; the rest of its spare receive
 * addresses are for what trusted VFs ask for. */
#define NIC_STATIC_FDB_MAX 8
#define NIC_VF_MACS_MAX 5	/* a VF's own primary + 4 extra unicast filters (igb_mbx.h) */

struct nic;

enum nic_event {
	NIC_EV_INFO,		/* something worth a log line */
	NIC_EV_VF_REFUSED,	/* a VF's request was refused (detail says which and why) */
	NIC_EV_VF_RESET,	/* a VF (re)started and took its configuration */
	NIC_EV_VF_PENALTY,	/* a VF misbehaved and was muted or ignored, or was forgiven */
	NIC_EV_LINK_UP,
	NIC_EV_LINK_DOWN,
	NIC_EV_GONE,		/* the card stopped answering: surprise removal */
};

/* vf < 0: about the PF. */
typedef void (*nic_event_fn)(void *ctx, enum nic_event ev, int vf, const char *detail);

struct nic_params {
	const char *pf_bdf;		/* "0000:03:00.0" */
	unsigned num_vfs;		/* VFs to enable (0..7 for igb) */
	const char *vf_driver;		/* bind VFs to this driver ("igbvf", "vfio-pci"); NULL: leave */
	bool keep_vfs;			/* on close: leave the VFs enabled (a restart adopts them) */
	/*
	 * Optional: true if mac belongs to anything in the chassis other than this PF's VF vf
	 * (another card's VF, a static entry, a PF). Asked by the backend, on whatever thread
	 * serves the card, before a VF may take a MAC it was not assigned; never blocks for
	 * long. Gets ctx.
	 */
	bool (*mac_in_use)(void *ctx, unsigned vf, const uint8_t mac[6]);
	/*
	 * Optional: what VF vf holds now through its mailbox beyond its assigned MAC (a
	 * trusted VF's own primary, its extra unicast filters): n MACs (0..NIC_VF_MACS_MAX),
	 * n = 0 once a reset or a new policy cleared them. Called on the thread that serves
	 * the card, after each change took effect on the card; must not block or call back.
	 */
	void (*vf_macs)(void *ctx, unsigned vf, const uint8_t (*macs)[6], unsigned n);
	/*
	 * igb-vfio: the VF token (a UUID, 16 bytes) a VF of this PF must be opened with
	 * through VFIO ("BDF vf_token=UUID", see vf_token.h). NULL: a random one the
	 * backend keeps to itself, so that no VF can be opened through VFIO.
	 */
	const uint8_t *vf_token;
	nic_event_fn on_event;
	void *ctx;
};

enum nic_link_state { NIC_LINK_AUTO, NIC_LINK_ENABLE, NIC_LINK_DISABLE };

/* A port's mode: normal (frames leave through the cable) or held in internal loopback. */
enum nic_port_mode { NIC_PORT_NORMAL, NIC_PORT_LOOPBACK };

/* The chassis' policy for one VF. */
struct nic_vf_config {
	uint8_t mac[6];			/* all zero: none assigned */
	uint16_t vlan;			/* port VLAN, 0 = none */
	bool trusted;
	bool spoofchk;
	unsigned max_tx_rate_mbps;	/* 0 = unlimited */
	enum nic_link_state link_state;
};

static inline bool nic_vf_config_equal(const struct nic_vf_config *a, const struct nic_vf_config *b)
{
	return a->mac[0] == b->mac[0] && a->mac[1] == b->mac[1] && a->mac[2] == b->mac[2] &&
	       a->mac[3] == b->mac[3] && a->mac[4] == b->mac[4] && a->mac[5] == b->mac[5] &&
	       a->vlan == b->vlan && a->trusted == b->trusted && a->spoofchk == b->spoofchk &&
	       a->max_tx_rate_mbps == b->max_tx_rate_mbps && a->link_state == b->link_state;
}

struct nic_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_loopback_packets, tx_loopback_packets;	/* VF-to-VF, where the card counts */
	uint64_t mbx_messages, mbx_refused, mbx_rate_limited;	/* igb-vfio only */
	uint64_t mbx_resets, mbx_penalties, mbx_ignored;	/* FLRs + VF_RESETs; mutes + ignores; 1 if ignored */
};

/*
 * A VF's transmit limit as the backend wrote it to the card (igb-vfio: the 82576's
 * per-queue rate scheduler, doc/rate-limiter.md).
 */
struct nic_vf_rate {
	unsigned rate_mbps;	/* the limit asked for, Mbit/s; 0 = none */
	unsigned link_mbps;	/* the port speed the register value was computed for */
	uint32_t reg;		/* the value written (82576: RTTBCNRC of each of the VF's queues); 0 = off */
	bool kept;		/* read back equal; false: the card did not keep it (not an error) */
};

struct nic_ops {
	const char *name;
	int (*open)(const struct nic_params *p, struct nic **out, char *err, size_t errlen);
	void (*close)(struct nic *nic);
	int (*set_num_vfs)(struct nic *nic, unsigned n, char *err, size_t errlen);
	/*
	 * Give the VFs to params.vf_driver. Asynchronous: a VF driver's probe may wait for
	 * this very process to answer its mailbox, so the binding runs off the caller's
	 * thread and completes through service(). Call it only once every card is open:
	 * other sysfs writes may block behind a probe in progress.
	 */
	int (*bind_vfs)(struct nic *nic, char *err, size_t errlen);
	int (*vf_configure)(struct nic *nic, unsigned vf, const struct nic_vf_config *cfg,
			    char *err, size_t errlen);
	int (*vf_stats)(struct nic *nic, unsigned vf, struct nic_stats *out);
	/* Running totals since the backend opened the card (or the driver's own totals). */
	int (*port_stats)(struct nic *nic, struct nic_stats *out);
	/* Optional (NULL: -EOPNOTSUPP). A static forwarding entry: frames to mac land in
	 * VF vf's pool; add or remove. Adding a MAC whose entry leads to another VF moves
	 * it to vf in one register write, so the MAC is never unknown to the card meanwhile
	 * (an unknown unicast is flooded, out of the cable too); -EEXIST if it leads to vf. */
	int (*fdb_set)(struct nic *nic, unsigned vf, const uint8_t mac[6], bool add, char *err,
		       size_t errlen);
	/* Optional (NULL: -EOPNOTSUPP). Loopback: nothing leaves through the cable. */
	int (*set_port_mode)(struct nic *nic, enum nic_port_mode mode, char *err, size_t errlen);
	/* An fd for the daemon's event loop (-1: none) and what to call when it is ready. */
	int (*event_fd)(struct nic *nic);
	/* Returns 0, or > 0: call again after that many ms (work deferred, never waited on). */
	int (*service)(struct nic *nic);
	/*
	 * Optional. Takes the VFs away (unless params.keep_vfs), first of the two steps of
	 * a stop: called while service() still runs on its thread, because each VF driver
	 * resets as it lets go and waits for the PF to answer (igbvf: up to 1 s a VF when
	 * nobody does). Waits for a bind in progress, one VF probe at most. Then close().
	 * Returns 0 or -errno (the VFs are then left to close()).
	 */
	int (*release_vfs)(struct nic *nic);
	/*
	 * Optional (NULL: -EOPNOTSUPP). What vf_configure last wrote for VF vf's transmit
	 * limit (max_tx_rate_mbps) and whether the card kept it. 0, or -ENOENT (no such VF).
	 */
	int (*vf_rate)(struct nic *nic, unsigned vf, struct nic_vf_rate *out);
};

/* Every backend embeds this first. */
struct nic {
	const struct nic_ops *ops;
	unsigned num_vfs;
	char pf_bdf[32];
	uint8_t mac[6];			/* the PF's own address; all zero if the backend cannot tell */
};

/* For backends: format a report and hand it to params->on_event (if any). */
void nic_report(const struct nic_params *p, enum nic_event ev, int vf, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The backend called `name`, or NULL. */
const struct nic_ops *nic_backend(const char *name);

static inline int NIC_WUR nic_open(const char *backend, const struct nic_params *p, struct nic **out,
				   char *err, size_t errlen)
{
	const struct nic_ops *ops = nic_backend(backend);

	return ops ? ops->open(p, out, err, errlen) : -ENOENT;
}

#endif
