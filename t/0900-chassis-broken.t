#!/usr/bin/perl
# The harness itself: a broken guest (here its igb module is an empty file) must fail the
# run fast, with the guest's console in the failure, and leave no QEMU behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use Time::HiRes qw(time);
use Chassis;

my $img = Chassis::build_dir() . '/chassis';
my $kver = do { open(my $f, '<', "$img/kver") or die "no $img/kver: run make image\n"; local $/; <$f> =~ s/\s+//gr };
my $work = Chassis::build_dir() . '/chassis-run/broken-overlay';
my $mod = "lib/modules/$kver/kernel/drivers/net/ethernet/intel/igb";
make_path("$work/root/$mod");
open(my $ko, '>', "$work/root/$mod/igb.ko") or die "$!";
close $ko;
# A second cpio archive appended to the initramfs overrides the file of the first.
system("cd $work/root && find . | cpio -o -H newc --quiet | gzip -1 > ../overlay.img") == 0 or die "cpio failed";
system("cat $img/initrd.img $work/overlay.img > $work/initrd-broken.img") == 0 or die "cat failed";

my $c = Chassis->new(name => 'broken', initrd => "$work/initrd-broken.img", boot_timeout => 90,
	slots => [ { slot => 1 } ]);
my $t0 = time;
my $ok = eval { $c->start; 1 };
my $err = $@;
my $took = time - $t0;
ok(!$ok, 'starting a guest whose igb module is broken fails');
like($err, qr/guest broken: insmod \S*igb\.ko failed/, 'the failure names the broken module');
like($err, qr/---- guest console .*CMC-GUEST-BROKEN.*---- end of console ----/s,
	'the failure carries the whole guest console');
note(sprintf('failed after %.1f s', $took));
ok(!$c->alive, 'no QEMU is left running');
done_testing;
