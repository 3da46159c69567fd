/*
 * template.h - a Handlebars-compatible template renderer over cJSON data.
 *
 * Email bodies and subjects are Handlebars templates, the format the product
 * brief and its users know, and Debian ships no C implementation. A template
 * is compiled once (every syntax error is found then, with file:line:column)
 * and rendered any number of times; rendering never fails on missing data,
 * only on the limits that keep hostile templates or data from blowing up.
 *
 * Supported: {{path}} (HTML-escaped), {{{raw}}} and {{& raw}}, dotted and
 * slashed paths, this, ../, @root, @index/@key/@first/@last, literals,
 * {{#if}} {{#unless}} {{#each}} {{#with}} with {{else}} and {{else if ...}}
 * chains, {{^helper}} inverted blocks, comments, ~ whitespace control, the
 * standalone-line rules, and partials {{> name [context]}}. docs/templates.md
 * has the details.
 */
#ifndef WF_TEMPLATE_H
#define WF_TEMPLATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Defaults of tpl_options_t, used where a field is 0. */
#define TPL_DEFAULT_MAX_OUTPUT ((size_t)4 << 20)
#define TPL_DEFAULT_MAX_PARTIAL_DEPTH 20
#define TPL_DEFAULT_MAX_STEPS 10000000UL

/* Compile-time limits: larger or deeper templates are syntax errors. */
#define TPL_MAX_SOURCE ((size_t)1 << 20)
#define TPL_MAX_NESTING 50
/* {{else x}} links of one chain (with those of the chains around it); they
 * are not nesting, but each costs a level of recursion when compiled and
 * rendered: 200 keep the worst case near 100 kB of stack without sanitizers. */
#define TPL_MAX_ELSE_CHAIN 200

typedef struct tpl tpl_t;
typedef struct tpl_set tpl_set_t;

typedef struct {
	/* Print {{x}} unescaped, like {{{x}}} (Handlebars' noEscape): for plain text. */
	bool no_escape;
	/* Largest output in bytes; more fails with -EFBIG. */
	size_t max_output;
	/* Deepest chain of partials calling partials; deeper fails with -ELOOP. */
	int max_partial_depth;
	/* Work budget (nodes, iterations, data members looked at); more fails with -ETIMEDOUT. */
	unsigned long max_steps;
} tpl_options_t;

/*
 * Compiles len bytes of template text. filename names the text in error
 * messages ("file:line:col: message"; NULL means "<template>"). When
 * partials is given, every {{> partial}} the text uses must exist in it (see
 * tpl_check_partials()); NULL leaves that check to the caller, as the loader
 * of a set does once all its partials are compiled. Returns 0 and the
 * compiled template in *out, which the caller frees with tpl_free(), or
 * -EINVAL with the first error in err. The template keeps no pointer to text,
 * filename or partials.
 */
int tpl_compile(const char *text, size_t len, const char *filename, const tpl_set_t *partials,
		tpl_t **out, char *err, size_t errlen);
/* Frees a compiled template; accepts NULL. */
void tpl_free(tpl_t *tpl);

/* The file name given to tpl_compile() (or "<template>"); owned by tpl. */
const char *tpl_filename(const tpl_t *tpl);

/*
 * Renders tpl with data as the root context (NULL renders as an empty
 * context). partials should be the set tpl was compiled against; opts may be
 * NULL for the defaults. Returns 0 and a NUL-terminated string in *out that
 * the caller frees with free(); or a negative error with a message in err:
 * -EFBIG output too large, -ELOOP partials nested too deep, -ETIMEDOUT work
 * budget spent, -ENOENT a partial missing from a set other than the one tpl
 * was compiled against. *out is NULL on error.
 */
int tpl_render(const tpl_t *tpl, const cJSON *data, const tpl_set_t *partials,
	       const tpl_options_t *opts, char **out, char *err, size_t errlen);

/*
 * Returns 0 when every partial tpl uses exists in set (which may be NULL:
 * then tpl must use none), else -EINVAL naming the first missing one with
 * its file:line:col in err.
 */
int tpl_check_partials(const tpl_t *tpl, const tpl_set_t *set, char *err, size_t errlen);

#endif
