/* test_check.c - the pure parts of `postern check`: SPF ip4 matching, the all qualifier, tag values. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "conf/check.h"

Test(check, spf_ip4)
{
	static const struct {
		const char *rec, *ip;
		int want;
	} rows[] = {
		{ "v=spf1 ip4:192.0.2.1 -all", "192.0.2.1", 1 },
		{ "v=spf1 ip4:192.0.2.1 -all", "192.0.2.2", 0 },
		{ "v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.77", 1 },
		{ "v=spf1 ip4:192.0.2.0/24 -all", "192.0.3.1", 0 },
		{ "v=spf1 ip4:10.0.0.0/8 ip4:192.0.2.9 ~all", "192.0.2.9", 1 },
		{ "v=spf1 ip4:0.0.0.0/0 -all", "203.0.113.5", 1 },
		{ "v=spf1 IP4:192.0.2.1 -all", "192.0.2.1", 1 },	/* mechanisms are case-insensitive */
		{ "v=spf1 ip4:192.0.2.1/33 -all", "192.0.2.1", 0 },	/* bad prefix: not a match */
		{ "v=spf1 ip4:192.0.2 -all", "192.0.2.0", 0 },		/* not an address */
		{ "v=spf1 ip4:/24 -all", "192.0.2.0", 0 },
		{ "v=spf1 a mx -all", "192.0.2.1", 0 },
		{ "", "192.0.2.1", 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct in_addr ip;

		cr_assert_eq(inet_pton(AF_INET, rows[i].ip, &ip), 1);
		cr_expect_eq(check_spf_ip4(rows[i].rec, ip), rows[i].want, "row %zu: %s / %s", i, rows[i].rec,
		    rows[i].ip);
	}
}

Test(check, spf_all)
{
	static const struct {
		const char *rec;
		char want;
	} rows[] = {
		{ "v=spf1 mx -all", '-' },
		{ "v=spf1 mx ~all", '~' },
		{ "v=spf1 mx ?all", '?' },
		{ "v=spf1 mx +all", '+' },
		{ "v=spf1 mx all", '+' },	/* no qualifier means + */
		{ "v=spf1 mx", 0 },
		{ "v=spf1 include:_spf.allmail.example -all", '-' },	/* "all" inside a name is not the mechanism */
		{ "v=spf1 include:all.example", 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(check_spf_all(rows[i].rec), rows[i].want, "row %zu: %s", i, rows[i].rec);
}

Test(check, tags)
{
	char out[64];

	cr_assert(check_tag("v=DKIM1; k=rsa; p=MIIB AQAB", "p", out, sizeof out));
	cr_expect_str_eq(out, "MIIBAQAB");	/* white space inside a value (split strings) is dropped */
	cr_assert(check_tag("v=DMARC1;p=reject;rua=mailto:x@y", "p", out, sizeof out));
	cr_expect_str_eq(out, "reject");
	cr_assert(check_tag("v=DKIM1; k=ed25519; p=", "p", out, sizeof out));
	cr_expect_str_eq(out, "");	/* a revoked key */
	cr_expect(!check_tag("v=DKIM1; k=rsa", "p", out, sizeof out));
	cr_expect(!check_tag("v=DKIM1; kp=x", "p", out, sizeof out));	/* not a prefix match */
	cr_assert(check_tag("V=DMARC1; P = quarantine ;", "p", out, sizeof out));
	cr_expect_str_eq(out, "quarantine");
	cr_assert(check_tag("a=1; p=0123456789012345678901234567890123456789", "p", out, 8));
	cr_expect_str_eq(out, "0123456");	/* bounded by the output size */
}
