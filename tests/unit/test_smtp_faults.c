/* test_smtp_faults.c - the SMTP client against hostile or broken servers (smtp_fake.h): a reply of
 * the wrong class at each step is a protocol error, never a success; a drop or a timeout at each
 * step gives a reason that names the step and what happened; the per-message and per-session
 * wall-clock limits hold a dripping server to them. Each row runs one whole session. */
#include "tests/unit/smtp_fake.h"

#define PEER "mx.test[127.0.0.1]:25"
#define LOST "lost connection with " PEER " while "
#define PROTO "protocol error with " PEER " while "

static void setup_f(void)
{
	signal(SIGPIPE, SIG_IGN);
	buf_init(&transcript, 1 << 20);
}

static void teardown_f(void)
{
	buf_free(&transcript);
}

TestSuite(faults, .init = setup_f, .fini = teardown_f, .timeout = 30);

/* Where a session stopped. */
enum stage { ST_GREETING, ST_EHLO, ST_AUTH, ST_ENVELOPE, ST_DATA, ST_RSET, ST_DONE };
static const char *const stage_name[] = { "greeting", "ehlo", "auth", "envelope", "data", "rset", "done" };

struct run {
	enum stage stage;
	int rc;
	struct err e;
	const char *status;	/* smtp_failure's */
	char *log;		/* what the server received */
};

/* has_eof - the script ends by reading until the client closes (then wait for it: its log is
 * complete); otherwise it may be asleep, and is stopped. */
static bool has_eof(const struct step *st)
{
	for (; st->expect != NULL || st->send != NULL; st++)
		if (st->expect != NULL && strcmp(st->expect, "<EOF>") == 0)
			return true;
	return false;
}

/* session - greeting, EHLO, AUTH (auth), MAIL a@x / RCPT b@y / DATA, the body, RSET, QUIT against the
 * script, until the first failure. The client names the server PEER. */
static void session(const struct step *script, const struct smtp_timeouts *to, bool auth, struct run *out)
{
	struct smtp_opts o = { *to, record, &transcript, PEER };
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct server srv;
	struct smtp *c;
	struct smtp_reply mail, rep[1];
	struct smtp_rcpt_params rcpts[] = { { "b@y" } };
	size_t acc;
	bool go = false;
	int fd = msgfd("Subject: x\r\n\r\nbody\r\n");

	memset(out, 0, sizeof *out);
	server_start(&srv, script);
	c = smtp_new(&o);
	cr_assert_eq(smtp_connect(c, lo, srv.port, &out->e), SMTP_OK, "%s", out->e.msg);
	if ((out->rc = smtp_greeting(c, &out->e)) != SMTP_OK)
		goto end;
	out->stage = ST_EHLO;
	if ((out->rc = smtp_ehlo(c, "client.example", &out->e)) != SMTP_OK)
		goto end;
	out->stage = ST_AUTH;
	if (auth && (out->rc = smtp_auth(c, "alice", "s3cret", true, &out->e)) != SMTP_OK)
		goto end;
	out->stage = ST_ENVELOPE;
	out->rc = smtp_envelope(c, MP("a@x"), rcpts, 1, &mail, rep, &acc, &go, &out->e);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	if (out->rc != SMTP_OK)
		goto end;
	out->stage = ST_DATA;
	if (go && (out->rc = smtp_data_body(c, "", 0, fd, fsize(fd), &out->e)) != SMTP_OK)
		goto end;
	out->stage = ST_RSET;
	if ((out->rc = smtp_rset(c, &out->e)) != SMTP_OK)
		goto end;
	out->stage = ST_DONE;
	smtp_quit(c);
end:
	(void)smtp_failure(c, &out->status);
	smtp_free(c);	/* the server's "<EOF>" step ends here */
	close(fd);
	out->log = has_eof(script) ? server_join(&srv) : server_end(&srv);
}

#define GREET { NULL, "220 mx ESMTP\r\n" }
#define EHLO_PIPE { "EHLO client.example", "250-mx\r\n250 PIPELINING\r\n" }
#define EHLO_ONE { "EHLO client.example", "250 mx\r\n" }
#define ENV_PIPE { "MAIL FROM:<a@x>\r\n", NULL }, { "RCPT TO:<b@y>\r\n", NULL }, { "DATA\r\n", NULL }
#define TO_EOF { "<EOF>", NULL }, { NULL, NULL }
#define NAP { NULL, "<NAP>" }

/* A reply of the wrong class at each step */
static const struct step data250_pipe[] = {
	GREET, EHLO_PIPE, ENV_PIPE, { NULL, "250 ok\r\n250 ok\r\n250 2.0.0 ok\r\n" }, TO_EOF };
static const struct step data250_one[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "250 ok\r\n" }, { "DATA", "250 ok\r\n" }, TO_EOF };
static const struct step dot354[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "250 ok\r\n" }, { "DATA", "354 go\r\n" },
	{ "<BODY>", "354 go on\r\n" }, TO_EOF };
static const struct step greet354[] = { { NULL, "354 hello\r\n" }, TO_EOF };
static const struct step ehlo334[] = { GREET, { "EHLO", "334 VXNlcm5hbWU6\r\n" }, TO_EOF };
static const struct step helo354[] = { GREET, { "EHLO", "502 what\r\n" }, { "HELO", "354 hi\r\n" }, TO_EOF };
static const struct step plain334[] = {
	GREET, { "EHLO", "250-mx\r\n250 AUTH PLAIN\r\n" }, { "AUTH PLAIN", "334 \r\n" }, TO_EOF };
static const struct step login334[] = {
	GREET, { "EHLO", "250-mx\r\n250 AUTH LOGIN\r\n" }, { "AUTH LOGIN", "334 VXNlcm5hbWU6\r\n" },
	{ "YWxpY2U=", "334 UGFzc3dvcmQ6\r\n" }, { "czNjcmV0", "334 UGFzc3dvcmQ6\r\n" }, TO_EOF };
static const struct step mail354[] = { GREET, EHLO_ONE, { "MAIL", "354 what\r\n" }, TO_EOF };
static const struct step mail334_pipe[] = {
	GREET, EHLO_PIPE, ENV_PIPE, { NULL, "334 what\r\n503 no\r\n503 no\r\n" }, TO_EOF };
static const struct step rcpt354_pipe[] = {
	GREET, EHLO_PIPE, ENV_PIPE, { NULL, "250 ok\r\n354 what\r\n354 go\r\n" }, TO_EOF };
static const struct step rcpt354_one[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "354 what\r\n" }, TO_EOF };
static const struct step rset354[] = {
	GREET, EHLO_PIPE, ENV_PIPE, { NULL, "250 ok\r\n250 ok\r\n354 go\r\n" }, { "<BODY>", "250 ok\r\n" },
	{ "RSET", "354 what\r\n" }, TO_EOF };
static const struct step malformed_rcpt[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "25O ok\r\n" }, TO_EOF };

/* A drop at each step */
static const struct step drop_greet[] = { { NULL, "<CLOSE>" }, { NULL, NULL } };
static const struct step drop_ehlo[] = { GREET, { "EHLO", "<CLOSE>" }, { NULL, NULL } };
static const struct step drop_mail[] = { GREET, EHLO_ONE, { "MAIL", "<CLOSE>" }, { NULL, NULL } };
static const struct step drop_rcpt[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "<CLOSE>" }, { NULL, NULL } };
static const struct step drop_rcpt_pipe[] = { GREET, EHLO_PIPE, ENV_PIPE, { NULL, "250 ok\r\n<CLOSE>" },
	{ NULL, "<CLOSE>" }, { NULL, NULL } };
static const struct step drop_data[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "250 ok\r\n" }, { "DATA", "<CLOSE>" }, { NULL, NULL } };
static const struct step drop_dot[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "250 ok\r\n" }, { "DATA", "354 go\r\n" },
	{ "<BODY>", "<CLOSE>" }, { NULL, NULL } };
static const struct step drop_rset[] = {
	GREET, EHLO_PIPE, ENV_PIPE, { NULL, "250 ok\r\n250 ok\r\n354 go\r\n" }, { "<BODY>", "250 ok\r\n" },
	{ "RSET", "<CLOSE>" }, { NULL, NULL } };

/* A stall at each step (the server sleeps 3 s; each row's timeouts say which one must fire) */
static const struct step stall_greet[] = { { NULL, "<SLEEP>" }, { NULL, NULL } };
static const struct step stall_rcpt[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "<SLEEP>" }, { NULL, NULL } };
static const struct step stall_data[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "250 ok\r\n" }, { "DATA", "<SLEEP>" }, { NULL, NULL } };
static const struct step stall_dot[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "250 ok\r\n" }, { "DATA", "354 go\r\n" },
	{ "<BODY>", "<SLEEP>" }, { NULL, NULL } };

/* Drip-feed: every reply FAKE_NAP_MS (300 ms) late, well inside the 2 s command timeout */
static const struct step drip[] = {
	GREET, { "EHLO", "<NAP>" }, { NULL, "250 mx\r\n" }, { "MAIL", "<NAP>" }, { NULL, "250 ok\r\n" },
	{ "RCPT", "<NAP>" }, NAP, { NULL, "250 ok\r\n" }, { "DATA", "<NAP>" }, NAP, { NULL, "354 go\r\n" },
	{ "<BODY>", "250 ok\r\n" }, { "RSET", "250 ok\r\n" }, { "QUIT", "221 bye\r\n" }, TO_EOF };

struct frow {
	const char *name;
	const struct step *script;
	struct smtp_timeouts to;
	bool auth;
	enum stage stage;	/* where it stopped */
	int rc;
	const char *msg;	/* e.msg, exactly */
	const char *status;	/* smtp_failure's status */
	const char *never;	/* never on the wire */
};

#define T2 { 2000, 2000, 2000, 2000, 2000, 2000 }
#define DUE2 "; a 2xx, 4xx or 5xx was due)"

static const struct frow frows[] = {
	{ "250 to DATA, pipelined", data250_pipe, T2, false, ST_ENVELOPE, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to DATA (unexpected reply 250 2.0.0 ok; a 3xx, 4xx or 5xx was due)",
	  "4.5.0", "Subject" },
	{ "250 to DATA, one command at a time", data250_one, T2, false, ST_ENVELOPE, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to DATA (unexpected reply 250 ok; a 3xx, 4xx or 5xx was due)", "4.5.0",
	  "Subject" },
	{ "354 after the dot", dot354, T2, false, ST_DATA, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to end of data (unexpected reply 354 go on" DUE2, "4.5.0", "RSET" },
	{ "354 greeting", greet354, T2, false, ST_GREETING, SMTP_FAIL_PROTO,
	  PROTO "reading the greeting (unexpected reply 354 hello" DUE2, "4.5.0", "EHLO" },
	{ "334 to EHLO", ehlo334, T2, false, ST_EHLO, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to EHLO (unexpected reply 334 VXNlcm5hbWU6" DUE2, "4.5.0", "HELO" },
	{ "354 to HELO after a 502 to EHLO", helo354, T2, false, ST_EHLO, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to HELO (unexpected reply 354 hi" DUE2, "4.5.0", "MAIL" },
	{ "334 to AUTH PLAIN with its credentials", plain334, T2, true, ST_AUTH, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to AUTH (unexpected reply 334" DUE2, "4.5.0", "MAIL" },
	{ "AUTH LOGIN: a third 334", login334, T2, true, ST_AUTH, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to AUTH (unexpected reply 334 UGFzc3dvcmQ6" DUE2, "4.5.0", "MAIL" },
	{ "354 to MAIL", mail354, T2, false, ST_ENVELOPE, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to MAIL FROM (unexpected reply 354 what" DUE2, "4.5.0", "RCPT" },
	{ "334 to MAIL, pipelined", mail334_pipe, T2, false, ST_ENVELOPE, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to MAIL FROM (unexpected reply 334 what" DUE2, "4.5.0", "Subject" },
	{ "354 to RCPT, pipelined", rcpt354_pipe, T2, false, ST_ENVELOPE, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to RCPT TO (unexpected reply 354 what" DUE2, "4.5.0", "Subject" },
	{ "354 to RCPT, one at a time", rcpt354_one, T2, false, ST_ENVELOPE, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to RCPT TO (unexpected reply 354 what" DUE2, "4.5.0", "DATA" },
	{ "354 to RSET", rset354, T2, false, ST_RSET, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to RSET (unexpected reply 354 what" DUE2, "4.5.0", "QUIT" },
	{ "malformed reply to RCPT", malformed_rcpt, T2, false, ST_ENVELOPE, SMTP_FAIL_PROTO,
	  PROTO "reading the reply to RCPT TO (malformed reply: reply line does not start with a code 2xx-5xx)",
	  "4.5.0", "DATA" },

	{ "drop before the greeting", drop_greet, T2, false, ST_GREETING, SMTP_FAIL_CONN,
	  LOST "reading the greeting (server closed the connection)", "4.4.2", NULL },
	{ "drop at EHLO", drop_ehlo, T2, false, ST_EHLO, SMTP_FAIL_CONN,
	  LOST "reading the reply to EHLO (server closed the connection)", "4.4.2", NULL },
	{ "drop at MAIL", drop_mail, T2, false, ST_ENVELOPE, SMTP_FAIL_CONN,
	  LOST "reading the reply to MAIL FROM (server closed the connection)", "4.4.2", NULL },
	{ "drop at RCPT", drop_rcpt, T2, false, ST_ENVELOPE, SMTP_FAIL_CONN,
	  LOST "reading the reply to RCPT TO (server closed the connection)", "4.4.2", NULL },
	{ "drop at RCPT, pipelined", drop_rcpt_pipe, T2, false, ST_ENVELOPE, SMTP_FAIL_CONN,
	  LOST "reading the reply to RCPT TO (server closed the connection)", "4.4.2", NULL },
	{ "drop at DATA", drop_data, T2, false, ST_ENVELOPE, SMTP_FAIL_CONN,
	  LOST "reading the reply to DATA (server closed the connection)", "4.4.2", NULL },
	{ "drop at the end of data", drop_dot, T2, false, ST_DATA, SMTP_FAIL_CONN,
	  LOST "reading the reply to end of data (server closed the connection)", "4.4.2", NULL },
	{ "drop at RSET", drop_rset, T2, false, ST_RSET, SMTP_FAIL_CONN,
	  LOST "reading the reply to RSET (server closed the connection)", "4.4.2", NULL },

	{ "stalled greeting", stall_greet, { 2000, 250, 2000, 2000, 2000, 2000 }, false, ST_GREETING,
	  SMTP_FAIL_CONN, LOST "reading the greeting (timeout after 250 ms)", "4.4.2", NULL },
	{ "stalled RCPT", stall_rcpt, { 2000, 2000, 1000, 2000, 2000, 2000 }, false, ST_ENVELOPE,
	  SMTP_FAIL_CONN, LOST "reading the reply to RCPT TO (timeout after 1 s)", "4.4.2", NULL },
	{ "stalled DATA", stall_data, { 2000, 2000, 2000, 300, 2000, 2000 }, false, ST_ENVELOPE,
	  SMTP_FAIL_CONN, LOST "reading the reply to DATA (timeout after 300 ms)", "4.4.2", NULL },
	{ "stalled end of data", stall_dot, { 2000, 2000, 2000, 2000, 2000, 350 }, false, ST_DATA,
	  SMTP_FAIL_CONN, LOST "reading the reply to end of data (timeout after 350 ms)", "4.4.2", NULL },

	/* MAIL at 300 ms, RCPT at 900, DATA's 354 would come at 1500 */
	{ "drip-feed past the message limit", drip, { 2000, 2000, 2000, 2000, 2000, 2000, 1200, 0 }, false,
	  ST_ENVELOPE, SMTP_FAIL_CONN, LOST "reading the reply to DATA (message time limit of 1200 ms reached)",
	  "4.4.2", "Subject" },
	/* EHLO at 300 ms, MAIL at 600, RCPT at 1200 */
	{ "drip-feed past the session limit", drip, { 2000, 2000, 2000, 2000, 2000, 2000, 0, 900 }, false,
	  ST_ENVELOPE, SMTP_FAIL_CONN, LOST "reading the reply to RCPT TO (session time limit of 900 ms reached)",
	  "4.4.2", "DATA" },
	{ "drip-feed inside both limits", drip, { 2000, 2000, 2000, 2000, 2000, 2000, 2500, 5000 }, false,
	  ST_DONE, SMTP_OK, "", "4.4.2", NULL },
};

Test(faults, table)
{
	for (size_t i = 0; i < sizeof frows / sizeof frows[0]; i++) {
		const struct frow *f = &frows[i];
		struct run r;

		buf_reset(&transcript);
		session(f->script, &f->to, f->auth, &r);
		cr_expect_eq(r.stage, f->stage, "%s: stopped at %s, want %s (%s)", f->name, stage_name[r.stage],
			     stage_name[f->stage], r.e.msg);
		cr_expect_eq(r.rc, f->rc, "%s: rc %d, want %d (%s)", f->name, r.rc, f->rc, r.e.msg);
		if (f->rc != SMTP_OK) {
			cr_expect_str_eq(r.e.msg, f->msg, "%s", f->name);
			cr_expect_str_eq(r.status, f->status, "%s", f->name);
		}
		if (f->never != NULL)
			cr_expect(strstr(r.log, f->never) == NULL, "%s: %s went out:\n%s", f->name, f->never, r.log);
		free(r.log);
	}
}

/* A drop while the message is being written: the reason names the write, whatever errno the kernel
 * gives (EPIPE or ECONNRESET). */
static const struct step drop_body[] = {
	GREET, EHLO_ONE, { "MAIL", "250 ok\r\n" }, { "RCPT", "250 ok\r\n" }, { "DATA", "354 go\r\n" },
	{ "Subject", "<CLOSE>" }, { NULL, NULL } };

Test(faults, drop_while_sending_the_message)
{
	struct smtp_timeouts to = T2;
	struct smtp_opts o = { to, record, &transcript, PEER };
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct server srv;
	struct smtp *c;
	struct smtp_reply rep[1];
	struct smtp_rcpt_params rcpts[] = { { "b@y" } };
	const char *status;
	struct err e = { 0 };
	struct buf big;
	size_t acc;
	int fd;

	buf_init(&big, 8 << 20);
	cr_assert_eq(buf_adds(&big, "Subject: x\r\n\r\n"), 0);
	while (big.len < (4 << 20))
		cr_assert_eq(buf_adds(&big, "0123456789012345678901234567890123456789\r\n"), 0);
	fd = msgfd(buf_str(&big));
	buf_free(&big);
	server_start(&srv, drop_body);
	c = smtp_new(&o);
	cr_assert_eq(smtp_connect(c, lo, srv.port, &e), SMTP_OK);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	cr_assert_eq(smtp_mail(c, MP("a@x"), &e), SMTP_OK);
	cr_assert_eq(smtp_rcpt(c, rcpts, 1, rep, &acc, &e), SMTP_OK);
	smtp_reply_free(&rep[0]);
	cr_expect_eq(smtp_data(c, NULL, 0, fd, fsize(fd), &e), SMTP_FAIL_CONN, "%s", e.msg);
	cr_expect(strncmp(e.msg, LOST "sending the message (", strlen(LOST "sending the message (")) == 0 &&
		  (strstr(e.msg, "(server closed the connection)") != NULL ||
		   strstr(e.msg, "(connection reset by peer)") != NULL), "%s", e.msg);
	cr_expect_str_eq(smtp_failure(c, &status), e.msg);
	cr_expect_str_eq(status, "4.4.2");
	smtp_free(c);
	close(fd);
	free(server_end(&srv));
}

/* Once the session's limit has passed, a new transaction sends nothing at all: the message was not
 * attempted. */
static const struct step idle[] = { GREET, EHLO_PIPE, TO_EOF };

Test(faults, session_limit_sends_nothing_more)
{
	struct smtp_timeouts to = { 2000, 2000, 2000, 2000, 2000, 2000, 0, 300 };
	struct smtp_opts o = { to, record, &transcript, PEER };
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct timespec nap = { 0, 500 * 1000000L };
	struct server srv;
	struct smtp *c;
	struct smtp_reply mail, rep[1];
	struct smtp_rcpt_params rcpts[] = { { "b@y" } };
	struct err e = { 0 };
	size_t acc;
	bool go;
	char *log;

	server_start(&srv, idle);
	c = smtp_new(&o);
	cr_assert_eq(smtp_connect(c, lo, srv.port, &e), SMTP_OK);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	nanosleep(&nap, NULL);
	cr_expect_eq(smtp_envelope(c, MP("a@x"), rcpts, 1, &mail, rep, &acc, &go, &e),
		     SMTP_FAIL_CONN);
	cr_expect_str_eq(e.msg, LOST "sending MAIL FROM (session time limit of 300 ms reached)");
	cr_expect_not(go);
	smtp_reply_free(&mail);
	smtp_reply_free(&rep[0]);
	smtp_free(c);
	log = server_join(&srv);
	cr_expect(strstr(log, "MAIL") == NULL, "%s", log);
	free(log);
}

/* The message's limit runs per message: two messages that each take 1.2 s of replies go through one
 * session with a 1.5 s message limit. */
static const struct step drip_two[] = {
	GREET, EHLO_ONE,
	{ "MAIL", "<NAP>" }, { NULL, "250 ok\r\n" }, { "RCPT", "<NAP>" }, { NULL, "250 ok\r\n" },
	{ "DATA", "<NAP>" }, { NULL, "354 go\r\n" }, { "<BODY>", "<NAP>" }, { NULL, "250 ok\r\n" },
	{ "RSET", "250 ok\r\n" },
	{ "MAIL", "<NAP>" }, { NULL, "250 ok\r\n" }, { "RCPT", "<NAP>" }, { NULL, "250 ok\r\n" },
	{ "DATA", "<NAP>" }, { NULL, "354 go\r\n" }, { "<BODY>", "<NAP>" }, { NULL, "250 ok\r\n" },
	TO_EOF };

Test(faults, message_limit_is_per_message)
{
	struct smtp_timeouts to = { 2000, 2000, 2000, 2000, 2000, 2000, 1500, 0 };
	struct smtp_opts o = { to, record, &transcript, PEER };
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct server srv;
	struct smtp *c;
	struct smtp_reply mail, rep[1];
	struct smtp_rcpt_params rcpts[] = { { "b@y" } };
	struct err e = { 0 };
	size_t acc;
	bool go;
	int fd = msgfd("Subject: x\r\n\r\nbody\r\n");

	server_start(&srv, drip_two);
	c = smtp_new(&o);
	cr_assert_eq(smtp_connect(c, lo, srv.port, &e), SMTP_OK);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	for (int m = 0; m < 2; m++) {
		cr_assert_eq(smtp_envelope(c, MP("a@x"), rcpts, 1, &mail, rep, &acc, &go, &e),
			     SMTP_OK, "message %d: %s", m, e.msg);
		cr_assert(go);
		smtp_reply_free(&mail);
		smtp_reply_free(&rep[0]);
		cr_assert_eq(smtp_data_body(c, "", 0, fd, fsize(fd), &e), SMTP_OK, "message %d: %s", m, e.msg);
		if (m == 0)
			cr_assert_eq(smtp_rset(c, &e), SMTP_OK, "%s", e.msg);
	}
	smtp_free(c);
	close(fd);
	free(server_join(&srv));
}

/* A 3xx to STARTTLS: no handshake, a protocol error (was: a refusal with code 3xx). */
static const struct step starttls334[] = {
	GREET, { "EHLO", "250-mx\r\n250 STARTTLS\r\n" }, { "STARTTLS", "334 go\r\n" }, TO_EOF };

Test(faults, starttls_3xx)
{
	struct smtp_timeouts to = T2;
	struct smtp_opts o = { to, record, &transcript, PEER };
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct server srv;
	struct smtp *c;
	struct err e = { 0 };
	struct tls_client_ctx *ctx = tls_ctx_new(NULL, NULL, NULL, &e);
	const char *status;

	cr_assert_not_null(ctx, "%s", e.msg);
	server_start(&srv, starttls334);
	c = smtp_new(&o);
	cr_assert_eq(smtp_connect(c, lo, srv.port, &e), SMTP_OK);
	cr_assert_eq(smtp_greeting(c, &e), SMTP_OK);
	cr_assert_eq(smtp_ehlo(c, "client.example", &e), SMTP_OK, "%s", e.msg);
	cr_expect_eq(smtp_starttls(c, ctx, "localhost", &e), SMTP_FAIL_PROTO, "%s", e.msg);
	cr_expect_str_eq(e.msg, PROTO "reading the reply to STARTTLS (unexpected reply 334 go" DUE2);
	cr_expect_str_eq(smtp_failure(c, &status), e.msg);
	cr_expect_str_eq(status, "4.5.0");
	cr_expect_null(smtp_tls(c));
	smtp_free(c);
	tls_ctx_free(ctx);
	free(server_join(&srv));
}
