/* test_smtpd.c - the path of MAIL FROM / RCPT TO in sendmail -bs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sendmail/smtpd.h"

Test(smtpd, path_parse)
{
	static const struct {
		const char *in, *want;	/* want NULL: refused */
	} rows[] = {
		{ "<a@b.c>", "a@b.c" },
		{ " <a@b.c>", "a@b.c" },
		{ "<a@b.c> SIZE=100", "a@b.c" },
		{ "<>", "" },
		{ "<a@b.c>BODY=8BITMIME", NULL },	/* parameters need a space */
		{ "a@b.c", NULL },			/* no brackets */
		{ "<a@b.c", NULL },
		{ "<a @b.c>", NULL },
		{ "<a\x01@b.c>", NULL },
		{ "<@relay:a@b.c>", NULL },		/* source route */
		{ "", NULL },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *out = NULL;
		int r = smtpd_path_parse(rows[i].in, strlen(rows[i].in), &out);

		if (rows[i].want == NULL) {
			cr_expect_eq(r, -1, "row %zu: %s accepted as %s", i, rows[i].in, out ? out : "");
		} else {
			cr_expect_eq(r, 0, "row %zu: %s refused", i, rows[i].in);
			if (r == 0)
				cr_expect_str_eq(out, rows[i].want, "row %zu", i);
		}
		free(out);
	}
}

Test(smtpd, path_limit)
{
	char in[400], *out = NULL;

	memset(in, 'a', sizeof in);
	in[0] = '<';
	in[258] = '>';	/* 257 octets inside: over RFC 5321's 256 */
	cr_expect_eq(smtpd_path_parse(in, 259, &out), -1);
	free(out);
	in[257] = '>';	/* 256 */
	out = NULL;
	cr_expect_eq(smtpd_path_parse(in, 258, &out), 0);
	free(out);
}

/* smtpd_data_line: only "." with CRLF ends the data normally; NUL, over-long lines and bare LF refuse
 * the message. */
Test(smtpd, data_line_table)
{
	static const struct {
		const char *in;
		size_t n;
		bool crlf, over;
		enum smtpd_line want;
	} rows[] = {
		{ "text", 4, true, false, SMTPD_TEXT },
		{ "", 0, true, false, SMTPD_TEXT },
		{ ".", 1, true, false, SMTPD_END },
		{ "..", 2, true, false, SMTPD_TEXT },		/* a stuffed dot */
		{ ". ", 2, true, false, SMTPD_TEXT },
		{ ".", 1, false, false, SMTPD_END_BARE_LF },	/* "\n.\n": smuggling's end marker */
		{ "text", 4, false, false, SMTPD_BARE_LF },
		{ "a\0b", 3, true, false, SMTPD_NUL },
		{ "\0", 1, true, false, SMTPD_NUL },
		{ "\0", 1, false, false, SMTPD_BARE_LF },	/* a bare LF wins: the session must end */
		{ "x", 1, true, true, SMTPD_TOO_LONG },
		{ ".", 1, true, true, SMTPD_TOO_LONG },
		{ ".", 1, false, true, SMTPD_BARE_LF },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(smtpd_data_line(rows[i].in, rows[i].n, rows[i].crlf, rows[i].over), rows[i].want,
			     "row %zu", i);
}
