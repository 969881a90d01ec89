/* SPDX-License-Identifier: MIT */
/*
 * The test VM payload's network (see payload.c's header for the state block and the
 * command line): an Intel 82540EM (QEMU `-device e1000`) found on PCI bus 0, driven with
 * one RX and one TX ring of legacy descriptors, answering ARP requests and ICMP echo
 * requests for the address given by `ip=` and dropping everything else.
 *
 * Why e1000 rather than virtio-net: it is QEMU's default NIC on `-machine pc`, it works
 * with no feature negotiation and no virtqueue layout (two register-described rings), its
 * interrupt is a plain INTx, and QEMU migrates all of its registers, so the rings stay
 * valid on a migration destination without the guest doing anything.
 *
 * Interrupts: the NIC's INTx reaches the 8259 through the PIIX3's PIRQ routing, which
 * SeaBIOS programs (QEMU runs it before the multiboot loader) and records in the
 * function's Interrupt Line register (config 0x3C); that register names the IRQ. With
 * the command line of payload.c's header (`-nodefaults`, one e1000) the NIC is 00:02.0
 * and the line is 10 (seen on QEMU 10.0: the COM1 banner and net_irq print it).
 * The line is level-triggered (PCI 3.0, 2.2.6), so it is marked so in the ELCR (0x4D0/
 * 0x4D1). The interrupt handler only reads ICR (which lowers the line) and sends the
 * end of interrupt; the main loop, which wakes from hlt on every interrupt, takes the
 * frames from the ring with interrupts off, so nothing here runs re-entered.
 *
 * Memory: the rings and buffers lie at NET_BASE (3 MiB), between the state block
 * (2 MiB) and the dirtied region (16 MiB).
 */
#include "payload.h"
#include "e1000.h"

#define NET_BASE 0x00300000u
#define RX_DESCS 32u			/* 512 bytes: RDLEN must be a multiple of 128 */
#define TX_DESCS 16u
#define BUF_SIZE 2048u			/* RCTL.BSIZE 2048 */
#define RX_RING (NET_BASE + 0x0000u)
#define TX_RING (NET_BASE + 0x1000u)
#define TX_BUFS (NET_BASE + 0x2000u)
#define RX_BUFS (NET_BASE + 0x10000u)	/* up to NET_BASE + 0x20000 */
_Static_assert(TX_BUFS + TX_DESCS * BUF_SIZE <= RX_BUFS, "TX buffers overlap RX buffers");
_Static_assert(NET_BASE >= STATE_BASE + sizeof(struct state), "rings overlap the state block");
_Static_assert(RX_BUFS + RX_DESCS * BUF_SIZE <= 0x01000000u, "rings overlap the region (16 MiB)");

#define RESET_POLLS 100000u		/* CTRL.RST reads; QEMU clears it on the write */
#define EERD_POLLS 10000u
#define ETH_HLEN 14u
#define ETH_ZLEN 60u			/* shortest frame without the FCS */
#define ETH_MTU 1500u
#define ETHERTYPE_IP 0x0800u
#define ETHERTYPE_ARP 0x0806u

static volatile uint8_t *mmio;
static uint8_t mac[6];
static uint8_t ip[4];
static uint32_t irq;
static uint32_t rx_next;		/* next RX descriptor the NIC will fill */
static uint32_t tx_tail, tx_clean;	/* next TX descriptor to post; oldest not reclaimed */
static volatile struct e1000_rx_desc *const rxd = (volatile struct e1000_rx_desc *)RX_RING;
static volatile struct e1000_tx_desc *const txd = (volatile struct e1000_tx_desc *)TX_RING;

/* --- registers and configuration space ---------------------------------------------- */

static inline uint32_t rd(uint32_t reg)
{
	return *(volatile uint32_t *)(mmio + reg);
}

static inline void wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(mmio + reg) = v;
}

/* Configuration mechanism #1 (PCI 3.0, 3.2.2.3.2): bus 0, device dev, function 0. */
static uint32_t cfg_rd(uint32_t bdf, uint32_t reg)
{
	outl(0xCF8, 0x80000000u | bdf << 8 | (reg & 0xFC));
	return inl(0xCFC);
}

static void cfg_wr(uint32_t bdf, uint32_t reg, uint32_t v)
{
	outl(0xCF8, 0x80000000u | bdf << 8 | (reg & 0xFC));
	outl(0xCFC, v);
}

static inline uint16_t get16(const volatile uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(volatile uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void copy(volatile uint8_t *d, const volatile uint8_t *s, uint32_t n)
{
	while (n--)
		*d++ = *s++;
}

static int same(const volatile uint8_t *a, const uint8_t *b, uint32_t n)
{
	while (n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

/* The Internet checksum (RFC 1071) of n bytes: 0 over data that holds a correct one. */
static uint16_t csum(const volatile uint8_t *p, uint32_t n)
{
	uint32_t s = 0;

	for (; n > 1; n -= 2, p += 2)
		s += get16(p);
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

/* --- command line ---------------------------------------------------------------------- */

/* "a.b.c.d" ending the word: 0, the address in ip[]; -1 if malformed. */
static int parse_ip(const char *s)
{
	for (int i = 0; i < 4; i++) {
		uint32_t v = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (!digits || v > 255)
			return -1;
		ip[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	return *s && *s != ' ' ? -1 : 0;
}

uint32_t net_configure(const char *s)
{
	st->net_rx = 0;
	st->net_tx = 0;
	st->net_arp = 0;
	st->net_echo = 0;
	st->net_dropped = 0;
	st->net_ip = st->net_mac_lo = st->net_mac_hi = 0;
	st->net_irq = st->net_irqs = st->net_bdf = st->net_reinits = 0;
	st->net_status = NET_OFF;
	while (s && *s) {
		while (*s == ' ')
			s++;
		if (s[0] == 'i' && s[1] == 'p' && s[2] == '=') {
			st->net_status = parse_ip(s + 3) ? NET_BAD_IP : NET_STARTING;
			st->net_ip = (uint32_t)ip[0] | (uint32_t)ip[1] << 8 | (uint32_t)ip[2] << 16 |
				     (uint32_t)ip[3] << 24;
		}
		while (*s && *s != ' ')
			s++;
	}
	return st->net_status;
}

/* --- bring-up ----------------------------------------------------------------------------- */

/* The first 82540EM/82545EM on bus 0; its bdf (device << 3 | function), or -1. */
static int find_nic(void)
{
	for (uint32_t dev = 0; dev < 32; dev++) {
		uint32_t id = cfg_rd(dev << 3, PCI_VENDOR_ID);

		if ((id & 0xFFFF) == E1000_VENDOR &&
		    (id >> 16 == E1000_DEV_82540EM || id >> 16 == E1000_DEV_82545EM))
			return (int)(dev << 3);
	}
	return -1;
}

/* The MAC QEMU gave the NIC: receive address 0 as reset left it (SDM 13.4.62), else
 * EEPROM words 0-2 (SDM 5.6.1) through EERD. 0 or an NET_* error. */
static uint32_t read_mac(void)
{
	uint32_t lo = rd(E1000_RAL0), hi = rd(E1000_RAH0);

	if (!(hi & E1000_RAH_AV)) {
		uint16_t w[3];

		for (uint32_t i = 0; i < 3; i++) {
			uint32_t v = 0, n;

			wr(E1000_EERD, E1000_EERD_START | i << E1000_EERD_ADDR_SHIFT);
			for (n = 0; n < EERD_POLLS && !((v = rd(E1000_EERD)) & E1000_EERD_DONE); n++)
				;
			if (n == EERD_POLLS)
				return NET_NO_MAC;
			w[i] = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
		}
		lo = w[0] | (uint32_t)w[1] << 16;
		hi = w[2];
	}
	for (int i = 0; i < 4; i++)
		mac[i] = (uint8_t)(lo >> 8 * i);
	mac[4] = (uint8_t)hi;
	mac[5] = (uint8_t)(hi >> 8);
	if ((lo == 0 && (hi & 0xFFFF) == 0) || (mac[0] & 1))
		return NET_NO_MAC;
	st->net_mac_lo = lo;
	st->net_mac_hi = hi & 0xFFFF;
	return 0;
}

/* Receive (SDM 14.4) and transmit (SDM 14.5) initialization, on a NIC just reset. */
static void setup_rings(void)
{
	for (uint32_t i = 0; i < RX_DESCS; i++)
		rxd[i] = (struct e1000_rx_desc){ .addr = RX_BUFS + i * BUF_SIZE };
	for (uint32_t i = 0; i < TX_DESCS; i++)
		txd[i] = (struct e1000_tx_desc){ .addr = TX_BUFS + i * BUF_SIZE, .status = E1000_TXD_DD };
	rx_next = 0;
	tx_tail = tx_clean = 0;

	for (uint32_t i = 0; i < 128; i++)
		wr(E1000_MTA + 4 * i, 0);
	wr(E1000_RAL0, st->net_mac_lo);
	wr(E1000_RAH0, st->net_mac_hi | E1000_RAH_AV);
	wr(E1000_RDBAL, RX_RING);
	wr(E1000_RDBAH, 0);
	wr(E1000_RDLEN, RX_DESCS * sizeof(struct e1000_rx_desc));
	wr(E1000_RDH, 0);
	wr(E1000_RDT, RX_DESCS - 1);	/* one descriptor stays unowned: head == tail is empty */
	wr(E1000_RDTR, 0);		/* write back, and interrupt, per frame: latency first */
	wr(E1000_RADV, 0);
	wr(E1000_ITR, 0);
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 | E1000_RCTL_SECRC);

	wr(E1000_TDBAL, TX_RING);
	wr(E1000_TDBAH, 0);
	wr(E1000_TDLEN, TX_DESCS * sizeof(struct e1000_tx_desc));
	wr(E1000_TDH, 0);
	wr(E1000_TDT, 0);
	wr(E1000_TIPG, E1000_TIPG_COPPER);
	wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT(0x0F) | E1000_TCTL_COLD(0x40));

	(void)rd(E1000_ICR);
	wr(E1000_IMS, E1000_INT_RXT0 | E1000_INT_RXO | E1000_INT_RXDMT0);
}

/* Global reset (SDM 14.9: mask interrupts, set CTRL.RST, mask again) and link up
 * (SDM 14.3: CTRL.SLU with ASDE). 0 or NET_RESET_TIMEOUT / NET_GONE. */
static uint32_t reset_nic(void)
{
	uint32_t n;

	wr(E1000_IMC, 0xFFFFFFFFu);
	wr(E1000_RCTL, 0);
	wr(E1000_TCTL, 0);
	wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_RST);
	for (n = 0; n < RESET_POLLS && (rd(E1000_CTRL) & E1000_CTRL_RST); n++)
		;
	if (rd(E1000_STATUS) == 0xFFFFFFFFu)
		return NET_GONE;
	if (n == RESET_POLLS)
		return NET_RESET_TIMEOUT;
	wr(E1000_IMC, 0xFFFFFFFFu);
	wr(E1000_CTRL, (rd(E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE) & ~E1000_CTRL_PHY_RST);
	return 0;
}

/* The NIC's PCI function: memory decoding and bus mastering on, INTx allowed, BAR0
 * mapped, its IRQ line. 0 or an NET_* error. */
static uint32_t setup_pci(uint32_t bdf)
{
	uint32_t bar = cfg_rd(bdf, PCI_BAR0), intr = cfg_rd(bdf, PCI_INTERRUPT_LINE);
	uint32_t cmd = cfg_rd(bdf, PCI_COMMAND) & 0xFFFF;

	/* A 32-bit memory BAR (bits 0 and 2:1 clear) the firmware assigned. */
	if ((bar & 0x7) != 0 || (bar & ~0xFu) == 0)
		return NET_NO_BAR;
	if (((intr >> 8) & 0xFF) == 0 || (intr & 0xFF) == 0 || (intr & 0xFF) > 15)
		return NET_NO_IRQ;
	irq = intr & 0xFF;
	mmio = (volatile uint8_t *)(uintptr_t)(bar & ~0xFu);
	cmd = (cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) & ~PCI_COMMAND_INTX_DISABLE;
	cfg_wr(bdf, PCI_COMMAND, cmd);
	st->net_bdf = bdf;
	st->net_irq = irq;
	return 0;
}

/* The NIC's vector (0x20 + irq, as payload.c programs the 8259s) and its line: level-
 * triggered (ELCR) and unmasked, with the cascade (IRQ 2) for a line on the slave. */
static void open_irq(void)
{
	payload_set_gate(0x20 + irq, irq_nic_entry);
	if (irq < 8) {
		outb(0x4D0, (uint8_t)(inb(0x4D0) | 1u << irq));
		outb(0x21, (uint8_t)(inb(0x21) & ~(1u << irq)));
	} else {
		outb(0x4D1, (uint8_t)(inb(0x4D1) | 1u << (irq - 8)));
		outb(0xA1, (uint8_t)(inb(0xA1) & ~(1u << (irq - 8))));
		outb(0x21, (uint8_t)(inb(0x21) & ~(1u << 2)));
	}
}

static void print_mac_ip(void)
{
	for (int i = 0; i < 6; i++) {
		putx_com1(mac[i], 2);
		puts_com1(i < 5 ? ":" : " ip ");
	}
	for (int i = 0; i < 4; i++) {
		putu_com1(ip[i]);
		puts_com1(i < 3 ? "." : "\n");
	}
}

static void send_gratuitous_arp(void);

void net_start(void)
{
	uint32_t err;
	int bdf;

	if (st->net_status != NET_STARTING)
		return;
	bdf = find_nic();
	if (bdf < 0) {
		err = NET_NO_NIC;
		goto fail;
	}
	err = setup_pci((uint32_t)bdf);
	if (err)
		goto fail;
	err = reset_nic();
	if (err)
		goto fail;
	err = read_mac();
	if (err)
		goto fail;
	setup_rings();
	open_irq();
	st->net_status = NET_UP;
	puts_com1("payload: e1000 at 00:");
	putx_com1((uint32_t)bdf >> 3, 2);
	puts_com1(".0 irq ");
	putu_com1(irq);
	puts_com1(" mac ");
	print_mac_ip();
	send_gratuitous_arp();
	return;
fail:
	st->net_status = err;
	puts_com1("payload: network not started, status 0x");
	putx_com1(err, 8);
	puts_com1("\n");
}

/* --- transmit ----------------------------------------------------------------------------- */

/* A free TX buffer, or 0 when the ring is full (descriptors not yet written back). */
static volatile uint8_t *tx_slot(void)
{
	while (tx_clean != tx_tail && (txd[tx_clean].status & E1000_TXD_DD))
		tx_clean = (tx_clean + 1) % TX_DESCS;
	if ((tx_tail + 1) % TX_DESCS == tx_clean)
		return 0;
	return (volatile uint8_t *)(uintptr_t)(TX_BUFS + tx_tail * BUF_SIZE);
}

/* Posts the frame built in tx_slot()'s buffer (SDM 3.3.3: EOP, FCS inserted, status
 * reported); QEMU sends it during the TDT write. */
static void tx_post(uint32_t len)
{
	volatile uint8_t *b = (volatile uint8_t *)(uintptr_t)(TX_BUFS + tx_tail * BUF_SIZE);

	for (; len < ETH_ZLEN; len++)
		b[len] = 0;
	txd[tx_tail].length = (uint16_t)len;
	txd[tx_tail].cmd = E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS;
	txd[tx_tail].status = 0;
	tx_tail = (tx_tail + 1) % TX_DESCS;
	__asm__ volatile("" : : : "memory");
	wr(E1000_TDT, tx_tail);
	st->net_tx = st->net_tx + 1;
}

static void eth_header(volatile uint8_t *b, const volatile uint8_t *dst, uint32_t type)
{
	copy(b, dst, 6);
	copy(b + 6, mac, 6);
	put16(b + 12, type);
}

/* --- ARP (RFC 826) and ICMP echo (RFC 792) ----------------------------------------------- */

static void arp_frame(volatile uint8_t *b, uint32_t op, const volatile uint8_t *tha,
		      const volatile uint8_t *tpa)
{
	put16(b + 14, 1);		/* Ethernet */
	put16(b + 16, ETHERTYPE_IP);
	b[18] = 6;
	b[19] = 4;
	put16(b + 20, op);
	copy(b + 22, mac, 6);
	copy(b + 28, ip, 4);
	copy(b + 32, tha, 6);
	copy(b + 38, tpa, 4);
}

/* Announces our address once at start: an ARP request for it, from it (RFC 5227, 3). */
static void send_gratuitous_arp(void)
{
	static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, zero[6];
	volatile uint8_t *b = tx_slot();

	if (!b)
		return;
	eth_header(b, bcast, ETHERTYPE_ARP);
	arp_frame(b, 1, zero, ip);
	tx_post(42);
}

/* An ARP request for our address: 1 if answered. */
static int arp_in(const volatile uint8_t *f, uint32_t len)
{
	volatile uint8_t *b;

	if (len < 42 || get16(f + 14) != 1 || get16(f + 16) != ETHERTYPE_IP || f[18] != 6 ||
	    f[19] != 4 || get16(f + 20) != 1 || !same(f + 38, ip, 4))
		return 0;
	b = tx_slot();
	if (!b)
		return 0;
	eth_header(b, f + 22, ETHERTYPE_ARP);
	arp_frame(b, 2, f + 22, f + 28);
	tx_post(42);
	st->net_arp = st->net_arp + 1;
	return 1;
}

/* An ICMP echo request to our address, unfragmented, both checksums right: answered
 * with the same identifier, sequence and data (options of the request are not kept).
 * 1 if answered. */
static int icmp_in(const volatile uint8_t *f, uint32_t len)
{
	const volatile uint8_t *iph = f + ETH_HLEN;
	uint32_t ihl, tot, n;
	volatile uint8_t *b;

	if (len < ETH_HLEN + 20 || (iph[0] >> 4) != 4)
		return 0;
	ihl = (iph[0] & 0xF) * 4u;
	tot = get16(iph + 2);
	if (ihl < 20 || tot < ihl + 8 || tot > len - ETH_HLEN || tot > ETH_MTU ||
	    csum(iph, ihl) != 0 || (get16(iph + 6) & 0x3FFF) != 0 || iph[9] != 1 ||
	    !same(iph + 16, ip, 4) || !same(f, mac, 6) || iph[12] == 0 || iph[12] >= 224)
		return 0;
	n = tot - ihl;			/* the ICMP message */
	if (iph[ihl] != 8 || iph[ihl + 1] != 0 || csum(iph + ihl, n) != 0)
		return 0;
	b = tx_slot();
	if (!b)
		return 0;
	eth_header(b, f + 6, ETHERTYPE_IP);
	volatile uint8_t *r = b + ETH_HLEN;

	r[0] = 0x45;
	r[1] = 0;
	put16(r + 2, 20 + n);
	put16(r + 4, get16(iph + 4));	/* identification */
	put16(r + 6, 0);
	r[8] = 64;			/* TTL */
	r[9] = 1;
	put16(r + 10, 0);
	copy(r + 12, ip, 4);
	copy(r + 16, iph + 12, 4);
	put16(r + 10, csum(r, 20));
	copy(r + 20, iph + ihl, n);
	r[20] = 0;			/* echo reply */
	put16(r + 22, 0);
	put16(r + 22, csum(r + 20, n));
	tx_post(ETH_HLEN + 20 + n);
	st->net_echo = st->net_echo + 1;
	return 1;
}

/* --- receive ------------------------------------------------------------------------------ */

void net_poll(void)
{
	uint32_t done = 0;

	if (st->net_status != NET_UP)
		return;
	/* At most one ring's worth per call: bounded however fast frames come. */
	while (done < RX_DESCS && (rxd[rx_next].status & E1000_RXD_DD)) {
		volatile struct e1000_rx_desc *d = &rxd[rx_next];
		const volatile uint8_t *f = (const volatile uint8_t *)(uintptr_t)(RX_BUFS + rx_next * BUF_SIZE);
		uint32_t len = d->length;
		int answered = 0;

		st->net_rx = st->net_rx + 1;
		/* A frame in one descriptor (2048-byte buffers, no LPE) with no error. */
		if ((d->status & E1000_RXD_EOP) && !d->errors && len >= ETH_HLEN) {
			uint32_t type = get16(f + 12);

			if (type == ETHERTYPE_ARP)
				answered = arp_in(f, len);
			else if (type == ETHERTYPE_IP)
				answered = icmp_in(f, len);
		}
		if (!answered)
			st->net_dropped = st->net_dropped + 1;
		d->status = 0;
		wr(E1000_RDT, rx_next);	/* hand the descriptor back */
		rx_next = (rx_next + 1) % RX_DESCS;
		done++;
	}
}

void payload_nic_irq(void)
{
	if (mmio)
		(void)rd(E1000_ICR);	/* clears the causes: the line goes low */
	st->net_irqs = st->net_irqs + 1;
	if (irq >= 8)
		outb(0xA0, 0x20);
	outb(0x20, 0x20);
}

/* The NIC still holds what setup_rings() wrote (a migration keeps it; a reset of the
 * device would not): else reset and set it up again, counted in net_reinits. */
void net_check(void)
{
	uint32_t err;

	if (st->net_status != NET_UP)
		return;
	if (rd(E1000_STATUS) == 0xFFFFFFFFu) {
		st->net_status = NET_GONE;
		return;
	}
	if (rd(E1000_RDBAL) == RX_RING && rd(E1000_RDLEN) == RX_DESCS * sizeof(struct e1000_rx_desc) &&
	    rd(E1000_TDBAL) == TX_RING && rd(E1000_TDLEN) == TX_DESCS * sizeof(struct e1000_tx_desc) &&
	    (rd(E1000_RCTL) & E1000_RCTL_EN) && (rd(E1000_TCTL) & E1000_TCTL_EN) &&
	    (rd(E1000_RAH0) & E1000_RAH_AV) && (rd(E1000_IMS) & E1000_INT_RXT0))
		return;
	err = reset_nic();
	if (err) {
		st->net_status = err;
		return;
	}
	setup_rings();
	st->net_reinits = st->net_reinits + 1;
	puts_com1("payload: e1000 found unprogrammed, set up again\n");
}
