#!/usr/bin/perl
# The interactive chassis on a terminal, as a person gets it: `t/chassis/run` and
# `make chassis` under a pseudo-terminal (pty-run -i: this script types through it).
# Each boots, reaches the guest's shell, takes typed commands (cmcd started, `cmcctl
# slots` shows its table), and `poweroff -f` ends it with exit 0. QEMU reads its serial
# console from that terminal: run in a background process group (plain timeout(1)) it
# was stopped by SIGTTIN at its first read and nothing ever appeared.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IPC::Open2;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);
use Chassis;

my $TOP = "$FindBin::Bin/..";
my $B = Chassis::build_dir();
my $PTY = "$B/tools/pty-run";
-x $PTY or BAIL_OUT("$PTY not built: run make");
-f "$B/chassis/initrd.img" or BAIL_OUT('no guest image: run make image');

# One session: COMMAND on a terminal; returns the exit code and everything shown.
sub session {
	my ($what, @cmd) = @_;
	my ($out, $in);
	local $ENV{CMC_BUILD} = $B;
	my $pid = open2($out, $in, $PTY, '-i', '-t', 240, @cmd);
	my $seen = '';
	# Reads until $re shows (true) or $secs pass (false).
	my $expect = sub {
		my ($re, $secs) = @_;
		my $end = time + $secs;
		while (time < $end) {
			return 1 if $seen =~ $re;
			my $rin = '';
			vec($rin, fileno($out), 1) = 1;
			next unless select(my $rout = $rin, undef, undef, 0.5) > 0;
			last unless sysread($out, $seen, 4096, length $seen);
		}
		return $seen =~ $re;
	};
	my $type = sub { syswrite($in, "$_[0]\n") };

	ok($expect->(qr/Booting the emulated chassis/, 60), "$what: starts booting");
	ok($expect->(qr/`poweroff -f` leaves/, 120), "$what: the guest's shell comes up on the terminal")
	    or diag("last output:\n" . substr($seen, -2000));
	$type->('cmcd -c /cmc/conf/emulated-switch.conf && echo CMCD-$((6*7))');
	ok($expect->(qr/CMCD-42/, 60), "$what: typed commands run (cmcd started)") or diag(substr($seen, -2000));
	$type->('cmcctl slots');
	ok($expect->(qr/SLOT\s+STATE\s+PORT.*\n.*\b1\s+occupied\b/, 30), "$what: cmcctl slots shows the table")
	    or diag(substr($seen, -2000));
	$type->('poweroff -f');
	my ($rc, $end) = (undef, time + 60);
	while (time < $end) {
		$expect->(qr/(?!)/, 1);	# drains the output meanwhile
		if (waitpid($pid, WNOHANG) == $pid) { $rc = $? >> 8; last }
	}
	if (!defined $rc) { kill 'KILL', $pid; waitpid($pid, 0); $rc = 'still running after 60 s' }
	is($rc, 0, "$what: poweroff -f leaves with exit 0");
	close $in;
	close $out;
}

session('t/chassis/run', "$TOP/t/chassis/run");
session('make chassis', 'make', '-C', $TOP, '--no-print-directory', "O=$B", 'chassis');

done_testing;
