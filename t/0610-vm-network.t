#!/usr/bin/perl
# VFs' rates, a VM's network that follows it, network templates (issues #10 and #14;
# doc/rate-limiter.md, doc/vm-network.md, doc/templates.md): one boot of the root-port
# layout (`make check` boots once for the three), in three parts, each with a cmcd of its
# own on its own configuration, each starting from what the one before gave back. Card 1's
# port is an uplink (cabled, captured), card 2's a midplane port. QEMU traces the writes
# to registers its igb does not implement (e1000e_wrn_regs_write_unknown, on its stderr on
# the host): the rate registers, which is how parts 1 and 3 see what reached the card.
#
# Part 1, a VF's transmit rate reaches the card (issue #10, item 4): igb-vfio writes the
# 82576's rate factor for the VF's rate to the rate scheduler of each of the VF's two
# transmit queues (RTTDQSEL selects queue n, then n + 8; RTTBCNRC takes the value). QEMU's
# igb implements none of these registers: it drops the writes and reads 0.
#
#   - assigning a VF with a rate writes the datasheet's factor for that VF's queues;
#   - the VF back to its default (unassigned) clears it; a new rate writes the new value;
#     a rate not below the link speed leaves the limiter off;
#   - cmcctl vfstats shows the value written and, on the emulator, "not kept by this card";
#     cmcd logs once that the card does not keep the limits.
#
# The expected values are worked out here from the datasheet's definition (RF = link /
# rate in 10.14 fixed point, truncated, RS_ENA = bit 31), not taken from the C code.
#
# Part 2, the VM's network (vm_port_idle 30 s), with the lane between blade1 and blade2 on
# card 2's port. The VMs are the payload (t/vm) with an e1000 answering ARP and ping for
# its ip=. blade3 has a VF of card 1 and pings the VM while it migrates; its ports are
# built and deprovisioned with it; an idle VM's port goes.
#
# Part 3, templates: template "web" (id 7, 100 Mbit/s) lets only 10.9.0.1 reach its VMs.
# blade3 has a VF of card 1 as 10.9.0.1 (allowed), blade2 another as 10.9.0.2 (not allowed).
#
#   - vm1 names web (--template), vm2 carries it in its MAC (06:07:...): both VFs get
#     web's rate; `template set web rate 200` writes the new rate to the rate registers of
#     both VFs' queues (read as in part 1) in one change;
#   - the access list: 10.9.0.1 pings vm1, 10.9.0.2 does not (its ARP and pings are dropped
#     on vm1's bridge port by the port's nftables table); the same after vm1 moves to
#     blade2 (the table built there with the port, gone from blade1 with the old port);
#     a template set that allows 10.9.0.2 lets it in, on the running VM;
#   - bad requests are refused with their reason and change nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Chassis;
use Pcap;

my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
plan skip_all => "no VM image ($image): make image-vm" unless -e $image;
my $c = Chassis->new(name => 'vmnet', layout => 'rootports', captures => 1, initrd => $image,
	trace => ['e1000e_wrn_regs_write_unknown'], slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;

sub json { my ($rc, $out) = $c->run($_[0], timeout => 60); my $j = eval { decode_json($out) }; diag("$_[0]: $out") unless $j; $j // [] }
sub ok_run { my ($cmd, $name, %o) = @_; my ($rc, $out) = $c->run($cmd, %o); is($rc, 0, $name) or diag("$cmd: $out"); $out }
sub out { my ($rc, $out) = $c->run($_[0], timeout => $_[1] // 60); $out }
sub vm { my ($name) = @_; my ($v) = grep { $_->{vm} eq $name } @{ json('cmcctl -j vms') }; $v // {} }
sub profile { my ($vm, $blade) = @_; my ($p) = grep { $_->{vm} eq $vm && (!$blade || $_->{blade} eq $blade) } @{ json('cmcctl -j assignments') }; $p // {} }
sub vfstat { my ($slot, $vf) = @_; my ($s) = grep { $_->{slot} == $slot && $_->{pf} == 0 && $_->{vf} == $vf } @{ json('cmcctl -j vfstats') }; $s // {} }
sub pings { my ($blade, $ip) = @_; ($c->run("ip netns exec $blade ping -c 2 -W 1 $ip >/dev/null 2>&1", timeout => 30))[0] == 0 }
sub migration { my ($name) = @_; my ($m) = grep { $_->{vm} eq $name } @{ json('cmcctl -j migrations') }; $m // {} }
sub entries { my ($mac) = @_; [ grep { lc($_->{mac} // "") eq $mac && ($_->{kind} // "") eq "static" } @{ json('cmcctl -j vbridge show') } ] }
# The payload's network counters (t/vm/payload.h: net_rx at +0x40 ... net_status at +0x68).
sub net {
	my ($name, $blade) = @_;
	my $o = out("qmp-call -t 10 -H /run/cmc/vm/$name\@$blade.qmp 'xp /14gx 0x200000'", 30);
	my @w = $o =~ /0x([0-9a-f]{16})/g;
	return {} unless @w >= 14;
	no warnings 'portable';
	my @v = map { hex } @w;
	return { rx => $v[8], tx => $v[9], arp => $v[10], echo => $v[11], status => $v[13] & 0xffffffff };
}

# --- The rate registers: the 82576's per-queue rate factor ----------------------------------
my ($RTTDQSEL, $RTTBCNRC, $RTTBCNRM) = (0x3604, 0x36b0, 0x3690);
my ($SLOT, $VF) = (1, 2);
my @queues = ($VF, $VF + 8);
my $link = 1000;    # QEMU's igb always reports 1000 Mbit/s
# Part 1's VF: its record in `cmcctl -j vfstats`.
sub rate_vfstat { my ($s) = grep { $_->{slot} == $SLOT && $_->{pf} == 0 && $_->{vf} == $VF } @{ $c->json('cmcctl -j vfstats') }; $s // {} }

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
# Waits (10 s at most) for every queue of the VFs @vfs (VF n: queues n and n + 8) to get $want.
sub queues_get {
	my ($from, $want, @vfs) = @_;
	my @queues = map { ($_, $_ + 8) } @vfs;
	my $q;
	for (1 .. 50) {
		$q = limiters($from);
		last unless grep { ($q->{$_} // -1) != $want } @queues;
		sleep 0.2;
	}
	return [ map { $q->{$_} // -1 } @queues ];
}

# === Part 1: a VF's rate ====================================================================
{
$c->ok_run('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"',
	'cmcd up, VFs of both cards probed', timeout => 90);
ok(scalar(grep { $_->[0] == $RTTBCNRM && $_->[1] == 0x14 } writes(0)),
	'bring-up sets the schedulers\' compensation time (RTTBCNRM = 0x14, for 9728-byte frames)');

my $from = $c->qemu_stderr_size;
$c->ok_run("cmcctl assign slot $SLOT vf $VF blade blade1 rate 300", 'assign a VF with rate 300 Mbit/s');
check_limiters($from, 300, 'rate 300 (RF 3 + 5461/16384)');
my $s = rate_vfstat();
is($s->{rate}, 300, 'vfstats: the rate asked');
is($s->{rate_reg}, sprintf('0x%08x', factor(300)), 'vfstats: the value written');
is($s->{rate_link_mbps}, $link, 'vfstats: for the port speed');
ok(exists $s->{rate_kept} && !$s->{rate_kept}, 'vfstats -j: the emulated card did not keep it (reads 0)');
like($c->run('cmcctl vfstats'), qr/^$SLOT\s+0\s+$VF\s.*\s300\s+0x8000d555 not kept by this card$/m,
	'cmcctl vfstats: the value, "not kept by this card"');

$from = $c->qemu_stderr_size;
$c->ok_run("cmcctl unassign slot $SLOT vf $VF", 'unassign it: the VF back to its defaults');
check_limiters($from, 0, 'the default (rate 0) clears it');
$s = rate_vfstat();
is_deeply([ @$s{qw(rate rate_reg)} ], [ 0, '0x00000000' ], 'vfstats: rate 0, limiter off');
like($c->run('cmcctl vfstats'), qr/^$SLOT\s+0\s+$VF\s.*\s0\s+off$/m, 'cmcctl vfstats: off');

$from = $c->qemu_stderr_size;
$c->ok_run("cmcctl assign slot $SLOT vf $VF blade blade1 rate 1", 'assign it again with a new rate, 1 Mbit/s');
check_limiters($from, 1, 'rate 1 (RF 1000, the slowest whole rate)');
is(rate_vfstat()->{rate_reg}, sprintf('0x%08x', factor(1)), 'vfstats: the new value');

$from = $c->qemu_stderr_size;
$c->ok_run("cmcctl unassign slot $SLOT vf $VF && cmcctl assign slot $SLOT vf $VF blade blade1 rate 1000",
	'and with a rate of the link speed, 1000 Mbit/s');
check_limiters($from, 1000, 'rate = link speed: the limiter off');
like($c->run('cmcctl vfstats'), qr/^$SLOT\s+0\s+$VF\s.*\s1000\s+off \(rate not below the link's 1000 Mbit\/s\)$/m,
	'cmcctl vfstats says why it is off');

# cmcd says so in its log (syslog, on the console here), once per card, not per write.
my @told = $c->console =~ /(slot $SLOT pf 0 vf $VF: the card does not keep transmit limits \(RTTBCNRC 0x8000d555 read back as 0x00000000\))/g;
is(scalar @told, 1, 'cmcd logged once that the card does not keep the limits') or diag("log lines: @told");
}

# === Between parts 1 and 2: part 1's VF given back, its cmcd stopped ==========================
ok_run("cmcctl unassign slot $SLOT vf $VF", "part 1's VF given back", timeout => 30);
is_deeply(json('cmcctl -j assignments'), [], '  nothing is assigned');
ok_run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null"', "part 1's cmcd stopped", timeout => 30);

# === Part 2: the VM's network ===============================================================
{
my $mac = '02:00:00:00:0b:01';
my $ip = '10.9.0.5';
# The emulated chassis' config, with VMs' ports deprovisioned after 30 s without a frame.
ok_run(q{sed 's|store = "/var/lib/cmc/state";|&\n  vm_port_idle = 30;|' /cmc/conf/emulated.conf > /tmp/vmnet.conf && }
    . q{grep -q 'vm_port_idle = 30' /tmp/vmnet.conf && cmcd --check-config /tmp/vmnet.conf}, "the test's config: vm_port_idle 30 s");
ok_run('cmcd -c /tmp/vmnet.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"',
	'cmcd up', timeout => 90);
ok_run('cmcctl lane create mig blade1 blade2', 'a lane between blade1 and blade2');
ok_run("wait_for 300 'ip -n blade2 addr show ln-mig 2>/dev/null | grep -q 169.254.1.2' && "
    . "wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'", 'the lane is up', timeout => 120);
# The peer: blade3 with VF 3 of card 1 (the VM's card) and an address in the VM's network.
ok_run('cmcctl assign slot 1 vf 3 blade blade3 && ip -n blade3 addr add 10.9.0.1/24 dev s1v3 && blade_carrier blade3 300',
	'blade3 has VF 3 of card 1 as 10.9.0.1', timeout => 60);

# --- A VM with a NIC ------------------------------------------------------------------
ok_run("cmcctl vm start vm1 blade blade1 mem 64 mac $mac ip $ip", "vm1 starts on blade1 with $mac and $ip", timeout => 90);
my $v = vm('vm1');
is("$v->{blade} $v->{state} $v->{mac} $v->{ip}", "blade1 running $mac $ip", 'cmcctl vms: its MAC and address');
my ($prof) = grep { $_->{vm} eq 'vm1' } @{ json('cmcctl -j assignments') };
my ($vf, $dev) = ($prof->{vf}, $prof->{netdev});
isnt(lc $prof->{mac}, $mac, "its VF (slot 1 vf $vf) keeps its own MAC ($prof->{mac})");
my $e = entries($mac);
is(join(',', map { "$_->{slot}/$_->{pools}" } @$e), "1/$vf", "the VM's MAC is one static entry of the card, on its VF");
like(out("ip -n blade1 -o link show master vbr-$dev"), qr/vtp-$dev.*\n.*$dev:|$dev:.*\n.*vtp-$dev/s,
	"blade1: bridge vbr-$dev joins the VF $dev and the tap vtp-$dev");
like(out("bridge -n blade1 -d link show dev $dev"), qr/learning off/, '  learning is off on the VF\'s port');
like(out("bridge -n blade1 fdb show dev vtp-$dev"), qr/$mac .*static.*sticky|$mac .*sticky.*static/,
	"  the VM's MAC is pinned to the tap (static, sticky)");

# --- Bad requests change nothing ----------------------------------------------------------
my $before = out('cmcctl -j vms; cmcctl -j assignments; cmcctl -j vbridge show | grep -v rx_');
my ($rc, $o) = $c->run("cmcctl vm start vm2 blade blade2 mac 02:00:00:00:0b:02 ip $ip 2>&1");
is($rc, 1, "a second VM with vm1's IPv4 address is refused");
like($o, qr/IPv4 address $ip is VM vm1's/, "  saying whose it is ($o)");
($rc, $o) = $c->run("cmcctl vm start vm2 blade blade2 mac $mac ip 10.9.0.6 2>&1");
is($rc, 1, "a second VM with vm1's MAC is refused");
like($o, qr/MAC $mac .*static entry/, "  saying who has it ($o)");
($rc, $o) = $c->run("cmcctl vm start vm2 blade blade2 ip 10.9.0.6 2>&1");
is($rc, 1, 'an address without a MAC is refused');
is(out('cmcctl -j vms; cmcctl -j assignments; cmcctl -j vbridge show | grep -v rx_'), $before,
	'  and nothing changed (VMs, assignments, the card\'s entries)');
ok_run(q{wait_for 50 '! ip -n blade2 -o link show | grep -q vbr-'}, '  no bridge was left on blade2', timeout => 20);

# --- Pings ------------------------------------------------------------------------------
ok_run("wait_for 600 'ip netns exec blade3 ping -c 1 -W 1 $ip >/dev/null'", "blade3 pings vm1 on blade1", timeout => 90);
my $n = net('vm1', 'blade1');
ok(($n->{echo} // 0) > 0 && ($n->{arp} // 0) > 0, "the payload answered ARP ($n->{arp}) and echo ($n->{echo})");

# An idle VM: vm2 on blade2, alone in VLAN 77, so that no frame reaches its VF (its
# payload has no address and sends nothing). Checked at the end.
ok_run('cmcctl vm start vm2 blade blade2 mem 32 mac 02:00:00:00:0b:02 vlan 77', 'vm2 starts on blade2, alone in VLAN 77', timeout => 90);
my ($p2) = grep { $_->{vm} eq 'vm2' } @{ json('cmcctl -j assignments') };
my $dev2 = $p2->{netdev} // 'none';

# --- The migration, pinged every 10 ms from blade3 ----------------------------------------
$c->run('rm -f /tmp/gap.out; (ip netns exec blade3 ping-gap -i 10 -d 200 ' . $ip . ' > /tmp/gap.out 2>&1 &)');
$c->run('sleep 2');
$c->run('(cmcctl migrate vm1 --to blade2 bandwidth 16 > /tmp/mig.out 2>&1; echo rc=$? >> /tmp/mig.out) &');
my $m;
for (1 .. 600) { $m = migration('vm1'); last if ($m->{status} // '') =~ /active|completed|failed/; select(undef, undef, undef, 0.1) }
is($m->{status}, 'active', 'the state is moving to blade2 (16 Mbit/s)');
my ($dprof) = grep { $_->{vm} eq 'vm1' && $_->{blade} eq 'blade2' } @{ json('cmcctl -j assignments') };
my $ddev = $dprof->{netdev} // 'none';
like(out("ip -n blade2 -o link show master vbr-$ddev"), qr/vtp-$ddev/, "while it moves, blade2 has the VM's port vbr-$ddev with its tap");
is(join(',', map { "$_->{slot}/$_->{pools}" } @{ entries($mac) }), "1/$vf", '  not live: the card delivers the VM\'s MAC to the source\'s VF only');
my $ev = out('cmcctl events');
my ($port_at) = $ev =~ /^(.*vm-port .*vbr-$ddev .*blade2.*)$/m;
my ($mig_at) = $ev =~ /^(.*migration .*vm1 blade1 -> blade2.*)$/m;
ok($port_at && $mig_at && index($ev, $port_at) < index($ev, $mig_at),
	"  its port was built before the destination's QEMU started, so before the first byte of state");
ok_run(q{wait_for 1200 'grep -q rc= /tmp/mig.out' && grep -q rc=0 /tmp/mig.out}, 'the migration completes', timeout => 150);
$m = migration('vm1');
is(vm('vm1')->{blade}, 'blade2', 'vm1 runs on blade2');
is(join(',', map { "$_->{slot}/$_->{pools}" } @{ entries($mac) }), "1/$dprof->{vf}",
	"the VM's entry moved to blade2's VF (slot 1 vf $dprof->{vf}), once");
my $old0 = vfstat(1, $vf)->{rx_packets} // -1;
$c->run('sleep 3');
$c->run('kill -INT $(pidof ping-gap); wait_for 50 "grep -q sent= /tmp/gap.out"', timeout => 20);
my $g = out('cat /tmp/gap.out');
my ($sent, $recv, $gap) = $g =~ /sent=(\d+) received=(\d+) .*longest_gap_ms=([\d.]+)/;
ok(defined $gap, "ping-gap reports ($g)") or diag($g);
$gap //= 1e9;
diag(sprintf('vm1 blade1 -> blade2: longest ping gap %.1f ms; QEMU downtime %d ms; total %d ms; %d bytes',
	$gap, $m->{qemu_downtime_ms} // -1, $m->{total_time_ms} // -1, $m->{transferred} // -1));
cmp_ok($gap, '<', 5000, 'pings resumed on blade2: the longest gap is under 5 s');
ok_run("ip netns exec blade3 ping -c 3 -W 1 $ip", 'blade3 pings vm1 on blade2');
my $n2 = net('vm1', 'blade2');
cmp_ok($n2->{echo} // 0, '>', $n->{echo} // 0, "the echo replies are vm1's on blade2 (its counters went on: $n2->{echo})");
# Card counters: the old VF gets none of these frames.
ok_run("ip netns exec blade3 ping -c 30 -i 0.05 -W 1 $ip >/dev/null", '30 more pings from blade3');
my $old1 = vfstat(1, $vf)->{rx_packets} // -1;
is($old1 - $old0, 0, "the source's VF (slot 1 vf $vf) received none of the VM's frames after the switch-over");
ok_run("wait_for 100 'cmcctl events | grep -q \"vm-port-removed.*vbr-$dev.*blade1\"' && ! ip -n blade1 link show vbr-$dev 2>/dev/null",
	"the source's port was deprovisioned (bridge and tap gone from blade1), with an event", timeout => 30);

# --- The cable ----------------------------------------------------------------------------
my $cap = $c->capture_path(1);
my $uni = Pcap::count($cap, sub { ($_->{src} eq $mac || $_->{dst} eq $mac) && $_->{dst} ne 'ff:ff:ff:ff:ff:ff' });
is($uni, 0, 'no unicast frame to or from the VM is on the uplink cable (the card switched them inside)');
my $lane = Pcap::count($cap, sub {
	my $f = $_;
	return 0 unless $f->{ethertype} == 0x0800;
	my $off = 14 + 4 * scalar @{ $f->{vlans} };
	return 0 if length($f->{data}) < $off + 20;
	my ($s, $d) = unpack('x12 a4 a4', substr($f->{data}, $off));
	return (substr($s, 0, 2) eq "\xa9\xfe" || substr($d, 0, 2) eq "\xa9\xfe") ? 1 : 0;
});
is($lane, 0, 'no frame of the migration stream (the lane) is on the cable');
my $bc = Pcap::count($cap, sub { $_->{src} eq $mac && $_->{dst} eq 'ff:ff:ff:ff:ff:ff' });
cmp_ok($bc, '>', 0, "the capture sees the cable: the VM's own broadcasts (its announcement) went out of the uplink ($bc)");

# --- Idle deprovisioning -----------------------------------------------------------------------
# vm1 pinged every second from blade3 meanwhile: a VM with traffic beside the idle one.
# (On a loaded host vm2's port took 85 s from its VM's start to be called idle, while vm1,
# last pinged above, went 30 s without a frame and was called idle first.)
$c->run("(ip netns exec blade3 ping -i 1 -W 1 $ip >/dev/null 2>&1 & echo \$! > /tmp/busy-ping.pid)");
ok_run("wait_for 900 'cmcctl events | grep -q \"vm-port-idle.*vbr-$dev2.*blade2\"'",
	"vm2's port, without a frame for 30 s, is deprovisioned with an event", timeout => 120);
is(scalar @{ entries('02:00:00:00:0b:02') }, 0, "  the card's entry for vm2's MAC is gone");
is(($c->run("ip -n blade2 link show vbr-$dev2 2>/dev/null"))[0], 1, '  and its bridge on blade2');
unlike(out('cmcctl events'), qr/vm-port-idle.*vbr-(\Q$dev\E|\Q$ddev\E) /, "vm1's ports, pinged, were never idle");
ok_run('kill $(cat /tmp/busy-ping.pid)', "  (blade3's pings to vm1 stopped)");
ok_run('cmcctl vm stop vm2', 'vm2 stopped');

# --- The VM goes: its port goes ---------------------------------------------------------------
ok_run('cmcctl vm stop vm1', 'vm1 stopped');
ok_run("wait_for 100 'cmcctl events | grep -q \"vm-port-removed.*vbr-$ddev.*blade2\"' && ! ip -n blade2 link show vbr-$ddev 2>/dev/null",
	"its port on blade2 is deprovisioned, with an event", timeout => 30);
is(scalar @{ entries($mac) }, 0, "and the card has no entry for its MAC");
}

# === Between parts 2 and 3: part 2's lane and peer given back, its cmcd stopped ==============
ok_run('cmcctl lane delete mig && cmcctl unassign slot 1 vf 3', "part 2's lane and blade3's VF given back", timeout => 60);
is_deeply(json('cmcctl -j assignments'), [], '  nothing is assigned');
ok_run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null"', "part 2's cmcd stopped", timeout => 30);

# === Part 3: templates ======================================================================
{
# --- The chassis, its templates, its peers ---------------------------------------------------
ok_run(q{cp /cmc/conf/emulated.conf /tmp/tmpl.conf && }
    . q{echo 'templates = ( { name = "web"; id = 7; rate = 100; allow = ( "10.9.0.1" ); } );' >> /tmp/tmpl.conf && }
    . q{cmcd --check-config /tmp/tmpl.conf}, 'the emulated config with template web (id 7, 100 Mbit/s, 10.9.0.1 only)');
ok_run('cmcd -c /tmp/tmpl.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"', 'cmcd up',
	timeout => 90);
my $tl = json('cmcctl -j template list');
is_deeply([ map { "$_->{template} $_->{id} $_->{rate} $_->{allow} $_->{source}" } @$tl ], ['web 7 100 10.9.0.1/32 config'],
	'cmcctl -j template list: web, from the configuration');
ok_run('cmcctl lane create mig blade1 blade2', 'a lane between blade1 and blade2');
ok_run("wait_for 300 'ip -n blade2 addr show ln-mig 2>/dev/null | grep -q 169.254.1.2' && "
    . "wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'", 'the lane is up', timeout => 120);
ok_run('cmcctl assign slot 1 vf 3 blade blade3 && ip -n blade3 addr add 10.9.0.1/24 dev s1v3 && blade_carrier blade3 300',
	'the allowed peer: blade3, VF 3 of card 1, 10.9.0.1', timeout => 60);
ok_run('cmcctl assign slot 1 vf 2 blade blade2 && ip -n blade2 addr add 10.9.0.2/24 dev s1v2 && blade_carrier blade2 300',
	'a peer web does not allow: blade2, VF 2 of card 1, 10.9.0.2', timeout => 60);

# --- Two VMs of web: one names it, one carries it in its MAC ----------------------------------
my $from = $c->qemu_stderr_size;
# (On a failure, the VM's QEMU log says why.)
ok_run('cmcctl vm start vm1 blade blade1 mem 64 mac 02:00:00:00:0c:01 ip 10.9.0.5 --template web || '
    . '{ tail -5 /run/cmc/vm/vm1@blade1.log; false; }', 'vm1 starts on blade1 with --template web', timeout => 120);
ok_run('cmcctl vm start vm2 blade blade1 mem 64 mac 06:07:00:00:00:2a ip 10.9.0.6 || '
    . '{ tail -5 /run/cmc/vm/vm2@blade1.log; false; }', 'vm2 starts on blade1 with MAC 06:07:00:00:00:2a (template id 7)',
	timeout => 120);
my ($p1, $p2) = (profile('vm1'), profile('vm2'));
if (!defined $p1->{vf} || !defined $p2->{vf}) {	# nothing below can pass without them
	fail('the VMs are not running: the rest is not tried');
	$c->stop;
	done_testing();
	exit 1;
}
is("$p1->{template} $p1->{rate} $p2->{template} $p2->{rate}", 'web 100 web 100',
	'cmcctl assignments: both VFs are web\'s, at its 100 Mbit/s');
is(vm('vm2')->{template}, 'web', 'cmcctl vms: vm2\'s template, read from its MAC');
my @vfs = ($p1->{vf}, $p2->{vf});
is_deeply(queues_get($from, factor(100), @vfs), [ (factor(100)) x 4 ],
	sprintf('the rate registers of both VFs\' queues got 100 Mbit/s (0x%08x)', factor(100)));

# --- Changing the template reaches both, on the card ---------------------------------------
$from = $c->qemu_stderr_size;
ok_run('cmcctl template set web rate 200', 'cmcctl template set web rate 200');
is_deeply(queues_get($from, factor(200), @vfs), [ (factor(200)) x 4 ],
	sprintf('the rate registers of both VMs\' VFs\' queues got 200 Mbit/s (0x%08x)', factor(200)));
is(join(' ', map { vfstat(1, $_)->{rate_reg} // '-' } @vfs), join(' ', (sprintf('0x%08x', factor(200))) x 2),
	'cmcctl vfstats shows the value written for both');
is(join(' ', map { $_->{rate} } vm('vm1'), vm('vm2')), '200 200', 'cmcctl vms: both at 200');
like(out('cmcctl events'), qr/template .*web set: id 7 vlan 0 rate 200/, 'a template event says so');

# --- Bad requests: refused with their reason, nothing changed ---------------------------------
my $state = 'cmcctl -j template list; cmcctl -j assignments; cmcctl -j vms; cmcctl -j vbridge show | grep -v rx_';
my $before = out($state);
for ([ 'cmcctl vm start vm3 blade blade1 mac 02:00:00:00:0c:03 --template nope', qr/no template 'nope'/ ],
     [ 'cmcctl vm start vm3 blade blade1 mac 06:63:00:00:00:01', qr/MAC 06:63:00:00:00:01 carries template id 99, which no template has/ ],
     [ 'cmcctl vm start vm3 blade blade1 mac 06:07:00:00:00:03 --template other', qr/no template 'other'/ ],
     [ 'cmcctl vm start vm3 blade blade1 mac 02:00:00:00:0c:03 rate 5 --template web', qr/VLAN, rate and trust are template web's/ ],
     [ 'cmcctl template del web', qr/template web is in use by VM vm\d/ ],
     [ 'cmcctl template set web allow 10.9.0.1/24', qr/host bits set \(the prefix is 10.9.0.0\/24\)/ ],
     [ 'cmcctl template set web allow 10.9.0.0/24,01:00:5e:00:00:01', qr/not a unicast MAC/ ],
     [ 'cmcctl template add db allow 10.9.0.300', qr/'10.9.0.300' is neither a MAC nor an IPv4 prefix/ ],
     [ 'cmcctl template set web vlan 4001', qr/'4001' is not a VLAN id/ ],
     [ 'cmcctl template set web rate 1001', qr/'1001' is not a rate/ ],
     [ 'cmcctl template add db id 7', qr/id 7 is template web's/ ],
     [ 'cmcctl vm set vm1 rate 50', qr/vm1's rate is template web's/ ]) {
	my ($cmd, $why) = @$_;
	my ($rc, $o) = $c->run("$cmd 2>&1");
	ok($rc != 0 && $o =~ $why, "refused: $cmd") or diag("rc $rc: $o");
}
is(out($state), $before, '  and nothing changed (templates, assignments, VMs, the card\'s entries)');
is(out('ip -n blade1 -o link show | grep -c ": vbr-"'), "2\n", '  no VM port was left behind on blade1 (vm1\'s and vm2\'s only)');

# --- The access list ------------------------------------------------------------------------
my $dev = $p1->{netdev};
like(out("ip netns exec blade1 nft list table bridge cmc-acl-vtp-$dev"), qr/oifname "vtp-$dev" ip saddr \{? ?10\.9\.0\.1/,
	"blade1 has vm1's port's table, cmc-acl-vtp-$dev, allowing 10.9.0.1");
# (wait_for counts tenths of a second between tries, each try up to 1 s of ping: at most
# about 1.1 s a try, kept under the command's own timeout.)
ok_run("wait_for 70 'ip netns exec blade3 ping -c 1 -W 1 10.9.0.5 >/dev/null'", 'blade3 (10.9.0.1) pings vm1',
	timeout => 90);
ok(!pings('blade2', '10.9.0.5'), 'blade2 (10.9.0.2) does not reach vm1');
ok(pings('blade3', '10.9.0.5'), '  while blade3 still does');
ok_run('cmcctl vm stop vm2', 'vm2 stopped (its VF is the one the migration needs)', timeout => 30);

# --- It moves with the VM ----------------------------------------------------------------------
ok_run('cmcctl migrate vm1 --to blade2', 'vm1 migrates to blade2', timeout => 240);
is(vm('vm1')->{blade}, 'blade2', 'vm1 runs on blade2');
my $ddev = profile('vm1', 'blade2')->{netdev} // 'none';
like(out("ip netns exec blade2 nft list table bridge cmc-acl-vtp-$ddev"), qr/10\.9\.0\.1/,
	"blade2 has the table of vm1's new port (cmc-acl-vtp-$ddev)");
ok_run("wait_for 100 '! ip netns exec blade1 nft list table bridge cmc-acl-vtp-$dev >/dev/null 2>&1'",
	'blade1\'s table went with the old port', timeout => 30);
my ($prc) = $c->run("wait_for 45 'ip netns exec blade3 ping -c 1 -W 1 10.9.0.5 >/dev/null'", timeout => 60);
is($prc, 0, 'blade3 (10.9.0.1) pings vm1 on blade2') or diag(out("ip netns exec blade2 nft list ruleset; bridge -n blade2 fdb show br vbr-$ddev; "
	    . "ip -n blade2 -s link show; ip netns exec blade3 ip neigh; cmcctl vbridge show; tail -5 /run/cmc/vm/vm1\@blade2.log", 60));
ok(!pings('blade2', '10.9.0.5'), 'blade2 (10.9.0.2) still does not reach vm1, now beside it');

# --- A template set changes the running VM's access list ---------------------------------------
ok_run('cmcctl template set web allow 10.9.0.1,10.9.0.2', 'web now allows 10.9.0.2 too');
ok_run("wait_for 20 'ip netns exec blade2 ping -c 1 -W 1 10.9.0.5 >/dev/null'", 'blade2 (10.9.0.2) reaches vm1 now',
	timeout => 40);
ok(pings('blade3', '10.9.0.5'), '  and blade3 still does');
ok_run('cmcctl vm stop vm1 && cmcctl template del web; test $? = 1', 'vm1 stopped; web, the configuration\'s, stays');
ok_run('cmcctl template add db vlan 42 && cmcctl template add tmp && cmcctl template del tmp',
	'templates added and deleted at run time');
my $audit = out('cmcctl audit');
ok($audit =~ /template set web rate 200/ && $audit !~ /template list/, 'the audit log has the changes, not the listings');

# --- Kept across a restart of cmcd --------------------------------------------------------------
ok_run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null" && cmcd -c /tmp/tmpl.conf && '
    . 'wait_for 300 "cmcctl version >/dev/null 2>&1"', 'cmcd restarted', timeout => 60);
is_deeply([ sort map { "$_->{template} $_->{id} $_->{rate} $_->{allow} $_->{source}" } @{ json('cmcctl -j template list') } ],
	[ 'db 1 0 - admin', 'web 7 200 10.9.0.1/32,10.9.0.2/32 admin' ],
	'the templates as changed came back from the store (web\'s set over the file\'s, db added, tmp gone)');

}

$c->stop;
done_testing();
