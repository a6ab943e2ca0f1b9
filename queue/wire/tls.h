/*
 * tls.h - the client side of TLS (OpenSSL 3) for the SMTP client.
 *
 * Untrusted input: the peer's handshake and certificate chain, and every record it sends.
 * The handshake sends SNI and checks the certificate against the given name (SSL_set1_host), but a
 * verification failure does not abort it: the result is reported (verified, reason) and the caller
 * applies its policy (may / encrypt / verify). TLS 1.2 is the minimum.
 *
 * I/O is on a non-blocking descriptor with a timeout per call (milliseconds). The caller must ignore
 * SIGPIPE (OpenSSL writes to the socket with write(2)).
 *
 * Errors: NULL or -1 with a one-line reason (OpenSSL's error queue is read and cleared). A failed
 * handshake (tls_connect) also says whose failure it was, in e->code: EX_PROTOCOL when the peer failed
 * it (it closed, reset, timed out, sent an alert or bytes we had to refuse), EX_OSERR when the failure
 * is ours (memory, descriptors, OpenSSL's own machinery). Only the peer's failure may ever be a reason
 * to retry without TLS; ours defers the mail.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

struct tls_client_ctx;
struct tls_conn;

/* tls_ctx_new - cafile NULL: the system's default paths. cert and key: both or neither; the chain
 * file is offered as client certificate and must match the key. */
struct tls_client_ctx *tls_ctx_new(const char *cafile, const char *cert, const char *key,
				   struct err *e);
void tls_ctx_free(struct tls_client_ctx *ctx);

/* What tls_connect saw when a handshake failed: the input of tls_fail_blame. */
#define TLS_FAIL_ERRS 8		/* OpenSSL error queue entries kept (the rest are dropped) */
struct tls_fail {
	bool local;		/* a failure of ours outside OpenSSL's handshake: SSL_new, fcntl, poll */
	bool timeout;		/* the peer did not answer within the deadline */
	int ssl_error;		/* SSL_get_error() of the failing call (SSL_ERROR_SSL, _SYSCALL, ...) */
	int sys_errno;		/* errno at the failure, or 0 */
	unsigned long errs[TLS_FAIL_ERRS];	/* OpenSSL's error queue, oldest first */
	size_t nerrs;
	int alert_sent;		/* the fatal alert we sent (RFC 8446 AlertDescription), or -1 */
	bool alert_received;	/* the peer sent an alert */
};

enum tls_blame { TLS_BLAME_PEER, TLS_BLAME_LOCAL };

/* tls_fail_blame - whose failure a failed handshake was. Local when anything points at our side (an
 * allocation or internal error anywhere in the error queue, an internal_error alert we sent, an errno of
 * exhausted memory or descriptors, an error from outside the code that parses the peer's bytes); the
 * peer's only on positive evidence (its alert, our alert against what it sent, its EOF or reset, a
 * timeout). Pure. */
enum tls_blame tls_fail_blame(const struct tls_fail *f);

/* tls_connect - handshake on fd (made non-blocking) with SNI and name checking for `name` (may be
 * NULL: no SNI, never verified). The fd stays the caller's. */
struct tls_conn *tls_connect(struct tls_client_ctx *ctx, int fd, const char *name, int timeout_ms,
			     struct err *e);
/* tls_close - send close_notify (best effort, no waiting) and free; does not close the fd. */
void tls_close(struct tls_conn *c);

bool tls_verified(const struct tls_conn *c);
const char *tls_verify_reason(const struct tls_conn *c);	/* "ok" or the X509 error string */
const char *tls_summary(const struct tls_conn *c);		/* "TLSv1.3/verified" or "TLSv1.2/unverified" */

/* tls_read - up to n bytes: >0 read, 0 orderly end, -1 error or timeout. */
ssize_t tls_read(struct tls_conn *c, void *p, size_t n, int timeout_ms, struct err *e);
/* tls_write - all n bytes or -1. */
int tls_write(struct tls_conn *c, const void *p, size_t n, int timeout_ms, struct err *e);

#endif
