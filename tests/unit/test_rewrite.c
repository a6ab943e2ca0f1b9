/* test_rewrite.c - sender rewriting at submission: the config lines, which pattern matches what, the
 * first rule winning, alignment, every from_policy decision, and the From field rewritten in a header
 * section (display name kept, Reply-To added or not). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "sendmail/rewrite.h"

/* The host of these tests: mail.example.org, domain example.org, a key for example.org. */
#define BASE "hostname mail.example.org\ndomain example.org\ndkim example.org s1 /k.pem\n"

static void load(struct config *c, const char *extra)
{
	struct buf b;
	struct err e = { 0 };

	buf_init(&b, 8192);
	cr_assert_eq(buf_printf(&b, BASE "%s", extra), 0);
	conf_defaults(c);
	cr_assert_eq(conf_parse(c, b.data, b.len, "t.conf", &e), 0, "%s", e.msg);
	buf_free(&b);
}

static void fixed_sysname(void)
{
	conf_set_system_name("sys.example.net");
}
TestSuite(rewrite, .init = fixed_sysname);

Test(rewrite, config_lines)
{
	static const struct {
		const char *in, *want;	/* want: postern config's value, or the error */
		bool err;
	} rows[] = {
		{ "rewrite_from root cron@example.org\nrewrite_from *@Localhost x@example.org\n",
		  "root cron@example.org\n*@localhost x@example.org", false },
		{ "rewrite_sender * <bounce@Example.ORG>\n", "* bounce@example.org", false },
		{ "rewrite_sender www-data web@example.org\n", "www-data web@example.org", false },
		{ "rewrite_from root\n", "t.conf:4: rewrite_from: wants PATTERN ADDRESS, got \"root\"", true },
		{ "rewrite_from root a@b c\n", "t.conf:4: rewrite_from: wants PATTERN ADDRESS, got \"root\"", true },
		{ "rewrite_from r@t a@b.example\n",
		  "t.conf:4: rewrite_from: bad pattern (want a user name, *, or *@domain) \"r@t\"", true },
		{ "rewrite_from *@ a@b.example\n",
		  "t.conf:4: rewrite_from: bad pattern (want a user name, *, or *@domain) \"*@\"", true },
		{ "rewrite_from -x a@b.example\n",
		  "t.conf:4: rewrite_from: bad pattern (want a user name, *, or *@domain) \"-x\"", true },
		{ "rewrite_sender root nobody\n", "t.conf:4: rewrite_sender: bad address (want local@domain) \"nobody\"",
		  true },
		{ "rewrite_sender root <>\n", "t.conf:4: rewrite_sender: bad address (want local@domain) \"<>\"", true },
		{ "rewrite_sender root a@[1.2.3.4\n",
		  "t.conf:4: rewrite_sender: bad address (want local@domain) \"a@[1.2.3.4\"", true },
		{ "from_policy strict\n",
		  "t.conf:4: from_policy: unknown value \"strict\"", true },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct config c;
		struct err e = { 0 };
		struct buf b, v;
		int rc;

		buf_init(&b, 8192);
		buf_init(&v, 8192);
		cr_assert_eq(buf_printf(&b, BASE "%s", rows[i].in), 0);
		conf_defaults(&c);
		rc = conf_parse(&c, b.data, b.len, "t.conf", &e);
		if (rows[i].err) {
			cr_expect_eq(rc, -1, "row %zu accepted", i);
			cr_expect_str_eq(e.msg, rows[i].want, "row %zu", i);
		} else {
			const char *key = strstr(rows[i].in, "rewrite_sender") == rows[i].in ? "rewrite_sender" : "rewrite_from";
			cr_assert_eq(rc, 0, "row %zu: %s", i, e.msg);
			cr_assert_eq(conf_value(&c, key, &v, &e), 1, "row %zu", i);
			cr_expect_str_eq(buf_str(&v), rows[i].want, "row %zu", i);
		}
		conf_free(&c);
		buf_free(&b);
		buf_free(&v);
	}
}

Test(rewrite, match)
{
	static const struct {
		const char *pattern, *local, *domain;
		bool want;
	} rows[] = {
		{ "*", "anyone", "gmail.com", true },
		{ "*", "root", NULL, true },
		{ "*@localhost", "www-data", "localhost", true },
		{ "*@localhost", "www-data", "LOCALHOST", true },
		{ "*@localhost", "www-data", "mail.example.org", false },
		{ "*@hostname", "www-data", "mail.example.org", true },	/* the hostname key */
		{ "*@hostname", "www-data", "Mail.Example.Org", true },
		{ "*@hostname", "www-data", "example.org", false },
		{ "*@hostname", "www-data", NULL, false },
		{ "*@example.net", "a", "example.net", true },
		{ "*@example.net", "a", "sub.example.net", false },	/* exactly that domain */
		{ "root", "root", NULL, true },
		{ "root", "root", "example.org", true },	/* domain */
		{ "root", "root", "mail.example.org", true },	/* hostname */
		{ "root", "root", "localhost", true },
		{ "root", "root", "gmail.com", false },	/* not one of ours */
		{ "root", "Root", "example.org", false },	/* user names are case-sensitive */
		{ "www-data", "root", "example.org", false },
	};
	struct config c;

	load(&c, "");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(rewrite_match(&c, rows[i].pattern, rows[i].local, rows[i].domain), rows[i].want, "row %zu", i);
	conf_free(&c);
}

Test(rewrite, first_match_wins_and_sender)
{
	static const struct {
		const char *addr, *want;	/* want: the rule's address, or NULL */
	} rows[] = {
		{ "root@example.org", "cron@example.org" },
		{ "www-data@mail.example.org", "web@example.org" },	/* *@hostname, before * */
		{ "www-data@localhost", "local@example.org" },
		{ "someone@gmail.com", "any@example.org" },
		{ "root", "cron@example.org" },
		{ "", NULL },
		{ NULL, NULL },
	};
	struct config c;

	load(&c, "rewrite_sender root cron@example.org\nrewrite_sender *@hostname web@example.org\n"
		 "rewrite_sender *@localhost local@example.org\nrewrite_sender root never@example.org\n"
		 "rewrite_sender * any@example.org\n");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct conf_rewrite *r = rewrite_find(&c, &c.rewrite_sender, rows[i].addr);
		char *s = rows[i].addr ? strdup(rows[i].addr) : NULL;

		if (rows[i].want == NULL)
			cr_expect_null(r, "row %zu", i);
		else {
			cr_assert_not_null(r, "row %zu", i);
			cr_expect_str_eq(r->addr, rows[i].want, "row %zu", i);
		}
		cr_expect_eq(rewrite_sender(&c, &s), rows[i].want != NULL, "row %zu", i);
		if (rows[i].want != NULL)
			cr_expect_str_eq(s, rows[i].want, "row %zu", i);
		free(s);
	}
	conf_free(&c);
}

Test(rewrite, signable)
{
	static const struct {
		const char *domain;
		bool want;
	} rows[] = {
		{ "example.org", true }, { "EXAMPLE.org", true }, { "news.example.org", true },
		{ "badexample.org", false }, { "org", false }, { "gmail.com", false },
	};
	struct config c;

	load(&c, "");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(rewrite_signable(&c, rows[i].domain), rows[i].want, "row %zu", i);
	conf_free(&c);
}

Test(rewrite, from_decide)
{
	static const struct {
		const char *conf, *from, *orig, *sender;
		enum rewrite_act act;
		const char *addr;
		bool by_policy;
	} rows[] = {
		/* keep: rules only */
		{ "", "visitor@gmail.com", "www-data@example.org", "www-data@example.org", REWRITE_KEEP, NULL, false },
		{ "rewrite_from root cron@example.org\n", "root@example.org", "root@example.org", "root@example.org",
		  REWRITE_ADDR, "cron@example.org", false },
		{ "rewrite_from root cron@example.org\n", "cron@example.org", "root@example.org", "root@example.org",
		  REWRITE_KEEP, NULL, false },	/* already it */
		/* the null sender: never */
		{ "rewrite_from * x@example.org\nfrom_policy refuse-unaligned\n", "MAILER-DAEMON@gmail.com", "", "",
		  REWRITE_KEEP, NULL, false },
		/* refuse-unaligned: a signable From, the envelope's domain, or a rule pass */
		{ "from_policy refuse-unaligned\n", "visitor@gmail.com", "www-data@example.org", "www-data@example.org",
		  REWRITE_REFUSE, NULL, true },
		{ "from_policy refuse-unaligned\n", "news@lists.example.org", "a@example.org", "a@example.org",
		  REWRITE_KEEP, NULL, false },
		{ "from_policy refuse-unaligned\n", "me@other.example", "me@other.example", "me@OTHER.example",
		  REWRITE_KEEP, NULL, false },
		{ "from_policy refuse-unaligned\n", NULL, "a@example.org", "a@example.org", REWRITE_REFUSE, NULL, true },
		{ "from_policy refuse-unaligned\nrewrite_from *@gmail.com forms@example.org\n", "visitor@gmail.com",
		  "www-data@example.org", "www-data@example.org", REWRITE_ADDR, "forms@example.org", false },
		/* rewrite-unaligned: the rule matching the sender as submitted, else the envelope sender */
		{ "from_policy rewrite-unaligned\nrewrite_from www-data web@example.org\n", "visitor@gmail.com",
		  "www-data@example.org", "www-data@example.org", REWRITE_ADDR, "web@example.org", true },
		{ "from_policy rewrite-unaligned\n", "visitor@gmail.com", "www-data@example.org", "bounce@example.org",
		  REWRITE_ADDR, "bounce@example.org", true },
		{ "from_policy rewrite-unaligned\nrewrite_from www-data web@example.org\n", "boss@example.org",
		  "www-data@example.org", "www-data@example.org", REWRITE_KEEP, NULL, false },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct config c;
		struct rewrite_decision d;

		load(&c, rows[i].conf);
		d = rewrite_from_decide(&c, rows[i].from, rows[i].orig, rows[i].sender);
		cr_expect_eq(d.act, rows[i].act, "row %zu: act %d", i, d.act);
		cr_expect_eq(d.by_policy, rows[i].by_policy, "row %zu", i);
		if (rows[i].addr != NULL)
			cr_expect_str_eq(d.addr ? d.addr : "(null)", rows[i].addr, "row %zu", i);
		conf_free(&c);
	}
}

Test(rewrite, header)
{
	static const struct {
		const char *conf, *in, *sender;
		int ret;
		const char *want;	/* the header section after, or the error */
	} rows[] = {
		/* cron: the comment becomes the display name, the original goes to Reply-To */
		{ "rewrite_from root cron@example.org\n",
		  "Received: x\r\nFrom: root@example.org (Cron Daemon)\r\nSubject: s\r\n\r\n", "root@example.org", 1,
		  "Received: x\r\nFrom: Cron Daemon <cron@example.org>\r\n"
		  "Reply-To: root@example.org (Cron Daemon)\r\nSubject: s\r\n\r\n" },
		/* a display name kept (quoted when it must be); an existing Reply-To kept alone */
		{ "rewrite_from *@hostname web@example.org\n",
		  "From: \"Web, Site\" <www-data@mail.example.org>\r\nReply-To: a@b.example\r\n\r\n",
		  "www-data@example.org", 1,
		  "From: \"Web, Site\" <web@example.org>\r\nReply-To: a@b.example\r\n\r\n" },
		/* rewrite_reply_to no */
		{ "rewrite_from * x@example.org\nrewrite_reply_to no\n", "From: a@c.example\r\n\r\n", "a@c.example", 1,
		  "From: x@example.org\r\n\r\n" },
		/* nothing matches: unchanged */
		{ "rewrite_from root cron@example.org\n", "From: boss@example.org\r\n\r\n", "boss@example.org", 0,
		  "From: boss@example.org\r\n\r\n" },
		/* PHP's form: rewritten by policy, the visitor to reply to */
		{ "rewrite_from www-data web@example.org\nfrom_policy rewrite-unaligned\n",
		  "To: a@example.org\r\nFrom: Visitor <visitor@gmail.com>\r\n\r\n", "www-data@example.org", 1,
		  "To: a@example.org\r\nFrom: Visitor <web@example.org>\r\nReply-To: Visitor <visitor@gmail.com>\r\n\r\n" },
		/* refused, one line */
		{ "from_policy refuse-unaligned\n", "From: visitor@gmail.com\r\n\r\n", "www-data@example.org", -1,
		  "From domain gmail.com is not one postern signs for (dkim) nor the envelope sender's "
		  "(from_policy refuse-unaligned)" },
		/* a bounce: never */
		{ "rewrite_from * x@example.org\n", "From: MAILER-DAEMON@example.org\r\n\r\n", "", 0,
		  "From: MAILER-DAEMON@example.org\r\n\r\n" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct config c;
		struct err e = { 0 };
		struct buf h;
		int r;

		load(&c, rows[i].conf);
		buf_init(&h, 4096);
		cr_assert_eq(buf_adds(&h, rows[i].in), 0);
		r = rewrite_header(&c, rows[i].sender, rows[i].sender, &h, &e);
		cr_expect_eq(r, rows[i].ret, "row %zu: %d %s", i, r, e.msg);
		if (r < 0) {
			cr_expect_eq(e.code, EX_DATAERR, "row %zu", i);
			cr_expect_str_eq(e.msg, rows[i].want, "row %zu", i);
		} else
			cr_expect_str_eq(buf_str(&h), rows[i].want, "row %zu", i);
		buf_free(&h);
		conf_free(&c);
	}
	/* over the ceiling: refused, not cut */
	struct config c;
	struct err e = { 0 };
	struct buf h;
	load(&c, "rewrite_from * a-much-longer-address@example.org\n");
	buf_init(&h, 30);
	cr_assert_eq(buf_adds(&h, "From: r@example.org\r\n\r\n"), 0);
	cr_expect_eq(rewrite_header(&c, "r@example.org", "r@example.org", &h, &e), -1);
	cr_expect_not_null(strstr(e.msg, "too large"), "%s", e.msg);
	cr_expect_str_eq(buf_str(&h), "From: r@example.org\r\n\r\n");
	buf_free(&h);
	conf_free(&c);
}
