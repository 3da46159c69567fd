/*
 * utf8.h - well-formed UTF-8, one character at a time.
 */
#ifndef WF_UTF8_H
#define WF_UTF8_H

#include <stddef.h>

/*
 * The length of the valid UTF-8 character at p (1 to 4), looking at no more
 * than avail bytes; 0 when the bytes there are not valid UTF-8 (overlong
 * forms, surrogates, code points past U+10FFFF, or cut short by avail).
 */
size_t utf8_char_len(const char *p, size_t avail);

#endif
