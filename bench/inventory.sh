#!/bin/sh
# SPDX-License-Identifier: MIT
# Chassis inventory from a libpci dump of a 64-slot chassis (8 PFs x 7 VFs per card:
# 4,096 functions of 4 KiB config space, ~55 MB): mp-show -j against lspci -vvv on the
# same file, runs interleaved in the same process tree. Prints the median of each and
# their ratio; asserts nothing about time.
#   CMC_BUILD=build RUNS=5 bench/inventory.sh
set -eu
B=${CMC_BUILD:-build}
RUNS=${RUNS:-5}
for t in "$B/tools/mp-gendump" "$B/tools/mp-show"; do
	[ -x "$t" ] || { echo "inventory: $t missing (run make)" >&2; exit 1; }
done
command -v lspci >/dev/null || { echo "inventory: lspci not installed (pciutils)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
F=$tmp/chassis.dump
"$B/tools/mp-gendump" -s 64 -p 8 -v 7 -o "$F"

# One timed run in milliseconds; fails if the command fails.
run_ms() {
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$tmp/err" || { echo "inventory: $* failed:" >&2; cat "$tmp/err" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

: >"$tmp/mp"
: >"$tmp/lspci"
i=0
while [ "$i" -lt "$RUNS" ]; do
	run_ms "$B/tools/mp-show" --dump "$F" -j >>"$tmp/mp"
	run_ms lspci -vvv -F "$F" >>"$tmp/lspci"
	i=$((i + 1))
done
mp=$(median <"$tmp/mp")
ls=$(median <"$tmp/lspci")
echo "inventory: $(wc -c <"$F") byte dump, 64 slots x 8 PFs x 7 VFs, $RUNS runs each (median)"
echo "  mp-show --dump F -j   ${mp} ms   (runs: $(tr '\n' ' ' <"$tmp/mp"))"
echo "  lspci -vvv -F F       ${ls} ms   (runs: $(tr '\n' ' ' <"$tmp/lspci"))"
awk -v a="$mp" -v b="$ls" 'BEGIN { if (b > 0) printf "  ratio mp-show / lspci = %.2f\n", a / b }'
