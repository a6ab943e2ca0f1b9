/*
 * check_host.h - the host half of `postern check`: the address mail leaves from, the host name, its
 * A record, the PTR of the sending address, and SPF for the domain and for the HELO name.
 *
 * Untrusted input: DNS answers (lib/dns, conf/spf.c). SPF is evaluated by conf/spf.c, in full, for
 * each address mail leaves from; a DNS failure is CHECK_UNKNOWN, never advice.
 */
#ifndef POSTERN_CHECK_HOST_H
#define POSTERN_CHECK_HOST_H

#include <netinet/in.h>
#include <stdbool.h>

#include "conf/check_report.h"
#include "conf/config.h"
#include "lib/dns.h"

#define CHECK_MAX_ADDRS 8	/* sending addresses judged: a smarthost's A set (LIM_A_PER_HOST) */

/* the address(es) mail leaves from, as receivers see them */
struct check_origin {
	struct in_addr ip[CHECK_MAX_ADDRS];
	size_t n;		/* 0: not known (nothing below can be judged) */
	bool smarthost;		/* the smarthost's addresses: this host's PTR and HELO do not matter */
};

/* check_origin_learn - the smarthost's A records; else check_myip's answer; else the default
 * route's address (a guess). Reports it under "address". */
void check_origin_learn(struct dns *d, const struct config *c, struct check_report *r,
			struct check_origin *o);

/* check_host - hostname, a, ptr. */
void check_host(struct dns *d, const struct config *c, struct check_report *r,
		const struct check_origin *o);

/* check_dnsbl - each sending address in each `dnsbl` zone (skipped with a smarthost). */
void check_dnsbl(struct dns *d, const struct config *c, struct check_report *r, const struct check_origin *o);

/* check_spf - spf (the domain, for each origin address) and spf-helo (the hostname, for bounces
 * whose envelope sender is empty). */
void check_spf(struct dns *d, const struct config *c, const char *domain, struct check_report *r,
	       const struct check_origin *o);

#endif
