/*
 * text.h - untrusted text made safe to show or to put in JSON, and the one test for 8-bit octets.
 *
 * One rule for a byte that is not printable ASCII (a control, DEL or an 8-bit octet), in the four
 * forms postern shows such text in (enum text_mode):
 *	TEXT_VIS	vis(3) C-style/octal escapes in the C locale: "\n", "\t", "\\", "\033", "\351"
 *			(NUL "\0" or "\000"). Lossless to a reader: logs, stderr, postern queue show.
 *			A cut text ends in "...", after a whole escape.
 *	TEXT_MARK	'?' in its place: text that must stay 7-bit (the DSN's fields).
 *	TEXT_MARK_8BIT	'?' for controls and DEL, 8-bit octets kept: mailq's addresses, so that an
 *			SMTPUTF8 address stays readable and no byte can drive a terminal.
 *	TEXT_LINE	dropped, each run of them between kept text becoming one space and none kept at
 *			either end: a peer's diagnostic on one line (the envelope's history, the runner's
 *			result lines).
 *
 * Whether a value is printable at all (and so may be written as it is): text_printable.
 * The same text as a JSON string (postern queue list --json, postern check --json): text_json_add.
 *
 * Untrusted input: any bytes (NUL included), given as (pointer, length). Errors: text_safe_add and
 * text_json_add return -1 when the buffer's ceiling is hit. Pure.
 */
#ifndef POSTERN_TEXT_H
#define POSTERN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

enum text_mode { TEXT_VIS, TEXT_MARK, TEXT_MARK_8BIT, TEXT_LINE };

/* TEXT_PIECE_MAX - the most one byte of input becomes, NUL included ("\ooo"). */
#define TEXT_PIECE_MAX 8
/* TEXT_VIS_SIZE - a destination in which text_safe (TEXT_VIS) of n bytes is never cut: "\ooo" is
 * the longest escape (TEXT_VIS_PER_BYTE), and the NUL. */
#define TEXT_VIS_PER_BYTE 4
#define TEXT_VIS_SIZE(n) (TEXT_VIS_PER_BYTE * (n) + 1)

/* text_safe - n bytes of src shown in mode m, into dst[dstsz], always NUL-terminated when dstsz > 0.
 * What does not fit is left out (whole escapes only; TEXT_VIS says so with "..."). Returns the length
 * written, NUL not counted. */
size_t text_safe(char *dst, size_t dstsz, const char *src, size_t n, enum text_mode m);

/* text_safe_add - n bytes of src shown in mode m, appended to b. 0, or -1 at b's ceiling. */
int text_safe_add(struct buf *b, const char *src, size_t n, enum text_mode m);

/* text_json_add - n bytes of s as a JSON string (RFC 8259), quotes included, appended to b: '"' and
 * '\\' escaped, "\n", "\t", "\r", other controls and DEL as "\u00XX"; valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF) kept as it is, any other 8-bit octet shown as
 * its value "\u00XX" (lossy, never invalid JSON). 0, or -1 at b's ceiling. */
int text_json_add(struct buf *b, const char *s, size_t n);
/* TEXT_JSON_PER_BYTE - the most one byte of input becomes in a JSON string ("\u00XX"): n bytes take
 * at most n * TEXT_JSON_PER_BYTE + 2 (the quotes). */
#define TEXT_JSON_PER_BYTE 6

/* What text_printable allows besides graphic ASCII (0x21..0x7e); controls, TAB and DEL never. */
#define TEXT_P_SPACE 0x1	/* ' ' */
#define TEXT_P_8BIT 0x2		/* octets >= 0x80 (UTF-8 addresses, file names) */

/* text_printable - every byte of s[0..n) is graphic ASCII, or one `allow` admits: a value that can
 * break no line, field or terminal. The empty text is printable. */
bool text_printable(const char *s, size_t n, unsigned allow);

/* text_has_8bit - an octet >= 0x80 in p[0..n): the text needs 8BITMIME (or an encoding) to travel. */
bool text_has_8bit(const char *p, size_t n);

#endif
