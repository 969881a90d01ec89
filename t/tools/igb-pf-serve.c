/* SPDX-License-Identifier: MIT */
/*
 * Test tool: drive one igb PF through the igb-vfio backend without the daemon.
 *   igb-pf-serve PF_BDF NUM_VFS SECONDS [VF_DRIVER]
 * Assigns VF n the MAC 02:cc:00:00:00:0n, serves the mailbox from an epoll loop for
 * SECONDS (or until SIGTERM), prints the backend's events and per-VF counters. The PF's
 * VF token is a random one the backend keeps: no VF opens through VFIO meanwhile.
 */
#include "nic.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>

static void on_event(void *ctx, enum nic_event ev, int vf, const char *detail)
{
	static const char *const names[] = { "info", "vf-refused", "vf-reset", "link-up", "link-down", "gone" };
	(void)ctx;
	printf("event %s vf=%d %s\n", names[ev], vf, detail);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char err[256];
	struct nic *nic;
	struct nic_params p = { .on_event = on_event };
	int ep, sfd, rc;
	sigset_t set;

	if (argc < 4) {
		fprintf(stderr, "usage: %s PF_BDF NUM_VFS SECONDS [VF_DRIVER]\n", argv[0]);
		return 2;
	}
	p.pf_bdf = argv[1];
	p.num_vfs = (unsigned)atoi(argv[2]);
	p.vf_driver = argc > 4 ? argv[4] : "igbvf";
	rc = nic_open("igb-vfio", &p, &nic, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	for (unsigned vf = 0; vf < nic->num_vfs; vf++) {
		struct nic_vf_config c = { .mac = { 0x02, 0xcc, 0, 0, 0, (uint8_t)vf } };
		if (nic->ops->vf_configure(nic, vf, &c, err, sizeof(err)))
			fprintf(stderr, "vf %u: %s\n", vf, err);
	}
	if (nic->ops->bind_vfs(nic, err, sizeof(err)))
		fprintf(stderr, "bind: %s\n", err);
	printf("serving %s with %u VFs\n", p.pf_bdf, nic->num_vfs);
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, 0);
	ep = epoll_create1(0);
	struct epoll_event e1 = { .events = EPOLLIN, .data.fd = nic->ops->event_fd(nic) };
	struct epoll_event e2 = { .events = EPOLLIN, .data.fd = sfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, e1.data.fd, &e1);
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e2);
	time_t end = time(NULL) + atoi(argv[3]);
	int timeout = -1, done = 0;
	while (!done && time(NULL) < end) {
		struct epoll_event ev;
		/* Event-driven like cmcd (no periodic poll that would hide a lost interrupt),
		 * but bounded so the tool ends on time. */
		int n = epoll_wait(ep, &ev, 1, timeout < 0 ? 1000 : timeout);
		if (n == 1 && ev.data.fd == sfd)
			break;
		if (n == 0 && timeout < 0)
			continue;
		rc = nic->ops->service(nic);
		if (rc < 0 && rc != -EAGAIN) {
			printf("service: %s\n", strerror(-rc));
			done = 1;
		}
		timeout = rc > 0 ? rc : -1;
	}
	for (unsigned vf = 0; vf < nic->num_vfs; vf++) {
		struct nic_stats s;
		if (nic->ops->vf_stats(nic, vf, &s) == 0)
			printf("vf %u rx_packets %llu tx_packets %llu rx_bytes %llu tx_bytes %llu mbx %llu refused %llu\n",
			       vf, (unsigned long long)s.rx_packets, (unsigned long long)s.tx_packets,
			       (unsigned long long)s.rx_bytes, (unsigned long long)s.tx_bytes,
			       (unsigned long long)s.mbx_messages, (unsigned long long)s.mbx_refused);
	}
	p.keep_vfs = false;
	nic->ops->close(nic);
	return 0;
}
