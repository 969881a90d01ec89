/* SPDX-License-Identifier: MIT */
/*
 * Deferred replies on the control socket (cmc_api_defer, cmc_api_finish), on a real event
 * loop and a real socket: while one client's request waits, another client is answered;
 * the waiting client's next request waits its turn (replies keep the order of requests);
 * a request finished inside its own handler is answered at once; a client that hangs up
 * while its request waits costs nothing when the answer comes.
 */
#include "api.h"
#include "tap.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct ctx {
	struct cmc_loop *loop;
	struct cmc_api_pending *slow;	/* the request "slow" waits here */
	int slow_calls;
};

/* "slow": answered later, by the test. */
static enum cmc_status cmd_slow(void *arg, struct cmc_api_request *req)
{
	struct ctx *x = arg;

	x->slow_calls++;
	x->slow = cmc_api_defer(req);
	return x->slow ? CMC_OK : cmc_api_refuse(req, CMC_REFUSED, "out of memory");
}

/* "now": deferred, then finished before its handler returns. */
static enum cmc_status cmd_now(void *arg, struct cmc_api_request *req)
{
	struct cmc_api_pending *p = cmc_api_defer(req);

	(void)arg;
	if (p)
		cmc_api_finish(p, CMC_REFUSED, "done at once", NULL);
	return CMC_OK;
}

static enum cmc_status cmd_fast(void *arg, struct cmc_api_request *req)
{
	(void)arg;
	cmc_rec_begin(req->body, "fast");
	cmc_rec_end(req->body);
	return CMC_OK;
}

static const struct cmc_api_command table[] = {
	{ "slow", cmd_slow, 0, 0, "slow", "", 0 },
	{ "now", cmd_now, 0, 0, "now", "", 0 },
	{ "fast", cmd_fast, 0, 0, "fast", "", 0 },
	{ NULL, NULL, 0, 0, NULL, NULL, 0 },
};

static int client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* What the client has received so far (without waiting), appended to buf. */
static const char *got(int fd, char *buf, size_t len)
{
	size_t n = strlen(buf);
	ssize_t r;

	while (n + 1 < len && (r = recv(fd, buf + n, len - n - 1, MSG_DONTWAIT)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return buf;
}

struct script {
	struct ctx *x;
	int ca, cb, step;
	char a[512], b[512];
};

/* One step of the test every 50 ms, the loop serving the socket in between. */
static void step(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct script *sc = arg;
	struct ctx *x = sc->x;

	(void)t;
	switch (sc->step++) {
	case 0:	/* client a: slow, then fast behind it */
		(void)!send(sc->ca, "slow\nfast\n", 10, 0);
		break;
	case 1:	/* client b: fast */
		(void)!send(sc->cb, "fast\n", 5, 0);
		break;
	case 2:
		tap_ok(x->slow_calls == 1 && x->slow, "the slow request is waiting");
		tap_ok(strstr(got(sc->cb, sc->b, sizeof(sc->b)), "OK\n") != NULL, "another client is answered meanwhile");
		tap_is_str(got(sc->ca, sc->a, sizeof(sc->a)), "",
			   "the waiting client has no answer yet, not even to its next request");
		if (x->slow)
			cmc_api_finish(x->slow, CMC_OK, NULL, NULL);
		x->slow = NULL;
		break;
	case 3:
		got(sc->ca, sc->a, sizeof(sc->a));
		tap_ok(strncmp(sc->a, "OK\n.\nOK\n", 8) == 0 && strstr(sc->a, "fast"),
		       "then both of its answers, in the order asked");
		sc->a[0] = '\0';
		(void)!send(sc->ca, "now\nfast\n", 9, 0);
		break;
	case 4:
		got(sc->ca, sc->a, sizeof(sc->a));
		tap_ok(strncmp(sc->a, "ERR 1 done at once\n.\nOK\n", 24) == 0 && strstr(sc->a, "fast"),
		       "a request finished inside its handler is answered at once, in order");
		(void)!send(sc->cb, "slow\n", 5, 0);
		break;
	case 5:
		tap_ok(x->slow != NULL, "a second slow request waits");
		close(sc->cb);
		break;
	case 6:
		if (x->slow)
			cmc_api_finish(x->slow, CMC_OK, NULL, NULL);	/* its client is gone */
		x->slow = NULL;
		sc->a[0] = '\0';
		(void)!send(sc->ca, "fast\n", 5, 0);
		break;
	default:
		tap_ok(strstr(got(sc->ca, sc->a, sizeof(sc->a)), "fast") != NULL,
		       "answering a client that hung up harms no one");
		cmc_loop_quit(loop);
	}
}

int main(void)
{
	char dir[] = "/tmp/cmc-api-XXXXXX", path[64], err[256];
	struct ctx x = { 0 };
	struct script sc = { .x = &x };
	struct cmc_timer *t;
	struct cmc_api *api;

	tap_plan(7);
	if (!mkdtemp(dir) || cmc_loop_new(&x.loop) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/api.sock", dir);
	if (cmc_api_open(&api, x.loop, path, NULL, table, &x, err, sizeof(err)) < 0) {
		tap_diag("%s", err);
		return 1;
	}
	sc.ca = client(path);
	sc.cb = client(path);
	if (sc.ca < 0 || sc.cb < 0 || cmc_loop_add_timer(x.loop, 50, 50, step, &sc, &t) < 0 ||
	    cmc_loop_run(x.loop) < 0)
		return 1;
	cmc_loop_del_timer(x.loop, t);
	close(sc.ca);
	cmc_api_close(api);
	cmc_loop_free(x.loop);
	rmdir(dir);
	return tap_done();
}
