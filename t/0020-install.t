#!/usr/bin/perl
# make install and make uninstall into a DESTDIR (host only, no QEMU): what lands where,
# with which modes; the unit starts the cmcd that was installed; the example
# configuration is valid and an admin's cmcd.conf is never overwritten; uninstall takes
# back every file install put and nothing the admin made.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Find;
use Chassis;
use Host qw(sh slurp);

my $TOP = "$FindBin::Bin/..";
my $B = Chassis::build_dir();
-x "$B/cmcd" && -x "$B/cmcctl" or BAIL_OUT("cmcd and cmcctl not built in $B: run make");

sub mode { sprintf('%04o', (stat $_[0])[2] & 07777) }
sub files {	# every entry but directories under $dir, relative
	my ($dir) = @_;
	my @f;
	find({ no_chdir => 1, wanted => sub { push @f, substr($_, length($dir)) unless -d $_ } }, $dir);
	return sort @f;
}
sub make { sh("make -C $TOP --no-print-directory O=$B @_") }

# --- defaults: PREFIX=/usr/local --------------------------------------------------
my $d = tempdir(CLEANUP => 1);
my ($rc, $out) = make("install DESTDIR=$d");
is($rc, 0, 'make install DESTDIR=tmp') or diag($out);
my $unitdir = `pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null` || "/usr/local/lib/systemd/system\n";
chomp $unitdir;
my %want = (
	'/usr/local/sbin/cmcd' => '0755', '/usr/local/bin/cmcctl' => '0755',
	'/usr/local/share/man/man8/cmcd.8' => '0644', '/usr/local/share/man/man8/cmcctl.8' => '0644',
	"$unitdir/cmcd.service" => '0644',
	'/usr/local/share/bash-completion/completions/cmcctl' => '0644',
	'/etc/cmc/cmcd.conf.example' => '0644', '/usr/local/share/doc/cmc/README.md' => '0644',
	# the documents the man pages name, beside the README
	map { ("/usr/local/share/doc/cmc/" . (s{.*/}{}r) => '0644') } glob("$FindBin::Bin/../doc/*.md"),
);
is_deeply([ files($d) ], [ sort keys %want ], 'the files installed, and only those');
is(mode("$d$_"), $want{$_}, "$_ mode $want{$_}") for sort keys %want;
ok(-d "$d/var/lib/cmc", 'state directory /var/lib/cmc');
is(mode("$d/var/lib/cmc"), '0700', 'state directory private to cmcd (as StateDirectoryMode=)');
ok(!-e "$d/run", 'nothing under /run (a tmpfs: the unit makes /run/cmc)');
my $unit = slurp("$d$unitdir/cmcd.service");
like($unit, qr{^ExecStart=/usr/local/sbin/cmcd --config /etc/cmc/cmcd.conf$}m, 'unit runs the installed cmcd');
like($unit, qr{^StateDirectory=cmc$}m, 'unit: StateDirectory=cmc');
like($unit, qr{^RuntimeDirectory=cmc$}m, 'unit: RuntimeDirectory=cmc');
($rc, $out) = sh("$d/usr/local/sbin/cmcd --check-config $d/etc/cmc/cmcd.conf.example");
is($rc, 0, 'the installed example configuration is valid') or diag($out);
($rc, $out) = sh("$d/usr/local/bin/cmcctl --help");
like($out, qr/usage: cmcctl/, 'installed cmcctl runs');

($rc, $out) = make("uninstall DESTDIR=$d");
is($rc, 0, 'make uninstall DESTDIR=tmp') or diag($out);
is_deeply([ files($d) ], [], 'uninstall leaves no file behind');
ok(!-e "$d/var/lib/cmc" && !-e "$d/etc/cmc", 'and takes its empty directories back');

# --- PREFIX=/usr, SBINDIR elsewhere, an admin's configuration in place ---------------
$d = tempdir(CLEANUP => 1);
mkdir "$d/etc";
mkdir "$d/etc/cmc";
open(my $f, '>', "$d/etc/cmc/cmcd.conf") or die;
print $f "# the admin's\n";
close $f;
($rc, $out) = make("install DESTDIR=$d PREFIX=/usr SBINDIR=/opt/cmc/sbin MANDIR=/usr/man SYSTEMDUNITDIR=/etc/systemd/system");
is($rc, 0, 'make install with PREFIX, SBINDIR, MANDIR, SYSTEMDUNITDIR') or diag($out);
ok(-x "$d/opt/cmc/sbin/cmcd" && -x "$d/usr/bin/cmcctl", 'cmcd in SBINDIR, cmcctl in PREFIX/bin');
ok(-f "$d/usr/man/man8/cmcctl.8", 'man pages in MANDIR');
like(slurp("$d/etc/systemd/system/cmcd.service"), qr{^ExecStart=/opt/cmc/sbin/cmcd }m,
	'ExecStart follows SBINDIR');
is(slurp("$d/etc/cmc/cmcd.conf"), "# the admin's\n", "the admin's cmcd.conf is left as it was");
($rc, $out) = make("uninstall DESTDIR=$d PREFIX=/usr SBINDIR=/opt/cmc/sbin MANDIR=/usr/man SYSTEMDUNITDIR=/etc/systemd/system");
is($rc, 0, 'make uninstall');
is_deeply([ files($d) ], ['/etc/cmc/cmcd.conf'], "only the admin's cmcd.conf is left");

done_testing;
