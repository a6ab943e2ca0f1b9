/*
 * check_rec.c - the pure decisions of `postern check`. See check_rec.h.
 */
#include "conf/check_rec.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/confval.h"
#include "lib/buf.h"

#define IP_FORM_MAX 64	/* an IPv4 address written with one separator, "192-0-2-1" */

/* ends_with_label - name is `suffix` or ends in ".suffix" (ASCII case-insensitive). */
static bool ends_with_label(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n == s)
		return strcasecmp(name, suffix) == 0;
	return n > s && name[n - s - 1] == '.' && strcasecmp(name + n - s, suffix) == 0;
}

const char *check_hostname_bad(const char *name)
{
	static const char *const local[] = { "localhost", "localdomain", "local", "lan", "home", "internal",
					     "home.arpa", "invalid", "test", NULL };
	struct in_addr a;

	if (name == NULL || *name == '\0')
		return "no host name";
	if (inet_pton(AF_INET, name, &a) == 1)
		return "an address, not a name";
	if (!conf_host_ok(span_str(name)))
		return "not a valid host name (letters, digits and hyphens between dots)";
	if (strchr(name, '.') == NULL)
		return "a single label, not a fully qualified name";
	for (size_t i = 0; local[i] != NULL; i++)
		if (ends_with_label(name, local[i]))
			return "a name only this network knows";
	if (!conf_fqdn_ok(span_str(name)))
		return "not a fully qualified name";
	return NULL;
}

/* has_at - needle occurs in hay between separators (or at either end). */
static bool has_at(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
		bool left = p == hay || !((p[-1] >= '0' && p[-1] <= '9') || (p[-1] >= 'a' && p[-1] <= 'z'));
		char r = p[n];
		bool right = r == '\0' || !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z'));

		if (left && right)
			return true;
	}
	return false;
}

bool check_ptr_generic(const char *name, struct in_addr ip)
{
	static const char *const tokens[] = {
		"dyn", "dynamic", "dynip", "pool", "dhcp", "dsl", "adsl", "vdsl", "xdsl", "cable", "dialup",
		"dial", "dialin", "ppp", "pppoe", "broadband", "customer", "cust", "client", "clients",
		"residential", "subscriber", "user", "users", "nat", "unassigned", "unknown", NULL,
	};
	char low[CONF_HOST_MAX + 1], form[IP_FORM_MAX];
	uint32_t h = ntohl(ip.s_addr);
	unsigned o[4] = { h >> 24, (h >> 16) & 255, (h >> 8) & 255, h & 255 };
	size_t n = strlen(name);

	if (n > CONF_HOST_MAX)
		return false;	/* not a host name at all: the caller judges that */
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	for (const char *sep = "-._"; *sep != '\0'; sep++) {
		(void)snprintf(form, sizeof form, "%u%c%u%c%u%c%u", o[0], *sep, o[1], *sep, o[2], *sep, o[3]);
		if (has_at(low, form))
			return true;
		(void)snprintf(form, sizeof form, "%u%c%u%c%u%c%u", o[3], *sep, o[2], *sep, o[1], *sep, o[0]);
		if (has_at(low, form))
			return true;
	}
	(void)snprintf(form, sizeof form, "%03u%03u%03u%03u", o[0], o[1], o[2], o[3]);
	if (strstr(low, form) != NULL)
		return true;
	(void)snprintf(form, sizeof form, "%08x", h);
	if (strstr(low, form) != NULL)
		return true;
	/* tokens: the letter runs of the name ("dsl" in "adsl-1.x", "dyn" in "dyn123") */
	for (const char *p = low; *p != '\0';) {
		size_t len = 0;

		while (p[len] >= 'a' && p[len] <= 'z')
			len++;
		for (size_t i = 0; len > 0 && tokens[i] != NULL; i++)
			if (strlen(tokens[i]) == len && memcmp(tokens[i], p, len) == 0)
				return true;
		p += len > 0 ? len : 1;
	}
	return false;
}

bool check_addr_private(struct in_addr ip)
{
	static const struct {
		uint32_t net;
		unsigned bits;
	} nets[] = {
		{ 0x0a000000, 8 },	/* 10/8, RFC 1918 */
		{ 0xac100000, 12 },	/* 172.16/12 */
		{ 0xc0a80000, 16 },	/* 192.168/16 */
		{ 0x64400000, 10 },	/* 100.64/10, RFC 6598 shared (CGNAT) */
		{ 0xa9fe0000, 16 },	/* 169.254/16, link-local */
	};
	uint32_t h = ntohl(ip.s_addr);

	for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
		if ((h & (~0U << (32 - nets[i].bits))) == nets[i].net)
			return true;
	return false;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int check_taglist(const char *rec, size_t len, struct check_tag *tags, size_t *n, char *why, size_t whysz)
{
	size_t i = 0;

	*n = 0;
	while (i < len) {
		size_t end = i, a, b, eq;

		while (end < len && rec[end] != ';')
			end++;
		a = i;
		b = end;
		while (a < b && is_wsp(rec[a]))
			a++;
		while (b > a && is_wsp(rec[b - 1]))
			b--;
		if (a == b && end >= len)
			break;	/* the trailing ";" */
		for (eq = a; eq < b && rec[eq] != '='; eq++)
			;
		if (eq == b)
			return snprintf(why, whysz, "\"%.*s\" is not TAG=VALUE", (int)(b - a > 40 ? 40 : b - a),
			    rec + a), -1;
		size_t ne = eq;
		while (ne > a && is_wsp(rec[ne - 1]))
			ne--;
		if (ne == a || !is_alpha(rec[a]) || ne - a > CHECK_TAGNAME_MAX)
			return snprintf(why, whysz, "a tag name must start with a letter"), -1;
		for (size_t k = a; k < ne; k++)
			if (!is_alpha(rec[k]) && !(rec[k] >= '0' && rec[k] <= '9') && rec[k] != '_')
				return snprintf(why, whysz, "bad tag name \"%.*s\"", (int)(ne - a), rec + a), -1;
		for (size_t k = 0; k < *n; k++)
			if (tags[k].nlen == ne - a && memcmp(tags[k].name, rec + a, ne - a) == 0)
				return snprintf(why, whysz, "tag %.*s= given twice", (int)(ne - a), rec + a), -1;
		if (*n >= CHECK_TAGS_MAX)
			return snprintf(why, whysz, "more than %d tags", CHECK_TAGS_MAX), -1;
		size_t vs = eq + 1;
		while (vs < b && is_wsp(rec[vs]))
			vs++;
		tags[*n] = (struct check_tag){ rec + a, rec + vs, ne - a, b - vs };
		(*n)++;
		i = end + 1;
	}
	return 0;
}

/* tag_is - the tag's name is `name` (tag names are case-sensitive, RFC 6376 3.2). */
static bool tag_is(const struct check_tag *t, const char *name)
{
	return t->nlen == strlen(name) && memcmp(t->name, name, t->nlen) == 0;
}

/* list_has - a ':'-separated list (white space allowed around items) holds `item`. */
static bool list_has(const char *v, size_t len, const char *item, bool nocase)
{
	size_t i = 0, il = strlen(item);

	while (i <= len) {
		size_t e = i, a, b;

		while (e < len && v[e] != ':')
			e++;
		for (a = i, b = e; a < b && is_wsp(v[a]); a++)
			;
		while (b > a && is_wsp(v[b - 1]))
			b--;
		if (b - a == il && (nocase ? strncasecmp(v + a, item, il) : strncmp(v + a, item, il)) == 0)
			return true;
		i = e + 1;
	}
	return false;
}

static bool is_b64(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

int check_dkim_parse(const char *rec, size_t len, struct check_dkimrec *out, char *why, size_t whysz)
{
	struct check_tag t[CHECK_TAGS_MAX];
	size_t n;
	bool have_p = false;

	memset(out, 0, sizeof *out);
	memcpy(out->k, "rsa", 4);
	out->v_first = out->sha256 = out->email = true;
	if (check_taglist(rec, len, t, &n, why, whysz) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (tag_is(&t[i], "v")) {
			if (t[i].vlen != 5 || memcmp(t[i].val, "DKIM1", 5) != 0)
				return snprintf(why, whysz, "v=%.*s is not DKIM1", (int)(t[i].vlen > 20 ? 20 : t[i].vlen),
				    t[i].val), -1;
			out->v_first = i == 0;
		} else if (tag_is(&t[i], "k")) {
			if (!(t[i].vlen == 3 && memcmp(t[i].val, "rsa", 3) == 0) &&
			    !(t[i].vlen == 7 && memcmp(t[i].val, "ed25519", 7) == 0))
				return snprintf(why, whysz, "k=%.*s is no key type verifiers know (rsa, ed25519)",
				    (int)(t[i].vlen > 20 ? 20 : t[i].vlen), t[i].val), -1;
			memcpy(out->k, t[i].val, t[i].vlen);
			out->k[t[i].vlen] = '\0';
		} else if (tag_is(&t[i], "h"))
			out->sha256 = list_has(t[i].val, t[i].vlen, "sha256", false);
		else if (tag_is(&t[i], "s"))
			out->email = list_has(t[i].val, t[i].vlen, "*", false) || list_has(t[i].val, t[i].vlen, "email", false);
		else if (tag_is(&t[i], "t"))
			out->testing = list_has(t[i].val, t[i].vlen, "y", false);
		else if (tag_is(&t[i], "p")) {
			have_p = true;
			for (size_t k = 0; k < t[i].vlen; k++) {
				char c = t[i].val[k];

				if (is_wsp(c))
					continue;
				if (!is_b64(c))
					return snprintf(why, whysz, "p= holds '%c', which is not base64",
					    c > 32 && c < 127 ? c : '?'), -1;
				if (out->plen + 1 >= sizeof out->p)
					return snprintf(why, whysz, "p= is longer than any key postern makes"), -1;
				out->p[out->plen++] = c;
			}
			out->p[out->plen] = '\0';
		}
	}
	if (!have_p)
		return snprintf(why, whysz, "no p= tag"), -1;
	return 0;
}

/* val_is - the tag's value is word (ASCII case-insensitive: receivers lower-case DMARC values) */
static bool val_is(const struct check_tag *t, const char *word)
{
	return t->vlen == strlen(word) && strncasecmp(t->val, word, t->vlen) == 0;
}

/* policy_word - none, quarantine or reject into out[12]; false otherwise */
static bool policy_word(const struct check_tag *t, char *out)
{
	static const char *const words[] = { "none", "quarantine", "reject" };

	for (size_t i = 0; i < 3; i++)
		if (val_is(t, words[i])) {
			memcpy(out, words[i], strlen(words[i]) + 1);
			return true;
		}
	return false;
}

/* dmarc_uris - rua/ruf: comma-separated mailto:ADDRESS[!SIZE]; the address's domain is kept */
static int dmarc_uris(const struct check_tag *t, struct check_dmarcrec *out, char *why, size_t whysz)
{
	size_t i = 0;

	while (i <= t->vlen) {
		size_t e = i, a, b;

		while (e < t->vlen && t->val[e] != ',')
			e++;
		for (a = i, b = e; a < b && is_wsp(t->val[a]); a++)
			;
		while (b > a && is_wsp(t->val[b - 1]))
			b--;
		const char *u = t->val + a;
		size_t ul = b - a, at, end;

		if (ul < 7 || strncasecmp(u, "mailto:", 7) != 0)
			return snprintf(why, whysz, "%.*s: a report address is mailto:ADDRESS", (int)(ul > 60 ? 60 : ul), u),
			    -1;
		for (end = 7; end < ul && u[end] != '!'; end++)
			;
		for (at = end; at > 7 && u[at - 1] != '@'; at--)
			;
		if (at == 7 || at == end || end - at > 253)
			return snprintf(why, whysz, "%.*s: not mailto:LOCAL@DOMAIN", (int)(ul > 60 ? 60 : ul), u), -1;
		if (end < ul) {	/* !SIZE: digits and an optional k/m/g/t unit */
			size_t k = end + 1;

			while (k < ul && u[k] >= '0' && u[k] <= '9')
				k++;
			if (k == end + 1 || (k < ul && (k + 1 != ul || strchr("kmgtKMGT", u[k]) == NULL)))
				return snprintf(why, whysz, "%.*s: bad size limit", (int)(ul > 60 ? 60 : ul), u), -1;
		}
		if (out->nuri >= CHECK_DMARC_URIS)
			return snprintf(why, whysz, "more than %d report addresses", CHECK_DMARC_URIS), -1;
		for (size_t k = 0; k < end - at; k++) {
			char c = u[at + k];

			out->uri_domain[out->nuri][k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
		out->uri_domain[out->nuri][end - at] = '\0';
		if (!conf_host_ok(span_str(out->uri_domain[out->nuri])))
			return snprintf(why, whysz, "%.*s: not a domain", (int)(ul > 60 ? 60 : ul), u), -1;
		out->nuri++;
		i = e + 1;
	}
	return 0;
}

int check_dmarc_parse(const char *rec, size_t len, struct check_dmarcrec *out, char *why, size_t whysz)
{
	struct check_tag t[CHECK_TAGS_MAX];
	size_t n;
	bool have_p = false;

	memset(out, 0, sizeof *out);
	out->adkim = out->aspf = 'r';
	out->pct = 100;
	if (check_taglist(rec, len, t, &n, why, whysz) < 0)
		return -1;
	if (n == 0 || !tag_is(&t[0], "v") || !(t[0].vlen == 6 && memcmp(t[0].val, "DMARC1", 6) == 0))
		return snprintf(why, whysz, "v=DMARC1 must be the first tag"), -1;
	for (size_t i = 1; i < n; i++) {
		const struct check_tag *g = &t[i];
		int sh = (int)(g->vlen > 30 ? 30 : g->vlen);

		if (tag_is(g, "p")) {
			if (!policy_word(g, out->p))
				return snprintf(why, whysz, "p=%.*s is not none, quarantine or reject", sh, g->val), -1;
			have_p = true;
		} else if (tag_is(g, "sp")) {
			if (!policy_word(g, out->sp))
				return snprintf(why, whysz, "sp=%.*s is not none, quarantine or reject", sh, g->val), -1;
		} else if (tag_is(g, "adkim") || tag_is(g, "aspf")) {
			if (!val_is(g, "r") && !val_is(g, "s"))
				return snprintf(why, whysz, "%.*s=%.*s is not r or s", (int)g->nlen, g->name, sh, g->val), -1;
			*(tag_is(g, "adkim") ? &out->adkim : &out->aspf) = (char)(g->val[0] | 0x20);
		} else if (tag_is(g, "pct")) {
			int v = 0;

			for (size_t k = 0; k < g->vlen && v <= 100; k++)
				v = g->val[k] >= '0' && g->val[k] <= '9' ? v * 10 + (g->val[k] - '0') : 1000;
			if (g->vlen == 0 || v > 100)
				return snprintf(why, whysz, "pct=%.*s is not a number from 0 to 100", sh, g->val), -1;
			out->pct = v;
		} else if (tag_is(g, "fo")) {
			for (size_t k = 0; k < g->vlen; k++)
				if (strchr("01ds: \t", g->val[k]) == NULL)
					return snprintf(why, whysz, "fo=%.*s: options are 0, 1, d, s", sh, g->val), -1;
		} else if (tag_is(g, "ri")) {
			bool digits = g->vlen > 0 && g->vlen <= 10;

			for (size_t k = 0; k < g->vlen && digits; k++)
				digits = g->val[k] >= '0' && g->val[k] <= '9';
			if (!digits)
				return snprintf(why, whysz, "ri=%.*s is not a number of seconds", sh, g->val), -1;
		} else if (tag_is(g, "rua") || tag_is(g, "ruf")) {
			if (dmarc_uris(g, out, why, whysz) < 0)
				return -1;
		} else if (tag_is(g, "v"))
			return snprintf(why, whysz, "v= given twice"), -1;
		/* rf= and unknown tags: ignored, as RFC 7489 6.3 says */
	}
	if (!have_p)
		return snprintf(why, whysz, "no p= tag"), -1;
	return 0;
}

enum check_dnsbl check_dnsbl_answer(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if ((h >> 24) != 127)
		return DNSBL_BOGUS;
	if ((h & 0xffffff00) == 0x7fffff00 || h == 0x7f000001)
		return DNSBL_REFUSED;
	return DNSBL_LISTED;
}
