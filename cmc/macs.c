/* SPDX-License-Identifier: MIT */
#include "macs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void chassis_prefix(uint32_t id, uint8_t p[4])
{
	p[0] = (uint8_t)(((id >> 24) & 0x3f) << 2 | 0x02);
	p[1] = (uint8_t)(id >> 16);
	p[2] = (uint8_t)(id >> 8);
	p[3] = (uint8_t)id;
}

int cmc_mac_vf_default(uint32_t id, unsigned slot, unsigned pf, unsigned vf, uint8_t mac[6])
{
	if (!id || id > CMC_CHASSIS_ID_MAX || slot > CMC_MAC_SLOT_MAX || pf > CMC_MAC_PF_MAX ||
	    vf > CMC_MAC_VF_MAX)
		return -ERANGE;
	chassis_prefix(id, mac);
	mac[4] = (uint8_t)slot;
	mac[5] = (uint8_t)(pf << 5 | vf);
	return 0;
}

bool cmc_mac_in_chassis_range(uint32_t id, const uint8_t mac[6])
{
	uint8_t p[4];

	chassis_prefix(id, p);
	return id && id <= CMC_CHASSIS_ID_MAX && memcmp(p, mac, 4) == 0;
}

int cmc_mac_pool(uint32_t id, unsigned i, uint8_t mac[6])
{
	if (!id || id > CMC_CHASSIS_ID_MAX || i >= CMC_MAC_POOL_SIZE)
		return -ERANGE;
	chassis_prefix(id, mac);
	mac[4] = (uint8_t)(i >> 7);
	mac[5] = (uint8_t)(((i >> 4) & 7) << 5 | 0x10 | (i & 15));
	return 0;
}

bool cmc_mac_in_pool(uint32_t id, const uint8_t mac[6])
{
	return cmc_mac_in_chassis_range(id, mac) && (mac[5] & 0x10);
}

int cmc_chassis_id_new(uint32_t *out)
{
	uint32_t v;

	do {
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			return errno ? -errno : -EIO;
		v &= CMC_CHASSIS_ID_MAX;
	} while (!v);
	*out = v;
	return 0;
}

int cmc_chassis_id_parse(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || !v || v > CMC_CHASSIS_ID_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}
