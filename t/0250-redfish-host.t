#!/usr/bin/perl
# cmcd's Redfish service on the host, over libpci dumps (no QEMU): the certificate it
# makes and keeps, accounts (root only), the public and protected resources, Basic only
# over TLS, sessions, failed-login limits, error bodies and codes (401 403 404 405 412
# 413 415 400), ETags; rf-check (the DMTF schemas) on a 3-slot and a 64-slot dump;
# redfishtool and python3-sushy as real clients; a card pulled disappears at once;
# 64 slowloris clients and a thousand sessions while others are still served.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use IO::Socket::SSL;
use HTTP::Tiny;
use POSIX ();
use Chassis;
use Host qw(sh slurp spew start_cmcd free_port redfish_conf rf_request);

my $B = Chassis::build_dir();
my ($CMCD, $CMCCTL, $GEN) = ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump");
my $TOOLS = "$FindBin::Bin/tools";
-x $_ or BAIL_OUT("$_ not built: run make") for $CMCD, $CMCCTL, $GEN;
my $PY = '/usr/bin/python3';
system("$PY -c 'import jsonschema, sushy' 2>/dev/null") == 0 && -x '/usr/bin/redfishtool'
	or BAIL_OUT('needs python3-jsonschema, python3-sushy and redfishtool: scripts/setup-host');
my $dir = tempdir(CLEANUP => 1);
$ENV{CMC_SOCKET} = "$dir/run/cmcd.sock";
delete @ENV{qw(REQUESTS_CA_BUNDLE CURL_CA_BUNDLE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY)};


my ($PORT, $HPORT) = (free_port(), free_port());
my $TLS = "https://127.0.0.1:$PORT";
my $PLAIN = "http://127.0.0.1:$HPORT";
redfish_conf($dir, $PORT, $HPORT, 'session_timeout = 60;');
system("$GEN -s 3 -e 3 -v 2 -o $dir/three.dump") == 0 or BAIL_OUT('mp-gendump failed');
system("$GEN -s 3 -e 2,3 -v 2 -o $dir/pulled.dump") == 0 or BAIL_OUT('mp-gendump failed');
system("$GEN -s 64 -v 7 -o $dir/big.dump") == 0 or BAIL_OUT('mp-gendump failed');
system("cp $dir/three.dump $dir/live.dump") == 0 or die;

my $pid;
sub start_daemon {
	my ($dump, $ok) = @_;
	($pid, $ok) = start_cmcd(cmcd => $CMCD, cmcctl => $CMCCTL, conf => "$dir/rf.conf", dump => $dump,
				 socket => "$dir/run/cmcd.sock", log => "$dir/cmcd.log", timeout => 15);
	return $ok;
}
sub stop_daemon { kill('TERM', $pid); waitpid($pid, 0); my $st = $?; undef $pid; $st }
END { kill('KILL', $pid) if $pid }

my $http = HTTP::Tiny->new(verify_SSL => 0, timeout => 10, keep_alive => 1);
# One request: (status, headers, decoded JSON or raw text).
sub req { rf_request($http, @_) }
sub msgid { my ($b) = @_; ref $b eq 'HASH' ? ($b->{error}{'@Message.ExtendedInfo'}[0]{MessageId} // '') : '' }
sub login {
	my ($user, $pass, $base) = @_;
	my ($st, $h) = req('POST', ($base // $TLS) . '/redfish/v1/SessionService/Sessions',
			   json => { UserName => $user, Password => $pass });
	return ($st, $h->{'x-auth-token'}, $h->{location});
}
sub add_account {
	my ($name, $role, $pass) = @_;
	return sh("printf '%s\\n' '$pass' | $CMCCTL account add $name role $role");
}

# --- start: the self-signed certificate -------------------------------------------------
ok(start_daemon("$dir/live.dump"), 'cmcd starts with a redfish group');
ok(-s "$dir/state/redfish-cert.pem" && -s "$dir/state/redfish-key.pem", 'a self-signed pair is made beside the store');
is(sprintf('%o', (stat "$dir/state/redfish-key.pem")[2] & 07777), '600', 'the key is 0600');
my $cert = slurp("$dir/state/redfish-cert.pem");
my ($rc, $out) = sh("openssl x509 -noout -subject -ext subjectAltName -in $dir/state/redfish-cert.pem");
like($out, qr/CN\s*=\s*enc1/, 'the certificate names the chassis') if -x '/usr/bin/openssl';

# --- accounts --------------------------------------------------------------------------------
my ($st, $h, $b) = login('admin', 'secret-pass-1');
is($st, 401, 'no account exists before an administrator adds one');
($rc, $out) = add_account('admin', 'Administrator', 'secret-pass-1');
is($rc, 0, 'cmcctl account add (password on stdin)') or diag($out);
is((add_account('reader', 'ReadOnly', 'reader-pass-1'))[0], 0, 'a ReadOnly account');
is((add_account('victim', 'Operator', 'victim-pass-1'))[0], 0, 'an Operator account');
($rc, $out) = add_account('x', 'God', 'whatever-123');
is($rc, 2, 'an unknown role: usage');
($rc, $out) = add_account('short', 'ReadOnly', 'abc');
is($rc, 1, 'a password under 8 characters is refused');
($rc, $out) = sh("$CMCCTL accounts");
like($out, qr/admin\s+Administrator.*reader\s+ReadOnly/s, 'cmcctl accounts lists them');
unlike(slurp("$dir/state/store"), qr/secret-pass-1/, 'the store holds no password');
like(slurp("$dir/state/store"), qr/account\/admin.*hash=\$y\$/s, 'the store holds a yescrypt hash');
SKIP: {
	skip 'needs root and setpriv', 1 unless $> == 0 && -x '/usr/bin/setpriv';
	chmod 0711, $dir;
	chmod 0777, "$dir/run", "$dir/run/cmcd.sock";
	($rc, $out) = sh("printf 'pass-word-9\\n' | setpriv --reuid=65534 --regid=65534 --clear-groups $CMCCTL account add intruder role Administrator");
	like($out, qr/root only/, 'another user cannot add an account (SO_PEERCRED)');
	chmod 0755, "$dir/run";
	chmod 0660, "$dir/run/cmcd.sock";
	chmod 0700, $dir;
}

# --- public and protected resources -----------------------------------------------------------
for my $p ('/redfish', '/redfish/v1/', '/redfish/v1', '/redfish/v1/odata') {
	($st, $h, $b) = req('GET', "$TLS$p");
	is($st, 200, "GET $p without credentials: 200");
}
($st, $h, $b) = req('GET', "$TLS/redfish/v1/\$metadata");
ok($st == 200 && $h->{'content-type'} =~ /xml/ && $b =~ /CmcOem/, '$metadata: CSDL, public, references the Oem CSDL');
($st, $h, $b) = req('GET', "$TLS/redfish/v1/");
is($h->{'odata-version'}, '4.0', 'OData-Version header');
ok($h->{etag}, 'an ETag');
($st, $h, $b) = req('GET', "$TLS/redfish/v1/Chassis");
is($st, 401, 'a protected resource without credentials: 401');
is(msgid($b), 'Base.1.22.NoValidSession', '... with a Base registry message');
like($h->{'www-authenticate'} // '', qr/Basic/, '... and WWW-Authenticate');
($st, $h, $b) = req('GET', "$PLAIN/redfish/v1/Chassis", user => 'admin', pass => 'secret-pass-1');
is($st, 401, 'Basic over plain HTTP: refused');
like($b->{error}{message} // '', qr/HTTPS only/, '... and said why');
($st, $h, $b) = req('GET', "$TLS/redfish/v1/Chassis", user => 'admin', pass => 'secret-pass-1');
is($st, 200, 'Basic over TLS: 200');
is($b->{'Members@odata.count'}, 3, 'the enclosure and two blades');
($st) = req('GET', "$TLS/redfish/v1/Chassis", user => 'admin', pass => 'wrong-pass');
is($st, 401, 'Basic with a wrong password: 401');

# --- sessions ----------------------------------------------------------------------------------
my ($tok, $loc);
($st, $tok, $loc) = login('admin', 'secret-pass-1');
is($st, 201, 'POST Sessions: 201');
ok($tok && length($tok) >= 32, 'X-Auth-Token');
like($loc // '', qr{^/redfish/v1/SessionService/Sessions/\w+$}, 'Location');
($st, $h, $b) = req('GET', "$TLS$loc", token => $tok);
is($b->{UserName}, 'admin', 'the session reads back');
($st, $h, $b) = req('GET', "$PLAIN/redfish/v1/Systems", token => $tok);
is($st, 200, 'a session token works over plain HTTP on loopback');
my ($pst, $ptok) = login('admin', 'secret-pass-1', $PLAIN);
is($pst, 201, 'a session login over plain HTTP on loopback');
($st) = req('DELETE', "$TLS$loc", token => $tok, headers => { 'If-Match' => '"0000000000000000"' });
is($st, 412, 'DELETE with a stale If-Match: 412');
($st, $h) = req('GET', "$TLS/redfish/v1/Systems", token => $tok);
my $etag = $h->{etag};
($st) = req('GET', "$TLS/redfish/v1/Systems", token => $tok, headers => { 'If-None-Match' => $etag });
is($st, 304, 'GET with a matching If-None-Match: 304');
my ($rst, $rtok, $rloc) = login('reader', 'reader-pass-1');
($st) = req('DELETE', "$TLS$loc", token => $rtok);
is($st, 403, "a ReadOnly account cannot end another's session");
($st) = req('GET', "$TLS/redfish/v1/AccountService/Accounts/admin", token => $rtok);
is($st, 403, "nor read another account");
($st, $h, $b) = req('GET', "$TLS/redfish/v1/AccountService/Accounts", token => $rtok);
is($b->{'Members@odata.count'}, 1, 'it lists only its own account');
($st) = req('DELETE', "$TLS$loc", token => $tok);
is($st, 200, 'DELETE the session: 200');
($st) = req('GET', "$TLS/redfish/v1/Systems", token => $tok);
is($st, 401, 'its token is refused afterwards');
req('DELETE', "$TLS$rloc", token => $rtok);
($st, $tok, $loc) = login('admin', 'secret-pass-1');

my ($vst, $vtok) = login('reader', 'reader-pass-1');
is((sh("$CMCCTL account del reader"))[0], 0, 'cmcctl account del');
($st) = req('GET', "$TLS/redfish/v1/Systems", token => $vtok);
is($st, 401, "a deleted account's session ends with it");
is((add_account('reader', 'ReadOnly', 'reader-pass-1'))[0], 0, 'the account back');

# --- errors ---------------------------------------------------------------------------------------
($st, $h, $b) = req('POST', "$TLS/redfish/v1/Chassis", token => $tok, json => {});
is($st, 405, 'POST on a collection that takes none: 405');
is($h->{allow}, 'GET, HEAD', '... with Allow');
is(msgid($b), 'Base.1.22.OperationNotAllowed', '... and a Base message');
($st, $h) = req('PATCH', "$TLS/redfish/v1/Systems/blade1", token => $tok, json => {});
is($st, 405, 'PATCH a system: 405 (read-only service)');
($st, $h, $b) = req('GET', "$TLS/redfish/v1/Systems/blade9", token => $tok);
is($st, 404, 'an unknown system: 404');
is(msgid($b), 'Base.1.22.ResourceNotFound', '... ResourceNotFound');
($st) = req('GET', "$TLS/redfish/v1/Systems/blade1%00x", token => $tok);
is($st, 404, 'a %00 in the URL does not cut it short (blade1%00x is no blade)');
($st) = req('GET', "$TLS/redfish/v1/Systems%2Fblade1", token => $tok);
is($st, 404, 'nor does a %2F add a segment');
($st) = req('GET', "$TLS/redfish/v1/Systems/blade%31", token => $tok);
is($st, 200, 'other escapes are decoded (blade%31 is blade1)');
($st, $h, $b) = req('POST', "$TLS/redfish/v1/SessionService/Sessions", json => '{"UserName": "admin", ');
is($st, 400, 'bad JSON: 400');
is(msgid($b), 'Base.1.22.MalformedJSON', '... MalformedJSON');
($st, $h, $b) = req('POST', "$TLS/redfish/v1/SessionService/Sessions", json => { UserName => 'admin' });
is(msgid($b), 'Base.1.22.PropertyMissing', 'no Password: PropertyMissing');
($st) = req('POST', "$TLS/redfish/v1/SessionService/Sessions", json => '{}', headers => { 'Content-Type' => 'text/plain' });
is($st, 415, 'a body that is not JSON: 415');
spew("$dir/big.json", '{"UserName": "' . ('x' x (1 << 20)) . '"}');
($rc, $out) = sh("curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary \@$dir/big.json $TLS/redfish/v1/SessionService/Sessions");
is($out, '413', 'a 1 MiB body: 413');
# A body announced as 100 MB: refused on its headers, before it is sent.
my $t0 = time;
my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$PORT", SSL_verify_mode => SSL_VERIFY_NONE) or die;
print $s "POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n";
my $first = <$s> // '';
like($first, qr/^HTTP\/1\.1 413/, 'a 100 MB Content-Length: 413 before the body');
ok(time - $t0 < 2, '... at once');
close $s;
# A chunked body that grows past the limit.
($rc, $out) = sh("head -c 200000 /dev/zero | tr '\\0' 'a' | curl -sk -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary \@- $TLS/redfish/v1/SessionService/Sessions");
is($out, '413', 'a chunked body past 64 KiB: 413');

# --- failed logins are limited per account and source -------------------------------------------
for (1 .. 4) { (login('victim', 'wrong-password')) }
($st) = login('victim', 'victim-pass-1');
is($st, 401, 'after 4 failures the right password is refused for a while (this account, this source)');
($st) = login('reader', 'reader-pass-1');
is($st, 201, 'another account from the same source is not');
like(slurp("$dir/cmcd.log"), qr/failed login for 'victim' from 127\.0\.0\.1/, 'failed logins are logged');

# --- real clients --------------------------------------------------------------------------------
($rc, $out) = sh("$PY $TOOLS/rf-check -u admin -p secret-pass-1 --session $TLS");
is($rc, 0, 'rf-check (session): 0 problems on the 3-slot dump') or diag($out);
($rc, $out) = sh("$PY $TOOLS/rf-check -u admin -p secret-pass-1 $TLS");
is($rc, 0, 'rf-check (Basic): 0 problems') or diag($out);
my @rt = ('redfishtool', '-r', "127.0.0.1:$PORT", '-u', 'admin', '-p', 'secret-pass-1', '-A', 'Session', '-S', 'Always');
($rc, $out) = sh(join(' ', @rt, 'Systems', 'list'));
ok($rc == 0 && $out =~ m{/redfish/v1/Systems/blade1} && $out =~ m{/redfish/v1/Systems/blade2}, 'redfishtool lists the systems') or diag($out);
($rc, $out) = sh(join(' ', @rt, 'Chassis', 'list'));
ok($rc == 0 && $out =~ m{/redfish/v1/Chassis/enc1}, 'redfishtool lists the chassis') or diag($out);
($rc, $out) = sh(join(' ', @rt, 'raw', 'GET', '/redfish/v1/Fabrics/PCIe/Zones'));
ok($rc == 0 && $out =~ m{/redfish/v1/Fabrics/PCIe/Zones/blade1}, 'redfishtool reads the fabric') or diag($out);
($rc, $out) = sh("$PY $TOOLS/rf-sushy $TLS admin secret-pass-1");
ok($rc == 0 && $out =~ /^system blade1/m && $out =~ /^function enc1 slot2 pf0-vf1 ([0-9a-f]{2}:){5}[0-9a-f]{2}$/m
	&& $out =~ /^logged out/m, 'sushy logs in, reads systems, NICs, adapters and functions, logs out') or diag($out);

# --- live state: a card pulled disappears at once ------------------------------------------------
($st, $h, $b) = req('GET', "$TLS/redfish/v1/Chassis/enc1/NetworkAdapters", token => $tok);
is($b->{'Members@odata.count'}, 2, 'two network adapters');
system("cp $dir/pulled.dump $dir/live.dump") == 0 or die;
is((sh("$CMCCTL rescan"))[0], 0, 'the card in slot 2 is pulled (rescan)');
# The tree holds nothing: the adapter is gone as soon as cmcd's inventory is rescanned
# (the scan may finish after `cmcctl rescan` returns).
my $gone = time + 10;
do { ($st, $h, $b) = req('GET', "$TLS/redfish/v1/Chassis/enc1/NetworkAdapters", token => $tok) }
	while (($b->{'Members@odata.count'} // 0) != 1 && time < $gone && sleep 0.05);
is($b->{'Members@odata.count'}, 1, 'one adapter left once the inventory is rescanned');
($st, $h, $b) = req('GET', "$TLS/redfish/v1/Chassis/enc1/PCIeDevices/slot2", token => $tok);
is($b->{Status}{State}, 'Absent', 'slot 2: Status.State Absent');
($st) = req('GET', "$TLS/redfish/v1/Chassis/enc1/NetworkAdapters/slot2/NetworkDeviceFunctions/pf0-vf0", token => $tok);
is($st, 404, "its functions are gone");
($st) = req('GET', "$TLS/redfish/v1/Fabrics/PCIe/Endpoints/slot2-pf0-vf0", token => $tok);
is($st, 404, "and their endpoints");

# --- 64 slowloris clients; a normal client still served within a second ---------------------------
my @slow;
for (1 .. 64) {
	my $c = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$PORT", SSL_verify_mode => SSL_VERIFY_NONE);
	push @slow, $c if $c;
}
is(scalar @slow, 64, '64 slowloris clients connected over TLS');
my $line = "GET /redfish/v1/Systems HTTP/1.1\r\nHost: x\r\nX-Pad: " . ('a' x 64);
my ($worst, $served, $held) = (0, 0, 0);
local $SIG{PIPE} = 'IGNORE';
for my $i (0 .. 5) {
	$held = 0;
	for my $c (@slow) { $held++ if syswrite($c, substr($line, $i, 1)) }	# a byte a second each
	my $t = time;
	# a new client each time: a new connection, as a fleet tool's poll would be
	my $fresh = HTTP::Tiny->new(verify_SSL => 0, timeout => 5);
	my $st2 = $fresh->get("$TLS/redfish/v1/Systems", { headers => { 'X-Auth-Token' => $tok } })->{status};
	my $dt = time - $t;
	$worst = $dt if $dt > $worst;
	$served++ if $st2 == 200;
	my $ct = time;
	my ($crc) = sh("$CMCCTL version");
	$served++ if $crc == 0 && time - $ct < 1;
	sleep(1 - (time - $t)) if time - $t < 1;
}
is($held, 64, 'the 64 slow clients were all still connected after 6 s');
is($served, 12, 'during 6 s of slowloris, every normal request and cmcctl were answered');
ok($worst < 1, sprintf('the slowest normal request took %.3f s (< 1 s)', $worst));
close $_ for @slow;

# --- a thousand sessions opened and dropped, the CLI answering meanwhile ---------------------------
my $cli = fork() // die;
if (!$cli) {	# cmcctl every 100 ms; exit 1 if one took 1 s or more or failed
	my $bad = 0;
	while (1) {
		my $t = time;
		my ($crc) = sh("$CMCCTL version");
		$bad++ if $crc != 0 || time - $t >= 1;
		last if -e "$dir/stop-cli";
		sleep 0.1;
	}
	POSIX::_exit($bad ? 1 : 0);
}
$t0 = time;
my @kids;
for my $k (0 .. 3) {	# four clients, 250 sessions each, never logged out
	my $kid = fork() // die;
	if (!$kid) {
		my $ok = 0;
		my $c = HTTP::Tiny->new(verify_SSL => 0, timeout => 30, keep_alive => 1);
		for (1 .. 250) {
			my $r = $c->request('POST', "$TLS/redfish/v1/SessionService/Sessions",
				{ headers => { 'Content-Type' => 'application/json' },
				  content => encode_json({ UserName => 'admin', Password => 'secret-pass-1' }) });
			$ok++ if $r->{status} == 201;
		}
		POSIX::_exit($ok == 250 ? 0 : 1);
	}
	push @kids, $kid;
}
my $kids_ok = 0;
for (@kids) { waitpid($_, 0); $kids_ok++ if $? == 0 }
my $dt = time - $t0;
spew("$dir/stop-cli", '');
waitpid($cli, 0);
is($kids_ok, 4, sprintf('1000 sessions opened and dropped (%.1f s, %.1f logins/s)', $dt, 1000 / $dt));
is($?, 0, 'cmcctl answered within a second all along');
($st, $h, $b) = req('GET', "$TLS/redfish/v1/SessionService/Sessions", token => $tok);
ok(($b->{'Members@odata.count'} // 0) >= 1000, "the sessions are listed ($b->{'Members@odata.count'})");
($st) = req('GET', "$TLS/redfish/v1/Systems", token => $tok);
is($st, 200, 'the first session still works');

# --- restart: the certificate is kept; a 64-slot dump --------------------------------------------------
is(stop_daemon(), 0, 'SIGTERM: cmcd stops cleanly');
ok(start_daemon("$dir/big.dump"), 'cmcd starts on a 64-slot dump');
is(slurp("$dir/state/redfish-cert.pem"), $cert, 'the same certificate after a restart');
($st) = req('GET', "$TLS/redfish/v1/Systems", token => $tok);
is($st, 401, 'sessions do not outlive cmcd');
($rc, $out) = sh("$PY $TOOLS/rf-check -u admin -p secret-pass-1 --session --members 3 $TLS");
is($rc, 0, 'rf-check --members 3: 0 problems on the 64-slot dump') or diag($out);
diag($out =~ /(rf-check: .*)/ ? $1 : $out);
($rc, $out) = sh("$PY $TOOLS/rf-check -u admin -p secret-pass-1 --session --max 20000 $TLS");
is($rc, 0, 'rf-check of every resource of the 64-slot dump: 0 problems') or diag($out);
diag($out =~ /(rf-check: .*)/ ? $1 : $out);
($st, $h, $b) = req('GET', "$TLS/redfish/v1/Chassis/enc1/PCIeDevices", user => 'admin', pass => 'secret-pass-1');
is($b->{'Members@odata.count'}, 64, '64 PCIe devices');
my ($rss) = slurp("/proc/$pid/status") =~ /VmRSS:\s+(\d+)/;
diag("cmcd RSS on the 64-slot dump with the Redfish service: $rss kB");
is(stop_daemon(), 0, 'stops cleanly');

done_testing();
