/*
 * pwnss.h - the caller's passwd entry when the front door's own libc cannot find it.
 *
 * The front door is linked statically with musl (Makefile, FRONT=musl), whose getpwuid reads
 * /etc/passwd and asks nscd, but cannot load glibc's NSS modules (LDAP, SSSD, NIS). For a caller it
 * does not find, the composer asks getent(1) - glibc's, which loads them - as the caller, after the
 * group has been given up for good, with a clean environment and a deadline. A caller getent cannot
 * find either sends as uidNNNN, as before.
 *
 * Untrusted input: getent's output (pwnss_parse: one line, seven fields, the uid must be the one asked
 * for; the name must be fit for an address, the full name is cut at its first comma). Errors: none
 * reported; a lookup that fails, stalls or answers nonsense finds nothing.
 */
#ifndef POSTERN_PWNSS_H
#define POSTERN_PWNSS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* PWNSS_USER_MAX, PWNSS_GECOS_MAX - the login name and the full name as the composer uses them */
#define PWNSS_USER_MAX 64
#define PWNSS_GECOS_MAX 256
/* PWNSS_LINE_MAX - what is read of getent's answer: one passwd line */
#define PWNSS_LINE_MAX 1024
/* PWNSS_GETENT - glibc's getent, compiled in (never looked up in PATH); PWNSS_TIMEOUT_MS - how long a
 * directory server may take to answer it */
#define PWNSS_GETENT "/usr/bin/getent"
#define PWNSS_TIMEOUT_MS 5000

/* pwnss_name_ok - a login name fit to be the local part of the caller's address. Pure. */
bool pwnss_name_ok(const char *name);

/* pwnss_parse - getent's answer s[0..n) for uid: its name and full name (up to the first comma; empty
 * when too long). Pure. */
bool pwnss_parse(const char *s, size_t n, uid_t uid, char user[PWNSS_USER_MAX], char gecos[PWNSS_GECOS_MAX]);

/* pwnss_lookup - run `getent passwd UID` (getent: an absolute path) and parse what it prints within
 * timeout_ms; a child still running then is killed. true: user and gecos are set. */
bool pwnss_lookup(const char *getent, uid_t uid, long long timeout_ms, char user[PWNSS_USER_MAX],
    char gecos[PWNSS_GECOS_MAX]);

#endif
