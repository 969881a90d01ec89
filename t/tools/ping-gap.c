/* SPDX-License-Identifier: MIT */
/*
 * ping-gap: pings one IPv4 address every INTERVAL ms (ICMP echo, RFC 792) and reports the
 * longest time without a reply, for a VM's network outage during a migration.
 *
 *   ping-gap [-i MS] [-d SECONDS] A.B.C.D
 *
 * Runs for -d seconds (default 60) or until SIGINT/SIGTERM, then prints one line:
 *   sent=N received=N lost=N longest_gap_ms=G gap_start_ms=T first_reply_ms=F gap_start_utc=U
 *   gap_start_unix_ms=S gap_end_unix_ms=E
 * where the gap is the longest time between two consecutive replies (and from the last
 * reply to the end, if it is longer and replies had started), and T when it began,
 * counted from the start (monotonic clock); U is T as a UTC time of day, HH:MM:SS.mmm
 * (the real-time clock at the start plus T), to set the gap beside `cmcctl events`; S and
 * E are the gap's start (the last reply before it) and end (the first reply after it) in
 * ms since the Unix epoch (same clock, 0.001 ms), to set it beside QEMU's event stamps.
 * A reply is matched by its sequence number; duplicates count once. Exit 0 if any reply
 * came, 1 if none, 2 on usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEQ_MAX 65536

static volatile sig_atomic_t stop;
static uint8_t seen[SEQ_MAX / 8];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static int send_echo(int fd, const struct sockaddr_in *to, uint16_t id, uint16_t seq)
{
	uint8_t pkt[64] = { 0 };
	struct icmphdr *h = (struct icmphdr *)pkt;

	h->type = ICMP_ECHO;
	h->un.echo.id = htons(id);
	h->un.echo.sequence = htons(seq);
	h->checksum = csum(pkt, sizeof(pkt));
	return sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)to, sizeof(*to)) < 0 ? -errno : 0;
}

/* The sequence number of an echo reply to us in buf (an IPv4 packet), or -1. */
static int reply_seq(const uint8_t *buf, ssize_t n, uint16_t id)
{
	const struct iphdr *ip = (const struct iphdr *)buf;
	const struct icmphdr *h;
	size_t hl;

	if (n < (ssize_t)sizeof(*ip))
		return -1;
	hl = (size_t)ip->ihl * 4;
	if ((size_t)n < hl + sizeof(*h))
		return -1;
	h = (const struct icmphdr *)(buf + hl);
	if (h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != id)
		return -1;
	return ntohs(h->un.echo.sequence);
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	double interval = 10, duration = 60, t0, next, last = -1, gap = 0, gap_at = 0, gap_end = 0, first = -1;
	double r0_ms;
	long long day_ms;
	struct timespec r0;
	unsigned long sent = 0, got = 0;
	uint16_t id = (uint16_t)getpid();
	int opt, fd;

	while ((opt = getopt(argc, argv, "i:d:")) != -1) {
		if (opt == 'i')
			interval = atof(optarg);
		else if (opt == 'd')
			duration = atof(optarg);
		else
			goto usage;
	}
	if (optind + 1 != argc || inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1 || interval < 1 ||
	    duration <= 0)
		goto usage;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0) {
		perror("ping-gap: socket");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_REALTIME, &r0);
	t0 = next = now_ms();
	while (!stop && now_ms() - t0 < duration * 1e3) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double t = now_ms();
		int wait = next > t ? (int)(next - t) + 1 : 0;

		if (t >= next) {
			if (send_echo(fd, &to, id, (uint16_t)sent) == 0)
				sent++;
			next += interval;
			continue;
		}
		if (poll(&p, 1, wait) > 0) {
			uint8_t buf[1500];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			int seq = reply_seq(buf, n, id);

			if (seq < 0 || (seen[seq / 8] & (1u << (seq % 8))))
				continue;
			seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
			if (sent >= SEQ_MAX)	/* wrapped: forget the other half */
				memset(&seen[((seq + SEQ_MAX / 2) % SEQ_MAX) / 8], 0, SEQ_MAX / 16);
			t = now_ms();
			got++;
			if (first < 0)
				first = t - t0;
			if (last >= 0 && t - last > gap) {
				gap = t - last;
				gap_at = last - t0;
				gap_end = t - t0;
			}
			last = t;
		}
	}
	if (last >= 0 && now_ms() - last > gap) {
		gap_end = now_ms() - t0;
		gap = gap_end - (last - t0);
		gap_at = last - t0;
	}
	day_ms = ((long long)r0.tv_sec * 1000 + r0.tv_nsec / 1000000 + (long long)gap_at) % 86400000;
	r0_ms = (double)r0.tv_sec * 1e3 + r0.tv_nsec / 1e6;
	printf("sent=%lu received=%lu lost=%lu longest_gap_ms=%.1f gap_start_ms=%.1f first_reply_ms=%.1f "
	       "gap_start_utc=%02d:%02d:%02d.%03d gap_start_unix_ms=%.3f gap_end_unix_ms=%.3f\n",
	       sent, got, sent - got, gap, gap_at, first, (int)(day_ms / 3600000), (int)(day_ms / 60000 % 60),
	       (int)(day_ms / 1000 % 60), (int)(day_ms % 1000), r0_ms + gap_at, r0_ms + gap_end);
	close(fd);
	return got ? 0 : 1;
usage:
	fprintf(stderr, "usage: ping-gap [-i MS] [-d SECONDS] A.B.C.D\n");
	return 2;
}
