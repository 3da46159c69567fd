/*
 * triggers.c - the coordinator's trigger processing.
 *
 * Each batch is one transaction: claim unprocessed rows (FOR UPDATE SKIP
 * LOCKED, so two coordinators share the work without waiting), build each
 * row's context, choose its workflow, create the executions, mark the rows
 * processed. A crash anywhere rolls the whole batch back, and the unique key
 * (trigger_table, trigger_id, workflow_id) of workflow_executions makes a
 * second start impossible however the batch is retried.
 *
 * Routing lives in the definitions, not here: every active, valid workflow
 * of the row's source whose trigger.rule (JSON Logic over the context) is
 * truthy matches, and the one with the highest priority starts. A workflow
 * without a rule matches every row of its source.
 */
#include "triggers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonlogic.h"
#include "log.h"

typedef struct {
	const char *table;
	const char *source;
	const char *claim_sql;
	const char *mark_sql;
} trigger_table_t;

static const trigger_table_t tables[] = {
	{ "dummy_subscriptions", "subscription",
	  "SELECT id, context FROM wf_subscription_contexts"
	  " WHERE NOT processed ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED",
	  "UPDATE dummy_subscriptions SET processed = true, processed_at = now()"
	  " WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)" },
	{ "dummy_newsletters", "newsletter",
	  "SELECT id, context FROM wf_newsletter_contexts"
	  " WHERE NOT processed ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED",
	  "UPDATE dummy_newsletters SET processed = true, processed_at = now()"
	  " WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)" },
};

/* The candidate workflows of a source, highest priority first. */
typedef struct {
	cJSON *list; /* [{"name":..., "rule":...}], owned */
} routes_t;

static int load_routes(db_t *db, const char *source, routes_t *routes)
{
	const char *params[1] = { source };
	PGresult *res = db_query(db,
				 "SELECT name, definition #> '{trigger,rule}' FROM workflow"
				 " WHERE active AND valid AND trigger_source = $1 ORDER BY priority DESC, id",
				 1, params);

	if (!db_ok(res)) {
		PQclear(res);
		return -1;
	}
	routes->list = cJSON_CreateArray();
	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *route = json_object();

		json_add_string(route, "name", PQgetvalue(res, i, 0));
		if (!PQgetisnull(res, i, 1))
			json_add(route, "rule", cJSON_Parse(PQgetvalue(res, i, 1)));
		cJSON_AddItemToArray(routes->list, route);
	}
	PQclear(res);
	return 0;
}

/* The workflow a context starts, or NULL when no rule matches. Borrowed from routes. */
static const char *choose(const routes_t *routes, const cJSON *context, const char *table,
			  const char *id)
{
	const cJSON *route;

	cJSON_ArrayForEach(route, routes->list) {
		const cJSON *rule = cJSON_GetObjectItemCaseSensitive(route, "rule");
		bool match = true;
		char err[256];

		if (rule && jl_test(rule, context, NULL, &match, err, sizeof(err)) < 0) {
			log_warn("trigger rule of workflow \"%s\" failed on %s %s: %s",
				 json_string(route, "name"), table, id, err);
			match = false;
		}
		if (match)
			return json_string(route, "name");
	}
	return NULL;
}

/* One batch of one table; *claimed gets how many rows it took. */
static int process_batch(db_t *db, const trigger_table_t *t, int batch_size, int *claimed,
			 int *started)
{
	char limit[16];
	const char *params[2] = { limit, NULL };
	cJSON *creates = cJSON_CreateArray();
	cJSON *ids = cJSON_CreateArray();
	routes_t routes = { NULL };
	PGresult *res = NULL;
	char *creates_text = NULL, *ids_text = NULL;
	int rc = -1;

	*claimed = 0;
	snprintf(limit, sizeof(limit), "%d", batch_size);
	if (db_begin(db) < 0)
		goto out;
	res = db_query(db, t->claim_sql, 1, params);
	if (!db_ok(res))
		goto out;
	*claimed = PQntuples(res);
	if (*claimed > 0 && load_routes(db, t->source, &routes) < 0)
		goto out;
	for (int i = 0; i < *claimed; i++) {
		const char *id = PQgetvalue(res, i, 0);
		cJSON *context = cJSON_Parse(PQgetvalue(res, i, 1));
		const char *workflow = context ? choose(&routes, context, t->table, id) : NULL;

		/* Ids travel as text, so no bigint goes through a double. */
		cJSON_AddItemToArray(ids, cJSON_CreateString(id));
		if (workflow == NULL) {
			log_info("%s %s matches no workflow", t->table, id);
			cJSON_Delete(context);
			continue;
		}
		{
			cJSON *create = json_object();

			json_add_string(create, "workflow", workflow);
			json_add(create, "context", context);
			json_add_string(create, "id", id);
			cJSON_AddItemToArray(creates, create);
		}
	}
	if (cJSON_GetArraySize(creates) > 0) {
		PGresult *made;

		creates_text = json_print(creates);
		params[0] = creates_text;
		params[1] = t->table;
		made = db_query(db, "SELECT wf_executions_create_for($2, $1::jsonb)", 2, params);
		if (!db_ok(made)) {
			char msg[256];

			log_warn("could not start workflows for %s: %s", t->table,
				 db_error_message(made, msg, sizeof(msg)));
			PQclear(made);
			goto out;
		}
		if (started)
			*started += atoi(PQgetvalue(made, 0, 0));
		PQclear(made);
	}
	if (*claimed > 0) {
		ids_text = json_print(ids);
		params[0] = ids_text;
		if (db_command(db, t->mark_sql, 1, params) < 0)
			goto out;
	}
	if (db_commit(db) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		db_rollback(db);
	PQclear(res);
	cJSON_Delete(routes.list);
	cJSON_Delete(creates);
	cJSON_Delete(ids);
	free(creates_text);
	free(ids_text);
	return rc;
}

int triggers_process(db_t *db, int batch_size, int *started)
{
	if (started)
		*started = 0;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		int claimed;

		do {
			if (process_batch(db, &tables[i], batch_size, &claimed, started) < 0)
				return -1;
		} while (claimed == batch_size);
	}
	return 0;
}
