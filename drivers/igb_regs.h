/* SPDX-License-Identifier: MIT */
/*
 * Intel 82576 (igb) PF registers and fields that cmc's user-space PF driver uses.
 * Data only: offsets, bit values and small offset helpers for indexed registers. No
 * I/O here; the accessors (with barriers and the all-ones "card gone" check) live in
 * the VFIO backend.
 *
 * Sources. Each register carries the title under which the Intel 82576EB Gigabit
 * Ethernet Controller Datasheet, chapter 8 "Programming Interface", describes it
 * ("DS ch. 8: <title>"). The datasheet PDF was not available when this file was
 * written, so sub-section numbers are given only where another source quoted them;
 * every offset and bit value was cross-checked against DPDK's BSD-3 e1000 base code
 * (drivers/net/intel/e1000/base/e1000_regs.h, e1000_defines.h, e1000_82575.h,
 * e1000_mbx.h) and QEMU's igb model (hw/net/igb_regs.h, igb_core.c). Where those two
 * disagree the choice is explained in place (PVFMPRC). Values marked "seen" were also
 * exercised on the emulated card by reference/pf-userspace-experiment/pfresp.c.
 */
#ifndef CMC_IGB_REGS_H
#define CMC_IGB_REGS_H

#include <stdint.h>

/* --- Device identity and sizes ------------------------------------------------- */

#define IGB_DEV_ID_82576	0x10C9	/* PF */
#define IGB_DEV_ID_82576_VF	0x10CA	/* VF */
#define IGB_BAR0_SIZE		0x20000	/* 128 KiB register window */

#define IGB_MAX_VFS		8	/* SR-IOV TotalVFs; pools 0..7 */
#define IGB_RAR_ENTRIES		24	/* receive address registers (e1000_82575.h) */
#define IGB_MTA_ENTRIES		128	/* 4096-bit multicast hash table */
#define IGB_VFTA_ENTRIES	128	/* 4096-bit VLAN filter table */
#define IGB_UTA_ENTRIES		128	/* 4096-bit unicast hash table */
#define IGB_VLVF_ENTRIES	32	/* VLAN -> pool filters */
#define IGB_MBX_WORDS		16	/* 32-bit words of mailbox memory per VF */
#define IGB_MAX_FRAME		9728	/* 9.5 KB jumbo limit of the 82576 (RLPML) */

/* --- General (DS ch. 8: General Register Descriptions) -------------------------- */

/* DS 8.2.1: Device Control Register - CTRL (0x00000) */
#define IGB_CTRL		0x00000
#define IGB_CTRL_FD		(1u << 0)	/* full duplex (when forced) */
#define IGB_CTRL_SLU		(1u << 6)	/* set link up; seen */
#define IGB_CTRL_SPD_MASK	(3u << 8)	/* forced speed: 00 10, 01 100, 10 1000 */
#define IGB_CTRL_SPD_1000	(2u << 8)
#define IGB_CTRL_FRCSPD		(1u << 11)	/* force speed */
#define IGB_CTRL_FRCDPLX	(1u << 12)	/* force duplex */
#define IGB_CTRL_RST		(1u << 26)	/* device (software) reset, self-clearing */
#define IGB_CTRL_VME		(1u << 30)	/* VLAN mode enable */
#define IGB_CTRL_PHY_RST	(1u << 31)	/* PHY reset */

/* DS: Device Status Register - STATUS (0x00008) */
#define IGB_STATUS		0x00008
#define IGB_STATUS_FD		(1u << 0)
#define IGB_STATUS_LU		(1u << 1)	/* link up; receive needs it (DESIGN.md) */
#define IGB_STATUS_SPEED_MASK	(3u << 6)
#define IGB_STATUS_SPEED_10	(0u << 6)
#define IGB_STATUS_SPEED_100	(1u << 6)
#define IGB_STATUS_SPEED_1000	(2u << 6)
#define IGB_STATUS_IOV_MODE	(1u << 18)	/* VFs enabled (QEMU igb_regs.h) */

/* DS: Extended Device Control Register - CTRL_EXT (0x00018) */
#define IGB_CTRL_EXT		0x00018
#define IGB_CTRL_EXT_PFRSTD	(1u << 14)	/* PF reset done: VF mailboxes show RSTD; seen */
#define IGB_CTRL_EXT_DRV_LOAD	(1u << 28)	/* driver loaded (tells firmware) */

/* DS: MDI Control Register - MDIC (0x00020) */
#define IGB_MDIC		0x00020
#define IGB_MDIC_DATA_MASK	0x0000FFFFu
#define IGB_MDIC_REG_SHIFT	16		/* PHY register, 5 bits */
#define IGB_MDIC_REG_MASK	(0x1Fu << IGB_MDIC_REG_SHIFT)
#define IGB_MDIC_PHY_SHIFT	21		/* PHY address, 5 bits; internal PHY is 1 */
#define IGB_MDIC_PHY_MASK	(0x1Fu << IGB_MDIC_PHY_SHIFT)
#define IGB_MDIC_OP_WRITE	(1u << 26)
#define IGB_MDIC_OP_READ	(2u << 26)
#define IGB_MDIC_READY		(1u << 28)	/* poll this, with a timeout */
#define IGB_MDIC_INT_EN		(1u << 29)
#define IGB_MDIC_ERROR		(1u << 30)
#define IGB_PHY_INTERNAL_ADDR	1		/* seen: pfresp.c wrote BMCR at PHY 1 */

/*
 * DS 3.5.6.3.1: PHY register 0, Control (IEEE 802.3 clause 22 BMCR). Reached through
 * MDIC with REG = 0. pfresp.c restarted autonegotiation with 0x1340 (AN enable |
 * restart | full duplex | 1000 Mb/s); without it STATUS.LU stayed 0 after a VFIO reset.
 */
#define IGB_PHY_BMCR		0x00
#define IGB_BMCR_SPEED_1000	(1u << 6)	/* speed select MSB */
#define IGB_BMCR_FULL_DUPLEX	(1u << 8)
#define IGB_BMCR_ANRESTART	(1u << 9)
#define IGB_BMCR_ISOLATE	(1u << 10)
#define IGB_BMCR_PDOWN		(1u << 11)
#define IGB_BMCR_ANENABLE	(1u << 12)
#define IGB_BMCR_SPEED_100	(1u << 13)	/* speed select LSB */
#define IGB_BMCR_LOOPBACK	(1u << 14)	/* PHY loopback */
#define IGB_BMCR_RESET		(1u << 15)
#define IGB_PHY_STATUS		0x01		/* BMSR */
#define IGB_BMSR_LSTATUS	(1u << 2)
#define IGB_BMSR_ANEGCOMPLETE	(1u << 5)

/* --- Interrupts (DS ch. 8: Interrupt Register Descriptions) --------------------- */

/* DS: Interrupt Cause Read Register - ICR (0x000C0); read clears */
#define IGB_ICR			0x000C0
#define IGB_ICR_LSC		(1u << 2)	/* link status change */
#define IGB_ICR_VMMB		(1u << 8)	/* VM mailbox event (MBVFICR / VFLRE) */
#define IGB_ICR_DRSTA		(1u << 30)	/* device reset asserted */
/* DS: Interrupt Cause Set - ICS (0x000C8) */
#define IGB_ICS			0x000C8
/* DS: Interrupt Mask Set/Read Register - IMS (0x000D0); same bits as ICR */
#define IGB_IMS			0x000D0
#define IGB_IMS_LSC		IGB_ICR_LSC
#define IGB_IMS_VMMB		IGB_ICR_VMMB
/* DS: Interrupt Mask Clear Register - IMC (0x000D8) */
#define IGB_IMC			0x000D8

/* DS: General Purpose Interrupt Enable - GPIE (0x01514) */
#define IGB_GPIE		0x01514
#define IGB_GPIE_NSICR		(1u << 0)	/* non-selective ICR clear on read */
#define IGB_GPIE_MSIX_MODE	(1u << 4)	/* seen: VF interrupts need PF MSI-X on */
#define IGB_GPIE_EIAME		(1u << 30)	/* extended interrupt auto-mask enable */
#define IGB_GPIE_PBA		(1u << 31)	/* PBA support */

/* DS: Extended Interrupt Cause Set - EICS (0x01520) */
#define IGB_EICS		0x01520
/* DS: Extended Interrupt Mask Set/Read - EIMS (0x01524) */
#define IGB_EIMS		0x01524
/* DS: Extended Interrupt Mask Clear - EIMC (0x01528) */
#define IGB_EIMC		0x01528
/* DS: Extended Interrupt Auto Clear - EIAC (0x0152C) */
#define IGB_EIAC		0x0152C
/* DS: Extended Interrupt Auto Mask Enable - EIAM (0x01530) */
#define IGB_EIAM		0x01530
/* DS: Extended Interrupt Cause Read - EICR (0x01580); in MSI-X mode bit n = vector n */
#define IGB_EICR		0x01580
#define IGB_EICR_OTHER		(1u << 31)	/* "other" cause in non-MSI-X mode */

/* DS: Interrupt Vector Allocation Registers - IVAR0 (0x01700 + 4*n) */
static inline uint32_t igb_ivar(unsigned n) { return 0x01700u + 4u * n; }
/* DS: Interrupt Vector Allocation Registers - IVAR_MISC (0x01740) */
#define IGB_IVAR_MISC		0x01740
#define IGB_IVAR_VALID		0x80u		/* per byte: vector is valid */
#define IGB_IVAR_MISC_OTHER_SHIFT 8		/* byte 1: vector of "other" causes (mailbox, LSC) */
#define IGB_IVAR_MISC_TCP_SHIFT	0		/* byte 0: TCP timer vector */

/* --- Receive and transmit control ------------------------------------------------ */

/* DS: Receive Control Register - RCTL (0x00100) */
#define IGB_RCTL		0x00100
#define IGB_RCTL_EN		(1u << 1)	/* seen */
#define IGB_RCTL_SBP		(1u << 2)
#define IGB_RCTL_UPE		(1u << 3)	/* unicast promiscuous (whole port) */
#define IGB_RCTL_MPE		(1u << 4)	/* multicast promiscuous (whole port) */
#define IGB_RCTL_LPE		(1u << 5)	/* long packets */
#define IGB_RCTL_LBM_MASK	(3u << 6)	/* loopback mode: 00 none, 01 MAC loopback */
#define IGB_RCTL_LBM_MAC	(1u << 6)	/* transmitted frames come back in, none leave */
#define IGB_RCTL_MO_MASK	(3u << 12)	/* multicast offset; 0 = bits [47:36] */
#define IGB_RCTL_BAM		(1u << 15)	/* broadcast accept; seen */
#define IGB_RCTL_VFE		(1u << 18)	/* VLAN filter enable */
#define IGB_RCTL_SECRC		(1u << 26)	/* strip CRC */

/* DS: Receive Long Packet Maximum Length - RLPML (0x05004); PF pool only */
#define IGB_RLPML		0x05004

/* DS: Transmit Control Register - TCTL (0x00400) */
#define IGB_TCTL		0x00400
#define IGB_TCTL_EN		(1u << 1)	/* seen */
#define IGB_TCTL_PSP		(1u << 3)	/* pad short packets */

/* DS: Multiple Receive Queues Command Register - MRQC (0x05818) */
#define IGB_MRQC		0x05818
#define IGB_MRQC_MODE_MASK	0x7u
#define IGB_MRQC_MODE_VMDQ	0x3u		/* VMDq: pools by MAC/VLAN; seen */
#define IGB_MRQC_MODE_VMDQ_RSS	0x5u

/* --- Address filters --------------------------------------------------------- */

/*
 * DS: Receive Address Low/High - RAL/RAH. 24 entries: 0..15 at 0x05400 + 8*n,
 * 16..23 at 0x054E0 + 8*(n-16). RAL holds MAC bytes 0-3 (byte 0 in bits 7:0), RAH
 * bytes 4-5, the pool bitmap and Address Valid.
 */
static inline uint32_t igb_ral(unsigned n)
{
	return n < 16 ? 0x05400u + 8u * n : 0x054E0u + 8u * (n - 16u);
}
static inline uint32_t igb_rah(unsigned n) { return igb_ral(n) + 4u; }
#define IGB_RAH_ADDR_MASK	0x0000FFFFu	/* MAC bytes 4 (7:0) and 5 (15:8) */
#define IGB_RAH_POOL_SHIFT	18		/* bit 18 + n: pool (VF) n; seen */
#define IGB_RAH_POOL_MASK	(0xFFu << IGB_RAH_POOL_SHIFT)
#define IGB_RAH_AV		(1u << 31)	/* address valid; seen */
static inline uint32_t igb_rah_pool(unsigned pool) { return 1u << (IGB_RAH_POOL_SHIFT + pool); }

/* DS: Multicast Table Array - MTA[n] (0x05200 + 4*n); hash h sets bit (h & 31) of MTA[h >> 5] */
static inline uint32_t igb_mta(unsigned n) { return 0x05200u + 4u * n; }
#define IGB_MTA_HASH_MASK	0x0FFFu

/* DS: VLAN Filter Table Array - VFTA[n] (0x05600 + 4*n); VID v is bit (v & 31) of VFTA[v >> 5] */
static inline uint32_t igb_vfta(unsigned n) { return 0x05600u + 4u * n; }

/* DS: Unicast Table Array - UTA[n] (0x0A000 + 4*n) */
static inline uint32_t igb_uta(unsigned n) { return 0x0A000u + 4u * n; }

/* --- Virtualization (DS ch. 8: Virtualization Register Descriptions) ------------ */

/* DS: VMDq Control - VT_CTL (0x0581C) */
#define IGB_VT_CTL		0x0581C
#define IGB_VT_CTL_DEF_POOL_SHIFT 7		/* default pool, 3 bits */
#define IGB_VT_CTL_DEF_POOL_MASK (0x7u << IGB_VT_CTL_DEF_POOL_SHIFT)
#define IGB_VT_CTL_IGNORE_MAC	(1u << 28)	/* pool by VLAN only */
#define IGB_VT_CTL_DIS_DEF_POOL	(1u << 29)	/* drop frames matching no pool */
#define IGB_VT_CTL_REPL_EN	(1u << 30)	/* replicate multicast/broadcast to pools */

/* DS: DMA Tx Switch Control - DTXSWC (0x03500) */
#define IGB_DTXSWC		0x03500
#define IGB_DTXSWC_MAC_SPOOF_MASK 0x000000FFu	/* bit n: MAC anti-spoof for pool n */
#define IGB_DTXSWC_VLAN_SPOOF_SHIFT 8		/* bit 8 + n: VLAN anti-spoof for pool n */
#define IGB_DTXSWC_VLAN_SPOOF_MASK (0xFFu << IGB_DTXSWC_VLAN_SPOOF_SHIFT)
#define IGB_DTXSWC_LLE_SHIFT	16		/* bit 16 + n: local loopback for pool n */
#define IGB_DTXSWC_LLE_MASK	(0xFFu << IGB_DTXSWC_LLE_SHIFT)
#define IGB_DTXSWC_LOOPBACK_EN	(1u << 31)	/* VMDq loopback (VF to VF); seen */

/* DS: VM Wrong Behavior - WVBR (0x03554); read clears. Spoof events of VF n at bits n, n+8 */
#define IGB_WVBR		0x03554

/* DS: VM Offload Register - VMOLR[n] (0x05AD0 + 4*n), one per pool */
static inline uint32_t igb_vmolr(unsigned n) { return 0x05AD0u + 4u * n; }
#define IGB_VMOLR_RLPML_MASK	0x00003FFFu	/* max receive frame of the pool */
#define IGB_VMOLR_LPE		(1u << 16)	/* honour RLPML (long packets) */
#define IGB_VMOLR_RSSE		(1u << 17)
#define IGB_VMOLR_AUPE		(1u << 24)	/* accept untagged frames; seen */
#define IGB_VMOLR_ROMPE		(1u << 25)	/* accept MTA-hash multicast */
#define IGB_VMOLR_ROPE		(1u << 26)	/* accept UTA-hash unicast */
#define IGB_VMOLR_BAM		(1u << 27)	/* accept broadcast; seen */
#define IGB_VMOLR_MPME		(1u << 28)	/* multicast promiscuous */
#define IGB_VMOLR_STRVLAN	(1u << 30)	/* strip VLAN tag */
#define IGB_VMOLR_STRCRC	(1u << 31)

/* DS: VM VLAN Insert Register - VMVIR[n] (0x03700 + 4*n): port VLAN of a pool */
static inline uint32_t igb_vmvir(unsigned n) { return 0x03700u + 4u * n; }
#define IGB_VMVIR_VLAN_MASK	0x0000FFFFu	/* tag to insert (VID | PCP << 13) */
#define IGB_VMVIR_VLANA_DEFAULT	(1u << 30)	/* always insert the default tag */
#define IGB_VMVIR_VLANA_NEVER	(2u << 30)	/* never insert */

/* DS: VLAN VM Filter - VLVF[n] (0x05D00 + 4*n), 32 entries */
static inline uint32_t igb_vlvf(unsigned n) { return 0x05D00u + 4u * n; }
#define IGB_VLVF_VLANID_MASK	0x00000FFFu
#define IGB_VLVF_POOLSEL_SHIFT	12		/* bit 12 + n: pool n is a member */
#define IGB_VLVF_POOLSEL_MASK	(0xFFu << IGB_VLVF_POOLSEL_SHIFT)
#define IGB_VLVF_LVLAN		(1u << 20)
#define IGB_VLVF_VIEN		(1u << 31)	/* entry valid */
static inline uint32_t igb_vlvf_pool(unsigned pool) { return 1u << (IGB_VLVF_POOLSEL_SHIFT + pool); }

/* DS: Replication Offload - RPLOLR (0x05AF0): VMOLR's role for replicated multicast */
#define IGB_RPLOLR		0x05AF0
#define IGB_RPLOLR_STRVLAN	(1u << 30)	/* strip the VLAN tag of replicated frames */

/* --- Transmit rate limiting (DS ch. 8: Transmit DMA / Tx rate-scheduler registers) ---
 *
 * One rate limiter per transmit queue, reached indirectly: write the queue number to
 * RTTDQSEL, then that queue's configuration to RTTBCNRC. Offsets and fields from
 * DPDK's BSD-3 e1000_regs.h / e1000_defines.h; QEMU's igb implements none of the three
 * (writes are dropped, reads give 0). Linux's igb register list marks RTTDQSEL and
 * RTTBCNRC write-only; whether a real 82576 reads RTTBCNRC back is not known here
 * (doc/rate-limiter.md). The arithmetic is in igb_rate.h.
 */
/* DS: Tx Descriptor Plane Queue Select - RTTDQSEL (0x03604): the queue RTTBCNRC addresses */
#define IGB_RTTDQSEL		0x03604
/* DS: Tx BCN Rate-Scheduler MMW - RTTBCNRM (0x03690): compensation time, all queues */
#define IGB_RTTBCNRM		0x03690
#define IGB_RTTBCNRM_MMW_JUMBO	0x14u		/* MMW_SIZE when 9728-byte jumbo frames are on */
/* DS: Tx BCN Rate-Scheduler Config - RTTBCNRC (0x036B0): the selected queue's rate factor */
#define IGB_RTTBCNRC		0x036B0
#define IGB_RTTBCNRC_RF_DEC_MASK 0x00003FFFu	/* fraction of the rate factor, 14 bits */
#define IGB_RTTBCNRC_RF_INT_SHIFT 14
#define IGB_RTTBCNRC_RF_INT_MASK (0x3FFu << IGB_RTTBCNRC_RF_INT_SHIFT)	/* integer part, 10 bits */
#define IGB_RTTBCNRC_RS_ENA	(1u << 31)	/* rate scheduler on for this queue */
#define IGB_TX_QUEUES		16		/* 82576: a VF owns queues n and n + 8 */

/* --- PF <-> VF mailbox (DS ch. 7 virtualization, mailbox protocol: Table 7-71) ----- */

/* DS: Virtual Function Mailbox Memory - VMBMEM (0x00800 + 64*vf + 4*word), 16 words */
static inline uint32_t igb_vmbmem(unsigned vf, unsigned word) { return 0x00800u + 64u * vf + 4u * word; }

/* DS: PF Mailbox - P2VMAILBOX[n] (0x00C00 + 4*n) */
static inline uint32_t igb_p2vmailbox(unsigned vf) { return 0x00C00u + 4u * vf; }
#define IGB_P2VMAILBOX_STS	(1u << 0)	/* PF wrote a message: tell the VF */
#define IGB_P2VMAILBOX_ACK	(1u << 1)	/* PF read the VF's message */
#define IGB_P2VMAILBOX_VFU	(1u << 2)	/* VF holds the buffer (read only) */
#define IGB_P2VMAILBOX_PFU	(1u << 3)	/* PF holds the buffer */
#define IGB_P2VMAILBOX_RVFU	(1u << 4)	/* take VFU away from a stuck VF */

/* VF view of its mailbox, V2PMAILBOX (VF BAR 0x00C40 = PF 0x00C40 + 4*n), for tests */
#define IGB_V2PMAILBOX_REQ	(1u << 0)
#define IGB_V2PMAILBOX_ACK	(1u << 1)
#define IGB_V2PMAILBOX_VFU	(1u << 2)
#define IGB_V2PMAILBOX_PFU	(1u << 3)
#define IGB_V2PMAILBOX_PFSTS	(1u << 4)
#define IGB_V2PMAILBOX_PFACK	(1u << 5)
#define IGB_V2PMAILBOX_RSTI	(1u << 6)
#define IGB_V2PMAILBOX_RSTD	(1u << 7)	/* set once the PF sets CTRL_EXT.PFRSTD */

/* DS: Mailbox VF Interrupt Cause Register - MBVFICR (0x00C80); write 1 to clear */
#define IGB_MBVFICR		0x00C80
#define IGB_MBVFICR_VFREQ_MASK	0x000000FFu	/* bit n: VF n sent a message */
#define IGB_MBVFICR_VFACK_SHIFT	16
#define IGB_MBVFICR_VFACK_MASK	0x00FF0000u	/* bit 16 + n: VF n acked the PF's message */
static inline uint32_t igb_mbvficr_vfreq(unsigned vf) { return 1u << vf; }
static inline uint32_t igb_mbvficr_vfack(unsigned vf) { return 1u << (IGB_MBVFICR_VFACK_SHIFT + vf); }

/* DS: Mailbox VF Interrupt Mask Register - MBVFIMR (0x00C84): bit n enables VF n */
#define IGB_MBVFIMR		0x00C84
/* DS: VF Function Level Reset Events - VFLRE (0x00C88); write 1 to clear; bit n = VF n */
#define IGB_VFLRE		0x00C88
/* DS: VF Receive Enable - VFRE (0x00C8C); bit n = VF n; an FLR clears it */
#define IGB_VFRE		0x00C8C
/* DS: VF Transmit Enable - VFTE (0x00C90); bit n = VF n; an FLR clears it */
#define IGB_VFTE		0x00C90
/* DS: Queue Drop Enable - QDE (0x02408) */
#define IGB_QDE			0x02408

/* --- Per-VF statistics, PF view (DS: Virtualization Statistics; 0x10000 + 0x100*n) --- */

/*
 * The VF reads the same counters at 0x0F10.. in its own BAR; the PF copy of VF
 * register 0x0Fxx is 0x100xx + 0x100*n. QEMU counts PVFGPRC/PVFGPTC/PVFGORC/PVFGOTC
 * but never the loopback (..LBC) counters (DESIGN.md).
 */
static inline uint32_t igb_pvfgprc(unsigned vf) { return 0x10010u + 0x100u * vf; }	/* good packets rx */
static inline uint32_t igb_pvfgptc(unsigned vf) { return 0x10014u + 0x100u * vf; }	/* good packets tx */
static inline uint32_t igb_pvfgorc(unsigned vf) { return 0x10018u + 0x100u * vf; }	/* good octets rx */
static inline uint32_t igb_pvfgotc(unsigned vf) { return 0x10034u + 0x100u * vf; }	/* good octets tx */
/*
 * Multicast packets rx. DPDK's e1000_regs.h has 0x10038 here, QEMU's igb_regs.h
 * 0x1003C. The VF-side VFMPRC is 0x0F3C in both DPDK and igbvf, which maps to 0x1003C;
 * we follow QEMU. Verify on real hardware.
 */
static inline uint32_t igb_pvfmprc(unsigned vf) { return 0x1003Cu + 0x100u * vf; }
static inline uint32_t igb_pvfgprlbc(unsigned vf) { return 0x10040u + 0x100u * vf; }	/* loopback packets rx */
static inline uint32_t igb_pvfgptlbc(unsigned vf) { return 0x10044u + 0x100u * vf; }	/* loopback packets tx */
static inline uint32_t igb_pvfgorlbc(unsigned vf) { return 0x10048u + 0x100u * vf; }	/* loopback octets rx */
static inline uint32_t igb_pvfgotlbc(unsigned vf) { return 0x10050u + 0x100u * vf; }	/* loopback octets tx */

/* --- Port statistics (DS ch. 8: Statistics Register Descriptions); read clears ---- */

#define IGB_CRCERRS		0x04000	/* CRC error count */
#define IGB_MPC			0x04010	/* missed packets */
#define IGB_GPRC		0x04074	/* good packets received */
#define IGB_BPRC		0x04078	/* broadcast packets received */
#define IGB_MPRC		0x0407C	/* multicast packets received */
#define IGB_GPTC		0x04080	/* good packets transmitted */
#define IGB_GORCL		0x04088	/* good octets received, low (read before high) */
#define IGB_GORCH		0x0408C
#define IGB_GOTCL		0x04090	/* good octets transmitted, low */
#define IGB_GOTCH		0x04094
#define IGB_TORL		0x040C0	/* total octets received, low */
#define IGB_TORH		0x040C4
#define IGB_TOTL		0x040C8	/* total octets transmitted, low */
#define IGB_TOTH		0x040CC
#define IGB_TPR			0x040D0	/* total packets received */
#define IGB_TPT			0x040D4	/* total packets transmitted */

#endif
