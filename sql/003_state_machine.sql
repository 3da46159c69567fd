-- 003_state_machine: execution states, the one table of legal transitions,
-- and the history row every transition writes.
--
-- The table is enforced by a trigger, so a transition is legal or refused
-- whoever makes it: a worker, the API, or an operator in psql.

CREATE TABLE workflow_status_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);

INSERT INTO workflow_status_transitions (from_status, to_status) VALUES
    -- the normal path: idle -> running -> stepCompleted -> running ... -> completed
    ('idle', 'running'),
    ('running', 'stepCompleted'),
    ('stepCompleted', 'running'),
    ('stepCompleted', 'completed'),
    -- delays: the delay node's step parks the execution until its resume step
    ('running', 'delayed'),
    ('delayed', 'running'),
    -- failures: retry with backoff, or fail after the last attempt
    ('running', 'stepFailed'),
    ('stepFailed', 'retrying'),
    ('stepFailed', 'failed'),
    ('retrying', 'running'),
    -- replay of a dead-lettered step
    ('failed', 'retrying'),
    -- pause takes effect before the next step; resume returns to where it was
    ('idle', 'paused'),
    ('running', 'paused'),
    ('stepCompleted', 'paused'),
    ('retrying', 'paused'),
    ('delayed', 'paused'),
    ('paused', 'idle'),
    ('paused', 'running'),
    ('paused', 'stepCompleted'),
    ('paused', 'retrying'),
    ('paused', 'delayed'),
    -- the step in flight when the pause came was the last one
    ('paused', 'completed'),
    ('paused', 'failed'),
    -- cancel (and stop) from every state that has work left
    ('idle', 'cancelled'),
    ('running', 'cancelled'),
    ('stepCompleted', 'cancelled'),
    ('stepFailed', 'cancelled'),
    ('retrying', 'cancelled'),
    ('delayed', 'cancelled'),
    ('paused', 'cancelled');

-- Raises WF409 unless from -> to is in the table (a state to itself never is).
CREATE FUNCTION wf_assert_transition(p_id uuid, p_from text, p_to text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM workflow_status_transitions
                   WHERE from_status = p_from AND to_status = p_to) THEN
        RAISE EXCEPTION 'illegal transition of execution %: % -> %', p_id, p_from, p_to
            USING ERRCODE = 'WF409';
    END IF;
END $$;

CREATE FUNCTION wf_execution_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        -- wf_assert_transition's check, inline: this runs for every step.
        IF NOT EXISTS (SELECT 1 FROM workflow_status_transitions
                       WHERE from_status = OLD.status AND to_status = NEW.status) THEN
            RAISE EXCEPTION 'illegal transition of execution %: % -> %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'WF409';
        END IF;
        IF NEW.status IN ('completed', 'failed', 'cancelled') THEN
            NEW.completed_at := now();
        ELSIF OLD.status IN ('completed', 'failed', 'cancelled') THEN
            NEW.completed_at := NULL;
        END IF;
        INSERT INTO workflow_execution_history
            (execution_id, node_id, from_status, to_status, attempt, result, error)
        VALUES (NEW.id, NEW.current_node, OLD.status, NEW.status, NEW.attempt,
                NEW.last_result, NEW.last_error);
    END IF;
    RETURN NEW;
END $$;

-- Every update goes through the trigger but the engine's two set-based hot
-- paths (claiming a batch, finishing a batch of 'next' outcomes), which
-- only make transitions of the table, write their history rows themselves
-- in one INSERT, and say so with the transaction-local wf.engine = 'on'
-- for just those statements (see wf_claim_steps, wf_steps_finish_next).
CREATE TRIGGER workflow_executions_transition BEFORE UPDATE ON workflow_executions
    FOR EACH ROW WHEN (current_setting('wf.engine', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION wf_execution_transition();

-- The first history row of every new execution, for a whole INSERT at once.
CREATE FUNCTION wf_execution_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt, result)
    SELECT n.id, n.current_node, NULL, n.status, 0, n.last_result FROM created n;
    RETURN NULL;
END $$;

CREATE TRIGGER workflow_executions_created AFTER INSERT ON workflow_executions
    REFERENCING NEW TABLE AS created FOR EACH STATEMENT EXECUTE FUNCTION wf_execution_created();

-- The history goes with its execution (in place of a foreign key, see 001).
CREATE FUNCTION wf_execution_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM workflow_execution_history h USING gone g WHERE h.execution_id = g.id;
    RETURN NULL;
END $$;

CREATE TRIGGER workflow_executions_deleted AFTER DELETE ON workflow_executions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION wf_execution_deleted();
