/* SPDX-License-Identifier: MIT */
/*
 * The QEMU driver (vm.h): a VM's QEMU started on its blade, watched until it has gone, and
 * its QMP sockets driven from cmcd's event loop. Nothing here waits and nothing here knows
 * of migrations: what QEMU says (events, a stream that broke, a process gone) goes up
 * through the hooks of struct cmc_vms.
 */
#include "vm.h"

#include "blade.h"
#include "daemon.h"
#include "log.h"
#include "vbridge.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- A QEMU on a blade ------------------------------------------------------------- */

void vm_path(const struct vm *vm, const char *blade, const char *ext, char *buf, size_t len)
{
	snprintf(buf, len, VM_DIR "/%s@%s.%s", vm->name, blade, ext);
}

pid_t vm_pid(const struct vm *vm, const char *blade)
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
int qemu_spawn(struct cmc_vms *v, const struct vm *vm, const char *blade, bool incoming,
		      char *err, size_t errlen)
{
	const struct cmc_config_blade *cb = cmc_config_blade_by_name(v->d->config, blade);
	const struct cmc_config_hypervisor *hv = cb ? &cb->hv : NULL;
	char mem[16], qmp[VM_PATH_LEN], pid[VM_PATH_LEN], log[VM_PATH_LEN], qmparg[200];
	char netdev[96], nic[64], append[24], bridge[16], tap[16], mac[VB_MAC_STRLEN];
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
	if (vm->has_profile) {
		/* Its NIC on its port's tap, made already (persistent: QEMU attaches to it; no
		 * script, cmcd built the bridge). The same device on both ends of a migration.
		 * No option ROM (romfile=): nothing boots from the network, and a blade need
		 * not carry QEMU's efi-e1000.rom. */
		cmc_blades_vmport_names(incoming ? vm->dloc : vm->loc, bridge, tap);
		snprintf(netdev, sizeof(netdev), "tap,id=n0,ifname=%s,script=no,downscript=no", tap);
		snprintf(nic, sizeof(nic), "e1000,netdev=n0,mac=%s,romfile=", vb_mac_str(vm->prof.mac, mac));
		argv[n++] = "-netdev";
		argv[n++] = netdev;
		argv[n++] = "-device";
		argv[n++] = nic;
	}
	if (vm->ip[0]) {
		snprintf(append, sizeof(append), "ip=%s", vm->ip);
		argv[n++] = "-append";
		argv[n++] = append;
	}
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
 * still there. vm (or NULL) is told when it has gone (hooks.reaped). Never waits.
 */
void qemu_reap(struct cmc_vms *v, pid_t pid, int sig, struct vm *vm)
{
	if (pid <= 1) {
		if (vm)
			v->hooks.reaped(v, vm);
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
		v->hooks.reaped(v, vm);
}

bool qemu_reaping(const struct cmc_vms *v, const struct vm *vm)
{
	for (unsigned i = 0; i < REAP_MAX; i++)
		if (v->reaps[i].pid && v->reaps[i].vm == vm)
			return true;
	return false;
}

void qemu_reap_due(struct cmc_vms *v)
{
	for (unsigned i = 0; i < REAP_MAX; i++) {
		struct reap *r = &v->reaps[i];
		struct vm *vm = r->vm;

		if (!r->pid)
			continue;
		if (kill(r->pid, 0) < 0 && errno == ESRCH) {
			*r = (struct reap){ 0 };
			if (vm)
				v->hooks.reaped(v, vm);
		} else if (cmc_now_ms() >= r->kill_at) {
			(void)kill(r->pid, SIGKILL);
			r->kill_at = cmc_now_ms() + QUIT_TIMEOUT_MS;
		}
	}
}

/* --- QMP connections ------------------------------------------------------------------ */

static void qc_ready(struct cmc_loop *loop, int fd, uint32_t events, void *arg);

/* Closes it; the commands not answered yet are dropped, unanswered. */
void qc_close(struct cmc_vms *v, struct qconn *c)
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
			v->hooks.lost(v, c->vm, c, err);
			return;
		}
	}
	qc_watch(v, c);
}

/* Queues a command (args: owned, may be NULL). A full queue or no connection: fn at once
 * with -EBUSY / -ENOTCONN. */
void qc_call(struct cmc_vms *v, struct qconn *c, const char *cmd, json_t *args, qc_fn fn)
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
void qc_open(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *blade,
		    unsigned wait_ms, qc_fn on_up)
{
	char path[VM_PATH_LEN], err[256];
	int rc;

	qc_close(v, c);
	c->v = v;
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
void qc_due(struct cmc_vms *v, struct qconn *c)
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
	struct cmc_vms *v = c->v;
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
		v->hooks.event(v, c->vm, c, ev);
		json_decref(ev);
	}
	if (c->gen != gen)
		goto out;
	if (rc) {
		v->hooks.lost(v, c->vm, c, err);
		goto out;
	}
	qc_next(v, c);
out:
	v->hooks.arm(v);
}
