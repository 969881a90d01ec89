/* SPDX-License-Identifier: MIT */
/*
 * mp-gendump: writes a libpci dump (the `lspci -xxxx` format: 4096 bytes of config space
 * per function) of an emulated chassis, for the mgmt-proc tests and benchmark.
 *
 *   mp-gendump [-l switch|rootports] [-s SLOTS] [-f FIRST] [-p PFS] [-v VFS] [-t TOTAL]
 *              [-e LIST] [-n LIST] [--vf-ffff] [-o FILE]
 *
 * switch:    what QEMU q35 builds from pcie-root-port -> x3130-upstream ->
 *            xio3130-downstream (up to 32 slots per switch, one switch per 32 slots);
 *            the root port holding a switch has Slot #0, the downstream ports Slot
 *            #FIRST.. (no ACS, like QEMU's xio3130).
 * rootports: one pcie-root-port per slot on bus 0 (with ACS); beyond 30 slots they are
 *            packed 8 functions per device (multi-function).
 * Each occupied slot holds an igb card (82576, 8086:10c9, ARI + SR-IOV, VF 10ca) with
 * PFS physical functions, VFS of them enabled per PF (TOTAL VFs possible, default 8;
 * VF offset 128, stride 2, or PFS when more than 2 PFs so that VFs do not collide).
 * LIST: slot numbers "1,3,5-7". -e: empty slots; -n: slots with an e1000e card (82574L,
 * 8086:10d3: no ARI, no SR-IOV). --vf-ffff: VFs' ID registers read ffff as on hardware
 * (QEMU fills them in).
 *
 * The tests #include this file with MP_GENDUMP_NO_MAIN defined and call gd_write().
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/header.h>

#define GD_MAX_SLOT 8192 /* Physical Slot Number is 13 bits */
#define GD_PER_SWITCH 32

enum gd_layout { GD_SWITCH, GD_ROOTPORTS };

struct gd_spec {
	enum gd_layout layout;
	unsigned slots, first_slot;
	unsigned pfs, vfs, total_vfs;
	bool vf_ffff;
	uint8_t empty[GD_MAX_SLOT / 8];
	uint8_t nosriov[GD_MAX_SLOT / 8];
};

/* --- config space builder ------------------------------------------------------- */

struct gd_cfg {
	uint8_t b[4096];
	unsigned last_cap, last_ext;
};

static void put16(struct gd_cfg *c, unsigned pos, uint16_t v)
{
	c->b[pos] = (uint8_t)v;
	c->b[pos + 1] = (uint8_t)(v >> 8);
}

static void put32(struct gd_cfg *c, unsigned pos, uint32_t v)
{
	put16(c, pos, (uint16_t)v);
	put16(c, pos + 2, (uint16_t)(v >> 16));
}

static void cfg_init(struct gd_cfg *c, uint16_t vendor, uint16_t device, uint32_t class_rev,
		     uint8_t hdr)
{
	memset(c, 0, sizeof(*c));
	put16(c, PCI_VENDOR_ID, vendor);
	put16(c, PCI_DEVICE_ID, device);
	put32(c, PCI_REVISION_ID, class_rev);
	c->b[PCI_HEADER_TYPE] = hdr;
}

static void cfg_bridge(struct gd_cfg *c, unsigned pri, unsigned sec, unsigned sub)
{
	c->b[PCI_PRIMARY_BUS] = (uint8_t)pri;
	c->b[PCI_SECONDARY_BUS] = (uint8_t)sec;
	c->b[PCI_SUBORDINATE_BUS] = (uint8_t)sub;
}

static void cap_add(struct gd_cfg *c, unsigned pos, uint8_t id)
{
	if (c->last_cap)
		c->b[c->last_cap + PCI_CAP_LIST_NEXT] = (uint8_t)pos;
	else
		c->b[PCI_CAPABILITY_LIST] = (uint8_t)pos;
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c->b[pos + PCI_CAP_LIST_ID] = id;
	c->b[pos + PCI_CAP_LIST_NEXT] = 0;
	c->last_cap = pos;
}

/* Extended capability header: id 15:0, version 19:16, next 31:20. */
static void ext_add(struct gd_cfg *c, unsigned pos, uint16_t id, unsigned ver)
{
	if (c->last_ext) {
		uint32_t h = (uint32_t)c->b[c->last_ext] | (uint32_t)c->b[c->last_ext + 1] << 8 |
			     (uint32_t)c->b[c->last_ext + 2] << 16;

		put32(c, c->last_ext, h | (uint32_t)pos << 20);
	}
	put32(c, pos, id | ver << 16);
	c->last_ext = pos;
}

struct gd_pcie {
	unsigned type;
	bool slot;
	unsigned psn;
	bool present; /* slot: Presence Detect State; link: up */
	unsigned max_speed, max_width, speed, width;
};

static void pcie_add(struct gd_cfg *c, unsigned pos, const struct gd_pcie *p)
{
	cap_add(c, pos, PCI_CAP_ID_EXP);
	put16(c, pos + PCI_EXP_FLAGS, (uint16_t)(2 | p->type << 4 | (p->slot ? PCI_EXP_FLAGS_SLOT : 0)));
	put32(c, pos + PCI_EXP_LNKCAP, p->max_speed | p->max_width << 4 | PCI_EXP_LNKCAP_DLLA);
	put16(c, pos + PCI_EXP_LNKSTA, (uint16_t)(p->present ?
			p->speed | p->width << 4 | PCI_EXP_LNKSTA_DL_ACT : 1));
	if (!p->slot)
		return;
	put32(c, pos + PCI_EXP_SLTCAP, p->psn << 19 | PCI_EXP_SLTCAP_ATNB | PCI_EXP_SLTCAP_PWRC |
	      PCI_EXP_SLTCAP_ATNI | PCI_EXP_SLTCAP_PWRI | PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC);
	put16(c, pos + PCI_EXP_SLTSTA, p->present ? PCI_EXP_SLTSTA_PRES : 0);
}

/* --- output ----------------------------------------------------------------------- */

static const char gd_hex[] = "0123456789abcdef";

static int gd_emit(FILE *f, unsigned bus, unsigned devfn, const char *desc, const struct gd_cfg *c)
{
	char line[80];

	fprintf(f, "%02x:%02x.%u %s\n", bus, devfn >> 3, devfn & 7, desc);
	for (unsigned off = 0; off < sizeof(c->b); off += 16) {
		int n = snprintf(line, sizeof(line), off < 0x100 ? "%02x:" : "%03x:", off);

		for (unsigned i = 0; i < 16; i++) {
			line[n++] = ' ';
			line[n++] = gd_hex[c->b[off + i] >> 4];
			line[n++] = gd_hex[c->b[off + i] & 15];
		}
		line[n++] = '\n';
		if (fwrite(line, 1, (size_t)n, f) != (size_t)n)
			return -EIO;
	}
	return fputc('\n', f) == EOF ? -EIO : 0;
}

/* --- the devices --------------------------------------------------------------- */

static bool gd_in(const uint8_t *set, unsigned slot)
{
	return slot < GD_MAX_SLOT && (set[slot / 8] >> (slot % 8) & 1);
}

static unsigned umin(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/* The link a port trains to with the card behind it. */
static void gd_link(struct gd_pcie *port, struct gd_pcie *card)
{
	port->speed = card->speed = umin(port->max_speed, card->max_speed);
	port->width = card->width = umin(port->max_width, card->max_width);
	card->present = port->present;
}

static unsigned vf_stride(const struct gd_spec *s)
{
	return s->pfs <= 2 ? 2 : s->pfs;
}

static int gd_igb_pf(FILE *f, const struct gd_spec *s, unsigned bus, unsigned fn,
		     const struct gd_pcie *link)
{
	struct gd_cfg c;
	unsigned sr = 0x160, vfs = umin(s->vfs, s->total_vfs);

	cfg_init(&c, 0x8086, 0x10c9, 0x02000001, s->pfs > 1 ? 0x80 : 0);
	put16(&c, PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
	put16(&c, PCI_SUBSYSTEM_ID, 0xa03c);
	cap_add(&c, 0x40, PCI_CAP_ID_PM);
	cap_add(&c, 0x50, PCI_CAP_ID_MSI);
	cap_add(&c, 0x70, PCI_CAP_ID_MSIX);
	pcie_add(&c, 0xa0, link);
	ext_add(&c, 0x100, PCI_EXT_CAP_ID_AER, 2);
	ext_add(&c, 0x150, PCI_EXT_CAP_ID_ARI, 1);
	put16(&c, 0x150 + PCI_ARI_CAP, (uint16_t)((fn + 1 < s->pfs ? fn + 1 : 0) << 8));
	ext_add(&c, sr, PCI_EXT_CAP_ID_SRIOV, 1);
	put16(&c, sr + PCI_IOV_CTRL, (uint16_t)(vfs ? PCI_IOV_CTRL_VFE | PCI_IOV_CTRL_MSE |
					       PCI_IOV_CTRL_ARI : PCI_IOV_CTRL_ARI));
	put16(&c, sr + PCI_IOV_INITIALVF, (uint16_t)s->total_vfs);
	put16(&c, sr + PCI_IOV_TOTALVF, (uint16_t)s->total_vfs);
	put16(&c, sr + PCI_IOV_NUMVF, (uint16_t)vfs);
	c.b[sr + PCI_IOV_FDL] = (uint8_t)fn;
	put16(&c, sr + PCI_IOV_OFFSET, 128);
	put16(&c, sr + PCI_IOV_STRIDE, (uint16_t)vf_stride(s));
	put16(&c, sr + PCI_IOV_DID, 0x10ca);
	put32(&c, sr + PCI_IOV_SUPPS, 0x553);
	put32(&c, sr + PCI_IOV_SYSPS, 1);
	return gd_emit(f, bus, fn, "Ethernet controller: Intel Corporation 82576 Gigabit Network Connection (rev 01)", &c);
}

static int gd_igb_vf(FILE *f, const struct gd_spec *s, unsigned bus, unsigned devfn,
		     const struct gd_pcie *link)
{
	struct gd_pcie l = *link;
	struct gd_cfg c;

	cfg_init(&c, s->vf_ffff ? 0xffff : 0x8086, s->vf_ffff ? 0xffff : 0x10ca, 0x02000001, 0);
	cap_add(&c, 0x70, PCI_CAP_ID_MSIX);
	l.present = false; /* a VF's link registers are reserved (SR-IOV 1.1 §3.5.6) */
	pcie_add(&c, 0xa0, &l);
	ext_add(&c, 0x100, PCI_EXT_CAP_ID_AER, 2);
	ext_add(&c, 0x150, PCI_EXT_CAP_ID_ARI, 1);
	return gd_emit(f, bus, devfn, "Ethernet controller: Intel Corporation 82576 Virtual Function (rev 01)", &c);
}

static int gd_e1000e(FILE *f, unsigned bus, const struct gd_pcie *link)
{
	struct gd_cfg c;

	cfg_init(&c, 0x8086, 0x10d3, 0x02000000, 0);
	put16(&c, PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
	put16(&c, PCI_SUBSYSTEM_ID, 0x0000);
	cap_add(&c, 0xc8, PCI_CAP_ID_PM);
	pcie_add(&c, 0xe0, link);
	cap_add(&c, 0xa0, PCI_CAP_ID_MSIX);
	ext_add(&c, 0x100, PCI_EXT_CAP_ID_AER, 1);
	ext_add(&c, 0x140, PCI_EXT_CAP_ID_DSN, 1);
	return gd_emit(f, bus, 0, "Ethernet controller: Intel Corporation 82574L Gigabit Network Connection", &c);
}

/* The card in a slot: its PFs, then every VF, in routing-ID order. */
static int gd_card(FILE *f, const struct gd_spec *s, unsigned bus, unsigned psn,
		   const struct gd_pcie *link)
{
	unsigned vfs = umin(s->vfs, s->total_vfs), stride = vf_stride(s);
	int r = 0;

	if (gd_in(s->nosriov, psn))
		return gd_e1000e(f, bus, link);
	for (unsigned fn = 0; fn < s->pfs && !r; fn++)
		r = gd_igb_pf(f, s, bus, fn, link);
	for (unsigned n = 0; n < vfs && !r; n++) {
		for (unsigned fn = 0; fn < s->pfs && !r; fn++)
			r = gd_igb_vf(f, s, bus, fn + 128 + n * stride, link);
	}
	return r;
}

/* A downstream port (root or switch) with a slot, and the card behind it. */
static int gd_slot_port(FILE *f, const struct gd_spec *s, unsigned bus, unsigned devfn,
			unsigned sec, unsigned psn, bool root, bool mf)
{
	bool empty = gd_in(s->empty, psn);
	struct gd_pcie port = { root ? PCI_EXP_TYPE_ROOT_PORT : PCI_EXP_TYPE_DOWNSTREAM, true, psn,
				!empty, root ? 4 : 1, root ? 32 : 1, 0, 0 };
	struct gd_pcie card = { PCI_EXP_TYPE_ENDPOINT, false, 0, false, 1, 4, 0, 0 };
	struct gd_cfg c;
	int r;

	if (gd_in(s->nosriov, psn))
		card.max_width = 1;
	gd_link(&port, &card);
	if (root)
		cfg_init(&c, 0x1b36, 0x000c, 0x06040000, (uint8_t)(PCI_HEADER_TYPE_BRIDGE | (mf ? 0x80 : 0)));
	else
		cfg_init(&c, 0x104c, 0x8233, 0x06040001, PCI_HEADER_TYPE_BRIDGE);
	cfg_bridge(&c, bus, sec, sec);
	pcie_add(&c, 0x40, &port);
	cap_add(&c, 0x80, PCI_CAP_ID_PM);
	ext_add(&c, 0x100, PCI_EXT_CAP_ID_AER, 2);
	if (root) {
		ext_add(&c, 0x148, PCI_EXT_CAP_ID_ACS, 1);
		put16(&c, 0x148 + PCI_ACS_CAP, 0x1f);
		put16(&c, 0x148 + PCI_ACS_CTRL, 0x1d);
	}
	r = gd_emit(f, bus, devfn, root ? "PCI bridge: Red Hat, Inc. QEMU PCIe Root port" :
		    "PCI bridge: Texas Instruments XIO3130 PCI Express Switch (Downstream) (rev 01)", &c);
	if (r < 0 || empty)
		return r;
	return gd_card(f, s, sec, psn, &card);
}

static int gd_host_bridge(FILE *f)
{
	struct gd_cfg c;

	cfg_init(&c, 0x8086, 0x29c0, 0x06000000, 0);
	return gd_emit(f, 0, 0, "Host bridge: Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller", &c);
}

/* pcie-root-port (Slot #0, not a chassis slot) -> x3130-upstream -> k downstream ports. */
static int gd_switch_head(FILE *f, unsigned devfn, unsigned b, unsigned k)
{
	struct gd_pcie rp = { PCI_EXP_TYPE_ROOT_PORT, true, 0, true, 4, 32, 0, 0 };
	struct gd_pcie up = { PCI_EXP_TYPE_UPSTREAM, false, 0, true, 1, 1, 0, 0 };
	struct gd_cfg c;

	gd_link(&rp, &up);
	cfg_init(&c, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_TYPE_BRIDGE);
	cfg_bridge(&c, 0, b, b + 1 + k);
	pcie_add(&c, 0x40, &rp);
	ext_add(&c, 0x100, PCI_EXT_CAP_ID_AER, 2);
	ext_add(&c, 0x148, PCI_EXT_CAP_ID_ACS, 1);
	put16(&c, 0x148 + PCI_ACS_CAP, 0x1f);
	put16(&c, 0x148 + PCI_ACS_CTRL, 0x1d);
	return gd_emit(f, 0, devfn, "PCI bridge: Red Hat, Inc. QEMU PCIe Root port", &c);
}

static int gd_switch_up(FILE *f, unsigned b, unsigned k)
{
	struct gd_pcie up = { PCI_EXP_TYPE_UPSTREAM, false, 0, true, 1, 1, 1, 1 };
	struct gd_cfg c;

	cfg_init(&c, 0x104c, 0x8232, 0x06040002, PCI_HEADER_TYPE_BRIDGE);
	cfg_bridge(&c, b, b + 1, b + 1 + k);
	pcie_add(&c, 0x40, &up);
	cap_add(&c, 0x80, PCI_CAP_ID_PM);
	ext_add(&c, 0x100, PCI_EXT_CAP_ID_AER, 2);
	return gd_emit(f, b, 0, "PCI bridge: Texas Instruments XIO3130 PCI Express Switch (Upstream) (rev 02)", &c);
}

static int gd_switch_layout(FILE *f, const struct gd_spec *s)
{
	unsigned nsw = (s->slots + GD_PER_SWITCH - 1) / GD_PER_SWITCH, b = 1;
	int r;

	for (unsigned i = 0; i < nsw; i++) {
		unsigned k = umin(GD_PER_SWITCH, s->slots - i * GD_PER_SWITCH);

		r = gd_switch_head(f, (i + 1) << 3, b, k);
		if (r < 0)
			return r;
		b += 2 + k;
	}
	b = 1;
	for (unsigned i = 0; i < nsw; i++) {
		unsigned k = umin(GD_PER_SWITCH, s->slots - i * GD_PER_SWITCH);

		r = gd_switch_up(f, b, k);
		for (unsigned d = 0; d < k && !r; d++)
			r = gd_slot_port(f, s, b + 1, d << 3, b + 2 + d,
					 s->first_slot + i * GD_PER_SWITCH + d, false, false);
		if (r < 0)
			return r;
		b += 2 + k;
	}
	return 0;
}

static int gd_rootport_layout(FILE *f, const struct gd_spec *s)
{
	bool packed = s->slots > 30;

	for (unsigned i = 0; i < s->slots; i++) {
		unsigned devfn = packed ? (1 + i / 8) << 3 | i % 8 : (i + 1) << 3;
		int r = gd_slot_port(f, s, 0, devfn, i + 1, s->first_slot + i, true, packed);

		if (r < 0)
			return r;
	}
	return 0;
}

/* --- the API the tests use -------------------------------------------------------- */

static __attribute__((unused)) void gd_spec_init(struct gd_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->layout = GD_SWITCH;
	s->slots = 3;
	s->first_slot = 1;
	s->pfs = 1;
	s->total_vfs = 8;
}

static __attribute__((unused)) void gd_mark(uint8_t *set, unsigned slot)
{
	if (slot < GD_MAX_SLOT)
		set[slot / 8] |= (uint8_t)(1u << (slot % 8));
}

/* 0, or -EINVAL (with why) if the chassis cannot be numbered. */
static int gd_check(const struct gd_spec *s, const char **why)
{
	unsigned nsw = (s->slots + GD_PER_SWITCH - 1) / GD_PER_SWITCH;

	*why = NULL;
	if (s->slots == 0 || s->first_slot + s->slots > GD_MAX_SLOT)
		*why = "slot numbers out of range";
	else if (s->pfs == 0 || s->pfs > 8)
		*why = "PFs per card must be 1..8";
	else if (s->total_vfs > 0 && s->pfs - 1 + 128 + (s->total_vfs - 1) * vf_stride(s) > 255)
		*why = "VFs would not fit on the card's bus";
	else if (s->layout == GD_SWITCH && s->slots + 3 * nsw > 255)
		*why = "too many buses for a switch layout";
	else if (s->layout == GD_ROOTPORTS && s->slots > 240)
		*why = "too many root ports";
	return *why ? -EINVAL : 0;
}

static __attribute__((unused)) int gd_write(FILE *f, const struct gd_spec *s, const char **why)
{
	int r = gd_check(s, why);

	if (r < 0)
		return r;
	r = gd_host_bridge(f);
	if (r < 0)
		return r;
	if (s->layout == GD_SWITCH)
		return gd_switch_layout(f, s);
	return gd_rootport_layout(f, s);
}

static __attribute__((unused)) int gd_write_file(const char *path, const struct gd_spec *s,
						 const char **why)
{
	FILE *f = fopen(path, "w");
	int r;

	*why = NULL;
	if (!f)
		return -errno;
	r = gd_write(f, s, why);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	return r;
}

/* Writes the chassis to a new temporary file; its name goes to path. */
static __attribute__((unused)) int gd_write_tmp(const struct gd_spec *s, char *path, size_t len,
						const char **why)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd, r;

	*why = NULL;
	snprintf(path, len, "%s/mp-gendump-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(path);
		return r;
	}
	r = gd_write(f, s, why);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0)
		unlink(path);
	return r;
}

/* "1,3,5-7" into the set; -EINVAL if malformed. */
static __attribute__((unused)) int gd_parse_list(const char *arg, uint8_t *set)
{
	const char *p = arg;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (end == p)
			return -EINVAL;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p)
				return -EINVAL;
		}
		if (a > b || b >= GD_MAX_SLOT)
			return -EINVAL;
		for (unsigned long i = a; i <= b; i++)
			gd_mark(set, (unsigned)i);
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return 0;
}

#ifndef MP_GENDUMP_NO_MAIN
static void usage(FILE *f)
{
	fprintf(f, "usage: mp-gendump [-l switch|rootports] [-s SLOTS] [-f FIRST] [-p PFS] [-v VFS]\n"
		   "                  [-t TOTALVFS] [-e EMPTY] [-n NOSRIOV] [--vf-ffff] [-o FILE]\n");
}

static int num_arg(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v > 65535)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_opt(int c, struct gd_spec *s, const char **out)
{
	switch (c) {
	case 'l':
		if (strcmp(optarg, "switch") == 0)
			s->layout = GD_SWITCH;
		else if (strcmp(optarg, "rootports") == 0)
			s->layout = GD_ROOTPORTS;
		else
			return -EINVAL;
		return 0;
	case 's': return num_arg(optarg, &s->slots);
	case 'f': return num_arg(optarg, &s->first_slot);
	case 'p': return num_arg(optarg, &s->pfs);
	case 'v': return num_arg(optarg, &s->vfs);
	case 't': return num_arg(optarg, &s->total_vfs);
	case 'e': return gd_parse_list(optarg, s->empty);
	case 'n': return gd_parse_list(optarg, s->nosriov);
	case 'F': s->vf_ffff = true; return 0;
	case 'o': *out = optarg; return 0;
	default: return -EINVAL;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "layout", required_argument, NULL, 'l' }, { "slots", required_argument, NULL, 's' },
		{ "first", required_argument, NULL, 'f' },  { "pfs", required_argument, NULL, 'p' },
		{ "vfs", required_argument, NULL, 'v' },    { "total-vfs", required_argument, NULL, 't' },
		{ "empty", required_argument, NULL, 'e' },  { "no-sriov", required_argument, NULL, 'n' },
		{ "vf-ffff", no_argument, NULL, 'F' },      { "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *why;
	struct gd_spec s;
	int c, r;

	gd_spec_init(&s);
	while ((c = getopt_long(argc, argv, "l:s:f:p:v:t:e:n:o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (parse_opt(c, &s, &out) < 0) {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	r = out ? gd_write_file(out, &s, &why) : gd_write(stdout, &s, &why);
	if (r == 0 && !out && fflush(stdout) != 0)
		r = -EIO;
	if (r < 0) {
		fprintf(stderr, "mp-gendump: %s\n", why ? why : strerror(-r));
		return 1;
	}
	return 0;
}
#endif
