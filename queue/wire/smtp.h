/*
 * smtp.h - the SMTP client session: connect, greeting, EHLO/HELO, STARTTLS, AUTH, MAIL, RCPT (with
 * PIPELINING), DATA streamed from a descriptor, RSET, QUIT; a connection can carry several
 * transactions (RSET, then MAIL again). What MAIL and RCPT carry is a struct of parameters
 * (smtp_param.h), sent as far as the server offers them: SIZE, 8BITMIME, SMTPUTF8, DSN.
 *
 * Untrusted input: everything the server sends. Replies go through smtp_reply_parse (bounded); the
 * reader's buffer has a ceiling; bytes buffered after the STARTTLS 220 abort the session (command
 * injection defence); the message is checked to be CRLF-only while it is dot-stuffed (smuggling
 * defence). Credentials never reach the transcript.
 *
 * Results: SMTP_OK, or one of the failures below; the reason is in struct err, and for SMTP_FAIL_RESP
 * the server's reply is available from smtp_last_reply. Every function but smtp_quit/smtp_free is
 * meant to be called in protocol order; after FAIL_CONN or FAIL_PROTO the session is unusable, and
 * smtp_failure keeps its reason: "lost connection with PEER while reading the reply to RCPT TO
 * (connection reset by peer)", "... while sending end of data (timeout after 600 s)", "protocol
 * error with PEER while reading the reply to DATA (unexpected reply 250 ok; ...)".
 *
 * What a reply means at each step is smtp_verdict's (smtp_step.h): a reply of the wrong class (250
 * to DATA, 354 after the final dot, a 3xx greeting, a 3xx to MAIL, RCPT, EHLO or AUTH beyond the
 * challenges the mechanism has) is SMTP_FAIL_PROTO, never success; SMTP_FAIL_RESP is a 4xx or 5xx.
 *
 * Time: every read and write must be done within its step's timeout, and within the message's and
 * the session's wall-clock limits (struct smtp_timeouts: message, session) if they end sooner.
 * The caller must ignore SIGPIPE.
 */
#ifndef POSTERN_SMTP_H
#define POSTERN_SMTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "lib/err.h"
#include "queue/wire/smtp_param.h"
#include "queue/wire/smtp_reply.h"
#include "queue/wire/tls.h"

enum smtp_status {
	SMTP_OK = 0,
	SMTP_FAIL_CONN = -1,	/* could not connect, connection lost, timeout: try the next host */
	SMTP_FAIL_PROTO = -2,	/* malformed reply, a reply of the wrong class, another violation */
	SMTP_FAIL_RESP = -3,	/* a 4xx/5xx reply (smtp_last_reply) */
	SMTP_FAIL_LOCAL = -4,	/* our side: bad input, bare CR/LF in the message, policy refusal */
};

/* Timeouts in milliseconds (RFC 5321 4.5.3.2), then two wall-clock limits (0: none): message, from
 * MAIL (smtp_mail, smtp_envelope) to the reply to the final dot (or RSET); session, from connecting
 * to the end. A read or write gets the least of its step's timeout and what is left of these. */
struct smtp_timeouts {
	int connect, greeting, command, data_init, data_block, data_done;
	int message, session;
};

enum smtp_dir { SMTP_DIR_IN, SMTP_DIR_OUT };
/* One line without its CRLF. Server lines are untrusted: make them safe before logging. */
typedef void smtp_transcript_fn(void *ctx, enum smtp_dir dir, const char *line, size_t len);

struct smtp_opts {
	struct smtp_timeouts to;
	smtp_transcript_fn *transcript;	/* NULL: none */
	void *transcript_ctx;
	const char *peer;		/* borrowed: the server as reasons name it, "mx.d[1.2.3.4]:25";
					 * NULL: "1.2.3.4:25" */
	const char *source;		/* borrowed: the IPv4 address to connect from; NULL: any */
};

struct smtp;

/* smtp_timeouts_from_config - the config's seconds as milliseconds. */
void smtp_timeouts_from_config(const struct config *c, struct smtp_timeouts *t);

struct smtp *smtp_new(const struct smtp_opts *o);
/* smtp_free - close the connection (no QUIT) and free. NULL is a no-op. */
void smtp_free(struct smtp *s);

/* smtp_connect - TCP connection to ip:port within to.connect. */
int smtp_connect(struct smtp *s, struct in_addr ip, int port, struct err *e);
/* smtp_tls_implicit - TLS handshake right after connecting (port 465), before the greeting. A handshake
 * that failed on our side (tls.h: memory, descriptors) is SMTP_FAIL_LOCAL, the peer's SMTP_FAIL_CONN. */
int smtp_tls_implicit(struct smtp *s, struct tls_client_ctx *ctx, const char *name, struct err *e);
/* smtp_greeting - read the greeting: 2xx is SMTP_OK, 4xx/5xx SMTP_FAIL_RESP, 3xx SMTP_FAIL_PROTO. */
int smtp_greeting(struct smtp *s, struct err *e);
/* smtp_ehlo - EHLO (HELO when EHLO gets a 5xx; then no extensions). */
int smtp_ehlo(struct smtp *s, const char *helo_name, struct err *e);
/* smtp_starttls - STARTTLS, handshake (SNI/verify name `name`), EHLO again with the same name. A
 * handshake that failed on our side is SMTP_FAIL_LOCAL (never a reason to go on in plaintext), the
 * peer's SMTP_FAIL_CONN; the session is unusable after either. */
int smtp_starttls(struct smtp *s, struct tls_client_ctx *ctx, const char *name, struct err *e);
/* smtp_auth - AUTH PLAIN if offered, else LOGIN. Refused (SMTP_FAIL_LOCAL) without TLS unless
 * allow_plaintext. */
int smtp_auth(struct smtp *s, const char *user, const char *pass, bool allow_plaintext,
	      struct err *e);
/* smtp_mail - MAIL FROM:<sender> with the parameters of p the server offers (smtp_mail_format:
 * SIZE, BODY=8BITMIME, SMTPUTF8; RET and ENVID with DSN). The message's time limit starts here. */
int smtp_mail(struct smtp *s, const struct smtp_mail_params *p, struct err *e);
/* smtp_rcpt - RCPT TO for each recipient (smtp_rcpt_format: NOTIFY and ORCPT with DSN); replies[i]
 * gets each reply (free with smtp_reply_free), *accepted counts the 2xx. With PIPELINING the
 * commands are sent in groups. SMTP_OK when every reply was read and was a 2xx, 4xx or 5xx; a 3xx is
 * SMTP_FAIL_PROTO. */
int smtp_rcpt(struct smtp *s, const struct smtp_rcpt_params *rcpts, size_t n, struct smtp_reply *replies,
	      size_t *accepted, struct err *e);
/* smtp_envelope - MAIL, the RCPTs and, when a recipient is accepted, DATA. With PIPELINING (and at
 * most SMTP_PIPE_GROUP recipients) all of them go in one write, DATA included (RFC 2920 3.1), and the
 * replies are read in order; otherwise one command at a time. *mail and replies[i] get the replies
 * (free with smtp_reply_free); a refused MAIL is mail->code >= 400; *data_ok means DATA got 354 and
 * smtp_data_body must follow; when a DATA reply was a 4xx/5xx it is smtp_last_reply. The commands carry
 * what p and rcpts ask for, as smtp_mail and smtp_rcpt would send it. SMTP_OK when
 * every reply was read and was of its step's classes; a reply of the wrong class is
 * SMTP_FAIL_PROTO (nothing of the message was sent). */
int smtp_envelope(struct smtp *s, const struct smtp_mail_params *p, const struct smtp_rcpt_params *rcpts,
		  size_t n, struct smtp_reply *mail, struct smtp_reply *replies, size_t *accepted,
		  bool *data_ok, struct err *e);
/* smtp_envelope_ahead - with PIPELINING, while a message is in DATA: the next message's MAIL, RCPTs
 * and DATA go out right after this message's terminator, in the same write (RFC 2920 3.1: message
 * content may start a group), which saves a round trip per message. The caller must then call
 * smtp_envelope for that message with the same recipients, which only reads the replies; until it
 * has, RSET and QUIT are not sent (the server would be in DATA). Its commands are smtp_envelope's,
 * parameters included. SMTP_FAIL_LOCAL when it cannot be
 * pipelined (no PIPELINING, too many recipients, a bad address): send it the normal way. */
int smtp_envelope_ahead(struct smtp *s, const struct smtp_mail_params *p,
			const struct smtp_rcpt_params *rcpts, size_t n, struct err *e);
/* smtp_ahead_pending - a pipelined envelope went out and its replies are not read yet. */
bool smtp_ahead_pending(const struct smtp *s);
/* smtp_data_body - after DATA got 354: prefix, then the first size bytes of fd (read with pread; a
 * file shorter than that is SMTP_FAIL_LOCAL), dot-stuffed, the terminator (and a pipelined envelope,
 * see smtp_envelope_ahead), and the final reply. */
int smtp_data_body(struct smtp *s, const char *prefix, size_t prefixlen, int fd, long long size,
		   struct err *e);
int smtp_rset(struct smtp *s, struct err *e);
/* smtp_quit - QUIT and wait briefly for the reply; errors are ignored. */
void smtp_quit(struct smtp *s);

const struct smtp_reply *smtp_last_reply(const struct smtp *s);
/* smtp_failure - the reason of the last SMTP_FAIL_CONN or SMTP_FAIL_PROTO ("" if none) and, in
 * *status, its RFC 3463 status: "4.4.2" (connection lost, timeout, time limit) or "4.5.0" (protocol
 * error). Valid until smtp_free. */
const char *smtp_failure(const struct smtp *s, const char **status);
const struct smtp_ext *smtp_ext(const struct smtp *s);
/* smtp_tls - the TLS connection, NULL while plaintext. */
const struct tls_conn *smtp_tls(const struct smtp *s);

#endif
