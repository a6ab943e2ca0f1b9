/*
 * confval.c - value syntax for postern.conf (and domain names in aliases). See confval.h.
 *
 * Untrusted input: the bytes of a value. Pure functions, overflow-checked numbers.
 * Errors: false or -1; the callers say which key and line.
 */
#include "conf/confval.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "lib/text.h"

/* conf_host_ok - see confval.h */
bool conf_host_ok(struct span s)
{
	size_t i, lab = 0;

	if (s.n == 0 || s.n > CONF_HOST_MAX)
		return false;
	for (i = 0; i < s.n; i++) {
		char ch = s.p[i];
		if (ch == '.') {
			if (lab == 0 || s.p[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    ch == '-'))
			return false;
		if (ch == '-' && lab == 0)
			return false;
		if (++lab > CONF_LABEL_MAX)
			return false;
	}
	return lab > 0 && s.p[s.n - 1] != '-';
}

/* conf_fqdn_ok - see confval.h */
bool conf_fqdn_ok(struct span s)
{
	static const char *const local[] = { "localhost", ".localhost", ".localdomain" };
	const char *dot;
	size_t i;

	if (!conf_host_ok(s) || (dot = memrchr(s.p, '.', s.n)) == NULL)
		return false;
	for (i = (size_t)(dot - s.p) + 1; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++)
		;
	if (i == s.n)
		return false;	/* 127.0.0.1, or a numeric top label */
	for (i = 0; i < sizeof local / sizeof local[0]; i++) {
		size_t n = strlen(local[i]);
		if (s.n >= n && strncasecmp(s.p + s.n - n, local[i], n) == 0 && (local[i][0] == '.' || s.n == n))
			return false;
	}
	return true;
}

/* conf_host_dup - see confval.h */
char *conf_host_dup(struct span s)
{
	char *d = xstrndup(s.p, s.n);
	for (size_t i = 0; i < s.n; i++)
		if (d[i] >= 'A' && d[i] <= 'Z')
			d[i] = (char)(d[i] - 'A' + 'a');
	return d;
}

/* conf_path_ok - see confval.h */
bool conf_path_ok(struct span s)
{
	return s.n > 0 && s.n < PATH_MAX && s.p[0] == '/' && text_printable(s.p, s.n, TEXT_P_8BIT);
}

/* conf_canon_parse - see confval.h */
int conf_canon_parse(struct span v, enum dkim_canon *h, enum dkim_canon *b)
{
	const char *slash = memchr(v.p, '/', v.n);
	struct span hs = v, bs = v;

	if (slash != NULL) {
		hs = span_make(v.p, (size_t)(slash - v.p));
		bs = span_make(slash + 1, v.n - hs.n - 1);
	}
	if (span_eq(hs, "relaxed"))
		*h = CANON_RELAXED;
	else if (span_eq(hs, "simple"))
		*h = CANON_SIMPLE;
	else
		return -1;
	if (span_eq(bs, "relaxed"))
		*b = CANON_RELAXED;
	else if (span_eq(bs, "simple"))
		*b = CANON_SIMPLE;
	else
		return -1;
	return 0;
}

/* number - leading decimal digits of s[0..n) into *v, overflow-checked. Returns digits used, 0 = none
 * or overflow. */
static size_t number(const char *s, size_t n, long long *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (*v > (LLONG_MAX - (s[i] - '0')) / 10)
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return i;
}

/* conf_duration_parse - see config.h */
long conf_duration_parse(const char *s, size_t n)
{
	long long v, mult = 1;
	size_t i = number(s, n, &v);

	if (i == 0 || n - i > 1)
		return -1;
	if (i < n) {
		switch (s[i]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return -1;
		}
	}
	if (v > LONG_MAX / mult)
		return -1;
	return (long)(v * mult);
}

/* conf_size_parse - see config.h */
long long conf_size_parse(const char *s, size_t n)
{
	long long v, mult = 1;
	size_t i = number(s, n, &v);

	if (i == 0 || n - i > 1)
		return -1;
	if (i < n) {
		switch (s[i]) {
		case 'k': case 'K': mult = 1000; break;
		case 'M': mult = 1000LL * 1000; break;
		case 'G': mult = 1000LL * 1000 * 1000; break;
		default: return -1;
		}
	}
	if (v > LLONG_MAX / mult)
		return -1;
	return v * mult;
}
