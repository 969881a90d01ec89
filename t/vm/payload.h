/* SPDX-License-Identifier: MIT */
/*
 * What the test VM payload's two C files share (t/vm/payload.c: the counter, the region,
 * interrupts; t/vm/net.c: the e1000 and its ARP/ICMP answers): the state block, port I/O
 * and COM1. The layout of the state block is documented in payload.c's header comment.
 */
#ifndef CMC_VM_PAYLOAD_H
#define CMC_VM_PAYLOAD_H

#include <stdint.h>

#define STATE_BASE 0x00200000u		/* the state block */

/* net_status values (state block +0x68) */
#define NET_OFF 0u			/* no ip= on the command line: the NIC is not touched */
#define NET_STARTING 1u
#define NET_UP 2u
#define NET_NO_NIC 0xBAD10001u		/* ip= given, no e1000 on PCI bus 0 */
#define NET_NO_BAR 0xBAD10002u		/* BAR0 not an assigned 32-bit memory BAR */
#define NET_RESET_TIMEOUT 0xBAD10003u	/* CTRL.RST still set after RESET_POLLS reads */
#define NET_NO_MAC 0xBAD10004u		/* RAH0.AV clear and the EEPROM holds no MAC */
#define NET_NO_IRQ 0xBAD10005u		/* no INTx pin, or an Interrupt Line outside 1..15 */
#define NET_BAD_IP 0xBAD10006u		/* ip= is not a dotted quad */
#define NET_GONE 0xBAD10007u		/* the NIC's registers read all ones */

struct state {
	uint64_t counter;
	uint64_t mirror;
	uint64_t errors;
	uint64_t sweeps;
	uint64_t magic;
	uint32_t status;
	uint32_t first_bad_page;
	uint32_t rate;
	uint32_t region_pages;
	uint32_t region_base;
	uint32_t first_bad_word;
	/* the network (t/vm/net.c) */
	uint64_t net_rx;		/* frames taken from the RX ring */
	uint64_t net_tx;		/* frames posted on the TX ring */
	uint64_t net_arp;		/* ARP replies sent */
	uint64_t net_echo;		/* ICMP echo replies sent */
	uint64_t net_dropped;		/* frames received and not answered, replies not sent */
	uint32_t net_status;
	uint32_t net_ip;		/* the IPv4 address, bytes in network order */
	uint32_t net_mac_lo;		/* MAC bytes 0-3 (byte 0 in the low byte) */
	uint32_t net_mac_hi;		/* MAC bytes 4-5 */
	uint32_t net_irq;		/* the 8259 input the NIC interrupts on */
	uint32_t net_irqs;		/* NIC interrupts taken */
	uint32_t net_bdf;		/* the NIC's PCI address on bus 0: device << 3 | function */
	uint32_t net_reinits;		/* times the NIC was found unprogrammed and set up again */
};
_Static_assert(sizeof(struct state) == 0x88, "state block layout");

static volatile struct state *const st = (volatile struct state *)STATE_BASE;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void puts_com1(const char *s);
void putu_com1(uint32_t v);
void putx_com1(uint32_t v, int digits);
void payload_set_gate(unsigned vec, void *handler);	/* an IDT interrupt gate */

/* net.c: all three do nothing when the command line gave no ip=. */
uint32_t net_configure(const char *cmdline);	/* zero the fields, parse ip=; net_status */
void net_start(void);		/* find and set up the NIC, open its IRQ in the 8259 */
void net_poll(void);		/* answer what the RX ring holds */
void net_check(void);		/* about once a second: is the NIC still programmed? */
void payload_nic_irq(void);	/* the NIC's interrupt (from irq_nic_entry) */
extern char irq_nic_entry[];

#endif
