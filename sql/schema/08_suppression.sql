-- Suppressions, read from the state.
-----------------------------------------------------------------------------

-- A spam report or unsubscribe is the recipient's decision: it holds until the owner lifts
-- it. A bounce, block or drop holds unless a delivery occurred after it (at the same time,
-- the failure holds). A group unsubscribe holds for its group unless a resubscribe to it
-- occurred after it (at the same time, the unsubscribe holds). Ties keep the address unmailed.
-- The rules are written once, here; the view and is_suppressed apply them.
CREATE FUNCTION @extschema@.suppression_holding(decision @extschema@.timed_value, failure @extschema@.timed_value,
                                                delivered_at timestamptz, lifted_at timestamptz)
    RETURNS @extschema@.timed_value
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN @extschema@.timed_value_at(decision) OPERATOR(pg_catalog.>) COALESCE(lifted_at, '-infinity') THEN decision
    WHEN @extschema@.timed_value_at(failure) OPERATOR(pg_catalog.>=) COALESCE(delivered_at, '-infinity')
     AND @extschema@.timed_value_at(failure) OPERATOR(pg_catalog.>) COALESCE(lifted_at, '-infinity') THEN failure
    END;
COMMENT ON FUNCTION @extschema@.suppression_holding(@extschema@.timed_value, @extschema@.timed_value, timestamptz, timestamptz) IS
    'Of an address''s suppression state, what holds: its decision (spam report, unsubscribe) unless lifted, else its failure (bounce, block, drop) unless delivered to since or lifted; NULL when nothing holds';

CREATE FUNCTION @extschema@.group_unsubscribe_holds(unsubscribe @extschema@.timed_value, resubscribed_at timestamptz,
                                                    lifted_at timestamptz)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN @extschema@.timed_value_at(unsubscribe) OPERATOR(pg_catalog.>=) COALESCE(resubscribed_at, '-infinity')
   AND @extschema@.timed_value_at(unsubscribe) OPERATOR(pg_catalog.>) COALESCE(lifted_at, '-infinity');
COMMENT ON FUNCTION @extschema@.group_unsubscribe_holds(@extschema@.timed_value, timestamptz, timestamptz) IS
    'Whether a group unsubscribe holds: not resubscribed since, not lifted';

CREATE VIEW @extschema@.suppression AS
SELECT s.email, NULL::integer AS asm_group_id,
       @extschema@.timed_value_jsonb(c.chosen) OPERATOR(pg_catalog.->>) 'cause' AS cause,
       @extschema@.timed_value_jsonb(c.chosen) OPERATOR(pg_catalog.->>) 'reason' AS reason,
       @extschema@.timed_value_jsonb(c.chosen) OPERATOR(pg_catalog.->>) 'event_key' AS event_key,
       @extschema@.timed_value_at(c.chosen) AS suppressed_since
  FROM @extschema@.suppression_state s
 CROSS JOIN LATERAL (SELECT @extschema@.suppression_holding(s.decision, s.failure, s.delivered_at, s.lifted_at) AS chosen) c
 WHERE c.chosen IS NOT NULL
UNION ALL
SELECT g.email, g.asm_group_id, 'group_unsubscribe',
       @extschema@.timed_value_jsonb(g.unsubscribe) OPERATOR(pg_catalog.->>) 'reason',
       @extschema@.timed_value_jsonb(g.unsubscribe) OPERATOR(pg_catalog.->>) 'event_key',
       @extschema@.timed_value_at(g.unsubscribe)
  FROM @extschema@.group_suppression_state g
 WHERE @extschema@.group_unsubscribe_holds(g.unsubscribe, g.resubscribed_at, g.lifted_at);
COMMENT ON VIEW @extschema@.suppression IS
    'One row per address (asm_group_id NULL) or per address and unsubscribe group that should not be mailed, with the cause and the event that caused it';

CREATE FUNCTION @extschema@.is_suppressed(email text, asm_group_id integer DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    address text := mailstatus.normalize_email(is_suppressed.email);
BEGIN
    -- The state's rows of the address, by key (one shard on Citus), with the view's rules.
    RETURN EXISTS (SELECT 1 FROM mailstatus.suppression_state s
                    WHERE s.email OPERATOR(pg_catalog.=) address
                      AND mailstatus.suppression_holding(s.decision, s.failure, s.delivered_at, s.lifted_at) IS NOT NULL)
        OR (is_suppressed.asm_group_id IS NOT NULL
            AND EXISTS (SELECT 1 FROM mailstatus.group_suppression_state g
                         WHERE g.email OPERATOR(pg_catalog.=) address
                           AND g.asm_group_id OPERATOR(pg_catalog.=) is_suppressed.asm_group_id
                           AND mailstatus.group_unsubscribe_holds(g.unsubscribe, g.resubscribed_at, g.lifted_at)));
END $$;
COMMENT ON FUNCTION @extschema@.is_suppressed(text, integer) IS
    'For the CRM''s send path: whether an address (for an unsubscribe group, when given) should not be mailed';
REVOKE ALL ON FUNCTION @extschema@.is_suppressed(text, integer) FROM PUBLIC;

-- Before a send to many: the addresses of a list not to mail, with why and since when, in one
-- call. The list's distinct normalized addresses are looked up by key, one index probe each
-- (= ANY of the primary key; on Citus each address goes to its own shard only).
CREATE FUNCTION @extschema@.suppressed_among(emails text[], asm_group integer DEFAULT NULL)
    RETURNS TABLE (email text, asm_group_id integer, cause text, reason text, event_key text, suppressed_since timestamptz)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    addresses text[] := ARRAY(SELECT DISTINCT mailstatus.normalize_email(g.email)
                                FROM pg_catalog.unnest(suppressed_among.emails) AS g(email) WHERE g.email IS NOT NULL);
BEGIN
    RETURN QUERY
    WITH held AS (
        SELECT s.email, NULL::integer AS asm_group_id,
               mailstatus.suppression_holding(s.decision, s.failure, s.delivered_at, s.lifted_at) AS chosen
          FROM mailstatus.suppression_state s
         WHERE s.email OPERATOR(pg_catalog.=) ANY (addresses)
        UNION ALL
        SELECT g.email, g.asm_group_id, CASE WHEN mailstatus.group_unsubscribe_holds(g.unsubscribe, g.resubscribed_at, g.lifted_at)
                                             THEN g.unsubscribe END
          FROM mailstatus.group_suppression_state g
         WHERE g.email OPERATOR(pg_catalog.=) ANY (addresses)
           AND g.asm_group_id OPERATOR(pg_catalog.=) suppressed_among.asm_group
    )
    SELECT given.email, h.asm_group_id,
           CASE WHEN h.asm_group_id IS NULL THEN mailstatus.timed_value_jsonb(h.chosen) OPERATOR(pg_catalog.->>) 'cause'
                ELSE 'group_unsubscribe' END,
           mailstatus.timed_value_jsonb(h.chosen) OPERATOR(pg_catalog.->>) 'reason',
           mailstatus.timed_value_jsonb(h.chosen) OPERATOR(pg_catalog.->>) 'event_key',
           mailstatus.timed_value_at(h.chosen)
      FROM held h
      JOIN (SELECT DISTINCT g.email, mailstatus.normalize_email(g.email) AS address
              FROM pg_catalog.unnest(suppressed_among.emails) AS g(email) WHERE g.email IS NOT NULL) AS given
        ON given.address OPERATOR(pg_catalog.=) h.email
     WHERE h.chosen IS NOT NULL
     ORDER BY 1, 2 NULLS FIRST;
END $$;
COMMENT ON FUNCTION @extschema@.suppressed_among(text[], integer) IS
    'For the CRM''s send to many: the addresses of the list (as given) that should not be mailed, with the cause, reason, event and since when, as the suppression view has them (for the unsubscribe group asm_group too, when given); one call, one index probe per address';
REVOKE ALL ON FUNCTION @extschema@.suppressed_among(text[], integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.lift_suppression(email text, asm_group_id integer DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    address text := mailstatus.normalize_email(lift_suppression.email);
    lifted integer;
BEGIN
    -- The suppressions as they stand, with what has landed on this node (landing mode).
    PERFORM pg_catalog.pg_advisory_xact_lock(mailstatus.flush_lock_key(), 0);
    PERFORM mailstatus.flush_landed();
    IF lift_suppression.asm_group_id IS NULL THEN
        UPDATE mailstatus.suppression_state s
           SET lifted_at = GREATEST(s.lifted_at, mailstatus.timed_value_at(s.decision), mailstatus.timed_value_at(s.failure))
         WHERE s.email OPERATOR(pg_catalog.=) address;
    ELSE
        UPDATE mailstatus.group_suppression_state g
           SET lifted_at = GREATEST(g.lifted_at, mailstatus.timed_value_at(g.unsubscribe))
         WHERE g.email OPERATOR(pg_catalog.=) address
           AND g.asm_group_id OPERATOR(pg_catalog.=) lift_suppression.asm_group_id;
    END IF;
    GET DIAGNOSTICS lifted = ROW_COUNT;
    RETURN lifted OPERATOR(pg_catalog.>) 0;
END $$;
COMMENT ON FUNCTION @extschema@.lift_suppression(text, integer) IS
    'The owner lifts an address''s suppressions (for one unsubscribe group, when given) as they stand: a later event suppresses it again; returns whether the address had any';
REVOKE ALL ON FUNCTION @extschema@.lift_suppression(text, integer) FROM PUBLIC;

-----------------------------------------------------------------------------
