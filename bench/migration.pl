#!/usr/bin/perl
# Live migration of the project's test VM (t/vm payload, 64 MiB, nested QEMU under TCG)
# between blade1 and blade2 over the midplane lane against the same over the uplinks, in
# one boot of the emulated chassis (root-port layout, three igb-vfio cards driven by
# cmcd, conf/emulated-bench-migration.conf):
#   slot 1  uplink, cable on hub 0    VF 0 assigned to blade1 (s1v0, 10.60.0.1/24)
#   slot 2  midplane, no cable        lane "mig": ln-mig 169.254.1.1 / .2 in the blades
#   slot 3  uplink, cable on hub 0    VF 0 assigned to blade2 (s3v0, 10.60.0.2/24)
# Three ways of moving the VM, each N times each way (--samples, default 3):
#   lane, cmcd    `cmcctl migrate vm1 --to B` (cmcd's own path: it starts the destination,
#                 migrates over the lane, resumes it), figures from `cmcctl -j migrations`;
#   lane, raw     QEMU driven by hand with qmp-call, the same command line, capabilities
#                 and parameters cmcd uses (cmc/qemu.c, cmc/migrate.c), the stream to 169.254.1.x over
#                 ln-mig, the end learnt from the source's MIGRATION event (qmp-call -w);
#   uplink, raw   the same to 10.60.0.x: card 1's VEB sends the frames for card 3's VF out
#                 of its cable, QEMU's hub 0 carries them to card 3 (and back for the ACKs).
# cmcd migrates over lanes only, hence the raw runs; the ratio lane/uplink is taken
# between the two raw paths (same tool), cmcd's figures are shown beside them. The raw
# lane and uplink samples alternate (lane 1->2, uplink 2->1, uplink 1->2, lane 2->1, ...);
# the cmcd samples come first, with only cmcd's VM running. Every migration is followed
# by a check that the VM went on (counter not reset, self-check clean), and each sample
# starts --settle seconds (default 3) after the VM came up on its blade.
# Per path: p50 (nearest rank, over the 2N samples) of QEMU's total time, downtime,
# bytes transferred and throughput (QEMU's mbps), and the ratios lane/uplink. Downtime is
# timed the same way on every path: QEMU's own (query-migrate's "downtime": the source
# stopped to completed) plus the switch-over, from the source's MIGRATION "completed"
# event (QEMU's time stamp) to the destination's cont answered (cmcd: its own record,
# `cmcctl -j migrations` switchover_us; by hand: qmp-call -T's time stamp of cont's
# answer); the ratio cmcctl/by hand is printed beside cmcd's switch-over p50. Every cable
# is captured: the output says how many of the lane's frames (169.254/16) crossed a cable
# (none should: the midplane port is in loopback and has no cable) and how many of the
# uplink path's (10.60.0/24) crossed cables 1 and 3 while captured (all: that is that
# path), against the bytes those samples migrated.
# Writing each frame to two pcap files costs the uplink path host CPU the lane does not
# pay, so half the uplink samples run with the captures switched off (qom-set of the
# filter-dump's status) and are also reported on their own.
# Reports; asserts nothing about time.
#   CMC_BUILD=build bench/migration.pl [--samples N] [--settle S] [--idle-wait S]
# Needs the VM image (build/chassis/initrd-vm.img, `make image-vm`); without it, says so
# and exits 0. Waits (up to --idle-wait, default 900 s) until no other
# qemu-system-x86_64 has run on the host for 20 s before booting; says so when some ran
# during the samples.
use strict;
use warnings;
no warnings qw(portable);    # hex() of 64-bit words
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Chassis;
use Pcap;
use File::Basename qw(basename);
use Getopt::Long qw(GetOptions);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX qw(ceil);
use Time::HiRes qw(time sleep);

$| = 1;
my ($samples, $settle, $idle_wait) = (3, 3, 900);
GetOptions('samples=i' => \$samples, 'settle=i' => \$settle, 'idle-wait=i' => \$idle_wait)
    && $samples >= 1 && $settle >= 0 && $idle_wait >= 0
    or die "usage: $0 [--samples N each way (default 3)] [--settle SECONDS (default 3)] [--idle-wait SECONDS (default 900)]\n";

my $image = Chassis::build_dir() . '/chassis/initrd-vm.img';
unless (-f $image) {
	print "migration: skipped, no VM image ($image): make image-vm\n";
	exit 0;
}

# The guest's side, sourced (after guest-lib.sh's helpers) by the raw path's commands.
# QEMU's command line is cmcd's (cmc/qemu.c qemu_spawn), with -daemonize where cmcd forks.
my $GUEST = <<'SH';
D=/run/bench-mig
QEMU="/usr/bin/qemu-system-x86_64 -name rvm -accel tcg,tb-size=64 -machine pc -m 64 -nodefaults -display none -kernel /cmc/vm/payload.elf"
# rvm_start BLADE [incoming]: the VM's QEMU in the blade's namespace, QMP on $D/BLADE.qmp.
rvm_start() {
	mkdir -p $D && rm -f $D/$1.qmp $D/$1.pid || return 1
	ip netns exec "$1" $QEMU -qmp unix:$D/$1.qmp,server=on,wait=off -pidfile $D/$1.pid \
		${2:+-incoming defer -S} -daemonize > $D/$1.log 2>&1 || { echo "QEMU on $1 did not start:"; cat $D/$1.log; return 1; }
}
q() { _r=$(qmp-call -t 20 $D/$1.qmp "$2" ${3:+"$3"} 2>&1) || { echo "$1: $2: $_r"; return 1; }; }
# rvm_migrate FROM TO ADDR PORT: what cmcd does, by hand: the destination waiting on TO
# (events and return-path on, as cmcd sets them), the source given cmcd's capabilities and
# parameters, the state sent from FROM to ADDR:PORT; the source's MIGRATION "completed"
# event is waited for (qmp-call -w, no polling), then the destination is resumed (cont,
# its answer time-stamped: qmp-call -T). Prints the source's last query-migrate reply, the
# event (QEMU's time stamp) and the time cont was answered. The source is left (postmigrate).
CAPS='{"capability":"events","state":true},{"capability":"return-path","state":true}'
OFF='{"capability":"xbzrle","state":false},{"capability":"auto-converge","state":false},{"capability":"postcopy-ram","state":false},{"capability":"multifd","state":false}'
rvm_migrate() {
	rvm_start "$2" incoming || return 1
	q "$2" migrate-set-capabilities "{\"capabilities\":[$CAPS]}" || return 1
	q "$2" migrate-incoming "{\"uri\":\"tcp:$3:$4\",\"exit-on-error\":false}" || return 1
	q "$1" migrate-set-capabilities "{\"capabilities\":[$CAPS,$OFF]}" || return 1
	q "$1" migrate-set-parameters '{"max-bandwidth":134217728,"downtime-limit":300}' || return 1
	_e=$(qmp-call -t 300 -w MIGRATION=completed,failed,cancelled $D/$1.qmp migrate "{\"uri\":\"tcp:$3:$4\"}" 2>&1) ||
		{ echo "$1 -> $2: $_e"; return 1; }
	case $_e in *'"completed"'*) ;; *) echo "$1 -> $2: $_e"; return 1 ;; esac
	_c=$(qmp-call -T $D/$2.qmp cont 2>&1) || { echo "$2: cont: $_c"; return 1; }
	q "$1" query-migrate || return 1
	echo "$_r"
	echo "$_e" | tail -1
	echo "$_c" | grep '"answered"'
}
rvm_quit() { qmp-call -t 10 $D/$1.qmp quit >/dev/null 2>&1; wait_for 50 "! kill -0 \$(cat $D/$1.pid 2>/dev/null) 2>/dev/null"; }
SH

# --- The host: wait for it to be quiet (as bench/assign-carrier.pl) ----------------------
my $c;
sub other_qemus {
	my @p;
	my $ours = $c && $c->{pid} ? $c->{pid} : 0;
	for my $d (glob '/proc/[0-9]*') {
		open(my $f, '<', "$d/cmdline") or next;
		my $argv0 = (split /\0/, do { local $/; <$f> // '' })[0] // next;
		next unless basename($argv0) eq 'qemu-system-x86_64';
		open(my $st, '<', "$d/stat") or next;
		my $stat = <$st> // '';
		my $ppid = (split ' ', $stat =~ s/^.*\)\s*//r)[1] // 0;    # after "pid (comm) state"
		push @p, basename($d) unless $ours && $ppid == $ours;
	}
	return @p;
}
# Others' test suites boot one chassis after another: the host counts as idle once no
# other QEMU has run for $QUIET seconds, not at the first gap between two of them.
my $QUIET = 20;
my $busy_note = '';
if (my @q = other_qemus()) {
	print "migration: waiting (up to $idle_wait s) for other QEMU guests to end (pid @q) and $QUIET s without any\n";
	my ($end, $idle_since) = (time + $idle_wait, undef);
	while (time < $end) {
		@q = other_qemus();
		$idle_since = @q ? undef : $idle_since // time;
		last if defined $idle_since && time - $idle_since >= $QUIET;
		sleep 2;
	}
	if (@q) {
		$busy_note = "other QEMU guests were running (pid @q): the figures are skewed";
		warn "migration: $busy_note\n";
	}
}

# --- The chassis --------------------------------------------------------------------------
my $t_start = time;
$c = Chassis->new(name => 'bench-migration', layout => 'rootports', captures => 1, initrd => $image,
	boot_timeout => 240, hard_timeout => 900 + 6 * 120 * $samples,
	slots => [ { slot => 1, cable => 1 }, { slot => 2 }, { slot => 3, cable => 1 } ]);
$c->start;
my $lib = '. /tmp/bench-mig.sh';

# Diagnostics, the console log, then out (the chassis is killed).
sub failed {
	my ($what) = @_;
	print STDERR "migration: $what\n";
	for my $cmd ('cmcctl events', 'cmcctl -j vms', 'cmcctl -j migrations', 'cmcctl -j lanes', 'cmcctl -j assignments',
	    'for n in "" blade1 blade2; do echo "== netns ${n:-root}"; ip ${n:+-n $n} -o addr show; done',
	    'for f in /run/bench-mig/*.log /run/cmc/vm/*.log; do echo "== $f"; cat $f; done',
	    'ps; tail -50 /tmp/syslog', 'dmesg | tail -40') {
		my ($rc, $out) = eval { $c->run("$cmd 2>&1", timeout => 30) };
		unless (defined $rc) {    # the guest no longer answers: the chassis is gone
			print STDERR "---- $cmd: $@";    # with the console log
			exit 1;
		}
		print STDERR "---- $cmd (exit $rc)\n$out\n";
	}
	print STDERR "---- guest console (" . $c->console_path . ") ----\n" . $c->console . "---- end of console ----\n";
	$c->kill;
	exit 1;
}
sub run {
	my ($cmd, %o) = @_;
	my ($rc, $out) = $c->run($cmd, timeout => $o{timeout} // 120);
	failed("'$cmd' failed (exit $rc): $out") if $rc;
	return $out =~ s/\s+\z//r;
}
sub json {
	my ($cmd) = @_;
	my $out = run($cmd);
	my $j = eval { decode_json($out) };
	failed("$cmd: not JSON: $out") unless $j;
	return $j;
}

my $b64 = encode_base64($GUEST, '');
run('rm -f /tmp/bench-mig.b64');
run("printf %s '$_' >> /tmp/bench-mig.b64") for unpack('(A800)*', $b64);
run('base64 -d /tmp/bench-mig.b64 > /tmp/bench-mig.sh');
$c->run('syslogd -O /tmp/syslog');    # cmcd logs to syslog once detached

my $t = time;
run('cmcd -c /cmc/conf/emulated-bench-migration.conf && '
    . 'wait_for 600 "vfs_probed 0000:01:00.0 && vfs_probed 0000:02:00.0 && vfs_probed 0000:03:00.0"', timeout => 120);
my $cmcd_ready = time - $t;
# The lane (midplane, slot 2) and the uplink VFs (slots 1 and 3), each with carrier.
run('cmcctl lane create mig blade1 blade2');
run('cmcctl assign slot 1 vf 0 blade blade1', timeout => 60);
run('cmcctl assign slot 3 vf 0 blade blade2', timeout => 60);
run(q{wait_for 300 'ip -n blade1 addr show ln-mig 2>/dev/null | grep -q 169.254 && ip -n blade2 addr show ln-mig 2>/dev/null | grep -q 169.254'}, timeout => 60);
run('ip -n blade1 addr add 10.60.0.1/24 dev s1v0 && ip -n blade2 addr add 10.60.0.2/24 dev s3v0');
run('blade_carrier blade1 600 && blade_carrier blade2 600', timeout => 90);
my ($lane) = @{ json('cmcctl -j lanes') };
failed('lane mig has not both ends: ' . encode_json($lane // {}))
    unless $lane && $lane->{blade_a} ne '-' && $lane->{blade_b} ne '-';
my %lane_addr = ($lane->{blade_a} => $lane->{addr_a}, $lane->{blade_b} => $lane->{addr_b});
my %lane_vf = ($lane->{blade_a} => $lane->{vf_a}, $lane->{blade_b} => $lane->{vf_b});
my %up_addr = (blade1 => '10.60.0.1', blade2 => '10.60.0.2');
my %up_slot = (blade1 => 1, blade2 => 3);    # VF 0 of that slot
for my $p ([ blade1 => $lane_addr{blade2} ], [ blade2 => $lane_addr{blade1} ], [ blade1 => '10.60.0.2' ], [ blade2 => '10.60.0.1' ]) {
	run("wait_for 150 'ip netns exec $p->[0] ping -c 1 -W 1 $p->[1] >/dev/null'", timeout => 60);
}
my $paths_up = time - $t;

# rx_bytes of VF (slot, vf) of PF 0, from cmcd's counters.
sub vf_rx {
	my ($slot, $vf) = @_;
	my ($s) = grep { $_->{slot} == $slot && $_->{pf} == 0 && $_->{vf} == $vf } @{ json('cmcctl -j vfstats') };
	return $s ? $s->{rx_bytes} : 0;
}
# The VF a path's stream comes in on at blade B.
sub rx_vf { my ($path, $b) = @_; $path eq 'uplink' ? (vf_rx($up_slot{$b}, 0)) : (vf_rx($lane->{slot}, $lane_vf{$b})) }

# The payload's state block (t/vm/payload.c) through a QMP socket; a read racing a step
# may see counter and mirror disagree: read again.
my $MIRROR = hex('5a5a5a5a5a5a5a5a');
sub vm_state {
	my ($sock) = @_;
	my %s;
	for (1 .. 5) {
		my ($rc, $out) = $c->run("qmp-call -t 20 -H $sock 'xp /8gx 0x200000'", timeout => 40);
		next if $rc;
		my @w = map { hex } $out =~ /\b0x([0-9a-f]{16})\b/g;
		next unless @w == 8;
		%s = (counter => $w[0], mirror_ok => ($w[0] ^ $MIRROR) == $w[1], errors => $w[2], status => $w[5] & 0xffffffff);
		last if $s{mirror_ok};
	}
	return \%s;
}
# Until the payload has filled its region and counts (slow under nested TCG).
sub wait_running {
	my ($sock) = @_;
	my $end = time + 180;
	while (time < $end) {
		my $s = vm_state($sock);
		return $s if ($s->{status} // 0) == 2 && $s->{counter} > 0;
		sleep 1;
	}
	failed("the payload behind $sock is not running after 180 s");
}
# After a migration: the VM goes on from where it was, its self-check clean.
sub check_went_on {
	my ($what, $before, $sock) = @_;
	sleep 1;
	my $s = vm_state($sock);
	failed("$what: the VM did not go on: counter $before->{counter} before, now " . ($s->{counter} // '?')
	    . ', errors ' . ($s->{errors} // '?'))
	    unless %$s && $s->{mirror_ok} && $s->{counter} > $before->{counter} && $s->{errors} == 0;
}

# --- Lane, cmcd ---------------------------------------------------------------------------
my %res;     # res{path}: [ { dir, total_ms, downtime_ms, bytes, mbps, rx } ]
my %busy;    # other QEMUs on the host seen just before or after a sample
# The other QEMUs now (remembered in %busy): 1 if there are any.
sub busy_now { my @q = other_qemus(); $busy{$_} = 1 for @q; @q ? 1 : 0 }
sub cmc_sock { "/run/cmc/vm/vm1\@$_[0].qmp" }
# With a network profile, so that cmcd's switch-over moves a MAC (a VF of an uplink port).
run('cmcctl vm start vm1 blade blade1 mem 64 mac 02:00:00:00:0b:01', timeout => 60);
wait_running(cmc_sock('blade1'));
my $at = 'blade1';
for my $i (1 .. 2 * $samples) {
	my $to = $at eq 'blade1' ? 'blade2' : 'blade1';
	sleep $settle;
	my $before = vm_state(cmc_sock($at));
	my $rx0 = rx_vf(lane => $to);
	my $busy = busy_now();
	my $out = run("cmcctl migrate vm1 --to $to", timeout => 300);
	failed("cmcctl migrate vm1 --to $to: $out") unless $out =~ /completed/;
	my $rx = rx_vf(lane => $to) - $rx0;
	my ($m) = grep { $_->{vm} eq 'vm1' } @{ json('cmcctl -j migrations') };
	failed('cmcctl -j migrations: ' . encode_json($m // {})) unless $m && $m->{status} eq 'completed';
	# cmcd's downtime: QEMU's own + its switch-over (source "completed" to cont answered).
	push @{ $res{cmcd} }, { dir => "$at>$to", total_ms => $m->{total_time_ms}, qemu_ms => $m->{qemu_downtime_ms},
		share_ms => $m->{switchover_us} / 1000, downtime_ms => $m->{qemu_downtime_ms} + $m->{switchover_us} / 1000,
		bytes => $m->{transferred}, mbps => $m->{mbps}, rx => $rx, busy => $busy + busy_now() };
	check_went_on("cmcd $at -> $to", $before, cmc_sock($to));
	$at = $to;
}
run('cmcctl vm stop vm1', timeout => 60);

# --- Lane and uplink, raw QEMU ------------------------------------------------------------
sub raw_sock { "/run/bench-mig/$_[0].qmp" }
run("$lib; rvm_start blade1", timeout => 60);
wait_running(raw_sock('blade1'));
# QEMU's filter-dump on cables 1 and 3, on or off (qom-set of the netfilter's status).
sub captures { my ($on) = @_; $c->qmp('qom-set', { path => "/objects/dump$_", property => 'status', value => $on }) for 1, 3 }
$at = 'blade1';
my $port = 4600;
my $k = 0;    # uplink samples so far
for my $r (1 .. $samples) {
	for my $path (qw(lane uplink uplink lane)) {
		my $to = $at eq 'blade1' ? 'blade2' : 'blade1';
		my $addr = $path eq 'lane' ? $lane_addr{$to} : $up_addr{$to};
		# Half the uplink samples run with the cables' captures off (on, off, off, on, on,
		# off, ...: both directions get both), so that the uplink's figures can be had
		# without the cost of writing every frame to two pcap files.
		my $key = $path;
		if ($path eq 'uplink') {
			$key = ($k + int($k / 2)) % 2 ? 'upnocap' : 'upcap';
			$k++;
			captures($key eq 'upcap' ? 'on' : 'off');
		}
		sleep $settle;
		my $before = vm_state(raw_sock($at));
		my $rx0 = rx_vf($path, $to);
		my $busy = busy_now();
		$port++;
		my $out = run("$lib; rvm_migrate $at $to $addr $port", timeout => 360);
		my $rx = rx_vf($path, $to) - $rx0;
		my @l = split /\n/, $out;
		my ($j, $ev, $ans) = map { eval { decode_json($_ // '') } } @l[-3 .. -1];
		failed("raw $path $at -> $to: $out") unless $j && $ev && $ans && $ev->{timestamp} && $ans->{answered};
		my $m = $j->{return} // {};
		failed("raw $path $at -> $to: " . encode_json($m)) unless ($m->{status} // '') eq 'completed';
		# The by-hand switch-over, timed as cmcd's: source "completed" (QEMU's stamp) to cont answered.
		my $share_us = ($ans->{answered}{seconds} - $ev->{timestamp}{seconds}) * 1e6
		    + $ans->{answered}{microseconds} - $ev->{timestamp}{microseconds};
		my $final = vm_state(raw_sock($at));    # the source, stopped: its last state
		run("$lib; rvm_quit $at", timeout => 60);
		captures('on');
		my $sample = { dir => "$at>$to", total_ms => $m->{'total-time'}, qemu_ms => $m->{downtime},
			share_ms => $share_us / 1000, downtime_ms => $m->{downtime} + $share_us / 1000,
			bytes => $m->{ram}{transferred}, mbps => $m->{ram}{mbps}, rx => $rx, busy => $busy + busy_now(),
			captured => $key ne 'upnocap' };
		push @{ $res{$key} }, $sample;
		push @{ $res{uplink} }, $sample if $path eq 'uplink';
		check_went_on("raw $path $at -> $to", (%$final ? $final : $before), raw_sock($to));
		$at = $to;
	}
}
run("$lib; rvm_quit $at", timeout => 60);
$c->stop;
my $took = time - $t_start;
$busy_note ||= 'other QEMU guests ran during the samples (pid ' . join(' ', sort keys %busy) . '): the figures are skewed' if %busy;

# --- What crossed the cables --------------------------------------------------------------
# IPv4 frames with a source or destination in NET (the first bytes of the address).
sub ip_frames {
	my ($file, $net) = @_;
	my ($n, $bytes) = (0, 0);
	for my $f (Pcap::frames($file)) {
		next unless ($f->{ethertype} // 0) == 0x0800;
		my $ip = 14 + 4 * scalar @{ $f->{vlans} };
		next if length($f->{data}) < $ip + 20;
		my ($src, $dst) = unpack('x12 a4 a4', substr($f->{data}, $ip));
		next unless substr($src, 0, length $net) eq $net || substr($dst, 0, length $net) eq $net;
		$n++;
		$bytes += $f->{len};
	}
	return ($n, $bytes);
}
my %cable;
for my $slot (1, 3) {
	my $file = $c->capture_path($slot);
	$cable{$slot}{lane} = [ ip_frames($file, "\xa9\xfe") ];          # 169.254/16
	$cable{$slot}{uplink} = [ ip_frames($file, "\x0a\x3c\x00") ];    # 10.60.0/24
}

# --- Report -------------------------------------------------------------------------------
# Nearest rank: the smallest sample with at least p% of the samples at or below it.
sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v; $v[ceil($p / 100 * @v) - 1] }
sub p50 { my ($path, $k) = @_; pct(50, map { $_->{$k} } @{ $res{$path} }) }
sub sum { my $s = 0; $s += $_ for @_; $s }
sub ratio { $_[1] > 0 ? sprintf('%.2f', $_[0] / $_[1]) : 'n/a' }
# (the downtime columns are fractional ms: the switch-over is measured in µs)
my $MiB = 1 << 20;
print "migration: live migration of the t/vm payload (64 MiB, nested TCG) blade1 <-> blade2, emulated chassis (TCG), one boot\n";
print "  ($busy_note)\n" if $busy_note;
printf "  run %.0f s (after the wait for an idle host); boot %.0f s; cmcd up %.0f s, lane and uplinks pinging %.0f s after\n",
	$took, $c->boot_seconds // 0, $cmcd_ready, $paths_up;
printf "  %d samples per path (%d each way); p50 by nearest rank; total, downtime and Mbit/s are QEMU's (query-migrate)\n",
	2 * $samples, $samples;
my %label = (cmcd => 'lane, cmcd (cmcctl migrate)', lane => 'lane, raw QEMU (169.254.1.x)',
	uplink => 'uplink, raw QEMU (10.60.0.x)', upcap => '  of which cables captured', upnocap => '  of which captures off');
print "  downtime = QEMU's own (query-migrate) + the switch-over: the source's MIGRATION \"completed\" event (QEMU's time\n"
    . "  stamp) to the destination's cont answered; cmcd's from its own records, by hand's the same way (qmp-call -w, -T)\n";
printf "  %-30s %7s %8s %12s %8s %10s %8s %8s\n", 'p50', 'samples', 'total s', 'downtime ms', 'QEMU ms', 'switch ms', 'MiB',
	'Mbit/s';
for my $path (qw(cmcd lane uplink upcap upnocap)) {
	next unless @{ $res{$path} // [] };
	printf "  %-30s %7d %8.2f %12.1f %8d %10.1f %8.2f %8d\n", $label{$path}, scalar @{ $res{$path} },
		p50($path, 'total_ms') / 1000, p50($path, 'downtime_ms'), p50($path, 'qemu_ms'), p50($path, 'share_ms'),
		p50($path, 'bytes') / $MiB, p50($path, 'mbps');
}
my @kinds = qw(total_ms downtime_ms bytes mbps);
printf "  ratio lane/uplink (raw):               total %s, downtime %s, bytes %s, throughput %s\n",
	map { ratio(p50('lane', $_), p50('uplink', $_)) } @kinds;
printf "  ratio lane/uplink (raw, captures off): total %s, downtime %s, bytes %s, throughput %s\n",
	map { ratio(p50('lane', $_), p50('upnocap', $_)) } @kinds if @{ $res{upnocap} // [] };
printf "  ratio lane cmcd/uplink raw:            total %s, downtime %s, bytes %s, throughput %s\n",
	map { ratio(p50('cmcd', $_), p50('uplink', $_)) } @kinds;
printf "  downtime, lane: cmcctl %.1f ms / by hand %.1f ms = ratio %s (target <= 1.3); cmcd's switch-over p50 %.1f ms "
    . "(target <= 15), by hand's %.1f ms\n", p50('cmcd', 'downtime_ms'), p50('lane', 'downtime_ms'),
	ratio(p50('cmcd', 'downtime_ms'), p50('lane', 'downtime_ms')), p50('cmcd', 'share_ms'), p50('lane', 'share_ms');
for my $slot (1, 3) {
	my ($ln, $lb) = @{ $cable{$slot}{lane} };
	my ($un, $ub) = @{ $cable{$slot}{uplink} };
	printf "  cable %d: %d frames of the lane (169.254/16, %d bytes); %d frames of the uplink path (10.60.0/24, %.2f MiB)\n",
		$slot, $ln, $lb, $un, $ub / $MiB;
}
printf "  migrated: over the lane %.2f MiB (cmcd) + %.2f MiB (raw), never captured on a cable; over the uplinks %.2f MiB, "
    . "%.2f MiB of it while the cables were captured\n",
	sum(map { $_->{bytes} } @{ $res{cmcd} }) / $MiB, sum(map { $_->{bytes} } @{ $res{lane} }) / $MiB,
	sum(map { $_->{bytes} } @{ $res{uplink} }) / $MiB, sum(map { $_->{bytes} } @{ $res{upcap} // [] }) / $MiB;
printf "  received by the destination's VF (cmcd's counters): lane %.2f MiB (cmcd) + %.2f MiB (raw), uplink %.2f MiB\n",
	sum(map { $_->{rx} } @{ $res{cmcd} }) / $MiB, sum(map { $_->{rx} } @{ $res{lane} }) / $MiB,
	sum(map { $_->{rx} } @{ $res{uplink} }) / $MiB;
print "  samples: direction total s / downtime ms (QEMU + switch-over) / MiB / Mbit/s; uplink: c cables captured",
	(%busy ? '; * another QEMU ran on the host just before or after it' : ''), "\n";
for my $path (qw(cmcd lane uplink)) {
	printf "    %-7s %s\n", $path, join('  ', map {
		sprintf('%s %.2f/%.1f(%d+%.1f)/%.2f/%d%s%s', $_->{dir} =~ s/blade//gr, $_->{total_ms} / 1000, $_->{downtime_ms},
			$_->{qemu_ms}, $_->{share_ms}, $_->{bytes} / $MiB,
			$_->{mbps}, ($path eq 'uplink' && $_->{captured} ? ' c' : ''), $_->{busy} ? '*' : '')
	} @{ $res{$path} });
}
