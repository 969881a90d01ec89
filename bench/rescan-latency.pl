#!/usr/bin/perl
# Does cmcd keep answering while it rescans? On the largest chassis dump (64 slots x 8 PFs
# x 7 VFs, 4,096 functions, ~55 MB: about a second of libpci reading per rescan), 100
# `cmcctl -j version` calls are timed one by one (client start-up included) with no rescan
# running, then 100 more while rescans run back to back (a helper asks for one every
# 50 ms; cmcd runs one more after the current whenever one was asked for meanwhile).
# Calls are --gap ms apart (default 40) in both sets, so that the second spans several
# rescans, each one's hand-over to the loop included. Each
# reply says whether a rescan was running when it was made ("rescanning"), so the count of
# calls answered during a rescan is printed too. Prints p50/p99 of each set and the ratio
# of the p99s; asserts nothing about time.
#   CMC_BUILD=build bench/rescan-latency.pl [--calls N] [--gap MS]
use strict;
use warnings;
use File::Temp qw(tempdir);
use Getopt::Long qw(GetOptions);
use JSON::PP;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);

$| = 1;
my ($calls, $gap) = (100, 40);
GetOptions('calls=i' => \$calls, 'gap=i' => \$gap) && $calls >= 10 && $gap >= 0
    or die "usage: $0 [--calls N (>= 10, default 100)] [--gap MS (default 40)]\n";
my $B = $ENV{CMC_BUILD} // 'build';
for ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump") {
	-x $_ or die "rescan-latency: $_ missing (run make)\n";
}
my $dir = tempdir(CLEANUP => 1);
$ENV{CMC_SOCKET} = "$dir/sock";
system("$B/tools/mp-gendump", '-s', 64, '-p', 8, '-v', 7, '-o', "$dir/chassis.dump") == 0
    or die "rescan-latency: mp-gendump failed\n";
open(my $cf, '>', "$dir/c.conf") or die;
print $cf qq(chassis = { name = "bench"; };\n),
    qq(daemon = { socket = "$dir/sock"; group = ""; store = "$dir/state"; };\n),
    qq(blades = ( { name = "b1"; id = 1; } );\n);
close $cf;

my ($daemon, $asker);
END { kill('TERM', $_) for grep { $_ } $asker, $daemon }
$daemon = fork() // die;
if (!$daemon) {
	open(STDERR, '>', "$dir/log");
	exec("$B/cmcd", '-f', '-c', "$dir/c.conf", '--pci-dump', "$dir/chassis.dump") or _exit(127);
}
sub version { my $j = `$B/cmcctl -j version 2>/dev/null`; $? == 0 ? (eval { decode_json($j) } // {}) : undef }
my $end = time + 60;
sleep 0.1 until version() || time > $end;
version() or die "rescan-latency: cmcd did not start:\n" . `cat $dir/log`;

# One timed call each; returns the durations (ms) and how many replies said "rescanning".
sub timed_calls {
	my (@ms, $during);
	$during = 0;
	for (1 .. $calls) {
		my $t0 = time;
		my $v = version() // die "rescan-latency: cmcctl version failed\n";
		push @ms, (time - $t0) * 1000;
		$during++ if $v->{rescanning};
		sleep($gap / 1000);
	}
	return (\@ms, $during);
}
sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v; $v[ int(($#v) * $p / 100 + 0.5) ] }

version() for 1 .. 5;	# warm the page cache and the client
my ($idle, $idle_during) = timed_calls();
my $r0 = version()->{rescans} // 0;
$asker = fork() // die;
if (!$asker) {
	while (1) { system("$B/cmcctl rescan >/dev/null 2>&1"); sleep 0.05 }
}
# The first rescan under way (a cmcd from before "rescanning" existed: the first ended).
$end = time + 120;
sleep 0.05 until version()->{rescanning} || (version()->{rescans} // 0) > $r0 || time > $end;
my ($busy, $busy_during) = timed_calls();
kill('TERM', $asker);
waitpid($asker, 0);
undef $asker;
my $rescans = (version()->{rescans} // 0) - $r0;

printf "rescan-latency: cmcctl -j version on a 64x8x7 dump (4,096 functions), %d calls each\n", $calls;
printf "  no rescan          p50 %6.1f ms   p99 %6.1f ms   (%d answered during a rescan)\n",
    pct(50, @$idle), pct(99, @$idle), $idle_during;
printf "  rescans running    p50 %6.1f ms   p99 %6.1f ms   (%d answered during a rescan; %d rescans finished)\n",
    pct(50, @$busy), pct(99, @$busy), $busy_during, $rescans;
printf "  ratio p99 rescans / no rescan = %.2f\n", pct(99, @$busy) / (pct(99, @$idle) || 1);
