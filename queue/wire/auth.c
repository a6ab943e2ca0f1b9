/*
 * auth.c - smarthost credentials. See auth.h.
 */
#include "queue/wire/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"

#define AUTH_FILE_MAX 4096

int auth_parse(const char *buf, size_t len, char **user, char **pass, struct err *e)
{
	size_t i = 0, us, ue, ps, pe;

	*user = *pass = NULL;
	/* skip comment and blank lines */
	for (;;) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i < len && (buf[i] == '#' || buf[i] == '\n' || buf[i] == '\r')) {
			while (i < len && buf[i] != '\n')
				i++;
			i++;
			continue;
		}
		break;
	}
	if (i >= len)
		return err_set(e, EX_CONFIG, "no \"user password\" line");
	us = i;
	while (i < len && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
		i++;
	ue = i;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	ps = i;
	while (i < len && buf[i] != '\n' && buf[i] != '\r')
		i++;
	pe = i;
	while (pe > ps && (buf[pe - 1] == ' ' || buf[pe - 1] == '\t'))
		pe--;
	if (ue == us || pe == ps)
		return err_set(e, EX_CONFIG, "expected one \"user password\" line");
	if (memchr(buf, '\0', len) != NULL || ue - us > 255 || pe - ps > 255)
		return err_set(e, EX_CONFIG, "malformed credentials");
	*user = xstrndup(buf + us, ue - us);
	*pass = xstrndup(buf + ps, pe - ps);
	return 0;
}

int auth_load(const char *path, char **user, char **pass, struct err *e)
{
	char buf[AUTH_FILE_MAX];
	struct stat st;
	ssize_t n;
	int fd, r;

	*user = *pass = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return err_set(e, EX_CONFIG, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, EX_CONFIG, "%s: not a regular file", path);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH | S_IROTH)) {
		close(fd);
		return err_set(e, EX_CONFIG, "%s: mode %04o lets others read or change the credentials; "
		    "chmod 0640 (root:postern)", path, (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		return err_set(e, EX_CONFIG, "%s: %s", path, strerror(errno));
	if ((size_t)n == sizeof buf)
		return err_set(e, EX_CONFIG, "%s: too large", path);
	r = auth_parse(buf, (size_t)n, user, pass, e);
	explicit_bzero(buf, sizeof buf);
	if (r < 0)
		return err_prefix(e, "%s", path);
	return 0;
}
