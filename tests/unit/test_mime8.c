/* test_mime8.c - queue/run/mime8.c: the 7-bit form of a stored message for a server without 8BITMIME
 * (converted into an unnamed spool file, the old DKIM-Signature fields left out of its prefix), the
 * verdict when there is none, and the prefix filter. Signing the form is test_sign.c's. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/mime.h"
#include "queue/run/mime8.h"

#define L(s) s, sizeof(s) - 1

struct strip_row {
	const char *in, *want;
};

static const struct strip_row strip_rows[] = {
	{ "", "" },
	{ "X-A: 1\r\n", "X-A: 1\r\n" },
	{ "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\n\tdef\r\nX-A: 1\r\n", "X-A: 1\r\n" },
	{ "X-A: 1\r\n dkim-signature: not a field\r\ndkim-signature: v=1\r\n\tb=x\r\nDKIM-Signature: v=1\r\n"
	  "X-B: 2\r\n\tmore\r\n", "X-A: 1\r\n dkim-signature: not a field\r\nX-B: 2\r\n\tmore\r\n" },
	{ "X-DKIM-Signature: kept\r\n", "X-DKIM-Signature: kept\r\n" },
};

Test(mime8, strip_sigs_table)
{
	for (size_t i = 0; i < sizeof strip_rows / sizeof strip_rows[0]; i++) {
		struct buf out;

		buf_init(&out, 4096);
		cr_assert_eq(mime8_strip_sigs(strip_rows[i].in, strlen(strip_rows[i].in), &out), 0);
		cr_expect_str_eq(buf_str(&out), strip_rows[i].want, "row %zu", i);
		buf_free(&out);
	}
}

static char dir[64];

static struct spool *spool(void)
{
	struct spool *sp;
	struct err e;

	snprintf(dir, sizeof dir, "%s", "/tmp/test_mime8_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	err_clear(&e);
	strcat(dir, "/q");
	cr_assert_eq(spool_init(dir, (gid_t)-1, &e), 0, "%s", e.msg);
	sp = spool_open(dir, &e);
	cr_assert_not_null(sp, "%s", e.msg);
	return sp;
}

static void cleanup(struct spool *sp)
{
	char cmd[128];

	spool_close(sp);
	dir[strlen(dir) - 2] = '\0';
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* stored - msg in an unlinked file, followed by envelope text that is not the message's. */
static int stored(const char *msg)
{
	FILE *f = tmpfile();
	int fd;

	cr_assert_not_null(f);
	fd = dup(fileno(f));
	fclose(f);
	cr_assert_eq(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	cr_assert_eq(write(fd, "VERSION 1\n\xff\n", 12), 12);
	return fd;
}

struct form_row {
	const char *msg;
	enum dlv_form_result want;
	const char *want_body;	/* the 7-bit form (DLV_FORM_MADE) */
	const char *why;	/* a word of the reason (DLV_FORM_IMPOSSIBLE) */
};

static const struct form_row form_rows[] = {
	{ "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	  "Content-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9f" "e\r\n", DLV_FORM_MADE,
	  "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n", NULL },
	{ "From: a@example.com\r\n\r\nonly ASCII\r\n", DLV_FORM_ASIS, NULL, NULL },
	{ "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	  "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\n\xc3\xa9\r\n--b--\r\n", DLV_FORM_IMPOSSIBLE, NULL,
	  "message/rfc822" },
	{ "From: Jos\xc3\xa9 <a@example.com>\r\n\r\n\xc3\xa9\r\n", DLV_FORM_IMPOSSIBLE, NULL, "header" },
};

Test(mime8, forms)
{
	struct spool *sp = spool();
	struct config c;
	static const char prefix[] = "DKIM-Signature: v=1;\r\n\tb=old\r\nX-Kept: 1\r\n";

	conf_defaults(&c);
	for (size_t i = 0; i < sizeof form_rows / sizeof form_rows[0]; i++) {
		const struct form_row *r = &form_rows[i];
		int fd = stored(r->msg);
		struct mime8_src src = { .fd = fd, .size = (long long)strlen(r->msg), .prefix = prefix,
		    .prefixlen = sizeof prefix - 1 };
		struct dlv_form f;
		struct err e;
		enum dlv_form_result got;

		err_clear(&e);
		got = mime8_form(&c, sp, NULL, &src, 1764550000, &f, &e);
		cr_expect_eq(got, r->want, "row %zu: %d (%s)", i, got, e.msg);
		if (got == DLV_FORM_MADE && r->want_body != NULL) {
			char body[4096];

			cr_assert_lt(f.size, (long long)sizeof body);
			cr_assert_eq(pread(f.fd, body, (size_t)f.size, 0), (ssize_t)f.size);
			body[f.size] = '\0';
			cr_expect_str_eq(body, r->want_body, "row %zu", i);
			cr_expect_str_eq(f.prefix, "X-Kept: 1\r\n", "row %zu: the old signature goes", i);
			cr_expect_eq(f.prefixlen, strlen(f.prefix));
		}
		if (got != DLV_FORM_MADE)
			cr_expect_eq(f.fd, -1, "row %zu", i);
		if (r->why != NULL)
			cr_expect(strstr(e.msg, r->why) != NULL, "row %zu: %s", i, e.msg);
		dlv_form_free(&f);
		close(fd);
	}
	conf_free(&c);
	cleanup(sp);
}
