# Helpers of the tests that run on the host (no QEMU): a shell command's exit code and
# output, a file read whole and written whole, cmcd started over a PCI dump.
package Host;

use strict;
use warnings;
use Exporter qw(import);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use JSON::PP ();

our @EXPORT_OK = qw(sh slurp spew start_cmcd free_port redfish_conf rf_request sse_events);

# (exit code, stdout and stderr) of a shell command.
sub sh { my $out = `$_[0] 2>&1`; return ($? >> 8, $out) }
# A file's contents, '' if it cannot be read.
sub slurp { local $/; open(my $f, '<', $_[0]) or return ''; return <$f> // '' }
# Writes a file whole (dies if it cannot).
sub spew { open(my $f, '>', $_[0]) or die "$_[0]: $!"; print $f $_[1]; close $f or die "$_[0]: $!" }

# The whole events of a server-sent event stream as read so far (text): a list of { id,
# event (its data, decoded JSON) }, in order. An event counts once its blank line came: a
# reader (curl into a file) may have only part of the last one, on a loaded host above all.
sub sse_events {
	my ($text) = @_;
	my $end = rindex($text, "\n\n");
	my @ev;
	for my $block (split /\n\n/, $end < 0 ? '' : substr($text, 0, $end)) {
		my ($id) = $block =~ /^id: (\d+)$/m;
		my ($data) = $block =~ /^data: (.*)$/m;
		push @ev, { id => $id, event => JSON::PP::decode_json($data) } if defined $id && defined $data;
	}
	return @ev;
}

# A TCP port on 127.0.0.1 nobody listens on now.
sub free_port {
	my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0) or die "no free port: $!";
	return $s->sockport;
}

# The configuration the Redfish host tests share, written to DIR/rf.conf: chassis enc1,
# blades blade1 and blade2, the socket and store under DIR, the service on 127.0.0.1 at
# port (TLS) and http_port (plain, loopback), plus `extra` (more settings of the redfish
# group, as libconfig text). Returns the file's path.
sub redfish_conf {
	my ($dir, $port, $hport, $extra) = @_;
	my $conf = "$dir/rf.conf";
	spew($conf, qq(chassis = { name = "enc1"; };\n)
		. qq(daemon = { socket = "$dir/run/cmcd.sock"; group = ""; store = "$dir/state/store"; };\n)
		. qq(blades = ( { name = "blade1"; id = 1; }, { name = "blade2"; id = 2; } );\n)
		. qq(redfish = { address = "127.0.0.1"; port = $port; http_port = $hport; ) . ($extra // '') . qq( };\n));
	return $conf;
}

# One Redfish request with HTTP::Tiny client `http`: (status, headers, body decoded from
# JSON, or the raw body). Options: token (X-Auth-Token), user and pass (HTTP Basic),
# headers, json (a reference is encoded, a string sent as it is).
sub rf_request {
	my ($http, $method, $url, %o) = @_;
	my %h = %{ $o{headers} // {} };
	$h{'X-Auth-Token'} = $o{token} if $o{token};
	if ($o{user}) {
		require MIME::Base64;
		$h{Authorization} = 'Basic ' . MIME::Base64::encode_base64("$o{user}:$o{pass}", '');
	}
	my %args = (headers => \%h);
	if (defined $o{json}) {
		$args{content} = ref $o{json} ? JSON::PP::encode_json($o{json}) : $o{json};
		$h{'Content-Type'} //= 'application/json';
	}
	my $r = $http->request($method, $url, \%args);
	my $body = eval { JSON::PP::decode_json($r->{content}) } // $r->{content};
	return ($r->{status}, $r->{headers}, $body);
}

# cmcd in the foreground over a PCI dump: cmcd, cmcctl, conf, dump, socket, log (appended
# to), timeout (s, default 10). Returns (pid, ready): ready once `cmcctl version`
# answers on the socket; not ready (its log as a diagnostic) if it exits or time runs out,
# the pid still the caller's to stop.
sub start_cmcd {
	my (%o) = @_;
	my $pid = fork() // die "fork: $!";
	if (!$pid) {
		open(STDOUT, '>>', $o{log});
		open(STDERR, '>&', \*STDOUT);
		exec($o{cmcd}, '-f', '-c', $o{conf}, '--pci-dump', $o{dump}) or exit 127;
	}
	my $end = time + ($o{timeout} // 10);
	while (time < $end) {
		return ($pid, 1) if -S $o{socket} && (sh("$o{cmcctl} version"))[0] == 0;
		last if waitpid($pid, WNOHANG) == $pid;
		sleep 0.05;
	}
	Test::More::diag(slurp($o{log}));
	return ($pid, 0);
}

1;
