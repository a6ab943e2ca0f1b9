/*
 * config.h - postern's configuration: one file, `key value` lines, parsed once into struct config.
 *
 * Untrusted input: the file's bytes (it may be a caller's -C file when privileges are gone).
 * Errors: conf_parse reports "FILE:LINE: reason" and EX_CONFIG in struct err. Every key and its default
 * is documented in man/postern.conf.5. A missing /etc/postern/postern.conf means all defaults.
 * Defaults: each key's default is written once, in the key table of config.c (the comments below do
 * not repeat them); test_conftable.c holds the man page and the sample conf/postern.conf to it.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/confval.h"
#include "lib/buf.h"
#include "lib/err.h"

#define CONF_PATH_DEFAULT SYSCONFDIR "/postern/postern.conf"

enum tls_level { TLS_NONE, TLS_MAY, TLS_ENCRYPT, TLS_VERIFY };
enum smarthost_tls { SMARTHOST_TLS_AUTO, SMARTHOST_TLS_STARTTLS, SMARTHOST_TLS_TLS, SMARTHOST_TLS_NONE };
enum deliver_mode { DELIVER_BACKGROUND, DELIVER_QUEUE };
enum mailq_users { MAILQ_ANYONE, MAILQ_GROUP, MAILQ_ROOT };	/* who may list the queue */
/* what submission does with a From that does not align (sendmail/rewrite.h) */
enum from_policy { FROM_KEEP, FROM_REWRITE_UNALIGNED, FROM_REFUSE_UNALIGNED };

/* One rewrite_sender / rewrite_from line: "PATTERN ADDRESS". */
struct conf_rewrite {
	char *pattern;		/* "*", "*@DOMAIN" (lower-case; "*@hostname" as written), or a local name */
	char *addr;		/* local@domain, RFC 5321 form */
};
struct conf_rewrites {
	struct conf_rewrite *v;	/* in file order: the first match wins */
	size_t n;
};

struct conf_dkim_key {
	char *domain;		/* lower-case */
	char *selector;
	char *keyfile;
	bool canon_set;		/* per-key "canon=" given */
	enum dkim_canon hcanon, bcanon;
};

/* One tls_policy line; queue/wire/tls_policy.h decides which applies to a destination. */
struct conf_tls_policy {
	char *domain;		/* lower-case */
	enum tls_level level;
};

/* route DOMAIN direct | smarthost | HOST[:PORT]: where mail for DOMAIN (and its subdomains, or
 * with a leading dot only its subdomains) goes instead of the default. */
enum conf_route_kind { CONF_ROUTE_DIRECT, CONF_ROUTE_SMARTHOST, CONF_ROUTE_RELAY };
struct conf_route {
	char *domain;		/* lower-case, without the leading dot */
	bool subs_only;		/* ".example.com": its subdomains, not itself */
	enum conf_route_kind kind;
	char *host;		/* CONF_ROUTE_RELAY: the relay (port 25 unless given) */
	int port;
};

/* One more smarthost: its name and port (from HOST:PORT, else smarthost_tls's default). */
struct conf_relay {
	char *host;
	int port;
	bool port_given;
};

/* CONF_SMARTHOSTS - hosts on one smarthost line */
#define CONF_SMARTHOSTS 8

/* sender_route KEY HOST[:PORT]: mail from a sender KEY matches goes through HOST, a smarthost of that
 * sender's (smarthost_tls, the smarthost's TLS policy, smarthost_auth). */
struct conf_sender_route {
	char *key;		/* lower-case: a whole address, or a domain without its leading dot */
	bool address;		/* key is an address: the sender exactly (case-blind) */
	bool subs_only;		/* ".example.com": its subdomains' senders, not its own */
	struct conf_relay relay;	/* the port by smarthost_tls unless given */
};

/* Where one recipient's copy of a message goes (conf_dest_for), in the order they are decided. */
enum conf_via {
	CONF_VIA_MX,		/* the recipient domain's MX hosts: route DOMAIN direct, or no smarthost */
	CONF_VIA_ROUTE,		/* route DOMAIN HOST[:PORT]: that relay */
	CONF_VIA_SENDER,	/* the sender's relay (sender_route) */
	CONF_VIA_SMARTHOST,	/* route DOMAIN smarthost, or the smarthost as the default */
};

/* One "smarthost_auth HOST[:PORT] FILE" line: that smarthost's own credentials. */
struct conf_host_auth {
	char *host;		/* lower-case, as on the smarthost line */
	int port;		/* 0: any port of host */
	char *path;
};

struct config {
	char *path;		/* the file it came from (for messages) */
	/* submission */
	char *hostname;		/* set by conf_parse/conf_load: configured or the system's */
	char *hostname_problem;	/* NULL, or why hostname is no name for mail to go out under */
	char *domain;		/* appended to bare local names */
	char *spool;
	char *aliases;		/* a missing file: no aliases */
	long long max_size;	/* bytes; 0 = no limit */
	size_t max_header_size;	/* bytes */
	enum deliver_mode deliver;	/* "background" or "queue" */
	/* DKIM */
	struct conf_dkim_key *dkim;
	size_t ndkim;
	enum dkim_canon dkim_hcanon, dkim_bcanon;	/* dkim_canon */
	bool dkim_required;
	long dkim_expire;	/* seconds; 0 = no x= tag */
	/* delivery */
	char *smarthost;	/* host; NULL = direct MX delivery */
	int smarthost_port;	/* from smarthost HOST:PORT, else by smarthost_tls */
	struct conf_relay *smarthost_alt;	/* the hosts after the first on the line, tried in turn */
	size_t nsmarthost_alt;
	enum smarthost_tls smarthost_tls;
	char *smarthost_auth;	/* credentials file path for every smarthost, or NULL */
	struct conf_host_auth *smarthost_auth_host;	/* per-host credentials, at most CONF_SMARTHOSTS */
	size_t nsmarthost_auth_host;
	enum tls_level tls;
	struct conf_tls_policy *tls_policy;
	size_t ntls_policy;
	struct conf_route *route;
	size_t nroute;
	struct conf_sender_route *sender_route;
	size_t nsender_route;
	char *tls_ca;		/* CA file for verify; NULL = the system's hashed folder (tls.c) */
	char *tls_cert, *tls_key;	/* client certificate and key, or NULL */
	char *tls_cert_name;	/* name the certbot hook matches */
	char *resolver;		/* space-separated IPv4 addresses, or NULL for /etc/resolv.conf */
	char *source_address;	/* IPv4 that direct deliveries leave from, or NULL: the kernel's choice */
	struct conf_relay fallback_relay;	/* where direct deliveries refused go; host NULL: none */
	int max_connections;	/* parallel destinations */
	int max_per_destination;	/* connections to one destination at once */
	long destination_rate_delay;	/* seconds between deliveries to one destination; 0: none */
	long retry_min, retry_max;	/* seconds */
	long queue_lifetime;	/* seconds */
	long delay_warning;	/* seconds; 0 = off */
	/* SMTP client timeouts (seconds) */
	long timeout_connect;
	long timeout_greeting;
	long timeout_command;	/* EHLO, MAIL, RCPT, AUTH, STARTTLS */
	long timeout_data_init;
	long timeout_data_block;
	long timeout_data_done;
	long timeout_message;	/* wall clock, MAIL to the reply to the final dot */
	long timeout_session;	/* wall clock, a whole connection */
	char *pidfile;		/* periodic runner */
	enum mailq_users mailq_users;	/* mailq/-bp: "anyone", "group" (postern's and root), "root" */
	bool allow_local_mx;	/* MX/A in 127/8 or 169.254/16 allowed (tests) */
	/* operating it (issue 13) */
	char *stats_file;	/* node_exporter textfile written after each pass, or NULL */
	struct conf_rewrites rewrite_sender;	/* envelope sender rules */
	struct conf_rewrites rewrite_from;	/* From header rules */
	bool rewrite_reply_to;	/* a rewritten From's original goes to Reply-To (when there is none) */
	enum from_policy from_policy;
	/* postern check */
	char *check_myip;	/* "NAME@SERVER": ask SERVER for NAME's A to learn our address; "none" */
	char *dnsbl;		/* DNSBL zones, comma-separated, or "none" */
	char *check_port25_host;	/* a mail server whose port 25 check connects to, or "none" */
};

/* conf_defaults - fill every field with its default, from the key table. hostname, domain and
 * tls_cert_name stay NULL: conf_parse and conf_load take them from the system then. */
void conf_defaults(struct config *c);

/* conf_parse - parse a whole file's bytes into c (which conf_defaults filled). Pure but for the
 * hostname default: without hostname, the system's name. A hostname (configured or the system's) that
 * is not fully qualified does not stop the parse: c->hostname_problem says why, in one line naming the
 * key, and conf_name_ok refuses it where mail is sent or queued. `name` is used in messages
 * ("name:LINE: ..."). Returns 0 or -1 with EX_CONFIG. */
int conf_parse(struct config *c, const char *buf, size_t len, const char *name, struct err *e);

/* conf_load - defaults, then read and parse `path` (a missing file is fine only when `optional`). */
int conf_load(struct config *c, const char *path, bool optional, struct err *e);

/* conf_name_ok - 0 when c->hostname is a fully qualified name mail may go out under; else -1 with
 * EX_CONFIG and c->hostname_problem. The front door (submission, -bs) and the runner call it; the
 * commands that only read or report (config, check, dkim-keygen, mailq) do not. */
int conf_name_ok(const struct config *c, struct err *e);

/* conf_set_system_name - fix the system's name conf_parse and conf_load fall back to (tests); NULL:
 * ask the system again (gethostname, then the resolver's canonical name). */
void conf_set_system_name(const char *name);

/* conf_notice_domain - the domain postern's own notices (bounces, delay warnings, -oem) come From
 * (MAILER-DAEMON@it), so that the key that signs them aligns strictly: domain when a dkim line is for
 * it, else the dkim domain it is under, else the first dkim line's domain, else domain. */
const char *conf_notice_domain(const struct config *c);

/* conf_route_for - the route line for recipient domain `domain` (the most specific: the domain
 * itself, then each parent), or NULL: the default (smarthost when set, else direct). Pure. */
const struct conf_route *conf_route_for(const struct config *c, const char *domain);

/* conf_sender_route_for - the relay of the sender_route line for envelope sender `sender` ("", the
 * null sender, matches none): the line for the whole address, else the most specific one for its
 * domain (the domain itself, then each parent), else NULL. Pure. */
const struct conf_relay *conf_sender_route_for(const struct config *c, const char *sender);

/* conf_dest_for - where mail from `sender` to a recipient in `domain` goes: a route line for the
 * domain that says direct or names a relay wins; else the sender's sender_route; else route DOMAIN
 * smarthost, the smarthost, or the MX hosts (as transport maps beat sender-dependent relays, which
 * beat the relay host, in Postfix). *relay: the sender's relay for CONF_VIA_SENDER, else NULL. Pure. */
enum conf_via conf_dest_for(const struct config *c, const char *sender, const char *domain,
    const struct conf_relay **relay);

/* conf_smarthost_auth_for - which smarthost_auth line gives the credentials for smarthost (or sender
 * relay) host:port: the index into smarthost_auth_host of the one for HOST:PORT, else of the one for
 * HOST, else -1 (the line without a host, smarthost_auth, if any). Pure. */
int conf_smarthost_auth_for(const struct config *c, const char *host, int port);

/* conf_value - the effective value of key `name` appended to out as the config file would write it
 * (durations in seconds, sizes in bytes; keys given several times: one line each). 1: written, 0: the
 * key is not set, -1: unknown key (code 64) or out's ceiling hit (code 70). */
int conf_value(const struct config *c, const char *name, struct buf *out, struct err *e);
/* conf_key_name - the i-th key of the table, NULL past the end (for listing every key). */
const char *conf_key_name(size_t i);
/* conf_key_default - the i-th key's default as postern.conf(5) states it (NULL past the end). *value
 * true: a value as the file would write it ("5m", "50M"); false: "none" (not set) or the words for a
 * default taken from elsewhere ("the value of hostname"). */
const char *conf_key_default(size_t i, bool *value);

/* conf_free - release everything; conf_free of a zeroed struct is a no-op. */
void conf_free(struct config *c);


#endif
