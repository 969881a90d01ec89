#!/usr/bin/perl
# The chassis' identity, which every VF's default MAC derives from (cmc/macs.h), on the
# host with cmcd on a dump (no QEMU): drawn at the first start and kept in the store,
# the same after a restart, different for another chassis (another store), taken from
# the configuration when it names one (and then kept), and refused out of range. The
# MAC rule itself (layout, no collision between two chassis) is t/unit/macs.c.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use Compress::Zlib ();
use Chassis;
use Host qw(sh slurp spew);

my $B = Chassis::build_dir();
my ($CMCD, $CMCCTL, $GEN) = ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump");
-x $_ or BAIL_OUT("$_ not built: run make") for $CMCD, $CMCCTL, $GEN;
my $dir = tempdir(CLEANUP => 1);
system("$GEN -s 2 -v 2 -o $dir/two.dump") == 0 or BAIL_OUT('mp-gendump failed');

sub config {
	my ($store, $extra) = @_;
	return qq(chassis = { name = "idtest"; ) . ($extra // '') . qq( };\n)
	    . qq(daemon = { socket = "$dir/run/cmcd.sock"; group = ""; store = "$dir/$store"; };\n)
	    . qq(blades = ( { name = "blade1"; id = 1; } );\n);
}

# Start cmcd on the dump with this configuration, ask its chassis id, stop it.
sub chassis_id {
	my ($conf) = @_;
	spew("$dir/c.conf", $conf);
	truncate("$dir/cmcd.log", 0) if -e "$dir/cmcd.log";
	my $pid = fork() // die;
	if (!$pid) {
		open(STDOUT, '>>', "$dir/cmcd.log");
		open(STDERR, '>&', \*STDOUT);
		exec($CMCD, '-f', '-c', "$dir/c.conf", '--pci-dump', "$dir/two.dump") or exit 127;
	}
	my ($id, $end) = (undef, time + 10);
	while (time < $end && !defined $id) {
		my ($rc, $out) = sh("CMC_SOCKET=$dir/run/cmcd.sock $CMCCTL -j version");
		$id = eval { decode_json($out)->{chassis_id} } if $rc == 0;
		last if waitpid($pid, 1) == $pid;
		sleep 0.05;
	}
	kill('TERM', $pid);
	waitpid($pid, 0);
	diag(slurp("$dir/cmcd.log")) unless defined $id;
	return $id;
}

my $a1 = chassis_id(config('a/store'));
like($a1 // '', qr/^0x[0-9a-f]{8}$/, "a first start draws an id ($a1)");
my $n = hex($a1 // 0);
ok($n >= 1 && $n <= 0x3fffffff, 'within 1..0x3fffffff (30 bits)');
like(slurp("$dir/cmcd.log"), qr/chassis id \Q$a1\E drawn at random, kept in the store/, 'and says so in the log');
is(chassis_id(config('a/store')), $a1, 'a restart on the same store keeps it');
my $b1 = chassis_id(config('b/store'));
isnt($b1, $a1, "another chassis (another store) draws another ($b1)");
is(chassis_id(config('a/store', 'id = 0x2a3b4c5;')), '0x02a3b4c5', 'a configured id is taken');
like(slurp("$dir/cmcd.log"), qr/chassis id 0x02a3b4c5 from the configuration replaces \Q$a1\E: the VFs' default MACs change/,
	'and the change is logged');
is(chassis_id(config('a/store')), '0x02a3b4c5', 'and kept in the store when the setting goes');

# A store written by hand (cmc/store.h's format, version 1), as a disk or a hand could
# leave it: a garbled chassis id is replaced by a fresh one, which is logged and kept.
sub write_store {
	my ($path, %rec) = @_;
	my $payload = join('', map { pack('vv', length $_, length $rec{$_}) . $_ . $rec{$_} } sort keys %rec);
	my $head = 'CMCSTATE' . pack('VVQ<VV', 1, 0, 1, scalar(keys %rec), length $payload);
	my $crc = Compress::Zlib::crc32($head . $payload);
	mkdir($path =~ s{/[^/]+$}{}r);
	spew($path, $head . pack('V', $crc) . $payload);
}
write_store("$dir/g/store", 'chassis/id' => 'not-an-id', 'slot/9' => 'card=none');
my $g1 = chassis_id(config('g/store'));
like($g1 // '', qr/^0x[0-9a-f]{8}$/, "a garbled chassis/id in the store: a fresh id is drawn ($g1)");
like(slurp("$dir/cmcd.log"), qr/store: chassis\/id "not-an-id" is not a chassis id: replacing it/, '  and the log says why');
is(chassis_id(config('g/store')), $g1, 'the fresh id is kept');
unlike(slurp("$dir/cmcd.log"), qr/not a chassis id/, '  and read back without complaint');

for my $bad ([ '0', qr/chassis\.id: 0 is out of range 1\.\.1073741823/ ],
	     [ '0x40000000', qr/chassis\.id: 1073741824 is out of range 1\.\.1073741823/ ],
	     [ '"abc"', qr/chassis\.id: expected an integer/ ]) {
	spew("$dir/bad.conf", config('a/store', "id = $bad->[0];"));
	my ($rc, $out) = sh("$CMCD --check-config $dir/bad.conf");
	is($rc, 1, "chassis.id = $bad->[0]: refused");
	like($out, $bad->[1], "chassis.id = $bad->[0]: saying why") or diag($out);
}

done_testing;
