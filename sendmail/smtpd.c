/*
 * smtpd.c - sendmail -bs. See smtpd.h.
 *
 * SECURITY: the group is given up before the first byte is read; the conversation is bounded (line
 * length, recipient count); each message goes through the setgid submission path in a new process.
 */
#include "sendmail/smtpd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/rerun.h"
#include "sendmail/privsep.h"

#define SMTPD_MAX_RCPT 1000

int smtpd_path_parse(const char *s, size_t n, char **out)
{
	size_t i = 0, end;

	*out = NULL;
	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || s[i] != '<')
		return -1;
	for (end = i + 1; end < n && s[end] != '>'; end++)
		if (s[end] == ' ' || (unsigned char)s[end] < 32 || s[end] == 127)
			return -1;
	if (end >= n || end - i - 1 > LIM_PATH)
		return -1;
	if (end + 1 < n && s[end + 1] != ' ')
		return -1;
	if (end - i - 1 > 0 && s[i + 1] == '@')
		return -1;	/* source routes are obsolete (RFC 5321 4.1.2) */
	*out = xstrndup(s + i + 1, end - i - 1);
	return 0;
}

/* addr_ok - the submission would take this address ("" is the null sender). */
static bool addr_ok(const char *a, bool null_ok)
{
	struct addr x;
	struct err e;
	bool ok;

	if (*a == '\0')
		return null_ok;
	memset(&x, 0, sizeof x);
	ok = addr_parse_one(a, strlen(a), &x, &e) == 0 && !x.null;
	addr_free(&x);
	return ok;
}

/* reply - one reply line. */
static void reply(const char *s)
{
	fputs(s, stdout);
	fputs("\r\n", stdout);
	fflush(stdout);
}

/* read_cmd - a line from stdin without its CRLF/LF; -1 at EOF; 1 if it was too long (discarded). */
static int read_cmd(struct buf *b)
{
	int ch, over = 0;

	buf_reset(b);
	while ((ch = getchar()) != EOF) {
		if (ch == '\n') {
			if (b->len > 0 && b->data[b->len - 1] == '\r')
				b->data[--b->len] = '\0';
			return over;
		}
		if (buf_addc(b, (char)ch) < 0)
			over = 1;
	}
	return -1;
}

/* smtpd_data_line - see smtpd.h */
enum smtpd_line smtpd_data_line(const char *s, size_t n, bool crlf, bool over)
{
	bool dot = !over && n == 1 && s[0] == '.';

	if (!crlf)	/* first: whatever else is wrong with the line, the session must end */
		return dot ? SMTPD_END_BARE_LF : SMTPD_BARE_LF;
	if (over)
		return SMTPD_TOO_LONG;
	if (memchr(s, '\0', n) != NULL)
		return SMTPD_NUL;
	return dot ? SMTPD_END : SMTPD_TEXT;
}

/* read_data_line - one DATA line into b (ceiling SMTPD_DATA_LINE_MAX + 1: room for the CR) without its
 * line end; *crlf: it ended in CRLF; *over: it was longer than the ceiling (the rest was read and
 * dropped). -1 at EOF before a line end. */
static int read_data_line(struct buf *b, bool *crlf, bool *over)
{
	int ch, prev = EOF;

	buf_reset(b);
	*crlf = *over = false;
	while ((ch = getchar()) != EOF) {
		if (ch == '\n') {
			*crlf = prev == '\r';
			if (*crlf && !*over)
				b->data[--b->len] = '\0';
			*over = *over || b->len > SMTPD_DATA_LINE_MAX;
			return 0;
		}
		if (!*over && buf_addc(b, (char)ch) < 0)
			*over = true;
		prev = ch;
	}
	return -1;
}

/* run_submission - feed the data lines up to "." into a new submission process. Returns its exit code
 * (or 75 when it could not be started); *bad: the first line that refuses the whole message, or
 * SMTPD_TEXT. A refused message (and one cut short by EOF) is not queued: the submission is handed a
 * NUL byte, which it refuses (65) and cleans up after; its complaint about that NUL is not shown. The
 * data is always read to its end. *eof: stdin ended before the "." line. */
static int run_submission(const struct opts *o, const char *sender, char **rcpt, size_t nrcpt,
    enum smtpd_line *bad, bool *eof)
{
	const char **av = xcalloc(nrcpt + 10, sizeof *av);
	struct rerun_cmd cmd = { .prog = RERUN_SELF, .argv = av, .err = RERUN_ERR_CAPTURE };
	struct rerun *r;
	struct buf line, said;
	struct err e;
	size_t k = 0;
	int code, dead = 0;

	*bad = SMTPD_TEXT;
	*eof = false;
	buf_init(&line, SMTPD_DATA_LINE_MAX + 1);
	av[k++] = "sendmail";
	av[k++] = "-oi";
	av[k++] = "-f";
	av[k++] = *sender ? sender : "<>";
	if (o->config != NULL && getuid() == 0) {
		av[k++] = "-C";
		av[k++] = o->config;
	}
	av[k++] = "--";
	for (size_t i = 0; i < nrcpt; i++)
		av[k++] = rcpt[i];
	av[k] = NULL;
	err_clear(&e);
	if ((r = rerun_start(&cmd, &e)) == NULL)
		dead = 1;
	free(av);
	for (;;) {
		bool crlf, over;
		enum smtpd_line kind;

		if (read_data_line(&line, &crlf, &over) < 0) {
			*eof = true;
			break;
		}
		kind = smtpd_data_line(line.data, line.len, crlf, over);
		if (kind == SMTPD_BARE_LF || kind == SMTPD_END_BARE_LF)
			*bad = SMTPD_BARE_LF;	/* over any earlier reason: the session ends */
		else if (kind != SMTPD_TEXT && kind != SMTPD_END && *bad == SMTPD_TEXT)
			*bad = kind;
		if (kind == SMTPD_END || kind == SMTPD_END_BARE_LF)
			break;
		if (*bad != SMTPD_TEXT)
			continue;	/* refused: read on to the end, keep nothing */
		const char *s = buf_str(&line);
		if (s[0] == '.')
			s++;	/* RFC 5321 4.5.2: remove the stuffed dot */
		if (!dead && (rerun_write(r, s, strlen(s)) < 0 || rerun_write(r, "\n", 1) < 0))
			dead = 1;
	}
	buf_free(&line);
	if (r == NULL)
		return EX_TEMPFAIL;
	if (!dead && (*bad != SMTPD_TEXT || *eof))
		(void)rerun_write(r, "\0\n", 2);	/* the submission refuses it: nothing is queued */
	buf_init(&said, RERUN_STDERR_MAX);
	code = rerun_finish(r, &said);
	if (*bad == SMTPD_TEXT && !*eof && said.len > 0)
		(void)fwrite(said.data, 1, said.len, stderr);	/* its own words, for the caller */
	buf_free(&said);
	return code;
}

/* data_refusal - why a message was refused, for the log. */
static const char *data_refusal(enum smtpd_line bad)
{
	return bad == SMTPD_NUL ? "a NUL byte" : bad == SMTPD_TOO_LONG ? "an over-long line" : "a bare LF";
}

int smtpd_main(const struct opts *o, const struct config *c, struct log *lg)
{
	struct buf cmd, msg;
	char *sender = NULL, **rcpt = NULL;
	size_t nrcpt = 0;
	struct err e;

	err_clear(&e);
	if (privsep_drop_group(&e) < 0) {
		fprintf(stderr, "sendmail: %s\n", e.msg);
		return EX_OSERR;
	}
	buf_init(&cmd, LIM_SMTP_LINE);
	buf_init(&msg, 1024);
	buf_reset(&msg);
	if (buf_printf(&msg, "220 %s ESMTP postern", c->hostname) == 0)
		reply(buf_str(&msg));
	for (;;) {
		int r = read_cmd(&cmd);
		const char *s = buf_str(&cmd);

		if (r < 0)
			break;
		if (r > 0) {
			reply("500 5.5.2 Line too long");
			continue;
		}
		if (strncasecmp(s, "EHLO", 4) == 0 && (s[4] == ' ' || s[4] == '\0')) {
			buf_reset(&msg);
			if (buf_printf(&msg, "250-%s\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE %lld",
			    c->hostname, c->max_size) == 0)
				reply(buf_str(&msg));
		} else if (strncasecmp(s, "HELO", 4) == 0 && (s[4] == ' ' || s[4] == '\0')) {
			buf_reset(&msg);
			if (buf_printf(&msg, "250 %s", c->hostname) == 0)
				reply(buf_str(&msg));
		} else if (strncasecmp(s, "MAIL FROM:", 10) == 0) {
			char *p;

			if (sender != NULL)
				reply("503 5.5.1 Error: nested MAIL command");
			else if (smtpd_path_parse(s + 10, strlen(s + 10), &p) < 0)
				reply("501 5.1.7 Bad sender address syntax");
			else if (!addr_ok(p, true)) {
				free(p);
				reply("553 5.1.7 Bad sender address syntax");
			} else {
				sender = p;
				reply("250 2.1.0 Ok");
			}
		} else if (strncasecmp(s, "RCPT TO:", 8) == 0) {
			char *p;

			if (sender == NULL)
				reply("503 5.5.1 Error: need MAIL command");
			else if (nrcpt >= SMTPD_MAX_RCPT)
				reply("452 4.5.3 Error: too many recipients");
			else if (smtpd_path_parse(s + 8, strlen(s + 8), &p) < 0 || !addr_ok(p, false)) {
				free(p);
				reply("501 5.1.3 Bad recipient address syntax");
			} else {
				rcpt = xreallocarray(rcpt, nrcpt + 1, sizeof *rcpt);
				rcpt[nrcpt++] = p;
				reply("250 2.1.5 Ok");
			}
		} else if (strcasecmp(s, "DATA") == 0) {
			int code;

			if (nrcpt == 0) {
				reply("554 5.5.1 Error: no valid recipients");
				continue;
			}
			enum smtpd_line bad;
			bool eof;

			reply("354 End data with <CR><LF>.<CR><LF>");
			code = run_submission(o, sender, rcpt, nrcpt, &bad, &eof);
			if (bad != SMTPD_TEXT || eof) {
				log_msg(lg, LOG_NOTICE, "-bs: message from=<%s> refused: %s", sender,
				    eof ? "end of input inside DATA" : data_refusal(bad));
				if (eof)
					break;
				if (bad == SMTPD_BARE_LF) {
					reply("521 5.5.2 Error: bare <LF> received; closing the session");
					break;
				}
				buf_reset(&msg);
				if (bad == SMTPD_NUL)
					reply("554 5.6.0 Error: message contains a NUL byte");
				else if (buf_printf(&msg, "554 5.6.0 Error: a message line over %d octets",
				    SMTPD_DATA_LINE_MAX) == 0)
					reply(buf_str(&msg));
				goto reset;
			}
			if (code == 0)
				reply("250 2.0.0 Ok: queued");
			else if (code == EX_TEMPFAIL || code == EX_OSERR || code == EX_SOFTWARE)
				reply("451 4.3.0 Error: queue file write error");
			else
				reply("554 5.6.0 Error: message refused (see the submitter's error output)");
			log_msg(lg, LOG_INFO, "-bs: message from=<%s> nrcpt=%zu: exit %d", sender, nrcpt, code);
			goto reset;
		} else if (strcasecmp(s, "RSET") == 0) {
			reply("250 2.0.0 Ok");
			goto reset;
		} else if (strcasecmp(s, "NOOP") == 0) {
			reply("250 2.0.0 Ok");
		} else if (strcasecmp(s, "QUIT") == 0) {
			reply("221 2.0.0 Bye");
			break;
		} else if (strncasecmp(s, "VRFY", 4) == 0) {
			reply("252 2.0.0 Send some mail, I'll try my best");
		} else {
			reply("502 5.5.2 Error: command not recognized");
		}
		continue;
reset:
		free(sender);
		sender = NULL;
		for (size_t i = 0; i < nrcpt; i++)
			free(rcpt[i]);
		free(rcpt);
		rcpt = NULL;
		nrcpt = 0;
	}
	free(sender);
	for (size_t i = 0; i < nrcpt; i++)
		free(rcpt[i]);
	free(rcpt);
	buf_free(&cmd);
	buf_free(&msg);
	return 0;
}
