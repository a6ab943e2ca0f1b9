#include "queue/envelope.h"
#include "lib/buf.h"
enum dsn_kind { DSN_FAILED, DSN_DELAYED };
int dsn_compose(const struct envelope *env, const char *orig_headers, size_t hlen, enum dsn_kind kind, const char *reporting_mta, long long now, const char *boundary, struct buf *out, struct err *e);
