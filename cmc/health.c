/* SPDX-License-Identifier: MIT */
/*
 * Blade health (health.h): a tick on the loop asks the blade worker; the answers come
 * back to the loop and move each blade through up -> down -> failed.
 */
#include "health.h"

#include "blades.h"
#include "daemon.h"
#include "failover.h"
#include "log.h"
#include "sprofile.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEALTH_TICK_MS 1000

struct cmc_health {
	struct cmcd *d;
	struct cmc_timer *tick;
	bool asking;			/* a poll is on the worker */
	bool armed;
	bool stopped;			/* freed by the poll's end, still on the worker */
	unsigned long seq;		/* counts power changes */
	unsigned long poll_seq;		/* seq when the poll on the worker was asked */
	struct cmc_health_sm st[CMC_CONFIG_BLADES_MAX];	/* health-sm.h */
};

static int index_of(const struct cmc_health *h, const char *blade)
{
	for (unsigned i = 0; h && i < h->d->config->blade_count; i++)
		if (strcmp(h->d->config->blades[i].name, blade) == 0)
			return (int)i;
	return -1;
}

enum cmc_blade_health cmc_health_of(const struct cmc_health *h, const char *blade)
{
	int i = index_of(h, blade);

	return i < 0 ? CMC_BLADE_UP : h->st[i].state;
}

/* Something to watch: a server profile, or a blade down. */
static bool worth_watching(const struct cmc_health *h)
{
	const struct cmc_intent *in = cmc_blades_intent(h->d->blades);

	if (in && cmc_sprofile_count(in))
		return true;
	for (unsigned i = 0; i < h->d->config->blade_count; i++)
		if (h->st[i].state == CMC_BLADE_DOWN)
			return true;
	return false;
}

void cmc_health_kick(struct cmc_health *h)
{
	bool want;

	if (!h)
		return;
	want = worth_watching(h);
	if (want != h->armed && cmc_timer_arm(h->tick, want ? HEALTH_TICK_MS : 0, want ? HEALTH_TICK_MS : 0) == 0)
		h->armed = want;
}

/* A failed blade with a profile and a spare: the profile goes there by itself. */
static void fail_over(struct cmc_health *h, const char *blade)
{
	const struct cmc_config_blade *cb = cmc_config_blade_by_name(h->d->config, blade);
	const struct cmc_sprofile *p = cmc_sprofile_of_blade(cmc_blades_intent(h->d->blades), blade);
	char name[CMC_INTENT_NAME_MAX + 1], err[256];

	if (!p)
		return;
	if (!cb || !cb->spare[0]) {
		cmc_events_post(h->d->events, "failover-error", -1, "server profile %s: %s has no spare "
				"(spare = \"NAME\" in the configuration): move it with migrate", p->name, blade);
		return;
	}
	snprintf(name, sizeof(name), "%s", p->name);
	if (cmc_sprofile_migrate(h->d, name, cb->spare, NULL, err, sizeof(err)) < 0)
		cmc_events_post(h->d->events, "failover-error", -1, "server profile %s to %s: %s", name, cb->spare,
				err);
}

static void answered(void *arg, const char *blade, int rc, bool up)
{
	struct cmc_health *h = arg;
	int i = index_of(h, blade);
	struct cmc_health_sm *st;
	unsigned long long now = cmc_now_ms(), grace = h->d->config->failover_grace * 1000ull;

	if (i < 0 || rc)
		return;
	st = &h->st[i];
	switch (cmc_health_sm_poll(st, up, now, grace, h->poll_seq)) {
	case CMC_HS_NONE:
	case CMC_HS_STALE:
		return;
	case CMC_HS_BACK:
		cmc_events_post(h->d->events, "blade-up", -1, "%s is back", blade);
		(void)!cmc_blades_power(h->d->blades, blade, true);	/* its link watch again */
		return;
	case CMC_HS_DOWN:
		cmc_events_post(h->d->events, "blade-down", -1, "%s is down (failed after %u s)", blade,
				h->d->config->failover_grace);
		cmc_blades_blade_lost(h->d->blades, blade);
		return;
	case CMC_HS_FAILED:
		cmc_events_post(h->d->events, "blade-failed", -1, "%s has been down for %llu s", blade,
				(now - st->down_since) / 1000);
		fail_over(h, blade);
		return;
	}
}

static void all_answered(void *arg, const char *blade, int rc, bool up)
{
	struct cmc_health *h = arg;

	if (!blade) {
		h->asking = false;
		if (h->stopped)
			free(h);
		else
			cmc_health_kick(h);
		return;
	}
	if (h->stopped)
		return;
	answered(h, blade, rc, up);
}

static void health_tick(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_health *h = arg;
	(void)loop;
	(void)t;

	if (h->asking || !h->d->blades)
		return;
	h->poll_seq = h->seq;
	h->asking = cmc_blades_health_poll(h->d->blades, all_answered, h) == 0;
}

int cmc_health_power(struct cmc_health *h, const char *blade, bool on)
{
	int i = index_of(h, blade), rc;

	if (i < 0)
		return -ENOENT;
	rc = cmc_blades_power(h->d->blades, blade, on);
	if (!rc)
		cmc_health_sm_power(&h->st[i], on, ++h->seq);
	return rc;
}

/* Idle spares off; failovers a crash interrupted, finished. */
static void settle(struct cmc_health *h)
{
	const struct cmc_config *cfg = h->d->config;
	const struct cmc_intent *in = cmc_blades_intent(h->d->blades);

	for (unsigned i = 0; in && i < cfg->blade_count; i++) {
		const char *spare = cfg->blades[i].spare;

		if (spare[0] && !cmc_sprofile_of_blade(in, spare) && cmc_health_of(h, spare) != CMC_BLADE_OFF &&
		    cmc_health_power(h, spare, false) < 0)
			log_warnx("blade %s: an idle spare, but it cannot be powered off", spare);
	}
	cmc_sprofile_resume(h->d);
}

int cmc_health_start(struct cmcd *d, struct cmc_health **out)
{
	struct cmc_health *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->d = d;
	rc = cmc_loop_add_timer(d->loop, 0, 0, health_tick, h, &h->tick);
	if (rc) {
		free(h);
		return rc;
	}
	d->health = h;
	if (d->blades)
		settle(h);
	cmc_health_kick(h);
	*out = h;
	return 0;
}

void cmc_health_stop(struct cmcd *d, struct cmc_health *h)
{
	if (!h)
		return;
	cmc_loop_del_timer(d->loop, h->tick);
	d->health = NULL;
	h->stopped = true;
	if (!h->asking)
		free(h);
}
