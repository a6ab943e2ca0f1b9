/* test_mime.c - MIME completion (sendmail/mime.c): UTF-8 validation, the body scan, the decision, the
 * header it produces, the quoted-printable and folding encoders, RFC 2047 display names. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/limits.h"
#include "lib/mime.h"

#define L(s) s, sizeof(s) - 1

struct utf8_row {
	const char *in;
	size_t len;
	bool valid;
};

static const struct utf8_row utf8_rows[] = {
	{ L(""), true },
	{ L("plain"), true },
	{ L("Gr\xc3\xbc\xc3\x9f" "e"), true },
	{ L("\xe2\x82\xac \xf0\x9f\x98\x80"), true },
	{ L("\xef\xbf\xbf"), true },
	{ L("\xf4\x8f\xbf\xbf"), true },		/* U+10FFFF */
	{ L("caf\xe9"), false },			/* Latin-1 */
	{ L("\xc3"), false },				/* cut short */
	{ L("\xc3 x"), false },
	{ L("\xc0\xaf"), false },			/* overlong */
	{ L("\xe0\x80\xaf"), false },			/* overlong */
	{ L("\xed\xa0\x80"), false },			/* surrogate */
	{ L("\xf4\x90\x80\x80"), false },		/* over U+10FFFF */
	{ L("\xf5\x80\x80\x80"), false },
	{ L("\x80"), false },				/* stray continuation */
	{ L("\xff"), false },
};

Test(mime, utf8_table)
{
	for (size_t i = 0; i < sizeof utf8_rows / sizeof utf8_rows[0]; i++)
		cr_expect_eq(mime_utf8_valid(utf8_rows[i].in, utf8_rows[i].len), utf8_rows[i].valid, "row %zu", i);
}

/* the scan gives the same answer whatever the chunks */
Test(mime, scan_chunks)
{
	const char body[] = "ab\r\nGr\xc3\xbc\xc3\x9f" "e and more text\r\n\r\nx\r\n";
	size_t n = sizeof body - 1;

	for (size_t step = 1; step <= n; step++) {
		struct mime_scan s;

		mime_scan_init(&s);
		for (size_t i = 0; i < n; i += step)
			mime_scan_feed(&s, body + i, i + step <= n ? step : n - i);
		mime_scan_end(&s);
		cr_assert(s.bit8 && !s.utf8_bad, "step %zu", step);
		cr_assert_eq(s.longest, 21, "step %zu: longest %zu", step, s.longest);
	}
}

Test(mime, scan_unterminated_sequence_at_end)
{
	struct mime_scan s;

	mime_scan_init(&s);
	mime_scan_feed(&s, "ok\xe2\x82", 5);
	mime_scan_end(&s);
	cr_assert(s.utf8_bad);
	cr_assert_eq(s.longest, 5);
}

struct decide_row {
	const char *hdr;	/* the caller's fields */
	bool bit8, bad;
	size_t longest;
	bool version;
	const char *charset, *cte;
	enum mime_body body;
};

static const struct decide_row decide_rows[] = {
	/* ASCII, short lines: nothing */
	{ "Subject: x\r\n", false, false, 80, false, NULL, NULL, MIME_BODY_KEEP },
	/* 8-bit without MIME: completed (cron's UTF-8 output, mail -s) */
	{ "Subject: x\r\n", true, false, 80, true, "UTF-8", "8bit", MIME_BODY_KEEP },
	{ "Subject: x\r\n", true, true, 80, true, "unknown-8bit", "8bit", MIME_BODY_KEEP },
	/* its own MIME: left alone */
	{ "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
	  true, false, 80, false, NULL, NULL, MIME_BODY_KEEP },
	/* Content-Type but no encoding: "8bit" added, and MIME-Version with it */
	{ "Content-Type: text/plain; charset=utf-8\r\n", true, false, 80, true, NULL, "8bit", MIME_BODY_KEEP },
	/* "7bit" on 8-bit octets is replaced */
	{ "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n",
	  true, false, 80, false, NULL, "8bit", MIME_BODY_KEEP },
	/* a long line: quoted-printable */
	{ "Subject: x\r\n", false, false, 999, true, "us-ascii", "quoted-printable", MIME_BODY_QP },
	{ "Subject: x\r\n", true, false, 1400, true, "UTF-8", "quoted-printable", MIME_BODY_QP },
	{ "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
	  true, false, 1400, false, NULL, "quoted-printable", MIME_BODY_QP },
	{ "Content-Type: text/html\r\n", false, false, 5000, true, NULL, "quoted-printable", MIME_BODY_QP },
	{ "Content-Transfer-Encoding: BINARY\r\n", false, false, 5000, true, "us-ascii", "quoted-printable",
	  MIME_BODY_QP },
	/* exactly LIM_LINE is still a legal line */
	{ "Subject: x\r\n", false, false, LIM_LINE, false, NULL, NULL, MIME_BODY_KEEP },
	/* where re-encoding is impossible: folded */
	{ "MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n", false, false,
	  2000, false, NULL, NULL, MIME_BODY_FOLD },
	{ "MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: Quoted-Printable\r\n",
	  false, false, 2000, false, NULL, NULL, MIME_BODY_FOLD_QP },
	{ "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n", true, false, 2000, false,
	  NULL, NULL, MIME_BODY_FOLD },
	{ "MIME-Version: 1.0\r\nContent-Type: (comment) Multipart/mixed; boundary=b\r\n", false, false, 2000,
	  false, NULL, NULL, MIME_BODY_FOLD },
	{ "MIME-Version: 1.0\r\nContent-Type:\r\n message/rfc822\r\n", true, false, 80, false, NULL, NULL,
	  MIME_BODY_KEEP },
	{ "Content-Transfer-Encoding: x-uuencode\r\n", false, false, 2000, false, NULL, NULL, MIME_BODY_FOLD },
};

Test(mime, decide_table)
{
	for (size_t i = 0; i < sizeof decide_rows / sizeof decide_rows[0]; i++) {
		const struct decide_row *r = &decide_rows[i];
		struct hdr_field *f = NULL;
		struct mime_head h;
		struct mime_scan s;
		struct mime_plan p;
		struct err e;
		size_t nf = 0;

		cr_assert_eq(hdr_parse(r->hdr, strlen(r->hdr), &f, &nf, &e), 0, "row %zu: %s", i, e.msg);
		mime_head_get(f, nf, &h);
		mime_scan_init(&s);
		s.bit8 = r->bit8;
		s.utf8_bad = r->bad;
		s.longest = r->longest;
		mime_decide(&h, &s, &p);
		cr_expect_eq(p.add_version, r->version, "row %zu: add_version", i);
		cr_expect_str_eq(p.charset ? p.charset : "-", r->charset ? r->charset : "-", "row %zu", i);
		cr_expect_str_eq(p.cte ? p.cte : "-", r->cte ? r->cte : "-", "row %zu", i);
		cr_expect_eq(p.body, r->body, "row %zu: body %d", i, p.body);
		cr_expect_eq(mime_plan_header_changes(&p), r->version || r->charset || r->cte, "row %zu", i);
		free(f);
	}
}

Test(mime, plan_header_replaces_cte)
{
	const char *in = "Subject: x\r\nContent-Transfer-Encoding: 8bit\r\nTo: a@b\r\n";
	struct mime_plan p = { true, "UTF-8", "quoted-printable", MIME_BODY_QP };
	struct hdr_field *f = NULL;
	struct err e;
	struct buf out;
	size_t nf;

	cr_assert_eq(hdr_parse(in, strlen(in), &f, &nf, &e), 0);
	buf_init(&out, 4096);
	cr_assert_eq(mime_plan_header(&p, f, nf, &out), 0);
	cr_assert_str_eq(buf_str(&out), "Subject: x\r\nTo: a@b\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	buf_free(&out);
	buf_init(&out, 40);	/* the ceiling: out unchanged */
	cr_assert_eq(buf_adds(&out, "keep"), 0);
	cr_assert_eq(mime_plan_header(&p, f, nf, &out), -1);
	cr_assert_str_eq(buf_str(&out), "keep");
	buf_free(&out);
	free(f);
}

/* encode - in[0..n) through the encoder in chunks of `step`. */
static char *encode(enum mime_body mode, const char *in, size_t n, size_t step, size_t *outlen)
{
	struct mime_enc z;
	struct buf out;

	buf_init(&out, MIME_ENC_GROWTH * n + MIME_ENC_SLACK * (n / step + 2));
	mime_enc_init(&z, mode);
	for (size_t i = 0; i < n; i += step)
		cr_assert_eq(mime_enc_feed(&z, in + i, i + step <= n ? step : n - i, &out), 0);
	cr_assert_eq(mime_enc_end(&z, &out), 0);
	*outlen = out.len;
	return buf_take(&out);
}

struct qp_row {
	const char *in, *want;
};

static const struct qp_row qp_rows[] = {
	{ "plain text\r\n", "plain text\r\n" },
	{ "a=b\r\n", "a=3Db\r\n" },
	{ "Gr\xc3\xbc\xc3\x9f" "e\r\n", "Gr=C3=BC=C3=9Fe\r\n" },
	{ "trailing space \r\nand tab\t\r\n", "trailing space=20\r\nand tab=09\r\n" },
	{ "two  \r\n", "two =20\r\n" },
	{ "inner space kept\r\n", "inner space kept\r\n" },
	{ "end space ", "end space=20" },
	{ "bare\rcr\nlf\r\n", "bare=0Dcr=0Alf\r\n" },
	{ "ctl\x01\x7f~!\r\n", "ctl=01=7F~!\r\n" },
	{ "", "" },
};

Test(mime, qp_table)
{
	for (size_t i = 0; i < sizeof qp_rows / sizeof qp_rows[0]; i++) {
		for (size_t step = 1; step <= strlen(qp_rows[i].in) + 1; step++) {
			size_t n;
			char *got = encode(MIME_BODY_QP, qp_rows[i].in, strlen(qp_rows[i].in), step, &n);

			cr_expect_str_eq(got, qp_rows[i].want, "row %zu step %zu", i, step);
			free(got);
		}
	}
}

/* check_qp - every line of q is at most MIME_QP_LINE octets, 7-bit, no white space before a CRLF, and
 * no "=XX" or UTF-8 character split by a soft break; it decodes back to in. */
static void check_qp(const char *in, size_t n, const char *q, size_t qn)
{
	struct buf d;
	size_t col = 0;

	for (size_t i = 0; i < qn; i++) {
		cr_assert((unsigned char)q[i] < 0x80, "8-bit octet at %zu", i);
		if (q[i] == '\r') {
			cr_assert(i + 1 < qn && q[i + 1] == '\n', "bare CR at %zu", i);
			cr_assert(i == 0 || (q[i - 1] != ' ' && q[i - 1] != '\t'), "white space before CRLF at %zu", i);
			if (i > 0 && q[i - 1] == '=') {	/* a soft break: the next line starts a character */
				cr_assert(i + 3 >= qn || q[i + 2] != '=' || strchr("89AB", q[i + 3]) == NULL,
				    "a UTF-8 sequence split at %zu", i);
			}
			col = 0;
			i++;
			continue;
		}
		col++;
		cr_assert(col <= MIME_QP_LINE, "line over %d at %zu", MIME_QP_LINE, i);
	}
	buf_init(&d, n + 1);
	cr_assert_eq(mime_qp_decode(q, qn, &d), 0);
	cr_assert_eq(d.len, n);
	cr_assert(memcmp(d.data, in, n) == 0, "does not decode back");
	buf_free(&d);
}

/* a 1,400-octet line of "é" (the case) and long mixed lines: lossless, whole characters */
Test(mime, qp_long_lines)
{
	static const char *const pieces[] = { "\xc3\xa9", "a", "\xe2\x82\xac", " ", "=", "\xf0\x9f\x98\x80", "\t" };
	char in[5000];
	size_t n = 0;

	for (size_t i = 0; n + 4 < 1400; i++) {
		const char *p = i < 700 ? pieces[0] : pieces[(i * 7 + 3) % 7];
		memcpy(in + n, p, strlen(p));
		n += strlen(p);
	}
	memcpy(in + n, " \r\nnext\r\n", 9);
	n += 9;
	for (size_t step = 1; step < 80; step += 13) {
		size_t qn;
		char *q = encode(MIME_BODY_QP, in, n, step, &qn);

		check_qp(in, n, q, qn);
		/* no soft break inside a 2-octet character: each line of the "é" run holds whole "=C3=A9" */
		for (const char *l = q; l < q + 700; l = strstr(l, "=\r\n") + 3)
			cr_assert_eq(strncmp(l, "=C3", 3), 0, "a line starts inside a character: %.12s", l);
		free(q);
	}
}

Test(mime, fold_table)
{
	char in[3000], *got;
	size_t n, gn;

	/* a 1,401-octet line of "é" after an "a": broken before 998 octets, between characters */
	in[0] = 'a';
	for (n = 1; n < 1400; n += 2)
		memcpy(in + n, "\xc3\xa9", 2);
	memcpy(in + n, "\r\n", 2);
	n += 2;
	got = encode(MIME_BODY_FOLD, in, n, 97, &gn);
	cr_assert_eq(gn, n + 2);
	cr_assert_eq(memcmp(got + 997, "\r\n\xc3\xa9", 4), 0);	/* 998 would split the 499th "é" */
	cr_assert(mime_utf8_valid(got, gn));
	free(got);

	/* FOLD_QP: a soft break, never inside "=XX" */
	memset(in, 'a', 996);
	memcpy(in + 996, "=C3=A9xyz\r\n", 11);
	n = 1007;
	got = encode(MIME_BODY_FOLD_QP, in, n, 5, &gn);
	cr_assert_eq(gn, n + 3);
	cr_assert_eq(memcmp(got + 996, "=\r\n=C3=A9xyz\r\n", 14), 0);
	free(got);

	/* KEEP: the identity */
	got = encode(MIME_BODY_KEEP, "a\r\nb", 4, 1, &gn);
	cr_assert_eq(gn, 4);
	cr_assert_eq(memcmp(got, "a\r\nb", 4), 0);
	free(got);
}

struct phrase_row {
	const char *in, *want;
};

static const struct phrase_row phrase_rows[] = {
	{ "root", "\"root\"" },
	{ "Jo \"Q\" Doe", "\"Jo \\\"Q\\\" Doe\"" },
	{ "Smith, John", "\"Smith, John\"" },
	{ "Caf\xc3\xa9", "=?UTF-8?Q?Caf=C3=A9?=" },
	{ "Jos\xc3\xa9 M\xc3\xbcller", "=?UTF-8?Q?Jos=C3=A9_M=C3=BCller?=" },
	{ "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", "=?UTF-8?B?0JjQstCw0L0=?=" },
	{ "Ren\xe9", "=?unknown-8bit?Q?Ren=E9?=" },
	{ "a_b=c?", "\"a_b=c?\"" },
	/* PHP's mb_encode_mimeheader output: never wrapped in quotes */
	{ "=?UTF-8?Q?Caf=C3=A9?=", "=?UTF-8?Q?Caf=C3=A9?=" },
	{ "=?UTF-8?B?Q2Fmw6k=?= Shop", "=?UTF-8?B?Q2Fmw6k=?= Shop" },
	{ "=?UTF-8?Q?a b?=", "\"=?UTF-8?Q?a b?=\"" },
	{ "=?UTF-8?Q?Caf=C3=A9?= (x)", "\"=?UTF-8?Q?Caf=C3=A9?= (x)\"" },
	{ "=?UTF-8?X?abc?=", "\"=?UTF-8?X?abc?=\"" },
};

Test(mime, phrase_table)
{
	for (size_t i = 0; i < sizeof phrase_rows / sizeof phrase_rows[0]; i++) {
		struct buf b;

		buf_init(&b, 4096);
		cr_assert_eq(mime_phrase(&b, phrase_rows[i].in, strlen(phrase_rows[i].in)), 0, "row %zu", i);
		cr_expect_str_eq(buf_str(&b), phrase_rows[i].want, "row %zu", i);
		buf_free(&b);
	}
}

/* a long name: several words of at most 75 octets, each whole characters, B for Cyrillic */
Test(mime, phrase_long_words)
{
	static const char *const names[] = {
		"\xd0\x90\xd0\xbb\xd0\xb5\xd0\xba\xd1\x81\xd0\xb0\xd0\xbd\xd0\xb4\xd1\x80 "
		"\xd0\x90\xd0\xbb\xd0\xb5\xd0\xba\xd1\x81\xd0\xb0\xd0\xbd\xd0\xb4\xd1\x80\xd0\xbe\xd0\xb2\xd0\xb8\xd1\x87 "
		"\xd0\x9a\xd0\xbe\xd0\xbd\xd1\x81\xd1\x82\xd0\xb0\xd0\xbd\xd1\x82\xd0\xb8\xd0\xbd\xd0\xbe\xd0\xb2\xd1\x81"
		"\xd0\xba\xd0\xb8\xd0\xb9-\xd0\xa9\xd0\xb5\xd0\xb4\xd1\x80\xd0\xb8\xd0\xbd",
		"Fran\xc3\xa7ois-X\xc3\xa1vier de la Cr\xc3\xa9" "ation du Ch\xc3\xa2teau et des \xc3\x89tangs R\xc3\xa9unis",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct buf b;
		const char *w, *end;
		int words = 0;

		buf_init(&b, 4096);
		cr_assert_eq(mime_phrase(&b, names[i], strlen(names[i])), 0);
		for (w = buf_str(&b); *w; w = *end ? end + 1 : end, words++) {
			end = strchr(w, ' ');
			if (end == NULL)
				end = w + strlen(w);
			cr_assert((size_t)(end - w) <= MIME_EW_MAX, "name %zu: a word of %zu octets", i, (size_t)(end - w));
			cr_assert(strncmp(w, i == 0 ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10) == 0, "name %zu: %.20s", i, w);
			/* Q: no word ends inside a character (its last escape is not a lead octet) */
			if (i == 1)
				cr_assert(end - w < 5 || strncmp(end - 5, "=C3", 3) != 0, "name %zu: split: %.75s", i, w);
		}
		cr_assert(words >= 2, "name %zu: one word only: %s", i, buf_str(&b));
		buf_free(&b);
	}
}
