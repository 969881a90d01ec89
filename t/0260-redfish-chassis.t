#!/usr/bin/perl
# The Redfish service of the cmcd inside the emulated chassis, reached from the host
# through the chassis' management port (a QEMU user-mode NIC, guest port 443 forwarded
# to a free host port): rf-check crawls everything and finds 0 problems; sushy reads
# each blade's EthernetInterfaces, whose MACs are the VFs' (assigned with cmcctl), linked
# to their NetworkDeviceFunctions; redfishtool lists the systems and the fabric; the
# zones hold the assignments; an unassigned VF leaves its blade's tree at once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use Chassis;

my $PY = '/usr/bin/python3';
my $TOOLS = "$FindBin::Bin/tools";
delete @ENV{qw(REQUESTS_CA_BUNDLE CURL_CA_BUNDLE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY)};
my $c = Chassis->new(name => 'redfish', layout => 'rootports', mgmt => 1,
	slots => [ { slot => 1 }, { slot => 2 } ]);
$c->start;
my $BASE = 'https://127.0.0.1:' . $c->mgmt_port;

sub ok_run { my ($cmd, $name, %o) = @_; my ($rc, $out) = $c->run($cmd, %o); is($rc, 0, $name) or diag("$cmd: $out"); $out }
sub sh { my $out = `$_[0] 2>&1`; return ($? >> 8, $out) }

my ($mrc, $dev) = $c->mgmt_up;
ok($mrc == 0 && $dev =~ /\S/, 'the management port is up in the guest (10.0.2.15)') or diag($dev);
ok_run(q{cp /cmc/conf/emulated.conf /etc/cmc/rf.conf && }
	. q{printf 'redfish = { address = "0.0.0.0"; port = 443; };\n' >> /etc/cmc/rf.conf && }
	. q{cmcd -c /etc/cmc/rf.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"},
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
my ($rc, $out) = sh("$PY $TOOLS/rf-check -u admin -p chassis-pass-1 --session $BASE");
is($rc, 0, 'rf-check crawls the whole emulated chassis: 0 problems') or diag($out);
diag($out =~ /(rf-check: .*)/ ? $1 : '');
($rc, $out) = sh("$PY $TOOLS/rf-sushy $BASE admin chassis-pass-1");
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
$c->stop;
done_testing();
