/*
 * keygen.c - `postern dkim-keygen` and `postern dkim-record`: make a DKIM key, print what to publish.
 *
 * SECURITY
 *	Run by an administrator (root, for the default path). The domain and selector become part of a
 *	file name and of a DNS name, so they are restricted to letters, digits, '-' and '.', with no
 *	empty label and no leading '-' or '.'. The key is written by dkimkey_write: 0640, no symlinks
 *	followed, an existing key is never replaced without --force.
 * DIAGNOSTICS
 *	One line on errf, "postern dkim-keygen: reason", and a sysexits code.
 */
#include "conf/keygen.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/dkimkey.h"
#include "lib/buf.h"
#include "lib/err.h"

#define KEYGEN_DIR SYSCONFDIR "/postern/dkim"

struct keyargs {
	const char *domain, *selector, *file;
	enum dkim_alg type;
	int bits;
	int force;
};

/* valid_dns_name - letters, digits, '-' and '.'; labels 1..63, no leading '-'; at most 253. */
static int valid_dns_name(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (n == 0 || n > 253 || s[n - 1] == '.')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
			    *s == '-'))
			return 0;
		if (label == 0 && *s == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* parse_args - DOMAIN SELECTOR and options, in any order; `keygen` allows the keygen options. */
static int parse_args(int argc, char **argv, int keygen, struct keyargs *a, FILE *errf)
{
	const char *cmd = argc > 0 ? argv[0] : "dkim";
	char *end;
	long v;
	int i, npos = 0;

	memset(a, 0, sizeof *a);
	a->type = DKIM_RSA_SHA256;
	a->bits = 2048;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (keygen && strcmp(arg, "--force") == 0) {
			a->force = 1;
		} else if ((keygen && (strcmp(arg, "--type") == 0 || strcmp(arg, "--bits") == 0 ||
					      strcmp(arg, "--out") == 0)) ||
			   (!keygen && strcmp(arg, "--key") == 0)) {
			if (i + 1 >= argc) {
				fprintf(errf, "postern %s: %s needs a value\n", cmd, arg);
				return -1;
			}
			const char *val = argv[++i];
			if (strcmp(arg, "--type") == 0) {
				if (strcasecmp(val, "rsa") == 0)
					a->type = DKIM_RSA_SHA256;
				else if (strcasecmp(val, "ed25519") == 0)
					a->type = DKIM_ED25519_SHA256;
				else {
					fprintf(errf, "postern %s: --type is rsa or ed25519\n", cmd);
					return -1;
				}
			} else if (strcmp(arg, "--bits") == 0) {
				errno = 0;
				v = strtol(val, &end, 10);
				if (errno != 0 || *end != '\0' || v < DKIMKEY_RSA_MIN || v > DKIMKEY_RSA_MAX) {
					fprintf(errf, "postern %s: --bits is %d..%d\n", cmd, DKIMKEY_RSA_MIN,
						DKIMKEY_RSA_MAX);
					return -1;
				}
				a->bits = (int)v;
			} else {
				a->file = val;
			}
		} else if (arg[0] == '-') {
			fprintf(errf, "postern %s: unknown option %s\n", cmd, arg);
			return -1;
		} else if (npos == 0) {
			a->domain = arg;
			npos++;
		} else if (npos == 1) {
			a->selector = arg;
			npos++;
		} else {
			fprintf(errf, "postern %s: too many arguments\n", cmd);
			return -1;
		}
	}
	if (npos != 2) {
		if (keygen)
			fprintf(errf, "usage: postern dkim-keygen DOMAIN SELECTOR [--type rsa|ed25519] "
				      "[--bits N] [--out FILE] [--force]\n");
		else
			fprintf(errf, "usage: postern dkim-record DOMAIN SELECTOR [--key FILE]\n");
		return -1;
	}
	if (!valid_dns_name(a->domain) || !valid_dns_name(a->selector)) {
		fprintf(errf, "postern %s: \"%s\" or \"%s\" is not a plain DNS name\n", cmd, a->domain,
			a->selector);
		return -1;
	}
	return 0;
}

/* lower - a lower-cased copy. */
static char *lower(const char *s)
{
	char *p = xstrdup(s), *q;

	for (q = p; *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

/* print_record - the two forms of the DNS record: zone file, and a web panel's name/value. */
static int print_record(EVP_PKEY *k, const char *domain, const char *selector, FILE *out, FILE *errf,
	const char *cmd)
{
	struct buf txt, zone;
	struct err e = { 0 };
	int r = EX_OK;

	buf_init(&txt, DKIMKEY_RECORD_MAX);
	buf_init(&zone, 2 * DKIMKEY_RECORD_MAX);
	if (dkimkey_record(k, &txt, &e) < 0 || dkimkey_zone_line(selector, domain, buf_str(&txt), &zone) < 0) {
		fprintf(errf, "postern %s: %s\n", cmd, e.msg[0] ? e.msg : "cannot format the record");
		r = EX_CONFIG;
		goto out;
	}
	fprintf(out, "DNS record, zone-file form (BIND, NSD; strings of at most 255 octets):\n%s\n\n",
		buf_str(&zone));
	fprintf(out, "DNS record, for a web DNS panel (one unbroken value):\n");
	fprintf(out, "  Name:  %s._domainkey.%s\n  Type:  TXT\n  Value: %s\n", selector, domain, buf_str(&txt));
out:
	buf_free(&txt);
	buf_free(&zone);
	return r;
}

int keygen_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf)
{
	const char *cmd = "dkim-keygen";
	struct keyargs a;
	struct buf path;
	struct err e = { 0 };
	struct group *gr;
	EVP_PKEY *k = NULL;
	char *domain = NULL;
	gid_t gid = (gid_t)-1;
	int r;

	if (parse_args(argc, argv, 1, &a, errf) < 0)
		return EX_USAGE;
	domain = lower(a.domain);
	buf_init(&path, 4096);
	if ((gr = getgrnam("postern")) != NULL)
		gid = gr->gr_gid;
	else if (geteuid() == 0)
		fprintf(errf, "postern %s: no group \"postern\"; the key keeps root's group\n", cmd);
	if (a.file != NULL) {
		r = buf_adds(&path, a.file);
	} else {
		/* the folder: root:postern 0750, so only root and the postern group (which the setgid
		 * sendmail runs with, to open the key) can enter it */
		if (mkdir(KEYGEN_DIR, 0750) == 0) {
			if (geteuid() == 0 && gid != (gid_t)-1 && chown(KEYGEN_DIR, 0, gid) < 0) {
				fprintf(errf, "postern %s: %s: %s\n", cmd, KEYGEN_DIR, strerror(errno));
				r = EX_CANTCREAT;
				goto out;
			}
		} else if (errno != EEXIST) {
			fprintf(errf, "postern %s: %s: %s\n", cmd, KEYGEN_DIR, strerror(errno));
			r = EX_CANTCREAT;
			goto out;
		}
		r = buf_printf(&path, "%s/%s.%s.key", KEYGEN_DIR, a.selector, domain);
	}
	if (r < 0) {
		fprintf(errf, "postern %s: key path too long\n", cmd);
		r = EX_USAGE;
		goto out;
	}
	if (a.type == DKIM_RSA_SHA256 && a.bits < DKIMKEY_RSA_WARN)
		fprintf(errf, "postern %s: warning: RSA %d bits; %d or more is recommended (RFC 8301)\n", cmd,
			a.bits, DKIMKEY_RSA_WARN);
	if (dkimkey_generate(a.type, a.bits, &k, &e) < 0) {
		fprintf(errf, "postern %s: %s\n", cmd, e.msg);
		r = e.code ? e.code : EX_CANTCREAT;
		goto out;
	}
	if (dkimkey_write(k, buf_str(&path), gid, a.force != 0, &e) < 0) {
		fprintf(errf, "postern %s: %s\n", cmd, e.msg);
		r = EX_CANTCREAT;
		goto out;
	}
	fprintf(out, "Private key (%s, mode 0640%s):\n  %s\n\n",
		a.type == DKIM_ED25519_SHA256 ? "ed25519" : "rsa",
		geteuid() == 0 ? (gid != (gid_t)-1 ? ", root:postern" : ", root") : "", buf_str(&path));
	fprintf(out, "Add to %s:\n  dkim %s %s %s\n\n",
		c != NULL && c->path != NULL ? c->path : CONF_PATH_DEFAULT, domain, a.selector, buf_str(&path));
	r = print_record(k, domain, a.selector, out, errf, cmd);
out:
	EVP_PKEY_free(k);
	buf_free(&path);
	free(domain);
	return r;
}

int keyrecord_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf)
{
	const char *cmd = "dkim-record", *file;
	struct keyargs a;
	struct buf warn;
	struct err e = { 0 };
	EVP_PKEY *k = NULL;
	char *domain;
	size_t i;
	int r;

	if (parse_args(argc, argv, 0, &a, errf) < 0)
		return EX_USAGE;
	domain = lower(a.domain);
	file = a.file;
	for (i = 0; file == NULL && c != NULL && i < c->ndkim; i++)
		if (strcasecmp(c->dkim[i].domain, domain) == 0 && strcmp(c->dkim[i].selector, a.selector) == 0)
			file = c->dkim[i].keyfile;
	if (file == NULL) {
		fprintf(errf, "postern %s: no \"dkim %s %s\" line in %s (or give --key FILE)\n", cmd, domain,
			a.selector, c != NULL && c->path != NULL ? c->path : CONF_PATH_DEFAULT);
		free(domain);
		return EX_CONFIG;
	}
	buf_init(&warn, 512);
	if (dkimkey_load(file, &k, &warn, &e) < 0) {
		fprintf(errf, "postern %s: %s\n", cmd, e.msg);
		r = EX_CONFIG;
	} else {
		if (warn.len > 0)
			fprintf(errf, "postern %s: warning: %s\n", cmd, buf_str(&warn));
		r = print_record(k, domain, a.selector, out, errf, cmd);
	}
	EVP_PKEY_free(k);
	buf_free(&warn);
	free(domain);
	return r;
}
