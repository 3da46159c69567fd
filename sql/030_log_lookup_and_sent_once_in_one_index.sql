-- 030_log_lookup_and_sent_once_in_one_index: each log table keeps one
-- index on its execution instead of two.
--
-- Every log row was written into two indexes that begin with its
-- execution: <table>_execution (execution_id), which the API's and the
-- deletion trigger's lookups by execution read, and <table>_sent_once
-- (execution_id, node_id) WHERE status = 'sent', which makes a step re-run
-- after a crash unable to log a second send. One unique index on
-- (execution_id, node_id, CASE WHEN status = 'sent' THEN 0 ELSE id END)
-- does both: a sent row's key ends in 0, so a second sent row of the same
-- execution and node is refused (23505) as before, and any other row's
-- ends in its own id, so failed and deferred attempts are never in
-- conflict; its leading column serves every lookup by execution. A
-- throughput run writes three email rows per execution of three emails,
-- each now with one index entry fewer (docs/performance.md).
--
-- Building the index holds off writes to its table until it is built
-- (seconds on a table of millions of rows): run this migration outside a
-- burst on a large installation.

CREATE UNIQUE INDEX email_logs_by_execution
    ON email_logs (execution_id, node_id, (CASE WHEN status = 'sent' THEN 0 ELSE id END));
DROP INDEX email_logs_sent_once;
DROP INDEX email_logs_execution;

CREATE UNIQUE INDEX sms_logs_by_execution
    ON sms_logs (execution_id, node_id, (CASE WHEN status = 'sent' THEN 0 ELSE id END));
DROP INDEX sms_logs_sent_once;
DROP INDEX sms_logs_execution;

CREATE UNIQUE INDEX webhook_logs_by_execution
    ON webhook_logs (execution_id, node_id, (CASE WHEN status = 'sent' THEN 0 ELSE id END));
DROP INDEX webhook_logs_sent_once;
DROP INDEX webhook_logs_execution;
