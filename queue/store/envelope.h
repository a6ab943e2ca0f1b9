/*
 * envelope.h - the envelope record: who sent a queued message, to whom, and how delivery is going.
 *
 * NAME
 *	envelope - who sent a queued message, to whom, and how delivery is going
 * DESCRIPTION
 *	The record is stored at the end of the message's data file, as submitted (followed by the
 *	"ENVELOPE-LENGTH" trailer), and after a delivery attempt in deferred/ID, which takes its place
 *	(spool.h has the layout). This module only parses and formats the text.
 *	One record per line, "KEY value\n": a space always separates key and value, the value is free
 *	text to the end of the line. The keys come in one fixed order (below); optional keys may be
 *	absent, repeatable ones may repeat. Because the order and the spelling of every value (numbers
 *	without leading zeros, fixed keywords) are canonical, env_format(env_parse(x)) == x for every x
 *	that env_parse accepts.
 *
 *	VERSION 1
 *	ID <19 upper-case hex digits>
 *	ARRIVAL <unix time>
 *	SENDER <address>		(empty value: the null sender <>)
 *	SIZE <data file bytes>
 *	BODY 7BIT | 8BITMIME
 *	SMTPUTF8 0 | 1
 *	ENVID <text>			optional (-V)
 *	RET FULL | HDRS			optional (-R; absent = default)
 *	UID <uid>
 *	NEXT-TRY <unix time>		0 = now
 *	ATTEMPTS <n>
 *	WARNED 0 | 1
 *	BOUNCE 0 | 1
 *	HELD 1			optional: on hold (postern queue hold); absent = not held
 *	HISTORY <time> <status> <tls> <host> <address> <reply>
 *				repeated, 0..ENV_MAX_HISTORY, oldest first: one line per host
 *				tried in a pass (see HISTORY below)
 *	PREPEND <header line>		repeated, 0..ENV_MAX_PREPEND; continuation lines start with TAB
 *	then 1..LIM_RCPTS recipient blocks:
 *	RCPT <address>
 *	R-ORCPT <text>			optional
 *	R-STATE pending | sent | failed | done--- | failed- | delayed
 *	R-ATTEMPTS <n>
 *	R-NOTIFY NEVER | SUCCESS,FAILURE,DELAY (any non-empty subset, in this order)   optional
 *	R-STATUS <class.subject.detail>	optional (RFC 3463)
 *	R-RELAY <text>			optional
 *	R-DIAG <text>			optional, <= ENV_MAX_DIAG bytes
 *	and last:
 *	END <number of recipients>	(catches a truncated file)
 *
 *	IN-PLACE STATES. "done---", "failed-" and "delayed" are as wide as "pending": a runner that
 *	cannot rewrite the file (full disk, I/O error, a value it cannot spell) overwrites a pending
 *	recipient's word in place instead, which needs no new block, so that a recipient whose 2xx was
 *	read is never sent to again (Postfix marks a recipient done in its queue file the same way).
 *	done--- = RCPT_SENT: nothing more to do (delivered, or its failure already reported);
 *	failed- = RCPT_FAILED: failed, its report is still owed; delayed = RCPT_PENDING: its last
 *	attempt could not be recorded (the spool holds the message for a while, see spool.h).
 *	They read back with `inplace` set, so they too round-trip.
 * HISTORY
 *	The attempts, newest kept: when a pass tries another host and ENV_MAX_HISTORY are kept, the
 *	oldest goes. <time> is a unix time; <status> an RFC 3463 code (the outcome: 2 sent, 4 deferred,
 *	5 failed); <tls> ("none", "TLSv1.3/verified"), <host> and <address> ("192.0.2.1:25") are
 *	single words of printable ASCII, "-" when there was none (no host could be resolved); <reply>,
 *	the server's reply or postern's reason, one line of at most ENV_MAX_HIST_REPLY bytes. An
 *	envelope written before history was kept has none, and reads as it did. A deferral that must be
 *	recorded in place (IN-PLACE STATES) loses the pass's history entries, never a recipient's state.
 * SIZE
 *	What a runner writes back grows from what was submitted (at most LIM_ENVELOPE_FILE) by at most
 *	ENV_RCPT_GROWTH per recipient (attempt count, status, relay, diagnostic, each capped) and
 *	ENV_HEAD_GROWTH, so ENV_MAX_FILE, derived from these, always holds a deferral: a peer answering
 *	every RCPT of a 10,000-recipient message with a long 450 cannot make it unwritable.
 * UNTRUSTED INPUT
 *	env_parse reads a spool file. The spool is only writable by the postern group, but the parser is
 *	still strict and pure: it never trusts a length or count it did not check.
 * ERRORS
 *	env_parse: "envelope line N: reason" with EX_DATAERR. env_format refuses a struct it could
 *	not read back (same checks), with EX_SOFTWARE (the caller built a bad envelope).
 */
#ifndef POSTERN_ENVELOPE_H
#define POSTERN_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/limits.h"

/* A queue id is exactly 8 + 5 + 6 upper-case hex digits (see spool.h). */
#define ENV_ID_LEN 19
/* A diagnostic (last reply or reason): one line, this many bytes at most. */
#define ENV_MAX_DIAG 1000
/* Header lines prepended before the data file (Received, DKIM-Signature folded lines). */
#define ENV_MAX_PREPEND 1000
/* A relay name ("mx.example.net[192.0.2.1]:25"): a host name plus an address and a port. */
#define ENV_MAX_RELAY (LIM_DOMAIN + 64)
/* ENVID (RFC 3461 4.4 allows 100 characters; -V comes from argv) and ORCPT (the caller's form). */
#define ENV_MAX_ENVID LIM_ARG
#define ENV_MAX_ORCPT LIM_ARG

/* The history of attempts: entries kept (the newest), and the ceilings of their words. */
#define ENV_MAX_HISTORY 10
#define ENV_MAX_HIST_REPLY 300
#define ENV_MAX_HIST_TLS 64
#define ENV_MAX_HIST_ADDR 64	/* an IPv4 or IPv6 address and a port */
/* One HISTORY line at its widest: "HISTORY " time status tls host address reply "\n". */
#define ENV_HIST_LINE_MAX (8 + 12 + 1 + 9 + 1 + ENV_MAX_HIST_TLS + 1 + LIM_DOMAIN + 1 + ENV_MAX_HIST_ADDR + 1 + \
			   ENV_MAX_HIST_REPLY + 1)

/* What recording outcomes may add to one recipient block: R-ATTEMPTS from "0" to ENV_MAX_ATTEMPTS
 * (6 more digits), "R-STATUS x.yyy.zzz\n", "R-RELAY <ENV_MAX_RELAY>\n", "R-DIAG <ENV_MAX_DIAG>\n"
 * (state words never grow). */
#define ENV_RCPT_GROWTH (6 + (9 + 9 + 1) + (8 + ENV_MAX_RELAY + 1) + (7 + ENV_MAX_DIAG + 1))
/* ... and to the head: NEXT-TRY from "0" to 12 digits, ATTEMPTS from "0" to 7, "HELD 1\n" (7; an
 * administrator's hold), and a full history (the submission's envelope has none: submit.c clears it). */
#define ENV_HEAD_GROWTH (11 + 6 + 7 + ENV_MAX_HISTORY * ENV_HIST_LINE_MAX)
/* The largest envelope file: a submitted one (LIM_ENVELOPE_FILE) after any outcomes. */
#define ENV_MAX_FILE ((size_t)LIM_ENVELOPE_FILE + (size_t)LIM_RCPTS * ENV_RCPT_GROWTH + ENV_HEAD_GROWTH)
/* An in-place state word is this wide ("pending"). */
#define ENV_STATE_WIDTH 7

#define NOTIFY_SUCCESS 1
#define NOTIFY_FAILURE 2
#define NOTIFY_DELAY 4
#define NOTIFY_NEVER 8

enum rcpt_state { RCPT_PENDING, RCPT_SENT, RCPT_FAILED };	/* deferred = pending with attempts > 0 */

struct env_rcpt {
	char *addr;
	char *orcpt;		/* original form given by the caller, or NULL */
	enum rcpt_state state;
	int attempts;
	char *status;		/* "4.4.1", or NULL */
	char *diag;		/* last reply or reason, single line, <= ENV_MAX_DIAG bytes, or NULL */
	char *relay;		/* last relay tried, or NULL */
	int notify;		/* NOTIFY_* bits; 0 = default */
	bool inplace;		/* state spelled the in-place way (done---, failed-, delayed) */
	size_t state_at;	/* env_parse: offset of the R-STATE value in the text read (else 0) */
};

/* One attempt on one host (HISTORY). Every string is owned and non-empty. */
struct env_hist {
	long long time;
	char *status;		/* "4.4.1" */
	char *tls;		/* "none", "TLSv1.3/verified" */
	char *host;		/* "mx.example.net", or "-" */
	char *addr;		/* "192.0.2.1:25", or "-" */
	char *reply;		/* one line, <= ENV_MAX_HIST_REPLY bytes */
};

struct envelope {
	char id[ENV_ID_LEN + 1];
	long long arrival;	/* unix time */
	char *sender;		/* "" = null sender <> */
	long long size;		/* data file bytes */
	bool body8bit;
	bool smtputf8;
	char *envid;		/* -V, or NULL */
	int ret;		/* 0 default, 1 FULL, 2 HDRS (-R) */
	uid_t uid;
	long long next_try;	/* 0 = now */
	int attempts;
	bool warned;		/* delay warning sent */
	bool is_bounce;		/* a DSN we generated: never bounce it */
	bool held;		/* on hold (postern queue hold): never selected, never expires */
	struct env_hist *hist;	/* oldest first, at most ENV_MAX_HISTORY */
	size_t nhist;
	char **prepend;		/* header lines sent before the data file, each WITHOUT CRLF; */
	size_t nprepend;	/* continuation lines start with TAB */
	struct env_rcpt *rcpt;
	size_t nrcpt;
};

/* env_parse - read an envelope file (len bytes, not NUL-terminated) into *env. On error *env is
 * left empty (nothing to free) and -1 is returned with "envelope line N: reason" and code 65. */
int env_parse(const char *buf, size_t len, struct envelope *env, struct err *e);

/* env_format - append the canonical text of *env to out. Checks everything env_parse checks
 * (empty optional strings count as absent); -1 with code 70 on a bad struct or a full buffer. */
int env_format(const struct envelope *env, struct buf *out, struct err *e);

/* env_state_word - how R-STATE spells st: the canonical word, or the in-place one (ENV_STATE_WIDTH
 * bytes) when inplace. */
const char *env_state_word(enum rcpt_state st, bool inplace);

/* env_make_writable - make every value of *env one that env_format accepts, whatever a peer sent: a
 * status that is not RFC 3463 becomes the class of the recipient's state (4.0.0 pending, 2.0.0
 * sent, 5.0.0 failed); a line break in a diagnostic or relay becomes '?', and one too long is cut
 * and ends in "..."; in-place spellings go back to the canonical words. Returns how many values
 * it changed. */
size_t env_make_writable(struct envelope *env);

/* env_hist_note - record that a pass tried a host: relay ("mx.example.net[192.0.2.1]:25", or "none"),
 * tls, the outcome's status and the reply, at `now`. When one of the newest `fresh` entries (those
 * this pass added) names the same host and address, it is updated instead (the newest time and TLS;
 * the reply of a failure is kept over a later success's, so the entry of a host that deferred one
 * recipient and took the others says why); otherwise an entry is appended, the oldest dropped when
 * ENV_MAX_HISTORY are kept. Every value is made writable first (a line break or a byte outside
 * printable ASCII in a word becomes '?', an over-long value is cut, an empty one is "-", a status
 * that is not RFC 3463 becomes "4.0.0"). Pure. Returns 1 if it appended, 0 if it updated. */
int env_hist_note(struct envelope *env, size_t fresh, long long now, const char *relay, const char *tls,
    const char *status, const char *reply);

/* env_hist_clear - drop the history (what a submission must not choose). */
void env_hist_clear(struct envelope *env);

/* env_free - free everything *env owns and zero it. env_free(NULL) is a no-op. */
void env_free(struct envelope *env);

/* env_check_line - s[0..n) holds no CR, LF or NUL and n <= max. 0, or -1 with code 65. */
int env_check_line(const char *s, size_t n, size_t max, struct err *e);

/* env_check_addr - an envelope address: no whitespace, CR, LF, NUL or other control byte, and
 * <= LIM_PATH bytes. An empty address is accepted here (the null sender); 0 or -1 with code 65. */
int env_check_addr(const char *s, size_t n, struct err *e);

/* env_id_valid - exactly ENV_ID_LEN characters from [0-9A-F]: safe to use in a path. */
bool env_id_valid(const char *s, size_t n);

#endif
