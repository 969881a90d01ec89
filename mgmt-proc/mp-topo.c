/* SPDX-License-Identifier: MIT */
/*
 * From a flat list of functions to the chassis: switches (upstream ports), slots
 * (downstream ports with a slot, not leading to another switch), the PFs of the card
 * in each slot and the VFs of each PF.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pci/header.h>

#include "mp-priv.h"

static inline unsigned devfn_of(const struct mp_bdf *b)
{
	return (unsigned)b->dev << 3 | b->fn;
}

/* The functions on one bus are contiguous in the sorted list: [*first, *first + n). */
static size_t bus_range(const struct mp_devlist *l, uint32_t domain, unsigned bus,
			size_t *first)
{
	uint64_t lo_key = mp_key(domain, bus, 0), hi_key = mp_key(domain, bus, 0xff);
	size_t lo = 0, hi = l->count, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->devs[mid].key < lo_key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + n < l->count && l->devs[lo + n].key <= hi_key)
		n++;
	return n;
}

/* Routing ID of VF n (PCIe SR-IOV 1.1 §2.1.3), or -1 past the end of the RID space. */
static long vf_rid(const struct mp_bdf *pf, const struct mp_sriov *s, unsigned n)
{
	long rid = (long)pf->bus << 8 | devfn_of(pf);

	rid += s->vf_offset + (long)n * s->vf_stride;
	return rid > 0xffff ? -1 : rid;
}

static size_t vfs_of(const struct mp_dev *d)
{
	if (d->hdr_type != PCI_HEADER_TYPE_NORMAL || !d->sriov.present || !d->sriov.vf_enable)
		return 0;
	return d->sriov.num_vfs;
}

static void mark_vfs(struct mp_devlist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct mp_dev *pf = &l->devs[i];
		size_t n = vfs_of(pf);

		for (size_t v = 0; v < n; v++) {
			long rid = vf_rid(&pf->bdf, &pf->sriov, (unsigned)v);
			struct mp_dev *vf;

			if (rid < 0)
				break;
			vf = mp_devlist_find(l, mp_key(pf->bdf.domain, (unsigned)rid >> 8,
						       rid & 0xff));
			if (vf && vf != pf)
				vf->is_vf = true;
		}
	}
}

static bool is_downstream_port(const struct mp_dev *d)
{
	return d->hdr_type == PCI_HEADER_TYPE_BRIDGE && d->pcie &&
	       (d->pcie_type == PCI_EXP_TYPE_ROOT_PORT || d->pcie_type == PCI_EXP_TYPE_DOWNSTREAM);
}

static bool has_bus(const struct mp_dev *port)
{
	return port->sec_bus > port->bdf.bus && port->sub_bus >= port->sec_bus;
}

static bool is_slot(const struct mp_devlist *l, const struct mp_dev *d)
{
	size_t first, n;

	if (!is_downstream_port(d) || !d->slot_impl)
		return false;
	if (!has_bus(d))
		return true;
	n = bus_range(l, d->bdf.domain, d->sec_bus, &first);
	for (size_t i = first; i < first + n; i++) {
		const struct mp_dev *c = &l->devs[i];

		if (c->pcie && c->pcie_type == PCI_EXP_TYPE_UPSTREAM)
			return false;
	}
	return true;
}

static bool is_switch(const struct mp_dev *d)
{
	return d->hdr_type == PCI_HEADER_TYPE_BRIDGE && d->pcie &&
	       d->pcie_type == PCI_EXP_TYPE_UPSTREAM;
}

/* PFs of the card behind a slot's port: every function on its bus that is not a VF. */
static size_t count_pfs(const struct mp_devlist *l, const struct mp_dev *port,
			size_t *nvfs)
{
	size_t first, n, pfs = 0;

	if (!has_bus(port))
		return 0;
	n = bus_range(l, port->bdf.domain, port->sec_bus, &first);
	for (size_t i = first; i < first + n; i++) {
		if (l->devs[i].is_vf)
			continue;
		pfs++;
		*nvfs += vfs_of(&l->devs[i]);
	}
	return pfs;
}

/* --- filling the public structs ------------------------------------------------- */

static void os_unknown(struct mp_os *os)
{
	memset(os, 0, sizeof(*os));
	os->iommu_group = -1;
}

static void fill_port(struct mp_port *p, const struct mp_dev *d)
{
	p->bdf = d->bdf;
	p->kind = d->pcie_type == PCI_EXP_TYPE_ROOT_PORT ? MP_PORT_ROOT : MP_PORT_DOWNSTREAM;
	p->id = d->id;
	p->link = d->link;
	p->acs = d->acs;
	p->secondary_bus = d->sec_bus;
	p->subordinate_bus = d->sub_bus;
	os_unknown(&p->os);
}

static void fill_vf(struct mp_vf *vf, const struct mp_devlist *l, const struct mp_dev *pf,
		    unsigned n)
{
	long rid = vf_rid(&pf->bdf, &pf->sriov, n);
	const struct mp_dev *d = NULL;

	memset(vf, 0, sizeof(*vf));
	vf->index = n;
	os_unknown(&vf->os);
	if (rid >= 0) {
		mp_bdf_from_key(mp_key(pf->bdf.domain, (unsigned)rid >> 8, rid & 0xff), &vf->bdf);
		d = mp_devlist_find(l, mp_bdf_key(&vf->bdf));
	}
	vf->present = d && d->is_vf;
	if (vf->present && d->id.vendor_id != 0xffff) {
		vf->id = d->id;
		return;
	}
	/* A VF's Vendor and Device ID registers read all ones (SR-IOV 1.1 §3.4.1.1, .2):
	 * its identity is the PF's vendor and the VF Device ID of the PF's capability. */
	vf->id = pf->id;
	vf->id.device_id = pf->sriov.vf_device_id;
	memcpy(vf->id.device, pf->vf_device, sizeof(vf->id.device));
}

struct builder {
	struct mp_devlist *l;
	struct mp_snapshot *s;
	size_t fn_used, vf_used;
};

static void fill_function(struct builder *b, struct mp_function *f, const struct mp_dev *d,
			  unsigned index)
{
	size_t n = vfs_of(d);

	memset(f, 0, sizeof(*f));
	f->index = index;
	f->bdf = d->bdf;
	f->id = d->id;
	f->link = d->link;
	f->ari = d->ari;
	f->acs = d->acs;
	f->sriov = d->sriov;
	os_unknown(&f->os);
	f->vf_count = n;
	f->vfs = n ? &b->s->vfs[b->vf_used] : NULL;
	for (size_t v = 0; v < n; v++)
		fill_vf(&b->s->vfs[b->vf_used++], b->l, d, (unsigned)v);
}

static void fill_slot_functions(struct builder *b, struct mp_slot *slot, const struct mp_dev *port)
{
	size_t first, n;
	unsigned index = 0;

	slot->functions = &b->s->fns[b->fn_used];
	if (!has_bus(port))
		return;
	n = bus_range(b->l, port->bdf.domain, port->sec_bus, &first);
	for (size_t i = first; i < first + n; i++) {
		const struct mp_dev *d = &b->l->devs[i];

		/* A function reading all ones no longer answers: it is being removed (or
		 * its slot was powered off), so the slot does not hold it any more. */
		if (d->is_vf || d->id.vendor_id == 0xffff)
			continue;
		fill_function(b, &b->s->fns[b->fn_used++], d, index++);
	}
	slot->function_count = index;
	slot->occupied = index > 0;
}

static struct mp_switch *switch_of(struct mp_snapshot *s, const struct mp_dev *port)
{
	for (size_t i = 0; i < s->nswitches; i++) {
		struct mp_switch *sw = &s->switches[i];

		if (sw->bdf.domain == port->bdf.domain && sw->secondary_bus == port->bdf.bus)
			return sw;
	}
	return NULL;
}

static void fill_slot(struct builder *b, struct mp_slot *slot, const struct mp_dev *port)
{
	struct mp_switch *sw;

	memset(slot, 0, sizeof(*slot));
	slot->number = port->sltcap >> 19; /* PCI_EXP_SLTCAP_PSN */
	fill_port(&slot->port, port);
	slot->presence = port->sltsta & PCI_EXP_SLTSTA_PRES;
	slot->hotplug_capable = port->sltcap & PCI_EXP_SLTCAP_HPC;
	sw = port->pcie_type == PCI_EXP_TYPE_DOWNSTREAM ? switch_of(b->s, port) : NULL;
	if (sw)
		sw->slot_count++;
	slot->sw = sw;
	fill_slot_functions(b, slot, port);
}

static void fill_switch(const struct mp_devlist *l, struct mp_switch *sw, const struct mp_dev *d)
{
	memset(sw, 0, sizeof(*sw));
	sw->bdf = d->bdf;
	sw->id = d->id;
	sw->link = d->link;
	sw->acs = d->acs;
	sw->secondary_bus = d->sec_bus;
	sw->subordinate_bus = d->sub_bus;
	for (size_t i = 0; i < l->count; i++) {
		const struct mp_dev *p = &l->devs[i];

		if (p->hdr_type == PCI_HEADER_TYPE_BRIDGE && p->bdf.domain == d->bdf.domain &&
		    p->sec_bus == d->bdf.bus && has_bus(p)) {
			sw->has_parent = true;
			sw->parent = p->bdf;
			break;
		}
	}
}

/* --- ordering and the reverse index --------------------------------------------- */

static int slot_cmp(const void *a, const void *b)
{
	const struct mp_dev *x = *(const struct mp_dev *const *)a;
	const struct mp_dev *y = *(const struct mp_dev *const *)b;
	unsigned nx = x->sltcap >> 19, ny = y->sltcap >> 19;

	if (nx != ny)
		return nx < ny ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int index_cmp(const void *a, const void *b)
{
	const struct mp_index_entry *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static void build_index(struct mp_snapshot *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nslots; i++) {
		const struct mp_slot *slot = &s->slots[i];

		for (size_t p = 0; p < slot->function_count; p++) {
			const struct mp_function *f = &slot->functions[p];

			s->index[n++] = (struct mp_index_entry){ mp_bdf_key(&f->bdf),
				{ slot->number, f->index, MP_NO_VF } };
			for (size_t v = 0; v < f->vf_count; v++) {
				if (!f->vfs[v].present)
					continue;
				s->index[n++] = (struct mp_index_entry){ mp_bdf_key(&f->vfs[v].bdf),
					{ slot->number, f->index, (int)v } };
			}
		}
	}
	s->nindex = n;
	qsort(s->index, n, sizeof(*s->index), index_cmp);
}

/* --- the build ------------------------------------------------------------------ */

static int alloc_snapshot(struct mp_snapshot *s)
{
	s->slots = calloc(s->nslots ? s->nslots : 1, sizeof(*s->slots));
	s->switches = calloc(s->nswitches ? s->nswitches : 1, sizeof(*s->switches));
	s->fns = calloc(s->nfns ? s->nfns : 1, sizeof(*s->fns));
	s->vfs = calloc(s->nvfs ? s->nvfs : 1, sizeof(*s->vfs));
	s->index = calloc(s->nfns + s->nvfs + 1, sizeof(*s->index));
	if (!s->slots || !s->switches || !s->fns || !s->vfs || !s->index)
		return -ENOMEM;
	return 0;
}

/* Counts what the snapshot will hold and lists the slots' ports in slot order. */
static int collect(const struct mp_devlist *l, struct mp_snapshot *s,
		   const struct mp_dev ***ports_out)
{
	const struct mp_dev **ports;
	size_t np = 0;

	ports = calloc(l->count ? l->count : 1, sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	for (size_t i = 0; i < l->count; i++) {
		const struct mp_dev *d = &l->devs[i];

		if (is_switch(d))
			s->nswitches++;
		if (!is_slot(l, d))
			continue;
		ports[np++] = d;
		s->nfns += count_pfs(l, d, &s->nvfs);
	}
	s->nslots = np;
	qsort(ports, np, sizeof(*ports), slot_cmp);
	*ports_out = ports;
	return 0;
}

int mp_topo_build(struct mp_devlist *l, struct mp_snapshot *s, char *err)
{
	struct builder b = { .l = l, .s = s };
	const struct mp_dev **ports = NULL;
	size_t nsw = 0;
	int r;

	memset(s, 0, sizeof(*s));
	mark_vfs(l);
	r = collect(l, s, &ports);
	if (r < 0)
		goto fail;
	r = alloc_snapshot(s);
	if (r < 0)
		goto fail_ports;
	for (size_t i = 0; i < l->count; i++) {
		if (is_switch(&l->devs[i]))
			fill_switch(l, &s->switches[nsw++], &l->devs[i]);
	}
	for (size_t i = 0; i < s->nslots; i++)
		fill_slot(&b, &s->slots[i], ports[i]);
	build_index(s);
	free(ports);
	return 0;

fail_ports:
	free(ports);
fail:
	mp_snapshot_free(s);
	mp_errf(err, "out of memory");
	return r;
}

void mp_snapshot_free(struct mp_snapshot *s)
{
	free(s->slots);
	free(s->switches);
	free(s->fns);
	free(s->vfs);
	free(s->index);
	memset(s, 0, sizeof(*s));
}
