/*
 * aliases.h - the aliases table: `name: addr, addr` (sendmail/Postfix syntax), expanded recursively.
 *
 * Syntax: `#` starts a comment line; a line starting with a space or tab continues the previous entry;
 * names are case-insensitive ([A-Za-z0-9._+=-], at most 64); values are comma-separated addresses
 * (local@domain, optionally in <>) or bare names (other aliases, or local names the caller completes
 * with @domain). `|command`, `/file` and `:include:` are errors: postern never delivers locally.
 * Untrusted input: the file's bytes. aliases_parse is pure.
 * Errors: "FILE:LINE: reason" with EX_CONFIG (78); expansion loops and chains deeper than
 * ALIASES_DEPTH are errors too (EX_CONFIG), found for every entry by aliases_check (newaliases).
 */
#ifndef POSTERN_ALIASES_H
#define POSTERN_ALIASES_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

/* Longest chain of aliases followed from one name (name -> alias -> ... -> address). */
#define ALIASES_DEPTH 10

struct aliases;

/* aliases_parse - parse a whole file's bytes; `name` is used in messages. *out is freed by the caller. */
int aliases_parse(const char *buf, size_t len, const char *name, struct aliases **out, struct err *e);

/* aliases_load - read and parse `path` (at most LIM_ALIASES_FILE). A missing file is an empty table. */
int aliases_load(const char *path, struct aliases **out, struct err *e);

/* aliases_expand - the final addresses of bare `name` (case-insensitive): each contains '@' or is a bare
 * name without an alias entry (the caller appends @domain). Duplicates removed, order of first
 * appearance kept. A name without an alias gives 0 with *out = NULL, *nout = 0. *out is an array of
 * owned strings; free each and the array. */
int aliases_expand(const struct aliases *a, const char *name, char ***out, size_t *nout, struct err *e);

/* aliases_check - for newaliases: every entry expands without a loop or an over-deep chain. Appends
 * "N aliases" (no newline) to report. */
int aliases_check(const struct aliases *a, struct buf *report, struct err *e);

/* aliases_count - the number of entries. */
size_t aliases_count(const struct aliases *a);

/* aliases_free - release the table; aliases_free(NULL) is a no-op. */
void aliases_free(struct aliases *a);

#endif
