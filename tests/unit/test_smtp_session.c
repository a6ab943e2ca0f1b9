/* test_smtp_session.c - the SMTP client against scripted servers in a forked child on 127.0.0.1:
 * PIPELINING, the STARTTLS injection refusal, STARTTLS + AUTH over a self-signed certificate made
 * here, timeouts, a 421 greeting, a drop in the middle of DATA, bare LF in the message; whose failure a
 * failed STARTTLS handshake was (an allocation failing on our side is SMTP_FAIL_LOCAL). */
#include "tests/unit/smtp_fake.h"

#include "tests/unit/ossl_failalloc.h"

TestSuite(session, .init = setup, .fini = teardown, .timeout = 30);

static const struct step pipelined[] = {
	{ NULL, "220 mx ESMTP\r\n" },
	{ "EHLO client.example", "250-mx\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n" },
	{ "MAIL FROM:<a@x> SIZE=42 BODY=8BITMIME\r\n", "250 ok\r\n" },
	/* no reply before all three RCPTs are in: a client that waits would time out */
	{ "RCPT TO:<b@y>", NULL }, { "RCPT TO:<c@y>", NULL }, { "RCPT TO:<d@y>", NULL },
	{ NULL, "250 ok\r\n550 5.1.1 no such user\r\n250 ok\r\n" },
	{ "DATA", "354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued\r\n" },
	{ "RSET", "250 ok\r\n" },
	{ "MAIL FROM:<>", "250 ok\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL },
};

Test(session, pipelining_data_reuse)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply rep[3];
	struct smtp_rcpt_params rcpts[] = { { "b@y" }, { "c@y" }, { "d@y" } };
	size_t acc;
	char *log;
	int fd = msgfd("Subject: x\r\n\r\n.leading dot\r\nend\r\n");

	server_start(&s, pipelined);
	c = client(&s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	cr_expect(smtp_ext(c)->pipelining);
	cr_expect_eq(smtp_ext(c)->size_max, 1000);
	cr_assert_eq(smtp_mail(c, &(struct smtp_mail_params){ "a@x", 42, true, true }, &e), SMTP_OK, "%s",
	    e.msg);
	cr_assert_eq(smtp_rcpt(c, rcpts, 3, rep, &acc, &e), SMTP_OK, "%s", e.msg);
	cr_expect_eq(acc, 2);
	cr_expect_eq(rep[1].code, 550);
	cr_expect_str_eq(rep[1].status, "5.1.1");
	for (int i = 0; i < 3; i++)
		smtp_reply_free(&rep[i]);
	cr_assert_eq(smtp_data(c, "X-Extra: 1\r\n", 12, fd, fsize(fd), &e), SMTP_OK, "%s", e.msg);
	cr_expect_str_eq(smtp_last_reply(c)->status, "2.0.0");
	cr_assert_eq(smtp_rset(c, &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_mail(c, MP(""), &e), SMTP_OK, "%s", e.msg);
	smtp_quit(c);
	smtp_free(c);
	close(fd);
	log = server_end(&s);
	cr_expect(strstr(log, "DATA\r\nX-Extra: 1\r\nSubject: x\r\n\r\n..leading dot\r\nend\r\n.\r\nRSET\r\n")
		  != NULL, "%s", log);
	free(log);
	cr_expect(strstr(buf_str(&transcript), "> RCPT TO:<c@y>\n") != NULL);
	cr_expect(strstr(buf_str(&transcript), "< 550 5.1.1 no such user\n") != NULL);
}

/* smtp_envelope: MAIL, RCPTs and DATA in one write; the server answers only when DATA is in. The
 * second transaction has every RCPT refused: the server still says 354 to DATA (RFC 2920 3.1), and the
 * client must end it empty with a lone dot. The third gets a refused MAIL. */
static const struct step envelope_pipe[] = {
	{ NULL, "220 mx ESMTP\r\n" },
	{ "EHLO client.example", "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n" },
	{ "MAIL FROM:<a@x>\r\n", NULL }, { "RCPT TO:<b@y>", NULL }, { "RCPT TO:<c@y>", NULL }, { "DATA\r\n", NULL },
	{ NULL, "250 ok\r\n250 ok\r\n450 4.2.0 later\r\n354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued\r\n" },
	{ "MAIL FROM:<a@x>", NULL }, { "RCPT TO:<b@y>", NULL }, { "DATA", NULL },
	{ NULL, "250 ok\r\n550 5.1.1 unknown\r\n354 go\r\n" },
	{ ".\r\n", "554 5.5.1 no valid recipients\r\n" },
	{ "RSET", "250 ok\r\n" },
	{ "MAIL FROM:<a@x>", NULL }, { "RCPT TO:<b@y>", NULL }, { "DATA", NULL },
	{ NULL, "552 5.3.4 too big\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL },
};

Test(session, envelope_pipelined_with_data)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply mail, rep[2];
	struct smtp_rcpt_params rcpts[] = { { "b@y" }, { "c@y" } };
	size_t acc;
	bool go;
	char *log;
	int fd = msgfd("Subject: x\r\n\r\nbody\r\n");

	server_start(&s, envelope_pipe);
	c = client(&s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_envelope(c, MP("a@x"), rcpts, 2, &mail, rep, &acc, &go, &e), SMTP_OK,
	    "%s", e.msg);
	cr_expect_eq(mail.code, 250);
	cr_expect_eq(acc, 1);
	cr_expect_eq(rep[1].code, 450);
	cr_expect(go);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	smtp_reply_free(&rep[1]);
	cr_assert_eq(smtp_data_body(c, "", 0, fd, fsize(fd), &e), SMTP_OK, "%s", e.msg);
	cr_expect_eq(smtp_last_reply(c)->code, 250);

	cr_assert_eq(smtp_envelope(c, MP("a@x"), rcpts, 1, &mail, rep, &acc, &go, &e), SMTP_OK,
	    "%s", e.msg);
	cr_expect_eq(acc, 0);
	cr_expect(!go, "no body may follow when nobody was accepted");
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	cr_assert_eq(smtp_rset(c, &e), SMTP_OK, "%s", e.msg);

	cr_assert_eq(smtp_envelope(c, MP("a@x"), rcpts, 1, &mail, rep, &acc, &go, &e), SMTP_OK,
	    "%s", e.msg);
	cr_expect_eq(mail.code, 552);
	cr_expect_eq(acc, 0, "a recipient after a refused MAIL is not accepted");
	cr_expect(!go);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	smtp_quit(c);
	smtp_free(c);
	close(fd);
	log = server_end(&s);
	cr_expect(strstr(log, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\nSubject: x\r\n") != NULL,
	    "%s", log);
	free(log);
}

static const struct step injection[] = {
	{ NULL, "220 mx\r\n" },
	{ "EHLO", "250-mx\r\n250 STARTTLS\r\n" },
	{ "STARTTLS", "220 go\r\n250 injected\r\n" },
	{ NULL, "<SLEEP>" },
	{ NULL, NULL },
};

Test(session, starttls_trailing_data_refused)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct tls_client_ctx *ctx = tls_ctx_new(NULL, NULL, NULL, &e);

	cr_assert_not_null(ctx, "%s", e.msg);
	server_start(&s, injection);
	c = client(&s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	cr_expect(smtp_ext(c)->starttls);
	cr_expect_eq(smtp_starttls(c, ctx, "localhost", &e), SMTP_FAIL_PROTO);
	cr_expect(strstr(e.msg, " while reading the reply to STARTTLS (trailing data after the STARTTLS reply)")
		  != NULL, "%s", e.msg);
	smtp_free(c);
	tls_ctx_free(ctx);
	free(server_end(&s));
}

static const struct step tls_auth[] = {
	{ NULL, "220 mx\r\n" },
	{ "EHLO c\r\n", "250-mx\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n" },
	{ "STARTTLS\r\n", "<TLS>" },
	{ "EHLO c\r\n", "250-mx\r\n250 AUTH PLAIN LOGIN\r\n" },
	{ "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n", "235 2.7.0 ok\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL },
};

Test(session, starttls_then_auth)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct tls_client_ctx *ctx;
	const struct tls_conn *t;

	make_cert();
	cr_assert_not_null(ctx = tls_ctx_new(certfile, NULL, NULL, &e), "%s", e.msg);
	server_start(&s, tls_auth);
	c = client(&s, 3000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	cr_expect_eq(smtp_auth(c, "alice", "s3cret", false, &e), SMTP_FAIL_LOCAL);
	cr_expect(strstr(e.msg, "without TLS") != NULL, "%s", e.msg);
	cr_assert_eq(smtp_starttls(c, ctx, "localhost", &e), SMTP_OK, "%s", e.msg);
	cr_assert_not_null(t = smtp_tls(c));
	cr_expect(tls_verified(t), "%s", tls_verify_reason(t));
	cr_expect(strstr(tls_summary(t), "/verified") != NULL, "%s", tls_summary(t));
	cr_expect(smtp_ext(c)->auth_plain);
	cr_expect(!smtp_ext(c)->starttls);
	cr_assert_eq(smtp_auth(c, "alice", "s3cret", false, &e), SMTP_OK, "%s", e.msg);
	smtp_quit(c);
	smtp_free(c);
	tls_ctx_free(ctx);
	free(server_end(&s));
	cr_expect(strstr(buf_str(&transcript), "> AUTH <credentials hidden>\n") != NULL, "%s",
		  buf_str(&transcript));
	cr_expect(strstr(buf_str(&transcript), "AGFsaWNl") == NULL);
}

static const struct step tls_only[] = {
	{ NULL, "220 mx\r\n" },
	{ "EHLO c\r\n", "250-mx\r\n250 STARTTLS\r\n" },
	{ "STARTTLS\r\n", "<TLS>" },
	{ "EHLO c\r\n", "250 mx\r\n" },
	{ NULL, NULL },
};

/* an allocation of ours failing in the middle of the handshake: SMTP_FAIL_LOCAL, so that the caller
 * defers instead of retrying in clear */
Test(session, starttls_local_failure_is_local)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct tls_client_ctx *ctx;
	int r;

	cr_assert(hooks_installed, "CRYPTO_set_mem_functions came too late");
	make_cert();
	cr_assert_not_null(ctx = tls_ctx_new(certfile, NULL, NULL, &e), "%s", e.msg);
	server_start(&s, tls_only);
	c = client(&s, 3000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	budget = 40;	/* past SSL_new, inside the handshake */
	r = smtp_starttls(c, ctx, "localhost", &e);
	budget = -1;
	cr_expect_eq(r, SMTP_FAIL_LOCAL, "got %d: %s", r, e.msg);
	cr_expect(strstr(e.msg, "local failure") != NULL, "%s", e.msg);
	smtp_free(c);
	tls_ctx_free(ctx);
	free(server_end(&s));
}

static const struct step tls_then_close[] = {
	{ NULL, "220 mx\r\n" },
	{ "EHLO c\r\n", "250-mx\r\n250 STARTTLS\r\n" },
	{ "STARTTLS\r\n", "220 go ahead\r\n" },
	{ NULL, "<CLOSE>" },
	{ NULL, NULL },
};

/* the peer that says 220 to STARTTLS and hangs up: its failure (SMTP_FAIL_CONN: `may` may go on in
 * clear on a new connection) */
Test(session, starttls_peer_failure_is_conn)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct tls_client_ctx *ctx = tls_ctx_new(NULL, NULL, NULL, &e);
	int r;

	cr_assert_not_null(ctx, "%s", e.msg);
	server_start(&s, tls_then_close);
	c = client(&s, 3000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	r = smtp_starttls(c, ctx, "localhost", &e);
	cr_expect_eq(r, SMTP_FAIL_CONN, "got %d: %s", r, e.msg);
	smtp_free(c);
	tls_ctx_free(ctx);
	free(server_end(&s));
}

static const struct step tls_wrong_name[] = {
	{ NULL, "220 mx\r\n" },
	{ "EHLO c\r\n", "250-mx\r\n250 STARTTLS\r\n" },
	{ "STARTTLS\r\n", "<TLS>" },
	{ "EHLO c\r\n", "250 mx\r\n" },
	{ NULL, NULL },
};

Test(session, starttls_name_mismatch_reported)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct tls_client_ctx *ctx;
	const struct tls_conn *t;

	make_cert();
	cr_assert_not_null(ctx = tls_ctx_new(certfile, NULL, NULL, &e), "%s", e.msg);
	server_start(&s, tls_wrong_name);
	c = client(&s, 3000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	cr_assert_eq(smtp_starttls(c, ctx, "mx.other.example", &e), SMTP_OK, "%s", e.msg);
	cr_assert_not_null(t = smtp_tls(c));
	cr_expect(!tls_verified(t));
	cr_expect(strstr(tls_verify_reason(t), "mismatch") != NULL, "%s", tls_verify_reason(t));
	cr_expect(strstr(tls_summary(t), "/unverified") != NULL, "%s", tls_summary(t));
	smtp_free(c);
	tls_ctx_free(ctx);
	free(server_end(&s));
}

static const struct step greet421[] = { { NULL, "421 4.3.2 busy\r\n" }, { NULL, NULL } };
static const struct step stall[] = { { NULL, "<SLEEP>" }, { NULL, NULL } };
static const struct step helo_only[] = {
	{ NULL, "220 old\r\n" }, { "EHLO", "502 what\r\n" }, { "HELO c", "250 old\r\n" }, { NULL, NULL },
};
static const struct step dropdata[] = {
	{ NULL, "220 mx\r\n" }, { "EHLO", "250 mx\r\n" }, { "MAIL", "250 ok\r\n" },
	{ "RCPT", "250 ok\r\n" }, { "DATA", "354 go\r\n" }, { "Subject", "<CLOSE>" }, { NULL, NULL },
};
static const struct step badreply[] = { { NULL, "220 a\r\n250 b\r\n" }, { "EHLO", "250-x\r\n260 y\r\n" }, { NULL, NULL } };

Test(session, greeting_421)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };

	server_start(&s, greet421);
	c = client(&s, 2000);
	cr_expect_eq(smtp_greeting(c, &e), SMTP_FAIL_RESP);
	cr_expect_eq(smtp_last_reply(c)->code, 421);
	cr_expect(strstr(e.msg, "421 4.3.2 busy") != NULL, "%s", e.msg);
	smtp_free(c);
	free(server_end(&s));
}

Test(session, greeting_timeout)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };

	server_start(&s, stall);
	c = client(&s, 300);
	cr_expect_eq(smtp_greeting(c, &e), SMTP_FAIL_CONN);
	cr_expect(strstr(e.msg, "timeout") != NULL, "%s", e.msg);
	smtp_free(c);
	free(server_end(&s));
}

Test(session, helo_fallback)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };

	server_start(&s, helo_only);
	c = client(&s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_expect_eq(smtp_ehlo(c, "c", &e), SMTP_OK, "%s", e.msg);
	cr_expect(!smtp_ext(c)->pipelining);
	smtp_free(c);
	free(server_end(&s));
}

Test(session, drop_mid_data)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply rep[1];
	struct smtp_rcpt_params rcpts[] = { { "b@y" } };
	struct buf big;
	size_t acc;
	int fd, r;

	buf_init(&big, 8 << 20);
	cr_assert_eq(buf_adds(&big, "Subject: x\r\n\r\n"), 0);
	while (big.len < (4 << 20))
		cr_assert_eq(buf_adds(&big, "0123456789012345678901234567890123456789\r\n"), 0);
	fd = msgfd(buf_str(&big));
	buf_free(&big);
	server_start(&s, dropdata);
	c = client(&s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	cr_assert_eq(smtp_mail(c, MP("a@x"), &e), SMTP_OK);
	cr_assert_eq(smtp_rcpt(c, rcpts, 1, rep, &acc, &e), SMTP_OK);
	smtp_reply_free(&rep[0]);
	r = smtp_data(c, NULL, 0, fd, fsize(fd), &e);
	cr_expect_eq(r, SMTP_FAIL_CONN, "%d %s", r, e.msg);
	smtp_free(c);
	close(fd);
	free(server_end(&s));
}

Test(session, bare_lf_never_reaches_the_wire)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply rep[1];
	struct smtp_rcpt_params rcpts[] = { { "b@y" } };
	size_t acc;
	char *log;
	int fd = msgfd("Subject: x\r\n\r\nok\r\nbad\n.\r\nMAIL FROM:<evil>\r\n");

	server_start(&s, dropdata);
	c = client(&s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	cr_assert_eq(smtp_mail(c, MP("a@x"), &e), SMTP_OK);
	cr_assert_eq(smtp_rcpt(c, rcpts, 1, rep, &acc, &e), SMTP_OK);
	smtp_reply_free(&rep[0]);
	cr_expect_eq(smtp_data(c, NULL, 0, fd, fsize(fd), &e), SMTP_FAIL_LOCAL);
	cr_expect(strstr(e.msg, "bare LF") != NULL, "%s", e.msg);
	smtp_free(c);
	close(fd);
	log = server_end(&s);
	cr_expect(strstr(log, "evil") == NULL, "%s", log);
	free(log);
}

Test(session, malformed_replies)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };

	server_start(&s, badreply);
	c = client(&s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	/* "250 b" was left over from the greeting and answers EHLO: then the real reply is bad */
	cr_expect_eq(smtp_ehlo(c, "c", &e), SMTP_OK);
	cr_expect_eq(smtp_rset(c, &e), SMTP_FAIL_PROTO, "%s", e.msg);
	smtp_free(c);
	free(server_end(&s));
}

Test(session, bad_input_refused)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply rep[1];
	struct smtp_rcpt_params bad[] = { { "a@b>\r\nRSET" } };
	size_t acc;

	server_start(&s, helo_only);
	c = client(&s, 2000);
	cr_expect_eq(smtp_ehlo(c, "bad name", &e), SMTP_FAIL_LOCAL);
	cr_expect_eq(smtp_mail(c, MP("x\r\nRSET"), &e), SMTP_FAIL_LOCAL);
	cr_expect_eq(smtp_rcpt(c, bad, 1, rep, &acc, &e), SMTP_FAIL_LOCAL);
	smtp_free(c);
	free(server_end(&s));
}

Test(session, connect_refused)
{
	struct smtp_opts o = { { 500, 500, 500, 500, 500, 500 } };
	struct smtp *c = smtp_new(&o);
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct err e = { 0 };

	cr_expect_eq(smtp_connect(c, lo, 1, &e), SMTP_FAIL_CONN);
	cr_expect(strstr(e.msg, "refused") != NULL, "%s", e.msg);
	smtp_free(c);
}

/* smtp_envelope_ahead: the second message's MAIL, RCPT and DATA follow the first one's terminator in
 * the same write. The server answers nothing until they are in (a client that waited for the 250
 * after the dot would time out), then sends all four replies at once. */
static const struct step after_terminator[] = {
	{ NULL, "220 mx ESMTP\r\n" },
	{ "EHLO client.example", "250-mx\r\n250 PIPELINING\r\n" },
	{ "MAIL FROM:<a@x>\r\n", NULL }, { "RCPT TO:<b@y>\r\n", NULL }, { "DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n" },
	{ "<BODY>", NULL },
	{ "MAIL FROM:<a@x>\r\n", NULL }, { "RCPT TO:<c@y>\r\n", NULL }, { "DATA\r\n", NULL },
	{ NULL, "250 2.0.0 queued as 1\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued as 2\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL },
};

/* session_ahead - greeting, EHLO, the first message's envelope (to b@y; DATA gets its 354), then the
 * second message's (to c@y) queued with smtp_envelope_ahead: where both tests below start. */
static struct smtp *session_ahead(struct server *s, const struct step *st)
{
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply mail, rep[1];
	struct smtp_rcpt_params b[] = { { "b@y" } }, cc[] = { { "c@y" } };
	size_t acc;
	bool go;

	server_start(s, st);
	c = client(s, 2000);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_envelope(c, MP("a@x"), b, 1, &mail, rep, &acc, &go, &e), SMTP_OK, "%s",
	    e.msg);
	cr_assert(go);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	cr_assert_eq(smtp_envelope_ahead(c, MP("a@x"), cc, 1, &e), SMTP_OK, "%s", e.msg);
	cr_expect_not(smtp_ahead_pending(c), "nothing goes out before the terminator");
	return c;
}

Test(session, envelope_after_terminator)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply mail, rep[1];
	struct smtp_rcpt_params cc[] = { { "c@y" } };
	size_t acc;
	bool go;
	char *log;
	int fd1 = msgfd("Subject: 1\r\n\r\none\r\n"), fd2 = msgfd("Subject: 2\r\n\r\ntwo\r\n");

	c = session_ahead(&s, after_terminator);
	cr_assert_eq(smtp_data_body(c, "", 0, fd1, fsize(fd1), &e), SMTP_OK, "%s", e.msg);
	cr_expect(strstr(smtp_last_reply(c)->text, "queued as 1") != NULL);
	cr_assert(smtp_ahead_pending(c));
	cr_expect_eq(smtp_rset(c, &e), SMTP_FAIL_PROTO, "RSET now would be message text");
	cr_assert_eq(smtp_envelope(c, MP("a@x"), cc, 1, &mail, rep, &acc, &go, &e), SMTP_OK, "%s",
	    e.msg);
	cr_expect(go && acc == 1 && mail.code == 250);
	cr_expect_not(smtp_ahead_pending(c));
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	cr_assert_eq(smtp_data_body(c, "", 0, fd2, fsize(fd2), &e), SMTP_OK, "%s", e.msg);
	cr_expect(strstr(smtp_last_reply(c)->text, "queued as 2") != NULL);
	smtp_quit(c);
	smtp_free(c);
	close(fd1);
	close(fd2);
	log = server_end(&s);
	cr_expect(strstr(log, "one\r\n.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<c@y>\r\nDATA\r\nSubject: 2\r\n\r\ntwo\r\n.\r\nQUIT\r\n") != NULL,
	    "%s", log);
	cr_expect(strstr(log, "RSET") == NULL);
	free(log);
	cr_expect(strstr(buf_str(&transcript), "> .\n> MAIL FROM:<a@x>\n> RCPT TO:<c@y>\n> DATA\n< 250 2.0.0 queued as 1\n")
	    != NULL, "%s", buf_str(&transcript));
}

/* The server takes the first message with a 421 and hangs up: the pipelined envelope has no answer
 * and the second message is a connection failure. QUIT is not written while that envelope is out (the
 * server would be in DATA). */
static const struct step after_terminator_drop[] = {
	{ NULL, "220 mx ESMTP\r\n" },
	{ "EHLO client.example", "250-mx\r\n250 PIPELINING\r\n" },
	{ "MAIL FROM:<a@x>\r\n", NULL }, { "RCPT TO:<b@y>\r\n", NULL }, { "DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n" },
	{ "<BODY>", NULL },
	{ "MAIL FROM:<a@x>\r\n", "421 4.3.2 going down\r\n" },
	{ NULL, "<CLOSE>" },
	{ NULL, NULL },
};

Test(session, envelope_after_terminator_drop)
{
	struct server s;
	struct smtp *c;
	struct err e = { 0 };
	struct smtp_reply mail, rep[1];
	struct smtp_rcpt_params cc[] = { { "c@y" } };
	size_t acc;
	bool go;
	int fd1 = msgfd("Subject: 1\r\n\r\none\r\n");

	c = session_ahead(&s, after_terminator_drop);
	cr_expect_eq(smtp_data_body(c, "", 0, fd1, fsize(fd1), &e), SMTP_FAIL_RESP, "the 421 answers the first message");
	cr_expect_eq(smtp_last_reply(c)->code, 421);
	cr_assert(smtp_ahead_pending(c));
	smtp_quit(c);
	cr_expect(strstr(buf_str(&transcript), "> QUIT") == NULL, "QUIT written into DATA: %s", buf_str(&transcript));
	cr_expect_neq(smtp_envelope(c, MP("a@x"), cc, 1, &mail, rep, &acc, &go, &e), SMTP_OK);
	cr_expect_not(go);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	smtp_free(c);
	close(fd1);
	free(server_end(&s));
}
