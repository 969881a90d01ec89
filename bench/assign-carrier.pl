#!/usr/bin/perl
# From handing a VF to a blade to the blade seeing carrier on it, in one boot of the
# emulated chassis (root-port layout):
#   cmc       `cmcctl assign slot 1 vf V blade blade1`: cmcd (igb-vfio PF, slot 1) sets the
#             VF up on the card, moves its netdev into the blade's namespace as s1vV and
#             sets it up; `cmcctl unassign` takes it back (root namespace, down);
#   baseline  the same by hand on the kernel igb PF (slot 2, only watched by cmcd): VFs
#             enabled through sysfs, then per sample `ip link set PF vf V mac ...`, the
#             VF's netdev moved into namespace base1 and set up; moved back and down after.
# Each sample runs inside the guest, from before the first command to the first LOWER_UP
# seen by a polling loop (10 ms naps), timed with /proc/uptime (10 ms resolution). The
# samples cycle over VFs 0..3 and the two paths alternate. Prints every sample, p50 and
# p99 (nearest rank), min, max and the ratios cmc/baseline, and the p50 of the commands'
# own time (cmcctl assign returns once the netdev is up in the blade); asserts nothing
# about time.
# Each sample is shown with how long before it the same VF last had carrier (or, the
# first time, was probed): igbvf resets itself at most once in 10 s (igbvf_has_link), so
# a bring-up that needs a VF reset sooner waits out the rest (~8 s samples). Sampling
# starts --settle seconds (default 10) after both cards' VFs were probed, so that no
# path's first sample pays for the VFs having just been created.
#   CMC_BUILD=build bench/assign-carrier.pl [--iterations N] [--settle S] [--idle-wait S]
# Waits (up to --idle-wait, default 900 s) until no other qemu-system-x86_64 runs on
# the host before booting: figures taken beside another guest are not comparable.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Chassis;
use File::Basename qw(basename);
use Getopt::Long qw(GetOptions);
use MIME::Base64 qw(encode_base64);
use POSIX qw(ceil);
use Time::HiRes qw(time sleep);

$| = 1;
my ($iterations, $settle, $idle_wait) = (8, 10, 900);
GetOptions('iterations=i' => \$iterations, 'settle=i' => \$settle, 'idle-wait=i' => \$idle_wait)
    && $iterations >= 1 && $settle >= 0 && $idle_wait >= 0
    or die "usage: $0 [--iterations N (default 8)] [--settle SECONDS (default 10)] [--idle-wait SECONDS (default 900)]\n";

my $PF1 = '0000:01:00.0';    # slot 1: cmcd's igb-vfio PF
my $PF2 = '0000:02:00.0';    # slot 2: the kernel igb PF, the baseline

# The guest's side, sourced (after guest-lib.sh's helpers) by every command below.
my $GUEST = <<'SH';
LIMIT=6000	# centiseconds without carrier: a timeout
# NOW: centiseconds since boot, from /proc/uptime, without starting a process.
now() { read -r _u _r < /proc/uptime; NOW=$(( ${_u%.*} * 100 + 1${_u#*.} - 100 )); }
secs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }
guest_secs() { now; secs $NOW; }
# Poll until NS's DEV shows LOWER_UP: the seconds since T0, or "timeout" after LIMIT.
carrier_since() {
	while :; do
		case $(ip -n "$1" -o link show "$2" 2>/dev/null) in
		*LOWER_UP*) now; secs $((NOW - $3)); return 0 ;;
		esac
		now
		[ $((NOW - $3)) -lt $LIMIT ] || { echo timeout; return 1; }
		usleep 10000
	done
}
# cmc: assign VF $1 of slot 1 to blade1 -> "CARRIER_SECONDS COMMAND_SECONDS START_UPTIME".
cmc_sample() {
	now; _t0=$NOW
	_o=$(cmcctl assign slot 1 vf "$1" blade blade1 2>&1) || { echo "cmcctl assign slot 1 vf $1 blade blade1 failed: $_o"; return 1; }
	now; _ta=$NOW
	_c=$(carrier_since blade1 "s1v$1" $_t0) || { echo "no LOWER_UP on s1v$1 in blade1 within $(secs $LIMIT) s"; return 1; }
	echo "$_c $(secs $((_ta - _t0))) $(secs $_t0)"
}
cmc_back() {
	_o=$(cmcctl unassign slot 1 vf "$1" 2>&1) || { echo "cmcctl unassign slot 1 vf $1 failed: $_o"; return 1; }
	wait_for 100 "ip -o link show s1v$1 >/dev/null 2>&1" || { echo "s1v$1 did not come back to the root namespace"; return 1; }
	! ip -o link show "s1v$1" | grep -q '[<,]UP[,>]' || { echo "s1v$1 is back but up"; return 1; }
}
# Baseline: the kernel PF up, 4 VFs through sysfs, namespace base1 -> "PFDEV VFDEV0..3".
base_setup() {
	_p=$(pci_netdev $1); [ -n "$_p" ] || { echo "$1 has no netdev"; return 1; }
	ip link set "$_p" up || return 1
	echo 4 > "$PCI/$1/sriov_numvfs" || return 1
	wait_for 600 "vfs_have_netdevs $1" || { echo "the VFs of $1 have no netdevs after 60 s"; return 1; }
	# The kernel PF gives its VFs link only with its own: not part of any sample.
	wait_for 600 "ip -o link show $_p | grep -q LOWER_UP" || { echo "$_p (PF $1) has no carrier after 60 s"; return 1; }
	[ -e /run/netns/base1 ] || ip netns add base1 || return 1
	ip -n base1 link set lo up || return 1
	echo "$_p" $(for _v in $(pf_vfs $1); do pci_netdev $_v; done)
}
# PFDEV VF VFDEV -> "CARRIER_SECONDS COMMAND_SECONDS START_UPTIME".
base_sample() {
	now; _t0=$NOW
	ip link set "$1" vf "$2" mac "02:bb:00:00:00:0$2" && ip link set "$3" netns base1 &&
		ip -n base1 link set "$3" up || { echo "moving $3 (VF $2 of $1) into base1 failed"; return 1; }
	now; _ta=$NOW
	_c=$(carrier_since base1 "$3" $_t0) || { echo "no LOWER_UP on $3 in base1 within $(secs $LIMIT) s"; return 1; }
	echo "$_c $(secs $((_ta - _t0))) $(secs $_t0)"
}
base_back() {
	ip -n base1 link set "$1" down && ip -n base1 link set "$1" netns 1 && ip link show "$1" >/dev/null
}
SH

# --- The host: wait for it to be quiet -------------------------------------------------
# QEMU processes on the host but ours (the child of the chassis' timeout(1), once started).
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
my $busy_note = '';
if (my @q = other_qemus()) {
	print "assign-carrier: waiting (up to $idle_wait s) for other QEMU guests to end (pid @q)\n";
	my $end = time + $idle_wait;
	sleep 5 while (@q = other_qemus()) && time < $end;
	if (@q) {
		$busy_note = "other QEMU guests were running (pid @q): the figures are skewed";
		warn "assign-carrier: $busy_note\n";
	}
}

# --- The chassis --------------------------------------------------------------------------
my $t_start = time;
$c = Chassis->new(name => 'bench-assign', layout => 'rootports',
	slots => [ { slot => 1 }, { slot => 2, cable => 1 } ]);
$c->start;
my $lib = '. /tmp/bench-assign.sh';

# Diagnostics, the console log, then out (the chassis is killed).
sub failed {
	my ($what) = @_;
	print STDERR "assign-carrier: $what\n";
	for my $cmd ('cmcctl events', 'cmcctl -j assignments', 'for n in "" blade1 base1; do echo "== netns ${n:-root}"; ip ${n:+-n $n} -o link show; done',
	    'tail -50 /tmp/syslog', 'dmesg | tail -40') {
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

my $b64 = encode_base64($GUEST, '');
run('rm -f /tmp/bench-assign.b64');
run("printf %s '$_' >> /tmp/bench-assign.b64") for unpack('(A800)*', $b64);
run('base64 -d /tmp/bench-assign.b64 > /tmp/bench-assign.sh');
# cmcd logs to syslog once detached: kept for the diagnostics.
$c->run('syslogd -O /tmp/syslog');
my $t = time;
run("cmcd -c /cmc/conf/emulated-bench.conf && wait_for 600 'vfs_probed $PF1'", timeout => 120);
my $cmcd_ready = time - $t;
my $bound_at = run("$lib; guest_secs");    # guest seconds, VFs just probed
# Slot 1's port link (cmcd's PF driver brings it up): not part of any sample, as the
# baseline's PF carrier is not (base_setup waits for it).
run(q{wait_for 600 'cmcctl events | grep -q "link-up *1 *pf 0"'}, timeout => 120);
my $port_up = time - $t;
my ($pfdev, @vfdev) = split ' ', run("$lib; base_setup $PF2", timeout => 120);
failed("the baseline's PF $PF2 has " . scalar(@vfdev) . " VF netdevs, not 4: $pfdev @vfdev") unless @vfdev == 4;
my $base_at = run("$lib; guest_secs");    # the kernel PF's VFs probed
sleep $settle;

# last{path}[vf]: guest seconds when that VF last had carrier on that path (first: when
# it was probed), to show how far apart a VF's bring-ups were.
my (%carrier, %cmd, %gap, %last, @order, %busy);
$last{cmc} = [ ($bound_at) x 4 ];
$last{baseline} = [ ($base_at) x 4 ];
for my $i (0 .. $iterations - 1) {
	my $v = $i % 4;
	for my $p ([ cmc => "cmc_sample $v", "cmc_back $v" ],
		   [ baseline => "base_sample $pfdev $v $vfdev[$v]", "base_back $vfdev[$v]" ]) {
		my ($path, $sample, $back) = @$p;
		my ($rc, $out) = $c->run("$lib; $sample", timeout => 120);
		$out =~ s/\s+\z//;
		failed("$path, VF $v: $out") if $rc || $out !~ /^(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)$/;
		push @{ $carrier{$path} }, $1;
		push @{ $cmd{$path} }, $2;
		push @{ $gap{$path} }, sprintf('%.0f', $3 - $last{$path}[$v]);
		$last{$path}[$v] = $3 + $1;
		run("$lib; $back && sleep 1");
	}
	push @order, $v;
	$busy{$_} = 1 for other_qemus();
}
$c->stop;
my $took = time - $t_start;
$busy_note ||= 'other QEMU guests ran during the samples (pid ' . join(' ', sort keys %busy) . '): the figures are skewed' if %busy;

# --- Report -------------------------------------------------------------------------------
# Nearest rank: the smallest sample with at least p% of the samples at or below it.
sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v; $v[ceil($p / 100 * @v) - 1] }
sub min { (sort { $a <=> $b } @_)[0] }
sub max { (sort { $b <=> $a } @_)[0] }
sub ratio { $_[1] > 0 ? sprintf('%.3f', $_[0] / $_[1]) : 'n/a' }
my $n = $iterations;
print "assign-carrier: VF handed to a blade -> carrier in the blade, emulated chassis (TCG), one boot\n";
print "  ($busy_note)\n" if $busy_note;
printf "  run %.0f s (after the wait for an idle host); boot %.0f s; cmcd up with slot 1's VFs probed after %.0f s, its port link up after %.0f s\n",
	$took, $c->boot_seconds // 0, $cmcd_ready, $port_up;
printf "  %d samples per path from %d s after the VFs were probed, VFs %s (the first 4 are each VF's first bring-up)\n",
	$n, $settle, join(',', @order);
printf "  %-30s %6s %6s %6s %6s %14s\n", 'seconds', 'p50', 'p99', 'min', 'max', 'command p50';
my %label = (cmc => 'cmc (cmcctl assign, igb-vfio)', baseline => 'baseline (ip, kernel igb PF)');
for my $path (qw(cmc baseline)) {
	my @v = @{ $carrier{$path} };
	printf "  %-30s %6.2f %6.2f %6.2f %6.2f %14.2f\n", $label{$path}, pct(50, @v), pct(99, @v), min(@v), max(@v),
		pct(50, @{ $cmd{$path} });
}
printf "  ratio cmc/baseline: p50 %s, p99 %s\n", ratio(pct(50, @{ $carrier{cmc} }), pct(50, @{ $carrier{baseline} })),
	ratio(pct(99, @{ $carrier{cmc} }), pct(99, @{ $carrier{baseline} }));
print "  p99 is the nearest rank: with fewer than 100 samples it is the max\n" if $n < 100;
print "  samples: carrier s [s since that VF last had carrier on that path; first use: since it was probed]\n";
for my $path (qw(cmc baseline)) {
	printf "    %-8s %s\n", $path, join('  ', map { "$carrier{$path}[$_] [$gap{$path}[$_]]" } 0 .. $n - 1);
}
