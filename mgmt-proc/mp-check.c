/* SPDX-License-Identifier: MIT */
/*
 * The rules a value read from a device must obey before the inventory uses it, and the
 * list of problems found when one does not. Config space is what a device says about
 * itself; a device that is broken, being removed or hostile can say anything (a
 * capability list that loops, a count beyond what it can hold, VFs on another card's
 * bus). A value that breaks a rule is reported, once, naming the device, and is not
 * used to find or count anything else; the device stays in view as far as it was read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/header.h>

#include "mp-priv.h"

/* --- the problem list --------------------------------------------------------------- */

static bool problem_known(const struct mp_problems *p, uint64_t key, const char *text)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->keys[i] == key && strcmp(p->items[i].text, text) == 0)
			return true;
	return false;
}

static int problems_grow(struct mp_problems *p)
{
	size_t n = p->alloc ? p->alloc * 2 : 16;
	struct mp_problem *items = realloc(p->items, n * sizeof(*items));
	uint64_t *keys;

	if (!items)
		return -ENOMEM;
	p->items = items;
	keys = realloc(p->keys, n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	p->keys = keys;
	p->alloc = n;
	return 0;
}

void mp_problem_add(struct mp_problems *p, const struct mp_bdf *bdf, const char *fmt, ...)
{
	char text[MP_PROBLEM_LEN], b[MP_BDF_STRLEN];
	uint64_t key = mp_bdf_key(bdf);
	va_list ap;
	int n;

	n = snprintf(text, sizeof(text), "%s: ", mp_bdf_str(bdf, b));
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	if (problem_known(p, key, text))
		return;
	if (p->count == p->alloc && problems_grow(p) < 0) {
		p->nomem = true;
		return;
	}
	p->items[p->count].bdf = *bdf;
	memcpy(p->items[p->count].text, text, sizeof(text));
	p->keys[p->count++] = key;
}

void mp_problems_free(struct mp_problems *p)
{
	free(p->items);
	free(p->keys);
	memset(p, 0, sizeof(*p));
}

/* --- capability lists ----------------------------------------------------------------- */

static inline uint16_t rd16(const uint8_t *c, unsigned pos)
{
	return (uint16_t)(c[pos] | c[pos + 1] << 8);
}

static inline uint32_t rd32(const uint8_t *c, unsigned pos)
{
	return (uint32_t)rd16(c, pos) | (uint32_t)rd16(c, pos + 2) << 16;
}

/*
 * A pointer in the standard list (PCI Local Bus 3.0 §6.7; PCIe Base 4.0 §7.5.1.1.11 and
 * §7.5.3): 0 ends the list, anything else is a dword-aligned offset in 0x40..0xfc (the
 * first 64 bytes are the header, not a capability). Returns 0 if it may be followed.
 */
static int std_ptr_check(unsigned ptr, unsigned from, const struct mp_bdf *bdf,
			 struct mp_problems *p)
{
	if (ptr & 3)
		mp_problem_add(p, bdf, "capability list: pointer 0x%02x at 0x%02x is not dword "
			       "aligned (PCIe Base 4.0 §7.5.1.1.11); capabilities from there unread",
			       ptr, from);
	else if (ptr < 0x40)
		mp_problem_add(p, bdf, "capability list: pointer 0x%02x at 0x%02x points into the "
			       "header (below 0x40, PCI 3.0 §6.7); capabilities from there unread",
			       ptr, from);
	else
		return 0;
	return -EINVAL;
}

/*
 * The standard capability list, walked to its end so that every break is seen, whatever
 * id is asked for. 48 dword places fit in 0x40..0xff: a place seen twice is a loop,
 * reported as lspci does ("chain looped"). Capabilities beyond cfg_len were not given
 * by the access method (an unprivileged reader): that is no fault of the device.
 */
unsigned mp_find_cap(const uint8_t *c, unsigned cfg_len, unsigned id, const struct mp_bdf *bdf,
		     struct mp_problems *p, bool *broken)
{
	uint64_t seen = 0;
	unsigned pos, from = PCI_CAPABILITY_LIST, found = 0;

	if (cfg_len < 64 || !(rd16(c, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	for (pos = c[PCI_CAPABILITY_LIST]; pos; pos = c[pos + PCI_CAP_LIST_NEXT]) {
		uint64_t bit;

		if (std_ptr_check(pos, from, bdf, p) < 0)
			goto broken;
		if (pos >= cfg_len)
			break;
		bit = 1ull << ((pos - 0x40) / 4);
		if (seen & bit) {
			mp_problem_add(p, bdf, "capability list: chain looped: the capability at 0x%02x "
				       "points back to 0x%02x (PCI 3.0 §6.7); capabilities from there "
				       "unread", from - PCI_CAP_LIST_NEXT, pos);
			goto broken;
		}
		seen |= bit;
		if (!found && c[pos + PCI_CAP_LIST_ID] == id)
			found = pos;
		from = pos + PCI_CAP_LIST_NEXT;
	}
	return found;
broken:
	*broken = true;
	return found;
}

/*
 * A pointer in the extended list (PCIe Base 4.0 §7.6.3): 0 ends the list, anything else
 * is a dword-aligned offset in 0x100..0xffc.
 */
static int ext_ptr_check(unsigned ptr, unsigned from, const struct mp_bdf *bdf,
			 struct mp_problems *p)
{
	if (ptr & 3)
		mp_problem_add(p, bdf, "extended capability list: the capability at 0x%03x points "
			       "to 0x%03x, not dword aligned (PCIe Base 4.0 §7.6.3); capabilities "
			       "from there unread", from, ptr);
	else if (ptr < 0x100)
		mp_problem_add(p, bdf, "extended capability list: the capability at 0x%03x points "
			       "to 0x%03x, below 0x100 (PCIe Base 4.0 §7.6.3); capabilities from "
			       "there unread", from, ptr);
	else
		return 0;
	return -EINVAL;
}

/* A bitmap of the 960 dword places of the extended space, for loop detection. */
struct ext_seen {
	uint64_t w[(0x1000 - 0x100) / 4 / 64];
};

static bool ext_seen_test_set(struct ext_seen *s, unsigned pos)
{
	unsigned i = (pos - 0x100) / 4;
	uint64_t bit = 1ull << (i % 64);
	bool was = s->w[i / 64] & bit;

	s->w[i / 64] |= bit;
	return was;
}

/*
 * The extended list from 0x100 (PCIe Base 4.0 §7.6.3): a header of 0 there means none;
 * all ones at 0x100 means the space was not given to us; all ones further on is a
 * function that stopped answering half-way. Loops are caught as in mp_find_cap().
 */
unsigned mp_find_ext_cap(const uint8_t *c, unsigned cfg_len, unsigned id,
			 const struct mp_bdf *bdf, struct mp_problems *p, bool *broken)
{
	struct ext_seen seen = { { 0 } };
	unsigned pos = 0x100, from = 0x100, found = 0;

	if (cfg_len < 0x1000 || rd32(c, pos) == 0 || rd32(c, pos) == 0xffffffff)
		return 0;
	for (; pos; pos = rd32(c, pos) >> 20) {
		uint32_t h;

		if (ext_ptr_check(pos, from, bdf, p) < 0)
			goto broken;
		if (ext_seen_test_set(&seen, pos)) {
			mp_problem_add(p, bdf, "extended capability list: chain looped: the capability "
				       "at 0x%03x points back to 0x%03x (PCIe Base 4.0 §7.6.3); "
				       "capabilities from there unread", from, pos);
			goto broken;
		}
		h = rd32(c, pos);
		if (h == 0xffffffff) {
			mp_problem_add(p, bdf, "extended capability at 0x%03x reads all ones", pos);
			goto broken;
		}
		if (!found && (h & 0xffff) == id)
			found = pos;
		from = pos;
	}
	return found;
broken:
	*broken = true;
	return found;
}

/* --- SR-IOV ------------------------------------------------------------------------- */

/* Routing ID of VF n (PCIe Base 4.0 §9.3.3.9, §9.3.3.10): PF RID + offset + n * stride. */
long mp_vf_rid(const struct mp_bdf *pf, const struct mp_sriov *s, unsigned n)
{
	long rid = (long)pf->bus << 8 | (long)pf->dev << 3 | pf->fn;

	rid += s->vf_offset + (long)n * s->vf_stride;
	return rid > 0xffff ? -1 : rid;
}

/* The counts, offset and stride on their own (PCIe Base 4.0 §9.3.3.5-10). */
static bool sriov_values_ok(const struct mp_dev *pf, struct mp_problems *p)
{
	const struct mp_sriov *s = &pf->sriov;
	const char *rest = "; no VFs listed";

	if (s->initial_vfs > s->total_vfs)
		mp_problem_add(p, &pf->bdf, "SR-IOV capability at 0x%03x broken: InitialVFs %u > "
			       "TotalVFs %u (PCIe Base 4.0 §9.3.3.5)%s", pf->sriov_pos,
			       s->initial_vfs, s->total_vfs, rest);
	else if (!s->vf_enable || s->num_vfs == 0)
		return true;
	else if (s->num_vfs > s->total_vfs)
		mp_problem_add(p, &pf->bdf, "SR-IOV capability at 0x%03x broken: NumVFs %u > "
			       "TotalVFs %u (PCIe Base 4.0 §9.3.3.7)%s", pf->sriov_pos,
			       s->num_vfs, s->total_vfs, rest);
	else if (s->vf_offset == 0)
		mp_problem_add(p, &pf->bdf, "SR-IOV capability at 0x%03x broken: First VF Offset 0 "
			       "would make VF 0 the PF itself (PCIe Base 4.0 §9.3.3.9)%s",
			       pf->sriov_pos, rest);
	else if (s->num_vfs > 1 && s->vf_stride == 0)
		mp_problem_add(p, &pf->bdf, "SR-IOV capability at 0x%03x broken: VF Stride 0 with "
			       "NumVFs %u puts every VF on one address (PCIe Base 4.0 §9.3.3.10)%s",
			       pf->sriov_pos, s->num_vfs, rest);
	else
		return true;
	return false;
}

/*
 * VF routing IDs grow with n, so the first and the last VF bound them all. Every VF must
 * sit on a bus the PF's port routes to it (PCIe Base 4.0 §9.2.1.2): a VF beyond the
 * subordinate bus would be some other card's function.
 */
static bool sriov_range_ok(const struct mp_dev *pf, unsigned lo, unsigned hi,
			   struct mp_problems *p)
{
	long first = mp_vf_rid(&pf->bdf, &pf->sriov, 0);
	long last = mp_vf_rid(&pf->bdf, &pf->sriov, pf->sriov.num_vfs - 1u);

	if (first >= 0 && last >= 0 && (unsigned)first >> 8 >= lo && (unsigned)last >> 8 <= hi)
		return true;
	mp_problem_add(p, &pf->bdf, "SR-IOV capability at 0x%03x broken: VFs 0..%u (offset %u, "
		       "stride %u) reach beyond buses %02x..%02x behind its port (PCIe Base 4.0 "
		       "§9.2.1.2); no VFs listed", pf->sriov_pos, pf->sriov.num_vfs - 1u,
		       pf->sriov.vf_offset, pf->sriov.vf_stride, lo, hi);
	return false;
}

bool mp_sriov_check(const struct mp_dev *pf, unsigned bus_lo, unsigned bus_hi,
		    struct mp_problems *p)
{
	if (!sriov_values_ok(pf, p))
		return false;
	if (!pf->sriov.vf_enable || pf->sriov.num_vfs == 0)
		return true;
	return sriov_range_ok(pf, bus_lo, bus_hi, p);
}
