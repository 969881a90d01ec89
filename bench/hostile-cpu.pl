#!/usr/bin/perl
# What one hostile VF costs cmcd, in one boot of the emulated chassis (root-port layout,
# both igb cards on igb-vfio: conf/emulated.conf). VF 0 and VF 1 of slot 2 go to two
# blades and ping each other every 0.2 s; VF 2 is held through VFIO by t/tools/vf-hostile,
# which runs each of its kinds in turn for --seconds. For each window: cmcd's CPU time
# (utime + stime of /proc/PID/stat, all threads) over the window's wall time, as a share
# of one core, the pings lost, and what cmcd counted for VF 2 (cmcctl vfstats) and posted
# (cmcctl events: refusals and penalties, as many as the log returns). The baseline is
# the same window with no hostile VF (the pings only), measured first in the same boot.
# Each kind is a new vf-hostile, whose opening of the VF resets it (a pardon). Prints the
# figures; asserts nothing.
#   CMC_BUILD=build bench/hostile-cpu.pl [--seconds S] [--kinds k1,k2,...]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Chassis;
use Getopt::Long qw(GetOptions);
use JSON::PP;

$| = 1;
my $seconds = 20;
my $kinds = 'random,hostile-valid,flood,reset-storm,lock-hold,req-flood,lock-storm,vflr-storm';
GetOptions('seconds=i' => \$seconds, 'kinds=s' => \$kinds) && $seconds >= 2
    or die "usage: $0 [--seconds S (default 20)] [--kinds LIST]\n";

my $c = Chassis->new(name => 'bench-hostile', layout => 'rootports', slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;
sub run { my ($rc, $out) = $c->run($_[0], timeout => $seconds + 120); die "bench: '$_[0]' failed: $out" if $rc; $out }
sub vfstat {
	my $j = eval { decode_json(run('cmcctl -j vfstats')) } // [];
	my ($s) = grep { $_->{slot} == 2 && $_->{vf} == $_[0] } @$j;
	return $s // {};
}
# VF 2's events after seq0: (the last seq, refusals, penalties and pardons).
sub events_about_vf2 {
	my ($seq0) = @_;
	my $j = eval { decode_json(run('cmcctl -j events')) } // [];
	my ($last, $refused, $penalty) = ($seq0 // 0, 0, 0);
	for my $e (@$j) {
		$last = $e->{seq} if $e->{seq} > $last;
		next unless defined $seq0 && $e->{seq} > $seq0 && ($e->{slot} // -1) == 2 && $e->{detail} =~ /^pf 0 vf 2:/;
		$refused++ if $e->{kind} eq 'vf-refused';
		$penalty++ if $e->{kind} eq 'vf-penalty';
	}
	return ($last, $refused, $penalty);
}

run('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_have_netdevs 0000:02:00.0"');
my @vfs = split /\s+/, run('pf_vfs 0000:02:00.0');
run("vf_to_blade $vfs[0] blade1 10.77.0.1/24 >/dev/null && vf_to_blade $vfs[1] blade2 10.77.0.2/24 >/dev/null && "
    . 'blade_carrier blade1 300 && blade_carrier blade2 300');
run("echo $vfs[2] > /sys/bus/pci/devices/$vfs[2]/driver/unbind; echo vfio-pci > /sys/bus/pci/devices/$vfs[2]/driver_override; "
    . "echo $vfs[2] > /sys/bus/pci/drivers_probe");
run('ip netns exec blade1 ping -c 2 -W 3 10.77.0.2 >/dev/null');
my $pid = run('pidof cmcd') =~ s/\s+//gr;
my $hz = run('getconf CLK_TCK 2>/dev/null || echo 100') =~ s/\s+//gr;

# One window: the pings, and the hostile kind (or nothing) beside them.
sub window {
	my ($kind) = @_;
	my $n = $seconds * 5;
	my $hostile = $kind ? "vf-hostile $vfs[2] $seconds 7 $kind > /tmp/hostile.log 2>&1 &" : '';
	my $s0 = vfstat(2);
	my ($seq0) = events_about_vf2();
	my $out = run(qq{t0=\$(cut -d' ' -f1 /proc/uptime); c0=\$(awk '{print \$14+\$15}' /proc/$pid/stat); $hostile }
	    . qq{ip netns exec blade1 ping -q -c $n -i 0.2 -W 1 10.77.0.2 > /tmp/ping.log 2>&1; wait; }
	    . qq{t1=\$(cut -d' ' -f1 /proc/uptime); c1=\$(awk '{print \$14+\$15}' /proc/$pid/stat); }
	    . q{echo "window $t0 $t1 $c0 $c1"; cat /tmp/ping.log});
	my ($t0, $t1, $c0, $c1) = $out =~ /^window (\S+) (\S+) (\d+) (\d+)/m or die "bench: no window in $out";
	my ($sent, $got) = $out =~ /(\d+) packets transmitted, (\d+) (?:packets )?received/;
	my $s1 = vfstat(2);
	my %d = map { $_ => ($s1->{$_} // 0) - ($s0->{$_} // 0) } qw(mbx_messages mbx_refused mbx_resets mbx_penalties);
	return { share => ($c1 - $c0) / $hz / ($t1 - $t0), wall => $t1 - $t0, lost => ($sent // 0) - ($got // 0),
		 sent => $sent // 0, events => join('/', (events_about_vf2($seq0))[1, 2]), ignored => $s1->{mbx_ignored} // '-',
		 %d };
}

print "hostile-cpu: cmcd's CPU per hostile-VF kind, $seconds s each, emulated chassis (TCG), ",
    "VF 0 and VF 1 pinging every 0.2 s\n";
printf "  %-14s %8s %8s %10s %9s %9s %7s %9s %7s %7s\n", 'kind', 'cpu %', 'wall s', 'lost/sent', 'messages',
    'refused', 'resets', 'penalties', 'ignored', 'events refused/penalty';
for my $kind ('', split /,/, $kinds) {
	my $w = window($kind);
	printf "  %-14s %8.1f %8.1f %10s %9d %9d %7d %9d %7s %7s\n", $kind || '(baseline)', 100 * $w->{share}, $w->{wall},
	    "$w->{lost}/$w->{sent}", $w->{mbx_messages}, $w->{mbx_refused}, $w->{mbx_resets}, $w->{mbx_penalties},
	    $w->{ignored}, $w->{events};
	run('sleep 2');
}
$c->stop;
