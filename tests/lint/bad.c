/* bad.c - lines tests/lint.sh must refuse, one finding each (its self-test counts them). */
	return err_set(e, 75, "spool: %s", strerror(errno));
		err_set(&e, 78, "no key");
	err_set(ps->e, 65, "bad number");
		return 64;
	return 70 ;
			_exit(75);
	exit(64);
		e->code = 78;
	if (e.code == 65 || e.code == 64)
	return e.code ? e.code : 75;
	strcpy(dst, src);
	n = atoi(s);
	cr_assert_eq(e.code, 65, "row %zu", i);
	case 75:
	return failed ? 75 : 0;
	if (rc == 75 || rc == 0)
		status = 78;
	if (WEXITSTATUS(st) != 75)
	cr_expect_eq(rc, 75, "row %zu", i);
	char tok[64];
	unsigned char digest[32];
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	char name[NAME_MAX_LEN + 1], suffix[16];
	uint8_t r[4];
void dkim_body_final(struct dkim_body *b, unsigned char bh[32]);
