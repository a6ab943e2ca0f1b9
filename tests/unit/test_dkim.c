/*
 * test_dkim.c - DKIM canonicalisation, header selection, DKIM-Signature assembly, and the published
 * RFC 8463 Appendix A vectors (both signatures reproduced byte for byte).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "conf/dkimkey.h"
#include "queue/run/dkim.h"

/* a string literal with its length (it may hold NUL) */
#define S(s) s, sizeof(s) - 1

/* split_fields - cut a header section (CRLF, folded) into hdr_fields; returns how many. */
static size_t split_fields(const char *h, struct hdr_field *f, size_t max)
{
	size_t n = 0, len = strlen(h), i = 0, start;

	while (i < len && n < max) {
		start = i;
		for (;;) {
			const char *crlf = strstr(h + i, "\r\n");
			cr_assert_not_null(crlf);
			i = (size_t)(crlf - h) + 2;
			if (i >= len || (h[i] != ' ' && h[i] != '\t'))
				break;
		}
		f[n].raw = h + start;
		f[n].len = i - start;
		f[n].name_len = (size_t)((const char *)memchr(h + start, ':', i - start) - (h + start));
		n++;
	}
	return n;
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;
	cr_assert(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1);
}

static void b64(const unsigned char *p, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

struct body_case {
	enum dkim_canon c;
	const char *in;
	size_t inlen;
	const char *want;
	size_t wantlen;
};

static const struct body_case body_cases[] = {
	/* simple (RFC 6376 3.4.3): trailing empty lines go, an empty body is CRLF */
	{ CANON_SIMPLE, S(""), S("\r\n") },
	{ CANON_SIMPLE, S("\r\n"), S("\r\n") },
	{ CANON_SIMPLE, S("\r\n\r\n\r\n"), S("\r\n") },
	{ CANON_SIMPLE, S("a"), S("a\r\n") },
	{ CANON_SIMPLE, S("a\r\n"), S("a\r\n") },
	{ CANON_SIMPLE, S("a\r\n\r\n\r\n"), S("a\r\n") },
	{ CANON_SIMPLE, S("\r\n\r\na\r\n"), S("\r\n\r\na\r\n") },
	{ CANON_SIMPLE, S("a \t b  \r\n"), S("a \t b  \r\n") },
	{ CANON_SIMPLE, S(" \r\n"), S(" \r\n") },	/* a WSP line is not empty in simple */
	{ CANON_SIMPLE, S("a\r\n \r\n\r\n"), S("a\r\n \r\n") },
	{ CANON_SIMPLE, S("a\rb"), S("a\rb\r\n") },	/* bare CR: an ordinary octet */
	{ CANON_SIMPLE, S("a\r"), S("a\r\r\n") },
	{ CANON_SIMPLE, S("a\n\r\n"), S("a\n\r\n") },	/* bare LF too */
	{ CANON_SIMPLE, S("\xe9\xff\0x\r\n"), S("\xe9\xff\0x\r\n") },
	/* relaxed (RFC 6376 3.4.4 and errata 1384): empty body is empty */
	{ CANON_RELAXED, S(""), S("") },
	{ CANON_RELAXED, S("\r\n"), S("") },
	{ CANON_RELAXED, S("\r\n\r\n\r\n"), S("") },
	{ CANON_RELAXED, S(" \t \r\n\r\n\t\r\n"), S("") },
	{ CANON_RELAXED, S("a"), S("a\r\n") },
	{ CANON_RELAXED, S("a \t"), S("a\r\n") },
	{ CANON_RELAXED, S("a\r\n"), S("a\r\n") },
	{ CANON_RELAXED, S("a  \t b \t\r\n"), S("a b\r\n") },
	{ CANON_RELAXED, S(" \ta\r\n"), S(" a\r\n") },
	{ CANON_RELAXED, S("a \r\n"), S("a\r\n") },
	{ CANON_RELAXED, S("a\r\n \r\n\t\r\nb\r\n\r\n"), S("a\r\n\r\n\r\nb\r\n") },
	{ CANON_RELAXED, S("a\r\n\r\n \r\n"), S("a\r\n") },
	{ CANON_RELAXED, S("a \r b"), S("a \r b\r\n") },
	{ CANON_RELAXED, S("a\r"), S("a\r\r\n") },
	{ CANON_RELAXED, S("x\x80\xff  y\r\n"), S("x\x80\xff y\r\n") },
	{ CANON_RELAXED, S("a\0 \0"), S("a\0 \0\r\n") },
	{ CANON_RELAXED, S("\r\n\r\nHi.\r\n"), S("\r\n\r\nHi.\r\n") },
};

Test(dkim, body_canon_table)
{
	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++) {
		const struct body_case *t = &body_cases[i];
		struct buf out;
		unsigned char want[32], got[32];
		struct dkim_body *b;

		buf_init(&out, 1 << 20);
		cr_assert_eq(dkim_canon_body(t->c, t->in, t->inlen, &out), 0, "case %zu", i);
		cr_assert_eq(out.len, t->wantlen, "case %zu: len %zu want %zu", i, out.len, t->wantlen);
		cr_assert(memcmp(buf_str(&out), t->want, t->wantlen) == 0, "case %zu: got [%s]", i,
			buf_str(&out));
		/* the streaming hasher agrees, at every split point */
		sha256(t->want, t->wantlen, want);
		for (size_t cut = 0; cut <= t->inlen; cut++) {
			b = dkim_body_new(t->c);
			dkim_body_update(b, t->in, cut);
			dkim_body_update(b, t->in + cut, t->inlen - cut);
			dkim_body_final(b, got);
			dkim_body_free(b);
			cr_assert(memcmp(got, want, 32) == 0, "case %zu cut %zu", i, cut);
		}
		buf_free(&out);
	}
}

Test(dkim, body_canon_ceiling)
{
	struct buf out;

	buf_init(&out, 3);
	cr_assert_eq(dkim_canon_body(CANON_SIMPLE, S("abcd\r\n"), &out), -1);
	buf_free(&out);
}

/* RFC 8463 Appendix A's message, and its body hashes */
static const char rfc_headers[] = "From: Joe SixPack <joe@football.example.com>\r\n"
				  "To: Suzie Q <suzie@shopping.example.net>\r\n"
				  "Subject: Is dinner ready?\r\n"
				  "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
				  "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n";
static const char rfc_body[] = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n";

Test(dkim, body_split_everywhere)
{
	/* a body with WSP runs, trailing WSP, empty and WSP-only lines: every 2- and 3-way split, and
	 * byte by byte, gives the one-shot hash */
	static const char body[] = "a \t b\t \r\n\r\n \t\r\nc  d\r\n\r\n\t\r\n";
	size_t n = sizeof body - 1;

	for (int c = 0; c < 2; c++) {
		unsigned char want[32], got[32];
		struct dkim_body *b = dkim_body_new((enum dkim_canon)c);

		dkim_body_update(b, body, n);
		dkim_body_final(b, want);
		dkim_body_free(b);
		for (size_t i = 0; i <= n; i++)
			for (size_t j = i; j <= n; j++) {
				b = dkim_body_new((enum dkim_canon)c);
				dkim_body_update(b, body, i);
				dkim_body_update(b, body + i, j - i);
				dkim_body_update(b, body + j, n - j);
				dkim_body_final(b, got);
				dkim_body_free(b);
				cr_assert(memcmp(got, want, 32) == 0, "canon %d split %zu/%zu", c, i, j);
			}
		b = dkim_body_new((enum dkim_canon)c);
		for (size_t i = 0; i < n; i++)
			dkim_body_update(b, body + i, 1);
		dkim_body_final(b, got);
		dkim_body_free(b);
		cr_assert(memcmp(got, want, 32) == 0);
	}
}

Test(dkim, body_many_empty_lines_bounded)
{
	/* a million empty lines then text: counted, not buffered, and all emitted */
	struct dkim_body *b = dkim_body_new(CANON_RELAXED);
	unsigned char got[32], want[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 32;

	for (int i = 0; i < 1000000; i++)
		dkim_body_update(b, "  \r\n", 4);
	dkim_body_update(b, "x", 1);
	dkim_body_final(b, got);
	dkim_body_free(b);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (int i = 0; i < 1000000; i++)
		EVP_DigestUpdate(md, "\r\n", 2);
	EVP_DigestUpdate(md, "x\r\n", 3);
	EVP_DigestFinal_ex(md, want, &len);
	EVP_MD_CTX_free(md);
	cr_assert(memcmp(got, want, 32) == 0);
}

Test(dkim, rfc8463_body_hashes)
{
	unsigned char bh[32];
	char s[64];
	struct dkim_body *b = dkim_body_new(CANON_RELAXED);

	dkim_body_update(b, rfc_body, strlen(rfc_body));
	dkim_body_final(b, bh);
	dkim_body_free(b);
	b64(bh, 32, s);
	cr_assert_str_eq(s, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	/* simple/simple over the same body, as published with RFC 6376's example (dkimpy test data) */
	b = dkim_body_new(CANON_SIMPLE);
	dkim_body_update(b, rfc_body, strlen(rfc_body));
	dkim_body_final(b, bh);
	dkim_body_free(b);
	b64(bh, 32, s);
	cr_assert_str_eq(s, "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=");
}

struct hdr_case {
	const char *raw;
	const char *relaxed;	/* NULL: must fail */
};

static const struct hdr_case hdr_cases[] = {
	{ "Subject: Hello\r\n", "subject:Hello\r\n" },
	{ "SUBJECT :  Hello   World \t\r\n", "subject:Hello World\r\n" },
	{ "sUbJeCt:Hello\r\n", "subject:Hello\r\n" },
	{ "Subject: a\r\n\tb\r\n  c\r\n", "subject:a b c\r\n" },
	{ "To:\r\n x@y\r\n", "to:x@y\r\n" },
	{ "Empty:\r\n", "empty:\r\n" },
	{ "Empty: \t \r\n", "empty:\r\n" },
	{ "Empty:\r\n \r\n", "empty:\r\n" },
	{ "X-8bit: \xc3\xa9t\xc3\xa9 \xff\r\n", "x-8bit:\xc3\xa9t\xc3\xa9 \xff\r\n" },
	{ "X-Colon: a:b : c\r\n", "x-colon:a:b : c\r\n" },
	{ "X-Bare: a\rb\r\n", "x-bare:a\rb\r\n" },
	{ "No colon here\r\n", NULL },
};

Test(dkim, header_canon_table)
{
	for (size_t i = 0; i < sizeof hdr_cases / sizeof hdr_cases[0]; i++) {
		const struct hdr_case *t = &hdr_cases[i];
		struct hdr_field f = { t->raw, strlen(t->raw), 0 };
		struct buf out;

		buf_init(&out, 4096);
		if (t->relaxed == NULL) {
			cr_assert_eq(dkim_canon_header(CANON_RELAXED, &f, &out), -1, "case %zu", i);
			cr_assert_eq(dkim_canon_header(CANON_SIMPLE, &f, &out), -1, "case %zu", i);
			buf_free(&out);
			continue;
		}
		cr_assert_eq(dkim_canon_header(CANON_RELAXED, &f, &out), 0, "case %zu", i);
		cr_assert_str_eq(buf_str(&out), t->relaxed, "case %zu", i);
		buf_reset(&out);
		cr_assert_eq(dkim_canon_header(CANON_SIMPLE, &f, &out), 0, "case %zu", i);
		cr_assert_str_eq(buf_str(&out), t->raw, "case %zu: simple is the field as is", i);
		buf_free(&out);
	}
}

struct sel_case {
	const char *headers;
	const char *want;	/* NULL: must fail */
};

#define OVER_TAIL "mime-version:content-type:content-transfer-encoding"
static const struct sel_case sel_cases[] = {
	{ "From: a@b\r\n",
		"from:from:reply-to:subject:date:to:cc:message-id:in-reply-to:references:" OVER_TAIL },
	{ "Received: x\r\nFROM: a@b\r\nTo: c@d\r\nSubject: s\r\nDate: d\r\nMessage-ID: <m@b>\r\n"
	  "X-Mailer: m\r\n",
		"from:from:reply-to:subject:subject:date:date:to:to:cc:message-id:message-id:in-reply-to:"
		"references:" OVER_TAIL },
	{ "From: a@b\r\nTo: x\r\nto: y\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
	  "Resent-From: r\r\nResent-From: s\r\nList-Unsubscribe: <u>\r\nList-Unsubscribe-Post: o\r\n"
	  "Sender: q\r\n",
		"from:from:reply-to:subject:date:to:to:to:cc:message-id:in-reply-to:references:"
		"mime-version:mime-version:content-type:content-type:content-transfer-encoding:sender:"
		"resent-from:resent-from:list-unsubscribe:list-unsubscribe-post" },
	{ "To: c@d\r\nSubject: no from\r\n", NULL },
	{ "X-From: a@b\r\n", NULL },
};

Test(dkim, header_selection_oversigning)
{
	for (size_t i = 0; i < sizeof sel_cases / sizeof sel_cases[0]; i++) {
		struct hdr_field f[32];
		size_t n = split_fields(sel_cases[i].headers, f, 32);
		struct buf out;
		struct err e = { 0 };

		buf_init(&out, 4096);
		if (sel_cases[i].want == NULL) {
			cr_assert_eq(dkim_select_headers(f, n, &out, &e), -1, "case %zu", i);
			cr_assert_eq(e.code, EX_DATAERR);
			cr_assert_str_eq(e.msg, "no From field to sign");
		} else {
			cr_assert_eq(dkim_select_headers(f, n, &out, &e), 0, "case %zu", i);
			cr_assert_str_eq(buf_str(&out), sel_cases[i].want, "case %zu", i);
		}
		buf_free(&out);
	}
}

Test(dkim, digest_bottom_up_and_nulls)
{
	/* two X-A instances: "x-a" takes the bottom one first; the second "x-a" the top one; a third
	 * and an absent name contribute nothing. The hash input is written out in full. */
	static const char h[] = "X-A: top\r\nFrom: f\r\nX-A:  bottom \r\n";
	static const char sig[] = "DKIM-Signature: v=1;\r\n\th=x-a:x-a:x-a:nope:from; b=";
	static const char want_in[] = "x-a:bottom\r\nx-a:top\r\nfrom:f\r\ndkim-signature:v=1; h=x-a:x-a:x-a:nope:from; b=";
	struct hdr_field f[4];
	size_t n = split_fields(h, f, 4);
	unsigned char got[32], want[32];
	struct err e = { 0 };

	sha256(want_in, sizeof want_in - 1, want);
	cr_assert_eq(dkim_sig_digest(CANON_RELAXED, f, n, "x-a:x-a: x-a :nope:from", sig, sizeof sig - 1, got, &e), 0);
	cr_assert(memcmp(got, want, 32) == 0);
	/* simple: the fields as they are, the signature field without a CRLF */
	static const char want_simple[] = "X-A:  bottom \r\nX-A: top\r\nFrom: f\r\nDKIM-Signature: v=1;\r\n\th=x-a:x-a:x-a:nope:from; b=";
	sha256(want_simple, sizeof want_simple - 1, want);
	cr_assert_eq(dkim_sig_digest(CANON_SIMPLE, f, n, "x-a:x-a:x-a:nope:from", sig, sizeof sig - 1, got, &e), 0);
	cr_assert(memcmp(got, want, 32) == 0);
}

/* RFC 8463 A.2's keys: the Ed25519 seed and the RSA key of selector "test" */
static const char rfc_ed_seed_b64[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char rfc_rsa_pem[] = "-----BEGIN RSA PRIVATE KEY-----\n"
	"MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
	"Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
	"KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
	"AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
	"6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
	"zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
	"6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
	"uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
	"WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
	"WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
	"licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
	"o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
	"uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
	"-----END RSA PRIVATE KEY-----\n";

static EVP_PKEY *rfc_ed_key(void)
{
	unsigned char seed[33];
	EVP_PKEY *k;

	cr_assert_eq(EVP_DecodeBlock(seed, (const unsigned char *)rfc_ed_seed_b64, 44), 33);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	cr_assert_not_null(k);
	return k;
}

/* rfc_rsa_key - through dkimkey_load, from a 0600 temp file (PKCS#1 "RSA PRIVATE KEY"). */
static EVP_PKEY *rfc_rsa_key(struct buf *warn)
{
	char path[] = "/tmp/test_dkim_XXXXXX";
	int fd = mkstemp(path);
	EVP_PKEY *k = NULL;
	struct err e = { 0 };

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, rfc_rsa_pem, strlen(rfc_rsa_pem)), (ssize_t)strlen(rfc_rsa_pem));
	close(fd);
	cr_assert_eq(dkimkey_load(path, &k, warn, &e), 0, "%s", e.msg);
	unlink(path);
	return k;
}

struct rfc_sig {
	const char *field;	/* the published field with its b= value cut off */
	const char *b;
};

static const struct rfc_sig rfc_sigs[] = {
	{ "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
	  " d=football.example.com; i=@football.example.com;\r\n"
	  " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
	  " subject : date : message-id : from : subject : date;\r\n"
	  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	  " b=",
		"/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==" },
	{ "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
	  " d=football.example.com; i=@football.example.com;\r\n"
	  " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
	  " date : message-id : from : subject : date;\r\n"
	  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	  " b=",
		"F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9"
		"mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=" },
};

Test(dkim, rfc8463_signatures_reproduced)
{
	struct hdr_field f[8];
	size_t n = split_fields(rfc_headers, f, 8);
	EVP_PKEY *keys[2];
	struct buf warn, out;
	struct err e = { 0 };

	buf_init(&warn, 512);
	buf_init(&out, 4096);
	keys[0] = rfc_ed_key();
	keys[1] = rfc_rsa_key(&warn);
	cr_assert_str_neq(buf_str(&warn), "", "a 1024-bit key loads with a warning");
	cr_assert_eq(dkimkey_alg(keys[0]), DKIM_ED25519_SHA256);
	cr_assert_eq(dkimkey_alg(keys[1]), DKIM_RSA_SHA256);
	for (size_t i = 0; i < 2; i++) {
		unsigned char digest[32];

		cr_assert_eq(dkim_sig_digest(CANON_RELAXED, f, n,
				     "from : to : subject : date : message-id : from : subject : date",
				     rfc_sigs[i].field, strlen(rfc_sigs[i].field), digest, &e),
			0);
		cr_assert_eq(dkimkey_sign(keys[i], digest, &out, &e), 0, "%s", e.msg);
		cr_assert_str_eq(buf_str(&out), rfc_sigs[i].b, "signature %zu", i);
		EVP_PKEY_free(keys[i]);
	}
	buf_free(&warn);
	buf_free(&out);
}

/* The golden DKIM-Signature field postern writes for a plain message (folding included). */
static const char golden_prepared[] =
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=football.example.com;\r\n"
	"\ts=test; t=1528637909; x=1529242709; h=from:from:reply-to:subject:subject:\r\n"
	"\tdate:date:to:to:cc:message-id:message-id:in-reply-to:references:mime-version:\r\n"
	"\tcontent-type:content-transfer-encoding;\r\n"
	"\tbh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	"\tb=";

Test(dkim, prepare_golden_and_finish)
{
	struct hdr_field f[8];
	size_t n = split_fields(rfc_headers, f, 8);
	struct dkim_sig_params p = { "football.example.com", "test", DKIM_RSA_SHA256, CANON_RELAXED,
		CANON_RELAXED, 1528637909, 1529242709, NULL };
	unsigned char bh[32], digest[32], d2[32];
	struct dkim_body *b = dkim_body_new(CANON_RELAXED);
	struct buf sig, b64s, warn;
	struct err e = { 0 };
	EVP_PKEY *k;
	const char *line, *end;

	buf_init(&sig, LIM_DKIM_SIGHDR);
	buf_init(&b64s, 4096);
	buf_init(&warn, 512);
	dkim_body_update(b, rfc_body, strlen(rfc_body));
	dkim_body_final(b, bh);
	dkim_body_free(b);
	cr_assert_eq(dkim_sig_prepare(&p, f, n, bh, &sig, digest, &e), 0, "%s", e.msg);
	cr_assert_str_eq(buf_str(&sig), golden_prepared);
	/* the digest is over the canonical fields, then the field itself with b= empty */
	cr_assert_eq(dkim_sig_digest(CANON_RELAXED, f, n, "from:from:reply-to:subject:subject:date:date:to:to:cc:"
		"message-id:message-id:in-reply-to:references:mime-version:content-type:content-transfer-encoding",
		golden_prepared, strlen(golden_prepared), d2, &e), 0);
	cr_assert(memcmp(digest, d2, 32) == 0);

	k = rfc_rsa_key(&warn);
	cr_assert_eq(dkimkey_sign(k, digest, &b64s, &e), 0);
	cr_assert_eq(dkim_sig_finish(&sig, buf_str(&b64s), &e), 0);
	/* every line at most 78 octets, CRLF at the end, and the b= value unfolds to the signature */
	for (line = buf_str(&sig); *line != '\0'; line = end + 2) {
		end = strstr(line, "\r\n");
		cr_assert_not_null(end);
		cr_assert_leq(end - line, 78, "line [%.*s]", (int)(end - line), line);
	}
	cr_assert_eq(strncmp(buf_str(&sig), golden_prepared, strlen(golden_prepared)), 0);
	{
		char joined[512] = "";
		size_t j = 0;
		for (const char *q = buf_str(&sig) + strlen(golden_prepared); *q; q++)
			if (*q != '\r' && *q != '\n' && *q != '\t')
				joined[j++] = *q;
		joined[j] = '\0';
		cr_assert_str_eq(joined, buf_str(&b64s));
	}
	EVP_PKEY_free(k);
	buf_free(&sig);
	buf_free(&b64s);
	buf_free(&warn);
}

Test(dkim, prepare_refuses)
{
	struct hdr_field f[8];
	size_t n = split_fields(rfc_headers, f, 8);
	unsigned char bh[32] = { 0 }, digest[32];
	struct buf sig;
	struct err e = { 0 };
	struct dkim_sig_params p = { "example.com", "sel", DKIM_ED25519_SHA256, CANON_SIMPLE, CANON_SIMPLE,
		100, 0, NULL };

	buf_init(&sig, LIM_DKIM_SIGHDR);
	p.domain = "example.com\r\nBcc: x";
	cr_assert_eq(dkim_sig_prepare(&p, f, n, bh, &sig, digest, &e), -1);
	cr_assert_eq(e.code, EX_CONFIG);
	p.domain = "example.com";
	p.selector = "a;b";
	cr_assert_eq(dkim_sig_prepare(&p, f, n, bh, &sig, digest, &e), -1);
	p.selector = "";
	cr_assert_eq(dkim_sig_prepare(&p, f, n, bh, &sig, digest, &e), -1);
	p.selector = "sel";
	p.x = 100;
	cr_assert_eq(dkim_sig_prepare(&p, f, n, bh, &sig, digest, &e), -1);
	p.x = 0;
	p.hlist = "from\r\n:to";
	cr_assert_eq(dkim_sig_prepare(&p, f, n, bh, &sig, digest, &e), -1);
	p.hlist = "from:to";
	cr_assert_eq(dkim_sig_prepare(&p, f, n, bh, &sig, digest, &e), 0, "%s", e.msg);
	cr_assert_str_eq(buf_str(&sig), "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; d=example.com; s=sel;\r\n"
					"\tt=100; h=from:to; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;\r\n"
					"\tb=");
	cr_assert_eq(dkim_sig_finish(&sig, "abc\r\ndef", &e), -1);
	cr_assert_eq(dkim_sig_finish(&sig, "", &e), -1);
	cr_assert_eq(dkim_sig_finish(&sig, "QUJD", &e), 0);
	cr_assert_str_eq(buf_str(&sig) + sig.len - 11, "\r\n\tb=QUJD\r\n");
	/* no From at all */
	p.hlist = NULL;
	cr_assert_eq(dkim_sig_prepare(&p, f + 1, n - 1, bh, &sig, digest, &e), -1);
	cr_assert_eq(e.code, EX_DATAERR);
	buf_free(&sig);
}
