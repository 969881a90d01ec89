#!/usr/bin/perl
# Bash completion of cmcctl (conf/cmcctl.bash-completion), host only: partial command
# lines completed by bash itself (COMP_WORDS, COMP_CWORD, the completion function,
# COMPREPLY), with no daemon (commands and keywords; no names) and with cmcd running
# on a libpci dump (slot numbers and blade names asked from it).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use Chassis;

my $TOP = "$FindBin::Bin/..";
my $COMPLETION = "$TOP/conf/cmcctl.bash-completion";
my $B = Chassis::build_dir();
my ($CMCD, $CMCCTL, $GEN) = ("$B/cmcd", "$B/cmcctl", "$B/tools/mp-gendump");
-x $_ or BAIL_OUT("$_ not built: run make") for $CMCD, $CMCCTL, $GEN;
my $dir = tempdir(CLEANUP => 1);
$ENV{CMC_SOCKET} = "$dir/run/cmcd.sock";

# The words of one command line (the last one is being completed) -> sorted COMPREPLY.
our $PROG = $CMCCTL;	# the command word: cmcctl, which the completion asks for names
sub complete {
	my (@words) = @_;
	my $script = "$dir/complete.sh";
	open(my $f, '>', $script) or die;
	print $f "source '$COMPLETION' || exit 3\n",
	    'COMP_WORDS=(', join(' ', map { "'$_'" } $PROG, @words), ")\n",
	    'COMP_CWORD=', scalar @words, "\n",
	    "_cmcctl; printf '%s\\n' \"\${COMPREPLY[@]}\"\n";
	close $f;
	my @out = `bash --norc --noprofile $script`;
	chomp @out;
	return join(' ', sort grep { length } @out);
}

sub check {
	my ($line, $want) = @_;
	my @w = length $line ? split(/ /, $line, -1) : ("");
	is(complete(@w), join(' ', sort split ' ', $want), "cmcctl $line|");
}

# --- no daemon ------------------------------------------------------------------------
check('', 'slots slot functions blades events vfstats portstats trust link-state rescan assign '
	. 'unassign assignments domain domains lane lanes port ports vbridge vm vms migrate migrations '
	. 'template server-profile account accounts audit version');
check('mig', 'migrate migrations');
check('server-profile ', 'create delete list show');
check('server-profile create web --from blade1 ', '--blade --mac --serial --uuid --vfs');
check('account ', 'add del');
check('account add ops role ', 'Administrator Operator ReadOnly');
check('-j sl', 'slots slot');
check('--', '--json --socket --help');
check('assign slot 1 ', 'pf vf blade mac vlan rate trusted');
check('assign slot 1 vf 0 blade blade1 t', 'trusted');
check('trust 1 0 2 ', 'on off');
check('link-state 1 0 2 e', 'enable');
check('domain ', 'create delete add remove dhcp');
check('lane ', 'create delete');
check('port 1/0 role ', 'uplink midplane');
check('vbridge add slot 1 ', 'pf vf mac');
check('vm start vm1 blade blade1 ', 'mem mac ip vlan rate template trusted');
check('vm ', 'start stop set');
check('template ', 'list add set del');
check('template add web ', 'id vlan rate trusted allow');
check('template set web rate 5 trusted ', 'on off');
check('migrate vm1 ', '--to');
check('events ', '-f');
check('slot ', '');
check('assign slot 1 vf 0 blade ', '');

# --- cmcd running on a dump --------------------------------------------------------------
open(my $c, '>', "$dir/cmcd.conf") or die;
print $c qq(chassis = { name = "completion"; };\n),
    qq(daemon = { socket = "$dir/run/cmcd.sock"; group = ""; store = "$dir/state/store"; };\n),
    qq(blades = ( { name = "web1"; id = 1; }, { name = "db-2"; id = 2; } );\n);
close $c;
system("$GEN -s 3 -e 3 -v 2 -o $dir/three.dump") == 0 or BAIL_OUT('mp-gendump failed');
my $pid = fork() // die;
if (!$pid) {
	open(STDOUT, '>', "$dir/cmcd.log");
	open(STDERR, '>&', \*STDOUT);
	exec($CMCD, '-f', '-c', "$dir/cmcd.conf", '--pci-dump', "$dir/three.dump") or exit 127;
}
END { if ($pid) { kill('TERM', $pid); waitpid($pid, 0) } }
my $end = time + 10;
sleep 0.05 until -S "$dir/run/cmcd.sock" && system("$CMCCTL version >/dev/null 2>&1") == 0 || time > $end;
ok(-S "$dir/run/cmcd.sock", 'cmcd runs on a 3-slot dump') or BAIL_OUT(`cat $dir/cmcd.log`);

check('slot ', '1 2 3');
check('functions slot ', '1 2 3');
check('assign slot ', '1 2 3');
check('assign slot 2 vf 0 blade ', 'web1 db-2');
check('assign slot 2 vf 0 blade w', 'web1');
check('migrate vm1 --to ', 'web1 db-2');
check('domain add red ', 'web1 db-2');
check('domain dhcp red ', 'off subnet');
check('domain dhcp red subnet 10.0.0.0/24 ', 'dns lease pool relay router server');
check('domain dhcp red subnet 10.0.0.0/24 server 10.0.0.1 pool ', '');
check('lane create mig ', 'web1 db-2');
check('trust ', '1 2 3');
# The socket given on the command line wins over CMC_SOCKET.
{
	local $ENV{CMC_SOCKET} = "$dir/none.sock";
	check('slot ', '');
	check("-s $dir/run/cmcd.sock slot ", '1 2 3');
}

# --- VMs, domains, lanes, ports -----------------------------------------------------
# cmcd on a dump has none of these (no blades backend): a stand-in cmcctl answers with
# cmcd's JSON for them, as `cmcctl -j` prints it in the emulated chassis.
{
	local $PROG = "$dir/fake-cmcctl";
	open(my $f, '>', $PROG) or die;
	print $f <<'SH';
#!/bin/sh
case "$*" in
*"-j vms") echo '[{"vm":"vm1","blade":"blade1","state":"running","mem":64},{"vm":"web-vm","blade":"blade2","state":"running","mem":64}]' ;;
*"-j domains") echo '[{"domain":"red","vlan":10,"blades":"blade1,blade2"},{"domain":"blue","vlan":11,"blades":""}]' ;;
*"-j lanes") echo '[{"lane":"mig","slot":2,"pf":0,"vlan":4000,"blade_a":"blade1","vf_a":0}]' ;;
*"-j template list") echo '[{"template":"web","id":7,"vlan":0,"rate":50,"trusted":false,"allow":"10.9.0.0/24","vms":1,"source":"config"},{"template":"db","id":8,"vlan":0,"rate":0,"trusted":false,"allow":"-","vms":0,"source":"admin"}]' ;;
*"-j ports") echo '[{"slot":1,"pf":0,"role":"uplink","vfs":4},{"slot":2,"pf":1,"role":"midplane","vfs":4}]' ;;
*) exit 1 ;;
esac
SH
	close $f;
	chmod 0755, $PROG;
	check('vm stop ', 'vm1 web-vm');
	check('migrate w', 'web-vm');
	check('vm set ', 'vm1 web-vm');
	check('vm set vm1 ', 'rate');
	check('domain delete ', 'red blue');
	check('domain add r', 'red');
	check('domain create ', '');
	check('lane delete ', 'mig');
	check('port ', '1/0 2/1');
	check('vm start ', '');
	check('template set ', 'web db');
	check('template del d', 'db');
	check('vm start vm1 blade blade1 mac 02:00:00:00:00:01 template ', 'web db');
}

done_testing;
