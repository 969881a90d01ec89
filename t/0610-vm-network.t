#!/usr/bin/perl
# A VM's network that follows it (issue #14, doc/vm-network.md), one boot of the root-port
# layout: card 1's port is an uplink (cabled, captured), card 2's a midplane port with the
# lane between blade1 and blade2. The VM is the payload (t/vm) with an e1000 answering ARP
# and ping for its ip=; blade3 has a VF of card 1 and pings it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Chassis;
use Pcap;

my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
plan skip_all => "no VM image ($image): make image-vm" unless -e $image;
my $c = Chassis->new(name => 'vmnet', layout => 'rootports', captures => 1, initrd => $image,
	slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;

sub json { my ($rc, $out) = $c->run($_[0], timeout => 60); my $j = eval { decode_json($out) }; diag("$_[0]: $out") unless $j; $j // [] }
sub ok_run { my ($cmd, $name, %o) = @_; my ($rc, $out) = $c->run($cmd, %o); is($rc, 0, $name) or diag("$cmd: $out"); $out }
sub out { my ($rc, $out) = $c->run($_[0], timeout => $_[1] // 60); $out }
sub vm { my ($name) = @_; my ($v) = grep { $_->{vm} eq $name } @{ json('cmcctl -j vms') }; $v // {} }
sub migration { my ($name) = @_; my ($m) = grep { $_->{vm} eq $name } @{ json('cmcctl -j migrations') }; $m // {} }
sub vfstat { my ($slot, $vf) = @_; my ($s) = grep { $_->{slot} == $slot && $_->{vf} == $vf } @{ json('cmcctl -j vfstats') }; $s // {} }
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
ok_run("wait_for 900 'cmcctl events | grep -q \"vm-port-idle.*vbr-$dev2.*blade2\"'",
	"vm2's port, without a frame for 30 s, is deprovisioned with an event", timeout => 120);
is(scalar @{ entries('02:00:00:00:0b:02') }, 0, "  the card's entry for vm2's MAC is gone");
is(($c->run("ip -n blade2 link show vbr-$dev2 2>/dev/null"))[0], 1, '  and its bridge on blade2');
unlike(out('cmcctl events'), qr/vm-port-idle.*vbr-(\Q$dev\E|\Q$ddev\E) /, "vm1's ports, pinged, were never idle");
ok_run('cmcctl vm stop vm2', 'vm2 stopped');

# --- The VM goes: its port goes ---------------------------------------------------------------
ok_run('cmcctl vm stop vm1', 'vm1 stopped');
ok_run("wait_for 100 'cmcctl events | grep -q \"vm-port-removed.*vbr-$ddev.*blade2\"' && ! ip -n blade2 link show vbr-$ddev 2>/dev/null",
	"its port on blade2 is deprovisioned, with an event", timeout => 30);
is(scalar @{ entries($mac) }, 0, "and the card has no entry for its MAC");

done_testing();
