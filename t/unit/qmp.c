/* SPDX-License-Identifier: MIT */
/*
 * The QMP client against a fake QEMU: a thread serving a unix socket in a mkdtemp
 * directory, one script per test. The scripts answer late, out of order, with events
 * in between, with a reply bigger than any buffer, with garbage, with a query-migrate
 * whose device section comes before "ram", and with replies carrying another id or
 * none. The client's timeout is 300 ms; a late answer comes after 600 ms.
 */
#include "qmp.h"
#include "tap.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 300
#define LATE_MS 600

struct srv {
	char dir[64], path[96];
	int lfd, fd;
	int accepts;
	char buf[65536];
	size_t len;
	void (*script)(struct srv *);
	pthread_t thread;
	unsigned greet_delay_ms;	/* before the greeting */
	volatile int greeting_sent;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* --- The fake QEMU --------------------------------------------------------------- */

static void say_raw(struct srv *s, const char *text, size_t len)
{
	while (len) {
		ssize_t n = send(s->fd, text, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;	/* the client went: fine, it may have been refusing this */
		text += n;
		len -= (size_t)n;
	}
}

static void say(struct srv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct srv *s, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	memcpy(line + n, "\r\n", 2);
	say_raw(s, line, (size_t)n + 2);
}

/* The next command from the client (NULL at its end of file or after 5 s). */
static json_t *hear(struct srv *s)
{
	for (;;) {
		char *nl = memchr(s->buf, '\n', s->len);
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			json_t *cmd = json_loadb(s->buf, (size_t)(nl - s->buf), 0, NULL);

			s->len -= (size_t)(nl + 1 - s->buf);
			memmove(s->buf, nl + 1, s->len);
			return cmd;
		}
		if (poll(&p, 1, 5000) <= 0)
			return NULL;
		n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (n <= 0)
			return NULL;
		s->len += (size_t)n;
	}
}

static long long id_of(json_t *cmd)
{
	return json_integer_value(json_object_get(cmd, "id"));
}

/* Answers cmd with {"return": RET, "id": its id}, and lets it go. */
static void answer(struct srv *s, json_t *cmd, const char *ret)
{
	say(s, "{\"return\": %s, \"id\": %lld}", ret, id_of(cmd));
	json_decref(cmd);
}

/* A client connects (within 2 s): greeting, qmp_capabilities answered. */
static int welcome(struct srv *s)
{
	struct pollfd p = { .fd = s->lfd, .events = POLLIN };
	json_t *cmd;

	if (s->fd >= 0)
		close(s->fd);
	s->len = 0;
	s->fd = poll(&p, 1, 2000) == 1 ? accept(s->lfd, NULL, NULL) : -1;
	if (s->fd < 0)
		return -1;
	s->accepts++;
	if (s->greet_delay_ms)
		msleep(s->greet_delay_ms);
	s->greeting_sent = 1;
	say(s, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}}, \"capabilities\": []}}");
	cmd = hear(s);
	if (!cmd)
		return -1;
	answer(s, cmd, "{}");
	return 0;
}

/* Until the client hangs up. */
static void drain(struct srv *s)
{
	json_t *cmd;

	while ((cmd = hear(s)))
		answer(s, cmd, "{}");
}

static void *serve(void *arg)
{
	struct srv *s = arg;

	if (welcome(s) == 0)
		s->script(s);
	drain(s);
	return NULL;
}

static void srv_start_delayed(struct srv *s, void (*script)(struct srv *), unsigned greet_delay_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	s->greet_delay_ms = greet_delay_ms;
	s->fd = -1;
	s->script = script;
	snprintf(s->dir, sizeof(s->dir), "/tmp/cmc-qmp-XXXXXX");
	if (!mkdtemp(s->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(s->path, sizeof(s->path), "%s/qmp.sock", s->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->lfd, 4) < 0 ||
	    pthread_create(&s->thread, NULL, serve, s) != 0) {
		perror("fake QMP server");
		exit(1);
	}
}

static void srv_start(struct srv *s, void (*script)(struct srv *))
{
	srv_start_delayed(s, script, 0);
}

static void srv_stop(struct srv *s)
{
	pthread_join(s->thread, NULL);
	if (s->fd >= 0)
		close(s->fd);
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
}

static struct qmp *client(struct srv *s)
{
	struct qmp *q = NULL;
	char err[256];

	if (qmp_connect(s->path, TIMEOUT_MS, &q, err, sizeof(err)) < 0)
		tap_diag("connect: %s", err);
	return q;
}

/* Runs command; the "status" of its reply, or "rc=N" */
static const char *status_of(struct qmp *q, const char *command, int *rc)
{
	static char out[320];
	json_t *reply = NULL;
	char err[256] = "";

	*rc = q ? qmp_execute(q, command, NULL, &reply, err, sizeof(err)) : -ENOTCONN;
	if (*rc)
		snprintf(out, sizeof(out), "rc=%d (%s)", *rc, err);
	else if (qmp_get_str(reply, "status", out, sizeof(out)) < 0)
		snprintf(out, sizeof(out), "(no status)");
	json_decref(reply);
	return out;
}

/* --- Scripts and tests ------------------------------------------------------------ */

static void late_script(struct srv *s)
{
	json_t *first = hear(s), *second;

	msleep(LATE_MS);
	answer(s, first, "{\"status\": \"active\"}");
	second = hear(s);
	if (second)
		answer(s, second, "{\"status\": \"running\"}");
}

static void test_late_reply(void)
{
	struct srv s;
	struct qmp *q;
	long long t0;
	int rc;

	srv_start(&s, late_script);
	q = client(&s);
	t0 = now_ms();
	status_of(q, "query-migrate", &rc);
	tap_is_int(rc, -ETIMEDOUT, "late reply: the command times out");
	tap_ok(now_ms() - t0 < TIMEOUT_MS + 200, "late reply: it gave up after its timeout (%lld ms)", now_ms() - t0);
	msleep(LATE_MS);	/* the late reply is on the socket now */
	tap_is_str(status_of(q, "query-status", &rc), "running",
		   "late reply: the next command gets its own reply, not the late one");
	tap_is_int(s.accepts, 1, "late reply: a timeout does not reconnect");
	tap_is_int(q ? qmp_discarded(q) : 0, 1, "late reply: discarded and counted");
	qmp_close(q);
	srv_stop(&s);
}

static void out_of_order_script(struct srv *s)
{
	json_t *a = hear(s), *b = hear(s), *c;

	answer(s, b, "{\"status\": \"b\"}");
	answer(s, a, "{\"status\": \"a\"}");
	c = hear(s);
	if (c)
		answer(s, c, "{\"status\": \"c\"}");
}

static void test_out_of_order(void)
{
	struct srv s;
	struct qmp *q;
	int rc;

	srv_start(&s, out_of_order_script);
	q = client(&s);
	status_of(q, "a", &rc);
	tap_is_int(rc, -ETIMEDOUT, "out of order: a, held back, times out");
	tap_is_str(status_of(q, "b", &rc), "b", "out of order: b gets b's reply");
	tap_is_str(status_of(q, "c", &rc), "c", "out of order: c gets c's reply, not a's that came after b's");
	qmp_close(q);
	srv_stop(&s);
}

static void events_script(struct srv *s)
{
	json_t *cmd = hear(s);

	say(s, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}");
	say(s, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"BLOCK_JOB_COMPLETED\", "
	       "\"data\": {\"type\": \"mirror\", \"device\": \"d0\", \"len\": 0, \"offset\": 0, \"speed\": 0, "
	       "\"error\": \"No space left on device\"}}");
	answer(s, cmd, "{\"status\": \"paused\", \"running\": false}");
	say(s, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 4}, \"event\": \"RESUME\"}");
	cmd = hear(s);
	if (cmd)
		answer(s, cmd, "{\"status\": \"running\"}");
}

static void test_events(void)
{
	static const char *const want[] = { "STOP", "BLOCK_JOB_COMPLETED", "RESUME" };
	struct srv s;
	struct qmp *q;
	json_t *ev;
	int rc, n = 0, in_order = 1;

	srv_start(&s, events_script);
	q = client(&s);
	tap_is_str(status_of(q, "query-status", &rc), "paused",
		   "events: an event (one with an \"error\" member) is not taken for the reply");
	tap_is_str(status_of(q, "query-status", &rc), "running", "events: the next command's reply");
	while (q && qmp_event_next(q, &ev) == 0) {
		const char *name = json_string_value(json_object_get(ev, "event"));

		if (n >= 3 || !name || strcmp(name, want[n]) != 0)
			in_order = 0;
		n++;
		json_decref(ev);
	}
	tap_ok(n == 3 && in_order, "events: all three kept for the caller, in order (%d)", n);
	qmp_close(q);
	srv_stop(&s);
}

static void huge_script(struct srv *s)
{
	size_t big = 2 * QMP_LINE_MAX;
	char *line = malloc(big + 64);
	json_t *cmd = hear(s);
	int n;

	if (line && cmd) {
		n = snprintf(line, 64, "{\"id\": %lld, \"return\": {\"x\": \"", id_of(cmd));
		memset(line + n, 'x', big);
		memcpy(line + n + big, "\"}}\r\n", 5);
		say_raw(s, line, (size_t)n + big + 5);
	}
	json_decref(cmd);
	free(line);
	if (welcome(s) == 0 && (cmd = hear(s)))
		answer(s, cmd, "{\"status\": \"running\"}");
}

static void test_huge_reply(void)
{
	struct srv s;
	struct qmp *q;
	long long t0;
	int rc;

	srv_start(&s, huge_script);
	q = client(&s);
	t0 = now_ms();
	status_of(q, "query-status", &rc);
	tap_is_int(rc, -EMSGSIZE, "huge reply: refused (%d)", rc);
	tap_ok(now_ms() - t0 < TIMEOUT_MS + 200, "huge reply: within the timeout (%lld ms)", now_ms() - t0);
	tap_is_str(status_of(q, "query-status", &rc), "running", "huge reply: the next command works");
	tap_is_int(s.accepts, 2, "huge reply: on a new connection");
	qmp_close(q);
	srv_stop(&s);
}

static void garbled_script(struct srv *s)
{
	json_t *cmd = hear(s);

	if (cmd)
		say(s, "{\"return\": {\"status\": \"running\"], \"id\": %lld}", id_of(cmd));
	json_decref(cmd);
	if (welcome(s) == 0 && (cmd = hear(s)))
		answer(s, cmd, "{\"status\": \"running\"}");
}

static void test_garbled(void)
{
	struct srv s;
	struct qmp *q;
	int rc;

	srv_start(&s, garbled_script);
	q = client(&s);
	status_of(q, "query-status", &rc);
	tap_is_int(rc, -EPROTO, "garbled JSON: an error, not a reply");
	tap_is_str(status_of(q, "query-status", &rc), "running", "garbled JSON: the next command works");
	tap_is_int(s.accepts, 2, "garbled JSON: on a new connection (capabilities again)");
	qmp_close(q);
	srv_stop(&s);
}

static void migrate_script(struct srv *s)
{
	json_t *cmd = hear(s);

	if (cmd)
		answer(s, cmd, "{\"status\": \"active\", \"setup-time\": 4, \"vfio\": {\"transferred\": 0}, "
			       "\"xbzrle-cache\": {\"cache-size\": 67108864, \"bytes\": 0, \"pages\": 0}, "
			       "\"ram\": {\"transferred\": 123456789, \"remaining\": 4096, \"total\": 67309568, "
			       "\"mbps\": 212.57, \"dirty-sync-count\": 1}, \"total-time\": 1500}");
}

static void test_device_before_ram(void)
{
	struct srv s;
	struct qmp *q;
	json_t *reply = NULL;
	uint64_t transferred = 0, mbps = 0, total_time = 0;
	char err[256];

	srv_start(&s, migrate_script);
	q = client(&s);
	if (q && qmp_execute(q, "query-migrate", NULL, &reply, err, sizeof(err)) < 0)
		tap_diag("query-migrate: %s", err);
	(void)qmp_get_u64(reply, "ram.transferred", &transferred);
	(void)qmp_get_u64(reply, "ram.mbps", &mbps);
	(void)qmp_get_u64(reply, "total-time", &total_time);
	tap_is_int(transferred, 123456789, "device section before ram: ram.transferred, not vfio's");
	tap_is_int(mbps, 212, "device section before ram: ram.mbps (a real) truncated");
	tap_is_int(total_time, 1500, "device section before ram: total-time after ram");
	json_decref(reply);
	qmp_close(q);
	srv_stop(&s);
}

static void wrong_id_script(struct srv *s)
{
	json_t *cmd = hear(s);

	if (!cmd)
		return;
	say(s, "{\"return\": {\"status\": \"wrong-id\"}, \"id\": %lld}", id_of(cmd) + 100);
	say(s, "{\"return\": {\"status\": \"no-id\"}}");
	say(s, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}");
	say(s, "{\"return\": {\"status\": \"string-id\"}, \"id\": \"%lld\"}", id_of(cmd));
	answer(s, cmd, "{\"status\": \"running\"}");
}

static void test_wrong_id(void)
{
	struct srv s;
	struct qmp *q;
	int rc;

	srv_start(&s, wrong_id_script);
	q = client(&s);
	tap_is_str(status_of(q, "query-status", &rc), "running",
		   "wrong or missing id: only the reply with the command's id is taken");
	tap_is_int(q ? qmp_discarded(q) : 0, 4, "wrong or missing id: four replies discarded");
	qmp_close(q);
	srv_stop(&s);
}

/* --- What the client sends, errors, the two halves --------------------------------- */

static json_t *heard_cmd;

static void args_script(struct srv *s)
{
	json_t *cmd = hear(s);

	heard_cmd = json_deep_copy(cmd);	/* read by the client's thread after the reply */
	say(s, "{\"id\": %lld, \"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'uri' is bad\"}}",
	    id_of(cmd));
	json_decref(cmd);
	cmd = hear(s);
	msleep(TIMEOUT_MS / 2);
	if (cmd)
		answer(s, cmd, "{\"status\": \"running\"}");
}

/* The second half of args_script's client: send now, the reply comes 150 ms later. */
static void two_halves(struct qmp *q)
{
	json_t *reply = NULL;
	char err[256] = "", status[16] = "";
	uint64_t id = 0;
	int rc = -ENOTCONN, waits = 0;

	if (q && qmp_send(q, "query-status", NULL, &id, err, sizeof(err)) == 0)
		rc = qmp_receive(q, id, &reply, err, sizeof(err));
	tap_is_int(rc, -EAGAIN, "two halves: nothing yet, and no waiting for it");
	while (rc == -EAGAIN && waits++ < 20) {
		struct pollfd p = { .fd = qmp_fd(q), .events = POLLIN };

		(void)poll(&p, 1, 100);
		rc = qmp_receive(q, id, &reply, err, sizeof(err));
	}
	(void)qmp_get_str(reply, "status", status, sizeof(status));
	tap_ok(rc == 0 && strcmp(status, "running") == 0, "two halves: the reply once qmp_fd() is readable");
	json_decref(reply);
}

static void test_args_and_errors(void)
{
	struct srv s;
	struct qmp *q;
	json_t *args = json_pack("{s:s, s:I}", "uri", "tcp:169.254.1.2:4444", "max-bandwidth",
				 (json_int_t)1 << 40), *reply = NULL;
	char err[256] = "";
	int rc;

	srv_start(&s, args_script);
	q = client(&s);
	rc = q ? qmp_execute(q, "migrate", args, &reply, err, sizeof(err)) : -ENOTCONN;
	tap_is_int(rc, -EREMOTEIO, "a QMP error is -EREMOTEIO");
	tap_ok(strstr(err, "Parameter 'uri' is bad") != NULL, "its desc in err (%s)", err);
	tap_is_str(json_string_value(json_object_get(reply, "class")), "GenericError", "the error object in *reply");
	tap_ok(json_equal(json_object_get(heard_cmd, "arguments"), args), "the arguments arrive as given");
	tap_is_str(json_string_value(json_object_get(heard_cmd, "execute")), "migrate", "the command's name");
	tap_ok(json_is_integer(json_object_get(heard_cmd, "id")), "the command carries an integer id");
	json_decref(reply);
	json_decref(args);
	json_decref(heard_cmd);
	two_halves(q);
	qmp_close(q);
	srv_stop(&s);
}

static void flood_script(struct srv *s)
{
	json_t *cmd = hear(s);

	for (int i = 0; i < QMP_EVENTS_MAX + 6; i++)
		say(s, "{\"event\": \"E%d\", \"timestamp\": {\"seconds\": 0, \"microseconds\": 0}}", i);
	if (cmd)
		answer(s, cmd, "{}");
}

static void test_event_bound(void)
{
	struct srv s;
	struct qmp *q;
	json_t *ev = NULL;
	char err[256];
	int n = 0;

	srv_start(&s, flood_script);
	q = client(&s);
	if (q && qmp_execute(q, "query-status", NULL, NULL, err, sizeof(err)) < 0)
		tap_diag("query-status: %s", err);
	tap_is_int(q ? qmp_events_dropped(q) : 0, 6, "event flood: the oldest dropped past %d", QMP_EVENTS_MAX);
	tap_ok(q && qmp_event_next(q, &ev) == 0 && strcmp(json_string_value(json_object_get(ev, "event")), "E6") == 0,
	       "event flood: the oldest kept is E6");
	json_decref(ev);
	while (q && qmp_event_next(q, &ev) == 0) {
		n++;
		json_decref(ev);
	}
	tap_is_int(n, QMP_EVENTS_MAX - 1, "event flood: the rest kept");
	qmp_close(q);
	srv_stop(&s);
}

static void test_not_qmp(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp *q = NULL;
	char err[256] = "", dir[64] = "/tmp/cmc-qmp-XXXXXX";
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	if (!mkdtemp(dir))
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	rc = qmp_connect(sa.sun_path, TIMEOUT_MS, &q, err, sizeof(err));
	tap_is_int(rc, -ENOENT, "no socket: -ENOENT (%s)", err);
	rc = -1;
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0)
		/* The client connects into the backlog; nobody greets it (a busy QEMU). */
		rc = qmp_connect(sa.sun_path, TIMEOUT_MS, &q, err, sizeof(err));
	tap_is_int(rc, -ETIMEDOUT, "no greeting: -ETIMEDOUT (%s)", err);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
}

static void test_get(void)
{
	json_t *v = json_loads("{\"a\": {\"b\": 7, \"s\": \"long string\", \"neg\": -1}, \"r\": 2.5}", 0, NULL);
	uint64_t x = 0;
	char buf[5];

	tap_ok(qmp_get_u64(v, "a.b", &x) == 0 && x == 7, "get: a.b");
	tap_is_int(qmp_get_u64(v, "a.c", &x), -ENOENT, "get: a missing member");
	tap_is_int(qmp_get_u64(v, "a.b.c", &x), -ENOENT, "get: below a number");
	tap_is_int(qmp_get_u64(v, "a.neg", &x), -EINVAL, "get: a negative number");
	tap_is_int(qmp_get_u64(v, "a.s", &x), -EINVAL, "get: a string as a number");
	tap_is_int(qmp_get_str(v, "a.b", buf, sizeof(buf)), -EINVAL, "get: a number as a string");
	tap_ok(qmp_get_str(v, "a.s", buf, sizeof(buf)) == -ERANGE && strcmp(buf, "long") == 0, "get: truncated");
	json_decref(v);
}

/* --- Without waiting (qmp_open, qmp_poll) ------------------------------------------- */

static void nowait_script(struct srv *s)
{
	json_t *cmd = hear(s);

	if (!cmd)
		return;
	say(s, "{\"timestamp\": {\"seconds\": 7, \"microseconds\": 8}, \"event\": \"MIGRATION\", "
	       "\"data\": {\"status\": \"completed\"}}");
	answer(s, cmd, "{\"status\": \"completed\"}");
	/* then hang up: the client must see the end and not connect again */
	close(s->fd);
	s->fd = -1;
}

/* Polls q's socket (bounded: 50 rounds of 100 ms) until done(q) or the stream breaks. */
static int drive(struct qmp *q, bool (*done)(struct qmp *, void *), void *arg)
{
	char err[256];

	for (int i = 0; i < 50; i++) {
		struct pollfd p = { .fd = qmp_fd(q), .events = POLLIN };
		int rc;

		if (done(q, arg))
			return 0;
		if (p.fd < 0)
			return -ENOTCONN;
		(void)poll(&p, 1, 100);
		rc = qmp_poll(q, err, sizeof(err));
		/* A reply that came just before the end of the stream still counts. */
		if (done(q, arg))
			return 0;
		if (rc)
			return rc;
	}
	return -ETIMEDOUT;
}

static bool is_ready(struct qmp *q, void *arg)
{
	(void)arg;
	return qmp_ready(q);
}

struct pending {
	uint64_t id;
	int rc;
	json_t *reply;
};

static bool replied(struct qmp *q, void *arg)
{
	struct pending *p = arg;
	char err[256];

	p->rc = qmp_receive(q, p->id, &p->reply, err, sizeof(err));
	return p->rc != -EAGAIN;
}

static bool broken(struct qmp *q, void *arg)
{
	(void)arg;
	return qmp_fd(q) < 0;
}

static void test_nowait(void)
{
	struct srv s;
	struct qmp *q = NULL;
	struct pending p = { 0 };
	char err[256], status[32] = "";
	const char *missing = "/tmp/cmc-qmp-no-such-dir/qmp.sock";
	json_t *ev = NULL;
	uint64_t id;
	int rc;

	tap_ok(qmp_open(missing, &q) == 0 && qmp_start(q, err, sizeof(err)) == -ENOENT,
	       "nowait: no socket there: qmp_start says -ENOENT at once");
	qmp_close(q);
	srv_start_delayed(&s, nowait_script, LATE_MS);
	if (qmp_open(s.path, &q) < 0)
		exit(1);
	rc = qmp_start(q, err, sizeof(err));
	tap_is_int(rc, 0, "nowait: qmp_start connects (%s)", rc ? err : "ok");
	rc = qmp_poll(q, err, sizeof(err));
	tap_ok(rc == 0 && !qmp_ready(q) && !s.greeting_sent,
	       "nowait: qmp_poll returns before QEMU has greeted (it does not wait for it)");
	tap_is_int(qmp_send(q, "query-migrate", NULL, &id, err, sizeof(err)), -ENOTCONN,
		   "nowait: a command before the handshake: -ENOTCONN");
	tap_is_int(drive(q, is_ready, NULL), 0, "nowait: greeting and capabilities taken as they come");
	rc = qmp_send(q, "query-migrate", NULL, &p.id, err, sizeof(err));
	tap_ok(rc == 0 && drive(q, replied, &p) == 0 && p.rc == 0 &&
	       qmp_get_str(p.reply, "status", status, sizeof(status)) == 0 && strcmp(status, "completed") == 0,
	       "nowait: the command's reply (%s)", status);
	tap_ok(qmp_event_next(q, &ev) == 0 && strcmp(json_string_value(json_object_get(ev, "event")), "MIGRATION") == 0,
	       "nowait: the event that came before it is kept");
	/* The end of the stream came with the reply (seen then) or after it (seen now). */
	rc = drive(q, broken, NULL);
	tap_ok(rc == 0 && qmp_fd(q) < 0 && qmp_poll(q, err, sizeof(err)) == -ENOTCONN,
	       "nowait: QEMU hung up after its reply: the reply was had, then the stream is closed (%d)", rc);
	tap_is_int(s.accepts, 1, "nowait: and it does not connect again on its own");
	tap_ok(qmp_execute(q, "query-status", NULL, NULL, err, sizeof(err)) == -EINVAL,
	       "nowait: qmp_execute (which waits) is refused on such a client");
	json_decref(ev);
	json_decref(p.reply);
	qmp_close(q);
	srv_stop(&s);
}

int main(void)
{
	tap_plan(53);
	test_late_reply();
	test_out_of_order();
	test_events();
	test_huge_reply();
	test_garbled();
	test_device_before_ram();
	test_wrong_id();
	test_args_and_errors();
	test_event_bound();
	test_not_qmp();
	test_get();
	test_nowait();
	return tap_done();
}
