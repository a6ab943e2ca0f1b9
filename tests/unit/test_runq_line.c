/* test_runq_line.c - queue/run/runq_line.c: the runner <-> worker pipe records, both ways. */
#include <criterion/criterion.h>
#include <string.h>

#include "queue/run/runq_line.h"

static const struct {
	const char *in;
	int want;		/* 0 parsed, -1 refused */
	char kind;
	unsigned long msg, rcpt;
} rows[] = {
	{ "M\t0", 0, 'M', 0, 0 },
	{ "M\t512", 0, 'M', 512, 0 },
	{ "E", 0, 'E', 0, 0 },
	{ "W", 0, 'W', 0, 0 },
	{ "F\t7", 0, 'F', 7, 0 },
	{ "U\t3", 0, 'U', 3, 0 },
	{ "R\t1\t2\tS\t2.0.0\tmx.example[192.0.2.1]:25\tTLSv1.3/verified\t250 2.0.0 Ok", 0, 'R', 1, 2 },
	{ "R\t0\t0\tD\t4.4.2\tnone\tnone\t", 0, 'R', 0, 0 },	/* an empty diagnostic is a field */
	{ "R\t0\t0\tF\t5.1.1\tr\tt\tuser unknown", 0, 'R', 0, 0 },
	{ "", -1, 0, 0, 0 },
	{ "M", -1, 0, 0, 0 },			/* no index */
	{ "M\t", -1, 0, 0, 0 },
	{ "M\t01", -1, 0, 0, 0 },		/* leading zero */
	{ "M\t-1", -1, 0, 0, 0 },
	{ "M\t+1", -1, 0, 0, 0 },
	{ "M\t1x", -1, 0, 0, 0 },
	{ "M\t1000000000", -1, 0, 0, 0 },	/* RUNQ_INDEX_MAX */
	{ "M\t99999999999999999999", -1, 0, 0, 0 },
	{ "M\t1\t2", -1, 0, 0, 0 },		/* a field too many */
	{ "E\t", -1, 0, 0, 0 },
	{ "W\t1", -1, 0, 0, 0 },
	{ "X\t1", -1, 0, 0, 0 },		/* an unknown kind */
	{ "MM\t1", -1, 0, 0, 0 },
	{ "R\t1\t2\tS\t2.0.0\tr\tt", -1, 0, 0, 0 },	/* seven fields */
	{ "R\t1\t2\tS\t2.0.0\tr\tt\td\textra", -1, 0, 0, 0 },	/* a tab in the diagnostic */
	{ "R\t1\t2\tX\t2.0.0\tr\tt\td", -1, 0, 0, 0 },	/* a bad state */
	{ "R\t1\t2\tSD\t2.0.0\tr\tt\td", -1, 0, 0, 0 },
	{ "R\t1\t2\tS\t2.0.0.0.0.0.0\tr\tt\td", -1, 0, 0, 0 },	/* status over RUNQ_STATUS_MAX */
	{ "R\t1\t2\tS\t2.0.0\tr\tt\tbell\a", -1, 0, 0, 0 },	/* a control byte */
	{ "R\t1\t2\tS\t2.0.0\tr\x7f\tt\td", -1, 0, 0, 0 },
};

Test(runq_line, parse_table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct runq_line l;
		int r = runq_line_parse(rows[i].in, strlen(rows[i].in), &l);

		cr_expect_eq(r, rows[i].want, "row %zu (%s): %d", i, rows[i].in, r);
		if (r != 0)
			continue;
		cr_expect_eq((char)l.kind, rows[i].kind, "row %zu", i);
		cr_expect_eq(l.msg, rows[i].msg, "row %zu", i);
		cr_expect_eq(l.rcpt, rows[i].rcpt, "row %zu", i);
	}
}

/* every accepted line formats back to itself (with its newline) */
Test(runq_line, round_trip)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct runq_line l;
		char out[RUNQ_LINE_MAX];
		int n;

		if (rows[i].want != 0)
			continue;
		cr_assert_eq(runq_line_parse(rows[i].in, strlen(rows[i].in), &l), 0);
		n = runq_line_format(&l, out, sizeof out);
		cr_assert_gt(n, 0, "row %zu", i);
		cr_expect_eq((size_t)n, strlen(rows[i].in) + 1, "row %zu", i);
		cr_expect(memcmp(out, rows[i].in, strlen(rows[i].in)) == 0 && out[n - 1] == '\n', "row %zu: %s", i, out);
	}
}

Test(runq_line, fields_parsed)
{
	struct runq_line l;
	const char *in = "R\t4\t9\tD\t4.5.0\tmx[1.2.3.4]:25\tnone\tprotocol error";

	cr_assert_eq(runq_line_parse(in, strlen(in), &l), 0);
	cr_expect_eq(l.state, 'D');
	cr_expect_str_eq(l.status, "4.5.0");
	cr_expect_str_eq(l.relay, "mx[1.2.3.4]:25");
	cr_expect_str_eq(l.tls, "none");
	cr_expect_str_eq(l.diag, "protocol error");
}

/* what the worker would send but the runner could not read back is refused at the source */
Test(runq_line, format_refuses)
{
	struct runq_line l;
	char out[RUNQ_LINE_MAX];

	memset(&l, 0, sizeof l);
	l.kind = RUNQ_L_RESULT;
	l.state = 'S';
	strcpy(l.diag, "a\tb");
	cr_expect_eq(runq_line_format(&l, out, sizeof out), -1, "a tab in a field");
	strcpy(l.diag, "ok");
	l.state = 'U';
	cr_expect_eq(runq_line_format(&l, out, sizeof out), -1, "a state other than S, D, F");
	l.state = 'S';
	l.msg = RUNQ_INDEX_MAX;
	cr_expect_eq(runq_line_format(&l, out, sizeof out), -1, "an index out of range");
	l.msg = 0;
	cr_expect_gt(runq_line_format(&l, out, sizeof out), 0);
	cr_expect_eq(runq_line_format(&l, out, 5), -1, "a buffer too small");
	l.kind = (enum runq_kind)'Z';
	cr_expect_eq(runq_line_format(&l, out, sizeof out), -1, "an unknown kind");
}

/* bytes after a NUL are still the line's: a NUL state, or a NUL in a field, is refused */
Test(runq_line, nul_bytes)
{
	static const char nul_state[] = "R\t1\t0\t\0\t\t\t\tS.";	/* found by the fuzzer */
	static const char nul_diag[] = "R\t1\t0\tS\t2.0.0\tr\tt\tok\0more";
	static const char nul_index[] = "M\t1\0";
	struct runq_line l;

	cr_expect_eq(runq_line_parse(nul_state, sizeof nul_state - 1, &l), -1);
	cr_expect_eq(runq_line_parse(nul_diag, sizeof nul_diag - 1, &l), -1);
	cr_expect_eq(runq_line_parse(nul_index, sizeof nul_index - 1, &l), -1);
}
