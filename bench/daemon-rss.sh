#!/bin/sh
# SPDX-License-Identifier: MIT
# cmcd's memory on the largest chassis dump (64 slots x 8 PFs x 7 VFs): resident set
# after start-up and after 200 `cmcctl -j slots` requests, against `sleep` as the
# baseline of an idle process of the same libc, measured in the same run. Asserts nothing.
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
i=0
until CMC_SOCKET=$tmp/sock "$B/cmcctl" version >/dev/null 2>&1; do
	i=$((i + 1)); [ "$i" -lt 300 ] || { cat "$tmp/log" >&2; exit 1; }; sleep 0.1
done
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
start=$(rss "$pid")
t0=$(date +%s%N)
i=0
while [ "$i" -lt 200 ]; do CMC_SOCKET=$tmp/sock "$B/cmcctl" -j slots >/dev/null; i=$((i + 1)); done
t1=$(date +%s%N)
after=$(rss "$pid")
sleep 30 & base=$!
sleep 0.2
baseline=$(rss "$base")
kill "$base"
echo "daemon-rss: cmcd on a 64x8x7 dump (4,096 functions)"
echo "  RSS after start          ${start} KiB"
echo "  RSS after 200 requests   ${after} KiB   ($(( (t1 - t0) / 200000 )) us per cmcctl -j slots, client included)"
echo "  baseline (sleep)         ${baseline} KiB"
awk -v a="$after" -v b="$baseline" 'BEGIN { printf "  ratio cmcd / baseline = %.1f\n", a / b }'
