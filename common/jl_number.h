/*
 * jl_number.h - numbers exactly as JavaScript reads and prints them, for the
 * JSON Logic evaluator (jsonlogic.h).
 *
 * Users test their rules against json-logic-js, so "1" + 1, Number("0x10")
 * and the text of 1e21 or 0.1 + 0.2 have to come out as they do in a
 * browser. Nothing here allocates on the heap except for very long inputs.
 */
#ifndef WF_JL_NUMBER_H
#define WF_JL_NUMBER_H

#include <stddef.h>

/* Room for the longest text jl_number_format() writes, with its NUL. */
#define JL_NUMBER_MAX 32

/*
 * Writes x as Number.prototype.toString() does: the shortest digits that
 * read back as x, "1" not "1.0", "1e+21", "1.5e-7", "-0" as "0", "NaN",
 * "Infinity". out needs JL_NUMBER_MAX bytes. Returns the length written.
 */
int jl_number_format(double x, char *out);

/*
 * JavaScript's ToNumber applied to a string of len bytes (UTF-8): white space
 * around it is ignored, "" is 0, "0x1f", "0o17" and "0b101" are read in
 * their base, "Infinity" is read, anything else that is not a whole decimal
 * literal is NaN.
 */
double jl_string_to_number(const char *s, size_t len);

/*
 * JavaScript's parseFloat on a string: the longest decimal literal at the
 * start (after white space), NaN when there is none. "12px" is 12.
 */
double jl_parse_float(const char *s, size_t len);

/*
 * The number of bytes of JavaScript white space or line terminator at s
 * (len bytes available), or 0 when s does not start with one.
 */
size_t jl_space_len(const char *s, size_t len);

#endif
