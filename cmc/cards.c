/* SPDX-License-Identifier: MIT */
/*
 * The cards cmcd drives itself: for each slot the configuration gives to the igb-vfio
 * backend, cmcd takes the card's PFs, enables the configured VFs, gives each VF a MAC
 * of the chassis' own and serves the VFs' mailbox.
 *
 * The mailboxes are served on a thread of their own. The main loop does things that
 * can block for seconds behind a VF driver's probe (sysfs and config-space reads during
 * a rescan, for one); a VF's request must never wait for those, or the probing igbvf
 * times out and falls back to a random MAC. The card thread touches only the cards;
 * what it has to report goes through a queue to the main loop.
 */
#include "cards.h"
#include "daemon.h"
#include "inventory.h"
#include "macs.h"

#include "log.h"
#include "nic.h"
#include "vbridge.h"
#include "vf_token.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define CARDS_MAX 64
#define EVENT_QUEUE 256

struct card {
	struct cmc_cards *owner;
	unsigned slot, pf;
	struct nic *nic;
	pthread_mutex_t lock;		/* the nic: card thread (service) vs main (stats, config) */
	unsigned long long retry_at;	/* ms; 0 = none */
	bool dead;			/* card gone: no more service */
	struct log_ratelimit refusals[NIC_MAX_VFS + 1];	/* per VF, and the PF */
	struct log_ratelimit penalties[NIC_MAX_VFS];	/* apart: refusals never hide them */
	struct nic_vf_config vfcfg[NIC_MAX_VFS];	/* what the chassis set on each VF */
	struct vb_port *veb;		/* the model of the card's bridge the VFs' settings must fit */
	enum nic_port_mode mode;
	bool link_down;			/* the port reported its link down (main thread's view) */
	char token_bdf[32];		/* the PF whose VF token file we wrote; "" = none */
};

struct queued_event {
	unsigned slot, pf;
	enum nic_event ev;
	int vf;
	char detail[200];
};

struct cmc_cards {
	struct cmcd *d;
	struct card cards[CARDS_MAX];
	unsigned n;
	pthread_t thread;
	bool running;
	bool stop;
	bool releasing;		/* cmcd stops: the cards' VFs are being taken away */
	cmc_cards_back_fn gone;		/* a card disappeared (cmc_cards_set_gone_fn) */
	void *gone_arg;
	int epfd, wake_fd, notify_fd;
	struct cmc_watch *notify_watch;
	pthread_mutex_t qlock;
	struct queued_event queue[EVENT_QUEUE];
	unsigned qhead, qlen;
	unsigned long dropped;
	char token_dir[PATH_MAX];	/* VF token files: RUN_DIR/vf-token */
	/*
	 * Who owns which MAC in the whole chassis, for the VFs' mailboxes (asked on the card
	 * thread, so it is a copy under its own lock, never the main thread's tables): what
	 * the intent published (assignments, static entries) and each PF's own address.
	 */
	pthread_mutex_t owned_lock;
	struct cmc_owned_mac *owned;
	size_t n_owned;
	uint8_t pf_mac[CARDS_MAX][6];	/* by card index; all zero: none */
	/* What each VF holds through its mailbox (nic_params.vf_macs), by card index and
	 * VF: runtime state, gone with a reset of the VF or the card. */
	struct granted {
		uint8_t n;
		uint8_t mac[NIC_VF_MACS_MAX][6];
	} granted[CARDS_MAX][NIC_MAX_VFS];
};

void cmc_cards_vf_mac(uint32_t id, unsigned slot, unsigned pf, unsigned vf, uint8_t mac[6])
{
	if (cmc_mac_vf_default(id, slot, pf, vf, mac) < 0)
		memset(mac, 0, 6);
}

static void card_close(struct card *c);

int cmc_cards_set_owned_macs(struct cmc_cards *cards, const struct cmc_owned_mac *macs, size_t n)
{
	struct cmc_owned_mac *copy = n ? malloc(n * sizeof(*copy)) : NULL, *old;

	if (!cards)
		return 0;
	if (n && !copy)
		return -ENOMEM;
	if (n)
		memcpy(copy, macs, n * sizeof(*copy));
	pthread_mutex_lock(&cards->owned_lock);
	old = cards->owned;
	cards->owned = copy;
	cards->n_owned = n;
	pthread_mutex_unlock(&cards->owned_lock);
	free(old);
	return 0;
}

/*
 * The chassis' answer to a VF's mailbox (card thread, under the card's lock): may VF vf
 * of card c take mac? Not if it is another VF's default (the chassis' range), another
 * VF's assigned MAC, a static entry's or a PF's. The card's own VFs are the engine's.
 */
static bool chassis_mac_in_use(void *ctx, unsigned vf, const uint8_t mac[6])
{
	struct card *c = ctx;
	struct cmc_cards *cs = c->owner;
	uint8_t own[6];
	bool taken = false;

	bool pool = cmc_mac_in_pool(cs->d->chassis_id, mac), mine = false;

	if (!pool && cmc_mac_in_chassis_range(cs->d->chassis_id, mac)) {
		cmc_cards_vf_mac(cs->d->chassis_id, c->slot, c->pf, vf, own);
		if (memcmp(own, mac, 6) != 0)
			return true;
	}
	pthread_mutex_lock(&cs->owned_lock);
	/* The server profiles' pool (macs.h): only the VF the intent gave the MAC to. */
	for (size_t i = 0; pool && i < cs->n_owned; i++)
		mine |= memcmp(cs->owned[i].mac, mac, 6) == 0 && cs->owned[i].vf >= 0 && cs->owned[i].slot == c->slot &&
			cs->owned[i].pf == c->pf && (unsigned)cs->owned[i].vf == vf;
	taken = pool && !mine;
	for (size_t i = 0; i < cs->n_owned && !taken; i++) {
		const struct cmc_owned_mac *o = &cs->owned[i];

		taken = memcmp(o->mac, mac, 6) == 0 &&
			!(o->vf >= 0 && o->slot == c->slot && o->pf == c->pf && (unsigned)o->vf == vf);
	}
	for (unsigned i = 0; i < CARDS_MAX && !taken; i++)
		taken = memcmp(cs->pf_mac[i], mac, 6) == 0 && memcmp(cs->pf_mac[i], "\0\0\0\0\0\0", 6) != 0;
	/* What another card's VFs were granted through their mailboxes (this card's own
	 * VFs are its engine's to judge). */
	for (unsigned i = 0; i < CARDS_MAX && !taken; i++)
		for (unsigned v = 0; &cs->cards[i] != c && v < NIC_MAX_VFS && !taken; v++)
			for (unsigned k = 0; k < cs->granted[i][v].n && !taken; k++)
				taken = memcmp(cs->granted[i][v].mac[k], mac, 6) == 0;
	pthread_mutex_unlock(&cs->owned_lock);
	return taken;
}

/* The backend's report of what VF vf of card c now holds through its mailbox. */
static void vf_macs_changed(void *ctx, unsigned vf, const uint8_t (*macs)[6], unsigned n)
{
	struct card *c = ctx;
	struct cmc_cards *cs = c->owner;
	struct granted *g;

	if (vf >= NIC_MAX_VFS)
		return;
	g = &cs->granted[c - cs->cards][vf];
	pthread_mutex_lock(&cs->owned_lock);
	g->n = (uint8_t)(n < NIC_VF_MACS_MAX ? n : NIC_VF_MACS_MAX);
	memcpy(g->mac, macs, (size_t)g->n * 6);
	pthread_mutex_unlock(&cs->owned_lock);
}

static void forget_granted(struct card *c)
{
	struct cmc_cards *cs = c->owner;

	pthread_mutex_lock(&cs->owned_lock);
	memset(cs->granted[c - cs->cards], 0, sizeof(cs->granted[0]));
	pthread_mutex_unlock(&cs->owned_lock);
}

int cmc_cards_mac_granted(struct cmc_cards *cards, const uint8_t mac[6], unsigned *slot, unsigned *pf,
			  unsigned *vf)
{
	int rc = -ENOENT;

	if (!cards)
		return rc;
	pthread_mutex_lock(&cards->owned_lock);
	for (unsigned i = 0; i < cards->n && rc; i++)
		for (unsigned v = 0; v < NIC_MAX_VFS && rc; v++)
			for (unsigned k = 0; k < cards->granted[i][v].n && rc; k++)
				if (memcmp(cards->granted[i][v].mac[k], mac, 6) == 0) {
					*slot = cards->cards[i].slot;
					*pf = cards->cards[i].pf;
					*vf = v;
					rc = 0;
				}
	pthread_mutex_unlock(&cards->owned_lock);
	return rc;
}

static void publish_pf_mac(struct card *c, const uint8_t mac[6])
{
	struct cmc_cards *cs = c->owner;
	size_t i = (size_t)(c - cs->cards);

	pthread_mutex_lock(&cs->owned_lock);
	memcpy(cs->pf_mac[i], mac, 6);
	pthread_mutex_unlock(&cs->owned_lock);
}

/* Called by the backend, on the card thread or (while opening) on the main thread. */
static void card_event(void *ctx, enum nic_event ev, int vf, const char *detail)
{
	struct card *c = ctx;
	struct cmc_cards *cs = c->owner;
	uint64_t one = 1;

	pthread_mutex_lock(&cs->qlock);
	if (cs->qlen == EVENT_QUEUE) {
		cs->dropped++;
	} else {
		struct queued_event *q = &cs->queue[(cs->qhead + cs->qlen++) % EVENT_QUEUE];
		*q = (struct queued_event){ .slot = c->slot, .pf = c->pf, .ev = ev, .vf = vf };
		snprintf(q->detail, sizeof(q->detail), "%s", detail);
	}
	pthread_mutex_unlock(&cs->qlock);
	(void)!write(cs->notify_fd, &one, sizeof(one));
}

static struct card *find_card(struct cmc_cards *cs, unsigned slot, unsigned pf)
{
	for (unsigned i = 0; i < cs->n; i++)
		if (cs->cards[i].slot == slot && cs->cards[i].pf == pf)
			return &cs->cards[i];
	return NULL;
}

/* Main loop: what the cards reported becomes events and log lines. */
static void report_event(struct cmc_cards *cs, const struct queued_event *q)
{
	struct cmcd *d = cs->d;
	struct card *c = find_card(cs, q->slot, q->pf);
	unsigned long suppressed = 0;

	switch (q->ev) {
	case NIC_EV_VF_REFUSED:
		/* Talking before its reset is what a VF does right after the chassis changed its
		 * settings (it learns of the change late): a log line, not an event. */
		if (strstr(q->detail, "before VF reset")) {
			log_info("slot %u pf %u vf %d: %s", q->slot, q->pf, q->vf, q->detail);
			return;
		}
		/* A VF belongs to a blade we do not trust: its noise is rate-limited. */
		if (c && !log_ratelimit_allow(&c->refusals[q->vf < 0 ? NIC_MAX_VFS : q->vf],
					      cmc_now_ms(), &suppressed))
			return;
		cmc_events_post(d->events, "vf-refused", (int)q->slot, "pf %u vf %d: %s%s", q->pf,
				q->vf, q->detail, suppressed ? " (and more, rate-limited)" : "");
		return;
	case NIC_EV_VF_PENALTY:
		/* Few by design (the penalty escalates), rate-limited all the same. */
		if (c && q->vf >= 0 && q->vf < NIC_MAX_VFS &&
		    !log_ratelimit_allow(&c->penalties[q->vf], cmc_now_ms(), &suppressed))
			return;
		cmc_events_post(d->events, "vf-penalty", (int)q->slot, "pf %u vf %d: %s%s", q->pf, q->vf,
				q->detail, suppressed ? " (and more, rate-limited)" : "");
		return;
	case NIC_EV_LINK_UP:
	case NIC_EV_LINK_DOWN:
		if (c)
			c->link_down = q->ev == NIC_EV_LINK_DOWN;
		cmc_events_post(d->events, q->ev == NIC_EV_LINK_UP ? "link-up" : "link-down",
				(int)q->slot, "pf %u: %s", q->pf, q->detail);
		return;
	case NIC_EV_GONE:
		cmc_events_post(d->events, "card-gone", (int)q->slot, "pf %u: %s", q->pf, q->detail);
		if (cs->gone)
			cs->gone(cs->gone_arg, q->slot, q->pf);
		return;
	case NIC_EV_VF_RESET:
	case NIC_EV_INFO:
		if (q->vf >= 0)
			log_info("slot %u pf %u vf %d: %s", q->slot, q->pf, q->vf, q->detail);
		else
			log_info("slot %u pf %u: %s", q->slot, q->pf, q->detail);
		return;
	}
}

static bool dequeue(struct cmc_cards *cs, struct queued_event *q)
{
	bool got = false;

	pthread_mutex_lock(&cs->qlock);
	if (cs->qlen) {
		*q = cs->queue[cs->qhead];
		cs->qhead = (cs->qhead + 1) % EVENT_QUEUE;
		cs->qlen--;
		got = true;
	}
	pthread_mutex_unlock(&cs->qlock);
	return got;
}

static void drain_events(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_cards *cs = arg;
	struct queued_event q;
	unsigned long dropped;
	uint64_t n;
	(void)loop;
	(void)events;

	(void)!read(fd, &n, sizeof(n));
	while (dequeue(cs, &q))
		report_event(cs, &q);
	pthread_mutex_lock(&cs->qlock);
	dropped = cs->dropped;
	cs->dropped = 0;
	pthread_mutex_unlock(&cs->qlock);
	if (dropped)
		log_warnx("cards: %lu reports dropped (queue full)", dropped);
}

/* --- The card thread ---------------------------------------------------------------- */

static void card_service(struct card *c)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = c->dead || !c->nic ? 0 : c->nic->ops->service(c->nic);
	if (rc == -ENODEV) {
		/*
		 * The card is gone or being removed: let go of it here and now. A hot-unplug
		 * waits for the VFIO device to be closed, and the main loop may itself be
		 * waiting on that removal (a rescan reading the card's config space). While
		 * cmcd stops, the stop is releasing the cards and closes this one itself.
		 */
		c->dead = true;
		if (!__atomic_load_n(&c->owner->releasing, __ATOMIC_ACQUIRE))
			card_close(c);
	}
	__atomic_store_n(&c->retry_at, rc > 0 ? cmc_now_ms() + (unsigned)rc : 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->lock);
}

/* The main thread changed a card (a reply to a VF may wait for its mailbox lock): the
 * card thread looks at it now. */
static void card_kick(struct card *c)
{
	uint64_t one = 1;

	__atomic_store_n(&c->retry_at, cmc_now_ms(), __ATOMIC_RELAXED);
	(void)!write(c->owner->wake_fd, &one, sizeof(one));
}

/* ms until the earliest deferred work of a card, or -1: none, sleep until an interrupt. */
static int next_timeout(struct cmc_cards *cs)
{
	unsigned long long now = cmc_now_ms(), next = 0;

	for (unsigned i = 0; i < cs->n; i++) {
		unsigned long long at = __atomic_load_n(&cs->cards[i].retry_at, __ATOMIC_RELAXED);
		if (at && (!next || at < next))
			next = at;
	}
	if (!next)
		return -1;
	return next <= now ? 0 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

/*
 * Event-driven only: a card is looked at when it interrupts (mailbox, VF reset, link,
 * removal), when work it deferred is due, or when the main thread kicked it. No periodic
 * look: an idle chassis costs no wake-up (bench/idle-wakeups.sh).
 */
static void *card_thread(void *arg)
{
	struct cmc_cards *cs = arg;
	struct epoll_event evs[16];
	uint64_t kicks;

	(void)pthread_setname_np(pthread_self(), "cmcd-cards");
	/* What the cards deferred while they were opened and configured. */
	for (unsigned i = 0; i < cs->n; i++)
		card_service(&cs->cards[i]);
	while (!__atomic_load_n(&cs->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(cs->epfd, evs, 16, next_timeout(cs));
		unsigned long long now = cmc_now_ms();

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr)
				card_service(evs[i].data.ptr);
			else
				(void)!read(cs->wake_fd, &kicks, sizeof(kicks));	/* the kicked cards are due */
		}
		for (unsigned i = 0; i < cs->n; i++) {
			unsigned long long at = __atomic_load_n(&cs->cards[i].retry_at, __ATOMIC_RELAXED);
			if (at && at <= now)
				card_service(&cs->cards[i]);
		}
	}
	return NULL;
}

/* --- Opening and closing ------------------------------------------------------------ */

void cmc_cards_vf_default(uint32_t id, unsigned slot, unsigned pf, unsigned vf, struct nic_vf_config *out)
{
	*out = (struct nic_vf_config){ .spoofchk = true };
	cmc_cards_vf_mac(id, slot, pf, vf, out->mac);
}

static void intent_of(const struct nic_vf_config *vc, struct vb_vf_intent *in)
{
	*in = (struct vb_vf_intent){ .vlan = vc->vlan, .trusted = vc->trusted, .spoofchk = vc->spoofchk,
				     .broadcast = true, .multicast = true, .rate_mbps = vc->max_tx_rate_mbps };
	memcpy(in->mac, vc->mac, 6);
}

/* Model first (it refuses what the card cannot hold), then the card; both or neither. */
static int card_vf_set(struct card *c, unsigned vf, const struct nic_vf_config *vc, char *err,
		       size_t errlen)
{
	struct vb_vf_intent in, old;
	bool had_old = vb_get_vf(c->veb, vf, &old) == 0;
	int rc;

	/* Unchanged: no reset of the VF for nothing (a VF reset costs its driver a link
	 * renegotiation, and under TCG its reset window is easily missed). */
	if (had_old && nic_vf_config_equal(vc, &c->vfcfg[vf]))
		return 0;
	intent_of(vc, &in);
	rc = vb_set_vf(c->veb, vf, &in, err, errlen);
	if (rc)
		return rc;
	rc = c->nic->ops->vf_configure(c->nic, vf, vc, err, errlen);
	if (rc) {
		if (had_old)
			(void)!vb_set_vf(c->veb, vf, &old, NULL, 0);
		else
			(void)!vb_clear_vf(c->veb, vf);
		return rc;
	}
	c->vfcfg[vf] = *vc;
	return 0;
}

static int configure_vfs(struct card *c, char *err, size_t errlen)
{
	struct vb_limits lim;
	int rc;

	vb_limits_igb(&lim);
	/* The model holds the static entries; the driver keeps the other spare receive
	 * addresses for the VFs' own requests. */
	lim.rar_reserved = lim.rar_entries - NIC_STATIC_FDB_MAX;
	rc = vb_port_new(&lim, c->nic->num_vfs, &c->veb);
	if (rc) {
		snprintf(err, errlen, "bridge model: %s", strerror(-rc));
		return rc;
	}
	for (unsigned vf = 0; vf < c->nic->num_vfs && vf < NIC_MAX_VFS; vf++) {
		struct nic_vf_config vc;

		cmc_cards_vf_default(c->owner->d->chassis_id, c->slot, c->pf, vf, &vc);
		rc = card_vf_set(c, vf, &vc, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static void card_close(struct card *c)
{
	int rc;

	forget_granted(c);
	/* The token dies with our hold on the PF: no file may outlive it. */
	if (*c->token_bdf) {
		rc = vf_token_remove(c->owner->token_dir, c->token_bdf);
		if (rc)
			log_warn(rc, "slot %u pf %u: cannot remove its VF token file", c->slot, c->pf);
		c->token_bdf[0] = '\0';
	}
	if (c->nic)
		c->nic->ops->close(c->nic);
	c->nic = NULL;
	publish_pf_mac(c, (const uint8_t[6]){ 0 });
	vb_port_free(c->veb);
	c->veb = NULL;
}

/*
 * A PF held through VFIO gets a VF token of its own, new at each start, in a file only
 * root reads: whoever may use its VFs through VFIO (a hypervisor) reads it there. Without
 * the file the card still works; its VFs then cannot be opened through VFIO at all.
 */
static void card_token(struct cmc_cards *cs, struct card *c, const char *bdf, uint8_t token[16])
{
	int rc = vf_token_generate(token);

	if (!rc)
		rc = vf_token_write(cs->token_dir, bdf, token);
	if (rc) {
		log_warn(rc, "slot %u pf %u (%s): no VF token file in %s (its VFs cannot be opened"
			 " through VFIO)", c->slot, c->pf, bdf, cs->token_dir);
		return;
	}
	snprintf(c->token_bdf, sizeof(c->token_bdf), "%s", bdf);
}

static int card_open(struct cmc_cards *cs, struct card *c, const char *backend, const char *bdf,
		     const struct cmc_config_slot *slot)
{
	struct nic_params p = {
		.pf_bdf = bdf, .num_vfs = slot->vfs, .vf_driver = "igbvf", .keep_vfs = slot->keep_vfs,
		.on_event = card_event, .ctx = c, .mac_in_use = chassis_mac_in_use,
		.vf_macs = vf_macs_changed,
	};
	int fd;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	char err[256] = "";
	unsigned long long t0 = cmc_now_ms();
	uint8_t token[16];
	int rc;

	for (unsigned i = 0; i <= NIC_MAX_VFS; i++)
		log_ratelimit_init(&c->refusals[i], 5, 2000);
	for (unsigned i = 0; i < NIC_MAX_VFS; i++)
		log_ratelimit_init(&c->penalties[i], 5, 2000);
	if (strcmp(backend, "igb-vfio") == 0) {
		card_token(cs, c, bdf, token);
		p.vf_token = *c->token_bdf ? token : NULL;
	}
	rc = nic_open(backend, &p, &c->nic, err, sizeof(err));
	explicit_bzero(token, sizeof(token));
	if (!rc)
		rc = configure_vfs(c, err, sizeof(err));
	/* A backend with nothing to serve (the kernel one) has no fd. */
	fd = rc ? -1 : c->nic->ops->event_fd(c->nic);
	if (fd >= 0 && epoll_ctl(cs->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		rc = -errno;
	if (rc) {
		log_warnx("slot %u pf %u (%s): %s", c->slot, c->pf, bdf, *err ? err : strerror(-rc));
		card_close(c);
		return rc;
	}
	publish_pf_mac(c, c->nic->mac);
	log_info("slot %u pf %u (%s): %s, %u VFs, open in %llu ms", c->slot, c->pf, bdf, backend,
		 c->nic->num_vfs, cmc_now_ms() - t0);
	return 0;
}

static void open_slot(struct cmcd *d, struct cmc_cards *cards, const struct cmc_config_slot *cs)
{
	const struct mp_slot *s = mp_slot_find(d->inv, cs->number);
	char bdf[MP_BDF_STRLEN];

	if (!s || !s->function_count) {
		cmc_events_post(d->events, "card-missing", (int)cs->number,
				"configured with VFs, but the slot holds no card");
		return;
	}
	for (size_t f = 0; f < s->function_count && cards->n < CARDS_MAX; f++) {
		const struct mp_function *fn = &s->functions[f];
		struct card *c = &cards->cards[cards->n];

		bool user_pf = cs->driver == CMC_DRIVER_IGB_VFIO;

		if (user_pf && (fn->id.vendor_id != 0x8086 || fn->id.device_id != 0x10c9)) {
			cmc_events_post(d->events, "card-unsupported", (int)cs->number,
					"pf %u is %04x:%04x, igb-vfio drives 8086:10c9", fn->index,
					fn->id.vendor_id, fn->id.device_id);
			continue;
		}
		if (!fn->sriov.present)
			continue;
		*c = (struct card){ .owner = cards, .slot = cs->number, .pf = fn->index };
		pthread_mutex_init(&c->lock, NULL);
		if (card_open(cards, c, user_pf ? "igb-vfio" : "kernel", mp_bdf_str(&fn->bdf, bdf),
			      cs) == 0)
			cards->n++;
		else
			pthread_mutex_destroy(&c->lock);
	}
}

/*
 * A card that was pulled out under cmcd (dead) and is back in its slot: opened again in
 * place, under its lock (the card thread may look at it meanwhile), then its VFs are
 * bound. The kernel's igb took the new PF at hot-add; opening takes it back to VFIO.
 */
static int card_reopen(struct cmc_cards *cs, struct card *c, const struct cmc_config_slot *cfg,
		       const struct mp_function *fn)
{
	const char *backend = cfg->driver == CMC_DRIVER_IGB_VFIO ? "igb-vfio" : "kernel";
	char bdf[MP_BDF_STRLEN], err[256] = "";
	int rc;

	pthread_mutex_lock(&c->lock);
	c->retry_at = 0;
	c->mode = NIC_PORT_NORMAL;
	c->link_down = false;
	memset(c->vfcfg, 0, sizeof(c->vfcfg));
	rc = card_open(cs, c, backend, mp_bdf_str(&fn->bdf, bdf), cfg);
	if (!rc)
		c->dead = false;
	if (!rc && c->nic->ops->bind_vfs(c->nic, err, sizeof(err)) < 0)
		log_warnx("slot %u pf %u: %s", c->slot, c->pf, err);
	pthread_mutex_unlock(&c->lock);
	if (!rc)
		card_kick(c);	/* served once now: what opening left for the card thread */
	return rc;
}

void cmc_cards_set_gone_fn(struct cmc_cards *cards, cmc_cards_back_fn gone, void *arg)
{
	if (cards) {
		cards->gone = gone;
		cards->gone_arg = arg;
	}
}

int cmc_cards_retake(struct cmc_cards *cards, cmc_cards_back_fn back, void *arg)
{
	struct cmcd *d = cards ? cards->d : NULL;
	int taken = 0;

	for (unsigned i = 0; cards && i < cards->n; i++) {
		struct card *c = &cards->cards[i];
		const struct cmc_config_slot *cfg = cmc_config_slot_by_number(d->config, c->slot);
		const struct mp_slot *s = mp_slot_find(d->inv, c->slot);
		const struct mp_function *fn = NULL;

		if (!__atomic_load_n(&c->dead, __ATOMIC_ACQUIRE) || !cfg || !s)
			continue;
		for (size_t f = 0; f < s->function_count; f++)
			if (s->functions[f].index == c->pf && s->functions[f].sriov.present)
				fn = &s->functions[f];
		if (!fn)
			continue;
		if (card_reopen(cards, c, cfg, fn) < 0) {
			cmc_events_post(d->events, "card-error", (int)c->slot,
					"pf %u is back but could not be taken again (see the log)", c->pf);
			continue;
		}
		cmc_events_post(d->events, "card-back", (int)c->slot, "pf %u: taken again, %u VFs", c->pf,
				c->nic->num_vfs);
		taken++;
		if (back)
			back(arg, c->slot, c->pf);
	}
	return taken;
}

static int cards_init(struct cmcd *d, struct cmc_cards *cs)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	cs->d = d;
	pthread_mutex_init(&cs->owned_lock, NULL);
	snprintf(cs->token_dir, sizeof(cs->token_dir), "%s/%s", d->config->run_dir, VF_TOKEN_DIR);
	pthread_mutex_init(&cs->qlock, NULL);
	cs->epfd = epoll_create1(EPOLL_CLOEXEC);
	cs->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	cs->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cs->epfd < 0 || cs->wake_fd < 0 || cs->notify_fd < 0)
		return -errno;
	if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, cs->wake_fd, &ev) < 0)
		return -errno;
	return cmc_loop_add_fd(d->loop, cs->notify_fd, EPOLLIN, drain_events, cs, &cs->notify_watch);
}

static void bind_all_vfs(struct cmc_cards *cards)
{
	char err[256];

	for (unsigned i = 0; i < cards->n; i++) {
		struct card *c = &cards->cards[i];
		pthread_mutex_lock(&c->lock);
		err[0] = '\0';
		if (c->nic->ops->bind_vfs(c->nic, err, sizeof(err)) < 0)
			log_warnx("slot %u pf %u: %s", c->slot, c->pf, err);
		pthread_mutex_unlock(&c->lock);
	}
}

int cmc_cards_start(struct cmcd *d, struct cmc_cards **out)
{
	struct cmc_cards *cards = calloc(1, sizeof(*cards));
	int rc;

	if (!cards)
		return -ENOMEM;
	cards->epfd = cards->wake_fd = cards->notify_fd = -1;
	rc = cards_init(d, cards);
	if (rc)
		goto err_stop;
	for (unsigned i = 0; i < d->config->slot_count; i++) {
		const struct cmc_config_slot *cs = &d->config->slots[i];
		/* A slot with VFs to enable is driven (shared: handed out; dedicated: all its
		 * blade's); anything else is only watched. */
		if (cs->vfs > 0)
			open_slot(d, cards, cs);
	}
	rc = -pthread_create(&cards->thread, NULL, card_thread, cards);
	if (rc)
		goto err_stop;
	cards->running = true;
	/* Only now, with every card open and served: VF probes wait for our answers. */
	bind_all_vfs(cards);
	*out = cards;
	return 0;
err_stop:
	cmc_cards_stop(d, cards);
	return rc;
}

/*
 * The first step of the stop: each card's VFs are taken away while the card thread still
 * answers their drivers, which reset as they let go (unanswered, igbvf waits 1 s a VF).
 * One card at a time: the kernel removes devices one at a time anyway (measured: two
 * cards in parallel took as long as one after the other, about 0.3 s a VF under TCG).
 */
static void release_vfs(struct cmc_cards *cards)
{
	__atomic_store_n(&cards->releasing, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < cards->n; i++) {
		struct card *c = &cards->cards[i];
		unsigned long long t0 = cmc_now_ms(), ms;
		bool skip;
		int rc;

		/* From here on the card thread marks a card dead but leaves it open. */
		pthread_mutex_lock(&c->lock);
		skip = c->dead || !c->nic || !c->nic->ops->release_vfs;
		pthread_mutex_unlock(&c->lock);
		if (skip)
			continue;
		rc = c->nic->ops->release_vfs(c->nic);
		ms = cmc_now_ms() - t0;
		if (rc)
			log_warn(rc, "stop: slot %u pf %u: disabling its VFs", c->slot, c->pf);
		if (ms >= CMC_STOP_STEP_SLOW_MS)
			log_info("stop: slot %u pf %u: VFs disabled in %llu ms", c->slot, c->pf, ms);
	}
}

void cmc_cards_stop(struct cmcd *d, struct cmc_cards *cards)
{
	uint64_t one = 1;

	if (!cards)
		return;
	if (cards->running) {
		release_vfs(cards);
		__atomic_store_n(&cards->stop, true, __ATOMIC_RELEASE);
		(void)!write(cards->wake_fd, &one, sizeof(one));
		pthread_join(cards->thread, NULL);
	}
	for (unsigned i = 0; i < cards->n; i++) {
		struct card *c = &cards->cards[i];
		unsigned long long t0 = cmc_now_ms(), ms;

		card_close(c);
		ms = cmc_now_ms() - t0;
		if (ms >= CMC_STOP_STEP_SLOW_MS)
			log_info("stop: slot %u pf %u released in %llu ms", c->slot, c->pf, ms);
		pthread_mutex_destroy(&c->lock);
	}
	if (cards->notify_watch)
		cmc_loop_del_fd(d->loop, cards->notify_watch);
	if (cards->epfd >= 0)
		close(cards->epfd);
	if (cards->wake_fd >= 0)
		close(cards->wake_fd);
	if (cards->notify_fd >= 0)
		close(cards->notify_fd);
	pthread_mutex_destroy(&cards->qlock);
	pthread_mutex_destroy(&cards->owned_lock);
	free(cards->owned);
	free(cards);
}

/* The card cmcd drives at slot/pf, or NULL with the reason in err. */
int cmc_cards_pf_mac(struct cmc_cards *cards, unsigned slot, unsigned pf, uint8_t mac[6])
{
	struct card *c = cards ? find_card(cards, slot, pf) : NULL;
	int rc = -ENOENT;

	if (!c || !c->nic || c->dead)
		return -ENOENT;
	pthread_mutex_lock(&cards->owned_lock);
	memcpy(mac, cards->pf_mac[c - cards->cards], 6);
	if (memcmp(mac, "\0\0\0\0\0\0", 6) != 0)
		rc = 0;
	pthread_mutex_unlock(&cards->owned_lock);
	return rc;
}

/* No card is driven at all: cmcd reads a PCI dump, or its cards did not start. */
static void say_no_cards(unsigned slot, unsigned pf, char *err, size_t errlen)
{
	snprintf(err, errlen, "slot %u pf %u is not driven by cmcd: it drives no cards (it reads a PCI"
		 " dump, or its cards did not start: see its log)", slot, pf);
}

void cmc_cards_why_not_driven(const struct cmcd *d, unsigned slot, unsigned pf, char *err, size_t errlen)
{
	const struct cmc_config_slot *cs = NULL;
	struct card *c = d->cards ? find_card(d->cards, slot, pf) : NULL;

	if (!d->cards) {
		say_no_cards(slot, pf, err, errlen);
		return;
	}
	for (unsigned i = 0; i < d->config->slot_count; i++)
		if (d->config->slots[i].number == slot)
			cs = &d->config->slots[i];
	cmc_inventory_why_not_driven(d->inv ? mp_slot_find(d->inv, slot) : NULL, cs, c && c->dead, slot, pf,
				     err, errlen);
}

static struct card *driven_card(struct cmc_cards *cards, unsigned slot, unsigned pf, char *err,
				size_t errlen)
{
	struct card *c = cards ? find_card(cards, slot, pf) : NULL;

	if (c && c->nic && !c->dead)
		return c;
	if (cards)
		cmc_cards_why_not_driven(cards->d, slot, pf, err, errlen);
	else
		say_no_cards(slot, pf, err, errlen);
	return NULL;
}

/* Applies a changed VF setting; the chassis' record of it changes only if it took. */
static int change_vf(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		     const struct nic_vf_config *vc, char *err, size_t errlen)
{
	struct card *c = driven_card(cards, slot, pf, err, errlen);
	int rc;

	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (vf >= c->nic->num_vfs || vf >= NIC_MAX_VFS) {
		snprintf(err, errlen, "no VF %u on slot %u pf %u (%u enabled)", vf, slot, pf,
			 c->nic->num_vfs);
		rc = -ENOENT;
	} else {
		rc = card_vf_set(c, vf, vc, err, errlen);
	}
	pthread_mutex_unlock(&c->lock);
	card_kick(c);
	return rc;
}

#ifdef CMC_TEST_BUILD
/*
 * The tests of a card that refuses (test builds only): CMC_CARD_REFUSE=SLOT/PF/VF makes
 * every change of that VF's settings to anything but its default fail as a driver's
 * refusal would, with nothing written.
 */
static bool test_refuses(const struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
			 const struct nic_vf_config *vc)
{
	const char *e = getenv("CMC_CARD_REFUSE");
	struct nic_vf_config def;
	unsigned s, p, v;

	if (!e || sscanf(e, "%u/%u/%u", &s, &p, &v) != 3 || s != slot || p != pf || v != vf)
		return false;
	cmc_cards_vf_default(cards->d->chassis_id, slot, pf, vf, &def);
	return !nic_vf_config_equal(&def, vc);
}
#endif

int cmc_cards_vf_set(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		     const struct nic_vf_config *vc, char *err, size_t errlen)
{
#ifdef CMC_TEST_BUILD
	if (cards && test_refuses(cards, slot, pf, vf, vc)) {
		snprintf(err, errlen, "slot %u pf %u vf %u: refused by the card (CMC_CARD_REFUSE)", slot, pf, vf);
		return -EIO;
	}
#endif
	return change_vf(cards, slot, pf, vf, vc, err, errlen);
}

bool cmc_cards_port_link_up(struct cmc_cards *cards, unsigned slot, unsigned pf)
{
	struct card *c = cards ? find_card(cards, slot, pf) : NULL;

	return c && c->nic && !c->dead && !c->link_down;
}

bool cmc_cards_port(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned *num_vfs)
{
	struct card *c = cards ? find_card(cards, slot, pf) : NULL;

	if (!c || !c->nic || c->dead)
		return false;
	if (num_vfs)
		*num_vfs = c->nic->num_vfs;
	return true;
}

unsigned cmc_cards_port_caps(struct cmc_cards *cards, unsigned slot, unsigned pf)
{
	struct card *c = cards ? find_card(cards, slot, pf) : NULL;

	if (!c || !c->nic || c->dead)
		return 0;
	return (c->nic->ops->set_port_mode ? CMC_CARD_CAN_LOOPBACK : 0) | (c->nic->ops->fdb_set ? CMC_CARD_CAN_FDB : 0);
}

int cmc_cards_set_port_mode(struct cmc_cards *cards, unsigned slot, unsigned pf,
			    enum nic_port_mode mode, char *err, size_t errlen)
{
	struct card *c = driven_card(cards, slot, pf, err, errlen);
	int rc;

	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (!c->nic->ops->set_port_mode) {
		snprintf(err, errlen, "slot %u pf %u: the %s driver cannot hold a port in loopback", slot,
			 pf, c->nic->ops->name);
		rc = mode == NIC_PORT_NORMAL ? 0 : -EOPNOTSUPP;
	} else {
		rc = c->nic->ops->set_port_mode(c->nic, mode, err, errlen);
	}
	if (!rc)
		c->mode = mode;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cmc_cards_fdb_set(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		      const uint8_t mac[6], bool add, char *err, size_t errlen)
{
	struct card *c = driven_card(cards, slot, pf, err, errlen);
	int rc;

	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	if (!c->nic->ops->fdb_set) {
		snprintf(err, errlen, "slot %u pf %u: the %s driver has no static entries", slot, pf,
			 c->nic->ops->name);
		rc = -EOPNOTSUPP;
	} else if (add) {
		/* On the VF's own VLAN: the card tags and filters the pool by it. */
		uint16_t vlan = vf < NIC_MAX_VFS ? c->vfcfg[vf].vlan : 0;

		rc = vb_fdb_add(c->veb, vf, mac, vlan, err, errlen);
		if (!rc) {
			rc = c->nic->ops->fdb_set(c->nic, vf, mac, true, err, errlen);
			if (rc)
				(void)!vb_fdb_del(c->veb, mac, vlan, NULL, 0);
		}
	} else {
		rc = vb_fdb_del(c->veb, mac, vf < NIC_MAX_VFS ? c->vfcfg[vf].vlan : 0, err, errlen);
		if (!rc)
			rc = c->nic->ops->fdb_set(c->nic, vf, mac, false, err, errlen);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cmc_cards_fdb_move(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned from, unsigned to,
		       const uint8_t mac[6], char *err, size_t errlen)
{
	struct card *c = driven_card(cards, slot, pf, err, errlen);
	uint16_t vlan_from, vlan_to;
	int rc;

	if (!c)
		return -ENOENT;
	if (from >= NIC_MAX_VFS || to >= NIC_MAX_VFS) {
		snprintf(err, errlen, "no VF %u on slot %u pf %u", from >= NIC_MAX_VFS ? from : to, slot, pf);
		return -ENOENT;
	}
	pthread_mutex_lock(&c->lock);
	vlan_from = c->vfcfg[from].vlan;
	vlan_to = c->vfcfg[to].vlan;
	if (!c->nic->ops->fdb_set) {
		snprintf(err, errlen, "slot %u pf %u: the %s driver has no static entries", slot, pf,
			 c->nic->ops->name);
		rc = -EOPNOTSUPP;
		goto out;
	}
	rc = vb_fdb_del(c->veb, mac, vlan_from, err, errlen);
	if (rc)
		goto out;
	rc = vb_fdb_add(c->veb, to, mac, vlan_to, err, errlen);
	if (!rc) {
		rc = c->nic->ops->fdb_set(c->nic, to, mac, true, err, errlen);
		if (!rc)
			goto out;
		(void)!vb_fdb_del(c->veb, mac, vlan_to, NULL, 0);
	}
	(void)!vb_fdb_add(c->veb, from, mac, vlan_from, NULL, 0);	/* as it was */
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static int current_vf(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		      struct nic_vf_config *out, char *err, size_t errlen)
{
	struct card *c = driven_card(cards, slot, pf, err, errlen);

	if (!c)
		return -ENOENT;
	if (vf >= c->nic->num_vfs || vf >= NIC_MAX_VFS) {
		snprintf(err, errlen, "no VF %u on slot %u pf %u (%u enabled)", vf, slot, pf,
			 c->nic->num_vfs);
		return -ENOENT;
	}
	*out = c->vfcfg[vf];
	return 0;
}

int cmc_cards_vf_get(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
		     struct nic_vf_config *out, char *err, size_t errlen)
{
	struct card *c = cards ? find_card(cards, slot, pf) : NULL;
	int rc;

	if (!c)
		return current_vf(cards, slot, pf, vf, out, err, errlen);
	pthread_mutex_lock(&c->lock);
	rc = current_vf(cards, slot, pf, vf, out, err, errlen);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cmc_cards_vf_frames(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf, uint64_t *frames)
{
	struct card *c = cards ? find_card(cards, slot, pf) : NULL;
	struct nic_stats st = { 0 };
	int rc = -ENODEV;

	if (!c)
		return rc;
	pthread_mutex_lock(&c->lock);
	if (c->nic && !c->dead)
		rc = c->nic->ops->vf_stats(c->nic, vf, &st);
	pthread_mutex_unlock(&c->lock);
	*frames = st.rx_packets + st.tx_packets;
	return rc;
}

int cmc_cards_set_trust(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
			bool trusted, char *err, size_t errlen)
{
	struct nic_vf_config vc;
	int rc = current_vf(cards, slot, pf, vf, &vc, err, errlen);

	if (rc)
		return rc;
	vc.trusted = trusted;
	vc.spoofchk = !trusted;
	return change_vf(cards, slot, pf, vf, &vc, err, errlen);
}

int cmc_cards_set_link_state(struct cmc_cards *cards, unsigned slot, unsigned pf, unsigned vf,
			     enum nic_link_state state, char *err, size_t errlen)
{
	struct nic_vf_config vc;
	int rc = current_vf(cards, slot, pf, vf, &vc, err, errlen);

	if (rc)
		return rc;
	vc.link_state = state;
	return change_vf(cards, slot, pf, vf, &vc, err, errlen);
}

/* --- Records for the API ------------------------------------------------------------ */

/* The VF's transmit limit: asked (Mbit/s), and what the driver wrote and the card kept. */
static void vf_rate_fields(const struct card *c, unsigned vf, struct cmc_buf *b)
{
	struct nic_vf_rate r;
	char reg[16];

	cmc_rec_int(b, "rate", c->vfcfg[vf].max_tx_rate_mbps);
	if (!c->nic->ops->vf_rate || c->nic->ops->vf_rate(c->nic, vf, &r) != 0)
		return;
	snprintf(reg, sizeof(reg), "0x%08x", (unsigned)r.reg);
	cmc_rec_str(b, "rate_reg", reg);
	cmc_rec_int(b, "rate_link_mbps", r.link_mbps);
	cmc_rec_bool(b, "rate_kept", r.kept);
}

static void vf_record(const struct card *c, unsigned vf, const struct nic_stats *st, struct cmc_buf *b)
{
	char macs[18];

	vb_mac_str(c->vfcfg[vf].mac, macs);
	cmc_rec_begin(b, "vfstat");
	cmc_rec_int(b, "slot", c->slot);
	cmc_rec_int(b, "pf", c->pf);
	cmc_rec_int(b, "vf", vf);
	cmc_rec_str(b, "mac", macs);
	cmc_rec_int(b, "rx_packets", (long long)st->rx_packets);
	cmc_rec_int(b, "tx_packets", (long long)st->tx_packets);
	cmc_rec_int(b, "rx_bytes", (long long)st->rx_bytes);
	cmc_rec_int(b, "tx_bytes", (long long)st->tx_bytes);
	cmc_rec_int(b, "mbx_messages", (long long)st->mbx_messages);
	cmc_rec_int(b, "mbx_refused", (long long)st->mbx_refused);
	cmc_rec_int(b, "mbx_rate_limited", (long long)st->mbx_rate_limited);
	cmc_rec_int(b, "mbx_resets", (long long)st->mbx_resets);
	cmc_rec_int(b, "mbx_penalties", (long long)st->mbx_penalties);
	cmc_rec_int(b, "mbx_ignored", (long long)st->mbx_ignored);
	vf_rate_fields(c, vf, b);
	cmc_rec_end(b);
}

static void port_record(const struct card *c, const struct nic_stats *st, struct cmc_buf *b)
{
	cmc_rec_begin(b, "portstat");
	cmc_rec_int(b, "slot", c->slot);
	cmc_rec_int(b, "pf", c->pf);
	cmc_rec_str(b, "driver", c->nic->ops->name);
	cmc_rec_str(b, "mode", c->mode == NIC_PORT_LOOPBACK ? "loopback" : "normal");
	cmc_rec_int(b, "rx_packets", (long long)st->rx_packets);
	cmc_rec_int(b, "tx_packets", (long long)st->tx_packets);
	cmc_rec_int(b, "rx_bytes", (long long)st->rx_bytes);
	cmc_rec_int(b, "tx_bytes", (long long)st->tx_bytes);
	cmc_rec_end(b);
}

void cmc_cards_port_records(struct cmc_cards *cards, struct cmc_buf *b)
{
	for (unsigned i = 0; cards && i < cards->n; i++) {
		struct card *c = &cards->cards[i];
		struct nic_stats st;

		pthread_mutex_lock(&c->lock);
		if (c->nic && !c->dead && c->nic->ops->port_stats(c->nic, &st) == 0)
			port_record(c, &st, b);
		pthread_mutex_unlock(&c->lock);
	}
}

void cmc_cards_records(struct cmc_cards *cards, struct cmc_buf *b)
{
	for (unsigned i = 0; cards && i < cards->n; i++) {
		struct card *c = &cards->cards[i];

		pthread_mutex_lock(&c->lock);
		for (unsigned vf = 0; c->nic && !c->dead && vf < c->nic->num_vfs; vf++) {
			struct nic_stats st;
			if (c->nic->ops->vf_stats(c->nic, vf, &st) == 0)
				vf_record(c, vf, &st, b);
		}
		pthread_mutex_unlock(&c->lock);
	}
}

/* `bridge fdb`-like rows of one port's VEB, with the counters of the pools they reach. */
/* What the VFs of c obtained through their mailboxes: "fdb" rows of kind "granted". */
static void granted_records(struct card *c, struct cmc_buf *b)
{
	struct cmc_cards *cs = c->owner;
	struct granted g[NIC_MAX_VFS];

	pthread_mutex_lock(&cs->owned_lock);
	memcpy(g, cs->granted[c - cs->cards], sizeof(g));
	pthread_mutex_unlock(&cs->owned_lock);
	for (unsigned vf = 0; vf < NIC_MAX_VFS; vf++)
		for (unsigned k = 0; k < g[vf].n; k++) {
			char mac[18], pool[4];
			struct nic_stats st = { 0 };

			snprintf(pool, sizeof(pool), "%u", vf);
			(void)!c->nic->ops->vf_stats(c->nic, vf, &st);
			cmc_rec_begin(b, "fdb");
			cmc_rec_int(b, "slot", c->slot);
			cmc_rec_int(b, "pf", c->pf);
			cmc_rec_str(b, "mac", vb_mac_str(g[vf].mac[k], mac));
			cmc_rec_int(b, "vlan", vf < NIC_MAX_VFS ? c->vfcfg[vf].vlan : 0);
			cmc_rec_str(b, "pools", pool);
			cmc_rec_str(b, "kind", "granted");
			cmc_rec_int(b, "rx_packets", (long long)st.rx_packets);
			cmc_rec_int(b, "rx_bytes", (long long)st.rx_bytes);
			cmc_rec_end(b);
		}
}

static void fdb_records(struct card *c, struct cmc_buf *b)
{
	struct vb_entry e[64];
	struct vb_usage u;
	size_t n = vb_fdb(c->veb, e, 64);

	vb_usage(c->veb, &u);
	cmc_rec_begin(b, "veb");
	cmc_rec_int(b, "slot", c->slot);
	cmc_rec_int(b, "pf", c->pf);
	cmc_rec_str(b, "mode", c->mode == NIC_PORT_LOOPBACK ? "loopback" : "normal");
	cmc_rec_int(b, "rar_used", u.rar_used);
	cmc_rec_int(b, "rar_total", u.rar_total);
	cmc_rec_int(b, "vlan_used", u.vlan_used);
	cmc_rec_int(b, "vlan_total", u.vlan_total);
	cmc_rec_int(b, "vfs_used", u.vfs_used);
	cmc_rec_int(b, "vfs_total", u.vfs_total);
	cmc_rec_end(b);
	for (size_t i = 0; i < n && i < 64; i++) {
		static const char *const kinds[] = { "primary", "static", "flood" };
		struct nic_stats st = { 0 }, one;
		char mac[18], pools[32] = "";
		size_t off = 0;

		for (unsigned vf = 0; vf < NIC_MAX_VFS; vf++) {
			if (!(e[i].pools & (1u << vf)))
				continue;
			off += (size_t)snprintf(pools + off, sizeof(pools) - off, "%s%u", off ? "," : "", vf);
			if (off >= sizeof(pools))
				off = sizeof(pools) - 1;
			if (c->nic->ops->vf_stats(c->nic, vf, &one) == 0) {
				st.rx_packets += one.rx_packets;
				st.rx_bytes += one.rx_bytes;
			}
		}
		cmc_rec_begin(b, "fdb");
		cmc_rec_int(b, "slot", c->slot);
		cmc_rec_int(b, "pf", c->pf);
		cmc_rec_str(b, "mac", vb_mac_str(e[i].mac, mac));
		cmc_rec_int(b, "vlan", e[i].vlan);
		cmc_rec_str(b, "pools", *pools ? pools : "-");
		cmc_rec_str(b, "kind", kinds[e[i].kind]);
		cmc_rec_int(b, "rx_packets", (long long)st.rx_packets);
		cmc_rec_int(b, "rx_bytes", (long long)st.rx_bytes);
		cmc_rec_end(b);
	}
	granted_records(c, b);
}

void cmc_cards_fdb_records(struct cmc_cards *cards, int slot, struct cmc_buf *b)
{
	for (unsigned i = 0; cards && i < cards->n; i++) {
		struct card *c = &cards->cards[i];

		if (slot >= 0 && c->slot != (unsigned)slot)
			continue;
		pthread_mutex_lock(&c->lock);
		if (c->nic && !c->dead && c->veb)
			fdb_records(c, b);
		pthread_mutex_unlock(&c->lock);
	}
}
