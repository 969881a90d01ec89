/* SPDX-License-Identifier: MIT */
/*
 * The Redfish service's HTTP side (redfish.h): libmicrohttpd with external epoll in
 * cmcd's loop, authentication (sessions, Basic over TLS only, password checks on the
 * worker with the connection suspended), methods, errors as Redfish error bodies with
 * Base registry ids (DSP0266 §9.6), ETags, OData-Version and Link headers.
 */
#include "redfish.h"

#include "rf-events.h"
#include "rf-priv.h"

#include "audit.h"
#include "blades.h"
#include "daemon.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RF_BODY_MAX (64u << 10)		/* bytes of a request body */
#define RF_CONN_MAX 256			/* connections at once */
#define RF_CONN_PER_IP 128		/* from one address: one source cannot take them all */
#define RF_CONN_TIMEOUT_S 10		/* idle connections end */
#define RF_SESSIONS "/redfish/v1/SessionService/Sessions"
#define RF_BASE_PREFIX "Base.1.22."

struct cmc_redfish;
struct rf_req;

/* A write's answer waiting for the blades (cmc_blades_when_done): the request, or NULL
 * once the service stopped first (then the callback only frees this). */
struct rf_wait {
	struct cmc_redfish *rf;
	struct rf_req *r;
	struct rf_wait *next;
};

struct rf_listener {
	struct cmc_redfish *rf;
	struct MHD_Daemon *mhd;
	struct cmc_watch *watch;
	bool tls;
};

struct cmc_redfish {
	struct cmcd *d;
	struct rf_auth *auth;
	struct rf_listener https, http;
	struct cmc_timer *timer;
	int wake_fd;			/* eventfd: a password check is over */
	struct cmc_watch *wake_watch;
	char *cert, *key;
	struct rf_wait *waits;		/* writes answered once the blades are done */
	struct rf_events *events;	/* the event service (rf-events.c) */
};

/* One request, from its first header callback to its end. */
struct rf_req {
	struct cmc_redfish *rf;
	bool tls;
	bool too_big;
	char *body;
	size_t body_len;
	/* authentication in progress or done */
	enum { AUTH_NONE, AUTH_WAITING, AUTH_DONE } auth;
	struct rf_check check;
	struct MHD_Connection *conn;
	char user[CMC_ACCOUNT_NAME_MAX + 1];
	enum cmc_role role;
	bool login;		/* the check is a session login, not Basic */
	char source[48];
	/* a write answered later (after the blades): what to send when resumed */
	bool later_ready;
	unsigned later_code;
	json_t *later_msgs;
	char later_path[512];	/* a PATCH's resource, sent as it is then */
	struct rf_wait *wait;
};

static void rearm(struct cmc_redfish *rf);

/* --- responses ------------------------------------------------------------------------- */

/* What every answer carries (DSP0266 §8.2: OData-Version; never cached; no sniffing). */
static void common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "OData-Version", "4.0");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned code, char *text,
				 size_t len, const char *ctype, const char *allow)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result r;

	if (!resp) {
		free(text);
		return MHD_NO;
	}
	common_headers(resp);
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	if (allow)
		MHD_add_response_header(resp, "Allow", allow);
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"cmc\"");
	r = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return r;
}

static const char *const severity_of[] = { "Critical", "Warning", "OK" };

/* A Redfish error body (DSP0266 §9.6.4) with one Base message and its arguments. */
static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned code, const char *id,
				  const char *message, const char *allow)
{
	char full[64];
	json_t *info, *body;
	char *text;
	int sev = code < 300 ? 2 : code == 400 ? 1 : 0;

	snprintf(full, sizeof(full), RF_BASE_PREFIX "%s", id);
	info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
			 "@odata.type", "#Message.v1_3_0.Message", "MessageId", full,
			 "Message", message, "Severity", severity_of[sev],
			 "MessageSeverity", severity_of[sev],
			 "Resolution", "See the message; DSP0266 and doc/redfish.md.");
	body = json_pack("{s:{s:s, s:s, s:[o]}}", "error", "code", full, "message", message,
			 "@Message.ExtendedInfo", info);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return MHD_NO;
	return send_body(conn, code, text, strlen(text), "application/json; charset=utf-8", allow);
}

/* A Redfish error body with several messages (msgs: an array, taken over). */
static enum MHD_Result send_messages(struct MHD_Connection *conn, unsigned code, json_t *msgs)
{
	json_t *first = json_array_get(msgs, 0), *body;
	const char *id = json_string_value(json_object_get(first, "MessageId"));
	const char *msg = json_string_value(json_object_get(first, "Message"));
	char *text;

	body = json_pack("{s:{s:s, s:s, s:o}}", "error", "code", id ? id : RF_BASE_PREFIX "GeneralError",
			 "message", msg ? msg : "", "@Message.ExtendedInfo", msgs);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return MHD_NO;
	return send_body(conn, code, text, strlen(text), "application/json; charset=utf-8", NULL);
}

/* FNV-1a 64 of the body: an ETag that changes whenever the resource's text does. */
static void etag_of(const char *text, size_t len, char out[24])
{
	unsigned long long h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
	snprintf(out, 24, "\"%016llx\"", h);
}

/* A resource: its ETag (304 for a matching If-None-Match), Allow, Link to its schema;
 * for a new session also Location and X-Auth-Token (code 201). */
static enum MHD_Result send_doc(struct MHD_Connection *conn, struct rf_doc *doc, unsigned code,
				const char *location, const char *token)
{
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
	char etag[24], link[160];
	struct MHD_Response *resp;
	char *text;
	size_t len;
	enum MHD_Result r;

	text = doc->xml ? strdup(doc->xml) : json_dumps(doc->json, JSON_COMPACT);
	json_decref(doc->json);
	if (!text)
		return send_error(conn, 500, "InternalError", "Out of memory.", NULL);
	len = strlen(text);
	etag_of(text, len, etag);
	if (code == 200 && inm && strstr(inm, etag)) {
		free(text);
		code = MHD_HTTP_NOT_MODIFIED;
		text = strdup("");
		len = 0;
		if (!text)
			return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	common_headers(resp);
	MHD_add_response_header(resp, "Content-Type", doc->xml ? "application/xml" :
				"application/json; charset=utf-8");
	MHD_add_response_header(resp, "ETag", etag);
	MHD_add_response_header(resp, "Allow", doc->allow ? doc->allow : RF_ALLOW_GET);
	if (doc->schema) {
		snprintf(link, sizeof(link), "<https://redfish.dmtf.org/schemas/v1/%s>; rel=describedby",
			 doc->schema);
		MHD_add_response_header(resp, "Link", link);
	}
	if (location)
		MHD_add_response_header(resp, "Location", location);
	if (token)
		MHD_add_response_header(resp, "X-Auth-Token", token);
	r = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return r;
}

/* What the other request handlers (rf-events.c) answer with. */
enum MHD_Result rf_send_error(struct MHD_Connection *conn, unsigned code, const char *id,
			      const char *message, const char *allow)
{
	return send_error(conn, code, id, message, allow);
}

enum MHD_Result rf_send_doc(struct MHD_Connection *conn, struct rf_doc *doc, unsigned code,
			    const char *location)
{
	return send_doc(conn, doc, code, location, NULL);
}

/* --- authentication -------------------------------------------------------------------- */

static bool is_public(const char *path)
{
	return strcmp(path, "/redfish") == 0 || strcmp(path, "/redfish/v1/") == 0 ||
	       strcmp(path, "/redfish/v1/$metadata") == 0 || strcmp(path, "/redfish/v1/odata") == 0;
}

/*
 * On the worker thread: the check is over, the connection may run again. MHD ignores its
 * own wake-up channel in external-polling modes, so the loop is woken through our eventfd
 * and runs MHD, which serves the resumed connection.
 */
static void check_done(void *arg)
{
	struct rf_req *r = arg;
	int fd = r->rf->wake_fd;
	uint64_t one = 1;

	MHD_resume_connection(r->conn);
	(void)!write(fd, &one, sizeof(one));
}

/* What identify() and start_check() found; for ID_ANSWERED *res holds MHD's result. */
enum rf_id { ID_ANON, ID_KNOWN, ID_WAIT, ID_ANSWERED };

/* Queues the check of user's password, the connection suspended until it is over. */
static enum rf_id start_check(struct rf_req *r, struct MHD_Connection *conn, const char *user,
			      const char *password, enum MHD_Result *res)
{
	struct cmc_redfish *rf = r->rf;
	enum cmc_role role = CMC_ROLE_READONLY;

	if (rf_auth_blocked(rf->auth, user, r->source)) {
		*res = send_error(conn, 401, "NoValidSession",
				  "Too many failed logins for this account from this address: try later.",
				  NULL);
		return ID_ANSWERED;
	}
	snprintf(r->user, sizeof(r->user), "%s", user);
	if (cmc_account_get(rf->d->store, user, &role, r->check.hash, sizeof(r->check.hash)) < 0)
		r->check.hash[0] = '\0';	/* checked against a dummy: the same time */
	r->role = role;
	snprintf(r->check.password, sizeof(r->check.password), "%s",
		 strlen(password) < sizeof(r->check.password) ? password : "");
	r->check.done = check_done;
	r->check.arg = r;
	r->conn = conn;
	MHD_suspend_connection(conn);
	if (rf_auth_check(rf->auth, &r->check) < 0) {
		MHD_resume_connection(conn);
		explicit_bzero(r->check.password, sizeof(r->check.password));
		*res = send_error(conn, 503, "ServiceTemporarilyUnavailable",
				  "The service is temporarily unavailable.  Retry in 1 seconds.", NULL);
		return ID_ANSWERED;
	}
	r->auth = AUTH_WAITING;
	*res = MHD_YES;
	return ID_WAIT;
}

/* After the worker: records the outcome for the limits. True if the password was right. */
static bool check_outcome(struct rf_req *r)
{
	bool ok = r->check.ok;

	rf_auth_result(r->rf->auth, r->user, r->source, ok);
	if (!ok)
		log_info("redfish: failed login for '%.32s' from %s", r->user, r->source);
	return ok;
}

static enum rf_id refuse(struct MHD_Connection *conn, const char *why, enum MHD_Result *res)
{
	*res = send_error(conn, 401, "NoValidSession", why, NULL);
	return ID_ANSWERED;
}

/* Who is asking: a session's token, Basic (over TLS: a check on the worker), or nobody. */
static enum rf_id identify(struct rf_req *r, struct MHD_Connection *conn, struct rf_who *who,
			   enum MHD_Result *res)
{
	const char *tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token");
	char *user, *pass = NULL;
	enum rf_id id;

	if (r->auth == AUTH_DONE) {
		if (!check_outcome(r))
			return refuse(conn, "Wrong user name or password.", res);
		snprintf(who->user, sizeof(who->user), "%s", r->user);
		who->role = r->role;
		who->session_id = NULL;
		return ID_KNOWN;
	}
	if (tok) {
		const struct rf_session *s = rf_session_by_token(r->rf->auth, tok);
		char hash[CMC_ACCOUNT_HASH_MAX + 1];
		enum cmc_role role;
		if (!s)
			return refuse(conn, "There is no valid session established with the implementation.", res);
		/* The account as the store has it now: a deleted account's sessions end here,
		 * a changed role applies at once. */
		if (cmc_account_get(r->rf->d->store, s->user, &role, hash, sizeof(hash)) < 0) {
			rf_session_end(r->rf->auth, s->id);
			return refuse(conn, "The session's account no longer exists.", res);
		}
		snprintf(who->user, sizeof(who->user), "%s", s->user);
		who->role = role;
		who->session_id = s->id;
		return ID_KNOWN;
	}
	user = MHD_basic_auth_get_username_password(conn, &pass);
	if (!user) {
		MHD_free(pass);
		return ID_ANON;
	}
	if (!r->tls)
		id = refuse(conn, "HTTP Basic authentication is accepted over HTTPS only.", res);
	else
		id = start_check(r, conn, user, pass ? pass : "", res);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return id;
}

/* --- the session service's writes ---------------------------------------------------- */

static bool json_body(struct MHD_Connection *conn, enum MHD_Result *res)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");

	if (ct && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	*res = send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "HeaderInvalid",
			  "Header 'Content-Type' is invalid: the body must be application/json.", NULL);
	return false;
}

/* POST /Sessions {"UserName", "Password"}: checked on the worker, then 201 with the token. */
static enum MHD_Result login(struct rf_req *r, struct MHD_Connection *conn)
{
	const char *user, *pass;
	enum MHD_Result res;
	json_error_t jerr;
	json_t *in;

	if (r->auth == AUTH_DONE) {
		if (!check_outcome(r))
			return send_error(conn, 401, "NoValidSession", "Wrong user name or password.", NULL);
		const struct rf_session *s = rf_session_new(r->rf->auth, r->user, r->role, r->source);
		if (!s)
			return send_error(conn, 503, "SessionLimitExceeded",
					  "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
					  NULL);
		struct rf_who who = { .role = r->role, .session_id = s->id };
		struct rf_ctx c = { r->rf->d, r->rf->auth, &who };
		struct rf_doc doc = { 0 };
		char loc[96];
		snprintf(who.user, sizeof(who.user), "%s", r->user);
		snprintf(loc, sizeof(loc), RF_SESSIONS "/%s", s->id);
		if (rf_tree_get(&c, loc, &doc) < 0)
			return send_error(conn, 500, "InternalError", "The session vanished.", NULL);
		return send_doc(conn, &doc, 201, loc, s->token);
	}
	if (!json_body(conn, &res))
		return res;
	in = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!in || !json_is_object(in)) {
		json_decref(in);
		return send_error(conn, 400, "MalformedJSON",
				  "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
				  NULL);
	}
	user = json_string_value(json_object_get(in, "UserName"));
	pass = json_string_value(json_object_get(in, "Password"));
	if (!user || !pass) {
		json_decref(in);
		return send_error(conn, 400, "PropertyMissing",
				  "The properties UserName and Password are required and must be strings.", NULL);
	}
	r->login = true;
	start_check(r, conn, user, pass, &res);
	json_decref(in);
	return res;
}

/* DELETE /Sessions/ID: one's own session, or any for an Administrator (DSP0266 §13.3.4). */
static enum MHD_Result logout(struct rf_req *r, struct MHD_Connection *conn, const char *path,
			      const struct rf_who *who)
{
	const char *id = path + strlen(RF_SESSIONS "/");
	const char *im = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Match");
	const struct rf_session *s = rf_session_by_id(r->rf->auth, id);
	struct rf_ctx c = { r->rf->d, r->rf->auth, who };
	struct rf_doc doc = { 0 };
	char etag[24], *text;

	if (!s)
		return send_error(conn, 404, "ResourceNotFound", "No such session.", NULL);
	if (strcmp(s->user, who->user) != 0 && who->role != CMC_ROLE_ADMINISTRATOR)
		return send_error(conn, 403, "InsufficientPrivilege",
				  "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.",
				  NULL);
	if (im && strcmp(im, "*") != 0) {
		if (rf_tree_get(&c, path, &doc) < 0 || !(text = json_dumps(doc.json, JSON_COMPACT))) {
			json_decref(doc.json);
			return send_error(conn, 500, "InternalError", "Out of memory.", NULL);
		}
		json_decref(doc.json);
		etag_of(text, strlen(text), etag);
		free(text);
		if (!strstr(im, etag))
			return send_error(conn, 412, "PreconditionFailed",
					  "The ETag supplied did not match the ETag required to change this resource.",
					  NULL);
	}
	rf_session_end(r->rf->auth, id);
	return send_error(conn, 200, "Success", "The request completed successfully.", NULL);
}

/* GET/HEAD of a resource, or 405 with Allow for a method it does not take. */
static enum MHD_Result serve(struct rf_req *r, struct MHD_Connection *conn, const char *path,
			     const char *method, const struct rf_who *who)
{
	struct rf_ctx c = { r->rf->d, r->rf->auth, who };
	struct rf_doc doc = { 0 };
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int rc = rf_tree_get(&c, path, &doc);

	if (rc == -ENOENT)
		return send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL);
	if (rc == -EACCES)
		return send_error(conn, 403, "InsufficientPrivilege",
				  "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.",
				  NULL);
	if (rc < 0)
		return send_error(conn, 500, "InternalError", "The request failed due to an internal service error.  The service is still operational.", NULL);
	if (get)
		return send_doc(conn, &doc, doc.code ? doc.code : 200, NULL, NULL);
	const char *allow = doc.allow ? doc.allow : RF_ALLOW_GET;
	json_decref(doc.json);
	if (strcmp(method, "DELETE") == 0 && strstr(allow, "DELETE"))
		return logout(r, conn, path, who);
	return send_error(conn, 405, "OperationNotAllowed", "The HTTP method is not allowed on this resource.",
			  allow);
}

/* --- writes: actions and PATCH (rf-write.c and the resource files decide) ---------------- */

static const char insufficient[] = "There are insufficient privileges for the account or credentials "
				   "associated with the current session to perform the requested operation.";

/* Every write, made or refused, into the audit log: who, from where, what, the outcome. */
static void audit(struct rf_req *r, const struct rf_who *who, const char *method, const char *path,
		  const char *what, unsigned code, json_t *msgs)
{
	const char *why = json_string_value(json_object_get(json_array_get(msgs, 0), "Message"));
	char from[64], act[400], outcome[320];

	snprintf(from, sizeof(from), "redfish %s", r->source);
	snprintf(act, sizeof(act), "%s %s%s%s", method, path, what && *what ? ": " : "", what ? what : "");
	snprintf(outcome, sizeof(outcome), "%u %s", code, why ? why : code < 300 ? "done" : "refused");
	(void)!cmc_audit_add(r->rf->d->audit, who->user, from, act, code < 300, outcome);
}

/* On the loop, once the blades are done: the suspended write may answer. */
static void blades_done(void *arg)
{
	struct rf_wait *w = arg;
	uint64_t one = 1;

	if (!w->rf) {		/* the service stopped first */
		free(w);
		return;
	}
	for (struct rf_wait **pp = &w->rf->waits; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (!w->r) {		/* the request ended meanwhile */
		free(w);
		return;
	}
	w->r->later_ready = true;
	w->r->wait = NULL;
	MHD_resume_connection(w->r->conn);
	/* MHD runs the resumed connection at its next run: the eventfd wakes the loop for it
	 * (also when this ran inside the request's own callback). */
	(void)!write(w->rf->wake_fd, &one, sizeof(one));
	free(w);
}

/* The answer of a write that waited for the blades: its errors, the resource as it is now
 * (PATCH), or Success (an action). */
static enum MHD_Result send_later(struct rf_req *r, struct MHD_Connection *conn, const struct rf_who *who)
{
	struct rf_ctx c = { r->rf->d, r->rf->auth, who };
	struct rf_doc doc = { 0 };
	json_t *msgs = r->later_msgs;

	r->later_msgs = NULL;
	if (msgs)
		return send_messages(conn, r->later_code, msgs);
	if (r->later_path[0] && rf_tree_get(&c, r->later_path, &doc) == 0)
		return send_doc(conn, &doc, 200, NULL, NULL);
	return send_error(conn, 200, "Success", "The request completed successfully.", NULL);
}

#ifdef CMC_TEST_BUILD
/*
 * Test builds only: CMC_RF_LATE_MS=N (1..10000) has the blades' "done" reach the answer N
 * ms later still, from a loop timer: however soon the blades are done, the answer comes
 * from a connection suspended and resumed later; t/0260 runs the write path that way.
 * (A wait still pending when cmcd stops is not freed.)
 */
struct rf_late {
	struct cmc_timer *timer;
	struct rf_wait *wait;
};

static void late_fired(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct rf_late *l = arg;

	cmc_loop_del_timer(loop, t);
	blades_done(l->wait);
	free(l);
}

static void blades_done_late(void *arg)
{
	struct rf_wait *w = arg;
	const char *e = getenv("CMC_RF_LATE_MS");
	unsigned long ms = e ? strtoul(e, NULL, 10) : 0;
	struct rf_late *l;

	if (ms == 0 || ms > 10000 || !w->rf || !(l = calloc(1, sizeof(*l)))) {
		blades_done(w);
		return;
	}
	l->wait = w;
	if (cmc_loop_add_timer(w->rf->d->loop, (unsigned)ms, 0, late_fired, l, &l->timer) < 0) {
		free(l);
		blades_done(w);
	}
}
static const cmc_blades_done_fn when_blades_done = blades_done_late;
#else
static const cmc_blades_done_fn when_blades_done = blades_done;
#endif

/* Holds the answer in r until the blades are done (the connection suspended meanwhile).
 * False if it cannot wait (out of memory): the caller answers now. */
static bool answer_later(struct rf_req *r, struct MHD_Connection *conn, struct rf_write *w, bool patch,
			 const char *path)
{
	struct rf_wait *wt = calloc(1, sizeof(*wt));

	if (!wt)
		return false;
	wt->rf = r->rf;
	wt->r = r;
	wt->next = r->rf->waits;
	r->rf->waits = wt;
	r->wait = wt;
	r->conn = conn;
	r->later_code = w->code ? w->code : 200;
	r->later_msgs = w->messages;
	w->messages = NULL;
	snprintf(r->later_path, sizeof(r->later_path), "%s", patch ? path : "");
	MHD_suspend_connection(conn);
	if (cmc_blades_when_done(r->rf->d->blades, when_blades_done, wt) < 0)
		blades_done(wt);	/* nothing to wait on that we can be told of: answer now */
	return true;
}

/* The request's JSON object, or an answer refusing it (415, 400). NULL: answered in *res. */
static json_t *write_body(struct rf_req *r, struct MHD_Connection *conn, enum MHD_Result *res)
{
	json_error_t jerr;
	json_t *in;

	if (!json_body(conn, res))
		return NULL;
	in = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (in && json_is_object(in))
		return in;
	json_decref(in);
	*res = send_error(conn, 400, "MalformedJSON",
			  "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
			  NULL);
	return NULL;
}

/* If-Match on a PATCH (DSP0266 §9.4.2.2): true when absent, "*" or the current ETag. */
static bool etag_matches(struct MHD_Connection *conn, json_t *current)
{
	const char *im = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Match");
	char etag[24], *text;
	bool ok;

	if (!im || strcmp(im, "*") == 0)
		return true;
	text = json_dumps(current, JSON_COMPACT);
	if (!text)
		return false;
	etag_of(text, strlen(text), etag);
	free(text);
	ok = strstr(im, etag) != NULL;
	return ok;
}

/*
 * POST of an action (PATH/Actions/NAME) or PATCH of a resource: found (404), allowed on
 * it (405), allowed to the role (403, DSP0266 §13.2), a JSON object (415, 400), If-Match
 * (412), then made by the resource's file; audited whatever the outcome. Longer than most:
 * it is the one list of the checks every write passes, in their order.
 */
static enum MHD_Result write_(struct rf_req *r, struct MHD_Connection *conn, const char *path,
			      const char *method, const struct rf_who *who)
{
	struct rf_ctx c = { r->rf->d, r->rf->auth, who };
	struct rf_doc doc = { 0 };
	bool patch = strcmp(method, "PATCH") == 0;
	const char *act = strcmp(method, "POST") == 0 ? strstr(path, "/Actions/") : NULL;
	struct rf_write w = { .c = &c, .path = path };
	char res_path[512];
	enum MHD_Result res;
	int rc;

	if (act) {
		snprintf(res_path, sizeof(res_path), "%.*s", (int)(act - path), path);
		w.path = res_path;
		w.action = act + strlen("/Actions/");
	}
	rc = rf_tree_get(&c, w.path, &doc);
	if (rc < 0 || (!act && !patch) || (patch && !strstr(doc.allow ? doc.allow : "", "PATCH"))) {
		json_decref(doc.json);
		return serve(r, conn, path, method, who);	/* 404, 403, 405 or a session's DELETE */
	}
	w.current = doc.json;
	if (!rf_role_has(who->role, rf_write_priv(w.path, w.action))) {
		json_t *m = json_pack("[{s:s, s:s}]", "MessageId", RF_BASE_PREFIX "InsufficientPrivilege",
				      "Message", insufficient);
		char need[48];
		snprintf(need, sizeof(need), "needs %s", rf_priv_name(rf_write_priv(w.path, w.action)));
		audit(r, who, method, path, need, 403, m);
		json_decref(m);
		json_decref(doc.json);
		return send_error(conn, 403, "InsufficientPrivilege", insufficient, NULL);
	}
	w.body = write_body(r, conn, &res);
	if (!w.body) {
		audit(r, who, method, path, "not a JSON object", 400, NULL);
		json_decref(doc.json);
		return res;
	}
	if (patch && !etag_matches(conn, doc.json)) {
		res = send_error(conn, 412, "PreconditionFailed",
				 "The ETag supplied did not match the ETag required to change this resource.", NULL);
		audit(r, who, method, path, "stale If-Match", 412, NULL);
		goto out;
	}
	rc = act ? rf_tree_post(&w) : rf_tree_patch(&w);
	if (rc == -ENOENT || rc == -EOPNOTSUPP) {
		res = rc == -ENOENT ? send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL)
				    : send_error(conn, 405, "OperationNotAllowed",
						 "The HTTP method is not allowed on this resource.", doc.allow);
		goto out;
	}
	audit(r, who, method, path, w.what, w.code ? w.code : 200, w.messages);
	if (w.answer && !w.messages) {	/* accepted: a Task and its monitor (DSP0266, asynchronous operations) */
		struct rf_doc task = { .json = w.answer, .allow = RF_ALLOW_GET, .schema = "Task.v1_7_4.json" };
		w.answer = NULL;
		res = send_doc(conn, &task, w.code ? w.code : 202, w.location[0] ? w.location : NULL, NULL);
		goto out;
	}
	if (w.wait_blades && r->rf->d->blades && answer_later(r, conn, &w, patch, path)) {
		res = MHD_YES;
		goto out;
	}
	r->later_code = w.code ? w.code : 200;
	r->later_msgs = w.messages;
	w.messages = NULL;
	snprintf(r->later_path, sizeof(r->later_path), "%s", patch ? path : "");
	res = send_later(r, conn, who);
out:
	json_decref(w.answer);
	json_decref(w.messages);
	json_decref(w.body);
	json_decref(doc.json);
	return res;
}

/* "/redfish/v1/Chassis/" -> "/redfish/v1/Chassis"; the root keeps its slash. */
static int normalize(const char *url, char *out, size_t len)
{
	size_t n = strlen(url);

	if (n >= len || strncmp(url, "/redfish", 8) != 0)
		return -ENOENT;
	memcpy(out, url, n + 1);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (strcmp(out, "/redfish/v1") == 0)
		snprintf(out, len, "/redfish/v1/");
	return 0;
}

static enum MHD_Result dispatch(struct rf_req *r, struct MHD_Connection *conn, const char *url,
				const char *method)
{
	bool post = strcmp(method, "POST") == 0;
	struct rf_who who = { 0 };
	enum MHD_Result res;
	char path[512];

	if (normalize(url, path, sizeof(path)) < 0)
		return send_error(conn, 404, "ResourceNotFound", "The requested resource was not found.", NULL);
	if (r->too_big)
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "PayloadTooLarge",
				  "The supplied payload exceeds the maximum size supported by the service.", NULL);
	if (post && strcmp(path, RF_SESSIONS) == 0 && (r->login || r->auth == AUTH_NONE))
		return login(r, conn);
	if (is_public(path) && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
		return serve(r, conn, path, method, NULL);
	switch (identify(r, conn, &who, &res)) {
	case ID_ANON:
		return send_error(conn, 401, "NoValidSession",
				  "There is no valid session established with the implementation.", NULL);
	case ID_WAIT:
	case ID_ANSWERED:
		return res;
	case ID_KNOWN:
		break;
	}
	/* The event service's own requests (its stream, its subscriptions) first: write_()
	 * takes every other POST and PATCH. */
	if (strncmp(path, RF_EVENTS, strlen(RF_EVENTS)) == 0 &&
	    (path[strlen(RF_EVENTS)] == '\0' || path[strlen(RF_EVENTS)] == '/'))
		return rf_events_request(r->rf->events, conn, path, method, &who, r->body, r->body_len);
	if (r->later_ready)
		return send_later(r, conn, &who);
	if (strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0)
		return write_(r, conn, path, method, &who);
	return serve(r, conn, path, method, &who);
}

/* --- libmicrohttpd's callbacks ------------------------------------------------------------ */

static void client_source(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

/* The first call of a request: its record, and a body announced too big refused at once. */
static enum MHD_Result request_begin(struct rf_listener *l, struct MHD_Connection *conn, void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	struct rf_req *r = calloc(1, sizeof(*r));

	if (!r)
		return MHD_NO;
	r->rf = l->rf;
	r->tls = l->tls;
	client_source(conn, r->source, sizeof(r->source));
	*con_cls = r;
	if (cl && strtoull(cl, NULL, 10) > RF_BODY_MAX) {
		r->too_big = true;
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "PayloadTooLarge",
				  "The supplied payload exceeds the maximum size supported by the service.", NULL);
	}
	return MHD_YES;
}

static void body_add(struct rf_req *r, const char *data, size_t n)
{
	char *nb;

	if (r->too_big || r->body_len + n > RF_BODY_MAX) {
		r->too_big = true;
		return;
	}
	nb = realloc(r->body, r->body_len + n + 1);
	if (!nb) {
		r->too_big = true;
		return;
	}
	memcpy(nb + r->body_len, data, n);
	r->body = nb;
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct rf_listener *l = cls;
	struct rf_req *r = *con_cls;

	(void)version;
	if (!r)
		return request_begin(l, conn, con_cls);
	if (*upload_size) {
		body_add(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->auth == AUTH_WAITING)
		r->auth = AUTH_DONE;	/* resumed: the worker has checked */
	return dispatch(r, conn, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct rf_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (!r)
		return;
	explicit_bzero(r->check.password, sizeof(r->check.password));
	if (r->wait)		/* ended while waiting (the service stopping): the wait is orphaned */
		r->wait->r = NULL;
	json_decref(r->later_msgs);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Percent-decoding of the URL and query values (RFC 3986 §2.1), except %00 and %2F, which
 * stay as they are: a decoded NUL would cut the path short in C ("blade1%00x" read as
 * "blade1") and a decoded '/' would add a path segment. Such a URL then names no resource.
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *w = s;

	(void)cls;
	(void)conn;
	for (const char *r = s; *r; ) {
		int hi = r[0] == '%' ? hexval(r[1]) : -1, lo = hi >= 0 ? hexval(r[2]) : -1;
		int v = hi * 16 + lo;
		if (hi >= 0 && lo >= 0 && v != 0 && v != '/') {
			*w++ = (char)v;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static __attribute__((format(printf, 2, 0))) void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("redfish: %s", line);
}

/* --- in cmcd's loop ------------------------------------------------------------------------ */

/* MHD's next deadline over both listeners, on the loop's one-shot timer (none: disarmed,
 * so an idle service never wakes cmcd). */
static void rearm(struct cmc_redfish *rf)
{
	struct rf_listener *ls[2] = { &rf->https, &rf->http };
	unsigned long long best = 0;
	bool any = false;

	for (int i = 0; i < 2; i++) {
		MHD_UNSIGNED_LONG_LONG t;
		if (ls[i]->mhd && MHD_get_timeout(ls[i]->mhd, &t) == MHD_YES && (!any || t < best)) {
			best = t;
			any = true;
		}
	}
	if (!any)
		best = 0;
	else if (best == 0)
		best = 1;
	else if (best > 3600000)
		best = 3600000;
	(void)!cmc_timer_arm(rf->timer, (unsigned)best, 0);
}

static void on_mhd_fd(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct rf_listener *l = arg;

	(void)loop;
	(void)fd;
	(void)events;
	MHD_run(l->mhd);
	rearm(l->rf);
}

static void on_wake(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_redfish *rf = arg;
	uint64_t n;

	(void)loop;
	(void)events;
	(void)!read(fd, &n, sizeof(n));
	if (rf->https.mhd)
		MHD_run(rf->https.mhd);
	if (rf->http.mhd)
		MHD_run(rf->http.mhd);
	rearm(rf);
}

static void on_timer(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_redfish *rf = arg;

	(void)loop;
	(void)t;
	if (rf->https.mhd)
		MHD_run(rf->https.mhd);
	if (rf->http.mhd)
		MHD_run(rf->http.mhd);
	rearm(rf);
}

static int listener_start(struct cmc_redfish *rf, struct rf_listener *l, const char *addr,
			  unsigned port, bool tls)
{
	union { struct sockaddr sa; struct sockaddr_in in; struct sockaddr_in6 in6; } sa = { 0 };
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	int rc;

	if (inet_pton(AF_INET, addr, &sa.in.sin_addr) == 1) {
		sa.in.sin_family = AF_INET;
		sa.in.sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &sa.in6.sin6_addr) == 1) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		return -EINVAL;
	}
	if (tls)
		flags |= MHD_USE_TLS;
	l->rf = rf;
	l->tls = tls;
	l->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, l,
				  MHD_OPTION_SOCK_ADDR, &sa.sa,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)RF_CONN_MAX,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)RF_CONN_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)RF_CONN_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l,
				  MHD_OPTION_UNESCAPE_CALLBACK, unescape, l,
				  tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, rf->cert,
				  MHD_OPTION_HTTPS_MEM_KEY, rf->key,
				  MHD_OPTION_END);
	if (!l->mhd)
		return -EADDRNOTAVAIL;
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EINVAL;
	rc = cmc_loop_add_fd(rf->d->loop, info->epoll_fd, EPOLLIN, on_mhd_fd, l, &l->watch);
	return rc;
}

/* A stream resumed from the loop: MHD runs at the next turn of the loop (wake_fd). */
static void kick(void *arg)
{
	struct cmc_redfish *rf = arg;
	uint64_t one = 1;

	(void)!write(rf->wake_fd, &one, sizeof(one));
}

static void listener_stop(struct cmc_redfish *rf, struct rf_listener *l)
{
	if (l->watch)
		cmc_loop_del_fd(rf->d->loop, l->watch);
	if (l->mhd)
		MHD_stop_daemon(l->mhd);
	l->watch = NULL;
	l->mhd = NULL;
}

/* The store's directory keeps the self-signed pair. */
static void state_dir(const struct cmc_config *cfg, char *out, size_t len)
{
	char copy[CMC_CONFIG_PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", cfg->store_path);
	snprintf(out, len, "%s", dirname(copy));
}

int cmc_redfish_start(struct cmcd *d, struct cmc_redfish **out)
{
	const struct cmc_config_redfish *c = &d->config->redfish;
	struct cmc_redfish *rf;
	char dir[CMC_CONFIG_PATH_MAX], err[256];
	int rc;

	*out = NULL;
	if (!c->enabled)
		return 0;
	rf = calloc(1, sizeof(*rf));
	if (!rf)
		return -ENOMEM;
	rf->d = d;
	rf->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rf->wake_fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = cmc_loop_add_fd(d->loop, rf->wake_fd, EPOLLIN, on_wake, rf, &rf->wake_watch);
	if (rc)
		goto fail;
	state_dir(d->config, dir, sizeof(dir));
	rc = rf_cert_load(d->config, dir, &rf->cert, &rf->key, err, sizeof(err));
	if (rc) {
		log_warnx("redfish: %s", err);
		goto fail;
	}
	rc = rf_auth_new(c->session_timeout, &rf->auth);
	if (rc) {
		log_warn(rc, "redfish: the password checker");
		goto fail;
	}
	rc = cmc_loop_add_timer(d->loop, 0, 0, on_timer, rf, &rf->timer);
	if (rc)
		goto fail;
	rc = rf_events_new(d, rf->auth, kick, rf, &rf->events);
	if (rc) {
		log_warn(rc, "redfish: the event service");
		goto fail;
	}
	rc = listener_start(rf, &rf->https, c->address, c->port, true);
	if (rc) {
		log_warnx("redfish: cannot serve HTTPS on %s port %u (in use, or not this host's)",
			  c->address, c->port);
		goto fail;
	}
	if (c->http_port && (rc = listener_start(rf, &rf->http, "127.0.0.1", c->http_port, false))) {
		log_warnx("redfish: cannot serve HTTP on 127.0.0.1 port %u", c->http_port);
		goto fail;
	}
	log_info("redfish: HTTPS on %s port %u%s", c->address, c->port,
		 c->http_port ? ", plain HTTP on 127.0.0.1 too" : "");
	rearm(rf);
	*out = rf;
	return 0;
fail:
	cmc_redfish_stop(rf);
	return rc ? rc : -EINVAL;
}

void cmc_redfish_stop(struct cmc_redfish *rf)
{
	if (!rf)
		return;
	/* The worker first: each check still queued ends failed and resumes its connection,
	 * so no connection is left suspended when MHD stops. */
	rf_auth_free(rf->auth);
	rf->auth = NULL;
	/* Writes still waiting for the blades: their connections resume (and end with the
	 * daemon), their callbacks, when the blades call them, only free the wait. */
	for (struct rf_wait *w = rf->waits, *next; w; w = next) {
		next = w->next;
		w->rf = NULL;
		if (w->r) {
			w->r->wait = NULL;
			MHD_resume_connection(w->r->conn);
		}
	}
	rf->waits = NULL;
	rf_messages_free();
	rf_events_quiesce(rf->events);	/* no stream left suspended either */
	listener_stop(rf, &rf->https);
	listener_stop(rf, &rf->http);
	rf_events_free(rf->events);
	if (rf->timer)
		cmc_loop_del_timer(rf->d->loop, rf->timer);
	if (rf->wake_watch)
		cmc_loop_del_fd(rf->d->loop, rf->wake_watch);
	if (rf->wake_fd > 0)
		close(rf->wake_fd);
	if (rf->key)
		explicit_bzero(rf->key, strlen(rf->key));
	free(rf->key);
	free(rf->cert);
	free(rf);
}
