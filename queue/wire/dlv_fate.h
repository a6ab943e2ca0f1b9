/*
 * dlv_fate.h - what an attempt means for a recipient: delivered, deferred or failed, and the RFC 3463
 * status its DSN and the log carry. One pure function over (the step, the server's reply or a local
 * cause), in the manner of Postfix's smtp_trouble.c, so that every rule is one row of a table
 * (tests/unit/test_dlv_fate.c) instead of a literal at the place it happened.
 *
 * The rules (RFC 5321 4.2.1, 4.3.2; RFC 3463 2, 3):
 *   - a reply of the class the step wants is the step going on; at the end of data it is delivery;
 *   - 4xx defers; 5xx to MAIL, RCPT, DATA or the end of data fails the recipient, but 5xx to the
 *     greeting, EHLO/HELO, STARTTLS, AUTH, RSET or QUIT defers: that is the host refusing us, no
 *     verdict on the recipient (another host, or an admin fixing credentials, may get it through);
 *     552 to RCPT is taken as 452 (RFC 5321 4.5.3.1.10: "too many recipients" was 552 in RFC 821);
 *   - any other code (a 3xx where 2xx is due, out of 200..599) is a protocol error: deferred 4.5.0;
 *   - a server's enhanced status is kept when its class is the reply's (RFC 3463 3: the class must
 *     agree), else the class default X.0.0 is used; when a 5xx only defers, its status becomes 4.y.z;
 *   - a local cause has one fixed status (the enum below says which).
 *
 * Untrusted input: the reply code (any int) and the enhanced status (any string, or NULL): a status
 * that is not RFC 3463 "class.subject.detail" of the reply's class is replaced, never copied blindly.
 */
#ifndef POSTERN_DLV_FATE_H
#define POSTERN_DLV_FATE_H

#include <stddef.h>

#include "queue/wire/smtp_step.h"

/* What becomes of a recipient. DLV_UNTRIED: the message was taken but never committed to a
 * connection (the destination kept dropping connections, or postern is stopping): it goes back
 * untouched, no attempt counted (deliver.h). */
enum dlv_state { DLV_SENT = 'S', DLV_DEFER = 'D', DLV_FAIL = 'F', DLV_UNTRIED = 'U' };

/* What the attempt came to, when it was not (only) the server's reply. */
enum dlv_cause {
	DLV_C_REPLY,		/* the server's reply: code and enhanced status decide */
	DLV_C_PROTO,		/* a reply of the wrong class, malformed: 4.5.0 (protocol status) */
	DLV_C_CONNECT,		/* no connection to any host: 4.4.1 (no answer from host) */
	DLV_C_LOST,		/* connection lost, timeout: 4.4.2 (bad connection) */
	DLV_C_DNS_TEMP,		/* DNS temporary failure: 4.4.3 (directory server failure) */
	DLV_C_NO_HOSTS,		/* no usable address for the MX hosts: 4.4.4 (unable to route) */
	DLV_C_NXDOMAIN,		/* the domain does not exist: 5.1.2 (bad destination system address) */
	DLV_C_NULLMX,		/* null MX (RFC 7505 3): 5.1.10 (RFC 7505 4.2) */
	DLV_C_ROUTE_PERM,	/* a permanent routing failure: 5.4.4 (unable to route) */
	DLV_C_TLS_MISSING,	/* TLS required, STARTTLS not offered: 4.7.4 (security features not
				 * supported) */
	DLV_C_TLS_FAILED,	/* TLS handshake or verification failed: 4.7.5 (cryptographic failure) */
	DLV_C_AUTH,		/* AUTH could not be done (no usable mechanism): 4.7.0 (security, other) */
	DLV_C_LOCAL,		/* a failure on this host: 4.3.0 (mail system, other) */
	DLV_C_SHUTDOWN,		/* postern is stopping: 4.3.2 (system not accepting messages) */
	DLV_C_SMTPUTF8,		/* needs SMTPUTF8, not offered: 4.6.7 (RFC 6531 3.5, RFC 6533 3.1) */
	DLV_C_EXPIRED,		/* queue_lifetime passed: 4.4.7 (delivery time expired); it fails */
	DLV_C_8BIT,		/* 8-bit, no 8BITMIME, and it cannot be made 7-bit: 5.6.3 (conversion
				 * required but not supported; RFC 6152 3) */
	DLV_C_N
};

/* Room for "x.yyy.zzz" (RFC 3463 2: at most three digits in subject and detail). */
#define DLV_STATUS_MAX 12

struct dlv_fate {
	enum dlv_state state;	/* DLV_SENT, DLV_DEFER or DLV_FAIL */
	char status[DLV_STATUS_MAX];
};

/* dlv_fate - the recipient's fate after `step` ended with `cause`; for DLV_C_REPLY, the reply's
 * `code` and its enhanced `status` (NULL or "" if none) decide. A positive reply is delivery only at
 * SMTP_STEP_DOT; at another step it means the step went on (DLV_SENT, which the caller does not
 * record). Step and code are ignored for the other causes. Pure. */
struct dlv_fate dlv_fate(enum smtp_step step, int code, const char *status, enum dlv_cause cause);

/* dlv_host_step - whether a refusal at `step` is about the host (the session), not the recipient. */
bool dlv_host_step(enum smtp_step step);

/* What a refusal says about the sending host rather than the recipient: a receiver that will not take
 * mail from this address (fallback_relay sends it another way). */
enum dlv_refusal {
	DLV_R_NONE,		/* about the recipient or the message, or nothing known */
	DLV_R_REPUTATION,	/* the address's reputation, rate of unsolicited mail (Gmail 4.7.28) */
	DLV_R_RDNS,		/* no or a mismatched reverse DNS, PTR (Gmail 5.7.25) */
	DLV_R_BLOCKLIST,	/* listed on a block list (Spamhaus, Barracuda, Microsoft S3140/S3150) */
	DLV_R_AUTH,		/* the sender is unauthenticated (Gmail 5.7.26: SPF/DKIM/DMARC) */
};

/* DLV_REFUSAL_SCAN - how much of a reply's text dlv_refusal reads */
#define DLV_REFUSAL_SCAN 4096

/* dlv_refusal - whether a 4xx or 5xx reply (its code, enhanced status or NULL, and text of len bytes,
 * lines joined with LF) refuses the sending host: by the enhanced status Gmail gives, else by words in
 * the text (case-insensitive, whole words: "reputation", "reverse DNS", "PTR", "Spamhaus", "Barracuda",
 * "block list", "blacklisted", "S3150", ...). A status about the recipient's address or mailbox
 * (x.1.y, x.2.y: user unknown, mailbox full) is never one, whatever the text says. Untrusted input;
 * pure. */
enum dlv_refusal dlv_refusal(int code, const char *status, const char *text, size_t len);

/* dlv_refusal_name - "reputation", "reverse DNS", "a block list", "sender authentication" ("" for
 * DLV_R_NONE): the log's "direct delivery refused for NAME". */
const char *dlv_refusal_name(enum dlv_refusal r);

#endif
