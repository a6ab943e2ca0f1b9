/* TEMPORARY stand-in until the spool branch lands: composes nothing. */
#include "queue/dsn.h"
int dsn_compose(const struct envelope *env, const char *orig_headers, size_t hlen, enum dsn_kind kind, const char *reporting_mta, long long now, const char *boundary, struct buf *out, struct err *e) { (void)env;(void)orig_headers;(void)hlen;(void)kind;(void)reporting_mta;(void)now;(void)boundary;(void)out;(void)e; return 0; }
