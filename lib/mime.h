/*
 * mime.h - MIME completion of a submitted message: what the front door adds or re-encodes so that what
 * it spools is complete, lossless MIME (RFC 2045, RFC 2047), decided and done by pure functions.
 *
 *   - a body scan (mime_scan_*): 8-bit octets, UTF-8 validity, the longest line;
 *   - the caller's MIME fields (mime_head_get) and the decision (mime_decide): which fields to add or
 *     replace, and how the body goes out: as it is, re-encoded as quoted-printable (a line over
 *     LIM_LINE octets in a single-part body whose encoding allows it), or folded where re-encoding is
 *     impossible (a body already base64 or quoted-printable; a multipart body, whose
 *     text parts body.c re-encodes through lib/mimeconv.h instead when it can);
 *   - a streaming body encoder (mime_enc_*) for those modes: input in any chunks, memory constant;
 *   - display names (mime_phrase): a quoted-string, or RFC 2047 encoded words for non-ASCII names.
 *
 * Untrusted input: every octet of the body and of the caller's header fields, and -F/GECOS names. Nothing
 * here fails on content; the only error is an output buffer's ceiling (-1).
 */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/hdr.h"

/* Quoted-printable encoded lines are at most this long, the soft break's "=" included (RFC 2045 6.7). */
#define MIME_QP_LINE 76
/* An RFC 2047 encoded word is at most this long (RFC 2047 section 2). */
#define MIME_EW_MAX 75
/* mime_enc_feed writes at most this many octets per input octet (plus MIME_ENC_SLACK per call). */
#define MIME_ENC_GROWTH 6
#define MIME_ENC_SLACK 16

/* mime_utf8_valid - p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
bool mime_utf8_valid(const char *p, size_t n);


/* The body scan: feed the body (CRLF lines) in any chunks. Fields: read, don't write. */
struct mime_scan {
	bool bit8;		/* an octet >= 0x80 */
	bool utf8_bad;		/* not well-formed UTF-8 (final after mime_scan_end) */
	unsigned need;		/* continuation octets still due */
	unsigned char lo, hi;	/* range of the next continuation octet */
	size_t col;		/* octets of the current line so far (CR and LF not counted) */
	size_t longest;		/* the longest line, without its line end */
};

void mime_scan_init(struct mime_scan *s);
void mime_scan_feed(struct mime_scan *s, const char *p, size_t n);
void mime_scan_end(struct mime_scan *s);

/* The caller's Content-Transfer-Encoding. */
enum mime_cte { MIME_CTE_NONE, MIME_CTE_7BIT, MIME_CTE_8BIT, MIME_CTE_BINARY, MIME_CTE_QP, MIME_CTE_BASE64,
	MIME_CTE_OTHER };

/* What the caller's header section says about MIME. */
struct mime_head {
	bool version;		/* a MIME-Version field */
	bool ctype;		/* a Content-Type field */
	bool composite;		/* ... naming multipart/ or message/ (never re-encoded) */
	enum mime_cte cte;
};

/* mime_head_get - the MIME facts of a header section (the first field of each name counts). */
void mime_head_get(const struct hdr_field *f, size_t nf, struct mime_head *h);

/* How the body is written to the spool. */
enum mime_body {
	MIME_BODY_KEEP,		/* as read */
	MIME_BODY_QP,		/* encoded as quoted-printable: lossless, 7-bit, lines <= MIME_QP_LINE */
	MIME_BODY_FOLD,		/* lines over LIM_LINE get a CRLF, never inside a UTF-8 sequence (lossy) */
	MIME_BODY_FOLD_QP,	/* an already quoted-printable body: soft breaks, never inside "=XX" */
};

/* The decision. Strings are static. */
struct mime_plan {
	bool add_version;	/* add "MIME-Version: 1.0" */
	const char *charset;	/* add "Content-Type: text/plain; charset=<this>", or NULL */
	const char *cte;	/* the Content-Transfer-Encoding to set (replacing the caller's), or NULL */
	enum mime_body body;
};

/* mime_decide - what MIME completion does for a message with header facts h and body scan s (ended).
 * A body with a line over LIM_LINE octets is never left as it is. */
void mime_decide(const struct mime_head *h, const struct mime_scan *s, struct mime_plan *p);

/* mime_plan_header_changes - the plan adds or replaces a field. */
bool mime_plan_header_changes(const struct mime_plan *p);

/* mime_plan_header - append to out the header section f[0..nf) with the plan applied: the caller's
 * Content-Transfer-Encoding dropped when the plan sets one, then the added fields, then the empty line.
 * -1 when out's ceiling is reached. */
int mime_plan_header(const struct mime_plan *p, const struct hdr_field *f, size_t nf, struct buf *out);

/* The streaming body encoder for a mode of enum mime_body. */
struct mime_enc {
	enum mime_body mode;
	size_t col;		/* output octets on the current line */
	unsigned hold;		/* octets that still belong to the current unit (no break before them) */
	char ws;		/* QP: a space or tab not yet written (it may end a line), or 0 */
	bool cr;		/* QP: a CR not yet written (it may start a line end) */
};

void mime_enc_init(struct mime_enc *z, enum mime_body mode);

/* mime_enc_feed - encode p[0..n) onto out (at most MIME_ENC_GROWTH * n + MIME_ENC_SLACK octets). */
int mime_enc_feed(struct mime_enc *z, const char *p, size_t n, struct buf *out);

/* mime_enc_end - the end of the body: write what is held. */
int mime_enc_end(struct mime_enc *z, struct buf *out);

/* mime_phrase - a display name n[0..len) as it goes before "<addr>": ASCII names as a quoted-string
 * (as before), a name already made of RFC 2047 encoded words as it is (never quoted), other 8-bit
 * names as encoded words (UTF-8, or unknown-8bit when not UTF-8; Q when at most half the octets are
 * 8-bit, else B), each
 * at most MIME_EW_MAX octets, whole characters, separated by a space for the folder. */
int mime_phrase(struct buf *out, const char *n, size_t len);

/* mime_qp_decode - decode quoted-printable (for tests and the fuzzer): "=XX" and soft breaks. */
int mime_qp_decode(const char *p, size_t n, struct buf *out);

#endif
