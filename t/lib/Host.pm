# Helpers of the tests that run on the host (no QEMU): a shell command's exit code and
# output, a file read whole and written whole.
package Host;

use strict;
use warnings;
use Exporter qw(import);

our @EXPORT_OK = qw(sh slurp spew);

# (exit code, stdout and stderr) of a shell command.
sub sh { my $out = `$_[0] 2>&1`; return ($? >> 8, $out) }
# A file's contents, '' if it cannot be read.
sub slurp { local $/; open(my $f, '<', $_[0]) or return ''; return <$f> // '' }
# Writes a file whole (dies if it cannot).
sub spew { open(my $f, '>', $_[0]) or die "$_[0]: $!"; print $f $_[1]; close $f or die "$_[0]: $!" }

1;
