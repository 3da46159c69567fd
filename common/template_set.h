/*
 * template_set.h - the engine's email templates, loaded from TEMPLATES_DIR.
 *
 * A set is every email template of a folder (each a subject, a plain-text
 * and an HTML part) and the partials they share, all compiled and
 * cross-checked at load, so that a broken template is refused when the
 * daemons start or reload (SIGHUP), not when an email is due. The layout:
 *
 *   <dir>/<name>/subject.hbs   one line once rendered (white space is folded)
 *   <dir>/<name>/text.hbs      the text/plain part
 *   <dir>/<name>/html.hbs      the text/html part
 *   <dir>/partials/<p>.hbs     {{> p}} in any part or partial
 *
 * A set never changes after loading; replace it whole to reload.
 */
#ifndef WF_TEMPLATE_SET_H
#define WF_TEMPLATE_SET_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "template.h"

typedef struct tpl_set tpl_set_t;

/* One email template; everything in it belongs to the set. */
typedef struct {
	char *name;
	tpl_t *subject;
	tpl_t *text;
	tpl_t *html;
} tpl_email_t;

/* A rendered email; the strings belong to the caller (tpl_rendered_free()). */
typedef struct {
	char *subject;
	char *text;
	char *html;
} tpl_rendered_t;

/*
 * Loads and compiles every template and partial under dir. Returns 0 and a
 * new set in *out (free with tpl_set_free()), or a negative error with the
 * first problem in err, as "file:line:col: message" for a syntax error or a
 * missing partial. On error *out is NULL and nothing else is touched, so a
 * daemon keeps its old set when a reload fails.
 */
int tpl_set_load(const char *dir, tpl_set_t **out, char *err, size_t errlen);

/* An empty set, for partials added from memory (tests, fuzzing). Free with tpl_set_free(). */
int tpl_set_new(tpl_set_t **out);

/*
 * Compiles text as the partial name of set. The partials it uses must be in
 * the set already, or be name itself (recursion is bounded at render time).
 * Returns 0, -EINVAL (syntax error or missing partial, in err) or -EEXIST.
 */
int tpl_set_add_partial(tpl_set_t *set, const char *name, const char *text, size_t len,
			const char *filename, char *err, size_t errlen);

/* Frees the set and every template in it; accepts NULL. */
void tpl_set_free(tpl_set_t *set);

/* The email template called name, or NULL. Owned by the set. */
const tpl_email_t *tpl_set_find(const tpl_set_t *set, const char *name);
/* The email templates in name order, for listing. Owned by the set. */
size_t tpl_set_count(const tpl_set_t *set);
const tpl_email_t *tpl_set_at(const tpl_set_t *set, size_t i);
/* The compiled partial called name, or NULL. Owned by the set. */
const tpl_t *tpl_set_partial(const tpl_set_t *set, const char *name);

/*
 * Renders the three parts of the email template name with data. The HTML
 * part is HTML-escaped; the subject and the text part are not (they are not
 * HTML), and the subject's white space, line breaks included, is folded to
 * single spaces so it cannot break the header. Returns 0 with the parts in
 * *out (free with tpl_rendered_free()), -ENOENT for an unknown name, or a
 * render error of tpl_render(); *out is all NULL on error.
 */
int tpl_render_email(const tpl_set_t *set, const char *name, const cJSON *data,
		     tpl_rendered_t *out, char *err, size_t errlen);
/* Frees the parts and sets them to NULL; accepts NULL. */
void tpl_rendered_free(tpl_rendered_t *rendered);

/*
 * Folds every run of white space in s, line breaks included, to one space
 * and trims it, in place: text that goes into one header line.
 */
void tpl_fold_line(char *s);

/*
 * Reads a whole file (path NULL: standard input) of at most max bytes into a
 * NUL-terminated string the caller frees. Returns 0, or -errno / -EFBIG with
 * a message in err.
 */
int tpl_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
		  size_t errlen);

/*
 * TEMPLATES_DIR's default: the installed templates (<datadir>/wf-engine/
 * templates) when that folder exists, else templates/ of the source tree
 * this was built from. A static string.
 */
const char *tpl_default_dir(void);

#endif
