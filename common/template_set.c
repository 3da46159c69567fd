/*
 * template_set.c - loading TEMPLATES_DIR into a set of compiled templates,
 * and rendering an email from it.
 *
 * Loading is all or nothing: every file is compiled first, then every
 * {{> partial}} is checked against the partials found, and the first problem
 * (in file-name order, so it is the same on every run) fails the load.
 */
#include "template_set.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
	char *name;
	tpl_t *tpl;
} partial_t;

struct tpl_set {
	partial_t *partials; /* sorted by name */
	size_t npartials;
	tpl_email_t *emails; /* sorted by name */
	size_t nemails;
};

static const char *const part_files[] = { "subject.hbs", "text.hbs", "html.hbs" };

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

int tpl_set_new(tpl_set_t **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		abort();
	return 0;
}

static void email_clear(tpl_email_t *e)
{
	free(e->name);
	tpl_free(e->subject);
	tpl_free(e->text);
	tpl_free(e->html);
}

void tpl_set_free(tpl_set_t *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->npartials; i++) {
		free(set->partials[i].name);
		tpl_free(set->partials[i].tpl);
	}
	free(set->partials);
	for (size_t i = 0; i < set->nemails; i++)
		email_clear(&set->emails[i]);
	free(set->emails);
	free(set);
}

static int compare_partial(const void *a, const void *b)
{
	return strcmp(((const partial_t *)a)->name, ((const partial_t *)b)->name);
}

static int compare_email(const void *a, const void *b)
{
	return strcmp(((const tpl_email_t *)a)->name, ((const tpl_email_t *)b)->name);
}

const tpl_t *tpl_set_partial(const tpl_set_t *set, const char *name)
{
	partial_t key = { (char *)name, NULL };
	const partial_t *found;

	if (set == NULL || set->npartials == 0)
		return NULL;
	found = bsearch(&key, set->partials, set->npartials, sizeof(key), compare_partial);
	return found ? found->tpl : NULL;
}

const tpl_email_t *tpl_set_find(const tpl_set_t *set, const char *name)
{
	tpl_email_t key = { (char *)name, NULL, NULL, NULL };

	if (set == NULL || set->nemails == 0)
		return NULL;
	return bsearch(&key, set->emails, set->nemails, sizeof(key), compare_email);
}

size_t tpl_set_count(const tpl_set_t *set)
{
	return set ? set->nemails : 0;
}

const tpl_email_t *tpl_set_at(const tpl_set_t *set, size_t i)
{
	return set && i < set->nemails ? &set->emails[i] : NULL;
}

/* Adds a compiled partial, keeping the array sorted; takes tpl. */
static void insert_partial(tpl_set_t *set, const char *name, tpl_t *tpl)
{
	size_t at = 0;

	while (at < set->npartials && strcmp(set->partials[at].name, name) < 0)
		at++;
	set->partials = xrealloc(set->partials, (set->npartials + 1) * sizeof(*set->partials));
	memmove(&set->partials[at + 1], &set->partials[at],
		(set->npartials - at) * sizeof(*set->partials));
	set->partials[at].name = xstrdup(name);
	set->partials[at].tpl = tpl;
	set->npartials++;
}

/* Names become {{> name}} and folder names: keep them to plain characters. */
static bool valid_name(const char *name, bool dots)
{
	if (*name == '\0' || *name == '.')
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '_' || *c == '-' || (dots && *c == '.')))
			return false;
	return true;
}

int tpl_set_add_partial(tpl_set_t *set, const char *name, const char *text, size_t len,
			const char *filename, char *err, size_t errlen)
{
	tpl_t *tpl;
	int rc;

	if (tpl_set_partial(set, name) != NULL) {
		snprintf(err, errlen, "partial \"%s\" defined twice", name);
		return -EEXIST;
	}
	rc = tpl_compile(text, len, filename, NULL, &tpl, err, errlen);
	if (rc < 0)
		return rc;
	/* Checked before it is added, except that it may call itself. */
	insert_partial(set, name, tpl);
	rc = tpl_check_partials(tpl, set, err, errlen);
	if (rc < 0) {
		size_t at = 0;

		while (set->partials[at].tpl != tpl)
			at++;
		free(set->partials[at].name);
		tpl_free(tpl);
		memmove(&set->partials[at], &set->partials[at + 1],
			(set->npartials - at - 1) * sizeof(*set->partials));
		set->npartials--;
		return rc;
	}
	return 0;
}

int tpl_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
		  size_t errlen)
{
	FILE *f = path ? fopen(path, "rb") : stdin;
	const char *what = path ? path : "standard input";
	size_t used = 0, cap = 4096;
	char *buf;
	int rc = 0;

	*out = NULL;
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "could not read \"%s\": %s", what, strerror(errno));
		return rc;
	}
	buf = xrealloc(NULL, cap);
	for (;;) {
		size_t n;

		if (used + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + used, 1, cap - used - 1, f);
		used += n;
		if (used > max) {
			snprintf(err, errlen, "\"%s\" is larger than %zu bytes", what, max);
			rc = -EFBIG;
			break;
		}
		if (n == 0) {
			if (ferror(f)) {
				rc = -EIO;
				snprintf(err, errlen, "could not read \"%s\"", what);
			}
			break;
		}
	}
	if (path)
		fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

static int compile_file(const char *path, tpl_t **out, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc = tpl_read_file(path, TPL_MAX_SOURCE, &text, &len, err, errlen);

	if (rc < 0)
		return rc;
	rc = tpl_compile(text, len, path, NULL, out, err, errlen);
	free(text);
	return rc;
}

static int compare_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

/* "a/b", allocated; the caller frees it. */
static char *join_path(const char *a, const char *b)
{
	char *path;

	if (asprintf(&path, "%s/%s", a, b) < 0)
		abort();
	return path;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Folder entries in name order, without hidden ones; free with free_entries(). */
static int list_dir(const char *dir, struct dirent ***entries, char *err, size_t errlen)
{
	int n = scandir(dir, entries, NULL, compare_names);

	if (n < 0) {
		int rc = -errno;

		snprintf(err, errlen, "could not read the template folder \"%s\": %s", dir,
			 strerror(errno));
		return rc;
	}
	return n;
}

static void free_entries(struct dirent **entries, int n)
{
	for (int i = 0; i < n; i++)
		free(entries[i]);
	free(entries);
}

static int load_partials(tpl_set_t *set, const char *dir, char *err, size_t errlen)
{
	char *path = join_path(dir, "partials");
	struct dirent **entries;
	int n, rc = 0;

	if (!is_dir(path)) {
		free(path);
		return 0;
	}
	n = list_dir(path, &entries, err, errlen);
	for (int i = 0; i < n && rc == 0; i++) {
		const char *file = entries[i]->d_name;
		char *full, *name;
		tpl_t *tpl;

		if (file[0] == '.' || !has_suffix(file, ".hbs"))
			continue;
		full = join_path(path, file);
		name = xstrdup(file);
		name[strlen(name) - 4] = '\0';
		if (!valid_name(name, true)) {
			snprintf(err, errlen, "%s: a partial's name may use only letters, digits, _, - and .",
				 full);
			rc = -EINVAL;
		} else if ((rc = compile_file(full, &tpl, err, errlen)) == 0) {
			insert_partial(set, name, tpl);
		}
		free(name);
		free(full);
	}
	free(path);
	if (n < 0)
		return n;
	free_entries(entries, n);
	return rc;
}

/* One template folder: its three parts, and no other .hbs file (a typo would go unseen). */
static int load_email(tpl_set_t *set, const char *dir, const char *name, char *err, size_t errlen)
{
	char *path = join_path(dir, name);
	struct dirent **entries;
	tpl_email_t email = { NULL, NULL, NULL, NULL };
	tpl_t **parts[3] = { &email.subject, &email.text, &email.html };
	int n, rc = 0;

	if (!valid_name(name, false)) {
		snprintf(err, errlen, "%s: a template's name may use only letters, digits, _ and -", path);
		free(path);
		return -EINVAL;
	}
	n = list_dir(path, &entries, err, errlen);
	if (n < 0) {
		free(path);
		return n;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		const char *file = entries[i]->d_name;
		bool known = false;

		for (int p = 0; p < 3; p++)
			known = known || strcmp(file, part_files[p]) == 0;
		if (!known && file[0] != '.' && has_suffix(file, ".hbs")) {
			snprintf(err, errlen, "%s/%s: unknown part (a template has subject.hbs, text.hbs and html.hbs)",
				 path, file);
			rc = -EINVAL;
		}
	}
	free_entries(entries, n);
	for (int p = 0; p < 3 && rc == 0; p++) {
		char *full = join_path(path, part_files[p]);
		struct stat st;

		if (stat(full, &st) < 0 && errno == ENOENT) {
			snprintf(err, errlen, "%s: missing (a template has subject.hbs, text.hbs and html.hbs)",
				 full);
			rc = -ENOENT;
		} else {
			rc = compile_file(full, parts[p], err, errlen);
		}
		free(full);
	}
	free(path);
	if (rc < 0) {
		email_clear(&email);
		return rc;
	}
	email.name = xstrdup(name);
	set->emails = xrealloc(set->emails, (set->nemails + 1) * sizeof(*set->emails));
	set->emails[set->nemails++] = email; /* listed in name order, so already sorted */
	return 0;
}

static int check_set(const tpl_set_t *set, char *err, size_t errlen)
{
	int rc = 0;

	for (size_t i = 0; i < set->npartials && rc == 0; i++)
		rc = tpl_check_partials(set->partials[i].tpl, set, err, errlen);
	for (size_t i = 0; i < set->nemails && rc == 0; i++) {
		const tpl_email_t *e = &set->emails[i];

		if ((rc = tpl_check_partials(e->subject, set, err, errlen)) == 0 &&
		    (rc = tpl_check_partials(e->text, set, err, errlen)) == 0)
			rc = tpl_check_partials(e->html, set, err, errlen);
	}
	return rc;
}

int tpl_set_load(const char *dir, tpl_set_t **out, char *err, size_t errlen)
{
	struct dirent **entries;
	tpl_set_t *set;
	int n, rc;

	*out = NULL;
	n = list_dir(dir, &entries, err, errlen);
	if (n < 0)
		return n;
	tpl_set_new(&set);
	rc = load_partials(set, dir, err, errlen);
	for (int i = 0; i < n && rc == 0; i++) {
		const char *name = entries[i]->d_name;
		char *path;

		if (name[0] == '.' || strcmp(name, "partials") == 0)
			continue;
		path = join_path(dir, name);
		if (is_dir(path)) {
			rc = load_email(set, dir, name, err, errlen);
		} else if (has_suffix(name, ".hbs")) {
			snprintf(err, errlen, "%s: a template is a folder (%s/<name>/subject.hbs, text.hbs, html.hbs)",
				 path, dir);
			rc = -EINVAL;
		}
		free(path);
	}
	free_entries(entries, n);
	if (rc == 0 && set->nemails == 0) {
		snprintf(err, errlen, "no templates in \"%s\" (expected <name>/subject.hbs, text.hbs, html.hbs)",
			 dir);
		rc = -ENOENT;
	}
	if (rc == 0)
		rc = check_set(set, err, errlen);
	if (rc < 0) {
		tpl_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}

void tpl_fold_line(char *s)
{
	char *w = s;
	bool space = false;

	for (const char *c = s; *c; c++) {
		if (strchr(" \t\r\n\v\f", *c)) {
			space = w != s;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *c;
	}
	*w = '\0';
}

int tpl_render_email(const tpl_set_t *set, const char *name, const cJSON *data,
		     tpl_rendered_t *out, char *err, size_t errlen)
{
	const tpl_options_t plain = { .no_escape = true };
	const tpl_email_t *email = tpl_set_find(set, name);
	int rc;

	memset(out, 0, sizeof(*out));
	if (email == NULL) {
		snprintf(err, errlen, "unknown template \"%s\"", name);
		return -ENOENT;
	}
	rc = tpl_render(email->subject, data, set, &plain, &out->subject, err, errlen);
	if (rc == 0)
		rc = tpl_render(email->text, data, set, &plain, &out->text, err, errlen);
	if (rc == 0)
		rc = tpl_render(email->html, data, set, NULL, &out->html, err, errlen);
	if (rc < 0) {
		tpl_rendered_free(out);
		return rc;
	}
	tpl_fold_line(out->subject);
	return 0;
}

void tpl_rendered_free(tpl_rendered_t *rendered)
{
	if (rendered == NULL)
		return;
	free(rendered->subject);
	free(rendered->text);
	free(rendered->html);
	memset(rendered, 0, sizeof(*rendered));
}

#ifndef WF_TEMPLATES_INSTALL_DIR
#define WF_TEMPLATES_INSTALL_DIR "/usr/local/share/wf-engine/templates"
#endif
#ifndef WF_TEMPLATES_SOURCE_DIR
#define WF_TEMPLATES_SOURCE_DIR "templates"
#endif

const char *tpl_default_dir(void)
{
	return is_dir(WF_TEMPLATES_INSTALL_DIR) ? WF_TEMPLATES_INSTALL_DIR : WF_TEMPLATES_SOURCE_DIR;
}
