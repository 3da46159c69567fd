/*
 * test_views.c - the monitoring views (sql/005_views.sql as corrected by
 * 008_operations_views.sql) against a known scenario: executions in every
 * state, steps claimed by live, silent and dead workers, with valid and
 * expired leases, delays due, overdue and paused, dead letters, channel log
 * rows and a history laid out over the last day. Each view must return
 * exactly the figures the scenario implies.
 *
 * The scenario and the assertions run in one transaction, so now() is the
 * same instant for the rows written and for the views that read them; the
 * transaction is rolled back at the end.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "runner.h"
#include "testdb.h"

/*
 * Executions are named by their last two digits: e01 ... e17.
 *   e01 alpha running   step claimed by w1 (live), lease valid: healthy
 *   e02 alpha running   claimed by w1, lease expired 1 min ago: stuck
 *   e03 alpha running   claimed by w3 (dead): stuck
 *   e04 alpha running   claimed by w2 (silent for 60 s): stuck
 *   e05 alpha delayed   delay and resume step due in 10 min
 *   e06 alpha delayed   delay and resume step 2 min overdue
 *   e07 beta  paused    delay 5 min past, step held: not overdue
 *   e08 beta  delayed   delay due in 2 h: beyond the hour
 *   e09 beta  failed    dead letter "boom"
 *   e10 beta  failed    dead letter already replayed
 *   e11 alpha completed
 *   e12 alpha idle      created, not started (run_at infinity)
 *   e13 beta  retrying  without a step: stuck
 *   e14 alpha running   shared_flow step waiting for e15, which was cancelled: stuck
 *   e15 beta  cancelled child of e14
 *   e16 alpha retrying  step due 30 s ago
 *   e17 alpha retrying  step due in 30 s
 */
static const char *const scenario_sql =
	"INSERT INTO wf_workers (id, host, pid, slot, pool_pid, status, heartbeat_at, stopped_at,"
	"                        steps_done, current_step) OVERRIDING SYSTEM VALUE VALUES"
	" (1, 'test-host-a', 101, 0, 100, 'running', now() - interval '1 second', NULL, 10,"
	"  '00000000-0000-0000-0000-000000000001/a'),"
	" (2, 'test-host-a', 102, 1, 100, 'running', now() - interval '60 seconds', NULL, 5, NULL),"
	" (3, 'test-host-b', 201, 0, 200, 'dead', now() - interval '11 minutes',"
	"  now() - interval '10 minutes', 7, NULL),"
	" (4, 'test-host-b', 202, 1, 200, 'stopped', now() - interval '2 hours',"
	"  now() - interval '2 hours', 3, NULL);"

	"INSERT INTO workflow_executions (id, workflow_id, workflow_name, workflow_version, status,"
	"                                 current_node, parent_execution_id)"
	" SELECT ('00000000-0000-0000-0000-0000000000' || x.n)::uuid, w.id, w.name, 1, x.status,"
	"        x.node, x.parent::uuid"
	" FROM (VALUES ('01', 'test-alpha', 'running', 'a', NULL),"
	"              ('02', 'test-alpha', 'running', 'a', NULL),"
	"              ('03', 'test-alpha', 'running', 'a', NULL),"
	"              ('04', 'test-alpha', 'running', 'a', NULL),"
	"              ('05', 'test-alpha', 'delayed', 'wait', NULL),"
	"              ('06', 'test-alpha', 'delayed', 'wait', NULL),"
	"              ('07', 'test-beta', 'paused', 'wait', NULL),"
	"              ('08', 'test-beta', 'delayed', 'wait', NULL),"
	"              ('09', 'test-beta', 'failed', 'a', NULL),"
	"              ('10', 'test-beta', 'failed', 'a', NULL),"
	"              ('11', 'test-alpha', 'completed', 'a', NULL),"
	"              ('12', 'test-alpha', 'idle', 'a', NULL),"
	"              ('13', 'test-beta', 'retrying', 'a', NULL),"
	"              ('14', 'test-alpha', 'running', 's', NULL),"
	"              ('15', 'test-beta', 'cancelled', 'a', '00000000-0000-0000-0000-000000000014'),"
	"              ('16', 'test-alpha', 'retrying', 'a', NULL),"
	"              ('17', 'test-alpha', 'retrying', 'a', NULL))"
	"      AS x (n, workflow, status, node, parent)"
	" JOIN workflow w ON w.name = x.workflow"
	" ORDER BY x.n;"

	"INSERT INTO wf_steps (execution_id, node_id, kind, status, run_at, claimed_by, claimed_at,"
	"                      lease_expires_at)"
	" SELECT ('00000000-0000-0000-0000-0000000000' || x.n)::uuid, x.node, x.kind, x.status,"
	"        CASE WHEN x.run_at = 'infinity' THEN 'infinity' ELSE now() + x.run_at::interval END,"
	"        x.worker, CASE WHEN x.status = 'claimed' THEN now() - interval '2 minutes' END,"
	"        now() + x.lease::interval"
	" FROM (VALUES ('01', 'a', 'run', 'claimed', '-3 minutes', 1, '5 minutes'),"
	"              ('02', 'a', 'run', 'claimed', '-3 minutes', 1, '-1 minute'),"
	"              ('03', 'a', 'run', 'claimed', '-3 minutes', 3, '5 minutes'),"
	"              ('04', 'a', 'run', 'claimed', '-3 minutes', 2, '5 minutes'),"
	"              ('05', 'wait', 'resume', 'ready', '10 minutes', NULL, NULL),"
	"              ('06', 'wait', 'resume', 'ready', '-2 minutes', NULL, NULL),"
	"              ('07', 'wait', 'resume', 'held', '-5 minutes', NULL, NULL),"
	"              ('08', 'wait', 'resume', 'ready', '2 hours', NULL, NULL),"
	"              ('12', 'a', 'run', 'ready', 'infinity', NULL, NULL),"
	"              ('14', 's', 'run', 'waiting', '-10 minutes', NULL, NULL),"
	"              ('16', 'a', 'run', 'ready', '-30 seconds', NULL, NULL),"
	"              ('17', 'a', 'run', 'ready', '30 seconds', NULL, NULL))"
	"      AS x (n, node, kind, status, run_at, worker, lease);"

	"INSERT INTO workflow_delays (execution_id, node_id, resume_at, nominal_seconds, scaled_seconds)"
	" SELECT ('00000000-0000-0000-0000-0000000000' || x.n)::uuid, 'wait', now() + x.at::interval,"
	"        600, 600"
	" FROM (VALUES ('05', '10 minutes'), ('06', '-2 minutes'), ('07', '-5 minutes'),"
	"              ('08', '2 hours')) AS x (n, at);"

	"INSERT INTO wf_dead_letters (execution_id, node_id, attempt, reason, replayed_at) VALUES"
	" ('00000000-0000-0000-0000-000000000009', 'a', 3, 'boom', NULL),"
	" ('00000000-0000-0000-0000-000000000010', 'a', 1, 'replayed already', now());"

	"INSERT INTO email_logs (execution_id, node_id, recipient, status, mode, created_at) VALUES"
	" ('00000000-0000-0000-0000-000000000011', 'a', 'test-a@example.com', 'sent', 'mock', now()),"
	" ('00000000-0000-0000-0000-000000000011', 'b', 'test-b@example.com', 'sent', 'mock', now()),"
	" ('00000000-0000-0000-0000-000000000009', 'a', 'test-c@example.com', 'failed', 'smtp',"
	"  now() - interval '2 hours');"
	"INSERT INTO sms_logs (execution_id, node_id, recipient, status, mode) VALUES"
	" ('00000000-0000-0000-0000-000000000011', 'c', '+4915100000000', 'sent', 'mock');"
	"INSERT INTO webhook_logs (execution_id, node_id, url, status, mode, duration_ms, created_at) VALUES"
	" ('00000000-0000-0000-0000-000000000011', 'd', 'http://test', 'sent', 'http', 100, now()),"
	" ('00000000-0000-0000-0000-000000000001', 'd', 'http://test', 'sent', 'http', 200, now()),"
	" ('00000000-0000-0000-0000-000000000009', 'd', 'http://test', 'failed', 'http', 300,"
	"  now() - interval '30 minutes');"

	/* The history the inserts wrote is replaced by one laid out in time. */
	"DELETE FROM wf_history;"
	"INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, created_at)"
	" SELECT ('00000000-0000-0000-0000-0000000000' || x.n)::uuid, 'a', x.from_status, x.to_status,"
	"        now() - x.ago::interval"
	" FROM (VALUES ('11', 'running', 'stepCompleted', '5 minutes', 3),"
	"              ('11', 'running', 'stepFailed', '5 minutes', 1),"
	"              ('11', 'stepFailed', 'retrying', '5 minutes', 1),"
	"              ('11', 'stepCompleted', 'completed', '5 minutes', 1),"
	"              ('01', 'running', 'stepCompleted', '59 minutes', 2),"
	"              ('01', 'running', 'stepCompleted', '61 minutes', 4),"
	"              ('01', 'running', 'stepFailed', '25 hours', 5),"
	"              ('09', NULL, 'idle', '5 minutes', 1),"
	"              ('09', 'stepFailed', 'failed', '59 minutes', 1),"
	"              ('09', 'running', 'stepFailed', '59 minutes', 1),"
	"              ('09', 'running', 'stepCompleted', '0 minutes', 1))"
	"      AS x (n, from_status, to_status, ago, times),"
	"      generate_series(1, x.times);";

static testdb_t *scenario(const char *tag)
{
	testdb_t *t = testdb_new(tag);

	fixture_workflow(t, "test-alpha", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	fixture_workflow(t, "test-beta", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	testdb_exec(t, "BEGIN");
	testdb_script(t, "scenario", scenario_sql);
	return t;
}

static void scenario_end(testdb_t *t)
{
	testdb_exec(t, "ROLLBACK");
	testdb_free(t);
}

/* The rows of a query folded into one line: columns joined by '/', rows by ','. */
static const char *rows(testdb_t *t, const char *sql)
{
	static char buf[4096];
	PGresult *res = testdb_query(t, sql, 0, NULL);
	size_t len = 0;

	buf[0] = '\0';
	for (int r = 0; r < PQntuples(res); r++)
		for (int c = 0; c < PQnfields(res); c++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						c > 0 ? "/" : r > 0 ? "," : "", PQgetvalue(res, r, c));
	PQclear(res);
	return buf;
}

START_TEST(queue_depth_by_status_and_due_time)
{
	testdb_t *t = scenario("vqueue");

	ck_assert_str_eq(rows(t, "SELECT status, due, steps FROM wf_queue_depth ORDER BY status, due"),
			 "claimed/in progress/3,claimed/lease expired/1,held/due/1,"
			 "ready/due/2,ready/later/1,ready/next hour/1,ready/next minute/1,ready/not started/1,"
			 "waiting/waiting for child/1");
	/* The oldest due step has waited two minutes; only ready steps wait. */
	ck_assert_str_eq(rows(t, "SELECT status, oldest_wait FROM wf_queue_depth"
				 " WHERE oldest_wait IS NOT NULL"), "ready/00:02:00");
	ck_assert_str_eq(rows(t, "SELECT earliest = 'infinity' FROM wf_queue_depth WHERE due = 'not started'"), "t");
	scenario_end(t);
}
END_TEST

START_TEST(executions_by_workflow_and_status)
{
	testdb_t *t = scenario("vexec");

	ck_assert_str_eq(rows(t, "SELECT workflow_name, status, executions FROM wf_executions_by_workflow"
				 " ORDER BY 1, 2"),
			 "test-alpha/completed/1,test-alpha/delayed/2,test-alpha/idle/1,test-alpha/retrying/2,"
			 "test-alpha/running/5,"
			 "test-beta/cancelled/1,test-beta/delayed/1,test-beta/failed/2,test-beta/paused/1,"
			 "test-beta/retrying/1");
	scenario_end(t);
}
END_TEST

START_TEST(throughput_has_every_minute_of_the_hour)
{
	testdb_t *t = scenario("vthru");

	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_throughput", 0, NULL), 60);
	ck_assert_str_eq(rows(t, "SELECT min(minute) = date_trunc('minute', now()) - interval '59 minutes',"
				 "       max(minute) = date_trunc('minute', now())"
				 " FROM wf_throughput"), "t/t");
	/* steps_completed, steps_failed, retries, executions_completed, executions_failed, executions_started */
	ck_assert_str_eq(rows(t, "SELECT steps_completed, steps_failed, retries, executions_completed,"
				 "       executions_failed, executions_started FROM wf_throughput"
				 " WHERE minute = date_trunc('minute', now()) - interval '5 minutes'"),
			 "3/1/1/1/0/1");
	ck_assert_str_eq(rows(t, "SELECT steps_completed, steps_failed, retries, executions_completed,"
				 "       executions_failed, executions_started FROM wf_throughput"
				 " WHERE minute = date_trunc('minute', now()) - interval '59 minutes'"),
			 "2/1/0/0/1/0");
	ck_assert_str_eq(rows(t, "SELECT steps_completed FROM wf_throughput"
				 " WHERE minute = date_trunc('minute', now())"), "1");
	/* The rows 61 minutes and 25 hours old are outside; the other 57 minutes are zeros. */
	ck_assert_str_eq(rows(t, "SELECT sum(steps_completed), sum(steps_failed) FROM wf_throughput"), "6/2");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_throughput WHERE steps_completed + steps_failed"
				      " + retries + executions_completed + executions_failed + executions_started = 0",
				      0, NULL), 57);
	scenario_end(t);
}
END_TEST

START_TEST(failure_and_retry_rates_over_a_day)
{
	testdb_t *t = scenario("vrates");

	ck_assert_str_eq(rows(t, "SELECT workflow_name, step_attempts, step_failures, retries, executions_failed,"
				 "       failure_rate, retry_rate, executions_completed, execution_failure_rate"
				 " FROM wf_failure_rates ORDER BY 1"),
			 "test-alpha/10/1/1/0/0.1000/0.1000/1/0.0000,"
			 "test-beta/2/1/0/1/0.5000/0.0000/0/1.0000");
	scenario_end(t);
}
END_TEST

START_TEST(stuck_executions_with_their_reasons)
{
	testdb_t *t = scenario("vstuck");

	ck_assert_str_eq(rows(t, "SELECT right(execution_id::text, 2), reason, coalesce(host, '-')"
				 " FROM wf_stuck_executions ORDER BY 1"),
			 "02/lease expired/test-host-a,03/worker dead/test-host-b,04/worker silent/test-host-a,"
			 "13/no step in the queue/-,14/child execution ended/-");
	ck_assert_str_eq(rows(t, "SELECT heartbeat_age FROM wf_stuck_executions WHERE reason = 'worker silent'"),
			 "00:01:00");
	/* With the coordinators' WORKER_DEAD_AFTER_S at two minutes, w2 is not silent yet. */
	testdb_exec(t, "SET LOCAL wf.worker_dead_after_s = '120'");
	ck_assert_str_eq(rows(t, "SELECT string_agg(right(execution_id::text, 2), ',' ORDER BY execution_id)"
				 " FROM wf_stuck_executions"), "02,03,13,14");
	scenario_end(t);
}
END_TEST

START_TEST(delays_due_within_the_hour_and_overdue)
{
	testdb_t *t = scenario("vdelays");

	ck_assert_str_eq(rows(t, "SELECT right(execution_id::text, 2), execution_status, overdue, overdue_by"
				 " FROM wf_delays_due ORDER BY resume_at"),
			 "07/paused/f/00:00:00,06/delayed/t/00:02:00,05/delayed/f/00:00:00");
	scenario_end(t);
}
END_TEST

START_TEST(dead_letters_with_reasons)
{
	testdb_t *t = scenario("vdead");

	ck_assert_str_eq(rows(t, "SELECT right(execution_id::text, 2), workflow_name, node_id, attempt, reason,"
				 "       kind, execution_status FROM wf_dead_letter_list"),
			 "09/test-beta/a/3/boom/run/failed");
	scenario_end(t);
}
END_TEST

START_TEST(channel_statistics)
{
	testdb_t *t = scenario("vchan");

	ck_assert_str_eq(rows(t, "SELECT channel, status, mode, attempts, last_hour,"
				 "       coalesce(avg_duration_ms::text, '-'), coalesce(max_duration_ms::text, '-')"
				 " FROM wf_channel_statistics ORDER BY 1, 2, 3"),
			 "email/failed/smtp/1/0/-/-,email/sent/mock/2/2/-/-,sms/sent/mock/1/1/-/-,"
			 "webhook/failed/http/1/1/300.000/300.000,webhook/sent/http/2/2/150.000/200.000");
	scenario_end(t);
}
END_TEST

START_TEST(fleet_with_heartbeat_age_and_silence)
{
	testdb_t *t = scenario("vfleet");

	ck_assert_str_eq(rows(t, "SELECT host, pool_pid, pid, slot, status, heartbeat_age, steps_done,"
				 "       coalesce(current_step, '-'), silent FROM wf_fleet ORDER BY pid"),
			 "test-host-a/100/101/0/running/00:00:01/10/00000000-0000-0000-0000-000000000001/a/f,"
			 "test-host-a/100/102/1/running/00:01:00/5/-/t,"
			 "test-host-b/200/201/0/dead/00:11:00/7/-/f");
	scenario_end(t);
}
END_TEST

START_TEST(recovery_statistics_in_one_row)
{
	testdb_t *t = scenario("vrecov");

	ck_assert_str_eq(rows(t, "SELECT executions_by_status = '{\"running\": 5, \"delayed\": 3, \"completed\": 1,"
				 "  \"idle\": 1, \"retrying\": 3, \"paused\": 1, \"failed\": 2, \"cancelled\": 1}'::jsonb,"
				 "  stuck, dead_lettered, steps_due,"
				 "  oldest_overdue_delay = now() - interval '2 minutes', workers_running, workers_silent"
				 " FROM wf_recovery_statistics"),
			 "t/5/1/2/t/2/1");
	scenario_end(t);
}
END_TEST

RUNNER_MAIN("views", 60, queue_depth_by_status_and_due_time, executions_by_workflow_and_status,
	    throughput_has_every_minute_of_the_hour, failure_and_retry_rates_over_a_day,
	    stuck_executions_with_their_reasons, delays_due_within_the_hour_and_overdue,
	    dead_letters_with_reasons, channel_statistics, fleet_with_heartbeat_age_and_silence,
	    recovery_statistics_in_one_row)
