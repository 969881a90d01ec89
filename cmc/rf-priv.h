/* SPDX-License-Identifier: MIT */
/* Private to the Redfish service: what redfish.c, rf-auth.c, rf-cert.c and rf-tree*.c share. */
#ifndef CMC_RF_PRIV_H
#define CMC_RF_PRIV_H

#include "accounts.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cmcd;
struct cmc_config;

/* --- rf-cert.c ---------------------------------------------------------------------- */

/*
 * The service's certificate and key as PEM (malloc'd, NUL-terminated): the configured
 * files, else DIR/redfish-cert.pem and DIR/redfish-key.pem, made self-signed (ECDSA P-256,
 * 10 years, CN = the chassis name) when they do not exist yet. 0 or -errno, err says why.
 */
int rf_cert_load(const struct cmc_config *cfg, const char *dir, char **cert, char **key,
		 char *err, size_t errlen) __attribute__((warn_unused_result));

/* --- rf-auth.c: password checks off the loop, sessions, failed-login limits ---------- */

struct rf_auth;
typedef void (*rf_check_done_fn)(void *arg);

#define RF_SESSIONS_MAX 2048
#define RF_TOKEN_LEN 32		/* hex characters of a session token (128 bits) */
#define RF_SESSION_ID_LEN 16

struct rf_session {
	char id[RF_SESSION_ID_LEN + 1];
	char token[RF_TOKEN_LEN + 1];
	char user[CMC_ACCOUNT_NAME_MAX + 1];
	enum cmc_role role;
	char source[48];
	unsigned long long created_ms, used_ms;
	bool in_use;
};

/* A password check: filled by the loop, run by the worker, read by the loop after done. */
struct rf_check {
	char hash[CMC_ACCOUNT_HASH_MAX + 1];	/* "" = no such account: a dummy is checked */
	char password[256];
	bool ok;
	rf_check_done_fn done;		/* called on the worker thread; must be thread-safe */
	void *arg;
	struct rf_check *next;
};

int rf_auth_new(unsigned idle_timeout_s, struct rf_auth **out) __attribute__((warn_unused_result));
/* Joins the worker; checks still queued finish as failed (done called for each). */
void rf_auth_free(struct rf_auth *a);
/* Queues a check (the caller keeps `c` alive until done). -EBUSY when 64 are waiting. */
int rf_auth_check(struct rf_auth *a, struct rf_check *c) __attribute__((warn_unused_result));

/* Failed logins per (account, source): after 3 failures in a row, each try is refused
 * unchecked for 1 s, doubling per further failure up to 60 s. Seconds to wait, 0 if none. */
unsigned rf_auth_blocked(struct rf_auth *a, const char *user, const char *source);
void rf_auth_result(struct rf_auth *a, const char *user, const char *source, bool ok);

/* A new session; NULL when RF_SESSIONS_MAX are open (idle ones are ended first). */
const struct rf_session *rf_session_new(struct rf_auth *a, const char *user, enum cmc_role role,
					const char *source);
/* The live session holding token (touched: its idle time starts again), or NULL. */
const struct rf_session *rf_session_by_token(struct rf_auth *a, const char *token);
const struct rf_session *rf_session_by_id(struct rf_auth *a, const char *id);
void rf_session_end(struct rf_auth *a, const char *id);
/* Every live session (expired ones are ended first), in creation order. */
size_t rf_session_count(struct rf_auth *a);
const struct rf_session *rf_session_at(struct rf_auth *a, size_t i);
unsigned rf_auth_timeout(const struct rf_auth *a);

/* --- rf-tree*.c: the resources ---------------------------------------------------------- */

/* Who asks: a session's or Basic's account. */
struct rf_who {
	char user[CMC_ACCOUNT_NAME_MAX + 1];
	enum cmc_role role;
	const char *session_id;		/* NULL for Basic */
};

struct rf_ctx {
	struct cmcd *d;
	struct rf_auth *auth;
	const struct rf_who *who;	/* NULL: anonymous (public resources only) */
};

/* Allowed methods of a resource, for Allow and 405. */
#define RF_ALLOW_GET "GET, HEAD"
#define RF_ALLOW_POST "GET, HEAD, POST"
#define RF_ALLOW_DELETE "GET, HEAD, DELETE"

/*
 * The resource at path (no trailing '/', except "/redfish/v1/"), built now from cmcd's
 * state: *out a new JSON object, *allow its methods, *schema its JSON schema's file name
 * (for the Link header), or for $metadata *xml (static text, *out NULL).
 * 0; -ENOENT no such resource; -EACCES the role may not read it.
 */
struct rf_doc {
	unsigned code;		/* HTTP status of a GET; 0 = 200 (a task monitor: 202 while running) */
	json_t *json;
	const char *xml;
	const char *allow;
	const char *schema;
};
int rf_tree_get(const struct rf_ctx *c, const char *path, struct rf_doc *doc);

/* --- rf-write.c: writes (POST actions, PATCH), their messages and privileges ----------- */

#define RF_ALLOW_PATCH "GET, HEAD, PATCH"

/* The privileges of DSP0266 §13.2 (the Privilege registry's names) a write may need. */
enum rf_priv {
	RF_PRIV_LOGIN,			/* reads */
	RF_PRIV_CONFIGURE_COMPONENTS,	/* assign, configure a VF or a port */
	RF_PRIV_CONFIGURE_MANAGER,	/* the service itself */
	RF_PRIV_CONFIGURE_USERS,	/* accounts */
	RF_PRIV_CONFIGURE_SELF,		/* one's own session */
};
/* Whether role holds p: ReadOnly has Login and ConfigureSelf; Operator also
 * ConfigureComponents; Administrator all (the Role schema's AssignedPrivileges). */
bool rf_role_has(enum cmc_role role, enum rf_priv p);
const char *rf_priv_name(enum rf_priv p);
/* The privilege a write of path (its resource's path; action NULL for a PATCH) needs. */
enum rf_priv rf_write_priv(const char *path, const char *action);

/* A write, from redfish.c to the resource files and back. */
struct rf_write {
	const struct rf_ctx *c;
	const char *path;	/* the resource (an action's: the resource it is on) */
	const char *action;	/* "Zone.AddEndpoint"; NULL for a PATCH */
	json_t *body;		/* the request's JSON object */
	json_t *current;	/* PATCH: the resource as GET shows it now */
	/* filled by the handler */
	unsigned code;		/* HTTP status; 0 = 200 */
	json_t *messages;	/* Message objects (errors); NULL = none */
	bool wait_blades;	/* a change the blades act on: answer after cmc_blades_when_done */
	char what[256];		/* the change in words, for the audit */
	json_t *answer;		/* the body of an accepted one (a Task, code 202); NULL: none */
	char location[128];	/* its Location (a task monitor), "" none */
};
/*
 * The write w names, checked in full and made (or refused) through the same functions as
 * cmcctl (assign.h). 0: handled (w->code, w->messages); -ENOENT: no such action or
 * resource (404); -EOPNOTSUPP: the resource takes no such write (405).
 */
int rf_tree_post(struct rf_write *w);
int rf_tree_patch(struct rf_write *w);

/*
 * A Message (DSP0266 §9.6.4) of the Base registry: id without prefix ("PropertyUnknown"),
 * its text with %1.. replaced by the nargs string arguments, related (a JSON pointer such
 * as "#/Ethernet/MACAddress") or NULL. GeneralError takes one argument: our reason, which
 * becomes its Message. NULL when out of memory.
 */
json_t *rf_message(const char *id, const char *related, unsigned nargs, ...);
/* Adds msg to w->messages; the first failure's code is the answer's. */
void rf_fail(struct rf_write *w, unsigned code, json_t *msg);
/* A refusal from assign.h (rc, err) as the Redfish answer: 400, 409 for a VF or MAC in
 * use, 503 when blades are not available, 500 when the store or a card failed. */
void rf_refuse(struct rf_write *w, int rc, const char *err);
/*
 * A PATCH body's properties against the writable ones (JSON pointers such as
 * "/Ethernet/MACAddress"): every other one is refused by name in w, PropertyNotWritable
 * when the resource (w->current) has it, PropertyUnknown when it does not.
 */
void rf_patch_check(struct rf_write *w, const char *const *writable, size_t n);
/* The Base registry parsed once; freed by rf_messages_free() (at the service's stop). */
void rf_messages_free(void);

/* rf-registries.c: the message registries served at /redfish/v1/Registries (embedded). */
size_t rf_registry_count(void);
/* Id ("Base.1.22.1"), prefix ("Base") and the registry's JSON text. */
void rf_registry_at(size_t i, const char **id, const char **prefix, const char **text, size_t *len);

/* The CSDL of $metadata and of the Oem.Cmc extension (rf-metadata.c). */
extern const char rf_metadata_xml[];
extern const char rf_oem_csdl[];

#endif
