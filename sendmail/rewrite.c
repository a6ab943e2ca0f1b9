/*
 * rewrite.c - rewrite_sender, rewrite_from and from_policy at submission. See rewrite.h.
 *
 * The decisions (which rule, aligned or not, what to do) are pure functions; rewrite_header applies
 * one to the completed header section, where compose.c has already qualified bare names, so that a
 * rule sees the address the receiver would.
 */
#include "sendmail/rewrite.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/hdr.h"
#include "lib/limits.h"

/* own_name - domain is one of the host's own names (hostname, domain, localhost). */
static bool own_name(const struct config *c, const char *domain)
{
	return strcasecmp(domain, "localhost") == 0 || (c->hostname && strcasecmp(domain, c->hostname) == 0) ||
	       (c->domain && strcasecmp(domain, c->domain) == 0);
}

/* rewrite_match - see rewrite.h */
bool rewrite_match(const struct config *c, const char *pattern, const char *local, const char *domain)
{
	if (strcmp(pattern, "*") == 0)
		return true;
	if (pattern[0] == '*' && pattern[1] == '@') {
		const char *want = strcmp(pattern + 2, "hostname") == 0 && c->hostname ? c->hostname : pattern + 2;

		return domain != NULL && strcasecmp(domain, want) == 0;
	}
	return strcmp(local, pattern) == 0 && (domain == NULL || own_name(c, domain));
}

/* split - "local@domain" into local and domain (at the last '@'); a bare name has domain NULL. The
 * result is owned (free *local; domain points into it). */
static void split(const char *addr, char **local, const char **domain)
{
	char *at;

	*local = xstrdup(addr);
	*domain = NULL;
	if ((at = strrchr(*local, '@')) != NULL) {
		*at = '\0';
		*domain = at + 1;
	}
}

/* rewrite_find - see rewrite.h */
const struct conf_rewrite *rewrite_find(const struct config *c, const struct conf_rewrites *rw, const char *addr)
{
	const struct conf_rewrite *hit = NULL;
	const char *domain;
	char *local;

	if (addr == NULL || addr[0] == '\0')
		return NULL;
	split(addr, &local, &domain);
	for (size_t i = 0; i < rw->n && hit == NULL; i++)
		if (rewrite_match(c, rw->v[i].pattern, local, domain))
			hit = &rw->v[i];
	free(local);
	return hit;
}

/* rewrite_signable - see rewrite.h */
bool rewrite_signable(const struct config *c, const char *domain)
{
	size_t n = strlen(domain);

	for (size_t i = 0; i < c->ndkim; i++) {
		const char *d = c->dkim[i].domain;
		size_t k = strlen(d);

		if (strcasecmp(domain, d) == 0 || (n > k && domain[n - k - 1] == '.' && strcasecmp(domain + n - k, d) == 0))
			return true;
	}
	return false;
}

/* domain_of - the domain of an address, or NULL. */
static const char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : NULL;
}

/* rewrite_from_decide - see rewrite.h */
struct rewrite_decision rewrite_from_decide(const struct config *c, const char *from, const char *sender_orig,
    const char *sender)
{
	struct rewrite_decision d = { REWRITE_KEEP, NULL, false };
	const struct conf_rewrite *r;
	const char *fd = domain_of(from), *sd = domain_of(sender);

	if (sender == NULL || sender[0] == '\0')
		return d;	/* a bounce: From is MAILER-DAEMON of the notice domain, as it must be */
	if ((r = rewrite_find(c, &c->rewrite_from, from)) != NULL) {
		if (strcasecmp(r->addr, from) != 0) {
			d.act = REWRITE_ADDR;
			d.addr = r->addr;
		}
		return d;
	}
	if (c->from_policy == FROM_KEEP)
		return d;
	if (fd != NULL && (rewrite_signable(c, fd) || (sd != NULL && strcasecmp(fd, sd) == 0)))
		return d;	/* aligned */
	d.by_policy = true;
	if (c->from_policy == FROM_REFUSE_UNALIGNED) {
		d.act = REWRITE_REFUSE;
		return d;
	}
	d.act = REWRITE_ADDR;
	r = rewrite_find(c, &c->rewrite_from, sender_orig);
	d.addr = r != NULL ? r->addr : sender;
	return d;
}

/* rewrite_sender - see rewrite.h */
int rewrite_sender(const struct config *c, char **sender)
{
	const struct conf_rewrite *r;

	if (*sender == NULL || (*sender)[0] == '\0' || (r = rewrite_find(c, &c->rewrite_sender, *sender)) == NULL)
		return 0;
	free(*sender);
	*sender = xstrdup(r->addr);
	return 1;
}

/* phrase - append a display name: as it is when it is atoms and spaces (encoded words included),
 * else as a quoted string. */
static int phrase(struct buf *b, const char *s)
{
	static const char specials[] = "()<>[]:;@\\,.\"";
	int bad = 0;

	if (strpbrk(s, specials) == NULL)
		return buf_adds(b, s);
	bad |= buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			bad |= buf_addc(b, '\\');
		bad |= buf_addc(b, *s);
	}
	return bad | buf_addc(b, '"');
}

/* display_of - the display name to keep: the first mailbox's, else the comment of a lone addr-spec
 * ("root@host (Cron Daemon)" -> "Cron Daemon"), else NULL. Owned. */
static char *display_of(const struct addr_list *l, const char *value)
{
	const char *lp, *rp;

	if (l->n > 0 && l->v[0].display != NULL && l->v[0].display[0] != '\0')
		return xstrdup(l->v[0].display);
	lp = strchr(value, '(');
	rp = strrchr(value, ')');
	if (l->n == 1 && lp != NULL && rp != NULL && rp > lp + 1)
		return xstrndup(lp + 1, (size_t)(rp - lp - 1));
	return NULL;
}

/* refuse - the one line a refused caller reads. */
static int refuse(struct err *e, const char *from)
{
	const char *d = domain_of(from);

	if (d == NULL)
		return err_set(e, EX_DATAERR, "the From field has no address postern can check, and from_policy is "
		    "refuse-unaligned");
	return err_set(e, EX_DATAERR, "From domain %.*s is not one postern signs for (dkim) nor the envelope sender's "
	    "(from_policy refuse-unaligned)", LIM_DOMAIN, d);
}

/* rewrite_header - see rewrite.h */
int rewrite_header(const struct config *c, const char *sender_orig, const char *sender, struct buf *hdr,
    struct err *e)
{
	struct hdr_field *f = NULL;
	struct addr_list l = { 0 };
	struct buf v, nv, out;
	struct rewrite_decision d;
	const struct hdr_field *from;
	char *addr = NULL, *disp = NULL;
	struct err pe;
	size_t nf = 0;
	int r = 0;

	if (sender == NULL || sender[0] == '\0' ||
	    (c->rewrite_from.n == 0 && c->from_policy == FROM_KEEP))
		return 0;
	if (hdr->len < 2 || hdr_parse(buf_str(hdr), hdr->len - 2, &f, &nf, e) < 0)
		return -1;
	if ((from = hdr_find(f, nf, "From")) == NULL) {
		free(f);
		return 0;
	}
	buf_init(&v, from->len + 1);
	buf_init(&nv, from->len + LIM_PATH + 64);
	buf_init(&out, hdr->max);
	if (hdr_unfold(hdr_value(from), &v) == 0 && addr_list_parse(buf_str(&v), v.len, &l, &pe) == 0 && l.n > 0)
		addr = addr_format(&l.v[0]);
	d = rewrite_from_decide(c, addr, sender_orig, sender);
	if (d.act == REWRITE_REFUSE) {
		r = refuse(e, addr);
		goto out;
	}
	if (d.act == REWRITE_KEEP)
		goto out;
	disp = display_of(&l, buf_str(&v));
	r = 1;
	if ((disp != NULL && (phrase(&nv, disp) < 0 || buf_adds(&nv, " <") < 0)) || buf_adds(&nv, d.addr) < 0 ||
	    (disp != NULL && buf_addc(&nv, '>') < 0))
		goto big;
	for (size_t i = 0; i < nf; i++) {
		if (&f[i] != from) {
			if (buf_add(&out, f[i].raw, f[i].len) < 0)
				goto big;
			continue;
		}
		if (hdr_fold("From", buf_str(&nv), nv.len, &out) < 0)
			goto big;
		if (c->rewrite_reply_to && hdr_find(f, nf, "Reply-To") == NULL) {
			struct span o = span_trim(span_make(buf_str(&v), v.len));	/* the From as it was */

			if (hdr_fold("Reply-To", o.p, o.n, &out) < 0)
				goto big;
		}
	}
	if (buf_adds(&out, "\r\n") < 0)
		goto big;
	buf_free(hdr);
	*hdr = out;
	buf_init(&out, 0);
	goto out;
big:
	r = err_set(e, EX_DATAERR, "header section too large (max %zu bytes) after rewriting From", hdr->max);
out:
	free(addr);
	free(disp);
	free(f);
	addr_list_free(&l);
	buf_free(&v);
	buf_free(&nv);
	buf_free(&out);
	return r;
}
