/*
 * body.c - the body into the spool data file, with MIME completion. See body.h.
 *
 * SECURITY: runs in the unprivileged composer; the only descriptor it writes is the submission's temp
 * file. Every read and write is bounded by BODY_SLICE (the encoder's output by MIME_ENC_GROWTH); a body
 * of any size costs constant memory.
 */
#include "sendmail/body.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/hdr.h"
#include "lib/mime.h"
#include "lib/mimeconv.h"

/* One read from the reader or the file. */
#define BODY_SLICE (64 * 1024)
/* What MIME completion may add to a header section: three fields of fixed text. */
#define BODY_HDR_GROWTH 256

/* spool_err - a write or read of the data file failed. */
static int spool_err(struct err *e)
{
	return err_set(e, EX_TEMPFAIL, "spool: %s", strerror(errno));
}

/* sink - hand the body's octets to k. */
static void sink(const struct body_sink *k, const char *p, size_t n)
{
	if (k != NULL && k->feed != NULL)
		k->feed(k->arg, p, n);
}

/* first_copy - the body from rd to fd at offset at, scanned into s; *len its octets. */
static int first_copy(struct msg_reader *rd, int fd, off_t at, char *chunk, struct mime_scan *s,
    const struct body_sink *k, long long *len, struct err *e)
{
	*len = 0;
	for (;;) {
		ssize_t n = msg_read_body(rd, chunk, BODY_SLICE, e);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		mime_scan_feed(s, chunk, (size_t)n);
		sink(k, chunk, (size_t)n);
		if (fdio_pwrite_all(fd, chunk, (size_t)n, at + *len) < 0)
			return spool_err(e);
		*len += n;
	}
	mime_scan_end(s);
	return 0;
}

/* move_down - [base, w) of fd moved to offset 0, the file cut after it: each slice is read before the
 * bytes under it are overwritten. */
static int move_down(int fd, off_t base, off_t w, char *chunk, struct err *e)
{
	for (off_t off = 0; off < w - base;) {
		size_t want = w - base - off < BODY_SLICE ? (size_t)(w - base - off) : BODY_SLICE;
		ssize_t n = fdio_pread_all(fd, chunk, want, base + off);

		if (n <= 0 || fdio_pwrite_all(fd, chunk, (size_t)n, off) < 0) {
			if (n == 0)
				errno = EIO;
			return spool_err(e);
		}
		off += n;
	}
	if (ftruncate(fd, w - base) < 0)
		return spool_err(e);
	return 0;
}

/* second_copy - hdr and the body at [at, at + len), encoded for mode, written from offset at + len;
 * then moved to offset 0 and the file cut after it. */
static int second_copy(int fd, off_t at, long long len, const struct buf *hdr, enum mime_body mode, char *chunk,
    const struct body_sink *k, struct err *e)
{
	off_t base = at + (off_t)len, w = base, off;
	struct mime_enc z;
	struct buf out;
	int r = -1;

	buf_init(&out, MIME_ENC_GROWTH * BODY_SLICE + MIME_ENC_SLACK);
	if (fdio_pwrite_all(fd, hdr->data, hdr->len, w) < 0) {
		spool_err(e);
		goto done;
	}
	w += (off_t)hdr->len;
	mime_enc_init(&z, mode);
	if (mode != MIME_BODY_KEEP && k != NULL && k->restart != NULL)
		k->restart(k->arg);
	for (off = 0; off < (off_t)len; ) {
		size_t want = (off_t)len - off < BODY_SLICE ? (size_t)((off_t)len - off) : BODY_SLICE;
		ssize_t n = fdio_pread_all(fd, chunk, want, at + off);

		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* the file is shorter than what was written to it */
			spool_err(e);
			goto done;
		}
		off += n;
		buf_reset(&out);
		if (mime_enc_feed(&z, chunk, (size_t)n, &out) < 0 || (off == (off_t)len && mime_enc_end(&z, &out) < 0))
			abort();	/* out is sized for MIME_ENC_GROWTH */
		if (mode != MIME_BODY_KEEP)
			sink(k, out.data, out.len);
		if (out.len > 0 && fdio_pwrite_all(fd, out.data, out.len, w) < 0) {
			spool_err(e);
			goto done;
		}
		w += (off_t)out.len;
	}
	r = move_down(fd, base, w, chunk, e);
done:
	buf_free(&out);
	return r;
}

/* parts_copy - a multipart message with a line over LIM_LINE: hdr and the body at [at, at + len) through
 * lib/mimeconv (the text parts holding such a line re-encoded as quoted-printable, lossless), written
 * from offset at + len, then moved to offset 0. 1: that is impossible (a long line in a part that cannot
 * be re-encoded): nothing was written and the caller folds as before. */
static int parts_copy(int fd, off_t at, long long len, const struct buf *hdr, char *chunk,
    const struct body_sink *k, struct err *e)
{
	off_t base = at + (off_t)len, w = base, off;
	struct mimeconv z;
	struct buf out;
	int r = 1;

	mimeconv_init(&z, MIMECONV_LINES, hdr->max);
	buf_init(&out, MIMECONV_GROWTH * BODY_SLICE + MIMECONV_HEAD_GROWTH * hdr->max + MIMECONV_SLACK);
	for (int writing = 0; writing < 2; writing++) {
		if (writing && !mimeconv_rewind(&z))
			goto done;	/* (cannot be: the long line is in a text part) */
		buf_reset(&out);
		if (mimeconv_feed(&z, hdr->data, hdr->len, writing ? &out : NULL) < 0)
			goto done;
		if (writing) {	/* the top header section is a multipart's: it goes as it is */
			if (out.len != hdr->len)
				goto done;
			if (fdio_pwrite_all(fd, out.data, out.len, w) < 0) {
				r = spool_err(e);
				goto done;
			}
			w += (off_t)out.len;
			if (k != NULL && k->restart != NULL)
				k->restart(k->arg);
		}
		for (off = 0; off < (off_t)len;) {
			size_t want = (off_t)len - off < BODY_SLICE ? (size_t)((off_t)len - off) : BODY_SLICE;
			ssize_t n = fdio_pread_all(fd, chunk, want, at + off);

			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				r = spool_err(e);
				goto done;
			}
			off += n;
			buf_reset(&out);
			if (mimeconv_feed(&z, chunk, (size_t)n, writing ? &out : NULL) < 0 ||
			    (off == (off_t)len && mimeconv_end(&z, writing ? &out : NULL) < 0))
				goto done;
			if (!writing || out.len == 0)
				continue;
			sink(k, out.data, out.len);
			if (fdio_pwrite_all(fd, out.data, out.len, w) < 0) {
				r = spool_err(e);
				goto done;
			}
			w += (off_t)out.len;
		}
		if (len == 0 && mimeconv_end(&z, writing ? &out : NULL) < 0)
			goto done;
	}
	r = move_down(fd, base, w, chunk, e);
done:
	if (r == 1 && w > base && ftruncate(fd, base) < 0)	/* what was written goes: the caller folds */
		r = spool_err(e);
	mimeconv_free(&z);
	buf_free(&out);
	return r;
}

int body_write(struct msg_reader *rd, int fd, struct buf *hdr, const struct body_sink *k, bool *bit8,
    struct err *e)
{
	struct hdr_field *f = NULL;
	struct mime_scan s;
	struct mime_head h;
	struct mime_plan p;
	off_t at = (off_t)hdr->len;	/* where the first copy of the body starts */
	long long len;
	size_t nf = 0;
	char *chunk;
	int r = -1;

	if (hdr->len < 2 || (chunk = malloc(BODY_SLICE)) == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	mime_scan_init(&s);
	if (first_copy(rd, fd, at, chunk, &s, k, &len, e) < 0)
		goto done;
	if (hdr_parse(hdr->data, hdr->len - 2, &f, &nf, e) < 0)
		goto done;
	mime_head_get(f, nf, &h);
	mime_decide(&h, &s, &p);
	*bit8 = s.bit8 && p.body != MIME_BODY_QP;
	if (mime_plan_header_changes(&p)) {
		struct buf nh;

		buf_init(&nh, hdr->max + BODY_HDR_GROWTH);
		if (mime_plan_header(&p, f, nf, &nh) < 0) {
			buf_free(&nh);
			err_set(e, EX_DATAERR, "header section too large (max %zu bytes)", hdr->max);
			goto done;
		}
		buf_free(hdr);
		*hdr = nh;
	} else if (p.body == MIME_BODY_KEEP) {	/* the header fills the room left for it */
		if (fdio_pwrite_all(fd, hdr->data, hdr->len, 0) < 0) {
			spool_err(e);
			goto done;
		}
		r = 0;
		goto done;
	}
	if (p.body == MIME_BODY_FOLD && h.composite && (r = parts_copy(fd, at, len, hdr, chunk, k, e)) != 1)
		goto done;	/* re-encoded, or a spool error */
	r = second_copy(fd, at, len, hdr, p.body, chunk, k, e);
done:
	free(f);
	free(chunk);
	return r;
}
