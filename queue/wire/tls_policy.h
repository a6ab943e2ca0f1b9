/*
 * tls_policy.h - the wire family's TLS policy: what TLS a delivery to a destination asks for.
 *
 * The configuration only parses (tls, tls_policy, smarthost_tls into struct config); the decision of
 * which level applies to a destination is made here, next to the SMTP client that applies it, so that
 * the next sources of policy (MTA-STS, REQUIRETLS, DANE) become rows of this lookup rather than new
 * questions asked of the parser.
 *
 * Untrusted input: the destination domain (from a recipient address, already parsed). Errors: none;
 * pure functions of the configuration.
 */
#ifndef POSTERN_TLS_POLICY_H
#define POSTERN_TLS_POLICY_H

#include <stdbool.h>

#include "conf/config.h"

/* tls_policy_for - the TLS level for mail to `domain`: the most specific tls_policy line (the domain
 * itself, then each parent, case-insensitively), else tls. domain NULL means the smarthost: none when
 * smarthost_tls is none, verify otherwise. */
enum tls_level tls_policy_for(const struct config *c, const char *domain);

/* tls_policy_any - whether any delivery could use TLS (smarthost_tls when there is a smarthost or a
 * sender_route, else tls and every tls_policy line), i.e. whether a TLS context is worth loading. */
bool tls_policy_any(const struct config *c);

#endif
