/*
 * deliver.h - one destination's deliveries: route, connect, TLS policy, AUTH, and the transactions
 * of every message bound there, over as few connections as possible.
 *
 * Runs in a worker process forked by the runner (runner.h). It never changes the spool: each
 * recipient's outcome is reported through a callback, and the runner records it durably.
 * Untrusted input: DNS answers, everything the servers send (parsed in lib/dns and queue/smtp).
 */
#ifndef POSTERN_DELIVER_H
#define POSTERN_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

/* Connections a message may be lost on in one pass before it is deferred. */
#define DLV_TRIES 3
/* How often a connection pausing for destination_rate_delay tells the runner it is alive (ms; under
 * RUNQ_STALL_MS). */
#define DLV_ALIVE_MS 400
/* Connections in a row to one host that may end with no message answered. */
#define DLV_NOPROGRESS 3

#include "conf/config.h"
#include "lib/dns.h"
#include "lib/err.h"
#include "queue/wire/dlv_fate.h"
#include "queue/wire/route.h"
#include "queue/wire/smtp.h"
#include "queue/wire/tls.h"

/* One message's share of the destination. */
struct dlv_msg {
	const char *id;
	const char *sender;		/* "" = null sender */
	long long size;
	bool body8bit, smtputf8;
	enum smtp_ret ret;		/* DSN RET (-R), SMTP_RET_NONE if not asked for */
	const char *envid;		/* DSN ENVID (-V), or NULL */
	const char *prefix;		/* header lines sent before the data file (CRLF), or "" */
	size_t prefixlen;
	int datafd;			/* the locked data file; its first `size` bytes, read only with pread */
	const struct smtp_rcpt_params *rcpt;	/* recipients at this destination, with NOTIFY/ORCPT */
	size_t nrcpt;
};

/* enum dlv_state (sent, deferred, failed, untried) is dlv_fate.h's. */

/* The text fields of a result, NUL included (runq_line.h's RUNQ_*_MAX carry them to the runner). */
#define DLV_STATUS_MAX 12	/* an RFC 3463 code: "5.1.1" and up to three digits a part */
#define DLV_RELAY_MAX 300	/* a host name (LIM_DOMAIN), "[192.0.2.1]:25" */
#define DLV_TLS_MAX 64
#define DLV_DIAG_MAX 600

struct dlv_result {
	size_t msg;		/* index into the dlv_msg array */
	size_t rcpt;		/* index into that message's rcpt array */
	enum dlv_state state;
	char status[DLV_STATUS_MAX];	/* "2.0.0", "4.4.1", "5.1.1" */
	char relay[DLV_RELAY_MAX];	/* "mx.example.com[192.0.2.1]:25" or "none" */
	char tls[DLV_TLS_MAX];		/* "TLSv1.3/verified", "none" */
	char diag[DLV_DIAG_MAX];	/* the server's reply or our reason, one line, made safe */
};

typedef void dlv_report_fn(void *ctx, const struct dlv_result *r);

struct dlv_cred {
	const char *user, *pass;	/* NULL: no AUTH */
};
struct dlv_auth {
	const char *user, *pass;	/* smarthost_auth FILE: every smarthost's; NULL: no AUTH */
	struct dlv_cred host[CONF_SMARTHOSTS];	/* smarthost_auth HOST FILE, by its index (config.h) */
};

/* Where the messages come from: the runner hands them out one by one, and may take back one that was
 * not started yet (runq_worker.c). */
struct dlv_source {
	/* take - the next message, an index into dlv_dest.msg; -1: no more; -2: none yet (!wait only) */
	long (*take)(void *ctx, bool wait);
	/* start - message m is about to be committed to a connection (its MAIL FROM, or the body of a
	 * pipelined one): false if it was taken back (it is then no longer this worker's to report) */
	bool (*start)(void *ctx, size_t m);
	/* alive - (may be NULL) the connection is idle on purpose (destination_rate_delay), not stalled */
	void (*alive)(void *ctx);
	void *ctx;
};

struct dlv_dest {
	const char *domain;		/* recipient domain; NULL for the smarthost or relay */
	const struct conf_relay *relay;	/* with domain NULL: a sender's relay (sender_route), treated as a
					 * smarthost (smarthost_tls, its TLS policy and AUTH); NULL: the
					 * smarthost */
	struct dlv_msg *msg;		/* every message of the destination; only those taken are sent */
	size_t nmsg;
	struct dlv_source src;
};

/* A message's 7-bit form, for a hop that does not offer 8BITMIME (RFC 6152 section 3): its text parts
 * re-encoded as quoted-printable and signed afresh. Made by the runner's side (dlv_form_fn), sent
 * instead of the stored form, released with dlv_form_free. */
struct dlv_form {
	int fd;			/* the converted message in its first `size` bytes; -1: none */
	long long size;
	char *prefix;		/* header lines sent before it (CRLF): the new DKIM-Signature fields first */
	size_t prefixlen;
};

enum dlv_form_result {
	DLV_FORM_ASIS,		/* nothing 8-bit in it after all: the stored form goes */
	DLV_FORM_MADE,		/* f holds the 7-bit form */
	DLV_FORM_IMPOSSIBLE,	/* it cannot be made 7-bit (e says why): the recipients fail, 5.6.3 */
	DLV_FORM_FAILED,	/* a local failure (e says which): the recipients are deferred */
};

/* dlv_form_fn - the 7-bit form of message m of the destination into f. */
typedef enum dlv_form_result dlv_form_fn(void *ctx, size_t m, struct dlv_form *f, struct err *e);

/* dlv_form_free - close and free what f holds; f is empty after. */
void dlv_form_free(struct dlv_form *f);

struct dlv_env {
	const struct config *c;
	struct dns *dns;
	struct tls_client_ctx *tls;	/* may be NULL: TLS unavailable (then policies above may defer) */
	struct dlv_auth auth;
	smtp_transcript_fn *transcript;	/* -v */
	void *transcript_ctx;
	dlv_report_fn *report;
	void *report_ctx;
	route_rnd_fn *rnd;		/* for shuffling equal MX preferences */
	volatile int *stop;		/* set by SIGTERM: finish the transaction, start no other */
	void *rndctx;
	dlv_form_fn *form;		/* may be NULL: an 8-bit message goes as it is (logged) */
	void *form_ctx;
};

/* deliver_dest - deliver what the source hands out for one destination, reporting every recipient of
 * every message taken exactly once. A connection lost in a transaction is opened again (the message in
 * it at most DLV_TRIES times); a host whose connections end DLV_NOPROGRESS times in a row with no
 * message answered is given up for the next. A destination on which nothing could be delivered at all
 * (no route, no usable host) is a verdict on all its mail: every message is taken and reported; one
 * that worked until it gave up reports the messages it had not started as DLV_UNTRIED and takes no
 * more. */
void deliver_dest(const struct dlv_env *env, const struct dlv_dest *d);

#endif
