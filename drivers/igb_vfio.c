/* SPDX-License-Identifier: MIT */
/*
 * igb-vfio: the Intel 82576 physical function driven from user space through VFIO.
 *
 * The PF carries no traffic of its own here: it is the chassis' handle on the card's
 * embedded bridge. cmcd resets it, puts it in VMDq mode with VF-to-VF loopback, enables
 * the VFs and answers their mailbox, so that the stock igbvf driver in a blade comes up
 * with the MAC the chassis assigned. Section numbers refer to the Intel 82576 GbE
 * Controller Datasheet (rev 2.x).
 *
 * Nothing here waits on a VF: a mailbox the VF holds locked is retried later (the
 * service call returns a delay), and every wait on the card itself is bounded. A read
 * of all ones means the card is gone (surprise removal): the driver stops touching it.
 */
#include "nic.h"
#include "clock.h"

#include "igb_mbx.h"
#include "igb_rate.h"
#include "igb_regs.h"
#include "pci_sysfs.h"
#include "vf_token.h"
#include "vfio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define IGB_RESET_TIMEOUT_US	100000	/* CTRL.RST self-clears within ~1 ms (4.3.1) */
#define IGB_MDIC_TIMEOUT_US	10000	/* an MDI access takes ~64 us at MDC 2.5 MHz (8.2.4) */
#define IGB_LOCK_RETRY_MS	2	/* a VF holds its mailbox: come back, never spin */
#define IGB_LOCK_MAX_TRIES	8	/* then take the mailbox from it (RVFU) */
/* While a VF is muted or ignored the mailbox cause is masked: the others are polled. */
#define IGB_POLL_MS		10
#define IGB_VF_RAR(vf)		(IGB_RAR_ENTRIES - 1 - (vf))	/* top down, as PF drivers do */
/*
 * The extra receive-address entries (between the PF's and the VFs' primaries) are split:
 * IGB_STATIC_FDB_ENTRIES for the chassis' static forwarding entries, the rest for what
 * trusted VFs ask for through the mailbox. Neither side can starve the other.
 */
#define IGB_STATIC_FDB_ENTRIES	NIC_STATIC_FDB_MAX
#define IGB_RAR_STATIC		0x40	/* rar_owner flag: a static entry, kept across VF resets */
/* How long a stop waits for a VF bind in progress (one igbvf probe, served). */
#define IGB_RELEASE_BIND_WAIT_MS 3000
#define IGB_NOMINAL_MBPS	1000	/* the 82576's port speed, until the port says otherwise */

struct vf_bind_job {
	pthread_t thread;
	bool running, done;
	bool stop;			/* bind no more VFs (the PF is being released) */
	char vf_bdf[NIC_MAX_VFS][32];
	unsigned n;
	char driver[32];
	int results[NIC_MAX_VFS];
	int wake_fd;
};

struct igb_pf {
	struct nic nic;
	struct nic_params params;
	char vf_driver[32];
	struct vfio_dev *dev;
	volatile uint8_t *bar;
	size_t bar_len;
	int irq_fd;		/* MSI-X vector 0 */
	int req_fd;		/* vfio-pci: the kernel wants the device back (hot-unplug) */
	int ep_fd;		/* both, as the one fd the daemon's loop watches */
	struct igb_mbx *mbx;
	bool gone;
	bool link_up;
	uint8_t pending;			/* VFs whose request waits for the mailbox lock */
	uint8_t lock_tries[NIC_MAX_VFS];
	uint8_t reply_pending;			/* VFs whose reply waits for the lock */
	uint32_t reply[NIC_MAX_VFS][IGB_MBX_MSG_WORDS];
	unsigned reply_len[NIC_MAX_VFS];
	bool trace;				/* CMC_IGB_TRACE: report every message */
	uint8_t silenced;			/* VFs muted or ignored (igb_mbx_verdict) */
	bool vmmb_masked;			/* IMC.VMMB written: the mailbox cause is polled */
	int8_t rar_owner[IGB_RAR_ENTRIES];	/* extra filters: owning VF (| IGB_RAR_STATIC) or -1 */
	struct vf_bind_job bind;
	struct nic_stats port;			/* running totals of the port's counters */
	struct nic_vf_rate rate[NIC_MAX_VFS];	/* each VF's transmit limit as written */
	unsigned link_mbps;			/* the port speed the limits were computed for */
	bool rate_unkept_told;			/* "the card does not keep limits" logged once */
	bool vfs_released;			/* release_vfs took them: close() leaves sysfs alone */
};


/* --- Register access ------------------------------------------------------------- */

static void card_gone(struct igb_pf *pf)
{
	if (pf->gone)
		return;
	pf->gone = true;
	nic_report(&pf->params, NIC_EV_GONE, -1, "PF %s reads all ones: card removed", pf->nic.pf_bdf);
}

static uint32_t rd32(struct igb_pf *pf, uint32_t reg)
{
	uint32_t v;

	if (pf->gone)
		return 0xffffffffu;
	v = *(volatile uint32_t *)(pf->bar + reg);
	/* All ones from a register that cannot hold it: confirm on STATUS (Linux igb_rd32). */
	if (v == 0xffffffffu && *(volatile uint32_t *)(pf->bar + IGB_STATUS) == 0xffffffffu)
		card_gone(pf);
	return v;
}

static void wr32(struct igb_pf *pf, uint32_t reg, uint32_t v)
{
	if (pf->gone)
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint32_t *)(pf->bar + reg) = v;
}

static void set_bits(struct igb_pf *pf, uint32_t reg, uint32_t bits)
{
	wr32(pf, reg, rd32(pf, reg) | bits);
}

static void clear_bits(struct igb_pf *pf, uint32_t reg, uint32_t bits)
{
	wr32(pf, reg, rd32(pf, reg) & ~bits);
}

static void sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Polls until (reg & mask) == want; -ETIMEDOUT after timeout_us, -ENODEV if gone. */
static int wait_reg(struct igb_pf *pf, uint32_t reg, uint32_t mask, uint32_t want, unsigned timeout_us)
{
	for (unsigned waited = 0;; waited += 50) {
		uint32_t v = rd32(pf, reg);
		if (pf->gone)
			return -ENODEV;
		if ((v & mask) == want)
			return 0;
		if (waited >= timeout_us)
			return -ETIMEDOUT;
		sleep_us(50);
	}
}

/* --- Bring-up ------------------------------------------------------------------- */

static int enable_bus_master(struct igb_pf *pf)
{
	uint16_t cmd;
	int rc = vfio_dev_cfg_read(pf->dev, 0x04, &cmd, sizeof(cmd));

	if (rc)
		return rc;
	cmd |= 0x0002 | 0x0004;	/* PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER */
	return vfio_dev_cfg_write(pf->dev, 0x04, &cmd, sizeof(cmd));
}

static void mask_interrupts(struct igb_pf *pf)
{
	wr32(pf, IGB_EIMC, 0xffffffffu);
	wr32(pf, IGB_IMC, 0xffffffffu);
	(void)rd32(pf, IGB_ICR);	/* read to clear (8.8.1) */
}

/* 4.3.1 "Software reset": CTRL.RST resets the MAC; the bit self-clears. */
static int reset_card(struct igb_pf *pf)
{
	mask_interrupts(pf);
	wr32(pf, IGB_CTRL, rd32(pf, IGB_CTRL) | IGB_CTRL_RST);
	sleep_us(1000);
	int rc = wait_reg(pf, IGB_CTRL, IGB_CTRL_RST, 0, IGB_RESET_TIMEOUT_US);
	mask_interrupts(pf);
	return rc;
}

/* 8.2.4 MDIC: one PHY register write, bounded. */
static int phy_write(struct igb_pf *pf, unsigned reg, uint16_t value)
{
	wr32(pf, IGB_MDIC, value | (reg << IGB_MDIC_REG_SHIFT) |
			       (IGB_PHY_INTERNAL_ADDR << IGB_MDIC_PHY_SHIFT) | IGB_MDIC_OP_WRITE);
	int rc = wait_reg(pf, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY, IGB_MDIC_TIMEOUT_US);
	if (!rc && (rd32(pf, IGB_MDIC) & IGB_MDIC_ERROR))
		rc = -EIO;
	return rc;
}

/*
 * 7.8 virtualization: VMDq pools (MRQC), VF-to-VF switching inside the card (DTXSWC
 * loopback, 7.8.3.5), receive and transmit on. The PF's own rings stay unused.
 */
static void setup_bridge(struct igb_pf *pf)
{
	wr32(pf, IGB_MRQC, (rd32(pf, IGB_MRQC) & ~IGB_MRQC_MODE_MASK) | IGB_MRQC_MODE_VMDQ);
	wr32(pf, IGB_DTXSWC, IGB_DTXSWC_LOOPBACK_EN);
	/*
	 * VLAN filtering on (RCTL.VFE): a tagged frame reaches only the pools its VLVF entry
	 * names and an untagged one only pools with VMOLR.AUPE. That is what keeps blades
	 * of different domains apart (7.10.3.3). Tags are inserted per pool (VMVIR) and
	 * stripped per pool (VMOLR.STRVLAN, RPLOLR for replicated multicast).
	 */
	wr32(pf, IGB_RCTL, rd32(pf, IGB_RCTL) | IGB_RCTL_EN | IGB_RCTL_BAM | IGB_RCTL_VFE);
	set_bits(pf, IGB_CTRL, IGB_CTRL_VME);
	set_bits(pf, IGB_RPLOLR, IGB_RPLOLR_STRVLAN);
	wr32(pf, IGB_TCTL, rd32(pf, IGB_TCTL) | IGB_TCTL_EN);
	/* The rate schedulers' compensation for the largest frame (9728-byte jumbo), global:
	 * once here, before any VF is limited (doc/rate-limiter.md). */
	wr32(pf, IGB_RTTBCNRM, IGB_RTTBCNRM_MMW_JUMBO);
	for (unsigned i = 0; i < IGB_RAR_ENTRIES; i++)
		pf->rar_owner[i] = -1;
}

/* Link: set link up (8.2.1) and restart auto-negotiation (PHY BMCR) so STATUS.LU comes
 * back after the reset; VFs get no carrier without it. */
static int setup_link(struct igb_pf *pf)
{
	set_bits(pf, IGB_CTRL, IGB_CTRL_SLU);
	return phy_write(pf, IGB_PHY_BMCR, IGB_BMCR_ANENABLE | IGB_BMCR_ANRESTART |
						   IGB_BMCR_FULL_DUPLEX | IGB_BMCR_SPEED_1000);
}

/*
 * One fd for the daemon: an epoll set holding the MSI-X eventfd and vfio-pci's device
 * request eventfd. Without the latter a card pulled out of its slot would hang in the
 * kernel, waiting for us to let go of it.
 */
static int setup_event_fd(struct igb_pf *pf)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int rc;

	pf->req_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pf->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (pf->req_fd < 0 || pf->ep_fd < 0)
		return -errno;
	rc = vfio_dev_set_req_eventfd(pf->dev, pf->req_fd);
	if (rc)
		return rc;
	ev.data.fd = pf->irq_fd;
	if (epoll_ctl(pf->ep_fd, EPOLL_CTL_ADD, pf->irq_fd, &ev) < 0)
		return -errno;
	ev.data.fd = pf->req_fd;
	return epoll_ctl(pf->ep_fd, EPOLL_CTL_ADD, pf->req_fd, &ev) < 0 ? -errno : 0;
}

/*
 * 7.3 MSI-X: all "other" causes (mailbox, VFLR, link) on vector 0, which vfio turns
 * into an eventfd for the daemon's loop. QEMU routes VF interrupts only while the PF's
 * own MSI-X is enabled, so this is needed for the VFs too.
 */
static int setup_interrupts(struct igb_pf *pf)
{
	int rc;

	pf->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pf->irq_fd < 0)
		return -errno;
	rc = vfio_dev_set_msix(pf->dev, 1, &pf->irq_fd);
	if (rc)
		return rc;
	wr32(pf, IGB_GPIE, IGB_GPIE_MSIX_MODE | IGB_GPIE_EIAME | IGB_GPIE_PBA | IGB_GPIE_NSICR);
	wr32(pf, IGB_IVAR_MISC, (0u | IGB_IVAR_VALID) << IGB_IVAR_MISC_OTHER_SHIFT);
	wr32(pf, IGB_MBVFIMR, 0xffu);
	/* Auto-clear vector 0's EICR bit when it fires: a cause still set in EICR (or ICR)
	 * raises no new message, so a missed clear would silence the card for good. */
	wr32(pf, IGB_EIAC, 1u << 0);
	wr32(pf, IGB_IMS, IGB_IMS_LSC | IGB_IMS_VMMB);
	wr32(pf, IGB_EIMS, 1u << 0);
	return setup_event_fd(pf);
}

/* --- Applying the mailbox engine's actions ------------------------------------------ */

static void write_rar(struct igb_pf *pf, unsigned entry, const uint8_t mac[6], unsigned pool)
{
	wr32(pf, igb_ral(entry), mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24);
	wr32(pf, igb_rah(entry), mac[4] | mac[5] << 8 | igb_rah_pool(pool) | IGB_RAH_AV);
}

static void clear_rar(struct igb_pf *pf, unsigned entry)
{
	wr32(pf, igb_rah(entry), 0);
	wr32(pf, igb_ral(entry), 0);
}

static void add_extra_mac(struct igb_pf *pf, unsigned vf, const uint8_t mac[6])
{
	/* Entries between the PF's (0) and the VFs' primaries (top); the engine's quota
	 * guarantees one is free. */
	for (unsigned e = 1 + IGB_STATIC_FDB_ENTRIES; e < IGB_RAR_ENTRIES - NIC_MAX_VFS; e++) {
		if (pf->rar_owner[e] >= 0)
			continue;
		pf->rar_owner[e] = (int8_t)vf;
		write_rar(pf, e, mac, vf);
		return;
	}
}

static void clear_extra_macs(struct igb_pf *pf, unsigned vf)
{
	for (unsigned e = 1 + IGB_STATIC_FDB_ENTRIES; e < IGB_RAR_ENTRIES - NIC_MAX_VFS; e++) {
		if (pf->rar_owner[e] != (int8_t)vf)
			continue;
		clear_rar(pf, e);
		pf->rar_owner[e] = -1;
	}
}

static void write_mta(struct igb_pf *pf, unsigned vf)
{
	uint32_t mta[IGB_MBX_MTA_WORDS];

	igb_mbx_mta(pf->mbx, mta);
	for (unsigned i = 0; i < IGB_MBX_MTA_WORDS; i++)
		wr32(pf, igb_mta(i), mta[i]);
	set_bits(pf, igb_vmolr(vf), IGB_VMOLR_ROMPE);
}

/* 8.10.x VLVF: one entry per VLAN id, a pool bit per VF. */
static void vlan_pool(struct igb_pf *pf, unsigned vf, uint16_t vid, bool add)
{
	int free_entry = -1;

	for (unsigned i = 0; i < IGB_VLVF_ENTRIES; i++) {
		uint32_t v = rd32(pf, igb_vlvf(i));
		if (!(v & IGB_VLVF_VIEN)) {
			if (free_entry < 0)
				free_entry = (int)i;
			continue;
		}
		if ((v & IGB_VLVF_VLANID_MASK) != vid)
			continue;
		v = add ? v | igb_vlvf_pool(vf) : v & ~igb_vlvf_pool(vf);
		if (!(v & (IGB_VLVF_POOLSEL_MASK << IGB_VLVF_POOLSEL_SHIFT)))
			v = 0;	/* last pool gone: free the entry */
		wr32(pf, igb_vlvf(i), v);
		return;
	}
	if (add && free_entry >= 0) {
		wr32(pf, igb_vlvf((unsigned)free_entry), vid | igb_vlvf_pool(vf) | IGB_VLVF_VIEN);
		set_bits(pf, igb_vfta(vid / 32), 1u << (vid % 32));
	}
}

static void clear_vlans(struct igb_pf *pf, unsigned vf)
{
	for (unsigned i = 0; i < IGB_VLVF_ENTRIES; i++) {
		uint32_t v = rd32(pf, igb_vlvf(i));
		if (!(v & IGB_VLVF_VIEN) || !(v & igb_vlvf_pool(vf)))
			continue;
		vlan_pool(pf, vf, (uint16_t)(v & IGB_VLVF_VLANID_MASK), false);
	}
}

static void set_max_frame(struct igb_pf *pf, unsigned vf, uint16_t max_frame)
{
	uint32_t v = rd32(pf, igb_vmolr(vf)) & ~IGB_VMOLR_RLPML_MASK;

	wr32(pf, igb_vmolr(vf), v | max_frame | IGB_VMOLR_LPE);
}

static void set_promisc(struct igb_pf *pf, unsigned vf, bool unicast, bool multicast)
{
	uint32_t v = rd32(pf, igb_vmolr(vf)) & ~(IGB_VMOLR_ROPE | IGB_VMOLR_MPME);

	wr32(pf, igb_vmolr(vf), v | (unicast ? IGB_VMOLR_ROPE : 0) | (multicast ? IGB_VMOLR_MPME : 0));
}

/*
 * A port VLAN (8.10.x VMVIR): the card tags everything the VF sends, the VF's pool joins
 * that VLAN's filter entry, untagged frames no longer reach it and the tag is stripped
 * on the way in, so the VF never sees it.
 */
static void set_port_vlan(struct igb_pf *pf, unsigned vf, uint16_t vid)
{
	wr32(pf, igb_vmvir(vf), vid ? vid | IGB_VMVIR_VLANA_DEFAULT : 0);
	if (vid) {
		vlan_pool(pf, vf, vid, true);
		clear_bits(pf, igb_vmolr(vf), IGB_VMOLR_AUPE);
		set_bits(pf, igb_vmolr(vf), IGB_VMOLR_STRVLAN);
	} else {
		clear_bits(pf, igb_vmolr(vf), IGB_VMOLR_STRVLAN);
		if (rd32(pf, IGB_VFRE) & (1u << vf))
			set_bits(pf, igb_vmolr(vf), IGB_VMOLR_AUPE);
	}
}

static void apply_rxtx(struct igb_pf *pf, unsigned vf, bool enable)
{
	if (enable) {
		/* Broadcasts, and untagged frames unless the VF is on a port VLAN (8.10.14). */
		set_bits(pf, igb_vmolr(vf), IGB_VMOLR_BAM);
		if (!(rd32(pf, igb_vmvir(vf)) & IGB_VMVIR_VLANA_DEFAULT))
			set_bits(pf, igb_vmolr(vf), IGB_VMOLR_AUPE);
		set_bits(pf, IGB_VFRE, 1u << vf);
		set_bits(pf, IGB_VFTE, 1u << vf);
	} else {
		clear_bits(pf, IGB_VFRE, 1u << vf);
		clear_bits(pf, IGB_VFTE, 1u << vf);
	}
}

static void apply_action(struct igb_pf *pf, const struct igb_mbx_action *a)
{
	switch (a->type) {
	case IGB_MBX_ACT_SET_MAC: write_rar(pf, IGB_VF_RAR(a->vf), a->mac, a->vf); break;
	case IGB_MBX_ACT_CLEAR_MAC: clear_rar(pf, IGB_VF_RAR(a->vf)); break;
	case IGB_MBX_ACT_ADD_MAC_FILTER: add_extra_mac(pf, a->vf, a->mac); break;
	case IGB_MBX_ACT_CLEAR_MAC_FILTERS: clear_extra_macs(pf, a->vf); break;
	case IGB_MBX_ACT_SET_MULTICAST: write_mta(pf, a->vf); break;
	case IGB_MBX_ACT_ADD_VLAN: vlan_pool(pf, a->vf, a->vid, true); break;
	case IGB_MBX_ACT_DEL_VLAN: vlan_pool(pf, a->vf, a->vid, false); break;
	case IGB_MBX_ACT_CLEAR_VLANS: clear_vlans(pf, a->vf); break;
	case IGB_MBX_ACT_SET_PORT_VLAN: set_port_vlan(pf, a->vf, a->vid); break;
	case IGB_MBX_ACT_SET_MAX_FRAME: set_max_frame(pf, a->vf, a->max_frame); break;
	case IGB_MBX_ACT_SET_PROMISC:
		set_promisc(pf, a->vf, a->promisc.unicast, a->promisc.multicast);
		break;
	case IGB_MBX_ACT_ENABLE_RXTX: apply_rxtx(pf, a->vf, true); break;
	case IGB_MBX_ACT_DISABLE_RXTX: apply_rxtx(pf, a->vf, false); break;
	}
}

/* Tells the chassis what VF vf holds through its mailbox now (nic_params.vf_macs). */
static void report_vf_macs(struct igb_pf *pf, unsigned vf)
{
	struct igb_mbx_vf_state st;
	struct igb_mbx_policy pol;
	uint8_t macs[NIC_VF_MACS_MAX][6];
	unsigned n = 0;

	if (igb_mbx_get_state(pf->mbx, vf, &st) < 0 || igb_mbx_get_policy(pf->mbx, vf, &pol) < 0)
		return;
	if (memcmp(st.mac, "\0\0\0\0\0\0", 6) != 0 && memcmp(st.mac, pol.mac, 6) != 0)
		memcpy(macs[n++], st.mac, 6);
	for (unsigned i = 0; i < st.n_extra && n < NIC_VF_MACS_MAX; i++)
		memcpy(macs[n++], st.extra[i], 6);
	pf->params.vf_macs(pf->params.ctx, vf, (const uint8_t (*)[6])macs, n);
}

static void apply_result(struct igb_pf *pf, const struct igb_mbx_result *res)
{
	uint8_t touched = 0;

	for (unsigned i = 0; i < res->n_actions; i++) {
		const struct igb_mbx_action *a = &res->actions[i];

		apply_action(pf, a);
		if (a->vf < NIC_MAX_VFS &&
		    (a->type == IGB_MBX_ACT_SET_MAC || a->type == IGB_MBX_ACT_CLEAR_MAC ||
		     a->type == IGB_MBX_ACT_ADD_MAC_FILTER || a->type == IGB_MBX_ACT_CLEAR_MAC_FILTERS))
			touched |= (uint8_t)(1u << a->vf);
	}
	for (unsigned vf = 0; pf->params.vf_macs && vf < NIC_MAX_VFS; vf++)
		if (touched & (1u << vf))
			report_vf_macs(pf, vf);
}

/* --- Transmit rate limits (doc/rate-limiter.md) -------------------------------------- */

/*
 * VF vf's transmit limit: the rate factor for its rate on the port's speed, written to
 * both of its queues (RTTDQSEL selects the queue that RTTBCNRC then addresses) and read
 * back. A card that does not keep the value (QEMU's igb implements none of these
 * registers) is recorded as such, not refused: the limit is the chassis' intent either
 * way, and on such a card it is simply not enforced.
 */
static void write_vf_rate(struct igb_pf *pf, unsigned vf, unsigned rate_mbps)
{
	uint32_t v = igb_rate_rttbcnrc(rate_mbps, pf->link_mbps), got = v;
	bool kept = true;

	for (unsigned i = 0; i < IGB_RATE_QUEUES_PER_VF; i++) {
		wr32(pf, IGB_RTTDQSEL, igb_vf_tx_queue(vf, i));
		wr32(pf, IGB_RTTBCNRC, v);
		if (kept && (got = rd32(pf, IGB_RTTBCNRC)) != v)
			kept = false;
	}
	if (!kept && !pf->gone && !pf->rate_unkept_told) {
		pf->rate_unkept_told = true;
		nic_report(&pf->params, NIC_EV_INFO, (int)vf, "the card does not keep transmit limits (RTTBCNRC "
			   "0x%08x read back as 0x%08x): they are not enforced", v, got);
	}
	pf->rate[vf] = (struct nic_vf_rate){ .rate_mbps = rate_mbps, .link_mbps = pf->link_mbps, .reg = v,
					     .kept = kept && !pf->gone };
}

/*
 * The limits are in Mbit/s but the card takes a factor of the port's speed: when the
 * port comes up at another speed, every limited VF gets the factor for the new one.
 * (Linux igb drops every VF's limit on a speed change instead; the chassis' intent is a
 * rate, so it is kept.) A port that goes down keeps its factors until it is up again.
 */
static void check_link_speed(struct igb_pf *pf, unsigned mbps)
{
	unsigned n = 0;

	if (!mbps || mbps == pf->link_mbps)
		return;
	pf->link_mbps = mbps;
	for (unsigned vf = 0; vf < pf->nic.num_vfs; vf++) {
		if (!pf->rate[vf].rate_mbps)
			continue;
		write_vf_rate(pf, vf, pf->rate[vf].rate_mbps);
		n++;
	}
	if (n)
		nic_report(&pf->params, NIC_EV_INFO, -1, "port at %u Mbit/s: transmit limits of %u VFs re-programmed",
			   mbps, n);
}

static int igb_vf_rate(struct nic *nic, unsigned vf, struct nic_vf_rate *out)
{
	struct igb_pf *pf = (struct igb_pf *)nic;

	if (vf >= nic->num_vfs)
		return -ENOENT;
	*out = pf->rate[vf];
	return 0;
}

/* --- The mailbox (7.8.2.2) ----------------------------------------------------------- */

/* What the engine did to a VF's standing: an event either way. */
static void report_penalty(struct igb_pf *pf, unsigned vf, const struct igb_mbx_penalty *pen)
{
	const char *what = igb_mbx_offence_str(pen->offence);

	if (pen->offence != IGB_MBX_OFF_NONE && pen->verdict == IGB_MBX_IGNORED)
		nic_report(&pf->params, NIC_EV_VF_PENALTY, (int)vf,
			   "%s: VF ignored until it resets or the chassis reconfigures it (penalty %u)", what,
			   pen->level);
	else if (pen->offence != IGB_MBX_OFF_NONE)
		nic_report(&pf->params, NIC_EV_VF_PENALTY, (int)vf, "%s: VF not heard for %u ms (penalty %u)",
			   what, pen->mute_ms, pen->level);
	else if (pen->forgiven)
		nic_report(&pf->params, NIC_EV_VF_PENALTY, (int)vf, "VF heard again: its penalties are cleared");
}

/* VFs not to be served now (muted or ignored); *next: ms until the first mute ends. */
static uint8_t silenced_vfs(struct igb_pf *pf, uint64_t now, unsigned *next)
{
	uint8_t vfs = 0;
	unsigned left;

	*next = 0;
	for (unsigned vf = 0; vf < pf->nic.num_vfs; vf++) {
		enum igb_mbx_verdict v = igb_mbx_verdict(pf->mbx, vf, now, &left);

		if (v == IGB_MBX_HEARD)
			continue;
		vfs |= (uint8_t)(1u << vf);
		if (v == IGB_MBX_MUTED && (!*next || left < *next))
			*next = left;
	}
	return vfs;
}

/*
 * A muted or ignored VF must cost the PF nothing. QEMU's igb raises the PF's mailbox
 * interrupt for every request and every reset of a VF without looking at MBVFIMR
 * (hw/net/igb_core.c: mailbox_interrupt_to_pf, igb_vf_reset), but it honours the PF's own
 * mask of the cause (IMS/IMC.VMMB, 8.8.x). So while any VF is silenced the cause is masked
 * and the mailboxes are polled every IGB_POLL_MS (the other VFs wait at most that); the
 * cause is unmasked once every VF is heard again. MBVFIMR is kept too, for hardware that
 * honours it. Returns the poll delay, 0 when none is needed.
 */
static unsigned apply_silence(struct igb_pf *pf)
{
	unsigned next;
	uint8_t vfs = silenced_vfs(pf, cmc_now_ms(), &next);

	pf->pending |= (uint8_t)(pf->silenced & ~vfs);	/* heard again: a request may wait */
	pf->pending &= (uint8_t)~vfs;
	pf->reply_pending &= (uint8_t)~vfs;
	if (vfs != pf->silenced)
		wr32(pf, IGB_MBVFIMR, 0xffu & ~vfs);
	if (vfs && !pf->vmmb_masked)
		wr32(pf, IGB_IMC, IGB_IMS_VMMB);
	else if (!vfs && pf->vmmb_masked)
		wr32(pf, IGB_IMS, IGB_IMS_VMMB);
	pf->vmmb_masked = vfs != 0;
	pf->silenced = vfs;
	if (!vfs)
		return 0;
	return next && next < IGB_POLL_MS ? next : IGB_POLL_MS;
}

/* Takes the PF side of VF vf's mailbox; false if the VF holds it (VFU). */
static bool mbx_lock(struct igb_pf *pf, unsigned vf)
{
	wr32(pf, igb_p2vmailbox(vf), IGB_P2VMAILBOX_PFU);
	return (rd32(pf, igb_p2vmailbox(vf)) & IGB_P2VMAILBOX_PFU) != 0;
}

/*
 * The lock, or false to come back later. A VF that keeps it through
 * IGB_LOCK_MAX_TRIES attempts has it taken away (RVFU) and is penalized (muted, then
 * ignored): it cannot stall the PF, nor keep it busy retrying.
 */
static bool mbx_lock_or_defer(struct igb_pf *pf, unsigned vf)
{
	struct igb_mbx_result res;

	if (mbx_lock(pf, vf)) {
		pf->lock_tries[vf] = 0;
		return true;
	}
	if (++pf->lock_tries[vf] < IGB_LOCK_MAX_TRIES)
		return false;
	/* Taken back (RVFU), and an offence: the VF is muted, its request waits for that. */
	wr32(pf, igb_p2vmailbox(vf), IGB_P2VMAILBOX_RVFU);
	pf->lock_tries[vf] = 0;
	if (igb_mbx_offend(pf->mbx, vf, IGB_MBX_OFF_LOCK_HOLD, cmc_now_ms(), &res) == 0)
		report_penalty(pf, vf, &res.penalty);
	return false;
}

/* Writes a reply (or a PF message) and signals it: STS, which also drops PFU. */
static void mbx_send(struct igb_pf *pf, unsigned vf, const uint32_t *words, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		wr32(pf, igb_vmbmem(vf, i), words[i]);
	wr32(pf, igb_p2vmailbox(vf), IGB_P2VMAILBOX_STS);
}

/* Sends VF vf's queued reply if its mailbox can be locked now. */
static void mbx_flush_reply(struct igb_pf *pf, unsigned vf)
{
	if (!(pf->reply_pending & (1u << vf)) || !mbx_lock_or_defer(pf, vf))
		return;
	mbx_send(pf, vf, pf->reply[vf], pf->reply_len[vf]);
	pf->reply_pending &= (uint8_t)~(1u << vf);
}

static void mbx_queue_reply(struct igb_pf *pf, unsigned vf, const uint32_t *words, unsigned n)
{
	memcpy(pf->reply[vf], words, n * sizeof(*words));
	pf->reply_len[vf] = n;
	pf->reply_pending |= (uint8_t)(1u << vf);
	mbx_flush_reply(pf, vf);
}

/* Words a message of this id carries (the engine checks the content): reading only
 * those keeps a VF's junk from costing the PF 16 register reads per message. */
static unsigned message_words(uint32_t word0)
{
	unsigned info = (word0 & IGB_MBX_INFO_MASK) >> IGB_MBX_INFO_SHIFT;

	switch (word0 & IGB_MBX_ID_MASK) {
	case IGB_MBX_VF_SET_MAC: return 3;
	case IGB_MBX_VF_SET_MULTICAST: return info > 2 * (IGB_MBX_MSG_WORDS - 1) ? IGB_MBX_MSG_WORDS : 1 + (info + 1) / 2;
	case IGB_MBX_VF_SET_VLAN:
	case IGB_MBX_VF_SET_LPE: return 2;
	default: return 1;
	}
}

/* One request from VF vf. Returns false if its mailbox is locked: retry later. */
static bool mbx_serve(struct igb_pf *pf, unsigned vf)
{
	uint32_t msg[IGB_MBX_MSG_WORDS] = { 0 };
	struct igb_mbx_result res;
	unsigned n;

	if (!mbx_lock_or_defer(pf, vf))
		return false;
	msg[0] = rd32(pf, igb_vmbmem(vf, 0));
	n = message_words(msg[0]);
	for (unsigned i = 1; i < n; i++)
		msg[i] = rd32(pf, igb_vmbmem(vf, i));
	/* ACK the receipt; the write without PFU also drops the lock while we decide. */
	wr32(pf, igb_p2vmailbox(vf), IGB_P2VMAILBOX_ACK);
	if (igb_mbx_process(pf->mbx, vf, msg, n, cmc_now_ms(), &res) < 0)
		return true;
	apply_result(pf, &res);
	if (pf->trace)
		nic_report(&pf->params, NIC_EV_INFO, (int)vf, "message 0x%08x 0x%08x -> reply 0x%08x (%u words) %s",
		       msg[0], msg[1], res.reply[0], res.reply_len, igb_mbx_reason_str(res.reason));
	/* A flood is told as its penalty, not as each refusal. */
	report_penalty(pf, vf, &res.penalty);
	if (res.reason != IGB_MBX_OK && res.reason != IGB_MBX_E_RATE_LIMITED &&
	    res.reason != IGB_MBX_E_PENALIZED)
		nic_report(&pf->params, NIC_EV_VF_REFUSED, (int)vf, "message 0x%08x refused: %s", msg[0],
		       igb_mbx_reason_str(res.reason));
	else if ((msg[0] & IGB_MBX_ID_MASK) == IGB_MBX_VF_RESET)
		nic_report(&pf->params, NIC_EV_VF_RESET, (int)vf, "VF reset: given its MAC");
	if (res.reply_len)
		mbx_queue_reply(pf, vf, res.reply, res.reply_len);
	return true;
}

static void serve_flr(struct igb_pf *pf, uint32_t vflre)
{
	struct igb_mbx_result res;

	wr32(pf, IGB_VFLRE, vflre);	/* write 1 to clear */
	for (unsigned vf = 0; vf < pf->nic.num_vfs; vf++) {
		if (!(vflre & (1u << vf)) || igb_mbx_vf_flr(pf->mbx, vf, cmc_now_ms(), &res) < 0)
			continue;
		/* A reset storm is an offence; a reset out of one forgives. */
		report_penalty(pf, vf, &res.penalty);
		apply_result(pf, &res);
	}
	/* The VF waits for "reset done" (V2PMAILBOX.RSTD), which the card raises when the
	 * PF writes CTRL_EXT.PFRSTD (7.8.2.5): without it igbvf's probe stalls seconds. */
	set_bits(pf, IGB_CTRL_EXT, IGB_CTRL_EXT_PFRSTD);
}

static void serve_acks(struct igb_pf *pf, uint32_t icr)
{
	uint32_t word;

	for (unsigned vf = 0; vf < pf->nic.num_vfs; vf++) {
		if (!(icr & igb_mbvficr_vfack(vf)) || (pf->silenced & (1u << vf)))
			continue;
		if (igb_mbx_vf_ack(pf->mbx, vf, cmc_now_ms(), &word) == 1)
			mbx_queue_reply(pf, vf, &word, 1);
	}
}

static void check_link(struct igb_pf *pf)
{
	uint32_t status = rd32(pf, IGB_STATUS);
	bool up = (status & IGB_STATUS_LU) != 0;

	if (pf->gone)
		return;
	check_link_speed(pf, igb_rate_link_mbps(status));
	if (up == pf->link_up)
		return;
	pf->link_up = up;
	nic_report(&pf->params, up ? NIC_EV_LINK_UP : NIC_EV_LINK_DOWN, -1, "port link %s", up ? "up" : "down");
}

static void bind_job_collect(struct igb_pf *pf);

static int igb_service(struct nic *nic)
{
	struct igb_pf *pf = (struct igb_pf *)nic;
	uint64_t count;
	uint32_t mbvficr, vflre;
	unsigned poll;

	if (read(pf->irq_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	if (read(pf->req_fd, &count, sizeof(count)) == sizeof(count)) {
		/* Hot-unplug: stop touching the card; the caller closes it so the kernel
		 * can finish the removal. */
		nic_report(&pf->params, NIC_EV_GONE, -1, "PF %s is being removed from its slot", nic->pf_bdf);
		pf->gone = true;
		return -ENODEV;
	}
	if (pf->gone)
		return -ENODEV;
	bind_job_collect(pf);
	/* Clear before serving, so that causes raised meanwhile interrupt again. */
	wr32(pf, IGB_EICR, 1u << 0);
	(void)rd32(pf, IGB_ICR);	/* read to clear (GPIE.NSICR) */
	vflre = rd32(pf, IGB_VFLRE);
	if (vflre && !pf->gone)
		serve_flr(pf, vflre);
	mbvficr = rd32(pf, IGB_MBVFICR);
	if (!pf->gone && mbvficr)
		wr32(pf, IGB_MBVFICR, mbvficr);	/* write 1 to clear what we now serve */
	pf->pending |= (uint8_t)(mbvficr & IGB_MBVFICR_VFREQ_MASK);
	(void)apply_silence(pf);
	for (unsigned vf = 0; vf < pf->nic.num_vfs && !pf->gone; vf++) {
		mbx_flush_reply(pf, vf);
		if ((pf->pending & (1u << vf)) && !(pf->reply_pending & (1u << vf)) && mbx_serve(pf, vf))
			pf->pending &= (uint8_t)~(1u << vf);
	}
	serve_acks(pf, mbvficr);
	poll = apply_silence(pf);	/* what this round's penalties and pardons changed */
	check_link(pf);
	wr32(pf, IGB_EIMS, 1u << 0);	/* re-arm vector 0 */
	if (pf->gone)
		return -ENODEV;
	if (pf->pending || pf->reply_pending)
		return IGB_LOCK_RETRY_MS;
	return (int)poll;
}

/* --- VFs to their driver, off the event loop ----------------------------------------- */

/*
 * Binding igbvf probes the VF, and the probe waits for the PF to answer its reset
 * message: the bind must not run on the thread that answers. A worker does the binds
 * and pokes the interrupt eventfd when done.
 */
/*
 * One bind at a time across all cards: igbvf's probe busy-waits in the kernel for the
 * PF's answer, and two probes at once can take every CPU of a small host (the emulated
 * chassis has two), leaving none for the thread that would answer them.
 */
static pthread_mutex_t bind_serial = PTHREAD_MUTEX_INITIALIZER;

static void *bind_worker(void *arg)
{
	struct vf_bind_job *job = arg;
	uint64_t one = 1;

	for (unsigned i = 0; i < job->n; i++) {
		if (__atomic_load_n(&job->stop, __ATOMIC_ACQUIRE)) {
			job->results[i] = -ECANCELED;
			continue;
		}
		pthread_mutex_lock(&bind_serial);
		job->results[i] = pci_sysfs_bind(job->vf_bdf[i], job->driver);
		pthread_mutex_unlock(&bind_serial);
	}
	__atomic_store_n(&job->done, true, __ATOMIC_RELEASE);
	(void)!write(job->wake_fd, &one, sizeof(one));
	return NULL;
}

static int bind_job_start(struct igb_pf *pf, char *err, size_t errlen)
{
	struct vf_bind_job *job = &pf->bind;
	int rc;

	memset(job, 0, sizeof(*job));
	snprintf(job->driver, sizeof(job->driver), "%s", pf->vf_driver);
	job->wake_fd = pf->irq_fd;
	for (unsigned vf = 0; vf < pf->nic.num_vfs; vf++) {
		rc = pci_sysfs_vf_bdf(pf->nic.pf_bdf, vf, job->vf_bdf[vf], sizeof(job->vf_bdf[vf]));
		if (rc) {
			snprintf(err, errlen, "VF %u of %s not found: %s", vf, pf->nic.pf_bdf, strerror(-rc));
			return rc;
		}
	}
	job->n = pf->nic.num_vfs;
	rc = -pthread_create(&job->thread, NULL, bind_worker, job);
	if (rc)
		snprintf(err, errlen, "cannot start the VF binding thread: %s", strerror(-rc));
	job->running = !rc;
	return rc;
}

static void bind_job_collect(struct igb_pf *pf)
{
	struct vf_bind_job *job = &pf->bind;

	if (!job->running || !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		return;
	pthread_join(job->thread, NULL);
	job->running = false;
	for (unsigned i = 0; i < job->n; i++) {
		if (job->results[i])
			nic_report(&pf->params, NIC_EV_INFO, (int)i, "VF %s: binding %s failed: %s", job->vf_bdf[i],
			       job->driver, strerror(-job->results[i]));
		else
			nic_report(&pf->params, NIC_EV_INFO, (int)i, "VF %s bound to %s", job->vf_bdf[i], job->driver);
	}
}

/* --- Open, VFs, close ---------------------------------------------------------------- */

static int igb_set_num_vfs(struct nic *nic, unsigned n, char *err, size_t errlen)
{
	struct igb_pf *pf = (struct igb_pf *)nic;
	struct igb_mbx_config cfg;
	struct igb_mbx *mbx;
	int rc;

	if (n > IGB_MAX_VFS - 1) {
		snprintf(err, errlen, "the 82576 offers at most %u VFs here, not %u", IGB_MAX_VFS - 1, n);
		return -ERANGE;
	}
	if (pf->bind.running) {
		snprintf(err, errlen, "VFs of %s are still being bound", nic->pf_bdf);
		return -EBUSY;
	}
	igb_mbx_config_init(&cfg, n ? n : 1);
	cfg.extra_mac_filters -= IGB_STATIC_FDB_ENTRIES;
	/* What the rest of the chassis owns: no VF may take it (the engine sees this card). */
	cfg.mac_in_use = pf->params.mac_in_use;
	cfg.ctx = pf->params.ctx;
	rc = igb_mbx_new(&cfg, &mbx);
	if (rc) {
		snprintf(err, errlen, "mailbox engine: %s", strerror(-rc));
		return rc;
	}
	rc = pci_sysfs_set_numvfs(nic->pf_bdf, n);
	if (rc) {
		snprintf(err, errlen, "sriov_numvfs=%u on %s: %s%s", n, nic->pf_bdf, strerror(-rc),
			 rc == -EPERM || rc == -ENOENT ? " (vfio-pci needs enable_sriov=1)" : "");
		igb_mbx_free(mbx);
		return rc;
	}
	igb_mbx_free(pf->mbx);
	pf->mbx = mbx;
	/* The VFs were made anew: none starts limited by what an earlier one was given. */
	for (unsigned vf = 0; vf < NIC_MAX_VFS; vf++)
		if (pf->rate[vf].reg)
			write_vf_rate(pf, vf, 0);
	nic->num_vfs = n;
	return 0;
}

/* Hands the VFs to their driver on a worker thread (see bind_worker). */
static int igb_bind_vfs(struct nic *nic, char *err, size_t errlen)
{
	struct igb_pf *pf = (struct igb_pf *)nic;

	if (!nic->num_vfs || !*pf->vf_driver)
		return 0;
	if (pf->bind.running) {
		snprintf(err, errlen, "VFs of %s are still being bound", nic->pf_bdf);
		return -EBUSY;
	}
	return bind_job_start(pf, err, errlen);
}

static int igb_vf_configure(struct nic *nic, unsigned vf, const struct nic_vf_config *c,
			    char *err, size_t errlen)
{
	struct igb_pf *pf = (struct igb_pf *)nic;
	struct igb_mbx_policy pol;
	struct igb_mbx_result res;
	uint32_t word;
	int rc;

	if (vf >= nic->num_vfs) {
		snprintf(err, errlen, "no VF %u on %s (%u enabled)", vf, nic->pf_bdf, nic->num_vfs);
		return -ENOENT;
	}
	if (c->link_state != NIC_LINK_AUTO) {
		/* A forced per-VF link needs the VF's own link status, which this driver does
		 * not model yet (and QEMU's igb honours no forced link). */
		snprintf(err, errlen, "VF %u link-state: not supported by igb-vfio", vf);
		nic_report(&pf->params, NIC_EV_VF_REFUSED, (int)vf, "%s", err);
		return -EOPNOTSUPP;
	}
	if (igb_mbx_get_policy(pf->mbx, vf, &pol) == 0 && c->trusted && !pol.trusted &&
	    memcmp(pol.mac, c->mac, 6) == 0 && pol.port_vlan == c->vlan) {
		/* Only trust granted: no reset needed, the VF carries on. */
		clear_bits(pf, IGB_DTXSWC, 1u << vf | 1u << (IGB_DTXSWC_VLAN_SPOOF_SHIFT + vf));
		rc = igb_mbx_grant_trust(pf->mbx, vf);
		if (!rc)
			write_vf_rate(pf, vf, c->max_tx_rate_mbps);
		return rc;
	}
	igb_mbx_policy_init(&pol);
	memcpy(pol.mac, c->mac, 6);
	pol.trusted = c->trusted;
	pol.port_vlan = c->vlan;
	rc = igb_mbx_set_policy(pf->mbx, vf, &pol, &res);
	if (rc) {
		snprintf(err, errlen, "VF %u: %s", vf,
			 rc == -EADDRINUSE ? "MAC already used by another VF" :
			 rc == -ENOSPC ? "no VLAN filter left" : strerror(-rc));
		return rc;
	}
	apply_result(pf, &res);
	report_penalty(pf, vf, &res.penalty);
	if (c->spoofchk)
		set_bits(pf, IGB_DTXSWC, 1u << vf | 1u << (IGB_DTXSWC_VLAN_SPOOF_SHIFT + vf));
	else
		clear_bits(pf, IGB_DTXSWC, 1u << vf | 1u << (IGB_DTXSWC_VLAN_SPOOF_SHIFT + vf));
	write_vf_rate(pf, vf, c->max_tx_rate_mbps);
	/* Tell the VF its configuration changed: it resets and asks again. */
	if (igb_mbx_ping(pf->mbx, vf, &word) == 0)
		mbx_queue_reply(pf, vf, &word, 1);
	return 0;
}

/*
 * A static forwarding entry: frames to mac land in VF vf's pool (a VM's MAC behind a
 * blade's VF). Takes one of the IGB_STATIC_FDB_ENTRIES receive-address entries; a VF
 * reset leaves it in place.
 */
static int igb_fdb_set(struct nic *nic, unsigned vf, const uint8_t mac[6], bool add, char *err,
		       size_t errlen)
{
	struct igb_pf *pf = (struct igb_pf *)nic;
	int free_entry = -1;

	if (pf->gone)
		return -ENODEV;
	if (vf >= nic->num_vfs) {
		snprintf(err, errlen, "no VF %u on %s (%u enabled)", vf, nic->pf_bdf, nic->num_vfs);
		return -ENOENT;
	}
	for (unsigned e = 1; e < 1 + IGB_STATIC_FDB_ENTRIES; e++) {
		uint32_t lo = rd32(pf, igb_ral(e)), hi = rd32(pf, igb_rah(e));
		const uint8_t cur[6] = { (uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16),
					 (uint8_t)(lo >> 24), (uint8_t)hi, (uint8_t)(hi >> 8) };

		if (pf->rar_owner[e] < 0) {
			if (free_entry < 0)
				free_entry = (int)e;
			continue;
		}
		if (memcmp(cur, mac, 6) != 0)
			continue;
		if (add && (pf->rar_owner[e] & ~IGB_RAR_STATIC) == (int)vf) {
			snprintf(err, errlen, "the MAC already has a static entry on %s", nic->pf_bdf);
			return -EEXIST;
		}
		if (add) {	/* a move: RAL stays, RAH's pool select changes in one write */
			pf->rar_owner[e] = (int8_t)(vf | IGB_RAR_STATIC);
			write_rar(pf, e, mac, vf);
			return 0;
		}
		clear_rar(pf, e);
		pf->rar_owner[e] = -1;
		return 0;
	}
	if (!add)
		return 0;
	if (free_entry < 0) {
		snprintf(err, errlen, "VEB of %s full: all %u static entries in use", nic->pf_bdf,
			 IGB_STATIC_FDB_ENTRIES);
		return -ENOSPC;
	}
	pf->rar_owner[free_entry] = (int8_t)(vf | IGB_RAR_STATIC);
	write_rar(pf, (unsigned)free_entry, mac, vf);
	return 0;
}

/*
 * Port roles. A midplane port is held in MAC loopback (RCTL.LBM = 01, 8.10.1): what the
 * VEB would send out of the port comes back in and nothing reaches the cable, so lanes
 * on it never depend on one. Its link is forced up (CTRL.SLU with forced speed and
 * duplex, 8.2.1) so that a port without a link partner still switches.
 */
static int igb_set_port_mode(struct nic *nic, enum nic_port_mode mode, char *err, size_t errlen)
{
	struct igb_pf *pf = (struct igb_pf *)nic;
	const uint32_t forced = IGB_CTRL_SLU | IGB_CTRL_FRCSPD | IGB_CTRL_FRCDPLX | IGB_CTRL_FD;
	uint32_t rctl;

	(void)err;
	(void)errlen;
	if (pf->gone)
		return -ENODEV;
	rctl = rd32(pf, IGB_RCTL) & ~IGB_RCTL_LBM_MASK;
	if (mode == NIC_PORT_LOOPBACK) {
		wr32(pf, IGB_CTRL, (rd32(pf, IGB_CTRL) & ~IGB_CTRL_SPD_MASK) | forced | IGB_CTRL_SPD_1000);
		wr32(pf, IGB_RCTL, rctl | IGB_RCTL_LBM_MAC);
	} else {
		wr32(pf, IGB_RCTL, rctl);
		clear_bits(pf, IGB_CTRL, IGB_CTRL_FRCSPD | IGB_CTRL_FRCDPLX);
		set_bits(pf, IGB_CTRL, IGB_CTRL_SLU);
	}
	return 0;
}

static int igb_vf_stats(struct nic *nic, unsigned vf, struct nic_stats *out)
{
	struct igb_pf *pf = (struct igb_pf *)nic;
	struct igb_mbx_stats ms;

	if (vf >= nic->num_vfs)
		return -ENOENT;
	*out = (struct nic_stats){
		.rx_packets = rd32(pf, igb_pvfgprc(vf)),
		.tx_packets = rd32(pf, igb_pvfgptc(vf)),
		.rx_bytes = rd32(pf, igb_pvfgorc(vf)),
		.tx_bytes = rd32(pf, igb_pvfgotc(vf)),
		.rx_loopback_packets = rd32(pf, igb_pvfgprlbc(vf)),
		.tx_loopback_packets = rd32(pf, igb_pvfgptlbc(vf)),
	};
	if (igb_mbx_get_stats(pf->mbx, vf, &ms) == 0) {
		out->mbx_messages = ms.messages;
		out->mbx_refused = ms.nacks;
		out->mbx_rate_limited = ms.rate_limited;
		out->mbx_resets = ms.resets + ms.flrs;
		out->mbx_penalties = ms.penalties;
		out->mbx_ignored = ms.ignored;
	}
	return pf->gone ? -ENODEV : 0;
}

static int igb_port_stats(struct nic *nic, struct nic_stats *out)
{
	struct igb_pf *pf = (struct igb_pf *)nic;

	if (pf->gone)
		return -ENODEV;
	/* The port's statistics registers clear on read (8.19): keep running totals, as
	 * the kernel backend reports them. */
	pf->port.rx_packets += rd32(pf, IGB_GPRC);
	pf->port.tx_packets += rd32(pf, IGB_GPTC);
	pf->port.rx_bytes += rd32(pf, IGB_GORCL) | (uint64_t)rd32(pf, IGB_GORCH) << 32;
	pf->port.tx_bytes += rd32(pf, IGB_GOTCL) | (uint64_t)rd32(pf, IGB_GOTCH) << 32;
	*out = pf->port;
	return pf->gone ? -ENODEV : 0;
}

static int igb_event_fd(struct nic *nic)
{
	return ((struct igb_pf *)nic)->ep_fd;
}

static void igb_close(struct nic *nic)
{
	struct igb_pf *pf = (struct igb_pf *)nic;

	if (!pf)
		return;
	if (pf->bind.running) {
		/* A worker stuck behind a removal must not hold the release up. */
		if (pf->gone)
			pthread_detach(pf->bind.thread);
		else
			pthread_join(pf->bind.thread, NULL);
	}
	if (pf->dev && !pf->gone) {
		mask_interrupts(pf);
		clear_bits(pf, IGB_CTRL_EXT, IGB_CTRL_EXT_PFRSTD);
	}
	if (pf->dev && !pf->gone && !pf->params.keep_vfs && nic->num_vfs && !pf->vfs_released)
		(void)!pci_sysfs_set_numvfs(nic->pf_bdf, 0);
	if (pf->dev && !pf->gone) {
		(void)!vfio_dev_set_msix(pf->dev, 0, NULL);
		(void)!vfio_dev_set_req_eventfd(pf->dev, -1);
	}
	vfio_dev_close(pf->dev);
	if (pf->irq_fd >= 0)
		close(pf->irq_fd);
	if (pf->req_fd >= 0)
		close(pf->req_fd);
	if (pf->ep_fd >= 0)
		close(pf->ep_fd);
	igb_mbx_free(pf->mbx);
	free(pf);
}

/*
 * The first step of a stop, with the mailbox still served (by service() on the card
 * thread): no more binds, then sriov_numvfs 0. Each igbvf resets as it unbinds and waits
 * for our answer; unanswered, that is 1 s per VF (its mailbox timeout).
 */
static int igb_release_vfs(struct nic *nic)
{
	struct igb_pf *pf = (struct igb_pf *)nic;
	int rc;

	__atomic_store_n(&pf->bind.stop, true, __ATOMIC_RELEASE);
	/* A probe in progress ends within igbvf's own timeouts; service() collects it. */
	for (unsigned i = 0; i < IGB_RELEASE_BIND_WAIT_MS / 10; i++) {
		if (!pf->bind.running || __atomic_load_n(&pf->bind.done, __ATOMIC_ACQUIRE))
			break;
		usleep(10000);
	}
	if (__atomic_load_n(&pf->gone, __ATOMIC_ACQUIRE) || pf->params.keep_vfs || !nic->num_vfs)
		return 0;
	rc = pci_sysfs_set_numvfs(nic->pf_bdf, 0);
	if (!rc)
		pf->vfs_released = true;
	return rc;
}

/*
 * VFs left enabled by an earlier owner (cmcd killed, say) did not survive: closing the
 * VFIO device reset the PF, and the PF's reset takes its VFs with it while the kernel
 * still lists them. They are removed and made anew; blades get fresh VF netdevs.
 */
static int recreate_stale_vfs(struct igb_pf *pf)
{
	unsigned n;

	if (pci_sysfs_numvfs(pf->nic.pf_bdf, &n) < 0 || n == 0)
		return 0;
	nic_report(&pf->params, NIC_EV_INFO, -1, "%u VFs of %s outlived a PF reset: re-creating them", n,
	       pf->nic.pf_bdf);
	return pci_sysfs_set_numvfs(pf->nic.pf_bdf, 0);
}

/* The PF's own address: receive address 0, loaded from the NVM at reset (7.1.1.1). */
static void read_pf_mac(struct igb_pf *pf)
{
	uint32_t lo = rd32(pf, igb_ral(0)), hi = rd32(pf, igb_rah(0));

	if (pf->gone || !(hi & IGB_RAH_AV))
		return;
	for (unsigned i = 0; i < 4; i++)
		pf->nic.mac[i] = (uint8_t)(lo >> (8 * i));
	pf->nic.mac[4] = (uint8_t)hi;
	pf->nic.mac[5] = (uint8_t)(hi >> 8);
}

static int igb_bring_up(struct igb_pf *pf, char *err, size_t errlen)
{
	int rc = vfio_dev_map_bar(pf->dev, 0, &pf->bar, &pf->bar_len);

	if (rc || pf->bar_len < IGB_BAR0_SIZE) {
		snprintf(err, errlen, "BAR0 of %s: %s", pf->nic.pf_bdf, rc ? strerror(-rc) : "too small");
		return rc ? rc : -EINVAL;
	}
	rc = enable_bus_master(pf);
	if (!rc)
		rc = reset_card(pf);
	if (rc) {
		snprintf(err, errlen, "reset of %s failed: %s", pf->nic.pf_bdf, strerror(-rc));
		return rc;
	}
	setup_bridge(pf);
	rc = setup_link(pf);
	if (rc)
		snprintf(err, errlen, "PHY of %s: %s", pf->nic.pf_bdf, strerror(-rc));
	if (!rc) {
		rc = setup_interrupts(pf);
		if (rc)
			snprintf(err, errlen, "MSI-X of %s: %s", pf->nic.pf_bdf, strerror(-rc));
	}
	/* 7.8.2.5: PFRSTD tells every VF the PF is ready; they reset and ask for a MAC. */
	if (!rc)
		set_bits(pf, IGB_CTRL_EXT, IGB_CTRL_EXT_PFRSTD);
	return rc;
}

static int igb_open(const struct nic_params *p, struct nic **out, char *err, size_t errlen)
{
	struct igb_pf *pf = calloc(1, sizeof(*pf));
	uint8_t token[16];
	int rc;

	if (!pf)
		return -ENOMEM;
	pf->irq_fd = pf->req_fd = pf->ep_fd = -1;
	pf->params = *p;
	pf->params.vf_token = NULL;	/* the caller's; used below only */
	pf->trace = getenv("CMC_IGB_TRACE") != NULL;
	snprintf(pf->nic.pf_bdf, sizeof(pf->nic.pf_bdf), "%s", p->pf_bdf);
	snprintf(pf->vf_driver, sizeof(pf->vf_driver), "%s", p->vf_driver ? p->vf_driver : "");
	pf->nic.ops = nic_backend("igb-vfio");
	rc = pci_sysfs_bind(p->pf_bdf, "vfio-pci");
	if (rc) {
		snprintf(err, errlen, "cannot bind %s to vfio-pci: %s", p->pf_bdf, strerror(-rc));
		goto err_free;
	}
	rc = vfio_dev_open(p->pf_bdf, NULL, &pf->dev, err, errlen);
	if (rc)
		goto err_free;
	/* VFIO users of the VFs (a blade's VM, tests) must present this token. Without
	 * one vfio-pci would take the all-zero UUID, which anyone can present. */
	if (p->vf_token)
		memcpy(token, p->vf_token, sizeof(token));
	else
		rc = vf_token_generate(token);
	if (!rc)
		rc = vfio_dev_set_vf_token(pf->dev, token);
	explicit_bzero(token, sizeof(token));
	if (rc) {
		snprintf(err, errlen, "VF token on %s: %s", p->pf_bdf, strerror(-rc));
		goto err_free;
	}
	rc = igb_bring_up(pf, err, errlen);
	/* Autonegotiation may still run: until the port says its speed, limits are computed
	 * for the 82576's own (check_link_speed re-programs them if the port comes up slower). */
	pf->link_mbps = igb_rate_link_mbps(rd32(pf, IGB_STATUS));
	if (!pf->link_mbps)
		pf->link_mbps = IGB_NOMINAL_MBPS;
	if (!rc)
		rc = recreate_stale_vfs(pf);
	if (!rc)
		rc = igb_set_num_vfs(&pf->nic, p->num_vfs, err, errlen);
	if (rc)
		goto err_free;
	pf->link_up = (rd32(pf, IGB_STATUS) & IGB_STATUS_LU) != 0;
	read_pf_mac(pf);
	*out = &pf->nic;
	return 0;
err_free:
	igb_close(&pf->nic);
	return rc;
}

const struct nic_ops igb_vfio_ops = {
	.name = "igb-vfio",
	.open = igb_open,
	.close = igb_close,
	.set_num_vfs = igb_set_num_vfs,
	.bind_vfs = igb_bind_vfs,
	.vf_configure = igb_vf_configure,
	.vf_stats = igb_vf_stats,
	.port_stats = igb_port_stats,
	.fdb_set = igb_fdb_set,
	.set_port_mode = igb_set_port_mode,
	.event_fd = igb_event_fd,
	.service = igb_service,
	.release_vfs = igb_release_vfs,
	.vf_rate = igb_vf_rate,
};
