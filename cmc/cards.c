/* SPDX-License-Identifier: MIT */
/*
 * The cards cmcd drives itself: for each slot the configuration gives to the igb-vfio
 * backend, cmcd takes the card's PFs, enables the configured VFs, gives each VF a MAC
 * of the chassis' own and serves the VFs' mailbox from the event loop.
 */
#include "cards.h"
#include "daemon.h"

#include "log.h"
#include "nic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define CARDS_MAX 64

struct card {
	struct cmcd *d;
	unsigned slot, pf;
	struct nic *nic;
	struct cmc_watch *watch;
	struct cmc_timer *retry;
	struct log_ratelimit refusals[NIC_MAX_VFS + 1];	/* per VF, and the PF */
	unsigned long refused_total;
};

struct cmc_cards {
	struct card cards[CARDS_MAX];
	unsigned n;
};

/* Locally administered, unique per chassis position: 02:cc:00:slot:pf:vf. */
void cmc_cards_vf_mac(unsigned slot, unsigned pf, unsigned vf, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x02, 0xcc, 0x00, (uint8_t)slot, (uint8_t)pf, (uint8_t)vf };

	memcpy(mac, m, 6);
}

static void card_event(void *ctx, enum nic_event ev, int vf, const char *detail)
{
	struct card *c = ctx;
	unsigned long suppressed = 0;

	switch (ev) {
	case NIC_EV_VF_REFUSED:
		c->refused_total++;
		/* A VF belongs to a blade we do not trust: its noise is rate-limited. */
		if (!log_ratelimit_allow(&c->refusals[vf < 0 ? NIC_MAX_VFS : vf], cmc_now_ms(), &suppressed))
			return;
		cmc_events_post(c->d->events, "vf-refused", (int)c->slot, "pf %u vf %d: %s%s", c->pf, vf,
				detail, suppressed ? " (and more, rate-limited)" : "");
		return;
	case NIC_EV_VF_RESET:
		log_info("slot %u pf %u vf %d: %s", c->slot, c->pf, vf, detail);
		return;
	case NIC_EV_LINK_UP:
	case NIC_EV_LINK_DOWN:
		cmc_events_post(c->d->events, ev == NIC_EV_LINK_UP ? "link-up" : "link-down", (int)c->slot,
				"pf %u: %s", c->pf, detail);
		return;
	case NIC_EV_GONE:
		cmc_events_post(c->d->events, "card-gone", (int)c->slot, "pf %u: %s", c->pf, detail);
		return;
	case NIC_EV_INFO:
		log_info("slot %u pf %u: %s", c->slot, c->pf, detail);
		return;
	}
}

static void card_close(struct cmcd *d, struct card *c)
{
	if (c->watch)
		cmc_loop_del_fd(d->loop, c->watch);
	if (c->retry)
		cmc_loop_del_timer(d->loop, c->retry);
	if (c->nic)
		c->nic->ops->close(c->nic);
	c->nic = NULL;
	c->watch = NULL;
	c->retry = NULL;
}

static void card_service(struct card *c)
{
	int rc = c->nic->ops->service(c->nic);

	if (rc == -ENODEV) {
		/* Surprise removal: stop serving; hot-plug will rescan the slot. */
		card_close(c->d, c);
		cmcd_rescan_soon(c->d);
		return;
	}
	if (rc > 0 && c->retry)
		(void)!cmc_timer_arm(c->retry, (unsigned)rc, 0);
}

static void card_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	card_service(arg);
}

static void card_retry(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	card_service(arg);
}

static int configure_vfs(struct card *c, char *err, size_t errlen)
{
	for (unsigned vf = 0; vf < c->nic->num_vfs; vf++) {
		struct nic_vf_config vc = { .spoofchk = true };
		int rc;

		cmc_cards_vf_mac(c->slot, c->pf, vf, vc.mac);
		rc = c->nic->ops->vf_configure(c->nic, vf, &vc, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int card_open(struct cmcd *d, struct card *c, const char *bdf, unsigned vfs)
{
	struct nic_params p = {
		.pf_bdf = bdf, .num_vfs = vfs, .vf_driver = "igbvf", .on_event = card_event, .ctx = c,
	};
	char err[256];
	int rc;

	for (unsigned i = 0; i <= NIC_MAX_VFS; i++)
		log_ratelimit_init(&c->refusals[i], 5, 2000);
	rc = nic_open("igb-vfio", &p, &c->nic, err, sizeof(err));
	if (!rc)
		rc = configure_vfs(c, err, sizeof(err));
	if (!rc)
		rc = cmc_loop_add_fd(d->loop, c->nic->ops->event_fd(c->nic), EPOLLIN, card_ready, c, &c->watch);
	if (!rc)
		rc = cmc_loop_add_timer(d->loop, 0, 0, card_retry, c, &c->retry);
	if (rc) {
		log_warnx("slot %u pf %u (%s): %s", c->slot, c->pf, bdf, *err ? err : strerror(-rc));
		card_close(d, c);
		return rc;
	}
	log_info("slot %u pf %u (%s): igb-vfio, %u VFs", c->slot, c->pf, bdf, c->nic->num_vfs);
	return 0;
}

static void open_slot(struct cmcd *d, struct cmc_cards *cards, const struct cmc_config_slot *cs)
{
	const struct mp_slot *s = mp_slot_find(d->inv, cs->number);
	char bdf[MP_BDF_STRLEN];

	if (!s || !s->function_count) {
		cmc_events_post(d->events, "card-missing", (int)cs->number,
				"configured for igb-vfio, but the slot holds no card");
		return;
	}
	for (size_t f = 0; f < s->function_count && cards->n < CARDS_MAX; f++) {
		const struct mp_function *fn = &s->functions[f];
		struct card *c = &cards->cards[cards->n];

		if (fn->id.vendor_id != 0x8086 || fn->id.device_id != 0x10c9) {
			cmc_events_post(d->events, "card-unsupported", (int)cs->number,
					"pf %u is %04x:%04x, igb-vfio drives 8086:10c9", fn->index,
					fn->id.vendor_id, fn->id.device_id);
			continue;
		}
		*c = (struct card){ .d = d, .slot = cs->number, .pf = fn->index };
		if (card_open(d, c, mp_bdf_str(&fn->bdf, bdf), cs->vfs) == 0)
			cards->n++;
	}
}

int cmc_cards_start(struct cmcd *d, struct cmc_cards **out)
{
	struct cmc_cards *cards = calloc(1, sizeof(*cards));

	if (!cards)
		return -ENOMEM;
	for (unsigned i = 0; i < d->config->slot_count; i++) {
		const struct cmc_config_slot *cs = &d->config->slots[i];
		if (cs->driver == CMC_DRIVER_IGB_VFIO)
			open_slot(d, cards, cs);
	}
	*out = cards;
	return 0;
}

void cmc_cards_stop(struct cmcd *d, struct cmc_cards *cards)
{
	if (!cards)
		return;
	for (unsigned i = 0; i < cards->n; i++)
		card_close(d, &cards->cards[i]);
	free(cards);
}

void cmc_cards_records(const struct cmc_cards *cards, struct cmc_buf *b)
{
	for (unsigned i = 0; cards && i < cards->n; i++) {
		const struct card *c = &cards->cards[i];
		for (unsigned vf = 0; c->nic && vf < c->nic->num_vfs; vf++) {
			struct nic_stats st;
			uint8_t mac[6];
			char macs[18];

			if (c->nic->ops->vf_stats(c->nic, vf, &st) < 0)
				continue;
			cmc_cards_vf_mac(c->slot, c->pf, vf, mac);
			snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
				 mac[3], mac[4], mac[5]);
			cmc_rec_begin(b, "vfstat");
			cmc_rec_int(b, "slot", c->slot);
			cmc_rec_int(b, "pf", c->pf);
			cmc_rec_int(b, "vf", vf);
			cmc_rec_str(b, "mac", macs);
			cmc_rec_int(b, "rx_packets", (long long)st.rx_packets);
			cmc_rec_int(b, "tx_packets", (long long)st.tx_packets);
			cmc_rec_int(b, "rx_bytes", (long long)st.rx_bytes);
			cmc_rec_int(b, "tx_bytes", (long long)st.tx_bytes);
			cmc_rec_int(b, "mbx_messages", (long long)st.mbx_messages);
			cmc_rec_int(b, "mbx_refused", (long long)st.mbx_refused);
			cmc_rec_end(b);
		}
	}
}
