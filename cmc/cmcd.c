/* SPDX-License-Identifier: MIT */
/*
 * cmcd: the chassis management daemon. Owns the chassis' picture (inventory), its state
 * store, and the control socket cmcctl talks to; one epoll loop, asleep when idle.
 */
#include "audit.h"
#include "blades.h"
#include "dhcp.h"
#include "health.h"
#include "vms.h"
#include "cards.h"
#include "macs.h"
#include "daemon.h"
#include "notify.h"
#include "redfish.h"

#include "log.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_LOCK_WAIT_MS 10000	/* how long a start waits for a store another cmcd holds */
#define STORE_LOCK_POLL_MS 100

#define DEFAULT_CONFIG "/etc/cmc/cmcd.conf"
#define CMCD_MMAP_THRESHOLD (128 * 1024)	/* bytes: glibc's default starting value */

struct options {
	const char *config;
	const char *pci_dump;	/* inventory from a libpci dump instead of the live system */
	bool foreground;
	bool debug;
	bool check_only;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cmcd [-f] [-d] [-c FILE] [--pci-dump FILE]\n"
		"       cmcd --check-config FILE\n"
		"\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"  -f, --foreground      stay in the foreground and log to stderr\n"
		"  -d, --debug           log debug messages\n"
		"      --check-config F  validate a configuration and exit (0 valid, 1 not)\n"
		"      --pci-dump FILE   read the PCIe topology from a libpci dump (lspci -xxxx)\n",
		DEFAULT_CONFIG);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "pci-dump", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .config = DEFAULT_CONFIG };
	while ((c = getopt_long(argc, argv, "c:fdh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'f': o->foreground = true; break;
		case 'd': o->debug = true; break;
		case 'C': o->config = optarg; o->check_only = true; break;
		case 'P': o->pci_dump = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cmcd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}


/* mkdir -p of a file's directory, 0755. */
static int make_parent_dir(const char *path)
{
	char *copy = strdup(path), *dir;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	for (char *p = dir + 1; *p && !err; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			err = -errno;
		*p = '/';
	}
	if (!err && mkdir(dir, 0755) < 0 && errno != EEXIST)
		err = -errno;
	free(copy);
	return err;
}

static int open_store(struct cmcd *d)
{
	const char *path = d->config->store_path;
	char detail[512];
	int err = make_parent_dir(path);

	if (err) {
		log_warn(err, "cannot create the directory of the store %s", path);
		return err;
	}
	/* A cmcd killed a moment ago may still be exiting: the kernel lets go of its cards
	 * (VFIO resets each PF, its VFs go) before its files, the store's lock among them.
	 * Waiting for that lock, bounded, makes a restart find the cards free. */
	for (unsigned waited = 0;; waited += STORE_LOCK_POLL_MS) {
		err = cmc_store_open(path, &d->store, detail, sizeof(detail));
		if (err != -EBUSY || waited >= STORE_LOCK_WAIT_MS)
			break;
		if (!waited)
			log_info("the state store is held (%s): waiting up to %d s for it", detail,
				 STORE_LOCK_WAIT_MS / 1000);
		(void)!nanosleep(&(struct timespec){ .tv_nsec = STORE_LOCK_POLL_MS * 1000000L }, NULL);
	}
	if (err == -EBADMSG) {
		log_warnx("the state store is damaged: %s", detail);
		log_warnx("cmcd will not start on a damaged store and has not touched it; "
			  "move it aside to start with an empty state");
	} else if (err) {
		log_warnx("cannot open the state store: %s", detail);
	} else if (cmc_store_open_info(d->store) & CMC_STORE_INFO_LEFTOVER_TMP) {
		log_info("store: removed %s.tmp left by an interrupted commit; the previous state stands",
			 path);
	}
	return err;
}

/*
 * The chassis' identity, which every default MAC derives from (macs.h): the configured
 * one, else the one kept in the store, else a new random one kept there from now on.
 */
static int chassis_identity(struct cmcd *d)
{
	const char *kept = cmc_store_get(d->store, "chassis/id");
	uint32_t id = d->config->chassis_id, stored = 0;
	char val[16];
	int rc;

	if (kept && cmc_chassis_id_parse(kept, &stored) < 0)
		log_warnx("store: chassis/id \"%s\" is not a chassis id: replacing it", kept);
	if (!id)
		id = stored;
	if (!id && (rc = cmc_chassis_id_new(&id)) < 0) {
		log_warn(rc, "cannot draw a chassis id");
		return rc;
	}
	d->chassis_id = id;
	if (id == stored)
		return 0;
	if (stored)
		log_info("chassis id 0x%08x from the configuration replaces 0x%08x: the VFs' default MACs change",
			 id, stored);
	else
		log_info("chassis id 0x%08x%s, kept in the store", id,
			 d->config->chassis_id ? " from the configuration" : " drawn at random");
	snprintf(val, sizeof(val), "0x%08x", id);
	rc = cmc_store_set(d->store, "chassis/id", val);
	if (!rc)
		rc = cmc_store_commit(d->store);
	if (rc)
		log_warnx("cannot keep the chassis id in the store: %s", cmc_store_error(d->store));
	return rc;
}

static int open_inventory(struct cmcd *d, const char *dump)
{
	int err = mp_inventory_open(&d->inv, dump);

	if (err) {
		log_warn(err, "inventory");
		return err;
	}
	err = mp_inventory_scan(d->inv);
	if (err)
		log_warnx("cannot read the PCIe topology: %s", mp_inventory_error(d->inv));
	return err;
}

/*
 * The last bound of a stop. Each step is bounded on its own, but a step waits on the
 * kernel (a VF driver letting go), and a stop must end: past CMC_STOP_HARD_S the process
 * exits, and the kernel releases what it still held (VFIO resets the PF, as after a
 * kill -9, which the next start handles).
 */
#define CMC_STOP_HARD_S 10
#define STR_(x) #x
#define STR(x) STR_(x)

static void stop_overdue(int signo)
{
	static const char msg[] = "cmcd: stop still running after " STR(CMC_STOP_HARD_S) " s: exiting now\n";

	(void)signo;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

static void arm_stop_watchdog(void)
{
	struct sigaction sa = { .sa_handler = stop_overdue };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == 0)
		alarm(CMC_STOP_HARD_S);
}

static void on_signal(struct cmc_loop *loop, int signo, void *arg)
{
	struct cmcd *d = arg;

	if (signo == SIGHUP) {
		(void)!cmcd_rescan(d, "SIGHUP", true);
		return;
	}
	log_info("%s: shutting down", strsignal(signo));
	arm_stop_watchdog();
	cmc_loop_quit(loop);
}

static void event_to_followers(const char *rec, size_t len, void *arg)
{
	struct cmcd *d = arg;

	if (d->api)
		cmc_api_broadcast(d->api, rec, len);
}

/* A card cmcd drives disappeared: a migration over a lane on it fails at once. */
static void card_gone(void *arg, unsigned slot, unsigned pf)
{
	struct cmcd *d = arg;

	cmc_vms_card_gone(d->vms, slot, pf);
	cmcd_rescan_soon(d);	/* the card thread has let go of it already */
}

/* The audit log beside the store (audit.h): without it no change could be attributed, so
 * cmcd does not start. */
static int open_audit(struct cmcd *d)
{
	char *copy = strdup(d->config->store_path);
	const char *dir;
	int rc;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	rc = cmc_audit_open(dir, 0, &d->audit);
	if (rc)
		log_warn(rc, "cannot open the audit log in %s", dir);
	free(copy);
	return rc;
}

static int start_services(struct cmcd *d, bool live)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	const char *sock = d->config->socket_path;
	char err[256];
	int rc;

	rc = cmc_loop_add_signals(d->loop, signals, 3, on_signal, d);
	if (rc) {
		log_warn(rc, "signals");
		return rc;
	}
	rc = make_parent_dir(sock);
	if (rc) {
		log_warn(rc, "cannot create the directory of %s", sock);
		return rc;
	}
	rc = open_audit(d);
	if (rc)
		return rc;
	rc = cmc_api_open(&d->api, d->loop, sock, d->config->socket_group, cmcd_commands,
			  d, err, sizeof(err));
	if (rc) {
		log_warnx("control socket: %s", err);
		return rc;
	}
	cmc_api_set_audit(d->api, cmc_audit_api, d->audit);
	if (live) {
		rc = cmc_watchers_start(d, &d->watchers);
		if (rc) {
			log_warn(rc, "hot-plug and link watchers");
			return rc;
		}
		rc = cmc_cards_start(d, &d->cards);
		if (rc)
			log_warn(rc, "cards");
		if (!rc) {
			rc = cmc_blades_start(d, &d->blades);
			if (rc)
				log_warn(rc, "blades");
		}
		if (!rc) {
			rc = cmc_dhcp_start(d, &d->dhcp);
			if (rc)
				log_warn(rc, "DHCP services");
		}
		if (!rc) {
			rc = cmc_vms_start(d, &d->vms);
			if (rc)
				log_warn(rc, "VMs");
		}
		if (!rc) {
			rc = cmc_health_start(d, &d->health);
			if (rc)
				log_warn(rc, "blade health");
		}
		cmc_cards_set_gone_fn(d->cards, card_gone, d);
		/* Enabling VFs changed the topology: look again rather than rely on uevents
		 * emitted before the loop ran. */
		cmcd_rescan_soon(d);
	}
	return rc;
}

/*
 * A step of the stop, timed from `since`: a step that runs long is logged by name, so a
 * slow stop says where its time went. Returns the time now (ms).
 */
static unsigned long long stop_step(const char *step, unsigned long long since)
{
	unsigned long long now = cmc_now_ms();

	if (now - since >= CMC_STOP_STEP_SLOW_MS)
		log_info("stop: %s took %llu ms", step, now - since);
	else
		log_debug("stop: %s took %llu ms", step, now - since);
	return now;
}

static void shutdown_all(struct cmcd *d)
{
	unsigned long long t0 = cmc_now_ms(), t = t0;

	cmc_redfish_stop(d->redfish);
	t = stop_step("Redfish", t);
	cmc_vms_stop(d, d->vms);
	t = stop_step("VMs (QMP connections)", t);
	cmc_dhcp_stop(d->dhcp);
	d->dhcp = NULL;
	t = stop_step("DHCP services", t);
	cmc_health_stop(d, d->health);
	cmc_blades_stop(d, d->blades);
	t = stop_step("blades", t);
	cmc_cards_stop(d, d->cards);
	t = stop_step("cards", t);
	cmc_watchers_stop(d->watchers);
	t = stop_step("watchers", t);
	cmc_api_close(d->api);
	cmc_audit_close(d->audit);
	cmcd_rescan_stop(d);
	t = stop_step("rescan (a running scan ends first)", t);
	if (d->rescan_timer)
		cmc_loop_del_timer(d->loop, d->rescan_timer);
	cmc_events_free(d->events);
	cmc_store_close(d->store);
	mp_inventory_close(d->inv);
	(void)stop_step("the rest", t);
	if (d->loop)
		log_info("stopped in %llu ms", cmc_now_ms() - t0);
	cmc_config_free(d->config);
	cmc_loop_free(d->loop);
}

/*
 * Detach before any thread exists (the card thread would not survive a later fork),
 * but keep the terminal until the daemon is ready: the parent waits for the child's
 * word and exits 0 only when it started, so `cmcd && cmcctl ...` works and start-up
 * errors still reach the admin's terminal.
 */
static int detach_early(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char ok;

	if (pipe(p) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &ok, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void detach_done(int ready_fd)
{
	int null = open("/dev/null", O_RDWR);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	(void)!write(ready_fd, "", 1);
	close(ready_fd);
}

static int check_config(const char *path)
{
	struct cmc_config *cfg;
	char err[512];

	if (cmc_config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* The file is right, but cmcd would not start: its socket's group is not there yet. */
	if (cfg->socket_group[0] && !getgrnam(cfg->socket_group))
		fprintf(stderr, "%s: warning: daemon.group: group '%s' does not exist; cmcd will not start until it"
			" does (groupadd --system %s)\n", path, cfg->socket_group, cfg->socket_group);
	printf("%s: valid (chassis %s, %u blades, %u slots)\n", path, cfg->chassis_name,
	       cfg->blade_count, cfg->slot_count);
	cmc_config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	struct cmcd d = { 0 };
	struct options o;
	char err[512];
	int rc = 1, ready_fd = -1;
	bool detach;

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	/*
	 * A fixed mmap threshold: glibc raises it (and the trim threshold with it, to twice
	 * the size) each time a mapped block is freed, and after the first scan freed its
	 * 5 MB work list every later one stayed in the heap for good. Fixed, every block of
	 * 128 KiB or more (the inventory's arrays, the scan's work lists) is a mapping of its
	 * own, given back to the kernel when freed. (mallopt(3): setting it disables the
	 * dynamic adjustment.)
	 */
	(void)mallopt(M_MMAP_THRESHOLD, CMCD_MMAP_THRESHOLD);
	if (o.check_only)
		return check_config(o.config);
	log_init("cmcd", false, o.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	d.started_ms = cmc_now_ms();
	if (cmc_config_load(o.config, &d.config, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		log_warnx("not starting: fix the configuration (cmcd --check-config %s)", o.config);
		return 1;
	}
	detach = !o.foreground && !cmc_notify_wanted();
	if (detach && detach_early(&ready_fd) < 0) {
		log_warn(errno, "fork");
		goto out;
	}
	if (cmc_loop_new(&d.loop) < 0 || cmc_events_new(&d.events, 512) < 0) {
		log_warnx("out of memory");
		goto out;
	}
	cmc_events_set_sink(d.events, event_to_followers, &d);
	if (open_store(&d) || chassis_identity(&d) || open_inventory(&d, o.pci_dump) ||
	    start_services(&d, !o.pci_dump))
		goto out;
	if (cmcd_reconcile(&d) < 0)
		goto out;
	if (cmc_redfish_start(&d, &d.redfish) < 0)
		goto out;
	log_info("ready: chassis %s, %zu slots, socket %s", d.config->chassis_name,
		 mp_slot_count(d.inv), d.config->socket_path);
	(void)!cmc_notify("READY=1");
	if (detach) {
		detach_done(ready_fd);
		log_init("cmcd", true, o.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	}
	rc = cmc_loop_run(d.loop) < 0 ? 1 : 0;
	(void)!cmc_notify("STOPPING=1");
out:
	shutdown_all(&d);
	return rc;
}
