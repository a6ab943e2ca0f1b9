/*
 * spf.c - RFC 7208 check_host: record selection, the record parser, macros and the evaluator.
 * See spf.h. The parse half (parse_record, macro_ok, domain_spec_ok) is pure; evaluation asks DNS
 * only through the caller's spf_lookup_fn.
 */
#include "conf/spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/log.h"

#define SPF_IP_LEN 16	/* an address in binary: IPv6, the longer of the two */
#define SPF_REV_MAX 80	/* a reverse name, IPv6 nibbles and "ip6.arpa" (73 octets) */
#define SPF_DELIMS_MAX 8	/* the delimiters of one macro, "%{l-+}" (RFC 7208 7.1: ".-+,/_=") */
#define V4MAPPED_PREFIX_LEN 12	/* the ::ffff:0:0/96 prefix of an IPv4-mapped IPv6 address */

/* Terms in one record: a TXT record of 64 KiB could hold thousands; real ones hold a dozen. */
#define SPF_MAX_TERMS 128

enum mech { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };

static const char *const mech_names[] = { "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists" };

struct term {
	char qual;		/* '+', '-', '~', '?' */
	enum mech mech;
	const char *arg;	/* domain-spec (NUL-terminated, inside the record copy) or NULL */
	int c4, c6;		/* CIDR lengths */
	unsigned char net[SPF_IP_LEN];	/* ip4/ip6 network */
};

struct record {
	struct term t[SPF_MAX_TERMS];
	size_t n;
	const char *redirect, *exp;
};

struct ctx {
	const struct spf_query *q;
	int fam;		/* AF_INET or AF_INET6 */
	unsigned char ip[SPF_IP_LEN];
	char ipstr[INET6_ADDRSTRLEN];
	char local[SPF_NAME_MAX + 2], odomain[SPF_NAME_MAX + 2];
	int lookups, voids;
};

/* ------------------------------------------------------------------------------------------ */
/* The pure half: syntax. */

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }

/* macro_ok - RFC 7208 7.1 macro-string (explain: the explanation form, c/r/t and SP allowed). */
static bool macro_ok(const char *s, bool explain)
{
	for (; *s != '\0'; s++) {
		if (*s != '%') {
			if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
				if (!(explain && *s == ' '))
					return false;
			continue;
		}
		s++;
		if (*s == '%' || *s == '_' || *s == '-')
			continue;
		if (*s != '{')
			return false;
		s++;
		if (strchr(explain ? "slodiphcrtv" : "slodiphv", tolower((unsigned char)*s)) == NULL ||
		    *s == '\0')
			return false;
		s++;
		while (is_digit(*s))
			s++;
		if (*s == 'r' || *s == 'R')
			s++;
		while (*s != '\0' && strchr(".-+,/_=", *s) != NULL)
			s++;
		if (*s != '}')
			return false;
	}
	return true;
}

/* toplabel_ok - RFC 7208 7.1 toplabel: alphanumeric with a letter, or with an inner hyphen. */
static bool toplabel_ok(const char *p, size_t n)
{
	bool alpha = false, hyphen = false;

	if (n == 0 || !is_alnum(p[0]) || !is_alnum(p[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (is_alpha(p[i]))
			alpha = true;
		else if (p[i] == '-')
			hyphen = true;
		else if (!is_digit(p[i]))
			return false;
	}
	return alpha || hyphen;
}

/* domain_spec_ok - macro-string domain-end (RFC 7208 7.1). */
static bool domain_spec_ok(const char *s)
{
	size_t n = strlen(s);
	const char *dot;

	if (n == 0 || !macro_ok(s, false))
		return false;
	if (s[n - 1] == '}' || (n >= 2 && s[n - 2] == '%' && strchr("%_-", s[n - 1]) != NULL))
		return true;
	if (s[n - 1] == '.')
		n--;
	for (dot = s + n; dot > s && dot[-1] != '.'; dot--)
		;
	if (dot == s)
		return false;
	return toplabel_ok(dot, (size_t)(s + n - dot));
}

/* cidr_parse - a CIDR length: "0" or no leading zero, at most max. */
static bool cidr_parse(const char *s, int max, int *out)
{
	int v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s != '\0'; s++) {
		if (!is_digit(*s) || (v = v * 10 + (*s - '0')) > max)
			return false;
	}
	*out = v;
	return true;
}

/* all_digits - a non-empty run of digits to the end. */
static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	while (is_digit(*s))
		s++;
	return *s == '\0';
}

/* split_cidr - cut "/N", "//M" or "/N//M" off the end of s (in place). A '/' not followed by
 * digits to the end belongs to the domain-spec ("a:foo:bar/baz.example.com"). */
static bool split_cidr(char *s, int *c4, int *c6, bool ip6only, bool dual)
{
	char *p = strrchr(s, '/');
	char *q;

	if (dual && p != NULL && p > s && p[-1] == '/' && all_digits(p + 1)) {
		if (!cidr_parse(p + 1, 128, c6))
			return false;
		p[-1] = '\0';
	}
	if ((q = strrchr(s, '/')) != NULL && (all_digits(q + 1) || ip6only)) {
		if (!cidr_parse(q + 1, ip6only ? 128 : 32, ip6only ? c6 : c4))
			return false;
		*q = '\0';
	}
	return true;
}

/* parse_term - one directive (mechanism with qualifier) into t. */
static bool parse_term(char *s, struct term *t)
{
	size_t i, n;
	char *rest;

	t->qual = '+';
	if (strchr("+-~?", *s) != NULL)
		t->qual = *s++;
	for (n = 0; is_alnum(s[n]); n++)
		;
	for (i = 0; i < sizeof mech_names / sizeof *mech_names; i++)
		if (strlen(mech_names[i]) == n && strncasecmp(s, mech_names[i], n) == 0)
			break;
	if (i == sizeof mech_names / sizeof *mech_names)
		return false;
	t->mech = (enum mech)i;
	t->arg = NULL;
	t->c4 = 32, t->c6 = 128;
	rest = s + n;
	switch (t->mech) {
	case M_ALL:
		return *rest == '\0';
	case M_INCLUDE:
	case M_EXISTS:
		if (*rest != ':')
			return false;
		t->arg = rest + 1;
		return domain_spec_ok(t->arg);
	case M_A:
	case M_MX:
	case M_PTR:
		if (*rest != ':' && *rest != '/' && *rest != '\0')
			return false;
		if (t->mech != M_PTR && !split_cidr(rest, &t->c4, &t->c6, false, true))
			return false;
		if (*rest == ':') {
			t->arg = rest + 1;
			return domain_spec_ok(t->arg);
		}
		return *rest == '\0';
	case M_IP4:
	case M_IP6:
		if (*rest++ != ':' || !split_cidr(rest, &t->c4, &t->c6, t->mech == M_IP6, false))
			return false;
		return inet_pton(t->mech == M_IP4 ? AF_INET : AF_INET6, rest, t->net) == 1;
	}
	return false;
}

/* parse_record - the terms after "v=spf1" (rec is modified: terms are cut in place). */
static bool parse_record(char *rec, struct record *r)
{
	char *s = rec;

	r->n = 0;
	r->redirect = r->exp = NULL;
	for (const char *p = rec; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return false;
	while (*s != '\0') {
		char *end, *eq;
		size_t n;

		if (*s == ' ') {
			s++;
			continue;
		}
		if ((end = strchr(s, ' ')) != NULL)
			*end = '\0';
		for (n = 0; is_alpha(s[0]) && (is_alnum(s[n]) || strchr("-_.", s[n]) != NULL) && s[n];
		     n++)
			;
		eq = s + n;
		if (n > 0 && *eq == '=') {
			*eq = '\0';
			if (!macro_ok(eq + 1, false))
				return false;
			if (strcasecmp(s, "redirect") == 0 || strcasecmp(s, "exp") == 0) {
				const char **slot = strcasecmp(s, "exp") == 0 ? &r->exp : &r->redirect;

				if (*slot != NULL || !domain_spec_ok(eq + 1))
					return false;
				*slot = eq + 1;
			}
		} else {
			if (r->n == SPF_MAX_TERMS || !parse_term(s, &r->t[r->n]))
				return false;
			r->n++;
		}
		if (end == NULL)
			break;
		s = end + 1;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Names and addresses. */

/* domain_ok - RFC 7208 4.3: a multi-label name with labels of 1..63 octets (a trailing dot ok). */
static bool domain_ok(const char *d)
{
	size_t n = strlen(d), lab = 0, labels = 0;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > SPF_NAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (lab == 0 || lab > 63)
				return false;
			labels++, lab = 0;
		} else {
			lab++;
		}
	}
	return labels > 1;
}

/* name_under - name equals dom or is a subdomain of it (trailing dots ignored). */
static bool name_under(const char *name, const char *dom)
{
	size_t n = strlen(name), m = strlen(dom);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (m > 0 && dom[m - 1] == '.')
		m--;
	if (n < m || strncasecmp(name + n - m, dom, m) != 0)
		return false;
	return n == m || name[n - m - 1] == '.';
}

/* in_net - does the client address fall in net/bits of family fam? */
static bool in_net(const struct ctx *c, int fam, const unsigned char *net, int bits)
{
	int whole = bits / 8, rem = bits % 8;

	if (fam != c->fam)
		return false;
	if (memcmp(c->ip, net, (size_t)whole) != 0)
		return false;
	return rem == 0 || ((c->ip[whole] ^ net[whole]) & (0xff << (8 - rem)) & 0xff) == 0;
}

/* reverse_name - d.c.b.a.in-addr.arpa or the 32 nibbles of ip6.arpa. */
static void reverse_name(const struct ctx *c, char *out, size_t outn)
{
	size_t o = 0;

	if (c->fam == AF_INET) {
		snprintf(out, outn, "%u.%u.%u.%u.in-addr.arpa", c->ip[3], c->ip[2], c->ip[1], c->ip[0]);
		return;
	}
	for (int i = 15; i >= 0 && o + 5 < outn; i--)
		o += (size_t)snprintf(out + o, outn - o, "%x.%x.", c->ip[i] & 15, c->ip[i] >> 4);
	snprintf(out + o, outn - o, "ip6.arpa");
}

/* lookup - ask through the callback; counts void answers (RFC 7208 4.6.4) when count_void. */
static enum dns_result lookup(struct ctx *c, const char *name, int qtype, char ***v, size_t *n,
			      bool count_void)
{
	enum dns_result r = c->q->lookup(c->q->ctx, name, qtype, v, n);

	if (r != DNS_OK) {
		*v = NULL, *n = 0;
		if (count_void && (r == DNS_NXDOMAIN || r == DNS_NODATA))
			c->voids++;
	}
	return r;
}

/* addr_match - 1: one of name's addresses (A or AAAA by the client's family) is in the CIDR;
 * 0: none; -1: temporary DNS failure. */
static int addr_match(struct ctx *c, const char *name, int c4, int c6, bool count_void)
{
	char **v;
	size_t n;
	int hit = 0;
	enum dns_result r = lookup(c, name, c->fam == AF_INET ? DNS_T_A : DNS_T_AAAA, &v, &n, count_void);

	if (r == DNS_TEMPFAIL || r == DNS_FAIL)
		return -1;
	for (size_t i = 0; i < n && !hit; i++) {
		unsigned char a[SPF_IP_LEN];

		if (inet_pton(c->fam, v[i], a) == 1)
			hit = in_net(c, c->fam, a, c->fam == AF_INET ? c4 : c6);
	}
	spf_strings_free(v, n);
	return hit;
}

/* validated - RFC 7208 5.5: the client's PTR names that resolve back to it; prefer one under dom.
 * Copies the chosen name to out ("" when none). */
static void validated(struct ctx *c, const char *dom, char *out, size_t outn)
{
	char rev[SPF_REV_MAX], **v;
	size_t n;

	out[0] = '\0';
	reverse_name(c, rev, sizeof rev);
	if (lookup(c, rev, DNS_T_PTR, &v, &n, false) != DNS_OK)
		return;
	for (size_t i = 0; i < n && i < SPF_MAX_NAMES; i++) {
		if (addr_match(c, v[i], 32, 128, false) != 1)
			continue;
		if (out[0] == '\0' || (name_under(v[i], dom) && !name_under(out, dom)))
			snprintf(out, outn, "%s", v[i]);
	}
	spf_strings_free(v, n);
}

/* ------------------------------------------------------------------------------------------ */
/* Macros (RFC 7208 7). */

/* macro_value - the raw value of one macro letter. */
static void macro_value(struct ctx *c, int letter, const char *dom, char *out, size_t outn)
{
	switch (tolower(letter)) {
	case 's': snprintf(out, outn, "%s@%s", c->local, c->odomain); break;
	case 'l': snprintf(out, outn, "%s", c->local); break;
	case 'o': snprintf(out, outn, "%s", c->odomain); break;
	case 'd': snprintf(out, outn, "%s", dom); break;
	case 'h': snprintf(out, outn, "%s", c->q->helo ? c->q->helo : "unknown"); break;
	case 'c': snprintf(out, outn, "%s", c->ipstr); break;
	case 'r': snprintf(out, outn, "%s", c->q->receiver ? c->q->receiver : "unknown"); break;
	case 't': snprintf(out, outn, "%lld", (long long)c->q->now); break;
	case 'v': snprintf(out, outn, "%s", c->fam == AF_INET ? "in-addr" : "ip6"); break;
	case 'p':
		validated(c, dom, out, outn);
		if (out[0] == '\0')
			snprintf(out, outn, "unknown");
		break;
	case 'i':
		if (c->fam == AF_INET) {
			snprintf(out, outn, "%u.%u.%u.%u", c->ip[0], c->ip[1], c->ip[2], c->ip[3]);
		} else {
			size_t o = 0;

			for (int i = 0; i < 16 && o + 5 < outn; i++)
				o += (size_t)snprintf(out + o, outn - o, "%s%x.%x", i ? "." : "",
						      c->ip[i] >> 4, c->ip[i] & 15);
		}
		break;
	default: out[0] = '\0';
	}
}

/* transform - split val on delims, reverse if rev, keep the rightmost keep parts, join with '.';
 * URL-escape when esc. */
static int transform(const char *val, const char *delims, bool rev, long keep, bool esc,
		     struct buf *b)
{
	const char *part[SPF_EXPL_MAX];
	size_t plen[SPF_EXPL_MAX], np = 0, first;
	const char *p = val;

	for (;;) {
		size_t l = strcspn(p, delims);

		part[np] = p, plen[np++] = l;
		if (p[l] == '\0' || np == SPF_EXPL_MAX)
			break;
		p += l + 1;
	}
	if (rev)
		for (size_t i = 0; i < np / 2; i++) {
			const char *t = part[i];
			size_t tl = plen[i];

			part[i] = part[np - 1 - i], plen[i] = plen[np - 1 - i];
			part[np - 1 - i] = t, plen[np - 1 - i] = tl;
		}
	first = keep > 0 && (size_t)keep < np ? np - (size_t)keep : 0;
	for (size_t i = first; i < np; i++) {
		if (i > first && buf_addc(b, '.') < 0)
			return -1;
		for (size_t j = 0; j < plen[i]; j++) {
			unsigned char ch = (unsigned char)part[i][j];

			if (esc && !is_alnum(ch) && strchr("-._~", ch) == NULL) {
				if (buf_printf(b, "%%%02X", ch) < 0)
					return -1;
			} else if (buf_addc(b, (char)ch) < 0) {
				return -1;
			}
		}
	}
	return 0;
}

/* expand - expand macro-string s (already syntax-checked) for domain dom. -1 when too long or a
 * zero DIGIT transformer. */
static int expand(struct ctx *c, const char *s, const char *dom, struct buf *b)
{
	char val[SPF_EXPL_MAX];

	for (; *s != '\0'; s++) {
		const char *delims = ".";
		char dl[SPF_DELIMS_MAX];
		long keep = 0;
		bool rev = false;
		int letter;
		size_t nd = 0;

		if (*s != '%') {
			if (buf_addc(b, *s) < 0)
				return -1;
			continue;
		}
		s++;
		if (*s != '{') {
			if (buf_adds(b, *s == '%' ? "%" : *s == '_' ? " " : "%20") < 0)
				return -1;
			continue;
		}
		letter = *++s;
		s++;
		if (is_digit(*s)) {
			while (is_digit(*s)) {
				if (keep < 1000)
					keep = keep * 10 + (*s - '0');
				s++;
			}
			if (keep == 0)
				return -1;
		}
		if (*s == 'r' || *s == 'R')
			rev = true, s++;
		while (*s != '}' && nd < sizeof dl - 1)
			dl[nd++] = *s++;
		while (*s != '}')
			s++;
		dl[nd] = '\0';
		if (nd > 0)
			delims = dl;
		macro_value(c, letter, dom, val, sizeof val);
		if (transform(val, delims, rev, keep, isupper(letter) != 0, b) < 0)
			return -1;
	}
	return 0;
}

/* expand_domain - expand a domain-spec and shorten it to SPF_NAME_MAX from the left (7.3). */
static int expand_domain(struct ctx *c, const char *spec, const char *dom, char *out, size_t outn)
{
	struct buf b;
	const char *p;

	buf_init(&b, SPF_EXPL_MAX);
	if (expand(c, spec, dom, &b) < 0) {
		buf_free(&b);
		return -1;
	}
	p = buf_str(&b);
	while (strlen(p) > SPF_NAME_MAX && strchr(p, '.') != NULL)
		p = strchr(p, '.') + 1;
	snprintf(out, outn, "%s", p);
	buf_free(&b);
	return strlen(out) > SPF_NAME_MAX ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Evaluation (RFC 7208 4 and 5). */

static enum spf_result check_host(struct ctx *c, const char *dom, char **why);

/* explain - RFC 7208 6.2: the exp= text for a fail, or the default when anything goes wrong. */
static char *explain(struct ctx *c, const char *exp, const char *dom)
{
	char name[SPF_NAME_MAX + 2], **v = NULL;
	size_t n = 0;
	struct buf b;

	if (exp != NULL && expand_domain(c, exp, dom, name, sizeof name) == 0 && domain_ok(name) &&
	    lookup(c, name, DNS_T_TXT, &v, &n, false) == DNS_OK && n == 1 && macro_ok(v[0], true)) {
		buf_init(&b, SPF_EXPL_MAX);
		if (expand(c, v[0], dom, &b) == 0) {
			spf_strings_free(v, n);
			return buf_take(&b);
		}
		buf_free(&b);
	}
	spf_strings_free(v, n);
	buf_init(&b, SPF_EXPL_MAX);
	if (buf_printf(&b, "SPF fail: %s does not designate %s as permitted sender", dom,
		       c->ipstr) < 0)
		abort();	/* both bounded well under SPF_EXPL_MAX */
	return buf_take(&b);
}

/* reason - a short owned reason string. */
static char *reason(const char *fmt, const char *a, const char *b2)
{
	struct buf b;

	buf_init(&b, SPF_EXPL_MAX);
	if (buf_printf(&b, fmt, a, b2) < 0)
		buf_reset(&b);
	return buf_take(&b);
}

/* count_lookup - one more DNS-querying term: false when over the limit. */
static bool count_lookup(struct ctx *c)
{
	return ++c->lookups <= SPF_MAX_LOOKUPS;
}

/* mech_match - 1 match, 0 no match, or -(result) for a result that ends evaluation. */
static int mech_match(struct ctx *c, const struct term *t, const char *dom, char **why)
{
	char target[SPF_NAME_MAX + 2], vname[SPF_NAME_MAX + 2], **v;
	enum spf_result r;
	size_t n;
	int hit = 0;

	if (t->mech == M_ALL)
		return 1;
	if (t->mech == M_IP4 || t->mech == M_IP6)
		return in_net(c, t->mech == M_IP4 ? AF_INET : AF_INET6, t->net,
			      t->mech == M_IP4 ? t->c4 : t->c6);
	if (!count_lookup(c)) {
		*why = reason("more than %s DNS-querying terms (at %s)", "10", dom);
		return -SPF_PERMERROR;
	}
	if (t->arg == NULL)
		snprintf(target, sizeof target, "%s", dom);
	else if (expand_domain(c, t->arg, dom, target, sizeof target) < 0)
		return *why = reason("bad macro in %s (%s)", t->arg, dom), -SPF_PERMERROR;
	switch (t->mech) {
	case M_INCLUDE:
		r = check_host(c, target, why);
		if (r == SPF_PASS)
			return 1;
		if (r == SPF_TEMPERROR || r == SPF_PERMERROR)
			return -(int)r;
		free(*why), *why = NULL;
		if (r == SPF_NONE)
			return *why = reason("include:%s has no SPF record%s", target, ""), -SPF_PERMERROR;
		return 0;
	case M_A:
		hit = addr_match(c, target, t->c4, t->c6, true);
		break;
	case M_MX:
		r = (enum spf_result)lookup(c, target, DNS_T_MX, &v, &n, true);
		if ((enum dns_result)r == DNS_TEMPFAIL || (enum dns_result)r == DNS_FAIL)
			return *why = reason("DNS failure for MX %s%s", target, ""), -SPF_TEMPERROR;
		if (n > SPF_MAX_NAMES) {
			spf_strings_free(v, n);
			return *why = reason("more than 10 MX names for %s%s", target, ""), -SPF_PERMERROR;
		}
		for (size_t i = 0; i < n && hit == 0; i++)
			if (strcmp(v[i], ".") != 0)
				hit = addr_match(c, v[i], t->c4, t->c6, false);
		spf_strings_free(v, n);
		break;
	case M_PTR:
		validated(c, target, vname, sizeof vname);
		return vname[0] != '\0' && name_under(vname, target);
	case M_EXISTS:
		r = (enum spf_result)lookup(c, target, DNS_T_A, &v, &n, true);
		spf_strings_free(v, n);
		hit = (enum dns_result)r == DNS_OK ? 1 :
		      (enum dns_result)r == DNS_TEMPFAIL || (enum dns_result)r == DNS_FAIL ? -1 : 0;
		break;
	default:
		break;
	}
	if (hit < 0)
		return *why = reason("DNS failure for %s%s", target, ""), -SPF_TEMPERROR;
	if (c->voids > SPF_MAX_VOID)
		return *why = reason("more than %s void DNS lookups (at %s)", "2", target), -SPF_PERMERROR;
	return hit;
}

/* select_record - RFC 7208 4.5: exactly one "v=spf1" TXT record; copy it to *rec. */
static enum spf_result select_record(struct ctx *c, const char *dom, char **rec, char **why)
{
	char **v;
	size_t n, found = 0;
	enum dns_result r = lookup(c, dom, DNS_T_TXT, &v, &n, false);

	*rec = NULL;
	if (r == DNS_TEMPFAIL)
		return *why = reason("DNS failure for TXT %s%s", dom, ""), SPF_TEMPERROR;
	if (r == DNS_FAIL)	/* a malformed answer (e.g. NUL in a string): no retry will mend it */
		return *why = reason("malformed TXT answer at %s%s", dom, ""), SPF_PERMERROR;
	for (size_t i = 0; i < n; i++) {
		if (strncasecmp(v[i], "v=spf1", 6) != 0 || (v[i][6] != '\0' && v[i][6] != ' '))
			continue;
		if (found++ == 0)
			*rec = xstrdup(v[i] + 6);
	}
	spf_strings_free(v, n);
	if (found == 0)
		return *why = reason("no SPF record at %s%s", dom, ""), SPF_NONE;
	if (found > 1) {
		free(*rec), *rec = NULL;
		return *why = reason("several SPF records at %s%s", dom, ""), SPF_PERMERROR;
	}
	return SPF_PASS;
}

static enum spf_result check_host(struct ctx *c, const char *dom, char **why)
{
	static const enum spf_result by_qual[128] = {
		['+'] = SPF_PASS, ['-'] = SPF_FAIL, ['~'] = SPF_SOFTFAIL, ['?'] = SPF_NEUTRAL
	};
	struct record *rec;
	enum spf_result res;
	char *text;

	*why = NULL;
	if (!domain_ok(dom))
		return *why = reason("%s is not a domain name%s", dom, ""), SPF_NONE;
	if ((res = select_record(c, dom, &text, why)) != SPF_PASS)
		return res;
	rec = xcalloc(1, sizeof *rec);
	if (!parse_record(text, rec)) {
		res = SPF_PERMERROR;
		*why = reason("syntax error in the SPF record of %s%s", dom, "");
		goto out;
	}
	for (size_t i = 0; i < rec->n; i++) {
		int m = mech_match(c, &rec->t[i], dom, why);

		if (m < 0) {
			res = (enum spf_result)-m;
			goto out;
		}
		if (m == 1) {
			res = by_qual[(unsigned char)rec->t[i].qual];
			free(*why);
			if (res == SPF_FAIL)
				*why = explain(c, rec->exp, dom);
			else
				*why = reason("matched %s in the record of %s", mech_names[rec->t[i].mech],
					      dom);
			goto out;
		}
	}
	if (rec->redirect != NULL) {
		char target[SPF_NAME_MAX + 2];

		if (!count_lookup(c)) {
			res = SPF_PERMERROR;
			*why = reason("more than %s DNS-querying terms (at %s)", "10", dom);
		} else if (expand_domain(c, rec->redirect, dom, target, sizeof target) < 0 ||
			   !domain_ok(target)) {
			res = SPF_PERMERROR;
			*why = reason("bad redirect= in the record of %s%s", dom, "");
		} else if ((res = check_host(c, target, why)) == SPF_NONE) {
			free(*why);
			res = SPF_PERMERROR;
			*why = reason("redirect=%s has no SPF record%s", target, "");
		}
		goto out;
	}
	res = SPF_NEUTRAL;
	*why = reason("nothing matched in the record of %s%s", dom, "");
out:
	free(rec);
	free(text);
	return res;
}

enum spf_result spf_check(const struct spf_query *q, char **why)
{
	struct ctx c = { .q = q };
	const char *at, *dom;

	*why = NULL;
	if (inet_pton(AF_INET, q->ip, c.ip) == 1) {
		c.fam = AF_INET;
	} else if (inet_pton(AF_INET6, q->ip, c.ip) == 1) {
		static const unsigned char mapped[V4MAPPED_PREFIX_LEN] = { [10] = 0xff, [11] = 0xff };

		c.fam = AF_INET6;
		if (memcmp(c.ip, mapped, sizeof mapped) == 0) {	/* ::ffff:a.b.c.d is IPv4 (5) */
			memmove(c.ip, c.ip + 12, 4);
			c.fam = AF_INET;
		}
	} else {
		*why = reason("%s is not an IP address%s", q->ip, "");
		return SPF_PERMERROR;
	}
	inet_ntop(c.fam, c.ip, c.ipstr, sizeof c.ipstr);
	if (q->sender != NULL && q->sender[0] != '\0') {
		at = strrchr(q->sender, '@');
		dom = at != NULL ? at + 1 : q->sender;
		if (at != NULL && at > q->sender)
			snprintf(c.local, sizeof c.local, "%.*s", (int)(at - q->sender), q->sender);
		else
			snprintf(c.local, sizeof c.local, "postmaster");
	} else if (q->helo != NULL) {
		dom = q->helo;
		snprintf(c.local, sizeof c.local, "postmaster");
	} else {
		*why = reason("no sender and no HELO%s%s", "", "");
		return SPF_NONE;
	}
	if (strlen(dom) > SPF_NAME_MAX || (q->sender != NULL && strlen(q->sender) > 2 * SPF_NAME_MAX)) {
		*why = reason("%s is not a domain name%s", dom, "");
		return SPF_NONE;
	}
	snprintf(c.odomain, sizeof c.odomain, "%s", dom);
	return check_host(&c, dom, why);
}

const char *spf_result_str(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail",
					     "temperror", "permerror" };

	return (size_t)r < sizeof names / sizeof *names ? names[r] : "permerror";
}

void spf_strings_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

enum dns_result spf_dns_lookup(void *ctx, const char *name, int qtype, char ***v, size_t *n)
{
	struct dns_answer a;
	enum dns_result r;
	struct err e;

	*v = NULL;
	*n = 0;
	err_clear(&e);
	if ((r = dns_query(ctx, name, qtype, &a, &e)) != DNS_OK)
		return r;
	*v = xcalloc(a.nrr, sizeof **v);
	for (size_t i = 0; i < a.nrr; i++) {
		char t[INET6_ADDRSTRLEN];

		if (qtype == DNS_T_A || qtype == DNS_T_AAAA) {
			inet_ntop(qtype == DNS_T_A ? AF_INET : AF_INET6,
				  qtype == DNS_T_A ? (const void *)&a.rr[i].a : (const void *)&a.rr[i].a6,
				  t, sizeof t);
			(*v)[i] = xstrdup(t);
		} else {
			(*v)[i] = a.rr[i].data;
			a.rr[i].data = NULL;
		}
	}
	*n = a.nrr;
	dns_answer_free(&a);
	return DNS_OK;
}

int spf_main(const char *resolver, int argc, char **argv, FILE *out, FILE *errf)
{
	struct spf_query q = { 0 };
	struct dns *d;
	struct err e;
	enum spf_result r;
	char *why, safe[TEXT_VIS_SIZE(SPF_EXPL_MAX)];

	if (argc < 3 || argc > 4) {
		fprintf(errf, "usage: postern spf IP SENDER [HELO]\n");
		return EX_USAGE;
	}
	err_clear(&e);
	if ((d = dns_new(resolver, &e)) == NULL) {
		fprintf(errf, "postern: %s\n", e.msg);
		return EX_CONFIG;
	}
	q.ip = argv[1], q.sender = argv[2], q.helo = argc > 3 ? argv[3] : NULL;
	q.now = time(NULL);
	q.lookup = spf_dns_lookup, q.ctx = d;
	r = spf_check(&q, &why);
	/* the explanation comes from DNS: escape what is not printable ASCII */
	(void)log_safe(safe, sizeof safe, why ? why : "", why ? strlen(why) : 0);
	fprintf(out, "%s %s\n", spf_result_str(r), safe);
	free(why);
	dns_free(d);
	return 0;
}
