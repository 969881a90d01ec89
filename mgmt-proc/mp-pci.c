/* SPDX-License-Identifier: MIT */
/*
 * The libpci boundary. libpci reports fatal errors through pacc->error, which must not
 * return (its default calls exit(1)). Every libpci call of the library runs inside
 * guarded(): the error hook copies the message and longjmps back there, the scan fails
 * with -EIO and the library carries on. Dump files are checked before libpci sees them
 * (mp-dump.c), so the guard is a last line of defence (a file changed under us, a
 * malformed pci.ids, no access method working, out of memory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "mp-priv.h"

struct guard {
	jmp_buf jb;
	char msg[MP_ERR_LEN - 64];
};

static _Thread_local struct guard *cur_guard;

static void vmsg(char *buf, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vmsg(char *buf, size_t len, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(buf, len, fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
}

static void __attribute__((format(printf, 1, 2), noreturn)) pci_error_hook(char *fmt, ...)
{
	struct guard *g = cur_guard;
	va_list ap;

	va_start(ap, fmt);
	vmsg(g->msg, sizeof(g->msg), fmt, ap);
	va_end(ap);
	longjmp(g->jb, 1);
}

static void __attribute__((format(printf, 1, 2))) pci_quiet_hook(char *fmt, ...)
{
	(void)fmt; /* warnings (a missing pci.ids, say) and debug output: not ours to print */
}

/* State of one read; lives in memory so that it survives a longjmp. */
struct pci_read {
	const char *dump_path;
	const char *ids_file;
	struct pci_access *pacc;
	struct mp_devlist *out;
	size_t alloc;
	uint8_t cfg[4096];
};

typedef int (*guarded_fn)(struct pci_read *rd);

/* Runs fn with the error hook armed. -EIO and the message in err if libpci gave up. */
static int guarded(guarded_fn fn, struct pci_read *rd, char *err)
{
	struct guard g, *prev = cur_guard;
	int r;

	if (setjmp(g.jb)) {
		cur_guard = prev;
		mp_errf(err, "libpci: %s", g.msg);
		return -EIO;
	}
	cur_guard = &g;
	r = fn(rd);
	cur_guard = prev;
	return r;
}

/* --- config space decoding -------------------------------------------------------- */

static inline uint16_t cfg16(const uint8_t *c, unsigned pos)
{
	return (uint16_t)(c[pos] | c[pos + 1] << 8);
}

static inline uint32_t cfg32(const uint8_t *c, unsigned pos)
{
	return (uint32_t)c[pos] | (uint32_t)c[pos + 1] << 8 | (uint32_t)c[pos + 2] << 16 |
	       (uint32_t)c[pos + 3] << 24;
}

/* The part of the PCI Express capability the inventory reads (through Slot Status). */
#define PCIE_CAP_READ_LEN (PCI_EXP_SLTSTA + 2)

static void decode_link(struct mp_dev *d, const uint8_t *c, unsigned p)
{
	uint32_t lnkcap = cfg32(c, p + PCI_EXP_LNKCAP);
	uint16_t lnksta = cfg16(c, p + PCI_EXP_LNKSTA);

	d->link.valid = true;
	d->link.max_speed = lnkcap & PCI_EXP_LNKCAP_SPEED;
	d->link.max_width = (lnkcap & PCI_EXP_LNKCAP_WIDTH) >> 4;
	d->link.speed = lnksta & PCI_EXP_LNKSTA_SPEED;
	d->link.width = (lnksta & PCI_EXP_LNKSTA_WIDTH) >> 4;
	d->link.dll_active = lnksta & PCI_EXP_LNKSTA_DL_ACT;
	d->dlla_capable = lnkcap & PCI_EXP_LNKCAP_DLLA;
	d->link.dll_reporting = d->dlla_capable;
}

static void decode_pcie(struct mp_dev *d, const uint8_t *c, struct mp_problems *pr)
{
	unsigned p = mp_find_cap(c, d->cfg_len, PCI_CAP_ID_EXP, &d->bdf, pr, &d->caps_broken);
	uint16_t flags;

	if (!p)
		return;
	/* The registers read must lie inside the 256 bytes of the standard space
	 * (PCIe Base 4.0 §7.5.3): past 0xff is the extended space, not this capability. */
	if (p + PCIE_CAP_READ_LEN > 0x100) {
		mp_problem_add(pr, &d->bdf, "PCI Express capability at 0x%02x runs past 0xff "
			       "(PCIe Base 4.0 §7.5.3); not read", p);
		d->caps_broken = true;
		return;
	}
	flags = cfg16(c, p + PCI_EXP_FLAGS);
	d->pcie = true;
	d->pcie_type = (uint8_t)((flags & PCI_EXP_FLAGS_TYPE) >> 4);
	d->slot_impl = flags & PCI_EXP_FLAGS_SLOT;
	decode_link(d, c, p);
	if (d->slot_impl) {
		d->sltcap = cfg32(c, p + PCI_EXP_SLTCAP);
		d->sltsta = cfg16(c, p + PCI_EXP_SLTSTA);
	}
}

static void decode_sriov(struct mp_dev *d, const uint8_t *c, unsigned p)
{
	struct mp_sriov *s = &d->sriov;

	d->sriov_pos = p;
	s->present = true;
	s->ctrl = cfg16(c, p + PCI_IOV_CTRL);
	s->vf_enable = s->ctrl & PCI_IOV_CTRL_VFE;
	s->initial_vfs = cfg16(c, p + PCI_IOV_INITIALVF);
	s->total_vfs = cfg16(c, p + PCI_IOV_TOTALVF);
	s->num_vfs = cfg16(c, p + PCI_IOV_NUMVF);
	s->vf_offset = cfg16(c, p + PCI_IOV_OFFSET);
	s->vf_stride = cfg16(c, p + PCI_IOV_STRIDE);
	s->vf_device_id = cfg16(c, p + PCI_IOV_DID);
	s->valid = true; /* until mp-topo.c checks it against the spec and the buses */
}

/* A capability whose structure would run past the end of config space is not read. */
static bool ext_fits(struct mp_dev *d, unsigned p, unsigned len, const char *name,
		     struct mp_problems *pr)
{
	if (p + len <= 0x1000)
		return true;
	mp_problem_add(pr, &d->bdf, "%s capability at 0x%03x runs past 0xfff (PCIe Base 4.0 "
		       "§7.6.3); not read", name, p);
	d->caps_broken = true;
	return false;
}

static void decode_ext(struct mp_dev *d, const uint8_t *c, struct mp_problems *pr)
{
	bool *brk = &d->caps_broken;
	unsigned p;

	d->ari = mp_find_ext_cap(c, d->cfg_len, PCI_EXT_CAP_ID_ARI, &d->bdf, pr, brk) != 0;
	p = mp_find_ext_cap(c, d->cfg_len, PCI_EXT_CAP_ID_ACS, &d->bdf, pr, brk);
	if (p && ext_fits(d, p, PCI_ACS_CTRL + 2, "ACS", pr)) {
		d->acs.present = true;
		d->acs.cap = cfg16(c, p + PCI_ACS_CAP);
		d->acs.ctrl = cfg16(c, p + PCI_ACS_CTRL);
	}
	p = mp_find_ext_cap(c, d->cfg_len, PCI_EXT_CAP_ID_SRIOV, &d->bdf, pr, brk);
	if (p && ext_fits(d, p, PCI_IOV_SYSPS + 4, "SR-IOV", pr))
		decode_sriov(d, c, p);
}

/*
 * A function whose Vendor ID reads ffff does not answer (PCIe Base 4.0 §2.3.2: a read
 * that fails completes with all ones): nothing else in its config space means anything.
 */
static void decode(struct mp_dev *d, const uint8_t *c, struct mp_problems *pr)
{
	d->id.vendor_id = cfg16(c, PCI_VENDOR_ID);
	d->id.device_id = cfg16(c, PCI_DEVICE_ID);
	d->id.revision = c[PCI_REVISION_ID];
	d->id.class_code = cfg32(c, PCI_REVISION_ID) >> 8;
	d->hdr_type = c[PCI_HEADER_TYPE] & 0x7f;
	d->gone = d->cfg_len == 0 || d->id.vendor_id == 0xffff;
	if (d->gone)
		return;
	if (d->hdr_type == PCI_HEADER_TYPE_BRIDGE) {
		d->sec_bus = c[PCI_SECONDARY_BUS];
		d->sub_bus = c[PCI_SUBORDINATE_BUS];
	} else if (d->hdr_type == PCI_HEADER_TYPE_NORMAL) {
		d->id.subsys_vendor_id = cfg16(c, PCI_SUBSYSTEM_VENDOR_ID);
		d->id.subsys_id = cfg16(c, PCI_SUBSYSTEM_ID);
	}
	decode_pcie(d, c, pr);
	decode_ext(d, c, pr);
}

/* --- reading through libpci -------------------------------------------------------- */

/* A name from pci.ids into the scan's pool; "" when the id is not listed. */
static const char *lookup(struct pci_access *pacc, struct mp_names *pool, int what,
			  unsigned a, unsigned b)
{
	int fl = PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB | what;
	char buf[MP_NAME_LEN];

	if (!pci_lookup_name(pacc, buf, sizeof(buf), fl, a, b))
		return "";
	return mp_names_add(pool, buf);
}

static void lookup_names(struct pci_access *pacc, struct mp_names *pool, struct mp_dev *d)
{
	struct mp_ident *id = &d->id;

	id->vendor = lookup(pacc, pool, PCI_LOOKUP_VENDOR, id->vendor_id, 0);
	id->device = lookup(pacc, pool, PCI_LOOKUP_DEVICE, id->vendor_id, id->device_id);
	id->class_name = lookup(pacc, pool, PCI_LOOKUP_CLASS, id->class_code >> 8, 0);
	d->vf_device = d->sriov.present ? lookup(pacc, pool, PCI_LOOKUP_DEVICE, id->vendor_id,
						 d->sriov.vf_device_id) : "";
}

/*
 * The whole config space, as far as the access method gives it: the first 64 bytes
 * (all an unprivileged reader gets from sysfs), 256, then the extended space. What
 * cannot be read stays all ones, which no capability walk follows.
 */
static unsigned read_config(struct pci_dev *pd, uint8_t *cfg)
{
	memset(cfg, 0xff, 4096);
	if (!pci_read_block(pd, 0, cfg, 256)) {
		memset(cfg, 0xff, 256);
		if (!pci_read_block(pd, 0, cfg, 64)) {
			memset(cfg, 0xff, 64);
			return 0;
		}
		return 64;
	}
	if (!pci_read_block(pd, 256, cfg + 256, 4096 - 256)) {
		memset(cfg + 256, 0xff, 4096 - 256);
		return 256;
	}
	return 4096;
}

static int add_dev(struct pci_read *rd, struct pci_dev *pd)
{
	struct mp_devlist *l = rd->out;
	struct mp_dev *d;

	if (l->count == rd->alloc) {
		size_t n = rd->alloc ? rd->alloc * 2 : 64;
		struct mp_dev *p = realloc(l->devs, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->devs = p;
		rd->alloc = n;
	}
	d = &l->devs[l->count];
	memset(d, 0, sizeof(*d));
	d->bdf = (struct mp_bdf){ (uint32_t)pd->domain, pd->bus, pd->dev, pd->func };
	d->key = mp_bdf_key(&d->bdf);
	d->cfg_len = read_config(pd, rd->cfg);
	decode(d, rd->cfg, &l->problems);
	lookup_names(rd->pacc, &l->names, d);
	l->count++;
	return 0;
}

static int do_read(struct pci_read *rd)
{
	struct pci_access *pacc;

	rd->pacc = pacc = pci_alloc();
	if (!pacc)
		return -ENOMEM;
	pacc->error = pci_error_hook;
	pacc->warning = pci_quiet_hook;
	pacc->debug = pci_quiet_hook;
	if (rd->ids_file)
		pci_set_name_list_path(pacc, (char *)(uintptr_t)rd->ids_file, 0);
	if (rd->dump_path) {
		pacc->method = PCI_ACCESS_DUMP;
		static char param[] = "dump.name";

		if (pci_set_param(pacc, param, (char *)(uintptr_t)rd->dump_path) < 0)
			return -EINVAL;
	}
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (struct pci_dev *pd = pacc->devices; pd; pd = pd->next) {
		int r = add_dev(rd, pd);

		if (r < 0)
			return r;
	}
	return 0;
}

static int do_cleanup(struct pci_read *rd)
{
	pci_cleanup(rd->pacc);
	rd->pacc = NULL;
	return 0;
}

static int dev_cmp(const void *a, const void *b)
{
	const struct mp_dev *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

int mp_pci_read(const char *dump_path, const char *ids_file, struct mp_devlist *out,
		char *err)
{
	struct pci_read *rd;
	int r;

	memset(out, 0, sizeof(*out));
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->dump_path = dump_path;
	rd->ids_file = ids_file;
	rd->out = out;
	r = guarded(do_read, rd, err);
	if (r == -ENOMEM)
		mp_errf(err, "out of memory");
	/* After a longjmp libpci's state is whatever it was; cleaning up is still the
	 * best bet, and if that fails too the handle is leaked rather than touched. */
	if (rd->pacc && guarded(do_cleanup, rd, r < 0 ? NULL : err) < 0 && r == 0)
		r = -EIO;
	if (r == 0 && (out->problems.nomem || out->names.nomem)) {
		mp_errf(err, "out of memory");
		r = -ENOMEM;
	}
	if (r < 0)
		mp_devlist_free(out);
	else
		qsort(out->devs, out->count, sizeof(*out->devs), dev_cmp);
	free(rd);
	return r;
}

void mp_devlist_free(struct mp_devlist *l)
{
	mp_problems_free(&l->problems);
	mp_names_free(&l->names);
	free(l->devs);
	l->devs = NULL;
	l->count = 0;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The bucket holding s, or the empty one where it would go. */
static uint32_t *name_bucket(const struct mp_names *n, const char *s)
{
	size_t mask = 2 * n->alloc - 1, i = name_hash(s) & mask;

	while (n->buckets[i] && strcmp(n->v[n->buckets[i] - 1], s) != 0)
		i = (i + 1) & mask;
	return &n->buckets[i];
}

static int names_grow(struct mp_names *n)
{
	size_t na = n->alloc ? n->alloc * 2 : 16;
	char **v = realloc(n->v, na * sizeof(*v));
	uint32_t *b;

	if (!v)
		return -ENOMEM;
	n->v = v;
	b = calloc(2 * na, sizeof(*b));
	if (!b)
		return -ENOMEM;
	free(n->buckets);
	n->buckets = b;
	n->alloc = na;
	for (size_t i = 0; i < n->count; i++)
		*name_bucket(n, n->v[i]) = (uint32_t)i + 1;
	return 0;
}

const char *mp_names_add(struct mp_names *n, const char *s)
{
	uint32_t *b;
	char *copy;

	if (!*s)
		return "";
	if (n->alloc) {
		b = name_bucket(n, s);
		if (*b)
			return n->v[*b - 1];
	}
	if (n->count == n->alloc && names_grow(n) < 0)
		goto nomem;
	copy = strdup(s);
	if (!copy)
		goto nomem;
	n->v[n->count++] = copy;
	*name_bucket(n, copy) = (uint32_t)n->count;
	return copy;

nomem:
	n->nomem = true;
	return "";
}

void mp_names_free(struct mp_names *n)
{
	for (size_t i = 0; i < n->count; i++)
		free(n->v[i]);
	free(n->v);
	free(n->buckets);
	memset(n, 0, sizeof(*n));
}

struct mp_dev *mp_devlist_find(const struct mp_devlist *l, uint64_t key)
{
	size_t lo = 0, hi = l->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->devs[mid].key == key)
			return &l->devs[mid];
		if (l->devs[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
