/*
 * smtp.c - the SMTP client session (see smtp.h): EHLO, STARTTLS, AUTH, the envelope (pipelined when
 * the server allows, the next message's too), DATA, RSET and QUIT, over the connection of smtp_io.c.
 */
#include "queue/wire/smtp.h"
#include "queue/wire/smtp_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>

static char *line_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *line_printf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int r;

	buf_init(&b, LIM_SMTP_LINE - 2);
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* ehlo - EHLO/HELO with s->helo. */
static int ehlo(struct smtp *s, struct err *e)
{
	char *line = line_printf("EHLO %s", s->helo);
	int r;

	memset(&s->ext, 0, sizeof s->ext);
	if (line == NULL)
		return err_set(e, EX_CONFIG, "HELO name too long"), SMTP_FAIL_LOCAL;
	r = smtp_command(s, line, NULL, SMTP_STEP_EHLO, e);
	free(line);
	if (r == SMTP_OK) {
		smtp_ehlo_parse(&s->last, &s->ext);
		return SMTP_OK;
	}
	if (r != SMTP_FAIL_RESP || s->last.code / 100 != 5)
		return r;
	line = line_printf("HELO %s", s->helo);
	r = smtp_command(s, line, NULL, SMTP_STEP_HELO, e);
	free(line);
	return r;
}

int smtp_ehlo(struct smtp *s, const char *helo_name, struct err *e)
{
	if (helo_name[0] == '\0' || strpbrk(helo_name, " \t\r\n") != NULL)
		return err_set(e, EX_CONFIG, "bad HELO name"), SMTP_FAIL_LOCAL;
	free(s->helo);
	s->helo = xstrdup(helo_name);
	return ehlo(s, e);
}

int smtp_starttls(struct smtp *s, struct tls_client_ctx *ctx, const char *name, struct err *e)
{
	int r;

	if (s->tls != NULL || s->helo == NULL)
		return err_set(e, EX_SOFTWARE, "STARTTLS: already on, or before EHLO"), SMTP_FAIL_LOCAL;
	if ((r = smtp_command(s, "STARTTLS", NULL, SMTP_STEP_STARTTLS, e)) != SMTP_OK)
		return r;
	/* anything already here was sent before the handshake: an attacker's injection */
	if (s->rb.len > 0)
		return smtp_fail(s, SMTP_FAIL_PROTO, SMTP_STEP_STARTTLS, true, e,
				 "trailing data after the STARTTLS reply");
	if ((r = smtp_io_handshake(s, ctx, name, e)) != SMTP_OK)
		return r;
	buf_reset(&s->rb);
	return ehlo(s, e);	/* RFC 3207 4.2: forget everything learnt before */
}

/* b64 - base64 of p (owned result). */
static char *b64(const void *p, size_t n)
{
	char *out = xcalloc(1, 4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* secret_line - send a credential line for step st and read the reply; the buffer is wiped. */
static int secret_line(struct smtp *s, char *line, const char *shown, enum smtp_step st, struct err *e)
{
	int r = smtp_command(s, line, shown, st, e);

	explicit_bzero(line, strlen(line));
	free(line);
	return r;
}

int smtp_auth(struct smtp *s, const char *user, const char *pass, bool allow_plaintext,
	      struct err *e)
{
	size_t nu = strlen(user), np = strlen(pass);
	int r;

	if (s->tls == NULL && !allow_plaintext)
		return err_set(e, EX_CONFIG, "refusing to send credentials without TLS"), SMTP_FAIL_LOCAL;
	if (nu == 0 || nu > SMTP_CRED_MAX || np > SMTP_CRED_MAX)
		return err_set(e, EX_CONFIG, "bad credential length"), SMTP_FAIL_LOCAL;
	if (s->ext.auth_plain) {
		char raw[2 * SMTP_CRED_MAX + 2], *enc, *line;

		raw[0] = '\0';
		memcpy(raw + 1, user, nu);
		raw[1 + nu] = '\0';
		memcpy(raw + 2 + nu, pass, np);
		enc = b64(raw, 2 + nu + np);
		explicit_bzero(raw, sizeof raw);
		line = line_printf("AUTH PLAIN %s", enc);
		explicit_bzero(enc, strlen(enc));
		free(enc);
		return secret_line(s, line, "AUTH <credentials hidden>", SMTP_STEP_AUTH, e);
	}
	if (!s->ext.auth_login)
		return err_set(e, EX_CONFIG, "server offers neither AUTH PLAIN nor LOGIN"), SMTP_FAIL_LOCAL;
	/* two 334 challenges, then 235: a 334 where the mechanism has no more is a protocol error */
	if ((r = smtp_command(s, "AUTH LOGIN", NULL, SMTP_STEP_AUTH_CONT, e)) != SMTP_OK)
		return r;
	if ((r = secret_line(s, b64(user, nu), "<credentials hidden>", SMTP_STEP_AUTH_CONT, e)) != SMTP_OK)
		return r;
	return secret_line(s, b64(pass, np), "<credentials hidden>", SMTP_STEP_AUTH, e);
}

int smtp_mail(struct smtp *s, const struct smtp_mail_params *p, struct err *e)
{
	struct buf b;
	int r = SMTP_FAIL_LOCAL;

	buf_init(&b, LIM_SMTP_LINE - 2);
	smtp_message_begin(s);
	if (smtp_mail_format(p, &s->ext, &b, e) == 0)
		r = smtp_command(s, buf_str(&b), NULL, SMTP_STEP_MAIL, e);
	buf_free(&b);
	return r;
}

/* keep - a copy of the last reply that outlives the next one. */
static void keep(struct smtp *s, struct smtp_reply *to)
{
	*to = s->last;
	to->text = xstrdup(s->last.text ? s->last.text : "");
}

/* add_line - cmd (what a formatter made of one command, or -1 in formatted) and CRLF onto b. */
static int add_line(struct buf *b, int formatted, const struct buf *cmd, struct err *e)
{
	if (formatted < 0)
		return SMTP_FAIL_LOCAL;
	if (buf_add(b, cmd->data, cmd->len) < 0 || buf_adds(b, "\r\n") < 0)
		return err_set(e, EX_DATAERR, "envelope too long"), SMTP_FAIL_LOCAL;
	return SMTP_OK;
}

/* group - MAIL, the RCPTs and DATA as one pipelined group (RFC 2920 3.1), appended to b. */
static int group(struct smtp *s, struct buf *b, const struct smtp_mail_params *p,
		 const struct smtp_rcpt_params *rcpts, size_t n, struct err *e)
{
	struct buf cmd;
	int r;

	buf_init(&cmd, LIM_SMTP_LINE - 2);
	r = add_line(b, smtp_mail_format(p, &s->ext, &cmd, e), &cmd, e);
	for (size_t i = 0; r == SMTP_OK && i < n; i++) {
		buf_reset(&cmd);
		r = add_line(b, smtp_rcpt_format(&rcpts[i], &s->ext, &cmd, e), &cmd, e);
	}
	buf_free(&cmd);
	if (r == SMTP_OK && buf_adds(b, "DATA\r\n") < 0)
		return err_set(e, EX_DATAERR, "envelope too long"), SMTP_FAIL_LOCAL;
	return r;
}

/* read_checked - read the reply to step st: SMTP_OK for any reply of the step's classes (smtp_verdict
 * OK, TEMP or PERM; the caller looks at the code), SMTP_FAIL_PROTO for one of the wrong class. */
static int read_checked(struct smtp *s, enum smtp_step st, struct err *e)
{
	int r;

	if ((r = smtp_read_reply(s, st, e)) != SMTP_OK)
		return r;
	if (smtp_verdict(st, s->last.code) == SMTP_V_PROTO)
		return smtp_check(s, st, e);
	return SMTP_OK;
}

/* smtp_envelope_ahead - see smtp.h */
int smtp_envelope_ahead(struct smtp *s, const struct smtp_mail_params *p,
			const struct smtp_rcpt_params *rcpts, size_t n, struct err *e)
{
	if (!s->ext.pipelining || n > SMTP_PIPE_GROUP || n == 0 || s->ahead.len > 0 || s->ahead_sent)
		return err_set(e, EX_SOFTWARE, "cannot pipeline this envelope"), SMTP_FAIL_LOCAL;
	if (group(s, &s->ahead, p, rcpts, n, e) != SMTP_OK) {
		buf_reset(&s->ahead);
		return SMTP_FAIL_LOCAL;
	}
	s->ahead_n = n;
	return SMTP_OK;
}

/* smtp_ahead_pending - see smtp.h */
bool smtp_ahead_pending(const struct smtp *s)
{
	return s->ahead_sent;
}

int smtp_envelope(struct smtp *s, const struct smtp_mail_params *p, const struct smtp_rcpt_params *rcpts,
		  size_t n, struct smtp_reply *mail, struct smtp_reply *replies, size_t *accepted,
		  bool *data_ok, struct err *e)
{
	struct buf b;
	int r;

	*accepted = 0;
	*data_ok = false;
	memset(mail, 0, sizeof *mail);
	memset(replies, 0, n * sizeof *replies);
	if (!s->ext.pipelining || n > SMTP_PIPE_GROUP) {
		/* one command at a time (smtp_rcpt still pipelines the RCPTs when it may) */
		r = smtp_mail(s, p, e);
		if (r != SMTP_OK && r != SMTP_FAIL_RESP)
			return r;
		keep(s, mail);
		if (r == SMTP_FAIL_RESP)
			return SMTP_OK;
		if ((r = smtp_rcpt(s, rcpts, n, replies, accepted, e)) != SMTP_OK || *accepted == 0)
			return r;
		r = smtp_command(s, "DATA", NULL, SMTP_STEP_DATA, e);
		*data_ok = r == SMTP_OK;
		return r == SMTP_FAIL_RESP ? SMTP_OK : r;	/* (a 250 to DATA is SMTP_FAIL_PROTO) */
	}
	smtp_message_begin(s);
	if (s->ahead_sent) {
		/* sent after the last message's terminator: only the replies are left to read */
		s->ahead_sent = false;
		if (s->ahead_n != n)
			return smtp_fail(s, SMTP_FAIL_PROTO, SMTP_STEP_MAIL, true, e,
					 "internal error: the pipelined envelope does not match");
	} else {
		/* RFC 2920 3.1: MAIL, the RCPTs and DATA in one write; then their replies in order */
		buf_init(&b, (n + 2) * LIM_SMTP_LINE);
		r = group(s, &b, p, rcpts, n, e);
		if (r == SMTP_OK) {
			smtp_show(s, SMTP_DIR_OUT, b.data, b.len);
			r = smtp_io_write(s, b.data, b.len, SMTP_STEP_MAIL, e);
		}
		buf_free(&b);
		if (r != SMTP_OK)
			return r;
	}
	if ((r = read_checked(s, SMTP_STEP_MAIL, e)) != SMTP_OK)
		return r;
	keep(s, mail);
	for (size_t i = 0; i < n; i++) {
		if ((r = read_checked(s, SMTP_STEP_RCPT, e)) != SMTP_OK) {
			for (size_t k = 0; k < n; k++)
				smtp_reply_free(&replies[k]);
			smtp_reply_free(mail);
			*accepted = 0;
			return r;
		}
		keep(s, &replies[i]);
		if (s->last.code / 100 == 2 && mail->code / 100 == 2)
			(*accepted)++;
	}
	if ((r = read_checked(s, SMTP_STEP_DATA, e)) != SMTP_OK)
		return r;
	if (s->last.code / 100 == 3 && *accepted == 0) {
		/* RFC 2920 3.1: the server took DATA although nobody was accepted; end it empty. Its
		 * reply is no verdict on anybody, but a 3xx to the dot is still a protocol error. */
		if (s->o.transcript != NULL)
			s->o.transcript(s->o.transcript_ctx, SMTP_DIR_OUT, ".", 1);
		if ((r = smtp_io_write(s, ".\r\n", 3, SMTP_STEP_DOT, e)) != SMTP_OK ||
		    (r = read_checked(s, SMTP_STEP_DOT, e)) != SMTP_OK)
			return r;
		return SMTP_OK;
	}
	*data_ok = s->last.code / 100 == 3;
	return SMTP_OK;
}

int smtp_rcpt(struct smtp *s, const struct smtp_rcpt_params *rcpts, size_t n, struct smtp_reply *replies,
	      size_t *accepted, struct err *e)
{
	size_t group = s->ext.pipelining ? SMTP_PIPE_GROUP : 1, done = 0;
	struct buf cmd;
	int r = SMTP_OK;

	*accepted = 0;
	memset(replies, 0, n * sizeof *replies);
	buf_init(&cmd, LIM_SMTP_LINE - 2);
	for (size_t i = 0; i < n; i++) {	/* every line is checked before the first goes out */
		buf_reset(&cmd);
		if (smtp_rcpt_format(&rcpts[i], &s->ext, &cmd, e) < 0) {
			buf_free(&cmd);
			return SMTP_FAIL_LOCAL;
		}
	}
	while (done < n) {
		size_t k = n - done < group ? n - done : group;
		struct buf b;

		/* one write for the whole group (RFC 2920 3.1) */
		buf_init(&b, k * LIM_SMTP_LINE);
		for (size_t i = 0; i < k; i++) {
			buf_reset(&cmd);
			if (smtp_rcpt_format(&rcpts[done + i], &s->ext, &cmd, e) < 0 ||
			    buf_add(&b, cmd.data, cmd.len) < 0 || buf_adds(&b, "\r\n") < 0)
				abort();	/* cannot happen: checked above, each line fits LIM_SMTP_LINE */
			if (s->o.transcript != NULL)
				s->o.transcript(s->o.transcript_ctx, SMTP_DIR_OUT, cmd.data, cmd.len);
		}
		r = smtp_io_write(s, b.data, b.len, SMTP_STEP_RCPT, e);
		buf_free(&b);
		for (size_t i = 0; r == SMTP_OK && i < k; i++) {
			if ((r = read_checked(s, SMTP_STEP_RCPT, e)) != SMTP_OK)
				break;
			replies[done + i] = s->last;
			replies[done + i].text = xstrdup(s->last.text);
			if (s->last.code / 100 == 2)
				(*accepted)++;
		}
		if (r != SMTP_OK) {
			for (size_t i = 0; i < n; i++)
				smtp_reply_free(&replies[i]);
			*accepted = 0;
			buf_free(&cmd);
			return r;
		}
		done += k;
	}
	buf_free(&cmd);
	return SMTP_OK;
}

/* flush - write the m bytes waiting in out, for step st (the message, or its end). */
static int flush(struct smtp *s, const char *out, size_t *m, enum smtp_step st, struct err *e)
{
	int r = smtp_io_write(s, out, *m, st, e);

	*m = 0;
	return r;
}

int smtp_data_body(struct smtp *s, const char *prefix, size_t prefixlen, int fd, long long size,
		   struct err *e)
{
	/* the prepended lines and the file go through one output buffer, written out whenever it holds
	 * SMTP_CHUNK bytes: a small message is a single write, terminator included (a separate 3-byte
	 * ".\r\n" would wait for the peer's delayed ACK, Nagle's 40 ms per message). Stuffing a chunk
	 * of n bytes yields at most 2n, so out never holds more than 3 chunks and the terminator. */
	char *in = xcalloc(1, SMTP_CHUNK), *out = xcalloc(3, SMTP_CHUNK + 8);
	struct smtp_dot dot;
	size_t m = 0;
	off_t off = 0;
	ssize_t n, k;
	int r = SMTP_OK;

	smtp_dot_init(&dot);
	for (size_t p = 0; p < prefixlen; p += (size_t)n) {
		n = prefixlen - p < SMTP_CHUNK ? (ssize_t)(prefixlen - p) : SMTP_CHUNK;
		if ((k = smtp_dot_stuff(&dot, prefix + p, (size_t)n, out + m, e)) < 0) {
			r = SMTP_FAIL_LOCAL;
			goto out;
		}
		m += (size_t)k;
		if (m >= SMTP_CHUNK && (r = flush(s, out, &m, SMTP_STEP_BODY, e)) != SMTP_OK)
			goto out;
	}
	while (off < size) {	/* exactly size bytes: the file may go on (the spool's envelope trailer) */
		size_t want = size - off < SMTP_CHUNK ? (size_t)(size - off) : SMTP_CHUNK;

		n = pread(fd, in, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_set(e, EX_TEMPFAIL, "reading the message: %s", n < 0 ? strerror(errno) : "file shorter than its size");
			r = SMTP_FAIL_LOCAL;
			goto out;
		}
		off += n;
		if ((k = smtp_dot_stuff(&dot, in, (size_t)n, out + m, e)) < 0) {
			r = SMTP_FAIL_LOCAL;
			goto out;
		}
		m += (size_t)k;
		if (m >= SMTP_CHUNK && off < size && (r = flush(s, out, &m, SMTP_STEP_BODY, e)) != SMTP_OK)
			goto out;
	}
	if ((k = smtp_dot_end(&dot, out + m, e)) < 0) {
		r = SMTP_FAIL_LOCAL;
		goto out;
	}
	m += (size_t)k;
	if (s->o.transcript != NULL)
		s->o.transcript(s->o.transcript_ctx, SMTP_DIR_OUT, ".", 1);
	if (s->ahead.len > 0) {
		/* RFC 2920 3.1: the next message's envelope follows the terminator in the same write */
		out = xreallocarray(out, 1, m + s->ahead.len);
		memcpy(out + m, s->ahead.data, s->ahead.len);
		m += s->ahead.len;
		smtp_show(s, SMTP_DIR_OUT, s->ahead.data, s->ahead.len);
		buf_reset(&s->ahead);
		s->ahead_sent = true;
	}
	if ((r = flush(s, out, &m, SMTP_STEP_DOT, e)) != SMTP_OK)
		goto out;
	if ((r = smtp_read_reply(s, SMTP_STEP_DOT, e)) != SMTP_OK)
		goto out;
	r = smtp_check(s, SMTP_STEP_DOT, e);	/* 2xx sent, 4xx/5xx refused, else a protocol error */
out:
	if (r == SMTP_FAIL_LOCAL)
		err_prefix(e, "DATA");
	smtp_message_end(s);
	free(in);
	free(out);
	return r;
}

int smtp_rset(struct smtp *s, struct err *e)
{
	smtp_message_end(s);
	if (s->ahead_sent)	/* the server is in DATA: a command now would be message text */
		return smtp_fail(s, SMTP_FAIL_PROTO, SMTP_STEP_RSET, false, e,
				 "internal error: RSET with a pipelined envelope outstanding");
	return smtp_command(s, "RSET", NULL, SMTP_STEP_RSET, e);
}

void smtp_quit(struct smtp *s)
{
	struct err e, failed = s->fail;
	int kind = s->fail_kind;

	if (s->fd < 0 || s->ahead_sent)	/* (in DATA: closing aborts that transaction) */
		return;
	smtp_message_end(s);
	if (smtp_send_line(s, "QUIT", NULL, SMTP_STEP_QUIT, &e) == SMTP_OK)
		(void)smtp_read_reply(s, SMTP_STEP_QUIT, &e);
	s->fail = failed;	/* QUIT's own trouble is nobody's business (smtp_failure) */
	s->fail_kind = kind;
}
