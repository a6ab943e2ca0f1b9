/* test_check_report.c - postern check's command line, exit status and JSON strings. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "conf/check_report.h"

Test(check_report, args)
{
	static const struct {
		const char *argv[6];
		int want;		/* 0 or EX_USAGE */
		bool json;
		const char *domain;
		const char *only[3];	/* checks that run */
		const char *skipped;	/* a check that does not */
	} rows[] = {
		{ { "check" }, 0, false, NULL, { "spf", "dkim", "tls" }, NULL },
		{ { "check", "--json" }, 0, true, NULL, { "spf" }, NULL },
		{ { "check", "--json", "example.org" }, 0, true, "example.org", { "dmarc" }, NULL },
		{ { "check", "example.org" }, 0, false, "example.org", { "dmarc" }, NULL },
		{ { "check", "--only", "spf", "example.org" }, 0, false, "example.org", { "spf" }, "dkim" },
		{ { "check", "--only", "spf,dkim" }, 0, false, NULL, { "spf", "dkim" }, "dmarc" },
		{ { "check", "--only=ptr", "--only", "a" }, 0, false, NULL, { "ptr", "a" }, "mx" },
		{ { "check", "--", "-odd.example" }, 0, false, "-odd.example", { "spf" }, NULL },
		{ { "check", "--only", "spff" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--only" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--only", "" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--jsn" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "-j" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "a.example", "b.example" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "a.example", "--json" }, EX_USAGE, false, NULL, { NULL }, NULL },
		/* send runs only with --send; its address is an address, never an option */
		{ { "check", "--only", "send" }, 0, false, NULL, { NULL }, "send" },
		{ { "check" }, 0, false, NULL, { "port25", "smarthost" }, "send" },
		{ { "check", "--send", "t@example.org" }, 0, false, NULL, { "send", "spf" }, NULL },
		{ { "check", "--send=t@example.org", "--only", "send", "a.example" }, 0, false, "a.example", { "send" }, "spf" },
		{ { "check", "--send" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--send", "--json" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--send", "nobody" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--send", "a b@example.org" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--send", "a@" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--send", "<a@example.org>" }, EX_USAGE, false, NULL, { NULL }, NULL },
		{ { "check", "--send", "a@b.org,c@d.org" }, EX_USAGE, false, NULL, { NULL }, NULL },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct check_report *r = calloc(1, sizeof *r);
		const char *domain = NULL;
		struct err e;
		int argc = 0;

		while (rows[i].argv[argc] != NULL)
			argc++;
		err_clear(&e);
		int rc = check_args(argc, rows[i].argv, r, &domain, &e);
		if (rows[i].want == 0) {
			cr_expect_eq(rc, 0, "row %zu: %s", i, e.msg);
			cr_expect_eq(r->json, rows[i].json, "row %zu", i);
			if (rows[i].domain == NULL)
				cr_expect_null(domain, "row %zu", i);
			else
				cr_expect_str_eq(domain, rows[i].domain, "row %zu", i);
			for (size_t k = 0; k < 3 && rows[i].only[k] != NULL; k++)
				cr_expect(check_wanted(r, rows[i].only[k]), "row %zu: %s", i, rows[i].only[k]);
			if (rows[i].skipped != NULL)
				cr_expect(!check_wanted(r, rows[i].skipped), "row %zu: %s", i, rows[i].skipped);
		} else {
			cr_expect_eq(rc, -1, "row %zu", i);
			cr_expect_eq(e.code, rows[i].want, "row %zu", i);
		}
		free(r);
	}
}

Test(check_report, exit_status)
{
	static const struct {
		size_t count[4];	/* ok, warn, fail, unknown */
		int want;
	} rows[] = {
		{ { 5, 0, 0, 0 }, EX_OK },
		{ { 5, 3, 0, 0 }, EX_OK },	/* warnings alone do not fail */
		{ { 0, 0, 0, 0 }, EX_OK },
		{ { 5, 0, 1, 0 }, CHECK_EXIT_FAILED },
		{ { 5, 0, 1, 4 }, CHECK_EXIT_FAILED },	/* a failure wins over "could not check" */
		{ { 5, 2, 0, 1 }, EX_TEMPFAIL },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(check_exit(rows[i].count), rows[i].want, "row %zu", i);
}

static char *report_text(struct check_report *r)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	cr_assert_not_null(f);
	check_print(r, "mail.example.org", f);
	fclose(f);
	return s;
}

Test(check_report, print)
{
	struct check_report *r = calloc(1, sizeof *r);
	char *s;

	r->domain = "ex\"ample.org";
	check_add(r, "spf", CHECK_FAIL, "example.org", "publish one", "record \"%s\"", "v=spf1 \033[2J -all");
	check_add(r, "dkim", CHECK_OK, "sel._domainkey.example.org", NULL, "matches");
	check_add(r, "ptr", CHECK_UNKNOWN, "192.0.2.1", NULL, "DNS did not answer");
	s = report_text(r);
	cr_expect_str_eq(s, "FAIL  spf      example.org: record \"v=spf1 \\033[2J -all\"; fix: publish one\n"
	    "ok    dkim     sel._domainkey.example.org: matches\n"
	    "??    ptr      192.0.2.1: DNS did not answer\n"
	    "1 ok, 0 warnings, 1 failures, 1 not checked\n");
	free(s);
	r->json = true;
	s = report_text(r);
	cr_expect_str_eq(s, "{\"hostname\":\"mail.example.org\",\"domain\":\"ex\\\"ample.org\",\"checks\":["
	    "{\"id\":\"spf\",\"subject\":\"example.org\",\"status\":\"fail\","
	    "\"seen\":\"record \\\"v=spf1 \\u001b[2J -all\\\"\",\"fix\":\"publish one\"},"
	    "{\"id\":\"dkim\",\"subject\":\"sel._domainkey.example.org\",\"status\":\"ok\",\"seen\":\"matches\",\"fix\":\"\"},"
	    "{\"id\":\"ptr\",\"subject\":\"192.0.2.1\",\"status\":\"unknown\",\"seen\":\"DNS did not answer\",\"fix\":\"\"}]}\n");
	free(s);
	check_report_free(r);
	free(r);
}

Test(check_report, only_drops_findings)
{
	struct check_report *r = calloc(1, sizeof *r);
	const char *argv[] = { "check", "--only", "dkim" }, *domain;
	struct err e;

	cr_assert_eq(check_args(3, argv, r, &domain, &e), 0);
	check_add(r, "spf", CHECK_FAIL, "x", NULL, "not asked for");
	check_add(r, "dkim", CHECK_OK, "x", NULL, "asked for");
	cr_expect_eq(r->n, 1);
	cr_expect_eq(r->count[CHECK_FAIL], 0);
	cr_expect_eq(check_exit(r->count), EX_OK);
	check_report_free(r);
	free(r);
}
