#!/usr/bin/perl
# The emulated chassis itself, with the stock kernel igb PF: the switch's slots hold the
# cards QEMU was given, each card shows SR-IOV, VFs enable and bind igbvf, and two VFs in
# two network namespaces reach each other through the card.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Chassis;

my $c = Chassis->new(name => 'sriov', slots => [
	{ slot => 1, cable => 1 },     # a card cabled to the outside
	{ slot => 2 },                 # a card with no cable
	{ slot => 3, card => undef },  # an empty slot
]);
$c->start;
note(sprintf('chassis booted in %.1f s', $c->{boot_seconds}));   # a figure, not a check: start() dies if the guest breaks

my %slot = map { split ' ' } split /\n/, $c->run('chassis_slots');
is_deeply([ sort keys %slot ], [ 0, 1, 2, 3 ], 'sysfs shows the root port slot 0 and switch slots 1-3');

my @pfs = split /\n/, $c->run('chassis_pfs');
is(scalar @pfs, 2, 'two igb physical functions');
for my $n (1, 2) {
	my ($pf) = grep { my $p = $_; $p =~ /^\Q$slot{$n}\E\.0$/ } @pfs;
	ok($pf, "slot $n ($slot{$n}) holds an igb PF") or next;
	my $caps = $c->run("lspci -vvv -s $pf");
	like($caps, qr/Single Root I\/O Virtualization/, "slot $n: SR-IOV capability");
	like($caps, qr/Initial VFs: 8, Total VFs: 8/, "slot $n: 8 VFs in the capability");
	like($caps, qr/VF offset: 128, stride: 2, Device ID: 10ca/, "slot $n: VF offset, stride, device id");
	like($caps, qr/Alternative Routing-ID Interpretation/, "slot $n: ARI");
	# The kernel igb driver caps the count at 7 (pci_sriov_set_totalvfs).
	is($c->run("cat /sys/bus/pci/devices/$pf/sriov_totalvfs"), "7\n", "slot $n: kernel igb offers 7 VFs");
}
isnt($c->run("ls -d /sys/bus/pci/devices/$slot{3}.0 >/dev/null 2>&1; echo \$?"), "0\n",
	'slot 3 is empty');

my $pf = "$slot{2}.0";
# The kernel igb PF must be up for its VFs to get a link.
is(($c->run("ip link set \$(pci_netdev $pf) up"))[0], 0, 'slot 2 PF up');
is(($c->run("echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs"))[0], 0, 'enable 2 VFs on slot 2');
my @vfs = split /\n/, $c->run("pf_vfs $pf");
is(scalar @vfs, 2, 'two VFs appear');
for my $vf (@vfs) {
	is(($c->run("wait_for 100 '[ -n \"\$(pci_netdev $vf)\" ]'"))[0], 0, "VF $vf has a netdev");
	like($c->run("readlink /sys/bus/pci/devices/$vf/driver"), qr/igbvf$/, "VF $vf bound to igbvf");
}
my $groups = $c->run("for d in $pf @vfs; do basename \$(readlink /sys/bus/pci/devices/\$d/iommu_group); done | sort -u | wc -l");
is($groups + 0, 1, 'behind the switch (no ACS) the PF and its VFs share one IOMMU group');

my ($a, $b) = map { scalar $c->run("pci_netdev $_") =~ s/\s+//gr } @vfs;
my $setup = join '; ', 'ip netns add A', 'ip netns add B', "ip link set $a netns A", "ip link set $b netns B",
    "ip -n A addr add 10.77.0.1/24 dev $a", "ip -n B addr add 10.77.0.2/24 dev $b",
    "ip -n A link set $a up", "ip -n B link set $b up";
is(($c->run($setup))[0], 0, 'VFs moved into namespaces A and B');
is(($c->run("wait_for 300 'ip -n A link show $a | grep -q LOWER_UP && ip -n B link show $b | grep -q LOWER_UP'",
	timeout => 60))[0], 0, 'both VFs have carrier (kernel igb PF: takes seconds)');
my ($rc, $out) = $c->run('ip netns exec A ping -c 3 -W 3 10.77.0.2', timeout => 60);
is($rc, 0, 'VF in A pings VF in B through the card') or diag($out);
like($c->run("ip -n B -s link show $b"), qr/RX:.*\n\s+(\d{3,})\s/, 'B counted the received bytes');

$c->stop;
done_testing;
