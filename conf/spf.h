/*
 * spf.h - the SPF evaluator (RFC 7208 check_host) and `postern spf IP SENDER [HELO]`.
 *
 * Untrusted input: every TXT record, MX and PTR name and address that DNS returns, and the
 * caller's IP, sender and HELO. Records are parsed whole before any term is evaluated (a syntax
 * error anywhere is permerror, RFC 7208 4.6); every macro expansion is bounded (SPF_NAME_MAX,
 * SPF_EXPL_MAX); recursion through include/redirect is bounded by the 10 DNS-querying-term limit.
 * Addresses are compared textually (after inet_pton): nothing here connects anywhere.
 *
 * DNS goes through a lookup callback, so the evaluator is pure given its answers: spf_dns_lookup
 * is the callback on lib/dns.h; tests give their own.
 *
 * Errors: none as such; every failure is a result (temperror for DNS, permerror for records).
 */
#ifndef POSTERN_SPF_H
#define POSTERN_SPF_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "lib/dns.h"

/* RFC 7208 4.6.4: DNS-querying terms per check; void lookups; names per mx/ptr. */
#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10
/* A domain name after macro expansion (RFC 7208 7.3: 253 octets); an explanation string. */
#define SPF_NAME_MAX 253
#define SPF_EXPL_MAX 1024

enum spf_result {
	SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR
};

/* spf_lookup_fn - answer (name, qtype: DNS_T_TXT/A/AAAA/MX/PTR) as strings: TXT values (strings
 * joined), addresses in text form, MX exchanges, PTR names. On DNS_OK *v holds *n >= 1 strings,
 * owned by the caller (spf_strings_free). */
typedef enum dns_result (*spf_lookup_fn)(void *ctx, const char *name, int qtype, char ***v,
					 size_t *n);

struct spf_query {
	const char *ip;		/* IPv4 or IPv6 text */
	const char *sender;	/* MAIL FROM; "" for the null sender */
	const char *helo;	/* may be NULL */
	const char *receiver;	/* %{r}; NULL: "unknown" */
	time_t now;		/* %{t} */
	spf_lookup_fn lookup;
	void *ctx;
};

/* spf_check - RFC 7208 check_host for q (the HELO identity when sender is empty). *why (owned)
 * is the explanation on fail (exp= or a default) and a short reason otherwise. */
enum spf_result spf_check(const struct spf_query *q, char **why);

/* spf_result_str - "pass", "fail", "softfail", "neutral", "none", "permerror", "temperror". */
const char *spf_result_str(enum spf_result r);

void spf_strings_free(char **v, size_t n);

/* spf_dns_lookup - the spf_lookup_fn on a struct dns (ctx). */
enum dns_result spf_dns_lookup(void *ctx, const char *name, int qtype, char ***v, size_t *n);

/* spf_main - `postern spf IP SENDER [HELO]`: print the result word and the explanation. 0, or
 * 64 for a usage error, 78 when no resolver can be set up. */
int spf_main(const char *resolver, int argc, char **argv, FILE *out, FILE *errf);

#endif
