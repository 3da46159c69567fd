/*
 * api_executions.c - starting executions and looking at them:
 *   POST /workflow/execute
 *   GET  /workflow/executions            (filters, cursor pagination)
 *   GET  /workflow/executions/:id        (with its step-by-step history)
 *   POST /workflow/executions/:id/start|stop|pause|resume|cancel
 *
 * The control endpoints call the SQL functions of the same names, so the
 * API, psql and the workers obey one state machine; an illegal transition
 * is 409, an unknown id 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "jl_time.h"
#include "json.h"
#include "workflows.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 500

static const char *const statuses[] = {
	"idle", "running", "stepCompleted", "stepFailed", "retrying",
	"delayed", "completed", "failed", "cancelled", "paused", NULL,
};

/* POST /workflow/execute ------------------------------------------------ */

/*
 * Whether the execution found for a reused idempotency key belongs to this
 * workflow: the key must not hand out another workflow's execution. Asked in
 * a statement of its own, whose snapshot sees an execution that a concurrent
 * request committed while wf_execution_create waited for it. False with the
 * reply set on a database error.
 */
static bool same_workflow(db_t *db, api_reply_t *reply, const char *execution, const char *workflow)
{
	const char *params[2] = { execution, workflow };
	PGresult *res = db_query(db,
		"SELECT e.workflow_name = $2 OR e.workflow_id = (SELECT id FROM workflow WHERE name = $2)"
		" FROM workflow_executions e WHERE e.id = $1::uuid", 2, params);
	bool same = db_ok(res) && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	if (!db_ok(res))
		api_db_error(reply, db, res);
	PQclear(res);
	return same;
}

static void execute_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *workflow = json_string(call->body, "workflow");
	const cJSON *start = cJSON_GetObjectItemCaseSensitive(call->body, "start");
	char *context_text = api_context_text(call->body);
	const char *params[4] = { workflow, context_text ? context_text : "{}",
				  json_string(call->body, "idempotency_key"),
				  cJSON_IsFalse(start) ? "false" : "true" };
	PGresult *res;

	/*
	 * A definition just written by plain SQL is checked now rather than
	 * refused: this one, not whichever are pending first, so that it is
	 * checked however many others wait.
	 */
	workflows_validate_named(db, workflow);
	res = db_query(db,
		       "SELECT execution_id, created, status FROM"
		       " wf_execution_create($1, $2::jsonb, $3, p_start => $4::boolean)",
		       4, params);
	if (!db_ok(res)) {
		api_db_error(reply, db, res);
	} else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0 && !same_workflow(db, reply, PQgetvalue(res, 0, 0), workflow)) {
		if (reply->status == 0)
			api_error(reply, 409, "this idempotency_key was already used for another workflow");
	} else {
		bool created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;

		reply->status = created ? 201 : 200;
		reply->body = json_object();
		json_add_string(reply->body, "execution_id", PQgetvalue(res, 0, 0));
		json_add_string(reply->body, "status", PQgetvalue(res, 0, 2));
		json_add_bool(reply->body, "created", created);
	}
	PQclear(res);
	free(context_text);
}

static void execute(http_request_t *req, void *data)
{
	cJSON *body = http_request_json(req);
	const cJSON *context, *key, *start;

	if (body == NULL)
		return;
	context = cJSON_GetObjectItemCaseSensitive(body, "context");
	key = cJSON_GetObjectItemCaseSensitive(body, "idempotency_key");
	start = cJSON_GetObjectItemCaseSensitive(body, "start");
	if (!cJSON_IsObject(body) || json_string(body, "workflow") == NULL || !*json_string(body, "workflow"))
		http_respond_error(req, 400, "\"workflow\" (the workflow's name) is required, as a string");
	else if (context && !cJSON_IsNull(context) && !cJSON_IsObject(context))
		http_respond_error(req, 400, "\"context\" must be an object");
	else if (key && !cJSON_IsNull(key) && (!cJSON_IsString(key) || !*key->valuestring || strlen(key->valuestring) > 255))
		http_respond_error(req, 400, "\"idempotency_key\" must be a string of 1 to 255 characters");
	else if (start && !cJSON_IsBool(start))
		http_respond_error(req, 400, "\"start\" must be true or false");
	else {
		api_run(req, data, execute_work, body, NULL);
		return;
	}
	cJSON_Delete(body);
}

/* GET /workflow/executions ---------------------------------------------- */

typedef struct {
	char statuses[256];	/* text[] literal, "" for none */
	char limit[16];
	char cursor_us[24];
	char cursor_id[40];
} list_args_t;

static const char *const sql_list =
	"WITH page AS ("
	"  SELECT e.* FROM workflow_executions e"
	"  WHERE ($1::text[] IS NULL OR e.status = ANY($1::text[]))"
	"    AND ($2::text IS NULL OR e.workflow_name = $2)"
	"    AND ($3::timestamptz IS NULL OR e.created_at >= $3::timestamptz)"
	"    AND ($4::timestamptz IS NULL OR e.created_at < $4::timestamptz)"
	"    AND ($5::bigint IS NULL OR (e.created_at, e.id) <"
	"         (timestamptz 'epoch' + $5::bigint * interval '1 microsecond', $6::uuid))"
	"  ORDER BY e.created_at DESC, e.id DESC LIMIT $7::int + 1),"
	" shown AS (SELECT * FROM page ORDER BY created_at DESC, id DESC LIMIT $7::int)"
	" SELECT jsonb_build_object("
	"   'executions', coalesce((SELECT jsonb_agg(to_jsonb(s) - 'status_before_pause'"
	"                                            ORDER BY s.created_at DESC, s.id DESC) FROM shown s), '[]'),"
	"   'next_cursor', CASE WHEN (SELECT count(*) FROM page) > $7::int THEN"
	"       (SELECT (extract(epoch FROM created_at) * 1000000)::bigint || ':' || id"
	"          FROM shown ORDER BY created_at, id LIMIT 1) END)";

static void list_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	list_args_t *a = call->arg;
	const char *params[7] = {
		a->statuses[0] ? a->statuses : NULL, http_request_query(call->req, "workflow"),
		http_request_query(call->req, "since"), http_request_query(call->req, "until"),
		a->cursor_us[0] ? a->cursor_us : NULL, a->cursor_us[0] ? a->cursor_id : NULL, a->limit,
	};

	api_query_json(reply, db, 200, NULL, sql_list, 7, params);
	free(a);
}

static bool known_status(const char *s, size_t len)
{
	for (int i = 0; statuses[i]; i++)
		if (strlen(statuses[i]) == len && strncmp(statuses[i], s, len) == 0)
			return true;
	return false;
}

/* Checks the query string on the loop; false after answering 400. */
static bool parse_list_args(http_request_t *req, list_args_t *a)
{
	const char *status = http_request_query(req, "status");
	const char *limit = http_request_query(req, "limit");
	const char *cursor = http_request_query(req, "cursor");
	const char *times[2] = { http_request_query(req, "since"), http_request_query(req, "until") };
	long n = LIST_LIMIT_DEFAULT;
	double when;

	if (status && *status) {
		size_t used = 1;

		strcpy(a->statuses, "{");
		for (const char *p = status; *p;) {
			size_t len = strcspn(p, ",");

			if (!known_status(p, len) || used + len + 2 >= sizeof(a->statuses)) {
				http_respond_error(req, 400, "unknown status in \"status\" (a comma-separated list of states)");
				return false;
			}
			used += (size_t)snprintf(a->statuses + used, sizeof(a->statuses) - used, "%s%.*s",
						 used > 1 ? "," : "", (int)len, p);
			p += len + (p[len] == ',');
		}
		strcat(a->statuses, "}");
	}
	if (limit) {
		char *end;

		n = strtol(limit, &end, 10);
		if (*limit == '\0' || *end || n < 1 || n > LIST_LIMIT_MAX) {
			http_respond_error(req, 400, "\"limit\" must be a whole number from 1 to 500");
			return false;
		}
	}
	snprintf(a->limit, sizeof(a->limit), "%ld", n);
	for (int i = 0; i < 2; i++) {
		if (times[i] && jl_parse_time(times[i], &when) < 0) {
			http_respond_error(req, 400, "\"since\" and \"until\" must be ISO-8601 timestamps");
			return false;
		}
	}
	if (cursor) {
		const char *colon = strchr(cursor, ':');
		size_t len = colon ? (size_t)(colon - cursor) : 0;

		if (!colon || len == 0 || len >= sizeof(a->cursor_us) || strspn(cursor, "0123456789") != len ||
		    !api_uuid_valid(colon + 1)) {
			http_respond_error(req, 400, "\"cursor\" is not one this API gave out");
			return false;
		}
		memcpy(a->cursor_us, cursor, len);
		snprintf(a->cursor_id, sizeof(a->cursor_id), "%s", colon + 1);
	}
	return true;
}

static void list(http_request_t *req, void *data)
{
	list_args_t *a = calloc(1, sizeof(*a));

	if (a == NULL || !parse_list_args(req, a)) {
		free(a);
		if (a == NULL)
			http_respond_error(req, 500, "internal error");
		return;
	}
	api_run(req, data, list_work, NULL, a);
}

/* GET /workflow/executions/:id ------------------------------------------ */

static const char sql_detail[] =
	"SELECT jsonb_build_object("
	"  'execution', to_jsonb(e) - 'status_before_pause',"
	"  'history', coalesce((SELECT jsonb_agg(jsonb_build_object("
	"        'id', h.id, 'node', h.node_id, 'from', h.from_status, 'to', h.to_status,"
	"        'attempt', h.attempt, 'result', h.result, 'error', h.error, 'at', h.created_at) ORDER BY h.id)"
	"      FROM workflow_execution_history h WHERE h.execution_id = e.id), '[]'),"
	"  'step', (SELECT jsonb_build_object('node', s.node_id, 'kind', s.kind, 'status', s.status,"
	"        'attempt', s.attempt, 'run_at', CASE WHEN s.run_at < 'infinity' THEN s.run_at END)"
	"      FROM wf_steps s WHERE s.execution_id = e.id),"
	"  'delays', coalesce((SELECT jsonb_agg(to_jsonb(d) - 'execution_id' ORDER BY d.id)"
	"      FROM workflow_delays d WHERE d.execution_id = e.id), '[]'),"
	"  'children', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id, 'workflow', c.workflow_name,"
	"        'status', c.status, 'node', c.parent_node_id) ORDER BY c.created_at)"
	"      FROM workflow_executions c WHERE c.parent_execution_id = e.id), '[]'))"
	" FROM workflow_executions e WHERE e.id = $1::uuid";

/*
 * Prepared on every pooled connection: the page of one execution is the
 * API's most frequent read, and planning its statement cost as much as
 * running it (docs/performance.md).
 */
const db_statement_t api_statements[] = {
	{ "api_execution_detail", sql_detail },
};
const int api_statements_count = sizeof(api_statements) / sizeof(api_statements[0]);

static void detail_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { http_request_param(call->req, "id") };

	api_run_json(reply, db, 200, "execution not found", "api_execution_detail", 1, params);
}

static void detail(http_request_t *req, void *data)
{
	if (!api_uuid_valid(http_request_param(req, "id"))) {
		http_respond_error(req, 404, "execution not found");
		return;
	}
	api_run(req, data, detail_work, NULL, NULL);
}

/* POST /workflow/executions/:id/<action> -------------------------------- */

typedef struct {
	const char *action;
	const char *sql;
} control_t;

static const control_t controls[] = {
	{ "start", "SELECT wf_execution_start($1::uuid)" },
	{ "stop", "SELECT wf_execution_stop($1::uuid)" },
	{ "pause", "SELECT wf_execution_pause($1::uuid)" },
	{ "resume", "SELECT wf_execution_resume($1::uuid)" },
	{ "cancel", "SELECT wf_execution_cancel($1::uuid, 'cancelled')" },
};

static void control_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const control_t *c = call->arg;
	const char *params[1] = { http_request_param(call->req, "id") };
	PGresult *res = db_query(db, c->sql, 1, params);

	if (!db_ok(res)) {
		api_db_error(reply, db, res);
	} else {
		PGresult *now;

		PQclear(res);
		now = db_query(db, "SELECT status FROM workflow_executions WHERE id = $1::uuid", 1, params);
		reply->body = json_object();
		json_add_string(reply->body, "execution_id", params[0]);
		json_add_string(reply->body, "action", c->action);
		json_add_string(reply->body, "status", db_ok(now) && PQntuples(now) ? PQgetvalue(now, 0, 0) : NULL);
		res = now;
	}
	PQclear(res);
}

static void control(http_request_t *req, void *data)
{
	/* The pattern's last segment, not the raw path's: that one may be percent-encoded. */
	const char *action = strrchr(http_request_route(req), '/') + 1;

	if (!api_uuid_valid(http_request_param(req, "id"))) {
		http_respond_error(req, 404, "execution not found");
		return;
	}
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		if (strcmp(controls[i].action, action) == 0) {
			api_run(req, data, control_work, NULL, (void *)&controls[i]);
			return;
		}
	}
	http_respond_error(req, 404, "not found");
}

const http_route_t api_execution_routes[] = {
	{ "POST", "/workflow/execute", execute, NULL, 0 },
	{ "GET", "/workflow/executions", list, NULL, 0 },
	{ "GET", "/workflow/executions/:id", detail, NULL, 0 },
	{ "POST", "/workflow/executions/:id/start", control, NULL, 0 },
	{ "POST", "/workflow/executions/:id/stop", control, NULL, 0 },
	{ "POST", "/workflow/executions/:id/pause", control, NULL, 0 },
	{ "POST", "/workflow/executions/:id/resume", control, NULL, 0 },
	{ "POST", "/workflow/executions/:id/cancel", control, NULL, 0 },
};
const size_t api_execution_routes_count = sizeof(api_execution_routes) / sizeof(api_execution_routes[0]);
