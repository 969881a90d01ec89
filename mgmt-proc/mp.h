/* SPDX-License-Identifier: MIT */
/*
 * mgmt-proc: the chassis inventory. Enumerates the PCIe topology through libpci, from
 * the live system or from a libpci dump file (`lspci -xxxx` output), and presents it as
 * the admin sees it: numbered slots, the card in each slot, its physical functions (PFs)
 * and their SR-IOV virtual functions (VFs). Raw bus/device/function numbers are detail.
 *
 * A slot is a PCIe downstream port (a switch downstream port or a root port) with Slot
 * Implemented set whose secondary bus does not hold a switch upstream port (a root
 * port that leads to the backplane switch is not a slot). Switch upstream ports are
 * reported as switches.
 *
 * Config space is what devices say about themselves, and a broken or failing device can
 * say anything. Every value is checked against the PCIe spec and the topology before it
 * is used (capability pointers, list lengths, SR-IOV counts, offsets and strides, bus
 * numbers, slot numbers; doc/inventory.md lists the rules). A device that breaks a rule
 * is named in a struct mp_problem and kept in view with what could be read; nothing is
 * derived from the broken value. Each slot has a state (enum mp_slot_state).
 *
 * Functions return 0 or a negative errno and never print, exit or abort. After a
 * failure mp_inventory_error() says what went wrong (for a dump: "file:line: what").
 *
 * Everything returned by the accessors is read-only and owned by the inventory; it
 * stays valid until the next successful mp_inventory_scan() or mp_inventory_close().
 * A failed scan keeps the previous inventory. One inventory must not be used from two
 * threads at once, except that readers (the accessors, mp_inventory_scan_new()) may
 * share one that nobody scans or closes meanwhile; separate inventories may.
 */
#ifndef CMC_MP_H
#define CMC_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_WUR __attribute__((warn_unused_result))

struct mp_inventory;

/* --- PCI addresses -------------------------------------------------------------- */

struct mp_bdf {
	uint32_t domain;
	uint8_t bus, dev, fn; /* dev 0..31, fn 0..7 (an ARI function n is dev n>>3, fn n&7) */
};

#define MP_BDF_STRLEN 24
/* "dddd:bb:dd.f" or "bb:dd.f" (domain 0); hex as lspci writes it. -EINVAL if not. */
int mp_bdf_parse(const char *s, struct mp_bdf *out) MP_WUR;
/* Writes "dddd:bb:dd.f" into buf (MP_BDF_STRLEN bytes) and returns buf. */
const char *mp_bdf_str(const struct mp_bdf *b, char *buf);
bool mp_bdf_eq(const struct mp_bdf *a, const struct mp_bdf *b);

/* --- What the inventory reports ------------------------------------------------- */

#define MP_NAME_LEN 128
#define MP_OSNAME_LEN 64

/*
 * Identity from config space; names from pci.ids, never NULL ("" when the id is not
 * listed; at most MP_NAME_LEN - 1 bytes). The names are the inventory's, one copy of each
 * (4,096 functions of one chassis carry a handful of names), and live as long as it.
 */
struct mp_ident {
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_id;
	uint32_t class_code; /* base class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	const char *vendor, *device, *class_name;
};

/*
 * Link of a port or function (PCIe Link Capabilities / Link Status). Speeds use the
 * PCIe encoding: 1 = 2.5 GT/s, 2 = 5, 3 = 8, 4 = 16, 5 = 32, 6 = 64; 0 = unknown.
 */
struct mp_link {
	bool valid;      /* the function has a PCIe capability */
	uint8_t speed, width;         /* negotiated (Link Status) */
	uint8_t max_speed, max_width; /* Link Capabilities */
	bool dll_active;              /* Data Link Layer Link Active */
	bool dll_reporting;           /* Link Capabilities: DLL Link Active Reporting Capable
				       * (without it dll_active means nothing) */
};

/* Access Control Services extended capability (ext cap 0x000d). */
struct mp_acs {
	bool present;
	uint16_t cap, ctrl; /* raw registers; libpci's PCI_ACS_CAP_* / PCI_ACS_CTRL_* bits */
};

/* Single Root I/O Virtualization extended capability (ext cap 0x0010). */
struct mp_sriov {
	bool present;
	bool valid;     /* its values obey the spec and the topology (mp_problem names why not);
			 * an invalid capability is shown as read and yields no VFs */
	bool vf_enable; /* SR-IOV Control: VF Enable */
	uint16_t ctrl;
	uint16_t total_vfs, initial_vfs, num_vfs;
	uint16_t vf_offset, vf_stride; /* VF n's routing ID = PF RID + offset + n * stride */
	uint16_t vf_device_id;
};

/*
 * What the OS says about a function (live only; in dump mode all unknown). The names are
 * never NULL, at most MP_OSNAME_LEN - 1 bytes, and the inventory's (as struct mp_ident's).
 */
struct mp_os {
	int iommu_group; /* -1: unknown or none */
	const char *driver;          /* bound driver, "" if none */
	const char *netdev;          /* first entry of net/, "" if none */
	const char *driver_override; /* "" if unset */
};

struct mp_vf {
	unsigned index;   /* n: the VF's number within its PF */
	struct mp_bdf bdf; /* from the SR-IOV offset/stride arithmetic */
	bool present;     /* a function answers at that address */
	struct mp_ident id; /* the PF's vendor and the SR-IOV VF Device ID when absent */
	struct mp_os os;
};

struct mp_function {
	unsigned index; /* PF index within the card, in routing-ID order */
	struct mp_bdf bdf;
	struct mp_ident id;
	struct mp_link link;
	bool ari;            /* ARI extended capability (ext cap 0x000e) */
	struct mp_acs acs;
	struct mp_sriov sriov;
	bool caps_unreadable; /* a capability list could not be walked to its end: what is
			       * above (link, ARI, ACS, SR-IOV) may be missing */
	size_t vf_count;     /* NumVFs when VF Enable is set and the capability is valid, else 0 */
	const struct mp_vf *vfs;
	struct mp_os os;
};

enum mp_port_kind {
	MP_PORT_ROOT = 1,       /* root port */
	MP_PORT_DOWNSTREAM = 2, /* switch downstream port */
};

struct mp_port {
	struct mp_bdf bdf;
	enum mp_port_kind kind;
	struct mp_ident id;
	struct mp_link link; /* the link to the card in the slot */
	struct mp_acs acs;
	uint8_t secondary_bus, subordinate_bus;
	struct mp_os os;
};

struct mp_switch; /* declared below */

/*
 * What a slot holds, from the port's registers and what answers behind it. Checked in
 * this order; the first that fits wins:
 *   UNREADABLE      the port's or the card's config space breaks a rule (a capability
 *                   chain that loops or points outside its space, a broken SR-IOV
 *                   capability, a bus range that cannot be): shown as far as it was read
 *   NOT_RESPONDING  a function is there but reads all ones (Vendor ID ffff)
 *   OCCUPIED        a card answers and every value read from it is sane
 *   LINK_DOWN       Presence Detect is set, the link is known to be down (DLL Link Active
 *                   clear, or width 0) and nothing answers
 *   EMPTY           nothing answers otherwise (with presence and the link up: a hot-plug
 *                   in progress on a live system)
 */
enum mp_slot_state {
	MP_SLOT_EMPTY = 0,
	MP_SLOT_LINK_DOWN,
	MP_SLOT_NOT_RESPONDING,
	MP_SLOT_UNREADABLE,
	MP_SLOT_OCCUPIED,
};

/* "empty", "link-down", "not-responding", "unreadable", "occupied"; "?" otherwise. */
const char *mp_slot_state_str(enum mp_slot_state st);

/*
 * A device that broke a rule of the PCIe spec or of the topology, and what the
 * inventory did about it. text names the device first: "0000:03:00.0: SR-IOV: NumVFs
 * 65535 > TotalVFs 8 (PCIe Base 4.0 §9.3.3.7); no VFs listed". One entry per device and
 * rule per scan.
 */
#define MP_PROBLEM_LEN 200
struct mp_problem {
	struct mp_bdf bdf;
	char text[MP_PROBLEM_LEN];
};

/* Physical Slot Number of a slot whose port's capabilities cannot be read. */
#define MP_SLOT_NUMBER_UNKNOWN 0xffffffffu

struct mp_slot {
	unsigned number;      /* Physical Slot Number (Slot Capabilities 31:19); for an
			       * unreadable port the number it had in the previous scan of
			       * this inventory, else MP_SLOT_NUMBER_UNKNOWN */
	enum mp_slot_state state;
	struct mp_port port;
	bool presence;        /* Slot Status: Presence Detect State */
	bool occupied;        /* a function answers on the secondary bus */
	bool hotplug_capable; /* Slot Capabilities: Hot-Plug Capable */
	const struct mp_switch *sw; /* the switch the port belongs to; NULL for a root port */
	size_t function_count;      /* PFs of the card; VFs hang off each PF */
	const struct mp_function *functions;
	size_t problem_count;       /* problems of the port and of every function behind it */
	const struct mp_problem *problems;
};

/* A switch, seen through its upstream port. */
struct mp_switch {
	struct mp_bdf bdf;
	struct mp_ident id;
	struct mp_link link; /* the switch's upstream link */
	struct mp_acs acs;
	bool has_parent;
	struct mp_bdf parent; /* the port above (e.g. the root port holding the backplane) */
	uint8_t secondary_bus, subordinate_bus;
	size_t slot_count;    /* slots on its downstream ports */
};

/* --- The inventory -------------------------------------------------------------- */

/*
 * Creates an inventory of the live system (dump_path NULL) or of a libpci dump file.
 * Does no I/O: call mp_inventory_scan() to read. -ENOMEM.
 */
int mp_inventory_open(struct mp_inventory **out, const char *dump_path) MP_WUR;
void mp_inventory_close(struct mp_inventory *inv);

/*
 * Where the OS view comes from (directory of BDF entries, default /sys/bus/pci/devices
 * when live, none for a dump); NULL for none. Takes effect at the next scan.
 */
int mp_inventory_set_sysfs(struct mp_inventory *inv, const char *devices_dir) MP_WUR;
/* pci.ids to use instead of libpci's default; NULL for the default. Next scan. */
int mp_inventory_set_ids_file(struct mp_inventory *inv, const char *path) MP_WUR;

/*
 * (Re)reads everything (after a hot-plug event, for instance). On failure the previous
 * inventory stays and mp_inventory_error() has the detail:
 *   -ENOENT, -EACCES, ... the dump cannot be opened
 *   -EINVAL  the dump is malformed ("file:line: what is wrong")
 *   -EIO     libpci failed (its message)
 *   -ENOMEM
 */
int mp_inventory_scan(struct mp_inventory *inv) MP_WUR;
/*
 * A rescan that leaves prev alone: reads everything into a new inventory with prev's
 * settings (live or dump, sysfs directory, pci.ids), taking prev's slots as the previous
 * picture (an unreadable port keeps its number). Made for a scan on another thread: prev
 * is only read, so its owner may go on reading it meanwhile, but must neither scan nor
 * close it until this returns; the owner then swaps the handles on its own thread and
 * closes prev. On success *out is the new inventory; on failure *out is NULL, the errors
 * are those of mp_inventory_scan() and err (errlen bytes, may be NULL) has the detail.
 */
int mp_inventory_scan_new(const struct mp_inventory *prev, struct mp_inventory **out,
			  char *err, size_t errlen) MP_WUR;
/* Detail of the last failure, "" if none. */
const char *mp_inventory_error(const struct mp_inventory *inv);

size_t mp_slot_count(const struct mp_inventory *inv);
/* Slots in order of slot number (then address). NULL past the end. */
const struct mp_slot *mp_slot_at(const struct mp_inventory *inv, size_t i);
/* The slot with that Physical Slot Number (the first one if numbers repeat), or NULL. */
const struct mp_slot *mp_slot_find(const struct mp_inventory *inv, unsigned number);

size_t mp_switch_count(const struct mp_inventory *inv);
const struct mp_switch *mp_switch_at(const struct mp_inventory *inv, size_t i);

/* Every problem of the scan, once each, in the order they were found. */
size_t mp_problem_count(const struct mp_inventory *inv);
const struct mp_problem *mp_problem_at(const struct mp_inventory *inv, size_t i);

/* --- Slot-relative addresses: "slot 3 pf 0 vf 2" --------------------------------- */

#define MP_NO_VF (-1)

struct mp_addr {
	unsigned slot; /* Physical Slot Number */
	unsigned pf;   /* PF index within the card */
	int vf;        /* VF index within the PF, or MP_NO_VF for the PF itself */
};

/*
 * Resolves an address to its function. -ENOENT if the slot, PF or VF does not exist
 * (a VF exists when VF Enable is set, vf < NumVFs and a function answers there).
 * pf_out/vf_out may be NULL; *vf_out is NULL when addr->vf is MP_NO_VF, both are
 * NULL on failure.
 */
int mp_resolve(const struct mp_inventory *inv, const struct mp_addr *addr,
	       struct mp_bdf *bdf_out, const struct mp_function **pf_out,
	       const struct mp_vf **vf_out) MP_WUR;
/* The reverse: which slot/PF/VF a PCI address is. -ENOENT if it is none of them. */
int mp_locate(const struct mp_inventory *inv, const struct mp_bdf *bdf,
	      struct mp_addr *addr_out) MP_WUR;

#endif
