/*
 * hdr.h - the header section of a message: parse into fields, look up, unfold, fold.
 *
 * Untrusted input: the caller's header section, already line-normalised to CRLF by msg.c.
 * A field is kept as its raw bytes (name, colon, value, continuation lines, final CRLF) so that
 * DKIM canonicalisation and the spool see exactly what the caller wrote.
 *
 * Errors (code 65, EX_DATAERR): a line that is neither a field ("name:" with a name of 1..HDR_NAME_MAX
 * printable ASCII octets other than ':') nor a continuation (starting with SP or HTAB), a continuation
 * before any field, a bare CR or LF, a NUL byte, a section not ending in CRLF, more than
 * LIM_HEADER_FIELDS fields. A field name followed by whitespace before the colon (obs-optional) is not
 * accepted: for every field, raw[name_len] == ':'.
 */
#ifndef POSTERN_HDR_H
#define POSTERN_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

/* The longest field name accepted (RFC 5322 sets none; real names are far shorter). */
#define HDR_NAME_MAX 200
/* Folding target (RFC 5322 2.1.1 SHOULD); the hard limit is LIM_LINE (998). */
#define HDR_FOLD_WIDTH 78

struct hdr_field {
	const char *raw;	/* borrowed: "Name: value\r\n\tmore\r\n" */
	size_t len;		/* of raw, including the final CRLF */
	size_t name_len;	/* of the field name, before the colon */
};

/* What one line (without its line end) of a header section is. */
enum hdr_line {
	HDR_LINE_MORE,		/* not decided yet: need more of the line */
	HDR_LINE_EMPTY,		/* the empty line that ends the header section */
	HDR_LINE_FIELD,		/* "name:" */
	HDR_LINE_OBS_FIELD,	/* "name :" (RFC 5322 4.5.3 obs-optional): the reader drops the WSP */
	HDR_LINE_CONT,		/* starts with SP or HTAB */
	HDR_LINE_OTHER,		/* anything else: not part of a header section */
};

/* hdr_line_kind - classify p[0..n), the start of a line (complete: the whole line, without CRLF).
 * Decides from at most the first HDR_NAME_MAX + 1 octets. */
enum hdr_line hdr_line_kind(const char *p, size_t n, bool complete);

/* hdr_parse - split buf[0..len) into fields. *out (malloc'd, free() it; NULL when n is 0) borrows from
 * buf. On error *out is NULL, *n is 0 and e says which line is wrong. */
int hdr_parse(const char *buf, size_t len, struct hdr_field **out, size_t *n, struct err *e);

/* hdr_find - the first field named `name` (ASCII case-insensitive), or NULL. */
const struct hdr_field *hdr_find(const struct hdr_field *f, size_t n, const char *name);

/* hdr_count - how many fields are named `name`. */
size_t hdr_count(const struct hdr_field *f, size_t n, const char *name);

/* hdr_name_is - the field is named `name` (ASCII case-insensitive). */
bool hdr_name_is(const struct hdr_field *f, const char *name);

/* hdr_value - the raw value after the colon, folding included, without the final CRLF. */
struct span hdr_value(const struct hdr_field *f);

/* hdr_unfold - append value to out with every CRLF that precedes SP or HTAB removed (RFC 5322 2.2.3).
 * -1 when out's ceiling is reached. */
int hdr_unfold(struct span value, struct buf *out);

/* hdr_fold - append "Name: value\r\n" to out, folded before whitespace so that lines stay within
 * HDR_FOLD_WIDTH where possible and never exceed LIM_LINE octets. The value must not contain CR, LF or
 * NUL. -1 (out unchanged) when a word cannot be fitted within LIM_LINE, the name is not a valid field
 * name, the value holds CR/LF/NUL, or out's ceiling is reached. */
int hdr_fold(const char *name, const char *value, size_t vlen, struct buf *out);

/* hdr_fold_line - append one physical header line line[0..len) (without CRLF) to out; when it is
 * longer than LIM_LINE octets, insert CRLF before whitespace so that no piece exceeds LIM_LINE and every
 * continuation starts with whitespace and holds more than whitespace. No final CRLF is appended.
 * -1 (out unchanged) when that is impossible or out's ceiling is reached. */
int hdr_fold_line(const char *line, size_t len, struct buf *out);

#endif
