/*
 * confval.h - the syntax of postern.conf values, shared by the config and aliases parsers.
 *
 * Untrusted input: the spans given (bytes from a configuration or aliases file). All pure.
 * Errors: false / -1, the caller words the message.
 */
#ifndef POSTERN_CONFVAL_H
#define POSTERN_CONFVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* A DKIM canonicalization (RFC 6376 3.4), of the header section or the body. */
enum dkim_canon { CANON_RELAXED, CANON_SIMPLE };

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

/* conf_duration_parse - "30", "30s", "5m", "4h", "5d", "1w" to seconds. -1 on error. Pure. */
long conf_duration_parse(const char *s, size_t n);

/* conf_size_parse - "50000000", "50M", "512k", "1G" (powers of 1000... see postern.conf.5). -1 on error. */
long long conf_size_parse(const char *s, size_t n);

#endif
