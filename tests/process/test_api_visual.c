/*
 * test_api_visual.c - the visual workflow endpoints of a running
 * wf-coordinator (on a free port) with a running wf-worker pool, over real
 * HTTP (libcurl, through httpc.h): React Flow documents are saved,
 * converted, executed by name and followed through their history; a
 * workflow another runs as a shared flow is not renamed; broken ones are
 * 422 and write nothing; a changed flow makes version 2 while a
 * running execution keeps version 1; deleting a workflow with an active
 * execution is 409, and with ?force=true cancels it; node-types lists every
 * type with its schema; the editor's helpers list the email templates and
 * check JSON Logic rules.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "json.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define ROWS "SELECT (SELECT count(*) FROM workflow) * 10000 + (SELECT count(*) FROM workflow_versions) * 100" \
	     " + (SELECT count(*) FROM visual_workflow)"

typedef struct {
	testdb_t *db;
	pid_t coordinator;
	pid_t pool;
	char base[64];		/* http://127.0.0.1:PORT */
} env_t;

static env_t env;

static void start(const char *tag)
{
	const char *pool_env[] = { "WORKER_PROCESSES=2", "LOG_FORMAT=json", "WORKER_POLL_MS=500", NULL };

	env.db = testdb_new(tag);
	env.coordinator = httpc_start_coordinator(NULL, env.base, sizeof(env.base));
	env.pool = proc_start("WF_WORKER", NULL, pool_env, "/tmp/wf-test-visual-pool.log");
	/*
	 * Up once it has children: it forks them after its signal handlers are
	 * in place, and a SIGTERM before that would kill it instead of draining.
	 */
	for (double deadline = proc_now_ms() + 15000; proc_now_ms() < deadline; proc_sleep_ms(20)) {
		pid_t kids[4];

		if (proc_children(env.pool, kids, 4) > 0)
			return;
	}
	ck_abort_msg("the worker pool did not start its children");
}

static void stop(void)
{
	proc_stop(env.pool);
	proc_stop(env.coordinator);
	testdb_free(env.db);
}

/*
 * One request with a JSON body (or none; content_type NULL: JSON); returns
 * the status and the JSON answer in *json (the caller deletes it; NULL when
 * not wanted).
 */
static long call(const char *method, const char *path, const char *body, const char *content_type, cJSON **json)
{
	char url[512], type[128];
	const char *headers[2] = { type, NULL };
	httpc_reply_t r;
	long status;

	snprintf(url, sizeof(url), "%s%s", env.base, path);
	snprintf(type, sizeof(type), "Content-Type: %s", content_type ? content_type : "application/json");
	ck_assert_msg(httpc_call(method, url, body, body ? strlen(body) : 0, headers, &r) == 0, "%s %s: no answer",
		      method, path);
	status = r.status;
	if (json) {
		*json = r.json;
		r.json = NULL;
		ck_assert_msg(*json != NULL, "%s %s answered %ld with no JSON: %s", method, path, status, r.body);
	}
	httpc_free(&r);
	return status;
}

/* POST (id NULL) or PUT a save of flow (JSON text) under name (NULL: none). */
static long save(const char *id, const char *name, const char *flow, cJSON **json)
{
	cJSON *body = json_object();
	char path[128], *text;
	long status;

	if (name)
		json_add_string(body, "name", name);
	json_add(body, "flow", cJSON_Parse(flow));
	ck_assert_msg(cJSON_GetObjectItem(body, "flow") != NULL, "test flow does not parse: %s", flow);
	text = json_print(body);
	snprintf(path, sizeof(path), "/workflow/visual-workflows%s%s", id ? "/" : "", id ? id : "");
	status = call(id ? "PUT" : "POST", path, text, NULL, json);
	free(text);
	cJSON_Delete(body);
	return status;
}

static double number(const cJSON *obj, const char *key)
{
	double v = -1;

	ck_assert_msg(json_number(obj, key, &v), "no number \"%s\"", key);
	return v;
}

/* POST /workflow/execute; the execution id (static buffer). */
static const char *execute(const char *workflow, const char *context)
{
	static char id[64];
	char body[1024];
	cJSON *reply;

	snprintf(body, sizeof(body), "{\"workflow\":\"%s\",\"context\":%s}", workflow, context);
	ck_assert_int_eq(call("POST", "/workflow/execute", body, NULL, &reply), 201);
	snprintf(id, sizeof(id), "%s", json_string(reply, "execution_id"));
	cJSON_Delete(reply);
	return id;
}

/* GET /workflow/executions/:id until its status is status; the detail (caller deletes). */
static cJSON *await_status(const char *execution, const char *status)
{
	double deadline = proc_now_ms() + 20000;
	char path[128];
	cJSON *detail = NULL;

	snprintf(path, sizeof(path), "/workflow/executions/%s", execution);
	while (proc_now_ms() < deadline) {
		cJSON_Delete(detail);
		ck_assert_int_eq(call("GET", path, NULL, NULL, &detail), 200);
		if (strcmp(json_string(cJSON_GetObjectItem(detail, "execution"), "status"), status) == 0)
			return detail;
		proc_sleep_ms(50);
	}
	ck_abort_msg("execution %s is %s, not %s", execution,
		     json_string(cJSON_GetObjectItem(detail, "execution"), "status"), status);
	return NULL;
}

/* The nodes of an execution's history that completed a step, "a,b,c" (static buffer). */
static const char *completed_nodes(const cJSON *detail)
{
	static char out[512];
	const cJSON *h;

	out[0] = '\0';
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(detail, "history")) {
		if (strcmp(json_string(h, "to"), "stepCompleted") == 0) {
			size_t len = strlen(out);

			snprintf(out + len, sizeof(out) - len, "%s%s", len ? "," : "", json_string(h, "node"));
		}
	}
	return out;
}

/* ---- flows ----------------------------------------------------------------- */

/* A trigger node (manual) and its edge to "first", then the given nodes and edges. */
static const char *flow(const char *nodes, const char *edges)
{
	static char out[8192];

	snprintf(out, sizeof(out),
		 "{\"nodes\":[{\"id\":\"start\",\"type\":\"trigger\",\"position\":{\"x\":0,\"y\":0},\"data\":{\"source\":\"manual\"}},%s],"
		 "\"edges\":[{\"id\":\"e-start\",\"source\":\"start\",\"target\":\"first\"}%s%s],"
		 "\"viewport\":{\"x\":0,\"y\":0,\"zoom\":1}}",
		 nodes, *edges ? "," : "", edges);
	return out;
}

#define LOG_NODE(id, message) "{\"id\":\"" id "\",\"type\":\"log\",\"position\":{\"x\":0,\"y\":100},\"data\":{\"message\":\"" message "\"}}"
#define EDGE(id, from, to) "{\"id\":\"" id "\",\"source\":\"" from "\",\"target\":\"" to "\"}"
#define BRANCH(id, from, handle, to) \
	"{\"id\":\"" id "\",\"source\":\"" from "\",\"sourceHandle\":\"" handle "\",\"target\":\"" to "\"}"

START_TEST(valid_flows_save_convert_and_run)
{
	char linear[8192], branching[8192], mail[8192], parent[8192];
	cJSON *reply, *detail;
	const char *id;
	char ex[64];

	start("vis_run");
	snprintf(linear, sizeof(linear), "%s", flow(
		"{\"id\":\"first\",\"type\":\"delay\",\"data\":{\"seconds\":0.2}}," LOG_NODE("say", "hello"),
		EDGE("e1", "first", "say")));
	snprintf(branching, sizeof(branching), "%s", flow(
		"{\"id\":\"first\",\"type\":\"condition\",\"data\":{\"rule\":{\">\":[{\"var\":\"score\"},10]}}},"
		LOG_NODE("big", "big") "," LOG_NODE("small", "small") ",{\"id\":\"end\",\"type\":\"noop\"}",
		BRANCH("yes", "first", "true", "big") "," BRANCH("no", "first", "false", "small") ","
		EDGE("big-end", "big", "end")));
	snprintf(mail, sizeof(mail), "%s", flow(
		"{\"id\":\"first\",\"type\":\"action\",\"data\":{\"action\":\"send_email\",\"template\":\"generic_welcome\"}}", ""));
	snprintf(parent, sizeof(parent), "%s", flow(
		"{\"id\":\"first\",\"type\":\"sharedFlow\",\"data\":{\"workflow\":\"test-mail\"}}," LOG_NODE("after", "after"),
		EDGE("e1", "first", "after")));

	/* Saved: 201 with both ids, the definition stored valid and linked. */
	ck_assert_int_eq(save(NULL, "test-linear", linear, &reply), 201);
	ck_assert_str_eq(json_string(reply, "name"), "test-linear");
	ck_assert_int_eq((int)number(reply, "version"), 1);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM visual_workflow v JOIN workflow w ON w.id = v.workflow_id"
				     " WHERE v.name = 'test-linear' AND w.name = 'test-linear' AND w.valid", 0, NULL), 1);
	cJSON_Delete(reply);
	ck_assert_int_eq(save(NULL, "test-branching", branching, NULL), 201);
	ck_assert_int_eq(save(NULL, "test-mail", mail, NULL), 201);
	ck_assert_int_eq(save(NULL, "test-parent", parent, &reply), 201);

	/* The document comes back with its flow and the definition it became. */
	{
		char path[96];

		snprintf(path, sizeof(path), "/workflow/visual-workflows/%.0f", number(reply, "id"));
		cJSON_Delete(reply);
		ck_assert_int_eq(call("GET", path, NULL, NULL, &reply), 200);
		ck_assert_str_eq(json_string(reply, "name"), "test-parent");
		ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "flow"), "nodes")), 3);
		ck_assert_str_eq(json_string(cJSON_GetObjectItem(reply, "definition"), "start"), "first");
		ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(reply, "definition"),
			"nodes"), "first"), "type"), "shared_flow");
		ck_assert_int_eq((int)number(reply, "version"), 1);
		cJSON_Delete(reply);
	}
	ck_assert_int_eq(call("GET", "/workflow/visual-workflows", NULL, NULL, &reply), 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(reply, "visual_workflows")), 4);
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(reply, "visual_workflows")->child, "name"), "test-branching");
	cJSON_Delete(reply);

	/* Executed by name, followed through the history. */
	id = execute("test-linear", "{}");
	detail = await_status(id, "completed");
	ck_assert_str_eq(completed_nodes(detail), "first,say");
	cJSON_Delete(detail);
	snprintf(ex, sizeof(ex), "%s", execute("test-branching", "{\"score\":11}"));
	id = execute("test-branching", "{\"score\":3}");
	detail = await_status(id, "completed");
	ck_assert_str_eq(completed_nodes(detail), "first,small");
	cJSON_Delete(detail);
	detail = await_status(ex, "completed");
	ck_assert_str_eq(completed_nodes(detail), "first,big,end");
	cJSON_Delete(detail);
	id = execute("test-parent", "{\"user\":{\"email\":\"test-ada@example.com\",\"name\":\"Ada\"}}");
	detail = await_status(id, "completed");
	ck_assert_str_eq(completed_nodes(detail), "first,after");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(detail, "children")->child, "workflow"), "test-mail");
	cJSON_Delete(detail);
	ck_assert_str_eq(testdb_text(env.db, "SELECT recipient || ' ' || template || ' ' || status FROM email_logs", 0, NULL),
			 "test-ada@example.com generic_welcome sent");

	/*
	 * test-parent runs test-mail by name: renaming test-mail would make it
	 * fail at run time, so the rename is refused and changes nothing. A
	 * rename that no workflow depends on goes through.
	 */
	{
		char mail_id[24], linear_id[24];
		long rows = testdb_long(env.db, ROWS, 0, NULL);

		snprintf(mail_id, sizeof(mail_id), "%ld",
			 testdb_long(env.db, "SELECT id FROM visual_workflow WHERE name = 'test-mail'", 0, NULL));
		snprintf(linear_id, sizeof(linear_id), "%ld",
			 testdb_long(env.db, "SELECT id FROM visual_workflow WHERE name = 'test-linear'", 0, NULL));
		ck_assert_int_eq(save(mail_id, "test-mail-2", mail, &reply), 409);
		ck_assert_msg(strstr(json_string(reply, "error"), "\"test-mail\" runs as a shared flow in \"test-parent\"") != NULL,
			      "%s", json_string(reply, "error"));
		cJSON_Delete(reply);
		ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM visual_workflow v JOIN workflow w ON w.id = v.workflow_id"
					     " WHERE v.name = 'test-mail' AND w.name = 'test-mail' AND w.version = 1", 0, NULL), 1);
		ck_assert_int_eq(testdb_long(env.db, ROWS, 0, NULL), rows);
		/* Saved again under its own name, it is no rename. */
		ck_assert_int_eq(save(mail_id, "test-mail", mail, NULL), 200);
		ck_assert_int_eq(save(linear_id, "test-linear-2", linear, &reply), 200);
		ck_assert_str_eq(json_string(reply, "name"), "test-linear-2");
		cJSON_Delete(reply);
		ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow WHERE name = 'test-linear-2'", 0, NULL), 1);
	}
	stop();
}
END_TEST

START_TEST(broken_flows_are_422_with_every_problem_and_write_nothing)
{
	static const struct {
		const char *flow;
		const char *problems; /* "node:a|edge:x|..." in order */
	} cases[] = {
		{ "{\"nodes\":[],\"edges\":[]}", "-" },
		{ "{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger\"},{\"id\":\"a\",\"type\":\"log\"}],\"edges\":[]}", "node:t" },
		{ "{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger\"},{\"id\":\"first\",\"type\":\"sharedFlow\",\"data\":{\"workflow\":\"test-nowhere\"}},"
		  "{\"id\":\"m\",\"type\":\"action\",\"data\":{\"action\":\"send_email\",\"template\":\"test-no-template\"}}],"
		  "\"edges\":[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"first\"},{\"id\":\"e2\",\"source\":\"first\",\"target\":\"m\"}]}",
		  "node:m|node:first" },
		{ "{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger\"},{\"id\":\"c\",\"type\":\"condition\",\"data\":{\"rule\":true}},"
		  "{\"id\":\"x\",\"type\":\"teleport\"}],"
		  "\"edges\":[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"c\"},{\"id\":\"e2\",\"source\":\"c\",\"target\":\"x\"},"
		  "{\"id\":\"e3\",\"source\":\"c\",\"sourceHandle\":\"true\",\"target\":\"ghost\"}]}",
		  "node:x|edge:e2|edge:e3|node:x" },
		/* A label the editor cannot show as text. */
		{ "{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger\"},{\"id\":\"a\",\"type\":\"delay\",\"data\":{\"seconds\":1,\"label\":{\"en\":\"Wait\"}}}],"
		  "\"edges\":[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"a\"}]}",
		  "node:a" },
	};
	long rows;

	start("vis_broken");
	rows = testdb_long(env.db, ROWS, 0, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *reply;
		const cJSON *p;
		char got[512] = "";

		ck_assert_int_eq(save(NULL, "test-broken", cases[i].flow, &reply), 422);
		ck_assert_ptr_nonnull(json_string(reply, "error"));
		cJSON_ArrayForEach(p, cJSON_GetObjectItem(reply, "problems")) {
			const char *node = json_string(p, "node"), *edge = json_string(p, "edge");
			size_t len = strlen(got);

			ck_assert_ptr_nonnull(json_string(p, "message"));
			ck_assert_msg(!(node && edge), "case %zu: a problem names a node and an edge", i);
			snprintf(got + len, sizeof(got) - len, "%s%s%s%s", len ? "|" : "", node ? "node:" : edge ? "edge:" : "",
				 node ? node : edge ? edge : "-", "");
		}
		ck_assert_msg(strcmp(got, cases[i].problems) == 0, "case %zu: %s", i, got);
		cJSON_Delete(reply);
	}
	/* Bad bodies: not JSON, wrong types, wrong content type. */
	ck_assert_int_eq(call("POST", "/workflow/visual-workflows", "{\"name\":", NULL, NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/visual-workflows", "{\"name\":\"test-a\",\"flow\":[]}", NULL, NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/visual-workflows", "{\"name\":7,\"flow\":{}}", NULL, NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/visual-workflows", "{\"flow\":{}}", NULL, NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/visual-workflows", "{\"name\":\"test-\\u0007\",\"flow\":{}}", NULL, NULL), 400);
	ck_assert_int_eq(save(NULL, "", flow(LOG_NODE("first", "x"), ""), NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/visual-workflows", "{\"name\":\"test-a\",\"flow\":{}}", "text/plain", NULL), 415);
	ck_assert_int_eq(call("POST", "/workflow/visual-workflows", "{\"name\":\"test-\xff\",\"flow\":{}}", NULL, NULL), 400);
	ck_assert_int_eq(save("999999", "test-a", flow(LOG_NODE("first", "x"), ""), NULL), 404);
	ck_assert_int_eq(call("GET", "/workflow/visual-workflows/999999", NULL, NULL, NULL), 404);
	ck_assert_int_eq(call("DELETE", "/workflow/visual-workflows/nope", NULL, NULL, NULL), 404);
	ck_assert_int_eq(testdb_long(env.db, ROWS, 0, NULL), rows);
	stop();
}
END_TEST

START_TEST(a_changed_flow_makes_version_2_while_a_running_execution_keeps_version_1)
{
	char v1[8192], v2[8192], path[96], id[64];
	cJSON *reply, *detail;
	const cJSON *h;
	const char *pid[1] = { id };
	const char *logged = NULL;

	start("vis_versions");
	snprintf(v1, sizeof(v1), "%s", flow("{\"id\":\"first\",\"type\":\"delay\",\"data\":{\"seconds\":1.5}}," LOG_NODE("say", "v1"),
					     EDGE("e1", "first", "say")));
	snprintf(v2, sizeof(v2), "%s", flow("{\"id\":\"first\",\"type\":\"delay\",\"data\":{\"seconds\":1.5}}," LOG_NODE("say", "v2"),
					     EDGE("e1", "first", "say")));
	ck_assert_int_eq(save(NULL, "test-versioned", v1, &reply), 201);
	snprintf(path, sizeof(path), "%.0f", number(reply, "id"));
	cJSON_Delete(reply);
	snprintf(id, sizeof(id), "%s", execute("test-versioned", "{}"));
	cJSON_Delete(await_status(id, "delayed"));

	/* The same flow again (moved on the canvas) changes no version; a changed one does. */
	ck_assert_int_eq(save(path, NULL, v1, &reply), 200);
	ck_assert_int_eq((int)number(reply, "version"), 1);
	cJSON_Delete(reply);
	ck_assert_int_eq(save(NULL, "test-versioned", v2, &reply), 200);
	ck_assert_int_eq((int)number(reply, "version"), 2);
	cJSON_Delete(reply);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow_versions v JOIN workflow w ON w.id = v.workflow_id"
				     " WHERE w.name = 'test-versioned'", 0, NULL), 2);
	ck_assert_int_eq(testdb_long(env.db, "SELECT workflow_version FROM workflow_executions WHERE id = $1::uuid", 1, pid), 1);

	detail = await_status(id, "completed");
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(detail, "history"))
		if (strcmp(json_string(h, "to"), "stepCompleted") == 0 && strcmp(json_string(h, "node"), "say") == 0)
			logged = json_string(cJSON_GetObjectItem(h, "result"), "logged");
	ck_assert_str_eq(logged, "v1");
	cJSON_Delete(detail);
	/* A new execution runs version 2. */
	snprintf(id, sizeof(id), "%s", execute("test-versioned", "{}"));
	cJSON_Delete(await_status(id, "completed"));
	ck_assert_str_eq(testdb_text(env.db, "SELECT workflow_version || ' ' || (SELECT result->>'logged' FROM workflow_execution_history h"
				     " WHERE h.execution_id = e.id AND h.node_id = 'say' AND h.to_status = 'stepCompleted')"
				     " FROM workflow_executions e WHERE id = $1::uuid", 1, pid), "2 v2");
	snprintf(path, sizeof(path), "/workflow/visual-workflows/by-name/test-versioned");
	ck_assert_int_eq(call("GET", path, NULL, NULL, &reply), 200);
	ck_assert_int_eq((int)number(reply, "version"), 2);
	cJSON_Delete(reply);
	stop();
}
END_TEST

START_TEST(deleting_with_an_active_execution_is_409_unless_forced)
{
	char path[128], id[64], done[64], wid[24];
	const char *pid[1] = { id }, *pdone[1] = { done }, *pwid[1] = { wid };
	cJSON *reply;

	start("vis_delete");
	ck_assert_int_eq(save(NULL, "test-doomed", flow("{\"id\":\"first\",\"type\":\"delay\",\"data\":{\"seconds\":3600}}", ""),
			      &reply), 201);
	snprintf(path, sizeof(path), "/workflow/visual-workflows/%.0f", number(reply, "id"));
	snprintf(wid, sizeof(wid), "%.0f", number(reply, "workflow_id"));
	cJSON_Delete(reply);
	/* One execution over (cancelled), one waiting in its delay. */
	snprintf(done, sizeof(done), "%s", execute("test-doomed", "{}"));
	cJSON_Delete(await_status(done, "delayed"));
	PQclear(testdb_query(env.db, "SELECT wf_execution_cancel($1::uuid)", 1, pdone));
	snprintf(id, sizeof(id), "%s", execute("test-doomed", "{}"));
	cJSON_Delete(await_status(id, "delayed"));

	ck_assert_int_eq(call("DELETE", path, NULL, NULL, &reply), 409);
	ck_assert_int_eq((int)number(reply, "active_executions"), 1);
	cJSON_Delete(reply);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow WHERE id = $1::bigint", 1, pwid), 1);
	ck_assert_str_eq(testdb_text(env.db, "SELECT status FROM workflow_executions WHERE id = $1::uuid", 1, pid), "delayed");

	strcat(path, "?force=true");
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, &reply), 200);
	ck_assert_int_eq((int)number(reply, "cancelled_executions"), 1);
	cJSON_Delete(reply);
	ck_assert_str_eq(testdb_text(env.db, "SELECT status || ' ' || last_error FROM workflow_executions WHERE id = $1::uuid",
				     1, pid), "cancelled workflow deleted");
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow_delays WHERE status = 'waiting'", 0, NULL), 0);
	/* Gone, with its versions and its document; the executions keep their history. */
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow WHERE id = $1::bigint", 1, pwid), 0);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow_versions WHERE workflow_id = $1::bigint", 1, pwid), 0);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM visual_workflow", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow_executions WHERE workflow_name = 'test-doomed'"
				     " AND workflow_id IS NULL", 0, NULL), 2);
	*strchr(path, '?') = '\0';
	ck_assert_int_eq(call("GET", path, NULL, NULL, NULL), 404);
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, NULL), 404);
	ck_assert_int_eq(call("POST", "/workflow/execute", "{\"workflow\":\"test-doomed\"}", NULL, NULL), 404);
	stop();
}
END_TEST

START_TEST(a_name_of_128_four_byte_characters_is_kept_whole)
{
	char name[4 * 128 + 1] = "", path[128];
	const char *pname[1] = { name };
	cJSON *reply;

	for (int i = 0; i < 128; i++)
		strcat(name, "\xf0\x9f\x98\x80"); /* U+1F600 */
	start("vis_name");
	ck_assert_int_eq(save(NULL, name, flow(LOG_NODE("first", "hi"), ""), &reply), 201);
	snprintf(path, sizeof(path), "/workflow/visual-workflows/%.0f", number(reply, "id"));
	cJSON_Delete(reply);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM visual_workflow v JOIN workflow w ON w.id = v.workflow_id"
				     " WHERE v.name = $1 AND w.name = $1", 1, pname), 1);
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, NULL), 200);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow WHERE name = $1", 1, pname), 0);
	stop();
}
END_TEST

START_TEST(workflows_made_without_the_editor_open_adopt_and_stay_protected)
{
	cJSON *reply, *doc;
	char *flow_text, path[96];

	start("vis_adopt");
	/* A shipped workflow, laid out as a flow; saved back unchanged it keeps its version. */
	ck_assert_int_eq(call("GET", "/workflow/visual-workflows/by-name/generic_welcome", NULL, NULL, &doc), 200);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(doc, "id")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(doc, "generated")));
	flow_text = json_print(cJSON_GetObjectItem(doc, "flow"));
	cJSON_Delete(doc);
	ck_assert_int_eq(save(NULL, "generic_welcome", flow_text, &reply), 201);
	ck_assert_int_eq((int)number(reply, "version"), 1);
	snprintf(path, sizeof(path), "/workflow/visual-workflows/%.0f", number(reply, "id"));
	cJSON_Delete(reply);
	free(flow_text);
	ck_assert_int_eq(call("GET", "/workflow/visual-workflows", NULL, NULL, &reply), 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(reply, "visual_workflows")), 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(reply, "workflows_without_flow")), 4);
	cJSON_Delete(reply);

	/* A new flow under a shipped name adopts that workflow: its next version. */
	ck_assert_int_eq(save(NULL, "value_highlight_flow", flow(LOG_NODE("first", "highlight"), ""), &reply), 201);
	ck_assert_int_eq((int)number(reply, "version"), 2);
	cJSON_Delete(reply);
	/* Renaming onto a name another workflow has is a conflict. */
	ck_assert_int_eq(save(path + strlen("/workflow/visual-workflows/"), "united_welcome",
			      flow(LOG_NODE("first", "x"), ""), NULL), 409);
	/* A workflow other workflows run as a shared flow is not deleted under them. */
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM visual_workflow WHERE name = 'value_highlight_flow'", 0, NULL), 1);
	snprintf(path, sizeof(path), "/workflow/visual-workflows/%ld?force=true",
		 testdb_long(env.db, "SELECT id FROM visual_workflow WHERE name = 'value_highlight_flow'", 0, NULL));
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, &reply), 409);
	ck_assert_msg(strstr(json_string(reply, "error"), "\"united_welcome\"") != NULL, "%s", json_string(reply, "error"));
	cJSON_Delete(reply);
	ck_assert_int_eq(testdb_long(env.db, "SELECT count(*) FROM workflow WHERE name = 'value_highlight_flow'", 0, NULL), 1);
	stop();
}
END_TEST

START_TEST(node_types_lists_every_type_with_its_schema)
{
	static const char *const public_types[][2] = {
		{ "action", "action" }, { "delay", "delay" }, { "condition", "condition" },
		{ "shared_flow", "sharedFlow" }, { "webhook", "webhook" },
	};
	cJSON *reply;
	const cJSON *t, *trigger;
	int internal = 0;

	start("vis_types");
	ck_assert_int_eq(call("GET", "/workflow/node-types", NULL, NULL, &reply), 200);
	for (size_t i = 0; i < sizeof(public_types) / sizeof(public_types[0]); i++) {
		bool found = false;

		cJSON_ArrayForEach(t, cJSON_GetObjectItem(reply, "node_types")) {
			const cJSON *schema = cJSON_GetObjectItem(t, "schema");

			if (strcmp(json_string(t, "type"), public_types[i][0]) != 0)
				continue;
			found = true;
			ck_assert_str_eq(json_string(t, "react_flow_type"), public_types[i][1]);
			ck_assert_ptr_nonnull(json_string(t, "description"));
			ck_assert(cJSON_IsBool(cJSON_GetObjectItem(t, "branching")));
			ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(t, "branching")), strcmp(public_types[i][0], "condition") == 0);
			ck_assert(!cJSON_HasObjectItem(t, "internal"));
			ck_assert_str_eq(json_string(schema, "type"), "object");
			ck_assert(cJSON_HasObjectItem(cJSON_GetObjectItem(schema, "properties"), "retry"));
			ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(schema, "examples")), 0);
		}
		ck_assert_msg(found, "%s is not listed", public_types[i][0]);
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(reply, "node_types"))
		internal += cJSON_IsTrue(cJSON_GetObjectItem(t, "internal"));
	ck_assert_int_eq(internal, 2);
	trigger = cJSON_GetObjectItem(reply, "trigger");
	ck_assert_str_eq(json_string(trigger, "react_flow_type"), "trigger");
	ck_assert(cJSON_HasObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(trigger, "schema"), "properties"), "source"));
	cJSON_Delete(reply);
	stop();
}
END_TEST

START_TEST(the_editor_lists_templates_and_checks_rules)
{
	static const char *const rules[][2] = {
		{ "{\"rule\":{\"==\":[{\"var\":\"user.name\"},\"Ada\"]}}", NULL },
		{ "{\"rule\":true}", NULL },
		{ "{\"rule\":{\"tpyo\":[1]}}", "unknown operator \"tpyo\" at /" },
		{ "{\"rule\":{\"and\":[true,{\"!\":[1,2]}]}}", "takes 1 argument, not 2, at /and/1" },
	};
	cJSON *reply;
	const cJSON *t;
	char names[512] = "";

	start("vis_editor");
	/* The templates saves are checked against: those of TEMPLATES_DIR, in name order. */
	ck_assert_int_eq(call("GET", "/workflow/templates", NULL, NULL, &reply), 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(reply, "checked")));
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(reply, "templates"))
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", names[0] ? "," : "", json_string(t, "name"));
	ck_assert_str_eq(names, "engagement_nudge,generic_welcome,newsletter_welcome,podcast_welcome,united_welcome,value_highlight");
	cJSON_Delete(reply);

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		ck_assert_int_eq(call("POST", "/workflow/jsonlogic/validate", rules[i][0], NULL, &reply), 200);
		ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(reply, "valid")) == (rules[i][1] == NULL), "%s", rules[i][0]);
		if (rules[i][1])
			ck_assert_msg(strstr(json_string(reply, "error"), rules[i][1]) != NULL, "%s: %s", rules[i][0],
				      json_string(reply, "error"));
		cJSON_Delete(reply);
	}
	ck_assert_int_eq(call("POST", "/workflow/jsonlogic/validate", "{\"rules\":1}", NULL, NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/jsonlogic/validate", "[1]", NULL, NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/jsonlogic/validate", "{\"rule\":", NULL, NULL), 400);
	ck_assert_int_eq(call("POST", "/workflow/jsonlogic/validate", "{\"rule\":1}", "text/plain", NULL), 415);
	stop();
}
END_TEST

RUNNER_MAIN("api_visual", 120, valid_flows_save_convert_and_run, broken_flows_are_422_with_every_problem_and_write_nothing,
	    a_changed_flow_makes_version_2_while_a_running_execution_keeps_version_1,
	    deleting_with_an_active_execution_is_409_unless_forced, a_name_of_128_four_byte_characters_is_kept_whole,
	    workflows_made_without_the_editor_open_adopt_and_stay_protected, node_types_lists_every_type_with_its_schema,
	    the_editor_lists_templates_and_checks_rules)
