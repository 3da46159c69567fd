/*
 * exec_webhook.c - the `webhook` node: one HTTP call with a method,
 * headers and a JSON body built from the context. 2xx moves on; 5xx, 429,
 * 408 and timeouts are retried per the node's policy; other 4xx fail at
 * once. The `trigger_webhook` action shares the call (exec_webhook_call).
 *
 * Every call carries Idempotency-Key "<execution>:<node>", and a call that
 * webhook_logs already records as sent is not made again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "executor.h"
#include "http_client.h"
#include "json.h"
#include "services.h"
#include "webhook.h"

#define HEADERS_MAX 32
#define LOGGED_BODY_MAX 8192

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };

void exec_webhook_validate(const cJSON *node, const char *node_id, bool with_method,
			   def_problems_t *problems)
{
	const char *url = json_string(node, "url");
	const char *method = json_string(node, "method");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(node, "headers");
	const cJSON *h;
	bool known = false;
	char err[256];

	if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		def_problem(problems, node_id, NULL, "\"url\" must be an http:// or https:// address");
	else if (http_client_url_check(url, err, sizeof(err)) < 0)
		def_problem(problems, node_id, NULL, "\"url\": %s", err);
	if (with_method && json_has(node, "method")) {
		for (int i = 0; method && methods[i]; i++)
			known |= strcasecmp(method, methods[i]) == 0;
		if (!known)
			def_problem(problems, node_id, NULL, "\"method\" must be GET, POST, PUT, PATCH or DELETE");
	}
	if (headers != NULL && !cJSON_IsNull(headers)) {
		if (!cJSON_IsObject(headers)) {
			def_problem(problems, node_id, NULL, "\"headers\" must be an object of strings");
		} else {
			if (cJSON_GetArraySize(headers) > HEADERS_MAX)
				def_problem(problems, node_id, NULL, "at most %d headers are allowed", HEADERS_MAX);
			cJSON_ArrayForEach(h, headers) {
				if (!cJSON_IsString(h))
					def_problem(problems, node_id, NULL, "header \"%s\" must be a string", h->string);
				else if (webhook_header_check(h->string, h->valuestring, err, sizeof(err)) < 0)
					def_problem(problems, node_id, NULL, "header \"%s\": %s", h->string, err);
			}
		}
	}
}

static void validate_webhook(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
			     def_problems_t *problems)
{
	exec_webhook_validate(node, node_id, true, problems);
}

static void add_log(exec_outcome_t *out, const char *url, const char *method, const char *body,
		    const webhook_response_t *resp, const char *mode)
{
	cJSON *row = json_object();
	cJSON *entry = json_object();
	char *logged = NULL;

	json_add_string(row, "url", url);
	json_add_string(row, "method", method);
	if (body && strlen(body) > LOGGED_BODY_MAX) {
		logged = strndup(body, LOGGED_BODY_MAX);
		body = logged;
	}
	json_add_string(row, "request_body", body);
	if (resp && resp->result.code > 0)
		json_add_number(row, "response_status", resp->result.code);
	if (resp)
		json_add_string(row, "response_body", resp->result.excerpt);
	json_add_number(row, "duration_ms", resp ? resp->result.duration_ms : 0);
	json_add_string(row, "status", resp ? delivery_log_status(resp->result.outcome) : "sent");
	json_add_string(row, "mode", mode);
	if (resp && resp->result.error[0])
		json_add_string(row, "error", resp->result.error);
	json_add(entry, "webhook_log", row);
	if (out->logs == NULL)
		out->logs = cJSON_CreateArray();
	cJSON_AddItemToArray(out->logs, entry);
	free(logged);
}

void exec_webhook_call(const exec_ctx_t *ctx, const cJSON *fields, const cJSON *default_body,
		       exec_outcome_t *out)
{
	const char *url = json_string(fields, "url");
	const char *method = json_string(fields, "method");
	const cJSON *body_tmpl = cJSON_GetObjectItemCaseSensitive(fields, "body");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(fields, "headers");
	delivery_header_t hdrs[HEADERS_MAX];
	webhook_request_t req = { 0 };
	webhook_response_t resp = { 0 };
	char key[256], err[256];
	cJSON *body = NULL;
	char *body_text = NULL;
	const cJSON *h;
	size_t n = 0;

	method = method ? method : "POST";
	if (services_already_sent(ctx->services, "webhook_logs", ctx->execution_id, ctx->node->id)) {
		out->result = json_object();
		json_add_string(out->result, "skipped", "already sent");
		exec_next(out, ctx->node->next);
		return;
	}
	if (strcmp(ctx->services->cfg->webhook_mode, "mock") != 0) {
		const char *keys[2] = { "webhook", NULL };
		int rates[1] = { ctx->services->cfg->webhook_rate_per_s };

		if (exec_rate_limited(ctx, out, keys, rates))
			return;
	}
	if (body_tmpl && !cJSON_IsNull(body_tmpl))
		body = exec_fill(ctx, body_tmpl, err, sizeof(err));
	else if (default_body)
		body = cJSON_Duplicate(default_body, 1);
	else
		body = cJSON_CreateObject();
	if (body == NULL) {
		exec_fail(out, true, "webhook body: %s", err);
		return;
	}
	body_text = json_print(body);
	cJSON_ArrayForEach(h, headers) {
		if (n < HEADERS_MAX && cJSON_IsString(h))
			hdrs[n++] = (delivery_header_t){ h->string, h->valuestring };
	}
	snprintf(key, sizeof(key), "%s:%s", ctx->execution_id, ctx->node->id);
	if (strcmp(ctx->services->cfg->webhook_mode, "mock") == 0) {
		add_log(out, url, method, body_text, NULL, "mock");
		exec_next(out, ctx->node->next);
		goto out;
	}
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.nheaders = n;
	req.body = strcasecmp(method, "GET") == 0 ? NULL : body_text;
	req.idempotency_key = key;
	webhook_call(&ctx->services->webhook, &req, &resp);
	add_log(out, url, method, req.body, &resp, "http");
	out->result = json_object();
	json_add_number(out->result, "status", resp.result.code);
	json_add_number(out->result, "duration_ms", resp.result.duration_ms);
	if (resp.result.outcome == DELIVERY_SENT)
		exec_next(out, ctx->node->next);
	else
		exec_fail(out, resp.result.outcome == DELIVERY_PERMANENT, "webhook %s %s: %s", method, url,
			  resp.result.error);
out:
	webhook_response_free(&resp);
	free(body_text);
	cJSON_Delete(body);
}

static void execute_webhook(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	exec_webhook_call(ctx, ctx->node->json, NULL, out);
}

static bool webhook_external(const cJSON *node, const wf_config_t *cfg)
{
	return strcmp(cfg->webhook_mode, "mock") != 0;
}

static const char schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"webhook\", "
	"\"description\": \"calls an HTTP endpoint with a JSON body built from the context; 2xx continues, "
	"5xx/429/408 and timeouts are retried\", \"type\": \"object\", \"required\": [\"url\"], "
	"\"properties\": {\"url\": {\"type\": \"string\", \"pattern\": \"^https?://\"}, "
	"\"method\": {\"enum\": [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"], \"default\": \"POST\"}, "
	"\"headers\": {\"type\": \"object\", \"additionalProperties\": {\"type\": \"string\"}}, "
	"\"body\": {\"description\": \"JSON where single-operator objects are JSON Logic over the context; default {}\"}}, "
	"\"examples\": [{\"url\": \"https://example.com/hooks/welcome\", \"method\": \"POST\", "
	"\"headers\": {\"X-Source\": \"wf-engine\"}, \"body\": {\"user\": {\"var\": \"user.id\"}, "
	"\"event\": \"welcomed\"}}, {\"url\": \"http://127.0.0.1:8080/ping\", \"method\": \"GET\"}]}";

const executor_t exec_webhook = {
	.type = "webhook",
	.description = "calls an HTTP endpoint with a JSON body built from the context",
	.runs_in_line = true,
	.external = webhook_external,
	.validate = validate_webhook,
	.execute = execute_webhook,
	.schema = schema,
};
