/*
 * msg.h - the streaming message reader: the caller's message from stdin, line ends normalised to CRLF,
 * split into the header section (kept in memory, bounded) and the body (streamed in chunks).
 *
 * Untrusted input: every byte the caller writes to stdin. Rules, applied once, before signing:
 *   - LF and CRLF both end a line; a bare CR (not followed by LF) also ends a line and becomes CRLF,
 *     so that no bare CR or LF ever reaches the spool or the wire (SMTP smuggling);
 *   - a NUL byte anywhere is an error (65, "message contains a NUL byte (line N)");
 *   - with dot_ends (no -i/-oi), a line that is exactly "." ends the message; the rest of stdin is not
 *     read; lines starting with ".." are kept as written (no dot-unstuffing, as sendmail(8) does);
 *   - a leading mbox "From " line is dropped;
 *   - the header section ends at the first empty line, or at the first line that is neither a field
 *     nor a continuation (that line then begins the body); if the very first line is not a field and
 *     does not start with whitespace, there is no header section and the body starts there;
 *   - a header line over LIM_LINE octets is folded at whitespace (error 65 if it has none);
 *   - a body line over LIM_LINE octets is split by inserting CRLF after LIM_LINE octets: this happens
 *     before signing, so the signature covers what goes out; unless keep_long is set, when the caller
 *     re-encodes such lines itself (body.h) and msg_read_body may return a part of a line;
 *   - a final line without a line end gets CRLF;
 *   - over max_header bytes of header section, or max_size bytes in all: error 65.
 * Memory is bounded: a 64 KiB input buffer plus the header section.
 */
#ifndef POSTERN_MSG_H
#define POSTERN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/err.h"

struct msg_opts {
	bool dot_ends;		/* without -i/-oi a line "." alone ends input */
	size_t max_header;	/* header section ceiling in bytes; 0 = LIM_HEADER_DEFAULT */
	long long max_size;	/* whole message ceiling in bytes (CRLF form); 0 = unlimited */
	bool keep_long;		/* body lines over LIM_LINE are not split */
};

/*
 * The pure, incremental line normaliser under the reader (exposed for tests and the fuzzer).
 * It turns raw input into CRLF lines and knows nothing about headers: the reader switches `split` on
 * and `stop_eol` off when the body starts. The fields below the line are its state: read, don't write.
 */
struct msg_norm {
	bool dot_ends;		/* a line "." alone ends the input */
	bool split;		/* insert CRLF after LIM_LINE octets of a line (body) */
	bool stop_eol;		/* return after each line end (header: one line at a time) */
	/* state */
	bool skip_lf;		/* the last input octet was CR: an LF right after it belongs to it */
	bool dot_held;		/* the input line so far is "." (not output yet: it may be the end) */
	bool ended;		/* a "." line ended the input */
	bool bit8;		/* an octet >= 0x80 was output */
	size_t col;		/* octets output on the current output line */
	size_t icol;		/* octets of the current input line */
	unsigned long long line;	/* current input line number, from 1 */
	unsigned long long eols;	/* CRLFs output, including split points */
};

/* msg_norm_init - a fresh normaliser (split and stop_eol off). */
void msg_norm_init(struct msg_norm *z, bool dot_ends);

/* msg_norm_feed - normalise in[0..n) into out[*outlen..outsz), advancing *outlen and setting *used to
 * the octets consumed. Stops when the input is used up, fewer than 3 octets of room are left, after a
 * line end with stop_eol, or when a "." line ended the input. -1 on a NUL byte (code 65). */
int msg_norm_feed(struct msg_norm *z, const char *in, size_t n, size_t *used, char *out, size_t outsz,
		  size_t *outlen, struct err *e);

/* msg_norm_finish - end of input: close an unterminated last line with CRLF (needs 2 octets of room),
 * or, with dot_ends, treat an unterminated "." as the end. */
void msg_norm_finish(struct msg_norm *z, char *out, size_t outsz, size_t *outlen);

struct msg_reader;

/* msg_reader_new - a reader of fd (not closed by the reader). */
struct msg_reader *msg_reader_new(int fd, const struct msg_opts *o);

/* msg_read_header - append the header section to hdr (CRLF line ends, without the empty line that
 * ends it; nothing when the message has no header section). Call once, before msg_read_body. */
int msg_read_header(struct msg_reader *r, struct buf *hdr, struct err *e);

/* msg_read_body - put the next body bytes into out[0..outsz) (outsz >= 1024): only complete CRLF
 * lines (with keep_long: any octets, the last line always ended with CRLF). Returns the count, 0 at the end of the message, -1 on error (sticky). */
ssize_t msg_read_body(struct msg_reader *r, char *out, size_t outsz, struct err *e);

/* msg_body_8bit - an octet >= 0x80 was seen in the body. */
bool msg_body_8bit(const struct msg_reader *r);

/* msg_reader_free - free r; NULL is a no-op. */
void msg_reader_free(struct msg_reader *r);

#endif
