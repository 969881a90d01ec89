/* SPDX-License-Identifier: MIT */
/*
 * carrier-time NETNS IFNAME [TIMEOUT_MS]
 *
 * Sets IFNAME (in the named network namespace, /run/netns/NETNS; "-" for this one) up
 * and prints the seconds, to the microsecond, from just before the request until the
 * kernel reports IFF_LOWER_UP for it on an rtnetlink link-group socket opened before the
 * request. Nothing polls: the time is that of the netlink message's arrival, so a
 * bench's resolution is the scheduler's, not a sleep's. Prints "timeout" and exits 1 if
 * the carrier does not come within TIMEOUT_MS (default 30000). Exit 2: usage or setup.
 * A bench tool (bench/vf-carrier.pl); needs CAP_NET_ADMIN and CAP_SYS_ADMIN for setns.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000	/* linux/if.h; net/if.h stops at 16 bits */
#endif

/* Asks for ifindex's link as it is now; the answer is an RTM_NEWLINK like an event's. */
static void ask_link(int nl, int ifindex)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST },
		.i = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };

	sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&k, sizeof(k));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1: a message in buf[0..n) says ifindex has IFF_LOWER_UP; 0: not (yet). */
static int lower_up(char *buf, ssize_t n, int ifindex)
{
	for (struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
			continue;
		const struct ifinfomsg *ifi = NLMSG_DATA(h);
		if (ifi->ifi_index == ifindex && (ifi->ifi_flags & IFF_LOWER_UP))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: carrier-time NETNS|- IFNAME [TIMEOUT_MS]\n");
		return 2;
	}
	long timeout_ms = argc == 4 ? strtol(argv[3], NULL, 10) : 30000;
	if (timeout_ms <= 0 || timeout_ms > 600000) {
		fprintf(stderr, "carrier-time: TIMEOUT_MS must be 1..600000\n");
		return 2;
	}
	if (strcmp(argv[1], "-") != 0) {
		char path[256];
		snprintf(path, sizeof(path), "/run/netns/%s", argv[1]);
		int ns = open(path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
			fprintf(stderr, "carrier-time: netns %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
		close(ns);
	}
	int ifindex = (int)if_nametoindex(argv[2]);
	if (ifindex == 0) {
		fprintf(stderr, "carrier-time: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	if (nl < 0 || s < 0 || bind(nl, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "carrier-time: sockets: %s\n", strerror(errno));
		return 2;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		fprintf(stderr, "carrier-time: %s flags: %s\n", argv[2], strerror(errno));
		return 2;
	}
	if (ifr.ifr_flags & IFF_UP) {
		fprintf(stderr, "carrier-time: %s is already up\n", argv[2]);
		return 2;
	}
	ifr.ifr_flags |= IFF_UP;
	double t0 = now();
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		fprintf(stderr, "carrier-time: %s up: %s\n", argv[2], strerror(errno));
		return 2;
	}
	double deadline = t0 + (double)timeout_ms / 1000.0;
	static char buf[65536];
	for (;;) {
		double left = deadline - now();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = nl, .events = POLLIN };
		int r = poll(&p, 1, (int)(left * 1000.0) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			ask_link(nl, ifindex);	/* messages were lost */
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "carrier-time: netlink: %s\n", strerror(errno));
			return 2;
		}
		if (lower_up(buf, n, ifindex))
			goto up;
	}
	printf("timeout\n");
	return 1;
up:
	printf("%.6f\n", now() - t0);
	return 0;
}
