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

/* The functions on buses lo..hi are contiguous in the sorted list: [*first, *first + n). */
static size_t buses_range(const struct mp_devlist *l, uint32_t domain, unsigned lo_bus,
			  unsigned hi_bus, size_t *first)
{
	uint64_t lo_key = mp_key(domain, lo_bus, 0), hi_key = mp_key(domain, hi_bus, 0xff);
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

static size_t bus_range(const struct mp_devlist *l, uint32_t domain, unsigned bus,
			size_t *first)
{
	return buses_range(l, domain, bus, bus, first);
}

static size_t vfs_of(const struct mp_dev *d)
{
	if (d->hdr_type != PCI_HEADER_TYPE_NORMAL || d->gone || !d->sriov.present ||
	    !d->sriov.valid || !d->sriov.vf_enable)
		return 0;
	return d->sriov.num_vfs;
}

/* Bus numbers are assigned: primary < secondary <= subordinate (PCIe Base 4.0 §7.5.1.3). */
static bool has_bus(const struct mp_dev *port)
{
	return port->sec_bus > port->bdf.bus && port->sub_bus >= port->sec_bus;
}

/* The bridge whose secondary bus is bus (the port above a function there), or NULL. */
static const struct mp_dev *bridge_above(const struct mp_devlist *l, uint32_t domain,
					 unsigned bus)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct mp_dev *p = &l->devs[i];

		if (p->hdr_type == PCI_HEADER_TYPE_BRIDGE && !p->gone && p->bdf.domain == domain &&
		    p->sec_bus == bus && has_bus(p))
			return p;
	}
	return NULL;
}

/*
 * Checks each PF's SR-IOV capability (mp_sriov_check) against the buses its port routes
 * (a PF on a root bus: any bus), then marks the functions its VFs land on. A PF whose
 * capability breaks a rule gets no VFs: its arithmetic could name any function.
 */
static void mark_vfs(struct mp_devlist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		struct mp_dev *pf = &l->devs[i];
		const struct mp_dev *up;
		size_t n;

		if (!pf->sriov.present || pf->gone)
			continue;
		up = bridge_above(l, pf->bdf.domain, pf->bdf.bus);
		pf->sriov.valid = mp_sriov_check(pf, up ? up->sec_bus : 0, up ? up->sub_bus : 0xff,
						 &l->problems);
		n = vfs_of(pf);
		for (size_t v = 0; v < n; v++) {
			long rid = mp_vf_rid(&pf->bdf, &pf->sriov, (unsigned)v);
			struct mp_dev *vf = mp_devlist_find(l, mp_key(pf->bdf.domain,
								  (unsigned)rid >> 8, rid & 0xff));

			if (vf && vf != pf)
				vf->is_vf = true;
		}
	}
}

static bool is_downstream_port(const struct mp_dev *d)
{
	return d->hdr_type == PCI_HEADER_TYPE_BRIDGE && !d->gone && d->pcie &&
	       (d->pcie_type == PCI_EXP_TYPE_ROOT_PORT || d->pcie_type == PCI_EXP_TYPE_DOWNSTREAM);
}

static bool is_switch(const struct mp_dev *d)
{
	return d->hdr_type == PCI_HEADER_TYPE_BRIDGE && !d->gone && d->pcie &&
	       d->pcie_type == PCI_EXP_TYPE_UPSTREAM;
}

/*
 * A bridge whose capability list broke before its PCI Express capability was reached,
 * where only ports to slots sit: on a switch's internal bus (which holds downstream
 * ports only, PCIe Base 4.0 §1.3.3) or on a root bus. It is kept in view as a slot,
 * unreadable, rather than dropped.
 */
static bool is_blind_port(const struct mp_devlist *l, const struct mp_dev *d)
{
	const struct mp_dev *up;

	if (d->hdr_type != PCI_HEADER_TYPE_BRIDGE || d->gone || d->pcie || !d->caps_broken)
		return false;
	up = bridge_above(l, d->bdf.domain, d->bdf.bus);
	return !up || is_switch(up);
}

static bool leads_to_switch(const struct mp_devlist *l, const struct mp_dev *d)
{
	size_t first, n = bus_range(l, d->bdf.domain, d->sec_bus, &first);

	for (size_t i = first; i < first + n; i++)
		if (is_switch(&l->devs[i]))
			return true;
	return false;
}

static bool is_slot(const struct mp_devlist *l, const struct mp_dev *d)
{
	if (!(is_downstream_port(d) && d->slot_impl) && !is_blind_port(l, d))
		return false;
	return !has_bus(d) || !leads_to_switch(l, d);
}

/* A function whose capabilities cannot be trusted: it may have VFs nobody can place. */
static bool is_suspect(const struct mp_dev *d)
{
	return d->gone || d->caps_broken || (d->sriov.present && !d->sriov.valid);
}

/* A function shown as one of the card's PFs. */
static bool is_listed_pf(const struct mp_dev *d)
{
	return !d->is_vf && !d->unclaimed && !d->gone;
}

/* --- slots' ports ----------------------------------------------------------------- */

struct slot_port {
	struct mp_dev *d;
	unsigned number; /* MP_SLOT_NUMBER_UNKNOWN when its capability was not reached */
	bool ok;         /* its registers could be read and make sense */
};

/*
 * A slot's bus range: unassigned (0/0, a port firmware left alone), or primary <
 * secondary <= subordinate inside the range of the bridge above (PCIe Base 4.0
 * §7.5.1.3; each bus sits behind exactly one bridge).
 */
static bool port_buses_ok(const struct mp_devlist *l, const struct mp_dev *d,
			  struct mp_problems *p)
{
	const struct mp_dev *up;

	if (d->sec_bus == 0 && d->sub_bus == 0)
		return true;
	if (!has_bus(d)) {
		mp_problem_add(p, &d->bdf, "bridge bus numbers broken: secondary %02x, subordinate "
			       "%02x on bus %02x (must be bus < secondary <= subordinate, PCIe Base "
			       "4.0 §7.5.1.3); nothing behind it read", d->sec_bus, d->sub_bus,
			       d->bdf.bus);
		return false;
	}
	up = bridge_above(l, d->bdf.domain, d->bdf.bus);
	if (up && d->sub_bus > up->sub_bus) {
		mp_problem_add(p, &d->bdf, "bridge buses %02x..%02x reach beyond %02x..%02x of the "
			       "bridge above (PCIe Base 4.0 §7.5.1.3); nothing behind it read",
			       d->sec_bus, d->sub_bus, up->sec_bus, up->sub_bus);
		return false;
	}
	return true;
}

/* Two slots' ports claiming one bus: neither can be believed. */
static void check_overlaps(struct slot_port *ports, size_t n, struct mp_problems *p)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			const struct mp_dev *a = ports[i].d, *b = ports[j].d;

			if (i == j || !has_bus(a) || !has_bus(b) || a->bdf.domain != b->bdf.domain ||
			    a->sec_bus > b->sub_bus || b->sec_bus > a->sub_bus)
				continue;
			mp_problem_add(p, &a->bdf, "bridge buses %02x..%02x overlap %02x..%02x of port "
				       "%02x:%02x.%x (a bus sits behind one bridge, PCIe Base 4.0 "
				       "§7.5.1.3); nothing behind it read", a->sec_bus, a->sub_bus,
				       b->sec_bus, b->sub_bus, b->bdf.bus, b->bdf.dev, b->bdf.fn);
			ports[i].ok = false;
		}
	}
}

/* The Physical Slot Number, or the one this port had in the previous scan. */
static unsigned port_number(const struct mp_dev *d, const struct mp_snapshot *prev,
			    struct mp_problems *p)
{
	if (d->pcie)
		return d->sltcap >> 19; /* PCI_EXP_SLTCAP_PSN, PCIe Base 4.0 §7.5.3.9 */
	for (size_t i = 0; prev && i < prev->nslots; i++) {
		const struct mp_slot *s = &prev->slots[i];

		if (mp_bdf_eq(&s->port.bdf, &d->bdf) && s->number != MP_SLOT_NUMBER_UNKNOWN) {
			mp_problem_add(p, &d->bdf, "slot number unreadable (its PCI Express "
				       "capability was not reached); slot %u in the last scan", s->number);
			return s->number;
		}
	}
	mp_problem_add(p, &d->bdf, "slot number unreadable (its PCI Express capability was "
		       "not reached)");
	return MP_SLOT_NUMBER_UNKNOWN;
}

/*
 * Numbers must be unique within the chassis and 0 is for devices on the board (PCIe
 * Base 4.0 §7.5.3.9). A repeated number is reported on both ports; both stay listed
 * and mp_slot_find() returns the first.
 */
static void check_numbers(const struct slot_port *ports, size_t n, struct mp_problems *p)
{
	for (size_t i = 0; i < n; i++) {
		const struct mp_dev *d = ports[i].d, *o;

		if (ports[i].number == 0)
			mp_problem_add(p, &d->bdf, "Physical Slot Number 0 is for a device on the "
				       "board, not a slot (PCIe Base 4.0 §7.5.3.9)");
		if (i == 0 || ports[i].number != ports[i - 1].number ||
		    ports[i].number == MP_SLOT_NUMBER_UNKNOWN)
			continue;
		o = ports[i - 1].d;
		mp_problem_add(p, &d->bdf, "Physical Slot Number %u is also port %02x:%02x.%x's "
			       "(must be unique in the chassis, PCIe Base 4.0 §7.5.3.9)",
			       ports[i].number, o->bdf.bus, o->bdf.dev, o->bdf.fn);
		mp_problem_add(p, &o->bdf, "Physical Slot Number %u is also port %02x:%02x.%x's "
			       "(must be unique in the chassis, PCIe Base 4.0 §7.5.3.9)",
			       ports[i].number, d->bdf.bus, d->bdf.dev, d->bdf.fn);
	}
}

/*
 * Behind a slot, in routing-ID order: once a function cannot be trusted (it does not
 * answer, its capabilities cannot be walked, its SR-IOV capability is broken), any
 * function after it that no valid SR-IOV capability claims may be one of its VFs
 * (a VF's routing ID is above its PF's, PCIe Base 4.0 §9.3.3.9): it is not shown as
 * a PF. Functions that do not answer are reported here too.
 */
static void mark_unclaimed(struct mp_devlist *l, const struct mp_dev *port)
{
	const struct mp_dev *suspect = NULL;
	char b[MP_BDF_STRLEN];
	size_t first, n;

	n = buses_range(l, port->bdf.domain, port->sec_bus, port->sub_bus, &first);
	for (size_t i = first; i < first + n; i++) {
		struct mp_dev *d = &l->devs[i];

		if (d->is_vf)
			continue;
		if (suspect) {
			d->unclaimed = true;
			mp_problem_add(&l->problems, &d->bdf, "not counted as a PF: no valid SR-IOV "
				       "capability accounts for it and it may be a VF of %s",
				       mp_bdf_str(&suspect->bdf, b));
			continue;
		}
		if (d->gone)
			mp_problem_add(&l->problems, &d->bdf, "does not answer: config space reads "
				       "all ones (Vendor ID ffff is invalid, PCI 3.0 §6.2.1)");
		if (is_suspect(d))
			suspect = d;
	}
}

/* --- filling the public structs ------------------------------------------------- */

static void os_unknown(struct mp_os *os)
{
	*os = (struct mp_os){ .iommu_group = -1, .driver = "", .netdev = "", .driver_override = "" };
}

static void fill_port(struct mp_port *p, const struct mp_devlist *l, const struct mp_dev *d)
{
	p->bdf = d->bdf;
	if (d->pcie)
		p->kind = d->pcie_type == PCI_EXP_TYPE_ROOT_PORT ? MP_PORT_ROOT : MP_PORT_DOWNSTREAM;
	else
		p->kind = bridge_above(l, d->bdf.domain, d->bdf.bus) ? MP_PORT_DOWNSTREAM : MP_PORT_ROOT;
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
	long rid = mp_vf_rid(&pf->bdf, &pf->sriov, n);
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
	vf->id.device = pf->vf_device;
}

struct builder {
	struct mp_devlist *l;
	struct mp_snapshot *s;
	size_t fn_used, vf_used, pb_used;
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
	f->caps_unreadable = d->caps_broken;
	os_unknown(&f->os);
	f->vf_count = n;
	f->vfs = n ? &b->s->vfs[b->vf_used] : NULL;
	for (size_t v = 0; v < n; v++)
		fill_vf(&b->s->vfs[b->vf_used++], b->l, d, (unsigned)v);
}

/* PFs of the card behind a slot's port: the functions on its bus listed as PFs. */
static size_t count_pfs(const struct mp_devlist *l, const struct slot_port *sp, size_t *nvfs)
{
	size_t first, n, pfs = 0;

	if (!sp->ok || !has_bus(sp->d))
		return 0;
	n = bus_range(l, sp->d->bdf.domain, sp->d->sec_bus, &first);
	for (size_t i = first; i < first + n; i++) {
		if (!is_listed_pf(&l->devs[i]))
			continue;
		pfs++;
		*nvfs += vfs_of(&l->devs[i]);
	}
	return pfs;
}

static void fill_slot_functions(struct builder *b, struct mp_slot *slot,
				const struct slot_port *sp)
{
	const struct mp_dev *port = sp->d;
	size_t first, n;
	unsigned index = 0;

	slot->functions = &b->s->fns[b->fn_used];
	if (!sp->ok || !has_bus(port))
		return;
	n = bus_range(b->l, port->bdf.domain, port->sec_bus, &first);
	for (size_t i = first; i < first + n; i++) {
		const struct mp_dev *d = &b->l->devs[i];

		if (is_listed_pf(d))
			fill_function(b, &b->s->fns[b->fn_used++], d, index++);
	}
	slot->function_count = index;
	slot->occupied = index > 0;
}

/*
 * The link is known to be down: Data Link Layer Link Active clear on a port that reports
 * it (PCIe Base 4.0 §7.5.3.6, §7.5.3.8), or no negotiated width.
 */
static bool link_down(const struct mp_dev *port)
{
	return (port->dlla_capable && !port->link.dll_active) || port->link.width == 0;
}

/* The slot's state (mp.h has the order of the rules). */
static enum mp_slot_state slot_state(const struct mp_devlist *l, const struct slot_port *sp,
				     const struct mp_slot *slot)
{
	bool gone = false, suspect = false;
	size_t first, n = 0;

	if (!sp->ok)
		return MP_SLOT_UNREADABLE;
	if (has_bus(sp->d))
		n = buses_range(l, sp->d->bdf.domain, sp->d->sec_bus, sp->d->sub_bus, &first);
	for (size_t i = 0; i < n; i++) {
		const struct mp_dev *d = &l->devs[first + i];

		if (d->is_vf)
			continue;
		if (d->unclaimed)
			suspect = true;
		else if (d->gone)
			gone = true;
		else if (is_suspect(d))
			suspect = true;
	}
	if (gone)
		return MP_SLOT_NOT_RESPONDING;
	if (suspect)
		return MP_SLOT_UNREADABLE;
	if (slot->function_count)
		return MP_SLOT_OCCUPIED;
	/* Nothing behind a port whose link is up, or not known to be down: on a live
	 * system a hot-plug in progress (the OS lists no function of the card yet, or
	 * any more); presence shows as read. */
	return slot->presence && link_down(sp->d) ? MP_SLOT_LINK_DOWN : MP_SLOT_EMPTY;
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

/* Problems of the port and of every function on its buses, copied for the slot. */
static void fill_slot_problems(struct builder *b, struct mp_slot *slot, const struct mp_dev *port)
{
	const struct mp_problems *p = &b->l->problems;
	bool range = has_bus(port);

	slot->problems = &b->s->problems[b->pb_used];
	for (size_t i = 0; i < p->count; i++) {
		const struct mp_bdf *d = &p->items[i].bdf;

		if (mp_bdf_eq(d, &port->bdf) || (range && d->domain == port->bdf.domain &&
						 d->bus >= port->sec_bus && d->bus <= port->sub_bus))
			b->s->problems[b->pb_used++] = p->items[i];
	}
	slot->problem_count = (size_t)(&b->s->problems[b->pb_used] - slot->problems);
}

static void fill_slot(struct builder *b, struct mp_slot *slot, const struct slot_port *sp)
{
	const struct mp_dev *port = sp->d;
	struct mp_switch *sw;

	memset(slot, 0, sizeof(*slot));
	slot->number = sp->number;
	fill_port(&slot->port, b->l, port);
	slot->presence = port->sltsta & PCI_EXP_SLTSTA_PRES;
	slot->hotplug_capable = port->sltcap & PCI_EXP_SLTCAP_HPC;
	sw = slot->port.kind == MP_PORT_DOWNSTREAM ? switch_of(b->s, port) : NULL;
	if (sw)
		sw->slot_count++;
	slot->sw = sw;
	fill_slot_functions(b, slot, sp);
	slot->state = slot_state(b->l, sp, slot);
	fill_slot_problems(b, slot, port);
}

static void fill_switch(const struct mp_devlist *l, struct mp_switch *sw, const struct mp_dev *d)
{
	const struct mp_dev *up = bridge_above(l, d->bdf.domain, d->bdf.bus);

	memset(sw, 0, sizeof(*sw));
	sw->bdf = d->bdf;
	sw->id = d->id;
	sw->link = d->link;
	sw->acs = d->acs;
	sw->secondary_bus = d->sec_bus;
	sw->subordinate_bus = d->sub_bus;
	if (up) {
		sw->has_parent = true;
		sw->parent = up->bdf;
	}
}

/* --- ordering and the reverse index --------------------------------------------- */

static int slot_cmp(const void *a, const void *b)
{
	const struct slot_port *x = a, *y = b;

	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return x->d->key < y->d->key ? -1 : x->d->key > y->d->key;
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

		for (size_t p = 0; p < slot->function_count &&
				   slot->number != MP_SLOT_NUMBER_UNKNOWN; p++) {
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

static int alloc_snapshot(struct mp_snapshot *s, size_t slot_problems)
{
	s->slots = calloc(s->nslots ? s->nslots : 1, sizeof(*s->slots));
	s->switches = calloc(s->nswitches ? s->nswitches : 1, sizeof(*s->switches));
	s->fns = calloc(s->nfns ? s->nfns : 1, sizeof(*s->fns));
	s->vfs = calloc(s->nvfs ? s->nvfs : 1, sizeof(*s->vfs));
	s->index = calloc(s->nfns + s->nvfs + 1, sizeof(*s->index));
	s->problems = calloc(slot_problems + s->nproblems + 1, sizeof(*s->problems));
	if (!s->slots || !s->switches || !s->fns || !s->vfs || !s->index || !s->problems)
		return -ENOMEM;
	return 0;
}

/* The slots' ports with their numbers, checked, in slot order. */
static int list_ports(struct mp_devlist *l, const struct mp_snapshot *prev,
		      struct slot_port **out, size_t *count)
{
	struct slot_port *ports = calloc(l->count ? l->count : 1, sizeof(*ports));
	size_t np = 0;

	if (!ports)
		return -ENOMEM;
	for (size_t i = 0; i < l->count; i++) {
		struct mp_dev *d = &l->devs[i];

		if (!is_slot(l, d))
			continue;
		ports[np].d = d;
		ports[np].number = port_number(d, prev, &l->problems);
		ports[np++].ok = d->pcie && port_buses_ok(l, d, &l->problems);
	}
	check_overlaps(ports, np, &l->problems);
	qsort(ports, np, sizeof(*ports), slot_cmp);
	check_numbers(ports, np, &l->problems);
	for (size_t i = 0; i < np; i++)
		if (ports[i].ok && has_bus(ports[i].d))
			mark_unclaimed(l, ports[i].d);
	*out = ports;
	*count = np;
	return 0;
}

/* Counts what the snapshot will hold; the slots' problems may repeat (overlaps). */
static size_t count_all(const struct mp_devlist *l, const struct slot_port *ports,
			struct mp_snapshot *s)
{
	size_t slot_problems = 0;

	for (size_t i = 0; i < l->count; i++)
		if (is_switch(&l->devs[i]))
			s->nswitches++;
	for (size_t i = 0; i < s->nslots; i++)
		s->nfns += count_pfs(l, &ports[i], &s->nvfs);
	s->nproblems = l->problems.count;
	/* Each problem belongs to at most as many slots as there are: bound generously. */
	for (size_t i = 0; i < s->nslots; i++)
		slot_problems += s->nproblems;
	return slot_problems;
}

int mp_topo_build(struct mp_devlist *l, struct mp_snapshot *s, const struct mp_snapshot *prev,
		  char *err)
{
	struct builder b = { .l = l, .s = s };
	struct slot_port *ports = NULL;
	size_t nsw = 0;
	int r;

	memset(s, 0, sizeof(*s));
	mark_vfs(l);
	r = list_ports(l, prev, &ports, &s->nslots);
	if (r < 0)
		goto fail;
	r = l->problems.nomem ? -ENOMEM : alloc_snapshot(s, count_all(l, ports, s));
	if (r < 0)
		goto fail_ports;
	for (size_t i = 0; i < l->count; i++) {
		if (is_switch(&l->devs[i]))
			fill_switch(l, &s->switches[nsw++], &l->devs[i]);
	}
	for (size_t i = 0; i < s->nslots; i++)
		fill_slot(&b, &s->slots[i], &ports[i]);
	/* After the slots' copies: every problem once, in the order found. */
	if (s->nproblems)
		memcpy(&s->problems[b.pb_used], l->problems.items, s->nproblems * sizeof(*s->problems));
	s->all_problems = &s->problems[b.pb_used];
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
	free(s->problems);
	mp_names_free(&s->names);
	memset(s, 0, sizeof(*s));
}
