#!/usr/bin/perl
# The Redfish event service on the host, over libpci dumps (no QEMU): the EventService
# resource; the SSE stream (events with ids, OriginOfCondition, Last-Event-ID across a
# reconnect, $filter, keep-alives, login needed); push subscriptions (ConfigureManager
# only, delivered to a receiver on loopback, retried, a dead receiver slowing neither
# cmcctl nor the stream nor other subscribers, drops counted, kept across a restart,
# bounded in number); rf-check still finds 0 problems. Events are made with `cmcctl
# rescan` (a "rescan" event, and a "hotplug" one when the dump changed) and accounts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF pack_sockaddr_in inet_aton);
use HTTP::Tiny;
use POSIX ();
use Chassis;
use Host qw(sh slurp spew start_cmcd free_port redfish_conf rf_request sse_events);

my $B = Chassis::build_dir();
my ($CMCD, $CMCCTL, $GEN) = ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump");
my $TOOLS = "$FindBin::Bin/tools";
-x $_ or BAIL_OUT("$_ not built: run make") for $CMCD, $CMCCTL, $GEN;
my $PY = '/usr/bin/python3';
system("$PY -c 'import jsonschema' 2>/dev/null") == 0 && -x '/usr/bin/curl'
	or BAIL_OUT('needs python3-jsonschema and curl: scripts/setup-host');
my $dir = tempdir(CLEANUP => 1);
$ENV{CMC_SOCKET} = "$dir/run/cmcd.sock";
delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY)};


my ($PORT, $HPORT) = (free_port(), free_port());
my $URL = "http://127.0.0.1:$HPORT";
my $KEEPALIVE = 1;
redfish_conf($dir, $PORT, $HPORT, "event_keepalive = $KEEPALIVE; event_retry_attempts = 2; event_retry_interval = 1;");
system("$GEN -s 3 -e 3 -v 2 -o $dir/three.dump") == 0 or BAIL_OUT('mp-gendump failed');
system("$GEN -s 3 -e 2,3 -v 2 -o $dir/pulled.dump") == 0 or BAIL_OUT('mp-gendump failed');
system("cp $dir/three.dump $dir/live.dump") == 0 or die;

my (@kids, $pid);
sub start_daemon {
	my $ok;
	($pid, $ok) = start_cmcd(cmcd => $CMCD, cmcctl => $CMCCTL, conf => "$dir/rf.conf", dump => "$dir/live.dump",
				 socket => "$dir/run/cmcd.sock", log => "$dir/cmcd.log", timeout => 15);
	return $ok;
}
sub stop_daemon { kill('TERM', $pid); waitpid($pid, 0); my $st = $?; undef $pid; $st }
# A background process (its pid kept to be ended at the end).
sub spawn { my $k = fork() // die; if (!$k) { exec(@_) or POSIX::_exit(127) } push @kids, $k; $k }
END { kill('KILL', $pid) if $pid; kill('TERM', @kids) if @kids }

my $http = HTTP::Tiny->new(timeout => 10);
sub req { my ($method, $path, %o) = @_; rf_request($http, $method, "$URL$path", %o) }
sub msgid { my ($body) = @_; ref $body eq 'HASH' ? ($body->{error}{'@Message.ExtendedInfo'}[0]{MessageId} // '') : '' }
sub login {
	my ($user, $pass) = @_;
	my ($st, $h) = req('POST', '/redfish/v1/SessionService/Sessions', json => { UserName => $user, Password => $pass });
	return $h->{'x-auth-token'};
}

# An SSE stream read by curl into a file: (pid, file). query: the URL's query string.
my $nstream = 0;
sub stream {
	my ($token, %o) = @_;
	my $f = "$dir/sse" . ++$nstream;
	my @h = ('-H', "X-Auth-Token: $token");
	push @h, '-H', "Last-Event-ID: $o{last}" if defined $o{last};
	my $q = defined $o{filter} ? '?$filter=' . uri_escape($o{filter}) : '';
	my $k = fork() // die;
	if (!$k) {
		open(STDOUT, '>', $f) or die;
		open(STDERR, '>', "$f.err") or die;
		exec('curl', '-sN', '--no-buffer', @h, "$URL/redfish/v1/EventService/SSE$q") or POSIX::_exit(127);
	}
	push @kids, $k;
	# open once its first comment arrived
	my $end = time + 5;
	sleep 0.02 until -s $f || time > $end;
	return ($k, $f);
}
sub uri_escape { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }
# The events in a stream's file so far: a list of { id, event (the decoded Event) }.
sub events_in { sse_events(slurp($_[0])) }
sub wait_for { my ($cond, $secs) = @_; my $end = time + ($secs // 10); until ($cond->()) { return 0 if time > $end; sleep 0.05 } 1 }
sub rec { $_[0]{event}{Events}[0] }

# A stream read while an event is still arriving: only the whole events count.
my @part = sse_events(qq(: stream open\n\nid: 7\ndata: {"Events":[{"EventId":"7"}]}\n\nid: 8\ndata: {"Events":[{"Ev));
is_deeply([map { $_->{id} } @part], [7], 'sse_events: the whole event, not the half-read one after it');
is(scalar(sse_events('id: 1')), 0, 'sse_events: nothing whole yet, no event');

ok(start_daemon(), 'cmcd starts with a redfish group');
is((sh("printf 'secret-pass-1\\n' | $CMCCTL account add admin role Administrator"))[0], 0, 'an Administrator');
is((sh("printf 'reader-pass-1\\n' | $CMCCTL account add reader role ReadOnly"))[0], 0, 'a ReadOnly account');
my $tok = login('admin', 'secret-pass-1');
my $rtok = login('reader', 'reader-pass-1');
ok($tok && $rtok, 'both log in');

# --- the resource --------------------------------------------------------------------------
my ($st, $h, $body) = req('GET', '/redfish/v1/', token => $tok);
is($body->{EventService}{'@odata.id'}, '/redfish/v1/EventService', 'the ServiceRoot links the EventService');
($st, $h, $body) = req('GET', '/redfish/v1/EventService', token => $rtok);
is($st, 200, 'GET EventService (ReadOnly: Login is enough)');
is($body->{ServerSentEventUri}, '/redfish/v1/EventService/SSE', 'ServerSentEventUri');
is_deeply($body->{RegistryPrefixes}, ['ResourceEvent', 'TaskEvent'], 'the registries it uses');
ok($body->{SSEFilterPropertiesSupported}{MessageId} && $body->{SSEFilterPropertiesSupported}{OriginResource},
	'SSEFilterPropertiesSupported: MessageId and OriginResource');
is($body->{DeliveryRetryAttempts}, 2, 'DeliveryRetryAttempts from the configuration');
($st) = req('GET', '/redfish/v1/EventService/SSE');
is($st, 401, 'the stream needs a login');
($st, $h, $body) = req('GET', '/redfish/v1/EventService/SSE?$filter=' . uri_escape("Colour eq 'red'"), token => $tok);
is($st, 400, 'a $filter on an unknown property: 400');
is(msgid($body), 'Base.1.22.QueryParameterValueFormatError', '... QueryParameterValueFormatError');
($st) = req('GET', '/redfish/v1/EventService/SSE?$filter=' . uri_escape("MessageId eq 'x' and ("), token => $tok);
is($st, 400, 'an unbalanced $filter: 400');

# --- SSE: ids, origins, filters ----------------------------------------------------------------
my $SLOT2 = '/redfish/v1/Chassis/enc1/PCIeDevices/slot2';
my ($pa, $fa) = stream($rtok);
my ($pb, $fb) = stream($tok, filter => "OriginResource eq '$SLOT2'");
my ($pc, $fc) = stream($tok, filter => "MessageId eq 'ResourceEvent.ResourceRemoved' or MessageId eq 'ResourceEvent.1.4.ResourceCreated'");
my ($pd, $fd) = stream($tok, filter => "RegistryPrefix eq 'ResourceEvent' and not (ResourceType eq 'PCIeDevice')");
like(slurp($fa), qr/^: /, 'a stream opens with a comment at once (ReadOnly may stream)');
system("cp $dir/pulled.dump $dir/live.dump") == 0 or die;
is((sh("$CMCCTL rescan"))[0], 0, 'the card in slot 2 is pulled (rescan)');
ok(wait_for(sub { my @e = events_in($fa); grep { rec($_)->{Oem}{Cmc}{Kind} eq 'rescan' } @e }), 'the stream gets the rescan event');
my @a = events_in($fa);
my ($gone) = grep { rec($_)->{Oem}{Cmc}{Kind} eq 'hotplug' } @a;
ok($gone, 'and the hot-plug event') or diag(slurp($fa));
is(rec($gone)->{MessageId}, 'ResourceEvent.1.4.ResourceRemoved', '... as ResourceEvent ResourceRemoved');
is(rec($gone)->{OriginOfCondition}{'@odata.id'}, $SLOT2, '... OriginOfCondition the slot\'s PCIeDevice');
is(rec($gone)->{EventType}, 'ResourceRemoved', '... EventType ResourceRemoved');
like(rec($gone)->{Oem}{Cmc}{Detail}, qr/card .* removed/, "... with cmcd's own line");
my @ids = map { $_->{id} } @a;
is_deeply(\@ids, [sort { $a <=> $b } @ids], 'ids increase') ;
is($_->{event}{Id}, $_->{id}, "the Event's Id is its SSE id ($_->{id})") for @a[0 .. 0];
# each filtered stream: only what its filter takes
ok(wait_for(sub { scalar(events_in($fb)) >= 1 }, 3), 'OriginResource filter: the slot 2 stream has its event');
is_deeply([map { rec($_)->{OriginOfCondition}{'@odata.id'} } events_in($fb)], [$SLOT2], '... and only that');
is_deeply([map { rec($_)->{MessageId} } events_in($fc)], ['ResourceEvent.1.4.ResourceRemoved'],
	'MessageId filter (with and without a version, or): only ResourceRemoved');
is_deeply([map { rec($_)->{Oem}{Cmc}{Kind} } events_in($fd)], ['rescan'],
	'RegistryPrefix and not ResourceType: the rescan (the enclosure), not the slot');

# --- keep-alives ---------------------------------------------------------------------------------
my $before = () = slurp($fa) =~ /^: keep-alive$/mg;
sleep($KEEPALIVE * 2.5);
my $after = () = slurp($fa) =~ /^: keep-alive$/mg;
ok($after - $before >= 2, "keep-alive comments in $KEEPALIVE s of silence each (" . ($after - $before) . " in 2.5 intervals)");

# --- Last-Event-ID across a reconnect ------------------------------------------------------------
my $last = (events_in($fa))[-1]{id};
kill('TERM', $pa);
waitpid($pa, 0);
is((sh("printf 'other-pass-1\\n' | $CMCCTL account add other role Operator"))[0], 0, 'an event while the client is away (account added)');
is((sh("$CMCCTL rescan"))[0], 0, 'and another (rescan)');
wait_for(sub { (sh("$CMCCTL events"))[1] =~ /rescan.*\n.*rescan.*\n(.|\n)*account.*other.*\n.*rescan/ }, 5);
sleep 0.3;
my ($pa2, $fa2) = stream($rtok, last => $last);
ok(wait_for(sub { scalar(events_in($fa2)) >= 2 }, 5), 'reconnected with Last-Event-ID');
my @missed = events_in($fa2);
is(scalar(@missed), 2, 'exactly the two missed events are replayed') or diag(slurp($fa2));
is($missed[0]{id}, $last + 1, '... from the one after Last-Event-ID');
is(rec($missed[0])->{OriginOfCondition}{'@odata.id'}, '/redfish/v1/AccountService/Accounts/other', '... the account first');
is(rec($missed[0])->{MessageId}, 'ResourceEvent.1.4.ResourceCreated', '... ResourceCreated');
my ($pe, $fe) = stream($rtok, last => 0);
ok(wait_for(sub { scalar(events_in($fe)) >= 6 }, 5), 'Last-Event-ID 0: the whole history (' . scalar(events_in($fe)) . ' events)');

# --- a client that does not read is dropped; the others go on -------------------------------------
socket(my $slow, PF_INET, SOCK_STREAM, 0) or die;
setsockopt($slow, SOL_SOCKET, SO_RCVBUF, 4096) or die;
connect($slow, pack_sockaddr_in($HPORT, inet_aton('127.0.0.1'))) or die;
syswrite($slow, "GET /redfish/v1/EventService/SSE HTTP/1.1\r\nHost: x\r\nX-Auth-Token: $tok\r\n\r\n");
sleep 0.2;
my ($rescans, $dropped, $slowest) = (0, 0, 0);
my $t_end = time + 60;
while (time < $t_end) {
	my $t = time;
	sh("$CMCCTL rescan");
	$slowest = time - $t if time - $t > $slowest;
	$rescans++;
	next if $rescans % 20;
	(undef, undef, $body) = req('GET', '/redfish/v1/EventService', token => $tok);
	last if ($dropped = $body->{Oem}{Cmc}{StreamsDropped});
}
is($dropped, 1, "a stream whose client reads nothing is dropped once its buffers are full ($rescans rescans)");
ok($slowest < 0.5, sprintf('cmcctl was never held up meanwhile (slowest rescan command %.3f s)', $slowest));
like(slurp("$dir/cmcd.log"), qr/SSE stream of 'admin' dropped: it does not read/, '... and the log says so');
my $last_rescan = (grep { rec($_)->{Oem}{Cmc}{Kind} eq 'rescan' } events_in($fe))[-1];
sh("$CMCCTL rescan");
ok(wait_for(sub { (grep { rec($_)->{Oem}{Cmc}{Kind} eq 'rescan' } events_in($fe))[-1]{id} > $last_rescan->{id} }, 3),
	'a reading stream still gets every new event');
my $eof = 0;
$t_end = time + 5;
while (time < $t_end) { my $n = sysread($slow, my $junk, 65536); if (defined $n && $n == 0) { $eof = 1; last } }
ok($eof, 'the dropped client\'s connection is closed by cmcd');
close $slow;
(undef, undef, $body) = req('GET', '/redfish/v1/EventService', token => $tok);
my $kept = $body->{Oem}{Cmc}{HistoryEvents};
my ($pf, $ff) = stream($tok, last => 0);
ok(wait_for(sub { scalar(events_in($ff)) >= $kept }, 10) && -s $ff > 65536, "Last-Event-ID 0 with a long history: all $kept retained events ("
	. int((-s $ff) / 1024) . ' KiB, more than a stream may hold waiting: sent as the client reads)');
($st, $h, $body) = req('GET', '/redfish/v1/EventService', token => $tok);
is($body->{Oem}{Cmc}{StreamsDropped}, 1, '... and that stream is not dropped');
kill('TERM', $pf);

# --- a stream ends with its session, or its account -------------------------------------------------
sub ended { my ($k, $secs) = @_; wait_for(sub { waitpid($k, POSIX::WNOHANG()) == $k }, $secs) }
my ($sst, $sh) = req('POST', '/redfish/v1/SessionService/Sessions', json => { UserName => 'reader', Password => 'reader-pass-1' });
my ($pg, $fg) = stream($sh->{'x-auth-token'});
sleep($KEEPALIVE * 1.5);
ok(waitpid($pg, POSIX::WNOHANG()) == 0, 'a stream stays open while its session lives');
($st) = req('DELETE', $sh->{location}, token => $tok);
is($st, 200, 'its session is deleted');
ok(ended($pg, $KEEPALIVE * 2 + 2), "the stream ends within a keep-alive interval");
is((sh("printf 'gone-pass-1\\n' | $CMCCTL account add gone role ReadOnly"))[0], 0, 'an account');
my ($ph, $fh) = stream(login('gone', 'gone-pass-1'));
is((sh("$CMCCTL account del gone"))[0], 0, 'its stream open, it is deleted');
ok(ended($ph, $KEEPALIVE * 2 + 2), 'the stream ends too');
like(slurp("$dir/cmcd.log"), qr/SSE stream of 'gone' ended: its session or account is gone/, '... and the log says why');

# --- push subscriptions ----------------------------------------------------------------------------
my ($RP, $DEADP, $FLAKYP, $REFUSEDP) = (free_port(), free_port(), free_port(), free_port());
spawn($PY, "$TOOLS/rf-receiver", $RP, "$dir/recv.out");
spawn($PY, "$TOOLS/rf-receiver", $DEADP, "$dir/dead.out", '--hang');
spawn($PY, "$TOOLS/rf-receiver", $FLAKYP, "$dir/flaky.out", '--fail', 2);
wait_for(sub { IO::Socket::INET->new("127.0.0.1:$RP") && IO::Socket::INET->new("127.0.0.1:$FLAKYP") }, 5);
my $sub = { Destination => "http://127.0.0.1:$RP/events", Protocol => 'Redfish', Context => 'fleet tool 1',
	    RegistryPrefixes => ['ResourceEvent'] };
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $rtok, json => $sub);
is($st, 403, 'ReadOnly cannot create a subscription');
is(msgid($body), 'Base.1.22.InsufficientPrivilege', '... InsufficientPrivilege');
my $otok = login('other', 'other-pass-1');
($st) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $otok, json => $sub);
is($st, 403, 'nor can an Operator (ConfigureManager is the Administrator\'s)');
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok, json => { %$sub, Colour => 'red' });
is(msgid($body), 'Base.1.22.PropertyUnknown', 'an unknown property: PropertyUnknown');
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok, json => { Protocol => 'Redfish' });
is(msgid($body), 'Base.1.22.PropertyMissing', 'no Destination: PropertyMissing');
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok, json => { %$sub, Protocol => 'SNMPv2c' });
is(msgid($body), 'Base.1.22.PropertyValueNotInList', 'a protocol other than Redfish: PropertyValueNotInList');
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok, json => $sub);
is($st, 201, 'an Administrator creates one: 201');
my $loc = $h->{location};
like($loc // '', qr{^/redfish/v1/EventService/Subscriptions/\d+$}, '... with a Location');
is($body->{Context}, 'fleet tool 1', '... which reads back');
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok,
		   json => { Destination => "http://127.0.0.1:$DEADP/", Protocol => 'Redfish' });
my $dead = $h->{location};
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok,
		   json => { Destination => "http://127.0.0.1:$FLAKYP/", Protocol => 'Redfish', MessageIds => ['ResourceEvent.ResourceCreated'] });
my $flaky = $h->{location};
($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok,
		   json => { Destination => "http://127.0.0.1:$REFUSEDP/", Protocol => 'Redfish' });
my $refused = $h->{location};
ok($dead && $flaky && $refused, 'three more: a receiver that hangs, one that fails twice, one refused');

# An event while the dead receiver holds its POST: cmcctl, the stream and the live
# receiver are not held up by it.
my $t0 = time;
is((sh("$CMCCTL rescan"))[0], 0, 'an event (rescan)');
my $sse_n = scalar(events_in($fe));
ok(wait_for(sub { slurp("$dir/recv.out") =~ /^\{.*\n/m }, 3), 'the live receiver gets it');	# a whole line
my $recv_dt = time - $t0;
my ($ev1) = map { decode_json($_) } grep { /^\{/ } split /\n/, slurp("$dir/recv.out");
is($ev1->{Context}, 'fleet tool 1', '... with its Context');
is($ev1->{Events}[0]{MessageId}, 'ResourceEvent.1.4.ResourceChanged', '... a ResourceEvent');
ok(wait_for(sub { slurp("$dir/dead.out") =~ /CONNECTED/ }, 3), 'the dead receiver got a connection and holds it');
my $worst = 0;
for (1 .. 10) {
	my $t = time;
	sh("$CMCCTL version");
	$worst = time - $t if time - $t > $worst;
}
ok($worst < 0.5, sprintf('cmcctl answers while the dead receiver hangs (slowest of 10: %.3f s)', $worst));
$t0 = time;
sh("printf 'fourth-pass-1\\n' | $CMCCTL account add fourth role ReadOnly");
ok(wait_for(sub { scalar(events_in($fe)) > $sse_n + 1 }, 2), sprintf('the SSE stream gets the next event at once (%.3f s)', time - $t0));
ok(wait_for(sub { () = slurp("$dir/recv.out") =~ /Accounts\/fourth/ }, 2),
	sprintf('and so does the live receiver (%.3f s; the first took %.3f s)', time - $t0, $recv_dt));
# Retries: the flaky receiver fails twice, then takes the event (1 s, then 2 s later).
ok(wait_for(sub { slurp("$dir/flaky.out") =~ /Accounts\/fourth/ }, 8), 'the receiver that failed twice gets it on the third try');
is(() = slurp("$dir/flaky.out") =~ /^FAILED/mg, 2, '... after two failures');
($st, $h, $body) = req('GET', $flaky, token => $tok);
is($body->{Oem}{Cmc}{Retries}, 2, '... two retries counted');
is($body->{Oem}{Cmc}{EventsDelivered}, 1, '... one event delivered (its filter: ResourceCreated only)');
ok(wait_for(sub { (req('GET', $refused, token => $tok))[2]{Oem}{Cmc}{EventsDropped} >= 1 }, 10),
	'the refused destination: its events dropped after the retries, counted');
($st, $h, $body) = req('GET', $refused, token => $tok);
like($body->{Oem}{Cmc}{LastError}, qr/connect/i, "... with the reason ($body->{Oem}{Cmc}{LastError})");
is($body->{Status}{Health}, 'Warning', '... and Health Warning');
($st, $h, $body) = req('GET', '/redfish/v1/EventService', token => $tok);
ok($body->{Oem}{Cmc}{SubscriberEventsDropped} >= 1, 'EventService counts the drops');

# --- rf-check, restart, delete, the limit --------------------------------------------------------
my ($rc, $out) = sh("$PY $TOOLS/rf-check -u admin -p secret-pass-1 --session $URL");
is($rc, 0, 'rf-check: 0 problems with the EventService and subscriptions') or diag($out);
($st, $h, $body) = req('GET', '/redfish/v1/EventService/Subscriptions', token => $tok);
is($body->{'Members@odata.count'}, 4, 'four subscriptions');
kill('TERM', $_) for $pb, $pc, $pd, $pa2, $pe;
is(stop_daemon(), 0, 'cmcd stops cleanly with streams open and a POST hanging');
ok(start_daemon(), 'and starts again');
$tok = login('admin', 'secret-pass-1');
($st, $h, $body) = req('GET', '/redfish/v1/EventService/Subscriptions', token => $tok);
is($body->{'Members@odata.count'}, 4, 'the four subscriptions survive the restart');
($st, $h, $body) = req('GET', $loc, token => $tok);
is($body->{Destination}, "http://127.0.0.1:$RP/events", '... with their destination');
is($body->{Context}, 'fleet tool 1', '... and Context (spaces and all)');
is_deeply($body->{RegistryPrefixes}, ['ResourceEvent'], '... and filters');
my $n_before = () = slurp("$dir/recv.out") =~ /^\{/mg;
sh("$CMCCTL rescan");
ok(wait_for(sub { my $n = () = slurp("$dir/recv.out") =~ /^\{/mg; $n > $n_before }, 3), 'and are delivered to after it');
$rtok = login('reader', 'reader-pass-1');
($st) = req('DELETE', $loc, token => $rtok);
is($st, 403, 'ReadOnly cannot delete a subscription');
($st) = req('DELETE', $loc, token => $tok);
is($st, 200, 'an Administrator can');
($st) = req('GET', $loc, token => $tok);
is($st, 404, 'it is gone');
req('DELETE', $_, token => $tok) for $dead, $flaky, $refused;
my $made = 0;
for (1 .. 20) {
	($st, $h, $body) = req('POST', '/redfish/v1/EventService/Subscriptions', token => $tok,
			   json => { Destination => "http://127.0.0.1:$REFUSEDP/$_", Protocol => 'Redfish' });
	last if $st != 201;
	$made++;
}
is($made, 16, 'at most 16 subscriptions');
is(msgid($body), 'Base.1.22.EventSubscriptionLimitExceeded', '... then EventSubscriptionLimitExceeded');
is(stop_daemon(), 0, 'stops cleanly');

done_testing();
