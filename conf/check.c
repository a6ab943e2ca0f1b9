/*
 * check.c - the deliverability check. See check.h.
 *
 * What it can and cannot know: postern has no way to learn the public address the server's mail leaves
 * from, so "this host" means the A records of the configured hostname. SPF is evaluated for ip4:, a and
 * mx mechanisms; include: and redirect= are named, not followed.
 */
#include "conf/check.h"
#include "conf/check_report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "conf/dkimkey.h"
#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/log.h"

#define MAX_IPS 8
/* dns_unknown - a DNS answer that says nothing about the record: "could not check". */
static bool dns_unknown(enum dns_result r)
{
	return r == DNS_TEMPFAIL || r == DNS_FAIL;
}

int check_spf_ip4(const char *rec, struct in_addr ip)
{
	const char *p = rec;

	while ((p = strcasestr(p, "ip4:")) != NULL) {
		char addr[32];
		size_t n;
		unsigned bits = 32;
		struct in_addr net;

		p += 4;
		n = strcspn(p, " /");
		if (n == 0 || n >= sizeof addr)
			continue;
		memcpy(addr, p, n);
		addr[n] = '\0';
		if (p[n] == '/') {
			char *end;
			unsigned long b = strtoul(p + n + 1, &end, 10);

			if (end == p + n + 1 || b > 32)
				continue;
			bits = (unsigned)b;
		}
		if (inet_pton(AF_INET, addr, &net) != 1)
			continue;
		uint32_t mask = bits == 0 ? 0 : htonl(~0U << (32 - bits));
		if ((net.s_addr & mask) == (ip.s_addr & mask))
			return 1;
	}
	return 0;
}

char check_spf_all(const char *rec)
{
	const char *p = rec, *hit = NULL;

	while ((p = strcasestr(p, "all")) != NULL) {
		const char *s = p;

		p += 3;
		if (*p != '\0' && *p != ' ')
			continue;
		if (s > rec && strchr("-~?+", s[-1]) != NULL && (s - 1 == rec || s[-2] == ' '))
			hit = s - 1;
		else if (s > rec && s[-1] == ' ')
			hit = s;
	}
	if (hit == NULL)
		return 0;
	return strchr("-~?+", *hit) ? *hit : '+';
}

bool check_tag(const char *rec, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	const char *p = rec;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *k = p;
		while (*p != '\0' && *p != '=' && *p != ';')
			p++;
		size_t klen = (size_t)(p - k);
		while (klen > 0 && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
			klen--;
		if (*p != '=') {
			continue;
		}
		p++;
		const char *v = p;
		while (*p != '\0' && *p != ';')
			p++;
		if (klen == nl && strncasecmp(k, name, nl) == 0) {
			size_t o = 0;

			for (; v < p && o + 1 < outsz; v++)
				if (*v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
					out[o++] = *v;
			out[o] = '\0';
			return true;
		}
	}
	return false;
}

/* host_ips - the A records of the configured hostname. */
static size_t host_ips(struct dns *d, struct check_report *t, const char *host, struct in_addr *ips)
{
	struct err e;
	size_t n = 0;
	enum dns_result r;

	err_clear(&e);
	r = dns_a(d, host, ips, MAX_IPS, &n, &e);
	if (r != DNS_OK || n == 0) {
		check_add(t, "a", dns_unknown(r) ? CHECK_UNKNOWN : CHECK_FAIL, host,
		    dns_unknown(r) ? NULL : "publish an A record for it (the address mail leaves from)",
		    "no A record (%s)", dns_result_str(r));
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &ips[i], a, sizeof a);
		check_add(t, "a", CHECK_OK, host, NULL, "has address %s", a);
	}
	return n;
}

static void check_rdns(struct dns *d, struct check_report *t, const char *host, const struct in_addr *ips, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char a[INET_ADDRSTRLEN], *name = NULL;
		struct err e;
		enum dns_result r;

		err_clear(&e);
		inet_ntop(AF_INET, &ips[i], a, sizeof a);
		r = dns_ptr(d, ips[i], &name, &e);
		if (r != DNS_OK || name == NULL)
			check_add(t, "ptr", dns_unknown(r) ? CHECK_UNKNOWN : CHECK_FAIL, a,
			    dns_unknown(r) ? NULL : "ask your provider for a PTR naming your host",
			    "no PTR record (%s)", dns_result_str(r));
		else if (!dns_name_eq(name, host))
			check_add(t, "ptr", CHECK_FAIL, a, "ask your provider for a PTR naming your host",
			    "PTR is %s, not %s", name, host);
		else
			check_add(t, "ptr", CHECK_OK, a, NULL, "PTR is %s, matching hostname", name);
		free(name);
	}
}

static void check_mx(struct dns *d, struct check_report *t, const char *domain)
{
	struct dns_mx *v = NULL;
	size_t n = 0;
	struct err e;
	enum dns_result r;

	err_clear(&e);
	r = dns_mx(d, domain, &v, &n, &e);
	if (r == DNS_OK && n == 1 && strcmp(v[0].host, ".") == 0)
		check_add(t, "mx", CHECK_WARN, domain, "publish an MX if replies should arrive",
		    "null MX: replies and bounces to it are refused");
	else if (r == DNS_OK && n > 0)
		check_add(t, "mx", CHECK_OK, domain, NULL, "MX %s (preference %u)%s", v[0].host, v[0].pref,
		    n > 1 ? " and others" : "");
	else
		check_add(t, "mx", dns_unknown(r) ? CHECK_UNKNOWN : CHECK_WARN, domain,
		    dns_unknown(r) ? NULL : "publish an MX record for replies and bounces",
		    dns_unknown(r) ? "DNS did not answer (%s)" : "no MX (%s): replies go to its A record, if any",
		    dns_result_str(r));
	dns_mx_free(v, n);
}

/* spf_names_host - does a/mx in the record cover one of our addresses? */
static bool spf_names_host(struct dns *d, const char *domain, const char *rec, const struct in_addr *ips,
    size_t nips)
{
	struct in_addr a[MAX_IPS];
	struct err e;
	size_t n = 0;

	err_clear(&e);
	if ((strstr(rec, " a ") || strstr(rec, " a/") || strstr(rec, " +a ") ||
	    (strlen(rec) > 2 && strcmp(rec + strlen(rec) - 2, " a") == 0)) &&
	    dns_a(d, domain, a, MAX_IPS, &n, &e) == DNS_OK)
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < nips; k++)
				if (a[i].s_addr == ips[k].s_addr)
					return true;
	if (strstr(rec, " mx") != NULL) {
		struct dns_mx *v = NULL;
		size_t nmx = 0;

		if (dns_mx(d, domain, &v, &nmx, &e) == DNS_OK)
			for (size_t m = 0; m < nmx; m++) {
				n = 0;
				if (dns_a(d, v[m].host, a, MAX_IPS, &n, &e) != DNS_OK)
					continue;
				for (size_t i = 0; i < n; i++)
					for (size_t k = 0; k < nips; k++)
						if (a[i].s_addr == ips[k].s_addr) {
							dns_mx_free(v, nmx);
							return true;
						}
			}
		dns_mx_free(v, nmx);
	}
	return false;
}

static void check_spf(struct dns *d, struct check_report *t, const char *domain, const struct in_addr *ips, size_t nips)
{
	char **v = NULL, *rec = NULL;
	size_t n = 0, nspf = 0;
	struct err e;
	enum dns_result r;

	err_clear(&e);
	r = dns_txt(d, domain, &v, &n, &e);
	for (size_t i = 0; i < n; i++)
		if (strncasecmp(v[i], "v=spf1", 6) == 0 && (v[i][6] == ' ' || v[i][6] == '\0')) {
			nspf++;
			rec = v[i];
		}
	if (r == DNS_TEMPFAIL)
		check_add(t, "spf", CHECK_UNKNOWN, domain, NULL, "DNS did not answer (%s)", e.msg);
	else if (nspf == 0)
		check_add(t, "spf", CHECK_FAIL, domain, "publish \"v=spf1 a:YOUR.HOSTNAME -all\"", "no SPF record");
	else if (nspf > 1)
		check_add(t, "spf", CHECK_FAIL, domain, "merge them into one record",
		    "%zu SPF records: receivers treat that as an error (RFC 7208 4.5)", nspf);
	else {
		char all = check_spf_all(rec);
		bool ours = false;

		for (size_t k = 0; k < nips; k++)
			ours |= check_spf_ip4(rec, ips[k]) == 1;
		ours = ours || spf_names_host(d, domain, rec, ips, nips);
		if (all == '+')
			check_add(t, "spf", CHECK_FAIL, domain, "end the record in -all", "\"%s\" ends in +all: anyone may send as it", rec);
		else if (ours)
			check_add(t, "spf", CHECK_OK, domain, NULL, "\"%s\" authorizes this host", rec);
		else if (strcasestr(rec, "include:") || strcasestr(rec, "redirect="))
			check_add(t, "spf", CHECK_WARN, domain, NULL,
			    "\"%s\": this host is not named directly (include:/redirect= not followed)", rec);
		else
			check_add(t, "spf", CHECK_FAIL, domain, "name this host's address in it",
			    "\"%s\" does not authorize this host's address", rec);
	}
	dns_txt_free(v, n);
}

static void check_dmarc(struct dns *d, struct check_report *t, const char *domain)
{
	struct buf name;
	char **v = NULL, p[32];
	size_t n = 0, i;
	struct err e;

	err_clear(&e);
	buf_init(&name, 300);
	if (buf_printf(&name, "_dmarc.%s", domain) < 0) {
		buf_free(&name);
		return;
	}
	enum dns_result r = dns_txt(d, buf_str(&name), &v, &n, &e);
	for (i = 0; i < n; i++)
		if (strncasecmp(v[i], "v=DMARC1", 8) == 0)
			break;
	if (dns_unknown(r))
		check_add(t, "dmarc", CHECK_UNKNOWN, buf_str(&name), NULL, "DNS did not answer (%s)", e.msg);
	else if (i == n)
		check_add(t, "dmarc", CHECK_WARN, buf_str(&name), "start with \"v=DMARC1; p=none\"", "no DMARC record");
	else if (check_tag(v[i], "p", p, sizeof p))
		check_add(t, "dmarc", CHECK_OK, buf_str(&name), NULL, "\"%s\" (policy %s)", v[i], p);
	else
		check_add(t, "dmarc", CHECK_FAIL, buf_str(&name), "add p=none", "\"%s\" has no p= tag", v[i]);
	dns_txt_free(v, n);
	buf_free(&name);
}

static void check_dkim(struct dns *d, struct check_report *t, const struct config *c, const char *domain)
{
	size_t used = 0;

	for (size_t k = 0; k < c->ndkim; k++) {
		const struct conf_dkim_key *key = &c->dkim[k];
		char want[4096], got[4096];
		struct buf name, rec, warn;
		EVP_PKEY *pk = NULL;
		char **v = NULL;
		size_t n = 0, i;
		struct err e;

		if (strcasecmp(key->domain, domain) != 0)
			continue;
		used++;
		err_clear(&e);
		buf_init(&name, 600);
		buf_init(&rec, 8192);
		buf_init(&warn, 512);
		if (dkimkey_load(key->keyfile, &pk, &warn, &e) < 0 || dkimkey_record(pk, &rec, &e) < 0) {
			check_add(t, "dkim", CHECK_FAIL, key->keyfile, NULL, "%s", e.msg);
			goto next;
		}
		if (warn.len > 0)
			check_add(t, "dkim", CHECK_WARN, key->keyfile, NULL, "%s", buf_str(&warn));
		if (buf_printf(&name, "%s._domainkey.%s", key->selector, key->domain) < 0)
			goto next;
		(void)dns_txt(d, buf_str(&name), &v, &n, &e);
		(void)check_tag(buf_str(&rec), "p", want, sizeof want);
		for (i = 0; i < n; i++)
			if (check_tag(v[i], "p", got, sizeof got))
				break;
		if (i == n)
			check_add(t, "dkim", CHECK_FAIL, buf_str(&name), buf_str(&rec), "no key record");
		else if (strcmp(got, want) != 0)
			check_add(t, "dkim", CHECK_FAIL, buf_str(&name), buf_str(&rec), "does not match %s (p= differs)",
			    key->keyfile);
		else
			check_add(t, "dkim", CHECK_OK, buf_str(&name), NULL, "matches %s", key->keyfile);
next:
		dns_txt_free(v, n);
		EVP_PKEY_free(pk);
		buf_free(&name);
		buf_free(&rec);
		buf_free(&warn);
	}
	if (used == 0)
		check_add(t, "dkim", CHECK_FAIL, domain, "make one with \"postern dkim-keygen DOMAIN SELECTOR\"",
		    "no dkim key configured");
}

/* client_key - whether the client key loads and belongs to x. 0 ok, 1 not knowable here (a caller
 * without the key's group), 2 unusable; the reason in why. */
static int client_key(const struct config *c, X509 *x, char *why, size_t n)
{
	FILE *f = fopen(c->tls_key, "re");
	EVP_PKEY *k;
	int r = 0;

	if (f == NULL) {
		(void)snprintf(why, n, "%s: %s", c->tls_key, strerror(errno));
		return errno == EACCES && getuid() != 0 ? 1 : 2;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL) {
		(void)snprintf(why, n, "%s: not a readable private key", c->tls_key);
		r = 2;
	} else if (X509_check_private_key(x, k) != 1) {
		(void)snprintf(why, n, "%s does not match the certificate in %s", c->tls_key, c->tls_cert);
		r = 2;
	}
	EVP_PKEY_free(k);
	ERR_clear_error();
	return r;
}

/* check_tls - the client certificate: readable, paired with its key, current, naming us. An unusable
 * one does not stop mail (the runner delivers without it and says so in mailq): say that too. */
static void check_tls(struct check_report *t, const struct config *c)
{
	static const char without[] = "mail goes out without a client certificate";
	char why[600];
	FILE *f;
	X509 *x;
	int k;

	if (c->tls_cert == NULL) {
		check_add(t, "tls", CHECK_OK, "tls_cert", NULL, "no client certificate configured (optional)");
		return;
	}
	if ((f = fopen(c->tls_cert, "re")) == NULL || (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		if (f)
			fclose(f);
		check_add(t, "tls", CHECK_FAIL, c->tls_cert, without, "cannot read a certificate");
		ERR_clear_error();
		return;
	}
	fclose(f);
	if ((k = client_key(c, x, why, sizeof why)) == 2)
		check_add(t, "tls", CHECK_FAIL, c->tls_key, without, "%s", why);
	else if (k == 1)
		check_add(t, "tls", CHECK_UNKNOWN, c->tls_key, "run postern check as root to check the key", "%s", why);
	const char *name = c->tls_cert_name ? c->tls_cert_name : c->hostname;
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
		check_add(t, "tls", CHECK_FAIL, c->tls_cert, "renew it", "has expired");
	else if (X509_cmp_time(X509_get0_notAfter(x), &(time_t){ time(NULL) + 14 * 86400 }) <= 0)
		check_add(t, "tls", CHECK_WARN, c->tls_cert, "renew it (is the certbot deploy hook installed?)",
		    "expires within 14 days");
	else if (X509_check_host(x, name, 0, 0, NULL) != 1)
		check_add(t, "tls", CHECK_FAIL, c->tls_cert, "get a certificate for it", "does not name %s", name);
	else if (k == 0)
		check_add(t, "tls", CHECK_OK, c->tls_cert, NULL, "is valid, names %s and matches its key", name);
	X509_free(x);
}

int check_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf)
{
	struct check_report *t = xcalloc(1, sizeof *t);
	struct in_addr ips[MAX_IPS];
	const char *domain;
	struct dns *d;
	struct err e;
	size_t n = 0;
	int rc;

	err_clear(&e);
	if (check_args(argc, (const char *const *)argv, t, &domain, &e) < 0) {
		fprintf(errf, "postern: %s\nusage: postern check [--json] [--only NAME[,NAME...]] [DOMAIN]\n",
		    e.msg);
		free(t);
		return EX_USAGE;
	}
	t->domain = domain != NULL ? domain : c->domain;
	if ((d = dns_new(c->resolver, &e)) == NULL) {
		fprintf(errf, "postern: %s\n", e.msg);
		free(t);
		return EX_CONFIG;
	}
	if (check_wanted(t, "a") || check_wanted(t, "ptr") || check_wanted(t, "spf"))
		n = host_ips(d, t, c->hostname, ips);
	if (check_wanted(t, "ptr"))
		check_rdns(d, t, c->hostname, ips, n);
	if (check_wanted(t, "mx"))
		check_mx(d, t, t->domain);
	if (check_wanted(t, "spf"))
		check_spf(d, t, t->domain, ips, n);
	if (check_wanted(t, "dkim"))
		check_dkim(d, t, c, t->domain);
	if (check_wanted(t, "dmarc"))
		check_dmarc(d, t, t->domain);
	if (check_wanted(t, "tls"))
		check_tls(t, c);
	check_print(t, c->hostname, out);
	rc = check_exit(t->count);
	check_report_free(t);
	free(t);
	dns_free(d);
	return rc;
}
