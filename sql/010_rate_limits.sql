-- 010_rate_limits: token buckets shared by every worker of the fleet, so a
-- limit such as "20 emails a second" holds however many pools send.
--
-- A bucket holds up to `burst` tokens and refills at `rate` per second;
-- taking one either succeeds or says how long until one is there. A step
-- that finds its bucket empty is deferred (the execution waits as
-- 'delayed'), not failed, and keeps its attempt count.

CREATE TABLE wf_rate_buckets (
    key        text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Takes one token of bucket p_key; returns 0 when taken, else the seconds
-- to wait for one.
CREATE FUNCTION wf_rate_take(p_key text, p_rate double precision, p_burst double precision)
RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := clock_timestamp();
    have double precision;
BEGIN
    INSERT INTO wf_rate_buckets (key, tokens, updated_at) VALUES (p_key, p_burst, now_ts)
    ON CONFLICT (key) DO NOTHING;
    SELECT least(p_burst, tokens + extract(epoch FROM now_ts - updated_at) * p_rate) INTO have
    FROM wf_rate_buckets WHERE key = p_key FOR UPDATE;
    IF have >= 1 THEN
        UPDATE wf_rate_buckets SET tokens = have - 1, updated_at = now_ts WHERE key = p_key;
        RETURN 0;
    END IF;
    UPDATE wf_rate_buckets SET tokens = have, updated_at = now_ts WHERE key = p_key;
    RETURN (1 - have) / p_rate;
END $$;
