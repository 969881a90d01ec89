/* SPDX-License-Identifier: MIT */
/*
 * frame-times: when ICMP echo requests (RFC 792) to one MAC, and echo replies from it,
 * first crossed each interface of a network namespace: where a VM's network outage goes
 * after a migration's switch-over (bench/vm-outage.pl; doc/vm-network.md).
 *
 *   frame-times [-d SECONDS] MAC
 *
 * Listens on every interface of its namespace, also those that appear later (AF_PACKET,
 * ETH_P_ALL: frames received and sent), for -d seconds (default 60) or until SIGINT/
 * SIGTERM, then prints one line per interface that saw any such frame:
 *   if=NAME requests=N first_request_unix_ms=T replies=N first_reply_unix_ms=T
 *   first_reply_after_ms=A median_reply_after_ms=M
 * requests: IPv4 ICMP echo requests whose destination MAC is MAC; replies: echo replies
 * whose source MAC is MAC; T: the kernel's stamp of the first one (SO_TIMESTAMPNS, the
 * real-time clock), ms since the Unix epoch, 0.001 ms; 0 if none. A: how long after its
 * request (same identifier and sequence number, seen on the same interface) the first
 * reply crossed; M: the same, the median over all replies (on a VM's tap: how long the
 * VM took to answer, first and usually); -1 if no reply matched. Exit 0, 1 on an error of
 * the socket, 2 on usage.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IF_MAX 16
#define REQ_SLOTS 4096			/* requests remembered per interface, by id and sequence */
#define LAT_MAX 8192			/* reply latencies kept per interface, for the median */

struct seen {
	int ifindex;
	char name[IF_NAMESIZE];
	unsigned long requests, replies;
	double first_request, first_reply, first_after;
	struct {
		uint32_t key;		/* id << 16 | seq, + 1 (0: empty) */
		double t;
	} req[REQ_SLOTS];
	double lat[LAT_MAX];
	unsigned nlat;
};

static volatile sig_atomic_t stop;
static struct seen ifs[IF_MAX];
static unsigned nifs;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct seen *seen_for(int ifindex)
{
	for (unsigned i = 0; i < nifs; i++)
		if (ifs[i].ifindex == ifindex)
			return &ifs[i];
	if (nifs == IF_MAX)
		return NULL;
	ifs[nifs].ifindex = ifindex;
	ifs[nifs].first_after = -1;
	if (!if_indextoname((unsigned)ifindex, ifs[nifs].name))
		snprintf(ifs[nifs].name, sizeof(ifs[nifs].name), "#%d", ifindex);
	return &ifs[nifs++];
}

/* 8: an echo request to mac, 0: an echo reply from it, -1: neither; *key: its identifier
 * and sequence number. */
static int icmp_type(const uint8_t *f, ssize_t n, const uint8_t mac[6], uint32_t *key)
{
	size_t ihl;

	if (n < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4 || f[14 + 9] != 1)
		return -1;
	ihl = (size_t)(f[14] & 0xF) * 4;
	if (ihl < 20 || (size_t)n < 14 + ihl + 8)
		return -1;
	*key = ((uint32_t)f[14 + ihl + 4] << 24 | (uint32_t)f[14 + ihl + 5] << 16 | (uint32_t)f[14 + ihl + 6] << 8 |
		f[14 + ihl + 7]) + 1;
	if (f[14 + ihl] == 8 && memcmp(f, mac, 6) == 0)
		return 8;
	if (f[14 + ihl] == 0 && memcmp(f + 6, mac, 6) == 0)
		return 0;
	return -1;
}

/* The frame's kernel stamp in ms since the epoch, else the clock now. */
static double stamp_ms(struct msghdr *m)
{
	struct timespec ts;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
		}
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void take(int fd, const uint8_t mac[6])
{
	uint8_t f[256], ctl[128];
	struct sockaddr_ll from;
	struct iovec iov = { .iov_base = f, .iov_len = sizeof(f) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
	uint32_t key = 0;
	int type = n > 0 ? icmp_type(f, n, mac, &key) : -1;
	struct seen *s;
	double t, after = -1;
	/* Two peers' sequence numbers run side by side: the slot mixes in the identifier. */
	unsigned slot = (unsigned)((key * 2654435761u) >> 20) % REQ_SLOTS;

	if (type < 0 || !(s = seen_for(from.sll_ifindex)))
		return;
	t = stamp_ms(&m);
	if (type == 8) {
		if (!s->requests++)
			s->first_request = t;
		s->req[slot].key = key;
		s->req[slot].t = t;
		return;
	}
	if (s->req[slot].key == key) {
		after = t - s->req[slot].t;
		if (s->nlat < LAT_MAX)
			s->lat[s->nlat++] = after;
	}
	if (!s->replies++) {
		s->first_reply = t;
		s->first_after = after;
	}
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double duration = 60, t0;
	unsigned m[6];
	uint8_t mac[6];
	int opt, fd, on = 1;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd')
			goto usage;
		duration = atof(optarg);
	}
	if (optind + 1 != argc || duration <= 0 ||
	    sscanf(argv[optind], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		goto usage;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
		perror("frame-times: socket");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = mono_s();
	while (!stop && mono_s() - t0 < duration) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			take(fd, mac);
	}
	for (unsigned i = 0; i < nifs; i++) {
		struct seen *s = &ifs[i];

		qsort(s->lat, s->nlat, sizeof(s->lat[0]), by_value);
		printf("if=%s requests=%lu first_request_unix_ms=%.3f replies=%lu first_reply_unix_ms=%.3f "
		       "first_reply_after_ms=%.3f median_reply_after_ms=%.3f\n",
		       s->name, s->requests, s->first_request, s->replies, s->first_reply, s->first_after,
		       s->nlat ? s->lat[s->nlat / 2] : -1.0);
	}
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: frame-times [-d SECONDS] MAC\n");
	return 2;
}
