/*
 * check_rec.h - the pure decisions of `postern check`: what a host name, a PTR name and an address
 * say about the host mail leaves from.
 *
 * Untrusted input: PTR names from DNS (any bytes lib/dns lets through: printable ASCII, no '.' or
 * '\' inside a label), TXT records (any bytes but NUL) and the configured hostname. Nothing here
 * does I/O; every function is table-tested in tests/unit/test_check_rec.c, and the record parsers
 * are fuzzed (tests/fuzz/fuzz_check_rec.c).
 */
#ifndef POSTERN_CHECK_REC_H
#define POSTERN_CHECK_REC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* check_hostname_bad - why `name` is no name to send mail under (HELO, Message-ID, From), or NULL
 * when it is a fully qualified LDH name: not localhost, not one label, not under .localdomain,
 * .local, .lan, .home, .internal or .localhost, not an address literal. */
const char *check_hostname_bad(const char *name);

/* check_ptr_generic - whether a PTR name looks like a provider's generic name for an address
 * rather than a host's own: the address's four numbers in either order (separated by '-', '.' or
 * '_', or zero-padded and run together), its eight hex digits, or a token such as dyn, dynamic,
 * pool, dhcp, dsl, cable, dialup, ppp, broadband or customer between the separators. */
bool check_ptr_generic(const char *name, struct in_addr ip);

/* check_addr_private - a private (RFC 1918), shared (RFC 6598 CGNAT) or link-local address:
 * one a receiver never sees, because NAT stands in between. */
bool check_addr_private(struct in_addr ip);

/* what a DNSBL's A answer for a listed-looking query means (RFC 5782 2.1) */
enum check_dnsbl { DNSBL_LISTED, DNSBL_REFUSED, DNSBL_BOGUS };

/* check_dnsbl_answer - an A record a DNSBL returned: 127.0.0.2 and up (127/8) is a listing;
 * Spamhaus's 127.255.255.x means the query was refused (a public resolver, or over the limit:
 * "could not check"), as is 127.0.0.1 (RFC 5782 5: never a listing); anything outside 127/8 is a
 * resolver answering for a name it does not have. Pure. */
enum check_dnsbl check_dnsbl_answer(struct in_addr a);

/* A tag-list (RFC 6376 3.2): tags kept, a name's length. More tags is an error, not a cut. */
#define CHECK_TAGS_MAX 32
#define CHECK_TAGNAME_MAX 32

struct check_tag {
	const char *name, *val;	/* borrowed from the record; not NUL-terminated */
	size_t nlen, vlen;	/* the value without surrounding white space */
};

/* check_taglist - split a tag-list as DKIM verifiers do (dkimpy's parse_tag_value): tag-specs
 * separated by ';' (one trailing ';' allowed), each NAME=VALUE with NAME = ALPHA *(ALNUM / "_"),
 * no name twice. 0 and *n tags, or -1 with why. Pure. */
int check_taglist(const char *rec, size_t len, struct check_tag *tags, size_t *n, char *why, size_t whysz);

/* what a DKIM key record (RFC 6376 3.6.1, RFC 8463) says */
struct check_dkimrec {
	char k[16];		/* the key type, "rsa" when there is no k= */
	bool v_first;		/* no v=, or v= is the first tag */
	bool sha256;		/* no h=, or h= lists sha256 */
	bool email;		/* no s=, or s= lists * or email */
	bool testing;		/* t= has y */
	size_t plen;		/* p= length without white space; 0: revoked */
	char p[4096];		/* p= without white space (DKIMKEY_RECORD_MAX) */
};

/* check_dkim_parse - a DKIM key record as dkimpy and Mail::DKIM read it. -1 with why for what they
 * refuse: a bad tag-list, v= other than DKIM1, a k= they do not know (rsa, ed25519), no p=, a p=
 * that is not base64 or longer than the key buffer. 0 otherwise: the rest is judged by the caller
 * (h=, s=, t=y, an empty p=, p= against the key). Pure. */
int check_dkim_parse(const char *rec, size_t len, struct check_dkimrec *out, char *why, size_t whysz);

/* mailto: report destinations kept from rua= and ruf= together */
#define CHECK_DMARC_URIS 8

/* what a DMARC record (RFC 7489 6.3) says */
struct check_dmarcrec {
	char p[12], sp[12];	/* none, quarantine, reject; sp "" when absent */
	char adkim, aspf;	/* 'r' or 's' ('r' when absent) */
	int pct;		/* 0..100 (100 when absent) */
	size_t nuri;
	char uri_domain[CHECK_DMARC_URIS][254];	/* the domain of each mailto: in rua= and ruf= */
};

/* check_dmarc_parse - a DMARC record as receivers read it. -1 with why for a record they discard or
 * misread: a bad tag-list, v=DMARC1 not the first tag, p= missing or not none/quarantine/reject,
 * sp= likewise, adkim/aspf not r or s, pct not 0..100, fo not 0/1/d/s, ri not a number, a rua/ruf
 * URI that is not mailto:ADDRESS[!SIZE] (more than CHECK_DMARC_URIS: an error too). Pure. */
int check_dmarc_parse(const char *rec, size_t len, struct check_dmarcrec *out, char *why, size_t whysz);

#endif
