/* SPDX-License-Identifier: MIT */
/* A QMP client that matches replies by id and keeps events (see qmp.h). */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_TIMEOUT_MAX 600000
#define QMP_BUF_MIN 8192
#define QMP_PUMP_MAX (4 * QMP_LINE_MAX)

enum qmp_phase { QMP_DOWN, QMP_GREETING, QMP_CAPS, QMP_READY };

struct qmp {
	int fd;				/* -1: the stream broke, the next command reconnects */
	char *path;
	unsigned timeout_ms;
	bool greeted;			/* the greeting of this connection arrived */
	bool nowait;			/* from qmp_open(): qmp_poll() drives it, nothing waits */
	enum qmp_phase phase;		/* nowait: where the handshake is */
	uint64_t caps_id;		/* nowait: the id of its qmp_capabilities */
	char *out;			/* nowait: bytes of commands not yet written */
	size_t out_len, out_cap;
	char *buf;			/* bytes read, not yet a whole line */
	size_t len, cap;
	uint64_t next_id;
	uint64_t want;			/* the id of the pending command; 0: none */
	json_t *reply;			/* the whole reply to want, once it arrived */
	json_t *events[QMP_EVENTS_MAX];	/* a ring: oldest at ev_head */
	unsigned ev_head, ev_count;
	unsigned long discarded, dropped;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Forgets the connection; the next command opens a new one. */
static void disconnect(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	q->len = 0;
	q->greeted = false;
	q->phase = QMP_DOWN;
	q->out_len = 0;
	q->want = 0;
	json_decref(q->reply);
	q->reply = NULL;
}

static void queue_event(struct qmp *q, json_t *msg)
{
	if (q->ev_count == QMP_EVENTS_MAX) {
		json_decref(q->events[q->ev_head]);
		q->ev_head = (q->ev_head + 1) % QMP_EVENTS_MAX;
		q->ev_count--;
		q->dropped++;
	}
	q->events[(q->ev_head + q->ev_count) % QMP_EVENTS_MAX] = json_incref(msg);
	q->ev_count++;
}

/* A reply is ours only if it carries the id of the command still waiting for it. */
static void take_reply(struct qmp *q, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");

	if (q->want && json_is_integer(id) && (uint64_t)json_integer_value(id) == q->want && !q->reply) {
		q->reply = json_incref(msg);
		return;
	}
	q->discarded++;
}

/* One message (a line without its end). Anything that is not QMP breaks the stream. */
static int take_line(struct qmp *q, const char *line, size_t len)
{
	json_t *msg;
	int rc = 0;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	msg = json_loadb(line, len, 0, NULL);
	if (!json_is_object(msg))
		rc = -EPROTO;
	else if (json_object_get(msg, "event"))
		queue_event(q, msg);
	else if (json_object_get(msg, "return") || json_is_object(json_object_get(msg, "error")))
		take_reply(q, msg);
	else if (json_object_get(msg, "QMP") && !q->greeted)
		q->greeted = true;
	else
		rc = -EPROTO;
	json_decref(msg);
	return rc;
}

static int take_lines(struct qmp *q)
{
	char *start = q->buf, *nl;
	size_t left = q->len;
	int rc = 0;

	while (!rc && left && (nl = memchr(start, '\n', left))) {
		size_t n = (size_t)(nl - start);

		rc = take_line(q, start, n);
		start = nl + 1;
		left -= n + 1;
	}
	memmove(q->buf, start, left);
	q->len = left;
	return rc;
}

static int grow(struct qmp *q)
{
	size_t cap = q->cap ? q->cap * 2 : QMP_BUF_MIN;
	char *b;

	if (q->cap >= QMP_LINE_MAX)
		return -EMSGSIZE;
	if (cap > QMP_LINE_MAX)
		cap = QMP_LINE_MAX;
	b = realloc(q->buf, cap);
	if (!b)
		return -ENOMEM;
	q->buf = b;
	q->cap = cap;
	return 0;
}

/* Reads what the socket holds, without waiting, and sorts the messages out. At most
 * QMP_PUMP_MAX bytes a call: a QEMU that never stops talking cannot hold us here. */
static int pump(struct qmp *q)
{
	for (size_t total = 0; total < QMP_PUMP_MAX;) {
		ssize_t n;
		int rc;

		if (q->fd < 0)
			return -ENOTCONN;
		if (q->len == q->cap && (rc = grow(q)) < 0)
			return rc;
		n = recv(q->fd, q->buf + q->len, q->cap - q->len, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		q->len += (size_t)n;
		total += (size_t)n;
		rc = take_lines(q);
		if (rc)
			return rc;
	}
	return 0;
}

/* The stream goes; a reply that arrived whole before it broke (QEMU answers "quit" and
 * hangs up) stays for qmp_receive(). */
static void drop_stream(struct qmp *q)
{
	json_t *reply = q->reply;
	uint64_t want = q->want;

	q->reply = NULL;
	disconnect(q);
	if (reply) {
		q->reply = reply;
		q->want = want;
	}
}

/* pump(), and on a broken stream: the connection goes, err says why. */
static int pump_or_drop(struct qmp *q, char *err, size_t errlen)
{
	int rc = pump(q);

	if (!rc)
		return 0;
	snprintf(err, errlen, "QMP %s: %s", q->path,
		 rc == -EPROTO ? "QEMU sent something that is not a QMP message" :
		 rc == -EMSGSIZE ? "a message longer than 1 MiB" :
		 rc == -ECONNRESET ? "QEMU closed the connection" : strerror(-rc));
	if (rc != -ENOMEM)
		drop_stream(q);
	return rc;
}

/* Waits for input until the deadline: 0 readable, -ETIMEDOUT. */
static int wait_input(struct qmp *q, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int write_all(struct qmp *q, const char *s, size_t len, long long deadline)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { .fd = q->fd, .events = POLLOUT };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = send(q->fd, s + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* The command as one line (its end included), *len bytes, for id next_id + 1. */
static char *format_command(struct qmp *q, const char *command, json_t *args, size_t *len)
{
	json_t *msg = json_pack("{s:s, s:I}", "execute", command, "id", (json_int_t)(q->next_id + 1));
	char *text = NULL, *line = NULL;
	size_t n;

	if (!msg || (args && json_object_set(msg, "arguments", args) < 0))
		goto out;
	text = json_dumps(msg, JSON_COMPACT);
	if (!text || !(line = realloc(text, (n = strlen(text)) + 2)))
		goto out;
	text = NULL;
	memcpy(line + n, "\n", 2);
	*len = n + 1;
out:
	free(text);
	json_decref(msg);
	return line;
}

/* The command becomes the pending one: an earlier one's reply will be discarded. */
static uint64_t make_pending(struct qmp *q)
{
	json_decref(q->reply);
	q->reply = NULL;
	q->want = ++q->next_id;
	return q->want;
}

static int send_command(struct qmp *q, const char *command, json_t *args, uint64_t *id, long long deadline)
{
	size_t n;
	char *text = format_command(q, command, args, &n);
	int rc;

	if (!text)
		return -ENOMEM;
	make_pending(q);
	rc = write_all(q, text, n, deadline);
	if (!rc)
		*id = q->want;
	free(text);
	return rc;
}

/* send_command(); a command half written leaves the stream of no use. */
static int send_checked(struct qmp *q, const char *command, json_t *args, uint64_t *id, long long deadline,
			char *err, size_t errlen)
{
	int rc = send_command(q, command, args, id, deadline);

	if (rc) {
		snprintf(err, errlen, "QMP %s: %s: %s", q->path, command, strerror(-rc));
		if (rc != -ENOMEM)
			disconnect(q);
	}
	return rc;
}

/* The reply to the pending command, once it is in: its "return" or "error" value. */
static int finish(struct qmp *q, json_t **reply, char *err, size_t errlen)
{
	json_t *ret = json_object_get(q->reply, "return");
	json_t *error = json_object_get(q->reply, "error");
	int rc = 0;

	if (!ret) {
		const char *desc = json_string_value(json_object_get(error, "desc"));

		snprintf(err, errlen, "QEMU: %s", desc ? desc : "an error without a description");
		rc = -EREMOTEIO;
	}
	if (reply)
		*reply = json_incref(ret ? ret : error);
	json_decref(q->reply);
	q->reply = NULL;
	q->want = 0;
	return rc;
}

int qmp_receive(struct qmp *q, uint64_t id, json_t **reply, char *err, size_t errlen)
{
	int rc;

	if (reply)
		*reply = NULL;
	if (!id || id != q->want) {
		snprintf(err, errlen, "QMP: no command %llu is waiting", (unsigned long long)id);
		return -EINVAL;
	}
	rc = q->reply ? 0 : pump_or_drop(q, err, errlen);
	if (q->reply)
		return finish(q, reply, err, errlen);
	return rc < 0 ? rc : -EAGAIN;
}

/* Waits for the reply to id until the deadline. */
static int await(struct qmp *q, uint64_t id, const char *command, json_t **reply, long long deadline,
		 char *err, size_t errlen)
{
	for (;;) {
		int rc = qmp_receive(q, id, reply, err, errlen);

		if (rc != -EAGAIN)
			return rc;
		rc = wait_input(q, deadline);
		if (rc) {
			q->want = 0;	/* its reply, if it ever comes, is discarded */
			snprintf(err, errlen, "QMP %s: %s: %s", q->path, command,
				 rc == -ETIMEDOUT ? "no answer in time" : strerror(-rc));
			return rc;
		}
	}
}

/*
 * A fresh non-blocking connection to the socket (the old one dropped). A unix stream
 * connect does not wait: the listener is there (queued) or not. 0 or -errno.
 */
static int stream_connect(struct qmp *q)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	disconnect(q);
	if (strlen(q->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, q->path, strlen(q->path) + 1);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* A new connection: socket, greeting, capabilities, all by the deadline. */
static int open_stream(struct qmp *q, long long deadline, char *err, size_t errlen)
{
	uint64_t id;
	int rc;

	rc = stream_connect(q);
	if (rc)
		goto fail;
	while (!q->greeted)
		if ((rc = pump(q)) < 0 || (!q->greeted && (rc = wait_input(q, deadline)) < 0))
			goto fail;
	rc = send_checked(q, "qmp_capabilities", NULL, &id, deadline, err, errlen);
	if (!rc)
		rc = await(q, id, "qmp_capabilities", NULL, deadline, err, errlen);
	if (rc)
		disconnect(q);
	else
		q->phase = QMP_READY;
	return rc;
fail:
	snprintf(err, errlen, "QMP %s: %s", q->path,
		 rc == -EPROTO ? "not a QMP greeting" :
		 rc == -ETIMEDOUT ? "no greeting in time" : strerror(-rc));
	disconnect(q);
	return rc;
}

/* Before a command: connected, and whatever came meanwhile sorted out (late replies go,
 * events stay); a stream found broken now is opened again. */
static int prepare(struct qmp *q, long long deadline, char *err, size_t errlen)
{
	int rc = q->fd >= 0 ? pump_or_drop(q, err, errlen) : 0;

	if (rc != -ENOMEM && q->fd < 0)
		rc = open_stream(q, deadline, err, errlen);
	return rc;
}

static int send_nowait(struct qmp *q, const char *command, json_t *args, uint64_t *id, char *err,
			size_t errlen);

int qmp_send(struct qmp *q, const char *command, json_t *args, uint64_t *id, char *err, size_t errlen)
{
	long long deadline = now_ms() + q->timeout_ms;
	int rc;

	if (q->nowait)
		return send_nowait(q, command, args, id, err, errlen);
	rc = prepare(q, deadline, err, errlen);

	return rc ? rc : send_checked(q, command, args, id, deadline, err, errlen);
}

int qmp_execute(struct qmp *q, const char *command, json_t *args, json_t **reply, char *err,
		size_t errlen)
{
	long long deadline = now_ms() + q->timeout_ms;
	uint64_t id;
	int rc;

	if (reply)
		*reply = NULL;
	if (q->nowait) {
		snprintf(err, errlen, "QMP %s: %s: this client never waits (qmp_send)", q->path, command);
		return -EINVAL;
	}
	rc = prepare(q, deadline, err, errlen);
	if (!rc)
		rc = send_checked(q, command, args, &id, deadline, err, errlen);
	return rc ? rc : await(q, id, command, reply, deadline, err, errlen);
}

int qmp_connect(const char *path, unsigned timeout_ms, struct qmp **out, char *err, size_t errlen)
{
	struct qmp *q;
	int rc;

	if (!timeout_ms || timeout_ms > QMP_TIMEOUT_MAX) {
		snprintf(err, errlen, "QMP: a timeout of %u ms", timeout_ms);
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (!q || !(q->path = strdup(path))) {
		free(q);
		snprintf(err, errlen, "QMP: out of memory");
		return -ENOMEM;
	}
	q->fd = -1;
	q->timeout_ms = timeout_ms;
	rc = open_stream(q, now_ms() + timeout_ms, err, errlen);
	if (rc) {
		qmp_close(q);
		return rc;
	}
	*out = q;
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	disconnect(q);
	while (q->ev_count) {
		json_decref(q->events[q->ev_head]);
		q->ev_head = (q->ev_head + 1) % QMP_EVENTS_MAX;
		q->ev_count--;
	}
	free(q->buf);
	free(q->out);
	free(q->path);
	free(q);
}

int qmp_set_timeout(struct qmp *q, unsigned timeout_ms)
{
	if (!timeout_ms || timeout_ms > QMP_TIMEOUT_MAX)
		return -EINVAL;
	q->timeout_ms = timeout_ms;
	return 0;
}

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

int qmp_event_next(struct qmp *q, json_t **event)
{
	if (!q->ev_count)
		return -EAGAIN;
	*event = q->events[q->ev_head];
	q->ev_head = (q->ev_head + 1) % QMP_EVENTS_MAX;
	q->ev_count--;
	return 0;
}

unsigned long qmp_discarded(const struct qmp *q)
{
	return q->discarded;
}

unsigned long qmp_events_dropped(const struct qmp *q)
{
	return q->dropped;
}

/* --- Without waiting: driven by the caller's poll (cmcd's event loop) ------------------ */

int qmp_open(const char *path, struct qmp **out)
{
	struct qmp *q = calloc(1, sizeof(*q));

	if (!q || !(q->path = strdup(path))) {
		free(q);
		return -ENOMEM;
	}
	q->fd = -1;
	q->timeout_ms = QMP_TIMEOUT_MAX;
	q->nowait = true;
	*out = q;
	return 0;
}

int qmp_start(struct qmp *q, char *err, size_t errlen)
{
	int rc;

	rc = stream_connect(q);
	if (rc)
		goto fail;
	q->phase = QMP_GREETING;
	return 0;
fail:
	snprintf(err, errlen, "QMP %s: %s", q->path, strerror(-rc));
	disconnect(q);
	return rc;
}

/* Writes what is queued, as far as the socket takes it. */
static int flush_out(struct qmp *q)
{
	while (q->out_len) {
		ssize_t n = send(q->fd, q->out, q->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		memmove(q->out, q->out + n, q->out_len - (size_t)n);
		q->out_len -= (size_t)n;
	}
	return 0;
}

static int queue_command(struct qmp *q, const char *command, json_t *args, uint64_t *id)
{
	size_t n;
	char *text = format_command(q, command, args, &n);
	int rc = -ENOMEM;

	if (!text)
		return rc;
	if (q->out_len + n > q->out_cap) {
		size_t cap = q->out_len + n + QMP_BUF_MIN;
		char *b = realloc(q->out, cap);

		if (!b)
			goto out;
		q->out = b;
		q->out_cap = cap;
	}
	memcpy(q->out + q->out_len, text, n);
	q->out_len += n;
	*id = make_pending(q);
	rc = flush_out(q);
out:
	free(text);
	return rc;
}

static int send_nowait(struct qmp *q, const char *command, json_t *args, uint64_t *id, char *err,
		       size_t errlen)
{
	int rc;

	if (q->phase != QMP_READY) {
		snprintf(err, errlen, "QMP %s: %s: not connected yet", q->path, command);
		return -ENOTCONN;
	}
	rc = queue_command(q, command, args, id);
	if (rc) {
		snprintf(err, errlen, "QMP %s: %s: %s", q->path, command, strerror(-rc));
		if (rc != -ENOMEM)
			disconnect(q);
	}
	return rc;
}

/* The greeting, then qmp_capabilities and its answer: one step per call, as they come. */
static int handshake(struct qmp *q, char *err, size_t errlen)
{
	int rc = 0;

	if (q->phase == QMP_GREETING && q->greeted) {
		rc = queue_command(q, "qmp_capabilities", NULL, &q->caps_id);
		if (!rc)
			q->phase = QMP_CAPS;
	}
	if (!rc && q->phase == QMP_CAPS && q->reply) {
		rc = finish(q, NULL, err, errlen);
		if (!rc)
			q->phase = QMP_READY;
	}
	if (rc) {
		if (rc != -EREMOTEIO)
			snprintf(err, errlen, "QMP %s: qmp_capabilities: %s", q->path, strerror(-rc));
		disconnect(q);
	}
	return rc;
}

int qmp_poll(struct qmp *q, char *err, size_t errlen)
{
	int rc;

	if (q->fd < 0) {
		snprintf(err, errlen, "QMP %s: not connected", q->path);
		return -ENOTCONN;
	}
	rc = flush_out(q);
	if (rc) {
		snprintf(err, errlen, "QMP %s: %s", q->path, strerror(-rc));
		disconnect(q);
		return rc;
	}
	rc = pump_or_drop(q, err, errlen);
	if (!rc && q->phase != QMP_READY) {
		rc = handshake(q, err, errlen);
		if (!rc && q->phase == QMP_READY)
			rc = pump_or_drop(q, err, errlen);	/* what came with the answer */
	}
	return rc;
}

bool qmp_ready(const struct qmp *q)
{
	return q->fd >= 0 && q->phase == QMP_READY;
}

bool qmp_want_write(const struct qmp *q)
{
	return q->fd >= 0 && q->out_len > 0;
}

/* --- Reading replies by path ------------------------------------------------------ */

json_t *qmp_get(const json_t *v, const char *path)
{
	json_t *cur = (json_t *)(uintptr_t)v;	/* jansson's getters take const, return mutable */

	while (cur && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		cur = json_object_getn(cur, path, n);
		path += n + (dot ? 1 : 0);
	}
	return cur;
}

int qmp_get_u64(const json_t *v, const char *path, uint64_t *out)
{
	json_t *x = qmp_get(v, path);

	if (!x)
		return -ENOENT;
	if (json_is_integer(x) && json_integer_value(x) >= 0)
		*out = (uint64_t)json_integer_value(x);
	else if (json_is_real(x) && json_real_value(x) >= 0 && json_real_value(x) < 18446744073709551616.0)
		*out = (uint64_t)json_real_value(x);
	else
		return -EINVAL;
	return 0;
}

int qmp_get_str(const json_t *v, const char *path, char *out, size_t len)
{
	json_t *x = qmp_get(v, path);
	const char *s = json_string_value(x);

	if (!x)
		return -ENOENT;
	if (!s)
		return -EINVAL;
	if (len)
		snprintf(out, len, "%s", s);
	return strlen(s) < len ? 0 : -ERANGE;
}
