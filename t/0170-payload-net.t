#!/usr/bin/perl
# The test VM payload's network, on the host (no chassis): the payload (t/vm/payload.c,
# net.c) runs under the host's qemu-system-x86_64 (TCG, -machine pc) with an e1000 on a
# tap in a fresh network namespace, bridged (br0, 10.1.2.1/24) with the host side; the
# payload has ip=10.1.2.3 and the MAC given on QEMU's command line. The test itself moves
# into that namespace (setns) so its sockets and QEMU's taps live there; END kills the
# QEMUs it started and deletes the namespace (taps and bridge go with it).
#
# Checked: the payload reports its NIC up with that MAC; its gratuitous ARP put it in the
# host's neighbour table before any ping (arp_accept on br0); with the table flushed, ARP
# resolves it to that MAC; 20 pings all answered; pings with 1400 and 1472 data bytes (a
# 1500-byte IP packet: the MTU) answered with the same data; frames the payload must not
# answer (an echo request for another IP sent to its MAC, an ARP request for another IP,
# an echo request with a bad checksum, a UDP datagram) get no answer while the same
# injection path with a right echo request does; the state block's counters equal what a
# packet socket on the VM's tap saw go in and out; its NIC interrupt was taken; its
# self-check has no error. Then a live migration to a second QEMU on the same bridge
# (unix socket, -incoming), while the host pings every 10 ms: the pings are answered
# again after it (by the destination: its echo counter grows past the source's final
# one), the destination did not set its NIC up again, and its self-check has no error.
# The longest gap between answers is printed (prove -v), never asserted. Last, the payload
# without ip= leaves its NIC alone, with ip= and no NIC says so, and with a malformed ip=
# too; each time it runs on (counter, self-check).
use strict;
use warnings;
no warnings qw(portable);	# hex() of 64-bit words
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Socket qw(AF_INET SOCK_RAW SOL_SOCKET inet_aton sockaddr_in);
use IO::Socket::UNIX;
use IO::Select;
use JSON::PP;
use Config;
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use Chassis;

my $PAYLOAD = Chassis::build_dir() . '/vm/payload.elf';
my ($NS, $IP, $OTHER, $HOST_IP, $MAC) = ("cmc-pnet-$$", '10.1.2.3', '10.1.2.99', '10.1.2.1', '52:54:00:c3:4d:01');
my $main_pid = $$;
my %SYS_SETNS = (x86_64 => 308, aarch64 => 268);
my ($arch) = $Config{archname} =~ /^([^-]+)/;

plan skip_all => 'not root' if $> != 0;
plan skip_all => 'no /dev/net/tun' unless -c '/dev/net/tun';
plan skip_all => 'no qemu-system-x86_64' unless grep { -x "$_/qemu-system-x86_64" } split /:/, $ENV{PATH};
plan skip_all => "setns: no syscall number known for $arch" unless $SYS_SETNS{$arch};
BAIL_OUT("$PAYLOAD not built: run make") unless -f $PAYLOAD;

my $dir = tempdir(CLEANUP => 1);
my @qemu_pids;
my $ns_made;
$SIG{INT} = $SIG{TERM} = sub { exit 1 };	# END still cleans up
END {
	return if $$ != $main_pid;	# not in the pinger
	my $rc = $?;
	for my $pid (@qemu_pids) { kill 'KILL', $pid if $pid }
	for my $pid (@qemu_pids) { waitpid($pid, 0) if $pid }
	system('ip', 'netns', 'del', $NS) if $ns_made;
	$? = $rc;
}
sub sh { my $out = `$_[0] 2>&1`; return ($? >> 8, $out) }
sub must { my ($rc, $out) = sh($_[0]); BAIL_OUT("$_[0]: $out") if $rc; $out }

# --- the namespace: br0 (the host side) with tapA and tapB for the two QEMUs -----------
must("ip netns add $NS");
$ns_made = 1;
open(my $nsfd, '<', "/run/netns/$NS") or BAIL_OUT("/run/netns/$NS: $!");
syscall($SYS_SETNS{$arch}, fileno($nsfd), 0x40000000) == 0 or BAIL_OUT("setns: $!");	# CLONE_NEWNET
# No IPv6 (its router and neighbour solicitations would reach the VM uncounted); the
# bridge takes entries from gratuitous ARP (arp_accept), which the payload sends once.
must('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1');
must('ip link set lo up && ip link add br0 type bridge && sysctl -qw net.ipv4.conf.br0.arp_accept=1');
must("ip tuntap add dev $_ mode tap && ip link set $_ master br0 && ip link set $_ up") for qw(tapA tapB);
must("ip addr add $HOST_IP/24 dev br0 && ip link set br0 up");

# --- QEMU, QMP, the state block --------------------------------------------------------
# Options: tap (the NIC's tap; none: no NIC), append (-append; default ip=$IP), extra.
sub start_vm {
	my ($name, %o) = @_;
	my @cmd = ('qemu-system-x86_64', qw(-accel tcg -machine pc -m 64 -nodefaults -display none -no-user-config),
	    '-kernel', $PAYLOAD, '-append', $o{append} // "ip=$IP", '-serial', "file:$dir/$name.serial",
	    '-qmp', "unix:$dir/$name.qmp,server=on,wait=off", '-pidfile', "$dir/$name.pid", '-daemonize',
	    ($o{tap} ? ('-netdev', "tap,id=n0,ifname=$o{tap},script=no,downscript=no", '-device', "e1000,netdev=n0,mac=$MAC") : ()),
	    @{ $o{extra} // [] });
	my $rc = system(@cmd);
	my $pid = `cat $dir/$name.pid 2>/dev/null` =~ /(\d+)/ ? $1 : 0;
	push @qemu_pids, $pid;
	return $rc == 0 && $pid;
}
sub stop_vm {	# and wait (5 s at most) until it has gone, its tap free again
	my ($name) = @_;
	my $pid = `cat $dir/$name.pid 2>/dev/null` =~ /(\d+)/ ? $1 : return;
	kill 'KILL', $pid;
	for (my $end = time + 5; time < $end && kill(0, $pid); sleep 0.05) {}
}
sub qmp_open {
	my ($name) = @_;
	my $s = IO::Socket::UNIX->new(Peer => "$dir/$name.qmp") or return undef;
	my $q = { s => $s, buf => '' };
	qmp_read($q) or return undef;	# the greeting
	return qmp($q, 'qmp_capabilities') ? $q : undef;
}
sub qmp_read {	# one message, undef after 20 s
	my ($q) = @_;
	my $sel = IO::Select->new($q->{s});
	my $end = time + 20;
	while (time < $end) {
		return decode_json($1) if $q->{buf} =~ s/\A([^\n]*)\r?\n//;
		$sel->can_read(1) or next;
		sysread($q->{s}, my $chunk, 65536) or return undef;
		$q->{buf} .= $chunk;
	}
	return undef;
}
sub qmp {	# the command's return value (a {} for none); undef on error
	my ($q, $cmd, $args) = @_;
	syswrite($q->{s}, encode_json({ execute => $cmd, (defined $args ? (arguments => $args) : ()) }) . "\n");
	while (my $m = qmp_read($q)) {
		next if $m->{event};
		diag("$cmd: " . encode_json($m->{error})) if $m->{error};
		return $m->{return};
	}
	return undef;
}
# The state block (t/vm/payload.c's header): 17 u64 words at 0x200000.
my @FIELDS = qw(counter mirror errors sweeps magic status_w rate_w base_w rx tx arp echo dropped net_w mac irq_w bdf_w);
sub vm_state {
	my ($q) = @_;
	my $out = qmp($q, 'human-monitor-command', { 'command-line' => 'xp /17gx 0x200000' }) // return {};
	my @w = map { hex } $out =~ /\b0x([0-9a-f]{16})\b/g;
	return {} unless @w == 17;
	my %s;
	@s{@FIELDS} = @w;
	$s{status} = $s{status_w} & 0xffffffff;
	$s{net_status} = $s{net_w} & 0xffffffff;
	$s{ip} = join('.', unpack('C4', pack('V', $s{net_w} >> 32)));
	$s{mac} = join(':', map { sprintf '%02x', $_ } unpack('C6', pack('VV', $s{mac} & 0xffffffff, $s{mac} >> 32)));
	$s{irq} = $s{irq_w} & 0xffffffff;
	$s{irqs} = $s{irq_w} >> 32;
	$s{bdf} = $s{bdf_w} & 0xffffffff;
	$s{reinits} = $s{bdf_w} >> 32;
	return \%s;
}
sub wait_state {
	my ($q, $timeout, $cond) = @_;
	my $s = {};
	for (my $end = time + $timeout; time < $end; sleep 0.2) {
		$s = vm_state($q);
		return $s if %$s && $cond->($s);
	}
	return $s;
}

# --- frames: ICMP over a raw socket (as ping does), Ethernet over packet sockets --------
sub csum {
	my $d = shift;
	$d .= "\0" if length($d) % 2;
	my $s = 0;
	$s += $_ for unpack('n*', $d);
	$s = ($s & 0xffff) + ($s >> 16) while $s >> 16;
	return ~$s & 0xffff;
}
sub echo_request {
	my ($id, $seq, $data) = @_;
	my $m = pack('CCnnn', 8, 0, 0, $id, $seq) . $data;
	substr($m, 2, 2) = pack('n', csum($m));
	return $m;
}
socket(my $icmp, AF_INET, SOCK_RAW, 1) or BAIL_OUT("raw ICMP socket: $!");
# Pings $IP once with $data; the reply's data, or undef after $wait s.
sub ping_once {
	my ($id, $seq, $data, $wait) = @_;
	send($icmp, echo_request($id, $seq, $data), 0, sockaddr_in(0, inet_aton($IP))) or return undef;
	my $end = time + ($wait // 2);
	my $sel = IO::Select->new($icmp);
	while ((my $left = $end - time) > 0) {
		$sel->can_read($left) or last;
		recv($icmp, my $buf, 65535, 0) // last;
		my $ihl = (ord($buf) & 15) * 4;
		my ($type, $code, $sum, $rid, $rseq) = unpack('CCnnn', substr($buf, $ihl));
		return substr($buf, $ihl + 8) if $type == 0 && $rid == $id && $rseq == $seq;
	}
	return undef;
}

use constant { AF_PACKET => 17, ETH_P_ALL => 0x0003, PACKET_OUTGOING => 4, SO_RCVBUFFORCE => 33 };
# (/sys still shows the namespace the test started in: ask ip.)
sub ifindex { my $i = `ip -o link show dev $_[0] 2>/dev/null`; $i =~ /^(\d+):/ ? $1 : BAIL_OUT("no $_[0]") }
sub packet_socket {	# bound to one interface, every protocol
	my ($ifname) = @_;
	socket(my $p, AF_PACKET, SOCK_RAW, unpack('n', pack('S', ETH_P_ALL))) or BAIL_OUT("packet socket: $!");
	bind($p, pack('S n i S C C a8', AF_PACKET, ETH_P_ALL, ifindex($ifname), 0, 0, 0, '')) or BAIL_OUT("bind $ifname: $!");
	return $p;
}
my $MACB = pack('C6', map { hex } split /:/, $MAC);
my $BCAST = "\xff" x 6;
# What a packet socket on tapA saw since the last call: frames to the VM its NIC accepts
# (to its MAC or broadcast) and frames from the VM, by kind.
my $sniff = packet_socket('tapA');
setsockopt($sniff, SOL_SOCKET, SO_RCVBUFFORCE, pack('i', 32 << 20));
sub sniffed {
	my %c = map { $_ => 0 } qw(in out arp echo);
	$sniff->blocking(0);
	while (defined(my $from = recv($sniff, my $f, 65535, 0))) {
		my (undef, undef, undef, undef, $pkttype) = unpack('S n i S C', $from);
		my ($dst, $src, $type) = unpack('a6 a6 n', $f);
		if ($pkttype == PACKET_OUTGOING) {	# the host sends it into the tap: to the VM
			$c{in}++ if $dst eq $MACB || $dst eq $BCAST;
		} elsif ($src eq $MACB) {
			$c{out}++;
			$c{arp}++ if $type == 0x0806 && unpack('n', substr($f, 20, 2)) == 2;
			$c{echo}++ if $type == 0x0800 && ord(substr($f, 23, 1)) == 1 && ord(substr($f, 14 + (ord(substr($f, 14, 1)) & 15) * 4, 1)) == 0;
		}
	}
	return \%c;
}
# The same, added to %seen: everything since the baseline is counted once.
my %seen = map { $_ => 0 } qw(in out arp echo);
sub tally { my $c = sniffed(); $seen{$_} += $c->{$_} for keys %seen; return $c }

# --- the VM ------------------------------------------------------------------------------
ok(start_vm('vmA', tap => 'tapA'), 'QEMU with the payload and an e1000 on tapA started');
my $qa = qmp_open('vmA') or BAIL_OUT('no QMP on vmA');
my $s0 = wait_state($qa, 60, sub { $_[0]{status} == 2 && $_[0]{net_status} != 1 });
is(sprintf('%x', $s0->{magic} // 0), '434d43564d504c31', 'the payload runs (magic)');
is($s0->{net_status}, 2, 'its network is up (net_status 2)') or diag(sprintf('net_status %#x; serial: %s',
    $s0->{net_status} // -1, `cat $dir/vmA.serial`));
is($s0->{mac}, $MAC, 'the state block holds the MAC given to QEMU');
is($s0->{ip}, $IP, 'and the address given with ip=');
note(sprintf('NIC at 00:%02x.%d, IRQ %d', ($s0->{bdf_w} & 0xff) >> 3, $s0->{bdf_w} & 7, $s0->{irq}));

my ($rc, $neigh) = sh("ip neigh show $IP dev br0");
like($neigh, qr/lladdr \Q$MAC\E/, "its gratuitous ARP put $IP at $MAC in the host's table before any ping");

# The counters are compared from here on (the flush-queue delay QEMU's e1000 applies
# after RCTL is written is over by now: the gratuitous ARP has been seen).
sniffed();
my $c0 = vm_state($qa);

must('ip neigh flush dev br0');
ok(defined ping_once(1, 1, 'a' x 56), "a first ping of $IP is answered");
($rc, $neigh) = sh("ip neigh show $IP dev br0");
like($neigh, qr/lladdr \Q$MAC\E/, "ARP resolved $IP to $MAC again after a flush") or diag($neigh);

my @lost = grep { my $seq = $_; my $d = join('', map { chr(($_ * 7 + $seq) & 0xff) } 1 .. 56); (ping_once(2, $seq, $d) // '') ne $d } 1 .. 20;
is(scalar(@lost), 0, '20 pings all answered with their data') or diag("lost: @lost");
for my $n (1400, 1472) {
	my $d = join('', map { chr(($_ * 13) & 0xff) } 1 .. $n);
	my $r = ping_once(3, $n, $d);
	ok(defined $r && $r eq $d, "a ping with $n data bytes is answered with the same data"
	    . ($n == 1472 ? ' (1500-byte IP packet)' : '')) or diag(defined $r ? 'answered with ' . length($r) . ' bytes' : 'no answer');
}

# --- frames it must not answer, sent straight into tapA ----------------------------------
my $HOSTMAC = `ip -o link show dev br0` =~ m{link/ether ([0-9a-f:]{17})} ? pack('C6', map { hex } split /:/, $1) : BAIL_OUT('br0 MAC');
my $inject = packet_socket('tapA');
sub ipv4 {
	my ($proto, $src, $dst, $payload) = @_;
	my $h = pack('CCnnnCCn a4 a4', 0x45, 0, 20 + length($payload), 7, 0, 64, $proto, 0, inet_aton($src), inet_aton($dst));
	substr($h, 10, 2) = pack('n', csum($h));
	return $h . $payload;
}
sub arp_request { pack('nnCCn a6 a4 a6 a4', 1, 0x0800, 6, 4, 1, $HOSTMAC, inet_aton($HOST_IP), "\0" x 6, inet_aton($_[0])) }
sub frame { my ($dst, $type, $payload) = @_; my $f = $dst . $HOSTMAC . pack('n', $type) . $payload; $f . "\0" x max(0, 60 - length $f) }
# Sends a frame into tapA; what the VM sent back: within 1 s, or as soon as it answers
# when `answered` is set (5 s at most; a late answer to a frame it must not answer
# shows up in the counters below).
sub inject_and_listen {
	my ($f, $answered) = @_;
	tally();
	send($inject, $f, 0) or BAIL_OUT("inject: $!");
	my %c = map { $_ => 0 } qw(in out arp echo);
	for (my $end = time + ($answered ? 5 : 1); time < $end && !($answered && $c{out}); sleep 0.05) {
		my $d = tally();
		$c{$_} += $d->{$_} for keys %c;
	}
	return \%c;
}
my $good = inject_and_listen(frame($MACB, 0x0800, ipv4(1, $HOST_IP, $IP, echo_request(4, 1, 'x' x 32))), 1);
is($good->{echo}, 1, 'control: an echo request for its IP injected the same way is answered');
my $bad_sum = echo_request(4, 2, 'x' x 32);
substr($bad_sum, 8, 1) = 'y';
my %not = (
	"an echo request for $OTHER sent to its MAC" => frame($MACB, 0x0800, ipv4(1, $HOST_IP, $OTHER, echo_request(4, 3, 'x' x 32))),
	"an ARP request for $OTHER" => frame($BCAST, 0x0806, arp_request($OTHER)),
	'an echo request with a wrong ICMP checksum' => frame($MACB, 0x0800, ipv4(1, $HOST_IP, $IP, $bad_sum)),
	'a UDP datagram to its IP' => frame($MACB, 0x0800, ipv4(17, $HOST_IP, $IP, pack('nnnn', 9, 9, 12, 0) . 'abcd')),
);
for my $what (sort keys %not) {
	my $seen = inject_and_listen($not{$what});
	is($seen->{out}, 0, "$what: not answered");
}
my $c2 = vm_state($qa);
is($c2->{dropped} - $c0->{dropped}, scalar(keys %not), 'each of them counted as dropped');

# --- the counters against what went through tapA ------------------------------------------
# Totals since $c0, read when no frame has gone by for a while (a neighbour probe racing
# the read is caught by the second look, and the read taken again).
my $cs;
for my $try (1 .. 5) {
	sleep 0.5;
	tally();
	$cs = vm_state($qa);
	my $b = tally();
	last if !grep { $b->{$_} } keys %$b;
}
is($cs->{rx} - $c0->{rx}, $seen{in}, "frames received = frames into tapA for it ($seen{in})");
is($cs->{tx} - $c0->{tx}, $seen{out}, "frames sent = frames out of tapA from it ($seen{out})");
is($cs->{arp} - $c0->{arp}, $seen{arp}, "ARP replies = ARP replies seen ($seen{arp})");
is($cs->{echo} - $c0->{echo}, $seen{echo}, "echo replies = echo replies seen ($seen{echo})");
is(($cs->{rx} - $c0->{rx}) - ($cs->{arp} - $c0->{arp}) - ($cs->{echo} - $c0->{echo}), $cs->{dropped} - $c0->{dropped},
    'frames received = replies + dropped');
cmp_ok($cs->{irqs} - $c0->{irqs}, '>', 0, "the NIC's interrupt (IRQ $cs->{irq}) was taken (" . ($cs->{irqs} - $c0->{irqs}) . ' times)');
is($cs->{errors}, 0, "the payload's self-check: no error");
cmp_ok($cs->{counter}, '>', $s0->{counter}, 'its counter goes on');
is($cs->{reinits}, 0, 'its NIC never needed setting up again');

# --- live migration to a second QEMU on tapB while the host pings every 10 ms -------------
ok(start_vm('vmB', tap => 'tapB', extra => ['-incoming', "unix:$dir/mig.sock"]), 'a destination QEMU waits on tapB (-incoming unix)');
my $qb = qmp_open('vmB') or BAIL_OUT('no QMP on vmB');
is((qmp($qb, 'query-status') // {})->{status}, 'inmigrate', 'it waits for the migration');

# The pinger: a child that pings every 10 ms until TERM and prints "seq sent replied".
pipe(my $rd, my $wr) or BAIL_OUT("pipe: $!");
my $pinger = fork() // BAIL_OUT("fork: $!");
if (!$pinger) {
	close $rd;
	eval { pinger($wr) };
	POSIX::_exit(0);
}
sub pinger {
	my ($wr) = @_;
	my ($stop, %sent, %got) = (0);
	local $SIG{TERM} = sub { $stop = 1 };
	my $sel = IO::Select->new($icmp);
	my ($seq, $next) = (0, time);
	while (!$stop && $seq < 6000) {	# 60 s at most
		if (time >= $next) {
			$seq++;
			$sent{$seq} = time;
			send($icmp, echo_request(5, $seq, 'm' x 56), 0, sockaddr_in(0, inet_aton($IP)));
			$next += 0.010;
		}
		next unless $sel->can_read(max(0, $next - time));
		recv($icmp, my $buf, 65535, 0) // next;
		my $ihl = (ord($buf) & 15) * 4;
		my ($type, undef, undef, $id, $rseq) = unpack('CCnnn', substr($buf, $ihl));
		$got{$rseq} //= time if $type == 0 && $id == 5;
	}
	printf $wr "%d %.6f %.6f\n", $_, $sent{$_}, $got{$_} // 0 for sort { $a <=> $b } keys %sent;
	close $wr;
}
sub max { $_[0] > $_[1] ? $_[0] : $_[1] }
close $wr;
sleep 1;
my $t0 = time;
ok(defined qmp($qa, 'migrate', { uri => "unix:$dir/mig.sock" }), 'migrate A -> B accepted');
my $m = {};
for (my $end = time + 120; time < $end; sleep 0.2) {
	$m = qmp($qa, 'query-migrate') // last;
	last if ($m->{status} // '') =~ /^(completed|failed|cancelled)$/;
}
my $t_done = time;
is($m->{status}, 'completed', sprintf('the migration completed (%.1f s)', $t_done - $t0)) or diag(encode_json($m));
note(sprintf('migration: total %d ms, downtime %d ms', $m->{'total-time'} // -1, $m->{downtime} // -1));
my $fa = vm_state($qa);	# A is stopped: its final state
sleep 3;
kill 'TERM', $pinger;
my @rows = map { [split] } <$rd>;
waitpid($pinger, 0);
my @answered = grep { $_->[2] > 0 } @rows;
my @after = grep { $_->[2] > $t_done } @answered;
my ($gap, $gap_at, $prev) = (0, 0, $t0 - 1);
for my $t ((map { $_->[2] } @answered), @rows ? $rows[-1][1] : ()) {	# to the last ping sent
	($gap, $gap_at) = ($t - $prev, $prev) if $t - $prev > $gap;
	$prev = $t;
}
note(sprintf('pings every 10 ms: %d sent, %d answered; longest gap between answers %.0f ms, starting %.2f s after migrate',
    scalar(@rows), scalar(@answered), $gap * 1000, $gap_at - $t0));
cmp_ok(scalar(@after), '>', 0, 'pings are answered again after the migration (' . scalar(@after) . ' answers after it completed)');

is((qmp($qb, 'query-status') // {})->{status}, 'running', 'B runs');
my $fb = vm_state($qb);
cmp_ok($fb->{echo}, '>', $fa->{echo}, "B answered them: its echo counter went on from A's final $fa->{echo} to $fb->{echo}");
is($fb->{net_status}, 2, "B's network is up");
is($fb->{reinits}, 0, 'B found its NIC programmed as A left it (no set-up again)');
cmp_ok($fb->{counter}, '>=', $fa->{counter}, "B's counter continues from A's ($fa->{counter} -> $fb->{counter})");
is($fb->{errors}, 0, "the payload's self-check on B: no error");

# --- without ip=, with ip= and no NIC, with a bad ip= --------------------------------------
stop_vm('vmA');	# frees tapA
for my $case (['no ip=: the NIC is left alone', 'rate=100', 'tapA', 0],
	      ['ip= and no NIC: status NET_NO_NIC, the rest runs', "ip=$IP", undef, 0xBAD10001],
	      ['a malformed ip=: status NET_BAD_IP, the NIC is left alone', 'ip=10.1.2', 'tapA', 0xBAD10006]) {
	my ($what, $append, $tap, $want) = @$case;
	stop_vm('vmC');
	sleep 0.5;
	tally();
	start_vm('vmC', tap => $tap, append => $append) or BAIL_OUT('QEMU vmC did not start');
	my $q = qmp_open('vmC') or BAIL_OUT('no QMP on vmC');
	my $s1 = wait_state($q, 60, sub { $_[0]{status} == 2 && $_[0]{counter} > 0 });
	sleep 1.5;
	my $s2 = vm_state($q);
	my $out = $tap ? tally()->{out} : 0;
	ok($s2->{net_status} == $want && $s2->{bdf} == 0 && $s2->{tx} == 0 && $out == 0 && $s2->{counter} > $s1->{counter}
	    && $s2->{errors} == 0, $what) or diag(sprintf('net_status %#x, bdf %#x, tx %d, frames out %d, counter %d -> %d, errors %d',
	    map { $_ // -1 } $s2->{net_status}, $s2->{bdf}, $s2->{tx}, $out, $s1->{counter}, $s2->{counter}, $s2->{errors}));
}

done_testing();
