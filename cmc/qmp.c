/* SPDX-License-Identifier: MIT */
/* A small, bounded QMP client (see qmp.h). */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_LINE_MAX (256 * 1024)	/* query-migrate and friends are far smaller */

struct qmp {
	int fd;
	unsigned timeout_ms;
	char *buf;
	size_t len;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line of QMP (QEMU ends every message with "\r\n"), by the deadline. */
static int read_line(struct qmp *q, long long deadline, char **line)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - q->buf);
			*line = strndup(q->buf, l);
			memmove(q->buf, nl + 1, q->len - l - 1);
			q->len -= l + 1;
			return *line ? 0 : -ENOMEM;
		}
		if (q->len >= QMP_LINE_MAX)
			return -EMSGSIZE;
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		n = read(q->fd, q->buf + q->len, QMP_LINE_MAX - q->len);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0)
			q->len += (size_t)n;
	}
}

static int write_all(struct qmp *q, const char *s, long long deadline)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		struct pollfd p = { .fd = q->fd, .events = POLLOUT };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = send(q->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* The JSON value after "key": (object, array, string, number or literal), copied. */
static char *json_value(const char *json, const char *key)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p == '"') {
		for (end = p + 1; *end && *end != '"'; end++)
			if (*end == '\\' && end[1])
				end++;
		if (*end)
			end++;
	} else if (*p == '{' || *p == '[') {
		int depth = 0;
		bool in_str = false;

		for (end = p; *end; end++) {
			if (in_str) {
				if (*end == '\\' && end[1])
					end++;
				else if (*end == '"')
					in_str = false;
			} else if (*end == '"') {
				in_str = true;
			} else if (*end == '{' || *end == '[') {
				depth++;
			} else if ((*end == '}' || *end == ']') && --depth == 0) {
				end++;
				break;
			}
		}
	} else {
		end = p + strcspn(p, ",}] ");
	}
	return strndup(p, (size_t)(end - p));
}

int qmp_json_str(const char *json, const char *key, char *out, size_t len)
{
	char *v = json_value(json, key);
	size_t n;

	if (!v)
		return -ENOENT;
	n = strlen(v);
	if (n >= 2 && v[0] == '"') {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	}
	snprintf(out, len, "%s", v);
	free(v);
	return 0;
}

int qmp_json_u64(const char *json, const char *key, uint64_t *out)
{
	char *v = json_value(json, key), *end;
	double d;

	if (!v)
		return -ENOENT;
	d = strtod(v, &end);
	free(v);
	if (end == v || d < 0)
		return -EINVAL;
	*out = (uint64_t)d;
	return 0;
}

/* Waits for the reply to the last command, skipping events. */
static int await_reply(struct qmp *q, long long deadline, char **reply, char *err, size_t errlen)
{
	for (;;) {
		char *line = NULL, *v;
		int rc = read_line(q, deadline, &line);

		if (rc) {
			snprintf(err, errlen, "QMP: %s", rc == -ETIMEDOUT ? "no answer in time" : strerror(-rc));
			return rc;
		}
		if ((v = json_value(line, "return"))) {
			free(line);
			if (reply)
				*reply = v;
			else
				free(v);
			return 0;
		}
		if ((v = json_value(line, "error"))) {
			char desc[256] = "";
			(void)qmp_json_str(v, "desc", desc, sizeof(desc));
			snprintf(err, errlen, "QEMU: %s", desc);
			free(v);
			free(line);
			return -EREMOTEIO;
		}
		free(line);	/* an event, or the greeting */
	}
}

int qmp_execute(struct qmp *q, const char *command, const char *args, char **reply, char *err,
		size_t errlen)
{
	long long deadline = now_ms() + q->timeout_ms;
	char *msg;
	int rc;

	if (reply)
		*reply = NULL;
	if (asprintf(&msg, "{\"execute\":\"%s\"%s%s}\n", command, args ? ",\"arguments\":" : "",
		     args ? args : "") < 0)
		return -ENOMEM;
	rc = write_all(q, msg, deadline);
	free(msg);
	if (rc) {
		snprintf(err, errlen, "QMP %s: %s", command, strerror(-rc));
		return rc;
	}
	return await_reply(q, deadline, reply, err, errlen);
}

int qmp_connect(const char *path, unsigned timeout_ms, struct qmp **out, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp *q = calloc(1, sizeof(*q));
	char *greeting = NULL;
	bool told = false;
	int rc;

	if (!q || !(q->buf = malloc(QMP_LINE_MAX))) {
		free(q);
		return -ENOMEM;
	}
	q->timeout_ms = timeout_ms;
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->fd < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		rc = q->fd < 0 ? -errno : -ENAMETOOLONG;
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = read_line(q, now_ms() + timeout_ms, &greeting);
	if (!rc && !strstr(greeting, "\"QMP\""))
		rc = -EPROTO;
	free(greeting);
	if (!rc) {
		rc = qmp_execute(q, "qmp_capabilities", NULL, NULL, err, errlen);
		told = rc != 0;
	}
	if (rc)
		goto fail;
	*out = q;
	return 0;
fail:
	if (!told)
		snprintf(err, errlen, "QMP %s: %s", path, strerror(-rc));
	qmp_close(q);
	return rc;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}
