/*
 * test_sign.c - DKIM signing on the queue side (queue/run/sign.c): a stored message is signed with the
 * From domain's keys (or its nearest parent's), the fields verify against the public keys, and key
 * problems hold the message (dkim_required yes) or let it go unsigned (no), with the reason.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "conf/config.h"
#include "conf/dkimkey.h"
#include "lib/hdr.h"
#include "queue/run/dkim.h"
#include "queue/run/sign.h"

static char dir[64];
static EVP_PKEY *ed, *rsa;

static void setup(void)
{
	struct err e;

	snprintf(dir, sizeof dir, "%s", "/tmp/test_sign_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	err_clear(&e);
	cr_assert_eq(dkimkey_generate(DKIM_ED25519_SHA256, 0, &ed, &e), 0, "%s", e.msg);
	cr_assert_eq(dkimkey_generate(DKIM_RSA_SHA256, 2048, &rsa, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	char cmd[128];

	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(sign, .init = setup, .fini = teardown);

/* key_file - k written as dir/name with mode (or a symlink to dir/target when mode is 0). */
static void key_file(EVP_PKEY *k, const char *name, mode_t mode)
{
	char path[256];
	struct err e;

	err_clear(&e);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_eq(dkimkey_write(k, path, (gid_t)-1, true, &e), 0, "%s", e.msg);
	cr_assert_eq(chmod(path, mode), 0);
}

/* config - the configuration text with every "@" replaced by the temp folder. */
static void config(struct config *c, const char *text)
{
	char buf[2048];
	size_t n = 0;
	struct err e;

	for (const char *p = text; *p && n + sizeof dir < sizeof buf; p++)
		if (*p == '@')
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", dir);
		else
			buf[n++] = *p;
	buf[n] = '\0';
	err_clear(&e);
	conf_defaults(c);
	cr_assert_eq(conf_parse(c, buf, n, "t.conf", &e), 0, "%s", e.msg);
}

/* stored - a spool data file holding msg (then some envelope text, as in the spool), and its size. */
static int stored(const char *msg, long long *size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof path, "%s/data", dir);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	cr_assert_eq(write(fd, "VERSION 1\n", 10), 10);	/* not message text: never hashed */
	*size = (long long)strlen(msg);
	return fd;
}

/* expected - the DKIM-Signature field for msg, built by hand from its parts with key k (RSA PKCS#1
 * v1.5 and Ed25519 signatures are deterministic, so the signer's must be the same bytes). */
static void expected(const char *msg, EVP_PKEY *k, const char *d, const char *sel, enum dkim_canon hc,
    enum dkim_canon bc, long long t, struct buf *sig)
{
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	struct dkim_sig_params p = { 0 };
	struct hdr_field *f = NULL;
	unsigned char bh[32], digest[32];
	struct dkim_body *db = dkim_body_new(bc);
	struct buf b64;
	size_t nf = 0;
	struct err e;

	err_clear(&e);
	dkim_body_update(db, body, strlen(body));
	dkim_body_final(db, bh);
	dkim_body_free(db);
	cr_assert_eq(hdr_parse(msg, (size_t)(body - msg) - 2, &f, &nf, &e), 0, "%s", e.msg);
	p.domain = d;
	p.selector = sel;
	p.alg = dkimkey_alg(k);
	p.hcanon = hc;
	p.bcanon = bc;
	p.t = t;
	buf_init(&b64, DKIMKEY_B64_MAX);
	cr_assert_eq(dkim_sig_prepare(&p, f, nf, bh, sig, digest, &e), 0, "%s", e.msg);
	cr_assert_eq(dkimkey_sign(k, digest, &b64, &e), 0, "%s", e.msg);
	cr_assert_eq(dkim_sig_finish(sig, buf_str(&b64), &e), 0, "%s", e.msg);
	buf_free(&b64);
	free(f);
}

/* joined - the envelope's prepend lines from `from`, n of them, as one CRLF-ended text. */
static void joined(const struct envelope *env, size_t from, size_t n, struct buf *out)
{
	cr_assert_leq(from + n, env->nprepend);
	for (size_t i = from; i < from + n; i++)
		cr_assert_eq(buf_adds(out, env->prepend[i]) | buf_adds(out, "\r\n"), 0);
}

/* count_fields - how many DKIM-Signature fields the prepend lines hold. */
static size_t count_fields(const struct envelope *env)
{
	size_t n = 0;

	for (size_t i = 0; i < env->nprepend; i++)
		n += strncmp(env->prepend[i], "DKIM-Signature:", 15) == 0;
	return n;
}

static const char msg_plain[] = "Received: by mail.example.com (postern)\r\n\tid 1; Tue, 1 Dec 2026 01:00:00 +0000\r\n"
    "From: Someone <a@example.com>\r\nTo: b@example.net\r\nSubject: hi\r\n"
    "Date: Tue, 1 Dec 2026 01:00:00 +0000\r\n\r\nHello  there \r\n\r\n\r\n";
static const char msg_sub[] = "From: a@lists.example.com\r\nTo: b@example.net\r\nSubject: sub\r\n\r\nbody\r\n";
static const char msg_other[] = "From: a@other.example\r\nTo: b@example.net\r\n\r\nbody\r\n";
static const char msg_nofrom[] = "To: b@example.net\r\n\r\nbody\r\n";

/* sign_form signs another form of a message (the 7-bit one, queue/run/mime8.h) exactly as sign_message
 * signs the stored one: the same fields, as CRLF text; no key for the From domain: unsigned. */
Test(sign, sign_form_same_fields)
{
	struct config c;
	struct signer *s;
	struct buf want, got;
	struct err e;
	long long size;
	int fd;

	key_file(rsa, "rsa.key", 0640);
	config(&c, "hostname mail.example.com\ndkim example.com s1 @/rsa.key\n");
	s = signer_new(&c, NULL);
	buf_init(&want, 65536);
	buf_init(&got, LIM_SIGN_RESERVE);
	err_clear(&e);
	fd = stored(msg_plain, &size);
	cr_assert_eq(sign_form(s, fd, size, 1764550000, &got, &e), SIGN_SIGNED, "%s", e.msg);
	expected(msg_plain, rsa, "example.com", "s1", CANON_RELAXED, CANON_RELAXED, 1764550000, &want);
	cr_assert_str_eq(buf_str(&got), buf_str(&want));
	close(fd);
	fd = stored(msg_other, &size);
	cr_assert_eq(sign_form(s, fd, size, 1764550000, &got, &e), SIGN_UNSIGNED);
	cr_assert_eq(got.len, 0);
	close(fd);
	buf_free(&want);
	buf_free(&got);
	signer_free(s);
	conf_free(&c);
}

/* Both keys of the From domain sign the stored message; the fields are exactly what the parts give,
 * the envelope text after the message is not hashed, and existing prepend lines stay after them. */
Test(sign, signs_with_each_key_of_the_domain)
{
	struct config c;
	struct envelope env = { 0 };
	struct signer *s;
	struct buf note, want, got;
	struct err e;
	long long size;
	int fd;

	key_file(ed, "ed.key", 0640);
	key_file(rsa, "rsa.key", 0640);
	config(&c, "hostname mail.example.com\ndkim example.com s1 @/rsa.key\n"
	    "dkim example.com s2 @/ed.key canon=simple/simple\n");
	fd = stored(msg_plain, &size);
	env.size = size;
	env.prepend = xcalloc(1, sizeof *env.prepend);
	env.prepend[0] = xstrdup("X-Kept: yes");
	env.nprepend = 1;
	s = signer_new(&c, NULL);
	buf_init(&note, SIGN_NOTE_MAX);
	err_clear(&e);
	cr_assert_eq(sign_message(s, fd, &env, 1764550000, &note, &e), SIGN_SIGNED, "%s", e.msg);
	cr_assert_eq(count_fields(&env), 2);
	cr_assert_str_eq(env.prepend[env.nprepend - 1], "X-Kept: yes");
	buf_init(&want, 65536);
	buf_init(&got, 65536);
	expected(msg_plain, rsa, "example.com", "s1", CANON_RELAXED, CANON_RELAXED, 1764550000, &want);
	{
		struct buf w2;
		buf_init(&w2, LIM_DKIM_SIGHDR);
		expected(msg_plain, ed, "example.com", "s2", CANON_SIMPLE, CANON_SIMPLE, 1764550000, &w2);
		cr_assert_eq(buf_add(&want, w2.data, w2.len), 0);
		buf_free(&w2);
	}
	joined(&env, 0, env.nprepend - 1, &got);
	cr_assert_str_eq(buf_str(&got), buf_str(&want));
	cr_assert_eq(note.len, 0, "%s", buf_str(&note));
	buf_free(&want);
	buf_free(&got);
	buf_free(&note);
	signer_free(s);
	env_free(&env);
	conf_free(&c);
	close(fd);
}

/* A subdomain without keys is signed with its nearest parent's, and the log is told why. */
Test(sign, parent_domain_key_and_note)
{
	struct config c;
	struct envelope env = { 0 };
	struct signer *s;
	struct buf note;
	struct err e;
	long long size;
	int fd;

	key_file(ed, "ed.key", 0640);
	config(&c, "hostname mail.example.com\ndkim example.com s2 @/ed.key\n");
	fd = stored(msg_sub, &size);
	env.size = size;
	s = signer_new(&c, NULL);
	buf_init(&note, SIGN_NOTE_MAX);
	err_clear(&e);
	cr_assert_eq(sign_message(s, fd, &env, 1764550000, &note, &e), SIGN_SIGNED, "%s", e.msg);
	cr_assert_eq(count_fields(&env), 1);
	cr_assert_not_null(strstr(env.prepend[0], "d=example.com") ? env.prepend[0] : strstr(env.prepend[1], "d=example.com"));
	cr_assert_not_null(strstr(buf_str(&note), "parent domain's key (d=example.com)"), "%s", buf_str(&note));
	buf_free(&note);
	signer_free(s);
	env_free(&env);
	conf_free(&c);
	close(fd);
}

struct problem_case {
	const char *name;	/* the key file's name, made as below */
	mode_t mode;		/* 0: not created */
	bool symlink;		/* a symlink to a good key */
	const char *want;	/* in the reason */
};

static const struct problem_case problems[] = {
	{ "missing.key", 0, false, "missing.key: No such file or directory" },
	{ "world.key", 0644, false, "mode 0644 is world-readable" },
	{ "group.key", 0660, false, "mode 0660 is group-writable" },
	{ "link.key", 0, true, "is a symbolic link" },
};

/* A key that cannot be used holds the message with the reason (dkim_required yes, the default) or lets
 * it go unsigned with the reason in the note (no); nothing is added to the envelope either way. */
Test(sign, key_problems_hold_or_go_unsigned)
{
	for (size_t i = 0; i < sizeof problems / sizeof problems[0]; i++)
		for (int req = 0; req < 2; req++) {
			const struct problem_case *pc = &problems[i];
			char text[512], path[256], good[256];
			struct config c;
			struct envelope env = { 0 };
			struct signer *s;
			struct buf note;
			struct err e;
			long long size;
			int fd;
			enum sign_result r;

			snprintf(path, sizeof path, "%s/%s", dir, pc->name);
			unlink(path);
			if (pc->mode != 0)
				key_file(ed, pc->name, pc->mode);
			if (pc->symlink) {
				key_file(ed, "good.key", 0640);
				snprintf(good, sizeof good, "%s/good.key", dir);
				cr_assert_eq(symlink(good, path), 0);
			}
			snprintf(text, sizeof text, "hostname mail.example.com\ndkim example.com s2 @/%s\n%s", pc->name,
			    req ? "dkim_required yes\n" : "dkim_required no\n");
			config(&c, text);
			fd = stored(msg_plain, &size);
			env.size = size;
			s = signer_new(&c, NULL);
			buf_init(&note, SIGN_NOTE_MAX);
			err_clear(&e);
			r = sign_message(s, fd, &env, 1764550000, &note, &e);
			if (req) {
				cr_assert_eq(r, SIGN_HOLD, "%s", pc->name);
				cr_assert_not_null(strstr(e.msg, pc->want), "%s: %s", pc->name, e.msg);
				cr_assert_eq(strncmp(e.msg, "DKIM key ", 9), 0, "%s", e.msg);
			} else {
				cr_assert_eq(r, SIGN_UNSIGNED, "%s", pc->name);
				cr_assert_not_null(strstr(buf_str(&note), pc->want), "%s: %s", pc->name, buf_str(&note));
			}
			cr_assert_eq(env.nprepend, 0);
			buf_free(&note);
			signer_free(s);
			env_free(&env);
			conf_free(&c);
			close(fd);
		}
}

/* No key for the From domain (or no From domain): unsigned, and the note says so. */
Test(sign, no_key_for_the_domain)
{
	const char *msgs[] = { msg_other, msg_nofrom };
	const char *want[] = { "no DKIM key for the From domain other.example", "From domain (none)" };

	key_file(ed, "ed.key", 0640);
	for (size_t i = 0; i < 2; i++) {
		struct config c;
		struct envelope env = { 0 };
		struct signer *s;
		struct buf note;
		struct err e;
		long long size;
		int fd;

		config(&c, "hostname mail.example.com\ndkim example.com s2 @/ed.key\n");
		fd = stored(msgs[i], &size);
		env.size = size;
		s = signer_new(&c, NULL);
		buf_init(&note, SIGN_NOTE_MAX);
		err_clear(&e);
		cr_assert_eq(sign_message(s, fd, &env, 1764550000, &note, &e), SIGN_UNSIGNED);
		cr_assert_not_null(strstr(buf_str(&note), want[i]), "%s", buf_str(&note));
		cr_assert_eq(env.nprepend, 0);
		buf_free(&note);
		signer_free(s);
		env_free(&env);
		conf_free(&c);
		close(fd);
	}
}

struct needed_case {
	size_t ndkim;
	const char *prepend;	/* NULL: none */
	enum rcpt_state st;
	bool want;
};

static const struct needed_case needed[] = {
	{ 1, NULL, RCPT_PENDING, true },
	{ 0, NULL, RCPT_PENDING, false },			/* no DKIM configured */
	{ 1, "DKIM-Signature: v=1; a=ed25519-sha256;", RCPT_PENDING, false },	/* signed already */
	{ 1, "dkim-signature: v=1;", RCPT_PENDING, false },	/* field names are case-insensitive */
	{ 1, "X-Other: v=1;", RCPT_PENDING, true },
	{ 1, NULL, RCPT_SENT, false },				/* nothing left to send */
};

Test(sign, needed_table)
{
	for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
		struct config c = { 0 };
		char addr[] = "b@example.net", line[64];
		struct env_rcpt r = { .addr = addr, .state = needed[i].st };
		char *pre = needed[i].prepend ? line : NULL;
		struct envelope env = { .rcpt = &r, .nrcpt = 1, .prepend = pre ? &pre : NULL, .nprepend = pre ? 1 : 0 };

		if (pre != NULL)
			snprintf(line, sizeof line, "%s", needed[i].prepend);
		c.ndkim = needed[i].ndkim;
		cr_assert_eq(sign_needed(&c, &env), needed[i].want, "row %zu", i);
	}
}

/* Keys are loaded once per signer: a key fixed after the first message is used by the next signer
 * (the next pass), not by this one. */
Test(sign, keys_loaded_once_per_signer)
{
	struct config c;
	struct envelope env = { 0 };
	struct signer *s;
	struct buf note;
	struct err e;
	long long size;
	char path[256];
	int fd;

	key_file(ed, "ed.key", 0644);
	snprintf(path, sizeof path, "%s/ed.key", dir);
	config(&c, "hostname mail.example.com\ndkim example.com s2 @/ed.key\ndkim_required yes\n");
	fd = stored(msg_plain, &size);
	env.size = size;
	s = signer_new(&c, NULL);
	buf_init(&note, SIGN_NOTE_MAX);
	err_clear(&e);
	cr_assert_eq(sign_message(s, fd, &env, 1764550000, &note, &e), SIGN_HOLD);
	cr_assert_eq(chmod(path, 0640), 0);
	err_clear(&e);
	cr_assert_eq(sign_message(s, fd, &env, 1764550000, &note, &e), SIGN_HOLD, "reloaded within one pass");
	signer_free(s);
	s = signer_new(&c, NULL);
	err_clear(&e);
	cr_assert_eq(sign_message(s, fd, &env, 1764550000, &note, &e), SIGN_SIGNED, "%s", e.msg);
	buf_free(&note);
	signer_free(s);
	env_free(&env);
	conf_free(&c);
	close(fd);
}
