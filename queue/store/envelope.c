/*
 * envelope.c - value checks, env_format and env_free for the envelope record (format in envelope.h).
 *
 * The checks here are shared with the reader (envelope_parse.c). env_format runs them on the struct
 * before writing, so what it writes always reads back identically: no CR/LF smuggled inside a value
 * (a diagnostic from a hostile server, an -V from a caller) can add a record.
 */
#include "queue/store/envelope.h"
#include "queue/store/envelope_priv.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"

/* env_check_line - see envelope.h */
int env_check_line(const char *s, size_t n, size_t max, struct err *e)
{
	size_t i;

	if (n > max)
		return err_set(e, EX_DATAERR, "value longer than %zu bytes", max);
	for (i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			return err_set(e, EX_DATAERR, "value contains a line break");
		if (s[i] == '\0')
			return err_set(e, EX_DATAERR, "value contains a NUL byte");
	}
	return 0;
}

/* env_check_addr - see envelope.h */
int env_check_addr(const char *s, size_t n, struct err *e)
{
	if (n > LIM_PATH)
		return err_set(e, EX_DATAERR, "address longer than %d bytes", LIM_PATH);
	if (!text_printable(s, n, TEXT_P_8BIT))
		return err_set(e, EX_DATAERR, "address contains whitespace or a control byte");
	return 0;
}

/* env_id_valid - see envelope.h */
bool env_id_valid(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n != ENV_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* env_check_text - a non-empty single-line value of at most max bytes. */
int env_check_text(const char *s, size_t n, size_t max, struct err *e)
{
	if (n == 0)
		return err_set(e, EX_DATAERR, "empty value");
	return env_check_line(s, n, max, e);
}

/* env_check_prepend - one header line: no line break, <= LIM_LINE; the first line (and any line not
 * starting with SP/TAB) starts a field: a name of printable characters followed by ':'. */
int env_check_prepend(const char *s, size_t n, bool first, struct err *e)
{
	size_t i;

	if (env_check_text(s, n, LIM_LINE, e) < 0)
		return -1;
	if (s[0] == ' ' || s[0] == '\t') {
		if (first)
			return err_set(e, EX_DATAERR, "first header line is a continuation");
		return 0;
	}
	for (i = 0; i < n && s[i] != ':'; i++)
		;
	if (!text_printable(s, i, 0))
		return err_set(e, EX_DATAERR, "bad header field name");
	if (i == 0 || i == n)
		return err_set(e, EX_DATAERR, "header line without a field name");
	return 0;
}

/* env_check_status - an RFC 3463 status code: class 2, 4 or 5, then .1*3digit twice. */
int env_check_status(const char *s, size_t n, struct err *e)
{
	size_t i = 1, part, d;

	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5'))
		return err_set(e, EX_DATAERR, "bad status code");
	for (part = 0; part < 2; part++) {
		if (i >= n || s[i] != '.')
			return err_set(e, EX_DATAERR, "bad status code");
		i++;
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; d++)
			i++;
		if (d < 1 || d > 3)
			return err_set(e, EX_DATAERR, "bad status code");
	}
	if (i != n)
		return err_set(e, EX_DATAERR, "bad status code");
	return 0;
}

/* env_check_word - a non-empty word of printable ASCII (no space) of at most max bytes. */
int env_check_word(const char *s, size_t n, size_t max, struct err *e)
{
	if (n == 0)
		return err_set(e, EX_DATAERR, "empty value");
	if (n > max)
		return err_set(e, EX_DATAERR, "value longer than %zu bytes", max);
	if (!text_printable(s, n, 0))
		return err_set(e, EX_DATAERR, "value is not one printable word");
	return 0;
}

/* env_check_notify - a NOTIFY bit set that the file can spell. */
static int env_check_notify(int v, struct err *e)
{
	if (v < 0 || v > 15 || ((v & NOTIFY_NEVER) && v != NOTIFY_NEVER))
		return err_set(e, EX_DATAERR, "bad NOTIFY value");
	return 0;
}

const char *const env_w_bool[2] = { "0", "1" };
const char *const env_w_body[2] = { "7BIT", "8BITMIME" };
const char *const env_w_ret[3] = { "", "FULL", "HDRS" };
const char *const env_w_state[3] = { "pending", "sent", "failed" };
const char *const env_w_inplace[3] = { "delayed", "done---", "failed-" };

/* env_state_word - see envelope.h */
const char *env_state_word(enum rcpt_state st, bool inplace)
{
	if (st < RCPT_PENDING || st > RCPT_FAILED)
		abort();	/* callers pass one of the three */
	return inplace ? env_w_inplace[st] : env_w_state[st];
}
const char *const env_w_notify[3] = { "SUCCESS", "FAILURE", "DELAY" };

/* ---- writing ---- */

/* opt - an optional string: NULL and "" are both "absent". */
static bool opt(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* fmt_rcpt - check and write one recipient block. */
static int fmt_rcpt(const struct env_rcpt *r, struct buf *out, struct err *e)
{
	int bad = 0, i, sep = 0;

	if (r->addr == NULL || r->addr[0] == '\0')
		return err_set(e, EX_SOFTWARE, "empty recipient address");
	if (env_check_addr(r->addr, strlen(r->addr), e) < 0)
		return err_prefix(e, "RCPT %s", r->addr);
	if (opt(r->orcpt) && env_check_text(r->orcpt, strlen(r->orcpt), ENV_MAX_ORCPT, e) < 0)
		return err_prefix(e, "R-ORCPT");
	if (r->state < RCPT_PENDING || r->state > RCPT_FAILED)
		return err_set(e, EX_SOFTWARE, "bad recipient state");
	if (r->attempts < 0 || r->attempts > ENV_MAX_ATTEMPTS)
		return err_set(e, EX_SOFTWARE, "bad recipient attempt count");
	if (env_check_notify(r->notify, e) < 0)
		return -1;
	if (opt(r->status) && env_check_status(r->status, strlen(r->status), e) < 0)
		return -1;
	if (opt(r->relay) && env_check_text(r->relay, strlen(r->relay), ENV_MAX_RELAY, e) < 0)
		return err_prefix(e, "R-RELAY");
	if (opt(r->diag) && env_check_text(r->diag, strlen(r->diag), ENV_MAX_DIAG, e) < 0)
		return err_prefix(e, "R-DIAG");

	bad |= buf_printf(out, "RCPT %s\n", r->addr);
	if (opt(r->orcpt))
		bad |= buf_printf(out, "R-ORCPT %s\n", r->orcpt);
	bad |= buf_printf(out, "R-STATE %s\nR-ATTEMPTS %d\n", env_state_word(r->state, r->inplace), r->attempts);
	if (r->notify == NOTIFY_NEVER)
		bad |= buf_adds(out, "R-NOTIFY NEVER\n");
	else if (r->notify != 0) {
		bad |= buf_adds(out, "R-NOTIFY ");
		for (i = 0; i < 3; i++)
			if (r->notify & (1 << i))
				bad |= buf_printf(out, "%s%s", sep++ ? "," : "", env_w_notify[i]);
		bad |= buf_addc(out, '\n');
	}
	if (opt(r->status))
		bad |= buf_printf(out, "R-STATUS %s\n", r->status);
	if (opt(r->relay))
		bad |= buf_printf(out, "R-RELAY %s\n", r->relay);
	if (opt(r->diag))
		bad |= buf_printf(out, "R-DIAG %s\n", r->diag);
	return bad ? err_set(e, EX_SOFTWARE, "envelope too large") : 0;
}

/* check_hist - a history entry env_parse would read back. */
static int check_hist(const struct env_hist *h, struct err *e)
{
	if (h->time < 0 || h->time > ENV_MAX_TIME)
		return err_set(e, EX_SOFTWARE, "number out of range");
	if (h->status == NULL || h->tls == NULL || h->host == NULL || h->addr == NULL || h->reply == NULL)
		return err_set(e, EX_SOFTWARE, "missing value");
	if (env_check_status(h->status, strlen(h->status), e) < 0 ||
	    env_check_word(h->tls, strlen(h->tls), ENV_MAX_HIST_TLS, e) < 0 ||
	    env_check_word(h->host, strlen(h->host), LIM_DOMAIN, e) < 0 ||
	    env_check_word(h->addr, strlen(h->addr), ENV_MAX_HIST_ADDR, e) < 0 ||
	    env_check_text(h->reply, strlen(h->reply), ENV_MAX_HIST_REPLY, e) < 0)
		return -1;
	return 0;
}

/* fmt_head - check and write everything before the recipients. */
static int fmt_head(const struct envelope *env, struct buf *out, struct err *e)
{
	int bad = 0;
	size_t i;

	if (!env_id_valid(env->id, strnlen(env->id, sizeof env->id)))
		return err_set(e, EX_SOFTWARE, "bad queue id");
	if (env->sender == NULL || env_check_addr(env->sender, strlen(env->sender), e) < 0)
		return err_set(e, EX_SOFTWARE, "bad sender address");
	if (env->arrival < 0 || env->arrival > ENV_MAX_TIME || env->next_try < 0 ||
	    env->next_try > ENV_MAX_TIME || env->size < 0 || env->attempts < 0 ||
	    env->attempts > ENV_MAX_ATTEMPTS || env->ret < 0 || env->ret > 2 || env->uid == (uid_t)-1)
		return err_set(e, EX_SOFTWARE, "number out of range");
	if (opt(env->envid) && env_check_text(env->envid, strlen(env->envid), ENV_MAX_ENVID, e) < 0)
		return err_prefix(e, "ENVID");
	if (env->nhist > ENV_MAX_HISTORY)
		return err_set(e, EX_SOFTWARE, "too many HISTORY lines");
	for (i = 0; i < env->nhist; i++)
		if (check_hist(&env->hist[i], e) < 0)
			return err_prefix(e, "HISTORY %zu", i + 1);
	if (env->nprepend > ENV_MAX_PREPEND)
		return err_set(e, EX_SOFTWARE, "too many PREPEND lines");
	for (i = 0; i < env->nprepend; i++)
		if (env->prepend[i] == NULL ||
		    env_check_prepend(env->prepend[i], strlen(env->prepend[i]), i == 0, e) < 0)
			return err_prefix(e, "PREPEND %zu", i + 1);

	bad |= buf_printf(out, "VERSION 1\nID %s\nARRIVAL %lld\nSENDER %s\nSIZE %lld\n", env->id,
			  env->arrival, env->sender, env->size);
	bad |= buf_printf(out, "BODY %s\nSMTPUTF8 %d\n", env_w_body[env->body8bit], env->smtputf8);
	if (opt(env->envid))
		bad |= buf_printf(out, "ENVID %s\n", env->envid);
	if (env->ret != 0)
		bad |= buf_printf(out, "RET %s\n", env_w_ret[env->ret]);
	bad |= buf_printf(out, "UID %lu\nNEXT-TRY %lld\nATTEMPTS %d\nWARNED %d\nBOUNCE %d\n",
			  (unsigned long)env->uid, env->next_try, env->attempts, env->warned, env->is_bounce);
	if (env->held)
		bad |= buf_adds(out, "HELD 1\n");
	for (i = 0; i < env->nhist; i++) {
		const struct env_hist *h = &env->hist[i];

		bad |= buf_printf(out, "HISTORY %lld %s %s %s %s %s\n", h->time, h->status, h->tls, h->host, h->addr,
				  h->reply);
	}
	for (i = 0; i < env->nprepend; i++)
		bad |= buf_printf(out, "PREPEND %s\n", env->prepend[i]);
	return bad ? err_set(e, EX_SOFTWARE, "envelope too large") : 0;
}

/* env_format - see envelope.h */
int env_format(const struct envelope *env, struct buf *out, struct err *e)
{
	size_t i, start = out->len;

	if (env->nrcpt == 0 || env->nrcpt > LIM_RCPTS)
		return err_set(e, EX_SOFTWARE, "env_format: %zu recipients", env->nrcpt);
	if (fmt_head(env, out, e) < 0)
		goto fail;
	for (i = 0; i < env->nrcpt; i++)
		if (fmt_rcpt(&env->rcpt[i], out, e) < 0)
			goto fail;
	if (buf_printf(out, "END %zu\n", env->nrcpt) < 0 || out->len - start > ENV_MAX_FILE) {
		err_set(e, EX_SOFTWARE, "envelope over %zu bytes", ENV_MAX_FILE);
		goto fail;
	}
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	err_prefix(e, "env_format");
	if (e != NULL)
		e->code = EX_SOFTWARE;
	return -1;
}

/* writable_text - make *slot a value env_check_text(max) accepts: a line break becomes '?', and a value
 * over max is cut to end in "...". (A C string holds no NUL.) 1 if changed. */
static size_t writable_text(char **slot, size_t max)
{
	char *s = *slot;
	size_t n, i, changed = 0;

	if (s == NULL)
		return 0;
	n = strlen(s);
	for (i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n') {
			s[i] = '?';
			changed = 1;
		}
	if (n > max) {
		memcpy(s + max - 3, "...", 4);
		changed = 1;
	}
	return changed;
}

/* env_make_writable - see envelope.h */
size_t env_make_writable(struct envelope *env)
{
	static const char *const class_of[3] = { "4.0.0", "2.0.0", "5.0.0" };
	size_t i, changed = 0;

	for (i = 0; i < env->nrcpt; i++) {
		struct env_rcpt *r = &env->rcpt[i];
		struct err e;

		if (r->state < RCPT_PENDING || r->state > RCPT_FAILED)
			r->state = RCPT_PENDING;
		if (r->status != NULL && r->status[0] != '\0' &&
		    env_check_status(r->status, strlen(r->status), &e) < 0) {
			free(r->status);
			r->status = xstrdup(class_of[r->state]);
			changed++;
		}
		changed += writable_text(&r->diag, ENV_MAX_DIAG);
		changed += writable_text(&r->relay, ENV_MAX_RELAY);
		if (r->attempts > ENV_MAX_ATTEMPTS)
			r->attempts = ENV_MAX_ATTEMPTS;
		r->inplace = false;
	}
	if (env->attempts > ENV_MAX_ATTEMPTS)
		env->attempts = ENV_MAX_ATTEMPTS;
	return changed;
}

/* hist_word - a writable copy of n bytes of s as one word of at most max bytes (see env_hist_note). */
static char *hist_word(const char *s, size_t n, size_t max)
{
	char *w;

	if (s == NULL || n == 0)
		return xstrdup("-");
	if (n > max)
		n = max;
	w = xstrndup(s, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)w[i] <= ' ' || (unsigned char)w[i] >= 0x7f)
			w[i] = '?';
	return w;
}

/* hist_free - free one entry's strings. */
static void hist_free(struct env_hist *h)
{
	free(h->status);
	free(h->tls);
	free(h->host);
	free(h->addr);
	free(h->reply);
	memset(h, 0, sizeof *h);
}

/* hist_split - a relay "host[address]:port" into h's host and address words ("-" and "-" otherwise). */
static void hist_split(const char *relay, struct env_hist *h)
{
	const char *br = relay ? strchr(relay, '[') : NULL, *end = br ? strchr(br, ']') : NULL;
	struct buf a;

	if (end == NULL) {
		h->host = xstrdup("-");
		h->addr = xstrdup("-");
		return;
	}
	h->host = hist_word(relay, (size_t)(br - relay), LIM_DOMAIN);
	buf_init(&a, ENV_MAX_HIST_ADDR);
	if (buf_add(&a, br + 1, (size_t)(end - br - 1)) < 0 || buf_adds(&a, end + 1) < 0)
		buf_reset(&a);	/* (too long for an address: then there is none to show) */
	h->addr = hist_word(buf_str(&a), a.len, ENV_MAX_HIST_ADDR);
	buf_free(&a);
}

/* env_hist_note - see envelope.h */
int env_hist_note(struct envelope *env, size_t fresh, long long now, const char *relay, const char *tls,
    const char *status, const char *reply)
{
	struct env_hist h = { .time = now < 0 ? 0 : now > ENV_MAX_TIME ? ENV_MAX_TIME : now };
	struct err e;
	size_t i;

	hist_split(relay, &h);
	h.tls = hist_word(tls, tls ? strlen(tls) : 0, ENV_MAX_HIST_TLS);
	h.status = xstrdup(status != NULL && env_check_status(status, strlen(status), &e) == 0 ? status : "4.0.0");
	h.reply = xstrdup(reply != NULL && reply[0] != '\0' ? reply : "-");
	(void)writable_text(&h.reply, ENV_MAX_HIST_REPLY);

	if (fresh > env->nhist)
		fresh = env->nhist;
	for (i = env->nhist - fresh; i < env->nhist; i++) {
		struct env_hist *o = &env->hist[i];

		if (strcmp(o->host, h.host) != 0 || strcmp(o->addr, h.addr) != 0)
			continue;
		o->time = h.time;
		free(o->tls);
		o->tls = h.tls;
		h.tls = NULL;
		if (o->status[0] == '2' || h.status[0] != '2') {	/* a failure's reply outranks a success's */
			free(o->status);
			free(o->reply);
			o->status = h.status;
			o->reply = h.reply;
			h.status = h.reply = NULL;
		}
		hist_free(&h);
		return 0;
	}
	if (env->nhist == ENV_MAX_HISTORY) {
		hist_free(&env->hist[0]);
		memmove(env->hist, env->hist + 1, (env->nhist - 1) * sizeof *env->hist);
		env->nhist--;
	} else
		env->hist = xreallocarray(env->hist, env->nhist + 1, sizeof *env->hist);
	env->hist[env->nhist++] = h;
	return 1;
}

/* env_hist_clear - see envelope.h */
void env_hist_clear(struct envelope *env)
{
	for (size_t i = 0; i < env->nhist; i++)
		hist_free(&env->hist[i]);
	free(env->hist);
	env->hist = NULL;
	env->nhist = 0;
}

/* env_free - see envelope.h */
void env_free(struct envelope *env)
{
	size_t i;

	if (env == NULL)
		return;
	free(env->sender);
	free(env->envid);
	env_hist_clear(env);
	for (i = 0; i < env->nprepend; i++)
		free(env->prepend[i]);
	free(env->prepend);
	for (i = 0; i < env->nrcpt; i++) {
		free(env->rcpt[i].addr);
		free(env->rcpt[i].orcpt);
		free(env->rcpt[i].status);
		free(env->rcpt[i].diag);
		free(env->rcpt[i].relay);
	}
	free(env->rcpt);
	memset(env, 0, sizeof *env);
}

