/*
 * api_visual.c - the visual editor's endpoints:
 *   GET    /workflow/node-types                      node types with their JSON Schema
 *   GET    /workflow/visual-workflows                saved React Flow documents
 *   GET    /workflow/visual-workflows/:id            one, with its definition
 *   GET    /workflow/visual-workflows/by-name/:name  the same by name, or a workflow
 *                                                    written without the editor, laid out
 *   POST   /workflow/visual-workflows                save by name (create or update)
 *   PUT    /workflow/visual-workflows/:id            save by id (may rename)
 *   DELETE /workflow/visual-workflows/:id            delete it with its definition
 *
 * A save converts the flow (reactflow.h), validates it against the other
 * workflows and the templates, and writes the definition (as validated) and
 * the document together in one transaction; a flow with problems is 422
 * with all of them and writes nothing. Saves and deletes take one advisory
 * lock: people save rarely, and one queue leaves no race between two saves
 * of one name. A save under the name of a workflow that has no document
 * (written by SQL, or shipped) adopts it: its definition gets a new version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "delivery.h"
#include "executor.h"
#include "json.h"
#include "reactflow.h"
#include "utf8.h"
#include "workflows.h"

#define NAME_MAX_CHARS 128

/* Executions in these states are over; any other is active. */
#define ENDED "('completed', 'failed', 'cancelled')"

/* GET /workflow/node-types ---------------------------------------------- */

/* A node type's schema with "retry", which every node may carry. */
static cJSON *node_schema(const executor_t *e)
{
	cJSON *schema = cJSON_Parse(e->schema ? e->schema : "{\"type\": \"object\"}");
	cJSON *props;

	if (schema == NULL)
		abort(); /* the schemas are constants, checked by test_node_types */
	props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	if (props == NULL) {
		props = json_object();
		json_add(schema, "properties", props);
	}
	json_add(props, "retry", cJSON_Parse(exec_retry_schema));
	return schema;
}

static void node_types(http_request_t *req, void *data)
{
	cJSON *body = json_object();
	cJSON *list = cJSON_CreateArray();
	cJSON *trigger = json_object();
	int n;
	const executor_t *const *all = executor_all(&n);

	for (int i = 0; i < n; i++) {
		cJSON *item = json_object();

		json_add_string(item, "type", all[i]->type);
		json_add_string(item, "react_flow_type", rf_type_of(all[i]->type));
		json_add_string(item, "description", all[i]->description);
		json_add_bool(item, "branching", all[i]->branching);
		if (!rf_type_public(all[i]->type))
			json_add_bool(item, "internal", true);
		json_add(item, "schema", node_schema(all[i]));
		cJSON_AddItemToArray(list, item);
	}
	json_add_string(trigger, "react_flow_type", "trigger");
	json_add_string(trigger, "description",
			"what starts the workflow (one per flow); its data is the definition's trigger and exit_when");
	json_add(trigger, "schema", cJSON_Parse(rf_trigger_schema));
	json_add(body, "node_types", list);
	json_add(body, "trigger", trigger);
	http_respond_json(req, 200, body);
}

/* Reading ---------------------------------------------------------------- */

static const char *const sql_list =
	"SELECT jsonb_build_object("
	"  'visual_workflows', coalesce((SELECT jsonb_agg(jsonb_build_object("
	"        'id', v.id, 'name', v.name, 'workflow_id', v.workflow_id, 'version', w.version,"
	"        'valid', w.valid, 'updated_at', v.updated_at) ORDER BY v.name)"
	"      FROM visual_workflow v LEFT JOIN workflow w ON w.id = v.workflow_id), '[]'),"
	"  'workflows_without_flow', coalesce((SELECT jsonb_agg(jsonb_build_object("
	"        'workflow_id', w.id, 'name', w.name, 'version', w.version, 'valid', w.valid) ORDER BY w.name)"
	"      FROM workflow w WHERE NOT EXISTS (SELECT 1 FROM visual_workflow v WHERE v.workflow_id = w.id)), '[]'))";

/* One document, by id ($1) or by name ($2). */
static const char *const sql_document =
	"SELECT jsonb_build_object('id', v.id, 'name', v.name, 'flow', v.flow, 'workflow_id', v.workflow_id,"
	"       'definition', w.definition, 'version', w.version, 'valid', w.valid, 'errors', w.errors,"
	"       'created_at', v.created_at, 'updated_at', v.updated_at)"
	" FROM visual_workflow v LEFT JOIN workflow w ON w.id = v.workflow_id"
	" WHERE v.id = $1::bigint OR v.name = $2";

static void list_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	api_query_json(reply, db, 200, NULL, sql_list, 0, NULL);
}

static void list(http_request_t *req, void *data)
{
	api_run(req, data, list_work, NULL, NULL);
}

static void get_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[2] = { http_request_param(call->req, "id"), NULL };

	api_query_json(reply, db, 200, "visual workflow not found", sql_document, 2, params);
}

static void get(http_request_t *req, void *data)
{
	if (!api_id_valid(http_request_param(req, "id"))) {
		http_respond_error(req, 404, "visual workflow not found");
		return;
	}
	api_run(req, data, get_work, NULL, NULL);
}

/* A workflow without a document: its definition, laid out as a flow for the editor. */
static void generated_document(api_reply_t *reply, PGresult *res)
{
	cJSON *def = cJSON_Parse(PQgetvalue(res, 0, 2));
	cJSON *flow = NULL;

	if (rf_from_definition(def, &flow) < 0) {
		cJSON_Delete(def);
		api_error(reply, 422, "the definition of workflow \"%s\" has no nodes to show", PQgetvalue(res, 0, 0));
		return;
	}
	reply->body = json_object();
	json_add(reply->body, "id", cJSON_CreateNull());
	json_add_string(reply->body, "name", PQgetvalue(res, 0, 0));
	json_add(reply->body, "flow", flow);
	json_add_number(reply->body, "workflow_id", strtod(PQgetvalue(res, 0, 1), NULL));
	json_add(reply->body, "definition", def);
	json_add_number(reply->body, "version", strtod(PQgetvalue(res, 0, 3), NULL));
	json_add(reply->body, "valid", PQgetisnull(res, 0, 4) ? cJSON_CreateNull()
							      : cJSON_CreateBool(*PQgetvalue(res, 0, 4) == 't'));
	json_add_bool(reply->body, "generated", true);
}

static void by_name_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[2] = { NULL, http_request_param(call->req, "name") };
	PGresult *res;

	api_query_json(reply, db, 200, NULL, sql_document, 2, params);
	if (reply->status != 404)
		return;
	res = db_query(db, "SELECT name, id, definition, version, valid FROM workflow WHERE name = $1", 1,
		       params + 1);
	if (!db_ok(res))
		api_db_error(reply, db, res);
	else if (PQntuples(res) == 0)
		api_error(reply, 404, "no visual workflow and no workflow is named \"%s\"", params[1]);
	else {
		reply->status = 200;
		generated_document(reply, res);
	}
	PQclear(res);
}

static void by_name(http_request_t *req, void *data)
{
	api_run(req, data, by_name_work, NULL, NULL);
}

/* Saving ----------------------------------------------------------------- */

static const char *const sql_lock = "SELECT pg_advisory_xact_lock(hashtext('wf.visual_workflow'))";

/* A name of 1 to 128 characters of valid UTF-8 without control characters. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name), chars = 0;

	for (size_t i = 0; i < len; chars++) {
		size_t n = utf8_char_len(name + i, len - i);

		if (n == 0 || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
		i += n;
	}
	return chars >= 1 && chars <= NAME_MAX_CHARS;
}

/* PostgreSQL refuses text that is not UTF-8; such a body is the client's error, not ours. */
static bool body_utf8(const http_request_t *req)
{
	size_t len, n;
	const char *body = http_request_body(req, &len);

	for (size_t i = 0; i < len; i += n)
		if ((n = utf8_char_len(body + i, len - i)) == 0)
			return false;
	return true;
}

/* A failed statement inside the transaction: the reply, and the transaction rolled back. */
static void fail(api_reply_t *reply, db_t *db, PGresult *res)
{
	if (strcmp(db_sqlstate(res), "23505") == 0)
		api_error(reply, 409, "the name is taken (saved meanwhile by someone else?)");
	else
		api_db_error(reply, db, res);
	PQclear(res);
	db_rollback(db);
}

/* Runs a statement of the transaction; NULL after fail(). */
static PGresult *step(api_reply_t *reply, db_t *db, const char *sql, int n, const char *const *params)
{
	PGresult *res = db_query(db, sql, n, params);

	if (!db_ok(res)) {
		fail(reply, db, res);
		return NULL;
	}
	return res;
}

/* Begins the transaction with the advisory lock; false after replying. */
static bool begin_locked(api_reply_t *reply, db_t *db)
{
	PGresult *res = step(reply, db, "BEGIN", 0, NULL);

	if (res == NULL)
		return false;
	PQclear(res);
	res = step(reply, db, sql_lock, 0, NULL);
	PQclear(res);
	return res != NULL;
}

/* Other workflows whose current definition runs this one as a shared flow; malloc'd, NULL if none. */
static char *referenced_by(db_t *db, const char *workflow_id, const char *name, api_reply_t *reply, bool *failed)
{
	const char *params[2] = { workflow_id, name };
	PGresult *res = step(reply, db,
			     "SELECT string_agg('\"' || name || '\"', ', ' ORDER BY name) FROM workflow"
			     " WHERE id <> $1::bigint AND jsonb_path_exists(definition,"
			     "   '$.nodes.* ? (@.type == \"shared_flow\" && @.workflow == $n)', jsonb_build_object('n', $2::text))",
			     2, params);
	char *names = NULL;

	*failed = res == NULL;
	if (res && !PQgetisnull(res, 0, 0))
		names = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return names;
}

typedef struct {
	char doc_id[24];	/* "" when there is no document yet */
	char workflow_id[24];	/* "" when there is no definition yet */
	char name[4 * NAME_MAX_CHARS + 1]; /* the name it will have (UTF-8: up to 4 bytes a character) */
} target_t;

/*
 * Whether the save may give the document's workflow the name t->name. Other
 * workflows run a shared flow by name, so a rename would leave them naming
 * a workflow that no longer exists, and they would fail only when run. Like
 * a delete, it is refused while any does. False after replying.
 */
static bool rename_allowed(db_t *db, api_reply_t *reply, const target_t *t)
{
	const char *params[1] = { t->workflow_id };
	char old[4 * NAME_MAX_CHARS + 1];
	PGresult *res = step(reply, db, "SELECT name FROM workflow WHERE id = $1::bigint", 1, params);
	char *users;
	bool failed;

	if (res == NULL)
		return false;
	/* Gone (deleted by SQL): nothing can name it; write_both reports the lost race. */
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), t->name) == 0) {
		PQclear(res);
		return true;
	}
	snprintf(old, sizeof(old), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	users = referenced_by(db, t->workflow_id, old, reply, &failed);
	if (failed)
		return false;
	if (users == NULL)
		return true;
	db_rollback(db);
	api_error(reply, 409, "workflow \"%s\" runs as a shared flow in %s: change those first, then rename it", old,
		  users);
	free(users);
	return false;
}

/*
 * The document a save writes and the name it gets: by id (PUT; keeping its
 * name unless one is given) or by name (POST). False after replying: an
 * unknown id, a name another workflow already has, or a rename of a
 * workflow that others run as a shared flow.
 */
static bool find_target(api_call_t *call, db_t *db, api_reply_t *reply, target_t *t)
{
	const char *id = http_request_param(call->req, "id");
	const char *name = json_string(call->body, "name");
	const char *params[3] = { id ? id : name };
	PGresult *res;

	res = step(reply, db,
		   id ? "SELECT id, workflow_id, name FROM visual_workflow WHERE id = $1::bigint FOR UPDATE"
		      : "SELECT id, workflow_id, name FROM visual_workflow WHERE name = $1 FOR UPDATE",
		   1, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 0 && id) {
		PQclear(res);
		db_rollback(db);
		api_error(reply, 404, "visual workflow not found");
		return false;
	}
	if (PQntuples(res) == 1) {
		snprintf(t->doc_id, sizeof(t->doc_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(t->workflow_id, sizeof(t->workflow_id), "%s", PQgetvalue(res, 0, 1));
	}
	snprintf(t->name, sizeof(t->name), "%s", name ? name : PQgetvalue(res, 0, 2));
	PQclear(res);
	if (t->workflow_id[0] && !rename_allowed(db, reply, t))
		return false;
	/*
	 * The name may belong to a workflow already. Without a document of its
	 * own that workflow is adopted; one with a document of another name, or
	 * another workflow than this document's, is a conflict.
	 */
	params[0] = t->name;
	params[1] = t->doc_id[0] ? t->doc_id : NULL;
	params[2] = t->workflow_id[0] ? t->workflow_id : NULL;
	res = step(reply, db,
		   "SELECT w.id, v.name FROM workflow w LEFT JOIN visual_workflow v ON v.workflow_id = w.id"
		   " WHERE w.name = $1 AND ($3::bigint IS NOT NULL AND w.id <> $3::bigint"
		   "                        OR v.id IS NOT NULL AND v.id IS DISTINCT FROM $2::bigint)"
		   " UNION ALL SELECT workflow_id, name FROM visual_workflow"
		   " WHERE name = $1 AND id IS DISTINCT FROM $2::bigint",
		   3, params);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0) {
		PQclear(res);
		db_rollback(db);
		api_error(reply, 409, "the name \"%s\" belongs to another workflow", t->name);
		return false;
	}
	PQclear(res);
	return true;
}

/* Converts and validates the flow; false after a 422 with every problem. */
static bool convert(api_call_t *call, db_t *db, api_reply_t *reply, const char *name, cJSON **def)
{
	def_problems_t problems = { 0 };
	workflows_resolver_t resolver;
	int rc;

	workflows_resolver_init(&resolver, db);
	rc = rf_convert(cJSON_GetObjectItemCaseSensitive(call->body, "flow"), name, &resolver.resolver, def,
			&problems);
	workflows_resolver_free(&resolver);
	if (rc == 0)
		return true;
	db_rollback(db);
	reply->status = 422;
	reply->body = json_object();
	json_add_string(reply->body, "error",
			problems.count == 1 ? "the flow has a problem" : "the flow has problems");
	json_add(reply->body, "problems", def_problems_json(&problems));
	def_problems_free(&problems);
	return false;
}

/* The definition of a document that has one, and of a new one (or an adopted workflow). */
static const char *const sql_update_workflow =
	"UPDATE workflow SET name = $2, definition = $3::jsonb, valid = true, errors = NULL"
	" WHERE id = $1::bigint RETURNING id, version";
static const char *const sql_upsert_workflow =
	"INSERT INTO workflow (name, definition, valid) VALUES ($1, $2::jsonb, true)"
	" ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, valid = true, errors = NULL"
	" RETURNING id, version";

/*
 * Writes the definition (as validated: the versioning trigger then keeps
 * valid, and gives a changed definition the next version) and the document;
 * fills the reply. False after fail().
 */
static bool write_both(api_reply_t *reply, db_t *db, target_t *t, const cJSON *def, const cJSON *flow)
{
	char *def_text = json_print(def), *flow_text = json_print(flow);
	const char *params[4] = { t->workflow_id, t->name, def_text };
	PGresult *res = step(reply, db, "SET LOCAL wf.validated = 'on'", 0, NULL);
	bool known = t->workflow_id[0] != '\0';
	char version[16] = "";

	PQclear(res);
	if (res != NULL)
		res = step(reply, db, known ? sql_update_workflow : sql_upsert_workflow, known ? 3 : 2,
			   known ? params : params + 1);
	if (res != NULL && PQntuples(res) == 1) {
		snprintf(t->workflow_id, sizeof(t->workflow_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(version, sizeof(version), "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
		params[0] = t->doc_id;
		params[2] = flow_text;
		params[3] = t->workflow_id;
		res = t->doc_id[0] ? step(reply, db,
					  "UPDATE visual_workflow SET name = $2, flow = $3::jsonb, workflow_id = $4::bigint,"
					  " updated_at = now() WHERE id = $1::bigint RETURNING id", 4, params)
				   : step(reply, db,
					  "INSERT INTO visual_workflow (name, flow, workflow_id)"
					  " VALUES ($1, $2::jsonb, $3::bigint) RETURNING id", 3, params + 1);
	} else if (res != NULL) {
		/* Deleted under us: the document would have gone with it, so this is a lost race. */
		PQclear(res);
		db_rollback(db);
		api_error(reply, 409, "the workflow was deleted meanwhile");
		res = NULL;
	}
	if (res != NULL) {
		reply->status = t->doc_id[0] ? 200 : 201;
		reply->body = json_object();
		json_add_number(reply->body, "id", strtod(PQgetvalue(res, 0, 0), NULL));
		json_add_number(reply->body, "workflow_id", strtod(t->workflow_id, NULL));
		json_add_string(reply->body, "name", t->name);
		json_add_number(reply->body, "version", strtod(version, NULL));
		PQclear(res);
	}
	free(def_text);
	free(flow_text);
	return res != NULL;
}

static void save_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	target_t t = { "", "", "" };
	cJSON *def = NULL;

	if (!begin_locked(reply, db) || !find_target(call, db, reply, &t) || !convert(call, db, reply, t.name, &def) ||
	    !write_both(reply, db, &t, def, cJSON_GetObjectItemCaseSensitive(call->body, "flow"))) {
		cJSON_Delete(def);
		return;
	}
	cJSON_Delete(def);
	if (db_commit(db) < 0) {
		db_rollback(db);
		api_error(reply, db_connected(db) ? 500 : 503, "the workflow could not be saved");
	}
}

static void save(http_request_t *req, void *data)
{
	bool put = strcmp(http_request_method(req), "PUT") == 0;
	cJSON *body;
	const cJSON *name;

	if (put && !api_id_valid(http_request_param(req, "id"))) {
		http_respond_error(req, 404, "visual workflow not found");
		return;
	}
	body = http_request_json(req);
	if (body == NULL)
		return;
	name = cJSON_GetObjectItemCaseSensitive(body, "name");
	if (!body_utf8(req))
		http_respond_error(req, 400, "the body is not valid UTF-8");
	else if (!cJSON_IsObject(body))
		http_respond_error(req, 400, "the body must be an object: {\"name\": ..., \"flow\": {...}}");
	else if ((name == NULL || cJSON_IsNull(name)) && !put)
		http_respond_error(req, 400, "\"name\" (the workflow's name) is required");
	else if (name && !cJSON_IsNull(name) && !cJSON_IsString(name))
		http_respond_error(req, 400, "\"name\" must be a string");
	else if (cJSON_IsString(name) && !name_ok(name->valuestring))
		http_respond_error(req, 400, "\"name\" must be 1 to 128 characters, without control characters");
	else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, "flow")))
		http_respond_error(req, 400, "\"flow\" must be a React Flow document (an object with nodes and edges)");
	else {
		api_run(req, data, save_work, body, NULL);
		return;
	}
	cJSON_Delete(body);
}

/* Deleting --------------------------------------------------------------- */

/* The active executions of the workflow, oldest first; NULL after fail(). */
static PGresult *active_executions(api_reply_t *reply, db_t *db, const char *workflow_id)
{
	const char *params[1] = { workflow_id };

	return step(reply, db,
		    "SELECT id FROM workflow_executions WHERE workflow_id = $1::bigint"
		    " AND status NOT IN " ENDED " ORDER BY created_at",
		    1, params);
}

/*
 * Cancels the executions; how many it did, or -1 after fail(). One
 * statement each: a cancel also cancels the children, which the next
 * statement then sees as ended.
 */
static int cancel_all(api_reply_t *reply, db_t *db, const PGresult *ids)
{
	int cancelled = 0;

	for (int i = 0; i < PQntuples(ids); i++) {
		const char *one[1] = { PQgetvalue(ids, i, 0) };
		PGresult *res = step(reply, db,
				     "SELECT wf_execution_cancel(id, 'workflow deleted') FROM workflow_executions"
				     " WHERE id = $1::uuid AND status NOT IN " ENDED,
				     1, one);

		if (res == NULL)
			return -1;
		cancelled += PQntuples(res);
		PQclear(res);
	}
	return cancelled;
}

static void delete_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *force = http_request_query(call->req, "force");
	const char *params[1] = { http_request_param(call->req, "id") };
	char workflow_id[24], name[4 * NAME_MAX_CHARS + 1];
	PGresult *res;
	PGresult *active;
	char *users;
	bool failed;
	int cancelled = 0;

	if (!begin_locked(reply, db))
		return;
	res = step(reply, db, "SELECT workflow_id, name FROM visual_workflow WHERE id = $1::bigint FOR UPDATE", 1, params);
	if (res == NULL)
		return;
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(db);
		api_error(reply, 404, "visual workflow not found");
		return;
	}
	snprintf(workflow_id, sizeof(workflow_id), "%s", PQgetvalue(res, 0, 0));
	snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (workflow_id[0]) {
		const char *wid[1] = { workflow_id };

		/* Locked, so that no execution of it can start until this commits (its foreign key waits). */
		res = step(reply, db, "SELECT name FROM workflow WHERE id = $1::bigint FOR UPDATE", 1, wid);
		if (res == NULL)
			return;
		if (PQntuples(res) == 1)
			snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		users = referenced_by(db, workflow_id, name, reply, &failed);
		if (failed)
			return;
		if (users) {
			db_rollback(db);
			api_error(reply, 409, "workflow \"%s\" runs as a shared flow in %s: change those first", name, users);
			free(users);
			return;
		}
		active = active_executions(reply, db, workflow_id);
		if (active == NULL)
			return;
		if (PQntuples(active) > 0 && !(force && strcmp(force, "true") == 0)) {
			db_rollback(db);
			reply->status = 409;
			reply->body = json_object();
			json_add_string(reply->body, "error",
					"the workflow has active executions; ?force=true cancels them and deletes it");
			json_add_number(reply->body, "active_executions", PQntuples(active));
			PQclear(active);
			return;
		}
		cancelled = cancel_all(reply, db, active);
		PQclear(active);
		if (cancelled < 0)
			return;
		/* The document goes with it: visual_workflow.workflow_id cascades. */
		res = step(reply, db, "DELETE FROM workflow WHERE id = $1::bigint", 1, wid);
	} else {
		res = step(reply, db, "DELETE FROM visual_workflow WHERE id = $1::bigint", 1, params);
	}
	if (res == NULL)
		return;
	PQclear(res);
	if (db_commit(db) < 0) {
		db_rollback(db);
		api_error(reply, db_connected(db) ? 500 : 503, "the workflow could not be deleted");
		return;
	}
	reply->body = json_object();
	json_add_number(reply->body, "id", strtod(params[0], NULL));
	json_add(reply->body, "workflow_id", workflow_id[0] ? cJSON_CreateNumber(strtod(workflow_id, NULL)) : cJSON_CreateNull());
	json_add_string(reply->body, "name", name);
	json_add_bool(reply->body, "deleted", true);
	json_add_number(reply->body, "cancelled_executions", cancelled);
}

static void delete(http_request_t *req, void *data)
{
	const char *force = http_request_query(req, "force");

	if (!api_id_valid(http_request_param(req, "id"))) {
		http_respond_error(req, 404, "visual workflow not found");
		return;
	}
	if (force && strcmp(force, "true") != 0 && strcmp(force, "false") != 0) {
		http_respond_error(req, 400, "\"force\" must be true or false");
		return;
	}
	api_run(req, data, delete_work, NULL, NULL);
}

const http_route_t api_visual_routes[] = {
	{ "GET", "/workflow/node-types", node_types, NULL, 0 },
	{ "GET", "/workflow/visual-workflows", list, NULL, 0 },
	{ "GET", "/workflow/visual-workflows/:id", get, NULL, 0 },
	{ "GET", "/workflow/visual-workflows/by-name/:name", by_name, NULL, 0 },
	{ "POST", "/workflow/visual-workflows", save, NULL, 0 },
	{ "PUT", "/workflow/visual-workflows/:id", save, NULL, 0 },
	{ "DELETE", "/workflow/visual-workflows/:id", delete, NULL, 0 },
};
const size_t api_visual_routes_count = sizeof(api_visual_routes) / sizeof(api_visual_routes[0]);
