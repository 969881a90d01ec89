/* SPDX-License-Identifier: MIT */
/*
 * The Intel 8254x (82540EM, QEMU `-device e1000`) registers and descriptors the test VM
 * payload uses. Source: the public "PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual" (8254x SDM): chapter 13 (register descriptions), 3.2
 * (receive descriptors), 3.3 (transmit descriptors), 14 (initialization); checked against
 * what QEMU's hw/net/e1000.c does with them (facts only; no code taken).
 */
#ifndef CMC_VM_E1000_H
#define CMC_VM_E1000_H

#include <stdint.h>

#define E1000_VENDOR 0x8086u
#define E1000_DEV_82540EM 0x100Eu	/* QEMU's "e1000" */
#define E1000_DEV_82545EM 0x100Fu	/* QEMU's "e1000-82545em": same registers */

/* PCI configuration space (PCI Local Bus 3.0, 6.2) */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x0002u
#define PCI_COMMAND_MASTER 0x0004u
#define PCI_COMMAND_INTX_DISABLE 0x0400u
#define PCI_BAR0 0x10
#define PCI_INTERRUPT_LINE 0x3c		/* byte; written by the firmware (SeaBIOS) */
#define PCI_INTERRUPT_PIN 0x3d		/* byte; 0: no INTx */

/* Registers (SDM 13.4), offsets into BAR0 */
#define E1000_CTRL 0x0000		/* device control (13.4.1) */
#define E1000_CTRL_ASDE (1u << 5)	/* auto-speed detection */
#define E1000_CTRL_SLU (1u << 6)	/* set link up */
#define E1000_CTRL_RST (1u << 26)	/* device reset, self-clearing */
#define E1000_CTRL_PHY_RST (1u << 31)
#define E1000_STATUS 0x0008		/* (13.4.2) */
#define E1000_EERD 0x0014		/* EEPROM read (13.4.4; 82540: addr 15:8, data 31:16) */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
#define E1000_ICR 0x00C0		/* interrupt cause, cleared on read (13.4.17) */
#define E1000_ITR 0x00C4		/* interrupt throttling; 0: off */
#define E1000_IMS 0x00D0		/* interrupt mask set/read */
#define E1000_IMC 0x00D8		/* interrupt mask clear */
#define E1000_INT_RXDMT0 (1u << 4)	/* RX descriptors below the threshold */
#define E1000_INT_RXO (1u << 6)		/* receiver overrun */
#define E1000_INT_RXT0 (1u << 7)	/* receiver timer: a frame was written back */
#define E1000_RCTL 0x0100		/* receive control (13.4.22) */
#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_BAM (1u << 15)	/* accept broadcast (ARP requests) */
#define E1000_RCTL_BSIZE_2048 (0u << 16)	/* with BSEX 0 */
#define E1000_RCTL_SECRC (1u << 26)	/* strip the CRC: lengths exclude it */
#define E1000_TCTL 0x0400		/* transmit control (13.4.33) */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)	/* pad short packets */
#define E1000_TCTL_CT(x) ((uint32_t)(x) << 4)	/* collision threshold: 0x0F */
#define E1000_TCTL_COLD(x) ((uint32_t)(x) << 12)	/* collision distance: 0x40 full duplex */
#define E1000_TIPG 0x0410		/* IPG: 82540 copper 10, 8, 6 (13.4.34) */
#define E1000_TIPG_COPPER (10u | 8u << 10 | 6u << 20)
#define E1000_RDBAL 0x2800		/* receive ring (13.4.27-13.4.31) */
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808		/* bytes, a multiple of 128 */
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_RDTR 0x2820		/* receive delay timer; 0: write back at once */
#define E1000_RADV 0x282C
#define E1000_TDBAL 0x3800		/* transmit ring (13.4.38-13.4.42) */
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_MTA 0x5200		/* multicast table, 128 words: all zero */
#define E1000_RAL0 0x5400		/* receive address 0, low (13.4.62) */
#define E1000_RAH0 0x5404
#define E1000_RAH_AV (1u << 31)		/* address valid */

/* Receive descriptor (SDM 3.2.3) */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;		/* bytes written to the buffer (no CRC with SECRC) */
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
#define E1000_RXD_DD (1u << 0)		/* descriptor done */
#define E1000_RXD_EOP (1u << 1)		/* end of packet */

/* Legacy transmit descriptor (SDM 3.3.3) */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};
#define E1000_TXD_EOP (1u << 0)
#define E1000_TXD_IFCS (1u << 1)	/* insert the FCS */
#define E1000_TXD_RS (1u << 3)		/* report status: DD written back */
#define E1000_TXD_DD (1u << 0)

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "RX descriptor");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "TX descriptor");

#endif
