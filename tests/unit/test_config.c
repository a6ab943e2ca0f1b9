/* test_config.c - conf/config.c and conf/confval.c: every key, good and bad values, file-level rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "lib/limits.h"

/* field - render the field `key` of c as text, for table comparisons. */
static void field(const struct config *c, const char *key, char *out, size_t n)
{
	static const char *const tl[] = { "none", "may", "encrypt", "verify" };
	static const char *const st[] = { "auto", "starttls", "tls", "none" };
	static const char *const cn[] = { "relaxed", "simple" };
	int r = 0;

#define S(k, v) else if (strcmp(key, k) == 0) r = snprintf(out, n, "%s", (v) ? (v) : "(null)")
#define L(k, v) else if (strcmp(key, k) == 0) r = snprintf(out, n, "%lld", (long long)(v))
	if (0)
		;
	S("hostname", c->hostname); S("hostname_problem", c->hostname_problem); S("domain", c->domain); S("spool", c->spool); S("aliases", c->aliases);
	L("max_size", c->max_size); L("max_header_size", c->max_header_size);
	S("notice_domain", conf_notice_domain(c));	/* not a key: MAILER-DAEMON@ of bounces */
	S("deliver", c->deliver == DELIVER_QUEUE ? "queue" : "background");
	S("dkim_required", c->dkim_required ? "yes" : "no"); L("dkim_expire", c->dkim_expire);
	S("smarthost", c->smarthost); L("smarthost_port", c->smarthost_port);
	else if (key[0] == '=') {	/* "=KEY": the whole value, as postern config prints it */
		struct buf b;
		struct err e;

		buf_init(&b, 1024);
		cr_assert_geq(conf_value(c, key + 1, &b, &e), 0);
		r = snprintf(out, n, "%.*s", (int)b.len, b.data);
		buf_free(&b);
	}
	S("smarthost_tls", st[c->smarthost_tls]); S("smarthost_auth", c->smarthost_auth);
	S("tls", tl[c->tls]); S("tls_ca", c->tls_ca); S("tls_cert", c->tls_cert); S("tls_key", c->tls_key);
	S("tls_cert_name", c->tls_cert_name); S("resolver", c->resolver);
	S("source_address", c->source_address);
	L("max_connections", c->max_connections); L("max_per_destination", c->max_per_destination); L("destination_rate_delay", c->destination_rate_delay); L("retry_min", c->retry_min); L("retry_max", c->retry_max);
	L("queue_lifetime", c->queue_lifetime); L("delay_warning", c->delay_warning);
	L("timeout_connect", c->timeout_connect); L("timeout_greeting", c->timeout_greeting);
	L("timeout_command", c->timeout_command); L("timeout_data_init", c->timeout_data_init);
	L("timeout_data_block", c->timeout_data_block); L("timeout_data_done", c->timeout_data_done);
	L("timeout_message", c->timeout_message); L("timeout_session", c->timeout_session);
	S("pidfile", c->pidfile);
	S("mailq_users", c->mailq_users == MAILQ_ROOT ? "root" : c->mailq_users == MAILQ_GROUP ? "group" : "anyone");
	S("pidfile", c->pidfile); S("allow_local_mx", c->allow_local_mx ? "yes" : "no");
	S("check_myip", c->check_myip); S("dnsbl", c->dnsbl); S("check_port25_host", c->check_port25_host);
	else if (strcmp(key, "dkim_canon") == 0)
		r = snprintf(out, n, "%s/%s", cn[c->dkim_hcanon], cn[c->dkim_bcanon]);
	else if (strcmp(key, "dkim") == 0) {
		size_t used = 0;
		out[0] = '\0';
		for (size_t i = 0; i < c->ndkim; i++) {
			const struct conf_dkim_key *k = &c->dkim[i];
			r = snprintf(out + used, n - used, "%s%s %s %s %s", i ? ";" : "", k->domain, k->selector,
				k->keyfile, k->canon_set ? (k->hcanon == CANON_SIMPLE ? (k->bcanon == CANON_SIMPLE ? "s/s" : "s/r") : (k->bcanon == CANON_SIMPLE ? "r/s" : "r/r")) : "-");
			used += (size_t)r;
		}
	} else if (strcmp(key, "tls_policy") == 0) {
		size_t used = 0;
		out[0] = '\0';
		for (size_t i = 0; i < c->ntls_policy; i++) {
			r = snprintf(out + used, n - used, "%s%s=%s", i ? ";" : "", c->tls_policy[i].domain,
				tl[c->tls_policy[i].level]);
			used += (size_t)r;
		}
	} else
		cr_assert_fail("no field %s", key);
	cr_assert(r >= 0 && (size_t)r < n);
#undef S
#undef L
}

struct row {
	const char *in;
	const char *key;	/* field to look at after a good parse */
	const char *want;	/* its value, or the exact error message when want_err */
	bool want_err;
};

static const struct row rows[] = {
	/* the defaults, with an empty file */
	{ "", "max_size", "50000000", false },
	{ "", "max_header_size", "1048576", false },
	{ "", "spool", SPOOLDIR, false },
	{ "", "aliases", SYSCONFDIR "/postern/aliases", false },
	{ "", "deliver", "background", false },
	{ "", "dkim_canon", "relaxed/relaxed", false },
	{ "", "tls", "may", false },
	{ "", "smarthost", "(null)", false },
	{ "", "smarthost_port", "587", false },
	{ "", "smarthost_tls", "auto", false },
	{ "", "max_connections", "4", false },
	{ "", "max_per_destination", "2", false },
	{ "", "destination_rate_delay", "0", false },
	{ "destination_rate_delay 2s\n", "destination_rate_delay", "2", false },
	{ "destination_rate_delay 2h\n", NULL, "t.conf:1: destination_rate_delay: bad duration (at most 3600 s) \"2h\"", true },
	{ "max_per_destination 1\n", "max_per_destination", "1", false },
	{ "max_per_destination 0\n", NULL, "t.conf:1: max_per_destination: want a number from 1 to 64, got \"0\"", true },
	{ "", "retry_min", "300", false },
	{ "", "retry_max", "14400", false },
	{ "", "queue_lifetime", "432000", false },
	{ "", "delay_warning", "0", false },
	{ "", "timeout_connect", "30", false },
	{ "", "timeout_greeting", "300", false },
	{ "", "timeout_command", "300", false },
	{ "", "timeout_data_init", "120", false },
	{ "", "timeout_data_block", "180", false },
	{ "", "timeout_data_done", "600", false },
	{ "", "timeout_message", "1800", false },
	{ "", "timeout_session", "3600", false },
	{ "", "pidfile", "/run/postern.pid", false },
	{ "", "dkim_required", "yes", false },
	{ "", "resolver", "(null)", false },
	{ "", "allow_local_mx", "no", false },
	{ "allow_local_mx yes\n", "allow_local_mx", "yes", false },
	{ "allow_local_mx maybe\n", "allow_local_mx", "t.conf:1: allow_local_mx: want yes or no, got \"maybe\"", true },
	/* every key, good values */
	{ "hostname Mail.Example.ORG\n", "hostname", "mail.example.org", false },
	{ "hostname mail.example.org\n", "domain", "mail.example.org", false },
	{ "hostname mail.example.org\n", "tls_cert_name", "mail.example.org", false },
	{ "hostname mail.example.org\ndomain example.org\n", "domain", "example.org", false },
	{ "tls_cert_name mx.example.org\nhostname a.example.org\n", "tls_cert_name", "mx.example.org", false },
	/* hostname must be fully qualified: mail never goes out under a made-up name */
	{ "hostname xn--bcher-kva.example\n", "hostname", "xn--bcher-kva.example", false },
	{ "hostname a.b.c.example.org\n", "hostname", "a.b.c.example.org", false },
	/* one that is not loads (config, check, dkim-keygen say so); what sends or queues refuses it */
	{ "hostname localhost\n", "hostname_problem",
	  "t.conf:1: hostname: not a fully qualified name (at least two labels, not localhost): \"localhost\"", false },
	{ "hostname vm\n", "hostname_problem",
	  "t.conf:1: hostname: not a fully qualified name (at least two labels, not localhost): \"vm\"", false },
	{ "hostname vm\n", "hostname", "vm", false },
	{ "hostname localhost.localdomain\n", "hostname_problem", "t.conf:1: hostname: not a fully qualified name "
	  "(at least two labels, not localhost): \"localhost.localdomain\"", false },
	{ "hostname vm.localhost\n", "hostname_problem",
	  "t.conf:1: hostname: not a fully qualified name (at least two labels, not localhost): \"vm.localhost\"",
	  false },
	{ "hostname 127.0.0.1\n", "hostname_problem",
	  "t.conf:1: hostname: not a fully qualified name (at least two labels, not localhost): \"127.0.0.1\"", false },
	{ "hostname mail.example.org\n", "hostname_problem", "(null)", false },
	{ "hostname vm.\n", NULL, "t.conf:1: hostname: bad host name \"vm.\"", true },
	{ "hostname my_host.example.org\n", NULL, "t.conf:1: hostname: bad host name \"my_host.example.org\"", true },
	{ "domain localhost\n", "domain", "localhost", false },	/* only hostname names this host */
	{ "spool /srv/spool\n", "spool", "/srv/spool", false },
	{ "aliases /etc/aliases\n", "aliases", "/etc/aliases", false },
	{ "max_size 0\n", "max_size", "0", false },
	{ "max_size 10M\n", "max_size", "10000000", false },
	{ "max_size 512k\n", "max_size", "512000", false },
	{ "max_size 512K\n", "max_size", "512000", false },
	{ "max_size 2G\n", "max_size", "2000000000", false },
	{ "max_size 12345\n", "max_size", "12345", false },
	{ "max_header_size 64k\n", "max_header_size", "64000", false },
	{ "deliver queue\n", "deliver", "queue", false },
	{ "", "mailq_users", "anyone", false },
	{ "mailq_users group\n", "mailq_users", "group", false },
	{ "mailq_users root\n", "mailq_users", "root", false },
	{ "mailq_users anyone\n", "mailq_users", "anyone", false },
	{ "deliver background\n", "deliver", "background", false },
	{ "dkim example.org s1 /etc/postern/s1.key\n", "dkim", "example.org s1 /etc/postern/s1.key -", false },
	/* postern's notices come From MAILER-DAEMON@ the domain whose key signs them (strict alignment) */
	{ "hostname mail.example.org\n", "notice_domain", "mail.example.org", false },
	{ "hostname mail.example.org\ndomain example.org\n", "notice_domain", "example.org", false },
	{ "hostname mail.example.org\ndomain example.org\ndkim example.org s1 /k\n", "notice_domain", "example.org",
	  false },
	{ "hostname mail.example.org\ndkim example.org s1 /k\n", "notice_domain", "example.org", false },
	{ "hostname mail.example.org\ndkim other.net s1 /k\ndkim example.org s1 /k\n", "notice_domain",
	  "example.org", false },
	{ "hostname mail.example.org\ndkim other.net s1 /k\n", "notice_domain", "other.net", false },
	{ "hostname a.shop.example.org\ndomain shop.example.org\ndkim example.org s1 /k\n"
	  "dkim shop.example.org s1 /k2\n", "notice_domain", "shop.example.org", false },
	{ "hostname mail.example.org\ndomain org\ndkim other.net s1 /k\n", "notice_domain", "other.net", false },
	/* a dkim line for a subdomain next to its parent's */
	{ "dkim example.com s1 /k\ndkim shop.example.com s1 /k2\n", "dkim",
	  "example.com s1 /k -;shop.example.com s1 /k2 -", false },
	{ "dkim EXAMPLE.org s1 /k canon=simple\n", "dkim", "example.org s1 /k s/s", false },
	{ "dkim example.org s1 /k canon=relaxed/simple\n", "dkim", "example.org s1 /k r/s", false },
	{ "dkim a.org s1 /k\ndkim a.org s2 /k2\ndkim b.org s1 /k3\n", "dkim",
	  "a.org s1 /k -;a.org s2 /k2 -;b.org s1 /k3 -", false },
	{ "dkim_canon simple\n", "dkim_canon", "simple/simple", false },
	{ "dkim_canon simple/relaxed\n", "dkim_canon", "simple/relaxed", false },
	{ "dkim_required no\n", "dkim_required", "no", false },
	{ "dkim_expire 7d\n", "dkim_expire", "604800", false },
	{ "dkim_expire 0\n", "dkim_expire", "0", false },
	{ "smarthost smtp.example.net\n", "smarthost_port", "587", false },
	{ "smarthost smtp.example.net:2525\n", "smarthost_port", "2525", false },
	/* route DOMAIN direct|smarthost|HOST[:PORT] */
	{ "route Example.COM direct\nroute .shop.example.com mx.relay.net\nroute b.org r.net:2525\n", "=route",
	  "example.com direct\n.shop.example.com mx.relay.net:25\nb.org r.net:2525", false },
	{ "smarthost s.net\nroute a.org smarthost\n", "=route", "a.org smarthost", false },
	{ "route a.org smarthost\n", NULL, "t.conf: route a.org smarthost: no smarthost is set", true },
	{ "route a.org\n", NULL, "t.conf:1: route: wants DOMAIN direct|smarthost|HOST[:PORT], got \"a.org\"", true },
	{ "route a.org direct x\n", NULL, "t.conf:1: route: wants DOMAIN direct|smarthost|HOST[:PORT], got \"a.org\"",
	  true },
	{ "route a.org direct\nroute A.org r.net\n", NULL, "t.conf:2: route: domain given twice: \"A.org\"", true },
	{ "route a.org r.net:0\n", NULL, "t.conf:1: route: bad port in \"r.net:0\"", true },
	{ "route a_b.org direct\n", NULL, "t.conf:1: route: bad domain \"a_b.org\"", true },
	/* sender_route ADDRESS-OR-DOMAIN HOST[:PORT]: the port by smarthost_tls unless given */
	{ "sender_route Example.COM r.net\nsender_route .shop.example.com R2.net:2525\n"
	  "sender_route Bill@Example.com r3.net\n", "=sender_route",
	  "example.com r.net:587\n.shop.example.com r2.net:2525\nbill@example.com r3.net:587", false },
	{ "sender_route a.org r.net\nsmarthost_tls tls\n", "=sender_route", "a.org r.net:465", false },
	{ "smarthost_tls tls\nsender_route a.org r.net:587\n", "=sender_route", "a.org r.net:587", false },
	{ "", "=sender_route", "", false },
	{ "sender_route a.org r.net:0\n", NULL, "t.conf:1: sender_route: bad port in \"r.net:0\"", true },
	{ "sender_route a.org r_x.net\n", NULL, "t.conf:1: sender_route: bad host name \"r_x.net\"", true },
	{ "sender_route a_b.org r.net\n", NULL, "t.conf:1: sender_route: bad domain \"a_b.org\"", true },
	{ "sender_route a@b@c r.net\n", NULL,
	  "t.conf:1: sender_route: bad address (want local@domain) \"a@b@c\"", true },
	{ "sender_route a.org\n", NULL,
	  "t.conf:1: sender_route: wants ADDRESS-OR-DOMAIN HOST[:PORT], got \"a.org\"", true },
	{ "sender_route a.org r.net x\n", NULL,
	  "t.conf:1: sender_route: wants ADDRESS-OR-DOMAIN HOST[:PORT], got \"a.org\"", true },
	{ "sender_route a.org r.net\nsender_route A.org r2.net\n", NULL,
	  "t.conf:2: sender_route: given twice: \"A.org\"", true },
	{ "sender_route x@a.org r.net\nsender_route X@A.ORG r2.net\n", NULL,
	  "t.conf:2: sender_route: given twice: \"X@A.ORG\"", true },
	/* a domain, its subdomains only, and an address in it are three keys */
	{ "sender_route a.org r.net\nsender_route .a.org r2.net\nsender_route x@a.org r3.net\n", "=sender_route",
	  "a.org r.net:587\n.a.org r2.net:587\nx@a.org r3.net:587", false },
	/* smarthost_auth HOST FILE for a sender's relay */
	{ "sender_route a.org r.net:2525\nsmarthost_auth r.net:2525 /etc/p/r\n", "=smarthost_auth",
	  "r.net:2525 /etc/p/r", false },
	{ "sender_route a.org r.net\nsmarthost_auth r.net:465 /etc/p/r\n", NULL,
	  "t.conf: smarthost_auth r.net: not a host of the smarthost line or a sender_route line", true },
	/* several: tried in turn, each its own port or smarthost_tls's default */
	{ "smarthost a.example.net:2525 b.example.net c.example.net:465\n", "=smarthost",
	  "a.example.net:2525 b.example.net:587 c.example.net:465", false },
	{ "smarthost_tls tls\nsmarthost a.example.net:2525 b.example.net\n", "=smarthost",
	  "a.example.net:2525 b.example.net:465", false },
	{ "smarthost a.example.net b:x\n", NULL, "t.conf:1: smarthost: bad port in \"b:x\"", true },
	{ "smarthost a b c d e f g h i\n", NULL, "t.conf:1: smarthost: at most 8 hosts", true },
	{ "smarthost SMTP.example.net:465\n", "smarthost", "smtp.example.net", false },
	{ "smarthost smtp.example.net\nsmarthost_tls tls\n", "smarthost_port", "465", false },
	{ "smarthost_tls tls\nsmarthost smtp.example.net:25\n", "smarthost_port", "25", false },
	{ "smarthost_tls starttls\n", "smarthost_tls", "starttls", false },
	{ "smarthost_tls none\n", "smarthost_tls", "none", false },
	{ "smarthost_auth /etc/postern/auth\n", "smarthost_auth", "/etc/postern/auth", false },
	{ "", "check_myip", "myip.opendns.com@resolver1.opendns.com", false },
	{ "check_myip Myip.Test@192.0.2.53\n", "check_myip", "myip.test@192.0.2.53", false },
	{ "check_myip none\n", "check_myip", "none", false },
	{ "", "dnsbl", "zen.spamhaus.org,bl.spamcop.net", false },
	{ "dnsbl BL.example  bl2.example\n", "dnsbl", "bl.example,bl2.example", false },
	{ "dnsbl a.example,b.example c.example\n", "dnsbl", "a.example,b.example,c.example", false },
	{ "dnsbl none\n", "dnsbl", "none", false },
	{ "", "check_port25_host", "gmail-smtp-in.l.google.com", false },
	{ "check_port25_host MX1.Example.NET\n", "check_port25_host", "mx1.example.net", false },
	{ "check_port25_host 192.0.2.25\n", "check_port25_host", "192.0.2.25", false },
	{ "check_port25_host none\n", "check_port25_host", "none", false },
	{ "tls none\n", "tls", "none", false },
	{ "tls verify\n", "tls", "verify", false },
	{ "tls encrypt\n", "tls", "encrypt", false },
	{ "tls_policy Example.com verify\ntls_policy b.org none\n", "tls_policy", "example.com=verify;b.org=none",
	  false },
	{ "tls_ca /etc/ssl/ca.pem\n", "tls_ca", "/etc/ssl/ca.pem", false },
	{ "tls_cert /c.pem\ntls_key /k.pem\n", "tls_key", "/k.pem", false },
	{ "", "source_address", "(null)", false },
	{ "source_address 192.0.2.7\n", "source_address", "192.0.2.7", false },
	{ "source_address 192.0.2.300\n", NULL, "t.conf:1: source_address: not an IPv4 address: \"192.0.2.300\"", true },
	{ "source_address 2001:db8::1\n", NULL, "t.conf:1: source_address: not an IPv4 address: \"2001:db8::1\"", true },
	{ "source_address 192.0.2.7 192.0.2.8\n", NULL,
	  "t.conf:1: source_address: wants one value, got \"192.0.2.7 192.0.2.8\"", true },
	{ "smarthost a.example\nsmarthost_auth /etc/p/a\n", "=smarthost_auth", "/etc/p/a", false },
	{ "smarthost a.example:587 b.example:465 b.example:2465\nsmarthost_auth /etc/p/all\n"
	  "smarthost_auth B.example /etc/p/b\nsmarthost_auth b.example:2465 /etc/p/b2\n", "=smarthost_auth",
	  "/etc/p/all\nb.example /etc/p/b\nb.example:2465 /etc/p/b2", false },
	{ "smarthost a.example\nsmarthost_auth c.example /etc/p/c\n", NULL,
	  "t.conf: smarthost_auth c.example: not a host of the smarthost line or a sender_route line",
	  true },
	{ "smarthost a.example:587\nsmarthost_auth a.example:465 /etc/p/c\n", NULL,
	  "t.conf: smarthost_auth a.example: not a host of the smarthost line or a sender_route line",
	  true },
	{ "smarthost a.example\nsmarthost_auth a.example /etc/p/a\nsmarthost_auth a.example /etc/p/b\n", NULL,
	  "t.conf:3: smarthost_auth: host given twice: \"a.example\"", true },
	{ "smarthost_auth /a\nsmarthost_auth /b\n", NULL,
	  "t.conf:2: smarthost_auth: the line without a host is given twice", true },
	{ "smarthost_auth a.example p\n", NULL, "t.conf:1: smarthost_auth: not an absolute path: \"p\"", true },
	{ "smarthost_auth a.example /p /q\n", NULL,
	  "t.conf:1: smarthost_auth: wants FILE or HOST[:PORT] FILE, got \"a.example\"", true },
	{ "", "=fallback_relay", "", false },
	{ "fallback_relay Relay.Example.NET\n", "=fallback_relay", "relay.example.net:25", false },
	{ "fallback_relay relay.example.net:2525\n", "=fallback_relay", "relay.example.net:2525", false },
	{ "fallback_relay relay.example.net:0\n", NULL,
	  "t.conf:1: fallback_relay: bad port in \"relay.example.net:0\"", true },
	{ "fallback_relay a.example b.example\n", NULL,
	  "t.conf:1: fallback_relay: wants one value, got \"a.example b.example\"", true },
	{ "resolver 127.0.0.1\n", "resolver", "127.0.0.1", false },
	{ "resolver 127.0.0.1   10.0.0.2\t192.0.2.3\n", "resolver", "127.0.0.1 10.0.0.2 192.0.2.3", false },
	{ "max_connections 1\n", "max_connections", "1", false },
	{ "max_connections 64\n", "max_connections", "64", false },
	{ "retry_min 1m\n", "retry_min", "60", false },
	{ "retry_max 1w\n", "retry_max", "604800", false },
	{ "queue_lifetime 3d\n", "queue_lifetime", "259200", false },
	{ "delay_warning 4h\n", "delay_warning", "14400", false },
	{ "timeout_connect 10s\n", "timeout_connect", "10", false },
	{ "timeout_greeting 5m\n", "timeout_greeting", "300", false },
	{ "timeout_command 1\n", "timeout_command", "1", false },
	{ "timeout_data_init 2m\n", "timeout_data_init", "120", false },
	{ "timeout_data_block 3m\n", "timeout_data_block", "180", false },
	{ "timeout_data_done 10m\n", "timeout_data_done", "600", false },
	{ "timeout_message 20m\n", "timeout_message", "1200", false },
	{ "timeout_session 2h\n", "timeout_session", "7200", false },
	{ "pidfile /run/p.pid\n", "pidfile", "/run/p.pid", false },
	/* layout: comments, blanks, whitespace, CRLF, no final newline */
	{ "# comment\n\n   \t\n  max_size   7  \n", "max_size", "7", false },
	{ "max_size 7 # seven\n", "max_size", "7", false },
	{ "max_size 7\t#seven\n", "max_size", "7", false },
	{ "spool /a#b\n", "spool", "/a#b", false },
	{ "max_size 8\r\n", "max_size", "8", false },
	{ "max_size 9", "max_size", "9", false },
	{ "\t# indented comment\nmax_size 9", "max_size", "9", false },
	/* errors: exact messages, name:LINE: prefix */
	{ "frobnicate 1\n", NULL, "t.conf:1: unknown key \"frobnicate\"", true },
	{ "\n# x\n\nMax_size 1\n", NULL, "t.conf:4: unknown key \"Max_size\"", true },
	{ "bad\x1b[31mkey 1\n", NULL, "t.conf:1: unknown key \"bad\\033[31mkey\"", true },
	{ "max_size\n", NULL, "t.conf:1: max_size: missing value", true },
	{ "max_size # nothing\n", NULL, "t.conf:1: max_size: missing value", true },
	{ "max_size 1\nmax_size 2\n", NULL, "t.conf:2: max_size: given twice (first on line 1)", true },
	{ "resolver 127.0.0.1\nresolver 127.0.0.2\n", NULL, "t.conf:2: resolver: given twice (first on line 1)",
	  true },
	{ "max_size 1\0\n", NULL, "t.conf:1: NUL byte in the file", true },
	{ "max_size 10X\n", NULL, "t.conf:1: max_size: bad size \"10X\"", true },
	{ "max_size 10MB\n", NULL, "t.conf:1: max_size: bad size \"10MB\"", true },
	{ "max_size -1\n", NULL, "t.conf:1: max_size: bad size \"-1\"", true },
	{ "max_size 9223372036854775808\n", NULL, "t.conf:1: max_size: bad size \"9223372036854775808\"", true },
	{ "max_size 9223372036854775G\n", NULL, "t.conf:1: max_size: bad size \"9223372036854775G\"", true },
	{ "max_size 1 2\n", NULL, "t.conf:1: max_size: wants one value, got \"1 2\"", true },
	{ "max_header_size 0\n", NULL, "t.conf:1: max_header_size: bad size \"0\"", true },
	{ "retry_min 0\n", "retry_min", "0", false },	/* 0: retry at the next queue run */
	{ "retry_min 5y\n", NULL, "t.conf:1: retry_min: bad duration \"5y\"", true },
	{ "queue_lifetime 99999999999999999999\n", NULL,
	  "t.conf:1: queue_lifetime: bad duration (must be > 0) \"99999999999999999999\"", true },
	{ "queue_lifetime 9223372036854775807w\n", NULL,
	  "t.conf:1: queue_lifetime: bad duration (must be > 0) \"9223372036854775807w\"", true },
	{ "delay_warning s\n", NULL, "t.conf:1: delay_warning: bad duration \"s\"", true },
	{ "timeout_message 0\n", NULL, "t.conf:1: timeout_message: bad duration (must be > 0) \"0\"", true },
	{ "timeout_session x\n", NULL, "t.conf:1: timeout_session: bad duration (must be > 0) \"x\"", true },
	{ "retry_min 1h\nretry_max 10m\n", NULL, "t.conf: retry_min (3600 s) is longer than retry_max (600 s)", true },
	{ "deliver now\n", NULL, "t.conf:1: deliver: unknown value \"now\"", true },
	{ "mailq_users staff\n", NULL, "t.conf:1: mailq_users: unknown value \"staff\"", true },
	{ "deliver Queue\n", NULL, "t.conf:1: deliver: unknown value \"Queue\"", true },
	{ "tls maybe\n", NULL, "t.conf:1: tls: unknown value \"maybe\"", true },
	{ "smarthost_tls ssl\n", NULL, "t.conf:1: smarthost_tls: unknown value \"ssl\"", true },
	{ "dkim_required true\n", NULL, "t.conf:1: dkim_required: want yes or no, got \"true\"", true },
	{ "max_connections 0\n", NULL, "t.conf:1: max_connections: want a number from 1 to 64, got \"0\"", true },
	{ "max_connections 65\n", NULL, "t.conf:1: max_connections: want a number from 1 to 64, got \"65\"", true },
	{ "max_connections 4s\n", NULL, "t.conf:1: max_connections: want a number from 1 to 64, got \"4s\"", true },
	{ "max_connections 99999999999999999999\n", NULL,
	  "t.conf:1: max_connections: want a number from 1 to 64, got \"99999999999999999999\"", true },
	{ "spool var/spool\n", NULL, "t.conf:1: spool: not an absolute path: \"var/spool\"", true },
	{ "pidfile ./p\n", NULL, "t.conf:1: pidfile: not an absolute path: \"./p\"", true },
	{ "tls_ca /a\x7f" "b\n", NULL, "t.conf:1: tls_ca: not an absolute path: \"/a\\177b\"", true },
	{ "spool /a\x01" "b\n", NULL, "t.conf:1: spool: control character in \"/a\\001b\"", true },
	{ "hostname -bad.example\n", NULL, "t.conf:1: hostname: bad host name \"-bad.example\"", true },
	{ "hostname bad-.example\n", NULL, "t.conf:1: hostname: bad host name \"bad-.example\"", true },
	{ "hostname a..b\n", NULL, "t.conf:1: hostname: bad host name \"a..b\"", true },
	{ "hostname example.org.\n", NULL, "t.conf:1: hostname: bad host name \"example.org.\"", true },
	{ "hostname .example.org\n", NULL, "t.conf:1: hostname: bad host name \".example.org\"", true },
	{ "hostname a_b.org\n", NULL, "t.conf:1: hostname: bad host name \"a_b.org\"", true },
	{ "hostname h\xc3\xa9.org\n", NULL, "t.conf:1: hostname: bad host name \"h\\303\\251.org\"", true },
	{ "domain x;rm\n", NULL, "t.conf:1: domain: bad host name \"x;rm\"", true },
	{ "hostname aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org\n", NULL,
	  "t.conf:1: hostname: bad host name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org\"", true },
	{ "tls_cert_name a b\n", NULL, "t.conf:1: tls_cert_name: wants one value, got \"a b\"", true },
	{ "dkim example.org s1\n", NULL,
	  "t.conf:1: dkim: wants DOMAIN SELECTOR KEYFILE [canon=H/B], got \"example.org\"", true },
	{ "dkim example.org s1 /k canon=relaxed extra\n", NULL,
	  "t.conf:1: dkim: wants DOMAIN SELECTOR KEYFILE [canon=H/B], got \"extra\"", true },
	{ "dkim exa_mple.org s1 /k\n", NULL, "t.conf:1: dkim: bad domain \"exa_mple.org\"", true },
	{ "dkim example.org s/1 /k\n", NULL, "t.conf:1: dkim: bad selector \"s/1\"", true },
	{ "dkim example.org s1 k.pem\n", NULL, "t.conf:1: dkim: key file must be an absolute path: \"k.pem\"", true },
	{ "dkim example.org s1 /k canon=fast\n", NULL,
	  "t.conf:1: dkim: bad option (want canon=relaxed|simple[/relaxed|simple]) \"canon=fast\"", true },
	{ "dkim a.org s1 /k\ndkim A.org s1 /k2\n", NULL, "t.conf:2: dkim: domain and selector given twice: \"s1\"",
	  true },
	{ "dkim_canon relaxed/\n", NULL, "t.conf:1: dkim_canon: want relaxed|simple[/relaxed|simple], got \"relaxed/\"",
	  true },
	{ "dkim_canon simple/simple/simple\n", NULL,
	  "t.conf:1: dkim_canon: want relaxed|simple[/relaxed|simple], got \"simple/simple/simple\"", true },
	{ "smarthost smtp.example.net:0\n", NULL, "t.conf:1: smarthost: bad port in \"smtp.example.net:0\"", true },
	{ "smarthost smtp.example.net:65536\n", NULL, "t.conf:1: smarthost: bad port in \"smtp.example.net:65536\"",
	  true },
	{ "smarthost smtp.example.net:\n", NULL, "t.conf:1: smarthost: bad port in \"smtp.example.net:\"", true },
	{ "smarthost h:99999999999999999999999\n", NULL, "t.conf:1: smarthost: bad port in \"h:99999999999999999999999\"",
	  true },
	{ "smarthost [::1]:25\n", NULL, "t.conf:1: smarthost: bad host name \"[::1]\"", true },
	{ "smarthost a b\n", "=smarthost", "a:587 b:587", false },	/* two hosts, not one value too many */
	{ "check_myip myip.opendns.com\n", NULL, "t.conf:1: check_myip: not NAME@SERVER or none: \"myip.opendns.com\"", true },
	{ "check_myip @192.0.2.53\n", NULL, "t.conf:1: check_myip: not NAME@SERVER or none: \"@192.0.2.53\"", true },
	{ "check_myip a@b@c\n", NULL, "t.conf:1: check_myip: not NAME@SERVER or none: \"a@b@c\"", true },
	{ "dnsbl bl_1.example\n", NULL, "t.conf:1: dnsbl: not a zone name: \"bl_1.example\"", true },
	{ "dnsbl a.x b.x c.x d.x e.x f.x g.x h.x i.x\n", NULL, "t.conf:1: dnsbl: at most 8 zones", true },
	{ "dnsbl a.x,,b.x\n", NULL, "t.conf:1: dnsbl: not a zone name: \"\"", true },
	{ "check_port25_host mx_1.example\n", NULL, "t.conf:1: check_port25_host: bad host name \"mx_1.example\"", true },
	{ "tls_policy example.com\n", NULL, "t.conf:1: tls_policy: wants DOMAIN LEVEL, got \"example.com\"", true },
	{ "tls_policy example.com strict\n", NULL,
	  "t.conf:1: tls_policy: bad level (want none|may|encrypt|verify) \"strict\"", true },
	{ "tls_policy a.com may\ntls_policy A.com none\n", NULL, "t.conf:2: tls_policy: domain given twice: \"A.com\"",
	  true },
	{ "resolver ::1\n", NULL, "t.conf:1: resolver: not an IPv4 address: \"::1\"", true },
	{ "resolver 1.2.3\n", NULL, "t.conf:1: resolver: not an IPv4 address: \"1.2.3\"", true },
	{ "resolver 1.2.3.256\n", NULL, "t.conf:1: resolver: not an IPv4 address: \"1.2.3.256\"", true },
	{ "resolver 1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4\n", NULL, "t.conf:1: resolver: at most 3 addresses", true },
	{ "tls_cert /c.pem\n", NULL, "t.conf: tls_cert and tls_key go together", true },
};

/* fixed_sysname - a fully qualified system name, whatever the machine running the tests is called */
static void fixed_sysname(void)
{
	conf_set_system_name("sys.example.net");
}
TestSuite(config, .init = fixed_sysname);

Test(config, table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		size_t n = strlen(r->in);
		struct config c;
		struct err e = { 0 };
		char got[512];
		int rc;

		if (strstr(r->want, "NUL byte") != NULL)
			n = strlen(r->in) + 2;	/* the row has an embedded NUL */
		conf_defaults(&c);
		rc = conf_parse(&c, r->in, n, "t.conf", &e);
		if (r->want_err) {
			cr_expect_eq(rc, -1, "row %zu: want error", i);
			cr_expect_eq(e.code, EX_CONFIG, "row %zu: code %d", i, e.code);
			cr_expect_str_eq(e.msg, r->want, "row %zu: got [%s] want [%s]", i, e.msg, r->want);
		} else {
			cr_expect_eq(rc, 0, "row %zu: %s", i, e.msg);
			field(&c, r->key, got, sizeof got);
			cr_expect_str_eq(got, r->want, "row %zu (%s): got [%s] want [%s]", i, r->key, got, r->want);
		}
		conf_free(&c);
	}
}

struct num {
	const char *in;
	long long want;
};

Test(config, durations_and_sizes)
{
	static const struct num d[] = {
		{ "0", 0 }, { "30", 30 }, { "30s", 30 }, { "5m", 300 }, { "4h", 14400 }, { "5d", 432000 },
		{ "1w", 604800 }, { "", -1 }, { "s", -1 }, { "5ms", -1 }, { "-5", -1 }, { "+5", -1 }, { " 5", -1 },
		{ "5 ", -1 }, { "5M", -1 }, { "9223372036854775807", 9223372036854775807LL },
		{ "9223372036854775808", -1 }, { "15250284452471s", 15250284452471LL },
		{ "15250284452472w", -1 }, { "1e3", -1 },
	};
	static const struct num s[] = {
		{ "0", 0 }, { "1", 1 }, { "1k", 1000 }, { "1K", 1000 }, { "1M", 1000000 }, { "1G", 1000000000 },
		{ "1m", -1 }, { "1g", -1 }, { "1T", -1 }, { "", -1 }, { "k", -1 }, { "1.5M", -1 },
		{ "9223372036854775807", 9223372036854775807LL }, { "9223372036854775808", -1 },
		{ "9223372036854775k", 9223372036854775000LL }, { "9223372036854776k", -1 },
		{ "9223372036G", 9223372036000000000LL }, { "9223372037G", -1 },
	};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
		cr_expect_eq(conf_duration_parse(d[i].in, strlen(d[i].in)), d[i].want, "duration %s", d[i].in);
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		cr_expect_eq(conf_size_parse(s[i].in, strlen(s[i].in)), s[i].want, "size %s", s[i].in);
	/* n is respected: the bytes after n are not looked at */
	cr_expect_eq(conf_duration_parse("5mXX", 2), 300);
	cr_expect_eq(conf_size_parse("12345", 2), 12);
}

Test(config, free_twice)
{
	struct config c;
	struct err e = { 0 };
	const char *in = "tls_policy example.com verify\nroute example.org smarthost\nsmarthost relay.example.net\n";

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, in, strlen(in), "t", &e), 0, "%s", e.msg);
	cr_expect_eq(c.ntls_policy, 1);
	conf_free(&c);
	cr_expect_eq(c.ntls_policy, 0);
	cr_expect_null(c.tls_policy);
	conf_free(&c);	/* a zeroed struct is a no-op */
}

/* Without hostname: the system's name; when that is not fully qualified the configuration still loads,
 * with the reason kept (one line naming the key), and conf_name_ok refuses it: mail must not go out as
 * EHLO vm, root@vm. */
Test(config, defaults_hostname)
{
	static const char fix[] = "\" is not fully qualified: set hostname to this host's fully qualified name";
	static const struct {
		const char *sys, *want, *problem;	/* the hostname used; the reason's quoted name or NULL */
	} t[] = {
		{ "Mail.Example.ORG", "mail.example.org", NULL },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example", NULL },
		{ "vm", "vm", "vm" },
		{ "localhost", "localhost", "localhost" },
		{ "localhost.localdomain", "localhost.localdomain", "localhost.localdomain" },
		{ "vm.example.", "localhost", "vm.example." },
		{ "my_vm.example", "localhost", "my_vm.example" },
		{ "", "localhost", "" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct config c;
		struct err e = { 0 };
		char want[256];

		conf_set_system_name(t[i].sys);
		conf_defaults(&c);
		cr_expect_null(c.hostname);	/* not looked up until parsing shows it is not configured */
		cr_assert_eq(conf_parse(&c, "", 0, "t.conf", &e), 0, "%s: %s", t[i].sys, e.msg);
		cr_expect_str_eq(c.hostname, t[i].want);
		cr_expect_str_eq(c.domain, c.hostname);
		cr_expect_str_eq(c.tls_cert_name, c.hostname);
		err_clear(&e);
		if (t[i].problem != NULL) {
			(void)snprintf(want, sizeof want, "t.conf: hostname: not set, and the system's name \"%s%s",
			    t[i].problem, fix);
			cr_expect_str_eq(c.hostname_problem, want, "%s", t[i].sys);
			cr_expect_eq(conf_name_ok(&c, &e), -1, "%s", t[i].sys);
			cr_expect_eq(e.code, EX_CONFIG);
			cr_expect_str_eq(e.msg, want);
		} else {
			cr_expect_null(c.hostname_problem, "%s", t[i].sys);
			cr_expect_eq(conf_name_ok(&c, &e), 0, "%s", t[i].sys);
		}
		conf_free(&c);
		/* a configured hostname does not need the system's */
		conf_defaults(&c);
		cr_expect_eq(conf_parse(&c, "hostname a.example.org\n", 23, "t.conf", &e), 0, "%s", e.msg);
		cr_expect_null(c.hostname_problem);
		conf_free(&c);
		/* a missing optional file: the same rule */
		cr_expect_eq(conf_load(&c, "/nonexistent/postern.conf", true, &e), 0, "%s", t[i].sys);
		cr_expect_eq(c.hostname_problem != NULL, t[i].problem != NULL, "%s", t[i].sys);
		conf_free(&c);
	}
	conf_set_system_name(NULL);
}

/* write_tmp - a file in a fresh directory with the given bytes; returns its path in p. */
static void write_tmp(char *dir, char *p, size_t n, const char *data, size_t len)
{
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert(snprintf(p, n, "%s/postern.conf", dir) < (int)n);
	cr_assert_not_null(f = fopen(p, "w"));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

Test(config, load)
{
	char dir[] = "/tmp/test_config.XXXXXX", p[256];
	struct config c;
	struct err e = { 0 };
	const char *in = "max_size 1M\nfoo bar\n";

	/* missing: fine when optional, an error otherwise */
	cr_expect_eq(conf_load(&c, "/nonexistent/postern.conf", true, &e), 0);
	cr_expect_eq(c.max_size, 50000000);	/* max_size's default, 50M */
	conf_free(&c);
	cr_expect_eq(conf_load(&c, "/nonexistent/postern.conf", false, &e), -1);
	cr_expect_str_eq(e.msg, "/nonexistent/postern.conf: No such file or directory");
	cr_expect_eq(e.code, EX_CONFIG);
	conf_free(&c);
	/* a directory is not a config file */
	cr_expect_eq(conf_load(&c, "/tmp", false, &e), -1);
	cr_expect_str_eq(e.msg, "/tmp: not a regular file");
	conf_free(&c);

	write_tmp(dir, p, sizeof p, in, strlen(in));
	cr_expect_eq(conf_load(&c, p, false, &e), -1);
	{
		char want[300];
		cr_assert(snprintf(want, sizeof want, "%s:2: unknown key \"foo\"", p) < (int)sizeof want);
		cr_expect_str_eq(e.msg, want);
	}
	conf_free(&c);
	cr_assert_eq(unlink(p), 0);

	/* over LIM_CONF_FILE */
	{
		size_t big = LIM_CONF_FILE + 1;
		char *junk = malloc(big);
		cr_assert_not_null(junk);
		memset(junk, '\n', big);
		FILE *f = fopen(p, "w");
		cr_assert_not_null(f);
		cr_assert_eq(fwrite(junk, 1, big, f), big);
		fclose(f);
		free(junk);
		cr_expect_eq(conf_load(&c, p, false, &e), -1);
		char want[300];
		cr_assert(snprintf(want, sizeof want, "%s: larger than %d bytes", p, LIM_CONF_FILE) < (int)sizeof want);
		cr_expect_str_eq(e.msg, want);
		conf_free(&c);
		/* exactly the limit is fine */
		cr_assert_eq(truncate(p, LIM_CONF_FILE), 0);
		cr_expect_eq(conf_load(&c, p, false, &e), 0, "%s", e.msg);
		cr_expect_str_eq(c.path, p);
		conf_free(&c);
	}
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(rmdir(dir), 0);
}

/* conf_value - what `postern config KEY` prints: the parsed value, comments and blanks gone. */
static const struct vrow {
	const char *in, *key, *want;
	int want_r;	/* 1 written, 0 not set, -1 error (want is then the message) */
} vrows[] = {
	{ "tls_cert /c.pem\ntls_key /etc/x/key.pem   # renewed by certbot\n", "tls_key", "/etc/x/key.pem", 1 },
	{ "tls_cert /c.pem\ntls_key /k.pem\n", "tls_cert", "/c.pem", 1 },
	{ "hostname a.example.org\ntls_cert_name relay.example.org # renewed\n", "tls_cert_name",
	  "relay.example.org", 1 },
	{ "hostname a.example.org\n", "tls_cert_name", "a.example.org", 1 },
	{ "", "tls_key", "", 0 },
	{ "mailq_users group\ntls may\n", "mailq_users", "group", 1 },	/* (each enum its own word) */
	{ "", "mailq_users", "anyone", 1 },
	{ "", "smarthost", "", 0 },
	{ "smarthost Smtp.example.net\n", "smarthost", "smtp.example.net:587", 1 },
	{ "", "pidfile", "/run/postern.pid", 1 },
	{ "retry_min 5m\n", "retry_min", "300", 1 },
	{ "max_size 10M\n", "max_size", "10000000", 1 },
	{ "", "tls", "may", 1 },
	{ "deliver queue\n", "deliver", "queue", 1 },
	{ "", "allow_local_mx", "no", 1 },
	{ "dkim_required no\n", "dkim_required", "no", 1 },
	{ "dkim a.org s1 /k canon=simple\ndkim a.org s2 /k2\n", "dkim", "a.org s1 /k canon=simple/simple\na.org s2 /k2",
	  1 },
	{ "tls_policy A.org verify\ntls_policy b.org none\n", "tls_policy", "a.org verify\nb.org none", 1 },
	{ "", "dkim_canon", "relaxed/relaxed", 1 },
	{ "", "no_such_key", "unknown key \"no_such_key\"", -1 },
	{ "", "bad\033key", "unknown key \"bad\\033key\"", -1 },
};

Test(config, value)
{
	for (size_t i = 0; i < sizeof vrows / sizeof vrows[0]; i++) {
		struct config c;
		struct err e = { 0 };
		struct buf out;
		int r;

		conf_defaults(&c);
		cr_assert_eq(conf_parse(&c, vrows[i].in, strlen(vrows[i].in), "config", &e), 0, "row %zu: %s", i, e.msg);
		buf_init(&out, 4096);
		r = conf_value(&c, vrows[i].key, &out, &e);
		cr_expect_eq(r, vrows[i].want_r, "row %zu (%s): r=%d", i, vrows[i].key, r);
		if (r < 0) {
			cr_expect_str_eq(e.msg, vrows[i].want, "row %zu", i);
			cr_expect_eq(e.code, EX_USAGE, "row %zu: code %d", i, e.code);
		} else
			cr_expect_str_eq(buf_str(&out), vrows[i].want, "row %zu", i);
		buf_free(&out);
		conf_free(&c);
	}
}

/* every key of the table has a value or says it is not set: none is forgotten by conf_value */
Test(config, value_every_key)
{
	struct config c;
	struct err e = { 0 };
	const char *k;
	size_t n = 0;

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, "", 0, "config", &e), 0);
	for (size_t i = 0; (k = conf_key_name(i)) != NULL; i++, n++) {
		struct buf out;

		buf_init(&out, 4096);
		cr_expect_geq(conf_value(&c, k, &out, &e), 0, "%s: %s", k, e.msg);
		buf_free(&out);
	}
	cr_expect_geq(n, 34, "the table has every key");
	conf_free(&c);
}

/* via_smarthost - whether mail for domain goes to the smarthost, as conf_dest_for decides it for a
 * sender no sender_route names. */
static bool via_smarthost(const struct config *c, const char *domain)
{
	const struct conf_relay *relay;

	return conf_dest_for(c, "someone@nowhere.example", domain, &relay) == CONF_VIA_SMARTHOST;
}

/* route lookups: the most specific line; ".d" only below d; none: the default */
Test(config, route_for)
{
	static const char conf[] = "smarthost s.example.net\n"
				   "route example.com direct\n"
				   "route .shop.example.com relay.example.net\n"
				   "route deep.shop.example.com smarthost\n"
				   "route other.org r2.example.net:2525\n";
	static const struct {
		const char *domain, *want;	/* want: the route's domain (with its dot) or NULL */
		bool smarthost;
	} t[] = {
		{ "example.com", "example.com", false },
		{ "EXAMPLE.com", "example.com", false },
		{ "a.example.com", "example.com", false },
		{ "shop.example.com", "example.com", false },	/* ".shop" is for its subdomains only */
		{ "x.shop.example.com", ".shop.example.com", false },
		{ "deep.shop.example.com", "deep.shop.example.com", true },
		{ "a.deep.shop.example.com", "deep.shop.example.com", true },
		{ "other.org", "other.org", false },
		{ "notexample.com", NULL, true },
		{ "com", NULL, true },
		{ "example.org", NULL, true },
	};
	struct config c;
	struct err e = { 0 };

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, conf, sizeof conf - 1, "t.conf", &e), 0, "%s", e.msg);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const struct conf_route *r = conf_route_for(&c, t[i].domain);
		char got[300] = "(none)";

		if (r != NULL)
			(void)snprintf(got, sizeof got, "%s%s", r->subs_only ? "." : "", r->domain);
		cr_expect_str_eq(got, t[i].want ? t[i].want : "(none)", "%s", t[i].domain);
		cr_expect_eq(via_smarthost(&c, t[i].domain), t[i].smarthost, "%s", t[i].domain);
	}
	conf_free(&c);
	/* without a smarthost, nothing goes to one */
	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, "route a.org r.net\n", 18, "t.conf", &e), 0, "%s", e.msg);
	cr_expect_not(via_smarthost(&c, "a.org"));
	cr_expect_not(via_smarthost(&c, "b.org"));
	conf_free(&c);
}

/* conf_smarthost_auth_for: HOST:PORT first, then HOST, else -1 (the line without a host). */
Test(config, smarthost_auth_for)
{
	static const char conf[] = "smarthost a.example:587 b.example:587 b.example:2587 c.example\n"
	    "smarthost_auth /etc/p/all\nsmarthost_auth b.example /etc/p/b\nsmarthost_auth b.example:2587 /etc/p/b2\n";
	struct config c;
	struct err e;

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, conf, sizeof conf - 1, "t.conf", &e), 0, "%s", e.msg);
	cr_expect_eq(conf_smarthost_auth_for(&c, "b.example", 2587), 1);
	cr_expect_eq(conf_smarthost_auth_for(&c, "B.Example", 587), 0);
	cr_expect_eq(conf_smarthost_auth_for(&c, "a.example", 587), -1);
	cr_expect_eq(conf_smarthost_auth_for(&c, "c.example", 587), -1);
	conf_free(&c);
}
