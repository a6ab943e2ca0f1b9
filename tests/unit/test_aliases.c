/* test_aliases.c - conf/aliases.c: syntax, forbidden targets, expansion (loops, depth, dupes), check. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/aliases.h"
#include "lib/limits.h"

struct row {
	const char *file;	/* the aliases file */
	size_t len;	/* 0: strlen(file) */
	const char *name;	/* expanded, when the parse is good */
	const char *want;	/* expansion joined with ",", or the exact error message */
	int want_err;	/* 0 ok; 1 parse error; 2 expansion error */
};

static const struct row rows[] = {
	/* basic entries; names are case-insensitive; domains lower-cased, local parts kept */
	{ "root: admin@Example.ORG\n", 0, "root", "admin@example.org", 0 },
	{ "Root: Admin@example.org\n", 0, "ROOT", "Admin@example.org", 0 },
	{ "root: a@x.org, b@x.org,c@x.org\n", 0, "root", "a@x.org,b@x.org,c@x.org", 0 },
	{ "root: <a@x.org>, < b@x.org >\n", 0, "root", "a@x.org,b@x.org", 0 },
	{ "root: a@x.org,\n", 0, "root", "a@x.org", 0 },
	{ "root: a@x.org\n", 0, "nobody", "", 0 },
	{ "root: a@x.org\n", 0, "root@x.org", "", 0 },
	{ "", 0, "root", "", 0 },
	{ "# only a comment\n\n   \n", 0, "root", "", 0 },
	/* continuation lines, comments in between, CRLF, no final newline */
	{ "root: a@x.org,\n  b@x.org,\n\tc@x.org\nother: d@x.org\n", 0, "root", "a@x.org,b@x.org,c@x.org", 0 },
	{ "root: a@x.org,\n# note\n  b@x.org\n", 0, "root", "a@x.org,b@x.org", 0 },
	{ "root: a@x.org,\r\n b@x.org\r\n", 0, "root", "a@x.org,b@x.org", 0 },
	{ "root: a@x.org", 0, "root", "a@x.org", 0 },
	/* bare names: other aliases or local names left for the caller */
	{ "root: admin\nadmin: ops@x.org, bob\n", 0, "root", "ops@x.org,bob", 0 },
	{ "root: Admin\nadmin: ops@x.org\n", 0, "root", "ops@x.org", 0 },
	{ "postmaster: root\nroot: a@x.org\n", 0, "postmaster", "a@x.org", 0 },
	/* duplicates removed, order of first appearance kept; a shared alias expands once */
	{ "a: x@y.org, b, c, x@y.org\nb: z@y.org, x@y.org\nc: b, z@y.org\n", 0, "a", "x@y.org,z@y.org", 0 },
	/* depth: 10 aliases in a chain are fine, 11 are not */
	{ "a1: a2\na2: a3\na3: a4\na4: a5\na5: a6\na6: a7\na7: a8\na8: a9\na9: a10\na10: end@x.org\n", 0, "a1",
	  "end@x.org", 0 },
	{ "a1: a2\na2: a3\na3: a4\na4: a5\na5: a6\na6: a7\na7: a8\na8: a9\na9: a10\na10: a11\na11: end@x.org\n", 0,
	  "a1", "al:1: alias \"a1\": more than 10 aliases deep at \"a11\"", 2 },
	/* the long chain reached again after a short path is still too deep */
	{ "top: a1, a0\na0: a1\na1: a2\na2: a3\na3: a4\na4: a5\na5: a6\na6: a7\na7: a8\na8: a9\na9: end@x.org\n", 0,
	  "top", "al:1: alias \"top\": more than 10 aliases deep at \"a1\"", 2 },
	/* loops */
	{ "a: b\nb: a\n", 0, "a", "al:1: alias \"a\": loop through \"a\"", 2 },
	{ "a: a\n", 0, "a", "al:1: alias \"a\": loop through \"a\"", 2 },
	{ "x: y@z.org\na: b, x\nb: c\nc: b\n", 0, "a", "al:2: alias \"a\": loop through \"b\"", 2 },
	{ "x: y@z.org\na: b, x\nb: c\nc: b\n", 0, "x", "y@z.org", 0 },
	/* forbidden targets */
	{ "root: |/usr/bin/procmail\n", 0, NULL, "al:1: \"|/usr/bin/procmail\": delivery to a command is not supported", 1 },
	{ "root: a@x.org, \"|cat > /tmp/x\"\n", 0, NULL,
	  "al:1: \"\"|cat > /tmp/x\"\": delivery to a command is not supported", 1 },
	{ "root: /var/mail/root\n", 0, NULL, "al:1: \"/var/mail/root\": delivery to a file is not supported", 1 },
	{ "root: :include:/etc/list\n", 0, NULL, "al:1: \":include:/etc/list\": :include: is not supported", 1 },
	{ "root: :INCLUDE:/etc/list\n", 0, NULL, "al:1: \":INCLUDE:/etc/list\": :include: is not supported", 1 },
	{ "root: \"a b\"@x.org\n", 0, NULL, "al:1: \"\"a b\"@x.org\": quoted addresses are not supported", 1 },
	/* syntax errors */
	{ "root a@x.org\n", 0, NULL, "al:1: \"root a@x.org\": want name: address, ...", 1 },
	{ " a@x.org\n", 0, NULL, "al:1: continuation line without an alias before it", 1 },
	{ "root:\n", 0, NULL, "al:1: alias \"root\" has no addresses", 1 },
	{ "root: , ,\n", 0, NULL, "al:1: alias \"root\" has no addresses", 1 },
	{ ": a@x.org\n", 0, NULL, "al:1: bad alias name \"\"", 1 },
	{ "ro ot: a@x.org\n", 0, NULL, "al:1: bad alias name \"ro ot\"", 1 },
	{ "r\x1bot: a@x.org\n", 0, NULL, "al:1: bad alias name \"r\\033ot\"", 1 },
	{ "root: a@x.org\nROOT: b@x.org\n", 0, NULL, "al:2: alias \"root\" given twice (first on line 1)", 1 },
	{ "root: a@x.org b@x.org\n", 0, NULL, "al:1: \"a@x.org b@x.org\": space or control character in an address", 1 },
	{ "root: a@x.org\rRCPT TO:<evil@x.org>\n", 0, NULL,
	  "al:1: \"a@x.org\\rRCPT TO:<evil@x.org>\": space or control character in an address", 1 },
	{ "root: a@x.org\0b\n", 22, NULL, "al:1: NUL byte in the file", 1 },
	{ "ok: a@x.org\nroot: a@\xc3\xa9.org\n", 0, NULL, "al:2: \"a@\\303\\251.org\": space or control character in an address", 1 },
	{ "root: a@@x.org\n", 0, NULL, "al:1: \"a@@x.org\": bad address (want local@domain)", 1 },
	{ "root: @x.org\n", 0, NULL, "al:1: \"@x.org\": bad address (want local@domain)", 1 },
	{ "root: a@\n", 0, NULL, "al:1: \"a@\": bad address (want local@domain)", 1 },
	{ "root: a@x_y.org\n", 0, NULL, "al:1: \"a@x_y.org\": bad address (want local@domain)", 1 },
	{ "root: a..b@x.org\n", 0, NULL, "al:1: \"a..b@x.org\": bad address (want local@domain)", 1 },
	{ "root: .a\n", 0, NULL, "al:1: \".a\": bad local name", 1 },
	{ "root: <>\n", 0, NULL, "al:1: \"<>\": bad address", 1 },
	{ "root: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.org\n", 0, NULL,
	  "al:1: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.org\": bad address (want local@domain)",
	  1 },
};

/* joined - "a,b,c" */
static void joined(char **v, size_t n, char *out, size_t sz)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int r = snprintf(out + used, sz - used, "%s%s", i ? "," : "", v[i]);
		cr_assert(r >= 0 && (size_t)r < sz - used);
		used += (size_t)r;
	}
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

Test(aliases, table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct aliases *a = NULL;
		struct err e = { 0 };
		char **v = NULL, got[1024];
		size_t n = 99;
		int rc = aliases_parse(r->file, r->len ? r->len : strlen(r->file), "al", &a, &e);

		if (r->want_err == 1) {
			cr_expect_eq(rc, -1, "row %zu: want a parse error", i);
			cr_expect_null(a, "row %zu", i);
			cr_expect_eq(e.code, EX_CONFIG, "row %zu", i);
			cr_expect_str_eq(e.msg, r->want, "row %zu: got [%s] want [%s]", i, e.msg, r->want);
			continue;
		}
		cr_assert_eq(rc, 0, "row %zu: %s", i, e.msg);
		rc = aliases_expand(a, r->name, &v, &n, &e);
		if (r->want_err == 2) {
			cr_expect_eq(rc, -1, "row %zu: want an expansion error", i);
			cr_expect_eq(e.code, EX_CONFIG, "row %zu", i);
			cr_expect_str_eq(e.msg, r->want, "row %zu: got [%s] want [%s]", i, e.msg, r->want);
			cr_expect_null(v);
			cr_expect_eq(n, 0);
		} else {
			cr_expect_eq(rc, 0, "row %zu: %s", i, e.msg);
			joined(v, n, got, sizeof got);
			cr_expect_str_eq(got, r->want, "row %zu: got [%s] want [%s]", i, got, r->want);
			free_list(v, n);
		}
		aliases_free(a);
	}
}

Test(aliases, check)
{
	struct aliases *a;
	struct err e = { 0 };
	struct buf rep;
	const char *good = "root: admin\nadmin: a@x.org, b\npostmaster: root\n";
	const char *loop = "ok: a@x.org\nz1: z2\nz2: z3\nz3: z1\n";

	buf_init(&rep, 100);
	cr_assert_eq(aliases_parse(good, strlen(good), "al", &a, &e), 0, "%s", e.msg);
	cr_expect_eq(aliases_count(a), 3);
	cr_expect_eq(aliases_check(a, &rep, &e), 0, "%s", e.msg);
	cr_expect_str_eq(buf_str(&rep), "3 aliases");
	aliases_free(a);

	buf_reset(&rep);
	cr_assert_eq(aliases_parse(loop, strlen(loop), "al", &a, &e), 0, "%s", e.msg);
	cr_expect_eq(aliases_check(a, &rep, &e), -1);
	cr_expect_str_eq(e.msg, "al:2: alias \"z1\": loop through \"z1\"");
	cr_expect_str_eq(buf_str(&rep), "");
	aliases_free(a);

	cr_expect_eq(aliases_count(NULL), 0);
	aliases_free(NULL);
	buf_free(&rep);
}

/* a wide, deep diamond: naive expansion would take 20^9 steps; one walk takes a few hundred */
Test(aliases, diamond_is_fast, .timeout = 5)
{
	struct buf f;
	struct aliases *a;
	struct err e = { 0 };
	char **v;
	size_t n;

	buf_init(&f, 1 << 20);
	for (int l = 0; l < 9; l++) {
		for (int k = 0; k < 20; k++) {
			cr_assert_eq(buf_printf(&f, "l%dn%d: ", l, k), 0);
			for (int j = 0; j < 20; j++)
				cr_assert_eq(buf_printf(&f, "%sl%dn%d", j ? ", " : "", l + 1, j), 0);
			cr_assert_eq(buf_adds(&f, "\n"), 0);
		}
	}
	for (int k = 0; k < 20; k++)
		cr_assert_eq(buf_printf(&f, "l9n%d: u%d@x.org\n", k, k), 0);
	cr_assert_eq(aliases_parse(buf_str(&f), f.len, "al", &a, &e), 0, "%s", e.msg);
	cr_expect_eq(aliases_expand(a, "l0n0", &v, &n, &e), 0, "%s", e.msg);
	cr_expect_eq(n, 20);
	free_list(v, n);
	aliases_free(a);
	buf_free(&f);
}

Test(aliases, load)
{
	char dir[] = "/tmp/test_aliases.XXXXXX", p[256];
	struct aliases *a;
	struct err e = { 0 };
	FILE *f;

	cr_expect_eq(aliases_load("/nonexistent/aliases", &a, &e), 0, "a missing file is an empty table");
	cr_expect_eq(aliases_count(a), 0);
	aliases_free(a);
	cr_expect_eq(aliases_load("/tmp", &a, &e), -1);
	cr_expect_str_eq(e.msg, "/tmp: not a regular file");

	cr_assert_not_null(mkdtemp(dir));
	cr_assert(snprintf(p, sizeof p, "%s/aliases", dir) < (int)sizeof p);
	cr_assert_not_null(f = fopen(p, "w"));
	fputs("root: a@x.org\nbad: |cmd\n", f);
	fclose(f);
	cr_expect_eq(aliases_load(p, &a, &e), -1);
	{
		char want[300];
		cr_assert(snprintf(want, sizeof want, "%s:2: \"|cmd\": delivery to a command is not supported", p) <
			(int)sizeof want);
		cr_expect_str_eq(e.msg, want);
	}
	cr_assert_not_null(f = fopen(p, "w"));
	fputs("root: a@x.org\n", f);
	fclose(f);
	cr_expect_eq(aliases_load(p, &a, &e), 0, "%s", e.msg);
	cr_expect_eq(aliases_count(a), 1);
	aliases_free(a);
	unlink(p);
	rmdir(dir);
}
