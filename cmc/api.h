/* SPDX-License-Identifier: MIT */
/*
 * The control socket of cmcd: AF_UNIX stream, created 0660 under a strict umask, owned by
 * the configured group, non-blocking, served from the event loop. A table of commands
 * {name, handler, usage, help} dispatches each request line (wire format: proto.h).
 */
#ifndef CMC_API_H
#define CMC_API_H

#include "loop.h"
#include "proto.h"

#include <sys/types.h>

struct cmc_api;

struct cmc_api_request {
	int argc;
	char **argv;		/* argv[0] is the command name */
	struct cmc_buf *body;	/* records of the reply */
	char message[256];	/* the reason, when the handler refuses */
	bool follow;		/* keep the client to stream events after the reply */
	uid_t peer_uid;		/* the caller's uid (SO_PEERCRED at connect); -1 unknown */
	void *client;		/* api.c's, for cmc_api_defer() */
	struct cmc_api_pending *deferred;	/* set by cmc_api_defer() */
};

/* Returns CMC_OK, CMC_REFUSED or CMC_USAGE (with req->message set). */
typedef enum cmc_status (*cmc_api_handler)(void *ctx, struct cmc_api_request *req);

struct cmc_api_command {
	const char *name;
	cmc_api_handler handler;
	int min_args, max_args;	/* words after the name */
	const char *usage;
	const char *help;
	unsigned flags;		/* CMC_API_CHANGES... */
};

/* The command changes something: its every use goes to the audit hook. */
#define CMC_API_CHANGES 1u
/* ... except when its first argument is "show" or "list" (vbridge show, template list). */
#define CMC_API_CHANGES_UNLESS_SHOW 2u

/*
 * Called once per use of a command flagged as a change, with its outcome (for a deferred
 * request, when it is finished): the caller's uid (-1 unknown), the request line (the
 * word after "hash" replaced by "(hidden)"), the status and the refusal's reason ("" if none).
 */
typedef void (*cmc_api_audit_fn)(void *ctx, uid_t uid, const char *line, enum cmc_status st,
				 const char *message);
void cmc_api_set_audit(struct cmc_api *api, cmc_api_audit_fn fn, void *ctx);

/* For handlers: the reason into req->message, returning st (CMC_REFUSED, CMC_USAGE). */
enum cmc_status cmc_api_refuse(struct cmc_api_request *req, enum cmc_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * A reply given later, for a request whose answer needs something the event loop must not
 * wait for (a QEMU starting). Inside its handler, cmc_api_defer(req) takes the request
 * over: what the handler returns and puts in req is then ignored, and the client gets its
 * reply when the caller calls cmc_api_finish() (once, always: it frees the handle), with
 * st, message (a refusal's reason, or NULL) and body (records, or NULL). Meanwhile the
 * loop serves everyone, that client's further requests wait their turn (replies keep the
 * order of requests). A client that hung up meanwhile gets nothing; the handle stays
 * valid until finished. NULL when out of memory: the handler answers at once instead.
 */
struct cmc_api_pending;
struct cmc_api_pending *cmc_api_defer(struct cmc_api_request *req);
void cmc_api_finish(struct cmc_api_pending *p, enum cmc_status st, const char *message,
		    const struct cmc_buf *body);

/* A number as an admin types it: decimal digits only, 0..max. -EINVAL if not. */
int cmc_api_parse_uint(const char *s, unsigned max, unsigned *out) __attribute__((warn_unused_result));

/* path: socket path; group: "" or NULL for none. On failure err says what went wrong. */
int cmc_api_open(struct cmc_api **out, struct cmc_loop *loop, const char *path, const char *group,
		 const struct cmc_api_command *table, void *ctx, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void cmc_api_close(struct cmc_api *api);

/* Send a record to every following client (a slow one is dropped, never waited for). */
void cmc_api_broadcast(struct cmc_api *api, const char *rec, size_t len);

#endif
