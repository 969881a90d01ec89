/* SPDX-License-Identifier: MIT */
/* mgmt-proc internals shared between its .c files. Not for users of the library. */
#ifndef CMC_MP_PRIV_H
#define CMC_MP_PRIV_H

#include <stdarg.h>

#include "mp.h"

#define MP_ERR_LEN 512

/* One PCI function as read from config space, before it is classified. */
struct mp_dev {
	uint64_t key; /* mp_key(): domain, bus, devfn; the list is sorted by it */
	struct mp_bdf bdf;
	struct mp_ident id;
	uint8_t hdr_type;  /* low 7 bits of Header Type */
	uint8_t sec_bus, sub_bus; /* bridges only */
	bool pcie;
	uint8_t pcie_type; /* PCIe Capabilities: Device/Port Type */
	bool slot_impl;    /* PCIe Capabilities: Slot Implemented */
	uint32_t sltcap;
	uint16_t sltsta;
	struct mp_link link;
	bool dlla_capable; /* Link Capabilities: DLL Link Active Reporting Capable */
	bool ari;
	struct mp_acs acs;
	struct mp_sriov sriov;
	unsigned sriov_pos; /* where the SR-IOV capability is, for the problems' text */
	const char *vf_device; /* pci.ids name of the SR-IOV VF Device ID (mp_names) */
	unsigned cfg_len;  /* bytes of config space the access method gave (0, 64, 256, 4096) */
	bool gone;         /* Vendor ID reads ffff: the function does not answer */
	bool caps_broken;  /* a capability list could not be walked to its end */
	bool is_vf; /* some PF's valid SR-IOV arithmetic lands here */
	bool unclaimed; /* may be a VF of a PF whose SR-IOV cannot be trusted: not a PF */
};

/* Problems found while reading and classifying; unique by (key, text). */
struct mp_problems {
	struct mp_problem *items;
	uint64_t *keys;
	size_t count, alloc;
	bool nomem; /* an entry was lost for want of memory */
};

/*
 * The names of a scan (pci.ids names, drivers, netdevs), one copy each: a chassis has a
 * handful of distinct names for thousands of functions. Found through a hash table
 * (open addressing, twice as many buckets as room for names).
 */
struct mp_names {
	char **v;
	size_t count, alloc;
	uint32_t *buckets; /* 2 * alloc of them: index into v + 1, 0 for none */
	bool nomem;        /* a name was lost for want of memory */
};

/* A copy of s in the pool (s itself if it is ""); "" (and nomem set) if out of memory. */
const char *mp_names_add(struct mp_names *n, const char *s);
void mp_names_free(struct mp_names *n);

struct mp_devlist {
	struct mp_dev *devs;
	size_t count;
	struct mp_problems problems;
	struct mp_names names; /* what devs' names point to; moves to the snapshot */
};

/* The result of one successful scan; swapped into the inventory as a whole. */
struct mp_snapshot {
	struct mp_slot *slots;
	size_t nslots;
	struct mp_switch *switches;
	size_t nswitches;
	struct mp_function *fns; /* all PFs, each slot's contiguous */
	size_t nfns;
	struct mp_vf *vfs;       /* all VFs, each PF's contiguous */
	size_t nvfs;
	struct mp_index_entry *index; /* sorted by key, for mp_locate() */
	size_t nindex;
	struct mp_problem *problems;  /* each slot's copies, contiguous, then all_problems */
	struct mp_problem *all_problems; /* every problem once, in the order found */
	size_t nproblems;                /* entries in all_problems */
	struct mp_names names;           /* what the idents' names point to */
};

struct mp_index_entry {
	uint64_t key;
	struct mp_addr addr;
};

struct mp_inventory {
	char *dump_path;  /* NULL: live */
	char *sysfs_dir;  /* NULL: no OS view */
	char *ids_file;   /* NULL: libpci's default */
	struct mp_snapshot snap;
	char err[MP_ERR_LEN];
};

static inline uint64_t mp_key(uint32_t domain, unsigned bus, unsigned devfn)
{
	return (uint64_t)domain << 16 | (uint64_t)(bus & 0xff) << 8 | (devfn & 0xff);
}

static inline uint64_t mp_bdf_key(const struct mp_bdf *b)
{
	return mp_key(b->domain, b->bus, (unsigned)b->dev << 3 | b->fn);
}

static inline void mp_bdf_from_key(uint64_t key, struct mp_bdf *b)
{
	b->domain = (uint32_t)(key >> 16);
	b->bus = (uint8_t)(key >> 8);
	b->dev = (uint8_t)(key >> 3 & 0x1f);
	b->fn = (uint8_t)(key & 7);
}

void mp_errf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mp-check.c: the rules every value read from a device must obey, and their problems. */
void mp_problem_add(struct mp_problems *p, const struct mp_bdf *bdf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mp_problems_free(struct mp_problems *p);
/* Walks the capability lists of config space c (cfg_len bytes valid), reporting breaks. */
unsigned mp_find_cap(const uint8_t *c, unsigned cfg_len, unsigned id, const struct mp_bdf *bdf,
		     struct mp_problems *p, bool *broken);
unsigned mp_find_ext_cap(const uint8_t *c, unsigned cfg_len, unsigned id,
			 const struct mp_bdf *bdf, struct mp_problems *p, bool *broken);
/* SR-IOV values against the spec and against the bus range [bus_lo, bus_hi] its VFs
 * may use (PCIe Base 4.0 §9.3.3, §9.2.1.2); reports each break. */
bool mp_sriov_check(const struct mp_dev *pf, unsigned bus_lo, unsigned bus_hi,
		    struct mp_problems *p);
/* Routing ID of VF n, or -1 past the end of the RID space. */
long mp_vf_rid(const struct mp_bdf *pf, const struct mp_sriov *s, unsigned n);

/* mp-dump.c: checks a dump file the way libpci will read it, and stricter. */
int mp_dump_check(const char *path, char *err) MP_WUR;

/* mp-pci.c: reads every function through libpci (dump_path NULL: live). */
int mp_pci_read(const char *dump_path, const char *ids_file, struct mp_devlist *out,
		char *err) MP_WUR;
void mp_devlist_free(struct mp_devlist *l);
struct mp_dev *mp_devlist_find(const struct mp_devlist *l, uint64_t key);

/* mp-topo.c: classifies the functions into switches, slots, PFs and VFs. */
/* prev: the last snapshot (a port that became unreadable keeps its slot number), or NULL */
int mp_topo_build(struct mp_devlist *l, struct mp_snapshot *snap, const struct mp_snapshot *prev,
		  char *err) MP_WUR;
void mp_snapshot_free(struct mp_snapshot *snap);

/* mp-sysfs.c: the OS view of every function of the snapshot (best effort). */
void mp_sysfs_fill(struct mp_snapshot *snap, const char *devices_dir);
/* The OS view of one function, its names into pool. */
void mp_os_read(const char *devices_dir, const struct mp_bdf *bdf, struct mp_os *os,
		struct mp_names *pool);

#endif
