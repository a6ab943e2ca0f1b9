/*
 * dns.h - the libresolv wrapper: a pure parser for DNS responses and a small resolver context.
 *
 * Untrusted input: every byte of a DNS response (the resolver, or whoever can spoof it, is hostile).
 * dns_parse_answer is pure and bounded: names are decoded with compression pointers that must point
 * strictly backwards (so loops cannot happen), at most DNS_MAX_RR answer records are kept, every
 * length is checked against the message and the record's RDLENGTH. Names are returned in text form
 * without the trailing dot ("mx.example.org"; the root is "."), and a name with a byte that is not
 * printable ASCII, or a '.' or '\' inside a label, makes the whole message malformed.
 *
 * The I/O half owns its own struct __res_state (res_ninit; never the global _res) and maps the
 * resolver's outcome to enum dns_result. Only IPv4 is spoken: AAAA is asked only by SPF evaluation
 * (conf/spf.c), which compares addresses textually and never connects to them.
 *
 * Errors: dns_parse_answer returns 0/-1 with a reason; the lookups return enum dns_result and fill
 * struct err for anything but DNS_OK.
 */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* RR types we parse (RFC 1035 3.2.2). */
#define DNS_T_A 1
#define DNS_T_CNAME 5
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28	/* RFC 3596: asked only by the SPF evaluator (textual IPv6) */

/* Answer records kept from one response: more is an error (a 64 KiB response could hold ~4000). */
#define DNS_MAX_RR 256

enum dns_result { DNS_OK, DNS_NODATA, DNS_NXDOMAIN, DNS_TEMPFAIL, DNS_FAIL };

struct dns_rr {
	int type;		/* DNS_T_* */
	char *owner;		/* owned; text form */
	uint32_t ttl;
	unsigned pref;		/* MX preference */
	char *data;		/* owned: MX exchange, CNAME/PTR target, TXT value (strings joined) */
	size_t len;		/* strlen(data) (TXT values never hold NUL: refused) */
	struct in_addr a;	/* A */
	struct in6_addr a6;	/* AAAA */
};

struct dns_answer {
	int rcode;		/* RFC 1035 4.1.1: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	bool aa, tc;
	struct dns_rr *rr;	/* owned; the answer section's records of the asked type and CNAMEs */
	size_t nrr;
};

struct dns_mx {
	unsigned pref;
	char *host;		/* owned; "." for a null MX */
};

/* dns_parse_answer - parse a whole response; keep answer RRs of class IN whose type is qtype or
 * CNAME. Pure. 0, or -1 with a reason (and out left empty). */
int dns_parse_answer(const unsigned char *msg, size_t len, int qtype, struct dns_answer *out,
		     struct err *e);
/* dns_answer_free - release the records; the struct can be reused. */
void dns_answer_free(struct dns_answer *a);

/* dns_answer_follow - follow CNAMEs for `name` inside one answer (at most `hops` steps). Returns the
 * final name (borrowed from a or name) and sets *steps; NULL when the chain is longer than hops. */
const char *dns_answer_follow(const struct dns_answer *a, const char *name, size_t hops,
			      size_t *steps);

/* dns_name_eq - ASCII case-insensitive comparison of two text names (a trailing dot is ignored). */
bool dns_name_eq(const char *a, const char *b);

struct dns;

/* dns_new - a resolver context. servers: NULL for /etc/resolv.conf, or IPv4 addresses separated by
 * spaces (at most 3, port 53; "ADDR:PORT" is also accepted, for tests). NULL with a reason. */
struct dns *dns_new(const char *servers, struct err *e);
/* dns_set_timeout - per-try timeout in seconds and number of tries (defaults from resolv.conf). */
void dns_set_timeout(struct dns *d, int seconds, int tries);
void dns_free(struct dns *d);

/* dns_query - ask (name, qtype) and parse; CNAMEs are followed (re-asking the target when the answer
 * stops at one) up to LIM_CNAME_CHAIN. On DNS_OK out holds only records of qtype owned by the final
 * name (at least one). */
enum dns_result dns_query(struct dns *d, const char *name, int qtype, struct dns_answer *out,
			  struct err *e);

/* dns_mx - the MX set of a domain, in answer order (route.c orders it). *v owned: dns_mx_free. */
enum dns_result dns_mx(struct dns *d, const char *domain, struct dns_mx **v, size_t *n,
		       struct err *e);
void dns_mx_free(struct dns_mx *v, size_t n);
/* dns_a - up to max A records of host, in answer order. */
enum dns_result dns_a(struct dns *d, const char *host, struct in_addr *v, size_t max, size_t *n,
		      struct err *e);
/* dns_txt - the TXT records of name, one string per record. *v owned: dns_txt_free. */
enum dns_result dns_txt(struct dns *d, const char *name, char ***v, size_t *n, struct err *e);
void dns_txt_free(char **v, size_t n);
/* dns_ptr - the first PTR name of an address (*name owned). */
enum dns_result dns_ptr(struct dns *d, struct in_addr ip, char **name, struct err *e);

/* dns_result_str - "ok", "no data", "NXDOMAIN", "temporary failure", "failure". */
const char *dns_result_str(enum dns_result r);

#endif
