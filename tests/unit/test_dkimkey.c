/*
 * test_dkimkey.c - DKIM key loading (modes, formats, sizes), signing round trips, DNS record and zone
 * line formats, key writing, and the dkim-keygen / dkim-record subcommands.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "conf/dkimkey.h"
#include "conf/keygen.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof dir, "%s", "/tmp/test_dkimkey_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(dkimkey, .init = mkdir_tmp, .fini = rm_tmp);

/* put_file - write a file in the temp folder with a mode; returns its path (static per call site). */
static const char *put_file(const char *name, const void *p, size_t n, mode_t mode, char *path, size_t sz)
{
	int fd;

	snprintf(path, sz, "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
	return path;
}

static char *pem_of(EVP_PKEY *k, int traditional)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	if (traditional)
		cr_assert(PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL) == 1);
	else
		cr_assert(PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1);
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

static const char rfc_ed_seed_b64[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
static const char rfc_rsa_pem[] = "-----BEGIN RSA PRIVATE KEY-----\n"
	"MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
	"Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
	"KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
	"AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
	"6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
	"zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
	"6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
	"uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
	"WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
	"WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
	"licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
	"o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
	"uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
	"-----END RSA PRIVATE KEY-----\n";

static EVP_PKEY *rfc_ed_key(void)
{
	unsigned char seed[33];

	cr_assert_eq(EVP_DecodeBlock(seed, (const unsigned char *)rfc_ed_seed_b64, 44), 33);
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

struct mode_case {
	mode_t mode;
	const char *want_err;	/* after "PATH: "; NULL = loads */
};

static const struct mode_case mode_cases[] = {
	{ 0600, NULL },
	{ 0640, NULL },
	{ 0400, NULL },
	{ 0440, NULL },
	{ 0644, "mode 0644 is world-readable; chmod 0640" },
	{ 0604, "mode 0604 is world-readable; chmod 0640" },
	{ 0660, "mode 0660 is group-writable; chmod 0640" },
	{ 0620, "mode 0620 is group-writable; chmod 0640" },
	{ 0602, "mode 0602 is world-writable; chmod 0640" },
	{ 0666, "mode 0666 is world-writable; chmod 0640" },
	{ 04640, "mode 4640 is" /* not reached: setuid alone is not refused */ },
};

Test(dkimkey, load_modes)
{
	EVP_PKEY *ed = rfc_ed_key();
	char *pem = pem_of(ed, 0), path[256], want[512];
	struct err e = { 0 };
	EVP_PKEY *k;

	for (size_t i = 0; i < sizeof mode_cases / sizeof mode_cases[0] - 1; i++) {
		put_file("k.key", pem, strlen(pem), mode_cases[i].mode, path, sizeof path);
		int r = dkimkey_load(path, &k, NULL, &e);
		if (mode_cases[i].want_err == NULL) {
			cr_assert_eq(r, 0, "mode %o: %s", mode_cases[i].mode, e.msg);
			cr_assert_eq(dkimkey_alg(k), DKIM_ED25519_SHA256);
			EVP_PKEY_free(k);
		} else {
			cr_assert_eq(r, -1, "mode %o", mode_cases[i].mode);
			cr_assert_null(k);
			cr_assert_eq(e.code, EX_CONFIG);
			snprintf(want, sizeof want, "%s: %s", path, mode_cases[i].want_err);
			cr_assert_str_eq(e.msg, want);
		}
	}
	free(pem);
	EVP_PKEY_free(ed);
}

Test(dkimkey, load_refuses_bad_files)
{
	char path[256], link[256], want[512], *big;
	struct err e = { 0 };
	EVP_PKEY *k;

	snprintf(path, sizeof path, "%s/missing.key", dir);
	cr_assert_eq(dkimkey_load(path, &k, NULL, &e), -1);
	cr_assert_eq(e.code, EX_CONFIG);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	cr_assert_str_eq(e.msg, want);

	cr_assert_eq(dkimkey_load(dir, &k, NULL, &e), -1);
	cr_assert_eq(e.code, EX_CONFIG);

	put_file("empty.key", "", 0, 0600, path, sizeof path);
	cr_assert_eq(dkimkey_load(path, &k, NULL, &e), -1);
	cr_assert(strstr(e.msg, "empty file") != NULL, "%s", e.msg);

	put_file("junk.key", "-----BEGIN PRIVATE KEY-----\nnot base64 !!\n-----END PRIVATE KEY-----\n", 64, 0600,
		path, sizeof path);
	cr_assert_eq(dkimkey_load(path, &k, NULL, &e), -1);
	cr_assert(strstr(e.msg, "not an unencrypted PEM private key") != NULL, "%s", e.msg);

	put_file("nul.key", "\0\0\0\0", 4, 0600, path, sizeof path);
	cr_assert_eq(dkimkey_load(path, &k, NULL, &e), -1);
	cr_assert_eq(e.code, EX_CONFIG);

	/* a symlink to a good key is refused (O_NOFOLLOW) */
	EVP_PKEY *ed = rfc_ed_key();
	char *pem = pem_of(ed, 0);
	put_file("good.key", pem, strlen(pem), 0600, path, sizeof path);
	snprintf(link, sizeof link, "%s/link.key", dir);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(dkimkey_load(link, &k, NULL, &e), -1);
	cr_assert(strstr(e.msg, "symbolic link") != NULL, "%s", e.msg);

	/* over LIM_KEY_FILE: a valid key followed by padding */
	big = calloc(1, 70000);
	memcpy(big, pem, strlen(pem));
	memset(big + strlen(pem), '\n', 70000 - strlen(pem));
	put_file("big.key", big, 70000, 0600, path, sizeof path);
	cr_assert_eq(dkimkey_load(path, &k, NULL, &e), -1);
	cr_assert(strstr(e.msg, "larger than 65536 bytes") != NULL, "%s", e.msg);
	free(big);
	free(pem);

	/* an encrypted key: never prompted for */
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	cr_assert(PEM_write_bio_PKCS8PrivateKey(b, ed, EVP_aes_128_cbc(), "pw", 2, NULL, NULL) == 1);
	long n = BIO_get_mem_data(b, &p);
	put_file("enc.key", p, (size_t)n, 0600, path, sizeof path);
	BIO_free(b);
	cr_assert_eq(dkimkey_load(path, &k, NULL, &e), -1);
	cr_assert_eq(e.code, EX_CONFIG);

	/* an EC key: not a DKIM algorithm */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	pem = pem_of(ec, 0);
	put_file("ec.key", pem, strlen(pem), 0600, path, sizeof path);
	cr_assert_eq(dkimkey_load(path, &k, NULL, &e), -1);
	cr_assert(strstr(e.msg, "RSA or Ed25519 only") != NULL, "%s", e.msg);
	free(pem);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
}

Test(dkimkey, load_rsa_sizes)
{
	struct { int bits; int ok; int warn; } cases[] = { { 512, 0, 0 }, { 1024, 1, 1 }, { 2048, 1, 0 } };
	char path[256];
	struct buf warn;
	struct err e = { 0 };
	EVP_PKEY *k;

	buf_init(&warn, 512);
	for (size_t i = 0; i < 3; i++) {
		EVP_PKEY *g = EVP_RSA_gen((unsigned)cases[i].bits);
		cr_assert_not_null(g);
		for (int trad = 0; trad < 2; trad++) { /* PKCS#8 and PKCS#1 "RSA PRIVATE KEY" */
			char *pem = pem_of(g, trad);
			put_file("rsa.key", pem, strlen(pem), 0640, path, sizeof path);
			free(pem);
			int r = dkimkey_load(path, &k, &warn, &e);
			if (!cases[i].ok) {
				cr_assert_eq(r, -1);
				cr_assert_eq(e.code, EX_CONFIG);
				cr_assert(strstr(e.msg, "RSA key of 512 bits is too weak (RFC 8301: at least 1024)"),
					"%s", e.msg);
				continue;
			}
			cr_assert_eq(r, 0, "%s", e.msg);
			cr_assert_eq(dkimkey_alg(k), DKIM_RSA_SHA256);
			if (cases[i].warn)
				cr_assert(strstr(buf_str(&warn), "RSA key of 1024 bits; 2048 or more is recommended"),
					"%s", buf_str(&warn));
			else
				cr_assert_str_eq(buf_str(&warn), "");
			EVP_PKEY_free(k);
		}
		EVP_PKEY_free(g);
	}
	buf_free(&warn);
}

/* verify - an independent check with OpenSSL's verify operations. */
static int verify(EVP_PKEY *k, const unsigned char digest[32], const char *b64)
{
	unsigned char sig[1100];
	size_t n = strlen(b64);
	int len = EVP_DecodeBlock(sig, (const unsigned char *)b64, (int)n), ok;

	cr_assert(len > 0);
	len -= (n >= 1 && b64[n - 1] == '=') + (n >= 2 && b64[n - 2] == '=');
	if (dkimkey_alg(k) == DKIM_ED25519_SHA256) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		ok = EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
		     EVP_DigestVerify(m, sig, (size_t)len, digest, 32) == 1;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
		ok = EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
		     EVP_PKEY_verify(c, sig, (size_t)len, digest, 32) == 1;
		EVP_PKEY_CTX_free(c);
	}
	return ok;
}

Test(dkimkey, sign_verify_round_trip)
{
	unsigned char digest[32];
	struct buf b64;
	struct err e = { 0 };
	EVP_PKEY *k;

	buf_init(&b64, DKIMKEY_B64_MAX);
	for (int i = 0; i < 32; i++)
		digest[i] = (unsigned char)(i * 7 + 1);
	for (int t = 0; t < 2; t++) {
		cr_assert_eq(dkimkey_generate(t ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256, 2048, &k, &e), 0);
		cr_assert_eq(dkimkey_sign(k, digest, &b64, &e), 0, "%s", e.msg);
		cr_assert_eq(b64.len, t ? 88u : 344u);
		cr_assert_null(strchr(buf_str(&b64), '\n'));
		cr_assert(verify(k, digest, buf_str(&b64)));
		digest[0] ^= 1;
		cr_assert(!verify(k, digest, buf_str(&b64)), "a changed digest must not verify");
		digest[0] ^= 1;
		EVP_PKEY_free(k);
	}
	cr_assert_eq(dkimkey_generate(DKIM_RSA_SHA256, 512, &k, &e), -1);
	buf_free(&b64);
}

Test(dkimkey, record_formats)
{
	EVP_PKEY *ed = rfc_ed_key(), *rsa;
	BIO *b = BIO_new_mem_buf(rfc_rsa_pem, -1);
	struct buf txt;
	struct err e = { 0 };

	rsa = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	cr_assert_not_null(rsa);
	buf_init(&txt, DKIMKEY_RECORD_MAX);
	/* RFC 8463 A.2's published records */
	cr_assert_eq(dkimkey_record(ed, &txt, &e), 0);
	cr_assert_str_eq(buf_str(&txt), "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	cr_assert_eq(dkimkey_record(rsa, &txt, &e), 0);
	cr_assert_str_eq(buf_str(&txt),
		"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6w"
		"y5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO"
		"9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
	buf_free(&txt);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
}

Test(dkimkey, zone_line)
{
	struct buf out, txt;
	struct err e = { 0 };
	EVP_PKEY *k;
	const char *p;
	size_t total = 0, nstr = 0;

	buf_init(&out, 16384);
	cr_assert_eq(dkimkey_zone_line("s1", "example.com", "v=DKIM1; k=ed25519; p=AAAA", &out), 0);
	cr_assert_str_eq(buf_str(&out), "s1._domainkey.example.com. IN TXT ( \"v=DKIM1; k=ed25519; p=AAAA\" )");
	buf_reset(&out);
	cr_assert_eq(dkimkey_zone_line("s1", "example.com", "a\"b", &out), -1);
	cr_assert_eq(dkimkey_zone_line("s1", "example.com", "a\\b", &out), -1);
	cr_assert_eq(dkimkey_zone_line("s1", "example.com", "a\nb", &out), -1);
	cr_assert_eq(dkimkey_zone_line("s 1", "example.com", "ab", &out), -1);

	/* a 4096-bit key: the value is cut into strings of exactly 255 octets and a rest */
	buf_init(&txt, DKIMKEY_RECORD_MAX);
	cr_assert_eq(dkimkey_generate(DKIM_RSA_SHA256, 4096, &k, &e), 0);
	cr_assert_eq(dkimkey_record(k, &txt, &e), 0);
	cr_assert_gt(txt.len, 510u);
	cr_assert_eq(dkimkey_zone_line("big", "example.org", buf_str(&txt), &out), 0);
	p = buf_str(&out);
	cr_assert_eq(strncmp(p, "big._domainkey.example.org. IN TXT ( \"", 38), 0);
	for (p = strchr(p, '"'); p != NULL; p = strchr(p, '"')) {
		const char *q = strchr(p + 1, '"');
		size_t n = (size_t)(q - p - 1);
		cr_assert_leq(n, 255u);
		cr_assert(n == 255 || total + n == txt.len, "only the last string is short");
		cr_assert_eq(memcmp(p + 1, txt.data + total, n), 0);
		total += n;
		nstr++;
		p = q + 1;
	}
	cr_assert_eq(total, txt.len);
	cr_assert_eq(nstr, (txt.len + 254) / 255);
	cr_assert_str_eq(buf_str(&out) + out.len - 3, "\" )");
	cr_assert_null(strchr(buf_str(&out), '\n'));
	EVP_PKEY_free(k);
	buf_free(&txt);
	buf_free(&out);
}

Test(dkimkey, write_modes_and_no_overwrite)
{
	char path[256], tmp[300];
	struct stat st;
	struct err e = { 0 };
	EVP_PKEY *k, *k2, *back;

	snprintf(path, sizeof path, "%s/w.key", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	cr_assert_eq(dkimkey_generate(DKIM_ED25519_SHA256, 0, &k, &e), 0);
	cr_assert_eq(dkimkey_generate(DKIM_ED25519_SHA256, 0, &k2, &e), 0);
	umask(077);
	cr_assert_eq(dkimkey_write(k, path, (gid_t)-1, false, &e), 0, "%s", e.msg);
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(st.st_nlink, 1u);
	cr_assert_neq(access(tmp, F_OK), 0);
	cr_assert_eq(dkimkey_load(path, &back, NULL, &e), 0);
	cr_assert(EVP_PKEY_eq(k, back) == 1);
	EVP_PKEY_free(back);
	/* an existing key is kept unless forced */
	cr_assert_eq(dkimkey_write(k2, path, (gid_t)-1, false, &e), -1);
	cr_assert_eq(e.code, EX_CANTCREAT);
	cr_assert(strstr(e.msg, "exists") != NULL);
	cr_assert_eq(dkimkey_load(path, &back, NULL, &e), 0);
	cr_assert(EVP_PKEY_eq(k, back) == 1);
	EVP_PKEY_free(back);
	cr_assert_eq(dkimkey_write(k2, path, (gid_t)-1, true, &e), 0, "%s", e.msg);
	cr_assert_eq(dkimkey_load(path, &back, NULL, &e), 0);
	cr_assert(EVP_PKEY_eq(k2, back) == 1);
	EVP_PKEY_free(back);
	cr_assert_neq(access(tmp, F_OK), 0);
	/* a symlink planted at PATH.tmp is not followed */
	snprintf(path, sizeof path, "%s/x.key", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	cr_assert_eq(symlink("/tmp/nonexistent-target-of-test", tmp), 0);
	cr_assert_eq(dkimkey_write(k, path, (gid_t)-1, false, &e), -1);
	cr_assert_neq(access("/tmp/nonexistent-target-of-test", F_OK), 0);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* run - call a subcommand, capturing its output and errors. */
static int run(int (*fn)(const struct config *, int, char **, FILE *, FILE *), const struct config *c,
	char **argv, char **out, char **err)
{
	size_t ol, el;
	FILE *o = open_memstream(out, &ol), *e = open_memstream(err, &el);
	int argc = 0, r;

	while (argv[argc] != NULL)
		argc++;
	r = fn(c, argc, argv, o, e);
	fclose(o);
	fclose(e);
	return r;
}

Test(dkimkey, keygen_and_record_commands)
{
	char path[256], *out, *err, want[512];
	struct config c;
	struct conf_dkim_key dk;

	memset(&c, 0, sizeof c);
	snprintf(path, sizeof path, "%s/sel.example.com.key", dir);
	char *a1[] = { "dkim-keygen", "Example.COM", "sel", "--type", "ed25519", "--out", path, NULL };
	cr_assert_eq(run(keygen_main, &c, a1, &out, &err), 0, "%s", err);
	snprintf(want, sizeof want, "Add to /etc/postern/postern.conf:\n  dkim example.com sel %s\n", path);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	cr_assert(strstr(out, "sel._domainkey.example.com. IN TXT ( \"v=DKIM1; k=ed25519; p=") != NULL, "%s", out);
	cr_assert(strstr(out, "  Name:  sel._domainkey.example.com\n  Type:  TXT\n  Value: v=DKIM1; k=ed25519; p=") != NULL);
	char *first = out;
	free(err);

	/* again: refused, the key is kept */
	cr_assert_eq(run(keygen_main, &c, a1, &out, &err), EX_CANTCREAT);
	cr_assert(strstr(err, "exists") != NULL, "%s", err);
	free(out);
	free(err);

	/* dkim-record finds it through the configuration and prints the same record */
	dk.domain = "example.com";
	dk.selector = "sel";
	dk.keyfile = path;
	c.dkim = &dk;
	c.ndkim = 1;
	c.path = "/etc/test.conf";
	char *a2[] = { "dkim-record", "example.com", "sel", NULL };
	cr_assert_eq(run(keyrecord_main, &c, a2, &out, &err), 0, "%s", err);
	cr_assert(strstr(first, out) != NULL, "record differs:\n%s\n---\n%s", out, first);
	free(out);
	free(err);
	free(first);

	char *a3[] = { "dkim-record", "example.com", "other", NULL };
	cr_assert_eq(run(keyrecord_main, &c, a3, &out, &err), EX_CONFIG);
	cr_assert_str_eq(err, "postern dkim-record: no \"dkim example.com other\" line in /etc/test.conf (or give --key FILE)\n");
	free(out);
	free(err);

	struct { char *argv[8]; int want; } bad[] = {
		{ { "dkim-keygen", NULL }, 64 },
		{ { "dkim-keygen", "example.com", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "sel", "extra", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "sel", "--type", "dsa", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "sel", "--bits", "512", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "sel", "--bits", "2048x", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "sel", "--bits", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "sel", "--nope", NULL }, 64 },
		{ { "dkim-keygen", "../../etc", "sel", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "a/b", NULL }, 64 },
		{ { "dkim-keygen", "example.com", "-x.y", NULL }, 64 },
		{ { "dkim-keygen", "exa mple.com", "s", NULL }, 64 },
		{ { "dkim-record", "example.com", "sel", "--force", NULL }, 64 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int (*fn)(const struct config *, int, char **, FILE *, FILE *) =
			strcmp(bad[i].argv[0], "dkim-record") == 0 ? keyrecord_main : keygen_main;
		cr_assert_eq(run(fn, &c, bad[i].argv, &out, &err), bad[i].want, "case %zu", i);
		cr_assert_str_eq(out, "", "case %zu", i);
		cr_assert_neq(strlen(err), 0u, "case %zu", i);
		free(out);
		free(err);
	}
}
