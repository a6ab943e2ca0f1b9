/*
 * tls.c - OpenSSL client contexts and connections (see tls.h).
 *
 * The snprintf calls here fill fixed reason/summary strings for logs: cutting one short is harmless,
 * so their truncation is deliberately not an error.
 */
#include "queue/wire/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/fdio.h"

#define TLS_REASON_MAX 128	/* the certificate check's verdict, X509's error string */
#define TLS_SUMMARY_MAX 64	/* "TLSv1.3/verified" */
#define TLS_ERRSTR_MAX 256	/* an OpenSSL error string (ERR_error_string's documented minimum) */

struct tls_client_ctx {
	SSL_CTX *ctx;
};

struct tls_conn {
	SSL *ssl;
	int fd;
	bool verified;
	char reason[TLS_REASON_MAX];
	char summary[TLS_SUMMARY_MAX];
	struct tls_fail fail;	/* what went wrong, when the handshake fails */
};

#define ALERT_INTERNAL_ERROR 80	/* RFC 8446 6.2: internal_error, "unrelated to the peer" */

/* ssl_err - the reason from OpenSSL's error queue (cleared), prefixed by what. Returns -1. */
static int ssl_err(struct err *e, const char *what)
{
	unsigned long x = ERR_get_error();
	char msg[TLS_ERRSTR_MAX];

	if (x == 0)
		snprintf(msg, sizeof msg, "%s", errno ? strerror(errno) : "unknown error");
	else
		ERR_error_string_n(x, msg, sizeof msg);
	ERR_clear_error();
	return err_set(e, 0, "%s: %s", what, msg);
}

struct tls_client_ctx *tls_ctx_new(const char *cafile, const char *cert, const char *key,
				   struct err *e)
{
	struct tls_client_ctx *c = xcalloc(1, sizeof *c);

	if ((cert == NULL) != (key == NULL)) {
		err_set(e, EX_CONFIG, "TLS client certificate and key must be given together");
		goto fail;
	}
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_err(e, "SSL_CTX_new");
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
		ssl_err(e, "TLS minimum version");
		goto fail;
	}
	/* verification runs and is recorded, but never aborts the handshake: the caller decides */
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* without tls_ca: the system's hashed certificate folder (/etc/ssl/certs on Debian), looked up per
	 * issuer when a chain is checked. OpenSSL's default paths would also parse the whole bundle file
	 * (some 140 certificates, a third of a queue run's CPU time when it sends 1,000 messages) whether
	 * or not this run ever sees a certificate. */
	if (cafile != NULL ? SSL_CTX_load_verify_locations(c->ctx, cafile, NULL) != 1
			   : SSL_CTX_load_verify_dir(c->ctx, X509_get_default_cert_dir()) != 1) {
		ssl_err(e, cafile != NULL ? cafile : X509_get_default_cert_dir());
		e->code = EX_CONFIG;
		goto fail;
	}
	if (cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1) {
			ssl_err(e, cert);
			e->code = EX_CONFIG;
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1) {
			ssl_err(e, key);
			e->code = EX_CONFIG;
			goto fail;
		}
		if (SSL_CTX_check_private_key(c->ctx) != 1) {
			ssl_err(e, "TLS client certificate and key do not match");
			e->code = EX_CONFIG;
			goto fail;
		}
	}
	return c;
fail:
	tls_ctx_free(c);
	return NULL;
}

void tls_ctx_free(struct tls_client_ctx *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

/* local_reason - an OpenSSL error code that means our side failed whoever the peer is. */
static bool local_reason(unsigned long x)
{
	int lib = ERR_GET_LIB(x), reason = ERR_GET_REASON(x);

	if (reason == ERR_R_MALLOC_FAILURE || reason == ERR_R_INTERNAL_ERROR || reason == ERR_R_INIT_FAIL ||
	    reason == ERR_R_PASSED_NULL_PARAMETER || reason == ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED ||
	    reason == ERR_R_DISABLED)
		return true;
	/* the peer's bytes are parsed by the TLS, ASN.1 and X.509 code: an error from anywhere else (the
	 * providers, EVP, RAND, BN, BIO, the system) is a failure of our machinery */
	return lib != ERR_LIB_SSL && lib != ERR_LIB_ASN1 && lib != ERR_LIB_X509 && lib != ERR_LIB_X509V3;
}

/* peer_reason - an OpenSSL error code that says what the peer sent was not TLS, or not a TLS we can
 * speak (raised without an alert, or with one the callback did not see). */
static bool peer_reason(unsigned long x)
{
	static const int peer[] = { SSL_R_WRONG_VERSION_NUMBER, SSL_R_UNEXPECTED_EOF_WHILE_READING,
		SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_RECORD_LENGTH_MISMATCH, SSL_R_UNEXPECTED_MESSAGE,
		SSL_R_UNEXPECTED_RECORD, SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST, SSL_R_BAD_PACKET_LENGTH,
		SSL_R_LENGTH_TOO_SHORT, SSL_R_LENGTH_MISMATCH, SSL_R_UNSUPPORTED_PROTOCOL,
		SSL_R_ENCRYPTED_LENGTH_TOO_LONG, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, SSL_R_BAD_RECORD_TYPE,
		SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, SSL_R_NO_SHARED_CIPHER, SSL_R_WRONG_CIPHER_RETURNED };
	int reason = ERR_GET_REASON(x);

	if (ERR_GET_LIB(x) != ERR_LIB_SSL)
		return false;
	if (reason >= SSL_AD_REASON_OFFSET)
		return true;	/* "sslv3/tlsv1 alert ...": an alert the peer sent */
	for (size_t i = 0; i < sizeof peer / sizeof peer[0]; i++)
		if (reason == peer[i])
			return true;
	return false;
}

/* local_errno - an errno that says this host ran out of something. */
static bool local_errno(int n)
{
	return n == ENOMEM || n == ENOBUFS || n == EMFILE || n == ENFILE || n == EBADF || n == EFAULT ||
	    n == EINVAL;
}

/* peer_errno - an errno that says the connection (the peer, or the path to it) failed. */
static bool peer_errno(int n)
{
	return n == 0 || n == ECONNRESET || n == EPIPE || n == ETIMEDOUT || n == ECONNABORTED ||
	    n == EHOSTUNREACH || n == ENETUNREACH || n == ENETDOWN || n == EHOSTDOWN;
}

enum tls_blame tls_fail_blame(const struct tls_fail *f)
{
	size_t i;

	if (f->local)
		return TLS_BLAME_LOCAL;
	for (i = 0; i < f->nerrs && i < TLS_FAIL_ERRS; i++)
		if (ERR_GET_REASON(f->errs[i]) == ERR_R_MALLOC_FAILURE ||
		    ERR_GET_REASON(f->errs[i]) == ERR_R_INTERNAL_ERROR)
			return TLS_BLAME_LOCAL;
	if (f->alert_sent == ALERT_INTERNAL_ERROR)
		return TLS_BLAME_LOCAL;
	if (f->alert_received || f->alert_sent >= 0 || f->timeout || f->ssl_error == SSL_ERROR_ZERO_RETURN)
		return TLS_BLAME_PEER;
	if (local_errno(f->sys_errno))
		return TLS_BLAME_LOCAL;
	for (i = 0; i < f->nerrs && i < TLS_FAIL_ERRS; i++)
		if (local_reason(f->errs[i]))
			return TLS_BLAME_LOCAL;
	if (f->ssl_error == SSL_ERROR_SYSCALL && f->nerrs == 0 && peer_errno(f->sys_errno))
		return TLS_BLAME_PEER;	/* EOF or reset in the middle of the handshake */
	if (f->ssl_error == SSL_ERROR_SSL && f->nerrs > 0 &&
	    (peer_reason(f->errs[0]) || (f->sys_errno != 0 && peer_errno(f->sys_errno))))
		return TLS_BLAME_PEER;	/* it sent what is not TLS, or went away before our alert */
	return TLS_BLAME_LOCAL;	/* no evidence against the peer: never a reason to drop TLS */
}

/* on_info - OpenSSL's state callback: remember the alerts that went either way. */
static void on_info(const SSL *ssl, int where, int ret)
{
	struct tls_conn *c = SSL_get_app_data(ssl);

	if (c == NULL || !(where & SSL_CB_ALERT))
		return;
	if (where & SSL_CB_READ)
		c->fail.alert_received = true;
	else if ((where & SSL_CB_WRITE) && (ret >> 8) == SSL3_AL_FATAL)
		c->fail.alert_sent = ret & 0xff;
}

/* fail_ssl - record a failed SSL call (ret) in c->fail, drain OpenSSL's error queue into it, and set e
 * to "what: reason". Returns -1. */
static int fail_ssl(struct tls_conn *c, int ret, const char *what, struct err *e)
{
	struct tls_fail *f = &c->fail;
	unsigned long x;
	char msg[TLS_ERRSTR_MAX];

	f->sys_errno = errno;
	f->ssl_error = c->ssl != NULL ? SSL_get_error(c->ssl, ret) : SSL_ERROR_SSL;
	f->nerrs = 0;
	while ((x = ERR_get_error()) != 0)
		if (f->nerrs < TLS_FAIL_ERRS)
			f->errs[f->nerrs++] = x;
	if (f->ssl_error == SSL_ERROR_ZERO_RETURN)
		return err_set(e, 0, "%s: connection closed by the peer", what);
	if (f->nerrs == 0)
		return err_set(e, 0, "%s: %s", what, f->sys_errno ? strerror(f->sys_errno) : "connection lost");
	ERR_error_string_n(f->errs[0], msg, sizeof msg);
	return err_set(e, 0, "%s: %s", what, msg);
}

/* wait_io - wait for what SSL asked for (ret from SSL_*), until deadline. 0 ready, -1 error. */
static int wait_io(struct tls_conn *c, int ret, long long deadline, const char *what, struct err *e)
{
	int x = SSL_get_error(c->ssl, ret);
	short events;
	int r;

	if (x == SSL_ERROR_WANT_READ)
		events = POLLIN;
	else if (x == SSL_ERROR_WANT_WRITE)
		events = POLLOUT;
	else
		return fail_ssl(c, ret, what, e);
	r = fdio_wait(c->fd, events, deadline);
	if (r < 0) {
		c->fail.local = true;
		return err_set(e, 0, "%s: poll: %s", what, strerror(errno));
	}
	if (r == 0) {
		c->fail.timeout = true;
		return err_set(e, 0, "%s: timeout", what);
	}
	return 0;
}

struct tls_conn *tls_connect(struct tls_client_ctx *ctx, int fd, const char *name, int timeout_ms,
			     struct err *e)
{
	struct tls_conn *c = xcalloc(1, sizeof *c);
	long long deadline = now_ms() + timeout_ms;
	int fl = fcntl(fd, F_GETFL), r;
	X509 *peer;
	long v;

	c->fd = fd;
	c->fail.alert_sent = -1;
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		c->fail.local = true;
		err_set(e, 0, "fcntl: %s", strerror(errno));
		goto fail;
	}
	ERR_clear_error();
	if ((c->ssl = SSL_new(ctx->ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1 ||
	    SSL_set_app_data(c->ssl, c) != 1) {
		fail_ssl(c, 0, "SSL_new", e);
		c->fail.local = true;
		goto fail;
	}
	SSL_set_info_callback(c->ssl, on_info);
	if (name != NULL &&
	    (SSL_set_tlsext_host_name(c->ssl, name) != 1 || SSL_set1_host(c->ssl, name) != 1)) {
		fail_ssl(c, 0, "TLS server name", e);
		c->fail.local = true;
		goto fail;
	}
	if (name != NULL)
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (;;) {
		errno = 0;	/* so that a failure's errno is the failing call's own */
		if ((r = SSL_connect(c->ssl)) == 1)
			break;
		if (wait_io(c, r, deadline, "TLS handshake", e) < 0)
			goto fail;
	}
	peer = SSL_get0_peer_certificate(c->ssl);
	v = SSL_get_verify_result(c->ssl);
	if (peer == NULL) {
		snprintf(c->reason, sizeof c->reason, "no peer certificate");
	} else if (name == NULL) {
		snprintf(c->reason, sizeof c->reason, "no name to verify");
	} else if (v != X509_V_OK) {
		snprintf(c->reason, sizeof c->reason, "%s", X509_verify_cert_error_string(v));
	} else {
		c->verified = true;
		snprintf(c->reason, sizeof c->reason, "ok");
	}
	snprintf(c->summary, sizeof c->summary, "%s/%s", SSL_get_version(c->ssl),
		 c->verified ? "verified" : "unverified");
	SSL_set_info_callback(c->ssl, NULL);
	return c;
fail:
	/* whose failure: the caller may fall back to plaintext for the peer's, never for ours */
	if (e != NULL && tls_fail_blame(&c->fail) == TLS_BLAME_LOCAL) {
		e->code = EX_OSERR;
		err_prefix(e, "local failure");
	} else if (e != NULL) {
		e->code = EX_PROTOCOL;
	}
	ERR_clear_error();
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	free(c);
	return NULL;
}

void tls_close(struct tls_conn *c)
{
	if (c == NULL)
		return;
	(void)SSL_shutdown(c->ssl);	/* one close_notify, no waiting for the peer's */
	ERR_clear_error();
	SSL_free(c->ssl);
	free(c);
}

bool tls_verified(const struct tls_conn *c)
{
	return c->verified;
}

const char *tls_verify_reason(const struct tls_conn *c)
{
	return c->reason;
}

const char *tls_summary(const struct tls_conn *c)
{
	return c->summary;
}

ssize_t tls_read(struct tls_conn *c, void *p, size_t n, int timeout_ms, struct err *e)
{
	long long deadline = now_ms() + timeout_ms;
	size_t got;
	int r;

	ERR_clear_error();
	/* SSL_read first: bytes may already be decrypted and pending, with nothing on the fd */
	for (;;) {
		errno = 0;	/* so that a failure's errno is the failing call's own */
		if ((r = SSL_read_ex(c->ssl, p, n, &got)) == 1)
			break;
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (wait_io(c, r, deadline, "TLS read", e) < 0)
			return -1;
	}
	return (ssize_t)got;
}

int tls_write(struct tls_conn *c, const void *p, size_t n, int timeout_ms, struct err *e)
{
	long long deadline = now_ms() + timeout_ms;
	const char *q = p;

	ERR_clear_error();
	while (n > 0) {
		size_t put;
		int r;

		errno = 0;	/* so that a failure's errno is the failing call's own */
		if ((r = SSL_write_ex(c->ssl, q, n, &put)) == 1) {
			q += put;
			n -= put;
			continue;
		}
		if (wait_io(c, r, deadline, "TLS write", e) < 0)
			return -1;
	}
	return 0;
}
