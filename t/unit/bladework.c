/* SPDX-License-Identifier: MIT */
/*
 * The blade worker (bladework.h) on a real event loop: jobs are answered in the order
 * they were given, each on the loop; a job of no operations answers once everything
 * before it has; the loop keeps running (a timer fires) while the worker waits on the
 * kernel; stopping answers every job exactly once. With root, against the host's kernel:
 * a blade made, a veth in it looked at, bounced when up, left alone by a kick while it has
 * carrier and kicked once it has none. The blade is removed at the end.
 */
#include "bladework.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLADE "cmc-bw-test"

struct answers {
	struct cmc_loop *loop;
	unsigned order[64], n;		/* job numbers, in the order answered */
	struct cmc_bw_op last[4];	/* the last job's operations */
	unsigned last_n;
	unsigned wait_for;		/* quit the loop after this many answers */
	unsigned ticks;
};

struct tag {
	struct answers *a;
	unsigned number;
};

static void done(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct tag *t = arg;
	struct answers *a = t->a;

	if (a->n < 64)
		a->order[a->n++] = t->number;
	a->last_n = n < 4 ? n : 4;
	memcpy(a->last, ops, a->last_n * sizeof(*ops));
	if (a->n >= a->wait_for)
		cmc_loop_quit(a->loop);
}

static void tick(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	((struct answers *)arg)->ticks++;
}

static void guard(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	cmc_loop_quit(loop);	/* a job never answered: the test fails, it does not hang */
}

/* Runs the loop until `count` answers in all (or 10 s). */
static void run_until(struct answers *a, unsigned count)
{
	struct cmc_timer *g = NULL;

	a->wait_for = count;
	if (a->n >= count)
		return;
	if (cmc_loop_add_timer(a->loop, 10000, 0, guard, a, &g) == 0) {
		(void)!cmc_loop_run(a->loop);
		cmc_loop_del_timer(a->loop, g);
	}
}

static struct cmc_bw_op op_of(enum cmc_bw_kind kind, const char *ifname)
{
	struct cmc_bw_op op = { .kind = kind, .fd = -1 };

	snprintf(op.blade, sizeof(op.blade), "%s", BLADE);
	snprintf(op.ifname, sizeof(op.ifname), "%s", ifname);
	return op;
}

/* No backend: every operation is refused; order, barriers and stopping are the same. */
static void test_order(struct cmc_loop *loop)
{
	struct answers a = { .loop = loop };
	struct tag tags[40];
	struct cmc_bw *bw = NULL;
	struct cmc_bw_op op = op_of(CMC_BW_LOOK, "x");
	bool in_order = true;
	unsigned i;

	tap_is_int(cmc_bw_start(loop, NULL, &bw), 0, "a worker without a backend");
	for (i = 0; i < 20; i++) {
		tags[i] = (struct tag){ &a, i };
		if (cmc_bw_submit(bw, &op, i % 3 == 2 ? 0 : 1, done, &tags[i]) < 0)
			break;
	}
	tap_is_int(i, 20, "20 jobs queued (every third of no operation)");
	tap_ok(cmc_bw_pending(bw) > 0, "pending: %u", cmc_bw_pending(bw));
	run_until(&a, 20);
	tap_is_int(a.n, 20, "all 20 answered on the loop");
	for (i = 0; i < a.n; i++)
		in_order &= a.order[i] == i;
	tap_ok(in_order, "in the order they were given");
	tap_is_int(a.last_n, 1, "the last job's one operation came back");
	tap_is_int(a.last[0].rc, -ENOTSUP, "refused without a backend (%s)", a.last[0].err);
	tap_is_int(cmc_bw_pending(bw), 0, "nothing pending");

	a.n = 0;
	for (i = 0; i < 40; i++) {
		tags[i] = (struct tag){ &a, i };
		(void)!cmc_bw_submit(bw, &op, 1, done, &tags[i]);
	}
	cmc_bw_stop(bw);
	tap_is_int(a.n, 40, "stopped with 40 queued: each answered once (done or cancelled)");
}

static int sh(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "ip -n " BLADE " %s", cmd);
	return system(buf);
}

/* Submits one operation and waits for its answer; the answer in *out. */
static void one(struct cmc_bw *bw, struct answers *a, struct cmc_bw_op op, struct cmc_bw_op *out)
{
	static struct tag t;

	t = (struct tag){ a, a->n };
	memset(out, 0, sizeof(*out));
	out->rc = -ETIME;
	if (cmc_bw_submit(bw, &op, 1, done, &t) < 0)
		return;
	run_until(a, a->n + 1);
	if (a->last_n == 1)
		*out = a->last[0];
}

static void test_netns(struct cmc_loop *loop)
{
	struct answers a = { .loop = loop };
	struct mp_blade_backend *be = NULL;
	struct cmc_bw *bw = NULL;
	struct cmc_timer *t = NULL;
	struct cmc_bw_op r;
	char err[256];

	if (geteuid() != 0 || system("command -v ip >/dev/null 2>&1") != 0) {
		tap_ok(1, "# SKIP the blade checks need root and iproute2");
		return;
	}
	(void)!system("ip netns delete " BLADE " 2>/dev/null");
	if (mp_blade_backend_open("netns", &be, err, sizeof(err)) < 0 || cmc_bw_start(loop, be, &bw) < 0) {
		tap_ok(0, "netns backend and its worker: %s", err);
		mp_blade_backend_close(be);
		return;
	}
	one(bw, &a, op_of(CMC_BW_CREATE, ""), &r);
	tap_is_int(r.rc, 0, "the worker made blade %s (%s)", BLADE, r.err);
	tap_ok(r.fd >= 0, "and opened its stream of link changes");
	if (r.fd >= 0)
		close(r.fd);
	tap_ok(sh("link add cmcbw0 type veth peer name cmcbw1") == 0, "a veth pair in the blade");
	one(bw, &a, op_of(CMC_BW_LOOK, "cmcbw0"), &r);
	tap_ok(r.rc == 0 && r.nd.present && !r.nd.up, "looked at: there, down");
	one(bw, &a, op_of(CMC_BW_BOUNCE, "cmcbw0"), &r);
	tap_ok(r.rc == 0 && !r.bounced, "a bounce of a netdev that is down: left down");
	(void)!sh("link set cmcbw0 up");
	(void)!sh("link set cmcbw1 up");
	one(bw, &a, op_of(CMC_BW_KICK, "cmcbw0"), &r);
	tap_ok(r.rc == 0 && r.nd.carrier && !r.bounced, "a kick while it has carrier: nothing done");
	one(bw, &a, op_of(CMC_BW_BOUNCE, "cmcbw0"), &r);
	tap_ok(r.rc == 0 && r.bounced, "a bounce while up: down and up");
	(void)!sh("link set cmcbw1 down");
	one(bw, &a, op_of(CMC_BW_KICK, "cmcbw0"), &r);
	tap_ok(r.rc == 0 && r.nd.up && !r.nd.carrier && r.bounced, "up without carrier: kicked");
	one(bw, &a, op_of(CMC_BW_LOOK, "cmcbw0"), &r);
	tap_ok(r.rc == 0 && r.nd.up, "and up again after it");

	/* While the worker talks to the kernel, the loop goes on: a 1 ms timer keeps firing. */
	if (cmc_loop_add_timer(loop, 1, 1, tick, &a, &t) == 0) {
		struct tag tags[30];

		unsigned first = a.n;
		bool in_order = true;

		for (unsigned i = 0; i < 30; i++) {
			tags[i] = (struct tag){ &a, i };
			(void)!cmc_bw_submit(bw, (struct cmc_bw_op[]){ op_of(CMC_BW_BOUNCE, "cmcbw0") }, 1, done,
					     &tags[i]);
		}
		run_until(&a, first + 30);
		cmc_loop_del_timer(loop, t);
		/* Each takes the kernel a while: the later ones waited in the queue. */
		for (unsigned i = 0; i < 30; i++)
			in_order &= first + i < a.n && a.order[first + i] == i;
		tap_ok(in_order, "30 bounces queued behind one another: answered in the order given");
	}
	tap_ok(a.ticks > 0, "the loop ran its timer %u times during 30 bounces", a.ticks);
	cmc_bw_stop(bw);
	mp_blade_backend_close(be);
	(void)!system("ip netns delete " BLADE " 2>/dev/null");
}

int main(void)
{
	void (*tests[])(struct cmc_loop *) = { test_order, test_netns };

	/* A loop each, so that one test's leftovers cannot answer in another. */
	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		struct cmc_loop *loop = NULL;

		if (cmc_loop_new(&loop) < 0) {
			tap_ok(0, "a loop");
			break;
		}
		tests[i](loop);
		cmc_loop_free(loop);
	}
	return tap_done();
}
