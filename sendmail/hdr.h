/*
 * hdr.h - the header section of a message: parse into fields, look up, remove, fold.
 *
 * Untrusted input: the caller's header section, already line-normalised to CRLF by msg.c.
 * A field is kept as its raw bytes (name, colon, value, continuation lines, final CRLF) so that
 * DKIM canonicalisation and the spool see exactly what the caller wrote.
 */
#ifndef POSTERN_HDR_H
#define POSTERN_HDR_H

#include <stddef.h>

struct hdr_field {
	const char *raw;	/* borrowed: "Name: value\r\n\tmore\r\n" */
	size_t len;		/* of raw, including the final CRLF */
	size_t name_len;	/* of the field name, before the colon */
};

#endif
