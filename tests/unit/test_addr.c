/* test_addr.c - RFC 5322 address parsing (lib/addr.c): tables of inputs, rendered results, errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/limits.h"

/* render - "display<local@domain>" per address (u suffix when utf8), joined by ",". */
static char *render(const struct addr_list *l)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < l->n; i++) {
		char *f = addr_format(&l->v[i]);
		cr_assert(buf_printf(&b, "%s%s<%s>%s", i ? "," : "", l->v[i].display ? l->v[i].display : "",
				     f, l->v[i].utf8 ? "u" : "") == 0);
		free(f);
	}
	return buf_take(&b);
}

struct row {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *want;	/* rendered list, or NULL when an error is expected */
	const char *err;	/* substring of the error message */
};

#define L(s) s, sizeof(s) - 1

static const struct row list_rows[] = {
	/* RFC 5322 appendix A.1.1 - A.1.3 */
	{ "John Doe <jdoe@machine.example>", 0, "John Doe<jdoe@machine.example>", NULL },
	{ "Mary Smith <mary@example.net>", 0, "Mary Smith<mary@example.net>", NULL },
	{ "\"Joe Q. Public\" <john.q.public@example.com>", 0, "Joe Q. Public<john.q.public@example.com>", NULL },
	{ "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>", 0,
	  "Mary Smith<mary@x.test>,<jdoe@example.org>,Who?<one@y.test>", NULL },
	{ "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>", 0,
	  "<boss@nil.test>,Giant; \"Big\" Box<sysservices@example.net>", NULL },
	{ "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", 0,
	  "Ed Jones<c@a.test>,<joe@where.test>,John<jdoe@one.test>", NULL },
	{ "Undisclosed recipients:;", 0, "", NULL },
	{ "undisclosed-recipients:;", 0, "", NULL },
	{ "undisclosed-recipients:", 0, "", NULL },
	{ "g: a@b.c ; , d@e.f", 0, "<a@b.c>,<d@e.f>", NULL },
	/* A.5: comments and folding */
	{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", 0, "Pete<pete@silly.test>", NULL },
	{ "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
	  "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
	  0, "Chris Jones<c@public.example>,<joe@example.org>,John<jdoe@one.test>", NULL },
	{ "(Empty list)(start)Hidden recips :(nobody(that I know))  ;", 0, "", NULL },
	{ "a@b.example (((nested) comment) here)", 0, "<a@b.example>", NULL },
	/* A.6.1 obsolete forms: phrase with dots, spaces around dots */
	{ "Joe Q. Public <john.q.public@example.com>", 0, "Joe Q. Public<john.q.public@example.com>", NULL },
	{ "John . Doe @ Example . COM", 0, "<John.Doe@example.com>", NULL },
	{ "", 0, "", NULL },
	{ "   ", 0, "", NULL },
	{ ",,, ,", 0, "", NULL },
	{ "a@b.c,,d@e.f,", 0, "<a@b.c>,<d@e.f>", NULL },
	/* quoted local parts and display names */
	{ "\"john doe\"@example.com", 0, "<\"john doe\"@example.com>", NULL },
	{ "\"john.doe\"@example.com", 0, "<john.doe@example.com>", NULL },
	{ "\"a\\\"b\\\\c\"@example.com", 0, "<\"a\\\"b\\\\c\"@example.com>", NULL },
	{ "\"Doe, John\" <jd@example.com>, x@y.z", 0, "Doe, John<jd@example.com>,<x@y.z>", NULL },
	{ "\"\"@example.com", 0, "<\"\"@example.com>", NULL },
	{ "=?UTF-8?B?w6k=?= <e@example.com>", 0, "=?UTF-8?B?w6k=?=<e@example.com>", NULL },
	{ "USER@EXAMPLE.COM", 0, "<USER@example.com>", NULL },
	{ "a+tag@sub-1.example.co.uk", 0, "<a+tag@sub-1.example.co.uk>", NULL },
	{ "x@[192.0.2.1]", 0, "<x@[192.0.2.1]>", NULL },
	{ "x@[ 192.0.2.1 ]", 0, "<x@[192.0.2.1]>", NULL },
	/* bare names */
	{ "root", 0, "<root>", NULL },
	{ "root, www-data", 0, "<root>,<www-data>", NULL },
	{ "Admin <root>", 0, "Admin<root>", NULL },
	{ "first.last", 0, "<first.last>", NULL },
	/* UTF-8 (RFC 6531) */
	{ "j\xc3\xb6rg@example.com", 0, "<j\xc3\xb6rg@example.com>u", NULL },
	{ "user@b\xc3\xbc" "cher.example", 0, "<user@b\xc3\xbc" "cher.example>u", NULL },
	{ "J\xc3\xb6rg <j@example.com>", 0, "J\xc3\xb6rg<j@example.com>", NULL },
	{ "j\xf6rg@example.com", 0, NULL, "bad address \"j\\xf6rg@example.com\": local part is not valid UTF-8" },
	{ "j\xc0\xafrg@example.com", 0, NULL, "not valid UTF-8" },
	{ "x@b\xff.example", 0, NULL, "invalid domain" },
	{ "x@\xed\xa0\x80.example", 0, NULL, "invalid domain" },
	/* refused */
	{ "foo@", 0, NULL, "bad address \"foo@\": missing domain" },
	{ "<@a.test,@b.test:user@c.test>", 0, NULL, "obsolete source route" },
	{ "Joe <@a.test:user@c.test>", 0, NULL, "obsolete source route" },
	{ "Joe Smith, a@b.c", 0, NULL, "bad address \"Joe Smith\": expected '@' or '<'" },
	{ "a@b.c d@e.f", 0, NULL, "bad address \"a@b.c d@e.f\": unexpected text after the address" },
	{ "a@b.c>", 0, NULL, "unexpected text" },
	{ "<a@b.c", 0, NULL, "expected '>'" },
	{ "<>", 0, NULL, "empty address <>" },
	{ "a..b@c.d", 0, NULL, "invalid local part" },
	{ ".a@c.d", 0, NULL, "invalid local part" },
	{ "a.@c.d", 0, NULL, "invalid local part" },
	{ "a@c..d", 0, NULL, "empty label" },
	{ "a@c.d.", 0, NULL, "empty label" },
	{ "a@-c.d", 0, NULL, "invalid domain" },
	{ "a@c_d.e", 0, NULL, "invalid domain" },
	{ "a@[1.2.3]", 0, NULL, "not an IPv4" },
	{ "a@[IPv6:::1]", 0, NULL, "not an IPv4" },
	{ "a@[1.2.3.256]", 0, NULL, "not an IPv4" },
	{ "a@[1.2.3.4", 0, NULL, "unterminated domain literal" },
	{ "\"abc@d.e", 0, NULL, "unterminated quoted string" },
	{ "a@b.c (open", 0, NULL, "unterminated comment" },
	{ "g: a@b.c, h: d@e.f;;", 0, NULL, "group inside a group" },
	{ ": a@b.c;", 0, NULL, "group without a name" },
	{ "a@b\r\n.c", 0, NULL, "folding" },
	{ "a@b.c\r\nBcc: evil@x.y", 0, NULL, "contains a CR or LF that is not folding" },
	{ "a@b.c\nBcc: evil@x.y", 0, NULL, "CR or LF" },
	{ "a@b.c\r", 0, NULL, "CR or LF" },
	{ "x@y.z, a@b.c\rd", 0, NULL, "bad address \"a@b.c\\x0dd\": contains a CR" },
	{ L("a@b\0.c"), NULL, "bad address \"a@b\\x00.c\": contains a NUL byte" },
	{ "a@b\x01.c", 0, NULL, "control character" },
	{ "a@b\x7f.c", 0, NULL, "control character" },
	{ "\"a\\\r\n b\"@c.d", 0, NULL, "quoted-pair before a line break" },
	{ "\"a\tb\"@c.d", 0, NULL, "local part contains a tab" },
	{ "a@b.c;", 0, NULL, "unexpected text" },
	{ "@b.c", 0, NULL, "unexpected character" },
	{ "<a@b.c> <d@e.f>", 0, NULL, "unexpected text" },
	/* limits */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.y", 0,
	  "<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.y>", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.y", 0, NULL,
	  "local part longer than 64" },
	{ "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b\"@x.y", 0, NULL,
	  "local part longer than 64" },
};

/* long_domain - "x@" followed by labels to a domain of exactly n octets. */
static char *long_domain(const char *local, size_t n)
{
	char *s = malloc(strlen(local) + n + 2);
	size_t o = strlen(local), i;

	memcpy(s, local, o);
	s[o++] = '@';
	for (i = 0; i < n; i++)
		s[o + i] = (i % 50 == 49) ? '.' : 'a';
	if (s[o + n - 1] == '.')
		s[o + n - 1] = 'b';
	s[o + n] = '\0';
	return s;
}

Test(addr, list_table)
{
	size_t i;

	for (i = 0; i < sizeof list_rows / sizeof list_rows[0]; i++) {
		const struct row *r = &list_rows[i];
		struct addr_list l;
		struct err e = { 0 };
		int rc = addr_list_parse(r->in, r->len ? r->len : strlen(r->in), &l, &e);
		if (r->want != NULL) {
			cr_assert_eq(rc, 0, "row %zu [%s]: %s", i, r->in, e.msg);
			char *got = render(&l);
			cr_assert_str_eq(got, r->want, "row %zu [%s]", i, r->in);
			free(got);
			addr_list_free(&l);
		} else {
			cr_assert_eq(rc, -1, "row %zu [%s] parsed", i, r->in);
			cr_assert_eq(e.code, EX_DATAERR, "row %zu", i);
			cr_assert_eq(l.n, 0);
			cr_assert_null(l.v);
			cr_assert(strstr(e.msg, r->err) != NULL, "row %zu [%s]: got \"%s\" want \"%s\"", i, r->in,
				  e.msg, r->err);
		}
	}
}

Test(addr, domain_and_path_limits)
{
	struct addr_list l;
	struct err e;
	char *s;

	s = long_domain("x", 255);	/* domain 255: path 1+1+255+2 = 259 > 256 */
	cr_assert_eq(addr_list_parse(s, strlen(s), &l, &e), -1);
	cr_assert(strstr(e.msg, "address longer than 256 octets") != NULL, "%s", e.msg);
	free(s);
	s = long_domain("x", 252);	/* 1 + 1 + 252 + 2 = 256 */
	cr_assert_eq(addr_list_parse(s, strlen(s), &l, &e), 0, "%s", e.msg);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(strlen(l.v[0].domain), 252);
	addr_list_free(&l);
	free(s);
	s = long_domain("x", 256);
	cr_assert_eq(addr_list_parse(s, strlen(s), &l, &e), -1);
	cr_assert(strstr(e.msg, "domain") != NULL, "%s", e.msg);
	free(s);
	/* a 64-octet label is refused, 63 accepted */
	cr_assert_eq(addr_list_parse(L("x@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b"), &l, &e), -1);
	cr_assert_eq(addr_list_parse(L("x@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b"), &l, &e), 0);
	addr_list_free(&l);
}

Test(addr, too_many)
{
	struct buf b;
	struct addr_list l;
	struct err e;
	size_t i;

	buf_init(&b, 1 << 24);
	for (i = 0; i <= LIM_RCPTS; i++)
		cr_assert(buf_printf(&b, "%sa%zu@x.y", i ? "," : "", i) == 0);
	cr_assert_eq(addr_list_parse(b.data, b.len, &l, &e), -1);
	cr_assert(strstr(e.msg, "too many addresses") != NULL, "%s", e.msg);
	b.len = (size_t)(strrchr(b.data, ',') - b.data);
	cr_assert_eq(addr_list_parse(b.data, b.len, &l, &e), 0, "%s", e.msg);
	cr_assert_eq(l.n, LIM_RCPTS);
	addr_list_free(&l);
	buf_free(&b);
}

struct one_row {
	const char *in;
	size_t len;
	const char *local, *domain, *display;	/* domain "-" means NULL */
	bool null;
	const char *err;
};

static const struct one_row one_rows[] = {
	{ "user@example.com", 0, "user", "example.com", NULL, false, NULL },
	{ "<user@Ex.COM>", 0, "user", "ex.com", NULL, false, NULL },
	{ " \"Joe\" <j@ex.com> ", 0, "j", "ex.com", "Joe", false, NULL },
	{ "root", 0, "root", "-", NULL, false, NULL },
	{ "<>", 0, "", "-", NULL, true, NULL },
	{ " < > ", 0, "", "-", NULL, true, NULL },
	{ "\"a b\"@ex.com", 0, "a b", "ex.com", NULL, false, NULL },
	{ "", 0, NULL, NULL, NULL, false, "empty address" },
	{ "  ", 0, NULL, NULL, NULL, false, "empty address" },
	{ "a@b.c, d@e.f", 0, NULL, NULL, NULL, false, "unexpected text" },
	{ "g: a@b.c;", 0, NULL, NULL, NULL, false, "a group is not one address" },
	{ "a@b.c\r\n d", 0, NULL, NULL, NULL, false, "CR or LF" },
	{ "a@b.c\n", 0, NULL, NULL, NULL, false, "CR or LF" },
	{ L("a@b.c\0"), NULL, NULL, NULL, false, "NUL" },
	{ "<@a:b@c.d>", 0, NULL, NULL, NULL, false, "obsolete source route" },
	{ "foo@", 0, NULL, NULL, NULL, false, "bad address \"foo@\": missing domain" },
};

Test(addr, parse_one_table)
{
	size_t i;

	for (i = 0; i < sizeof one_rows / sizeof one_rows[0]; i++) {
		const struct one_row *r = &one_rows[i];
		struct addr a;
		struct err e = { 0 };
		int rc = addr_parse_one(r->in, r->len ? r->len : strlen(r->in), &a, &e);
		if (r->err == NULL) {
			cr_assert_eq(rc, 0, "row %zu: %s", i, e.msg);
			cr_assert_str_eq(a.local, r->local, "row %zu", i);
			if (strcmp(r->domain, "-") == 0)
				cr_assert_null(a.domain, "row %zu", i);
			else
				cr_assert_str_eq(a.domain, r->domain, "row %zu", i);
			if (r->display == NULL)
				cr_assert_null(a.display, "row %zu", i);
			else
				cr_assert_str_eq(a.display, r->display, "row %zu", i);
			cr_assert_eq(a.null, r->null, "row %zu", i);
			addr_free(&a);
		} else {
			cr_assert_eq(rc, -1, "row %zu parsed", i);
			cr_assert_eq(e.code, EX_USAGE, "row %zu", i);
			cr_assert(strstr(e.msg, r->err) != NULL, "row %zu: got \"%s\"", i, e.msg);
			cr_assert_null(a.local);
		}
	}
}

Test(addr, format)
{
	struct addr a = { .local = xstrdup("a\"b"), .domain = xstrdup("x.y") };
	char *f;

	f = addr_format(&a);
	cr_assert_str_eq(f, "\"a\\\"b\"@x.y");
	free(f);
	free(a.local);
	free(a.domain);
	a.local = xstrdup("plain.dot");
	a.domain = NULL;
	f = addr_format(&a);
	cr_assert_str_eq(f, "plain.dot");
	free(f);
	a.null = true;
	f = addr_format(&a);
	cr_assert_str_eq(f, "");
	free(f);
	addr_free(&a);
	cr_assert_null(a.local);
	addr_free(NULL);
	addr_list_free(NULL);
}

struct dom_row {
	const char *d;
	bool ok;
};

static const struct dom_row dom_rows[] = {
	{ "example.com", true }, { "a", true }, { "xn--bcher-kva.example", true }, { "[10.0.0.1]", true },
	{ "EXAMPLE.COM", true }, { "", false }, { ".", false }, { "a.", false }, { ".a", false },
	{ "a..b", false }, { "-a.b", false }, { "a-.b", false }, { "a_b.c", false }, { "[1.2.3.4", false },
	{ "[01.2.3.4]", false }, { "[1.2.3.4.5]", false }, { "b\xc3\xbc" "cher.de", false }, { "a b", false },
};

Test(addr, domain_valid)
{
	size_t i;

	for (i = 0; i < sizeof dom_rows / sizeof dom_rows[0]; i++)
		cr_assert_eq(addr_domain_valid(dom_rows[i].d, strlen(dom_rows[i].d)), dom_rows[i].ok, "row %zu %s", i,
			     dom_rows[i].d);
}

/* addr_path_ok: what the SMTP client can put in MAIL FROM:<...> / RCPT TO:<...> and the envelope can
 * hold, checked on addr_parse_one's result formatted back, as the front door does. */
struct path_row {
	const char *in;
	const char *formatted;
	bool ok;
};

static const struct path_row path_rows[] = {
	{ "user@dest1.test", "user@dest1.test", true },
	{ "\"a>b\"@dest1.test", "\"a>b\"@dest1.test", false },	/* '>' ends the path for naive parsers */
	{ "\"a<b\"@dest1.test", "\"a<b\"@dest1.test", false },
	{ "\"a b\"@dest1.test", "\"a b\"@dest1.test", false },	/* a space splits the envelope's word */
	{ "\"a,b\"@dest1.test", "\"a,b\"@dest1.test", true },	/* a valid Quoted-string, sent as such */
	{ "\"a..b\"@dest1.test", "\"a..b\"@dest1.test", true },
	{ "\"a\\\"b\"@dest1.test", "\"a\\\"b\"@dest1.test", true },
	{ "\"a@b\"@dest1.test", "\"a@b\"@dest1.test", true },
	{ "j\xc3\xb6rg@dest1.test", "j\xc3\xb6rg@dest1.test", true },	/* UTF-8: SMTPUTF8 */
};

Test(addr, path_ok_table)
{
	size_t i;

	for (i = 0; i < sizeof path_rows / sizeof path_rows[0]; i++) {
		struct addr a;
		struct err e;
		char *f;

		memset(&a, 0, sizeof a);
		cr_assert_eq(addr_parse_one(path_rows[i].in, strlen(path_rows[i].in), &a, &e), 0, "row %zu: %s", i,
			     e.msg);
		f = addr_format(&a);
		cr_expect_str_eq(f, path_rows[i].formatted, "row %zu", i);
		cr_expect_eq(addr_path_ok(f, strlen(f)), path_rows[i].ok, "row %zu: %s", i, f);
		free(f);
		addr_free(&a);
	}
	cr_expect(addr_path_ok("", 0), "the null path");
	cr_expect(!addr_path_ok("a\x7f@b", 5));
	cr_expect(!addr_path_ok("a\t@b", 4));
}
