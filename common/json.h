/*
 * json.h - small helpers over cJSON that the rest of the code repeats:
 * typed member access, parsing with a useful error, compact printing.
 */
#ifndef WF_JSON_H
#define WF_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The member's string value, or NULL when absent or not a string. Borrowed. */
const char *json_string(const cJSON *obj, const char *key);
/* True and *out set when the member is a number. */
bool json_number(const cJSON *obj, const char *key, double *out);
/* True and *out set when the member is a whole number within int range. */
bool json_int(const cJSON *obj, const char *key, int *out);
/* True when the member is present and not JSON null. */
bool json_has(const cJSON *obj, const char *key);

/*
 * A key that appears twice in one object of item (searched all through
 * when deep, else only item's own keys), or NULL. cJSON keeps duplicates
 * and finds the first; PostgreSQL's jsonb keeps the last: a document with
 * one would be checked as one thing and stored as another. Borrowed.
 */
const char *json_duplicate_key(const cJSON *item, bool deep);

/*
 * Parses len bytes (need not be NUL-terminated). On failure returns NULL and
 * writes "invalid JSON at byte N" (or the reason) to err. Caller owns the tree.
 */
cJSON *json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Compact text of item; caller frees with free(). Never NULL (aborts on OOM). */
char *json_print(const cJSON *item);

/* Shorthand constructors that abort on out-of-memory instead of returning NULL. */
cJSON *json_object(void);
void json_add_string(cJSON *obj, const char *key, const char *value);
void json_add_number(cJSON *obj, const char *key, double value);
void json_add_bool(cJSON *obj, const char *key, bool value);
void json_add(cJSON *obj, const char *key, cJSON *item);

#endif
