/*
 * envelope_parse.c - env_parse: the strict, ordered reader of envelope files (format in envelope.h).
 *
 * UNTRUSTED INPUT: the bytes of an envelope file. Pure: no I/O; every count and length is checked
 * before it is used; on error nothing is kept and the reason names the line.
 */
#include "queue/store/envelope.h"
#include "queue/store/envelope_priv.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest key ("NEXT-TRY", "R-ATTEMPTS", "SMTPUTF8"). */
#define ENV_MAX_KEY 16

/* Every key, in file order; the index is the bit in the "seen" masks. */
static const char *const keys[] = {
	"VERSION", "ID", "ARRIVAL", "SENDER", "SIZE", "BODY", "SMTPUTF8", "ENVID", "RET", "UID",
	"NEXT-TRY", "ATTEMPTS", "WARNED", "BOUNCE", "HELD", "HISTORY", "PREPEND",
	"RCPT", "R-ORCPT", "R-STATE", "R-ATTEMPTS", "R-NOTIFY", "R-STATUS", "R-RELAY", "R-DIAG",
	"END",
};
#define NKEYS (sizeof keys / sizeof keys[0])
#define FIRST_RCPT_KEY 17	/* "RCPT": the per-recipient "seen" bits reset here */

struct pstate {
	const char *p;
	size_t len, off;
	size_t lineno;		/* of the current (peeked) line */
	bool have;		/* a peeked line is in key/val */
	struct span key, val;
	uint32_t seen;
	struct err *e;
};

/* ---- reading ---- */

/* lfail - put "envelope line N: " before the reason in ps->e (code 65). Returns -1. */
static int lfail(struct pstate *ps)
{
	err_prefix(ps->e, "envelope line %zu", ps->lineno);
	if (ps->e != NULL)
		ps->e->code = EX_DATAERR;
	return -1;
}

/* kfail - the same, naming the key whose value was refused. */
static int kfail(struct pstate *ps, const char *key)
{
	err_prefix(ps->e, "%s", key);
	return lfail(ps);
}

#define PERR(ps, ...) (err_set((ps)->e, EX_DATAERR, __VA_ARGS__), lfail(ps))

/* peek - split the next line into key and value. 1: a line, 0: end of input, -1: error. */
static int peek(struct pstate *ps)
{
	const char *line, *nl, *sp;
	size_t n, i;

	if (ps->have)
		return 1;
	if (ps->off == ps->len)
		return 0;
	ps->lineno++;
	line = ps->p + ps->off;
	nl = memchr(line, '\n', ps->len - ps->off);
	if (nl == NULL)
		return PERR(ps, "truncated (no newline at end of file)");
	n = (size_t)(nl - line);
	if (memchr(line, '\0', n) != NULL)
		return PERR(ps, "NUL byte");
	if (memchr(line, '\r', n) != NULL)
		return PERR(ps, "CR byte");
	sp = memchr(line, ' ', n);
	if (sp == NULL)
		return PERR(ps, "no space after key");
	if (sp == line || sp - line > ENV_MAX_KEY)
		return PERR(ps, "bad key");
	for (i = 0; line + i < sp; i++)
		if (!((line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= '0' && line[i] <= '9') || line[i] == '-'))
			return PERR(ps, "bad key");
	ps->key = span_make(line, (size_t)(sp - line));
	ps->val = span_make(sp + 1, n - (size_t)(sp - line) - 1);
	ps->off += n + 1;
	ps->have = true;
	return 1;
}

/* key_index - position of a key in keys[], or -1. */
static int key_index(struct span k)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (span_eq(k, keys[i]))
			return (int)i;
	return -1;
}

/* take - consume the next line if its key is `key` (value in *val; 1). An absent optional key is 0;
 * an absent required key is an error that names what is there instead. */
static int take(struct pstate *ps, const char *key, bool required, struct span *val)
{
	int r, idx;

	if ((r = peek(ps)) < 0)
		return -1;
	if (r == 1 && span_eq(ps->key, key)) {
		*val = ps->val;
		idx = key_index(ps->key);
		ps->seen |= (uint32_t)1 << idx;
		ps->have = false;
		return 1;
	}
	if (!required)
		return 0;
	if (r == 0) {
		ps->lineno++;
		return PERR(ps, "missing %s (file ends)", key);
	}
	idx = key_index(ps->key);
	if (idx < 0)
		return PERR(ps, "unknown key %.*s", (int)ps->key.n, ps->key.p);
	if (ps->seen & ((uint32_t)1 << idx))
		return PERR(ps, "duplicate key %s", keys[idx]);
	return PERR(ps, "%s out of order (expected %s)", keys[idx], key);
}

/* parse_num - canonical decimal (no sign, no leading zero) in [0, max]. */
static int parse_num(struct pstate *ps, const char *key, struct span v, long long max, long long *out)
{
	long long x = 0;
	size_t i;

	if (v.n == 0 || v.n > 19 || (v.n > 1 && v.p[0] == '0'))
		goto bad;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			goto bad;
		if (x > (max - (v.p[i] - '0')) / 10)
			goto bad;
		x = x * 10 + (v.p[i] - '0');
	}
	*out = x;
	return 0;
bad:
	err_set(ps->e, EX_DATAERR, "bad number");
	return kfail(ps, key);
}

/* take_num - a required numeric key. */
static int take_num(struct pstate *ps, const char *key, long long max, long long *out)
{
	struct span v;

	if (take(ps, key, true, &v) < 0)
		return -1;
	return parse_num(ps, key, v, max, out);
}

/* take_word - a required key whose value is one of words[] (index in *out). */
static int take_word(struct pstate *ps, const char *key, const char *const *words, int n, int *out)
{
	struct span v;
	int i;

	if (take(ps, key, true, &v) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (span_eq(v, words[i])) {
			*out = i;
			return 0;
		}
	err_set(ps->e, EX_DATAERR, "bad value");
	return kfail(ps, key);
}

/* take_text - an optional (or required) free-text key, checked and copied into *out. */
static int take_text(struct pstate *ps, const char *key, bool required, size_t max, char **out)
{
	struct span v;
	int r;

	if ((r = take(ps, key, required, &v)) <= 0)
		return r;
	if (env_check_text(v.p, v.n, max, ps->e) < 0)
		return kfail(ps, key);
	*out = xstrndup(v.p, v.n);
	return 1;
}

/* parse_notify - "NEVER" or a non-empty subset of SUCCESS,FAILURE,DELAY in that order. */
static int parse_notify(struct span v, int *out)
{
	int bits = 0, i = 0;
	size_t off = 0;

	if (span_eq(v, "NEVER")) {
		*out = NOTIFY_NEVER;
		return 0;
	}
	while (off < v.n) {
		const char *comma = memchr(v.p + off, ',', v.n - off);
		struct span w = span_make(v.p + off, comma ? (size_t)(comma - v.p) - off : v.n - off);
		while (i < 3 && !span_eq(w, env_w_notify[i]))
			i++;
		if (i == 3)
			return -1;
		bits |= 1 << i++;
		off += w.n;
		if (comma != NULL && ++off == v.n)
			return -1;	/* trailing comma */
	}
	if (bits == 0)
		return -1;
	*out = bits;
	return 0;
}

/* parse_rcpt - one recipient block, starting at its RCPT line. */
static int parse_rcpt(struct pstate *ps, struct env_rcpt *r)
{
	struct span v;
	long long n;
	int k;

	ps->seen &= ((uint32_t)1 << FIRST_RCPT_KEY) - 1;
	if (take(ps, "RCPT", true, &v) < 0)
		return -1;
	if (v.n == 0 || env_check_addr(v.p, v.n, ps->e) < 0)
		return v.n == 0 ? PERR(ps, "RCPT: empty address") : kfail(ps, "RCPT");
	r->addr = xstrndup(v.p, v.n);
	if (take_text(ps, "R-ORCPT", false, ENV_MAX_ORCPT, &r->orcpt) < 0)
		return -1;
	if (take(ps, "R-STATE", true, &v) < 0)
		return -1;
	for (k = 0; k < 6 && !span_eq(v, k < 3 ? env_w_state[k] : env_w_inplace[k - 3]); k++)
		;
	if (k == 6) {
		err_set(ps->e, EX_DATAERR, "bad value");
		return kfail(ps, "R-STATE");
	}
	r->state = (enum rcpt_state)(k % 3);
	r->inplace = k >= 3;
	r->state_at = (size_t)(v.p - ps->p);
	if (take_num(ps, "R-ATTEMPTS", ENV_MAX_ATTEMPTS, &n) < 0)
		return -1;
	r->attempts = (int)n;
	if ((k = take(ps, "R-NOTIFY", false, &v)) < 0)
		return -1;
	if (k == 1 && parse_notify(v, &r->notify) < 0)
		return PERR(ps, "R-NOTIFY: bad value");
	if ((k = take(ps, "R-STATUS", false, &v)) < 0)
		return -1;
	if (k == 1) {
		if (env_check_status(v.p, v.n, ps->e) < 0)
			return kfail(ps, "R-STATUS");
		r->status = xstrndup(v.p, v.n);
	}
	if (take_text(ps, "R-RELAY", false, ENV_MAX_RELAY, &r->relay) < 0)
		return -1;
	if (take_text(ps, "R-DIAG", false, ENV_MAX_DIAG, &r->diag) < 0)
		return -1;
	return 0;
}

/* next_word - the word of v from *off to the next space (which is skipped); -1 if there is none. */
static int next_word(struct span v, size_t *off, struct span *w)
{
	const char *sp = *off < v.n ? memchr(v.p + *off, ' ', v.n - *off) : NULL;

	if (sp == NULL)
		return -1;
	*w = span_make(v.p + *off, (size_t)(sp - v.p) - *off);
	*off += w->n + 1;
	return 0;
}

/* parse_hist - a HISTORY value: time status tls host address reply. */
static int parse_hist(struct pstate *ps, struct span v, struct env_hist *h)
{
	struct span w[5];
	size_t off = 0, k;
	static const size_t max[5] = { 0, 0, ENV_MAX_HIST_TLS, LIM_DOMAIN, ENV_MAX_HIST_ADDR };

	for (k = 0; k < 5; k++)
		if (next_word(v, &off, &w[k]) < 0)
			return PERR(ps, "HISTORY: missing value");
	if (parse_num(ps, "HISTORY", w[0], ENV_MAX_TIME, &h->time) < 0)
		return -1;
	if (env_check_status(w[1].p, w[1].n, ps->e) < 0)
		return kfail(ps, "HISTORY");
	for (k = 2; k < 5; k++)
		if (env_check_word(w[k].p, w[k].n, max[k], ps->e) < 0)
			return kfail(ps, "HISTORY");
	if (env_check_text(v.p + off, v.n - off, ENV_MAX_HIST_REPLY, ps->e) < 0)
		return kfail(ps, "HISTORY");
	h->status = xstrndup(w[1].p, w[1].n);
	h->tls = xstrndup(w[2].p, w[2].n);
	h->host = xstrndup(w[3].p, w[3].n);
	h->addr = xstrndup(w[4].p, w[4].n);
	h->reply = xstrndup(v.p + off, v.n - off);
	return 0;
}

/* parse_head - everything before the first recipient. */
static int parse_head(struct pstate *ps, struct envelope *env)
{
	struct span v;
	long long n;
	int k;

	if (take(ps, "VERSION", true, &v) < 0)
		return -1;
	if (!span_eq(v, "1"))
		return PERR(ps, "unsupported VERSION");
	if (take(ps, "ID", true, &v) < 0)
		return -1;
	if (!env_id_valid(v.p, v.n))
		return PERR(ps, "ID: bad queue id");
	memcpy(env->id, v.p, v.n);
	env->id[v.n] = '\0';
	if (take_num(ps, "ARRIVAL", ENV_MAX_TIME, &env->arrival) < 0)
		return -1;
	if (take(ps, "SENDER", true, &v) < 0)
		return -1;
	if (env_check_addr(v.p, v.n, ps->e) < 0)
		return kfail(ps, "SENDER");
	env->sender = xstrndup(v.p, v.n);
	if (take_num(ps, "SIZE", LLONG_MAX, &env->size) < 0)
		return -1;
	if (take_word(ps, "BODY", env_w_body, 2, &k) < 0)
		return -1;
	env->body8bit = k == 1;
	if (take_word(ps, "SMTPUTF8", env_w_bool, 2, &k) < 0)
		return -1;
	env->smtputf8 = k == 1;
	if (take_text(ps, "ENVID", false, ENV_MAX_ENVID, &env->envid) < 0)
		return -1;
	if ((k = take(ps, "RET", false, &v)) < 0)
		return -1;
	if (k == 1) {
		if (span_eq(v, "FULL"))
			env->ret = 1;
		else if (span_eq(v, "HDRS"))
			env->ret = 2;
		else
			return PERR(ps, "RET: bad value");
	}
	if (take_num(ps, "UID", (long long)UINT32_MAX - 1, &n) < 0)
		return -1;
	env->uid = (uid_t)n;
	if (take_num(ps, "NEXT-TRY", ENV_MAX_TIME, &env->next_try) < 0)
		return -1;
	if (take_num(ps, "ATTEMPTS", ENV_MAX_ATTEMPTS, &n) < 0)
		return -1;
	env->attempts = (int)n;
	if (take_word(ps, "WARNED", env_w_bool, 2, &k) < 0)
		return -1;
	env->warned = k == 1;
	if (take_word(ps, "BOUNCE", env_w_bool, 2, &k) < 0)
		return -1;
	env->is_bounce = k == 1;
	if ((k = take(ps, "HELD", false, &v)) < 0)
		return -1;
	if (k == 1 && !span_eq(v, "1"))
		return PERR(ps, "HELD: bad value");
	env->held = k == 1;
	while ((k = take(ps, "HISTORY", false, &v)) == 1) {
		if (env->nhist == ENV_MAX_HISTORY)
			return PERR(ps, "too many HISTORY lines");
		env->hist = xreallocarray(env->hist, env->nhist + 1, sizeof *env->hist);
		memset(&env->hist[env->nhist], 0, sizeof env->hist[0]);
		env->nhist++;
		if (parse_hist(ps, v, &env->hist[env->nhist - 1]) < 0)
			return -1;
	}
	if (k < 0)
		return -1;
	while ((k = take(ps, "PREPEND", false, &v)) == 1) {
		if (env->nprepend == ENV_MAX_PREPEND)
			return PERR(ps, "too many PREPEND lines");
		if (env_check_prepend(v.p, v.n, env->nprepend == 0, ps->e) < 0)
			return kfail(ps, "PREPEND");
		env->prepend = xreallocarray(env->prepend, env->nprepend + 1, sizeof *env->prepend);
		env->prepend[env->nprepend++] = xstrndup(v.p, v.n);
	}
	return k;
}

/* env_parse - see envelope.h */
int env_parse(const char *buf, size_t len, struct envelope *env, struct err *e)
{
	struct pstate ps = { .p = buf, .len = len, .e = e };
	size_t cap = 0;
	long long n;
	int r;

	memset(env, 0, sizeof *env);
	if (len > ENV_MAX_FILE)
		return err_set(e, EX_DATAERR, "envelope: file over %zu bytes", ENV_MAX_FILE);
	if (parse_head(&ps, env) < 0)
		goto fail;
	while ((r = peek(&ps)) == 1 && span_eq(ps.key, "RCPT")) {
		if (env->nrcpt == LIM_RCPTS) {
			PERR(&ps, "too many recipients");
			goto fail;
		}
		if (env->nrcpt == cap) {
			cap = cap ? cap * 2 : 4;
			env->rcpt = xreallocarray(env->rcpt, cap, sizeof *env->rcpt);
		}
		memset(&env->rcpt[env->nrcpt], 0, sizeof env->rcpt[0]);
		env->nrcpt++;
		if (parse_rcpt(&ps, &env->rcpt[env->nrcpt - 1]) < 0)
			goto fail;
	}
	if (r < 0)
		goto fail;
	if (env->nrcpt == 0) {
		if (r == 1 && span_eq(ps.key, "END"))
			PERR(&ps, "no recipients");
		else
			(void)take(&ps, "RCPT", true, &(struct span){ 0 });
		goto fail;
	}
	if (take_num(&ps, "END", LIM_RCPTS, &n) < 0)
		goto fail;
	if ((size_t)n != env->nrcpt) {
		PERR(&ps, "END: recipient count does not match");
		goto fail;
	}
	if (ps.off != ps.len) {
		ps.lineno++;
		PERR(&ps, "data after END");
		goto fail;
	}
	return 0;
fail:
	env_free(env);
	return -1;
}

