/* SPDX-License-Identifier: MIT */
/*
 * netns: the emulated chassis' blades are network namespaces, named the way iproute2
 * names them (a bind mount of the namespace at /run/netns/<blade>, ip-netns(8)), so
 * `ip -n blade1 ...` sees what cmcd did. Mapping a VF moves its netdev into the blade.
 *
 * A VF's netdev is recognised by its parent device, IFLA_PARENT_DEV_NAME (the PCI
 * address; rtnetlink reports it since Linux 5.16), not by name: names change as we
 * rename, and sysfs (/sys/bus/pci/devices/BDF/net/) shows only the netdevs of the
 * namespace that mounted it, so a VF inside a blade is invisible there.
 *
 * setns()/unshare() of CLONE_NEWNET change only the calling thread. Work inside a
 * blade is done on a netlink socket opened by a short-lived helper thread that entered
 * the blade (a socket stays in the namespace it was created in); the caller's thread
 * never leaves its namespace, on any path. Every request waits at most
 * MP_BLADE_TIMEOUT_MS per answer (SO_RCVTIMEO) and the helper threads make only
 * syscalls that do not wait on anything outside the kernel.
 *
 * Messages are built here with libnl-3's core rather than libnl-route's link objects:
 * those do not parse IFLA_PARENT_DEV_NAME, and building them here keeps the kernel's
 * own errno (libnl-route folds it into NLE_* codes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mp-blade-priv.h"
#include "clock.h"
#include "rtnl.h"

#define NETNS_DIR "/run/netns"
#define PCI_DEVICES "/sys/bus/pci/devices"
#define MAX_SCAN 256		/* blades looked through when a VF is missing */

/* A blade we opened: the fd pins the namespace, dev/ino tell whether the name still does. */
struct netns_blade {
	char name[MP_BLADE_NAME_MAX + 1];
	int fd;
	dev_t dev;
	ino_t ino;
};

struct netns_be {
	struct mp_blade_backend be;
	int home_fd;		/* the network namespace the backend was opened in */
	struct netns_blade *blades;
	size_t nblades, cap;
};

static inline struct netns_be *to_netns(struct mp_blade_backend *be)
{
	return (struct netns_be *)(void *)((char *)be - offsetof(struct netns_be, be));
}

/* --- Errors ------------------------------------------------------------------------ */

/* --- Helper threads ---------------------------------------------------------------- */

struct ns_job {
	int nsfd;			/* enter this namespace; -1: a new one (unshare) */
	int (*fn)(void *arg);
	void *arg;
	int rc;
};

static void *ns_job_main(void *p)
{
	struct ns_job *j = p;
	int r = j->nsfd >= 0 ? setns(j->nsfd, CLONE_NEWNET) : unshare(CLONE_NEWNET);

	j->rc = r < 0 ? -errno : j->fn(j->arg);
	return NULL;	/* the thread, and with it the namespace it entered, ends here */
}

/*
 * Runs fn in another network namespace on a thread of its own. Its signals are blocked
 * so the daemon's handlers never run there. The join waits only for setns/unshare and
 * fn, which are syscalls (socket, mount) that the kernel completes without outside help.
 */
static int in_netns(int nsfd, int (*fn)(void *), void *arg)
{
	struct ns_job j = { .nsfd = nsfd, .fn = fn, .arg = arg, .rc = -EIO };
	sigset_t all, saved;
	pthread_t t;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	rc = pthread_create(&t, NULL, ns_job_main, &j);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (rc)
		return -ENOMEM;	/* not EAGAIN: map() gives that one a meaning of its own */
	pthread_join(t, NULL);
	return j.rc;
}

/* --- Netlink transport ------------------------------------------------------------- */

static int sock_open_here(void *arg)
{
	return cmc_rtnl_open(MP_BLADE_TIMEOUT_MS, arg);
}

/* A rtnetlink socket in the namespace nsfd, or in the caller's own for -1. */
static int sock_open(int nsfd, struct nl_sock **out)
{
	*out = NULL;
	return nsfd < 0 ? sock_open_here(out) : in_netns(nsfd, sock_open_here, out);
}

struct talk {
	void (*on_msg)(struct nlmsghdr *nlh, void *arg);
	void *arg;
	int kernel_error;	/* the kernel's NLMSG_ERROR, as -errno */
	bool done;		/* ACK, error or NLMSG_DONE seen */
};

static int talk_valid(struct nl_msg *m, void *p)
{
	struct talk *t = p;

	/* Never stop early: unread parts of a dump would confuse the next request. */
	if (t->on_msg)
		t->on_msg(nlmsg_hdr(m), t->arg);
	return NL_OK;
}

static int talk_done(struct nl_msg *m, void *p)
{
	(void)m;
	((struct talk *)p)->done = true;
	return NL_STOP;
}

static int talk_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *p)
{
	struct talk *t = p;

	(void)who;
	t->kernel_error = e->error < 0 ? e->error : -e->error;
	t->done = true;
	return NL_STOP;
}

/*
 * Sends msg and reads the answer up to its end: the ACK of a request (auto-ack is on),
 * the reply and ACK of a get, the NLMSG_DONE of a dump. on_msg sees each reply.
 */
static int talk(struct nl_sock *sk, struct nl_msg *msg,
		void (*on_msg)(struct nlmsghdr *, void *), void *arg)
{
	struct talk t = { .on_msg = on_msg, .arg = arg };
	long long deadline = (long long)cmc_now_ms() + MP_BLADE_TIMEOUT_MS;
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int rc;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, talk_valid, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, talk_done, &t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, talk_done, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, talk_error, &t);
	rc = nl_send_auto(sk, msg);
	while (rc >= 0 && !t.done) {
		if ((long long)cmc_now_ms() > deadline) {
			rc = -NLE_AGAIN;
			break;
		}
		rc = nl_recvmsgs(sk, cb);
	}
	nl_cb_put(cb);
	if (t.kernel_error)
		return t.kernel_error;
	return rc < 0 ? cmc_rtnl_errno(rc) : 0;
}

/* --- Links ------------------------------------------------------------------------- */

struct link_info {
	bool found;
	int ifindex;
	unsigned flags;			/* IFF_* */
	char name[IFNAMSIZ];
	char parent[MP_BDF_STRLEN];	/* the PCI function behind it, "" if none */
	uint8_t mac[6];
};

static int parse_link(struct nlmsghdr *nlh, struct link_info *li)
{
	struct nlattr *tb[IFLA_MAX + 1], *bus;
	const struct ifinfomsg *ifi;

	memset(li, 0, sizeof(*li));
	if (nlh->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(nlh, sizeof(*ifi)) ||
	    nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
		return -EINVAL;
	ifi = nlmsg_data(nlh);
	li->ifindex = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	nla_strlcpy(li->name, tb[IFLA_IFNAME], sizeof(li->name));
	bus = tb[IFLA_PARENT_DEV_BUS_NAME];
	if (bus && tb[IFLA_PARENT_DEV_NAME] && nla_len(bus) == 4 && !memcmp(nla_data(bus), "pci", 4))
		nla_strlcpy(li->parent, tb[IFLA_PARENT_DEV_NAME], sizeof(li->parent));
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == (int)sizeof(li->mac))
		memcpy(li->mac, nla_data(tb[IFLA_ADDRESS]), sizeof(li->mac));
	li->found = true;
	return 0;
}

/* An rtnetlink link message: nlflags for the header, flags/change for IFF_* bits. */
static int link_msg(int type, int nlflags, int ifindex, unsigned flags, unsigned change,
		    struct nl_msg **out)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = flags, .ifi_change = change,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, nlflags);

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*out = msg;
	return 0;
}

static void on_link_named(struct nlmsghdr *nlh, void *arg)
{
	struct link_info *li = arg;

	if (!li->found)
		(void)parse_link(nlh, li);
}

/* The link called name in sk's namespace; li->found false (and 0) if there is none. */
static int link_by_name(struct nl_sock *sk, const char *name, struct link_info *li)
{
	struct nl_msg *msg;
	int rc = link_msg(RTM_GETLINK, 0, 0, 0, 0, &msg);

	memset(li, 0, sizeof(*li));
	if (rc)
		return rc;
	rc = nla_put_string(msg, IFLA_IFNAME, name) < 0 ? -EMSGSIZE : 0;
	if (!rc)
		rc = talk(sk, msg, on_link_named, li);
	nlmsg_free(msg);
	if (rc == -ENODEV) {	/* the kernel's "no such device": an answer, not a failure */
		memset(li, 0, sizeof(*li));
		rc = 0;
	}
	return rc;
}

struct parent_scan {
	const char *bdf;
	struct link_info *li;
};

static void on_link_parent(struct nlmsghdr *nlh, void *arg)
{
	struct parent_scan *s = arg;
	struct link_info li;

	if (!s->li->found && !parse_link(nlh, &li) && !strcmp(li.parent, s->bdf))
		*s->li = li;
}

/* The netdev of PCI function bdf in sk's namespace, whatever its name. */
static int link_by_parent(struct nl_sock *sk, const char *bdf, struct link_info *li)
{
	struct parent_scan s = { .bdf = bdf, .li = li };
	struct nl_msg *msg;
	int rc = link_msg(RTM_GETLINK, NLM_F_DUMP, 0, 0, 0, &msg);

	memset(li, 0, sizeof(*li));
	if (rc)
		return rc;
	rc = talk(sk, msg, on_link_parent, &s);
	nlmsg_free(msg);
	return rc;
}

/*
 * RTM_SETLINK on ifindex: IFF_* bits in change set to flags, then (ns_fd >= 0) moved
 * to that namespace, (name) renamed. The kernel does the move first, then the rename,
 * then the flags (do_setlink); a move takes the device down.
 */
static int set_link(struct nl_sock *sk, int ifindex, unsigned flags, unsigned change,
		    int ns_fd, const char *name)
{
	struct nl_msg *msg;
	int rc = link_msg(RTM_SETLINK, 0, ifindex, flags, change, &msg);

	if (rc)
		return rc;
	if ((ns_fd >= 0 && nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)ns_fd) < 0) ||
	    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0))
		rc = -EMSGSIZE;
	if (!rc)
		rc = talk(sk, msg, NULL, NULL);
	nlmsg_free(msg);
	return rc;
}

/* ifname up in sk's namespace unless it is already. */
static int link_up(struct nl_sock *sk, const char *ifname)
{
	struct link_info li;
	int rc = link_by_name(sk, ifname, &li);

	if (!rc && !li.found)
		rc = -ENODEV;
	if (rc || (li.flags & IFF_UP))
		return rc;
	return set_link(sk, li.ifindex, IFF_UP, IFF_UP, -1, NULL);
}

/* --- Addresses --------------------------------------------------------------------- */

#define ADDR_BATCH 16

struct addr_scan {
	int ifindex;
	const struct mp_blade_cidr *want;
	bool have;			/* want is there already */
	struct mp_blade_cidr other[ADDR_BATCH];	/* what is to go */
	size_t nother;
	bool more;			/* more than ADDR_BATCH to go: scan again */
};

static void on_addr(struct nlmsghdr *nlh, void *arg)
{
	struct addr_scan *s = arg;
	struct nlattr *tb[IFA_MAX + 1], *a;
	const struct ifaddrmsg *ifa;
	struct mp_blade_cidr c;

	if (nlh->nlmsg_type != RTM_NEWADDR || !nlmsg_valid_hdr(nlh, sizeof(*ifa)) ||
	    nlmsg_parse(nlh, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return;
	ifa = nlmsg_data(nlh);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != s->ifindex || !a ||
	    nla_len(a) != (int)sizeof(c.addr))
		return;
	memcpy(&c.addr, nla_data(a), sizeof(c.addr));
	c.prefix = ifa->ifa_prefixlen;
	if (c.addr.s_addr == s->want->addr.s_addr && c.prefix == s->want->prefix)
		s->have = true;
	else if (s->nother < ADDR_BATCH)
		s->other[s->nother++] = c;
	else
		s->more = true;
}

/* RTM_NEWADDR (NLM_F_CREATE) or RTM_DELADDR of one IPv4 address. */
static int addr_change(struct nl_sock *sk, int type, int ifindex, const struct mp_blade_cidr *c)
{
	struct ifaddrmsg ifa = {
		.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)c->prefix,
		.ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)ifindex,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	int rc = msg ? 0 : -ENOMEM;

	if (!rc && (nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ||
		    nla_put(msg, IFA_LOCAL, sizeof(c->addr), &c->addr) < 0 ||
		    nla_put(msg, IFA_ADDRESS, sizeof(c->addr), &c->addr) < 0))
		rc = -EMSGSIZE;
	if (!rc)
		rc = talk(sk, msg, NULL, NULL);
	nlmsg_free(msg);
	return rc;
}

/* One round: list ifindex's IPv4 addresses, remove up to ADDR_BATCH unwanted ones. */
static int addr_round(struct nl_sock *sk, struct addr_scan *s)
{
	struct rtgenmsg g = { .rtgen_family = AF_INET };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
	int rc = msg ? 0 : -ENOMEM;

	s->have = s->more = false;
	s->nother = 0;
	if (!rc && nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) < 0)
		rc = -EMSGSIZE;
	if (!rc)
		rc = talk(sk, msg, on_addr, s);
	nlmsg_free(msg);
	for (size_t i = 0; !rc && i < s->nother; i++) {
		rc = addr_change(sk, RTM_DELADDR, s->ifindex, &s->other[i]);
		if (rc == -EADDRNOTAVAIL)	/* gone meanwhile (a secondary goes with its primary) */
			rc = 0;
	}
	return rc;
}

/* --- Blades ------------------------------------------------------------------------ */

static bool is_netns(int fd)
{
	return ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

static int blade_path(const char *blade, char *path, size_t len)
{
	return snprintf(path, len, NETNS_DIR "/%s", blade) >= (int)len ? -ENAMETOOLONG : 0;
}

static struct netns_blade *blade_cached(struct netns_be *nb, const char *blade)
{
	for (size_t i = 0; i < nb->nblades; i++)
		if (!strcmp(nb->blades[i].name, blade))
			return &nb->blades[i];
	return NULL;
}

static void blade_forget(struct netns_be *nb, struct netns_blade *b)
{
	close(b->fd);
	*b = nb->blades[--nb->nblades];
}

static int blade_remember(struct netns_be *nb, const char *blade, int fd)
{
	struct netns_blade *b;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (nb->nblades == nb->cap) {
		size_t cap = nb->cap ? 2 * nb->cap : 8;
		void *p = realloc(nb->blades, cap * sizeof(*nb->blades));

		if (!p)
			return -ENOMEM;
		nb->blades = p;
		nb->cap = cap;
	}
	b = &nb->blades[nb->nblades++];
	snprintf(b->name, sizeof(b->name), "%s", blade);
	b->fd = fd;
	b->dev = st.st_dev;
	b->ino = st.st_ino;
	return 0;
}

/*
 * An fd of the blade's namespace: the one we hold if /run/netns/<blade> still names
 * that namespace (`ip netns del` and re-add would make it another), else a fresh one.
 * -ENOENT if there is no such blade. The fd stays owned by nb.
 */
static int blade_fd(struct netns_be *nb, const char *blade, int *fd_out)
{
	struct netns_blade *b = blade_cached(nb, blade);
	char path[PATH_MAX];
	struct stat st;
	int fd, rc = blade_path(blade, path, sizeof(path));

	if (rc)
		return rc;
	if (stat(path, &st) < 0)
		st.st_ino = 0;
	if (b && st.st_ino && b->dev == st.st_dev && b->ino == st.st_ino) {
		*fd_out = b->fd;
		return 0;
	}
	if (b)
		blade_forget(nb, b);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (!is_netns(fd)) {	/* a file left by a creation that did not finish */
		close(fd);
		return -ENOENT;
	}
	rc = blade_remember(nb, blade, fd);
	if (rc) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

/* A rtnetlink socket inside the blade, and (fd_out not NULL) its namespace fd. */
static int blade_sock(struct netns_be *nb, const char *blade, struct nl_sock **sk,
		      int *fd_out, char *err, size_t errlen)
{
	int fd, rc = blade_fd(nb, blade, &fd);

	*sk = NULL;
	if (fd_out)
		*fd_out = rc ? -1 : fd;
	if (rc == -ENOENT)
		return mp_blade_fail(err, errlen, rc, "no blade %s (no namespace at " NETNS_DIR "/%s)",
				     blade, blade);
	if (!rc)
		rc = sock_open(fd, sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: %s", blade, strerror(-rc));
	return 0;
}

/* --- Creating a blade (what `ip netns add` does) ----------------------------------- */

/*
 * /run/netns as a shared mount point, so that a namespace unmounted in one mount
 * namespace goes in all of them and is freed (iproute2 ip/ipnetns.c does the same).
 */
static int netns_dir_ready(char *err, size_t errlen)
{
	bool bound = false;

	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
		goto fail;
	while (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		/* EINVAL: not a mount point yet. Make it one by binding it on itself. */
		if (errno != EINVAL || bound)
			goto fail;
		if (mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			goto fail;
		bound = true;
	}
	return 0;
fail:
	return mp_blade_fail(err, errlen, -errno, "cannot prepare " NETNS_DIR ": %s", strerror(errno));
}

/* Runs in a helper thread that has just unshared a new network namespace. */
static int bind_new_netns(void *path)
{
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

/* The namespace file: a new empty one (*made), or a stale one left by a crash. */
static int netns_file(const char *path, bool *made)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);

	*made = fd >= 0;
	if (fd < 0 && errno != EEXIST)
		return -errno;
	if (fd >= 0)
		close(fd);
	return 0;
}

static int blade_new(const char *blade, char *path, char *err, size_t errlen)
{
	bool made;
	int rc = netns_dir_ready(err, errlen);

	if (rc)
		return rc;
	rc = netns_file(path, &made);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "cannot create %s: %s", path, strerror(-rc));
	rc = in_netns(-1, bind_new_netns, path);
	if (rc) {
		if (made)
			unlink(path);
		return mp_blade_fail(err, errlen, rc, "blade %s: cannot create its network namespace: %s",
				     blade, strerror(-rc));
	}
	return 0;
}

/* A blade's loopback is up, as a host's is: its own services talk over it. */
static int blade_lo_up(struct netns_be *nb, const char *blade, char *err, size_t errlen)
{
	struct nl_sock *sk;
	int rc = blade_sock(nb, blade, &sk, NULL, err, errlen);

	if (rc)
		return rc;
	rc = link_up(sk, "lo");
	nl_socket_free(sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: cannot bring lo up: %s", blade,
				     strerror(-rc));
	return 0;
}

static bool heartbeat_fresh(struct netns_be *nb, const char *blade, bool new_ns);
static int netns_spawn(struct mp_blade_backend *be, const char *blade, const char *const argv[],
		       const char *log_path, char *err, size_t errlen);

static int netns_create(struct mp_blade_backend *be, const char *blade, char *err, size_t errlen)
{
	struct netns_be *nb = to_netns(be);
	char path[PATH_MAX];
	int fd, rc = blade_path(blade, path, sizeof(path));
	bool made = false;

	if (!rc)
		rc = blade_fd(nb, blade, &fd);
	if (rc == -ENOENT) {
		rc = blade_new(blade, path, err, errlen);
		made = true;
	} else if (rc) {
		return mp_blade_fail(err, errlen, rc, "blade %s: %s: %s", blade, path, strerror(-rc));
	}
	if (rc)
		return rc;
	rc = blade_lo_up(nb, blade, err, errlen);
	if (!rc)
		(void)heartbeat_fresh(nb, blade, made);	/* its OS, if it has none yet */
	return rc;
}

/* --- Health and power ------------------------------------------------------------------ */

/*
 * The emulated blade's heartbeat (blade.h mp_blade_health, doc/emulator.md): a shell
 * loop inside the blade's namespace, standing for the blade's OS, touches
 * MP_HEARTBEAT_DIR/<blade>.<inode of its namespace> once a second while /run/netns/<blade>
 * still names the namespace it runs in, and writes its pid to MP_HEARTBEAT_DIR/<blade>.pid
 * (a test stops it with SIGSTOP: a hung OS whose namespace stays). The file's name
 * carries the namespace's inode so that a namespace made again (a blade that boots
 * again) is told from the one whose heartbeat stopped: the new one has no file yet, and
 * its heartbeat is started. The loop leaves at once when its namespace is deleted, so it
 * does not hold a dead blade's namespace (and its VFs' netdevs) for more than a second,
 * and takes its file with it: the kernel gives a later namespace the inode again once
 * nothing holds the old one, and that namespace must not find an old file. (A namespace
 * cmcd makes has its file removed first too, should a killed loop have left one.)
 */
#define MP_HEARTBEAT_PARENT "/run/cmc"

static const char heartbeat_sh[] =
	"echo $$ > \"$3\"; "
	"while [ \"" NETNS_DIR "/$1\" -ef /proc/self/ns/net ] && touch \"$2\"; do sleep 1; done; rm -f \"$2\"";

static int heartbeat_path(const char *blade, ino_t ino, char *path, size_t len)
{
	return snprintf(path, len, MP_HEARTBEAT_DIR "/%s.%llu", blade, (unsigned long long)ino) >= (int)len ?
		       -ENAMETOOLONG : 0;
}

/* The heartbeat files of the blade's earlier namespaces go (their loops have left). */
static void heartbeat_tidy(const char *blade, const char *keep)
{
	size_t n = strlen(blade);
	DIR *dir = opendir(MP_HEARTBEAT_DIR);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		char path[PATH_MAX];

		if (strncmp(e->d_name, blade, n) != 0 || e->d_name[n] != '.' || strcmp(e->d_name + n, ".pid") == 0)
			continue;
		if (snprintf(path, sizeof(path), MP_HEARTBEAT_DIR "/%s", e->d_name) < (int)sizeof(path) &&
		    strcmp(path, keep) != 0)
			(void)unlink(path);
	}
	closedir(dir);
}

/* Its file is made fresh before the loop starts, so the first poll after sees it beat. */
static int heartbeat_start(struct mp_blade_backend *be, const char *blade, const char *path, char *err,
			   size_t errlen)
{
	char pidfile[PATH_MAX];
	const char *const argv[] = { "/bin/sh", "-c", heartbeat_sh, "mp-heartbeat", blade, path, pidfile, NULL };
	int fd;

	if (snprintf(pidfile, sizeof(pidfile), MP_HEARTBEAT_DIR "/%s.pid", blade) >= (int)sizeof(pidfile))
		return mp_blade_fail(err, errlen, -ENAMETOOLONG, "blade %s: name too long", blade);

	/* Its parent too (cmcd makes /run/cmc, a test program may not have). */
	if ((mkdir(MP_HEARTBEAT_PARENT, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(MP_HEARTBEAT_DIR, 0755) < 0 && errno != EEXIST))
		return mp_blade_fail(err, errlen, -errno, MP_HEARTBEAT_DIR ": %s", strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return mp_blade_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	close(fd);
	heartbeat_tidy(blade, path);
	return netns_spawn(be, blade, argv, "/dev/null", err, errlen);
}

/*
 * Whether the blade's heartbeat is fresh (not older than MP_HEARTBEAT_STALE_MS); a
 * namespace that has none yet (just made) gets one and is up. A heartbeat that cannot be
 * started (no /bin/sh) leaves the namespace alone to tell: up.
 */
static bool heartbeat_fresh(struct netns_be *nb, const char *blade, bool new_ns)
{
	struct netns_blade *b = blade_cached(nb, blade);
	char path[PATH_MAX], e[128];
	struct timespec now;
	struct stat st;
	long long age_ms;

	if (!b || heartbeat_path(blade, b->ino, path, sizeof(path)) < 0)
		return true;
	if (new_ns)
		(void)unlink(path);
	if (stat(path, &st) < 0) {
		(void)!heartbeat_start(&nb->be, blade, path, e, sizeof(e));
		return true;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	age_ms = (long long)(now.tv_sec - st.st_mtim.tv_sec) * 1000 + (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
	return age_ms <= MP_HEARTBEAT_STALE_MS;
}

/* Up while /run/netns/<blade> names a namespace and its heartbeat beats; when the name is
 * gone, the namespace we held is let go. */
static int netns_health(struct mp_blade_backend *be, const char *blade, bool *up, char *err, size_t errlen)
{
	struct netns_be *nb = to_netns(be);
	int fd, rc = blade_fd(nb, blade, &fd);

	*up = rc == 0 && heartbeat_fresh(nb, blade, false);
	if (rc == -ENOENT || !rc)
		return 0;
	return mp_blade_fail(err, errlen, rc, "blade %s: %s", blade, strerror(-rc));
}

static int netns_power_off(struct mp_blade_backend *be, const char *blade, char *err, size_t errlen)
{
	struct netns_be *nb = to_netns(be);
	struct netns_blade *b = blade_cached(nb, blade);
	char path[PATH_MAX];
	int rc = blade_path(blade, path, sizeof(path));

	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: name too long", blade);
	if (b)
		blade_forget(nb, b);
	/* As ip-netns(8) deletes one: the bind mount lazily, then its file. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return mp_blade_fail(err, errlen, -errno, "blade %s: umount %s: %s", blade, path, strerror(errno));
	if (unlink(path) < 0 && errno != ENOENT)
		return mp_blade_fail(err, errlen, -errno, "blade %s: unlink %s: %s", blade, path, strerror(errno));
	return 0;
}

/* --- The VF in sysfs (PCI devices are not per namespace) --------------------------- */

static void sysfs_driver(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(out, len, "none");
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	n = (ssize_t)strlen(base);
	if ((size_t)n >= len)
		n = (ssize_t)len - 1;	/* driver names are short; cut, not overflow */
	memcpy(out, base, (size_t)n);
	out[n] = 0;
}

static int check_vf(const char *bdf, char *err, size_t errlen)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s", bdf);
	if (access(path, F_OK) < 0)
		return mp_blade_fail(err, errlen, -ENODEV, "no PCI function %s", bdf);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/physfn", bdf);
	if (access(path, F_OK) < 0)
		return mp_blade_fail(err, errlen, -EINVAL,
				     "%s is not a virtual function (only VFs go to blades)", bdf);
	return 0;
}

/* --- Map, unmap -------------------------------------------------------------------- */

/*
 * The VF already in the blade: as ifname (1), or under another name, which is then
 * changed (1); 0 if it is not there. Renaming needs the link down (dev_change_name
 * refuses an up device); the caller sets it up after.
 */
static int map_in_blade(struct nl_sock *sk, const char *bdf, const char *blade,
			const char *ifname, char *err, size_t errlen)
{
	struct link_info li;
	int rc = link_by_name(sk, ifname, &li);

	if (!rc && li.found && strcmp(li.parent, bdf))
		return mp_blade_fail(err, errlen, -EEXIST, "blade %s has a %s already (%s)", blade,
				     ifname, *li.parent ? li.parent : "not a PCI function");
	if (!rc && li.found)
		return 1;
	if (!rc)
		rc = link_by_parent(sk, bdf, &li);
	if (!rc && !li.found)
		return 0;
	if (!rc)
		rc = set_link(sk, li.ifindex, 0, IFF_UP, -1, NULL);
	if (!rc)
		rc = set_link(sk, li.ifindex, 0, 0, -1, ifname);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "VF %s in blade %s: %s", bdf, blade, strerror(-rc));
	return 1;
}

/*
 * The VF's netdev in our own namespace, moved into the blade and renamed there in one
 * request (1); 0 if it is not here. If the move succeeds and the rename does not, the
 * next map finds the VF in the blade and renames it then.
 */
static int map_from_home(int blade_ns, const char *bdf, const char *blade, const char *ifname,
			 char *err, size_t errlen)
{
	struct nl_sock *sk;
	struct link_info li = { 0 };
	int rc = sock_open(-1, &sk);

	if (!rc)
		rc = link_by_parent(sk, bdf, &li);
	if (!rc && li.found)
		rc = set_link(sk, li.ifindex, 0, 0, blade_ns, ifname);
	if (sk)
		nl_socket_free(sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "VF %s (%s) into blade %s as %s: %s", bdf,
				     li.found ? li.name : "?", blade, ifname, strerror(-rc));
	return li.found;
}

/*
 * Whether the namespace /run/netns/<name> holds the VF; its name there into ifname.
 * Not cached: it may not be a blade of ours, and must not be pinned.
 */
static bool netns_has(const char *name, const char *bdf, char *ifname)
{
	struct nl_sock *sk = NULL;
	struct link_info li = { 0 };
	char path[PATH_MAX];
	int fd = -1;

	if (!blade_path(name, path, sizeof(path)))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && is_netns(fd) && !sock_open(fd, &sk) && link_by_parent(sk, bdf, &li))
		li.found = false;
	if (sk)
		nl_socket_free(sk);
	if (fd >= 0)
		close(fd);
	if (li.found)
		snprintf(ifname, IFNAMSIZ, "%s", li.name);
	return li.found;
}

/* The VF is neither here nor in the blade: in another blade (-EBUSY) or still without a netdev. */
static int map_missing(const char *bdf, const char *blade, char *err, size_t errlen)
{
	char ifname[IFNAMSIZ], driver[64];
	struct dirent *e;
	DIR *d = opendir(NETNS_DIR);
	int rc = 0;

	for (int n = 0; d && (e = readdir(d)) && n < MAX_SCAN; n++) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > MP_BLADE_NAME_MAX ||
		    !strcmp(e->d_name, blade) || !netns_has(e->d_name, bdf, ifname))
			continue;
		rc = mp_blade_fail(err, errlen, -EBUSY, "VF %s is mapped to blade %s (as %s)", bdf,
				   e->d_name, ifname);
		break;
	}
	if (d)
		closedir(d);
	if (rc)
		return rc;
	sysfs_driver(bdf, driver, sizeof(driver));
	return mp_blade_fail(err, errlen, -EAGAIN,
			     "VF %s (driver %s) has no network interface yet", bdf, driver);
}

static int netns_map(struct mp_blade_backend *be, const char *bdf, const char *blade,
		     const char *ifname, char *err, size_t errlen)
{
	struct netns_be *nb = to_netns(be);
	struct nl_sock *sk = NULL;
	int fd, rc = check_vf(bdf, err, errlen);

	if (!rc)
		rc = blade_sock(nb, blade, &sk, &fd, err, errlen);
	if (!rc)
		rc = map_in_blade(sk, bdf, blade, ifname, err, errlen);
	if (rc == 0)
		rc = map_from_home(fd, bdf, blade, ifname, err, errlen);
	if (rc == 0)
		rc = map_missing(bdf, blade, err, errlen);
	if (rc < 0)
		goto out;
	rc = link_up(sk, ifname);
	if (rc)
		mp_blade_fail(err, errlen, rc, "blade %s: cannot set %s (VF %s) up: %s", blade, ifname,
			      bdf, strerror(-rc));
out:
	if (sk)
		nl_socket_free(sk);
	return rc;
}

/*
 * Home under its own name; if our namespace has that name already (two blades each had
 * a "lane0"), under a free ethN: the kernel fills in the pattern when the name is taken.
 */
static int move_home(struct netns_be *nb, struct nl_sock *sk, const struct link_info *li)
{
	int rc = set_link(sk, li->ifindex, 0, 0, nb->home_fd, NULL);

	if (rc == -EEXIST)
		rc = set_link(sk, li->ifindex, 0, 0, nb->home_fd, "eth%d");
	return rc;
}

static int netns_unmap(struct mp_blade_backend *be, const char *bdf, const char *blade,
		       const char *ifname, char *err, size_t errlen)
{
	struct netns_be *nb = to_netns(be);
	struct nl_sock *sk;
	struct link_info li;
	int fd, rc = blade_fd(nb, blade, &fd);

	(void)ifname;	/* the VF is found by what it is, not by what it is called */
	if (rc == -ENOENT)
		return 0;
	if (!rc)
		rc = sock_open(fd, &sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: %s", blade, strerror(-rc));
	rc = link_by_parent(sk, bdf, &li);
	/* Moving it takes it down and drops its addresses (NETDEV_UNREGISTER in the blade). */
	if (!rc && li.found)
		rc = move_home(nb, sk, &li);
	nl_socket_free(sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "VF %s (%s) out of blade %s: %s", bdf,
				     li.found ? li.name : "?", blade, strerror(-rc));
	return 0;
}

/* --- Queries, addresses ------------------------------------------------------------ */

static int netns_netdev(struct mp_blade_backend *be, const char *blade, const char *ifname,
			struct mp_blade_netdev *out, char *err, size_t errlen)
{
	struct nl_sock *sk;
	struct link_info li;
	int rc = blade_sock(to_netns(be), blade, &sk, NULL, err, errlen);

	if (rc)
		return rc;
	rc = link_by_name(sk, ifname, &li);
	nl_socket_free(sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: %s: %s", blade, ifname, strerror(-rc));
	out->present = li.found;
	out->up = li.flags & IFF_UP;
	out->carrier = li.flags & IFF_LOWER_UP;
	memcpy(out->mac, li.mac, sizeof(out->mac));
	out->ifindex = li.found ? (unsigned)li.ifindex : 0;
	snprintf(out->bdf, sizeof(out->bdf), "%s", li.parent);
	return 0;
}

/* Writable copies of argv in args[0..max) (execv wants char *const[]), made before a
 * fork; *n of them made, to free whatever the result. -E2BIG: more than max - 1. */
static int args_copy(const char *const argv[], char *args[], size_t max, size_t *n)
{
	for (*n = 0; argv[*n] && *n + 1 < max; (*n)++)
		if (!(args[*n] = strdup(argv[*n])))
			break;
	args[*n] = NULL;
	if (!argv[*n])
		return 0;
	return *n + 1 < max ? -ENOMEM : -E2BIG;
}

/*
 * Double fork: the middle child enters the blade, starts a new session and forks the
 * program, then exits at once, so the program is init's child and not a zombie of ours.
 * A pipe closed on exec tells us whether exec worked.
 */
static int netns_spawn(struct mp_blade_backend *be, const char *blade, const char *const argv[],
		       const char *log_path, char *err, size_t errlen)
{
	int fd, rc = blade_fd(to_netns(be), blade, &fd), pipefd[2], child_err = 0, status;
	char *args[64];
	size_t n = 0;
	pid_t pid;

	if (rc)
		return mp_blade_fail(err, errlen, rc, "no blade %s", blade);
	rc = args_copy(argv, args, sizeof(args) / sizeof(args[0]), &n);
	if (rc) {
		mp_blade_fail(err, errlen, rc, "%s: %s", argv[0], rc == -E2BIG ? "too many arguments" : "out of memory");
		goto out_args;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = mp_blade_fail(err, errlen, -errno, "pipe: %s", strerror(errno));
		goto out_args;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		mp_blade_fail(err, errlen, rc, "fork: %s", strerror(-rc));
		goto out_args;
	}
	if (pid == 0) {
		int e = 0, null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int log = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640) : -1;

		close(pipefd[0]);
		if (setns(fd, CLONE_NEWNET) < 0 || setsid() < 0)
			e = errno;
		if (!e && null >= 0)
			dup2(null, 0);
		if (!e && log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		if (!e) {
			pid_t p = fork();
			if (p == 0) {
				execv(args[0], args);
				e = errno;
				(void)!write(pipefd[1], &e, sizeof(e));
				_exit(127);
			}
			if (p < 0)
				e = errno;
		}
		if (e)
			(void)!write(pipefd[1], &e, sizeof(e));
		_exit(e ? 1 : 0);
	}
	close(pipefd[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* The write end is open in the program until its exec: bounded by the exec itself. */
	if (read(pipefd[0], &child_err, sizeof(child_err)) != sizeof(child_err))
		child_err = 0;
	close(pipefd[0]);
	rc = 0;
	if (child_err)
		rc = mp_blade_fail(err, errlen, -child_err, "%s on blade %s: %s", argv[0], blade,
				   strerror(child_err));
out_args:
	for (size_t i = 0; i < n; i++)
		free(args[i]);
	return rc;
}

/* The child's side of netns_spawn_child: async-signal-safe calls only (the parent may
 * have threads). Reports errno on the close-on-exec pipe and exits when anything fails. */
static void child_exec(int nsfd, char *const args[], const char *log_path, int report)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC), e = 0;
	int log = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640) : -1;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	if (setns(nsfd, CLONE_NEWNET) < 0 || setsid() < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		e = errno;
	/* The daemon blocks its signals (signalfd) and ignores SIGPIPE: the program must not. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	if (!e && null >= 0)
		dup2(null, 0);
	if (!e && log >= 0) {
		dup2(log, 1);
		dup2(log, 2);
	}
	if (!e)
		execv(args[0], args);
	e = e ? e : errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

static int netns_spawn_child(struct mp_blade_backend *be, const char *blade, const char *const argv[],
			     const char *log_path, int *pid_out, char *err, size_t errlen)
{
	int fd, rc = blade_fd(to_netns(be), blade, &fd), pipefd[2], child_err = 0;
	char *args[64];
	size_t n = 0;
	pid_t pid;

	if (rc)
		return mp_blade_fail(err, errlen, rc, "no blade %s", blade);
	rc = args_copy(argv, args, sizeof(args) / sizeof(args[0]), &n);
	if (rc) {
		mp_blade_fail(err, errlen, rc, "%s: %s", argv[0], rc == -E2BIG ? "too many arguments" : "out of memory");
		goto out_args;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = mp_blade_fail(err, errlen, -errno, "pipe: %s", strerror(errno));
		goto out_args;
	}
	pid = fork();
	if (pid == 0)
		child_exec(fd, args, log_path, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0) {
		rc = mp_blade_fail(err, errlen, -errno, "fork: %s", strerror(errno));
		close(pipefd[0]);
		goto out_args;
	}
	/* Closed by the exec (nothing read) or written by a failure: bounded by the exec. */
	while (read(pipefd[0], &child_err, sizeof(child_err)) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	if (child_err) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		rc = mp_blade_fail(err, errlen, -child_err, "%s on blade %s: %s", argv[0], blade, strerror(child_err));
		goto out_args;
	}
	*pid_out = pid;
out_args:
	for (size_t i = 0; i < n; i++)
		free(args[i]);
	return rc;
}

/* The child of netns_run (forked from a threaded process: async-signal-safe calls only):
 * into the blade, stdin from in, stdout and stderr to out. 126: not into the blade;
 * 127: no such program. */
static __attribute__((noreturn)) void run_child(int nsfd, int in, int out, char *const args[])
{
	if (setns(nsfd, CLONE_NEWNET) < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	execv(args[0], args);
	_exit(127);
}

/* What the program printed, until it closes its output or `end` (ms) comes. */
static void run_collect(int fd, unsigned long long end, char *buf, size_t len)
{
	size_t used = 0;

	for (;;) {
		unsigned long long now = cmc_now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char chunk[512];
		ssize_t n;

		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
			break;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && used + 1 < len; i++)
			buf[used++] = chunk[i] == '\n' || chunk[i] == '\t' ? ' ' : chunk[i];
	}
	buf[used < len ? used : len - 1] = '\0';
}

/* Reaps pid by `end` (ms), else kills it and reaps it. Its wait status, or -ETIMEDOUT. */
static int run_reap(pid_t pid, unsigned long long end)
{
	int status;

	while (cmc_now_ms() < end) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -ECHILD;
		usleep(2000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return -ETIMEDOUT;
}

/*
 * A program in the blade, waited for (mp_blade_run): stdin a pipe holding `input` (a
 * ruleset fits the pipe's buffer; a longer input is refused rather than risk a writer
 * blocked on a reader that never reads), its output collected, all within timeout_ms.
 */
static int netns_run(struct mp_blade_backend *be, const char *blade, const char *const argv[], const char *input,
		     unsigned timeout_ms, char *err, size_t errlen)
{
	int nsfd, rc = blade_fd(to_netns(be), blade, &nsfd), in[2] = { -1, -1 }, out[2] = { -1, -1 }, status;
	unsigned long long end = cmc_now_ms() + timeout_ms;
	size_t len = input ? strlen(input) : 0;
	char *args[32], said[256];
	size_t n = 0;
	pid_t pid;

	if (rc)
		return mp_blade_fail(err, errlen, rc, "no blade %s", blade);
	if (len > 60000)
		return mp_blade_fail(err, errlen, -E2BIG, "%zu bytes of input, at most 60000", len);
	for (; argv[n] && n + 1 < sizeof(args) / sizeof(args[0]); n++)
		memcpy(&args[n], &argv[n], sizeof(args[n]));	/* execv's prototype; nothing writes them */
	args[n] = NULL;
	if (argv[n])
		return mp_blade_fail(err, errlen, -E2BIG, "%s: too many arguments", argv[0]);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		rc = mp_blade_fail(err, errlen, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = mp_blade_fail(err, errlen, -errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		run_child(nsfd, in[0], out[1], args);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (len)
		(void)!write(in[1], input, len);	/* fits the pipe; one that went unread says why below */
	close(in[1]);
	in[1] = -1;
	run_collect(out[0], end, said, sizeof(said));
	status = run_reap(pid, end);
	if (status == -ETIMEDOUT)
		rc = mp_blade_fail(err, errlen, -ETIMEDOUT, "%s on blade %s: still running after %u ms (killed)", argv[0],
				   blade, timeout_ms);
	else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) >= 126 && !said[0])
		rc = mp_blade_fail(err, errlen, WEXITSTATUS(status) == 127 ? -ENOENT : -EIO, "%s on blade %s: %s",
				   argv[0], blade, WEXITSTATUS(status) == 127 ? "no such program" : "cannot enter the blade");
	else if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = mp_blade_fail(err, errlen, -EIO, "%s on blade %s: %s", argv[0], blade,
				   said[0] ? said : status >= 0 && WIFEXITED(status) ? "failed" : "killed");
	else
		rc = 0;
out:
	for (unsigned i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return rc;
}

static int netns_set_up(struct mp_blade_backend *be, const char *blade, const char *ifname, bool up,
			char *err, size_t errlen)
{
	struct nl_sock *sk;
	struct link_info li;
	int rc = blade_sock(to_netns(be), blade, &sk, NULL, err, errlen);

	if (rc)
		return rc;
	rc = link_by_name(sk, ifname, &li);
	if (!rc && !li.found)
		rc = -ENODEV;
	if (!rc)
		rc = set_link(sk, li.ifindex, up ? IFF_UP : 0, IFF_UP, -1, NULL);
	nl_socket_free(sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: %s %s: %s", blade, ifname, up ? "up" : "down",
				     strerror(-rc));
	return 0;
}

/* Bounded: each round removes up to ADDR_BATCH addresses; a lane has one or two. */
#define ADDR_ROUNDS 8

static int netns_set_addr(struct mp_blade_backend *be, const char *blade, const char *ifname,
			  const struct mp_blade_cidr *cidr, char *err, size_t errlen)
{
	struct addr_scan s = { .want = cidr };
	struct nl_sock *sk;
	struct link_info li;
	int rc = blade_sock(to_netns(be), blade, &sk, NULL, err, errlen);

	if (rc)
		return rc;
	rc = link_by_name(sk, ifname, &li);
	if (!rc && !li.found) {
		rc = mp_blade_fail(err, errlen, -ENODEV, "blade %s has no %s", blade, ifname);
		goto out;
	}
	s.ifindex = li.ifindex;
	for (int round = 0; !rc && round < ADDR_ROUNDS; round++) {
		rc = addr_round(sk, &s);
		if (!s.more)
			break;
	}
	if (!rc && s.more)
		rc = -E2BIG;
	if (!rc && !s.have)
		rc = addr_change(sk, RTM_NEWADDR, li.ifindex, cidr);
	if (rc)
		mp_blade_fail(err, errlen, rc, "blade %s: address of %s: %s", blade, ifname, strerror(-rc));
out:
	nl_socket_free(sk);
	return rc;
}

/* --- A VM's port: a bridge joining the VF and a tap ------------------------------- */

/* Runs in the blade's namespace: a tap made there, persistent, so that the hypervisor
 * opens it by name (TUNSETIFF on an existing tap attaches to it) and its bridge port is
 * ready before the VM starts. Linux Documentation/networking/tuntap.rst. */
static int tap_make_here(void *arg)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int rc = 0, fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", (const char *)arg);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE none } }: no link-local address, so
 * the bridge and the tap send no neighbour discovery of their own. */
static int put_no_ipv6(struct nl_msg *msg)
{
	struct nlattr *spec = nla_nest_start(msg, IFLA_AF_SPEC), *in6;

	if (!spec || !(in6 = nla_nest_start(msg, AF_INET6)) ||
	    nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0)
		return -EMSGSIZE;
	nla_nest_end(msg, in6);
	nla_nest_end(msg, spec);
	return 0;
}

/* A bridge called name (kernel's EEXIST: there already, kept). */
static int bridge_make(struct nl_sock *sk, const char *name)
{
	struct nl_msg *msg;
	struct nlattr *info;
	int rc = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0, &msg);

	if (rc)
		return rc;
	if (nla_put_string(msg, IFLA_IFNAME, name) < 0 || !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0)
		rc = -EMSGSIZE;
	if (!rc) {
		nla_nest_end(msg, info);
		rc = talk(sk, msg, NULL, NULL);
	}
	nlmsg_free(msg);
	return rc == -EEXIST ? 0 : rc;
}

/* No IPv6 address of ifindex's own, set before it goes up (the kernel applies a
 * message's IFLA_AF_SPEC after its flags). A kernel without IPv6: nothing to do. */
static int link_no_ipv6(struct nl_sock *sk, int ifindex)
{
	struct nl_msg *msg;
	int rc = link_msg(RTM_SETLINK, 0, ifindex, 0, 0, &msg);

	if (rc)
		return rc;
	rc = put_no_ipv6(msg);
	if (!rc)
		rc = talk(sk, msg, NULL, NULL);
	nlmsg_free(msg);
	return rc == -EAFNOSUPPORT ? 0 : rc;
}

/* ifindex into master (0: none), up; no IPv6 address of its own if no_ipv6. */
static int port_join(struct nl_sock *sk, int ifindex, int master, bool no_ipv6)
{
	struct nl_msg *msg;
	int rc = no_ipv6 ? link_no_ipv6(sk, ifindex) : 0;

	if (!rc)
		rc = link_msg(RTM_SETLINK, 0, ifindex, IFF_UP, IFF_UP, &msg);
	if (rc)
		return rc;
	if (nla_put_u32(msg, IFLA_MASTER, (uint32_t)master) < 0)
		rc = -EMSGSIZE;
	if (!rc)
		rc = talk(sk, msg, NULL, NULL);
	nlmsg_free(msg);
	return rc;
}

/* Learning off on a bridge port (what `bridge link set dev X learning off` sends: the
 * bridge's RTM_SETLINK with a nested IFLA_PROTINFO, br_setlink). */
static int port_no_learning(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_SETLINK, 0);
	struct nlattr *pi;
	int rc = 0;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(pi = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ||
	    nla_put_u8(msg, IFLA_BRPORT_LEARNING, 0) < 0)
		rc = -EMSGSIZE;
	if (!rc) {
		nla_nest_end(msg, pi);
		rc = talk(sk, msg, NULL, NULL);
	}
	nlmsg_free(msg);
	return rc;
}

/* mac as a static, sticky entry of the bridge on port ifindex (`bridge fdb replace MAC
 * dev X master static sticky`): learning never moves it. */
static int fdb_pin(struct nl_sock *sk, int ifindex, const uint8_t mac[6])
{
	struct ndmsg ndm = { .ndm_family = AF_BRIDGE, .ndm_ifindex = ifindex, .ndm_state = NUD_NOARP,
			     .ndm_flags = NTF_MASTER | NTF_STICKY };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	int rc = 0;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0 || nla_put(msg, NDA_LLADDR, 6, mac) < 0)
		rc = -EMSGSIZE;
	if (!rc)
		rc = talk(sk, msg, NULL, NULL);
	nlmsg_free(msg);
	return rc;
}

/* The link called name, which must be there (-ENODEV). */
static int link_needed(struct nl_sock *sk, const char *name, struct link_info *li)
{
	int rc = link_by_name(sk, name, li);

	return !rc && !li->found ? -ENODEV : rc;
}

/* The steps of a VM's port in order; *step names the one that failed. */
static int vmport_build(struct nl_sock *sk, int nsfd, const char *vf_ifname, const char *bridge,
			const char *tap, const uint8_t mac[6], const char **step)
{
	struct link_info vf, br, tp;
	char tapname[IFNAMSIZ];
	int rc;

	snprintf(tapname, sizeof(tapname), "%s", tap);
	*step = vf_ifname;
	rc = link_needed(sk, vf_ifname, &vf);
	if (!rc) {
		*step = "the bridge";
		rc = bridge_make(sk, bridge);
	}
	if (!rc)
		rc = link_needed(sk, bridge, &br);
	if (!rc) {
		*step = "the tap (is the tun module loaded?)";
		rc = link_by_name(sk, tap, &tp);
		if (!rc && !tp.found)
			rc = in_netns(nsfd, tap_make_here, tapname);
	}
	if (!rc)
		rc = link_needed(sk, tap, &tp);
	if (!rc) {
		*step = "the bridge up";
		rc = port_join(sk, br.ifindex, 0, true);
	}
	if (!rc) {
		*step = "the tap into the bridge";
		rc = port_join(sk, tp.ifindex, br.ifindex, true);
	}
	if (!rc) {
		/* The bridge asks the VF's driver for VLAN 1 (its default port VLAN): a mailbox
		 * request, which fails (EINVAL) once the driver has given up on the mailbox (a
		 * request unanswered for about 1 s), until the driver resets. */
		*step = "the VF into the bridge (its driver's VLAN filter)";
		rc = port_join(sk, vf.ifindex, br.ifindex, false);
	}
	if (!rc) {
		*step = "learning off on the VF's port";
		rc = port_no_learning(sk, vf.ifindex);
	}
	if (!rc) {
		*step = "the VM's MAC on the tap";
		rc = fdb_pin(sk, tp.ifindex, mac);
	}
	return rc;
}

static int netns_vmport_add(struct mp_blade_backend *be, const char *blade, const char *vf_ifname,
			    const char *bridge, const char *tap, const uint8_t mac[6], char *err, size_t errlen)
{
	const char *step = "";
	struct nl_sock *sk;
	int nsfd, rc = blade_sock(to_netns(be), blade, &sk, &nsfd, err, errlen);

	if (rc)
		return rc;
	rc = vmport_build(sk, nsfd, vf_ifname, bridge, tap, mac, &step);
	nl_socket_free(sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: VM port %s: %s: %s", blade, bridge, step,
				     strerror(-rc));
	return 0;
}

/* Deletes the link called name if it is there. */
static int link_delete(struct nl_sock *sk, const char *name)
{
	struct link_info li;
	struct nl_msg *msg;
	int rc = link_by_name(sk, name, &li);

	if (rc || !li.found)
		return rc;
	rc = link_msg(RTM_DELLINK, 0, li.ifindex, 0, 0, &msg);
	if (rc)
		return rc;
	rc = talk(sk, msg, NULL, NULL);
	nlmsg_free(msg);
	return rc == -ENODEV ? 0 : rc;
}

static int netns_vmport_del(struct mp_blade_backend *be, const char *blade, const char *bridge, const char *tap,
			    char *err, size_t errlen)
{
	struct nl_sock *sk;
	int rc = blade_sock(to_netns(be), blade, &sk, NULL, err, errlen);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = link_delete(sk, tap);
	if (!rc)
		rc = link_delete(sk, bridge);
	nl_socket_free(sk);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "blade %s: removing VM port %s: %s", blade, bridge, strerror(-rc));
	return 0;
}

/* --- Open, close ------------------------------------------------------------------- */

static int netns_open(struct mp_blade_backend **out, char *err, size_t errlen)
{
	struct netns_be *nb = calloc(1, sizeof(*nb));

	if (!nb)
		return mp_blade_fail(err, errlen, -ENOMEM, "out of memory");
	nb->be.ops = &mp_blade_netns_ops;
	/* The caller's namespace is home: where unmapped VFs go back to. */
	nb->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nb->home_fd < 0) {
		int rc = -errno;

		free(nb);
		return mp_blade_fail(err, errlen, rc, "/proc/thread-self/ns/net: %s", strerror(-rc));
	}
	*out = &nb->be;
	return 0;
}

static void netns_close(struct mp_blade_backend *be)
{
	struct netns_be *nb = to_netns(be);

	/* Blades outlive us: they are bind mounts, our fds only pinned them. */
	for (size_t i = 0; i < nb->nblades; i++)
		close(nb->blades[i].fd);
	free(nb->blades);
	close(nb->home_fd);
	free(nb);
}

/* --- Link changes in a blade ------------------------------------------------------ */

/* Runs in the blade's namespace: the socket is bound to that namespace for good. */
static int watch_sock_here(void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int *out = arg, fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int netns_watch_open(struct mp_blade_backend *be, const char *blade, int *fd, char *err,
			    size_t errlen)
{
	int nsfd, rc = blade_fd(to_netns(be), blade, &nsfd);

	if (!rc)
		rc = in_netns(nsfd, watch_sock_here, fd);
	if (rc)
		return mp_blade_fail(err, errlen, rc, "link changes in blade %s: %s", blade, strerror(-rc));
	return 0;
}

static void report_link(struct nlmsghdr *nlh, mp_blade_link_fn fn, void *arg)
{
	struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;
	char name[IFNAMSIZ];

	if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
	    !nlmsg_valid_hdr(nlh, sizeof(*ifi)) || nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 ||
	    !tb[IFLA_IFNAME])
		return;
	ifi = nlmsg_data(nlh);
	nla_strlcpy(name, tb[IFLA_IFNAME], sizeof(name));
	if (nlh->nlmsg_type == RTM_DELLINK)
		fn(arg, name, false, false, false);
	else
		fn(arg, name, true, ifi->ifi_flags & IFF_UP, ifi->ifi_flags & IFF_LOWER_UP);
}

/* Every datagram pending, each message checked against the datagram's length. */
static int netns_watch_read(struct mp_blade_backend *be, int fd, mp_blade_link_fn fn, void *arg)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	(void)be;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == ENOBUFS) {	/* the kernel dropped changes: look again */
			fn(arg, NULL, false, false, false);
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nlmsg_ok(h, len); h = nlmsg_next(h, &len))
			report_link(h, fn, arg);
	}
}

const struct mp_blade_ops mp_blade_netns_ops = {
	.kind = "netns",
	.open = netns_open,
	.close = netns_close,
	.create = netns_create,
	.health = netns_health,
	.power_off = netns_power_off,
	.map = netns_map,
	.unmap = netns_unmap,
	.netdev = netns_netdev,
	.set_addr = netns_set_addr,
	.set_up = netns_set_up,
	.spawn = netns_spawn,
	.spawn_child = netns_spawn_child,
	.run = netns_run,
	.vmport_add = netns_vmport_add,
	.vmport_del = netns_vmport_del,
	.watch_open = netns_watch_open,
	.watch_read = netns_watch_read,
};
