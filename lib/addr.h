/*
 * addr.h - RFC 5322 address lists and single addresses (section 3.4, with the obsolete forms seen in
 * the wild), and their RFC 5321 form for the envelope.
 *
 * Untrusted input: header values (To:, Cc:, Bcc:, From:, ...) written by the caller, and addresses
 * given on the command line. Both parsers are pure: bytes in, a list of addresses or one precise error
 * out ("bad address \"foo@\": ...", code 65 for header values, 64 for command-line addresses).
 *
 * Accepted: display names (atoms, quoted strings, encoded words kept as written), comments (nested,
 * skipped), angle addresses, groups (the members are returned; an empty group yields nothing), bare
 * addr-specs, quoted local parts, IPv4 domain literals, bare names without a domain ("root"), folding
 * (CRLF followed by SP or HTAB) in header values, and UTF-8 in the local part and domain (RFC 6531;
 * flagged in `utf8`). Refused: obsolete source routes, CR/LF other than folding, NUL and other control
 * characters, 8-bit bytes that are not valid UTF-8 in an addr-spec, local parts over LIM_LOCAL, domains
 * over LIM_DOMAIN, paths over LIM_PATH (lib/limits.h), lists of more than LIM_RCPTS addresses.
 *
 * Results: domains are lower-cased (ASCII only); local parts keep their case and are stored unquoted
 * (quoted-pairs resolved): addr_format quotes them again when RFC 5321 needs it.
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

struct addr {
	char *local;	/* owned; unquoted; "" for the null address */
	char *domain;	/* owned; lower-case; NULL for a bare name ("root") and for the null address */
	char *display;	/* owned; display name as written (quotes removed, encoded words kept), or NULL */
	bool utf8;	/* the local part or the domain holds non-ASCII UTF-8 (needs SMTPUTF8) */
	bool null;	/* the null reverse-path "<>" (addr_parse_one only) */
};

struct addr_list {
	struct addr *v;	/* owned */
	size_t n;
};

/* addr_list_parse - parse a header value (an address-list, possibly folded) into *out.
 * An empty value (or only commas, comments and empty groups) gives n = 0. On error *out is empty,
 * e->code is 65 and the message names the offending address. */
int addr_list_parse(const char *buf, size_t len, struct addr_list *out, struct err *e);

/* addr_parse_one - parse exactly one address as given on the command line: "user@example.com",
 * "<user@example.com>", "\"Joe\" <j@example.com>", "root", or "<>" (the null address: local "",
 * domain NULL, null true). No folding: CR, LF and NUL are refused. Errors carry code 64. */
int addr_parse_one(const char *buf, size_t len, struct addr *out, struct err *e);

/* addr_format - "local@domain" (or "local" for a bare name, "" for the null address), with the local
 * part quoted as an RFC 5321 Quoted-string when it is not a Dot-string. Malloc'd; never NULL. */
char *addr_format(const struct addr *a);

/* addr_path_ok - s[0..n), an address in its RFC 5321 form (addr_format's result, or ""), can be carried
 * as it is: between the angle brackets of MAIL FROM:<...> / RCPT TO:<...> (the SMTP client refuses '<'
 * and '>' there, which receivers' naive parsers split on) and as one word of postern's envelope (no
 * space). So: at most LIM_PATH octets, no octet <= 0x20 (space, controls), no DEL, '<' or '>'. A quoted
 * local part holding one of these ("a b"@example.com, "a>b"@example.com) is valid RFC 5322 but is
 * refused at submission with this test. UTF-8 passes (SMTPUTF8). */
bool addr_path_ok(const char *s, size_t n);

/* addr_domain_valid - d[0..n) is a host name of LDH labels (1..63 octets each, no leading or trailing
 * hyphen, no empty label, at most LIM_DOMAIN octets) or an IPv4 literal "[1.2.3.4]". ASCII only. */
bool addr_domain_valid(const char *d, size_t n);

/* addr_free - free what *a owns and clear it; NULL is a no-op. */
void addr_free(struct addr *a);

/* addr_list_free - free every address and the array; NULL is a no-op. */
void addr_list_free(struct addr_list *l);

#endif
