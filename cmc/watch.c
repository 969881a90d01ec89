/* SPDX-License-Identifier: MIT */
/*
 * What the kernel tells cmcd without being asked: PCI hot-plug (kobject uevents) and
 * link changes of the cards' netdevs (rtnetlink, through libnl-route).
 */
#include "daemon.h"

#include "log.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define WATCH_MAX_LINKS 256

struct link_state {
	int ifindex;
	bool up;
};

struct cmc_watchers {
	struct cmcd *d;
	int uevent_fd;
	struct cmc_watch *uevent_watch;
	struct nl_sock *nl;
	struct cmc_watch *nl_watch;
	struct link_state links[WATCH_MAX_LINKS];
	unsigned nlinks;
};

/*
 * A uevent datagram: "ACTION@DEVPATH\0KEY=VALUE\0...". What changes the inventory: PCI
 * functions added, removed, bound or unbound, and network devices coming and going
 * (a function's netdev).
 */
static bool uevent_changes_inventory(const char *msg, size_t len)
{
	bool pci = false, net = false, add_remove = false, bind = false;

	for (size_t off = 0; off < len; off += strlen(msg + off) + 1) {
		const char *kv = msg + off;
		if (strcmp(kv, "SUBSYSTEM=pci") == 0)
			pci = true;
		else if (strcmp(kv, "SUBSYSTEM=net") == 0)
			net = true;
		else if (strcmp(kv, "ACTION=add") == 0 || strcmp(kv, "ACTION=remove") == 0)
			add_remove = true;
		else if (strcmp(kv, "ACTION=bind") == 0 || strcmp(kv, "ACTION=unbind") == 0)
			bind = true;
	}
	return (pci && (add_remove || bind)) || (net && add_remove);
}

static void uevent_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_watchers *w = arg;
	char buf[8192];
	(void)loop;
	(void)events;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			return;
		buf[n] = '\0';
		if (uevent_changes_inventory(buf, (size_t)n))
			cmcd_rescan_soon(w->d);
	}
}

static int uevent_open(struct cmc_watchers *w)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 /* kernel uevents */ };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	int err;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = cmc_loop_add_fd(w->d->loop, fd, EPOLLIN, uevent_ready, w, &w->uevent_watch);
	if (err) {
		close(fd);
		return err;
	}
	w->uevent_fd = fd;
	return 0;
}

static struct link_state *link_slot(struct cmc_watchers *w, int ifindex, bool *is_new)
{
	for (unsigned i = 0; i < w->nlinks; i++)
		if (w->links[i].ifindex == ifindex) {
			*is_new = false;
			return &w->links[i];
		}
	*is_new = true;
	if (w->nlinks == WATCH_MAX_LINKS)
		return NULL;
	w->links[w->nlinks] = (struct link_state){ .ifindex = ifindex };
	return &w->links[w->nlinks++];
}

/* The slot and PF a netdev belongs to, if it is one of the chassis' cards. */
static bool netdev_slot(struct cmcd *d, const char *ifname, unsigned *slot, unsigned *pf)
{
	for (size_t i = 0; i < mp_slot_count(d->inv); i++) {
		const struct mp_slot *s = mp_slot_at(d->inv, i);
		for (size_t f = 0; f < s->function_count; f++) {
			if (strcmp(s->functions[f].os.netdev, ifname) == 0) {
				*slot = s->number;
				*pf = s->functions[f].index;
				return true;
			}
		}
	}
	return false;
}

static void link_changed(struct nl_object *obj, void *arg)
{
	struct cmc_watchers *w = arg;
	struct rtnl_link *link = (struct rtnl_link *)obj;
	const char *name = rtnl_link_get_name(link);
	bool up = (rtnl_link_get_flags(link) & IFF_LOWER_UP) != 0;
	bool is_new;
	unsigned slot, pf;
	struct link_state *st;

	if (!name || !netdev_slot(w->d, name, &slot, &pf))
		return;
	st = link_slot(w, rtnl_link_get_ifindex(link), &is_new);
	if (!st || (!is_new && st->up == up))
		return;
	st->up = up;
	if (is_new)
		return;	/* first sight of a link is its starting state, not news */
	cmc_events_post(w->d->events, up ? "link-up" : "link-down", (int)slot, "pf %u (%s) %s", pf,
			name, up ? "link up" : "link lost");
}

static int nl_message(struct nl_msg *msg, void *arg)
{
	/* nl_msg_parse turns an RTM_NEWLINK into an rtnl_link object for link_changed. */
	(void)!nl_msg_parse(msg, link_changed, arg);
	return NL_OK;
}

static void nl_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cmc_watchers *w = arg;
	(void)loop;
	(void)fd;
	(void)events;

	int err = nl_recvmsgs_default(w->nl);
	if (err < 0 && err != -NLE_AGAIN)
		log_warnx("rtnetlink: %s", nl_geterror(err));
}

static int nl_open(struct cmc_watchers *w)
{
	int err;

	w->nl = nl_socket_alloc();
	if (!w->nl)
		return -ENOMEM;
	nl_socket_disable_seq_check(w->nl);
	nl_socket_modify_cb(w->nl, NL_CB_VALID, NL_CB_CUSTOM, nl_message, w);
	err = nl_connect(w->nl, NETLINK_ROUTE);
	if (err < 0)
		goto err_free;
	err = nl_socket_add_membership(w->nl, RTNLGRP_LINK);
	if (err < 0)
		goto err_free;
	err = nl_socket_set_nonblocking(w->nl);
	if (err < 0)
		goto err_free;
	err = cmc_loop_add_fd(w->d->loop, nl_socket_get_fd(w->nl), EPOLLIN, nl_ready, w, &w->nl_watch);
	if (err)
		goto err_free_errno;
	return 0;
err_free:
	err = -EIO;	/* libnl's NLE_* codes stop here */
err_free_errno:
	nl_socket_free(w->nl);
	w->nl = NULL;
	return err;
}

/* Record the current state of every link, so that only later changes are reported. */
static void links_seed(struct cmc_watchers *w)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;

	if (!sk)
		return;
	if (nl_connect(sk, NETLINK_ROUTE) == 0 && rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) == 0) {
		nl_cache_foreach(cache, link_changed, w);
		nl_cache_free(cache);
	}
	nl_socket_free(sk);
}

int cmc_watchers_start(struct cmcd *d, struct cmc_watchers **out)
{
	struct cmc_watchers *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->d = d;
	w->uevent_fd = -1;
	err = uevent_open(w);
	if (err)
		goto err_free;
	err = nl_open(w);
	if (err)
		goto err_uevent;
	links_seed(w);
	*out = w;
	return 0;
err_uevent:
	cmc_loop_del_fd(d->loop, w->uevent_watch);
	close(w->uevent_fd);
err_free:
	free(w);
	return err;
}

void cmc_watchers_stop(struct cmc_watchers *w)
{
	if (!w)
		return;
	cmc_loop_del_fd(w->d->loop, w->nl_watch);
	nl_socket_free(w->nl);
	cmc_loop_del_fd(w->d->loop, w->uevent_watch);
	close(w->uevent_fd);
	free(w);
}
