/*
 * utf8.c - well-formed UTF-8 (RFC 3629), one character at a time: templates
 * are checked with it when they load, and the delivery code with it before
 * a text goes into a header or a message part labelled UTF-8.
 */
#include "utf8.h"

size_t utf8_char_len(const char *p, size_t avail)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned long cp;
	size_t n;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong three- and four-byte forms, UTF-16 surrogates, beyond Unicode. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}
