/*
 * test_api.c - the HTTP API over real HTTP, against a running coordinator
 * (and a worker pool where executions must move): every endpoint's success
 * and error paths, hostile bodies that must change nothing, bearer auth,
 * and 100 concurrent clients mixing reads and writes.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixtures.h"
#include "httpc.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

static char base[64];

static httpc_reply_t call(const char *method, const char *path, const char *body)
{
	char url[512];
	httpc_reply_t r;

	snprintf(url, sizeof(url), "%s%s", base, path);
	httpc_call(method, url, body, body ? strlen(body) : 0, NULL, &r);
	return r;
}

/* Asserts the status and returns the reply for more checks (caller frees). */
static httpc_reply_t expect(const char *method, const char *path, const char *body, long status)
{
	httpc_reply_t r = call(method, path, body);

	ck_assert_msg(r.status == status, "%s %s: %ld, expected %ld: %s", method, path, r.status, status, r.body);
	return r;
}

static void expect_error(const char *method, const char *path, const char *body, long status,
			 const char *fragment)
{
	httpc_reply_t r = expect(method, path, body, status);
	const char *error = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "error"));

	ck_assert_msg(error != NULL, "%s %s: no JSON error in %s", method, path, r.body);
	ck_assert_msg(strstr(error, fragment) != NULL, "%s %s: \"%s\" lacks \"%s\"", method, path, error, fragment);
	httpc_free(&r);
}

static pid_t start_pool(void)
{
	const char *env[] = { "WORKER_PROCESSES=2", "LOG_FORMAT=json", NULL };

	return proc_start("WF_WORKER", NULL, env, "/tmp/wf-test-api.log");
}

static const char *id_of(const httpc_reply_t *r, const char *key)
{
	/* Per thread: a_hundred_concurrent_clients calls this from 100 at once. */
	static _Thread_local char id[64];

	snprintf(id, sizeof(id), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r->json, key)));
	return id;
}

START_TEST(execute_with_idempotency_then_list_and_detail)
{
	testdb_t *t = testdb_new("apiexec");
	pid_t coord, pool;
	httpc_reply_t r;
	char id[64], path[160], cursor[128] = "";
	int seen = 0;

	fixture_workflow(t, "test-two", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"b\"},\"b\":{\"type\":\"log\",\"message\":\"hi\"}}}");
	coord = httpc_start_coordinator(NULL, base, sizeof(base));
	pool = start_pool();
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-two\",\"context\":{\"n\":1},\"idempotency_key\":\"test-key\"}", 201);
	snprintf(id, sizeof(id), "%s", id_of(&r, "execution_id"));
	httpc_free(&r);
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-two\",\"idempotency_key\":\"test-key\"}", 200);
	ck_assert_str_eq(id_of(&r, "execution_id"), id);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "created")));
	httpc_free(&r);
	/* The key again for another workflow is a conflict, not test-two's execution. */
	fixture_workflow(t, "test-other", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-other\",\"idempotency_key\":\"test-key\"}", 409,
		     "another workflow");

	/* The history, step by step, once it has completed. */
	snprintf(path, sizeof(path), "/workflow/executions/%s", id);
	for (int i = 0; i < 200; i++) {
		r = expect("GET", path, NULL, 200);
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "execution"), "status")), "completed") == 0)
			break;
		httpc_free(&r);
		proc_sleep_ms(50);
	}
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "history")), 6);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "history"), 5), "to")),
			 "completed");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "step")));
	httpc_free(&r);

	/* Pages of two, newest first, until the cursor runs out: each execution once. */
	for (int i = 0; i < 4; i++) {
		r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-two\",\"start\":false}", 201);
		httpc_free(&r);
	}
	for (int page = 0; page < 10; page++) {
		const cJSON *next;

		snprintf(path, sizeof(path), "/workflow/executions?limit=2&workflow=test-two%s%s", cursor[0] ? "&cursor=" : "", cursor);
		r = expect("GET", path, NULL, 200);
		seen += cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "executions"));
		next = cJSON_GetObjectItem(r.json, "next_cursor");
		if (!cJSON_IsString(next)) {
			httpc_free(&r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", next->valuestring);
		httpc_free(&r);
	}
	ck_assert_int_eq(seen, 5);
	r = expect("GET", "/workflow/executions?status=idle,paused", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "executions")), 4);
	httpc_free(&r);
	r = expect("GET", "/workflow/executions?since=2999-01-01T00:00:00Z", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "executions")), 0);
	httpc_free(&r);
	expect_error("GET", "/workflow/executions?cursor=garbage", NULL, 400, "cursor");
	expect_error("GET", "/workflow/executions?limit=0", NULL, 400, "limit");
	expect_error("GET", "/workflow/executions?since=yesterday", NULL, 400, "ISO-8601");
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-nothing\"}", 404, "not found");
	proc_stop(pool);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * Definitions written by plain SQL wait for validation; execute checks the
 * one it is asked for, not whichever are pending first, so the last of 600
 * inserted at once starts right away.
 */
START_TEST(execute_validates_the_named_workflow_among_many_pending)
{
	testdb_t *t = testdb_new("apibulk");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	httpc_reply_t r;

	testdb_exec(t, "INSERT INTO workflow (name, definition) SELECT 'test-bulk-' || g,"
		       " jsonb_build_object('trigger', jsonb_build_object('source', 'manual'),"
		       "                    'start', 'a', 'nodes', jsonb_build_object('a', jsonb_build_object('type', 'noop')))"
		       " FROM generate_series(1, 600) g");
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-bulk-600\",\"start\":false}", 201);
	httpc_free(&r);
	ck_assert_str_eq(testdb_text(t, "SELECT valid FROM workflow WHERE name = 'test-bulk-600'", 0, NULL), "t");
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(control_endpoints_follow_the_state_machine)
{
	testdb_t *t = testdb_new("apictl");
	pid_t coord;
	httpc_reply_t r;
	char id[64], path[160];

	fixture_workflow(t, "test-one", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	coord = httpc_start_coordinator(NULL, base, sizeof(base));
	/* "context": null is no context; a backslash before u0000 is only text. */
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"context\":null,\"start\":false}", 201);
	httpc_free(&r);
	r = expect("POST", "/workflow/test/execute", "{\"workflow\":\"test-one\",\"context\":null}", 201);
	httpc_free(&r);
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"context\":{\"a\":\"\\\\u0000\"},\"start\":false}", 201);
	httpc_free(&r);
	ck_assert_str_eq(testdb_text(t, "SELECT context->>'a' FROM workflow_executions WHERE context ? 'a'", 0, NULL), "\\u0000");
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"start\":false}", 201);
	snprintf(id, sizeof(id), "%s", id_of(&r, "execution_id"));
	httpc_free(&r);
#define CONTROL(action, status, state)                                                     \
	do {                                                                               \
		snprintf(path, sizeof(path), "/workflow/executions/%s/" action, id);        \
		r = expect("POST", path, NULL, status);                                    \
		if (state)                                                                 \
			ck_assert_str_eq(id_of(&r, "status"), (const char *)state);        \
		httpc_free(&r);                                                            \
	} while (0)
	CONTROL("pause", 200, "paused");
	CONTROL("pause", 409, NULL);
	CONTROL("resume", 200, "idle");
	CONTROL("start", 200, "idle");
	CONTROL("start", 409, NULL);
	CONTROL("stop", 200, "cancelled");
	CONTROL("resume", 409, NULL);
	CONTROL("cancel", 409, NULL);
	/* A percent-encoded action is the same action. */
	CONTROL("%%73tart", 409, NULL);
#undef CONTROL
	expect_error("POST", "/workflow/executions/00000000-0000-0000-0000-000000000000/pause", NULL, 404, "not found");
	expect_error("POST", "/workflow/executions/not-a-uuid/pause", NULL, 404, "not found");
	expect_error("GET", "/workflow/executions/00000000-0000-0000-0000-000000000000", NULL, 404, "not found");
	expect_error("DELETE", "/workflow/executions", NULL, 405, "");
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(hostile_bodies_change_nothing_and_the_server_stays_up)
{
	testdb_t *t = testdb_new("apihostile");
	const char *env[] = { "HTTP_MAX_BODY=4096", NULL };
	pid_t coord;
	char *deep, *big;
	const size_t depth = 100000;
	httpc_reply_t r;
	char url[128];
	const char *form[] = { "Content-Type: text/plain", NULL };

	fixture_workflow(t, "test-one", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	coord = httpc_start_coordinator(env, base, sizeof(base));
	expect_error("POST", "/workflow/execute", "{\"workflow\": \"test-one\", \"context\": {", 400, "invalid JSON at byte");
	expect_error("POST", "/workflow/execute", "\x01\x02\xff\xfe garbage \x00", 400, "invalid JSON");
	expect_error("POST", "/workflow/execute", "[1,2,3]", 400, "\"workflow\"");
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"context\":[1]}", 400, "\"context\" must be an object");
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"idempotency_key\":7}", 400, "idempotency_key");
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"start\":\"yes\"}", 400, "\"start\"");
	/* What cJSON would pass on altered ("" and null) is refused, on every endpoint. */
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"context\":{\"a\":\"\\u0000x\"}}", 400, "\\u0000");
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"context\":{\"a\":[1e400]}}", 400, "double");
	expect_error("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"context\":{\"a\":-1E+999}}", 400, "double");
	expect_error("POST", "/workflow/test/execute", "{\"workflow\":\"test-one\",\"context\":{\"\\u0000\":1}}", 400, "\\u0000");
	deep = malloc(depth * 2 + 1);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[depth * 2] = '\0';
	r = call("POST", "/workflow/execute", deep);
	ck_assert_msg(r.status == 400 || r.status == 413, "100,000-deep nesting: %ld", r.status);
	httpc_free(&r);
	big = malloc(8193);
	memset(big, ' ', 8192);
	big[0] = '{';
	big[8191] = '}';
	big[8192] = '\0';
	expect_error("POST", "/workflow/execute", big, 413, "");
	snprintf(url, sizeof(url), "%s/workflow/execute", base);
	httpc_call("POST", url, "workflow=test-one", 17, form, &r);
	ck_assert_int_eq(r.status, 415);
	httpc_free(&r);
	expect_error("GET", "/workflow/nowhere", NULL, 404, "");
	/* Nothing was written, and the server still answers. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	r = expect("GET", "/health/live", NULL, 200);
	httpc_free(&r);
	r = expect("GET", "/health/ready", NULL, 200);
	ck_assert_str_eq(id_of(&r, "migrations"), "current");
	httpc_free(&r);
	free(deep);
	free(big);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(bearer_token_guards_everything_but_health)
{
	testdb_t *t = testdb_new("apiauth");
	const char *env[] = { "API_TOKEN=test-s3cret", NULL };
	const char *wrong[] = { "Authorization: Bearer nope", NULL };
	const char *right[] = { "Authorization: Bearer test-s3cret", NULL };
	char url[160];
	httpc_reply_t r;
	pid_t coord = httpc_start_coordinator(env, base, sizeof(base));

	snprintf(url, sizeof(url), "%s/workflow/executions", base);
	httpc_call("GET", url, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(r.json, "error"));
	httpc_free(&r);
	httpc_call("GET", url, NULL, 0, wrong, &r);
	ck_assert_int_eq(r.status, 401);
	httpc_free(&r);
	httpc_call("GET", url, NULL, 0, right, &r);
	ck_assert_int_eq(r.status, 200);
	httpc_free(&r);
	r = expect("GET", "/health", NULL, 200);
	httpc_free(&r);
	/* The unsubscribe link needs no token (the id is its key); unsubscribing by address does. */
	expect_error("GET", "/workflow/triggers/unsubscribe?execution=00000000-0000-0000-0000-000000000000", NULL, 404, "unknown");
	expect_error("POST", "/workflow/triggers/unsubscribe?execution=00000000-0000-0000-0000-000000000000", NULL, 404, "unknown");
	expect_error("POST", "/workflow/triggers/unsubscribe", "{\"email\":\"test-a@example.com\"}", 401, "bearer token");
	snprintf(url, sizeof(url), "%s/workflow/triggers/unsubscribe", base);
	httpc_call("POST", url, "{\"email\":\"test-a@example.com\"}", 30, wrong, &r);
	ck_assert_int_eq(r.status, 401);
	httpc_free(&r);
	httpc_call("POST", url, "{\"email\":\"test-a@example.com\"}", 30, right, &r);
	ck_assert_int_eq(r.status, 200);
	httpc_free(&r);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(trigger_and_test_endpoints)
{
	testdb_t *t = testdb_new("apitrig");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	httpc_reply_t r;
	char path[160], newsletter[32];

	r = expect("POST", "/workflow/test/subscription", "{\"subscription_type\":\"united\",\"name\":\"Una\"}", 201);
	ck_assert_msg(strncmp(id_of(&r, "email"), "test-", 5) == 0, "test rows carry the prefix");
	httpc_free(&r);
	expect_error("POST", "/workflow/test/subscription", "{\"email\":\"real@example.com\"}", 400, "test-");
	expect_error("POST", "/workflow/triggers/subscriptions", "{\"email\":\"test-x@example.com\",\"subscription_type\":\"nope\"}",
		     422, "unknown subscription type");
	expect_error("POST", "/workflow/triggers/subscriptions", "{\"email\":\"not an address\",\"subscription_type\":\"united\"}",
		     400, "email");
	expect_error("POST", "/workflow/triggers/subscriptions", "{\"user_id\":999999,\"subscription_type\":\"united\"}",
		     422, "does not exist");
	r = expect("POST", "/workflow/triggers/subscriptions", "{\"email\":\"test-pod@example.com\",\"subscription_type\":\"podcast\"}", 201);
	httpc_free(&r);
	/* The coordinator routes both rows (NOTIFY): united and podcast welcomes. */
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions", 2, 10000), 2);
	r = expect("GET", "/workflow/triggers/subscriptions?limit=10", NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "subscriptions")), 2);
	httpc_free(&r);
	r = expect("GET", "/workflow/triggers/subscription-types", NULL, 200);
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "subscription_types")), 5);
	httpc_free(&r);

	r = expect("POST", "/workflow/test/newsletter", "{\"name\":\"Reader\"}", 201);
	snprintf(newsletter, sizeof(newsletter), "%d", (int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "newsletter_id")));
	httpc_free(&r);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE workflow_name = 'newsletter_welcome'", 1, 10000), 1);
	snprintf(path, sizeof(path), "/workflow/triggers/newsletters/%s/unsubscribe", newsletter);
	r = expect("POST", path, NULL, 200);
	httpc_free(&r);
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions WHERE workflow_name = 'newsletter_welcome'", 0, NULL),
			 "cancelled");
	expect_error("POST", "/workflow/triggers/newsletters/999999/unsubscribe", NULL, 404, "not found");
	/*
	 * The link in an email: GET and HEAD (what mail scanners send) only show
	 * a page asking to confirm; its form's POST, which is also RFC 8058's
	 * one-click, cancels the execution the email came from.
	 */
	snprintf(path, sizeof(path), "/workflow/triggers/unsubscribe?execution=%s",
		 testdb_text(t, "SELECT id FROM workflow_executions WHERE workflow_name = 'podcast_welcome'", 0, NULL));
	r = expect("GET", path, NULL, 200);
	ck_assert_msg(strstr(r.content_type, "text/html") != NULL, "%s", r.content_type);
	ck_assert_msg(strstr(r.body, "<form method=\"post\" action=\"?execution=") != NULL, "%s", r.body);
	httpc_free(&r);
	r = expect("HEAD", path, NULL, 200);
	httpc_free(&r);
	ck_assert_str_ne(testdb_text(t, "SELECT status FROM workflow_executions WHERE workflow_name = 'podcast_welcome'", 0, NULL),
			 "cancelled");
	{
		const char *form[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
		char url[256];

		snprintf(url, sizeof(url), "%s%s", base, path);
		httpc_call("POST", url, "List-Unsubscribe=One-Click", 26, form, &r);
		ck_assert_msg(r.status == 200, "one-click: %ld %s", r.status, r.body);
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "unsubscribed")));
		httpc_free(&r);
	}
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions WHERE workflow_name = 'podcast_welcome'", 0, NULL),
			 "cancelled");
	expect_error("GET", "/workflow/triggers/unsubscribe?execution=00000000-0000-0000-0000-000000000000", NULL, 404, "unknown");
	expect_error("POST", "/workflow/triggers/unsubscribe?execution=00000000-0000-0000-0000-000000000000", NULL, 404, "unknown");

	r = expect("POST", "/workflow/test/execute", "{\"workflow\":\"generic_welcome\",\"context\":{}}", 201);
	ck_assert_msg(strncmp(id_of(&r, "idempotency_key"), "test-", 5) == 0, "test executions carry the prefix");
	httpc_free(&r);
	/* One X-Request-Id for two workflows (or two long ones alike at the start): two executions. */
	{
		const char *same[] = { "X-Request-Id: abc", NULL };
		const char *long_a[] = { "X-Request-Id: 0123456789012345678901234567890123456789012345678901234567-a", NULL };
		const char *long_b[] = { "X-Request-Id: 0123456789012345678901234567890123456789012345678901234567-b", NULL };
		const char *const *ids[4] = { same, same, long_a, long_b };
		const char *bodies[4] = { "{\"workflow\":\"united_welcome\"}", "{\"workflow\":\"newsletter_welcome\"}",
					  "{\"workflow\":\"generic_welcome\"}", "{\"workflow\":\"generic_welcome\"}" };
		char url[256], seen[4][64];

		snprintf(url, sizeof(url), "%s/workflow/test/execute", base);
		for (int i = 0; i < 4; i++) {
			httpc_call("POST", url, bodies[i], strlen(bodies[i]), ids[i], &r);
			ck_assert_msg(r.status == 201, "%s: %ld %s", bodies[i], r.status, r.body);
			snprintf(seen[i], sizeof(seen[i]), "%s", id_of(&r, "execution_id"));
			for (int j = 0; j < i; j++)
				ck_assert_str_ne(seen[i], seen[j]);
			httpc_free(&r);
		}
		ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE workflow_name = 'newsletter_welcome'"
					     " AND idempotency_key LIKE 'test-%'", 0, NULL), 1);
	}
	r = expect("DELETE", "/workflow/test/data", NULL, 200);
	ck_assert_int_ge((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "total")), 6);
	httpc_free(&r);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_users", 0, NULL), 0);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(operations_endpoints_and_metrics)
{
	testdb_t *t = testdb_new("apiops");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	httpc_reply_t r;
	char path[160];

	testdb_exec(t, "INSERT INTO dummy_users (email) VALUES ('test-o@example.com')");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id) SELECT u.id, t.id"
		       " FROM dummy_users u, dummy_subscription_types t WHERE t.name = 'basic'");
	r = expect("POST", "/workflow/process/batch", NULL, 200);
	httpc_free(&r);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions", 1, 10000), 1);
	r = expect("POST", "/workflow/process/delayed", NULL, 200);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "due_steps")), 1);
	httpc_free(&r);
	r = expect("POST", "/workflow/recovery/recover", NULL, 200);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(r.json, "statistics"));
	httpc_free(&r);
	r = expect("GET", "/workflow/recovery/statistics", NULL, 200);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "executions_by_status"), "idle")), 1);
	httpc_free(&r);
	testdb_exec(t, "INSERT INTO email_logs (recipient, template, status) VALUES ('test-o@example.com', 'generic_welcome', 'sent')");
	r = expect("GET", "/workflow/emails/statistics", NULL, 200);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "total")), 1);
	httpc_free(&r);
	snprintf(path, sizeof(path), "/workflow/emails/%s", testdb_text(t, "SELECT id FROM workflow_executions", 0, NULL));
	r = expect("GET", path, NULL, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "emails")), 0);
	httpc_free(&r);
	/* A row without data was rendered with its execution's context, and shows it; one with data keeps its own. */
	testdb_exec(t, "INSERT INTO email_logs (execution_id, node_id, recipient, data)"
		       " SELECT id, 'a', 'test-o@example.com', NULL FROM workflow_executions");
	testdb_exec(t, "INSERT INTO email_logs (execution_id, node_id, recipient, data)"
		       " SELECT id, 'b', 'test-o@example.com', '{\"k\": 1}' FROM workflow_executions");
	r = expect("GET", path, NULL, 200);
	{
		const cJSON *emails = cJSON_GetObjectItem(r.json, "emails");
		char *first = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(emails, 0), "data"));
		char *second = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(emails, 1), "data"));
		const char *params[1] = { first };

		ck_assert_int_eq(cJSON_GetArraySize(emails), 2);
		ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE context = $1::jsonb"
					     " AND context ? 'user'", 1, params), 1);
		ck_assert_str_eq(second, "{\"k\":1}");
		free(first);
		free(second);
	}
	httpc_free(&r);
	expect_error("GET", "/workflow/emails/00000000-0000-0000-0000-000000000000", NULL, 404, "not found");
	r = expect("GET", "/metrics", NULL, 200);
	ck_assert_msg(strstr(r.content_type, "text/plain") != NULL, "%s", r.content_type);
	ck_assert_msg(strstr(r.body, "wf_executions{status=\"idle\"} 1") != NULL, "%s", r.body);
	ck_assert_msg(strstr(r.body, "wf_http_requests_total{route=\"/workflow/emails/:executionId\",method=\"GET\",code=\"404\"} 1") != NULL,
		      "%s", r.body);
	ck_assert_msg(strstr(r.body, "wf_http_request_duration_seconds_bucket{route=\"/workflow/recovery/statistics\",le=\"+Inf\"} 1") != NULL,
		      "%s", r.body);
	ck_assert_msg(strstr(r.body, "wf_up 1") != NULL, "%s", r.body);
	httpc_free(&r);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * Test rows are found again by the case-sensitive "test-" prefix, so the
 * test endpoints must keep to exactly that address: a real user whose
 * address differs only in case gets nothing, and clearing removes it all.
 */
START_TEST(test_subscriptions_never_land_on_a_real_user)
{
	testdb_t *t = testdb_new("apitestcase");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	httpc_reply_t r;
	char real[24];

	snprintf(real, sizeof(real), "%s",
		 testdb_text(t, "INSERT INTO dummy_users (email, name) VALUES ('Test-Alice@corp.com', 'Real Alice') RETURNING id",
			     0, NULL));
	r = expect("POST", "/workflow/test/subscription", "{\"email\":\"test-alice@corp.com\",\"subscription_type\":\"podcast\"}", 201);
	ck_assert_str_eq(id_of(&r, "email"), "test-alice@corp.com");
	ck_assert_int_ne((long)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "user_id")), atol(real));
	httpc_free(&r);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE workflow_name = 'podcast_welcome'", 1, 10000), 1);
	{
		const char *params[1] = { real };

		ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE user_id = $1::bigint", 1, params), 0);
	}
	r = expect("DELETE", "/workflow/test/data", NULL, 200);
	httpc_free(&r);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions", 0, NULL), 0);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(email, ',') FROM dummy_users", 0, NULL), "Test-Alice@corp.com");
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/* A test execution writes only to "test-" addresses; anything else is refused and changes nothing. */
START_TEST(test_executions_write_only_to_test_addresses)
{
	testdb_t *t = testdb_new("apitestexec");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	httpc_reply_t r;

	expect_error("POST", "/workflow/test/execute",
		     "{\"workflow\":\"united_welcome\",\"context\":{\"user\":{\"email\":\"real.person@customer.com\"}}}", 400,
		     "context.user.email");
	expect_error("POST", "/workflow/test/execute",
		     "{\"workflow\":\"newsletter_welcome\",\"context\":{\"newsletter\":{\"email\":\"Test-Reader@example.com\"}}}", 400,
		     "context.newsletter.email");
	expect_error("POST", "/workflow/test/execute",
		     "{\"workflow\":\"newsletter_welcome\",\"context\":{\"user\":{\"email\":\"test-u@example.com\"},"
		     "\"newsletter\":{\"email\":\"reader@example.com\"}}}", 400, "test-");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	r = expect("POST", "/workflow/test/execute",
		   "{\"workflow\":\"newsletter_welcome\",\"context\":{\"user\":{\"email\":\"test-u@example.com\"},"
		   "\"newsletter\":{\"email\":\"test-reader@example.com\"}}}", 201);
	httpc_free(&r);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 1);

	/* A node's own "to", in the workflow or in a shared flow it runs, is checked as well. */
	fixture_workflow(t, "test-forward",
			 "{\"start\":\"fwd\",\"nodes\":{\"fwd\":{\"type\":\"action\",\"action\":\"send_email\","
			 "\"template\":\"generic_welcome\",\"to\":{\"var\":\"forward.to\"},\"next\":null}}}");
	fixture_workflow(t, "test-outer",
			 "{\"start\":\"inner\",\"nodes\":{\"inner\":{\"type\":\"shared_flow\","
			 "\"workflow\":\"test-forward\",\"next\":null}}}");
	expect_error("POST", "/workflow/test/execute",
		     "{\"workflow\":\"test-forward\",\"context\":{\"user\":{\"email\":\"test-u@example.com\"},"
		     "\"forward\":{\"to\":\"boss@customer.com\"}}}", 400,
		     "node \"fwd\" of workflow \"test-forward\" would send to \"boss@customer.com\"");
	expect_error("POST", "/workflow/test/execute",
		     "{\"workflow\":\"test-outer\",\"context\":{\"forward\":{\"to\":\"boss@customer.com\"}}}", 400,
		     "boss@customer.com");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 1);
	r = expect("POST", "/workflow/test/execute",
		   "{\"workflow\":\"test-outer\",\"context\":{\"forward\":{\"to\":\"test-boss@customer.com\"}}}", 201);
	httpc_free(&r);
	/* No address at all sends nothing: the step will fail, no mail goes out. */
	r = expect("POST", "/workflow/test/execute", "{\"workflow\":\"test-forward\"}", 201);
	httpc_free(&r);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 3);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/* A subscription_type that is not a string is refused, not read as the default "united". */
START_TEST(test_subscription_type_must_be_a_string)
{
	testdb_t *t = testdb_new("apitesttype");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));

	expect_error("POST", "/workflow/test/subscription", "{\"subscription_type\":5}", 400, "subscription_type");
	expect_error("POST", "/workflow/test/subscription", "{\"subscription_type\":[\"podcast\"]}", 400, "subscription_type");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_users", 0, NULL), 0);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * /recovery/recover answers with the statistics as they are after its
 * rescue. The sweeper is kept out of the way, so that the rescue is the
 * endpoint's.
 */
START_TEST(recover_reports_the_statistics_after_its_rescue)
{
	testdb_t *t = testdb_new("apirecover");
	const char *env[] = { "SWEEP_INTERVAL_MS=600000", NULL };
	pid_t coord;
	httpc_reply_t r;
	const cJSON *stats;

	fixture_workflow(t, "test-one", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	coord = httpc_start_coordinator(env, base, sizeof(base));
	/* A step whose lease ran out: stuck before the rescue, due after it. */
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-one\"}", 201);
	httpc_free(&r);
	testdb_exec(t, "UPDATE wf_steps SET status = 'claimed', claimed_at = now() - interval '2 minutes',"
		       " lease_expires_at = now() - interval '1 minute'");
	r = expect("GET", "/workflow/recovery/statistics", NULL, 200);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "stuck")), 1);
	httpc_free(&r);
	r = expect("POST", "/workflow/recovery/recover", NULL, 200);
	stats = cJSON_GetObjectItem(r.json, "statistics");
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "rescued")), 1);
	ck_assert_msg((int)cJSON_GetNumberValue(cJSON_GetObjectItem(stats, "stuck")) == 0, "%s", r.body);
	ck_assert_msg((int)cJSON_GetNumberValue(cJSON_GetObjectItem(stats, "steps_due")) == 1, "%s", r.body);
	httpc_free(&r);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * A pool that went silent while the coordinator was away (not started yet,
 * or cut off from the database with it) may have been cut off too and
 * still be running its step: /recovery/recover calls it dead only once the
 * database has been reachable for WORKER_DEAD_AFTER_S. An expired lease
 * needs no such wait (the test above).
 */
#define SILENT_POOL_HOLDS_A_STEP                                                                    \
	"WITH w AS (INSERT INTO wf_workers (host, pid, slot, pool_pid, heartbeat_at)"              \
	"           VALUES ('test-host', 1, 0, 1, now() - interval '1 hour') RETURNING id)"        \
	" UPDATE wf_steps SET status = 'claimed', claimed_by = w.id, claimed_at = now(),"          \
	"   lease_expires_at = now() + interval '1 hour' FROM w WHERE wf_steps.status = 'ready'"

static long recover_rescued(void)
{
	httpc_reply_t r = expect("POST", "/workflow/recovery/recover", NULL, 200);
	long rescued = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "rescued"));

	httpc_free(&r);
	return rescued;
}

/* Recovers every half second until something is rescued; how long that took, in ms. */
static double recover_until_rescued(long want, int timeout_ms)
{
	double t0 = proc_now_ms();
	long rescued;

	while ((rescued = recover_rescued()) == 0 && proc_now_ms() - t0 < timeout_ms)
		proc_sleep_ms(500);
	ck_assert_int_eq(rescued, want);
	return proc_now_ms() - t0;
}

#define COORDINATOR_SESSIONS \
	"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()" \
	" AND application_name LIKE 'wf-coordinator%'"

START_TEST(recover_gives_silent_pools_time_after_the_database_comes_back)
{
	testdb_t *t = testdb_new("apisilent");
	const char *env[] = { "SWEEP_INTERVAL_MS=600000", "WORKER_DEAD_AFTER_S=5", NULL };
	char ended[256];
	pid_t coord;
	httpc_reply_t r;

	fixture_workflow(t, "test-one", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	coord = httpc_start_coordinator(env, base, sizeof(base));
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-one\"}", 201);
	httpc_free(&r);
	testdb_exec(t, SILENT_POOL_HOLDS_A_STEP);
	/* The coordinator has just started: no verdict yet, then the pool is dead. */
	ck_assert_int_eq(recover_rescued(), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'claimed'", 0, NULL), 1);
	ck_assert_double_gt(recover_until_rescued(1, 15000), 1000);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'dead'", 0, NULL), 1);

	/* Another silent pool takes the step; then an outage ends every session of the coordinator. */
	testdb_exec(t, SILENT_POOL_HOLDS_A_STEP);
	snprintf(ended, sizeof(ended), "%s AND backend_start < '%.40s'", COORDINATOR_SESSIONS,
		 testdb_text(t, "SELECT clock_timestamp()::text", 0, NULL));
	PQclear(testdb_query(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
			     " WHERE datname = current_database() AND application_name LIKE 'wf-coordinator%'",
			     0, NULL));
	/*
	 * Gone from pg_stat_activity: each ended session has sent its FATAL,
	 * so the pool sees it ended before the next call. A terminated session
	 * lingers a moment, and counting the old listen session as the new one
	 * let a call meet a pooled session still ending (503).
	 */
	ck_assert_int_eq(fixture_wait_long(t, ended, 0, 10000), 0);
	ck_assert_int_eq(fixture_wait_long(t, COORDINATOR_SESSIONS " AND application_name = 'wf-coordinator listen'",
					   1, 10000), 1);
	ck_assert_int_eq(recover_rescued(), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'running'", 0, NULL), 1);
	ck_assert_double_gt(recover_until_rescued(1, 15000), 1000);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'dead'", 0, NULL), 2);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * /process/delayed counts overdue delays as wf_delays_due (and so
 * /recovery/statistics) does: a paused execution's delay is not overdue.
 */
START_TEST(delayed_does_not_count_a_paused_delay_as_overdue)
{
	testdb_t *t = testdb_new("apidelayed");
	pid_t coord;
	httpc_reply_t r;
	char paused[64], path[160];

	fixture_workflow(t, "test-one", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	coord = httpc_start_coordinator(NULL, base, sizeof(base));
	/* Two delays an hour late, one of a paused execution: only the other is overdue. */
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"start\":false}", 201);
	httpc_free(&r);
	r = expect("POST", "/workflow/execute", "{\"workflow\":\"test-one\",\"start\":false}", 201);
	snprintf(paused, sizeof(paused), "%s", id_of(&r, "execution_id"));
	httpc_free(&r);
	snprintf(path, sizeof(path), "/workflow/executions/%s/pause", paused);
	r = expect("POST", path, NULL, 200);
	httpc_free(&r);
	testdb_exec(t, "INSERT INTO workflow_delays (execution_id, node_id, resume_at)"
		       " SELECT id, 'a', now() - interval '1 hour' FROM workflow_executions");
	r = expect("POST", "/workflow/process/delayed", NULL, 200);
	ck_assert_msg((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "overdue_delays")) == 1, "%s", r.body);
	httpc_free(&r);
	{
		const char *params[1] = { paused };

		ck_assert_int_eq(testdb_long(t, "WITH d AS (DELETE FROM workflow_delays WHERE execution_id <> $1::uuid RETURNING 1)"
					     " SELECT count(*) FROM d", 1, params), 1);
	}
	r = expect("POST", "/workflow/process/delayed", NULL, 200);
	ck_assert_msg((int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "overdue_delays")) == 0, "%s", r.body);
	httpc_free(&r);
	r = expect("GET", "/workflow/recovery/statistics", NULL, 200);
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(r.json, "oldest_overdue_delay")), "%s", r.body);
	httpc_free(&r);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/* The status of /health (and the database's state in it) once it is wanted, or the last seen. */
static long health_until(const char *path, long want, int timeout_ms, char *database, size_t size)
{
	long status = 0;

	for (int waited = 0; waited <= timeout_ms; waited += 100) {
		httpc_reply_t r = call("GET", path, NULL);

		status = r.status;
		snprintf(database, size, "%s", r.json ? cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "database")) : "");
		httpc_free(&r);
		if (status == want)
			break;
		proc_sleep_ms(100);
	}
	return status;
}

START_TEST(health_says_unresponsive_while_the_database_hangs)
{
	testdb_t *t = testdb_new("apihang");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	char database[32], ready_database[32];
	long health, ready;

	ck_assert_int_eq(health_until("/health", 200, 10000, database, sizeof(database)), 200);
	ck_assert_str_eq(database, "up");
	/*
	 * The readiness check reads wf_schema_migrations: with the table locked
	 * it waits inside the database, as it would on a hung server.
	 */
	testdb_exec(t, "BEGIN");
	testdb_exec(t, "LOCK TABLE wf_schema_migrations IN ACCESS EXCLUSIVE MODE");
	health = health_until("/health", 503, 6000, database, sizeof(database));
	ready = health_until("/health/ready", 503, 1000, ready_database, sizeof(ready_database));
	/* Released before asserting: a coordinator with a check stuck on the lock cannot stop. */
	testdb_exec(t, "ROLLBACK");
	ck_assert_int_eq(health, 503);
	ck_assert_str_eq(database, "unresponsive");
	ck_assert_int_eq(ready, 503);
	ck_assert_str_eq(ready_database, "unresponsive");
	ck_assert_int_eq(health_until("/health/ready", 200, 6000, database, sizeof(database)), 200);
	ck_assert_str_eq(database, "up");
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(newsletter_user_ids_are_bigint_and_lookup_errors_are_not_a_missing_user)
{
	testdb_t *t = testdb_new("apinews");
	pid_t coord;
	httpc_reply_t r;

	/* A lookup held up by a lock fails (55P03) rather than waits. */
	testdb_exec(t, "DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET lock_timeout = ''200ms''', current_database()); END$$");
	coord = httpc_start_coordinator(NULL, base, sizeof(base));
	testdb_exec(t, "INSERT INTO dummy_users (id, email) VALUES (3000000000, 'test-big@example.com')");
	r = expect("POST", "/workflow/triggers/newsletters", "{\"user_id\":3000000000}", 201);
	ck_assert_int_eq((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "user_id")), 3000000000LL);
	httpc_free(&r);
	expect_error("POST", "/workflow/triggers/newsletters", "{\"user_id\":3000000001}", 422, "does not exist");
	expect_error("POST", "/workflow/triggers/newsletters", "{\"user_id\":1.5}", 400, "whole number");
	expect_error("POST", "/workflow/triggers/newsletters", "{\"user_id\":1e19}", 400, "whole number");
	testdb_exec(t, "BEGIN");
	testdb_exec(t, "LOCK TABLE dummy_users IN ACCESS EXCLUSIVE MODE");
	r = call("POST", "/workflow/triggers/newsletters", "{\"user_id\":3000000000}");
	testdb_exec(t, "ROLLBACK");
	ck_assert_msg(r.status == 500, "a failed lookup: %ld %s", r.status, r.body);
	httpc_free(&r);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

static void *subscribe_racer(void *arg)
{
	httpc_reply_t r = call("POST", "/workflow/triggers/subscriptions", arg);
	long status = r.status;

	httpc_free(&r);
	return (void *)(long)status;
}

START_TEST(racing_subscriptions_of_one_new_address_make_one_user)
{
	testdb_t *t = testdb_new("apirace");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	pthread_t threads[12];
	char bodies[5][128];

	for (int round = 0; round < 5; round++) {
		snprintf(bodies[round], sizeof(bodies[round]),
			 "{\"email\":\"test-race-%d@example.com\",\"subscription_type\":\"united\"}", round);
		for (int i = 0; i < 12; i++)
			pthread_create(&threads[i], NULL, subscribe_racer, bodies[round]);
		for (int i = 0; i < 12; i++) {
			void *status;

			pthread_join(threads[i], &status);
			ck_assert_int_eq((long)status, 201);
		}
	}
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_users WHERE email LIKE 'test-race-%'", 0, NULL), 5);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions", 0, NULL), 60);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

static void *execute_caller(void *arg)
{
	httpc_reply_t *r = arg;

	*r = call("POST", "/workflow/execute", "{\"workflow\":\"test-going\"}");
	return NULL;
}

/*
 * A workflow deleted while an execution of it is being created: the
 * creation waits for the delete (sql/026) and is answered 409, not 500;
 * nothing is created.
 */
START_TEST(execute_while_its_workflow_is_deleted_is_a_conflict)
{
	testdb_t *t = testdb_new("apigoing");
	pid_t coord = httpc_start_coordinator(NULL, base, sizeof(base));
	httpc_reply_t r;
	pthread_t caller;
	const char *error;

	fixture_workflow(t, "test-going", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	testdb_exec(t, "BEGIN");
	testdb_exec(t, "DELETE FROM workflow WHERE name = 'test-going'");
	pthread_create(&caller, NULL, execute_caller, &r);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
					   " AND application_name LIKE 'wf-coordinator%' AND wait_event_type = 'Lock'",
					   1, 10000), 1);
	testdb_exec(t, "COMMIT");
	pthread_join(caller, NULL);
	error = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "error"));
	ck_assert_msg(r.status == 409, "POST /workflow/execute: %ld %s", r.status, r.body);
	ck_assert_msg(error && strstr(error, "does not exist"), "error: %s", r.body);
	httpc_free(&r);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

typedef struct {
	int index;
	int failures;
} client_t;

/* One of 100 clients: writes (new executions) and reads, interleaved. */
static void *client(void *arg)
{
	client_t *c = arg;

	for (int i = 0; i < 10; i++) {
		char body[160];
		httpc_reply_t r;

		snprintf(body, sizeof(body), "{\"workflow\":\"test-one\",\"idempotency_key\":\"test-%d-%d\"}", c->index, i);
		r = call("POST", "/workflow/execute", body);
		c->failures += r.status != 201;
		if (r.status == 201) {
			char path[160];

			snprintf(path, sizeof(path), "/workflow/executions/%s", id_of(&r, "execution_id"));
			httpc_free(&r);
			r = call("GET", path, NULL);
			c->failures += r.status != 200;
		}
		httpc_free(&r);
		r = call("GET", "/workflow/executions?limit=5", NULL);
		c->failures += r.status != 200;
		httpc_free(&r);
	}
	return NULL;
}

START_TEST(a_hundred_concurrent_clients)
{
	testdb_t *t = testdb_new("apiload");
	pid_t coord, pool;
	pthread_t threads[100];
	client_t clients[100];
	int failures = 0;

	fixture_workflow(t, "test-one", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	coord = httpc_start_coordinator(NULL, base, sizeof(base));
	pool = start_pool();
	for (int i = 0; i < 100; i++) {
		clients[i] = (client_t){ .index = i };
		pthread_create(&threads[i], NULL, client, &clients[i]);
	}
	for (int i = 0; i < 100; i++) {
		pthread_join(threads[i], NULL);
		failures += clients[i].failures;
	}
	ck_assert_int_eq(failures, 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 1000);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 1000, 60000), 1000);
	proc_stop(pool);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("api", 180, execute_with_idempotency_then_list_and_detail,
	    execute_validates_the_named_workflow_among_many_pending, control_endpoints_follow_the_state_machine,
	    hostile_bodies_change_nothing_and_the_server_stays_up, bearer_token_guards_everything_but_health,
	    trigger_and_test_endpoints, test_subscriptions_never_land_on_a_real_user,
	    test_subscription_type_must_be_a_string, test_executions_write_only_to_test_addresses,
	    operations_endpoints_and_metrics, recover_reports_the_statistics_after_its_rescue,
	    recover_gives_silent_pools_time_after_the_database_comes_back,
	    delayed_does_not_count_a_paused_delay_as_overdue, health_says_unresponsive_while_the_database_hangs,
	    racing_subscriptions_of_one_new_address_make_one_user, execute_while_its_workflow_is_deleted_is_a_conflict,
	    newsletter_user_ids_are_bigint_and_lookup_errors_are_not_a_missing_user, a_hundred_concurrent_clients)
