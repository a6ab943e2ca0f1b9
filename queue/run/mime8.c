/*
 * mime8.c - a message's 7-bit form for a next hop without 8BITMIME. See mime8.h.
 *
 * SECURITY: runs in a delivery worker with the spool open; it writes only an unnamed file of its own
 * in tmp/, which disappears with its descriptor. The stored message goes through the pure converter
 * within named ceilings.
 */
#include "queue/run/mime8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/mimeconv.h"

void dlv_form_free(struct dlv_form *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->prefix);
	f->fd = -1;
	f->prefix = NULL;
	f->size = 0;
	f->prefixlen = 0;
}

int mime8_strip_sigs(const char *prefix, size_t n, struct buf *out)
{
	static const char field[] = "DKIM-Signature:";
	bool drop = false;

	for (size_t i = 0; i < n;) {
		const char *nl = memchr(prefix + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (prefix + i)) + 1 : n - i;

		if (prefix[i] != ' ' && prefix[i] != '\t')	/* a new field */
			drop = k >= sizeof field - 1 && strncasecmp(prefix + i, field, sizeof field - 1) == 0;
		if (!drop && buf_add(out, prefix + i, k) < 0)
			return -1;
		i += k;
	}
	return 0;
}

/* pass - the stored message through z, once; out NULL: the scan, else the write into fd. */
static int pass(struct mimeconv *z, const struct mime8_src *src, char *chunk, struct buf *out, int fd,
    long long *written, struct err *e)
{
	long long off = 0;

	*written = 0;
	while (off < src->size) {
		size_t want = src->size - off < MIME8_CHUNK ? (size_t)(src->size - off) : MIME8_CHUNK;
		ssize_t n = fdio_pread_all(src->fd, chunk, want, off);

		if (n <= 0)
			return err_set(e, EX_TEMPFAIL, "reading the stored message: %s",
			    n < 0 ? strerror(errno) : "shorter than its envelope says");
		off += n;
		if (out != NULL)
			buf_reset(out);
		if (mimeconv_feed(z, chunk, (size_t)n, out) < 0 || (off == src->size && mimeconv_end(z, out) < 0))
			return 1;
		if (out != NULL && out->len > 0) {
			if (fdio_pwrite_all(fd, out->data, out->len, *written) < 0)
				return err_set(e, EX_TEMPFAIL, "writing the 7-bit form: %s", strerror(errno));
			*written += (long long)out->len;
		}
	}
	if (src->size == 0 && mimeconv_end(z, out) < 0)
		return 1;
	return 0;
}

enum dlv_form_result mime8_form(const struct config *c, struct spool *sp, struct signer *sg,
    const struct mime8_src *src, long long now, struct dlv_form *f, struct err *e)
{
	size_t head_max = c->max_header_size + SIGN_HEADER_SLACK;
	enum dlv_form_result r = DLV_FORM_FAILED;
	struct mimeconv z;
	struct buf out, fields, prefix;
	char *chunk = xcalloc(1, MIME8_CHUNK);
	long long size = 0;
	int k;

	f->fd = -1;
	f->prefix = NULL;
	mimeconv_init(&z, MIMECONV_7BIT, head_max);
	buf_init(&out, MIMECONV_GROWTH * MIME8_CHUNK + MIMECONV_HEAD_GROWTH * head_max + MIMECONV_SLACK);
	buf_init(&fields, LIM_SIGN_RESERVE);
	buf_init(&prefix, LIM_SIGN_RESERVE + src->prefixlen + 1);
	if ((k = pass(&z, src, chunk, NULL, -1, &size, e)) != 0) {
		if (k > 0) {
			err_set(e, EX_DATAERR, "8-bit message for a server without 8BITMIME, and no 7-bit form: %s",
			    mimeconv_why(z.err));
			r = DLV_FORM_IMPOSSIBLE;
		}
		goto out;
	}
	if (!mimeconv_rewind(&z)) {
		r = DLV_FORM_ASIS;
		goto out;
	}
	if ((f->fd = spool_scratch(sp, e)) < 0)
		goto out;
	if ((k = pass(&z, src, chunk, &out, f->fd, &size, e)) != 0) {
		if (k > 0)
			err_set(e, EX_SOFTWARE, "the 7-bit form: %s", mimeconv_why(z.err));
		goto out;
	}
	f->size = size;
	if (sg != NULL) {
		switch (sign_form(sg, f->fd, size, now, &fields, e)) {
		case SIGN_HOLD:
			if (!c->dkim_required)
				break;	/* (as the stored form went: unsigned) */
			err_prefix(e, "signing the 7-bit form");
			goto out;
		case SIGN_UNSIGNED:
		case SIGN_SIGNED:
			break;
		}
	}
	if (buf_add(&prefix, fields.data, fields.len) < 0 || mime8_strip_sigs(src->prefix, src->prefixlen, &prefix) < 0) {
		err_set(e, EX_SOFTWARE, "the 7-bit form's prefix over %zu bytes", prefix.max);
		goto out;
	}
	f->prefixlen = prefix.len;
	f->prefix = buf_take(&prefix);
	r = DLV_FORM_MADE;
out:
	if (r != DLV_FORM_MADE)
		dlv_form_free(f);
	mimeconv_free(&z);
	buf_free(&out);
	buf_free(&fields);
	buf_free(&prefix);
	free(chunk);
	return r;
}
