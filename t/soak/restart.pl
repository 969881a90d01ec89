#!/usr/bin/perl
# Soak: cmcd killed at a random point of `cmcctl assign` (or unassign) and restarted, many
# times in one boot of the emulated chassis (root-port layout, both cards on igb-vfio, the
# configuration of the chassis tests). Each cycle checks what a restart must give back:
#   - cmcd up and every VF of both cards probed again within 120 s (else: a wedge);
#   - each assignment whole: the VF's netdev in its blade, holding the assigned MAC;
#   - no MAC on two VFs anywhere (root namespace and every blade);
# and the guest console is watched for RCU stalls (the wedge seen once: timer wake-ups
# not happening on one CPU, VFs never probing). Prints one TAP line per cycle, then the
# figures: cycles whole, wedges, stalls, restart time p50/p90/max.
#   CMC_BUILD=build t/soak/restart.pl [--cycles N (default 50)] [--seed S] [--hog]
# --hog runs a CPU hog on the host beside the chassis. `make soak` runs it. Not part of
# `make check`: 50 cycles take about 10 minutes under TCG.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP;
use Getopt::Long qw(GetOptions);
use Time::HiRes qw(time);
use Chassis;

my ($cycles, $seed, $hog) = (50, time, 0);
GetOptions('cycles=i' => \$cycles, 'seed=i' => \$seed, 'hog' => \$hog) && $cycles > 0
    or die "usage: $0 [--cycles N] [--seed S] [--hog]\n";
srand($seed);
note("seed $seed, $cycles cycles" . ($hog ? ', CPU hog on the host' : ''));

my $hog_pid;
if ($hog) {
	$hog_pid = fork // die "fork: $!";
	if (!$hog_pid) { 1 while 1; exit 0 }
}
END { kill 'KILL', $hog_pid if $hog_pid }

my $c = Chassis->new(name => 'soak-restart', layout => 'rootports', hard_timeout => 60 * $cycles + 600,
	slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;
sub run { my ($cmd, %o) = @_; $c->run($cmd, timeout => 200, %o) }
sub json { my (undef, $out) = run($_[0]); my $j = eval { decode_json($out) }; $j // [] }
sub start_cmcd {
	my $t0 = time;
	my ($rc) = run('cmcd -c /cmc/conf/emulated.conf && wait_for 1200 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"');
	return ($rc, time - $t0);
}
sub stalls { scalar(() = $c->console =~ /rcu: INFO: rcu_\w+ detected stalls/g) }
# Every MAC a VF netdev holds, in the root namespace and in every blade.
sub live_macs {
	my (undef, $out) = run('for n in "" blade1 blade2 blade3; do ip ${n:+-n $n} -o link show; done | grep -o "link/ether [0-9a-f:]*"');
	return [ map { /link\/ether (\S+)/ ? $1 : () } split /\n/, $out ];
}
# Each assignment's netdev in its blade with its MAC (waits, bounded: placing follows start).
sub whole {
	my @bad;
	for my $a (@{ json('cmcctl -j assignments') }) {
		next unless defined $a->{netdev} && $a->{netdev} ne '-';
		my ($rc) = run("wait_for 300 'ip -n $a->{blade} link show $a->{netdev} 2>/dev/null | grep -q $a->{mac}'");
		push @bad, "$a->{slot}/$a->{vf} ($a->{netdev} in $a->{blade} with $a->{mac})" if $rc;
	}
	return @bad;
}

my ($rc, $dt) = start_cmcd();
BAIL_OUT('cmcd did not start: ' . $c->console) if $rc;
my (@times, $whole, $wedges) = ((), 0, 0);
my $stalls0 = stalls();
for my $i (1 .. $cycles) {
	my $vf = 1 + int(rand(3));
	my $blade = 'blade' . (1 + int(rand(3)));
	my $delay = int(rand(400000));
	my $sig = rand() < 0.8 ? '-9' : '-TERM';
	run("cmcctl unassign slot 1 vf $vf >/dev/null 2>&1; (cmcctl assign slot 1 vf $vf blade $blade >/dev/null 2>&1 &); "
	    . "usleep $delay; kill $sig \$(pidof cmcd); wait_for 300 '! pidof cmcd >/dev/null'");
	($rc, $dt) = start_cmcd();
	if ($rc) {
		$wedges++;
		fail("cycle $i (kill $sig after ${\ int($delay / 1000)} ms): cmcd up and VFs probed within 120 s");
		last;
	}
	push @times, $dt;
	my @bad = whole();
	my %seen;
	my @dups = grep { $seen{$_}++ } @{ live_macs() };
	my $ok = !@bad && !@dups;
	$whole++ if $ok;
	ok($ok, sprintf('cycle %d (kill %s after %d ms): restarted in %.1f s, assignments whole, no MAC twice', $i, $sig,
		$delay / 1000, $dt)) or diag('not whole: ' . join(', ', @bad) . '; MACs twice: ' . join(', ', @dups));
}
my $stalled = stalls() - $stalls0;
my @s = sort { $a <=> $b } @times;
sub pct { my ($p) = @_; @s ? $s[ int($p * $#s + 0.5) ] : 0 }
printf "# figures: %d of %d cycles whole, %d wedge(s), %d RCU stall report(s); restart p50 %.1f s, p90 %.1f s, max %.1f s\n",
	$whole, $cycles, $wedges, $stalled, pct(0.5), pct(0.9), pct(1);
is($stalled, 0, 'no RCU stall reported by the guest kernel');
diag($c->console) if $stalled || $wedges;
$c->stop;
done_testing;
