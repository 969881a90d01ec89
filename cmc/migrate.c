/* SPDX-License-Identifier: MIT */
/*
 * The migration state machine (vm.h), US 9,218,303 FIG. 8: the shared card (805), the VFs
 * (810: the lane's, and the profile staged on a VF of the destination, everything but the
 * MAC) and the bridges between the blades (815: the lane) are the command's to check
 * (vm-cmd.c), on a midplane port whose link does not depend on cables (820). Here: the
 * destination's QEMU waiting for the state (-incoming defer, -S) on the lane's address,
 * the state copied over the lane (825; return-path and events on at both ends), and once
 * both ends say "completed" (QEMU's MIGRATION events) the copy activated (830: the MAC
 * moves, one store commit and two VF writes, and the destination resumes); the previous
 * VM terminated (835: the source's figures, its quit and its VF's way home, as cleanup). A failure before the switch-over
 * leaves the VM running on the source (resumed if QEMU had paused it).
 */
#include "vm.h"
#include "vms.h"

#include "blade.h"
#include "daemon.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void finish_migration(struct cmc_vms *v, struct vm *vm);

/* Once mig_fail() has put everything back (the destination gone, the source resumed or lost),
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
	(void)vm_save(v, vm);
	cmc_events_post(v->d->events, "migration-failed", -1, "%s %s -> %s: %s; %s", vm->name, vm->from,
			vm->to, vm->reason, lost ? "the VM is lost" : "the VM runs on the source");
}

void mig_fail_check(struct cmc_vms *v, struct vm *vm)
{
	if (vm->failing && !vm->fail_setup && !qemu_reaping(v, vm) && !vm->src.nops)
		fail_done(v, vm);
}

static void failed_cont(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (rc)
		log_warnx("VM %s: resuming it on %s: %s", vm->name, vm->from, err);
	mig_fail_check(v, vm);
}

/* The source after a failure: resumed if QEMU had paused it. */
static void failed_status(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char status[32] = "";

	if (!rc && !qmp_get_str(reply, "status", status, sizeof(status)) && strcmp(status, "running") != 0)
		qc_call(v, &vm->src, "cont", NULL, failed_cont);
	else if (rc)
		log_warnx("VM %s: its state on %s after the failure: %s", vm->name, vm->from, err);
	mig_fail_check(v, vm);
}

static void failed_src_up(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (rc) {
		log_warnx("VM %s: the source does not answer after the failure: %s", vm->name, err);
		mig_fail_check(v, vm);
	}
}

/*
 * Before the switch-over, a failure leaves the VM where it was: the destination goes
 * (killed: it never ran), the staged profile goes, the source carries on (migrate_cancel,
 * and cont if QEMU had paused it). Nothing waits: the failure is final (fail_done) once
 * the destination has gone and the source has answered.
 */
void mig_fail(struct cmc_vms *v, struct vm *vm, bool source_dead, const char *fmt, ...)
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
	vm->net_wait = 0;
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
	qemu_reap(v, vm_pid(vm, vm->to), SIGKILL, vm);
	vm->fail_setup = false;
	mig_fail_check(v, vm);
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

/* The source's last figures (its downtime), then it quits: cleanup, after the VM runs. */
static void source_final(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)err;
	if (!rc)
		read_progress(vm, reply);
	finish_migration(v, vm);
}

/* The source VF's netdev out of the source's blade (cleanup: the MAC left it already). */
static void source_vf_home(struct cmc_vms *v, struct vm *vm)
{
	if (!vm->old_loc_set)
		return;
	vm->old_loc_set = false;
	cmc_blades_tidy(v->d->blades);
}

/* The source quits (SIGTERM: QEMU shuts down cleanly); once it has gone, migration_done. */
static void finish_migration(struct cmc_vms *v, struct vm *vm)
{
	qc_close(v, &vm->src);
	if (vm->dst.nops)
		vm->dst.close_when_idle = true;	/* its announce-self still goes */
	else
		qc_close(v, &vm->dst);
	source_vf_home(v, vm);
	qemu_reap(v, vm_pid(vm, vm->from), SIGTERM, vm);
}

/* t - t0 in ms, or -1 if either is unknown (0). */
static double since_ms(uint64_t t0, uint64_t t)
{
	return t0 && t ? ((double)t - (double)t0) / 1000.0 : -1.0;
}

/*
 * The switch-over's timeline, for setting a network outage beside it (bench/vm-outage.pl,
 * doc/vm-network.md): from the source's STOP (QEMU's stamp, UTC), when the source said
 * completed, the destination said it had the state, cmcd sent cont (the MAC moved) and
 * the destination resumed (its RESUME), in ms; -1 for what was not seen.
 */
static void post_timeline(struct cmc_vms *v, struct vm *vm)
{
	uint64_t t0 = vm->stop_us;
	long long day_ms = (long long)(t0 / 1000u % 86400000u);

	if (!t0)
		return;
	cmc_events_post(v->d->events, "migration", -1,
			"%s timeline: source STOP at %02lld:%02lld:%02lld.%03lld UTC; source completed +%.1f ms, "
			"destination loaded +%.1f, cont sent +%.1f, destination RESUME +%.1f",
			vm->name, day_ms / 3600000, day_ms / 60000 % 60, day_ms / 1000 % 60, day_ms % 1000,
			since_ms(t0, vm->src_done_us), since_ms(t0, vm->dst_done_us), since_ms(t0, vm->sw_moved_us),
			since_ms(t0, vm->resume_us));
}

/* Completed: the VM runs on the destination and nothing of it is left on the source. */
void mig_done(struct cmc_vms *v, struct vm *vm)
{
	uint64_t done = vm->src_done_us, seen = vm->sw_seen_us, moved = vm->sw_moved_us;

	vm->mig = MIG_COMPLETED;
	(void)vm_save(v, vm);

	cmc_events_post(v->d->events, "migrated", -1,
			"%s %s -> %s over lane %s: %llu bytes in %llu ms, downtime %llu ms (QEMU's %llu ms + "
			"%.1f ms from completed to cont answered: %.1f to act, %.1f moving the MAC, %.1f for cont)",
			vm->name, vm->from, vm->to, vm->lane, (unsigned long long)vm->transferred,
			(unsigned long long)vm->total_time, (unsigned long long)(vm->downtime + (vm->switch_us + 500) / 1000),
			(unsigned long long)vm->downtime, vm->switch_us / 1000.0,
			done && seen > done ? (seen - done) / 1000.0 : 0.0, moved > seen ? (moved - seen) / 1000.0 : 0.0,
			done && vm->switch_us && done + vm->switch_us > moved ? (done + vm->switch_us - moved) / 1000.0 : 0.0);
	post_timeline(v, vm);
}

/*
 * The destination has the state but did not resume, and the source is still there
 * (stopped, resumable): the switch-over is undone. The destination goes first (never two
 * copies running), the profile goes back to a VF of the source's blade, and mig_fail()
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
					   sizeof(err)) < 0 ||
		    cmc_blades_vmport_add(v->d->blades, vm->loc, vm->prof.mac, err, sizeof(err)) < 0)
			cmc_events_post(v->d->events, "migration", -1, "%s: profile back on %s: %s", vm->name,
					vm->from, err);
	}
	vm->old_loc_set = false;
	memcpy(vm->blade, vm->from, sizeof(vm->blade));
	mig_fail(v, vm, false, "the destination did not resume: %s", why);
}

static void announced(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)v;
	(void)reply;
	if (rc)
		log_warnx("VM %s: announce-self on %s: %s", vm->name, vm->to, err);
}

/*
 * The VM runs on the destination: it announces itself (QMP announce-self: gratuitous
 * RARPs from its MAC out of its NIC), so that switches beyond the uplink learn where it
 * is now; inside the chassis the card's entry moved already. Asked as soon as cont is
 * answered (QEMU answers once the VM runs), before the switch-over's cleanup, so its
 * first round leaves as the VM resumes. QEMU's own rounds after an incoming
 * migration are kept, but they start when the state is loaded, while the VM is still
 * paused; this is one more series, starting at once: 5 rounds, 50 ms apart, then
 * 100 ms more each (qapi/net.json AnnounceParameters).
 */
static void announce(struct cmc_vms *v, struct vm *vm)
{
	if (!vm->has_profile)
		return;
	qc_call(v, &vm->dst, "announce-self",
		json_pack("{s:i, s:i, s:i, s:i}", "initial", 50, "max", 550, "rounds", 5, "step", 100), announced);
}

static void dest_resumed(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	uint64_t now = vm_wall_us();

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
		announce(v, vm);
	}
	memcpy(vm->blade, vm->to, sizeof(vm->blade));
	/* Everything from here is cleanup: the VM runs (or is lost) already. */
	if (vm->src.q && vm->src.up)
		qc_call(v, &vm->src, "query-migrate", NULL, source_final);
	else
		finish_migration(v, vm);
}

/*
 * Step 830: the source has stopped and sent everything (825), the destination has loaded
 * it. All that can happen before is done (the profile staged on the destination's VF, its
 * QEMU connected); what remains is the MAC (one store commit that also records the
 * switch-over, two VF writes: cmc_blades_profile_move) and `cont`.
 */
static void switch_over(struct cmc_vms *v, struct vm *vm)
{
	char err[256];
	int rc, staged;

	vm->mig = MIG_SWITCHING;
	vm->resumed = false;
	vm->sw_seen_us = vm_wall_us();
	if (vm->has_profile && vm->staged) {
		memcpy(vm->old_loc, vm->loc, sizeof(vm->old_loc));
		memcpy(vm->loc, vm->dloc, sizeof(vm->loc));
		vm->staged = false;
		vm->old_loc_set = true;
		staged = vm_stage(v, vm);
		if (staged) {
			rc = staged;
			snprintf(err, sizeof(err), "the store refused VM %s's records", vm->name);
		} else {
			rc = cmc_blades_profile_move(v->d->blades, vm->old_loc, vm->dloc, &vm->prof, err, sizeof(err));
		}
		/* Not committed (nothing moved): the source carries on. */
		if (staged || rc == -EIO || (rc && cmc_store_dirty(v->d->store))) {
			cmc_store_rollback(v->d->store);
			memcpy(vm->loc, vm->old_loc, sizeof(vm->loc));
			vm->staged = true;
			vm->old_loc_set = false;
			mig_fail(v, vm, false, "the switch-over: %s", err);
			return;
		}
		if (rc)
			cmc_events_post(v->d->events, "migration", -1, "%s: profile on %s: %s", vm->name, vm->to, err);
	} else {
		(void)vm_save(v, vm);
	}
	vm->sw_moved_us = vm_wall_us();
	qc_call(v, &vm->dst, "cont", NULL, dest_resumed);
}

static void maybe_switch(struct cmc_vms *v, struct vm *vm)
{
	if (vm->mig == MIG_ACTIVE && !vm->failing && vm->src_done && vm->dst_done)
		switch_over(v, vm);
}

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
	mig_fail(v, vm, false, "the destination could not load the state: %s", why);
}

/* A migration's own state from a MIGRATION event or a query-migrate ("status"). */
static void source_status(struct cmc_vms *v, struct vm *vm, const char *status, const char *desc, uint64_t ts_us)
{
	if (strcmp(status, "completed") == 0) {
		if (!vm->src_done) {
			vm->src_done = cmc_now_ms();
			vm->src_done_us = ts_us ? ts_us : vm_wall_us();
		}
		maybe_switch(v, vm);
	} else if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0) {
		/* With return-path the source fails when the destination could not load the
		 * state ("Sibling indicated error 1"): the destination's log says why. */
		char why[200];

		if (dest_reason(vm, why, sizeof(why)))
			fail_unloaded(v, vm, desc);
		else
			mig_fail(v, vm, false, "QEMU reports the migration %s%s%s", status, desc && *desc ? ": " : "",
			     desc ? desc : "");
	}
}

static void dest_status(struct cmc_vms *v, struct vm *vm, const char *status, uint64_t ts_us)
{
	if (strcmp(status, "completed") == 0) {
		if (!vm->dst_done)
			vm->dst_done_us = ts_us ? ts_us : vm_wall_us();
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

/*
 * QEMU's events: MIGRATION (its state, on both sides) is how cmcd learns of completion.
 * The source's STOP and the destination's RESUME only mark the switch-over's timeline.
 */
void mig_event(struct cmc_vms *v, struct vm *vm, struct qconn *c, json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	char status[32] = "";

	if (!name || vm->failing)
		return;
	if (strcmp(name, "STOP") == 0 && c == &vm->src && vm->mig == MIG_ACTIVE && !vm->stop_us)
		vm->stop_us = event_us(ev);
	if (strcmp(name, "RESUME") == 0 && c == &vm->dst && vm->mig == MIG_SWITCHING && !vm->resume_us)
		vm->resume_us = event_us(ev);
	if (strcmp(name, "MIGRATION") != 0 || vm->mig != MIG_ACTIVE ||
	    qmp_get_str(ev, "data.status", status, sizeof(status)) < 0)
		return;
	if (c == &vm->src)
		source_status(v, vm, status, NULL, event_us(ev));
	else
		dest_status(v, vm, status, event_us(ev));
}


/*
 * Whether the lane's VFs are in their blades. While cmcd puts them back (after it
 * restarted: the VFs were re-created; a card back), the stream cannot move and TCP backs
 * off: that time is not the stream's, up to LANE_BACK_TIMEOUT_MS. 0, or the migration
 * failed.
 */
static int lane_back(struct cmc_vms *v, struct vm *vm)
{
	char lane[16], a[16], z[16];
	unsigned long long now = cmc_now_ms();

	if (cmc_blades_lane_between(v->d->blades, vm->from, vm->to, lane, a, z) != -EAGAIN) {
		vm->lane_down_since = 0;
		return 0;
	}
	if (!vm->lane_down_since)
		vm->lane_down_since = now;
	if (now - vm->lane_down_since > LANE_BACK_TIMEOUT_MS) {
		mig_fail(v, vm, false, "lane %s: its VFs not back in their blades for %d s", vm->lane,
			 LANE_BACK_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	vm->last_progress = now;
	return 0;
}

/* No byte moved since last_progress: past the budget, the migration fails. why: what
 * the source's QMP said when it did not answer this time, or NULL. */
static void check_stall(struct cmc_vms *v, struct vm *vm, const char *why)
{
	if (lane_back(v, vm) < 0 || cmc_now_ms() - vm->last_progress <= STALL_TIMEOUT_MS)
		return;
	mig_fail(v, vm, false, "no progress for %d s: is lane %s down?%s%.120s%s", STALL_TIMEOUT_MS / 1000, vm->lane,
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
		dest_status(v, vm, status, 0);
}

/* A QMP stream broke: the QEMU behind it is gone, or will be asked again. */
void mig_conn_lost(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *err)
{
	bool dst = c == &vm->dst;

	log_debug("VM %s: QMP on %s: %s", vm->name, c->blade, err);
	qc_close(v, c);
	if (vm->failing) {
		mig_fail_check(v, vm);
		return;
	}
	if (vm->mig == MIG_STARTING) {
		mig_fail(v, vm, !dst && !vm_pid(vm, vm->from), "%s: %s", dst ? "destination" : "source", err);
	} else if (vm->mig == MIG_ACTIVE && dst) {
		if (vm->src_done)
			fail_unloaded(v, vm, "its QEMU exited");
		else
			mig_fail(v, vm, false, "the destination QEMU died");
	} else if (vm->mig == MIG_ACTIVE) {
		vm->src_lost = cmc_now_ms();	/* the tick decides: dead, or connect again */
	} else if (vm->mig == MIG_SWITCHING && dst && !vm->resumed) {
		dest_resumed(v, vm, -ECONNRESET, NULL, err);
	} else if (vm->mig == MIG_SWITCHING && !dst && vm->resumed) {
		finish_migration(v, vm);
	}
}

/* Every TICK_MS while a migration runs: the figures, the destination's word, the QEMUs. */
void mig_follow(struct cmc_vms *v, struct vm *vm)
{
	unsigned long long now = cmc_now_ms();

	if (vm->src_lost && !vm->src.q) {
		if (!vm_pid(vm, vm->from)) {
			mig_fail(v, vm, true, "the source QEMU died");
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
			mig_fail(v, vm, false, "the destination QEMU died");
		return;
	}
	if (vm->src_done && !vm->dst_done) {
		if (now - vm->src_done > CONFIRM_TIMEOUT_MS) {
			mig_fail(v, vm, false, "the destination did not confirm it had the state within %d s",
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

static void migrating_now(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (vm->mig != MIG_STARTING || vm->failing)
		return;
	if (rc) {
		mig_fail(v, vm, false, "source: %s", err);
		return;
	}
	vm->mig = MIG_ACTIVE;
	vm->last_progress = vm->last_query = cmc_now_ms();
	vm->lane_down_since = 0;
	(void)vm_save(v, vm);
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
		mig_fail(v, vm, false, "source: %s", err);
}

/* Step 825: both ends are ready; copy the state over the lane. */
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
		mig_fail(v, vm, false, "out of memory");
		return;
	}
	vm->src_done = 0;
	vm->src_done_us = 0;
	vm->stop_us = vm->dst_done_us = vm->resume_us = 0;
	vm->dst_done = false;
	qc_call(v, &vm->src, "migrate-set-capabilities", caps, source_configured);
	qc_call(v, &vm->src, "migrate-set-parameters", params, source_configured);
	qc_call(v, &vm->src, "migrate", json_pack("{s:s}", "uri", uri), migrating_now);
}

/* Before step 825: the source answers and runs. */
static void source_runs(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char status[32] = "";

	if (vm->mig != MIG_STARTING || vm->failing)
		return;
	if (!rc)
		(void)qmp_get_str(reply, "status", status, sizeof(status));
	if (rc || strcmp(status, "running") != 0) {
		mig_fail(v, vm, !vm_pid(vm, vm->from), "VM %s on %s is not running (%s)", vm->name, vm->from,
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
		mig_fail(v, vm, !vm_pid(vm, vm->from), "VM %s on %s does not answer: %s", vm->name, vm->from, err);
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
		mig_fail(v, vm, false, "destination: %s", err);
		return;
	}
	vm->dst_listening = true;
	send_state(v, vm);
}

static void dest_configured(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	(void)reply;
	if (vm->mig == MIG_STARTING && !vm->failing && rc)
		mig_fail(v, vm, false, "destination: %s", err);
}

/* Before step 825: the destination's QEMU is up (or gave up). */
static void dest_up(struct cmc_vms *v, struct vm *vm, int rc, json_t *reply, const char *err)
{
	char uri[64];

	(void)reply;
	if (vm->mig != MIG_STARTING || vm->failing)
		return;
	if (rc) {
		mig_fail(v, vm, false, "the destination QEMU did not start: %s", err);
		return;
	}
	snprintf(uri, sizeof(uri), "tcp:%s:%u", vm->dest_addr, vm->port);
	qc_call(v, &vm->dst, "migrate-set-capabilities", capabilities(false), dest_configured);
	qc_call(v, &vm->dst, "migrate-incoming", json_pack("{s:s, s:b}", "uri", uri, "exit-on-error", 0),
		dest_listening);
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
		mig_fail(v, vm, false, "lane %s lost its card (slot %u pf %u removed)", vm->lane, slot, pf);
	}
	if (v)
		v->hooks.arm(v);
}

/* A QEMU the migration let go of has gone: the source after the switch-over, the
 * destination after a failure. */
void mig_reaped(struct cmc_vms *v, struct vm *vm)
{
	if (vm->mig == MIG_SWITCHING && vm->resumed)
		mig_done(v, vm);
	else
		mig_fail_check(v, vm);
}

/*
 * Towards step 825, from the loop: the source answers and runs, the destination waits for
 * the state (its QEMU started, the profile staged: step 810).
 */
void mig_begin(struct cmc_vms *v, struct vm *vm)
{
	qc_open(v, vm, &vm->src, vm->from, QMP_TIMEOUT_MS, source_up);
	qc_call(v, &vm->src, "query-status", NULL, source_runs);
	qc_open(v, vm, &vm->dst, vm->to, START_TIMEOUT_MS, dest_up);
}

/* After a restart of cmcd: a migration in flight is taken up again where QEMU is. */
void mig_resume(struct cmc_vms *v, struct vm *vm)
{
	if (vm->mig == MIG_STARTING) {
		/* The state had not started to move: start over cleanly. */
		mig_fail(v, vm, !vm_pid(vm, vm->from), "cmcd restarted before the state began to move");
		return;
	}
	if (vm->mig != MIG_ACTIVE && vm->mig != MIG_SWITCHING)
		return;
	/* Events sent while no cmcd listened are lost: the tick asks both QEMUs. */
	vm->last_progress = cmc_now_ms();
	vm->lane_down_since = 0;
	qc_open(v, vm, &vm->src, vm->from, QMP_TIMEOUT_MS, NULL);
	qc_open(v, vm, &vm->dst, vm->to, QMP_TIMEOUT_MS, NULL);
	cmc_events_post(v->d->events, "migration", -1, "%s %s -> %s: taken up again after a restart",
			vm->name, vm->from, vm->to);
	if (vm->mig == MIG_SWITCHING) {
		/* The profile had moved (the same commit said so): resume the destination. */
		vm->src_done = cmc_now_ms();
		vm->src_done_us = vm_wall_us();
		switch_over(v, vm);
	}
}
