/*
 * rcpt.c - recipients and the envelope sender. See rcpt.h.
 */
#include "sendmail/rcpt.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/limits.h"

#define ALIAS_MAX_OUT 1000

/* add_one - append a final address unless present. Takes ownership of addr. */
static int add_one(struct rcpt_set *s, char *addr, const char *orig, struct err *e)
{
	size_t i;

	if (strlen(addr) > LIM_PATH) {
		err_set(e, EX_DATAERR, "address too long: \"%.64s...\"", addr);
		free(addr);
		return -1;
	}
	if (!addr_path_ok(addr, strlen(addr))) {	/* refused now, not failed by every attempt for 5 days */
		err_set(e, EX_DATAERR, "address %s cannot be sent over SMTP (a space, '<' or '>' in its local part)", addr);
		free(addr);
		return -1;
	}
	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], addr) == 0) {
			free(addr);
			return 0;
		}
	if (s->n >= LIM_RCPTS) {
		free(addr);
		return err_set(e, EX_DATAERR, "too many recipients (max %d)", LIM_RCPTS);
	}
	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	s->orig = xreallocarray(s->orig, s->n + 1, sizeof *s->orig);
	s->v[s->n] = addr;
	s->orig[s->n] = orig ? xstrdup(orig) : NULL;
	s->n++;
	return 0;
}

/* add_addr - one parsed address: bare names go through the aliases, then get the domain. */
static int add_addr(struct rcpt_set *s, const struct rcpt_src *src, const struct addr *a, int depth_code,
    struct err *e)
{
	char **ex = NULL;
	size_t nex = 0, i;
	int r = 0;

	if (a->domain != NULL) {
		if (a->utf8)
			s->utf8 = true;
		return add_one(s, addr_format(a), NULL, e);
	}
	if (a->local == NULL || a->local[0] == '\0')
		return err_set(e, depth_code, "empty address");
	if (!src->no_alias && src->al != NULL) {
		if (aliases_expand(src->al, a->local, &ex, &nex, e) < 0)
			return -1;
	}
	if (nex == 0) {
		struct buf b;

		buf_init(&b, LIM_PATH + 1);
		if (buf_printf(&b, "%s@%s", a->local, src->domain) < 0) {
			buf_free(&b);
			return err_set(e, depth_code, "address too long: \"%.64s\"", a->local);
		}
		return add_one(s, buf_take(&b), a->local, e);
	}
	for (i = 0; i < nex && r == 0; i++) {
		if (strchr(ex[i], '@') != NULL) {
			r = add_one(s, ex[i], a->local, e);
		} else {
			struct buf b;

			buf_init(&b, LIM_PATH + 1);
			if (buf_printf(&b, "%s@%s", ex[i], src->domain) < 0)
				r = err_set(e, depth_code, "alias result too long: \"%.64s\"", ex[i]);
			else
				r = add_one(s, buf_take(&b), a->local, e);
			buf_free(&b);
			free(ex[i]);
		}
		ex[i] = NULL;
	}
	for (; i < nex; i++)
		free(ex[i]);
	free(ex);
	return r;
}

int rcpt_add_list(struct rcpt_set *s, const struct rcpt_src *src, const char *p, size_t n, int code,
    struct err *e)
{
	struct addr_list l = { 0 };
	size_t i;
	int r = 0;

	if (addr_list_parse(p, n, &l, e) < 0) {
		e->code = code;
		return -1;
	}
	for (i = 0; i < l.n && r == 0; i++) {
		if (l.v[i].null) {
			r = err_set(e, code, "<> is not a recipient");
			break;
		}
		r = add_addr(s, src, &l.v[i], code, e);
	}
	addr_list_free(&l);
	return r;
}

int rcpt_from_headers(struct rcpt_set *s, const struct rcpt_src *src, const struct hdr_field *f, size_t nf,
    struct err *e)
{
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const resent[] = { "Resent-To", "Resent-Cc", "Resent-Bcc" };
	const char *const *names = plain;
	size_t i, k;

	for (i = 0; i < nf; i++)
		if (f[i].name_len > 7 && strncasecmp(f[i].raw, "Resent-", 7) == 0)
			names = resent;
	for (i = 0; i < nf; i++) {
		for (k = 0; k < 3; k++)
			if (hdr_name_is(&f[i], names[k]))
				break;
		if (k == 3)
			continue;
		struct buf v;
		int r;

		buf_init(&v, f[i].len + 1);
		if (hdr_unfold(hdr_value(&f[i]), &v) < 0) {
			buf_free(&v);
			return err_set(e, EX_DATAERR, "cannot unfold %s header", names[k]);
		}
		r = rcpt_add_list(s, src, v.data ? v.data : "", v.len, EX_DATAERR, e);
		buf_free(&v);
		if (r < 0)
			return err_prefix(e, "%s header", names[k]);
	}
	return 0;
}

void rcpt_remove(struct rcpt_set *s, const struct rcpt_set *drop)
{
	size_t i, j, k = 0;

	for (i = 0; i < s->n; i++) {
		for (j = 0; j < drop->n; j++)
			if (strcmp(s->v[i], drop->v[j]) == 0)
				break;
		if (j < drop->n) {
			free(s->v[i]);
			free(s->orig[i]);
			continue;
		}
		s->v[k] = s->v[i];
		s->orig[k] = s->orig[i];
		k++;
	}
	s->n = k;
}

int rcpt_sender(const struct rcpt_src *src, const char *f, const char *user, char **out, bool *utf8,
    struct err *e)
{
	struct addr a;
	struct buf b;

	*out = NULL;
	if (f == NULL || *f == '\0') {
		buf_init(&b, LIM_PATH + 1);
		if (buf_printf(&b, "%s@%s", user, src->domain) < 0) {
			buf_free(&b);
			return err_set(e, EX_DATAERR, "sender address too long");
		}
		*out = buf_take(&b);
		return 0;
	}
	memset(&a, 0, sizeof a);
	if (addr_parse_one(f, strlen(f), &a, e) < 0) {
		e->code = EX_USAGE;
		return err_prefix(e, "-f");
	}
	if (a.null) {
		*out = xstrdup("");
	} else if (a.domain == NULL) {
		buf_init(&b, LIM_PATH + 1);
		if (buf_printf(&b, "%s@%s", a.local, src->domain) < 0) {
			buf_free(&b);
			addr_free(&a);
			return err_set(e, EX_USAGE, "-f: sender address too long");
		}
		*out = buf_take(&b);
	} else {
		*out = addr_format(&a);
		if (a.utf8)
			*utf8 = true;
	}
	addr_free(&a);
	if (strlen(*out) > LIM_PATH) {
		free(*out);
		*out = NULL;
		return err_set(e, EX_USAGE, "-f: sender address too long");
	}
	if (!addr_path_ok(*out, strlen(*out))) {
		err_set(e, EX_USAGE, "-f: address %s cannot be sent over SMTP (a space, '<' or '>' in its local part)",
		    *out);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

void rcpt_free(struct rcpt_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i]);
		free(s->orig[i]);
	}
	free(s->v);
	free(s->orig);
	memset(s, 0, sizeof *s);
}
