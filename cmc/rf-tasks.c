/* SPDX-License-Identifier: MIT */
/*
 * Redfish: a VM's migration as an action that answers at once with a Task (DSP0266,
 * "Asynchronous operations"; the Task v1_7 and TaskService v1_3 schemas).
 *
 * POST Systems/<blade>/Actions/Oem/CmcVm.Migrate {"VM", "TargetBlade", "BandwidthMbps"}
 * starts the migration through cmc_vms_migrate() (vms.h), the function cmcctl migrate
 * calls: one set of checks, the same refusal texts. Accepted, it answers 202 with the Task
 * and Location: its task monitor (TaskService/TaskMonitors/<id>), which answers 202 while
 * the migration runs and 200 once it has ended.
 *
 * A task holds only which migration it follows (the VM, and the migration's start stamp);
 * every GET reads the migration's state live from the VM registry (cmc_vms_get), so no
 * timer polls anything. The end is copied into the task the first time a GET sees it, so a
 * later migration of the same VM does not rewrite an ended task. Tasks live in memory
 * (lost at a restart of cmcd: the migration itself is in the store and cmcctl migrations
 * shows it), at most RF_TASKS_MAX; a new one takes the place of the oldest ended one.
 * One Redfish service per cmcd: the table is the process's own, like the Base registry.
 */
#include "rf-tree.h"

#include "daemon.h"
#include "vms.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* More than the VMs that can migrate at once (VM_MAX, 32): an ended task is always there to
 * give way to a new one. */
#define RF_TASKS_MAX 64
#define TASKS RF_ROOT "/TaskService/Tasks"
#define MONITORS RF_ROOT "/TaskService/TaskMonitors"
#define MIGRATE_ACTION "CmcVm.Migrate"
#define TASK_EVENT_ID "TaskEvent.1.0."

struct rf_task {
	unsigned id;			/* 0: free */
	char vm[17], from[33], to[33];
	unsigned long long mig_started;	/* the migration it follows (struct cmc_vm_view) */
	time_t start, end;		/* wall clock; end 0: not seen ended */
	bool ended;
	struct cmc_vm_view last;	/* the migration as last seen (frozen once ended) */
};

static struct rf_task tasks[RF_TASKS_MAX];
static unsigned next_id = 1;

/* The task's migration now: copied from the registry while it is the same migration;
 * ended at the first look that finds it final, or gone (the VM stopped, migrated again). */
static void task_refresh(struct rf_task *t, const struct cmc_vms *v)
{
	struct cmc_vm_view now;

	if (t->ended)
		return;
	if (cmc_vms_get(v, t->vm, &now) < 0 || now.mig_started != t->mig_started) {
		t->ended = true;
		t->end = time(NULL);
		t->last.mig_final = false;
		snprintf(t->last.reason, sizeof(t->last.reason), "%s",
			 "the migration is no longer known to cmcd (the VM stopped, or migrated again before its end was read)");
		t->last.mig = "failed";
		return;
	}
	t->last = now;
	if (now.mig_final) {
		t->ended = true;
		/* A completed one ended QEMU's total time after its start; a failed one when seen. */
		t->end = strcmp(now.mig, "completed") == 0 ? t->start + (time_t)(now.total_time_ms / 1000)
							    : time(NULL);
	}
}

/* A free task, else the oldest ended one, emptied; NULL if every one still runs. */
static struct rf_task *task_new(const struct cmc_vms *v)
{
	struct rf_task *t = NULL;

	for (unsigned i = 0; i < RF_TASKS_MAX; i++)
		if (tasks[i].id)
			task_refresh(&tasks[i], v);
	for (unsigned i = 0; i < RF_TASKS_MAX && !t; i++)
		if (!tasks[i].id)
			t = &tasks[i];
	for (unsigned i = 0; i < RF_TASKS_MAX && !t; i++)
		if (tasks[i].ended && (!t || tasks[i].id < t->id))
			t = &tasks[i];
	if (!t)
		return NULL;
	*t = (struct rf_task){ .id = next_id++ };
	return t;
}

static struct rf_task *task_find(const char *id)
{
	for (unsigned i = 0; i < RF_TASKS_MAX; i++) {
		char s[16];

		snprintf(s, sizeof(s), "%u", tasks[i].id);
		if (tasks[i].id && strcmp(s, id) == 0)
			return &tasks[i];
	}
	return NULL;
}

/* --- the Task resource ------------------------------------------------------------------ */

/* A message of the TaskEvent registry (embedded, rf-data) about task id: its text is
 * "The task with Id '%1' " and then tail. */
static json_t *task_message(const char *key, const char *severity, const char *tail, const char *id)
{
	char mid[64], msg[128];

	snprintf(mid, sizeof(mid), TASK_EVENT_ID "%s", key);
	snprintf(msg, sizeof(msg), "The task with Id '%s' %s", id, tail);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:s}", "@odata.type", "#Message.v1_3_0.Message",
			 "MessageId", mid, "Message", msg, "Severity", severity, "MessageSeverity", severity,
			 "MessageArgs", id, "Resolution", "None.");
}

static void iso(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* TaskState and PercentComplete from the migration (starting, active, switching, completed,
 * failed: cmcctl migrations' words). */
static const char *task_state(const struct rf_task *t, unsigned *pct)
{
	const struct cmc_vm_view *m = &t->last;
	uint64_t p = m->total ? m->transferred * 100 / m->total : 0;

	*pct = p > 99 ? 99 : (unsigned)p;
	if (strcmp(m->mig, "completed") == 0 && t->ended) {
		*pct = 100;
		return "Completed";
	}
	if (t->ended)
		return "Exception";
	if (strcmp(m->mig, "starting") == 0)
		return "Starting";
	return strcmp(m->mig, "failed") == 0 ? "Stopping" : "Running";	/* failing: putting back */
}

static json_t *task_json(const struct rf_task *t)
{
	char id[16], name[128], when[32];
	unsigned pct;
	const char *state = task_state(t, &pct);
	bool ok = strcmp(state, "Exception") != 0;
	json_t *j, *msgs;

	snprintf(id, sizeof(id), "%u", t->id);
	snprintf(name, sizeof(name), "Migrate VM %s from %s to %s", t->vm, t->from, t->to);
	j = rf_resource("Task.v1_7_4.Task", id, name, TASKS "/%u", t->id);
	if (!j)
		return NULL;
	msgs = json_pack("[o]", task_message("TaskStarted", "OK", "has started.", id));
	if (t->ended && ok)
		json_array_append_new(msgs, task_message("TaskCompletedOK", "OK", "has completed.", id));
	if (!ok) {
		json_array_append_new(msgs, task_message("TaskAborted", "Critical",
							 "has completed with errors.", id));
		json_array_append_new(msgs, rf_message("GeneralError", NULL, 1, t->last.reason));
	}
	iso(t->start, when);
	json_object_set_new(j, "TaskState", json_string(state));
	json_object_set_new(j, "TaskStatus", json_string(ok ? "OK" : "Critical"));
	json_object_set_new(j, "PercentComplete", json_integer(pct));
	json_object_set_new(j, "StartTime", json_string(when));
	if (t->ended) {
		iso(t->end, when);
		json_object_set_new(j, "EndTime", json_string(when));
	}
	json_object_set_new(j, "TaskMonitor", json_sprintf(MONITORS "/%u", t->id));
	json_object_set_new(j, "Messages", msgs);
	json_object_set_new(j, "Oem", json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}}", "Cmc",
		"@odata.type", "#CmcOem.v1_0_0.Task", "VM", t->vm, "From", t->from, "To", t->to,
		"Lane", t->last.lane, "MigrationState", t->last.mig,
		"TransferredBytes", (json_int_t)t->last.transferred, "TotalBytes", (json_int_t)t->last.total));
	if (t->last.reason[0])
		json_object_set_new(json_object_get(json_object_get(j, "Oem"), "Cmc"), "Reason",
				    json_string(t->last.reason));
	return j;
}

int rf_tasks_get(const struct rf_ctx *c, const struct rf_path *p, struct rf_doc *doc)
{
	struct rf_task *t;
	json_t *j;

	if (p->n == 1) {
		j = rf_resource("TaskService.v1_3_0.TaskService", "TaskService", "Task service",
				RF_ROOT "/TaskService");
		json_object_set_new(j, "ServiceEnabled", json_true());
		/* The oldest ended task gives way (rf-tasks.c): DSP0266's Oldest policy. */
		json_object_set_new(j, "CompletedTaskOverWritePolicy", json_string("Oldest"));
		json_object_set_new(j, "LifeCycleEventOnTaskStateChange", json_false());
		json_object_set_new(j, "Status", rf_status("Enabled", "OK"));
		json_object_set_new(j, "Tasks", rf_link(TASKS));
		return rf_done(doc, j, "TaskService.v1_3_0.json");
	}
	if (p->n == 2 && strcmp(p->seg[1], "Tasks") == 0) {
		j = rf_collection("TaskCollection", "Tasks", TASKS);
		for (unsigned i = 0; i < RF_TASKS_MAX; i++)
			if (tasks[i].id)
				rf_member(j, rf_link(TASKS "/%u", tasks[i].id));
		return rf_done(doc, j, "TaskCollection.json");
	}
	if (p->n != 3 || !(t = task_find(p->seg[2])) ||
	    (strcmp(p->seg[1], "Tasks") != 0 && strcmp(p->seg[1], "TaskMonitors") != 0))
		return -ENOENT;
	task_refresh(t, c->d->vms);
	if (strcmp(p->seg[1], "TaskMonitors") == 0 && !t->ended)
		doc->code = 202;	/* the monitor: still running */
	return rf_done(doc, task_json(t), "Task.v1_7_4.json");
}

/* --- the action ---------------------------------------------------------------------------- */

/* A string parameter of the action; NULL (w refused) when missing or not a string. */
static const char *param_str(struct rf_write *w, const char *name)
{
	json_t *v = json_object_get(w->body, name);
	char rel[48];

	snprintf(rel, sizeof(rel), "#/%s", name);
	if (!v) {
		rf_fail(w, 400, rf_message("ActionParameterMissing", rel, 2, w->action, name));
		return NULL;
	}
	if (!json_is_string(v)) {
		rf_fail(w, 400, rf_message("ActionParameterValueTypeError", rel, 3, "(value)", name, w->action));
		return NULL;
	}
	return json_string_value(v);
}

/* The parameters: VM, TargetBlade (strings), BandwidthMbps (1..10000, optional). False
 * (w refused, every problem named) if any is wrong. */
static bool migrate_params(struct rf_write *w, const char **vm, const char **to, unsigned *bw)
{
	json_t *b = json_object_get(w->body, "BandwidthMbps");
	const char *key;
	json_t *v;

	json_object_foreach(w->body, key, v)
		if (strcmp(key, "VM") != 0 && strcmp(key, "TargetBlade") != 0 && strcmp(key, "BandwidthMbps") != 0)
			rf_fail(w, 400, rf_message("ActionParameterUnknown", NULL, 2, w->action, key));
	*vm = param_str(w, "VM");
	*to = param_str(w, "TargetBlade");
	*bw = 0;
	if (b && !json_is_integer(b)) {
		rf_fail(w, 400, rf_message("ActionParameterValueTypeError", "#/BandwidthMbps", 3, "(value)",
					   "BandwidthMbps", w->action));
	} else if (b && (json_integer_value(b) < 1 || json_integer_value(b) > 10000)) {
		char s[24];
		snprintf(s, sizeof(s), "%lld", (long long)json_integer_value(b));
		rf_fail(w, 400, rf_message("ActionParameterValueOutOfRange", "#/BandwidthMbps", 3, s,
					   "BandwidthMbps", w->action));
	} else if (b) {
		*bw = (unsigned)json_integer_value(b);
	}
	return !w->messages;
}

int rf_vm_migrate(struct rf_write *w, const char *blade)
{
	struct cmcd *d = w->c->d;
	const char *vm, *to;
	struct cmc_vm_view now;
	struct rf_task *t;
	char err[256];
	unsigned bw;
	int rc;

	if (!cmc_config_blade_by_name(d->config, blade) || strcmp(w->action, "Oem/" MIGRATE_ACTION) != 0)
		return -ENOENT;
	if (!migrate_params(w, &vm, &to, &bw))
		return 0;
	char bws[24] = "";
	if (bw)
		snprintf(bws, sizeof(bws), " bandwidth %u", bw);
	snprintf(w->what, sizeof(w->what), "migrate %.16s from %s to %.32s%s", vm, blade, to, bws);
	/* The action is the VM's host's: a VM elsewhere is not this system's to move. */
	if (cmc_vms_get(d->vms, vm, &now) == 0 && strcmp(now.blade, blade) != 0) {
		snprintf(err, sizeof(err), "VM %s runs on %s, not %s", vm, now.blade, blade);
		rf_refuse(w, -EINVAL, err);
		return 0;
	}
	rc = cmc_vms_migrate(d, vm, to, bw, err, sizeof(err));
	if (rc < 0) {
		rf_refuse(w, rc, err);
		return 0;
	}
	t = task_new(d->vms);
	if (!t || cmc_vms_get(d->vms, vm, &now) < 0) {
		/* Started, but no task to follow it with (cannot happen: see RF_TASKS_MAX). */
		rf_fail(w, 500, rf_message("GeneralError", NULL, 1,
					   "the migration started, but no task could follow it: see cmcctl migrations"));
		return 0;
	}
	snprintf(t->vm, sizeof(t->vm), "%s", vm);
	snprintf(t->from, sizeof(t->from), "%s", blade);
	snprintf(t->to, sizeof(t->to), "%s", to);
	t->mig_started = now.mig_started;
	t->start = time(NULL);
	t->last = now;
	w->code = 202;
	w->answer = task_json(t);
	snprintf(w->location, sizeof(w->location), MONITORS "/%u", t->id);
	return 0;
}

/* The action as the blade's ComputerSystem lists it (Actions.Oem). */
json_t *rf_vm_actions(const struct rf_ctx *c, const char *blade)
{
	const struct cmc_config *cfg = c->d->config;
	json_t *to = json_array();
	char target[160];

	for (unsigned i = 0; i < cfg->blade_count; i++)
		if (strcmp(cfg->blades[i].name, blade) != 0)
			json_array_append_new(to, json_string(cfg->blades[i].name));
	snprintf(target, sizeof(target), RF_ROOT "/Systems/%s/Actions/Oem/" MIGRATE_ACTION, blade);
	return json_pack("{s:{s:s, s:o}}", "#" MIGRATE_ACTION, "target", target,
			 "TargetBlade@Redfish.AllowableValues", to);
}
