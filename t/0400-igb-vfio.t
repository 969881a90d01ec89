#!/usr/bin/perl
# The PF belongs to the chassis: cmcd drives the igb PFs from user space (igb-vfio) in
# the root-port layout. The stock igbvf in a blade comes up with exactly the MAC the
# chassis assigned, two blades ping through the card and its per-VF counters count it,
# a blade cannot change its MAC until the VF is trusted, and a hostile VF abusing the
# mailbox neither stops the others' traffic nor the daemon's answers. A VF opened through
# VFIO needs its PF's VF token: a secret, random per PF and per start, in a file only root
# reads; a wrong token is refused.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Chassis;

my $c = Chassis->new(name => 'igb-vfio', layout => 'rootports', slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;

is(($c->run('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_have_netdevs 0000:02:00.0"', timeout => 60))[0], 0,
	'cmcd takes both cards and their VFs get igbvf netdevs');
# cmcd sees them once its rescan (on a worker, after the kernel's uevents) is done.
is(($c->run(q{wait_for 100 '[ "$(cmcctl -j functions slot 2 | grep -o "\"driver\":\"igbvf\"" | wc -l)" = 4 ]'}, timeout => 30))[0], 0,
	'and its inventory shows them bound');
my $fns = $c->json('cmcctl -j functions slot 2') // [];
my ($pf) = grep { $_->{kind} eq 'pf' } @$fns;
my @vfs = grep { $_->{kind} eq 'vf' } @$fns;
is($pf->{driver}, 'vfio-pci', 'the PF is held through VFIO');
is(scalar @vfs, 4, 'four VFs, as configured');
is(scalar(grep { $_->{driver} eq 'igbvf' } @vfs), 4, 'all bound to the stock igbvf');
is(scalar(keys %{{ map { $_->{iommu_group} => 1 } @vfs, $pf }}), 5, 'each VF in its own IOMMU group (root port ACS)');

# The VF tokens: /run/cmc/vf-token/PF_BDF, one line, a random (version 4) UUID.
my $tokdir = '/run/cmc/vf-token';
my $uuid = qr/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;
sub token { my ($t) = $c->run("cat $tokdir/$_[0]") =~ /^($uuid)$/; $t }
like($c->run("stat -c '%a %U %F' $tokdir"), qr/^700 root directory$/, "$tokdir: a directory only root enters");
for my $bdf ('0000:01:00.0', '0000:02:00.0') {
	like($c->run("stat -c '%a %U %s' $tokdir/$bdf"), qr/^600 root 37$/, "$bdf: its token file is 0600, one line");
	ok(defined token($bdf), "$bdf: and holds a random UUID");
}
my %token = map { $_ => token($_) } '0000:01:00.0', '0000:02:00.0';
isnt($token{'0000:01:00.0'}, $token{'0000:02:00.0'}, 'each PF has a token of its own');

# Two blades, one VF each.
is(($c->run("vf_to_blade $vfs[0]{bdf} blade1 10.77.0.1/24 && vf_to_blade $vfs[1]{bdf} blade2 10.77.0.2/24"))[0], 0,
	'VF 0 to blade1, VF 1 to blade2');
is(($c->run('blade_carrier blade1 300 && blade_carrier blade2 300', timeout => 60))[0], 0, 'both blades have carrier');
my ($dev1) = $c->run("ip -n blade1 -o link | grep -v LOOPBACK | cut -d: -f2") =~ /(\S+)/;
my $id = $c->json('cmcctl -j version')->{chassis_id};
my ($mac0, $mac1) = map { Chassis::vf_default_mac($id, 2, 0, $_) } 0, 1;
my ($dev2) = $c->run("ip -n blade2 -o link | grep -v LOOPBACK | cut -d: -f2") =~ /(\S+)/;
like($c->run("ip -n blade1 link show $dev1"), qr{link/ether $mac0 }, "blade1 runs with the MAC the chassis assigned ($mac0, chassis $id)");
like($c->run("ip -n blade2 link show $dev2"), qr{link/ether $mac1 }, 'blade2 too');
my $before = $c->vfstat(2, 1);
my ($rc, $out) = $c->run('ip netns exec blade1 ping -c 5 -W 3 10.77.0.2', timeout => 60);
is($rc, 0, 'blade1 pings blade2 through the card') or diag($out);
my $after = $c->vfstat(2, 1);
cmp_ok($after->{rx_packets} - ($before->{rx_packets} // 0), '>=', 5, "the card's counters count VF 1's received frames");
cmp_ok($after->{tx_packets} - ($before->{tx_packets} // 0), '>=', 5, 'and its transmitted ones');

my $ports = $c->json('cmcctl -j portstats') // [];
is_deeply([ map { "$_->{slot}/$_->{pf}/$_->{driver}" } @$ports ], [ '1/0/igb-vfio', '2/0/igb-vfio' ],
	'portstats: one record per port cmcd drives');
ok(!grep({ $_->{tx_packets} !~ /^\d+$/ } @$ports), 'with counters');

# The blade tries to change its MAC: refused while untrusted, allowed once trusted.
($rc, $out) = $c->run("ip -n blade1 link set dev $dev1 address 02:00:00:00:00:99");
isnt($rc, 0, 'an untrusted blade cannot change its MAC');
like($c->run("ip -n blade1 link show $dev1"), qr{link/ether $mac0 }, 'its MAC is unchanged');
like($c->run('cmcctl events'), qr/vf-refused\s+2\s+pf 0 vf 0: message 0x00000002 refused: MAC differs/, 'the refusal is an event');
($rc, $out) = $c->run("ip -n blade1 link set dev $dev1 address $mac1");
isnt($rc, 0, "nor take another VF's MAC");
($rc, $out) = $c->run('cmcctl trust 2 0 0 on');
is($rc, 0, 'cmcctl trust 2 0 0 on');
# VF 0 went to blade1 by hand, not by `cmcctl assign`: the setting is the card's alone.
like($out, qr/^2\s+0\s+0\s+true\s+until the VF is assigned or cmcd restarts/m, 'and says how long it holds')
	or diag($out);
# A policy change makes the VF reset (at igbvf's next watchdog run): retry meanwhile.
is(($c->run("wait_for 150 'ip -n blade1 link set dev $dev1 address 02:00:00:00:00:99 2>/dev/null'", timeout => 60))[0], 0,
	'a trusted blade may change its MAC');
like($c->run("ip -n blade1 link show $dev1"), qr{link/ether 02:00:00:00:00:99 }, 'and runs with it');
($rc, $out) = $c->run("ip -n blade1 link set dev $dev1 address $mac1");
isnt($rc, 0, "even trusted, not another VF's MAC");
($rc, $out) = $c->run('cmcctl trust 2 0 5 on');
is($rc, 1, 'trust on a VF that is not enabled: refused');
like($out, qr/no VF 5/, 'saying so');
($rc, $out) = $c->run('cmcctl link-state 2 0 1 disable 2>&1');
is($rc, 1, 'a forced VF link state on igb-vfio: refused');
like($out, qr/link-state: not supported by igb-vfio/, 'saying so');
($rc, $out) = $c->run('cmcctl trust 2 0 9 on');
is($rc, 2, 'trust on VF 9 (beyond any 82576): usage');
($rc, $out) = $c->run('cmcctl trust 2 0 0 maybe');
is($rc, 2, 'trust with a bad word: usage');

# A hostile VF: VF 2 taken from igbvf and held through VFIO by the project's own tool.
$c->run("echo $vfs[2]{bdf} > /sys/bus/pci/devices/$vfs[2]{bdf}/driver/unbind; echo vfio-pci > /sys/bus/pci/devices/$vfs[2]{bdf}/driver_override; echo $vfs[2]{bdf} > /sys/bus/pci/drivers_probe");
like($c->run("readlink /sys/bus/pci/devices/$vfs[2]{bdf}/driver"), qr/vfio-pci$/, 'VF 2 held through VFIO');
# Wrong tokens: a random one, and the constant one cmc had before tokens were secrets.
for my $bad ([ 'a random token', '$(cat /proc/sys/kernel/random/uuid)' ],
	     [ 'the formerly fixed token', '636d6364-0000-4000-8000-000000000001' ],
	     [ "the other PF's token", $token{'0000:01:00.0'} ]) {
	($rc, $out) = $c->run("echo $bad->[1] > /tmp/bad-token && vf-hostile --token-file /tmp/bad-token $vfs[2]{bdf} 0 2>&1");
	is($rc, 1, "opening VF 2 through VFIO with $bad->[0]: refused");
	like($out, qr/VF token refused\): Permission denied/, 'by vfio-pci (EACCES)') or diag($out);
}
like($c->run('dmesg | grep -c "Incorrect VF token"'), qr/^[1-9]/, 'the kernel says the token was incorrect');
($rc, $out) = $c->run("echo not-a-uuid > /tmp/bad-token && vf-hostile --token-file /tmp/bad-token $vfs[2]{bdf} 0 2>&1");
is($rc, 1, 'a token file without a UUID: vf-hostile gives up');
like($out, qr/no VF token in \/tmp\/bad-token: not a UUID/, 'saying so');
($rc, $out) = $c->run("vf-hostile --token-file $tokdir/0000:02:00.0 $vfs[2]{bdf} 0 2>&1");
is($rc, 0, "with its PF's token VF 2 opens") or diag($out);
$c->run("ip netns exec blade1 ping -c 2 -W 3 10.77.0.2", timeout => 30);
$c->run("vf-hostile $vfs[2]{bdf} 20 7 > /tmp/hostile.log 2>&1 &");
my $answers = 0;
($rc, $out) = $c->run('for i in 1 2 3 4 5; do cmcctl version >/dev/null && echo answered; sleep 2; done; '
    . 'ip netns exec blade1 ping -c 40 -i 0.25 -W 1 10.77.0.2', timeout => 90);
$answers = () = $out =~ /^answered$/mg;
is($answers, 5, 'during the attack cmcd answers the CLI every time');
my ($sent, $got) = $out =~ /(\d+) packets transmitted, (\d+) packets received/;
ok(defined $got && $got > 0, 'blade1 and blade2 keep talking during the attack');
note("ping during the attack: $got of $sent answered") if defined $got;
# Its program is 20 s long, about what the loop above lasts: wait for it to end.
$c->run(q{wait_for 400 '! pidof vf-hostile >/dev/null'}, timeout => 60);
like($c->run('cat /tmp/hostile.log'), qr/vf-hostile flood \d+/, 'the hostile VF ran its whole program');
my $h = $c->vfstat(2, 2);
cmp_ok($h->{mbx_refused} // 0, '>', 0, "the hostile VF's messages were refused ($h->{mbx_refused})");
cmp_ok($h->{mbx_penalties} // 0, '>', 0, "and penalized: muted, then ignored ($h->{mbx_penalties} penalties)");
($rc, $out) = $c->run('ip netns exec blade1 ping -c 3 -W 3 10.77.0.2', timeout => 30);
is($rc, 0, 'after the attack blade1 still reaches blade2') or diag($out);
like($c->run('cmcctl -j vfstats'), qr/"slot":2,"pf":0,"vf":1/, 'the daemon still serves');
my $events = $c->run('cmcctl -j events');
my $refusals = () = $events =~ /"kind":"vf-refused","slot":2,"detail":"pf 0 vf 2/g;
cmp_ok($refusals, '<', 60, "the hostile VF's refusals are rate-limited in the event log ($refusals)");
like($c->run('cmcctl events'), qr/vf-penalty\s+2\s+pf 0 vf 2: [a-z ]+: VF not heard for \d+ ms \(penalty \d+\)/,
	'a penalty is an event');

# A reset storm (the VF resets itself through CTRL.RST): counted, penalized, an event.
my $r0 = $c->vfstat(2, 2)->{mbx_resets} // 0;
$c->run("vf-hostile $vfs[2]{bdf} 3 7 vflr-storm > /tmp/hostile.log 2>&1", timeout => 30);
cmp_ok(($c->vfstat(2, 2)->{mbx_resets} // 0) - $r0, '>', 8, 'a reset storm: its resets are counted');
like($c->run('cmcctl events'), qr/vf-penalty\s+2\s+pf 0 vf 2: reset storm: VF not heard for/, 'and penalized, with an event');

# Holding the mailbox lock with no pause: muted ever longer, then ignored (about 6 s),
# until a VF reset: closing the VFIO device resets the VF, which clears it.
my $heard = () = $c->run('cmcctl events') =~ /pf 0 vf 2: VF heard again/g;
$c->run("vf-hostile $vfs[2]{bdf} 15 7 lock-storm > /tmp/hostile.log 2>&1 &");
my $vf2 = q|\"slot\":2,\"pf\":0,\"vf\":2,[^}]*\"mbx_ignored\"|;	# in the guest's grep
is(($c->run(qq{wait_for 140 'cmcctl -j vfstats | grep -q "$vf2:1"'}, timeout => 40))[0], 0,
	'a VF holding its mailbox lock is ignored after a few seconds');
like($c->run('cmcctl events'), qr/vf-penalty\s+2\s+pf 0 vf 2: [a-z ]+: VF ignored until it resets/, 'which is an event');
($rc, $out) = $c->run('ip netns exec blade1 ping -c 5 -i 0.2 -W 1 10.77.0.2', timeout => 30);
is($rc, 0, 'the other VFs are served meanwhile') or diag($out);
is(($c->run(qq{wait_for 200 'cmcctl -j vfstats | grep -q "$vf2:0"'}, timeout => 40))[0], 0,
	'once vf-hostile exits (its VF reset), VF 2 is heard again');
my $heard2 = () = $c->run('cmcctl events') =~ /pf 0 vf 2: VF heard again/g;
cmp_ok($heard2, '>', $heard, 'which is an event');

# Ignored VF back to igbvf after its reset: served, it comes up with its assigned MAC.
$c->run("echo $vfs[2]{bdf} > /sys/bus/pci/devices/$vfs[2]{bdf}/driver/unbind; echo igbvf > /sys/bus/pci/devices/$vfs[2]{bdf}/driver_override; echo $vfs[2]{bdf} > /sys/bus/pci/drivers_probe");
my $mac2 = Chassis::vf_default_mac($id, 2, 0, 2);
is(($c->run("wait_for 100 'cat /sys/bus/pci/devices/$vfs[2]{bdf}/net/*/address | grep -qx $mac2'", timeout => 30))[0], 0,
	"the former hostile VF, given back to igbvf, is served: it has its MAC ($mac2)");

# kill -9: closing the VFIO device resets the PFs, and their VFs with them. The restarted
# cmcd finds VFs the kernel still lists but the card no longer has, and re-creates them.
$c->run('kill -9 $(pidof cmcd); sleep 1');
is(($c->run('cmcd -c /cmc/conf/emulated.conf && wait_for 300 "vfs_have_netdevs 0000:02:00.0"', timeout => 60))[0], 0,
	'after kill -9, cmcd restarts and the VFs are there again');
my $new = token('0000:02:00.0');
ok(defined $new && $new ne $token{'0000:02:00.0'}, 'the restarted cmcd gave the PF a new token');
is(($c->run("vf_to_blade $vfs[0]{bdf} blade1 10.77.0.11/24 && vf_to_blade $vfs[1]{bdf} blade2 10.77.0.12/24 && "
    . 'blade_carrier blade1 300 && blade_carrier blade2 300', timeout => 60))[0], 0, 'the new VF netdevs go to the blades');
like($c->run('ip -n blade1 -o link'), qr{link/ether $mac0 }, 'with the assigned MAC again');
($rc, $out) = $c->run('ip netns exec blade1 ping -c 3 -W 3 10.77.0.12', timeout => 60);
is($rc, 0, 'and the blades talk again') or diag($out);

# The card in slot 1 pulled out while cmcd holds its PF through VFIO: vfio-pci asks for
# the device back and cmcd lets go, so the removal completes instead of hanging.
$c->qmp('device_del', { id => 'card1' });
ok(scalar $c->qmp_events('DEVICE_DELETED', 60), 'QEMU completes the removal of card 1 (cmcd released it)');
is(($c->run(q{wait_for 50 'cmcctl -j slot 1 | grep -q "\"occupied\":false"'}))[0], 0, 'cmcctl shows slot 1 empty');
like($c->run('cmcctl events'), qr/card-gone\s+1\s+pf 0: PF \S+ is being removed/, 'the removal is an event');
($rc, $out) = $c->run('ip netns exec blade1 ping -c 2 -W 3 10.77.0.12', timeout => 30);
is($rc, 0, 'blades on the other card are unaffected') or diag($out);
is(($c->run('cmcctl version >/dev/null'))[0], 0, 'cmcd still answers');
is(($c->run("test ! -e $tokdir/0000:01:00.0 && test -e $tokdir/0000:02:00.0"))[0], 0,
	"the removed card's token file is gone, the other's is there");

# A clean stop releases the PFs and removes their token files.
is(($c->run('kill $(pidof cmcd) && wait_for 100 "! pidof cmcd >/dev/null"', timeout => 30))[0], 0, 'cmcd stops on SIGTERM');
is($c->run("ls -A $tokdir"), '', 'no token file is left');

$c->stop;
done_testing;
