/*
 * dkim.h - DKIM signing without the key (RFC 6376, RFC 8463, RFC 8301): canonicalise the body and the
 * header fields, choose what to sign, build the DKIM-Signature field and the digest to sign.
 *
 * No private key is here: the queue side's signer (sign.h) computes a 32-byte digest with
 * dkim_sig_prepare over the stored message, signs it with the key (conf/dkimkey.h, dkimkey_sign) and
 * completes the field with dkim_sig_finish. No l= (a body length lets anyone append), no sha1, no z=.
 *
 * Untrusted input: the stored header fields and body (CRLF-normalised by msg.c at submission), fed in
 * chunks of any size and with any boundaries. Errors: dkim_sig_prepare fails with EX_DATAERR (65) for
 * a message without From, EX_CONFIG (78) for a bad domain/selector/h= list, and EX_SOFTWARE (70)
 * when the field outgrows its ceiling.
 */
#ifndef POSTERN_DKIM_H
#define POSTERN_DKIM_H

#include <stddef.h>

#include "conf/config.h"
#include "conf/dkimkey.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/hdr.h"
#include "lib/limits.h"

/* A SHA-256 digest: the body hash and the header hash (rsa-sha256 and ed25519-sha256 alike). */
#define DKIM_HASH_LEN 32

/* A streaming body hasher; memory is constant whatever the body (runs of empty lines and of WSP
 * are counted, not buffered). */
struct dkim_body;

/* dkim_body_new - start hashing a body canonicalised with c (never NULL: OOM aborts). */
struct dkim_body *dkim_body_new(enum dkim_canon c);
/* dkim_body_update - feed the next n bytes of the body exactly as stored (CRLF line ends). */
void dkim_body_update(struct dkim_body *b, const char *p, size_t n);
/* dkim_body_final - the body hash (the bh= value before base64). The hasher is done after this. */
void dkim_body_final(struct dkim_body *b, unsigned char bh[DKIM_HASH_LEN]);
/* dkim_body_free - release; NULL is a no-op. */
void dkim_body_free(struct dkim_body *b);

/* dkim_canon_body - the canonical form of a whole body, appended to out (-1: out's ceiling). Pure. */
int dkim_canon_body(enum dkim_canon c, const char *p, size_t n, struct buf *out);

/* dkim_canon_header - the canonical form of one field, with its CRLF, appended to out (RFC 6376
 * 3.4.1/3.4.2). -1 when f has no colon or out's ceiling is hit. Pure. */
int dkim_canon_header(enum dkim_canon c, const struct hdr_field *f, struct buf *out);

/* dkim_select_headers - the h= value for these fields (top to bottom): every field of RFC 6376
 * 5.4.1's list that is present, once per instance, and the over-signed ones (From, To, Cc, Subject,
 * Date, Message-ID, Reply-To, MIME-Version, Content-Type, Content-Transfer-Encoding, In-Reply-To,
 * References) once more than they occur, so that none can be added in transit. Lower-case, ':'
 * separated, appended to out. Fails (EX_DATAERR) when there is no From field. */
int dkim_select_headers(const struct hdr_field *f, size_t n, struct buf *out, struct err *e);

struct dkim_sig_params {
	const char *domain, *selector;	/* d=, s= (checked: letters, digits, '-', '.', '_') */
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	long long t;			/* signing time, seconds since the epoch */
	long long x;			/* expiry time (absolute, > t), 0 = no x= tag */
	const char *hlist;		/* NULL: dkim_select_headers; else this h= value ("from:to") */
};

/* dkim_sig_prepare - build "DKIM-Signature: v=1; a=..; c=..; d=..; s=..; t=..; [x=..;] h=..; bh=..;
 * b=" into sighdr (reset first; folded with CRLF TAB, lines of at most 78 octets where possible) and
 * compute the digest the key signs: SHA-256 over the canonical selected fields, then the canonical
 * DKIM-Signature field with an empty b= and without its CRLF (RFC 6376 3.7). */
int dkim_sig_prepare(const struct dkim_sig_params *p, const struct hdr_field *f, size_t n,
	const unsigned char bh[DKIM_HASH_LEN], struct buf *sighdr, unsigned char digest[DKIM_HASH_LEN],
	struct err *e);

/* dkim_sig_digest - the header hash of RFC 6376 3.7 for a given h= value (names separated by ':'
 * with optional whitespace; instances are taken bottom-up, names with no instance left hash nothing)
 * and a given DKIM-Signature field (whole field, b= empty, no final CRLF). dkim_sig_prepare uses it;
 * tests use it to replay published signatures whose tags postern would not write (i=, q=). */
int dkim_sig_digest(enum dkim_canon hcanon, const struct hdr_field *f, size_t n, const char *hlist,
	const char *sig, size_t siglen, unsigned char digest[DKIM_HASH_LEN], struct err *e);

/* dkim_sig_finish - append the base64 signature (folded with CRLF TAB, FWS is allowed inside b=) and
 * the final CRLF to what dkim_sig_prepare built. Rejects anything but base64 characters. */
int dkim_sig_finish(struct buf *sighdr, const char *b64, struct err *e);

#endif
