/*
 * triggers.c - the coordinator's trigger processing.
 *
 * Each batch is one transaction: claim unprocessed rows (FOR UPDATE SKIP
 * LOCKED, so two coordinators share the work without waiting), choose each
 * row's workflow, then one call of wf_trigger_rows_start creates the
 * executions with their contexts and marks the rows processed. A crash
 * anywhere rolls the whole batch back, and the unique key (trigger_table,
 * trigger_id, workflow_id) of workflow_executions makes a second start
 * impossible however the batch is retried.
 *
 * Routing lives in the definitions, not here: every active, valid workflow
 * of the row's source whose trigger.rule (JSON Logic over the context) is
 * truthy matches, and the one with the highest priority starts. A workflow
 * without a rule matches every row of its source.
 *
 * A definition written by plain SQL is not valid until it has been checked
 * (valid IS NULL), and a row routed before then would be routed as if that
 * workflow did not exist: to no workflow, and marked processed, or to a
 * lower-priority one. So each run validates the pending definitions first,
 * and a batch whose source still has an active workflow waiting for its
 * verdict (one written since) claims nothing: it is rolled back, the
 * definitions are validated, and the batch is taken again.
 */
#include "triggers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonlogic.h"
#include "log.h"
#include "workflows.h"

/* How often one run validates again and retries a source's batch before leaving it for the next run. */
#define PENDING_RETRIES 3

typedef struct {
	const char *table;
	const char *source;
	const char *claim_sql; /* $1 batch size, $2 whether to build the contexts */
} trigger_table_t;

/*
 * A context leaves the database only when a trigger rule has to test it:
 * wf_trigger_rows_start reads it where it is built (see sql/020).
 */
static const trigger_table_t tables[] = {
	{ "dummy_subscriptions", "subscription",
	  "SELECT id, CASE WHEN $2::boolean THEN context END FROM wf_subscription_contexts"
	  " WHERE NOT processed ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED" },
	{ "dummy_newsletters", "newsletter",
	  "SELECT id, CASE WHEN $2::boolean THEN context END FROM wf_newsletter_contexts"
	  " WHERE NOT processed ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED" },
};

/* The candidate workflows of a source, highest priority first. */
typedef struct {
	cJSON *list; /* [{"name":..., "rule":...}], owned */
	bool any_rule; /* whether choosing needs the contexts */
	bool pending; /* an active workflow of the source is not validated yet */
} routes_t;

static void free_routes(routes_t *routes)
{
	cJSON_Delete(routes->list);
	routes->list = NULL;
	routes->any_rule = routes->pending = false;
}

static int load_routes(db_t *db, const char *source, routes_t *routes)
{
	const char *params[1] = { source };
	bool catch_all = false;
	PGresult *res = db_query(db,
				 "SELECT name, definition #> '{trigger,rule}', valid IS NULL FROM workflow"
				 " WHERE active AND valid IS NOT false AND trigger_source = $1"
				 " ORDER BY priority DESC, id",
				 1, params);

	if (!db_ok(res)) {
		PQclear(res);
		return -1;
	}
	routes->list = cJSON_CreateArray();
	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *route;

		if (strcmp(PQgetvalue(res, i, 2), "t") == 0) {
			routes->pending = true;
			continue;
		}
		/*
		 * A route without a rule takes every row that reaches it, so
		 * those after it are never chosen, and their rules must not
		 * make the claim build contexts that nothing will test.
		 */
		if (catch_all)
			continue;
		catch_all = PQgetisnull(res, i, 1);
		route = json_object();

		json_add_string(route, "name", PQgetvalue(res, i, 0));
		if (!PQgetisnull(res, i, 1)) {
			json_add(route, "rule", cJSON_Parse(PQgetvalue(res, i, 1)));
			routes->any_rule = true;
		}
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

/*
 * Whether the routes loaded before the claim still hold for the rows it
 * took. Each statement of the batch sees the database as it was when the
 * statement began, so a definition written in the same transaction as a
 * claimed row may have been committed after the first load: loading them
 * again after the claim sees it. 1 when they hold, 0 when they changed or
 * wait for validation, -1 on a database error.
 */
static int routes_hold(db_t *db, const char *source, const routes_t *before)
{
	routes_t after = { NULL, false, false };
	char *a, *b;
	int same;

	if (load_routes(db, source, &after) < 0)
		return -1;
	a = json_print(before->list);
	b = json_print(after.list);
	same = !after.pending && strcmp(a, b) == 0;
	free(a);
	free(b);
	free_routes(&after);
	return same;
}

/*
 * One batch of one table; *claimed gets how many rows it took. 1 when it
 * took none because a workflow of the source waits for validation (or the
 * routes changed under it, up to the start itself), 0 when done, -1 on a
 * database error.
 */
static int process_batch(db_t *db, const trigger_table_t *t, int batch_size, int *claimed,
			 int *started)
{
	char limit[16];
	const char *params[2] = { limit, NULL };
	cJSON *rows = cJSON_CreateArray();
	routes_t routes = { NULL, false, false };
	PGresult *res = NULL;
	char *rows_text = NULL;
	int rc = -1;
	int hold;

	*claimed = 0;
	snprintf(limit, sizeof(limit), "%d", batch_size);
	if (db_begin(db) < 0 || load_routes(db, t->source, &routes) < 0)
		goto out;
	if (routes.pending) {
		rc = 1;
		goto out;
	}
	params[1] = routes.any_rule ? "true" : "false";
	res = db_query(db, t->claim_sql, 2, params);
	if (!db_ok(res))
		goto out;
	if (PQntuples(res) > 0 && (hold = routes_hold(db, t->source, &routes)) <= 0) {
		/* The rollback below gives the claimed rows back, untouched. */
		rc = hold < 0 ? -1 : 1;
		goto out;
	}
	*claimed = PQntuples(res);
	for (int i = 0; i < *claimed; i++) {
		const char *id = PQgetvalue(res, i, 0);
		cJSON *context = routes.any_rule ? cJSON_Parse(PQgetvalue(res, i, 1)) : NULL;
		const char *workflow = context || !routes.any_rule
					       ? choose(&routes, context, t->table, id) : NULL;
		cJSON *row = json_object();

		/* Ids travel as text, so no bigint goes through a double. */
		json_add_string(row, "id", id);
		if (workflow)
			json_add_string(row, "workflow", workflow);
		else
			log_info("%s %s matches no workflow", t->table, id);
		cJSON_AddItemToArray(rows, row);
		cJSON_Delete(context);
	}
	if (*claimed > 0) {
		PGresult *made;

		rows_text = json_print(rows);
		params[0] = t->table;
		params[1] = rows_text;
		made = db_query(db, "SELECT wf_trigger_rows_start($1, $2::jsonb)", 2, params);
		if (!db_ok(made)) {
			char msg[256];

			db_error_message(made, msg, sizeof(msg));
			/*
			 * A workflow changed between the routing and the start
			 * (sql/025), or was deleted while the batch started it
			 * (23503, sql/026): the rollback below keeps the rows,
			 * to be routed again to what is there now.
			 */
			if (strcmp(db_sqlstate(made), "WF40R") == 0 || strcmp(db_sqlstate(made), "23503") == 0) {
				log_info("%s: %s", t->table, msg);
				rc = 1;
			} else {
				log_warn("could not start workflows for %s: %s", t->table, msg);
			}
			PQclear(made);
			goto out;
		}
		if (started)
			*started += atoi(PQgetvalue(made, 0, 0));
		PQclear(made);
	}
	if (db_commit(db) < 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		db_rollback(db);
	PQclear(res);
	free_routes(&routes);
	cJSON_Delete(rows);
	free(rows_text);
	return rc;
}

int triggers_process(db_t *db, int batch_size, int *started)
{
	if (started)
		*started = 0;
	if (workflows_validate_pending(db) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		int retries = 0;
		int claimed;
		int rc;

		do {
			rc = process_batch(db, &tables[i], batch_size, &claimed, started);
			if (rc < 0)
				return -1;
			if (rc == 0)
				continue;
			/*
			 * A definition of this source was written since the
			 * validation above. Its verdict decides where the rows
			 * go, so it is checked now and the batch taken again;
			 * if it still has none after a few tries (its verdict
			 * could not be recorded), the rows wait, unclaimed,
			 * for the next run.
			 */
			if (++retries > PENDING_RETRIES) {
				log_warn("%s rows wait: a workflow of source \"%s\" is not validated yet",
					 tables[i].table, tables[i].source);
				break;
			}
			if (workflows_validate_pending(db) < 0)
				return -1;
		} while (rc != 0 || claimed == batch_size);
	}
	return 0;
}
