#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Redfish GET throughput and p99 latency: cmcd's service on a 64-slot dump (64 x 1 PF x
# 7 VFs), authenticated by a session token, against the very same JSON bodies served as
# static files by nginx (one worker, like cmcd's one loop), both over TLS 1.3 with the same
# ECDSA certificate and keep-alive, loaded by the same tool (wrk: 1 thread, 16 connections,
# a mix of resources in turn) in the same run. Reports the ratios (the issue's target:
# >= 0.5x nginx's requests per second, <= 2x its p99) and cmcd's RSS. Asserts nothing.
#   CMC_BUILD=build bench/redfish.pl [seconds]
# Needs wrk (scripts/setup-host installs it); nginx is fetched with `apt-get download`
# into .cache/bench/ and run from there (no service is installed or started).
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use Cwd qw(abs_path);
use FindBin;

my $TOP = abs_path("$FindBin::Bin/..");
my $B = abs_path($ENV{CMC_BUILD} // "$TOP/build");
my $SECS = $ARGV[0] // 10;
my ($CMCD, $CMCCTL, $GEN) = ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump");
-x $_ or die "redfish bench: $_ missing (run make)\n" for $CMCD, $CMCCTL, $GEN;
system('command -v wrk >/dev/null') == 0 or die "redfish bench: needs wrk (scripts/setup-host)\n";

my $cache = "$TOP/.cache/bench";
my $NGINX = "$cache/root/usr/sbin/nginx";
if (!-x $NGINX) {
	make_path($cache);
	system("cd '$cache' && apt-get download nginx >/dev/null 2>&1 && dpkg-deb -x nginx_*.deb root") == 0 && -x $NGINX
		or die "redfish bench: cannot fetch nginx (apt-get download nginx)\n";
}

my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
$ENV{CMC_SOCKET} = "$dir/run/cmcd.sock";
delete @ENV{qw(http_proxy https_proxy HTTP_PROXY HTTPS_PROXY)};
sub free_port { my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0) or die; $s->sockport }
sub spew { open(my $f, '>', $_[0]) or die "$_[0]: $!"; print $f $_[1]; close $f }
my ($RF, $NG) = (free_port(), free_port());

system("$GEN -s 64 -v 7 -o $dir/big.dump") == 0 or die;
spew("$dir/c.conf", qq(chassis = { name = "bench"; };\n)
	. qq(daemon = { socket = "$dir/run/cmcd.sock"; group = ""; store = "$dir/state/store"; };\n)
	. qq(blades = ( { name = "b1"; id = 1; }, { name = "b2"; id = 2; } );\n)
	. qq(redfish = { address = "127.0.0.1"; port = $RF; };\n));
my @pids;
END { kill('TERM', $_) for @pids; waitpid($_, 0) for @pids }
my $cmcd = fork() // die;
if (!$cmcd) { open(STDERR, '>', "$dir/cmcd.log"); exec($CMCD, '-f', '-c', "$dir/c.conf", '--pci-dump', "$dir/big.dump"); exit 127 }
push @pids, $cmcd;
for (1 .. 300) { last if system("$CMCCTL version >/dev/null 2>&1") == 0; sleep 0.05 }
system("printf 'bench-pass-1\\n' | $CMCCTL account add bench role ReadOnly >/dev/null") == 0 or die "account add failed\n";
my $hdr = `curl -sk -D - -o /dev/null -H 'Content-Type: application/json' -d '{"UserName":"bench","Password":"bench-pass-1"}' https://127.0.0.1:$RF/redfish/v1/SessionService/Sessions`;
my ($token) = $hdr =~ /^X-Auth-Token:\s*(\S+)/mi or die "no session: $hdr\n";

# The mix: what a fleet poller reads, from the root to a VF.
my @paths = ('/redfish/v1/', '/redfish/v1/Systems', '/redfish/v1/Systems/b1',
	'/redfish/v1/Chassis/bench', '/redfish/v1/Chassis/bench/PCIeDevices',
	'/redfish/v1/Chassis/bench/PCIeDevices/slot17', '/redfish/v1/Chassis/bench/NetworkAdapters/slot9',
	'/redfish/v1/Chassis/bench/NetworkAdapters/slot9/NetworkDeviceFunctions',
	'/redfish/v1/Chassis/bench/NetworkAdapters/slot9/NetworkDeviceFunctions/pf0-vf3',
	'/redfish/v1/Chassis/bench/NetworkAdapters/slot40/Ports/0', '/redfish/v1/Fabrics/PCIe/Zones/b1',
	'/redfish/v1/Fabrics/PCIe/Endpoints/slot33-pf0-vf6', '/redfish/v1/Managers/cmc');
my $bytes = 0;
for my $p (@paths) {
	my $body = `curl -sk -H 'X-Auth-Token: $token' https://127.0.0.1:$RF$p`;
	die "GET $p: $body\n" unless $body =~ /^\{/;
	make_path("$dir/www$p");
	spew("$dir/www$p/index.json", $body);
	$bytes += length $body;
}
chmod 0755, "$dir/state";
system("chmod -R a+rX $dir/www $dir/state/redfish-cert.pem") == 0 or die;
system("cp $dir/state/redfish-key.pem $dir/ng-key.pem && chmod 0644 $dir/ng-key.pem") == 0 or die;
spew("$dir/nginx.conf", <<"NGINX");
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 1024; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 10000000;
	client_body_temp_path $dir/ng-tmp;
	proxy_temp_path $dir/ng-tmp;
	fastcgi_temp_path $dir/ng-tmp;
	uwsgi_temp_path $dir/ng-tmp;
	scgi_temp_path $dir/ng-tmp;
	server {
		listen 127.0.0.1:$NG ssl;
		ssl_certificate $dir/state/redfish-cert.pem;
		ssl_certificate_key $dir/ng-key.pem;
		ssl_protocols TLSv1.3;
		root $dir/www;
		location / { try_files \$uri/index.json =404; }
	}
}
NGINX
my $ng = fork() // die;
if (!$ng) { open(STDERR, '>', "$dir/nginx.err"); exec($NGINX, '-p', $dir, '-e', "$dir/nginx.err", '-c', "$dir/nginx.conf"); exit 127 }
push @pids, $ng;
for (1 .. 100) { last if IO::Socket::INET->new("127.0.0.1:$NG"); sleep 0.05 }
my $check = `curl -sk https://127.0.0.1:$NG$paths[5]`;
die "nginx does not serve the bodies: $check\n" . `cat $dir/nginx.err` unless $check =~ /PCIeDevice/;

spew("$dir/mix.lua", 'local paths = {' . join(', ', map { "\"$_\"" } @paths) . "}\n" . <<'LUA');
local i = 0
local token = os.getenv("RF_TOKEN")
request = function()
	i = i % #paths + 1
	return wrk.format("GET", paths[i], { ["X-Auth-Token"] = token, ["Accept"] = "application/json" })
end
LUA

sub load {
	my ($port) = @_;
	local $ENV{RF_TOKEN} = $token;
	my $out = `wrk -t1 -c16 -d${SECS}s --latency -s $dir/mix.lua https://127.0.0.1:$port 2>&1`;
	my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
	my ($p99, $unit) = $out =~ /^\s+99%\s+([\d.]+)(us|ms|s)/m;
	my ($errors) = $out =~ /Non-2xx or 3xx responses:\s+(\d+)/;
	die "wrk: $out" unless defined $rps && defined $p99;
	$p99 *= { us => 0.001, ms => 1, s => 1000 }->{$unit};
	return ($rps, $p99, $errors // 0);
}
load($_) for $NG, $RF;	# warm both (TLS sessions, caches), then measure
my ($nrps, $np99, $nerr) = load($NG);
my ($crps, $cp99, $cerr) = load($RF);
my ($rss) = `cat /proc/$cmcd/status` =~ /VmRSS:\s+(\d+)/;

printf "redfish: GET mix of %d resources (%.0f bytes on average), TLS 1.3, keep-alive, wrk -t1 -c16 %ds\n",
	scalar @paths, $bytes / @paths, $SECS;
printf "  nginx (static files, 1 worker)   %8.0f req/s   p99 %7.2f ms   non-2xx %d\n", $nrps, $np99, $nerr;
printf "  cmcd (session token, live tree)  %8.0f req/s   p99 %7.2f ms   non-2xx %d\n", $crps, $cp99, $cerr;
printf "  ratio cmcd/nginx: throughput %.2fx (target >= 0.5x), p99 %.2fx (target <= 2x)\n",
	$crps / $nrps, $cp99 / $np99;
printf "  cmcd RSS on the 64-slot dump, after the load: %d KiB\n", $rss;
