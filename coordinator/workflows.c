/*
 * workflows.c - validating definitions stored in the workflow table.
 *
 * The engine validates what it writes itself before writing it. Definitions
 * inserted or changed by plain SQL arrive with valid = NULL (the versioning
 * trigger sees to that) and a NOTIFY on wf_workflows; this module checks
 * them in C, marks them valid or invalid with the list of problems, and logs
 * the invalid ones. wf_execution_create refuses to start an invalid one.
 */
#include "workflows.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

/* Validations read the set on threadpool threads; SIGHUP replaces it on the loop. */
static pthread_rwlock_t templates_lock = PTHREAD_RWLOCK_INITIALIZER;
static tpl_set_t *templates;

void workflows_set_templates(tpl_set_t *set)
{
	tpl_set_t *old;

	pthread_rwlock_wrlock(&templates_lock);
	old = templates;
	templates = set;
	pthread_rwlock_unlock(&templates_lock);
	tpl_set_free(old);
}

cJSON *workflows_template_names(void)
{
	cJSON *names = NULL;

	pthread_rwlock_rdlock(&templates_lock);
	if (templates != NULL) {
		names = cJSON_CreateArray();
		for (size_t i = 0; i < tpl_set_count(templates); i++)
			cJSON_AddItemToArray(names, cJSON_CreateString(tpl_set_at(templates, i)->name));
	}
	pthread_rwlock_unlock(&templates_lock);
	return names;
}

static bool has_template(void *arg, const char *name)
{
	return templates == NULL || tpl_set_find(templates, name) != NULL;
}

static const cJSON *lookup_workflow(void *arg, const char *name)
{
	workflows_resolver_t *r = arg;
	const char *params[1] = { name };
	const cJSON *cached = cJSON_GetObjectItemCaseSensitive(r->loaded, name);
	PGresult *res;
	cJSON *def;

	if (cached)
		return cJSON_IsNull(cached) ? NULL : cached;
	res = db_query(r->db, "SELECT definition FROM workflow WHERE name = $1", 1, params);
	def = db_ok(res) && PQntuples(res) == 1 ? cJSON_Parse(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	/* Unknown names are cached as null, so each is looked up once. */
	json_add(r->loaded, name, def ? def : cJSON_CreateNull());
	return def;
}

/*
 * A cron trigger's time zone must be one the database knows: AT TIME ZONE
 * would fail on every tick otherwise. The lookup is as case-insensitive as
 * PostgreSQL's own; when it cannot be made, the name's form (checked
 * already) has to do rather than refusing a definition for a lost query.
 */
static bool has_timezone(void *arg, const char *name)
{
	workflows_resolver_t *r = arg;
	const char *params[1] = { name };
	PGresult *res = db_query(r->db, "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE lower(name) = lower($1))",
				 1, params);
	bool known = !db_ok(res) || PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	return known;
}

void workflows_resolver_init(workflows_resolver_t *r, db_t *db)
{
	r->db = db;
	r->loaded = json_object();
	r->resolver.lookup = lookup_workflow;
	r->resolver.has_template = has_template;
	r->resolver.has_timezone = has_timezone;
	r->resolver.arg = r;
	pthread_rwlock_rdlock(&templates_lock);
}

void workflows_resolver_free(workflows_resolver_t *r)
{
	pthread_rwlock_unlock(&templates_lock);
	cJSON_Delete(r->loaded);
	r->loaded = NULL;
}

/*
 * Only if the definition is still the one we checked. The jobs leave a row
 * another session holds alone rather than wait for it: trigger processing
 * validates too (see triggers.c) and must not stall behind an open
 * transaction. That session is either another validator, which records the
 * verdict, or a writer, whose new definition is checked after it commits;
 * the periodic run catches the rest. An execute that asks for its workflow
 * (wait) waits instead: it must see a verdict, whoever records it.
 */
static int record_verdict(db_t *db, const char *id, const char *definition, bool valid,
			  const def_problems_t *problems, bool wait)
{
	cJSON *errors = valid ? NULL : def_problems_json(problems);
	char *errors_text = errors ? json_print(errors) : NULL;
	const char *params[4] = { id, valid ? "true" : "false", errors_text, definition };
	int rc;

	rc = db_command(db,
			wait ? "UPDATE workflow SET valid = $2::boolean, errors = $3::jsonb"
			       " WHERE id = $1::bigint AND definition = $4::jsonb AND valid IS NULL"
			     : "UPDATE workflow SET valid = $2::boolean, errors = $3::jsonb"
			       " WHERE id = (SELECT id FROM workflow"
			       "             WHERE id = $1::bigint AND definition = $4::jsonb AND valid IS NULL"
			       "             FOR NO KEY UPDATE SKIP LOCKED)",
			4, params);
	free(errors_text);
	cJSON_Delete(errors);
	return rc;
}

/*
 * Validates the pending definitions (of name only, unless NULL) in pages of
 * VALIDATE_PAGE, by id, until a page comes back short. Going by id rather
 * than asking for "the next pending ones" again means that a definition
 * whose verdict could not be recorded does not stop the pass or make it
 * loop; its id is not revisited in this pass, and a definition changed
 * behind the cursor notifies wf_workflows, which runs the job again.
 */
#define VALIDATE_PAGE 100

static int validate_pending(db_t *db, const char *only, bool wait)
{
	char after[24] = "0";
	char page[16];
	const char *params[3] = { after, only, page };
	int total = 0;
	int n;

	snprintf(page, sizeof(page), "%d", VALIDATE_PAGE);
	do {
		PGresult *res = db_query(db,
					 "SELECT id, name, definition FROM workflow"
					 " WHERE valid IS NULL AND id > $1::bigint AND ($2::text IS NULL OR name = $2)"
					 " ORDER BY id LIMIT $3::int",
					 3, params);

		if (!db_ok(res)) {
			PQclear(res);
			return -1;
		}
		n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			const char *id = PQgetvalue(res, i, 0);
			const char *name = PQgetvalue(res, i, 1);
			const char *text = PQgetvalue(res, i, 2);
			cJSON *json = cJSON_Parse(text);
			def_problems_t problems = { 0 };
			workflows_resolver_t resolver;
			bool valid;

			workflows_resolver_init(&resolver, db);
			valid = def_validate(json, &resolver.resolver, &problems) == 0;
			if (!valid)
				log_warn("workflow \"%s\" is invalid and will not run: %s%s", name,
					 problems.items[0].message, problems.count > 1 ? " (and more)" : "");
			record_verdict(db, id, text, valid, &problems, wait);
			workflows_resolver_free(&resolver);
			def_problems_free(&problems);
			cJSON_Delete(json);
		}
		if (n > 0)
			snprintf(after, sizeof(after), "%s", PQgetvalue(res, n - 1, 0));
		PQclear(res);
		total += n;
	} while (n == VALIDATE_PAGE);
	return total;
}

int workflows_validate_pending(db_t *db)
{
	return validate_pending(db, NULL, false);
}

int workflows_validate_named(db_t *db, const char *name)
{
	return validate_pending(db, name, true);
}
