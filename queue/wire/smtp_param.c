/*
 * smtp_param.c - the MAIL and RCPT command lines of a transaction, xtext (see smtp_param.h). Pure.
 */
#include "queue/wire/smtp_param.h"

#include <string.h>
#include <sysexits.h>

#include "lib/limits.h"
#include "lib/text.h"

/* cut - undo what was appended to b since it was `len` long. */
static void cut(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

int smtp_xtext(const char *in, size_t n, size_t max, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = out->len, k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		bool plain = c >= '!' && c <= '~' && c != '+' && c != '=';
		int r;

		if ((k += plain ? 1 : 3) > max) {
			cut(out, start);
			return -1;
		}
		if (plain)
			r = buf_addc(out, (char)c);
		else
			r = buf_printf(out, "+%c%c", hex[c >> 4], hex[c & 15]);
		if (r < 0) {
			cut(out, start);
			return -1;
		}
	}
	return 0;
}

/* path_ok - an address that may go between angle brackets (<= LIM_PATH bytes, no control byte,
 * no '<' or '>'). */
static bool path_ok(const char *a)
{
	size_t n = strlen(a);

	if (n > LIM_PATH)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f || a[i] == '<' || a[i] == '>')
			return false;
	return true;
}

/* dsn_value - " KEY=PREFIX<xtext of v>" appended to out when v is set, printable US-ASCII (graphic and
 * space, RFC 3461 4.2 and 4.4: before it is encoded) and the whole
 * parameter (space, key, prefix and xtext) fits in max bytes; else nothing (left out, never cut).
 * -1 only when out's ceiling is reached. */
static int dsn_value(struct buf *out, const char *key, const char *prefix, const char *v, size_t max)
{
	size_t start = out->len, head = 1 + strlen(key) + 1 + strlen(prefix);
	struct buf x;
	int r = 0;

	if (v == NULL || v[0] == '\0' || !text_printable(v, strlen(v), TEXT_P_SPACE) || head >= max)
		return 0;
	buf_init(&x, max - head);
	if (smtp_xtext(v, strlen(v), max - head, &x) == 0 &&
	    (buf_printf(out, " %s=%s", key, prefix) < 0 || buf_add(out, x.data, x.len) < 0)) {
		cut(out, start);
		r = -1;
	}
	buf_free(&x);
	return r;
}

int smtp_mail_format(const struct smtp_mail_params *p, const struct smtp_ext *ext, struct buf *out,
		     struct err *e)
{
	size_t start = out->len;

	if (!path_ok(p->sender))
		return err_set(e, EX_DATAERR, "bad sender address");
	if (buf_printf(out, "MAIL FROM:<%s>", p->sender) < 0 ||
	    (p->size > 0 && ext->size && buf_printf(out, " SIZE=%lld", p->size) < 0) ||
	    (p->body8bit && ext->eightbitmime && buf_adds(out, " BODY=8BITMIME") < 0) ||
	    (p->smtputf8 && ext->smtputf8 && buf_adds(out, " SMTPUTF8") < 0))
		goto full;
	if (!ext->dsn)
		return 0;	/* RFC 3461 4.1: no DSN parameters for a server that does not offer it */
	if ((p->ret == SMTP_RET_FULL && buf_adds(out, " RET=FULL") < 0) ||
	    (p->ret == SMTP_RET_HDRS && buf_adds(out, " RET=HDRS") < 0) ||
	    dsn_value(out, "ENVID", "", p->envid, 1 + 5 + 1 + SMTP_ENVID_MAX) < 0)
		goto full;
	return 0;
full:
	cut(out, start);
	return err_set(e, EX_DATAERR, "MAIL command too long");
}

/* The NOTIFY words other than NEVER, in the order RFC 3461 4.1 lists them. */
static const struct {
	int bit;
	const char *word;
} notify_words[] = {
	{ SMTP_NOTIFY_SUCCESS, "SUCCESS" }, { SMTP_NOTIFY_FAILURE, "FAILURE" }, { SMTP_NOTIFY_DELAY, "DELAY" },
};

int smtp_rcpt_format(const struct smtp_rcpt_params *r, const struct smtp_ext *ext, struct buf *out,
		     struct err *e)
{
	size_t start = out->len, dsn;

	if (r->addr == NULL || r->addr[0] == '\0' || !path_ok(r->addr))
		return err_set(e, EX_DATAERR, "bad recipient address");
	if (buf_printf(out, "RCPT TO:<%s>", r->addr) < 0)
		goto full;
	if (!ext->dsn)
		return 0;
	dsn = out->len;
	if (r->notify & SMTP_NOTIFY_NEVER) {
		if (buf_adds(out, " NOTIFY=NEVER") < 0)
			goto full;
	} else {
		const char *sep = " NOTIFY=";

		for (size_t i = 0; i < sizeof notify_words / sizeof notify_words[0]; i++) {
			if (!(r->notify & notify_words[i].bit))
				continue;
			if (buf_printf(out, "%s%s", sep, notify_words[i].word) < 0)
				goto full;
			sep = ",";
		}
	}
	/* what NOTIFY took, ORCPT may not: together at most SMTP_RCPT_DSN_MAX */
	if (dsn_value(out, "ORCPT", "rfc822;", r->orcpt, SMTP_RCPT_DSN_MAX - (out->len - dsn)) < 0)
		goto full;
	return 0;
full:
	cut(out, start);
	return err_set(e, EX_DATAERR, "RCPT command too long");
}
