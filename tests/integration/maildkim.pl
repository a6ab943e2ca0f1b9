#!/usr/bin/perl
# maildkim.pl - verify every DKIM signature of the message on stdin with Mail::DKIM::Verifier
# (libmail-dkim-perl; keys fetched with Net::DNS from /etc/resolv.conf's servers).
# Prints one line per signature. Debian 12's Mail::DKIM (1.20230212) knows only rsa-sha1/rsa-sha256:
# other algorithms (ed25519-sha256) are reported "skipped" and not judged. Exits 0 if at least one
# signature passed and every judged signature passed; 2 if no signature could be judged; else 1.
use strict;
use warnings;
use Mail::DKIM::Verifier;

my $dkim = Mail::DKIM::Verifier->new();
binmode STDIN;
while (my $line = <STDIN>) {
	$line =~ s/\r?\n\z/\r\n/;	# Mail::DKIM wants CRLF; stored messages already have it
	$dkim->PRINT($line);
}
$dkim->CLOSE();
my @sigs = $dkim->signatures;
my ($ok, $judged) = (1, 0);
for my $s (@sigs) {
	my $r = $s->result;
	if (($s->algorithm // '') !~ /^rsa-/) {
		printf "maildkim: d=%s s=%s a=%s: skipped (unsupported by this Mail::DKIM)\n",
			$s->domain // '', $s->selector // '', $s->algorithm // '';
		next;
	}
	$judged++;
	printf "maildkim: d=%s s=%s a=%s: %s%s\n", $s->domain // '', $s->selector // '',
		$s->algorithm // '', $r, ($s->result_detail ne $r ? " (" . $s->result_detail . ")" : "");
	$ok = 0 unless $r eq 'pass';
}
print "maildkim: no signature it can judge\n" unless $judged;
exit(!$judged ? 2 : $ok ? 0 : 1);
