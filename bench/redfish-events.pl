#!/usr/bin/perl
# What do dead event subscribers cost? cmcd on a 3-slot dump with its Redfish service, an
# SSE stream read by curl and one live push subscriber (t/tools/rf-receiver on loopback).
# Each round: `cmcctl rescan` (an event), then the time until its event is on the stream
# and at the live receiver, and one `cmcctl -j version` timed (client start-up included);
# rounds --gap ms apart. First --rounds rounds as the baseline; then 15 more subscribers
# are added whose receiver accepts connections and never answers (each POST held 5 s, then
# retried 1 s, 2 s, 4 s later: event_retry_interval 1), and the same rounds again, which
# span several of those timeouts and retries. Prints p50/p99 of each figure both ways and the ratios of the p99s;
# asserts nothing about time.
#   CMC_BUILD=build bench/redfish-events.pl [--rounds N] [--gap MS]
use strict;
use warnings;
use File::Temp qw(tempdir);
use FindBin;
use Getopt::Long qw(GetOptions);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);

$| = 1;
my ($rounds, $gap) = (100, 40);
GetOptions('rounds=i' => \$rounds, 'gap=i' => \$gap) && $rounds >= 10 && $gap >= 0
	or die "usage: $0 [--rounds N (>= 10, default 100)] [--gap MS (default 40)]\n";
my $B = $ENV{CMC_BUILD} // 'build';
my $TOOLS = "$FindBin::Bin/../t/tools";
for ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump") {
	-x $_ or die "redfish-events: $_ missing (run make)\n";
}
my $dir = tempdir(CLEANUP => 1);
$ENV{CMC_SOCKET} = "$dir/sock";
delete @ENV{qw(http_proxy HTTP_PROXY)};
sub free_port { IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)->sockport }
my ($HPORT, $TPORT, $LIVE, $DEAD) = map { free_port() } 1 .. 4;
system("$B/tools/mp-gendump", '-s', 3, '-v', 2, '-o', "$dir/d.dump") == 0 or die "mp-gendump failed\n";
open(my $cf, '>', "$dir/c.conf") or die;
print $cf qq(chassis = { name = "bench"; };\n),
    qq(daemon = { socket = "$dir/sock"; group = ""; store = "$dir/state"; };\n),
    qq(blades = ( { name = "b1"; id = 1; } );\n),
    qq(redfish = { address = "127.0.0.1"; port = $TPORT; http_port = $HPORT; event_retry_interval = 1; };\n);
close $cf;

my @kids;
END { kill('TERM', @kids) if @kids }
sub spawn {
	my ($out, @cmd) = @_;
	my $k = fork() // die;
	if (!$k) { open(STDOUT, '>', $out); open(STDERR, '>>', "$dir/log"); exec(@cmd) or _exit(127) }
	push @kids, $k;
}
spawn("$dir/cmcd.out", "$B/cmcd", '-f', '-c', "$dir/c.conf", '--pci-dump', "$dir/d.dump");
my $end = time + 30;
sleep 0.1 until (-S "$dir/sock" && system("$B/cmcctl version >/dev/null 2>&1") == 0) || time > $end;
system("printf 'bench-pass-1\\n' | $B/cmcctl account add bench role Administrator >/dev/null") == 0 or die "account\n";
my $http = HTTP::Tiny->new(timeout => 10);
my $URL = "http://127.0.0.1:$HPORT";
my $r = $http->post("$URL/redfish/v1/SessionService/Sessions", { headers => { 'Content-Type' => 'application/json' },
	content => encode_json({ UserName => 'bench', Password => 'bench-pass-1' }) });
my $tok = $r->{headers}{'x-auth-token'} or die "login failed\n";
sub subscribe {
	my ($dest) = @_;
	my $s = $http->post("$URL/redfish/v1/EventService/Subscriptions", { headers => { 'Content-Type' => 'application/json',
		'X-Auth-Token' => $tok }, content => encode_json({ Destination => $dest, Protocol => 'Redfish' }) });
	$s->{status} == 201 or die "subscription: $s->{status} $s->{content}\n";
}
spawn("$dir/live.log", '/usr/bin/python3', "$TOOLS/rf-receiver", $LIVE, "$dir/live.out");
spawn("$dir/dead.log", '/usr/bin/python3', "$TOOLS/rf-receiver", $DEAD, "$dir/dead.out", '--hang');
sleep 0.1 until IO::Socket::INET->new("127.0.0.1:$LIVE") && IO::Socket::INET->new("127.0.0.1:$DEAD");
subscribe("http://127.0.0.1:$LIVE/");
spawn("$dir/sse", 'curl', '-sN', '-H', "X-Auth-Token: $tok", "$URL/redfish/v1/EventService/SSE?\$filter=ResourceType%20eq%20Chassis");
sleep 0.2;

sub slurp { local $/; open(my $f, '<', $_[0]) or return ''; <$f> // '' }
sub count { my ($file, $re) = @_; my $n = () = slurp($file) =~ /$re/g; $n }
# One round: (ms to the stream, ms to the live receiver, ms of cmcctl version).
sub round {
	my ($sse0, $live0) = (count("$dir/sse", qr/^id: /m), count("$dir/live.out", qr/^\{/m));
	my $t0 = time;
	system("$B/cmcctl rescan >/dev/null") == 0 or die "rescan\n";
	my ($ts, $tl);
	my $limit = time + 10;
	while ((!$ts || !$tl) && time < $limit) {
		$ts //= time if count("$dir/sse", qr/^id: /m) > $sse0;
		$tl //= time if count("$dir/live.out", qr/^\{/m) > $live0;
		sleep 0.001;
	}
	die "redfish-events: an event did not arrive in 10 s\n" unless $ts && $tl;
	my $tv = time;
	system("$B/cmcctl -j version >/dev/null") == 0 or die "version\n";
	return (($ts - $t0) * 1000, ($tl - $t0) * 1000, (time - $tv) * 1000);
}
sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v; $v[int($p / 100 * $#v + 0.5)] }
sub phase {
	my (@s, @l, @v);
	for (1 .. $rounds) { my @x = round(); push @s, $x[0]; push @l, $x[1]; push @v, $x[2]; sleep($gap / 1000) }
	return ([pct(50, @s), pct(99, @s)], [pct(50, @l), pct(99, @l)], [pct(50, @v), pct(99, @v)]);
}
round() for 1 .. 3;	# warm-up
my @base = phase();
subscribe("http://127.0.0.1:$DEAD/$_") for 1 .. 15;
round();
my @dead = phase();
my @names = ('event on the SSE stream', 'event at the live subscriber', 'cmcctl -j version');
printf "redfish-events: %d rounds each; the dead receiver was sent %d connections and answered none\n", $rounds,
	count("$dir/dead.out", qr/^CONNECTED/m);
for my $i (0 .. 2) {
	printf "  %-30s p50 %6.1f ms, p99 %6.1f ms alone; p50 %6.1f ms, p99 %6.1f ms with 15 dead subscribers: p99 ratio %.2f\n",
		$names[$i], @{ $base[$i] }, @{ $dead[$i] }, $dead[$i][1] / ($base[$i][1] || 0.001);
}
