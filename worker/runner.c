/*
 * runner.c - claim, execute, commit.
 *
 * A round is one transaction: it records the outcomes of the previous
 * batch and locks the due steps (wf_worker_round_open), runs the quick ones
 * among them while they are locked, records those and claims the rest
 * (wf_worker_settle_ran, sql/035: the record in arrays, round_record.c),
 * and commits. So a batch costs one commit,
 * and a quick step (a condition, a no-op, a mock send) is never claimed at
 * all. The claimed steps are executed one by one after the commit. A step
 * whose executor talks to the outside world is committed on its own right
 * after it ran (wf_step_finish), which keeps the window in which a crash
 * could repeat an external send as short as it can be.
 *
 * Every outcome is checked against the step's claim: a step rescued from
 * this worker (after a lost connection, say) is not ours any more, and its
 * outcome is dropped without writing anything.
 */
#include "runner.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "defcache.h"
#include "definition.h"
#include "executor.h"
#include "json.h"
#include "jsonlogic.h"
#include "log.h"
#include "round_record.h"
#include "wftime.h"

/* A claimed step; strings point into the claim's PGresult. */
typedef struct step step_t;

/* The batch in hand: claimed, executed, its outcomes not committed yet. */
typedef struct {
	PGresult *res;		/* the round's steps; step_t strings point into it */
	PGresult *claimed;	/* the steps it claimed after locking them, likewise */
	step_t *steps;
	int n;
} batch_t;

struct runner {
	const wf_config_t *cfg;
	db_t *db;
	int64_t worker_id;
	slot_shared_t *slot;
	const struct services *services;
	unsigned int seed;
	defcache_t *defs;
	batch_t pending;
	double step_ms;		/* recent time a claimed step takes here, in-line nodes included (moving average) */
	double nodes_per_step;	/* recent nodes run per claimed step, its own and those in line (moving average) */
	bool last_round_full;	/* claimed all it asked for: more may be waiting */
	double round_started_ms; /* when the batch in hand was claimed (monotonic) */
	/* The last round's transaction failed: the next one runs nothing
	 * unclaimed, so a step that breaks it is recorded the usual way. */
	bool claim_all;
};

/*
 * A round claims no more steps than this worker runs in about this long,
 * at the pace of its recent steps, and runs no more than WORKER_BATCH
 * nodes (the steps' own and those run in line after them), which bounds
 * the outcomes it holds.
 * Fast steps (conditions, mock sends) come in full batches, which is what
 * makes a round trip cheap per step; slow ones (SMTP, webhooks) in small
 * ones, so that a burst of them is spread over every idle worker instead
 * of waiting behind one, and a claimed step starts within about this.
 */
#define ROUND_BUDGET_MS 100.0
/* Before any step has been timed: a first round of 8 at most. */
#define FIRST_STEP_MS (ROUND_BUDGET_MS / 8)
/*
 * At most this many nodes run in line after a step's own (see run_in_line):
 * enough for a long run of quick nodes, few enough that one execution
 * cannot hold its worker's round for long.
 */
#define MAX_IN_LINE 16

/* A node run in line after a step's own, in the same round. */
typedef struct {
	const def_node_t *node;
	exec_outcome_t out;
} hop_t;

struct step {
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
	bool locked;		/* locked by the round, not claimed: still 'ready' */
	const def_node_t *node;
	const char *verb;	/* the wf_step_finish outcome */
	bool committed;		/* recorded already (external steps are, at once) */
	exec_outcome_t out;
	hop_t *hops;		/* the nodes run in line after this one; the step ends at the last one's next */
	int nhops;
};

const db_statement_t runner_statements[] = {
	{ "runner_round",
	  "SELECT step_id, claims, execution_id, node_id, kind, attempt, workflow_id,"
	  "       workflow_version, status, context, trigger_table, trigger_id"
	  "  FROM wf_worker_round($1::bigint, $2::int, $3::int, $4::jsonb)" },
	{ "runner_round_open",
	  "SELECT step_id, claims, execution_id, node_id, kind, attempt, workflow_id,"
	  "       workflow_version, status, context, trigger_table, trigger_id, locked"
	  "  FROM wf_worker_round_open($1::bigint, $2::int, $3::int, $4::jsonb)" },
	{ "runner_settle",
	  "SELECT step_id, claims, execution_id, node_id, kind, attempt, workflow_id,"
	  "       workflow_version, status, context, trigger_table, trigger_id"
	  "  FROM wf_worker_settle($1::bigint, $2::int, $3::jsonb, $4::bigint[])" },
	{ "runner_settle_ran",
	  "SELECT step_id, claims, execution_id, node_id, kind, attempt, workflow_id,"
	  "       workflow_version, status, context, trigger_table, trigger_id"
	  "  FROM wf_worker_settle_ran($1::bigint, $2::int, $3::bigint[], $4::text[], $5::int[], $6::int[],"
	  "                            $7::text[], $8::text[], $9::jsonb[], $10::jsonb[], $11::text[], $12::text[],"
	  "                            $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[])" },
	{ "runner_trigger_context", "SELECT wf_trigger_context($1, $2::bigint)" },
	{ "runner_finish",
	  "SELECT wf_step_finish($1::bigint, $2::int, $3, $4, to_timestamp($5::float8), $6::jsonb,"
	  "                      $7, $8::jsonb, $9::jsonb, $10::jsonb)" },
	{ "runner_next_due",
	  "SELECT extract(epoch FROM min(run_at)) FROM wf_steps"
	  " WHERE status = 'ready' AND run_at < 'infinity'" },
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
	r->defs = defcache_new(db);
	r->step_ms = FIRST_STEP_MS;
	r->nodes_per_step = 1;
	return r;
}

static int round_limit(const runner_t *r)
{
	double fit = ROUND_BUDGET_MS / r->step_ms;
	double room = r->cfg->worker_batch / r->nodes_per_step;

	if (room < fit)
		fit = room;
	return fit < 1 ? 1 : (int)fit;
}

/* Folds a round's pace into the averages: half the weight to the newest. */
static void note_pace(runner_t *r, double ms, int steps, int nodes)
{
	double per_step = ms / steps;

	/* A clock of coarse resolution can read 0 ms for a quick round. */
	if (per_step < 0.001)
		per_step = 0.001;
	r->step_ms = (r->step_ms + per_step) / 2;
	r->nodes_per_step = (r->nodes_per_step + (double)nodes / steps) / 2;
}

bool runner_last_round_full(const runner_t *r)
{
	return r->last_round_full;
}

/* Lets go of what running the step made: its outcome and its nodes in line. */
static void step_clear(step_t *s)
{
	exec_outcome_clear(&s->out);
	for (int h = 0; h < s->nhops; h++)
		exec_outcome_clear(&s->hops[h].out);
	free(s->hops);
	s->hops = NULL;
	s->nhops = 0;
}

static void batch_clear(batch_t *b)
{
	for (int i = 0; i < b->n; i++)
		step_clear(&b->steps[i]);
	free(b->steps);
	PQclear(b->res);
	PQclear(b->claimed);
	memset(b, 0, sizeof(*b));
}

void runner_free(runner_t *r)
{
	if (r == NULL)
		return;
	batch_clear(&r->pending);
	defcache_free(r->defs);
	free(r);
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
		if (s->out.deferred) {
			s->verb = "defer";
		} else if (!s->out.permanent && node && s->attempt < node->retry.max_attempts) {
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
static void log_step(const char *verb, int attempt, const exec_outcome_t *out, double started_ms)
{
	char attempt_text[16], duration[32];
	/* A step deferred by a rate limit did not fail: it waits for a token. */
	log_level_t level = out->status == EXEC_ERROR && !out->deferred ? LOG_WARN : LOG_DEBUG;
	log_field_t fields[] = {
		{ "outcome", verb ? verb : "", false },
		{ "attempt", attempt_text, true },
		{ "duration_ms", duration, true },
	};

	if (!log_enabled(level))
		return;
	snprintf(attempt_text, sizeof(attempt_text), "%d", attempt);
	snprintf(duration, sizeof(duration), "%.3f", wftime_monotonic_ms() - started_ms);
	if (level == LOG_WARN)
		log_write(level, fields, 3, "step failed: %s", out->error);
	else
		log_write(level, fields, 3, "step finished");
}

static bool node_is_external(const runner_t *r, const def_node_t *node)
{
	return node->exec->external && node->exec->external(node->json, r->cfg);
}

/* May the node run unclaimed, inside the round's transaction (sql/017)? */
static bool node_runs_locked(const runner_t *r, const def_node_t *node)
{
	return node->exec->runs_in_line && !node_is_external(r, node) &&
	       !(node->exec->slow && node->exec->slow(node->json));
}

/* Did the step run a node that talks to the outside world? */
static bool is_external(const runner_t *r, const step_t *s)
{
	return s->node != NULL && node_is_external(r, s->node);
}

/*
 * Runs the nodes after the step's own in line, in this round, while the
 * next one can be (see sql/014_hops.sql): it neither waits nor starts a
 * child, stays inside the database here (a mock send, a condition), and
 * succeeds. A hop that fails or would wait is forgotten, which costs
 * nothing for such a node: it runs again as a step of its own. The
 * execution's exit condition is checked before each, as before any step.
 */
static void run_in_line(runner_t *r, step_t *s, const def_t *def, exec_ctx_t *ctx, cJSON *context,
			int max_hops)
{
	const char *next = s->out.next_node;

	if (max_hops > MAX_IN_LINE)
		max_hops = MAX_IN_LINE;
	while (next != NULL && s->nhops < max_hops) {
		const def_node_t *node = def_node(def, next);
		double started_ms = wftime_monotonic_ms();
		hop_t *hop;

		/* Past the round's time, the chain waits for the next round (its
		 * step stays claimed): slow nodes in line neither hold up the
		 * batch's other steps nor outlast the step's lease. */
		if (started_ms - r->round_started_ms > ROUND_BUDGET_MS)
			return;
		if (node == NULL || !node->exec->runs_in_line || node_is_external(r, node))
			return;
		/* Unclaimed, the chain holds its lock only for nodes that end at once. */
		if (s->locked && !node_runs_locked(r, node))
			return;
		ctx->now = wftime_now();
		if (exit_condition_met(r, s, def, ctx->now))
			return;
		if (s->hops == NULL && (s->hops = calloc(MAX_IN_LINE, sizeof(*s->hops))) == NULL)
			return;
		if (node->exec->fresh_context)
			refresh_context(r, s, context);
		hop = &s->hops[s->nhops];
		exec_outcome_init(&hop->out);
		ctx->node = node;
		ctx->kind = "run";
		ctx->attempt = 1;
		log_context_execution(s->execution_id, node->id);
		node->exec->execute(ctx, &hop->out);
		if (hop->out.status != EXEC_NEXT) {
			exec_outcome_clear(&hop->out);
			return;
		}
		log_step("next", 1, &hop->out, started_ms);
		hop->node = node;
		s->nhops++;
		next = hop->out.next_node;
	}
}

/* Runs a claimed step, and up to max_hops nodes in line after it. */
static void execute_step(runner_t *r, step_t *s, int max_hops)
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
	def = defcache_get(r->defs, s->workflow_id, s->version, err, sizeof(err));
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
		s->node = node;
		node->exec->execute(&ctx, &s->out);
	}
	choose_verb(r, s, node, ctx.now);
out:
	log_step(s->verb, s->attempt, &s->out, started_ms);
	if (s->node != NULL && strcmp(s->verb, "next") == 0 && !is_external(r, s))
		run_in_line(r, s, def, &ctx, context, max_hops);
	cJSON_Delete(context);
	log_context_execution(NULL, NULL);
}

static char *print_or_null(const cJSON *item)
{
	return item ? json_print(item) : NULL;
}

/*
 * Whether a refused statement raised one of the engine's own errors (see
 * sql/004_executions.sql): an unknown workflow, one not active or invalid,
 * unusable input. Their messages are written for people, and say why.
 */
static bool engine_error(const PGresult *res)
{
	const char *state = db_sqlstate(res);

	return strcmp(state, "WF404") == 0 || strcmp(state, "WF409") == 0 || strcmp(state, "WF422") == 0;
}

/*
 * Records one step's outcome; returns 0, 1 when the statement failed
 * without losing the connection (the transaction is then aborted), -1 when
 * the connection is gone. After 1, why holds the database's reason when it
 * is an engine error, else "".
 */
static int finish_step(runner_t *r, step_t *s, const char *verb_override, const char *error, char *why,
		       size_t why_size)
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
	params[6] = error ? error : (s->out.error[0] && !s->out.deferred ? s->out.error : NULL);
	params[7] = verb_override ? NULL : logs;
	params[8] = verb_override ? NULL : delay;
	params[9] = verb_override ? NULL : child;
	log_context_execution(s->execution_id, s->node_id);
	res = db_run(r->db, "runner_finish", 10, params);
	if (!db_ok(res)) {
		rc = db_transient(r->db, res) && !db_connected(r->db) ? -1 : 1;
		db_error_message(res, msg, sizeof(msg));
		log_warn("could not record step %s of %s: %s", s->node_id, s->execution_id, msg);
		if (why_size > 0)
			snprintf(why, why_size, "%s", engine_error(res) ? msg : "");
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

/*
 * Counts what the steps came to, for /metrics (the parent reports it). A
 * step without a verb never ran (its batch stopped before it) and came to
 * nothing yet.
 */
static void count_outcomes(runner_t *r, const step_t *steps, int n)
{
	for (int i = 0; i < n; i++) {
		const char *v = steps[i].verb;

		if (v == NULL)
			continue;
		if (strcmp(v, "fail") == 0)
			atomic_fetch_add(&r->slot->steps_failed, 1);
		else if (strcmp(v, "retry") == 0)
			atomic_fetch_add(&r->slot->steps_retried, 1);
		else if (strcmp(v, "next") == 0 || strcmp(v, "delay") == 0 || strcmp(v, "wait") == 0)
			atomic_fetch_add(&r->slot->steps_completed, 1 + (uint64_t)steps[i].nhops);
	}
}

/*
 * An outcome as wf_worker_round takes it (see sql/004_executions.sql). Its
 * trees are referenced, not copied: the batch keeps them until it is
 * recorded (one by one, should the round fail).
 */
static cJSON *outcome_json(const step_t *s)
{
	cJSON *o = json_object();
	const exec_outcome_t *out = &s->out;

	json_add_string(o, "step", s->step_id);
	json_add_string(o, "claims", s->claims);
	json_add_string(o, "outcome", s->verb);
	if (out->next_node)
		json_add_string(o, "next", out->next_node);
	if (out->run_at > 0)
		json_add_number(o, "run_at", out->run_at);
	if (out->result)
		cJSON_AddItemReferenceToObject(o, "result", out->result);
	if (out->error[0] && !out->deferred)
		json_add_string(o, "error", out->error);
	if (out->logs)
		cJSON_AddItemReferenceToObject(o, "logs", out->logs);
	if (out->delay)
		cJSON_AddItemReferenceToObject(o, "delay", out->delay);
	if (out->child)
		cJSON_AddItemReferenceToObject(o, "child", out->child);
	if (s->nhops > 0) {
		cJSON *then = cJSON_CreateArray();

		for (int h = 0; h < s->nhops; h++) {
			const hop_t *hop = &s->hops[h];
			cJSON *item = json_object();

			json_add_string(item, "node", hop->node->id);
			if (hop->out.next_node)
				json_add_string(item, "next", hop->out.next_node);
			if (hop->out.result)
				cJSON_AddItemReferenceToObject(item, "result", hop->out.result);
			if (hop->out.logs)
				cJSON_AddItemReferenceToObject(item, "logs", hop->out.logs);
			cJSON_AddItemToArray(then, item);
		}
		json_add(o, "then", then);
	}
	return o;
}

/*
 * The uncommitted outcomes of the batch in hand, or NULL when there are
 * none. A step that never ran has no outcome to record. Caller frees.
 */
static char *pending_json(runner_t *r)
{
	cJSON *list = cJSON_CreateArray();
	char *text = NULL;

	for (int i = 0; i < r->pending.n; i++)
		if (!r->pending.steps[i].committed && r->pending.steps[i].verb != NULL)
			cJSON_AddItemToArray(list, outcome_json(&r->pending.steps[i]));
	if (cJSON_GetArraySize(list) > 0)
		text = json_print(list);
	cJSON_Delete(list);
	return text;
}

/*
 * Records one step's outcome in its own transaction; an outcome the
 * database refuses fails the step instead. 0, or -1 when the connection is gone.
 */
static int commit_step(runner_t *r, step_t *s)
{
	char why[256] = "";
	int rc = finish_step(r, s, NULL, NULL, why, sizeof(why));

	/*
	 * A shared flow whose workflow is gone (renamed or deleted since its
	 * parent was validated) is refused here, when its child is created: the
	 * step's error then says so rather than only that recording failed.
	 */
	if (rc > 0)
		rc = finish_step(r, s, "fail", why[0] ? why : "internal error: the step's outcome could not be recorded",
				 NULL, 0);
	if (rc < 0)
		return -1;
	s->committed = true;
	return 0;
}

/*
 * The round failed on a statement (not the connection): record the batch's
 * outcomes one by one, so one bad outcome fails only its own step.
 */
static int commit_one_by_one(runner_t *r)
{
	for (int i = 0; i < r->pending.n; i++) {
		step_t *s = &r->pending.steps[i];

		/* A step that never ran has nothing to record; it is not failed either. */
		if (!s->committed && s->verb != NULL && commit_step(r, s) < 0)
			return -1;
	}
	return 0;
}

/* The rows of a claim (or of a round's opening: its 13th column says locked) into steps. */
static void parse_claim(PGresult *res, step_t *steps)
{
	bool has_locked = PQnfields(res) > 12;

	for (int i = 0; i < PQntuples(res); i++) {
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
		s->locked = has_locked && strcmp(PQgetvalue(res, i, 12), "t") == 0;
	}
}

/* A statement of the round: its result, or NULL (said in the log) when it failed. */
static PGresult *round_result(PGresult *res)
{
	char msg[256];

	if (db_ok(res))
		return res;
	log_warn("round failed: %s", db_error_message(res, msg, sizeof(msg)));
	PQclear(res);
	return NULL;
}

/*
 * The round's first statement (runner_round_open; runner_round, which
 * claims, when flushing): records the batch in hand and takes up to limit
 * more. NULL when it failed.
 */
static PGresult *round_trip(runner_t *r, const char *statement, int limit)
{
	char worker[24], batch[16], lease[16];
	char *done = pending_json(r);
	const char *params[4] = { worker, batch, lease, done };
	PGresult *res;

	snprintf(worker, sizeof(worker), "%" PRId64, r->worker_id);
	snprintf(batch, sizeof(batch), "%d", limit);
	snprintf(lease, sizeof(lease), "%d", r->cfg->step_lease_s);
	res = db_run(r->db, statement, 4, params);
	free(done);
	return round_result(res);
}

/* The batch in hand is recorded: count it and let it go. */
static void pending_done(runner_t *r)
{
	count_outcomes(r, r->pending.steps, r->pending.n);
	batch_clear(&r->pending);
}

/*
 * The round's transaction failed on a statement: roll it back and record
 * the batch in hand one by one (the steps it ran while locked are simply
 * due again). -1 when the connection is gone: whether the batch committed
 * is unknown then, and its claims are given up on reconnecting.
 */
static int round_failed(runner_t *r)
{
	r->claim_all = true;
	/* A step run while locked may still show in the slot; none is in hand now. */
	slot_set_step(r->slot, NULL);
	db_rollback(r->db);
	if (!db_connected(r->db) || commit_one_by_one(r) < 0) {
		batch_clear(&r->pending);
		return -1;
	}
	pending_done(r);
	return 0;
}

/*
 * Can a locked step run inside the round's transaction, unclaimed? Its
 * node stays inside the database (as a node run in line does), and it is
 * a first run from a status the record of a locked step starts from
 * (sql/017), not a retry or a resumed delay.
 */
static bool runs_in_round(runner_t *r, const step_t *s)
{
	const def_t *def;
	const def_node_t *node;
	char err[256];

	if (r->claim_all || strcmp(s->kind, "run") != 0 ||
	    (strcmp(s->status, "idle") != 0 && strcmp(s->status, "stepCompleted") != 0))
		return false;
	def = defcache_get(r->defs, s->workflow_id, s->version, err, sizeof(err));
	node = def ? def_node(def, s->node_id) : NULL;
	return node != NULL && node_runs_locked(r, node);
}

/*
 * Runs the quick ones among the round's locked steps; ran gets the record
 * of those that moved on (to be recorded as they are), claim the ids of the
 * others (to be claimed, and run afresh once they are). Returns the nodes
 * run, their own and those in line.
 */
static int run_locked(runner_t *r, step_t *steps, int n, round_record_t *ran, cJSON *claim)
{
	int nodes = 0, in_line = 0;

	for (int i = 0; i < n; i++) {
		step_t *s = &steps[i];

		if (!s->locked)
			continue;
		slot_beat(r->slot);
		if (runs_in_round(r, s)) {
			/* The round's nodes, each step's own and those in line so far, stay within WORKER_BATCH. */
			execute_step(r, s, r->cfg->worker_batch - n - in_line);
			if (strcmp(s->verb, "next") == 0) {
				round_record_step(ran, s->step_id, s->status);
				round_record_node(ran, s->node_id, &s->out);
				for (int h = 0; h < s->nhops; h++)
					round_record_node(ran, s->hops[h].node->id, &s->hops[h].out);
				nodes += 1 + s->nhops;
				in_line += s->nhops;
				continue;
			}
			step_clear(s);
		}
		cJSON_AddItemToArray(claim, cJSON_CreateString(s->step_id));
	}
	return nodes;
}

/*
 * The round's second statement: records what ran locked, claims the rest.
 * A round that ran nothing locked settles the way sql/017 does. NULL when
 * it failed.
 */
static PGresult *settle(runner_t *r, round_record_t *ran, cJSON *claim)
{
	char worker[24], lease[16];
	char *ids = json_print(claim);
	const char *params[2 + RR_ARRAYS + 1] = { worker, lease };
	int lengths[2 + RR_ARRAYS + 1] = { 0 }, formats[2 + RR_ARRAYS + 1] = { 0 };
	PGresult *res;

	/* A JSON array of id strings becomes a bigint[] literal: ["1","2"] -> {1,2}. */
	ids[0] = '{';
	ids[strlen(ids) - 1] = '}';
	for (char *p = ids; *p; p++)
		if (*p == '"')
			*p = ' ';
	snprintf(worker, sizeof(worker), "%" PRId64, r->worker_id);
	snprintf(lease, sizeof(lease), "%d", r->cfg->step_lease_s);
	if (round_record_steps(ran) > 0) {
		round_record_params(ran, params + 2, lengths + 2);
		for (int i = 2; i < 2 + RR_ARRAYS; i++)
			formats[i] = 1;
		params[2 + RR_ARRAYS] = ids;
		res = db_run_formats(r->db, "runner_settle_ran", 2 + RR_ARRAYS + 1, params, lengths, formats);
	} else {
		params[2] = "[]";
		params[3] = ids;
		res = db_run(r->db, "runner_settle", 4, params);
	}
	free(ids);
	return round_result(res);
}

/* The round's batch: the steps chained to this worker, then those it claimed. */
static void take_batch(runner_t *r, PGresult *opened, const step_t *steps, int n, PGresult *claimed)
{
	int chained = 0, total = claimed ? PQntuples(claimed) : 0;
	step_t *batch;

	for (int i = 0; i < n; i++)
		chained += !steps[i].locked;
	total += chained;
	batch = calloc((size_t)(total ? total : 1), sizeof(*batch));
	if (batch == NULL)
		abort();
	for (int i = 0, j = 0; i < n; i++)
		if (!steps[i].locked)
			batch[j++] = steps[i];
	if (claimed)
		parse_claim(claimed, batch + chained);
	r->pending = (batch_t){ opened, claimed, batch, total };
}

/*
 * A batch of slow external steps can outlast the steps' lease, after which
 * the sweeper hands the unstarted rest to another worker while this one
 * still means to run them — two sends of one email. So a step not started
 * by half its lease is given back instead: deferred to now, it is claimed
 * afresh (the execution shows running -> delayed -> running).
 */
static bool give_back_if_stale(runner_t *r, step_t *s, double claimed_ms)
{
	if (wftime_monotonic_ms() - claimed_ms < r->cfg->step_lease_s * 500.0)
		return false;
	exec_outcome_init(&s->out);
	s->out.status = EXEC_ERROR;
	s->out.deferred = true;
	s->out.run_at = wftime_now();
	s->verb = "defer";
	snprintf(s->out.error, sizeof(s->out.error),
		 "given back unstarted: its batch ran past half the step lease (%d s)", r->cfg->step_lease_s);
	s->out.result = json_object();
	json_add_string(s->out.result, "deferred", s->out.error);
	log_warn("step %s of %s %s", s->node_id, s->execution_id, s->out.error);
	return true;
}

/* Executes the batch in hand; earlier the round ran nodes already. The nodes run, or -1 when the connection is gone. */
static int run_batch(runner_t *r, int earlier)
{
	step_t *steps = r->pending.steps;
	int n = r->pending.n, in_line = 0;

	for (int i = 0; i < n; i++) {
		slot_beat(r->slot);
		if (give_back_if_stale(r, &steps[i], r->round_started_ms))
			continue;
		/* The round's nodes, each step's own and those in line so far, stay within WORKER_BATCH. */
		execute_step(r, &steps[i], r->cfg->worker_batch - earlier - n - in_line);
		if (is_external(r, &steps[i]) && commit_step(r, &steps[i]) < 0)
			return -1;
		in_line += steps[i].nhops;
	}
	return n + in_line;
}

int runner_round(runner_t *r, int *claimed)
{
	int limit = round_limit(r);
	PGresult *opened, *taken = NULL;
	round_record_t *ran;
	cJSON *claim;
	step_t *steps;
	int n, locked = 0, ran_nodes, ran_steps, batch_nodes;

	*claimed = 0;
	r->last_round_full = false;
	if (db_begin(r->db) < 0 || (opened = round_trip(r, "runner_round_open", limit)) == NULL)
		return round_failed(r);
	n = PQntuples(opened);
	steps = calloc((size_t)(n ? n : 1), sizeof(*steps));
	if (steps == NULL)
		abort();
	parse_claim(opened, steps);
	r->round_started_ms = wftime_monotonic_ms();
	ran = round_record_new();
	claim = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		locked += steps[i].locked;
	ran_nodes = run_locked(r, steps, n, ran, claim);
	ran_steps = round_record_steps(ran);
	if (locked > 0)
		taken = settle(r, ran, claim);
	round_record_free(ran);
	cJSON_Delete(claim);
	if ((locked > 0 && taken == NULL) || db_commit(r->db) < 0) {
		for (int i = 0; i < n; i++)
			step_clear(&steps[i]);
		free(steps);
		PQclear(opened);
		PQclear(taken);
		return round_failed(r);
	}
	pending_done(r);
	defcache_trim(r->defs);
	r->claim_all = false;
	*claimed = n;
	r->last_round_full = n > 0 && n >= limit;
	atomic_fetch_add(&r->slot->steps_completed, (uint64_t)ran_nodes);
	for (int i = 0; i < n; i++)
		if (steps[i].locked)
			step_clear(&steps[i]);
	take_batch(r, opened, steps, n, taken);
	free(steps);
	batch_nodes = run_batch(r, ran_nodes);
	if (batch_nodes < 0) {
		/*
		 * The connection went while an external step was being recorded.
		 * As in round_failed(), the batch is dropped: the steps it did not
		 * run have no outcome, and reconnecting gives back every claim
		 * (runner_requeue_own). The slot holds no step any more either, so
		 * a death of this child is not blamed on the last one it ran.
		 */
		batch_clear(&r->pending);
		slot_set_step(r->slot, NULL);
		return -1;
	}
	if (ran_steps + r->pending.n > 0)
		note_pace(r, wftime_monotonic_ms() - r->round_started_ms, ran_steps + r->pending.n,
			  ran_nodes + batch_nodes);
	atomic_fetch_add(&r->slot->steps_done, (uint64_t)(ran_nodes + batch_nodes));
	slot_set_step(r->slot, NULL);
	slot_beat(r->slot);
	return 0;
}

int runner_flush(runner_t *r)
{
	PGresult *res;

	if (r->pending.n == 0)
		return 0;
	res = round_trip(r, "runner_round", 0);
	if (res == NULL && (!db_connected(r->db) || commit_one_by_one(r) < 0)) {
		batch_clear(&r->pending);
		return -1;
	}
	PQclear(res);
	pending_done(r);
	return 0;
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
