#!/usr/bin/perl
# Two instruments of the harness itself. state_dir: a host folder the guest mounts on
# /var/lib/cmc (virtio-9p), so what cmcd stores there outlives a chassis boot, even one
# ended by pulling the power. captures: QEMU's filter-dump writes each cable's frames to
# a pcap file, which t/lib/Pcap.pm reads — first checked here on files written by hand.
# Two boots, root-port layout, kernel igb PFs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path remove_tree);
use Chassis;
use Pcap;

# ---- Pcap.pm on files written here ------------------------------------------------
my $work = Chassis::build_dir() . '/chassis-run/state-capture-pcap';
remove_tree($work);
make_path($work);

sub mac_bytes { pack('H12', $_[0] =~ s/://gr) }
sub eth { my ($dst, $src, @rest) = @_; mac_bytes($dst) . mac_bytes($src) . join('', @rest) }
my @sample = (    # [ frame bytes, length on the wire ]
	[ eth('52:54:00:c0:01:00', '02:00:00:00:00:01', pack('n', 0x0800), "\x45" x 46), 60 ],
	[ eth('ff:ff:ff:ff:ff:ff', '52:54:00:c0:01:00', pack('nnn', 0x8100, 0x2005, 0x0806), "\0" x 28), 46 ],
	[ eth('33:33:00:00:00:01', '02:00:00:00:00:01', pack('nnnnn', 0x88a8, 100, 0x8100, 7, 0x86dd), "\0" x 40), 62 ],
	[ eth('02:00:00:00:00:01', '52:54:00:c0:01:00', pack('n', 0x0800), "\0" x 6), 1514 ],   # snapped at 20
);
# A classic pcap file: $u32 is 'V' (little-endian) or 'N' (big-endian).
sub pcap_file {
	my ($name, $u32, %o) = @_;
	my $u16 = $u32 eq 'V' ? 'v' : 'n';
	my $buf = pack("${u32}${u16}2${u32}4", $o{magic} // 0xa1b2c3d4, 2, 4, 0, 0, 65535, $o{linktype} // 1);
	my $i = 0;
	for my $r (@{ $o{records} // \@sample }) {
		$buf .= pack("${u32}4", 1700000000 + $i, $o{nsec} ? 5e8 : 5e5, length $r->[0], $r->[1]) . $r->[0];
		$i++;
	}
	$buf .= $o{tail} // '';
	my $path = "$work/$name.pcap";
	open(my $f, '>:raw', $path) or die "$path: $!";
	print $f $buf;
	close $f;
	return $path;
}
sub summary { [ map { [ @$_{qw(dst src ethertype vlan len caplen)}, "@{ $_->{vlans} }" ] } @_ ] }
my $expect = [
	[ '52:54:00:c0:01:00', '02:00:00:00:00:01', 0x0800, undef, 60,   60, '' ],
	[ 'ff:ff:ff:ff:ff:ff', '52:54:00:c0:01:00', 0x0806, 5,     46,   46, '5' ],
	[ '33:33:00:00:00:01', '02:00:00:00:00:01', 0x86dd, 100,   62,   62, '100 7' ],
	[ '02:00:00:00:00:01', '52:54:00:c0:01:00', 0x0800, undef, 1514, 20, '' ],
];
my $le = pcap_file('le', 'V');
my $be = pcap_file('be', 'N');
my $p = Pcap::read_file($le);
is($p->{byte_order}, 'le', 'little-endian file recognised');
is_deeply(summary(@{ $p->{frames} }), $expect, 'little-endian: MACs, ethertype after the tags, VLAN ids, lengths');
is($p->{frames}[1]{ts}, 1700000001.5, 'timestamp in seconds (microseconds)');
is(Pcap::read_file($be)->{byte_order}, 'be', 'big-endian file recognised');
is_deeply(summary(Pcap::frames($be)), $expect, 'big-endian: the same frames');
my $nsec = pcap_file('nsec', 'V', magic => 0xa1b23c4d, nsec => 1);
is((Pcap::frames($nsec))[0]{ts}, 1700000000.5, 'nanosecond timestamps');
is($p->{frames}[0]{data}, $sample[0][0], 'data holds the frame from its destination MAC on');
is(scalar Pcap::frames_between($le, '52:54:00:C0:01:00', '02-00-00-00-00-01'), 2,
	'frames_between: both directions, any MAC spelling');
is(scalar Pcap::frames_between($le, '52:54:00:c0:01:00', '33:33:00:00:00:01'), 0, 'frames_between: no others');
is(Pcap::count($le, sub { $_->{src} eq '52:54:00:c0:01:00' }), 2, 'count with a predicate');
is(Pcap::count($be), 4, 'count of every frame');

# Files still being written: a last record cut short, a header not yet complete.
my $cut = pcap_file('cut', 'N', tail => pack('N4', 1700000009, 0, 60, 60) . ('x' x 25));
$p = Pcap::read_file($cut);
is(scalar @{ $p->{frames} }, 4, 'a last record cut short is left out');
ok($p->{partial}, 'and the file is reported partial');
$cut = pcap_file('cut-header', 'V', tail => pack('V2', 1, 2));
is(scalar Pcap::frames($cut), 4, 'a record header cut short too');
ok(!Pcap::read_file($le)->{partial}, 'a whole file is not partial');
my $short = "$work/short.pcap";
{ open(my $f, '>:raw', $short) or die "$short: $!"; print $f pack('V v2', 0xa1b2c3d4, 2, 4); }
is(scalar Pcap::frames($short), 0, 'a header not yet complete: no frames');
my $empty = pcap_file('empty', 'V', records => []);
is(scalar Pcap::frames($empty), 0, 'a header alone: no frames');
ok(!eval { Pcap::frames(pcap_file('radiotap', 'V', linktype => 127)); 1 }, 'a non-Ethernet capture dies');
like($@, qr/link type 127/, '... naming the link type');
ok(!eval { Pcap::frames(pcap_file('bad', 'V', magic => 0x0a0d0d0a)); 1 }, 'a pcapng (or any other) file dies');
ok(!eval { Pcap::frames("$work/none.pcap"); 1 }, 'a missing file dies');

# ---- the chassis -------------------------------------------------------------------
# The state folder lives outside the run directory (which each start empties).
my $state = Chassis::build_dir() . '/chassis-run/state-capture.state';
remove_tree($state);
make_path($state);
open(my $hf, '>', "$state/from-host") or die "$state: $!";
print $hf "written on the host\n";
close $hf;

my %opt = (name => 'state-capture', layout => 'rootports', state_dir => $state, captures => 1, slots => [
	{ slot => 1, cable => 1 },               # the port that talks
	{ slot => 2, cable => 1, hub => 1 },     # a cable into a switch of its own
	{ slot => 3, cable => 1 },               # a cable into the same switch as slot 1
]);
my $c = Chassis->new(%opt);
is($c->capture_path(4), undef, 'capture_path of a slot with no cable is undef');
$c->start;
note(sprintf('boot 1 (with state_dir) in %.1f s', $c->boot_seconds));
like($c->run('grep " /var/lib/cmc " /proc/mounts'), qr{^cmcstate /var/lib/cmc 9p }, 'boot 1: /var/lib/cmc is the 9p export');
is($c->run('chassis_pfs'), "0000:01:00.0\n0000:02:00.0\n0000:03:00.0\n",
	'the 9p device on the root bus moves no card: PFs at 01:00.0, 02:00.0, 03:00.0');
is($c->run('cat /var/lib/cmc/from-host'), "written on the host\n", 'the guest reads what the host put there');
my $stamp = "boot 1 " . time;
is(($c->run("echo '$stamp' > /var/lib/cmc/survivor.tmp && mv /var/lib/cmc/survivor.tmp /var/lib/cmc/survivor"))[0], 0,
	'the guest writes a file and renames it into place');
ok(-f "$state/survivor" && !-e "$state/survivor.tmp", 'the host sees the renamed file at once');

my ($mac1, $mac3) = map { $c->card_mac($_) } 1, 3;
my ($dev1, $dev3) = map { $c->run("pci_netdev 0000:0$_:00.0") =~ s/\s+//gr } 1, 3;
is($c->run("cat /sys/class/net/$dev1/address"), "$mac1\n", "slot 1's PF is $dev1 with MAC $mac1");
is(($c->run("ip addr add 10.99.0.1/24 dev $dev1 && ip link set $dev1 up && ip link set $dev3 up && "
	. "wait_for 150 'grep -q 1 /sys/class/net/$dev1/carrier && grep -q 1 /sys/class/net/$dev3/carrier'", timeout => 30))[0],
	0, 'PFs of slots 1 and 3 up, with carrier');
$c->run("arping -c 3 -I $dev1 10.99.0.2", timeout => 30);    # nobody answers: rc 1
my $arp_from_1 = sub { $_->{src} eq $mac1 && $_->{dst} eq 'ff:ff:ff:ff:ff:ff' && $_->{ethertype} == 0x0806 };
my $cap1 = $c->capture_path(1);
ok(-f $cap1, "cable 1 is captured ($cap1)");
cmp_ok(Pcap::count($cap1, $arp_from_1), '>=', 3, "cable 1's capture holds the 3 ARP requests slot 1 sent");
cmp_ok(scalar Pcap::frames_between($cap1, $mac1, 'ff:ff:ff:ff:ff:ff'), '>=', 3, '... found by frames_between too');
is(Pcap::count($cap1, sub { $_->{src} ne $mac1 && $_->{src} ne $mac3 }), 0, 'and nothing from any other MAC');
is(Pcap::count($c->capture_path(2), sub { 1 }), 0, "cable 2, on another hub with its PF down: no frame at all");
cmp_ok(Pcap::count($c->capture_path(3), $arp_from_1), '>=', 3, 'cable 3, on the same hub as slot 1: its broadcasts');
# Pull the power: no poweroff, no sync in the guest.
$c->kill;
ok(!$c->alive, 'boot 1 ended by killing QEMU');

my $c2 = Chassis->new(%opt);
$c2->start;
note(sprintf('boot 2 (with state_dir) in %.1f s', $c2->boot_seconds));
is($c2->run('cat /var/lib/cmc/survivor'), "$stamp\n", 'boot 2: the file written in boot 1 is there');
is($c2->run('ls /var/lib/cmc | sort | tr "\n" " "'), 'from-host survivor ', 'and nothing else (no leftover .tmp)');
$c2->stop;
ok(!$c2->alive, 'boot 2 stopped');
done_testing;
