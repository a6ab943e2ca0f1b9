/* spfzone.h - an in-memory zone answering conf/spf.h's lookup callback, for the SPF tests.
 * Names match case-insensitively (a trailing dot ignored); CNAMEs are followed; a TIMEOUT entry
 * makes every question for its name that no record answers DNS_TEMPFAIL; a name with records of other types is
 * DNS_NODATA, an unknown name DNS_NXDOMAIN. Header-only. */
#ifndef POSTERN_TEST_SPFZONE_H
#define POSTERN_TEST_SPFZONE_H

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/spf.h"
#include "lib/buf.h"

#define ZONE_T_TIMEOUT (-1)
#define ZONE_T_MALFORMED (-2)	/* a TXT answer lib/dns refuses (DNS_FAIL) */

struct zrr {
	char *name, *value;
	int type;
};

struct zone {
	struct zrr *rr;
	size_t n, cap;
	int queries;
};

static inline int zone_type(const char *s)
{
	static const struct { const char *n; int t; } types[] = {
		{ "TXT", DNS_T_TXT }, { "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "MX", DNS_T_MX },
		{ "PTR", DNS_T_PTR }, { "CNAME", DNS_T_CNAME }, { "TIMEOUT", ZONE_T_TIMEOUT },
		{ "MALFORMED", ZONE_T_MALFORMED },
	};

	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (strcmp(s, types[i].n) == 0)
			return types[i].t;
	return 0;
}

static inline void zone_add(struct zone *z, const char *name, int type, const char *value)
{
	size_t l = strlen(name);

	if (z->n == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 16;
		z->rr = xreallocarray(z->rr, z->cap, sizeof *z->rr);
	}
	if (l > 0 && name[l - 1] == '.')
		l--;
	z->rr[z->n].name = xstrndup(name, l);
	z->rr[z->n].type = type;
	z->rr[z->n].value = xstrdup(value);
	z->n++;
}

/* zone_load - lines "NAME TYPE VALUE" (VALUE: the rest of the line). */
static inline void zone_load(struct zone *z, const char *text)
{
	while (*text != '\0') {
		const char *nl = strchr(text, '\n'), *e = nl ? nl : text + strlen(text);
		char line[1024], *sp1, *sp2;

		snprintf(line, sizeof line, "%.*s", (int)(e - text), text);
		if ((sp1 = strchr(line, ' ')) != NULL) {
			*sp1++ = '\0';
			if ((sp2 = strchr(sp1, ' ')) != NULL)
				*sp2++ = '\0';
			zone_add(z, line, zone_type(sp1), sp2 ? sp2 : "");
		}
		text = nl ? nl + 1 : e;
	}
}

static inline void zone_clear(struct zone *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->rr[i].name), free(z->rr[i].value);
	z->n = 0;
	z->queries = 0;
}

static inline enum dns_result zone_lookup(void *ctx, const char *qname, int qtype, char ***v, size_t *n)
{
	struct zone *z = ctx;
	char name[300];
	bool exists = false, timeout = false;
	size_t l = strlen(qname);

	z->queries++;
	*v = NULL, *n = 0;
	if (l > 0 && qname[l - 1] == '.')
		l--;
	snprintf(name, sizeof name, "%.*s", (int)l, qname);
	for (int hop = 0; hop < 8; hop++) {
		const char *cname = NULL;

		for (size_t i = 0; i < z->n; i++) {
			if (strcasecmp(z->rr[i].name, name) != 0)
				continue;
			exists = true;
			if (z->rr[i].type == ZONE_T_TIMEOUT)
				timeout = true;
			if (z->rr[i].type == ZONE_T_MALFORMED && qtype == DNS_T_TXT) {
				spf_strings_free(*v, *n);
				*v = NULL, *n = 0;
				return DNS_FAIL;
			}
			if (z->rr[i].type == DNS_T_CNAME)
				cname = z->rr[i].value;
			if (z->rr[i].type == qtype) {
				*v = xreallocarray(*v, *n + 1, sizeof **v);
				(*v)[(*n)++] = xstrdup(z->rr[i].value);
			}
		}
		if (*n > 0 || timeout || cname == NULL)
			break;
		snprintf(name, sizeof name, "%s", cname);
	}
	if (*n > 0)
		return DNS_OK;
	if (timeout)
		return DNS_TEMPFAIL;
	return exists ? DNS_NODATA : DNS_NXDOMAIN;
}

#endif
