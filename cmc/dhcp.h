/* SPDX-License-Identifier: MIT */
/*
 * A domain's configuration service (DHCP, RFC 2131), after US 9,270,525: each domain
 * may have a DHCP server (or a relay to a tenant's own server) that answers only inside
 * the domain. doc/dhcp.md has the design.
 *
 *   dhcp-conf.c  pure: a domain's DHCP settings (parsed, checked, stored as fields) and
 *                the dnsmasq configuration generated from them. Unit-tested (t/unit/dhcp.c).
 *   dhcp.c       the supervisor: one dnsmasq per domain with a service, run in the
 *                service's namespace ("dhcp-DOMAIN", where the service's VF is placed),
 *                watched through a pidfd on cmcd's loop and restarted when it dies.
 *
 * The settings are the domain's (intent.h owns them, one owner); the service's VF is an
 * assignment owned by the domain's service (struct cmc_assignment.service), as a lane
 * owns its VFs. Addresses are IPv4, kept in host byte order. Functions return 0 or a
 * negative errno; with err/errlen they write a sentence for the administrator there.
 */
#ifndef CMC_DHCP_H
#define CMC_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMC_DHCP_PREFIX_MIN 8		/* a /8 at most */
#define CMC_DHCP_PREFIX_MAX 30		/* a /30 has 2 usable addresses */
#define CMC_DHCP_LEASE_MIN 120		/* s; dnsmasq's own minimum is 120 */
#define CMC_DHCP_LEASE_MAX 604800	/* s, a week */
#define CMC_DHCP_LEASE_DEFAULT 3600	/* s */
#define CMC_DHCP_BLADE_PREFIX "dhcp-"	/* the service's namespace: "dhcp-" DOMAIN */
#define CMC_DHCP_ADDR_STRLEN 16		/* "255.255.255.255" and the NUL */
#define CMC_DHCP_DEFAULT_DNSMASQ "/usr/sbin/dnsmasq"

/* The lanes' link-local block (RFC 3927), 169.254.0.0/16: never a domain's. */
#define CMC_DHCP_LINKLOCAL 0xa9fe0000u
#define CMC_DHCP_LINKLOCAL_PREFIX 16

struct cmc_dhcp_settings {
	bool on;			/* false: the domain has no service */
	uint32_t subnet;		/* the domain's IPv4 network (host bits zero) */
	unsigned prefix;		/* CMC_DHCP_PREFIX_MIN..MAX */
	uint32_t server;		/* the service's own address, in subnet */
	uint32_t pool_lo, pool_hi;	/* the addresses handed out (serving); 0 when relaying */
	uint32_t router, dns;		/* options 3 and 6 (RFC 2132 §3.5, §3.8); 0 = none */
	unsigned lease;			/* s, CMC_DHCP_LEASE_MIN..MAX */
	uint32_t relay;			/* 0: serve; else relay (RFC 1542 §4) to this server */
};

/* --- Pure (dhcp-conf.c) ------------------------------------------------------------- */

/* "a.b.c.d" into host order; -EINVAL. */
int cmc_dhcp_addr_parse(const char *s, uint32_t *out) __attribute__((warn_unused_result));
/* Host order into "a.b.c.d" (buf of CMC_DHCP_ADDR_STRLEN); returns buf. */
const char *cmc_dhcp_addr_str(uint32_t a, char *buf);

/*
 * Settings from the words of `cmcctl domain dhcp NAME ...`:
 *   subnet A.B.C.D/LEN  server A.B.C.D  [pool A.B.C.D-A.B.C.D]  [router A.B.C.D]
 *   [dns A.B.C.D]  [lease SECONDS]  [relay A.B.C.D]
 * (pool and relay exclusive, one of them required; each keyword once). The values are
 * read, not checked against each other: cmc_dhcp_check() does that. -EINVAL with why.
 */
int cmc_dhcp_parse(int argc, const char *const argv[], struct cmc_dhcp_settings *out, char *err,
		   size_t errlen) __attribute__((warn_unused_result));

/*
 * The rules of one domain's settings: the subnet is a network address with a prefix of
 * 8..30 and does not overlap 169.254.0.0/16 (the lanes'); the server, the pool's ends and
 * the router are usable hosts of the subnet (neither its network nor its broadcast
 * address); the pool is ordered and holds neither the server, the router nor the DNS
 * server; the server is not the router; a relay target is not the server, not link-local
 * and, outside the subnet, needs a router; a lease of 120..604800 s. -EINVAL with why.
 */
int cmc_dhcp_check(const struct cmc_dhcp_settings *s, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* The settings as the store's fields ("subnet=... server=... pool=...|- router=...|-
 * dns=...|- lease=N relay=...|-"), and back (a value without them: service off). */
void cmc_dhcp_format(const struct cmc_dhcp_settings *s, char *buf, size_t len);
int cmc_dhcp_from_fields(const char *value, struct cmc_dhcp_settings *out) __attribute__((warn_unused_result));

/*
 * dnsmasq's configuration for domain's service on ifname (its VF in the service's
 * namespace), keeping leases in leasefile: DHCP only (port=0: no DNS), on that one
 * interface, authoritative (RFC 2131 §3.1 answers to a client of another server: the
 * domain has one server), the pool with the lease time, router and DNS options given
 * exactly (none when unset: dnsmasq would otherwise offer itself); or, relaying, the
 * relay's local and server addresses. Returns the length it needed (snprintf's way:
 * >= len means buf was too small).
 */
size_t cmc_dhcp_conf(const struct cmc_dhcp_settings *s, const char *domain, const char *ifname,
		     const char *leasefile, char *buf, size_t len);

/* --- The supervisor (dhcp.c) ---------------------------------------------------------- */

struct cmcd;
struct cmc_dhcp;

/*
 * Starts the supervisor (after the blades). dnsmasq is $CMC_DNSMASQ, else
 * CMC_DHCP_DEFAULT_DNSMASQ; leases live in DIR/dhcp/DOMAIN.leases beside the store, the
 * generated configurations in the run directory. -ENOMEM, or the loop's error.
 */
int cmc_dhcp_start(struct cmcd *d, struct cmc_dhcp **out) __attribute__((warn_unused_result));
/* Every dnsmasq is stopped (SIGTERM, SIGKILL after 1 s) and reaped: bounded. */
void cmc_dhcp_stop(struct cmc_dhcp *h);
/* The intent changed: start, restart (settings changed) or stop services to match it. */
void cmc_dhcp_sync(struct cmc_dhcp *h);
/* Whether dnsmasq can be run (exists, executable): -ENOENT with why. */
int cmc_dhcp_usable(const struct cmc_dhcp *h, char *err, size_t errlen);

struct cmc_dhcp_state {
	int pid;			/* dnsmasq's pid, 0 when not running */
	unsigned restarts;		/* since cmcd started */
	char why[160];			/* why it is not running, "" when it is */
};
/* The service of domain as it is now (a domain with no service: pid 0, why ""). */
void cmc_dhcp_state(const struct cmc_dhcp *h, const char *domain, struct cmc_dhcp_state *out);

#endif
