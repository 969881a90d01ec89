#!/usr/bin/perl
# Does cmcd keep answering while the blades' namespaces are being changed? In one boot of
# the emulated chassis (root-port layout, cmcd's igb-vfio PF on both cards), the host times
# GET /redfish/v1/ over the management port (HTTPS, one kept-alive session: answered on
# cmcd's event loop, like every cmcctl command) --calls times, --gap ms apart: first with
# nothing else going on, then while a shell in the guest assigns and unassigns VFs 2 and 3
# of slot 1 back to back (each change queues placing, taking out and bouncing netdevs in
# blade1 and blade2 on the blade worker, and each cmcctl waits for them). Before the blade
# worker, every one of those requests ran on the loop (up to 2 s each). Prints p50/p99 of
# both sets, their ratio, and how many changes were made meanwhile; asserts nothing about time.
#   CMC_BUILD=build bench/loop-under-blades.pl [--calls N] [--gap MS]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Chassis;
use Getopt::Long qw(GetOptions);
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time sleep);

$| = 1;
my ($calls, $gap) = (200, 20);
GetOptions('calls=i' => \$calls, 'gap=i' => \$gap) && $calls >= 10 && $gap >= 0
    or die "usage: $0 [--calls N (>= 10, default 200)] [--gap MS (default 20)]\n";
delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY)};

my $c = Chassis->new(name => 'bench-loop', layout => 'rootports', mgmt => 1,
	slots => [ { slot => 1 }, { slot => 2 } ]);
$c->start;
sub run { my ($rc, $out) = $c->run($_[0], timeout => $_[1] // 120); die "bench: '$_[0]' failed: $out" if $rc; $out }
my ($mrc, $dev) = $c->mgmt_up;
die "bench: no management port: $dev\n" if $mrc;
run(q{cp /cmc/conf/emulated.conf /etc/cmc/b.conf && }
  . q{printf 'redfish = { address = "0.0.0.0"; port = 443; };\n' >> /etc/cmc/b.conf && }
  . q{cmcd -c /etc/cmc/b.conf && wait_for 300 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0"}, 180);
run(q{printf 'bench-pass-1\n' | cmcctl account add bench role ReadOnly});

my $base = 'https://127.0.0.1:' . $c->mgmt_port;
my $http = HTTP::Tiny->new(verify_SSL => 0, timeout => 20, keep_alive => 1);
my $r = $http->post("$base/redfish/v1/SessionService/Sessions", { headers => { 'Content-Type' => 'application/json' },
	content => encode_json({ UserName => 'bench', Password => 'bench-pass-1' }) });
my $tok = $r->{headers}{'x-auth-token'} or die "bench: no session: $r->{status} $r->{content}\n";
sub get_root { my $g = $http->get("$base/redfish/v1/", { headers => { 'X-Auth-Token' => $tok } }); $g->{success} }

sub timed {
	my @ms;
	for (1 .. $calls) {
		my $t0 = time;
		get_root() or die "bench: GET /redfish/v1/ failed\n";
		push @ms, (time - $t0) * 1000;
		sleep($gap / 1000);
	}
	return @ms;
}
sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v; $v[ int(($#v) * $p / 100 + 0.5) ] }

get_root() for 1 .. 10;	# warm the connection
my @idle = timed();
# The churn: each round assigns VF 2 to blade1 and VF 3 to blade2, then takes both back.
run(q{rm -f /tmp/churn.stop /tmp/churn.n; (n=0; while [ ! -e /tmp/churn.stop ]; do }
  . q{cmcctl assign slot 1 vf 2 blade blade1 >/dev/null && cmcctl assign slot 1 vf 3 blade blade2 >/dev/null && }
  . q{cmcctl unassign slot 1 vf 2 >/dev/null && cmcctl unassign slot 1 vf 3 >/dev/null || break; }
  . q{n=$((n + 4)); echo $n > /tmp/churn.n; done) > /tmp/churn.log 2>&1 &});
my $end = time + 60;
sleep 0.2 until ($c->run('cat /tmp/churn.n 2>/dev/null'))[1] =~ /\d/ || time > $end;
my @busy = timed();
run('touch /tmp/churn.stop; sleep 2');
my ($changes) = ($c->run('cat /tmp/churn.n 2>/dev/null'))[1] =~ /(\d+)/;
my $placed = () = ($c->run('cmcctl events'))[1] =~ /vf-placed/g;
$c->stop;

printf "loop-under-blades: GET /redfish/v1/ over the management port, %d calls %d ms apart each\n", $calls, $gap;
printf "  nothing else            p50 %7.1f ms   p99 %7.1f ms\n", pct(50, @idle), pct(99, @idle);
printf "  assign/unassign churn   p50 %7.1f ms   p99 %7.1f ms   (%d changes in the guest, %d placings in the event log)\n",
    pct(50, @busy), pct(99, @busy), $changes // 0, $placed;
printf "  ratio p50 %.2f, p99 %.2f (churn / nothing)\n", pct(50, @busy) / (pct(50, @idle) || 1),
    pct(99, @busy) / (pct(99, @idle) || 1);
