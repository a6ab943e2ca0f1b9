/*
 * route.c - MX and smarthost resolution (see route.h).
 *
 * Order: MX by preference, equal preferences shuffled (RFC 5321 5.1), then each host's A records in
 * answer order. At most LIM_MX_HOSTS hosts and LIM_A_PER_HOST addresses per host are kept: a cap on
 * how much we try, not a truncation of data we pass on.
 *
 * Untrusted: DNS may name any address. 0/8 and 224/3 are never connected to; loopback (127/8) and
 * link-local (169.254/16) MX targets only with allow_local_mx (test set-ups on 127.0.0.x): an MX
 * pointing at this host would otherwise have the runner deliver to whatever listens on its own port
 * 25 (itself, or a local service), and link-local addresses to this link's devices.
 */
#include "queue/wire/route.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/limits.h"

bool route_is_ip_literal(const char *host)
{
	struct in_addr a;

	if (host[0] == '[')
		return true;
	/* a name made only of digits and dots is not a host name either (RFC 1123 2.1) */
	if (inet_pton(AF_INET, host, &a) == 1)
		return true;
	return host[0] != '\0' && strspn(host, "0123456789.") == strlen(host);
}

size_t route_order_mx(struct dns_mx *v, size_t n, route_rnd_fn *rnd, void *rndctx)
{
	size_t k = 0;

	/* drop what cannot be a destination */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].host, ".") == 0 || route_is_ip_literal(v[i].host))
			free(v[i].host);
		else
			v[k++] = v[i];
	}
	/* stable insertion sort by preference (n is at most DNS_MAX_RR) */
	for (size_t i = 1; i < k; i++) {
		struct dns_mx x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1].pref > x.pref; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	/* Fisher-Yates inside each run of equal preference */
	for (size_t lo = 0; lo < k;) {
		size_t hi = lo + 1;

		while (hi < k && v[hi].pref == v[lo].pref)
			hi++;
		for (size_t i = hi - lo; i > 1; i--) {
			size_t j = rnd(rndctx) % i;
			struct dns_mx t = v[lo + i - 1];

			v[lo + i - 1] = v[lo + j];
			v[lo + j] = t;
		}
		lo = hi;
	}
	return k;
}

void route_free(struct route *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->t[i].host);
	free(r->t);
	r->t = NULL;
	r->n = 0;
}

/* What an address from DNS is to us. */
enum addr_kind { ADDR_OK, ADDR_LOOPBACK, ADDR_LINKLOCAL, ADDR_UNUSABLE };

/* addr_kind - 0/8 ("this network") and 224/3 (multicast, reserved) can never be a peer;
 * 127/8 is this host and 169.254/16 this link's, refused unless allow_local_mx. */
static enum addr_kind addr_kind(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if ((h >> 24) == 0 || (h >> 29) == 7)
		return ADDR_UNUSABLE;
	if ((h >> 24) == 127)
		return ADDR_LOOPBACK;
	if ((h >> 16) == 0xa9fe)
		return ADDR_LINKLOCAL;
	return ADDR_OK;
}

/* The first address a lookup refused, to say why a domain has no target. */
struct refused {
	enum addr_kind kind;	/* ADDR_OK: none refused */
	char host[LIM_DOMAIN + 1];
	struct in_addr ip;
};

/* add_host - look up host's addresses and append those we may connect to (loopback and link-local
 * only with allow_local); note the first one refused in *rf. Returns the lookup result. */
static enum dns_result add_host(struct dns *d, const char *host, int port, bool allow_local,
				struct refused *rf, struct route *out, struct err *e)
{
	struct in_addr ip[LIM_A_PER_HOST];
	enum dns_result r;
	size_t n;

	if ((r = dns_a(d, host, ip, LIM_A_PER_HOST, &n, e)) != DNS_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		enum addr_kind k = addr_kind(ip[i]);

		if (k == ADDR_UNUSABLE || (k != ADDR_OK && !allow_local)) {
			if (rf->kind == ADDR_OK || (rf->kind == ADDR_UNUSABLE && k != ADDR_UNUSABLE)) {
				rf->kind = k;
				(void)snprintf(rf->host, sizeof rf->host, "%s", host);
				rf->ip = ip[i];
			}
			continue;
		}
		out->t = xreallocarray(out->t, out->n + 1, sizeof *out->t);
		out->t[out->n].host = xstrdup(host);
		out->t[out->n].ip = ip[i];
		out->t[out->n].port = port;
		out->n++;
	}
	return DNS_OK;
}

/* local_refusal - a domain whose only targets are loopback or link-local: defer (DNS may be wrong
 * for a while, or a resolver's sinkhole; a deferral loses nothing and shows in mailq, and
 * queue_lifetime returns the message in the end), with a reason that says what to change. */
static enum route_result local_refusal(const char *domain, const struct refused *rf, struct err *e)
{
	char ip[INET_ADDRSTRLEN];

	(void)inet_ntop(AF_INET, &rf->ip, ip, sizeof ip);
	if (rf->kind == ADDR_LOOPBACK)
		err_set(e, EX_TEMPFAIL, "mail for %s loops back to myself (%s has the loopback address %s; "
		    "allow_local_mx yes permits it)", domain, rf->host, ip);
	else
		err_set(e, EX_TEMPFAIL, "mail for %s would go to a link-local address (%s has %s; "
		    "allow_local_mx yes permits it)", domain, rf->host, ip);
	return ROUTE_NOHOSTS;
}

/* implicit_mx - RFC 5321 5.1: no MX, so the domain itself is the host. */
static enum route_result implicit_mx(struct dns *d, const char *domain, bool allow_local, struct route *out,
				     struct err *e)
{
	struct refused rf = { .kind = ADDR_OK };

	switch (add_host(d, domain, 25, allow_local, &rf, out, e)) {
	case DNS_OK:
		if (out->n > 0)
			return ROUTE_OK;
		if (rf.kind == ADDR_LOOPBACK || rf.kind == ADDR_LINKLOCAL)
			return local_refusal(domain, &rf, e);
		err_set(e, 0, "%s: no usable address for the implicit MX", domain);
		return ROUTE_PERMFAIL;
	case DNS_NODATA:
		err_set(e, 0, "%s: no MX and no A record", domain);
		return ROUTE_PERMFAIL;
	case DNS_NXDOMAIN:
		err_set(e, 0, "%s: domain does not exist", domain);
		return ROUTE_NXDOMAIN;
	default:
		return ROUTE_TEMPFAIL;
	}
}

enum route_result route_mx(struct dns *d, const char *domain, bool allow_local, route_rnd_fn *rnd,
			   void *rndctx, struct route *out, struct err *e)
{
	struct refused rf = { .kind = ADDR_OK };
	struct dns_mx *mx;
	size_t n, k, hosts = 0;
	bool tempfail = false;
	enum dns_result r;

	out->t = NULL;
	out->n = 0;
	switch ((r = dns_mx(d, domain, &mx, &n, e))) {
	case DNS_OK:
		break;
	case DNS_NODATA:
		return implicit_mx(d, domain, allow_local, out, e);
	case DNS_NXDOMAIN:
		err_set(e, 0, "%s: domain does not exist", domain);
		return ROUTE_NXDOMAIN;
	default:
		return ROUTE_TEMPFAIL;
	}
	if (n == 1 && strcmp(mx[0].host, ".") == 0) {
		dns_mx_free(mx, n);
		err_set(e, 0, "%s: domain does not accept mail (null MX)", domain);
		return ROUTE_NULLMX;
	}
	k = route_order_mx(mx, n, rnd, rndctx);
	if (k == 0) {
		dns_mx_free(mx, k);
		err_set(e, 0, "%s: MX records name no host (IP literals refused)", domain);
		return ROUTE_PERMFAIL;
	}
	for (size_t i = 0; i < k && hosts < LIM_MX_HOSTS; i++) {
		struct err e2;
		size_t before = out->n;

		r = add_host(d, mx[i].host, 25, allow_local, &rf, out, &e2);
		if (r == DNS_TEMPFAIL || r == DNS_FAIL)
			tempfail = true;
		if (out->n > before)
			hosts++;
	}
	dns_mx_free(mx, k);
	if (out->n > 0)
		return ROUTE_OK;
	if (tempfail) {
		err_set(e, EX_TEMPFAIL, "%s: MX host lookups failed temporarily", domain);
		return ROUTE_TEMPFAIL;
	}
	if (rf.kind == ADDR_LOOPBACK || rf.kind == ADDR_LINKLOCAL)
		return local_refusal(domain, &rf, e);
	if (rf.kind == ADDR_UNUSABLE) {
		char ip[INET_ADDRSTRLEN];

		(void)inet_ntop(AF_INET, &rf.ip, ip, sizeof ip);
		err_set(e, EX_TEMPFAIL, "%s: no MX host has a usable address (%s has %s, which is never a mail server)",
		    domain, rf.host, ip);
		return ROUTE_NOHOSTS;
	}
	err_set(e, EX_TEMPFAIL, "%s: no MX host has an address", domain);
	return ROUTE_NOHOSTS;
}

enum route_result route_host(struct dns *d, const char *host, int port, struct route *out,
			     struct err *e)
{
	char lit[INET_ADDRSTRLEN + 2];
	struct in_addr a;
	size_t n = strlen(host);

	out->t = NULL;
	out->n = 0;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof lit) {
		memcpy(lit, host + 1, n - 2);
		lit[n - 2] = '\0';
	} else if (n < sizeof lit) {
		memcpy(lit, host, n + 1);
	} else {
		lit[0] = '\0';
	}
	if (inet_pton(AF_INET, lit, &a) == 1) {
		out->t = xcalloc(1, sizeof *out->t);
		out->t[0].host = xstrdup(lit);
		out->t[0].ip = a;
		out->t[0].port = port;
		out->n = 1;
		return ROUTE_OK;
	}
	if (host[0] == '[')
		return err_set(e, EX_CONFIG, "%s: not an IPv4 literal", host), ROUTE_PERMFAIL;
	struct refused rf = { .kind = ADDR_OK };

	switch (add_host(d, host, port, true, &rf, out, e)) {	/* a local smarthost is a choice, not DNS's */
	case DNS_OK:
		if (out->n > 0)
			return ROUTE_OK;
		err_set(e, EX_TEMPFAIL, "%s: no usable address", host);
		return ROUTE_NOHOSTS;
	case DNS_NXDOMAIN:
		return ROUTE_NXDOMAIN;
	case DNS_NODATA:
		err_set(e, EX_TEMPFAIL, "%s: no A record", host);
		return ROUTE_NOHOSTS;
	default:
		return ROUTE_TEMPFAIL;
	}
}
