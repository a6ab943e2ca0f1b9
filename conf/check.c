/*
 * check.c - the deliverability check. See check.h.
 *
 * The order: the address mail leaves from (check_host.c), the host, MX, SPF, DKIM, DMARC, the client
 * certificate. Each check adds its findings to one report (check_report.c), which --only filters.
 */
#include "conf/check.h"
#include "conf/check_host.h"
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

/* dns_unknown - a DNS answer that says nothing about the record: "could not check". */
static bool dns_unknown(enum dns_result r)
{
	return r == DNS_TEMPFAIL || r == DNS_FAIL;
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
	struct check_origin o;
	const char *domain;
	struct dns *d;
	struct err e;
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
	memset(&o, 0, sizeof o);
	if (check_wanted(t, "address") || check_wanted(t, "a") || check_wanted(t, "ptr") ||
	    check_wanted(t, "spf") || check_wanted(t, "spf-helo"))
		check_origin_learn(d, c, t, &o);
	if (check_wanted(t, "hostname") || check_wanted(t, "a") || check_wanted(t, "ptr"))
		check_host(d, c, t, &o);
	if (check_wanted(t, "mx"))
		check_mx(d, t, t->domain);
	if (check_wanted(t, "spf") || check_wanted(t, "spf-helo"))
		check_spf(d, c, t->domain, t, &o);
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
