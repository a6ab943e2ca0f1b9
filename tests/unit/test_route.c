/* test_route.c - MX ordering with a fixed random function; route_mx/route_host against the fake DNS. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "queue/wire/route.h"
#include "tests/unit/fakedns.h"

/* seq - a "random" function returning the values of a fixed list in turn. */
struct seq { const uint32_t *v; size_t n, i; };
static uint32_t seq_next(void *ctx)
{
	struct seq *s = ctx;

	return s->n == 0 ? 0 : s->v[s->i++ % s->n];
}

struct orow {
	const char *name;
	const char *in;		/* "pref host,pref host" */
	uint32_t rnd[8];
	size_t nrnd;
	const char *want;	/* hosts in order, comma-separated */
};

static const struct orow orows[] = {
	{ "sorted by preference", "20 b,10 a,30 c", { 0 }, 0, "a,b,c" },
	{ "equal prefs, rnd 0 everywhere", "10 a,10 b,10 c", { 0 }, 1, "b,c,a" },
	/* Fisher-Yates over [a,b,c]: i=3 j=2 (c stays), i=2 j=0 (swap a,b) */
	{ "equal prefs, fixed swaps", "10 a,10 b,10 c", { 2, 0 }, 2, "b,a,c" },
	{ "identity shuffle", "10 a,10 b,10 c", { 2, 1 }, 2, "a,b,c" },
	{ "runs shuffled separately", "5 x,10 a,10 b,5 y", { 0 }, 1, "y,x,b,a" },
	{ "null MX among others dropped", "0 .,10 a", { 0 }, 0, "a" },
	{ "IP literals dropped", "10 1.2.3.4,10 [5.6.7.8],20 ok,30 123", { 0 }, 0, "ok" },
	{ "all dropped", "10 1.2.3.4", { 0 }, 0, "" },
	{ "single", "0 a", { 7 }, 1, "a" },
};

Test(route, order_mx)
{
	for (size_t i = 0; i < sizeof orows / sizeof orows[0]; i++) {
		const struct orow *r = &orows[i];
		struct dns_mx v[16];
		size_t n = 0, k;
		const char *p = r->in;
		struct seq s = { r->rnd, r->nrnd, 0 };
		struct buf got;

		while (*p != '\0') {
			size_t len = strcspn(p, ",");
			const char *sp = memchr(p, ' ', len);

			v[n].pref = (unsigned)strtoul(p, NULL, 10);
			v[n].host = xstrndup(sp + 1, len - (size_t)(sp + 1 - p));
			n++;
			p += len + (p[len] == ',');
		}
		k = route_order_mx(v, n, seq_next, &s);
		buf_init(&got, 1000);
		for (size_t j = 0; j < k; j++)
			cr_assert_eq(buf_printf(&got, "%s%s", j ? "," : "", v[j].host), 0);
		cr_expect_str_eq(buf_str(&got), r->want, "%s", r->name);
		buf_free(&got);
		for (size_t j = 0; j < k; j++)
			free(v[j].host);
	}
}

Test(route, ip_literal)
{
	cr_expect(route_is_ip_literal("1.2.3.4"));
	cr_expect(route_is_ip_literal("[1.2.3.4]"));
	cr_expect(route_is_ip_literal("[IPv6:::1]"));
	cr_expect(route_is_ip_literal("1.2.3"));
	cr_expect(!route_is_ip_literal("mx1.example.com"));
	cr_expect(!route_is_ip_literal("1.example.com"));
}

#define OWN(t, rdlen) 0xc0, 0x0c, 0, (t), 0, 1, 0, 0, 0, 60, 0, (rdlen)
#define NAME(c) 3, 'm', 'x', (c), 1, 't', 0	/* mxN.t */
static const unsigned char an_two[] = {
	OWN(15, 9), 0, 20, NAME('2'), OWN(15, 9), 0, 10, NAME('1'), OWN(15, 9), 0, 10, NAME('3'),
};
static const unsigned char an_null[] = { OWN(15, 3), 0, 0, 0 };
static const unsigned char an_lit[] = { OWN(15, 11), 0, 10, 1, '1', 1, '2', 1, '3', 1, '4', 0 };
static const unsigned char an_noa[] = { OWN(15, 9), 0, 10, NAME('9') };
static const unsigned char an_tmp[] = { OWN(15, 9), 0, 10, NAME('8') };
static const unsigned char a1[] = { OWN(1, 4), 127, 0, 0, 11, OWN(1, 4), 127, 0, 0, 12 };
static const unsigned char a2[] = { OWN(1, 4), 127, 0, 0, 21 };
static const unsigned char a3[] = { OWN(1, 4), 127, 0, 0, 31, OWN(1, 4), 0, 0, 0, 0 };
static const unsigned char aimp[] = { OWN(1, 4), 127, 0, 0, 99 };
static const unsigned char an_mix[] = { OWN(15, 9), 0, 10, NAME('1'), OWN(15, 9), 0, 20, NAME('p') };
static const unsigned char an_ll[] = { OWN(15, 9), 0, 10, NAME('l') };
static const unsigned char an_zero[] = { OWN(15, 9), 0, 10, NAME('z') };
static const unsigned char apub[] = { OWN(1, 4), 192, 0, 2, 5 };
static const unsigned char all[] = { OWN(1, 4), 169, 254, 1, 1 };
static const unsigned char azero[] = { OWN(1, 4), 0, 0, 0, 1, OWN(1, 4), 224, 0, 0, 1 };

#define E(n, t, rc, k, a) { n, t, rc, k, a, sizeof a }
static const struct fake_rr table[] = {
	E("two.t", 15, 0, 3, an_two),
	E("mx1.t", 1, 0, 2, a1), E("mx2.t", 1, 0, 1, a2), E("mx3.t", 1, 0, 2, a3),
	E("null.t", 15, 0, 1, an_null),
	E("lit.t", 15, 0, 1, an_lit),
	{ "implicit.t", 15, 0, 0, NULL, 0 }, E("implicit.t", 1, 0, 1, aimp),
	{ "nothing.t", 15, 0, 0, NULL, 0 }, { "nothing.t", 1, 0, 0, NULL, 0 },
	E("noa.t", 15, 0, 1, an_noa), { "mx9.t", 1, 0, 0, NULL, 0 },
	E("tmp.t", 15, 0, 1, an_tmp), { "mx8.t", 1, 2, 0, NULL, 0 },
	{ "servfail.t", 15, 2, 0, NULL, 0 },
	E("smart.t", 1, 0, 1, a2),
	E("mix.t", 15, 0, 2, an_mix), E("mxp.t", 1, 0, 1, apub),
	E("ll.t", 15, 0, 1, an_ll), E("mxl.t", 1, 0, 1, all),
	E("zero.t", 15, 0, 1, an_zero), E("mxz.t", 1, 0, 2, azero),
	{ "pubimp.t", 15, 0, 0, NULL, 0 }, E("pubimp.t", 1, 0, 1, apub),
};

struct rrow {
	const char *domain;
	bool allow_local;	/* allow_local_mx */
	enum route_result want;
	const char *targets;	/* "host ip,host ip" */
	const char *err;
};

static const struct rrow rrows[] = {
	{ "two.t", true, ROUTE_OK, "mx1.t 127.0.0.11,mx1.t 127.0.0.12,mx3.t 127.0.0.31,mx2.t 127.0.0.21" },
	{ "null.t", true, ROUTE_NULLMX, "", "does not accept mail (null MX)" },
	{ "lit.t", true, ROUTE_PERMFAIL, "", "IP literals" },
	{ "implicit.t", true, ROUTE_OK, "implicit.t 127.0.0.99" },
	{ "nothing.t", true, ROUTE_PERMFAIL, "", "no MX and no A" },
	{ "nosuch.t", true, ROUTE_NXDOMAIN, "", "does not exist" },
	{ "noa.t", true, ROUTE_NOHOSTS, "", "no MX host has an address" },
	{ "tmp.t", true, ROUTE_TEMPFAIL, "", "temporarily" },
	{ "servfail.t", true, ROUTE_TEMPFAIL, "", "DNS lookup failed" },
	/* allow_local_mx no (the default): loopback and link-local targets are refused, with a reason */
	{ "two.t", false, ROUTE_NOHOSTS, "",
	  "mail for two.t loops back to myself (mx1.t has the loopback address 127.0.0.11; allow_local_mx yes "
	  "permits it)" },
	{ "implicit.t", false, ROUTE_NOHOSTS, "", "mail for implicit.t loops back to myself (implicit.t has" },
	{ "mix.t", false, ROUTE_OK, "mxp.t 192.0.2.5" },
	{ "mix.t", true, ROUTE_OK, "mx1.t 127.0.0.11,mx1.t 127.0.0.12,mxp.t 192.0.2.5" },
	{ "ll.t", false, ROUTE_NOHOSTS, "", "mail for ll.t would go to a link-local address (mxl.t has 169.254.1.1;" },
	{ "ll.t", true, ROUTE_OK, "mxl.t 169.254.1.1" },
	/* 0/8 and 224/3: never, whatever the setting */
	{ "zero.t", true, ROUTE_NOHOSTS, "", "zero.t: no MX host has a usable address (mxz.t has 0.0.0.1, which" },
	{ "zero.t", false, ROUTE_NOHOSTS, "", "no MX host has a usable address" },
	{ "pubimp.t", false, ROUTE_OK, "pubimp.t 192.0.2.5" },
};

static uint32_t zero(void *ctx)
{
	(void)ctx;
	return 1;	/* with two equal prefs: j = 1 % 2 = 1, no swap */
}

static void targets(const struct route *r, struct buf *b)
{
	char ip[INET_ADDRSTRLEN];

	for (size_t i = 0; i < r->n; i++)
		cr_assert_eq(buf_printf(b, "%s%s %s", i ? "," : "", r->t[i].host,
					inet_ntop(AF_INET, &r->t[i].ip, ip, sizeof ip)), 0);
}

Test(route, mx_against_fake_dns)
{
	struct fakedns f;
	struct err e = { 0 };
	struct dns *d;
	struct route r;
	struct buf b;

	fakedns_start(&f, table, sizeof table / sizeof table[0]);
	cr_assert_not_null(d = dns_new(f.servers, &e), "%s", e.msg);
	dns_set_timeout(d, 1, 1);
	for (size_t i = 0; i < sizeof rrows / sizeof rrows[0]; i++) {
		enum route_result got;

		err_clear(&e);
		got = route_mx(d, rrows[i].domain, rrows[i].allow_local, zero, NULL, &r, &e);
		cr_expect_eq(got, rrows[i].want, "%s (row %zu): %d (%s)", rrows[i].domain, i, got, e.msg);
		buf_init(&b, 4096);
		targets(&r, &b);
		cr_expect_str_eq(buf_str(&b), rrows[i].targets, "%s", rrows[i].domain);
		if (rrows[i].err != NULL)
			cr_expect(strstr(e.msg, rrows[i].err) != NULL, "%s: %s", rrows[i].domain, e.msg);
		buf_free(&b);
		route_free(&r);
	}
	cr_expect_eq(route_host(d, "smart.t", 587, &r, &e), ROUTE_OK, "%s", e.msg);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.t[0].port, 587);
	route_free(&r);
	cr_expect_eq(route_host(d, "[192.0.2.1]", 465, &r, &e), ROUTE_OK);
	cr_assert_eq(r.n, 1);
	cr_expect_str_eq(r.t[0].host, "192.0.2.1");
	route_free(&r);
	cr_expect_eq(route_host(d, "192.0.2.2", 25, &r, &e), ROUTE_OK);
	route_free(&r);
	cr_expect_eq(route_host(d, "[nonsense]", 25, &r, &e), ROUTE_PERMFAIL);
	cr_expect_eq(route_host(d, "nosuch.t", 25, &r, &e), ROUTE_NXDOMAIN);
	dns_free(d);
	fakedns_stop(&f);
}
