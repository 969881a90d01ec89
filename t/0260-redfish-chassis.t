#!/usr/bin/perl
# The Redfish service of the cmcd inside the emulated chassis, reached from the host
# through the chassis' management port (a QEMU user-mode NIC, guest port 443 forwarded
# to a free host port): rf-check crawls everything and finds 0 problems; sushy reads
# each blade's EthernetInterfaces, whose MACs are the VFs' (assigned with cmcctl), linked
# to their NetworkDeviceFunctions; redfishtool lists the systems and the fabric; the
# zones hold the assignments; an unassigned VF leaves its blade's tree at once. Then the
# same over Redfish alone (issue #13): an Operator assigns a VF with Zone.AddEndpoint
# (redfishtool raw) and, as soon as the answer comes, finds it in the blade (ip -n) with
# its MAC, and in the blade's EthernetInterfaces; PATCHes its VLAN and rate with If-Match
# and sees them in cmcctl assignments; a refused AddEndpoint carries cmcctl's reason; a
# ReadOnly account is refused (403); RemoveEndpoint takes it back; the audit log holds
# all of it, who and from where. A VM migrated over Redfish alone: CmcVm.Migrate (plain
# python3, urllib) answers 202 with a Task; its monitor answers 202 while the migration
# runs and the Task Completed at 100 % at the end, with the VM on blade2 in cmcctl vms; a
# migration to where the VM runs is refused with cmcctl's reason; ReadOnly gets 403. The
# VM is a ComputerSystem (Virtual) at Systems/vm.vm1, hosted by blade1, then by blade2. A
# slow migration back whose destination is killed: its task ends in Exception, with
# TaskAborted and cmcctl migrations' reason.
# rf-check still finds 0 problems, the LogService and the TaskService too.
# cmcd runs with CMC_RF_LATE_MS=300 (test builds): the blades' "done" comes 300 ms after
# each change, from a timer, as it will from the blade worker, so every Redfish write here
# answers from a suspended connection resumed later.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use Time::HiRes ();
use POSIX ();
use Chassis;
use Host ();

my $PY = '/usr/bin/python3';
my $TOOLS = "$FindBin::Bin/tools";
delete @ENV{qw(REQUESTS_CA_BUNDLE CURL_CA_BUNDLE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY)};
# The VM image (make image-vm) carries the payload VM the migration moves.
my $vmimg = Chassis::build_dir() . '/chassis/initrd-vm.img';
my $c = Chassis->new(name => 'redfish', layout => 'rootports', mgmt => 1, -e $vmimg ? (initrd => $vmimg) : (),
	slots => [ { slot => 1 }, { slot => 2 } ]);
$c->start;
my $BASE = 'https://127.0.0.1:' . $c->mgmt_port;

sub ok_run { my ($cmd, $name, %o) = @_; my ($rc, $out) = $c->run($cmd, %o); is($rc, 0, $name) or diag("$cmd: $out"); $out }
sub sh { my $out = `$_[0] 2>&1`; return ($? >> 8, $out) }

my ($mrc, $dev) = $c->mgmt_up;
ok($mrc == 0 && $dev =~ /\S/, 'the management port is up in the guest (10.0.2.15)') or diag($dev);
ok_run(q{cp /cmc/conf/emulated.conf /etc/cmc/rf.conf && }
	. q{printf 'redfish = { address = "0.0.0.0"; port = 443; };\n' >> /etc/cmc/rf.conf && }
	. q{CMC_RF_LATE_MS=300 cmcd -c /etc/cmc/rf.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"},
	'cmcd up with its Redfish service, VFs probed', timeout => 120);
ok_run(q{printf 'chassis-pass-1\n' | cmcctl account add admin role Administrator}, 'an account');
ok_run('cmcctl assign slot 1 vf 0 blade blade1', 'slot 1 VF 0 to blade1');
ok_run('cmcctl assign slot 1 vf 1 blade blade2 vlan 20 rate 100', 'slot 1 VF 1 to blade2, VLAN 20, 100 Mbit/s');
ok_run(q{wait_for 200 'ip -n blade1 link show s1v0 >/dev/null 2>&1 && ip -n blade2 link show s1v1 >/dev/null 2>&1'},
	'both placed', timeout => 40);
my $id = decode_json(scalar $c->run('cmcctl -j version'))->{chassis_id};
my ($mac0, $mac1) = map { Chassis::vf_default_mac($id, 1, 0, $_) } 0, 1;

my $http = HTTP::Tiny->new(verify_SSL => 0, timeout => 20);
my $r = $http->get("$BASE/redfish/v1/");
is($r->{status}, 200, 'the service root through the management port') or diag("$r->{status} $r->{content}");
my ($rc, $out) = sh("$PY $TOOLS/rf-sushy $BASE admin chassis-pass-1");
like($out, qr/^nic blade1 slot1-pf0-vf0 \Q$mac0\E$/m, "sushy: blade1's interface has VF 0's MAC") or diag($out);
like($out, qr/^nic blade2 slot1-pf0-vf1 \Q$mac1\E$/m, "sushy: blade2's has VF 1's");
like($out, qr/^function emulated slot1 pf0-vf1 \Q$mac1\E$/m, 'and the same MAC on the network device function');
like($out, qr/^logged out/m, 'sushy logs out');
my @rt = ('redfishtool', '-r', '127.0.0.1:' . $c->mgmt_port, '-u', 'admin', '-p', 'chassis-pass-1', '-A', 'Session', '-S', 'Always');
($rc, $out) = sh(join(' ', @rt, 'Systems', 'list'));
ok($rc == 0 && $out =~ m{/redfish/v1/Systems/blade3}, 'redfishtool lists the systems') or diag($out);
($rc, $out) = sh(join(' ', @rt, 'raw', 'GET', '/redfish/v1/Fabrics/PCIe/Zones/blade2'));
ok($rc == 0 && $out =~ m{/Endpoints/slot1-pf0-vf1"} && $out =~ m{/Endpoints/blade2"}, "redfishtool: blade2's zone holds its VF and itself")
	or diag($out);

sub get { my $g = $http->get("$BASE$_[0]", { headers => { Authorization => 'Basic YWRtaW46Y2hhc3Npcy1wYXNzLTE=' } }); ($g->{status}, eval { decode_json($g->{content}) } // {}) }
my ($st, $b) = get('/redfish/v1/Chassis/emulated/NetworkAdapters/slot1/NetworkDeviceFunctions/pf0-vf1');
is($b->{Ethernet}{VLAN}{VLANId}, 20, 'the VF: VLAN 20');
is($b->{Limits}[0]{SustainedBytesPerSecond}, 12500000, 'its rate as a limit (100 Mbit/s)');
is($b->{Oem}{Cmc}{Blade}, 'blade2', 'Oem.Cmc.Blade');
($st, $b) = get('/redfish/v1/Systems/blade2');
is_deeply([ map { $_->{'@odata.id'} } @{ $b->{PCIeFunctions} // [] } ],
	[ '/redfish/v1/Chassis/emulated/PCIeDevices/slot1/PCIeFunctions/pf0-vf1' ], "blade2's system links its VF's PCIe function");
($st, $b) = get('/redfish/v1/Systems/blade1/EthernetInterfaces/slot1-pf0-vf0');
is($b->{Status}{State}, 'Enabled', "blade1's interface is placed: Enabled");
($st, $b) = get('/redfish/v1/Chassis/emulated/NetworkAdapters/slot1/Ports/0');
is($b->{LinkStatus}, 'LinkUp', "the uplink port's link, from the card cmcd drives");
($st, $b) = get('/redfish/v1/Chassis/emulated/NetworkAdapters/slot2/Ports/0');
is($b->{Oem}{Cmc}{ConfiguredRole}, 'midplane', 'the midplane port: Oem.Cmc.ConfiguredRole');
ok_run('cmcctl unassign slot 1 vf 0', 'unassign slot 1 VF 0');
($st, $b) = get('/redfish/v1/Systems/blade1/EthernetInterfaces');
is($b->{'Members@odata.count'}, 0, "blade1 has no interface left, at once");
($st) = get('/redfish/v1/Systems/blade1/EthernetInterfaces/slot1-pf0-vf0');
is($st, 404, 'the interface answers 404');
ok_run('cmcctl version', 'cmcctl still answers');

# --- over Redfish alone: assign, configure, refuse, take back; the audit -----------------------
ok_run(q{printf 'oper-pass-1\n' | cmcctl account add oper role Operator}, 'an Operator account');
ok_run(q{printf 'reader-pass-1\n' | cmcctl account add reader role ReadOnly}, 'a ReadOnly account');
# Everything below, watched as Redfish events: an SSE stream from the host, as the Operator.
my $sse = "$c->{dir}/sse.txt";
my $sse_pid = fork() // die;
if (!$sse_pid) {
	open(STDOUT, '>', $sse) or die;
	open(STDERR, '>', "$sse.err") or die;
	exec('curl', '-skN', '-u', 'oper:oper-pass-1', "$BASE/redfish/v1/EventService/SSE") or POSIX::_exit(127);
}
END { kill('TERM', $sse_pid) if $sse_pid }
my $sse_t0 = Time::HiRes::time();
Time::HiRes::sleep(0.1) until -s $sse || Time::HiRes::time() - $sse_t0 > 10;
ok(-s $sse, 'an SSE stream (EventService) open from the host as the Operator') or diag(slurp_file("$sse.err"));
sub slurp_file { local $/; open(my $f, '<', $_[0]) or return ''; <$f> // '' }
# The stream's events: { id, the Event record }.
sub sse_events { map { +{ id => $_->{id}, %{ $_->{event}{Events}[0] // {} } } } Host::sse_events(slurp_file($sse)) }
my $ZONE1 = '/redfish/v1/Fabrics/PCIe/Zones/blade1';
my $NDF2 = '/redfish/v1/Chassis/emulated/NetworkAdapters/slot1/NetworkDeviceFunctions/pf0-vf2';
my $ep = sub { qq('{"Endpoints":[{"\@odata.id":"/redfish/v1/Fabrics/PCIe/Endpoints/$_[0]"}]}') };
my @op = ('redfishtool', '-r', '127.0.0.1:' . $c->mgmt_port, '-u', 'oper', '-p', 'oper-pass-1', '-A', 'Session', '-S', 'Always');
my $mac2 = Chassis::vf_default_mac($id, 1, 0, 2);
my $t0 = Time::HiRes::time();
($rc, $out) = sh(join(' ', @op, 'raw', 'POST', "$ZONE1/Actions/Zone.AddEndpoint", '-d', $ep->('slot1-pf0-vf2')));
is($rc, 0, 'redfishtool raw POST Zone.AddEndpoint: slot 1 VF 2 to blade1') or diag($out);
# A lower bound only (a timer never fires early): the answer came from the resumed connection.
cmp_ok(Time::HiRes::time() - $t0, '>=', 0.3, "... answered once the blades' (delayed) done came");
($rc, $out) = $c->run('ip -n blade1 -o link show s1v2');
is($rc, 0, 'the VF is in blade1 when the answer comes (it waited for the blades)') or diag($out);
ok_run(qq{wait_for 100 'ip -n blade1 -o link show s1v2 | grep -q "link/ether $mac2"'},
	"blade1 sees the VF's MAC ($mac2)", timeout => 30);
sub rf { my ($m, $path, %o) = @_;
	my %h = (Authorization => 'Basic ' . MIME::Base64::encode_base64("$o{user}:$o{pass}", ''), %{ $o{headers} // {} });
	$h{'Content-Type'} = 'application/json' if $o{json};
	my $g = $http->request($m, "$BASE$path", { headers => \%h, $o{json} ? (content => encode_json($o{json})) : () });
	($g->{status}, eval { decode_json($g->{content}) } // {}, $g->{headers}) }
require MIME::Base64;
my @OP = (user => 'oper', pass => 'oper-pass-1');
($st, $b) = rf('GET', '/redfish/v1/Systems/blade1/EthernetInterfaces/slot1-pf0-vf2', @OP);
is($b->{MACAddress}, $mac2, "blade1's EthernetInterfaces show it with its MAC");
($st, $b, my $h) = rf('GET', $NDF2, @OP);
($st, $b) = rf('PATCH', $NDF2, @OP, headers => { 'If-Match' => '"0000000000000000"' },
	       json => { Ethernet => { VLAN => { VLANId => 30 } } });
is($st, 412, 'PATCH with a stale If-Match: 412');
($st, $b) = rf('PATCH', $NDF2, @OP, headers => { 'If-Match' => $h->{etag} },
	       json => { Ethernet => { VLAN => { VLANId => 30 } }, Limits => [{ Direction => 'Egress', SustainedBytesPerSecond => 25000000 }] });
is($st, 200, 'PATCH its VLAN and rate with the current ETag: 200') or diag(encode_json($b));
is($b->{Ethernet}{VLAN}{VLANId}, 30, '... the answer shows VLAN 30');
my ($as) = grep { $_->{slot} == 1 && $_->{vf} == 2 } @{ decode_json(scalar $c->run('cmcctl -j assignments')) };
ok($as && $as->{vlan} == 30 && $as->{rate} == 200 && $as->{blade} eq 'blade1', 'cmcctl assignments: blade1, VLAN 30, 200 Mbit/s')
	or diag(encode_json($as // {}));
my (undef, $why) = $c->run('cmcctl assign slot 1 vf 1 blade blade1');
($st, $b) = rf('POST', "$ZONE1/Actions/Zone.AddEndpoint", @OP,
	       json => { Endpoints => [{ '@odata.id' => '/redfish/v1/Fabrics/PCIe/Endpoints/slot1-pf0-vf1' }] });
my $msg = $b->{error}{'@Message.ExtendedInfo'}[0]{Message} // '';
is($st, 409, "AddEndpoint of blade2's VF: refused (409)");
ok(length $msg && index($why, $msg) >= 0, "... with cmcctl's reason ($msg)") or diag("cmcctl: $why");
($st) = rf('POST', "$ZONE1/Actions/Zone.RemoveEndpoint", user => 'reader', pass => 'reader-pass-1',
	   json => { Endpoints => [{ '@odata.id' => '/redfish/v1/Fabrics/PCIe/Endpoints/slot1-pf0-vf2' }] });
is($st, 403, 'a ReadOnly account may not RemoveEndpoint (403)');
($rc, $out) = sh(join(' ', @op, 'raw', 'POST', "$ZONE1/Actions/Zone.RemoveEndpoint", '-d', $ep->('slot1-pf0-vf2')));
is($rc, 0, 'redfishtool raw POST Zone.RemoveEndpoint') or diag($out);
($rc) = $c->run('ip -n blade1 link show s1v2');
isnt($rc, 0, 'the VF left blade1 when the answer came');
($st, $b) = rf('GET', '/redfish/v1/Systems/blade1/EthernetInterfaces', @OP);
is($b->{'Members@odata.count'}, 0, "blade1's EthernetInterfaces are empty again");
# --- a VM migrated over Redfish alone: the action, its task and monitor ------------------------
SKIP: {
skip "no VM image ($vmimg): make image-vm", 24 unless -e $vmimg;
ok_run(q{cmcctl lane create mig blade1 blade2 && }
	. q{wait_for 300 'ip -n blade2 addr show ln-mig 2>/dev/null | grep -q 169.254.1.2' && blade_carrier blade1 300 && }
	. q{blade_carrier blade2 300 && wait_for 100 'ip netns exec blade1 ping -c 1 -W 1 169.254.1.2 >/dev/null'},
	'a lane between blade1 and blade2 (card 2), up', timeout => 120);
ok_run('cmcctl vm start vm1 blade blade1 mem 64 mac 02:00:00:00:0a:01', 'vm1 runs on blade1', timeout => 90);
($st, $b) = rf('GET', '/redfish/v1/Systems/vm.vm1', @OP);
is("$st $b->{SystemType} $b->{Links}{HostingComputerSystem}{'@odata.id'}", '200 Virtual /redfish/v1/Systems/blade1',
   'vm1 is a ComputerSystem, Virtual, hosted by blade1 (Systems/vm.vm1)');
($st, $b) = rf('GET', '/redfish/v1/Systems/blade1', @OP);
is_deeply($b->{Links}{VirtualMachines}, [{ '@odata.id' => '/redfish/v1/Systems/vm.vm1' }], "blade1's Links.VirtualMachines: vm1");
($st, $b) = rf('GET', '/redfish/v1/Systems/vm.vm1/EthernetInterfaces', @OP);
like($b->{Members}[0]{'@odata.id'} // '', qr{^/redfish/v1/Systems/blade1/EthernetInterfaces/slot\d-pf\d-vf\d+$},
     "vm1's interface: its profile's VF, blade1's interface");
my $MIG = '/redfish/v1/Systems/blade1/Actions/Oem/CmcVm.Migrate';
($st) = rf('POST', $MIG, user => 'reader', pass => 'reader-pass-1', json => { VM => 'vm1', TargetBlade => 'blade2' });
is($st, 403, 'a ReadOnly account may not migrate (403)');
my (undef, $mwhy) = $c->run('cmcctl migrate vm1 --to blade1');
($st, $b) = rf('POST', $MIG, @OP, json => { VM => 'vm1', TargetBlade => 'blade1' });
my $mmsg = $b->{error}{'@Message.ExtendedInfo'}[0]{Message} // '';
is($st, 400, 'a migration to where the VM runs: refused (400)');
ok(length $mmsg && index($mwhy, $mmsg) >= 0, "... with cmcctl's reason ($mmsg)") or diag("cmcctl: $mwhy");
# The client: plain python3 (urllib), which posts the action and follows the monitor.
($rc, $out) = sh("$PY $TOOLS/rf-follow-task -u oper -p oper-pass-1 $BASE $MIG '{\"VM\": \"vm1\", \"TargetBlade\": \"blade2\"}'");
my $f = eval { decode_json($out) } // {};
is($rc, 0, 'python3 posts CmcVm.Migrate and follows its task monitor to the end') or diag($out);
is($f->{status}, 202, '... the action answers 202 Accepted');
like($f->{location} // '', qr{^/redfish/v1/TaskService/TaskMonitors/\d+$}, "... Location: the task monitor ($f->{location})");
is($f->{task}{'@odata.type'}, '#Task.v1_7_4.Task', '... the body is the Task');
ok((grep { $_->[0] == 202 } @{ $f->{polls} // [] }), '... the monitor answers 202 while the migration runs')
	or diag($out);
is($f->{final}{TaskState}, 'Completed', '... then the Task, Completed');
is($f->{final}{PercentComplete}, 100, '... PercentComplete 100');
ok((grep { $_->{MessageId} eq 'TaskEvent.1.0.TaskCompletedOK' } @{ $f->{final}{Messages} // [] }), '... TaskCompletedOK');
note('percent seen: ' . join(' ', map { "$_->[0]:$_->[1]" } @{ $f->{polls} // [] }));
my ($vmj) = grep { $_->{vm} eq 'vm1' } @{ decode_json(scalar $c->run('cmcctl -j vms')) };
is("$vmj->{blade} $vmj->{state}", 'blade2 running', 'cmcctl vms: vm1 runs on blade2');
($st, $b) = rf('GET', '/redfish/v1/Systems/vm.vm1', @OP);
is($b->{Links}{HostingComputerSystem}{'@odata.id'}, '/redfish/v1/Systems/blade2', '... and Systems/vm.vm1 is hosted by blade2, same URI');
# A migration that fails: its task ends in Exception with cmcctl migrations' reason.
($st, $b, my $mh) = rf('POST', '/redfish/v1/Systems/blade2/Actions/Oem/CmcVm.Migrate', @OP,
		      json => { VM => 'vm1', TargetBlade => 'blade1', BandwidthMbps => 8 });
is($st, 202, 'a slow migration back to blade1 (8 Mbit/s): 202') or diag(encode_json($b));
my ($mon, $tk) = ($mh->{location} // '/none', {});
for (1 .. 300) { ($st, $tk) = rf('GET', $mon, @OP); last if $st != 202 || ($tk->{TaskState} // '') eq 'Running'; select(undef, undef, undef, 0.1) }
is("$st " . ($tk->{TaskState} // ''), '202 Running', '... its monitor: 202, Running');
$c->run('sleep 2; kill -9 $(cat /run/cmc/vm/vm1@blade1.pid)');
for (1 .. 400) { ($st, $tk) = rf('GET', $mon, @OP); last if $st != 202; select(undef, undef, undef, 0.1) }
my ($mg) = grep { $_->{vm} eq 'vm1' } @{ decode_json(scalar $c->run('cmcctl -j migrations')) };
is("$st " . ($tk->{TaskState} // '') . ' ' . ($tk->{TaskStatus} // ''), '200 Exception Critical',
   'the destination killed: the monitor answers 200, the task Exception');
is($tk->{Messages}[1]{MessageId}, 'TaskEvent.1.0.TaskAborted', '... TaskAborted');
is($tk->{Messages}[2]{Message}, $mg->{reason}, "... and cmcctl migrations' reason ($mg->{reason})");
my $mau = decode_json(scalar $c->run('cmcctl -j audit'));
ok((grep { $_->{who} eq 'oper' && $_->{ok} && $_->{what} =~ /CmcVm\.Migrate: migrate vm1 from blade1 to blade2/ } @$mau),
   'audit: the Operator\'s migration') or diag(scalar $c->run('cmcctl audit'));
}
# What the stream told of it all, each from the resource it is about.
my @ev;
my $want_all = sub {
	@ev = sse_events();
	(grep { ($_->{Oem}{Cmc}{Kind} // '') eq 'migrated' } @ev) ? 1 : 0;
};
my $t_end = Time::HiRes::time() + 20;
Time::HiRes::sleep(0.2) until $want_all->() || Time::HiRes::time() > $t_end;
my $ev_of = sub { my ($kind, $re) = @_; (grep { ($_->{Oem}{Cmc}{Kind} // '') eq $kind && ($_->{Oem}{Cmc}{Detail} // '') =~ $re } @ev)[0] };
my $e = $ev_of->('assigned', qr/^pf 0 vf 2 to blade1/);
is(($e // {})->{OriginOfCondition}{'@odata.id'}, $NDF2, "SSE: the AddEndpoint's assignment, from the VF's NetworkDeviceFunction")
	or diag(join("\n", map { encode_json($_) } @ev));
$e = $ev_of->('vf-placed', qr/^pf 0 vf 2 is s1v2 in blade blade1/);
is(($e // {})->{MessageId}, 'ResourceEvent.1.4.ResourceStateChanged', 'SSE: the VF placed in blade1 (ResourceStateChanged)');
$e = $ev_of->('assignment-changed', qr/pf 0 vf 2/);
is(($e // {})->{OriginOfCondition}{'@odata.id'}, $NDF2, "SSE: the PATCH's change, from the same function");
$e = $ev_of->('unassigned', qr/^pf 0 vf 2 from blade1/);
ok($e, 'SSE: the RemoveEndpoint');
$e = $ev_of->('migrated', qr/^vm1 blade1 -> blade2/);
is(($e // {})->{MessageId}, 'TaskEvent.1.0.TaskCompletedOK', 'SSE: the migration over Redfish, completed (TaskCompletedOK)');
my @ids = map { $_->{id} } @ev;
ok(@ids > 4 && !grep({ $ids[$_] <= $ids[$_ - 1] } 1 .. $#ids), 'SSE: ' . scalar(@ids) . ' events, ids increasing');
my $audit = decode_json(scalar $c->run('cmcctl -j audit'));
my @mine = grep { $_->{who} eq 'oper' && $_->{from} eq 'redfish 10.0.2.2' } @$audit;
ok((grep { $_->{ok} && $_->{what} =~ /Zone\.AddEndpoint: assign slot 1 pf 0 vf 2 to blade1/ } @mine), 'audit: the Operator\'s assign, from the host\'s address')
	or diag(scalar $c->run('cmcctl audit'));
ok((grep { $_->{ok} && $_->{what} =~ /pf0-vf2: set slot 1 pf 0 vf 2 of blade1: mac \S+ vlan 30 rate 200/ } @mine), '... the PATCH');
ok((grep { !$_->{ok} && $_->{outcome} eq "409 $msg" } @mine), '... the refusal with its reason');
ok((grep { $_->{ok} && $_->{what} =~ /Zone\.RemoveEndpoint: unassign slot 1 pf 0 vf 2 from blade1/ } @mine), '... the unassign');
ok((grep { $_->{who} eq 'reader' && $_->{outcome} =~ /^403/ } @$audit), "... the reader's refused write");
ok((grep { $_->{who} =~ /^uid 0 \(root\)$/ && $_->{from} eq 'unix socket' && $_->{what} eq 'assign slot 1 vf 1 blade blade2 vlan 20 rate 100' } @$audit),
   "... and cmcctl's assign, by root over the unix socket");
($st, $b) = rf('GET', '/redfish/v1/Managers/cmc/LogServices/Audit/Entries', @OP);
is($b->{'Members@odata.count'}, scalar @$audit, 'the LogService holds the same entries');
($rc, $out) = sh("$PY $TOOLS/rf-check -u admin -p chassis-pass-1 --session $BASE");
is($rc, 0, 'rf-check crawls the whole emulated chassis: 0 problems') or diag($out);
diag($out =~ /(rf-check: .*)/ ? $1 : '');
$c->stop;
done_testing();
