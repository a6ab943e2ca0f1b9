/*
 * hdr.c - the header section: split into fields, look up, unfold, fold (see hdr.h for the contract).
 *
 * Untrusted input: the caller's header section after msg.c normalised its line ends. The parser only
 * records where each field starts and ends; it never copies or rewrites a byte, so what DKIM signs is
 * what the caller wrote. Folding functions write new bytes and never produce a line over LIM_LINE.
 */
#include "lib/hdr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/limits.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

enum hdr_line hdr_line_kind(const char *p, size_t n, bool complete)
{
	size_t i;

	if (n == 0)
		return complete ? HDR_LINE_EMPTY : HDR_LINE_MORE;
	if (is_wsp(p[0]))
		return HDR_LINE_CONT;
	for (i = 0; i < n && i <= HDR_NAME_MAX; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == ':')
			return i > 0 ? HDR_LINE_FIELD : HDR_LINE_OTHER;
		if (is_wsp((char)c) && i > 0) {	/* obsolete: white space between the name and the colon */
			size_t k = i;

			while (k < n && k <= HDR_NAME_MAX && is_wsp(p[k]))
				k++;
			if (k < n && p[k] == ':')
				return HDR_LINE_OBS_FIELD;
			if (k >= n && !complete && k <= HDR_NAME_MAX)
				return HDR_LINE_MORE;
			return HDR_LINE_OTHER;
		}
		if (c < 33 || c > 126)
			return HDR_LINE_OTHER;
	}
	if (i > HDR_NAME_MAX)
		return HDR_LINE_OTHER;	/* no colon within HDR_NAME_MAX + 1 octets */
	return complete ? HDR_LINE_OTHER : HDR_LINE_MORE;
}

/* bad - fail hdr_parse: free what was built, report the line. */
static int bad(struct hdr_field **out, size_t *n, struct err *e, const char *why, size_t line)
{
	free(*out);
	*out = NULL;
	*n = 0;
	return err_set(e, EX_DATAERR, "%s (header line %zu)", why, line);
}

int hdr_parse(const char *buf, size_t len, struct hdr_field **out, size_t *n, struct err *e)
{
	size_t i = 0, line = 0, cap = 0;

	*out = NULL;
	*n = 0;
	while (i < len) {
		size_t j = i;
		line++;
		while (j < len && buf[j] != '\r' && buf[j] != '\n' && buf[j] != '\0')
			j++;
		if (j < len && buf[j] == '\0')
			return bad(out, n, e, "NUL byte in the header section", line);
		if (j == len)
			return bad(out, n, e, "header section does not end with CRLF", line);
		if (buf[j] == '\n' || j + 1 == len || buf[j + 1] != '\n')
			return bad(out, n, e, "bare CR or LF in the header section", line);
		switch (hdr_line_kind(buf + i, j - i, true)) {
		case HDR_LINE_EMPTY:
			return bad(out, n, e, "empty line inside the header section", line);
		case HDR_LINE_CONT:
			if (*n == 0)
				return bad(out, n, e, "continuation line before any header field", line);
			(*out)[*n - 1].len += j + 2 - i;
			break;
		case HDR_LINE_FIELD:
			if (*n == LIM_HEADER_FIELDS)
				return bad(out, n, e, "too many header fields", line);
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xreallocarray(*out, cap, sizeof **out);
			}
			(*out)[*n].raw = buf + i;
			(*out)[*n].len = j + 2 - i;
			(*out)[*n].name_len = (size_t)((const char *)memchr(buf + i, ':', j - i) - (buf + i));
			(*n)++;
			break;
		default:
			return bad(out, n, e, "not a header field", line);
		}
		i = j + 2;
	}
	return 0;
}

bool hdr_name_is(const struct hdr_field *f, const char *name)
{
	size_t nl = strlen(name);

	return f->name_len == nl && strncasecmp(f->raw, name, nl) == 0;
}

const struct hdr_field *hdr_find(const struct hdr_field *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hdr_name_is(&f[i], name))
			return &f[i];
	return NULL;
}

size_t hdr_count(const struct hdr_field *f, size_t n, const char *name)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += hdr_name_is(&f[i], name);
	return c;
}

struct span hdr_value(const struct hdr_field *f)
{
	size_t end = f->len;

	if (end >= 2 && f->raw[end - 2] == '\r' && f->raw[end - 1] == '\n')
		end -= 2;
	return span_make(f->raw + f->name_len + 1, end - f->name_len - 1);
}

int hdr_unfold(struct span v, struct buf *out)
{
	size_t i, st = 0;

	for (i = 0; i + 2 < v.n; i++) {
		if (v.p[i] == '\r' && v.p[i + 1] == '\n' && is_wsp(v.p[i + 2])) {
			if (buf_add(out, v.p + st, i - st) < 0)
				return -1;
			st = i + 2;
			i++;
		}
	}
	return buf_add(out, v.p + st, v.n - st);
}

/* undo - truncate out back to len after a failed append; returns -1. */
static int undo(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
	return -1;
}

int hdr_fold(const char *name, const char *value, size_t vlen, struct buf *out)
{
	size_t orig = out->len, nl = strlen(name), col, i = 0;
	bool first = true;
	int r = 0;

	if (nl == 0 || nl > HDR_NAME_MAX)
		return -1;
	for (i = 0; i < nl; i++)
		if ((unsigned char)name[i] < 33 || (unsigned char)name[i] > 126 || name[i] == ':')
			return -1;
	for (i = 0; i < vlen; i++)
		if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
			return -1;
	r |= buf_add(out, name, nl) | buf_addc(out, ':');
	col = nl + 1;
	if (vlen > 0 && !is_wsp(value[0])) {
		r |= buf_addc(out, ' ');
		col++;
	}
	i = 0;
	while (i < vlen) {
		size_t ws = i, w;
		while (i < vlen && is_wsp(value[i]))
			i++;
		w = i;
		while (i < vlen && !is_wsp(value[i]))
			i++;
		/* fold before the whitespace of a word that would pass the width; never before the first
		 * word (it belongs on the name's line) nor before trailing whitespace */
		if (!first && w < i && col + (i - ws) > HDR_FOLD_WIDTH) {
			r |= buf_add(out, "\r\n", 2);
			col = 0;
		}
		r |= buf_add(out, value + ws, i - ws);
		col += i - ws;
		first = false;
		if (col > LIM_LINE || r < 0)
			return undo(out, orig);
	}
	if (buf_add(out, "\r\n", 2) < 0 || r < 0)
		return undo(out, orig);
	return 0;
}

int hdr_fold_line(const char *line, size_t len, struct buf *out)
{
	size_t orig = out->len, pos = 0, last = len;

	while (last > 0 && is_wsp(line[last - 1]))
		last--;	/* line[last - 1] is the last non-whitespace octet */
	while (len - pos > LIM_LINE) {
		size_t b;
		/* the latest whitespace run that starts within reach, has a word before it on this piece
		 * and a word after it: the continuation then starts with whitespace and is not blank */
		for (b = pos + LIM_LINE; b > pos; b--)
			if (is_wsp(line[b]) && !is_wsp(line[b - 1]) && b < last)
				break;
		if (b == pos)
			return undo(out, orig);
		if (buf_add(out, line + pos, b - pos) < 0 || buf_add(out, "\r\n", 2) < 0)
			return undo(out, orig);
		pos = b;
	}
	if (buf_add(out, line + pos, len - pos) < 0)
		return undo(out, orig);
	return 0;
}
