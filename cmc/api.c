/* SPDX-License-Identifier: MIT */
#include "api.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define API_MAX_CLIENTS 64
#define API_MAX_PENDING_OUT (4u << 20)	/* a follower further behind than this is dropped */
#define API_MAX_ARGS 32

struct api_client {
	struct cmc_api *api;
	int fd;
	struct cmc_watch *watch;
	char in[CMC_PROTO_MAX_LINE];
	size_t in_len;
	struct cmc_buf out;
	bool follow;
	bool closing;		/* close once `out` is flushed */
	uid_t uid;		/* the peer's, from SO_PEERCRED; -1 unknown */
	struct cmc_api_pending *pending;	/* a deferred request: later lines wait */
	struct api_client *next;
};

struct cmc_api_pending {
	struct api_client *client;	/* NULL once the client hung up */
	struct cmc_api *api;
	uid_t uid;
	char line[512];			/* for the audit hook; "" = not audited */
	bool in_handler;		/* finished before its handler returned: dispatch answers */
	bool finished;
	enum cmc_status st;
	char message[256];
	struct cmc_buf body;
};

struct cmc_api {
	struct cmc_loop *loop;
	int fd;
	struct cmc_watch *watch;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct cmc_api_command *table;
	void *ctx;
	struct api_client *clients;
	unsigned nclients;
	cmc_api_audit_fn audit;
	void *audit_ctx;
};

static void client_close(struct api_client *c)
{
	struct cmc_api *api = c->api;

	for (struct api_client **pp = &api->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	api->nclients--;
	if (c->pending)
		c->pending->client = NULL;
	cmc_loop_del_fd(api->loop, c->watch);
	close(c->fd);
	cmc_buf_free(&c->out);
	free(c);
}

/* Returns false when the client was closed. */
static bool client_flush(struct api_client *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_close(c);
			return false;
		}
		cmc_buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len == 0 && c->closing) {
		client_close(c);
		return false;
	}
	/* A full input buffer behind a deferred request: read no more until it is answered. */
	bool can_read = !c->pending || c->in_len < sizeof(c->in);
	uint32_t want = (can_read ? EPOLLIN : 0) | (c->out.len ? EPOLLOUT : 0);
	if (cmc_loop_mod_fd(c->api->loop, c->watch, want) < 0) {
		client_close(c);
		return false;
	}
	return true;
}

static const struct cmc_api_command *find_command(const struct cmc_api *api, const char *name)
{
	for (const struct cmc_api_command *cmd = api->table; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

static void reply(struct api_client *c, enum cmc_status st, const char *message,
		  const struct cmc_buf *body)
{
	if (st == CMC_OK)
		cmc_buf_add(&c->out, "OK\n", 3);
	else
		cmc_buf_printf(&c->out, "ERR %d %s\n", (int)st, message);
	if (st == CMC_OK && body && body->len)
		cmc_buf_add(&c->out, body->data, body->len);
	cmc_buf_add(&c->out, ".\n", 2);
}

void cmc_api_set_audit(struct cmc_api *api, cmc_api_audit_fn fn, void *ctx)
{
	api->audit = fn;
	api->audit_ctx = ctx;
}

/* The request as the audit keeps it: "" when the command changes nothing (or no hook). */
static void audit_line(const struct cmc_api *api, const struct cmc_api_command *cmd, int argc,
		       char **argv, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	if (!api->audit || !(cmd->flags & (CMC_API_CHANGES | CMC_API_CHANGES_UNLESS_SHOW)) ||
	    ((cmd->flags & CMC_API_CHANGES_UNLESS_SHOW) && argc > 1 &&
	     (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "list") == 0)))
		return;
	for (int i = 0; i < argc && o < len; i++) {
		const char *w = i > 0 && strcmp(argv[i - 1], "hash") == 0 ? "(hidden)" : argv[i];
		int n = snprintf(out + o, len - o, "%s%s", i ? " " : "", w);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void dispatch(struct api_client *c, char *line)
{
	char *argv[API_MAX_ARGS + 1];
	struct cmc_buf body = { 0 };
	struct cmc_api_request req = { .argv = argv, .body = &body, .peer_uid = c->uid };
	const struct cmc_api_command *cmd;
	enum cmc_status st;
	char what[512];
	int argc = cmc_proto_split(line, argv, API_MAX_ARGS);

	if (argc == 0)
		return;
	if (argc < 0) {
		reply(c, CMC_USAGE, argc == -E2BIG ? "too many words" : "non-printable request", NULL);
		return;
	}
	argv[argc] = NULL;
	cmd = find_command(c->api, argv[0]);
	if (!cmd) {
		snprintf(req.message, sizeof(req.message), "unknown command '%.64s'", argv[0]);
		reply(c, CMC_USAGE, req.message, NULL);
		return;
	}
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		snprintf(req.message, sizeof(req.message), "usage: %s", cmd->usage);
		reply(c, CMC_USAGE, req.message, NULL);
		return;
	}
	req.argc = argc;
	req.client = c;
	audit_line(c->api, cmd, argc, argv, what, sizeof(what));
	st = cmd->handler(c->api->ctx, &req);
	if (req.deferred) {
		struct cmc_api_pending *p = req.deferred;

		p->api = c->api;
		p->uid = c->uid;
		snprintf(p->line, sizeof(p->line), "%s", what);
		cmc_buf_free(&body);
		p->in_handler = false;
		if (!p->finished) {
			c->pending = p;
			return;
		}
		/* Finished already (nothing to wait for after all): the answer now. */
		if (*what)
			c->api->audit(c->api->audit_ctx, c->uid, what, p->st, p->message);
		reply(c, p->st, p->message, &p->body);
		cmc_buf_free(&p->body);
		free(p);
		return;
	}
	if (body.failed) {
		st = CMC_REFUSED;
		snprintf(req.message, sizeof(req.message), "out of memory");
	}
	if (*what)
		c->api->audit(c->api->audit_ctx, c->uid, what, st, st == CMC_OK ? "" : req.message);
	reply(c, st, req.message, &body);
	c->follow = st == CMC_OK && req.follow;
	cmc_buf_free(&body);
}

/* Every whole request line received, in order, until one is deferred. */
static void serve_lines(struct api_client *c)
{
	char *nl;

	while (!c->closing && !c->pending && (nl = memchr(c->in, '\n', c->in_len))) {
		size_t used = (size_t)(nl - c->in) + 1;

		*nl = '\0';
		dispatch(c, c->in);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
	if (!c->pending && c->in_len == sizeof(c->in)) {
		reply(c, CMC_USAGE, "request line too long", NULL);
		c->closing = true;
		c->in_len = 0;
	}
}

static void client_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct api_client *c = arg;
	(void)loop;

	if (events & (EPOLLERR | EPOLLHUP)) {
		client_close(c);
		return;
	}
	if ((events & EPOLLIN) && c->in_len < sizeof(c->in)) {
		ssize_t n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(c);
			return;
		}
		if (n > 0)
			c->in_len += (size_t)n;
		serve_lines(c);
	}
	client_flush(c);
}

struct cmc_api_pending *cmc_api_defer(struct cmc_api_request *req)
{
	struct cmc_api_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->client = req->client;
	p->in_handler = true;
	req->deferred = p;
	return p;
}

void cmc_api_finish(struct cmc_api_pending *p, enum cmc_status st, const char *message,
		    const struct cmc_buf *body)
{
	struct api_client *c = p->client;

	if (!p->in_handler && p->line[0] && p->api)
		p->api->audit(p->api->audit_ctx, p->uid, p->line, st, message ? message : "");
	if (p->in_handler) {
		p->finished = true;
		p->st = st;
		snprintf(p->message, sizeof(p->message), "%s", message ? message : "");
		if (body && body->len)
			cmc_buf_add(&p->body, body->data, body->len);
		return;
	}
	free(p);
	if (!c)
		return;
	c->pending = NULL;
	reply(c, st, message ? message : "", body);
	serve_lines(c);	/* what it sent meanwhile */
	client_flush(c);
}

static void accept_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_api *api = arg;
	(void)events;

	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn(errno, "accept on the control socket");
			return;
		}
		if (api->nclients >= API_MAX_CLIENTS) {
			static const char busy[] = "ERR 1 too many clients\n.\n";
			(void)!send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(cfd);
			continue;
		}
		struct api_client *c = calloc(1, sizeof(*c));
		if (!c || cmc_loop_add_fd(loop, cfd, EPOLLIN, client_ready, c, &c->watch) < 0) {
			log_warnx("cannot serve a new client: out of resources");
			free(c);
			close(cfd);
			continue;
		}
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		c->api = api;
		c->fd = cfd;
		c->uid = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 ? cred.uid : (uid_t)-1;
		c->next = api->clients;
		api->clients = c;
		api->nclients++;
	}
}

void cmc_api_broadcast(struct cmc_api *api, const char *rec, size_t len)
{
	struct api_client *c = api->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (!c->follow)
			continue;
		if (c->out.len + len > API_MAX_PENDING_OUT) {
			log_warnx("dropping an event follower %zu bytes behind", c->out.len);
			client_close(c);
			continue;
		}
		cmc_buf_add(&c->out, rec, len);
		client_flush(c);
	}
}

/* A socket file left by a dead daemon is removed; one with a live daemon is not. */
static int clear_stale_socket(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "another cmcd is serving %s", sa->sun_path);
		return -EADDRINUSE;
	}
	return unlink(sa->sun_path) < 0 ? -errno : 0;
}

static int socket_group(const char *path, const char *group, char *err, size_t errlen)
{
	struct group *gr;

	if (!group || !*group)
		return 0;
	gr = getgrnam(group);
	if (!gr) {
		snprintf(err, errlen, "group '%s' for %s does not exist", group, path);
		return -ENOENT;
	}
	if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
		int e = errno;
		snprintf(err, errlen, "chown %s to group %s: %s", path, group, strerror(e));
		return -e;
	}
	return 0;
}

static int api_bind(struct cmc_api *api, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int rc;

	if (strlen(api->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", api->path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, api->path);
	rc = clear_stale_socket(&sa, err, errlen);
	if (rc)
		return rc;
	/* 0660 from the start: no window in which the socket is world-writable. */
	old_umask = umask(0117);
	rc = bind(api->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old_umask);
	if (rc) {
		snprintf(err, errlen, "bind %s: %s", api->path, strerror(-rc));
		return rc;
	}
	rc = socket_group(api->path, group, err, errlen);
	if (rc)
		return rc;
	if (listen(api->fd, 16) < 0) {
		rc = -errno;
		snprintf(err, errlen, "listen %s: %s", api->path, strerror(-rc));
	}
	return rc;
}

int cmc_api_open(struct cmc_api **out, struct cmc_loop *loop, const char *path, const char *group,
		 const struct cmc_api_command *table, void *ctx, char *err, size_t errlen)
{
	struct cmc_api *api = calloc(1, sizeof(*api));
	int rc;

	if (!api)
		return -ENOMEM;
	*api = (struct cmc_api){ .loop = loop, .table = table, .ctx = ctx };
	snprintf(api->path, sizeof(api->path), "%s", path);
	api->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (api->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto err_free;
	}
	rc = api_bind(api, group, err, errlen);
	if (rc)
		goto err_close;
	rc = cmc_loop_add_fd(loop, api->fd, EPOLLIN, accept_ready, api, &api->watch);
	if (rc) {
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
		goto err_unlink;
	}
	*out = api;
	return 0;
err_unlink:
	unlink(api->path);
err_close:
	close(api->fd);
err_free:
	free(api);
	return rc;
}

void cmc_api_close(struct cmc_api *api)
{
	if (!api)
		return;
	while (api->clients)
		client_close(api->clients);
	cmc_loop_del_fd(api->loop, api->watch);
	close(api->fd);
	unlink(api->path);
	free(api);
}

enum cmc_status cmc_api_refuse(struct cmc_api_request *req, enum cmc_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->message, sizeof(req->message), fmt, ap);
	va_end(ap);
	return st;
}

int cmc_api_parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}
