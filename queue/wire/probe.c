/*
 * probe.c - port 25 and the smarthost, as `postern check` tries them. See probe.h.
 *
 * SECURITY: the servers' replies reach the report, which escapes them; the smarthost's credentials
 * go only to the smarthost, only over TLS (unless smarthost_tls none), and never into a finding.
 */
#include "queue/wire/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/wire/auth.h"
#include "queue/wire/route.h"
#include "queue/wire/smtp.h"
#include "queue/wire/tls.h"

#define PROBE_SUBJECT_MAX 300	/* what a result is about: "smtp.example.com:587" */
#define PROBE_PEER_MAX 300	/* the peer as reasons name it: "smtp.example.com[192.0.2.1]:587" */
#define PROBE_TLS_MAX 64	/* the TLS in use: "TLSv1.3/verified" */

const struct check_net probe_net = {
	.port25 = probe_port25,
	.smarthost = probe_smarthost,
	.send = probe_send,
};

/* first_line - the first line of a reply's text, for a finding (the report escapes it). */
static int first_line(const struct smtp_reply *rp)
{
	return rp != NULL && rp->text != NULL ? (int)strcspn(rp->text, "\n") : 0;
}

static const char *reply_text(const struct smtp_reply *rp)
{
	return rp != NULL && rp->text != NULL ? rp->text : "";
}

/* probe_opts - the SMTP client's options for a probe: short limits, and the peer as reasons name it. */
static void probe_opts(struct smtp_opts *so, const char *peer, const char *source)
{
	memset(so, 0, sizeof *so);
	so->to.connect = PROBE_CONNECT_MS;
	so->to.greeting = PROBE_GREETING_MS;
	so->to.command = PROBE_COMMAND_MS;
	so->to.data_init = so->to.data_block = so->to.data_done = PROBE_COMMAND_MS;
	so->to.session = PROBE_SESSION_MS;
	so->peer = peer;
	so->source = source;
}

/* goes_direct - whether some mail goes straight to the recipients' MX: no smarthost, or a route
 * line that sends a domain direct or to a relay on port 25. */
static bool goes_direct(const struct config *c)
{
	if (c->smarthost == NULL)
		return true;
	for (size_t i = 0; i < c->nroute; i++)
		if (c->route[i].kind == CONF_ROUTE_DIRECT)
			return true;
	return false;
}

void probe_port25(struct dns *d, const struct config *c, struct check_report *r)
{
	static const char blocked_fix[] = "use a smarthost (see `smarthost`)";
	const char *host = c->check_port25_host;
	struct route rt = { 0 };
	struct smtp_opts so;
	struct smtp *s;
	struct err e;
	char peer[PROBE_PEER_MAX], ip[INET_ADDRSTRLEN];
	enum route_result rr;
	int st;

	if (!goes_direct(c)) {
		check_add(r, "port25", CHECK_OK, c->smarthost, NULL,
		    "skipped: mail leaves through the smarthost, not from port 25 here");
		return;
	}
	if (strcmp(host, "none") == 0) {
		check_add(r, "port25", CHECK_OK, "check_port25_host", NULL, "skipped: check_port25_host none");
		return;
	}
	err_clear(&e);
	if ((rr = route_host(d, host, 25, &rt, &e)) != ROUTE_OK || rt.n == 0) {
		bool dns = rr == ROUTE_TEMPFAIL;

		check_add(r, "port25", CHECK_UNKNOWN, host, dns ? NULL : "set check_port25_host to a mail server's name",
		    "could not check: %s", e.msg[0] ? e.msg : "no address");
		route_free(&rt);
		return;
	}
	inet_ntop(AF_INET, &rt.t[0].ip, ip, sizeof ip);
	(void)snprintf(peer, sizeof peer, "%s[%s]:25", host, ip);
	probe_opts(&so, peer, c->source_address);
	s = smtp_new(&so);
	st = smtp_connect(s, rt.t[0].ip, 25, &e);
	if (st == SMTP_FAIL_LOCAL)	/* source_address is not this host's */
		check_add(r, "port25", CHECK_FAIL, host, "set source_address to an address of this host (ip -4 addr)",
		    "%s", e.msg);
	else if (st != SMTP_OK)
		check_add(r, "port25", CHECK_FAIL, host, blocked_fix, "%s: your provider blocks outgoing port 25",
		    e.msg);
	else if ((st = smtp_greeting(s, &e)) == SMTP_OK)
		check_add(r, "port25", CHECK_OK, host, NULL, "port 25 is open: %s greets \"%.*s\"", peer,
		    first_line(smtp_last_reply(s)), reply_text(smtp_last_reply(s)));
	else if (st == SMTP_FAIL_RESP)
		check_add(r, "port25", CHECK_FAIL, host, "read the reply: a deny-list (see dnsbl) or a provider's filter",
		    "port 25 is open, but %s refuses this address: %d %.*s", peer, smtp_last_reply(s)->code,
		    first_line(smtp_last_reply(s)), reply_text(smtp_last_reply(s)));
	else	/* a connection that never greets: a filter or proxy in the way */
		check_add(r, "port25", CHECK_FAIL, host, blocked_fix,
		    "no SMTP greeting (%s): your provider blocks or intercepts outgoing port 25", e.msg);
	if (st == SMTP_OK)
		smtp_quit(s);
	smtp_free(s);
	route_free(&rt);
}

/* implicit_tls - whether the smarthost at this port speaks TLS from the first byte (as deliver.c's
 * smarthost_implicit). */
static bool implicit_tls(const struct config *c, int port)
{
	return c->smarthost_tls == SMARTHOST_TLS_TLS || (c->smarthost_tls == SMARTHOST_TLS_AUTO && port == 465);
}

/* creds - what AUTH will be tried with */
struct creds {
	char *user, *pass;	/* NULL: no smarthost_auth */
	bool unreadable;	/* smarthost_auth could not be loaded: why */
	char why[sizeof ((struct err *)0)->msg];
};

/* one_smarthost - the steps of a delivery to host:port, up to AUTH, then QUIT. */
static void one_smarthost(struct dns *d, const struct config *c, struct tls_client_ctx *tls, const char *tlswhy,
			  const struct creds *cr, const char *host, int port, struct check_report *r)
{
	bool implicit = implicit_tls(c, port), want_tls = c->smarthost_tls != SMARTHOST_TLS_NONE;
	struct route rt = { 0 };
	struct smtp_opts so;
	struct smtp *s = NULL;
	struct err e;
	char subj[PROBE_SUBJECT_MAX], peer[PROBE_PEER_MAX], ip[INET_ADDRSTRLEN], tlsdesc[PROBE_TLS_MAX] = "no TLS";
	enum route_result rr;
	int st;

	err_clear(&e);
	(void)snprintf(subj, sizeof subj, "%s:%d", host, port);
	if ((rr = route_host(d, host, port, &rt, &e)) != ROUTE_OK || rt.n == 0) {
		check_add(r, "smarthost", rr == ROUTE_TEMPFAIL ? CHECK_UNKNOWN : CHECK_FAIL, subj,
		    rr == ROUTE_TEMPFAIL ? NULL : "set smarthost to a name that resolves",
		    "%s", e.msg[0] ? e.msg : "no address");
		goto out;
	}
	inet_ntop(AF_INET, &rt.t[0].ip, ip, sizeof ip);
	(void)snprintf(peer, sizeof peer, "%s[%s]:%d", host, ip, port);
	probe_opts(&so, peer, NULL);	/* source_address is for direct deliveries only */
	s = smtp_new(&so);
	if (smtp_connect(s, rt.t[0].ip, port, &e) != SMTP_OK) {
		check_add(r, "smarthost", CHECK_FAIL, subj, "check the smarthost's name and port (smarthost HOST:PORT)",
		    "%s", e.msg);
		goto out;
	}
	if (want_tls && tls == NULL) {
		check_add(r, "smarthost", CHECK_FAIL, subj, "check tls_ca, tls_cert and tls_key",
		    "TLS is unavailable on this host: %s", tlswhy);
		goto out;
	}
	if (implicit && smtp_tls_implicit(s, tls, host, &e) != SMTP_OK) {
		check_add(r, "smarthost", CHECK_FAIL, subj,
		    "is this port for TLS from the first byte? set smarthost_tls (starttls for 587, tls for 465)",
		    "TLS handshake failed: %s", e.msg);
		goto out;
	}
	if ((st = smtp_greeting(s, &e)) != SMTP_OK || (st = smtp_ehlo(s, c->hostname, &e)) != SMTP_OK) {
		if (st == SMTP_FAIL_RESP)
			check_add(r, "smarthost", CHECK_FAIL, subj, "ask the smarthost's operator",
			    "refused us: %d %.*s", smtp_last_reply(s)->code, first_line(smtp_last_reply(s)),
			    reply_text(smtp_last_reply(s)));
		else
			check_add(r, "smarthost", CHECK_FAIL, subj,
			    implicit ? "check smarthost_tls and the port" : "if this port wants TLS from the first byte, set smarthost_tls tls",
			    "%s", e.msg);
		goto out;
	}
	if (want_tls && !implicit) {
		if (!smtp_ext(s)->starttls) {
			check_add(r, "smarthost", CHECK_FAIL, subj, "use the smarthost's TLS port (465, smarthost_tls tls)",
			    "does not offer STARTTLS: mail to it would wait");
			goto quit;
		}
		if ((st = smtp_starttls(s, tls, host, &e)) != SMTP_OK) {
			check_add(r, "smarthost", CHECK_FAIL, subj, NULL, "STARTTLS failed: %s", e.msg);
			goto out;
		}
	}
	if (smtp_tls(s) != NULL) {
		(void)snprintf(tlsdesc, sizeof tlsdesc, "%s", tls_summary(smtp_tls(s)));
		if (!tls_verified(smtp_tls(s))) {
			check_add(r, "smarthost", CHECK_FAIL, subj,
			    "name the smarthost as its certificate does, or set tls_ca to the CA that signed it",
			    "%s, but the certificate is not verified (%s): mail to it would wait", tlsdesc,
			    tls_verify_reason(smtp_tls(s)));
			goto quit;
		}
	}
	if (cr->unreadable) {
		check_add(r, "smarthost", getuid() != 0 ? CHECK_UNKNOWN : CHECK_FAIL, subj,
		    getuid() != 0 ? "run postern check as root to try the credentials" : "chown root:postern and chmod 0640 it",
		    "%s; AUTH not tried", cr->why);
		goto quit;
	}
	if (cr->user == NULL) {
		check_add(r, "smarthost", CHECK_OK, subj, NULL, "%s; no smarthost_auth, so no AUTH%s", tlsdesc,
		    smtp_ext(s)->auth_plain || smtp_ext(s)->auth_login ? " (it offers AUTH)" : "");
		goto quit;
	}
	st = smtp_auth(s, cr->user, cr->pass, !want_tls, &e);
	if (st == SMTP_FAIL_RESP)
		check_add(r, "smarthost", CHECK_FAIL, subj, "correct the user and password in smarthost_auth",
		    "AUTH as %s refused: %d %.*s", cr->user, smtp_last_reply(s)->code, first_line(smtp_last_reply(s)),
		    reply_text(smtp_last_reply(s)));
	else if (st != SMTP_OK)
		check_add(r, "smarthost", CHECK_FAIL, subj, NULL, "AUTH as %s: %s", cr->user, e.msg);
	else
		check_add(r, "smarthost", want_tls ? CHECK_OK : CHECK_WARN, subj,
		    want_tls ? NULL : "set smarthost_tls to auto, starttls or tls",
		    "%s, AUTH as %s accepted%s", tlsdesc, cr->user, want_tls ? "" : ": the password crossed the network in clear");
	if (st == SMTP_FAIL_CONN || st == SMTP_FAIL_PROTO)
		goto out;	/* no QUIT on a dead session */
quit:
	smtp_quit(s);
out:
	smtp_free(s);
	route_free(&rt);
}

void probe_smarthost(struct dns *d, const struct config *c, struct check_report *r)
{
	struct tls_client_ctx *tls = NULL;
	struct creds cr;
	struct err e, te;

	if (c->smarthost == NULL) {
		check_add(r, "smarthost", CHECK_OK, "smarthost", NULL,
		    "none: mail goes straight to each recipient's MX");
		return;
	}
	memset(&cr, 0, sizeof cr);
	err_clear(&e);
	err_clear(&te);
	if (c->smarthost_tls != SMARTHOST_TLS_NONE &&
	    (tls = tls_ctx_new(c->tls_ca, c->tls_cert, c->tls_key, &te)) == NULL && c->tls_cert != NULL) {
		err_clear(&te);	/* as the queue run: without the client certificate (see the tls check) */
		tls = tls_ctx_new(c->tls_ca, NULL, NULL, &te);
	}
	if (c->smarthost_auth != NULL && auth_load(c->smarthost_auth, &cr.user, &cr.pass, &e) < 0) {
		cr.unreadable = true;
		(void)snprintf(cr.why, sizeof cr.why, "%s", e.msg);
	}
	one_smarthost(d, c, tls, te.msg, &cr, c->smarthost, c->smarthost_port, r);
	for (size_t i = 0; i < c->nsmarthost_alt; i++)
		one_smarthost(d, c, tls, te.msg, &cr, c->smarthost_alt[i].host, c->smarthost_alt[i].port, r);
	if (cr.pass != NULL)
		explicit_bzero(cr.pass, strlen(cr.pass));
	free(cr.user);
	free(cr.pass);
	tls_ctx_free(tls);
}
