/* SPDX-License-Identifier: MIT */
/*
 * cmcctl: the administrator's CLI for cmcd. Tables for people, -j JSON for scripts.
 * Exit codes: 0 done, 1 refused (or cmcd unreachable), 2 usage.
 */
#include "proto.h"

#include <crypt.h>
#include <termios.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/cmc/cmcd.sock"
#define MAX_RECORDS 65536

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

struct reply {
	int status;		/* CMC_OK, CMC_REFUSED, CMC_USAGE */
	char message[512];
	char **lines;		/* raw record lines */
	size_t nlines;
};

static const char *progname = "cmcctl";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-j] [-s SOCKET] COMMAND [ARGS]\n"
		"\n"
		"  slots                 the chassis' slots and the cards in them\n"
		"  slot N                one slot: its card, PFs and VFs\n"
		"  functions [slot N]    physical and virtual functions\n"
		"  blades                the blades of the chassis\n"
		"  events [-f]           recent events; -f follows new ones\n"
		"  vfstats               VFs of the cards cmcd drives: MAC, counters, mailbox messages,\n"
		"                        resets and penalties, transmit limiter\n"
		"  portstats             the ports of those cards: packet and byte counters\n"
		"  trust S P V on|off    let VF V of slot S, PF P change its MAC (or not)\n"
		"  link-state S P V auto|enable|disable   a VF's link: follow the port, or forced\n"
		"  rescan                re-read the PCIe topology (returns at once; a rescan event ends it)\n"
		"\n"
		"  assign slot N [pf P] vf V blade B [mac M] [vlan X] [rate MBPS] [trusted]\n"
		"                        give a VF to a blade (its netdev moves into the blade)\n"
		"  unassign slot N [pf P] vf V      take it back\n"
		"  assignments           which VF is in which blade\n"
		"  domain create NAME [vlan X] | delete NAME | add NAME BLADE | remove NAME BLADE\n"
		"                        blades of one domain reach each other and no others\n"
		"  domain dhcp NAME subnet P server A (pool A-B [router A] [dns A] [lease S] | relay A) | off\n"
		"                        the domain's own DHCP service (doc/dhcp.md)\n"
		"  domains               the domains and their blades\n"
		"  lane create NAME BLADE BLADE [slot N [pf P]] | delete NAME\n"
		"                        a private link between two blades on a midplane port\n"
		"  lanes                 the lanes, their VFs and addresses\n"
		"  port S/P role uplink|midplane    a port's role\n"
		"  ports                 the ports cmcd drives and their roles\n"
		"  vbridge show [slot N] the cards' bridges: forwarding table with counters\n"
		"  vbridge add|del slot N [pf P] [vf V] mac M   a static forwarding entry\n"
		"\n"
		"  vm start NAME blade B [mem MB] [mac M [ip A.B.C.D] [vlan X] [rate MBPS] [trusted] [template T]] | vm stop NAME\n"
		"                        with a template (--template T, or the one its MAC carries:\n"
		"                        06:ID:xx:xx:xx:xx), its VLAN, rate, trust and peers are T's\n"
		"  vms                   the VMs on the blades, their state and network settings\n"
		"  migrate VM --to BLADE [bandwidth MBPS]   move a running VM over the lane between\n"
		"                        the blades; follows it to the end (a progress bar on a\n"
		"                        terminal)\n"
		"  migrations            each VM's last migration: bytes, rate, downtime, status\n"
		"  server-profile create NAME --from BLADE [--uuid U] [--serial S]\n"
		"  server-profile create NAME --blade B --vfs N [--mac M,...] [--uuid U] [--serial S]\n"
		"                        a blade's identity (UUID, serial, its VFs' MACs, VLANs,\n"
		"                        domain, lanes), which fails over to a spare blade\n"
		"  server-profile list | show NAME | delete NAME\n"
		"  migrate PROFILE --to BLADE   move a server profile (a failover when its blade\n"
		"                        failed)\n"
		"  vm set VM rate MBPS   a running VM's bandwidth\n"
		"  template list | del NAME     the network templates (VLAN, rate, trust, peers)\n"
		"  template add|set NAME [id N] [vlan X] [rate MBPS] [trusted on|off] [allow PEERS|-]\n"
		"                        PEERS: MACs and IPv4 prefixes, comma-separated; a set\n"
		"                        reaches every running VM of the template\n"
		"  account add NAME role Administrator|Operator|ReadOnly   a Redfish account (root);\n"
		"                        the password from the terminal (not echoed) or stdin\n"
		"  account del NAME | accounts      delete one | list them\n"
		"  audit                 every change asked (cmcctl, Redfish): when, who, from\n"
		"                        where, what, outcome\n"
		"  version               the daemon's version and uptime\n"
		"\n"
		"  -j, --json            JSON output\n"
		"  -s, --socket PATH     cmcd's socket (default $CMC_SOCKET or %s)\n",
		progname, DEFAULT_SOCKET);
}

static int connect_daemon(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: socket path too long: %s\n", progname, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", progname, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	int err = errno;
	close(fd);
	if (err == ENOENT || err == ECONNREFUSED)
		fprintf(stderr, "%s: cmcd is not running (%s at %s)\n", progname,
			err == ENOENT ? "no socket" : "nobody listening", path);
	else if (err == EACCES || err == EPERM)
		fprintf(stderr, "%s: permission denied on %s: run as root or join cmcd's group\n",
			progname, path);
	else
		fprintf(stderr, "%s: cannot reach cmcd at %s: %s\n", progname, path, strerror(err));
	return -1;
}

/* Reads one line (without the newline); NULL at EOF. */
static char *read_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);

	if (n <= 0) {
		free(line);
		return NULL;
	}
	if (line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

static int read_status(FILE *f, struct reply *r)
{
	char *line = read_line(f);

	if (!line) {
		fprintf(stderr, "%s: cmcd closed the connection without an answer\n", progname);
		return -1;
	}
	if (strcmp(line, "OK") == 0) {
		r->status = CMC_OK;
	} else if (sscanf(line, "ERR %d %511[^\n]", &r->status, r->message) == 2) {
		if (r->status != CMC_USAGE)
			r->status = CMC_REFUSED;
	} else {
		fprintf(stderr, "%s: unexpected answer from cmcd: %.80s\n", progname, line);
		free(line);
		return -1;
	}
	free(line);
	return 0;
}

static int read_reply(FILE *f, struct reply *r)
{
	char *line;

	if (read_status(f, r) < 0)
		return -1;
	while ((line = read_line(f))) {
		if (strcmp(line, ".") == 0) {
			free(line);
			return 0;
		}
		if (r->nlines == MAX_RECORDS) {
			free(line);
			continue;
		}
		char **l = realloc(r->lines, (r->nlines + 1) * sizeof(*l));
		if (!l) {
			free(line);
			return -1;
		}
		r->lines = l;
		r->lines[r->nlines++] = line;
	}
	fprintf(stderr, "%s: cmcd closed the connection in the middle of an answer\n", progname);
	return -1;
}

static void free_reply(struct reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
}

/* --- JSON ------------------------------------------------------------------------ */

static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_record(const struct cmc_record *rec)
{
	putchar('{');
	for (int i = 0; i < rec->nfields; i++) {
		if (i)
			putchar(',');
		json_string(rec->fields[i].key);
		putchar(':');
		if (rec->fields[i].literal)
			fputs(rec->fields[i].value, stdout);
		else
			json_string(rec->fields[i].value);
	}
}

static int parse_line(char *line, struct cmc_record *rec)
{
	if (cmc_rec_parse(line, rec) == 0)
		return 0;
	fprintf(stderr, "%s: malformed record from cmcd\n", progname);
	return -1;
}

/* `slot N`: one object, its functions nested; everything else: an array of objects. */
static int print_json(struct reply *r, const char *command)
{
	struct cmc_record rec;
	bool nest = strcmp(command, "slot") == 0 || strcmp(command, "version") == 0;
	size_t nested = 0;

	if (!nest)
		putchar('[');
	for (size_t i = 0; i < r->nlines; i++) {
		if (parse_line(r->lines[i], &rec) < 0)
			return -1;
		if (nest && i > 0) {
			fputs(nested++ ? "," : ",\"functions\":[", stdout);
			json_record(&rec);
			putchar('}');
			continue;
		}
		if (i)
			putchar(',');
		json_record(&rec);
		if (!nest)
			putchar('}');
	}
	if (nest)
		fputs(nested ? "]}" : (r->nlines ? "}" : "null"), stdout);
	else
		putchar(']');
	putchar('\n');
	return 0;
}

/* --- Tables ---------------------------------------------------------------------- */

struct column {
	const char *header;
	const char *key;
	void (*format)(const struct cmc_record *rec, char *buf, size_t len);
};

static const char *field(const struct cmc_record *rec, const char *key)
{
	const char *v = cmc_rec_get(rec, key);

	return v && strcmp(v, "null") != 0 && *v ? v : "-";
}

static void fmt_link(const struct cmc_record *rec, char *buf, size_t len)
{
	const char *speed = field(rec, "link_speed"), *link = field(rec, "link");

	if (strcmp(link, "down") == 0 || strcmp(link, "unknown") == 0)
		snprintf(buf, len, "%s", link);
	else if (strcmp(speed, "-") == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s x%s", speed, field(rec, "link_width"));
}

static void fmt_card(const struct cmc_record *rec, char *buf, size_t len)
{
	const char *card = cmc_rec_get(rec, "card");

	if (!card || !*card) /* no card read: the STATE column says why */
		snprintf(buf, len, strcmp(field(rec, "state"), "empty") == 0 ? "(empty)" : "-");
	else
		snprintf(buf, len, "%s:%s %s", field(rec, "vendor_id"), field(rec, "device_id"), card);
}

static void fmt_vfs(const struct cmc_record *rec, char *buf, size_t len)
{
	const char *sriov = cmc_rec_get(rec, "sriov");

	if (!sriov || strcmp(sriov, "true") != 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/%s", field(rec, "vfs_enabled"), field(rec, "vfs_total"));
}

static void fmt_fvfs(const struct cmc_record *rec, char *buf, size_t len)
{
	if (strcmp(field(rec, "kind"), "pf") != 0 || strcmp(field(rec, "sriov"), "true") != 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/%s", field(rec, "num_vfs"), field(rec, "total_vfs"));
}

static void fmt_fid(const struct cmc_record *rec, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s", field(rec, "vendor_id"), field(rec, "device_id"));
}

static const struct column slot_columns[] = {
	{ "SLOT", "slot", NULL }, { "STATE", "state", NULL }, { "PORT", "port", NULL },
	{ "LINK", NULL, fmt_link }, { "VFS", NULL, fmt_vfs }, { "PFS", "pfs", NULL },
	{ "CARD", NULL, fmt_card }, { "PROBLEMS", "problem_count", NULL }, { 0 },
};
static const struct column function_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "VF", "vf", NULL },
	{ "BDF", "bdf", NULL }, { "ID", NULL, fmt_fid }, { "VFS", NULL, fmt_fvfs },
	{ "DRIVER", "driver", NULL }, { "GROUP", "iommu_group", NULL },
	{ "NETDEV", "netdev", NULL }, { "NAME", "name", NULL }, { 0 },
};
static const struct column blade_columns[] = {
	{ "BLADE", "blade", NULL }, { "ID", "id", NULL }, { "FUNCTIONS", "functions", NULL }, { "PLACED", "placed", NULL }, { 0 },
};
static const struct column event_columns[] = {
	{ "TIME", "time", NULL }, { "KIND", "kind", NULL }, { "SLOT", "slot", NULL },
	{ "DETAIL", "detail", NULL }, { 0 },
};

/* A VF's transmit limiter: "off", or the register value written, and whether the card kept it. */
static void fmt_limiter(const struct cmc_record *rec, char *buf, size_t len)
{
	const char *reg = field(rec, "rate_reg");
	const char *lost = strcmp(field(rec, "rate_kept"), "false") == 0 ? " not kept by this card" : "";

	if (strcmp(reg, "-") == 0)
		snprintf(buf, len, "-");
	else if (strtoul(reg, NULL, 16) != 0)
		snprintf(buf, len, "%s%s", reg, lost);
	else if (strtoul(field(rec, "rate"), NULL, 10) != 0)
		snprintf(buf, len, "off (rate not below the link's %s Mbit/s)%s", field(rec, "rate_link_mbps"), lost);
	else
		snprintf(buf, len, "off%s", lost);
}

static const struct column vfstat_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "VF", "vf", NULL }, { "MAC", "mac", NULL },
	{ "RX_PKTS", "rx_packets", NULL }, { "TX_PKTS", "tx_packets", NULL },
	{ "RX_BYTES", "rx_bytes", NULL }, { "TX_BYTES", "tx_bytes", NULL },
	{ "MBX", "mbx_messages", NULL }, { "REFUSED", "mbx_refused", NULL }, { "RESETS", "mbx_resets", NULL },
	{ "PENALTIES", "mbx_penalties", NULL }, { "RATE", "rate", NULL }, { "LIMITER", NULL, fmt_limiter }, { 0 },
};

static const struct column portstat_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "DRIVER", "driver", NULL },
	{ "MODE", "mode", NULL }, { "RX_PKTS", "rx_packets", NULL }, { "TX_PKTS", "tx_packets", NULL },
	{ "RX_BYTES", "rx_bytes", NULL }, { "TX_BYTES", "tx_bytes", NULL }, { 0 },
};

static const struct column assignment_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "VF", "vf", NULL },
	{ "BLADE", "blade", NULL }, { "NETDEV", "netdev", NULL }, { "MAC", "mac", NULL },
	{ "VLAN", "vlan", NULL }, { "RATE", "rate", NULL }, { "TRUSTED", "trusted", NULL },
	{ "LANE", "lane", NULL }, { "TEMPLATE", "template", NULL }, { "PLACED", "placed", NULL }, { 0 },
};
static const struct column template_columns[] = {
	{ "TEMPLATE", "template", NULL }, { "ID", "id", NULL }, { "VLAN", "vlan", NULL },
	{ "RATE", "rate", NULL }, { "TRUSTED", "trusted", NULL }, { "VMS", "vms", NULL },
	{ "SOURCE", "source", NULL }, { "ALLOW", "allow", NULL }, { 0 },
};
static const struct column account_columns[] = {
	{ "ACCOUNT", "account", NULL }, { "ROLE", "role", NULL }, { 0 },
};
static const struct column audit_columns[] = {
	{ "ID", "id", NULL }, { "TIME", "time", NULL }, { "WHO", "who", NULL }, { "FROM", "from", NULL },
	{ "OK", "ok", NULL }, { "WHAT", "what", NULL }, { "OUTCOME", "outcome", NULL }, { 0 },
};
static const struct column domain_columns[] = {
	{ "DOMAIN", "domain", NULL }, { "VLAN", "vlan", NULL }, { "BLADES", "blades", NULL }, { 0 },
};
static const struct column lane_columns[] = {
	{ "LANE", "lane", NULL }, { "SLOT", "slot", NULL }, { "PF", "pf", NULL },
	{ "VLAN", "vlan", NULL }, { "BLADE_A", "blade_a", NULL }, { "VF_A", "vf_a", NULL },
	{ "ADDR_A", "addr_a", NULL }, { "BLADE_B", "blade_b", NULL }, { "VF_B", "vf_b", NULL },
	{ "ADDR_B", "addr_b", NULL }, { 0 },
};
static const struct column port_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "ROLE", "role", NULL },
	{ "VFS", "vfs", NULL }, { 0 },
};
static const struct column veb_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "MODE", "mode", NULL },
	{ "VFS", "vfs_used", NULL }, { "STATIC", "rar_used", NULL }, { "STATIC_MAX", "rar_total", NULL },
	{ "VLANS", "vlan_used", NULL }, { "VLANS_MAX", "vlan_total", NULL }, { 0 },
};
static const struct column fdb_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "MAC", "mac", NULL },
	{ "VLAN", "vlan", NULL }, { "POOLS", "pools", NULL }, { "KIND", "kind", NULL },
	{ "RX_PKTS", "rx_packets", NULL }, { "RX_BYTES", "rx_bytes", NULL }, { 0 },
};

static void fmt_mib(const struct cmc_record *rec, const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f MiB", strtod(field(rec, key), NULL) / 1048576.0);
}
static void fmt_transferred(const struct cmc_record *rec, char *buf, size_t len) { fmt_mib(rec, "transferred", buf, len); }
static void fmt_remaining(const struct cmc_record *rec, char *buf, size_t len) { fmt_mib(rec, "remaining", buf, len); }

static const struct column vm_columns[] = {
	{ "VM", "vm", NULL }, { "BLADE", "blade", NULL }, { "STATE", "state", NULL },
	{ "MEM", "mem", NULL }, { "PID", "pid", NULL }, { "MAC", "mac", NULL }, { "VLAN", "vlan", NULL },
	{ "RATE", "rate", NULL }, { "TEMPLATE", "template", NULL }, { "VF", "vf", NULL }, { "NOTE", "note", NULL },
	{ 0 },
};
static const struct column migration_columns[] = {
	{ "VM", "vm", NULL }, { "FROM", "from", NULL }, { "TO", "to", NULL }, { "LANE", "lane", NULL },
	{ "STATUS", "status", NULL }, { "MOVED", NULL, fmt_transferred }, { "LEFT", NULL, fmt_remaining },
	{ "MBIT/S", "mbps", NULL }, { "TIME_MS", "total_time_ms", NULL },
	{ "DOWNTIME_MS", "downtime_ms", NULL }, { "REASON", "reason", NULL }, { 0 },
};

static const struct column trust_columns[] = {
	{ "SLOT", "slot", NULL }, { "PF", "pf", NULL }, { "VF", "vf", NULL },
	{ "TRUSTED", "trusted", NULL }, { "KEPT", "kept", NULL }, { 0 },
};

static const struct column *columns_for(const char *type)
{
	static const struct {
		const char *type;
		const struct column *cols;
	} more[] = {
		{ "assignment", assignment_columns }, { "domain", domain_columns },
		{ "account", account_columns }, { "audit", audit_columns },
		{ "lane", lane_columns }, { "port", port_columns }, { "veb", veb_columns },
		{ "fdb", fdb_columns }, { "vm", vm_columns }, { "migration", migration_columns },
		{ "template", template_columns }, { "trust", trust_columns },
	};

	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (strcmp(type, more[i].type) == 0)
			return more[i].cols;
	if (strcmp(type, "portstat") == 0)
		return portstat_columns;
	if (strcmp(type, "vfstat") == 0)
		return vfstat_columns;
	if (strcmp(type, "slot") == 0)
		return slot_columns;
	if (strcmp(type, "function") == 0)
		return function_columns;
	if (strcmp(type, "blade") == 0)
		return blade_columns;
	if (strcmp(type, "event") == 0)
		return event_columns;
	return NULL;
}

static void cell(const struct column *c, const struct cmc_record *rec, char *buf, size_t len)
{
	if (c->format)
		c->format(rec, buf, len);
	else
		snprintf(buf, len, "%s", field(rec, c->key));
}

static void print_cell(const char *text, size_t width, bool last)
{
	if (last)
		printf("%s\n", text);
	else
		printf("%-*s  ", (int)width, text);
}

/* Prints the consecutive records [from, to) of one type as a table. */
static void print_table(struct cmc_record *recs, size_t from, size_t to, const struct column *cols)
{
	size_t ncol = 0, width[16] = { 0 };
	char buf[256];

	while (cols[ncol].header)
		ncol++;
	for (size_t c = 0; c < ncol; c++)
		width[c] = strlen(cols[c].header);
	for (size_t i = from; i < to; i++)
		for (size_t c = 0; c < ncol; c++) {
			cell(&cols[c], &recs[i], buf, sizeof(buf));
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	for (size_t c = 0; c < ncol; c++)
		print_cell(cols[c].header, width[c], c + 1 == ncol);
	for (size_t i = from; i < to; i++)
		for (size_t c = 0; c < ncol; c++) {
			cell(&cols[c], &recs[i], buf, sizeof(buf));
			print_cell(buf, width[c], c + 1 == ncol);
		}
}

static void print_plain(const struct cmc_record *rec)
{
	for (int i = 0; i < rec->nfields; i++)
		printf("%s%s: %s", i ? "  " : "", rec->fields[i].key, rec->fields[i].value);
	putchar('\n');
}

static int print_tables(struct reply *r)
{
	struct cmc_record *recs = calloc(r->nlines ? r->nlines : 1, sizeof(*recs));
	size_t start = 0;

	if (!recs)
		return -1;
	for (size_t i = 0; i < r->nlines; i++)
		if (parse_line(r->lines[i], &recs[i]) < 0)
			goto err;
	for (size_t i = 1; i <= r->nlines; i++) {
		if (i < r->nlines && strcmp(recs[i].type, recs[start].type) == 0)
			continue;
		const struct column *cols = columns_for(recs[start].type);
		if (start)
			putchar('\n');
		if (cols)
			print_table(recs, start, i, cols);
		else
			for (size_t k = start; k < i; k++)
				print_plain(&recs[k]);
		start = i;
	}
	free(recs);
	return 0;
err:
	free(recs);
	return -1;
}

/* --- Following events ------------------------------------------------------------ */

static int follow_events(FILE *f, bool json)
{
	char *line;
	struct cmc_record rec;

	if (!json)
		printf("%-24s  %-14s  %-4s  %s\n", "TIME", "KIND", "SLOT", "DETAIL");
	fflush(stdout);
	while ((line = read_line(f))) {
		if (parse_line(line, &rec) < 0) {
			free(line);
			return EXIT_REFUSED;
		}
		if (json) {
			json_record(&rec);
			puts("}");
		} else {
			printf("%-24s  %-14s  %-4s  %s\n", field(&rec, "time"), field(&rec, "kind"),
			       field(&rec, "slot"), field(&rec, "detail"));
		}
		fflush(stdout);
		free(line);
	}
	fprintf(stderr, "%s: cmcd went away\n", progname);
	return EXIT_REFUSED;
}

/* --- main -------------------------------------------------------------------------- */

/* Joins the command words into one request line; `events -f` becomes `events follow`. */
static int build_request(int argc, char **argv, char *req, size_t len, bool *follow)
{
	size_t off = 0;

	*follow = false;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		if (i == 1 && strcmp(argv[0], "events") == 0 &&
		    (strcmp(w, "-f") == 0 || strcmp(w, "follow") == 0)) {
			w = "follow";
			*follow = true;
		}
		if (i == 2 && strcmp(argv[0], "migrate") == 0 && strcmp(w, "--to") == 0)
			w = "to";
		if (i > 2 && strcmp(argv[0], "vm") == 0 && strcmp(w, "--template") == 0)
			w = "template";
		if (!*w || strpbrk(w, " \t\r\n")) {
			fprintf(stderr, "%s: an argument may not be empty or hold spaces: '%s'\n", progname, w);
			return -1;
		}
		int n = snprintf(req + off, len - off, "%s%s", i ? " " : "", w);
		if (n < 0 || (size_t)n >= len - off) {
			fprintf(stderr, "%s: command too long\n", progname);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* --- Following a migration ---------------------------------------------------------- */

/* One request, its reply's records parsed into rec (the caller frees r). */
static int ask(const char *sock, const char *line, struct reply *r)
{
	int fd = connect_daemon(sock), rc = -1;
	FILE *f;

	if (fd < 0)
		return -1;
	f = fdopen(fd, "r+");
	if (!f) {
		close(fd);
		return -1;
	}
	if (fprintf(f, "%s\n", line) >= 0 && fflush(f) == 0 && read_reply(f, r) == 0 && r->status == CMC_OK)
		rc = 0;
	fclose(f);
	return rc;
}

static bool migration_running(const struct cmc_record *m)
{
	const char *st = field(m, "status");

	return strcmp(st, "starting") == 0 || strcmp(st, "active") == 0 || strcmp(st, "switching") == 0;
}

static void progress_bar(const struct cmc_record *m)
{
	double moved = strtod(field(m, "transferred"), NULL), left = strtod(field(m, "remaining"), NULL);
	double frac = moved + left > 0 ? moved / (moved + left) : 0;
	int filled = (int)(frac * 30);

	printf("\r%-10s [%.*s%*s] %3d%%  %7.1f MiB  %s Mbit/s ", field(m, "status"), filled,
	       "##############################", 30 - filled, "", (int)(frac * 100), moved / 1048576.0,
	       field(m, "mbps"));
	fflush(stdout);
}

static bool any_running(struct reply *r)
{
	struct cmc_record rec;
	bool any = false;

	for (size_t i = 0; i < r->nlines && !any; i++) {
		char *copy = strdup(r->lines[i]);
		if (copy && parse_line(copy, &rec) == 0)
			any = migration_running(&rec);
		free(copy);
	}
	return any;
}

/*
 * `cmcctl migrations` on a terminal: after the table, a live bar per migration under
 * way, redrawn in place until none is left running (or cmcd goes away).
 */
static void watch_migrations(const char *sock)
{
	unsigned drawn = 0;

	for (;;) {
		struct reply r = { 0 };
		struct cmc_record rec;
		unsigned running = 0;

		if (ask(sock, "migrations", &r) < 0) {
			free_reply(&r);
			return;
		}
		if (drawn)
			printf("\033[%uA", drawn);	/* back over the bars drawn last time */
		unsigned printed = 0;
		if (!drawn)
			putchar('\n');
		for (size_t i = 0; i < r.nlines; i++) {
			if (parse_line(r.lines[i], &rec) < 0)
				continue;
			printf("%-16s", field(&rec, "vm"));
			progress_bar(&rec);
			printf("\033[K\n");
			printed++;
			running += migration_running(&rec);
		}
		drawn = printed;
		fflush(stdout);
		free_reply(&r);
		if (!running)
			return;
		usleep(250000);
	}
}

/*
 * `migrate` returns once the migration has started; cmcctl then follows it to its end
 * (cmcd bounds it: a lane that stops moving fails it), drawing a progress bar on a
 * terminal. Exit 0 once the VM runs on the destination, 1 if it failed.
 */
static int follow_migration(const char *sock, bool json, const char *vm)
{
	bool tty = isatty(STDOUT_FILENO) && !json;

	for (;;) {
		struct reply r = { 0 };
		struct cmc_record rec, found = { 0 };
		bool have = false;
		int rc = EXIT_REFUSED;

		if (ask(sock, "migrations", &r) < 0) {
			free_reply(&r);
			fprintf(stderr, "%s: lost cmcd while following the migration\n", progname);
			return EXIT_REFUSED;
		}
		for (size_t i = 0; i < r.nlines && !have; i++)
			if (parse_line(r.lines[i], &rec) == 0 && strcmp(field(&rec, "vm"), vm) == 0) {
				found = rec;
				have = true;
			}
		if (!have) {
			free_reply(&r);
			fprintf(stderr, "%s: cmcd has no migration of %s\n", progname, vm);
			return EXIT_REFUSED;
		}
		const char *st = field(&found, "status");
		bool done = strcmp(st, "completed") == 0, failed = strcmp(st, "failed") == 0;
		if (tty)
			progress_bar(&found);
		if (done || failed) {
			if (tty)
				putchar('\n');
			if (json) {
				json_record(&found);
				puts("}");
			} else {
				print_table(&found, 0, 1, migration_columns);
			}
			if (failed)
				fprintf(stderr, "%s: migration of %s failed: %s\n", progname, vm, field(&found, "reason"));
			rc = done ? 0 : EXIT_REFUSED;
			free_reply(&r);
			return rc;
		}
		free_reply(&r);
		usleep(250000);
	}
}

static int run(const char *sock, bool json, int argc, char **argv);

/* One line of password: from the terminal without echo (asked twice), else from stdin. */
static int read_password(char *out, size_t len)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	char again[256];

	for (int round = 0; round < (tty ? 2 : 1); round++) {
		char *buf = round ? again : out;
		size_t blen = round ? sizeof(again) : len;
		if (tty) {
			fprintf(stderr, round ? "Again: " : "Password: ");
			if (tcgetattr(STDIN_FILENO, &old) < 0)
				return -1;
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		char *got = fgets(buf, (int)blen, stdin);
		if (tty) {
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			fputc('\n', stderr);
		}
		if (!got)
			return -1;
		buf[strcspn(buf, "\r\n")] = '\0';
	}
	if (tty && strcmp(out, again) != 0) {
		fprintf(stderr, "%s: the passwords differ\n", progname);
		return -1;
	}
	explicit_bzero(again, sizeof(again));
	if (strlen(out) < 8) {
		fprintf(stderr, "%s: a password has 8 characters or more\n", progname);
		return -1;
	}
	return 0;
}

/*
 * account add NAME role ROLE: the password is hashed here (yescrypt, libxcrypt's default
 * cost), so that neither the password nor the slow hash reaches cmcd; the request
 * becomes "account add NAME role ROLE hash HASH".
 */
static int account_add(const char *sock, bool json, int argc, char **argv)
{
	char pw[256], salt[CRYPT_GENSALT_OUTPUT_SIZE], hash[CRYPT_OUTPUT_SIZE], hash_kw[] = "hash";
	struct crypt_data *cd;
	const char *h;
	char *words[8];

	if (argc != 5 || strcmp(argv[3], "role") != 0) {
		fprintf(stderr, "%s: usage: account add NAME role Administrator|Operator|ReadOnly\n", progname);
		return EXIT_USAGE;
	}
	if (read_password(pw, sizeof(pw)) < 0)
		return EXIT_REFUSED;
	cd = calloc(1, sizeof(*cd));
	h = cd && crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) ? crypt_r(pw, salt, cd) : NULL;
	explicit_bzero(pw, sizeof(pw));
	if (!h || h[0] == '*') {
		free(cd);
		fprintf(stderr, "%s: cannot hash the password (yescrypt)\n", progname);
		return EXIT_REFUSED;
	}
	snprintf(hash, sizeof(hash), "%s", h);
	free(cd);
	for (int i = 0; i < 5; i++)
		words[i] = argv[i];
	words[5] = hash_kw;
	words[6] = hash;
	words[7] = NULL;
	return run(sock, json, 7, words);
}

static int run(const char *sock, bool json, int argc, char **argv)
{
	char req[CMC_PROTO_MAX_LINE - 1];
	struct reply r = { 0 };
	bool follow, watch;
	int fd, rc = EXIT_REFUSED;
	FILE *f;

	if (build_request(argc, argv, req, sizeof(req), &follow) < 0)
		return EXIT_USAGE;
	fd = connect_daemon(sock);
	if (fd < 0)
		return EXIT_REFUSED;
	f = fdopen(fd, "r+");
	if (!f) {
		close(fd);
		return EXIT_REFUSED;
	}
	if (fprintf(f, "%s\n", req) < 0 || fflush(f) != 0) {
		fprintf(stderr, "%s: cannot send to cmcd: %s\n", progname, strerror(errno));
		goto out;
	}
	if (read_reply(f, &r) < 0)
		goto out;
	if (r.status != CMC_OK) {
		fprintf(stderr, "%s: %s\n", progname, r.message);
		rc = r.status == CMC_USAGE ? EXIT_USAGE : EXIT_REFUSED;
		goto out;
	}
	if (strcmp(argv[0], "migrate") == 0 && argc >= 2) {
		/* A server profile's move is over when cmcd answers: show where it is now. */
		struct reply q = { 0 };
		char line[128];

		snprintf(line, sizeof(line), "server-profile show %.64s", argv[1]);
		if (ask(sock, line, &q) == 0) {
			rc = (json ? print_json(&q, "server-profile") : print_tables(&q)) < 0 ? EXIT_REFUSED : 0;
			free_reply(&q);
			goto out;
		}
		free_reply(&q);
		rc = follow_migration(sock, json, argv[1]);
		goto out;
	}
	/* Asked before printing: printing parses the records in place. */
	watch = strcmp(argv[0], "migrations") == 0 && !json && isatty(STDOUT_FILENO) && any_running(&r);
	if ((json ? print_json(&r, argv[0]) : print_tables(&r)) < 0)
		goto out;
	if (watch)
		watch_migrations(sock);
	rc = follow ? follow_events(f, json) : 0;
out:
	free_reply(&r);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("CMC_SOCKET");
	bool json = false;
	int c;

	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	while ((c = getopt_long(argc, argv, "+js:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': sock = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {	/* what an admin types first: no daemon needed */
		usage(stdout);
		return 0;
	}
	if (argc - optind >= 2 && strcmp(argv[optind], "account") == 0 && strcmp(argv[optind + 1], "add") == 0)
		return account_add(sock, json, argc - optind, argv + optind);
	return run(sock, json, argc - optind, argv + optind);
}
