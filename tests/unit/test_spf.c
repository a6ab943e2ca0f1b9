/* test_spf.c - the SPF evaluator (conf/spf.c): a table of zones, queries and expected results
 * (the cases issue 12 found judged wrongly, then each limit, macro and error path), served by
 * spfzone.h's in-memory zone; and the lib/dns path (TXT strings joined, A, AAAA) through
 * fakedns.h. The whole RFC 7208 suite is test_spf_suite.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "conf/spf.h"
#include "tests/unit/fakedns.h"
#include "tests/unit/spfzone.h"

/* The zone every row shares: example.org's hosts and a few helper domains. */
static const char zone_base[] =
	"mail.example.org A 192.0.2.10\n"
	"mail.example.org AAAA 2001:db8::10\n"
	"mx1.other.test A 198.51.100.1\n"
	"mx2.other.test A 198.51.100.2\n"
	"other.test MX mx1.other.test\n"
	"other.test MX mx2.other.test\n"
	"example.org MX mail.example.org\n"
	"10.2.0.192.in-addr.arpa PTR mail.example.org\n"
	"11.2.0.192.in-addr.arpa PTR liar.example.org\n"
	"192.0.2.10._e.example.org A 127.0.0.2\n"
	"example.org A 192.0.2.20\n"
	"_spf.provider.test TXT v=spf1 ip4:203.0.113.0/24 -all\n"
	"redir.test TXT v=spf1 ip4:203.0.113.7 -all\n"
	"why.example.org TXT %{i} is not one of %{d}'s hosts (sender %{l} at %{o}, %{d2} %{ir} %{v} "
	"%{L} %{h} %{o1r} %{o1r-} %%%_%-%{c})\n"
	"timeout.test TIMEOUT\n";

struct row {
	const char *record;	/* example.org's TXT; "\n" separates several records */
	const char *ip, *sender, *helo;
	const char *want;
	const char *why;	/* the explanation, when checked */
};

static const struct row rows[] = {
	/* issue 12's list */
	{ "v=spf1 a:mail.example.org -all", "192.0.2.10", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 a:mail.example.org -all", "192.0.2.99", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 ptr:example.org -all", "192.0.2.10", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 ptr -all", "192.0.2.11", "a@example.org", NULL, "fail", NULL },	/* PTR not confirmed */
	{ "v=spf1 exists:%{i}._e.example.org -all", "192.0.2.10", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 exists:%{i}._e.example.org -all", "192.0.2.12", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 -ip4:192.0.2.0/24 +all", "192.0.2.10", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 ~ip4:192.0.2.0/24 +all", "192.0.2.10", "a@example.org", NULL, "softfail", NULL },
	{ "v=spf1 ?ip4:192.0.2.0/24 +all", "192.0.2.10", "a@example.org", NULL, "neutral", NULL },
	{ "v=spf1 mx:other.test -all", "198.51.100.2", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 mx:other.test -all", "192.0.2.10", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 mx -all", "192.0.2.10", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 a a a a a a a a a a a -all", "192.0.2.99", "a@example.org", NULL, "permerror", NULL },
	{ "v=spf1 a a a a a a a a a a -all", "192.0.2.99", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 a:n1.test a:n2.test a:n3.test -all", "192.0.2.99", "a@example.org", NULL, "permerror",
	  NULL },
	{ "v=spf1 a:n1.test a:n2.test -all", "192.0.2.99", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 include:_spf.provider.test -all", "203.0.113.5", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 include:_spf.provider.test ~all", "192.0.2.10", "a@example.org", NULL, "softfail", NULL },
	{ "v=spf1 include:nospf.test -all", "192.0.2.10", "a@example.org", NULL, "permerror", NULL },
	{ "v=spf1 redirect=redir.test", "203.0.113.7", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 redirect=redir.test", "203.0.113.8", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 redirect=nospf.test", "203.0.113.8", "a@example.org", NULL, "permerror", NULL },
	/* record selection */
	{ NULL, "192.0.2.10", "a@example.org", NULL, "none", NULL },
	{ "v=spf1 +all\nv=spf1 -all", "192.0.2.10", "a@example.org", NULL, "permerror", NULL },
	{ "v=spf10 +all\nV=SPF1 -all", "192.0.2.10", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1", "192.0.2.10", "a@example.org", NULL, "neutral", NULL },
	{ "v=spf1 bogus:x -all", "192.0.2.10", "a@example.org", NULL, "permerror", NULL },
	{ "v=spf1 -all unknown-mod=%{x}", "192.0.2.10", "a@example.org", NULL, "permerror", NULL },
	{ "v=spf1 -all foo=bar", "192.0.2.10", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 -all redirect=a.test redirect=b.test", "192.0.2.10", "a@example.org", NULL, "permerror",
	  NULL },
	/* CIDR and IPv6 (textual) */
	{ "v=spf1 ip4:192.0.2.128/25 -all", "192.0.2.10", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 ip4:192.0.2.0/33 -all", "192.0.2.10", "a@example.org", NULL, "permerror", NULL },
	{ "v=spf1 ip6:2001:db8::/32 -all", "2001:db8:1::5", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 ip6:2001:db8::/48 -all", "2001:db8:1::5", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 a:mail.example.org/24//64 -all", "192.0.2.77", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 a:mail.example.org/24//64 -all", "2001:db8::ffff", "a@example.org", NULL, "pass", NULL },
	{ "v=spf1 a:mail.example.org//128 -all", "2001:db8::11", "a@example.org", NULL, "fail", NULL },
	{ "v=spf1 ip4:192.0.2.10 -all", "::ffff:192.0.2.10", "a@example.org", NULL, "pass", NULL },
	/* errors */
	{ "v=spf1 a:timeout.test -all", "192.0.2.10", "a@example.org", NULL, "temperror", NULL },
	{ "v=spf1 include:timeout.test -all", "192.0.2.10", "a@example.org", NULL, "temperror", NULL },
	/* HELO identity and the sender forms */
	{ "v=spf1 a:mail.example.org -all", "192.0.2.10", "", "example.org", "pass", NULL },
	{ "v=spf1 a:mail.example.org -all", "192.0.2.10", "", "single", "none", NULL },
	/* explanations and macros */
	{ "v=spf1 -all exp=why.example.org", "192.0.2.99", "Jo.Bloggs@example.org", "helo.test", "fail",
	  "192.0.2.99 is not one of example.org's hosts (sender Jo.Bloggs at example.org, example.org "
	  "99.2.0.192 in-addr Jo.Bloggs helo.test example example.org % %20192.0.2.99)" },
	{ "v=spf1 -all exp=none.test", "192.0.2.99", "a@example.org", NULL, "fail",
	  "SPF fail: example.org does not designate 192.0.2.99 as permitted sender" },
	{ "v=spf1 -all exp=%{c}.test", "192.0.2.99", "a@example.org", NULL, "permerror", NULL },
	{ "v=spf1 exists:%{l1r+}.example.org -all", "192.0.2.99", "a+b@example.org", NULL, "fail", NULL },
	{ "v=spf1 exists:%{ir}.%{v}._e.example.org -all", "2001:db8::1", "a@example.org", NULL, "fail",
	  NULL },
	{ "v=spf1 exists:%{i0}.example.org -all", "192.0.2.99", "a@example.org", NULL, "permerror", NULL },
};

static void load(struct zone *z, const struct row *r)
{
	zone_clear(z);
	zone_load(z, zone_base);
	for (const char *p = r->record; p != NULL && *p != '\0';) {
		size_t l = strcspn(p, "\n");
		char rec[512];

		snprintf(rec, sizeof rec, "%.*s", (int)l, p);
		zone_add(z, "example.org", DNS_T_TXT, rec);
		p += l + (p[l] == '\n');
	}
}

Test(spf, table)
{
	struct zone z = { 0 };

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct spf_query q = { .ip = r->ip, .sender = r->sender, .helo = r->helo, .now = 1,
				       .lookup = zone_lookup, .ctx = &z };
		char *why;
		const char *got;

		load(&z, r);
		got = spf_result_str(spf_check(&q, &why));
		cr_expect_str_eq(got, r->want, "row %zu (%s, %s): %s (%s)", i, r->record, r->ip, got, why);
		if (r->why != NULL)
			cr_expect_str_eq(why, r->why, "row %zu: %s", i, why);
		free(why);
	}
	zone_clear(&z);
	free(z.rr);
}

/* The per-mx 10-name limit: 11 MX names are permerror even when the first matches. */
Test(spf, mx_names)
{
	struct zone z = { 0 };
	struct spf_query q = { .ip = "198.51.100.1", .sender = "a@example.org", .lookup = zone_lookup,
			       .ctx = &z };
	char *why, name[32];

	zone_add(&z, "example.org", DNS_T_TXT, "v=spf1 mx -all");
	for (int i = 0; i < 11; i++) {
		snprintf(name, sizeof name, "mx%d.example.org", i);
		zone_add(&z, "example.org", DNS_T_MX, name);
		zone_add(&z, name, DNS_T_A, "198.51.100.1");
	}
	cr_expect_str_eq(spf_result_str(spf_check(&q, &why)), "permerror", "%s", why);
	free(why);
	z.n -= 2;	/* 10 names: allowed */
	cr_expect_str_eq(spf_result_str(spf_check(&q, &why)), "pass", "%s", why);
	free(why);
	zone_clear(&z);
	free(z.rr);
}

/* lib/dns: a TXT record of two strings is joined; AAAA answers reach the evaluator. */
static const unsigned char an_txt[] = {
	0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0, 15,
	8, 'v', '=', 's', 'p', 'f', '1', ' ', 'a', 5, ' ', '-', 'a', 'l', 'l',
};
static const unsigned char an_a[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
static const unsigned char an_aaaa[] = {
	0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

Test(spf, lib_dns)
{
	static const struct fake_rr table[] = {
		{ "dns.test", 16, 0, 1, an_txt, sizeof an_txt },
		{ "dns.test", 1, 0, 1, an_a, sizeof an_a },
		{ "dns.test", 28, 0, 1, an_aaaa, sizeof an_aaaa },
	};
	static const struct { const char *ip, *want; } q[] = {
		{ "192.0.2.1", "pass" }, { "2001:db8::1", "pass" }, { "2001:db8::2", "fail" },
		{ "1.2.3.4", "fail" },	/* "-all" is in the second string */
	};
	struct fakedns f;
	struct err e = { 0 };
	struct dns *d;

	fakedns_start(&f, table, sizeof table / sizeof table[0]);
	d = dns_new(f.servers, &e);
	cr_assert_not_null(d, "%s", e.msg);
	dns_set_timeout(d, 1, 1);
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		struct spf_query sq = { .ip = q[i].ip, .sender = "a@dns.test", .lookup = spf_dns_lookup,
					.ctx = d };
		char *why;

		cr_expect_str_eq(spf_result_str(spf_check(&sq, &why)), q[i].want, "%s: %s", q[i].ip, why);
		free(why);
	}
	dns_free(d);
	fakedns_stop(&f);
}
