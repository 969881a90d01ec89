#!/usr/bin/perl
# The event service of the cmcd inside the emulated chassis, watched from the host over
# the management port (HTTPS): an SSE stream sees a VF assigned, placed in its blade and
# taken back, and an uplink's cable pulled and put back, each as a Redfish event whose
# OriginOfCondition is the VF's NetworkDeviceFunction or the port, with increasing ids;
# a filtered stream sees only what it asked for; keep-alives arrive.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep time);
use File::Temp qw(tempdir);
use Chassis;
use Host ();

delete @ENV{qw(REQUESTS_CA_BUNDLE CURL_CA_BUNDLE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY)};
my $dir = tempdir(CLEANUP => 1);
my $c = Chassis->new(name => 'rfevents', layout => 'rootports', mgmt => 1,
	slots => [ { slot => 1, cable => 1 }, { slot => 2 } ]);
$c->start;
my $BASE = 'https://127.0.0.1:' . $c->mgmt_port;
my @kids;
END { kill('TERM', @kids) if @kids }

sub ok_run { my ($cmd, $name, %o) = @_; my ($rc, $out) = $c->run($cmd, %o); is($rc, 0, $name) or diag("$cmd: $out"); $out }
sub slurp { local $/; open(my $f, '<', $_[0]) or return ''; <$f> // '' }
sub wait_for { my ($cond, $secs) = @_; my $end = time + ($secs // 20); until ($cond->()) { return 0 if time > $end; sleep 0.1 } 1 }

my ($mrc, $dev) = $c->mgmt_up;
ok($mrc == 0 && $dev =~ /\S/, 'the management port is up in the guest') or diag($dev);
ok_run(q{cp /cmc/conf/emulated.conf /etc/cmc/rf.conf && }
	. q{printf 'redfish = { address = "0.0.0.0"; port = 443; event_keepalive = 2; };\n' >> /etc/cmc/rf.conf && }
	. q{cmcd -c /etc/cmc/rf.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"},
	'cmcd up with its Redfish service, VFs probed', timeout => 120);
ok_run(q{printf 'chassis-pass-1\n' | cmcctl account add admin role Administrator}, 'an account');
my $http = HTTP::Tiny->new(verify_SSL => 0, timeout => 20);
my $r = $http->post("$BASE/redfish/v1/SessionService/Sessions", { headers => { 'Content-Type' => 'application/json' },
	content => encode_json({ UserName => 'admin', Password => 'chassis-pass-1' }) });
my $tok = $r->{headers}{'x-auth-token'};
is($r->{status}, 201, 'a session over the management port') or diag("$r->{status} $r->{content}");

sub stream {
	my ($file, $filter) = @_;
	my $q = defined $filter ? '?$filter=' . join('', map { /[A-Za-z0-9._~-]/ ? $_ : sprintf('%%%02X', ord) } split //, $filter) : '';
	my $k = fork() // die;
	if (!$k) {
		open(STDOUT, '>', $file) or die;
		open(STDERR, '>', "$file.err") or die;
		exec('curl', '-skN', '-H', "X-Auth-Token: $tok", "$BASE/redfish/v1/EventService/SSE$q") or POSIX::_exit(127);
	}
	push @kids, $k;
	wait_for(sub { -s $file }, 10);
}
sub records { map { +{ id => $_->{id}, %{ $_->{event}{Events}[0] } } } Host::sse_events(slurp($_[0])) }
sub find_rec { my ($f, $kind, $re) = @_; (grep { $_->{Oem}{Cmc}{Kind} eq $kind && $_->{Oem}{Cmc}{Detail} =~ $re } records($f))[0] }

my $NDF = '/redfish/v1/Chassis/emulated/NetworkAdapters/slot1/NetworkDeviceFunctions/pf0-vf0';
my $PORT = '/redfish/v1/Chassis/emulated/NetworkAdapters/slot1/Ports/0';
ok(stream("$dir/all"), 'an SSE stream over HTTPS from the host');
ok(stream("$dir/warn", "MessageId eq 'ResourceEvent.ResourceStatusChangedWarning'"), 'and one filtered on a MessageId');

ok_run('cmcctl assign slot 1 vf 0 blade blade1', 'slot 1 VF 0 to blade1');
ok(wait_for(sub { find_rec("$dir/all", 'vf-placed', qr/pf 0 vf 0/) }), 'the stream tells the VF assigned and placed');
my $as = find_rec("$dir/all", 'assigned', qr/^pf 0 vf 0 to blade1/);
is($as->{MessageId}, 'ResourceEvent.1.4.ResourceChanged', 'assigned: ResourceChanged');
is($as->{OriginOfCondition}{'@odata.id'}, $NDF, "... on the VF's NetworkDeviceFunction");
my $pl = find_rec("$dir/all", 'vf-placed', qr/pf 0 vf 0/);
is($pl->{MessageId}, 'ResourceEvent.1.4.ResourceStateChanged', 'placed: ResourceStateChanged');
is_deeply($pl->{MessageArgs}, [$NDF, 'Enabled'], '... to Enabled');

$c->qmp('set_link', { name => 'cable1', up => JSON::PP::false });
ok(wait_for(sub { find_rec("$dir/all", 'link-down', qr/^pf 0/) }, 30), "slot 1's cable pulled: a link-down event");
my $down = find_rec("$dir/all", 'link-down', qr/^pf 0/);
is($down->{MessageId}, 'ResourceEvent.1.4.ResourceStatusChangedWarning', '... ResourceStatusChangedWarning');
is($down->{OriginOfCondition}{'@odata.id'}, $PORT, '... on the port');
is($down->{MessageSeverity}, 'Warning', '... severity Warning');
$c->qmp('set_link', { name => 'cable1', up => JSON::PP::true });
ok(wait_for(sub { find_rec("$dir/all", 'link-up', qr/^pf 0/) }, 30), 'put back: a link-up event');
is(find_rec("$dir/all", 'link-up', qr/^pf 0/)->{MessageId}, 'ResourceEvent.1.4.ResourceStatusChangedOK', '... ResourceStatusChangedOK');

ok_run('cmcctl unassign slot 1 vf 0', 'unassign slot 1 VF 0');
ok(wait_for(sub { find_rec("$dir/all", 'unassigned', qr/pf 0 vf 0/) }), 'the stream tells it');
is(find_rec("$dir/all", 'unassigned', qr/pf 0 vf 0/)->{OriginOfCondition}{'@odata.id'}, $NDF, '... on the same function');

my @ids = map { $_->{id} } records("$dir/all");
is_deeply(\@ids, [sort { $a <=> $b } @ids], 'ids increase along the stream (' . scalar(@ids) . ' events)');
my @w = map { $_->{MessageId} } records("$dir/warn");
ok(@w >= 1 && !grep({ $_ ne 'ResourceEvent.1.4.ResourceStatusChangedWarning' } @w),
	'the filtered stream got the warnings only (' . scalar(@w) . ')');
# (event_keepalive = 2: one is due at most 2 s after the last event; 10 s for a loaded host.)
wait_for(sub { slurp("$dir/all") =~ /^: keep-alive$/m }, 10);
like(slurp("$dir/all"), qr/^: keep-alive$/m, 'keep-alives between events');
like(ok_run('cmcctl events', 'cmcctl events'), qr/link-down.*\n(.|\n)*link-up/, '... shows the same events');
$c->stop;
done_testing();
