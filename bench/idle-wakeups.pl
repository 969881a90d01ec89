#!/usr/bin/perl
# How often an idle cmcd wakes up, per thread, in one boot of the emulated chassis
# (root-port layout, two igb cards, both driven by cmcd: conf/emulated.conf, igb-vfio,
# 4 VFs each). Once the VFs are probed and --settle seconds have passed, each thread's
# voluntary context switches (/proc/PID/task/TID/status: one per sleep that ended) are
# read twice, --window seconds apart; so are those of two references started in the same
# guest: an idle `sleep` (the floor: 0) and a shell waking every 500 ms (`usleep 500000`
# in a loop: the rate of the card thread's former backstop poll, 2/s), whose rate the
# ratios are against. Two phases: the VFs probed but down, then two of them up in blades
# with carrier (igbvf's watchdog runs). Also shows the mailbox messages the cards served
# in each window (cmcctl vfstats): with none, a card-thread wake-up is a timer's.
# Prints the figures; asserts nothing.
#   CMC_BUILD=build bench/idle-wakeups.pl [--settle S] [--window S]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Chassis;
use Getopt::Long qw(GetOptions);
use JSON::PP;

$| = 1;
my ($settle, $window) = (10, 10);
GetOptions('settle=i' => \$settle, 'window=i' => \$window) && $settle >= 0 && $window >= 1
    or die "usage: $0 [--settle SECONDS (default 10)] [--window SECONDS (default 10)]\n";

my $c = Chassis->new(name => 'bench-idle', layout => 'rootports', slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;
sub run { my ($rc, $out) = $c->run($_[0], timeout => 120); die "bench: '$_[0]' failed: $out" if $rc; $out }

# pid -> { tid => [comm, voluntary, nonvoluntary] }
sub switches {
	my ($pid) = @_;
	my (%t, $tid);
	for (split /\n/, run(qq{for t in /proc/$pid/task/*; do echo "task \${t##*/} \$(cat \$t/comm)"; grep ctxt_switches \$t/status; done})) {
		if (/^task (\d+) (\S+)/) { $tid = $1; $t{$tid} = [ $2, 0, 0 ] }
		elsif (/^voluntary_ctxt_switches:\s*(\d+)/) { $t{$tid}[1] = $1 }
		elsif (/^nonvoluntary_ctxt_switches:\s*(\d+)/) { $t{$tid}[2] = $1 }
	}
	return \%t;
}

sub mailbox_messages {
	my $j = eval { decode_json(run('cmcctl -j vfstats')) } // [];
	my $n = 0;
	$n += $_->{mbx_messages} for @$j;
	return $n;
}

# One window: every thread of cmcd and the references, wake-ups per second.
sub measure {
	my ($phase, $pids) = @_;
	my $mbx0 = mailbox_messages();	# outside the window: a request wakes cmcd
	my %before = map { $_ => switches($pids->{$_}) } keys %$pids;
	run("sleep $window");
	my %after = map { $_ => switches($pids->{$_}) } keys %$pids;
	my $mbx1 = mailbox_messages();
	my %rate;
	for my $who (keys %$pids) {
		for my $tid (sort { $a <=> $b } keys %{ $after{$who} }) {
			my $b = $before{$who}{$tid} or next;    # a thread born in the window
			my $a = $after{$who}{$tid};
			$rate{"$who/$a->[0]/$tid"} = [ ($a->[1] - $b->[1]) / $window, ($a->[2] - $b->[2]) / $window ];
		}
	}
	my ($ref) = map { $rate{$_}[0] } grep { m{^ref2hz/} } keys %rate;
	print "$phase (window $window s; mailbox messages served: ", $mbx1 - $mbx0, ")\n";
	printf "  %-32s %12s %12s %12s\n", 'process/thread/tid', 'wake-ups/s', 'involuntary', 'ratio /2Hz';
	for my $k (sort keys %rate) {
		printf "  %-32s %12.2f %12.2f %12s\n", $k, @{ $rate{$k} },
		    $ref ? sprintf('%.3f', $rate{$k}[0] / $ref) : 'n/a';
	}
}

run('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_have_netdevs 0000:01:00.0 && vfs_have_netdevs 0000:02:00.0"');
my $probe_misses = run('dmesg | grep -c "Assigning random MAC" || true') =~ s/\s+//gr;
run("sleep $settle");
my %pids = (cmcd => run('pidof cmcd') =~ s/\s+//gr);
$pids{idle} = run('sleep 100000 >/dev/null 2>&1 & echo $!') =~ s/\s+//gr;
$pids{ref2hz} = run(q{sh -c 'while :; do usleep 500000; done' >/dev/null 2>&1 & echo $!}) =~ s/\s+//gr;
run('sleep 1');
print "idle-wakeups: cmcd with two igb-vfio cards (4 VFs each), emulated chassis (TCG)\n";
print "  igbvf probes that fell back to a random MAC (missed the PF's answer): $probe_misses\n";
measure('VFs probed, netdevs down', \%pids);

# Two VFs up in blades, with carrier.
run('vf_to_blade $(pf_vfs 0000:02:00.0 | sed -n 1p) blade1 10.77.0.1/24 >/dev/null && '
    . 'vf_to_blade $(pf_vfs 0000:02:00.0 | sed -n 2p) blade2 10.77.0.2/24 >/dev/null && '
    . 'blade_carrier blade1 300 && blade_carrier blade2 300');
run("sleep $settle");
measure('two VFs up in blades (carrier)', \%pids);
$c->stop;
