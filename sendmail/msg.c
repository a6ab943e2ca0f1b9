/*
 * msg.c - the streaming message reader (see msg.h for the rules it applies).
 *
 * Untrusted input: stdin, in whatever chunks read() returns. The normaliser (msg_norm_*) is a pure
 * byte-at-a-time state machine, so a CRLF split across two reads, or a "." line split from its line
 * end, give the same output as one big read. The reader around it owns the fd, a fixed 64 KiB input
 * buffer, and the header/body decision, which it takes from the first octets of each line.
 *
 * Errors: 65 for what the caller sent (NUL, sizes, unfoldable header line), 74 for read errors.
 */
#include "sendmail/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/limits.h"
#include "lib/hdr.h"

/* The input buffer: one read() fills at most this much. */
#define MSG_INBUF (64 * 1024)
/* Pending body octets: the start of the first body line, or an incomplete line kept between calls
 * (a line is at most LIM_LINE + 2 octets after splitting). */
#define MSG_PEND 1024
/* Header lines are normalised through a scratch area of this size; it must exceed HDR_NAME_MAX so
 * that one step always decides what a line is. */
#define MSG_STEP 512

struct msg_reader {
	int fd;
	struct msg_opts o;
	struct msg_norm z;
	size_t in_off, in_len;
	bool eof;		/* read() returned 0 */
	bool hdr_done;		/* msg_read_header has run */
	bool done;		/* no more body: EOF handled or "." line */
	bool failed;		/* an error was returned: every later call fails */
	bool body8;
	long long total;	/* octets output: header section plus body */
	size_t pend_len;
	char pend[MSG_PEND];
	char in[MSG_INBUF];
};

void msg_norm_init(struct msg_norm *z, bool dot_ends)
{
	memset(z, 0, sizeof *z);
	z->dot_ends = dot_ends;
	z->line = 1;
}

/* crlf - output a line end. */
static void crlf(struct msg_norm *z, char *out, size_t *o)
{
	out[(*o)++] = '\r';
	out[(*o)++] = '\n';
	z->col = 0;
	z->eols++;
}

int msg_norm_feed(struct msg_norm *z, const char *in, size_t n, size_t *used, char *out, size_t outsz,
		  size_t *outlen, struct err *e)
{
	size_t i = 0, o = *outlen;
	int rc = 0;

	while (i < n && !z->ended && outsz - o >= 3) {	/* one input octet makes at most 3 */
		unsigned char c = (unsigned char)in[i];
		if (z->skip_lf) {
			z->skip_lf = false;
			if (c == '\n') {	/* the LF of a CRLF whose CR already ended the line */
				i++;
				continue;
			}
		}
		if (c == '\r' || c == '\n') {
			/* A bare CR ends a line like LF and CRLF do: it becomes CRLF. Keeping it would put
			 * a bare CR into the spool; dropping it could join two lines the caller meant. */
			i++;
			z->line++;
			z->skip_lf = c == '\r';
			z->icol = 0;
			if (z->dot_held) {	/* the line was "." alone: the end of the input */
				z->dot_held = false;
				z->ended = true;
				break;
			}
			crlf(z, out, &o);
			if (z->stop_eol)
				break;
			continue;
		}
		if (c == '\0') {
			rc = err_set(e, EX_DATAERR, "message contains a NUL byte (line %llu)", z->line);
			break;
		}
		i++;
		if (z->dot_held) {	/* "." followed by more: an ordinary line after all */
			z->dot_held = false;
			out[o++] = '.';
			z->col++;
		} else if (z->dot_ends && z->icol == 0 && c == '.') {
			z->dot_held = true;
			z->icol = 1;
			continue;
		}
		if (z->split && z->col >= LIM_LINE)
			crlf(z, out, &o);	/* a body line over 998 octets: split before signing */
		out[o++] = (char)c;
		z->col++;
		z->icol++;
		z->bit8 = z->bit8 || c >= 0x80;
	}
	*used = i;
	*outlen = o;
	return rc;
}

void msg_norm_finish(struct msg_norm *z, char *out, size_t outsz, size_t *outlen)
{
	if (z->ended)
		return;
	if (z->dot_held) {	/* an unterminated "." as the last line: still the end marker */
		z->dot_held = false;
		z->ended = true;
		return;
	}
	if (z->col > 0 && outsz - *outlen >= 2) {
		crlf(z, out, outlen);
		z->icol = 0;
		z->line++;
	}
}

struct msg_reader *msg_reader_new(int fd, const struct msg_opts *o)
{
	struct msg_reader *r = xcalloc(1, sizeof *r);

	r->fd = fd;
	r->o = *o;
	msg_norm_init(&r->z, o->dot_ends);
	r->z.stop_eol = true;
	return r;
}

void msg_reader_free(struct msg_reader *r)
{
	free(r);
}

bool msg_body_8bit(const struct msg_reader *r)
{
	return r->body8;
}

/* fill - make input available: 1 when there is some, 0 at end of file, -1 on a read error. */
static int fill(struct msg_reader *r, struct err *e)
{
	ssize_t k;

	if (r->in_off < r->in_len)
		return 1;
	if (r->eof)
		return 0;
	do
		k = read(r->fd, r->in, sizeof r->in);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return err_set(e, EX_IOERR, "cannot read the message: %s", strerror(errno));
	r->in_off = 0;
	r->in_len = (size_t)k;
	r->eof = k == 0;
	return k > 0;
}

/* step - normalise the next input into out (one line at most while stop_eol is on); at end of file,
 * close the last line. Returns 1 if input remains possible, 0 at end of file, -1 on error. */
static int step(struct msg_reader *r, char *out, size_t outsz, size_t *outlen, struct err *e)
{
	size_t used = 0;
	int more = fill(r, e);

	if (more < 0)
		return -1;
	if (more == 0) {
		msg_norm_finish(&r->z, out, outsz, outlen);
		return 0;
	}
	if (msg_norm_feed(&r->z, r->in + r->in_off, r->in_len - r->in_off, &used, out, outsz, outlen, e) < 0)
		return -1;
	r->in_off += used;
	return 1;
}

/* too_big - the size checks on the octets output so far. */
static int too_big(struct msg_reader *r, size_t hlen, size_t maxh, struct err *e)
{
	if (hlen > maxh)
		return err_set(e, EX_DATAERR, "header section too large (max %zu bytes)", maxh);
	if (r->o.max_size > 0 && r->total > r->o.max_size)
		return err_set(e, EX_DATAERR, "message too large (max %lld bytes)", r->o.max_size);
	return 0;
}

/* commit - append one complete header line (with its CRLF) to hdr, folding it when it is too long. */
static int commit(struct msg_reader *r, const struct buf *line, struct buf *hdr, size_t start, size_t maxh,
		  struct err *e)
{
	size_t cl = line->len - 2;

	if (hdr->len - start + line->len > maxh)
		return err_set(e, EX_DATAERR, "header section too large (max %zu bytes)", maxh);
	if (cl <= LIM_LINE) {
		if (buf_add(hdr, line->data, line->len) < 0)
			return err_set(e, EX_DATAERR, "header section too large (max %zu bytes)", maxh);
	} else if (hdr_fold_line(line->data, cl, hdr) < 0 || buf_add(hdr, "\r\n", 2) < 0) {
		return err_set(e, EX_DATAERR,
			       "header line %llu is longer than %d octets and cannot be folded", r->z.line - 1,
			       LIM_LINE);
	}
	r->total = (long long)(hdr->len - start);
	return too_big(r, hdr->len - start, maxh, e);
}

/* to_body - the line read so far is the first body line: keep it for msg_read_body. */
static void to_body(struct msg_reader *r, const struct buf *line)
{
	size_t i;

	if (line->len > sizeof r->pend)
		abort();	/* hdr_line_kind decides within HDR_NAME_MAX + 1 < MSG_STEP octets */
	memcpy(r->pend, line->data, line->len);
	r->pend_len = line->len;
	for (i = 0; i < line->len; i++)
		r->body8 = r->body8 || (unsigned char)line->data[i] >= 0x80;
}

int msg_read_header(struct msg_reader *r, struct buf *hdr, struct err *e)
{
	size_t maxh = r->o.max_header ? r->o.max_header : LIM_HEADER_DEFAULT;
	size_t start = hdr->len, dropped = 0;
	bool from_checked = false, skipping = false;
	struct buf line;
	int rc = -1;

	if (r->failed || r->hdr_done)
		return err_set(e, EX_SOFTWARE, "msg_read_header: called twice or after an error");
	buf_init(&line, maxh + 2);
	for (;;) {
		char tmp[MSG_STEP];
		size_t tl = 0, cl;
		int more = step(r, tmp, sizeof tmp, &tl, e);
		bool complete;

		if (more < 0)
			goto out;
		if (r->z.ended) {	/* a "." line: the message ends with the header section */
			r->done = true;
			break;
		}
		complete = tl >= 2 && tmp[tl - 1] == '\n';	/* stop_eol: a line end can only come last */
		if (skipping) {	/* the rest of an mbox "From " line */
			dropped += tl;
			if (dropped > maxh) {
				err_set(e, EX_DATAERR, "header section too large (max %zu bytes)", maxh);
				goto out;
			}
			skipping = !complete;
			continue;
		}
		if (buf_add(&line, tmp, tl) < 0) {
			err_set(e, EX_DATAERR, "header section too large (max %zu bytes)", maxh);
			goto out;
		}
		if (more == 0 && line.len == 0) {	/* end of input */
			r->done = true;
			break;
		}
		cl = complete ? line.len - 2 : line.len;
		if (!from_checked) {
			if (!complete && line.len < 5)
				continue;
			from_checked = true;
			if (cl >= 5 && memcmp(line.data, "From ", 5) == 0) {
				dropped = line.len;
				skipping = !complete;
				buf_reset(&line);
				continue;
			}
		}
		enum hdr_line k = hdr_line_kind(line.data, cl, complete);
		if (k == HDR_LINE_EMPTY)
			break;	/* the separator: consumed, not part of either section */
		if (k == HDR_LINE_OTHER || (k == HDR_LINE_CONT && hdr->len == start)) {
			/* not a header section: `uptime | sendmail root` starts with a space */
			to_body(r, &line);
			break;
		}
		if (k == HDR_LINE_MORE || !complete)
			continue;
		if (k == HDR_LINE_OBS_FIELD) {	/* "Subject : x" is kept as "Subject: x" */
			char *colon = memchr(line.data, ':', cl), *w = colon;

			while (w > line.data && (w[-1] == ' ' || w[-1] == '\t'))
				w--;
			memmove(w, colon, line.len - (size_t)(colon - line.data));
			line.len -= (size_t)(colon - w);
		}
		/* a field, or the continuation of one */
		if (commit(r, &line, hdr, start, maxh, e) < 0)
			goto out;
		buf_reset(&line);
	}
	r->hdr_done = true;
	r->z.split = !r->o.keep_long;
	r->z.stop_eol = false;
	r->z.bit8 = false;
	r->total = (long long)(hdr->len - start);
	rc = too_big(r, hdr->len - start, maxh, e);
out:
	buf_free(&line);
	r->failed = rc < 0;
	return rc;
}

ssize_t msg_read_body(struct msg_reader *r, char *out, size_t outsz, struct err *e)
{
	size_t ol, keep;
	unsigned long long eols = r->z.eols;

	if (r->failed || !r->hdr_done || outsz < MSG_PEND) {
		r->failed = true;
		return err_set(e, EX_SOFTWARE, "msg_read_body: called after an error, before the header or with a small buffer");
	}
	memcpy(out, r->pend, r->pend_len);
	ol = r->pend_len;
	r->pend_len = 0;
	while (!r->done && outsz - ol >= 3) {
		/* return whole lines already made rather than wait for more input */
		if (r->z.eols != eols && r->in_off == r->in_len)
			break;
		int more = step(r, out, outsz, &ol, e);
		if (more < 0) {
			r->failed = true;
			return -1;
		}
		r->done = more == 0 || r->z.ended;
	}
	/* keep the incomplete last line for the next call; a line is at most LIM_LINE + 2 octets (unless
	 * keep_long: then a line has no ceiling and goes out in parts) */
	for (keep = ol; !r->o.keep_long && keep > 0 && out[keep - 1] != '\n'; keep--)
		;
	if (ol - keep > sizeof r->pend || (r->done && keep != ol))
		abort();	/* the normaliser splits long lines and closes the last one */
	memcpy(r->pend, out + keep, ol - keep);
	r->pend_len = ol - keep;
	r->total += (long long)keep;
	r->body8 = r->body8 || r->z.bit8;
	if (r->o.max_size > 0 && r->total > r->o.max_size) {
		r->failed = true;
		return err_set(e, EX_DATAERR, "message too large (max %lld bytes)", r->o.max_size);
	}
	return (ssize_t)keep;
}
