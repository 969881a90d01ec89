/* SPDX-License-Identifier: MIT */
/*
 * Keeping the daemon's picture of the chassis true: rescans after hot-plug (read on a
 * worker thread, swapped in and reconciled on the loop), and at start-up a
 * reconciliation of the store's last picture with what the hardware shows.
 */
#include "blades.h"
#include "cards.h"
#include "daemon.h"
#include "inventory.h"

#include "log.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#define SLOT_KEY_PREFIX "slot/"
#define RESCAN_DELAY_MS 100	/* coalesces the burst of uevents one hot-plug makes */

static void slot_key(unsigned number, char *buf, size_t len)
{
	snprintf(buf, len, SLOT_KEY_PREFIX "%u", number);
}

static int forget_vanished_slots(struct cmcd *d, const char *kind, const char *when);
static void give_back_memory(void);

/*
 * Compares each slot's picture with the store's, posts `kind` events for the
 * differences and records the new pictures. Slots the store knows but the hardware no
 * longer shows are reported too (a whole port gone). Returns the number of changes.
 */
static int compare_and_record(struct cmcd *d, const char *kind, const char *when)
{
	char key[32], now[CMC_SLOT_PICTURE_LEN], change[160];
	int changes = 0;

	for (size_t i = 0; i < mp_slot_count(d->inv); i++) {
		const struct mp_slot *s = mp_slot_at(d->inv, i);
		const char *was;

		/* A slot whose number is unknown or repeated has no picture of its own. */
		if (s->number == MP_SLOT_NUMBER_UNKNOWN || mp_slot_find(d->inv, s->number) != s)
			continue;
		slot_key(s->number, key, sizeof(key));
		cmc_inventory_slot_picture(s, now, sizeof(now));
		was = cmc_store_get(d->store, key);
		cmc_inventory_carry_card(was, now, sizeof(now));
		if (was && strcmp(was, now) == 0)
			continue;
		if (was) {
			cmc_inventory_describe_change(was, now, change, sizeof(change));
			cmc_events_post(d->events, kind, (int)s->number, "%s%s", change, when);
			changes++;
		} else {
			/* First sight of a slot: its starting state. */
			log_info("slot %u: %s", s->number, now);
		}
		if (cmc_store_set(d->store, key, now) < 0)
			log_warnx("store: cannot record slot %u", s->number);
	}
	changes += forget_vanished_slots(d, kind, when);
	changes += cmc_inventory_report_problems(d->inv, d->store, d->events);
	return changes;
}

struct vanished {
	struct cmcd *d;
	char keys[64][32];
	unsigned n;
};

static int collect_vanished(const char *key, const char *value, void *arg)
{
	struct vanished *v = arg;
	unsigned n;
	(void)value;

	if (sscanf(key + strlen(SLOT_KEY_PREFIX), "%u", &n) == 1 && !mp_slot_find(v->d->inv, n) &&
	    v->n < 64)
		snprintf(v->keys[v->n++], sizeof(v->keys[0]), "%s", key);
	return 0;
}

/* Slots the store knows and the hardware no longer has (a whole port gone). */
static int forget_vanished_slots(struct cmcd *d, const char *kind, const char *when)
{
	struct vanished v = { .d = d };

	/* A port whose slot number cannot be read may be any of them: none is called gone. */
	for (size_t i = 0; i < mp_slot_count(d->inv); i++)
		if (mp_slot_at(d->inv, i)->number == MP_SLOT_NUMBER_UNKNOWN)
			return 0;
	cmc_store_foreach(d->store, SLOT_KEY_PREFIX, collect_vanished, &v);
	for (unsigned i = 0; i < v.n; i++) {
		unsigned n = (unsigned)atoi(v.keys[i] + strlen(SLOT_KEY_PREFIX));
		cmc_events_post(d->events, kind, (int)n, "slot no longer present%s", when);
		(void)!cmc_store_del(d->store, v.keys[i]);
	}
	return (int)v.n;
}

static int commit_store(struct cmcd *d)
{
	int err = cmc_store_commit(d->store);

	if (err)
		log_warnx("store: commit failed (%s); the previous state stays on disk",
			  cmc_store_error(d->store));
	return err;
}

static void card_back(void *arg, unsigned slot, unsigned pf)
{
	struct cmcd *d = arg;

	cmc_blades_card_back(d->blades, slot, pf);
}

/*
 * --- Rescans off the loop -------------------------------------------------------------
 * A scan of a big chassis reads megabytes through libpci and takes a second or more; the
 * loop must keep answering meanwhile. A worker thread builds a whole new inventory
 * (mp_inventory_scan_new) while the loop goes on reading the current one; both only
 * read the current one, which nobody changes until the worker is done. The worker
 * signals an eventfd; the loop joins it, swaps d->inv for the new inventory and closes
 * the old one, then reconciles (compares pictures, posts events, retakes cards): every
 * reader of the inventory (commands, cards, blades, watchers) runs on the loop and sees
 * either the old inventory or the new one, never one being built.
 */
#define RESCAN_WHY_LEN 32
#define RESCAN_NICE 10	/* the worker's nice value (the loop keeps the process's) */

struct cmc_rescan {
	struct cmcd *d;
	int efd;		  /* eventfd: the worker's "done", watched by the loop */
	struct cmc_watch *watch;
	pthread_t thread;
	bool running;		  /* a worker exists (it is joined on the loop) */
	bool again;		  /* asked for while one ran: one more once it ends */
	bool told, told_next;	  /* an admin asked (cmcctl rescan, SIGHUP): an event at the end */
	char why[RESCAN_WHY_LEN], why_next[RESCAN_WHY_LEN];
	unsigned long long t0;	  /* ms, when the worker started */
	/* The worker's inputs and results; written before it signals efd, read after the
	 * join (which orders them), never touched by both at once. */
	const struct mp_inventory *prev;
	struct mp_inventory *result;
	int err;
	char msg[512];
};

/*
 * What free() gives back stays in the process unless trimmed: libpci's dump reader and the
 * scan's work lists (several times the inventory itself) leave holes in the heap of the
 * thread that scanned. malloc_trim returns every whole free page of every arena.
 */
static void give_back_memory(void)
{
	(void)malloc_trim(0);
}

static void *rescan_worker(void *arg)
{
	struct cmc_rescan *rs = arg;
	uint64_t one = 1;

	/* Background work: on a busy machine the loop's thread goes first. On Linux each
	 * thread has its own nice value (setpriority(2), NOTES); failing to lower it
	 * changes nothing but that. */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), RESCAN_NICE);
	rs->err = mp_inventory_scan_new(rs->prev, &rs->result, rs->msg, sizeof(rs->msg));
	/* An eventfd write of 1 cannot block (the counter is far from overflowing): the
	 * loop reads it before the next worker starts. */
	(void)!write(rs->efd, &one, sizeof(one));
	return NULL;
}

/* The picture after a scan: cards back, blades kicked, slots compared and recorded. */
static int after_scan(struct cmcd *d)
{
	int changes;

	d->rescans++;
	/* A card pulled out under cmcd and put back is taken again, with its intent; taking
	 * it changed its drivers and VFs, which the next look sees. */
	if (cmc_cards_retake(d->cards, card_back, d) > 0)
		cmcd_rescan_soon(d);
	cmc_blades_kick(d->blades);
	changes = compare_and_record(d, "hotplug", "");
	if (changes > 0)
		(void)commit_store(d);
	return changes;
}

static int rescan_start(struct cmc_rescan *rs)
{
	sigset_t all, old;
	int err;

	rs->prev = rs->d->inv;
	rs->result = NULL;
	rs->err = 0;
	rs->msg[0] = 0;
	rs->t0 = cmc_now_ms();
	/* The loop takes its signals through a signalfd: the worker must not take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&rs->thread, NULL, rescan_worker, rs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_warn(err, "rescan (%s): cannot start its thread", rs->why);
		return err;
	}
	rs->running = true;
	return 0;
}

/* On the loop: the worker is done; take its inventory (or its failure). */
static void rescan_finish(struct cmc_rescan *rs)
{
	struct cmcd *d = rs->d;
	unsigned long long t1, ms;
	int changes;

	pthread_join(rs->thread, NULL); /* it has signalled: only its return is left */
	rs->running = false;
	t1 = cmc_now_ms();
	ms = t1 - rs->t0;
	if (rs->err) {
		log_warnx("rescan (%s) failed: %s", rs->why, rs->msg);
		cmc_events_post(d->events, "rescan", -1, "%s: failed after %llu ms: %s", rs->why, ms,
				rs->msg);
		give_back_memory();
		return;
	}
	mp_inventory_close(d->inv);
	d->inv = rs->result;
	rs->result = NULL;
	give_back_memory();
	changes = after_scan(d);
	t1 = cmc_now_ms() - t1;
	log_debug("rescan (%s): %zu slots read in %llu ms, %d changes, %llu ms on the loop", rs->why,
		  mp_slot_count(d->inv), ms, changes, t1);
	if (rs->told)
		cmc_events_post(d->events, "rescan", -1,
				"%s: done in %llu ms (%llu ms of it on the loop): %zu slots, %d change%s",
				rs->why, ms + t1, t1, mp_slot_count(d->inv), changes, changes == 1 ? "" : "s");
}

static void rescan_done(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_rescan *rs = arg;
	uint64_t n;
	(void)loop;
	(void)events;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n) || !rs->running)
		return;
	rescan_finish(rs);
	if (!rs->again)
		return;
	rs->again = false;
	rs->told = rs->told_next;
	rs->told_next = false;
	memcpy(rs->why, rs->why_next, sizeof(rs->why));
	if (rescan_start(rs) < 0 && rs->told)
		cmc_events_post(rs->d->events, "rescan", -1, "%s: could not start", rs->why);
}

static int rescan_init(struct cmcd *d)
{
	struct cmc_rescan *rs = calloc(1, sizeof(*rs));
	int err;

	if (!rs)
		return -ENOMEM;
	rs->d = d;
	rs->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rs->efd < 0) {
		err = -errno;
		goto fail_free;
	}
	err = cmc_loop_add_fd(d->loop, rs->efd, EPOLLIN, rescan_done, rs, &rs->watch);
	if (err)
		goto fail_close;
	d->rescan = rs;
	return 0;

fail_close:
	close(rs->efd);
fail_free:
	free(rs);
	return err;
}

int cmcd_rescan(struct cmcd *d, const char *why, bool told)
{
	struct cmc_rescan *rs;
	int err;

	if (!d->rescan && (err = rescan_init(d)) < 0) {
		log_warn(err, "rescan (%s)", why);
		return err;
	}
	rs = d->rescan;
	if (rs->running) {
		/* The one running may have read the chassis before what prompted this one:
		 * another follows it (one, however many are asked for meanwhile). */
		if (!rs->again || told)
			snprintf(rs->why_next, sizeof(rs->why_next), "%s", why);
		rs->again = true;
		rs->told_next |= told;
		return 0;
	}
	snprintf(rs->why, sizeof(rs->why), "%s", why);
	rs->told = told;
	return rescan_start(rs);
}

bool cmcd_rescan_running(const struct cmcd *d)
{
	return d->rescan && d->rescan->running;
}

void cmcd_rescan_stop(struct cmcd *d)
{
	struct cmc_rescan *rs = d->rescan;

	if (!rs)
		return;
	/* A scan cannot be interrupted inside libpci; it ends by itself (a dump is read to
	 * its end, a live scan's reads are bounded by the kernel's). */
	if (rs->running)
		pthread_join(rs->thread, NULL);
	mp_inventory_close(rs->result);
	cmc_loop_del_fd(d->loop, rs->watch);
	close(rs->efd);
	free(rs);
	d->rescan = NULL;
}

int cmcd_reconcile(struct cmcd *d)
{
	int changes = compare_and_record(d, "reconcile", " while cmcd was down");

	give_back_memory(); /* what the start-up scan used to read the chassis */
	if (changes)
		log_info("reconciled %d difference%s between the store and the hardware", changes,
			 changes == 1 ? "" : "s");
	return commit_store(d);
}

static void rescan_due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmcd *d = arg;
	(void)loop;
	(void)t;

	d->rescan_pending = false;
	(void)!cmcd_rescan(d, "hot-plug", false);
}

/*
 * The first uevent of a burst arms the timer; later ones ride along. Re-arming on each
 * would postpone the rescan for as long as uevents keep coming (a VF bring-up makes
 * dozens), so a pending rescan is left alone: it runs at most RESCAN_DELAY_MS late.
 */
void cmcd_rescan_soon(struct cmcd *d)
{
	if (d->rescan_pending)
		return;
	d->rescan_pending = true;
	if (!d->rescan_timer) {
		if (cmc_loop_add_timer(d->loop, RESCAN_DELAY_MS, 0, rescan_due, d, &d->rescan_timer) < 0)
			rescan_due(d->loop, NULL, d);
		return;
	}
	if (cmc_timer_arm(d->rescan_timer, RESCAN_DELAY_MS, 0) < 0)
		rescan_due(d->loop, NULL, d);
}
