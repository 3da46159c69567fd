/*
 * api_ops.c - the operator's endpoints:
 *   POST /workflow/process/batch         process trigger rows now
 *   POST /workflow/process/delayed       wake the workers for due steps now
 *   POST /workflow/recovery/recover      rescue steps of dead workers now
 *   GET  /workflow/recovery/statistics
 *   GET  /workflow/emails/statistics
 *   GET  /workflow/emails/:executionId
 *   GET  /metrics                        (Prometheus text format)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "dbpool.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "rescue.h"
#include "triggers.h"

#define TRIGGER_BATCH 500

static void batch_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	int started = 0;

	if (triggers_process(db, TRIGGER_BATCH, &started) < 0) {
		api_error(reply, db_connected(db) ? 500 : 503, "trigger processing failed");
		return;
	}
	reply->body = json_object();
	json_add_number(reply->body, "started", started);
}

static void batch(http_request_t *req, void *data)
{
	api_run(req, data, batch_work, NULL, NULL);
}

static void delayed_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	/* Due steps are the workers' to run; wake them all now. */
	if (db_command(db, "NOTIFY wf_steps", 0, NULL) < 0) {
		api_error(reply, 503, "the database is not reachable");
		return;
	}
	/*
	 * Overdue as the view wf_delays_due (and so /recovery/statistics) counts
	 * it: a paused execution's delay waits for the resume, so is never overdue.
	 */
	api_query_json(reply, db, 200, NULL,
		       "SELECT jsonb_build_object("
		       " 'due_steps', (SELECT count(*) FROM wf_steps WHERE status = 'ready' AND run_at <= now()),"
		       " 'overdue_delays', (SELECT count(*) FROM wf_delays_due WHERE overdue),"
		       " 'next_due', (SELECT min(run_at) FROM wf_steps WHERE status = 'ready' AND run_at > now() AND run_at < 'infinity'),"
		       " 'workers_woken', true)",
		       0, NULL);
}

static void delayed(http_request_t *req, void *data)
{
	api_run(req, data, delayed_work, NULL, NULL);
}

static void recover_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	char rescued[16];
	const char *counted[1] = { rescued };
	PGresult *res = rescue_steps(db, call->cfg->worker_dead_after_s);

	if (!db_ok(res)) {
		api_db_error(reply, db, res);
		PQclear(res);
		return;
	}
	snprintf(rescued, sizeof(rescued), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	/*
	 * A statement of its own: one statement sees the database as it was when
	 * it began, so statistics read beside the rescue would not show it.
	 */
	api_query_json(reply, db, 200, NULL,
		       "SELECT jsonb_build_object('rescued', $1::integer, 'statistics', to_jsonb(s))"
		       " FROM wf_recovery_statistics s",
		       1, counted);
}

static void recover(http_request_t *req, void *data)
{
	api_run(req, data, recover_work, NULL, NULL);
}

static void statistics_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	api_query_json(reply, db, 200, NULL, "SELECT to_jsonb(s) FROM wf_recovery_statistics s", 0, NULL);
}

static void statistics(http_request_t *req, void *data)
{
	api_run(req, data, statistics_work, NULL, NULL);
}

static void email_stats_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	api_query_json(reply, db, 200, NULL,
		       "SELECT jsonb_build_object("
		       " 'total', (SELECT count(*) FROM email_logs),"
		       " 'last_hour', (SELECT count(*) FROM email_logs WHERE created_at > now() - interval '1 hour'),"
		       " 'last_24_hours', (SELECT count(*) FROM email_logs WHERE created_at > now() - interval '24 hours'),"
		       " 'by_status', (SELECT coalesce(jsonb_object_agg(status, n), '{}')"
		       "               FROM (SELECT status, count(*) AS n FROM email_logs GROUP BY 1) x),"
		       " 'by_mode', (SELECT coalesce(jsonb_object_agg(mode, n), '{}')"
		       "             FROM (SELECT mode, count(*) AS n FROM email_logs GROUP BY 1) x),"
		       " 'by_template', (SELECT coalesce(jsonb_object_agg(t, n), '{}')"
		       "                 FROM (SELECT coalesce(template, '') AS t, count(*) AS n FROM email_logs GROUP BY 1) x))",
		       0, NULL);
}

static void email_stats(http_request_t *req, void *data)
{
	api_run(req, data, email_stats_work, NULL, NULL);
}

static void emails_of_work(api_call_t *call, db_t *db, api_reply_t *reply)
{
	const char *params[1] = { http_request_param(call->req, "executionId") };

	api_query_json(reply, db, 200, "execution not found",
		       "SELECT jsonb_build_object('execution_id', e.id, 'emails',"
		       "  coalesce((SELECT jsonb_agg(to_jsonb(l) - 'execution_id'"
		       "                          || jsonb_build_object('data', coalesce(l.data, e.context)) ORDER BY l.id)"
		       "            FROM email_logs l WHERE l.execution_id = e.id), '[]'))"
		       " FROM workflow_executions e WHERE e.id = $1::uuid",
		       1, params);
}

static void emails_of(http_request_t *req, void *data)
{
	if (!api_uuid_valid(http_request_param(req, "executionId"))) {
		http_respond_error(req, 404, "execution not found");
		return;
	}
	api_run(req, data, emails_of_work, NULL, NULL);
}

/* /metrics: database figures on the threadpool, HTTP figures on the loop. */

static const char *const sql_metrics =
	"SELECT jsonb_build_object("
	" 'executions', (SELECT coalesce(jsonb_object_agg(status, n), '{}')"
	"                FROM (SELECT status, count(*) AS n FROM workflow_executions GROUP BY 1) x),"
	" 'queue', (SELECT coalesce(jsonb_object_agg(status, n), '{}')"
	"           FROM (SELECT status, count(*) AS n FROM wf_steps GROUP BY 1) x),"
	" 'due', (SELECT count(*) FROM wf_steps WHERE status = 'ready' AND run_at <= now()),"
	" 'lag', (SELECT coalesce(extract(epoch FROM now() - min(run_at)), 0) FROM wf_steps"
	"         WHERE status = 'ready' AND run_at <= now()),"
	" 'steps', (SELECT jsonb_build_object('claimed', coalesce(sum(steps_done), 0),"
	"           'completed', coalesce(sum(steps_completed), 0), 'failed', coalesce(sum(steps_failed), 0),"
	"           'retried', coalesce(sum(steps_retried), 0)) FROM wf_workers),"
	" 'workers', (SELECT count(*) FROM wf_workers WHERE status = 'running'),"
	" 'dead_letters', (SELECT count(*) FROM wf_dead_letters WHERE replayed_at IS NULL),"
	" 'messages', (SELECT coalesce(jsonb_agg(jsonb_build_object('channel', c, 'status', s, 'n', n)), '[]')"
	"              FROM (SELECT 'email' AS c, status AS s, count(*) AS n FROM email_logs GROUP BY 2"
	"                    UNION ALL SELECT 'sms', status, count(*) FROM sms_logs GROUP BY 2"
	"                    UNION ALL SELECT 'webhook', status, count(*) FROM webhook_logs GROUP BY 2) x))";

typedef struct {
	cJSON *figures;
	bool failed;
} metrics_job_t;

static void metrics_work(http_request_t *req, void *data)
{
	metrics_job_t *job = data;
	db_t *db = dbpool_get();
	PGresult *res = db ? db_query(db, sql_metrics, 0, NULL) : NULL;

	if (db_ok(res))
		job->figures = cJSON_Parse(PQgetvalue(res, 0, 0));
	job->failed = job->figures == NULL;
	PQclear(res);
}

static char *gauge_map(char *buf, size_t *len, const char *name, const char *help, const char *type,
		       const char *label, const cJSON *map)
{
	const cJSON *item;

	buf = metrics_append(buf, len, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	cJSON_ArrayForEach(item, map)
		buf = metrics_append(buf, len, "%s{%s=\"%s\"} %.0f\n", name, label, item->string, item->valuedouble);
	return buf;
}

static char *database_text(char *buf, size_t *len, const cJSON *f)
{
	const cJSON *steps = cJSON_GetObjectItem(f, "steps");
	const cJSON *m;
	double v;

	buf = gauge_map(buf, len, "wf_executions", "Executions by status.", "gauge", "status",
			cJSON_GetObjectItem(f, "executions"));
	buf = gauge_map(buf, len, "wf_queue_steps", "Steps in the queue by state.", "gauge", "status",
			cJSON_GetObjectItem(f, "queue"));
	json_number(f, "due", &v);
	buf = metrics_append(buf, len, "# HELP wf_queue_due_steps Ready steps whose time has come.\n"
				       "# TYPE wf_queue_due_steps gauge\nwf_queue_due_steps %.0f\n", v);
	json_number(f, "lag", &v);
	buf = metrics_append(buf, len, "# HELP wf_queue_lag_seconds How late the oldest due step is (delays and retries included).\n"
				       "# TYPE wf_queue_lag_seconds gauge\nwf_queue_lag_seconds %.3f\n", v);
	buf = gauge_map(buf, len, "wf_steps_total", "Steps claimed, completed, failed and retried by all workers.",
			"counter", "event", steps);
	json_number(f, "workers", &v);
	buf = metrics_append(buf, len, "# HELP wf_workers_running Worker children registered as running.\n"
				       "# TYPE wf_workers_running gauge\nwf_workers_running %.0f\n", v);
	json_number(f, "dead_letters", &v);
	buf = metrics_append(buf, len, "# HELP wf_dead_letters Dead-lettered steps not replayed.\n"
				       "# TYPE wf_dead_letters gauge\nwf_dead_letters %.0f\n", v);
	buf = metrics_append(buf, len, "# HELP wf_messages_total Email, SMS and webhook attempts by status.\n"
				       "# TYPE wf_messages_total counter\n");
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(f, "messages")) {
		double n = 0;

		json_number(m, "n", &n);
		buf = metrics_append(buf, len, "wf_messages_total{channel=\"%s\",status=\"%s\"} %.0f\n",
				     json_string(m, "channel"), json_string(m, "status"), n);
	}
	return buf;
}

static void metrics_done(http_request_t *req, void *data)
{
	metrics_job_t *job = data;
	size_t len = 0;
	char *text = NULL;

	if (!job->failed)
		text = database_text(text, &len, job->figures);
	else
		text = metrics_append(text, &len, "# the database did not answer; its figures are missing\n");
	text = metrics_http_text(text, &len);
	text = metrics_append(text, &len, "# HELP wf_up The database answered the metrics query.\n"
					  "# TYPE wf_up gauge\nwf_up %d\n", job->failed ? 0 : 1);
	http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	cJSON_Delete(job->figures);
	free(job);
}

static void metrics(http_request_t *req, void *data)
{
	metrics_job_t *job = calloc(1, sizeof(*job));

	if (job == NULL || http_request_defer(req, metrics_work, metrics_done, job) < 0) {
		free(job);
		http_respond_error(req, 500, "internal error");
	}
}

const http_route_t api_ops_routes[] = {
	{ "POST", "/workflow/process/batch", batch, NULL, 0 },
	{ "POST", "/workflow/process/delayed", delayed, NULL, 0 },
	{ "POST", "/workflow/recovery/recover", recover, NULL, 0 },
	{ "GET", "/workflow/recovery/statistics", statistics, NULL, 0 },
	{ "GET", "/workflow/emails/statistics", email_stats, NULL, 0 },
	{ "GET", "/workflow/emails/:executionId", emails_of, NULL, 0 },
	{ "GET", "/metrics", metrics, NULL, 0 },
};
const size_t api_ops_routes_count = sizeof(api_ops_routes) / sizeof(api_ops_routes[0]);
