/*
 * route.h - where to deliver: the ordered list of {host, IPv4 address} targets for a domain (MX) or
 * for the smarthost.
 *
 * Untrusted input: DNS answers (already parsed by lib/dns). An MX exchange that is an IP literal is
 * refused (RFC 5321 5.1: it must be a name); a null MX (RFC 7505) is a permanent failure; a domain
 * whose MX hosts have no address is deferred (as Postfix does); no MX at all means the implicit MX
 * (the domain's own A records). Randomness is a parameter so tests can fix the shuffle.
 *
 * Errors: enum route_result, with the reason in struct err for anything but ROUTE_OK.
 */
#ifndef POSTERN_ROUTE_H
#define POSTERN_ROUTE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dns.h"
#include "lib/err.h"

enum route_result {
	ROUTE_OK,
	ROUTE_NULLMX,	/* permanent: "domain does not accept mail (null MX)" */
	ROUTE_NXDOMAIN,	/* permanent: the domain does not exist */
	ROUTE_PERMFAIL,	/* permanent: no MX and no A, or only IP-literal MX exchanges */
	ROUTE_TEMPFAIL,	/* defer: SERVFAIL, timeout, malformed answer */
	ROUTE_NOHOSTS,	/* defer: MX hosts exist but none has an address */
};

struct route_target {
	char *host;		/* owned: the MX host name (or the smarthost / the domain) */
	struct in_addr ip;
	int port;
};

struct route {
	struct route_target *t;	/* owned, in the order to try */
	size_t n;
};

typedef uint32_t route_rnd_fn(void *ctx);

/* route_mx - the targets for direct delivery to `domain` (port 25). Addresses in 0/8 and 224/3 are
 * dropped; loopback (127/8) and link-local (169.254/16) ones too unless allow_local (allow_local_mx).
 * A domain left with no target because of that is ROUTE_NOHOSTS (defer), the reason naming the host,
 * its address and the key ("mail for D loops back to myself (...)"). */
enum route_result route_mx(struct dns *d, const char *domain, bool allow_local, route_rnd_fn *rnd,
			   void *rndctx, struct route *out, struct err *e);

/* route_host - the targets for a smarthost: an IPv4 literal ("1.2.3.4" or "[1.2.3.4]") is used as it
 * is, a name is looked up (A). */
enum route_result route_host(struct dns *d, const char *host, int port, struct route *out,
			     struct err *e);

void route_free(struct route *r);

/* route_order_mx - pure: sort v by preference (stable), shuffle each run of equal preferences with
 * rnd, and drop IP-literal and null ("."), exchanges, freeing them. Returns the new count. */
size_t route_order_mx(struct dns_mx *v, size_t n, route_rnd_fn *rnd, void *rndctx);

/* route_is_ip_literal - "1.2.3.4" or anything in brackets. Pure. */
bool route_is_ip_literal(const char *host);

#endif
