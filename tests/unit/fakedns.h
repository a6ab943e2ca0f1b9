/* fakedns.h - a tiny UDP DNS server for tests, in a forked child on 127.0.0.1 (ephemeral port).
 * It answers from a table of canned answer sections; names are matched case-insensitively. An entry
 * with rcode -1 is never answered (timeout). Header-only: included by the tests that need it. */
#ifndef POSTERN_TEST_FAKEDNS_H
#define POSTERN_TEST_FAKEDNS_H

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct fake_rr {
	const char *qname;
	int qtype;
	int rcode;		/* -1: no reply at all */
	int ancount;
	const unsigned char *an;	/* answer section; 0xc0 0x0c points at the question name */
	size_t anlen;
};

struct fakedns {
	pid_t pid;
	int port;
	char servers[64];	/* for dns_new */
};

/* fake_qname - the question's name in text form (no compression in queries). */
static int fake_qname(const unsigned char *q, size_t n, size_t *off, char *out, size_t outn)
{
	size_t p = 12, o = 0;

	while (p < n && q[p] != 0) {
		size_t l = q[p];

		if (p + 1 + l > n || o + l + 2 > outn)
			return -1;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, q + p + 1, l);
		o += l;
		p += 1 + l;
	}
	if (p + 5 > n)
		return -1;
	out[o] = '\0';
	*off = p + 1;
	return 0;
}

static void fake_serve(int fd, const struct fake_rr *t, size_t nt)
{
	unsigned char q[512], r[4096];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;

	alarm(60);	/* never outlive a broken test */
	for (;;) {
		char name[256];
		size_t off, i;
		int qtype;

		fl = sizeof from;
		n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		if (n < 12 || fake_qname(q, (size_t)n, &off, name, sizeof name) < 0)
			continue;
		qtype = (q[off] << 8) | q[off + 1];
		for (i = 0; i < nt; i++)
			if (strcasecmp(t[i].qname, name) == 0 && t[i].qtype == qtype)
				break;
		memcpy(r, q, off + 4);
		r[2] = 0x80 | (q[2] & 0x01) | 0x04;	/* QR, RD copied, AA */
		r[3] = 0x80;
		r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
		r[4] = 0, r[5] = 1;
		n = (ssize_t)(off + 4);
		if (i == nt) {
			r[3] |= 3;	/* unknown name: NXDOMAIN */
		} else if (t[i].rcode < 0) {
			continue;
		} else {
			r[3] |= (unsigned char)t[i].rcode;
			r[7] = (unsigned char)t[i].ancount;
			if (t[i].anlen > 0)
				memcpy(r + n, t[i].an, t[i].anlen);
			n += (ssize_t)t[i].anlen;
		}
		sendto(fd, r, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

/* fakedns_start - serve table t until fakedns_stop. */
static void fakedns_start(struct fakedns *f, const struct fake_rr *t, size_t nt)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		abort();
	f->port = ntohs(sa.sin_port);
	snprintf(f->servers, sizeof f->servers, "127.0.0.1:%d", f->port);
	if ((f->pid = fork()) == 0) {
		fake_serve(fd, t, nt);
		_exit(0);
	}
	close(fd);
}

static void fakedns_stop(struct fakedns *f)
{
	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
}

#endif
