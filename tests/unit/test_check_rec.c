/* test_check_rec.c - the pure decisions of `postern check`: host names, generic PTRs, NAT addresses. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "conf/check_rec.h"

Test(check_rec, hostname)
{
	static const struct {
		const char *name;
		bool bad;
	} rows[] = {
		{ "mail.example.org", false },
		{ "MX1.Example.ORG", false },
		{ "a-b.c-d.example", false },
		{ "vm", true },			/* one label: EHLO vm, Message-ID @vm */
		{ "localhost", true },
		{ "localhost.localdomain", true },
		{ "mail.localdomain", true },
		{ "nas.local", true },
		{ "box.lan", true },
		{ "router.home", true },
		{ "db.internal", true },
		{ "192.0.2.1", true },
		{ "mail.example.123", true },	/* all-digit top label */
		{ "-mail.example.org", true },
		{ "mail_1.example.org", true },
		{ "mail..example.org", true },
		{ "", true },
		{ NULL, true },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(check_hostname_bad(rows[i].name) != NULL, rows[i].bad, "row %zu: %s", i,
		    rows[i].name ? rows[i].name : "(null)");
}

Test(check_rec, ptr_generic)
{
	static const struct {
		const char *name, *ip;
		bool generic;
	} rows[] = {
		{ "127-0-0-90.dyn.isp.test", "127.0.0.90", true },
		{ "host-203-0-113-5.example.net", "203.0.113.5", true },
		{ "5.113.0.203.in-addr.example", "203.0.113.5", true },	/* reversed */
		{ "c-203-0-113-5.hsd1.example.net", "203.0.113.5", true },
		{ "static.5.113.0.203.clients.your-server.example", "203.0.113.5", true },
		{ "ec2_203_0_113_5.compute.example", "203.0.113.5", true },
		{ "host203000113005.example.net", "203.0.113.5", true },	/* zero-padded */
		{ "ipcb007105.dynamic.example", "203.0.113.5", true },	/* hex, and a token */
		{ "ipcb007105.example", "203.0.113.5", true },		/* hex alone */
		{ "adsl-1.example.net", "203.0.113.5", true },
		{ "pool-77.example.net", "203.0.113.5", true },
		{ "dhcp1234.example.net", "203.0.113.5", true },
		{ "cpe.cable.example.net", "203.0.113.5", true },
		{ "ppp.example.net", "203.0.113.5", true },
		{ "mail.example.org", "203.0.113.5", false },
		{ "mx1.example.org", "203.0.113.5", false },
		{ "smtp-out.example.org", "203.0.113.5", false },
		{ "mail.postern.example", "127.0.0.1", false },
		{ "vps203.example.org", "203.0.113.5", false },	/* one number is not the address */
		{ "mail.natwest.example", "203.0.113.5", false },	/* "nat" inside a word */
		{ "dynamo.example.org", "203.0.113.5", false },	/* "dyn" inside a word */
		{ "1203-0-113-5.example", "203.0.113.5", false },	/* another address's digits */
		{ "203-0-113-51.example", "203.0.113.5", false },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct in_addr ip;

		cr_assert_eq(inet_pton(AF_INET, rows[i].ip, &ip), 1);
		cr_expect_eq(check_ptr_generic(rows[i].name, ip), rows[i].generic, "row %zu: %s", i, rows[i].name);
	}
}

Test(check_rec, addr_private)
{
	static const struct {
		const char *ip;
		bool priv;
	} rows[] = {
		{ "10.1.2.3", true }, { "172.16.0.1", true }, { "172.31.255.255", true }, { "172.32.0.1", false },
		{ "192.168.1.10", true }, { "192.169.0.1", false }, { "100.64.0.1", true }, { "100.127.255.254", true },
		{ "100.128.0.1", false }, { "169.254.1.1", true }, { "203.0.113.5", false }, { "127.0.0.1", false },
		{ "8.8.8.8", false },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct in_addr ip;

		cr_assert_eq(inet_pton(AF_INET, rows[i].ip, &ip), 1);
		cr_expect_eq(check_addr_private(ip), rows[i].priv, "row %zu: %s", i, rows[i].ip);
	}
}
