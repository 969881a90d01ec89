/* SPDX-License-Identifier: MIT */
/*
 * The inventory's name pool (mgmt-proc/mp-priv.h): one copy of each distinct name, the
 * same pointer for the same name however many functions carry it, "" without an
 * allocation, and every pointer still valid after the pool has grown (its hash table is
 * rebuilt, the strings do not move).
 */
#include <stdio.h>
#include <string.h>

#include "mp-priv.h"
#include "tap.h"

#define DISTINCT 5000

int main(void)
{
	static const char *first[DISTINCT];
	struct mp_names pool = { 0 };
	char name[32];
	size_t same = 0, equal = 0;
	const char *a, *b;

	a = mp_names_add(&pool, "");
	tap_ok(a && *a == 0 && pool.count == 0, "\"\" is given back as \"\" and not stored");
	a = mp_names_add(&pool, "Intel Corporation");
	b = mp_names_add(&pool, "Intel Corporation");
	tap_ok(a == b && pool.count == 1, "the same name twice: one copy, the same pointer");
	for (int i = 0; i < DISTINCT; i++) {
		snprintf(name, sizeof(name), "eth%d", i);
		first[i] = mp_names_add(&pool, name);
	}
	tap_is_int((long long)pool.count, DISTINCT + 1, "%d distinct names: %d copies", DISTINCT,
		   DISTINCT);
	for (int i = 0; i < DISTINCT; i++) {
		snprintf(name, sizeof(name), "eth%d", i);
		same += mp_names_add(&pool, name) == first[i];
		equal += strcmp(first[i], name) == 0;
	}
	tap_ok(same == DISTINCT && pool.count == DISTINCT + 1,
	       "each found again after the pool grew (%zu of %d), nothing added", same, DISTINCT);
	tap_ok(equal == DISTINCT, "the first pointers still read their names (%zu of %d)", equal,
	       DISTINCT);
	tap_ok(mp_names_add(&pool, "Intel Corporation") == a, "and the first name too");
	tap_ok(!pool.nomem, "no allocation failed");
	mp_names_free(&pool);
	tap_ok(pool.count == 0 && pool.v == NULL, "freed");
	return tap_done();
}
