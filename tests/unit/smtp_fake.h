/* smtp_fake.h - a scripted SMTP server in a forked child on 127.0.0.1, and a client to talk to it,
 * for the SMTP client's unit tests (test_smtp_session.c, test_smtp_faults.c). Included by one test
 * file each; everything is static. */
#ifndef POSTERN_TEST_SMTP_FAKE_H
#define POSTERN_TEST_SMTP_FAKE_H
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "queue/wire/smtp.h"
#include "queue/wire/smtp_int.h"

/* smtp_data - DATA, and on its 354 the body as smtp_data_body sends it: the step the tests drive on
 * its own, which the product only takes inside smtp_envelope. */
static int smtp_data(struct smtp *s, const char *prefix, size_t prefixlen, int fd, long long size, struct err *e)
{
	int r;

	if ((r = smtp_command(s, "DATA", NULL, SMTP_STEP_DATA, e)) != SMTP_OK)
		return r;
	return smtp_data_body(s, prefix, prefixlen, fd, size, e);
}

/* A server step: read one line that must start with `expect` (NULL: read nothing), then send `send`.
 * Special sends: "<TLS>" = "220 go" then the TLS handshake; "<CLOSE>" close; "<SLEEP>" sleep 3 s;
 * "<NAP>" sleep FAKE_NAP_MS (a server that drips its replies). Special expects: "<BODY>" read up to
 * "\r\n.\r\n" into the log, no reply; "<EOF>" read everything into the log until the client closes,
 * then end (server_join waits for that). */
#define FAKE_NAP_MS 300
struct step {
	const char *expect, *send;
};

struct server {
	pid_t pid;
	int port;
	char log[64];		/* what the server received, for the test to read */
};

/* MP - MAIL parameters with only a sender (no SIZE, 7-bit, no DSN requests). */
#define MP(from) (&(struct smtp_mail_params){ .sender = (from) })

static char certfile[64], keyfile[64];

/* make_cert - a self-signed certificate for "localhost" (EC P-256), written to a temp dir. */
static void make_cert(void)
{
	char dir[] = "/tmp/postern-tls-XXXXXX";
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509_EXTENSION *ext;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(certfile, sizeof certfile, "%s/cert.pem", dir);
	snprintf(keyfile, sizeof keyfile, "%s/key.pem", dir);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_version(x, 2);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:localhost");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	cr_assert(X509_sign(x, k, EVP_sha256()) > 0);
	cr_assert_not_null(f = fopen(certfile, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	cr_assert_not_null(f = fopen(keyfile, "w"));
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

struct sconn {
	int fd;
	SSL *ssl;
	FILE *log;
};

static int s_read1(struct sconn *c, char *ch)
{
	return c->ssl ? SSL_read(c->ssl, ch, 1) : (int)read(c->fd, ch, 1);
}

static void s_write(struct sconn *c, const char *p, size_t n)
{
	if (c->ssl)
		SSL_write(c->ssl, p, (int)n);
	else if (write(c->fd, p, n) < 0)
		_exit(3);
}

/* s_line - read one line (through LF) into out; -1 on EOF. */
static int s_line(struct sconn *c, char *out, size_t max)
{
	size_t n = 0;
	char ch;

	while (n + 1 < max) {
		if (s_read1(c, &ch) != 1)
			return -1;
		out[n++] = ch;
		if (ch == '\n')
			break;
	}
	out[n] = '\0';
	fputs(out, c->log);
	fflush(c->log);
	return 0;
}

static void serve(int lfd, const struct step *st, const char *logpath)
{
	struct sconn c = { .fd = accept(lfd, NULL, NULL) };
	char line[4096];

	alarm(20);
	c.log = fopen(logpath, "w");
	for (; st->expect != NULL || st->send != NULL; st++) {
		if (st->expect != NULL) {
			if (strcmp(st->expect, "<EOF>") == 0) {
				while (s_line(&c, line, sizeof line) == 0)
					;
				_exit(0);
			}
			if (strcmp(st->expect, "<BODY>") == 0) {
				do {
					if (s_line(&c, line, sizeof line) < 0)
						_exit(1);
				} while (strcmp(line, ".\r\n") != 0);
			} else if (s_line(&c, line, sizeof line) < 0 ||
				   strncmp(line, st->expect, strlen(st->expect)) != 0) {
				fprintf(c.log, "!! wanted %s\n", st->expect);
				_exit(1);
			}
		}
		if (st->send == NULL)
			continue;
		if (strcmp(st->send, "<CLOSE>") == 0)
			_exit(0);
		if (strcmp(st->send, "<NAP>") == 0) {
			struct timespec ts = { 0, FAKE_NAP_MS * 1000000L };

			nanosleep(&ts, NULL);
			continue;
		}
		if (strcmp(st->send, "<SLEEP>") == 0) {
			sleep(3);
			continue;
		}
		if (strcmp(st->send, "<TLS>") == 0) {
			SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

			s_write(&c, "220 go\r\n", 8);
			SSL_CTX_use_certificate_file(ctx, certfile, SSL_FILETYPE_PEM);
			SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM);
			c.ssl = SSL_new(ctx);
			SSL_set_fd(c.ssl, c.fd);
			if (SSL_accept(c.ssl) != 1)
				_exit(2);
			continue;
		}
		s_write(&c, st->send, strlen(st->send));
	}
	_exit(0);
}

static void server_start(struct server *s, const struct step *st)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 1) == 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	s->port = ntohs(sa.sin_port);
	snprintf(s->log, sizeof s->log, "/tmp/postern-smtp-%d.log", (int)getpid());
	if ((s->pid = fork()) == 0)
		serve(fd, st, s->log);
	close(fd);
}

/* server_log - wait for the child (after SIGTERM if term); returns what it received. */
static char *server_log(struct server *s, bool term)
{
	struct buf b;
	char tmp[4096];
	size_t n;
	FILE *f;

	if (term)
		kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	buf_init(&b, 1 << 20);
	if ((f = fopen(s->log, "r")) != NULL) {
		while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
			cr_assert_eq(buf_add(&b, tmp, n), 0);
		fclose(f);
	}
	unlink(s->log);
	return buf_take(&b);
}

/* server_end - stop the child; returns what it received. */
static char *server_end(struct server *s)
{
	return server_log(s, true);
}

/* server_join - wait until the child's script ends (an "<EOF>" step: until the client closed), so
 * that everything the client wrote is in the log; returns it. */
static char *server_join(struct server *s)
{
	return server_log(s, false);
}

static void record(void *ctx, enum smtp_dir dir, const char *line, size_t len)
{
	struct buf *b = ctx;

	cr_assert_eq(buf_printf(b, "%s %.*s\n", dir == SMTP_DIR_IN ? "<" : ">", (int)len, line), 0);
}

static struct buf transcript;

/* client_to - a client connected to s with the timeouts to. */
static struct smtp *client_to(const struct server *s, const struct smtp_timeouts *to)
{
	struct smtp_opts o = { *to, record, &transcript };
	struct smtp *c = smtp_new(&o);
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct err e;

	cr_assert_eq(smtp_connect(c, lo, s->port, &e), SMTP_OK, "%s", e.msg);
	return c;
}

/* client - every step's timeout ms, no wall-clock limits. */
static struct smtp *client(const struct server *s, int ms)
{
	struct smtp_timeouts to = { ms, ms, ms, ms, ms, ms };

	return client_to(s, &to);
}

static int msgfd(const char *body)
{
	char path[] = "/tmp/postern-msg-XXXXXX";
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	unlink(path);
	cr_assert_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	return fd;
}

static long long fsize(int fd)
{
	struct stat st;

	cr_assert_eq(fstat(fd, &st), 0);
	return (long long)st.st_size;
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	buf_init(&transcript, 1 << 20);
}

static void teardown(void)
{
	buf_free(&transcript);
}

#endif
