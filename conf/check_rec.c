/*
 * check_rec.c - the pure decisions of `postern check`. See check_rec.h.
 */
#include "conf/check_rec.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/confval.h"
#include "lib/buf.h"

/* ends_with_label - name is `suffix` or ends in ".suffix" (ASCII case-insensitive). */
static bool ends_with_label(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n == s)
		return strcasecmp(name, suffix) == 0;
	return n > s && name[n - s - 1] == '.' && strcasecmp(name + n - s, suffix) == 0;
}

const char *check_hostname_bad(const char *name)
{
	static const char *const local[] = { "localhost", "localdomain", "local", "lan", "home", "internal",
					     "home.arpa", "invalid", "test", NULL };
	struct in_addr a;

	if (name == NULL || *name == '\0')
		return "no host name";
	if (inet_pton(AF_INET, name, &a) == 1)
		return "an address, not a name";
	if (!conf_host_ok(span_str(name)))
		return "not a valid host name (letters, digits and hyphens between dots)";
	if (strchr(name, '.') == NULL)
		return "a single label, not a fully qualified name";
	for (size_t i = 0; local[i] != NULL; i++)
		if (ends_with_label(name, local[i]))
			return "a name only this network knows";
	if (!conf_fqdn_ok(span_str(name)))
		return "not a fully qualified name";
	return NULL;
}

/* has_at - needle occurs in hay between separators (or at either end). */
static bool has_at(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
		bool left = p == hay || !((p[-1] >= '0' && p[-1] <= '9') || (p[-1] >= 'a' && p[-1] <= 'z'));
		char r = p[n];
		bool right = r == '\0' || !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z'));

		if (left && right)
			return true;
	}
	return false;
}

bool check_ptr_generic(const char *name, struct in_addr ip)
{
	static const char *const tokens[] = {
		"dyn", "dynamic", "dynip", "pool", "dhcp", "dsl", "adsl", "vdsl", "xdsl", "cable", "dialup",
		"dial", "dialin", "ppp", "pppoe", "broadband", "customer", "cust", "client", "clients",
		"residential", "subscriber", "user", "users", "nat", "unassigned", "unknown", NULL,
	};
	char low[CONF_HOST_MAX + 1], form[64];
	uint32_t h = ntohl(ip.s_addr);
	unsigned o[4] = { h >> 24, (h >> 16) & 255, (h >> 8) & 255, h & 255 };
	size_t n = strlen(name);

	if (n > CONF_HOST_MAX)
		return false;	/* not a host name at all: the caller judges that */
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	for (const char *sep = "-._"; *sep != '\0'; sep++) {
		(void)snprintf(form, sizeof form, "%u%c%u%c%u%c%u", o[0], *sep, o[1], *sep, o[2], *sep, o[3]);
		if (has_at(low, form))
			return true;
		(void)snprintf(form, sizeof form, "%u%c%u%c%u%c%u", o[3], *sep, o[2], *sep, o[1], *sep, o[0]);
		if (has_at(low, form))
			return true;
	}
	(void)snprintf(form, sizeof form, "%03u%03u%03u%03u", o[0], o[1], o[2], o[3]);
	if (strstr(low, form) != NULL)
		return true;
	(void)snprintf(form, sizeof form, "%08x", h);
	if (strstr(low, form) != NULL)
		return true;
	/* tokens: the letter runs of the name ("dsl" in "adsl-1.x", "dyn" in "dyn123") */
	for (const char *p = low; *p != '\0';) {
		size_t len = 0;

		while (p[len] >= 'a' && p[len] <= 'z')
			len++;
		for (size_t i = 0; len > 0 && tokens[i] != NULL; i++)
			if (strlen(tokens[i]) == len && memcmp(tokens[i], p, len) == 0)
				return true;
		p += len > 0 ? len : 1;
	}
	return false;
}

bool check_addr_private(struct in_addr ip)
{
	static const struct {
		uint32_t net;
		unsigned bits;
	} nets[] = {
		{ 0x0a000000, 8 },	/* 10/8, RFC 1918 */
		{ 0xac100000, 12 },	/* 172.16/12 */
		{ 0xc0a80000, 16 },	/* 192.168/16 */
		{ 0x64400000, 10 },	/* 100.64/10, RFC 6598 shared (CGNAT) */
		{ 0xa9fe0000, 16 },	/* 169.254/16, link-local */
	};
	uint32_t h = ntohl(ip.s_addr);

	for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
		if ((h & (~0U << (32 - nets[i].bits))) == nets[i].net)
			return true;
	return false;
}
