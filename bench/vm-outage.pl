#!/usr/bin/perl
# A VM's network outage during a live migration, seen from the network (issue #14 item 6),
# over the lane and over the uplinks, in one boot of the emulated chassis (root-port
# layout). Cards: 1 an uplink, cabled; 2 a midplane port with the lane between blade1 and
# blade2 (the migration stream); 3 an uplink cabled to the same switch as card 1 (hub 0),
# standing for a host outside the chassis. The configuration is conf/emulated.conf with
# card 3 and a fourth blade "outside" added. The VM is the payload (t/vm) with an e1000
# answering ping for 10.9.0.5 (doc/vm-network.md), its VF on card 1. Two peers ping it
# every 10 ms (t/tools/ping-gap) through each migration, at the same time:
#   inside:  blade3, VF 3 of card 1, 10.9.0.1: its frames are switched by card 1's VEB;
#   outside: blade "outside", VF 0 of card 3, 10.9.0.2: its frames leave card 3 through
#            its uplink, cross the cables and enter card 1 through its uplink.
# The VM moves blade1 -> blade2 -> blade1 ... over the lane, N times (--samples, default
# 4). Per sample: each peer's longest gap between two replies (the outage) and when it
# began (ms after the peers started, same start for both), QEMU's downtime (query-migrate's
# "downtime": source stopped to completed, as `cmcctl -j migrations` qemu_downtime_ms
# keeps it), cmcd's switch-over (completed to the destination's cont answered) and each
# outage's ratio to the downtime; then the medians and, per peer, whether the median
# outage is within QEMU's downtime + 50 ms (the goal). A 10 ms ping period makes the
# outage's resolution 10 ms.
# Per sample also the switch-over's timeline, in ms from the source's STOP (QEMU's event
# stamps as cmcd's "timeline" event gives them, the peers' replies as ping-gap stamps them,
# one clock: the chassis guest's): each peer's last reply before its gap, the source's
# "completed", the destination's "completed" (state loaded), cmcd's cont sent (the MAC
# moved), the destination's RESUME, each peer's first reply after its gap; and the medians
# of its parts: before (last reply to STOP), QEMU (STOP to completed), cmcd (completed to
# RESUME), after (RESUME to the first reply). And where the first echo request to the
# VM and the first reply from it crossed each interface of the destination blade (its VF,
# the VM's tap: t/tools/frame-times), in ms from the STOP.
# Per peer also its echo requests sent, replies and requests lost: at a 10 ms period, lost
# times 10 ms is how long requests were dropped; the rest of a longest gap is replies that
# came late (requests queued in QEMU while the VM was paused, or the peer's own process or
# the VM's QEMU not running in a busy guest: the peer sends the requests it missed when it
# runs again).
# With --cpu, a sampler in the guest (about every 0.1 s) records the guest's CPU (/proc/stat)
# and each QEMU's CPU ticks (utime+stime, 4 ms each), and each sample prints them from
# 400 ms before the inside peer's longest gap to 200 ms after it: to tell a VM starved of
# CPU from frames lost on the way.
# Reports; asserts nothing about time.
#   CMC_BUILD=build bench/vm-outage.pl [--samples N] [--cpu]
# Needs the VM image (build/chassis/initrd-vm.img, `make image-vm`); without it, says so
# and exits 0.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Chassis;
use Getopt::Long qw(GetOptions);
use JSON::PP;

$| = 1;
my ($samples, $cpu) = (4, 0);
GetOptions('samples=i' => \$samples, 'cpu' => \$cpu) && $samples >= 1
    or die "usage: bench/vm-outage.pl [--samples N] [--cpu]\n";
my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
unless (-e $image) {
	print "vm-outage: no VM image ($image): make image-vm\n";
	exit 0;
}
my $c = Chassis->new(name => 'bench-vm-outage', layout => 'rootports', initrd => $image,
	slots => [ { slot => 1, cable => 1 }, { slot => 2 }, { slot => 3, cable => 1 } ]);
$c->start;

sub must {
	my ($cmd, $t) = @_;
	my ($rc, $out) = $c->run($cmd, timeout => $t // 120);
	die "vm-outage: $cmd: $out\n" if $rc;
	return $out;
}
sub migration {
	my ($rc, $out) = $c->run('cmcctl -j migrations', timeout => 30);
	my $all = eval { decode_json($out) } // [];
	my ($m) = grep { $_->{vm} eq "vm1" } @$all;
	return $m // {};
}
sub median { my @s = sort { $a <=> $b } @_; return @s ? $s[$#s / 2] : 0 }
my %lost;	# per peer ('in', 'out'), per sample: echo requests lost
sub gap {
	my ($file, $i) = @_;
	my $g = must("cat $file");
	my ($gap, $at, $utc, $s, $e) = $g =~ /longest_gap_ms=([\d.]+) gap_start_ms=([\d.]+) .*gap_start_utc=(\S+) gap_start_unix_ms=([\d.]+) gap_end_unix_ms=([\d.]+)/;
	die "vm-outage: sample $i: $file: $g\n" unless defined $gap;
	my ($sent, $recv, $lost) = $g =~ /sent=(\d+) received=(\d+) lost=(\d+)/;
	printf "  %s: %d echo requests sent, %d replies, %d lost\n", $file =~ /-in/ ? 'inside peer' : 'outside peer',
	    $sent // 0, $recv // 0, $lost // 0;
	push @{ $lost{ $file =~ /-in/ ? 'in' : 'out' } }, $lost // 0;
	return ($gap, $at, $utc, $s, $e);
}
# The last migration's timeline (cmcd's event): the source's STOP as ms of the UTC day and
# the other marks in ms after it (-1: not seen); () if there is none.
sub timeline {
	my ($ev) = @_;
	my @t = $ev =~ /vm1 timeline: source STOP at (\d+):(\d+):(\d+)\.(\d+) UTC; source completed \+?(-?[\d.]+) ms, destination loaded \+?(-?[\d.]+), cont sent \+?(-?[\d.]+), destination RESUME \+?(-?[\d.]+)/g;
	return () unless @t >= 8;
	my ($h, $m, $sec, $ms, @marks) = @t[-8 .. -1];
	return ((($h * 60 + $m) * 60 + $sec) * 1000 + $ms, @marks);
}
# A Unix time in ms relative to a time of the UTC day in ms (within half a day).
sub rel_day {
	my ($unix_ms, $day_ms) = @_;
	my $d = ($unix_ms - $day_ms) - 86400000 * int(($unix_ms - $day_ms) / 86400000);
	$d -= 86400000 while $d >= 43200000;
	$d += 86400000 while $d < -43200000;
	return $d;
}

# The sampler's lines from 400 ms before a gap (at ms after the peers started, the
# sampler's start) to 200 ms after it: the guest's busy share and each QEMU's ticks since
# the line before.
sub cpu_around {
	my ($at, $len) = @_;
	my ($prev, $t0, %was);
	$c->run('touch /tmp/cpu.stop; sleep 0.2');
	printf "  cpu around the inside peer's gap (%.0f ms after the start, %.1f ms long):\n", $at, $len;
	for my $l (split /\n/, must('cat /tmp/cpu.log')) {
		my ($t, @f) = $l =~ /^T ([\d.]+) cpu\s+(\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/ or next;
		my ($q) = $l =~ / Q ?(.*)$/;
		my %q = map { my ($p, $u, $s) = /^(\d+):(\d+)\+(\d+)$/; defined $s ? ($p => $u + $s) : () } split ' ', $q // '';
		my $busy = $f[0] + $f[1] + $f[2] + $f[4] + $f[5] + $f[6];
		my $all = $busy + $f[3];
		$t0 //= $t * 1000;
		my $rel = $t * 1000 - $t0 - $at;
		if ($prev && $rel >= -400 && $rel <= $len + 200) {
			printf "    %+7.0f ms  guest busy %3.0f%%  QEMU ticks %s\n", $rel,
			    $all > $prev->[1] ? 100 * ($busy - $prev->[0]) / ($all - $prev->[1]) : 0,
			    join(' ', map { "$_:" . ($q{$_} - ($was{$_} // $q{$_})) } sort keys %q);
		}
		$prev = [ $busy, $all ];
		%was = %q;
	}
}

my $ip = '10.9.0.5';
my $mac = '02:00:00:00:0c:01';
# The emulated chassis' configuration with card 3 (an uplink) and the blade "outside".
must(q~sed -e 's|{ name = "blade3"; id = 3; }|&,\n  { name = "outside"; id = 4; }|' ~
    . q~-e 's|role = "midplane"; } ); }|&,\n  { slot = 3; policy = "shared"; vfs = 4; driver = "igb-vfio"; ports = ( { pf = 0; role = "uplink"; } ); }|' ~
    . q~/cmc/conf/emulated.conf > /tmp/vm-outage.conf && cmcd --check-config /tmp/vm-outage.conf | grep -q '4 blades, 3 slots'~);
must(q{cmcd -c /tmp/vm-outage.conf && wait_for 300 '[ -z "$(for p in $(chassis_pfs); do vfs_probed $p || echo $p; done)" ]'});
must('cmcctl lane create mig blade1 blade2');
must("wait_for 300 'ip -n blade2 addr show ln-mig 2>/dev/null | grep -q 169.254.1.2' && "
    . "wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'");
must('cmcctl assign slot 1 vf 3 blade blade3 && ip -n blade3 addr add 10.9.0.1/24 dev s1v3 && blade_carrier blade3 300');
must("cmcctl assign slot 3 vf 0 blade outside && wait_for 300 'ip -n outside link show s3v0 >/dev/null 2>&1' && "
    . 'ip -n outside addr add 10.9.0.2/24 dev s3v0 && blade_carrier outside 300');
must("cmcctl vm start vm1 blade blade1 mem 64 mac $mac ip $ip");
must("wait_for 600 'ip netns exec blade3 ping -c 1 -W 1 $ip >/dev/null'");
# The outside peer is measured only if it reaches the VM; if not, the bench says so, with
# the counters of the ports and VFs on the way, and measures the inside peer alone.
my ($orc) = $c->run("wait_for 600 'ip netns exec outside ping -c 1 -W 1 $ip >/dev/null'", timeout => 120);
my $outside = $orc == 0;
print "vm-outage: the outside peer (card 3 VF 0, 10.9.0.2) cannot reach the VM; measuring the inside peer alone\n",
    must('cmcctl portstats; cmcctl vfstats') unless $outside;

my (%gap, @down, @sw, %part);
my @to = ('blade2', 'blade1');
printf "%-6s %-16s %10s %10s %10s %10s %10s %11s %7s %7s\n", 'sample', 'move', 'inside ms', 'at ms', 'outside ms', 'at ms',
    'QEMU down', 'switch-over', 'in/dn', 'out/dn';
for my $i (1 .. $samples) {
	my $to = $to[($i - 1) % 2];
	my $from = $to[$i % 2];
	$c->run('rm -f /tmp/gap-in.out /tmp/gap-out.out /tmp/frames.out /tmp/cpu.stop; '
		. ($cpu ? q{(while [ ! -e /tmp/cpu.stop ]; do read u x < /proc/uptime; read l < /proc/stat; q=; for p in $(pidof qemu-system-x86_64); do read s < /proc/$p/stat; set -- $s; q="$q $p:${14}+${15}"; done; echo "T $u $l Q$q"; sleep 0.05; done > /tmp/cpu.log 2>&1 &); } : '')
		. "(ip netns exec $to frame-times -d 300 $mac > /tmp/frames.out 2>&1 &); "
		. "(ip netns exec blade3 ping-gap -i 10 -d 300 $ip > /tmp/gap-in.out 2>&1 &); "
		. ($outside ? "(ip netns exec outside ping-gap -i 10 -d 300 $ip > /tmp/gap-out.out 2>&1 &)" : 'true'));
	must('sleep 2');
	my $nev = () = must('cmcctl events') =~ /\n/g;
	must("cmcctl migrate vm1 --to $to", 300);
	must('sleep 2');
	must('kill -INT $(pidof ping-gap) $(pidof frame-times); wait_for 50 "grep -q . /tmp/frames.out"; wait_for 50 "grep -q sent= /tmp/gap-in.out && { [ ' . ($outside ? 1 : 0) . ' = 0 ] || grep -q sent= /tmp/gap-out.out; }"', 30);
	my ($gi, $ai, $ui, $si, $ei) = gap('/tmp/gap-in.out', $i);
	cpu_around($ai, $gi) if $cpu;
	my ($go, $ao, $uo, $so, $eo) = $outside ? gap('/tmp/gap-out.out', $i) : (0, 0, '-', 0, 0);
	my $m = migration();
	my $d = $m->{qemu_downtime_ms} // 0;
	my $s = ($m->{switchover_us} // 0) / 1000;
	push @{ $gap{in} }, $gi;
	push @{ $gap{out} }, $go if $outside;
	push @down, $d;
	push @sw, $s;
	printf "%-6d %-16s %10.1f %10.1f %10s %10s %7d ms %8.1f ms %7.2f %7s\n", $i, "$from -> $to", $gi, $ai,
	    $outside ? (sprintf('%.1f', $go), sprintf('%.1f', $ao)) : ('-', '-'), $d, $s, $d ? $gi / $d : 0,
	    $outside && $d ? sprintf('%.2f', $go / $d) : '-';
	my ($stop, $done, $loaded, $cont, $resume) = timeline(must('cmcctl events'));
	if (defined $stop) {
		my @peers = ([ 'inside', $si, $ei ], $outside ? ([ 'outside', $so, $eo ]) : ());
		printf "  timeline, ms from the source's STOP: %s; source completed %+.1f, destination loaded %+.1f, "
		    . "cont sent %+.1f, destination RESUME %+.1f; %s\n",
		    join(', ', map { sprintf('%s last reply %+.1f', $_->[0], rel_day($_->[1], $stop)) } @peers),
		    $done, $loaded, $cont, $resume,
		    join(', ', map { sprintf('%s first reply %+.1f', $_->[0], rel_day($_->[2], $stop)) } @peers);
		for my $p (@peers) {
			push @{ $part{ $p->[0] }{before} }, -rel_day($p->[1], $stop);
			push @{ $part{ $p->[0] }{after} }, rel_day($p->[2], $stop) - $resume if $resume >= 0;
		}
		for my $f (split /\n/, must('cat /tmp/frames.out')) {
			my ($if, $rq, $tq, $rp, $tp, $fa, $ma) = $f =~ /if=(\S+) requests=(\d+) first_request_unix_ms=([\d.]+) replies=(\d+) first_reply_unix_ms=([\d.]+) first_reply_after_ms=(-?[\d.]+) median_reply_after_ms=(-?[\d.]+)/
			    or next;
			printf "  on %s's %s: first echo request to the VM %s, first reply from it %s, %s ms after its request "
			    . "(all replies: median %.1f ms; %d and %d frames)\n", $to, $if,
			    $rq ? sprintf('%+.1f', rel_day($tq, $stop)) : '-', $rp ? sprintf('%+.1f', rel_day($tp, $stop)) : '-',
			    $fa >= 0 ? sprintf('%.1f', $fa) : '?', $ma, $rq, $rp;
			if ($if =~ /^vtp-/ && $fa >= 0) {
				push @{ $part{vm_first} }, $fa;
				push @{ $part{vm_median} }, $ma;
			}
		}
		push @{ $part{qemu} }, $done;
		push @{ $part{cmcd} }, $resume - $done if $resume >= 0 && $done >= 0;
	} else {
		print "  timeline: cmcd posted none for this migration\n";
	}
	# An outage 200 ms beyond QEMU's downtime: its timeline, the gaps (UTC) beside cmcd's
	# events of this migration, to tell where the time went.
	next unless $gi > $d + 200 || $go > $d + 200;
	print "  timeline: inside gap from $ui for $gi ms, outside gap from $uo for $go ms; cmcd's events:\n";
	my $ev = must('cmcctl events');
	my @ev = split /\n/, $ev;
	my $from_ev = $nev < @ev ? $nev : (@ev > 12 ? @ev - 12 : 0);
	print map { "    $_\n" } @ev[ $from_ev .. $#ev ];
}
my ($md, $ms) = (median(@down), median(@sw));
for my $p ([ 'in', 'over the lane, peer inside (blade3, card 1\'s VEB)' ], [ 'out', 'over the lane, peer outside (card 3, across the uplinks)' ]) {
	next unless $gap{ $p->[0] };
	my $mg = median(@{ $gap{ $p->[0] } });
	my @ratio = map { $down[$_] ? $gap{ $p->[0] }[$_] / $down[$_] : 0 } 0 .. $#down;
	printf "vm-outage: %s, %d migrations: median outage %.1f ms, QEMU's downtime %d ms, cmcd's switch-over %.1f ms; "
	    . "ratio outage/downtime %.2f (median of the ratios %.2f); goal outage <= downtime + 50 ms: %s\n",
	    $p->[1], $samples, $mg, $md, $ms, $md ? $mg / $md : 0, median(@ratio),
	    $mg <= $md + 50 ? 'met' : sprintf('missed by %.1f ms', $mg - $md - 50);
	printf "vm-outage: %s, echo requests lost per migration: median %d (at 10 ms a request: %d ms; the rest of the "
	    . "longest gap's %.1f ms was replies late, not lost: requests queued while the VM was paused, or the peer or "
	    . "the VM not running in a busy guest)\n",
	    $p->[1], median(@{ $lost{ $p->[0] } }), 10 * median(@{ $lost{ $p->[0] } }), $mg;
	my $pp = $part{ $p->[0] eq 'in' ? 'inside' : 'outside' };
	printf "vm-outage: %s, median parts of the outage: last reply to STOP %.1f ms, STOP to source completed %.1f ms, "
	    . "completed to RESUME %.1f ms, RESUME to first reply %.1f ms\n", $p->[1], median(@{ $pp->{before} }),
	    median(@{ $part{qemu} }), median(@{ $part{cmcd} // [] }), median(@{ $pp->{after} // [] })
	    if $pp && $pp->{before};
}
printf "vm-outage: the VM's answer on its tap at the destination, medians: the first reply %.1f ms after its request, "
    . "later replies %.1f ms\n", median(@{ $part{vm_first} }), median(@{ $part{vm_median} }) if $part{vm_first};
