/*
 * test_queue.c - the step queue in SQL: disjoint concurrent claims, the
 * claim check that refuses a late worker, rescue of dead workers' steps,
 * one NOTIFY per enqueuing transaction, nothing left behind, and a drained
 * queue that keeps its pages.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

static const char *const noop1 =
	"{\"name\":\"noop1\",\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}";

static long register_worker(testdb_t *t, const char *host)
{
	const char *params[1] = { host };

	return testdb_long(t, "SELECT wf_worker_register($1, 1, 0, 1)", 1, params);
}

typedef struct {
	testdb_t *t;
	long worker;
	long *ids;
	int count;
} claimer_t;

/* Claims batches of 50 on its own connection until the queue is empty. */
static void *claim_all(void *arg)
{
	claimer_t *c = arg;
	db_t *db = db_new(&c->t->cfg, "claimer");
	char worker[24];
	const char *params[1] = { worker };

	ck_assert_int_eq(db_connect(db), 0);
	snprintf(worker, sizeof(worker), "%ld", c->worker);
	for (;;) {
		PGresult *res = db_query(db, "SELECT step_id FROM wf_claim_steps($1::bigint, 50, 60)", 1,
					 params);
		int n;

		ck_assert(db_ok(res));
		n = PQntuples(res);
		for (int i = 0; i < n; i++)
			c->ids[c->count++] = atol(PQgetvalue(res, i, 0));
		PQclear(res);
		if (n == 0)
			break;
	}
	db_free(db);
	return NULL;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

START_TEST(concurrent_claims_never_share_a_step)
{
	testdb_t *t = testdb_new("claims");
	claimer_t a = { .t = t }, b = { .t = t };
	pthread_t ta, tb;
	long *all;
	int total;

	fixture_workflow(t, "noop1", noop1);
	fixture_executions(t, "noop1", 4000, NULL);
	a.worker = register_worker(t, "a");
	b.worker = register_worker(t, "b");
	a.ids = calloc(4000, sizeof(long));
	b.ids = calloc(4000, sizeof(long));
	pthread_create(&ta, NULL, claim_all, &a);
	pthread_create(&tb, NULL, claim_all, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	total = a.count + b.count;
	ck_assert_int_eq(total, 4000);
	ck_assert_int_gt(a.count, 0);
	ck_assert_int_gt(b.count, 0);
	all = malloc(sizeof(long) * (size_t)total);
	memcpy(all, a.ids, sizeof(long) * (size_t)a.count);
	memcpy(all + a.count, b.ids, sizeof(long) * (size_t)b.count);
	qsort(all, (size_t)total, sizeof(long), cmp_long);
	for (int i = 1; i < total; i++)
		ck_assert_msg(all[i] != all[i - 1], "step %ld claimed twice", all[i]);
	/* Every claimed execution is now running, with one history row for it. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'running'",
				     0, NULL), 4000);
	free(all);
	free(a.ids);
	free(b.ids);
	testdb_free(t);
}
END_TEST

START_TEST(late_worker_cannot_finish_a_rescued_step)
{
	testdb_t *t = testdb_new("stale");
	long w1, w2;
	char w1t[24], w2t[24];
	const char *p1[1] = { w1t }, *p2[1] = { w2t };
	char step[24];
	const char *ps[1] = { step };

	fixture_workflow(t, "noop1", noop1);
	fixture_execution(t, "noop1", NULL);
	w1 = register_worker(t, "one");
	w2 = register_worker(t, "two");
	snprintf(w1t, sizeof(w1t), "%ld", w1);
	snprintf(w2t, sizeof(w2t), "%ld", w2);
	snprintf(step, sizeof(step), "%s", testdb_text(t, "SELECT step_id FROM wf_claim_steps($1::bigint, 1, 60)", 1, p1));

	/* Worker one dies; its parent releases the step; worker two claims it. */
	ck_assert_int_eq(testdb_long(t, "SELECT wf_release_worker_steps($1::bigint, 'test')", 1, p1), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM wf_workers WHERE id = $1::bigint", 1, p1), "dead");
	ck_assert_str_eq(testdb_text(t, "SELECT claims FROM wf_claim_steps($1::bigint, 1, 60)", 1, p2), "2");

	/* The late worker presents its old claim: refused, nothing written. */
	ck_assert_str_eq(testdb_text(t, "SELECT wf_step_finish($1::bigint, 1, 'next')", 1, ps), "stale");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'completed'",
				     0, NULL), 0);
	ck_assert_str_eq(testdb_text(t, "SELECT wf_step_finish($1::bigint, 2, 'next')", 1, ps), "ok");
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions", 0, NULL), "completed");
	/* Finished executions leave nothing in the queue. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

START_TEST(sweeper_rescues_expired_leases_and_dead_hosts)
{
	testdb_t *t = testdb_new("sweep");
	char w[24];
	const char *pw[1] = { w };

	fixture_workflow(t, "noop1", noop1);
	fixture_executions(t, "noop1", 3, NULL);
	snprintf(w, sizeof(w), "%ld", register_worker(t, "h"));
	/* A lease of 0 s has run out at once. */
	PQclear(testdb_query(t, "SELECT * FROM wf_claim_steps($1::bigint, 1, 0)", 1, pw));
	ck_assert_int_eq(testdb_long(t, "SELECT wf_rescue_steps('1 hour')", 0, NULL), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'ready' AND crashes = 1",
				     0, NULL), 1);

	/* A host whose heartbeat stopped: its worker is dead and its steps return. */
	PQclear(testdb_query(t, "SELECT * FROM wf_claim_steps($1::bigint, 2, 600)", 1, pw));
	testdb_exec(t, "UPDATE wf_workers SET heartbeat_at = now() - interval '1 minute'");
	ck_assert_int_eq(testdb_long(t, "SELECT wf_rescue_steps('15 seconds')", 0, NULL), 2);
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM wf_workers", 0, NULL), "dead");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'ready'", 0, NULL), 3);
	testdb_free(t);
}
END_TEST

/*
 * The claimed rows have one partial index, by lease (sql/013); the lookups
 * by worker (a pool that died or reconnected) read it, not the queue. They
 * name the lease (every claimed step has one), which the index's predicate
 * asks for since sql/028.
 */
START_TEST(a_workers_steps_are_found_among_the_claimed_only)
{
	testdb_t *t = testdb_new("byworker");
	char w[24], lookup[160];
	const char *pw[1] = { w };

	fixture_workflow(t, "noop1", noop1);
	fixture_executions(t, "noop1", 5000, NULL);
	testdb_exec(t, "UPDATE wf_steps SET status = 'waiting', run_at = 'infinity'"
		       " WHERE id > (SELECT min(id) + 9 FROM wf_steps)");
	testdb_exec(t, "ANALYZE wf_steps");
	snprintf(w, sizeof(w), "%ld", register_worker(t, "b"));
	PQclear(testdb_query(t, "SELECT * FROM wf_claim_steps($1::bigint, 50, 600)", 1, pw));
	snprintf(lookup, sizeof(lookup), "SELECT * FROM wf_steps WHERE claimed_by = %s AND status = 'claimed'"
		 " AND lease_expires_at IS NOT NULL", w);
	ck_assert_int_lt(testdb_buffers(t, lookup), 20);
	ck_assert_int_eq(testdb_long(t, "SELECT wf_release_worker_steps($1::bigint, 'killed')", 1, pw), 10);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'ready'", 0, NULL), 10);
	testdb_free(t);
}
END_TEST

START_TEST(a_step_that_keeps_killing_workers_is_dead_lettered)
{
	testdb_t *t = testdb_new("poison");

	fixture_workflow(t, "noop1", noop1);
	fixture_execution(t, "noop1", NULL);
	for (int i = 0; i < 3; i++) {
		char w[24];
		const char *pw[1] = { w };

		snprintf(w, sizeof(w), "%ld", register_worker(t, "p"));
		PQclear(testdb_query(t, "SELECT * FROM wf_claim_steps($1::bigint, 1, 60)", 1, pw));
		/* The worker died running this very step: it counts against the step. */
		ck_assert_int_eq(testdb_long(t, "SELECT wf_release_worker_steps($1::bigint, 'killed',"
					     " (SELECT execution_id FROM wf_steps))", 1, pw), 1);
	}
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions", 0, NULL), "failed");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_dead_letters WHERE reason LIKE 'step lost its worker 3 times%'",
				     0, NULL), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

START_TEST(one_notify_per_enqueuing_transaction)
{
	testdb_t *t = testdb_new("notify");
	db_t *listener = db_new(&t->cfg, "listener");
	PGnotify *n;
	int count = 0;

	fixture_workflow(t, "noop1", noop1);
	ck_assert_int_eq(db_connect(listener), 0);
	ck_assert_int_eq(db_command(listener, "LISTEN wf_steps", 0, NULL), 0);
	testdb_exec(t, "BEGIN");
	fixture_executions(t, "noop1", 100, NULL);
	fixture_executions(t, "noop1", 100, NULL);
	testdb_exec(t, "COMMIT");
	/* Up to 10 s for the first (a loaded machine), then 300 ms for any other. */
	for (double deadline = proc_now_ms() + 10000; proc_now_ms() < deadline; proc_sleep_ms(20)) {
		PQconsumeInput(db_conn(listener));
		while ((n = PQnotifies(db_conn(listener))) != NULL) {
			if (count++ == 0)
				deadline = proc_now_ms() + 300;
			PQfreemem(n);
		}
	}
	ck_assert_int_eq(count, 1);
	db_free(listener);
	testdb_free(t);
}
END_TEST

/*
 * A drained queue keeps its pages through VACUUM (the sweeper's every
 * second; truncating takes a lock every claim would wait behind), and an
 * operator's VACUUM (TRUNCATE) still gives them back.
 */
START_TEST(a_drained_queue_keeps_its_pages)
{
	testdb_t *t = testdb_new("keeps_pages");
	const char *size_sql = "SELECT pg_relation_size('wf_steps')";
	long full;

	fixture_workflow(t, "noop1", noop1);
	fixture_executions(t, "noop1", 3000, NULL);
	full = testdb_long(t, size_sql, 0, NULL);
	ck_assert_int_gt(full, 8192 * 10);
	testdb_exec(t, "DELETE FROM wf_steps");
	testdb_exec(t, "VACUUM wf_steps");
	ck_assert_int_eq(testdb_long(t, size_sql, 0, NULL), full);
	testdb_exec(t, "VACUUM (TRUNCATE) wf_steps");
	ck_assert_int_eq(testdb_long(t, size_sql, 0, NULL), 0);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("queue", 120, concurrent_claims_never_share_a_step,
	    late_worker_cannot_finish_a_rescued_step, sweeper_rescues_expired_leases_and_dead_hosts,
	    a_workers_steps_are_found_among_the_claimed_only,
	    a_step_that_keeps_killing_workers_is_dead_lettered, one_notify_per_enqueuing_transaction,
	    a_drained_queue_keeps_its_pages)
