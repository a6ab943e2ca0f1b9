/*
 * config.c - parse postern.conf into struct config. See config.h and postern.conf(5).
 *
 * Untrusted input: the file's bytes (a caller's -C file is parsed only after privileges are gone, but
 * the parser assumes nothing of it). Every value is validated here, so the rest of postern can trust
 * struct config: host names are LDH and lower-case, paths absolute, numbers in range.
 * Errors: -1 with EX_CONFIG and "FILE:LINE: key: reason \"value\"" (values escaped with log_safe).
 */
#include "conf/config.h"

#include "lib/fdio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/confval.h"
#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/log.h"

#define EX_CONFIG_ 78	/* sysexits.h EX_CONFIG */
#define CONF_RESOLVERS 3	/* resolv.h MAXNS: libresolv uses at most three servers */
#define CONF_SHOW 96	/* how much of a bad value an error message shows */

static void conf_finish_names(struct config *c);

enum kind { K_HOST, K_PATH, K_SIZE, K_HSIZE, K_DUR, K_DUR0, K_ENUM, K_BOOL, K_CONNS, K_SPECIAL };

static const char *const deliver_words[] = { "background", "queue", NULL };
static const char *const shtls_words[] = { "auto", "starttls", "tls", "none", NULL };
static const char *const tls_words[] = { "none", "may", "encrypt", "verify", NULL };
static const char *const mailq_words[] = { "anyone", "group", "root", NULL };

#define F(field) offsetof(struct config, field)
static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
	const char *const *words;	/* K_ENUM */
} keys[] = {
	{ "hostname", K_HOST, F(hostname), NULL },
	{ "domain", K_HOST, F(domain), NULL },
	{ "spool", K_PATH, F(spool), NULL },
	{ "aliases", K_PATH, F(aliases), NULL },
	{ "max_size", K_SIZE, F(max_size), NULL },
	{ "max_header_size", K_HSIZE, F(max_header_size), NULL },
	{ "deliver", K_ENUM, 0, deliver_words },
	{ "dkim", K_SPECIAL, 0, NULL },
	{ "dkim_canon", K_SPECIAL, 0, NULL },
	{ "dkim_required", K_BOOL, F(dkim_required), NULL },
	{ "dkim_expire", K_DUR0, F(dkim_expire), NULL },
	{ "smarthost", K_SPECIAL, 0, NULL },
	{ "smarthost_tls", K_ENUM, 0, shtls_words },
	{ "smarthost_auth", K_PATH, F(smarthost_auth), NULL },
	{ "tls", K_ENUM, 0, tls_words },
	{ "tls_policy", K_SPECIAL, 0, NULL },
	{ "tls_ca", K_PATH, F(tls_ca), NULL },
	{ "tls_cert", K_PATH, F(tls_cert), NULL },
	{ "tls_key", K_PATH, F(tls_key), NULL },
	{ "tls_cert_name", K_HOST, F(tls_cert_name), NULL },
	{ "resolver", K_SPECIAL, 0, NULL },
	{ "max_connections", K_CONNS, F(max_connections), NULL },
	{ "retry_min", K_DUR0, F(retry_min), NULL },	/* 0: retry at the next run */
	{ "retry_max", K_DUR, F(retry_max), NULL },
	{ "queue_lifetime", K_DUR, F(queue_lifetime), NULL },
	{ "delay_warning", K_DUR0, F(delay_warning), NULL },
	{ "timeout_connect", K_DUR, F(timeout_connect), NULL },
	{ "timeout_greeting", K_DUR, F(timeout_greeting), NULL },
	{ "timeout_command", K_DUR, F(timeout_command), NULL },
	{ "timeout_data_init", K_DUR, F(timeout_data_init), NULL },
	{ "timeout_data_block", K_DUR, F(timeout_data_block), NULL },
	{ "timeout_data_done", K_DUR, F(timeout_data_done), NULL },
	{ "timeout_message", K_DUR, F(timeout_message), NULL },
	{ "timeout_session", K_DUR, F(timeout_session), NULL },
	{ "pidfile", K_PATH, F(pidfile), NULL },
	{ "mailq_users", K_ENUM, 0, mailq_words },
	{ "allow_local_mx", K_BOOL, F(allow_local_mx), NULL },
};
#undef F
#define NKEYS (sizeof keys / sizeof keys[0])

/* the parse in progress: where we are, for messages, and what was seen */
struct pctx {
	struct config *c;
	struct err *e;
	char name[128];	/* escaped file name */
	size_t line;
	size_t seen[NKEYS];	/* line of first use, 0 = not given */
	bool port_given;
};

/* show - escape n bytes of untrusted text for a message, into dst[CONF_SHOW]. */
static const char *show(char *dst, const char *p, size_t n)
{
	(void)log_safe(dst, CONF_SHOW, p, n);
	return dst;
}

/* bad - "NAME:LINE: reason" with EX_CONFIG. Returns -1. */
__attribute__((format(printf, 2, 3))) static int bad(struct pctx *x, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof why, fmt, ap);	/* a cut reason is still a reason */
	va_end(ap);
	if (x->line == 0)
		return err_set(x->e, EX_CONFIG_, "%s: %s", x->name, why);
	return err_set(x->e, EX_CONFIG_, "%s:%zu: %s", x->name, x->line, why);
}

/* badval - "NAME:LINE: key: what \"value\"". */
static int badval(struct pctx *x, const char *key, const char *what, struct span v)
{
	char s[CONF_SHOW];
	return bad(x, "%s: %s \"%s\"", key, what, show(s, v.p, v.n));
}

/* next_word - the next whitespace-separated word of *rest (n == 0 at the end). */
static struct span next_word(struct span *rest)
{
	struct span w;
	size_t i = 0;

	*rest = span_trim(*rest);
	while (i < rest->n && rest->p[i] != ' ' && rest->p[i] != '\t')
		i++;
	w = span_make(rest->p, i);
	*rest = span_make(rest->p + i, rest->n - i);
	return w;
}

/* set_str - replace an owned string field. */
static void set_str(char **field, char *v)
{
	free(*field);
	*field = v;
}

/* set_dkim - "DOMAIN SELECTOR KEYFILE [canon=H/B]" */
static int set_dkim(struct pctx *x, struct span v)
{
	struct config *c = x->c;
	struct span d = next_word(&v), s = next_word(&v), k = next_word(&v), o = next_word(&v);
	struct span extra = next_word(&v);
	struct conf_dkim_key key = { 0 };

	if (k.n == 0 || extra.n != 0)
		return badval(x, "dkim", "wants DOMAIN SELECTOR KEYFILE [canon=H/B], got", extra.n ? extra : d);
	if (!conf_host_ok(d))
		return badval(x, "dkim", "bad domain", d);
	if (!conf_host_ok(s))
		return badval(x, "dkim", "bad selector", s);
	if (!conf_path_ok(k))
		return badval(x, "dkim", "key file must be an absolute path:", k);
	if (o.n != 0) {
		if (o.n < 6 || memcmp(o.p, "canon=", 6) != 0 ||
			conf_canon_parse(span_make(o.p + 6, o.n - 6), &key.hcanon, &key.bcanon) < 0)
			return badval(x, "dkim", "bad option (want canon=relaxed|simple[/relaxed|simple])", o);
		key.canon_set = true;
	}
	for (size_t i = 0; i < c->ndkim; i++)
		if (span_ieq(d, c->dkim[i].domain) && span_eq(s, c->dkim[i].selector))
			return badval(x, "dkim", "domain and selector given twice:", s);
	key.domain = conf_host_dup(d);
	key.selector = xstrndup(s.p, s.n);
	key.keyfile = xstrndup(k.p, k.n);
	c->dkim = xreallocarray(c->dkim, c->ndkim + 1, sizeof *c->dkim);
	c->dkim[c->ndkim++] = key;
	return 0;
}

/* set_policy - "DOMAIN LEVEL" */
static int set_policy(struct pctx *x, struct span v)
{
	struct config *c = x->c;
	struct span d = next_word(&v), l = next_word(&v);
	size_t i;

	if (l.n == 0 || next_word(&v).n != 0)
		return badval(x, "tls_policy", "wants DOMAIN LEVEL, got", d);
	if (!conf_host_ok(d))
		return badval(x, "tls_policy", "bad domain", d);
	for (i = 0; tls_words[i] != NULL && !span_eq(l, tls_words[i]); i++)
		;
	if (tls_words[i] == NULL)
		return badval(x, "tls_policy", "bad level (want none|may|encrypt|verify)", l);
	for (size_t j = 0; j < c->ntls_policy; j++)
		if (span_ieq(d, c->tls_policy[j].domain))
			return badval(x, "tls_policy", "domain given twice:", d);
	c->tls_policy = xreallocarray(c->tls_policy, c->ntls_policy + 1, sizeof *c->tls_policy);
	c->tls_policy[c->ntls_policy].domain = conf_host_dup(d);
	c->tls_policy[c->ntls_policy].level = (enum tls_level)i;
	c->ntls_policy++;
	return 0;
}

/* set_resolver - one to three IPv4 addresses, stored normalised and space-separated. */
static int set_resolver(struct pctx *x, struct span v)
{
	struct buf out;
	struct span w;
	size_t n = 0;

	buf_init(&out, CONF_RESOLVERS * (INET_ADDRSTRLEN + 1));
	while ((w = next_word(&v)).n != 0) {
		char tmp[INET_ADDRSTRLEN], txt[INET_ADDRSTRLEN];
		struct in_addr a;

		if (w.n >= sizeof tmp || (memcpy(tmp, w.p, w.n), tmp[w.n] = '\0', inet_pton(AF_INET, tmp, &a)) != 1 ||
			inet_ntop(AF_INET, &a, txt, sizeof txt) == NULL) {
			buf_free(&out);
			return badval(x, "resolver", "not an IPv4 address:", w);
		}
		if (++n > CONF_RESOLVERS || (n > 1 && buf_addc(&out, ' ') < 0) || buf_adds(&out, txt) < 0) {
			buf_free(&out);
			return bad(x, "resolver: at most %d addresses", CONF_RESOLVERS);
		}
	}
	set_str(&x->c->resolver, buf_take(&out));
	return 0;
}

/* set_smarthost - "HOST" or "HOST:PORT" */
static int set_smarthost(struct pctx *x, struct span v)
{
	const char *colon = memrchr(v.p, ':', v.n);
	struct span h = v;

	if (colon != NULL) {
		struct span p = span_make(colon + 1, v.n - (size_t)(colon - v.p) - 1);
		long port = 0;

		h = span_make(v.p, (size_t)(colon - v.p));
		for (size_t i = 0; i < p.n && port <= 65535; i++) {
			if (p.p[i] < '0' || p.p[i] > '9') {
				port = -1;
				break;
			}
			port = port * 10 + (p.p[i] - '0');
		}
		if (p.n == 0 || port < 1 || port > 65535)
			return badval(x, "smarthost", "bad port in", v);
		x->c->smarthost_port = (int)port;
		x->port_given = true;
	}
	if (!conf_host_ok(h))
		return badval(x, "smarthost", "bad host name", h);
	set_str(&x->c->smarthost, conf_host_dup(h));
	return 0;
}

/* set_enum - the K_ENUM keys, by name. */
static void set_enum(struct config *c, const char *key, int i)
{
	if (strcmp(key, "deliver") == 0)
		c->deliver = (enum deliver_mode)i;
	else if (strcmp(key, "smarthost_tls") == 0)
		c->smarthost_tls = (enum smarthost_tls)i;
	else if (strcmp(key, "mailq_users") == 0)
		c->mailq_users = (enum mailq_users)i;
	else
		c->tls = (enum tls_level)i;
}

/* set_key - validate v for key k and store it. */
static int set_key(struct pctx *x, const struct key *k, struct span v)
{
	char *base = (char *)x->c;
	long long ll;
	long d;
	bool one = memchr(v.p, ' ', v.n) == NULL && memchr(v.p, '\t', v.n) == NULL;

	if (!one && k->kind != K_SPECIAL)
		return badval(x, k->name, "wants one value, got", v);
	switch (k->kind) {
	case K_HOST:
		if (!conf_host_ok(v))
			return badval(x, k->name, "bad host name", v);
		set_str((char **)(base + k->off), conf_host_dup(v));
		return 0;
	case K_PATH:
		if (!conf_path_ok(v))
			return badval(x, k->name, "not an absolute path:", v);
		set_str((char **)(base + k->off), xstrndup(v.p, v.n));
		return 0;
	case K_SIZE:
		if ((ll = conf_size_parse(v.p, v.n)) < 0)
			return badval(x, k->name, "bad size", v);
		*(long long *)(base + k->off) = ll;
		return 0;
	case K_HSIZE:
		if ((ll = conf_size_parse(v.p, v.n)) <= 0 || (unsigned long long)ll > SIZE_MAX)
			return badval(x, k->name, "bad size", v);
		*(size_t *)(base + k->off) = (size_t)ll;
		return 0;
	case K_DUR:
	case K_DUR0:
		if ((d = conf_duration_parse(v.p, v.n)) < 0 || (d == 0 && k->kind == K_DUR))
			return badval(x, k->name, k->kind == K_DUR ? "bad duration (must be > 0)" : "bad duration", v);
		*(long *)(base + k->off) = d;
		return 0;
	case K_ENUM:
		for (int i = 0; k->words[i] != NULL; i++)
			if (span_eq(v, k->words[i])) {
				set_enum(x->c, k->name, i);
				return 0;
			}
		return badval(x, k->name, "unknown value", v);
	case K_BOOL:
		if (!span_eq(v, "yes") && !span_eq(v, "no"))
			return badval(x, k->name, "want yes or no, got", v);
		*(bool *)(base + k->off) = span_eq(v, "yes");
		return 0;
	case K_CONNS:
		d = 0;
		for (size_t i = 0; i < v.n && d <= 64; i++)
			d = v.p[i] >= '0' && v.p[i] <= '9' ? d * 10 + (v.p[i] - '0') : 1000;
		if (d < 1 || d > 64)
			return badval(x, k->name, "want a number from 1 to 64, got", v);
		*(int *)(base + k->off) = (int)d;
		return 0;
	case K_SPECIAL:
		break;
	}
	if (strcmp(k->name, "dkim") == 0)
		return set_dkim(x, v);
	if (strcmp(k->name, "tls_policy") == 0)
		return set_policy(x, v);
	if (strcmp(k->name, "resolver") == 0)
		return set_resolver(x, v);
	if (!one)
		return badval(x, k->name, "wants one value, got", v);
	if (strcmp(k->name, "smarthost") == 0)
		return set_smarthost(x, v);
	/* dkim_canon */
	if (conf_canon_parse(v, &x->c->dkim_hcanon, &x->c->dkim_bcanon) < 0)
		return badval(x, k->name, "want relaxed|simple[/relaxed|simple], got", v);
	return 0;
}

/* parse_line - one line (without its LF). */
static int parse_line(struct pctx *x, struct span l)
{
	struct span key, v;
	size_t i;

	if (l.n > 0 && l.p[l.n - 1] == '\r')	/* CRLF files */
		l.n--;
	l = span_trim(l);
	if (l.n == 0 || l.p[0] == '#')
		return 0;
	key = next_word(&l);
	/* a '#' after whitespace starts a comment */
	for (i = 0; i < l.n; i++)
		if (l.p[i] == '#' && (l.p[i - 1] == ' ' || l.p[i - 1] == '\t'))
			break;
	v = span_trim(span_make(l.p, i));
	for (i = 0; i < NKEYS; i++)
		if (span_eq(key, keys[i].name))
			break;
	if (i == NKEYS) {
		char ks[CONF_SHOW];
		return bad(x, "unknown key \"%s\"", show(ks, key.p, key.n));
	}
	if (v.n == 0)
		return bad(x, "%s: missing value", keys[i].name);
	for (size_t j = 0; j < v.n; j++)
		if ((unsigned char)v.p[j] < ' ' && v.p[j] != '\t')
			return badval(x, keys[i].name, "control character in", v);
	if (x->seen[i] != 0 && strcmp(keys[i].name, "dkim") != 0 && strcmp(keys[i].name, "tls_policy") != 0)
		return bad(x, "%s: given twice (first on line %zu)", keys[i].name, x->seen[i]);
	if (x->seen[i] == 0)
		x->seen[i] = x->line;
	return set_key(x, &keys[i], v);
}

/* key_index - a key's row in keys[]. */
static size_t key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS && strcmp(keys[i].name, name) != 0; i++)
		;
	return i;
}

/* conf_finish - defaults that depend on other keys, and checks across keys. */
static int conf_finish(struct pctx *x)
{
	struct config *c = x->c;

	x->line = 0;
	conf_finish_names(c);
	if (!x->seen[key_index("domain")])
		set_str(&c->domain, xstrdup(c->hostname));
	if (!x->seen[key_index("tls_cert_name")])
		set_str(&c->tls_cert_name, xstrdup(c->hostname));
	if (!x->port_given)
		c->smarthost_port = c->smarthost_tls == SMARTHOST_TLS_TLS ? 465 : 587;
	if (c->retry_min > c->retry_max)
		return bad(x, "retry_min (%ld s) is longer than retry_max (%ld s)", c->retry_min, c->retry_max);
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		return bad(x, "tls_cert and tls_key go together");
	return 0;
}

/* conf_parse - see config.h */
int conf_parse(struct config *c, const char *buf, size_t len, const char *name, struct err *e)
{
	struct pctx x = { .c = c, .e = e };
	const char *p = buf, *end = buf + len, *nl;

	if (name == NULL)
		name = "config";
	(void)log_safe(x.name, sizeof x.name, name, strlen(name));
	set_str(&c->path, xstrdup(name));
	while (p < end) {
		x.line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL)
			return bad(&x, "NUL byte in the file");
		if (parse_line(&x, span_make(p, (size_t)(nl - p))) < 0)
			return -1;
		p = nl + 1;
	}
	return conf_finish(&x);
}

/* system_hostname - gethostname, made fully qualified through the resolver when it has no dot. */
static char *system_hostname(void)
{
	char h[256];
	struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *ai = NULL;
	char *r = NULL;

	if (gethostname(h, sizeof h) < 0)
		return xstrdup("localhost");
	h[sizeof h - 1] = '\0';
	if (strchr(h, '.') == NULL && getaddrinfo(h, NULL, &hints, &ai) == 0) {
		if (ai != NULL && ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL &&
			conf_host_ok(span_str(ai->ai_canonname)))
			r = conf_host_dup(span_str(ai->ai_canonname));
		freeaddrinfo(ai);
	}
	if (r == NULL)
		r = conf_host_ok(span_str(h)) ? conf_host_dup(span_str(h)) : xstrdup("localhost");
	return r;
}

/* conf_finish_names - the system's name where hostname is not configured; domain and tls_cert_name
 * follow hostname unless set. */
static void conf_finish_names(struct config *c)
{
	if (c->hostname == NULL)
		c->hostname = system_hostname();
	if (c->domain == NULL)
		c->domain = xstrdup(c->hostname);
	if (c->tls_cert_name == NULL)
		c->tls_cert_name = xstrdup(c->hostname);
}

/* conf_defaults - see config.h */
void conf_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	/* hostname, domain and tls_cert_name are filled in after parsing (conf_finish_names): asking
	 * the resolver for the system's name costs a lookup on every submission when it is configured */
	c->spool = xstrdup(SPOOLDIR);
	c->aliases = xstrdup(SYSCONFDIR "/postern/aliases");
	c->max_size = LIM_MAX_SIZE_DEFAULT;
	c->max_header_size = LIM_HEADER_DEFAULT;
	c->deliver = DELIVER_BACKGROUND;
	c->dkim_hcanon = c->dkim_bcanon = CANON_RELAXED;
	c->smarthost_port = 587;
	c->smarthost_tls = SMARTHOST_TLS_AUTO;
	c->tls = TLS_MAY;
	c->max_connections = 4;
	c->retry_min = 300;
	c->retry_max = 14400;
	c->queue_lifetime = 5 * 86400;
	c->delay_warning = 0;
	c->timeout_connect = 30;
	c->timeout_greeting = 300;
	c->timeout_command = 300;
	c->timeout_data_init = 120;
	c->timeout_data_block = 180;
	c->timeout_data_done = 600;
	c->timeout_message = 1800;	/* the dot's 600 s and 20 minutes for the rest (postern.conf.5) */
	c->timeout_session = 3600;
	c->pidfile = xstrdup("/run/postern.pid");
	c->mailq_users = MAILQ_ANYONE;	/* as Postfix: envelopes (Bcc too) are no secret on the host */
}

/* conf_load - see config.h */
int conf_load(struct config *c, const char *path, bool optional, struct err *e)
{
	struct buf b;
	int r;

	conf_defaults(c);
	set_str(&c->path, xstrdup(path));
	if (fdio_read_file(path, LIM_CONF_FILE, &b, EX_CONFIG_, e) < 0) {
		if (errno == ENOENT && optional) {
			err_clear(e);
			conf_finish_names(c);
			return 0;
		}
		return -1;
	}
	r = conf_parse(c, b.data != NULL ? b.data : "", b.len, path, e);
	buf_free(&b);
	return r;
}

/* conf_tls_for - see config.h */
enum tls_level conf_tls_for(const struct config *c, const char *domain)
{
	const char *d = domain;

	while (d != NULL && *d != '\0') {
		for (size_t i = 0; i < c->ntls_policy; i++)
			if (strcasecmp(c->tls_policy[i].domain, d) == 0)
				return c->tls_policy[i].level;
		if ((d = strchr(d, '.')) != NULL)
			d++;
	}
	return c->tls;
}

/* conf_uses_tls - see config.h */
bool conf_uses_tls(const struct config *c)
{
	if (c->smarthost != NULL)
		return c->smarthost_tls != SMARTHOST_TLS_NONE;
	if (c->tls != TLS_NONE)
		return true;
	for (size_t i = 0; i < c->ntls_policy; i++)
		if (c->tls_policy[i].level != TLS_NONE)
			return true;
	return false;
}

/* conf_free - see config.h */
void conf_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ndkim; i++) {
		free(c->dkim[i].domain);
		free(c->dkim[i].selector);
		free(c->dkim[i].keyfile);
	}
	for (size_t i = 0; i < c->ntls_policy; i++)
		free(c->tls_policy[i].domain);
	free(c->dkim);
	free(c->tls_policy);
	free(c->path);
	free(c->hostname);
	free(c->domain);
	free(c->spool);
	free(c->aliases);
	free(c->smarthost);
	free(c->smarthost_auth);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_cert_name);
	free(c->resolver);
	free(c->pidfile);
	memset(c, 0, sizeof *c);
}

/* get_enum - the word of a K_ENUM key's current value. */
static const char *get_enum(const struct config *c, const struct key *k)
{
	int i = strcmp(k->name, "deliver") == 0 ? (int)c->deliver :
	    strcmp(k->name, "smarthost_tls") == 0 ? (int)c->smarthost_tls :
	    strcmp(k->name, "mailq_users") == 0 ? (int)c->mailq_users : (int)c->tls;

	return k->words[i];
}

/* canon_word - "relaxed" or "simple". */
static const char *canon_word(enum dkim_canon v)
{
	return v == CANON_SIMPLE ? "simple" : "relaxed";
}

/* get_special - the K_SPECIAL keys; several values one per line. 1, or 0 when not set. */
static int get_special(const struct config *c, const char *name, struct buf *out)
{
	int bad = 0;

	if (strcmp(name, "dkim") == 0) {
		for (size_t i = 0; i < c->ndkim; i++) {
			const struct conf_dkim_key *k = &c->dkim[i];

			bad |= buf_printf(out, "%s%s %s %s", i ? "\n" : "", k->domain, k->selector, k->keyfile);
			if (k->canon_set)
				bad |= buf_printf(out, " canon=%s/%s", canon_word(k->hcanon), canon_word(k->bcanon));
		}
		return bad ? -1 : c->ndkim > 0;
	}
	if (strcmp(name, "tls_policy") == 0) {
		for (size_t i = 0; i < c->ntls_policy; i++)
			bad |= buf_printf(out, "%s%s %s", i ? "\n" : "", c->tls_policy[i].domain,
			    tls_words[c->tls_policy[i].level]);
		return bad ? -1 : c->ntls_policy > 0;
	}
	if (strcmp(name, "resolver") == 0)
		return c->resolver == NULL ? 0 : buf_adds(out, c->resolver) < 0 ? -1 : 1;
	if (strcmp(name, "smarthost") == 0)
		return c->smarthost == NULL ? 0 :
		    buf_printf(out, "%s:%d", c->smarthost, c->smarthost_port) < 0 ? -1 : 1;
	/* dkim_canon */
	return buf_printf(out, "%s/%s", canon_word(c->dkim_hcanon), canon_word(c->dkim_bcanon)) < 0 ? -1 : 1;
}

/* conf_value - see config.h */
int conf_value(const struct config *c, const char *name, struct buf *out, struct err *e)
{
	const char *base = (const char *)c;
	const struct key *k;
	const char *s;
	int r = 1;

	if (key_index(name) == NKEYS) {
		char ks[CONF_SHOW];
		return err_set(e, 64, "unknown key \"%s\"", show(ks, name, strlen(name)));
	}
	k = &keys[key_index(name)];
	switch (k->kind) {
	case K_HOST:
	case K_PATH:
		s = *(char *const *)(const void *)(base + k->off);
		r = s == NULL ? 0 : buf_adds(out, s) < 0 ? -1 : 1;
		break;
	case K_SIZE:
		r = buf_printf(out, "%lld", *(const long long *)(const void *)(base + k->off)) < 0 ? -1 : 1;
		break;
	case K_HSIZE:
		r = buf_printf(out, "%zu", *(const size_t *)(const void *)(base + k->off)) < 0 ? -1 : 1;
		break;
	case K_DUR:
	case K_DUR0:
		r = buf_printf(out, "%ld", *(const long *)(const void *)(base + k->off)) < 0 ? -1 : 1;
		break;
	case K_ENUM:
		r = buf_adds(out, get_enum(c, k)) < 0 ? -1 : 1;
		break;
	case K_BOOL:
		r = buf_adds(out, *(const bool *)(const void *)(base + k->off) ? "yes" : "no") < 0 ? -1 : 1;
		break;
	case K_CONNS:
		r = buf_printf(out, "%d", *(const int *)(const void *)(base + k->off)) < 0 ? -1 : 1;
		break;
	case K_SPECIAL:
		r = get_special(c, k->name, out);
		break;
	}
	if (r < 0)
		return err_set(e, 70, "%s: value too long", k->name);
	return r;
}

/* conf_key_name - see config.h */
const char *conf_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}
