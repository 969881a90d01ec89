/* SPDX-License-Identifier: MIT */
/*
 * The audit log (audit.c): every change asked of cmcd, made or refused, with when, who
 * (a Redfish account, or the unix user of a cmcctl on the control socket, from
 * SO_PEERCRED), from where, what, and the outcome. Kept as JSON lines in DIR/audit.log,
 * rotated to DIR/audit.log.1 when it reaches half the cap, so the two files together never
 * exceed the cap and the newest entries always survive; each entry is written and
 * fdatasync'd before cmcd answers, so it outlives a restart or a crash. Read back as the
 * Redfish LogService Managers/cmc/LogServices/Audit and by `cmcctl audit`.
 *
 * A file rather than the store: entries only grow and are never changed, the store's
 * transactions rewrite the whole store (an audit record per change would make each
 * change cost more as the log grows), and a damaged line costs one entry, not the state.
 */
#ifndef CMC_AUDIT_H
#define CMC_AUDIT_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>

struct cmc_audit;

#define CMC_AUDIT_CAP_DEFAULT (512u << 10)	/* bytes of both files together */
#define CMC_AUDIT_CAP_MIN (64u << 10)	/* each half holds the largest entry */

/* One entry as read back; the strings live for the callback only. */
struct cmc_audit_entry {
	unsigned long long id;	/* 1, 2, ... in order, never reused (also across restarts) */
	const char *time;	/* ISO 8601, UTC: "2026-11-30T10:00:00Z" */
	const char *who;	/* "admin", "uid 0 (root)" */
	const char *from;	/* "redfish 10.0.2.2", "unix socket" */
	const char *what;	/* the request, in words */
	bool ok;		/* made (true) or refused */
	const char *outcome;	/* "done", the reason of a refusal, an HTTP status and message */
};

/*
 * Opens (creating) DIR/audit.log; cap: bytes of both files (CMC_AUDIT_CAP_MIN.. ; 0 for
 * the default). The next id follows the last one found. 0, -ENOMEM, -EINVAL, -errno of
 * open(2).
 */
int cmc_audit_open(const char *dir, size_t cap, struct cmc_audit **out) __attribute__((warn_unused_result));
void cmc_audit_close(struct cmc_audit *a);
/*
 * Appends an entry (each string cut at 400 bytes) and syncs it to disk; rotates first if
 * the entry would take audit.log past half the cap. a NULL: nothing (0). 0 or -errno
 * (the entry is lost; the change it records is not undone).
 */
int cmc_audit_add(struct cmc_audit *a, const char *who, const char *from, const char *what, bool ok,
		  const char *outcome);
/* Every entry, oldest first: fn's nonzero return stops the walk (and is returned). */
typedef int (*cmc_audit_fn)(const struct cmc_audit_entry *e, void *arg);
int cmc_audit_foreach(const struct cmc_audit *a, cmc_audit_fn fn, void *arg);

/* The audit hook of the control socket (cmc_api_audit_fn): the caller named from its uid
 * ("uid 1000 (alice)"), from "unix socket". ctx is a struct cmc_audit. */
void cmc_audit_api(void *ctx, uid_t uid, const char *line, enum cmc_status st, const char *message);
/* `audit` on the control socket: the entries as records (ctx: struct cmcd). */
enum cmc_status cmc_cmd_audit(void *ctx, struct cmc_api_request *req);

#endif
