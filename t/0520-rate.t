#!/usr/bin/perl
# A VF's transmit rate reaches the card (issue #10, item 4): igb-vfio writes the 82576's
# rate factor for the VF's rate to the rate scheduler of each of the VF's two transmit
# queues (RTTDQSEL selects queue n, then n + 8; RTTBCNRC takes the value). QEMU's igb
# implements none of these registers: it drops the writes and reads 0. Its trace event for
# writes to registers it does not implement (e1000e_wrn_regs_write_unknown, on QEMU's
# stderr on the host) shows what reached the card, which is what this test reads:
#
#   - assigning a VF with a rate writes the datasheet's factor for that VF's queues;
#   - the VF back to its default (unassigned) clears it; a new rate writes the new value;
#     a rate not below the link speed leaves the limiter off;
#   - cmcctl vfstats shows the value written and, on the emulator, "not kept by this card";
#     cmcd logs once that the card does not keep the limits.
#
# The expected values are worked out here from the datasheet's definition (RF = link /
# rate in 10.14 fixed point, truncated, RS_ENA = bit 31), not taken from the C code.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Chassis;

my ($RTTDQSEL, $RTTBCNRC, $RTTBCNRM) = (0x3604, 0x36b0, 0x3690);
my ($SLOT, $VF) = (1, 2);
my @queues = ($VF, $VF + 8);
my $link = 1000;    # QEMU's igb always reports 1000 Mbit/s

my $c = Chassis->new(name => 'rate', layout => 'rootports', trace => ['e1000e_wrn_regs_write_unknown'],
	slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;

sub vfstat { my ($s) = grep { $_->{slot} == $SLOT && $_->{pf} == 0 && $_->{vf} == $VF } @{ $c->json('cmcctl -j vfstats') }; $s // {} }

# The datasheet's factor, on its own terms.
sub factor {
	my ($rate) = @_;
	return 0 if $rate == 0 || $rate >= $link;
	my $int = int($link / $rate);
	my $dec = int((($link - $int * $rate) * 16384) / $rate);
	return 0x80000000 | ($int << 14) | $dec;
}

# The unknown-register writes QEMU traced since byte $from: [offset, value] in order.
sub writes {
	my ($from) = @_;
	my @w;
	for (split /\n/, $c->qemu_stderr($from)) {
		push @w, [ hex $1, hex $2 ] if /e1000e_wrn_regs_write_unknown .*register 0x([0-9a-f]+), \d+ byte\(s\), value: 0x([0-9a-f]+)/;
	}
	return @w;
}
# Per queue, the last RTTBCNRC value written (to the queue RTTDQSEL selected last).
sub limiters {
	my ($from) = @_;
	my ($sel, %q);
	for (writes($from)) {
		my ($reg, $val) = @$_;
		$sel = $val if $reg == $RTTDQSEL;
		$q{$sel} = $val if $reg == $RTTBCNRC && defined $sel;
	}
	return \%q;
}
# Waits (bounded) until both of the VF's queues got $want since $from; returns what they got.
sub wait_limiters {
	my ($from, $want) = @_;
	my $end = time + 10;
	my $q;
	do {
		$q = limiters($from);
		return $q if !grep { ($q->{$_} // -1) != $want } @queues;
		sleep 0.2;
	} while (time < $end);
	return $q;
}
sub check_limiters {
	my ($from, $rate, $name) = @_;
	my $want = factor($rate);
	my $q = wait_limiters($from, $want);
	my $shown = join(', ', map { sprintf('queue %d: %s', $_, defined $q->{$_} ? sprintf('0x%08x', $q->{$_}) : 'nothing') }
		sort { $a <=> $b } keys %$q) || 'no rate-scheduler write at all';
	is_deeply([ map { $q->{$_} } @queues ], [ $want, $want ], sprintf('%s: 0x%08x on queues %s', $name, $want, join(' and ', @queues)))
	    or diag("QEMU saw: $shown\n" . $c->qemu_stderr($from));
	my %mine = map { $_ => 1 } @queues;
	is_deeply([ grep { !$mine{$_} } sort { $a <=> $b } keys %$q ], [], "$name: no other queue's limiter written")
	    or diag("QEMU saw: $shown");
}

$c->ok_run('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"',
	'cmcd up, VFs of both cards probed', timeout => 90);
ok(scalar(grep { $_->[0] == $RTTBCNRM && $_->[1] == 0x14 } writes(0)),
	'bring-up sets the schedulers\' compensation time (RTTBCNRM = 0x14, for 9728-byte frames)');

my $from = $c->qemu_stderr_size;
$c->ok_run("cmcctl assign slot $SLOT vf $VF blade blade1 rate 300", 'assign a VF with rate 300 Mbit/s');
check_limiters($from, 300, 'rate 300 (RF 3 + 5461/16384)');
my $s = vfstat();
is($s->{rate}, 300, 'vfstats: the rate asked');
is($s->{rate_reg}, sprintf('0x%08x', factor(300)), 'vfstats: the value written');
is($s->{rate_link_mbps}, $link, 'vfstats: for the port speed');
ok(exists $s->{rate_kept} && !$s->{rate_kept}, 'vfstats -j: the emulated card did not keep it (reads 0)');
like($c->run('cmcctl vfstats'), qr/^$SLOT\s+0\s+$VF\s.*\s300\s+0x8000d555 not kept by this card$/m,
	'cmcctl vfstats: the value, "not kept by this card"');

$from = $c->qemu_stderr_size;
$c->ok_run("cmcctl unassign slot $SLOT vf $VF", 'unassign it: the VF back to its defaults');
check_limiters($from, 0, 'the default (rate 0) clears it');
$s = vfstat();
is_deeply([ @$s{qw(rate rate_reg)} ], [ 0, '0x00000000' ], 'vfstats: rate 0, limiter off');
like($c->run('cmcctl vfstats'), qr/^$SLOT\s+0\s+$VF\s.*\s0\s+off$/m, 'cmcctl vfstats: off');

$from = $c->qemu_stderr_size;
$c->ok_run("cmcctl assign slot $SLOT vf $VF blade blade1 rate 1", 'assign it again with a new rate, 1 Mbit/s');
check_limiters($from, 1, 'rate 1 (RF 1000, the slowest whole rate)');
is(vfstat()->{rate_reg}, sprintf('0x%08x', factor(1)), 'vfstats: the new value');

$from = $c->qemu_stderr_size;
$c->ok_run("cmcctl unassign slot $SLOT vf $VF && cmcctl assign slot $SLOT vf $VF blade blade1 rate 1000",
	'and with a rate of the link speed, 1000 Mbit/s');
check_limiters($from, 1000, 'rate = link speed: the limiter off');
like($c->run('cmcctl vfstats'), qr/^$SLOT\s+0\s+$VF\s.*\s1000\s+off \(rate not below the link's 1000 Mbit\/s\)$/m,
	'cmcctl vfstats says why it is off');

# cmcd says so in its log (syslog, on the console here), once per card, not per write.
my @told = $c->console =~ /(slot $SLOT pf 0 vf $VF: the card does not keep transmit limits \(RTTBCNRC 0x8000d555 read back as 0x00000000\))/g;
is(scalar @told, 1, 'cmcd logged once that the card does not keep the limits') or diag("log lines: @told");

$c->stop;
done_testing();
