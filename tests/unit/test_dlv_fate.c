/* test_dlv_fate.c - dlv_fate row by row, each rule with the RFC that says so (RFC 5321 for what a
 * reply means at a step, RFC 3463 for the status it carries, RFC 7505, 6531 and 3207 for the rest). */
#include <criterion/criterion.h>
#include <string.h>

#include "queue/wire/dlv_fate.h"

#define S DLV_SENT
#define D DLV_DEFER
#define F DLV_FAIL

struct frow {
	enum smtp_step step;
	int code;
	const char *status;	/* the server's enhanced status, or NULL */
	enum dlv_cause cause;
	enum dlv_state want;
	const char *want_status;
	const char *why;
};

static const struct frow rows[] = {
	/* The end of data's positive reply is delivery (RFC 5321 4.1.1.4, 4.2.5); the status the
	 * server gave is kept when it is a 2.x.x one (RFC 3463 3: the class must agree). */
	{ SMTP_STEP_DOT, 250, "2.0.0", DLV_C_REPLY, S, "2.0.0", "250 2.0.0 at the dot" },
	{ SMTP_STEP_DOT, 250, "2.6.0", DLV_C_REPLY, S, "2.6.0", "the server's 2.y.z kept" },
	{ SMTP_STEP_DOT, 250, NULL, DLV_C_REPLY, S, "2.0.0", "no status: class default (RFC 3463 3)" },
	{ SMTP_STEP_DOT, 250, "", DLV_C_REPLY, S, "2.0.0", "empty status: class default" },
	{ SMTP_STEP_DOT, 250, "5.0.0", DLV_C_REPLY, S, "2.0.0", "class disagrees: replaced (RFC 3463 3)" },
	{ SMTP_STEP_DOT, 250, "2.x.0", DLV_C_REPLY, S, "2.0.0", "malformed status (RFC 3463 2)" },
	{ SMTP_STEP_DOT, 250, "2.1234.0", DLV_C_REPLY, S, "2.0.0", "subject over three digits (RFC 3463 2)" },
	/* 5xx to the mail transaction fails the recipient (RFC 5321 4.2.1: permanent negative) */
	{ SMTP_STEP_MAIL, 550, "5.7.1", DLV_C_REPLY, F, "5.7.1", "550 to MAIL" },
	{ SMTP_STEP_MAIL, 552, "5.3.4", DLV_C_REPLY, F, "5.3.4", "552 to MAIL: message too big" },
	{ SMTP_STEP_RCPT, 550, "5.1.1", DLV_C_REPLY, F, "5.1.1", "550 5.1.1 user unknown" },
	{ SMTP_STEP_RCPT, 553, NULL, DLV_C_REPLY, F, "5.0.0", "5xx without status: 5.0.0 (RFC 3463 3)" },
	{ SMTP_STEP_RCPT, 550, "4.2.2", DLV_C_REPLY, F, "5.0.0", "5xx with a 4.y.z: class must agree" },
	{ SMTP_STEP_DATA, 554, "5.5.1", DLV_C_REPLY, F, "5.5.1", "554 to DATA" },
	{ SMTP_STEP_DOT, 554, "5.7.1", DLV_C_REPLY, F, "5.7.1", "554 after the dot: rejected content" },
	{ SMTP_STEP_DOT, 552, NULL, DLV_C_REPLY, F, "5.0.0", "552 after the dot" },
	/* RFC 5321 4.5.3.1.10: 552 to RCPT was RFC 821's "too many recipients": taken as 452 */
	{ SMTP_STEP_RCPT, 552, "5.2.2", DLV_C_REPLY, D, "4.2.2", "552 to RCPT is temporary" },
	{ SMTP_STEP_RCPT, 552, NULL, DLV_C_REPLY, D, "4.0.0", "552 to RCPT, no status" },
	/* 4xx defers at every step (RFC 5321 4.2.1: transient negative) */
	{ SMTP_STEP_GREETING, 421, "4.3.2", DLV_C_REPLY, D, "4.3.2", "421 greeting" },
	{ SMTP_STEP_EHLO, 421, NULL, DLV_C_REPLY, D, "4.0.0", "421 to EHLO" },
	{ SMTP_STEP_MAIL, 451, "4.3.0", DLV_C_REPLY, D, "4.3.0", "451 to MAIL" },
	{ SMTP_STEP_RCPT, 450, "4.2.1", DLV_C_REPLY, D, "4.2.1", "450 greylisted" },
	{ SMTP_STEP_RCPT, 452, "4.5.3", DLV_C_REPLY, D, "4.5.3", "452 too many recipients" },
	{ SMTP_STEP_RCPT, 451, "5.7.1", DLV_C_REPLY, D, "4.0.0", "4xx with a 5.y.z: class must agree" },
	{ SMTP_STEP_DATA, 451, NULL, DLV_C_REPLY, D, "4.0.0", "451 to DATA" },
	{ SMTP_STEP_DOT, 452, "4.3.1", DLV_C_REPLY, D, "4.3.1", "452 after the dot: out of storage" },
	{ SMTP_STEP_AUTH, 454, "4.7.0", DLV_C_REPLY, D, "4.7.0", "454 to AUTH (RFC 4954 6)" },
	{ SMTP_STEP_STARTTLS, 454, NULL, DLV_C_REPLY, D, "4.0.0", "454 to STARTTLS (RFC 3207 4)" },
	/* 5xx to the session is the host refusing us, no verdict on the recipient: deferred, the class
	 * of its status made transient (another MX may take it, RFC 5321 5.1; an admin fixes AUTH) */
	{ SMTP_STEP_GREETING, 554, "5.7.1", DLV_C_REPLY, D, "4.7.1", "554 greeting (RFC 5321 3.1)" },
	{ SMTP_STEP_GREETING, 554, NULL, DLV_C_REPLY, D, "4.0.0", "554 greeting, no status" },
	{ SMTP_STEP_EHLO, 550, NULL, DLV_C_REPLY, D, "4.0.0", "550 to EHLO" },
	{ SMTP_STEP_HELO, 501, "5.5.2", DLV_C_REPLY, D, "4.5.2", "501 to HELO" },
	{ SMTP_STEP_STARTTLS, 501, NULL, DLV_C_REPLY, D, "4.0.0", "501 to STARTTLS" },
	{ SMTP_STEP_AUTH, 535, "5.7.8", DLV_C_REPLY, D, "4.7.8", "535 5.7.8 bad credentials (RFC 4954 6)" },
	{ SMTP_STEP_AUTH_CONT, 504, "5.5.4", DLV_C_REPLY, D, "4.5.4", "504 unknown mechanism" },
	{ SMTP_STEP_RSET, 500, NULL, DLV_C_REPLY, D, "4.0.0", "500 to RSET" },
	/* a reply of the wrong class is a protocol error (RFC 5321 4.2.1, 4.3.2): deferred 4.5.0 */
	{ SMTP_STEP_DATA, 250, "2.0.0", DLV_C_REPLY, D, "4.5.0", "250 to DATA" },
	{ SMTP_STEP_DOT, 354, NULL, DLV_C_REPLY, D, "4.5.0", "354 after the dot" },
	{ SMTP_STEP_GREETING, 354, NULL, DLV_C_REPLY, D, "4.5.0", "3xx greeting" },
	{ SMTP_STEP_MAIL, 334, NULL, DLV_C_REPLY, D, "4.5.0", "3xx to MAIL" },
	{ SMTP_STEP_RCPT, 199, NULL, DLV_C_REPLY, D, "4.5.0", "code below 200" },
	{ SMTP_STEP_RCPT, 600, "5.0.0", DLV_C_REPLY, D, "4.5.0", "code above 599" },
	{ SMTP_STEP_BODY, 250, NULL, DLV_C_REPLY, D, "4.5.0", "a step without a reply" },
	{ SMTP_STEP_RCPT, 0, NULL, DLV_C_PROTO, D, "4.5.0", "malformed reply (RFC 3463 3.6)" },
	/* local causes, each with its RFC 3463 code (section 3.x named) */
	{ SMTP_STEP_CONNECT, 0, NULL, DLV_C_CONNECT, D, "4.4.1", "X.4.1 no answer from host" },
	{ SMTP_STEP_RCPT, 0, NULL, DLV_C_LOST, D, "4.4.2", "X.4.2 bad connection" },
	{ SMTP_STEP_CONNECT, 0, NULL, DLV_C_DNS_TEMP, D, "4.4.3", "X.4.3 directory server failure" },
	{ SMTP_STEP_CONNECT, 0, NULL, DLV_C_NO_HOSTS, D, "4.4.4", "X.4.4 unable to route" },
	{ SMTP_STEP_CONNECT, 0, NULL, DLV_C_NXDOMAIN, F, "5.1.2", "X.1.2 bad destination system" },
	{ SMTP_STEP_CONNECT, 0, NULL, DLV_C_NULLMX, F, "5.1.10", "RFC 7505 4.2: null MX" },
	{ SMTP_STEP_CONNECT, 0, NULL, DLV_C_ROUTE_PERM, F, "5.4.4", "X.4.4 unable to route, permanent" },
	{ SMTP_STEP_STARTTLS, 0, NULL, DLV_C_TLS_MISSING, D, "4.7.4", "X.7.4 security not supported" },
	{ SMTP_STEP_TLS, 0, NULL, DLV_C_TLS_FAILED, D, "4.7.5", "X.7.5 cryptographic failure" },
	{ SMTP_STEP_AUTH, 0, NULL, DLV_C_AUTH, D, "4.7.0", "X.7.0 other security status" },
	{ SMTP_STEP_DOT, 0, NULL, DLV_C_LOCAL, D, "4.3.0", "X.3.0 other mail system status" },
	{ SMTP_STEP_MAIL, 0, NULL, DLV_C_SHUTDOWN, D, "4.3.2", "X.3.2 not accepting messages" },
	{ SMTP_STEP_MAIL, 0, NULL, DLV_C_SMTPUTF8, D, "4.6.7", "RFC 6531 3.5, RFC 6533 3.1: X.6.7" },
	{ SMTP_STEP_CONNECT, 0, NULL, DLV_C_EXPIRED, F, "4.4.7", "X.4.7 delivery time expired" },
	{ SMTP_STEP_MAIL, 0, NULL, DLV_C_8BIT, F, "5.6.3", "RFC 6152 3: X.6.3 conversion not supported" },
	/* a local cause ignores whatever code and status came with it */
	{ SMTP_STEP_RCPT, 550, "5.1.1", DLV_C_LOST, D, "4.4.2", "cause wins over a stale reply" },
};

Test(dlv_fate, table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct frow *w = &rows[i];
		struct dlv_fate f = dlv_fate(w->step, w->code, w->status, w->cause);

		cr_expect_eq(f.state, w->want, "row %zu (%s): state %c, want %c", i, w->why, f.state, w->want);
		cr_expect_str_eq(f.status, w->want_status, "row %zu (%s)", i, w->why);
	}
}

/* Every cause has a row in the fate table: a well-formed status of class 4 or 5. */
Test(dlv_fate, every_cause)
{
	for (int c = DLV_C_PROTO; c < DLV_C_N; c++) {
		struct dlv_fate f = dlv_fate(SMTP_STEP_CONNECT, 0, NULL, (enum dlv_cause)c);

		cr_expect(f.state == D || f.state == F, "cause %d", c);
		cr_expect(f.status[0] == '4' || f.status[0] == '5', "cause %d: %s", c, f.status);
		cr_expect(f.status[1] == '.', "cause %d: %s", c, f.status);
	}
}

/* A status longer than the room for one is not copied (it cannot be RFC 3463's anyway). */
Test(dlv_fate, long_status)
{
	struct dlv_fate f = dlv_fate(SMTP_STEP_RCPT, 550, "5.111.2222222222222", DLV_C_REPLY);

	cr_expect_str_eq(f.status, "5.0.0");
	cr_expect_eq(f.state, F);
}

Test(dlv_fate, host_steps)
{
	cr_expect(dlv_host_step(SMTP_STEP_GREETING));
	cr_expect(dlv_host_step(SMTP_STEP_EHLO));
	cr_expect(dlv_host_step(SMTP_STEP_AUTH));
	cr_expect(dlv_host_step(SMTP_STEP_STARTTLS));
	cr_expect(!dlv_host_step(SMTP_STEP_MAIL));
	cr_expect(!dlv_host_step(SMTP_STEP_RCPT));
	cr_expect(!dlv_host_step(SMTP_STEP_DATA));
	cr_expect(!dlv_host_step(SMTP_STEP_DOT));
}

/* dlv_refusal: which refusals are about the sending host (fallback_relay sends those another way)
 * and which are about the recipient (they stand). Texts as the receivers write them. */
struct rrow {
	int code;
	const char *status;
	const char *text;
	enum dlv_refusal want;
	const char *why;
};

static const struct rrow rrows[] = {
	/* Gmail's SMTP error reference */
	{ 421, "4.7.28", "Gmail has detected an unusual rate of unsolicited mail originating from your IP "
	  "address.\nTo protect our users from spam, mail sent from your IP address has been temporarily "
	  "rate limited.", DLV_R_REPUTATION, "Gmail 421-4.7.28" },
	{ 550, "5.7.26", "This mail has been blocked because the sender is unauthenticated.\nGmail requires "
	  "all senders to authenticate with either SPF or DKIM.", DLV_R_AUTH, "Gmail 550-5.7.26" },
	{ 550, "5.7.25", "The IP address sending this message does not have a PTR record setup, or the\n"
	  "corresponding forward DNS entry does not point to the sending IP.", DLV_R_RDNS, "Gmail 5.7.25" },
	{ 550, "5.7.1", "5.7.26 Unauthenticated email from example.com is not accepted due to\n5.7.26 "
	  "domain's DMARC policy.", DLV_R_AUTH, "the status on a later line, in the text" },
	/* Microsoft's block list refusals */
	{ 550, "5.7.1", "Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet "
	  "service provider since part of their network is on our block list (S3140).", DLV_R_BLOCKLIST,
	  "Microsoft S3140" },
	{ 550, "5.7.1", "Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. (S3150)",
	  DLV_R_BLOCKLIST, "Microsoft S3150" },
	/* DNSBL texts */
	{ 554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
	  "https://www.spamhaus.org/query/ip/192.0.2.1", DLV_R_BLOCKLIST, "Spamhaus through Postfix" },
	{ 554, NULL, "Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation, "
	  "see http://www.barracudanetworks.com/reputation/", DLV_R_BLOCKLIST, "Barracuda" },
	{ 550, "5.7.1", "Your IP is BLACKLISTED by our policy", DLV_R_BLOCKLIST, "case-insensitive" },
	{ 450, "4.7.1", "Client host rejected: cannot find your reverse hostname; reverse DNS failed",
	  DLV_R_RDNS, "reverse DNS (Postfix reject_unknown_client_hostname)" },
	{ 550, NULL, "no PTR. for 192.0.2.1", DLV_R_RDNS, "PTR followed by a dot" },
	{ 554, "5.7.1", "Poor sender reputation", DLV_R_REPUTATION, "reputation" },
	/* about the recipient or the message: they stand */
	{ 550, "5.1.1", "no such user (test world)", DLV_R_NONE, "user unknown" },
	{ 550, "5.1.1", "user unknown; our spam filter (Spamhaus) is not the reason", DLV_R_NONE,
	  "x.1.y is about the address, whatever the text" },
	{ 552, "5.2.2", "mailbox full, see blacklist policy", DLV_R_NONE, "x.2.y is about the mailbox" },
	{ 550, NULL, "User unknown", DLV_R_NONE, "no status, no word" },
	{ 554, "5.7.1", "Relay access denied", DLV_R_NONE, "relay denied" },
	{ 550, "5.7.1", "message content rejected: interrupted", DLV_R_NONE, "\"interrupted\" has no PTR word" },
	{ 550, NULL, "sent through XPTRY gateway; spamhausX; 4.7.281 reputations", DLV_R_NONE,
	  "no whole word (reputations is another word)" },
	{ 250, "2.0.0", "OK reputation fine", DLV_R_NONE, "not a refusal" },
	{ 550, NULL, NULL, DLV_R_NONE, "no text" },
};

Test(dlv_fate, refusal_table)
{
	for (size_t i = 0; i < sizeof rrows / sizeof rrows[0]; i++) {
		const struct rrow *r = &rrows[i];
		enum dlv_refusal got = dlv_refusal(r->code, r->status, r->text, r->text ? strlen(r->text) : 0);

		cr_expect_eq(got, r->want, "row %zu (%s): got %d, want %d", i, r->why, got, r->want);
	}
}

/* Only the first DLV_REFUSAL_SCAN bytes are read; the text needs no terminating NUL. */
Test(dlv_fate, refusal_scan_bounded)
{
	static char t[DLV_REFUSAL_SCAN + 64];

	memset(t, 'x', sizeof t);
	memcpy(t + DLV_REFUSAL_SCAN + 8, " PTR ", 5);
	cr_expect_eq(dlv_refusal(550, NULL, t, sizeof t), DLV_R_NONE);
	memcpy(t + 8, " PTR ", 5);
	cr_expect_eq(dlv_refusal(550, NULL, t, sizeof t), DLV_R_RDNS);
	cr_expect_str_eq(dlv_refusal_name(DLV_R_REPUTATION), "reputation");
	cr_expect_str_eq(dlv_refusal_name(DLV_R_NONE), "");
}
