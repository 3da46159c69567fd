/*
 * test_logs.c - the daemons' structured logs. A coordinator and a worker
 * pool run with LOG_FORMAT=json and LOG_LEVEL=debug while executions run
 * (one of them a webhook to a closed port, so warnings come) and API
 * requests are made; then every line each wrote must be one JSON object,
 * and the lines must carry their fields: the worker host on every worker
 * line, the slot on a child's, execution id, node, outcome and duration on
 * every step line, the request id, method, path, status and duration on
 * every access line. Also: a warning raised by the database server becomes
 * a JSON line, not libpq's raw text, and so does a configuration error.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons.h"
#include "fixtures.h"
#include "httpc.h"
#include "log.h"
#include "peers.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define HOST "test-logs-host"

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool is_number(const cJSON *obj, const char *key)
{
	return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* One API call; request_id (may be NULL) goes as X-Request-Id. Returns the status. */
static long api(int port, const char *method, const char *path, const char *request_id,
		const char *body, char *out, size_t outlen)
{
	char url[256], header[128];
	const char *headers[] = { header, NULL };
	httpc_reply_t r;
	long status;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	snprintf(header, sizeof(header), "X-Request-Id: %s", request_id ? request_id : "");
	httpc_call(method, url, body, body ? strlen(body) : 0, request_id ? headers : NULL, &r);
	if (out)
		snprintf(out, outlen, "%s", r.body);
	status = r.status;
	httpc_free(&r);
	return status;
}

/* The fields every line has, whoever wrote it. */
static void assert_common(const cJSON *line, const char *component)
{
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	const char *level = str(line, "level");
	bool known = false;

	ck_assert_msg(str(line, "ts") != NULL && strlen(str(line, "ts")) == 24, "line without ts");
	for (int i = 0; i < 4; i++)
		known |= level && strcmp(level, levels[i]) == 0;
	ck_assert_msg(known, "line with level %s", level ? level : "(none)");
	ck_assert_str_eq(str(line, "component"), component);
	ck_assert(is_number(line, "pid"));
	ck_assert_ptr_nonnull(str(line, "msg"));
}

START_TEST(every_line_is_json_with_its_fields)
{
	testdb_t *t = testdb_new("logs");
	char coord_log[128], pool_log[128], hook_def[512], body[256], reply[1024], path[128];
	const char *coord_env[] = { "PORT=0", "LOG_FORMAT=json", "LOG_LEVEL=debug", NULL };
	const char *pool_env[] = { "WORKER_PROCESSES=2", "LOG_FORMAT=json", "LOG_LEVEL=debug",
				   "WORKER_HOST=" HOST, "WORKER_POLL_MS=500", NULL };
	pid_t coord, pool;
	int port, requests = 0, step_lines = 0, failed_lines = 0, access_lines = 0;
	bool saw_ids[3] = { false, false, false };
	char ok_id[64];
	cJSON *lines, *line;

	fixture_workflow(t, "test-logs-ok",
			 "{\"start\":\"hello\",\"nodes\":{"
			 "\"hello\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"done\"},"
			 "\"done\":{\"type\":\"noop\"}}}");
	snprintf(hook_def, sizeof(hook_def),
		 "{\"start\":\"call\",\"nodes\":{\"call\":{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%d/x\","
		 "\"retry\":{\"max_attempts\":2,\"base_ms\":50,\"max_ms\":100}}}}", peer_closed_port());
	fixture_workflow(t, "test-logs-hook", hook_def);

	daemon_log_path(coord_log, sizeof(coord_log), "logs-coordinator");
	daemon_log_path(pool_log, sizeof(pool_log), "logs-pool");
	coord = proc_start("WF_COORDINATOR", NULL, coord_env, coord_log);
	pool = proc_start("WF_WORKER", NULL, pool_env, pool_log);
	port = daemon_api_port(coord_log, 20000);

	/* Two executions through the API, one from psql; one bad request. */
	snprintf(body, sizeof(body), "{\"workflow\":\"test-logs-ok\",\"context\":{\"user\":"
				     "{\"email\":\"test-logs@example.com\",\"name\":\"Ada\"}}}");
	ck_assert_int_eq(api(port, "POST", "/workflow/execute", "test-req-execute", body, reply,
				    sizeof(reply)), 201);
	requests++;
	{
		cJSON *r = cJSON_Parse(reply);

		ck_assert_ptr_nonnull(str(r, "execution_id"));
		snprintf(ok_id, sizeof(ok_id), "%s", str(r, "execution_id"));
		cJSON_Delete(r);
	}
	ck_assert_int_eq(api(port, "POST", "/workflow/execute", NULL,
				    "{\"workflow\":\"test-logs-hook\"}", NULL, 0), 201);
	requests++;
	fixture_execution(t, "test-logs-ok", "{\"user\":{\"email\":\"test-logs-2@example.com\",\"name\":\"Bo\"}}");
	ck_assert_int_eq(api(port, "POST", "/workflow/execute", NULL, "{\"workflow\":", NULL, 0), 400);
	requests++;

	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions"
					      " WHERE status IN ('completed', 'failed')", 3, 20000), 3);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'failed'",
				     0, NULL), 1);
	ck_assert_int_eq(api(port, "GET", "/health", "test-req-health", NULL, NULL, 0), 200);
	requests++;
	snprintf(path, sizeof(path), "/workflow/executions/%s", ok_id);
	ck_assert_int_eq(api(port, "GET", path, "test-req-detail", NULL, NULL, 0), 200);
	requests++;
	proc_stop(pool);
	proc_stop(coord);

	/* The coordinator: an access line per request, with its fields. */
	lines = daemon_log_lines(coord_log);
	ck_assert_int_gt(cJSON_GetArraySize(lines), requests);
	cJSON_ArrayForEach(line, lines) {
		const char *id;

		assert_common(line, "coordinator");
		if (strcmp(str(line, "msg"), "request") != 0)
			continue;
		access_lines++;
		id = str(line, "request_id");
		ck_assert_msg(id != NULL && *id, "access line without request id");
		ck_assert_ptr_nonnull(str(line, "method"));
		ck_assert_ptr_nonnull(str(line, "path"));
		ck_assert(is_number(line, "status"));
		ck_assert(is_number(line, "duration_ms"));
		if (strcmp(id, "test-req-execute") == 0) {
			ck_assert_str_eq(str(line, "path"), "/workflow/execute");
			ck_assert_int_eq(cJSON_GetObjectItem(line, "status")->valueint, 201);
			saw_ids[0] = true;
		} else if (strcmp(id, "test-req-health") == 0) {
			ck_assert_str_eq(str(line, "method"), "GET");
			saw_ids[1] = true;
		} else if (strcmp(id, "test-req-detail") == 0) {
			ck_assert_str_eq(str(line, "path"), path);
			saw_ids[2] = true;
		}
	}
	ck_assert_int_eq(access_lines, requests);
	ck_assert(saw_ids[0] && saw_ids[1] && saw_ids[2]);
	cJSON_Delete(lines);

	/* The pool: its host on every line, a slot on every child's line, the step fields. */
	lines = daemon_log_lines(pool_log);
	cJSON_ArrayForEach(line, lines) {
		const char *msg = str(line, "msg");

		assert_common(line, "worker");
		ck_assert_str_eq(str(line, "worker_host"), HOST);
		if (cJSON_GetObjectItem(line, "pid")->valueint != pool)
			ck_assert_msg(is_number(line, "worker_slot"), "child line without its slot: %s", msg);
		if (strcmp(msg, "step finished") == 0 || strncmp(msg, "step failed", 11) == 0) {
			ck_assert(is_number(line, "worker_slot"));
			ck_assert_ptr_nonnull(str(line, "execution_id"));
			ck_assert_ptr_nonnull(str(line, "node"));
			ck_assert_ptr_nonnull(str(line, "outcome"));
			ck_assert(is_number(line, "duration_ms"));
			ck_assert(is_number(line, "attempt"));
		}
		if (strcmp(msg, "step finished") == 0) {
			ck_assert_str_eq(str(line, "level"), "debug");
			ck_assert_str_eq(str(line, "outcome"), "next");
			step_lines++;
		} else if (strncmp(msg, "step failed", 11) == 0) {
			ck_assert_str_eq(str(line, "level"), "warn");
			ck_assert_str_eq(str(line, "node"), "call");
			ck_assert_str_eq(str(line, "outcome"), failed_lines == 0 ? "retry" : "fail");
			ck_assert_int_eq(cJSON_GetObjectItem(line, "attempt")->valueint, failed_lines + 1);
			failed_lines++;
		}
	}
	/* Two executions of two steps each; the webhook's two attempts. */
	ck_assert_int_eq(step_lines, 4);
	ck_assert_int_eq(failed_lines, 2);
	cJSON_Delete(lines);
	unlink(coord_log);
	unlink(pool_log);
	testdb_free(t);
}
END_TEST

START_TEST(a_database_warning_is_a_json_line)
{
	testdb_t *t = testdb_new("logwarn");
	char path[128];
	int saved = dup(STDERR_FILENO);
	int fd;
	cJSON *lines, *line;

	daemon_log_path(path, sizeof(path), "logs-notice");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	log_setup("test", LOG_INFO, LOG_FORMAT_JSON);
	/* A fresh connection: the notice handler is set when it connects. */
	ck_assert_int_eq(db_connect(t->db), 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	testdb_exec(t, "DO $$BEGIN RAISE WARNING 'test-warning from plpgsql'; END$$");
	dup2(saved, STDERR_FILENO);
	close(saved);

	lines = daemon_log_lines(path);
	ck_assert_int_eq(cJSON_GetArraySize(lines), 1);
	line = cJSON_GetArrayItem(lines, 0);
	ck_assert_str_eq(str(line, "level"), "warn");
	ck_assert_str_eq(str(line, "sqlstate"), "01000");
	ck_assert_ptr_nonnull(strstr(str(line, "msg"), "test-warning from plpgsql"));
	cJSON_Delete(lines);
	unlink(path);
	testdb_free(t);
}
END_TEST

/* A setting that does not parse is one JSON error line too, and exit code 2. */
START_TEST(a_configuration_error_is_a_json_line)
{
	static const char *const bins[] = { "WF_WORKER", "WF_COORDINATOR" };
	const char *env[] = { "LOG_FORMAT=json", "WORKER_BATCH=lots", NULL };
	char path[128];

	for (int i = 0; i < 2; i++) {
		cJSON *lines;
		int status;

		daemon_log_path(path, sizeof(path), "logs-config");
		status = proc_wait(proc_start(bins[i], NULL, env, path), 10000);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s: status %d", bins[i], status);
		lines = daemon_log_lines(path);
		ck_assert_int_eq(cJSON_GetArraySize(lines), 1);
		ck_assert_str_eq(str(cJSON_GetArrayItem(lines, 0), "level"), "error");
		ck_assert_ptr_nonnull(strstr(str(cJSON_GetArrayItem(lines, 0), "msg"), "WORKER_BATCH"));
		cJSON_Delete(lines);
		unlink(path);
	}
}
END_TEST

RUNNER_MAIN("logs", 90, every_line_is_json_with_its_fields, a_database_warning_is_a_json_line,
	    a_configuration_error_is_a_json_line)
