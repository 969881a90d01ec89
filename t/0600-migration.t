#!/usr/bin/perl
# Live migration of a VM between blades over a lane (issue #6), in the root-port layout:
# card 1's port is an uplink (cabled, captured), card 2's a midplane port carrying the
# lane between blade1 and blade2. The VM is the project's payload (t/vm) under nested
# QEMU; its counter must go on from where it was, its self-check must stay clean, its
# state must cross the lane and not a cable, and its profile (MAC, rate) must follow it.
# Then the failures: a destination whose hypervisor lacks a device of the VM (blade3: the
# test's config gives blade1's and blade2's VMs a virtio-rng device, not blade3's), the
# destination dies, the lane breaks, the lane's card is pulled out, cmcd is killed in the
# middle, the source dies; each time the VM is where the store says and a retry works.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use Chassis;
use Pcap;

my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
plan skip_all => "no VM image ($image): make image-vm" unless -e $image;
my $c = Chassis->new(name => 'migration', layout => 'rootports', captures => 1, initrd => $image,
	slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;

sub json { my ($rc, $out) = $c->run($_[0], timeout => 60); my $j = eval { decode_json($out) }; diag("$_[0]: $out") unless $j; $j // [] }
sub ok_run { my ($cmd, $name, %o) = @_; my ($rc, $out) = $c->run($cmd, %o); is($rc, 0, $name) or diag("$cmd: $out"); $out }
sub vm { my ($name) = @_; my ($v) = grep { $_->{vm} eq $name } @{ json('cmcctl -j vms') }; $v // {} }
sub migration { my ($name) = @_; my ($m) = grep { $_->{vm} eq $name } @{ json('cmcctl -j migrations') }; $m // {} }
# The payload's state block: counter, mirror, errors (t/vm/payload.c).
sub counter {
	my ($name, $blade) = @_;
	my $out = $c->run("qmp-call -t 10 -H /run/cmc/vm/$name\@$blade.qmp 'xp /3gx 0x200000'", timeout => 30);
	my @w = $out =~ /0x([0-9a-f]{16})/g;
	return undef unless @w >= 3;
	no warnings "portable";
	my ($count, $mirror, $errors) = map { hex } @w[0 .. 2];
	return { count => $count, mirror_ok => (($count ^ 0x5A5A5A5A5A5A5A5A) == $mirror), errors => $errors };
}
# Where the card delivers the VM's MAC: its static entries, "slot/VF" each (doc/intent.md:
# a VM's MAC is a static entry on its profile's VF, which keeps its own MAC).
sub entries_of { my ($m) = @_; join(',', map { "$_->{slot}/$_->{pools}" } grep { lc($_->{mac} // "") eq $m && ($_->{kind} // "") eq "static" } @{ json('cmcctl -j vbridge show') }) }
sub vfstat { my ($slot, $vf) = @_; my ($s) = grep { $_->{slot} == $slot && $_->{vf} == $vf } @{ json('cmcctl -j vfstats') }; $s // {} }
sub wait_status {
	my ($name, $re, $tenths) = @_;
	for (1 .. $tenths) { my $m = migration($name); return $m if ($m->{status} // '') =~ $re; select(undef, undef, undef, 0.1) }
	return migration($name);
}
sub start_cmcd {
	ok_run('cmcd -c /tmp/mig.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"',
		'cmcd up', timeout => 90);
}
# The emulated chassis' config, but blade1's and blade2's hypervisors give their VMs a
# virtio-rng device, which blade3's lacks.
my $hv = 'hypervisor = { args = ( "-device", "virtio-rng-pci" ); };';
ok_run(qq{sed -E 's/(name = "blade[12]"; id = [12];)/\\1 $hv/' /cmc/conf/emulated.conf > /tmp/mig.conf && }
    . q{test $(grep -c virtio-rng /tmp/mig.conf) = 2 && cmcd --check-config /tmp/mig.conf},
	"the test's config: blade1's and blade2's hypervisors have a device that blade3's lacks");
sub lane_up {
	my ($name, $a, $z, $net) = @_;
	return "wait_for 300 'ip -n $z addr show ln-$name 2>/dev/null | grep -q 169.254.$net.2' && blade_carrier $a 300 && "
	    . "blade_carrier $z 300 && wait_for 100 'ip netns exec $a ping -c 1 -W 1 169.254.$net.2 >/dev/null'";
}
# Frames of the lane's addresses (169.254/16) on a cable.
sub lane_frames_on {
	my ($file) = @_;
	return Pcap::count($file, sub {
		my $f = $_;
		return 0 unless $f->{ethertype} == 0x0800;
		my $ip = 14 + 4 * scalar @{ $f->{vlans} };
		return 0 if length($f->{data}) < $ip + 20;
		my ($src, $dst) = unpack('x12 a4 a4', substr($f->{data}, $ip));
		return (substr($src, 0, 2) eq "\xa9\xfe" || substr($dst, 0, 2) eq "\xa9\xfe") ? 1 : 0;
	});
}

start_cmcd();
ok_run('cmcctl lane create mig blade1 blade2 && cmcctl lane create mig3 blade1 blade3',
	'a lane between blade1 and blade2, another between blade1 and blade3');
ok_run(lane_up('mig', 'blade1', 'blade2', 1) . ' && ' . lane_up('mig3', 'blade1', 'blade3', 2), 'the lanes are up',
	timeout => 120);
my ($lane) = grep { $_->{lane} eq 'mig' } @{ json('cmcctl -j lanes') };
my $mac = '02:00:00:00:0a:01';

# The loop never waits: while vm1's QEMU comes up (seconds under nested TCG), cmcd answers
# others; `vm start` itself answers once the VM is up. Its QEMU's log appears when cmcd has
# started it, inside the command: from then on a cmcd that waited for QEMU would not answer.
$c->run("rm -f /tmp/start.rc; (cmcctl vm start vm1 blade blade1 mem 64 mac $mac rate 100; echo rc=\$? > /tmp/start.rc) > /tmp/start.out 2>&1 &");
ok_run(q{wait_for 200 'test -e /run/cmc/vm/vm1@blade1.log'}, "cmcd is starting vm1's QEMU", timeout => 40);
my (undef, $during) = $c->run('cmcctl version >/dev/null && if test -e /tmp/start.rc; then echo answered; else echo pending; fi',
	timeout => 60);
is($during =~ s/\s+//gr, 'pending', 'cmcctl version answers while vm start still waits for its QEMU');
ok_run(q{wait_for 600 'test -e /tmp/start.rc' && grep -q rc=0 /tmp/start.rc}, 'vm1 starts on blade1 with a profile (vm start answers once it is up)', timeout => 90);
my $v = vm('vm1');
is("$v->{blade} $v->{state} $v->{mac} $v->{rate}", "blade1 running $mac 100", 'cmcctl vms: on blade1, running, its profile');
# The payload fills its 8 MiB first (slow under nested TCG), then counts.
for (1 .. 60) { my $k = counter('vm1', 'blade1'); last if $k && $k->{count} > 0; $c->run('sleep 1') }
my $c1 = counter('vm1', 'blade1');
$c->run('sleep 1');
my $c2 = counter('vm1', 'blade1');
ok($c1 && $c2 && $c2->{count} > $c1->{count}, "the payload's counter advances ($c1->{count} -> $c2->{count})");
my ($prof) = grep { $_->{vm} eq 'vm1' } @{ json('cmcctl -j assignments') };
is($prof->{blade}, 'blade1', "the VM's profile is on a VF of blade1");
is(entries_of($mac), "$prof->{slot}/$prof->{vf}", "the VM's MAC is live there: the card's one static entry for it is on that VF");

# --- A destination that cannot load the state --------------------------------------------
# blade3's QEMU has no virtio-rng: it refuses the state. The source hears of it (QEMU's
# return path) before it calls the migration completed; the VM carries on on blade1.
my ($rc3, $out3) = $c->run('cmcctl migrate vm1 --to blade3 2>&1', timeout => 240);
is($rc3, 1, "a migration to blade3, whose hypervisor lacks the VM's virtio-rng: cmcctl migrate fails");
my $m3 = migration('vm1');
is($m3->{status}, 'failed', 'cmcctl migrations: failed');
like($m3->{reason}, qr/destination could not load the state: .*virtio-rng/, "with QEMU's reason ($m3->{reason})");
my $v3 = vm('vm1');
is("$v3->{blade} $v3->{state}", 'blade1 running', 'the VM still runs on blade1');
my $k1 = counter('vm1', 'blade1');
$c->run('sleep 1');
my $k2 = counter('vm1', 'blade1');
ok($k1 && $k2 && $k2->{count} > $k1->{count} && $k2->{errors} == 0, "and its counter advances there ($k1->{count} -> $k2->{count})");
my @p3 = grep { $_->{vm} eq 'vm1' } @{ json('cmcctl -j assignments') };
is(join(',', map { "$_->{blade}:$_->{slot}/$_->{vf}" } @p3) . ' ' . entries_of($mac),
	"blade1:$prof->{slot}/$prof->{vf} $prof->{slot}/$prof->{vf}", "its profile and its MAC are on blade1's VF, the same as before, and only there");
is($c->run(q{for p in $(ip netns pids blade3); do cat /proc/$p/comm 2>/dev/null; done | grep -c qemu}) =~ s/\s+//gr, '0',
	'no QEMU is left running on blade3');

# --- The migration -----------------------------------------------------------------------
my $lane_vf_b = $lane->{vf_b};
my $rx0 = vfstat(2, $lane_vf_b)->{rx_bytes} // 0;
my $before = counter('vm1', 'blade1');
my $out = ok_run('cmcctl migrate vm1 --to blade2', 'cmcctl migrate vm1 --to blade2', timeout => 240);
like($out, qr/vm1\s+blade1\s+blade2\s+mig\s+completed/, 'it reports the migration completed');
$v = vm('vm1');
is("$v->{blade} $v->{state}", 'blade2 running', 'vm1 now runs on blade2');
is(($c->run('test -e /run/cmc/vm/vm1@blade1.pid && kill -0 $(cat /run/cmc/vm/vm1@blade1.pid) 2>/dev/null'))[0], 1,
	'and its QEMU on blade1 is gone');
my $after = counter('vm1', 'blade2');
ok($after && $after->{count} >= $before->{count}, "the counter went on from where it was ($before->{count} -> $after->{count})");
$c->run('sleep 1');
my $later = counter('vm1', 'blade2');
ok($later && $later->{count} > $after->{count}, 'and keeps advancing on blade2');
ok($later && $later->{mirror_ok} && $later->{errors} == 0, "the payload's self-check is clean (errors $later->{errors})");
my $m = migration('vm1');
cmp_ok($m->{transferred}, '>=', 8 << 20, "the migration moved the payload's 8 MiB and more ($m->{transferred} bytes)");
my $rx1 = vfstat(2, $lane_vf_b)->{rx_bytes} // 0;
cmp_ok($rx1 - $rx0, '>=', $m->{transferred}, "blade2's lane VF received at least that much (" . ($rx1 - $rx0) . ' bytes)');
is(lane_frames_on($c->capture_path(1)), 0, 'no frame of the lane is on the uplink cable');
note("migration: $m->{transferred} bytes, $m->{total_time_ms} ms, downtime $m->{downtime_ms} ms, $m->{mbps} Mbit/s");
note('cmcd: ' . ($c->run('cmcctl events | grep migrated | tail -1'))[1]);
my @prof = grep { $_->{vm} eq 'vm1' } @{ json('cmcctl -j assignments') };
is(join(',', map { "$_->{blade}" } @prof) . ' ' . entries_of($mac), "blade2 $prof[0]{slot}/$prof[0]{vf}",
	"the profile followed: the VM's MAC is live on blade2's VF only");
# ... and it is live there: the VM announces itself from blade2 (announce-self: RARPs from
# its MAC out of its NIC, through its port and its VF); those broadcasts go out of the
# uplink, which also shows the capture sees that cable (so its lack of lane frames means
# something).
ok_run(q{wait_for 100 'cmcctl events | grep -q "vm-port-removed"'}, "the source's port on blade1 is gone, with an event", timeout => 20);
my $rarps = 0;
for (1 .. 50) {
	$rarps = Pcap::count($c->capture_path(1), sub { $_->{src} eq $mac && $_->{dst} eq 'ff:ff:ff:ff:ff:ff' && $_->{ethertype} == 0x8035 });
	last if $rarps;
	select(undef, undef, undef, 0.1);
}
cmp_ok($rarps, '>', 0, "the VM's MAC sends from blade2's VF: its announcement (RARP) is on the uplink cable");
ok_run('cmcctl vm set vm1 rate 200', 'vm set vm1 rate 200');
($prof) = grep { $_->{vm} eq 'vm1' } @{ json('cmcctl -j assignments') };
is($prof->{rate}, 200, "the VM's VF now has rate 200");
is(vm('vm1')->{rate}, 200, 'and cmcctl vms says so');

# --- The destination dies ----------------------------------------------------------------
# On a terminal (pty-run), cmcctl migrate and cmcctl migrations draw live progress bars.
$c->run('(pty-run -t 120 cmcctl migrate vm1 --to blade1 bandwidth 8; echo rc=$?) > /tmp/mig-a.out 2>&1 &');
$m = wait_status('vm1', qr/^active$/, 300);
is($m->{status}, 'active', 'a slow migration back to blade1 is under way');
$c->run('pty-run -t 120 cmcctl migrations > /tmp/watch.out 2>&1 &');
$c->run('sleep 2');
$c->run('kill -9 $(cat /run/cmc/vm/vm1@blade1.pid)');
$m = wait_status('vm1', qr/completed|failed/, 400);
is($m->{status}, 'failed', 'the destination killed: the migration fails');
like($m->{reason}, qr/destination|failed/i, "with a reason ($m->{reason})");
ok_run(q{wait_for 100 'grep -q rc= /tmp/mig-a.out'}, 'cmcctl migrate returned', timeout => 20);
my $bars = $c->run('cat /tmp/mig-a.out');
like($bars, qr/rc=1/, 'with exit 1');
like($bars, qr/active\s+\[#*\s*\]\s+\d+%/, 'having drawn a progress bar on the terminal');
ok_run(q{wait_for 100 '! pidof pty-run >/dev/null'}, 'cmcctl migrations stops watching once nothing runs', timeout => 20);
like($c->run('cat /tmp/watch.out'), qr/vm1\s+active\s+\[.*vm1\s+failed/s, 'cmcctl migrations on a terminal: a live bar, up to the failure');
$v = vm('vm1');
is("$v->{blade} $v->{state}", 'blade2 running', 'the VM still runs on blade2 (the store says so)');
my $x = counter('vm1', 'blade2');
$c->run('sleep 1');
my $y = counter('vm1', 'blade2');
ok($x && $y && $y->{count} > $x->{count}, 'and its counter still advances there');

# --- The lane breaks ---------------------------------------------------------------------
$c->run('(cmcctl migrate vm1 --to blade1 bandwidth 8; echo rc=$?) > /tmp/mig-b.out 2>&1 &');
$m = wait_status('vm1', qr/^active$/, 300);
is($m->{status}, 'active', 'another slow migration to blade1');
$c->run('ip -n blade1 link set ln-mig down');
$m = wait_status('vm1', qr/completed|failed/, 600);
is($m->{status}, 'failed', 'the lane taken down: the migration fails');
like($m->{reason}, qr/progress|lane|failed/i, "with a reason ($m->{reason})");
$v = vm('vm1');
is("$v->{blade} $v->{state}", 'blade2 running', 'the VM runs on blade2');
ok_run(q{ip -n blade1 link set ln-mig up && blade_carrier blade1 300 && wait_for 150 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'},
	'the lane back up', timeout => 60);

# --- The lane's card pulled out ------------------------------------------------------------
# Card 2 carries the lane. Pulled out under a slow migration, the migration fails at once
# (cmcd hears of the card's removal), not when its no-progress timer runs out; put back,
# cmcd takes it again with its lanes. The failure's reason is in the store: a restarted
# cmcd still shows it.
$c->run('cmcctl migrate vm1 --to blade1 bandwidth 4 > /tmp/mig-e.out 2>&1 &');
$m = wait_status('vm1', qr/^active$/, 300);
is($m->{status}, 'active', 'a slow migration to blade1 over lane mig (card 2)');
# (The guest's hot-plug driver waits 5 s after the button before it lets the card go: the
# time counts from when the card is gone, DEVICE_DELETED.)
$c->qmp('device_del', { id => 'card2' });
ok(scalar $c->qmp_events('DEVICE_DELETED', 60), "card 2 (the lane's) pulled out");
my $t0 = time;
$m = wait_status('vm1', qr/completed|failed/, 300);
my $took = sprintf('%.1f', time - $t0);
is($m->{status}, 'failed', "the migration fails ($took s after the card was gone)");
cmp_ok($took, '<', 5, 'within a few seconds, not through the 20 s no-progress timer');
like($m->{reason}, qr/lane mig lost its card \(slot 2 pf 0 removed\)/, "the reason names the card ($m->{reason})");
$v = vm('vm1');
is("$v->{blade} $v->{state}", 'blade2 running', 'the VM runs on blade2');
$x = counter('vm1', 'blade2');
$c->run('sleep 1');
$y = counter('vm1', 'blade2');
ok($x && $y && $y->{count} > $x->{count}, 'and its counter advances there');
$c->qmp('device_add', { driver => 'igb', id => 'card2', bus => 'port2', mac => $c->card_mac(2) });
ok_run(q{wait_for 300 'cmcctl events | grep -q "card-back *2 "'}, 'card 2 put back: cmcd takes it again', timeout => 60);
ok_run(lane_up('mig', 'blade1', 'blade2', 1), 'lane mig is up again, without a restart', timeout => 120);
ok_run('kill $(pidof cmcd); wait_for 50 "! pidof cmcd >/dev/null"', 'cmcd stopped', timeout => 30);
start_cmcd();
$m = migration('vm1');
is("$m->{status}: $m->{reason}", 'failed: lane mig lost its card (slot 2 pf 0 removed)',
	'after a restart, cmcctl migrations still gives the reason');
like($c->run('cmcctl migrations'), qr/vm1\s.*failed.*lane mig lost its card/, 'in its table too');
ok_run(lane_up('mig', 'blade1', 'blade2', 1), 'the lane is up after the restart', timeout => 120);

# --- A retry works -----------------------------------------------------------------------
$before = counter('vm1', 'blade2');
note('blade2 TCP metrics before the retry: ' . $c->run('ip -n blade2 tcp_metrics show 2>&1'));
ok_run('cmcctl migrate vm1 --to blade1', 'a retry to blade1 works', timeout => 240);
# QEMU keeps max-bandwidth: unless cmcd sets it every time, this retry runs at 8 Mbit/s.
$m = migration('vm1');
note("retry: $m->{transferred} bytes, $m->{total_time_ms} ms, $m->{mbps} Mbit/s");
# Held to 8 Mbit/s, QEMU could not have sent those bytes in less than bytes*8/8e6 s; the
# total time is the measure (QEMU's mbps is the last pass's rate, which TCP can make small).
my $capped_ms = ($m->{transferred} // 0) * 8 / 8e6 * 1000;
ok(($m->{total_time_ms} // 1e9) < 0.9 * $capped_ms,
	sprintf("the retry, given no bandwidth, is not held to the failed attempt's 8 Mbit/s (%d ms; held, it would take %.0f ms or more)",
		$m->{total_time_ms} // -1, $capped_ms));
$after = counter('vm1', 'blade1');
ok($after && $after->{count} >= $before->{count} && $after->{errors} == 0, "and the counter went on ($before->{count} -> $after->{count})");

# --- cmcd killed in the middle -------------------------------------------------------------
$before = counter('vm1', 'blade1');
$c->run('cmcctl migrate vm1 --to blade2 bandwidth 4 > /tmp/mig-c.out 2>&1 &');
$m = wait_status('vm1', qr/^active$/, 300);
is($m->{status}, 'active', 'a slow migration to blade2');
$c->run('kill -9 $(pidof cmcd); sleep 1');
note('killed cmcd with the migration at ' . ($m->{transferred} // '?') . ' bytes');
start_cmcd();
like($c->run('cmcctl events'), qr/taken up again after a restart/, 'the restarted cmcd takes the migration up again');
$m = wait_status('vm1', qr/completed|failed/, 1200);
is($m->{status}, 'completed', 'and completes it');
$v = vm('vm1');
is("$v->{blade} $v->{state}", 'blade2 running', 'vm1 runs on blade2');
$after = counter('vm1', 'blade2');
ok($after && $before && $after->{count} >= $before->{count} && $after->{errors} == 0, "its counter went on ($before->{count} -> " . ($after // {})->{count} . ')');
@prof = grep { $_->{vm} eq 'vm1' } @{ json('cmcctl -j assignments') };
is(join(',', map { "$_->{blade}" } @prof) . ' ' . entries_of($mac), "blade2 $prof[0]{slot}/$prof[0]{vf}", 'its profile and its MAC are on blade2 only');

# --- cmcd stopped (SIGTERM) in the middle ------------------------------------------------------
# A stop is bounded: with VFs in blades and a migration running, cmcd is gone within 5 s (it
# used to take about 8 s here, and over 20 s on a loaded host: every VF's driver waited 1 s
# for a PF that had stopped answering). The restarted cmcd takes the migration up again.
$c->run('cmcctl migrate vm1 --to blade1 bandwidth 4 > /tmp/mig-t.out 2>&1 &');
$m = wait_status('vm1', qr/^active$/, 300);
is($m->{status}, 'active', 'a slow migration to blade1');
ok_run('kill $(pidof cmcd); wait_for 50 "! pidof cmcd >/dev/null"', 'cmcd stops within 5 s of SIGTERM with VFs in blades and a migration running', timeout => 30);
start_cmcd();
$m = wait_status('vm1', qr/completed|failed/, 1200);
is($m->{status}, 'completed', 'the restarted cmcd completes the migration');
$v = vm('vm1');
is("$v->{blade} $v->{state}", 'blade1 running', 'vm1 runs on blade1');
ok_run('cmcctl migrate vm1 --to blade2', 'and migrates back to blade2', timeout => 240);

# --- The source dies -----------------------------------------------------------------------
$c->run('cmcctl migrate vm1 --to blade1 bandwidth 8 > /tmp/mig-d.out 2>&1 &');
$m = wait_status('vm1', qr/^active$/, 300);
is($m->{status}, 'active', 'a slow migration to blade1');
$c->run('kill -9 $(cat /run/cmc/vm/vm1@blade2.pid)');
$m = wait_status('vm1', qr/completed|failed/, 400);
is($m->{status}, 'failed', 'the source killed: the migration fails');
$v = vm('vm1');
is($v->{state}, 'lost', 'and cmcctl vms says the VM is lost');
like($v->{note}, qr/died|gone/, "saying why ($v->{note})");
is(($c->run('test -e /run/cmc/vm/vm1@blade1.pid && kill -0 $(cat /run/cmc/vm/vm1@blade1.pid) 2>/dev/null'))[0], 1,
	'no half-migrated copy is left on blade1');
ok_run('cmcctl vm stop vm1 && cmcctl vm start vm1 blade blade1 mac 02:00:00:00:0a:01', 'the lost VM is stopped and started anew', timeout => 60);
ok_run('cmcctl migrate vm1 --to blade2', 'and migrates', timeout => 240);

# --- Bad requests ----------------------------------------------------------------------------
my ($rc, $o) = $c->run('cmcctl migrate vm1 --to blade2 2>&1');
is($rc, 1, 'migrating to where it runs: refused');
like($o, qr/already runs on blade2/, 'saying so');
($rc, $o) = $c->run('cmcctl migrate vm1 --to blade3 2>&1');
is($rc, 1, 'no lane to blade3: refused');
like($o, qr/no lane between blade2 and blade3/, 'saying so');
($rc, $o) = $c->run('cmcctl migrate nosuch --to blade1 2>&1');
like($o, qr/no VM 'nosuch'/, 'an unknown VM: refused');
($rc, $o) = $c->run('cmcctl vm start vm1 blade blade1 2>&1');
like($o, qr/VM vm1 exists/, 'a VM name twice: refused');
($rc, $o) = $c->run('cmcctl vm start vm2 blade blade1 mac 02:00:00:00:0a:01 2>&1');
like($o, qr/MAC 02:00:00:00:0a:01 of VM vm2 is a static entry's \(slot \d+ pf \d+ vf \d+\)/, "another VM with vm1's MAC: refused, naming its owner (vm1's entry)");
ok_run('cmcctl vm stop vm1', 'vm1 stopped');

done_testing;
