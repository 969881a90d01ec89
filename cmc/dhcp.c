/* SPDX-License-Identifier: MIT */
/*
 * The domains' configuration services run (dhcp.h): one dnsmasq per domain with a
 * service, in the namespace its VF was placed in ("dhcp-DOMAIN", blades.c), as cmcd's
 * child. Nothing here waits: dnsmasq is started by fork and exec (mp_blade_spawn_child,
 * which returns once exec has happened), its end is a pidfd becoming readable on the
 * loop; a service whose VF is still on its way into the namespace starts when the blades
 * say a VF was placed (cmc_blades_on_placed), a restart held back from a timer.
 *
 * Restarts are rate-limited: the first after a run of RUN_OK_MS or more is at once, each
 * following one waits twice as long as the one before (RESTART_FIRST_MS up to
 * RESTART_MAX_MS), so a dnsmasq that cannot start costs one fork a minute, not a loop.
 */
#include "dhcp.h"

#include "blade.h"
#include "blades.h"
#include "daemon.h"
#include "intent.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_OK_MS 60000		/* ran this long: its next restart is at once */
#define RESTART_FIRST_MS 1000
#define RESTART_MAX_MS 60000
#define STOP_GRACE_MS 1000	/* SIGTERM, then SIGKILL */
#define CONF_MAX 2048

struct svc {
	struct cmc_dhcp *h;
	bool used;
	char domain[CMC_INTENT_NAME_MAX + 1];
	char conf[CONF_MAX];		/* what the running dnsmasq was started with */
	unsigned long long placement;	/* of its VF then: a VF placed again is a new netdev,
					 * which a dnsmasq bound to the old one would not hear */
	int pid, pidfd;
	struct cmc_watch *w;
	bool stopping;			/* we sent SIGTERM: its end is no failure */
	unsigned long long started, not_before;	/* ms */
	unsigned restarts, backoff;	/* restarts since cmcd started; in a row */
	char why[160];			/* why it is not running */
};

struct cmc_dhcp {
	struct cmcd *d;
	struct mp_blade_backend *be;	/* the loop's own (the blade worker has another) */
	struct cmc_timer *timer;
	char dnsmasq[PATH_MAX];
	char lease_dir[PATH_MAX - 64];	/* room for "/DOMAIN.leases" */
	struct svc svc[CMC_INTENT_DOMAIN_MAX];
};

static int pidfd_open_(int pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int cmc_dhcp_usable(const struct cmc_dhcp *h, char *err, size_t errlen)
{
	if (access(h->dnsmasq, X_OK) == 0)
		return 0;
	snprintf(err, errlen, "no DHCP server: %.160s cannot be run (%s); install the dnsmasq package", h->dnsmasq,
		 strerror(errno));
	return -ENOENT;
}

static struct svc *svc_find(struct cmc_dhcp *h, const char *domain, bool make)
{
	struct svc *free_one = NULL;

	for (unsigned i = 0; i < CMC_INTENT_DOMAIN_MAX; i++) {
		if (h->svc[i].used && strcmp(h->svc[i].domain, domain) == 0)
			return &h->svc[i];
		if (!h->svc[i].used && !free_one)
			free_one = &h->svc[i];
	}
	if (!make || !free_one)
		return NULL;
	*free_one = (struct svc){ .h = h, .used = true, .pidfd = -1 };
	snprintf(free_one->domain, sizeof(free_one->domain), "%s", domain);
	return free_one;
}

static void paths(const struct cmc_dhcp *h, const char *domain, char conf[PATH_MAX], char log[PATH_MAX],
		  char leases[PATH_MAX])
{
	snprintf(conf, PATH_MAX, "%s/dhcp-%s.conf", h->d->config->run_dir, domain);
	snprintf(log, PATH_MAX, "%s/dhcp-%s.log", h->d->config->run_dir, domain);
	snprintf(leases, PATH_MAX, "%s/%s.leases", h->lease_dir, domain);
}

/* What domain's dnsmasq is to run with now, and its VF's placement; false when it is not
 * to run (yet): why says. */
static bool wanted(struct cmc_dhcp *h, const char *domain, char *conf, unsigned long long *placement,
		   char *why, size_t whylen)
{
	const struct cmc_intent *in = cmc_blades_intent(h->d->blades);
	const struct cmc_domain *dm = in ? cmc_intent_domain(in, domain) : NULL;
	const struct cmc_assignment *a = in ? cmc_intent_service(in, domain) : NULL;
	char c[PATH_MAX], l[PATH_MAX], leases[PATH_MAX], ifname[16];
	struct cmc_vf_state st;

	why[0] = '\0';
	if (!dm || !dm->dhcp.on || !a)
		return false;
	cmc_blades_vf_state(h->d->blades, a->slot, a->pf, a->vf, &st);
	if (!st.placed) {
		snprintf(why, whylen, "its VF (slot %u pf %u vf %u) is not in %s yet", a->slot, a->pf, a->vf, a->blade);
		return false;
	}
	*placement = st.placement;
	cmc_blades_ifname(a, ifname);
	paths(h, domain, c, l, leases);
	if (cmc_dhcp_conf(&dm->dhcp, domain, ifname, leases, conf, CONF_MAX) >= CONF_MAX) {
		snprintf(why, whylen, "its configuration is too long");
		return false;
	}
	return true;
}

static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	size_t len = strlen(text);
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		rc = -EIO;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static void on_exit_(struct cmc_loop *loop, int fd, uint32_t events, void *arg);

/* Starts s's dnsmasq with conf; on failure, why says and a restart is held back. */
static void start(struct cmc_dhcp *h, struct svc *s, const char *conf, unsigned long long placement)
{
	char c[PATH_MAX], log[PATH_MAX], leases[PATH_MAX], blade[CMC_CONFIG_NAME_MAX + 1], arg[PATH_MAX + 16];
	const char *argv[] = { h->dnsmasq, "--no-daemon", "--log-facility=-", arg, NULL };
	char err[256];
	int rc, pid = 0, pidfd;

	paths(h, s->domain, c, log, leases);
	snprintf(arg, sizeof(arg), "--conf-file=%s", c);
	snprintf(blade, sizeof(blade), CMC_DHCP_BLADE_PREFIX "%s", s->domain);
	rc = cmc_dhcp_usable(h, err, sizeof(err));
	if (!rc && !h->be) {
		rc = -ENOTSUP;
		snprintf(err, sizeof(err), "cmcd cannot reach into namespaces (no blade backend)");
	}
	if (!rc && (rc = write_file(c, conf)) < 0)
		snprintf(err, sizeof(err), "%.160s: %s", c, strerror(-rc));
	if (!rc)
		rc = mp_blade_spawn_child(h->be, blade, argv, log, &pid, err, sizeof(err));
	if (!rc && (pidfd = pidfd_open_(pid)) < 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "pidfd_open: %s", strerror(errno));
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (!rc && (rc = cmc_loop_add_fd(h->d->loop, pidfd, EPOLLIN, on_exit_, s, &s->w)) < 0) {
		snprintf(err, sizeof(err), "the loop: %s", strerror(-rc));
		close(pidfd);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (rc) {
		if (strncmp(s->why, err, sizeof(s->why) - 1) != 0)	/* said once, not every retry */
			cmc_events_post(h->d->events, "dhcp", -1, "%s: not started: %s", s->domain, err);
		snprintf(s->why, sizeof(s->why), "%.159s", err);
		s->not_before = cmc_now_ms() + RESTART_MAX_MS;
		return;
	}
	s->pid = pid;
	s->pidfd = pidfd;
	s->started = cmc_now_ms();
	s->why[0] = '\0';
	snprintf(s->conf, sizeof(s->conf), "%s", conf);
	s->placement = placement;
	log_info("domain %s: dnsmasq %d serves in %s", s->domain, pid, blade);
}

static void arm(struct cmc_dhcp *h, unsigned ms)
{
	(void)!cmc_timer_arm(h->timer, ms ? ms : 1, 0);
}

/* dnsmasq ended: reaped; a deliberate stop is quiet, any other end an event and a restart,
 * held back as the header says. */
static void on_exit_(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct svc *s = arg;
	struct cmc_dhcp *h = s->h;
	int status = 0, pid = s->pid;
	unsigned long long now = cmc_now_ms();
	unsigned delay = 0;
	char how[64];
	(void)events;

	if (waitpid(pid, &status, WNOHANG) == 0)
		return;	/* not yet (a spurious wake-up) */
	cmc_loop_del_fd(loop, s->w);
	close(fd);
	s->w = NULL;
	s->pidfd = -1;
	s->pid = 0;
	s->conf[0] = '\0';
	if (s->stopping) {	/* stopped or to start again with new settings: sync says */
		s->stopping = false;
		arm(h, 1);
		return;
	}
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	s->backoff = now - s->started >= RUN_OK_MS ? 0 : s->backoff + 1;
	if (s->backoff)
		delay = RESTART_FIRST_MS << (s->backoff - 1 < 6 ? s->backoff - 1 : 6);
	if (delay > RESTART_MAX_MS)
		delay = RESTART_MAX_MS;
	s->not_before = now + delay;
	s->restarts++;
	snprintf(s->why, sizeof(s->why), "dnsmasq %d %s; restart due in %u ms", pid, how, delay);
	cmc_events_post(h->d->events, "dhcp", -1, "%s: dnsmasq %d %s; restarting in %u ms (restart %u)", s->domain,
			pid, how, delay, s->restarts);
	arm(h, delay);
}

/* SIGTERM to s's dnsmasq; its end comes through on_exit_. */
static void stop_one(struct svc *s)
{
	if (s->pid && !s->stopping) {
		s->stopping = true;
		kill(s->pid, SIGTERM);
	}
}

/*
 * Makes the services match the intent: a dnsmasq for each domain with a service whose VF
 * is in place, started with the configuration generated now; one whose configuration
 * differs is stopped first (and started again once reaped); one no longer wanted stops.
 */
void cmc_dhcp_sync(struct cmc_dhcp *h)
{
	const struct cmc_intent *in = h ? cmc_blades_intent(h->d->blades) : NULL;
	unsigned long long now = cmc_now_ms(), next = 0;
	static char conf[CONF_MAX];	/* the loop's thread only */
	unsigned long long placement = 0;
	char why[160];

	if (!in)
		return;
	for (unsigned i = 0; i < CMC_INTENT_DOMAIN_MAX; i++) {
		struct svc *s = &h->svc[i];
		bool want = s->used && wanted(h, s->domain, conf, &placement, why, sizeof(why));

		if (!s->used)
			continue;
		if (s->pid && (!want || strcmp(conf, s->conf) != 0 || placement != s->placement))
			stop_one(s);
		else if (!s->pid && !want && !why[0])	/* the service went */
			*s = (struct svc){ .pidfd = -1 };
	}
	for (unsigned i = 0; i < cmc_intent_domain_count(in); i++) {
		const struct cmc_domain *dm = cmc_intent_domain_nth(in, i);
		struct svc *s = dm->dhcp.on ? svc_find(h, dm->name, true) : NULL;

		if (!s || s->pid)
			continue;
		if (!wanted(h, dm->name, conf, &placement, why, sizeof(why))) {
			snprintf(s->why, sizeof(s->why), "%s", why);	/* until its VF is placed */
			continue;
		}
		if (s->not_before > now) {
			next = !next || s->not_before < next ? s->not_before : next;
			continue;
		}
		start(h, s, conf, placement);
		if (!s->pid)
			next = !next || s->not_before < next ? s->not_before : next;
	}
	if (next)
		arm(h, next > now ? (unsigned)(next - now) : 1);
}

static void placed(void *arg)
{
	cmc_dhcp_sync(arg);
}

static void due(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	cmc_dhcp_sync(arg);
}

int cmc_dhcp_start(struct cmcd *d, struct cmc_dhcp **out)
{
	struct cmc_dhcp *h = calloc(1, sizeof(*h));
	const char *env = getenv("CMC_DNSMASQ");
	char copy[PATH_MAX], err[256];
	int rc;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->d = d;
	for (unsigned i = 0; i < CMC_INTENT_DOMAIN_MAX; i++)
		h->svc[i].pidfd = -1;
	snprintf(h->dnsmasq, sizeof(h->dnsmasq), "%s", env && *env ? env : CMC_DHCP_DEFAULT_DNSMASQ);
	/* Leases beside the store: they outlive cmcd, as the store does. */
	snprintf(copy, sizeof(copy), "%s", d->config->store_path);
	snprintf(h->lease_dir, sizeof(h->lease_dir), "%.3900s/dhcp", dirname(copy));
	if (mkdir(h->lease_dir, 0750) < 0 && errno != EEXIST)
		log_warn(-errno, "%s: DHCP leases cannot be kept", h->lease_dir);
	rc = cmc_loop_add_timer(d->loop, 0, 0, due, h, &h->timer);
	if (rc) {
		free(h);
		return rc;
	}
	if (mp_blade_backend_open("netns", &h->be, err, sizeof(err)) < 0) {
		log_warnx("DHCP: %s; no configuration service will run", err);
		h->be = NULL;
	}
	*out = h;
	cmc_blades_on_placed(d->blades, placed, h);
	cmc_dhcp_sync(h);
	return 0;
}

void cmc_dhcp_stop(struct cmc_dhcp *h)
{
	unsigned long long until = cmc_now_ms() + STOP_GRACE_MS;
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	bool left = true;

	if (!h)
		return;
	cmc_blades_on_placed(h->d->blades, NULL, NULL);
	for (unsigned i = 0; i < CMC_INTENT_DOMAIN_MAX; i++)
		if (h->svc[i].pid)
			kill(h->svc[i].pid, SIGTERM);
	/* Bounded: STOP_GRACE_MS for all, then SIGKILL, which the kernel does not refuse. */
	while (left) {
		bool late = cmc_now_ms() >= until;

		left = false;
		for (unsigned i = 0; i < CMC_INTENT_DOMAIN_MAX; i++) {
			struct svc *s = &h->svc[i];

			if (!s->pid)
				continue;
			if (late)
				kill(s->pid, SIGKILL);
			if (waitpid(s->pid, NULL, late ? 0 : WNOHANG) == 0) {
				left = true;
				continue;
			}
			cmc_loop_del_fd(h->d->loop, s->w);
			close(s->pidfd);
			s->pid = 0;
		}
		if (left)
			nanosleep(&nap, NULL);
	}
	cmc_loop_del_timer(h->d->loop, h->timer);
	if (h->be)
		mp_blade_backend_close(h->be);
	free(h);
}

void cmc_dhcp_state(const struct cmc_dhcp *h, const char *domain, struct cmc_dhcp_state *out)
{
	*out = (struct cmc_dhcp_state){ 0 };
	for (unsigned i = 0; h && i < CMC_INTENT_DOMAIN_MAX; i++) {
		const struct svc *s = &h->svc[i];

		if (!s->used || strcmp(s->domain, domain) != 0)
			continue;
		out->pid = s->pid;
		out->restarts = s->restarts;
		snprintf(out->why, sizeof(out->why), "%s", s->pid ? "" : s->why);
	}
}
