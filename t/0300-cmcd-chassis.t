#!/usr/bin/perl
# cmcd in the emulated chassis (switch layout, kernel PF): its inventory matches what
# QEMU was given, field by field; a card pulled out of a slot and put back shows in
# `cmcctl slots` and as events; kill -9 and restart keeps the state.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Chassis;

my @given = ({ slot => 1, cable => 1 }, { slot => 2 }, { slot => 3, card => undef });
my $c = Chassis->new(name => 'cmcd', slots => \@given);
$c->start;

is(($c->run('cmcd -c /cmc/conf/emulated-switch.conf > /tmp/cmcd.log 2>&1; wait_for 50 "cmcctl version >/dev/null 2>&1"'))[0], 0,
	'cmcd starts (daemonised) and answers');
like($c->run('ls -l /run/cmc/cmcd.sock'), qr/^srw-rw----\s+1 root\s+cmc /, 'socket 0660, group cmc');

my $slots = $c->json('cmcctl -j slots') // [];
is_deeply([ map { $_->{slot} } @$slots ], [ map { $_->{slot} } @given ], 'the slots QEMU was given');
for my $g (@given) {
	my ($s) = grep { $_->{slot} == $g->{slot} } @$slots;
	next unless ok($s, "slot $g->{slot} reported");
	is($s->{port_kind}, 'downstream', "slot $g->{slot}: a switch downstream port");
	ok(!$s->{port_acs}, "slot $g->{slot}: no ACS (QEMU xio3130)");
	if (!defined $g->{card}) {
		ok(!$s->{occupied} && !$s->{presence}, "slot $g->{slot}: empty");
		is($s->{pfs}, 0, "slot $g->{slot}: no functions");
		next;
	}
	ok($s->{occupied} && $s->{presence}, "slot $g->{slot}: card present");
	is("$s->{vendor_id}:$s->{device_id}", '8086:10c9', "slot $g->{slot}: igb (82576)");
	is($s->{pfs}, 1, "slot $g->{slot}: one PF");
	ok($s->{sriov}, "slot $g->{slot}: SR-IOV");
	is($s->{vfs_total}, 8, "slot $g->{slot}: TotalVFs 8");
	is($s->{vfs_enabled}, 0, "slot $g->{slot}: no VFs enabled yet");
	is($s->{link_speed}, '2.5GT/s', "slot $g->{slot}: link speed");
}
my $slot1 = $c->json('cmcctl -j slot 1') // {};
my ($pf) = @{ $slot1->{functions} // [] };
is($pf->{driver}, 'igb', 'slot 1 PF bound to the kernel igb driver');
ok($pf->{ari}, 'slot 1 PF: ARI');
is("$pf->{vf_offset}/$pf->{vf_stride}/$pf->{vf_device_id}", '128/2/10ca', 'slot 1 PF: VF offset, stride, device');

# A VF setting where cmcd drives no card says why, for each kind of slot.
for ([ '3 0 0', qr/slot 3 pf 0 is not driven by cmcd: slot 3 is empty/, 'an empty slot' ],
     [ '1 0 0', qr/the configuration gives slot 1 no VFs/, 'a card the configuration gives no VFs' ],
     [ '9 0 0', qr/the chassis has no slot 9/, 'a slot the chassis does not have' ]) {
	my ($args, $re, $what) = @$_;
	my ($rc, $out) = $c->run("cmcctl trust $args on 2>&1");
	is($rc, 1, "trust on $what: refused");
	like($out, $re, "trust on $what: says why") or diag($out);
}

# VFs enabled behind cmcd's back are seen (uevents) and counted. The kernel igb PF
# answers its VFs only while up: igbvf's probe waits for it.
$c->run("ip link set \$(pci_netdev $pf->{bdf}) up; echo 2 > /sys/bus/pci/devices/$pf->{bdf}/sriov_numvfs", timeout => 120);
is(($c->run(q{wait_for 30 'cmcctl -j slot 1 | grep -q "\"vfs_enabled\":2"'}))[0], 0, 'enabling 2 VFs shows in cmcctl');

# Hot-plug: the card in slot 2 pulled out, then put back.
$c->run('cmcctl -j events follow > /tmp/events.json 2>&1 &');
$c->qmp('device_del', { id => 'card2' });
is(($c->run(q{wait_for 150 '! [ -e /sys/bus/pci/devices/0000:04:00.0 ]'}, timeout => 30))[0], 0, 'guest lost card 2');
is(($c->run(q{wait_for 20 'cmcctl -j slot 2 | grep -q "\"occupied\":false"'}))[0], 0,
	'cmcctl shows slot 2 empty (checked within 2 s of the removal)');
ok(scalar $c->qmp_events('DEVICE_DELETED', 30), 'QEMU finished deleting card 2');
$c->qmp('device_add', { driver => 'igb', id => 'card2', bus => 'port2', mac => '52:54:00:c0:02:00' });
is(($c->run(q{wait_for 150 '[ -e /sys/bus/pci/devices/0000:04:00.0 ]'}, timeout => 30))[0], 0, 'guest sees card 2 again');
is(($c->run(q{wait_for 20 'cmcctl -j slot 2 | grep -q "\"occupied\":true"'}))[0], 0,
	'cmcctl shows slot 2 occupied again (within 2 s)');
my $log = $c->run('cat /tmp/events.json');
# The pull may be seen half-way (link down before the card goes): then the removal says
# what the slot was last ("removed (was link-down)"); either way it names the card.
like($log, qr/"kind":"hotplug","slot":2,"detail":"card 8086:10c9 removed[" ]/, 'events -f streamed the removal')
	or diag($log);
like($log, qr/"kind":"hotplug","slot":2,"detail":"card 8086:10c9 added/, 'and the return');
is(($c->run('cmcctl version >/dev/null'))[0], 0, 'the daemon still answers');

# kill -9 and restart: the same picture, nothing to repair.
my $before = $c->run('cmcctl -j slots');
$c->run('kill -9 $(pidof cmcd); sleep 0.5');
like($c->run('cmcctl slots 2>&1'), qr/cmcd is not running/, 'killed: cmcctl says cmcd is not running');
is(($c->run('cmcd -c /cmc/conf/emulated-switch.conf; wait_for 50 "cmcctl version >/dev/null 2>&1"'))[0], 0, 'cmcd restarts');
is($c->run('cmcctl -j slots'), $before, 'the same slots after the restart');
unlike($c->run('cmcctl -j events'), qr/"kind":"reconcile"/, 'nothing to reconcile');

$c->stop;
done_testing;
