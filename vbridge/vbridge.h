/* SPDX-License-Identifier: MIT */
/*
 * vbridge: an in-memory model of one Intel 82576 port's embedded virtual bridge (VEB),
 * computed from intent and checked against the card's filter tables before the daemon
 * turns it into driver calls. It touches no hardware, never prints and never blocks.
 *
 * Card facts (82576 datasheet: RAL/RAH, VLVF, DTXSWC; QEMU's igb models the same):
 *   - 24 receive-address entries (RAR) per port. Entry 0 is the PF's, one per VF holds
 *     its primary MAC; the rest are "extra" unicast filters, shared by the static
 *     entries modelled here and the extra MACs trusted VFs ask for over the mailbox
 *     (so vb_usage() tells the daemon how many it may grant them).
 *   - 32 VLAN filter entries (VLVF), each one VLAN id with a bitmask of pools; one is
 *     kept for the PF. Untagged traffic needs none.
 *   - VF n receives into pool n.
 *
 * VLAN model: a VF is untagged (port VLAN 0) or on one port VLAN. A frame a VF sends
 * is on its port VLAN, and the bridge looks destinations up by (MAC, VLAN), so VFs on
 * different VLANs never reach each other inside the card, and untagged VFs only reach
 * untagged VFs. A static entry for a VF with a port VLAN must be on that VLAN; an
 * untagged VF may take static entries on any VLAN (it carries tagged traffic for what
 * sits behind it), which makes its pool a member of that VLAN.
 *
 * Functions return 0 or a negative errno. Those that take err/errlen also write a
 * sentence for the admin there ("VF 2: MAC 02:cc:00:01:00:02 is already on VF 1");
 * err may be NULL. On any error the model is unchanged. One port must not be used
 * from two threads at once.
 */
#ifndef CMC_VBRIDGE_H
#define CMC_VBRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VB_WUR __attribute__((warn_unused_result))

#define VB_MAX_VFS		8	/* pools are a uint8_t mask */
#define VB_MAX_RAR		24	/* 82576 RAR[0..23] */
#define VB_MAX_VLAN_ENTRIES	32	/* 82576 VLVF[0..31] */
#define VB_VID_MAX		4094	/* 4095 is reserved by 802.1Q */
#define VB_RATE_MAX_MBPS	1000	/* 1 GbE */
#define VB_MAC_STRLEN		18	/* "02:cc:00:01:00:02" and its NUL */
/* Rows vb_fdb() can return: primaries + statics + one flood row per VLAN in use. */
#define VB_FDB_MAX		(2 * (VB_MAX_VFS + VB_MAX_RAR))

/* --- Card limits ------------------------------------------------------------------- */

struct vb_limits {
	unsigned rar_entries;		/* receive-address entries, <= VB_MAX_RAR */
	unsigned rar_reserved;		/* the PF's plus one per possible VF primary */
	unsigned vlan_entries;		/* VLAN filter entries, <= VB_MAX_VLAN_ENTRIES */
	unsigned vlan_reserved;		/* kept for the PF */
};

/* The 82576's: 24 RAR with 9 reserved (PF + 8 VF primaries), 32 VLVF with 1 reserved. */
void vb_limits_igb(struct vb_limits *out);

/* --- The port ---------------------------------------------------------------------- */

struct vb_port;

/*
 * A port with num_vfs VFs (0..VB_MAX_VFS), none set up, loopback on. -EINVAL if the
 * limits exceed the VB_MAX_* sizes, reserve more than they have, or leave no reserved
 * RAR entry for some VF's primary (rar_reserved < 1 + num_vfs); -ENOMEM.
 */
int vb_port_new(const struct vb_limits *lim, unsigned num_vfs, struct vb_port **out) VB_WUR;
void vb_port_free(struct vb_port *p);

/* What the chassis wants for one VF. */
struct vb_vf_intent {
	uint8_t mac[6];			/* primary: unicast, not zero, unique in the port */
	uint16_t vlan;			/* port VLAN 1..4094, 0 = untagged */
	bool trusted;			/* may ask for extra MACs and promiscuous modes */
	bool spoofchk;			/* drop frames it sends from another source MAC */
	bool broadcast;			/* accepts broadcasts */
	bool multicast;			/* accepts all multicast of its VLAN */
	unsigned rate_mbps;		/* transmit limit; 0 = none, else 1..1000 */
};

/*
 * Set up VF vf or replace its intent. -EINVAL (no such VF, bad MAC, VLAN or rate, or a
 * new port VLAN that would strand the VF's static entries on another VLAN),
 * -EADDRINUSE (the MAC is another VF's primary or any static entry), -ENOSPC (VLAN
 * filter entries exhausted).
 */
int vb_set_vf(struct vb_port *p, unsigned vf, const struct vb_vf_intent *in, char *err,
	      size_t errlen) VB_WUR;
/* VF vf is no longer set up; its static entries go with it. Clearing a clear VF is
 * fine. -EINVAL if there is no such VF. */
int vb_clear_vf(struct vb_port *p, unsigned vf) VB_WUR;
/* -EINVAL if there is no such VF, -ENOENT if it is not set up. */
int vb_get_vf(const struct vb_port *p, unsigned vf, struct vb_vf_intent *out) VB_WUR;

/*
 * A static forwarding entry: frames to mac on vlan (0 = untagged) go to VF vf's pool,
 * e.g. for a VM behind a blade's VF. It takes one extra RAR entry, and a VLAN filter
 * entry if no VF or entry uses vlan yet. -EINVAL (no such VF, bad MAC or VLAN, or a
 * VLAN other than the VF's port VLAN), -ENOENT (VF not set up), -EADDRINUSE (mac is a
 * primary or static entry anywhere in the port), -ENOSPC ("VEB full: ...").
 */
int vb_fdb_add(struct vb_port *p, unsigned vf, const uint8_t mac[6], uint16_t vlan, char *err,
	       size_t errlen) VB_WUR;
/* -ENOENT if there is no static entry for (mac, vlan), -EINVAL if mac is a primary. */
int vb_fdb_del(struct vb_port *p, const uint8_t mac[6], uint16_t vlan, char *err,
	       size_t errlen) VB_WUR;

/* VF-to-VF switching inside the card (DTXSWC loopback), on by default. Off, every
 * frame a VF sends leaves through the port and the outside switch decides. */
void vb_set_loopback(struct vb_port *p, bool on);
bool vb_loopback(const struct vb_port *p);

/* --- What the model says ----------------------------------------------------------- */

enum vb_entry_kind { VB_ENTRY_PRIMARY, VB_ENTRY_STATIC, VB_ENTRY_FLOOD };

struct vb_entry {
	uint8_t mac[6];
	uint16_t vlan;			/* 0 = untagged */
	uint8_t pools;			/* bit n = VF n */
	enum vb_entry_kind kind;
	int vf;				/* the entry's VF, -1 for a flood row */
};

/*
 * The receive forwarding table as `bridge fdb` would show it: each set-up VF's primary
 * (by VF), then the static entries (oldest first), then per VLAN in use (ascending,
 * untagged first) a flood row for ff:ff:ff:ff:ff:ff listing the pools of that VLAN
 * that accept broadcasts (possibly none). Writes up to max rows, returns the total.
 */
size_t vb_fdb(const struct vb_port *p, struct vb_entry *out, size_t max);

struct vb_usage {
	unsigned rar_used, rar_total;	/* extra RAR entries: static ones / not reserved */
	unsigned vlan_used, vlan_total;	/* VLAN filter entries: used / not reserved */
	unsigned vfs_used, vfs_total;	/* VFs set up / enabled */
};
void vb_usage(const struct vb_port *p, struct vb_usage *out);

/*
 * Where a frame VF src_vf sends to dst would go (its tx switching decision): the pools
 * that receive it, never src_vf's own. *to_wire (may be NULL) is set when it also
 * leaves through the port: unknown unicast, any broadcast or multicast, everything
 * when loopback is off. Unicast to the sender's own MAC goes nowhere. A VF that is not
 * set up (or does not exist) sends nothing: 0 and no wire.
 */
uint8_t vb_forward(const struct vb_port *p, unsigned src_vf, const uint8_t dst[6], bool *to_wire);

/* --- MAC addresses ----------------------------------------------------------------- */

/* "02:cc:00:01:00:02", either case, exactly two hex digits per byte. -EINVAL if not. */
int vb_mac_parse(const char *s, uint8_t out[6]) VB_WUR;
/* Lowercase into buf (VB_MAC_STRLEN bytes); returns buf. */
const char *vb_mac_str(const uint8_t mac[6], char buf[VB_MAC_STRLEN]);
/* A station address: group bit clear (so not broadcast) and not all zero. */
bool vb_mac_is_unicast(const uint8_t mac[6]);

#endif
