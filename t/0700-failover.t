#!/usr/bin/perl
# Server profiles that fail over to a spare blade (issue #15), in one boot of the
# root-port layout (conf/emulated-failover.conf: blade1's spare is blade3, a blade down
# for 5 s is failed):
#
#   - blade1 holds server profile web, made from its two VFs (an address on each, set in
#     the blade); blade2 pings both; VM vm1 runs on blade1 (the payload, a MAC and an
#     address) and blade2 pings it; a planned move of web is refused while vm1 runs;
#   - blade3, an idle spare, is kept powered off (no namespace);
#   - blade1 is killed (its namespace deleted): after the grace time the spare runs web,
#     with the same MACs; given the same addresses (as the blade's own OS would set them),
#     blade2 reaches them again with nothing changed on blade2 (its neighbour entries are
#     the ones it had); vm1 runs again on blade3 from its configuration, once, and blade2
#     pings it at the same address;
#   - cmcctl and the store (read from the host) agree on where web and vm1 are;
#   - a planned `migrate web --to blade1` brings it back (once vm1 is stopped);
#   - cmcd killed at three steps of a failover, and once after a VM's move to the spare
#     was committed: after a restart every MAC of the profile is on one VF, the store
#     agrees with cmcctl, and the VM runs on the spare, once;
#   - blade2's heartbeat stopped (SIGSTOP: a hung OS, its namespace kept): blade2 is down;
#     its heartbeat again: up.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Path qw(remove_tree);
use Chassis;

my $state = Chassis::build_dir() . '/chassis-state/failover';
remove_tree($state);
# The guest image with QEMU in it: vm1 is a VM.
my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
plan skip_all => "no VM image ($image): make image-vm" unless -e $image;
my $c = Chassis->new(name => 'failover', layout => 'rootports', state_dir => $state, initrd => $image,
	slots => [ { slot => 1, cable => 1 }, { slot => 2, cable => 1, hub => 1 } ]);
$c->start;
my $UUID = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab';

sub start_cmcd {
	my ($env) = @_;
	$c->ok_run(($env // '') . ' cmcd -c /cmc/conf/emulated-failover.conf && wait_for 300 "vfs_probed 0000:01:00.0"',
		'cmcd up, the VFs of slot 1 probed' . ($env ? " ($env)" : ''), timeout => 90);
}
sub stop_cmcd { $c->run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null"', timeout => 20) }
sub profile { my ($p) = grep { $_->{name} && $_->{name} eq 'web' } @{ $c->json('cmcctl -j server-profile show web') }; $p // {} }
sub profile_vfs { [ grep { exists $_->{profile} } @{ $c->json('cmcctl -j server-profile show web') } ] }
sub health { my ($b) = grep { $_->{blade} eq $_[0] } @{ $c->json('cmcctl -j blades') }; $b ? $b->{health} : '?' }
# The netdev with MAC $mac in blade $blade, once it is there.
sub netdev_of {
	my ($blade, $mac) = @_;
	my (undef, $out) = $c->run("wait_for 300 'ip -n $blade -o link | grep -q $mac'; ip -n $blade -o link | grep $mac", timeout => 60);
	return $out =~ /^\d+:\s+([^:@\s]+)/m ? $1 : '';
}
# Every MAC a VF netdev holds, in the root namespace and in every blade there is.
# A VM's bridge (vbr-*, doc/vm-network.md) takes its VF's MAC as its own: not a second VF.
sub live_macs {
	my $out = $c->run('for n in "" $(ls /run/netns); do ip ${n:+-n $n} -o link show; done | grep -v "^[0-9]*: vbr-" | '
	    . 'grep -o "link/ether [0-9a-f:]*"');
	return [ map { /link\/ether (\S+)/ ? $1 : () } split /\n/, $out ];
}
# The records of cmcd's store, read on the host (cmc/store.h: 36-byte header, then per
# record u16 key length, u16 value length, key, value).
sub store_records {
	open(my $f, '<:raw', "$state/state") or return {};
	local $/;
	my $data = <$f>;
	close $f;
	my %r;
	my $off = 36;
	while ($off + 4 <= length $data) {
		my ($kl, $vl) = unpack('vv', substr($data, $off, 4));
		$r{ substr($data, $off + 4, $kl) } = substr($data, $off + 4 + $kl, $vl);
		$off += 4 + $kl + $vl;
	}
	return \%r;
}
sub addresses {
	my ($blade, $mac0, $mac1) = @_;
	my ($d0, $d1) = (netdev_of($blade, $mac0), netdev_of($blade, $mac1));
	# Two VFs on one segment: each answers ARP for its own address only (as hosts with
	# two NICs on one LAN are set up), so blade2 learns each address at its own MAC.
	$c->run("ip netns exec $blade sh -c 'for k in all default; do echo 1 > /proc/sys/net/ipv4/conf/\$k/arp_ignore; "
	    . "echo 2 > /proc/sys/net/ipv4/conf/\$k/arp_announce; done; for d in $d0 $d1; do echo 1 > /proc/sys/net/ipv4/conf/\$d/arp_ignore; "
	    . "echo 2 > /proc/sys/net/ipv4/conf/\$d/arp_announce; done'");
	$c->ok_run("ip -n $blade addr add 10.70.0.1/24 dev $d0 && ip -n $blade addr add 10.71.0.1/24 dev $d1 && "
	    . "blade_carrier $blade 300", "$blade: 10.70.0.1 on $d0 ($mac0), 10.71.0.1 on $d1 ($mac1)", timeout => 60);
}
sub blade2_reaches {
	my ($what) = @_;
	$c->ok_run(q{wait_for 150 'ip netns exec blade2 ping -c 1 -W 1 10.70.0.1 >/dev/null' && }
	    . q{wait_for 150 'ip netns exec blade2 ping -c 1 -W 1 10.71.0.1 >/dev/null'}, "blade2 reaches both addresses $what",
	    timeout => 90);
}
sub wait_up { my ($b) = @_; for (1 .. 60) { return 1 if health($b) eq 'up'; sleep 1 } 0 }
sub vm { my ($v) = grep { $_->{vm} eq $_[0] } @{ $c->json('cmcctl -j vms') }; $v // {} }
# The QEMUs of VM $vm on blade $blade (their command lines name VM_DIR/VM@BLADE.*).
sub qemus {
	my ($vm, $blade) = @_;
	# [@]: the pattern does not match grep's own command line.
	my (undef, $o) = $c->run(q{(for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline; echo; done) 2>/dev/null | }
	    . "grep -c '/$vm\[@\]$blade\\.pid'");
	return ($o // 0) + 0;
}
my ($VMMAC, $VMIP) = ('02:00:00:00:0c:01', '10.70.0.9');
sub vm1_start {
	my ($blade) = @_;
	$c->ok_run("cmcctl vm start vm1 blade $blade mem 32 mac $VMMAC ip $VMIP", "vm1 starts on $blade ($VMMAC, $VMIP)",
		timeout => 90);
}
sub vm1_answers {
	my ($what) = @_;
	$c->ok_run("wait_for 600 'ip netns exec blade2 ping -c 1 -W 1 $VMIP >/dev/null'", "blade2 pings vm1 at $VMIP $what",
		timeout => 90);
}
# vm1 again on blade3 after blade1 failed: cmcctl, the store and the QEMUs agree.
sub vm1_on_blade3 {
	my ($what) = @_;
	$c->ok_run(q{wait_for 600 'cmcctl events | grep -q "vm-restart.*vm1 runs again on blade3"'}, "$what: vm1 runs again on blade3",
		timeout => 90);
	my $v = vm('vm1');
	is("$v->{blade} $v->{state} $v->{mac} $v->{ip}", "blade3 running $VMMAC $VMIP", "$what: cmcctl vms: vm1 on blade3, same MAC and address");
	like(store_records()->{'vm/vm1'} // '', qr/^blade=blade3 .* state=running .* restart=0$/, "$what: the store: vm1 on blade3, running");
	is(qemus('vm1', 'blade3') . ' ' . qemus('vm1', 'blade1'), '1 0', "$what: one QEMU of vm1, on blade3; none left on blade1");
}
# blade2's neighbour entries for the profile's addresses: "IP MAC" lines.
sub neigh { my (undef, $o) = $c->run(q{ip -n blade2 neigh show | awk '/^10\.7[01]\.0\.1 / { print $1, $5 }' | sort}); $o }

start_cmcd();
is(health('blade3'), 'off', 'blade3, an idle spare, is powered off');
$c->ok_run(q{wait_for 100 '! ip netns list | grep -q blade3'}, '  it has no namespace', timeout => 30);

# --- The profile ----------------------------------------------------------------------------
$c->ok_run('cmcctl assign slot 1 vf 0 blade blade1 && cmcctl assign slot 1 vf 1 blade blade1 && '
    . 'cmcctl assign slot 1 vf 2 blade blade2', 'blade1: VFs 0 and 1; blade2: VF 2', timeout => 60);
$c->refused('cmcctl server-profile create web --from blade1 --uuid not-a-uuid', qr/not a UUID/, 'a malformed UUID');
$c->ok_run("cmcctl server-profile create web --from blade1 --uuid $UUID --serial SN-WEB-1", 'server profile web from blade1',
	timeout => 60);
my $p = profile();
is("$p->{blade} $p->{uuid} $p->{serial} $p->{vfs}", "blade1 $UUID SN-WEB-1 2", 'cmcctl server-profile show: its identity')
	or diag(explain $p);
my ($mac0, $mac1) = split /,/, $p->{macs} // '';
my $id = $c->json('cmcctl -j version')->{chassis_id};
isnt($mac0, Chassis::vf_default_mac($id, 1, 0, 0), "its MACs are the pool's, not the VFs' defaults ($mac0, $mac1)");
$c->refused("cmcctl server-profile create db --blade blade2 --vfs 1 --uuid $UUID", qr/UUID \Q$UUID\E is server profile web's/,
	'a second profile with the same UUID');
$c->refused('cmcctl unassign slot 1 vf 0', qr/belongs to server profile web/, "a profile's VF cannot be taken back alone");
$c->refused('cmcctl migrate web --to blade1', qr/on blade1 already/, 'a move to its own blade');
$c->refused('cmcctl vm start web blade blade2', qr/web is the name of a server profile/, 'a VM named like a server profile');
$c->ok_run('cmcctl server-profile create db --blade blade2 --vfs 1', 'server profile db on blade2, from a definition', timeout => 60);
$c->refused('cmcctl migrate web --to blade2', qr/blade blade2 is busy: it has server profile db/, 'a move to a busy blade');
$c->refused('cmcctl migrate web --to blade9', qr/no blade 'blade9'/, 'a move to an unknown blade');
$c->ok_run('cmcctl server-profile delete db', 'db deleted: its VF taken back', timeout => 60);
is_deeply([ map { "$_->{blade}:$_->{profile}" } @{ $c->json('cmcctl -j blades') } ], [ 'blade1:web', 'blade2:-', 'blade3:-' ],
	'cmcctl blades: which blade has which profile');
addresses('blade1', $mac0, $mac1);
$c->ok_run('ip -n blade2 addr add 10.70.0.2/24 dev s1v2 && ip -n blade2 addr add 10.71.0.2/24 dev s1v2 && blade_carrier blade2 300',
	'blade2: 10.70.0.2 and 10.71.0.2 on s1v2', timeout => 60);
blade2_reaches('on blade1');
my $neigh = neigh();
is($neigh, "10.70.0.1 $mac0\n10.71.0.1 $mac1\n", "blade2's neighbour entries: 10.70.0.1 at $mac0, 10.71.0.1 at $mac1");
vm1_start('blade1');
vm1_answers('on blade1');
$c->refused('cmcctl migrate web --to blade3', qr/blade blade1 runs VMs \(vm1\): migrate them .* or stop them/,
	'a planned move of web while vm1 runs on blade1');

# --- blade1 fails: the spare takes the profile -------------------------------------------------
$c->ok_run('ip netns del blade1', 'blade1 killed (its namespace deleted)');
$c->ok_run(q{wait_for 300 'cmcctl events | grep -q "blade-failed.*blade1"'}, 'blade1 is failed after the grace time', timeout => 60);
$c->ok_run(q{wait_for 300 'cmcctl events | grep -q "server-profile-moved.*web runs on blade3"'}, 'web fails over to blade3 by itself',
	timeout => 90);
like($c->run('cmcctl events'), qr/blade-down\s.*blade1 is down.*failover\s.*web from blade1 to blade3/s,
	'the events: down, then the failover');
is(profile()->{blade}, 'blade3', 'cmcctl: web is on blade3');
is(health('blade1'), 'failed', 'cmcctl blades: blade1 failed');
is(health('blade3'), 'up', '  blade3 powered on');
addresses('blade3', $mac0, $mac1);
blade2_reaches('on blade3, with nothing changed on blade2');
is(neigh(), $neigh, "blade2's neighbour entries are the ones it had (same addresses, same MACs)");
my $rec = store_records();
like($rec->{'sprofile/web'} // '', qr/uuid=\Q$UUID\E serial=SN-WEB-1 blade=blade3 /, 'the store: web on blade3');
ok(!exists $rec->{'failover/web'}, "  the failover's journal record is gone");
my @pvfs = (0, 1, map { $_->{vf} } @{ profile_vfs() });
ok(!grep({ m{^assign/1/0/(\d+)$} && (grep { $_ == $1 } @pvfs) && $rec->{$_} !~ / vm=vm1 / } keys %$rec),
	"  no assignment record holds the profile's VFs, then (0, 1) or now (@pvfs[2..$#pvfs]) (one owner; vm1's VF aside)");
like($c->run('cmcctl events'), qr/failover\s.*web: VMs vm1 lost their state with blade1: they start again on blade3/,
	"the failover's event: vm1 lost its state, starts again on blade3");
vm1_on_blade3('failover');
vm1_answers('on blade3, with nothing changed on blade2');

# --- A planned move back ------------------------------------------------------------------------
$c->ok_run('ip netns add blade1', 'blade1 back (its namespace made again)');
ok(wait_up('blade1'), 'blade1 is up again');
$c->refused('cmcctl migrate web --to blade1', qr/blade blade3 runs VMs \(vm1\)/, 'a planned move back while vm1 runs on blade3');
$c->ok_run('cmcctl vm stop vm1', 'vm1 stopped', timeout => 60);
$c->ok_run('cmcctl migrate web --to blade1', 'cmcctl migrate web --to blade1 (planned)', timeout => 90);
is(profile()->{blade}, 'blade1', 'web is on blade1');
addresses('blade1', $mac0, $mac1);
blade2_reaches('on blade1 again');
like(store_records()->{'sprofile/web'} // '', qr/ blade=blade1 /, 'the store agrees');

# --- cmcd killed at each step of a failover ------------------------------------------------------
# profile-move:after-commit: the commit that moves vm1's MAC and record to the spare.
for my $point (qw(failover:before-commit failover:after-commit failover:after-card profile-move:after-commit)) {
	my $with_vm = $point =~ /^profile-move/;
	stop_cmcd();
	start_cmcd("CMC_FAILPOINT=$point");
	$c->run("wait_for 300 'ip -n blade1 -o link | grep -q $mac0'", timeout => 60);
	vm1_start('blade1') if $with_vm;
	$c->ok_run("ip netns del blade1; wait_for 400 '! pidof cmcd >/dev/null'", "$point: blade1 killed; cmcd dies inside the failover",
		timeout => 90);
	start_cmcd();
	my $where = profile()->{blade} // '';
	if ($point eq 'failover:before-commit') {
		is($where, 'blade1', "$point: nothing was committed: web is on blade1 (cmcd made blade1 again at its start)");
	} else {
		is($where, 'blade3', "$point: committed: web is on blade3");
		like($c->run('cmcctl events'), qr/failover-resumed\s.*web/, "$point: the failover was taken up at the start");
	}
	$c->run(q{wait_for 300 '! cmcctl -j server-profile show web | grep -q "\"placed\":false"'}, timeout => 60);
	my %seen;
	my @dups = grep { $seen{$_}++ } @{ live_macs() };
	is_deeply(\@dups, [], "$point: no MAC on two VFs");
	is(scalar(grep { $_ eq $mac0 || $_ eq $mac1 } @{ live_macs() }), 2, "$point: each of web's MACs on one VF");
	like(store_records()->{'sprofile/web'} // '', qr/ blade=\Q$where\E /, "$point: the store agrees with cmcctl");
	ok(!exists store_records()->{'failover/web'}, "$point: no journal record left");
	if ($with_vm) {
		vm1_on_blade3($point);
		$c->ok_run('cmcctl vm stop vm1', "$point: vm1 stopped", timeout => 60);
	}
	if ($where ne 'blade1') {
		wait_up('blade1');
		$c->ok_run('cmcctl migrate web --to blade1', "$point: web back to blade1", timeout => 90);
	}
}
# --- A hung blade: its heartbeat stops, its namespace stays ------------------------------------
$c->ok_run('kill -STOP $(cat /run/cmc/heartbeat/blade2.pid)', "blade2's heartbeat stopped (SIGSTOP: a hung OS)");
$c->ok_run(q{wait_for 200 'cmcctl events | grep -q "blade-down.*blade2 is down"'}, '  blade2 is down', timeout => 40);
$c->ok_run('ip netns list | grep -q "^blade2"', '  with its namespace still there');
$c->ok_run('kill -CONT $(cat /run/cmc/heartbeat/blade2.pid)', "blade2's heartbeat again");
ok(wait_up('blade2'), '  blade2 is up again');
is((stop_cmcd())[0], 0, 'cmcd stops');
done_testing;
