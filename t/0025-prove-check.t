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
like($out, qr/prove-check: RERUN \S*once\.t: the guest's timer stalled under TCG.*stall line/, 'and it says so, with the guest\'s line');
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
isnt($rc, 0, 'a marked file that fails again: the run fails');
done_testing;
