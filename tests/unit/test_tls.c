/* test_tls.c - whose failure a failed TLS handshake was (tls_fail_blame): a table of what tls_connect
 * can see, then real handshakes against a peer in a forked child: a peer that closes, talks garbage or
 * stays silent is the peer's failure; every allocation failure injected into OpenSSL on our side, at
 * each point of the handshake in turn, is ours (and so never a reason to send mail in clear). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "queue/wire/tls.h"

#define SSLERR(r) ERR_PACK(ERR_LIB_SSL, 0, (r))

struct blame_row {
	const char *why;
	struct tls_fail f;
	enum tls_blame want;
};

static const struct blame_row rows[] = {
	{ "SSL_new failed", { .local = true, .alert_sent = -1 }, TLS_BLAME_LOCAL },
	{ "poll failed", { .local = true, .sys_errno = EINVAL, .alert_sent = -1 }, TLS_BLAME_LOCAL },
	{ "timeout", { .timeout = true, .alert_sent = -1 }, TLS_BLAME_PEER },
	{ "peer's handshake_failure alert",
	  { .ssl_error = SSL_ERROR_SSL, .errs = { SSLERR(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE) }, .nerrs = 1,
	    .alert_received = true, .alert_sent = -1 }, TLS_BLAME_PEER },
	{ "we refused the peer's version (protocol_version alert)",
	  { .ssl_error = SSL_ERROR_SSL, .errs = { SSLERR(SSL_R_WRONG_VERSION_NUMBER) }, .nerrs = 1,
	    .alert_sent = 70 }, TLS_BLAME_PEER },
	{ "we sent internal_error", { .ssl_error = SSL_ERROR_SSL, .errs = { SSLERR(ERR_R_EVP_LIB) }, .nerrs = 1,
	    .alert_sent = 80 }, TLS_BLAME_LOCAL },
	{ "malloc failure behind a bad_certificate alert",
	  { .ssl_error = SSL_ERROR_SSL, .errs = { ERR_PACK(ERR_LIB_ASN1, 0, ERR_R_MALLOC_FAILURE),
	    SSLERR(ERR_R_ASN1_LIB) }, .nerrs = 2, .alert_sent = 42 }, TLS_BLAME_LOCAL },
	{ "internal error, no alert written", { .ssl_error = SSL_ERROR_SSL,
	    .errs = { SSLERR(ERR_R_INTERNAL_ERROR) }, .nerrs = 1, .alert_sent = -1 }, TLS_BLAME_LOCAL },
	{ "provider error, no alert", { .ssl_error = SSL_ERROR_SSL,
	    .errs = { ERR_PACK(ERR_LIB_PROV, 0, 1) }, .nerrs = 1, .alert_sent = -1 }, TLS_BLAME_LOCAL },
	{ "close_notify during the handshake", { .ssl_error = SSL_ERROR_ZERO_RETURN, .alert_sent = -1 },
	  TLS_BLAME_PEER },
	{ "EOF", { .ssl_error = SSL_ERROR_SYSCALL, .sys_errno = 0, .alert_sent = -1 }, TLS_BLAME_PEER },
	{ "reset", { .ssl_error = SSL_ERROR_SYSCALL, .sys_errno = ECONNRESET, .alert_sent = -1 }, TLS_BLAME_PEER },
	{ "ENOMEM from a system call", { .ssl_error = SSL_ERROR_SYSCALL, .sys_errno = ENOMEM, .alert_sent = -1 },
	  TLS_BLAME_LOCAL },
	{ "EMFILE", { .ssl_error = SSL_ERROR_SYSCALL, .sys_errno = EMFILE, .alert_sent = -1 }, TLS_BLAME_LOCAL },
	{ "unexpected EOF while reading", { .ssl_error = SSL_ERROR_SSL,
	    .errs = { SSLERR(SSL_R_UNEXPECTED_EOF_WHILE_READING) }, .nerrs = 1, .alert_sent = -1 }, TLS_BLAME_PEER },
	{ "plain text where TLS was due (no alert sent)", { .ssl_error = SSL_ERROR_SSL,
	    .errs = { SSLERR(SSL_R_WRONG_VERSION_NUMBER) }, .nerrs = 1, .alert_sent = -1 }, TLS_BLAME_PEER },
	{ "the peer's alert, seen only in the error queue", { .ssl_error = SSL_ERROR_SSL,
	    .errs = { SSLERR(SSL_R_TLSV1_ALERT_INTERNAL_ERROR) }, .nerrs = 1, .alert_sent = -1 }, TLS_BLAME_PEER },
	{ "an SSL error with no evidence against the peer", { .ssl_error = SSL_ERROR_SSL,
	    .errs = { SSLERR(SSL_R_NO_PROTOCOLS_AVAILABLE) }, .nerrs = 1, .alert_sent = -1 }, TLS_BLAME_LOCAL },
	{ "nothing known at all", { .alert_sent = -1 }, TLS_BLAME_LOCAL },
};

Test(tls, blame_table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(tls_fail_blame(&rows[i].f), rows[i].want, "%s", rows[i].why);
}

/* ---------------------------------------------------------------- real handshakes */

#include "tests/unit/ossl_failalloc.h"

static EVP_PKEY *srv_key;
static X509 *srv_cert;

/* make_cert - a self-signed certificate for "localhost" (EC P-256), kept in memory. */
static void make_cert(void)
{
	X509_NAME *n;

	if (srv_cert != NULL)
		return;
	srv_key = EVP_EC_gen("P-256");
	srv_cert = X509_new();
	cr_assert(srv_key != NULL && srv_cert != NULL);
	ASN1_INTEGER_set(X509_get_serialNumber(srv_cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(srv_cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(srv_cert), 3600);
	X509_set_pubkey(srv_cert, srv_key);
	n = X509_get_subject_name(srv_cert);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(srv_cert, n);
	X509_set_version(srv_cert, 2);
	cr_assert(X509_sign(srv_cert, srv_key, EVP_sha256()) > 0);
}

enum peer_kind { PEER_TLS, PEER_CLOSE, PEER_GARBAGE, PEER_SILENT };

/* peer - the other end of a socket pair, in a child: behave as `kind`, then exit. */
static pid_t peer(int *fd, enum peer_kind kind)
{
	int sv[2];
	pid_t pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fflush(NULL);
	cr_assert((pid = fork()) >= 0);
	if (pid == 0) {
		budget = -1;
		close(sv[0]);
		alarm(10);
		if (kind == PEER_TLS) {
			SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
			SSL *ssl;
			char ch;

			SSL_CTX_use_certificate(ctx, srv_cert);
			SSL_CTX_use_PrivateKey(ctx, srv_key);
			ssl = SSL_new(ctx);
			SSL_set_fd(ssl, sv[1]);
			if (SSL_accept(ssl) == 1)
				(void)SSL_read(ssl, &ch, 1);
		} else if (kind == PEER_GARBAGE) {
			char line[] = "220 this is not TLS at all\r\n";

			for (int i = 0; i < 20; i++)
				if (write(sv[1], line, sizeof line - 1) < 0)
					break;
		} else if (kind == PEER_SILENT) {
			pause();
		}
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static void peer_end(pid_t pid, int fd)
{
	close(fd);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* handshake - tls_connect against a peer of `kind`; the conn (closed here) or NULL with e set. */
static bool handshake(struct tls_client_ctx *ctx, enum peer_kind kind, long fail_after, int ms, struct err *e)
{
	struct tls_conn *c;
	int fd;
	pid_t pid = peer(&fd, kind);

	if (kind == PEER_CLOSE) {	/* gone before the first byte: our ClientHello meets EPIPE */
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	err_clear(e);
	ERR_clear_error();
	budget = fail_after;
	c = tls_connect(ctx, fd, "localhost", ms, e);
	budget = -1;
	tls_close(c);
	peer_end(pid, fd);
	return c != NULL;
}

Test(tls, the_peers_failures_are_the_peers)
{
	static const struct {
		enum peer_kind kind;
		const char *why;
	} t[] = { { PEER_CLOSE, "closes" }, { PEER_GARBAGE, "talks plain text" }, { PEER_SILENT, "stays silent" } };
	struct tls_client_ctx *ctx;
	struct err e;

	signal(SIGPIPE, SIG_IGN);
	err_clear(&e);
	cr_assert_not_null(ctx = tls_ctx_new(NULL, NULL, NULL, &e), "%s", e.msg);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		cr_expect_not(handshake(ctx, t[i].kind, -1, 300, &e), "a peer that %s: handshake succeeded", t[i].why);
		cr_expect_eq(e.code, EX_PROTOCOL, "a peer that %s: want the peer's failure, got %d: %s", t[i].why,
		    e.code, e.msg);
		if (t[i].kind == PEER_CLOSE)	/* the failing call's errno, not one cleared after it */
			cr_expect(strstr(e.msg, strerror(EPIPE)) != NULL, "reason: %s", e.msg);
	}
	tls_ctx_free(ctx);
}

Test(tls, our_allocation_failures_are_ours)
{
	struct tls_client_ctx *ctx;
	struct err e;
	long n, tried = 0;
	bool done = false;

	cr_assert(hooks_installed, "CRYPTO_set_mem_functions came too late");
	signal(SIGPIPE, SIG_IGN);
	make_cert();
	err_clear(&e);
	cr_assert_not_null(ctx = tls_ctx_new(NULL, NULL, NULL, &e), "%s", e.msg);
	cr_assert(handshake(ctx, PEER_TLS, -1, 5000, &e), "no handshake without failures: %s", e.msg);
	/* fail the n-th allocation of tls_connect, for every n until the handshake no longer needs it */
	for (n = 0; n < 20000 && !done; n += n < 400 ? 1 : 5) {
		tried++;
		if (handshake(ctx, PEER_TLS, n, 5000, &e)) {
			done = true;
			break;
		}
		cr_assert_eq(e.code, EX_OSERR, "allocation %ld failed: the failure was blamed on the peer "
		    "(code %d): %s", n, e.code, e.msg);
	}
	cr_expect(done, "the handshake never completed within the allocation budgets tried");
	cr_expect_gt(tried, 10, "too few allocation points: %ld", tried);
	tls_ctx_free(ctx);
}
