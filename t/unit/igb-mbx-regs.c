/* SPDX-License-Identifier: MIT */
/*
 * igb_regs.h against the register values that reference/pf-userspace-experiment/pfresp.c
 * wrote to the emulated 82576 and saw work (igbvf took the MAC, VF-to-VF ping passed),
 * plus the layout facts of the indexed registers. Both driver headers are included
 * together so a clash between them fails the build.
 */
#include "igb_regs.h"
#include "igb_mbx.h"
#include "tap.h"

static void test_experiment_values(void)
{
	tap_is_int(IGB_CTRL_EXT, 0x0018, "CTRL_EXT at 0x0018");
	tap_is_int(IGB_CTRL_EXT_PFRSTD, 0x4000, "CTRL_EXT.PFRSTD = 0x4000");
	tap_is_int(IGB_CTRL_SLU, 0x40, "CTRL.SLU = 0x40");
	tap_is_int(IGB_STATUS, 0x0008, "STATUS at 0x0008");
	tap_is_int(IGB_GPIE, 0x1514, "GPIE at 0x1514");
	tap_is_int(IGB_GPIE_MSIX_MODE | IGB_GPIE_EIAME | IGB_GPIE_PBA | IGB_GPIE_NSICR, 0xC0000011u,
		   "GPIE MSIX_MODE|EIAME|PBA|NSICR = 0xC0000011");
	tap_is_int(IGB_MRQC, 0x5818, "MRQC at 0x5818");
	tap_is_int(IGB_MRQC_MODE_VMDQ, 3, "MRQC VMDq mode = 3");
	tap_is_int(IGB_DTXSWC, 0x3500, "DTXSWC at 0x3500");
	tap_is_int(IGB_DTXSWC_LOOPBACK_EN, 0x80000000u, "DTXSWC loopback = bit 31");
	tap_is_int(IGB_RCTL, 0x0100, "RCTL at 0x0100");
	tap_is_int(IGB_RCTL_EN | IGB_RCTL_BAM, 0x8002, "RCTL EN|BAM = 0x8002");
	tap_is_int(IGB_TCTL, 0x0400, "TCTL at 0x0400");
	tap_is_int(IGB_TCTL_EN, 0x2, "TCTL.EN = 0x2");
	tap_is_int(IGB_VT_CTL, 0x581C, "VT_CTL at 0x581C");
	tap_is_int(IGB_MDIC, 0x0020, "MDIC at 0x0020");
	tap_is_int(IGB_BMCR_ANENABLE | IGB_BMCR_ANRESTART | IGB_BMCR_FULL_DUPLEX | IGB_BMCR_SPEED_1000,
		   0x1340, "BMCR AN enable|restart|FD|1000 = 0x1340");
	tap_is_int((uint32_t)0x1340 | (IGB_PHY_BMCR << IGB_MDIC_REG_SHIFT) |
		   ((uint32_t)IGB_PHY_INTERNAL_ADDR << IGB_MDIC_PHY_SHIFT) | IGB_MDIC_OP_WRITE,
		   0x04201340u, "MDIC write of BMCR at PHY 1 = 0x04201340");
}

static void test_mailbox_layout(void)
{
	tap_is_int(igb_p2vmailbox(0), 0x0C00, "P2VMAILBOX(0) at 0x0C00");
	tap_is_int(igb_p2vmailbox(7), 0x0C1C, "P2VMAILBOX(7) at 0x0C1C");
	tap_is_int(igb_vmbmem(0, 0), 0x0800, "VMBMEM(0) word 0 at 0x0800");
	tap_is_int(igb_vmbmem(1, 15), 0x087C, "VMBMEM(1) word 15 at 0x087C (16 words per VF)");
	tap_is_int(IGB_P2VMAILBOX_STS | IGB_P2VMAILBOX_ACK | IGB_P2VMAILBOX_PFU, 0xB,
		   "P2VMAILBOX STS=1, ACK=2, PFU=8");
	tap_is_int(IGB_MBVFICR, 0x0C80, "MBVFICR at 0x0C80");
	tap_is_int(igb_mbvficr_vfreq(3) | igb_mbvficr_vfack(3), 0x00080008u, "MBVFICR VFREQ/VFACK of VF 3");
	tap_is_int(IGB_VFLRE, 0x0C88, "VFLRE at 0x0C88");
	tap_is_int(IGB_VFRE, 0x0C8C, "VFRE at 0x0C8C");
	tap_is_int(IGB_VFTE, 0x0C90, "VFTE at 0x0C90");
	tap_is_int(IGB_MBX_WORDS, IGB_MBX_MSG_WORDS, "register and protocol headers agree on 16 words");
	tap_is_int(IGB_MAX_FRAME, IGB_MBX_MAX_FRAME, "... and on the 9728-byte frame limit");
}

static void test_filters_layout(void)
{
	tap_is_int(igb_ral(1), 0x5408, "RAL(1) at 0x5408 (pfresp: RAR[1+vf])");
	tap_is_int(igb_rah(1), 0x540C, "RAH(1) at 0x540C");
	tap_is_int(igb_ral(15), 0x5478, "RAL(15) at 0x5478");
	tap_is_int(igb_ral(16), 0x54E0, "RAL(16) at 0x54E0 (second bank)");
	tap_is_int(igb_rah(23), 0x551C, "RAH(23) at 0x551C");
	tap_is_int(igb_rah_pool(1) | IGB_RAH_AV, 0x80080000u, "RAH pool 1 | AV");
	tap_is_int(IGB_RAH_POOL_MASK, 0x03FC0000u, "RAH pool bits 25:18");
	tap_is_int(igb_vmolr(1), 0x5AD4, "VMOLR(1) at 0x5AD4");
	tap_is_int(IGB_VMOLR_AUPE | IGB_VMOLR_BAM, 0x09000000u, "VMOLR AUPE|BAM");
	tap_is_int(IGB_VMOLR_RLPML_MASK, 0x3FFF, "VMOLR.RLPML is 14 bits");
	tap_ok(IGB_MAX_FRAME <= IGB_VMOLR_RLPML_MASK, "the frame limit fits RLPML");
	tap_is_int(igb_vlvf(31), 0x5D7C, "VLVF(31) at 0x5D7C");
	tap_is_int(igb_vlvf_pool(7) | IGB_VLVF_VIEN | 100, 0x80080064u, "VLVF pool 7, VID 100, valid");
	tap_is_int(igb_vmvir(2), 0x3708, "VMVIR(2) at 0x3708");
	tap_is_int(igb_mta(127), 0x53FC, "MTA(127) at 0x53FC");
	tap_is_int(igb_vfta(127), 0x57FC, "VFTA(127) at 0x57FC");
	tap_is_int(igb_uta(0), 0xA000, "UTA(0) at 0xA000");
}

static void test_counters_layout(void)
{
	tap_is_int(igb_pvfgprc(1), 0x10110, "PVFGPRC(1) at 0x10110");
	tap_is_int(igb_pvfgptc(0), 0x10014, "PVFGPTC(0) at 0x10014");
	tap_is_int(igb_pvfgprlbc(1), 0x10140, "PVFGPRLBC(1) at 0x10140");
	tap_is_int(igb_pvfgptlbc(0), 0x10044, "PVFGPTLBC(0) at 0x10044");
	tap_is_int(igb_pvfmprc(0), 0x1003C, "PVFMPRC(0) mirrors VF 0x0F3C");
	tap_ok(igb_pvfgotlbc(IGB_MAX_VFS - 1) + 4 <= IGB_BAR0_SIZE, "all VF counters inside BAR0");
	tap_is_int(IGB_GORCL + 4, IGB_GORCH, "GORCH follows GORCL");
}

int main(void)
{
	test_experiment_values();
	test_mailbox_layout();
	test_filters_layout();
	test_counters_layout();
	return tap_done();
}
