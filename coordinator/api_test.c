/*
 * api_test.c - endpoints that make test data, always with the "test-"
 * prefix so that `wf-coordinator clear-test-data` (or DELETE
 * /workflow/test/data) removes exactly them:
 *   POST   /workflow/test/subscription   {"subscription_type"?, "name"?, "email"?}
 *   POST   /workflow/test/newsletter     {"name"?, "email"?}
 *   POST   /workflow/test/execute        {"workflow", "context"?}
 *   DELETE /workflow/test/data
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_triggers.h"
#include "executor.h"
#include "json.h"
#include "wftime.h"

/* Test data is what carries this prefix (wf_clear_test_data() in sql/ finds it by it). */
#define TEST_PREFIX "test-"

static bool is_test_address(const char *email)
{
	return strncmp(email, TEST_PREFIX, strlen(TEST_PREFIX)) == 0;
}

/* The address to use: the caller's (which must carry the prefix) or a fresh one. */
static bool test_email(http_request_t *req, const cJSON *body, char *out, size_t size)
{
	const char *email = json_string(body, "email");
	static unsigned long counter;

	if (email) {
		if (!is_test_address(email)) {
			http_respond_error(req, 400, "test data uses addresses that start with \"test-\"");
			return false;
		}
		snprintf(out, size, "%s", email);
		return true;
	}
	/* The request id is unique enough; the counter separates two in one request. */
	snprintf(out, size, TEST_PREFIX "%s-%lu@example.com", http_request_id(req), ++counter);
	return true;
}

typedef struct {
	char email[256];
} test_person_t;

static void subscription_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	test_person_t *p = call->arg;
	const char *type = json_string(call->body, "subscription_type");

	/* Exactly this address: clearing finds test rows by a case-sensitive prefix. */
	api_create_subscription(db, reply, NULL, p->email, json_string(call->body, "name"), type ? type : "united", true);
	free(p);
}

static void newsletter_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	test_person_t *p = call->arg;

	api_create_newsletter(db, reply, NULL, p->email, json_string(call->body, "name"));
	free(p);
}

/*
 * with_type: the request may name a subscription_type. Absent or null it is
 * "united"; anything but a string is refused rather than read as absent, so
 * that a malformed request changes nothing.
 */
static void make_person(http_request_t *req, void *data, api_work_fn work, bool with_type)
{
	cJSON *body = http_request_json(req);
	test_person_t *p = calloc(1, sizeof(*p));
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(body, "subscription_type");
	char user_id[24];
	bool has_user;

	if (body == NULL || p == NULL)
		goto refused;
	if (with_type && type && !cJSON_IsNull(type) && !cJSON_IsString(type)) {
		http_respond_error(req, 400, "\"subscription_type\" must be a type's name (a string), e.g. \"united\"");
		goto refused;
	}
	if (!test_email(req, body, p->email, sizeof(p->email)))
		goto refused;
	/* Checked with the address it will get; user_id is not accepted for test rows. */
	cJSON_DeleteItemFromObjectCaseSensitive(body, "user_id");
	cJSON_DeleteItemFromObjectCaseSensitive(body, "email");
	json_add_string(body, "email", p->email);
	if (!api_check_person(req, body, user_id, sizeof(user_id), &has_user))
		goto refused;
	api_run(req, data, work, body, p);
	return;
refused:
	cJSON_Delete(body);
	free(p);
}

static void subscription(http_request_t *req, void *data)
{
	make_person(req, data, subscription_work, true);
}

static void newsletter(http_request_t *req, void *data)
{
	make_person(req, data, newsletter_work, false);
}

/*
 * The definitions a test execution of workflow may run: its own and those
 * of the shared flows it reaches, each once however they nest.
 */
#define FLOWS_OF_WORKFLOW                                                                           \
	"WITH RECURSIVE flows (name, definition) AS ("                                               \
	"  SELECT name, definition FROM workflow WHERE name = $1"                                   \
	"  UNION"                                                                                   \
	"  SELECT w.name, w.definition FROM flows f"                                                \
	"  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(f.definition -> 'nodes') = 'object'" \
	"                                     THEN f.definition -> 'nodes' END) n"                  \
	"  JOIN workflow w ON w.name = n.value ->> 'workflow'"                                      \
	"  WHERE n.value ->> 'type' = 'shared_flow')"                                               \
	" SELECT name, definition FROM flows"

/*
 * Whether a send_email node of these flows would write to an address
 * without the "test-" prefix with this context: 1 with msg saying which,
 * else 0. A "to" expression is evaluated as the worker will (at this time;
 * one that fails, or finds no address, sends nothing).
 */
static int sends_to_a_real_address(const PGresult *flows, const cJSON *context, char *msg, size_t size)
{
	double now = wftime_now();

	for (int i = 0; i < PQntuples(flows); i++) {
		cJSON *definition = cJSON_Parse(PQgetvalue(flows, i, 1));
		const cJSON *node;

		cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(definition, "nodes")) {
			char err[256];
			char *to = exec_email_recipient(node, context, now, err, sizeof(err));

			if (to && !is_test_address(to)) {
				snprintf(msg, size, "test data uses addresses that start with \"" TEST_PREFIX
					 "\"; node \"%s\" of workflow \"%s\" would send to \"%s\"",
					 node->string, PQgetvalue(flows, i, 0), to);
				free(to);
				cJSON_Delete(definition);
				return 1;
			}
			free(to);
		}
		cJSON_Delete(definition);
	}
	return 0;
}

/*
 * The key only marks the execution as test data (the "test-" prefix): it is
 * a fresh random one, since anything the client sends (X-Request-Id, say)
 * could name another request's execution.
 */
static void execute_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	char *context_text = api_context_text(call->body);
	const char *params[2] = { json_string(call->body, "workflow"), context_text ? context_text : "{}" };
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(call->body, "context");
	cJSON *empty = cJSON_CreateObject();
	const cJSON *context = cJSON_IsObject(given) ? given : empty;
	PGresult *res = db_query(db, FLOWS_OF_WORKFLOW, 1, params);
	char msg[512];

	if (!db_ok(res)) {
		api_db_error(reply, db, res);
		goto out;
	}
	if (sends_to_a_real_address(res, context, msg, sizeof(msg))) {
		api_error(reply, 400, "%s", msg);
		goto out;
	}
	PQclear(res);
	res = db_query(db,
		"WITH k AS (SELECT 'test-' || gen_random_uuid() AS key)"
		" SELECT jsonb_build_object('execution_id', c.execution_id, 'status', c.status,"
		"                          'idempotency_key', k.key), c.created"
		" FROM k, wf_execution_create($1, $2::jsonb, k.key) c", 2, params);

	if (!db_ok(res)) {
		api_db_error(reply, db, res);
	} else {
		reply->status = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? 201 : 200;
		reply->body = cJSON_Parse(PQgetvalue(res, 0, 0));
		if (reply->body == NULL)
			api_error(reply, 500, "internal error");
	}
out:
	PQclear(res);
	cJSON_Delete(empty);
	free(context_text);
}

/*
 * The member of the context (user.email or newsletter.email) that a test
 * execution would write to without the "test-" prefix, or NULL. Only the
 * prefix makes the mail it sends, and the log of that mail, test data: a
 * real address would get mail from a test, and clearing the test data would
 * then delete the record of it.
 */
static const char *real_address(const cJSON *context)
{
	static const char *const members[] = { "user", "newsletter" };
	static const char *const names[] = { "\"context.user.email\"", "\"context.newsletter.email\"" };

	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		const char *email = json_string(cJSON_GetObjectItemCaseSensitive(context, members[i]), "email");

		if (email && !is_test_address(email))
			return names[i];
	}
	return NULL;
}

static void execute(http_request_t *req, void *data)
{
	cJSON *body = http_request_json(req);
	const cJSON *context;
	const char *real;

	if (body == NULL)
		return;
	context = cJSON_GetObjectItemCaseSensitive(body, "context");
	if (json_string(body, "workflow") == NULL) {
		http_respond_error(req, 400, "\"workflow\" (the workflow's name) is required, as a string");
	} else if (context && !cJSON_IsNull(context) && !cJSON_IsObject(context)) {
		http_respond_error(req, 400, "\"context\" must be an object");
	} else if ((real = real_address(context)) != NULL) {
		char msg[160];

		snprintf(msg, sizeof(msg), "test data uses addresses that start with \"test-\"; %s does not", real);
		http_respond_error(req, 400, msg);
	} else {
		api_run(req, data, execute_work, body, NULL);
		return;
	}
	cJSON_Delete(body);
}

static void clear_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	api_query_json(reply, db, 200, NULL,
		       "SELECT jsonb_build_object('removed', coalesce(jsonb_object_agg(what, removed), '{}'),"
		       "                          'total', coalesce(sum(removed), 0))"
		       " FROM wf_clear_test_data()", 0, NULL);
}

static void clear(http_request_t *req, void *data)
{
	api_run(req, data, clear_work, NULL, NULL);
}

const http_route_t api_test_routes[] = {
	{ "POST", "/workflow/test/subscription", subscription, NULL, 0 },
	{ "POST", "/workflow/test/newsletter", newsletter, NULL, 0 },
	{ "POST", "/workflow/test/execute", execute, NULL, 0 },
	{ "DELETE", "/workflow/test/data", clear, NULL, 0 },
};
const size_t api_test_routes_count = sizeof(api_test_routes) / sizeof(api_test_routes[0]);
