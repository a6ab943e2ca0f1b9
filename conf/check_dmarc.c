/*
 * check_dmarc.c - the DMARC half of `postern check`. See check_dmarc.h.
 */
#include "conf/check_dmarc.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/check_rec.h"
#include "lib/buf.h"
#include "lib/limits.h"

#define DMARC_WHY_MAX 200	/* why a DMARC record does not parse */
#define DMARC_FIX_MAX 600	/* the fix suggested for an unaligned sender */

/* libpsl, loaded when check runs (dlopen), not linked: the sendmail front door is this same binary
 * and must not load libpsl, libidn2 and libunistring under its tight resource limits. Its ABI
 * (libpsl.so.5): psl_latest, psl_registrable_domain, psl_free. */
#define PSL_SONAME "libpsl.so.5"
typedef struct psl_ctx_st psl_ctx_t;
struct psl {
	void *so;
	psl_ctx_t *ctx;
	const char *(*registrable)(const psl_ctx_t *, const char *);
	void (*free)(psl_ctx_t *);
};

/* psl_open - Debian's publicsuffix list (psl_latest), or libpsl's built-in one; p->ctx NULL when
 * libpsl is not installed (then every domain is its own organisational domain). */
static void psl_open(struct psl *p)
{
	psl_ctx_t *(*latest)(const char *);

	memset(p, 0, sizeof *p);
	if ((p->so = dlopen(PSL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return;
	*(void **)&latest = dlsym(p->so, "psl_latest");
	*(void **)&p->registrable = dlsym(p->so, "psl_registrable_domain");
	*(void **)&p->free = dlsym(p->so, "psl_free");
	if (latest == NULL || p->registrable == NULL || p->free == NULL || (p->ctx = latest(NULL)) == NULL) {
		dlclose(p->so);
		memset(p, 0, sizeof *p);
	}
}

static void psl_close(struct psl *p)
{
	if (p->ctx != NULL)
		p->free(p->ctx);
	if (p->so != NULL)
		dlclose(p->so);
}

/* the policy that applies to a domain */
struct policy {
	bool found;		/* a valid record applies */
	bool unknown;		/* DNS did not answer */
	bool inherited;		/* the organisational domain's */
	struct check_dmarcrec rec;
};

/* org_domain - the organisational domain (RFC 7489 3.2) by the Public Suffix List; name itself when
 * the list has nothing to say. */
static const char *org_domain(const struct psl *psl, const char *name)
{
	const char *o = psl->ctx != NULL ? psl->registrable(psl->ctx, name) : NULL;

	return o != NULL ? o : name;
}

/* dmarc_at - the v=DMARC1 TXT records at exactly `qname`: their number (-1: DNS did not answer),
 * the first one (owned) in *rec; *stray (when not NULL) counts records that hold v=DMARC1 elsewhere
 * than at their start, which receivers ignore. */
static int dmarc_at(struct dns *d, const char *qname, char **rec, int *stray)
{
	char **v = NULL;
	size_t n = 0;
	struct err e;
	int count = 0;
	enum dns_result r;

	*rec = NULL;
	err_clear(&e);
	r = dns_txt(d, qname, &v, &n, &e);
	if (r == DNS_TEMPFAIL || r == DNS_FAIL)
		return -1;
	for (size_t i = 0; i < n; i++) {	/* RFC 7489 6.6.3: other records are discarded */
		if (strncmp(v[i], "v=DMARC1", 8) == 0 && strchr("; \t", v[i][8]) != NULL) {
			if (count++ == 0)	/* strchr also matches the NUL: a bare "v=DMARC1" */
				*rec = xstrdup(v[i]);
		} else if (stray != NULL && strstr(v[i], "v=DMARC1") != NULL)
			(*stray)++;
	}
	dns_txt_free(v, n);
	return count;
}

/* check_reports - rua/ruf destinations outside the organisation must agree (RFC 7489 7.1) */
static void check_reports(struct dns *d, const struct psl *psl, struct check_report *r, const char *name,
			  const struct check_dmarcrec *rec)
{
	for (size_t i = 0; i < rec->nuri; i++) {
		const char *dest = rec->uri_domain[i];
		char q[2 * LIM_DOMAIN + 32], *auth = NULL;
		int n;

		if (strcasecmp(org_domain(psl, dest), org_domain(psl, name)) == 0)
			continue;
		if (snprintf(q, sizeof q, "%s._report._dmarc.%s", name, dest) >= (int)sizeof q)
			continue;
		n = dmarc_at(d, q, &auth, NULL);
		free(auth);
		if (n < 0)
			check_add(r, "dmarc", CHECK_UNKNOWN, q, NULL, "DNS did not answer");
		else if (n == 0)
			check_add(r, "dmarc", CHECK_WARN, q, "have the destination publish \"v=DMARC1\" there, or report to your own domain",
			    "reports to %s are not authorized by it: receivers will not send them", dest);
		else
			check_add(r, "dmarc", CHECK_OK, q, NULL, "%s accepts reports for %s", dest, name);
	}
}

/* find_policy - the record for domain, else its organisational domain's; the dmarc findings unless
 * `quiet` (the notice domain's record: `postern check THAT-DOMAIN` judges it) */
static void find_policy(struct dns *d, const struct psl *psl, struct check_report *r0, const char *domain,
			struct policy *p, bool quiet)
{
	struct check_report *none = xcalloc(1, sizeof *none), *r = r0;
	const char *org = org_domain(psl, domain);
	const char *at = domain;
	char q[LIM_DOMAIN + 8], *rec = NULL, why[DMARC_WHY_MAX];
	int n, stray = 0;

	memset(p, 0, sizeof *p);
	none->only = 1UL << 63;	/* an id no check has: every finding dropped */
	if (quiet)
		r = none;
	(void)snprintf(q, sizeof q, "_dmarc.%s", domain);
	n = dmarc_at(d, q, &rec, &stray);
	if (stray > 0 && n == 0)
		check_add(r, "dmarc", CHECK_FAIL, q, "start the record with v=DMARC1",
		    "a record holds v=DMARC1 but does not start with it: receivers ignore it");
	if (n == 0 && strcasecmp(org, domain) != 0) {
		at = org;
		(void)snprintf(q, sizeof q, "_dmarc.%s", org);
		n = dmarc_at(d, q, &rec, NULL);
	}
	if (n < 0) {
		p->unknown = true;
		check_add(r, "dmarc", CHECK_UNKNOWN, q, NULL, "DNS did not answer");
	} else if (n == 0)
		check_add(r, "dmarc", CHECK_WARN, q, "publish \"v=DMARC1; p=none\" to start, then tighten it",
		    "no DMARC record%s%s: receivers apply no policy to mail from %s", at != domain ? " here or at _dmarc." : "",
		    at != domain ? domain : "", domain);
	else if (n > 1)
		check_add(r, "dmarc", CHECK_FAIL, q, "publish exactly one v=DMARC1 record",
		    "%d DMARC records: receivers apply no policy at all (RFC 7489 6.6.3)", n);
	else if (check_dmarc_parse(rec, strlen(rec), &p->rec, why, sizeof why) < 0)
		check_add(r, "dmarc", CHECK_FAIL, q, "correct it, e.g. \"v=DMARC1; p=none\"", "\"%s\": %s", rec, why);
	else {
		p->found = true;
		p->inherited = at != domain;
		check_add(r, "dmarc", CHECK_OK, q, NULL, "\"%s\"%s: policy %s%s", rec,
		    p->inherited ? " (the organisational domain's, for this subdomain)" : "",
		    p->inherited && p->rec.sp[0] ? p->rec.sp : p->rec.p,
		    p->rec.pct < 100 ? ", for a part of the mail (pct)" : "");
		check_reports(d, psl, r, at, &p->rec);
	}
	free(rec);
	free(none);
}

/* signing_domain - the dkim domain that signs mail From fdom: its own, else the nearest parent's
 * (never a top-level domain), as sendmail/compose.c's compose_signing_keys picks it; NULL: none. */
static const char *signing_domain(const struct config *c, const char *fdom)
{
	for (const char *x = fdom; x != NULL && strchr(x, '.') != NULL;) {
		for (size_t i = 0; i < c->ndkim; i++)
			if (strcasecmp(c->dkim[i].domain, x) == 0)
				return c->dkim[i].domain;
		if ((x = strchr(x, '.')) != NULL)
			x++;
	}
	return NULL;
}

/* aligns - whether identifier id aligns with From domain fdom in mode 's' (the same name) or 'r' (the
 * same organisational domain), RFC 7489 3.1. */
static bool aligns(const struct psl *psl, const char *id, const char *fdom, char mode)
{
	return mode == 's' ? strcasecmp(id, fdom) == 0
			   : strcasecmp(org_domain(psl, id), org_domain(psl, fdom)) == 0;
}

/* check_align - whether mail From fdom, signed as postern will, passes DMARC by DKIM, and whether its
 * SPF identity (the envelope sender's domain `envdom`, or for the null sender of notices the HELO
 * name) aligns under aspf. DMARC passes when either does (and passes); DKIM is the one forwarding
 * keeps. */
static void check_align(const struct psl *psl, const struct config *c, struct check_report *r, const char *fdom,
			const char *who, const struct policy *p, const char *envdom, bool null_sender)
{
	const char *k = signing_domain(c, fdom);
	const char *pol = p->inherited && p->rec.sp[0] ? p->rec.sp : p->rec.p;
	bool dkim_ok, spf_ok, enforced;
	char subject[LIM_DOMAIN + 32], fix[DMARC_FIX_MAX], spfwho[LIM_DOMAIN + 64];

	(void)snprintf(subject, sizeof subject, "%s%s", who, fdom);
	if (p->unknown) {
		check_add(r, "align", CHECK_UNKNOWN, subject, NULL, "the DMARC policy could not be read");
		return;
	}
	(void)snprintf(fix, sizeof fix, "add a key for %s (postern dkim-keygen %s SELECTOR)%s", fdom, fdom,
	    k != NULL ? ", or publish adkim=r" : "");
	if (!p->found) {
		if (k == NULL)
			check_add(r, "align", CHECK_WARN, subject, fix, "no dkim key signs it");
		else
			check_add(r, "align", CHECK_OK, subject, NULL, "signed d=%s; no DMARC policy applies", k);
		return;
	}
	enforced = strcmp(pol, "none") != 0;
	dkim_ok = k != NULL && aligns(psl, k, fdom, p->rec.adkim);
	spf_ok = aligns(psl, envdom, fdom, p->rec.aspf);
	/* an unaligned key is judged as before whatever SPF does: SPF passes only where the mail is not
	 * forwarded, and whether it passes is the spf check's */
	if (k == NULL)
		check_add(r, "align", enforced ? CHECK_FAIL : CHECK_WARN, subject, fix,
		    "no dkim key signs it: DMARC passes only if SPF aligns, policy %s", pol);
	else if (dkim_ok)
		check_add(r, "align", CHECK_OK, subject, NULL, "signed d=%s: aligned under adkim=%c", k, p->rec.adkim);
	else
		check_add(r, "align", enforced ? CHECK_FAIL : CHECK_WARN, subject, fix,
		    "signed d=%s: not aligned under adkim=%c, so DMARC %s (policy %s)", k, p->rec.adkim,
		    spf_ok ? "passes only where SPF passes, and forwarding breaks SPF" : "fails", pol);
	if (null_sender)
		(void)snprintf(spfwho, sizeof spfwho, "null envelope sender, so SPF judges the HELO name %s", envdom);
	else
		(void)snprintf(spfwho, sizeof spfwho, "envelope sender @%s (SPF)", envdom);
	if (spf_ok)
		check_add(r, "align", CHECK_OK, subject, NULL, "%s: aligned under aspf=%c", spfwho, p->rec.aspf);
	else if (dkim_ok)
		check_add(r, "align", CHECK_OK, subject, NULL, "%s: not aligned under aspf=%c; DKIM alignment carries DMARC",
		    spfwho, p->rec.aspf);
	else {
		(void)snprintf(fix, sizeof fix, null_sender ? "publish aspf=r, or set hostname to a name under %s" :
		    "send with an envelope sender in %s (sendmail -f, rewrite_sender), or publish aspf=r", fdom);
		check_add(r, "align", enforced ? CHECK_FAIL : CHECK_WARN, subject, fix, "%s: not aligned under aspf=%c",
		    spfwho, p->rec.aspf);
	}
}

void check_dmarc(struct dns *d, const struct config *c, const char *domain, struct check_report *r)
{
	const char *notice = conf_notice_domain(c);
	struct policy p, pn;
	struct psl pl, *psl = &pl;

	psl_open(psl);
	if (psl->ctx == NULL)
		check_add(r, "dmarc", CHECK_WARN, PSL_SONAME, "install libpsl5 and publicsuffix",
		    "cannot be loaded: subdomains are not matched to their organisational domain");

	/* mail From the domain goes out with postern's envelope sender, USER@domain (without -f); notices
	 * with the null sender */
	find_policy(d, psl, r, domain, &p, false);
	check_align(psl, c, r, domain, "From ", &p, c->domain, false);
	if (strcasecmp(notice, domain) != 0) {
		find_policy(d, psl, r, notice, &pn, true);
		check_align(psl, c, r, notice, "notices from MAILER-DAEMON@", &pn, c->hostname, true);
	} else
		check_align(psl, c, r, notice, "notices from MAILER-DAEMON@", &p, c->hostname, true);
	psl_close(psl);
}
