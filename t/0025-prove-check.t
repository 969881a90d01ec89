#!/usr/bin/perl
# t/tools/prove-check, make check's prove: a failed test file marked as stalled (the guest's
# timer, t/lib/Chassis.pm) runs once more and its second result counts; a failed file that
# is not marked fails the run, also beside a marked one; a passing run passes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Host qw(sh spew);

my $PC = "$FindBin::Bin/tools/prove-check";
my $dir = tempdir(CLEANUP => 1);
my $st = "$dir/stalled";
sub script { my ($name, $body) = @_; spew("$dir/$name", "#!/bin/sh\n$body"); chmod(0755, "$dir/$name"); "$dir/$name" }
my $ok = script('ok.t', "echo 1..1; echo ok 1\n");
my $bad = script('bad.t', "echo 1..1; echo not ok 1\n");
# Fails the first time and marks itself as a stalled file would be; passes the second time.
my $once = script('once.t', qq(if [ -e $dir/ran ]; then echo 1..1; echo ok 1; exit 0; fi\n)
	. qq(touch $dir/ran; mkdir -p $st; echo "stall line" > $st/once.t; echo 1..1; echo not ok 1\n));

my ($rc, $out) = sh("$PC $st --exec '' -- $ok");
is($rc, 0, 'all pass: exit 0');
($rc, $out) = sh("$PC $st --exec '' -- $ok $once");
is($rc, 0, 'a marked failure that passes on its rerun: exit 0') or diag($out);
like($out, qr/prove-check: RERUN \S*once\.t \(rerun 1 of at most 2\): an emulator fault \(TCG: .*\), not cmc's: .*stall line/, 'and it says so, with the guest\'s line');
unlink("$dir/ran");
($rc, $out) = sh("$PC $st --exec '' -- $ok $bad");
isnt($rc, 0, 'an unmarked failure: the run fails');
unlike($out, qr/RERUN/, 'with no rerun');
($rc, $out) = sh("$PC $st --exec '' -- $bad $once");
isnt($rc, 0, 'an unmarked failure beside a marked one: the run fails');
unlike($out, qr/RERUN/, 'and nothing is rerun');
unlink("$dir/ran");
my $stuck = script('stuck.t', qq(mkdir -p $st; echo "stall line" > $st/stuck.t; echo 1..1; echo not ok 1\n));
($rc, $out) = sh("$PC $st --exec '' -- $stuck");
isnt($rc, 0, 'a marked file that fails every time: the run fails');
is(() = $out =~ /RERUN \S*stuck\.t/g, 2, '  after two reruns, no more');
# Wedged twice in a row, then passes: the second rerun counts.
my $twice = script('twice.t', qq(n=\$(cat $dir/runs 2>/dev/null || echo 0); echo \$((n + 1)) > $dir/runs\n)
	. qq(if [ \$n -ge 2 ]; then echo 1..1; echo ok 1; exit 0; fi\n)
	. qq(mkdir -p $st; echo "stall line" > $st/twice.t; echo 1..1; echo not ok 1\n));
($rc, $out) = sh("$PC $st --exec '' -- $ok $twice");
is($rc, 0, 'a marked file that wedges on its first rerun too and then passes: exit 0') or diag($out);
like($out, qr/RERUN \S*twice\.t \(rerun 2 of at most 2\)/, '  its second rerun said so');
# check-failures: make check's last lines name the failed file and test, and keep what it
# wrote to stderr; the passing files' lines are left out.
my $loud = script('loud.t', qq(echo 1..2; echo ok 1; echo "# console: guest line" >&2; echo "not ok 2 - ping blade2"; echo "#   Failed test 'ping blade2'" >&2\n));
my $chatty = script('chatty.t', qq(echo "# chatter of a passing file" >&2; echo 1..1; echo ok 1\n));
($rc, $out) = sh("$PC $st --exec '' --timer -- $chatty $loud $ok > $dir/log 2>&1; $FindBin::Bin/tools/check-failures $dir/log");
like($out, qr/^---- \S*loud\.t\n# console: guest line\n#   Failed test 'ping blade2'\n/m, 'check-failures: the failed file, with what it wrote');
unlike($out, qr/chatter of a passing file/, '  not what a passing file wrote');
like($out, qr/prove-check: failed: \S*loud\.t\ncheck-failures: the failed tests:\n  \S*loud\.t: 'ping blade2'\n\z/, '  and ends with the failed test by name');
# The wedge's mark in what QEMU knows, for a guest that went silent before its RCU detector
# spoke (Chassis::lost_eoi), on records kept from real stalls of the emulated chassis.
require Chassis;
my $D = "$FindBin::Bin/data";
sub diag_of { open(my $f, '<', $_[0]) or return ''; local $/; <$f> }
like(Chassis::lost_eoi(diag_of("$D/stall-diag-timer.txt")) // '', qr/^vCPU 0 halted with interrupts on and vector\(s\) 236 in service/,
     'lost EOI: vCPU 0 halted with the timer vector (236) in service');
like(Chassis::lost_eoi(diag_of("$D/stall-diag-ipi.txt")) // '', qr/^vCPU 1 halted with interrupts on and vector\(s\) 253 in service/,
     'lost EOI: vCPU 1 halted with the reschedule IPI (253) in service, vCPU 0 halted and clean');
is(Chassis::lost_eoi(diag_of("$D/stall-diag-bios.txt")), undef, 'a guest in its firmware, halted with interrupts off and nothing in service: not the wedge');
# QEMU's abort on its own assertion, as it printed it (a boot of t/0600, 2026-11-30).
like(diag_of("$D/qemu-abort-iotlb.txt"), $Chassis::QEMU_ABORT_RE, "QEMU's assertion failure (iotlb_to_section) is known for an emulator fault");
unlike("qemu-system-x86_64: warning: nic card2 has no peer\n", $Chassis::QEMU_ABORT_RE, '  its warnings are not');
my $live = diag_of("$D/stall-diag-timer.txt") =~ s/HLT=1/HLT=0/gr;
is(Chassis::lost_eoi($live), undef, 'a vector in service on a running vCPU (its handler runs): not the wedge');
done_testing;
