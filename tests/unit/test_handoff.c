/*
 * test_handoff.c - the composer -> parent record (sendmail/handoff.c): one table of what the parent
 * accepts and refuses, the round trip, and the ceilings both sides share.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store/envelope.h"
#include "sendmail/handoff.h"

struct parse_case {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *want;	/* the text, or NULL when refused */
	const char *why;	/* in the reason when refused; when accepted, "R" for a reason record */
};

#define S(s) s, sizeof s - 1
static const struct parse_case parse_cases[] = {
	{ S("V 5\nhello"), "hello", NULL },
	{ S("V 1\n\n"), "\n", NULL },
	{ S("V 3\na\0b"), "a", NULL },	/* (the text may hold any byte: env_parse judges it) */
	{ "", 0, NULL, "no envelope" },
	{ S("V 0\n"), NULL, "not an envelope record" },
	{ S("V 05\nhello"), NULL, "not an envelope record" },
	{ S("V -5\nhello"), NULL, "not an envelope record" },
	{ S("V +5\nhello"), NULL, "not an envelope record" },
	{ S("V  5\nhello"), NULL, "not an envelope record" },
	{ S("V 5 \nhello"), NULL, "not an envelope record" },
	{ S("V5\nhello"), NULL, "not an envelope record" },
	{ S("v 5\nhello"), NULL, "not an envelope record" },
	{ S("S 0 00\nV 5\nhello"), NULL, "not an envelope record" },	/* no signing requests any more */
	{ S("L a note\nV 5\nhello"), NULL, "not an envelope record" },	/* nor notes */
	{ S("V 5\r\nhello"), NULL, "not an envelope record" },
	{ S("V 5"), NULL, "not an envelope record" },
	{ S("V 5\nhell"), NULL, "cut short (4 of 5 bytes)" },
	{ S("V 5\nhello!"), NULL, "1 bytes after the record" },
	{ S("V 5\nhelloV 1\nx"), NULL, "5 bytes after the record" },
	/* -oem: the composer's reason, one line for the parent to mail back */
	{ S("R 13\nno recipients"), "no recipients", "R" },
	{ S("R 4\nb\xc3\xa9!"), "b\xc3\xa9!", "R" },	/* (8-bit text is the reason's own) */
	{ S("R 3\na\nb"), NULL, "control character" },
	{ S("R 3\na\rb"), NULL, "control character" },
	{ S("R 3\na\0b"), NULL, "control character" },
	{ S("R 3\na\x7f" "b"), NULL, "control character" },
	{ S("R 3\nab"), NULL, "cut short" },
	{ S("R 0\n"), NULL, "not an envelope record" },
	{ S("R 512\nx"), NULL, "reason record over 511 bytes" },
	{ S("r 1\nx"), NULL, "not an envelope record" },
	{ S("E 1\nx"), NULL, "not an envelope record" },
	{ S("R 1\nxV 1\nx"), NULL, "5 bytes after the record" },
	{ S("V 99999999999999999999\n"), NULL, "over" },
	{ S("V 1234567890123456\nx"), NULL, "over" },
};

Test(handoff, parse_table)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		struct span t = { NULL, 0 };
		enum handoff_kind k = 0;
		struct err e;
		int r;

		err_clear(&e);
		r = handoff_parse(c->in, c->len, &k, &t, &e);
		if (c->want != NULL) {
			cr_assert_eq(r, 0, "row %zu: %s", i, e.msg);
			cr_assert_eq(k, c->why != NULL ? HANDOFF_REASON : HANDOFF_ENVELOPE, "row %zu", i);
			cr_assert_eq(t.n, strlen(c->want) + (i == 2 ? 2 : 0), "row %zu", i);
			cr_assert_eq(memcmp(t.p, c->want, strlen(c->want)), 0, "row %zu", i);
		} else {
			cr_assert_eq(r, -1, "row %zu accepted", i);
			cr_assert_eq(e.code, EX_SOFTWARE, "row %zu", i);
			cr_assert_not_null(strstr(e.msg, c->why), "row %zu: %s", i, e.msg);
		}
	}
}

/* The length limit itself: HANDOFF_ENV_MAX is accepted, one more refused, on both sides. */
Test(handoff, ceiling_shared_by_both_sides)
{
	size_t n = HANDOFF_ENV_MAX;
	char *text = malloc(n + 1);
	enum handoff_kind k;
	struct buf out;
	struct span t;
	struct err e;

	cr_assert_not_null(text);
	memset(text, 'x', n + 1);
	buf_init(&out, HANDOFF_MAX);
	err_clear(&e);
	cr_assert_eq(handoff_format(HANDOFF_ENVELOPE, text, n, &out, &e), 0, "%s", e.msg);
	cr_assert_leq(out.len, (size_t)HANDOFF_MAX);
	cr_assert_eq(handoff_parse(out.data, out.len, &k, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(t.n, n);
	buf_reset(&out);
	cr_assert_eq(handoff_format(HANDOFF_ENVELOPE, text, n + 1, &out, &e), -1);
	cr_assert_eq(handoff_format(HANDOFF_ENVELOPE, text, 0, &out, &e), -1);
	/* a head claiming one byte more than the limit is refused before any text is looked at */
	cr_assert_eq(handoff_parse("V 4063233\nx", 11, &k, &t, &e), -1);
	cr_assert_eq(HANDOFF_ENV_MAX + 1, 4063233, "update the row above: HANDOFF_ENV_MAX is %d", HANDOFF_ENV_MAX);
	/* the text and the queue side's signatures fit what the spool reads back */
	cr_assert_leq((size_t)HANDOFF_ENV_MAX + LIM_SIGN_RESERVE, (size_t)LIM_ENVELOPE_FILE);
	buf_free(&out);
	free(text);
}

/* What the parent accepts formats back to the same bytes. */
Test(handoff, round_trip)
{
	static const char *const texts[] = { "x", "VERSION 1\nID 0\n", "V 5\nhello" };

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		enum handoff_kind k;
		struct buf out;
		struct span t;
		struct err e;

		buf_init(&out, HANDOFF_MAX);
		err_clear(&e);
		cr_assert_eq(handoff_format(HANDOFF_ENVELOPE, texts[i], strlen(texts[i]), &out, &e), 0);
		cr_assert_eq(handoff_parse(out.data, out.len, &k, &t, &e), 0, "%s", e.msg);
		cr_assert_eq(k, HANDOFF_ENVELOPE);
		cr_assert_eq(t.n, strlen(texts[i]));
		cr_assert_eq(memcmp(t.p, texts[i], t.n), 0);
		buf_free(&out);
	}
}

/* The reason's ceiling is one struct err message, the same on both sides; a reason the composer could
 * not send (too long, a control character, empty) is refused by the format as by the parse. */
Test(handoff, reason_ceiling_and_text)
{
	char text[HANDOFF_REASON_MAX + 1];
	enum handoff_kind k;
	struct buf out;
	struct span t;
	struct err e;

	memset(text, 'r', sizeof text);
	buf_init(&out, HANDOFF_MAX);
	err_clear(&e);
	cr_assert_eq(HANDOFF_REASON_MAX, sizeof e.msg - 1);
	cr_assert_eq(handoff_format(HANDOFF_REASON, text, HANDOFF_REASON_MAX, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(handoff_parse(out.data, out.len, &k, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(k, HANDOFF_REASON);
	cr_assert_eq(t.n, HANDOFF_REASON_MAX);
	buf_reset(&out);
	cr_assert_eq(handoff_format(HANDOFF_REASON, text, HANDOFF_REASON_MAX + 1, &out, &e), -1);
	cr_assert_eq(handoff_format(HANDOFF_REASON, "a\nb", 3, &out, &e), -1);
	cr_assert_eq(handoff_format(HANDOFF_REASON, "", 0, &out, &e), -1);
	cr_assert_eq(handoff_format((enum handoff_kind)'X', "x", 1, &out, &e), -1);
	cr_assert_eq(out.len, 0, "nothing written for a refused record");
	buf_free(&out);
}
