/* SPDX-License-Identifier: MIT */
/*
 * Network templates (template.h): their checks, their access lists as text, the
 * template-coded MAC and the nftables ruleset of one VM's bridge port. Pure string work.
 */
#include "template.h"

#include "errf.h"
#include "vbridge.h"

#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define say cmc_errf

static bool chars_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr(extra, s[i])))
			return false;
	return true;
}

bool cmc_template_name_ok(const char *s)
{
	return chars_ok(s, CMC_TEMPLATE_NAME_MAX, "-_");
}

/* --- Allowed peers -------------------------------------------------------------------- */

static int parse_prefix(const char *s, struct cmc_allow *out, char *err, size_t errlen)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr in;
	unsigned plen = 32;
	uint32_t host, mask;

	if (alen == 0 || alen >= sizeof(addr))
		return say(err, errlen, -EINVAL, "'%.40s' is neither a MAC nor an IPv4 prefix", s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1)
		return say(err, errlen, -EINVAL, "'%.40s' is neither a MAC nor an IPv4 prefix", s);
	if (slash) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);

		if (!slash[1] || *end || slash[1] < '0' || slash[1] > '9' || v < 1 || v > 32)
			return say(err, errlen, -EINVAL, "'%.40s': a prefix length is 1..32", s);
		plen = (unsigned)v;
	}
	host = ntohl(in.s_addr);
	mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
	if (host & ~mask) {
		struct in_addr net = { .s_addr = htonl(host & mask) };
		char ns[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &net, ns, sizeof(ns));
		return say(err, errlen, -EINVAL, "'%.40s' has host bits set (the prefix is %s/%u)", s, ns, plen);
	}
	*out = (struct cmc_allow){ .addr = host, .plen = plen };
	return 0;
}

int cmc_allow_parse(const char *s, struct cmc_allow *out, char *err, size_t errlen)
{
	char ms[VB_MAC_STRLEN];

	if (strchr(s, ':')) {
		struct cmc_allow a = { .is_mac = true };

		if (vb_mac_parse(s, a.mac) < 0)
			return say(err, errlen, -EINVAL, "'%.40s' is not a MAC address", s);
		if (!vb_mac_is_unicast(a.mac))
			return say(err, errlen, -EINVAL, "%s is not a unicast MAC (a peer is one host)",
				   vb_mac_str(a.mac, ms));
		*out = a;
		return 0;
	}
	return parse_prefix(s, out, err, errlen);
}

const char *cmc_allow_str(const struct cmc_allow *a, char buf[CMC_ALLOW_STRLEN])
{
	char ms[VB_MAC_STRLEN];

	if (a->is_mac)
		snprintf(buf, CMC_ALLOW_STRLEN, "%s", vb_mac_str(a->mac, ms));
	else
		snprintf(buf, CMC_ALLOW_STRLEN, "%u.%u.%u.%u/%u", a->addr >> 24, (a->addr >> 16) & 0xff,
			 (a->addr >> 8) & 0xff, a->addr & 0xff, a->plen);
	return buf;
}

static bool same_allow(const struct cmc_allow *a, const struct cmc_allow *b)
{
	if (a->is_mac != b->is_mac)
		return false;
	return a->is_mac ? memcmp(a->mac, b->mac, 6) == 0 : a->addr == b->addr && a->plen == b->plen;
}

int cmc_allow_list_parse(const char *s, struct cmc_template *t, char *err, size_t errlen)
{
	struct cmc_allow got[CMC_TEMPLATE_ALLOW_MAX];
	unsigned n = 0;
	const char *p = s;

	if (strcmp(s, "-") == 0)
		p = "";
	while (*p) {
		char one[64];
		size_t len = strcspn(p, ",");
		int rc;

		if (len == 0 || len >= sizeof(one))
			return say(err, errlen, -EINVAL, "an empty or overlong entry in the access list");
		if (n == CMC_TEMPLATE_ALLOW_MAX)
			return say(err, errlen, -E2BIG, "more than %d peers in the access list", CMC_TEMPLATE_ALLOW_MAX);
		memcpy(one, p, len);
		one[len] = '\0';
		rc = cmc_allow_parse(one, &got[n], err, errlen);
		if (rc)
			return rc;
		for (unsigned i = 0; i < n; i++)
			if (same_allow(&got[i], &got[n]))
				return say(err, errlen, -EINVAL, "'%s' is in the access list twice", one);
		n++;
		p += len;
		if (*p == ',' && !*++p)
			return say(err, errlen, -EINVAL, "an empty entry at the end of the access list");
	}
	memcpy(t->allow, got, n * sizeof(got[0]));
	t->n_allow = n;
	return 0;
}

const char *cmc_allow_list_str(const struct cmc_template *t, char buf[CMC_ALLOW_LIST_STRLEN])
{
	size_t off = 0;

	snprintf(buf, CMC_ALLOW_LIST_STRLEN, "-");
	for (unsigned i = 0; i < t->n_allow && off < CMC_ALLOW_LIST_STRLEN; i++) {
		char one[CMC_ALLOW_STRLEN];

		off += (size_t)snprintf(buf + off, CMC_ALLOW_LIST_STRLEN - off, "%s%s", i ? "," : "",
					cmc_allow_str(&t->allow[i], one));
	}
	return buf;
}

/* --- Templates ------------------------------------------------------------------------ */

int cmc_template_check(const struct cmc_template *t, char *err, size_t errlen)
{
	if (!cmc_template_name_ok(t->name))
		return say(err, errlen, -EINVAL, "'%.32s' is not a template name (1-%d of a-z A-Z 0-9 - _)", t->name,
			   CMC_TEMPLATE_NAME_MAX);
	if (t->id < 1 || t->id > CMC_TEMPLATE_ID_MAX)
		return say(err, errlen, -EINVAL, "template %s: id %u is out of range 1..%d", t->name, t->id,
			   CMC_TEMPLATE_ID_MAX);
	if (t->vlan > CMC_TEMPLATE_VLAN_MAX)
		return say(err, errlen, -EINVAL, "template %s: VLAN %u is out of range 1..%d (4000-4094 are the lanes')",
			   t->name, t->vlan, CMC_TEMPLATE_VLAN_MAX);
	if (t->rate > CMC_TEMPLATE_RATE_MAX)
		return say(err, errlen, -EINVAL, "template %s: %u Mbit/s is out of range 0..%d", t->name, t->rate,
			   CMC_TEMPLATE_RATE_MAX);
	if (t->n_allow > CMC_TEMPLATE_ALLOW_MAX)
		return say(err, errlen, -EINVAL, "template %s: more than %d peers", t->name, CMC_TEMPLATE_ALLOW_MAX);
	for (unsigned i = 0; i < t->n_allow; i++)
		for (unsigned k = 0; k < i; k++)
			if (same_allow(&t->allow[i], &t->allow[k])) {
				char one[CMC_ALLOW_STRLEN];

				return say(err, errlen, -EINVAL, "template %s: '%s' is in the access list twice", t->name,
					   cmc_allow_str(&t->allow[i], one));
			}
	return 0;
}

bool cmc_template_mac_coded(const uint8_t mac[6], unsigned *id)
{
	if (mac[0] != CMC_TEMPLATE_MAC_TAG || mac[1] == 0)
		return false;
	if (id)
		*id = mac[1];
	return true;
}

/* --- The nftables ruleset -------------------------------------------------------------- */

/* "{ a, b }" of t's MACs (macs true) or prefixes; false when there is none. */
static bool set_of(const struct cmc_template *t, bool macs, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "{ ");
	bool any = false;

	for (unsigned i = 0; i < t->n_allow && off < len; i++) {
		char one[CMC_ALLOW_STRLEN];

		if (t->allow[i].is_mac != macs)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", any ? ", " : "", cmc_allow_str(&t->allow[i], one));
		any = true;
	}
	if (off < len)
		snprintf(buf + off, len - off, " }");
	return any;
}

static void head(struct cmc_out *o, const char *table)
{
	/* Declared first so that the delete never fails: one transaction, all or nothing. */
	cmc_out_printf(o, "table bridge %s\ndelete table bridge %s\n", table, table);
}

int cmc_template_nft(const struct cmc_template *t, const char *table, const char *port, const uint8_t vm_mac[6],
		     char *buf, size_t len)
{
	struct cmc_out o = { .buf = buf, .len = len };
	char macs[CMC_ALLOW_LIST_STRLEN + 8], nets[CMC_ALLOW_LIST_STRLEN + 8], ms[VB_MAC_STRLEN];
	bool has_macs = set_of(t, true, macs, sizeof(macs)), has_nets = set_of(t, false, nets, sizeof(nets));

	if (!chars_ok(table, 32, "-_") || !chars_ok(port, 15, "-_."))
		return -EINVAL;
	if (len)
		buf[0] = '\0';
	head(&o, table);
	cmc_out_printf(&o, "table bridge %s {\n\tchain acl {\n\t\ttype filter hook forward priority 0; policy accept;\n", table);
	if (!t->trusted)
		cmc_out_printf(&o, "\t\tiifname \"%s\" ether saddr != %s drop\n", port, vb_mac_str(vm_mac, ms));
	if (t->n_allow) {
		/* To the VM: from an allowed peer only. */
		if (has_macs)
			cmc_out_printf(&o, "\t\toifname \"%s\" ether saddr %s accept\n", port, macs);
		if (has_nets) {
			cmc_out_printf(&o, "\t\toifname \"%s\" ether type arp arp saddr ip %s accept\n", port, nets);
			cmc_out_printf(&o, "\t\toifname \"%s\" ip saddr %s accept\n", port, nets);
		}
		cmc_out_printf(&o, "\t\toifname \"%s\" drop\n", port);
		/* From the VM: to an allowed peer only, and ARP requests to find one. */
		cmc_out_printf(&o, "\t\tiifname \"%s\" ether type arp arp operation request accept\n", port);
		if (has_macs)
			cmc_out_printf(&o, "\t\tiifname \"%s\" ether daddr %s accept\n", port, macs);
		if (has_nets) {
			cmc_out_printf(&o, "\t\tiifname \"%s\" ether type arp arp daddr ip %s accept\n", port, nets);
			cmc_out_printf(&o, "\t\tiifname \"%s\" ip daddr %s accept\n", port, nets);
		}
		cmc_out_printf(&o, "\t\tiifname \"%s\" drop\n", port);
	}
	cmc_out_printf(&o, "\t}\n}\n");
	return (int)o.used;
}

int cmc_template_nft_remove(const char *table, char *buf, size_t len)
{
	struct cmc_out o = { .buf = buf, .len = len };

	if (!chars_ok(table, 32, "-_"))
		return -EINVAL;
	if (len)
		buf[0] = '\0';
	head(&o, table);
	return (int)o.used;
}

void cmc_template_nft_table(const char *port, char buf[32])
{
	snprintf(buf, 32, "cmc-acl-%.15s", port);
}
