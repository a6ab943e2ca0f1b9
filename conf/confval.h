/*
 * confval.h - the syntax of postern.conf values, shared by the config and aliases parsers.
 *
 * Untrusted input: the spans given (bytes from a configuration or aliases file). All pure.
 * Errors: false / -1, the caller words the message.
 */
#ifndef POSTERN_CONFVAL_H
#define POSTERN_CONFVAL_H

#include <stdbool.h>

#include "conf/config.h"
#include "lib/buf.h"

#define CONF_HOST_MAX 253	/* RFC 1035 2.3.4: 255 octets on the wire, 253 as text */
#define CONF_LABEL_MAX 63

/* conf_host_ok - LDH labels separated by dots, each 1..63, no hyphen at either end, at most 253. */
bool conf_host_ok(struct span s);
/* conf_fqdn_ok - a name mail may go out under: conf_host_ok, at least two labels, a top label that is
 * not all digits, and not localhost or under .localhost / .localdomain (RFC 6761). */
bool conf_fqdn_ok(struct span s);
/* conf_host_dup - a lower-case copy of a name conf_host_ok accepted. */
char *conf_host_dup(struct span s);
/* conf_path_ok - absolute, printable, no whitespace, shorter than PATH_MAX. */
bool conf_path_ok(struct span s);
/* conf_canon_parse - "relaxed", "simple", or "HEADER/BODY" with each relaxed|simple. 0 or -1. */
int conf_canon_parse(struct span v, enum dkim_canon *h, enum dkim_canon *b);

#endif
