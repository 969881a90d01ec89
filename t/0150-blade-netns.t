#!/usr/bin/perl
# Blade mapping, netns backend (mgmt-proc/blade.h through t/tools/mp-blade): blades are
# network namespaces at /run/netns/<blade>, VFs of a kernel-igb card are mapped into
# them under chosen names, get addresses, ping each other through the card, and go
# back out. Map and unmap are idempotent and recover a half-done state; bad input is
# refused with a clear error and exit 1. One card, no cable (no peer: link up).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Chassis;

my $c = Chassis->new(name => 'blade-netns', slots => [ { slot => 1 } ]);
$c->start;

sub out { my ($rc, $out) = $c->run(@_); chomp $out; $out }
# A refusal: exit 1, the reason on stderr (and nothing on stdout).
sub refused {
	my ($cmd, $re, $name) = @_;
	my ($rc, $out) = $c->run("$cmd 2>&1 >/dev/null");
	is($rc, 1, "$name: exit 1");
	like($out, $re, "$name: says why") or diag("$cmd: $out");
}

# The card: kernel igb PF up (its VFs have link only while it is), two igbvf VFs.
my $pf = out('chassis_pfs | head -1');
like($pf, qr/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d$/, "the card's PF is $pf");
$c->ok_run("ip link set \$(pci_netdev $pf) up && echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs", 'PF up, 2 VFs enabled');
$c->ok_run("wait_for 300 'vfs_have_netdevs $pf'", 'igbvf gives both VFs a netdev', timeout => 60);
my @vf = split /\n/, out("pf_vfs $pf");
is(scalar @vf, 2, "VFs @vf");
my $mac0 = out("cat /sys/class/net/\$(pci_netdev $vf[0])/address");

# Blades.
$c->ok_run('mp-blade create blade1 && mp-blade create blade2', 'create blade1 and blade2');
$c->ok_run('mp-blade create blade1', 'create is idempotent');
like(out('ip netns list'), qr/^blade1\b.*^blade2\b|^blade2\b.*^blade1\b/ms, 'iproute2 sees both blades');
like(out('ip -n blade1 link show lo'), qr/<[^>]*\bUP\b/, "a blade's loopback is up");

# Map, one VF to each blade, both as lane0.
$c->ok_run("mp-blade map $vf[0] blade1 lane0 && mp-blade map $vf[1] blade2 lane0", 'map VF 0 -> blade1, VF 1 -> blade2, as lane0');
like(out('ip -n blade1 link show lane0'), qr/^\d+: lane0: <[^>]*\bUP\b/, 'ip -n blade1 link show lane0: there and up');
like(out('ip -n blade2 link show lane0'), qr/^\d+: lane0: <[^>]*\bUP\b/, 'ip -n blade2 link show lane0: there and up');
is(out("pci_netdev $vf[0]"), '', 'VF 0 is gone from the init namespace');
my $show = out('mp-blade show blade1 lane0');
like($show, qr/^lane0 ifindex=\d+ mac=\S+ bdf=\Q$vf[0]\E up /, 'mp-blade show names the VF behind lane0') or diag($show);
my ($mac_in) = $show =~ /mac=(\S+)/;
is($mac_in, $mac0, "igbvf keeps its MAC across the move ($mac0)");

# Addresses and traffic through the card.
$c->ok_run('mp-blade addr blade1 lane0 169.254.1.1/24 && mp-blade addr blade2 lane0 169.254.1.2/24', 'addresses set');
$c->ok_run('mp-blade addr blade1 lane0 169.254.1.1/24', 'setting the same address again is fine');
like(out('ip -n blade1 -4 addr show lane0'), qr{inet 169\.254\.1\.1/24 }, 'blade1 lane0 has 169.254.1.1/24');
my $t0 = time;
$c->ok_run(q{wait_for 400 'mp-blade show blade1 lane0 | grep -q " carrier" && mp-blade show blade2 lane0 | grep -q " carrier"'},
    'both lanes get carrier', timeout => 60);
note(sprintf('carrier after ~%d s', time - $t0));
my ($rc, $o) = $c->run('ip netns exec blade1 ping -c 3 -W 3 169.254.1.2', timeout => 60);
is($rc, 0, 'blade1 pings blade2 through the card') or diag($o);

# Idempotent: a second map changes nothing (same ifindex, still up, address kept).
my ($ifindex) = $show =~ /ifindex=(\d+)/;
$c->ok_run("mp-blade map $vf[0] blade1 lane0", 'map again: 0');
like(out('mp-blade show blade1 lane0'), qr/ifindex=$ifindex .* up carrier/, 'same interface, still up with carrier');
like(out('ip -n blade1 -4 addr show lane0'), qr{inet 169\.254\.1\.1/24 }, 'address kept');

refused("mp-blade map $vf[0] blade2 lane1", qr/VF \Q$vf[0]\E is mapped to blade blade1 \(as lane0\)/, 'a VF mapped elsewhere');
refused("mp-blade map $vf[1] blade1 lane0", qr/blade blade1 has a lane0 already \(\Q$vf[0]\E\)/, 'a name taken in the blade');

# A half-done state (VF in the blade under another name, down) is finished by map.
$c->ok_run('ip -n blade1 link set lane0 down && ip -n blade1 link set lane0 name tmp0', 'rename lane0 behind the backend');
$c->ok_run("mp-blade map $vf[0] blade1 lane0", 'map finds the VF by its device and renames it');
like(out('ip -n blade1 link show lane0'), qr/^\d+: lane0: <[^>]*\bUP\b/, 'lane0 again, up');

# Unmap: back to the init namespace under its name, down; again is a no-op.
$c->ok_run("mp-blade unmap $vf[0] blade1 lane0", 'unmap VF 0 from blade1');
($rc) = $c->run('ip -n blade1 link show lane0 2>/dev/null');
isnt($rc, 0, 'blade1 has no lane0 any more');
is(out("pci_netdev $vf[0]"), 'lane0', 'VF 0 is back in the init namespace, still called lane0');
unlike(out('ip link show lane0'), qr/<[^>]*\bUP\b/, 'and down');
$c->ok_run("mp-blade unmap $vf[0] blade1 lane0", 'unmap again: 0');
$c->ok_run("mp-blade unmap $vf[1] blade2 lane0", 'unmap VF 1 (its name is taken in the init namespace now)');
my $back = out("pci_netdev $vf[1]");
like($back, qr/^eth\d+$/, "so it came back as a free ethN ($back)");

# A VF without a netdev: EAGAIN-style refusal, fine once its driver is back.
$c->ok_run("echo $vf[1] > /sys/bus/pci/drivers/igbvf/unbind", 'unbind VF 1 from igbvf');
refused("mp-blade map $vf[1] blade2 lane0", qr/VF \Q$vf[1]\E \(driver none\) has no network interface yet/, 'a VF with no netdev');
$c->ok_run("echo $vf[1] > /sys/bus/pci/drivers/igbvf/bind && wait_for 100 '[ -n \"\$(pci_netdev $vf[1])\" ]'", 'rebind it', timeout => 30);
$c->ok_run("mp-blade map $vf[1] blade2 lane0 && mp-blade map $vf[0] blade1 lane0", 'both map again');

# Bad input.
refused('mp-blade map 0000:7f:1f.7 blade1 lane0', qr/no PCI function 0000:7f:1f\.7/, 'unknown BDF');
refused('mp-blade map 7f:1f:0 blade1 lane0', qr/bad PCI address "7f:1f:0"/, 'malformed BDF');
refused("mp-blade map $pf blade1 lane0", qr/\Q$pf\E is not a virtual function/, 'a PF');
refused("mp-blade map $vf[0] ../x lane0", qr{bad blade name "\.\./x"}, 'blade name ../x');
refused('mp-blade create ../x', qr{bad blade name "\.\./x"}, 'create ../x');
refused("mp-blade map $vf[0] blade1 lane0123456789abc", qr/bad interface name "lane0123456789abc": 1\.\.15/, 'ifname too long');
refused("mp-blade map $vf[0] blade1 'lane%d'", qr/bad interface name "lane%d"/, 'ifname with a kernel pattern');
refused("mp-blade map $vf[0] blade9 lane0", qr{no blade blade9 \(no namespace at /run/netns/blade9\)}, 'a blade not created');
refused('mp-blade addr blade1 lane0 169.254.1.1/33', qr{bad address "169\.254\.1\.1/33"}, 'a bad address');
refused('mp-blade addr blade1 nope0 169.254.1.1/24', qr/blade blade1 has no nope0/, 'an address on a missing interface');
refused('mp-blade -k switchtec show blade1 lane0', qr/no blade backend "switchtec" \(have: netns\)/, 'an unknown backend');
($rc) = $c->run('mp-blade frobnicate 2>/dev/null');
is($rc, 2, 'an unknown command: usage, exit 2');

$c->stop;
done_testing;
