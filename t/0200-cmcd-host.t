#!/usr/bin/perl
# cmcd and cmcctl on the host, on chassis described by libpci dumps (no QEMU): the
# inventory they report, every class of bad CLI input and bad configuration with its
# message and exit code, kill -9 and restart (state kept and reconciled with what
# changed meanwhile), a damaged store (reported, refused, left untouched).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use Chassis;
use Host qw(sh slurp spew start_cmcd);

my $B = Chassis::build_dir();
my ($CMCD, $CMCCTL, $GEN) = ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump");
-x $_ or BAIL_OUT("$_ not built: run make") for $CMCD, $CMCCTL, $GEN;
my $dir = tempdir(CLEANUP => 1);
$ENV{CMC_SOCKET} = "$dir/run/cmcd.sock";


sub config {
	my (%o) = @_;
	my $blades = $o{blades} // '{ name = "blade1"; id = 1; }, { name = "blade2"; id = 2; }';
	return qq(chassis = { name = "hosttest"; };\n)
	    . qq(daemon = { socket = "$dir/run/cmcd.sock"; group = ""; store = "$dir/state/store"; };\n)
	    . qq(blades = ( $blades );\n) . ($o{extra} // '');
}
spew("$dir/good.conf", config());
system("$GEN -s 3 -e 3 -v 2 -o $dir/three.dump") == 0 or BAIL_OUT('mp-gendump failed');
system("$GEN -s 3 -e 2,3 -v 2 -o $dir/slot2-pulled.dump") == 0 or BAIL_OUT('mp-gendump failed');

my $pid;
sub start_daemon {
	my ($dump, $ok) = @_;
	($pid, $ok) = start_cmcd(cmcd => $CMCD, cmcctl => $CMCCTL, conf => "$dir/good.conf", dump => $dump,
				 socket => "$dir/run/cmcd.sock", log => "$dir/cmcd.log", timeout => 10);
	return $ok;
}
sub stop_daemon { my ($sig) = @_; kill($sig // 'TERM', $pid); waitpid($pid, 0); my $st = $?; undef $pid; $st }
END { kill('KILL', $pid) if $pid }

# --- daemon not running -----------------------------------------------------------
my ($rc, $out) = sh("$CMCCTL slots");
is($rc, 1, 'no daemon: exit 1');
like($out, qr/cmcd is not running \(no socket at \Q$dir\E/, 'no daemon: says so and where');
($rc, $out) = sh("$CMCCTL help");
is($rc, 0, 'cmcctl help needs no daemon');
like($out, qr/^usage: cmcctl .*\n.*\bassign slot N/s, 'and prints the commands');

# --- inventory --------------------------------------------------------------------
ok(start_daemon("$dir/three.dump"), 'cmcd starts on a 3-slot dump');
is(sprintf('%o', (stat "$dir/run/cmcd.sock")[2] & 07777), '660', 'control socket is 0660');
($rc, $out) = sh("$CMCCTL -j slots");
is($rc, 0, 'cmcctl -j slots');
my $slots = eval { decode_json($out) } // [];
is(scalar @$slots, 3, 'three slots');
is_deeply([ map { $_->{slot} } @$slots ], [ 1, 2, 3 ], 'numbered 1-3');
for my $s (@$slots[0, 1]) {
	is($s->{device_id}, '10c9', "slot $s->{slot}: an 82576");
	is($s->{vfs_total}, 8, "slot $s->{slot}: 8 VFs in SR-IOV");
	is($s->{vfs_enabled}, 2, "slot $s->{slot}: 2 enabled");
	ok($s->{occupied} && $s->{presence}, "slot $s->{slot}: occupied");
}
ok(!$slots->[2]{occupied} && $slots->[2]{card} eq '', 'slot 3: empty');
($rc, $out) = sh("$CMCCTL -j slot 2");
my $slot2 = eval { decode_json($out) } // {};
is(scalar @{ $slot2->{functions} // [] }, 3, 'slot 2: one PF and two VFs');
is_deeply([ map { $_->{bdf} } @{ $slot2->{functions} // [] } ],
	[ '0000:04:00.0', '0000:04:10.0', '0000:04:10.2' ], 'slot 2: VF offset 128, stride 2');
($rc, $out) = sh("$CMCCTL slots");
like($out, qr/^SLOT\s+STATE\s+PORT\s+LINK\s+VFS\s+PFS\s+CARD\s+PROBLEMS\n1\s+occupied\s+0000:02:00\.0\s+2\.5GT\/s x1\s+2\/8/m, 'table for people');
like($out, qr/^3\s+empty\s+0000:02:02\.0\s+down\s+-\s+0\s+\(empty\)\s+0$/m, 'an empty slot: state empty, link down');
($rc, $out) = sh("$CMCCTL blades");
like($out, qr/^blade1\s+1\s+0\s+0$/m, "blades listed, with their functions (none assigned) and how many are placed");

# --- bad CLI input: message and exit code for each class ---------------------------
my @bad = (
	[ 'slot 9',         1, qr/no slot 9 in this chassis \(slots: 1, 2, 3\)/, 'unknown slot' ],
	[ 'slot x',         2, qr/'x' is not a slot number/,                      'non-numeric slot' ],
	[ 'slot -1',        2, qr/not a slot number/,                             'negative slot' ],
	[ 'slot 99999999999999999999', 2, qr/not a slot number/,                  'huge slot' ],
	[ 'slot',           2, qr/usage: slot N/,                                 'missing argument' ],
	[ 'slot 1 2',       2, qr/usage: slot N/,                                 'extra argument' ],
	[ 'functions slot', 2, qr/usage: functions \[slot N\]/,                   'incomplete functions' ],
	[ 'frobnicate',     2, qr/unknown command 'frobnicate'/,                  'unknown command' ],
	[ "'a b'",          2, qr/may not be empty or hold spaces/,               'argument with a space' ],
	[ '-x slots',       2, qr/usage:/,                                        'unknown option' ],
	[ 'trust 1 0 0 on', 1, qr/slot 1 pf 0 is not driven by cmcd: it drives no cards \(it reads a PCI dump/,
	  'a VF setting on a PCI dump' ],
	[ '',               2, qr/usage:/,                                        'no command' ],
);
for my $b (@bad) {
	my ($args, $want_rc, $want_msg, $name) = @$b;
	($rc, $out) = sh("$CMCCTL $args");
	is($rc, $want_rc, "$name: exit $want_rc");
	like($out, $want_msg, "$name: message");
}
# Raw protocol abuse straight at the socket: an overlong line and binary junk.
($rc, $out) = sh(qq(perl -e 'print "A" x 5000, "\\n"' | timeout 5 perl -MIO::Socket::UNIX -e '\$s=IO::Socket::UNIX->new(Peer=>"$dir/run/cmcd.sock") or die; local \$/; print \$s <STDIN>; shutdown(\$s,1); print <\$s>'));
like($out, qr/ERR 2 request line too long/, 'an overlong request line is refused');
($rc, $out) = sh(qq(printf 'slot \\001\\n' | timeout 5 perl -MIO::Socket::UNIX -e '\$s=IO::Socket::UNIX->new(Peer=>"$dir/run/cmcd.sock") or die; local \$/; print \$s <STDIN>; shutdown(\$s,1); print <\$s>'));
like($out, qr/ERR 2 non-printable request/, 'a request with control characters is refused');
is((sh("$CMCCTL version"))[0], 0, 'the daemon still answers after the abuse');

SKIP: {
	skip 'needs root and setpriv to act as another user', 2 unless $> == 0 && -x '/usr/bin/setpriv';
	($rc, $out) = sh("setpriv --reuid=65534 --regid=65534 --clear-groups $CMCCTL slots");
	is($rc, 1, 'another user: exit 1');
	like($out, qr/permission denied on \Q$dir\E\/run\/cmcd\.sock/, 'another user: permission denied, said so');
}

# --- kill -9, restart: same state, reconciled with the hardware ---------------------
stop_daemon('KILL');
my $store_before = slurp("$dir/state/store");
ok(length $store_before, 'the store holds the slots\' last picture');
ok(start_daemon("$dir/slot2-pulled.dump"), 'after kill -9 cmcd restarts (slot 2 pulled meanwhile)');
($rc, $out) = sh("$CMCCTL -j events");
my $events = eval { decode_json($out) } // [];
my @rec = grep { $_->{kind} eq 'reconcile' } @$events;
is(scalar @rec, 1, 'one difference reported at restart');
is($rec[0]{slot}, 2, 'about slot 2');
like($rec[0]{detail} // '', qr/card 8086:10c9 removed while cmcd was down/, 'saying what happened');
($rc, $out) = sh("$CMCCTL -j slot 2");
ok(!(eval { decode_json($out) } // {})->{occupied}, 'slot 2 now shows empty');
stop_daemon();
ok(start_daemon("$dir/slot2-pulled.dump"), 'restart with nothing changed');
($rc, $out) = sh("$CMCCTL -j events");
my $events2 = eval { decode_json($out) } // [];
is(scalar(grep { $_->{kind} eq 'reconcile' } @$events2), 0, 'no difference reported');
# A second cmcd on the same store waits for it (a killed one may still be exiting), and
# starts once the first one is gone.
my $second = fork() // die;
if (!$second) {
	open(STDOUT, '>', "$dir/second.log");
	open(STDERR, '>&', \*STDOUT);
	exec($CMCD, '-f', '-c', "$dir/good.conf", '--pci-dump', "$dir/slot2-pulled.dump") or exit 127;
}
my $t_end = time + 5;
sleep 0.05 until slurp("$dir/second.log") =~ /store is held/ || time > $t_end;
like(slurp("$dir/second.log"), qr/the state store is held \(.*in use by another process.*\): waiting up to 10 s/,
	'a second cmcd on the same store says it waits for it');
stop_daemon();
$t_end = time + 15;
sleep 0.1 until (sh("$CMCCTL version"))[0] == 0 || time > $t_end;
is((sh("$CMCCTL version"))[0], 0, 'and starts once the first has gone') or diag(slurp("$dir/second.log"));
$pid = $second;
stop_daemon();

# --- a damaged store is reported, refused and left untouched ------------------------
my $good = slurp("$dir/state/store");
my $bad = $good;
substr($bad, length($bad) - 3, 1) ^= "\x01";
spew("$dir/state/store", $bad);
truncate("$dir/cmcd.log", 0);
($rc, $out) = sh("$CMCCTL version");
my $t0 = time;
system("timeout 10 $CMCD -f -c $dir/good.conf --pci-dump $dir/three.dump >> $dir/cmcd.log 2>&1");
is($? >> 8, 1, 'cmcd refuses to start on a damaged store');
my $log = slurp("$dir/cmcd.log");
like($log, qr/state store is damaged: .*\Q$dir\E\/state\/store/, 'it names the file');
like($log, qr/has not touched it/, 'and says it left it alone');
is(slurp("$dir/state/store"), $bad, 'the damaged file is byte for byte what it was');
spew("$dir/state/store", $good);

# --- bad configurations: cmcd refuses to start, --check-config names file:line -------
my @confs = (
	[ 'syntax',      "chassis = { name = \"x\" \n",                             qr/bad\.conf:\d+: / ],
	[ 'unknown key', config(extra => "colour = \"blue\";\n"),                   qr/bad\.conf:4: colour: unknown setting/ ],
	[ 'bad blade id', config(blades => '{ name = "b"; id = 0; }'),              qr/bad\.conf:3: blades\.\[0\]\.id: 0 is out of range 1\.\.64/ ],
	[ 'duplicate blade', config(blades => '{ name = "b"; id = 1; }, { name = "b"; id = 2; }'), qr/bad\.conf:3: blades\.\[1\]\.name: .*b.*/ ],
);
for my $c (@confs) {
	my ($name, $text, $want) = @$c;
	spew("$dir/bad.conf", $text);
	($rc, $out) = sh("$CMCD --check-config $dir/bad.conf");
	is($rc, 1, "--check-config, $name: exit 1");
	like($out, $want, "--check-config, $name: names file:line and the setting");
	($rc, $out) = sh("timeout 10 $CMCD -f -c $dir/bad.conf --pci-dump $dir/three.dump");
	is($rc, 1, "cmcd, $name: refuses to start");
	like($out, qr/not starting: fix the configuration/, "cmcd, $name: says why");
}
($rc, $out) = sh("$CMCD --check-config $dir/good.conf");
is($rc, 0, '--check-config on a good file: exit 0');
like($out, qr/valid \(chassis hosttest, 2 blades/, '--check-config: summary');
spew("$dir/nogroup.conf", config() =~ s/group = ""/group = "cmc-no-such-group"/r);
($rc, $out) = sh("$CMCD --check-config $dir/nogroup.conf");
is($rc, 0, '--check-config: a socket group that does not exist: the file is valid (exit 0)');
like($out, qr/warning: daemon\.group: group 'cmc-no-such-group' does not exist; cmcd will not start until it does \(groupadd --system cmc-no-such-group\)/,
     '  but a warning names the group and the command that makes it');
($rc, $out) = sh("$CMCD --check-config $dir/missing.conf");
is($rc, 1, '--check-config on a missing file: exit 1');
($rc, $out) = sh("$CMCD --bogus");
is($rc, 2, 'cmcd with an unknown option: exit 2');

# --- devices that lie (t/data/inventory/): slot states, problems reported once ------
my $cases = "$FindBin::Bin/data/inventory";
unlink("$dir/state/store");
ok(start_daemon("$cases/three.dump"), 'cmcd on the reference chassis (fresh store)');
my $ref = eval { decode_json((sh("$CMCCTL -j slots"))[1]) } // [];
is_deeply([ map { $_->{state} } @$ref ], [ ('occupied') x 3 ], 'three.dump: 3 slots occupied');
stop_daemon();
sub events_of {
	my ($kind) = @_;
	my $all = eval { decode_json((sh("$CMCCTL -j events"))[1]) } // [];
	return grep { $_->{kind} eq $kind } @$all;
}
sub slots_now { eval { decode_json((sh("$CMCCTL -j slots"))[1]) } // [] }

ok(start_daemon("$cases/gone.dump"), 'cmcd on gone.dump (slot 1 reads all ones)');
my $s = slots_now();
is_deeply([ map { $_->{state} } @$s ], [ 'not-responding', 'occupied', 'occupied' ],
	'gone.dump: slot 1 not-responding, 2 and 3 occupied');
like($s->[0]{problems} // '', qr/^0000:03:00\.0: does not answer/m, 'slot 1 carries the problem, naming 03:00.0');
my @r = events_of('reconcile');
is(scalar @r, 1, 'one reconcile event');
like($r[0]{detail} // '', qr/went from occupied \(card 8086:10c9\) to not-responding while cmcd was down/,
	'it says the card stopped answering, not that it was removed');
my @p = events_of('problem');
is(scalar(grep { ($_->{detail} // '') =~ /^0000:03:00\.0: does not answer/ } @p), 1,
	'a problem event names 0000:03:00.0, once');
like(slurp("$dir/cmcd.log"), qr/event problem: slot 1: 0000:03:00\.0: does not answer/, 'and the log says so');
stop_daemon();
ok(start_daemon("$cases/gone.dump"), 'restart on the same dump');
is(scalar(events_of('problem')), 0, 'the problems are not reported again');
stop_daemon();

ok(start_daemon("$cases/numvfs.dump"), 'cmcd on numvfs.dump (NumVFs 0xffff > TotalVFs 8)');
$s = slots_now();
is_deeply([ map { $_->{state} } @$s ], [ 'unreadable', 'occupied', 'occupied' ], 'numvfs.dump: slot 1 unreadable');
is_deeply([ map { $_->{vfs_enabled} } @$s ], [ 0, 2, 2 ], 'no VFs counted for slot 1; slots 2 and 3 keep their 2');
is(scalar(grep { ($_->{detail} // '') =~ /^0000:03:00\.0: SR-IOV capability at 0x160 broken: NumVFs 65535 > TotalVFs 8/ }
	events_of('problem')), 1, 'the broken capability is an event naming the PF, once');
stop_daemon();

ok(start_daemon("$cases/caploop.dump"), 'cmcd on caploop.dump (port 02:01.0 capability loop)');
$s = slots_now();
is(scalar @$s, 3, 'caploop.dump: 3 slots still');
my ($blind) = grep { $_->{port} eq '0000:02:01.0' } @$s;
ok($blind && !defined $blind->{slot} && $blind->{state} eq 'unreadable', 'port 02:01.0: unreadable, number unknown');
is(scalar(grep { ($_->{detail} // '') =~ /^0000:02:01\.0: capability list: chain looped/ } events_of('problem')), 1,
	'the loop is an event naming the port');
is(scalar(grep { ($_->{detail} // '') =~ /no longer present/ } events_of('reconcile')), 0,
	'slot 2 is not called gone');
($rc, $out) = sh("$CMCCTL slots");
like($out, qr/^-\s+unreadable\s+0000:02:01\.0\s+unknown\s/m, 'the table shows it (STATE unreadable, LINK unknown)');
stop_daemon();

ok(start_daemon("$cases/notrained.dump"), 'cmcd on notrained.dump (slot 2: presence, no link)');
$s = slots_now();
is($s->[1]{state}, 'link-down', 'notrained.dump: slot 2 link-down');
is("$s->[1]{presence}/$s->[1]{link}/$s->[1]{link_width}", '1/down/0', 'presence set, the port\'s link as it is: down, width 0');
stop_daemon();

# --- rescans run off the loop: commands are answered while one reads a big chassis ---
# A rescan of 4,096 functions reads ~55 MB through libpci (about a second on an idle
# machine). `cmcctl version` says whether a rescan was running when cmcd made the reply:
# a reply saying so was made by the loop during the rescan, which cannot happen while the
# scan runs on the loop. A loaded machine may finish the scan before the next command
# comes in, so up to five rescans are tried; nothing here is timed.
sub version_j { eval { decode_json((sh("$CMCCTL -j version"))[1]) } // {} }
sub wait_rescans {
	my ($n) = @_;
	my $end = time + 300;	# a bound for a wedged daemon, not a measurement
	sleep 0.1 while (version_j()->{rescans} // -1) < $n && time < $end;
	return (version_j()->{rescans} // -1) >= $n;
}
system("$GEN -s 64 -p 8 -v 7 -o $dir/big.dump") == 0 or BAIL_OUT('mp-gendump failed');
unlink("$dir/state/store");
ok(start_daemon("$dir/big.dump"), 'cmcd on a 64-slot dump (64 x 8 PFs x 7 VFs)');
my ($during, $whole, $tries) = (0, 0, 0);
while (!$during && $tries < 5) {
	my $before = version_j()->{rescans} // 0;
	$tries++;
	($rc, $out) = sh("$CMCCTL rescan");
	is($rc, 0, "cmcctl rescan $tries: accepted") or diag($out);
	my $v = version_j();
	if ($v->{rescanning} && $v->{rescans} == $before) {
		$during = 1;
		# Readers see the old inventory whole until the new one is swapped in.
		my $sl = slots_now();
		$whole = @$sl == 64 && !grep { $_->{state} ne 'occupied' || $_->{vfs_enabled} != 56 } @$sl;
	}
	ok(wait_rescans($before + 1), "rescan $tries ends") or last;
}
ok($during, "cmcctl version answered while a rescan ran (in $tries rescans)");
ok($whole, 'cmcctl -j slots during the rescan: 64 whole slots of 56 VFs');
my @done = grep { ($_->{detail} // '') =~ /^requested: done in \d+ ms \(\d+ ms of it on the loop\): 64 slots, 0 changes$/ }
    events_of('rescan');
is(scalar @done, $tries, 'each requested rescan ends with a "rescan" event');
is(scalar @{ slots_now() }, 64, 'the new inventory: 64 slots');
stop_daemon();

# A rescan that fails keeps the inventory it had, and says why.
system("cp $dir/three.dump $dir/changing.dump") == 0 or die;
ok(start_daemon("$dir/changing.dump"), 'cmcd on a dump that will be cut short');
truncate("$dir/changing.dump", (-s "$dir/changing.dump") - 10);
my $r0 = version_j()->{rescans};
is((sh("$CMCCTL rescan"))[0], 0, 'rescan of the cut dump: asked');
my $end = time + 300;
sleep 0.1 until events_of('rescan') || time > $end;
my ($fail) = events_of('rescan');
like($fail->{detail} // '', qr/^requested: failed after \d+ ms: .*changing\.dump:\d+: /, 'its failure is an event naming file:line');
is(version_j()->{rescans}, $r0, 'a failed rescan is not counted');
is(scalar @{ slots_now() }, 3, 'the inventory before it stays: 3 slots');
stop_daemon();

done_testing;
