/*
 * check.c - the deliverability check. See check.h.
 *
 * The order: the address mail leaves from (check_host.c), the host, port 25 and the smarthost
 * (handed in: queue/wire/probe.c), MX, SPF, DKIM, DMARC and alignment (check_dmarc.c), the client
 * certificate, and last the test message of --send. Each check adds its findings to one report
 * (check_report.c), which --only filters.
 */
#include "conf/check.h"
#include "conf/check_dmarc.h"
#include "conf/check_host.h"
#include "conf/check_rec.h"
#include "conf/check_report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "conf/dkimkey.h"
#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/limits.h"
#include "lib/log.h"

#define CHECK_PERM_WHY_MAX 300	/* why a file's owner or mode is unsafe */
#define CHECK_DKIM_WHY_MAX 200	/* why a DKIM record does not parse */
#define CHECK_CERT_WHY_MAX 600	/* why the client certificate is not used */

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

/* queue_can_read - whether user postern (the queue side, which signs) can open path, asked as that
 * user: a child of root takes its uid and groups and tries; otherwise only postern itself can tell.
 * 1 yes, 0 no, -1 not knowable here (why says so). */
static int queue_can_read(const char *path, char *why, size_t whysz)
{
	struct passwd *pw = getpwnam("postern");
	int st;
	pid_t pid;

	if (pw == NULL)
		return snprintf(why, whysz, "there is no user postern"), -1;
	if (getuid() == pw->pw_uid)
		return access(path, R_OK) == 0;
	if (geteuid() != 0)
		return snprintf(why, whysz, "run postern check as root to know whether user postern can read it"), -1;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return snprintf(why, whysz, "fork: %s", strerror(errno)), -1;
	if (pid == 0) {
		int fd;

		if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(2);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		_exit(fd >= 0 ? 0 : 1);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return snprintf(why, whysz, "waitpid: %s", strerror(errno)), -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		return snprintf(why, whysz, "could not become user postern to try"), -1;
	return WEXITSTATUS(st) == 0;
}

/* check_secret - a key file the queue side reads: user postern can, others cannot. */
static void check_secret(struct check_report *t, const char *id, const char *path)
{
	struct stat sb;
	char why[CHECK_PERM_WHY_MAX];
	int r;

	if (stat(path, &sb) < 0)
		return;	/* the load said why */
	if ((sb.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0)
		check_add(t, id, CHECK_FAIL, path, "chown root:postern and chmod 0640 it",
		    "mode %04o: others can read or change it", (unsigned)(sb.st_mode & 07777));
	why[0] = '\0';
	r = queue_can_read(path, why, sizeof why);
	if (r == 0)
		check_add(t, id, CHECK_FAIL, path, "chown root:postern and chmod 0640 it (its folders too must let postern in)",
		    "user postern, as which the queue runs, cannot read it: mail would wait for the key");
	else if (r < 0)
		check_add(t, id, CHECK_UNKNOWN, path, NULL, "%s", why);
	else if ((sb.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) == 0)
		check_add(t, id, CHECK_OK, path, NULL, "user postern can read it, others cannot");
}

/* dkim_record_verdict - one key's published record against the key; the finding. */
static void dkim_record_verdict(struct check_report *t, const char *name, const char *keyfile, EVP_PKEY *pk,
				const char *want_rec, const char *txt)
{
	struct check_dkimrec *dr = xcalloc(1, sizeof *dr);
	struct check_dkimrec *want = xcalloc(1, sizeof *want);
	bool ed = dkimkey_alg(pk) == DKIM_ED25519_SHA256;
	char why[CHECK_DKIM_WHY_MAX];

	if (check_dkim_parse(want_rec, strlen(want_rec), want, why, sizeof why) < 0)
		abort();	/* dkimkey_record's own output */
	if (check_dkim_parse(txt, strlen(txt), dr, why, sizeof why) < 0)
		check_add(t, "dkim", CHECK_FAIL, name, want_rec, "\"%s\": verifiers refuse it: %s", txt, why);
	else if (dr->plen == 0)
		check_add(t, "dkim", CHECK_FAIL, name, want_rec, "the key is revoked (empty p=): \"%s\"", txt);
	else if (strcmp(dr->k, ed ? "ed25519" : "rsa") != 0)
		check_add(t, "dkim", CHECK_FAIL, name, want_rec, "k=%s, but %s is an %s key%s", dr->k, keyfile,
		    ed ? "Ed25519" : "RSA", ed && strcmp(dr->k, "rsa") == 0 ? " (k= missing means rsa)" : "");
	else if (!dr->sha256)
		check_add(t, "dkim", CHECK_FAIL, name, want_rec, "h= does not list sha256, which postern signs with: \"%s\"",
		    txt);
	else if (!dr->email)
		check_add(t, "dkim", CHECK_FAIL, name, want_rec, "s= does not list email or *: \"%s\"", txt);
	else if (strcmp(dr->p, want->p) != 0)
		check_add(t, "dkim", CHECK_FAIL, name, want_rec, "does not match %s (p= differs)", keyfile);
	else if (dr->testing)
		check_add(t, "dkim", CHECK_WARN, name, "remove t=y once signatures verify",
		    "matches %s, but t=y: receivers may treat signed mail as unsigned", keyfile);
	else if (!dr->v_first)
		check_add(t, "dkim", CHECK_WARN, name, want_rec, "matches %s, but v= is not the first tag (RFC 6376 3.6.1)",
		    keyfile);
	else
		check_add(t, "dkim", CHECK_OK, name, NULL, "matches %s", keyfile);
	free(dr);
	free(want);
}

static void check_dkim(struct dns *d, struct check_report *t, const struct config *c, const char *domain)
{
	size_t used = 0;

	for (size_t k = 0; k < c->ndkim; k++) {
		const struct conf_dkim_key *key = &c->dkim[k];
		struct buf name, rec, warn;
		EVP_PKEY *pk = NULL;
		char **v = NULL;
		size_t n = 0;
		struct err e;
		enum dns_result r;

		if (strcasecmp(key->domain, domain) != 0)
			continue;
		used++;
		err_clear(&e);
		buf_init(&name, LIM_DOMAIN + 1);
		buf_init(&rec, DKIMKEY_RECORD_MAX);
		buf_init(&warn, 512);
		if (dkimkey_load(key->keyfile, &pk, &warn, &e) < 0 || dkimkey_record(pk, &rec, &e) < 0) {
			check_add(t, "dkim", CHECK_FAIL, key->keyfile, NULL, "%s", e.msg);
			goto next;
		}
		if (warn.len > 0)
			check_add(t, "dkim", CHECK_WARN, key->keyfile, NULL, "%s", buf_str(&warn));
		check_secret(t, "dkim", key->keyfile);
		if (buf_printf(&name, "%s._domainkey.%s", key->selector, key->domain) < 0)
			goto next;
		r = dns_txt(d, buf_str(&name), &v, &n, &e);	/* a CNAME is followed */
		if (dns_unknown(r))
			check_add(t, "dkim", CHECK_UNKNOWN, buf_str(&name), NULL, "DNS did not answer (%s)", e.msg);
		else if (r != DNS_OK || n == 0)
			check_add(t, "dkim", CHECK_FAIL, buf_str(&name), buf_str(&rec), "no key record");
		else if (n > 1)
			check_add(t, "dkim", CHECK_FAIL, buf_str(&name), buf_str(&rec),
			    "%zu TXT records: verifiers take one of them; publish only this one", n);
		else
			dkim_record_verdict(t, buf_str(&name), key->keyfile, pk, buf_str(&rec), v[0]);
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
	char why[CHECK_CERT_WHY_MAX];
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
	if (k == 0)
		check_secret(t, "tls", c->tls_key);
	X509_free(x);
}

int check_main(const struct config *c, const struct check_net *net, int argc, char **argv, FILE *out,
	       FILE *errf)
{
	struct check_report *t = xcalloc(1, sizeof *t);
	struct check_origin o;
	const char *domain;
	struct dns *d;
	struct err e;
	int rc;

	err_clear(&e);
	if (check_args(argc, (const char *const *)argv, t, &domain, &e) < 0) {
		fprintf(errf, "postern: %s\nusage: postern check [--json] [--only NAME[,NAME...]] [--send ADDRESS] "
		    "[DOMAIN]\n", e.msg);
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
	    check_wanted(t, "dnsbl") || check_wanted(t, "spf") || check_wanted(t, "spf-helo"))
		check_origin_learn(d, c, t, &o);
	if (check_wanted(t, "hostname") || check_wanted(t, "a") || check_wanted(t, "ptr"))
		check_host(d, c, t, &o);
	if (net != NULL && check_wanted(t, "port25"))
		net->port25(d, c, t);
	if (check_wanted(t, "dnsbl"))
		check_dnsbl(d, c, t, &o);
	if (net != NULL && check_wanted(t, "smarthost"))
		net->smarthost(d, c, t);
	if (check_wanted(t, "mx"))
		check_mx(d, t, t->domain);
	if (check_wanted(t, "spf") || check_wanted(t, "spf-helo"))
		check_spf(d, c, t->domain, t, &o);
	if (check_wanted(t, "dkim"))
		check_dkim(d, t, c, t->domain);
	if (check_wanted(t, "dmarc") || check_wanted(t, "align"))
		check_dmarc(d, c, t->domain, t);
	if (check_wanted(t, "tls"))
		check_tls(t, c);
	if (net != NULL && check_wanted(t, "send"))
		net->send(c, t->send, t);
	check_print(t, c->hostname, out);
	rc = check_exit(t->count);
	check_report_free(t);
	free(t);
	dns_free(d);
	return rc;
}
