/*
 * dkimkey.h - DKIM private keys: load (the queue runner's signer, queue/run/sign.h), sign a digest,
 * generate, write, and print the public DNS record.
 *
 * This is the only code that touches a DKIM private key; the front door never calls it. The signer
 * canonicalises and hashes the stored message (queue/run/dkim.c) into a 32-byte SHA-256 digest;
 * dkimkey_sign signs exactly that:
 *   rsa-sha256:     RSASSA-PKCS1-v1_5 over the digest with a SHA-256 DigestInfo (RFC 6376 3.3.1);
 *   ed25519-sha256: PureEdDSA whose message is the 32-byte digest itself (RFC 8463 3).
 *
 * Untrusted input: the key file's bytes (it is a secret, but a misconfigured one must be refused
 * with a reason, not used). Errors: struct err with EX_CONFIG (78) for a missing, unreadable, badly
 * protected, malformed or too weak key; EX_CANTCREAT (73) when a key cannot be written.
 * OpenSSL 3 EVP interfaces only.
 */
#ifndef POSTERN_DKIMKEY_H
#define POSTERN_DKIMKEY_H

#include <stdbool.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/err.h"

/* The signing algorithms postern emits (no rsa-sha1: RFC 8301). */
enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };

/* RFC 8301 3.2: verifiers must accept 1024..4096; signers must use at least 1024, should use 2048. */
#define DKIMKEY_RSA_MIN 1024
#define DKIMKEY_RSA_WARN 2048
#define DKIMKEY_RSA_MAX 8192
/* A raw signature: one RSA modulus of DKIMKEY_RSA_MAX bits (an Ed25519 one is 64 octets). */
#define DKIMKEY_SIG_MAX (DKIMKEY_RSA_MAX / 8)
/* What is signed: a SHA-256 digest (rsa-sha256, ed25519-sha256). */
#define DKIMKEY_DIGEST_LEN 32
/* An Ed25519 public key (RFC 8032 5.1.5), as published in the p= tag (RFC 8463). */
#define DKIMKEY_ED25519_LEN 32
/* A base64 signature: 8192-bit RSA is 1024 bytes, 1368 in base64. */
#define DKIMKEY_B64_MAX 2048
/* A DNS record value: an 8192-bit SubjectPublicKeyInfo in base64 is under 1500 octets. */
#define DKIMKEY_RECORD_MAX 4096

/* dkimkey_load - open and parse a PEM private key (PKCS#8, PKCS#1 RSA, PKCS#8 Ed25519).
 * Refuses: not a regular file, a symlink, group- or world-writable, world-readable, larger than
 * LIM_KEY_FILE, encrypted, RSA under 1024 bits, any other key type. When `warn` is not NULL and the
 * key is RSA under 2048 bits, a one-line warning is put there (and the key is still returned). */
int dkimkey_load(const char *path, EVP_PKEY **out, struct buf *warn, struct err *e);

/* dkimkey_sign - sign a 32-byte digest (see above); the signature goes into b64 as base64 with no
 * line breaks (b64 is reset first). */
int dkimkey_sign(EVP_PKEY *k, const unsigned char digest[DKIMKEY_DIGEST_LEN], struct buf *b64, struct err *e);

/* dkimkey_alg - the DKIM algorithm of a key dkimkey_load or dkimkey_generate returned. */
enum dkim_alg dkimkey_alg(EVP_PKEY *k);

/* dkimkey_record - the TXT value: "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>" or
 * "v=DKIM1; k=ed25519; p=<base64 of the raw 32-byte key>" (RFC 8463 4). txt is reset first. */
int dkimkey_record(EVP_PKEY *k, struct buf *txt, struct err *e);

/* dkimkey_zone_line - `SELECTOR._domainkey.DOMAIN. IN TXT ( "..." "..." )`, the value cut into
 * quoted strings of at most 255 octets (RFC 1035 3.3.14, RFC 6376 3.6.2.2). Appends to out. Returns -1
 * when the value holds a quote, backslash or non-printable octet, or out's ceiling is hit. */
int dkimkey_zone_line(const char *selector, const char *domain, const char *txt, struct buf *out);

/* dkimkey_generate - a new key: DKIM_RSA_SHA256 with `bits` (1024..8192), or DKIM_ED25519_SHA256
 * (bits ignored). */
int dkimkey_generate(enum dkim_alg type, int bits, EVP_PKEY **out, struct err *e);

/* dkimkey_write - store k as PKCS#8 PEM at path, mode 0640, via PATH.tmp (O_CREAT|O_EXCL|O_NOFOLLOW),
 * fsync, then link (no `force`: an existing key is never replaced) or rename (`force`), and fsync of
 * the folder. When running as root the file is chowned to root:gid (gid (gid_t)-1: left alone). */
int dkimkey_write(EVP_PKEY *k, const char *path, gid_t gid, bool force, struct err *e);

#endif
