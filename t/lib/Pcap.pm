# A small reader of classic libpcap files (not pcapng), enough to check what crossed an
# emulated cable: QEMU's filter-dump writes them (Chassis.pm, captures => 1).
#
#   my @f = Pcap::frames($file);      # every frame, in file order
#   my @f = Pcap::frames_between($file, '52:54:00:c0:01:00', 'ff:ff:ff:ff:ff:ff');
#   my $n = Pcap::count($file, sub { $_->{ethertype} == 0x0806 });   # ARP frames
#
# A frame is a hash:
#   dst, src    MACs as "aa:bb:cc:dd:ee:ff" (lower case)
#   ethertype   of the payload, after any VLAN tags (0x0800, 0x0806, 0x86dd, ...)
#   vlan        the outer VLAN id (802.1Q 0x8100 or 802.1ad 0x88a8), undef when untagged;
#   vlans       every tag's id, outer first ([] when untagged)
#   len         the frame's length on the wire; caplen, the bytes captured (≤ len)
#   ts          capture time in seconds (float)
#   data        the captured bytes, from the destination MAC on
#
# Both byte orders and both timestamp precisions (micro, nano) are read. The file may be
# still growing: a header not yet complete gives no frames, and a last record cut short
# (its writer is mid-write) is left out. Only Ethernet captures (link type 1) are read;
# anything else, a missing file or a record no pcap writer could produce dies.
package Pcap;

use strict;
use warnings;
use Carp qw(croak);

use constant LINKTYPE_ETHERNET => 1;
my %MAGIC = (    # magic as read little-endian -> (integer format, timestamp divisor)
	0xa1b2c3d4 => [ 'V', 1e6 ], 0xd4c3b2a1 => [ 'N', 1e6 ],
	0xa1b23c4d => [ 'V', 1e9 ], 0x4d3cb2a1 => [ 'N', 1e9 ],
);
my $MAX_RECORD = 1 << 18;    # larger than any snaplen QEMU or tcpdump writes

# "52:54:00:C0:01:00", "52-54-00-c0-01-00" or "525400c00100" -> "52:54:00:c0:01:00".
sub mac {
	my ($m) = @_;
	(my $hex = lc $m) =~ s/[:.-]//g;
	croak "not a MAC address: $m" unless $hex =~ /^[0-9a-f]{12}$/;
	return join(':', unpack('(A2)6', $hex));
}

# Split an Ethernet frame (bytes from the destination MAC on) into the hash above, less
# the record's own fields (len, ts).
sub parse_frame {
	my ($data) = @_;
	my %f = (data => $data, caplen => length $data, vlans => [], vlan => undef);
	return { %f, dst => undef, src => undef, ethertype => undef } if length $data < 14;
	$f{dst} = join(':', unpack('(H2)6', substr($data, 0, 6)));
	$f{src} = join(':', unpack('(H2)6', substr($data, 6, 6)));
	my $off = 12;
	my $type = unpack('n', substr($data, $off, 2));
	while (($type == 0x8100 || $type == 0x88a8) && length $data >= $off + 6) {
		push @{ $f{vlans} }, unpack('n', substr($data, $off + 2, 2)) & 0x0fff;
		$off += 4;
		$type = unpack('n', substr($data, $off, 2));
	}
	$f{vlan} = $f{vlans}[0];
	$f{ethertype} = $type;
	return \%f;
}

# The whole file: { byte_order => 'le'|'be', nsec => 0|1, snaplen, linktype, frames =>
# [...], partial => 1 when a last record (or the header) was still incomplete }.
sub read_file {
	my ($file) = @_;
	open(my $fh, '<:raw', $file) or croak "pcap $file: $!";
	my $buf = do { local $/; <$fh> } // '';
	close $fh;
	my %p = (frames => [], partial => 0);
	return { %p, partial => 1 } if length $buf < 24;    # the writer has not finished it
	my $magic = unpack('V', $buf);
	my $fmt = $MAGIC{$magic} or croak sprintf('pcap %s: not a classic libpcap file (magic %08x)', $file, $magic);
	my ($u32, $div) = @$fmt;
	@p{qw(byte_order nsec)} = ($u32 eq 'V' ? 'le' : 'be', $div == 1e9 ? 1 : 0);
	@p{qw(snaplen linktype)} = unpack("x16 $u32 $u32", $buf);
	croak "pcap $file: link type $p{linktype}, not Ethernet" unless $p{linktype} == LINKTYPE_ETHERNET;
	my $off = 24;
	while ($off < length $buf) {
		if (length($buf) - $off < 16) { $p{partial} = 1; last }
		my ($sec, $frac, $incl, $orig) = unpack("${u32}4", substr($buf, $off, 16));
		croak "pcap $file: record at byte $off claims $incl bytes" if $incl > $MAX_RECORD;
		if (length($buf) - $off - 16 < $incl) { $p{partial} = 1; last }
		my $f = parse_frame(substr($buf, $off + 16, $incl));
		@$f{qw(len ts)} = ($orig, $sec + $frac / $div);
		push @{ $p{frames} }, $f;
		$off += 16 + $incl;
	}
	return \%p;
}

sub frames { @{ read_file($_[0])->{frames} } }

# Frames from either MAC to the other.
sub frames_between {
	my ($file, $a, $b) = @_;
	($a, $b) = (mac($a), mac($b));
	return grep {
		defined $_->{src} && (($_->{src} eq $a && $_->{dst} eq $b) || ($_->{src} eq $b && $_->{dst} eq $a))
	} frames($file);
}

# How many frames the predicate accepts; it sees the frame as $_ and as its argument.
# With no predicate: every frame.
sub count {
	my ($file, $pred) = @_;
	return scalar(frames($file)) unless $pred;
	return scalar(grep { $pred->($_) } frames($file));
}

1;
