/*
 * json.c - cJSON helpers.
 */
#include "json.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *json_string(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

bool json_number(const cJSON *obj, const char *key, double *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(item))
		return false;
	*out = item->valuedouble;
	return true;
}

bool json_int(const cJSON *obj, const char *key, int *out)
{
	double v;

	if (!json_number(obj, key, &v) || v != floor(v) || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

bool json_has(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return item != NULL && !cJSON_IsNull(item);
}

cJSON *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "invalid JSON: NUL byte in the text");
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;

		snprintf(err, errlen, "invalid JSON at byte %zu", at);
		return NULL;
	}
	/* Trailing bytes other than white space make the document invalid. */
	while (end < text + len && strchr(" \t\r\n", *end))
		end++;
	if (end != text + len) {
		snprintf(err, errlen, "invalid JSON at byte %zu: trailing characters",
			 (size_t)(end - text));
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

char *json_print(const cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);

	if (text == NULL)
		abort();
	return text;
}

static cJSON *checked(cJSON *item)
{
	if (item == NULL)
		abort();
	return item;
}

cJSON *json_object(void)
{
	return checked(cJSON_CreateObject());
}

void json_add_string(cJSON *obj, const char *key, const char *value)
{
	json_add(obj, key, value ? checked(cJSON_CreateString(value)) : checked(cJSON_CreateNull()));
}

void json_add_number(cJSON *obj, const char *key, double value)
{
	json_add(obj, key, checked(cJSON_CreateNumber(value)));
}

void json_add_bool(cJSON *obj, const char *key, bool value)
{
	json_add(obj, key, checked(cJSON_CreateBool(value)));
}

void json_add(cJSON *obj, const char *key, cJSON *item)
{
	if (!cJSON_AddItemToObject(obj, key, item))
		abort();
}

static int key_order(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The duplicate among an object's own keys: sorted, duplicates are neighbours. */
static const char *own_duplicate(const cJSON *obj)
{
	int n = cJSON_GetArraySize(obj), i = 0;
	const char **keys;
	const char *dup = NULL;
	const cJSON *c;

	if (n < 2)
		return NULL;
	keys = malloc((size_t)n * sizeof(*keys));
	if (keys == NULL)
		abort();
	cJSON_ArrayForEach(c, obj)
		keys[i++] = c->string;
	qsort(keys, (size_t)n, sizeof(*keys), key_order);
	for (i = 1; i < n && dup == NULL; i++)
		if (strcmp(keys[i - 1], keys[i]) == 0)
			dup = keys[i];
	/* The key as the object holds it, not the sorted copy's slot. */
	dup = dup ? cJSON_GetObjectItemCaseSensitive(obj, dup)->string : NULL;
	free(keys);
	return dup;
}

const char *json_duplicate_key(const cJSON *item, bool deep)
{
	const char *dup = cJSON_IsObject(item) ? own_duplicate(item) : NULL;
	const cJSON *c;

	if (!deep)
		return dup;
	for (c = item ? item->child : NULL; c != NULL && dup == NULL; c = c->next)
		dup = json_duplicate_key(c, true);
	return dup;
}
