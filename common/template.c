/*
 * template.c - the Handlebars compiler and renderer behind template.h.
 *
 * Compiling builds the same tree Handlebars' parser builds (programs of
 * content, mustache, block, partial and comment statements), then runs
 * Handlebars' whitespace-control pass over it, so the standalone-line and ~
 * rules strip exactly what Handlebars strips. Rendering walks the tree with a
 * stack of contexts (for ../) and of data frames (for @index and friends),
 * printing values the way JavaScript converts them to strings.
 */
#include "template.h"
#include "template_set.h"
#include "utf8.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- memory */

/* Like the cJSON helpers in json.c, running out of memory is not survived. */
static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xrealloc(NULL, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ------------------------------------------------------------------ tree */

typedef enum {
	EXPR_NONE = 0,
	EXPR_PATH,
	EXPR_STRING,
	EXPR_NUMBER,
	EXPR_TRUE,
	EXPR_FALSE,
	EXPR_NULL,
	EXPR_UNDEFINED,
} expr_kind_t;

typedef struct {
	expr_kind_t kind;
	bool data;	 /* an @-path */
	int depth;	 /* how many ../ */
	size_t nparts;
	char **parts;	 /* EXPR_PATH: the segments after this, ., .. */
	char *text;	 /* the source text as written (string literals: the value) */
	double number;	 /* EXPR_NUMBER */
} expr_t;

typedef enum {
	NODE_CONTENT,
	NODE_MUSTACHE,
	NODE_BLOCK,
	NODE_PARTIAL,
	NODE_COMMENT,
} node_kind_t;

typedef enum { HELPER_IF, HELPER_UNLESS, HELPER_EACH, HELPER_WITH } helper_t;

typedef struct {
	bool open;  /* ~ after the opening braces: strip white space before the tag */
	bool close; /* ~ before the closing braces: strip white space after it */
} strip_t;

typedef struct node node_t;

typedef struct {
	node_t **items;
	size_t count, cap;
	bool chained; /* the inverse of a block holding only an {{else if}} block */
} program_t;

struct node {
	node_kind_t kind;
	size_t offset; /* of the tag (or text) in the source, for messages */

	/* NODE_CONTENT: the text is orig[vstart, vend); stripping moves the ends. */
	const char *orig;
	size_t orig_len, vstart, vend;
	bool left_stripped, right_stripped;

	/* NODE_MUSTACHE, NODE_PARTIAL, NODE_COMMENT */
	strip_t strip;
	expr_t expr; /* mustache: the value; partial: the context argument */
	bool escaped;

	/* NODE_BLOCK */
	helper_t helper;
	expr_t param;
	expr_t include_zero;
	program_t *program, *inverse; /* as Handlebars: swapped for {{^helper}} */
	strip_t open_strip, inverse_strip, close_strip;

	/* NODE_PARTIAL */
	char *name;
	char *indent; /* set when the partial stands alone on its line */
};

typedef struct {
	char *name;
	size_t offset;
} partial_ref_t;

struct tpl {
	char *source;
	size_t len;
	char *filename;
	program_t *root;
	partial_ref_t *refs;
	size_t nrefs;
};

static void expr_clear(expr_t *e)
{
	for (size_t i = 0; i < e->nparts; i++)
		free(e->parts[i]);
	free(e->parts);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

static void program_free(program_t *prog);

static void node_free(node_t *n)
{
	if (n == NULL)
		return;
	expr_clear(&n->expr);
	expr_clear(&n->param);
	expr_clear(&n->include_zero);
	program_free(n->program);
	program_free(n->inverse);
	free(n->name);
	free(n->indent);
	free(n);
}

static void program_free(program_t *prog)
{
	if (prog == NULL)
		return;
	for (size_t i = 0; i < prog->count; i++)
		node_free(prog->items[i]);
	free(prog->items);
	free(prog);
}

static void program_add(program_t *prog, node_t *n)
{
	if (prog->count == prog->cap) {
		prog->cap = prog->cap ? prog->cap * 2 : 8;
		prog->items = xrealloc(prog->items, prog->cap * sizeof(*prog->items));
	}
	prog->items[prog->count++] = n;
}

void tpl_free(tpl_t *tpl)
{
	if (tpl == NULL)
		return;
	program_free(tpl->root);
	for (size_t i = 0; i < tpl->nrefs; i++)
		free(tpl->refs[i].name);
	free(tpl->refs);
	free(tpl->source);
	free(tpl->filename);
	free(tpl);
}

const char *tpl_filename(const tpl_t *tpl)
{
	return tpl->filename;
}

/* ---------------------------------------------------------------- errors */

/* 1-based line and column (in characters, not bytes) of a source offset. */
static void source_position(const char *src, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (src[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)src[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static void __attribute__((format(printf, 6, 7)))
error_at(char *err, size_t errlen, const char *filename, const char *src, size_t off,
	 const char *fmt, ...)
{
	unsigned line, col;
	int n;
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	source_position(src, off, &line, &col);
	n = snprintf(err, errlen, "%s:%u:%u: ", filename, line, col);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- parser */

typedef struct {
	const char *src;
	size_t len, pos;
	const char *filename;
	char *err;
	size_t errlen;
	int depth; /* blocks open around the current position */
	int links; /* {{else x}} links open around it, which depth does not count */
	tpl_t *tpl;
} parser_t;

#define perror_at(p, off, ...) \
	(error_at((p)->err, (p)->errlen, (p)->filename, (p)->src, (off), __VA_ARGS__), -EINVAL)

typedef enum {
	TAG_MUSTACHE,	/* {{x}}, {{{x}}}, {{&x}} */
	TAG_BLOCK,	/* {{#x}} */
	TAG_INVERSE,	/* {{^x}} */
	TAG_CLOSE,	/* {{/x}} */
	TAG_ELSE,	/* {{else}}, {{^}} */
	TAG_ELSE_CHAIN, /* {{else x ...}} */
	TAG_PARTIAL,	/* {{> x}} */
	TAG_COMMENT,	/* {{! }}, {{!-- --}} */
} tag_type_t;

#define TAG_MAX_PARAMS 4

typedef struct {
	tag_type_t type;
	size_t start; /* offset of the opening braces */
	strip_t strip;
	bool escaped;
	expr_t name;
	size_t name_offset;
	expr_t params[TAG_MAX_PARAMS];
	size_t nparams;
	expr_t include_zero;
	size_t hash_offset; /* first key=value other than includeZero, or 0 */
	bool has_hash;
} tag_t;

static void tag_clear(tag_t *t)
{
	expr_clear(&t->name);
	for (size_t i = 0; i < t->nparams; i++)
		expr_clear(&t->params[i]);
	expr_clear(&t->include_zero);
	memset(t, 0, sizeof(*t));
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Handlebars' ID: anything but white space and the punctuation it reserves. */
static bool is_id_char(char c)
{
	return c != '\0' && !is_space(c) && strchr("!\"#%&'()*+,./;<=>@[\\]^`{|}~", c) == NULL;
}

static char peek(const parser_t *p, size_t ahead)
{
	return p->pos + ahead < p->len ? p->src[p->pos + ahead] : '\0';
}

static bool starts_with(const parser_t *p, const char *s)
{
	size_t n = strlen(s);

	return p->len - p->pos >= n && memcmp(p->src + p->pos, s, n) == 0;
}

static void skip_space(parser_t *p)
{
	while (p->pos < p->len && is_space(p->src[p->pos]))
		p->pos++;
}

/* What may follow an ID (Handlebars' LOOKAHEAD), or a literal (LITERAL_LOOKAHEAD). */
static bool ends_id(char c)
{
	return c == '\0' || is_space(c) || strchr("=~}/.)|", c) != NULL;
}

static bool ends_literal(char c)
{
	return c == '\0' || is_space(c) || strchr("~})", c) != NULL;
}

/* Appends to a growing string; *len and *cap track it. */
static void text_add(char **text, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*text = xrealloc(*text, *cap);
	}
	memcpy(*text + *len, s, n);
	*len += n;
	(*text)[*len] = '\0';
}

static void expr_add_part(expr_t *e, const char *s, size_t n)
{
	e->parts = xrealloc(e->parts, (e->nparts + 1) * sizeof(*e->parts));
	e->parts[e->nparts++] = xstrndup(s, n);
}

/*
 * A path: [@] segment ((. | /) segment)*, where a segment is an ID,
 * [literal], . or .. Its text is Handlebars' "original": the segments as
 * written but without brackets, which names partials and must match between
 * {{#x}} and {{/x}}.
 */
static int parse_path(parser_t *p, expr_t *e)
{
	size_t start = p->pos, tlen = 0, tcap = 0;

	e->kind = EXPR_PATH;
	if (peek(p, 0) == '@') {
		e->data = true;
		text_add(&e->text, &tlen, &tcap, "@", 1);
		p->pos++;
	}
	for (;;) {
		size_t seg = p->pos, n;
		bool literal = false;

		if (peek(p, 0) == '[') {
			const char *close = memchr(p->src + p->pos, ']', p->len - p->pos);

			if (close == NULL)
				return perror_at(p, seg, "unclosed [ in a path");
			literal = true;
			seg = p->pos + 1;
			n = (size_t)(close - (p->src + seg));
			p->pos = (size_t)(close - p->src) + 1;
		} else if (starts_with(p, "..")) {
			n = 2;
			p->pos += 2;
		} else if (peek(p, 0) == '.' && ends_id(peek(p, 1))) {
			n = 1;
			p->pos++;
		} else {
			while (p->pos < p->len && is_id_char(p->src[p->pos]))
				p->pos++;
			n = p->pos - seg;
			if (n == 0 && p->pos >= p->len)
				return perror_at(p, p->pos, "expected a name, found the end");
			if (n == 0)
				return perror_at(p, p->pos, "unexpected '%c' where a name should be",
						 p->src[p->pos]);
		}
		if (!literal && ((n == 2 && memcmp(p->src + seg, "..", 2) == 0) ||
				 (n == 1 && p->src[seg] == '.') ||
				 (n == 4 && memcmp(p->src + seg, "this", 4) == 0))) {
			text_add(&e->text, &tlen, &tcap, p->src + seg, n);
			/* As Handlebars: ., .. and this may only lead a path. */
			if (e->nparts > 0)
				return perror_at(p, start, "invalid path \"%.*s\"",
						 (int)(p->pos - start), p->src + start);
			if (n == 2)
				e->depth++;
		} else {
			text_add(&e->text, &tlen, &tcap, p->src + seg, n);
			expr_add_part(e, p->src + seg, n);
		}
		if (peek(p, 0) != '.' && peek(p, 0) != '/')
			break;
		/* A separator: another segment follows. */
		text_add(&e->text, &tlen, &tcap, p->src + p->pos++, 1);
	}
	if (!ends_id(peek(p, 0)))
		return perror_at(p, p->pos, "unexpected character '%c' in a path", peek(p, 0));
	return 0;
}

/* A string, number, boolean, null or undefined literal at pos; 1 if there is none. */
static int parse_literal(parser_t *p, expr_t *e)
{
	size_t start = p->pos;
	char c = peek(p, 0);
	static const struct {
		const char *word;
		expr_kind_t kind;
	} words[] = {
		{ "true", EXPR_TRUE },
		{ "false", EXPR_FALSE },
		{ "null", EXPR_NULL },
		{ "undefined", EXPR_UNDEFINED },
	};

	if (c == '"' || c == '\'') {
		/* As Handlebars: a backslash escapes only the quote character. */
		size_t i = p->pos + 1, end, n = 0;
		char *value;

		for (end = i; end < p->len && p->src[end] != c; end++)
			if (p->src[end] == '\\' && end + 1 < p->len && p->src[end + 1] == c)
				end++;
		if (end >= p->len)
			return perror_at(p, start, "unclosed string");
		value = xrealloc(NULL, end - i + 1);
		while (i < end) {
			if (p->src[i] == '\\' && p->src[i + 1] == c)
				i++;
			value[n++] = p->src[i++];
		}
		value[n] = '\0';
		e->kind = EXPR_STRING;
		e->text = value;
		p->pos = i + 1;
		return 0;
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		size_t i = p->pos + (c == '-');
		size_t digits = i;

		while (i < p->len && p->src[i] >= '0' && p->src[i] <= '9')
			i++;
		if (i > digits && i + 1 < p->len && p->src[i] == '.' && p->src[i + 1] >= '0' &&
		    p->src[i + 1] <= '9') {
			i++;
			while (i < p->len && p->src[i] >= '0' && p->src[i] <= '9')
				i++;
		}
		if (i > digits && ends_literal(i < p->len ? p->src[i] : '\0')) {
			e->kind = EXPR_NUMBER;
			e->text = xstrndup(p->src + start, i - start);
			e->number = strtod(e->text, NULL);
			p->pos = i;
			return 0;
		}
	}
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t n = strlen(words[w].word);

		if (starts_with(p, words[w].word) &&
		    ends_literal(p->pos + n < p->len ? p->src[p->pos + n] : '\0')) {
			e->kind = words[w].kind;
			e->text = xstrndup(p->src + start, n);
			p->pos += n;
			return 0;
		}
	}
	return 1;
}

static int parse_value(parser_t *p, expr_t *e)
{
	int r;

	if (peek(p, 0) == '(')
		return perror_at(p, p->pos, "subexpressions ( ) are not supported");
	r = parse_literal(p, e);
	if (r <= 0)
		return r;
	return parse_path(p, e);
}

/* The closing braces of a tag, with the ~ before them; true when found and consumed. */
static bool parse_tag_end(parser_t *p, bool triple, strip_t *strip)
{
	size_t save = p->pos;

	if (triple) {
		if (peek(p, 0) != '}')
			return false;
		p->pos++;
	}
	if (peek(p, 0) == '~') {
		strip->close = true;
		p->pos++;
	}
	if (starts_with(p, "}}")) {
		p->pos += 2;
		return true;
	}
	strip->close = false;
	p->pos = save;
	return false;
}

static int unclosed_tag(parser_t *p, const tag_t *t)
{
	if (p->pos >= p->len)
		return perror_at(p, t->start, "unclosed tag: no }} before the end of the file");
	return perror_at(p, p->pos, "unexpected character '%c' in a tag", peek(p, 0));
}

/* The rest of a tag after its sigil: name, arguments, key=value pairs, closing braces. */
static int parse_tag_body(parser_t *p, tag_t *t, bool triple, bool want_name)
{
	int r;

	skip_space(p);
	if (want_name) {
		if (parse_tag_end(p, triple, &t->strip))
			return perror_at(p, t->start, "empty tag: expected a name");
		if (p->pos >= p->len)
			return unclosed_tag(p, t);
		t->name_offset = p->pos;
		r = parse_value(p, &t->name);
		if (r < 0)
			return r;
		if (t->name.kind != EXPR_PATH) {
			/* As Handlebars: a literal in the name's place is looked up as a name. */
			char *text = t->name.text;

			t->name.text = NULL;
			expr_clear(&t->name);
			t->name.kind = EXPR_PATH;
			expr_add_part(&t->name, text, strlen(text));
			t->name.text = text;
		}
	}
	for (;;) {
		size_t at;

		skip_space(p);
		if (parse_tag_end(p, triple, &t->strip))
			return 0;
		if (p->pos >= p->len)
			return unclosed_tag(p, t);
		at = p->pos;
		if (peek(p, 0) == '}' || peek(p, 0) == '~')
			return perror_at(p, t->start, "unclosed tag: expected }}%s", triple ? "}" : "");
		if (starts_with(p, "as") && p->pos + 2 < p->len && is_space(p->src[p->pos + 2])) {
			size_t save = p->pos;

			p->pos += 2;
			skip_space(p);
			if (peek(p, 0) == '|')
				return perror_at(p, at, "block parameters (as |x|) are not supported");
			p->pos = save;
		}
		if (is_id_char(peek(p, 0))) {
			/* key=value? */
			size_t i = p->pos;

			while (i < p->len && is_id_char(p->src[i]))
				i++;
			while (i < p->len && is_space(p->src[i]))
				i++;
			if (i < p->len && p->src[i] == '=') {
				bool include_zero = strncmp(p->src + at, "includeZero", 11) == 0 &&
						    !is_id_char(at + 11 < p->len ? p->src[at + 11] : '\0');
				expr_t value = { 0 };

				p->pos = i + 1;
				skip_space(p);
				r = parse_value(p, &value);
				if (r < 0) {
					expr_clear(&value);
					return r;
				}
				t->has_hash = true;
				if (include_zero && t->include_zero.kind == EXPR_NONE) {
					t->include_zero = value;
				} else {
					expr_clear(&value);
					if (t->hash_offset == 0)
						t->hash_offset = at;
				}
				continue;
			}
		}
		if (t->has_hash)
			return perror_at(p, at, "arguments must come before key=value pairs");
		if (t->nparams == TAG_MAX_PARAMS)
			return perror_at(p, at, "too many arguments");
		r = parse_value(p, &t->params[t->nparams++]);
		if (r < 0)
			return r;
	}
}

/* A comment tag; pos is just past "{{" and an optional "~". */
static int parse_comment(parser_t *p, tag_t *t)
{
	const char *end_mark = starts_with(p, "!--") ? "--" : "";
	size_t from = p->pos + (*end_mark ? 3 : 1);

	t->type = TAG_COMMENT;
	for (size_t i = from; i + 1 < p->len; i++) {
		size_t m = strlen(end_mark);

		if (strncmp(p->src + i, end_mark, m) != 0)
			continue;
		if (i + m + 1 < p->len && p->src[i + m] == '~' && p->src[i + m + 1] == '}' &&
		    i + m + 2 < p->len && p->src[i + m + 2] == '}') {
			t->strip.close = true;
			p->pos = i + m + 3;
			return 0;
		}
		if (i + m + 1 < p->len && p->src[i + m] == '}' && p->src[i + m + 1] == '}') {
			p->pos = i + m + 2;
			return 0;
		}
	}
	return perror_at(p, t->start, "unclosed comment: no %s}} before the end of the file", end_mark);
}

/* The keyword else, as Handlebars' lexer sees it: followed by space, ~ or }. */
static bool at_else(const parser_t *p)
{
	return starts_with(p, "else") &&
	       (p->pos + 4 >= p->len || is_space(p->src[p->pos + 4]) || p->src[p->pos + 4] == '~' ||
		p->src[p->pos + 4] == '}');
}

/* One tag at pos (which is at "{{"). */
static int parse_tag(parser_t *p, tag_t *t)
{
	bool triple = false;

	memset(t, 0, sizeof(*t));
	t->start = p->pos;
	t->escaped = true;
	if (starts_with(p, "{{{{"))
		return perror_at(p, p->pos, "raw blocks {{{{ }}}} are not supported");
	p->pos += 2;
	if (peek(p, 0) == '~') {
		t->strip.open = true;
		p->pos++;
	}
	switch (peek(p, 0)) {
	case '!':
		return parse_comment(p, t);
	case '{':
		p->pos++;
		triple = true;
		t->escaped = false;
		t->type = TAG_MUSTACHE;
		break;
	case '&':
		p->pos++;
		t->escaped = false;
		t->type = TAG_MUSTACHE;
		break;
	case '#':
		if (peek(p, 1) == '>')
			return perror_at(p, t->start, "partial blocks {{#> }} are not supported");
		if (peek(p, 1) == '*')
			return perror_at(p, t->start, "decorators and inline partials are not supported");
		p->pos++;
		t->type = TAG_BLOCK;
		break;
	case '^': {
		p->pos++;
		skip_space(p);
		if (parse_tag_end(p, false, &t->strip)) {
			t->type = TAG_ELSE;
			return 0;
		}
		t->type = TAG_INVERSE;
		break;
	}
	case '/':
		p->pos++;
		t->type = TAG_CLOSE;
		break;
	case '>':
		p->pos++;
		t->type = TAG_PARTIAL;
		break;
	case '*':
		return perror_at(p, t->start, "decorators are not supported");
	default: {
		size_t save = p->pos;

		skip_space(p);
		if (at_else(p)) {
			p->pos += 4;
			skip_space(p);
			if (parse_tag_end(p, false, &t->strip)) {
				t->type = TAG_ELSE;
				return 0;
			}
			t->type = TAG_ELSE_CHAIN;
			break;
		}
		p->pos = save;
		t->type = TAG_MUSTACHE;
		break;
	}
	}
	return parse_tag_body(p, t, triple, true);
}

static bool name_is(const expr_t *e, const char *word)
{
	return e->kind == EXPR_PATH && !e->data && e->depth == 0 && e->nparts == 1 &&
	       strcmp(e->parts[0], word) == 0;
}

static int helper_of(const expr_t *name, helper_t *helper)
{
	static const char *const names[] = { "if", "unless", "each", "with" };

	for (int i = 0; i < 4; i++) {
		if (name_is(name, names[i])) {
			*helper = (helper_t)i;
			return 0;
		}
	}
	return -1;
}

static node_t *node_new(node_kind_t kind, size_t offset)
{
	node_t *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->offset = offset;
	return n;
}

static int check_no_hash(parser_t *p, const tag_t *t)
{
	if (t->has_hash)
		return perror_at(p, t->hash_offset ? t->hash_offset : t->start,
				 "key=value arguments are not supported here");
	return 0;
}

static int make_mustache(parser_t *p, tag_t *t, node_t **out)
{
	helper_t helper;
	node_t *n;

	if (helper_of(&t->name, &helper) == 0)
		return perror_at(p, t->start, "\"%s\" is a block helper: write {{#%s ...}}",
				 t->name.text, t->name.text);
	if (t->nparams > 0 || t->has_hash)
		return perror_at(p, t->start, "unknown helper \"%s\"", t->name.text);
	n = node_new(NODE_MUSTACHE, t->start);
	n->strip = t->strip;
	n->escaped = t->escaped;
	n->expr = t->name;
	memset(&t->name, 0, sizeof(t->name));
	*out = n;
	return 0;
}

static int make_partial(parser_t *p, tag_t *t, node_t **out)
{
	node_t *n;
	int r = check_no_hash(p, t);

	if (r < 0)
		return r;
	if (t->nparams > 1)
		return perror_at(p, t->start, "a partial takes at most one argument (its context)");
	n = node_new(NODE_PARTIAL, t->start);
	n->strip = t->strip;
	n->name = t->name.text;
	t->name.text = NULL;
	if (t->nparams == 1) {
		n->expr = t->params[0];
		memset(&t->params[0], 0, sizeof(t->params[0]));
	}
	p->tpl->refs = xrealloc(p->tpl->refs, (p->tpl->nrefs + 1) * sizeof(*p->tpl->refs));
	p->tpl->refs[p->tpl->nrefs].name = xstrndup(n->name, strlen(n->name));
	p->tpl->refs[p->tpl->nrefs].offset = t->start;
	p->tpl->nrefs++;
	*out = n;
	return 0;
}

static int parse_program(parser_t *p, program_t *prog, tag_t *end);

static const char *const helper_names[] = { "if", "unless", "each", "with" };

/* The block node for an opening tag (or an {{else x}} of a chain), without its programs. */
static int make_block(parser_t *p, tag_t *t, node_t **out)
{
	helper_t helper;
	node_t *n;

	if (helper_of(&t->name, &helper) < 0)
		return perror_at(p, t->start, "unknown block helper \"%s\"", t->name.text);
	if (t->nparams != 1)
		return perror_at(p, t->start, "{{#%s}} takes exactly one argument", t->name.text);
	if (t->hash_offset || (t->include_zero.kind != EXPR_NONE && helper != HELPER_IF &&
			       helper != HELPER_UNLESS))
		return perror_at(p, t->hash_offset ? t->hash_offset : t->start,
				 "key=value arguments other than includeZero= on if/unless are not supported");
	n = node_new(NODE_BLOCK, t->start);
	n->helper = helper;
	n->param = t->params[0];
	memset(&t->params[0], 0, sizeof(t->params[0]));
	n->include_zero = t->include_zero;
	memset(&t->include_zero, 0, sizeof(t->include_zero));
	n->open_strip = t->strip;
	*out = n;
	return 0;
}

static int unclosed_block(parser_t *p, const node_t *block)
{
	return perror_at(p, block->offset, "unclosed block: {{#%s}} has no {{/%s}}",
			 helper_names[block->helper], helper_names[block->helper]);
}

/*
 * The programs of a block whose opening tag (or, when link, {{else x}}) has
 * been read: up to its {{else}}/{{else x}} and then up to the closing tag,
 * which is left in *close for the caller to check. A link of an else chain
 * sits beside the block it follows, not inside it, so it does not count as
 * nesting; the links have a limit of their own since each is a recursion.
 */
static int parse_block_body(parser_t *p, node_t *n, tag_t *close, bool link)
{
	tag_t end;
	int r;

	if (link) {
		if (++p->links > TPL_MAX_ELSE_CHAIN)
			return perror_at(p, n->offset, "more than %d {{else x}} in a chain",
					 TPL_MAX_ELSE_CHAIN);
	} else if (++p->depth > TPL_MAX_NESTING) {
		return perror_at(p, n->offset, "blocks nested more than %d deep", TPL_MAX_NESTING);
	}
	n->program = xcalloc(1, sizeof(program_t));
	r = parse_program(p, n->program, &end);
	if (r < 0)
		return r;
	if (r == 0)
		return unclosed_block(p, n);
	if (end.type == TAG_ELSE) {
		n->inverse_strip = end.strip;
		n->inverse = xcalloc(1, sizeof(program_t));
		r = parse_program(p, n->inverse, close);
		if (r < 0)
			return r;
		if (r == 0)
			return unclosed_block(p, n);
		if (close->type != TAG_CLOSE) {
			r = perror_at(p, close->start, "{{else}} after the {{else}} of {{#%s}}",
				      helper_names[n->helper]);
			tag_clear(close);
			return r;
		}
	} else if (end.type == TAG_ELSE_CHAIN) {
		node_t *chain = NULL;

		n->inverse_strip = end.strip;
		r = make_block(p, &end, &chain);
		tag_clear(&end);
		if (r < 0)
			return r;
		n->inverse = xcalloc(1, sizeof(program_t));
		n->inverse->chained = true;
		program_add(n->inverse, chain);
		r = parse_block_body(p, chain, close, true);
		if (r < 0)
			return r;
		/* Every block of a chain ends at the one closing tag. */
		chain->close_strip = close->strip;
	} else {
		*close = end;
	}
	n->close_strip = close->strip;
	if (link)
		p->links--;
	else
		p->depth--;
	return 0;
}

/* A whole block from its opening tag to its matching close. */
static int parse_block(parser_t *p, tag_t *t, node_t **out)
{
	tag_t close;
	node_t *n = NULL;
	int r = make_block(p, t, &n);

	*out = n;
	if (r < 0)
		return r;
	memset(&close, 0, sizeof(close));
	r = parse_block_body(p, n, &close, false);
	if (r < 0)
		return r;
	if (!name_is(&close.name, helper_names[n->helper])) {
		unsigned line, col;

		source_position(p->src, n->offset, &line, &col);
		r = perror_at(p, close.start, "{{/%s}} does not match {{#%s}} at %u:%u",
			      close.name.text, helper_names[n->helper], line, col);
		tag_clear(&close);
		return r;
	}
	if (close.nparams > 0 || close.has_hash) {
		r = perror_at(p, close.start, "{{/%s}} takes no arguments", close.name.text);
		tag_clear(&close);
		return r;
	}
	tag_clear(&close);
	if (t->type == TAG_INVERSE) {
		/* {{^if x}}a{{else}}b{{/if}} is {{#if x}}b{{else}}a{{/if}}. */
		program_t *swap = n->program;

		n->program = n->inverse;
		n->inverse = swap;
	}
	return 0;
}

/* A run of text; "\{{" escapes a tag, as in Handlebars. */
static void add_content(program_t *prog, const parser_t *p, size_t from, size_t to)
{
	node_t *n;

	if (to <= from)
		return;
	n = node_new(NODE_CONTENT, from);
	n->orig = p->src + from;
	n->orig_len = to - from;
	n->vstart = 0;
	n->vend = n->orig_len;
	program_add(prog, n);
}

/* Where the next "{{" is, or len. */
static size_t find_open(const parser_t *p, size_t from)
{
	for (size_t i = from; i + 1 < p->len; i++)
		if (p->src[i] == '{' && p->src[i + 1] == '{')
			return i;
	return p->len;
}

/*
 * Statements up to the end of the text (returns 0) or up to an {{else}},
 * {{else x}} or {{/x}} tag (returns 1 with the tag in *end, which the caller
 * then owns); negative on error.
 */
static int parse_program(parser_t *p, program_t *prog, tag_t *end)
{
	while (p->pos < p->len) {
		size_t at = find_open(p, p->pos);
		tag_t t;
		node_t *n = NULL;
		int r;

		if (at > p->pos && p->src[at - 1] == '\\' && at < p->len) {
			if (at - 1 > p->pos && p->src[at - 2] == '\\') {
				/* "\\{{": one backslash of text, then a real tag. */
				add_content(prog, p, p->pos, at - 1);
				p->pos = at;
			} else {
				/* "\{{": text up to the next tag (or escaped tag). */
				size_t next, stop;

				add_content(prog, p, p->pos, at - 1);
				next = find_open(p, at + 2);
				stop = next;
				if (next < p->len && next - 1 >= at + 2 && p->src[next - 1] == '\\') {
					stop = next - 1;
					if (next - 2 >= at + 2 && p->src[next - 2] == '\\')
						stop = next - 2;
				}
				add_content(prog, p, at, stop);
				p->pos = stop;
				continue;
			}
		} else {
			add_content(prog, p, p->pos, at);
			p->pos = at;
			if (at >= p->len)
				break;
		}
		r = parse_tag(p, &t);
		if (r < 0) {
			tag_clear(&t);
			return r;
		}
		switch (t.type) {
		case TAG_ELSE:
		case TAG_ELSE_CHAIN:
		case TAG_CLOSE:
			*end = t;
			return 1;
		case TAG_COMMENT:
			n = node_new(NODE_COMMENT, t.start);
			n->strip = t.strip;
			break;
		case TAG_MUSTACHE:
			r = make_mustache(p, &t, &n);
			break;
		case TAG_PARTIAL:
			r = make_partial(p, &t, &n);
			break;
		case TAG_BLOCK:
		case TAG_INVERSE:
			r = parse_block(p, &t, &n);
			break;
		}
		tag_clear(&t);
		if (r < 0) {
			node_free(n);
			return r;
		}
		program_add(prog, n);
	}
	return 0;
}

/* ---------------------------------------------------- whitespace control */

/*
 * Handlebars' WhitespaceControl visitor, statement for statement: a block,
 * {{else}}, comment or partial alone on its line takes its line with it, and
 * ~ strips all white space on its side. Content is tested as written
 * (orig) and stripped by moving the ends of its value.
 */

typedef struct {
	bool present;
	bool open, close;
	bool open_standalone, close_standalone, inline_standalone;
} ws_strip_t;

typedef struct {
	bool root_seen;
} ws_t;

/* The statement before index i (i may be count) is content ending in newline + blanks. */
static bool prev_whitespace(const program_t *body, size_t i, bool is_root)
{
	const node_t *prev;
	bool sibling;
	size_t k;

	if (i == 0)
		return is_root;
	prev = body->items[i - 1];
	if (prev->kind != NODE_CONTENT)
		return false;
	sibling = i >= 2;
	for (k = prev->orig_len; k > 0 && is_space(prev->orig[k - 1]); k--)
		if (prev->orig[k - 1] == '\n')
			return true;
	return k == 0 && !(sibling || !is_root);
}

/* The statement after index i (i may be -1) is content starting with blanks + newline. */
static bool next_whitespace(const program_t *body, ptrdiff_t i, bool is_root)
{
	const node_t *next;
	bool sibling;
	size_t k;

	if (i + 1 >= (ptrdiff_t)body->count)
		return is_root;
	next = body->items[i + 1];
	if (next->kind != NODE_CONTENT)
		return false;
	sibling = i + 2 < (ptrdiff_t)body->count;
	for (k = 0; k < next->orig_len && is_space(next->orig[k]); k++)
		if (next->orig[k] == '\n')
			return true;
	return k == next->orig_len && !(sibling || !is_root);
}

static bool ws_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Strips the start of content body[i]: one line's blanks and newline, or (multiple) all space. */
static void omit_right(program_t *body, ptrdiff_t i, bool multiple)
{
	node_t *c;
	size_t s;

	if (body == NULL || i < 0 || i >= (ptrdiff_t)body->count)
		return;
	c = body->items[i];
	if (c->kind != NODE_CONTENT || (!multiple && c->right_stripped))
		return;
	s = c->vstart;
	if (multiple) {
		while (s < c->vend && is_space(c->orig[s]))
			s++;
	} else {
		while (s < c->vend && ws_blank(c->orig[s]))
			s++;
		if (s < c->vend && c->orig[s] == '\r')
			s++;
		if (s < c->vend && c->orig[s] == '\n')
			s++;
	}
	c->right_stripped = s != c->vstart;
	c->vstart = s;
}

/* Strips the end of content body[i]: its trailing blanks, or (multiple) all space. */
static bool omit_left(program_t *body, ptrdiff_t i, bool multiple)
{
	node_t *c;
	size_t e;

	if (body == NULL || i < 0 || i >= (ptrdiff_t)body->count)
		return false;
	c = body->items[i];
	if (c->kind != NODE_CONTENT || (!multiple && c->left_stripped))
		return false;
	e = c->vend;
	while (e > c->vstart && (multiple ? is_space(c->orig[e - 1]) : ws_blank(c->orig[e - 1])))
		e--;
	c->left_stripped = e != c->vend;
	c->vend = e;
	return c->left_stripped;
}

static ptrdiff_t last_index(const program_t *body)
{
	return body ? (ptrdiff_t)body->count - 1 : -1;
}

static void ws_program(ws_t *w, program_t *prog);

static ws_strip_t ws_block(ws_t *w, node_t *block)
{
	program_t *program, *inverse, *first_inverse, *last_inverse;
	ws_strip_t strip = { .present = true };

	if (block->program)
		ws_program(w, block->program);
	if (block->inverse)
		ws_program(w, block->inverse);
	program = block->program ? block->program : block->inverse;
	inverse = block->program && block->inverse ? block->inverse : NULL;
	first_inverse = last_inverse = inverse;
	if (inverse && inverse->chained) {
		first_inverse = inverse->items[0]->program;
		while (last_inverse && last_inverse->chained)
			last_inverse = last_inverse->items[last_inverse->count - 1]->program;
	}
	strip.open = block->open_strip.open;
	strip.close = block->close_strip.close;
	strip.open_standalone = next_whitespace(program, -1, false);
	strip.close_standalone = prev_whitespace(first_inverse ? first_inverse : program,
						 (first_inverse ? first_inverse : program)->count, false);
	if (block->open_strip.close)
		omit_right(program, 0, true);
	if (inverse) {
		if (block->inverse_strip.open)
			omit_left(program, last_index(program), true);
		if (block->inverse_strip.close)
			omit_right(first_inverse, 0, true);
		if (block->close_strip.open)
			omit_left(last_inverse, last_index(last_inverse), true);
		if (prev_whitespace(program, program->count, false) &&
		    next_whitespace(first_inverse, -1, false)) {
			omit_left(program, last_index(program), false);
			omit_right(first_inverse, 0, false);
		}
	} else if (block->close_strip.open) {
		omit_left(program, last_index(program), true);
	}
	return strip;
}

static ws_strip_t ws_node(ws_t *w, node_t *n)
{
	ws_strip_t strip = { 0 };

	switch (n->kind) {
	case NODE_CONTENT:
		break;
	case NODE_MUSTACHE:
		strip.present = true;
		strip.open = n->strip.open;
		strip.close = n->strip.close;
		break;
	case NODE_PARTIAL:
	case NODE_COMMENT:
		strip.present = true;
		strip.inline_standalone = true;
		strip.open = n->strip.open;
		strip.close = n->strip.close;
		break;
	case NODE_BLOCK:
		strip = ws_block(w, n);
		break;
	}
	return strip;
}

static void ws_program(ws_t *w, program_t *prog)
{
	bool is_root = !w->root_seen;

	w->root_seen = true;
	for (size_t k = 0; k < prog->count; k++) {
		ptrdiff_t i = (ptrdiff_t)k;
		node_t *cur = prog->items[k];
		ws_strip_t strip = ws_node(w, cur);
		bool prev_ws, next_ws;

		if (!strip.present)
			continue;
		prev_ws = prev_whitespace(prog, k, is_root);
		next_ws = next_whitespace(prog, i, is_root);
		if (strip.close)
			omit_right(prog, i + 1, true);
		if (strip.open)
			omit_left(prog, i - 1, true);
		if (strip.inline_standalone && prev_ws && next_ws) {
			omit_right(prog, i + 1, false);
			if (omit_left(prog, i - 1, false) && cur->kind == NODE_PARTIAL) {
				/* The partial's lines get the indentation the tag had. */
				const node_t *before = prog->items[k - 1];
				size_t e = before->orig_len, s = e;

				while (s > 0 && ws_blank(before->orig[s - 1]))
					s--;
				cur->indent = xstrndup(before->orig + s, e - s);
			}
		}
		if (strip.open_standalone && prev_ws) {
			omit_right(cur->program ? cur->program : cur->inverse, 0, false);
			omit_left(prog, i - 1, false);
		}
		if (strip.close_standalone && next_ws) {
			program_t *inner = cur->inverse ? cur->inverse : cur->program;

			omit_right(prog, i + 1, false);
			omit_left(inner, last_index(inner), false);
		}
	}
}

/* --------------------------------------------------------------- compile */

int tpl_compile(const char *text, size_t len, const char *filename, const tpl_set_t *partials,
		tpl_t **out, char *err, size_t errlen)
{
	parser_t p = { 0 };
	tpl_t *tpl;
	ws_t w = { false };
	const char *nul;
	tag_t end;
	int r;

	*out = NULL;
	tpl = xcalloc(1, sizeof(*tpl));
	tpl->filename = xstrndup(filename ? filename : "<template>",
				 strlen(filename ? filename : "<template>"));
	tpl->source = xstrndup(text ? text : "", text ? len : 0);
	tpl->len = text ? len : 0;
	tpl->root = xcalloc(1, sizeof(program_t));
	p.src = tpl->source;
	p.len = tpl->len;
	p.filename = tpl->filename;
	p.err = err;
	p.errlen = errlen;
	p.tpl = tpl;
	if (tpl->len > TPL_MAX_SOURCE) {
		r = perror_at(&p, 0, "template larger than %zu bytes", TPL_MAX_SOURCE);
		goto error;
	}
	nul = memchr(tpl->source, '\0', tpl->len);
	if (nul != NULL) {
		r = perror_at(&p, (size_t)(nul - tpl->source), "NUL byte in the template");
		goto error;
	}
	/*
	 * Rendered text goes into mail parts labelled UTF-8, and a Subject that
	 * is not UTF-8 is refused by the MIME builder at send time; refusing the
	 * template here makes that failure show at load, not when an email is due.
	 */
	for (size_t i = 0; i < tpl->len;) {
		size_t n = utf8_char_len(tpl->source + i, tpl->len - i);

		if (n == 0) {
			r = perror_at(&p, i, "invalid UTF-8 (byte 0x%02X)",
				      (unsigned)(unsigned char)tpl->source[i]);
			goto error;
		}
		i += n;
	}
	r = parse_program(&p, tpl->root, &end);
	if (r > 0) {
		if (end.type == TAG_CLOSE)
			r = perror_at(&p, end.start, "{{/%s}} closes no open block", end.name.text);
		else
			r = perror_at(&p, end.start, "{{else}} outside a block");
		tag_clear(&end);
	}
	if (r < 0)
		goto error;
	ws_program(&w, tpl->root);
	if (partials != NULL && (r = tpl_check_partials(tpl, partials, err, errlen)) < 0)
		goto error;
	*out = tpl;
	return 0;
error:
	tpl_free(tpl);
	return r;
}

int tpl_check_partials(const tpl_t *tpl, const tpl_set_t *set, char *err, size_t errlen)
{
	for (size_t i = 0; i < tpl->nrefs; i++) {
		if (set == NULL || tpl_set_partial(set, tpl->refs[i].name) == NULL) {
			error_at(err, errlen, tpl->filename, tpl->source, tpl->refs[i].offset,
				 "partial \"%s\" not found", tpl->refs[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- values */

/*
 * A value during rendering: JSON from the data, or one made by the renderer
 * (@index, a literal, an array's length). V_UNDEF is JavaScript's undefined.
 */
typedef enum { V_UNDEF, V_JSON, V_NUMBER, V_BOOL, V_STRING } value_kind_t;

typedef struct {
	value_kind_t kind;
	const cJSON *json;
	double number;
	bool boolean;
	const char *string;
} value_t;

static const value_t undefined_value = { V_UNDEF, NULL, 0, false, NULL };

static value_t json_value(const cJSON *item)
{
	value_t v = { item ? V_JSON : V_UNDEF, item, 0, false, NULL };

	return v;
}

static value_t number_value(double d)
{
	value_t v = { V_NUMBER, NULL, d, false, NULL };

	return v;
}

static value_t bool_value(bool b)
{
	value_t v = { V_BOOL, NULL, 0, b, NULL };

	return v;
}

static value_t string_value(const char *s)
{
	value_t v = { V_STRING, NULL, 0, false, s };

	return v;
}

/* A value reduced to what JavaScript's == looks at. */
typedef struct {
	enum { P_NULLISH, P_NUMBER, P_STRING, P_BOOL, P_OBJECT } kind;
	double number;
	const char *string;
	const cJSON *object;
} primitive_t;

static primitive_t primitive(const value_t *v)
{
	primitive_t p = { P_NULLISH, 0, NULL, NULL };
	const cJSON *j = v->json;

	switch (v->kind) {
	case V_UNDEF:
		break;
	case V_NUMBER:
		p.kind = P_NUMBER;
		p.number = v->number;
		break;
	case V_BOOL:
		p.kind = P_BOOL;
		p.number = v->boolean;
		break;
	case V_STRING:
		p.kind = P_STRING;
		p.string = v->string;
		break;
	case V_JSON:
		if (cJSON_IsNumber(j)) {
			p.kind = P_NUMBER;
			p.number = j->valuedouble;
		} else if (cJSON_IsBool(j)) {
			p.kind = P_BOOL;
			p.number = cJSON_IsTrue(j);
		} else if (cJSON_IsString(j) && j->valuestring) {
			p.kind = P_STRING;
			p.string = j->valuestring;
		} else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
			p.kind = P_OBJECT;
			p.object = j;
		}
		break;
	}
	return p;
}

/* JavaScript's Number(string) for decimal text; NaN for the rest (hex and the like). */
static double string_to_number(const char *s)
{
	const char *start = s, *end;
	char *stop;
	double d;

	while (is_space(*start))
		start++;
	end = start + strlen(start);
	while (end > start && is_space(end[-1]))
		end--;
	if (start == end)
		return 0;
	for (const char *c = start; c < end; c++)
		if (!strchr("0123456789+-.eE", *c))
			return strncmp(start, "Infinity", 8) == 0 && end - start == 8 ? INFINITY : NAN;
	d = strtod(start, &stop);
	return stop == end ? d : NAN;
}

/*
 * a == b as JavaScript's loose equality decides it, which is how Handlebars
 * tells whether a block's context is new (and so whether ../ must skip it).
 * Objects and arrays are equal only to themselves.
 */
static bool same_value(const value_t *va, const value_t *vb)
{
	primitive_t a = primitive(va), b = primitive(vb);

	if (a.kind == P_OBJECT || b.kind == P_OBJECT)
		return a.object == b.object;
	if (a.kind == P_NULLISH || b.kind == P_NULLISH)
		return a.kind == b.kind;
	if (a.kind == P_STRING && b.kind == P_STRING)
		return strcmp(a.string, b.string) == 0;
	if (a.kind == P_STRING)
		a.number = string_to_number(a.string);
	if (b.kind == P_STRING)
		b.number = string_to_number(b.string);
	return a.number == b.number;
}

/* JavaScript truthiness: false, undefined, null, "", 0 and NaN are falsy. */
static bool truthy(const value_t *v)
{
	const cJSON *j = v->json;

	switch (v->kind) {
	case V_UNDEF:
		return false;
	case V_NUMBER:
		return v->number != 0 && !isnan(v->number);
	case V_BOOL:
		return v->boolean;
	case V_STRING:
		return v->string[0] != '\0';
	case V_JSON:
		if (cJSON_IsNull(j) || cJSON_IsFalse(j) || cJSON_IsInvalid(j))
			return false;
		if (cJSON_IsNumber(j))
			return j->valuedouble != 0 && !isnan(j->valuedouble);
		if (cJSON_IsString(j))
			return j->valuestring && j->valuestring[0] != '\0';
		return true;
	}
	return false;
}

static bool is_empty_array(const value_t *v)
{
	return v->kind == V_JSON && cJSON_IsArray(v->json) && v->json->child == NULL;
}

static bool is_number_zero(const value_t *v)
{
	return (v->kind == V_NUMBER && v->number == 0) ||
	       (v->kind == V_JSON && cJSON_IsNumber(v->json) && v->json->valuedouble == 0);
}

/* Handlebars' isEmpty: falsy but for 0, and also []. */
static bool is_empty(const value_t *v)
{
	return (!truthy(v) && !is_number_zero(v)) || is_empty_array(v);
}

/* A string's length as JavaScript counts it, in UTF-16 code units. */
static double utf16_length(const char *s, unsigned long *steps)
{
	double n = 0;

	/* Counting is work too: hostile data could ask for it in a loop. */
	*steps += strlen(s) / 64;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c & 0xC0) != 0x80)
			n++;
		if ((*c & 0xF8) == 0xF0)
			n++; /* a 4-byte sequence is a surrogate pair */
	}
	return n;
}

/* "0", "1", ... "4294967294": the names JavaScript treats as array indexes. */
static bool array_index(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v >= 4294967295UL)
			return false;
	}
	*out = v;
	return true;
}

/* -------------------------------------------------------------- rendering */

typedef struct ctx ctx_t;
struct ctx {
	value_t value;
	const ctx_t *parent; /* what ../ refers to */
};

typedef struct frame frame_t;
struct frame {
	bool iterating;
	unsigned long index;
	const char *key; /* an object's member name; NULL in an array */
	bool first, last;
	const frame_t *parent; /* what @../ refers to */
};

typedef struct {
	char *data;
	size_t len, cap;
} buf_t;

typedef struct {
	const tpl_set_t *partials;
	value_t root;
	bool no_escape;
	size_t max_output;
	int max_partial_depth;
	unsigned long max_steps;
	unsigned long steps;
	int partial_depth;
	const tpl_t *tpl; /* the template (or partial) being rendered, for messages */
	buf_t *out;
	char *err;
	size_t errlen;
} render_t;

#define rerror_at(r, code, off, ...) \
	(error_at((r)->err, (r)->errlen, (r)->tpl->filename, (r)->tpl->source, (off), __VA_ARGS__), \
	 (code))

static int buf_add(render_t *r, const char *s, size_t n)
{
	buf_t *b = r->out;

	if (n > r->max_output - b->len) {
		snprintf(r->err, r->errlen, "%s: output larger than %zu bytes", r->tpl->filename,
			 r->max_output);
		return -EFBIG;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* The characters Handlebars escapes, and their entities. */
static const char *escape_of(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#x27;";
	case '`':
		return "&#x60;";
	case '=':
		return "&#x3D;";
	}
	return NULL;
}

static int write_text(render_t *r, const char *s, size_t n, bool escape)
{
	size_t run = 0;
	int rc;

	if (!escape)
		return buf_add(r, s, n);
	for (size_t i = 0; i < n; i++) {
		const char *entity = escape_of(s[i]);

		if (entity == NULL)
			continue;
		if ((rc = buf_add(r, s + run, i - run)) < 0 || (rc = buf_add(r, entity, strlen(entity))) < 0)
			return rc;
		run = i + 1;
	}
	return buf_add(r, s + run, n - run);
}

/*
 * A number as JavaScript's Number.prototype.toString() prints it: the
 * fewest digits that read back as the same double, in plain notation from
 * 1e-7 up to 1e21 and in exponent notation outside.
 */
static size_t format_number(double v, char *out, size_t outlen)
{
	char tmp[40], digits[24];
	int exp10, k = 0, n;
	size_t o = 0;
	bool negative = v < 0;

	if (isnan(v))
		return (size_t)snprintf(out, outlen, "NaN");
	if (isinf(v))
		return (size_t)snprintf(out, outlen, "%sInfinity", negative ? "-" : "");
	if (v == 0)
		return (size_t)snprintf(out, outlen, "0");
	if (fabs(v) < 9007199254740992.0 && v == floor(v))
		return (size_t)snprintf(out, outlen, "%.0f", v);
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(tmp, sizeof(tmp), "%.*e", precision - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* tmp is "-d.ddde+XX": collect the digits and the exponent. */
	for (const char *c = tmp; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9')
			digits[k++] = *c;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	exp10 = atoi(strchr(tmp, 'e') + 1);
	n = exp10 + 1; /* the value is 0.digits * 10^n */
	if (negative)
		out[o++] = '-';
	if (k <= n && n <= 21) {
		o += (size_t)snprintf(out + o, outlen - o, "%s", digits);
		for (int i = k; i < n; i++)
			out[o++] = '0';
	} else if (0 < n && n <= 21) {
		o += (size_t)snprintf(out + o, outlen - o, "%.*s.%s", n, digits, digits + n);
	} else if (-6 < n && n <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (int i = n; i < 0; i++)
			out[o++] = '0';
		o += (size_t)snprintf(out + o, outlen - o, "%s", digits);
	} else {
		o += (size_t)snprintf(out + o, outlen - o, "%c%s%.*s", digits[0], k > 1 ? "." : "",
				      k - 1, digits + 1);
		o += (size_t)snprintf(out + o, outlen - o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	out[o] = '\0';
	return o;
}

/* Arrays print their items joined by commas, as JavaScript's String(array). */
static int write_json(render_t *r, const cJSON *j, bool escape, int depth)
{
	char num[40];

	if (cJSON_IsString(j))
		return j->valuestring ? write_text(r, j->valuestring, strlen(j->valuestring), escape) : 0;
	if (cJSON_IsNumber(j))
		return buf_add(r, num, format_number(j->valuedouble, num, sizeof(num)));
	if (cJSON_IsTrue(j))
		return buf_add(r, "true", 4);
	if (cJSON_IsFalse(j))
		return buf_add(r, "false", 5);
	if (cJSON_IsObject(j))
		return buf_add(r, "[object Object]", 15);
	if (cJSON_IsArray(j)) {
		int rc;

		/* cJSON's parser nests at most 1000 deep; a built tree could go deeper. */
		if (depth > 1000)
			return 0;
		for (const cJSON *item = j->child; item; item = item->next) {
			if (++r->steps > r->max_steps)
				return -ETIMEDOUT;
			if (item != j->child && (rc = buf_add(r, ",", 1)) < 0)
				return rc;
			if (!cJSON_IsNull(item) && (rc = write_json(r, item, escape, depth + 1)) < 0)
				return rc;
		}
	}
	return 0; /* null, and what cJSON calls invalid, print nothing */
}

static int write_value(render_t *r, const value_t *v, bool escape)
{
	char num[40];

	switch (v->kind) {
	case V_UNDEF:
		return 0;
	case V_JSON:
		return write_json(r, v->json, escape, 0);
	case V_NUMBER:
		return buf_add(r, num, format_number(v->number, num, sizeof(num)));
	case V_BOOL:
		return v->boolean ? buf_add(r, "true", 4) : buf_add(r, "false", 5);
	case V_STRING:
		return write_text(r, v->string, strlen(v->string), escape);
	}
	return 0;
}

/* One step down a path: a member of an object, an item or the length of an array. */
static value_t member(render_t *r, const value_t *v, const char *name)
{
	unsigned long index;

	if (v->kind == V_STRING || (v->kind == V_JSON && cJSON_IsString(v->json))) {
		const char *s = v->kind == V_STRING ? v->string : v->json->valuestring;

		if (s == NULL)
			return undefined_value;
		return strcmp(name, "length") == 0 ? number_value(utf16_length(s, &r->steps))
						   : undefined_value;
	}
	if (v->kind != V_JSON)
		return undefined_value;
	if (cJSON_IsObject(v->json)) {
		for (const cJSON *item = v->json->child; item; item = item->next) {
			r->steps++;
			if (item->string && strcmp(item->string, name) == 0)
				return json_value(item);
		}
		return undefined_value;
	}
	if (cJSON_IsArray(v->json)) {
		if (strcmp(name, "length") == 0) {
			double n = 0;

			for (const cJSON *item = v->json->child; item; item = item->next, n++)
				r->steps++;
			return number_value(n);
		}
		if (!array_index(name, &index))
			return undefined_value;
		for (const cJSON *item = v->json->child; item; item = item->next) {
			r->steps++;
			if (index-- == 0)
				return json_value(item);
		}
	}
	return undefined_value;
}

static value_t data_variable(render_t *r, const frame_t *frame, const char *name)
{
	if (strcmp(name, "root") == 0)
		return r->root;
	if (frame == NULL || !frame->iterating)
		return undefined_value;
	if (strcmp(name, "index") == 0)
		return number_value((double)frame->index);
	if (strcmp(name, "key") == 0)
		return frame->key ? string_value(frame->key) : number_value((double)frame->index);
	if (strcmp(name, "first") == 0)
		return bool_value(frame->first);
	if (strcmp(name, "last") == 0)
		return bool_value(frame->last);
	return undefined_value;
}

static value_t eval(render_t *r, const expr_t *e, const ctx_t *ctx, const frame_t *frame)
{
	value_t v;
	size_t i = 0;

	switch (e->kind) {
	case EXPR_NONE:
	case EXPR_UNDEFINED:
		return undefined_value;
	case EXPR_STRING:
		return string_value(e->text);
	case EXPR_NUMBER:
		return number_value(e->number);
	case EXPR_TRUE:
	case EXPR_FALSE:
		return bool_value(e->kind == EXPR_TRUE);
	case EXPR_NULL:
		return json_value(NULL); /* null and undefined print and test alike */
	case EXPR_PATH:
		break;
	}
	if (e->data) {
		for (int d = 0; d < e->depth && frame; d++)
			frame = frame->parent;
		if (e->nparts == 0)
			return undefined_value;
		v = data_variable(r, frame, e->parts[0]);
		i = 1;
	} else {
		for (int d = 0; d < e->depth && ctx; d++)
			ctx = ctx->parent;
		if (ctx == NULL)
			return undefined_value;
		v = ctx->value;
	}
	for (; i < e->nparts && v.kind != V_UNDEF; i++)
		v = member(r, &v, e->parts[i]);
	return v;
}

static int render_program(render_t *r, const program_t *prog, const ctx_t *ctx,
			  const frame_t *frame);

static int budget_spent(render_t *r, size_t offset)
{
	return rerror_at(r, -ETIMEDOUT, offset, "rendering took more than %lu steps", r->max_steps);
}

static int count_step(render_t *r, size_t offset)
{
	return ++r->steps > r->max_steps ? budget_spent(r, offset) : 0;
}

/* Renders prog with value as the context; ../ reaches ctx unless the value is the same. */
static int render_with_context(render_t *r, const program_t *prog, const value_t *value,
			       const ctx_t *ctx, const frame_t *frame)
{
	ctx_t inner = { *value, ctx };

	return render_program(r, prog, same_value(value, &ctx->value) ? ctx : &inner, frame);
}

static int render_each(render_t *r, const node_t *n, const value_t *v, const ctx_t *ctx,
		       const frame_t *frame)
{
	frame_t inner = { true, 0, NULL, false, false, frame };
	int rc;

	if (v->kind == V_JSON && (cJSON_IsArray(v->json) || cJSON_IsObject(v->json)) &&
	    v->json->child != NULL) {
		bool object = cJSON_IsObject(v->json);

		for (const cJSON *item = v->json->child; item; item = item->next, inner.index++) {
			value_t value = json_value(item);

			if ((rc = count_step(r, n->offset)) < 0)
				return rc;
			inner.key = object ? (item->string ? item->string : "") : NULL;
			inner.first = inner.index == 0;
			inner.last = item->next == NULL;
			if ((rc = render_with_context(r, n->program, &value, ctx, &inner)) < 0)
				return rc;
		}
		return 0;
	}
	return render_program(r, n->inverse, ctx, frame);
}

static int render_block(render_t *r, const node_t *n, const ctx_t *ctx, const frame_t *frame)
{
	value_t v = eval(r, &n->param, ctx, frame);
	bool yes;

	switch (n->helper) {
	case HELPER_IF:
	case HELPER_UNLESS: {
		value_t include_zero = eval(r, &n->include_zero, ctx, frame);

		yes = (truthy(&v) || (truthy(&include_zero) && is_number_zero(&v))) &&
		      !is_empty_array(&v);
		if (n->helper == HELPER_UNLESS)
			yes = !yes;
		return render_program(r, yes ? n->program : n->inverse, ctx, frame);
	}
	case HELPER_WITH:
		if (is_empty(&v))
			return render_program(r, n->inverse, ctx, frame);
		return render_with_context(r, n->program, &v, ctx, frame);
	case HELPER_EACH:
		return render_each(r, n, &v, ctx, frame);
	}
	return 0;
}

/* Appends text with indent before every line but a last empty one, as Handlebars does. */
static int write_indented(render_t *r, const char *text, size_t len, const char *indent)
{
	size_t ilen = strlen(indent), start = 0;
	int rc;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;

		if ((rc = buf_add(r, indent, ilen)) < 0 || (rc = buf_add(r, text + start, end - start)) < 0)
			return rc;
		start = end;
	}
	return 0;
}

static int render_partial(render_t *r, const node_t *n, const ctx_t *ctx, const frame_t *frame)
{
	const tpl_t *partial = r->partials ? tpl_set_partial(r->partials, n->name) : NULL;
	const tpl_t *caller = r->tpl;
	buf_t *outer = r->out, own = { NULL, 0, 0 };
	ctx_t inner;
	int rc;

	if (partial == NULL)
		return rerror_at(r, -ENOENT, n->offset, "partial \"%s\" not found", n->name);
	if (r->partial_depth >= r->max_partial_depth)
		return rerror_at(r, -ELOOP, n->offset, "partials nested more than %d deep",
				 r->max_partial_depth);
	/* As Handlebars (without compat): ../ does not leave a partial. */
	inner.value = n->expr.kind != EXPR_NONE ? eval(r, &n->expr, ctx, frame) : ctx->value;
	inner.parent = NULL;
	if (n->indent)
		r->out = &own;
	r->partial_depth++;
	r->tpl = partial;
	rc = render_program(r, partial->root, &inner, frame);
	r->tpl = caller;
	r->partial_depth--;
	if (n->indent) {
		r->out = outer;
		if (rc == 0)
			rc = write_indented(r, own.data, own.len, n->indent);
		free(own.data);
	}
	return rc;
}

static int render_node(render_t *r, const node_t *n, const ctx_t *ctx, const frame_t *frame)
{
	int rc = count_step(r, n->offset);

	if (rc < 0)
		return rc;
	switch (n->kind) {
	case NODE_CONTENT:
		return buf_add(r, n->orig + n->vstart, n->vend - n->vstart);
	case NODE_COMMENT:
		return 0;
	case NODE_MUSTACHE: {
		value_t v = eval(r, &n->expr, ctx, frame);

		rc = write_value(r, &v, n->escaped && !r->no_escape);
		/* Printing a long array counts too; it has no position to report. */
		return rc == -ETIMEDOUT ? budget_spent(r, n->offset) : rc;
	}
	case NODE_BLOCK:
		return render_block(r, n, ctx, frame);
	case NODE_PARTIAL:
		return render_partial(r, n, ctx, frame);
	}
	return 0;
}

static int render_program(render_t *r, const program_t *prog, const ctx_t *ctx,
			  const frame_t *frame)
{
	if (prog == NULL)
		return 0;
	for (size_t i = 0; i < prog->count; i++) {
		int rc = render_node(r, prog->items[i], ctx, frame);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int tpl_render(const tpl_t *tpl, const cJSON *data, const tpl_set_t *partials,
	       const tpl_options_t *opts, char **out, char *err, size_t errlen)
{
	static const tpl_options_t defaults = { 0 };
	buf_t buf = { NULL, 0, 0 };
	render_t r = { 0 };
	ctx_t root;
	int rc;

	if (opts == NULL)
		opts = &defaults;
	*out = NULL;
	r.partials = partials;
	r.root = json_value(data);
	r.no_escape = opts->no_escape;
	r.max_output = opts->max_output ? opts->max_output : TPL_DEFAULT_MAX_OUTPUT;
	r.max_partial_depth = opts->max_partial_depth > 0 ? opts->max_partial_depth
							  : TPL_DEFAULT_MAX_PARTIAL_DEPTH;
	r.max_steps = opts->max_steps ? opts->max_steps : TPL_DEFAULT_MAX_STEPS;
	r.tpl = tpl;
	r.out = &buf;
	r.err = err;
	r.errlen = errlen;
	root.value = r.root;
	root.parent = NULL;
	rc = buf_add(&r, "", 0);
	if (rc == 0)
		rc = render_program(&r, tpl->root, &root, NULL);
	if (rc < 0) {
		free(buf.data);
		return rc;
	}
	*out = buf.data;
	return 0;
}
