#!/bin/sh
# SPDX-License-Identifier: MIT
# cmcd's memory on the largest chassis dump (64 slots x 8 PFs x 7 VFs): resident set
# after start-up, its peak while a rescan runs (libpci's dump reader holds 4 KiB per
# function while it reads; the peak is VmHWM after clearing it through clear_refs), at
# rest once that rescan is done, and after 200 `cmcctl -j slots` requests; against `sleep`
# as the baseline of an idle process of the same libc, measured in the same run.
# Asserts nothing.
#   CMC_BUILD=build bench/daemon-rss.sh
set -eu
B=${CMC_BUILD:-build}
for t in "$B/cmcd" "$B/cmcctl" "$B/tools/mp-gendump"; do
	[ -x "$t" ] || { echo "daemon-rss: $t missing (run make)" >&2; exit 1; }
done
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
"$B/tools/mp-gendump" -s 64 -p 8 -v 7 -o "$tmp/chassis.dump"
cat >"$tmp/c.conf" <<CONF
chassis = { name = "bench"; };
daemon = { socket = "$tmp/sock"; group = ""; store = "$tmp/state"; };
blades = ( { name = "b1"; id = 1; } );
CONF
"$B/cmcd" -f -c "$tmp/c.conf" --pci-dump "$tmp/chassis.dump" 2>"$tmp/log" &
pid=$!
ctl() { CMC_SOCKET=$tmp/sock "$B/cmcctl" "$@"; }
i=0
until ctl version >/dev/null 2>&1; do
	i=$((i + 1)); [ "$i" -lt 300 ] || { cat "$tmp/log" >&2; exit 1; }; sleep 0.1
done
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
start=$(status "$pid" VmRSS)

# One rescan, its peak: "5" resets the process's peak RSS (proc(5), clear_refs).
peak=unknown
if echo 5 >"/proc/$pid/clear_refs" 2>/dev/null; then peak=; fi
ctl rescan >/dev/null
i=0
until ctl -j version | grep -Eq '"rescans":1[,}]'; do
	i=$((i + 1)); [ "$i" -lt 1200 ] || { echo "daemon-rss: the rescan did not end" >&2; exit 1; }; sleep 0.1
done
[ -n "$peak" ] || peak=$(status "$pid" VmHWM)
rest=$(status "$pid" VmRSS)

t0=$(date +%s%N)
i=0
while [ "$i" -lt 200 ]; do ctl -j slots >/dev/null; i=$((i + 1)); done
t1=$(date +%s%N)
after=$(status "$pid" VmRSS)
sleep 30 & base=$!
sleep 0.2
baseline=$(status "$base" VmRSS)
kill "$base"
echo "daemon-rss: cmcd on a 64x8x7 dump (4,096 functions)"
echo "  RSS after start            ${start} KiB"
echo "  peak RSS during a rescan   ${peak} KiB"
echo "  RSS at rest after it       ${rest} KiB"
echo "  RSS after 200 requests     ${after} KiB   ($(( (t1 - t0) / 200000 )) us per cmcctl -j slots, client included)"
echo "  baseline (sleep)           ${baseline} KiB"
awk -v a="$rest" -v b="$baseline" 'BEGIN { printf "  ratio cmcd at rest / baseline = %.1f\n", a / b }'
