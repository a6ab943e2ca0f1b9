/* test_sender_route.c - sender_route (conf/config.c): which line an envelope sender matches
 * (conf_sender_route_for), and where one recipient's copy goes (conf_dest_for): a route line that
 * says direct or names a relay, then the sender's relay, then route DOMAIN smarthost / the smarthost /
 * the MX hosts. One row per rule.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"

static void fixed_sysname(void)
{
	conf_set_system_name("sys.example.net");
}
TestSuite(sender_route, .init = fixed_sysname);

/* load - c from a configuration text that must parse. */
static void load(struct config *c, const char *text)
{
	struct err e = { 0 };

	conf_defaults(c);
	cr_assert_eq(conf_parse(c, text, strlen(text), "t.conf", &e), 0, "%s", e.msg);
}

/* relay_str - "host:port" of r into out[n], or "(none)". */
static const char *relay_str(const struct conf_relay *r, char *out, size_t n)
{
	if (r == NULL)
		(void)snprintf(out, n, "(none)");
	else
		(void)snprintf(out, n, "%s:%d", r->host, r->port);
	return out;
}

/* the sender's line: the address, else the most specific domain; ".d" only below d */
Test(sender_route, matching)
{
	static const char conf[] = "sender_route example.com a.net\n"
				   "sender_route .shop.example.com b.net:2525\n"
				   "sender_route deep.shop.example.com c.net\n"
				   "sender_route Bill@Shop.Example.com d.net\n"
				   "sender_route O.Brien+news@Example.org e.net\n";
	static const struct {
		const char *sender, *want;
	} t[] = {
		{ "a@example.com", "a.net:587" },
		{ "a@EXAMPLE.com", "a.net:587" },
		{ "a@x.example.com", "a.net:587" },	/* a domain's subdomains too */
		{ "a@shop.example.com", "a.net:587" },	/* ".shop" is for its subdomains only */
		{ "a@x.shop.example.com", "b.net:2525" },
		{ "a@deep.shop.example.com", "c.net:587" },	/* the most specific */
		{ "a@y.deep.shop.example.com", "c.net:587" },
		{ "bill@shop.example.com", "d.net:587" },	/* the address beats its domain's line */
		{ "BILL@shop.EXAMPLE.COM", "d.net:587" },	/* the whole address, case-blind */
		{ "billy@shop.example.com", "a.net:587" },
		{ "o.brien+news@example.org", "e.net:587" },
		{ "o.brien@example.org", "(none)" },	/* no domain line for example.org */
		{ "a@notexample.com", "(none)" },
		{ "a@com", "(none)" },
		{ "", "(none)" },	/* the null sender: bounces never go by a sender's relay */
		{ "example.com", "(none)" },	/* no address at all */
	};
	struct config c;

	load(&c, conf);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char got[300];

		cr_expect_str_eq(relay_str(conf_sender_route_for(&c, t[i].sender), got, sizeof got), t[i].want,
		    "sender [%s]", t[i].sender);
	}
	cr_expect_null(conf_sender_route_for(&c, NULL));
	conf_free(&c);
}

/* where a copy goes: a route line that says direct or names a relay, then the sender's relay, then
 * route DOMAIN smarthost or the smarthost, else the MX hosts */
Test(sender_route, precedence)
{
	static const char with_smarthost[] = "smarthost s.net\n"
					     "route direct.org direct\n"
					     "route relay.org r.net:2525\n"
					     "route viash.org smarthost\n"
					     "sender_route example.com a.net\n";
	static const char without[] = "route direct.org direct\n"
				      "route relay.org r.net:2525\n"
				      "sender_route example.com a.net:25\n";
	static const struct {
		bool smarthost;	/* which configuration */
		const char *sender, *domain;
		enum conf_via want;
		const char *relay;
	} t[] = {
		{ true, "a@example.com", "direct.org", CONF_VIA_MX, "(none)" },	/* route direct wins */
		{ true, "a@example.com", "x.direct.org", CONF_VIA_MX, "(none)" },
		{ true, "a@example.com", "relay.org", CONF_VIA_ROUTE, "(none)" },	/* route HOST wins */
		{ true, "a@example.com", "viash.org", CONF_VIA_SENDER, "a.net:587" },	/* beats route smarthost */
		{ true, "a@example.com", "any.org", CONF_VIA_SENDER, "a.net:587" },	/* beats the smarthost */
		{ true, "a@other.com", "any.org", CONF_VIA_SMARTHOST, "(none)" },
		{ true, "a@other.com", "viash.org", CONF_VIA_SMARTHOST, "(none)" },
		{ true, "a@other.com", "direct.org", CONF_VIA_MX, "(none)" },
		{ true, "", "any.org", CONF_VIA_SMARTHOST, "(none)" },	/* bounces: never a sender's relay */
		{ true, "", "direct.org", CONF_VIA_MX, "(none)" },
		{ false, "a@example.com", "any.org", CONF_VIA_SENDER, "a.net:25" },	/* beats direct as default */
		{ false, "a@example.com", "direct.org", CONF_VIA_MX, "(none)" },
		{ false, "a@example.com", "relay.org", CONF_VIA_ROUTE, "(none)" },
		{ false, "a@other.com", "any.org", CONF_VIA_MX, "(none)" },
		{ false, "", "any.org", CONF_VIA_MX, "(none)" },
	};
	static char unset_host[] = "unset";
	const struct conf_relay unset = { unset_host, 1, false };	/* conf_dest_for must overwrite it */
	struct config c[2];

	load(&c[0], without);
	load(&c[1], with_smarthost);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const struct conf_relay *r = &unset;
		char got[300];

		cr_expect_eq(conf_dest_for(&c[t[i].smarthost], t[i].sender, t[i].domain, &r), t[i].want,
		    "row %zu: [%s] to %s", i, t[i].sender, t[i].domain);
		cr_expect_str_eq(relay_str(r, got, sizeof got), t[i].relay, "row %zu: [%s] to %s", i, t[i].sender,
		    t[i].domain);
	}
	conf_free(&c[0]);
	conf_free(&c[1]);
}

/* a sender's relay takes the credentials of its own smarthost_auth line */
Test(sender_route, auth_for)
{
	struct config c;

	load(&c, "smarthost s.net\nsmarthost_auth /etc/p/all\nsender_route example.com a.net:2525\n"
		 "smarthost_auth a.net:2525 /etc/p/a\n");
	cr_expect_eq(conf_smarthost_auth_for(&c, "a.net", 2525), 0);
	cr_expect_eq(conf_smarthost_auth_for(&c, "s.net", 587), -1);	/* the line without a host */
	conf_free(&c);
}
