/*
 * mimeconv.h - re-encode the text parts of a whole message (header section and body, multipart
 * included, recursively) as quoted-printable: for a next hop without 8BITMIME (RFC 6152 section 3,
 * RFC 1652), or for text parts with lines over LIM_LINE octets. Pure and streaming.
 *
 * Two passes over the same octets, each in any chunks: the scan pass (out NULL) records what each leaf
 * part holds (8-bit octets, a long line), and the write pass re-encodes exactly the leaves that need it
 * and rewrites their Content-Transfer-Encoding (and a multipart's "8bit"/"binary" to "7bit" in
 * MIMECONV_7BIT). Memory: one part's header section (head_max), a line's first octets, and the boundary
 * stack; never the body.
 *
 * In MIMECONV_7BIT an 8-bit Subject of the message's own header section becomes RFC 2047 encoded
 * words (UTF-8, or unknown-8bit), folded; 8-bit octets in any other field are an error.
 *
 * Which leaves are re-encoded: text (and parts without Content-Type, whose default is text/plain,
 * except in multipart/digest) whose encoding is none, 7bit, 8bit or binary. What cannot be converted is
 * an error naming the reason (mimeconv_why): 8-bit octets in a header section, in a message part (RFC
 * 2046 5.2.1 allows no encoding there), in a non-text part or a part already encoded, or in a
 * multipart's preamble or epilogue; a long line in a part that cannot be re-encoded (MIMECONV_LINES);
 * a header section over head_max; nesting deeper than MIMECONV_DEPTH; more leaves than MIMECONV_LEAVES.
 *
 * Untrusted input: every octet (the message as the caller wrote it, CRLF-normalised). Nothing here
 * fails on malformed MIME: a part header that does not parse is an opaque part, a boundary that never
 * comes leaves the rest as the part's body.
 */
#ifndef POSTERN_MIMECONV_H
#define POSTERN_MIMECONV_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/mime.h"

/* Nested multiparts followed (RFC 2046 sets no limit; real mail nests 3 or 4 deep). */
#define MIMECONV_DEPTH 16
/* Leaf parts whose facts the scan pass keeps (a message with more is not converted). */
#define MIMECONV_LEAVES 4096
/* RFC 2046 5.1.1: a boundary is 1 to 70 characters. */
#define MIMECONV_BOUNDARY_MAX 70
/* The first octets of a body line kept to see whether it is a delimiter: "--", the boundary, "--",
 * and some transport padding. */
#define MIMECONV_LINEHEAD (2 + MIMECONV_BOUNDARY_MAX + 2 + 54)
/* What the write pass adds to a header section: a Content-Transfer-Encoding field and MIME-Version. */
#define MIMECONV_HDR_GROWTH 96
/* mimeconv_feed writes at most MIMECONV_GROWTH * n + MIMECONV_HEAD_GROWTH * head_max + MIMECONV_SLACK
 * octets for n in (a Subject as encoded words: 3 octets for one, and the words' frame). */
#define MIMECONV_GROWTH 16
#define MIMECONV_HEAD_GROWTH 4
#define MIMECONV_SLACK (MIMECONV_LINEHEAD * 6 + MIMECONV_HDR_GROWTH + 64)

enum mimeconv_mode {
	MIMECONV_7BIT,	/* every 8-bit text leaf (and every one with a long line) becomes quoted-printable */
	MIMECONV_LINES,	/* only text leaves with a line over LIM_LINE octets */
};

enum mimeconv_err {
	MIMECONV_OK,
	MIMECONV_E_HEADER8,	/* 8-bit octets in a header field other than the message's Subject */
	MIMECONV_E_MESSAGE8,	/* 8-bit octets in a message/ part */
	MIMECONV_E_OPAQUE8,	/* 8-bit octets in a non-text or already encoded part, a preamble, an epilogue */
	MIMECONV_E_LONG,	/* a long line in a part that cannot be re-encoded (MIMECONV_LINES) */
	MIMECONV_E_HEADBIG,	/* a header section over head_max */
	MIMECONV_E_DEPTH,	/* multiparts nested deeper than MIMECONV_DEPTH */
	MIMECONV_E_LEAVES,	/* more than MIMECONV_LEAVES leaves */
	MIMECONV_E_OUT,		/* the output buffer's ceiling (the caller sized it too small) */
};

struct mimeconv_level {
	char boundary[MIMECONV_BOUNDARY_MAX + 1];
	size_t blen;
	bool digest;		/* multipart/digest: parts default to message/rfc822 */
};

/* The state; opaque to callers (fields are read only by mimeconv.c). */
struct mimeconv {
	enum mimeconv_mode mode;
	bool writing;		/* the write pass */
	enum mimeconv_err err;
	int st;			/* what the next octet belongs to (mimeconv.c's enum) */
	struct buf head;	/* the current header section */
	size_t head_max;
	char line[MIMECONV_LINEHEAD];	/* a body line's first octets, while it may be a delimiter */
	size_t llen;
	bool at_bol;		/* the next octet starts a line */
	bool prev_cr;		/* the last body octet was CR */
	struct mimeconv_level lv[MIMECONV_DEPTH];
	size_t depth;		/* open multiparts */
	bool digest_default;	/* the current part's default type is message/rfc822 */
	/* the current leaf */
	int kind;		/* mimeconv.c's enum: text, message, opaque, multipart preamble/epilogue */
	bool reenc;		/* write pass: this leaf goes through the encoder */
	bool bit8, longl;	/* scan pass: what it holds */
	size_t col;		/* octets on the current line of the leaf */
	size_t nleaf;		/* leaves seen */
	unsigned char leaf[MIMECONV_LEAVES];	/* scan pass facts: bit 1 8-bit, bit 2 long line */
	bool changes;		/* the write pass changes something */
	struct mime_enc enc;	/* the quoted-printable encoder of a re-encoded leaf */
	size_t hls;		/* where the current line of head starts */
	bool top;		/* the current header section is the message's own */
	bool recode;		/* ... and its 8-bit Subject goes out as RFC 2047 encoded words */
};

/* mimeconv_init - start the scan pass. head_max: the largest header section accepted (the top one
 * included). */
void mimeconv_init(struct mimeconv *z, enum mimeconv_mode mode, size_t head_max);
/* mimeconv_free - release; the struct may be initialised again. */
void mimeconv_free(struct mimeconv *z);

/* mimeconv_feed - the next n octets of the message. In the write pass the converted octets are
 * appended to out (NULL in the scan pass). -1 with z->err set: the message cannot be converted (or
 * out's ceiling). */
int mimeconv_feed(struct mimeconv *z, const char *p, size_t n, struct buf *out);
/* mimeconv_end - the end of the message: what is held is written (write pass). -1 as above. */
int mimeconv_end(struct mimeconv *z, struct buf *out);

/* mimeconv_rewind - after a scan pass that ended without error: start the write pass. Returns whether
 * it changes anything at all (false: the message can go as it is). */
bool mimeconv_rewind(struct mimeconv *z);

/* mimeconv_why - the reason for z->err, one line of fixed text. */
const char *mimeconv_why(enum mimeconv_err err);

#endif
