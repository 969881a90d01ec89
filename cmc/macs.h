/* SPDX-License-Identifier: MIT */
/*
 * The chassis' MAC rule: the default MAC of every VF, derived from an identity unique to
 * the chassis, so that two chassis on one uplink segment never give two blades the same
 * address. Pure: no I/O but the random draw of a new identity.
 *
 * A default MAC is a locally administered unicast address (IEEE 802 §8.4: bit 1 of the
 * first octet set, bit 0 clear) carrying 46 bits of information:
 *
 *   octet 0   (id >> 24) << 2 | 0x02     id bits 29..24, then the U/L and I/G bits
 *   octet 1-3 id bits 23..0
 *   octet 4   slot (0..255)
 *   octet 5   pf << 5 | vf               pf 0..7, vf 0..15
 *
 * id is the chassis identity, 1..CMC_CHASSIS_ID_MAX (30 bits): from the configuration
 * (chassis.id), or drawn at random at the first start and kept in the store. Two chassis
 * with different ids have disjoint default ranges: a collision needs equal ids, which a
 * random draw gives with probability 2^-30 for two chassis (n^2 / 2^31 for n chassis).
 * The 65,536 MACs that share the first four octets are the chassis' own range; no one
 * (an admin's MAC, a static entry, a VF's mailbox request) may take one of them but
 * the VF it is the default of.
 *
 * The server profiles' pool: octet 5 with bit 4 set (a vf field of 16..31) is no VF's
 * default (VF numbers stop at CMC_MAC_VF_MAX, 15; an 82576 has 8 per PF), so those 32,768
 * addresses of the chassis' range are kept for server profiles (cmc_mac_pool): the MAC
 * that moves with a blade's identity, which only this chassis gives and no VF takes by
 * default. Pool index i is octet 4 = i >> 7, octet 5 = ((i >> 4) & 7) << 5 | 0x10 | (i & 15).
 */
#ifndef CMC_MACS_H
#define CMC_MACS_H

#include <stdbool.h>
#include <stdint.h>

#define CMC_CHASSIS_ID_MAX 0x3fffffffu
#define CMC_MAC_SLOT_MAX 255u
#define CMC_MAC_PF_MAX 7u
#define CMC_MAC_VF_MAX 15u
#define CMC_MAC_POOL_SIZE 32768u	/* server profiles' MACs (above) */

/*
 * The default MAC of slot/pf/vf in chassis id. 0, or -ERANGE when id is 0 or above
 * CMC_CHASSIS_ID_MAX, or slot, pf or vf is beyond the limits above (mac untouched).
 */
int cmc_mac_vf_default(uint32_t id, unsigned slot, unsigned pf, unsigned vf, uint8_t mac[6])
	__attribute__((warn_unused_result));

/* Whether mac is in chassis id's own range (any slot/pf/vf). */
bool cmc_mac_in_chassis_range(uint32_t id, const uint8_t mac[6]);

/* The i-th MAC of chassis id's server-profile pool, i < CMC_MAC_POOL_SIZE. 0, -ERANGE. */
int cmc_mac_pool(uint32_t id, unsigned i, uint8_t mac[6]) __attribute__((warn_unused_result));
/* Whether mac is in chassis id's server-profile pool. */
bool cmc_mac_in_pool(uint32_t id, const uint8_t mac[6]);

/* A fresh random identity, 1..CMC_CHASSIS_ID_MAX (getrandom(2)). 0 or -errno. */
int cmc_chassis_id_new(uint32_t *out) __attribute__((warn_unused_result));

/* "0x2a3b4c5d" or decimal -> id. 0, or -EINVAL (not a number, 0, or above the max). */
int cmc_chassis_id_parse(const char *s, uint32_t *out) __attribute__((warn_unused_result));

#endif
