/* SPDX-License-Identifier: MIT */
/*
 * t/vm — the project's test VM: a payload with no OS that QEMU runs as a multiboot
 * kernel, so that a live migration inside the emulated chassis (nested QEMU under TCG,
 * where a Linux guest takes ~80 s to boot) has a VM that starts at once, keeps state
 * that must survive the move, and dirties memory at a known, bounded rate.
 *
 * Build: `make` builds $(O)/vm/payload.elf (payload.S + payload.c + net.c + payload.ld,
 * freestanding, -m32, no libc); `make image-vm` puts it in the chassis' VM image as
 * /cmc/vm/payload.elf.
 *
 * Run (any x86 QEMU machine, TCG is fine; the guest needs 16 MiB + the region):
 *
 *   qemu-system-x86_64 -accel tcg -machine pc -m 64 -nodefaults -display none \
 *       -kernel /cmc/vm/payload.elf [-append "rate=100 mib=8"] \
 *       [-serial file:/run/vm.serial] -qmp unix:/run/vm.qmp,server=on,wait=off \
 *       [-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
 *        -device e1000,netdev=n0,mac=52:54:00:12:34:56 -append "ip=10.1.2.3"]
 *
 * A migration destination uses the same command line plus `-incoming tcp:ADDR:PORT`
 * (same -kernel: its option ROMs are RAM blocks the two sides must agree on).
 *
 * What it does:
 *   1. fills the region (REGION_BASE, `mib` MiB, default 8) with a non-zero pattern, so
 *      that none of it migrates as zero pages;
 *   2. programs the PIT (channel 0) to interrupt `rate` times a second (default
 *      DIRTY_PAGES_PER_SEC) and halts between interrupts (a halted vCPU costs the
 *      chassis no CPU: under nested TCG that CPU is what the migration stream needs);
 *   3. on every tick takes one step: the counter goes up by one and one page of the
 *      region, in rotation, is checked whole and gets a new stamp — one page (4 KiB)
 *      dirtied per step, so `rate` pages/s is the dirty rate (100 -> 400 KiB/s);
 *   4. after the step, sweeps SWEEP_PAGES_PER_TICK further pages (read only: stamp and
 *      three pattern words), so the whole region is re-verified every region_pages/128
 *      ticks (16 for 8 MiB); `sweeps` counts completed sweeps.
 * A rate above 1000 runs the PIT at 1000 Hz with rate/1000 steps a tick; below 19 (the
 * PIT's slowest) it is 19. The rate is an upper bound: a guest too slow to keep up loses
 * ticks rather than bursting.
 *
 * Self-check (what a torn or stale migration would break): after step c (c = 1, 2, ...)
 * page p = (c - 1) mod N was visited; words 0-1 of every page hold a 64-bit stamp, the
 * number of the step that will next visit it (N = region pages, a power of two):
 *     stamp(q) = c + 1 + ((q - c) mod N)          (initially q + 1)
 * and words 2..1023 of page q hold  ((q << 10) | j) * 0x9E3779B1 + 0x7F4A7C15  (32-bit).
 * Every mismatch, and a mirror word that does not match the counter, adds one to
 * `errors`; the first one is recorded. A copy that lost a page or mixed two rounds shows
 * up as errors on the destination within one sweep.
 *
 * The state block, at guest-physical 0x00200000 (STATE_BASE), little-endian:
 *   +0x00 u64 counter        steps taken since the payload started (never reset by a
 *                            migration: continues on the destination)
 *   +0x08 u64 mirror         counter ^ 0x5A5A5A5A5A5A5A5A (MIRROR_XOR), written after it
 *   +0x10 u64 errors         self-check mismatches (0 on a healthy VM)
 *   +0x18 u64 sweeps         completed verification sweeps of the whole region
 *   +0x20 u64 magic          0x434D43564D504C31 ("CMCVMPL1" read as a hex number)
 *   +0x28 u32 status         1 filling, 2 running; 0xBAD00001 region does not fit in RAM,
 *                            0xBAD00002 not started by a multiboot loader,
 *                            0xE00000vv exception vv (stopped)
 *   +0x2c u32 first_bad_page region page of the first mismatch (0xFFFFFFFF: none)
 *   +0x30 u32 rate           steps (= pages dirtied) per second asked for
 *   +0x34 u32 region_pages   N
 *   +0x38 u32 region_base    REGION_BASE
 *   +0x3c u32 first_bad_word word index within that page
 * The network (t/vm/net.c; all 0 without ip=):
 *   +0x40 u64 net_rx         frames received (taken from the RX ring)
 *   +0x48 u64 net_tx         frames sent (posted on the TX ring; the gratuitous ARP too)
 *   +0x50 u64 net_arp        ARP replies sent
 *   +0x58 u64 net_echo       ICMP echo replies sent
 *   +0x60 u64 net_dropped    frames received and not answered (not ARP for us, not an
 *                            echo request for us, malformed), and replies with no TX room:
 *                            net_rx = net_arp + net_echo + net_dropped
 *   +0x68 u32 net_status     0 off (no ip=), 1 starting, 2 up; 0xBAD10001 no e1000 on
 *                            PCI bus 0, 0xBAD10002 BAR0 unassigned, 0xBAD10003 reset did
 *                            not complete, 0xBAD10004 no MAC, 0xBAD10005 no INTx line,
 *                            0xBAD10006 ip= malformed, 0xBAD10007 NIC gone (reads all
 *                            ones); the payload runs on without the network on an error
 *   +0x6c u32 net_ip         the address, bytes in network order (10.1.2.3: 0x0302010a)
 *   +0x70 u64 net_mac        the MAC, byte 0 lowest (52:54:00:12:34:56: 0x563412005452)
 *   +0x78 u32 net_irq        the 8259 IRQ line of the NIC (10 with the command above)
 *   +0x7c u32 net_irqs       NIC interrupts taken
 *   +0x80 u32 net_bdf        the NIC's PCI device << 3 | function, bus 0
 *   +0x84 u32 net_reinits    times the NIC was found unprogrammed and set up again (0 after
 *                            a migration: QEMU carries the e1000's registers over)
 * The u64 counters are written as two 32-bit halves; they are 64-bit so that none wraps.
 *
 * Read it through QMP (the counter and the mirror are written as two 32-bit halves each,
 * so a read racing a step can see a torn pair: read again when the mirror disagrees, or
 * read while the VM is stopped — a migration source is, after completing):
 *   {"execute":"human-monitor-command","arguments":{"command-line":"xp /8gx 0x200000"}}
 *   -> "0000000000200000: 0x00000000000004d2 0x5a5a5a5a5a5a5e88\r\n..."   (counter, mirror)
 * (`xp /17gx 0x200000` for the network's fields too.)
 * In the chassis: `qmp-call -H /run/vmA.qmp 'xp /8gx 0x200000'` (t/tools/qmp-call.c).
 * `pmemsave 0x01000000 0x800000 FILE` dumps the region, checkable with the formulas above.
 *
 * Command line (QEMU -append): `rate=N` steps/s, `mib=M` region size (a power of two,
 * 1..64; REGION_BASE + M MiB must fit in -m), `ip=A.B.C.D` the network's IPv4 address.
 * A banner goes to COM1 when there is one.
 *
 * The network (only with ip=; net.c says how): the first e1000 (82540EM, or 82545EM) on
 * PCI bus 0 with the MAC QEMU gave it, rings at 0x00300000-0x0031FFFF. The payload answers
 * ARP requests for its address and ICMP echo requests to it (same identifier, sequence and
 * data, any size up to a 1500-byte IP packet; fragments are not reassembled) and drops
 * every other frame. It sends one gratuitous ARP (a request for its own address) when it
 * starts. Frames are taken on the NIC's interrupt, not only on the PIT tick, so a reply
 * takes well under a tick; once a second the payload checks the NIC still holds its rings
 * (it does after a live migration) and sets it up again if not (net_reinits; QEMU then
 * holds received frames for about 1 s after RCTL is written).
 */
#include <stdint.h>

#include "payload.h"

#define DIRTY_PAGES_PER_SEC 100		/* default rate: 100 x 4 KiB = 400 KiB/s dirtied */
#define REGION_MIB 8			/* default region size */
#define REGION_BASE 0x01000000u		/* the dirtied region starts at 16 MiB */
#define SWEEP_PAGES_PER_TICK 128u
#define MIRROR_XOR 0x5A5A5A5A5A5A5A5Aull
#define PAYLOAD_MAGIC 0x434D43564D504C31ull
#define PIT_HZ 1193182u

#define ST_FILLING 1u
#define ST_RUNNING 2u
#define ST_NO_ROOM 0xBAD00001u
#define ST_NOT_MULTIBOOT 0xBAD00002u
#define ST_EXCEPTION 0xE0000000u

struct mb_info {		/* multiboot v1 information, the fields we read */
	uint32_t flags;
	uint32_t mem_lower;	/* KiB below 1 MiB (flags bit 0) */
	uint32_t mem_upper;	/* KiB above 1 MiB (flags bit 0) */
	uint32_t boot_device;
	uint32_t cmdline;	/* physical address of a C string (flags bit 2) */
};

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* payload.S */
extern char exc_stubs[], irq0_entry[], irq_other_entry[];
void payload_main(uint32_t magic, const struct mb_info *mbi);
void payload_fault(uint32_t vec) __attribute__((noreturn));

volatile uint32_t payload_ticks;	/* bumped by irq0_entry */

static volatile uint32_t *const region = (volatile uint32_t *)REGION_BASE;
static uint32_t npages;			/* a power of two */
static uint32_t sweep_cursor;
static struct idt_gate idt[48] __attribute__((aligned(8)));

/* --- port I/O and COM1 ------------------------------------------------------------- */

/* With no serial port the line status reads 0xff (ready) and the bytes go nowhere. */
static void putc_com1(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (uint8_t)c);
}

void puts_com1(const char *s)
{
	while (*s)
		putc_com1(*s++);
}

void putu_com1(uint32_t v)
{
	char b[11];
	int n = 0;

	do {
		b[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		putc_com1(b[--n]);
}

/* v in hexadecimal, `digits` digits (1..8), lower case. */
void putx_com1(uint32_t v, int digits)
{
	while (digits-- > 0)
		putc_com1("0123456789abcdef"[(v >> 4 * digits) & 0xF]);
}

/* --- the region and its self-check --------------------------------------------------- */

static inline uint32_t pattern(uint32_t page, uint32_t word)
{
	return ((page << 10) | word) * 0x9E3779B1u + 0x7F4A7C15u;
}

static void mismatch(uint32_t page, uint32_t word)
{
	if (st->errors == 0) {
		st->first_bad_page = page;
		st->first_bad_word = word;
		puts_com1("payload: MISMATCH page ");
		putu_com1(page);
		puts_com1(" word ");
		putu_com1(word);
		puts_com1("\n");
	}
	st->errors = st->errors + 1;
}

static inline uint64_t stamp_of(volatile const uint32_t *pg)
{
	return (uint64_t)pg[1] << 32 | pg[0];
}

static inline void set_stamp(volatile uint32_t *pg, uint64_t s)
{
	pg[0] = (uint32_t)s;
	pg[1] = (uint32_t)(s >> 32);
}

static void fill(void)
{
	for (uint32_t p = 0; p < npages; p++) {
		volatile uint32_t *pg = region + p * 1024;

		set_stamp(pg, (uint64_t)p + 1);
		for (uint32_t j = 2; j < 1024; j++)
			pg[j] = pattern(p, j);
	}
}

/* One step: counter + 1, the page it selects checked whole and stamped for its next visit. */
static void step(void)
{
	uint64_t c = st->counter;

	if (st->mirror != (c ^ MIRROR_XOR))
		mismatch(0xFFFFFFFEu, 0);	/* the state block itself */
	c++;
	uint32_t p = ((uint32_t)c - 1) & (npages - 1);
	volatile uint32_t *pg = region + p * 1024;

	if (stamp_of(pg) != c)
		mismatch(p, 0);
	for (uint32_t j = 2; j < 1024; j++)
		if (pg[j] != pattern(p, j)) {
			mismatch(p, j);
			break;
		}
	set_stamp(pg, c + npages);
	st->counter = c;
	st->mirror = c ^ MIRROR_XOR;
}

/* Read-only check of the next few pages: stamp and three pattern words each. */
static void sweep(void)
{
	uint64_t c = st->counter;

	for (uint32_t k = 0; k < SWEEP_PAGES_PER_TICK && k < npages; k++) {
		uint32_t q = sweep_cursor;
		volatile const uint32_t *pg = region + q * 1024;
		uint64_t want = c + 1 + ((q - (uint32_t)c) & (npages - 1));

		if (stamp_of(pg) != want)
			mismatch(q, 0);
		else if (pg[2] != pattern(q, 2) || pg[511] != pattern(q, 511) || pg[1023] != pattern(q, 1023))
			mismatch(q, 2);
		if (++sweep_cursor == npages) {
			sweep_cursor = 0;
			st->sweeps = st->sweeps + 1;
		}
	}
}

/* --- interrupts -------------------------------------------------------------------------- */

void payload_set_gate(unsigned vec, void *handler)
{
	uint32_t a = (uint32_t)(uintptr_t)handler;

	idt[vec] = (struct idt_gate){ .off_lo = (uint16_t)a, .sel = 0x08, .zero = 0,
				      .type = 0x8E /* present, ring 0, 32-bit interrupt gate */,
				      .off_hi = (uint16_t)(a >> 16) };
}

static void setup_interrupts(uint32_t hz)
{
	struct idt_ptr ip = { .limit = sizeof(idt) - 1, .base = (uint32_t)(uintptr_t)idt };
	uint32_t div = PIT_HZ / hz;

	for (unsigned v = 0; v < 32; v++)
		payload_set_gate(v, exc_stubs + 16 * v);
	payload_set_gate(0x20, irq0_entry);
	for (unsigned v = 0x21; v < 0x30; v++)
		payload_set_gate(v, irq_other_entry);
	__asm__ volatile("lidt %0" : : "m"(ip));

	/* 8259 pair: IRQ 0-7 -> vectors 0x20-0x27, IRQ 8-15 -> 0x28-0x2f; only IRQ 0 open. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xfe);
	outb(0xa1, 0xff);

	/* PIT channel 0, lobyte/hibyte, mode 2 (rate generator). */
	outb(0x43, 0x34);
	outb(0x40, (uint8_t)div);
	outb(0x40, (uint8_t)(div >> 8));
}

void payload_fault(uint32_t vec)
{
	st->status = ST_EXCEPTION | (vec & 0xff);
	puts_com1("payload: exception ");
	putu_com1(vec);
	puts_com1(", stopped\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void stop(uint32_t status, const char *why)
{
	st->status = status;
	puts_com1("payload: ");
	puts_com1(why);
	puts_com1(", stopped\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* --- command line -------------------------------------------------------------------------- */

static int parse_opt(const char *s, const char *key, uint32_t *val)
{
	while (*key)
		if (*s++ != *key++)
			return 0;
	uint32_t v = 0;

	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9' && v < 100000000u)
		v = v * 10 + (uint32_t)(*s++ - '0');
	*val = v;
	return 1;
}

static void parse_cmdline(const char *s, uint32_t *rate, uint32_t *mib)
{
	while (*s) {
		while (*s == ' ')
			s++;
		if (!parse_opt(s, "rate=", rate))
			parse_opt(s, "mib=", mib);
		while (*s && *s != ' ')
			s++;
	}
}

/* --- main ------------------------------------------------------------------------------------- */

void payload_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t rate = DIRTY_PAGES_PER_SEC, mib = REGION_MIB;

	st->magic = PAYLOAD_MAGIC;
	st->first_bad_page = 0xFFFFFFFFu;
	st->first_bad_word = 0;
	st->errors = 0;
	st->sweeps = 0;
	st->counter = 0;
	st->mirror = MIRROR_XOR;
	st->status = ST_FILLING;
	net_configure(0);	/* the network's fields: 0, net_status NET_OFF */
	if (magic != 0x2BADB002u)
		stop(ST_NOT_MULTIBOOT, "not started by a multiboot loader");
	if (mbi->flags & 4) {
		parse_cmdline((const char *)(uintptr_t)mbi->cmdline, &rate, &mib);
		net_configure((const char *)(uintptr_t)mbi->cmdline);
	}
	if (mib < 1 || mib > 64 || (mib & (mib - 1)))
		mib = REGION_MIB;
	if (rate < 19)
		rate = 19;
	if (rate > 1000)
		rate -= rate % 1000;
	npages = mib * 256;
	if ((mbi->flags & 1) && REGION_BASE + mib * 0x100000u > 0x100000u + mbi->mem_upper * 1024u)
		stop(ST_NO_ROOM, "the region does not fit in RAM");
	st->rate = rate;
	st->region_pages = npages;
	st->region_base = REGION_BASE;

	puts_com1("payload: state at 0x00200000, region ");
	putu_com1(mib);
	puts_com1(" MiB at 0x01000000, ");
	putu_com1(rate);
	puts_com1(" pages/s\n");
	fill();

	uint32_t hz = rate > 1000 ? 1000 : rate, per_tick = rate > 1000 ? rate / 1000 : 1;

	setup_interrupts(hz);
	net_start();
	st->status = ST_RUNNING;
	puts_com1("payload: running\n");
	uint32_t seen = payload_ticks, ticks = 0;

	for (;;) {
		/* sti takes effect after hlt starts: no interrupt slips in between. */
		__asm__ volatile("sti; hlt; cli" : : : "memory");
		net_poll();	/* woken by the NIC or by a tick: frames first, for latency */
		if (payload_ticks == seen)
			continue;	/* not a tick */
		seen = payload_ticks;
		for (uint32_t k = 0; k < per_tick; k++)
			step();
		sweep();
		if (++ticks >= hz) {
			ticks = 0;
			net_check();
		}
	}
}
