# The emulated blade chassis, driven from the host: boots QEMU (TCG, q35 + intel-iommu)
# with a PCIe switch (or one root port per card) whose numbered slots hold igb cards,
# runs commands inside the guest over a serial agent, and talks QMP to QEMU.
#
#   my $c = Chassis->new(name => 'inventory', slots => [
#               { slot => 1, cable => 1 }, { slot => 2 }, { slot => 3, card => undef } ]);
#   $c->start;                                  # dies (console printed) if the guest breaks
#   my ($rc, $out) = $c->run('lspci -tv');
#   $c->qmp('set_link', { name => 'cable1', up => JSON::PP::false });
#   $c->stop;
#
# Options of new() besides the topology (name, layout, slots, mem, smp, timeouts):
#   state_dir => HOSTDIR  exported to the guest with virtio-9p (mount tag "cmcstate") and
#                         mounted on /var/lib/cmc by the guest's init, so cmcd's store
#                         outlives the boot: a later chassis with the same state_dir sees
#                         it. The 9p device sits on the root bus (no bus number taken);
#                         a guest that cannot mount it fails to boot (CMC-GUEST-BROKEN).
#   captures => 1         every cable's frames, both ways, go to a pcap file:
#                         $c->capture_path($slot) (read it with t/lib/Pcap.pm).
#   trace => [EVENTS]     QEMU trace events to enable (`-trace enable=EVENT`, patterns as
#                         QEMU takes them), e.g. e1000e_wrn_regs_write_unknown: what the
#                         emulated igb does with a register it does not implement. QEMU
#                         prints them on its own stderr, on the host: $c->qemu_stderr
#                         ($c->qemu_stderr_size first, to read only what comes after).
# Per slot: cable => 1 plugs the card into hub 0 (the chassis' external switch); hub => N
# plugs it into hub N instead, a switch of its own that other cables do not reach. (A QEMU
# hub passes a frame on only while some other port's card can receive, i.e. has its RX
# enabled; until then the frame waits in the hub. Captures see it when it leaves the card.)
# $c->reboot is stop then start with the same options; $c->card_mac($slot) is the MAC QEMU
# gives that slot's card.
#
# Every wait is bounded. QEMU itself runs under timeout(1) with a hard limit, so a stuck
# guest cannot outlive its test file. When a test file fails, the whole console log is
# printed as TAP diagnostics.
package Chassis;

use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time sleep);

my $TOP = abs_path(dirname(__FILE__) . '/../..');
my @ALL;    # every chassis this test file started: killed at exit, console shown on failure

sub top { $TOP }
sub build_dir { $ENV{CMC_BUILD} ? abs_path($ENV{CMC_BUILD}) : "$TOP/build" }

sub new {
	my ($class, %o) = @_;
	my $self = bless {
		name         => $o{name} // 'chassis',
		layout       => $o{layout} // 'switch',    # switch | rootports
		slots        => $o{slots} // [ { slot => 1 }, { slot => 2 } ],
		mem          => $o{mem} // 1024,
		smp          => $o{smp} // 2,
		boot_timeout => $o{boot_timeout} // 120,
		hard_timeout => $o{hard_timeout} // 900,
		append       => $o{append} // '',
		initrd       => $o{initrd},
		interactive  => $o{interactive} // 0,
		captures     => $o{captures} // 0,    # filter-dump every cable into a pcap
		state_dir    => $o{state_dir},        # host folder mounted on /var/lib/cmc
		trace        => $o{trace} // [],      # QEMU trace events, on QEMU's stderr
		mgmt         => $o{mgmt} // 0,        # a management port: guest TCP 443 on a host port
		seq          => 0,
		events       => [],
	}, $class;
	croak "layout must be switch or rootports" unless $self->{layout} =~ /^(switch|rootports)$/;
	my %seen;
	for my $s (@{ $self->{slots} }) {
		croak "slot number missing" unless defined $s->{slot};
		croak "slot $s->{slot} twice" if $seen{ $s->{slot} }++;
		$s->{card} = 'igb' unless exists $s->{card};
	}
	$self->{dir} = $o{dir} // build_dir() . "/chassis-run/$self->{name}";
	if (defined $self->{state_dir}) {
		make_path($self->{state_dir});
		$self->{state_dir} = abs_path($self->{state_dir}) // croak "state_dir $self->{state_dir}: $!";
	}
	return $self;
}

# The guest's mount tag of state_dir (the guest's init mounts it given cmc.state=TAG).
my $STATE_TAG = 'cmcstate';

sub dir { $_[0]{dir} }
sub console_path { "$_[0]{dir}/console.log" }
# QEMU's own stdout and stderr (its warnings, and the trace events of new(trace => ...)).
sub qemu_log_path { "$_[0]{dir}/qemu.log" }
sub qemu_stderr_size { -s $_[0]->qemu_log_path // 0 }
# What QEMU wrote to its stderr since byte $from (0: since the start).
sub qemu_stderr {
	my ($self, $from) = @_;
	open(my $f, '<', $self->qemu_log_path) or return '';
	seek($f, $from // 0, 0);
	local $/;
	return <$f> // '';
}
sub cable_id { "cable$_[1]" }
sub card_id { "card$_[1]" }
sub port_id { "port$_[1]" }
# The MAC QEMU gives the card in slot N (its PF's permanent address).
sub card_mac { sprintf('52:54:00:c0:%02x:00', $_[1]) }
# The default MAC cmcd gives a VF, by the chassis' MAC rule (cmc/macs.h), written out
# again here so that the tests check the C code against the documented layout:
# id (30 bits) in octets 0..3 behind the locally-administered bit, slot, pf << 5 | vf.
# The id is what `cmcctl -j version` says: Chassis::vf_default_mac($id, $slot, $pf, $vf).
sub vf_default_mac {
	my ($id, $slot, $pf, $vf) = @_;
	$id = hex($id) if $id =~ /^0x/;
	return sprintf('%02x:%02x:%02x:%02x:%02x:%02x', (($id >> 24) & 0x3f) << 2 | 0x02, ($id >> 16) & 0xff,
		($id >> 8) & 0xff, $id & 0xff, $slot, $pf << 5 | $vf);
}
sub state_dir { $_[0]{state_dir} }
# The management port (new(mgmt => 1)): an igb on the root bus (no slot, so no card of the
# chassis' inventory) on a QEMU user-mode network, restricted (the guest reaches nothing),
# whose guest TCP port 443 is forwarded to 127.0.0.1:mgmt_port on the host, a free port
# chosen at each start. In the guest: mgmt_mac's netdev, 10.0.2.15/24 (mgmt_up).
sub mgmt_port { $_[0]{mgmt_port} }
sub mgmt_mac { '52:54:00:ee:00:01' }
sub mgmt_up {
	my ($self) = @_;
	my $mac = $self->mgmt_mac;
	return $self->run("dev=\$(ip -o link | grep -i 'link/ether $mac' | cut -d: -f2 | tr -d ' '); "
		. '[ -n "$dev" ] && ip addr add 10.0.2.15/24 dev $dev && ip link set $dev up && echo $dev', timeout => 30);
}
sub boot_seconds { $_[0]{boot_seconds} }

# The pcap file of slot N's cable (written by QEMU's filter-dump while the chassis runs,
# started afresh by each start), or undef when that slot's cable is not captured.
sub capture_path {
	my ($self, $n) = @_;
	return undef unless $self->{captures};
	my ($s) = grep { $_->{slot} == $n } @{ $self->{slots} };
	return undef unless $s && defined $s->{card} && $s->{cable};
	return "$self->{dir}/cable$n.pcap";
}

# The QEMU command line: the chassis' PCIe topology is the point of this module.
sub qemu_args {
	my ($self) = @_;
	my $img = build_dir() . '/chassis';
	my @a = (
		'-accel', 'tcg', '-cpu', 'max', '-m', $self->{mem}, '-smp', $self->{smp},
		'-machine', 'q35,kernel-irqchip=split',
		# Native PCIe hot-plug (pciehp), as a real switch's downstream ports have: slots
		# are then named by the Physical Slot Number of their Slot Capabilities.
		'-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
		'-device', 'intel-iommu,intremap=on,caching-mode=on',
		'-kernel', "$img/vmlinuz", '-initrd', $self->{initrd} // "$img/initrd.img",
		'-append', join(' ', 'console=ttyS0 intel_iommu=on iommu=pt quiet loglevel=4 panic=-1',
			'cmc.mode=' . ($self->{interactive} ? 'shell' : 'agent'),
			(defined $self->{state_dir} ? "cmc.state=$STATE_TAG" : ()), $self->{append}),
		'-display', 'none', '-nodefaults', '-no-reboot',
		'-name', "cmc-$self->{name},debug-threads=on",	# vCPU threads named "CPU 0/TCG" (stall_diag)
		'-qmp', "unix:$self->{dir}/qmp.sock,server=on,wait=off",
		(map { ('-trace', "enable=$_") } @{ $self->{trace} }),
	);
	if ($self->{interactive}) {
		push @a, '-chardev', "stdio,id=con,mux=on,signal=off,logfile=$self->{dir}/console.log",
		    '-serial', 'chardev:con', '-mon', 'chardev=con,mode=readline';
	} else {
		push @a, '-chardev', "file,id=con,path=$self->{dir}/console.log", '-serial', 'chardev:con';
	}
	push @a, '-chardev', "socket,id=agent,path=$self->{dir}/agent.sock,server=on,wait=off",
	    '-serial', 'chardev:agent';
	push @a, $self->topology_args;
	push @a, $self->state_args if defined $self->{state_dir};
	push @a, $self->mgmt_args if $self->{mgmt};
	return @a;
}

# virtio-9p on the root bus, after the topology: an endpoint on bus 0 takes a slot there
# but no bus number, so the cards' BDFs are the same with or without it.
sub state_args {
	my ($self) = @_;
	(my $path = $self->{state_dir}) =~ s/,/,,/g;    # QEMU's option syntax escapes commas
	return ('-fsdev', "local,id=statefs,path=$path,security_model=none",
		'-device', "virtio-9p-pci,id=statedev,fsdev=statefs,mount_tag=$STATE_TAG,bus=pcie.0");
}

# After the topology, on the root bus, like the state device: the cards' BDFs stay.
sub mgmt_args {
	my ($self) = @_;
	return ('-netdev', "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:$self->{mgmt_port}-:443",
		'-device', 'igb,id=mgmt0,netdev=mgmt,bus=pcie.0,mac=' . $self->mgmt_mac);
}

sub topology_args {
	my ($self) = @_;
	my @a;
	if ($self->{layout} eq 'switch') {
		# Backplane: root port -> switch upstream port -> one downstream port per slot.
		push @a, '-device', 'pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=0',
		    '-device', 'x3130-upstream,id=up0,bus=rp0';
	}
	for my $s (@{ $self->{slots} }) {
		my $n = $s->{slot};
		if ($self->{layout} eq 'switch') {
			push @a, '-device', "xio3130-downstream,id=port$n,bus=up0,chassis=2,slot=$n";
		} else {
			push @a, '-device', "pcie-root-port,id=port$n,bus=pcie.0,chassis=2,slot=$n";
		}
		next unless defined $s->{card};
		push @a, $self->card_args($s);
	}
	return @a;
}

sub card_args {
	my ($self, $s) = @_;
	my $n = $s->{slot};
	my $dev = "$s->{card},id=card$n,bus=port$n,mac=" . $self->card_mac($n);
	my @a;
	if ($s->{cable}) {
		# A cable to the outside: a port on hub 0, the chassis' external switch, so the
		# uplinks of two cards reach each other the way two cabled ports would (hub => N:
		# another switch, which the cables on other hubs do not reach).
		push @a, '-netdev', "hubport,id=cable$n,hubid=" . ($s->{hub} // 0);
		push @a, '-object', "filter-dump,id=dump$n,netdev=cable$n,file=" . $self->capture_path($n)
		    if $self->{captures};
		$dev .= ",netdev=cable$n";
	}
	return (@a, '-device', $dev);
}

sub start {
	my ($self) = @_;
	make_path($self->{dir});
	if (defined(my $sd = $self->{state_dir})) {
		# The run directory is emptied below: the state must live elsewhere.
		my $rd = abs_path($self->{dir});
		croak "state_dir $sd is inside the run directory $rd" if "$sd/" =~ /^\Q$rd\E\//;
	}
	remove_tree($self->{dir});
	make_path($self->{dir});
	if ($self->{mgmt}) {
		my $l = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
		    or croak "no free port for the management port: $!";
		$self->{mgmt_port} = $l->sockport;
		close $l;
	}
	for my $f (build_dir() . '/chassis/vmlinuz', $self->{initrd} // build_dir() . '/chassis/initrd.img') {
		croak "no guest image $f: run `make image`" unless -f $f;
	}
	# Interactive, QEMU's serial console is this terminal: --foreground keeps QEMU in the
	# terminal's foreground process group. Plain timeout(1) puts it in a group of its
	# own, a background one, and its first read of the terminal stops it (SIGTTIN).
	my @cmd = ('timeout', ($self->{interactive} ? '--foreground' : ()), '-k', '5', $self->{hard_timeout},
		'qemu-system-x86_64', $self->qemu_args);
	open(my $cl, '>', "$self->{dir}/cmdline") or croak "cmdline: $!";
	print $cl join(' ', @cmd), "\n";
	close $cl;
	# A fresh boot: nothing of an earlier one's channels or events carries over.
	for my $k (qw(agent qmp)) { close(delete $self->{$k}) if $self->{$k} }
	@{$self}{qw(agent_buf qmp_buf events console_shown boot_seconds)} = ('', '', [], 0, undef);
	$self->{t0} = time;
	my $pid = fork() // croak "fork: $!";
	if ($pid == 0) {
		unless ($self->{interactive}) {
			open(STDIN, '<', '/dev/null');
			open(STDOUT, '>', "$self->{dir}/qemu.log");
			open(STDERR, '>&', \*STDOUT);
		}
		exec(@cmd) or POSIX::_exit(127);
	}
	$self->{pid} = $pid;
	push @ALL, $self unless grep { $_ == $self } @ALL;
	return $self if $self->{interactive};
	$self->wait_console(qr/^CMC-GUEST-READY/m, $self->{boot_timeout}, 'guest ready');
	$self->connect_agent;
	$self->connect_qmp;
	$self->{boot_seconds} = time - $self->{t0};
	return $self;
}

# Interactive mode: wait for QEMU to exit (the person types `poweroff -f`).
sub wait_exit {
	my ($self) = @_;
	waitpid($self->{pid}, 0);
	my $rc = $? >> 8;
	delete $self->{pid};
	return $rc;
}

sub alive {
	my ($self) = @_;
	return 0 unless $self->{pid};
	my $r = waitpid($self->{pid}, WNOHANG);
	return 1 if $r == 0;
	$self->{exit_status} = $?;
	delete $self->{pid};
	return 0;
}

sub console { my ($self) = @_; local $/; open(my $f, '<', $self->console_path) or return ''; <$f> // '' }

# The guest kernel's words when a vCPU's timer stopped firing under TCG: QEMU's fault,
# not cmc's (doc/emulator.md). A test file that failed with them in a console leaves a
# mark, STALLED_DIR/<file>, so that `make check` runs it again (t/tools/prove-check).
our $STALL_RE = qr/rcu_preempt kthread timer wakeup didn't happen[^\n]*/;
# QEMU's own words when it aborts on one of its internal assertions: an emulator fault
# too, whatever the guest did (seen: `iotlb_to_section: Assertion 'section_index <
# d->map.sections_nb' failed`, TCG, during the guest's boot; doc/emulator.md).
our $QEMU_ABORT_RE = qr/^qemu-system-\S+: \S+: \S+: Assertion .* failed\.$/m;
sub stalled_dir { build_dir() . '/chassis-run/stalled' }

sub mark_stalled {
	my ($line) = @_;
	my ($file) = $0 =~ m{([^/]+)$} or return;	# a test file, or the demo
	File::Path::make_path(stalled_dir());
	open(my $f, '>', stalled_dir() . "/$file") or return;
	print $f "$0: $line\n";
	close $f;
}

# What QEMU knows of the vCPUs when the guest's timer stalled: each vCPU's local APIC
# (timer mode, initial and current count, IRR/ISR, TPR) and registers (HLT says halted), kept
# as stall-diag.txt in the run directory. Empty when QMP is not there.
sub stall_diag {
	my ($self) = @_;
	return '' unless $self->{qmp} && $self->alive;
	my $out = '';
	for my $q ([ 'info cpus', 0 ], [ 'info lapic', 0 ], [ 'info lapic', 1 ], [ 'info registers', 0 ], [ 'info registers', 1 ], [ 'info irq', 0 ], [ 'info pic', 0 ]) {
		my $r = eval { $self->qmp('human-monitor-command', { 'command-line' => $q->[0], 'cpu-index' => $q->[1] }) };
		$out .= "---- $q->[0] (cpu $q->[1]) ----\n" . ($r // "(no answer: $@)\n");
	}
	$out .= $self->host_threads;
	if (open(my $f, '>', "$self->{dir}/stall-diag.txt")) { print $f $out; close $f }
	return $out;
}

# QEMU's pid: the child of timeout(1), which is what start forked.
sub qemu_pid {
	my ($self) = @_;
	my $pid = $self->{pid} or return undef;
	open(my $f, '<', "/proc/$pid/task/$pid/children") or return undef;
	my ($child) = split ' ', (<$f> // '');
	return $child;
}

# The QEMU process' threads as the host sees them: name, state (R running, S sleeping,
# D in the kernel) and where the kernel has them waiting; with their user stacks when gdb
# is installed (it is not required).
sub host_threads {
	my ($self) = @_;
	my $pid = $self->qemu_pid or return '';
	my $out = "---- host threads of QEMU (pid $pid) ----\n";
	for my $t (sort { $a <=> $b } map { m{/(\d+)$} ? $1 : () } glob("/proc/$pid/task/*")) {
		my ($comm, $stat, $wchan) = map { my $f; open($f, '<', "/proc/$pid/task/$t/$_") ? scalar(<$f>) // '' : '' } qw(comm stat wchan);
		chomp $comm;
		my $state = $stat =~ /\)\s+(\S)/ ? $1 : '?';
		$out .= sprintf("%-8d %-16s %s %s\n", $t, $comm, $state, $wchan || '-');
	}
	if (system('command -v gdb >/dev/null 2>&1') == 0) {
		$out .= "---- gdb: thread apply all bt ----\n";
		$out .= `timeout 60 gdb -p $pid -batch -nx -ex 'thread apply all bt 12' 2>&1`;
	}
	return $out;
}

# The stall's own mark in what QEMU knows (stall_diag's text), for a guest wedged before its
# RCU detector spoke, or with every vCPU wedged so that none can speak: a vCPU halted with
# interrupts on (HLT=1, RFL's IF) while its local APIC still holds a vector in service.
# Linux halts only in its idle loop, after every handler has ended its interrupt, so that
# is an end-of-interrupt QEMU lost (doc/emulator.md). Returns the words for it, or undef.
sub lost_eoi {
	my ($diag) = @_;
	my (%isr, %halted);
	while ($diag =~ /^---- info (lapic|registers) \(cpu (\d+)\) ----\n(.*?)(?=^---- |\z)/msg) {
		my ($what, $cpu, $text) = ($1, $2, $3);
		$isr{$cpu} = $1 if $what eq 'lapic' && $text =~ /^ISR\s+([\d ]*\d)/m;
		$halted{$cpu} = 1 if $what eq 'registers' && $text =~ /RFL=([0-9a-f]+).*HLT=1/ && hex($1) & 0x200;
	}
	my @wedged = grep { $halted{$_} && defined $isr{$_} } sort keys %isr;
	return undef unless @wedged;
	return join('; ', map { "vCPU $_ halted with interrupts on and vector(s) $isr{$_} in service (an end-of-interrupt lost)" } @wedged);
}

# How long a guest that stopped answering is given to say whether its timer stalled: the
# guest's RCU detector names a stall 21 s after it began, which can be after a command's
# own timeout ran out.
our $STALL_WAIT = 30;

sub fail {
	my ($self, $why) = @_;
	my $log = $self->console;
	# A guest that stopped answering (a command or QMP timed out) may be wedged by the
	# stall: wait for the detector's word before judging, so such a file is rerun.
	if ($log !~ $STALL_RE && $why =~ /timed out|no QMP answer|no answer/ && $self->alive) {
		my $end = time + $STALL_WAIT;
		while (time < $end && ($log = $self->console) !~ $STALL_RE) { sleep 1 }
	}
	my $qlog = '';
	if (open(my $f, '<', "$self->{dir}/qemu.log")) { local $/; $qlog = <$f> // '' }
	my $msg = sprintf("chassis %s: %s (%.1f s after start)\n", $self->{name}, $why, time - ($self->{t0} // time));
	$msg .= "---- qemu ----\n$qlog" if length $qlog;
	$msg .= "---- guest console ($self->{dir}/console.log) ----\n$log---- end of console ----\n";
	$self->{console_shown} = 1;
	if ($qlog =~ /($QEMU_ABORT_RE)/) {
		$msg .= "QEMU aborted on its own assertion (an emulator fault): $1\n";
		mark_stalled("QEMU aborted: $1");
	} elsif ($log =~ /($STALL_RE)/) {
		$msg .= "the guest's timer stalled (TCG): $1\n" . $self->stall_diag;
		mark_stalled($1);
	} elsif ($why =~ /timed out|no QMP answer|no answer/ && $self->alive) {
		# Silent with no word from the detector: the same wedge if QEMU shows it twice,
		# 2 s apart (a vCPU caught between an interrupt and its end would not stay so).
		my $diag = $self->stall_diag;
		my $first = lost_eoi($diag);
		sleep 2 if $first;
		my $again = $first ? lost_eoi($diag = $self->stall_diag) : undef;
		$msg .= $diag;
		if ($again) {
			$msg .= "the guest is wedged (TCG): $again\n";
			mark_stalled("no RCU stall line, but $again");
		}
	}
	$self->kill;
	die $msg;
}

sub wait_console {
	my ($self, $re, $timeout, $what) = @_;
	my $end = time + $timeout;
	while (time < $end) {
		my $log = $self->console;
		return $1 // 1 if $log =~ $re;
		$self->fail("guest broken: $1") if $log =~ /^CMC-GUEST-BROKEN (.*)$/m;
		$self->fail('QEMU exited (status ' . ($self->{exit_status} >> 8) . ") before $what")
		    unless $self->alive;
		sleep 0.1;
	}
	$self->fail("no $what within $timeout s");
}

sub connect_unix {
	my ($self, $path, $what) = @_;
	my $end = time + 10;
	while (time < $end) {
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path);
		return $s if $s;
		sleep 0.05;
	}
	$self->fail("cannot connect to $what at $path: $!");
}

sub connect_agent {
	my ($self) = @_;
	$self->{agent} = $self->connect_unix("$self->{dir}/agent.sock", 'the guest agent');
	$self->{agent_buf} = '';
	my ($rc) = $self->run('true', timeout => 30);
	$self->fail('the guest agent does not answer') unless defined $rc && $rc == 0;
}


# Run a shell command (one line) in the guest; returns ($rc, $output) or the output alone
# in scalar context. A command that outlives its timeout fails the whole chassis.
sub run {
	my ($self, $cmd, %o) = @_;
	my $timeout = $o{timeout} // 60;
	croak "a guest command is one line" if $cmd =~ /\n/;
	my $id = ++$self->{seq};
	my $sock = $self->{agent} or croak 'chassis not started';
	print $sock "$id $cmd\n";
	my $end = time + $timeout;
	my $sel = IO::Select->new($sock);
	while (1) {
		if ($self->{agent_buf} =~ s/\A(.*?)\n?\@\@CMC-END $id (\d+)\n//s) {
			my ($out, $rc) = ($1, $2);
			$out =~ s/\A.*?\@\@CMC-END \d+ \d+\n//s;    # leftovers of earlier commands
			return wantarray ? ($rc, $out) : $out;
		}
		my $left = $end - time;
		$self->fail("command timed out after $timeout s: $cmd") if $left <= 0;
		$self->fail("QEMU exited while running: $cmd") unless $self->alive;
		next unless $sel->can_read($left < 0.5 ? $left : 0.5);
		my $n = sysread($sock, my $chunk, 65536);
		$self->fail("agent channel closed while running: $cmd") unless $n;
		$self->{agent_buf} .= $chunk;
	}
}

sub connect_qmp {
	my ($self) = @_;
	$self->{qmp} = $self->connect_unix("$self->{dir}/qmp.sock", 'QMP');
	$self->{qmp_buf} = '';
	$self->qmp_read_message(10) // $self->fail('no QMP greeting');
	$self->qmp('qmp_capabilities');
}

sub qmp_read_message {
	my ($self, $timeout) = @_;
	my $end = time + $timeout;
	my $sel = IO::Select->new($self->{qmp});
	while (1) {
		if ($self->{qmp_buf} =~ s/\A([^\n]*)\r?\n//) {
			next unless length $1;
			return decode_json($1);
		}
		my $left = $end - time;
		return undef if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread($self->{qmp}, my $chunk, 65536);
		return undef unless $n;
		$self->{qmp_buf} .= $chunk;
	}
}

# Execute a QMP command; returns its "return" value, dies with QEMU's error text.
sub qmp {
	my ($self, $cmd, $args) = @_;
	my $sock = $self->{qmp} or croak 'QMP not connected';
	my %msg = (execute => $cmd);
	$msg{arguments} = $args if $args;
	print $sock encode_json(\%msg), "\n";
	while (1) {
		my $m = $self->qmp_read_message(30) // $self->fail("no QMP answer to $cmd");
		if (exists $m->{event}) { push @{ $self->{events} }, $m; next; }
		die "QMP $cmd: $m->{error}{desc}\n" if $m->{error};
		return $m->{return};
	}
}

# QMP events seen so far (and any that arrive within $wait seconds) named $name.
sub qmp_events {
	my ($self, $name, $wait) = @_;
	my $end = time + ($wait // 0);
	do {
		while (my $m = $self->qmp_read_message(0.1)) { push @{ $self->{events} }, $m if $m->{event} }
		my @e = grep { $_->{event} eq $name } @{ $self->{events} };
		return @e if @e;
	} while (time < $end);
	return ();
}

sub kill {
	my ($self) = @_;
	return unless $self->{pid};
	kill 'TERM', $self->{pid};
	my $end = time + 5;
	while (time < $end) { return unless $self->alive; sleep 0.05 }
	kill 'KILL', $self->{pid};
	waitpid($self->{pid}, 0);
	delete $self->{pid};
}

sub stop {
	my ($self) = @_;
	return unless $self->{pid};
	if ($self->{agent}) {
		my $sock = $self->{agent};
		print $sock "0 sync; poweroff -f\n";
	}
	my $end = time + 15;
	while (time < $end) { last unless $self->alive; sleep 0.05 }
	$self->kill;
}

# Power the chassis off and boot it again with the same options: the guest's RAM (its
# initramfs) starts over, state_dir is what stays. The run directory (console, captures)
# is started afresh, as by start.
sub reboot {
	my ($self) = @_;
	$self->stop;
	return $self->start;
}

# A diagnostic: Test::More's in a test file, standard error in a bench.
sub diag_out { defined &Test::More::diag ? Test::More::diag(@_) : print STDERR map { "# $_\n" } @_ }

# Print the console when the test file failed, then make sure no QEMU is left behind.
END {
	# A test file that died (a chassis command timed out: fail() below) has passed every
	# test so far: its exit status says it failed.
	my $failing = $? != 0 || eval { require Test::More; !Test::More->builder->is_passing };
	local $?;	# killing QEMU below must not change the test file's exit status
	my %shown;    # two chassis of one name share a run directory: show it once
	my $stall;
	for my $c (@ALL) {
		my $log = $failing ? $c->console : '';
		if ($failing && $c->qemu_stderr =~ /($QEMU_ABORT_RE)/) {
			$stall //= "QEMU aborted: $1";
		} elsif ($log =~ /($STALL_RE)/) {
			$stall //= $1;
			diag_out($c->stall_diag) unless $c->{console_shown};
		}
		if ($failing && !$c->{console_shown} && !$shown{ $c->{dir} }++) {
			diag_out("---- guest console ($c->{name}) ----\n" . $log . '---- end of console ----');
		}
		$c->kill;
	}
	if ($stall) {
		diag_out($stall =~ /^QEMU aborted/ ? "an emulator fault: $stall" : "the guest's timer stalled (TCG): $stall");
		mark_stalled($stall);
	}
}


# --- For the tests: a command's outcome as a test ------------------------------------------

# The guest command's output as JSON ([] with a diagnostic when it is not JSON).
sub json {
	my ($self, $cmd, %o) = @_;
	my (undef, $out) = $self->run($cmd, %o);
	my $j = eval { decode_json($out) };
	Test::More::diag("$cmd: $out") unless $j;
	return $j // [];
}

# A test that the command succeeds (exit 0); returns its output.
sub ok_run {
	my ($self, $cmd, $name, %o) = @_;
	my ($rc, $out) = $self->run($cmd, %o);
	Test::More::is($rc, 0, $name) or Test::More::diag("$cmd: $out");
	return $out;
}

# Two tests: the command is refused (exit 1), and its words (stdout and stderr) match re.
sub refused {
	my ($self, $cmd, $re, $name) = @_;
	my ($rc, $out) = $self->run("$cmd 2>&1");
	Test::More::is($rc, 1, "$name: refused");
	Test::More::like($out, $re, "$name: saying why");
}

# A command whose words are wrong (a value that is no value of its kind, out of range):
# exit 2, like every usage error, with what was wrong.
sub malformed {
	my ($self, $cmd, $re, $name) = @_;
	my ($rc, $out) = $self->run("$cmd 2>&1");
	Test::More::is($rc, 2, "$name: a usage error");
	Test::More::like($out, $re, "$name: saying why");
}

# `cmcctl -j vfstats`' record of slot/vf (pf 0 unless given), or {}.
sub vfstat {
	my ($self, $slot, $vf, $pf) = @_;
	my ($s) = grep { $_->{slot} == $slot && ($_->{pf} // 0) == ($pf // 0) && $_->{vf} == $vf }
		  @{ $self->json('cmcctl -j vfstats') };
	return $s // {};
}

1;
