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
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/log.h"

#define CONF_RESOLVERS 3	/* resolv.h MAXNS: libresolv uses at most three servers */
#define CONF_DNSBLS 8	/* deny-lists postern check asks: one query each per sending address */
#define CONF_SHOW 96	/* how much of a bad value an error message shows */

struct pctx;
static int conf_finish_names(struct pctx *x);

/* The smarthost port when none is given: 465 for TLS from the first byte (RFC 8314), else 587 (RFC 6409). */
#define CONF_PORT_SUBMISSIONS 465
#define CONF_PORT_SUBMISSION 587
#define CONF_PORT_SMTP 25
/* CONF_NAME_SHOW - the configuration file's name as messages show it (escaped, cut with "...") */
#define CONF_NAME_SHOW 128
/* CONF_WHY_MAX - one reason a line is refused, before "NAME:LINE: " is put in front of it */
#define CONF_WHY_MAX 400
/* CONF_WHAT_MAX - what is wrong with a number: "bad duration (at most 9223372036854775807 s)" */
#define CONF_WHAT_MAX 80

/* What a key's value is: each kind has one parser, one printer (kinds[] below). */
enum kind {
	K_HOST, K_PATH,		/* char *: conf_host_ok (stored lower-case) / conf_path_ok */
	K_SIZE, K_USIZE,	/* long long / size_t bytes, in [min, max] */
	K_DUR,			/* long seconds, in [min, max] */
	K_INT,			/* int, plain decimal, in [min, max] */
	K_ENUM,			/* an enum field, one of words[] (the enum's order) */
	K_BOOL,			/* bool: yes or no */
	K_IPV4,			/* char *: one IPv4 address, stored as inet_ntop writes it */
	K_DKIM, K_POLICY, K_RESOLVER, K_SMARTHOST, K_CANON, K_ROUTE,	/* one key each, values of their own */
	K_REWRITE,		/* struct conf_rewrites: "PATTERN ADDRESS", repeated */
	K_MYIP,			/* check_myip: NAME@SERVER or none */
	K_DNSBL,		/* dnsbl: zones, or none */
	K_RELAY,		/* struct conf_relay: HOST[:PORT], port 25 unless given */
	K_SHAUTH,		/* smarthost_auth: FILE, or HOST[:PORT] FILE (repeated) */
	K_SROUTE,		/* sender_route: ADDRESS-OR-DOMAIN HOST[:PORT] (repeated) */
};

struct pctx;
struct key;
typedef int parse_fn(struct pctx *x, const struct key *k, struct span v);
typedef int show_fn(const struct config *c, const struct key *k, struct buf *out);
static parse_fn parse_host, parse_path, parse_size, parse_dur, parse_int, parse_enum, parse_bool, parse_ipv4;
static parse_fn set_dkim, set_policy, set_resolver, set_smarthost, set_canon, set_route, set_rewrite;
static parse_fn set_myip, set_dnsbl, set_relay, set_shauth, set_sroute;
static int one_relay(struct pctx *x, const char *key, struct span v, char **host, int *port, bool *given);
static show_fn show_str, show_size, show_usize, show_dur, show_int, show_enum, show_bool;
static show_fn show_dkim, show_policy, show_smarthost, show_canon, show_route, show_rewrite, show_relay, show_shauth;
static show_fn show_sroute;

/* kinds - the parser and printer of each kind; `words`: the value may be several words; `repeat`: the
 * key may be given several times (each line adds one). */
static const struct kindops {
	parse_fn *parse;
	show_fn *show;
	bool words, repeat;
} kinds[] = {
	[K_HOST] = { parse_host, show_str, false, false },
	[K_PATH] = { parse_path, show_str, false, false },
	[K_SIZE] = { parse_size, show_size, false, false },
	[K_USIZE] = { parse_size, show_usize, false, false },
	[K_DUR] = { parse_dur, show_dur, false, false },
	[K_INT] = { parse_int, show_int, false, false },
	[K_ENUM] = { parse_enum, show_enum, false, false },
	[K_BOOL] = { parse_bool, show_bool, false, false },
	[K_IPV4] = { parse_ipv4, show_str, false, false },
	[K_DKIM] = { set_dkim, show_dkim, true, true },
	[K_POLICY] = { set_policy, show_policy, true, true },
	[K_RESOLVER] = { set_resolver, show_str, true, false },
	[K_SMARTHOST] = { set_smarthost, show_smarthost, true, false },
	[K_CANON] = { set_canon, show_canon, false, false },
	[K_ROUTE] = { set_route, show_route, true, true },
	[K_REWRITE] = { set_rewrite, show_rewrite, true, true },
	[K_MYIP] = { set_myip, show_str, false, false },
	[K_DNSBL] = { set_dnsbl, show_str, true, false },
	[K_RELAY] = { set_relay, show_relay, false, false },
	[K_SHAUTH] = { set_shauth, show_shauth, true, true },
	[K_SROUTE] = { set_sroute, show_sroute, true, true },
};

static const char *const deliver_words[] = { "background", "queue", NULL };
static const char *const shtls_words[] = { "auto", "starttls", "tls", "none", NULL };
static const char *const tls_words[] = { "none", "may", "encrypt", "verify", NULL };
static const char *const mailq_words[] = { "anyone", "group", "root", NULL };
static const char *const from_policy_words[] = { "keep", "rewrite-unaligned", "refuse-unaligned", NULL };
/* K_ENUM fields are stored and read as int */
_Static_assert(sizeof(enum deliver_mode) == sizeof(int) && sizeof(enum smarthost_tls) == sizeof(int) &&
	sizeof(enum tls_level) == sizeof(int) && sizeof(enum mailq_users) == sizeof(int) &&
	sizeof(enum from_policy) == sizeof(int), "enum is not an int");

/* keys - every key of postern.conf, in the order of postern.conf(5). Its default is written here and
 * nowhere else: conf_defaults parses `def` with the key's own parser, `postern config` prints the
 * values, and test_conftable.c holds postern.conf(5) and the sample conf/postern.conf to this table. */
static const struct key {
	const char *name;
	enum kind kind;
	size_t off;		/* the field in struct config */
	const char *def;	/* the default as the file would write it; NULL: not set */
	const char *derived;	/* a default taken from elsewhere, in postern.conf(5)'s words */
	long long min, max;	/* K_SIZE, K_USIZE, K_DUR, K_INT */
	const char *const *words;	/* K_ENUM */
} keys[] = {
#define F(field) offsetof(struct config, field)
#define STR(name, kind, field, def, derived) { name, kind, F(field), def, derived, 0, 0, NULL }
#define NUM(name, kind, field, def, min, max) { name, kind, F(field), def, NULL, min, max, NULL }
#define ENUM(name, field, def, words) { name, K_ENUM, F(field), def, NULL, 0, 0, words }
	/* submission */
	STR("hostname", K_HOST, hostname, NULL, "the system's fully qualified name"),
	STR("domain", K_HOST, domain, NULL, "the value of hostname"),
	STR("spool", K_PATH, spool, SPOOLDIR, NULL),
	STR("aliases", K_PATH, aliases, SYSCONFDIR "/postern/aliases", NULL),
	NUM("max_size", K_SIZE, max_size, "50M", 0, LLONG_MAX),	/* Postfix's order; 0: no limit */
	NUM("max_header_size", K_USIZE, max_header_size, "1048576", 1, LLONG_MAX),
	ENUM("deliver", deliver, "background", deliver_words),
	/* DKIM */
	STR("dkim", K_DKIM, dkim, NULL, NULL),
	STR("dkim_canon", K_CANON, dkim_hcanon, "relaxed/relaxed", NULL),
	STR("dkim_required", K_BOOL, dkim_required, "yes", NULL),	/* a key problem holds mail */
	NUM("dkim_expire", K_DUR, dkim_expire, "0", 0, LONG_MAX),	/* 0: no x= tag */
	/* delivery */
	STR("smarthost", K_SMARTHOST, smarthost, NULL, NULL),
	ENUM("smarthost_tls", smarthost_tls, "auto", shtls_words),
	STR("route", K_ROUTE, route, NULL, NULL),
	STR("sender_route", K_SROUTE, sender_route, NULL, NULL),
	STR("smarthost_auth", K_SHAUTH, smarthost_auth, NULL, NULL),
	ENUM("tls", tls, "may", tls_words),
	STR("tls_policy", K_POLICY, tls_policy, NULL, NULL),
	STR("tls_ca", K_PATH, tls_ca, NULL, NULL),	/* NULL: the system's hashed folder (tls.c) */
	STR("tls_cert", K_PATH, tls_cert, NULL, NULL),
	STR("tls_key", K_PATH, tls_key, NULL, NULL),
	STR("tls_cert_name", K_HOST, tls_cert_name, NULL, "the value of hostname"),
	STR("resolver", K_RESOLVER, resolver, NULL, NULL),	/* NULL: /etc/resolv.conf */
	NUM("max_connections", K_INT, max_connections, "4", 1, 64),
	NUM("max_per_destination", K_INT, max_per_destination, "2", 1, 64),
	NUM("destination_rate_delay", K_DUR, destination_rate_delay, "0", 0, 3600),	/* 0: none */
	STR("source_address", K_IPV4, source_address, NULL, NULL),	/* NULL: the kernel chooses */
	STR("fallback_relay", K_RELAY, fallback_relay, NULL, NULL),	/* NULL: refusals stand */
	/* queue */
	NUM("retry_min", K_DUR, retry_min, "5m", 0, LONG_MAX),	/* 0: retry at the next run */
	NUM("retry_max", K_DUR, retry_max, "4h", 1, LONG_MAX),
	NUM("queue_lifetime", K_DUR, queue_lifetime, "5d", 1, LONG_MAX),
	NUM("delay_warning", K_DUR, delay_warning, "0", 0, LONG_MAX),	/* 0: no notices */
	/* SMTP client timeouts, RFC 5321 4.5.3.2; then the wall-clock limits of a message and a session
	 * (30m: the dot's 10 minutes and 20 for the rest, postern.conf.5) */
	NUM("timeout_connect", K_DUR, timeout_connect, "30s", 1, LONG_MAX),
	NUM("timeout_greeting", K_DUR, timeout_greeting, "5m", 1, LONG_MAX),
	NUM("timeout_command", K_DUR, timeout_command, "5m", 1, LONG_MAX),
	NUM("timeout_data_init", K_DUR, timeout_data_init, "2m", 1, LONG_MAX),
	NUM("timeout_data_block", K_DUR, timeout_data_block, "3m", 1, LONG_MAX),
	NUM("timeout_data_done", K_DUR, timeout_data_done, "10m", 1, LONG_MAX),
	NUM("timeout_message", K_DUR, timeout_message, "30m", 1, LONG_MAX),
	NUM("timeout_session", K_DUR, timeout_session, "1h", 1, LONG_MAX),
	STR("pidfile", K_PATH, pidfile, "/run/postern.pid", NULL),
	/* as Postfix: envelopes (Bcc too) are no secret on the host */
	ENUM("mailq_users", mailq_users, "anyone", mailq_words),
	STR("allow_local_mx", K_BOOL, allow_local_mx, "no", NULL),
	/* operating it (issue 13): statistics */
	STR("stats_file", K_PATH, stats_file, NULL, NULL),	/* NULL: no textfile written */
	/* operating it (issue 13): sender rewriting at submission (postern.conf(5), SUBMISSION) */
	STR("rewrite_sender", K_REWRITE, rewrite_sender, NULL, NULL),
	STR("rewrite_from", K_REWRITE, rewrite_from, NULL, NULL),
	STR("rewrite_reply_to", K_BOOL, rewrite_reply_to, "yes", NULL),
	ENUM("from_policy", from_policy, "keep", from_policy_words),
	/* postern check: where it learns the address mail leaves from (OpenDNS answers any client) */
	STR("check_myip", K_MYIP, check_myip, "myip.opendns.com@resolver1.opendns.com", NULL),
	/* the deny-lists check asks: Spamhaus's combined list and SpamCop's, the two large receivers use */
	STR("dnsbl", K_DNSBL, dnsbl, "zen.spamhaus.org,bl.spamcop.net", NULL),
	/* where check tries outgoing port 25: Gmail's inbound MX, which greets any client at once */
	STR("check_port25_host", K_HOST, check_port25_host, "gmail-smtp-in.l.google.com", NULL),
#undef F
#undef STR
#undef NUM
#undef ENUM
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* the parse in progress: where we are, for messages, and what was seen */
struct pctx {
	struct config *c;
	struct err *e;
	char name[CONF_NAME_SHOW];	/* escaped file name */
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

/* vbad - "NAME:LINE: reason" into e with EX_CONFIG. Returns -1. */
__attribute__((format(printf, 3, 0))) static int vbad(struct pctx *x, struct err *e, const char *fmt, va_list ap)
{
	char why[CONF_WHY_MAX];

	(void)vsnprintf(why, sizeof why, fmt, ap);	/* a cut reason is still a reason */
	if (x->line == 0)
		return err_set(e, EX_CONFIG, "%s: %s", x->name, why);
	return err_set(e, EX_CONFIG, "%s:%zu: %s", x->name, x->line, why);
}

/* bad - "NAME:LINE: reason" with EX_CONFIG: the configuration does not load. Returns -1. */
__attribute__((format(printf, 2, 3))) static int bad(struct pctx *x, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vbad(x, x->e, fmt, ap);
	va_end(ap);
	return rc;
}

/* unqualified - the same message, kept as the reason hostname is no name for mail to go out under:
 * the configuration still loads (config, check and dkim-keygen work and say so), the programs that
 * send or queue mail refuse it (conf_name_ok). */
__attribute__((format(printf, 2, 3))) static void unqualified(struct pctx *x, const char *fmt, ...)
{
	struct err why;
	va_list ap;

	err_clear(&why);
	va_start(ap, fmt);
	(void)vbad(x, &why, fmt, ap);
	va_end(ap);
	free(x->c->hostname_problem);
	x->c->hostname_problem = xstrdup(why.msg);
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

/* field - where row k's value lives in c. */
static void *field(struct config *c, const struct key *k)
{
	return (char *)c + k->off;
}

/* cfield - the same, read-only. */
static const void *cfield(const struct config *c, const struct key *k)
{
	return (const char *)c + k->off;
}

/* parse_host - K_HOST */
static int parse_host(struct pctx *x, const struct key *k, struct span v)
{
	if (!conf_host_ok(v))
		return badval(x, k->name, "bad host name", v);
	if (k->off == offsetof(struct config, hostname) && !conf_fqdn_ok(v)) {
		char sh[CONF_SHOW];

		unqualified(x, "%s: not a fully qualified name (at least two labels, not localhost): \"%s\"", k->name,
		    show(sh, v.p, v.n));
	}
	set_str(field(x->c, k), conf_host_dup(v));
	return 0;
}

/* parse_path - K_PATH */
static int parse_path(struct pctx *x, const struct key *k, struct span v)
{
	if (!conf_path_ok(v))
		return badval(x, k->name, "not an absolute path:", v);
	set_str(field(x->c, k), xstrndup(v.p, v.n));
	return 0;
}

/* parse_size - K_SIZE and K_USIZE */
static int parse_size(struct pctx *x, const struct key *k, struct span v)
{
	long long ll = conf_size_parse(v.p, v.n);

	if (ll < k->min || ll > k->max || (k->kind == K_USIZE && (unsigned long long)ll > SIZE_MAX))
		return badval(x, k->name, "bad size", v);
	if (k->kind == K_USIZE)
		*(size_t *)field(x->c, k) = (size_t)ll;
	else
		*(long long *)field(x->c, k) = ll;
	return 0;
}

/* parse_dur - K_DUR */
static int parse_dur(struct pctx *x, const struct key *k, struct span v)
{
	long d = conf_duration_parse(v.p, v.n);
	char what[CONF_WHAT_MAX];

	if (d < 0 || d < k->min || d > k->max) {
		if (d > k->max) {
			(void)snprintf(what, sizeof what, "bad duration (at most %lld s)", k->max);
			return badval(x, k->name, what, v);
		}
		if (k->min <= 0)
			return badval(x, k->name, "bad duration", v);
		(void)snprintf(what, sizeof what, "bad duration (must be > %lld)", k->min - 1);
		return badval(x, k->name, what, v);
	}
	*(long *)field(x->c, k) = d;
	return 0;
}

/* parse_int - K_INT: plain decimal digits */
static int parse_int(struct pctx *x, const struct key *k, struct span v)
{
	long long d = 0;
	char what[CONF_WHAT_MAX];

	for (size_t i = 0; i < v.n && d <= k->max; i++)
		d = v.p[i] >= '0' && v.p[i] <= '9' ? d * 10 + (v.p[i] - '0') : k->max + 1;
	if (v.n == 0 || d < k->min || d > k->max) {
		(void)snprintf(what, sizeof what, "want a number from %lld to %lld, got", k->min, k->max);
		return badval(x, k->name, what, v);
	}
	*(int *)field(x->c, k) = (int)d;
	return 0;
}

/* parse_enum - K_ENUM: the word's index is the enum's value */
static int parse_enum(struct pctx *x, const struct key *k, struct span v)
{
	for (int i = 0; k->words[i] != NULL; i++)
		if (span_eq(v, k->words[i])) {
			*(int *)field(x->c, k) = i;
			return 0;
		}
	return badval(x, k->name, "unknown value", v);
}

/* parse_bool - K_BOOL */
static int parse_bool(struct pctx *x, const struct key *k, struct span v)
{
	if (!span_eq(v, "yes") && !span_eq(v, "no"))
		return badval(x, k->name, "want yes or no, got", v);
	*(bool *)field(x->c, k) = span_eq(v, "yes");
	return 0;
}

/* set_canon - dkim_canon: "H/B" or one word for both */
static int set_canon(struct pctx *x, const struct key *k, struct span v)
{
	if (conf_canon_parse(v, &x->c->dkim_hcanon, &x->c->dkim_bcanon) < 0)
		return badval(x, k->name, "want relaxed|simple[/relaxed|simple], got", v);
	return 0;
}

/* set_dkim - "DOMAIN SELECTOR KEYFILE [canon=H/B]" */
static int set_dkim(struct pctx *x, const struct key *row, struct span v)
{
	struct config *c = x->c;
	struct span d = next_word(&v), s = next_word(&v), k = next_word(&v), o = next_word(&v);
	struct span extra = next_word(&v);
	struct conf_dkim_key key = { 0 };

	(void)row;
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
static int set_policy(struct pctx *x, const struct key *k, struct span v)
{
	struct config *c = x->c;
	struct span d = next_word(&v), l = next_word(&v);
	size_t i;

	(void)k;
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

/* set_route - "DOMAIN direct|smarthost|HOST[:PORT]", DOMAIN with a leading dot for its subdomains only */
static int set_route(struct pctx *x, const struct key *k, struct span v)
{
	struct config *c = x->c;
	struct span d = next_word(&v), to = next_word(&v);
	struct conf_route r = { 0 };

	(void)k;
	if (to.n == 0 || next_word(&v).n != 0)
		return badval(x, "route", "wants DOMAIN direct|smarthost|HOST[:PORT], got", d);
	if (d.n > 1 && d.p[0] == '.') {
		r.subs_only = true;
		d = span_make(d.p + 1, d.n - 1);
	}
	if (!conf_host_ok(d))
		return badval(x, "route", "bad domain", d);
	for (size_t j = 0; j < c->nroute; j++)
		if (c->route[j].subs_only == r.subs_only && span_ieq(d, c->route[j].domain))
			return badval(x, "route", "domain given twice:", d);
	if (span_eq(to, "direct"))
		r.kind = CONF_ROUTE_DIRECT;
	else if (span_eq(to, "smarthost"))
		r.kind = CONF_ROUTE_SMARTHOST;
	else {
		bool given = false;

		r.kind = CONF_ROUTE_RELAY;
		r.port = CONF_PORT_SMTP;
		if (one_relay(x, "route", to, &r.host, &r.port, &given) < 0) {
			free(r.host);
			return -1;
		}
	}
	r.domain = conf_host_dup(d);
	c->route = xreallocarray(c->route, c->nroute + 1, sizeof *c->route);
	c->route[c->nroute++] = r;
	return 0;
}

/* sroute_key - sender_route's KEY into r: an address (local@domain, stored in its RFC 5321 form) or a
 * domain, with a leading dot for its subdomains only; both lower-case. */
static int sroute_key(struct pctx *x, struct span k, struct conf_sender_route *r)
{
	if (memchr(k.p, '@', k.n) != NULL) {
		struct addr ad = { 0 };
		struct err e;

		if (addr_parse_one(k.p, k.n, &ad, &e) < 0 || ad.null || ad.domain == NULL || ad.display != NULL ||
		    !addr_domain_valid(ad.domain, strlen(ad.domain))) {
			addr_free(&ad);
			return badval(x, "sender_route", "bad address (want local@domain)", k);
		}
		r->key = addr_format(&ad);
		addr_free(&ad);
		if (!addr_path_ok(r->key, strlen(r->key)))
			return badval(x, "sender_route", "bad address (want local@domain)", k);
		for (char *q = r->key; *q != '\0'; q++)	/* (compared case-blind, local part too) */
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		r->address = true;
		return 0;
	}
	if (k.n > 1 && k.p[0] == '.') {
		r->subs_only = true;
		k = span_make(k.p + 1, k.n - 1);
	}
	if (!conf_host_ok(k))
		return badval(x, "sender_route", "bad domain", k);
	r->key = conf_host_dup(k);
	return 0;
}

/* set_sroute - "ADDRESS HOST[:PORT]" or "DOMAIN HOST[:PORT]" (DOMAIN with a leading dot for its
 * subdomains only); the port by smarthost_tls unless given (conf_finish). */
static int set_sroute(struct pctx *x, const struct key *k, struct span v)
{
	struct config *c = x->c;
	struct span key = next_word(&v), to = next_word(&v);
	struct conf_sender_route r = { 0 };

	(void)k;
	if (to.n == 0 || next_word(&v).n != 0)
		return badval(x, "sender_route", "wants ADDRESS-OR-DOMAIN HOST[:PORT], got", key);
	if (sroute_key(x, key, &r) < 0 || one_relay(x, "sender_route", to, &r.relay.host, &r.relay.port,
	    &r.relay.port_given) < 0) {
		free(r.key);
		free(r.relay.host);
		return -1;
	}
	for (size_t j = 0; j < c->nsender_route; j++) {
		const struct conf_sender_route *o = &c->sender_route[j];

		if (o->address == r.address && o->subs_only == r.subs_only && strcmp(o->key, r.key) == 0) {
			free(r.key);
			free(r.relay.host);
			return badval(x, "sender_route", "given twice:", key);
		}
	}
	c->sender_route = xreallocarray(c->sender_route, c->nsender_route + 1, sizeof *c->sender_route);
	c->sender_route[c->nsender_route++] = r;
	return 0;
}

/* parse_ipv4 - K_IPV4: one dotted-quad IPv4 address, stored normalised. */
static int parse_ipv4(struct pctx *x, const struct key *k, struct span v)
{
	char tmp[INET_ADDRSTRLEN], txt[INET_ADDRSTRLEN];
	struct in_addr a;

	if (v.n >= sizeof tmp || (memcpy(tmp, v.p, v.n), tmp[v.n] = '\0', inet_pton(AF_INET, tmp, &a)) != 1 ||
	    inet_ntop(AF_INET, &a, txt, sizeof txt) == NULL)
		return badval(x, k->name, "not an IPv4 address:", v);
	set_str(field(x->c, k), xstrdup(txt));
	return 0;
}

/* rewrite_pattern_ok - "*", "*@" and a host name, or a local user name (letters, digits, '.', '_', '-';
 * not starting with '-'; at most LIM_LOCAL bytes). */
static bool rewrite_pattern_ok(struct span p)
{
	if (span_eq(p, "*"))
		return true;
	if (p.n > 2 && p.p[0] == '*' && p.p[1] == '@')
		return conf_host_ok(span_make(p.p + 2, p.n - 2));
	if (p.n == 0 || p.n > LIM_LOCAL || p.p[0] == '-')
		return false;
	for (size_t i = 0; i < p.n; i++)
		if (!((p.p[i] >= 'a' && p.p[i] <= 'z') || (p.p[i] >= 'A' && p.p[i] <= 'Z') ||
		    (p.p[i] >= '0' && p.p[i] <= '9') || p.p[i] == '.' || p.p[i] == '_' || p.p[i] == '-'))
			return false;
	return true;
}

/* set_rewrite - rewrite_sender / rewrite_from: "PATTERN ADDRESS", one rule per line. */
static int set_rewrite(struct pctx *x, const struct key *k, struct span v)
{
	struct conf_rewrites *rw = field(x->c, k);
	struct span pat = next_word(&v), a = next_word(&v);
	struct addr ad = { 0 };
	struct err e;
	char *addr;

	if (a.n == 0 || next_word(&v).n != 0)
		return badval(x, k->name, "wants PATTERN ADDRESS, got", pat);
	if (!rewrite_pattern_ok(pat))
		return badval(x, k->name, "bad pattern (want a user name, *, or *@domain)", pat);
	if (addr_parse_one(a.p, a.n, &ad, &e) < 0 || ad.null || ad.domain == NULL || ad.display != NULL ||
	    !addr_domain_valid(ad.domain, strlen(ad.domain))) {
		addr_free(&ad);
		return badval(x, k->name, "bad address (want local@domain)", a);
	}
	addr = addr_format(&ad);
	addr_free(&ad);
	if (!addr_path_ok(addr, strlen(addr))) {
		free(addr);
		return badval(x, k->name, "bad address (want local@domain)", a);
	}
	rw->v = xreallocarray(rw->v, rw->n + 1, sizeof *rw->v);
	rw->v[rw->n].addr = addr;
	/* (the domain of "*@DOMAIN" is compared case-blind: stored lower-case) */
	rw->v[rw->n].pattern = xstrndup(pat.p, pat.n);
	if (pat.p[0] == '*')
		for (char *q = rw->v[rw->n].pattern; *q != '\0'; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
	rw->n++;
	return 0;
}

/* set_resolver - one to three IPv4 addresses, stored normalised and space-separated. */
static int set_resolver(struct pctx *x, const struct key *k, struct span v)
{
	struct buf out;
	struct span w;
	size_t n = 0;

	(void)k;
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

/* set_myip - "NAME@SERVER" (both host names; SERVER may be an IPv4 address) or "none". */
static int set_myip(struct pctx *x, const struct key *k, struct span v)
{
	const char *at = memchr(v.p, '@', v.n);

	(void)k;
	if (span_eq(v, "none")) {
		set_str(&x->c->check_myip, xstrdup("none"));
		return 0;
	}
	if (at == NULL || !conf_host_ok(span_make(v.p, (size_t)(at - v.p))) ||
	    !conf_host_ok(span_make(at + 1, v.n - (size_t)(at - v.p) - 1)))
		return badval(x, "check_myip", "not NAME@SERVER or none:", v);
	set_str(&x->c->check_myip, conf_host_dup(v));
	return 0;
}

/* set_dnsbl - DNSBL zones (host names) separated by commas or spaces, at most CONF_DNSBLS, or "none";
 * stored comma-separated. */
static int set_dnsbl(struct pctx *x, const struct key *k, struct span v)
{
	struct buf out;
	struct span w;
	size_t n = 0;

	(void)k;
	if (span_eq(v, "none")) {
		set_str(&x->c->dnsbl, xstrdup("none"));
		return 0;
	}
	buf_init(&out, CONF_DNSBLS * (CONF_HOST_MAX + 1));
	while ((w = next_word(&v)).n != 0) {
		const char *comma = memchr(w.p, ',', w.n);

		if (comma != NULL) {	/* the rest of this word goes back for the next round */
			v = span_make(comma + 1, (size_t)(v.p + v.n - comma - 1));
			w.n = (size_t)(comma - w.p);
		}
		if (!conf_host_ok(w)) {
			buf_free(&out);
			return badval(x, "dnsbl", "not a zone name:", w);
		}
		char *low = conf_host_dup(w);
		int r = ++n > CONF_DNSBLS || (n > 1 && buf_addc(&out, ',') < 0) || buf_adds(&out, low) < 0;

		free(low);
		if (r) {
			buf_free(&out);
			return bad(x, "dnsbl: at most %d zones", CONF_DNSBLS);
		}
	}
	set_str(&x->c->dnsbl, buf_take(&out));
	return 0;
}

/* one_relay - "HOST" or "HOST:PORT" into *host, *port (untouched without a port); key names it. */
static int one_relay(struct pctx *x, const char *key, struct span v, char **host, int *port, bool *given)
{
	const char *colon = memrchr(v.p, ':', v.n);
	struct span h = v;

	if (colon != NULL) {
		struct span p = span_make(colon + 1, v.n - (size_t)(colon - v.p) - 1);
		long n = 0;

		h = span_make(v.p, (size_t)(colon - v.p));
		for (size_t i = 0; i < p.n && n <= 65535; i++) {
			if (p.p[i] < '0' || p.p[i] > '9') {
				n = -1;
				break;
			}
			n = n * 10 + (p.p[i] - '0');
		}
		if (p.n == 0 || n < 1 || n > 65535)
			return badval(x, key, "bad port in", v);
		*port = (int)n;
		*given = true;
	}
	if (!conf_host_ok(h))
		return badval(x, key, "bad host name", h);
	set_str(host, conf_host_dup(h));
	return 0;
}

/* set_relay - "HOST[:PORT]" into a struct conf_relay (port 25 unless given) */
static int set_relay(struct pctx *x, const struct key *k, struct span v)
{
	struct conf_relay *r = field(x->c, k);

	r->port = CONF_PORT_SMTP;
	r->port_given = false;
	return one_relay(x, k->name, v, &r->host, &r->port, &r->port_given);
}

/* set_shauth - "FILE" (every smarthost) or "HOST[:PORT] FILE" (that one) */
static int set_shauth(struct pctx *x, const struct key *k, struct span v)
{
	struct config *c = x->c;
	struct span a = next_word(&v), b = next_word(&v);
	struct conf_host_auth h = { 0 };
	bool given = false;

	(void)k;
	if (next_word(&v).n != 0)
		return badval(x, "smarthost_auth", "wants FILE or HOST[:PORT] FILE, got", a);
	if (b.n == 0) {
		if (c->smarthost_auth != NULL)
			return bad(x, "smarthost_auth: the line without a host is given twice");
		if (!conf_path_ok(a))
			return badval(x, "smarthost_auth", "not an absolute path:", a);
		set_str(&c->smarthost_auth, xstrndup(a.p, a.n));
		return 0;
	}
	if (c->nsmarthost_auth_host >= CONF_SMARTHOSTS)
		return bad(x, "smarthost_auth: at most %d hosts", CONF_SMARTHOSTS);
	if (!conf_path_ok(b))
		return badval(x, "smarthost_auth", "not an absolute path:", b);
	if (one_relay(x, "smarthost_auth", a, &h.host, &h.port, &given) < 0) {
		free(h.host);
		return -1;
	}
	for (size_t i = 0; i < c->nsmarthost_auth_host; i++)
		if (strcmp(c->smarthost_auth_host[i].host, h.host) == 0 && c->smarthost_auth_host[i].port == h.port) {
			free(h.host);
			return badval(x, "smarthost_auth", "host given twice:", a);
		}
	h.path = xstrndup(b.p, b.n);
	c->smarthost_auth_host = xreallocarray(c->smarthost_auth_host, c->nsmarthost_auth_host + 1,
	    sizeof *c->smarthost_auth_host);
	c->smarthost_auth_host[c->nsmarthost_auth_host++] = h;
	return 0;
}

/* set_smarthost - "HOST[:PORT] [HOST[:PORT]...]": the first, then the ones tried after it */
static int set_smarthost(struct pctx *x, const struct key *k, struct span v)
{
	struct config *c = x->c;
	struct span w;

	(void)k;
	if (one_relay(x, "smarthost", next_word(&v), &c->smarthost, &c->smarthost_port, &x->port_given) < 0)
		return -1;
	while ((w = next_word(&v)).n != 0) {
		struct conf_relay *r;

		if (c->nsmarthost_alt + 1 >= CONF_SMARTHOSTS)
			return bad(x, "smarthost: at most %d hosts", CONF_SMARTHOSTS);
		c->smarthost_alt = xreallocarray(c->smarthost_alt, c->nsmarthost_alt + 1, sizeof *c->smarthost_alt);
		r = &c->smarthost_alt[c->nsmarthost_alt++];
		memset(r, 0, sizeof *r);
		if (one_relay(x, "smarthost", w, &r->host, &r->port, &r->port_given) < 0)
			return -1;
	}
	return 0;
}

/* set_key - validate v for row k and store it, with its kind's parser. */
static int set_key(struct pctx *x, const struct key *k, struct span v)
{
	if (!kinds[k->kind].words && (memchr(v.p, ' ', v.n) != NULL || memchr(v.p, '\t', v.n) != NULL))
		return badval(x, k->name, "wants one value, got", v);
	return kinds[k->kind].parse(x, k, v);
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
	if (x->seen[i] != 0 && !kinds[keys[i].kind].repeat)
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

/* default_port - the smarthost port when the smarthost line names none. */
static int default_port(const struct config *c)
{
	return c->smarthost_tls == SMARTHOST_TLS_TLS ? CONF_PORT_SUBMISSIONS : CONF_PORT_SUBMISSION;
}

/* conf_finish - defaults that depend on other keys, and checks across keys. */
static int conf_finish(struct pctx *x)
{
	struct config *c = x->c;

	x->line = 0;
	if (conf_finish_names(x) < 0)
		return -1;
	if (!x->port_given)
		c->smarthost_port = default_port(c);
	for (size_t i = 0; i < c->nsmarthost_alt; i++)
		if (!c->smarthost_alt[i].port_given)
			c->smarthost_alt[i].port = default_port(c);
	for (size_t i = 0; i < c->nsender_route; i++)
		if (!c->sender_route[i].relay.port_given)
			c->sender_route[i].relay.port = default_port(c);
	for (size_t i = 0; i < c->nsmarthost_auth_host; i++) {
		const struct conf_host_auth *h = &c->smarthost_auth_host[i];
		bool on = c->smarthost != NULL && strcmp(c->smarthost, h->host) == 0 &&
		    (h->port == 0 || h->port == c->smarthost_port);

		for (size_t j = 0; j < c->nsmarthost_alt; j++)
			on |= strcmp(c->smarthost_alt[j].host, h->host) == 0 &&
			    (h->port == 0 || h->port == c->smarthost_alt[j].port);
		for (size_t j = 0; j < c->nsender_route; j++)	/* a sender's relay is a smarthost too */
			on |= strcmp(c->sender_route[j].relay.host, h->host) == 0 &&
			    (h->port == 0 || h->port == c->sender_route[j].relay.port);
		if (!on)
			return bad(x, "smarthost_auth %s: not a host of the smarthost line or a sender_route line",
			    h->host);
	}
	for (size_t i = 0; i < c->nroute; i++)
		if (c->route[i].kind == CONF_ROUTE_SMARTHOST && c->smarthost == NULL)
			return bad(x, "route %s%s smarthost: no smarthost is set", c->route[i].subs_only ? "." : "",
			    c->route[i].domain);
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

/* sysname_set - the system's name as tests fix it (conf_set_system_name); NULL: ask the system. */
static char *sysname_set;

/* conf_set_system_name - see config.h */
void conf_set_system_name(const char *name)
{
	free(sysname_set);
	sysname_set = name != NULL ? xstrdup(name) : NULL;
}

/* system_name - the system's name into h[n]: gethostname, or the resolver's canonical name for it
 * when that is fully qualified and gethostname's is not. */
static void system_name(char *h, size_t n)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *ai = NULL;

	if (sysname_set != NULL) {
		(void)snprintf(h, n, "%s", sysname_set);
		return;
	}
	if (gethostname(h, n) < 0)
		h[0] = '\0';
	h[n - 1] = '\0';
	if (!conf_fqdn_ok(span_str(h)) && h[0] != '\0' && getaddrinfo(h, NULL, &hints, &ai) == 0) {
		if (ai != NULL && ai->ai_canonname != NULL && conf_fqdn_ok(span_str(ai->ai_canonname)))
			(void)snprintf(h, n, "%s", ai->ai_canonname);
		freeaddrinfo(ai);
	}
}

/* conf_finish_names - the system's name where hostname is not configured; when that is not fully
 * qualified the reason is kept (mail must not go out under a made-up name: conf_name_ok), and hostname
 * holds the system's name, or "localhost" when it is not even a host name. domain and tls_cert_name
 * follow hostname unless set. */
static int conf_finish_names(struct pctx *x)
{
	struct config *c = x->c;
	char h[CONF_HOST_MAX + 2], s[CONF_SHOW];

	if (c->hostname == NULL) {
		system_name(h, sizeof h);
		if (!conf_fqdn_ok(span_str(h)))
			unqualified(x, "hostname: not set, and the system's name \"%s\" is not fully qualified: "
				"set hostname to this host's fully qualified name", show(s, h, strlen(h)));
		c->hostname = conf_host_ok(span_str(h)) ? conf_host_dup(span_str(h)) : xstrdup("localhost");
	}
	if (c->domain == NULL)
		c->domain = xstrdup(c->hostname);
	if (c->tls_cert_name == NULL)
		c->tls_cert_name = xstrdup(c->hostname);
	return 0;
}

/* conf_defaults - see config.h */
void conf_defaults(struct config *c)
{
	struct pctx x = { .c = c };

	memset(c, 0, sizeof *c);
	/* hostname, domain and tls_cert_name are filled in after parsing (conf_finish_names): asking
	 * the resolver for the system's name costs a lookup on every submission when it is configured */
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL && kinds[keys[i].kind].parse(&x, &keys[i], span_str(keys[i].def)) < 0)
			abort();	/* the table's default is refused by its own parser */
	c->smarthost_port = default_port(c);
}

/* conf_load - see config.h */
int conf_load(struct config *c, const char *path, bool optional, struct err *e)
{
	struct buf b;
	int r;

	conf_defaults(c);
	set_str(&c->path, xstrdup(path));
	if (fdio_read_file(path, LIM_CONF_FILE, &b, EX_CONFIG, e) < 0) {
		if (errno == ENOENT && optional) {
			struct pctx x = { .c = c, .e = e };

			err_clear(e);
			(void)log_safe(x.name, sizeof x.name, path, strlen(path));
			return conf_finish_names(&x);
		}
		return -1;
	}
	r = conf_parse(c, b.data != NULL ? b.data : "", b.len, path, e);
	buf_free(&b);
	return r;
}

/* conf_notice_domain - see config.h */
const char *conf_notice_domain(const struct config *c)
{
	const char *d = c->domain;

	while (d != NULL && strchr(d, '.') != NULL) {	/* never a top-level domain */
		for (size_t i = 0; i < c->ndkim; i++)
			if (strcasecmp(c->dkim[i].domain, d) == 0)
				return c->dkim[i].domain;
		if ((d = strchr(d, '.')) != NULL)
			d++;
	}
	return c->ndkim > 0 ? c->dkim[0].domain : c->domain;
}

/* conf_route_for - see config.h */
const struct conf_route *conf_route_for(const struct config *c, const char *domain)
{
	const char *d = domain;
	bool parent = false;

	while (d != NULL && *d != '\0') {
		for (size_t i = 0; i < c->nroute; i++)
			if ((parent || !c->route[i].subs_only) && strcasecmp(c->route[i].domain, d) == 0)
				return &c->route[i];
		if ((d = strchr(d, '.')) != NULL)
			d++;
		parent = true;
	}
	return NULL;
}

/* conf_sender_route_for - see config.h */
const struct conf_relay *conf_sender_route_for(const struct config *c, const char *sender)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL, *d;
	bool parent = false;

	if (at == NULL)
		return NULL;	/* the null sender (bounces, notices): never a sender's relay */
	for (size_t i = 0; i < c->nsender_route; i++)
		if (c->sender_route[i].address && strcasecmp(c->sender_route[i].key, sender) == 0)
			return &c->sender_route[i].relay;
	for (d = at + 1; d != NULL && *d != '\0'; parent = true) {
		for (size_t i = 0; i < c->nsender_route; i++) {
			const struct conf_sender_route *r = &c->sender_route[i];

			if (!r->address && (parent || !r->subs_only) && strcasecmp(r->key, d) == 0)
				return &r->relay;
		}
		if ((d = strchr(d, '.')) != NULL)
			d++;
	}
	return NULL;
}

/* conf_dest_for - see config.h */
enum conf_via conf_dest_for(const struct config *c, const char *sender, const char *domain,
    const struct conf_relay **relay)
{
	const struct conf_route *r = domain != NULL ? conf_route_for(c, domain) : NULL;

	*relay = NULL;
	if (r != NULL && r->kind == CONF_ROUTE_DIRECT)
		return CONF_VIA_MX;
	if (r != NULL && r->kind == CONF_ROUTE_RELAY)
		return CONF_VIA_ROUTE;
	if ((*relay = conf_sender_route_for(c, sender)) != NULL)
		return CONF_VIA_SENDER;
	return r != NULL || c->smarthost != NULL ? CONF_VIA_SMARTHOST : CONF_VIA_MX;	/* (r: smarthost) */
}

/* conf_smarthost_auth_for - see config.h */
int conf_smarthost_auth_for(const struct config *c, const char *host, int port)
{
	int any = -1;

	for (size_t i = 0; i < c->nsmarthost_auth_host; i++) {
		const struct conf_host_auth *h = &c->smarthost_auth_host[i];

		if (strcasecmp(h->host, host) != 0)
			continue;
		if (h->port == port)
			return (int)i;
		if (h->port == 0 && any < 0)
			any = (int)i;
	}
	return any;
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
	for (size_t i = 0; i < c->nroute; i++) {
		free(c->route[i].domain);
		free(c->route[i].host);
	}
	free(c->route);
	for (size_t i = 0; i < c->nsender_route; i++) {
		free(c->sender_route[i].key);
		free(c->sender_route[i].relay.host);
	}
	free(c->sender_route);
	free(c->dkim);
	free(c->tls_policy);
	free(c->path);
	free(c->hostname);
	free(c->hostname_problem);
	free(c->domain);
	free(c->spool);
	free(c->aliases);
	free(c->smarthost);
	for (size_t i = 0; i < c->nsmarthost_alt; i++)
		free(c->smarthost_alt[i].host);
	free(c->smarthost_alt);
	free(c->smarthost_auth);
	for (size_t i = 0; i < c->nsmarthost_auth_host; i++) {
		free(c->smarthost_auth_host[i].host);
		free(c->smarthost_auth_host[i].path);
	}
	free(c->smarthost_auth_host);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_cert_name);
	free(c->resolver);
	free(c->source_address);
	free(c->fallback_relay.host);
	free(c->pidfile);
	free(c->stats_file);
	for (size_t i = 0; i < c->rewrite_sender.n; i++) {
		free(c->rewrite_sender.v[i].pattern);
		free(c->rewrite_sender.v[i].addr);
	}
	for (size_t i = 0; i < c->rewrite_from.n; i++) {
		free(c->rewrite_from.v[i].pattern);
		free(c->rewrite_from.v[i].addr);
	}
	free(c->rewrite_sender.v);
	free(c->rewrite_from.v);
	free(c->check_myip);
	free(c->dnsbl);
	free(c->check_port25_host);
	memset(c, 0, sizeof *c);
}

/* canon_word - "relaxed" or "simple". */
static const char *canon_word(enum dkim_canon v)
{
	return v == CANON_SIMPLE ? "simple" : "relaxed";
}

/* show_str - K_HOST, K_PATH, K_IPV4, K_RESOLVER: the string, or not set */
static int show_str(const struct config *c, const struct key *k, struct buf *out)
{
	const char *s = *(char *const *)cfield(c, k);

	return s == NULL ? 0 : buf_adds(out, s) < 0 ? -1 : 1;
}

/* show_size - K_SIZE */
static int show_size(const struct config *c, const struct key *k, struct buf *out)
{
	return buf_printf(out, "%lld", *(const long long *)cfield(c, k)) < 0 ? -1 : 1;
}

/* show_usize - K_USIZE */
static int show_usize(const struct config *c, const struct key *k, struct buf *out)
{
	return buf_printf(out, "%zu", *(const size_t *)cfield(c, k)) < 0 ? -1 : 1;
}

/* show_dur - K_DUR, in seconds */
static int show_dur(const struct config *c, const struct key *k, struct buf *out)
{
	return buf_printf(out, "%ld", *(const long *)cfield(c, k)) < 0 ? -1 : 1;
}

/* show_int - K_INT */
static int show_int(const struct config *c, const struct key *k, struct buf *out)
{
	return buf_printf(out, "%d", *(const int *)cfield(c, k)) < 0 ? -1 : 1;
}

/* show_enum - K_ENUM: the word of the current value */
static int show_enum(const struct config *c, const struct key *k, struct buf *out)
{
	return buf_adds(out, k->words[*(const int *)cfield(c, k)]) < 0 ? -1 : 1;
}

/* show_bool - K_BOOL */
static int show_bool(const struct config *c, const struct key *k, struct buf *out)
{
	return buf_adds(out, *(const bool *)cfield(c, k) ? "yes" : "no") < 0 ? -1 : 1;
}

/* show_canon - dkim_canon, always both halves */
static int show_canon(const struct config *c, const struct key *k, struct buf *out)
{
	(void)k;
	return buf_printf(out, "%s/%s", canon_word(c->dkim_hcanon), canon_word(c->dkim_bcanon)) < 0 ? -1 : 1;
}

/* show_dkim - one line per key */
static int show_dkim(const struct config *c, const struct key *row, struct buf *out)
{
	int bad = 0;

	(void)row;
	for (size_t i = 0; i < c->ndkim; i++) {
		const struct conf_dkim_key *k = &c->dkim[i];

		bad |= buf_printf(out, "%s%s %s %s", i ? "\n" : "", k->domain, k->selector, k->keyfile);
		if (k->canon_set)
			bad |= buf_printf(out, " canon=%s/%s", canon_word(k->hcanon), canon_word(k->bcanon));
	}
	return bad ? -1 : c->ndkim > 0;
}

/* show_policy - one line per domain */
static int show_policy(const struct config *c, const struct key *k, struct buf *out)
{
	int bad = 0;

	(void)k;
	for (size_t i = 0; i < c->ntls_policy; i++)
		bad |= buf_printf(out, "%s%s %s", i ? "\n" : "", c->tls_policy[i].domain,
		    tls_words[c->tls_policy[i].level]);
	return bad ? -1 : c->ntls_policy > 0;
}

/* show_route - one "DOMAIN TARGET" line each, a relay's port made explicit */
static int show_route(const struct config *c, const struct key *k, struct buf *out)
{
	static const char *const kw[] = { "direct", "smarthost" };
	int bad = 0;

	(void)k;
	for (size_t i = 0; i < c->nroute; i++) {
		const struct conf_route *r = &c->route[i];

		bad |= buf_printf(out, "%s%s%s ", i ? "\n" : "", r->subs_only ? "." : "", r->domain);
		bad |= r->kind == CONF_ROUTE_RELAY ? buf_printf(out, "%s:%d", r->host, r->port) : buf_adds(out, kw[r->kind]);
	}
	return bad ? -1 : c->nroute > 0;
}

/* show_sroute - one "KEY HOST:PORT" line each, the port made explicit */
static int show_sroute(const struct config *c, const struct key *k, struct buf *out)
{
	int bad = 0;

	(void)k;
	for (size_t i = 0; i < c->nsender_route; i++) {
		const struct conf_sender_route *r = &c->sender_route[i];

		bad |= buf_printf(out, "%s%s%s %s:%d", i ? "\n" : "", r->subs_only ? "." : "", r->key, r->relay.host,
		    r->relay.port);
	}
	return bad ? -1 : c->nsender_route > 0;
}

/* show_rewrite - one "PATTERN ADDRESS" line per rule */
static int show_rewrite(const struct config *c, const struct key *k, struct buf *out)
{
	const struct conf_rewrites *rw = cfield(c, k);
	int bad = 0;

	for (size_t i = 0; i < rw->n; i++)
		bad |= buf_printf(out, "%s%s %s", i ? "\n" : "", rw->v[i].pattern, rw->v[i].addr);
	return bad ? -1 : rw->n > 0;
}

/* show_shauth - the line for every smarthost, then one "HOST[:PORT] FILE" line per host */
static int show_shauth(const struct config *c, const struct key *k, struct buf *out)
{
	int bad = 0, n = 0;

	(void)k;
	if (c->smarthost_auth != NULL)
		bad |= buf_printf(out, "%s", c->smarthost_auth), n++;
	for (size_t i = 0; i < c->nsmarthost_auth_host; i++) {
		const struct conf_host_auth *h = &c->smarthost_auth_host[i];

		bad |= buf_printf(out, "%s%s", n++ ? "\n" : "", h->host);
		if (h->port != 0)
			bad |= buf_printf(out, ":%d", h->port);
		bad |= buf_printf(out, " %s", h->path);
	}
	return bad ? -1 : n > 0;
}

/* show_relay - HOST:PORT, the port made explicit */
static int show_relay(const struct config *c, const struct key *k, struct buf *out)
{
	const struct conf_relay *r = cfield(c, k);

	if (r->host == NULL)
		return 0;
	return buf_printf(out, "%s:%d", r->host, r->port) < 0 ? -1 : 1;
}

/* show_smarthost - HOST:PORT, the port made explicit */
static int show_smarthost(const struct config *c, const struct key *k, struct buf *out)
{
	(void)k;
	if (c->smarthost == NULL)
		return 0;
	if (buf_printf(out, "%s:%d", c->smarthost, c->smarthost_port) < 0)
		return -1;
	for (size_t i = 0; i < c->nsmarthost_alt; i++)
		if (buf_printf(out, " %s:%d", c->smarthost_alt[i].host, c->smarthost_alt[i].port) < 0)
			return -1;
	return 1;
}

/* conf_value - see config.h */
int conf_value(const struct config *c, const char *name, struct buf *out, struct err *e)
{
	size_t i = key_index(name);
	int r;

	if (i == NKEYS) {
		char ks[CONF_SHOW];
		return err_set(e, EX_USAGE, "unknown key \"%s\"", show(ks, name, strlen(name)));
	}
	if ((r = kinds[keys[i].kind].show(c, &keys[i], out)) < 0)
		return err_set(e, EX_SOFTWARE, "%s: value too long", keys[i].name);
	return r;
}

/* conf_key_name - see config.h */
const char *conf_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

/* conf_key_default - see config.h */
const char *conf_key_default(size_t i, bool *value)
{
	if (i >= NKEYS)
		return NULL;
	*value = keys[i].def != NULL;
	return keys[i].def != NULL ? keys[i].def : keys[i].derived != NULL ? keys[i].derived : "none";
}

/* conf_name_ok - see config.h */
int conf_name_ok(const struct config *c, struct err *e)
{
	if (c->hostname_problem == NULL)
		return 0;
	return err_set(e, EX_CONFIG, "%s", c->hostname_problem);
}
