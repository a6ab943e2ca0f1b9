/*
 * keygen.h - the admin subcommands `postern dkim-keygen` and `postern dkim-record`.
 *
 *   dkim-keygen DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] [--out FILE] [--force]
 *	make a key (default RSA 2048) at FILE (default SYSCONFDIR/postern/dkim/SELECTOR.DOMAIN.key,
 *	root:postern 0640) and print the config line and the DNS record to publish.
 *   dkim-record DOMAIN SELECTOR [--key FILE]
 *	print the DNS record of a configured key (the `dkim` line of postern.conf, or FILE).
 *
 * Untrusted input: argv (an administrator's, but checked: the domain and selector end up in a path
 * and in DNS). argv[0] is the subcommand's name. Results are sysexits codes: 0, 64 (usage), 78
 * (configuration: unknown key, bad key file), 73 (cannot create the key).
 */
#ifndef POSTERN_KEYGEN_H
#define POSTERN_KEYGEN_H

#include <stdio.h>

#include "conf/config.h"

/* keygen_main - `dkim-keygen`; c may be NULL (only c->path is used, for the message). */
int keygen_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf);

/* keyrecord_main - `dkim-record`; the key comes from c->dkim unless --key is given. */
int keyrecord_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf);

#endif
