/*
 * dsn.c - RFC 3464 delivery status notifications (see dsn.h). Pure: no clock, no randomness, no I/O.
 */
#include "queue/run/dsn.h"

#include <string.h>
#include <time.h>

#include "lib/date.h"
#include "lib/text.h"

/* Fold report fields and wrap the text part near the RFC 5322 2.1.1 recommended 78 columns. */
#define DSN_FOLD 78
#define DSN_WRAP 76
/* A single word longer than this is cut (with a fold) so that no line passes LIM_LINE. */
#define DSN_MAX_WORD 900
/* RFC 2046 5.1.1: a boundary is 1 to 70 characters. */
#define DSN_MAX_BOUNDARY 70

struct out {
	struct buf *b;
	int bad;
};


static void put(struct out *o, const char *s)
{
	o->bad |= buf_adds(o->b, s);
}

/* put_safe - n bytes, with control and non-ASCII bytes (untrusted, unlabelled) shown as '?'. */
static void put_safe(struct out *o, const char *s, size_t n)
{
	o->bad |= text_safe_add(o->b, s, n, TEXT_MARK);
}

/* put_date - RFC 5322 date-time in UTC: "Wed, 29 Nov 2023 03:03:14 +0000". */
static void put_date(struct out *o, long long t)
{
	char d[DATE_MAX];

	if (date_format(d, t, DATE_RFC5322, true) < 0) {
		o->bad = 1;
		return;
	}
	put(o, d);
}

/* put_words - text (split at spaces) after `col` columns already used; lines longer than width
 * continue on a new line starting with `indent`. The CRLF + indent stands for the space it replaces
 * (with indent " " this is RFC 5322 folding). A word over DSN_MAX_WORD is cut. */
static void put_words(struct out *o, const char *s, size_t col, size_t width, const char *indent)
{
	const char *end = s + strlen(s), *sp;
	bool first = true;

	while (s <= end) {
		size_t n;
		sp = memchr(s, ' ', (size_t)(end - s));
		n = (size_t)((sp ? sp : end) - s);
		if (!first && col + 1 + n > width) {
			put(o, "\r\n");
			put(o, indent);
			col = strlen(indent);
		} else if (!first) {
			put(o, " ");
			col++;
		}
		while (n > DSN_MAX_WORD) {
			put_safe(o, s, DSN_MAX_WORD);
			put(o, "\r\n");
			put(o, indent);
			s += DSN_MAX_WORD;
			n -= DSN_MAX_WORD;
			col = strlen(indent);
		}
		put_safe(o, s, n);
		col += n;
		first = false;
		if (sp == NULL)
			break;
		s = sp + 1;
	}
}

/* field - "Name: value" folded, CRLF. */
static void field(struct out *o, const char *name, const char *value)
{
	put(o, name);
	put(o, ": ");
	put_words(o, value, strlen(name) + 2, DSN_FOLD, " ");
	put(o, "\r\n");
}

/* field2 - "Name: type; value" folded, CRLF. */
static void field2(struct out *o, const char *name, const char *type, const char *value)
{
	put(o, name);
	put(o, ": ");
	put(o, type);
	put(o, "; ");
	put_words(o, value, strlen(name) + strlen(type) + 4, DSN_FOLD, " ");
	put(o, "\r\n");
}

/* wanted - is this recipient part of this report? */
static bool wanted(const struct env_rcpt *r, enum dsn_kind kind)
{
	if (r->notify & NOTIFY_NEVER)
		return false;
	if (kind == DSN_FAILED)
		return r->state == RCPT_FAILED && (r->notify == 0 || (r->notify & NOTIFY_FAILURE));
	return r->state == RCPT_PENDING && r->attempts > 0 && (r->notify == 0 || (r->notify & NOTIFY_DELAY));
}

/* check_boundary - RFC 2046 bchars without space, 1..70. */
static bool check_boundary(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > DSN_MAX_BOUNDARY)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      strchr("'()+_,-./:=?", s[i]) != NULL))
			return false;
	return true;
}

/* check_host - a host name as we print it: printable, no space, not empty, <= LIM_DOMAIN. */
static bool check_host(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= LIM_DOMAIN && text_printable(s, n, 0);
}

/* put_headers - the original header section, up to its blank line, every line ended by CRLF.
 * Refuses a line that starts with "--boundary" (it would end the MIME part). */
static int put_headers(struct out *o, const char *h, size_t n, const char *boundary, struct err *e)
{
	size_t i = 0, blen = strlen(boundary);

	while (i < n) {
		size_t start = i, len;
		while (i < n && h[i] != '\r' && h[i] != '\n')
			i++;
		len = i - start;
		if (i < n && h[i] == '\r' && i + 1 < n && h[i + 1] == '\n')
			i += 2;
		else if (i < n)
			i++;	/* a lone LF or CR ends the line too */
		if (len == 0)
			break;	/* end of the header section */
		if (len >= 2 + blen && h[start] == '-' && h[start + 1] == '-' &&
		    memcmp(h + start + 2, boundary, blen) == 0)
			return err_set(e, EX_DATAERR, "dsn: an original header line looks like the MIME boundary");
		for (size_t k = start; k < start + len; k++)	/* keep 8-bit text, drop NUL */
			o->bad |= buf_addc(o->b, h[k] == '\0' ? '?' : h[k]);
		put(o, "\r\n");
	}
	return 0;
}

/* put_text - part 1, for people. */
static void put_text(struct out *o, const struct envelope *env, enum dsn_kind kind, const char *mta,
		     long long now)
{
	size_t i;

	put(o, "This is the mail system at host ");
	put(o, mta);
	put(o, ".\r\n\r\n");
	if (kind == DSN_FAILED) {
		put(o, "I'm sorry to have to inform you that your message could not\r\n"
		       "be delivered to one or more recipients. Its headers are attached below.\r\n");
	} else {
		long long h = now > env->arrival ? (now - env->arrival) / 3600 : 0;
		put(o, "####################################################################\r\n"
		       "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"
		       "####################################################################\r\n\r\n");
		o->bad |= buf_printf(o->b, "Your message could not be delivered for more than %lld hour(s).\r\n"
				     "It will be retried until it is delivered or expires.\r\n", h);
	}
	put(o, "\r\nFor further assistance, please send mail to postmaster.\r\n\r\n"
	       "                   The mail system\r\n");
	for (i = 0; i < env->nrcpt; i++) {
		const struct env_rcpt *r = &env->rcpt[i];
		if (!wanted(r, kind))
			continue;
		put(o, "\r\n<");
		put_safe(o, r->addr, strlen(r->addr));
		put(o, ">: ");
		put_words(o, r->diag != NULL && r->diag[0] != '\0' ? r->diag :
			     kind == DSN_FAILED ? "delivery failed" : "delivery temporarily deferred",
			  strlen(r->addr) + 4, DSN_WRAP, "    ");
		put(o, "\r\n");
	}
}

/* put_report - part 2, message/delivery-status (RFC 3464 2.2 and 2.3). */
static void put_report(struct out *o, const struct envelope *env, enum dsn_kind kind, const char *mta,
		       long long now)
{
	size_t i;

	field2(o, "Reporting-MTA", "dns", mta);
	field(o, "X-Postern-Queue-ID", env->id);
	field2(o, "X-Postern-Sender", "rfc822", env->sender);
	if (env->envid != NULL && env->envid[0] != '\0')
		field(o, "Original-Envelope-Id", env->envid);
	put(o, "Arrival-Date: ");
	put_date(o, env->arrival);
	put(o, "\r\n");
	for (i = 0; i < env->nrcpt; i++) {
		const struct env_rcpt *r = &env->rcpt[i];
		if (!wanted(r, kind))
			continue;
		put(o, "\r\n");
		field2(o, "Final-Recipient", "rfc822", r->addr);
		if (r->orcpt != NULL && r->orcpt[0] != '\0')
			field2(o, "Original-Recipient", "rfc822", r->orcpt);
		field(o, "Action", kind == DSN_FAILED ? "failed" : "delayed");
		field(o, "Status", r->status != NULL && r->status[0] != '\0' ? r->status :
				   kind == DSN_FAILED ? "5.0.0" : "4.0.0");
		if (r->relay != NULL && r->relay[0] != '\0') {
			/* "mx.example.net[192.0.2.1]:25" -> "mx.example.net" */
			size_t n = strcspn(r->relay, "[: ");
			put(o, "Remote-MTA: dns; ");
			put_safe(o, r->relay, n > 0 ? n : strlen(r->relay));
			put(o, "\r\n");
		}
		if (r->diag != NULL && r->diag[0] != '\0')
			field2(o, "Diagnostic-Code", "smtp", r->diag);
		put(o, "Last-Attempt-Date: ");
		put_date(o, now);
		put(o, "\r\n");
	}
}

/* dsn_compose - see dsn.h */
int dsn_compose(const struct envelope *env, const char *orig_headers, size_t hlen, enum dsn_kind kind,
		const char *from_domain, const char *reporting_mta, long long now, const char *boundary, struct buf *out,
		struct err *e)
{
	struct out o = { .b = out };
	size_t i, start = out->len;
	bool any = false;

	/* Never bounce to the null sender, never bounce a bounce: that is how mail loops start. */
	if (env->sender == NULL || env->sender[0] == '\0' || env->is_bounce)
		return 0;
	for (i = 0; i < env->nrcpt; i++)
		any |= wanted(&env->rcpt[i], kind);
	if (!any)
		return 0;
	if (kind != DSN_FAILED && kind != DSN_DELAYED)
		return err_set(e, EX_SOFTWARE, "dsn: bad kind");
	if (!check_boundary(boundary))
		return err_set(e, EX_SOFTWARE, "dsn: bad MIME boundary");
	if (!check_host(reporting_mta) || !check_host(from_domain))
		return err_set(e, EX_SOFTWARE, "dsn: bad reporting MTA or From domain name");

	put(&o, "From: Mail Delivery System <MAILER-DAEMON@");
	put(&o, from_domain);
	put(&o, ">\r\nTo: ");
	put_safe(&o, env->sender, strlen(env->sender));
	put(&o, "\r\n");
	field(&o, "Subject", kind == DSN_FAILED ? "Undelivered Mail Returned to Sender" :
						  "Delayed Mail (still being retried)");
	put(&o, "Date: ");
	put_date(&o, now);
	put(&o, "\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"");
	put(&o, boundary);
	put(&o, "\"\r\nContent-Transfer-Encoding: ");
	put(&o, text_has_8bit(orig_headers, hlen) ? "8bit" : "7bit"	/* 8-bit headers: 8bit transport */);
	put(&o, "\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n--");
	put(&o, boundary);
	put(&o, "\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
	put_text(&o, env, kind, reporting_mta, now);
	put(&o, "\r\n--");
	put(&o, boundary);
	put(&o, "\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n");
	put_report(&o, env, kind, reporting_mta, now);
	put(&o, "\r\n--");
	put(&o, boundary);
	put(&o, kind == DSN_FAILED ? "\r\nContent-Description: Undelivered Message Headers\r\n" :
				     "\r\nContent-Description: Delayed Message Headers\r\n");
	put(&o, "Content-Type: text/rfc822-headers\r\n\r\n");
	if (put_headers(&o, orig_headers, hlen, boundary, e) < 0)
		goto fail;
	put(&o, "\r\n--");
	put(&o, boundary);
	put(&o, "--\r\n");
	if (o.bad) {
		err_set(e, EX_TEMPFAIL, "dsn: report too large");
		goto fail;
	}
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}
