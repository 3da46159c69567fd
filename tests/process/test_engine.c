/*
 * test_engine.c - workflows run by the real wf-worker against a real
 * PostgreSQL and a real HTTP receiver: every node type's success and failure
 * paths, a six-node workflow end to end, shared flows, a failing webhook
 * retried with backoff, dead-lettered and replayed, pause/resume/cancel in
 * the middle of a delay, quick nodes run in line (and what a failure or a
 * pause in line leaves), and kill -9 of workers during 2,000 executions
 * with exactly one email log row per execution and email node.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "peers.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define COMPLETED "SELECT count(*) FROM workflow_executions WHERE status = 'completed'"

static pid_t start_pool(int processes, const char *extra)
{
	static char procs[32];
	const char *env[] = { procs, "LOG_FORMAT=json", "WORKER_POLL_MS=1000", "WORKER_DEAD_AFTER_S=5",
			      extra ? extra : "WF_TEST=1", NULL };

	snprintf(procs, sizeof(procs), "WORKER_PROCESSES=%d", processes);
	return proc_start("WF_WORKER", NULL, env, "/tmp/wf-test-engine.log");
}

/* Substitutes every "%PORT%" in text with the receiver's port. */
static char *with_port(const char *text, int port)
{
	static char out[8192];
	char num[16];
	const char *p = text;
	size_t len = 0;

	snprintf(num, sizeof(num), "%d", port);
	while (*p && len < sizeof(out) - 16) {
		if (strncmp(p, "%PORT%", 6) == 0) {
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s", num);
			p += 6;
		} else {
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	return out;
}

static const char *status_of(testdb_t *t, const char *id)
{
	const char *params[1] = { id };

	return testdb_text(t, "SELECT status FROM workflow_executions WHERE id = $1::uuid", 1, params);
}

static long wait_status(testdb_t *t, const char *id, const char *status, int timeout_ms)
{
	const char *params[2] = { id, status };
	double deadline = proc_now_ms() + timeout_ms;

	while (proc_now_ms() < deadline) {
		if (testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE id = $1::uuid AND status = $2",
				2, params) == 1)
			return 1;
		proc_sleep_ms(20);
	}
	return 0;
}

/* The path of statuses an execution went through, e.g. "idle>running>stepCompleted>...". */
static const char *path_of(testdb_t *t, const char *id)
{
	const char *params[1] = { id };

	return testdb_text(t, "SELECT string_agg(to_status, '>' ORDER BY id) FROM workflow_execution_history"
			      " WHERE execution_id = $1::uuid", 1, params);
}

START_TEST(six_node_workflow_end_to_end)
{
	testdb_t *t = testdb_new("six");
	peer_t *hook = peer_must_start("http_receiver.py", NULL);
	pid_t pool = start_pool(2, NULL);
	char id[64];
	const char *pid[1] = { id };
	cJSON *req;

	fixture_workflow(t, "test-six", with_port(
		"{\"start\":\"hello\",\"nodes\":{"
		"\"hello\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"wait\"},"
		"\"wait\":{\"type\":\"delay\",\"seconds\":1,\"next\":\"check\"},"
		"\"check\":{\"type\":\"condition\",\"rule\":{\"!\":{\"var\":\"user.engaged\"}},\"true\":\"text\",\"false\":null},"
		"\"text\":{\"type\":\"action\",\"action\":\"send_sms\",\"message\":\"Hi {{user.name}}, we miss you\",\"next\":\"hook\"},"
		"\"hook\":{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%PORT%/ok\",\"method\":\"POST\","
		"          \"headers\":{\"X-Source\":\"wf-test\"},\"body\":{\"user\":{\"var\":\"user.id\"},\"fixed\":[1,{\"cat\":[\"a\",\"b\"]}]},\"next\":\"done\"},"
		"\"done\":{\"type\":\"log\",\"message\":\"six nodes done\"}}}", hook->port));
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "test-six",
		"{\"user\":{\"id\":42,\"email\":\"test-ada@example.com\",\"name\":\"Ada\",\"phone\":\"+4915112345678\",\"engaged\":false}}"));
	ck_assert_msg(wait_status(t, id, "completed", 20000), "execution is %s", status_of(t, id));

	ck_assert_str_eq(path_of(t, id),
			 "idle>running>stepCompleted>running>delayed>running>stepCompleted>running>stepCompleted>"
			 "running>stepCompleted>running>stepCompleted>running>stepCompleted>completed");
	ck_assert_str_eq(testdb_text(t, "SELECT recipient || ' ' || status || ' ' || mode FROM email_logs WHERE execution_id = $1::uuid",
				     1, pid), "test-ada@example.com sent mock");
	ck_assert_str_eq(testdb_text(t, "SELECT subject FROM email_logs", 0, NULL), "Welcome to your new subscription, Ada");
	ck_assert_str_eq(testdb_text(t, "SELECT body FROM sms_logs", 0, NULL), "Hi Ada, we miss you");
	/* Each message was rendered with its execution's context, which its row refers to (data NULL, sql/018). */
	ck_assert_str_eq(testdb_text(t, "SELECT ((SELECT coalesce(l.data, e.context) FROM email_logs l"
				     "          JOIN workflow_executions e ON e.id = l.execution_id) #>> '{user,phone}')"
				     " || ' ' || ((SELECT coalesce(l.data, e.context) FROM sms_logs l"
				     "             JOIN workflow_executions e ON e.id = l.execution_id) #>> '{user,name}')", 0, NULL),
			 "+4915112345678 Ada");
	ck_assert_str_eq(testdb_text(t, "SELECT count(*) FROM (SELECT execution_id, data FROM email_logs"
				     " UNION ALL SELECT execution_id, data FROM sms_logs) l"
				     " WHERE l.execution_id = $1::uuid AND l.data IS NULL", 1, pid), "2");
	ck_assert_str_eq(testdb_text(t, "SELECT response_status || ' ' || status FROM webhook_logs", 0, NULL), "200 sent");
	/*
	 * The delay lasted its second: it ended no earlier than its resume_at,
	 * which the worker set a second after it ran the node, so at most a
	 * second after the "-> delayed" row (written when that step was
	 * recorded, a moment later: tens of ms on a loaded sanitizer build).
	 */
	ck_assert_int_ge(testdb_long(t, "SELECT (extract(epoch FROM h.created_at - d.resume_at) * 1000)::bigint"
				      " FROM workflow_execution_history h JOIN workflow_delays d USING (execution_id)"
				      " WHERE h.execution_id = $1::uuid AND h.from_status = 'delayed'", 1, pid), 0);
	ck_assert_int_ge(testdb_long(t, "SELECT (extract(epoch FROM d.resume_at - h.created_at) * 1000)::bigint"
				      " FROM workflow_execution_history h JOIN workflow_delays d USING (execution_id)"
				      " WHERE h.execution_id = $1::uuid AND h.to_status = 'delayed'", 1, pid), 500);
	/* The receiver got the body built from the context, with the idempotency key. */
	req = peer_record(hook, "req", 1, 2000);
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(cJSON_GetObjectItem(req, "body")->valuestring, "{\"user\":42,\"fixed\":[1,\"ab\"]}");
	ck_assert_str_eq(peer_header(req, "X-Source"), "wf-test");
	ck_assert_msg(strstr(peer_header(req, "Idempotency-Key"), id) != NULL, "idempotency key lacks the execution");
	cJSON_Delete(req);
	proc_stop(pool);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

START_TEST(condition_follows_fresh_trigger_data_and_delay_until)
{
	testdb_t *t = testdb_new("cond");
	pid_t pool = start_pool(2, NULL);
	char id[64];
	const char *pid[1] = { id };

	fixture_workflow(t, "test-branch",
		"{\"start\":\"until\",\"nodes\":{"
		"\"until\":{\"type\":\"delay\",\"until\":{\"var\":\"due\"},\"next\":\"check\"},"
		"\"check\":{\"type\":\"condition\",\"rule\":{\">\":[{\"var\":\"score\"},10]},\"true\":\"yes\",\"false\":\"no\"},"
		"\"yes\":{\"type\":\"log\",\"message\":\"yes\"},\"no\":{\"type\":\"log\",\"message\":\"no\"}}}");
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "test-branch", "{\"score\":11,\"due\":\"2001-01-01T00:00:00Z\"}"));
	ck_assert(wait_status(t, id, "completed", 10000));
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id, ',' ORDER BY id) FROM workflow_execution_history"
				       " WHERE execution_id = $1::uuid AND to_status = 'stepCompleted'", 1, pid),
			 "until,check,yes");
	/* A due time in the past waits nothing; one that is not a time fails the step for good. */
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "test-branch", "{\"score\":3,\"due\":\"tomorrow\"}"));
	ck_assert(wait_status(t, id, "failed", 10000));
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_dead_letters WHERE execution_id = $1::uuid"
				     " AND reason LIKE '%not an ISO-8601 timestamp%'", 1, pid), 1);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(permanent_failures_fail_at_once)
{
	testdb_t *t = testdb_new("perm");
	peer_t *hook = peer_must_start("http_receiver.py", NULL);
	pid_t pool = start_pool(2, NULL);
	char bad_email[64], bad_sms[64], bad_hook[64], bad_rule[64];

	fixture_workflow(t, "test-email", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\"}}}");
	fixture_workflow(t, "test-sms", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"action\",\"action\":\"send_sms\",\"message\":\"hi\"}}}");
	fixture_workflow(t, "test-hook", with_port("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%PORT%/status/400\"}}}", hook->port));
	/* A rule that doubles a string thirty times hits the evaluator's size limit. */
	fixture_workflow(t, "test-rule", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"condition\",\"rule\":"
					"{\"reduce\":[{\"var\":\"xs\"},{\"cat\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},\"ab\"]},"
					"\"true\":null,\"false\":null}}}");
	snprintf(bad_email, sizeof(bad_email), "%s", fixture_execution(t, "test-email", "{\"user\":{\"email\":\"test-not an address\"}}"));
	snprintf(bad_sms, sizeof(bad_sms), "%s", fixture_execution(t, "test-sms", "{\"user\":{\"phone\":\"0151 123\"}}"));
	snprintf(bad_hook, sizeof(bad_hook), "%s", fixture_execution(t, "test-hook", NULL));
	snprintf(bad_rule, sizeof(bad_rule), "%s", fixture_execution(t, "test-rule",
		 "{\"xs\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30]}"));
	ck_assert(wait_status(t, bad_email, "failed", 10000));
	ck_assert(wait_status(t, bad_sms, "failed", 10000));
	ck_assert(wait_status(t, bad_hook, "failed", 10000));
	ck_assert(wait_status(t, bad_rule, "failed", 10000));
	/* One attempt each: permanent errors are not retried. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'retrying'", 0, NULL), 0);
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM email_logs", 0, NULL), "failed");
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM sms_logs", 0, NULL), "failed");
	ck_assert_str_eq(testdb_text(t, "SELECT response_status || ' ' || status FROM webhook_logs", 0, NULL), "400 failed");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_dead_letters", 0, NULL), 4);
	proc_stop(pool);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

START_TEST(failing_webhook_retried_with_backoff_dead_lettered_then_replayed)
{
	testdb_t *t = testdb_new("retry");
	peer_t *hook = peer_must_start("http_receiver.py", NULL);
	pid_t pool = start_pool(2, NULL);
	char id[64], dl[24], healed[160];
	const char *pid[1] = { id }, *pdl[1] = { dl };
	FILE *f;

	fixture_workflow(t, "test-flaky", with_port(
		"{\"start\":\"call\",\"nodes\":{\"call\":{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%PORT%/flaky\","
		"\"retry\":{\"max_attempts\":3,\"base_ms\":300,\"max_ms\":600},\"next\":\"after\"},"
		"\"after\":{\"type\":\"noop\"}}}", hook->port));
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "test-flaky", NULL));
	ck_assert_msg(wait_status(t, id, "failed", 20000), "execution is %s", status_of(t, id));
	ck_assert_str_eq(path_of(t, id),
			 "idle>running>stepFailed>retrying>running>stepFailed>retrying>running>stepFailed>failed");
	ck_assert_int_eq(peer_count(hook, "req"), 3);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(status || ':' || attempt, ',' ORDER BY id) FROM webhook_logs", 0, NULL),
			 "deferred:1,deferred:2,failed:3");
	snprintf(dl, sizeof(dl), "%s", testdb_text(t, "SELECT id FROM wf_dead_letters WHERE execution_id = $1::uuid", 1, pid));

	/* The receiver recovers; the replayed step succeeds and the execution goes on. */
	snprintf(healed, sizeof(healed), "%s/healed", hook->dir);
	f = fopen(healed, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	PQclear(testdb_query(t, "SELECT wf_dead_letter_replay($1::bigint)", 1, pdl));
	ck_assert_msg(wait_status(t, id, "completed", 10000), "replay left it %s", status_of(t, id));
	ck_assert_int_eq(peer_count(hook, "req"), 4);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM webhook_logs WHERE status = 'sent'", 0, NULL), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_dead_letter_list", 0, NULL), 0);
	proc_stop(pool);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

START_TEST(shared_flows_run_as_children)
{
	testdb_t *t = testdb_new("shared");
	peer_t *hook = peer_must_start("http_receiver.py", NULL);
	pid_t pool = start_pool(2, NULL);
	char ok_id[64], bad_id[64], gone_id[64];
	const char *pok[1] = { ok_id }, *pbad[1] = { bad_id }, *pgone[1] = { gone_id };

	fixture_workflow(t, "test-child", "{\"start\":\"c1\",\"nodes\":{\"c1\":{\"type\":\"noop\",\"next\":\"c2\"},"
					 "\"c2\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"value_highlight\"}}}");
	fixture_workflow(t, "test-bad-child", with_port("{\"start\":\"c\",\"nodes\":{\"c\":{\"type\":\"webhook\","
					 "\"url\":\"http://127.0.0.1:%PORT%/status/404\"}}}", hook->port));
	fixture_workflow(t, "test-parent", "{\"start\":\"p1\",\"nodes\":{\"p1\":{\"type\":\"shared_flow\",\"workflow\":\"test-child\",\"next\":\"p2\"},"
					  "\"p2\":{\"type\":\"log\",\"message\":\"after the child\"}}}");
	fixture_workflow(t, "test-parent-bad", "{\"start\":\"p1\",\"nodes\":{\"p1\":{\"type\":\"shared_flow\",\"workflow\":\"test-bad-child\",\"next\":\"p2\"},"
					      "\"p2\":{\"type\":\"noop\"}}}");
	snprintf(ok_id, sizeof(ok_id), "%s", fixture_execution(t, "test-parent", "{\"user\":{\"email\":\"test-kid@example.com\"}}"));
	/* Valid when saved, but its shared flow has been renamed or deleted since. */
	fixture_workflow(t, "test-parent-gone", "{\"start\":\"p1\",\"nodes\":{\"p1\":{\"type\":\"shared_flow\",\"workflow\":\"test-gone\",\"next\":null}}}");
	snprintf(bad_id, sizeof(bad_id), "%s", fixture_execution(t, "test-parent-bad", NULL));
	snprintf(gone_id, sizeof(gone_id), "%s", fixture_execution(t, "test-parent-gone", NULL));
	ck_assert(wait_status(t, ok_id, "completed", 15000));
	ck_assert(wait_status(t, bad_id, "failed", 15000));
	ck_assert(wait_status(t, gone_id, "failed", 15000));
	/* The step's error says why, not only that its outcome could not be recorded. */
	ck_assert_str_eq(testdb_text(t, "SELECT last_error FROM workflow_executions WHERE id = $1::uuid", 1, pgone),
			 "workflow \"test-gone\" not found");
	ck_assert_str_eq(testdb_text(t, "SELECT error FROM workflow_execution_history WHERE execution_id = $1::uuid"
				       " AND node_id = 'p1' AND to_status = 'stepFailed'", 1, pgone),
			 "workflow \"test-gone\" not found");
	/* The child ran with the parent's context and finished first. */
	ck_assert_str_eq(testdb_text(t, "SELECT c.status || ' ' || c.workflow_name FROM workflow_executions c"
				       " WHERE c.parent_execution_id = $1::uuid", 1, pok), "completed test-child");
	ck_assert_str_eq(testdb_text(t, "SELECT e.recipient FROM email_logs e JOIN workflow_executions c ON c.id = e.execution_id"
				       " WHERE c.parent_execution_id = $1::uuid", 1, pok), "test-kid@example.com");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history h JOIN workflow_executions c"
				     " ON h.result->>'child_execution_id' = c.id::text WHERE h.execution_id = $1::uuid", 1, pok), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE execution_id = $1::uuid"
				     " AND node_id = 'p2' AND to_status = 'stepCompleted'", 1, pok), 1);
	/* A failed child fails its parent. */
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions WHERE parent_execution_id = $1::uuid", 1, pbad),
			 "failed");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE execution_id = $1::uuid"
				     " AND node_id = 'p2'", 1, pbad), 0);
	proc_stop(pool);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

START_TEST(pause_resume_and_cancel_in_the_middle_of_a_delay)
{
	testdb_t *t = testdb_new("pausing");
	pid_t pool = start_pool(2, NULL);
	char a[64], b[64];
	const char *pa[1] = { a }, *pb[1] = { b };

	fixture_workflow(t, "test-later", "{\"start\":\"w\",\"nodes\":{\"w\":{\"type\":\"delay\",\"seconds\":1.5,\"next\":\"mail\"},"
					 "\"mail\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"engagement_nudge\"}}}");
	snprintf(a, sizeof(a), "%s", fixture_execution(t, "test-later", "{\"user\":{\"email\":\"test-a@example.com\"}}"));
	snprintf(b, sizeof(b), "%s", fixture_execution(t, "test-later", "{\"user\":{\"email\":\"test-b@example.com\"}}"));
	ck_assert(wait_status(t, a, "delayed", 5000));
	ck_assert(wait_status(t, b, "delayed", 5000));
	PQclear(testdb_query(t, "SELECT wf_execution_pause($1::uuid)", 1, pa));
	PQclear(testdb_query(t, "SELECT wf_execution_cancel($1::uuid)", 1, pb));
	proc_sleep_ms(2500); /* well past the end of the delay */
	ck_assert_str_eq(status_of(t, a), "paused");
	ck_assert_str_eq(status_of(t, b), "cancelled");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 0);
	PQclear(testdb_query(t, "SELECT wf_execution_resume($1::uuid)", 1, pa));
	ck_assert(wait_status(t, a, "completed", 5000));
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT recipient FROM email_logs", 0, NULL), "test-a@example.com");
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_delays WHERE execution_id = $1::uuid", 1, pb), "cancelled");
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

/*
 * How many transactions recorded the outcomes of the execution's nodes:
 * the distinct writers (xmin) of its history chains (wf_history) that end a
 * node. A round records its outcomes in one (sub)transaction.
 */
static long outcome_writers(testdb_t *t, const char *id)
{
	const char *params[1] = { id };

	return testdb_long(t, "SELECT count(DISTINCT xmin::text) FROM wf_history WHERE execution_id = $1::uuid"
			      " AND to_status && '{stepCompleted,stepFailed,completed,failed}'", 1, params);
}

/*
 * Stores the workflow, starts one execution of it with context (NULL: {})
 * and waits until it reaches status; id gets the execution's id.
 */
static void run_one(testdb_t *t, const char *workflow, const char *definition, const char *context,
		    const char *status, char *id, size_t size)
{
	fixture_workflow(t, workflow, definition);
	snprintf(id, size, "%s", fixture_execution(t, workflow, context));
	ck_assert_msg(wait_status(t, id, status, 10000), "execution is %s, not %s", status_of(t, id), status);
}

START_TEST(quick_nodes_run_in_line_and_commit_together)
{
	testdb_t *t = testdb_new("inline");
	pid_t pool = start_pool(1, NULL);
	char id[64];
	const char *pid[1] = { id };

	run_one(t, "test-quick", "{\"start\":\"a\",\"nodes\":{"
				 "\"a\":{\"type\":\"noop\",\"next\":\"b\"},"
				 "\"b\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"c\"},"
				 "\"c\":{\"type\":\"condition\",\"rule\":{\"!\":{\"var\":\"user.engaged\"}},\"true\":\"d\",\"false\":null},"
				 "\"d\":{\"type\":\"log\",\"message\":\"quick\"}}}",
		"{\"user\":{\"email\":\"test-q@example.com\",\"name\":\"Q\"}}", "completed", id, sizeof(id));
	/* The same history as node by node, written by one transaction: the round that
	 * locked the step ran the quick chain and recorded it without claiming it. */
	ck_assert_str_eq(path_of(t, id), "idle>running>stepCompleted>running>stepCompleted>running>stepCompleted>"
					 "running>stepCompleted>completed");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id || ':' || to_status, ' ' ORDER BY id) FROM workflow_execution_history"
				     " WHERE execution_id = $1::uuid AND to_status IN ('stepCompleted', 'completed')", 1, pid),
			 "a:stepCompleted b:stepCompleted c:stepCompleted d:stepCompleted d:completed");
	ck_assert_int_eq(outcome_writers(t, id), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT xmin::text) FROM wf_history"
				      " WHERE execution_id = $1::uuid AND NOT to_status <@ '{idle}'", 1, pid), 1);
	/* The email node's log row and result, as if it had run on its own. */
	ck_assert_str_eq(testdb_text(t, "SELECT node_id || ' ' || attempt || ' ' || recipient || ' ' || status FROM email_logs", 0, NULL),
			 "b 1 test-q@example.com sent");
	/* Whole, though the round was sent its fields once (in the result). */
	ck_assert_str_eq(testdb_text(t, "SELECT count(*) FROM email_logs l, workflow_execution_history h"
				     " WHERE h.node_id = l.node_id AND h.to_status = 'stepCompleted'"
				     "   AND l.subject = h.result ->> 'subject' AND l.subject LIKE 'Welcome%'"
				     "   AND l.message_id = h.result ->> 'message_id' AND l.message_id LIKE '%.b@%'"
				     "   AND l.template = 'generic_welcome' AND l.mode = 'mock'", 0, NULL), "1");
	ck_assert_str_eq(testdb_text(t, "SELECT count(*) FROM email_logs l, workflow_executions e"
				     " WHERE e.id = l.execution_id AND l.data IS NULL", 0, NULL), "1");
	ck_assert_str_eq(testdb_text(t, "SELECT result ->> 'to' FROM workflow_execution_history"
				     " WHERE node_id = 'b' AND to_status = 'stepCompleted'", 0, NULL), "test-q@example.com");
	ck_assert_str_eq(testdb_text(t, "SELECT current_node FROM workflow_executions", 0, NULL), "d");
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(worker_batch_bounds_the_nodes_of_a_round)
{
	testdb_t *t = testdb_new("inlinebatch");
	pid_t pool = start_pool(1, "WORKER_BATCH=4");
	char definition[1024], id[64];
	size_t len = (size_t)snprintf(definition, sizeof(definition), "{\"start\":\"n1\",\"nodes\":{");

	for (int i = 1; i < 10; i++)
		len += (size_t)snprintf(definition + len, sizeof(definition) - len,
					"\"n%d\":{\"type\":\"noop\",\"next\":\"n%d\"},", i, i + 1);
	snprintf(definition + len, sizeof(definition) - len, "\"n10\":{\"type\":\"noop\"}}}");
	run_one(t, "test-ten", definition, NULL, "completed", id, sizeof(id));
	/* Ten quick nodes, at most four a round: three rounds. */
	ck_assert_int_eq(outcome_writers(t, id), 3);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(slow_nodes_in_line_wait_for_the_next_round)
{
	testdb_t *t = testdb_new("inlineslow");
	pid_t pool = start_pool(1, NULL);
	char id[64];

	run_one(t, "test-slow-six", "{\"start\":\"n1\",\"nodes\":{"
				    "\"n1\":{\"type\":\"noop\",\"sleep_ms\":60,\"next\":\"n2\"},"
				    "\"n2\":{\"type\":\"noop\",\"sleep_ms\":60,\"next\":\"n3\"},"
				    "\"n3\":{\"type\":\"noop\",\"sleep_ms\":60,\"next\":\"n4\"},"
				    "\"n4\":{\"type\":\"noop\",\"sleep_ms\":60,\"next\":\"n5\"},"
				    "\"n5\":{\"type\":\"noop\",\"sleep_ms\":60,\"next\":\"n6\"},"
				    "\"n6\":{\"type\":\"noop\",\"sleep_ms\":60}}}",
		NULL, "completed", id, sizeof(id));
	/* A round runs nodes in line for about 100 ms: two of these at most, not all six at once. */
	ck_assert_int_ge(outcome_writers(t, id), 3);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(a_node_that_fails_in_line_runs_again_as_its_own_step)
{
	testdb_t *t = testdb_new("inlinefail");
	pid_t pool = start_pool(1, NULL);
	char id[64];

	run_one(t, "test-then-bad", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"b\"},"
				    "\"b\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\"}}}",
		"{\"user\":{\"email\":\"test-not an address\"}}", "failed", id, sizeof(id));
	/* The failure in line left nothing behind; the step of its own recorded it once. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id || ' ' || status, ', ') FROM email_logs", 0, NULL), "b failed");
	ck_assert_str_eq(path_of(t, id), "idle>running>stepCompleted>running>stepFailed>failed");
	ck_assert_int_eq(outcome_writers(t, id), 2);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(a_pause_while_nodes_run_in_line_keeps_the_first_only)
{
	testdb_t *t = testdb_new("inlinepause");
	pid_t pool = start_pool(1, NULL);
	char id[64];
	const char *pid[1] = { id };

	run_one(t, "test-slow-middle", "{\"start\":\"a\",\"nodes\":{"
				       "\"a\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"b\"},"
				       "\"b\":{\"type\":\"noop\",\"sleep_ms\":1500,\"next\":\"c\"},"
				       "\"c\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"engagement_nudge\"}}}",
		"{\"user\":{\"email\":\"test-p@example.com\"}}", "running", id, sizeof(id));
	/* a, a mock send, ran and was recorded in the round that locked it;
	 * b sleeps (it stands for real work), so it is claimed: running. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id, ' ' ORDER BY id) FROM email_logs", 0, NULL), "a");
	proc_sleep_ms(300); /* b sleeps; c will run in line after it */
	PQclear(testdb_query(t, "SELECT wf_execution_pause($1::uuid)", 1, pid));
	/* Past the end of b's sleep its round is recorded: the step moves on to c, held. */
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_steps WHERE node_id = 'c' AND status = 'held'", 1,
					   20000), 1);
	ck_assert_str_eq(status_of(t, id), "paused");
	/* b, the step's own node, is recorded as a paused execution records it (the
	 * step moves on to c, held); c, run in line while the pause came, is not. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id, ' ' ORDER BY id) FROM email_logs", 0, NULL), "a");
	ck_assert_str_eq(testdb_text(t, "SELECT from_status || '>' || to_status FROM workflow_execution_history"
				     " WHERE node_id = 'b' ORDER BY id DESC LIMIT 1", 0, NULL), "paused>paused");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE node_id = 'c'", 0, NULL), 0);
	ck_assert_str_eq(testdb_text(t, "SELECT node_id || ' ' || status FROM wf_steps", 0, NULL), "c held");
	PQclear(testdb_query(t, "SELECT wf_execution_resume($1::uuid)", 1, pid));
	ck_assert(wait_status(t, id, "completed", 10000));
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id, ' ' ORDER BY id) FROM email_logs", 0, NULL), "a c");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE node_id = 'c'"
				      " AND to_status = 'stepCompleted'", 0, NULL), 1);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(kill_9_during_2000_executions_sends_each_email_once)
{
	testdb_t *t = testdb_new("chaos");
	pid_t pool = start_pool(4, NULL);
	double deadline;
	int kills = 0;

	fixture_workflow(t, "test-three", "{\"start\":\"one\",\"nodes\":{"
					 "\"one\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"two\"},"
					 "\"two\":{\"type\":\"noop\",\"next\":\"three\"},"
					 "\"three\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"value_highlight\"}}}");
	fixture_executions(t, "test-three", 2000, "{\"user\":{\"email\":\"test-many@example.com\",\"name\":\"Many\"}}");
	deadline = proc_now_ms() + 120000;
	while (testdb_long(t, COMPLETED, 0, NULL) < 2000 && proc_now_ms() < deadline) {
		pid_t kids[16];
		int n = proc_children(pool, kids, 16);

		if (n > 0 && kills < 12) {
			proc_signal(kids[random() % n], SIGKILL);
			kills++;
		}
		proc_sleep_ms(150);
	}
	ck_assert_int_eq(testdb_long(t, COMPLETED, 0, NULL), 2000);
	ck_assert_int_ge(kills, 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 4000);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM (SELECT 1 FROM email_logs GROUP BY execution_id, node_id"
				     " HAVING count(*) <> 1) x", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM (SELECT 1 FROM workflow_execution_history"
				     " WHERE to_status = 'stepCompleted' GROUP BY execution_id, node_id HAVING count(*) <> 1) x",
				     0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("engine", 240, six_node_workflow_end_to_end, condition_follows_fresh_trigger_data_and_delay_until,
	    permanent_failures_fail_at_once, failing_webhook_retried_with_backoff_dead_lettered_then_replayed,
	    shared_flows_run_as_children, pause_resume_and_cancel_in_the_middle_of_a_delay,
	    quick_nodes_run_in_line_and_commit_together, worker_batch_bounds_the_nodes_of_a_round,
	    slow_nodes_in_line_wait_for_the_next_round,
	    a_node_that_fails_in_line_runs_again_as_its_own_step,
	    a_pause_while_nodes_run_in_line_keeps_the_first_only, kill_9_during_2000_executions_sends_each_email_once)
