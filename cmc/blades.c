/* SPDX-License-Identifier: MIT */
/*
 * Blades and what joins them, as the admin states it and the store keeps it:
 *
 *   assign/S/P/V   a VF given to a blade: "blade=B mac=M vlan=X rate=R trusted=0|1 lane=L|-"
 *   domain/NAME    a VLAN inside the chassis and the blades in it: "vlan=X blades=a,b"
 *   lane/NAME      a private domain between two blades: "slot=S pf=P vlan=X net=N"
 *   port/S/P       a port's role when it differs from the configuration: "role=midplane"
 *   fdb/S/P/MAC    a static forwarding entry: "vf=V"
 *
 * Every change is checked in full first (the card's bridge model included), then the
 * intent is committed, then applied: to the card (cards.c) and to the blade (mgmt-proc's
 * blade backend). A crash after the commit leaves an intent the next start applies in
 * full; a crash before it leaves nothing behind. Removals commit first as well. So an
 * assignment is all there or not there, and a MAC is never given to two VFs: the check
 * covers every assignment, and the chassis' default MACs (macs.h) are its own.
 *
 * A VF's VLAN follows from its role: a lane's VLAN, else the one asked for at assign
 * time, else its blade's domain's, else none (the untagged default domain).
 */
#include "blades.h"

#include "blade.h"
#include "cards.h"
#include "daemon.h"
#include "log.h"
#include "macs.h"
#include "vbridge.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSIGN_MAX 256
#define DOMAIN_MAX 64
#define LANE_MAX 64
#define ROLE_MAX 64
#define NAME_MAX_LEN 16		/* domain and lane names */
#define LANE_NAME_MAX 10	/* the lane's netdev is "ln-NAME" (IFNAMSIZ 16) */
#define DOMAIN_VLAN_MIN 2
#define DOMAIN_VLAN_MAX 3999
#define LANE_VLAN_MIN 4000	/* lanes take VLANs from the top, domains never do */
#define LANE_VLAN_MAX 4094
#define PLACE_RETRY_MS 300	/* a VF without its netdev yet: look again */
#define KICK_AFTER_MS 4000	/* up in its blade without carrier (port up) this long: kicked */

struct assignment {
	bool used;
	unsigned slot, pf, vf;
	char blade[CMC_CONFIG_NAME_MAX + 1];
	uint8_t mac[6];
	uint16_t vlan;			/* asked for at assign time; 0 = from the domain */
	unsigned rate;
	bool trusted;
	char lane[LANE_NAME_MAX + 1];	/* "" = not a lane's */
	char vm[NAME_MAX_LEN + 1];	/* "" = not a VM profile's */
	bool placed;			/* its netdev is in the blade */
	unsigned long long kick_at;	/* ms: up without carrier since, kicked at; 0 = fine */
};

/* A blade's stream of link changes (mp_blade_watch_open), in the daemon's loop. */
struct blade_watch {
	struct cmc_blades *b;
	const char *blade;		/* the configuration's name */
	int fd;
	struct cmc_watch *w;
};

struct domain {
	bool used;
	char name[NAME_MAX_LEN + 1];
	uint16_t vlan;
	uint64_t members;		/* bit per blade, by index in the configuration */
};

struct lane {
	bool used;
	char name[LANE_NAME_MAX + 1];
	unsigned slot, pf, net;		/* addresses 169.254.net.1 and .2 */
	uint16_t vlan;
};

struct role {
	bool used;
	unsigned slot, pf;
	enum cmc_port_role role;
};

struct cmc_blades {
	struct cmcd *d;
	struct mp_blade_backend *be;
	struct cmc_timer *place_timer;
	struct cmc_timer *kick_timer;	/* armed for the earliest kick_at, else idle */
	struct blade_watch watches[CMC_CONFIG_BLADES_MAX];
	const char *failpoint;
	struct assignment a[ASSIGN_MAX];
	struct domain dom[DOMAIN_MAX];
	struct lane lanes[LANE_MAX];
	struct role roles[ROLE_MAX];
};

/*
 * Fault injection for the crash tests: CMC_FAILPOINT=NAME makes cmcd kill itself when it
 * reaches that point, which is how a test stops it "inside" an assignment reliably.
 */
static void failpoint(const struct cmc_blades *b, const char *name)
{
	if (b->failpoint && strcmp(b->failpoint, name) == 0) {
		log_warnx("failpoint %s: killing cmcd", name);
		raise(SIGKILL);
	}
}



static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
			return false;
	return true;
}

static int blade_index(const struct cmcd *d, const char *name)
{
	for (unsigned i = 0; i < d->config->blade_count; i++)
		if (strcmp(d->config->blades[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void blade_list(const struct cmcd *d, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < d->config->blade_count && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", d->config->blades[i].name);
}

/* --- Lookups ----------------------------------------------------------------------- */

static struct assignment *find_assignment(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf)
{
	for (unsigned i = 0; i < ASSIGN_MAX; i++)
		if (b->a[i].used && b->a[i].slot == slot && b->a[i].pf == pf && b->a[i].vf == vf)
			return &b->a[i];
	return NULL;
}

static struct assignment *free_assignment(struct cmc_blades *b)
{
	for (unsigned i = 0; i < ASSIGN_MAX; i++)
		if (!b->a[i].used)
			return &b->a[i];
	return NULL;
}

static struct domain *find_domain(struct cmc_blades *b, const char *name)
{
	for (unsigned i = 0; i < DOMAIN_MAX; i++)
		if (b->dom[i].used && strcmp(b->dom[i].name, name) == 0)
			return &b->dom[i];
	return NULL;
}

static struct domain *domain_of_blade(struct cmc_blades *b, const char *blade)
{
	int bi = blade_index(b->d, blade);

	for (unsigned i = 0; bi >= 0 && i < DOMAIN_MAX; i++)
		if (b->dom[i].used && (b->dom[i].members & (1ull << bi)))
			return &b->dom[i];
	return NULL;
}

static struct domain *domain_of_vlan(struct cmc_blades *b, uint16_t vlan)
{
	for (unsigned i = 0; i < DOMAIN_MAX; i++)
		if (b->dom[i].used && b->dom[i].vlan == vlan)
			return &b->dom[i];
	return NULL;
}

static struct lane *find_lane(struct cmc_blades *b, const char *name)
{
	for (unsigned i = 0; i < LANE_MAX; i++)
		if (b->lanes[i].used && strcmp(b->lanes[i].name, name) == 0)
			return &b->lanes[i];
	return NULL;
}

static enum cmc_port_role port_role(struct cmc_blades *b, unsigned slot, unsigned pf)
{
	const struct cmc_config_slot *cs = cmc_config_slot_by_number(b->d->config, slot);

	for (unsigned i = 0; i < ROLE_MAX; i++)
		if (b->roles[i].used && b->roles[i].slot == slot && b->roles[i].pf == pf)
			return b->roles[i].role;
	for (unsigned i = 0; cs && i < cs->port_count; i++)
		if (cs->ports[i].pf == pf)
			return cs->ports[i].role;
	return CMC_PORT_UPLINK;
}

static uint16_t effective_vlan(const struct cmc_blades *b, const struct assignment *a)
{
	int bi = blade_index(b->d, a->blade);

	for (unsigned i = 0; a->lane[0] && i < LANE_MAX; i++)
		if (b->lanes[i].used && strcmp(b->lanes[i].name, a->lane) == 0)
			return b->lanes[i].vlan;
	if (a->vlan)
		return a->vlan;
	for (unsigned i = 0; bi >= 0 && i < DOMAIN_MAX; i++)
		if (b->dom[i].used && (b->dom[i].members & (1ull << bi)))
			return b->dom[i].vlan;
	return 0;
}

static void ifname_of(const struct assignment *a, char buf[16])
{
	if (a->lane[0])
		snprintf(buf, 16, "ln-%s", a->lane);
	else if (a->pf)
		snprintf(buf, 16, "s%up%uv%u", a->slot, a->pf, a->vf);
	else
		snprintf(buf, 16, "s%uv%u", a->slot, a->vf);
}

/* The chassis' own default MACs (macs.h); nobody else may take one. */
static bool mac_is_default_range(const struct cmc_blades *b, const uint8_t mac[6])
{
	return cmc_mac_in_chassis_range(b->d->chassis_id, mac);
}

static const struct assignment *mac_owner(struct cmc_blades *b, const uint8_t mac[6])
{
	for (unsigned i = 0; i < ASSIGN_MAX; i++)
		if (b->a[i].used && memcmp(b->a[i].mac, mac, 6) == 0)
			return &b->a[i];
	return NULL;
}

/* --- The store ---------------------------------------------------------------------- */

static void assignment_key(const struct assignment *a, char *key, size_t len)
{
	snprintf(key, len, "assign/%u/%u/%u", a->slot, a->pf, a->vf);
}

static void assignment_value(const struct assignment *a, char *val, size_t len)
{
	char mac[18];

	snprintf(val, len, "blade=%s mac=%s vlan=%u rate=%u trusted=%d lane=%s vm=%s", a->blade,
		 vb_mac_str(a->mac, mac), a->vlan, a->rate, a->trusted, a->lane[0] ? a->lane : "-",
		 a->vm[0] ? a->vm : "-");
}

static void domain_value(const struct cmc_blades *b, const struct domain *dm, char *val, size_t len)
{
	size_t off = (size_t)snprintf(val, len, "vlan=%u blades=", dm->vlan);
	bool first = true;

	for (unsigned i = 0; i < b->d->config->blade_count && off < len; i++) {
		if (!(dm->members & (1ull << i)))
			continue;
		off += (size_t)snprintf(val + off, len - off, "%s%s", first ? "" : ",",
					b->d->config->blades[i].name);
		first = false;
	}
	if (first && off < len)
		snprintf(val + off, len - off, "-");
}


static int kv_uint(const char *value, const char *k, unsigned max, unsigned *out)
{
	char buf[16];

	return cmc_store_field(value, k, buf, sizeof(buf)) ? -EINVAL : cmc_api_parse_uint(buf, max, out);
}

static int commit(struct cmc_blades *b, char *err, size_t errlen)
{
	int rc = cmc_store_commit(b->d->store);

	if (rc)
		snprintf(err, errlen, "the store refused the change: %s", cmc_store_error(b->d->store));
	return rc;
}

/* --- Applying ------------------------------------------------------------------------ */

static void config_of(struct cmc_blades *b, const struct assignment *a, struct nic_vf_config *vc)
{
	*vc = (struct nic_vf_config){
		.vlan = effective_vlan(b, a), .trusted = a->trusted, .spoofchk = !a->trusted,
		.max_tx_rate_mbps = a->rate,
	};
	memcpy(vc->mac, a->mac, 6);
}

/* Puts the VF's netdev into its blade; 0, or -EAGAIN while the VF has no netdev yet. */
static int place(struct cmc_blades *b, struct assignment *a)
{
	struct mp_addr addr = { .slot = a->slot, .pf = a->pf, .vf = (int)a->vf };
	struct mp_bdf bdf;
	char bdfs[MP_BDF_STRLEN], ifname[16], err[256] = "";
	int rc;

	if (a->placed)
		return 0;
	if (!b->be)
		return -ENOTSUP;
	if (mp_resolve(b->d->inv, &addr, &bdf, NULL, NULL) < 0)
		return -EAGAIN;
	ifname_of(a, ifname);
	rc = mp_blade_map(b->be, mp_bdf_str(&bdf, bdfs), a->blade, ifname, err, sizeof(err));
	if (rc == -EAGAIN)
		return rc;
	if (!rc && a->lane[0]) {
		const struct lane *l = find_lane(b, a->lane);
		char cidr[32];
		const struct assignment *first = NULL;

		/* The lane's first VF (lower VF number) is .1, the other .2. */
		for (unsigned i = 0; l && i < ASSIGN_MAX; i++)
			if (b->a[i].used && strcmp(b->a[i].lane, a->lane) == 0 &&
			    (!first || b->a[i].vf < first->vf))
				first = &b->a[i];
		snprintf(cidr, sizeof(cidr), "169.254.%u.%u/24", l ? l->net : 0, first == a ? 1 : 2);
		if (l)
			rc = mp_blade_set_addr(b->be, a->blade, ifname, cidr, err, sizeof(err));
	}
	if (rc) {
		cmc_events_post(b->d->events, "blade-error", (int)a->slot, "pf %u vf %u into %s: %s",
				a->pf, a->vf, a->blade, *err ? err : strerror(-rc));
		return rc;
	}
	a->placed = true;
	cmc_events_post(b->d->events, "vf-placed", (int)a->slot, "pf %u vf %u is %s in blade %s", a->pf,
			a->vf, ifname, a->blade);
	return 0;
}

static void place_all(struct cmc_blades *b)
{
	bool pending = false;

	for (unsigned i = 0; i < ASSIGN_MAX; i++)
		if (b->a[i].used && !b->a[i].placed && place(b, &b->a[i]) == -EAGAIN)
			pending = true;
	if (b->place_timer)
		(void)!cmc_timer_arm(b->place_timer, pending ? PLACE_RETRY_MS : 0, 0);
}

static void place_due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	place_all(arg);
}

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

	for (unsigned i = 0; i < ASSIGN_MAX; i++)
		if (b->a[i].used && b->a[i].kick_at && (!next || b->a[i].kick_at < next))
			next = b->a[i].kick_at;
	if (b->kick_timer)
		(void)!cmc_timer_arm(b->kick_timer, !next ? 0 : next <= now ? 1 : (unsigned)(next - now), 0);
}

/* The link state of a's netdev is now this: start, keep or drop its kick deadline. */
static void carrier_seen(struct assignment *a, bool present, bool up, bool carrier)
{
	if (!a->placed || !present || !up || carrier)
		a->kick_at = 0;
	else if (!a->kick_at)
		a->kick_at = cmc_now_ms() + KICK_AFTER_MS;
}

/* Asks the blade for a's netdev as it is now (into ifname) and updates its kick deadline. */
static void look_again(struct cmc_blades *b, struct assignment *a, char ifname[16])
{
	struct mp_blade_netdev nd;
	char err[128];

	ifname_of(a, ifname);
	if (mp_blade_netdev(b->be, a->blade, ifname, &nd, err, sizeof(err)) < 0)
		nd.present = false;
	carrier_seen(a, nd.present, nd.up, nd.carrier);
}

static void kick(struct cmc_blades *b, struct assignment *a, const char *ifname)
{
	char err[128];

	(void)!mp_blade_set_up(b->be, a->blade, ifname, false, err, sizeof(err));
	(void)!mp_blade_set_up(b->be, a->blade, ifname, true, err, sizeof(err));
	cmc_events_post(b->d->events, "vf-kicked", (int)a->slot,
			"pf %u vf %u (%s in %s): no carrier for %d s with the port up; reset it", a->pf, a->vf,
			ifname, a->blade, KICK_AFTER_MS / 1000);
}

static void kick_due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_blades *b = arg;
	unsigned long long now = cmc_now_ms();
	(void)loop;
	(void)t;

	for (unsigned i = 0; b->be && i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];
		char ifname[16];

		if (!a->used || !a->kick_at || a->kick_at > now)
			continue;
		look_again(b, a, ifname);
		if (!a->kick_at)
			continue;
		/* Its port down: no carrier is expected; look again later. */
		a->kick_at = now + KICK_AFTER_MS;
		if (cmc_cards_port_link_up(b->d->cards, a->slot, a->pf))
			kick(b, a, ifname);
	}
	arm_kick_timer(b);
}

/* Every placed VF of the blade looked at anew (at start, or after lost link changes). */
static void carrier_resync(struct cmc_blades *b, const char *blade)
{
	for (unsigned i = 0; b->be && i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];
		char ifname[16];

		if (a->used && strcmp(a->blade, blade) == 0)
			look_again(b, a, ifname);
	}
}

static void on_link_change(void *arg, const char *ifname, bool present, bool up, bool carrier)
{
	struct blade_watch *bw = arg;
	struct cmc_blades *b = bw->b;
	char name[16];

	if (!ifname) {
		carrier_resync(b, bw->blade);
		return;
	}
	for (unsigned i = 0; i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];

		if (!a->used || strcmp(a->blade, bw->blade) != 0)
			continue;
		ifname_of(a, name);
		if (strcmp(name, ifname) == 0)
			carrier_seen(a, present, up, carrier);
	}
}

static void blade_link_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct blade_watch *bw = arg;
	int rc;
	(void)events;

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

static void watch_blades(struct cmc_blades *b)
{
	const struct cmc_config *cfg = b->d->config;
	char err[160];

	for (unsigned i = 0; b->be && i < cfg->blade_count && i < CMC_CONFIG_BLADES_MAX; i++) {
		struct blade_watch *bw = &b->watches[i];

		*bw = (struct blade_watch){ .b = b, .blade = cfg->blades[i].name, .fd = -1 };
		if (mp_blade_watch_open(b->be, bw->blade, &bw->fd, err, sizeof(err)) < 0) {
			log_warnx("%s: stuck VFs will not be kicked", err);
			continue;
		}
		if (cmc_loop_add_fd(b->d->loop, bw->fd, EPOLLIN, blade_link_ready, bw, &bw->w) < 0) {
			close(bw->fd);
			bw->fd = -1;
		}
	}
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

void cmc_blades_kick(struct cmc_blades *b)
{
	if (!b)
		return;
	/* A VF re-created (a card reset) has a new netdev in the root namespace: whatever
	 * is no longer in its blade is placed again. */
	for (unsigned i = 0; b->be && i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];
		struct mp_blade_netdev nd;
		char ifname[16], err[128];

		if (!a->used || !a->placed)
			continue;
		ifname_of(a, ifname);
		if (mp_blade_netdev(b->be, a->blade, ifname, &nd, err, sizeof(err)) < 0 || !nd.present)
			a->placed = false;
	}
	place_all(b);
}

struct owned_list {
	struct cmc_owned_mac *m;
	size_t n, cap;
};

static int owned_add(struct owned_list *l, const uint8_t mac[6], unsigned slot, unsigned pf, int vf)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct cmc_owned_mac *m = realloc(l->m, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		l->m = m;
		l->cap = cap;
	}
	l->m[l->n] = (struct cmc_owned_mac){ .slot = slot, .pf = pf, .vf = vf };
	memcpy(l->m[l->n++].mac, mac, 6);
	return 0;
}

/* A static entry's record, "fdb/S/P/MAC" = "vf=N". 0, or -EINVAL if unreadable. */
static int parse_fdb(const char *key, const char *value, unsigned *slot, unsigned *pf, uint8_t mac[6],
		     unsigned *vf)
{
	char macs[24];

	if (sscanf(key, "fdb/%u/%u/%23s", slot, pf, macs) != 3 || vb_mac_parse(macs, mac) < 0 ||
	    kv_uint(value, "vf", 7, vf) < 0)
		return -EINVAL;
	return 0;
}

static int owned_fdb(const char *key, const char *value, void *arg)
{
	unsigned slot, pf, vf;
	uint8_t mac[6];

	if (parse_fdb(key, value, &slot, &pf, mac, &vf) == 0)
		return owned_add(arg, mac, slot, pf, -1);
	return 0;
}

/*
 * Tells the cards' mailboxes who owns which MAC in the chassis: every assignment's (a VF's
 * primary: lanes and VM profiles included) and every static entry's. Called after every
 * change of either; a failure leaves the previous list, and says so.
 */
static void publish_macs(struct cmc_blades *b)
{
	struct owned_list l = { 0 };
	int rc = 0;

	for (unsigned i = 0; i < ASSIGN_MAX && !rc; i++)
		if (b->a[i].used)
			rc = owned_add(&l, b->a[i].mac, b->a[i].slot, b->a[i].pf, (int)b->a[i].vf);
	if (!rc)
		rc = cmc_store_foreach(b->d->store, "fdb/", owned_fdb, &l);
	if (!rc)
		rc = cmc_cards_set_owned_macs(b->d->cards, l.m, l.n);
	if (rc)
		log_warn(rc, "the VFs' mailboxes keep an older list of the chassis' MACs");
	free(l.m);
}

/* To the card, then into the blade. failpoint_name: where a crash test may stop it. */
static int apply_at(struct cmc_blades *b, struct assignment *a, const char *failpoint_name, char *err,
		    size_t errlen)
{
	struct nic_vf_config vc, cur;
	struct mp_blade_netdev nd = { 0 };
	char ifname[16], ignored[128];
	bool bounce;
	int rc;

	config_of(b, a, &vc);
	ifname_of(a, ifname);
	/*
	 * A change makes the VF reset and ask for its configuration again. If its netdev is
	 * up in the blade, take it down for the change and up after: the driver then resets
	 * at a time of its choosing instead of racing the PF (igbvf gives the PF about a
	 * millisecond of guest time to answer, which TCG easily misses).
	 */
	bounce = cmc_cards_vf_get(b->d->cards, a->slot, a->pf, a->vf, &cur, ignored, sizeof(ignored)) == 0 &&
		 !nic_vf_config_equal(&cur, &vc) && b->be &&
		 mp_blade_netdev(b->be, a->blade, ifname, &nd, ignored, sizeof(ignored)) == 0 && nd.present &&
		 nd.up;
	if (bounce)
		(void)!mp_blade_set_up(b->be, a->blade, ifname, false, ignored, sizeof(ignored));
	/* The mailboxes learn the new owner before the card does (a VF asking meanwhile). */
	publish_macs(b);
	rc = cmc_cards_vf_set(b->d->cards, a->slot, a->pf, a->vf, &vc, err, errlen);
	if (bounce)
		(void)!mp_blade_set_up(b->be, a->blade, ifname, true, ignored, sizeof(ignored));
	if (rc)
		return rc;
	if (failpoint_name)
		failpoint(b, failpoint_name);
	a->placed = false;
	rc = place(b, a);
	if (rc == -EAGAIN)
		place_all(b);
	return 0;
}

static int apply(struct cmc_blades *b, struct assignment *a, char *err, size_t errlen)
{
	return apply_at(b, a, NULL, err, errlen);
}

/* Back to the VF's default; its netdev leaves the blade. */
static void unapply(struct cmc_blades *b, struct assignment *a)
{
	struct mp_addr addr = { .slot = a->slot, .pf = a->pf, .vf = (int)a->vf };
	struct nic_vf_config vc;
	struct mp_bdf bdf;
	char bdfs[MP_BDF_STRLEN], ifname[16], err[256] = "";

	ifname_of(a, ifname);
	if (b->be && mp_resolve(b->d->inv, &addr, &bdf, NULL, NULL) == 0 &&
	    mp_blade_unmap(b->be, mp_bdf_str(&bdf, bdfs), a->blade, ifname, err, sizeof(err)) < 0)
		log_warnx("slot %u pf %u vf %u out of %s: %s", a->slot, a->pf, a->vf, a->blade, err);
	cmc_cards_vf_default(b->d->chassis_id, a->slot, a->pf, a->vf, &vc);
	if (cmc_cards_vf_set(b->d->cards, a->slot, a->pf, a->vf, &vc, err, sizeof(err)) < 0)
		log_warnx("slot %u pf %u vf %u back to its default: %s", a->slot, a->pf, a->vf, err);
}

/* Re-applies every VF of the blade whose VLAN comes from its domain. */
static void reapply_blade(struct cmc_blades *b, const char *blade)
{
	char err[256];

	for (unsigned i = 0; i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];
		if (!a->used || strcmp(a->blade, blade) != 0 || a->lane[0] || a->vlan)
			continue;
		if (apply(b, a, err, sizeof(err)) < 0)
			cmc_events_post(b->d->events, "assign-error", (int)a->slot, "pf %u vf %u: %s", a->pf,
					a->vf, err);
	}
}

/* --- Checks shared by assign and lane ------------------------------------------------ */

static int check_vf(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf, char *err,
		    size_t errlen)
{
	unsigned n;
	const struct assignment *a;

	if (!cmc_cards_port(b->d->cards, slot, pf, &n)) {
		snprintf(err, errlen, "slot %u pf %u is not driven by cmcd (no VFs to assign there)", slot, pf);
		return -ENOENT;
	}
	if (vf >= n) {
		snprintf(err, errlen, "no VF %u on slot %u pf %u (%u enabled)", vf, slot, pf, n);
		return -ENOENT;
	}
	a = find_assignment(b, slot, pf, vf);
	if (a) {
		snprintf(err, errlen, "slot %u pf %u vf %u is already assigned to %s%s%s", slot, pf, vf,
			 a->blade, a->lane[0] ? " for lane " : "", a->lane);
		return -EBUSY;
	}
	return 0;
}

/* Would the card's bridge take this VF's settings? Checked by setting and undoing. */
static int check_card(struct cmc_blades *b, const struct assignment *a, char *err, size_t errlen)
{
	struct nic_vf_config vc, old;
	char ignored[64];
	int rc = cmc_cards_vf_get(b->d->cards, a->slot, a->pf, a->vf, &old, err, errlen);

	if (rc)
		return rc;
	config_of(b, a, &vc);
	if (memcmp(&vc, &old, sizeof(vc)) == 0)
		return 0;
	rc = cmc_cards_vf_set(b->d->cards, a->slot, a->pf, a->vf, &vc, err, errlen);
	if (!rc)
		(void)!cmc_cards_vf_set(b->d->cards, a->slot, a->pf, a->vf, &old, ignored, sizeof(ignored));
	return rc;
}

/* --- assign / unassign / assignments ------------------------------------------------ */

/* assign slot N [pf P] vf V blade B [mac M] [vlan X] [rate R] [trusted] */
enum cmc_status cmc_cmd_assign(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] =
		"usage: assign slot N [pf P] vf V blade B [mac M] [vlan X] [rate MBPS] [trusted]";
	struct cmcd *d = ctx;
	struct cmc_blades *b = d->blades;
	struct assignment n = { .used = true };
	bool have_slot = false, have_vf = false, have_mac = false;
	char err[256], key[64], val[200], known[512], mac[18];
	unsigned v;

	if (!b)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	for (int i = 1; i < req->argc; i++) {
		const char *k = req->argv[i], *arg = i + 1 < req->argc ? req->argv[i + 1] : NULL;

		if (strcmp(k, "trusted") == 0) {
			n.trusted = true;
			continue;
		}
		if (!arg)
			return cmc_api_refuse(req, CMC_USAGE, "%s: '%.32s' needs a value", usage, k);
		i++;
		if (strcmp(k, "slot") == 0 && !cmc_api_parse_uint(arg, 255, &n.slot))
			have_slot = true;
		else if (strcmp(k, "pf") == 0 && !cmc_api_parse_uint(arg, 7, &n.pf))
			;
		else if (strcmp(k, "vf") == 0 && !cmc_api_parse_uint(arg, 7, &n.vf))
			have_vf = true;
		else if (strcmp(k, "blade") == 0 && strlen(arg) <= CMC_CONFIG_NAME_MAX)
			snprintf(n.blade, sizeof(n.blade), "%s", arg);
		else if (strcmp(k, "mac") == 0) {
			if (vb_mac_parse(arg, n.mac) < 0 || !vb_mac_is_unicast(n.mac))
				return cmc_api_refuse(req, CMC_REFUSED,
					      "'%.32s' is not a unicast MAC address (like 02:00:00:00:01:01)", arg);
			have_mac = true;
		} else if (strcmp(k, "vlan") == 0) {
			if (cmc_api_parse_uint(arg, 4094, &v) || v == 0)
				return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a VLAN id (1-4094)", arg);
			n.vlan = (uint16_t)v;
		} else if (strcmp(k, "rate") == 0) {
			if (cmc_api_parse_uint(arg, 1000, &n.rate))
				return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a rate in Mbit/s (0-1000)", arg);
		} else
			return cmc_api_refuse(req, CMC_USAGE, "%s (bad '%.32s %.32s')", usage, k, arg);
	}
	if (!have_slot || !have_vf || !n.blade[0])
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (blade_index(d, n.blade) < 0) {
		blade_list(d, known, sizeof(known));
		return cmc_api_refuse(req, CMC_REFUSED, "no blade '%s' in this chassis (blades: %s)", n.blade, known);
	}
	if (check_vf(b, n.slot, n.pf, n.vf, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	if (!have_mac) {
		cmc_cards_vf_mac(d->chassis_id, n.slot, n.pf, n.vf, n.mac);
	} else {
		uint8_t own[6];
		const struct assignment *o = mac_owner(b, n.mac);

		cmc_cards_vf_mac(d->chassis_id, n.slot, n.pf, n.vf, own);
		if (mac_is_default_range(b, n.mac) && memcmp(own, n.mac, 6) != 0)
			return cmc_api_refuse(req, CMC_REFUSED, "MAC %s is in the chassis' own range (%02x:%02x:%02x:%02x:…), "
				      "kept for the VFs' defaults", vb_mac_str(n.mac, mac), own[0], own[1], own[2], own[3]);
		if (o)
			return cmc_api_refuse(req, CMC_REFUSED, "MAC %s is already on slot %u pf %u vf %u (%s)",
				      vb_mac_str(n.mac, mac), o->slot, o->pf, o->vf, o->blade);
	}
	if (n.vlan >= LANE_VLAN_MIN)
		return cmc_api_refuse(req, CMC_REFUSED, "VLAN %u is kept for lanes (%u-%u)", n.vlan, LANE_VLAN_MIN,
			      LANE_VLAN_MAX);
	if (n.vlan) {
		const struct domain *dm = domain_of_vlan(b, n.vlan);
		if (dm && domain_of_blade(b, n.blade) != dm)
			return cmc_api_refuse(req, CMC_REFUSED, "VLAN %u is domain %s's, which %s is not in", n.vlan,
				      dm->name, n.blade);
	}
	if (check_card(b, &n, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);

	struct assignment *slot = free_assignment(b);
	if (!slot)
		return cmc_api_refuse(req, CMC_REFUSED, "too many assignments (%d)", ASSIGN_MAX);
	failpoint(b, "assign:before-commit");
	assignment_key(&n, key, sizeof(key));
	assignment_value(&n, val, sizeof(val));
	if (cmc_store_set(d->store, key, val) < 0 || commit(b, err, sizeof(err)) < 0) {
		cmc_store_rollback(d->store);
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	}
	failpoint(b, "assign:after-commit");
	*slot = n;
	if (apply_at(b, slot, "assign:after-card", err, sizeof(err)) < 0) {
		/* The check passed, so this is the card failing: take the intent back. */
		*slot = (struct assignment){ 0 };
		publish_macs(b);
		if (cmc_store_del(d->store, key) < 0 || cmc_store_commit(d->store) < 0)
			cmc_store_rollback(d->store);
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	}
	failpoint(b, "assign:after-apply");
	cmc_events_post(d->events, "assigned", (int)n.slot, "pf %u vf %u to %s (mac %s vlan %u)", n.pf,
			n.vf, n.blade, vb_mac_str(n.mac, mac), effective_vlan(b, slot));
	return CMC_OK;
}

static enum cmc_status parse_vf_address(struct cmc_api_request *req, int from, const char *usage,
					unsigned *slot, unsigned *pf, unsigned *vf)
{
	bool have_slot = false, have_vf = false;

	*pf = 0;
	for (int i = from; i + 1 < req->argc + 0; i += 2) {
		const char *k = req->argv[i], *arg = req->argv[i + 1];
		if (strcmp(k, "slot") == 0 && !cmc_api_parse_uint(arg, 255, slot))
			have_slot = true;
		else if (strcmp(k, "pf") == 0 && !cmc_api_parse_uint(arg, 7, pf))
			;
		else if (strcmp(k, "vf") == 0 && !cmc_api_parse_uint(arg, 7, vf))
			have_vf = true;
		else
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	}
	if (!have_slot || !have_vf || (req->argc - from) % 2)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	return CMC_OK;
}

static int remove_assignment(struct cmc_blades *b, struct assignment *a, char *err, size_t errlen)
{
	char key[64];

	assignment_key(a, key, sizeof(key));
	if (cmc_store_del(b->d->store, key) < 0 || commit(b, err, errlen) < 0) {
		cmc_store_rollback(b->d->store);
		return -EIO;
	}
	failpoint(b, "unassign:after-commit");
	unapply(b, a);
	*a = (struct assignment){ 0 };
	publish_macs(b);
	return 0;
}

/* unassign slot N [pf P] vf V */
enum cmc_status cmc_cmd_unassign(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct cmc_blades *b = d->blades;
	unsigned slot = 0, pf = 0, vf = 0;
	struct assignment *a;
	char err[256], blade[CMC_CONFIG_NAME_MAX + 1];
	enum cmc_status st = parse_vf_address(req, 1, "usage: unassign slot N [pf P] vf V", &slot, &pf, &vf);

	if (st != CMC_OK)
		return st;
	a = b ? find_assignment(b, slot, pf, vf) : NULL;
	if (!a)
		return cmc_api_refuse(req, CMC_REFUSED, "slot %u pf %u vf %u is not assigned", slot, pf, vf);
	if (a->lane[0])
		return cmc_api_refuse(req, CMC_REFUSED, "slot %u pf %u vf %u belongs to lane %s: delete the lane",
			      slot, pf, vf, a->lane);
	if (a->vm[0])
		return cmc_api_refuse(req, CMC_REFUSED, "slot %u pf %u vf %u carries VM %s's profile", slot, pf,
			      vf, a->vm);
	snprintf(blade, sizeof(blade), "%s", a->blade);
	if (remove_assignment(b, a, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	cmc_events_post(d->events, "unassigned", (int)slot, "pf %u vf %u from %s", pf, vf, blade);
	return CMC_OK;
}

enum cmc_status cmc_cmd_assignments(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct cmc_blades *b = d->blades;

	for (unsigned i = 0; b && i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];
		char mac[18], ifname[16];

		if (!a->used)
			continue;
		ifname_of(a, ifname);
		cmc_rec_begin(req->body, "assignment");
		cmc_rec_int(req->body, "slot", a->slot);
		cmc_rec_int(req->body, "pf", a->pf);
		cmc_rec_int(req->body, "vf", a->vf);
		cmc_rec_str(req->body, "blade", a->blade);
		cmc_rec_str(req->body, "netdev", ifname);
		cmc_rec_str(req->body, "mac", vb_mac_str(a->mac, mac));
		cmc_rec_int(req->body, "vlan", effective_vlan(b, a));
		cmc_rec_int(req->body, "rate", a->rate);
		cmc_rec_bool(req->body, "trusted", a->trusted);
		cmc_rec_str(req->body, "lane", a->lane[0] ? a->lane : "-");
		cmc_rec_str(req->body, "vm", a->vm[0] ? a->vm : "-");
		cmc_rec_bool(req->body, "placed", a->placed);
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

/* --- Domains ----------------------------------------------------------------------- */

static int store_domain(struct cmc_blades *b, const struct domain *dm, char *err, size_t errlen)
{
	char key[64], val[1024];

	snprintf(key, sizeof(key), "domain/%s", dm->name);
	domain_value(b, dm, val, sizeof(val));
	if (cmc_store_set(b->d->store, key, val) < 0 || commit(b, err, errlen) < 0) {
		cmc_store_rollback(b->d->store);
		return -EIO;
	}
	return 0;
}

static uint16_t free_domain_vlan(struct cmc_blades *b)
{
	for (unsigned v = 100; v <= DOMAIN_VLAN_MAX; v++)
		if (!domain_of_vlan(b, (uint16_t)v))
			return (uint16_t)v;
	return 0;
}

static bool vlan_assigned_explicitly(struct cmc_blades *b, uint16_t vlan)
{
	for (unsigned i = 0; i < ASSIGN_MAX; i++)
		if (b->a[i].used && b->a[i].vlan == vlan)
			return true;
	return false;
}

/* domain create NAME [vlan X] | delete NAME | add NAME BLADE | remove NAME BLADE */
enum cmc_status cmc_cmd_domain(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] =
		"usage: domain create NAME [vlan X] | delete NAME | add NAME BLADE | remove NAME BLADE";
	struct cmcd *d = ctx;
	struct cmc_blades *b = d->blades;
	const char *op = req->argv[1], *name = req->argc > 2 ? req->argv[2] : "";
	struct domain *dm;
	char err[256], known[512];
	unsigned v;

	if (!b)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (req->argc < 3)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	dm = find_domain(b, name);
	if (strcmp(op, "create") == 0) {
		struct domain n = { .used = true };

		if (!name_ok(name, NAME_MAX_LEN))
			return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a domain name (1-%d of a-z A-Z 0-9 - _)",
				      name, NAME_MAX_LEN);
		if (dm)
			return cmc_api_refuse(req, CMC_REFUSED, "domain %s exists (vlan %u)", name, dm->vlan);
		if (req->argc == 5 && strcmp(req->argv[3], "vlan") == 0) {
			if (cmc_api_parse_uint(req->argv[4], DOMAIN_VLAN_MAX, &v) || v < DOMAIN_VLAN_MIN)
				return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a domain VLAN (%d-%d)",
					      req->argv[4], DOMAIN_VLAN_MIN, DOMAIN_VLAN_MAX);
			if (domain_of_vlan(b, (uint16_t)v))
				return cmc_api_refuse(req, CMC_REFUSED, "VLAN %u is domain %s's", v,
					      domain_of_vlan(b, (uint16_t)v)->name);
			if (vlan_assigned_explicitly(b, (uint16_t)v))
				return cmc_api_refuse(req, CMC_REFUSED, "VLAN %u is in use by an assignment", v);
			n.vlan = (uint16_t)v;
		} else if (req->argc != 3) {
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		} else {
			n.vlan = free_domain_vlan(b);
		}
		snprintf(n.name, sizeof(n.name), "%s", name);
		dm = NULL;
		for (unsigned i = 0; i < DOMAIN_MAX && !dm; i++)
			if (!b->dom[i].used)
				dm = &b->dom[i];
		if (!dm || !n.vlan)
			return cmc_api_refuse(req, CMC_REFUSED, "no room for another domain");
		if (store_domain(b, &n, err, sizeof(err)) < 0)
			return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
		*dm = n;
		cmc_events_post(d->events, "domain", -1, "%s created (vlan %u)", name, n.vlan);
		return CMC_OK;
	}
	if (!dm)
		return cmc_api_refuse(req, CMC_REFUSED, "no domain '%.32s'", name);
	if (strcmp(op, "delete") == 0 && req->argc == 3) {
		char key[64];
		uint64_t members = dm->members;

		snprintf(key, sizeof(key), "domain/%s", dm->name);
		if (cmc_store_del(d->store, key) < 0 || commit(b, err, sizeof(err)) < 0) {
			cmc_store_rollback(d->store);
			return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
		}
		*dm = (struct domain){ 0 };
		for (unsigned i = 0; i < d->config->blade_count; i++)
			if (members & (1ull << i))
				reapply_blade(b, d->config->blades[i].name);
		cmc_events_post(d->events, "domain", -1, "%s deleted", name);
		return CMC_OK;
	}
	if ((strcmp(op, "add") == 0 || strcmp(op, "remove") == 0) && req->argc == 4) {
		const char *blade = req->argv[3];
		int bi = blade_index(d, blade);
		struct domain n = *dm;
		bool add = op[0] == 'a';

		if (bi < 0) {
			blade_list(d, known, sizeof(known));
			return cmc_api_refuse(req, CMC_REFUSED, "no blade '%.32s' in this chassis (blades: %s)", blade, known);
		}
		if (add && domain_of_blade(b, blade))
			return cmc_api_refuse(req, CMC_REFUSED, "blade %s is already in domain %s", blade,
				      domain_of_blade(b, blade)->name);
		if (!add && !(dm->members & (1ull << bi)))
			return cmc_api_refuse(req, CMC_REFUSED, "blade %s is not in domain %s", blade, dm->name);
		if (add)
			n.members |= 1ull << bi;
		else
			n.members &= ~(1ull << bi);
		if (store_domain(b, &n, err, sizeof(err)) < 0)
			return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
		*dm = n;
		reapply_blade(b, blade);
		cmc_events_post(d->events, "domain", -1, "%s %s %s", blade, add ? "joined" : "left", dm->name);
		return CMC_OK;
	}
	return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
}

enum cmc_status cmc_cmd_domains(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct cmc_blades *b = d->blades;

	for (unsigned i = 0; b && i < DOMAIN_MAX; i++) {
		char val[1024], blades[1024];

		if (!b->dom[i].used)
			continue;
		domain_value(b, &b->dom[i], val, sizeof(val));
		if (cmc_store_field(val, "blades", blades, sizeof(blades)) < 0)
			snprintf(blades, sizeof(blades), "-");
		cmc_rec_begin(req->body, "domain");
		cmc_rec_str(req->body, "domain", b->dom[i].name);
		cmc_rec_int(req->body, "vlan", b->dom[i].vlan);
		cmc_rec_str(req->body, "blades", blades);
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

/* --- Lanes ------------------------------------------------------------------------- */

static unsigned free_vfs(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned want, unsigned *out)
{
	unsigned n = 0, got = 0;

	if (!cmc_cards_port(b->d->cards, slot, pf, &n))
		return 0;
	for (unsigned vf = 0; vf < n && got < want; vf++)
		if (!find_assignment(b, slot, pf, vf))
			out[got++] = vf;
	return got;
}

/* A midplane port driven by cmcd with two VFs free; slot < 0: any. */
static int pick_lane_port(struct cmc_blades *b, int slot, int pf, unsigned *s_out, unsigned *p_out,
			  unsigned vfs[2], char *err, size_t errlen)
{
	const struct cmc_config *cfg = b->d->config;

	for (unsigned i = 0; i < cfg->slot_count; i++) {
		unsigned s = cfg->slots[i].number;
		if (slot >= 0 && s != (unsigned)slot)
			continue;
		for (unsigned p = 0; p < 8; p++) {
			if ((pf >= 0 && p != (unsigned)pf) || !cmc_cards_port(b->d->cards, s, p, NULL))
				continue;
			if (port_role(b, s, p) != CMC_PORT_MIDPLANE) {
				if (slot >= 0 && pf >= 0) {
					snprintf(err, errlen, "slot %u pf %u is an uplink: lanes use midplane ports", s, p);
					return -EINVAL;
				}
				continue;
			}
			if (free_vfs(b, s, p, 2, vfs) == 2) {
				*s_out = s;
				*p_out = p;
				return 0;
			}
			if (slot >= 0 && pf >= 0) {
				snprintf(err, errlen, "slot %u pf %u has fewer than 2 free VFs", s, p);
				return -ENOSPC;
			}
		}
	}
	snprintf(err, errlen, "no midplane port driven by cmcd has 2 free VFs%s",
		 slot >= 0 ? " in that slot" : "");
	return -ENOSPC;
}

static enum cmc_status lane_create(struct cmcd *d, struct cmc_api_request *req)
{
	static const char usage[] = "usage: lane create NAME BLADE BLADE [slot N [pf P]]";
	struct cmc_blades *b = d->blades;
	const char *name = req->argv[2];
	struct lane n = { .used = true }, *l = NULL;
	struct assignment pair[2], *slots[2] = { NULL, NULL };
	unsigned vfs[2], s, p, v;
	int want_slot = -1, want_pf = -1;
	char err[256], known[512], key[64], val[200];

	if (req->argc != 5 && req->argc != 7 && req->argc != 9)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (!name_ok(name, LANE_NAME_MAX) || strchr(name, '_'))
		return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a lane name (1-%d of a-z A-Z 0-9 -)", name,
			      LANE_NAME_MAX);
	if (find_lane(b, name))
		return cmc_api_refuse(req, CMC_REFUSED, "lane %s exists", name);
	for (int i = 3; i < 5; i++)
		if (blade_index(d, req->argv[i]) < 0) {
			blade_list(d, known, sizeof(known));
			return cmc_api_refuse(req, CMC_REFUSED, "no blade '%.32s' in this chassis (blades: %s)",
				      req->argv[i], known);
		}
	if (strcmp(req->argv[3], req->argv[4]) == 0)
		return cmc_api_refuse(req, CMC_REFUSED, "a lane joins two different blades");
	if (req->argc >= 7) {
		if (strcmp(req->argv[5], "slot") || cmc_api_parse_uint(req->argv[6], 255, &v))
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		want_slot = (int)v;
	}
	if (req->argc == 9) {
		if (strcmp(req->argv[7], "pf") || cmc_api_parse_uint(req->argv[8], 7, &v))
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		want_pf = (int)v;
	} else if (want_slot >= 0) {
		want_pf = 0;
	}
	if (pick_lane_port(b, want_slot, want_pf, &s, &p, vfs, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	snprintf(n.name, sizeof(n.name), "%s", name);
	n.slot = s;
	n.pf = p;
	for (unsigned vl = LANE_VLAN_MIN; vl <= LANE_VLAN_MAX && !n.vlan; vl++) {
		bool used = false;
		for (unsigned i = 0; i < LANE_MAX; i++)
			used |= b->lanes[i].used && b->lanes[i].vlan == vl;
		if (!used)
			n.vlan = (uint16_t)vl;
	}
	for (unsigned net = 1; net <= 254 && !n.net; net++) {
		bool used = false;
		for (unsigned i = 0; i < LANE_MAX; i++)
			used |= b->lanes[i].used && b->lanes[i].net == net;
		if (!used)
			n.net = net;
	}
	for (unsigned i = 0; i < LANE_MAX && !l; i++)
		if (!b->lanes[i].used)
			l = &b->lanes[i];
	if (!l || !n.vlan || !n.net)
		return cmc_api_refuse(req, CMC_REFUSED, "no room for another lane");
	for (unsigned k = 0; k < 2; k++) {
		pair[k] = (struct assignment){ .used = true, .slot = s, .pf = p, .vf = vfs[k] };
		snprintf(pair[k].blade, sizeof(pair[k].blade), "%s", req->argv[3 + k]);
		snprintf(pair[k].lane, sizeof(pair[k].lane), "%s", name);
		cmc_cards_vf_mac(d->chassis_id, s, p, vfs[k], pair[k].mac);
	}
	/* One commit holds the lane and both its VFs. */
	snprintf(key, sizeof(key), "lane/%s", name);
	snprintf(val, sizeof(val), "slot=%u pf=%u vlan=%u net=%u", s, p, n.vlan, n.net);
	int rc = cmc_store_set(d->store, key, val);
	for (unsigned k = 0; k < 2 && !rc; k++) {
		char akey[64], aval[200];
		assignment_key(&pair[k], akey, sizeof(akey));
		assignment_value(&pair[k], aval, sizeof(aval));
		rc = cmc_store_set(d->store, akey, aval);
	}
	if (rc < 0 || commit(b, err, sizeof(err)) < 0) {
		cmc_store_rollback(d->store);
		return cmc_api_refuse(req, CMC_REFUSED, "%s", rc < 0 ? "the store refused the lane" : err);
	}
	*l = n;
	for (unsigned k = 0; k < 2; k++) {
		slots[k] = free_assignment(b);
		if (!slots[k])
			break;
		*slots[k] = pair[k];
		if (apply(b, slots[k], err, sizeof(err)) < 0)
			cmc_events_post(d->events, "assign-error", (int)s, "lane %s vf %u: %s", name, vfs[k], err);
	}
	cmc_events_post(d->events, "lane", (int)s, "%s created: pf %u vf %u (%s, 169.254.%u.1) and vf %u "
			"(%s, 169.254.%u.2), vlan %u", name, p, vfs[0], req->argv[3], n.net, vfs[1],
			req->argv[4], n.net, n.vlan);
	return CMC_OK;
}

static enum cmc_status lane_delete(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_blades *b = d->blades;
	struct lane *l = find_lane(b, req->argv[2]);
	char key[64], err[256];
	int rc;

	if (req->argc != 3)
		return cmc_api_refuse(req, CMC_USAGE, "usage: lane delete NAME");
	if (!l)
		return cmc_api_refuse(req, CMC_REFUSED, "no lane '%.32s'", req->argv[2]);
	snprintf(key, sizeof(key), "lane/%s", l->name);
	rc = cmc_store_del(d->store, key);
	for (unsigned i = 0; i < ASSIGN_MAX && !rc; i++) {
		char akey[64];
		if (!b->a[i].used || strcmp(b->a[i].lane, l->name) != 0)
			continue;
		assignment_key(&b->a[i], akey, sizeof(akey));
		rc = cmc_store_del(d->store, akey);
	}
	if (rc < 0 || commit(b, err, sizeof(err)) < 0) {
		cmc_store_rollback(d->store);
		return cmc_api_refuse(req, CMC_REFUSED, "%s", rc < 0 ? "the store refused" : err);
	}
	for (unsigned i = 0; i < ASSIGN_MAX; i++)
		if (b->a[i].used && strcmp(b->a[i].lane, l->name) == 0) {
			unapply(b, &b->a[i]);
			b->a[i] = (struct assignment){ 0 };
		}
	publish_macs(b);
	cmc_events_post(d->events, "lane", (int)l->slot, "%s deleted", l->name);
	*l = (struct lane){ 0 };
	return CMC_OK;
}

/* lane create NAME BLADE BLADE [slot N [pf P]] | delete NAME */
enum cmc_status cmc_cmd_lane(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	if (!d->blades)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (req->argc >= 3 && strcmp(req->argv[1], "create") == 0)
		return lane_create(d, req);
	if (req->argc >= 3 && strcmp(req->argv[1], "delete") == 0)
		return lane_delete(d, req);
	return cmc_api_refuse(req, CMC_USAGE, "usage: lane create NAME BLADE BLADE [slot N [pf P]] | delete NAME");
}

enum cmc_status cmc_cmd_lanes(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct cmc_blades *b = d->blades;

	for (unsigned i = 0; b && i < LANE_MAX; i++) {
		const struct lane *l = &b->lanes[i];
		const struct assignment *ends[2] = { NULL, NULL };

		if (!l->used)
			continue;
		for (unsigned k = 0; k < ASSIGN_MAX; k++) {
			const struct assignment *a = &b->a[k];
			if (!a->used || strcmp(a->lane, l->name) != 0)
				continue;
			if (!ends[0] || a->vf < ends[0]->vf) {
				ends[1] = ends[0];
				ends[0] = a;
			} else {
				ends[1] = a;
			}
		}
		cmc_rec_begin(req->body, "lane");
		cmc_rec_str(req->body, "lane", l->name);
		cmc_rec_int(req->body, "slot", l->slot);
		cmc_rec_int(req->body, "pf", l->pf);
		cmc_rec_int(req->body, "vlan", l->vlan);
		for (unsigned k = 0; k < 2; k++) {
			char addr[20];
			snprintf(addr, sizeof(addr), "169.254.%u.%u", l->net, k + 1);
			cmc_rec_str(req->body, k ? "blade_b" : "blade_a", ends[k] ? ends[k]->blade : "-");
			cmc_rec_int(req->body, k ? "vf_b" : "vf_a", ends[k] ? (long long)ends[k]->vf : -1);
			cmc_rec_str(req->body, k ? "addr_b" : "addr_a", addr);
		}
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

/* --- Port roles and the bridge ----------------------------------------------------- */

static int apply_role(struct cmc_blades *b, unsigned slot, unsigned pf, enum cmc_port_role role,
		      char *err, size_t errlen)
{
	return cmc_cards_set_port_mode(b->d->cards, slot, pf,
				       role == CMC_PORT_MIDPLANE ? NIC_PORT_LOOPBACK : NIC_PORT_NORMAL, err,
				       errlen);
}

/* port S/P role uplink|midplane */
enum cmc_status cmc_cmd_port(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] = "usage: port SLOT/PF role uplink|midplane";
	struct cmcd *d = ctx;
	struct cmc_blades *b = d->blades;
	unsigned slot, pf;
	char sbuf[8], key[32], err[256];
	const char *slash = strchr(req->argv[1], '/');
	enum cmc_port_role role, old;
	struct role *r = NULL;

	if (!b)
		return cmc_api_refuse(req, CMC_REFUSED, "blades are not available");
	if (req->argc != 4 || strcmp(req->argv[2], "role") != 0 || !slash ||
	    (size_t)(slash - req->argv[1]) >= sizeof(sbuf))
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	memcpy(sbuf, req->argv[1], (size_t)(slash - req->argv[1]));
	sbuf[slash - req->argv[1]] = '\0';
	if (cmc_api_parse_uint(sbuf, 255, &slot) || cmc_api_parse_uint(slash + 1, 7, &pf))
		return cmc_api_refuse(req, CMC_USAGE, "%s (bad port '%.16s')", usage, req->argv[1]);
	if (strcmp(req->argv[3], "uplink") == 0)
		role = CMC_PORT_UPLINK;
	else if (strcmp(req->argv[3], "midplane") == 0)
		role = CMC_PORT_MIDPLANE;
	else
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (!cmc_cards_port(d->cards, slot, pf, NULL))
		return cmc_api_refuse(req, CMC_REFUSED, "slot %u pf %u is not driven by cmcd", slot, pf);
	old = port_role(b, slot, pf);
	if (old == role)
		return CMC_OK;
	if (role == CMC_PORT_UPLINK)
		for (unsigned i = 0; i < LANE_MAX; i++)
			if (b->lanes[i].used && b->lanes[i].slot == slot && b->lanes[i].pf == pf)
				return cmc_api_refuse(req, CMC_REFUSED, "lane %s runs on slot %u pf %u: delete it first",
					      b->lanes[i].name, slot, pf);
	/* Apply first (the driver may refuse: the kernel one has no loopback), then keep. */
	if (apply_role(b, slot, pf, role, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	snprintf(key, sizeof(key), "port/%u/%u", slot, pf);
	if (cmc_store_set(d->store, key, role == CMC_PORT_MIDPLANE ? "role=midplane" : "role=uplink") < 0 ||
	    commit(b, err, sizeof(err)) < 0) {
		cmc_store_rollback(d->store);
		(void)!apply_role(b, slot, pf, old, err, sizeof(err));
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	}
	for (unsigned i = 0; i < ROLE_MAX && !r; i++)
		if (b->roles[i].used && b->roles[i].slot == slot && b->roles[i].pf == pf)
			r = &b->roles[i];
	for (unsigned i = 0; i < ROLE_MAX && !r; i++)
		if (!b->roles[i].used)
			r = &b->roles[i];
	if (r)
		*r = (struct role){ .used = true, .slot = slot, .pf = pf, .role = role };
	cmc_events_post(d->events, "port-role", (int)slot, "pf %u is now %s", pf, cmc_port_role_name(role));
	return CMC_OK;
}

enum cmc_status cmc_cmd_ports(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	for (unsigned i = 0; d->blades && i < d->config->slot_count; i++)
		for (unsigned p = 0; p < 8; p++) {
			unsigned s = d->config->slots[i].number, n;
			if (!cmc_cards_port(d->cards, s, p, &n))
				continue;
			cmc_rec_begin(req->body, "port");
			cmc_rec_int(req->body, "slot", s);
			cmc_rec_int(req->body, "pf", p);
			cmc_rec_str(req->body, "role", cmc_port_role_name(port_role(d->blades, s, p)));
			cmc_rec_int(req->body, "vfs", n);
			cmc_rec_end(req->body);
		}
	return CMC_OK;
}

/* vbridge show [slot N] | add slot N [pf P] vf V mac M | del slot N [pf P] mac M */
enum cmc_status cmc_cmd_vbridge(void *ctx, struct cmc_api_request *req)
{
	static const char usage[] =
		"usage: vbridge show [slot N] | add slot N [pf P] vf V mac M | del slot N [pf P] mac M";
	struct cmcd *d = ctx;
	unsigned slot = 0, pf = 0, vf = 0;
	bool have_slot = false, have_vf = false, have_mac = false, add;
	uint8_t mac[6];
	char err[256], key[64], val[16], macs[18];

	if (strcmp(req->argv[1], "show") == 0) {
		if (req->argc == 2) {
			cmc_cards_fdb_records(d->cards, -1, req->body);
			return CMC_OK;
		}
		if (req->argc != 4 || strcmp(req->argv[2], "slot") || cmc_api_parse_uint(req->argv[3], 255, &slot))
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		if (!cmc_cards_port(d->cards, slot, 0, NULL) && !cmc_cards_port(d->cards, slot, 1, NULL))
			return cmc_api_refuse(req, CMC_REFUSED, "slot %u holds no card cmcd drives", slot);
		cmc_cards_fdb_records(d->cards, (int)slot, req->body);
		return CMC_OK;
	}
	add = strcmp(req->argv[1], "add") == 0;
	if (!add && strcmp(req->argv[1], "del") != 0)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	for (int i = 2; i + 1 < req->argc; i += 2) {
		const char *k = req->argv[i], *arg = req->argv[i + 1];
		if (strcmp(k, "slot") == 0 && !cmc_api_parse_uint(arg, 255, &slot))
			have_slot = true;
		else if (strcmp(k, "pf") == 0 && !cmc_api_parse_uint(arg, 7, &pf))
			;
		else if (strcmp(k, "vf") == 0 && !cmc_api_parse_uint(arg, 7, &vf))
			have_vf = true;
		else if (strcmp(k, "mac") == 0) {
			if (vb_mac_parse(arg, mac) < 0 || !vb_mac_is_unicast(mac))
				return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a unicast MAC address", arg);
			have_mac = true;
		} else
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	}
	if (req->argc % 2 || !have_slot || !have_mac || (add && !have_vf))
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	vb_mac_str(mac, macs);
	snprintf(key, sizeof(key), "fdb/%u/%u/%s", slot, pf, macs);
	if (add) {
		if (d->blades && mac_owner(d->blades, mac))
			return cmc_api_refuse(req, CMC_REFUSED, "MAC %s is a VF's own", macs);
		if (d->blades && mac_is_default_range(d->blades, mac))
			return cmc_api_refuse(req, CMC_REFUSED, "MAC %s is in the chassis' own range (%.11s:…)", macs, macs);
		if (cmc_cards_fdb_set(d->cards, slot, pf, vf, mac, true, err, sizeof(err)) < 0)
			return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
		snprintf(val, sizeof(val), "vf=%u", vf);
		if (cmc_store_set(d->store, key, val) < 0 || cmc_store_commit(d->store) < 0) {
			cmc_store_rollback(d->store);
			(void)!cmc_cards_fdb_set(d->cards, slot, pf, vf, mac, false, err, sizeof(err));
			return cmc_api_refuse(req, CMC_REFUSED, "the store refused the entry");
		}
	} else {
		const char *cur = cmc_store_get(d->store, key);
		if (!cur || kv_uint(cur, "vf", 7, &vf) < 0)
			return cmc_api_refuse(req, CMC_REFUSED, "no static entry %s on slot %u pf %u", macs, slot, pf);
		if (cmc_store_del(d->store, key) < 0 || cmc_store_commit(d->store) < 0) {
			cmc_store_rollback(d->store);
			return cmc_api_refuse(req, CMC_REFUSED, "the store refused the change");
		}
		if (cmc_cards_fdb_set(d->cards, slot, pf, vf, mac, false, err, sizeof(err)) < 0)
			log_warnx("static entry %s off slot %u pf %u: %s", macs, slot, pf, err);
	}
	if (d->blades)
		publish_macs(d->blades);
	cmc_events_post(d->events, "vbridge", (int)slot, "pf %u: static entry %s %s%s", pf, macs,
			add ? "to vf " : "removed", add ? val + 3 : "");
	return CMC_OK;
}

/* --- For the VM manager ------------------------------------------------------------ */

int cmc_blades_lane_between(struct cmc_blades *b, const char *a, const char *z, char lane[16],
			    char addr_a[16], char addr_z[16])
{
	for (unsigned i = 0; b && i < LANE_MAX; i++) {
		const struct lane *l = &b->lanes[i];
		const struct assignment *ea = NULL, *ez = NULL;

		if (!l->used)
			continue;
		for (unsigned k = 0; k < ASSIGN_MAX; k++) {
			const struct assignment *x = &b->a[k];
			if (!x->used || strcmp(x->lane, l->name) != 0)
				continue;
			if (strcmp(x->blade, a) == 0)
				ea = x;
			else if (strcmp(x->blade, z) == 0)
				ez = x;
		}
		if (!ea || !ez)
			continue;
		snprintf(lane, 16, "%s", l->name);
		/* The lower VF number is .1 (see place()). */
		snprintf(addr_a, 16, "169.254.%u.%u", l->net, ea->vf < ez->vf ? 1 : 2);
		snprintf(addr_z, 16, "169.254.%u.%u", l->net, ez->vf < ea->vf ? 1 : 2);
		return ea->placed && ez->placed ? 0 : -EAGAIN;
	}
	return -ENOENT;
}

int cmc_blades_lane_port(struct cmc_blades *b, const char *lane, unsigned *slot, unsigned *pf)
{
	const struct lane *l = b ? find_lane(b, lane) : NULL;

	if (!l)
		return -ENOENT;
	*slot = l->slot;
	*pf = l->pf;
	return 0;
}

static void profile_fill(const struct cmc_blades *b, struct assignment *a, unsigned slot, unsigned pf,
			 unsigned vf, const struct cmc_profile *p, bool live)
{
	a->slot = slot;
	a->pf = pf;
	a->vf = vf;
	a->vlan = p->vlan;
	a->rate = p->rate;
	a->trusted = p->trusted;
	if (live)
		memcpy(a->mac, p->mac, 6);
	else
		cmc_cards_vf_mac(b->d->chassis_id, slot, pf, vf, a->mac);
}

static int store_assignment(struct cmc_blades *b, const struct assignment *a, char *err, size_t errlen)
{
	char key[64], val[200];

	assignment_key(a, key, sizeof(key));
	assignment_value(a, val, sizeof(val));
	if (cmc_store_set(b->d->store, key, val) < 0 || commit(b, err, errlen) < 0) {
		cmc_store_rollback(b->d->store);
		return -EIO;
	}
	return 0;
}

int cmc_blades_profile_add(struct cmc_blades *b, const char *vm, const char *blade,
			   const struct cmc_profile *p, bool live, unsigned loc[3], char *err,
			   size_t errlen)
{
	const struct cmc_config *cfg = b->d->config;
	struct assignment n = { .used = true }, *slot;
	unsigned vf;

	if (live && mac_owner(b, p->mac)) {
		snprintf(err, errlen, "MAC of VM %s is already on a VF", vm);
		return -EADDRINUSE;
	}
	snprintf(n.blade, sizeof(n.blade), "%s", blade);
	snprintf(n.vm, sizeof(n.vm), "%s", vm);
	for (unsigned i = 0; i < cfg->slot_count; i++)
		for (unsigned pf = 0; pf < 8; pf++) {
			unsigned s = cfg->slots[i].number;
			if (!cmc_cards_port(b->d->cards, s, pf, NULL) || port_role(b, s, pf) != CMC_PORT_UPLINK ||
			    free_vfs(b, s, pf, 1, &vf) != 1)
				continue;
			profile_fill(b, &n, s, pf, vf, p, live);
			if (check_card(b, &n, err, errlen) < 0)
				return -ENOSPC;
			slot = free_assignment(b);
			if (!slot) {
				snprintf(err, errlen, "too many assignments");
				return -ENOSPC;
			}
			if (store_assignment(b, &n, err, errlen) < 0)
				return -EIO;
			*slot = n;
			if (apply(b, slot, err, errlen) < 0) {
				(void)cmc_blades_profile_remove(b, (unsigned[]){ s, pf, vf }, err, errlen);
				return -EIO;
			}
			loc[0] = s;
			loc[1] = pf;
			loc[2] = vf;
			return 0;
		}
	snprintf(err, errlen, "no uplink port has a free VF for VM %s's profile", vm);
	return -ENOSPC;
}

int cmc_blades_profile_set(struct cmc_blades *b, const unsigned loc[3], const struct cmc_profile *p,
			   bool live, char *err, size_t errlen)
{
	struct assignment *a = find_assignment(b, loc[0], loc[1], loc[2]), n;
	const struct assignment *o;

	if (!a || !a->vm[0]) {
		snprintf(err, errlen, "slot %u pf %u vf %u carries no VM profile", loc[0], loc[1], loc[2]);
		return -ENOENT;
	}
	n = *a;
	profile_fill(b, &n, loc[0], loc[1], loc[2], p, live);
	o = mac_owner(b, n.mac);
	if (o && o != a) {
		snprintf(err, errlen, "the MAC is live on slot %u pf %u vf %u", o->slot, o->pf, o->vf);
		return -EADDRINUSE;
	}
	if (check_card(b, &n, err, errlen) < 0 || store_assignment(b, &n, err, errlen) < 0)
		return -EIO;
	*a = n;
	return apply(b, a, err, errlen);
}

int cmc_blades_profile_remove(struct cmc_blades *b, const unsigned loc[3], char *err, size_t errlen)
{
	struct assignment *a = find_assignment(b, loc[0], loc[1], loc[2]);

	if (!a)
		return 0;
	return remove_assignment(b, a, err, errlen);
}

/*
 * A migration's switch-over (US 9,218,303 FIG. 8, step 830): see blades.h. The MAC leaves
 * the source's VF before the destination's gets it, so it is never live on two VFs.
 */
int cmc_blades_profile_move(struct cmc_blades *b, const unsigned from[3], const unsigned to[3],
			    const struct cmc_profile *p, char *err, size_t errlen)
{
	struct assignment *src = find_assignment(b, from[0], from[1], from[2]);
	struct assignment *dst = find_assignment(b, to[0], to[1], to[2]), n;
	const struct assignment *o;
	struct nic_vf_config def, vc;
	char key[64], val[200], e[256];
	int rc;

	if (!src || !src->vm[0] || !dst || !dst->vm[0] || src == dst) {
		snprintf(err, errlen, "no VM profile to move from slot %u pf %u vf %u to slot %u pf %u vf %u",
			 from[0], from[1], from[2], to[0], to[1], to[2]);
		return -ENOENT;
	}
	n = *dst;
	profile_fill(b, &n, to[0], to[1], to[2], p, true);
	o = mac_owner(b, n.mac);
	if (o && o != src && o != dst) {
		snprintf(err, errlen, "the MAC is live on slot %u pf %u vf %u", o->slot, o->pf, o->vf);
		return -EADDRINUSE;
	}
	/* One transaction: the source's assignment goes, the destination's goes live. */
	assignment_key(src, key, sizeof(key));
	rc = cmc_store_del(b->d->store, key);
	assignment_key(&n, key, sizeof(key));
	assignment_value(&n, val, sizeof(val));
	if (rc < 0 || cmc_store_set(b->d->store, key, val) < 0 || commit(b, err, errlen) < 0) {
		cmc_store_rollback(b->d->store);
		return -EIO;
	}
	cmc_cards_vf_default(b->d->chassis_id, src->slot, src->pf, src->vf, &def);
	*src = (struct assignment){ 0 };
	*dst = n;
	publish_macs(b);
	rc = cmc_cards_vf_set(b->d->cards, from[0], from[1], from[2], &def, e, sizeof(e));
	if (rc)
		log_warnx("slot %u pf %u vf %u back to its default: %s", from[0], from[1], from[2], e);
	config_of(b, dst, &vc);
	return cmc_cards_vf_set(b->d->cards, to[0], to[1], to[2], &vc, err, errlen);
}

/* --- Start and stop --------------------------------------------------------------- */

struct load_ctx {
	struct cmc_blades *b;
	unsigned bad;
	char bad_keys[8][64];
};

static void drop_key(struct load_ctx *lc, const char *key, const char *why)
{
	log_warnx("store: %s: %s; dropped", key, why);
	cmc_events_post(lc->b->d->events, "store-dropped", -1, "%s: %s", key, why);
	if (lc->bad < 8)
		snprintf(lc->bad_keys[lc->bad++], sizeof(lc->bad_keys[0]), "%s", key);
}

static int load_domain(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	struct cmc_blades *b = lc->b;
	struct domain n = { .used = true };
	char blades[1024];
	unsigned v;

	snprintf(n.name, sizeof(n.name), "%s", key + strlen("domain/"));
	if (kv_uint(value, "vlan", DOMAIN_VLAN_MAX, &v) < 0 || v < DOMAIN_VLAN_MIN ||
	    cmc_store_field(value, "blades", blades, sizeof(blades)) < 0) {
		drop_key(lc, key, "unreadable");
		return 0;
	}
	n.vlan = (uint16_t)v;
	for (char *save = NULL, *t = strtok_r(blades, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int bi = blade_index(b->d, t);
		if (bi >= 0)
			n.members |= 1ull << bi;
	}
	for (unsigned i = 0; i < DOMAIN_MAX; i++)
		if (!b->dom[i].used) {
			b->dom[i] = n;
			break;
		}
	return 0;
}

static int load_lane(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	struct lane n = { .used = true };
	unsigned v;

	snprintf(n.name, sizeof(n.name), "%s", key + strlen("lane/"));
	if (kv_uint(value, "slot", 255, &n.slot) < 0 || kv_uint(value, "pf", 7, &n.pf) < 0 ||
	    kv_uint(value, "vlan", LANE_VLAN_MAX, &v) < 0 || kv_uint(value, "net", 254, &n.net) < 0) {
		drop_key(lc, key, "unreadable");
		return 0;
	}
	n.vlan = (uint16_t)v;
	for (unsigned i = 0; i < LANE_MAX; i++)
		if (!lc->b->lanes[i].used) {
			lc->b->lanes[i] = n;
			break;
		}
	return 0;
}

static int load_role(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	struct role r = { .used = true };
	char role[16];

	if (sscanf(key, "port/%u/%u", &r.slot, &r.pf) != 2 || cmc_store_field(value, "role", role, sizeof(role)) < 0) {
		drop_key(lc, key, "unreadable");
		return 0;
	}
	r.role = strcmp(role, "midplane") == 0 ? CMC_PORT_MIDPLANE : CMC_PORT_UPLINK;
	for (unsigned i = 0; i < ROLE_MAX; i++)
		if (!lc->b->roles[i].used) {
			lc->b->roles[i] = r;
			break;
		}
	return 0;
}

static int load_assignment(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	struct assignment n = { .used = true };
	char mac[24], lane[LANE_NAME_MAX + 1];
	unsigned v, t;
	struct assignment *slot;

	if (sscanf(key, "assign/%u/%u/%u", &n.slot, &n.pf, &n.vf) != 3 ||
	    cmc_store_field(value, "blade", n.blade, sizeof(n.blade)) < 0 || cmc_store_field(value, "mac", mac, sizeof(mac)) < 0 ||
	    vb_mac_parse(mac, n.mac) < 0 || kv_uint(value, "vlan", 4094, &v) < 0 ||
	    kv_uint(value, "rate", 1000, &n.rate) < 0 || kv_uint(value, "trusted", 1, &t) < 0 ||
	    cmc_store_field(value, "lane", lane, sizeof(lane)) < 0) {
		drop_key(lc, key, "unreadable");
		return 0;
	}
	n.vlan = (uint16_t)v;
	n.trusted = t;
	if (strcmp(lane, "-") != 0)
		snprintf(n.lane, sizeof(n.lane), "%s", lane);
	if (cmc_store_field(value, "vm", n.vm, sizeof(n.vm)) < 0 || strcmp(n.vm, "-") == 0)
		n.vm[0] = '\0';
	if (blade_index(lc->b->d, n.blade) < 0) {
		drop_key(lc, key, "its blade is no longer configured");
		return 0;
	}
	if (mac_owner(lc->b, n.mac)) {
		drop_key(lc, key, "its MAC is another VF's");
		return 0;
	}
	slot = free_assignment(lc->b);
	if (slot)
		*slot = n;
	return 0;
}

static void apply_stored(struct cmc_blades *b, struct load_ctx *lc)
{
	const struct cmc_config *cfg = b->d->config;
	char err[256];

	/* Roles: the configuration's, unless the admin changed one since. */
	for (unsigned i = 0; i < cfg->slot_count; i++)
		for (unsigned p = 0; p < 8; p++) {
			unsigned s = cfg->slots[i].number;
			if (!cmc_cards_port(b->d->cards, s, p, NULL))
				continue;
			if (apply_role(b, s, p, port_role(b, s, p), err, sizeof(err)) < 0)
				cmc_events_post(b->d->events, "port-role", (int)s, "pf %u: %s", p, err);
		}
	for (unsigned i = 0; i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];
		char key[64];

		if (!a->used)
			continue;
		if (a->lane[0] && !find_lane(b, a->lane)) {
			assignment_key(a, key, sizeof(key));
			drop_key(lc, key, "its lane is gone");
			*a = (struct assignment){ 0 };
			continue;
		}
		if (apply(b, a, err, sizeof(err)) < 0) {
			/* All or nothing: an intent the card cannot take any more is dropped. */
			assignment_key(a, key, sizeof(key));
			drop_key(lc, key, err);
			*a = (struct assignment){ 0 };
		}
	}
	for (unsigned i = 0; i < lc->bad; i++)
		if (cmc_store_del(b->d->store, lc->bad_keys[i]) < 0)
			break;
	if (lc->bad && cmc_store_commit(b->d->store) < 0)
		cmc_store_rollback(b->d->store);
}

static int load_fdb(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	unsigned slot, pf, vf;
	char err[256];
	uint8_t mac[6];

	if (parse_fdb(key, value, &slot, &pf, mac, &vf) < 0) {
		drop_key(lc, key, "unreadable");
		return 0;
	}
	if (cmc_cards_fdb_set(lc->b->d->cards, slot, pf, vf, mac, true, err, sizeof(err)) < 0)
		log_warnx("static entry %s: %s", key, err);
	return 0;
}

struct card_back {
	struct cmc_blades *b;
	unsigned slot, pf;
};

static int reload_fdb(const char *key, const char *value, void *arg)
{
	struct card_back *cb = arg;
	unsigned slot, pf, vf;
	char err[256];
	uint8_t mac[6];

	if (parse_fdb(key, value, &slot, &pf, mac, &vf) < 0 || slot != cb->slot || pf != cb->pf)
		return 0;
	if (cmc_cards_fdb_set(cb->b->d->cards, slot, pf, vf, mac, true, err, sizeof(err)) < 0)
		cmc_events_post(cb->b->d->events, "fdb-error", (int)slot, "pf %u: %s", pf, err);
	return 0;
}

int cmc_blades_set_trust(struct cmc_blades *b, unsigned slot, unsigned pf, unsigned vf, bool on,
			 bool *kept, char *err, size_t errlen)
{
	struct assignment *a = b ? find_assignment(b, slot, pf, vf) : NULL;
	char ignored[128];
	bool was;
	int rc;

	*kept = a != NULL;
	if (!a)	/* a VF no one was given: the card's setting, for as long as the card runs */
		return cmc_cards_set_trust(b ? b->d->cards : NULL, slot, pf, vf, on, err, errlen);
	if (a->trusted == on)
		return 0;
	was = a->trusted;
	a->trusted = on;
	rc = store_assignment(b, a, err, errlen);
	if (!rc)
		rc = apply(b, a, err, errlen);
	if (rc) {
		a->trusted = was;
		(void)!store_assignment(b, a, ignored, sizeof(ignored));
		(void)!apply(b, a, ignored, sizeof(ignored));
	}
	return rc;
}

unsigned cmc_blades_functions(const struct cmc_blades *b, const char *blade, unsigned *placed)
{
	unsigned n = 0, p = 0;

	for (unsigned i = 0; b && i < ASSIGN_MAX; i++) {
		if (!b->a[i].used || strcmp(b->a[i].blade, blade) != 0)
			continue;
		n++;
		p += b->a[i].placed;
	}
	if (placed)
		*placed = p;
	return n;
}

void cmc_blades_foreach_assignment(const struct cmc_blades *b, cmc_assignment_fn fn, void *arg)
{
	for (unsigned i = 0; b && i < ASSIGN_MAX; i++) {
		const struct assignment *a = &b->a[i];
		struct cmc_assignment_view v;

		if (!a->used)
			continue;
		v = (struct cmc_assignment_view){
			.slot = a->slot, .pf = a->pf, .vf = a->vf, .blade = a->blade,
			.vlan = effective_vlan(b, a), .rate = a->rate,
			.trusted = a->trusted, .lane = a->lane, .vm = a->vm, .placed = a->placed,
		};
		memcpy(v.mac, a->mac, 6);
		fn(arg, &v);
	}
}

/*
 * A card pulled out and put back (cards.c took it again, with every VF at its default):
 * everything the intent holds for its port goes back on it. Nothing is dropped: an
 * assignment the card refuses now is reported and stays in the store.
 */
void cmc_blades_card_back(struct cmc_blades *b, unsigned slot, unsigned pf)
{
	struct card_back cb = { .b = b, .slot = slot, .pf = pf };
	char err[256];

	if (!b)
		return;
	if (apply_role(b, slot, pf, port_role(b, slot, pf), err, sizeof(err)) < 0)
		cmc_events_post(b->d->events, "port-role", (int)slot, "pf %u: %s", pf, err);
	for (unsigned i = 0; i < ASSIGN_MAX; i++) {
		struct assignment *a = &b->a[i];

		if (!a->used || a->slot != slot || a->pf != pf)
			continue;
		a->placed = false;
		if (apply(b, a, err, sizeof(err)) < 0)
			cmc_events_post(b->d->events, "assign-error", (int)slot, "pf %u vf %u: %s", pf, a->vf, err);
	}
	(void)cmc_store_foreach(b->d->store, "fdb/", reload_fdb, &cb);
	place_all(b);
}

int cmc_blades_start(struct cmcd *d, struct cmc_blades **out)
{
	struct cmc_blades *b = calloc(1, sizeof(*b));
	struct load_ctx lc = { .b = b };
	char err[256] = "";
	int rc;

	if (!b)
		return -ENOMEM;
	b->d = d;
	b->failpoint = getenv("CMC_FAILPOINT");
	rc = cmc_loop_add_timer(d->loop, 0, 0, place_due, b, &b->place_timer);
	if (!rc)
		rc = cmc_loop_add_timer(d->loop, 0, 0, kick_due, b, &b->kick_timer);
	if (rc) {
		if (b->place_timer)
			cmc_loop_del_timer(d->loop, b->place_timer);
		free(b);
		return rc;
	}
	rc = mp_blade_backend_open("netns", &b->be, err, sizeof(err));
	if (rc) {
		log_warnx("blades: %s; VFs will not be placed into blades", err);
		b->be = NULL;
	}
	for (unsigned i = 0; b->be && i < d->config->blade_count; i++)
		if (mp_blade_create(b->be, d->config->blades[i].name, err, sizeof(err)) < 0)
			cmc_events_post(d->events, "blade-error", -1, "%s: %s", d->config->blades[i].name, err);
	watch_blades(b);
	(void)cmc_store_foreach(d->store, "domain/", load_domain, &lc);
	(void)cmc_store_foreach(d->store, "lane/", load_lane, &lc);
	(void)cmc_store_foreach(d->store, "port/", load_role, &lc);
	(void)cmc_store_foreach(d->store, "assign/", load_assignment, &lc);
	d->blades = b;
	apply_stored(b, &lc);
	(void)cmc_store_foreach(d->store, "fdb/", load_fdb, &lc);
	publish_macs(b);
	*out = b;
	return 0;
}

void cmc_blades_stop(struct cmcd *d, struct cmc_blades *b)
{
	if (!b)
		return;
	if (b->place_timer)
		cmc_loop_del_timer(d->loop, b->place_timer);
	unwatch_blades(b);
	if (b->kick_timer)
		cmc_loop_del_timer(d->loop, b->kick_timer);
	mp_blade_backend_close(b->be);
	d->blades = NULL;
	free(b);
}
