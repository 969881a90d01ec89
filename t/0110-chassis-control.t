#!/usr/bin/perl
# The host's control of the emulated chassis over QMP, in the root-port layout (one root
# port, with ACS, per card): a pulled and replugged cable shows as link loss and return in
# the guest, and a card hot-unplugged from its slot and plugged back goes and comes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Chassis;

my $c = Chassis->new(name => 'control', layout => 'rootports', slots => [
	{ slot => 1, cable => 1 }, { slot => 2, cable => 1 },
]);
$c->start;
my %slot = map { split ' ' } split /\n/, $c->run('chassis_slots');
is_deeply([ sort keys %slot ], [ 1, 2 ], 'slots 1 and 2 are root ports');

my $pf1 = "$slot{1}.0";
my $net1 = $c->run("pci_netdev $pf1") =~ s/\s+//gr;
ok($net1, "slot 1 card has a netdev ($net1)");
is(($c->run("ip link set $net1 up; wait_for 100 'grep -q 1 /sys/class/net/$net1/carrier'", timeout => 30))[0], 0,
	'cabled port has carrier');

# Root ports have ACS: each VF gets an IOMMU group of its own (so one VF can go to VFIO).
is(($c->run("echo 2 > /sys/bus/pci/devices/$pf1/sriov_numvfs"))[0], 0, 'enable 2 VFs on slot 1');
my $groups = $c->run("for d in $pf1 \$(pf_vfs $pf1); do basename \$(readlink /sys/bus/pci/devices/\$d/iommu_group); done | sort -u | wc -l");
is($groups + 0, 3, 'PF and its 2 VFs are in 3 IOMMU groups');

$c->qmp('set_link', { name => 'cable1', up => JSON::PP::false });
is(($c->run("wait_for 100 'grep -q 0 /sys/class/net/$net1/carrier'", timeout => 30))[0], 0,
	'cable 1 pulled: the guest sees carrier 0');
$c->qmp('set_link', { name => 'cable1', up => JSON::PP::true });
is(($c->run("wait_for 100 'grep -q 1 /sys/class/net/$net1/carrier'", timeout => 30))[0], 0,
	'cable 1 plugged back: carrier 1');

my $pf2 = "$slot{2}.0";
$c->qmp('device_del', { id => 'card2' });
ok(scalar $c->qmp_events('DEVICE_DELETED', 30), 'QEMU reports card 2 deleted');
is(($c->run("wait_for 100 '! [ -e /sys/bus/pci/devices/$pf2 ]'", timeout => 30))[0], 0,
	'card 2 is gone from slot 2 in the guest');
$c->qmp('device_add', { driver => 'igb', id => 'card2', bus => 'port2', netdev => 'cable2',
	mac => '52:54:00:c0:02:00' });
is(($c->run("wait_for 150 '[ -e /sys/bus/pci/devices/$pf2 ]'", timeout => 30))[0], 0,
	'card 2 plugged back into slot 2');
is($c->run("cat /sys/bus/pci/devices/$pf2/device"), "0x10c9\n", 'it is an 82576 again');

$c->stop;
done_testing;
