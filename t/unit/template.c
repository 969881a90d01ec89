/* SPDX-License-Identifier: MIT */
/*
 * Network templates (cmc/template.h): access lists as text, the template-coded MAC, and
 * the nftables ruleset of a VM's bridge port, generated and then checked by nftables
 * itself (`nft -c -f`, which parses the ruleset and has the kernel validate it without
 * committing anything) when the host has nft and the right to use it; said as a skip
 * otherwise.
 */
#include "template.h"
#include "tap.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NFT "/usr/sbin/nft"

static void test_allow(void)
{
	struct cmc_allow a;
	struct cmc_template t = { .name = "web", .id = 1 };
	char err[256] = "", buf[CMC_ALLOW_LIST_STRLEN], one[CMC_ALLOW_STRLEN];

	tap_ok(cmc_allow_parse("10.9.0.0/24", &a, err, sizeof(err)) == 0 && !a.is_mac && a.addr == 0x0a090000 &&
	       a.plen == 24, "10.9.0.0/24: a prefix");
	tap_ok(cmc_allow_parse("10.9.0.7", &a, err, sizeof(err)) == 0 && a.plen == 32, "10.9.0.7: a /32");
	tap_is_str(cmc_allow_str(&a, one), "10.9.0.7/32", "  written back as 10.9.0.7/32");
	tap_ok(cmc_allow_parse("02:CC:00:00:00:01", &a, err, sizeof(err)) == 0 && a.is_mac && a.mac[1] == 0xcc,
	       "02:CC:00:00:00:01: a MAC");
	tap_is_int(cmc_allow_parse("10.9.0.1/24", &a, err, sizeof(err)), -EINVAL, "10.9.0.1/24: refused");
	tap_is_str(err, "'10.9.0.1/24' has host bits set (the prefix is 10.9.0.0/24)", "  host bits set, with the prefix");
	tap_is_int(cmc_allow_parse("10.9.0.0/33", &a, err, sizeof(err)), -EINVAL, "/33: refused");
	tap_is_str(err, "'10.9.0.0/33': a prefix length is 1..32", "  with its reason");
	tap_is_int(cmc_allow_parse("0.0.0.0/0", &a, err, sizeof(err)), -EINVAL, "/0 (everyone: an empty list says that)");
	tap_is_int(cmc_allow_parse("10.9.0.0/", &a, err, sizeof(err)), -EINVAL, "a slash and no length");
	tap_is_int(cmc_allow_parse("10.9.0.0/+8", &a, err, sizeof(err)), -EINVAL, "a signed length");
	tap_is_int(cmc_allow_parse("10.9.0", &a, err, sizeof(err)), -EINVAL, "three octets");
	tap_is_int(cmc_allow_parse("web", &a, err, sizeof(err)), -EINVAL, "a word");
	tap_is_str(err, "'web' is neither a MAC nor an IPv4 prefix", "  with its reason");
	tap_is_int(cmc_allow_parse("01:00:5e:00:00:01", &a, err, sizeof(err)), -EINVAL, "a multicast MAC");
	tap_is_int(cmc_allow_parse("02:cc:00:00:01", &a, err, sizeof(err)), -EINVAL, "five octets");

	tap_is_int(cmc_allow_list_parse("10.9.0.0/24,02:cc:00:00:00:01,10.8.0.7", &t, err, sizeof(err)), 0,
		   "a list of three");
	tap_is_str(cmc_allow_list_str(&t, buf), "10.9.0.0/24,02:cc:00:00:00:01,10.8.0.7/32", "  written back in order");
	tap_is_int(cmc_allow_list_parse("10.1.0.0/16,10.1.0.0/16", &t, err, sizeof(err)), -EINVAL, "a peer twice");
	tap_is_int(t.n_allow, 3, "  the list as it was");
	tap_is_int(cmc_allow_list_parse("10.1.0.0/16,", &t, err, sizeof(err)), -EINVAL, "a trailing comma");
	tap_is_int(cmc_allow_list_parse(",10.1.0.0/16", &t, err, sizeof(err)), -EINVAL, "a leading comma");
	tap_is_int(cmc_allow_list_parse("10.1.0.0/16,,10.2.0.0/16", &t, err, sizeof(err)), -EINVAL, "an empty entry");
	{
		char many[400] = "";

		for (unsigned i = 0; i <= CMC_TEMPLATE_ALLOW_MAX; i++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.%u.0.0/16", i ? "," : "", i);
		tap_is_int(cmc_allow_list_parse(many, &t, err, sizeof(err)), -E2BIG, "17 peers: too many");
	}
	tap_is_int(cmc_allow_list_parse("-", &t, err, sizeof(err)), 0, "\"-\": the empty list");
	tap_ok(t.n_allow == 0 && strcmp(cmc_allow_list_str(&t, buf), "-") == 0, "  written back as -");
}

static void test_check_and_macs(void)
{
	struct cmc_template t = { .name = "web", .id = 7, .vlan = 100, .rate = 50 };
	char err[256] = "";
	uint8_t mac[6];
	unsigned id = 0;

	tap_is_int(cmc_template_check(&t, err, sizeof(err)), 0, "web: id 7, vlan 100, 50 Mbit/s");
	t.id = 0;
	tap_is_int(cmc_template_check(&t, err, sizeof(err)), -EINVAL, "id 0: refused");
	t.id = 7;
	t.vlan = 4000;
	tap_is_int(cmc_template_check(&t, err, sizeof(err)), -EINVAL, "VLAN 4000 (the lanes'): refused");
	tap_is_str(err, "template web: VLAN 4000 is out of range 1..3999 (4000-4094 are the lanes')", "  with its reason");
	t.vlan = 0;
	t.rate = 1001;
	tap_is_int(cmc_template_check(&t, err, sizeof(err)), -EINVAL, "1001 Mbit/s: refused");
	t.rate = 0;
	snprintf(t.name, sizeof(t.name), "we b");
	tap_is_int(cmc_template_check(&t, err, sizeof(err)), -EINVAL, "a name with a space: refused");

	(void)!vb_mac_parse("06:07:00:00:00:2a", mac);
	tap_ok(cmc_template_mac_coded(mac, &id) && id == 7, "06:07:00:00:00:2a carries template id 7");
	(void)!vb_mac_parse("06:00:00:00:00:2a", mac);
	tap_ok(!cmc_template_mac_coded(mac, NULL), "06:00:...: id 0 is no template");
	(void)!vb_mac_parse("02:07:00:00:00:2a", mac);
	tap_ok(!cmc_template_mac_coded(mac, NULL), "02:07:...: not coded (bit 2 of octet 0 clear)");
	(void)!vb_mac_parse("0e:07:00:00:00:2a", mac);
	tap_ok(!cmc_template_mac_coded(mac, NULL), "0e:07:...: not coded (octet 0 is exactly 0x06)");
}

static const char want_web[] =
	"table bridge cmc-acl-vtp-s1v2\n"
	"delete table bridge cmc-acl-vtp-s1v2\n"
	"table bridge cmc-acl-vtp-s1v2 {\n"
	"\tchain acl {\n"
	"\t\ttype filter hook forward priority 0; policy accept;\n"
	"\t\tiifname \"vtp-s1v2\" ether saddr != 06:07:00:00:00:2a drop\n"
	"\t\toifname \"vtp-s1v2\" ether saddr { 02:cc:00:00:00:01 } accept\n"
	"\t\toifname \"vtp-s1v2\" ether type arp arp saddr ip { 10.9.0.0/24, 10.8.0.7/32 } accept\n"
	"\t\toifname \"vtp-s1v2\" ip saddr { 10.9.0.0/24, 10.8.0.7/32 } accept\n"
	"\t\toifname \"vtp-s1v2\" drop\n"
	"\t\tiifname \"vtp-s1v2\" ether type arp arp operation request accept\n"
	"\t\tiifname \"vtp-s1v2\" ether daddr { 02:cc:00:00:00:01 } accept\n"
	"\t\tiifname \"vtp-s1v2\" ether type arp arp daddr ip { 10.9.0.0/24, 10.8.0.7/32 } accept\n"
	"\t\tiifname \"vtp-s1v2\" ip daddr { 10.9.0.0/24, 10.8.0.7/32 } accept\n"
	"\t\tiifname \"vtp-s1v2\" drop\n"
	"\t}\n"
	"}\n";

/* The rulesets the checks below hand to nft, kept for the validation at the end. */
static char rulesets[5][4096];

static void test_generator(void)
{
	struct cmc_template t = { .name = "web", .id = 7 };
	uint8_t mac[6];
	char table[32], small[16];
	int n;

	(void)!vb_mac_parse("06:07:00:00:00:2a", mac);
	(void)!cmc_allow_list_parse("10.9.0.0/24,02:cc:00:00:00:01,10.8.0.7", &t, NULL, 0);
	cmc_template_nft_table("vtp-s1v2", table);
	tap_is_str(table, "cmc-acl-vtp-s1v2", "the port's table is named after it");
	n = cmc_template_nft(&t, table, "vtp-s1v2", mac, rulesets[0], sizeof(rulesets[0]));
	tap_is_int(n, (int)strlen(want_web), "web's ruleset: its length returned");
	tap_is_str(rulesets[0], want_web, "  the rules: allowed peers in, allowed peers and ARP requests out, "
		   "the rest dropped, the VM's own MAC only");
	tap_is_int(cmc_template_nft(&t, table, "vtp-s1v2", mac, small, sizeof(small)), (int)strlen(want_web),
		   "a buffer too small: the length it needs, as snprintf");
	tap_ok(strlen(small) == sizeof(small) - 1, "  and what fitted, terminated");

	t.n_allow = 0;
	(void)cmc_template_nft(&t, table, "vtp-s1v2", mac, rulesets[1], sizeof(rulesets[1]));
	tap_ok(strstr(rulesets[1], "ether saddr != 06:07:00:00:00:2a drop") && !strstr(rulesets[1], "oifname") &&
	       !strstr(rulesets[1], "accept\n"), "everyone allowed, not trusted: only its own MAC may leave it");
	t.trusted = true;
	(void)cmc_template_nft(&t, table, "vtp-s1v2", mac, rulesets[2], sizeof(rulesets[2]));
	tap_ok(!strstr(rulesets[2], "iifname") && !strstr(rulesets[2], "oifname"),
	       "everyone allowed, trusted: a table with no rule");
	(void)!cmc_allow_list_parse("10.9.0.1", &t, NULL, 0);
	(void)cmc_template_nft(&t, table, "vtp-s1v2", mac, rulesets[3], sizeof(rulesets[3]));
	tap_ok(!strstr(rulesets[3], "ether saddr {") && strstr(rulesets[3], "ip saddr { 10.9.0.1/32 } accept"),
	       "addresses only: no MAC set (nft refuses an empty one)");
	n = cmc_template_nft_remove(table, rulesets[4], sizeof(rulesets[4]));
	tap_is_str(rulesets[4], "table bridge cmc-acl-vtp-s1v2\ndelete table bridge cmc-acl-vtp-s1v2\n",
		   "removal: declared then deleted (no error when absent)");
	tap_is_int(cmc_template_nft(&t, table, "vtp s1v2", mac, small, sizeof(small)), -EINVAL, "a port with a space");
	tap_is_int(cmc_template_nft(&t, table, "vtp\"s1v2", mac, small, sizeof(small)), -EINVAL, "a port with a quote");
	tap_is_int(cmc_template_nft(&t, "t;flush ruleset", "vtp-s1v2", mac, small, sizeof(small)), -EINVAL,
		   "a table with a semicolon");
}

/* nft -c -f FILE on text: its exit status (0 valid), or -1 when it cannot be run. */
static int nft_check(const char *text, char *out, size_t outlen)
{
	char path[] = "/tmp/cmc-nft-XXXXXX", cmd[128];
	int fd = mkstemp(path), st;
	FILE *p;
	size_t n = 0;

	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), NFT " -c -f %s 2>&1", path);
	p = popen(cmd, "r");
	if (!p) {
		unlink(path);
		return -1;
	}
	while (n + 1 < outlen && fgets(out + n, (int)(outlen - n), p))
		n = strlen(out);
	st = pclose(p);
	unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_nft_validates(void)
{
	char out[2048] = "", broken[4096];
	int rc;

	if (access(NFT, X_OK) != 0 || geteuid() != 0) {
		tap_ok(1, "# SKIP no %s here, or not root: the rulesets are not validated (apt-get install nftables)",
		       NFT);
		return;
	}
	/* A ruleset nftables refuses: the check below can fail. */
	snprintf(broken, sizeof(broken), "%s", rulesets[0]);
	memcpy(strstr(broken, "10.9.0.0/24"), "10.9.0.0/33", 11);
	rc = nft_check(broken, out, sizeof(out));
	if (rc < 0) {
		tap_ok(1, "# SKIP nft cannot be run here");
		return;
	}
	tap_ok(rc != 0, "nft -c refuses a ruleset with a /33 (the check can fail)");
	for (unsigned i = 0; i < 5; i++) {
		out[0] = '\0';
		rc = nft_check(rulesets[i], out, sizeof(out));
		if (!tap_ok(rc == 0, "nft -c -f accepts generated ruleset %u", i))
			tap_diag("%s\n%s", rulesets[i], out);
	}
}

int main(void)
{
	test_allow();
	test_check_and_macs();
	test_generator();
	test_nft_validates();
	return tap_done();
}
