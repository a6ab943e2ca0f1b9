/*
 * auth.h - the smarthost credentials file: one "user password" line, root:postern 0640.
 *
 * postern refuses a credentials file that others could read or anyone but root could change, and says
 * why. auth_parse is pure (the file's bytes); auth_load does the checks and the read.
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <stddef.h>

#include "lib/err.h"

int auth_parse(const char *buf, size_t len, char **user, char **pass, struct err *e);
int auth_load(const char *path, char **user, char **pass, struct err *e);

#endif
