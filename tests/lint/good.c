/* good.c - lines tests/lint.sh must accept: sysexits names, and ordinary numbers in 64..78. */
	return err_set(e, EX_TEMPFAIL, "spool: %s", strerror(errno));
		return EX_USAGE;
			_exit(EX_TEMPFAIL);
		e->code = EX_CONFIG;
	return e.code ? e.code : EX_TEMPFAIL;
	char q[LIM_DOMAIN + 64];
	cap = b->cap ? b->cap : 64;
#define FOLD_AT 78
#define LIM_LOCAL 64
	if (n == 0 || n > 64)
	buf_init(&report, 64 * 1024);
	return 640;
	return 7;
	err_set(e, 0, "no opinion");
	err_set(e, code >= 500 ? 0 : EX_TEMPFAIL, "server said %d", code);
	/* exits 75 when the spool is full; return 64; in a comment is fine */
 * comment line: err_set(e, 75, ...) and exit(64) as prose
	strlcpy(dst, src, sizeof dst);
	cr_assert_eq(e.code, EX_DATAERR, "row %zu", i);
	smtp_reply_set(&r, code, 250);
	case 7:
	n = wide ? 640 : 64;
	rc = 64 * 1024;
	if (WEXITSTATUS(st) != EX_TEMPFAIL)
	cr_expect_eq(rc, EX_TEMPFAIL, "row %zu", i);
	char tok[DNS_SERVER_TOK_MAX];
	unsigned char bh[BODY_CANONS][DKIM_HASH_LEN];
	const char *av[12];
	static const char *const mon[12] = { "Jan", "Feb" };
	int pipefd[2];
	line[32] = '\0';
