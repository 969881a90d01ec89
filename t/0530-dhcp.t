#!/usr/bin/perl
# A configuration service (DHCP) per domain (issue #15, item 4 and its bad input), in one
# boot of the root-port layout with cmcd driving both cards (igb-vfio); card 1's port is
# the uplink the services and the blades use.
#
#   - bad settings (a pool in the lanes' 169.254.0.0/16, a pool holding the server), no
#     dnsmasq, a domain without a free VF: refused with the reason, nothing applied;
#   - domains red and blue, each with a dnsmasq of its own in its own namespace, on the
#     same prefix (each server even has the same address); a blade of each gets its
#     address with busybox udhcpc from its own domain's pool;
#   - no DHCP frame of red reaches a VF of blue (the card's counters per VF);
#   - dnsmasq killed: restarted, with an event;
#   - cmcd restarted: the leases stand (the same address renewed, a lease that was not
#     renewed still in the file);
#   - the service turned off: dnsmasq stops, its VF goes back;
#   - a relay: domain tenant's service relays to the tenant's own server, reached over the
#     domain's VLAN on the uplink's cable (the server is a dnsmasq on card 2, cabled to
#     the same switch as card 1); a blade of tenant gets its address from that server.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(remove_tree);
use Chassis;

my $state = Chassis::build_dir() . '/chassis-state/dhcp';
remove_tree($state);
my $c = Chassis->new(name => 'dhcp', layout => 'rootports', state_dir => $state,
	slots => [ { slot => 1, cable => 1 }, { slot => 2, cable => 1 } ]);
$c->start;

sub start_cmcd {
	$c->ok_run('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"',
		'cmcd up, VFs of both cards probed', timeout => 90);
}
sub domain { my ($name) = @_; my ($d) = grep { $_->{domain} eq $name } @{ $c->json('cmcctl -j domains') }; $d // {} }
sub svc_pid { domain($_[0])->{dnsmasq_pid} // 0 }
# Waits (up to 30 s) for the domain's dnsmasq to run; its pid, or 0.
sub wait_svc {
	my ($name, $not) = @_;
	for (1 .. 60) {
		my $p = svc_pid($name);
		return $p if $p && $p != ($not // 0);
		select(undef, undef, undef, 0.5);
	}
	diag(explain domain($name));
	return 0;
}
sub in_pool { my ($a, $lo, $hi) = @_; $a =~ /^10\.9\.0\.(\d+)$/ && $1 >= $lo && $1 <= $hi }
sub addr_of {
	my ($blade, $dev) = @_;
	my $out = $c->run("ip -n $blade -4 -o addr show dev $dev");
	return $out =~ /inet (\d+\.\d+\.\d+\.\d+)\// ? $1 : '';
}
sub slurp { my ($f) = @_; open(my $h, '<', $f) or return ''; local $/; <$h> // '' }

start_cmcd();
my $red = 'subnet 10.9.0.0/24 server 10.9.0.254 pool 10.9.0.100-10.9.0.149 lease 3600';
my $blue = 'subnet 10.9.0.0/24 server 10.9.0.254 pool 10.9.0.150-10.9.0.199 lease 3600';

# --- Bad input: refused, nothing applied ----------------------------------------------------
$c->refused("cmcctl domain dhcp red $red", qr/no domain 'red'/, 'a service for a domain that is not there');
$c->ok_run('cmcctl domain create red vlan 10 && cmcctl domain add red blade1', 'domain red: blade1');
$c->ok_run('cmcctl domain create blue vlan 20 && cmcctl domain add blue blade2', 'domain blue: blade2');
$c->refused('cmcctl domain dhcp red subnet 169.254.0.0/16 server 169.254.9.254 pool 169.254.9.10-169.254.9.20',
	qr/overlaps 169\.254\.0\.0\/16, the lanes' addresses/, "a pool in the lanes' addresses");
$c->refused('cmcctl domain dhcp red subnet 10.9.0.0/24 server 10.9.0.120 pool 10.9.0.100-10.9.0.149',
	qr/the pool holds the server's own address 10\.9\.0\.120/, "a pool holding the service's own address");
$c->run('mv /usr/sbin/dnsmasq /usr/sbin/dnsmasq.away');
$c->refused("cmcctl domain dhcp red $red", qr/dnsmasq cannot be run.*install the dnsmasq package/, 'no dnsmasq');
$c->run('mv /usr/sbin/dnsmasq.away /usr/sbin/dnsmasq');
is(domain('red')->{dhcp}, 'off', 'red has no service after the refusals');
is(scalar @{ $c->json('cmcctl -j assignments') }, 0, 'and no VF was taken for one');

# --- Two domains, one prefix, a dnsmasq each ---------------------------------------------
$c->ok_run("cmcctl domain dhcp red $red", 'red: a service on 10.9.0.0/24, pool .100-.149');
$c->ok_run("cmcctl domain dhcp blue $blue", 'blue: a service on the same prefix, pool .150-.199');
my %svc = map { my $d = domain($_); ($_ => $d->{service_vf} // '') } qw(red blue);
is("$svc{red} $svc{blue}", '1/0/0 1/0/1', "the services' VFs: the uplink's first two");
my $red_pid = wait_svc('red');
my $blue_pid = wait_svc('blue');
ok($red_pid && $blue_pid && $red_pid != $blue_pid, "a dnsmasq for each ($red_pid, $blue_pid)");
like($c->run("ip -n dhcp-red -4 -o addr show; ip -n dhcp-blue -4 -o addr show"),
	qr/s1v0\s+inet 10\.9\.0\.254\/24.*s1v1\s+inet 10\.9\.0\.254\/24/s,
	'each in its own namespace, on its VF, with the same address');
like($c->run("cat /proc/$red_pid/cmdline | tr '\\0' ' '"), qr{^/usr/sbin/dnsmasq --no-daemon .*--conf-file=/run/cmc/dhcp-red.conf},
	"red's dnsmasq runs in the foreground on its generated file");
$c->ok_run('cmcctl assign slot 1 vf 2 blade blade1 && cmcctl assign slot 1 vf 3 blade blade2', 'a VF for blade1 and blade2');
# Quiet namespaces: no IPv6 chatter on the VFs whose counters are read below.
$c->run(q{for n in blade1 blade2 dhcp-red dhcp-blue; do ip netns exec $n sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 > $f; done'; done});
$c->ok_run("wait_for 200 'ip -n blade1 link show s1v2 >/dev/null 2>&1 && ip -n blade2 link show s1v3 >/dev/null 2>&1' && "
	. 'ip netns exec blade1 sh -c "for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 > \$f; done" && '
	. 'ip netns exec blade2 sh -c "for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 > \$f; done" && '
	. 'blade_carrier blade1 300 && blade_carrier blade2 300 && blade_carrier dhcp-red 300 && blade_carrier dhcp-blue 300',
	'placed, with carrier everywhere', timeout => 90);

my $udhcpc = 'udhcpc -t 10 -T 2 -A 2 -n';
$c->ok_run("ip netns exec blade2 $udhcpc -i s1v3 -p /run/udhcpc-blade2.pid", 'blade2 (blue) asks with udhcpc', timeout => 60);
my $a2 = addr_of('blade2', 's1v3');
ok(in_pool($a2, 150, 199), "blade2 has $a2, from blue's pool");
# Blue quiet before red asks: the server's neighbour entry for blade2 (dnsmasq put it
# there to answer before blade2 had an address) is confirmed by a unicast ARP some 5 s
# after its use (the kernel's delay_first_probe_time); that is blue's own traffic.
sleep 6;
$c->run("wait_for 100 '! ip -n dhcp-blue neigh | grep -q \"DELAY\\|PROBE\\|INCOMPLETE\"'", timeout => 20);
my %before = map { ($_ => $c->vfstat(1, $_)) } 0, 1, 3;
$c->ok_run("ip netns exec blade1 $udhcpc -i s1v2 -p /run/udhcpc-blade1.pid", 'blade1 (red) asks with udhcpc', timeout => 60);
my %after = map { ($_ => $c->vfstat(1, $_)) } 0, 1, 3;
my %rx = map { ($_ => ($after{$_}{rx_packets} // 0) - ($before{$_}{rx_packets} // 0)) } 0, 1, 3;
diag(explain { before => \%before, after => \%after }) if $rx{1} || $rx{3};
my $a1 = addr_of('blade1', 's1v2');
ok(in_pool($a1, 100, 149), "blade1 has $a1, from red's pool");
cmp_ok($rx{0}, '>=', 2, "red's service VF received red's DHCP frames ($rx{0})");
is($rx{1}, 0, "blue's service VF received none of them");
is($rx{3}, 0, "nor blade2's VF (blue)");
like(slurp("$state/dhcp/red.leases"), qr/ \Q$a1\E /, "red's lease is in cmcd's state dir");
unlike(slurp("$state/dhcp/blue.leases"), qr/ \Q$a1\E /, "and not in blue's");
# A second lease in red that is never renewed (another client id, the interface left alone):
# after cmcd's restart, only leases read back from the file keep it there.
my ($rc, $out) = $c->run('ip netns exec blade1 udhcpc -q -n -t 5 -T 2 -i s1v2 -x 0x3d:01020304050607 -s /bin/true 2>&1', timeout => 40);
my ($other) = $out =~ /lease of (\S+) obtained/;
ok($other && $other ne $a1, 'a second lease in red, for another client id (' . ($other // 'none') . ')') or diag($out);

# --- dnsmasq dies: restarted, with an event ----------------------------------------------
$c->run("kill -9 $red_pid") if $red_pid;
my $new = wait_svc('red', $red_pid);
ok($new && $new != $red_pid, "red's dnsmasq killed: another runs ($new)");
like($c->run('cmcctl events'), qr/dhcp\s+-?\s*red: dnsmasq $red_pid was killed by signal 9; restarting/, 'with an event');
is(domain('red')->{restarts}, 1, 'counted');
is(svc_pid('blue'), $blue_pid, "blue's is untouched");

# --- cmcd restarts: the leases stand ---------------------------------------------------------
$c->run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null"', timeout => 20);
is(($c->run('pidof dnsmasq'))[0], 1, "cmcd stopped: its dnsmasqs with it");
start_cmcd();
ok(wait_svc('red') && wait_svc('blue'), 'both services run again');
# cmcd's start resets the cards' VFs (igb-vfio takes the PFs afresh): blade1's VF is a
# new netdev, without its address; its client asks again, then renews.
$c->ok_run("wait_for 300 'ip -n blade1 link show s1v2 >/dev/null 2>&1' && blade_carrier blade1 300 && blade_carrier dhcp-red 300",
	"blade1's VF is back in blade1", timeout => 90);
$c->run('kill $(cat /run/udhcpc-blade1.pid) 2>/dev/null; rm -f /run/udhcpc-s1v2.log; true');
$c->ok_run("ip netns exec blade1 $udhcpc -i s1v2 -p /run/udhcpc-blade1.pid", 'blade1 asks again', timeout => 60);
is(addr_of('blade1', 's1v2'), $a1, "and is given its address again ($a1)");
$c->ok_run('kill -USR1 $(cat /run/udhcpc-blade1.pid) && wait_for 100 "grep -q ^renew /run/udhcpc-s1v2.log"',
	"blade1's udhcpc renews", timeout => 20);
my $log = $c->run('cat /run/udhcpc-s1v2.log');
like($log, qr/^bound \Q$a1\E [^\n]*\nrenew \Q$a1\E /m, 'the same address renewed') or diag($log);
unlike($log, qr/nak/, 'no NAK');
is(addr_of('blade1', 's1v2'), $a1, 'blade1 keeps its address');
like(slurp("$state/dhcp/red.leases"), qr/ \Q$other\E /, 'the lease that was not renewed is still there');

# --- The service off: dnsmasq stops, the VF goes back ------------------------------------
my $bp = svc_pid('blue');
$c->ok_run('cmcctl domain dhcp blue off', 'blue: service off');
$c->ok_run("wait_for 50 '! kill -0 $bp 2>/dev/null'", "blue's dnsmasq has stopped", timeout => 20);
ok(!grep({ $_->{slot} == 1 && $_->{vf} == 1 } @{ $c->json('cmcctl -j assignments') }), 'its VF is nobody\'s');
$c->ok_run('cmcctl domain create green vlan 30', 'domain green');
$c->ok_run('cmcctl assign slot 1 vf 1 blade blade3', 'blade3 takes the last free VF of the uplink');
$c->refused('cmcctl domain dhcp green subnet 10.7.0.0/24 server 10.7.0.1 pool 10.7.0.10-10.7.0.20',
	qr/no uplink port driven by cmcd has a free VF for domain green's service/, 'a domain without a free VF for its service');
is(domain('green')->{dhcp}, 'off', '  and green has no service');

# --- A relay to the tenant's own server over the uplink ----------------------------------
$c->ok_run('cmcctl unassign slot 1 vf 1 && cmcctl unassign slot 1 vf 3 && cmcctl domain remove blue blade2 && '
	. 'cmcctl domain create tenant vlan 40 && cmcctl domain add tenant blade2 && cmcctl domain add tenant blade3',
	'domain tenant: blade2, blade3');
# The tenant's server, outside card 1: blade2 on card 2, whose port becomes an uplink on
# the switch card 1's cable is on; the frames between them cross the cables, tagged 40.
$c->ok_run('cmcctl port 2/0 role uplink && cmcctl assign slot 2 vf 0 blade blade2', "the tenant's server: blade2, on card 2");
$c->ok_run("wait_for 300 'ip -n blade2 link show s2v0 >/dev/null 2>&1' && ip -n blade2 addr add 10.8.0.2/24 dev s2v0 && "
	. 'blade_carrier blade2 300 && printf "port=0\ninterface=s2v0\nlog-dhcp\ndhcp-leasefile=/tmp/tenant.leases\n'
	. 'dhcp-range=10.8.0.100,10.8.0.149,255.255.255.0,3600\n" > /tmp/tenant.conf && '
	. 'ip netns exec blade2 dnsmasq --user=root --conf-file=/tmp/tenant.conf --log-facility=/tmp/tenant.log --pid-file=/tmp/tenant.pid',
	"a dnsmasq of the tenant's own there (10.8.0.2)", timeout => 60);
$c->ok_run('cmcctl domain dhcp tenant subnet 10.8.0.0/24 server 10.8.0.254 relay 10.8.0.2', "tenant's service relays to it");
is(domain('tenant')->{service_vf}, '1/0/1', "  on card 1's free VF");
ok(wait_svc('tenant'), '  a dnsmasq relays');
like($c->run('cat /run/cmc/dhcp-tenant.conf'), qr/^dhcp-relay=10\.8\.0\.254,10\.8\.0\.2$/m, '  as generated');
$c->ok_run('cmcctl assign slot 1 vf 3 blade blade3', 'a VF of card 1 for blade3');
$c->ok_run("wait_for 300 'ip -n blade3 link show s1v3 >/dev/null 2>&1' && blade_carrier blade3 300 && blade_carrier dhcp-tenant 300",
	'placed, with carrier', timeout => 90);
$c->ok_run("ip netns exec blade3 $udhcpc -i s1v3 -p /run/udhcpc-blade3.pid", 'blade3 (tenant) asks with udhcpc', timeout => 60);
my $a3 = addr_of('blade3', 's1v3');
ok($a3 =~ /^10\.8\.0\.(\d+)$/ && $1 >= 100 && $1 <= 149, "blade3 has $a3, from the tenant's server's pool");
# (blade3 and the server share the domain's VLAN, so the server may hear blade3's broadcast
# itself too; what the relay forwarded is in its own log, a line per packet.)
like($c->run('cat /run/cmc/dhcp-tenant.log'), qr/DHCP relay at 10\.8\.0\.254 -> 10\.8\.0\.2\n/,
	"the domain's service relayed the question to it");
is(($c->run('kill $(pidof cmcd); wait_for 50 "! pidof cmcd >/dev/null"', timeout => 20))[0], 0, 'cmcd stops cleanly');
$c->stop;
done_testing;
