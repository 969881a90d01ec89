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
#define QMP_TIMEOUT_MS 3000
#define TICK_MS 200
#define START_TIMEOUT_MS 30000		/* a QEMU under nested TCG starts in a few seconds */
#define STALL_TIMEOUT_MS 20000		/* no byte moved for this long: the lane is down */
#define MIGRATION_PORT 4444
#define MIG_BANDWIDTH_DEFAULT (128 << 20)	/* bytes/s: QEMU's own default max-bandwidth */
#define MIG_DOWNTIME_MS 300			/* QEMU's own default downtime-limit */
#define CONFIRM_TIMEOUT_MS 10000	/* the source is done: the destination must say it has the state */

enum vm_state { VM_RUNNING, VM_MIGRATING, VM_LOST };
static const char *const vm_state_names[] = { "running", "migrating", "lost" };

enum mig_state { MIG_NONE, MIG_STARTING, MIG_ACTIVE, MIG_SWITCHING, MIG_COMPLETED, MIG_FAILED };
static const char *const mig_state_names[] = { "none", "starting", "active", "switching", "completed",
					       "failed" };

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
	/* Its migration (the current or the last one). */
	enum mig_state mig;
	char to[CMC_CONFIG_NAME_MAX + 1], from[CMC_CONFIG_NAME_MAX + 1];
	char lane[16], dest_addr[16];
	bool staged;
	unsigned dloc[3];
	unsigned port;
	unsigned bandwidth;		/* Mbit/s the migration may use; 0 = QEMU's default (128 MiB/s) */
	unsigned long long mig_started, last_progress;
	uint64_t total, transferred, remaining, mbps, total_time, downtime, switch_ms, last_transferred;
	char reason[256];
	unsigned long long src_done;	/* when the source said completed (0: not yet) */
	struct qmp *src, *dst;
};

struct cmc_vms {
	struct cmcd *d;
	struct mp_blade_backend *be;
	struct cmc_timer *tick;
	const char *qemu, *kernel;
	struct vm vms[VM_MAX];
};



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

/* QMP of the VM's QEMU on blade, waiting (bounded) for it to come up. */
static int vm_qmp(const struct vm *vm, const char *blade, unsigned wait_ms, struct qmp **out, char *err,
		  size_t errlen)
{
	char path[160];
	unsigned waited = 0;
	int rc;

	vm_path(vm, blade, "qmp", path, sizeof(path));
	for (;;) {
		rc = qmp_connect(path, QMP_TIMEOUT_MS, out, err, errlen);
		if (!rc || waited >= wait_ms)
			return rc;
		usleep(100000);
		waited += 100;
	}
}

static void vm_kill(const struct vm *vm, const char *blade)
{
	struct qmp *q;
	char err[128];
	pid_t pid = vm_pid(vm, blade);

	if (vm_qmp(vm, blade, 0, &q, err, sizeof(err)) == 0) {
		(void)!qmp_execute(q, "quit", NULL, NULL, err, sizeof(err));
		qmp_close(q);
	}
	for (int i = 0; pid && i < 20 && kill(pid, 0) == 0; i++)
		usleep(50000);
	if (pid && kill(pid, 0) == 0)
		kill(pid, SIGKILL);
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

static int save(struct cmc_vms *v, struct vm *vm)
{
	struct cmcd *d = v->d;
	char key[64], val[1024], mac[18], loc[24], dloc[24], reason[sizeof(vm->reason)];
	int rc;

	snprintf(key, sizeof(key), "vm/%s", vm->name);
	loc_str(vm->loc, loc, sizeof(loc));
	snprintf(val, sizeof(val), "blade=%s mem=%u profile=%d mac=%s vlan=%u rate=%u trusted=%d loc=%s state=%s",
		 vm->blade, vm->mem_mb, vm->has_profile, vb_mac_str(vm->prof.mac, mac), vm->prof.vlan,
		 vm->prof.rate, vm->prof.trusted, loc, vm_state_names[vm->state]);
	rc = cmc_store_set(d->store, key, val);
	if (!rc && vm->mig != MIG_NONE) {
		snprintf(key, sizeof(key), "migration/%s", vm->name);
		loc_str(vm->dloc, dloc, sizeof(dloc));
		snprintf(val, sizeof(val),
			 "from=%s to=%s lane=%s addr=%s port=%u state=%s staged=%d dloc=%s transferred=%llu "
			 "total=%llu time=%llu downtime=%llu mbps=%llu reason=%s", vm->from, vm->to, vm->lane,
			 vm->dest_addr, vm->port, mig_state_names[vm->mig], vm->staged, dloc,
			 (unsigned long long)vm->transferred, (unsigned long long)vm->total,
			 (unsigned long long)vm->total_time, (unsigned long long)vm->downtime,
			 (unsigned long long)vm->mbps, store_text(vm->reason, reason, sizeof(reason)));
		rc = cmc_store_set(d->store, key, val);
	}
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

static void close_qmps(struct vm *vm)
{
	qmp_close(vm->src);
	qmp_close(vm->dst);
	vm->src = vm->dst = NULL;
}

static bool any_active(const struct cmc_vms *v)
{
	for (unsigned i = 0; i < VM_MAX; i++)
		if (v->vms[i].used && (v->vms[i].mig == MIG_STARTING || v->vms[i].mig == MIG_ACTIVE ||
				       v->vms[i].mig == MIG_SWITCHING))
			return true;
	return false;
}

static void arm(struct cmc_vms *v)
{
	(void)!cmc_timer_arm(v->tick, any_active(v) ? TICK_MS : 0, 0);
}

/*
 * Before the switch-over, a failure leaves the VM where it was: the destination goes,
 * the staged profile goes, the source carries on (resumed if QEMU had paused it).
 */
static void fail(struct cmc_vms *v, struct vm *vm, bool source_dead, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct cmc_vms *v, struct vm *vm, bool source_dead, const char *fmt, ...)
{
	char err[256], status[32] = "";
	json_t *reply = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
	va_end(ap);
	if (vm->src && !source_dead) {
		(void)!qmp_execute(vm->src, "migrate_cancel", NULL, NULL, err, sizeof(err));
		if (qmp_execute(vm->src, "query-status", NULL, &reply, err, sizeof(err)) == 0 &&
		    qmp_get_str(reply, "status", status, sizeof(status)) == 0 && strcmp(status, "running") != 0)
			(void)!qmp_execute(vm->src, "cont", NULL, NULL, err, sizeof(err));
		json_decref(reply);
	}
	close_qmps(vm);
	vm_kill(vm, vm->to);
	if (vm->staged && cmc_blades_profile_remove(v->d->blades, vm->dloc, err, sizeof(err)) < 0)
		log_warnx("VM %s: staged profile on %s: %s", vm->name, vm->to, err);
	vm->staged = false;
	vm->mig = MIG_FAILED;
	vm->state = source_dead ? VM_LOST : VM_RUNNING;
	snprintf(vm->note, sizeof(vm->note), "%s", source_dead ? "its QEMU died on the source" : "");
	(void)save(v, vm);
	cmc_events_post(v->d->events, "migration-failed", -1, "%s %s -> %s: %s; %s", vm->name, vm->from,
			vm->to, vm->reason,
			source_dead ? "the VM is lost" : "the VM runs on the source");
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

	qmp_close(vm->dst);
	vm->dst = NULL;
	vm_kill(vm, vm->to);
	if (vm->has_profile) {
		if (cmc_blades_profile_remove(v->d->blades, vm->loc, err, sizeof(err)) < 0)
			log_warnx("VM %s: profile off %s: %s", vm->name, vm->to, err);
		if (cmc_blades_profile_add(v->d->blades, vm->name, vm->from, &vm->prof, true, vm->loc, err,
					   sizeof(err)) < 0)
			cmc_events_post(v->d->events, "migration", -1, "%s: profile back on %s: %s", vm->name,
					vm->from, err);
	}
	fail(v, vm, false, "the destination did not resume: %s", why);
}

/* Steps 825-835: the source has stopped and the destination has loaded its state. */
static void switch_over(struct cmc_vms *v, struct vm *vm)
{
	unsigned long long t0 = cmc_now_ms();
	char err[256];
	int rc;

	vm->mig = MIG_SWITCHING;
	(void)save(v, vm);
	if (vm->has_profile && vm->staged) {
		/* Off the source first: the MAC is never live on two VFs. */
		if (cmc_blades_profile_remove(v->d->blades, vm->loc, err, sizeof(err)) < 0)
			log_warnx("VM %s: profile off %s: %s", vm->name, vm->from, err);
		if (cmc_blades_profile_set(v->d->blades, vm->dloc, &vm->prof, true, err, sizeof(err)) < 0)
			cmc_events_post(v->d->events, "migration", -1, "%s: profile on %s: %s", vm->name, vm->to, err);
		memcpy(vm->loc, vm->dloc, sizeof(vm->loc));
		vm->staged = false;
		(void)save(v, vm);
	}
	rc = vm->dst ? 0 : vm_qmp(vm, vm->to, 0, &vm->dst, err, sizeof(err));
	if (!rc)
		rc = qmp_execute(vm->dst, "cont", NULL, NULL, err, sizeof(err));
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
	if (vm->src)
		(void)!qmp_execute(vm->src, "quit", NULL, NULL, err, sizeof(err));
	close_qmps(vm);
	vm_kill(vm, vm->from);
	memcpy(vm->blade, vm->to, sizeof(vm->blade));
	vm->switch_ms = cmc_now_ms() - t0;
	vm->mig = MIG_COMPLETED;
	(void)save(v, vm);
	cmc_events_post(v->d->events, "migrated", -1,
			"%s %s -> %s over lane %s: %llu bytes in %llu ms, downtime %llu ms (+%llu ms switch-over)",
			vm->name, vm->from, vm->to, vm->lane, (unsigned long long)vm->transferred,
			(unsigned long long)vm->total_time, (unsigned long long)vm->downtime,
			(unsigned long long)vm->switch_ms);
}

/*
 * QEMU keeps a migration's parameters and capabilities for the next one: a retry given
 * no bandwidth ran at the cap of the failed attempt. So every migration sets all it relies
 * on, each time: its bandwidth (QEMU's default when none was given), the downtime limit,
 * and the capabilities: MIGRATION events on (the QMP client keeps them), return-path on
 * (the destination tells the source whether it could load the state before the source
 * calls the migration completed; set on both sides), and off those that change how the
 * state moves.
 */
static int set_parameters(struct vm *vm, char *err, size_t errlen)
{
	static const char *const caps_off[] = { "xbzrle", "auto-converge", "postcopy-ram", "multifd" };
	json_int_t bw = vm->bandwidth ? (json_int_t)vm->bandwidth * 125000 : MIG_BANDWIDTH_DEFAULT;
	json_t *params = json_pack("{s:I, s:I}", "max-bandwidth", bw, "downtime-limit", (json_int_t)MIG_DOWNTIME_MS);
	json_t *caps = json_pack("{s:[{s:s, s:b}, {s:s, s:b}]}", "capabilities", "capability", "events", "state", 1,
				 "capability", "return-path", "state", 1);
	json_t *list = json_object_get(caps, "capabilities");
	int rc = -ENOMEM;

	if (!params || !list)
		goto out;
	for (size_t i = 0; i < sizeof(caps_off) / sizeof(caps_off[0]); i++)
		if (json_array_append_new(list, json_pack("{s:s, s:b}", "capability", caps_off[i], "state", 0)) < 0)
			goto out;
	rc = qmp_execute(vm->src, "migrate-set-capabilities", caps, NULL, err, errlen);
	if (!rc)
		rc = qmp_execute(vm->src, "migrate-set-parameters", params, NULL, err, errlen);
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	json_decref(params);
	json_decref(caps);
	return rc;
}

/*
 * The destination waits on the lane's address with return-path on (it must match the
 * source's) and, where QEMU can (9.1 and later), stays up after a load that failed so
 * that it can say why (query-migrate's error-desc); an older one exits, and its log says.
 */
static int dest_listen(struct vm *vm, const char *uri, char *err, size_t errlen)
{
	json_t *caps = json_pack("{s:[{s:s, s:b}]}", "capabilities", "capability", "return-path", "state", 1);
	json_t *args = json_pack("{s:s, s:b}", "uri", uri, "exit-on-error", 0);
	int rc = -ENOMEM;

	if (!caps || !args) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = qmp_execute(vm->dst, "migrate-set-capabilities", caps, NULL, err, errlen);
	if (rc)
		goto out;
	rc = qmp_execute(vm->dst, "migrate-incoming", args, NULL, err, errlen);
	if (rc == -EREMOTEIO && strstr(err, "exit-on-error")) {
		(void)json_object_del(args, "exit-on-error");
		rc = qmp_execute(vm->dst, "migrate-incoming", args, NULL, err, errlen);
	}
out:
	json_decref(caps);
	json_decref(args);
	return rc;
}

/* Step 815: the destination is up and waiting; send the state over the lane. */
static void begin(struct cmc_vms *v, struct vm *vm)
{
	char err[256], uri[64];
	json_t *args;

	if (!vm->dst && vm_qmp(vm, vm->to, 0, &vm->dst, err, sizeof(err)) < 0) {
		/* Its pidfile and socket appear once QEMU is set up: until then, wait. */
		if (cmc_now_ms() - vm->mig_started > START_TIMEOUT_MS)
			fail(v, vm, false, "the destination QEMU did not start: %s", err);
		return;
	}
	snprintf(uri, sizeof(uri), "tcp:%s:%u", vm->dest_addr, vm->port);
	args = json_pack("{s:s}", "uri", uri);
	if (!args) {
		fail(v, vm, false, "out of memory");
		return;
	}
	if (dest_listen(vm, uri, err, sizeof(err)) < 0) {
		fail(v, vm, false, "destination: %s", err);
		goto out;
	}
	if (!vm->src && vm_qmp(vm, vm->from, 0, &vm->src, err, sizeof(err)) < 0) {
		fail(v, vm, !vm_pid(vm, vm->from), "source: %s", err);
		goto out;
	}
	if (set_parameters(vm, err, sizeof(err)) < 0) {
		fail(v, vm, false, "source: %s", err);
		goto out;
	}
	if (qmp_execute(vm->src, "migrate", args, NULL, err, sizeof(err)) < 0) {
		fail(v, vm, false, "source: %s", err);
		goto out;
	}
	vm->mig = MIG_ACTIVE;
	vm->last_progress = cmc_now_ms();
	vm->src_done = 0;
	(void)save(v, vm);
out:
	json_decref(args);
}

/* --- The destination's word ------------------------------------------------------ */

enum dest_status { DEST_LOADING, DEST_LOADED, DEST_FAILED, DEST_GONE };

/* Where the destination's incoming migration is (query-migrate over its QMP); err: what
 * it said when it did not answer. A QEMU that has exited is GONE. */
static enum dest_status dest_status(struct vm *vm, char *err, size_t errlen)
{
	char status[32] = "", e[256];
	json_t *reply = NULL;
	int rc = -ENOENT;

	if (vm->dst || vm_qmp(vm, vm->to, 0, &vm->dst, e, sizeof(e)) == 0)
		rc = qmp_execute(vm->dst, "query-migrate", NULL, &reply, e, sizeof(e));
	if (!rc)
		(void)qmp_get_str(reply, "status", status, sizeof(status));
	json_decref(reply);
	if (err)
		snprintf(err, errlen, "%s", rc ? e : status);
	if (!vm_pid(vm, vm->to))
		return DEST_GONE;
	if (strcmp(status, "completed") == 0)
		return DEST_LOADED;
	return strcmp(status, "failed") == 0 ? DEST_FAILED : DEST_LOADING;
}

/*
 * QEMU's reason for a load that failed. Its error-desc ("load of migration failed:
 * Invalid argument") says little; the line it logged names the device ("Unknown savevm
 * section or instance '0000:00:02.0/virtio-rng' 0. Make sure ..."): that line first, the
 * error-desc else. Returns its length, 0 for none.
 */
static size_t dest_reason(struct vm *vm, char *out, size_t len)
{
	char path[160], line[512];
	json_t *reply = NULL;
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
	if (!out[0] && vm->dst && qmp_execute(vm->dst, "query-migrate", NULL, &reply, line, sizeof(line)) == 0)
		(void)qmp_get_str(reply, "error-desc", out, len);
	json_decref(reply);
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

/*
 * The source has sent everything and stopped (postmigrate), but the switch-over is final
 * only once the destination has the state. With return-path the source waited for the
 * destination's word before it said completed; the destination is asked too (an older
 * QEMU, a cmcd that restarted in between), within CONFIRM_TIMEOUT_MS. Until the
 * switch-over the source can be resumed, and it is if the destination has not loaded.
 */
static void confirm(struct cmc_vms *v, struct vm *vm)
{
	char err[256];

	if (!vm->src_done)
		vm->src_done = cmc_now_ms();
	switch (dest_status(vm, err, sizeof(err))) {
	case DEST_LOADED:
		switch_over(v, vm);
		return;
	case DEST_FAILED:
		fail_unloaded(v, vm, NULL);
		return;
	case DEST_GONE:
		fail_unloaded(v, vm, "its QEMU exited");
		return;
	case DEST_LOADING:
		break;
	}
	if (cmc_now_ms() - vm->src_done > CONFIRM_TIMEOUT_MS)
		fail(v, vm, false, "the destination did not confirm it had the state within %d s (%.100s)",
		     CONFIRM_TIMEOUT_MS / 1000, err);
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

/*
 * The source did not answer this time: a slow QEMU (TCG, a busy blade) or a QMP stream
 * that broke (the client connects again at the next query). That is no progress, and it
 * counts against the no-progress budget like any; it fails nothing on its own unless the
 * source is gone.
 */
static void no_answer(struct cmc_vms *v, struct vm *vm, const char *err)
{
	if (!vm_pid(vm, vm->from))
		fail(v, vm, true, "the source QEMU died");
	else
		check_stall(v, vm, err);
}

static void follow(struct cmc_vms *v, struct vm *vm)
{
	char err[256], status[32] = "";
	json_t *reply = NULL;

	if (!vm->src && vm_qmp(vm, vm->from, 0, &vm->src, err, sizeof(err)) < 0) {
		no_answer(v, vm, err);
		return;
	}
	if (qmp_execute(vm->src, "query-migrate", NULL, &reply, err, sizeof(err)) < 0) {
		json_decref(reply);
		no_answer(v, vm, err);
		return;
	}
	(void)qmp_get_str(reply, "status", status, sizeof(status));
	read_progress(vm, reply);
	if (strcmp(status, "completed") == 0) {
		json_decref(reply);
		confirm(v, vm);
		return;
	}
	if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0 || strcmp(status, "none") == 0) {
		char desc[200] = "";
		(void)qmp_get_str(reply, "error-desc", desc, sizeof(desc));
		json_decref(reply);
		/* With return-path the source fails when the destination could not load the
		 * state ("Sibling indicated error 1"): the destination says why. */
		if (dest_status(vm, NULL, 0) == DEST_FAILED)
			fail_unloaded(v, vm, desc);
		else
			fail(v, vm, false, "QEMU reports the migration %s%s%s", status, *desc ? ": " : "", desc);
		return;
	}
	json_decref(reply);
	if (!vm_pid(vm, vm->to)) {
		fail(v, vm, false, "the destination QEMU died");
		return;
	}
	if (vm->transferred != vm->last_transferred) {
		vm->last_transferred = vm->transferred;
		vm->last_progress = cmc_now_ms();
	} else {
		check_stall(v, vm, NULL);
	}
}

static void tick(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_vms *v = arg;
	(void)loop;
	(void)t;

	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = &v->vms[i];
		if (!vm->used)
			continue;
		if (vm->mig == MIG_STARTING)
			begin(v, vm);
		else if (vm->mig == MIG_ACTIVE)
			follow(v, vm);
		else if (vm->mig == MIG_SWITCHING)
			switch_over(v, vm);
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
		    cmc_blades_lane_port(v->d->blades, vm->lane, &ls, &lp) < 0 || ls != slot || lp != pf)
			continue;
		fail(v, vm, false, "lane %s lost its card (slot %u pf %u removed)", vm->lane, slot, pf);
	}
	if (v)
		arm(v);
}

/* --- Commands ---------------------------------------------------------------------- */

static enum cmc_status vm_start(struct cmcd *d, struct cmc_api_request *req)
{
	static const char usage[] =
		"usage: vm start NAME blade B [mem MB] [mac M] [vlan X] [rate MBPS] [trusted]";
	struct cmc_vms *v = d->vms;
	struct vm n = { .used = true, .mem_mb = VM_MEM_DEFAULT, .state = VM_RUNNING }, *slot = NULL;
	char err[256];
	unsigned x;
	struct qmp *q;

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
	if (spawn_qemu(v, &n, n.blade, false, err, sizeof(err)) < 0 ||
	    vm_qmp(&n, n.blade, START_TIMEOUT_MS, &q, err, sizeof(err)) < 0) {
		vm_kill(&n, n.blade);
		if (n.has_profile)
			(void)cmc_blades_profile_remove(d->blades, n.loc, err + strlen(err), 1);
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s on %s: %s", n.name, n.blade, err);
	}
	qmp_close(q);
	*slot = n;
	if (save(v, slot) < 0) {
		vm_kill(slot, slot->blade);
		*slot = (struct vm){ 0 };
		return cmc_api_refuse(req, CMC_REFUSED, "the store refused VM %s", n.name);
	}
	cmc_events_post(d->events, "vm", -1, "%s started on %s (%u MiB)", n.name, n.blade, n.mem_mb);
	return CMC_OK;
}

static enum cmc_status vm_stop(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_vms *v = d->vms;
	struct vm *vm = find_vm(v, req->argv[2]);
	char err[256];

	if (req->argc != 3)
		return cmc_api_refuse(req, CMC_USAGE, "usage: vm stop NAME");
	if (!vm)
		return cmc_api_refuse(req, CMC_REFUSED, "no VM '%.32s'", req->argv[2]);
	if (vm->mig == MIG_STARTING || vm->mig == MIG_ACTIVE || vm->mig == MIG_SWITCHING)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is migrating to %s", vm->name, vm->to);
	if (forget(v, vm) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "the store refused the change");
	vm_kill(vm, vm->blade);
	if (vm->has_profile && cmc_blades_profile_remove(d->blades, vm->loc, err, sizeof(err)) < 0)
		log_warnx("VM %s: profile: %s", vm->name, err);
	cmc_events_post(d->events, "vm", -1, "%s stopped on %s", vm->name, vm->blade);
	*vm = (struct vm){ 0 };
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
	char err[256], lane[16], addr_from[16], addr_to[16], status[32] = "";
	json_t *reply = NULL;
	struct qmp *q;
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
	if (vm->mig == MIG_STARTING || vm->mig == MIG_ACTIVE || vm->mig == MIG_SWITCHING)
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
	/* Step 805: the source answers and runs. */
	if (vm_qmp(vm, vm->blade, 0, &q, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s on %s does not answer: %s", vm->name, vm->blade, err);
	rc = qmp_execute(q, "query-status", NULL, &reply, err, sizeof(err));
	if (!rc)
		(void)qmp_get_str(reply, "status", status, sizeof(status));
	json_decref(reply);
	qmp_close(q);
	if (rc || strcmp(status, "running") != 0)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s on %s is not running (%s)", vm->name, vm->blade,
			      rc ? err : status);
	/* Step 810: the destination's profile, staged: no MAC live there yet. */
	memcpy(vm->from, vm->blade, sizeof(vm->from));
	snprintf(vm->to, sizeof(vm->to), "%s", to);
	snprintf(vm->lane, sizeof(vm->lane), "%s", lane);
	snprintf(vm->dest_addr, sizeof(vm->dest_addr), "%s", addr_to);
	vm->port = MIGRATION_PORT + (unsigned)(vm - v->vms);
	vm->bandwidth = bw;
	vm->staged = false;
	vm->reason[0] = '\0';
	vm->transferred = vm->remaining = vm->total = vm->mbps = vm->total_time = vm->downtime = 0;
	vm->switch_ms = vm->last_transferred = 0;
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
		return cmc_api_refuse(req, CMC_REFUSED, "%s", vm->reason);
	}
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
		cmc_rec_int(req->body, "downtime_ms", (long long)(vm->downtime + vm->switch_ms));
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
	if (vm->mig == MIG_STARTING || vm->mig == MIG_ACTIVE || vm->mig == MIG_SWITCHING)
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
			vm->last_progress = cmc_now_ms();
			cmc_events_post(v->d->events, "migration", -1, "%s %s -> %s: taken up again after a restart",
					vm->name, vm->from, vm->to);
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
	resume(v);
	*out = v;
	return 0;
}

void cmc_vms_stop(struct cmcd *d, struct cmc_vms *v)
{
	if (!v)
		return;
	/* VMs run on: they are the blades', not cmcd's. */
	for (unsigned i = 0; i < VM_MAX; i++)
		close_qmps(&v->vms[i]);
	if (v->tick)
		cmc_loop_del_timer(d->loop, v->tick);
	mp_blade_backend_close(v->be);
	d->vms = NULL;
	free(v);
}
