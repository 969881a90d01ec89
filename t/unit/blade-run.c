/* SPDX-License-Identifier: MIT */
/*
 * A program run inside a blade and waited for (mp_blade_run, netns backend), against the
 * host's own kernel: it runs in the blade's namespace with its input on stdin (it sets
 * the blade's loopback MTU to what it reads, which the host's loopback does not get), a
 * failure comes back with what it printed, a program that runs too long is killed within
 * its time, and an nftables ruleset (a template's, template.h) goes into the blade and
 * only there. Needs root (namespaces); it skips without. The blade is removed at the end.
 */
#include "blade.h"
#include "clock.h"
#include "tap.h"
#include "template.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLADE "cmc-run-test"
#define NFT "/usr/sbin/nft"

/* The first line a shell command prints. */
static void first_line(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");

	out[0] = '\0';
	if (p) {
		if (!fgets(out, (int)len, p))
			out[0] = '\0';
		pclose(p);
	}
}

static void test_nft(struct mp_blade_backend *be)
{
	static const char *const nft[] = { NFT, "-f", "-", NULL };
	struct cmc_template t = { .name = "web", .id = 7 };
	char rules[4096], err[256] = "", out[256], table[32];
	uint8_t mac[6];

	if (access(NFT, X_OK) != 0) {
		tap_ok(1, "# SKIP no " NFT " (apt-get install nftables)");
		return;
	}
	(void)!vb_mac_parse("06:07:00:00:00:2a", mac);
	(void)!cmc_allow_list_parse("10.9.0.0/24", &t, NULL, 0);
	cmc_template_nft_table("vtp-s1v2", table);
	(void)cmc_template_nft(&t, table, "vtp-s1v2", mac, rules, sizeof(rules));
	if (!tap_ok(mp_blade_run(be, BLADE, nft, rules, 2000, err, sizeof(err)) == 0, "a template's rules into the blade"))
		tap_diag("%s", err);
	first_line("ip netns exec " BLADE " " NFT " list tables 2>&1", out, sizeof(out));
	tap_is_str(out, "table bridge cmc-acl-vtp-s1v2\n", "  the blade has the port's table");
	first_line(NFT " list tables 2>&1 | grep cmc-acl-vtp-s1v2", out, sizeof(out));
	tap_is_str(out, "", "  the host has not");
	tap_is_int(mp_blade_run(be, BLADE, nft, rules, 2000, err, sizeof(err)), 0, "  the same rules again: replaced");
	first_line("ip netns exec " BLADE " " NFT " list table bridge cmc-acl-vtp-s1v2 | grep -c 'oifname \"vtp-s1v2\" drop'",
		   out, sizeof(out));
	tap_is_str(out, "1\n", "  once, not twice");
	tap_is_int(mp_blade_run(be, BLADE, nft, "table bridge x {\n\tchain y {\n\t\tip saddr 1.2.3.4/33 accept\n\t}\n}\n", 2000, err,
				sizeof(err)), -EIO, "rules nftables refuses: -EIO");
	tap_ok(strstr(err, "Prefix length 33 is invalid") != NULL, "  with nft's own words (%s)", err);
	(void)cmc_template_nft_remove(table, rules, sizeof(rules));
	tap_is_int(mp_blade_run(be, BLADE, nft, rules, 2000, err, sizeof(err)), 0, "the table removed");
	first_line("ip netns exec " BLADE " " NFT " list tables 2>&1", out, sizeof(out));
	tap_is_str(out, "", "  gone from the blade");
	tap_is_int(mp_blade_run(be, BLADE, nft, rules, 2000, err, sizeof(err)), 0, "  removing it again: no error");
}

int main(void)
{
	static const char *const set_mtu[] = { "/bin/sh", "-c", "read m; ip link set dev lo mtu \"$m\"", NULL };
	static const char *const fails[] = { "/bin/sh", "-c", "echo boom >&2; exit 3", NULL };
	static const char *const sleeps[] = { "/bin/sleep", "5", NULL };
	static const char *const nothing[] = { "/nonexistent/program", NULL };
	struct mp_blade_backend *be = NULL;
	char err[256] = "", out[256], host_mtu[256];
	unsigned long long t0;
	int rc;

	if (geteuid() != 0 || system("command -v ip >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP needs root and iproute2\n");
		return 0;
	}
	(void)!system("ip netns delete " BLADE " 2>/dev/null");
	tap_ok(mp_blade_backend_open("netns", &be, err, sizeof(err)) == 0, "netns backend");
	tap_ok(be && mp_blade_create(be, BLADE, err, sizeof(err)) == 0, "blade %s", BLADE);
	if (!be)
		return tap_done();
	first_line("cat /sys/class/net/lo/mtu", host_mtu, sizeof(host_mtu));
	tap_is_int(mp_blade_run(be, BLADE, set_mtu, "1280\n", 2000, err, sizeof(err)), 0, "a shell in the blade");
	first_line("ip netns exec " BLADE " cat /sys/class/net/lo/mtu", out, sizeof(out));
	tap_is_str(out, "1280\n", "  read its stdin and set the blade's loopback MTU");
	first_line("cat /sys/class/net/lo/mtu", out, sizeof(out));
	tap_is_str(out, host_mtu, "  the host's loopback kept its own");

	tap_is_int(mp_blade_run(be, BLADE, fails, NULL, 2000, err, sizeof(err)), -EIO, "a program that fails: -EIO");
	tap_is_str(err, "/bin/sh on blade " BLADE ": boom ", "  with what it printed");
	t0 = cmc_now_ms();
	rc = mp_blade_run(be, BLADE, sleeps, NULL, 300, err, sizeof(err));
	tap_is_int(rc, -ETIMEDOUT, "a program running past its 300 ms: -ETIMEDOUT");
	tap_ok(cmc_now_ms() - t0 < 1500, "  answered in %llu ms, not the 5 s it would take", cmc_now_ms() - t0);
	tap_is_int(mp_blade_run(be, BLADE, nothing, NULL, 2000, err, sizeof(err)), -ENOENT, "no such program: -ENOENT");
	tap_is_int(mp_blade_run(be, "cmc-no-such-blade", set_mtu, "1280\n", 2000, err, sizeof(err)), -ENOENT,
		   "no such blade: -ENOENT");
	tap_is_int(mp_blade_run(be, BLADE, sleeps, NULL, 0, err, sizeof(err)), -EINVAL, "an unbounded run: refused");
	test_nft(be);

	mp_blade_backend_close(be);
	(void)!system("ip netns delete " BLADE " 2>/dev/null");
	return tap_done();
}
