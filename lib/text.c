/*
 * text.c - see text.h.
 *
 * TEXT_VIS writes what vis(3) writes with VIS_CSTYLE | VIS_NL | VIS_TAB | VIS_OCTAL | VIS_NOLOCALE,
 * byte for byte (test_text.c holds it to libbsd's nvis for every byte), without needing libbsd: the
 * front door links nothing but libc, and each library it loads costs every submission its time.
 */
#include "lib/text.h"

#include <stdio.h>
#include <string.h>

#define ESC_PAIR 2	/* a C-style escape table row: the byte and its letter */

#define TEXT_MORE "..."

/* vis_byte - c (not printable ASCII, or a backslash) as a C-style escape, else as "\ooo"; `next` is
 * the byte after it (a NUL before an octal digit must be written "\000"). Its length. */
static size_t vis_byte(char one[TEXT_PIECE_MAX], unsigned char c, unsigned char next)
{
	static const char cstyle[][ESC_PAIR] = {
		{ '\n', 'n' }, { '\r', 'r' }, { '\b', 'b' }, { '\a', 'a' }, { '\v', 'v' }, { '\t', 't' },
		{ '\f', 'f' }, { '\\', '\\' },
	};

	for (size_t i = 0; i < sizeof cstyle / sizeof cstyle[0]; i++)
		if (c == (unsigned char)cstyle[i][0]) {
			one[0] = '\\', one[1] = cstyle[i][1], one[2] = '\0';
			return 2;
		}
	if (c == '\0' && !(next >= '0' && next <= '7')) {
		one[0] = '\\', one[1] = '0', one[2] = '\0';
		return 2;
	}
	return (size_t)snprintf(one, TEXT_PIECE_MAX, "\\%03o", c);
}

/* piece - how src[i] is shown in mode m, into one[TEXT_PIECE_MAX]; its length (0: nothing). *gap
 * (TEXT_LINE): bytes were dropped after some kept text (`started`), so the next kept byte brings a
 * space along. */
static size_t piece(char one[TEXT_PIECE_MAX], const char *src, size_t n, size_t i, enum text_mode m,
		    bool *gap, bool started)
{
	unsigned char c = (unsigned char)src[i];
	bool plain = c >= 0x20 && c < 0x7f;
	size_t k = 0;

	switch (m) {
	case TEXT_VIS:
		if (!plain || c == '\\') {
			return vis_byte(one, c, i + 1 < n ? (unsigned char)src[i + 1] : '\0');
		}
		break;
	case TEXT_MARK:
		c = plain ? c : '?';
		break;
	case TEXT_MARK_8BIT:
		c = c < 0x20 || c == 0x7f ? '?' : c;
		break;
	case TEXT_LINE:
		if (!plain) {
			*gap = *gap || started;
			return 0;
		}
		if (*gap)
			one[k++] = ' ';
		*gap = false;
		break;
	}
	one[k++] = (char)c;
	one[k] = '\0';
	return k;
}

/* text_safe - see text.h */
size_t text_safe(char *dst, size_t dstsz, const char *src, size_t n, enum text_mode m)
{
	const size_t nmore = sizeof TEXT_MORE - 1;
	char one[TEXT_PIECE_MAX];
	size_t len = 0, total = 0, reserve = 0, i, k;
	bool gap = false;

	if (dstsz == 0)
		return 0;
	if (m == TEXT_VIS) {	/* a cut text says so: measure first, to keep room for the marker */
		for (i = 0; i < n && total < dstsz; i++)
			total += piece(one, src, n, i, m, &gap, false);
		if (total + 1 > dstsz && dstsz > nmore)
			reserve = nmore;
	}
	for (i = 0; i < n; i++) {
		k = piece(one, src, n, i, m, &gap, len > 0);
		if (len + k + reserve + 1 > dstsz)
			break;
		memcpy(dst + len, one, k);
		len += k;
	}
	if (reserve != 0) {
		memcpy(dst + len, TEXT_MORE, nmore);
		len += nmore;
	}
	dst[len] = '\0';
	return len;
}

/* text_safe_add - see text.h */
int text_safe_add(struct buf *b, const char *src, size_t n, enum text_mode m)
{
	char one[TEXT_PIECE_MAX];
	bool gap = false, started = false;
	int bad = 0;

	for (size_t i = 0; i < n && bad == 0; i++) {
		size_t k = piece(one, src, n, i, m, &gap, started);

		started = started || k > 0;
		bad = k > 0 ? buf_add(b, one, k) : 0;
	}
	return bad < 0 ? -1 : 0;
}

/* utf8_len - the length of the valid UTF-8 sequence at s (n bytes left), or 0 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)))
		return 0;
	return len;
}

/* text_json_add - see text.h */
int text_json_add(struct buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, l;
	int bad = buf_addc(out, '"');

	while (i < n) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '\\')
			bad |= buf_printf(out, "\\%c", ch);
		else if (ch == '\n')
			bad |= buf_adds(out, "\\n");
		else if (ch == '\t')
			bad |= buf_adds(out, "\\t");
		else if (ch == '\r')
			bad |= buf_adds(out, "\\r");
		else if (ch < 0x20 || ch == 0x7f)
			bad |= buf_printf(out, "\\u%04x", ch);
		else if ((l = utf8_len(s + i, n - i)) == 0)
			bad |= buf_printf(out, "\\u%04x", ch);	/* not UTF-8: the byte's value */
		else {
			bad |= buf_add(out, str + i, l);
			i += l;
			continue;
		}
		i++;
	}
	bad |= buf_addc(out, '"');
	return bad ? -1 : 0;
}

/* text_printable - see text.h */
bool text_printable(const char *s, size_t n, unsigned allow)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > 0x20 && c < 0x7f)
			continue;
		if (!(c == ' ' && (allow & TEXT_P_SPACE)) && !(c >= 0x80 && (allow & TEXT_P_8BIT)))
			return false;
	}
	return true;
}

/* text_has_8bit - see text.h */
bool text_has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}
