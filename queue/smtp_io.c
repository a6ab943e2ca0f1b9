/*
 * smtp_io.c - the SMTP client's connection (see smtp.h): connect, implicit TLS, the greeting, and
 * the bytes, replies and single commands the session in smtp.c is made of.
 *
 * All socket I/O goes through io_read/smtp_io_write, which speak either the plain non-blocking socket
 * or the TLS connection, each with a deadline. Received bytes wait in one bounded buffer (s->rb) until
 * smtp_reply_parse takes a whole reply from its start.
 */
#include "queue/smtp.h"
#include "queue/smtp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/limits.h"

void smtp_timeouts_from_config(const struct config *c, struct smtp_timeouts *t)
{
	long v[6] = { c->timeout_connect, c->timeout_greeting, c->timeout_command,
		      c->timeout_data_init, c->timeout_data_block, c->timeout_data_done };
	int *o[6] = { &t->connect, &t->greeting, &t->command, &t->data_init, &t->data_block,
		      &t->data_done };

	for (int i = 0; i < 6; i++)
		*o[i] = v[i] <= 0 ? 1000 : v[i] >= INT_MAX / 1000 ? INT_MAX : (int)(v[i] * 1000);
}

struct smtp *smtp_new(const struct smtp_opts *o)
{
	struct smtp *s = xcalloc(1, sizeof *s);

	s->o = *o;
	s->fd = -1;
	buf_init(&s->rb, SMTP_RBUF_MAX);
	buf_init(&s->ahead, (SMTP_PIPE_GROUP + 2) * (LIM_PATH + 64));
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

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd - poll fd for events until deadline. 0 ready, -1 timeout or error. */
static int wait_fd(int fd, short events, long long deadline, const char *what, struct err *e)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	do {
		if ((left = deadline - now_ms()) <= 0)
			return err_set(e, 75, "%s: timeout", what);
		r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return err_set(e, 75, "%s: poll: %s", what, strerror(errno));
	if (r == 0)
		return err_set(e, 75, "%s: timeout", what);
	return 0;
}

/* smtp_io_write - all of p, within ms. SMTP_OK or SMTP_FAIL_CONN. */
int smtp_io_write(struct smtp *s, const void *p, size_t n, int ms, struct err *e)
{
	long long deadline = now_ms() + ms;
	const char *q = p;

	if (s->fd < 0)
		return err_set(e, 75, "not connected"), SMTP_FAIL_CONN;
	if (s->tls != NULL)
		return tls_write(s->tls, p, n, ms, e) < 0 ? SMTP_FAIL_CONN : SMTP_OK;
	while (n > 0) {
		ssize_t w = send(s->fd, q, n, MSG_NOSIGNAL);

		if (w > 0) {
			q += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(s->fd, POLLOUT, deadline, "write", e) < 0)
				return SMTP_FAIL_CONN;
		} else {
			return err_set(e, 75, "write: %s", strerror(errno)), SMTP_FAIL_CONN;
		}
	}
	return SMTP_OK;
}

/* io_read - append what arrives before deadline to s->rb. */
static int io_read(struct smtp *s, long long deadline, struct err *e)
{
	char tmp[SMTP_READ];
	ssize_t r;

	if (s->fd < 0)
		return err_set(e, 75, "not connected"), SMTP_FAIL_CONN;
	for (;;) {
		if (s->tls != NULL) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return err_set(e, 75, "read: timeout"), SMTP_FAIL_CONN;
			r = tls_read(s->tls, tmp, sizeof tmp, left > INT_MAX ? INT_MAX : (int)left, e);
			if (r < 0)
				return SMTP_FAIL_CONN;
		} else {
			/* wait first: a reply is read right after a command, before the server can have
			 * answered, so a first recv would almost always find nothing */
			if (wait_fd(s->fd, POLLIN, deadline, "read", e) < 0)
				return SMTP_FAIL_CONN;
			r = recv(s->fd, tmp, sizeof tmp, 0);
			if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (r < 0)
				return err_set(e, 75, "read: %s", strerror(errno)), SMTP_FAIL_CONN;
		}
		if (r == 0)
			return err_set(e, 75, "connection closed by the server"), SMTP_FAIL_CONN;
		if (buf_add(&s->rb, tmp, (size_t)r) < 0)
			return err_set(e, 75, "server sent too much without a complete reply"),
			       SMTP_FAIL_PROTO;
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

/* smtp_read_reply - the next whole reply into s->last, within ms. */
int smtp_read_reply(struct smtp *s, int ms, struct err *e)
{
	long long deadline = now_ms() + ms;

	smtp_reply_free(&s->last);
	memset(&s->last, 0, sizeof s->last);
	for (;;) {
		size_t used;
		int r = smtp_reply_parse(s->rb.data != NULL ? s->rb.data : "", s->rb.len, &s->last,
					 &used, e);

		if (r < 0)
			return err_prefix(e, "malformed reply"), SMTP_FAIL_PROTO;
		if (r > 0) {
			smtp_show(s, SMTP_DIR_IN, s->rb.data, used);
			memmove(s->rb.data, s->rb.data + used, s->rb.len - used);
			s->rb.len -= used;
			s->rb.data[s->rb.len] = '\0';
			return SMTP_OK;
		}
		if ((r = io_read(s, deadline, e)) != SMTP_OK)
			return r;
	}
}

/* smtp_send_line - one command line; `shown` replaces it in the transcript when not NULL. */
int smtp_send_line(struct smtp *s, const char *line, const char *shown, struct err *e)
{
	size_t n = strlen(line);
	struct buf b;
	int r;

	if (strpbrk(line, "\r\n") != NULL || n > LIM_SMTP_LINE - 2)
		return err_set(e, 70, "refusing to send a bad command line"), SMTP_FAIL_LOCAL;
	if (s->o.transcript != NULL)
		s->o.transcript(s->o.transcript_ctx, SMTP_DIR_OUT, shown ? shown : line,
				strlen(shown ? shown : line));
	buf_init(&b, LIM_SMTP_LINE);
	if (buf_add(&b, line, n) < 0 || buf_add(&b, "\r\n", 2) < 0)
		return buf_free(&b), err_set(e, 70, "command too long"), SMTP_FAIL_LOCAL;
	r = smtp_io_write(s, b.data, b.len, s->o.to.command, e);
	explicit_bzero(b.data, b.len);	/* it may have held credentials */
	buf_free(&b);
	return r;
}

/* smtp_want - SMTP_OK if the last reply is of class `cls` (2, 3), else SMTP_FAIL_RESP with a reason. */
int smtp_want(struct smtp *s, int cls, const char *what, struct err *e)
{
	if (s->last.code / 100 == cls)
		return SMTP_OK;
	err_set(e, s->last.code >= 500 ? 0 : 75, "%s: server said %d %.*s", what, s->last.code,
		(int)strcspn(s->last.text, "\n"), s->last.text);
	return SMTP_FAIL_RESP;
}

/* smtp_command - send a line, read the reply, want class cls. */
int smtp_command(struct smtp *s, const char *line, const char *shown, int ms, int cls,
		   const char *what, struct err *e)
{
	int r;

	if ((r = smtp_send_line(s, line, shown, e)) != SMTP_OK || (r = smtp_read_reply(s, ms, e)) != SMTP_OK)
		return err_prefix(e, "%s", what), r;
	return smtp_want(s, cls, what, e);
}

int smtp_connect(struct smtp *s, struct in_addr ip, int port, struct err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = ip };
	long long deadline = now_ms() + s->o.to.connect;
	char addr[INET_ADDRSTRLEN];
	socklen_t sl = sizeof(int);
	int fd, soerr = 0;

	inet_ntop(AF_INET, &ip, addr, sizeof addr);
	if (s->fd >= 0)
		return err_set(e, 70, "already connected"), SMTP_FAIL_LOCAL;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return err_set(e, 75, "socket: %s", strerror(errno)), SMTP_FAIL_CONN;
	/* every write is a whole command or a whole chunk: no reason to let Nagle hold one back */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS) {
			err_set(e, 75, "connect to %s:%d: %s", addr, port, strerror(errno));
			close(fd);
			return SMTP_FAIL_CONN;
		}
		if (wait_fd(fd, POLLOUT, deadline, "connect", e) < 0) {
			err_prefix(e, "%s:%d", addr, port);
			close(fd);
			return SMTP_FAIL_CONN;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			err_set(e, 75, "connect to %s:%d: %s", addr, port, strerror(soerr ? soerr : errno));
			close(fd);
			return SMTP_FAIL_CONN;
		}
	}
	s->fd = fd;
	buf_reset(&s->rb);
	return SMTP_OK;
}

int smtp_tls_implicit(struct smtp *s, struct tls_client_ctx *ctx, const char *name, struct err *e)
{
	if (s->fd < 0 || s->tls != NULL)
		return err_set(e, 70, "TLS: not connected, or already on"), SMTP_FAIL_LOCAL;
	if ((s->tls = tls_connect(ctx, s->fd, name, s->o.to.greeting, e)) == NULL)	/* code: whose failure */
		return e->code == EX_OSERR ? SMTP_FAIL_LOCAL : SMTP_FAIL_CONN;
	return SMTP_OK;
}

int smtp_greeting(struct smtp *s, struct err *e)
{
	int r;

	if ((r = smtp_read_reply(s, s->o.to.greeting, e)) != SMTP_OK)
		return err_prefix(e, "greeting"), r;
	if (s->last.code != 220)
		return smtp_want(s, 0, "greeting", e);
	return SMTP_OK;
}

/* line_printf - format a command line into a bounded buffer (NULL when too long). */
