/*
 * exec_action.c - the `action` node: send_email, send_sms, trigger_webhook.
 *
 * Email goes to user.email (or newsletter.email) unless the node gives "to",
 * a JSON Logic expression; SMS to user.phone unless it gives "to". In mock
 * mode (EMAIL_MODE/SMS_MODE=mock) the message is rendered and logged but not
 * sent. Every attempt becomes a row of email_logs or sms_logs, committed
 * with the step. A message already logged as sent for this execution and
 * node is not sent again, and its Message-ID (email) or reference (SMS) is
 * derived from execution and node, so a receiver can spot a resend.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "executor.h"
#include "json.h"
#include "services.h"
#include "sms.h"
#include "template.h"
#include "template_set.h"

typedef enum { ACTION_EMAIL, ACTION_SMS, ACTION_WEBHOOK, ACTION_UNKNOWN } action_t;

static action_t action_of(const cJSON *node)
{
	const char *a = json_string(node, "action");

	if (a == NULL)
		return ACTION_UNKNOWN;
	if (strcmp(a, "send_email") == 0)
		return ACTION_EMAIL;
	if (strcmp(a, "send_sms") == 0)
		return ACTION_SMS;
	if (strcmp(a, "trigger_webhook") == 0)
		return ACTION_WEBHOOK;
	return ACTION_UNKNOWN;
}

static void validate_action(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
			    def_problems_t *problems)
{
	const char *template = json_string(node, "template");
	const char *message = json_string(node, "message");
	char err[256];
	tpl_t *tpl;

	switch (action_of(node)) {
	case ACTION_EMAIL:
		exec_require_string(node, node_id, "template", problems);
		if (template && resolver && resolver->has_template &&
		    !resolver->has_template(resolver->arg, template))
			def_problem(problems, node_id, NULL, "unknown email template \"%s\"", template);
		exec_check_logic(node, node_id, "to", false, problems);
		break;
	case ACTION_SMS:
		exec_require_string(node, node_id, "message", problems);
		if (message && tpl_compile(message, strlen(message), node_id, NULL, &tpl, err, sizeof(err)) < 0)
			def_problem(problems, node_id, NULL, "\"message\" is not a valid template: %s", err);
		else if (message)
			tpl_free(tpl);
		exec_check_logic(node, node_id, "to", false, problems);
		break;
	case ACTION_WEBHOOK:
		exec_webhook_validate(node, node_id, true, problems);
		break;
	case ACTION_UNKNOWN:
		def_problem(problems, node_id, NULL,
			    "\"action\" must be send_email, send_sms or trigger_webhook");
		break;
	}
}

static const char *const email_paths[] = { "user", "email", "newsletter", "email", NULL };
static const char *const sms_paths[] = { "user", "phone", NULL };

/*
 * The recipient: the node's "to" expression (evaluated at now, epoch
 * seconds), else the first of paths found in the context.
 */
static char *recipient(const cJSON *node, const cJSON *context, double now, const char *const *paths,
		       char *err, size_t errlen)
{
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(node, "to");

	if (to && !cJSON_IsNull(to)) {
		exec_ctx_t at = { .context = context, .now = now };

		return exec_eval_text(&at, to, err, errlen);
	}
	for (int i = 0; paths[i]; i += 2) {
		const cJSON *obj = cJSON_GetObjectItemCaseSensitive(context, paths[i]);
		const char *v = json_string(obj, paths[i + 1]);

		if (v && *v)
			return strdup(v);
	}
	snprintf(err, errlen, "no recipient: the context has no %s.%s", paths[0], paths[1]);
	return NULL;
}

char *exec_email_recipient(const cJSON *node, const cJSON *context, double now, char *err, size_t errlen)
{
	const char *type = json_string(node, "type");

	if (type == NULL || strcmp(type, "action") != 0 || action_of(node) != ACTION_EMAIL) {
		snprintf(err, errlen, "not a send_email node");
		return NULL;
	}
	return recipient(node, context, now, email_paths, err, errlen);
}

/*
 * The recipient's display name: the user's name when the email goes to the
 * user's own address (a node's "to" may send it elsewhere), folded to one
 * line as the subject is. NULL for none; the caller frees it.
 */
static char *recipient_name(const exec_ctx_t *ctx, const char *to)
{
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(ctx->context, "user");
	const char *email = json_string(user, "email");
	const char *name = json_string(user, "name");
	char *folded;

	if (name == NULL || email == NULL || strcmp(email, to) != 0)
		return NULL;
	folded = strdup(name);
	if (folded == NULL)
		abort();
	tpl_fold_line(folded);
	return folded;
}

/*
 * The data templates see: the context, plus the execution and an
 * unsubscribe link. The context's members are referenced, not copied (the
 * renderers only read), so deleting the data frees only this top level: a
 * deep copy per message cost a worker child some 8% of its CPU on mock sends.
 */
static cJSON *template_data(const exec_ctx_t *ctx)
{
	cJSON *data = json_object();
	cJSON *execution = json_object();
	const cJSON *member;
	char url[512];

	if (cJSON_IsObject(ctx->context)) {
		cJSON_ArrayForEach(member, ctx->context) {
			if (member->string && strcmp(member->string, "execution") != 0 &&
			    !cJSON_AddItemReferenceToObject(data, member->string, (cJSON *)member))
				abort();
		}
	}
	json_add_string(execution, "id", ctx->execution_id);
	json_add_string(execution, "node", ctx->node->id);
	json_add(data, "execution", execution);
	snprintf(url, sizeof(url), "%s/workflow/triggers/unsubscribe?execution=%s",
		 ctx->services->cfg->public_url, ctx->execution_id);
	if (!cJSON_HasObjectItem(data, "unsubscribe_url"))
		json_add_string(data, "unsubscribe_url", url);
	return data;
}

static void add_log(exec_outcome_t *out, const char *key, cJSON *row)
{
	cJSON *entry = json_object();

	json_add(entry, key, row);
	if (out->logs == NULL)
		out->logs = cJSON_CreateArray();
	cJSON_AddItemToArray(out->logs, entry);
}

/* "execution.node@domain" with the domain of FROM_EMAIL; node ids are made safe. */
static void message_id(const exec_ctx_t *ctx, char *out, size_t size)
{
	const char *from = ctx->services->cfg->from_email;
	const char *at = from ? strrchr(from, '@') : NULL;
	char domain[256] = "wf-engine.invalid";
	char node[128];
	size_t i;

	if (at) {
		snprintf(domain, sizeof(domain), "%s", at + 1);
		domain[strcspn(domain, ">")] = '\0';
	}
	for (i = 0; ctx->node->id[i] && i < sizeof(node) - 1; i++)
		node[i] = isalnum((unsigned char)ctx->node->id[i]) ? ctx->node->id[i] : '-';
	node[i] = '\0';
	snprintf(out, size, "%s.%s@%s", ctx->execution_id, node, domain);
}

/* The fleet-wide email limit, then the recipient domain's. */
static bool email_rate_limited(const exec_ctx_t *ctx, exec_outcome_t *out, const char *to)
{
	const wf_config_t *cfg = ctx->services->cfg;
	const char *at = strrchr(to, '@');
	char domain_key[300];
	const char *keys[3] = { "email", domain_key, NULL };
	int rates[2] = { cfg->email_rate_per_s, cfg->email_domain_rate_per_s };

	snprintf(domain_key, sizeof(domain_key), "email:%s", at ? at + 1 : "");
	for (char *p = domain_key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return exec_rate_limited(ctx, out, keys, rates);
}

static void send_email(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	const services_t *svc = ctx->services;
	const char *template = json_string(ctx->node->json, "template");
	bool mock = strcmp(svc->cfg->email_mode, "mock") == 0;
	tpl_rendered_t mail = { 0 };
	delivery_result_t result;
	char err[256] = "", msgid[512];
	char *to = recipient(ctx->node->json, ctx->context, ctx->now, email_paths, err, sizeof(err));
	cJSON *data = template_data(ctx);
	cJSON *row;

	if (to == NULL) {
		exec_fail(out, true, "send_email: %s", err);
		goto out;
	}
	if (!mock && services_already_sent(svc, "email_logs", ctx->execution_id, ctx->node->id)) {
		out->result = json_object();
		json_add_string(out->result, "skipped", "already sent");
		exec_next(out, ctx->node->next);
		goto out;
	}
	if (!mock && email_rate_limited(ctx, out, to))
		goto out;
	if (tpl_render_email(svc->templates, template, data, &mail, err, sizeof(err)) < 0) {
		exec_fail(out, true, "template \"%s\": %s", template, err);
		goto out;
	}
	message_id(ctx, msgid, sizeof(msgid));
	delivery_result_reset(&result);
	if (!email_address_valid(to)) {
		delivery_set_error(&result, DELIVERY_PERMANENT, "invalid recipient address \"%s\"", to);
	} else if (!mock) {
		char *to_name = recipient_name(ctx, to);
		const char *unsubscribe = json_string(data, "unsubscribe_url");
		/* One-click (RFC 8058) only for the engine's own link, which a POST unsubscribes. */
		bool own_link = !cJSON_HasObjectItem(ctx->context, "unsubscribe_url");
		/* No length cap: a context's own link may carry a long signed token.
		 * email_build refuses (clearly) one that no header line can hold. */
		char *list_unsub = email_list_unsubscribe(unsubscribe ? unsubscribe : "");
		delivery_header_t headers[2];
		email_message_t msg = { 0 };

		if (list_unsub == NULL) {
			free(to_name);
			exec_fail(out, false, "send_email: out of memory");
			goto out;
		}
		headers[0] = (delivery_header_t){ "List-Unsubscribe", list_unsub };
		headers[1] = (delivery_header_t){ "List-Unsubscribe-Post", "List-Unsubscribe=One-Click" };
		msg.to = to;
		msg.to_name = to_name;
		msg.subject = mail.subject;
		msg.text = mail.text;
		msg.html = mail.html;
		msg.message_id = msgid;
		msg.headers = headers;
		msg.nheaders = unsubscribe ? (own_link ? 2 : 1) : 0;
		email_send(&svc->email, &msg, &result);
		free(list_unsub);
		free(to_name);
	}
	row = json_object();
	json_add_string(row, "recipient", to);
	json_add_string(row, "subject", mail.subject);
	json_add_string(row, "template", template);
	/* No "data": the row refers to its execution's context (sql/018). */
	json_add_string(row, "status", delivery_log_status(result.outcome));
	json_add_string(row, "mode", mock ? "mock" : "smtp");
	json_add_string(row, "message_id", msgid);
	if (result.error[0])
		json_add_string(row, "error", result.error);
	add_log(out, "email_log", row);
	out->result = json_object();
	json_add_string(out->result, "to", to);
	json_add_string(out->result, "subject", mail.subject);
	json_add_string(out->result, "message_id", msgid);
	if (result.outcome == DELIVERY_SENT)
		exec_next(out, ctx->node->next);
	else
		exec_fail(out, result.outcome == DELIVERY_PERMANENT, "send_email to %s: %s", to, result.error);
out:
	tpl_rendered_free(&mail);
	cJSON_Delete(data);
	free(to);
}

static void send_sms(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	const services_t *svc = ctx->services;
	const char *message = json_string(ctx->node->json, "message");
	bool mock = strcmp(svc->cfg->sms_mode, "mock") == 0;
	delivery_result_t result;
	char err[256] = "", reference[256];
	char *to = recipient(ctx->node->json, ctx->context, ctx->now, sms_paths, err, sizeof(err));
	char *body = NULL;
	cJSON *data = template_data(ctx);
	tpl_t *tpl = NULL;
	cJSON *row;

	if (to == NULL) {
		exec_fail(out, true, "send_sms: %s", err);
		goto out;
	}
	if (!mock && services_already_sent(svc, "sms_logs", ctx->execution_id, ctx->node->id)) {
		out->result = json_object();
		json_add_string(out->result, "skipped", "already sent");
		exec_next(out, ctx->node->next);
		goto out;
	}
	if (!mock) {
		const char *keys[2] = { "sms", NULL };
		int rates[1] = { svc->cfg->sms_rate_per_s };

		if (exec_rate_limited(ctx, out, keys, rates))
			goto out;
	}
	if (tpl_compile(message, strlen(message), ctx->node->id, svc->templates, &tpl, err, sizeof(err)) < 0 ||
	    tpl_render(tpl, data, svc->templates, &(tpl_options_t){ .no_escape = true }, &body, err,
		       sizeof(err)) < 0) {
		exec_fail(out, true, "send_sms message: %s", err);
		goto out;
	}
	snprintf(reference, sizeof(reference), "%s:%s", ctx->execution_id, ctx->node->id);
	delivery_result_reset(&result);
	if (!sms_number_valid(to)) {
		delivery_set_error(&result, DELIVERY_PERMANENT, "invalid phone number \"%s\" (E.164 expected)", to);
	} else if (!mock) {
		sms_message_t msg = { .to = to, .body = body, .reference = reference };

		sms_send(&svc->sms, &msg, &result);
	}
	row = json_object();
	json_add_string(row, "recipient", to);
	json_add_string(row, "body", body);
	/* No "data": the row refers to its execution's context (sql/018). */
	json_add_string(row, "status", delivery_log_status(result.outcome));
	json_add_string(row, "mode", mock ? "mock" : "http");
	if (result.code > 0)
		json_add_number(row, "provider_status", result.code);
	if (result.error[0])
		json_add_string(row, "error", result.error);
	add_log(out, "sms_log", row);
	out->result = json_object();
	json_add_string(out->result, "to", to);
	if (result.outcome == DELIVERY_SENT)
		exec_next(out, ctx->node->next);
	else
		exec_fail(out, result.outcome == DELIVERY_PERMANENT, "send_sms to %s: %s", to, result.error);
out:
	tpl_free(tpl);
	free(body);
	cJSON_Delete(data);
	free(to);
}

static void execute_action(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	switch (action_of(ctx->node->json)) {
	case ACTION_EMAIL:
		send_email(ctx, out);
		break;
	case ACTION_SMS:
		send_sms(ctx, out);
		break;
	case ACTION_WEBHOOK:
		/* Without a "body" the whole context is posted. */
		exec_webhook_call(ctx, ctx->node->json, ctx->context, out);
		break;
	case ACTION_UNKNOWN:
		exec_fail(out, true, "unknown action");
		break;
	}
}

static bool action_external(const cJSON *node, const wf_config_t *cfg)
{
	switch (action_of(node)) {
	case ACTION_EMAIL:
		return strcmp(cfg->email_mode, "mock") != 0;
	case ACTION_SMS:
		return strcmp(cfg->sms_mode, "mock") != 0;
	case ACTION_WEBHOOK:
		return strcmp(cfg->webhook_mode, "mock") != 0;
	default:
		return false;
	}
}

static const char schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"action\", "
	"\"description\": \"sends an email (send_email) or an SMS (send_sms), "
	"or posts to a URL (trigger_webhook)\", \"type\": \"object\", \"required\": [\"action\"], "
	"\"properties\": {\"action\": {\"enum\": [\"send_email\", \"send_sms\", \"trigger_webhook\"]}, "
	"\"template\": {\"type\": \"string\", \"minLength\": 1, "
	"\"description\": \"send_email: the name of an email template of TEMPLATES_DIR\"}, "
	"\"message\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"send_sms: the text, "
	"a Handlebars template over the context\"}, \"to\": {\"description\": \"the recipient, "
	"a JSON Logic expression over the execution's context; default user.email (or newsletter.email), "
	"user.phone for SMS\"}, \"url\": {\"type\": \"string\", \"pattern\": \"^https?://\", "
	"\"description\": \"trigger_webhook: the address\"}, \"method\": {\"enum\": [\"GET\", \"POST\", "
	"\"PUT\", \"PATCH\", \"DELETE\"], \"default\": \"POST\"}, \"headers\": {\"type\": \"object\", "
	"\"additionalProperties\": {\"type\": \"string\"}}, "
	"\"body\": {\"description\": \"trigger_webhook: JSON where single-operator objects are JSON Logic; default: the whole context\"}}, "
	"\"allOf\": [{\"if\": {\"properties\": {\"action\": {\"const\": \"send_email\"}}}, "
	"\"then\": {\"required\": [\"template\"]}}, "
	"{\"if\": {\"properties\": {\"action\": {\"const\": \"send_sms\"}}}, "
	"\"then\": {\"required\": [\"message\"]}}, "
	"{\"if\": {\"properties\": {\"action\": {\"const\": \"trigger_webhook\"}}}, "
	"\"then\": {\"required\": [\"url\"]}}], \"examples\": [{\"action\": \"send_email\", "
	"\"template\": \"united_welcome\"}, {\"action\": \"send_email\", \"template\": \"engagement_nudge\", "
	"\"to\": {\"var\": \"user.email\"}}, {\"action\": \"send_sms\", \"message\": \"Hi {{user.name}}, "
	"welcome aboard\"}, {\"action\": \"trigger_webhook\", "
	"\"url\": \"https://example.com/hooks/signup\", \"method\": \"POST\"}]}";

const executor_t exec_action = {
	.type = "action",
	.description = "sends an email or an SMS, or triggers a webhook",
	.runs_in_line = true,
	.external = action_external,
	.validate = validate_action,
	.execute = execute_action,
	.schema = schema,
};
