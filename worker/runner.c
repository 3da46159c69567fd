/*
 * runner.c - claim, execute, commit.
 *
 * Steps are claimed in batches (one round trip), executed one by one, and
 * their outcomes committed together in one transaction, so the cost of a
 * commit is shared by the batch. A step whose executor talks to the outside
 * world is committed on its own right after it ran, which keeps the window
 * in which a crash could repeat an external send as short as it can be.
 *
 * Every outcome goes through wf_step_finish(), which checks the claim: a
 * step rescued from this worker (after a lost connection, say) is not ours
 * any more, and its outcome is dropped without writing anything.
 */
#include "runner.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "definition.h"
#include "executor.h"
#include "json.h"
#include "jsonlogic.h"
#include "log.h"
#include "wftime.h"

#define DEF_CACHE_MAX 256

typedef struct {
	int64_t workflow_id;
	int version;
	def_t *def; /* NULL: this version could not be loaded or is invalid */
} cached_def_t;

struct runner {
	const wf_config_t *cfg;
	db_t *db;
	int64_t worker_id;
	slot_shared_t *slot;
	const struct services *services;
	unsigned int seed;
	cached_def_t cache[DEF_CACHE_MAX];
	int ncache;
};

/* A claimed step; strings point into the claim's PGresult. */
typedef struct {
	const char *step_id;
	const char *claims;
	const char *execution_id;
	const char *node_id;
	const char *kind;
	const char *status;
	const char *context;
	const char *trigger_table;	/* NULL when not started by a trigger row */
	const char *trigger_id;
	int attempt;
	int64_t workflow_id;
	int version;
	const executor_t *exec;
	const def_node_t *node;
	const char *verb;	/* the wf_step_finish outcome */
	exec_outcome_t out;
} step_t;

const db_statement_t runner_statements[] = {
	{ "runner_claim",
	  "SELECT step_id, claims, execution_id, node_id, kind, attempt, workflow_id,"
	  "       workflow_version, status, context, trigger_table, trigger_id"
	  "  FROM wf_claim_steps($1::bigint, $2::int, $3::int)" },
	{ "runner_trigger_context", "SELECT wf_trigger_context($1, $2::bigint)" },
	{ "runner_finish",
	  "SELECT wf_step_finish($1::bigint, $2::int, $3, $4, to_timestamp($5::float8), $6::jsonb,"
	  "                      $7, $8::jsonb, $9::jsonb, $10::jsonb)" },
	{ "runner_next_due",
	  "SELECT extract(epoch FROM min(run_at)) FROM wf_steps"
	  " WHERE status = 'ready' AND run_at < 'infinity'" },
	{ "runner_definition",
	  "SELECT definition FROM workflow_versions WHERE workflow_id = $1::bigint AND version = $2::int" },
	{ "runner_requeue_own", "SELECT wf_worker_requeue_own($1::bigint)" },
};
const int runner_statements_count = sizeof(runner_statements) / sizeof(runner_statements[0]);

runner_t *runner_new(const wf_config_t *cfg, db_t *db, int64_t worker_id, slot_shared_t *slot,
		     const struct services *services)
{
	runner_t *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->db = db;
	r->worker_id = worker_id;
	r->slot = slot;
	r->services = services;
	r->seed = (unsigned int)getpid() ^ (unsigned int)wftime_monotonic_ms();
	return r;
}

void runner_free(runner_t *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->ncache; i++)
		def_free(r->cache[i].def);
	free(r);
}

/* The definition a step runs under, from the cache or the database. */
static const def_t *definition(runner_t *r, int64_t workflow_id, int version, char *err,
			       size_t errlen)
{
	char id_text[24], version_text[16];
	const char *params[2] = { id_text, version_text };
	def_problems_t problems = { 0 };
	cJSON *json;
	def_t *def = NULL;
	PGresult *res;

	for (int i = 0; i < r->ncache; i++)
		if (r->cache[i].workflow_id == workflow_id && r->cache[i].version == version)
			return r->cache[i].def ? r->cache[i].def
					       : (snprintf(err, errlen, "definition is invalid"), NULL);
	snprintf(id_text, sizeof(id_text), "%" PRId64, workflow_id);
	snprintf(version_text, sizeof(version_text), "%d", version);
	res = db_run(r->db, "runner_definition", 2, params);
	if (!db_ok(res) || PQntuples(res) != 1) {
		snprintf(err, errlen, "version %d of workflow %" PRId64 " is not in workflow_versions",
			 version, workflow_id);
		PQclear(res);
		return NULL;
	}
	json = cJSON_Parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (def_parse(json, NULL, &def, &problems) < 0)
		snprintf(err, errlen, "definition is invalid: %s",
			 problems.count ? problems.items[0].message : "not JSON");
	cJSON_Delete(json);
	def_problems_free(&problems);
	/* Versions never change, so a full cache can simply start over. */
	if (r->ncache == DEF_CACHE_MAX) {
		for (int i = 0; i < r->ncache; i++)
			def_free(r->cache[i].def);
		r->ncache = 0;
	}
	r->cache[r->ncache++] = (cached_def_t){ workflow_id, version, def };
	return def;
}

/* The trigger row's context as it is now; NULL when the row is gone. Caller frees. */
static cJSON *fresh_trigger_context(runner_t *r, const step_t *s)
{
	const char *params[2] = { s->trigger_table, s->trigger_id };
	PGresult *res = db_run(r->db, "runner_trigger_context", 2, params);
	cJSON *fresh = db_ok(res) && !PQgetisnull(res, 0, 0) ? cJSON_Parse(PQgetvalue(res, 0, 0)) : NULL;

	PQclear(res);
	return fresh;
}

/* Lays the trigger row's current data over the context's snapshot of it. */
static void refresh_context(runner_t *r, const step_t *s, cJSON *context)
{
	cJSON *fresh = s->trigger_table ? fresh_trigger_context(r, s) : NULL;
	cJSON *item;

	cJSON_ArrayForEach(item, fresh) {
		cJSON_DeleteItemFromObjectCaseSensitive(context, item->string);
		json_add(context, item->string, cJSON_Duplicate(item, 1));
	}
	cJSON_Delete(fresh);
}

/*
 * Does the definition's exit condition hold on fresh data of the execution's
 * trigger row (an unsubscribe, say)? Checked before every step.
 */
static bool exit_condition_met(runner_t *r, const step_t *s, const def_t *def, double now)
{
	jl_options_t opts = { .now = now };
	bool met = false;
	char err[256];
	cJSON *fresh;

	if (def->exit_rule == NULL || s->trigger_table == NULL)
		return false;
	fresh = fresh_trigger_context(r, s);
	/* The trigger row is gone: there is nothing left to run the execution for. */
	if (fresh == NULL)
		return true;
	if (jl_test(def->exit_rule, fresh, &opts, &met, err, sizeof(err)) < 0)
		log_warn("exit condition failed, ignored: %s", err);
	cJSON_Delete(fresh);
	return met;
}

/* Backoff before attempt+1: full jitter over an exponentially growing cap. */
static double backoff_seconds(runner_t *r, const def_retry_t *policy, int attempt)
{
	double cap = policy->base_ms * pow(2.0, attempt - 1);

	if (cap > policy->max_ms)
		cap = policy->max_ms;
	return cap * ((double)rand_r(&r->seed) / RAND_MAX) / 1000.0;
}

/*
 * A transient failure is logged as 'deferred' (it will be tried again); when
 * the policy gives up, the attempt's log rows say 'failed' instead.
 */
static void mark_logs_failed(cJSON *logs)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, logs) {
		const cJSON *row = entry->child;
		cJSON *status = cJSON_GetObjectItemCaseSensitive(row, "status");

		if (cJSON_IsString(status) && strcmp(status->valuestring, "deferred") == 0)
			cJSON_SetValuestring(status, "failed");
	}
}

/* Decides what wf_step_finish is to record for an executor's outcome. */
static void choose_verb(runner_t *r, step_t *s, const def_node_t *node, double now)
{
	switch (s->out.status) {
	case EXEC_NEXT:
		s->verb = "next";
		return;
	case EXEC_DELAY:
		s->verb = "delay";
		return;
	case EXEC_WAIT:
		s->verb = "wait";
		return;
	case EXEC_ERROR:
		if (!s->out.permanent && node && s->attempt < node->retry.max_attempts) {
			s->verb = "retry";
			s->out.run_at = now + backoff_seconds(r, &node->retry, s->attempt);
		} else {
			s->verb = "fail";
			mark_logs_failed(s->out.logs);
		}
		return;
	}
}

/*
 * One line per executed step, at debug level (at info it would be the
 * busiest line of a busy system); a failed attempt is a warning, with the
 * same fields. The execution and node come from the log context.
 */
static void log_step(const step_t *s, double started_ms)
{
	char attempt[16], duration[32];
	log_level_t level = s->out.status == EXEC_ERROR ? LOG_WARN : LOG_DEBUG;
	log_field_t fields[] = {
		{ "outcome", s->verb ? s->verb : "", false },
		{ "attempt", attempt, true },
		{ "duration_ms", duration, true },
	};

	if (!log_enabled(level))
		return;
	snprintf(attempt, sizeof(attempt), "%d", s->attempt);
	snprintf(duration, sizeof(duration), "%.3f", wftime_monotonic_ms() - started_ms);
	if (level == LOG_WARN)
		log_write(level, fields, 3, "step failed: %s", s->out.error);
	else
		log_write(level, fields, 3, "step finished");
}

static void execute_step(runner_t *r, step_t *s)
{
	const def_t *def;
	const def_node_t *node = NULL;
	exec_ctx_t ctx = { 0 };
	cJSON *context = NULL;
	double started_ms;
	char err[256];
	char label[SLOT_STEP_MAX];

	exec_outcome_init(&s->out);
	if (strcmp(s->status, "completed") == 0 || strcmp(s->status, "failed") == 0 ||
	    strcmp(s->status, "cancelled") == 0) {
		s->verb = "drop";
		return;
	}
	if (strcmp(s->status, "paused") == 0) {
		s->verb = "hold";
		return;
	}
	started_ms = wftime_monotonic_ms();
	snprintf(label, sizeof(label), "%s/%s", s->execution_id, s->node_id);
	slot_set_step(r->slot, label);
	log_context_execution(s->execution_id, s->node_id);
	ctx.now = wftime_now();
	def = definition(r, s->workflow_id, s->version, err, sizeof(err));
	if (def == NULL) {
		exec_fail(&s->out, true, "%s", err);
	} else if ((node = def_node(def, s->node_id)) == NULL) {
		exec_fail(&s->out, true, "node \"%s\" is not in the definition", s->node_id);
	} else if (exit_condition_met(r, s, def, ctx.now)) {
		s->verb = "exit";
		snprintf(s->out.error, sizeof(s->out.error), "exit condition met before \"%s\"", s->node_id);
		log_info("%s", s->out.error);
		goto out;
	} else if ((context = cJSON_Parse(s->context)) == NULL) {
		exec_fail(&s->out, true, "execution context is not JSON");
	} else {
		if (node->exec->fresh_context)
			refresh_context(r, s, context);
		ctx.cfg = r->cfg;
		ctx.def = def;
		ctx.node = node;
		ctx.execution_id = s->execution_id;
		ctx.kind = s->kind;
		ctx.attempt = s->attempt;
		ctx.context = context;
		ctx.services = r->services;
		s->exec = node->exec;
		s->node = node;
		node->exec->execute(&ctx, &s->out);
	}
	choose_verb(r, s, node, ctx.now);
out:
	log_step(s, started_ms);
	cJSON_Delete(context);
	log_context_execution(NULL, NULL);
}

static char *print_or_null(const cJSON *item)
{
	return item ? json_print(item) : NULL;
}

/*
 * Records one step's outcome; returns 0, 1 when the statement failed
 * without losing the connection (the transaction is then aborted), -1 when
 * the connection is gone.
 */
static int finish_step(runner_t *r, step_t *s, const char *verb_override, const char *error)
{
	char run_at[32];
	char *result = print_or_null(s->out.result);
	char *logs = print_or_null(s->out.logs);
	char *delay = print_or_null(s->out.delay);
	char *child = print_or_null(s->out.child);
	const char *verb = verb_override ? verb_override : s->verb;
	const char *params[10];
	char msg[256];
	PGresult *res;
	int rc = 0;

	snprintf(run_at, sizeof(run_at), "%.6f", s->out.run_at);
	params[0] = s->step_id;
	params[1] = s->claims;
	params[2] = verb;
	params[3] = verb_override ? NULL : s->out.next_node;
	params[4] = s->out.run_at > 0 ? run_at : NULL;
	params[5] = verb_override ? NULL : result;
	params[6] = error ? error : (s->out.error[0] ? s->out.error : NULL);
	params[7] = verb_override ? NULL : logs;
	params[8] = verb_override ? NULL : delay;
	params[9] = verb_override ? NULL : child;
	log_context_execution(s->execution_id, s->node_id);
	res = db_run(r->db, "runner_finish", 10, params);
	if (!db_ok(res)) {
		rc = db_transient(r->db, res) && !db_connected(r->db) ? -1 : 1;
		log_warn("could not record step %s of %s: %s", s->node_id, s->execution_id,
			 db_error_message(res, msg, sizeof(msg)));
	} else if (strcmp(PQgetvalue(res, 0, 0), "stale") == 0) {
		log_info("step %s of %s was rescued from this worker; its outcome is dropped",
			 s->node_id, s->execution_id);
	}
	log_context_execution(NULL, NULL);
	PQclear(res);
	free(result);
	free(logs);
	free(delay);
	free(child);
	return rc;
}

/* Commits steps[0..n) in one transaction; on a statement error, one by one. */
static int commit_steps(runner_t *r, step_t *steps, int n)
{
	bool batch = n > 1;
	int rc = 0;

	if (batch && db_begin(r->db) < 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++)
		rc = finish_step(r, &steps[i], NULL, NULL);
	if (batch && rc == 0 && db_commit(r->db) < 0)
		rc = db_connected(r->db) ? 1 : -1;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (batch)
		db_rollback(r->db);
	/* Something in the batch was refused: find it by committing one at a time. */
	for (int i = 0; i < n; i++) {
		int one = batch ? finish_step(r, &steps[i], NULL, NULL) : 1;

		if (one < 0)
			return -1;
		if (one > 0 && finish_step(r, &steps[i], "fail",
					   "internal error: the step's outcome could not be recorded") < 0)
			return -1;
	}
	return 0;
}

static bool is_external(runner_t *r, const step_t *s)
{
	return s->exec && s->exec->external && s->node && s->exec->external(s->node->json, r->cfg);
}

int runner_round(runner_t *r, int *claimed)
{
	char worker[24], batch[16], lease[16];
	const char *params[3] = { worker, batch, lease };
	step_t *steps = NULL;
	PGresult *res;
	int n, start = 0, rc = 0;

	*claimed = 0;
	snprintf(worker, sizeof(worker), "%" PRId64, r->worker_id);
	snprintf(batch, sizeof(batch), "%d", r->cfg->worker_batch);
	snprintf(lease, sizeof(lease), "%d", r->cfg->step_lease_s);
	res = db_run(r->db, "runner_claim", 3, params);
	if (!db_ok(res)) {
		char msg[256];

		log_warn("could not claim steps: %s", db_error_message(res, msg, sizeof(msg)));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	*claimed = n;
	if (n == 0) {
		PQclear(res);
		return 0;
	}
	steps = calloc((size_t)n, sizeof(*steps));
	if (steps == NULL)
		abort();
	for (int i = 0; i < n; i++) {
		step_t *s = &steps[i];

		s->step_id = PQgetvalue(res, i, 0);
		s->claims = PQgetvalue(res, i, 1);
		s->execution_id = PQgetvalue(res, i, 2);
		s->node_id = PQgetvalue(res, i, 3);
		s->kind = PQgetvalue(res, i, 4);
		s->attempt = atoi(PQgetvalue(res, i, 5));
		s->workflow_id = PQgetisnull(res, i, 6) ? 0 : strtoll(PQgetvalue(res, i, 6), NULL, 10);
		s->version = atoi(PQgetvalue(res, i, 7));
		s->status = PQgetvalue(res, i, 8);
		s->context = PQgetvalue(res, i, 9);
		s->trigger_table = PQgetisnull(res, i, 10) ? NULL : PQgetvalue(res, i, 10);
		s->trigger_id = PQgetisnull(res, i, 11) ? NULL : PQgetvalue(res, i, 11);
	}
	for (int i = 0; i < n && rc == 0; i++) {
		slot_beat(r->slot);
		execute_step(r, &steps[i]);
		if (i == n - 1 || is_external(r, &steps[i])) {
			rc = commit_steps(r, &steps[start], i + 1 - start);
			start = i + 1;
		}
	}
	for (int i = 0; i < n; i++)
		exec_outcome_clear(&steps[i].out);
	atomic_fetch_add(&r->slot->steps_done, (uint64_t)n);
	slot_set_step(r->slot, NULL);
	slot_beat(r->slot);
	free(steps);
	PQclear(res);
	return rc;
}

double runner_next_due(runner_t *r)
{
	PGresult *res = db_run(r->db, "runner_next_due", 0, NULL);
	double due;

	if (!db_ok(res)) {
		PQclear(res);
		return -1;
	}
	due = PQgetisnull(res, 0, 0) ? 0 : strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	return due;
}

int runner_requeue_own(runner_t *r)
{
	char worker[24];
	const char *params[1] = { worker };
	PGresult *res;
	int rc;

	snprintf(worker, sizeof(worker), "%" PRId64, r->worker_id);
	res = db_run(r->db, "runner_requeue_own", 1, params);
	rc = db_ok(res) ? 0 : -1;
	PQclear(res);
	return rc;
}
