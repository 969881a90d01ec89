#!/usr/bin/perl
# Network templates (issue #14, item 4; doc/templates.md), one boot of the root-port layout:
# card 1's port is an uplink, card 2's a midplane port with the lane between blade1 and
# blade2. Template "web" (id 7, 100 Mbit/s) lets only 10.9.0.1 reach its VMs. blade3 has a
# VF of card 1 as 10.9.0.1 (allowed), blade2 another as 10.9.0.2 (not allowed).
#
#   - vm1 names web (--template), vm2 carries it in its MAC (06:07:...): both VFs get
#     web's rate; `template set web rate 200` writes the new rate to the rate registers of
#     both VFs' queues (seen in QEMU's trace of the writes, as t/0520 reads them) in one
#     change;
#   - the access list: 10.9.0.1 pings vm1, 10.9.0.2 does not (its ARP and pings are dropped
#     on vm1's bridge port by the port's nftables table); the same after vm1 moves to
#     blade2 (the table built there with the port, gone from blade1 with the old port);
#     a template set that allows 10.9.0.2 lets it in, on the running VM;
#   - bad requests are refused with their reason and change nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Chassis;

my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
plan skip_all => "no VM image ($image): make image-vm" unless -e $image;
my $c = Chassis->new(name => 'templates', layout => 'rootports', initrd => $image,
	trace => ['e1000e_wrn_regs_write_unknown'], slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;

sub json { my ($rc, $out) = $c->run($_[0], timeout => 60); my $j = eval { decode_json($out) }; diag("$_[0]: $out") unless $j; $j // [] }
sub ok_run { my ($cmd, $name, %o) = @_; my ($rc, $out) = $c->run($cmd, %o); is($rc, 0, $name) or diag("$cmd: $out"); $out }
sub out { my ($rc, $out) = $c->run($_[0], timeout => $_[1] // 60); $out }
sub vm { my ($name) = @_; my ($v) = grep { $_->{vm} eq $name } @{ json('cmcctl -j vms') }; $v // {} }
sub profile { my ($vm, $blade) = @_; my ($p) = grep { $_->{vm} eq $vm && (!$blade || $_->{blade} eq $blade) } @{ json('cmcctl -j assignments') }; $p // {} }
sub vfstat { my ($slot, $vf) = @_; my ($s) = grep { $_->{slot} == $slot && $_->{pf} == 0 && $_->{vf} == $vf } @{ json('cmcctl -j vfstats') }; $s // {} }
sub pings { my ($blade, $ip) = @_; ($c->run("ip netns exec $blade ping -c 2 -W 1 $ip >/dev/null 2>&1", timeout => 30))[0] == 0 }

# --- The rate registers (as t/0520: the 82576's per-queue rate factor) ---------------------
my ($RTTDQSEL, $RTTBCNRC) = (0x3604, 0x36b0);
sub factor {
	my ($rate) = @_;
	return 0 if $rate == 0 || $rate >= 1000;
	my $int = int(1000 / $rate);
	return 0x80000000 | ($int << 14) | int(((1000 - $int * $rate) * 16384) / $rate);
}
# Per queue, the last RTTBCNRC value QEMU saw written since byte $from of its trace.
sub limiters {
	my ($from) = @_;
	my ($sel, %q);
	for (split /\n/, $c->qemu_stderr($from)) {
		next unless /e1000e_wrn_regs_write_unknown .*register 0x([0-9a-f]+), \d+ byte\(s\), value: 0x([0-9a-f]+)/;
		my ($reg, $val) = (hex $1, hex $2);
		$sel = $val if $reg == $RTTDQSEL;
		$q{$sel} = $val if $reg == $RTTBCNRC && defined $sel;
	}
	return \%q;
}
# Waits (10 s at most) for every queue of the VFs @vfs (VF n: queues n and n + 8) to get $want.
sub queues_get {
	my ($from, $want, @vfs) = @_;
	my @queues = map { ($_, $_ + 8) } @vfs;
	my $q;
	for (1 .. 50) {
		$q = limiters($from);
		last unless grep { ($q->{$_} // -1) != $want } @queues;
		sleep 0.2;
	}
	return [ map { $q->{$_} // -1 } @queues ];
}

# --- The chassis, its templates, its peers ---------------------------------------------------
ok_run(q{cp /cmc/conf/emulated.conf /tmp/tmpl.conf && }
    . q{echo 'templates = ( { name = "web"; id = 7; rate = 100; allow = ( "10.9.0.1" ); } );' >> /tmp/tmpl.conf && }
    . q{cmcd --check-config /tmp/tmpl.conf}, 'the emulated config with template web (id 7, 100 Mbit/s, 10.9.0.1 only)');
ok_run('cmcd -c /tmp/tmpl.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"', 'cmcd up',
	timeout => 90);
my $tl = json('cmcctl -j template list');
is_deeply([ map { "$_->{template} $_->{id} $_->{rate} $_->{allow} $_->{source}" } @$tl ], ['web 7 100 10.9.0.1/32 config'],
	'cmcctl -j template list: web, from the configuration');
ok_run('cmcctl lane create mig blade1 blade2', 'a lane between blade1 and blade2');
ok_run("wait_for 300 'ip -n blade2 addr show ln-mig 2>/dev/null | grep -q 169.254.1.2' && "
    . "wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'", 'the lane is up', timeout => 120);
ok_run('cmcctl assign slot 1 vf 3 blade blade3 && ip -n blade3 addr add 10.9.0.1/24 dev s1v3 && blade_carrier blade3 300',
	'the allowed peer: blade3, VF 3 of card 1, 10.9.0.1', timeout => 60);
ok_run('cmcctl assign slot 1 vf 2 blade blade2 && ip -n blade2 addr add 10.9.0.2/24 dev s1v2 && blade_carrier blade2 300',
	'a peer web does not allow: blade2, VF 2 of card 1, 10.9.0.2', timeout => 60);

# --- Two VMs of web: one names it, one carries it in its MAC ----------------------------------
my $from = $c->qemu_stderr_size;
# (On a failure, the VM's QEMU log says why.)
ok_run('cmcctl vm start vm1 blade blade1 mem 64 mac 02:00:00:00:0c:01 ip 10.9.0.5 --template web || '
    . '{ tail -5 /run/cmc/vm/vm1@blade1.log; false; }', 'vm1 starts on blade1 with --template web', timeout => 120);
ok_run('cmcctl vm start vm2 blade blade1 mem 64 mac 06:07:00:00:00:2a ip 10.9.0.6 || '
    . '{ tail -5 /run/cmc/vm/vm2@blade1.log; false; }', 'vm2 starts on blade1 with MAC 06:07:00:00:00:2a (template id 7)',
	timeout => 120);
my ($p1, $p2) = (profile('vm1'), profile('vm2'));
if (!defined $p1->{vf} || !defined $p2->{vf}) {	# nothing below can pass without them
	fail('the VMs are not running: the rest is not tried');
	$c->stop;
	done_testing();
	exit 1;
}
is("$p1->{template} $p1->{rate} $p2->{template} $p2->{rate}", 'web 100 web 100',
	'cmcctl assignments: both VFs are web\'s, at its 100 Mbit/s');
is(vm('vm2')->{template}, 'web', 'cmcctl vms: vm2\'s template, read from its MAC');
my @vfs = ($p1->{vf}, $p2->{vf});
is_deeply(queues_get($from, factor(100), @vfs), [ (factor(100)) x 4 ],
	sprintf('the rate registers of both VFs\' queues got 100 Mbit/s (0x%08x)', factor(100)));

# --- Changing the template reaches both, on the card ---------------------------------------
$from = $c->qemu_stderr_size;
ok_run('cmcctl template set web rate 200', 'cmcctl template set web rate 200');
is_deeply(queues_get($from, factor(200), @vfs), [ (factor(200)) x 4 ],
	sprintf('the rate registers of both VMs\' VFs\' queues got 200 Mbit/s (0x%08x)', factor(200)));
is(join(' ', map { vfstat(1, $_)->{rate_reg} // '-' } @vfs), join(' ', (sprintf('0x%08x', factor(200))) x 2),
	'cmcctl vfstats shows the value written for both');
is(join(' ', map { $_->{rate} } vm('vm1'), vm('vm2')), '200 200', 'cmcctl vms: both at 200');
like(out('cmcctl events'), qr/template .*web set: id 7 vlan 0 rate 200/, 'a template event says so');

# --- Bad requests: refused with their reason, nothing changed ---------------------------------
my $state = 'cmcctl -j template list; cmcctl -j assignments; cmcctl -j vms; cmcctl -j vbridge show | grep -v rx_';
my $before = out($state);
for ([ 'cmcctl vm start vm3 blade blade1 mac 02:00:00:00:0c:03 --template nope', qr/no template 'nope'/ ],
     [ 'cmcctl vm start vm3 blade blade1 mac 06:63:00:00:00:01', qr/MAC 06:63:00:00:00:01 carries template id 99, which no template has/ ],
     [ 'cmcctl vm start vm3 blade blade1 mac 06:07:00:00:00:03 --template other', qr/no template 'other'/ ],
     [ 'cmcctl vm start vm3 blade blade1 mac 02:00:00:00:0c:03 rate 5 --template web', qr/VLAN, rate and trust are template web's/ ],
     [ 'cmcctl template del web', qr/template web is in use by VM vm\d/ ],
     [ 'cmcctl template set web allow 10.9.0.1/24', qr/host bits set \(the prefix is 10.9.0.0\/24\)/ ],
     [ 'cmcctl template set web allow 10.9.0.0/24,01:00:5e:00:00:01', qr/not a unicast MAC/ ],
     [ 'cmcctl template add db allow 10.9.0.300', qr/'10.9.0.300' is neither a MAC nor an IPv4 prefix/ ],
     [ 'cmcctl template set web vlan 4001', qr/'4001' is not a VLAN id/ ],
     [ 'cmcctl template set web rate 1001', qr/'1001' is not a rate/ ],
     [ 'cmcctl template add db id 7', qr/id 7 is template web's/ ],
     [ 'cmcctl vm set vm1 rate 50', qr/vm1's rate is template web's/ ]) {
	my ($cmd, $why) = @$_;
	my ($rc, $o) = $c->run("$cmd 2>&1");
	ok($rc != 0 && $o =~ $why, "refused: $cmd") or diag("rc $rc: $o");
}
is(out($state), $before, '  and nothing changed (templates, assignments, VMs, the card\'s entries)');
is(out('ip -n blade1 -o link show | grep -c ": vbr-"'), "2\n", '  no VM port was left behind on blade1 (vm1\'s and vm2\'s only)');

# --- The access list ------------------------------------------------------------------------
my $dev = $p1->{netdev};
like(out("ip netns exec blade1 nft list table bridge cmc-acl-vtp-$dev"), qr/oifname "vtp-$dev" ip saddr \{? ?10\.9\.0\.1/,
	"blade1 has vm1's port's table, cmc-acl-vtp-$dev, allowing 10.9.0.1");
# (wait_for counts tenths of a second between tries, each try up to 1 s of ping: at most
# about 1.1 s a try, kept under the command's own timeout.)
ok_run("wait_for 70 'ip netns exec blade3 ping -c 1 -W 1 10.9.0.5 >/dev/null'", 'blade3 (10.9.0.1) pings vm1',
	timeout => 90);
ok(!pings('blade2', '10.9.0.5'), 'blade2 (10.9.0.2) does not reach vm1');
ok(pings('blade3', '10.9.0.5'), '  while blade3 still does');
ok_run('cmcctl vm stop vm2', 'vm2 stopped (its VF is the one the migration needs)', timeout => 30);

# --- It moves with the VM ----------------------------------------------------------------------
ok_run('cmcctl migrate vm1 --to blade2', 'vm1 migrates to blade2', timeout => 240);
is(vm('vm1')->{blade}, 'blade2', 'vm1 runs on blade2');
my $ddev = profile('vm1', 'blade2')->{netdev} // 'none';
like(out("ip netns exec blade2 nft list table bridge cmc-acl-vtp-$ddev"), qr/10\.9\.0\.1/,
	"blade2 has the table of vm1's new port (cmc-acl-vtp-$ddev)");
ok_run("wait_for 100 '! ip netns exec blade1 nft list table bridge cmc-acl-vtp-$dev >/dev/null 2>&1'",
	'blade1\'s table went with the old port', timeout => 30);
my ($prc) = $c->run("wait_for 45 'ip netns exec blade3 ping -c 1 -W 1 10.9.0.5 >/dev/null'", timeout => 60);
is($prc, 0, 'blade3 (10.9.0.1) pings vm1 on blade2') or diag(out("ip netns exec blade2 nft list ruleset; bridge -n blade2 fdb show br vbr-$ddev; "
	    . "ip -n blade2 -s link show; ip netns exec blade3 ip neigh; cmcctl vbridge show; tail -5 /run/cmc/vm/vm1\@blade2.log", 60));
ok(!pings('blade2', '10.9.0.5'), 'blade2 (10.9.0.2) still does not reach vm1, now beside it');

# --- A template set changes the running VM's access list ---------------------------------------
ok_run('cmcctl template set web allow 10.9.0.1,10.9.0.2', 'web now allows 10.9.0.2 too');
ok_run("wait_for 20 'ip netns exec blade2 ping -c 1 -W 1 10.9.0.5 >/dev/null'", 'blade2 (10.9.0.2) reaches vm1 now',
	timeout => 40);
ok(pings('blade3', '10.9.0.5'), '  and blade3 still does');
ok_run('cmcctl vm stop vm1 && cmcctl template del web; test $? = 1', 'vm1 stopped; web, the configuration\'s, stays');
ok_run('cmcctl template add db vlan 42 && cmcctl template add tmp && cmcctl template del tmp',
	'templates added and deleted at run time');
my $audit = out('cmcctl audit');
ok($audit =~ /template set web rate 200/ && $audit !~ /template list/, 'the audit log has the changes, not the listings');

# --- Kept across a restart of cmcd --------------------------------------------------------------
ok_run('kill $(pidof cmcd); wait_for 100 "! pidof cmcd >/dev/null" && cmcd -c /tmp/tmpl.conf && '
    . 'wait_for 300 "cmcctl version >/dev/null 2>&1"', 'cmcd restarted', timeout => 60);
is_deeply([ sort map { "$_->{template} $_->{id} $_->{rate} $_->{allow} $_->{source}" } @{ json('cmcctl -j template list') } ],
	[ 'db 1 0 - admin', 'web 7 200 10.9.0.1/32,10.9.0.2/32 admin' ],
	'the templates as changed came back from the store (web\'s set over the file\'s, db added, tmp gone)');

$c->stop;
done_testing();
