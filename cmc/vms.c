/* SPDX-License-Identifier: MIT */
/*
 * VMs on the blades and their live migration (US 9,218,303 steps 805-835):
 *
 *   vm start NAME blade B    QEMU on blade B (started through the blade backend, so in
 *                            the emulator inside the blade's namespace), QMP on a unix
 *                            socket in /run/cmc/vm; with a MAC, the VM's network profile
 *                            (MAC, VLAN, rate, trust) goes on a VF of B (blades.c).
 *   migrate NAME to Z        checks both blades and the lane between them, stages the
 *                            profile on a VF of Z (everything but the MAC), starts Z's
 *                            QEMU waiting for the state (-incoming defer, -S), sends the
 *                            state over the lane's addresses (return-path on at both
 *                            ends), follows it, and once the source has stopped and Z
 *                            says it has loaded the state: the profile's MAC leaves the
 *                            source's VF, goes live on Z's, Z resumes, the source quits.
 *                            Z could not load it (a device its hypervisor lacks): the
 *                            source resumes, with QEMU's reason.
 *
 * Nothing here waits: each QEMU's QMP socket is driven from cmcd's event loop (struct
 * qconn: connect, one command at a time, events), completion comes from QEMU's MIGRATION
 * events, and vm start / vm stop answer once done through a deferred reply (api.h).
 *
 * The store holds each VM (vm/NAME) and its last migration (migration/NAME, its failure's
 * reason last), written at every step, so a cmcd killed in the middle picks the migration up where QEMU is: the
 * QEMUs are not cmcd's children and run on. A migration that fails before the
 * switch-over leaves the VM running on the source and a retry works; after it, the VM
 * runs on the destination.
 */
#include "vms.h"

#include "blade.h"
#include "blades.h"
#include "daemon.h"
#include "log.h"
#include "qmp.h"
#include "vbridge.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VM_MAX 32
#define VM_NAME_MAX 16
#define VM_DIR "/run/cmc/vm"
#define VM_PATH_LEN 160		/* VM_DIR/NAME@BLADE.ext */
#define VM_QEMU_DEFAULT "/usr/bin/qemu-system-x86_64"
#define VM_KERNEL_DEFAULT "/cmc/vm/payload.elf"
#define VM_MEM_DEFAULT 64
#define QMP_TIMEOUT_MS 3000		/* a command, or a connection to a QEMU that is up */
#define TICK_MS 50			/* while something is under way: retries, timeouts, exits */
#define PROGRESS_MS 500			/* query-migrate for the figures; completion is an event */
#define START_TIMEOUT_MS 30000		/* a QEMU under nested TCG starts in a few seconds */
#define STALL_TIMEOUT_MS 20000		/* no byte moved for this long: the lane is down */
#define MIGRATION_PORT 4444
#define MIG_BANDWIDTH_DEFAULT (128 << 20)	/* bytes/s: QEMU's own default max-bandwidth */
#define MIG_DOWNTIME_MS 300			/* QEMU's own default downtime-limit */
#define CONFIRM_TIMEOUT_MS 10000	/* the source is done: the destination must say it has the state */
#define QUIT_TIMEOUT_MS 1000		/* a QEMU asked to go and still there: SIGKILL */
#define QOPS_MAX 8
#define REAP_MAX (2 * VM_MAX)

enum vm_state { VM_RUNNING, VM_MIGRATING, VM_LOST, VM_STARTING, VM_STOPPING };
static const char *const vm_state_names[] = { "running", "migrating", "lost", "starting", "stopping" };

enum mig_state { MIG_NONE, MIG_STARTING, MIG_ACTIVE, MIG_SWITCHING, MIG_COMPLETED, MIG_FAILED };
static const char *const mig_state_names[] = { "none", "starting", "active", "switching", "completed",
					       "failed" };

struct cmc_vms;
struct vm;

/* --- QMP connections driven from the loop ------------------------------------------- */

/*
 * One QMP connection to a QEMU of a VM, on cmcd's event loop: nothing here waits. It
 * connects (again every TICK_MS while the socket is not there yet, up to its own wait),
 * then runs its commands one at a time in order, each bounded by QMP_TIMEOUT_MS, and
 * hands every event to the migration (vm_event). Callbacks get rc (0, or -errno with err
 * saying why) and the reply (borrowed).
 */
typedef void (*qc_fn)(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err);

struct qop {
	const char *cmd;
	json_t *args;		/* owned */
	qc_fn fn;		/* NULL: nobody waits for the answer */
};

struct qconn {
	struct vm *vm;
	char blade[CMC_CONFIG_NAME_MAX + 1];
	struct qmp *q;			/* NULL: closed */
	struct cmc_watch *w;
	uint32_t watching;
	unsigned gen;			/* +1 at each close: callbacks check it */
	bool up;			/* handshake done */
	bool close_when_idle;
	unsigned long long since, wait_ms;	/* connecting since, for at most */
	unsigned long long sent_ms;	/* the command in flight since */
	uint64_t id;			/* the command in flight, 0: none */
	qc_fn on_up;			/* called once, when up or given up */
	struct qop ops[QOPS_MAX];
	unsigned nops;			/* ops[0] is in flight while id != 0 */
};

struct vm {
	bool used;
	char name[VM_NAME_MAX + 1];
	char blade[CMC_CONFIG_NAME_MAX + 1];
	unsigned mem_mb;
	bool has_profile;
	struct cmc_profile prof;
	unsigned loc[3];		/* the VF carrying the profile */
	enum vm_state state;
	char note[160];
	struct cmc_api_pending *req;	/* a vm start / stop answered when done */
	/* Its migration (the current or the last one). */
	enum mig_state mig;
	char to[CMC_CONFIG_NAME_MAX + 1], from[CMC_CONFIG_NAME_MAX + 1];
	char lane[16], dest_addr[16];
	bool staged;
	unsigned dloc[3];
	unsigned old_loc[3];		/* the source's VF, its netdev to take out after */
	bool old_loc_set;
	unsigned port;
	unsigned bandwidth;		/* Mbit/s the migration may use; 0 = QEMU's default (128 MiB/s) */
	unsigned long long mig_started, last_progress, last_query;
	uint64_t total, transferred, remaining, mbps, total_time, downtime, last_transferred;
	uint64_t switch_us;		/* source "completed" to the destination's cont answered */
	uint64_t sw_seen_us, sw_moved_us;	/* of which: until cmcd acted, the MAC moved (wall clock) */
	char reason[256];
	bool src_ok, dst_listening;	/* before the state moves: source runs, destination waits */
	bool dst_done;			/* the destination said it has the state (its MIGRATION event) */
	unsigned long long src_done;	/* when the source said completed (ms, monotonic; 0: not yet) */
	uint64_t src_done_us;		/* the same, QEMU's timestamp (µs, wall clock) */
	bool failing;			/* fail() is putting things back; then it is final */
	bool fail_setup;		/* inside fail(): not final before it has asked everything */
	bool resumed;			/* the switch-over's cont has been answered */
	pid_t failing_dst;		/* the destination being killed by fail() */
	unsigned long long src_lost;	/* the source's QMP broke at (ms) */
	struct qconn src, dst;		/* src: the VM's QEMU (its only one outside a migration) */
};

struct reap {
	pid_t pid;
	unsigned long long kill_at;
	struct vm *vm;			/* told when gone (vm stop), or NULL */
};

struct cmc_vms {
	struct cmcd *d;
	struct mp_blade_backend *be;
	struct cmc_timer *tick;
	const char *qemu, *kernel;
	struct vm vms[VM_MAX];
	struct reap reaps[REAP_MAX];
};

static struct cmc_vms *the_vms;	/* for the fd callbacks, which get the connection */

static bool vm_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

static bool blade_known(const struct cmcd *d, const char *blade)
{
	return cmc_config_blade_by_name(d->config, blade) != NULL;
}

static struct vm *find_vm(struct cmc_vms *v, const char *name)
{
	for (unsigned i = 0; v && i < VM_MAX; i++)
		if (v->vms[i].used && strcmp(v->vms[i].name, name) == 0)
			return &v->vms[i];
	return NULL;
}

static bool migrating(const struct vm *vm)
{
	return vm->mig == MIG_STARTING || vm->mig == MIG_ACTIVE || vm->mig == MIG_SWITCHING;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- A QEMU on a blade ------------------------------------------------------------- */

static void vm_path(const struct vm *vm, const char *blade, const char *ext, char *buf, size_t len)
{
	snprintf(buf, len, VM_DIR "/%s@%s.%s", vm->name, blade, ext);
}

static pid_t vm_pid(const struct vm *vm, const char *blade)
{
	char path[160];
	FILE *f;
	long pid = 0;

	vm_path(vm, blade, "pid", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 1 && kill((pid_t)pid, 0) == 0 ? (pid_t)pid : 0;
}

/* The QEMU's files on blade (VM_PATH_LEN each), none left from an earlier one. */
static void fresh_files(const struct vm *vm, const char *blade, bool incoming, char *qmp, char *pid, char *log)
{
	char old[VM_PATH_LEN + 8];

	(void)mkdir("/run/cmc", 0750);
	(void)mkdir(VM_DIR, 0750);
	vm_path(vm, blade, "qmp", qmp, VM_PATH_LEN);
	vm_path(vm, blade, "pid", pid, VM_PATH_LEN);
	vm_path(vm, blade, "log", log, VM_PATH_LEN);
	(void)unlink(qmp);
	(void)unlink(pid);
	if (incoming) {
		/* A destination's log starts afresh, so that what it says is about this attempt
		 * (dest_reason); the last attempt's stays beside it. */
		snprintf(old, sizeof(old), "%s.1", log);
		(void)rename(log, old);
	}
}

/* Starts the QEMU (fork and exec through the blade backend: it does not wait for QEMU to
 * come up; the QMP connection says when it has). */
static int spawn_qemu(struct cmc_vms *v, const struct vm *vm, const char *blade, bool incoming,
		      char *err, size_t errlen)
{
	const struct cmc_config_blade *cb = cmc_config_blade_by_name(v->d->config, blade);
	const struct cmc_config_hypervisor *hv = cb ? &cb->hv : NULL;
	char mem[16], qmp[VM_PATH_LEN], pid[VM_PATH_LEN], log[VM_PATH_LEN], qmparg[200];
	const char *argv[32 + CMC_CONFIG_HV_ARGS_MAX];
	int n = 0;

	if (!v->be) {
		snprintf(err, errlen, "blades are not available: no VM can start");
		return -ENOTSUP;
	}
	snprintf(mem, sizeof(mem), "%u", vm->mem_mb);
	fresh_files(vm, blade, incoming, qmp, pid, log);
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp);
	/* The blade's hypervisor (configuration), else cmcd's default. */
	argv[n++] = hv && hv->binary[0] ? hv->binary : v->qemu;
	argv[n++] = "-name";
	argv[n++] = vm->name;
	argv[n++] = "-accel";
	argv[n++] = "tcg,tb-size=64";	/* a small translation cache: blades share the chassis' RAM */
	argv[n++] = "-machine";
	argv[n++] = "pc";
	argv[n++] = "-m";
	argv[n++] = mem;
	argv[n++] = "-nodefaults";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-kernel";
	argv[n++] = v->kernel;
	argv[n++] = "-qmp";
	argv[n++] = qmparg;
	argv[n++] = "-pidfile";
	argv[n++] = pid;
	if (incoming) {
		/* Wait for the state (migrate-incoming names where) and stay paused after it
		 * arrived: cmcd resumes it once the profile has moved. */
		argv[n++] = "-incoming";
		argv[n++] = "defer";
		argv[n++] = "-S";
	}
	/* What the blade's hypervisor adds (devices, ...): after cmcd's own, so a -machine
	 * there refines cmcd's (QEMU merges them). */
	for (unsigned i = 0; hv && i < hv->argc; i++)
		argv[n++] = hv->args[i];
	argv[n] = NULL;
	return mp_blade_spawn(v->be, blade, argv, log, err, errlen);
}

/*
 * A QEMU that must go: signal sig now (SIGTERM: QEMU shuts down cleanly; SIGKILL: a
 * destination that never ran has nothing to save), SIGKILL after QUIT_TIMEOUT_MS if it is
 * still there. vm (or NULL) is told when it has gone (reaped()). Never waits.
 */
static void reaped(struct cmc_vms *v, struct vm *vm);

static void reap(struct cmc_vms *v, pid_t pid, int sig, struct vm *vm)
{
	if (pid <= 1) {
		if (vm)
			reaped(v, vm);
		return;
	}
	if (sig)
		(void)kill(pid, sig);
	for (unsigned i = 0; i < REAP_MAX; i++)
		if (!v->reaps[i].pid) {
			v->reaps[i] = (struct reap){ .pid = pid, .kill_at = cmc_now_ms() + QUIT_TIMEOUT_MS, .vm = vm };
			return;
		}
	(void)kill(pid, SIGKILL);	/* no room to watch it: it goes at once */
	if (vm)
		reaped(v, vm);
}

static bool reaping(const struct cmc_vms *v, const struct vm *vm)
{
	for (unsigned i = 0; i < REAP_MAX; i++)
		if (v->reaps[i].pid && v->reaps[i].vm == vm)
			return true;
	return false;
}

static void reap_due(struct cmc_vms *v)
{
	for (unsigned i = 0; i < REAP_MAX; i++) {
		struct reap *r = &v->reaps[i];
		struct vm *vm = r->vm;

		if (!r->pid)
			continue;
		if (kill(r->pid, 0) < 0 && errno == ESRCH) {
			*r = (struct reap){ 0 };
			if (vm)
				reaped(v, vm);
		} else if (cmc_now_ms() >= r->kill_at) {
			(void)kill(r->pid, SIGKILL);
			r->kill_at = cmc_now_ms() + QUIT_TIMEOUT_MS;
		}
	}
}

/* --- QMP connections ------------------------------------------------------------------ */

static void qc_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg);
static void arm(struct cmc_vms *v);
static void vm_event(struct cmc_vms *v, struct vm *vm, struct qconn *c, json_t *ev);
static void conn_lost(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *err);

/* Closes it; the commands not answered yet are dropped, unanswered. */
static void qc_close(struct cmc_vms *v, struct qconn *c)
{
	if (c->w)
		cmc_loop_del_fd(v->d->loop, c->w);
	qmp_close(c->q);
	for (unsigned i = 0; i < c->nops; i++)
		json_decref(c->ops[i].args);
	c->w = NULL;
	c->q = NULL;
	c->up = false;
	c->close_when_idle = false;
	c->id = 0;
	c->nops = 0;
	c->on_up = NULL;
	c->gen++;
}

/* The epoll events it needs: input, and output while a command is still queued. */
static void qc_watch(struct cmc_vms *v, struct qconn *c)
{
	uint32_t want = EPOLLIN | (c->q && qmp_want_write(c->q) ? EPOLLOUT : 0);
	int fd = c->q ? qmp_fd(c->q) : -1;

	if (fd < 0 || (c->w && want == c->watching))
		return;
	if (!c->w) {
		if (cmc_loop_add_fd(v->d->loop, fd, want, qc_ready, c, &c->w) < 0)
			c->w = NULL;
	} else if (cmc_loop_mod_fd(v->d->loop, c->w, want) < 0) {
		log_warnx("VM %s: QMP on %s: cannot watch its socket", c->vm->name, c->blade);
	}
	c->watching = want;
}

/* The next command, if none is in flight. */
static void qc_next(struct cmc_vms *v, struct qconn *c)
{
	char err[256];
	unsigned gen = c->gen;

	while (c->up && !c->id && c->nops) {
		struct qop op = c->ops[0];
		int rc = qmp_send(c->q, op.cmd, op.args, &c->id, err, sizeof(err));

		if (!rc) {
			c->sent_ms = cmc_now_ms();
			break;
		}
		c->id = 0;
		memmove(&c->ops[0], &c->ops[1], --c->nops * sizeof(c->ops[0]));
		json_decref(op.args);
		if (op.fn)
			op.fn(v, c->vm, rc, NULL, err);
		if (c->gen != gen)
			return;
		if (!c->q || qmp_fd(c->q) < 0) {
			conn_lost(v, c->vm, c, err);
			return;
		}
	}
	qc_watch(v, c);
}

/* Queues a command (args: owned, may be NULL). A full queue or no connection: fn at once
 * with -EBUSY / -ENOTCONN. */
static void qc_call(struct cmc_vms *v, struct qconn *c, const char *cmd, json_t *args, qc_fn fn)
{
	if (!c->q || c->nops == QOPS_MAX) {
		json_decref(args);
		if (fn)
			fn(v, c->vm, c->q ? -EBUSY : -ENOTCONN, NULL, c->q ? "too many QMP commands queued" : "no QMP connection");
		return;
	}
	c->ops[c->nops++] = (struct qop){ .cmd = cmd, .args = args, .fn = fn };
	qc_next(v, c);
}

/* The answer to the command in flight, if it is in. */
static void qc_answer(struct cmc_vms *v, struct qconn *c)
{
	char err[256] = "";
	json_t *reply = NULL;
	struct qop op;
	int rc;

	if (!c->id)
		return;
	rc = qmp_receive(c->q, c->id, &reply, err, sizeof(err));
	if (rc == -EAGAIN)
		return;
	op = c->ops[0];
	c->id = 0;
	memmove(&c->ops[0], &c->ops[1], --c->nops * sizeof(c->ops[0]));
	if (op.fn)
		op.fn(v, c->vm, rc, reply, err);
	json_decref(reply);
	json_decref(op.args);
}

/* Tries to connect (QEMU may not be listening yet); 0 once the connection is open. */
static int qc_try(struct cmc_vms *v, struct qconn *c, char *err, size_t errlen)
{
	int rc = qmp_start(c->q, err, errlen);

	if (!rc)
		qc_watch(v, c);
	return rc;
}

/* Opens a connection to vm's QEMU on blade, trying for up to wait_ms; on_up is called once
 * it is up (rc 0), or with why not. Commands may be queued at once. */
static void qc_open(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *blade,
		    unsigned wait_ms, qc_fn on_up)
{
	char path[VM_PATH_LEN], err[256];
	int rc;

	qc_close(v, c);
	c->vm = vm;
	snprintf(c->blade, sizeof(c->blade), "%s", blade);
	vm_path(vm, blade, "qmp", path, sizeof(path));
	c->since = cmc_now_ms();
	c->wait_ms = wait_ms ? wait_ms : QMP_TIMEOUT_MS;
	c->on_up = on_up;
	rc = qmp_open(path, &c->q);
	if (rc) {
		c->q = NULL;
		if (on_up)
			on_up(v, vm, rc, NULL, "out of memory");
		return;
	}
	(void)qc_try(v, c, err, sizeof(err));
}

/* Everything that waits on a connection: connecting again, a command's timeout. */
static void qc_due(struct cmc_vms *v, struct qconn *c)
{
	char err[256];
	unsigned long long now = cmc_now_ms();
	qc_fn on_up = c->on_up;

	if (!c->q)
		return;
	if (qmp_fd(c->q) < 0 && !c->up) {
		int rc = qc_try(v, c, err, sizeof(err));

		if (rc && now - c->since >= c->wait_ms) {
			char why[300];

			snprintf(why, sizeof(why), "%s (for %llu s)", err, c->wait_ms / 1000);
			qc_close(v, c);
			if (on_up)
				on_up(v, c->vm, rc, NULL, why);
		}
		return;
	}
	if (!c->up && now - c->since >= c->wait_ms) {
		qc_close(v, c);
		if (on_up)
			on_up(v, c->vm, -ETIMEDOUT, NULL, "QEMU did not greet in time");
		return;
	}
	if (c->id && now - c->sent_ms >= QMP_TIMEOUT_MS) {
		struct qop op = c->ops[0];

		/* Its answer, should it come, carries an id nobody waits for: discarded. */
		c->id = 0;
		memmove(&c->ops[0], &c->ops[1], --c->nops * sizeof(c->ops[0]));
		snprintf(err, sizeof(err), "QMP %s: %s: no answer in %d s", c->blade, op.cmd, QMP_TIMEOUT_MS / 1000);
		if (op.fn)
			op.fn(v, c->vm, -ETIMEDOUT, NULL, err);
		json_decref(op.args);
		qc_next(v, c);
		return;
	}
	if (c->close_when_idle && !c->nops)
		qc_close(v, c);
}

static void qc_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg)
{
	struct qconn *c = arg;
	struct cmc_vms *v = the_vms;
	unsigned gen = c->gen;
	char err[256] = "";
	json_t *ev;
	int rc;
	(void)loop;
	(void)fd;
	(void)events;

	rc = qmp_poll(c->q, err, sizeof(err));
	if (!c->up && qmp_ready(c->q)) {
		qc_fn on_up = c->on_up;

		c->up = true;
		c->on_up = NULL;
		if (on_up)
			on_up(v, c->vm, 0, NULL, "");
		if (c->gen != gen)
			goto out;
	}
	qc_answer(v, c);	/* a reply that came before a broken stream still counts */
	while (c->gen == gen && c->q && qmp_event_next(c->q, &ev) == 0) {
		vm_event(v, c->vm, c, ev);
		json_decref(ev);
	}
	if (c->gen != gen)
		goto out;
	if (rc) {
		conn_lost(v, c->vm, c, err);
		goto out;
	}
	qc_next(v, c);
out:
	if (v)
		arm(v);
}
/* --- The store ---------------------------------------------------------------------- */

static void loc_str(const unsigned loc[3], char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", loc[0], loc[1], loc[2]);
}

/* Free text for the store (printable ASCII, see cmc_store_value_valid): "-" for none. It
 * goes last in a value, where it may hold spaces: reason= runs to the end. */
static const char *store_text(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
	buf[i] = '\0';
	return i ? buf : "-";
}

/* The VM's records into the store, not committed yet. */
static int stage(struct cmc_vms *v, struct vm *vm)
{
	struct cmcd *d = v->d;
	char key[64], val[1024], mac[18], loc[24], dloc[24], reason[sizeof(vm->reason)];
	/* A VM starting or stopping is not in the store yet / any more: say running. */
	enum vm_state st = vm->state == VM_STARTING || vm->state == VM_STOPPING ? VM_RUNNING : vm->state;
	int rc;

	snprintf(key, sizeof(key), "vm/%s", vm->name);
	loc_str(vm->loc, loc, sizeof(loc));
	snprintf(val, sizeof(val), "blade=%s mem=%u profile=%d mac=%s vlan=%u rate=%u trusted=%d loc=%s state=%s",
		 vm->blade, vm->mem_mb, vm->has_profile, vb_mac_str(vm->prof.mac, mac), vm->prof.vlan,
		 vm->prof.rate, vm->prof.trusted, loc, vm_state_names[st]);
	rc = cmc_store_set(d->store, key, val);
	if (!rc && vm->mig != MIG_NONE) {
		snprintf(key, sizeof(key), "migration/%s", vm->name);
		loc_str(vm->dloc, dloc, sizeof(dloc));
		snprintf(val, sizeof(val),
			 "from=%s to=%s lane=%s addr=%s port=%u state=%s staged=%d dloc=%s transferred=%llu "
			 "total=%llu time=%llu downtime=%llu switch_us=%llu mbps=%llu reason=%s", vm->from, vm->to,
			 vm->lane, vm->dest_addr, vm->port, mig_state_names[vm->mig], vm->staged, dloc,
			 (unsigned long long)vm->transferred, (unsigned long long)vm->total,
			 (unsigned long long)vm->total_time, (unsigned long long)vm->downtime,
			 (unsigned long long)vm->switch_us, (unsigned long long)vm->mbps,
			 store_text(vm->reason, reason, sizeof(reason)));
		rc = cmc_store_set(d->store, key, val);
	}
	return rc;
}

static int save(struct cmc_vms *v, struct vm *vm)
{
	struct cmcd *d = v->d;
	int rc = stage(v, vm);

	if (!rc)
		rc = cmc_store_commit(d->store);
	if (rc) {
		cmc_store_rollback(d->store);
		log_warnx("store: VM %s: %s", vm->name, cmc_store_error(d->store));
	}
	return rc;
}

static int forget(struct cmc_vms *v, struct vm *vm)
{
	char key[64];
	int rc;

	snprintf(key, sizeof(key), "vm/%s", vm->name);
	rc = cmc_store_del(v->d->store, key);
	snprintf(key, sizeof(key), "migration/%s", vm->name);
	(void)!cmc_store_del(v->d->store, key);
	if (!rc)
		rc = cmc_store_commit(v->d->store);
	if (rc)
		cmc_store_rollback(v->d->store);
	return rc;
}

/* --- Migration --------------------------------------------------------------------- */

static bool wants_tick(const struct cmc_vms *v)
{
	for (unsigned i = 0; i < REAP_MAX; i++)
		if (v->reaps[i].pid)
			return true;
	for (unsigned i = 0; i < VM_MAX; i++) {
		const struct vm *vm = &v->vms[i];

		if (vm->used && (migrating(vm) || vm->failing || vm->src.q || vm->dst.q))
			return true;
	}
	return false;
}

/* The tick runs while anything is under way; an idle cmcd sleeps. */
static void arm(struct cmc_vms *v)
{
	(void)!cmc_timer_arm(v->tick, wants_tick(v) ? TICK_MS : 0, 0);
}

static void fail(struct cmc_vms *v, struct vm *vm, bool source_dead, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Once fail() has put everything back (the destination gone, the source resumed or lost),
 * the failure is final: in the store, an event. */
static void fail_done(struct cmc_vms *v, struct vm *vm)
{
	bool lost;

	/* A source killed under the migration may be noticed first as the destination's
	 * failure: by now (the destination reaped) it is gone for good, or it runs. */
	if (vm->state != VM_LOST && !vm_pid(vm, vm->from)) {
		vm->state = VM_LOST;
		snprintf(vm->note, sizeof(vm->note), "its QEMU died on the source");
	}
	lost = vm->state == VM_LOST;

	vm->failing = false;
	vm->mig = MIG_FAILED;
	qc_close(v, &vm->src);
	(void)save(v, vm);
	cmc_events_post(v->d->events, "migration-failed", -1, "%s %s -> %s: %s; %s", vm->name, vm->from,
			vm->to, vm->reason, lost ? "the VM is lost" : "the VM runs on the source");
}

static void fail_check(struct cmc_vms *v, struct vm *vm)
{
	if (vm->failing && !vm->fail_setup && !reaping(v, vm) && !vm->src.nops)
		fail_done(v, vm);
}

static void failed_cont(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (rc)
		log_warnx("VM %s: resuming it on %s: %s", vm->name, vm->from, err);
	fail_check(v, vm);
}

/* The source after a failure: resumed if QEMU had paused it. */
static void failed_status(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char status[32] = "";

	if (!rc && !qmp_get_str(reply, "status", status, sizeof(status)) && strcmp(status, "running") != 0)
		qc_call(v, &vm->src, "cont", NULL, failed_cont);
	else if (rc)
		log_warnx("VM %s: its state on %s after the failure: %s", vm->name, vm->from, err);
	fail_check(v, vm);
}

static void failed_src_up(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (rc) {
		log_warnx("VM %s: the source does not answer after the failure: %s", vm->name, err);
		fail_check(v, vm);
	}
}

/*
 * Before the switch-over, a failure leaves the VM where it was: the destination goes
 * (killed: it never ran), the staged profile goes, the source carries on (migrate_cancel,
 * and cont if QEMU had paused it). Nothing waits: the failure is final (fail_done) once
 * the destination has gone and the source has answered.
 */
static void fail(struct cmc_vms *v, struct vm *vm, bool source_dead, const char *fmt, ...)
{
	char err[256];
	va_list ap;

	if (vm->failing)
		return;
	va_start(ap, fmt);
	vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
	va_end(ap);
	source_dead = source_dead || !vm_pid(vm, vm->from);
	vm->failing = true;
	vm->fail_setup = true;
	qc_close(v, &vm->dst);
	if (vm->staged && cmc_blades_profile_remove(v->d->blades, vm->dloc, err, sizeof(err)) < 0)
		log_warnx("VM %s: staged profile on %s: %s", vm->name, vm->to, err);
	vm->staged = false;
	vm->state = source_dead ? VM_LOST : VM_RUNNING;
	snprintf(vm->note, sizeof(vm->note), "%s", source_dead ? "its QEMU died on the source" : "");
	if (source_dead) {
		qc_close(v, &vm->src);
	} else {
		if (!vm->src.q || (vm->src.up && qmp_fd(vm->src.q) < 0))
			qc_open(v, vm, &vm->src, vm->from, QMP_TIMEOUT_MS, failed_src_up);
		qc_call(v, &vm->src, "migrate_cancel", NULL, NULL);
		qc_call(v, &vm->src, "query-status", NULL, failed_status);
	}
	reap(v, vm_pid(vm, vm->to), SIGKILL, vm);
	vm->fail_setup = false;
	fail_check(v, vm);
}

/* A process reap() watched has gone. */
static void stop_done(struct cmc_vms *v, struct vm *vm);
static void started(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err);
static void migration_done(struct cmc_vms *v, struct vm *vm);

static void reaped(struct cmc_vms *v, struct vm *vm)
{
	if (vm->state == VM_STOPPING)
		stop_done(v, vm);
	else if (vm->mig == MIG_SWITCHING && vm->resumed)
		migration_done(v, vm);
	else
		fail_check(v, vm);
}

/* --- The switch-over (steps 825-835) ----------------------------------------------- */

static void finish_migration(struct cmc_vms *v, struct vm *vm);

/* The source's last figures (its downtime), then it quits: cleanup, after the VM runs. */
static void source_final(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	uint64_t x;

	(void)err;
	if (!rc) {
		if (!qmp_get_u64(reply, "ram.transferred", &x))
			vm->transferred = x;
		if (!qmp_get_u64(reply, "ram.total", &x))
			vm->total = x;
		if (!qmp_get_u64(reply, "ram.mbps", &x))
			vm->mbps = x;
		if (!qmp_get_u64(reply, "total-time", &x))
			vm->total_time = x;
		if (!qmp_get_u64(reply, "downtime", &x))
			vm->downtime = x;
	}
	finish_migration(v, vm);
}

/* The source VF's netdev out of the source's blade (cleanup: the MAC left it already). */
static void source_vf_home(struct cmc_vms *v, struct vm *vm)
{
	struct mp_addr addr = { .slot = vm->old_loc[0], .pf = vm->old_loc[1], .vf = (int)vm->old_loc[2] };
	struct mp_bdf bdf;
	char bdfs[MP_BDF_STRLEN], ifname[16], err[256];

	if (!vm->old_loc_set || !v->be)
		return;
	vm->old_loc_set = false;
	snprintf(ifname, sizeof(ifname), "s%uv%u", addr.slot, (unsigned)addr.vf);
	if (mp_resolve(v->d->inv, &addr, &bdf, NULL, NULL) == 0 &&
	    mp_blade_unmap(v->be, mp_bdf_str(&bdf, bdfs), vm->from, ifname, err, sizeof(err)) < 0)
		log_warnx("VM %s: slot %u pf %u vf %u out of %s: %s", vm->name, addr.slot, addr.pf, addr.vf,
			  vm->from, err);
}

/* The source quits (SIGTERM: QEMU shuts down cleanly); once it has gone, migration_done. */
static void finish_migration(struct cmc_vms *v, struct vm *vm)
{
	qc_close(v, &vm->src);
	qc_close(v, &vm->dst);
	source_vf_home(v, vm);
	reap(v, vm_pid(vm, vm->from), SIGTERM, vm);
}

/* Completed: the VM runs on the destination and nothing of it is left on the source. */
static void migration_done(struct cmc_vms *v, struct vm *vm)
{
	uint64_t done = vm->src_done_us, seen = vm->sw_seen_us, moved = vm->sw_moved_us;

	vm->mig = MIG_COMPLETED;
	(void)save(v, vm);

	cmc_events_post(v->d->events, "migrated", -1,
			"%s %s -> %s over lane %s: %llu bytes in %llu ms, downtime %llu ms (QEMU's %llu ms + "
			"%.1f ms from completed to cont answered: %.1f to act, %.1f moving the MAC, %.1f for cont)",
			vm->name, vm->from, vm->to, vm->lane, (unsigned long long)vm->transferred,
			(unsigned long long)vm->total_time, (unsigned long long)(vm->downtime + (vm->switch_us + 500) / 1000),
			(unsigned long long)vm->downtime, vm->switch_us / 1000.0,
			done && seen > done ? (seen - done) / 1000.0 : 0.0, moved > seen ? (moved - seen) / 1000.0 : 0.0,
			done && vm->switch_us && done + vm->switch_us > moved ? (done + vm->switch_us - moved) / 1000.0 : 0.0);
}

/*
 * The destination has the state but did not resume, and the source is still there
 * (stopped, resumable): the switch-over is undone. The destination goes first (never two
 * copies running), the profile goes back to a VF of the source's blade, and fail()
 * resumes the source.
 */
static void undo_switch(struct cmc_vms *v, struct vm *vm, const char *why)
{
	char err[256];

	qc_close(v, &vm->dst);
	if (vm->has_profile) {
		if (cmc_blades_profile_remove(v->d->blades, vm->loc, err, sizeof(err)) < 0)
			log_warnx("VM %s: profile off %s: %s", vm->name, vm->to, err);
		if (cmc_blades_profile_add(v->d->blades, vm->name, vm->from, &vm->prof, true, vm->loc, err,
					   sizeof(err)) < 0)
			cmc_events_post(v->d->events, "migration", -1, "%s: profile back on %s: %s", vm->name,
					vm->from, err);
	}
	vm->old_loc_set = false;
	memcpy(vm->blade, vm->from, sizeof(vm->blade));
	fail(v, vm, false, "the destination did not resume: %s", why);
}

static void dest_resumed(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	uint64_t now = wall_us();

	(void)reply;
	if (vm->mig != MIG_SWITCHING || vm->resumed)
		return;
	vm->resumed = true;
	vm->switch_us = vm->src_done_us && now > vm->src_done_us ? now - vm->src_done_us : 0;
	if (rc < 0 && vm_pid(vm, vm->from)) {
		undo_switch(v, vm, err);
		return;
	}
	if (rc < 0) {
		/* Its state is across but it cannot be resumed, and the source is gone. */
		vm->state = VM_LOST;
		snprintf(vm->note, sizeof(vm->note), "destination did not resume at the switch-over: %.100s", err);
	} else {
		vm->state = VM_RUNNING;
		vm->note[0] = '\0';
	}
	memcpy(vm->blade, vm->to, sizeof(vm->blade));
	/* Everything from here is cleanup: the VM runs (or is lost) already. */
	if (vm->src.q && vm->src.up)
		qc_call(v, &vm->src, "query-migrate", NULL, source_final);
	else
		finish_migration(v, vm);
}

/*
 * Steps 825-835: the source has stopped and sent everything, the destination has loaded
 * it. All that can happen before is done (the profile staged on the destination's VF, its
 * QEMU connected); what remains is the MAC (one store commit that also records the
 * switch-over, two VF writes: cmc_blades_profile_move) and `cont`.
 */
static void switch_over(struct cmc_vms *v, struct vm *vm)
{
	char err[256];
	int rc;

	vm->mig = MIG_SWITCHING;
	vm->resumed = false;
	vm->sw_seen_us = wall_us();
	if (vm->has_profile && vm->staged) {
		memcpy(vm->old_loc, vm->loc, sizeof(vm->old_loc));
		memcpy(vm->loc, vm->dloc, sizeof(vm->loc));
		vm->staged = false;
		vm->old_loc_set = true;
		rc = stage(v, vm);
		if (rc)
			snprintf(err, sizeof(err), "the store refused VM %s's records", vm->name);
		else
			rc = cmc_blades_profile_move(v->d->blades, vm->old_loc, vm->dloc, &vm->prof, err, sizeof(err));
		if (rc == -EIO || (rc && cmc_store_dirty(v->d->store))) {
			cmc_store_rollback(v->d->store);
			memcpy(vm->loc, vm->old_loc, sizeof(vm->loc));
			vm->staged = true;
			vm->old_loc_set = false;
			fail(v, vm, false, "the switch-over: %s", err);
			return;
		}
		if (rc)
			cmc_events_post(v->d->events, "migration", -1, "%s: profile on %s: %s", vm->name, vm->to, err);
	} else {
		(void)save(v, vm);
	}
	vm->sw_moved_us = wall_us();
	qc_call(v, &vm->dst, "cont", NULL, dest_resumed);
}

static void maybe_switch(struct cmc_vms *v, struct vm *vm)
{
	if (vm->mig == MIG_ACTIVE && !vm->failing && vm->src_done && vm->dst_done)
		switch_over(v, vm);
}

/* --- The destination's word ------------------------------------------------------ */

/*
 * QEMU's reason for a load that failed. Its error-desc ("load of migration failed:
 * Invalid argument") says little; the line it logged names the device ("Unknown savevm
 * section or instance '0000:00:02.0/virtio-rng' 0. Make sure ..."): that line, else
 * nothing. Returns its length.
 */
static size_t dest_reason(struct vm *vm, char *out, size_t len)
{
	char path[160], line[512];
	FILE *f;

	out[0] = '\0';
	vm_path(vm, vm->to, "log", path, sizeof(path));
	f = fopen(path, "re");
	for (int i = 0; f && i < 64 && fgets(line, sizeof(line), f); i++) {
		char *msg = strstr(line, ": ");	/* after "qemu-system-x86_64: " */

		line[strcspn(line, "\n")] = '\0';
		if (msg && !strstr(line, "warning:")) {
			snprintf(out, len, "%s", msg + 2);
			break;
		}
	}
	if (f)
		fclose(f);
	return strlen(out);
}

/* The destination could not load the state: the source carries on, with QEMU's reason. */
static void fail_unloaded(struct cmc_vms *v, struct vm *vm, const char *fallback)
{
	char why[200];

	if (!dest_reason(vm, why, sizeof(why)))
		snprintf(why, sizeof(why), "%s", fallback && *fallback ? fallback : "no reason given");
	fail(v, vm, false, "the destination could not load the state: %s", why);
}

/* A migration's own state from a MIGRATION event or a query-migrate ("status"). */
static void source_status(struct cmc_vms *v, struct vm *vm, const char *status, const char *desc, uint64_t ts_us)
{
	if (strcmp(status, "completed") == 0) {
		if (!vm->src_done) {
			vm->src_done = cmc_now_ms();
			vm->src_done_us = ts_us ? ts_us : wall_us();
		}
		maybe_switch(v, vm);
	} else if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0) {
		/* With return-path the source fails when the destination could not load the
		 * state ("Sibling indicated error 1"): the destination's log says why. */
		char why[200];

		if (dest_reason(vm, why, sizeof(why)))
			fail_unloaded(v, vm, desc);
		else
			fail(v, vm, false, "QEMU reports the migration %s%s%s", status, desc && *desc ? ": " : "",
			     desc ? desc : "");
	}
}

static void dest_status(struct cmc_vms *v, struct vm *vm, const char *status)
{
	if (strcmp(status, "completed") == 0) {
		vm->dst_done = true;
		maybe_switch(v, vm);
	} else if (strcmp(status, "failed") == 0) {
		fail_unloaded(v, vm, NULL);
	}
}

static uint64_t event_us(const json_t *ev)
{
	uint64_t s, us;

	if (qmp_get_u64(ev, "timestamp.seconds", &s) || qmp_get_u64(ev, "timestamp.microseconds", &us))
		return 0;
	return s * 1000000u + us;
}

/* QEMU's events: MIGRATION (its state, on both sides) is how cmcd learns of completion. */
static void vm_event(struct cmc_vms *v, struct vm *vm, struct qconn *c, json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	char status[32] = "";

	if (!name || strcmp(name, "MIGRATION") != 0 || vm->mig != MIG_ACTIVE || vm->failing ||
	    qmp_get_str(ev, "data.status", status, sizeof(status)) < 0)
		return;
	if (c == &vm->src)
		source_status(v, vm, status, NULL, event_us(ev));
	else
		dest_status(v, vm, status);
}

/* query-migrate's figures, each by its path: a device section ("vfio", "disk") has a
 * "transferred" of its own, and may come before "ram". */
static void read_progress(struct vm *vm, const json_t *reply)
{
	uint64_t x;

	if (!qmp_get_u64(reply, "ram.transferred", &x))
		vm->transferred = x;
	if (!qmp_get_u64(reply, "ram.remaining", &x))
		vm->remaining = x;
	if (!qmp_get_u64(reply, "ram.total", &x))
		vm->total = x;
	if (!qmp_get_u64(reply, "ram.mbps", &x))
		vm->mbps = x;
	if (!qmp_get_u64(reply, "total-time", &x))
		vm->total_time = x;
	if (!qmp_get_u64(reply, "downtime", &x))
		vm->downtime = x;
}

/* No byte moved since last_progress: past the budget, the migration fails. why: what
 * the source's QMP said when it did not answer this time, or NULL. */
static void check_stall(struct cmc_vms *v, struct vm *vm, const char *why)
{
	if (cmc_now_ms() - vm->last_progress <= STALL_TIMEOUT_MS)
		return;
	fail(v, vm, false, "no progress for %d s: is lane %s down?%s%.120s%s", STALL_TIMEOUT_MS / 1000, vm->lane,
	     why ? " (last: " : "", why ? why : "", why ? ")" : "");
}

/* The figures for `cmcctl migrations` (and, should an event have been missed, the state). */
static void progress(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char status[32] = "", desc[200] = "";

	if (vm->mig != MIG_ACTIVE || vm->failing)
		return;
	if (rc) {
		check_stall(v, vm, err);
		return;
	}
	read_progress(vm, reply);
	(void)qmp_get_str(reply, "status", status, sizeof(status));
	(void)qmp_get_str(reply, "error-desc", desc, sizeof(desc));
	if (strcmp(status, "none") == 0)
		strcpy(status, "cancelled");
	source_status(v, vm, status, desc, 0);
	if (vm->mig != MIG_ACTIVE || vm->failing)
		return;
	if (vm->transferred != vm->last_transferred) {
		vm->last_transferred = vm->transferred;
		vm->last_progress = cmc_now_ms();
	} else {
		check_stall(v, vm, NULL);
	}
}

static void dest_query(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char status[32] = "";

	(void)err;
	if (!rc && vm->mig == MIG_ACTIVE && !vm->failing && !qmp_get_str(reply, "status", status, sizeof(status)))
		dest_status(v, vm, status);
}

/* A QMP stream broke: the QEMU behind it is gone, or will be asked again. */
static void conn_lost(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *err)
{
	bool dst = c == &vm->dst;

	log_debug("VM %s: QMP on %s: %s", vm->name, c->blade, err);
	qc_close(v, c);
	if (vm->state == VM_STARTING) {
		started(v, vm, -ECONNRESET, NULL, err);
		return;
	}
	if (vm->failing) {
		fail_check(v, vm);
		return;
	}
	if (vm->mig == MIG_STARTING) {
		fail(v, vm, !dst && !vm_pid(vm, vm->from), "%s: %s", dst ? "destination" : "source", err);
	} else if (vm->mig == MIG_ACTIVE && dst) {
		if (vm->src_done)
			fail_unloaded(v, vm, "its QEMU exited");
		else
			fail(v, vm, false, "the destination QEMU died");
	} else if (vm->mig == MIG_ACTIVE) {
		vm->src_lost = cmc_now_ms();	/* the tick decides: dead, or connect again */
	} else if (vm->mig == MIG_SWITCHING && dst && !vm->resumed) {
		dest_resumed(v, vm, -ECONNRESET, NULL, err);
	} else if (vm->mig == MIG_SWITCHING && !dst && vm->resumed) {
		finish_migration(v, vm);
	}
}

/* Every TICK_MS while a migration runs: the figures, the destination's word, the QEMUs. */
static void follow(struct cmc_vms *v, struct vm *vm)
{
	unsigned long long now = cmc_now_ms();

	if (vm->src_lost && !vm->src.q) {
		if (!vm_pid(vm, vm->from)) {
			fail(v, vm, true, "the source QEMU died");
			return;
		}
		if (now - vm->src_lost >= 500) {
			vm->src_lost = 0;
			qc_open(v, vm, &vm->src, vm->from, QMP_TIMEOUT_MS, NULL);
		}
	}
	if (!vm_pid(vm, vm->to)) {
		if (vm->src_done)
			fail_unloaded(v, vm, "its QEMU exited");
		else
			fail(v, vm, false, "the destination QEMU died");
		return;
	}
	if (vm->src_done && !vm->dst_done) {
		if (now - vm->src_done > CONFIRM_TIMEOUT_MS) {
			fail(v, vm, false, "the destination did not confirm it had the state within %d s",
			     CONFIRM_TIMEOUT_MS / 1000);
			return;
		}
		if (!vm->dst.q)
			qc_open(v, vm, &vm->dst, vm->to, QMP_TIMEOUT_MS, NULL);
		if (!vm->dst.nops)
			qc_call(v, &vm->dst, "query-migrate", NULL, dest_query);
	}
	if (vm->src.q && !vm->src.nops && now - vm->last_query >= PROGRESS_MS) {
		vm->last_query = now;
		qc_call(v, &vm->src, "query-migrate", NULL, progress);
	} else if (!vm->src.q) {
		check_stall(v, vm, "the source's QMP is not connected");
	}
}

/* --- Starting a migration (steps 805-820) --------------------------------------------- */

static void migrating_now(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (vm->mig != MIG_STARTING || vm->failing)
		return;
	if (rc) {
		fail(v, vm, false, "source: %s", err);
		return;
	}
	vm->mig = MIG_ACTIVE;
	vm->last_progress = vm->last_query = cmc_now_ms();
	(void)save(v, vm);
}

/*
 * QEMU keeps a migration's parameters and capabilities for the next one: a retry given
 * no bandwidth ran at the cap of the failed attempt. So every migration sets all it relies
 * on, each time: its bandwidth (QEMU's default when none was given), the downtime limit,
 * and the capabilities: MIGRATION events on (how cmcd learns of completion), return-path
 * on (the destination tells the source whether it could load the state before the source
 * calls the migration completed; set on both sides), and off those that change how the
 * state moves.
 */
static json_t *capabilities(bool source)
{
	static const char *const caps_off[] = { "xbzrle", "auto-converge", "postcopy-ram", "multifd" };
	json_t *caps = json_pack("{s:[{s:s, s:b}, {s:s, s:b}]}", "capabilities", "capability", "events", "state", 1,
				 "capability", "return-path", "state", 1);
	json_t *list = json_object_get(caps, "capabilities");

	for (size_t i = 0; source && list && i < sizeof(caps_off) / sizeof(caps_off[0]); i++)
		if (json_array_append_new(list, json_pack("{s:s, s:b}", "capability", caps_off[i], "state", 0)) < 0)
			list = NULL;
	if (!list) {
		json_decref(caps);
		return NULL;
	}
	return caps;
}

static void source_configured(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (vm->mig == MIG_STARTING && !vm->failing && rc)
		fail(v, vm, false, "source: %s", err);
}

/* Step 815: both ends are ready; send the state over the lane. */
static void send_state(struct cmc_vms *v, struct vm *vm)
{
	json_int_t bw = vm->bandwidth ? (json_int_t)vm->bandwidth * 125000 : MIG_BANDWIDTH_DEFAULT;
	json_t *caps = capabilities(true);
	json_t *params = json_pack("{s:I, s:I}", "max-bandwidth", bw, "downtime-limit", (json_int_t)MIG_DOWNTIME_MS);
	char uri[64];

	if (!vm->src_ok || !vm->dst_listening || vm->failing)
		return;
	snprintf(uri, sizeof(uri), "tcp:%s:%u", vm->dest_addr, vm->port);
	if (!caps || !params) {
		json_decref(caps);
		json_decref(params);
		fail(v, vm, false, "out of memory");
		return;
	}
	vm->src_done = 0;
	vm->src_done_us = 0;
	vm->dst_done = false;
	qc_call(v, &vm->src, "migrate-set-capabilities", caps, source_configured);
	qc_call(v, &vm->src, "migrate-set-parameters", params, source_configured);
	qc_call(v, &vm->src, "migrate", json_pack("{s:s}", "uri", uri), migrating_now);
}

/* Step 805: the source answers and runs. */
static void source_runs(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char status[32] = "";

	if (vm->mig != MIG_STARTING || vm->failing)
		return;
	if (!rc)
		(void)qmp_get_str(reply, "status", status, sizeof(status));
	if (rc || strcmp(status, "running") != 0) {
		fail(v, vm, !vm_pid(vm, vm->from), "VM %s on %s is not running (%s)", vm->name, vm->from,
		     rc ? err : status);
		return;
	}
	vm->src_ok = true;
	send_state(v, vm);
}

static void source_up(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (rc && vm->mig == MIG_STARTING && !vm->failing)
		fail(v, vm, !vm_pid(vm, vm->from), "VM %s on %s does not answer: %s", vm->name, vm->from, err);
}

/*
 * The destination waits on the lane's address with return-path on (it must match the
 * source's) and, where QEMU can (9.1 and later), stays up after a load that failed so
 * that it can say why; an older one refuses exit-on-error, and is asked again without.
 */
static void dest_listening(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char uri[64];

	(void)reply;
	if (vm->mig != MIG_STARTING || vm->failing)
		return;
	if (rc == -EREMOTEIO && strstr(err, "exit-on-error")) {
		snprintf(uri, sizeof(uri), "tcp:%s:%u", vm->dest_addr, vm->port);
		qc_call(v, &vm->dst, "migrate-incoming", json_pack("{s:s}", "uri", uri), dest_listening);
		return;
	}
	if (rc) {
		fail(v, vm, false, "destination: %s", err);
		return;
	}
	vm->dst_listening = true;
	send_state(v, vm);
}

static void dest_configured(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (vm->mig == MIG_STARTING && !vm->failing && rc)
		fail(v, vm, false, "destination: %s", err);
}

/* Step 815: the destination's QEMU is up (or gave up). */
static void dest_up(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char uri[64];

	(void)reply;
	if (vm->mig != MIG_STARTING || vm->failing)
		return;
	if (rc) {
		fail(v, vm, false, "the destination QEMU did not start: %s", err);
		return;
	}
	snprintf(uri, sizeof(uri), "tcp:%s:%u", vm->dest_addr, vm->port);
	qc_call(v, &vm->dst, "migrate-set-capabilities", capabilities(false), dest_configured);
	qc_call(v, &vm->dst, "migrate-incoming", json_pack("{s:s, s:b}", "uri", uri, "exit-on-error", 0),
		dest_listening);
}

static void tick(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_vms *v = arg;
	(void)loop;
	(void)t;

	reap_due(v);
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = &v->vms[i];

		if (!vm->used)
			continue;
		qc_due(v, &vm->src);
		qc_due(v, &vm->dst);
		if (vm->mig == MIG_ACTIVE && !vm->failing)
			follow(v, vm);
		fail_check(v, vm);
	}
	arm(v);
}

void cmc_vms_card_gone(struct cmc_vms *v, unsigned slot, unsigned pf)
{
	for (unsigned i = 0; v && i < VM_MAX; i++) {
		struct vm *vm = &v->vms[i];
		unsigned ls, lp;

		/* Once the source is done the state is across: the lane is not needed. */
		if (!vm->used || (vm->mig != MIG_STARTING && vm->mig != MIG_ACTIVE) || vm->src_done ||
		    vm->failing || cmc_blades_lane_port(v->d->blades, vm->lane, &ls, &lp) < 0 || ls != slot ||
		    lp != pf)
			continue;
		fail(v, vm, false, "lane %s lost its card (slot %u pf %u removed)", vm->lane, slot, pf);
	}
	if (v)
		arm(v);
}

/* --- Commands ---------------------------------------------------------------------- */

/* A deferred command's answer (vm start, vm stop); a request answered at once has none. */
static void answer(struct vm *vm, enum cmc_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answer(struct vm *vm, enum cmc_status st, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vm->req)
		cmc_api_finish(vm->req, st, msg, NULL);
	vm->req = NULL;
}

/* vm start: its QEMU answers QMP (or gave up). */
static void started(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char e[256];

	(void)reply;
	qc_close(v, &vm->src);
	if (!rc) {
		vm->state = VM_RUNNING;
		rc = save(v, vm);
		if (!rc) {
			cmc_events_post(v->d->events, "vm", -1, "%s started on %s (%u MiB)", vm->name, vm->blade,
					vm->mem_mb);
			answer(vm, CMC_OK, "%s", "");
			return;
		}
		err = "the store refused it";
	}
	reap(v, vm_pid(vm, vm->blade), SIGKILL, NULL);
	if (vm->has_profile && cmc_blades_profile_remove(v->d->blades, vm->loc, e, sizeof(e)) < 0)
		log_warnx("VM %s: profile: %s", vm->name, e);
	answer(vm, CMC_REFUSED, "VM %s on %s: %s", vm->name, vm->blade, err);
	*vm = (struct vm){ 0 };
}

/* vm stop: its QEMU has gone. */
static void stop_done(struct cmc_vms *v, struct vm *vm)
{
	(void)v;
	answer(vm, CMC_OK, "%s", "");
	*vm = (struct vm){ 0 };
}

static enum cmc_status vm_start(struct cmcd *d, struct cmc_api_request *req)
{
	static const char usage[] =
		"usage: vm start NAME blade B [mem MB] [mac M] [vlan X] [rate MBPS] [trusted]";
	struct cmc_vms *v = d->vms;
	struct vm n = { .used = true, .mem_mb = VM_MEM_DEFAULT, .state = VM_RUNNING }, *slot = NULL;
	char err[256];
	unsigned x;

	if (req->argc < 5)
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (!vm_name_ok(req->argv[2]))
		return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a VM name (1-%d of a-z A-Z 0-9 - _)", req->argv[2],
			      VM_NAME_MAX);
	snprintf(n.name, sizeof(n.name), "%s", req->argv[2]);
	for (int i = 3; i < req->argc; i++) {
		const char *k = req->argv[i], *arg = i + 1 < req->argc ? req->argv[i + 1] : NULL;
		if (strcmp(k, "trusted") == 0) {
			n.prof.trusted = true;
			continue;
		}
		if (!arg)
			return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
		i++;
		if (strcmp(k, "blade") == 0 && strlen(arg) < sizeof(n.blade))
			snprintf(n.blade, sizeof(n.blade), "%s", arg);
		else if (strcmp(k, "mem") == 0 && !cmc_api_parse_uint(arg, 4096, &x) && x >= 16)
			n.mem_mb = x;
		else if (strcmp(k, "mac") == 0) {
			if (vb_mac_parse(arg, n.prof.mac) < 0 || !vb_mac_is_unicast(n.prof.mac))
				return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a unicast MAC address", arg);
			n.has_profile = true;
		} else if (strcmp(k, "vlan") == 0 && !cmc_api_parse_uint(arg, 3999, &x) && x)
			n.prof.vlan = (uint16_t)x;
		else if (strcmp(k, "rate") == 0 && !cmc_api_parse_uint(arg, 1000, &x))
			n.prof.rate = x;
		else
			return cmc_api_refuse(req, CMC_USAGE, "%s (bad '%.32s %.32s')", usage, k, arg);
	}
	if (!n.blade[0])
		return cmc_api_refuse(req, CMC_USAGE, "%s", usage);
	if (!blade_known(d, n.blade))
		return cmc_api_refuse(req, CMC_REFUSED, "no blade '%s' in this chassis", n.blade);
	if (find_vm(v, n.name))
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s exists (on %s)", n.name, find_vm(v, n.name)->blade);
	if ((n.prof.vlan || n.prof.rate || n.prof.trusted) && !n.has_profile)
		return cmc_api_refuse(req, CMC_REFUSED, "a VLAN, rate or trust needs the VM's MAC (mac M)");
	for (unsigned i = 0; i < VM_MAX && !slot; i++)
		if (!v->vms[i].used)
			slot = &v->vms[i];
	if (!slot)
		return cmc_api_refuse(req, CMC_REFUSED, "too many VMs (%d)", VM_MAX);
	if (n.has_profile &&
	    cmc_blades_profile_add(d->blades, n.name, n.blade, &n.prof, true, n.loc, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	if (spawn_qemu(v, &n, n.blade, false, err, sizeof(err)) < 0) {
		if (n.has_profile)
			(void)cmc_blades_profile_remove(d->blades, n.loc, err + strlen(err), 1);
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s on %s: %s", n.name, n.blade, err);
	}
	/* The answer once its QMP is up (nested TCG: seconds); the loop goes on meanwhile. */
	n.state = VM_STARTING;
	*slot = n;
	slot->req = cmc_api_defer(req);
	qc_open(v, slot, &slot->src, slot->blade, START_TIMEOUT_MS, started);
	arm(v);
	return CMC_OK;
}

static enum cmc_status vm_stop(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_vms *v = d->vms;
	struct vm *vm = find_vm(v, req->argv[2]);
	char err[256];
	pid_t pid;

	if (req->argc != 3)
		return cmc_api_refuse(req, CMC_USAGE, "usage: vm stop NAME");
	if (!vm)
		return cmc_api_refuse(req, CMC_REFUSED, "no VM '%.32s'", req->argv[2]);
	if (migrating(vm) || vm->failing)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is migrating to %s", vm->name, vm->to);
	if (vm->state == VM_STARTING || vm->state == VM_STOPPING)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is %s", vm->name, vm_state_names[vm->state]);
	if (forget(v, vm) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "the store refused the change");
	qc_close(v, &vm->src);
	qc_close(v, &vm->dst);
	if (vm->has_profile && cmc_blades_profile_remove(d->blades, vm->loc, err, sizeof(err)) < 0)
		log_warnx("VM %s: profile: %s", vm->name, err);
	cmc_events_post(d->events, "vm", -1, "%s stopped on %s", vm->name, vm->blade);
	/* QEMU shuts down on SIGTERM (SIGKILL after QUIT_TIMEOUT_MS); the answer once it has
	 * gone, so that the same VM may start again at once. */
	vm->state = VM_STOPPING;
	pid = vm_pid(vm, vm->blade);
	if (pid)
		vm->req = cmc_api_defer(req);
	reap(v, pid, SIGTERM, vm);
	arm(v);
	return CMC_OK;
}

/* vm start NAME blade B [...] | stop NAME */
enum cmc_status cmc_cmd_vm(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	if (!d->vms || !d->blades)
		return cmc_api_refuse(req, CMC_REFUSED, "VMs are not available");
	if (strcmp(req->argv[1], "start") == 0)
		return vm_start(d, req);
	if (strcmp(req->argv[1], "stop") == 0 && req->argc >= 3)
		return vm_stop(d, req);
	return cmc_api_refuse(req, CMC_USAGE, "usage: vm start NAME blade B [mem MB] [mac M] [vlan X] [rate MBPS] "
		      "[trusted] | vm stop NAME");
}

enum cmc_status cmc_cmd_vms(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	for (unsigned i = 0; d->vms && i < VM_MAX; i++) {
		struct vm *vm = &d->vms->vms[i];
		char mac[18], loc[24];

		if (!vm->used)
			continue;
		loc_str(vm->loc, loc, sizeof(loc));
		cmc_rec_begin(req->body, "vm");
		cmc_rec_str(req->body, "vm", vm->name);
		cmc_rec_str(req->body, "blade", vm->blade);
		cmc_rec_str(req->body, "state", vm_state_names[vm->state]);
		cmc_rec_int(req->body, "mem", vm->mem_mb);
		cmc_rec_int(req->body, "pid", vm_pid(vm, vm->blade));
		cmc_rec_str(req->body, "mac", vm->has_profile ? vb_mac_str(vm->prof.mac, mac) : "-");
		cmc_rec_int(req->body, "vlan", vm->prof.vlan);
		cmc_rec_int(req->body, "rate", vm->prof.rate);
		cmc_rec_str(req->body, "vf", vm->has_profile ? loc : "-");
		cmc_rec_str(req->body, "note", vm->note[0] ? vm->note : "-");
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

/* migrate NAME to BLADE [bandwidth MBPS] */
enum cmc_status cmc_cmd_migrate(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct cmc_vms *v = d->vms;
	struct vm *vm;
	const char *to = req->argv[3];
	char err[256], lane[16], addr_from[16], addr_to[16];
	int rc;

	if (!v || !d->blades)
		return cmc_api_refuse(req, CMC_REFUSED, "VMs are not available");
	unsigned bw = 0;

	if ((req->argc != 4 && req->argc != 6) || strcmp(req->argv[2], "to") != 0 ||
	    (req->argc == 6 && (strcmp(req->argv[4], "bandwidth") != 0 || cmc_api_parse_uint(req->argv[5], 10000, &bw) || !bw)))
		return cmc_api_refuse(req, CMC_USAGE, "usage: migrate VM --to BLADE [bandwidth MBPS]");
	vm = find_vm(v, req->argv[1]);
	if (!vm)
		return cmc_api_refuse(req, CMC_REFUSED, "no VM '%.32s'", req->argv[1]);
	if (migrating(vm) || vm->failing)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is already migrating to %s", vm->name, vm->to);
	if (vm->state != VM_RUNNING)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is %s%s%s", vm->name, vm_state_names[vm->state],
			      vm->note[0] ? ": " : "", vm->note);
	if (!blade_known(d, to))
		return cmc_api_refuse(req, CMC_REFUSED, "no blade '%.32s' in this chassis", to);
	if (strcmp(to, vm->blade) == 0)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s already runs on %s", vm->name, to);
	rc = cmc_blades_lane_between(d->blades, vm->blade, to, lane, addr_from, addr_to);
	if (rc == -ENOENT)
		return cmc_api_refuse(req, CMC_REFUSED, "no lane between %s and %s (cmcctl lane create NAME %s %s)",
			      vm->blade, to, vm->blade, to);
	if (rc == -EAGAIN)
		return cmc_api_refuse(req, CMC_REFUSED, "lane %s is not up yet (its VFs are not in their blades)", lane);
	/* Step 810: the destination's profile, staged: no MAC live there yet. */
	memcpy(vm->from, vm->blade, sizeof(vm->from));
	snprintf(vm->to, sizeof(vm->to), "%s", to);
	snprintf(vm->lane, sizeof(vm->lane), "%s", lane);
	snprintf(vm->dest_addr, sizeof(vm->dest_addr), "%s", addr_to);
	vm->port = MIGRATION_PORT + (unsigned)(vm - v->vms);
	vm->bandwidth = bw;
	vm->staged = vm->src_ok = vm->dst_listening = vm->dst_done = vm->resumed = false;
	vm->old_loc_set = false;
	vm->reason[0] = '\0';
	vm->transferred = vm->remaining = vm->total = vm->mbps = vm->total_time = vm->downtime = 0;
	vm->switch_us = vm->last_transferred = 0;
	vm->src_done = vm->src_done_us = vm->src_lost = 0;
	if (vm->has_profile) {
		if (cmc_blades_profile_add(d->blades, vm->name, to, &vm->prof, false, vm->dloc, err, sizeof(err)) < 0)
			return cmc_api_refuse(req, CMC_REFUSED, "cannot stage VM %s's profile on %s: %s", vm->name, to, err);
		vm->staged = true;
	}
	vm->mig = MIG_STARTING;
	vm->state = VM_MIGRATING;
	vm->mig_started = cmc_now_ms();
	if (save(v, vm) < 0 || spawn_qemu(v, vm, to, true, err, sizeof(err)) < 0) {
		fail(v, vm, false, "destination QEMU: %s", err);
		arm(v);
		return cmc_api_refuse(req, CMC_REFUSED, "%s", vm->reason);
	}
	/* Step 805 (the source answers and runs) and 815 (the destination waits) go on from
	 * the loop; the command returns now and cmcctl follows the migration. */
	qc_open(v, vm, &vm->src, vm->from, QMP_TIMEOUT_MS, source_up);
	qc_call(v, &vm->src, "query-status", NULL, source_runs);
	qc_open(v, vm, &vm->dst, to, START_TIMEOUT_MS, dest_up);
	cmc_events_post(d->events, "migration", -1, "%s %s -> %s over lane %s (%s:%u)", vm->name, vm->from, to,
			lane, addr_to, vm->port);
	arm(v);
	return CMC_OK;
}

enum cmc_status cmc_cmd_migrations(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	for (unsigned i = 0; d->vms && i < VM_MAX; i++) {
		struct vm *vm = &d->vms->vms[i];

		if (!vm->used || vm->mig == MIG_NONE)
			continue;
		cmc_rec_begin(req->body, "migration");
		cmc_rec_str(req->body, "vm", vm->name);
		cmc_rec_str(req->body, "from", vm->from);
		cmc_rec_str(req->body, "to", vm->to);
		cmc_rec_str(req->body, "lane", vm->lane);
		cmc_rec_str(req->body, "status", mig_state_names[vm->mig]);
		cmc_rec_int(req->body, "transferred", (long long)vm->transferred);
		cmc_rec_int(req->body, "remaining", (long long)vm->remaining);
		cmc_rec_int(req->body, "total", (long long)vm->total);
		cmc_rec_int(req->body, "mbps", (long long)vm->mbps);
		cmc_rec_int(req->body, "total_time_ms", (long long)vm->total_time);
		/* QEMU's own downtime + cmcd's switch-over (source completed -> cont answered). */
		cmc_rec_int(req->body, "downtime_ms", (long long)(vm->downtime + (vm->switch_us + 500) / 1000));
		cmc_rec_int(req->body, "qemu_downtime_ms", (long long)vm->downtime);
		cmc_rec_int(req->body, "switchover_us", (long long)vm->switch_us);
		cmc_rec_str(req->body, "reason", vm->reason[0] ? vm->reason : "-");
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

/* profile set VM rate R */
enum cmc_status cmc_cmd_profile(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	struct vm *vm = d->vms ? find_vm(d->vms, req->argv[2]) : NULL;
	struct cmc_profile p;
	char err[256];
	unsigned rate;

	if (req->argc != 5 || strcmp(req->argv[1], "set") != 0 || strcmp(req->argv[3], "rate") != 0 ||
	    cmc_api_parse_uint(req->argv[4], 1000, &rate))
		return cmc_api_refuse(req, CMC_USAGE, "usage: profile set VM rate MBPS (0-1000, 0 = unlimited)");
	if (!vm)
		return cmc_api_refuse(req, CMC_REFUSED, "no VM '%.32s'", req->argv[2]);
	if (!vm->has_profile)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s has no network profile (start it with a MAC)", vm->name);
	if (migrating(vm) || vm->failing)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is migrating; set its rate after", vm->name);
	p = vm->prof;
	p.rate = rate;
	if (cmc_blades_profile_set(d->blades, vm->loc, &p, true, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	vm->prof = p;
	(void)save(d->vms, vm);
	cmc_events_post(d->events, "profile", -1, "%s: rate %u Mbit/s", vm->name, rate);
	return CMC_OK;
}

/* --- Start and stop --------------------------------------------------------------- */


static uint64_t kv_u64(const char *value, const char *k)
{
	char buf[24];

	return cmc_store_field(value, k, buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 10);
}

static int parse_loc(const char *value, const char *k, unsigned loc[3])
{
	char buf[24];

	return cmc_store_field(value, k, buf, sizeof(buf)) || sscanf(buf, "%u.%u.%u", &loc[0], &loc[1], &loc[2]) != 3
		       ? -EINVAL
		       : 0;
}

static int load_vm(const char *key, const char *value, void *arg)
{
	struct cmc_vms *v = arg;
	struct vm n = { .used = true };
	char mac[24], state[16];
	struct vm *slot = NULL;

	snprintf(n.name, sizeof(n.name), "%s", key + strlen("vm/"));
	if (cmc_store_field(value, "blade", n.blade, sizeof(n.blade)) < 0 || cmc_store_field(value, "mac", mac, sizeof(mac)) < 0 ||
	    vb_mac_parse(mac, n.prof.mac) < 0 || parse_loc(value, "loc", n.loc) < 0 ||
	    cmc_store_field(value, "state", state, sizeof(state)) < 0) {
		log_warnx("store: %s unreadable; ignored", key);
		return 0;
	}
	n.mem_mb = (unsigned)kv_u64(value, "mem");
	n.has_profile = kv_u64(value, "profile") != 0;
	n.prof.vlan = (uint16_t)kv_u64(value, "vlan");
	n.prof.rate = (unsigned)kv_u64(value, "rate");
	n.prof.trusted = kv_u64(value, "trusted") != 0;
	n.state = strcmp(state, "lost") == 0 ? VM_LOST : strcmp(state, "migrating") == 0 ? VM_MIGRATING : VM_RUNNING;
	for (unsigned i = 0; i < VM_MAX && !slot; i++)
		if (!v->vms[i].used)
			slot = &v->vms[i];
	if (slot)
		*slot = n;
	return 0;
}

static int load_migration(const char *key, const char *value, void *arg)
{
	struct cmc_vms *v = arg;
	struct vm *vm = find_vm(v, key + strlen("migration/"));
	const char *reason;
	char state[16];

	if (!vm || cmc_store_field(value, "from", vm->from, sizeof(vm->from)) < 0 ||
	    cmc_store_field(value, "to", vm->to, sizeof(vm->to)) < 0 || cmc_store_field(value, "lane", vm->lane, sizeof(vm->lane)) < 0 ||
	    cmc_store_field(value, "addr", vm->dest_addr, sizeof(vm->dest_addr)) < 0 ||
	    cmc_store_field(value, "state", state, sizeof(state)) < 0)
		return 0;
	vm->port = (unsigned)kv_u64(value, "port");
	vm->staged = kv_u64(value, "staged") != 0;
	(void)parse_loc(value, "dloc", vm->dloc);
	vm->transferred = kv_u64(value, "transferred");
	vm->total = kv_u64(value, "total");
	vm->total_time = kv_u64(value, "time");
	vm->downtime = kv_u64(value, "downtime");
	vm->switch_us = kv_u64(value, "switch_us");
	vm->mbps = kv_u64(value, "mbps");
	reason = strstr(value, " reason=");
	if (reason && strcmp(reason + strlen(" reason="), "-") != 0)
		snprintf(vm->reason, sizeof(vm->reason), "%s", reason + strlen(" reason="));
	for (int s = MIG_NONE; s <= MIG_FAILED; s++)
		if (strcmp(state, mig_state_names[s]) == 0)
			vm->mig = (enum mig_state)s;
	return 0;
}

/* After a restart: where is each VM now? A migration in flight is taken up again. */
static void resume(struct cmc_vms *v)
{
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = &v->vms[i];

		if (!vm->used)
			continue;
		if (vm->mig == MIG_STARTING) {
			/* The state had not started to move: start over cleanly. */
			fail(v, vm, !vm_pid(vm, vm->from), "cmcd restarted before the state began to move");
			continue;
		}
		if (vm->mig == MIG_ACTIVE || vm->mig == MIG_SWITCHING) {
			/* Events sent while no cmcd listened are lost: the tick asks both QEMUs. */
			vm->last_progress = cmc_now_ms();
			qc_open(v, vm, &vm->src, vm->from, QMP_TIMEOUT_MS, NULL);
			qc_open(v, vm, &vm->dst, vm->to, QMP_TIMEOUT_MS, NULL);
			cmc_events_post(v->d->events, "migration", -1, "%s %s -> %s: taken up again after a restart",
					vm->name, vm->from, vm->to);
			if (vm->mig == MIG_SWITCHING) {
				/* The profile had moved (the same commit said so): resume the destination. */
				vm->src_done = cmc_now_ms();
				vm->src_done_us = wall_us();
				switch_over(v, vm);
			}
			continue;
		}
		if (vm->state == VM_RUNNING && !vm_pid(vm, vm->blade)) {
			vm->state = VM_LOST;
			snprintf(vm->note, sizeof(vm->note), "its QEMU on %s is gone", vm->blade);
			(void)save(v, vm);
			cmc_events_post(v->d->events, "vm", -1, "%s: %s", vm->name, vm->note);
		}
	}
	arm(v);
}

int cmc_vms_start(struct cmcd *d, struct cmc_vms **out)
{
	struct cmc_vms *v = calloc(1, sizeof(*v));
	char err[256];
	int rc;

	if (!v)
		return -ENOMEM;
	v->d = d;
	v->qemu = getenv("CMC_QEMU") ? getenv("CMC_QEMU") : VM_QEMU_DEFAULT;
	v->kernel = getenv("CMC_VM_KERNEL") ? getenv("CMC_VM_KERNEL") : VM_KERNEL_DEFAULT;
	rc = cmc_loop_add_timer(d->loop, 0, 0, tick, v, &v->tick);
	if (rc) {
		free(v);
		return rc;
	}
	if (mp_blade_backend_open("netns", &v->be, err, sizeof(err)) < 0) {
		log_warnx("VMs: %s", err);
		v->be = NULL;
	}
	(void)cmc_store_foreach(d->store, "vm/", load_vm, v);
	(void)cmc_store_foreach(d->store, "migration/", load_migration, v);
	d->vms = v;
	the_vms = v;
	resume(v);
	*out = v;
	return 0;
}

void cmc_vms_stop(struct cmcd *d, struct cmc_vms *v)
{
	if (!v)
		return;
	/* VMs run on: they are the blades', not cmcd's. A vm start or stop still waiting is
	 * answered (its QEMU runs or goes on regardless). */
	for (unsigned i = 0; i < VM_MAX; i++) {
		qc_close(v, &v->vms[i].src);
		qc_close(v, &v->vms[i].dst);
		answer(&v->vms[i], CMC_REFUSED, "cmcd is stopping");
	}
	the_vms = NULL;
	if (v->tick)
		cmc_loop_del_timer(d->loop, v->tick);
	mp_blade_backend_close(v->be);
	d->vms = NULL;
	free(v);
}
