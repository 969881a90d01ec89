#!/usr/bin/perl
# A VM inside the chassis, live-migrated between two blades over the card: the groundwork
# of cmcd's migration. The chassis boots the VM image (build/chassis/initrd-vm.img, `make
# image-vm`: the normal one plus qemu-system-x86_64), one igb card on a root port with the
# kernel PF, two VFs in the network namespaces bladeA (10.88.0.1) and bladeB (10.88.0.2).
# Nested QEMU (TCG) runs the test payload (t/vm/payload.c: a counter at 0x200000 and
# 8 MiB dirtied at 400 KiB/s, self-checked) in bladeA; a destination waits in bladeB with
# -incoming; QMP `migrate` moves it over the two VFs. Checked: the counter advances on A,
# the migration completes, B continues from A's final counter (no reset, no jump), the
# mirror word matches, the payload's own check of its whole region finds no error on B,
# and the bytes went through B's VF. The figures (total, downtime, bytes, throughput)
# are printed as notes (prove -v). CMC_VM_ARGS="rate=N mib=M" passes other payload settings
# (QEMU -append) for experiments with the dirty rate.
use strict;
use warnings;
no warnings qw(portable);	# hex() of 64-bit words
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use Chassis;

my $img = Chassis::build_dir() . '/chassis/initrd-vm.img';
my $c = Chassis->new(name => 'nested-vm', layout => 'rootports', slots => [ { slot => 1 } ],
	initrd => $img, boot_timeout => 240);
$c->start;
note(sprintf('chassis with the VM image booted in %.1f s', $c->boot_seconds));

sub out { my ($rc, $out) = $c->run(@_); chomp $out; $out }

# --- two blades on two VFs of one card (kernel igb PF) ----------------------------------
my $pf = out('chassis_pfs | head -1');
$c->ok_run("ip link set \$(pci_netdev $pf) up && echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs", 'PF up, 2 VFs');
$c->ok_run("wait_for 300 'vfs_have_netdevs $pf'", 'both VFs have a netdev', timeout => 60);
my @vf = split /\n/, out("pf_vfs $pf");
$c->ok_run("vf_to_blade $vf[0] bladeA 10.88.0.1/24 && vf_to_blade $vf[1] bladeB 10.88.0.2/24", 'VF 0 -> bladeA, VF 1 -> bladeB');
$c->ok_run('blade_carrier bladeA 400 && blade_carrier bladeB 400', 'both have carrier', timeout => 90);
my ($devB) = out('ip -n bladeB -o link | grep -v LOOPBACK | cut -d: -f2') =~ /(\S+)/;
$c->ok_run('ip netns exec bladeA ping -c 2 -W 3 10.88.0.2', 'bladeA pings bladeB through the card', timeout => 30);

# --- the VM and QMP ----------------------------------------------------------------------
my $QEMU = 'qemu-system-x86_64 -accel tcg,tb-size=64 -machine pc -m 64 -nodefaults -display none'
    . ' -no-user-config -kernel /cmc/vm/payload.elf';
my $vm_args = $ENV{CMC_VM_ARGS} // '';
die "CMC_VM_ARGS: only rate=N and mib=N\n" unless $vm_args =~ /^(\s*(rate|mib)=\d+)*\s*$/;
$QEMU .= " -append '$vm_args'" if $vm_args =~ /\S/;
sub start_vm {
	my ($ns, $name, @extra) = @_;
	return $c->ok_run("ip netns exec $ns $QEMU -serial file:/run/$name.serial -qmp unix:/run/$name.qmp,server=on,wait=off"
	    . " -pidfile /run/$name.pid -daemonize @extra 2>&1", "QEMU $name started in $ns", timeout => 60);
}
sub qmp {
	my ($vm, $cmd, $args) = @_;
	my $line = "qmp-call -t 20 /run/$vm.qmp $cmd" . (defined $args ? " '" . encode_json($args) . "'" : '');
	my ($rc, $out) = $c->run($line, timeout => 40);
	my $j = $rc == 0 ? eval { decode_json($out) } : undef;
	return $j->{return} if $j;
	diag("$line: rc $rc: $out");
	return undef;
}
sub hmp { my ($vm, $cmd) = @_; my ($rc, $out) = $c->run("qmp-call -t 20 -H /run/$vm.qmp '$cmd'", timeout => 40); $rc == 0 ? $out : undef }
sub status { my $r = qmp($_[0], 'query-status'); $r ? $r->{status} : 'no answer' }

# The payload's state block (t/vm/payload.c): eight u64 words at 0x200000. The counter
# and its mirror are written as 32-bit halves, so a read racing a step may see them
# disagree: read again (a stopped VM always agrees).
my $MIRROR = hex('5a5a5a5a5a5a5a5a');
sub vm_state {
	my ($vm) = @_;
	my %s;
	for my $try (1 .. 5) {
		my $out = hmp($vm, 'xp /8gx 0x200000') // next;
		my @w = map { hex } $out =~ /\b0x([0-9a-f]{16})\b/g;
		next unless @w == 8;
		%s = (counter => $w[0], mirror_ok => ($w[0] ^ $MIRROR) == $w[1], errors => $w[2], sweeps => $w[3],
		    magic => sprintf('%016x', $w[4]), status => $w[5] & 0xffffffff, first_bad_page => $w[5] >> 32,
		    rate => $w[6] & 0xffffffff, pages => $w[6] >> 32, t => time);
		last if $s{mirror_ok};
	}
	return \%s;
}
sub state_text { my $s = shift; sprintf('counter %d errors %d sweeps %d status %#x', map { $_ // -1 } @$s{qw(counter errors sweeps status)}) }
sub wait_state {	# until cond($state) or timeout seconds
	my ($vm, $timeout, $cond) = @_;
	my $end = time + $timeout;
	my $s;
	do { $s = vm_state($vm); return $s if %$s && $cond->($s); sleep 0.5 } while (time < $end);
	return $s;
}

start_vm('bladeA', 'vmA');
my $sA0 = wait_state('vmA', 120, sub { $_[0]{status} == 2 });
is($sA0->{magic}, '434d43564d504c31', 'the payload runs on A (magic at 0x200020)');
is($sA0->{status}, 2, 'filled its region and running') or diag(state_text($sA0));
my $pages = $sA0->{pages} // 0;
is($pages, 2048, 'region: 2048 pages (8 MiB)') unless $vm_args =~ /mib=/;
sleep 2;
my $sA1 = vm_state('vmA');
ok($sA1->{mirror_ok}, 'mirror word matches the counter');
cmp_ok($sA1->{counter}, '>', $sA0->{counter}, "the counter advances on A ($sA0->{counter} -> $sA1->{counter})");
my $rate = ($sA1->{counter} - $sA0->{counter}) / ($sA1->{t} - $sA0->{t});
note(sprintf('payload on A: %.0f steps/s (asked %d) = %.0f KiB/s dirtied', $rate, $sA1->{rate}, $rate * 4));
is($sA1->{errors}, 0, 'no self-check errors on A');

start_vm('bladeB', 'vmB', '-incoming tcp:10.88.0.2:4444');
is(status('vmB'), 'inmigrate', 'B waits for the incoming migration');

# --- migrate ---------------------------------------------------------------------------
sub rx_bytes_B { out("ip netns exec bladeB cat /sys/class/net/$devB/statistics/rx_bytes") }
my $rx0 = rx_bytes_B();
my $sA2 = vm_state('vmA');
my $t0 = time;
ok(defined qmp('vmA', 'migrate', { uri => 'tcp:10.88.0.2:4444' }), 'migrate A -> tcp:10.88.0.2:4444 accepted');
my ($m, $polls) = (undef, 0);
while (time - $t0 < 120) {	# ~1 s here; a 64 MiB VM needs 8 s at 8 MiB/s
	$m = qmp('vmA', 'query-migrate') // last;
	$polls++;
	last if ($m->{status} // '') =~ /^(completed|failed|cancelled)$/;
	sleep 0.5;
}
my $wall = time - $t0;
is($m->{status}, 'completed', sprintf('the migration completed (%.1f s wall, %d polls)', $wall, $polls))
    or diag(encode_json($m // {}));
if (($m->{status} // '') eq 'active') {	# not converging: say how far it got, leave A running
	diag(sprintf('still active after %.0f s: dirty rate %s pages/s, expected downtime %s ms, %s dirty syncs',
	    $wall, $m->{ram}{'dirty-pages-rate'} // '?', $m->{'expected-downtime'} // '?', $m->{ram}{'dirty-sync-count'} // '?'));
	qmp('vmA', 'migrate_cancel');
}

my $ram = $m->{ram} // {};
my $tt = $m->{'total-time'} // 0;
note(sprintf('migration: total %d ms, downtime %d ms, setup %d ms; transferred %.2f MiB (normal %d pages = %.2f MiB, '
    . 'zero %d pages), dirty syncs %d, %.1f Mbit/s by QEMU = %.2f MiB/s (transferred / total)',
    $tt, $m->{downtime} // -1, $m->{'setup-time'} // -1, ($ram->{transferred} // 0) / 2**20, $ram->{normal} // 0,
    ($ram->{'normal-bytes'} // 0) / 2**20, $ram->{duplicate} // 0, $ram->{'dirty-sync-count'} // 0, $ram->{mbps} // 0,
    $tt ? ($ram->{transferred} // 0) / 2**20 / ($tt / 1000) : 0));
cmp_ok($ram->{'normal-bytes'} // 0, '>=', $pages * 4096, 'the payload\'s region moved as real pages, not zero pages');

my $rx1 = rx_bytes_B();
cmp_ok($rx1 - $rx0, '>=', $ram->{transferred} // 1e12, sprintf('the stream came in through B\'s VF (%.2f MiB received)', ($rx1 - $rx0) / 2**20));

# --- after: A stopped with its final state, B continues from it ---------------------------
is(status('vmA'), 'postmigrate', 'A is stopped (postmigrate)');
my $sAf = vm_state('vmA');
ok($sAf->{mirror_ok}, "A's final state is consistent (counter $sAf->{counter})");
cmp_ok($sAf->{counter}, '>=', $sA2->{counter}, "A's final counter is not below its last reading before migrate ($sA2->{counter})");
is($sAf->{errors}, 0, 'no self-check errors on A up to the end');

is(status('vmB'), 'running', 'B runs');
my $sB0 = vm_state('vmB');
my $since = $sB0->{t} - $t0;
ok($sB0->{mirror_ok}, 'mirror word matches on B');
cmp_ok($sB0->{counter}, '>=', $sAf->{counter}, "B continues from A's final counter ($sAf->{counter} -> $sB0->{counter}): no reset, no going back");
cmp_ok($sB0->{counter} - $sAf->{counter}, '<=', $sA1->{rate} * ($since + 2), 'and no jump forward either');
my $sB1 = wait_state('vmB', 90, sub { $_[0]{sweeps} >= $sB0->{sweeps} + 2 && $_[0]{counter} > $sB0->{counter} });
cmp_ok($sB1->{counter}, '>', $sB0->{counter}, "the counter advances on B ($sB0->{counter} -> $sB1->{counter})");
cmp_ok($sB1->{sweeps}, '>=', $sB0->{sweeps} + 2, 'B re-verified its whole region (two sweeps)');
is($sB1->{errors}, 0, 'no self-check errors on B: every page arrived') or diag(sprintf('first bad page %d', $sB1->{first_bad_page}));
ok($sB1->{mirror_ok}, 'mirror still matches on B');

if (!Test::More->builder->is_passing) {
	diag("vmA serial:\n" . out('cat /run/vmA.serial') . "\nvmB serial:\n" . out('cat /run/vmB.serial'));
}
qmp('vmA', 'quit');
qmp('vmB', 'quit');
$c->stop;
done_testing;
