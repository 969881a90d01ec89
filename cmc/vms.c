/* SPDX-License-Identifier: MIT */
/*
 * The VM registry (vm.h): the VMs cmcd knows, by name, and their records in the store:
 * vm/NAME (where it runs, its profile) and migration/NAME (its last migration, the
 * failure's reason last), written at every step of a migration so that a cmcd killed in
 * the middle takes it up again where QEMU is.
 */
#include "vm.h"

#include "daemon.h"
#include "log.h"
#include "vbridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const vm_state_names[] = { "running", "migrating", "lost", "starting", "stopping" };
const char *const mig_state_names[] = { "none", "starting", "active", "switching", "completed", "failed" };

bool vm_name_ok(const char *s)
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

struct vm *vm_find(struct cmc_vms *v, const char *name)
{
	for (unsigned i = 0; v && i < VM_MAX; i++)
		if (v->vms[i].used && strcmp(v->vms[i].name, name) == 0)
			return &v->vms[i];
	return NULL;
}

bool vm_migrating(const struct vm *vm)
{
	return vm->mig == MIG_STARTING || vm->mig == MIG_ACTIVE || vm->mig == MIG_SWITCHING;
}

uint64_t vm_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- The store ---------------------------------------------------------------------- */

void vm_loc_str(const unsigned loc[3], char *buf, size_t len)
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
int vm_stage(struct cmc_vms *v, struct vm *vm)
{
	struct cmcd *d = v->d;
	char key[64], val[1024], mac[18], loc[24], dloc[24], reason[sizeof(vm->reason)];
	/* A VM starting or stopping is not in the store yet / any more: say running; one that
	 * cmcd is starting again after its blade failed is lost until it runs. */
	enum vm_state st = vm->restart ? VM_LOST
			   : vm->state == VM_STARTING || vm->state == VM_STOPPING ? VM_RUNNING : vm->state;
	int rc;

	snprintf(key, sizeof(key), "vm/%s", vm->name);
	vm_loc_str(vm->loc, loc, sizeof(loc));
	snprintf(val, sizeof(val), "blade=%s mem=%u profile=%d mac=%s vlan=%u rate=%u trusted=%d loc=%s state=%s ip=%s tmpl=%s restart=%d",
		 vm->blade, vm->mem_mb, vm->has_profile, vb_mac_str(vm->prof.mac, mac), vm->prof.vlan,
		 vm->prof.rate, vm->prof.trusted, loc, vm_state_names[st], vm->ip[0] ? vm->ip : "-",
		 vm->prof.tmpl[0] ? vm->prof.tmpl : "-", vm->restart);
	rc = cmc_store_set(d->store, key, val);
	if (!rc && vm->mig != MIG_NONE) {
		snprintf(key, sizeof(key), "migration/%s", vm->name);
		vm_loc_str(vm->dloc, dloc, sizeof(dloc));
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

int vm_save(struct cmc_vms *v, struct vm *vm)
{
	struct cmcd *d = v->d;
	int rc = vm_stage(v, vm);

	if (!rc)
		rc = cmc_store_commit(d->store);
	if (rc) {
		cmc_store_rollback(d->store);
		log_warnx("store: VM %s: %s", vm->name, cmc_store_error(d->store));
	}
	return rc;
}

int vm_forget(struct cmc_vms *v, struct vm *vm)
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
	if (cmc_store_field(value, "ip", n.ip, sizeof(n.ip)) < 0 || strcmp(n.ip, "-") == 0)
		n.ip[0] = '\0';
	/* tmpl= came later: a record without it names no template. */
	if (cmc_store_field(value, "tmpl", n.prof.tmpl, sizeof(n.prof.tmpl)) < 0 || strcmp(n.prof.tmpl, "-") == 0)
		n.prof.tmpl[0] = '\0';
	n.restart = kv_u64(value, "restart") != 0;	/* restart= came later: none is 0 */
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
	struct vm *vm = vm_find(v, key + strlen("migration/"));
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

void vm_load_all(struct cmc_vms *v)
{
	(void)cmc_store_foreach(v->d->store, "vm/", load_vm, v);
	(void)cmc_store_foreach(v->d->store, "migration/", load_migration, v);
}
