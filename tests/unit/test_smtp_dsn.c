/* test_smtp_dsn.c - the DSN parameters (RFC 3461) on the wire, against scripted servers: sent when
 * the server offers DSN, pipelined or one command at a time, and on an envelope pipelined behind the
 * last message's terminator; never sent to a server that does not offer DSN (RFC 3461 4.1). */
#include "tests/unit/smtp_fake.h"

TestSuite(dsn, .init = setup, .fini = teardown, .timeout = 30);

/* The first message: RET=HDRS, ENVID with a '+' (xtext), b@y asks for failure and delay, c@y asks
 * for nothing but carries an ORCPT. The second (pipelined ahead): RET=FULL, d@y NOTIFY=NEVER. */
static const struct smtp_mail_params m1 = { "a@x", 0, false, false, SMTP_RET_HDRS, "id+1" };
static const struct smtp_mail_params m2 = { "a@x", 0, false, false, SMTP_RET_FULL, NULL };
static const struct smtp_rcpt_params r1[] = {
	{ "b@y", SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY, NULL },
	{ "c@y", 0, "C=Original@y" },
};
static const struct smtp_rcpt_params r2[] = { { "d@y", SMTP_NOTIFY_NEVER, NULL } };

static const struct step dsn_pipelined[] = {
	{ NULL, "220 mx ESMTP\r\n" },
	{ "EHLO client.example", "250-mx\r\n250-PIPELINING\r\n250 DSN\r\n" },
	{ "MAIL FROM:<a@x> RET=HDRS ENVID=id+2B1\r\n", NULL },
	{ "RCPT TO:<b@y> NOTIFY=FAILURE,DELAY\r\n", NULL },
	{ "RCPT TO:<c@y> ORCPT=rfc822;C+3DOriginal@y\r\n", NULL },
	{ "DATA\r\n", "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
	{ "<BODY>", NULL },
	{ "MAIL FROM:<a@x> RET=FULL\r\n", NULL },
	{ "RCPT TO:<d@y> NOTIFY=NEVER\r\n", NULL },
	{ "DATA\r\n", NULL },
	{ NULL, "250 2.0.0 queued as 1\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued as 2\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL },
};

/* two_messages - m1 to r1 with m2 to r2 pipelined behind its terminator; each must be taken. */
static void two_messages(struct smtp *c)
{
	struct err e = { 0 };
	struct smtp_reply mail, rep[2];
	size_t acc;
	bool go;
	int fd = msgfd("Subject: x\r\n\r\nbody\r\n");

	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_envelope(c, &m1, r1, 2, &mail, rep, &acc, &go, &e), SMTP_OK, "%s", e.msg);
	cr_expect(go && acc == 2, "acc %zu", acc);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	smtp_reply_free(&rep[1]);
	if (smtp_ext(c)->pipelining)
		cr_assert_eq(smtp_envelope_ahead(c, &m2, r2, 1, &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_data_body(c, "", 0, fd, fsize(fd), &e), SMTP_OK, "%s", e.msg);
	if (!smtp_ext(c)->pipelining)
		cr_assert_eq(smtp_rset(c, &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_envelope(c, &m2, r2, 1, &mail, rep, &acc, &go, &e), SMTP_OK, "%s", e.msg);
	cr_expect(go && acc == 1, "acc %zu", acc);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	cr_assert_eq(smtp_data_body(c, "", 0, fd, fsize(fd), &e), SMTP_OK, "%s", e.msg);
	smtp_quit(c);
	close(fd);
}

Test(dsn, offered_pipelined_and_ahead)
{
	struct server s;
	struct smtp *c;
	char *log;

	server_start(&s, dsn_pipelined);
	c = client(&s, 2000);
	two_messages(c);
	cr_expect(smtp_ext(c)->dsn);
	smtp_free(c);
	log = server_end(&s);
	cr_expect(strstr(log, "!!") == NULL, "%s", log);
	cr_expect(strstr(log, "QUIT") != NULL, "the script did not run to its end: %s", log);
	free(log);
	cr_expect(strstr(buf_str(&transcript), "> RCPT TO:<c@y> ORCPT=rfc822;C+3DOriginal@y\n") != NULL,
	    "%s", buf_str(&transcript));
}

/* DSN without PIPELINING: smtp_mail, then smtp_rcpt one at a time, then DATA. */
static const struct step dsn_one_by_one[] = {
	{ NULL, "220 mx ESMTP\r\n" },
	{ "EHLO client.example", "250-mx\r\n250 DSN\r\n" },
	{ "MAIL FROM:<a@x> RET=HDRS ENVID=id+2B1\r\n", "250 ok\r\n" },
	{ "RCPT TO:<b@y> NOTIFY=FAILURE,DELAY\r\n", "250 ok\r\n" },
	{ "RCPT TO:<c@y> ORCPT=rfc822;C+3DOriginal@y\r\n", "250 ok\r\n" },
	{ "DATA\r\n", "354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued as 1\r\n" },
	{ "RSET\r\n", "250 ok\r\n" },
	{ "MAIL FROM:<a@x> RET=FULL\r\n", "250 ok\r\n" },
	{ "RCPT TO:<d@y> NOTIFY=NEVER\r\n", "250 ok\r\n" },
	{ "DATA\r\n", "354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued as 2\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL },
};

Test(dsn, offered_one_at_a_time)
{
	struct server s;
	struct smtp *c;
	char *log;

	server_start(&s, dsn_one_by_one);
	c = client(&s, 2000);
	two_messages(c);
	smtp_free(c);
	log = server_end(&s);
	cr_expect(strstr(log, "!!") == NULL, "%s", log);
	cr_expect(strstr(log, "QUIT") != NULL, "the script did not run to its end: %s", log);
	free(log);
}

/* The same two messages to a server without DSN: the commands carry none of the four parameters. */
static const struct step no_dsn[] = {
	{ NULL, "220 mx ESMTP\r\n" },
	{ "EHLO client.example", "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n" },
	{ "MAIL FROM:<a@x>\r\n", NULL }, { "RCPT TO:<b@y>\r\n", NULL }, { "RCPT TO:<c@y>\r\n", NULL },
	{ "DATA\r\n", "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
	{ "<BODY>", NULL },
	{ "MAIL FROM:<a@x>\r\n", NULL }, { "RCPT TO:<d@y>\r\n", NULL }, { "DATA\r\n", NULL },
	{ NULL, "250 2.0.0 queued as 1\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued as 2\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL },
};

Test(dsn, not_offered_nothing_sent)
{
	struct server s;
	struct smtp *c;
	char *log;

	server_start(&s, no_dsn);
	c = client(&s, 2000);
	two_messages(c);
	cr_expect_not(smtp_ext(c)->dsn);
	smtp_free(c);
	log = server_end(&s);
	cr_expect(strstr(log, "!!") == NULL, "%s", log);
	cr_expect(strstr(log, "QUIT") != NULL, "the script did not run to its end: %s", log);
	for (const char *const *k = (const char *const[]){ "RET=", "ENVID=", "NOTIFY=", "ORCPT=", NULL }; *k; k++)
		cr_expect(strstr(log, *k) == NULL, "%s sent: %s", *k, log);
	free(log);
}
