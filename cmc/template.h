/* SPDX-License-Identifier: MIT */
/*
 * Network templates (template.c): what a VM's network is, named once and shared by every
 * VM that names it (US 8,565,118's per-VM templates; US 9,158,567's profile of VLAN,
 * bandwidth and access rules that a running workload's network follows).
 *
 *   name     1-16 of a-z A-Z 0-9 - _
 *   id       1..255: the number a template-coded MAC carries (below)
 *   vlan     the VM's VF's port VLAN, 1..3999; 0 = none asked (the blade's domain's)
 *   rate     the VM's VF's transmit limit, Mbit/s 0..1000; 0 = none
 *   trusted  the VM may change its MAC (the VF's anti-spoofing off)
 *   allow    the peers the VM may talk to: MACs and IPv4 prefixes; empty = everyone
 *
 * A template-coded MAC: a VM may carry its template in its own locally administered
 * MAC instead of naming it. The scheme is cmc's (in the spirit of US 8,565,118, where
 * the address selects the template):
 *
 *   octet 0   0x06   unicast (bit 0 clear), locally administered (bit 1 set), and bit 2
 *                    set: "coded by cmc"; no other bit
 *   octet 1   the template's id, 1..255
 *   octet 2-5 the VM's own, free
 *
 * e.g. 06:07:00:00:00:2a is a VM of template id 7. A MAC of this form whose id names no
 * template is refused; one that is not of this form names no template.
 *
 * The access list is enforced on the VM's bridge port with nftables (bridge family):
 * cmc_template_nft() writes the ruleset for `nft -f`, which the blade worker runs inside
 * the VM's blade. Pure: no I/O. Functions return 0 or a negative errno; those with
 * err/errlen write a sentence for the administrator there (err may be NULL).
 */
#ifndef CMC_TEMPLATE_H
#define CMC_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMC_TEMPLATE_NAME_MAX 16
#define CMC_TEMPLATE_ID_MAX 255
#define CMC_TEMPLATE_ALLOW_MAX 16
#define CMC_TEMPLATE_VLAN_MAX 3999	/* 4000-4094 are the lanes' */
#define CMC_TEMPLATE_RATE_MAX 1000	/* Mbit/s, 1 GbE */
#define CMC_TEMPLATE_MAC_TAG 0x06	/* octet 0 of a template-coded MAC */
#define CMC_ALLOW_STRLEN 20		/* "255.255.255.255/32" or a MAC, with the NUL */
#define CMC_ALLOW_LIST_STRLEN (CMC_TEMPLATE_ALLOW_MAX * CMC_ALLOW_STRLEN)

/* One allowed peer: a unicast MAC, or an IPv4 prefix (addr in host order, host bits 0). */
struct cmc_allow {
	bool is_mac;
	uint8_t mac[6];
	uint32_t addr;
	unsigned plen;			/* 1..32 */
};

struct cmc_template {
	char name[CMC_TEMPLATE_NAME_MAX + 1];
	unsigned id;			/* 1..255 */
	uint16_t vlan;			/* 0..3999, 0 = none asked */
	unsigned rate;			/* Mbit/s 0..1000 */
	bool trusted;
	unsigned n_allow;
	struct cmc_allow allow[CMC_TEMPLATE_ALLOW_MAX];
};

/*
 * One allowed peer from text: "02:cc:00:00:00:01" (unicast), "10.9.0.0/24" (prefix
 * 1..32, no host bit set) or "10.9.0.7" (/32). -EINVAL with the reason.
 */
int cmc_allow_parse(const char *s, struct cmc_allow *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Back to text, as cmc_allow_parse takes it ("10.9.0.7/32" for a single address). */
const char *cmc_allow_str(const struct cmc_allow *a, char buf[CMC_ALLOW_STRLEN]);
/*
 * A comma-separated list ("10.9.0.0/24,02:cc:00:00:00:01"; "-" or "" = empty) into
 * t->allow, replacing it. -EINVAL (an entry that is not one, or a repeated one),
 * -E2BIG (more than CMC_TEMPLATE_ALLOW_MAX); t unchanged on error.
 */
int cmc_allow_list_parse(const char *s, struct cmc_template *t, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* t's list as cmc_allow_list_parse takes it; "-" when empty. */
const char *cmc_allow_list_str(const struct cmc_template *t, char buf[CMC_ALLOW_LIST_STRLEN]);

/* Whether s is a template name (1-16 of a-z A-Z 0-9 - _). */
bool cmc_template_name_ok(const char *s);
/* Every field in range and no peer twice. -EINVAL with the reason. */
int cmc_template_check(const struct cmc_template *t, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Whether mac is template-coded (the scheme above); *id (may be NULL) its template id. */
bool cmc_template_mac_coded(const uint8_t mac[6], unsigned *id);

/*
 * The nftables ruleset (`nft -f` syntax, bridge family) that enforces t's access list on
 * one VM's bridge port `port` (an interface name, 1-15 characters of a-z A-Z 0-9 - _ .),
 * in a table of its own, `table` (1-32 of a-z A-Z 0-9 - _), replaced whole in one nft
 * transaction (created if absent, deleted, written again), so applying it twice is
 * applying it once. Frames to the port pass only from an allowed MAC, an allowed IPv4
 * source, or as ARP from an allowed IPv4 sender; frames from the port pass only to an
 * allowed MAC or IPv4 destination (ARP to one too), or as an ARP request (so the VM can find an allowed
 * peer; a forbidden one's answer does not come back). Untrusted, frames from the port
 * must carry vm_mac as their source. An empty access list and a trusted template give a
 * table with no rule. Writes at most len bytes (NUL included) and returns the length it
 * needed, as snprintf does; -EINVAL for a bad port or table name.
 */
int cmc_template_nft(const struct cmc_template *t, const char *table, const char *port,
		     const uint8_t vm_mac[6], char *buf, size_t len);
/* The ruleset that removes `table` (absent or not: no error). As cmc_template_nft. */
int cmc_template_nft_remove(const char *table, char *buf, size_t len);
/* The table cmc gives the rules of the VM's bridge port `port`: "cmc-acl-" port (a
 * table per port, so a blade's ports never share rules; up to 15 characters of port). */
void cmc_template_nft_table(const char *port, char buf[32]);

#endif
