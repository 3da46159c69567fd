/*
 * test_delivery.c - the workers delivering for real: each of the six
 * templates through SMTP to aiosmtpd (headers, both parts, hostile values
 * escaped in HTML only), SMTP failures retried or failed per the node's
 * policy with every attempt logged, SMS and signed webhooks to a real HTTP
 * receiver, the fleet-wide email rate limit deferring steps instead of
 * failing them, a batch of slow calls giving back the steps it could not
 * start within half their lease rather than racing the sweeper, and a
 * burst of slow calls spread over the pool's processes.
 */
#include <check.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixtures.h"
#include "peers.h"
#include "proc.h"
#include "runner.h"
#include "scratch.h"
#include "testdb.h"

static pid_t start_pool(const char *const *extra)
{
	const char *env[16] = { "WORKER_PROCESSES=2", "LOG_FORMAT=json", "SMTP_TIMEOUT_MS=1000",
				"FROM_EMAIL=Lifecycle <noreply@example.com>" };
	int n = 4;

	for (; extra && *extra && n < 15; extra++)
		env[n++] = *extra;
	env[n] = NULL;
	return proc_start("WF_WORKER", NULL, env, "/tmp/wf-test-delivery.log");
}

static const char *str(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(obj, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	return cJSON_IsString(v) ? v->valuestring : "";
}

START_TEST(each_template_arrives_over_smtp)
{
	static const char *const templates[] = { "united_welcome", "podcast_welcome", "generic_welcome",
						  "engagement_nudge", "value_highlight", "newsletter_welcome" };
	testdb_t *t = testdb_new("smtp6");
	peer_t *smtp = peer_must_start("smtp_server.py", NULL);
	char host[32], port[32], exec[64];
	const char *env[] = { "EMAIL_MODE=smtp", host, port, "SMTP_TLS=off", NULL };
	pid_t pool;
	char def[2048];
	size_t len = 0;

	snprintf(host, sizeof(host), "SMTP_HOST=127.0.0.1");
	snprintf(port, sizeof(port), "SMTP_PORT=%d", smtp->port);
	len += (size_t)snprintf(def + len, sizeof(def) - len, "{\"start\":\"m0\",\"nodes\":{");
	for (int i = 0; i < 6; i++) {
		char next[8] = "null";

		if (i < 5)
			snprintf(next, sizeof(next), "\"m%d\"", i + 1);
		len += (size_t)snprintf(def + len, sizeof(def) - len,
					"%s\"m%d\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"%s\",\"next\":%s}",
					i ? "," : "", i, templates[i], next);
	}
	snprintf(def + len, sizeof(def) - len, "}}");
	fixture_workflow(t, "test-six-mails", def);
	pool = start_pool(env);
	snprintf(exec, sizeof(exec), "%s", fixture_execution(t, "test-six-mails",
		"{\"user\":{\"id\":7,\"email\":\"test-ada@example.com\",\"name\":\"Ada <script>alert(\\\"x\\\")</script> & Zoë\"},"
		"\"subscription_type\":{\"name\":\"united\",\"description\":\"Premium & more\"},"
		"\"newsletter\":{\"email\":\"test-ada@example.com\"}}"));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 1, 30000), 1);
	ck_assert_int_eq(peer_count(smtp, "msg"), 6);
	for (int i = 1; i <= 6; i++) {
		cJSON *m = peer_record(smtp, "msg", i, 2000);
		char want_id[160];
		const char *subject = str(m, "headers", "subject");
		const char *html = str(m, "html", NULL);
		const char *text = str(m, "text", NULL);

		ck_assert_ptr_nonnull(m);
		ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "rcpt_tos"), 0)), "test-ada@example.com");
		ck_assert_str_eq(str(m, "content_type", NULL), "multipart/alternative");
		ck_assert_msg(strlen(subject) > 5 && !strchr(subject, '\n'), "subject %d: \"%s\"", i, subject);
		ck_assert_msg(*text && *html, "message %d lacks a part", i);
		/* Hostile values are escaped in HTML and left as they are in text. */
		ck_assert_msg(strstr(html, "<script>") == NULL, "unescaped script in %d", i);
		if (strstr(text, "Ada"))
			ck_assert_msg(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)") != NULL, "HTML escaping in %d", i);
		ck_assert_msg(strstr(text, "/workflow/triggers/unsubscribe?execution=") != NULL, "no unsubscribe link in %d", i);
		ck_assert_msg(strstr(str(m, "headers", "list-unsubscribe"), exec) != NULL, "List-Unsubscribe of %d", i);
		ck_assert_str_eq(str(m, "headers", "list-unsubscribe-post"), "List-Unsubscribe=One-Click");
		snprintf(want_id, sizeof(want_id), "<%s.m%d@example.com>", exec, i - 1);
		ck_assert_str_eq(str(m, "headers", "message-id"), want_id);
		ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(m, "defects")), 0);
		cJSON_Delete(m);
	}
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs l JOIN workflow_executions e ON e.id = l.execution_id"
				     " WHERE l.status = 'sent' AND l.mode = 'smtp' AND l.data IS NULL", 0, NULL), 6);
	proc_stop(pool);
	peer_stop(smtp);
	testdb_free(t);
}
END_TEST

/*
 * The display name of To is the user's name, folded to one line, and only
 * when the email goes to the user's own address.
 */
START_TEST(recipient_name_is_one_line_and_only_the_users)
{
	testdb_t *t = testdb_new("smtpname");
	peer_t *smtp = peer_must_start("smtp_server.py", NULL);
	char host[32], port[32];
	const char *env[] = { "EMAIL_MODE=smtp", host, port, "SMTP_TLS=off", NULL };
	pid_t pool;
	cJSON *own, *other;

	snprintf(host, sizeof(host), "SMTP_HOST=127.0.0.1");
	snprintf(port, sizeof(port), "SMTP_PORT=%d", smtp->port);
	fixture_workflow(t, "test-names", "{\"start\":\"a\",\"nodes\":{"
			 "\"a\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"b\"},"
			 "\"b\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\","
			 "\"to\":\"test-ops@example.com\"}}}");
	pool = start_pool(env);
	fixture_execution(t, "test-names", "{\"user\":{\"id\":8,\"email\":\"test-ada@example.com\",\"name\":\"Ada\\r\\n Lovelace\"}}");
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 1, 30000), 1);
	own = peer_record(smtp, "msg", 1, 2000);
	other = peer_record(smtp, "msg", 2, 2000);
	ck_assert_ptr_nonnull(own);
	ck_assert_ptr_nonnull(other);
	ck_assert_str_eq(str(own, "headers", "to"), "Ada Lovelace <test-ada@example.com>");
	ck_assert_str_eq(str(other, "headers", "to"), "test-ops@example.com");
	cJSON_Delete(own);
	cJSON_Delete(other);
	proc_stop(pool);
	peer_stop(smtp);
	testdb_free(t);
}
END_TEST

/*
 * What a template sees: the context, the engine's own "execution" (a
 * context's key of that name is hidden, not merged) and the engine's
 * unsubscribe link, unless the context brings its own link, which then
 * goes into List-Unsubscribe without the one-click header. The stored
 * context stays as it was given.
 */
START_TEST(templates_see_the_context_the_execution_and_one_unsubscribe_link)
{
	testdb_t *t = testdb_new("smtpdata");
	peer_t *smtp = peer_must_start("smtp_server.py", NULL);
	char host[32] = "SMTP_HOST=127.0.0.1", port[32], dir[64], tpl_env[128];
	const char *env[] = { "EMAIL_MODE=smtp", host, port, "SMTP_TLS=off", tpl_env, NULL };
	char spoofed[64], own[64], want[256];
	const char *pspoofed[1] = { spoofed };
	pid_t pool;
	cJSON *m;

	scratch_make(dir, sizeof(dir));
	scratch_put(dir, "tpl/probe/subject.hbs", "For {{user.name}}", NULL, 0);
	scratch_put(dir, "tpl/probe/text.hbs",
		    "exec={{execution.id}} node={{execution.node}} plan={{subscription_type.name}} link={{unsubscribe_url}}",
		    NULL, 0);
	scratch_put(dir, "tpl/probe/html.hbs", "<p>{{execution.id}}</p>", NULL, 0);
	snprintf(tpl_env, sizeof(tpl_env), "TEMPLATES_DIR=%s/tpl", dir);
	snprintf(port, sizeof(port), "SMTP_PORT=%d", smtp->port);
	fixture_workflow(t, "test-probe", "{\"start\":\"hello\",\"nodes\":{\"hello\":{\"type\":\"action\","
					  "\"action\":\"send_email\",\"template\":\"probe\"}}}");
	pool = start_pool(env);
	snprintf(spoofed, sizeof(spoofed), "%s", fixture_execution(t, "test-probe",
		"{\"user\":{\"email\":\"test-ada@example.com\",\"name\":\"Ada\"},"
		"\"subscription_type\":{\"name\":\"united\"},\"execution\":{\"id\":\"spoofed\",\"node\":\"elsewhere\"}}"));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 1, 30000), 1);
	snprintf(own, sizeof(own), "%s", fixture_execution(t, "test-probe",
		"{\"user\":{\"email\":\"test-bob@example.com\",\"name\":\"Bob\"},"
		"\"unsubscribe_url\":\"https://example.com/own?t=1\"}"));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 2, 30000), 2);

	m = peer_record(smtp, "msg", 1, 2000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(str(m, "headers", "subject"), "For Ada");
	snprintf(want, sizeof(want), "exec=%s node=hello plan=united link=", spoofed);
	ck_assert_msg(strncmp(str(m, "text", NULL), want, strlen(want)) == 0, "text: %s", str(m, "text", NULL));
	snprintf(want, sizeof(want), "/workflow/triggers/unsubscribe?execution=%s", spoofed);
	ck_assert_ptr_nonnull(strstr(str(m, "text", NULL), want));
	ck_assert_str_eq(str(m, "headers", "list-unsubscribe-post"), "List-Unsubscribe=One-Click");
	cJSON_Delete(m);

	m = peer_record(smtp, "msg", 2, 2000);
	ck_assert_ptr_nonnull(m);
	snprintf(want, sizeof(want), "exec=%s node=hello plan= link=https://example.com/own?t=1", own);
	ck_assert_str_eq(str(m, "text", NULL), want);
	ck_assert_str_eq(str(m, "headers", "list-unsubscribe"), "<https://example.com/own?t=1>");
	ck_assert_str_eq(str(m, "headers", "list-unsubscribe-post"), "");
	cJSON_Delete(m);

	ck_assert_str_eq(testdb_text(t, "SELECT context #>> '{execution,id}' FROM workflow_executions WHERE id = $1::uuid",
				     1, pspoofed), "spoofed");
	proc_stop(pool);
	peer_stop(smtp);
	scratch_remove(dir);
	testdb_free(t);
}
END_TEST

START_TEST(smtp_failures_follow_the_retry_policy_and_every_attempt_is_logged)
{
	testdb_t *t = testdb_new("smtpfail");
	peer_t *smtp = peer_must_start("smtp_server.py", NULL);
	char host[32] = "SMTP_HOST=127.0.0.1", port[32];
	const char *env[] = { "EMAIL_MODE=smtp", host, port, "SMTP_TLS=off", NULL };
	pid_t pool;
	char down[64], refused[64], busy[64];
	const char *pdown[1] = { down }, *prefused[1] = { refused }, *pbusy[1] = { busy };

	snprintf(port, sizeof(port), "SMTP_PORT=%d", smtp->port);
	fixture_workflow(t, "test-mail", "{\"start\":\"m\",\"nodes\":{\"m\":{\"type\":\"action\",\"action\":\"send_email\","
					 "\"template\":\"generic_welcome\",\"retry\":{\"max_attempts\":3,\"base_ms\":100,\"max_ms\":200}}}}");
	pool = start_pool(env);
	snprintf(refused, sizeof(refused), "%s", fixture_execution(t, "test-mail", "{\"user\":{\"email\":\"refuse-me@example.com\"}}"));
	snprintf(busy, sizeof(busy), "%s", fixture_execution(t, "test-mail", "{\"user\":{\"email\":\"busy-me@example.com\"}}"));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'failed'", 2, 20000), 2);
	/* 550: permanent, one attempt. 451: transient, three attempts. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs WHERE execution_id = $1::uuid", 1, prefused), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(status, ',' ORDER BY id) FROM email_logs WHERE execution_id = $1::uuid", 1, pbusy),
			 "deferred,deferred,failed");
	ck_assert_msg(strstr(testdb_text(t, "SELECT error FROM email_logs WHERE execution_id = $1::uuid", 1, prefused), "550") != NULL,
		      "the refusal's code is logged");
	/* The server gone: transient, retried, then failed; every attempt logged. */
	peer_stop(smtp);
	snprintf(down, sizeof(down), "%s", fixture_execution(t, "test-mail", "{\"user\":{\"email\":\"test-down@example.com\"}}"));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'failed'", 3, 20000), 3);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(status, ',' ORDER BY id) FROM email_logs WHERE execution_id = $1::uuid", 1, pdown),
			 "deferred,deferred,failed");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_dead_letters", 0, NULL), 3);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(sms_and_signed_webhooks_reach_a_real_receiver)
{
	testdb_t *t = testdb_new("httpdeliv");
	peer_t *hook = peer_must_start("http_receiver.py", NULL);
	char url[96];
	const char *env[] = { "SMS_MODE=http", url, "SMS_API_TOKEN=test-token", "WEBHOOK_SECRET=test-secret", NULL };
	char def[1024], expect[80], mac_hex[65];
	unsigned char mac[32];
	unsigned int mac_len = 0;
	pid_t pool;
	cJSON *sms, *call;
	const char *body, *stamp;
	char *signed_text;

	snprintf(url, sizeof(url), "SMS_API_URL=http://127.0.0.1:%d/ok", hook->port);
	snprintf(def, sizeof(def), "{\"start\":\"s\",\"nodes\":{"
		 "\"s\":{\"type\":\"action\",\"action\":\"send_sms\",\"message\":\"Hi {{user.name}}\",\"next\":\"w\"},"
		 "\"w\":{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%d/ok\",\"body\":{\"id\":{\"var\":\"user.id\"}}}}}", hook->port);
	fixture_workflow(t, "test-http", def);
	pool = start_pool(env);
	fixture_execution(t, "test-http", "{\"user\":{\"id\":5,\"name\":\"Sam & Co <x>\",\"phone\":\"+4915112345678\"}}");
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 1, 20000), 1);
	sms = peer_record(hook, "req", 1, 2000);
	call = peer_record(hook, "req", 2, 2000);
	ck_assert_ptr_nonnull(sms);
	ck_assert_ptr_nonnull(call);
	ck_assert_str_eq(peer_header(sms, "Authorization"), "Bearer test-token");
	ck_assert_msg(strstr(str(sms, "body", NULL), "\"to\":\"+4915112345678\"") != NULL, "%s", str(sms, "body", NULL));
	/* An SMS is text: nothing in it is HTML-escaped. */
	ck_assert_msg(strstr(str(sms, "body", NULL), "\"body\":\"Hi Sam & Co <x>\"") != NULL, "%s", str(sms, "body", NULL));
	/* The receiver can check the signature: HMAC-SHA256(secret, timestamp "." body). */
	body = str(call, "body", NULL);
	ck_assert_str_eq(body, "{\"id\":5}");
	stamp = peer_header(call, "X-Webhook-Timestamp");
	ck_assert_ptr_nonnull(stamp);
	signed_text = malloc(strlen(stamp) + strlen(body) + 2);
	sprintf(signed_text, "%s.%s", stamp, body);
	HMAC(EVP_sha256(), "test-secret", 11, (const unsigned char *)signed_text, strlen(signed_text), mac, &mac_len);
	for (unsigned i = 0; i < mac_len; i++)
		sprintf(mac_hex + 2 * i, "%02x", mac[i]);
	snprintf(expect, sizeof(expect), "sha256=%s", mac_hex);
	ck_assert_str_eq(peer_header(call, "X-Webhook-Signature"), expect);
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || provider_status FROM sms_logs", 0, NULL), "sent 200");
	free(signed_text);
	cJSON_Delete(sms);
	cJSON_Delete(call);
	proc_stop(pool);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

START_TEST(rate_limit_defers_instead_of_failing)
{
	testdb_t *t = testdb_new("ratelimit");
	peer_t *smtp = peer_must_start("smtp_server.py", NULL);
	char port[32];
	const char *env[] = { "EMAIL_MODE=smtp", "SMTP_HOST=127.0.0.1", port, "SMTP_TLS=off", "EMAIL_RATE_PER_S=5",
			      "EMAIL_DOMAIN_RATE_PER_S=100", NULL };
	pid_t pool;
	double t0;

	snprintf(port, sizeof(port), "SMTP_PORT=%d", smtp->port);
	fixture_workflow(t, "test-mail", "{\"start\":\"m\",\"nodes\":{\"m\":{\"type\":\"action\",\"action\":\"send_email\","
					 "\"template\":\"generic_welcome\"}}}");
	pool = start_pool(env);
	fixture_executions(t, "test-mail", 15, "{\"user\":{\"email\":\"test-many@example.com\"}}");
	t0 = proc_now_ms();
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 15, 30000), 15);
	/* Five a second with a burst of five: fifteen take two seconds at least. */
	ck_assert_msg(proc_now_ms() - t0 >= 1800, "15 emails in %.0f ms at 5/s", proc_now_ms() - t0);
	ck_assert_int_eq(peer_count(smtp, "msg"), 15);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 15);
	ck_assert_int_gt(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'delayed'"
				     " AND result ? 'deferred'", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status IN ('stepFailed', 'failed')",
				     0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT max(attempt) FROM email_logs", 0, NULL), 1);
	proc_stop(pool);
	peer_stop(smtp);
	testdb_free(t);
}
END_TEST

/*
 * One worker claims eight webhook calls of a second each, with a lease of
 * 5 s and the coordinator's sweeper rescuing expired leases: after half the
 * lease the unstarted rest is given back and claimed afresh, so no call is
 * made twice and none is rescued from under the worker.
 */
START_TEST(slow_batch_gives_back_unstarted_steps_before_the_lease_runs_out)
{
	testdb_t *t = testdb_new("giveback");
	const char *hook_args[] = { "--slow", "1.0", NULL };
	peer_t *hook = peer_must_start("http_receiver.py", hook_args);
	const char *env[] = { "WORKER_PROCESSES=1", "WORKER_BATCH=8", "STEP_LEASE_S=5", NULL };
	const char *coordinator_env[] = { "PORT=0", "LOG_FORMAT=json", "STEP_LEASE_S=5", NULL };
	char def[512];
	pid_t pool, coordinator;

	snprintf(def, sizeof(def), "{\"start\":\"w\",\"nodes\":{\"w\":{\"type\":\"webhook\","
		 "\"url\":\"http://127.0.0.1:%d/slow\",\"body\":{\"n\":{\"var\":\"n\"}}}}}", hook->port);
	fixture_workflow(t, "test-slow", def);
	fixture_executions(t, "test-slow", 8, "{\"n\":1}");
	pool = start_pool(env);
	coordinator = proc_start("WF_COORDINATOR", NULL, coordinator_env, "/tmp/wf-test-delivery-coordinator.log");
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 8, 30000), 8);
	ck_assert_int_eq(peer_count(hook, "req"), 8);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM webhook_logs WHERE status = 'sent'", 0, NULL), 8);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM webhook_logs", 0, NULL), 8);
	ck_assert_int_gt(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'delayed'"
				     " AND result ->> 'deferred' LIKE 'given back unstarted%'", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status IN ('stepFailed', 'failed')",
				     0, NULL), 0);
	proc_stop(coordinator);
	proc_stop(pool);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

/*
 * A burst of slow calls is spread over the pool: a round asks for about
 * 100 ms of steps at the pace of the last ones (8 before any were timed),
 * so with the default WORKER_BATCH of 256 the first process to wake does
 * not take all 24 calls of a third of a second and leave the other idle.
 */
START_TEST(slow_steps_are_spread_over_the_pool)
{
	testdb_t *t = testdb_new("spread");
	const char *hook_args[] = { "--slow", "0.3", NULL };
	peer_t *hook = peer_must_start("http_receiver.py", hook_args);
	char def[512];
	pid_t pool;

	snprintf(def, sizeof(def), "{\"start\":\"w\",\"nodes\":{\"w\":{\"type\":\"webhook\","
		 "\"url\":\"http://127.0.0.1:%d/slow\"}}}", hook->port);
	fixture_workflow(t, "test-spread", def);
	fixture_executions(t, "test-spread", 24, "{\"n\":1}");
	pool = start_pool(NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'", 24, 30000), 24);
	ck_assert_int_eq(peer_count(hook, "req"), 24);
	/* The children report their counters as they stop. */
	proc_stop(pool);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE steps_done > 0", 0, NULL), 2);
	ck_assert_int_ge(testdb_long(t, "SELECT min(steps_done) FROM wf_workers", 0, NULL), 4);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("delivery", 120, each_template_arrives_over_smtp, recipient_name_is_one_line_and_only_the_users,
	    templates_see_the_context_the_execution_and_one_unsubscribe_link,
	    smtp_failures_follow_the_retry_policy_and_every_attempt_is_logged,
	    sms_and_signed_webhooks_reach_a_real_receiver, rate_limit_defers_instead_of_failing,
	    slow_batch_gives_back_unstarted_steps_before_the_lease_runs_out, slow_steps_are_spread_over_the_pool)
