/*
 * smtp_reply.c - SMTP reply parser, EHLO keywords and dot-stuffing (see smtp_reply.h). Pure.
 */
#include "queue/wire/smtp_reply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/limits.h"

size_t smtp_status_parse(const char *s, size_t n)
{
	size_t p = 0;

	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	p = 2;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;

		while (p < n && d < 4 && s[p] >= '0' && s[p] <= '9') {
			p++;
			d++;
		}
		if (d == 0 || d > 3)
			return 0;
		if (part == 0) {
			if (p >= n || s[p] != '.')
				return 0;
			p++;
		}
	}
	if (p < n && s[p] != ' ')
		return 0;
	return p;
}

void smtp_reply_free(struct smtp_reply *r)
{
	free(r->text);
	r->text = NULL;
}

int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, size_t *used,
		     struct err *e)
{
	struct buf text;
	size_t p = 0, nlines = 0;
	int code = -1;

	memset(r, 0, sizeof *r);
	buf_init(&text, (size_t)LIM_REPLY_LINES * (LIM_REPLY_LINE + 1));
	for (;;) {
		const char *line = buf + p, *nl = memchr(line, '\n', len - p);
		size_t n;
		bool last;
		int c;

		if (nl == NULL) {
			buf_free(&text);
			if (len - p > LIM_REPLY_LINE + 1)	/* +1: a CR may still come */
				return err_set(e, 0, "reply line longer than %d bytes", LIM_REPLY_LINE);
			if (memchr(line, '\0', len - p) != NULL)
				return err_set(e, 0, "NUL byte in reply");
			return 0;
		}
		n = (size_t)(nl - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > LIM_REPLY_LINE)
			goto bad_long;
		if (memchr(line, '\0', n) != NULL) {
			err_set(e, 0, "NUL byte in reply");
			goto bad;
		}
		if (memchr(line, '\r', n) != NULL) {
			err_set(e, 0, "bare CR in reply");
			goto bad;
		}
		if (n < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9') {
			err_set(e, 0, "reply line does not start with a code 2xx-5xx");
			goto bad;
		}
		c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (code >= 0 && c != code) {
			err_set(e, 0, "reply lines with different codes (%d, %d)", code, c);
			goto bad;
		}
		code = c;
		if (n == 3 || line[3] == ' ')
			last = true;
		else if (line[3] == '-')
			last = false;
		else {
			err_set(e, 0, "bad separator after reply code");
			goto bad;
		}
		if (++nlines > LIM_REPLY_LINES || (!last && nlines == LIM_REPLY_LINES)) {
			err_set(e, 0, "reply with more than %d lines", LIM_REPLY_LINES);
			goto bad;
		}
		if ((nlines > 1 && buf_addc(&text, '\n') < 0) ||
		    (n > 4 && buf_add(&text, line + 4, n - 4) < 0))
			goto bad_long;
		p = (size_t)(nl - buf) + 1;
		if (last)
			break;
	}
	r->code = code;
	r->nlines = nlines;
	r->text = buf_take(&text);
	{
		size_t firstlen = strcspn(r->text, "\n");
		size_t k = smtp_status_parse(r->text, firstlen);

		/* RFC 3463 2: the class must agree with the reply code, else it is not one */
		if (k > 0 && k < sizeof r->status && r->text[0] == (char)('0' + code / 100)) {
			memcpy(r->status, r->text, k);
			r->status[k] = '\0';
		}
	}
	*used = p;
	return 1;
bad_long:
	err_set(e, 0, "reply line longer than %d bytes", LIM_REPLY_LINE);
bad:
	buf_free(&text);
	return -1;
}

/* word - the next space-separated word of s (moves *s past it). */
static struct span word(const char **s, const char *end)
{
	const char *p = *s, *q;

	while (p < end && *p == ' ')
		p++;
	q = p;
	while (q < end && *q != ' ')
		q++;
	*s = q;
	return span_make(p, (size_t)(q - p));
}

/* auth_mechs - note PLAIN and LOGIN among the mechanisms in [p, end). */
static void auth_mechs(const char *p, const char *end, struct smtp_ext *ext)
{
	for (;;) {
		struct span w = word(&p, end);

		if (w.n == 0)
			return;
		if (span_ieq(w, "PLAIN"))
			ext->auth_plain = true;
		else if (span_ieq(w, "LOGIN"))
			ext->auth_login = true;
	}
}

void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ext *ext)
{
	const char *p = r->text;

	memset(ext, 0, sizeof *ext);
	if (r->code != 250 || p == NULL)
		return;
	p += strcspn(p, "\n");	/* the first line is the server's greeting */
	while (*p == '\n') {
		const char *line = ++p, *end = line + strcspn(line, "\n"), *q = line;
		struct span kw = word(&q, end);

		p = end;
		if (span_ieq(kw, "STARTTLS"))
			ext->starttls = true;
		else if (span_ieq(kw, "PIPELINING"))
			ext->pipelining = true;
		else if (span_ieq(kw, "8BITMIME"))
			ext->eightbitmime = true;
		else if (span_ieq(kw, "SMTPUTF8"))
			ext->smtputf8 = true;
		else if (span_ieq(kw, "ENHANCEDSTATUSCODES"))
			ext->enhancedstatuscodes = true;
		else if (span_ieq(kw, "DSN"))
			ext->dsn = true;
		else if (span_ieq(kw, "AUTH"))
			auth_mechs(q, end, ext);
		else if (kw.n > 5 && strncasecmp(kw.p, "AUTH=", 5) == 0)	/* old Outlook form */
			auth_mechs(kw.p + 5, end, ext);
		else if (span_ieq(kw, "SIZE")) {
			struct span v = word(&q, end);
			unsigned long long x = 0;
			size_t i;

			for (i = 0; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
				if (x > (~0ULL - 9) / 10)
					break;
				x = x * 10 + (unsigned)(v.p[i] - '0');
			}
			ext->size = true;
			ext->size_max = i == v.n ? x : 0;	/* garbage or overflow: no known limit */
		}
	}
}

void smtp_dot_init(struct smtp_dot *st)
{
	st->bol = true;
	st->cr = false;
	st->off = 0;
}

ssize_t smtp_dot_stuff(struct smtp_dot *st, const char *in, size_t n, char *out, struct err *e)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++, st->off++) {
		char c = in[i];

		if (st->cr) {
			if (c != '\n')
				return err_set(e, EX_SOFTWARE, "bare CR in message at byte %llu",
					       st->off - 1);
			st->cr = false;
			out[o++] = c;
			st->bol = true;
			continue;
		}
		if (c == '\n')
			return err_set(e, EX_SOFTWARE, "bare LF in message at byte %llu", st->off);
		if (c == '\r')
			st->cr = true;
		else if (c == '.' && st->bol)
			out[o++] = '.';
		st->bol = false;
		out[o++] = c;
	}
	return (ssize_t)o;
}

ssize_t smtp_dot_end(struct smtp_dot *st, char *out, struct err *e)
{
	if (st->cr)
		return err_set(e, EX_SOFTWARE, "bare CR at the end of the message");
	if (st->bol) {
		memcpy(out, ".\r\n", 3);
		return 3;
	}
	memcpy(out, "\r\n.\r\n", 5);
	return 5;
}
