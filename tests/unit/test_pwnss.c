/* test_pwnss.c - sendmail/pwnss.c: getent's answer parsed, and the lookup through a stand-in getent. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clock.h"
#include "sendmail/pwnss.h"

struct row {
	const char *in;
	unsigned long uid;
	bool ok;
	const char *user, *gecos;
};

static const struct row rows[] = {
	{ "alice:x:4242:4242:Alice Liddell,Room 1,,:/home/alice:/bin/sh\n", 4242, true, "alice", "Alice Liddell" },
	{ "bob:*:1001:100::/home/bob:/bin/bash\n", 1001, true, "bob", "" },
	{ "carol:x:1002:100:Carol:/:/bin/sh\n", 1002, true, "carol", "Carol" },
	{ "z\xc3\xab:x:1003:100:Zo\xc3\xab:/:/bin/sh\n", 1003, true, "z\xc3\xab", "Zo\xc3\xab" },
	/* the uid must be the one asked for, digit for digit */
	{ "alice:x:4243:4242:Alice:/home/alice:/bin/sh\n", 4242, false, NULL, NULL },
	{ "alice:x:04242:4242:Alice:/home/alice:/bin/sh\n", 4242, false, NULL, NULL },
	/* exactly one line, seven fields */
	{ "alice:x:4242:4242:Alice:/home/alice:/bin/sh", 4242, false, NULL, NULL },
	{ "alice:x:4242:4242:Alice:/home/alice:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\n", 4242, false, NULL, NULL },
	{ "alice:x:4242:4242:Alice:/home/alice\n", 4242, false, NULL, NULL },
	{ "alice:x:4242:4242:Al:ice:/home/alice:/bin/sh\n", 4242, false, NULL, NULL },
	{ "", 4242, false, NULL, NULL },
	{ "\n", 4242, false, NULL, NULL },
	/* a name unfit for an address */
	{ ":x:4242:4242:Alice:/home/alice:/bin/sh\n", 4242, false, NULL, NULL },
	{ "al ice:x:4242:4242:Alice:/home/alice:/bin/sh\n", 4242, false, NULL, NULL },
	{ "al@ice:x:4242:4242:Alice:/home/alice:/bin/sh\n", 4242, false, NULL, NULL },
	{ "a<b>:x:4242:4242:Alice:/home/alice:/bin/sh\n", 4242, false, NULL, NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:x:4242:1::/:/bin/sh\n", 4242, false,
	  NULL, NULL },
	/* a full name with a CR is dropped, the entry kept */
	{ "alice:x:4242:4242:Ali\rce:/home/alice:/bin/sh\n", 4242, true, "alice", "" },
};

Test(pwnss, parse_table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char user[PWNSS_USER_MAX] = "unset", gecos[PWNSS_GECOS_MAX] = "unset";
		bool ok = pwnss_parse(rows[i].in, strlen(rows[i].in), (uid_t)rows[i].uid, user, gecos);

		cr_expect_eq(ok, rows[i].ok, "row %zu: %s", i, rows[i].in);
		if (ok && rows[i].ok) {
			cr_expect_str_eq(user, rows[i].user, "row %zu", i);
			cr_expect_str_eq(gecos, rows[i].gecos, "row %zu", i);
		}
	}
}

Test(pwnss, parse_nul_and_long_gecos)
{
	char user[PWNSS_USER_MAX], gecos[PWNSS_GECOS_MAX], line[PWNSS_GECOS_MAX + 64];
	static const char nul[] = "alice:x:4242:4242:A\0:/h:/bin/sh\n";

	cr_expect(!pwnss_parse(nul, sizeof nul - 1, 4242, user, gecos), "a NUL in the answer");
	memset(line, 'G', sizeof line);
	memcpy(line, "long:x:7:7:", 11);
	memcpy(line + 11 + PWNSS_GECOS_MAX, ":/:/bin/sh\n", 11);
	cr_assert(pwnss_parse(line, 11 + PWNSS_GECOS_MAX + 11, 7, user, gecos));
	cr_expect_str_eq(gecos, "", "a full name too long for the composer is left out");
}

/* the lookup through a stand-in for getent: a script in a temporary folder */
static char dir[] = "/tmp/test_pwnss.XXXXXX";

static const char *script(const char *name, const char *body)
{
	static char path[sizeof dir + 32];
	static bool made;
	FILE *f;

	if (!made)
		cr_assert_not_null(mkdtemp(dir));
	made = true;
	(void)snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
	return path;
}

Test(pwnss, lookup)
{
	char user[PWNSS_USER_MAX] = "", gecos[PWNSS_GECOS_MAX] = "", rm[sizeof dir + 16];
	long long t0;

	/* getent's arguments are passed, and the line it prints is taken */
	cr_expect(pwnss_lookup(script("ok", "[ \"$1 $2\" = \"passwd 4242\" ] || exit 2\n"
	    "echo 'ldapuser:x:4242:4242:LDAP User,,,:/home/l:/bin/sh'"), 4242, 5000, user, gecos));
	cr_expect_str_eq(user, "ldapuser");
	cr_expect_str_eq(gecos, "LDAP User");
	/* not found: getent exits 2 */
	cr_expect(!pwnss_lookup(script("none", "exit 2"), 4242, 5000, user, gecos));
	/* a line for another uid */
	cr_expect(!pwnss_lookup(script("other", "echo 'root:x:0:0:root:/root:/bin/sh'"), 4242, 5000, user, gecos));
	/* a directory server that does not answer: given up at the deadline */
	t0 = now_ms();
	cr_expect(!pwnss_lookup(script("stall", "exec sleep 30"), 4242, 200, user, gecos));
	cr_expect_lt(now_ms() - t0, 5000);
	/* no getent at all */
	cr_expect(!pwnss_lookup("/nonexistent/getent", 4242, 5000, user, gecos));
	cr_expect_str_eq(user, "ldapuser", "a failed lookup leaves the names alone");
	(void)snprintf(rm, sizeof rm, "rm -rf %s", dir);
	cr_expect_eq(system(rm), 0);
}
