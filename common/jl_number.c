/*
 * jl_number.c - JavaScript number text: ToNumber, parseFloat, Number#toString.
 *
 * The grammar (what counts as a number at all) follows ECMA-262 and is
 * checked here by hand, because strtod() accepts things JavaScript does not
 * ("nan", "inf", hex floats, "0x" with a sign). The digits themselves are
 * converted by strtod() and printf(), which glibc rounds correctly; the
 * process never calls setlocale(), so the decimal point is always '.'.
 */
#include "jl_number.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t jl_space_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len == 0)
		return 0;
	if (u[0] == ' ' || (u[0] >= 0x09 && u[0] <= 0x0d))
		return 1;
	if (len >= 2 && u[0] == 0xc2 && u[1] == 0xa0) /* U+00A0 */
		return 2;
	if (len < 3)
		return 0;
	if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) /* U+1680 */
		return 3;
	if (u[0] == 0xe2 && u[1] == 0x80 &&
	    (u[2] <= 0x8a || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf)) {
		/* U+2000..U+200A, U+2028, U+2029, U+202F */
		return u[2] >= 0x80 ? 3 : 0;
	}
	if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) /* U+205F */
		return 3;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) /* U+3000 */
		return 3;
	if (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) /* U+FEFF */
		return 3;
	return 0;
}

static size_t skip_space(const char *s, size_t len, size_t i)
{
	size_t n;

	while (i < len && (n = jl_space_len(s + i, len - i)) > 0)
		i += n;
	return i;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The length of the longest StrDecimalLiteral at the start of s: an optional
 * sign, then "Infinity" or digits with an optional fraction and exponent.
 * 0 when there is none.
 */
static size_t scan_decimal(const char *s, size_t len)
{
	size_t i = 0, before = 0, after = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (len - i >= 8 && memcmp(s + i, "Infinity", 8) == 0)
		return i + 8;
	while (i < len && is_digit(s[i])) {
		i++;
		before++;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && is_digit(s[i])) {
			i++;
			after++;
		}
	}
	if (before + after == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < len && is_digit(s[j])) {
			while (j < len && is_digit(s[j]))
				j++;
			i = j; /* an exponent without digits is not part of the literal */
		}
	}
	return i;
}

/* strtod() on n bytes that scan_decimal() or the radix reader accepted. */
static double convert(const char *s, size_t n)
{
	char small[64];
	char *buf = n < sizeof(small) ? small : malloc(n + 1);
	double v;

	if (buf == NULL)
		abort();
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return v;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/*
 * Reads n digits of base 2, 8 or 16 (bits per digit 1, 3 or 4). They are
 * rewritten as a C hexadecimal constant so that strtod() does the rounding:
 * summing them in a double would round twice above 2^53.
 */
static double read_radix(const char *s, size_t n, int bits)
{
	size_t total = n * (size_t)bits;
	size_t pad = (4 - total % 4) % 4;
	size_t hexlen = (total + pad) / 4;
	char *hex = malloc(hexlen + 3);
	unsigned acc = 0;
	size_t have = pad, out = 2;
	double v;

	if (hex == NULL)
		abort();
	hex[0] = '0';
	hex[1] = 'x';
	for (size_t i = 0; i < n; i++) {
		int d = digit_value(s[i]);

		for (int b = bits - 1; b >= 0; b--) {
			acc = (acc << 1) | (unsigned)((d >> b) & 1);
			if (++have == 4) {
				hex[out++] = "0123456789abcdef"[acc];
				acc = 0;
				have = 0;
			}
		}
	}
	hex[out] = '\0';
	v = strtod(hex, NULL);
	free(hex);
	return v;
}

double jl_string_to_number(const char *s, size_t len)
{
	size_t i = skip_space(s, len, 0);
	size_t n;
	double v;

	if (i == len)
		return 0;
	if (s[i] == '0' && i + 1 < len && strchr("xXoObB", s[i + 1]) != NULL && s[i + 1] != '\0') {
		int base = (s[i + 1] | 0x20) == 'x' ? 16 : (s[i + 1] | 0x20) == 'o' ? 8 : 2;
		size_t start = i + 2;

		i = start;
		while (i < len && digit_value(s[i]) < base)
			i++;
		if (i == start || skip_space(s, len, i) != len)
			return NAN;
		return read_radix(s + start, i - start, base == 16 ? 4 : base == 8 ? 3 : 1);
	}
	n = scan_decimal(s + i, len - i);
	if (n == 0 || skip_space(s, len, i + n) != len)
		return NAN;
	v = convert(s + i, n);
	return v;
}

double jl_parse_float(const char *s, size_t len)
{
	size_t i = skip_space(s, len, 0);
	size_t n = scan_decimal(s + i, len - i);

	return n == 0 ? NAN : convert(s + i, n);
}

/*
 * The shortest decimal digits that read back as x (x > 0, finite), the way
 * ECMA-262 Number::toString asks: of the candidates with the fewest digits,
 * the closest to x. Digits go to out (no point, no trailing zeros); *point
 * is n in x = 0.d1d2...dk * 10^n. Returns k.
 *
 * printf's "%.*e" gives the correctly rounded candidate for each length; next
 * to a power of two the interval that reads back as x is lopsided, so the
 * decimal neighbours of that candidate are tried too before adding a digit.
 */
static int shortest_digits(double x, char *out, int *point)
{
	char buf[48];

	for (int p = 1; p <= 17; p++) {
		char digits[24];
		int exp10, k = 0;

		snprintf(buf, sizeof(buf), "%.*e", p - 1, x);
		for (const char *q = buf; *q && *q != 'e'; q++)
			if (is_digit(*q))
				digits[k++] = *q;
		exp10 = atoi(strchr(buf, 'e') + 1);
		if (strtod(buf, NULL) != x) {
			/* Try the next p-digit decimals above and below the candidate. */
			char up[24], down[24];
			int up_exp = exp10, down_exp = exp10;
			int i;

			memcpy(up, digits, (size_t)k);
			memcpy(down, digits, (size_t)k);
			for (i = k - 1; i >= 0 && up[i] == '9'; i--)
				up[i] = '0';
			if (i >= 0) {
				up[i]++;
			} else {
				up[0] = '1';
				up_exp++;
			}
			for (i = k - 1; i >= 0 && down[i] == '0'; i--)
				down[i] = '9';
			down[i]--; /* digits[0] is never '0', so i >= 0 here */
			if (down[0] == '0') {
				memset(down, '9', (size_t)k);
				down_exp--;
			}
			snprintf(buf, sizeof(buf), "%c.%.*se%d", up[0], k - 1, up + 1, up_exp);
			if (strtod(buf, NULL) == x) {
				memcpy(digits, up, (size_t)k);
				exp10 = up_exp;
			} else {
				snprintf(buf, sizeof(buf), "%c.%.*se%d", down[0], k - 1, down + 1, down_exp);
				if (strtod(buf, NULL) != x)
					continue;
				memcpy(digits, down, (size_t)k);
				exp10 = down_exp;
			}
		}
		while (k > 1 && digits[k - 1] == '0')
			k--;
		memcpy(out, digits, (size_t)k);
		*point = exp10 + 1;
		return k;
	}
	/* Seventeen significant digits always read back; not reached. */
	abort();
}

int jl_number_format(double x, char *out)
{
	char digits[24];
	int k, n, len = 0;

	if (isnan(x))
		return snprintf(out, JL_NUMBER_MAX, "NaN");
	if (x == 0)
		return snprintf(out, JL_NUMBER_MAX, "0"); /* -0 too */
	if (isinf(x))
		return snprintf(out, JL_NUMBER_MAX, x < 0 ? "-Infinity" : "Infinity");
	if (x < 0) {
		out[len++] = '-';
		x = -x;
	}
	/* Whole numbers below 2^53 are their own shortest representation. */
	if (x < 9007199254740992.0 && x == floor(x))
		return len + snprintf(out + len, JL_NUMBER_MAX - (size_t)len, "%.0f", x);

	k = shortest_digits(x, digits, &n);
	if (k <= n && n <= 21) {
		memcpy(out + len, digits, (size_t)k);
		len += k;
		memset(out + len, '0', (size_t)(n - k));
		len += n - k;
	} else if (0 < n && n <= 21) {
		memcpy(out + len, digits, (size_t)n);
		len += n;
		out[len++] = '.';
		memcpy(out + len, digits + n, (size_t)(k - n));
		len += k - n;
	} else if (-6 < n && n <= 0) {
		out[len++] = '0';
		out[len++] = '.';
		memset(out + len, '0', (size_t)-n);
		len += -n;
		memcpy(out + len, digits, (size_t)k);
		len += k;
	} else {
		out[len++] = digits[0];
		if (k > 1) {
			out[len++] = '.';
			memcpy(out + len, digits + 1, (size_t)(k - 1));
			len += k - 1;
		}
		len += snprintf(out + len, JL_NUMBER_MAX - (size_t)len, "e%c%d", n - 1 >= 0 ? '+' : '-',
				abs(n - 1));
	}
	out[len] = '\0';
	return len;
}
