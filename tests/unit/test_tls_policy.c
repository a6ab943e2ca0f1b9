/* test_tls_policy.c - queue/wire/tls_policy.c: the level a destination gets, and whether TLS is used at all. */
#include <criterion/criterion.h>
#include <string.h>

#include "queue/wire/tls_policy.h"

/* load - a configuration from text (the parser is tested in test_config.c). */
static void load(struct config *c, const char *in)
{
	struct err e = { 0 };

	conf_defaults(c);
	cr_assert_eq(conf_parse(c, in, strlen(in), "t", &e), 0, "%s", e.msg);
}

Test(tls_policy, for_domain)
{
	static const struct {
		const char *conf, *domain;
		enum tls_level want;
	} t[] = {
		{ "tls encrypt\ntls_policy example.com verify\ntls_policy mail.example.com none\n", "example.com",
		  TLS_VERIFY },
		{ "tls encrypt\ntls_policy example.com verify\n", "EXAMPLE.COM", TLS_VERIFY },	/* any case */
		{ "tls encrypt\ntls_policy example.com verify\n", "a.b.example.com", TLS_VERIFY },	/* parents */
		{ "tls encrypt\ntls_policy example.com verify\ntls_policy mail.example.com none\n",
		  "mail.example.com", TLS_NONE },	/* the most specific wins, whatever the order */
		{ "tls encrypt\ntls_policy mail.example.com none\ntls_policy example.com verify\n",
		  "x.mail.example.com", TLS_NONE },
		{ "tls encrypt\ntls_policy example.com verify\n", "badexample.com", TLS_ENCRYPT },	/* labels */
		{ "tls encrypt\ntls_policy example.com verify\n", "com", TLS_ENCRYPT },
		{ "tls encrypt\ntls_policy example.com verify\n", "", TLS_ENCRYPT },
		{ "", "example.com", TLS_MAY },	/* the default */
		{ "tls none\ntls_policy example.com may\n", "example.com", TLS_MAY },
		/* NULL: the smarthost, by smarthost_tls alone */
		{ "smarthost relay.example.net\ntls none\n", NULL, TLS_VERIFY },
		{ "smarthost relay.example.net\nsmarthost_tls starttls\n", NULL, TLS_VERIFY },
		{ "smarthost relay.example.net\nsmarthost_tls none\ntls verify\n", NULL, TLS_NONE },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct config c;

		load(&c, t[i].conf);
		cr_expect_eq(tls_policy_for(&c, t[i].domain), t[i].want, "row %zu: %s", i,
			     t[i].domain ? t[i].domain : "(smarthost)");
		conf_free(&c);
	}
}

Test(tls_policy, any)
{
	static const struct {
		const char *in;
		bool want;
	} t[] = {
		{ "", true },	/* tls may */
		{ "tls none\n", false },
		{ "tls none\ntls_policy example.com encrypt\n", true },
		{ "tls none\ntls_policy example.com none\n", false },
		{ "smarthost relay.example.net\n", true },
		{ "smarthost relay.example.net\nsmarthost_tls none\n", false },
		{ "smarthost relay.example.net\nsmarthost_tls none\ntls verify\n", false },	/* all goes there */
		{ "smarthost relay.example.net:465\ntls none\n", true },
		{ "tls none\nsender_route example.org relay.example.net\n", true },	/* a smarthost of its own */
		{ "tls none\nsmarthost_tls none\nsender_route example.org relay.example.net\n", false },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct config c;

		load(&c, t[i].in);
		cr_expect_eq(tls_policy_any(&c), t[i].want, "%s", t[i].in);
		conf_free(&c);
	}
}
