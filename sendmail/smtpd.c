/*
 * smtpd.c - sendmail -bs. See smtpd.h.
 *
 * SECURITY: the group is given up before the first byte is read; the conversation is bounded (line
 * length, recipient count); each message goes through the setgid submission path in a new process.
 */
#include "sendmail/smtpd.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/limits.h"
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

/* run_submission - feed the data lines up to "." into a new submission process. Returns its exit code
 * (or 75 when it could not be started). The data is always read to its end. */
static int run_submission(const struct opts *o, const char *sender, char **rcpt, size_t nrcpt)
{
	struct buf line;
	int p[2], st, dead = 0;
	pid_t pid;

	buf_init(&line, 64 * 1024);
	if (pipe(p) < 0)
		return 75;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char **av = xcalloc(nrcpt + 10, sizeof *av);
		size_t k = 0;

		close(p[1]);
		if (dup2(p[0], 0) < 0)
			_exit(75);
		av[k++] = (char *)(uintptr_t)"sendmail";
		av[k++] = (char *)(uintptr_t)"-oi";
		av[k++] = (char *)(uintptr_t)"-f";
		av[k++] = (char *)(uintptr_t)(*sender ? sender : "<>");
		if (o->config != NULL && getuid() == 0) {
			av[k++] = (char *)(uintptr_t)"-C";
			av[k++] = (char *)(uintptr_t)o->config;
		}
		av[k++] = (char *)(uintptr_t)"--";
		for (size_t i = 0; i < nrcpt; i++)
			av[k++] = rcpt[i];
		av[k] = NULL;
		execv("/proc/self/exe", av);
		_exit(75);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		dead = 1;
	}
	for (;;) {
		int r = read_cmd(&line);
		const char *s = buf_str(&line);

		if (r < 0)
			break;
		if (strcmp(s, ".") == 0)
			break;
		if (s[0] == '.')
			s++;	/* RFC 5321 4.5.2: remove the stuffed dot */
		if (!dead && (write(p[1], s, strlen(s)) < 0 || write(p[1], "\n", 1) < 0))
			dead = 1;
	}
	buf_free(&line);
	if (pid < 0)
		return 75;
	close(p[1]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 75;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 75;
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
		return 71;
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
			reply("354 End data with <CR><LF>.<CR><LF>");
			code = run_submission(o, sender, rcpt, nrcpt);
			if (code == 0)
				reply("250 2.0.0 Ok: queued");
			else if (code == 75 || code == 71 || code == 70)
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
