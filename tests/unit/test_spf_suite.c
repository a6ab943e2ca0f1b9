/* test_spf_suite.c - the openspf RFC 7208 test suite (rfc7208-tests.yml, shipped by Debian's
 * python3-spf) against spf_check: tests/unit/spf_suite.py flattens each scenario group's zone data
 * and scenarios; the zone is served by spfzone.h's in-memory resolver (the evaluator's lookup
 * callback), so ~200 scenarios take milliseconds. A scenario passes when the result is the
 * suite's (or one of its alternatives) and, where the suite names an explanation, the
 * explanation is it ("DEFAULT": the default one; compared ignoring case, as v-macro-ip6 wants
 * upper-case nibbles where RFC 7208 7.4's own example has lower case). Run from the source tree (make check does). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/spf.h"
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

Test(spf_suite, rfc7208)
{
	static char line[70000];
	struct zone z = { 0 };
	int pass = 0, fail = 0;
	FILE *p;

	if (access("/usr/share/doc/python3-spf/rfc7208-tests.yml.gz", R_OK) != 0)
		cr_skip_test("python3-spf is not installed (tests/deps.sh installs it)");
	p = popen("python3 tests/unit/spf_suite.py", "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof line, p) != NULL) {
		char *f[8];
		size_t n = split(line, f, 8);

		if (strcmp(f[0], "C") == 0) {
			zone_clear(&z);
		} else if (strcmp(f[0], "Z") == 0 && n == 4) {
			zone_add(&z, f[1], zone_type(f[2]), f[3]);
		} else if (strcmp(f[0], "S") == 0 && n == 7) {
			struct spf_query q = { .ip = f[2], .sender = f[3], .helo = f[4][0] ? f[4] : NULL,
					       .now = 1700000000, .lookup = zone_lookup, .ctx = &z };
			char *why;
			const char *got = spf_result_str(spf_check(&q, &why));
			bool ok = result_ok(got, f[5]);

			if (ok && f[6][0] != '\0' && strcmp(got, "fail") == 0)
				ok = strcmp(f[6], "DEFAULT") == 0 ? strncmp(why, "SPF fail: ", 10) == 0 :
								    strcasecmp(f[6], why) == 0;
			if (ok) {
				pass++;
			} else {
				fail++;
				cr_log_error("FAIL %s: got %s (%s), want %s%s%s", f[1], got, why ? why : "",
					     f[5], f[6][0] ? " / " : "", f[6]);
			}
			free(why);
		} else {
			cr_assert_fail("spf_suite.py: bad line %s", f[0]);
		}
	}
	cr_assert_eq(pclose(p), 0, "spf_suite.py failed (python3-yaml missing?)");
	zone_clear(&z);
	free(z.rr);
	fprintf(stderr, "spf: %d passed, %d failed\n", pass, fail);
	cr_assert_gt(pass, 150);
	cr_expect_eq(fail, 0, "%d RFC 7208 scenarios failed", fail);
}
