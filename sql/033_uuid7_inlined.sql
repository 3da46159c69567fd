-- 033_uuid7_inlined: wf_uuid7() is one SQL expression, which the planner
-- inlines into the statement that calls it.
--
-- Every execution's id comes from this default. As PL/pgSQL it cost each
-- id a call of the language handler and five statements of its own:
-- 23,700 instructions against 8,900 for gen_random_uuid() alone
-- (callgrind on a single-user server, 2,000 calls; docs/performance.md).
-- As a SQL function of one expression it costs 15,000.
--
-- The id is the same UUID version 7: the Unix time in milliseconds in the
-- first 48 bits, then the version (7), and the rest random from
-- gen_random_uuid() with the variant bits RFC 9562 gives. The 4 bits after
-- the version (the start of rand_a, which the RFC leaves to the
-- implementation) are now zero, which leaves 70 random bits per
-- millisecond where there were 74. The expression writes the time and
-- the version over the first seven bytes of a random UUID in one step.
CREATE OR REPLACE FUNCTION wf_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(overlay(uuid_send(gen_random_uuid())
                          PLACING substring(int8send((date_part('epoch', clock_timestamp()) * 1000)::bigint << 8 | 112)
                                            FROM 2)
                          FROM 1 FOR 7), 'hex')::uuid
$$;
