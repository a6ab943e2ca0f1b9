/* test_envelope.c - envelope records: exact round trip, and every malformed case refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store/envelope.h"

#define HEAD0 "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 1701226994\nSENDER alice@example.org\n" \
	      "SIZE 442\nBODY 7BIT\nSMTPUTF8 0\n"
#define HEAD1 "UID 1000\nNEXT-TRY 0\nATTEMPTS 0\nWARNED 0\nBOUNCE 0\n"
#define HEAD HEAD0 HEAD1
#define R1 "RCPT bob@example.net\nR-STATE pending\nR-ATTEMPTS 0\n"
#define MIN HEAD R1 "END 1\n"

/* Every accepted file must come back byte for byte. */
static const char *const good[] = {
	MIN,
	/* null sender, every optional key, two recipients, prepend with continuation */
	"VERSION 1\nID 0123456789ABCDEF012\nARRIVAL 0\nSENDER \nSIZE 0\nBODY 8BITMIME\nSMTPUTF8 1\n"
	"ENVID QQ314159\nRET HDRS\nUID 0\nNEXT-TRY 253402300799\nATTEMPTS 1000000\nWARNED 1\nBOUNCE 1\n"
	"PREPEND DKIM-Signature: v=1; a=rsa-sha256; d=example.org;\nPREPEND \tb=abc def\n"
	"PREPEND Received: from x\n"
	"RCPT a@b\nR-ORCPT root\nR-STATE failed\nR-ATTEMPTS 3\nR-NOTIFY SUCCESS,FAILURE,DELAY\n"
	"R-STATUS 5.1.1\nR-RELAY mx.example.net[192.0.2.1]:25\nR-DIAG 550 5.1.1 <a@b>: no such user\n"
	"RCPT c@d\nR-STATE sent\nR-ATTEMPTS 1\nR-NOTIFY NEVER\nR-STATUS 2.0.0\n"
	"RCPT e@f\nR-STATE pending\nR-ATTEMPTS 2\nR-NOTIFY DELAY\nR-STATUS 4.4.1\n"
	"R-DIAG connect to mx[192.0.2.2]:25: Connection refused  \n"
	"END 3\n",
	HEAD0 "RET FULL\n" HEAD1 R1 "R-NOTIFY FAILURE\n" "END 1\n",
	HEAD0 "ENVID a b c\n" HEAD1 "HELD 1\n" R1 "R-NOTIFY SUCCESS,DELAY\nR-STATUS 4.123.999\n" "END 1\n",
	/* history: a deferral, then a delivery; the reply is free text to the end of the line */
	HEAD "HISTORY 1701227000 4.2.0 none mx1.example.net 192.0.2.1:25 450 4.2.0 greylisted, try again  \n"
	"HISTORY 1701228000 2.0.0 TLSv1.3/verified mx2.example.net 192.0.2.2:25 250 2.0.0 Ok: queued\n"
	"HISTORY 1701229000 4.4.1 none - - no host could be reached\n"
	"PREPEND Received: from x\n" R1 "END 1\n",
};

Test(envelope, round_trip)
{
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct envelope env;
		struct err e = { 0 };
		struct buf out;

		buf_init(&out, ENV_MAX_FILE);
		cr_assert_eq(env_parse(good[i], strlen(good[i]), &env, &e), 0, "case %zu: %s", i, e.msg);
		cr_assert_eq(env_format(&env, &out, &e), 0, "case %zu: %s", i, e.msg);
		cr_assert_str_eq(buf_str(&out), good[i], "case %zu", i);
		env_free(&env);
		buf_free(&out);
	}
}

Test(envelope, parsed_values)
{
	struct envelope env;
	struct err e = { 0 };

	cr_assert_eq(env_parse(good[1], strlen(good[1]), &env, &e), 0, "%s", e.msg);
	cr_assert_str_eq(env.id, "0123456789ABCDEF012");
	cr_assert_str_eq(env.sender, "");
	cr_assert(env.body8bit && env.smtputf8 && env.warned && env.is_bounce && !env.held);
	cr_assert_eq(env.ret, 2);
	cr_assert_eq(env.next_try, 253402300799LL);
	cr_assert_eq(env.attempts, 1000000);
	cr_assert_eq(env.nprepend, 3);
	cr_assert_str_eq(env.prepend[1], "\tb=abc def");
	cr_assert_eq(env.nrcpt, 3);
	cr_assert_str_eq(env.rcpt[0].orcpt, "root");
	cr_assert_eq(env.rcpt[0].state, RCPT_FAILED);
	cr_assert_eq(env.rcpt[0].notify, NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY);
	cr_assert_eq(env.rcpt[1].notify, NOTIFY_NEVER);
	cr_assert_null(env.rcpt[1].diag);
	cr_assert_str_eq(env.rcpt[2].diag, "connect to mx[192.0.2.2]:25: Connection refused  ");
	cr_assert_eq(env.rcpt[2].state, RCPT_PENDING);
	cr_assert_eq(env.rcpt[2].attempts, 2);
	env_free(&env);
	cr_assert_null(env.sender);
	env_free(NULL);
}

struct bad {
	const char *in;
	size_t len;	/* 0: strlen */
	const char *want;	/* substring of the reason */
};

static const struct bad bad[] = {
	{ "", 0, "line 1: missing VERSION (file ends)" },
	{ "VERSION 2\n", 0, "line 1: unsupported VERSION" },
	{ "VERSION 1", 0, "line 1: truncated" },
	{ "VERSION\n", 0, "line 1: no space after key" },
	{ " VERSION 1\n", 0, "line 1: bad key" },
	{ "version 1\n", 0, "line 1: bad key" },
	{ "VERSION 1\r\n", 0, "line 1: CR byte" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\0\n", sizeof "VERSION 1\nID 6566A1F20B12C9D3E7F\0\n" - 1, "line 2: NUL" },
	{ "VERSION 1\nID 6566a1f20b12c9d3e7f\n", 0, "line 2: ID: bad queue id" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7\n", 0, "line 2: ID: bad queue id" },
	{ "VERSION 1\nID ../../etc/passwdAAAA\n", 0, "line 2: ID: bad queue id" },
	{ "VERSION 1\nVERSION 1\n", 0, "line 2: duplicate key VERSION" },
	{ "VERSION 1\nFOO bar\n", 0, "line 2: unknown key FOO" },
	{ "VERSION 1\nARRIVAL 1\n", 0, "line 2: ARRIVAL out of order (expected ID)" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 01\n", 0, "line 3: ARRIVAL: bad number" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL -1\n", 0, "line 3: ARRIVAL: bad number" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL +1\n", 0, "ARRIVAL: bad number" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 1x\n", 0, "ARRIVAL: bad number" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL \n", 0, "ARRIVAL: bad number" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 253402300800\n", 0, "ARRIVAL: bad number" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 99999999999999999999\n", 0, "ARRIVAL: bad number" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 1\nSENDER a b\n", 0, "line 4: SENDER: address contains whitespace" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 1\nSENDER a\tb\n", 0, "SENDER: address contains whitespace" },
	{ "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 1\nSENDER a\x1b" "b\n", 0, "SENDER: address contains" },
	{ HEAD0 "NEXT-TRY 1\n", 0, "line 8: NEXT-TRY out of order (expected UID)" },
	{ HEAD0 "RET NONE\n", 0, "line 8: RET: bad value" },
	{ HEAD0 "ENVID \n", 0, "line 8: ENVID: empty value" },
	{ HEAD0 "ENVID a\nENVID b\n", 0, "line 9: duplicate key ENVID" },
	{ HEAD0 "UID 4294967295\n", 0, "UID: bad number" },
	{ HEAD0 "UID 1\nNEXT-TRY 0\nATTEMPTS 1000001\n", 0, "ATTEMPTS: bad number" },
	{ HEAD0 "UID 1\nNEXT-TRY 0\nATTEMPTS 0\nWARNED 2\n", 0, "WARNED: bad value" },
	{ HEAD0 "UID 1\nNEXT-TRY 0\nATTEMPTS 0\nWARNED yes\n", 0, "WARNED: bad value" },
	{ HEAD "HELD 0\n" R1 "END 1\n", 0, "line 13: HELD: bad value" },
	{ HEAD "HELD 1\nHELD 1\n" R1 "END 1\n", 0, "line 14: duplicate key HELD" },
	{ HEAD "END 0\n", 0, "line 13: no recipients" },
	{ HEAD "HISTORY 1 2.0.0 none a b\n" R1 "END 1\n", 0, "line 13: HISTORY: missing value" },
	{ HEAD "HISTORY 1 2.0.0 none a b \n" R1 "END 1\n", 0, "line 13: HISTORY: empty value" },
	{ HEAD "HISTORY 01 2.0.0 none a b c\n" R1 "END 1\n", 0, "line 13: HISTORY: bad number" },
	{ HEAD "HISTORY 1 3.0.0 none a b c\n" R1 "END 1\n", 0, "line 13: HISTORY: bad status code" },
	{ HEAD "HISTORY 1 2.0.0 none  b c\n" R1 "END 1\n", 0, "line 13: HISTORY: empty value" },
	{ HEAD "HISTORY 1 2.0.0 none a\x1b b c\n" R1 "END 1\n", 0, "HISTORY: value is not one printable word" },
	{ HEAD "HISTORY 1 2.0.0 none a b\xc3\xa9 c\n" R1 "END 1\n", 0, "HISTORY: value is not one printable word" },
	{ HEAD "PREPEND X: y\nHISTORY 1 2.0.0 none a b c\n" R1 "END 1\n", 0,
	  "line 14: HISTORY out of order (expected RCPT)" },
	{ HEAD "HELD 1\n" "HISTORY 1 2.0.0 none a b c\n" "HELD 1\n" R1 "END 1\n", 0, "line 15: duplicate key HELD" },
	{ HEAD, 0, "line 13: missing RCPT (file ends)" },
	{ HEAD "PREPEND \tcontinued\n" R1 "END 1\n", 0, "line 13: PREPEND: first header line is a continuation" },
	{ HEAD "PREPEND no colon\n" R1 "END 1\n", 0, "PREPEND: bad header field name" },
	{ HEAD "PREPEND :x\n" R1 "END 1\n", 0, "PREPEND: header line without a field name" },
	{ HEAD "PREPEND \n" R1 "END 1\n", 0, "PREPEND: empty value" },
	{ HEAD R1 "PREPEND X: y\nEND 1\n", 0, "line 16: PREPEND out of order (expected END)" },
	{ HEAD "RCPT \nR-STATE pending\n", 0, "line 13: RCPT: empty address" },
	{ HEAD "RCPT <a@b>\n", 0, "line 14: missing R-STATE" },
	{ HEAD "RCPT a@b\nR-STATE deferred\n", 0, "line 14: R-STATE: bad value" },
	{ HEAD "RCPT a@b\nR-ATTEMPTS 0\nR-STATE sent\n", 0, "R-ATTEMPTS out of order (expected R-STATE)" },
	{ HEAD R1 "R-NOTIFY NEVER,FAILURE\nEND 1\n", 0, "R-NOTIFY: bad value" },
	{ HEAD R1 "R-NOTIFY DELAY,FAILURE\nEND 1\n", 0, "R-NOTIFY: bad value" },
	{ HEAD R1 "R-NOTIFY FAILURE,\nEND 1\n", 0, "R-NOTIFY: bad value" },
	{ HEAD R1 "R-NOTIFY \nEND 1\n", 0, "R-NOTIFY: bad value" },
	{ HEAD R1 "R-NOTIFY FAILURE,FAILURE\nEND 1\n", 0, "R-NOTIFY: bad value" },
	{ HEAD R1 "R-STATUS 3.0.0\nEND 1\n", 0, "R-STATUS: bad status code" },
	{ HEAD R1 "R-STATUS 4.4\nEND 1\n", 0, "R-STATUS: bad status code" },
	{ HEAD R1 "R-STATUS 4.4.1234\nEND 1\n", 0, "R-STATUS: bad status code" },
	{ HEAD R1 "R-STATUS 4.4.1 \nEND 1\n", 0, "R-STATUS: bad status code" },
	{ HEAD R1 "R-DIAG \nEND 1\n", 0, "R-DIAG: empty value" },
	{ HEAD R1 "R-DIAG a\nR-DIAG b\nEND 1\n", 0, "line 17: duplicate key R-DIAG" },
	{ HEAD R1 "R-RELAY a\nR-STATUS 4.0.0\nEND 1\n", 0, "R-STATUS out of order (expected END)" },
	{ HEAD R1 "END 2\n", 0, "line 16: END: recipient count does not match" },
	{ HEAD R1 "END 1\nEND 1\n", 0, "line 17: data after END" },
	{ HEAD R1 "END 1\n\n", 0, "line 17: data after END" },
	{ HEAD R1, 0, "line 16: missing END (file ends)" },
	{ HEAD R1 "END 1", 0, "line 16: truncated" },
};

Test(envelope, malformed)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct envelope env;
		struct err e = { 0 };
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].in);

		cr_assert_eq(env_parse(bad[i].in, len, &env, &e), -1, "case %zu accepted", i);
		cr_assert_eq(e.code, EX_DATAERR, "case %zu", i);
		cr_assert_not_null(strstr(e.msg, bad[i].want), "case %zu: got \"%s\", want \"%s\"", i, e.msg,
				       bad[i].want);
		cr_assert_null(env.sender, "case %zu: not freed", i);
	}
}

/* A file of n repetitions of one recipient block. */
static char *many(size_t n, const char *end)
{
	struct buf b;

	buf_init(&b, (size_t)-1 / 2);
	cr_assert_eq(buf_adds(&b, HEAD), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(buf_printf(&b, "RCPT r%zu@example.net\nR-STATE pending\nR-ATTEMPTS 0\n", i), 0);
	cr_assert_eq(buf_adds(&b, end), 0);
	return buf_take(&b);
}

Test(envelope, limits)
{
	struct envelope env;
	struct err e = { 0 };
	char end[32], *s, *big;
	size_t n;

	/* LIM_RCPTS recipients: fine; one more: refused */
	snprintf(end, sizeof end, "END %d\n", LIM_RCPTS);
	s = many(LIM_RCPTS, end);
	cr_assert_eq(env_parse(s, strlen(s), &env, &e), 0, "%s", e.msg);
	cr_assert_eq(env.nrcpt, LIM_RCPTS);
	env_free(&env);
	free(s);
	s = many(LIM_RCPTS + 1, "END 1\n");
	cr_assert_eq(env_parse(s, strlen(s), &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "too many recipients"), "%s", e.msg);
	free(s);

	/* a file over ENV_MAX_FILE */
	n = ENV_MAX_FILE + 1;
	big = malloc(n);
	memset(big, 'A', n);
	cr_assert_eq(env_parse(big, n, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "file over"), "%s", e.msg);
	free(big);

	/* an address of LIM_PATH bytes is fine, one more is not */
	char addr[LIM_PATH + 2];
	memset(addr, 'a', sizeof addr);
	addr[LIM_PATH] = '\0';
	cr_assert_eq(env_check_addr(addr, LIM_PATH, &e), 0);
	cr_assert_eq(env_check_addr(addr, LIM_PATH + 1, &e), -1);

	/* a diag of ENV_MAX_DIAG bytes round-trips, one more is refused */
	char diag[ENV_MAX_DIAG + 2];
	struct buf b;
	memset(diag, 'x', sizeof diag);
	diag[ENV_MAX_DIAG] = '\0';
	s = NULL;
	buf_init(&b, 1 << 20);
	cr_assert_eq(buf_printf(&b, HEAD R1 "R-DIAG %s\nEND 1\n", diag), 0);
	cr_assert_eq(env_parse(b.data, b.len, &env, &e), 0, "%s", e.msg);
	env_free(&env);
	buf_reset(&b);
	diag[ENV_MAX_DIAG] = 'x';
	diag[ENV_MAX_DIAG + 1] = '\0';
	cr_assert_eq(buf_printf(&b, HEAD R1 "R-DIAG %s\nEND 1\n", diag), 0);
	cr_assert_eq(env_parse(b.data, b.len, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "R-DIAG: value longer than 1000 bytes"), "%s", e.msg);
	buf_free(&b);
}

Test(envelope, check_line)
{
	struct err e = { 0 };

	cr_assert_eq(env_check_line("abc", 3, 3, &e), 0);
	cr_assert_eq(env_check_line("abc", 3, 2, &e), -1);
	cr_assert_eq(env_check_line("a\rc", 3, 10, &e), -1);
	cr_assert_eq(env_check_line("a\nc", 3, 10, &e), -1);
	cr_assert_eq(env_check_line("a\0c", 3, 10, &e), -1);
	cr_assert_eq(e.code, EX_DATAERR);
	cr_assert(env_id_valid("6566A1F20B12C9D3E7F", 19));
	cr_assert(!env_id_valid("6566A1F20B12C9D3E7F", 18));
	cr_assert(!env_id_valid("6566A1F20B12C9D3E7G", 19));
	cr_assert(!env_id_valid(NULL, 19));
}

/* env_format refuses what it could not read back: injection through any string field. */
Test(envelope, format_refuses)
{
	struct env_rcpt r = { .addr = (char *)"bob@example.net" };
	struct envelope env = { .id = "6566A1F20B12C9D3E7F", .sender = (char *)"a@b", .rcpt = &r, .nrcpt = 1 };
	char *pre[] = { (char *)"X: y", (char *)"RCPT evil" };
	struct err e = { 0 };
	struct buf out;

	buf_init(&out, 1 << 20);
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	cr_assert_str_eq(buf_str(&out), "VERSION 1\nID 6566A1F20B12C9D3E7F\nARRIVAL 0\nSENDER a@b\nSIZE 0\n"
			 "BODY 7BIT\nSMTPUTF8 0\nUID 0\nNEXT-TRY 0\nATTEMPTS 0\nWARNED 0\nBOUNCE 0\n"
			 "RCPT bob@example.net\nR-STATE pending\nR-ATTEMPTS 0\nEND 1\n");
	buf_reset(&out);
	/* "" optional strings are absent */
	r.diag = (char *)"";
	env.envid = (char *)"";
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	cr_assert_null(strstr(buf_str(&out), "R-DIAG"));
	cr_assert_null(strstr(buf_str(&out), "ENVID"));

#define REFUSE(stmt, undo)                                                                         \
	do {                                                                                       \
		stmt;                                                                              \
		buf_reset(&out);                                                                   \
		cr_assert_eq(env_format(&env, &out, &e), -1, #stmt " accepted");                  \
		cr_assert_eq(e.code, EX_SOFTWARE);                                                 \
		cr_assert_eq(out.len, 0);                                                          \
		undo;                                                                              \
	} while (0)
	REFUSE(r.diag = (char *)"x\nRCPT evil@x", r.diag = NULL);
	REFUSE(r.relay = (char *)"x\r", r.relay = NULL);
	REFUSE(r.orcpt = (char *)"a\nb", r.orcpt = NULL);
	REFUSE(r.status = (char *)"9.9.9", r.status = NULL);
	REFUSE(r.notify = NOTIFY_NEVER | NOTIFY_DELAY, r.notify = 0);
	REFUSE(r.addr = (char *)"a b", r.addr = (char *)"bob@example.net");
	REFUSE(r.addr = (char *)"", r.addr = (char *)"bob@example.net");
	REFUSE(r.state = (enum rcpt_state)7, r.state = RCPT_PENDING);
	REFUSE(r.attempts = -1, r.attempts = 0);
	REFUSE(env.sender = (char *)"a\nRET FULL", env.sender = (char *)"a@b");
	REFUSE(env.envid = (char *)"a\nRET FULL", env.envid = NULL);
	REFUSE(env.id[0] = '.', env.id[0] = '6');
	REFUSE(env.ret = 3, env.ret = 0);
	REFUSE(env.arrival = -1, env.arrival = 0);
	REFUSE(env.nrcpt = 0, env.nrcpt = 1);
	REFUSE((env.prepend = pre, env.nprepend = 2), (env.prepend = NULL, env.nprepend = 0));
	/* a history entry that would not read back */
	struct env_hist h = { .time = 1, .status = (char *)"2.0.0", .tls = (char *)"none", .host = (char *)"mx",
			      .addr = (char *)"192.0.2.1:25", .reply = (char *)"250 ok" };
	env.hist = &h;
	env.nhist = 1;
	buf_reset(&out);
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	cr_assert_not_null(strstr(buf_str(&out), "\nHISTORY 1 2.0.0 none mx 192.0.2.1:25 250 ok\n"));
	REFUSE(h.reply = NULL, h.reply = (char *)"250 ok");
	REFUSE(h.reply = (char *)"250\nRCPT evil", h.reply = (char *)"250 ok");
	REFUSE(h.host = (char *)"m x", h.host = (char *)"mx");
	REFUSE(h.tls = (char *)"", h.tls = (char *)"none");
	REFUSE(h.addr = NULL, h.addr = (char *)"192.0.2.1:25");
	REFUSE(h.status = (char *)"2.0", h.status = (char *)"2.0.0");
	REFUSE(h.time = -1, h.time = 1);
	REFUSE(env.nhist = ENV_MAX_HISTORY + 1, env.nhist = 1);
	buf_free(&out);
}

/* The worst case, computed from the limits: a submitted envelope exactly at LIM_ENVELOPE_FILE with
 * LIM_RCPTS recipients, then every value a run may record at its ceiling for every recipient (the
 * longest status, relay and diagnostic, the largest counts and time): the deferral still writes and
 * reads back, and it is exactly ENV_MAX_FILE long (the bound is the sum, not a guess). */
Test(envelope, worst_case_deferral_fits)
{
	static char addr[LIM_PATH + 1], orcpt[89], relay[ENV_MAX_RELAY + 1], diag[ENV_MAX_DIAG + 1];
	static char full[LIM_LINE + 1], pad[LIM_LINE + 1];
	struct env_rcpt *r = calloc(LIM_RCPTS, sizeof *r);
	struct envelope env = { .id = "6566A1F20B12C9D3E7F", .sender = (char *)"a@b", .rcpt = r, .nrcpt = LIM_RCPTS };
	char *pre[16];
	struct envelope back;
	struct err e = { 0 };
	struct buf out;
	size_t i;

	memset(addr, 'a', LIM_PATH);
	addr[LIM_PATH - 2] = '@';
	memset(orcpt, 'o', sizeof orcpt - 1);
	memset(relay, 'r', ENV_MAX_RELAY);
	memset(diag, 'd', ENV_MAX_DIAG);
	for (i = 0; i < LIM_RCPTS; i++) {
		r[i].addr = addr;
		r[i].orcpt = orcpt;
		r[i].notify = NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY;
	}
	/* pad the head with PREPEND lines up to the submission ceiling exactly */
	buf_init(&out, ENV_MAX_FILE);
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	size_t room = LIM_ENVELOPE_FILE - out.len;
	memset(full, 'x', LIM_LINE);
	memcpy(full, "X-Pad: ", 7);
	env.prepend = pre;
	for (; room > 9 + LIM_LINE + 16; room -= 9 + LIM_LINE)
		pre[env.nprepend++] = full;
	cr_assert(room >= 16 && env.nprepend < 15, "room %zu", room);
	memset(pad, 'x', room - 9);
	memcpy(pad, "X-Pad: ", 7);
	pre[env.nprepend++] = pad;
	buf_reset(&out);
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(out.len, LIM_ENVELOPE_FILE, "the submitted envelope is at its ceiling");

	/* every outcome at its ceiling, a full history of the widest entries too */
	static char hhost[LIM_DOMAIN + 1], haddr[ENV_MAX_HIST_ADDR + 1], htls[ENV_MAX_HIST_TLS + 1];
	static char hreply[ENV_MAX_HIST_REPLY + 1];
	struct env_hist hist[ENV_MAX_HISTORY];
	memset(hhost, 'h', LIM_DOMAIN);
	memset(haddr, '1', ENV_MAX_HIST_ADDR);
	memset(htls, 't', ENV_MAX_HIST_TLS);
	memset(hreply, 'y', ENV_MAX_HIST_REPLY);
	for (i = 0; i < ENV_MAX_HISTORY; i++)
		hist[i] = (struct env_hist){ .time = 253402300799LL, .status = (char *)"4.123.456", .tls = htls,
					     .host = hhost, .addr = haddr, .reply = hreply };
	env.hist = hist;
	env.nhist = ENV_MAX_HISTORY;
	env.next_try = 253402300799LL;
	env.attempts = 1000000;
	env.held = true;	/* postern queue hold adds "HELD 1" */
	for (i = 0; i < LIM_RCPTS; i++) {
		r[i].state = i % 2 ? RCPT_PENDING : RCPT_FAILED;
		r[i].inplace = i % 2 == 0;	/* "failed-": as wide as "pending" */
		r[i].attempts = 1000000;
		r[i].status = (char *)"4.123.456";
		r[i].relay = relay;
		r[i].diag = diag;
	}
	buf_reset(&out);
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(out.len, ENV_MAX_FILE, "%zu vs %zu", out.len, (size_t)ENV_MAX_FILE);
	cr_assert_eq(env_parse(out.data, out.len, &back, &e), 0, "%s", e.msg);
	cr_assert_eq(back.nrcpt, LIM_RCPTS);
	cr_assert_eq(back.nhist, ENV_MAX_HISTORY);
	env_free(&back);
	buf_free(&out);
	free(r);
}

/* The case: 6,000 recipients each deferred with a long 450 outgrow the old 4 MiB ceiling. */
Test(envelope, six_thousand_long_450s)
{
	static char diag[ENV_MAX_DIAG + 1];
	struct env_rcpt *r = calloc(6000, sizeof *r);
	struct envelope env = { .id = "6566A1F20B12C9D3E7F", .sender = (char *)"a@b", .rcpt = r, .nrcpt = 6000 };
	struct err e = { 0 };
	struct buf out;

	memset(diag, 'y', ENV_MAX_DIAG);
	memcpy(diag, "450 4.2.0 ", 10);
	for (size_t i = 0; i < 6000; i++) {
		r[i].addr = (char *)"user@greylist.example";
		r[i].attempts = 1;
		r[i].status = (char *)"4.2.0";
		r[i].relay = (char *)"mx.greylist.example[192.0.2.1]:25";
		r[i].diag = diag;
	}
	buf_init(&out, ENV_MAX_FILE);
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	cr_assert_gt(out.len, (size_t)LIM_ENVELOPE_FILE);
	buf_free(&out);
	free(r);
}

/* In-place state words: as wide as "pending", read back as their state with `inplace`, round-trip, and
 * state_at points at the word in the text. */
Test(envelope, in_place_states)
{
	static const struct {
		const char *word;
		enum rcpt_state st;
		bool inplace;
	} rows[] = {
		{ "pending", RCPT_PENDING, false }, { "sent", RCPT_SENT, false }, { "failed", RCPT_FAILED, false },
		{ "delayed", RCPT_PENDING, true }, { "done---", RCPT_SENT, true }, { "failed-", RCPT_FAILED, true },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct envelope env;
		struct err e = { 0 };
		struct buf in, out;

		buf_init(&in, 4096);
		buf_init(&out, 4096);
		cr_assert_eq(buf_printf(&in, HEAD "RCPT a@b\nR-STATE %s\nR-ATTEMPTS 0\nEND 1\n", rows[i].word), 0);
		cr_assert_eq(env_parse(in.data, in.len, &env, &e), 0, "%s: %s", rows[i].word, e.msg);
		cr_assert_eq(env.rcpt[0].state, rows[i].st, "%s", rows[i].word);
		cr_assert_eq(env.rcpt[0].inplace, rows[i].inplace, "%s", rows[i].word);
		cr_assert_eq(strncmp(in.data + env.rcpt[0].state_at, rows[i].word, strlen(rows[i].word)), 0);
		cr_assert_str_eq(env_state_word(rows[i].st, rows[i].inplace), rows[i].word);
		if (rows[i].inplace)
			cr_assert_eq(strlen(rows[i].word), ENV_STATE_WIDTH);
		cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
		cr_assert_str_eq(buf_str(&out), buf_str(&in));
		env_free(&env);
		buf_free(&in);
		buf_free(&out);
	}
	struct envelope env;
	struct err e = { 0 };
	const char *nope = HEAD "RCPT a@b\nR-STATE done\nR-ATTEMPTS 0\nEND 1\n";
	cr_assert_eq(env_parse(nope, strlen(nope), &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "R-STATE"), "%s", e.msg);
}

/* env_make_writable: whatever a peer sent becomes something env_format writes. */
Test(envelope, make_writable)
{
	static const struct {
		enum rcpt_state st;
		const char *status, *want_status;
		const char *diag, *want_diag;
	} rows[] = {
		{ RCPT_PENDING, "3.0.0", "4.0.0", "334 VXNlcm5hbWU6", "334 VXNlcm5hbWU6" },
		{ RCPT_SENT, "2.x.0", "2.0.0", "250 ok", "250 ok" },
		{ RCPT_FAILED, "", "", "550 no\r\nRCPT evil@x", "550 no??RCPT evil@x" },
		{ RCPT_FAILED, "5.1.1", "5.1.1", NULL, NULL },
		{ RCPT_PENDING, "4.4.1000", "4.0.0", "x", "x" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct env_rcpt r = { .addr = (char *)"bob@example.net", .state = rows[i].st, .inplace = true };
		struct envelope env = { .id = "6566A1F20B12C9D3E7F", .sender = (char *)"a@b", .rcpt = &r, .nrcpt = 1 };
		struct err e = { 0 };
		struct buf out;

		r.status = xstrdup(rows[i].status);
		r.diag = rows[i].diag ? xstrdup(rows[i].diag) : NULL;
		env_make_writable(&env);
		cr_assert_str_eq(r.status, rows[i].want_status, "row %zu", i);
		if (rows[i].want_diag)
			cr_assert_str_eq(r.diag, rows[i].want_diag, "row %zu", i);
		cr_assert(!r.inplace, "canonical words again");
		buf_init(&out, 1 << 16);
		cr_assert_eq(env_format(&env, &out, &e), 0, "row %zu: %s", i, e.msg);
		buf_free(&out);
		free(r.status);
		free(r.diag);
	}
	/* a diagnostic one byte too long is cut to the ceiling, ending in "..." */
	char *d = malloc(ENV_MAX_DIAG + 2);
	memset(d, 'z', ENV_MAX_DIAG + 1);
	d[ENV_MAX_DIAG + 1] = '\0';
	struct env_rcpt r = { .addr = (char *)"bob@example.net", .diag = d };
	struct envelope env = { .id = "6566A1F20B12C9D3E7F", .sender = (char *)"a@b", .rcpt = &r, .nrcpt = 1 };
	cr_assert_eq(env_make_writable(&env), 1);
	cr_assert_eq(strlen(d), ENV_MAX_DIAG);
	cr_assert_str_eq(d + ENV_MAX_DIAG - 3, "...");
	cr_assert_eq(env_make_writable(&env), 0, "nothing left to change");
	free(d);
}

/* The history is bounded: ENV_MAX_HISTORY lines are read, one more is refused; a reply of
 * ENV_MAX_HIST_REPLY bytes is read, one more is refused. */
Test(envelope, history_limits)
{
	char reply[ENV_MAX_HIST_REPLY + 2];
	struct envelope env;
	struct err e = { 0 };
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	cr_assert_eq(buf_adds(&b, HEAD), 0);
	for (i = 0; i < ENV_MAX_HISTORY; i++)
		cr_assert_eq(buf_printf(&b, "HISTORY %zu 4.0.0 none mx 192.0.2.1:25 450 try later\n", i), 0);
	cr_assert_eq(buf_adds(&b, R1 "END 1\n"), 0);
	cr_assert_eq(env_parse(b.data, b.len, &env, &e), 0, "%s", e.msg);
	cr_assert_eq(env.nhist, ENV_MAX_HISTORY);
	cr_assert_eq(env.hist[3].time, 3);
	cr_assert_str_eq(env.hist[3].reply, "450 try later");
	cr_assert_str_eq(env.hist[3].addr, "192.0.2.1:25");
	env_free(&env);
	buf_reset(&b);
	cr_assert_eq(buf_adds(&b, HEAD), 0);
	for (i = 0; i <= ENV_MAX_HISTORY; i++)
		cr_assert_eq(buf_printf(&b, "HISTORY %zu 4.0.0 none mx 192.0.2.1:25 450 try later\n", i), 0);
	cr_assert_eq(buf_adds(&b, R1 "END 1\n"), 0);
	cr_assert_eq(env_parse(b.data, b.len, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "too many HISTORY lines"), "%s", e.msg);

	memset(reply, 'r', sizeof reply);
	reply[ENV_MAX_HIST_REPLY] = '\0';
	buf_reset(&b);
	cr_assert_eq(buf_printf(&b, HEAD "HISTORY 1 2.0.0 none a b %s\n" R1 "END 1\n", reply), 0);
	cr_assert_eq(env_parse(b.data, b.len, &env, &e), 0, "%s", e.msg);
	env_free(&env);
	reply[ENV_MAX_HIST_REPLY] = 'r';
	reply[ENV_MAX_HIST_REPLY + 1] = '\0';
	buf_reset(&b);
	cr_assert_eq(buf_printf(&b, HEAD "HISTORY 1 2.0.0 none a b %s\n" R1 "END 1\n", reply), 0);
	cr_assert_eq(env_parse(b.data, b.len, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "HISTORY: value longer than"), "%s", e.msg);
	buf_free(&b);
}

/* env_hist_note: one entry per host and pass, a failure's reply kept over a success's, the newest
 * ENV_MAX_HISTORY kept, every value made writable. Each row is noted on the envelope the rows before
 * it left; `want` is the history formatted after it. */
Test(envelope, hist_note)
{
	static const struct {
		size_t fresh;
		long long now;
		const char *relay, *tls, *status, *reply;
		int ret;
		const char *want;	/* the last entry's line, without "HISTORY " */
		size_t nhist;
	} rows[] = {
		{ 0, 100, "mx1.example.net[192.0.2.1]:25", "none", "4.2.0", "450 greylisted", 1,
		  "100 4.2.0 none mx1.example.net 192.0.2.1:25 450 greylisted", 1 },
		/* the same host in the same pass: updated, the deferral's reply kept over the success */
		{ 1, 101, "mx1.example.net[192.0.2.1]:25", "TLSv1.3/verified", "2.0.0", "250 ok", 0,
		  "101 4.2.0 TLSv1.3/verified mx1.example.net 192.0.2.1:25 450 greylisted", 1 },
		/* the same host in the next pass (fresh 0): a new entry */
		{ 0, 200, "mx1.example.net[192.0.2.1]:25", "none", "2.0.0", "250 ok", 1,
		  "200 2.0.0 none mx1.example.net 192.0.2.1:25 250 ok", 2 },
		/* a success then a failure on one host in a pass: the failure's reply */
		{ 1, 201, "mx1.example.net[192.0.2.1]:25", "none", "5.1.1", "550 no such user", 0,
		  "201 5.1.1 none mx1.example.net 192.0.2.1:25 550 no such user", 2 },
		/* no host at all; a status that is not RFC 3463; an empty reply */
		{ 1, 202, "none", "", "3.0.0", "", 1, "202 4.0.0 - - - -", 3 },
		/* hostile words: a space, a control byte, 8-bit; a reply with a line break */
		{ 0, 300, "m x\x1b\xc3[1 2]:25", "a b", "4.0.0", "450 a\r\nRCPT x", 1,
		  "300 4.0.0 a?b m?x?? 1?2:25 450 a??RCPT x", 4 },
		/* the clock before 1970 */
		{ 0, -5, "h[a]:1", "none", "2.0.0", "ok", 1, "0 2.0.0 none h a:1 ok", 5 },
	};
	struct envelope env = { .id = "6566A1F20B12C9D3E7F", .sender = (char *)"a@b", .nrcpt = 1 };
	struct env_rcpt r = { .addr = (char *)"b@c" };
	struct err e = { 0 };
	struct buf out;
	char want[512];

	env.rcpt = &r;
	buf_init(&out, ENV_MAX_FILE);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		cr_assert_eq(env_hist_note(&env, rows[i].fresh, rows[i].now, rows[i].relay, rows[i].tls,
					   rows[i].status, rows[i].reply), rows[i].ret, "row %zu", i);
		cr_assert_eq(env.nhist, rows[i].nhist, "row %zu", i);
		buf_reset(&out);
		cr_assert_eq(env_format(&env, &out, &e), 0, "row %zu: %s", i, e.msg);
		snprintf(want, sizeof want, "HISTORY %s\n", rows[i].want);
		cr_assert_not_null(strstr(buf_str(&out), want), "row %zu: %s", i, buf_str(&out));
	}
	/* a long reply is cut to ENV_MAX_HIST_REPLY and ends in "..."; the oldest entries go */
	char big[2 * ENV_MAX_HIST_REPLY];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (int k = 0; k < 2 * ENV_MAX_HISTORY; k++)
		cr_assert_eq(env_hist_note(&env, 0, 1000 + k, "h[a]:1", "none", "4.0.0", big), 1);
	cr_assert_eq(env.nhist, ENV_MAX_HISTORY);
	cr_assert_eq(env.hist[0].time, 1000 + ENV_MAX_HISTORY);
	cr_assert_eq(env.hist[ENV_MAX_HISTORY - 1].time, 1000 + 2 * ENV_MAX_HISTORY - 1);
	cr_assert_eq(strlen(env.hist[0].reply), ENV_MAX_HIST_REPLY);
	cr_assert_str_eq(env.hist[0].reply + ENV_MAX_HIST_REPLY - 3, "...");
	buf_reset(&out);
	cr_assert_eq(env_format(&env, &out, &e), 0, "%s", e.msg);
	env_hist_clear(&env);
	cr_assert_eq(env.nhist, 0);
	cr_assert_null(env.hist);
	buf_free(&out);
}
