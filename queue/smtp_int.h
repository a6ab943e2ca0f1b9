/*
 * smtp_int.h - what smtp_io.c (the connection: bytes, replies, commands) and smtp.c (the SMTP
 * commands of a session) share. Not used outside these two files; see smtp.h.
 */
#ifndef POSTERN_SMTP_INT_H
#define POSTERN_SMTP_INT_H

#include "lib/buf.h"
#include "lib/limits.h"
#include "queue/smtp.h"

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
};

/* smtp_io_write - all of p within ms (through TLS once it is up). SMTP_OK or SMTP_FAIL_CONN. */
int smtp_io_write(struct smtp *s, const void *p, size_t n, int ms, struct err *e);
/* smtp_read_reply - the next whole reply into s->last, within ms (bounded: see smtp_reply.h). */
int smtp_read_reply(struct smtp *s, int ms, struct err *e);
/* smtp_show - hand the CRLF-separated lines of p (sent or received, per dir) to the transcript, if
 * there is one. */
void smtp_show(struct smtp *s, enum smtp_dir dir, const char *p, size_t n);
/* smtp_send_line - one command line; `shown` replaces it in the transcript when not NULL. */
int smtp_send_line(struct smtp *s, const char *line, const char *shown, struct err *e);
/* smtp_want - SMTP_OK if the last reply is of class cls (2, 3), else SMTP_FAIL_RESP with a reason. */
int smtp_want(struct smtp *s, int cls, const char *what, struct err *e);
/* smtp_command - send a line, read the reply within ms, want class cls. */
int smtp_command(struct smtp *s, const char *line, const char *shown, int ms, int cls, const char *what,
		 struct err *e);

#endif
