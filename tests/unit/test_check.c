/* test_check.c - the pure parts of `postern check`: tag values. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "conf/check.h"

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
