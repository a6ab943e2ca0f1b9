/*
 * probe.h - the checks of `postern check` that talk SMTP, with the queue side's own client (smtp.h,
 * tls.h, auth.h), so that what check finds is what delivery will meet: whether outgoing port 25 is
 * open, whether each smarthost takes our TLS and credentials, and --send's test message.
 *
 * conf/check.c may not call this room (DESIGN.md: the arrows point from queue to conf), so the
 * `check` command hands it probe_net (conf/check.h, struct check_net). Each probe adds findings to
 * the report: "port25", "smarthost" and "send" (postern-check(8)).
 *
 * Untrusted input: DNS answers (lib/dns), everything the servers send (queue/smtp), and the queue
 * run's status lines (probe_status_parse, which carry a server's reply). Nothing here sends mail but
 * --send, which goes through the front door and the normal queue run like any message.
 */
#ifndef POSTERN_PROBE_H
#define POSTERN_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/check.h"

/* Time limits of the port 25 and smarthost probes (ms): short, so a blocked port costs seconds, not
 * the minutes delivery would wait (timeout_connect, timeout_greeting). */
#define PROBE_CONNECT_MS 8000
#define PROBE_GREETING_MS 15000
#define PROBE_COMMAND_MS 15000
#define PROBE_SESSION_MS 60000

/* probe_net - the three probes below, for check_main. */
extern const struct check_net probe_net;

/* probe_port25 - without a smarthost (or with routes that go direct): a TCP connection to port 25 of
 * check_port25_host ("none": skipped), from source_address when set, and its greeting. Refused, timed
 * out or no greeting: FAIL, the provider blocks port 25. DNS failure: unknown. */
void probe_port25(struct dns *d, const struct config *c, struct check_report *r);
/* probe_smarthost - each host of the smarthost line (its first address): connect, TLS as
 * smarthost_tls says with a verified certificate, AUTH with smarthost_auth, QUIT. No mail is sent. */
void probe_smarthost(struct dns *d, const struct config *c, struct check_report *r);
/* probe_send - a test message to `to`: submitted through the front door (-odq), then delivered by a
 * queue run of that message alone in the foreground; its status line is the finding (probe_send.c). */
void probe_send(const struct config *c, const char *to, struct check_report *r);

/* One recipient's outcome as the queue run's status line tells it: "ID: to=<ADDR>, relay=R,
 * delay=D, tls=T, dsn=S, status=WORD (DIAG)" (queue/run/runq.c, runq_apply). */
#define PROBE_FIELD_MAX 600
struct probe_status {
	char to[PROBE_FIELD_MAX], relay[PROBE_FIELD_MAX], tls[64], dsn[16], status[16];
	char diag[PROBE_FIELD_MAX];
};

/* probe_status_parse - the status line of message `id` in line[0..len) (anything before "ID: to=<"
 * is skipped, e.g. the log's "postern/sendmail: "). 0 and *st, or -1: not such a line, or a field
 * too long. Pure. */
int probe_status_parse(const char *line, size_t len, const char *id, struct probe_status *st);

#endif
