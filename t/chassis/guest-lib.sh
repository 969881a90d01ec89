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

# A plain inventory from sysfs (the harness' view; cmcctl gives cmc's own).
chassis_inventory() {
	printf '%-5s %-13s %-8s %-10s %-8s %s\n' SLOT PORT CARD FUNCTION TOTALVFS NUMVFS
	chassis_slots | sort -n | while read -r n addr; do
		fns=$(ls -d $PCI/$addr.* 2>/dev/null)
		if [ -z "$fns" ]; then
			printf '%-5s %-13s %s\n' "$n" "$addr" empty
			continue
		fi
		for f in $fns; do
			[ -e "$f/physfn" ] && continue
			id="$(cat $f/vendor):$(cat $f/device)"
			printf '%-5s %-13s %-8s %-10s %-8s %s\n' "$n" "$addr" "${id//0x/}" "${f##*/}" \
				"$(cat $f/sriov_totalvfs 2>/dev/null || echo -)" "$(cat $f/sriov_numvfs 2>/dev/null || echo -)"
		done
	done
}

# Hand a VF's netdev to a blade (a network namespace) with an address, and bring it up.
#   vf_to_blade VF_BDF BLADE ADDR/PREFIX
vf_to_blade() {
	_vf=$1
	wait_for 100 '[ -n "$(pci_netdev $_vf)" ]' || { echo "VF $1 has no netdev"; return 1; }
	dev=$(pci_netdev "$1")
	[ -e "/run/netns/$2" ] || ip netns add "$2" || return 1
	ip link set "$dev" netns "$2" && ip -n "$2" addr add "$3" dev "$dev" &&
		ip -n "$2" link set "$dev" up && ip -n "$2" link set lo up &&
		echo "$1 ($dev) -> $2 as $3"
}

# Wait (bounded, in tenths of a second) until every VF netdev in a blade has carrier.
blade_carrier() {
	wait_for "$2" "! ip -n $1 -o link show | grep -v LOOPBACK | grep -qv LOWER_UP"
}

# True when every VF of PF $1 has a netdev (its VF driver finished probing).
vfs_have_netdevs() {
	for _v in $(pf_vfs "$1"); do
		[ -n "$(pci_netdev "$_v")" ] || return 1
	done
	[ -n "$(pf_vfs "$1")" ]
}

# True when every VF of PF $1 is bound to igbvf (its probe finished; the netdev may have
# moved into a blade's namespace since).
vfs_probed() {
	for _v in $(pf_vfs "$1"); do
		case "$(readlink "$PCI/$_v/driver")" in */igbvf) ;; *) return 1 ;; esac
	done
	[ -n "$(pf_vfs "$1")" ]
}

# Seconds (from /proc/uptime) between bringing a blade's netdev up and its carrier:
#   up_to_carrier NS DEV  -> "1.23", or "timeout" after 30 s.
up_to_carrier() {
	t0=$(cut -d' ' -f1 /proc/uptime)
	ip -n "$1" link set "$2" up
	_n=600
	while [ "$_n" -gt 0 ]; do
		if ip -n "$1" link show "$2" | grep -q LOWER_UP; then
			awk -v a="$t0" '{ printf "%.2f\n", $1 - a }' /proc/uptime
			return 0
		fi
		usleep 50000
		_n=$((_n - 1))
	done
	echo timeout
	return 1
}
