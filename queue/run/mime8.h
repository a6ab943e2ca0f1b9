/*
 * mime8.h - a message's 7-bit form for a next hop that does not offer 8BITMIME.
 *
 * NAME
 *	mime8 - convert a stored 8-bit message for one delivery, and sign the converted form
 * DESCRIPTION
 *	RFC 6152 section 3 forbids sending 8-bit data to a server that does not offer 8BITMIME; RFC 1652
 *	says to convert it instead. The stored message is read twice through lib/mimeconv.h (a scan, then
 *	the write into an unnamed spool file, spool_scratch): its 8-bit text parts become quoted-printable.
 *	The stored DKIM signatures cover the 8-bit form, so the converted one is signed again with the same
 *	keys (sign_form) and its prefix is the new DKIM-Signature fields followed by the stored prefix
 *	without the old ones. The stored message and envelope are not changed: a later attempt to a hop
 *	with 8BITMIME sends the original. Memory: one chunk and one header section, whatever the message.
 * UNTRUSTED INPUT
 *	The stored message (written by the unprivileged composer), parsed by mimeconv within the header
 *	ceiling the signer uses.
 * ERRORS
 *	DLV_FORM_IMPOSSIBLE with the reason (8-bit in a header section, in a message/rfc822 part, in a
 *	non-text part); DLV_FORM_FAILED for the spool's read or write errors or a signing failure.
 */
#ifndef POSTERN_MIME8_H
#define POSTERN_MIME8_H

#include "conf/config.h"
#include "lib/err.h"
#include "queue/wire/deliver.h"
#include "queue/run/sign.h"
#include "queue/store/spool.h"

/* One read of the stored message; the converted output of one read is at most MIMECONV_GROWTH times
 * this plus a header section. */
#define MIME8_CHUNK (16 * 1024)

/* The stored message: its data file (first size bytes) and the prefix it is sent with. */
struct mime8_src {
	int fd;
	long long size;
	const char *prefix;
	size_t prefixlen;
};

/* mime8_form - the 7-bit form of src into f, signed by sg (NULL: not signed) at time now. */
enum dlv_form_result mime8_form(const struct config *c, struct spool *sp, struct signer *sg,
    const struct mime8_src *src, long long now, struct dlv_form *f, struct err *e);

/* mime8_strip_sigs - prefix[0..n) without its DKIM-Signature fields (continuation lines included),
 * appended to out. -1: out's ceiling. Pure. */
int mime8_strip_sigs(const char *prefix, size_t n, struct buf *out);

#endif
