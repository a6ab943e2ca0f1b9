/*
 * pwnss.c - the caller's passwd entry through getent(1), for a front door whose libc cannot load
 * glibc's NSS modules. See pwnss.h.
 */
#include "sendmail/pwnss.h"

#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/rerun.h"

#define PWNSS_FIELDS 7	/* name:passwd:uid:gid:gecos:home:shell */
#define PWNSS_UID_MAX 24	/* a uid's decimal digits, with room */

/* pwnss_name_ok - see pwnss.h */
bool pwnss_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < PWNSS_USER_MAX && strpbrk(name, " \t\r\n<>@\"") == NULL;
}

/* pwnss_parse - see pwnss.h */
bool pwnss_parse(const char *s, size_t n, uid_t uid, char user[PWNSS_USER_MAX], char gecos[PWNSS_GECOS_MAX])
{
	const char *f[PWNSS_FIELDS];
	size_t len[PWNSS_FIELDS], k = 0, start = 0, end;
	char want[PWNSS_UID_MAX], name[PWNSS_USER_MAX];
	const char *comma;

	if (n == 0 || s[n - 1] != '\n' || memchr(s, '\n', n) != s + n - 1 || memchr(s, '\0', n) != NULL)
		return false;	/* exactly one line */
	end = n - 1;
	for (size_t i = 0; i <= end; i++) {
		if (i < end && s[i] != ':')
			continue;
		if (k == PWNSS_FIELDS)
			return false;
		f[k] = s + start;
		len[k++] = i - start;
		start = i + 1;
	}
	if (k != PWNSS_FIELDS)
		return false;
	(void)snprintf(want, sizeof want, "%lu", (unsigned long)uid);
	if (len[2] != strlen(want) || memcmp(f[2], want, len[2]) != 0 || len[0] >= sizeof name)
		return false;
	memcpy(name, f[0], len[0]);
	name[len[0]] = '\0';
	if (!pwnss_name_ok(name))
		return false;
	memcpy(user, name, len[0] + 1);
	if ((comma = memchr(f[4], ',', len[4])) != NULL)
		len[4] = (size_t)(comma - f[4]);
	if (len[4] >= PWNSS_GECOS_MAX || memchr(f[4], '\r', len[4]) != NULL)
		len[4] = 0;
	memcpy(gecos, f[4], len[4]);
	gecos[len[4]] = '\0';
	return true;
}

/* pwnss_lookup - see pwnss.h */
bool pwnss_lookup(const char *getent, uid_t uid, long long timeout_ms, char user[PWNSS_USER_MAX],
    char gecos[PWNSS_GECOS_MAX])
{
	char arg[PWNSS_UID_MAX];
	const char *argv[] = { "getent", "passwd", arg, NULL };
	const struct rerun_cmd cmd = { getent, argv, RERUN_ERR_NULL };
	struct buf out;
	struct err e;
	bool found;

	(void)snprintf(arg, sizeof arg, "%lu", (unsigned long)uid);
	buf_init(&out, PWNSS_LINE_MAX);
	err_clear(&e);
	found = rerun_output(&cmd, &out, now_ms() + timeout_ms, &e) == 0 &&
	    pwnss_parse(out.data, out.len, uid, user, gecos);
	buf_free(&out);
	return found;
}
