#!/usr/bin/perl
# A VM's network outage during a live migration, seen from the network (issue #14 item 6),
# in one boot of the emulated chassis (root-port layout, conf/emulated.conf: card 1 an
# uplink, card 2 a midplane port with the lane between blade1 and blade2). The VM is the
# payload (t/vm) with an e1000 answering ping for 10.9.0.5 (doc/vm-network.md); blade3
# has VF 3 of card 1 as 10.9.0.1 and pings it every 10 ms (t/tools/ping-gap) through each
# migration. The VM moves blade1 -> blade2 -> blade1 ... over the lane, N times
# (--samples, default 4). Per sample: the longest gap between two replies seen by the
# peer (the outage), QEMU's downtime (query-migrate's "downtime": source stopped to
# completed, as `cmcctl -j migrations` qemu_downtime_ms keeps it), cmcd's switch-over
# (completed to the destination's cont answered) and the ratio outage/downtime; then the
# medians and whether the median outage is within QEMU's downtime + 50 ms (the goal).
# A 10 ms ping period makes the outage's resolution 10 ms.
# Reports; asserts nothing about time.
#   CMC_BUILD=build bench/vm-outage.pl [--samples N]
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
my $samples = 4;
GetOptions('samples=i' => \$samples) && $samples >= 1 or die "usage: bench/vm-outage.pl [--samples N]\n";
my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
unless (-e $image) {
	print "vm-outage: no VM image ($image): make image-vm\n";
	exit 0;
}
my $c = Chassis->new(name => 'bench-vm-outage', layout => 'rootports', initrd => $image,
	slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
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

my $ip = '10.9.0.5';
must('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"');
must('cmcctl lane create mig blade1 blade2');
must("wait_for 300 'ip -n blade2 addr show ln-mig 2>/dev/null | grep -q 169.254.1.2' && "
    . "wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'");
must('cmcctl assign slot 1 vf 3 blade blade3 && ip -n blade3 addr add 10.9.0.1/24 dev s1v3 && blade_carrier blade3 300');
must("cmcctl vm start vm1 blade blade1 mem 64 mac 02:00:00:00:0c:01 ip $ip");
must("wait_for 600 'ip netns exec blade3 ping -c 1 -W 1 $ip >/dev/null'");

my (@gap, @down, @sw, @ratio);
my @to = ('blade2', 'blade1');
printf "%-8s %-17s %11s %15s %14s %7s\n", 'sample', 'move', 'outage ms', 'QEMU downtime', 'switch-over', 'ratio';
for my $i (1 .. $samples) {
	my $to = $to[($i - 1) % 2];
	my $from = $to[$i % 2];
	$c->run("rm -f /tmp/gap.out; (ip netns exec blade3 ping-gap -i 10 -d 300 $ip > /tmp/gap.out 2>&1 &)");
	must('sleep 2');
	must("cmcctl migrate vm1 --to $to", 300);
	must('sleep 2');
	must('kill -INT $(pidof ping-gap); wait_for 50 "grep -q sent= /tmp/gap.out"', 30);
	my $g = must('cat /tmp/gap.out');
	my ($gap) = $g =~ /longest_gap_ms=([\d.]+)/;
	my $m = migration();
	die "vm-outage: sample $i: $g\n" unless defined $gap;
	my $d = $m->{qemu_downtime_ms} // 0;
	my $s = ($m->{switchover_us} // 0) / 1000;
	push @gap, $gap;
	push @down, $d;
	push @sw, $s;
	push @ratio, $d ? $gap / $d : 0;
	printf "%-8d %-17s %11.1f %12d ms %11.1f ms %7.2f\n", $i, "$from -> $to", $gap, $d, $s, $d ? $gap / $d : 0;
}
my ($mg, $md, $ms) = (median(@gap), median(@down), median(@sw));
printf "vm-outage: over the lane, %d migrations: median outage seen by the peer %.1f ms, QEMU's downtime %d ms, "
    . "cmcd's switch-over %.1f ms; ratio outage/downtime %.2f (median of the ratios %.2f); goal outage <= downtime + 50 ms: %s\n",
    $samples, $mg, $md, $ms, $md ? $mg / $md : 0, median(@ratio), $mg <= $md + 50 ? 'met' : sprintf('missed by %.1f ms', $mg - $md - 50);
