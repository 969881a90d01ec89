/* SPDX-License-Identifier: MIT */
/*
 * The chassis' intent made real (blades.h): kept in the store, applied to the cards and
 * the blades, and watched (stuck VFs kicked). The rules are the intent's (intent.c);
 * this file decides nothing about what is allowed, only how and in what order it is
 * written, and what happened when it was.
 *
 * Order of a change: store first (one transaction), then the cards, then the blades (on
 * the blade worker, bladework.h: the loop asks, the worker's answers come back to it). A
 * crash after the commit leaves an intent the next start applies in full; a crash
 * before it leaves nothing behind. For the cards, a VF that is released goes back to
 * its default before any VF is given new settings, so a MAC that moves between two VFs
 * is never on both.
 */
#include "blades.h"

#include "blade.h"
#include "bladework.h"
#include "cards.h"
#include "daemon.h"
#include "intent.h"
#include "log.h"
#include "template.h"
#include "vbridge.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PLACE_RETRY_MS 300	/* a VF without its netdev yet: look again */
#define KICK_AFTER_MS 4000	/* up in its blade without carrier (port up) this long: kicked */
#define IDLE_CHECK_MS 1000	/* VMs' ports: their VFs' counters read this often (vm_port_idle) */

/* What happened to an assigned VF (runtime only: the intent is in intent.c). */
struct vf_rt {
	bool used;
	unsigned slot, pf, vf;
	bool placed;			/* its netdev is in `blade` as `ifname` */
	bool placing;			/* asked of the blade worker, not answered yet */
	unsigned long long gen;		/* of the last request for it: older answers are stale */
	char blade[CMC_CONFIG_NAME_MAX + 1];
	char ifname[16];
	char cidr[32];			/* the address it was given there, "" for none */
	unsigned long long placement;	/* b->placements when it was last placed */
	bool failed;			/* the card refused the intent's settings */
	char reason[160];
	unsigned long long kick_at;	/* ms: up without carrier since, kicked at; 0 = fine */
	/* A VM's port on this VF (cmc_blades_vmport_add): its own numbering, so that an answer
	 * about the port never makes the VF's placing stale. */
	int vmport;			/* VMPORT_* */
	unsigned long long vmport_gen;
	char vmport_err[200];
	uint8_t vmport_mac[6];		/* the VM's */
	bool acl;			/* its template's access list asked for on the port (nftables) */
	unsigned long long vmport_until; /* ms: a failed try is tried again until then */
	uint64_t idle_frames;		/* its VF's frames when last seen to change */
	unsigned long long idle_since;	/* ms; 0: not watched yet */
};

/*
 * RETRY: the last try failed, another is due (place_due), PLACE_RETRY_MS later. A VF whose
 * driver is resetting (its settings just changed) has no valid MAC for a moment, and a
 * bridge refuses it. Worse, a VF whose driver gave up waiting for a mailbox answer (igbvf
 * waits about 1 s, then fails every request until it resets) cannot join a bridge: the
 * bridge adds VLAN 1 to each port, which is a mailbox request. Its driver resets only when
 * kicked (KICK_AFTER_MS without carrier), so tries go on for CMC_BLADES_VMPORT_RETRY_MS,
 * which covers a kick and the reset after it several times over on a loaded emulated
 * chassis (6 s, the old budget, did not on a slowed one: doc/emulator.md).
 */
enum { VMPORT_NONE, VMPORT_BUILDING, VMPORT_RETRY, VMPORT_READY, VMPORT_FAILED };

/* A blade's stream of link changes (mp_blade_watch_open), in the daemon's loop. */
struct blade_watch {
	struct cmc_blades *b;
	const char *blade;		/* the configuration's name */
	int fd;
	struct cmc_watch *w;
};

struct cmc_blades {
	struct cmcd *d;
	struct cmc_intent *in;
	struct mp_blade_backend *be;	/* used by the worker only */
	struct cmc_bw *bw;		/* the blade worker: every request to the backend */
	unsigned long long gen;		/* the last request's number */
	unsigned long long placements;	/* VFs placed so far, all told */
	struct cmc_timer *place_timer;
	struct cmc_timer *kick_timer;	/* armed for the earliest kick_at, else idle */
	struct cmc_timer *idle_timer;	/* VMs' ports without frames (daemon.vm_port_idle) */
	struct blade_watch watches[CMC_CONFIG_BLADES_MAX];
	const char *failpoint;
	cmc_blades_placed_fn on_placed;
	void *on_placed_arg;
	bool cards_only;		/* this change touches no blade (a migration's switch-over) */
	struct vf_rt rt[CMC_INTENT_ASSIGN_MAX];
};

/*
 * Fault injection for the crash tests: CMC_FAILPOINT=NAME makes cmcd kill itself when it
 * reaches that point, which is how a test stops it "inside" a change reliably. Only in
 * a test build (CMC_TEST_BUILD): cmcd as packaged for users has no such hook.
 */
static void failpoint(const struct cmc_blades *b, const char *what, const char *where)
{
#ifdef CMC_TEST_BUILD
	char name[64];

	snprintf(name, sizeof(name), "%s:%s", what, where);
	if (b->failpoint && strcmp(b->failpoint, name) == 0) {
		log_warnx("failpoint %s: killing cmcd", name);
		raise(SIGKILL);
	}
#else
	(void)b, (void)what, (void)where;
#endif
}

void cmc_blades_ifname(const struct cmc_assignment *a, char buf[16])
{
	if (a->lane[0])
		snprintf(buf, 16, "ln-%s", a->lane);
	else if (a->pf)
		snprintf(buf, 16, "s%up%uv%u", a->slot, a->pf, a->vf);
	else
		snprintf(buf, 16, "s%uv%u", a->slot, a->vf);
}

struct cmc_intent *cmc_blades_intent(struct cmc_blades *b)
{
	return b ? b->in : NULL;
}

/* --- Runtime state per VF ------------------------------------------------------------ */

static int rt_index(const struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf)
{
	for (unsigned i = 0; i < CMC_INTENT_ASSIGN_MAX; i++)
		if (b->rt[i].used && b->rt[i].slot == slot && b->rt[i].pf == pf && b->rt[i].vf == vf)
			return (int)i;
	return -1;
}

static const struct vf_rt *rt_peek(const struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf)
{
	int i = rt_index(b, slot, pf, vf);

	return i < 0 ? NULL : &b->rt[i];
}

static struct vf_rt *rt_find(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf)
{
	int i = rt_index(b, slot, pf, vf);

	return i < 0 ? NULL : &b->rt[i];
}

static struct vf_rt *rt_get(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf)
{
	struct vf_rt *r = rt_find(b, slot, pf, vf);

	for (unsigned i = 0; !r && i < CMC_INTENT_ASSIGN_MAX; i++)
		if (!b->rt[i].used) {
			r = &b->rt[i];
			*r = (struct vf_rt){ .used = true, .slot = slot, .pf = pf, .vf = vf };
		}
	return r;	/* never NULL: as many entries as the intent has assignments */
}

void cmc_blades_vf_state(const struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf,
			 struct cmc_vf_state *out)
{
	const struct vf_rt *r = b ? rt_peek(b, slot, pf, vf) : NULL;

	*out = (struct cmc_vf_state){ .applied = true };
	if (!r)
		return;
	out->placed = r->placed;
	out->placement = r->placed ? r->placement : 0;
	out->applied = !r->failed;
	snprintf(out->reason, sizeof(out->reason), "%s", r->failed ? r->reason : "");
}

/* --- The blades: placing netdevs ------------------------------------------------------ */

static void carrier_seen(struct vf_rt *r, bool present, bool up, bool carrier);
static void arm_kick_timer(struct cmc_blades *b);
static void vmport_remove(struct cmc_blades *b, struct vf_rt *r, bool idle);
static int vmport_submit(struct cmc_blades *b, struct vf_rt *r, const struct cmc_assignment *a);

/* The VF's PCI address now; -ENODEV when the inventory has no such function. */
static int vf_bdf(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf, char bdf[MP_BDF_STRLEN])
{
	struct mp_addr addr = { .slot = slot, .pf = pf, .vf = (int)vf };
	struct mp_bdf a;

	if (mp_resolve(b->d->inv, &addr, &a, NULL, NULL) < 0)
		return -ENODEV;
	mp_bdf_str(&a, bdf);
	return 0;
}

/* An operation on r's netdev, numbered: an answer to an older one is stale. */
static struct cmc_bw_op vf_op(struct cmc_blades *b, struct vf_rt *r, enum cmc_bw_kind kind)
{
	struct cmc_bw_op op = { .kind = kind, .slot = r->slot, .pf = r->pf, .vf = r->vf };

	op.gen = r->gen = ++b->gen;
	snprintf(op.blade, sizeof(op.blade), "%s", r->blade);
	snprintf(op.ifname, sizeof(op.ifname), "%s", r->ifname);
	return op;
}

/* The VF an answer is about, if the answer is still its latest. */
static struct vf_rt *answered(struct cmc_blades *b, const struct cmc_bw_op *op)
{
	struct vf_rt *r = rt_find(b, op->slot, op->pf, op->vf);

	return r && r->gen == op->gen ? r : NULL;
}

static void place_retry(struct cmc_blades *b)
{
	if (b->place_timer)
		(void)!cmc_timer_arm(b->place_timer, PLACE_RETRY_MS, 0);
}

void cmc_blades_on_placed(struct cmc_blades *b, cmc_blades_placed_fn fn, void *arg)
{
	if (!b)
		return;
	b->on_placed = fn;
	b->on_placed_arg = arg;
}

static void placed(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;
	bool pending = false, any = false;

	for (unsigned i = 0; i < n; i++) {
		const struct cmc_bw_op *op = &ops[i];
		struct vf_rt *r = answered(b, op);

		if (op->kind == CMC_BW_CREATE) {	/* a service's namespace (place_all) */
			if (op->fd >= 0)
				close(op->fd);
			if (op->rc && op->rc != -ECANCELED)
				cmc_events_post(b->d->events, "blade-error", -1, "%s: %s", op->blade, op->err);
			continue;
		}
		if (!r || !r->placing)
			continue;
		r->placing = false;
		if (op->rc == -EAGAIN) {	/* no netdev yet: its driver is still probing */
			pending = true;
		} else if (op->rc == -ECANCELED) {
			continue;
		} else if (op->rc) {
			cmc_events_post(b->d->events, "blade-error", (int)op->slot, "pf %u vf %u into %s: %s",
					op->pf, op->vf, op->blade, *op->err ? op->err : strerror(-op->rc));
		} else {
			const struct cmc_assignment *a = cmc_intent_assignment(b->in, op->slot, op->pf, op->vf);

			r->placed = true;
			r->placement = ++b->placements;
			any = true;
			/* Its link as the worker left it; taken down and up, it has no carrier yet. */
			carrier_seen(r, true, true, op->nd.carrier && !op->bounced);
			cmc_events_post(b->d->events, "vf-placed", (int)op->slot, "pf %u vf %u is %s in blade %s",
					op->pf, op->vf, op->ifname, op->blade);
			/* A VM's VF placed again (its netdev was re-created): back into its bridge. */
			if ((r->vmport == VMPORT_FAILED || r->vmport == VMPORT_READY) && a && a->vm[0]) {
				r->vmport_until = cmc_now_ms() + CMC_BLADES_VMPORT_RETRY_MS;
				(void)vmport_submit(b, r, a);
			}
		}
	}
	if (pending)
		place_retry(b);
	arm_kick_timer(b);
	if (any && b->on_placed)
		b->on_placed(b->on_placed_arg);
}

/* The address a VF gets in its blade, "" for none: a lane's first VF (lower VF number) is
 * .1, the other .2; a domain service's VF has the service's own address. */
static void vf_cidr(struct cmc_blades *b, const struct cmc_assignment *a, char cidr[32])
{
	const struct cmc_lane *l = a->lane[0] ? cmc_intent_lane(b->in, a->lane) : NULL;
	const struct cmc_domain *d = a->service[0] ? cmc_intent_domain(b->in, a->service) : NULL;
	const struct cmc_assignment *ends[2];
	char addr[CMC_DHCP_ADDR_STRLEN];

	cidr[0] = '\0';
	if (l && cmc_intent_lane_ends(b->in, a->lane, ends) == 0)
		snprintf(cidr, 32, "169.254.%u.%u/24", l->net, ends[0] == a ? 1 : 2);
	if (d && d->dhcp.on)
		snprintf(cidr, 32, "%s/%u", cmc_dhcp_addr_str(d->dhcp.server, addr), d->dhcp.prefix);
}

/*
 * Asks the worker to put the netdev of every assigned VF that is not in its blade (nor on
 * its way) into it, as one job. A VF the inventory does not show yet is tried again later.
 */
static void place_all(struct cmc_blades *b)
{
	unsigned count = cmc_intent_assignment_count(b->in), n = 0;
	struct cmc_bw_op *ops;
	bool pending = false;

	if (!b->bw || !count)
		return;
	ops = calloc(2 * count, sizeof(*ops));
	if (!ops) {
		place_retry(b);
		return;
	}
	for (unsigned i = 0; i < count; i++) {
		const struct cmc_assignment *a = cmc_intent_assignment_nth(b->in, i);
		struct vf_rt *r = rt_get(b, a->slot, a->pf, a->vf);
		struct cmc_bw_op *op = &ops[n];
		char bdf[MP_BDF_STRLEN];

		if (r->placed || r->placing)
			continue;
		if (vf_bdf(b, a->slot, a->pf, a->vf, bdf) < 0) {
			pending = true;
			continue;
		}
		/* A domain service's namespace is no configured blade: made here, idempotently,
		 * just before its VF goes in (its link changes are not followed). */
		if (a->service[0]) {
			*op = (struct cmc_bw_op){ .kind = CMC_BW_CREATE, .fd = -1 };
			snprintf(op->blade, sizeof(op->blade), "%s", a->blade);
			op = &ops[++n];
		}
		snprintf(r->blade, sizeof(r->blade), "%s", a->blade);
		cmc_blades_ifname(a, r->ifname);
		*op = vf_op(b, r, CMC_BW_MAP);
		snprintf(op->bdf, sizeof(op->bdf), "%s", bdf);
		memcpy(op->mac, a->mac, 6);
		vf_cidr(b, a, op->cidr);
		snprintf(r->cidr, sizeof(r->cidr), "%s", op->cidr);
		r->placing = true;
		n++;
	}
	if (n && cmc_bw_submit(b->bw, ops, n, placed, b) < 0) {
		for (unsigned i = 0; i < n; i++) {
			struct vf_rt *r = ops[i].kind == CMC_BW_MAP ? rt_find(b, ops[i].slot, ops[i].pf, ops[i].vf) : NULL;

			if (r)
				r->placing = false;
		}
		pending = true;
	}
	free(ops);
	if (pending)
		place_retry(b);
}

static void unplaced(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	(void)arg;
	for (unsigned i = 0; i < n; i++)
		if (ops[i].rc && ops[i].rc != -ECANCELED)
			log_warnx("slot %u pf %u vf %u out of %s: %s", ops[i].slot, ops[i].pf, ops[i].vf,
				  ops[i].blade, ops[i].err);
}

/* Its netdev leaves the blade it was put in (back to the root namespace): asked now, done
 * by the worker after whatever was asked before (a placing on its way included). */
static void unplace(struct cmc_blades *b, struct vf_rt *r)
{
	struct cmc_bw_op op;

	if (!r->placed && !r->placing)
		return;
	op = vf_op(b, r, CMC_BW_UNMAP);
	r->placed = r->placing = false;
	r->kick_at = 0;
	if (vf_bdf(b, r->slot, r->pf, r->vf, op.bdf) == 0 && cmc_bw_submit(b->bw, &op, 1, unplaced, b) < 0)
		log_warnx("slot %u pf %u vf %u out of %s: not asked (out of memory or stopping)", r->slot, r->pf,
			  r->vf, r->blade);
	vmport_remove(b, r, false);
}

static void place_due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_blades *b = arg;
	(void)loop;
	(void)t;

	place_all(b);
	for (unsigned i = 0; i < CMC_INTENT_ASSIGN_MAX; i++) {
		struct vf_rt *r = &b->rt[i];
		const struct cmc_assignment *a;

		if (!r->used || r->vmport != VMPORT_RETRY)
			continue;
		a = cmc_intent_assignment(b->in, r->slot, r->pf, r->vf);
		if (!a || !a->vm[0] || vmport_submit(b, r, a) < 0)
			r->vmport = VMPORT_FAILED;
	}
}

/* Every placed VF looked at, one job: for cmc_blades_kick, the link watch's losses. */
static int look_all(struct cmc_blades *b, const char *blade, cmc_bw_done_fn done)
{
	struct cmc_bw_op *ops = calloc(CMC_INTENT_ASSIGN_MAX, sizeof(*ops));
	unsigned n = 0;
	int rc = 0;

	if (!ops)
		return -ENOMEM;
	for (unsigned i = 0; i < CMC_INTENT_ASSIGN_MAX; i++) {
		struct vf_rt *r = &b->rt[i];

		if (r->used && r->placed && (!blade || strcmp(r->blade, blade) == 0))
			ops[n++] = vf_op(b, r, CMC_BW_LOOK);
	}
	rc = cmc_bw_submit(b->bw, ops, n, done, b);
	free(ops);
	return rc;
}

/* A VF re-created (a card reset) has a new netdev in the root namespace: whatever is no
 * longer in its blade is placed again. */
static void looked_for_missing(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n; i++) {
		struct vf_rt *r = answered(b, &ops[i]);

		if (r && r->placed && ops[i].rc != -ECANCELED && (ops[i].rc < 0 || !ops[i].nd.present))
			r->placed = false;
	}
	place_all(b);
}

void cmc_blades_kick(struct cmc_blades *b)
{
	if (b && b->bw && look_all(b, NULL, looked_for_missing) < 0)
		place_all(b);
}

/* --- Stuck VFs ------------------------------------------------------------------------ */

/*
 * A VF that is up in its blade but has had no carrier for KICK_AFTER_MS while its port has
 * link is stuck: its driver's reset did not get the PF's answer in time (igbvf allows the
 * PF about a millisecond of guest time to raise "reset done", which a PF served from user
 * space under TCG often misses; it then retries only every few seconds). Taking it down
 * and up makes it reset again at once. Driven by the blades' link changes: nothing wakes
 * cmcd while every VF has carrier; a deadline per VF that lost it, one timer for all.
 */
static void arm_kick_timer(struct cmc_blades *b)
{
	unsigned long long next = 0, now = cmc_now_ms();

	for (unsigned i = 0; i < CMC_INTENT_ASSIGN_MAX; i++)
		if (b->rt[i].used && b->rt[i].kick_at && (!next || b->rt[i].kick_at < next))
			next = b->rt[i].kick_at;
	if (b->kick_timer)
		(void)!cmc_timer_arm(b->kick_timer, !next ? 0 : next <= now ? 1 : (unsigned)(next - now), 0);
}

/* The link state of r's netdev is now this: start, keep or drop its kick deadline. */
static void carrier_seen(struct vf_rt *r, bool present, bool up, bool carrier)
{
	if ((!r->placed && !r->placing) || !present || !up || carrier)
		r->kick_at = 0;
	else if (!r->kick_at)
		r->kick_at = cmc_now_ms() + KICK_AFTER_MS;
}

static void kicked(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n; i++) {
		const struct cmc_bw_op *op = &ops[i];
		struct vf_rt *r = answered(b, op);

		if (!r || op->rc == -ECANCELED)
			continue;
		if (op->bounced)
			cmc_events_post(b->d->events, "vf-kicked", (int)op->slot,
					"pf %u vf %u (%s in %s): no carrier for %d s with the port up; reset it",
					op->pf, op->vf, op->ifname, op->blade, KICK_AFTER_MS / 1000);
		else	/* it had carrier after all, or is down, or gone */
			carrier_seen(r, op->rc == 0 && op->nd.present, op->nd.up, op->nd.carrier);
	}
	arm_kick_timer(b);
}

static void kick_due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_blades *b = arg;
	unsigned long long now = cmc_now_ms();
	struct cmc_bw_op *ops = calloc(CMC_INTENT_ASSIGN_MAX, sizeof(*ops));
	unsigned n = 0;
	(void)loop;
	(void)t;

	for (unsigned i = 0; ops && b->bw && i < CMC_INTENT_ASSIGN_MAX; i++) {
		struct vf_rt *r = &b->rt[i];

		if (!r->used || !r->kick_at || r->kick_at > now)
			continue;
		/* Looked at again later either way; its port down, no carrier is expected; still
		 * on its way into the blade, it is not kicked yet. */
		r->kick_at = now + KICK_AFTER_MS;
		if (r->placed && cmc_cards_port_link_up(b->d->cards, r->slot, r->pf))
			ops[n++] = vf_op(b, r, CMC_BW_KICK);
	}
	if (n)
		(void)!cmc_bw_submit(b->bw, ops, n, kicked, b);
	free(ops);
	arm_kick_timer(b);
}

/* The link watch lost changes: every VF of the blade is looked at anew. */
static void looked_at(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n; i++) {
		struct vf_rt *r = answered(b, &ops[i]);

		if (r && ops[i].rc != -ECANCELED)
			carrier_seen(r, ops[i].rc == 0 && ops[i].nd.present, ops[i].nd.up, ops[i].nd.carrier);
	}
	arm_kick_timer(b);
}

static void on_link_change(void *arg, const char *ifname, bool present, bool up, bool carrier)
{
	struct blade_watch *bw = arg;
	struct cmc_blades *b = bw->b;

	if (!ifname) {
		(void)!look_all(b, bw->blade, looked_at);
		return;
	}
	for (unsigned i = 0; i < CMC_INTENT_ASSIGN_MAX; i++) {
		struct vf_rt *r = &b->rt[i];

		/* Placing too: the blade may tell of its arrival before the worker answers. */
		if (r->used && (r->placed || r->placing) && strcmp(r->blade, bw->blade) == 0 &&
		    strcmp(r->ifname, ifname) == 0)
			carrier_seen(r, present, up, carrier);
	}
}

static void blade_link_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct blade_watch *bw = arg;
	int rc;
	(void)events;

	/* Reads the socket only: the backend itself stays the worker's. */
	rc = mp_blade_watch_read(bw->b->be, fd, on_link_change, bw);
	if (rc < 0) {
		log_warn(rc, "blade %s: link changes no longer followed", bw->blade);
		cmc_loop_del_fd(loop, bw->w);
		close(bw->fd);
		bw->w = NULL;
		bw->fd = -1;
	}
	arm_kick_timer(bw->b);
}

/* The blades exist (or say why not); each one's link changes are followed from the loop. */
static void created(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n && i < CMC_CONFIG_BLADES_MAX; i++) {
		struct blade_watch *bw = &b->watches[i];
		const struct cmc_config_blade *cb = &b->d->config->blades[i];

		*bw = (struct blade_watch){ .b = b, .blade = cb->name, .fd = ops[i].fd };
		if (ops[i].rc == -ECANCELED)
			continue;
		if (ops[i].rc) {
			cmc_events_post(b->d->events, "blade-error", -1, "%s: %s", cb->name, ops[i].err);
			continue;
		}
		if (bw->fd < 0) {
			log_warnx("%s: stuck VFs will not be kicked", ops[i].err);
			continue;
		}
		if (cmc_loop_add_fd(b->d->loop, bw->fd, EPOLLIN, blade_link_ready, bw, &bw->w) < 0) {
			close(bw->fd);
			bw->fd = -1;
		}
	}
}

static int create_blades(struct cmc_blades *b)
{
	const struct cmc_config *cfg = b->d->config;
	struct cmc_bw_op ops[CMC_CONFIG_BLADES_MAX];
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->blade_count && i < CMC_CONFIG_BLADES_MAX; i++) {
		ops[n] = (struct cmc_bw_op){ .kind = CMC_BW_CREATE, .fd = -1 };
		snprintf(ops[n++].blade, sizeof(ops[0].blade), "%s", cfg->blades[i].name);
	}
	return n ? cmc_bw_submit(b->bw, ops, n, created, b) : 0;
}

static void unwatch_blades(struct cmc_blades *b)
{
	for (unsigned i = 0; i < CMC_CONFIG_BLADES_MAX; i++) {
		struct blade_watch *bw = &b->watches[i];

		if (bw->w)
			cmc_loop_del_fd(b->d->loop, bw->w);
		if (bw->fd >= 0 && bw->b)
			close(bw->fd);
		bw->w = NULL;
		bw->fd = -1;
	}
}

/* --- The cards ------------------------------------------------------------------------ */

struct owned_list {
	struct cmc_owned_mac *m;
	size_t n, cap;
	int rc;
};

static void owned_add(void *arg, const uint8_t mac[6], unsigned slot, unsigned pf, int vf, bool pf_own)
{
	struct owned_list *l = arg;

	if (pf_own || l->rc)	/* the cards know their PFs' addresses themselves */
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct cmc_owned_mac *m = realloc(l->m, cap * sizeof(*m));

		if (!m) {
			l->rc = -ENOMEM;
			return;
		}
		l->m = m;
		l->cap = cap;
	}
	l->m[l->n] = (struct cmc_owned_mac){ .slot = slot, .pf = pf, .vf = vf };
	memcpy(l->m[l->n++].mac, mac, 6);
}

/*
 * Tells the cards' mailboxes who owns which MAC in the chassis (the intent's list:
 * assignments and static entries). Before every change reaches a card; a failure leaves
 * the previous list, and says so.
 */
static void publish_macs(struct cmc_blades *b)
{
	struct owned_list l = { 0 };

	cmc_intent_foreach_mac(b->in, owned_add, &l);
	if (!l.rc)
		l.rc = cmc_cards_set_owned_macs(b->d->cards, l.m, l.n);
	if (l.rc)
		log_warn(l.rc, "the VFs' mailboxes keep an older list of the chassis' MACs");
	free(l.m);
}

static void nic_config_of(const struct cmc_vf_settings *s, struct nic_vf_config *vc)
{
	*vc = (struct nic_vf_config){ .vlan = s->vlan, .trusted = s->trusted, .spoofchk = s->spoofchk,
				      .max_tx_rate_mbps = s->rate };
	memcpy(vc->mac, s->mac, 6);
}

static void bounced(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n; i++) {
		struct vf_rt *r = answered(b, &ops[i]);

		if (r && ops[i].rc == 0 && !ops[i].nd.present)	/* gone from its blade: placed again */
			r->placed = false;
	}
	if (n)
		place_all(b);
}

/*
 * The VF's settings to the card. A change makes the VF reset and ask for its
 * configuration again: if its netdev is up in the blade, the worker then takes it down and
 * up, so the driver resets at a time of its choosing and asks afresh (igbvf gives the PF
 * about a millisecond of guest time to answer the reset the change caused, which TCG
 * easily misses; without the bounce it would sit without carrier until kicked). A
 * refusal is kept as the VF's reason and posted.
 */
static int write_vf(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf, unsigned *failed,
		    char *err, size_t errlen)
{
	const struct cmc_assignment *a = cmc_intent_assignment(b->in, slot, pf, vf);
	struct vf_rt *r = a ? rt_get(b, slot, pf, vf) : rt_find(b, slot, pf, vf);
	struct cmc_vf_settings s;
	struct nic_vf_config vc;
	struct cmc_bw_op op;
	char why[160];
	int rc;

	cmc_intent_vf_settings(b->in, slot, pf, vf, &s);
	nic_config_of(&s, &vc);
	rc = cmc_cards_vf_set(b->d->cards, slot, pf, vf, &vc, why, sizeof(why));
	if (!rc && r && r->placed && !b->cards_only) {
		op = vf_op(b, r, CMC_BW_BOUNCE);
		(void)!cmc_bw_submit(b->bw, &op, 1, bounced, b);
	}
	if (r && a) {
		r->failed = rc != 0;
		snprintf(r->reason, sizeof(r->reason), "%s", rc ? why : "");
	}
	if (!rc)
		return 0;
	cmc_events_post(b->d->events, "assign-error", (int)slot, "pf %u vf %u: not applied: %s", pf, vf, why);
	if (failed && !(*failed)++)
		snprintf(err, errlen, "%s", why);
	return rc;
}

static int apply_role(struct cmc_blades *b, unsigned slot, unsigned pf, char *err, size_t errlen)
{
	enum cmc_port_role role = cmc_intent_role(b->in, slot, pf);

	return cmc_cards_set_port_mode(b->d->cards, slot, pf,
				       role == CMC_PORT_MIDPLANE ? NIC_PORT_LOOPBACK : NIC_PORT_NORMAL, err, errlen);
}

static void fdb_write(struct cmc_blades *b, const struct cmc_fdb *f, bool add, unsigned *failed, char *err,
		      size_t errlen)
{
	char why[256], mac[VB_MAC_STRLEN];

	if (cmc_cards_fdb_set(b->d->cards, f->slot, f->pf, f->vf, f->mac, add, why, sizeof(why)) == 0)
		return;
	cmc_events_post(b->d->events, "fdb-error", (int)f->slot, "pf %u: static entry %s %s: %s", f->pf,
			vb_mac_str(f->mac, mac), add ? "not added" : "not removed", why);
	if (failed && !(*failed)++)
		snprintf(err, errlen, "%s", why);
}

/* Whether in has the entry f, on the same VF. */
static bool fdb_kept(const struct cmc_intent *in, const struct cmc_fdb *f)
{
	const struct cmc_fdb *g = cmc_intent_fdb(in, f->slot, f->pf, f->mac);

	return g && g->vf == f->vf;
}

/*
 * The entry of now that f, an entry of old, moved to: the same MAC on another VF of the
 * same port, whose settings are the same in old and now (a VM's MAC at a switch-over
 * between two VFs of one card, the destination's VF provisioned before). Such an entry
 * moves in one write, first, before anything else of the port changes; it is not removed
 * and added again, which would leave the MAC unknown to the card (its frames flooded).
 */
static const struct cmc_fdb *fdb_moved(const struct cmc_intent *old, const struct cmc_intent *now,
				       const struct cmc_fdb *f)
{
	const struct cmc_fdb *g = cmc_intent_fdb(now, f->slot, f->pf, f->mac);
	struct cmc_vf_settings was, is;

	if (!g || g->vf == f->vf)
		return NULL;
	cmc_intent_vf_settings(old, f->slot, f->pf, g->vf, &was);
	cmc_intent_vf_settings(now, f->slot, f->pf, g->vf, &is);
	return memcmp(&was, &is, sizeof(was)) == 0 ? g : NULL;
}

static void fdb_move(struct cmc_blades *b, const struct cmc_fdb *was, const struct cmc_fdb *f, unsigned *failed,
		     char *err, size_t errlen)
{
	char why[256], mac[VB_MAC_STRLEN];

	if (cmc_cards_fdb_move(b->d->cards, f->slot, f->pf, was->vf, f->vf, f->mac, why, sizeof(why)) == 0)
		return;
	cmc_events_post(b->d->events, "fdb-error", (int)f->slot, "pf %u: static entry %s not moved from vf %u to"
			" vf %u: %s", f->pf, vb_mac_str(f->mac, mac), was->vf, f->vf, why);
	if (failed && !(*failed)++)
		snprintf(err, errlen, "%s", why);
}

static bool same_place(const struct vf_rt *r, const struct cmc_assignment *a)
{
	char ifname[16];

	if (!a)
		return false;
	cmc_blades_ifname(a, ifname);
	return strcmp(r->blade, a->blade) == 0 && strcmp(r->ifname, ifname) == 0;
}

/* A placed VF whose address in its blade changed (a service's new subnet) is placed
 * again: the worker's MAP is idempotent and sets the address. */
static void readdress(struct cmc_blades *b, const struct cmc_assignment *a)
{
	struct vf_rt *r = rt_find(b, a->slot, a->pf, a->vf);
	char cidr[32];

	if (!r || !r->placed || b->cards_only)
		return;
	vf_cidr(b, a, cidr);
	if (strcmp(cidr, r->cidr) != 0)
		r->placed = false;
}

/*
 * Applies the intent to one port: everything (old NULL: at start, a card put back), or
 * what differs from old. In order: static entries that moved to a VF whose settings
 * stay (fdb_moved) and those that went, VFs that were released
 * (netdev out of the blade, settings back to default), VFs whose settings changed,
 * static entries that came, netdevs into their blades.
 */
static void apply_port(struct cmc_blades *b, const struct cmc_intent *old, unsigned slot, unsigned pf,
		       unsigned num_vfs, unsigned *failed, char *err, size_t errlen)
{
	char why[256];

	if ((!old || cmc_intent_role(old, slot, pf) != cmc_intent_role(b->in, slot, pf)) &&
	    apply_role(b, slot, pf, why, sizeof(why)) < 0) {
		cmc_events_post(b->d->events, "port-role", (int)slot, "pf %u: %s", pf, why);
		if (old && failed && !(*failed)++)
			snprintf(err, errlen, "%s", why);
	}
	for (unsigned i = 0; old && i < cmc_intent_fdb_count(old); i++) {
		const struct cmc_fdb *f = cmc_intent_fdb_nth(old, i), *to;

		if (f->slot != slot || f->pf != pf || fdb_kept(b->in, f))
			continue;
		to = fdb_moved(old, b->in, f);
		if (to)
			fdb_move(b, f, to, failed, err, errlen);
		else
			fdb_write(b, f, false, NULL, err, errlen);	/* gone from the intent either way */
	}
	for (unsigned vf = 0; vf < num_vfs; vf++) {
		const struct cmc_assignment *a = cmc_intent_assignment(b->in, slot, pf, vf);
		struct vf_rt *r = rt_find(b, slot, pf, vf);
		struct cmc_vf_settings was, now;

		/* cards_only: a netdev that leaves its blade is cmc_blades_tidy()'s. */
		if (r && r->placed && !same_place(r, a) && !b->cards_only)
			unplace(b, r);
		if (a)
			continue;
		if (old) {
			cmc_intent_vf_settings(old, slot, pf, vf, &was);
			cmc_intent_vf_settings(b->in, slot, pf, vf, &now);
		}
		if (!old || memcmp(&was, &now, sizeof(was)) != 0)
			(void)!write_vf(b, slot, pf, vf, NULL, err, errlen);
		if (r && !r->placed)
			*r = (struct vf_rt){ 0 };
	}
	for (unsigned vf = 0; vf < num_vfs; vf++) {
		const struct cmc_assignment *a = cmc_intent_assignment(b->in, slot, pf, vf);
		const struct vf_rt *r = rt_peek(b, slot, pf, vf);
		struct cmc_vf_settings was, now;

		if (!a)
			continue;
		if (old) {
			cmc_intent_vf_settings(old, slot, pf, vf, &was);
			cmc_intent_vf_settings(b->in, slot, pf, vf, &now);
		}
		readdress(b, a);
		if (!old || !r || r->failed || memcmp(&was, &now, sizeof(was)) != 0)
			(void)!write_vf(b, slot, pf, vf, failed, err, errlen);
	}
	for (unsigned i = 0; i < cmc_intent_fdb_count(b->in); i++) {
		const struct cmc_fdb *f = cmc_intent_fdb_nth(b->in, i);
		const struct cmc_fdb *was = old ? cmc_intent_fdb(old, f->slot, f->pf, f->mac) : NULL;

		/* Kept on its VF, or moved to it above: nothing to add. */
		if (f->slot == slot && f->pf == pf && !(was && (was->vf == f->vf || fdb_moved(old, b->in, was))))
			fdb_write(b, f, true, failed, err, errlen);
	}
}

/*
 * A port whose card is out of its slot (or no longer driven): what changed for its VFs
 * is kept, marked not applied, and goes on the card when it comes back.
 */
static void port_absent(struct cmc_blades *b, const struct cmc_intent *old, unsigned slot, unsigned pf,
			unsigned num_vfs, unsigned *failed, char *err, size_t errlen)
{
	for (unsigned vf = 0; vf < num_vfs; vf++) {
		const struct cmc_assignment *a = cmc_intent_assignment(b->in, slot, pf, vf);
		struct cmc_vf_settings was, now;
		struct vf_rt *r;

		if (!a)
			continue;
		cmc_intent_vf_settings(b->in, slot, pf, vf, &now);
		if (old)
			cmc_intent_vf_settings(old, slot, pf, vf, &was);
		if (old && memcmp(&was, &now, sizeof(was)) == 0)
			continue;
		r = rt_get(b, slot, pf, vf);
		r->failed = true;
		snprintf(r->reason, sizeof(r->reason), "slot %u pf %u: the card is not in its slot", slot, pf);
		if (failed && !(*failed)++)
			snprintf(err, errlen, "%s", r->reason);
	}
}

/* Applies the intent to every port (old NULL: in full), then places what is not placed. */
static void apply(struct cmc_blades *b, const struct cmc_intent *old, const char *what, unsigned *failed,
		  char *err, size_t errlen)
{
	unsigned slot, pf, n;

	/* The mailboxes learn the new owners before the cards change (a VF asking meanwhile). */
	publish_macs(b);
	for (unsigned i = 0; cmc_intent_port_nth(b->in, i, &slot, &pf, &n) == 0; i++)
		if (cmc_cards_port(b->d->cards, slot, pf, NULL))
			apply_port(b, old, slot, pf, n, failed, err, errlen);
		else
			port_absent(b, old, slot, pf, n, failed, err, errlen);
	failpoint(b, what, "after-card");
	if (!b->cards_only)
		place_all(b);
	failpoint(b, what, "after-apply");
}

/* --- The store ------------------------------------------------------------------------ */

struct keyset {
	char (*k)[CMC_INTENT_KEY_MAX];
	size_t n, cap;
	struct cmc_store *st;
	int rc;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A record of the intent: into the store if it differs there, and into the key set. */
static void sync_record(void *arg, const char *key, const char *value)
{
	struct keyset *ks = arg;
	const char *cur = cmc_store_get(ks->st, key);

	if (ks->rc)
		return;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 128;
		void *k = realloc(ks->k, cap * sizeof(*ks->k));

		if (!k) {
			ks->rc = -ENOMEM;
			return;
		}
		ks->k = k;
		ks->cap = cap;
	}
	snprintf(ks->k[ks->n++], CMC_INTENT_KEY_MAX, "%s", key);
	if (!cur || strcmp(cur, value) != 0)
		ks->rc = cmc_store_set(ks->st, key, value);
}

struct stale {
	const struct keyset *ks;
	char (*k)[CMC_INTENT_KEY_MAX];
	size_t n, cap;
};

static int find_stale(const char *key, const char *value, void *arg)
{
	struct stale *s = arg;
	(void)value;

	if (bsearch(key, s->ks->k, s->ks->n, sizeof(*s->ks->k), key_cmp))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *k = realloc(s->k, cap * sizeof(*s->k));

		if (!k)
			return -ENOMEM;
		s->k = k;
		s->cap = cap;
	}
	snprintf(s->k[s->n++], CMC_INTENT_KEY_MAX, "%s", key);
	return 0;
}

/*
 * Makes the store hold exactly the intent's records, in one transaction. A stored record
 * the intent does not hold (removed, or dropped at load) goes. 0, or -errno with the
 * store rolled back and err saying why.
 */
static int store_sync(struct cmc_blades *b, const char *what, char *err, size_t errlen)
{
	struct keyset ks = { .st = b->d->store };
	struct stale st = { .ks = &ks };
	int rc;

	cmc_intent_foreach_record(b->in, sync_record, &ks);
	rc = ks.rc;
	if (!rc)
		qsort(ks.k, ks.n, sizeof(*ks.k), key_cmp);
	for (unsigned i = 0; !rc && cmc_intent_prefixes[i]; i++)
		rc = cmc_store_foreach(b->d->store, cmc_intent_prefixes[i], find_stale, &st);
	for (size_t i = 0; !rc && i < st.n; i++)
		rc = cmc_store_del(b->d->store, st.k[i]);
	free(ks.k);
	free(st.k);
	failpoint(b, what, "before-commit");
	if (!rc && cmc_store_dirty(b->d->store))
		rc = cmc_store_commit(b->d->store);
	if (rc) {
		snprintf(err, errlen, "the store refused the change: %s",
			 *cmc_store_error(b->d->store) ? cmc_store_error(b->d->store) : strerror(-rc));
		cmc_store_rollback(b->d->store);
		return rc;
	}
	failpoint(b, what, "after-commit");
	return 0;
}

/* --- Changes -------------------------------------------------------------------------- */

int cmc_blades_change_begin(struct cmc_blades *b, struct cmc_intent **old)
{
	return b ? cmc_intent_dup(b->in, old) : -ENODEV;
}

void cmc_blades_change_abort(struct cmc_blades *b, struct cmc_intent *old)
{
	cmc_intent_restore(b->in, old);
	cmc_intent_free(old);
}

int cmc_blades_change_end(struct cmc_blades *b, struct cmc_intent *old, const char *what,
			  unsigned *not_applied, char *err, size_t errlen)
{
	unsigned failed = 0;
	int rc = store_sync(b, what, err, errlen);

	if (rc) {
		cmc_blades_change_abort(b, old);
		return -EIO;
	}
	apply(b, old, what, &failed, err, errlen);
	cmc_intent_free(old);
	if (not_applied)
		*not_applied = failed;
	return 0;
}

struct barrier {
	cmc_blades_done_fn fn;
	void *arg;
};

static void barrier_reached(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct barrier x = *(struct barrier *)arg;
	(void)ops;
	(void)n;

	free(arg);
	x.fn(x.arg);
}

int cmc_blades_when_done(struct cmc_blades *b, cmc_blades_done_fn fn, void *arg)
{
	struct barrier *x;

	if (!b || !cmc_bw_pending(b->bw)) {
		fn(arg);
		return 0;
	}
	x = malloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	*x = (struct barrier){ fn, arg };
	if (cmc_bw_submit(b->bw, NULL, 0, barrier_reached, x) < 0) {
		free(x);
		fn(arg);	/* stopping: nothing more will be done */
	}
	return 0;
}

int cmc_blades_mac_not_granted(struct cmc_blades *b, const uint8_t mac[6], unsigned slot, unsigned pf, int vf,
			       char *err, size_t errlen)
{
	unsigned s, p, v;
	char ms[VB_MAC_STRLEN];

	if (cmc_cards_mac_granted(b->d->cards, mac, &s, &p, &v) < 0 || (s == slot && p == pf && (int)v == vf))
		return 0;
	snprintf(err, errlen, "MAC %s is held by slot %u pf %u vf %u through its mailbox", vb_mac_str(mac, ms), s, p, v);
	return -EADDRINUSE;
}

int cmc_blades_change_finish(struct cmc_blades *b, struct cmc_intent *old, int rc, const char *what, char *err,
			     size_t errlen)
{
	unsigned failed = 0;
	char why[256];

	if (rc) {
		cmc_blades_change_abort(b, old);
		return rc;
	}
	if (cmc_blades_change_end(b, old, what, &failed, err, errlen) < 0)
		return -EIO;
	if (failed) {
		snprintf(why, sizeof(why), "kept, but not applied: %s", err);
		snprintf(err, errlen, "%s", why);
		return -EIO;
	}
	return 0;
}

struct later_reply {
	struct cmc_api_pending *p;
	enum cmc_status st;
	char message[sizeof(((struct cmc_api_request *)0)->message)];
};

static void reply_now(void *arg)
{
	struct later_reply *r = arg;

	cmc_api_finish(r->p, r->st, r->st == CMC_OK ? NULL : r->message, NULL);
	free(r);
}

enum cmc_status cmc_blades_reply(struct cmc_blades *b, struct cmc_api_request *req, int rc, const char *err)
{
	enum cmc_status st = rc ? cmc_api_refuse(req, CMC_REFUSED, "%s", err) : CMC_OK;
	struct later_reply *r;

	/* Refused before the store: nothing changed, nothing for the blades to do. */
	if ((rc && rc != -EIO) || !b || !cmc_bw_pending(b->bw) || !(r = calloc(1, sizeof(*r))))
		return st;
	r->st = st;
	snprintf(r->message, sizeof(r->message), "%s", req->message);
	r->p = cmc_api_defer(req);
	if (!r->p) {
		free(r);
		return st;
	}
	if (cmc_blades_when_done(b, reply_now, r) < 0)
		reply_now(r);
	return st;
}

enum cmc_status cmc_blades_command_end(struct cmc_blades *b, struct cmc_api_request *req,
				       struct cmc_intent *old, int rc, const char *what, char *err,
				       size_t errlen)
{
	return cmc_blades_reply(b, req, cmc_blades_change_finish(b, old, rc, what, err, errlen), err);
}

/* --- Asked by others ------------------------------------------------------------------ */

int cmc_blades_set_trust(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf, bool on,
			 bool *kept, char *err, size_t errlen)
{
	const struct cmc_assignment *a = b ? cmc_intent_assignment(b->in, slot, pf, vf) : NULL;
	struct cmc_assignment n;
	struct cmc_intent *old;
	unsigned failed;
	int rc;

	*kept = a != NULL;
	if (!a)	/* a VF no one was given: the card's setting, for as long as the card runs */
		return cmc_cards_set_trust(b ? b->d->cards : NULL, slot, pf, vf, on, err, errlen);
	if (a->trusted == on)
		return 0;
	n = *a;
	n.trusted = on;
	rc = cmc_blades_change_begin(b, &old);
	if (rc)
		return rc;
	rc = cmc_intent_update(b->in, &n, err, errlen);
	if (rc) {
		cmc_blades_change_abort(b, old);
		return rc;
	}
	rc = cmc_blades_change_end(b, old, "trust", &failed, err, errlen);
	return rc ? rc : failed ? -EIO : 0;
}

unsigned cmc_blades_functions(const struct cmc_blades *b, const char *blade, unsigned *placed)
{
	unsigned n = 0, p = 0;

	for (unsigned i = 0; b && i < cmc_intent_assignment_count(b->in); i++) {
		const struct cmc_assignment *a = cmc_intent_assignment_nth(b->in, i);
		const struct vf_rt *r;

		if (strcmp(a->blade, blade) != 0)
			continue;
		n++;
		r = rt_peek(b, a->slot, a->pf, a->vf);
		p += r && r->placed;
	}
	if (placed)
		*placed = p;
	return n;
}

void cmc_blades_foreach_assignment(const struct cmc_blades *b, cmc_assignment_fn fn, void *arg)
{
	for (unsigned i = 0; b && i < cmc_intent_assignment_count(b->in); i++) {
		const struct cmc_assignment *a = cmc_intent_assignment_nth(b->in, i);
		const struct vf_rt *r = rt_peek(b, a->slot, a->pf, a->vf);
		struct cmc_assignment_view v = {
			.slot = a->slot, .pf = a->pf, .vf = a->vf, .blade = a->blade,
			.vlan = cmc_intent_vlan_of(b->in, a), .rate = a->rate, .trusted = a->trusted,
			.lane = a->lane, .vm = a->vm, .service = a->service, .tmpl = a->tmpl, .placed = r && r->placed,
		};

		memcpy(v.mac, a->mac, 6);
		fn(arg, &v);
	}
}

int cmc_blades_lane_between(struct cmc_blades *b, const char *a, const char *z, char lane[16],
			    char addr_a[16], char addr_z[16])
{
	for (unsigned i = 0; b && i < cmc_intent_lane_count(b->in); i++) {
		const struct cmc_lane *l = cmc_intent_lane_nth(b->in, i);
		const struct cmc_assignment *e[2], *ea, *ez;
		const struct vf_rt *ra, *rz;

		if (cmc_intent_lane_ends(b->in, l->name, e) < 0 || !e[1])
			continue;
		ea = strcmp(e[0]->blade, a) == 0 ? e[0] : strcmp(e[1]->blade, a) == 0 ? e[1] : NULL;
		ez = ea == e[0] ? e[1] : e[0];
		if (!ea || strcmp(ez->blade, z) != 0)
			continue;
		snprintf(lane, 16, "%s", l->name);
		/* The lower VF number is .1 (see place()). */
		snprintf(addr_a, 16, "169.254.%u.%u", l->net, ea == e[0] ? 1 : 2);
		snprintf(addr_z, 16, "169.254.%u.%u", l->net, ez == e[0] ? 1 : 2);
		ra = rt_peek(b, ea->slot, ea->pf, ea->vf);
		rz = rt_peek(b, ez->slot, ez->pf, ez->vf);
		return ra && ra->placed && rz && rz->placed ? 0 : -EAGAIN;
	}
	return -ENOENT;
}

int cmc_blades_lane_port(struct cmc_blades *b, const char *lane, unsigned *slot, unsigned *pf)
{
	const struct cmc_lane *l = b ? cmc_intent_lane(b->in, lane) : NULL;

	if (!l)
		return -ENOENT;
	*slot = l->slot;
	*pf = l->pf;
	return 0;
}

/* --- VM profiles ------------------------------------------------------------------------ */

/* The profile's settings on its VF; the VF keeps its own MAC (the VM's is an entry). */
static void profile_fill(struct cmc_assignment *a, const struct cmc_profile *p)
{
	a->vlan = p->vlan;
	a->rate = p->rate;
	a->trusted = p->trusted;
	snprintf(a->tmpl, sizeof(a->tmpl), "%s", p->tmpl);
}

/* The VM's MAC as the static entry of its VF: the profile live (on the scratch intent). */
static int profile_entry(struct cmc_blades *b, const struct cmc_assignment *a, const struct cmc_profile *p,
			 char *err, size_t errlen)
{
	struct cmc_fdb f = { .slot = a->slot, .pf = a->pf, .vf = a->vf };

	memcpy(f.mac, p->mac, 6);
	return cmc_intent_fdb_add(b->in, &f, err, errlen);
}

int cmc_blades_profile_add(struct cmc_blades *b, const char *vm, const char *blade,
			   const struct cmc_profile *p, bool live, unsigned loc[3], char *err,
			   size_t errlen)
{
	struct cmc_assignment want = { 0 }, n;
	struct cmc_intent *old;
	int rc;

	profile_fill(&want, p);
	memcpy(want.mac, p->mac, 6);	/* the plan checks who owns the VM's MAC */
	rc = cmc_intent_profile_plan(b->in, vm, blade, &want, live, &n, err, errlen);
	if (rc)
		return rc;
	rc = cmc_blades_change_begin(b, &old);
	if (rc)
		return rc;
	rc = cmc_intent_assign(b->in, &n, err, errlen);
	if (!rc && live)
		rc = profile_entry(b, &n, p, err, errlen);
	rc = cmc_blades_change_finish(b, old, rc, "vm-net", err, errlen);
	if (rc == -EIO && cmc_intent_assignment(b->in, n.slot, n.pf, n.vf)) {
		/* Kept but the card refused it: a profile half there helps no VM. */
		unsigned at[3] = { n.slot, n.pf, n.vf };
		char ignored[128];

		(void)cmc_blades_profile_remove(b, at, ignored, sizeof(ignored));
		return rc;
	}
	if (!rc) {
		loc[0] = n.slot;
		loc[1] = n.pf;
		loc[2] = n.vf;
	}
	return rc;
}

int cmc_blades_profile_set(struct cmc_blades *b, const unsigned loc[3], const struct cmc_profile *p,
			   bool live, char *err, size_t errlen)
{
	const struct cmc_assignment *a = cmc_intent_assignment(b->in, loc[0], loc[1], loc[2]);
	struct cmc_assignment n;
	struct cmc_intent *old;
	int rc;

	if (!a || !a->vm[0]) {
		snprintf(err, errlen, "slot %u pf %u vf %u carries no VM profile", loc[0], loc[1], loc[2]);
		return -ENOENT;
	}
	(void)live;	/* live or staged, the VF keeps its MAC: only the entry tells */
	n = *a;
	profile_fill(&n, p);
	rc = cmc_blades_change_begin(b, &old);
	if (rc)
		return rc;
	return cmc_blades_change_finish(b, old, cmc_intent_update(b->in, &n, err, errlen), "vm-net", err, errlen);
}

int cmc_blades_profile_remove(struct cmc_blades *b, const unsigned loc[3], char *err, size_t errlen)
{
	struct cmc_intent *old;
	int rc;

	if (!cmc_intent_assignment(b->in, loc[0], loc[1], loc[2]))
		return 0;
	rc = cmc_blades_change_begin(b, &old);
	if (rc)
		return rc;
	return cmc_blades_change_finish(b, old, cmc_intent_unassign(b->in, loc[0], loc[1], loc[2], true, err, errlen),
			     "vm-net", err, errlen);
}

int cmc_blades_profile_move(struct cmc_blades *b, const unsigned from[3], const unsigned to[3],
			    const struct cmc_profile *p, char *err, size_t errlen)
{
	const struct cmc_assignment *a = cmc_intent_assignment(b->in, to[0], to[1], to[2]);
	struct cmc_assignment n;
	struct cmc_intent *old;
	int rc;

	if (!a || !a->vm[0]) {
		snprintf(err, errlen, "slot %u pf %u vf %u carries no VM profile", to[0], to[1], to[2]);
		return -ENOENT;
	}
	n = *a;
	profile_fill(&n, p);
	rc = cmc_blades_change_begin(b, &old);
	if (rc)
		return rc;
	/* The source's VF goes, and its entry (the VM's MAC) with it; the entry comes on the
	 * destination's VF: one change, one store transaction. */
	rc = cmc_intent_unassign(b->in, from[0], from[1], from[2], true, err, errlen);
	if (!rc)
		rc = cmc_intent_update(b->in, &n, err, errlen);
	if (!rc)
		rc = profile_entry(b, &n, p, err, errlen);
	b->cards_only = true;
	rc = cmc_blades_change_finish(b, old, rc, "profile-move", err, errlen);
	b->cards_only = false;
	return rc;
}

void cmc_blades_tidy(struct cmc_blades *b)
{
	for (unsigned i = 0; b && i < CMC_INTENT_ASSIGN_MAX; i++) {
		struct vf_rt *r = &b->rt[i];
		const struct cmc_assignment *a;

		if (!r->used)
			continue;
		a = cmc_intent_assignment(b->in, r->slot, r->pf, r->vf);
		if (r->placed && !same_place(r, a))
			unplace(b, r);
		if (!a)
			*r = (struct vf_rt){ 0 };
	}
	if (b)
		place_all(b);
}


/* --- VMs' ports on the blades (doc/vm-network.md) ---------------------------------------- */

/*
 * The access list of a VM's template on its port (doc/templates.md): an nftables table of
 * the port's own in the port's blade, written whole by `nft -f -` on the blade worker,
 * after the port is built, and removed after the port. These helpers build the worker's
 * operations and take its answers; the port's functions below call them.
 */

/* The rules for the profile a (its template's) on the port at loc: 1 (op filled), 0 (a
 * names no template: no rules), -errno (err says why). */
static int acl_op(struct cmc_blades *b, const struct cmc_assignment *a, const unsigned loc[3], const uint8_t mac[6],
		  struct cmc_bw_op *op, char *err, size_t errlen)
{
	const struct cmc_template *t = a->tmpl[0] ? cmc_intent_template(b->in, a->tmpl) : NULL;
	char bridge[16], table[32];
	int n;

	if (!t)
		return 0;
	*op = (struct cmc_bw_op){ .kind = CMC_BW_NFT, .slot = loc[0], .pf = loc[1], .vf = loc[2] };
	snprintf(op->blade, sizeof(op->blade), "%s", a->blade);
	cmc_blades_vmport_names(loc, bridge, op->tap);
	cmc_template_nft_table(op->tap, table);
	n = cmc_template_nft(t, table, op->tap, mac, op->nft, sizeof(op->nft));
	if (n < 0 || (size_t)n >= sizeof(op->nft)) {
		snprintf(err, errlen, "template %s: its rules for %s do not fit (%d bytes)", t->name, op->tap, n);
		return n < 0 ? n : -E2BIG;
	}
	return 1;
}

/* The rules of the port at loc removed (the port goes): false when it had none. */
static bool acl_remove_op(struct vf_rt *r, const unsigned loc[3], struct cmc_bw_op *op)
{
	char bridge[16], table[32];

	if (!r->acl)
		return false;
	r->acl = false;
	*op = (struct cmc_bw_op){ .kind = CMC_BW_NFT, .slot = loc[0], .pf = loc[1], .vf = loc[2] };
	snprintf(op->blade, sizeof(op->blade), "%s", r->blade);
	cmc_blades_vmport_names(loc, bridge, op->tap);
	cmc_template_nft_table(op->tap, table);
	return cmc_template_nft_remove(table, op->nft, sizeof(op->nft)) > 0;
}

/* The worker applied a port's rules (r its VF, still the one asked about). */
static void acl_applied(struct cmc_blades *b, struct vf_rt *r, const struct cmc_bw_op *op)
{
	if (op->rc == -ECANCELED)
		return;
	if (op->rc) {
		r->vmport = VMPORT_FAILED;
		snprintf(r->vmport_err, sizeof(r->vmport_err), "access list on %s: %.160s", op->tap, op->err);
		cmc_events_post(b->d->events, "blade-error", (int)op->slot, "pf %u vf %u: access list on %s on %s: %s",
				op->pf, op->vf, op->tap, op->blade, op->err);
		return;
	}
	cmc_events_post(b->d->events, "vm-acl", (int)op->slot, "pf %u vf %u: access list on %s on %s", op->pf, op->vf,
			op->tap, op->blade);
}

static void acl_removed(struct cmc_blades *b, const struct cmc_bw_op *op)
{
	if (op->rc)
		cmc_events_post(b->d->events, "blade-error", (int)op->slot, "pf %u vf %u: removing the access list of %s "
				"on %s: %s", op->pf, op->vf, op->tap, op->blade, op->err);
}

static void acl_refreshed(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n; i++) {
		const struct cmc_bw_op *op = &ops[i];

		if (op->rc == -ECANCELED)
			continue;
		if (op->rc)
			cmc_events_post(b->d->events, "blade-error", (int)op->slot, "pf %u vf %u: access list on %s "
					"on %s: %s", op->pf, op->vf, op->tap, op->blade, op->err);
		else
			cmc_events_post(b->d->events, "vm-acl", (int)op->slot, "pf %u vf %u: access list on %s on %s "
					"changed", op->pf, op->vf, op->tap, op->blade);
	}
}

int cmc_blades_acl_refresh(struct cmc_blades *b, const char *tmpl)
{
	static struct cmc_bw_op op;	/* large (the ruleset); the loop's thread only */
	char err[160] = "";
	int rc = 0;

	for (unsigned i = 0; i < CMC_INTENT_ASSIGN_MAX; i++) {
		struct vf_rt *r = &b->rt[i];
		const struct cmc_assignment *a;
		unsigned loc[3];

		if (!r->used || r->vmport == VMPORT_NONE || r->vmport == VMPORT_FAILED)
			continue;
		a = cmc_intent_assignment(b->in, r->slot, r->pf, r->vf);
		if (!a || strcmp(a->tmpl, tmpl) != 0)
			continue;
		loc[0] = r->slot;
		loc[1] = r->pf;
		loc[2] = r->vf;
		if (acl_op(b, a, loc, r->vmport_mac, &op, err, sizeof(err)) < 0) {
			log_warnx("%s", err);
			continue;
		}
		r->acl = true;
		if (cmc_bw_submit(b->bw, &op, 1, acl_refreshed, b) < 0)
			rc = -ESHUTDOWN;
	}
	return rc;
}

void cmc_blades_vmport_names(const unsigned loc[3], char bridge[16], char tap[16])
{
	struct cmc_assignment a = { .slot = loc[0], .pf = loc[1], .vf = loc[2] };
	char vf[16];

	cmc_blades_ifname(&a, vf);
	snprintf(bridge, 16, "vbr-%.11s", vf);
	snprintf(tap, 16, "vtp-%.11s", vf);
}

static void vmport_built(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n; i++) {
		const struct cmc_bw_op *op = &ops[i];
		struct vf_rt *r = rt_find(b, op->slot, op->pf, op->vf);

		if (!r || r->vmport_gen != op->gen)
			continue;
		if (op->kind == CMC_BW_NFT) {	/* after the port's own operation, in one job */
			if (r->vmport == VMPORT_READY)
				acl_applied(b, r, op);
			continue;
		}
		if (r->vmport != VMPORT_BUILDING)
			continue;
		if (op->rc && op->rc != -ECANCELED && cmc_now_ms() < r->vmport_until) {
			r->vmport = VMPORT_RETRY;
			snprintf(r->vmport_err, sizeof(r->vmport_err), "%s", op->err);
			place_retry(b);
			continue;
		}
		r->vmport = op->rc ? VMPORT_FAILED : VMPORT_READY;
		snprintf(r->vmport_err, sizeof(r->vmport_err), "%s", op->rc ? op->err : "");
		if (op->rc && op->rc != -ECANCELED)
			cmc_events_post(b->d->events, "blade-error", (int)op->slot, "pf %u vf %u: VM port %s on %s: %s",
					op->pf, op->vf, op->bridge, op->blade, op->err);
		else if (!op->rc)
			cmc_events_post(b->d->events, "vm-port", (int)op->slot,
					"pf %u vf %u: %s joins %s and tap %s on %s", op->pf, op->vf, op->bridge,
					op->ifname, op->tap, op->blade);
	}
}

/* Asks the worker for r's port (a's blade and VF netdev, r->vmport_mac), after whatever
 * was asked before. 0 or -ESHUTDOWN. */
static int vmport_submit(struct cmc_blades *b, struct vf_rt *r, const struct cmc_assignment *a)
{
	struct cmc_bw_op op = { .kind = CMC_BW_VMPORT, .slot = r->slot, .pf = r->pf, .vf = r->vf };
	static struct cmc_bw_op ops[2];	/* large (the ruleset); the loop's thread only */
	unsigned loc[3] = { r->slot, r->pf, r->vf };
	char err[160];
	int acl;

	snprintf(op.blade, sizeof(op.blade), "%s", a->blade);
	cmc_blades_ifname(a, op.ifname);
	cmc_blades_vmport_names(loc, op.bridge, op.tap);
	memcpy(op.mac, r->vmport_mac, 6);
	op.gen = r->vmport_gen = ++b->gen;
	/* The port, then its template's access list on it, in one job. A port whose rules
	 * cannot be made or applied is a failed port: its VM does not start there. */
	ops[0] = op;
	acl = acl_op(b, a, loc, r->vmport_mac, &ops[1], err, sizeof(err));
	if (acl < 0) {
		r->vmport = VMPORT_FAILED;
		snprintf(r->vmport_err, sizeof(r->vmport_err), "%s", err);
		return acl;
	}
	ops[1].gen = op.gen;
	r->acl = acl > 0;
	if (!b->bw || cmc_bw_submit(b->bw, ops, acl > 0 ? 2 : 1, vmport_built, b) < 0)
		return -ESHUTDOWN;
	r->vmport = VMPORT_BUILDING;
	r->vmport_err[0] = '\0';
	return 0;
}

int cmc_blades_vmport_add(struct cmc_blades *b, const unsigned loc[3], const uint8_t mac[6], char *err,
			  size_t errlen)
{
	const struct cmc_assignment *a = cmc_intent_assignment(b->in, loc[0], loc[1], loc[2]);
	struct vf_rt *r;
	int rc;

	if (!a || !a->vm[0]) {
		snprintf(err, errlen, "slot %u pf %u vf %u carries no VM profile", loc[0], loc[1], loc[2]);
		return -ENOENT;
	}
	r = rt_get(b, loc[0], loc[1], loc[2]);
	memcpy(r->vmport_mac, mac, 6);
	r->vmport_until = cmc_now_ms() + CMC_BLADES_VMPORT_RETRY_MS;
	/* After the job that places the VF (queued by the change that assigned it); should
	 * the VF be placed again later (re-created), placed() asks for the port again. */
	rc = vmport_submit(b, r, a);
	if (rc == -ESHUTDOWN)
		snprintf(err, errlen, "the blade worker is stopping");
	else if (rc)
		snprintf(err, errlen, "%s", r->vmport_err);	/* its access list could not be made */
	if (rc)
		return rc;
	return 0;
}

int cmc_blades_vmport_state(const struct cmc_blades *b, const unsigned loc[3], char *err, size_t errlen)
{
	const struct vf_rt *r = rt_peek(b, loc[0], loc[1], loc[2]);

	if (!r || r->vmport == VMPORT_NONE) {
		snprintf(err, errlen, "slot %u pf %u vf %u has no VM port", loc[0], loc[1], loc[2]);
		return -ENOENT;
	}
	if (r->vmport == VMPORT_FAILED) {
		snprintf(err, errlen, "%s", r->vmport_err);
		return -EIO;
	}
	return r->vmport == VMPORT_READY;
}

static void vmport_removed(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	for (unsigned i = 0; i < n; i++) {
		const struct cmc_bw_op *op = &ops[i];

		if (op->rc == -ECANCELED)
			continue;
		if (op->kind == CMC_BW_NFT) {
			acl_removed(b, op);
			continue;
		}
		if (op->rc)
			cmc_events_post(b->d->events, "blade-error", (int)op->slot, "pf %u vf %u: removing %s on %s: %s",
					op->pf, op->vf, op->bridge, op->blade, op->err);
		else
			cmc_events_post(b->d->events, op->gen ? "vm-port-idle" : "vm-port-removed", (int)op->slot,
					"pf %u vf %u: %s and tap %s removed from %s (%s)", op->pf, op->vf, op->bridge,
					op->tap, op->blade, op->gen ? "no frame for daemon.vm_port_idle" : "its VM left");
	}
}

/* The VF leaves its blade (unplace), or its port was idle: the VM's port goes, after
 * whatever was asked before. gen tells the answer which (1: idle). */
static void vmport_remove(struct cmc_blades *b, struct vf_rt *r, bool idle)
{
	struct cmc_bw_op op = { .kind = CMC_BW_VMPORT_DEL, .slot = r->slot, .pf = r->pf, .vf = r->vf, .gen = idle };
	static struct cmc_bw_op ops[2];	/* large (the ruleset); the loop's thread only */
	unsigned loc[3] = { r->slot, r->pf, r->vf }, n;

	if (r->vmport == VMPORT_NONE)
		return;
	r->vmport = VMPORT_NONE;
	r->idle_since = 0;
	snprintf(op.blade, sizeof(op.blade), "%s", r->blade);
	cmc_blades_vmport_names(loc, op.bridge, op.tap);
	ops[0] = op;
	n = acl_remove_op(r, loc, &ops[1]) ? 2 : 1;
	if (cmc_bw_submit(b->bw, ops, n, vmport_removed, b) < 0)
		log_warnx("slot %u pf %u vf %u: %s on %s not removed (stopping)", r->slot, r->pf, r->vf, op.bridge,
			  r->blade);
}

/* The VM's port on r goes idle: its entry (the VM's MAC) leaves the intent, then its
 * bridge and tap leave the blade. */
static void vmport_idle(struct cmc_blades *b, struct vf_rt *r)
{
	struct cmc_intent *in = b->in, *old;
	char err[256] = "";
	int rc = cmc_blades_change_begin(b, &old);

	if (rc)
		return;		/* out of memory: tried again at the next check */
	for (unsigned i = cmc_intent_fdb_count(in); !rc && i-- > 0;) {
		const struct cmc_fdb *f = cmc_intent_fdb_nth(in, i);

		if (f->slot == r->slot && f->pf == r->pf && f->vf == r->vf)
			rc = cmc_intent_fdb_del(in, f->slot, f->pf, f->mac, err, sizeof(err));
	}
	rc = cmc_blades_change_finish(b, old, rc, "vm-port-idle", err, sizeof(err));
	if (rc) {
		log_warnx("slot %u pf %u vf %u: idle VM port: %s", r->slot, r->pf, r->vf, err);
		return;
	}
	vmport_remove(b, r, true);
}

/* Whether the intent delivers a VM's MAC to slot/pf/vf (its port is live). */
static bool vf_has_entry(const struct cmc_intent *in, unsigned slot, unsigned pf, unsigned vf)
{
	for (unsigned i = 0; i < cmc_intent_fdb_count(in); i++) {
		const struct cmc_fdb *f = cmc_intent_fdb_nth(in, i);

		if (f->slot == slot && f->pf == pf && f->vf == vf)
			return true;
	}
	return false;
}

/* Every IDLE_CHECK_MS with daemon.vm_port_idle set: a live VM port whose VF's counters
 * did not move for that long is deprovisioned (US 8,565,118), with an event. */
static void idle_due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_blades *b = arg;
	unsigned long long now = cmc_now_ms(), limit = 1000ull * b->d->config->vm_port_idle_s;
	(void)loop;
	(void)t;

	for (unsigned i = 0; i < CMC_INTENT_ASSIGN_MAX; i++) {
		struct vf_rt *r = &b->rt[i];
		const struct cmc_assignment *a;
		uint64_t frames;

		if (!r->used || r->vmport != VMPORT_READY)
			continue;
		a = cmc_intent_assignment(b->in, r->slot, r->pf, r->vf);
		if (!a || !a->vm[0] || !vf_has_entry(b->in, r->slot, r->pf, r->vf) ||
		    cmc_cards_vf_frames(b->d->cards, r->slot, r->pf, r->vf, &frames) < 0) {
			r->idle_since = 0;	/* staged, or no counters to go by: not idle */
			continue;
		}
		if (!r->idle_since || frames != r->idle_frames) {
			r->idle_frames = frames;
			r->idle_since = now;
		} else if (now - r->idle_since >= limit) {
			vmport_idle(b, r);
		}
	}
}

/* --- Blade health and power, for server profiles (health.c, cmd-sprofile.c) ------------ */

struct health_job {
	cmc_blades_health_fn fn;
	void *arg;
};

static void health_answered(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct health_job j = *(struct health_job *)arg;

	free(arg);
	for (unsigned i = 0; i < n; i++)
		j.fn(j.arg, ops[i].blade, ops[i].rc, ops[i].nd.present);
	j.fn(j.arg, NULL, 0, false);	/* the end of the poll */
}

int cmc_blades_health_poll(struct cmc_blades *b, cmc_blades_health_fn fn, void *arg)
{
	const struct cmc_config *cfg = b->d->config;
	struct cmc_bw_op ops[CMC_CONFIG_BLADES_MAX];
	struct health_job *j;
	unsigned n = 0;
	int rc;

	if (!b->bw)
		return -ENODEV;
	for (unsigned i = 0; i < cfg->blade_count && i < CMC_CONFIG_BLADES_MAX; i++) {
		ops[n] = (struct cmc_bw_op){ .kind = CMC_BW_HEALTH, .fd = -1 };
		snprintf(ops[n++].blade, sizeof(ops[0].blade), "%s", cfg->blades[i].name);
	}
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct health_job){ fn, arg };
	rc = cmc_bw_submit(b->bw, ops, n, health_answered, j);
	if (rc)
		free(j);
	return rc;
}

/* The blade's link watch, closed (so its namespace can end). */
static void unwatch_blade(struct cmc_blades *b, int bi)
{
	struct blade_watch *bw = &b->watches[bi];

	if (bw->w)
		cmc_loop_del_fd(b->d->loop, bw->w);
	if (bw->fd >= 0 && bw->b)
		close(bw->fd);
	bw->w = NULL;
	bw->fd = -1;
}

static void powered_on(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;
	int bi = n ? cmc_intent_blade_index(b->in, ops[0].blade) : -1;
	struct blade_watch *bw;

	if (bi < 0 || ops[0].rc == -ECANCELED) {
		if (n && ops[0].fd >= 0)
			close(ops[0].fd);
		return;
	}
	unwatch_blade(b, bi);
	bw = &b->watches[bi];
	*bw = (struct blade_watch){ .b = b, .blade = b->d->config->blades[bi].name, .fd = ops[0].fd };
	if (ops[0].rc)
		cmc_events_post(b->d->events, "blade-error", -1, "%s: %s", bw->blade, ops[0].err);
	else
		cmc_events_post(b->d->events, "blade-power", -1, "%s is on", bw->blade);
	if (bw->fd >= 0 && cmc_loop_add_fd(b->d->loop, bw->fd, EPOLLIN, blade_link_ready, bw, &bw->w) < 0) {
		close(bw->fd);
		bw->fd = -1;
	}
	place_all(b);
}

static void powered_off(void *arg, struct cmc_bw_op *ops, unsigned n)
{
	struct cmc_blades *b = arg;

	if (n && ops[0].rc && ops[0].rc != -ECANCELED)
		cmc_events_post(b->d->events, "blade-error", -1, "%s: %s", ops[0].blade, ops[0].err);
	else if (n && !ops[0].rc)
		cmc_events_post(b->d->events, "blade-power", -1, "%s is off", ops[0].blade);
}

int cmc_blades_power(struct cmc_blades *b, const char *blade, bool on)
{
	int bi = cmc_intent_blade_index(b->in, blade);
	struct cmc_bw_op op = { .kind = on ? CMC_BW_CREATE : CMC_BW_POWER_OFF, .fd = -1 };

	if (bi < 0 || !b->bw)
		return bi < 0 ? -ENOENT : -ENODEV;
	if (!on)
		unwatch_blade(b, bi);
	snprintf(op.blade, sizeof(op.blade), "%s", blade);
	return cmc_bw_submit(b->bw, &op, 1, on ? powered_on : powered_off, b);
}

void cmc_blades_blade_lost(struct cmc_blades *b, const char *blade)
{
	int bi = cmc_intent_blade_index(b->in, blade);

	if (bi >= 0)
		unwatch_blade(b, bi);
}

int cmc_blades_change_end_cards(struct cmc_blades *b, struct cmc_intent *old, const char *what, char *err,
				size_t errlen)
{
	int rc;

	b->cards_only = true;
	rc = cmc_blades_change_finish(b, old, 0, what, err, errlen);
	b->cards_only = false;
	return rc;
}

/* --- Start and stop --------------------------------------------------------------------- */

/* The ports cmcd drives, as facts for the intent. */
static void learn_port(struct cmc_blades *b, unsigned slot, unsigned pf)
{
	uint8_t mac[6] = { 0 };
	unsigned n;
	int rc;

	if (!cmc_cards_port(b->d->cards, slot, pf, &n))
		return;
	(void)!cmc_cards_pf_mac(b->d->cards, slot, pf, mac);
	rc = cmc_intent_port_add(b->in, slot, pf, n, mac);
	if (rc)
		log_warn(rc, "slot %u pf %u: not in the intent's picture", slot, pf);
}

struct load_ctx {
	struct cmc_blades *b;
	unsigned dropped;
};

static int load_record(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	char why[256];

	if (cmc_intent_load_record(lc->b->in, key, value, why, sizeof(why)) == 0)
		return 0;
	/* The store sync after loading takes it out of the store as well. */
	log_warnx("store: %s: %s; dropped", key, why);
	cmc_events_post(lc->b->d->events, "store-dropped", -1, "%s: %s", key, why);
	lc->dropped++;
	return 0;
}

/*
 * A card pulled out and put back (cards.c took it again, with every VF at its default):
 * everything the intent holds for its port goes back on it. Nothing is dropped: an
 * assignment the card refuses now is reported and marked not applied.
 */
void cmc_blades_card_back(struct cmc_blades *b, unsigned slot, unsigned pf)
{
	unsigned n = 0, failed = 0;
	char err[256];

	if (!b)
		return;
	learn_port(b, slot, pf);
	for (unsigned vf = 0; vf < 8; vf++) {
		struct vf_rt *r = rt_find(b, slot, pf, vf);

		if (!r)
			continue;
		/* Its netdev is a new one, in the root namespace; an answer on its way is about
		 * the old one. */
		r->placed = r->placing = false;
		r->gen = ++b->gen;
	}
	publish_macs(b);
	if (cmc_intent_port(b->in, slot, pf, &n))
		apply_port(b, NULL, slot, pf, n, &failed, err, sizeof(err));
	place_all(b);
}

int cmc_blades_start(struct cmcd *d, struct cmc_blades **out)
{
	struct cmc_blades *b = calloc(1, sizeof(*b));
	struct load_ctx lc = { .b = b };
	char err[256] = "";
	unsigned failed = 0;
	int rc;

	if (!b)
		return -ENOMEM;
	b->d = d;
	b->failpoint = getenv("CMC_FAILPOINT");
	rc = cmc_intent_new(d->config, d->chassis_id, &b->in);
	if (!rc)
		rc = cmc_loop_add_timer(d->loop, 0, 0, place_due, b, &b->place_timer);
	if (!rc)
		rc = cmc_loop_add_timer(d->loop, 0, 0, kick_due, b, &b->kick_timer);
	if (!rc && d->config->vm_port_idle_s)
		rc = cmc_loop_add_timer(d->loop, IDLE_CHECK_MS, IDLE_CHECK_MS, idle_due, b, &b->idle_timer);
	if (rc) {
		if (b->place_timer)
			cmc_loop_del_timer(d->loop, b->place_timer);
		if (b->kick_timer)
			cmc_loop_del_timer(d->loop, b->kick_timer);
		cmc_intent_free(b->in);
		free(b);
		return rc;
	}
	rc = mp_blade_backend_open("netns", &b->be, err, sizeof(err));
	if (rc) {
		log_warnx("blades: %s; VFs will not be placed into blades", err);
		b->be = NULL;
	}
	rc = b->be ? cmc_bw_start(d->loop, b->be, &b->bw) : 0;
	if (rc)
		log_warn(rc, "blades: no worker; VFs will not be placed into blades");
	if (b->bw && create_blades(b) < 0)
		log_warnx("blades: cannot ask for the blades to be made");
	for (unsigned i = 0; i < d->config->slot_count; i++)
		for (unsigned pf = 0; pf < 8; pf++)
			learn_port(b, d->config->slots[i].number, pf);
	/* Domains and lanes first: assignments refer to them, static entries to assignments. */
	for (unsigned i = 0; cmc_intent_prefixes[i]; i++)
		(void)cmc_store_foreach(d->store, cmc_intent_prefixes[i], load_record, &lc);
	d->blades = b;
	if (lc.dropped && store_sync(b, "start", err, sizeof(err)) < 0)
		log_warnx("%s", err);
	apply(b, NULL, "start", &failed, err, sizeof(err));
	*out = b;
	return 0;
}

void cmc_blades_stop(struct cmcd *d, struct cmc_blades *b)
{
	if (!b)
		return;
	/* First: the worker's last answers (and cancellations) still find everything. */
	cmc_bw_stop(b->bw);
	b->bw = NULL;
	if (b->place_timer)
		cmc_loop_del_timer(d->loop, b->place_timer);
	unwatch_blades(b);
	if (b->kick_timer)
		cmc_loop_del_timer(d->loop, b->kick_timer);
	if (b->idle_timer)
		cmc_loop_del_timer(d->loop, b->idle_timer);
	mp_blade_backend_close(b->be);
	cmc_intent_free(b->in);
	d->blades = NULL;
	free(b);
}
