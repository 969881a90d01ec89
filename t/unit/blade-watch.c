/* SPDX-License-Identifier: MIT */
/*
 * A blade's stream of link changes (mp_blade_watch_open/read, netns backend) against the
 * host's own kernel: a blade (network namespace) is made, a veth pair is created in it and
 * taken up and down with iproute2, and the stream must report each interface's presence,
 * IFF_UP and carrier as they change, without ever blocking. Needs root (namespaces); it
 * skips without. The blade is removed at the end.
 */
#include "blade.h"
#include "tap.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLADE "cmc-watch-test"

struct seen {
	char ifname[16];
	bool present, up, carrier;
	unsigned reports, lost;
};

static void on_link(void *arg, const char *ifname, bool present, bool up, bool carrier)
{
	struct seen *s = arg;

	if (!ifname) {
		s->lost++;
		return;
	}
	if (strcmp(ifname, s->ifname) != 0)
		return;
	s->present = present;
	s->up = up;
	s->carrier = carrier;
	s->reports++;
}

static int sh(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "ip -n " BLADE " %s", cmd);
	return system(buf);
}

/* Reads what the stream has for up to 2 s, until ifname's state is the one wanted. */
static bool wait_state(struct mp_blade_backend *be, int fd, struct seen *s, bool present, bool up, bool carrier)
{
	for (int i = 0; i < 20; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (s->present == present && s->up == up && s->carrier == carrier)
			return true;
		if (poll(&p, 1, 100) > 0 && mp_blade_watch_read(be, fd, on_link, s) < 0)
			return false;
	}
	return s->present == present && s->up == up && s->carrier == carrier;
}

int main(void)
{
	struct mp_blade_backend *be;
	struct seen s = { .ifname = "cmcwa" };
	char err[256];
	int fd = -1;

	if (geteuid() != 0 || system("command -v ip >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP needs root and iproute2\n");
		return 0;
	}
	tap_ok(mp_blade_backend_open("netns", &be, err, sizeof(err)) == 0, "netns backend");
	tap_ok(mp_blade_create(be, BLADE, err, sizeof(err)) == 0, "blade %s", BLADE);
	tap_is_int(mp_blade_watch_open(be, BLADE, &fd, err, sizeof(err)), 0, "a stream of its link changes");
	tap_is_int(mp_blade_watch_read(be, fd, on_link, &s), 0, "read with nothing pending: returns at once");
	tap_is_int(mp_blade_watch_open(be, "no-such-blade", &(int){ 0 }, err, sizeof(err)), -ENOENT,
		   "a blade that does not exist: -ENOENT");
	tap_ok(sh("link add cmcwa type veth peer name cmcwb") == 0, "a veth pair in the blade");
	tap_ok(wait_state(be, fd, &s, true, false, false), "cmcwa reported: present, down");
	(void)!sh("link set cmcwa up");
	tap_ok(wait_state(be, fd, &s, true, true, false), "cmcwa up: up, no carrier (its peer is down)");
	(void)!sh("link set cmcwb up");
	tap_ok(wait_state(be, fd, &s, true, true, true), "its peer up: carrier");
	(void)!sh("link set cmcwb down");
	tap_ok(wait_state(be, fd, &s, true, true, false), "its peer down: carrier lost");
	(void)!sh("link del cmcwa");
	tap_ok(wait_state(be, fd, &s, false, false, false), "deleted: reported gone");
	tap_is_int(s.lost, 0, "no changes lost");
	tap_ok(mp_blade_watch_open(be, "../x", &(int){ 0 }, err, sizeof(err)) < 0, "a bad blade name: refused (%s)", err);
	close(fd);
	mp_blade_backend_close(be);
	(void)!system("ip netns delete " BLADE " 2>/dev/null");
	return tap_done();
}
