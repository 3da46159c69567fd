/*
 * test_sent_once.c - each log table's one index on its execution (sql/030):
 * a second sent row of one execution's node is refused, as the partial
 * unique index refused it, while failed and deferred attempts are never in
 * conflict, and a lookup by execution reads the index, not the table.
 */
#include <check.h>
#include <stdio.h>

#include "runner.h"
#include "testdb.h"

#define EXEC_A "'00000000-0000-0000-0000-0000000000a1'"
#define EXEC_B "'00000000-0000-0000-0000-0000000000b1'"

static const char *const tables[] = { "email_logs", "sms_logs", "webhook_logs" };

/* The INSERT of a row of the table for execution and node with status; the other columns as its channel needs. */
static const char *log_row_sql(char *sql, size_t size, const char *table, const char *execution, const char *node,
			       const char *status)
{
	snprintf(sql, size, "INSERT INTO %s (execution_id, node_id, %s, status) VALUES (%s, '%s', 'x', '%s')",
		 table, table[0] == 'w' ? "url" : "recipient", execution, node, status);
	return sql;
}

static void log_row(testdb_t *t, const char *table, const char *execution, const char *node, const char *status)
{
	char sql[512];

	testdb_exec(t, log_row_sql(sql, sizeof(sql), table, execution, node, status));
}

START_TEST(a_node_logs_one_send_and_any_number_of_failed_attempts)
{
	testdb_t *t = testdb_new("sentonce");
	char sql[512];

	for (int i = 0; i < 3; i++) {
		const char *table = tables[i];

		log_row(t, table, EXEC_A, "a", "failed");
		log_row(t, table, EXEC_A, "a", "failed");
		log_row(t, table, EXEC_A, "a", "deferred");
		log_row(t, table, EXEC_A, "a", "sent");
		/* The same node of another execution, another node of this one. */
		log_row(t, table, EXEC_B, "a", "sent");
		log_row(t, table, EXEC_A, "b", "sent");
		ck_assert_str_eq(testdb_error(t, log_row_sql(sql, sizeof(sql), table, EXEC_A, "a", "sent"), 0, NULL), "23505");
		/* A sent row cannot become a second one either. */
		snprintf(sql, sizeof(sql), "UPDATE %s SET status = 'sent' WHERE execution_id = " EXEC_A
			 " AND node_id = 'a' AND status = 'deferred'", table);
		ck_assert_str_eq(testdb_error(t, sql, 0, NULL), "23505");
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE execution_id = " EXEC_A, table);
		ck_assert_int_eq(testdb_long(t, sql, 0, NULL), 5);
	}
	testdb_free(t);
}
END_TEST

/*
 * 2,000 executions' rows: the lookup of one execution's reads a handful of
 * pages through the index, where a scan would read all of the table's.
 */
START_TEST(a_lookup_by_execution_reads_the_index)
{
	testdb_t *t = testdb_new("sentidx");

	testdb_exec(t, "INSERT INTO email_logs (execution_id, node_id, recipient, subject, status)"
		       " SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(g / 3), 12, '0'))::uuid, 'n' || g % 3,"
		       "        'test-' || g || '@example.com', repeat('s', 200), 'sent'"
		       " FROM generate_series(0, 5999) g");
	testdb_exec(t, "ANALYZE email_logs");
	ck_assert_int_gt(testdb_long(t, "SELECT pg_relation_size('email_logs') / 8192", 0, NULL), 100);
	ck_assert_int_lt(testdb_buffers(t, "SELECT * FROM email_logs"
					   " WHERE execution_id = '00000000-0000-0000-0000-0000000003e8'"), 10);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("sent_once", 60, a_node_logs_one_send_and_any_number_of_failed_attempts,
	    a_lookup_by_execution_reads_the_index)
