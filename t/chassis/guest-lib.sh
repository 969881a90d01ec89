# Shell helpers inside the emulated chassis, sourced by the guest's init and so available
# to every command the harness sends. Busybox sh prefers its own `ip` applet (no netns):
# iproute2 is called by its full path.
ip() { /usr/sbin/ip "$@"; }

PCI=/sys/bus/pci/devices

# BDFs of the igb physical functions (8086:10c9), in bus order.
chassis_pfs() {
	for d in $PCI/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x8086:0x10c9" ] && echo "${d##*/}"
	done
}

# "slot bdf" for each PCIe port with a physical slot number, read from sysfs slots.
chassis_slots() {
	for s in /sys/bus/pci/slots/*; do
		[ -f "$s/address" ] && echo "${s##*/} $(cat "$s/address")"
	done
}

# Wait until a shell condition holds: wait_for TENTHS 'condition'. Bounded.
wait_for() {
	n=$1; shift
	while [ "$n" -gt 0 ]; do
		eval "$@" && return 0
		usleep 100000
		n=$((n - 1))
	done
	return 1
}

# The netdev name of a PCI function, empty if none.
pci_netdev() { ls "$PCI/$1/net" 2>/dev/null | head -1; }

# VF BDFs of a PF, in VF order.
pf_vfs() {
	i=0
	while [ -e "$PCI/$1/virtfn$i" ]; do
		basename "$(readlink "$PCI/$1/virtfn$i")"
		i=$((i + 1))
	done
}
