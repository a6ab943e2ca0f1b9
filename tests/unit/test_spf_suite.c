/* test_spf_suite.c - the openspf RFC 7208 test suite (rfc7208-tests.yml, shipped by Debian's
 * python3-spf) against spf_check: tests/unit/spf_suite.py flattens each scenario group's zone data
 * and scenarios; the zone is served by spfzone.h's in-memory resolver (the evaluator's lookup
 * callback), so ~200 scenarios take milliseconds. Each scenario is one parameterized Criterion
 * test, so tests/run-unit.sh counts them. A scenario passes when the result is the
 * suite's (or one of its alternatives) and, where the suite names an explanation, the
 * explanation is it ("DEFAULT": the default one; compared ignoring case, as v-macro-ip6 wants
 * upper-case nibbles where RFC 7208 7.4's own example has lower case). Run from the source tree (make check does). */
#include <criterion/alloc.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/spf.h"
#include "lib/buf.h"
#include "tests/unit/spfzone.h"

/* unescape - undo spf_suite.py's \t \n \r \\ in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* split - the tab-separated fields of a line (unescaped), at most max. */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	while (n < max) {
		char *t = strchr(line, '\t');

		f[n++] = line;
		if (t == NULL)
			break;
		*t = '\0';
		line = t + 1;
	}
	for (size_t i = 0; i < n; i++)
		unescape(f[i]);
	return n;
}

/* result_ok - is got one of the comma-separated want? */
static bool result_ok(const char *got, const char *want)
{
	size_t l = strlen(got);

	for (const char *p = want; *p != '\0';) {
		size_t wl = strcspn(p, ",");

		if (wl == l && strncmp(p, got, l) == 0)
			return true;
		p += wl + (p[wl] == ',');
	}
	return false;
}

struct zref {
	const char *name, *type, *value;
};

/* One scenario: its fields point into one cr_malloc'd copy of spf_suite.py's output (Criterion
 * hands parameters to the test processes, so they live in its shared arena). */
struct scenario {
	const char *name, *ip, *from, *helo, *want, *expl;
	const struct zref *zone;
	size_t nzone;
	bool skip;
};

static void *shared(const void *p, size_t n)
{
	void *q = cr_malloc(n ? n : 1);

	if (q == NULL)
		abort();
	memcpy(q, p, n);
	return q;
}

ParameterizedTestParameters(spf_suite, rfc7208)
{
	static const struct scenario none = { .name = "(no suite)", .skip = true };
	struct buf raw;
	char chunk[4096], *text, *line;
	struct scenario *sc = NULL;
	struct zref *zr = NULL;
	size_t nsc = 0, nzr = 0, group = 0, len, n;
	FILE *p;

	if (access("/usr/share/doc/python3-spf/rfc7208-tests.yml.gz", R_OK) != 0 ||
	    (p = popen("python3 tests/unit/spf_suite.py", "r")) == NULL)
		return cr_make_param_array(struct scenario, shared(&none, sizeof none), 1, NULL);
	buf_init(&raw, 4 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		if (buf_add(&raw, chunk, n) < 0)
			abort();
	if (pclose(p) != 0)
		return cr_make_param_array(struct scenario, shared(&none, sizeof none), 1, NULL);
	len = strlen(buf_str(&raw));
	text = shared(buf_str(&raw), len + 1);
	buf_free(&raw);
	for (line = text; *line != '\0';) {
		char *nl = strchr(line, '\n'), *f[8];
		size_t nf;

		if (nl != NULL)
			*nl = '\0';
		nf = split(line, f, 8);
		if (strcmp(f[0], "C") == 0) {
			group = nzr;
		} else if (strcmp(f[0], "Z") == 0 && nf == 4) {
			zr = realloc(zr, (nzr + 1) * sizeof *zr);
			zr[nzr++] = (struct zref){ f[1], f[2], f[3] };
		} else if (strcmp(f[0], "S") == 0 && nf == 7) {
			sc = realloc(sc, (nsc + 1) * sizeof *sc);
			sc[nsc++] = (struct scenario){ f[1], f[2], f[3], f[4], f[5], f[6],
						       (const struct zref *)group, nzr - group, false };
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	{	/* the zone references become pointers into the shared copy */
		struct zref *z = shared(zr, nzr * sizeof *zr);

		for (size_t i = 0; i < nsc; i++)
			sc[i].zone = z + (size_t)sc[i].zone;
	}
	{
		struct scenario *out = shared(sc, nsc * sizeof *sc);

		free(sc);
		free(zr);
		return cr_make_param_array(struct scenario, out, nsc, NULL);
	}
}

ParameterizedTest(struct scenario *s, spf_suite, rfc7208)
{
	struct zone z = { 0 };
	struct spf_query q = { .ip = s->ip, .sender = s->from, .helo = s->helo[0] ? s->helo : NULL,
			       .now = 1700000000, .lookup = zone_lookup, .ctx = &z };
	const char *got;
	char *why;

	if (s->skip)
		cr_skip_test("python3-spf (or python3-yaml) is not installed: tests/deps.sh installs it");
	for (size_t i = 0; i < s->nzone; i++)
		zone_add(&z, s->zone[i].name, zone_type(s->zone[i].type), s->zone[i].value);
	got = spf_result_str(spf_check(&q, &why));
	cr_expect(result_ok(got, s->want), "%s: got %s (%s), want %s", s->name, got, why, s->want);
	if (s->expl[0] != '\0' && strcmp(got, "fail") == 0) {
		if (strcmp(s->expl, "DEFAULT") == 0)
			cr_expect(strncmp(why, "SPF fail: ", 10) == 0, "%s: explanation %s, want the default",
				  s->name, why);
		else
			cr_expect(strcasecmp(why, s->expl) == 0, "%s: explanation \"%s\", want \"%s\"",
				  s->name, why, s->expl);
	}
	free(why);
	zone_clear(&z);
	free(z.rr);
}
