#!/usr/bin/perl
# Redfish writes on the host, over a libpci dump (no QEMU, so no blades: a change that gets
# past every check is refused by the blades' absence, 503): each role refused (403) what
# it may not do and let through what it may; PATCH refused by property name (unknown,
# read-only), by type, range and list, all at once and all or nothing; a stale If-Match
# (412); a body that is not JSON (415, 400); the zone actions' parameters; and the audit
# log: every one of those attempts; the migrate action's parameters and the TaskService
# (empty: no VM runs on the host); the audit and cmcctl's changes (with the unix user), read with
# cmcctl audit (-j too) and as the Redfish LogService, kept across a restart.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use HTTP::Tiny;
use Chassis;
use Host qw(sh slurp spew start_cmcd free_port redfish_conf rf_request);

my $B = Chassis::build_dir();
my ($CMCD, $CMCCTL, $GEN) = ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump");
-x $_ or BAIL_OUT("$_ not built: run make") for $CMCD, $CMCCTL, $GEN;
my $dir = tempdir(CLEANUP => 1);
$ENV{CMC_SOCKET} = "$dir/run/cmcd.sock";
delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY)};

my ($PORT, $HPORT) = (free_port(), free_port());
my $TLS = "https://127.0.0.1:$PORT";
my $U = "http://127.0.0.1:$HPORT/redfish/v1";
redfish_conf($dir, $PORT, $HPORT, 'session_timeout = 60;');
system("$GEN -s 3 -e 3 -v 2 -o $dir/three.dump") == 0 or BAIL_OUT('mp-gendump failed');

my $pid;
sub start_daemon {
	my $ok;
	($pid, $ok) = start_cmcd(cmcd => $CMCD, cmcctl => $CMCCTL, conf => "$dir/rf.conf", dump => "$dir/three.dump",
				 socket => "$dir/run/cmcd.sock", log => "$dir/cmcd.log", timeout => 15);
	return $ok;
}
sub stop_daemon { kill('TERM', $pid); waitpid($pid, 0); undef $pid }
END { kill('KILL', $pid) if $pid }

my $http = HTTP::Tiny->new(verify_SSL => 0, timeout => 10);
sub req { rf_request($http, @_) }
sub msgs { my ($b) = @_; ref $b eq 'HASH' ? @{ $b->{error}{'@Message.ExtendedInfo'} // [] } : () }
sub msgid { (map { $_->{MessageId} } msgs($_[0]))[0] // '' }
sub login {
	my ($user, $pass) = @_;
	my ($st, $h) = req('POST', "$TLS/redfish/v1/SessionService/Sessions", json => { UserName => $user, Password => $pass });
	return $h->{'x-auth-token'};
}
sub audit_json { my ($rc, $out) = sh("$CMCCTL -j audit"); return $rc ? [] : decode_json($out) }

ok(start_daemon(), 'cmcd starts');
for (['admin', 'Administrator'], ['oper', 'Operator'], ['reader', 'ReadOnly']) {
	my ($rc, $out) = sh("printf 'pass-of-$_->[0]\\n' | $CMCCTL account add $_->[0] role $_->[1]");
	is($rc, 0, "an $_->[1] account") or diag($out);
}
my %tok = map { ($_ => login($_, "pass-of-$_")) } qw(admin oper reader);
ok($tok{$_}, "$_ has a session") for qw(admin oper reader);

my $NDF = "$U/Chassis/enc1/NetworkAdapters/slot1/NetworkDeviceFunctions/pf0-vf1";
my $PORTR = "$U/Chassis/enc1/NetworkAdapters/slot1/Ports/0";
my $ZONE = "$U/Fabrics/PCIe/Zones/blade1";
my $EP = { Endpoints => [{ '@odata.id' => '/redfish/v1/Fabrics/PCIe/Endpoints/slot1-pf0-vf1' }] };

# --- what each write offers -----------------------------------------------------------------
my ($st, $h, $b) = req('GET', $NDF, token => $tok{reader});
is($h->{allow}, 'GET, HEAD, PATCH', "a VF's NetworkDeviceFunction takes PATCH");
($st, $h, $b) = req('GET', $ZONE, token => $tok{reader});
is($b->{Actions}{'#Zone.AddEndpoint'}{target}, '/redfish/v1/Fabrics/PCIe/Zones/blade1/Actions/Zone.AddEndpoint',
   'a zone names its AddEndpoint action');
($st, $h, $b) = req('GET', "$U/Chassis/enc1/NetworkAdapters/slot1/NetworkDeviceFunctions/pf0", token => $tok{reader});
is($h->{allow}, 'GET, HEAD', "a PF's takes none");

# --- roles ----------------------------------------------------------------------------------
my @writes = (
	['POST', "$ZONE/Actions/Zone.AddEndpoint", $EP, 'Zone.AddEndpoint'],
	['POST', "$ZONE/Actions/Zone.RemoveEndpoint", $EP, 'Zone.RemoveEndpoint'],
	['PATCH', $NDF, { Ethernet => { VLAN => { VLANId => 12 } } }, "PATCH a VF's VLAN"],
	['PATCH', $NDF, { Oem => { Cmc => { Trusted => JSON::PP::true } } }, 'PATCH its trust'],
	['PATCH', $PORTR, { Oem => { Cmc => { ConfiguredRole => 'midplane' } } }, "PATCH a port's role"],
	['POST', "$U/Systems/blade1/Actions/Oem/CmcVm.Migrate", { VM => 'vm1', TargetBlade => 'blade2' }, 'CmcVm.Migrate'],
);
for my $w (@writes) {
	($st, $h, $b) = req($w->[0], $w->[1], token => $tok{reader}, json => $w->[2]);
	is($st, 403, "ReadOnly: $w->[3] refused (403)");
	is(msgid($b), 'Base.1.22.InsufficientPrivilege', '... InsufficientPrivilege');
	for my $who (qw(oper admin)) {
		($st, $h, $b) = req($w->[0], $w->[1], token => $tok{$who}, json => $w->[2]);
		is($st, 503, "$who: $w->[3] passes the role check (and meets the blades' absence: 503)");
		like((msgs($b))[0]{Message} // '', qr/(blades|VMs) are not available/, "... with cmcctl's reason");
	}
}

# --- PATCH refused by name, all at once --------------------------------------------------------
($st, $h, $b) = req('PATCH', $NDF, token => $tok{oper}, json => {
	Foo => 1, Status => { State => 'Disabled' },
	Ethernet => { PermanentMACAddress => '02:00:00:00:00:01', VLAN => { VLANId => 'x' } },
	Limits => [{ Direction => 'Ingress', SustainedBytesPerSecond => 125000 }],
	Oem => { Cmc => { Trusted => 'yes', '@odata.type' => '#CmcOem.v9_9_9.X' } } });
is($st, 400, 'a PATCH with bad properties: 400');
my %by = map { (($_->{RelatedProperties} // [''])->[0] => $_) } msgs($b);
is($by{'#/Foo'}{MessageId}, 'Base.1.22.PropertyUnknown', 'an unknown property: PropertyUnknown');
is_deeply($by{'#/Foo'}{MessageArgs}, ['Foo'], '... by name');
is($by{'#/Status'}{MessageId}, 'Base.1.22.PropertyNotWritable', 'a read-only property: PropertyNotWritable');
is($by{'#/Ethernet/PermanentMACAddress'}{MessageId}, 'Base.1.22.PropertyNotWritable', '... also nested');
is($by{'#/Oem/Cmc/@odata.type'}{MessageId}, 'Base.1.22.PropertyNotWritable', '... also in Oem');
is($by{'#/Ethernet/VLAN/VLANId'}{MessageId}, 'Base.1.22.PropertyValueTypeError', 'a string for VLANId: PropertyValueTypeError');
is($by{'#/Oem/Cmc/Trusted'}{MessageId}, 'Base.1.22.PropertyValueTypeError', 'a string for Trusted: PropertyValueTypeError');
is($by{'#/Limits/0/Direction'}{MessageId}, 'Base.1.22.PropertyValueNotInList', 'an Ingress limit: PropertyValueNotInList');
is(scalar(msgs($b)), 7, 'every problem reported in one answer');
($st, $h, $b) = req('PATCH', $NDF, token => $tok{oper}, json => { Ethernet => { VLAN => { VLANId => 5000 } } });
is(msgid($b), 'Base.1.22.PropertyValueOutOfRange', 'VLANId 5000: PropertyValueOutOfRange');
($st, $h, $b) = req('PATCH', $NDF, token => $tok{oper}, json => { Limits => [{ SustainedBytesPerSecond => 100 }] });
is(msgid($b), 'Base.1.22.PropertyValueOutOfRange', 'a rate not a whole Mbit/s: PropertyValueOutOfRange');
($st, $h, $b) = req('PATCH', $NDF, token => $tok{oper}, json => { Ethernet => { MACAddress => '01:00:5e:00:00:01' } });
is(msgid($b), 'Base.1.22.PropertyValueFormatError', 'a multicast MAC: PropertyValueFormatError');
($st, $h, $b) = req('PATCH', $PORTR, token => $tok{oper}, json => { Oem => { Cmc => { ConfiguredRole => 'sideways' } } });
is(msgid($b), 'Base.1.22.PropertyValueNotInList', "a port role that is none: PropertyValueNotInList");
($st) = req('PATCH', "$U/Systems/blade1", token => $tok{admin}, json => {});
is($st, 405, 'PATCH a resource that takes none: 405');

# --- If-Match, bodies -------------------------------------------------------------------------
($st, $h) = req('GET', $NDF, token => $tok{oper});
my $etag = $h->{etag};
($st, $h, $b) = req('PATCH', $NDF, token => $tok{oper}, headers => { 'If-Match' => '"0000000000000000"' },
		    json => { Ethernet => { VLAN => { VLANId => 12 } } });
is($st, 412, 'PATCH with a stale If-Match: 412');
is(msgid($b), 'Base.1.22.PreconditionFailed', '... PreconditionFailed');
($st) = req('PATCH', $NDF, token => $tok{oper}, headers => { 'If-Match' => $etag },
	    json => { Ethernet => { VLAN => { VLANId => 12 } } });
is($st, 503, 'with the current ETag it passes (to the blades\' absence)');
($st) = req('PATCH', $NDF, token => $tok{oper}, headers => { 'Content-Type' => 'text/plain' }, json => '{}');
is($st, 415, 'a body that is not application/json: 415');
($st, $h, $b) = req('PATCH', $NDF, token => $tok{oper}, json => '{"Ethernet": ');
is(msgid($b), 'Base.1.22.MalformedJSON', 'malformed JSON: 400 MalformedJSON');

# --- the zone actions' parameters -----------------------------------------------------------
($st, $h, $b) = req('POST', "$ZONE/Actions/Zone.AddEndpoint", token => $tok{oper}, json => {});
is(msgid($b), 'Base.1.22.ActionParameterMissing', 'no Endpoints: ActionParameterMissing');
($st, $h, $b) = req('POST', "$ZONE/Actions/Zone.AddEndpoint", token => $tok{oper},
		    json => { Endpoints => [{ '@odata.id' => '/redfish/v1/Fabrics/PCIe/Endpoints/blade2' }] });
is(msgid($b), 'Base.1.22.ActionParameterValueFormatError', "a blade's endpoint (not a VF's): ActionParameterValueFormatError");
($st, $h, $b) = req('POST', "$ZONE/Actions/Zone.AddEndpoint", token => $tok{oper}, json => { %$EP, Force => 1 });
is(msgid($b), 'Base.1.22.ActionParameterUnknown', 'an unknown parameter: ActionParameterUnknown');
($st) = req('POST', "$ZONE/Actions/Zone.Explode", token => $tok{admin}, json => {});
is($st, 404, 'an action a zone does not have: 404');
($st) = req('POST', "$U/Fabrics/PCIe/Zones/blade9/Actions/Zone.AddEndpoint", token => $tok{admin}, json => $EP);
is($st, 404, 'a zone that does not exist: 404');

# --- the migrate action's parameters, the TaskService -------------------------------------------
my $MIG = "$U/Systems/blade1/Actions/Oem/CmcVm.Migrate";
($st, $h, $b) = req('GET', "$U/Systems/blade1", token => $tok{reader});
is($b->{Actions}{Oem}{'#CmcVm.Migrate'}{target}, '/redfish/v1/Systems/blade1/Actions/Oem/CmcVm.Migrate',
   'a blade names its CmcVm.Migrate action (Actions.Oem)');
is_deeply($b->{Actions}{Oem}{'#CmcVm.Migrate'}{'TargetBlade@Redfish.AllowableValues'}, ['blade2'],
	  '... and the blades a VM on it may go to');
($st, $h, $b) = req('POST', $MIG, token => $tok{oper}, json => {});
is($st, 400, 'no parameters: 400');
is_deeply([sort map { $_->{MessageId} . ' ' . $_->{MessageArgs}[1] } msgs($b)],
	  ['Base.1.22.ActionParameterMissing TargetBlade', 'Base.1.22.ActionParameterMissing VM'],
	  '... ActionParameterMissing for VM and for TargetBlade');
($st, $h, $b) = req('POST', $MIG, token => $tok{oper}, json => { VM => 'vm1', TargetBlade => 2 });
is(msgid($b), 'Base.1.22.ActionParameterValueTypeError', 'a number for TargetBlade: ActionParameterValueTypeError');
is_deeply((msgs($b))[0]{RelatedProperties}, ['#/TargetBlade'], '... about TargetBlade');
($st, $h, $b) = req('POST', $MIG, token => $tok{oper}, json => { VM => ['vm1'], TargetBlade => 'blade2' });
is(msgid($b), 'Base.1.22.ActionParameterValueTypeError', 'a list for VM: ActionParameterValueTypeError');
($st, $h, $b) = req('POST', $MIG, token => $tok{oper}, json => { VM => 'vm1', TargetBlade => 'blade2', BandwidthMbps => 'fast' });
is(msgid($b), 'Base.1.22.ActionParameterValueTypeError', 'a string for BandwidthMbps: ActionParameterValueTypeError');
($st, $h, $b) = req('POST', $MIG, token => $tok{oper}, json => { VM => 'vm1', TargetBlade => 'blade2', BandwidthMbps => 0 });
is(msgid($b), 'Base.1.22.ActionParameterValueOutOfRange', 'BandwidthMbps 0: ActionParameterValueOutOfRange');
($st, $h, $b) = req('POST', $MIG, token => $tok{oper}, json => { VM => 'vm1', TargetBlade => 'blade2', Live => 1 });
is(msgid($b), 'Base.1.22.ActionParameterUnknown', 'an unknown parameter: ActionParameterUnknown');
is_deeply((msgs($b))[0]{MessageArgs}, ['Oem/CmcVm.Migrate', 'Live'], '... by name');
($st, $h, $b) = req('POST', $MIG, token => $tok{oper}, json => { VM => 'vm1', TargetBlade => 'blade9', BandwidthMbps => 50 });
is($st, 503, 'well-formed: it reaches cmcctl migrate\'s checks (503: no VMs without blades)');
is((msgs($b))[0]{Message}, 'VMs are not available', "... with cmcctl's reason");
($st) = req('POST', "$U/Systems/blade9/Actions/Oem/CmcVm.Migrate", token => $tok{admin}, json => { VM => 'vm1', TargetBlade => 'blade2' });
is($st, 404, 'on a system that does not exist: 404');
($st) = req('POST', "$U/Systems/blade1/Actions/Oem/CmcVm.Explode", token => $tok{admin}, json => {});
is($st, 404, 'an action a system does not have: 404');
($st, $h, $b) = req('GET', "$U/", token => $tok{reader});
is($b->{Tasks}{'@odata.id'}, '/redfish/v1/TaskService', 'the service root links the TaskService');
($st, $h, $b) = req('GET', "$U/TaskService", token => $tok{reader});
is($b->{'@odata.type'}, '#TaskService.v1_3_0.TaskService', 'TaskService');
($st, $h, $b) = req('GET', "$U/TaskService/Tasks", token => $tok{reader});
is($b->{'Members@odata.count'}, 0, '... no task: nothing was accepted');
($st) = req('GET', "$U/TaskService/TaskMonitors/1", token => $tok{reader});
is($st, 404, '... and no task monitor');

# --- the audit log ----------------------------------------------------------------------------
my $a = audit_json();
my @acct = grep { $_->{what} =~ /^account add oper role Operator hash \(hidden\)$/ } @$a;
is(scalar @acct, 1, 'cmcctl account add is audited, the hash hidden');
like($acct[0]{who} // '', qr/^uid $> \(/, '... with the unix user (SO_PEERCRED)');
is($acct[0]{from}, 'unix socket', '... from the unix socket');
ok($acct[0]{ok}, '... made');
my @ro = grep { $_->{who} eq 'reader' && $_->{outcome} =~ /^403 / } @$a;
is(scalar @ro, scalar @writes, "each of the reader's refused writes is audited");
is($ro[0]{from}, 'redfish 127.0.0.1', '... with the source address');
like($ro[0]{what}, qr/Zone\.AddEndpoint: needs ConfigureComponents/, '... what was asked and the privilege it needs');
ok((grep { $_->{who} eq 'oper' && $_->{what} =~ /assign slot 1 pf 0 vf 1 to blade1/ && $_->{outcome} =~ /^503 blades are not available/ } @$a),
   "an operator's assign is audited with cmcctl's words and its refusal");
ok((grep { $_->{what} =~ /stale If-Match/ && $_->{outcome} =~ /^412/ } @$a), 'a stale If-Match is audited');
ok(!(grep { $_->{what} =~ /^(accounts|audit|version)/ } @$a), 'reads are not audited');
my ($rc, $out) = sh("$CMCCTL audit");
like($out, qr/^ID\s+TIME\s+WHO\s+FROM\s+OK\s+WHAT\s+OUTCOME/m, 'cmcctl audit: a table');
($st, $h, $b) = req('GET', "$U/Managers/cmc/LogServices/Audit/Entries", token => $tok{reader});
is($st, 200, 'the LogService reads (Login)');
is($b->{'Members@odata.count'}, scalar @$a, '... every entry');
my ($last) = grep { $_->{Id} eq $a->[-1]{id} } @{ $b->{Members} };
is($last->{Oem}{Cmc}{Who}, $a->[-1]{who}, '... each with who');
($st, $h, $b) = req('GET', "$U/Managers/cmc/LogServices/Audit/Entries/1", token => $tok{reader});
is($b->{'@odata.type'}, '#LogEntry.v1_21_0.LogEntry', 'one entry as a LogEntry');
my $count = @$a;

stop_daemon();
ok(start_daemon(), 'cmcd restarts');
$a = audit_json();
is(scalar @$a, $count, 'the audit entries survive the restart');
my $t = login('oper', 'pass-of-oper');
req('PATCH', $NDF, token => $t, json => { Oem => { Cmc => { Trusted => JSON::PP::false } } });
$a = audit_json();
is($a->[-1]{id}, $count + 1, 'a new entry takes the next id');
like($a->[-1]{what}, qr/^PATCH .*pf0-vf1: set slot 1 pf 0 vf 1$/, '... what was asked');
ok(-s "$dir/state/audit.log", 'kept in audit.log beside the store');
stop_daemon();
done_testing();
