/* SPDX-License-Identifier: MIT */
/*
 * A domain's DHCP settings and the dnsmasq configuration made from them (dhcp.h). Pure:
 * strings in, strings out, no I/O.
 */
#include "dhcp.h"

#include "api.h"
#include "errf.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define say cmc_errf

int cmc_dhcp_addr_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	/* inet_pton takes exactly four decimal parts (no "10.1", no octal): what we print. */
	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

const char *cmc_dhcp_addr_str(uint32_t a, char *buf)
{
	snprintf(buf, CMC_DHCP_ADDR_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

static uint32_t mask_of(unsigned prefix)
{
	return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

/* "A.B.C.D/LEN" */
static int parse_cidr(const char *s, uint32_t *net, unsigned *prefix)
{
	char buf[CMC_DHCP_ADDR_STRLEN + 4];
	const char *slash = strchr(s, '/');

	if (!slash || (size_t)(slash - s) >= CMC_DHCP_ADDR_STRLEN || strlen(slash + 1) > 2)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - s), s);
	if (cmc_dhcp_addr_parse(buf, net) < 0 || cmc_api_parse_uint(slash + 1, 32, prefix) < 0)
		return -EINVAL;
	return 0;
}

/* "A.B.C.D-A.B.C.D" */
static int parse_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	char buf[CMC_DHCP_ADDR_STRLEN];
	const char *dash = strchr(s, '-');

	if (!dash || (size_t)(dash - s) >= CMC_DHCP_ADDR_STRLEN)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%.*s", (int)(dash - s), s);
	return cmc_dhcp_addr_parse(buf, lo) < 0 || cmc_dhcp_addr_parse(dash + 1, hi) < 0 ? -EINVAL : 0;
}

/* One keyword's value into s; -EINVAL with why. */
static int parse_one(const char *k, const char *v, struct cmc_dhcp_settings *s, char *err, size_t errlen)
{
	int rc = -EINVAL;

	if (strcmp(k, "subnet") == 0)
		rc = parse_cidr(v, &s->subnet, &s->prefix);
	else if (strcmp(k, "server") == 0)
		rc = cmc_dhcp_addr_parse(v, &s->server);
	else if (strcmp(k, "pool") == 0)
		rc = parse_range(v, &s->pool_lo, &s->pool_hi);
	else if (strcmp(k, "router") == 0)
		rc = cmc_dhcp_addr_parse(v, &s->router);
	else if (strcmp(k, "dns") == 0)
		rc = cmc_dhcp_addr_parse(v, &s->dns);
	else if (strcmp(k, "relay") == 0)
		rc = cmc_dhcp_addr_parse(v, &s->relay);
	else if (strcmp(k, "lease") == 0)
		rc = cmc_api_parse_uint(v, CMC_DHCP_LEASE_MAX, &s->lease);
	else
		return say(err, errlen, -EINVAL, "'%.32s' is not a DHCP setting (subnet server pool router dns "
			   "lease relay)", k);
	if (rc)
		return say(err, errlen, -EINVAL, "%s: '%.40s' is not %s", k, v,
			   strcmp(k, "subnet") == 0 ? "A.B.C.D/LEN" : strcmp(k, "pool") == 0 ? "A.B.C.D-A.B.C.D" :
			   strcmp(k, "lease") == 0 ? "a number of seconds" : "an IPv4 address");
	return 0;
}

int cmc_dhcp_parse(int argc, const char *const argv[], struct cmc_dhcp_settings *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "subnet", "server", "pool", "router", "dns", "lease", "relay" };
	unsigned seen = 0;

	*out = (struct cmc_dhcp_settings){ .on = true, .lease = CMC_DHCP_LEASE_DEFAULT };
	for (int i = 0; i < argc; i += 2) {
		unsigned bit = 0;
		int rc;

		for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(argv[i], keys[k]) == 0)
				bit = 1u << k;
		if (bit & seen)
			return say(err, errlen, -EINVAL, "%s given twice", argv[i]);
		if (bit && i + 1 >= argc)
			return say(err, errlen, -EINVAL, "%s wants a value", argv[i]);
		rc = parse_one(argv[i], bit ? argv[i + 1] : "", out, err, errlen);
		if (rc)
			return rc;
		seen |= bit;
	}
	if (!(seen & 1) || !(seen & 2))
		return say(err, errlen, -EINVAL, "a DHCP service needs its subnet and its own address (server)");
	if (!!(seen & 4) == !!(seen & 64))
		return say(err, errlen, -EINVAL, "a DHCP service either serves a pool or relays: one of pool, relay");
	return 0;
}

static bool in_net(const struct cmc_dhcp_settings *s, uint32_t a)
{
	return (a & mask_of(s->prefix)) == s->subnet;
}

/* A host of the subnet: inside it, neither its network nor its broadcast address. */
static bool host_of(const struct cmc_dhcp_settings *s, uint32_t a)
{
	return in_net(s, a) && a != s->subnet && a != (s->subnet | ~mask_of(s->prefix));
}

static bool in_pool(const struct cmc_dhcp_settings *s, uint32_t a)
{
	return s->pool_lo && a >= s->pool_lo && a <= s->pool_hi;
}

static bool overlaps(uint32_t a, unsigned alen, uint32_t b, unsigned blen)
{
	unsigned len = alen < blen ? alen : blen;

	return (a & mask_of(len)) == (b & mask_of(len));
}

static int check_pool(const struct cmc_dhcp_settings *s, char *err, size_t errlen)
{
	char a[CMC_DHCP_ADDR_STRLEN], b[CMC_DHCP_ADDR_STRLEN];

	if (!host_of(s, s->pool_lo) || !host_of(s, s->pool_hi) || s->pool_lo > s->pool_hi)
		return say(err, errlen, -EINVAL, "pool %s-%s is not an ordered range of hosts of the subnet",
			   cmc_dhcp_addr_str(s->pool_lo, a), cmc_dhcp_addr_str(s->pool_hi, b));
	if (in_pool(s, s->server))
		return say(err, errlen, -EINVAL, "the pool holds the server's own address %s",
			   cmc_dhcp_addr_str(s->server, a));
	if (s->router && in_pool(s, s->router))
		return say(err, errlen, -EINVAL, "the pool holds the router %s", cmc_dhcp_addr_str(s->router, a));
	if (s->dns && in_pool(s, s->dns))
		return say(err, errlen, -EINVAL, "the pool holds the DNS server %s", cmc_dhcp_addr_str(s->dns, a));
	return 0;
}

static int check_relay(const struct cmc_dhcp_settings *s, char *err, size_t errlen)
{
	char a[CMC_DHCP_ADDR_STRLEN];

	if (s->pool_lo || s->pool_hi)
		return say(err, errlen, -EINVAL, "a relay hands out no pool");
	if (s->relay == s->server)
		return say(err, errlen, -EINVAL, "the relay target is the service's own address");
	if (overlaps(s->relay, 32, CMC_DHCP_LINKLOCAL, CMC_DHCP_LINKLOCAL_PREFIX) || s->relay >> 24 == 127 ||
	    s->relay >= 0xe0000000u || !(s->relay >> 24))
		return say(err, errlen, -EINVAL, "relay target %s is not a unicast address a tenant's server can have",
			   cmc_dhcp_addr_str(s->relay, a));
	if (!host_of(s, s->relay) && !s->router)
		return say(err, errlen, -EINVAL, "relay target %s is outside the subnet: name the router to it",
			   cmc_dhcp_addr_str(s->relay, a));
	return 0;
}

int cmc_dhcp_check(const struct cmc_dhcp_settings *s, char *err, size_t errlen)
{
	char a[CMC_DHCP_ADDR_STRLEN];

	if (!s->on)
		return 0;
	if (s->prefix < CMC_DHCP_PREFIX_MIN || s->prefix > CMC_DHCP_PREFIX_MAX)
		return say(err, errlen, -EINVAL, "a prefix of /%u: a domain's subnet is /%d to /%d", s->prefix,
			   CMC_DHCP_PREFIX_MIN, CMC_DHCP_PREFIX_MAX);
	if (s->subnet & ~mask_of(s->prefix))
		return say(err, errlen, -EINVAL, "%s/%u is not a network address (host bits set)",
			   cmc_dhcp_addr_str(s->subnet, a), s->prefix);
	if (overlaps(s->subnet, s->prefix, CMC_DHCP_LINKLOCAL, CMC_DHCP_LINKLOCAL_PREFIX))
		return say(err, errlen, -EINVAL, "%s/%u overlaps 169.254.0.0/16, the lanes' addresses",
			   cmc_dhcp_addr_str(s->subnet, a), s->prefix);
	if (s->subnet >> 24 == 127 || s->subnet >= 0xe0000000u || !(s->subnet >> 24))
		return say(err, errlen, -EINVAL, "%s/%u is not a unicast network", cmc_dhcp_addr_str(s->subnet, a),
			   s->prefix);
	if (!host_of(s, s->server))
		return say(err, errlen, -EINVAL, "the server's address %s is not a host of the subnet",
			   cmc_dhcp_addr_str(s->server, a));
	if (s->router && (!host_of(s, s->router) || s->router == s->server))
		return say(err, errlen, -EINVAL, "router %s is not a host of the subnet other than the server",
			   cmc_dhcp_addr_str(s->router, a));
	if (s->lease < CMC_DHCP_LEASE_MIN || s->lease > CMC_DHCP_LEASE_MAX)
		return say(err, errlen, -EINVAL, "a lease of %u s: %d to %d", s->lease, CMC_DHCP_LEASE_MIN,
			   CMC_DHCP_LEASE_MAX);
	return s->relay ? check_relay(s, err, errlen) : check_pool(s, err, errlen);
}

/* "-" for none */
static const char *opt_str(uint32_t a, char *buf)
{
	if (!a)
		return strcpy(buf, "-");
	return cmc_dhcp_addr_str(a, buf);
}

void cmc_dhcp_format(const struct cmc_dhcp_settings *s, char *buf, size_t len)
{
	char n[CMC_DHCP_ADDR_STRLEN], sv[CMC_DHCP_ADDR_STRLEN], lo[CMC_DHCP_ADDR_STRLEN], hi[CMC_DHCP_ADDR_STRLEN];
	char r[CMC_DHCP_ADDR_STRLEN], d[CMC_DHCP_ADDR_STRLEN], rl[CMC_DHCP_ADDR_STRLEN];
	char pool[2 * CMC_DHCP_ADDR_STRLEN];

	if (!s->on) {
		snprintf(buf, len, "dhcp=off");
		return;
	}
	if (s->pool_lo)
		snprintf(pool, sizeof(pool), "%s-%s", cmc_dhcp_addr_str(s->pool_lo, lo), cmc_dhcp_addr_str(s->pool_hi, hi));
	else
		snprintf(pool, sizeof(pool), "-");
	snprintf(buf, len, "dhcp=on subnet=%s/%u server=%s pool=%s router=%s dns=%s lease=%u relay=%s",
		 cmc_dhcp_addr_str(s->subnet, n), s->prefix, cmc_dhcp_addr_str(s->server, sv), pool,
		 opt_str(s->router, r), opt_str(s->dns, d), s->lease, opt_str(s->relay, rl));
}

/* An optional address field: "-" is 0. */
static int field_addr(const char *value, const char *k, uint32_t *out)
{
	char buf[CMC_DHCP_ADDR_STRLEN];

	*out = 0;
	if (cmc_store_field(value, k, buf, sizeof(buf)) < 0)
		return -EINVAL;
	return strcmp(buf, "-") == 0 ? 0 : cmc_dhcp_addr_parse(buf, out);
}

int cmc_dhcp_from_fields(const char *value, struct cmc_dhcp_settings *out)
{
	char on[8], buf[2 * CMC_DHCP_ADDR_STRLEN + 4];

	*out = (struct cmc_dhcp_settings){ 0 };
	if (cmc_store_field(value, "dhcp", on, sizeof(on)) < 0 || strcmp(on, "off") == 0)
		return 0;
	if (strcmp(on, "on") != 0)
		return -EINVAL;
	out->on = true;
	if (cmc_store_field(value, "subnet", buf, sizeof(buf)) < 0 || parse_cidr(buf, &out->subnet, &out->prefix) < 0 ||
	    cmc_store_field(value, "server", buf, sizeof(buf)) < 0 || cmc_dhcp_addr_parse(buf, &out->server) < 0 ||
	    cmc_store_field(value, "pool", buf, sizeof(buf)) < 0 || cmc_store_field(value, "lease", on, sizeof(on)) < 0 ||
	    cmc_api_parse_uint(on, CMC_DHCP_LEASE_MAX, &out->lease) < 0 || field_addr(value, "router", &out->router) < 0 ||
	    field_addr(value, "dns", &out->dns) < 0 || field_addr(value, "relay", &out->relay) < 0)
		return -EINVAL;
	if (strcmp(buf, "-") != 0 && parse_range(buf, &out->pool_lo, &out->pool_hi) < 0)
		return -EINVAL;
	return 0;
}

/* Appends to buf as snprintf would, keeping the length needed in *off. */
__attribute__((format(printf, 4, 5)))
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*off < len ? buf + *off : NULL, *off < len ? len - *off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

size_t cmc_dhcp_conf(const struct cmc_dhcp_settings *s, const char *domain, const char *ifname,
		     const char *leasefile, char *buf, size_t len)
{
	char a[CMC_DHCP_ADDR_STRLEN], b[CMC_DHCP_ADDR_STRLEN], m[CMC_DHCP_ADDR_STRLEN];
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	put(buf, len, &off, "# dnsmasq for domain %s, generated by cmcd: changes are overwritten\n", domain);
	/* DHCP only, on the service's VF alone; nothing read from /etc (no resolv.conf, hosts). */
	put(buf, len, &off, "port=0\nno-resolv\nno-hosts\ninterface=%s\nbind-interfaces\n", ifname);
	put(buf, len, &off, "log-dhcp\ndhcp-leasefile=%s\n", leasefile);
	if (s->relay) {
		/* dnsmasq relays what it hears on the interface holding the local address. */
		put(buf, len, &off, "dhcp-relay=%s,%s\n", cmc_dhcp_addr_str(s->server, a),
		    cmc_dhcp_addr_str(s->relay, b));
		return off;
	}
	put(buf, len, &off, "dhcp-authoritative\ndhcp-range=%s,%s,%s,%u\n", cmc_dhcp_addr_str(s->pool_lo, a),
	    cmc_dhcp_addr_str(s->pool_hi, b), cmc_dhcp_addr_str(mask_of(s->prefix), m), s->lease);
	/* An option given empty is sent by nobody: dnsmasq would offer its own address. */
	if (s->router)
		put(buf, len, &off, "dhcp-option=option:router,%s\n", cmc_dhcp_addr_str(s->router, a));
	else
		put(buf, len, &off, "dhcp-option=option:router\n");
	if (s->dns)
		put(buf, len, &off, "dhcp-option=option:dns-server,%s\n", cmc_dhcp_addr_str(s->dns, a));
	else
		put(buf, len, &off, "dhcp-option=option:dns-server\n");
	return off;
}
