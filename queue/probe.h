/*
 * probe.h - the checks of `postern check` that talk SMTP, with the queue side's own client (smtp.h,
 * tls.h, auth.h), so that what check finds is what delivery will meet: whether outgoing port 25 is
 * open, and whether each smarthost takes our TLS and credentials.
 *
 * conf/check.c may not call this room (DESIGN.md: the arrows point from queue to conf), so the
 * `check` command hands it probe_net (conf/check.h, struct check_net). Each probe adds findings to
 * the report: "port25" and "smarthost" (postern-check(8)).
 *
 * Untrusted input: DNS answers (lib/dns) and everything the servers send (queue/smtp). Nothing here
 * sends mail.
 */
#ifndef POSTERN_PROBE_H
#define POSTERN_PROBE_H

#include "conf/check.h"

/* Time limits of the port 25 and smarthost probes (ms): short, so a blocked port costs seconds, not
 * the minutes delivery would wait (timeout_connect, timeout_greeting). */
#define PROBE_CONNECT_MS 8000
#define PROBE_GREETING_MS 15000
#define PROBE_COMMAND_MS 15000
#define PROBE_SESSION_MS 60000

/* probe_net - the probes below, for check_main. */
extern const struct check_net probe_net;

/* probe_port25 - without a smarthost (or with routes that go direct): a TCP connection to port 25 of
 * check_port25_host ("none": skipped), from source_address when set, and its greeting. Refused, timed
 * out or no greeting: FAIL, the provider blocks port 25. DNS failure: unknown. */
void probe_port25(struct dns *d, const struct config *c, struct check_report *r);
/* probe_smarthost - each host of the smarthost line (its first address): connect, TLS as
 * smarthost_tls says with a verified certificate, AUTH with smarthost_auth, QUIT. No mail is sent. */
void probe_smarthost(struct dns *d, const struct config *c, struct check_report *r);

#endif
