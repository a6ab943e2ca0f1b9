/*
 * smtp_int.h - what smtp_io.c (the connection: bytes, replies, commands) and smtp.c (the SMTP
 * commands of a session) share. Not used outside these two files; see smtp.h.
 */
#ifndef POSTERN_SMTP_INT_H
#define POSTERN_SMTP_INT_H

#include <netinet/in.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "queue/wire/smtp.h"
#include "queue/wire/smtp_step.h"

/* The receive buffer holds at most one maximal reply plus one read's worth of what follows it. */
#define SMTP_RBUF_MAX ((size_t)LIM_REPLY_LINES * (LIM_REPLY_LINE + 2) + SMTP_READ)
#define SMTP_READ 4096
/* RCPT commands sent before reading their replies (RFC 2920 5: bounded so neither side blocks). */
#define SMTP_PIPE_GROUP 50
/* Message bytes read from the spool file per write. */
#define SMTP_CHUNK 16384
/* Credentials longer than this are refused (base64 of them must fit one command line). */
#define SMTP_CRED_MAX 255

struct smtp {
	struct smtp_opts o;
	int fd;
	struct tls_conn *tls;
	struct buf rb;		/* received, not yet parsed */
	struct smtp_reply last;
	struct smtp_ext ext;
	char *helo;
	struct buf ahead;	/* the next envelope, to follow the next terminator (smtp_envelope_ahead) */
	size_t ahead_n;		/* its recipients */
	bool ahead_sent;	/* it went out: smtp_envelope only reads its replies */
	char addr[INET_ADDRSTRLEN + 8];	/* "1.2.3.4:25", once connected */
	long long msg_end, sess_end;	/* the wall-clock limits (CLOCK_MONOTONIC ms), 0: none */
	struct err fail;	/* the reason of the last FAIL_CONN/FAIL_PROTO (smtp_failure) */
	int fail_kind;		/* that failure, 0 if none */
};

/* smtp_io_write - all of p, for step st, within its deadline (through TLS once it is up). SMTP_OK or
 * SMTP_FAIL_CONN. */
int smtp_io_write(struct smtp *s, const void *p, size_t n, enum smtp_step st, struct err *e);
/* smtp_read_reply - the next whole reply (to step st) into s->last, within the step's deadline
 * (bounded: see smtp_reply.h). Its class is not checked: see smtp_check. */
int smtp_read_reply(struct smtp *s, enum smtp_step st, struct err *e);
/* smtp_fail - a failure of kind SMTP_FAIL_CONN or SMTP_FAIL_PROTO at step st: "lost connection with
 * PEER while <doing> (<cause>)" or "protocol error with ..." into e, kept for smtp_failure.
 * Returns kind. */
int smtp_fail(struct smtp *s, int kind, enum smtp_step st, bool reading, struct err *e, const char *fmt,
	      ...) __attribute__((format(printf, 6, 7)));
/* smtp_io_handshake - TLS on the connection (SNI/verify name `name`) within step TLS's deadline.
 * SMTP_OK; SMTP_FAIL_LOCAL when it failed on our side (tls_connect's EX_OSERR: memory, descriptors);
 * else SMTP_FAIL_CONN ("TLS handshake: ..." in e, or the limit that ended it). */
int smtp_io_handshake(struct smtp *s, struct tls_client_ctx *ctx, const char *name, struct err *e);
/* smtp_message_begin - a transaction starts: the message's time limit runs from now. */
void smtp_message_begin(struct smtp *s);
/* smtp_message_end - it ended (final reply, or RSET): only the session's limit is left. */
void smtp_message_end(struct smtp *s);
/* smtp_show - hand the CRLF-separated lines of p (sent or received, per dir) to the transcript, if
 * there is one. */
void smtp_show(struct smtp *s, enum smtp_dir dir, const char *p, size_t n);
/* smtp_send_line - one command line (for step st); `shown` replaces it in the transcript when not
 * NULL. */
int smtp_send_line(struct smtp *s, const char *line, const char *shown, enum smtp_step st,
		   struct err *e);
/* smtp_check - what the last reply means at step st (smtp_verdict): SMTP_OK, SMTP_FAIL_RESP (4xx,
 * 5xx, with "NAME: server said ..." in e) or SMTP_FAIL_PROTO (the wrong class). */
int smtp_check(struct smtp *s, enum smtp_step st, struct err *e);
/* smtp_command - send a line for step st, read the reply, smtp_check it. */
int smtp_command(struct smtp *s, const char *line, const char *shown, enum smtp_step st, struct err *e);

#endif
