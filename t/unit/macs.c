/* SPDX-License-Identifier: MIT */
/*
 * The chassis' MAC rule (cmc/macs.h): every default MAC is a locally administered
 * unicast address, the layout is the documented one, each chassis position has its own
 * MAC, two chassis with different identities never share a default (exhaustively for a
 * few pairs, and over every position for many random pairs), the chassis' own range is
 * what the rule gives and nothing else, and identities parse and draw within range.
 */
#include "macs.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define POSITIONS ((CMC_MAC_SLOT_MAX + 1) * (CMC_MAC_PF_MAX + 1) * (CMC_MAC_VF_MAX + 1))

static uint64_t mac_u64(const uint8_t m[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | m[i];
	return v;
}

/* Every default of chassis id, as 48-bit numbers, sorted. */
static int all_defaults(uint32_t id, uint64_t *out)
{
	unsigned n = 0;
	uint8_t m[6];

	for (unsigned s = 0; s <= CMC_MAC_SLOT_MAX; s++)
		for (unsigned p = 0; p <= CMC_MAC_PF_MAX; p++)
			for (unsigned v = 0; v <= CMC_MAC_VF_MAX; v++) {
				if (cmc_mac_vf_default(id, s, p, v, m) < 0)
					return -1;
				out[n++] = mac_u64(m);
			}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Number of values two sorted arrays share. */
static unsigned shared(const uint64_t *a, const uint64_t *b, unsigned n)
{
	unsigned i = 0, j = 0, k = 0;

	while (i < n && j < n) {
		if (a[i] == b[j])
			k++, i++, j++;
		else if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return k;
}

static void test_layout(void)
{
	uint8_t m[6];
	const uint8_t want[6] = { 0x2a << 2 | 0x02, 0x3b, 0x4c, 0x5d, 3, 1 << 5 | 6 };

	tap_is_int(cmc_mac_vf_default(0x2a3b4c5d, 3, 1, 6, m), 0, "default of slot 3 pf 1 vf 6");
	tap_ok(memcmp(m, want, 6) == 0, "laid out as documented: %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
	       m[3], m[4], m[5]);
	tap_ok((m[0] & 0x03) == 0x02, "locally administered (U/L set) and unicast (I/G clear)");
	tap_ok(cmc_mac_in_chassis_range(0x2a3b4c5d, m), "in its chassis' own range");
	tap_ok(!cmc_mac_in_chassis_range(0x2a3b4c5c, m), "not in a neighbouring chassis' range");
	memset(m, 0xee, 6);
	tap_is_int(cmc_mac_vf_default(0, 1, 0, 0, m), -ERANGE, "chassis id 0: refused");
	tap_is_int(cmc_mac_vf_default(CMC_CHASSIS_ID_MAX + 1, 1, 0, 0, m), -ERANGE, "chassis id past 30 bits: refused");
	tap_is_int(cmc_mac_vf_default(1, 256, 0, 0, m), -ERANGE, "slot 256: refused");
	tap_is_int(cmc_mac_vf_default(1, 1, 8, 0, m), -ERANGE, "pf 8: refused");
	tap_is_int(cmc_mac_vf_default(1, 1, 0, 16, m), -ERANGE, "vf 16: refused (16..31 are the profiles' pool)");
	tap_ok(m[0] == 0xee && m[5] == 0xee, "a refused call leaves the MAC alone");
	tap_ok(!cmc_mac_in_chassis_range(0, (const uint8_t[6]){ 0x02, 0, 0, 0, 1, 0 }), "id 0 has no range");
}

/* Every bit of the id shows in the MAC, and the LA/unicast bits hold for the extremes. */
static void test_bits(void)
{
	uint8_t a[6], b[6];
	int ok = 1;

	for (unsigned bit = 0; bit < 30; bit++) {
		uint32_t id = 1u << bit, other = id ^ 0x1u;

		if (!other)
			other = 2;
		if (cmc_mac_vf_default(id, 7, 0, 0, a) || cmc_mac_vf_default(other, 7, 0, 0, b) ||
		    memcmp(a, b, 6) == 0 || (a[0] & 3) != 2)
			ok = 0;
	}
	tap_ok(ok, "each of the 30 id bits changes the MAC; every MAC is LA unicast");
	tap_ok(cmc_mac_vf_default(CMC_CHASSIS_ID_MAX, 255, 7, 15, a) == 0 && a[0] == 0xfe && a[5] == 0xef,
	       "the largest id and position: fe:ff:ff:ff:ff:ef");
}

static void test_unique_in_chassis(uint64_t *x)
{
	unsigned dups = 0;

	all_defaults(0x155aa5, x);
	qsort(x, POSITIONS, sizeof(*x), cmp_u64);
	for (unsigned i = 1; i < POSITIONS; i++)
		dups += x[i] == x[i - 1];
	tap_is_int(dups, 0, "all %u positions of one chassis have distinct MACs", POSITIONS);
}

/* Two chassis' defaults never collide: exhaustively for pairs that differ in one bit
 * (the likeliest to alias), and for 200 random pairs. */
static void test_two_chassis(uint64_t *x, uint64_t *y)
{
	static const uint32_t pairs[][2] = {
		{ 1, 2 }, { 0x000001, 0x01000001 }, { 0x3fffffff, 0x3ffffffe }, { 0x100, 0x1 }, { 0x20000000, 0x1 },
	};
	unsigned total = 0, random_pairs = 0;

	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		all_defaults(pairs[p][0], x);
		all_defaults(pairs[p][1], y);
		qsort(x, POSITIONS, sizeof(*x), cmp_u64);
		qsort(y, POSITIONS, sizeof(*y), cmp_u64);
		tap_is_int(shared(x, y, POSITIONS), 0, "chassis 0x%08x and 0x%08x share no default MAC",
			   pairs[p][0], pairs[p][1]);
	}
	srand(7);
	for (unsigned k = 0; k < 200; k++) {
		uint32_t a = ((uint32_t)rand() << 8 ^ (uint32_t)rand()) & CMC_CHASSIS_ID_MAX;
		uint32_t b = ((uint32_t)rand() << 8 ^ (uint32_t)rand()) & CMC_CHASSIS_ID_MAX;

		if (!a || !b || a == b)
			continue;
		random_pairs++;
		all_defaults(a, x);
		all_defaults(b, y);
		qsort(x, POSITIONS, sizeof(*x), cmp_u64);
		qsort(y, POSITIONS, sizeof(*y), cmp_u64);
		total += shared(x, y, POSITIONS);
	}
	tap_is_int(total, 0, "%u random pairs of chassis: no default MAC in common", random_pairs);
}

static void test_ids(void)
{
	uint32_t id = 0;
	int ok = 1;

	tap_ok(cmc_chassis_id_parse("0x2a3b4c5d", &id) == 0 && id == 0x2a3b4c5d, "parse hex");
	tap_ok(cmc_chassis_id_parse("42", &id) == 0 && id == 42, "parse decimal");
	tap_is_int(cmc_chassis_id_parse("0", &id), -EINVAL, "0 is no id");
	tap_is_int(cmc_chassis_id_parse("0x40000000", &id), -EINVAL, "past 30 bits is no id");
	tap_is_int(cmc_chassis_id_parse("-1", &id), -EINVAL, "a negative number is no id");
	tap_is_int(cmc_chassis_id_parse("12ab", &id), -EINVAL, "trailing junk is no id");
	tap_is_int(cmc_chassis_id_parse("", &id), -EINVAL, "empty is no id");
	for (int i = 0; i < 1000 && ok; i++)
		ok = cmc_chassis_id_new(&id) == 0 && id >= 1 && id <= CMC_CHASSIS_ID_MAX;
	tap_ok(ok, "1000 drawn ids, each within 1..0x3fffffff");
}

/* The profiles' pool: inside the chassis' range, never a VF's default, never twice. */
static void test_pool(void)
{
	uint8_t m[6], d[6];
	unsigned bad = 0;
	static uint8_t seen[CMC_MAC_POOL_SIZE / 8];

	for (unsigned i = 0; i < CMC_MAC_POOL_SIZE; i++) {
		unsigned slot, pf, vf, back;

		if (cmc_mac_pool(0x2a3b4c5d, i, m) < 0 || !cmc_mac_in_pool(0x2a3b4c5d, m) ||
		    !cmc_mac_in_chassis_range(0x2a3b4c5d, m)) {
			bad++;
			continue;
		}
		slot = m[4];
		pf = m[5] >> 5;
		vf = m[5] & 0x1f;
		/* The position it would be the default of does not exist. */
		if (cmc_mac_vf_default(0x2a3b4c5d, slot, pf, vf, d) != -ERANGE)
			bad++;
		back = (unsigned)m[4] << 7 | (unsigned)(m[5] >> 5) << 4 | (m[5] & 15);
		if (back != i || (seen[i / 8] & (1u << (i % 8))))
			bad++;
		seen[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	tap_is_int((int)bad, 0, "32768 pool MACs: in the chassis' range, none a VF's default, all distinct");
	(void)!cmc_mac_vf_default(0x2a3b4c5d, 3, 1, 6, d);
	tap_ok(!cmc_mac_in_pool(0x2a3b4c5d, d), "a VF's default is not in the pool");
	tap_is_int(cmc_mac_pool(0x2a3b4c5d, CMC_MAC_POOL_SIZE, m), -ERANGE, "past the pool: refused");
}

int main(void)
{
	uint64_t *x = calloc(POSITIONS, sizeof(*x)), *y = calloc(POSITIONS, sizeof(*y));

	if (!x || !y)
		return 1;
	test_layout();
	test_bits();
	test_unique_in_chassis(x);
	test_two_chassis(x, y);
	test_ids();
	test_pool();
	free(x);
	free(y);
	return tap_done();
}
