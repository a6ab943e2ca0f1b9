/*
 * smtp_io.c - the SMTP client's connection (see smtp.h): connect, implicit TLS, the greeting, and
 * the bytes, replies and single commands the session in smtp.c is made of.
 *
 * All socket I/O goes through io_read/smtp_io_write, which speak either the plain non-blocking socket
 * or the TLS connection, each with a deadline: the least of its step's timeout (smtp_step.h) and what
 * is left of the message's and the session's wall-clock limits. Received bytes wait in one bounded
 * buffer (s->rb) until smtp_reply_parse takes a whole reply from its start. Every failure that ends
 * the session names the peer, the step and what happened (smtp_fail, smtp_failure).
 */
#include "queue/wire/smtp.h"
#include "queue/wire/smtp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/fdio.h"
#include "lib/limits.h"

void smtp_timeouts_from_config(const struct config *c, struct smtp_timeouts *t)
{
	long v[8] = { c->timeout_connect, c->timeout_greeting, c->timeout_command,
		      c->timeout_data_init, c->timeout_data_block, c->timeout_data_done,
		      c->timeout_message, c->timeout_session };
	int *o[8] = { &t->connect, &t->greeting, &t->command, &t->data_init, &t->data_block,
		      &t->data_done, &t->message, &t->session };

	for (int i = 0; i < 8; i++)
		*o[i] = v[i] <= 0 ? 1000 : v[i] >= INT_MAX / 1000 ? INT_MAX : (int)(v[i] * 1000);
}

struct smtp *smtp_new(const struct smtp_opts *o)
{
	struct smtp *s = xcalloc(1, sizeof *s);

	s->o = *o;
	s->fd = -1;
	buf_init(&s->rb, SMTP_RBUF_MAX);
	buf_init(&s->ahead, (SMTP_PIPE_GROUP + 2) * LIM_SMTP_LINE);
	err_clear(&s->fail);
	return s;
}

void smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	tls_close(s->tls);
	if (s->fd >= 0)
		close(s->fd);
	buf_free(&s->rb);
	buf_free(&s->ahead);
	smtp_reply_free(&s->last);
	free(s->helo);
	free(s);
}

const struct smtp_reply *smtp_last_reply(const struct smtp *s)
{
	return &s->last;
}

const struct smtp_ext *smtp_ext(const struct smtp *s)
{
	return &s->ext;
}

const struct tls_conn *smtp_tls(const struct smtp *s)
{
	return s->tls;
}

const char *smtp_failure(const struct smtp *s, const char **status)
{
	if (status != NULL)
		*status = s->fail_kind == SMTP_FAIL_PROTO ? "4.5.0" : "4.4.2";
	return s->fail.msg;
}

void smtp_message_begin(struct smtp *s)
{
	s->msg_end = s->o.to.message > 0 ? now_ms() + s->o.to.message : 0;
}

void smtp_message_end(struct smtp *s)
{
	s->msg_end = 0;
}

/* The limit that ends a read or write first (deadline's *which). */
enum { LIMIT_STEP, LIMIT_MESSAGE, LIMIT_SESSION };

/* QUIT is a courtesy: never wait longer than this for its reply. */
#define SMTP_QUIT_MS 5000

/* timer_ms - the configured timeout of timer k. */
static int timer_ms(const struct smtp_timeouts *t, enum smtp_timer k)
{
	switch (k) {
	case SMTP_T_CONNECT:
		return t->connect;
	case SMTP_T_GREETING:
		return t->greeting;
	case SMTP_T_COMMAND:
		return t->command;
	case SMTP_T_DATA_INIT:
		return t->data_init;
	case SMTP_T_DATA_BLOCK:
		return t->data_block;
	case SMTP_T_DATA_DONE:
		return t->data_done;
	}
	abort();
}

/* step_ms - the timeout of step st's write or read. */
static int step_ms(const struct smtp *s, enum smtp_step st, bool reading)
{
	int ms = timer_ms(&s->o.to, smtp_step_timer(st, reading));

	return st == SMTP_STEP_QUIT && ms > SMTP_QUIT_MS ? SMTP_QUIT_MS : ms;
}

/* deadline - when step st's write or read must be done (CLOCK_MONOTONIC ms): its timeout from now, or
 * the message's or the session's limit if that ends first; *which says which one. */
static long long deadline(const struct smtp *s, enum smtp_step st, bool reading, int *which)
{
	long long d = now_ms() + step_ms(s, st, reading);

	*which = LIMIT_STEP;
	if (s->msg_end > 0 && s->msg_end < d) {
		d = s->msg_end;
		*which = LIMIT_MESSAGE;
	}
	if (s->sess_end > 0 && s->sess_end <= d) {
		d = s->sess_end;
		*which = LIMIT_SESSION;
	}
	return d;
}

/* Room for duration()'s text (an int has at most 11 characters), limit_text()'s, a strerror() and
 * smtp_fail()'s cause (the whole reason is cut to struct err's size anyway). */
#define DURATION_MAX 32
#define LIMIT_TEXT_MAX 80
#define ERRNO_TEXT_MAX 128
#define CAUSE_MAX 400

/* duration - ms as "600 s" or, under a second or not whole, "300 ms", into buf[DURATION_MAX]. */
static const char *duration(int ms, char *buf)
{
	if (ms >= 1000 && ms % 1000 == 0)
		(void)snprintf(buf, DURATION_MAX, "%d s", ms / 1000);	/* fits, see DURATION_MAX */
	else
		(void)snprintf(buf, DURATION_MAX, "%d ms", ms);
	return buf;
}

/* limit_text - the cause when the limit `which` of step st passed, into buf[LIMIT_TEXT_MAX]. */
static const char *limit_text(const struct smtp *s, enum smtp_step st, bool reading, int which, char *buf)
{
	char d[DURATION_MAX];

	/* each fits: the longest is 33 characters and a duration */
	if (which == LIMIT_MESSAGE)
		(void)snprintf(buf, LIMIT_TEXT_MAX, "message time limit of %s reached", duration(s->o.to.message, d));
	else if (which == LIMIT_SESSION)
		(void)snprintf(buf, LIMIT_TEXT_MAX, "session time limit of %s reached", duration(s->o.to.session, d));
	else
		(void)snprintf(buf, LIMIT_TEXT_MAX, "timeout after %s", duration(step_ms(s, st, reading), d));
	return buf;
}

/* timed_out - the failure when the limit `which` of step st passed. */
static int timed_out(struct smtp *s, enum smtp_step st, bool reading, int which, struct err *e)
{
	char t[LIMIT_TEXT_MAX];

	return smtp_fail(s, SMTP_FAIL_CONN, st, reading, e, "%s", limit_text(s, st, reading, which, t));
}

/* keep_fail - a failure whose reason is already in e, for smtp_failure. Returns kind. */
static int keep_fail(struct smtp *s, int kind, const struct err *e)
{
	s->fail = *e;
	s->fail_kind = kind;
	return kind;
}

/* sys_fail - the failure for errno en at step st, in words a mail log reader expects. */
static int sys_fail(struct smtp *s, enum smtp_step st, bool reading, int en, struct err *e)
{
	char what[ERRNO_TEXT_MAX];

	if (en == EPIPE)
		return smtp_fail(s, SMTP_FAIL_CONN, st, reading, e, "server closed the connection");
	(void)snprintf(what, sizeof what, "%s", strerror(en));	/* a cut message is acceptable */
	if (what[0] >= 'A' && what[0] <= 'Z' && what[1] >= 'a' && what[1] <= 'z')
		what[0] = (char)(what[0] - 'A' + 'a');	/* "connection reset by peer" */
	return smtp_fail(s, SMTP_FAIL_CONN, st, reading, e, "%s", what);
}

int smtp_fail(struct smtp *s, int kind, enum smtp_step st, bool reading, struct err *e, const char *fmt,
	      ...)
{
	char cause[CAUSE_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cause, sizeof cause, fmt, ap);	/* truncation of a reason is acceptable */
	va_end(ap);
	err_set(&s->fail, EX_TEMPFAIL, "%s with %s while %s (%s)",	/* a cut reason is acceptable */
		kind == SMTP_FAIL_PROTO ? "protocol error" : "lost connection",
		s->o.peer != NULL ? s->o.peer : s->addr[0] ? s->addr : "the server",
		smtp_step_doing(st, reading), cause);
	s->fail_kind = kind;
	if (e != NULL)
		*e = s->fail;
	return kind;
}

/* smtp_io_write - see smtp_int.h */
int smtp_io_write(struct smtp *s, const void *p, size_t n, enum smtp_step st, struct err *e)
{
	int which;
	long long dl = deadline(s, st, false, &which), left;
	const char *q = p;

	if (s->fd < 0)
		return smtp_fail(s, SMTP_FAIL_CONN, st, false, e, "not connected");
	if ((left = dl - now_ms()) <= 0)	/* a limit already passed: send nothing */
		return timed_out(s, st, false, which, e);
	if (s->tls != NULL) {
		struct err te = { 0 };

		if (tls_write(s->tls, p, n, left > INT_MAX ? INT_MAX : (int)left, &te) == 0)
			return SMTP_OK;
		if (now_ms() >= dl)
			return timed_out(s, st, false, which, e);
		return smtp_fail(s, SMTP_FAIL_CONN, st, false, e, "%s", te.msg);
	}
	while (n > 0) {
		ssize_t w = send(s->fd, q, n, MSG_NOSIGNAL);
		int r;

		if (w > 0) {
			q += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = fdio_wait(s->fd, POLLOUT, dl)) == 0)
				return timed_out(s, st, false, which, e);
			if (r < 0)
				return sys_fail(s, st, false, errno, e);
		} else {
			return sys_fail(s, st, false, w < 0 ? errno : EPIPE, e);
		}
	}
	return SMTP_OK;
}

/* io_read - append what arrives before the deadline of step st's read to s->rb. */
static int io_read(struct smtp *s, enum smtp_step st, long long dl, int which, struct err *e)
{
	char tmp[SMTP_READ];
	ssize_t r;

	if (s->fd < 0)
		return smtp_fail(s, SMTP_FAIL_CONN, st, true, e, "not connected");
	for (;;) {
		if (s->tls != NULL) {
			long long left = dl - now_ms();
			struct err te = { 0 };

			if (left <= 0)
				return timed_out(s, st, true, which, e);
			r = tls_read(s->tls, tmp, sizeof tmp, left > INT_MAX ? INT_MAX : (int)left, &te);
			if (r < 0 && now_ms() >= dl)
				return timed_out(s, st, true, which, e);
			if (r < 0)
				return smtp_fail(s, SMTP_FAIL_CONN, st, true, e, "%s", te.msg);
		} else {
			/* wait first: a reply is read right after a command, before the server can have
			 * answered, so a first recv would almost always find nothing */
			int w = fdio_wait(s->fd, POLLIN, dl);

			if (w == 0)
				return timed_out(s, st, true, which, e);
			if (w < 0)
				return sys_fail(s, st, true, errno, e);
			r = recv(s->fd, tmp, sizeof tmp, 0);
			if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (r < 0)
				return sys_fail(s, st, true, errno, e);
		}
		if (r == 0)
			return smtp_fail(s, SMTP_FAIL_CONN, st, true, e, "server closed the connection");
		if (buf_add(&s->rb, tmp, (size_t)r) < 0)
			return smtp_fail(s, SMTP_FAIL_PROTO, st, true, e,
					 "more than %zu bytes without a complete reply", s->rb.max);
		return SMTP_OK;
	}
}

/* smtp_show - see smtp_int.h */
void smtp_show(struct smtp *s, enum smtp_dir dir, const char *p, size_t n)
{
	if (s->o.transcript == NULL)
		return;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl != NULL ? (size_t)(nl - p) : n, l = k;

		if (l > 0 && p[l - 1] == '\r')
			l--;
		s->o.transcript(s->o.transcript_ctx, dir, p, l);
		k = nl != NULL ? k + 1 : k;
		p += k;
		n -= k;
	}
}

/* smtp_read_reply - see smtp_int.h */
int smtp_read_reply(struct smtp *s, enum smtp_step st, struct err *e)
{
	int which;
	long long dl = deadline(s, st, true, &which);

	smtp_reply_free(&s->last);
	memset(&s->last, 0, sizeof s->last);
	for (;;) {
		struct err pe;
		size_t used;
		int r = smtp_reply_parse(s->rb.data != NULL ? s->rb.data : "", s->rb.len, &s->last,
					 &used, &pe);

		if (r < 0)
			return smtp_fail(s, SMTP_FAIL_PROTO, st, true, e, "malformed reply: %s", pe.msg);
		if (r > 0) {
			smtp_show(s, SMTP_DIR_IN, s->rb.data, used);
			memmove(s->rb.data, s->rb.data + used, s->rb.len - used);
			s->rb.len -= used;
			s->rb.data[s->rb.len] = '\0';
			return SMTP_OK;
		}
		if ((r = io_read(s, st, dl, which, e)) != SMTP_OK)
			return r;
	}
}

/* smtp_send_line - see smtp_int.h */
int smtp_send_line(struct smtp *s, const char *line, const char *shown, enum smtp_step st,
		   struct err *e)
{
	size_t n = strlen(line);
	struct buf b;
	int r;

	if (strpbrk(line, "\r\n") != NULL || n > LIM_SMTP_LINE - 2)
		return err_set(e, EX_SOFTWARE, "refusing to send a bad command line"), SMTP_FAIL_LOCAL;
	if (s->o.transcript != NULL)
		s->o.transcript(s->o.transcript_ctx, SMTP_DIR_OUT, shown ? shown : line,
				strlen(shown ? shown : line));
	buf_init(&b, LIM_SMTP_LINE);
	if (buf_add(&b, line, n) < 0 || buf_add(&b, "\r\n", 2) < 0)
		return buf_free(&b), err_set(e, EX_SOFTWARE, "command too long"), SMTP_FAIL_LOCAL;
	r = smtp_io_write(s, b.data, b.len, st, e);
	explicit_bzero(b.data, b.len);	/* it may have held credentials */
	buf_free(&b);
	return r;
}

/* smtp_check - see smtp_int.h */
int smtp_check(struct smtp *s, enum smtp_step st, struct err *e)
{
	int code = s->last.code, first = (int)strcspn(s->last.text ? s->last.text : "", "\n");
	const char *text = s->last.text ? s->last.text : "";

	switch (smtp_verdict(st, code)) {
	case SMTP_V_OK:
		return SMTP_OK;
	case SMTP_V_TEMP:
	case SMTP_V_PERM:
		err_set(e, code >= 500 ? 0 : EX_TEMPFAIL, "%s: server said %d %.*s", smtp_step_name(st), code,
			first, text);
		return SMTP_FAIL_RESP;
	case SMTP_V_PROTO:
		break;
	}
	return smtp_fail(s, SMTP_FAIL_PROTO, st, true, e, "unexpected reply %d%s%.*s; a %dxx, 4xx or 5xx was due",
			 code, first > 0 ? " " : "", first, text, smtp_step_want(st));
}

/* smtp_command - see smtp_int.h */
int smtp_command(struct smtp *s, const char *line, const char *shown, enum smtp_step st, struct err *e)
{
	int r;

	if ((r = smtp_send_line(s, line, shown, st, e)) != SMTP_OK || (r = smtp_read_reply(s, st, e)) != SMTP_OK)
		return r;
	return smtp_check(s, st, e);
}

int smtp_connect(struct smtp *s, struct in_addr ip, int port, struct err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = ip };
	char addr[INET_ADDRSTRLEN], t[LIMIT_TEXT_MAX];
	socklen_t sl = sizeof(int);
	long long dl;
	int fd, soerr = 0, which, w;

	if (s->fd >= 0)
		return err_set(e, EX_SOFTWARE, "already connected"), SMTP_FAIL_LOCAL;
	inet_ntop(AF_INET, &ip, addr, sizeof addr);
	(void)snprintf(s->addr, sizeof s->addr, "%s:%d", addr, port);	/* fits: see its size */
	/* the session's wall-clock limit runs from here */
	s->sess_end = s->o.to.session > 0 ? now_ms() + s->o.to.session : 0;
	s->msg_end = 0;
	dl = deadline(s, SMTP_STEP_CONNECT, false, &which);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		err_set(e, EX_TEMPFAIL, "socket: %s", strerror(errno));
		return keep_fail(s, SMTP_FAIL_CONN, e);
	}
	/* every write is a whole command or a whole chunk: no reason to let Nagle hold one back */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (s->o.source != NULL) {	/* source_address: the address whose PTR names this host */
		struct sockaddr_in src = { .sin_family = AF_INET };

		if (inet_pton(AF_INET, s->o.source, &src.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
			err_set(e, EX_TEMPFAIL, "cannot connect from %s (source_address): %s", s->o.source,
			    strerror(errno ? errno : EINVAL));
			close(fd);
			return keep_fail(s, SMTP_FAIL_LOCAL, e);
		}
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS)
			soerr = errno;
		else if ((w = fdio_wait(fd, POLLOUT, dl)) < 0)
			soerr = errno;
		else if (w == 0) {
			close(fd);
			err_set(e, EX_TEMPFAIL, "connect to %s: %s", s->addr,
				limit_text(s, SMTP_STEP_CONNECT, false, which, t));
			return keep_fail(s, SMTP_FAIL_CONN, e);
		} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr != 0) {
			close(fd);
			err_set(e, EX_TEMPFAIL, "connect to %s: %s", s->addr, strerror(soerr));
			return keep_fail(s, SMTP_FAIL_CONN, e);
		}
	}
	s->fd = fd;
	buf_reset(&s->rb);
	return SMTP_OK;
}

int smtp_io_handshake(struct smtp *s, struct tls_client_ctx *ctx, const char *name, struct err *e)
{
	int which;
	long long dl = deadline(s, SMTP_STEP_TLS, false, &which), left = dl - now_ms();

	if (left <= 0)
		return timed_out(s, SMTP_STEP_TLS, false, which, e);
	if ((s->tls = tls_connect(ctx, s->fd, name, left > INT_MAX ? INT_MAX : (int)left, e)) != NULL)
		return SMTP_OK;
	if (e->code == EX_OSERR)	/* our side failed (tls.h): never a reason to go on in plaintext */
		return SMTP_FAIL_LOCAL;
	if (now_ms() >= dl)	/* name the limit that ended it */
		return timed_out(s, SMTP_STEP_TLS, false, which, e);
	return keep_fail(s, SMTP_FAIL_CONN, e);
}

int smtp_tls_implicit(struct smtp *s, struct tls_client_ctx *ctx, const char *name, struct err *e)
{
	if (s->fd < 0 || s->tls != NULL)
		return err_set(e, EX_SOFTWARE, "TLS: not connected, or already on"), SMTP_FAIL_LOCAL;
	return smtp_io_handshake(s, ctx, name, e);
}

int smtp_greeting(struct smtp *s, struct err *e)
{
	int r;

	if ((r = smtp_read_reply(s, SMTP_STEP_GREETING, e)) != SMTP_OK)
		return r;
	return smtp_check(s, SMTP_STEP_GREETING, e);
}
