/*
 * text.h - questions about untrusted text that several rooms ask: does it hold 8-bit octets.
 *
 * Untrusted input: any bytes (NUL included), given as (pointer, length). Errors: none. Pure.
 */
#ifndef POSTERN_TEXT_H
#define POSTERN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* text_has_8bit - an octet >= 0x80 in p[0..n): the text needs 8BITMIME (or an encoding) to travel. */
bool text_has_8bit(const char *p, size_t n);

#endif
