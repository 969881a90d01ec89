/* SPDX-License-Identifier: MIT */
/*
 * Test tool: a hostile VF. Holds a VF of a cmcd-owned PF through VFIO and abuses the
 * PF<->VF mailbox for a while: random words, valid ids with hostile arguments (another
 * VF's MAC, VLAN 5000, frame sizes 0 and 0xffffffff, 255 multicast hashes), floods
 * without waiting, reset storms, and sitting on the mailbox lock while raising requests.
 *   vf-hostile [--token-file FILE] VF_BDF SECONDS [SEED [KIND]]
 *     KIND: random|hostile-valid|flood|reset-storm|lock-hold (mixed when none is given),
 *           or one of these, never mixed in: req-flood (REQ alone, no pause), lock-storm
 *           (the lock held while raising REQ, no pause), vflr-storm (the VF resets itself
 *           through its CTRL.RST, no pause: each reset is a VFLRE at the PF)
 * The VF is opened with its PF's VF token, read from FILE (default: cmcd's token file of
 * the VF's PF, /run/cmc/vf-token/PF_BDF). Prints what it sent; exits 0 unless it could
 * not get hold of the VF (1, saying why) or was misused (2).
 */
#include "igb_mbx.h"
#include "igb_regs.h"
#include "pci_sysfs.h"
#include "vf_token.h"
#include "vfio.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The VF's own view of its mailbox (82576 datasheet 8.14, VF registers). */
#define VF_V2PMAILBOX 0x0C40
#define VF_VMBMEM 0x0800
#define VF_CTRL 0x0000		/* the VF's CTRL: RST resets the VF (QEMU: VFLRE at the PF) */

static volatile uint8_t *bar;

static void vf_wr(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(bar + reg) = v; }
static uint32_t vf_rd(uint32_t reg) { return *(volatile uint32_t *)(bar + reg); }

static void send_msg(const uint32_t *words, unsigned n, bool hold_lock)
{
	vf_wr(VF_V2PMAILBOX, IGB_V2PMAILBOX_VFU);
	for (unsigned i = 0; i < n; i++)
		vf_wr(VF_VMBMEM + 4 * i, words[i]);
	/* REQ raises the PF's interrupt; keeping VFU set makes the PF unable to lock. */
	vf_wr(VF_V2PMAILBOX, IGB_V2PMAILBOX_REQ | (hold_lock ? IGB_V2PMAILBOX_VFU : 0));
}

static void random_words(void)
{
	uint32_t w[16];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)random() ^ ((uint32_t)random() << 16);
	send_msg(w, 16, false);
}

static void hostile_valid(void)
{
	uint32_t w[16] = { 0 };

	switch (random() % 6) {
	case 0: /* another VF's MAC (igb-pf-serve gives VF n 02:cc:00:00:00:0n) */
		w[0] = IGB_MBX_VF_SET_MAC;
		w[1] = 0x0000cc02;
		w[2] = 0x00000000;
		break;
	case 1: w[0] = IGB_MBX_VF_SET_VLAN | (1u << 16); w[1] = 5000; break;
	case 2: w[0] = IGB_MBX_VF_SET_LPE; w[1] = 0; break;
	case 3: w[0] = IGB_MBX_VF_SET_LPE; w[1] = 0xffffffffu; break;
	case 4: w[0] = IGB_MBX_VF_SET_MULTICAST | (255u << 16); break;
	default: w[0] = IGB_MBX_VF_SET_PROMISC | (3u << 16); break;
	}
	send_msg(w, 16, false);
}

/* The kinds that never pause: 1000 writes at a time, as fast as the VF can write. */
static void no_pause(int kind)
{
	uint32_t frame[2] = { IGB_MBX_VF_SET_LPE, 1518 };

	for (int i = 0; i < 1000; i++) {
		if (kind == 5)
			vf_wr(VF_V2PMAILBOX, IGB_V2PMAILBOX_REQ);
		else if (kind == 6)
			send_msg(frame, 2, true);
		else
			vf_wr(VF_CTRL, IGB_CTRL_RST);
	}
}

/* The default token file: the one cmcd keeps for the VF's PF. */
static int default_token_file(const char *vf_bdf, char *out, size_t len)
{
	char pf[32];
	int rc = pci_sysfs_pf_bdf(vf_bdf, pf, sizeof(pf));

	return rc ? rc : vf_token_path(VF_TOKEN_DEFAULT_DIR, pf, out, len);
}

/* Opens the VF through VFIO with the token of token_file (NULL: the default one). */
static int hold_vf(const char *vf_bdf, const char *token_file, struct vfio_dev **dev)
{
	char path[PATH_MAX], text[VF_TOKEN_STRLEN], err[256] = "";
	uint8_t token[16];
	size_t len;
	int rc = 0;

	if (token_file)
		snprintf(path, sizeof(path), "%s", token_file);
	else
		rc = default_token_file(vf_bdf, path, sizeof(path));
	if (rc) {
		fprintf(stderr, "vf-hostile: %s is not a VF (no physfn): %s\n", vf_bdf, strerror(-rc));
		return rc;
	}
	rc = vf_token_read(path, token);
	if (rc) {
		fprintf(stderr, "vf-hostile: no VF token in %s: %s\n", path,
			rc == -EINVAL ? "not a UUID" : strerror(-rc));
		return rc;
	}
	vf_token_format(token, text);
	rc = vfio_dev_open(vf_bdf, text, dev, err, sizeof(err));
	if (!rc && (rc = vfio_dev_map_bar(*dev, 0, &bar, &len)) != 0)
		snprintf(err, sizeof(err), "BAR0: %s", strerror(-rc));
	if (rc)
		fprintf(stderr, "vf-hostile: cannot hold %s: %s\n", vf_bdf, err);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "token-file", required_argument, NULL, 't' }, { 0 } };
	struct vfio_dev *dev;
	const char *token_file = NULL;
	unsigned long counts[8] = { 0 };
	static const char *const kinds[] = { "random",	  "hostile-valid", "flood",	"reset-storm",
					     "lock-hold", "req-flood",	   "lock-storm", "vflr-storm" };
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 't')
			return 2;
		token_file = optarg;
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 3) {
		fprintf(stderr, "usage: vf-hostile [--token-file FILE] VF_BDF SECONDS [SEED [KIND]]\n");
		return 2;
	}
	srandom(argc > 3 ? (unsigned)atoi(argv[3]) : (unsigned)time(NULL));
	if (hold_vf(argv[1], token_file, &dev))
		return 1;
	int only = -1;
	for (int k = 0; argc > 4 && k < 8; k++)
		if (strcmp(argv[4], kinds[k]) == 0)
			only = k;
	if (argc > 4 && only < 0) {
		fprintf(stderr, "vf-hostile: unknown kind %s\n", argv[4]);
		return 2;
	}
	time_t end = time(NULL) + atoi(argv[2]);
	while (time(NULL) < end) {
		int kind = only >= 0 ? only : (int)(random() % 5);
		counts[kind]++;
		switch (kind) {
		case 0: random_words(); break;
		case 1: hostile_valid(); break;
		case 2:
			for (int i = 0; i < 200; i++)
				random_words();
			break;
		case 3:
			for (int i = 0; i < 50; i++) {
				uint32_t reset = IGB_MBX_VF_RESET;
				send_msg(&reset, 1, false);
			}
			break;
		case 4: {
			uint32_t frame[2] = { IGB_MBX_VF_SET_LPE, 1518 };
			send_msg(frame, 2, true);
			usleep(200000);	/* sit on the lock */
			vf_wr(VF_V2PMAILBOX, 0);
			break;
		}
		default:
			no_pause(kind);
			continue;
		}
		(void)vf_rd(VF_V2PMAILBOX);
		usleep(1000);
	}
	for (int k = 0; k < 8; k++)
		printf("vf-hostile %s %lu\n", kinds[k], counts[k]);
	vfio_dev_close(dev);
	return 0;
}
