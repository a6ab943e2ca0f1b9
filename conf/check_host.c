/*
 * check_host.c - the host half of `postern check`. See check_host.h.
 *
 * SECURITY: DNS names and TXT records reach the report, which escapes them. The default-route guess
 * connects a UDP socket (no packet is sent) only to read the source address the kernel picks.
 */
#include "conf/check_host.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/check_rec.h"
#include "conf/spf.h"
#include "lib/buf.h"
#include "lib/limits.h"

#define MYIP_TIMEOUT 3	/* seconds for the one question to check_myip's server, one try */
#define ORIGIN_WHY_MAX 600	/* why a sending address could not be learned */
/* An address SPF records never name (TEST-NET-1, RFC 5737): a record passing it passes anyone. */
#define SPF_PROBE_ADDR "192.0.2.255"

static bool dns_unknown(enum dns_result r)
{
	return r == DNS_TEMPFAIL || r == DNS_FAIL;
}

/* myip_ask - the A record of name at server (a name or an address): 0, or -1 with why. */
static int myip_ask(struct dns *d, const char *spec, struct in_addr *ip, char *why, size_t whysz)
{
	char name[LIM_DOMAIN + 1], srv[INET_ADDRSTRLEN];
	const char *at = strchr(spec, '@');
	struct in_addr sa;
	struct dns *q;
	struct err e;
	size_t n = 0;

	err_clear(&e);
	if (at == NULL || (size_t)(at - spec) >= sizeof name)
		return snprintf(why, whysz, "check_myip is not NAME@SERVER"), -1;
	memcpy(name, spec, (size_t)(at - spec));
	name[at - spec] = '\0';
	if (inet_pton(AF_INET, at + 1, &sa) != 1 && (dns_a(d, at + 1, &sa, 1, &n, &e) != DNS_OK || n == 0))
		return snprintf(why, whysz, "%s: no address (%s)", at + 1, e.msg), -1;
	inet_ntop(AF_INET, &sa, srv, sizeof srv);
	if ((q = dns_new(srv, &e)) == NULL)
		return snprintf(why, whysz, "%s", e.msg), -1;
	dns_set_timeout(q, MYIP_TIMEOUT, 1);
	n = 0;
	enum dns_result r = dns_a(q, name, ip, 1, &n, &e);
	dns_free(q);
	if (r != DNS_OK || n == 0)
		return snprintf(why, whysz, "%s at %s: %s", name, at + 1, dns_result_str(r)), -1;
	return 0;
}

/* route_addr - the source address of the default route (a UDP connect sends nothing). */
static int route_addr(struct in_addr *ip)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53) }, me;
	socklen_t len = sizeof me;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	(void)inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);	/* any address beyond this host */
	if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof to) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0 && me.sin_addr.s_addr != htonl(INADDR_ANY)) {
		*ip = me.sin_addr;
		r = 0;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

static const char *ntoa(struct in_addr ip, char *buf)
{
	return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

/* smarthost_addrs - the addresses of one smarthost (an IPv4 literal as it is) added to o. */
static void smarthost_addrs(struct dns *d, const char *host, struct check_report *r, struct check_origin *o)
{
	struct in_addr v[CHECK_MAX_ADDRS];
	char a[INET_ADDRSTRLEN], lit[INET_ADDRSTRLEN];
	size_t n = 0;
	struct err e;
	enum dns_result res = DNS_OK;

	err_clear(&e);
	/* an IPv4 literal, bare or in brackets, is used as it is (route_host does the same) */
	if (snprintf(lit, sizeof lit, "%.*s", (int)strcspn(host + (host[0] == '['), "]"), host + (host[0] == '[')) <
	    (int)sizeof lit && inet_pton(AF_INET, lit, &v[0]) == 1)
		n = 1;
	else if ((res = dns_a(d, host, v, CHECK_MAX_ADDRS, &n, &e)) != DNS_OK || n == 0) {
		check_add(r, "address", dns_unknown(res) ? CHECK_UNKNOWN : CHECK_FAIL, host,
		    dns_unknown(res) ? NULL : "set smarthost to a name that resolves",
		    dns_unknown(res) ? "DNS did not answer (%s)" : "smarthost has no address (%s)", dns_result_str(res));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t k = 0; k < o->n && !dup; k++)
			dup = o->ip[k].s_addr == v[i].s_addr;
		if (dup || o->n >= CHECK_MAX_ADDRS)
			continue;
		o->ip[o->n++] = v[i];
		check_add(r, "address", CHECK_OK, host, NULL, "mail leaves through the smarthost at %s", ntoa(v[i], a));
	}
}

void check_origin_learn(struct dns *d, const struct config *c, struct check_report *r,
			struct check_origin *o)
{
	char a[INET_ADDRSTRLEN], why[ORIGIN_WHY_MAX];

	memset(o, 0, sizeof *o);
	if (c->smarthost != NULL) {	/* each host of the smarthost line may carry the mail */
		o->smarthost = true;
		smarthost_addrs(d, c->smarthost, r, o);
		for (size_t i = 0; i < c->nsmarthost_alt; i++)
			smarthost_addrs(d, c->smarthost_alt[i].host, r, o);
		return;
	}
	if (c->source_address != NULL && inet_pton(AF_INET, c->source_address, &o->ip[0]) == 1) {
		if (check_addr_private(o->ip[0])) {
			check_add(r, "address", CHECK_UNKNOWN, c->source_address,
			    "set source_address to this host's public address, or use a smarthost",
			    "behind NAT: receivers see another address (source_address is private)");
			return;
		}
		o->n = 1;
		check_add(r, "address", CHECK_OK, c->source_address, NULL, "mail leaves from it (source_address)");
		return;
	}
	why[0] = '\0';
	if (strcmp(c->check_myip, "none") != 0 && myip_ask(d, c->check_myip, &o->ip[0], why, sizeof why) == 0) {
		if (check_addr_private(o->ip[0])) {	/* the server sees us from inside the NAT */
			check_add(r, "address", CHECK_UNKNOWN, ntoa(o->ip[0], a),
			    "set check_myip to a server outside your network, or use a smarthost",
			    "behind NAT: receivers see another address (as %s says)", c->check_myip);
			return;
		}
		o->n = 1;
		check_add(r, "address", CHECK_OK, ntoa(o->ip[0], a), NULL, "mail leaves from it (as %s says)",
		    c->check_myip);
		return;
	}
	if (route_addr(&o->ip[0]) < 0) {
		check_add(r, "address", CHECK_UNKNOWN, "this host", "set check_myip to a server that tells it",
		    "the address mail leaves from is not known (%s; no default route)",
		    why[0] ? why : "check_myip none");
		return;
	}
	if (check_addr_private(o->ip[0])) {
		check_add(r, "address", CHECK_UNKNOWN, ntoa(o->ip[0], a),
		    "set check_myip to a server that tells the public address, or use a smarthost",
		    "behind NAT: receivers see another address%s%s", why[0] ? "; " : "", why);
		return;
	}
	o->n = 1;
	check_add(r, "address", CHECK_WARN, ntoa(o->ip[0], a), "set check_myip to a server that tells it",
	    "a guess: the default route's address%s%s", why[0] ? "; " : "", why);
}

void check_host(struct dns *d, const struct config *c, struct check_report *r, const struct check_origin *o)
{
	const char *bad = check_hostname_bad(c->hostname);
	struct in_addr hip[CHECK_MAX_ADDRS];
	char a[INET_ADDRSTRLEN];
	size_t nh = 0;
	struct err e;
	enum dns_result res;

	err_clear(&e);
	if (bad != NULL)
		check_add(r, "hostname", CHECK_FAIL, c->hostname,
		    "set hostname in postern.conf to the host's fully qualified name (its PTR name)",
		    "%s: it is the HELO name, the Message-ID's right side and root's From", bad);
	else
		check_add(r, "hostname", CHECK_OK, c->hostname, NULL, "a fully qualified name");
	res = dns_a(d, c->hostname, hip, CHECK_MAX_ADDRS, &nh, &e);
	if (res != DNS_OK)
		check_add(r, "a", dns_unknown(res) ? CHECK_UNKNOWN : CHECK_FAIL, c->hostname,
		    dns_unknown(res) ? NULL : "publish an A record for it (the address mail leaves from)",
		    dns_unknown(res) ? "DNS did not answer (%s)" : "no A record (%s)", dns_result_str(res));
	for (size_t i = 0; i < nh; i++) {
		bool ours = o->smarthost || o->n == 0;

		for (size_t k = 0; k < o->n && !ours; k++)
			ours = o->ip[k].s_addr == hip[i].s_addr;
		if (ours)
			check_add(r, "a", CHECK_OK, c->hostname, NULL, "has address %s", ntoa(hip[i], a));
		else
			check_add(r, "a", CHECK_WARN, c->hostname, "point it at the address mail leaves from",
			    "has address %s, which mail does not leave from", ntoa(hip[i], a));
	}
	if (o->smarthost) {
		check_add(r, "ptr", CHECK_OK, c->smarthost, NULL,
		    "skipped: mail leaves through the smarthost, whose PTR is its operator's");
		return;
	}
	if (o->n == 0)
		check_add(r, "ptr", CHECK_UNKNOWN, "this host", NULL, "skipped: the address mail leaves from is not known");
	for (size_t k = 0; k < o->n; k++) {
		struct in_addr back[CHECK_MAX_ADDRS];
		char *name = NULL;
		size_t nb = 0;
		bool fcrdns = false;

		ntoa(o->ip[k], a);
		res = dns_ptr(d, o->ip[k], &name, &e);
		if (res != DNS_OK || name == NULL) {
			check_add(r, "ptr", dns_unknown(res) ? CHECK_UNKNOWN : CHECK_FAIL, a,
			    dns_unknown(res) ? NULL : "ask your provider for a PTR naming your host (hostname)",
			    dns_unknown(res) ? "DNS did not answer (%s)" : "no PTR record (%s)", dns_result_str(res));
			free(name);
			continue;
		}
		enum dns_result fr = dns_a(d, name, back, CHECK_MAX_ADDRS, &nb, &e);
		for (size_t i = 0; fr == DNS_OK && i < nb; i++)
			fcrdns |= back[i].s_addr == o->ip[k].s_addr;
		if (check_ptr_generic(name, o->ip[k]))
			check_add(r, "ptr", CHECK_FAIL, a, "ask your provider for a PTR naming your host (hostname)",
			    "PTR %s is a provider's generic name: receivers score it as a dial-up or dynamic host",
			    name);
		else if (dns_unknown(fr))
			check_add(r, "ptr", CHECK_UNKNOWN, a, NULL, "PTR %s; its A record: DNS did not answer", name);
		else if (!fcrdns)
			check_add(r, "ptr", CHECK_FAIL, a, "publish an A record for the PTR name pointing back to it",
			    "PTR %s does not resolve back to it (no forward-confirmed reverse DNS)", name);
		else if (!dns_name_eq(name, c->hostname))
			check_add(r, "ptr", CHECK_WARN, a, "set hostname to the PTR name, or have the PTR changed",
			    "PTR %s resolves back, but is not hostname %s (the HELO name)", name, c->hostname);
		else
			check_add(r, "ptr", CHECK_OK, a, NULL, "PTR %s, matching hostname, resolves back", name);
		free(name);
	}
}

void check_dnsbl(struct dns *d, const struct config *c, struct check_report *r, const struct check_origin *o)
{
	char a[INET_ADDRSTRLEN];

	if (strcmp(c->dnsbl, "none") == 0)
		return;
	if (o->smarthost) {
		check_add(r, "dnsbl", CHECK_OK, c->smarthost, NULL,
		    "skipped: mail leaves through the smarthost, whose lists are its operator's");
		return;
	}
	for (size_t k = 0; k < o->n; k++) {
		uint32_t h = ntohl(o->ip[k].s_addr);
		const char *z = c->dnsbl;

		ntoa(o->ip[k], a);
		while (*z != '\0') {
			size_t zl = strcspn(z, ",");
			char q[LIM_DOMAIN + 1], zone[LIM_DOMAIN + 1], **txt = NULL;
			struct in_addr ans[LIM_A_PER_HOST];
			size_t n = 0, nt = 0;
			struct err e;
			enum dns_result res;

			err_clear(&e);
			(void)snprintf(zone, sizeof zone, "%.*s", (int)zl, z);
			z += zl + (z[zl] == ',');
			if (snprintf(q, sizeof q, "%u.%u.%u.%u.%s", h & 255, (h >> 8) & 255, (h >> 16) & 255, h >> 24,
			    zone) >= (int)sizeof q)
				continue;
			res = dns_a(d, q, ans, LIM_A_PER_HOST, &n, &e);
			if (res == DNS_NXDOMAIN || res == DNS_NODATA) {
				check_add(r, "dnsbl", CHECK_OK, a, NULL, "not listed in %s", zone);
				continue;
			}
			if (res != DNS_OK || n == 0) {
				check_add(r, "dnsbl", CHECK_UNKNOWN, a, NULL, "%s: DNS did not answer (%s)", zone,
				    dns_result_str(res));
				continue;
			}
			enum check_dnsbl v = check_dnsbl_answer(ans[0]);
			char code[INET_ADDRSTRLEN];

			ntoa(ans[0], code);
			if (v == DNSBL_REFUSED)
				check_add(r, "dnsbl", CHECK_UNKNOWN, a, "use a resolver of your own (not a public one) to ask it",
				    "%s refused the query (answer %s: a public resolver, or over its limit)", zone, code);
			else if (v == DNSBL_BOGUS)
				check_add(r, "dnsbl", CHECK_UNKNOWN, a, NULL,
				    "%s: answer %s is no list answer (a resolver that rewrites NXDOMAIN?)", zone, code);
			else {
				(void)dns_txt(d, q, &txt, &nt, &e);
				check_add(r, "dnsbl", CHECK_FAIL, a, "follow the list's removal procedure (the reason says where)",
				    "listed in %s (%s)%s%s", zone, code, nt > 0 ? ": " : "", nt > 0 ? txt[0] : "");
				dns_txt_free(txt, nt);
			}
		}
	}
}

/* spf_record - the domain's SPF record text for display (the first v=spf1 TXT), or NULL. */
static char *spf_record(struct dns *d, const char *domain)
{
	char **v = NULL, *rec = NULL;
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (dns_txt(d, domain, &v, &n, &e) == DNS_OK)
		for (size_t i = 0; i < n && rec == NULL; i++)
			if (strncasecmp(v[i], "v=spf1", 6) == 0 && (v[i][6] == ' ' || v[i][6] == '\0'))
				rec = xstrdup(v[i]);
	dns_txt_free(v, n);
	return rec;
}

/* spf_eval - check_host for ip, sender, helo; *why owned. */
static enum spf_result spf_eval(struct dns *d, const char *ip, const char *sender, const char *helo, char **why)
{
	struct spf_query q = { .ip = ip, .sender = sender, .helo = helo, .now = time(NULL),
			       .lookup = spf_dns_lookup, .ctx = d };

	return spf_check(&q, why);
}

/* spf_status - what an SPF result for our own address means for mail. */
static enum check_status spf_status(enum spf_result s)
{
	switch (s) {
	case SPF_PASS:
		return CHECK_OK;
	case SPF_NEUTRAL:
		return CHECK_WARN;
	case SPF_TEMPERROR:
		return CHECK_UNKNOWN;
	default:
		return CHECK_FAIL;
	}
}

/* spf_one - the spf or spf-helo finding for one address of ours. */
static void spf_one(struct dns *d, struct check_report *r, const char *id, const char *domain, const char *sender,
		    const char *helo, struct in_addr ip, const char *rec, const char *fixname)
{
	char a[INET_ADDRSTRLEN], fix[CHECK_FIELD_MAX], *why = NULL;
	enum spf_result s = spf_eval(d, ntoa(ip, a), sender, helo, &why);
	enum check_status st = spf_status(s);

	if (s == SPF_NONE && sender[0] == '\0')
		st = CHECK_WARN;	/* HELO: no record is common and not held against anyone */
	const char *shown = rec != NULL ? rec : "";

	fix[0] = '\0';
	if (s == SPF_PASS) {
		char *why2 = NULL;

		if (spf_eval(d, SPF_PROBE_ADDR, sender, helo, &why2) == SPF_PASS) {
			st = CHECK_FAIL;
			(void)snprintf(fix, sizeof fix, "name only your senders and end the record in -all");
		}
		free(why2);
		if (st == CHECK_FAIL) {
			check_add(r, id, st, domain, fix, "pass for %s, and for %s too: anyone may send as it: \"%s\"",
			    a, SPF_PROBE_ADDR, shown);
			free(why);
			return;
		}
	} else if (s == SPF_NONE)
		(void)snprintf(fix, sizeof fix, "publish \"v=spf1 %s%s -all\" at %s", fixname[0] ? "a:" : "ip4:",
		    fixname[0] ? fixname : a, domain);
	else if (s == SPF_PERMERROR)
		(void)snprintf(fix, sizeof fix, "correct the record: receivers treat it as an error");
	else if (s != SPF_TEMPERROR)
		(void)snprintf(fix, sizeof fix, "add %s%s before the record's all", fixname[0] ? "a:" : "ip4:",
		    fixname[0] ? fixname : a);
	check_add(r, id, st, domain, fix, "%s for %s (%s)%s%s%s", spf_result_str(s), a, why != NULL ? why : "",
	    rec != NULL ? ": \"" : "", shown, rec != NULL ? "\"" : "");
	free(why);
}

void check_spf(struct dns *d, const struct config *c, const char *domain, struct check_report *r,
	       const struct check_origin *o)
{
	struct buf sender;
	char *rec, *hrec;
	struct in_addr hip[CHECK_MAX_ADDRS];
	size_t nh = 0;
	struct err e;
	bool a_ok = false;

	err_clear(&e);
	if (o->n == 0) {
		check_add(r, "spf", CHECK_UNKNOWN, domain, NULL, "skipped: the address mail leaves from is not known");
		check_add(r, "spf-helo", CHECK_UNKNOWN, c->hostname, NULL,
		    "skipped: the address mail leaves from is not known");
		return;
	}
	/* the name an a: fix names: the smarthost, or hostname when it resolves to our address */
	if (!o->smarthost && dns_a(d, c->hostname, hip, CHECK_MAX_ADDRS, &nh, &e) == DNS_OK)
		for (size_t i = 0; i < nh; i++)
			a_ok |= hip[i].s_addr == o->ip[0].s_addr;
	const char *fixname = o->smarthost ? c->smarthost : a_ok ? c->hostname : "";

	buf_init(&sender, LIM_DOMAIN + 16);
	if (buf_printf(&sender, "postmaster@%s", domain) < 0) {
		buf_free(&sender);
		return;
	}
	rec = spf_record(d, domain);
	for (size_t k = 0; k < o->n; k++)
		spf_one(d, r, "spf", domain, buf_str(&sender), c->hostname, o->ip[k], rec, fixname);
	free(rec);
	buf_free(&sender);
	if (o->smarthost) {
		check_add(r, "spf-helo", CHECK_OK, c->hostname, NULL,
		    "skipped: receivers see the smarthost's HELO name, not this host's");
		return;
	}
	/* bounces go out with an empty envelope sender: receivers check the HELO name instead */
	hrec = spf_record(d, c->hostname);
	for (size_t k = 0; k < o->n; k++)
		spf_one(d, r, "spf-helo", c->hostname, "", c->hostname, o->ip[k], hrec, a_ok ? c->hostname : "");
	free(hrec);
}
