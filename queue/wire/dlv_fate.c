/*
 * dlv_fate.c - a recipient's fate and DSN status from a step and a reply or local cause. See
 * dlv_fate.h. Pure.
 */
#include "queue/wire/dlv_fate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "queue/wire/smtp_reply.h"

/* The fixed fate of each local cause (RFC 3463 3.x; 5.1.10 is RFC 7505 4.2's). */
static const struct cause_row {
	enum dlv_state state;
	const char *status;
} causes[DLV_C_N] = {
	[DLV_C_REPLY] = { DLV_DEFER, "4.0.0" },	/* (not used: the reply decides) */
	[DLV_C_PROTO] = { DLV_DEFER, "4.5.0" },
	[DLV_C_CONNECT] = { DLV_DEFER, "4.4.1" },
	[DLV_C_LOST] = { DLV_DEFER, "4.4.2" },
	[DLV_C_DNS_TEMP] = { DLV_DEFER, "4.4.3" },
	[DLV_C_NO_HOSTS] = { DLV_DEFER, "4.4.4" },
	[DLV_C_NXDOMAIN] = { DLV_FAIL, "5.1.2" },
	[DLV_C_NULLMX] = { DLV_FAIL, "5.1.10" },
	[DLV_C_ROUTE_PERM] = { DLV_FAIL, "5.4.4" },
	[DLV_C_TLS_MISSING] = { DLV_DEFER, "4.7.4" },
	[DLV_C_TLS_FAILED] = { DLV_DEFER, "4.7.5" },
	[DLV_C_AUTH] = { DLV_DEFER, "4.7.0" },
	[DLV_C_LOCAL] = { DLV_DEFER, "4.3.0" },
	[DLV_C_SHUTDOWN] = { DLV_DEFER, "4.3.2" },
	[DLV_C_SMTPUTF8] = { DLV_DEFER, "4.6.7" },
	[DLV_C_EXPIRED] = { DLV_FAIL, "4.4.7" },	/* RFC 3463 3.5: X.4.7 is a persistent transient */
	[DLV_C_8BIT] = { DLV_FAIL, "5.6.3" },
};

bool dlv_host_step(enum smtp_step step)
{
	switch (step) {
	case SMTP_STEP_MAIL:
	case SMTP_STEP_RCPT:
	case SMTP_STEP_DATA:
	case SMTP_STEP_BODY:
	case SMTP_STEP_DOT:
		return false;
	default:
		return true;
	}
}

/* fate - a fate with status s. */
static struct dlv_fate fate(enum dlv_state st, const char *s)
{
	struct dlv_fate f;

	f.state = st;
	(void)snprintf(f.status, sizeof f.status, "%s", s);
	return f;
}

/* with_status - class `cls`'s fate: the server's status if it is well formed and of that class (RFC
 * 3463 3), else the class default "cls.0.0". */
static struct dlv_fate with_status(enum dlv_state st, int cls, const char *status)
{
	struct dlv_fate f = fate(st, "");
	size_t n = status != NULL ? strnlen(status, DLV_STATUS_MAX) : 0;

	if (n > 0 && n < DLV_STATUS_MAX && smtp_status_parse(status, n) == n && status[0] == '0' + cls)
		memcpy(f.status, status, n + 1);
	else
		(void)snprintf(f.status, sizeof f.status, "%d.0.0", cls);
	return f;
}

struct dlv_fate dlv_fate(enum smtp_step step, int code, const char *status, enum dlv_cause cause)
{
	struct dlv_fate f;

	if ((unsigned)cause >= DLV_C_N)
		abort();	/* a broken invariant */
	if (cause != DLV_C_REPLY)
		return fate(causes[cause].state, causes[cause].status);
	switch (smtp_verdict(step, code)) {
	case SMTP_V_OK:
		return with_status(DLV_SENT, 2, status);	/* (a 3xx going on: the default 2.0.0) */
	case SMTP_V_TEMP:
		return with_status(DLV_DEFER, 4, status);
	case SMTP_V_PERM:
		f = with_status(DLV_FAIL, 5, status);
		if (dlv_host_step(step) || (step == SMTP_STEP_RCPT && code == 552)) {
			f.state = DLV_DEFER;	/* the host refusing us; RFC 5321 4.5.3.1.10 for 552 */
			f.status[0] = '4';
		}
		return f;
	case SMTP_V_PROTO:
	default:
		return fate(causes[DLV_C_PROTO].state, causes[DLV_C_PROTO].status);
	}
}

/* The words that say a refusal is about the sending host, first match wins. Sources: Gmail's
 * "SMTP error reference" (4.7.28 unusual rate of unsolicited mail, 5.7.25 no PTR, 5.7.26
 * unauthenticated sender), Microsoft's "NDR from a block list" (S3140, S3150), Spamhaus's and
 * Barracuda's standard rejection texts ("blocked using zen.spamhaus.org", "Barracuda Reputation"). */
static const struct refusal_word {
	const char *w;
	enum dlv_refusal r;
} refusal_words[] = {
	{ "4.7.28", DLV_R_REPUTATION },
	{ "5.7.25", DLV_R_RDNS },
	{ "5.7.26", DLV_R_AUTH },
	{ "S3140", DLV_R_BLOCKLIST },
	{ "S3150", DLV_R_BLOCKLIST },
	{ "spamhaus", DLV_R_BLOCKLIST },
	{ "barracuda", DLV_R_BLOCKLIST },
	{ "spamcop", DLV_R_BLOCKLIST },
	{ "dnsbl", DLV_R_BLOCKLIST },
	{ "block list", DLV_R_BLOCKLIST },
	{ "blocklist", DLV_R_BLOCKLIST },
	{ "blocklisted", DLV_R_BLOCKLIST },
	{ "blacklist", DLV_R_BLOCKLIST },
	{ "blacklisted", DLV_R_BLOCKLIST },
	{ "reverse DNS", DLV_R_RDNS },
	{ "rDNS", DLV_R_RDNS },
	{ "PTR", DLV_R_RDNS },
	{ "reputation", DLV_R_REPUTATION },
};

/* alnum - a letter or digit (ASCII; other bytes end a word). */
static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* has_word - w occurs in t[0..n) as a whole word, case-insensitively: no letter or digit right
 * before or after it ("zen.spamhaus.org" has "spamhaus"; "4.7.281" has no "4.7.28"). */
static bool has_word(const char *t, size_t n, const char *w)
{
	size_t wn = strlen(w);

	for (size_t i = 0; i + wn <= n; i++)
		if (strncasecmp(t + i, w, wn) == 0 && !(i > 0 && alnum(t[i - 1])) && !(i + wn < n && alnum(t[i + wn])))
			return true;
	return false;
}

enum dlv_refusal dlv_refusal(int code, const char *status, const char *text, size_t len)
{
	if (code < 400 || code > 599)
		return DLV_R_NONE;
	/* x.1.y (addressing) and x.2.y (mailbox) are about the recipient (RFC 3463 3.2, 3.3) */
	if (status != NULL && strlen(status) >= 4 && status[1] == '.' && (status[2] == '1' || status[2] == '2') &&
	    status[3] == '.')
		return DLV_R_NONE;
	if (text == NULL)
		len = 0;
	if (len > DLV_REFUSAL_SCAN)
		len = DLV_REFUSAL_SCAN;
	for (size_t i = 0; i < sizeof refusal_words / sizeof refusal_words[0]; i++)
		if ((status != NULL && strcmp(status, refusal_words[i].w) == 0) ||
		    has_word(text, len, refusal_words[i].w))
			return refusal_words[i].r;
	return DLV_R_NONE;
}

const char *dlv_refusal_name(enum dlv_refusal r)
{
	switch (r) {
	case DLV_R_REPUTATION:
		return "reputation";
	case DLV_R_RDNS:
		return "reverse DNS";
	case DLV_R_BLOCKLIST:
		return "a block list";
	case DLV_R_AUTH:
		return "sender authentication";
	case DLV_R_NONE:
	default:
		return "";
	}
}
