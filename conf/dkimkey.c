/*
 * dkimkey.c - DKIM private keys: load, sign a digest, generate, write, print the DNS record.
 *
 * SECURITY
 *	dkimkey_load and dkimkey_sign run in the privileged (setgid) parent. What the caller controls:
 *	the 32 bytes of the digest (any value is fine to sign: it is what the child computed over the
 *	caller's message, and the signature binds our d= to it, which is the point). What the caller
 *	does not control: the key path (configuration). The key file is opened without following
 *	symlinks, checked with fstat on the open descriptor (no race between check and use), read with
 *	a ceiling, and its bytes are wiped after parsing. A key that others could read or replace is
 *	refused with the reason and the chmod that fixes it.
 * DIAGNOSTICS
 *	"PATH: mode 0644 is world-readable; chmod 0640", "PATH: RSA key of 512 bits is too weak
 *	(RFC 8301: at least 1024)", "PATH: No such file or directory", ... with EX_CONFIG (78).
 */
#include "conf/dkimkey.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "lib/limits.h"

#define DKIMKEY_CHUNK 4096	/* what one read() of the key file takes */


/* no_password - PEM password callback: postern never prompts, so an encrypted key fails to load. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* check_mode - refuse a secret that others could change or read (DESIGN.md, privilege model). */
static int check_mode(const char *path, mode_t m, struct err *e)
{
	const char *why = NULL;

	if (m & S_IWOTH)
		why = "world-writable";
	else if (m & S_IWGRP)
		why = "group-writable";
	else if (m & S_IROTH)
		why = "world-readable";
	if (why != NULL)
		return err_set(e, EX_CONFIG, "%s: mode %04o is %s; chmod 0640", path, (unsigned)(m & 07777),
			why);
	return 0;
}

/* read_key_file - the whole file, bounded, into a buffer the caller wipes. */
static int read_key_file(const char *path, struct buf *b, struct err *e)
{
	struct stat st;
	char chunk[DKIMKEY_CHUNK];
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (errno == ELOOP)
			return err_set(e, EX_CONFIG, "%s: is a symbolic link; refusing it", path);
		return err_set(e, EX_CONFIG, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		err_set(e, EX_CONFIG, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, EX_CONFIG, "%s: not a regular file", path);
		goto fail;
	}
	if (check_mode(path, st.st_mode, e) < 0)
		goto fail;
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, EX_CONFIG, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		if (buf_add(b, chunk, (size_t)r) < 0) {
			err_set(e, EX_CONFIG, "%s: larger than %d bytes; not a DKIM key", path, LIM_KEY_FILE);
			goto fail;
		}
	}
	OPENSSL_cleanse(chunk, sizeof chunk);
	close(fd);
	return 0;
fail:
	OPENSSL_cleanse(chunk, sizeof chunk);
	close(fd);
	return -1;
}

/* check_key - the key types and sizes postern signs with. */
static int check_key(const char *path, EVP_PKEY *k, struct buf *warn, struct err *e)
{
	int bits;

	if (EVP_PKEY_is_a(k, "ED25519"))
		return 0;
	if (!EVP_PKEY_is_a(k, "RSA"))
		return err_set(e, EX_CONFIG, "%s: a %s key; DKIM signs with RSA or Ed25519 only", path,
			EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "unknown");
	bits = EVP_PKEY_get_bits(k);
	if (bits < DKIMKEY_RSA_MIN)
		return err_set(e, EX_CONFIG, "%s: RSA key of %d bits is too weak (RFC 8301: at least %d)", path,
			bits, DKIMKEY_RSA_MIN);
	if (bits > DKIMKEY_RSA_MAX)
		return err_set(e, EX_CONFIG, "%s: RSA key of %d bits is larger than %d", path, bits,
			DKIMKEY_RSA_MAX);
	if (bits < DKIMKEY_RSA_WARN && warn != NULL) {
		buf_reset(warn);
		if (buf_printf(warn, "%s: RSA key of %d bits; %d or more is recommended (RFC 8301)", path, bits,
			    DKIMKEY_RSA_WARN) < 0)
			buf_reset(warn);
	}
	return 0;
}

int dkimkey_load(const char *path, EVP_PKEY **out, struct buf *warn, struct err *e)
{
	struct buf b;
	EVP_PKEY *k = NULL;
	BIO *bio;

	*out = NULL;
	if (warn != NULL)
		buf_reset(warn);
	buf_init(&b, LIM_KEY_FILE);
	if (read_key_file(path, &b, e) < 0)
		goto fail;
	if (b.len == 0) {
		err_set(e, EX_CONFIG, "%s: empty file; not a PEM private key", path);
		goto fail;
	}
	if ((bio = BIO_new_mem_buf(b.data, (int)b.len)) == NULL)
		abort();
	k = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	if (k == NULL) {
		err_set(e, EX_CONFIG, "%s: not an unencrypted PEM private key (PKCS#8 or RSA)", path);
		goto fail;
	}
	if (check_key(path, k, warn, e) < 0)
		goto fail;
	OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	*out = k;
	return 0;
fail:
	EVP_PKEY_free(k);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	return -1;
}

enum dkim_alg dkimkey_alg(EVP_PKEY *k)
{
	return EVP_PKEY_is_a(k, "ED25519") ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256;
}

/* b64_add - append the base64 of p (no line breaks). */
static int b64_add(struct buf *out, const unsigned char *p, size_t n)
{
	size_t want = 4 * ((n + 2) / 3);
	unsigned char *tmp;
	int r;

	if (n > (size_t)1 << 20)
		return -1;
	tmp = xcalloc(want + 1, 1);
	r = EVP_EncodeBlock(tmp, p, (int)n);
	r = (r < 0 || (size_t)r != want) ? -1 : buf_add(out, tmp, want);
	free(tmp);
	return r;
}

int dkimkey_sign(EVP_PKEY *k, const unsigned char digest[DKIMKEY_DIGEST_LEN], struct buf *b64, struct err *e)
{
	unsigned char sig[DKIMKEY_SIG_MAX];
	size_t siglen = sizeof sig;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx = NULL;
	int ok = 0;

	buf_reset(b64);
	if (dkimkey_alg(k) == DKIM_ED25519_SHA256) {
		/* RFC 8463 3: the Ed25519 message is the SHA-256 hash itself (PureEdDSA, no prehash). */
		if ((mctx = EVP_MD_CTX_new()) == NULL)
			abort();
		ok = EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
			EVP_DigestSign(mctx, sig, &siglen, digest, 32) == 1;
		EVP_MD_CTX_free(mctx);
	} else {
		/* RFC 6376 3.3.1: RSASSA-PKCS1-v1_5 with a SHA-256 DigestInfo around the digest. */
		if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL)
			abort();
		ok = EVP_PKEY_sign_init(pctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
			EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1 &&
			EVP_PKEY_sign(pctx, sig, &siglen, digest, 32) == 1;
		EVP_PKEY_CTX_free(pctx);
	}
	if (!ok)
		return err_set(e, EX_SOFTWARE, "DKIM signing failed (OpenSSL)");
	if (b64_add(b64, sig, siglen) < 0)
		return err_set(e, EX_SOFTWARE, "DKIM signature does not fit");
	return 0;
}

int dkimkey_record(EVP_PKEY *k, struct buf *txt, struct err *e)
{
	unsigned char raw[DKIMKEY_ED25519_LEN], *der = NULL;
	size_t rawlen = sizeof raw;
	int n, r;

	buf_reset(txt);
	if (dkimkey_alg(k) == DKIM_ED25519_SHA256) {
		if (EVP_PKEY_get_raw_public_key(k, raw, &rawlen) != 1 || rawlen != 32)
			return err_set(e, EX_SOFTWARE, "cannot get the Ed25519 public key");
		if (buf_adds(txt, "v=DKIM1; k=ed25519; p=") < 0 || b64_add(txt, raw, rawlen) < 0)
			return err_set(e, EX_SOFTWARE, "DKIM record does not fit");
		return 0;
	}
	if ((n = i2d_PUBKEY(k, &der)) <= 0)
		return err_set(e, EX_SOFTWARE, "cannot encode the RSA public key");
	r = buf_adds(txt, "v=DKIM1; k=rsa; p=") < 0 || b64_add(txt, der, (size_t)n) < 0 ? -1 : 0;
	OPENSSL_free(der);
	if (r < 0)
		return err_set(e, EX_SOFTWARE, "DKIM record does not fit");
	return 0;
}

int dkimkey_zone_line(const char *selector, const char *domain, const char *txt, struct buf *out)
{
	size_t n = strlen(txt), i, take;
	const char *p;

	for (p = txt; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return -1;
	for (p = selector; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p > 0x7e)
			return -1;
	for (p = domain; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p > 0x7e)
			return -1;
	if (buf_printf(out, "%s._domainkey.%s. IN TXT (", selector, domain) < 0)
		return -1;
	for (i = 0; i < n; i += take) {
		take = n - i > 255 ? 255 : n - i;
		if (buf_adds(out, " \"") < 0 || buf_add(out, txt + i, take) < 0 || buf_addc(out, '"') < 0)
			return -1;
	}
	return buf_adds(out, " )");
}

int dkimkey_generate(enum dkim_alg type, int bits, EVP_PKEY **out, struct err *e)
{
	*out = NULL;
	if (type == DKIM_ED25519_SHA256)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (bits < DKIMKEY_RSA_MIN || bits > DKIMKEY_RSA_MAX)
		return err_set(e, EX_USAGE, "RSA key size %d out of range %d..%d", bits, DKIMKEY_RSA_MIN,
			DKIMKEY_RSA_MAX);
	else
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (*out == NULL)
		return err_set(e, EX_SOFTWARE, "key generation failed (OpenSSL)");
	return 0;
}

/* pem_pkcs8 - the key as unencrypted PKCS#8 PEM in memory (wiped by the caller). */
static int pem_pkcs8(EVP_PKEY *k, struct buf *pem)
{
	BIO *bio;
	char *p;
	long n;
	int r = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		abort();
	if (PEM_write_bio_PKCS8PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1 &&
		(n = BIO_get_mem_data(bio, &p)) > 0) {
		r = buf_add(pem, p, (size_t)n);
		OPENSSL_cleanse(p, (size_t)n); /* the secret must not linger in freed memory */
	}
	BIO_free(bio);
	return r;
}

/* write_all - write n bytes, retrying on EINTR and short writes. */
static int write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync_dir - make the rename/link of path durable. */
static int fsync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, r = -1;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		r = fsync(fd);
		close(fd);
	}
	free(copy);
	return r;
}

int dkimkey_write(EVP_PKEY *k, const char *path, gid_t gid, bool force, struct err *e)
{
	struct buf pem, tmp;
	struct stat st;
	int fd = -1, r = -1;

	buf_init(&pem, LIM_KEY_FILE);
	buf_init(&tmp, 4096);
	if (buf_printf(&tmp, "%s.tmp", path) < 0)
		return err_set(e, EX_CANTCREAT, "%s: path too long", path);
	if (!force && lstat(path, &st) == 0) {
		err_set(e, EX_CANTCREAT, "%s: exists; not replacing a key (use --force)", path);
		goto out;
	}
	if (pem_pkcs8(k, &pem) < 0) {
		err_set(e, EX_SOFTWARE, "%s: cannot encode the key (OpenSSL)", path);
		goto out;
	}
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0) {
		err_set(e, EX_CANTCREAT, "%s: %s%s", buf_str(&tmp), strerror(errno),
			errno == EEXIST ? " (left over from an earlier run? remove it)" : "");
		goto out;
	}
	/* the umask may have taken bits away; the mode is part of the contract */
	if (fchmod(fd, 0640) < 0 || (geteuid() == 0 && gid != (gid_t)-1 && fchown(fd, 0, gid) < 0) ||
		write_all(fd, pem.data, pem.len) < 0 || fsync(fd) < 0) {
		err_set(e, EX_CANTCREAT, "%s: %s", buf_str(&tmp), strerror(errno));
		goto unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, EX_CANTCREAT, "%s: %s", buf_str(&tmp), strerror(errno));
		goto unlink;
	}
	fd = -1;
	/* without force, link() fails with EEXIST if a key appeared meanwhile: never replace one */
	if (force ? rename(buf_str(&tmp), path) < 0 : link(buf_str(&tmp), path) < 0) {
		err_set(e, EX_CANTCREAT, "%s: %s", path, strerror(errno));
		goto unlink;
	}
	if (!force)
		(void)unlink(buf_str(&tmp));
	if (fsync_dir(path) < 0) {
		err_set(e, EX_CANTCREAT, "%s: fsync of its folder: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
	goto out;
unlink:
	if (fd >= 0)
		close(fd);
	(void)unlink(buf_str(&tmp));
out:
	if (pem.data != NULL)
		OPENSSL_cleanse(pem.data, pem.len);
	buf_free(&pem);
	buf_free(&tmp);
	return r;
}
