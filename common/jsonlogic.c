/*
 * jsonlogic.c - the JSON Logic evaluator: values, JavaScript coercions, the
 * operators of json-logic-js, the extra date operators, the static checker
 * and the JSON printer.
 *
 * Values are small structs passed by value. Strings, arrays and objects that
 * come from the rule or the data are views of the caller's cJSON nodes and
 * are never copied; what a rule builds (a new array, a joined string) lives
 * in a reference-counted block. This keeps a condition cheap to evaluate and
 * also keeps JavaScript's object identity: {"var":"a"} fetched twice is the
 * same object (=== is true), two array literals are two objects.
 *
 * Strings are UTF-8, or WTF-8 once substr cuts a surrogate pair in half, so
 * that lengths, indexes and comparisons count UTF-16 code units as
 * JavaScript does.
 */
#include "jsonlogic.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jl_number.h"
#include "jl_time.h"
#include "log.h"
#include "wftime.h"

/* Building or comparing this many string bytes costs one operation. */
#define BYTES_PER_OP 16

/* ------------------------------------------------------------------ */
/* Values                                                               */

typedef enum { V_NULL, V_BOOL, V_NUM, V_STR, V_ARR, V_OBJ } kind_t;

typedef struct block block_t;

typedef struct {
	kind_t kind;
	bool b;
	double n;
	const char *s;	   /* V_STR: bytes, NUL-terminated */
	size_t len;	   /* V_STR: byte length */
	const cJSON *node; /* V_ARR, V_OBJ: a view of a rule or data node */
	block_t *blk;	   /* built during evaluation; NULL for views and scalars */
} val_t;

/*
 * A value built during evaluation. Arrays hold their items; the only objects
 * a rule can build are reduce's {"current", "accumulator"}, two items.
 */
struct block {
	int refs;
	int depth; /* nesting of containers, for JL_MAX_DEPTH */
	size_t n, cap;
	val_t *items;
	char text[]; /* V_STR */
};

static const val_t null_val = { .kind = V_NULL };

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static val_t num_val(double n)
{
	val_t v = { .kind = V_NUM, .n = n };

	return v;
}

static val_t bool_val(bool b)
{
	val_t v = { .kind = V_BOOL, .b = b };

	return v;
}

/* A view of a cJSON node; nothing is copied. */
static val_t node_val(const cJSON *node)
{
	val_t v = { .kind = V_NULL };

	switch (node->type & 0xff) {
	case cJSON_False:
		return bool_val(false);
	case cJSON_True:
		return bool_val(true);
	case cJSON_Number:
		return num_val(node->valuedouble);
	case cJSON_String:
		v.kind = V_STR;
		v.s = node->valuestring ? node->valuestring : "";
		v.len = strlen(v.s);
		return v;
	case cJSON_Array:
		v.kind = V_ARR;
		v.node = node;
		return v;
	case cJSON_Object:
		v.kind = V_OBJ;
		v.node = node;
		return v;
	default:
		return v;
	}
}

/* A second reference to v; release both. */
static val_t val_dup(const val_t *v)
{
	if (v->blk)
		v->blk->refs++;
	return *v;
}

static void val_release(val_t *v)
{
	block_t *b = v->blk;

	if (b != NULL && --b->refs == 0) {
		for (size_t i = 0; i < b->n; i++)
			val_release(&b->items[i]);
		free(b->items);
		free(b);
	}
	v->blk = NULL;
	v->kind = V_NULL;
}

static int val_depth(const val_t *v)
{
	if (v->blk)
		return v->blk->depth;
	return v->kind == V_ARR || v->kind == V_OBJ ? 1 : 0;
}

/* Identity of an array or object, for === and "in". */
static const void *identity(const val_t *v)
{
	return v->blk ? (const void *)v->blk : (const void *)v->node;
}

static size_t arr_len(const val_t *v)
{
	size_t n = 0;

	if (v->blk)
		return v->blk->n;
	for (const cJSON *c = v->node->child; c; c = c->next)
		n++;
	return n;
}

static bool arr_empty(const val_t *v)
{
	return v->blk ? v->blk->n == 0 : v->node->child == NULL;
}

/* Walks the items of an array value, view or block alike; items are borrowed. */
typedef struct {
	const cJSON *next;
	const block_t *blk;
	size_t i;
} iter_t;

static void iter_init(iter_t *it, const val_t *arr)
{
	it->blk = arr->blk;
	it->next = arr->blk ? NULL : arr->node->child;
	it->i = 0;
}

static bool iter_next(iter_t *it, val_t *item)
{
	if (it->blk) {
		if (it->i >= it->blk->n)
			return false;
		*item = it->blk->items[it->i++];
		return true;
	}
	if (it->next == NULL)
		return false;
	*item = node_val(it->next);
	it->next = it->next->next;
	return true;
}

/* ------------------------------------------------------------------ */
/* Evaluation context: errors, budget, clock                           */

typedef struct {
	const jl_options_t *opts;
	long ops_left;
	long max_ops;
	char *err;
	size_t errlen;
	int code;
	bool have_now;
	int64_t now_ms;
} ctx_t;

static int fail(ctx_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ctx_t *c, int code, const char *fmt, ...)
{
	va_list ap;

	/* The first error is the cause; later ones are its consequences. */
	if (c->code == 0) {
		c->code = code;
		if (c->err && c->errlen) {
			va_start(ap, fmt);
			vsnprintf(c->err, c->errlen, fmt, ap);
			va_end(ap);
		}
	}
	return code;
}

static int spend(ctx_t *c, long n)
{
	c->ops_left -= n;
	if (c->ops_left < 0)
		return fail(c, -E2BIG, "rule exceeds its budget of %ld operations", c->max_ops);
	return 0;
}

/* A UTF-8 continuation byte. */
static bool is_cont(unsigned char b)
{
	return (b & 0xc0) == 0x80;
}

/* An operator name fit for a one-line message: short, no control characters. */
static const char *printable(const char *name, char *buf, size_t size)
{
	size_t i = 0;

	for (; name[i] && i + 4 < size; i++)
		buf[i] = (unsigned char)name[i] < 0x20 ? '?' : name[i];
	if (name[i]) {
		/* Cut at a character boundary, then mark the cut. */
		while (i > 0 && is_cont((unsigned char)name[i]))
			i--;
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Strings: WTF-8 and UTF-16 code units                                */

/*
 * Decodes one code point at s (n > 0 bytes left) and returns the bytes it
 * takes. Encoded surrogates (ED A0..BF xx) are accepted, as WTF-8 allows. A
 * byte that starts no valid sequence counts as one U+FFFD, as a browser's
 * decoder would have made it.
 */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char b = s[0];

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf && n >= 2 && is_cont(s[1])) {
		*cp = (uint32_t)(b & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (b >= 0xe0 && b <= 0xef && n >= 3 && is_cont(s[1]) && is_cont(s[2]) &&
	    (b != 0xe0 || s[1] >= 0xa0)) {
		*cp = (uint32_t)(b & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	if (b >= 0xf0 && b <= 0xf4 && n >= 4 && is_cont(s[1]) && is_cont(s[2]) && is_cont(s[3]) &&
	    (b != 0xf0 || s[1] >= 0x90) && (b != 0xf4 || s[1] < 0x90)) {
		*cp = (uint32_t)(b & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		      (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd;
	return 1;
}

static size_t utf16_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t units = 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;

		if (u[i] < 0x80) {
			units++;
			i++;
			continue;
		}
		i += decode(u + i, len - i, &cp);
		units += cp >= 0x10000 ? 2 : 1;
	}
	return units;
}

/* Yields the UTF-16 code units of a string one by one. */
typedef struct {
	const unsigned char *s;
	size_t len, i;
	int low; /* the second half of a pair, still to come; -1: none */
} units_t;

static void units_init(units_t *u, const val_t *str)
{
	u->s = (const unsigned char *)str->s;
	u->len = str->len;
	u->i = 0;
	u->low = -1;
}

/* The next unit, or -1 at the end. */
static int units_next(units_t *u)
{
	uint32_t cp;

	if (u->low >= 0) {
		int unit = u->low;

		u->low = -1;
		return unit;
	}
	if (u->i >= u->len)
		return -1;
	u->i += decode(u->s + u->i, u->len - u->i, &cp);
	if (cp < 0x10000)
		return (int)cp;
	cp -= 0x10000;
	u->low = (int)(0xdc00 | (cp & 0x3ff));
	return (int)(0xd800 | (cp >> 10));
}

/* -1, 0 or 1 as JavaScript orders the two strings (by UTF-16 code units). */
static int compare_units(const val_t *a, const val_t *b)
{
	units_t ua, ub;

	units_init(&ua, a);
	units_init(&ub, b);
	for (;;) {
		int x = units_next(&ua), y = units_next(&ub);

		if (x != y)
			return x < y ? -1 : 1;
		if (x < 0)
			return 0;
	}
}

/* Whether a string holds an encoded surrogate (half of a pair cut by substr). */
static bool has_surrogate(const val_t *str)
{
	const char *p = str->s, *end = str->s + str->len;

	while ((p = memchr(p, 0xed, (size_t)(end - p))) != NULL && end - p >= 2) {
		if ((unsigned char)p[1] >= 0xa0)
			return true;
		p++;
	}
	return false;
}

/* A growing byte buffer. */
typedef struct {
	char *buf;
	size_t len, cap;
} sb_t;

static void sb_raw(sb_t *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 64;

		while (cap < sb->len + n + 1)
			cap *= 2;
		sb->buf = xrealloc(sb->buf, cap);
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static void sb_str(sb_t *sb, const char *s)
{
	sb_raw(sb, s, strlen(s));
}

static void sb_free(sb_t *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

static bool is_high_surrogate(const char *p)
{
	return (unsigned char)p[0] == 0xed && (unsigned char)p[1] >= 0xa0 && (unsigned char)p[1] <= 0xaf;
}

static bool is_low_surrogate(const char *p)
{
	return (unsigned char)p[0] == 0xed && (unsigned char)p[1] >= 0xb0;
}

/*
 * Appends string bytes to a string being built, within JL_MAX_STRING and the
 * budget. Two halves of a surrogate pair that meet here become one 4-byte
 * character, so that equal JavaScript strings always have equal bytes.
 */
static int sb_add(ctx_t *c, sb_t *sb, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (sb->len + n > JL_MAX_STRING)
		return fail(c, -E2BIG, "rule builds a string longer than %d bytes", JL_MAX_STRING);
	if (spend(c, (long)(n / BYTES_PER_OP)) < 0)
		return c->code;
	if (sb->len >= 3 && n >= 3 && is_high_surrogate(sb->buf + sb->len - 3) && is_low_surrogate(s)) {
		const unsigned char *h = (const unsigned char *)sb->buf + sb->len - 3;
		uint32_t hi = (uint32_t)(h[0] & 0x0f) << 12 | (uint32_t)(h[1] & 0x3f) << 6 | (h[2] & 0x3f);
		uint32_t lo = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		uint32_t cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		char four[4] = {
			(char)(0xf0 | (cp >> 18)), (char)(0x80 | ((cp >> 12) & 0x3f)),
			(char)(0x80 | ((cp >> 6) & 0x3f)), (char)(0x80 | (cp & 0x3f)),
		};

		sb->len -= 3;
		sb_raw(sb, four, 4);
		s += 3;
		n -= 3;
	}
	sb_raw(sb, s, n);
	return 0;
}

/* The built string as a value; the builder is emptied. */
static val_t sb_value(sb_t *sb)
{
	block_t *b = xmalloc(sizeof(*b) + sb->len + 1);
	val_t v = { .kind = V_STR };

	memset(b, 0, sizeof(*b));
	b->refs = 1;
	memcpy(b->text, sb->buf ? sb->buf : "", sb->len);
	b->text[sb->len] = '\0';
	v.s = b->text;
	v.len = sb->len;
	v.blk = b;
	sb_free(sb);
	return v;
}

static val_t str_val(const char *s, size_t n)
{
	sb_t sb = { 0 };

	sb_raw(&sb, s, n);
	return sb_value(&sb);
}

/* Appends the UTF-16 code units [from, to) of str, splitting a pair if the range cuts it. */
static int add_units(ctx_t *c, sb_t *sb, const val_t *str, size_t from, size_t to)
{
	const unsigned char *s = (const unsigned char *)str->s;
	size_t unit = 0;

	for (size_t i = 0; i < str->len && unit < to;) {
		uint32_t cp;
		size_t n = decode(s + i, str->len - i, &cp);
		int rc = 0;

		if (cp < 0x10000) {
			if (unit >= from)
				rc = sb_add(c, sb, str->s + i, n);
			unit++;
		} else {
			bool hi = unit >= from, lo = unit + 1 >= from && unit + 1 < to;

			if (hi && lo) {
				rc = sb_add(c, sb, str->s + i, n);
			} else if (hi || lo) {
				uint32_t half = hi ? 0xd800 | ((cp - 0x10000) >> 10) : 0xdc00 | ((cp - 0x10000) & 0x3ff);
				char three[3] = { (char)(0xe0 | (half >> 12)), (char)(0x80 | ((half >> 6) & 0x3f)),
						  (char)(0x80 | (half & 0x3f)) };

				rc = sb_add(c, sb, three, 3);
			}
			unit += 2;
		}
		if (rc < 0)
			return rc;
		i += n;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Arrays built during evaluation                                      */

static val_t new_array(size_t cap)
{
	block_t *b = xmalloc(sizeof(*b));
	val_t v = { .kind = V_ARR };

	/* A size hint from the data could be huge; push() grows the rest. */
	if (cap > 1024)
		cap = 1024;
	memset(b, 0, sizeof(*b));
	b->refs = 1;
	b->depth = 1;
	b->cap = cap;
	b->items = cap ? xmalloc(cap * sizeof(val_t)) : NULL;
	v.blk = b;
	return v;
}

/* Appends item (its reference moves into the array), within the size and depth limits. */
static int push(ctx_t *c, val_t *arr, val_t item)
{
	block_t *b = arr->blk;
	int depth = val_depth(&item) + 1;

	if (b->n >= JL_MAX_ARRAY) {
		val_release(&item);
		return fail(c, -E2BIG, "rule builds an array longer than %d items", JL_MAX_ARRAY);
	}
	if (depth > JL_MAX_DEPTH) {
		val_release(&item);
		return fail(c, -E2BIG, "rule builds values nested deeper than %d levels", JL_MAX_DEPTH);
	}
	if (depth > b->depth)
		b->depth = depth;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4;
		b->items = xrealloc(b->items, b->cap * sizeof(val_t));
	}
	b->items[b->n++] = item;
	return 0;
}

/* reduce's {"current": ..., "accumulator": ...}; takes both references. */
static int scope_object(ctx_t *c, val_t current, val_t accumulator, val_t *out)
{
	int depth = 1 + (val_depth(&current) > val_depth(&accumulator) ? val_depth(&current)
									 : val_depth(&accumulator));
	block_t *b;

	if (depth > JL_MAX_DEPTH) {
		val_release(&current);
		val_release(&accumulator);
		return fail(c, -E2BIG, "rule builds values nested deeper than %d levels", JL_MAX_DEPTH);
	}
	b = xmalloc(sizeof(*b));
	memset(b, 0, sizeof(*b));
	b->refs = 1;
	b->depth = depth;
	b->n = b->cap = 2;
	b->items = xmalloc(2 * sizeof(val_t));
	b->items[0] = current;
	b->items[1] = accumulator;
	*out = null_val;
	out->kind = V_OBJ;
	out->blk = b;
	return 0;
}

static const char *const scope_keys[2] = { "current", "accumulator" };

/* ------------------------------------------------------------------ */
/* JavaScript coercions                                                */

/* JSON Logic truthiness: JavaScript's, except that an empty array is false. */
static bool truthy(const val_t *v)
{
	switch (v->kind) {
	case V_NULL:
		return false;
	case V_BOOL:
		return v->b;
	case V_NUM:
		return v->n != 0 && !isnan(v->n);
	case V_STR:
		return v->len > 0;
	case V_ARR:
		return !arr_empty(v);
	case V_OBJ:
		return true;
	}
	return false;
}

/*
 * Appends ToString(v). Inside an array (Array#join), null becomes the empty
 * string; at the top it is "null".
 */
static int add_string(ctx_t *c, sb_t *sb, const val_t *v, bool in_array)
{
	char num[JL_NUMBER_MAX];
	iter_t it;
	val_t item;
	bool first = true;

	switch (v->kind) {
	case V_NULL:
		return in_array ? 0 : sb_add(c, sb, "null", 4);
	case V_BOOL:
		return v->b ? sb_add(c, sb, "true", 4) : sb_add(c, sb, "false", 5);
	case V_NUM:
		return sb_add(c, sb, num, (size_t)jl_number_format(v->n, num));
	case V_STR:
		return sb_add(c, sb, v->s, v->len);
	case V_OBJ:
		return sb_add(c, sb, "[object Object]", 15);
	case V_ARR:
		iter_init(&it, v);
		while (iter_next(&it, &item)) {
			if (spend(c, 1) < 0 || (!first && sb_add(c, sb, ",", 1) < 0) ||
			    add_string(c, sb, &item, true) < 0)
				return c->code;
			first = false;
		}
		return 0;
	}
	return 0;
}

/* ToString(v) as a string value (a new reference). */
static int to_string(ctx_t *c, const val_t *v, val_t *out)
{
	sb_t sb = { 0 };

	if (v->kind == V_STR) {
		*out = val_dup(v);
		return 0;
	}
	if (add_string(c, &sb, v, false) < 0) {
		sb_free(&sb);
		return c->code;
	}
	*out = sb_value(&sb);
	return 0;
}

/* ToPrimitive: arrays and objects become their string; other values stay. */
static int to_primitive(ctx_t *c, const val_t *v, val_t *out)
{
	if (v->kind == V_ARR || v->kind == V_OBJ)
		return to_string(c, v, out);
	*out = val_dup(v);
	return 0;
}

static int to_number(ctx_t *c, const val_t *v, double *out)
{
	val_t s;

	switch (v->kind) {
	case V_NULL:
		*out = 0;
		return 0;
	case V_BOOL:
		*out = v->b ? 1 : 0;
		return 0;
	case V_NUM:
		*out = v->n;
		return 0;
	case V_STR:
		*out = jl_string_to_number(v->s, v->len);
		return spend(c, (long)(v->len / BYTES_PER_OP));
	case V_OBJ:
		*out = NAN; /* "[object Object]" */
		return 0;
	case V_ARR:
		if (to_string(c, v, &s) < 0)
			return c->code;
		*out = jl_string_to_number(s.s, s.len);
		val_release(&s);
		return 0;
	}
	return 0;
}

/* parseFloat(v), which reads ToString(v): "12px" is 12, null is NaN, -0 is 0. */
static int parse_float(ctx_t *c, const val_t *v, double *out)
{
	val_t s = null_val; /* set by to_string; initialised for gcc -O3's sake */

	if (v->kind == V_NUM) {
		*out = v->n == 0 ? 0 : v->n;
		return 0;
	}
	if (to_string(c, v, &s) < 0)
		return c->code;
	*out = jl_parse_float(s.s, s.len);
	val_release(&s);
	return 0;
}

static bool same_type(const val_t *a, const val_t *b)
{
	bool obj_a = a->kind == V_ARR || a->kind == V_OBJ;
	bool obj_b = b->kind == V_ARR || b->kind == V_OBJ;

	return obj_a || obj_b ? obj_a && obj_b : a->kind == b->kind;
}

/* a === b */
static int strict_equal(ctx_t *c, const val_t *a, const val_t *b, bool *res)
{
	*res = false;
	if (!same_type(a, b))
		return 0;
	switch (a->kind) {
	case V_NULL:
		*res = true;
		return 0;
	case V_BOOL:
		*res = a->b == b->b;
		return 0;
	case V_NUM:
		*res = a->n == b->n;
		return 0;
	case V_STR:
		*res = a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
		return spend(c, (long)(a->len / BYTES_PER_OP));
	default:
		*res = identity(a) == identity(b);
		return 0;
	}
}

/* a == b, by the Abstract Equality Comparison of ECMA-262. */
static int loose_equal(ctx_t *c, const val_t *a, const val_t *b, bool *res)
{
	bool obj_a = a->kind == V_ARR || a->kind == V_OBJ;
	bool obj_b = b->kind == V_ARR || b->kind == V_OBJ;
	val_t p;
	double x, y;
	int rc;

	if (same_type(a, b))
		return strict_equal(c, a, b, res);
	*res = false;
	if (a->kind == V_NULL || b->kind == V_NULL)
		return 0;
	if ((a->kind == V_NUM && b->kind == V_STR) || (a->kind == V_STR && b->kind == V_NUM)) {
		if (to_number(c, a, &x) < 0 || to_number(c, b, &y) < 0)
			return c->code;
		*res = x == y;
		return 0;
	}
	if (a->kind == V_BOOL) {
		p = num_val(a->b ? 1 : 0);
		return loose_equal(c, &p, b, res);
	}
	if (b->kind == V_BOOL) {
		p = num_val(b->b ? 1 : 0);
		return loose_equal(c, a, &p, res);
	}
	if (obj_a != obj_b) {
		/* One object and one number or string: compare the object's primitive. */
		if (to_primitive(c, obj_a ? a : b, &p) < 0)
			return c->code;
		rc = obj_a ? loose_equal(c, &p, b, res) : loose_equal(c, a, &p, res);
		val_release(&p);
		return rc;
	}
	return 0;
}

/*
 * a < b, by the Abstract Relational Comparison: *res is 1 (true), 0 (false)
 * or -1 (undefined: a NaN was involved, which makes <= false as well).
 */
static int less_than(ctx_t *c, const val_t *a, const val_t *b, int *res)
{
	val_t pa, pb;
	double x, y;
	int rc = 0;

	if (a->kind == V_NUM && b->kind == V_NUM) {
		*res = isnan(a->n) || isnan(b->n) ? -1 : a->n < b->n;
		return 0;
	}
	if (to_primitive(c, a, &pa) < 0)
		return c->code;
	if (to_primitive(c, b, &pb) < 0) {
		val_release(&pa);
		return c->code;
	}
	if (pa.kind == V_STR && pb.kind == V_STR) {
		*res = compare_units(&pa, &pb) < 0;
		rc = spend(c, (long)((pa.len + pb.len) / BYTES_PER_OP));
	} else if (to_number(c, &pa, &x) < 0 || to_number(c, &pb, &y) < 0) {
		rc = c->code;
	} else {
		*res = isnan(x) || isnan(y) ? -1 : x < y;
	}
	val_release(&pa);
	val_release(&pb);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Property access, as data[key] does in JavaScript                    */

/* A canonical array index ("0", "17"; not "01", "+1", "1.0"), as JavaScript defines one. */
static bool array_index(const char *key, size_t len, size_t *index)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (len > 1 && key[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (key[i] < '0' || key[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(key[i] - '0');
	}
	if (v > UINT64_C(4294967294))
		return false;
	*index = (size_t)v;
	return true;
}

static bool key_is(const char *key, size_t len, const char *name)
{
	return strncmp(key, name, len) == 0 && name[len] == '\0';
}

/*
 * obj[key] for an own property of a JSON value; inherited JavaScript
 * properties (toString, constructor...) are not emulated. Returns 1 with the
 * value in *out (*owned tells whether it is a new reference), 0 when there
 * is no such property, or an error.
 */
static int get_property(ctx_t *c, const val_t *obj, const char *key, size_t len, val_t *out,
			bool *owned)
{
	size_t index;
	iter_t it;
	const cJSON *found = NULL;

	*owned = false;
	switch (obj->kind) {
	case V_STR: {
		sb_t sb = { 0 };

		if (key_is(key, len, "length")) {
			*out = num_val((double)utf16_len(obj->s, obj->len));
			return 1;
		}
		if (!array_index(key, len, &index) || index >= utf16_len(obj->s, obj->len))
			return 0;
		if (add_units(c, &sb, obj, index, index + 1) < 0) {
			sb_free(&sb);
			return c->code;
		}
		*out = sb_value(&sb);
		*owned = true;
		return 1;
	}
	case V_ARR:
		if (key_is(key, len, "length")) {
			*out = num_val((double)arr_len(obj));
			return 1;
		}
		if (!array_index(key, len, &index))
			return 0;
		iter_init(&it, obj);
		while (iter_next(&it, out))
			if (index-- == 0)
				return 1;
		return 0;
	case V_OBJ:
		if (obj->blk) {
			for (size_t i = 0; i < 2; i++) {
				if (key_is(key, len, scope_keys[i])) {
					*out = obj->blk->items[i];
					return 1;
				}
			}
			return 0;
		}
		/* JSON.parse keeps the last of repeated keys. */
		for (const cJSON *m = obj->node->child; m; m = m->next)
			if (key_is(key, len, m->string ? m->string : ""))
				found = m;
		if (found == NULL)
			return 0;
		*out = node_val(found);
		return 1;
	default:
		return 0;
	}
}

/*
 * The "var" operation: the dotted path key (any value; ToString applies)
 * into data, or fallback (NULL: null) when a step is missing. An absent,
 * null or empty key is data itself.
 */
static int var_lookup(ctx_t *c, const val_t *data, const val_t *key, const val_t *fallback, val_t *out)
{
	val_t path, cur = *data, held = null_val;
	const char *p, *end;
	int rc = 0;

	if (key == NULL || key->kind == V_NULL || (key->kind == V_STR && key->len == 0)) {
		*out = val_dup(data);
		return 0;
	}
	if (to_string(c, key, &path) < 0)
		return c->code;
	p = path.s;
	end = path.s + path.len;
	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *seg_end = dot ? dot : end;
		val_t next;
		bool owned;

		if (cur.kind == V_NULL) {
			rc = 0;
			break;
		}
		rc = get_property(c, &cur, p, (size_t)(seg_end - p), &next, &owned);
		if (rc <= 0)
			break;
		if (owned) {
			/* A character of a string: keep it alive while it is the current value. */
			val_release(&held);
			held = next;
		}
		cur = next;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (rc > 0)
		*out = val_dup(&cur);
	else if (rc == 0)
		*out = fallback ? val_dup(fallback) : null_val;
	val_release(&held);
	val_release(&path);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */
/* The operator table and evaluation                                   */

typedef int (*lazy_fn)(ctx_t *c, const cJSON *const *argv, int argc, const val_t *data, int depth,
		       int how, val_t *out);
typedef int (*eager_fn)(ctx_t *c, val_t *argv, int argc, const val_t *data, int depth, int how,
			val_t *out);

/*
 * An operator: its argument count (max -1: any) and either a lazy function,
 * which gets the argument rules and evaluates what it needs (if, and, map),
 * or an eager one, which gets the evaluated arguments. Operators that differ
 * in one detail (== and !=, all and none) share a function; "how" tells it
 * which one it is.
 */
typedef struct {
	const char *name;
	int min, max;
	lazy_fn lazy;
	eager_fn eager;
	int how;
} op_t;

static const op_t *find_op(const char *name);
static int eval(ctx_t *c, const cJSON *rule, const val_t *data, int depth, val_t *out);

/* "takes 2 arguments", "takes 1 or 2 arguments", "takes at least 1 argument" */
static const char *arity_text(const op_t *op, char *buf, size_t size)
{
	if (op->max < 0)
		snprintf(buf, size, "at least %d argument%s", op->min, op->min == 1 ? "" : "s");
	else if (op->min == op->max)
		snprintf(buf, size, "%d argument%s", op->min, op->min == 1 ? "" : "s");
	else if (op->max == op->min + 1)
		snprintf(buf, size, "%d or %d arguments", op->min, op->max);
	else
		snprintf(buf, size, "%d to %d arguments", op->min, op->max);
	return buf;
}

/*
 * A rule is an operation when it is an object with exactly one key, as in
 * json-logic-js; other objects are literal values. A key repeated in the text
 * is one key to JSON.parse, with the last value.
 */
static bool is_operation(const cJSON *rule, const char **name, const cJSON **args)
{
	const cJSON *m = rule->child;
	const char *key;

	if ((rule->type & 0xff) != cJSON_Object || m == NULL)
		return false;
	key = m->string ? m->string : "";
	for (; m->next; m = m->next)
		if (strcmp(m->next->string ? m->next->string : "", key) != 0)
			return false;
	*name = key;
	*args = m;
	return true;
}

/* The argument rules of an operation: the array's items, or the one value that is not an array. */
static int collect_args(const cJSON *args, const cJSON **small, int nsmall, const cJSON ***argv)
{
	int n = 0;

	if ((args->type & 0xff) != cJSON_Array) {
		small[0] = args;
		*argv = small;
		return 1;
	}
	for (const cJSON *a = args->child; a; a = a->next)
		n++;
	*argv = n <= nsmall ? small : xmalloc((size_t)n * sizeof(**argv));
	n = 0;
	for (const cJSON *a = args->child; a; a = a->next)
		(*argv)[n++] = a;
	return n;
}

static int apply_op(ctx_t *c, const char *name, const cJSON *args, const val_t *data, int depth,
		    val_t *out)
{
	const cJSON *small_argv[8];
	const cJSON **argv;
	val_t small_vals[8];
	val_t *vals;
	const op_t *op = find_op(name);
	char text[64], arity[48];
	int argc, rc = 0, done = 0;

	if (op == NULL)
		return fail(c, -EINVAL, "unknown operator \"%s\"", printable(name, text, sizeof(text)));
	argc = collect_args(args, small_argv, 8, &argv);
	if (argc < op->min || (op->max >= 0 && argc > op->max)) {
		rc = fail(c, -EINVAL, "\"%s\" takes %s, not %d", op->name,
			  arity_text(op, arity, sizeof(arity)), argc);
		goto out;
	}
	if (op->lazy) {
		rc = op->lazy(c, argv, argc, data, depth, op->how, out);
		goto out;
	}
	vals = argc <= 8 ? small_vals : xmalloc((size_t)argc * sizeof(val_t));
	for (; done < argc; done++)
		if ((rc = eval(c, argv[done], data, depth + 1, &vals[done])) < 0)
			break;
	if (rc == 0)
		rc = op->eager(c, vals, argc, data, depth, op->how, out);
	for (int i = 0; i < done; i++)
		val_release(&vals[i]);
	if (vals != small_vals)
		free(vals);
out:
	if (argv != small_argv)
		free(argv);
	return rc;
}

/* Evaluates a rule: arrays item by item, operations by their operator, anything else is itself. */
static int eval(ctx_t *c, const cJSON *rule, const val_t *data, int depth, val_t *out)
{
	const char *name;
	const cJSON *args;

	/* An operation that fails leaves null here, so callers may always release it. */
	*out = null_val;
	if (depth > JL_MAX_DEPTH)
		return fail(c, -E2BIG, "rule nested deeper than %d levels", JL_MAX_DEPTH);
	if (spend(c, 1) < 0)
		return c->code;
	if ((rule->type & 0xff) == cJSON_Array) {
		val_t arr = new_array(0);

		for (const cJSON *item = rule->child; item; item = item->next) {
			val_t v;

			if (eval(c, item, data, depth + 1, &v) < 0 || push(c, &arr, v) < 0) {
				val_release(&arr);
				return c->code;
			}
		}
		*out = arr;
		return 0;
	}
	if (is_operation(rule, &name, &args))
		return apply_op(c, name, args, data, depth, out);
	*out = node_val(rule);
	return 0;
}

/*
 * Evaluates a value as a rule. json-logic-js does this to the keys of
 * "missing" (it applies {"var": key}), so a key that is itself an array or a
 * one-key object is evaluated again; the quirk is kept.
 */
static int eval_value(ctx_t *c, const val_t *v, const val_t *data, int depth, val_t *out)
{
	iter_t it;
	val_t item;

	*out = null_val;
	if (depth > JL_MAX_DEPTH)
		return fail(c, -E2BIG, "rule nested deeper than %d levels", JL_MAX_DEPTH);
	if (spend(c, 1) < 0)
		return c->code;
	if (v->node)
		return eval(c, v->node, data, depth, out);
	if (v->kind != V_ARR) {
		*out = val_dup(v);
		return 0;
	}
	*out = new_array(arr_len(v));
	iter_init(&it, v);
	while (iter_next(&it, &item)) {
		val_t r;

		if (eval_value(c, &item, data, depth + 1, &r) < 0 || push(c, out, r) < 0) {
			val_release(out);
			return c->code;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Logic and control                                                   */

static int op_if(ctx_t *c, const cJSON *const *argv, int argc, const val_t *data, int depth,
		 int how, val_t *out)
{
	int i;

	/* Pairs of condition and result, then an optional else. */
	for (i = 0; i + 1 < argc; i += 2) {
		val_t cond;
		bool yes;

		if (eval(c, argv[i], data, depth + 1, &cond) < 0)
			return c->code;
		yes = truthy(&cond);
		val_release(&cond);
		if (yes)
			return eval(c, argv[i + 1], data, depth + 1, out);
	}
	if (i < argc)
		return eval(c, argv[i], data, depth + 1, out);
	*out = null_val;
	return 0;
}

/*
 * "and" (how 0) returns the first falsy value or the last; "or" (how 1) the
 * first truthy value or the last.
 */
static int op_and_or(ctx_t *c, const cJSON *const *argv, int argc, const val_t *data, int depth,
		     int how, val_t *out)
{
	for (int i = 0; i < argc; i++) {
		if (eval(c, argv[i], data, depth + 1, out) < 0)
			return c->code;
		if (truthy(out) == (how != 0) || i == argc - 1)
			return 0;
		val_release(out);
	}
	return 0;
}

static int op_not(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	*out = bool_val(!truthy(&a[0]));
	return 0;
}

static int op_notnot(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	*out = bool_val(truthy(&a[0]));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Comparison                                                          */

#define EQ_STRICT 1
#define EQ_NEGATE 2

/* ==, !=, === and !==, by the EQ_ bits in how. */
static int op_equality(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how,
		       val_t *out)
{
	bool r = false;

	if ((how & EQ_STRICT ? strict_equal(c, &a[0], &a[1], &r) : loose_equal(c, &a[0], &a[1], &r)) < 0)
		return c->code;
	*out = bool_val(r != ((how & EQ_NEGATE) != 0));
	return 0;
}

/*
 * x < y (or x <= y when or_equal) in JavaScript terms: x <= y is
 * !(y < x), except that a NaN makes both false.
 */
static int compare(ctx_t *c, const val_t *x, const val_t *y, bool or_equal, bool *res)
{
	int r = -1;

	if (or_equal) {
		if (less_than(c, y, x, &r) < 0)
			return c->code;
		*res = r == 0;
	} else {
		if (less_than(c, x, y, &r) < 0)
			return c->code;
		*res = r == 1;
	}
	return 0;
}

#define ORDER_OR_EQUAL 1
#define ORDER_GREATER 2

/*
 * <, <=, > and >=, by the ORDER_ bits in how; < and <= take a third
 * argument for the "between" form a < b < c.
 */
static int op_order(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	bool or_equal = how & ORDER_OR_EQUAL, r = false;

	if (how & ORDER_GREATER) {
		if (compare(c, &a[1], &a[0], or_equal, &r) < 0)
			return c->code;
	} else {
		if (compare(c, &a[0], &a[1], or_equal, &r) < 0)
			return c->code;
		if (r && n == 3 && compare(c, &a[1], &a[2], or_equal, &r) < 0)
			return c->code;
	}
	*out = bool_val(r);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Arithmetic                                                          */

/* "+" folds parseFloat over its arguments from 0: {"+": "3"} is 3, {"+": []} is 0. */
static int op_add(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	double sum = 0, x = 0;

	for (int i = 0; i < n; i++) {
		if (parse_float(c, &a[i], &x) < 0)
			return c->code;
		sum = (sum == 0 ? 0 : sum) + x;
	}
	*out = num_val(sum);
	return 0;
}

/*
 * "*" folds parseFloat without a start value, as Array#reduce does: one
 * argument comes back untouched ({"*": ["2"]} is the string "2").
 */
static int op_mul(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	double product = 0, x = 0;

	if (n == 1) {
		*out = val_dup(&a[0]);
		return 0;
	}
	if (parse_float(c, &a[0], &product) < 0)
		return c->code;
	for (int i = 1; i < n; i++) {
		if (parse_float(c, &a[i], &x) < 0)
			return c->code;
		/* From the second step the running product is a number, and parseFloat(-0) is 0. */
		product = (i > 1 && product == 0 ? 0 : product) * x;
	}
	*out = num_val(product);
	return 0;
}

/*
 * "-", "/" and "%" (how is the character): both sides go through ToNumber,
 * and a lone argument to "-" is negated. JavaScript's % is C's fmod: the
 * sign of the dividend, NaN for a zero divisor.
 */
static int op_arithmetic(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how,
			 val_t *out)
{
	double x = 0, y = 0;

	if (to_number(c, &a[0], &x) < 0 || (n > 1 && to_number(c, &a[1], &y) < 0))
		return c->code;
	if (how == '-')
		*out = num_val(n == 1 ? -x : x - y);
	else if (how == '/')
		*out = num_val(x / y);
	else
		*out = num_val(fmod(x, y));
	return 0;
}

/* Math.max (how 1) and Math.min (how 0): NaN if any argument is, and +0 is larger than -0. */
static int op_min_max(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how,
		      val_t *out)
{
	double best = how ? -INFINITY : INFINITY, x = 0;
	bool nan = false;

	for (int i = 0; i < n; i++) {
		if (to_number(c, &a[i], &x) < 0)
			return c->code;
		if (isnan(x))
			nan = true;
		else if (how ? (x > best || (x == 0 && best == 0 && signbit(best)))
			     : (x < best || (x == 0 && best == 0 && signbit(x))))
			best = x;
	}
	*out = num_val(nan ? NAN : best);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Data access                                                         */

static int op_var(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	return var_lookup(c, data, n > 0 ? &a[0] : NULL, n > 1 ? &a[1] : NULL, out);
}

/*
 * The keys of keys[0..n) (or of keys[0] when it is an array) whose value in
 * data is null or "". Each key is evaluated as {"var": key}, as the
 * reference does.
 */
static int op_missing(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how,
		      val_t *out)
{
	iter_t it = { 0 };
	val_t key, list = n > 0 && a[0].kind == V_ARR ? a[0] : null_val;
	int i = 0;

	*out = new_array(0);
	if (list.kind == V_ARR)
		iter_init(&it, &list);
	for (;;) {
		val_t args, value = null_val, first, second;
		iter_t ai;
		int nargs = 0, rc;

		if (list.kind == V_ARR ? !iter_next(&it, &key) : i >= n)
			break;
		if (list.kind != V_ARR)
			key = a[i++];
		/* {"var": key}: an array key is var's argument list, anything else its one argument. */
		if (key.kind == V_ARR)
			rc = eval_value(c, &key, data, depth + 1, &args);
		else
			rc = eval_value(c, &key, data, depth + 1, &first);
		if (rc < 0)
			goto error;
		if (key.kind == V_ARR) {
			iter_init(&ai, &args);
			nargs = iter_next(&ai, &first) ? 1 : 0;
			nargs += nargs && iter_next(&ai, &second) ? 1 : 0;
			rc = var_lookup(c, data, nargs > 0 ? &first : NULL, nargs > 1 ? &second : NULL, &value);
			val_release(&args);
		} else {
			rc = var_lookup(c, data, &first, NULL, &value);
			val_release(&first);
		}
		if (rc < 0)
			goto error;
		if (value.kind == V_NULL || (value.kind == V_STR && value.len == 0))
			rc = push(c, out, val_dup(&key));
		val_release(&value);
		if (rc < 0)
			goto error;
	}
	return 0;
error:
	val_release(out);
	return c->code;
}

/*
 * [] when at least a[0] of the keys a[1] are present, else the missing keys.
 * The reference reads a[1].length, a TypeError when a[1] is null.
 */
static int op_missing_some(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how,
			   val_t *out)
{
	val_t keys, missing, have;
	double present = NAN;
	bool enough = false;
	int rc;

	/*
	 * apply({"missing": a[1]}): an array is missing's argument list, anything
	 * else its one argument, and either is evaluated once more as rules.
	 */
	if (eval_value(c, &a[1], data, depth + 1, &keys) < 0)
		return c->code;
	if (a[1].kind == V_ARR) {
		size_t count = 0;
		val_t *items = xmalloc(arr_len(&keys) * sizeof(val_t));
		iter_t it;

		iter_init(&it, &keys);
		while (iter_next(&it, &items[count]))
			count++;
		rc = op_missing(c, items, (int)count, data, depth, 0, &missing);
		free(items);
	} else {
		rc = op_missing(c, &keys, 1, data, depth, 0, &missing);
	}
	val_release(&keys);
	if (rc < 0)
		return c->code;
	if (a[1].kind == V_NULL) {
		val_release(&missing);
		return fail(c, -EINVAL, "\"missing_some\": cannot read the length of null");
	}
	if (a[1].kind == V_ARR)
		present = (double)arr_len(&a[1]) - (double)arr_len(&missing);
	else if (a[1].kind == V_STR)
		present = (double)utf16_len(a[1].s, a[1].len) - (double)arr_len(&missing);
	have = num_val(present);
	if (compare(c, &a[0], &have, true, &enough) < 0) {
		val_release(&missing);
		return c->code;
	}
	if (enough) {
		val_release(&missing);
		*out = new_array(0);
	} else {
		*out = missing;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Arrays                                                              */

/* Evaluates the first argument of map, filter, reduce, all, none and some. */
static int scoped_array(ctx_t *c, const cJSON *rule, const val_t *data, int depth, val_t *arr,
			bool *is_array)
{
	if (eval(c, rule, data, depth + 1, arr) < 0)
		return c->code;
	*is_array = arr->kind == V_ARR;
	return 0;
}

static int op_map(ctx_t *c, const cJSON *const *argv, int argc, const val_t *data, int depth,
		  int how, val_t *out)
{
	val_t arr, item;
	iter_t it;
	bool is_array = false;

	if (scoped_array(c, argv[0], data, depth, &arr, &is_array) < 0)
		return c->code;
	*out = new_array(is_array ? arr_len(&arr) : 0);
	if (is_array) {
		iter_init(&it, &arr);
		while (iter_next(&it, &item)) {
			val_t v;

			/* Inside map, data is the item. */
			if (eval(c, argv[1], &item, depth + 1, &v) < 0 || push(c, out, v) < 0) {
				val_release(out);
				break;
			}
		}
	}
	val_release(&arr);
	return c->code;
}

static int op_filter(ctx_t *c, const cJSON *const *argv, int argc, const val_t *data, int depth,
		     int how, val_t *out)
{
	val_t arr, item;
	iter_t it;
	bool is_array = false;

	if (scoped_array(c, argv[0], data, depth, &arr, &is_array) < 0)
		return c->code;
	*out = new_array(0);
	if (is_array) {
		iter_init(&it, &arr);
		while (iter_next(&it, &item)) {
			val_t v;
			bool keep;

			if (eval(c, argv[1], &item, depth + 1, &v) < 0) {
				val_release(out);
				break;
			}
			keep = truthy(&v);
			val_release(&v);
			if (keep && push(c, out, val_dup(&item)) < 0) {
				val_release(out);
				break;
			}
		}
	}
	val_release(&arr);
	return c->code;
}

#define Q_STOP_WHEN 1 /* stop at the first item whose truthiness is this */
#define Q_STOPPED 2   /* the answer when the loop stopped (else its opposite) */
#define Q_EMPTY 4     /* the answer for an empty or non-array list */

/*
 * all, some and none, by the Q_ bits in how: whether the rule is truthy for
 * every item, for one, or for none.
 */
static int op_quantify(ctx_t *c, const cJSON *const *argv, int argc, const val_t *data, int depth,
		       int how, val_t *out)
{
	val_t arr, item;
	iter_t it;
	bool is_array = false, stopped = false;

	if (scoped_array(c, argv[0], data, depth, &arr, &is_array) < 0)
		return c->code;
	if (!is_array || arr_empty(&arr)) {
		val_release(&arr);
		*out = bool_val(how & Q_EMPTY);
		return 0;
	}
	iter_init(&it, &arr);
	while (!stopped && iter_next(&it, &item)) {
		val_t v;

		if (eval(c, argv[1], &item, depth + 1, &v) < 0) {
			val_release(&arr);
			return c->code;
		}
		stopped = truthy(&v) == ((how & Q_STOP_WHEN) != 0);
		val_release(&v);
	}
	val_release(&arr);
	*out = bool_val(stopped == ((how & Q_STOPPED) != 0));
	return 0;
}

/*
 * reduce: the rule sees {"current": item, "accumulator": so far}; the start
 * value (third argument, evaluated against the outer data) defaults to null.
 */
static int op_reduce(ctx_t *c, const cJSON *const *argv, int argc, const val_t *data, int depth,
		     int how, val_t *out)
{
	val_t arr, item, acc = null_val;
	iter_t it;
	bool is_array = false;

	if (scoped_array(c, argv[0], data, depth, &arr, &is_array) < 0)
		return c->code;
	if (argc > 2 && eval(c, argv[2], data, depth + 1, &acc) < 0) {
		val_release(&arr);
		return c->code;
	}
	if (is_array) {
		iter_init(&it, &arr);
		while (iter_next(&it, &item)) {
			val_t scope;

			if (scope_object(c, val_dup(&item), acc, &scope) < 0) {
				acc = null_val;
				break;
			}
			acc = null_val;
			if (eval(c, argv[1], &scope, depth + 1, &acc) < 0) {
				val_release(&scope);
				break;
			}
			val_release(&scope);
		}
	}
	val_release(&arr);
	if (c->code < 0) {
		val_release(&acc);
		return c->code;
	}
	*out = acc;
	return 0;
}

/* Concatenates arrays; any other argument counts as an array of itself. */
static int op_merge(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	iter_t it;
	val_t item;

	*out = new_array(0);
	for (int i = 0; i < n; i++) {
		if (a[i].kind != V_ARR) {
			if (push(c, out, val_dup(&a[i])) < 0)
				goto error;
			continue;
		}
		iter_init(&it, &a[i]);
		while (iter_next(&it, &item))
			if (spend(c, 1) < 0 || push(c, out, val_dup(&item)) < 0)
				goto error;
	}
	return 0;
error:
	val_release(out);
	return c->code;
}

/*
 * "in": a substring of a string, or an item (===) of an array. Like the
 * reference, anything else JavaScript calls falsy, or without an indexOf
 * method, is never a container.
 */
static int op_in(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	const val_t *hay = &a[1];
	iter_t it;
	val_t item, needle;
	bool found = false;

	*out = bool_val(false);
	if (hay->kind == V_STR && hay->len > 0) {
		if (to_string(c, &a[0], &needle) < 0)
			return c->code;
		if (spend(c, (long)(hay->len / BYTES_PER_OP)) < 0) {
			val_release(&needle);
			return c->code;
		}
		if (needle.len == 0) {
			found = true;
		} else if (!has_surrogate(&needle)) {
			/* Without a lone surrogate, a byte match is a UTF-16 match. */
			found = memmem(hay->s, hay->len, needle.s, needle.len) != NULL;
		} else {
			size_t hn = utf16_len(hay->s, hay->len), nn = utf16_len(needle.s, needle.len);
			units_t uh;
			int *h = xmalloc((hn + 1) * sizeof(int)), *nd = xmalloc((nn + 1) * sizeof(int));
			size_t k = 0;

			if (spend(c, (long)(hn / 64 * nn / BYTES_PER_OP)) < 0) {
				free(h);
				free(nd);
				val_release(&needle);
				return c->code;
			}
			units_init(&uh, hay);
			while ((h[k] = units_next(&uh)) >= 0)
				k++;
			units_init(&uh, &needle);
			k = 0;
			while ((nd[k] = units_next(&uh)) >= 0)
				k++;
			for (size_t i = 0; !found && i + nn <= hn; i++)
				found = memcmp(h + i, nd, nn * sizeof(int)) == 0;
			free(h);
			free(nd);
		}
		val_release(&needle);
	} else if (hay->kind == V_ARR) {
		iter_init(&it, hay);
		while (!found && iter_next(&it, &item))
			if (spend(c, 1) < 0 || strict_equal(c, &a[0], &item, &found) < 0)
				return c->code;
	} else if (hay->kind == V_OBJ && !hay->blk) {
		val_t method;
		bool owned;

		/* A data object with its own "indexOf" is called by the reference: a TypeError. */
		if (get_property(c, hay, "indexOf", 7, &method, &owned) > 0)
			return fail(c, -EINVAL, "\"in\": indexOf is not a function");
	}
	*out = bool_val(found);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */

static int op_cat(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	sb_t sb = { 0 };

	/* Array#join: null (and undefined) arguments add nothing. */
	for (int i = 0; i < n; i++) {
		if (a[i].kind != V_NULL && add_string(c, &sb, &a[i], false) < 0) {
			sb_free(&sb);
			return c->code;
		}
	}
	*out = sb_value(&sb);
	return 0;
}

/* ToIntegerOrInfinity */
static double to_integer(double x)
{
	if (isnan(x))
		return 0;
	return trunc(x);
}

/* String.prototype.substr(start, length); length NULL is undefined. */
static int js_substr(ctx_t *c, const val_t *str, const val_t *start, const val_t *length, val_t *out)
{
	double size = (double)utf16_len(str->s, str->len), from, count;
	sb_t sb = { 0 };

	if (to_number(c, start, &from) < 0)
		return c->code;
	from = to_integer(from);
	if (from < 0)
		from = size + from < 0 ? 0 : size + from;
	else if (from > size)
		from = size;
	count = size;
	if (length != NULL) {
		if (to_number(c, length, &count) < 0)
			return c->code;
		count = to_integer(count);
	}
	count = count < 0 ? 0 : count > size ? size : count;
	if (from + count > size)
		count = size - from;
	if (add_units(c, &sb, str, (size_t)from, (size_t)(from + count)) < 0) {
		sb_free(&sb);
		return c->code;
	}
	*out = sb_value(&sb);
	return 0;
}

/*
 * substr(source, start[, end]): JavaScript's substr, except that a negative
 * third argument drops that many characters from the end (PHP style), which
 * the reference computes as temp.substr(0, temp.length + end) - a string
 * "end" concatenates there, and that is kept.
 */
static int op_substr(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	val_t src, tail, zero = num_val(0), length, end_text;
	int below = 0;
	int rc;

	if (to_string(c, &a[0], &src) < 0)
		return c->code;
	if (n == 3) {
		if (less_than(c, &a[2], &zero, &below) < 0) {
			val_release(&src);
			return c->code;
		}
	}
	if (below != 1) {
		rc = js_substr(c, &src, &a[1], n == 3 ? &a[2] : NULL, out);
		val_release(&src);
		return rc;
	}
	rc = js_substr(c, &src, &a[1], NULL, &tail);
	val_release(&src);
	if (rc < 0)
		return rc;
	if (a[2].kind == V_NUM) {
		length = num_val((double)utf16_len(tail.s, tail.len) + a[2].n);
	} else {
		/* number + string is concatenation in JavaScript. */
		sb_t sb = { 0 };
		char num[JL_NUMBER_MAX];
		int len = jl_number_format((double)utf16_len(tail.s, tail.len), num);

		if (to_primitive(c, &a[2], &end_text) < 0 || sb_add(c, &sb, num, (size_t)len) < 0 ||
		    add_string(c, &sb, &end_text, false) < 0) {
			val_release(&end_text);
			val_release(&tail);
			sb_free(&sb);
			return c->code;
		}
		val_release(&end_text);
		length = sb_value(&sb);
	}
	rc = js_substr(c, &tail, &zero, &length, out);
	val_release(&length);
	val_release(&tail);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static cJSON *checked(cJSON *item)
{
	if (item == NULL)
		abort();
	return item;
}

/* A copy of a rule or data node, one operation per node. */
static cJSON *copy_node(ctx_t *c, const cJSON *node)
{
	cJSON *copy;

	if (spend(c, 1) < 0)
		return NULL;
	switch (node->type & 0xff) {
	case cJSON_Array:
	case cJSON_Object:
		copy = checked((node->type & 0xff) == cJSON_Array ? cJSON_CreateArray() : cJSON_CreateObject());
		for (const cJSON *m = node->child; m; m = m->next) {
			cJSON *item = copy_node(c, m);

			if (item == NULL) {
				cJSON_Delete(copy);
				return NULL;
			}
			if ((node->type & 0xff) == cJSON_Array)
				cJSON_AddItemToArray(copy, item);
			else
				cJSON_AddItemToObject(copy, m->string ? m->string : "", item);
		}
		return copy;
	case cJSON_String:
		if (spend(c, (long)(strlen(node->valuestring ? node->valuestring : "") / BYTES_PER_OP)) < 0)
			return NULL;
		return checked(cJSON_CreateString(node->valuestring ? node->valuestring : ""));
	case cJSON_Number:
		return checked(cJSON_CreateNumber(node->valuedouble));
	case cJSON_True:
		return checked(cJSON_CreateTrue());
	case cJSON_False:
		return checked(cJSON_CreateFalse());
	default:
		return checked(cJSON_CreateNull());
	}
}

/* The value as a new cJSON tree, or NULL when the budget runs out on the way. */
static cJSON *to_cjson(ctx_t *c, const val_t *v)
{
	cJSON *out;

	if (v->node)
		return copy_node(c, v->node);
	switch (v->kind) {
	case V_NULL:
		return checked(cJSON_CreateNull());
	case V_BOOL:
		return checked(cJSON_CreateBool(v->b));
	case V_NUM:
		return checked(cJSON_CreateNumber(v->n));
	case V_STR:
		if (spend(c, (long)(v->len / BYTES_PER_OP)) < 0)
			return NULL;
		return checked(cJSON_CreateString(v->s));
	case V_ARR:
	case V_OBJ:
		if (spend(c, 1) < 0)
			return NULL;
		out = checked(v->kind == V_ARR ? cJSON_CreateArray() : cJSON_CreateObject());
		for (size_t i = 0; i < v->blk->n; i++) {
			cJSON *item = to_cjson(c, &v->blk->items[i]);

			if (item == NULL) {
				cJSON_Delete(out);
				return NULL;
			}
			if (v->kind == V_ARR)
				cJSON_AddItemToArray(out, item);
			else
				cJSON_AddItemToObject(out, scope_keys[i], item);
		}
		return out;
	}
	return NULL;
}

/* The default "log": one info line through log.h. */
static void log_default(const char *json, void *arg)
{
	log_info("jsonlogic log: %s", json);
}

static int op_log(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	cJSON *tree = to_cjson(c, &a[0]);
	char *text;

	if (tree == NULL)
		return c->code;
	text = jl_to_json(tree);
	if (c->opts && c->opts->log_cb)
		c->opts->log_cb(text, c->opts->log_arg);
	else
		log_default(text, NULL);
	free(text);
	cJSON_Delete(tree);
	*out = val_dup(&a[0]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Extra operators: dates                                              */

#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

/* The clock, read once per evaluation so that a rule sees one "now". */
static int64_t now_ms(ctx_t *c)
{
	if (!c->have_now) {
		if (c->opts && c->opts->now != 0)
			c->now_ms = (int64_t)llround(c->opts->now * 1000);
		else
			c->now_ms = (int64_t)floor(wftime_now() * 1000);
		c->have_now = true;
	}
	return c->now_ms;
}

/* A timestamp argument: an ISO-8601 string, or a number of seconds since the epoch. */
static bool time_arg(const val_t *v, int64_t *ms)
{
	if (v->kind == V_STR)
		return jl_time_parse_ms(v->s, v->len, ms) == 0;
	if (v->kind == V_NUM && isfinite(v->n) && fabs(v->n) < 1e13) {
		*ms = (int64_t)llround(v->n * 1000);
		return true;
	}
	return false;
}

/* The ISO-8601 text of ms, or null outside the years 0000-9999. */
static val_t time_val(int64_t ms)
{
	char text[JL_TIME_MAX];

	if (jl_time_format(ms, text) < 0)
		return null_val;
	return str_val(text, strlen(text));
}

/* Whole units elapsed from t to now, rounded down (negative for the future). */
static val_t elapsed(ctx_t *c, int64_t t, int64_t unit)
{
	int64_t d = now_ms(c) - t, q = d / unit;

	if (d % unit < 0)
		q--;
	return num_val((double)q);
}

static int op_now(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	*out = time_val(now_ms(c));
	return 0;
}

static int op_date(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	int64_t t;

	*out = time_arg(&a[0], &t) ? time_val(t) : null_val;
	return 0;
}

/* days_since and hours_since: how is the unit in milliseconds. */
static int op_since(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how, val_t *out)
{
	int64_t t;

	*out = time_arg(&a[0], &t) ? elapsed(c, t, how) : null_val;
	return 0;
}

static int op_add_seconds(ctx_t *c, val_t *a, int n, const val_t *data, int depth, int how,
			  val_t *out)
{
	int64_t t;
	double secs;

	if (to_number(c, &a[1], &secs) < 0)
		return c->code;
	if (!time_arg(&a[0], &t) || !isfinite(secs) || fabs(secs) > 1e12)
		*out = null_val;
	else
		*out = time_val(t + (int64_t)llround(secs * 1000));
	return 0;
}

/*
 * The operators of json-logic-js, sorted by strcmp() for bsearch(). Argument
 * counts are stricter than JavaScript, which ignores extra arguments and
 * reads missing ones as undefined: a hand-written rule with the wrong count
 * is a mistake worth reporting.
 */
static const op_t standard_ops[] = {
	{ "!", 1, 1, NULL, op_not, 0 },
	{ "!!", 1, 1, NULL, op_notnot, 0 },
	{ "!=", 2, 2, NULL, op_equality, EQ_NEGATE },
	{ "!==", 2, 2, NULL, op_equality, EQ_STRICT | EQ_NEGATE },
	{ "%", 2, 2, NULL, op_arithmetic, '%' },
	{ "*", 1, -1, NULL, op_mul, 0 },
	{ "+", 0, -1, NULL, op_add, 0 },
	{ "-", 1, 2, NULL, op_arithmetic, '-' },
	{ "/", 2, 2, NULL, op_arithmetic, '/' },
	{ "<", 2, 3, NULL, op_order, 0 },
	{ "<=", 2, 3, NULL, op_order, ORDER_OR_EQUAL },
	{ "==", 2, 2, NULL, op_equality, 0 },
	{ "===", 2, 2, NULL, op_equality, EQ_STRICT },
	{ ">", 2, 2, NULL, op_order, ORDER_GREATER },
	{ ">=", 2, 2, NULL, op_order, ORDER_GREATER | ORDER_OR_EQUAL },
	{ "?:", 3, 3, op_if, NULL, 0 },
	{ "all", 2, 2, op_quantify, NULL, 0 },
	{ "and", 1, -1, op_and_or, NULL, 0 },
	{ "cat", 0, -1, NULL, op_cat, 0 },
	{ "filter", 2, 2, op_filter, NULL, 0 },
	{ "if", 0, -1, op_if, NULL, 0 },
	{ "in", 2, 2, NULL, op_in, 0 },
	{ "log", 1, 1, NULL, op_log, 0 },
	{ "map", 2, 2, op_map, NULL, 0 },
	{ "max", 1, -1, NULL, op_min_max, 1 },
	{ "merge", 0, -1, NULL, op_merge, 0 },
	{ "min", 1, -1, NULL, op_min_max, 0 },
	{ "missing", 0, -1, NULL, op_missing, 0 },
	{ "missing_some", 2, 2, NULL, op_missing_some, 0 },
	{ "none", 2, 2, op_quantify, NULL, Q_STOP_WHEN | Q_EMPTY },
	{ "or", 1, -1, op_and_or, NULL, 1 },
	{ "reduce", 2, 3, op_reduce, NULL, 0 },
	{ "some", 2, 2, op_quantify, NULL, Q_STOP_WHEN | Q_STOPPED },
	{ "substr", 2, 3, NULL, op_substr, 0 },
	{ "var", 0, 2, NULL, op_var, 0 },
};

/* Operators beyond the spec, for marketing rules; see docs/jsonlogic.md. */
static const op_t extra_ops[] = {
	{ "now", 0, 0, NULL, op_now, 0 },
	{ "date", 1, 1, NULL, op_date, 0 },
	{ "days_since", 1, 1, NULL, op_since, (int)MS_PER_DAY },
	{ "hours_since", 1, 1, NULL, op_since, (int)MS_PER_HOUR },
	{ "add_seconds", 2, 2, NULL, op_add_seconds, 0 },
};

static int op_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const op_t *)elem)->name);
}

static const op_t *find_op(const char *name)
{
	const op_t *op = bsearch(name, standard_ops, sizeof(standard_ops) / sizeof(standard_ops[0]),
				 sizeof(standard_ops[0]), op_name_cmp);

	for (size_t i = 0; op == NULL && i < sizeof(extra_ops) / sizeof(extra_ops[0]); i++)
		if (strcmp(name, extra_ops[i].name) == 0)
			op = &extra_ops[i];
	return op;
}

/* ------------------------------------------------------------------ */
/* The public interface                                                */

static void ctx_init(ctx_t *c, const jl_options_t *opts, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->opts = opts;
	c->max_ops = opts && opts->max_ops > 0 ? opts->max_ops : JL_DEFAULT_MAX_OPS;
	c->ops_left = c->max_ops;
	c->err = err;
	c->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
}

static int evaluate(ctx_t *c, const cJSON *rule, const cJSON *data, val_t *out)
{
	val_t d = data ? node_val(data) : null_val;

	if (rule == NULL)
		return fail(c, -EINVAL, "no rule");
	return eval(c, rule, &d, 0, out);
}

cJSON *jl_apply(const cJSON *rule, const cJSON *data, const jl_options_t *opts, char *err,
		size_t errlen)
{
	ctx_t c;
	val_t v;
	cJSON *out;

	ctx_init(&c, opts, err, errlen);
	if (evaluate(&c, rule, data, &v) < 0)
		return NULL;
	out = to_cjson(&c, &v);
	val_release(&v);
	return out;
}

int jl_test(const cJSON *rule, const cJSON *data, const jl_options_t *opts, bool *result,
	    char *err, size_t errlen)
{
	ctx_t c;
	val_t v;

	ctx_init(&c, opts, err, errlen);
	if (evaluate(&c, rule, data, &v) < 0)
		return c.code;
	*result = truthy(&v);
	val_release(&v);
	return 0;
}

bool jl_truthy(const cJSON *v)
{
	val_t x;

	if (v == NULL)
		return false;
	x = node_val(v);
	return truthy(&x);
}

/* Appends "/token" to a JSON pointer, escaping '~' and '/' as RFC 6901 says. */
static void pointer_push(sb_t *path, const char *token)
{
	sb_raw(path, "/", 1);
	for (const char *p = token; *p; p++) {
		if (*p == '~')
			sb_str(path, "~0");
		else if (*p == '/')
			sb_str(path, "~1");
		else
			sb_raw(path, p, 1);
	}
}

static int validate(const cJSON *rule, int depth, sb_t *path, char *err, size_t errlen)
{
	const cJSON *small[8];
	const cJSON **argv;
	const char *name;
	const cJSON *args;
	const op_t *op;
	char text[64], arity[48], index[24];
	size_t mark = path->len;
	int argc, rc = 0, i = 0;

	if (depth > JL_MAX_DEPTH) {
		snprintf(err, errlen, "rule nested deeper than %d levels at %s", JL_MAX_DEPTH, path->buf);
		return -EINVAL;
	}
	if ((rule->type & 0xff) == cJSON_Array) {
		for (const cJSON *item = rule->child; item && rc == 0; item = item->next, i++) {
			snprintf(index, sizeof(index), "%d", i);
			pointer_push(path, index);
			rc = validate(item, depth + 1, path, err, errlen);
			if (rc == 0) {
				path->len = mark;
				path->buf[mark] = '\0';
			}
		}
		return rc;
	}
	if (!is_operation(rule, &name, &args))
		return 0;
	op = find_op(name);
	if (op == NULL) {
		snprintf(err, errlen, "unknown operator \"%s\" at %s", printable(name, text, sizeof(text)),
			 path->len ? path->buf : "/");
		return -EINVAL;
	}
	argc = collect_args(args, small, 8, &argv);
	if (argc < op->min || (op->max >= 0 && argc > op->max)) {
		snprintf(err, errlen, "\"%s\" takes %s, not %d, at %s", op->name,
			 arity_text(op, arity, sizeof(arity)), argc, path->len ? path->buf : "/");
		rc = -EINVAL;
	}
	pointer_push(path, name);
	for (i = 0; i < argc && rc == 0; i++) {
		size_t op_mark = path->len;

		/* A lone argument stands where the array would: /var, not /var/0. */
		if ((args->type & 0xff) == cJSON_Array) {
			snprintf(index, sizeof(index), "%d", i);
			pointer_push(path, index);
		}
		rc = validate(argv[i], depth + 1, path, err, errlen);
		if (rc == 0) {
			path->len = op_mark;
			path->buf[op_mark] = '\0';
		}
	}
	if (argv != small)
		free(argv);
	return rc;
}

int jl_validate(const cJSON *rule, char *err, size_t errlen)
{
	sb_t path = { 0 };
	char scratch[1];
	int rc;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	if (rule == NULL) {
		snprintf(err, errlen, "no rule");
		return -EINVAL;
	}
	sb_raw(&path, "", 0);
	rc = validate(rule, 0, &path, err, errlen);
	sb_free(&path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Printing JSON as JSON.stringify does                                */

static void print_string(sb_t *sb, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s);
	char esc[16];

	sb_raw(sb, "\"", 1);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = decode(u + i, len - i, &cp);

		if (cp == '"' || cp == '\\') {
			esc[0] = '\\';
			esc[1] = (char)cp;
			sb_raw(sb, esc, 2);
		} else if (cp < 0x20) {
			const char *named = cp == '\b' ? "\\b" : cp == '\f' ? "\\f" : cp == '\n' ? "\\n"
					  : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : NULL;

			if (named) {
				sb_str(sb, named);
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
				sb_str(sb, esc);
			}
		} else if ((cp >= 0xd800 && cp <= 0xdfff) || (cp == 0xfffd && n == 1)) {
			/* A lone surrogate is escaped; a byte that is not UTF-8 becomes U+FFFD. */
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			sb_str(sb, esc);
		} else {
			sb_raw(sb, s + i, n);
		}
		i += n;
	}
	sb_raw(sb, "\"", 1);
}

typedef struct {
	const cJSON *first; /* where the key first appears: its place in the order */
	const cJSON *last;  /* the value JSON.parse keeps */
	size_t pos;
	bool is_index;
	size_t index;
} entry_t;

static int key_by_name(const void *a, const void *b)
{
	const entry_t *x = a, *y = b;
	int r = strcmp(x->first->string ? x->first->string : "", y->first->string ? y->first->string : "");

	return r ? r : x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* JavaScript's property order: array indexes ascending, then the others as they came. */
static int key_by_order(const void *a, const void *b)
{
	const entry_t *x = a, *y = b;

	if (x->is_index != y->is_index)
		return x->is_index ? -1 : 1;
	if (x->is_index)
		return x->index < y->index ? -1 : x->index > y->index;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void print_value(sb_t *sb, const cJSON *v);

static void print_object(sb_t *sb, const cJSON *obj)
{
	size_t n = 0, unique = 0;
	entry_t *keys;

	for (const cJSON *m = obj->child; m; m = m->next)
		n++;
	keys = xmalloc(n * sizeof(*keys));
	n = 0;
	for (const cJSON *m = obj->child; m; m = m->next, n++) {
		const char *k = m->string ? m->string : "";

		keys[n].first = keys[n].last = m;
		keys[n].pos = n;
		keys[n].is_index = array_index(k, strlen(k), &keys[n].index);
	}
	/* Fold repeated keys: the first place, the last value. */
	qsort(keys, n, sizeof(*keys), key_by_name);
	for (size_t i = 0; i < n; i++) {
		if (unique > 0 && strcmp(keys[unique - 1].first->string ? keys[unique - 1].first->string : "",
					 keys[i].first->string ? keys[i].first->string : "") == 0)
			keys[unique - 1].last = keys[i].last;
		else
			keys[unique++] = keys[i];
	}
	qsort(keys, unique, sizeof(*keys), key_by_order);
	sb_raw(sb, "{", 1);
	for (size_t i = 0; i < unique; i++) {
		if (i > 0)
			sb_raw(sb, ",", 1);
		print_string(sb, keys[i].first->string ? keys[i].first->string : "");
		sb_raw(sb, ":", 1);
		print_value(sb, keys[i].last);
	}
	sb_raw(sb, "}", 1);
	free(keys);
}

static void print_value(sb_t *sb, const cJSON *v)
{
	char num[JL_NUMBER_MAX];

	switch (v->type & 0xff) {
	case cJSON_False:
		sb_str(sb, "false");
		return;
	case cJSON_True:
		sb_str(sb, "true");
		return;
	case cJSON_Number:
		if (!isfinite(v->valuedouble))
			sb_str(sb, "null");
		else
			sb_raw(sb, num, (size_t)jl_number_format(v->valuedouble, num));
		return;
	case cJSON_String:
		print_string(sb, v->valuestring ? v->valuestring : "");
		return;
	case cJSON_Array:
		sb_raw(sb, "[", 1);
		for (const cJSON *m = v->child; m; m = m->next) {
			print_value(sb, m);
			if (m->next)
				sb_raw(sb, ",", 1);
		}
		sb_raw(sb, "]", 1);
		return;
	case cJSON_Object:
		print_object(sb, v);
		return;
	case cJSON_Raw:
		sb_str(sb, v->valuestring ? v->valuestring : "null");
		return;
	default:
		sb_str(sb, "null");
		return;
	}
}

char *jl_to_json(const cJSON *v)
{
	sb_t sb = { 0 };

	if (v == NULL)
		return NULL;
	print_value(&sb, v);
	return sb.buf;
}
