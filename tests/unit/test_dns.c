/* test_dns.c - dns_parse_answer on hand-built responses; dns_answer_follow; lookups against a fake
 * UDP DNS server in a child process (tests/unit/fakedns.h). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/dns.h"
#include "lib/limits.h"
#include "tests/unit/fakedns.h"

/* header: id 0x1234, QR|RD, RA + rcode, qdcount 1, ancount an */
#define HDR(rc, an) 0x12, 0x34, 0x81, 0x80 | (rc), 0, 1, 0, (an), 0, 0, 0, 0
#define HDR_AA(an) 0x12, 0x34, 0x85, 0x80, 0, 1, 0, (an), 0, 0, 0, 0
/* example.com at offset 12 */
#define EXAMPLE 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0
#define Q(t) EXAMPLE, 0, (t), 0, 1
/* an RR owned by example.com (pointer to 12), class IN, TTL 3600 */
#define RR(t, rdlen) 0xc0, 0x0c, 0, (t), 0, 1, 0, 0, 0x0e, 0x10, 0, (rdlen)

static const unsigned char mx3[] = {
	HDR_AA(3), Q(15),
	RR(15, 8), 0, 20, 3, 'm', 'x', '2', 0xc0, 0x0c,
	RR(15, 8), 0, 10, 3, 'm', 'x', '1', 0xc0, 0x0c,
	RR(15, 18), 0, 10, 4, 'm', 'a', 'i', 'l', 5, 'o', 't', 'h', 'e', 'r', 3, 'n', 'e', 't', 0,
};
static const unsigned char nullmx[] = { HDR(0, 1), Q(15), RR(15, 3), 0, 0, 0 };
static const unsigned char shorthdr[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0 };
/* www.example.com CNAME a.example.com; a CNAME b; b A 192.0.2.7; also an AAAA and a CH record */
static const unsigned char cname[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	/* 33: www.example.com (ptr 12) CNAME a.example.com (a + ptr 16) */
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'a', 0xc0, 16,
	/* 49: a.example.com (ptr 45) CNAME b.example.com */
	0xc0, 45, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'b', 0xc0, 16,
	/* 65: b.example.com (ptr 61) A 192.0.2.7 */
	0xc0, 61, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7,
	/* AAAA for b: ignored */
	0xc0, 61, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	/* class CH A: ignored */
	0xc0, 61, 0, 1, 0, 3, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1,
};
static const unsigned char txt[] = {
	HDR(0, 2), Q(16),
	RR(16, 12), 7, 'v', '=', 's', 'p', 'f', '1', ' ', 3, '-', 'a', 'l',
	RR(16, 5), 0, 3, 'x', 'y', 'z',
};
static const unsigned char txt_nul[] = { HDR(0, 1), Q(16), RR(16, 3), 2, 'a', 0 };
static const unsigned char txt_over[] = { HDR(0, 1), Q(16), RR(16, 3), 5, 'a', 'b' };
static const unsigned char ptr[] = {
	HDR(0, 1), 1, '4', 1, '3', 1, '2', 1, '1', 7, 'i', 'n', '-', 'a', 'd', 'd', 'r', 4, 'a', 'r', 'p', 'a', 0,
	0, 12, 0, 1,
	0xc0, 0x0c, 0, 12, 0, 1, 0, 0, 0, 60, 0, 7, 4, 'h', 'o', 's', 't', 0xc0, 0x0c,
};
static const unsigned char nxdomain[] = { HDR(3, 0), Q(15) };
/* the answer's owner is a pointer to itself (offset 29) */
static const unsigned char loop_self[] = { HDR(0, 1), Q(15), 0xc0, 29, 0, 15, 0, 1, 0, 0, 0, 1, 0, 3, 0, 0, 0 };
/* a pointer forwards (to 40, after it) */
static const unsigned char loop_fwd[] = { HDR(0, 1), Q(15), 0xc0, 40, 0, 15, 0, 1, 0, 0, 0, 1, 0, 3, 0, 0, 0, 0xc0, 29 };
/* the exchange's labels then a pointer back to the exchange itself: 2 -> 3 -> back to 2 */
static const unsigned char loop_two[] = {
	HDR(0, 1), Q(15), RR(15, 7), 0, 10, 1, 'x', 0xc0, 43, 0,
};
static const unsigned char wrong_more[] = { HDR(0, 2), Q(15), RR(15, 3), 0, 0, 0 };
static const unsigned char wrong_less[] = { HDR(0, 1), Q(15), RR(15, 3), 0, 0, 0, RR(15, 3), 0, 1, 0 };
static const unsigned char rdlen_long[] = { HDR(0, 1), Q(15), RR(15, 9), 0, 0, 0 };
static const unsigned char mx_slack[] = { HDR(0, 1), Q(15), RR(15, 4), 0, 0, 0, 'x' };
static const unsigned char a_bad[] = { HDR(0, 1), Q(1), RR(1, 5), 1, 2, 3, 4, 5 };
static const unsigned char a_ok[] = { HDR(0, 2), Q(1), RR(1, 4), 1, 2, 3, 4, RR(1, 4), 127, 0, 0, 2 };
static const unsigned char badchar[] = { HDR(0, 1), Q(15), RR(15, 6), 0, 1, 2, 'a', ' ', 0 };
static const unsigned char dotlabel[] = { HDR(0, 1), Q(15), RR(15, 6), 0, 1, 2, 'a', '.', 0 };
static const unsigned char query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, Q(15) };
static const unsigned char twoq[] = { 0x12, 0x34, 0x81, 0x80, 0, 2, 0, 0, 0, 0, 0, 0, Q(15), Q(15) };
static const unsigned char labeltype[] = { HDR(0, 1), Q(15), RR(15, 5), 0, 1, 0x41, 'a', 0 };

/* render - one record as text for exact comparison. */
static void render(const struct dns_rr *rr, char *out, size_t n)
{
	char ip[INET_ADDRSTRLEN];

	switch (rr->type) {
	case DNS_T_MX:
		snprintf(out, n, "%s MX %u %s", rr->owner, rr->pref, rr->data);
		break;
	case DNS_T_A:
		inet_ntop(AF_INET, &rr->a, ip, sizeof ip);
		snprintf(out, n, "%s A %s", rr->owner, ip);
		break;
	case DNS_T_CNAME:
		snprintf(out, n, "%s CNAME %s", rr->owner, rr->data);
		break;
	case DNS_T_PTR:
		snprintf(out, n, "%s PTR %s", rr->owner, rr->data);
		break;
	case DNS_T_TXT:
		snprintf(out, n, "%s TXT [%s]", rr->owner, rr->data);
		break;
	}
}

struct row {
	const char *name;
	const unsigned char *pkt;
	size_t len;
	int qtype;
	int rcode;	/* -1: parse must fail */
	const char *want[5];
	const char *err;	/* substring of the reason */
};

#define P(x) x, sizeof x

static const struct row rows[] = {
	{ "mx3", P(mx3), DNS_T_MX, 0, { "example.com MX 20 mx2.example.com", "example.com MX 10 mx1.example.com",
	  "example.com MX 10 mail.other.net" } },
	{ "nullmx", P(nullmx), DNS_T_MX, 0, { "example.com MX 0 ." } },
	{ "cname", P(cname), DNS_T_A, 0, { "www.example.com CNAME a.example.com",
	  "a.example.com CNAME b.example.com", "b.example.com A 192.0.2.7" } },
	{ "txt", P(txt), DNS_T_TXT, 0, { "example.com TXT [v=spf1 -al]", "example.com TXT [xyz]" } },
	{ "txt asked MX", P(txt), DNS_T_MX, 0, { NULL } },
	{ "ptr", P(ptr), DNS_T_PTR, 0, { "4.3.2.1.in-addr.arpa PTR host.4.3.2.1.in-addr.arpa" } },
	{ "nxdomain", P(nxdomain), DNS_T_MX, 3, { NULL } },
	{ "a", P(a_ok), DNS_T_A, 0, { "example.com A 1.2.3.4", "example.com A 127.0.0.2" } },
	{ "fewer answers than counted", P(wrong_more), DNS_T_MX, -1, { NULL }, "past the end" },
	{ "more answers than counted", P(wrong_less), DNS_T_MX, 0, { "example.com MX 0 ." } },
	{ "pointer to itself", P(loop_self), DNS_T_MX, -1, { NULL }, "backwards" },
	{ "pointer forwards", P(loop_fwd), DNS_T_MX, -1, { NULL }, "backwards" },
	{ "pointer loop", P(loop_two), DNS_T_MX, -1, { NULL }, "backwards" },
	{ "rdlength past end", P(rdlen_long), DNS_T_MX, -1, { NULL }, "past the end" },
	{ "rdata longer than name", P(mx_slack), DNS_T_MX, -1, { NULL }, "longer than its name" },
	{ "A with 5 bytes", P(a_bad), DNS_T_A, -1, { NULL }, "RDLENGTH 5" },
	{ "TXT with NUL", P(txt_nul), DNS_T_TXT, -1, { NULL }, "NUL" },
	{ "TXT string overflows", P(txt_over), DNS_T_TXT, -1, { NULL }, "runs past" },
	{ "space in label", P(badchar), DNS_T_MX, -1, { NULL }, "not allowed" },
	{ "dot in label", P(dotlabel), DNS_T_MX, -1, { NULL }, "not allowed" },
	{ "a query, not a response", P(query), DNS_T_MX, -1, { NULL }, "not a response" },
	{ "two questions", P(twoq), DNS_T_MX, -1, { NULL }, "2 questions" },
	{ "extended label type", P(labeltype), DNS_T_MX, -1, { NULL }, "label type" },
	{ "short header", P(shorthdr), DNS_T_MX, -1, { NULL }, "shorter than its header" },
};

Test(dns, parse_table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct dns_answer a;
		struct err e = { 0 };
		size_t n = 0;
		int got = dns_parse_answer(r->pkt, r->len, r->qtype, &a, &e);

		if (r->rcode < 0) {
			cr_expect_eq(got, -1, "%s: parsed", r->name);
			cr_expect(strstr(e.msg, r->err) != NULL, "%s: reason %s", r->name, e.msg);
			cr_expect_eq(a.nrr, 0, "%s", r->name);
			continue;
		}
		cr_assert_eq(got, 0, "%s: %s", r->name, e.msg);
		cr_expect_eq(a.rcode, r->rcode, "%s", r->name);
		while (n < 5 && r->want[n] != NULL)
			n++;
		cr_expect_eq(a.nrr, n, "%s: %zu records", r->name, a.nrr);
		for (size_t k = 0; k < n && k < a.nrr; k++) {
			char s[300];

			render(&a.rr[k], s, sizeof s);
			cr_expect_str_eq(s, r->want[k], "%s", r->name);
		}
		dns_answer_free(&a);
	}
}

Test(dns, flags)
{
	struct dns_answer a;
	struct err e;

	cr_assert_eq(dns_parse_answer(mx3, sizeof mx3, DNS_T_MX, &a, &e), 0);
	cr_expect(a.aa);
	cr_expect(!a.tc);
	dns_answer_free(&a);
	cr_assert_eq(dns_parse_answer(nullmx, sizeof nullmx, DNS_T_MX, &a, &e), 0);
	cr_expect(!a.aa);
	dns_answer_free(&a);
}

Test(dns, every_truncation_fails_cleanly)
{
	const struct { const unsigned char *p; size_t n; } pk[] = { { P(mx3) }, { P(cname) }, { P(txt) }, { P(ptr) } };

	for (size_t k = 0; k < sizeof pk / sizeof pk[0]; k++)
		for (size_t len = 0; len < pk[k].n; len++) {
			struct dns_answer a;
			struct err e;

			cr_expect_eq(dns_parse_answer(pk[k].p, len, DNS_T_MX, &a, &e), -1,
				     "packet %zu cut at %zu", k, len);
		}
}

Test(dns, name_too_long)
{
	unsigned char pkt[600] = { HDR(0, 1) };
	size_t n = 12;
	struct dns_answer a;
	struct err e;

	for (int i = 0; i < 5; i++) {	/* 5 labels of 63 = 320 octets */
		pkt[n++] = 63;
		memset(pkt + n, 'a', 63);
		n += 63;
	}
	pkt[n++] = 0;
	pkt[n++] = 0, pkt[n++] = 15, pkt[n++] = 0, pkt[n++] = 1;
	cr_expect_eq(dns_parse_answer(pkt, n, DNS_T_MX, &a, &e), -1);
	cr_expect(strstr(e.msg, "255") != NULL, "%s", e.msg);
}

Test(dns, follow)
{
	struct dns_answer a;
	struct err e;
	size_t steps = 99;
	const char *f;

	cr_assert_eq(dns_parse_answer(cname, sizeof cname, DNS_T_A, &a, &e), 0);
	f = dns_answer_follow(&a, "WWW.example.com.", 8, &steps);
	cr_assert_not_null(f);
	cr_expect_str_eq(f, "b.example.com");
	cr_expect_eq(steps, 2);
	cr_expect_null(dns_answer_follow(&a, "www.example.com", 1, &steps));
	f = dns_answer_follow(&a, "other.example.com", 8, &steps);
	cr_expect_str_eq(f, "other.example.com");
	cr_expect_eq(steps, 0);
	dns_answer_free(&a);
}

Test(dns, name_eq)
{
	cr_expect(dns_name_eq("Example.COM", "example.com."));
	cr_expect(!dns_name_eq("example.com", "example.co"));
	cr_expect(dns_name_eq(".", "."));
}

Test(dns, new_servers)
{
	struct err e = { 0 };
	struct dns *d;

	cr_expect_null(dns_new("1.2.3", &e));
	cr_expect(strstr(e.msg, "not an IPv4") != NULL, "%s", e.msg);
	cr_expect_null(dns_new("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4", &e));
	cr_expect_null(dns_new("   ", &e));
	cr_expect_null(dns_new("127.0.0.1:0", &e));
	d = dns_new("127.0.0.1 127.0.0.2:5353", &e);
	cr_expect_not_null(d, "%s", e.msg);
	dns_free(d);
	dns_free(NULL);
}

/* ---- lookups against the fake server ---- */

#define OWN(t, rdlen) 0xc0, 0x0c, 0, (t), 0, 1, 0, 0, 0, 60, 0, (rdlen)
static const unsigned char an_mx[] = { OWN(15, 11), 0, 5, 2, 'm', 'x', 4, 't', 'e', 's', 't', 0 };
static const unsigned char an_alias[] = { OWN(5, 11), 4, 'r', 'e', 'a', 'l', 4, 't', 'e', 's', 't', 0 };
static const unsigned char an_loop[] = { OWN(5, 2), 0xc0, 0x0c };
static const unsigned char an_a[] = { OWN(1, 4), 127, 0, 0, 9, OWN(1, 4), 127, 0, 0, 10 };
static const unsigned char an_txt[] = { OWN(16, 8), 3, 'a', 'b', 'c', 3, 'd', 'e', 'f' };
static const unsigned char an_ptr[] = { OWN(12, 9), 2, 'm', 'x', 4, 't', 'e', 's', 't', 0 };
static const unsigned char an_bad[] = { OWN(15, 3), 0, 5, 0xc0 };
#define C(n, m) static const unsigned char an_c##n[] = { OWN(5, 5), 2, 'c', '0' + (m), 0xc0, 0x0f };
/* cN.test CNAME c(N+1).test: the pointer 0x0f is "test" in the question "cN.test" */
C(0, 1) C(1, 2) C(2, 3) C(3, 4) C(4, 5) C(5, 6) C(6, 7) C(7, 8) C(8, 9)

#define E(n, t, rc, k, a) { n, t, rc, k, a, sizeof a }
static const struct fake_rr table[] = {
	E("mx.test", 15, 0, 1, an_mx),
	{ "nodata.test", 15, 0, 0, NULL, 0 },
	{ "servfail.test", 15, 2, 0, NULL, 0 },
	{ "refused.test", 15, 5, 0, NULL, 0 },
	{ "slow.test", 15, -1, 0, NULL, 0 },
	E("alias.test", 15, 0, 1, an_alias),
	E("real.test", 15, 0, 1, an_mx),
	E("loop.test", 1, 0, 1, an_loop),
	E("a.test", 1, 0, 2, an_a),
	E("txt.test", 16, 0, 1, an_txt),
	E("9.0.0.127.in-addr.arpa", 12, 0, 1, an_ptr),
	E("bad.test", 15, 0, 1, an_bad),
	E("c0.test", 1, 0, 1, an_c0), E("c1.test", 1, 0, 1, an_c1), E("c2.test", 1, 0, 1, an_c2),
	E("c3.test", 1, 0, 1, an_c3), E("c4.test", 1, 0, 1, an_c4), E("c5.test", 1, 0, 1, an_c5),
	E("c6.test", 1, 0, 1, an_c6), E("c7.test", 1, 0, 1, an_c7), E("c8.test", 1, 0, 1, an_c8),
	E("c9.test", 1, 0, 2, an_a),
	E("c3.test", 15, 0, 1, an_c3), E("c4.test", 15, 0, 1, an_c4), E("c5.test", 15, 0, 1, an_c5),
	E("c6.test", 15, 0, 1, an_c6), E("c7.test", 15, 0, 1, an_c7), E("c8.test", 15, 0, 1, an_c8),
	E("c9.test", 15, 0, 1, an_mx),
};

Test(dns, lookups)
{
	struct fakedns f;
	struct err e = { 0 };
	struct dns *d;
	struct dns_mx *mx;
	struct in_addr ip[4];
	char **txtv, *name, s[32];
	size_t n;
	const struct { const char *name; int qtype; enum dns_result want; } q[] = {
		{ "nodata.test", DNS_T_MX, DNS_NODATA },
		{ "nosuch.test", DNS_T_MX, DNS_NXDOMAIN },
		{ "servfail.test", DNS_T_MX, DNS_TEMPFAIL },
		{ "refused.test", DNS_T_MX, DNS_TEMPFAIL },
		{ "slow.test", DNS_T_MX, DNS_TEMPFAIL },
		{ "bad.test", DNS_T_MX, DNS_FAIL },
		{ "loop.test", DNS_T_A, DNS_FAIL },
		{ "c0.test", DNS_T_A, DNS_FAIL },	/* 9 CNAMEs across 9 queries */
		{ "c3.test", DNS_T_MX, DNS_OK },	/* 6 CNAMEs: followed */
		{ "mx.test", DNS_T_A, DNS_NXDOMAIN },
	};

	fakedns_start(&f, table, sizeof table / sizeof table[0]);
	d = dns_new(f.servers, &e);
	cr_assert_not_null(d, "%s", e.msg);
	dns_set_timeout(d, 1, 1);
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		struct dns_answer a;
		enum dns_result r = dns_query(d, q[i].name, q[i].qtype, &a, &e);

		cr_expect_eq(r, q[i].want, "%s: %s (%s)", q[i].name, dns_result_str(r), e.msg);
		if (r == DNS_OK)
			dns_answer_free(&a);
	}
	cr_assert_eq(dns_mx(d, "alias.test", &mx, &n, &e), DNS_OK, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_expect_eq(mx[0].pref, 5);
	cr_expect_str_eq(mx[0].host, "mx.test");
	dns_mx_free(mx, n);
	cr_assert_eq(dns_a(d, "a.test", ip, 1, &n, &e), DNS_OK, "%s", e.msg);
	cr_expect_eq(n, 1);	/* capped at max */
	cr_expect_str_eq(inet_ntop(AF_INET, &ip[0], s, sizeof s), "127.0.0.9");
	cr_assert_eq(dns_txt(d, "txt.test", &txtv, &n, &e), DNS_OK, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(txtv[0], "abcdef");
	dns_txt_free(txtv, n);
	cr_assert_eq(dns_ptr(d, ip[0], &name, &e), DNS_OK, "%s", e.msg);
	cr_expect_str_eq(name, "mx.test");
	free(name);
	dns_free(d);
	fakedns_stop(&f);
}
