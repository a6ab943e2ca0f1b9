/*
 * tls_policy.c - which TLS level a destination gets. See tls_policy.h.
 */
#include "queue/wire/tls_policy.h"

#include <string.h>
#include <strings.h>

/* tls_policy_for - see tls_policy.h */
enum tls_level tls_policy_for(const struct config *c, const char *domain)
{
	const char *d = domain;

	if (domain == NULL)
		return c->smarthost_tls == SMARTHOST_TLS_NONE ? TLS_NONE : TLS_VERIFY;
	while (d != NULL && *d != '\0') {
		for (size_t i = 0; i < c->ntls_policy; i++)
			if (strcasecmp(c->tls_policy[i].domain, d) == 0)
				return c->tls_policy[i].level;
		if ((d = strchr(d, '.')) != NULL)
			d++;
	}
	return c->tls;
}

/* tls_policy_any - see tls_policy.h */
bool tls_policy_any(const struct config *c)
{
	if (c->nsender_route > 0 && c->smarthost_tls != SMARTHOST_TLS_NONE)
		return true;	/* a sender's relay is a smarthost */
	if (c->smarthost != NULL)
		return c->smarthost_tls != SMARTHOST_TLS_NONE;
	if (c->tls != TLS_NONE)
		return true;
	for (size_t i = 0; i < c->ntls_policy; i++)
		if (c->tls_policy[i].level != TLS_NONE)
			return true;
	return false;
}
