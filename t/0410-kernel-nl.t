#!/usr/bin/perl
# The kernel-netlink backend: the card's PF stays with the kernel igb driver and cmcd
# sets its VFs up through rtnetlink (IFLA_VF_*). Same behaviours as igb-vfio: the VFs
# run with the MACs the chassis assigned, two blades ping through the card, a blade
# cannot change its MAC until trusted. Switch layout (no VFIO needed).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Chassis;

my $c = Chassis->new(name => 'kernel-nl', slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;

is(($c->run('cmcd -c /cmc/conf/emulated-kernel.conf && wait_for 300 "vfs_have_netdevs 0000:04:00.0"', timeout => 90))[0], 0,
	'cmcd enables 2 VFs on slot 2 through the kernel PF');
is(($c->run(q{wait_for 50 'cmcctl -j slot 2 | grep -q "\"vfs_enabled\":2"'}))[0], 0, 'and its inventory shows them');
my $fns = $c->json('cmcctl -j functions slot 2') // [];
my ($pf) = grep { $_->{kind} eq 'pf' } @$fns;
my @vfs = grep { $_->{kind} eq 'vf' } @$fns;
is($pf->{driver}, 'igb', 'the PF stays with the kernel igb driver');
is(scalar @vfs, 2, 'two VFs');
my $pfdev = $pf->{netdev};
my $vfinfo = $c->run("ip link show $pfdev");
my $id = $c->json('cmcctl -j version')->{chassis_id};
my ($mac0, $mac1) = map { Chassis::vf_default_mac($id, 2, 0, $_) } 0, 1;
like($vfinfo, qr/vf 0\s+link\/ether $mac0 .*spoof checking on/, 'VF 0 has the chassis MAC, spoof checking on (IFLA_VF_MAC, IFLA_VF_SPOOFCHK)');
like($vfinfo, qr/vf 1\s+link\/ether $mac1 /, 'VF 1 too');
like($vfinfo, qr/<[^>]*\bUP\b/, 'the backend brought the PF up (igb answers VFs only while up)');

is(($c->run("vf_to_blade $vfs[0]{bdf} blade1 10.77.0.1/24 && vf_to_blade $vfs[1]{bdf} blade2 10.77.0.2/24"))[0], 0, 'VFs to blade1 and blade2');
is(($c->run('blade_carrier blade1 400 && blade_carrier blade2 400', timeout => 90))[0], 0, 'both have carrier');
my ($dev1) = $c->run("ip -n blade1 -o link | grep -v LOOPBACK | cut -d: -f2") =~ /(\S+)/;
like($c->run("ip -n blade1 link show $dev1"), qr{link/ether $mac0 }, 'blade1 runs with the assigned MAC');
my ($rc, $out) = $c->run('ip netns exec blade1 ping -c 3 -W 3 10.77.0.2', timeout => 60);
is($rc, 0, 'blade1 pings blade2 through the card') or diag($out);

($rc, $out) = $c->run("ip -n blade1 link set dev $dev1 address 02:00:00:00:00:99");
isnt($rc, 0, 'an untrusted blade cannot change its MAC (the kernel PF refuses it)');
like($c->run("ip -n blade1 link show $dev1"), qr{link/ether $mac0 }, 'its MAC is unchanged');
is(($c->run('cmcctl trust 2 0 0 on'))[0], 0, 'cmcctl trust 2 0 0 on (IFLA_VF_TRUST)');
like($c->run("ip link show $pfdev"), qr/vf 0 .*trust on/, 'the kernel shows VF 0 trusted');
is(($c->run("wait_for 150 'ip -n blade1 link set dev $dev1 address 02:00:00:00:00:99 2>/dev/null'", timeout => 60))[0], 0,
	'trusted, the blade may change its MAC');
is(($c->run('cmcctl trust 2 0 7 on'))[0], 1, 'trust on a VF that is not enabled: refused');

# What the kernel driver refuses is reported as refused: igb has no per-VF link state.
($rc, $out) = $c->run('cmcctl link-state 2 0 1 enable 2>&1');
is($rc, 1, 'link-state enable on the kernel igb PF: refused');
like($out, qr/VF 1 link-state: refused by driver igb \(Operation not supported\)/, 'naming the setting and the driver');
like($c->run('cmcctl events'), qr/vf-refused\s+2\s+pf 0 vf 1: VF 1 link-state: refused by driver igb/, 'and as an event');
# (blade1 changed its MAC above: forget the stale neighbour entries first)
($rc, $out) = $c->run('ip -n blade1 neigh flush all; ip -n blade2 neigh flush all; ip netns exec blade2 ping -c 2 -W 3 10.77.0.1', timeout => 30);
is($rc, 0, 'the VF carries on as before') or diag($out);
is(($c->run('cmcctl link-state 2 0 1 sideways'))[0], 2, 'link-state with a bad word: usage');

# keep_vfs: a clean stop leaves the VFs (and the blades on them) as they are, and a
# restarted cmcd adopts them without re-creating anything.
my $ifindex = $c->run("ip -n blade2 -o link | grep -v LOOPBACK | cut -d: -f1");
is(($c->run('kill $(pidof cmcd); wait_for 50 "! pidof cmcd >/dev/null"'))[0], 0, 'cmcd stops on SIGTERM');
is($c->run("cat /sys/bus/pci/devices/$pf->{bdf}/sriov_numvfs"), "2\n", 'the VFs stay (keep_vfs = true)');
($rc, $out) = $c->run('ip netns exec blade2 ping -c 2 -W 3 10.77.0.1', timeout => 30);
is($rc, 0, 'the blades keep talking while cmcd is down') or diag($out);
is(($c->run('cmcd -c /cmc/conf/emulated-kernel.conf && wait_for 50 "cmcctl version >/dev/null 2>&1"'))[0], 0, 'cmcd restarts');
is($c->run("ip -n blade2 -o link | grep -v LOOPBACK | cut -d: -f1"), $ifindex, 'and adopts the VFs: same netdev in the blade');
# Trust is not kept across a restart yet (assignments are #5): VF 0 is back to its
# assigned MAC only, so blade1 returns to it.
($rc, $out) = $c->run("ip -n blade1 link set dev $dev1 address $mac0; ip -n blade1 neigh flush all; "
    . 'ip -n blade2 neigh flush all; ip netns exec blade2 ping -c 2 -W 3 10.77.0.1', timeout => 30);
is($rc, 0, 'the adopted VFs still talk') or diag($out);

# A dedicated slot: every VF of the card is its blade's, placed in it, and kept so across
# a restart; nobody else may be given one, and it cannot be unassigned.
is(($c->run("kill \$(pidof cmcd); wait_for 50 '! pidof cmcd >/dev/null'; echo 0 > /sys/bus/pci/devices/$pf->{bdf}/sriov_numvfs"))[0], 0,
	'cmcd stopped and the VFs taken away');
for my $when ('with slot 2 dedicated to blade2', 'after a restart') {
	$c->run("kill \$(pidof cmcd); wait_for 50 '! pidof cmcd >/dev/null'") if $when =~ /restart/;
	is(($c->run("cmcd -c /cmc/conf/emulated-dedicated.conf && wait_for 300 'ip -n blade2 link show s2v0 && ip -n blade2 link show s2v1'",
		timeout => 90))[0], 0, "$when: both VFs are in blade2 as s2v0 and s2v1");
	is_deeply([ sort map { "$_->{slot}/$_->{vf}:$_->{blade}" } @{ $c->json('cmcctl -j assignments') } ], [ '2/0:blade2', '2/1:blade2' ],
		"$when: every VF of the card is blade2's");
	is_deeply([ map { "$_->{blade}:$_->{functions}" } @{ $c->json('cmcctl -j blades') } ], [ 'blade1:0', 'blade2:2' ],
		"$when: cmcctl blades counts them");
}
($rc, $out) = $c->run('cmcctl unassign slot 2 vf 0 2>&1');
ok($rc == 1 && $out =~ /dedicated to blade2/, 'a dedicated VF cannot be unassigned') or diag($out);
($rc, $out) = $c->run('cmcctl assign slot 2 vf 1 blade blade1 2>&1');
ok($rc == 1 && $out =~ /already assigned to blade2/, 'nor given to another blade') or diag($out);

$c->stop;
done_testing;
