/*
 * api_editor.c - what the visual editor asks beyond the documents
 * themselves (api_visual.c):
 *   GET  /workflow/templates             the email templates a send_email may name
 *   POST /workflow/jsonlogic/validate    checks a JSON Logic rule as the engine will
 *
 * Both answer on the loop: the templates are the set the coordinator
 * already holds (loaded at start and on SIGHUP, the one saves are checked
 * against), whose read lock never waits here because its only writer is
 * this same loop; and a rule check is bounded work on a body of at most
 * HTTP_MAX_BODY bytes.
 */
#include "api.h"
#include "json.h"
#include "jsonlogic.h"
#include "workflows.h"

static void templates(http_request_t *req, void *data)
{
	cJSON *names = workflows_template_names();
	cJSON *body = json_object();
	cJSON *list = cJSON_CreateArray();
	const cJSON *name;

	cJSON_ArrayForEach(name, names) {
		cJSON *item = json_object();

		json_add_string(item, "name", name->valuestring);
		cJSON_AddItemToArray(list, item);
	}
	json_add(body, "templates", list);
	/* Without a loaded set, saves do not check template names either. */
	json_add_bool(body, "checked", names != NULL);
	cJSON_Delete(names);
	http_respond_json(req, 200, body);
}

static void jsonlogic_validate(http_request_t *req, void *data)
{
	cJSON *body = http_request_json(req);
	const cJSON *rule;
	cJSON *reply;
	char err[256];

	if (body == NULL)
		return;
	rule = cJSON_GetObjectItemCaseSensitive(body, "rule");
	if (!cJSON_IsObject(body) || rule == NULL) {
		cJSON_Delete(body);
		http_respond_error(req, 400, "the body must be {\"rule\": <a JSON Logic rule>}");
		return;
	}
	reply = json_object();
	if (jl_validate(rule, err, sizeof(err)) == 0) {
		json_add_bool(reply, "valid", true);
	} else {
		json_add_bool(reply, "valid", false);
		json_add_string(reply, "error", err);
	}
	cJSON_Delete(body);
	http_respond_json(req, 200, reply);
}

const http_route_t api_editor_routes[] = {
	{ "GET", "/workflow/templates", templates, NULL, 0 },
	{ "POST", "/workflow/jsonlogic/validate", jsonlogic_validate, NULL, 0 },
};
const size_t api_editor_routes_count = sizeof(api_editor_routes) / sizeof(api_editor_routes[0]);
