/* test_check_rec.c - the pure decisions of `postern check`: host names, generic PTRs, NAT addresses. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "conf/check_rec.h"

Test(check_rec, hostname)
{
	static const struct {
		const char *name;
		bool bad;
	} rows[] = {
		{ "mail.example.org", false },
		{ "MX1.Example.ORG", false },
		{ "a-b.c-d.example", false },
		{ "vm", true },			/* one label: EHLO vm, Message-ID @vm */
		{ "localhost", true },
		{ "localhost.localdomain", true },
		{ "mail.localdomain", true },
		{ "nas.local", true },
		{ "box.lan", true },
		{ "router.home", true },
		{ "db.internal", true },
		{ "192.0.2.1", true },
		{ "mail.example.123", true },	/* all-digit top label */
		{ "-mail.example.org", true },
		{ "mail_1.example.org", true },
		{ "mail..example.org", true },
		{ "", true },
		{ NULL, true },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(check_hostname_bad(rows[i].name) != NULL, rows[i].bad, "row %zu: %s", i,
		    rows[i].name ? rows[i].name : "(null)");
}

Test(check_rec, ptr_generic)
{
	static const struct {
		const char *name, *ip;
		bool generic;
	} rows[] = {
		{ "127-0-0-90.dyn.isp.test", "127.0.0.90", true },
		{ "host-203-0-113-5.example.net", "203.0.113.5", true },
		{ "5.113.0.203.in-addr.example", "203.0.113.5", true },	/* reversed */
		{ "c-203-0-113-5.hsd1.example.net", "203.0.113.5", true },
		{ "static.5.113.0.203.clients.your-server.example", "203.0.113.5", true },
		{ "ec2_203_0_113_5.compute.example", "203.0.113.5", true },
		{ "host203000113005.example.net", "203.0.113.5", true },	/* zero-padded */
		{ "ipcb007105.dynamic.example", "203.0.113.5", true },	/* hex, and a token */
		{ "ipcb007105.example", "203.0.113.5", true },		/* hex alone */
		{ "adsl-1.example.net", "203.0.113.5", true },
		{ "pool-77.example.net", "203.0.113.5", true },
		{ "dhcp1234.example.net", "203.0.113.5", true },
		{ "cpe.cable.example.net", "203.0.113.5", true },
		{ "ppp.example.net", "203.0.113.5", true },
		{ "mail.example.org", "203.0.113.5", false },
		{ "mx1.example.org", "203.0.113.5", false },
		{ "smtp-out.example.org", "203.0.113.5", false },
		{ "mail.postern.example", "127.0.0.1", false },
		{ "vps203.example.org", "203.0.113.5", false },	/* one number is not the address */
		{ "mail.natwest.example", "203.0.113.5", false },	/* "nat" inside a word */
		{ "dynamo.example.org", "203.0.113.5", false },	/* "dyn" inside a word */
		{ "1203-0-113-5.example", "203.0.113.5", false },	/* another address's digits */
		{ "203-0-113-51.example", "203.0.113.5", false },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct in_addr ip;

		cr_assert_eq(inet_pton(AF_INET, rows[i].ip, &ip), 1);
		cr_expect_eq(check_ptr_generic(rows[i].name, ip), rows[i].generic, "row %zu: %s", i, rows[i].name);
	}
}

Test(check_rec, addr_private)
{
	static const struct {
		const char *ip;
		bool priv;
	} rows[] = {
		{ "10.1.2.3", true }, { "172.16.0.1", true }, { "172.31.255.255", true }, { "172.32.0.1", false },
		{ "192.168.1.10", true }, { "192.169.0.1", false }, { "100.64.0.1", true }, { "100.127.255.254", true },
		{ "100.128.0.1", false }, { "169.254.1.1", true }, { "203.0.113.5", false }, { "127.0.0.1", false },
		{ "8.8.8.8", false },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct in_addr ip;

		cr_assert_eq(inet_pton(AF_INET, rows[i].ip, &ip), 1);
		cr_expect_eq(check_addr_private(ip), rows[i].priv, "row %zu: %s", i, rows[i].ip);
	}
}

Test(check_rec, taglist)
{
	static const struct {
		const char *rec;
		int want;
		size_t n;
		const char *last;	/* the last tag's value */
	} rows[] = {
		{ "v=DKIM1; k=rsa; p=AB", 0, 3, "AB" },
		{ "v=DKIM1; k=rsa; p=AB;", 0, 3, "AB" },	/* one trailing ';' */
		{ " v = DKIM1 ;\tp = A B ", 0, 2, "A B" },	/* white space around names and values */
		{ "p=", 0, 1, "" },
		{ "", 0, 0, NULL },
		{ "v=DKIM1;; p=AB", -1, 0, NULL },	/* an empty tag-spec inside */
		{ "v=DKIM1; k", -1, 0, NULL },		/* no '=' */
		{ "v=DKIM1; 1k=rsa", -1, 0, NULL },	/* a name starts with a letter */
		{ "v=DKIM1; k-x=rsa", -1, 0, NULL },
		{ "k_1=rsa", 0, 1, "rsa" },
		{ "k=rsa; k=rsa", -1, 0, NULL },	/* twice */
		{ "=rsa", -1, 0, NULL },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct check_tag t[CHECK_TAGS_MAX];
		char why[128];
		size_t n = 99;
		int r = check_taglist(rows[i].rec, strlen(rows[i].rec), t, &n, why, sizeof why);

		cr_expect_eq(r, rows[i].want, "row %zu: %s", i, rows[i].rec);
		if (r == 0) {
			cr_expect_eq(n, rows[i].n, "row %zu", i);
			if (rows[i].last != NULL && n > 0)
				cr_expect(t[n - 1].vlen == strlen(rows[i].last) &&
				    memcmp(t[n - 1].val, rows[i].last, t[n - 1].vlen) == 0, "row %zu", i);
		}
	}
}

Test(check_rec, dkim_parse)
{
	static const struct {
		const char *rec;
		int want;
		const char *k;
		bool v_first, sha256, email, testing;
		size_t plen;
	} rows[] = {
		{ "v=DKIM1; k=rsa; p=MIIB", 0, "rsa", true, true, true, false, 4 },
		{ "p=MIIB", 0, "rsa", true, true, true, false, 4 },	/* k= absent means rsa */
		{ "v=DKIM1; k=ed25519; p=abc=", 0, "ed25519", true, true, true, false, 4 },
		{ "k=rsa; v=DKIM1; p=MIIB", 0, "rsa", false, true, true, false, 4 },
		{ "v=DKIM1; h=sha1; p=MIIB", 0, "rsa", true, false, true, false, 4 },
		{ "v=DKIM1; h=sha1:sha256; p=MIIB", 0, "rsa", true, true, true, false, 4 },
		{ "v=DKIM1; h = sha1 : sha256 ; p=MIIB", 0, "rsa", true, true, true, false, 4 },
		{ "v=DKIM1; s=other; p=MIIB", 0, "rsa", true, true, false, false, 4 },
		{ "v=DKIM1; s=email; p=MIIB", 0, "rsa", true, true, true, false, 4 },
		{ "v=DKIM1; s=*; p=MIIB", 0, "rsa", true, true, true, false, 4 },
		{ "v=DKIM1; s=tlsrpt:email; p=MIIB", 0, "rsa", true, true, true, false, 4 },
		{ "v=DKIM1; t=y; p=MIIB", 0, "rsa", true, true, true, true, 4 },
		{ "v=DKIM1; t=s:y; p=MIIB", 0, "rsa", true, true, true, true, 4 },
		{ "v=DKIM1; t=s; p=MIIB", 0, "rsa", true, true, true, false, 4 },
		{ "v=DKIM1; p=", 0, "rsa", true, true, true, false, 0 },	/* revoked */
		{ "v=DKIM1; p=MI IB\t+/==", 0, "rsa", true, true, true, false, 8 },	/* split strings */
		{ "v=DKIM2; p=MIIB", -1, NULL, false, false, false, false, 0 },
		{ "v=dkim1; p=MIIB", -1, NULL, false, false, false, false, 0 },	/* values are case-sensitive */
		{ "v=DKIM1; k=dsa; p=MIIB", -1, NULL, false, false, false, false, 0 },
		{ "v=DKIM1; k=rsa", -1, NULL, false, false, false, false, 0 },	/* no p= */
		{ "v=DKIM1; p=MII\"B", -1, NULL, false, false, false, false, 0 },	/* a stray quote */
		{ "v=DKIM1; p=MIIB; p=MIIB", -1, NULL, false, false, false, false, 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct check_dkimrec r;
		char why[128];
		int rc = check_dkim_parse(rows[i].rec, strlen(rows[i].rec), &r, why, sizeof why);

		cr_expect_eq(rc, rows[i].want, "row %zu: %s", i, rows[i].rec);
		if (rc != 0 || rows[i].want != 0)
			continue;
		cr_expect_str_eq(r.k, rows[i].k, "row %zu", i);
		cr_expect_eq(r.v_first, rows[i].v_first, "row %zu: v_first", i);
		cr_expect_eq(r.sha256, rows[i].sha256, "row %zu: sha256", i);
		cr_expect_eq(r.email, rows[i].email, "row %zu: email", i);
		cr_expect_eq(r.testing, rows[i].testing, "row %zu: testing", i);
		cr_expect_eq(r.plen, rows[i].plen, "row %zu: plen", i);
	}
}

Test(check_rec, dmarc_parse)
{
	static const struct {
		const char *rec;
		int want;
		const char *p, *sp;
		char adkim;
		int pct;
		size_t nuri;
		const char *uri0;
	} rows[] = {
		{ "v=DMARC1; p=reject", 0, "reject", "", 'r', 100, 0, NULL },
		{ "v=DMARC1; p=Quarantine; sp=none; adkim=s; aspf=r; pct=50", 0, "quarantine", "none", 's', 50, 0, NULL },
		{ "v=DMARC1;p=none;rua=mailto:d@Rep.Example.net", 0, "none", "", 'r', 100, 1, "rep.example.net" },
		{ "v=DMARC1; p=none; rua=mailto:a@x.example!10m, mailto:b@y.example; ruf=mailto:c@z.example", 0, "none",
		  "", 'r', 100, 3, "x.example" },
		{ "v=DMARC1; p=none; fo=1:d; rf=afrf; ri=86400; x=unknown", 0, "none", "", 'r', 100, 0, NULL },
		{ "v=DMARC1; p=none; pct=0", 0, "none", "", 'r', 0, 0, NULL },
		{ "v=DMARC1; p=rejct", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; sp=reject", -1, NULL, NULL, 0, 0, 0, NULL },	/* no p= */
		{ "v=DMARC1; p=none; sp=all", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "p=none; v=DMARC1", -1, NULL, NULL, 0, 0, 0, NULL },	/* v= first */
		{ "v=DMARC2; p=none", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; adkim=x", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; pct=101", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; pct=", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; pct=5x", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; fo=2", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; ri=1d", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; rua=d@rep.example", -1, NULL, NULL, 0, 0, 0, NULL },	/* no mailto: */
		{ "v=DMARC1; p=none; rua=mailto:rep.example", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; rua=mailto:d@rep.example!big", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; p=reject", -1, NULL, NULL, 0, 0, 0, NULL },
		{ "v=DMARC1; p=none; rua=mailto:a@a.example,mailto:b@a.example,mailto:c@a.example,mailto:d@a.example,"
		  "mailto:e@a.example,mailto:f@a.example,mailto:g@a.example,mailto:h@a.example,mailto:i@a.example",
		  -1, NULL, NULL, 0, 0, 0, NULL },	/* more than CHECK_DMARC_URIS */
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct check_dmarcrec r;
		char why[128];
		int rc = check_dmarc_parse(rows[i].rec, strlen(rows[i].rec), &r, why, sizeof why);

		cr_expect_eq(rc, rows[i].want, "row %zu: %s (%s)", i, rows[i].rec, rc < 0 ? why : "");
		if (rc != 0 || rows[i].want != 0)
			continue;
		cr_expect_str_eq(r.p, rows[i].p, "row %zu", i);
		cr_expect_str_eq(r.sp, rows[i].sp, "row %zu", i);
		cr_expect_eq(r.adkim, rows[i].adkim, "row %zu", i);
		cr_expect_eq(r.pct, rows[i].pct, "row %zu", i);
		cr_expect_eq(r.nuri, rows[i].nuri, "row %zu", i);
		if (rows[i].uri0 != NULL)
			cr_expect_str_eq(r.uri_domain[0], rows[i].uri0, "row %zu", i);
	}
}

Test(check_rec, dnsbl_answer)
{
	static const struct {
		const char *a;
		enum check_dnsbl want;
	} rows[] = {
		{ "127.0.0.2", DNSBL_LISTED },	/* SBL */
		{ "127.0.0.4", DNSBL_LISTED },	/* XBL */
		{ "127.0.0.11", DNSBL_LISTED },	/* PBL */
		{ "127.255.255.254", DNSBL_REFUSED },	/* Spamhaus: query through a public resolver */
		{ "127.255.255.252", DNSBL_REFUSED },	/* Spamhaus: typo in the zone name */
		{ "127.255.255.255", DNSBL_REFUSED },	/* Spamhaus: over the limit */
		{ "127.0.0.1", DNSBL_REFUSED },		/* RFC 5782 5: never a listing */
		{ "198.51.100.7", DNSBL_BOGUS },		/* a resolver's search page for NXDOMAIN */
		{ "0.0.0.0", DNSBL_BOGUS },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct in_addr a;

		cr_assert_eq(inet_pton(AF_INET, rows[i].a, &a), 1);
		cr_expect_eq(check_dnsbl_answer(a), rows[i].want, "row %zu: %s", i, rows[i].a);
	}
}
