#!/usr/bin/perl
# maildmarc.pl - evaluate DMARC (Mail::DMARC, libmail-dmarc-perl) for the message on stdin, on its
# DKIM signatures alone: each is verified with Mail::DKIM::Verifier, SPF is given as "none" (a
# bounce's null sender has no SPF identity of the From domain). The policy is fetched from DNS
# (/etc/resolv.conf). Prints "dmarc: RESULT disposition=D from=DOMAIN" and exits 0 on pass, else 1.
# With SPF_PASS_DOMAIN=D in the environment it judges SPF alignment alone instead: no DKIM result,
# and an SPF pass for the envelope domain D.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DMARC::PurePerl;

# the world's domains are under .example (RFC 2606): a top-level domain like any other here
{
	no warnings 'redefine';
	my $psl = \&Mail::DMARC::Base::is_public_suffix;
	*Mail::DMARC::Base::is_public_suffix = sub { return 1 if lc($_[1] // '') eq 'example'; $psl->(@_) };
}

my ($dkim, $from) = (Mail::DKIM::Verifier->new(), '');
my $in_header = 1;
binmode STDIN;
while (my $line = <STDIN>) {
	$line =~ s/\r?\n\z/\r\n/;
	$in_header = 0 if $line eq "\r\n";
	$from = lc $1 if $in_header && $line =~ /^From:.*@([A-Za-z0-9.-]+)>?\s*\r\n\z/i;
	$dkim->PRINT($line);
}
$dkim->CLOSE();
my @results = map { { domain => $_->domain, selector => $_->selector, result => $_->result } }
	grep { ($_->algorithm // '') =~ /^rsa-/ } $dkim->signatures;
my $dmarc = Mail::DMARC::PurePerl->new;
$dmarc->source_ip('127.0.0.1');
$dmarc->envelope_to('postern.example');
$dmarc->header_from($from);
if ($ENV{SPF_PASS_DOMAIN}) {
	@results = ();
	$dmarc->spf({ domain => lc $ENV{SPF_PASS_DOMAIN}, scope => 'mfrom', result => 'pass' });
} else {
	$dmarc->spf({ domain => $from, scope => 'mfrom', result => 'none' });
}
$dmarc->dkim(\@results);
my $r = $dmarc->validate;
printf "dmarc: %s disposition=%s from=%s dkim=%s\n", $r->result, $r->disposition, $from,
	join(',', map { "$_->{domain}:$_->{result}" } @results);
exit($r->result eq 'pass' ? 0 : 1);
