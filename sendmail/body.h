/*
 * body.h - the body's way into the spool data file, with MIME completion (sendmail/mime.h) applied.
 *
 * Whether the body needs MIME fields or re-encoding is known only once all of it has been read (is it
 * 8-bit, is it UTF-8, has it a line over LIM_LINE octets?), and memory stays bounded by the header
 * section, so the body goes to the data file first, right after the room the header section takes.
 * When MIME completion changes nothing, the header is written into that room and the body was written
 * once. Otherwise the new header section and the (re-encoded) body are written after the first copy,
 * moved to the start of the file, and the file is cut there: the data file is the submission's private
 * temp file, which nobody reads before the commit.
 *
 * Untrusted input: the body, through the reader (msg.h), and the caller's MIME fields in the header.
 * Errors: 75 (EX_TEMPFAIL) for the spool's write or read errors (ENOSPC, EDQUOT, EFBIG), 65 for a header
 * section grown past its ceiling, and the reader's own.
 */
#ifndef POSTERN_BODY_H
#define POSTERN_BODY_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "sendmail/msg.h"

/* Where the body's final octets go besides the spool, in order (the DKIM body hashes). */
struct body_sink {
	void (*feed)(void *arg, const char *p, size_t n);
	void (*restart)(void *arg);	/* forget what was fed: the body is fed again from its start */
	void *arg;
};

/* body_write - read the body from rd and put header section hdr (complete, with the empty line that
 * ends it) and the body into fd, which is empty; MIME completion may add fields to hdr (its contents
 * are then replaced, and pointers into it are stale) and re-encode the body. *bit8: the body as
 * written has an octet >= 0x80. The sink (may be NULL) sees the body as written. */
int body_write(struct msg_reader *rd, int fd, struct buf *hdr, const struct body_sink *k, bool *bit8,
    struct err *e);

#endif
