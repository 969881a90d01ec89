/* SPDX-License-Identifier: MIT */
/*
 * The VM commands (vm start | stop, vms, migrate, migrations, profile) and the VMs' part
 * of cmcd (vms.h): start, stop, the tick that runs while anything is under way, and the
 * hooks through which the QEMU driver (qemu.c) reports up. `vm start` and `vm stop`
 * answer once done, through a deferred reply (api.h): the loop never waits for a QEMU.
 */
#include "vms.h"
#include "vm.h"

#include "args.h"

#include "blade.h"
#include "daemon.h"
#include "errf.h"
#include "log.h"
#include "vbridge.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool blade_known(const struct cmcd *d, const char *blade)
{
	return cmc_config_blade_by_name(d->config, blade) != NULL;
}

static bool wants_tick(const struct cmc_vms *v)
{
	for (unsigned i = 0; i < REAP_MAX; i++)
		if (v->reaps[i].pid)
			return true;
	for (unsigned i = 0; i < VM_MAX; i++) {
		const struct vm *vm = &v->vms[i];

		if (vm->used && (vm_migrating(vm) || vm->failing || vm->src.q || vm->dst.q || vm->net_wait))
			return true;
	}
	return false;
}

/* The tick runs while anything is under way; an idle cmcd sleeps. */
static void arm(struct cmc_vms *v)
{
	(void)!cmc_timer_arm(v->tick, wants_tick(v) ? TICK_MS : 0, 0);
}

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

/*
 * A start that failed (its port, its QEMU, its QMP, the store). A VM of `vm start` goes:
 * it was never stored; its profile goes too and the command's answer says why. A VM
 * started again after its blade failed (vm->restart) stays, stopped: lost in the store
 * on its new blade with its VF, the reason in its note and a "vm-restart-failed" event.
 */
static void start_failed(struct cmc_vms *v, struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void start_failed(struct cmc_vms *v, struct vm *vm, const char *fmt, ...)
{
	char msg[200], e[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm->net_wait = 0;
	qc_close(v, &vm->src);
	qemu_reap(v, vm_pid(vm, vm->blade), SIGKILL, NULL);
	if (vm->restart) {
		vm->restart = false;
		vm->state = VM_LOST;
		snprintf(vm->note, sizeof(vm->note), "not started again: %.130s", msg);
		if (vm_save(v, vm) < 0)
			log_warnx("VM %s: stays marked to start again in the store", vm->name);
		cmc_events_post(v->d->events, "vm-restart-failed", -1, "%s on %s: %s", vm->name, vm->blade, msg);
		return;
	}
	if (vm->has_profile && cmc_blades_profile_remove(v->d->blades, vm->loc, e, sizeof(e)) < 0)
		log_warnx("VM %s: profile: %s", vm->name, e);
	answer(vm, CMC_REFUSED, "VM %s on %s: %s", vm->name, vm->blade, msg);
	*vm = (struct vm){ 0 };
}

/* A start: its QEMU answers QMP (or gave up). */
static void started(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	bool again = vm->restart;

	(void)reply;
	qc_close(v, &vm->src);
	if (rc) {
		start_failed(v, vm, "%s", err);
		return;
	}
	vm->state = VM_RUNNING;
	vm->restart = false;
	if (vm_save(v, vm) < 0) {
		vm->restart = again;
		start_failed(v, vm, "the store refused it");
		return;
	}
	if (again)
		cmc_events_post(v->d->events, "vm-restart", -1, "%s runs again on %s (%u MiB), %s", vm->name, vm->blade,
				vm->mem_mb, vm->note);
	else
		cmc_events_post(v->d->events, "vm", -1, "%s started on %s (%u MiB)", vm->name, vm->blade, vm->mem_mb);
	answer(vm, CMC_OK, "%s", "");
}

/* vm stop: its QEMU has gone. */
static void stop_done(struct cmc_vms *v, struct vm *vm)
{
	(void)v;
	answer(vm, CMC_OK, "%s", "");
	*vm = (struct vm){ 0 };
}

/* The QEMU driver's reports (qemu.c, through struct cmc_vms' hooks). */
static void on_lost(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *err)
{
	if (vm->state == VM_STARTING) {
		qc_close(v, c);
		started(v, vm, -ECONNRESET, NULL, err);
		return;
	}
	mig_conn_lost(v, vm, c, err);
}

static void on_reaped(struct cmc_vms *v, struct vm *vm)
{
	if (vm->state == VM_STOPPING)
		stop_done(v, vm);
	else
		mig_reaped(v, vm);
}

/*
 * A VM's template (template.h): the one it names (`template T`), else the one its MAC
 * carries, else none. A template owns the VLAN, rate and trust: giving them too is
 * refused, as are an unknown template, a MAC that carries an id no template has, and
 * a MAC that carries another template than the one named. 0, or -errno with err.
 */
static int vm_template(struct cmcd *d, struct vm *n, bool settings, char *err, size_t errlen)
{
	char named[CMC_TEMPLATE_NAME_MAX + 1];
	const struct cmc_intent *in = cmc_blades_intent(d->blades);
	const struct cmc_template *t = NULL, *coded = NULL;
	char ms[VB_MAC_STRLEN];
	int rc;

	snprintf(named, sizeof(named), "%s", n->prof.tmpl);
	n->prof.tmpl[0] = '\0';
	if (named[0] && !n->has_profile)
		return cmc_errf(err, errlen, -EINVAL, "a template needs the VM's MAC (mac M)");
	if (!n->has_profile)
		return 0;
	if (named[0] && !(t = cmc_intent_template(in, named)))
		return cmc_errf(err, errlen, -ENOENT, "no template '%.32s'", named);
	rc = cmc_intent_template_of_mac(in, n->prof.mac, &coded, err, errlen);
	if (rc)
		return rc;
	if (t && coded && t != coded)
		return cmc_errf(err, errlen, -EINVAL, "MAC %s carries template %s, not %s", vb_mac_str(n->prof.mac, ms),
				coded->name, t->name);
	t = t ? t : coded;
	if (t && settings)
		return cmc_errf(err, errlen, -EINVAL, "VM %s's VLAN, rate and trust are template %s's", n->name,
				t->name);
	if (t) {
		snprintf(n->prof.tmpl, sizeof(n->prof.tmpl), "%s", t->name);
		n->prof.vlan = t->vlan;
		n->prof.rate = t->rate;
		n->prof.trusted = t->trusted;
	}
	return 0;
}

#define VM_START_USAGE "usage: vm start NAME blade B [mem MB] [mac M [ip A.B.C.D] [vlan X] [rate MBPS] [trusted] [template T]]"

/* The VM that has IPv4 address ip, other than self; NULL: none. */
static const struct vm *ip_owner(const struct cmc_vms *v, const char *ip, const struct vm *self)
{
	for (unsigned i = 0; ip[0] && i < VM_MAX; i++)
		if (v->vms[i].used && &v->vms[i] != self && strcmp(v->vms[i].ip, ip) == 0)
			return &v->vms[i];
	return NULL;
}

/* settings: VLAN, rate or trust given (a template owns them). */
static enum cmc_status start_parse(struct cmc_api_request *req, struct vm *n, bool *settings)
{
	unsigned vlan = 0;
	struct cmc_arg args[] = {
		{ "blade", CMC_ARG_WORD, 0, sizeof(n->blade) - 1, true, n->blade, NULL, false },
		{ "mem", CMC_ARG_UINT, 16, 4096, false, &n->mem_mb, "a memory size in MiB (16-4096)", false },
		{ "mac", CMC_ARG_MAC, 0, 0, false, n->prof.mac, "a unicast MAC address", false },
		{ "vlan", CMC_ARG_UINT, 1, 3999, false, &vlan, "a VLAN id (1-3999)", false },
		{ "rate", CMC_ARG_UINT, 0, 1000, false, &n->prof.rate, "a rate in Mbit/s (0-1000)", false },
		{ "trusted", CMC_ARG_FLAG, 0, 0, false, &n->prof.trusted, NULL, false },
		{ "ip", CMC_ARG_IPV4, 0, 0, false, n->ip, "a host's IPv4 address", false },
		{ "template", CMC_ARG_WORD, 0, sizeof(n->prof.tmpl) - 1, false, n->prof.tmpl, NULL, false },
	};
	enum cmc_status st = cmc_args_parse(req, 3, args, sizeof(args) / sizeof(args[0]), VM_START_USAGE);

	n->prof.vlan = (uint16_t)vlan;
	n->has_profile = args[2].seen;
	*settings = args[3].seen || args[4].seen || args[5].seen;
	return st;
}

/* A start: QEMU goes (its port is ready, or it has none); the outcome once its QMP is up. */
static void start_spawn(struct cmc_vms *v, struct vm *vm)
{
	char err[256];

	if (qemu_spawn(v, vm, vm->blade, false, err, sizeof(err)) < 0) {
		start_failed(v, vm, "%s", err);
		return;
	}
	qc_open(v, vm, &vm->src, vm->blade, START_TIMEOUT_MS, started);
}

/*
 * Starts a VM in its slot (state VM_STARTING, its network settings, if any, live on its VF
 * at loc): its port on its blade first (then the tick: port_wait), then its QEMU
 * (start_spawn), then its QMP (started). The one start that `vm start` and a restart
 * after a failover (cmc_vms_restart) share: the outcome goes to vm->req when a command
 * waits for it, else to an event (start_failed, started).
 */
static void launch(struct cmc_vms *v, struct vm *vm)
{
	char err[256];

	if (!vm->has_profile)
		start_spawn(v, vm);
	else if (cmc_blades_vmport_add(v->d->blades, vm->loc, vm->prof.mac, err, sizeof(err)) < 0)
		start_failed(v, vm, "%s", err);
	else
		vm->net_wait = cmc_now_ms();
	arm(v);
}

static enum cmc_status vm_start(struct cmcd *d, struct cmc_api_request *req)
{
	bool settings;
	struct cmc_vms *v = d->vms;
	struct vm n = { .used = true, .mem_mb = VM_MEM_DEFAULT, .state = VM_RUNNING }, *slot = NULL;
	const struct vm *other;
	enum cmc_status st;
	char err[256];

	if (req->argc < 5)
		return cmc_api_refuse(req, CMC_USAGE, "%s", VM_START_USAGE);
	if (!vm_name_ok(req->argv[2]))
		return cmc_api_refuse(req, CMC_REFUSED, "'%.32s' is not a VM name (1-%d of a-z A-Z 0-9 - _)", req->argv[2],
			      VM_NAME_MAX);
	snprintf(n.name, sizeof(n.name), "%s", req->argv[2]);
	st = start_parse(req, &n, &settings);
	if (st != CMC_OK)
		return st;
	if (!blade_known(d, n.blade))
		return cmc_api_refuse(req, CMC_REFUSED, "no blade '%s' in this chassis", n.blade);
	if (vm_find(v, n.name))
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s exists (on %s)", n.name, vm_find(v, n.name)->blade);
	if ((n.prof.vlan || n.prof.rate || n.prof.trusted || n.ip[0]) && !n.has_profile)
		return cmc_api_refuse(req, CMC_REFUSED, "a VLAN, rate, trust or IPv4 address needs the VM's MAC (mac M)");
	other = ip_owner(v, n.ip, NULL);
	if (other)
		return cmc_api_refuse(req, CMC_REFUSED, "IPv4 address %s is VM %s's", n.ip, other->name);
	if (vm_template(d, &n, settings, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	for (unsigned i = 0; i < VM_MAX && !slot; i++)
		if (!v->vms[i].used)
			slot = &v->vms[i];
	if (!slot)
		return cmc_api_refuse(req, CMC_REFUSED, "too many VMs (%d)", VM_MAX);
	if (n.has_profile &&
	    cmc_blades_profile_add(d->blades, n.name, n.blade, &n.prof, true, n.loc, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	/* The answer once its QMP is up (nested TCG: seconds); the loop goes on meanwhile. */
	n.state = VM_STARTING;
	*slot = n;
	slot->req = cmc_api_defer(req);
	launch(v, slot);
	return CMC_OK;
}

static enum cmc_status vm_stop(struct cmcd *d, struct cmc_api_request *req)
{
	struct cmc_vms *v = d->vms;
	struct vm *vm = vm_find(v, req->argv[2]);
	char err[256];
	pid_t pid;

	if (req->argc != 3)
		return cmc_api_refuse(req, CMC_USAGE, "usage: vm stop NAME");
	if (!vm)
		return cmc_api_refuse(req, CMC_REFUSED, "no VM '%.32s'", req->argv[2]);
	if (vm_migrating(vm) || vm->failing)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is migrating to %s", vm->name, vm->to);
	if (vm->state == VM_STARTING || vm->state == VM_STOPPING)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is %s", vm->name, vm_state_names[vm->state]);
	if (vm_forget(v, vm) < 0)
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
	qemu_reap(v, pid, SIGTERM, vm);
	arm(v);
	return CMC_OK;
}

/* vm start NAME blade B [...] | stop NAME */
static enum cmc_status vm_set(struct cmcd *d, struct cmc_api_request *req);

enum cmc_status cmc_cmd_vm(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	if (!d->vms || !d->blades)
		return cmc_api_refuse(req, CMC_REFUSED, "VMs are not available");
	if (strcmp(req->argv[1], "start") == 0)
		return vm_start(d, req);
	if (strcmp(req->argv[1], "stop") == 0 && req->argc >= 3)
		return vm_stop(d, req);
	if (strcmp(req->argv[1], "set") == 0 && req->argc >= 3)
		return vm_set(d, req);
	return cmc_api_refuse(req, CMC_USAGE, "%s | vm stop NAME | vm set NAME rate MBPS", VM_START_USAGE);
}

/* A templated VM's VLAN, rate and trust as its template has them now (a template set
 * since it started changed its VF; the VM's own record follows at its next save). */
static void vm_prof_now(struct cmcd *d, struct vm *vm)
{
	const struct cmc_template *t;

	if (!vm->has_profile || !vm->prof.tmpl[0] || !d->blades)
		return;
	t = cmc_intent_template(cmc_blades_intent(d->blades), vm->prof.tmpl);
	if (!t)
		return;
	vm->prof.vlan = t->vlan;
	vm->prof.rate = t->rate;
	vm->prof.trusted = t->trusted;
}

enum cmc_status cmc_cmd_vms(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;

	for (unsigned i = 0; d->vms && i < VM_MAX; i++) {
		struct vm *vm = &d->vms->vms[i];
		char mac[18], loc[24];

		if (!vm->used)
			continue;
		vm_loc_str(vm->loc, loc, sizeof(loc));
		cmc_rec_begin(req->body, "vm");
		cmc_rec_str(req->body, "vm", vm->name);
		cmc_rec_str(req->body, "blade", vm->blade);
		cmc_rec_str(req->body, "state", vm_state_names[vm->state]);
		cmc_rec_int(req->body, "mem", vm->mem_mb);
		cmc_rec_int(req->body, "pid", vm_pid(vm, vm->blade));
		cmc_rec_str(req->body, "mac", vm->has_profile ? vb_mac_str(vm->prof.mac, mac) : "-");
		vm_prof_now(d, vm);
		cmc_rec_int(req->body, "vlan", vm->prof.vlan);
		cmc_rec_int(req->body, "rate", vm->prof.rate);
		cmc_rec_str(req->body, "template", vm->prof.tmpl[0] ? vm->prof.tmpl : "-");
		cmc_rec_str(req->body, "vf", vm->has_profile ? loc : "-");
		cmc_rec_str(req->body, "ip", vm->ip[0] ? vm->ip : "-");
		cmc_rec_str(req->body, "note", vm->note[0] ? vm->note : "-");
		cmc_rec_end(req->body);
	}
	return CMC_OK;
}

/* A refusal of cmc_vms_migrate(): rc, with err saying why. */
static int refuse(int rc, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int refuse(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* A migration's destination QEMU starts (its port, if any, is ready): towards step 825.
 * 0, or -EIO (the migration failed, vm->reason says why). */
static int dest_go(struct cmc_vms *v, struct vm *vm)
{
	char e[256];

	if (qemu_spawn(v, vm, vm->to, true, e, sizeof(e)) < 0) {
		mig_fail(v, vm, false, "destination QEMU: %s", e);
		arm(v);
		return -EIO;
	}
	/* The source answering and the destination waiting go on from the loop; the caller
	 * follows the migration. */
	mig_begin(v, vm);
	cmc_events_post(v->d->events, "migration", -1, "%s %s -> %s over lane %s (%s:%u)", vm->name, vm->from,
			vm->to, vm->lane, vm->dest_addr, vm->port);
	return 0;
}

/*
 * A VM waiting for its port on a blade (vm start: its blade; a migration: the
 * destination's, staged): once ready its QEMU starts; a port that failed or is not
 * ready within VMPORT_TIMEOUT_MS fails the start or the migration. From the tick.
 */
static void port_wait(struct cmc_vms *v, struct vm *vm)
{
	bool mig = vm->state == VM_MIGRATING;
	char err[256];
	int rc = cmc_blades_vmport_state(v->d->blades, mig ? vm->dloc : vm->loc, err, sizeof(err));

	if (rc == 0 && cmc_now_ms() - vm->net_wait < VMPORT_TIMEOUT_MS)
		return;
	vm->net_wait = 0;
	if (rc == 0)
		snprintf(err, sizeof(err), "not ready in %d s", VMPORT_TIMEOUT_MS / 1000);
	if (mig && rc == 1)
		(void)dest_go(v, vm);
	else if (mig)
		mig_fail(v, vm, false, "the destination's port for the VM: %s", err);
	else if (rc == 1)
		start_spawn(v, vm);
	else
		start_failed(v, vm, "its port: %s", err);
}

/* The checks of a migration, before anything moves (vms.h cmc_vms_migrate). */
static int migrate_check(struct cmcd *d, struct vm *vm, const char *name, const char *to, char *lane,
			 char *addr_to, char *err, size_t errlen)
{
	char addr_from[16];
	int rc;

	if (!vm)
		return refuse(-ENOENT, err, errlen, "no VM '%.32s'", name);
	if (vm_migrating(vm) || vm->failing)
		return refuse(-EBUSY, err, errlen, "VM %s is already migrating to %s", vm->name, vm->to);
	if (vm->state != VM_RUNNING)
		return refuse(-EBUSY, err, errlen, "VM %s is %s%s%s", vm->name, vm_state_names[vm->state],
			      vm->note[0] ? ": " : "", vm->note);
	if (!blade_known(d, to))
		return refuse(-ENOENT, err, errlen, "no blade '%.32s' in this chassis", to);
	if (strcmp(to, vm->blade) == 0)
		return refuse(-EINVAL, err, errlen, "VM %s already runs on %s", vm->name, to);
	rc = cmc_blades_lane_between(d->blades, vm->blade, to, lane, addr_from, addr_to);
	if (rc == -ENOENT)
		return refuse(-ENOLINK, err, errlen, "no lane between %s and %s (cmcctl lane create NAME %s %s)",
			      vm->blade, to, vm->blade, to);
	if (rc == -EAGAIN)
		return refuse(-ENOLINK, err, errlen, "lane %s is not up yet (its VFs are not in their blades)", lane);
	return 0;
}

int cmc_vms_migrate(struct cmcd *d, const char *name, const char *to, unsigned bw, char *err, size_t errlen)
{
	struct cmc_vms *v = d->vms;
	struct vm *vm;
	char e[256], lane[16] = "", addr_to[16] = "";
	int rc;

	if (!v || !d->blades)
		return refuse(-ENODEV, err, errlen, "VMs are not available");
	vm = vm_find(v, name);
	rc = migrate_check(d, vm, name, to, lane, addr_to, err, errlen);
	if (rc)
		return rc;
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
		if (cmc_blades_profile_add(d->blades, vm->name, to, &vm->prof, false, vm->dloc, e, sizeof(e)) < 0)
			return refuse(-EBUSY, err, errlen, "cannot stage VM %s's profile on %s: %s", vm->name, to, e);
		vm->staged = true;
		/* Pre-provisioning: the destination's port (bridge, tap, the VM's MAC pinned)
		 * is built before its QEMU starts, so before any state moves; it is not live
		 * until the switch-over puts the VM's entry on the card. */
		if (cmc_blades_vmport_add(d->blades, vm->dloc, vm->prof.mac, e, sizeof(e)) < 0) {
			(void)cmc_blades_profile_remove(d->blades, vm->dloc, e + strlen(e), 1);
			vm->staged = false;
			return refuse(-EIO, err, errlen, "VM %s's port on %s: %s", vm->name, to, e);
		}
	}
	vm->mig = MIG_STARTING;
	vm->state = VM_MIGRATING;
	vm->mig_started = cmc_now_ms();
	snprintf(e, sizeof(e), "the store refused it");
	if (vm_save(v, vm) < 0) {
		mig_fail(v, vm, false, "destination QEMU: %s", e);
		arm(v);
		return refuse(-EIO, err, errlen, "%s", vm->reason);
	}
	/* The destination's QEMU once its port is ready (the tick: port_wait), else now. */
	if (vm->has_profile)
		vm->net_wait = cmc_now_ms();
	else if (dest_go(v, vm) < 0)
		return refuse(-EIO, err, errlen, "%s", vm->reason);
	arm(v);
	return 0;
}

/* migrate NAME to BLADE [bandwidth MBPS] */
enum cmc_status cmc_cmd_migrate(void *ctx, struct cmc_api_request *req)
{
	struct cmcd *d = ctx;
	char err[256];
	unsigned bw = 0;

	if (!d->vms || !d->blades)
		return cmc_api_refuse(req, CMC_REFUSED, "VMs are not available");
	if ((req->argc != 4 && req->argc != 6) || strcmp(req->argv[2], "to") != 0 ||
	    (req->argc == 6 && (strcmp(req->argv[4], "bandwidth") != 0 || cmc_api_parse_uint(req->argv[5], 10000, &bw) || !bw)))
		return cmc_api_refuse(req, CMC_USAGE, "usage: migrate VM --to BLADE [bandwidth MBPS]");
	if (cmc_vms_migrate(d, req->argv[1], req->argv[3], bw, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	return CMC_OK;
}

static void view(const struct vm *vm, struct cmc_vm_view *out)
{
	_Static_assert(sizeof(out->name) == sizeof(vm->name) && sizeof(out->blade) == sizeof(vm->blade) &&
		       sizeof(out->reason) == sizeof(vm->reason) && sizeof(out->lane) == sizeof(vm->lane),
		       "struct cmc_vm_view holds what struct vm has");
	*out = (struct cmc_vm_view){ .state = vm_state_names[vm->state], .mem_mb = vm->mem_mb,
				     .has_profile = vm->has_profile, .mig = mig_state_names[vm->mig],
				     .mig_final = (vm->mig == MIG_COMPLETED || vm->mig == MIG_FAILED) &&
						  !vm->failing,
				     .transferred = vm->transferred, .total = vm->total,
				     .total_time_ms = vm->total_time,
				     .mig_started = vm->mig_started };
	memcpy(out->name, vm->name, sizeof(out->name));
	memcpy(out->blade, vm->blade, sizeof(out->blade));
	memcpy(out->from, vm->from, sizeof(out->from));
	memcpy(out->to, vm->to, sizeof(out->to));
	memcpy(out->lane, vm->lane, sizeof(out->lane));
	memcpy(out->reason, vm->reason, sizeof(out->reason));
}

int cmc_vms_get(const struct cmc_vms *v, const char *name, struct cmc_vm_view *out)
{
	for (unsigned i = 0; v && i < VM_MAX; i++)
		if (v->vms[i].used && strcmp(v->vms[i].name, name) == 0) {
			view(&v->vms[i], out);
			return 0;
		}
	return -ENOENT;
}

int cmc_vms_at(const struct cmc_vms *v, unsigned i, struct cmc_vm_view *out)
{
	if (!v || i >= VM_MAX)
		return -ENOENT;
	if (!v->vms[i].used)
		return -ESRCH;
	view(&v->vms[i], out);
	return 0;
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

/* vm set VM rate R: a running VM's bandwidth on the VF that carries its network
 * settings ("profile set" until server profiles took that word, issue #15) */
static enum cmc_status vm_set(struct cmcd *d, struct cmc_api_request *req)
{
	struct vm *vm = vm_find(d->vms, req->argv[2]);
	struct cmc_profile p;
	char err[256];
	unsigned rate;

	if (req->argc != 5 || strcmp(req->argv[1], "set") != 0 || strcmp(req->argv[3], "rate") != 0 ||
	    cmc_api_parse_uint(req->argv[4], 1000, &rate))
		return cmc_api_refuse(req, CMC_USAGE, "usage: vm set VM rate MBPS (0-1000, 0 = unlimited)");
	if (!vm)
		return cmc_api_refuse(req, CMC_REFUSED, "no VM '%.32s'", req->argv[2]);
	if (!vm->has_profile)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s has no network settings (start it with a MAC)", vm->name);
	if (vm->prof.tmpl[0])
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s's rate is template %s's (cmcctl template set %s rate R)",
				      vm->name, vm->prof.tmpl, vm->prof.tmpl);
	if (vm_migrating(vm) || vm->failing)
		return cmc_api_refuse(req, CMC_REFUSED, "VM %s is migrating; set its rate after", vm->name);
	p = vm->prof;
	p.rate = rate;
	if (cmc_blades_profile_set(d->blades, vm->loc, &p, true, err, sizeof(err)) < 0)
		return cmc_api_refuse(req, CMC_REFUSED, "%s", err);
	vm->prof = p;
	(void)vm_save(d->vms, vm);
	cmc_events_post(d->events, "vm-rate", -1, "%s: rate %u Mbit/s", vm->name, rate);
	return CMC_OK;
}

/* --- Start and stop --------------------------------------------------------------- */

static void tick(struct cmc_loop *loop, struct cmc_timer *t, void *arg)
{
	struct cmc_vms *v = arg;
	(void)loop;
	(void)t;

	qemu_reap_due(v);
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = &v->vms[i];

		if (!vm->used)
			continue;
		if (vm->net_wait) {
			port_wait(v, vm);
			if (!vm->used)
				continue;
		}
		qc_due(v, &vm->src);
		qc_due(v, &vm->dst);
		if (vm->mig == MIG_ACTIVE && !vm->failing)
			mig_follow(v, vm);
		mig_fail_check(v, vm);
	}
	arm(v);
}

/* A VM that cmcd was starting again on a spare when it stopped (vms.h cmc_vms_restart):
 * started now, unless its QEMU got as far as running there (then it is running). */
static void resume_restart(struct cmc_vms *v, struct vm *vm)
{
	char err[256];

	if (!vm_pid(vm, vm->blade)) {
		vm->state = VM_STARTING;
		snprintf(vm->note, sizeof(vm->note), "started again after its blade failed (cmcd restarted meanwhile): "
			 "what ran in it was lost");
		launch(v, vm);
		return;
	}
	if (vm->has_profile && cmc_blades_vmport_add(v->d->blades, vm->loc, vm->prof.mac, err, sizeof(err)) < 0)
		log_warnx("VM %s: its port: %s", vm->name, err);
	vm->restart = false;
	vm->state = VM_RUNNING;
	(void)vm_save(v, vm);
	cmc_events_post(v->d->events, "vm-restart", -1, "%s runs again on %s (found running at cmcd's start)",
			vm->name, vm->blade);
}

/* After a restart: where is each VM now? A migration in flight is taken up again. */
static void resume(struct cmc_vms *v)
{
	char err[256];

	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = &v->vms[i];

		if (!vm->used)
			continue;
		if (vm->restart) {
			resume_restart(v, vm);
			continue;
		}
		/* Its ports are the blades' and outlived cmcd: asked again (each is kept as it
		 * is), so that cmcd knows them and they go when the VM leaves. */
		if (vm->state != VM_LOST && vm->has_profile &&
		    cmc_blades_vmport_add(v->d->blades, vm->loc, vm->prof.mac, err, sizeof(err)) < 0)
			log_warnx("VM %s: its port: %s", vm->name, err);
		if (vm->state == VM_MIGRATING && vm->staged &&
		    cmc_blades_vmport_add(v->d->blades, vm->dloc, vm->prof.mac, err, sizeof(err)) < 0)
			log_warnx("VM %s: its port on %s: %s", vm->name, vm->to, err);
		if (vm->mig != MIG_NONE && vm->mig != MIG_COMPLETED && vm->mig != MIG_FAILED) {
			mig_resume(v, vm);
			continue;
		}
		if (vm->state == VM_RUNNING && !vm_pid(vm, vm->blade)) {
			vm->state = VM_LOST;
			snprintf(vm->note, sizeof(vm->note), "its QEMU on %s is gone", vm->blade);
			(void)vm_save(v, vm);
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
	v->hooks = (struct vm_hooks){ .event = mig_event, .lost = on_lost, .reaped = on_reaped, .arm = arm };
	vm_load_all(v);
	d->vms = v;
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
	if (v->tick)
		cmc_loop_del_timer(d->loop, v->tick);
	mp_blade_backend_close(v->be);
	d->vms = NULL;
	free(v);
}

/* --- Started again after a failover (vms.h cmc_vms_restart) ------------------------------ */

unsigned cmc_vms_on_blade(const struct cmc_vms *v, const char *blade, char *buf, size_t len)
{
	unsigned n = 0;
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; v && i < VM_MAX; i++) {
		const struct vm *vm = &v->vms[i];

		if (!vm->used || strcmp(vm->blade, blade) != 0)
			continue;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", n ? ", " : "", vm->name);
		n++;
	}
	return n;
}

/* Its record and its MAC go to `spare` in one store transaction (the staged VF there goes
 * live, its VF on the failed blade is taken back: cmc_blades_profile_move). 0, or -errno
 * with err: nothing moved. */
static int restart_move(struct cmc_vms *v, struct vm *vm, const char *spare, char *err, size_t errlen)
{
	struct cmc_blades *b = v->d->blades;
	struct vm was = *vm;
	unsigned nloc[3];
	int rc;

	if (!vm->has_profile) {
		snprintf(vm->blade, sizeof(vm->blade), "%s", spare);
		rc = vm_save(v, vm);
		if (rc) {
			*vm = was;
			snprintf(err, errlen, "the store refused it");
		}
		return rc;
	}
	vm_prof_now(v->d, vm);
	rc = cmc_blades_profile_add(b, vm->name, spare, &vm->prof, false, nloc, err, errlen);
	if (rc)
		return rc;
	snprintf(vm->blade, sizeof(vm->blade), "%s", spare);
	memcpy(vm->loc, nloc, sizeof(nloc));
	rc = vm_stage(v, vm);
	if (!rc)
		rc = cmc_blades_profile_move(b, was.loc, nloc, &vm->prof, err, errlen);
	else
		snprintf(err, errlen, "the store refused it");
	/* -EIO with the old VF gone: committed, a card did not take it (applied at the next
	 * start); with the old VF still the VM's, nothing was committed. */
	if (rc && cmc_intent_assignment(cmc_blades_intent(b), was.loc[0], was.loc[1], was.loc[2])) {
		char e[128];

		cmc_store_rollback(v->d->store);
		if (cmc_blades_profile_remove(b, nloc, e, sizeof(e)) < 0)
			log_warnx("VM %s: its staged VF on %s: %s", vm->name, spare, e);
		*vm = was;
		return rc;
	}
	cmc_blades_tidy(b);
	return 0;
}

/* One VM of a failed blade (vms.h cmc_vms_restart). */
static void restart_one(struct cmc_vms *v, struct vm *vm, const char *spare)
{
	char failed[sizeof(vm->blade)], err[256];

	snprintf(failed, sizeof(failed), "%s", vm->blade);
	/* A hung blade's QEMU may still run: it goes first (no VM on two blades). */
	qc_close(v, &vm->src);
	qc_close(v, &vm->dst);
	qemu_reap(v, vm_pid(vm, failed), SIGKILL, NULL);
	/* The VMs' backend entered the failed blade to start that QEMU and holds its namespace:
	 * asked, it lets go of one whose name is gone (blade.h), so that the namespace ends
	 * and its VFs' netdevs come home, where the spare can have them. */
	if (v->be) {
		bool up;

		(void)!mp_blade_health(v->be, failed, &up, err, sizeof(err));
	}
	vm->restart = true;
	snprintf(vm->note, sizeof(vm->note), "started again after %s failed: what ran in it was lost with it", failed);
	if (restart_move(v, vm, spare, err, sizeof(err)) < 0) {
		vm->restart = false;
		vm->state = VM_LOST;
		snprintf(vm->note, sizeof(vm->note), "its blade %s failed; not started again on %s: %.80s", failed, spare,
			 err);
		(void)vm_save(v, vm);
		cmc_events_post(v->d->events, "vm-restart-failed", -1, "%s: not started again on %s: %s", vm->name, spare,
				err);
		return;
	}
	cmc_events_post(v->d->events, "vm-restart", -1, "%s: starting again on %s from its configuration (%s failed, "
			"what ran in it was lost)", vm->name, spare, failed);
	vm->state = VM_STARTING;
	launch(v, vm);
}

int cmc_vms_restart(struct cmcd *d, const char *failed, const char *spare)
{
	struct cmc_vms *v = d->vms;
	int n = 0;

	for (unsigned i = 0; v && d->blades && i < VM_MAX; i++) {
		struct vm *vm = &v->vms[i];

		if (!vm->used || strcmp(vm->blade, failed) != 0 || vm_migrating(vm) || vm->failing ||
		    (vm->state != VM_RUNNING && vm->state != VM_LOST))
			continue;
		restart_one(v, vm, spare);
		n++;
	}
	if (v)
		arm(v);
	return n;
}
