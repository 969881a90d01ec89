#!/usr/bin/perl
# From `ip link set up` of a VF in a blade to its carrier, with the PF driven by cmcd
# from user space (igb-vfio) against the kernel igb PF, in one boot of the emulated
# chassis (root-port layout, one card each). The first bring-up after the VF was enabled
# ("cold", one sample each: it needs the PF's answers) is reported apart from later
# down/up cycles ("warm"), which alternate between the two PFs (the first of each pair
# alternates too). Each time is taken by
# t/tools/carrier-time (the netlink message's arrival, to the microsecond; nothing polls).
# Prints each sample and the ratios; asserts nothing about time.
#   CMC_BUILD=build RUNS=9 bench/vf-carrier.pl
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Chassis;

my $runs = $ENV{RUNS} // 9;
my $c = Chassis->new(name => 'bench-carrier', layout => 'rootports', slots => [ { slot => 1 }, { slot => 2 } ]);
$c->start;
sub run { my ($rc, $out) = $c->run($_[0], timeout => 120); die "bench: '$_[0]' failed: $out" if $rc; $out }
sub median { my @v = sort { $a <=> $b } @_; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }

# Slot 2: cmcd's own PF (a config with only slot 2 on igb-vfio, 1 VF).
run(q{printf 'chassis = { name = "bench"; };\nblades = ( { name = "b1"; id = 1; } );\nslots = ( { slot = 2; policy = "shared"; vfs = 1; driver = "igb-vfio"; } );\n' > /tmp/bench.conf});
run('cmcd -c /tmp/bench.conf && wait_for 300 "vfs_have_netdevs 0000:02:00.0"');
# Slot 1: the kernel igb PF, up, with 1 VF.
run('ip link set $(pci_netdev 0000:01:00.0) up; echo 1 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs; wait_for 100 "vfs_have_netdevs 0000:01:00.0"');
run('ip netns add user; ip netns add kern; ip link set $(pci_netdev 0000:02:10.0) netns user; ip link set $(pci_netdev 0000:01:10.0) netns kern');
my $dev_user = (run('ip -n user -o link | grep -v LOOPBACK | cut -d: -f2') =~ /(\S+)/)[0];
my $dev_kern = (run('ip -n kern -o link | grep -v LOOPBACK | cut -d: -f2') =~ /(\S+)/)[0];

my (@user, @kern, %cold);
for my $s ([ 'user', $dev_user ], [ 'kern', $dev_kern ]) {
	my ($ns, $dev) = @$s;
	$cold{$ns} = run("carrier-time $ns $dev") =~ s/\s+//gr;
	die "bench: no carrier on $ns/$dev\n" if $cold{$ns} eq 'timeout';
}
for my $i (1 .. $runs) {
	# Which PF goes first alternates, so that neither always follows the other's up.
	my @pair = ([ 'user', $dev_user, \@user ], [ 'kern', $dev_kern, \@kern ]);
	for my $s ($i % 2 ? @pair : reverse @pair) {
		my ($ns, $dev, $acc) = @$s;
		run("ip -n $ns link set $dev down; sleep 1");
		my $t = run("carrier-time $ns $dev") =~ s/\s+//gr;
		die "bench: no carrier on $ns/$dev\n" if $t eq 'timeout';
		push @$acc, $t;
	}
}
$c->stop;
my ($mu, $mk) = (median(@user), median(@kern));
print "vf-carrier: VF 'ip link set up' -> carrier, emulated chassis (TCG)\n";
printf "  cold, first up after the VF was enabled:  igb-vfio %.4f s, kernel igb PF %.4f s, ratio %.3f\n",
	$cold{user}, $cold{kern}, $cold{kern} > 0 ? $cold{user} / $cold{kern} : 0;
printf "  warm, down/up again (median of %d):       igb-vfio %.4f s, kernel igb PF %.4f s, ratio %.3f\n",
	$runs, $mu, $mk, $mk > 0 ? $mu / $mk : 0;
printf "  warm runs: igb-vfio %s; kernel %s\n", join(' ', @user), join(' ', @kern);
