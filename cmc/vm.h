/* SPDX-License-Identifier: MIT */
/*
 * Private to the VM files of cmc/ (not a library interface), top to bottom:
 *   vm-cmd.c   the commands, the tick, the hooks; cmcd's entry points (vms.h)
 *   migrate.c  the migration state machine (US 9,218,303 FIG. 8)
 *   qemu.c     the QEMU driver: a QEMU started on its blade, watched until it has gone,
 *              its QMP sockets on cmcd's event loop (nothing waits); reports up through
 *              struct vm_hooks
 *   vms.c      the VM registry: the VMs by name, their records in the store
 * No call goes up this list: vm-cmd.c calls the three others, migrate.c calls qemu.c and
 * vms.c, qemu.c and vms.c call none of them.
 */
#ifndef CMC_VM_H
#define CMC_VM_H

#include "api.h"
#include "blades.h"
#include "config.h"
#include "loop.h"
#include "qmp.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
/* A VM's port on its blade (bridge, tap: the blade worker): its retries and a last try. */
#define VMPORT_TIMEOUT_MS (CMC_BLADES_VMPORT_RETRY_MS + 2000)
#define STALL_TIMEOUT_MS 20000		/* no byte moved for this long: the lane is down */
#define LANE_BACK_TIMEOUT_MS 60000	/* the lane's VFs being put back (cmcd restarted, a card
					 * back) for longer: the migration fails */
#define MIGRATION_PORT 4444
#define MIG_BANDWIDTH_DEFAULT (128 << 20)	/* bytes/s: QEMU's own default max-bandwidth */
#define MIG_DOWNTIME_MS 300			/* QEMU's own default downtime-limit */
#define CONFIRM_TIMEOUT_MS 10000	/* the source is done: the destination must say it has the state */
#define QUIT_TIMEOUT_MS 1000		/* a QEMU asked to go and still there: SIGKILL */
#define QOPS_MAX 8
#define REAP_MAX (2 * VM_MAX)

enum vm_state { VM_RUNNING, VM_MIGRATING, VM_LOST, VM_STARTING, VM_STOPPING };
extern const char *const vm_state_names[];	/* by enum vm_state */

enum mig_state { MIG_NONE, MIG_STARTING, MIG_ACTIVE, MIG_SWITCHING, MIG_COMPLETED, MIG_FAILED };
extern const char *const mig_state_names[];	/* by enum mig_state: the store's and cmcctl's words */

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
	struct cmc_vms *v;
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
	char ip[16];			/* its IPv4 address (the payload's ip=), "" none */
	unsigned long long net_wait;	/* waiting for its port (on loc, or dloc migrating) since, ms; 0 not */
	enum vm_state state;
	bool restart;			/* to be started again on its blade by cmcd (its blade failed:
					 * cmc_vms_restart); stored as state=lost restart=1 */
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
	unsigned long long lane_down_since;	/* its lane's VFs not in their blades since (ms; 0: in) */
	uint64_t total, transferred, remaining, mbps, total_time, downtime, last_transferred;
	uint64_t switch_us;		/* source "completed" to the destination's cont answered */
	uint64_t sw_seen_us, sw_moved_us;	/* of which: until cmcd acted, the MAC moved (wall clock) */
	char reason[256];
	bool src_ok, dst_listening;	/* before the state moves: source runs, destination waits */
	bool dst_done;			/* the destination said it has the state (its MIGRATION event) */
	unsigned long long src_done;	/* when the source said completed (ms, monotonic; 0: not yet) */
	uint64_t src_done_us;		/* the same, QEMU's timestamp (µs, wall clock) */
	/* The switch-over's timeline, QEMU's event stamps (µs, wall clock; 0: not seen): the
	 * source's STOP, the destination's "completed" and its RESUME (migrate.c). */
	uint64_t stop_us, dst_done_us, resume_us;
	bool failing;			/* fail() is putting things back; then it is final */
	bool fail_setup;		/* inside fail(): not final before it has asked everything */
	bool resumed;			/* the switch-over's cont has been answered */
	unsigned long long src_lost;	/* the source's QMP broke at (ms) */
	struct qconn src, dst;		/* src: the VM's QEMU (its only one outside a migration) */
};

struct reap {
	pid_t pid;
	unsigned long long kill_at;
	struct vm *vm;			/* told when gone (vm stop), or NULL */
};

/* What the QEMU driver reports up (set by vm-cmd.c): no call of qemu.c goes up by name. */
struct vm_hooks {
	void (*event)(struct cmc_vms *v, struct vm *vm, struct qconn *c, json_t *ev);	/* an event */
	void (*lost)(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *err);	/* stream broke */
	void (*reaped)(struct cmc_vms *v, struct vm *vm);	/* a QEMU qemu_reap() watched has gone */
	void (*arm)(struct cmc_vms *v);			/* something changed: the tick decides */
};

struct cmc_vms {
	struct cmcd *d;
	struct vm_hooks hooks;
	struct mp_blade_backend *be;
	struct cmc_timer *tick;
	const char *qemu, *kernel;
	struct vm vms[VM_MAX];
	struct reap reaps[REAP_MAX];
};

/* --- vms.c: the registry ------------------------------------------------------------- */

bool vm_name_ok(const char *s);
struct vm *vm_find(struct cmc_vms *v, const char *name);	/* NULL: none */
bool vm_migrating(const struct vm *vm);		/* starting, active or switching over */
uint64_t vm_wall_us(void);			/* wall clock, µs (as QEMU stamps its events) */
void vm_loc_str(const unsigned loc[3], char *buf, size_t len);
/* The VM's records (vm/NAME, migration/NAME) into the store: vm_stage() without commit
 * (a later commit carries them), vm_save() committed (0, or -errno: rolled back, logged). */
int vm_stage(struct cmc_vms *v, struct vm *vm);
int vm_save(struct cmc_vms *v, struct vm *vm);
int vm_forget(struct cmc_vms *v, struct vm *vm);
void vm_load_all(struct cmc_vms *v);		/* the VMs and migrations of the store */

/* --- qemu.c: the QEMU driver ------------------------------------------------------------ */

void vm_path(const struct vm *vm, const char *blade, const char *ext, char *buf, size_t len);
pid_t vm_pid(const struct vm *vm, const char *blade);	/* its QEMU on blade, 0: none alive */
/* Starts it (fork and exec through the blade backend; returns once exec'd). incoming: a
 * destination, waiting for the state (-incoming defer -S). A VM with a profile gets an
 * e1000 with the profile's MAC on the tap of its port (doc/vm-network.md): the port of
 * the VF at loc (its blade) or dloc (incoming), and its IPv4 address as "ip=" on the
 * payload's command line. 0 or -errno, err says why. */
int qemu_spawn(struct cmc_vms *v, const struct vm *vm, const char *blade, bool incoming, char *err,
	       size_t errlen);
void qemu_reap(struct cmc_vms *v, pid_t pid, int sig, struct vm *vm);
bool qemu_reaping(const struct cmc_vms *v, const struct vm *vm);
void qemu_reap_due(struct cmc_vms *v);		/* from the tick */
/* A QMP connection (struct qconn) on the loop: qc_open() connects, trying for wait_ms
 * (0: QMP_TIMEOUT_MS), on_up once up or given up; qc_call() queues a command (args owned),
 * fn gets its answer (rc 0 or -errno, the reply borrowed); qc_due() from the tick
 * (retries, timeouts); qc_close() drops it and its unanswered commands. */
void qc_open(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *blade, unsigned wait_ms,
	     qc_fn on_up);
void qc_call(struct cmc_vms *v, struct qconn *c, const char *cmd, json_t *args, qc_fn fn);
void qc_due(struct cmc_vms *v, struct qconn *c);
void qc_close(struct cmc_vms *v, struct qconn *c);

/* --- migrate.c: the migration ----------------------------------------------------------- */

void mig_begin(struct cmc_vms *v, struct vm *vm);	/* staged, destination spawned: go on */
void mig_fail(struct cmc_vms *v, struct vm *vm, bool source_dead, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void mig_fail_check(struct cmc_vms *v, struct vm *vm);	/* a failure put back: final */
void mig_follow(struct cmc_vms *v, struct vm *vm);	/* from the tick, while active */
void mig_event(struct cmc_vms *v, struct vm *vm, struct qconn *c, json_t *ev);
void mig_conn_lost(struct cmc_vms *v, struct vm *vm, struct qconn *c, const char *err);
void mig_reaped(struct cmc_vms *v, struct vm *vm);
void mig_done(struct cmc_vms *v, struct vm *vm);
void mig_resume(struct cmc_vms *v, struct vm *vm);	/* after a restart of cmcd */

#endif
