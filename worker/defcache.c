/*
 * defcache.c - parsed definitions by (workflow, version).
 */
#include "defcache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* More than this many are forgotten at the next defcache_trim(). */
#define DEFCACHE_MAX 256

typedef struct {
	int64_t workflow_id;
	int version;
	def_t *def;		/* NULL: this version could not be loaded or is invalid */
	char error[200];
} entry_t;

struct defcache {
	db_t *db;
	entry_t *entries;
	int count;
	int cap;
};

const db_statement_t defcache_statements[] = {
	{ "defcache_load",
	  "SELECT definition FROM workflow_versions WHERE workflow_id = $1::bigint AND version = $2::int" },
};
const int defcache_statements_count = sizeof(defcache_statements) / sizeof(defcache_statements[0]);

defcache_t *defcache_new(db_t *db)
{
	defcache_t *c = calloc(1, sizeof(*c));

	if (c)
		c->db = db;
	return c;
}

static void clear(defcache_t *c)
{
	for (int i = 0; i < c->count; i++)
		def_free(c->entries[i].def);
	c->count = 0;
}

void defcache_free(defcache_t *c)
{
	if (c == NULL)
		return;
	clear(c);
	free(c->entries);
	free(c);
}

void defcache_trim(defcache_t *c)
{
	if (c->count > DEFCACHE_MAX)
		clear(c);
}

/* Loads and parses one version; the entry records the failure when it fails. */
static void load(defcache_t *c, entry_t *e)
{
	char id[24], version[16];
	const char *params[2] = { id, version };
	def_problems_t problems = { 0 };
	PGresult *res;
	cJSON *json;

	snprintf(id, sizeof(id), "%" PRId64, e->workflow_id);
	snprintf(version, sizeof(version), "%d", e->version);
	res = db_run(c->db, "defcache_load", 2, params);
	if (!db_ok(res) || PQntuples(res) != 1) {
		snprintf(e->error, sizeof(e->error), "version %d of workflow %" PRId64 " is not in workflow_versions",
			 e->version, e->workflow_id);
		PQclear(res);
		return;
	}
	json = cJSON_Parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (def_parse(json, NULL, &e->def, &problems) < 0)
		snprintf(e->error, sizeof(e->error), "definition is invalid: %s",
			 problems.count ? problems.items[0].message : "not JSON");
	cJSON_Delete(json);
	def_problems_free(&problems);
}

const def_t *defcache_get(defcache_t *c, int64_t workflow_id, int version, char *err, size_t errlen)
{
	entry_t *e = NULL;

	for (int i = 0; i < c->count; i++)
		if (c->entries[i].workflow_id == workflow_id && c->entries[i].version == version)
			e = &c->entries[i];
	if (e == NULL) {
		/* A database error is not remembered: the next step tries again. */
		entry_t fresh = { .workflow_id = workflow_id, .version = version };

		load(c, &fresh);
		if (fresh.def == NULL && !db_connected(c->db)) {
			snprintf(err, errlen, "%s", fresh.error);
			return NULL;
		}
		if (c->count == c->cap) {
			int cap = c->cap ? c->cap * 2 : 16;
			entry_t *grown = realloc(c->entries, (size_t)cap * sizeof(*grown));

			if (grown == NULL) {
				def_free(fresh.def);
				snprintf(err, errlen, "out of memory");
				return NULL;
			}
			c->entries = grown;
			c->cap = cap;
		}
		c->entries[c->count] = fresh;
		e = &c->entries[c->count++];
	}
	if (e->def == NULL)
		snprintf(err, errlen, "%s", e->error);
	return e->def;
}
