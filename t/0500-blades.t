#!/usr/bin/perl
# Blades, the embedded bridge and links that do not depend on cables (issue #5), in the
# root-port layout with cmcd driving both cards (igb-vfio): card 1's port is an uplink
# (cabled, its cable captured), card 2's a midplane port (internal loopback; it has a cable
# of its own, on a switch of its own, captured, to show that nothing of the lane leaves).
#
#   - VFs assigned to blades land in the blades' namespaces with the chassis' MACs; two
#     blades ping through the card and no frame of theirs is on the uplink's cable;
#   - domains: blades of one domain reach each other, a blade of another gets nothing;
#   - a lane on the midplane port keeps working with the uplink's cable pulled;
#   - bad requests are refused with a reason and change nothing;
#   - cmcd killed at each step inside an assignment: after a restart the assignment is
#     all there or all gone, and no MAC is on two VFs;
#   - everything comes back after a restart and after a reboot of the chassis.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Path qw(remove_tree);
use Chassis;
use Pcap;

my $state = Chassis::build_dir() . '/chassis-state/blades';
remove_tree($state);
my %opt = (name => 'blades', layout => 'rootports', captures => 1, state_dir => $state,
	slots => [ { slot => 1, cable => 1 }, { slot => 2, cable => 1, hub => 1 } ]);
my $c = Chassis->new(%opt);
$c->start;

sub start_cmcd {
	my ($env) = @_;
	# A VF is probed once igbvf holds it; its netdev may already be in a blade.
	$c->ok_run(($env // '') . ' cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"',
		'cmcd up, VFs of both cards probed', timeout => 90);
}
# Every MAC a VF netdev holds, in the root namespace and in every blade.
sub live_macs {
	my $out = $c->run('for n in "" blade1 blade2 blade3; do ip ${n:+-n $n} -o link show; done | grep -o "link/ether [0-9a-f:]*"');
	return [ map { /link\/ether (\S+)/ ? $1 : () } split /\n/, $out ];
}
sub placed { my ($blade, $dev) = @_; $c->run("wait_for 200 'ip -n $blade link show $dev >/dev/null 2>&1'", timeout => 40) }

start_cmcd();
is_deeply([ map { "$_->{slot}/$_->{pf}:$_->{role}" } @{ $c->json('cmcctl -j ports') } ], [ '1/0:uplink', '2/0:midplane' ],
	'port roles from the configuration');
like($c->run('cmcctl portstats'), qr/^2\s+0\s+igb-vfio\s+loopback/m, 'the midplane port is held in loopback');

# --- Two blades through the VEB, nothing on the cable -----------------------------------
$c->ok_run('cmcctl assign slot 1 vf 0 blade blade1', 'assign slot 1 vf 0 to blade1');
$c->ok_run('cmcctl assign slot 1 vf 1 blade blade2', 'assign slot 1 vf 1 to blade2');
is((placed('blade1', 's1v0'))[0], 0, "VF 0's netdev is s1v0 in blade1");
is((placed('blade2', 's1v1'))[0], 0, "VF 1's netdev is s1v1 in blade2");
my $id = $c->json('cmcctl -j version')->{chassis_id};
my ($mac0, $mac1) = map { Chassis::vf_default_mac($id, 1, 0, $_) } 0, 1;
like($c->run('ip -n blade1 link show s1v0'), qr{link/ether $mac0 }, "with the chassis MAC ($mac0, chassis $id)");
$c->ok_run('ip -n blade1 addr add 10.50.0.1/24 dev s1v0 && ip -n blade2 addr add 10.50.0.2/24 dev s1v1 && '
    . 'blade_carrier blade1 300 && blade_carrier blade2 300', 'addresses, carrier', timeout => 60);
my $before = $c->vfstat(1, 1);
my $cap = $c->capture_path(1);
my $out = $c->ok_run('ip netns exec blade1 ping -c 5 -W 3 10.50.0.2', 'blade1 pings blade2 through the VEB', timeout => 60);
my $after = $c->vfstat(1, 1);
cmp_ok($after->{rx_packets} - ($before->{rx_packets} // 0), '>=', 5, "VF 1's counters count the frames");
is(scalar(Pcap::frames_between($cap, $mac0, $mac1)), 0,
	"none of them is on the uplink's cable");
# The capture does see this port: a broadcast (an ARP for an address nobody has) goes out.
$c->run('ip netns exec blade1 ping -c 1 -W 1 10.50.0.99', timeout => 20);
cmp_ok(Pcap::count($cap, sub { $_->{src} eq $mac0 && $_->{dst} eq 'ff:ff:ff:ff:ff:ff' }), '>', 0,
	"while blade1's broadcasts are on it (the capture works)");
my $fdb = $c->json('cmcctl -j vbridge show slot 1');
my ($row) = grep { ($_->{mac} // '') eq $mac1 } @$fdb;
ok($row && $row->{pools} eq '1' && $row->{kind} eq 'primary' && $row->{rx_packets} >= 5,
	'vbridge show: the MAC, its pool and its counters') or diag(explain $fdb);

# --- Trust is part of the assignment (kept through the domain change below, restarts, a reboot)
sub trusted { my ($slot, $vf) = @_; my ($a) = grep { $_->{slot} == $slot && $_->{vf} == $vf } @{ $c->json('cmcctl -j assignments') }; $a && $a->{trusted} ? 1 : 0 }
$c->ok_run('cmcctl trust 1 0 0 on', 'cmcctl trust 1 0 0 on');
is(trusted(1, 0), 1, 'the assignment of slot 1 vf 0 is trusted');
like($c->run('cmcctl events'), qr/vf-trust\s+1\s+pf 0 vf 0 trusted: may change its MAC\n/, 'an event, without "not kept"');

# --- Domains ------------------------------------------------------------------------------
$c->ok_run('cmcctl domain create red vlan 10 && cmcctl domain add red blade1 && cmcctl domain add red blade2', 'domain red: blade1, blade2');
$c->ok_run('cmcctl domain create blue vlan 20 && cmcctl domain add blue blade3', 'domain blue: blade3');
{
	my $ev = $c->run('cmcctl events');
	like($ev, qr/red created \(vlan 10\).*blade1 joined red/s, 'domain create and add: their events');
	unlike($ev, qr/ left (red|blue)|\(null\)/, '  and no blade is said to have left a domain it was created with');
}
$c->ok_run('cmcctl assign slot 1 vf 2 blade blade3', 'assign slot 1 vf 2 to blade3');
is((placed('blade3', 's1v2'))[0], 0, 'placed in blade3');
$c->ok_run('ip -n blade3 addr add 10.50.0.3/24 dev s1v2 && blade_carrier blade1 300 && blade_carrier blade2 300 && blade_carrier blade3 300',
	'carrier everywhere', timeout => 60);
is_deeply([ map { "$_->{vf}:$_->{vlan}" } grep { $_->{slot} == 1 } @{ $c->json('cmcctl -j assignments') } ], [ '0:10', '1:10', '2:20' ],
	"the VFs' VLANs follow their blades' domains");
$c->ok_run("wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 10.50.0.2 >/dev/null'", 'red reaches red (tagged inside the card)', timeout => 30);
# Blade3 quiet on its own (no IPv6 chatter): QEMU's VEB hands a VF its own multicast
# back, which its counter would count.
$c->run(q{ip netns exec blade3 sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/s1v2/disable_ipv6'; sleep 1});
$before = $c->vfstat(1, 2);
my ($rc) = $c->run('ip netns exec blade1 ping -c 3 -W 1 10.50.0.3', timeout => 20);
isnt($rc, 0, 'red does not reach blue');
$after = $c->vfstat(1, 2);
# (Only red sends meanwhile: QEMU's VEB also hands a VF its own broadcasts back.)
is($after->{rx_packets} - ($before->{rx_packets} // 0), 0, "blue's VF received not one frame of red's");
($rc) = $c->run('ip netns exec blade3 ping -c 3 -W 1 10.50.0.2', timeout => 20);
isnt($rc, 0, 'nor blue red');
$c->refused('cmcctl domain add blue blade1', qr/blade1 is already in domain red/, 'a blade in two domains');
$c->refused('cmcctl domain create green vlan 10', qr/VLAN 10 is domain red's/, 'a VLAN in two domains');
$c->refused('cmcctl assign slot 1 vf 3 blade blade3 vlan 10', qr/VLAN 10 is domain red's, which blade3 is not in/,
	"a VF on another domain's VLAN");

# --- A lane on the midplane port; the uplink's cable pulled -------------------------------
$c->ok_run('cmcctl lane create mig blade1 blade2', 'lane mig between blade1 and blade2');
my ($lane) = @{ $c->json('cmcctl -j lanes') };
is("$lane->{slot}/$lane->{pf} $lane->{addr_a} $lane->{addr_b}", '2/0 169.254.1.1 169.254.1.2', 'on the midplane port, with link-local addresses');
is((placed('blade2', 'ln-mig'))[0], 0, 'ln-mig in blade2');
$c->ok_run("wait_for 300 'ip -n blade1 addr show ln-mig | grep -q 169.254.1.1' && blade_carrier blade1 300 && blade_carrier blade2 300",
	'addressed, with carrier', timeout => 60);
$c->ok_run("wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'", 'blade1 reaches blade2 over the lane', timeout => 30);
$c->qmp('set_link', { name => 'cable1', up => JSON::PP::false });
$c->ok_run(q{wait_for 100 'cmcctl events | grep -q "link-down *1 *pf 0"'}, "the uplink's loss is an event", timeout => 20);
$out = $c->ok_run('ip netns exec blade1 ping -c 5 -W 2 169.254.1.2', "the lane still carries traffic with the uplink's cable out", timeout => 40);
# The lane's own card has a cable: nothing of the lane is on it, broadcasts included (the
# neighbour caches are flushed so that the pings start with ARP broadcasts).
my $cap2 = $c->capture_path(2);
$c->ok_run('ip -n blade1 neigh flush all; ip -n blade2 neigh flush all; ip netns exec blade1 ping -c 3 -W 2 169.254.1.2',
	'the lane pings again from cold neighbour caches', timeout => 40);
my @lane_macs = map { $_->{mac} } grep { ($_->{lane} // '') eq 'mig' } @{ $c->json('cmcctl -j assignments') };
is(scalar @lane_macs, 2, "the lane's two VFs");
is(Pcap::count($cap2, sub { my $f = $_; grep { $f->{src} eq $_ } @lane_macs }), 0,
	"not one frame from the lane's VFs is on the midplane card's own cable, broadcasts included");
($rc) = $c->run('ip netns exec blade1 ping -c 2 -W 1 10.50.0.2', timeout => 20);
note('over the uplink port meanwhile: ' . ($rc ? 'no traffic (QEMU stops a port without link)' : 'still traffic'));
$c->qmp('set_link', { name => 'cable1', up => JSON::PP::true });
$c->ok_run(q{wait_for 100 'cmcctl events | grep -q "link-up *1 *pf 0"'}, 'the cable back is an event', timeout => 20);

# --- The mailbox asks the chassis: a trusted VF takes no MAC that anything else owns --------
# Slot 1 vf 0 (s1v0 in blade1) is trusted. It asks its PF (card 1) for MACs owned on card 2:
# a VF's assigned MAC, a static entry's and the PF's own. Card 1's mailbox engine does not see
# card 2; cmcd's chassis-wide owner refuses each, and each refusal is an event.
$c->ok_run('cmcctl assign slot 2 vf 3 blade blade3 mac 02:00:00:00:5e:02 && cmcctl vbridge add slot 2 vf 2 mac 02:00:00:00:5e:01',
	'card 2: a VF with an assigned MAC, and a static entry', timeout => 30);
for my $t ([ '02:00:00:00:5e:02', "card 2's VF's MAC" ], [ '02:00:00:00:5e:01', "a static entry's MAC on card 2" ],
	   [ $c->card_mac(2), "card 2's PF's MAC" ]) {
	my ($m, $what) = @$t;
	my $count = q{n_refused() { cmcctl events | grep -c "vf-refused *1 *pf 0 vf 0: .*owned elsewhere in the chassis"; }};
	my $n0 = ($c->run("$count; n_refused"))[1] =~ /(\d+)/ ? $1 : 0;
	my ($r) = $c->run("ip -n blade1 link set s1v0 address $m 2>&1", timeout => 20);
	isnt($r, 0, "a trusted VF of card 1 asking for $what ($m): refused");
	$c->ok_run("$count; wait_for 30 '[ \$(n_refused) -gt $n0 ]'", "$what: a vf-refused event says the MAC is owned elsewhere", timeout => 20);
}
like($c->run('ip -n blade1 link show s1v0'), qr{link/ether $mac0 }, 's1v0 kept its MAC');
$c->ok_run('cmcctl vbridge del slot 2 mac 02:00:00:00:5e:01 && cmcctl unassign slot 2 vf 3', 'card 2 as it was', timeout => 30);

# What a trusted VF obtains through its mailbox belongs to the same owner: it shows in the
# bridge's table, the administrator cannot give it away, and no VF of another card gets it.
my $held = '02:00:00:00:6a:01';
$c->ok_run("ip -n blade1 link set s1v0 address $held", 'a trusted VF takes a free MAC through its mailbox', timeout => 20);
my ($grow) = grep { ($_->{mac} // '') eq $held } @{ $c->json('cmcctl -j vbridge show') };
ok($grow && $grow->{kind} eq 'granted' && $grow->{slot} == 1 && $grow->{pools} eq '0',
	'cmcctl vbridge show lists it as granted to slot 1 vf 0') or diag(explain($grow));
$c->refused("cmcctl assign slot 2 vf 3 blade blade3 mac $held", qr/held by slot 1 pf 0 vf 0 through its mailbox/,
	'the administrator cannot assign a MAC a VF holds');
$c->refused("cmcctl vbridge add slot 2 vf 2 mac $held", qr/held by slot 1 pf 0 vf 0 through its mailbox/,
	'nor make it a static entry');
$c->ok_run('cmcctl trust 2 0 0 on', "card 2: the lane's VF in blade1 trusted for a moment", timeout => 20);
my ($r3) = $c->run("wait_for 100 'ip -n blade1 link show ln-mig | grep -q UP'; ip -n blade1 link set ln-mig address $held 2>&1", timeout => 30);
isnt($r3, 0, "a trusted VF of card 2 asking for the MAC card 1's VF holds: refused");
$c->ok_run("cmcctl trust 2 0 0 off && ip -n blade1 link set s1v0 address $mac0", 'both as they were', timeout => 30);
ok(!grep({ ($_->{mac} // '') eq $held } @{ $c->json('cmcctl -j vbridge show') }), 'the granted MAC is gone from the table');
$c->ok_run("blade_carrier blade1 300 && blade_carrier blade2 300", 'the lane has carrier again', timeout => 60);

# --- Bad requests change nothing ----------------------------------------------------------
my $snap = $c->run('cmcctl -j assignments; cmcctl -j vbridge show; cmcctl -j domains; cmcctl -j lanes');
$snap =~ s/"rx_(packets|bytes)":\d+/"rx_$1":N/g;
$c->refused('cmcctl assign slot 1 vf 3 blade nosuch', qr/no blade 'nosuch' in this chassis \(blades: blade1, blade2, blade3\)/, 'an unknown blade');
$c->refused('cmcctl assign slot 1 vf 0 blade blade3', qr/slot 1 pf 0 vf 0 is already assigned to blade1/, 'a VF already assigned');
$c->malformed('cmcctl assign slot 1 vf 3 blade blade3 mac 01:00:5e:00:00:01', qr/not a unicast MAC/, 'a multicast MAC');
$c->refused("cmcctl assign slot 1 vf 3 blade blade3 mac $mac1", qr/MAC \Q$mac1\E is already on slot 1 pf 0 vf 1 \(blade2\)/, "an assigned VF's MAC");
$c->refused('cmcctl assign slot 1 vf 3 blade blade3 mac ' . Chassis::vf_default_mac($id, 1, 0, 5), qr/chassis' own range/,
	"the default MAC of a VF nobody has");
$c->malformed('cmcctl assign slot 1 vf 3 blade blade3 mac zz', qr/not a unicast MAC/, 'a MAC that is no MAC');
$c->malformed('cmcctl assign slot 1 vf 3 blade blade3 vlan 4095', qr/not a VLAN id \(1-4094\)/, 'VLAN 4095');
$c->refused('cmcctl assign slot 1 vf 3 blade blade3 vlan 4001', qr/kept for lanes/, 'a lane VLAN');
$c->refused('cmcctl assign slot 1 vf 6 blade blade3', qr/no VF 6 on slot 1 pf 0 \(4 enabled\)/, 'a VF that is not enabled');
$c->refused('cmcctl lane create mig blade1 blade3', qr/lane mig exists/, 'a lane twice');
$c->refused('cmcctl lane create up1 blade1 blade3 slot 1', qr/slot 1 pf 0 is an uplink/, 'a lane on an uplink');
$c->refused('cmcctl port 2/0 role uplink', qr/lane mig runs on slot 2 pf 0/, 'demoting a port a lane runs on');
my ($rr, $ro) = $c->run('cmcctl port 2/0 role sideways 2>&1');
is($rr, 2, 'an unknown port role: usage (exit 2)');
like($ro, qr{usage: port SLOT/PF role uplink\|midplane}, 'an unknown port role: saying how');
$c->refused('cmcctl domain add nosuch blade1', qr/no domain 'nosuch'/, 'an unknown domain');
$c->refused('cmcctl domain create bad/name', qr/not a domain name/, 'a bad domain name');
$c->refused('cmcctl lane create waytoolongname blade1 blade3', qr/not a lane name/, 'a lane name too long');
$c->refused('cmcctl vbridge del slot 1 mac 02:00:00:00:ee:77', qr/no static entry 02:00:00:00:ee:77 on slot 1 pf 0/, 'removing a static entry that is not there');
$c->refused('cmcctl unassign slot 1 vf 3', qr/slot 1 pf 0 vf 3 is not assigned/, 'unassigning a free VF');
$c->refused('cmcctl unassign slot 2 vf 0', qr/belongs to lane mig: delete the lane/, "unassigning a lane's VF");
for my $i (1 .. 8) {
	my ($r, $o) = $c->run(sprintf('cmcctl vbridge add slot 1 vf 0 mac 02:00:00:00:ee:%02x', $i));
	is($r, 0, "static entry $i") or diag($o);
}
$c->refused('cmcctl vbridge add slot 1 vf 0 mac 02:00:00:00:ee:09', qr/VEB full/, 'a full VEB');
$c->ok_run(sprintf('for i in 1 2 3 4 5 6 7 8; do cmcctl vbridge del slot 1 mac 02:00:00:00:ee:0$i || exit 1; done'), 'the static entries removed');
my $snap2 = $c->run('cmcctl -j assignments; cmcctl -j vbridge show; cmcctl -j domains; cmcctl -j lanes');
$snap2 =~ s/"rx_(packets|bytes)":\d+/"rx_$1":N/g;
is($snap2, $snap, 'after all that, the state is what it was');
my ($r2, $usage) = $c->run('cmcctl assign slot 1 blade blade3 2>&1');
is($r2, 2, 'assign without a VF: usage (exit 2)');

# --- kill -9 inside an assignment ------------------------------------------------------------
my $mac = '02:00:00:00:50:03';
for my $point (qw(assign:before-commit assign:after-commit assign:after-card assign:after-apply)) {
	$c->run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null"', timeout => 20);
	start_cmcd("CMC_FAILPOINT=$point");
	my ($r, $o) = $c->run("cmcctl assign slot 1 vf 3 blade blade3 mac $mac 2>&1; wait_for 50 '! pidof cmcd >/dev/null'", timeout => 30);
	like($o, qr/cmcd closed the connection without an answer/, "$point: cmcd died inside the assignment");
	start_cmcd();
	my ($a) = grep { $_->{slot} == 1 && $_->{vf} == 3 } @{ $c->json('cmcctl -j assignments') };
	if ($point eq 'assign:before-commit') {
		ok(!$a, "$point: after the restart the assignment is absent");
		unlike($c->run('ip -n blade3 -o link'), qr/\Q$mac\E/, "$point: and blade3 has no netdev with its MAC");
	} else {
		ok($a && $a->{mac} eq $mac, "$point: after the restart the assignment is there");
		is((placed('blade3', 's1v3'))[0], 0, "$point: with its netdev in blade3");
		like($c->run("wait_for 100 'ip -n blade3 link show s1v3 | grep -q $mac'; ip -n blade3 link show s1v3"),
			qr/\Q$mac\E/, "$point: holding its MAC");
	}
	# Once every assigned VF is in its blade: a netdev moving into one while the namespaces
	# are listed would be seen in two of them.
	$c->run(q{wait_for 100 '! cmcctl -j assignments | grep -q "\"placed\":false"'}, timeout => 30);
	my %seen;
	my @dups = grep { $seen{$_}++ } @{ live_macs() };
	is_deeply(\@dups, [], "$point: no MAC on two VFs");
	$c->run('cmcctl unassign slot 1 vf 3') if $a;
}

# --- A card that refuses: the intent is kept and marked not applied; nothing half-written ----
$c->run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null"', timeout => 20);
start_cmcd('CMC_CARD_REFUSE=1/0/3');
my $rmac = '02:00:00:00:50:33';
($rr, $ro) = $c->run("cmcctl assign slot 1 vf 3 blade blade3 mac $rmac 2>&1", timeout => 30);
is($rr, 1, 'an assignment the card refuses: the command fails');
like($ro, qr/kept, but not applied: slot 1 pf 0 vf 3: refused by the card/, '  saying it is kept but not applied, and why');
my ($ra) = grep { $_->{slot} == 1 && $_->{vf} == 3 } @{ $c->json('cmcctl -j assignments') };
ok($ra && !$ra->{applied} && $ra->{reason} =~ /refused by the card/, 'cmcctl assignments shows it not applied, with the reason')
	or diag(explain($ra));
like($c->run('cmcctl events'), qr/assign-error\s+1\s+pf 0 vf 3: not applied: .*refused by the card/, '  and an event says so');
unlike($c->run('cmcctl -j vbridge show'), qr/\Q$rmac\E/, 'the card holds nothing of it');
$c->run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null"', timeout => 20);
start_cmcd();
($ra) = grep { $_->{slot} == 1 && $_->{vf} == 3 } @{ $c->json('cmcctl -j assignments') };
ok($ra && $ra->{applied} && $ra->{mac} eq $rmac, 'a card that takes it: the kept intent is applied at the next start');
$c->ok_run("wait_for 100 'ip -n blade3 link show s1v3 | grep -q $rmac'", '  its VF in blade3 with the MAC', timeout => 30);
$c->ok_run('cmcctl unassign slot 1 vf 3', 'unassigned again', timeout => 30);

# --- Everything comes back: after the restarts above, and after a chassis reboot ------------
sub check_restored {
	my ($when) = @_;
	is_deeply([ map { "$_->{blade}:$_->{functions}" } @{ $c->json('cmcctl -j blades') } ], [ 'blade1:2', 'blade2:2', 'blade3:1' ],
		"$when: cmcctl blades counts each blade's functions");
	is(trusted(1, 0), 1, "$when: slot 1 vf 0 is still trusted");
	is_deeply([ sort map { "$_->{slot}/$_->{vf}:$_->{blade}:$_->{vlan}" } @{ $c->json('cmcctl -j assignments') } ],
		[ '1/0:blade1:10', '1/1:blade2:10', '1/2:blade3:20', '2/0:blade1:4000', '2/1:blade2:4000' ], "$when: the assignments");
	is_deeply([ sort map { "$_->{domain}:$_->{vlan}:$_->{blades}" } @{ $c->json('cmcctl -j domains') } ],
		[ 'blue:20:blade3', 'red:10:blade1,blade2' ], "$when: the domains");
	is((placed('blade2', 'ln-mig'))[0], 0, "$when: the lane's VF is in blade2 again");
	$c->ok_run("wait_for 300 'ip -n blade2 addr show ln-mig | grep -q 169.254.1.2' && blade_carrier blade1 300 && blade_carrier blade2 300 && "
	    . "wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'", "$when: blade1 reaches blade2 over the lane", timeout => 90);
}
check_restored('after the restarts');

# --- A card pulled out and put back under cmcd ---------------------------------------------
# Card 2 carries the lane. Pulled out, cmcd lets it go (an event); put back, the kernel's
# igb takes the new PF at hot-add and cmcd takes it again, without a restart: VFIO, its
# VFs, the port's role, the lane and its assignments.
$c->qmp('device_del', { id => 'card2' });
ok(scalar $c->qmp_events('DEVICE_DELETED', 60), "card 2 (the lane's) pulled out under cmcd");
like($c->run(q{wait_for 50 'cmcctl events | grep -q card-gone'; cmcctl events}), qr/card-gone\s+2\s/, 'its removal is an event');
$c->qmp('device_add', { driver => 'igb', id => 'card2', bus => 'port2', mac => $c->card_mac(2) });
$c->ok_run(q{wait_for 300 'cmcctl events | grep -q "card-back *2 "'}, 'put back, cmcd takes it again (an event), no restart', timeout => 60);
$c->ok_run(q{wait_for 50 'cmcctl -j functions slot 2 | grep -q "\"driver\":\"vfio-pci\""'}, 'its PF is held through VFIO again', timeout => 20);
check_restored('after card 2 was pulled and put back');
$c->stop;
$c = Chassis->new(%opt);
$c->start;
start_cmcd();
check_restored('after a chassis reboot');
$c->ok_run("wait_for 100 'ip -n blade1 link set s1v0 address 02:00:00:00:77:01 2>/dev/null' && ip -n blade1 link set s1v0 address $mac0",
	'and its blade may change its MAC, as a trusted VF (then back)', timeout => 30);

# --- The same card as an uplink: its frames do reach its cable --------------------------------
# What shows that the midplane's capture above could fail: with the port's role uplink (no
# loopback), a VF of card 2 broadcasts onto that very cable.
$c->ok_run('cmcctl lane delete mig && cmcctl port 2/0 role uplink && cmcctl assign slot 2 vf 0 blade blade3',
	'lane deleted, port 2/0 an uplink, its VF 0 assigned to blade3', timeout => 30);
my ($up) = grep { $_->{slot} == 2 && $_->{vf} == 0 } @{ $c->json('cmcctl -j assignments') };
$c->ok_run("wait_for 200 'ip -n blade3 link show s2v0 >/dev/null 2>&1' && ip -n blade3 addr add 10.52.0.3/24 dev s2v0 && "
    . "blade_carrier blade3 300; ip netns exec blade3 ping -c 2 -W 1 10.52.0.99; true", 'blade3 sends over card 2', timeout => 60);
cmp_ok(Pcap::count($c->capture_path(2), sub { $_->{src} eq $up->{mac} && $_->{dst} eq 'ff:ff:ff:ff:ff:ff' }), '>', 0,
	"as an uplink, card 2's broadcasts are on its cable (the capture sees that cable)");
is(($c->run('kill $(pidof cmcd); wait_for 50 "! pidof cmcd >/dev/null"', timeout => 20))[0], 0, 'cmcd stops cleanly, within 5 s');

done_testing;
