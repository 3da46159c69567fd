/*
 * api_triggers.c - the trigger tables over HTTP:
 *   GET  /workflow/triggers/subscription-types
 *   GET  /workflow/triggers/subscriptions      POST (user_id or email, subscription_type)
 *   GET  /workflow/triggers/newsletters        POST (email or user_id)
 *   POST /workflow/triggers/newsletters/:id/unsubscribe
 *   POST /workflow/triggers/unsubscribe        ({"email"}: every newsletter of that address)
 *   GET  /workflow/triggers/unsubscribe?execution=<id>   the link in emails: a page that
 *                                              asks to confirm (no token; changes nothing)
 *   POST /workflow/triggers/unsubscribe?execution=<id>   its confirmation, or an RFC 8058
 *                                              one-click unsubscribe (no token)
 *
 * Creating a row here is the same INSERT a client system would make: the
 * NOTIFY trigger wakes the coordinator, which starts the workflow.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_triggers.h"
#include "email.h"
#include "json.h"

#define LIST_LIMIT_MAX 500

/*
 * A user id: the given one, or the one with this email (created when
 * missing). NULL on error. An address matches regardless of case, as mail
 * systems treat it; with exact, only as written. The test endpoints ask for
 * exact: their rows are found again by the case-sensitive "test-" prefix, so
 * a test row must never land on a real user whose address differs in case. Call inside a transaction: two requests with one
 * new address would otherwise both miss it and both insert (dummy_users has
 * no unique email), so the look-up and the insert hold an advisory lock on
 * the address until the transaction ends. The lock's two-key form keeps it
 * apart from the single-key locks elsewhere (migrations).
 */
static char *resolve_user(db_t *db, api_reply_t *reply, const char *user_id, const char *email,
			  const char *name, bool exact)
{
	const char *params[2] = { user_id ? user_id : email, name ? name : "" };
	const char *sql = user_id ? "SELECT id FROM dummy_users WHERE id = $1::bigint"
			  : exact ? "SELECT id FROM dummy_users WHERE email = $1 ORDER BY id LIMIT 1"
				  : "SELECT id FROM dummy_users WHERE lower(email) = lower($1) ORDER BY id LIMIT 1";
	PGresult *res;
	char *id = NULL;

	if (!user_id) {
		res = db_query(db, "SELECT pg_advisory_xact_lock(hashtext('dummy_users.email'), hashtext(lower($1)))",
			       1, params);
		if (!db_ok(res)) {
			api_db_error(reply, db, res);
			PQclear(res);
			return NULL;
		}
		PQclear(res);
	}
	res = db_query(db, sql, 1, params);

	if (!db_ok(res)) {
		api_db_error(reply, db, res);
	} else if (PQntuples(res) == 1) {
		id = strdup(PQgetvalue(res, 0, 0));
	} else if (user_id) {
		api_error(reply, 422, "user %s does not exist", user_id);
	} else {
		PQclear(res);
		res = db_query(db, "INSERT INTO dummy_users (email, name) VALUES ($1, $2) RETURNING id", 2, params);
		if (db_ok(res))
			id = strdup(PQgetvalue(res, 0, 0));
		else
			api_db_error(reply, db, res);
	}
	PQclear(res);
	return id;
}

void api_create_subscription(db_t *db, api_reply_t *reply, const char *user_id, const char *email,
			     const char *name, const char *type, bool exact)
{
	const char *tparams[1] = { type };
	PGresult *res = NULL;
	char *user = NULL;

	if (db_begin(db) < 0) {
		api_error(reply, 503, "the database is not reachable");
		return;
	}
	res = db_query(db, "SELECT id FROM dummy_subscription_types WHERE name = $1", 1, tparams);
	if (!db_ok(res) || PQntuples(res) != 1) {
		if (db_ok(res))
			api_error(reply, 422, "unknown subscription type \"%s\"", type);
		else
			api_db_error(reply, db, res);
		goto out;
	}
	user = resolve_user(db, reply, user_id, email, name, exact);
	if (user == NULL)
		goto out;
	{
		const char *params[2] = { user, PQgetvalue(res, 0, 0) };
		PGresult *made = db_query(db,
			"INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES ($1::bigint, $2::bigint)"
			" RETURNING jsonb_build_object('subscription_id', id, 'user_id', user_id,"
			"   'subscription_type', (SELECT name FROM dummy_subscription_types WHERE id = subscription_type_id),"
			"   'email', (SELECT email FROM dummy_users WHERE id = user_id))", 2, params);

		if (!db_ok(made)) {
			api_db_error(reply, db, made);
		} else {
			reply->status = 201;
			reply->body = cJSON_Parse(PQgetvalue(made, 0, 0));
		}
		PQclear(made);
	}
out:
	if (reply->status != 201)
		db_rollback(db);
	else if (db_commit(db) < 0)
		api_error(reply, 503, "the database is not reachable");
	PQclear(res);
	free(user);
}

void api_create_newsletter(db_t *db, api_reply_t *reply, const char *user_id, const char *email,
			   const char *name)
{
	const char *params[3] = { user_id, email, name ? name : "" };
	PGresult *res;

	if (user_id) {
		PGresult *u = db_query(db, "SELECT 1 FROM dummy_users WHERE id = $1::bigint", 1, params);

		if (!db_ok(u))
			api_db_error(reply, db, u);
		else if (PQntuples(u) != 1)
			api_error(reply, 422, "user %s does not exist", user_id);
		PQclear(u);
		if (reply->status != 0)
			return;
	}
	res = db_query(db,
		       "INSERT INTO dummy_newsletters (user_id, email, name) VALUES ($1::bigint, $2, $3)"
		       " RETURNING jsonb_build_object('newsletter_id', id, 'user_id', user_id, 'email', email)",
		       3, params);
	if (!db_ok(res)) {
		api_db_error(reply, db, res);
	} else {
		reply->status = 201;
		reply->body = cJSON_Parse(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
}

/*
 * Ids are bigint, but a JSON number arrives as a double: every whole number
 * up to 2^53 - 1 is exact in one, and that is as far as ids are taken.
 */
#define MEMBER_ID_MAX 9007199254740991.0

/* Text of an optional positive integer member into buf; false (after answering 400) when malformed. */
static bool member_id(http_request_t *req, const cJSON *body, const char *key, char *buf, size_t size,
		      bool *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);

	*present = v != NULL && !cJSON_IsNull(v);
	if (!*present)
		return true;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= MEMBER_ID_MAX) ||
	    v->valuedouble != floor(v->valuedouble)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "\"%s\" must be a positive whole number", key);
		http_respond_error(req, 400, msg);
		return false;
	}
	snprintf(buf, size, "%.0f", v->valuedouble);
	return true;
}

/* Checks the common fields of a subscription or newsletter request; false after answering. */
bool api_check_person(http_request_t *req, const cJSON *body, char *user_id, size_t size,
		      bool *has_user)
{
	const cJSON *email = cJSON_GetObjectItemCaseSensitive(body, "email");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");

	if (!cJSON_IsObject(body)) {
		http_respond_error(req, 400, "the body must be a JSON object");
		return false;
	}
	if (!member_id(req, body, "user_id", user_id, size, has_user))
		return false;
	if (email && !cJSON_IsNull(email) && (!cJSON_IsString(email) || !email_address_valid(email->valuestring))) {
		http_respond_error(req, 400, "\"email\" must be a valid email address");
		return false;
	}
	if (name && !cJSON_IsNull(name) && (!cJSON_IsString(name) || strlen(name->valuestring) > 200)) {
		http_respond_error(req, 400, "\"name\" must be a string of at most 200 characters");
		return false;
	}
	if (!*has_user && !cJSON_IsString(email)) {
		http_respond_error(req, 400, "give \"user_id\" or \"email\"");
		return false;
	}
	return true;
}

typedef struct {
	char user_id[24];
	bool has_user;
} person_t;

static void subscribe_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	person_t *p = call->arg;

	api_create_subscription(db, reply, p->has_user ? p->user_id : NULL, json_string(call->body, "email"),
				json_string(call->body, "name"), json_string(call->body, "subscription_type"), false);
	free(p);
}

static void subscribe(http_request_t *req, void *data)
{
	cJSON *body = http_request_json(req);
	person_t *p = calloc(1, sizeof(*p));

	if (body == NULL || p == NULL || !api_check_person(req, body, p->user_id, sizeof(p->user_id), &p->has_user)) {
		cJSON_Delete(body);
		free(p);
		return;
	}
	if (json_string(body, "subscription_type") == NULL) {
		http_respond_error(req, 400, "\"subscription_type\" (a type's name, e.g. \"united\") is required");
		cJSON_Delete(body);
		free(p);
		return;
	}
	api_run(req, data, subscribe_work, body, p);
}

static void newsletter_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	person_t *p = call->arg;

	api_create_newsletter(db, reply, p->has_user ? p->user_id : NULL, json_string(call->body, "email"),
			      json_string(call->body, "name"));
	free(p);
}

static void newsletter(http_request_t *req, void *data)
{
	cJSON *body = http_request_json(req);
	person_t *p = calloc(1, sizeof(*p));

	if (body == NULL || p == NULL || !api_check_person(req, body, p->user_id, sizeof(p->user_id), &p->has_user)) {
		cJSON_Delete(body);
		free(p);
		return;
	}
	api_run(req, data, newsletter_work, body, p);
}

/* Lists: newest first, ?limit= up to 500 (50 by default). */
static const char *list_limit(http_request_t *req)
{
	const char *limit = http_request_query(req, "limit");
	char *end;
	long n;

	if (limit == NULL)
		return "50";
	n = strtol(limit, &end, 10);
	return *limit && !*end && n >= 1 && n <= LIST_LIMIT_MAX ? limit : NULL;
}

static void types_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	api_query_json(reply, db, 200, NULL,
		       "SELECT jsonb_build_object('subscription_types', coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]'))"
		       " FROM dummy_subscription_types t", 0, NULL);
}

static void types(http_request_t *req, void *data)
{
	api_run(req, data, types_work, NULL, NULL);
}

static void subscriptions_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { list_limit(call->req) };

	api_query_json(reply, db, 200, NULL,
		       "SELECT jsonb_build_object('subscriptions', coalesce(jsonb_agg(x ORDER BY (x->>'id')::bigint DESC), '[]'))"
		       " FROM (SELECT to_jsonb(s) || jsonb_build_object('email', u.email, 'subscription_type', t.name,"
		       "         'executions', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id,"
		       "            'workflow', e.workflow_name, 'status', e.status)), '[]') FROM workflow_executions e"
		       "            WHERE e.trigger_table = 'dummy_subscriptions' AND e.trigger_id = s.id)) AS x"
		       "       FROM dummy_subscriptions s JOIN dummy_users u ON u.id = s.user_id"
		       "       JOIN dummy_subscription_types t ON t.id = s.subscription_type_id"
		       "       ORDER BY s.id DESC LIMIT $1::int) y",
		       1, params);
}

static void newsletters_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { list_limit(call->req) };

	api_query_json(reply, db, 200, NULL,
		       "SELECT jsonb_build_object('newsletters', coalesce(jsonb_agg(x ORDER BY (x->>'id')::bigint DESC), '[]'))"
		       " FROM (SELECT to_jsonb(n) || jsonb_build_object('email', coalesce(n.email, u.email),"
		       "         'executions', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id,"
		       "            'workflow', e.workflow_name, 'status', e.status)), '[]') FROM workflow_executions e"
		       "            WHERE e.trigger_table = 'dummy_newsletters' AND e.trigger_id = n.id)) AS x"
		       "       FROM dummy_newsletters n LEFT JOIN dummy_users u ON u.id = n.user_id"
		       "       ORDER BY n.id DESC LIMIT $1::int) y",
		       1, params);
}

static void list_rows(http_request_t *req, void *data, api_work_fn work)
{
	if (list_limit(req) == NULL) {
		http_respond_error(req, 400, "\"limit\" must be a whole number from 1 to 500");
		return;
	}
	api_run(req, data, work, NULL, NULL);
}

static void subscriptions(http_request_t *req, void *data)
{
	list_rows(req, data, subscriptions_work);
}

static void newsletters(http_request_t *req, void *data)
{
	list_rows(req, data, newsletters_work);
}

/* Unsubscribing: the database trigger cancels the subscriber's newsletter executions. */

static const char *const sql_unsubscribe_id =
	"WITH u AS (UPDATE dummy_newsletters SET unsubscribed_at = coalesce(unsubscribed_at, now())"
	"           WHERE id = $1::bigint RETURNING id, unsubscribed_at)"
	" SELECT jsonb_build_object('newsletter_id', u.id, 'unsubscribed_at', u.unsubscribed_at) FROM u";

static void unsubscribe_id_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { http_request_param(call->req, "id") };

	api_query_json(reply, db, 200, "newsletter signup not found", sql_unsubscribe_id, 1, params);
}

static void unsubscribe_id(http_request_t *req, void *data)
{
	if (!api_id_valid(http_request_param(req, "id"))) {
		http_respond_error(req, 404, "newsletter signup not found");
		return;
	}
	api_run(req, data, unsubscribe_id_work, NULL, NULL);
}

static void unsubscribe_email_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { json_string(call->body, "email") };

	api_query_json(reply, db, 200, NULL,
		       "WITH u AS (UPDATE dummy_newsletters n SET unsubscribed_at = now()"
		       "           FROM (SELECT n2.id FROM dummy_newsletters n2 LEFT JOIN dummy_users us ON us.id = n2.user_id"
		       "                 WHERE lower(coalesce(n2.email, us.email)) = lower($1)) m"
		       "           WHERE n.id = m.id AND n.unsubscribed_at IS NULL RETURNING n.id)"
		       " SELECT jsonb_build_object('email', $1::text, 'unsubscribed', (SELECT count(*) FROM u))",
		       1, params);
}

/*
 * The link in every email: the execution id is the (unguessable) key.
 *
 * Mail security scanners fetch the links of a message (GET and HEAD) before
 * its recipient sees it, so a GET only shows a page whose button POSTs back
 * to the same address. That POST is also what RFC 8058 one-click
 * unsubscribing sends (body "List-Unsubscribe=One-Click"), so it needs no
 * token and reads no body.
 */

static const char *const page_format =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	"<meta name=\"robots\" content=\"noindex\"><title>Unsubscribe</title></head>\n<body>\n%s\n</body></html>\n";

static void reply_page(api_reply_t *reply, const char *html)
{
	size_t size = strlen(page_format) + strlen(html) + 1;

	reply->text = malloc(size);
	if (reply->text == NULL) {
		api_error(reply, 500, "internal error");
		return;
	}
	snprintf(reply->text, size, page_format, html);
	reply->content_type = "text/html; charset=utf-8";
}

static void unsubscribe_ask_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { http_request_query(call->req, "execution") };
	PGresult *res = db_query(db, "SELECT 1 FROM workflow_executions WHERE id = $1::uuid", 1, params);
	char html[512];

	if (!db_ok(res)) {
		api_db_error(reply, db, res);
	} else if (PQntuples(res) == 0) {
		api_error(reply, 404, "unknown unsubscribe link");
	} else {
		/* The id was checked to be a UUID, so it needs no escaping. */
		snprintf(html, sizeof(html),
			 "<h1>Unsubscribe?</h1>\n<p>No more emails of this kind will come.</p>\n"
			 "<form method=\"post\" action=\"?execution=%s\">\n"
			 "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
			 "<button type=\"submit\">Unsubscribe</button>\n</form>",
			 params[0]);
		reply_page(reply, html);
	}
	PQclear(res);
}

static void unsubscribe_link_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { http_request_query(call->req, "execution") };
	const char *accept = http_request_header(call->req, "Accept");
	PGresult *res = db_query(db,
		"WITH e AS (SELECT coalesce(root.trigger_table, x.trigger_table) AS t,"
		"                  coalesce(root.trigger_id, x.trigger_id) AS id, x.id AS execution"
		"           FROM workflow_executions x LEFT JOIN workflow_executions root ON root.id = x.parent_execution_id"
		"           WHERE x.id = $1::uuid),"
		" n AS (UPDATE dummy_newsletters SET unsubscribed_at = coalesce(unsubscribed_at, now())"
		"       FROM e WHERE e.t = 'dummy_newsletters' AND dummy_newsletters.id = e.id RETURNING 1),"
		" c AS (SELECT wf_execution_cancel(x.id, 'unsubscribed') FROM workflow_executions x, e"
		"       WHERE e.t IS DISTINCT FROM 'dummy_newsletters' AND x.id = e.execution"
		"         AND x.status NOT IN ('completed', 'failed', 'cancelled'))"
		" SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM n) + (SELECT count(*) FROM c)",
		1, params);

	if (!db_ok(res))
		api_db_error(reply, db, res);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		api_error(reply, 404, "unknown unsubscribe link");
	else if (accept && strstr(accept, "text/html")) {
		/* The page's own button, in a browser. */
		reply_page(reply, "<h1>You are unsubscribed</h1>\n<p>No more emails of this kind will come.</p>");
	} else {
		reply->body = json_object();
		json_add_bool(reply->body, "unsubscribed", true);
		json_add_string(reply->body, "message", "You are unsubscribed: no more emails of this kind will come.");
	}
	PQclear(res);
}

/* GET (and so HEAD) of the link: the page asking to confirm. */
static void unsubscribe_ask(http_request_t *req, void *data)
{
	if (!api_uuid_valid(http_request_query(req, "execution"))) {
		http_respond_error(req, 404, "unknown unsubscribe link");
		return;
	}
	http_response_header(req, "Cache-Control", "no-store");
	api_run(req, data, unsubscribe_ask_work, NULL, NULL);
}

/*
 * POST: with ?execution= the link's confirmation (public: the route is), and
 * otherwise {"email"}, which unsubscribes an address and needs the token.
 */
static void unsubscribe_post(http_request_t *req, void *data)
{
	const char *execution = http_request_query(req, "execution");
	cJSON *body;
	const char *email;

	if (execution != NULL) {
		if (!api_uuid_valid(execution))
			http_respond_error(req, 404, "unknown unsubscribe link");
		else
			api_run(req, data, unsubscribe_link_work, NULL, NULL);
		return;
	}
	if (!http_request_authorize(req))
		return;
	body = http_request_json(req);
	email = body ? json_string(body, "email") : NULL;
	if (body == NULL)
		return;
	if (email == NULL || !*email) {
		http_respond_error(req, 400, "\"email\" is required");
		cJSON_Delete(body);
		return;
	}
	api_run(req, data, unsubscribe_email_work, body, NULL);
}

const http_route_t api_trigger_routes[] = {
	{ "GET", "/workflow/triggers/subscription-types", types, NULL, 0 },
	{ "GET", "/workflow/triggers/subscriptions", subscriptions, NULL, 0 },
	{ "POST", "/workflow/triggers/subscriptions", subscribe, NULL, 0 },
	{ "GET", "/workflow/triggers/newsletters", newsletters, NULL, 0 },
	{ "POST", "/workflow/triggers/newsletters", newsletter, NULL, 0 },
	{ "POST", "/workflow/triggers/newsletters/:id/unsubscribe", unsubscribe_id, NULL, 0 },
	{ "POST", "/workflow/triggers/unsubscribe", unsubscribe_post, NULL, HTTP_ROUTE_PUBLIC },
	{ "GET", "/workflow/triggers/unsubscribe", unsubscribe_ask, NULL, HTTP_ROUTE_PUBLIC },
};
const size_t api_trigger_routes_count = sizeof(api_trigger_routes) / sizeof(api_trigger_routes[0]);
