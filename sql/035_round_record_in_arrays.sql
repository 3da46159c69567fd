-- 035_round_record_in_arrays: a worker's round sends the record of the
-- steps it ran locked as typed arrays, a column each, instead of one jsonb
-- document.
--
-- Counted by instructions (callgrind on a single-user server, rounds of 85
-- steps of three mock emails; docs/performance.md), the jsonb record cost
-- the round more than any table it writes: parsing it, taking it apart
-- into the ten arrays the statements below work on, and then the fields of
-- each node and of each email log out of it again, key by key. The
-- worker sends the arrays in PostgreSQL's binary format (a length and the
-- bytes a value: worker/round_record.c). The round: 426,000 instructions a
-- step against 513,560 with the arrays sent as text, which cost 43,700 of
-- them and the binary form less. The rows written are the same, but for
-- the email rows' ids: each execution's emails come in its nodes' order.
--
-- An array whose elements would all be NULL may be sent as NULL (the
-- node arrays but p_nodes: p_nexts NULL ends every step).
--
-- A node's email log (the one row a send writes) comes in columns of its
-- own, one element a node (NULL where the node sent none). Its result is
-- the email's recipient, subject and message id; the worker sends the
-- result as NULL when it is exactly that, and it is built here from the
-- log. Every other log (an SMS, a webhook, an email with other fields)
-- comes whole, in p_logs, as wf_record_logs_of takes it.
--
-- wf_worker_settle(jsonb) stays: a worker of the previous version, still
-- running while a rolling restart reaches its host, calls it. A worker of
-- this version needs this schema (the coordinator migrates first).

-- One round's record: p_steps the steps ran locked, each with the status
-- its execution ran from and its nodes' positions p_firsts..p_lasts in the
-- node arrays (its own node first, then those run in line after it). Per
-- node: its id, next node (NULL at the end), result (NULL: its email's;
-- JSON null: none), logs other than its email's, and its email log's
-- fields (p_mail_statuses NULL: no email). Records the steps still locked
-- by this round and ready, whose execution is still in the status they
-- ran from and whose node is the one they ran; returns their ids.
CREATE FUNCTION wf_steps_record_ran(p_steps bigint[], p_froms text[], p_firsts integer[], p_lasts integer[],
                                    p_nodes text[], p_nexts text[], p_results jsonb[], p_logs jsonb[],
                                    p_mail_recipients text[], p_mail_subjects text[], p_mail_templates text[],
                                    p_mail_statuses text[], p_mail_modes text[], p_mail_message_ids text[],
                                    p_mail_errors text[])
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    node_count integer := coalesce(cardinality(p_nodes), 0);
    results jsonb[];
    ids bigint[];
    execs uuid[];
    froms text[];
    attempts integer[];
    firsts integer[];
    lasts integer[];
    recorded uuid[];
    locked_at timestamptz := coalesce(nullif(current_setting('wf.round_locked_at', true), '')::timestamptz, now());
BEGIN
    IF coalesce(cardinality(p_steps), 0) = 0 THEN
        RETURN '{}';
    END IF;
    IF EXISTS (SELECT 1
               FROM unnest(ARRAY[cardinality(p_froms), cardinality(p_firsts), cardinality(p_lasts)]) AS per_step(c)
               WHERE c IS DISTINCT FROM cardinality(p_steps))
       OR EXISTS (SELECT 1
                  FROM unnest(ARRAY[cardinality(p_nexts), cardinality(p_results), cardinality(p_logs),
                                    cardinality(p_mail_recipients), cardinality(p_mail_subjects),
                                    cardinality(p_mail_templates), cardinality(p_mail_statuses),
                                    cardinality(p_mail_modes), cardinality(p_mail_message_ids),
                                    cardinality(p_mail_errors)]) AS per_node(c)
                  WHERE c <> node_count)
       OR EXISTS (SELECT 1 FROM unnest(p_firsts, p_lasts) AS u(lo, hi)
                  WHERE lo IS NULL OR hi IS NULL OR lo < 1 OR hi < lo OR hi > node_count) THEN
        RAISE EXCEPTION 'a round''s record needs one status and node range per step, within its nodes, and one value per node in each node array'
            USING ERRCODE = 'WF422';
    END IF;

    -- Each node's result: as sent, or built from its email log.
    SELECT array_agg(CASE WHEN u.r IS NOT NULL THEN nullif(u.r, 'null')
                          WHEN u.st IS NOT NULL THEN jsonb_object('{to,subject,message_id}', ARRAY[u.rc, u.sj, u.mi])
                     END)
    INTO results
    FROM unnest(p_results, p_mail_statuses, p_mail_recipients, p_mail_subjects, p_mail_message_ids)
         AS u(r, st, rc, sj, mi);

    -- The steps in the order of their ids.
    SELECT array_agg(q.id), array_agg(q.execution_id), array_agg(q.f), array_agg(q.attempt),
           array_agg(q.lo), array_agg(q.hi)
    INTO ids, execs, froms, attempts, firsts, lasts
    FROM (SELECT s.id, s.execution_id, u.f, s.attempt, u.lo, u.hi
          FROM unnest(p_steps, p_froms, p_firsts, p_lasts) AS u(id, f, lo, hi)
          JOIN wf_steps s ON s.id = u.id AND s.status = 'ready' AND s.node_id = p_nodes[u.lo]
          WHERE u.f IN ('idle', 'stepCompleted')
          ORDER BY s.id) q;

    IF ids IS NULL THEN
        RETURN '{}';
    END IF;

    -- The execution first, its status checked again.
    PERFORM set_config('wf.engine', 'on', true);
    WITH written AS (
        UPDATE workflow_executions e
        SET status = CASE WHEN p_nexts[u.hi] IS NULL THEN 'completed' ELSE 'stepCompleted' END,
            current_node = p_nodes[u.hi], attempt = 1,
            last_result = CASE WHEN p_nexts[u.hi] IS NULL THEN NULL ELSE results[u.hi] END, last_error = NULL,
            updated_at = now(), completed_at = CASE WHEN p_nexts[u.hi] IS NULL THEN now() END
        FROM unnest(execs, froms, lasts) AS u(id, f, hi)
        WHERE e.id = u.id AND e.status = u.f
        RETURNING e.id)
    SELECT array_agg(id) INTO recorded FROM written;

    IF recorded IS NULL THEN
        PERFORM set_config('wf.engine', 'off', true);
        RETURN '{}';
    END IF;
    IF cardinality(recorded) < cardinality(ids) THEN
        SELECT array_agg(u.s ORDER BY u.s), array_agg(u.e ORDER BY u.s), array_agg(u.f ORDER BY u.s),
               array_agg(u.a ORDER BY u.s), array_agg(u.lo ORDER BY u.s), array_agg(u.hi ORDER BY u.s)
        INTO ids, execs, froms, attempts, firsts, lasts
        FROM unnest(ids, execs, froms, attempts, firsts, lasts) AS u(s, e, f, a, lo, hi)
        WHERE u.e = ANY (recorded);
    END IF;

    -- The step: gone at the end, else at its next node and due as it was
    -- (run_at and status unchanged: no index entry is written).
    DELETE FROM wf_steps s USING unnest(ids, lasts) AS u(id, hi)
    WHERE s.id = u.id AND p_nexts[u.hi] IS NULL;
    UPDATE wf_steps s SET node_id = p_nexts[u.hi], kind = 'run', attempt = 1, crashes = 0
    FROM unnest(ids, lasts) AS u(id, hi)
    WHERE s.id = u.id AND p_nexts[u.hi] IS NOT NULL;
    IF FOUND THEN
        PERFORM pg_notify('wf_steps', '');  -- not caught by wf_steps_readied: no status or run_at changed
    END IF;

    -- One row of wf_history per step, as sql/034 writes it: from -> running
    -- and running -> stepCompleted for each node, its own first, then
    -- -> completed at the end. Transition i (from 1) is of the node at
    -- position first + (i - 1) / 2 while i <= 2 * its nodes.
    INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
    SELECT u.id, c.*
    FROM unnest(execs, froms, attempts, firsts, lasts) AS u(id, f, a, lo, hi)
    CROSS JOIN LATERAL (
        SELECT max(x.at) AS latest_at,
               array_agg(p_nodes[CASE WHEN x.i <= x.in_line THEN u.lo + (x.i - 1) / 2 ELSE u.hi END]) AS node_id,
               array_agg(CASE WHEN x.i = 1 THEN u.f
                              WHEN x.i > x.in_line OR x.i % 2 = 1 THEN 'stepCompleted'
                              ELSE 'running' END) AS from_status,
               array_agg(CASE WHEN x.i > x.in_line THEN 'completed'
                              WHEN x.i % 2 = 0 THEN 'stepCompleted'
                              ELSE 'running' END) AS to_status,
               array_agg(CASE WHEN x.i <= 2 THEN u.a ELSE 1 END) AS attempt,
               array_agg(CASE WHEN x.i <= x.in_line AND x.i % 2 = 0 THEN results[u.lo + (x.i - 1) / 2] END) AS result,
               array_agg(NULL::text) AS error,
               array_agg(x.at) AS created_at
        FROM (SELECT g.i, l.in_line, CASE WHEN g.i = 1 THEN locked_at ELSE clock_timestamp() END AS at
              FROM (SELECT 2 * (u.hi - u.lo + 1) AS in_line) l
              CROSS JOIN LATERAL generate_series(1, l.in_line + (p_nexts[u.hi] IS NULL)::integer) AS g(i)) x
    ) c;
    PERFORM set_config('wf.engine', 'off', true);

    -- The audit rows, each execution's in the order of its nodes: the
    -- emails from their columns, every other log as wf_record_logs_of
    -- writes it.
    INSERT INTO email_logs (execution_id, node_id, attempt, recipient, subject, template, data,
                            status, mode, message_id, error)
    SELECT u.id, p_nodes[n.i], CASE WHEN n.i = u.lo THEN u.a ELSE 1 END, p_mail_recipients[n.i],
           coalesce(p_mail_subjects[n.i], ''), p_mail_templates[n.i], NULL, p_mail_statuses[n.i],
           coalesce(p_mail_modes[n.i], 'mock'), p_mail_message_ids[n.i], p_mail_errors[n.i]
    FROM unnest(execs, attempts, firsts, lasts) AS u(id, a, lo, hi)
    CROSS JOIN LATERAL generate_series(u.lo, u.hi) AS n(i)
    WHERE p_mail_statuses[n.i] IS NOT NULL;

    PERFORM wf_record_logs_of(array_agg(u.id), array_agg(p_nodes[n.i]),
                              array_agg(CASE WHEN n.i = u.lo THEN u.a ELSE 1 END), array_agg(p_logs[n.i]))
    FROM unnest(execs, attempts, firsts, lasts) AS u(id, a, lo, hi)
    CROSS JOIN LATERAL generate_series(u.lo, u.hi) AS n(i)
    WHERE p_logs[n.i] IS NOT NULL
    HAVING count(*) > 0;

    PERFORM wf_child_ended(e.id, false)
    FROM workflow_executions e, unnest(execs, lasts) AS u(id, hi)
    WHERE e.id = u.id AND p_nexts[u.hi] IS NULL AND e.parent_execution_id IS NOT NULL;

    RETURN ids;
END $$;

-- The round's second statement (sql/017's wf_worker_settle) for a record in
-- arrays: records what ran locked, then claims p_claim and the steps whose
-- record was refused, which run again as claimed steps.
CREATE FUNCTION wf_worker_settle_ran(p_worker bigint, p_lease_s integer,
                                     p_steps bigint[], p_froms text[], p_firsts integer[], p_lasts integer[],
                                     p_nodes text[], p_nexts text[], p_results jsonb[], p_logs jsonb[],
                                     p_mail_recipients text[], p_mail_subjects text[], p_mail_templates text[],
                                     p_mail_statuses text[], p_mail_modes text[], p_mail_message_ids text[],
                                     p_mail_errors text[], p_claim bigint[])
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    recorded bigint[] := wf_steps_record_ran(p_steps, p_froms, p_firsts, p_lasts, p_nodes, p_nexts, p_results,
                                             p_logs, p_mail_recipients, p_mail_subjects, p_mail_templates,
                                             p_mail_statuses, p_mail_modes, p_mail_message_ids, p_mail_errors);
    refused bigint[];
BEGIN
    SELECT array_agg(s) INTO refused FROM unnest(p_steps) AS s WHERE NOT (s = ANY (recorded));
    RETURN QUERY SELECT * FROM wf_claim_step_ids(p_worker, coalesce(p_claim, '{}') || coalesce(refused, '{}'),
                                                 p_lease_s);
END $$;
