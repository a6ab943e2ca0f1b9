/*
 * check_rec.h - the pure decisions of `postern check`: what a host name, a PTR name and an address
 * say about the host mail leaves from.
 *
 * Untrusted input: PTR names from DNS (any bytes lib/dns lets through: printable ASCII, no '.' or
 * '\' inside a label) and the configured hostname. Nothing here does I/O; every function is
 * table-tested in tests/unit/test_check_rec.c.
 */
#ifndef POSTERN_CHECK_REC_H
#define POSTERN_CHECK_REC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* check_hostname_bad - why `name` is no name to send mail under (HELO, Message-ID, From), or NULL
 * when it is a fully qualified LDH name: not localhost, not one label, not under .localdomain,
 * .local, .lan, .home, .internal or .localhost, not an address literal. */
const char *check_hostname_bad(const char *name);

/* check_ptr_generic - whether a PTR name looks like a provider's generic name for an address
 * rather than a host's own: the address's four numbers in either order (separated by '-', '.' or
 * '_', or zero-padded and run together), its eight hex digits, or a token such as dyn, dynamic,
 * pool, dhcp, dsl, cable, dialup, ppp, broadband or customer between the separators. */
bool check_ptr_generic(const char *name, struct in_addr ip);

/* check_addr_private - a private (RFC 1918), shared (RFC 6598 CGNAT) or link-local address:
 * one a receiver never sees, because NAT stands in between. */
bool check_addr_private(struct in_addr ip);

#endif
