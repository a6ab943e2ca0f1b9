/*
 * dns.c - DNS response parsing (pure) and lookups through libresolv (see dns.h).
 *
 * The parser is our own rather than ns_initparse: it is small, it is fuzzed, and it enforces what we
 * rely on later (names that are printable, no dot inside a label, pointers strictly backwards).
 */
#include "lib/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/limits.h"

#define DNS_PTR_NAME_MAX 64	/* a reverse name, "4.3.2.1.in-addr.arpa" */
#define DNS_SERVER_TOK_MAX 64	/* one nameserver of the list, "192.0.2.1:53" */

/* RFC 1035 2.3.4: a name is at most 255 octets on the wire, so its text form fits in 254 + NUL. */
#define DNS_NAME_TEXT 256

/* name_decode - decode the name at *off in msg into text; *off moves past it (not past the target of
 * a pointer). Pointers must point strictly before the place they were found: no loop is possible. */
static int name_decode(const unsigned char *msg, size_t len, size_t *off, char out[DNS_NAME_TEXT],
		       struct err *e)
{
	size_t p = *off, n = 0, wire = 0, limit = *off;	/* limit: pointers must go below this */
	bool jumped = false;

	for (;;) {
		unsigned c;

		if (p >= len)
			return err_set(e, 0, "name runs past the end of the message");
		c = msg[p];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len)
				return err_set(e, 0, "truncated compression pointer");
			to = ((c & 0x3f) << 8) | msg[p + 1];
			if (to >= limit)
				return err_set(e, 0, "compression pointer does not point backwards");
			if (!jumped)
				*off = p + 2;
			jumped = true;
			limit = to;
			p = to;
			continue;
		}
		if ((c & 0xc0) != 0)
			return err_set(e, 0, "unsupported label type 0x%02x", c);
		if (c == 0) {
			if (!jumped)
				*off = p + 1;
			break;
		}
		if (p + 1 + c > len)
			return err_set(e, 0, "label runs past the end of the message");
		wire += c + 1;
		if (wire + 1 > 255)
			return err_set(e, 0, "name longer than 255 octets");
		if (n > 0)
			out[n++] = '.';
		for (size_t i = 0; i < c; i++) {
			unsigned char ch = msg[p + 1 + i];

			if (ch <= 0x20 || ch >= 0x7f || ch == '.' || ch == '\\')
				return err_set(e, 0, "name has a byte 0x%02x that is not allowed", ch);
			out[n++] = (char)ch;
		}
		p += 1 + c;
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	return 0;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* parse_rdata - fill rr's value from rdata [off, off+rdlen). */
static int parse_rdata(const unsigned char *msg, size_t off, size_t rdlen,
		       struct dns_rr *rr, struct err *e)
{
	char name[DNS_NAME_TEXT];
	size_t end = off + rdlen, p = off;
	struct buf b;

	switch (rr->type) {
	case DNS_T_A:
		if (rdlen != 4)
			return err_set(e, 0, "A record with RDLENGTH %zu", rdlen);
		memcpy(&rr->a.s_addr, msg + off, 4);
		return 0;
	case DNS_T_AAAA:
		if (rdlen != 16)
			return err_set(e, 0, "AAAA record with RDLENGTH %zu", rdlen);
		memcpy(&rr->a6, msg + off, 16);
		return 0;
	case DNS_T_MX:
		if (rdlen < 3)
			return err_set(e, 0, "MX record too short");
		rr->pref = get16(msg + off);
		p += 2;
		__attribute__((fallthrough));	/* the exchange is a name like the others */
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (name_decode(msg, end, &p, name, e) < 0)
			return -1;
		if (p != end)
			return err_set(e, 0, "record data longer than its name");
		rr->data = xstrdup(name);
		rr->len = strlen(name);
		return 0;
	case DNS_T_TXT:
		buf_init(&b, rdlen);
		while (p < end) {
			size_t n = msg[p++];

			if (n > end - p)
				return buf_free(&b), err_set(e, 0, "TXT string runs past its record");
			if (memchr(msg + p, '\0', n) != NULL)
				return buf_free(&b), err_set(e, 0, "TXT string contains NUL");
			if (buf_add(&b, msg + p, n) < 0)
				return buf_free(&b), err_set(e, 0, "TXT record too long");
			p += n;
		}
		if (rdlen == 0)
			return err_set(e, 0, "empty TXT record");
		rr->len = b.len;
		rr->data = buf_take(&b);
		return 0;
	}
	return err_set(e, 0, "unexpected record type %d", rr->type);
}

int dns_parse_answer(const unsigned char *msg, size_t len, int qtype, struct dns_answer *out,
		     struct err *e)
{
	char name[DNS_NAME_TEXT];
	unsigned qd, an;
	size_t off = 12;

	memset(out, 0, sizeof *out);
	if (len < 12)
		return err_set(e, 0, "DNS message shorter than its header");
	if (len > LIM_DNS_ANSWER)
		return err_set(e, 0, "DNS message too long");
	if ((msg[2] & 0x80) == 0)
		return err_set(e, 0, "DNS message is not a response");
	out->aa = (msg[2] & 0x04) != 0;
	out->tc = (msg[2] & 0x02) != 0;
	out->rcode = msg[3] & 0x0f;
	qd = get16(msg + 4);
	an = get16(msg + 6);
	if (qd > 1)
		return err_set(e, 0, "DNS message with %u questions", qd);
	for (unsigned i = 0; i < qd; i++) {
		if (name_decode(msg, len, &off, name, e) < 0)
			return err_prefix(e, "question");
		if (len - off < 4)
			return err_set(e, 0, "truncated question");
		off += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		struct dns_rr rr = { 0 };
		size_t rdlen;

		if (name_decode(msg, len, &off, name, e) < 0) {
			err_prefix(e, "answer %u", i + 1);
			goto fail;
		}
		if (len - off < 10) {
			err_set(e, 0, "truncated answer record %u", i + 1);
			goto fail;
		}
		rr.type = get16(msg + off);
		rr.ttl = get32(msg + off + 4);
		rdlen = get16(msg + off + 8);
		off += 10;
		if (rdlen > len - off) {
			err_set(e, 0, "answer record %u runs past the end of the message", i + 1);
			goto fail;
		}
		if (get16(msg + off - 8) != 1 /* IN */ || (rr.type != qtype && rr.type != DNS_T_CNAME)) {
			off += rdlen;
			continue;
		}
		if (out->nrr == DNS_MAX_RR) {
			err_set(e, 0, "more than %d answer records", DNS_MAX_RR);
			goto fail;
		}
		if (parse_rdata(msg, off, rdlen, &rr, e) < 0) {
			err_prefix(e, "answer %u", i + 1);
			goto fail;
		}
		off += rdlen;
		rr.owner = xstrdup(name);
		out->rr = xreallocarray(out->rr, out->nrr + 1, sizeof *out->rr);
		out->rr[out->nrr++] = rr;
	}
	return 0;
fail:
	dns_answer_free(out);
	return -1;
}

void dns_answer_free(struct dns_answer *a)
{
	for (size_t i = 0; i < a->nrr; i++) {
		free(a->rr[i].owner);
		free(a->rr[i].data);
	}
	free(a->rr);
	a->rr = NULL;
	a->nrr = 0;
}

bool dns_name_eq(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 1 && a[na - 1] == '.')
		na--;
	if (nb > 1 && b[nb - 1] == '.')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

const char *dns_answer_follow(const struct dns_answer *a, const char *name, size_t hops,
			      size_t *steps)
{
	const char *cur = name;
	size_t n = 0;

	for (;;) {
		size_t i;

		for (i = 0; i < a->nrr; i++)
			if (a->rr[i].type == DNS_T_CNAME && dns_name_eq(a->rr[i].owner, cur))
				break;
		if (i == a->nrr)
			break;
		if (n == hops)
			return NULL;
		cur = a->rr[i].data;
		n++;
	}
	*steps = n;
	return cur;
}

const char *dns_result_str(enum dns_result r)
{
	switch (r) {
	case DNS_OK: return "ok";
	case DNS_NODATA: return "no data";
	case DNS_NXDOMAIN: return "NXDOMAIN";
	case DNS_TEMPFAIL: return "temporary failure";
	case DNS_FAIL: break;
	}
	return "failure";
}

/* ---- lookups through libresolv ---- */

struct dns {
	struct __res_state st;	/* our own state: never the global _res */
	unsigned char *pkt;	/* LIM_DNS_ANSWER bytes */
};

/* parse_servers - "1.2.3.4 5.6.7.8[:port]" into st's server list. */
static int parse_servers(struct __res_state *st, const char *servers, struct err *e)
{
	const char *p = servers;
	int n = 0;

	while (*p != '\0') {
		char tok[DNS_SERVER_TOK_MAX];
		size_t k = strcspn(p, " \t,");
		unsigned long port = 53;
		struct in_addr a;
		char *colon, *end;

		if (k == 0) {
			p++;
			continue;
		}
		if (k >= sizeof tok)
			return err_set(e, EX_CONFIG, "resolver address too long");
		memcpy(tok, p, k);
		tok[k] = '\0';
		p += k;
		if ((colon = strchr(tok, ':')) != NULL) {
			*colon = '\0';
			port = strtoul(colon + 1, &end, 10);
			if (*end != '\0' || port == 0 || port > 65535)
				return err_set(e, EX_CONFIG, "resolver %s: bad port", tok);
		}
		if (inet_pton(AF_INET, tok, &a) != 1)
			return err_set(e, EX_CONFIG, "resolver %s: not an IPv4 address", tok);
		if (n == MAXNS)
			return err_set(e, EX_CONFIG, "more than %d resolvers", MAXNS);
		memset(&st->nsaddr_list[n], 0, sizeof st->nsaddr_list[n]);
		st->nsaddr_list[n].sin_family = AF_INET;
		st->nsaddr_list[n].sin_port = htons((uint16_t)port);
		st->nsaddr_list[n].sin_addr = a;
		n++;
	}
	if (n == 0)
		return err_set(e, EX_CONFIG, "no resolver address given");
	st->nscount = n;
	return 0;
}

struct dns *dns_new(const char *servers, struct err *e)
{
	struct dns *d = xcalloc(1, sizeof *d);

	if (res_ninit(&d->st) != 0) {
		free(d);
		err_set(e, EX_TEMPFAIL, "cannot initialise the resolver");
		return NULL;
	}
	if (servers != NULL && parse_servers(&d->st, servers, e) < 0) {
		res_nclose(&d->st);
		free(d);
		return NULL;
	}
	d->pkt = xcalloc(1, LIM_DNS_ANSWER);
	return d;
}

void dns_set_timeout(struct dns *d, int seconds, int tries)
{
	if (seconds > 0)
		d->st.retrans = seconds;
	if (tries > 0)
		d->st.retry = tries;
}

void dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	res_nclose(&d->st);
	free(d->pkt);
	free(d);
}

/* query_once - one res_nquery, mapped to a result; on DNS_OK `out` holds the parsed answer. */
static enum dns_result query_once(struct dns *d, const char *name, int qtype,
				  struct dns_answer *out, struct err *e)
{
	int n;

	memset(out, 0, sizeof *out);
	if (strlen(name) > 253 || name[0] == '\0')
		return err_set(e, 0, "%s: bad DNS name", name), DNS_FAIL;
	d->st.res_h_errno = 0;
	n = res_nquery(&d->st, name, C_IN, qtype, d->pkt, LIM_DNS_ANSWER);
	if (n < 0) {
		switch (d->st.res_h_errno) {
		case HOST_NOT_FOUND:
			err_set(e, 0, "%s: domain does not exist", name);
			return DNS_NXDOMAIN;
		case NO_DATA:
			err_set(e, 0, "%s: no records of type %d", name, qtype);
			return DNS_NODATA;
		default:
			/* TRY_AGAIN (SERVFAIL, timeout, no server), NO_RECOVERY (REFUSED, FORMERR,
			 * NOTIMP: a broken resolver, not the recipient's fault): defer, never bounce */
			err_set(e, EX_TEMPFAIL, "%s: DNS lookup failed (%s)", name,
				d->st.res_h_errno == NO_RECOVERY ? "server refused" : "temporary failure");
			return DNS_TEMPFAIL;
		}
	}
	if (n > LIM_DNS_ANSWER)
		return err_set(e, EX_TEMPFAIL, "%s: DNS answer too long", name), DNS_TEMPFAIL;
	if (dns_parse_answer(d->pkt, (size_t)n, qtype, out, e) < 0) {
		err_prefix(e, "%s: malformed DNS answer", name);
		return DNS_FAIL;
	}
	return DNS_OK;
}

/* keep_final - keep only the records of qtype owned by `name`; DNS_NODATA when none. */
static enum dns_result keep_final(struct dns_answer *a, const char *name, int qtype)
{
	size_t k = 0;

	for (size_t i = 0; i < a->nrr; i++) {
		if (a->rr[i].type == qtype && dns_name_eq(a->rr[i].owner, name)) {
			a->rr[k++] = a->rr[i];
		} else {
			free(a->rr[i].owner);
			free(a->rr[i].data);
		}
	}
	a->nrr = k;
	return k > 0 ? DNS_OK : DNS_NODATA;
}

enum dns_result dns_query(struct dns *d, const char *name, int qtype, struct dns_answer *out,
			  struct err *e)
{
	char cur[DNS_NAME_TEXT];
	size_t hops = 0;

	if (strlen(name) >= sizeof cur)
		return err_set(e, 0, "%s: name too long", name), DNS_FAIL;
	memcpy(cur, name, strlen(name) + 1);
	for (;;) {
		enum dns_result r = query_once(d, cur, qtype, out, e);
		const char *final;
		size_t steps;

		if (r != DNS_OK)
			return r;
		final = dns_answer_follow(out, cur, LIM_CNAME_CHAIN - hops, &steps);
		if (final == NULL) {
			dns_answer_free(out);
			return err_set(e, 0, "%s: CNAME chain longer than %d", name, LIM_CNAME_CHAIN),
			       DNS_FAIL;
		}
		hops += steps;
		memmove(cur, final, strlen(final) + 1);	/* final may point into out: copy first */
		if (keep_final(out, cur, qtype) == DNS_OK)
			return DNS_OK;
		dns_answer_free(out);
		if (steps == 0)
			return err_set(e, 0, "%s: no records of type %d", name, qtype), DNS_NODATA;
		/* the answer stopped at a CNAME: ask its target */
	}
}

enum dns_result dns_mx(struct dns *d, const char *domain, struct dns_mx **v, size_t *n,
		       struct err *e)
{
	struct dns_answer a;
	enum dns_result r;

	*v = NULL;
	*n = 0;
	if ((r = dns_query(d, domain, DNS_T_MX, &a, e)) != DNS_OK)
		return r;
	*v = xcalloc(a.nrr, sizeof **v);
	for (size_t i = 0; i < a.nrr; i++) {
		(*v)[i].pref = a.rr[i].pref;
		(*v)[i].host = a.rr[i].data;
		a.rr[i].data = NULL;
	}
	*n = a.nrr;
	dns_answer_free(&a);
	return DNS_OK;
}

void dns_mx_free(struct dns_mx *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i].host);
	free(v);
}

enum dns_result dns_a(struct dns *d, const char *host, struct in_addr *v, size_t max, size_t *n,
		      struct err *e)
{
	struct dns_answer a;
	enum dns_result r;

	*n = 0;
	if ((r = dns_query(d, host, DNS_T_A, &a, e)) != DNS_OK)
		return r;
	for (size_t i = 0; i < a.nrr && *n < max; i++)
		v[(*n)++] = a.rr[i].a;
	dns_answer_free(&a);
	return DNS_OK;
}

enum dns_result dns_txt(struct dns *d, const char *name, char ***v, size_t *n, struct err *e)
{
	struct dns_answer a;
	enum dns_result r;

	*v = NULL;
	*n = 0;
	if ((r = dns_query(d, name, DNS_T_TXT, &a, e)) != DNS_OK)
		return r;
	*v = xcalloc(a.nrr, sizeof **v);
	for (size_t i = 0; i < a.nrr; i++) {
		(*v)[i] = a.rr[i].data;
		a.rr[i].data = NULL;
	}
	*n = a.nrr;
	dns_answer_free(&a);
	return DNS_OK;
}

void dns_txt_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

enum dns_result dns_ptr(struct dns *d, struct in_addr ip, char **name, struct err *e)
{
	const unsigned char *b = (const unsigned char *)&ip.s_addr;
	struct dns_answer a;
	enum dns_result r;
	char q[DNS_PTR_NAME_MAX];

	*name = NULL;
	if (snprintf(q, sizeof q, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]) >= (int)sizeof q)
		return err_set(e, 0, "PTR name too long"), DNS_FAIL;
	if ((r = dns_query(d, q, DNS_T_PTR, &a, e)) != DNS_OK)
		return r;
	*name = a.rr[0].data;
	a.rr[0].data = NULL;
	dns_answer_free(&a);
	return DNS_OK;
}
