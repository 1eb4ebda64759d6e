-- mailstatus 0.2.0 -> 0.3.0: events partitioned by month (old months dropped in O(1), events
-- for a dropped month rejected with the reason), a message id that is never NULL ('' when
-- SendGrid named none: it is the distribution column on Citus), and deliverability per
-- category or custom-arg value.
\echo Use "ALTER EXTENSION mailstatus UPDATE TO '0.3.0'" to load this file. \quit

-- Everything that reads mailstatus.event is made again over the partitioned table, and the
-- SQL functions that Citus cannot plan become PL/pgSQL. What the script must give back at its
-- end is kept in settings of this transaction: the privileges granted on what it drops, and
-- whether status tracking was on.
SELECT pg_catalog.set_config('mailstatus_upgrade.grants', COALESCE(pg_catalog.string_agg(pg_catalog.format(
           'GRANT %s ON %s %s TO %s%s', a.privilege_type, a.kind, a.object,
           CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,
           CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), ';'), ''), true)
  FROM (SELECT 'TABLE' AS kind, 'mailstatus.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname) AS object, c.relowner AS owner, x.grantee, x.privilege_type, x.is_grantable
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x
         WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY['mailstatus.event', 'mailstatus.recipient_status', 'mailstatus.message_status',
                                                       'mailstatus.suppression', 'mailstatus.deliverability_daily']::regclass[])
        UNION ALL
        SELECT 'FUNCTION', pg_catalog.format('mailstatus.%I(%s)', p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)), p.proowner, x.grantee, x.privilege_type, x.is_grantable
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) x
         WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY['mailstatus.is_suppressed(text, integer)', 'mailstatus.recipient_status_for(jsonb)',
                                                       'mailstatus.record_send(text, text[], jsonb, timestamptz)',
                                                       'mailstatus.track_status(boolean)']::regprocedure[])) AS a
 WHERE a.grantee OPERATOR(pg_catalog.<>) a.owner;
SELECT pg_catalog.set_config('mailstatus_upgrade.track_status',
                             (t.tgenabled OPERATOR(pg_catalog.<>) 'D')::text, true)
  FROM pg_catalog.pg_trigger t
 WHERE t.tgrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
   AND t.tgname OPERATOR(pg_catalog.=) 'recipient_status_changed';
DROP FUNCTION @extschema@.is_suppressed(text, integer);
DROP VIEW @extschema@.suppression;
DROP VIEW @extschema@.deliverability_daily;
DROP FUNCTION @extschema@.recipient_status_for(jsonb);
DROP VIEW @extschema@.message_status;
DROP VIEW @extschema@.recipient_status;
DROP TRIGGER recipient_status_changed ON @extschema@.event;
DROP TRIGGER recipient_status_changed ON @extschema@.send;
DROP FUNCTION @extschema@.recipient_status_changed();
DROP FUNCTION @extschema@.track_status(boolean);
DROP FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz);

CREATE FUNCTION @extschema@.record_send(message_id text, emails text[], custom_args jsonb DEFAULT '{}',
                                        sent_at timestamptz DEFAULT pg_catalog.now())
    RETURNS integer
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recorded integer;
BEGIN
    -- Counted from RETURNING: on Citus the command's own count also holds the duplicates.
    WITH inserted AS (
        INSERT INTO mailstatus.send (message_id, email, custom_args, sent_at)
        SELECT record_send.message_id, mailstatus.normalize_email(e.email),
               COALESCE(record_send.custom_args, '{}'::jsonb), COALESCE(record_send.sent_at, pg_catalog.now())
          FROM pg_catalog.unnest(record_send.emails) AS e(email)
         WHERE e.email IS NOT NULL
        ON CONFLICT ON CONSTRAINT send_pkey DO NOTHING
        RETURNING 1)
    SELECT pg_catalog.count(*)::integer INTO recorded FROM inserted;
    RETURN recorded;
END $$;
COMMENT ON FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) IS
    'Records the CRM''s own send: these recipients show as sent until SendGrid''s events arrive; returns how many were new';
REVOKE ALL ON FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) FROM PUBLIC;

ALTER TABLE @extschema@.event RENAME TO event_before_0_3;

-----------------------------------------------------------------------------
-- Storage: one partition per month of occurred_at.
-----------------------------------------------------------------------------

CREATE TABLE @extschema@.event (
    event_key text COLLATE "C" NOT NULL,
    sg_event_id text,
    sg_message_id text,
    message_id text COLLATE "C" NOT NULL DEFAULT '',
    email text COLLATE "C" NOT NULL,
    event text NOT NULL,
    status @extschema@.mail_status,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    reason text,
    smtp_status text,
    response text,
    bounce_type text,
    bounce_classification text,
    url text,
    useragent text,
    ip text,
    machine_open boolean NOT NULL DEFAULT false,
    attempt integer,
    asm_group_id integer,
    category text[],
    custom_args jsonb NOT NULL DEFAULT '{}',
    payload jsonb NOT NULL
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE @extschema@.event IS
    'One row per distinct SendGrid event, never updated, partitioned by month of occurred_at (event_pYYYY_MM, and event_default for months without one): statuses are derived from these rows by the views';
COMMENT ON COLUMN @extschema@.event.event_key IS 'Dedup key: sg_event_id, or sha256: of the event''s content when SendGrid sent none';
COMMENT ON COLUMN @extschema@.event.message_id IS 'The X-Message-Id the CRM got back when it sent, taken from sg_message_id; '''' for async bounces without one';
COMMENT ON COLUMN @extschema@.event.email IS 'Recipient, trimmed and lowercased (normalize_email)';
COMMENT ON COLUMN @extschema@.event.event IS 'SendGrid''s event name, lowercased; unknown names are stored too';
COMMENT ON COLUMN @extschema@.event.status IS 'The status the event means; NULL for events that do not bear on delivery';
COMMENT ON COLUMN @extschema@.event.occurred_at IS 'SendGrid''s timestamp (seconds or milliseconds since 1970); the partition key';
COMMENT ON COLUMN @extschema@.event.received_at IS 'When mailstatus stored it (transaction start)';
COMMENT ON COLUMN @extschema@.event.smtp_status IS 'SendGrid''s "status" field: the SMTP status code';
COMMENT ON COLUMN @extschema@.event.bounce_type IS 'SendGrid''s "type": bounce or blocked';
COMMENT ON COLUMN @extschema@.event.machine_open IS 'sg_machine_open: an open made by a privacy proxy, not a person';
COMMENT ON COLUMN @extschema@.event.custom_args IS 'Every top-level key that is not SendGrid''s own: the CRM''s custom args';
COMMENT ON COLUMN @extschema@.event.payload IS 'The event exactly as received';

-- The retention window: set by drop_event_partitions, read by ingest, which rejects (into
-- rejected_event, with the reason) an event older than it instead of storing it in the
-- default partition. No row: every month is kept.
CREATE TABLE @extschema@.event_retention (
    single_row boolean PRIMARY KEY DEFAULT true CHECK (single_row),
    retained_since timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.event_retention IS
    'Events that occurred before retained_since are no longer kept: their months were dropped, and ingest rejects late arrivals for them';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.event_retention', '');

-- Partitions are made at run time, never by this script: the tables that hold the events are
-- then the user's (pg_dump dumps them, with their rows), and pg_partman can take them over.
-- Their keys and indexes are theirs too, not the parent's: pg_restore would otherwise meet
-- them twice (made by attaching a partition to the extension's table, then as dumped).
-- The primary key holds the partition key, and on Citus the distribution column: a re-posted
-- event is byte-identical, so it repeats all three. Ingest's ON CONFLICT DO NOTHING checks it.
CREATE FUNCTION @extschema@.add_event_partition_indexes(partition regclass)
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    table_name name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) partition);
BEGIN
    EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (event_key, message_id, occurred_at)',
                              partition, table_name OPERATOR(pg_catalog.||) '_pkey');
    EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (message_id, email)', table_name OPERATOR(pg_catalog.||) '_message_id_email_idx', partition);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (email)', table_name OPERATOR(pg_catalog.||) '_email_idx', partition);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON %s USING gin (custom_args jsonb_path_ops)', table_name OPERATOR(pg_catalog.||) '_custom_args_idx', partition);
END $$;
COMMENT ON FUNCTION @extschema@.add_event_partition_indexes(regclass) IS
    'Gives a partition of mailstatus.event (or a table to become one) its primary key (event_key, message_id, occurred_at) and indexes';
REVOKE ALL ON FUNCTION @extschema@.add_event_partition_indexes(regclass) FROM PUBLIC;

-- The rows of a 0.2.0 table go to a default partition, made here and given to the user.
DO $$
BEGIN
    IF EXISTS (SELECT FROM mailstatus.event_before_0_3) THEN
        CREATE TABLE mailstatus.event_default PARTITION OF mailstatus.event DEFAULT;
        ALTER EXTENSION mailstatus DROP TABLE mailstatus.event_default;
        PERFORM mailstatus.add_event_partition_indexes('mailstatus.event_default');
        INSERT INTO mailstatus.event
        SELECT event_key, sg_event_id, sg_message_id, COALESCE(message_id, ''), email, event, status,
               occurred_at, received_at, reason, smtp_status, response, bounce_type,
               bounce_classification, url, useragent, ip, machine_open, attempt, asm_group_id,
               category, custom_args, payload
          FROM mailstatus.event_before_0_3;
    END IF;
END $$;
DROP TABLE @extschema@.event_before_0_3;

CREATE FUNCTION @extschema@.event_partition_name(occurred_at timestamptz)
    RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'event_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY_MM');
COMMENT ON FUNCTION @extschema@.event_partition_name(timestamptz) IS
    'Name of the partition of mailstatus.event that holds the UTC month of a time (pg_partman''s monthly naming)';

-- Months are UTC months (the functions below run in UTC, whatever the session's time zone).
CREATE FUNCTION @extschema@.create_event_partitions(months_ahead integer DEFAULT 3)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    month_start timestamptz;
    partition_name text;
    default_partition regclass;
    created integer := 0;
BEGIN
    IF months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'months_ahead must lie between 0 and 120, not %', months_ahead
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM mailstatus.ensure_event_default_partition();
    -- Lock out ingest while rows move out of the default partition.
    LOCK TABLE mailstatus.event IN SHARE ROW EXCLUSIVE MODE;
    SELECT p.partdefid::regclass INTO default_partition
      FROM pg_catalog.pg_partitioned_table p WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass;
    FOR month_start IN EXECUTE pg_catalog.format(
            'SELECT m FROM pg_catalog.generate_series($1, $2, ''1 month''::interval) AS m '
            'UNION SELECT pg_catalog.date_trunc(''month'', d.occurred_at, ''UTC'') FROM %s d ORDER BY 1',
            default_partition)
        USING pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC'),
              pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC') OPERATOR(pg_catalog.+) pg_catalog.make_interval(months => months_ahead)
    LOOP
        partition_name := mailstatus.event_partition_name(month_start);
        CONTINUE WHEN pg_catalog.to_regclass(pg_catalog.format('mailstatus.%I', partition_name)) IS NOT NULL;
        -- Made outside the table, filled from the default partition, then attached: a
        -- partition cannot be made over rows the default partition holds for it.
        EXECUTE pg_catalog.format('CREATE TABLE mailstatus.%I (LIKE mailstatus.event INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', partition_name);
        EXECUTE pg_catalog.format(
            'WITH moved AS (DELETE FROM %s WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *) '
            'INSERT INTO mailstatus.%I SELECT * FROM moved', default_partition, partition_name)
            USING month_start, month_start OPERATOR(pg_catalog.+) '1 month'::interval;
        PERFORM mailstatus.add_event_partition_indexes(pg_catalog.format('mailstatus.%I', partition_name)::regclass);
        EXECUTE pg_catalog.format('ALTER TABLE mailstatus.event ATTACH PARTITION mailstatus.%I FOR VALUES FROM (%L) TO (%L)',
                                  partition_name, month_start, month_start OPERATOR(pg_catalog.+) '1 month'::interval);
        created := created OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN created;
END $$;
COMMENT ON FUNCTION @extschema@.create_event_partitions(integer) IS
    'Makes the monthly partitions of mailstatus.event from this month to months_ahead months ahead, and for every month the default partition holds rows of (moving them); returns how many it made';
REVOKE ALL ON FUNCTION @extschema@.create_event_partitions(integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.ensure_event_default_partition()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                  AND p.partdefid OPERATOR(pg_catalog.<>) 0) THEN
        RETURN false;
    END IF;
    LOCK TABLE mailstatus.event IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                  AND p.partdefid OPERATOR(pg_catalog.<>) 0) THEN
        RETURN false;
    END IF;
    CREATE TABLE mailstatus.event_default PARTITION OF mailstatus.event DEFAULT;
    PERFORM mailstatus.add_event_partition_indexes('mailstatus.event_default');
    RETURN true;
END $$;
COMMENT ON FUNCTION @extschema@.ensure_event_default_partition() IS
    'Makes mailstatus.event_default, the partition of events no monthly partition takes, unless the table has a default partition; ingest calls it so that no event ever lacks a partition';
REVOKE ALL ON FUNCTION @extschema@.ensure_event_default_partition() FROM PUBLIC;

CREATE FUNCTION @extschema@.drop_event_partitions(older_than timestamptz)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    boundary timestamptz := pg_catalog.date_trunc('month', older_than, 'UTC');
    old_partition record;
    dropped integer := 0;
BEGIN
    IF boundary OPERATOR(pg_catalog.>) pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC') THEN
        RAISE EXCEPTION 'cannot drop the events of the current month or later'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'older_than must lie in a month before the current one.';
    END IF;
    -- From now on ingest rejects late events for the dropped months. Ingest reads the window
    -- FOR SHARE: this waits for the batches under way, and later ones wait for this one.
    LOCK TABLE mailstatus.event_retention IN EXCLUSIVE MODE;
    INSERT INTO mailstatus.event_retention AS r (retained_since) VALUES (boundary)
    ON CONFLICT (single_row) DO UPDATE SET retained_since = GREATEST(r.retained_since, excluded.retained_since);
    -- Monthly partitions (ours, pg_partman's or hand-made) whose upper bound, read from their
    -- bound expression "FOR VALUES FROM ('...') TO ('...')", is at most the boundary.
    FOR old_partition IN
        SELECT c.oid::regclass AS name
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
         WHERE i.inhparent OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
           AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) OPERATOR(pg_catalog.<>) 'DEFAULT'
           AND (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                        'TO \(''([^'']+)''\)'))[1]::timestamptz OPERATOR(pg_catalog.<=) boundary
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('DROP TABLE %s', old_partition.name);
        dropped := dropped OPERATOR(pg_catalog.+) 1;
    END LOOP;
    -- What is left before the boundary lies in the default partition (the others are pruned).
    DELETE FROM mailstatus.event WHERE occurred_at OPERATOR(pg_catalog.<) boundary;
    RETURN dropped;
END $$;
COMMENT ON FUNCTION @extschema@.drop_event_partitions(timestamptz) IS
    'Retention: drops the monthly partitions of mailstatus.event wholly before the month of older_than (and such rows of the default partition), and makes ingest reject late events for them; returns how many partitions it dropped';
REVOKE ALL ON FUNCTION @extschema@.drop_event_partitions(timestamptz) FROM PUBLIC;

-----------------------------------------------------------------------------
-- Status views, over the partitioned table.
-----------------------------------------------------------------------------

CREATE VIEW @extschema@.recipient_status AS
SELECT f.message_id,
       f.email,
       @extschema@.mail_status_agg(f.status) AS status,
       @extschema@.mail_status_label(@extschema@.mail_status_agg(f.status)) AS status_label,
       @extschema@.mail_status_reached_at(f.status, f.occurred_at) AS status_at,
       pg_catalog.min(f.occurred_at) AS first_event_at,
       pg_catalog.max(f.occurred_at) AS last_event_at,
       pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'open' AND NOT f.machine_open) AS opens,
       pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'open' AND f.machine_open) AS machine_opens,
       pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'click') AS clicks,
       @extschema@.latest_value(f.reason, f.occurred_at) FILTER (WHERE f.failed) AS reason,
       @extschema@.latest_value(f.smtp_status, f.occurred_at) FILTER (WHERE f.failed) AS smtp_status,
       @extschema@.latest_value(f.bounce_classification, f.occurred_at) FILTER (WHERE f.failed) AS bounce_classification,
       @extschema@.latest_value(f.custom_args, f.occurred_at) FILTER (WHERE f.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb) AS custom_args
  FROM (SELECT e.message_id, e.email,
               @extschema@.effective_status(e.status, e.machine_open) AS status,
               e.occurred_at, e.event, e.machine_open,
               e.event OPERATOR(pg_catalog.=) ANY ('{bounce,dropped}'::text[]) AS failed,
               e.reason, e.smtp_status, e.bounce_classification, e.custom_args
          FROM @extschema@.event e
        UNION ALL
        SELECT s.message_id, s.email, 'sent'::@extschema@.mail_status,
               s.sent_at, NULL::text, false, false,
               NULL::text, NULL::text, NULL::text, s.custom_args
          FROM @extschema@.send s) AS f
 GROUP BY f.message_id, f.email;
COMMENT ON VIEW @extschema@.recipient_status IS
    'One row per (message_id, email): the status the CRM shows, derived from every event and the CRM''s send; message_id '''' gathers an address''s events that named no message';

CREATE VIEW @extschema@.message_status AS
SELECT r.message_id,
       pg_catalog.count(*)::integer AS recipients,
       @extschema@.mail_status_agg(r.status) AS status,
       @extschema@.mail_status_label(@extschema@.mail_status_agg(r.status)) AS status_label,
       pg_catalog.min(r.first_event_at) AS first_event_at,
       pg_catalog.max(r.last_event_at) AS last_event_at,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'sent')::integer AS sent,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'deferred')::integer AS deferred,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'delivered')::integer AS delivered,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'opened')::integer AS opened,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'clicked')::integer AS clicked,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'unsubscribed')::integer AS unsubscribed,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'spam_report')::integer AS spam_report,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'bounced')::integer AS bounced,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'dropped')::integer AS dropped,
       pg_catalog.count(*) FILTER (WHERE r.status IS NULL)::integer AS unknown
  FROM @extschema@.recipient_status r
 WHERE r.message_id OPERATOR(pg_catalog.<>) ''
 GROUP BY r.message_id;
COMMENT ON VIEW @extschema@.message_status IS
    'One row per X-Message-Id: its recipients, the overall status (highest precedence among them) and how many recipients are at each status';

CREATE FUNCTION @extschema@.recipient_status_for(custom_args jsonb)
    RETURNS SETOF @extschema@.recipient_status
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages text[];
BEGIN
    -- The message ids are gathered first, so the view is read by index for those messages
    -- only, not aggregated whole.
    messages := ARRAY(SELECT e.message_id FROM mailstatus.event e
                       WHERE e.custom_args OPERATOR(pg_catalog.@>) recipient_status_for.custom_args
                         AND e.message_id OPERATOR(pg_catalog.<>) ''
                      UNION
                      SELECT s.message_id FROM mailstatus.send s
                       WHERE s.custom_args OPERATOR(pg_catalog.@>) recipient_status_for.custom_args);
    RETURN QUERY
        SELECT r.* FROM mailstatus.recipient_status r
         WHERE r.message_id OPERATOR(pg_catalog.=) ANY (messages)
         ORDER BY r.message_id, r.email;
END $$;
COMMENT ON FUNCTION @extschema@.recipient_status_for(jsonb) IS
    'Statuses of every recipient of the messages whose custom args contain the given ones: one CRM record''s emails';
REVOKE ALL ON FUNCTION @extschema@.recipient_status_for(jsonb) FROM PUBLIC;

-----------------------------------------------------------------------------
-- Status changes, pushed.
-----------------------------------------------------------------------------

UPDATE @extschema@.recipient_status_current SET message_id = '' WHERE message_id IS NULL;
DROP INDEX @extschema@.recipient_status_current_key;
ALTER TABLE @extschema@.recipient_status_current
    ALTER COLUMN message_id SET DEFAULT '',
    ALTER COLUMN message_id SET NOT NULL,
    ADD CONSTRAINT recipient_status_current_pkey PRIMARY KEY (message_id, email);

CREATE FUNCTION @extschema@.recipient_status_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    touched_messages text[];
    touched_unnamed_emails text[];
    change record;
BEGIN
    -- Only the messages of this statement's rows are recomputed; events that named no message
    -- (message_id '') are recomputed per address, never as one group.
    SELECT pg_catalog.array_agg(DISTINCT t.message_id) FILTER (WHERE t.message_id OPERATOR(pg_catalog.<>) ''),
           pg_catalog.array_agg(DISTINCT t.email) FILTER (WHERE t.message_id OPERATOR(pg_catalog.=) '')
      INTO touched_messages, touched_unnamed_emails
      FROM touched_rows t;
    FOR change IN
        WITH fresh AS (
            SELECT r.* FROM mailstatus.recipient_status r
             WHERE r.message_id OPERATOR(pg_catalog.=) ANY (touched_messages)
            UNION ALL
            SELECT r.* FROM mailstatus.recipient_status r
             WHERE r.message_id OPERATOR(pg_catalog.=) ''
               AND r.email OPERATOR(pg_catalog.=) ANY (touched_unnamed_emails)
        )
        SELECT f.*, c.status AS old_status,
               (c.email IS NULL OR c.status::text IS DISTINCT FROM f.status::text) AS status_changed,
               (c.email IS NULL OR c::text IS DISTINCT FROM f::text) AS row_changed
          FROM fresh f
          LEFT JOIN mailstatus.recipient_status_current c
            ON c.message_id OPERATOR(pg_catalog.=) f.message_id
           AND c.email OPERATOR(pg_catalog.=) f.email
    LOOP
        CONTINUE WHEN NOT change.row_changed;
        INSERT INTO mailstatus.recipient_status_current
        VALUES (change.message_id, change.email, change.status, change.status_label, change.status_at,
                change.first_event_at, change.last_event_at, change.opens, change.machine_opens, change.clicks,
                change.reason, change.smtp_status, change.bounce_classification, change.custom_args)
        ON CONFLICT (message_id, email) DO UPDATE
           SET status = excluded.status, status_label = excluded.status_label, status_at = excluded.status_at,
               first_event_at = excluded.first_event_at, last_event_at = excluded.last_event_at,
               opens = excluded.opens, machine_opens = excluded.machine_opens, clicks = excluded.clicks,
               reason = excluded.reason, smtp_status = excluded.smtp_status,
               bounce_classification = excluded.bounce_classification, custom_args = excluded.custom_args;
        IF change.status_changed THEN
            PERFORM pg_catalog.pg_notify('mailstatus_status_changed', pg_catalog.json_build_object(
                'message_id', change.message_id, 'email', change.email,
                'old_status', change.old_status, 'new_status', change.status,
                'status_at', change.status_at, 'custom_args', change.custom_args)::text);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.recipient_status_changed() IS
    'Statement trigger: recomputes the recipients an insert touched, updates recipient_status_current and notifies mailstatus_status_changed of each status change';
REVOKE ALL ON FUNCTION @extschema@.recipient_status_changed() FROM PUBLIC;

CREATE TRIGGER recipient_status_changed AFTER INSERT ON @extschema@.event
    REFERENCING NEW TABLE AS touched_rows FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@.recipient_status_changed();
CREATE TRIGGER recipient_status_changed AFTER INSERT ON @extschema@.send
    REFERENCING NEW TABLE AS touched_rows FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@.recipient_status_changed();
ALTER TABLE @extschema@.event DISABLE TRIGGER recipient_status_changed;
ALTER TABLE @extschema@.send DISABLE TRIGGER recipient_status_changed;

CREATE FUNCTION @extschema@.track_status(enabled boolean) RETURNS bigint STRICT
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    filled bigint := 0;
    distributed boolean := false;
BEGIN
    -- On Citus the trigger would fire on each shard, where it cannot read the status view.
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) ''mailstatus.event''::regclass)'
           INTO distributed;
    END IF;
    IF enabled AND distributed THEN
        RAISE EXCEPTION 'status tracking needs mailstatus.event on one server, and it is distributed by Citus'
              USING ERRCODE = 'feature_not_supported',
                    HINT = 'Read mailstatus.recipient_status, which Citus runs on the node of each message.';
    END IF;
    IF enabled THEN
        TRUNCATE mailstatus.recipient_status_current;
        INSERT INTO mailstatus.recipient_status_current SELECT * FROM mailstatus.recipient_status;
        GET DIAGNOSTICS filled = ROW_COUNT;
        ALTER TABLE mailstatus.event ENABLE TRIGGER recipient_status_changed;
        ALTER TABLE mailstatus.send ENABLE TRIGGER recipient_status_changed;
    ELSE
        ALTER TABLE mailstatus.event DISABLE TRIGGER recipient_status_changed;
        ALTER TABLE mailstatus.send DISABLE TRIGGER recipient_status_changed;
        TRUNCATE mailstatus.recipient_status_current;
    END IF;
    RETURN filled;
END $$;
COMMENT ON FUNCTION @extschema@.track_status(boolean) IS
    'Turns recipient_status_current and its notifications on (filling the table from recipient_status; returns its rows) or off';
REVOKE ALL ON FUNCTION @extschema@.track_status(boolean) FROM PUBLIC;

-- Tracking that was on stays on, with the table refilled from the converted events.
DO $$
BEGIN
    IF pg_catalog.current_setting('mailstatus_upgrade.track_status', true) OPERATOR(pg_catalog.=) 'true' THEN
        PERFORM mailstatus.track_status(true);
    END IF;
END $$;

-----------------------------------------------------------------------------
-- Suppressions.
-----------------------------------------------------------------------------

-- One aggregation per address (and per address and group), with combinable aggregates, not
-- anti-joins: on Citus it runs as partial aggregates on the workers, although one address'
-- events lie on many nodes. The latest event of each kind is taken whole (one jsonb), so its
-- cause, reason and key come from the same event.
CREATE VIEW @extschema@.suppression AS
SELECT a.email, NULL::integer AS asm_group_id,
       s.chosen OPERATOR(pg_catalog.->>) 'cause' AS cause,
       s.chosen OPERATOR(pg_catalog.->>) 'reason' AS reason,
       s.chosen OPERATOR(pg_catalog.->>) 'event_key' AS event_key,
       (s.chosen OPERATOR(pg_catalog.->>) 'occurred_at')::timestamptz AS suppressed_since
  FROM (SELECT e.email,
               -- Spam reports and unsubscribes are the recipient's decision: they stay.
               @extschema@.latest_value(pg_catalog.jsonb_build_object(
                   'cause', e.event, 'reason', e.reason, 'event_key', e.event_key, 'occurred_at', e.occurred_at), e.occurred_at)
                   FILTER (WHERE e.event OPERATOR(pg_catalog.=) ANY ('{spamreport,unsubscribe}'::text[])) AS decision,
               -- Bounces, blocks and drops hold until a delivery that occurred later.
               @extschema@.latest_value(pg_catalog.jsonb_build_object(
                   'cause', CASE WHEN e.bounce_type OPERATOR(pg_catalog.=) 'blocked' THEN 'blocked' ELSE e.event END,
                   'reason', e.reason, 'event_key', e.event_key, 'occurred_at', e.occurred_at), e.occurred_at)
                   FILTER (WHERE e.event OPERATOR(pg_catalog.=) ANY ('{bounce,dropped}'::text[])) AS failure,
               pg_catalog.max(e.occurred_at) FILTER (WHERE e.event OPERATOR(pg_catalog.=) ANY ('{bounce,dropped}'::text[])) AS failed_at,
               pg_catalog.max(e.occurred_at) FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'delivered') AS delivered_at
          FROM @extschema@.event e
         WHERE e.event OPERATOR(pg_catalog.=) ANY ('{spamreport,unsubscribe,bounce,dropped,delivered}'::text[])
         GROUP BY e.email) AS a
  CROSS JOIN LATERAL (SELECT CASE WHEN a.decision IS NOT NULL THEN a.decision
                                  WHEN a.failed_at OPERATOR(pg_catalog.>=) COALESCE(a.delivered_at, '-infinity') THEN a.failure
                             END AS chosen) AS s
 WHERE s.chosen IS NOT NULL
UNION ALL
SELECT g.email, g.asm_group_id, 'group_unsubscribe',
       g.unsubscribe OPERATOR(pg_catalog.->>) 'reason',
       g.unsubscribe OPERATOR(pg_catalog.->>) 'event_key',
       g.unsubscribed_at
  FROM (SELECT e.email, e.asm_group_id,
               @extschema@.latest_value(pg_catalog.jsonb_build_object('reason', e.reason, 'event_key', e.event_key), e.occurred_at)
                   FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'group_unsubscribe') AS unsubscribe,
               pg_catalog.max(e.occurred_at) FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'group_unsubscribe') AS unsubscribed_at,
               pg_catalog.max(e.occurred_at) FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'group_resubscribe') AS resubscribed_at
          FROM @extschema@.event e
         WHERE e.event OPERATOR(pg_catalog.=) ANY ('{group_unsubscribe,group_resubscribe}'::text[])
           AND e.asm_group_id IS NOT NULL
         GROUP BY e.email, e.asm_group_id) AS g
 WHERE g.unsubscribed_at OPERATOR(pg_catalog.>) COALESCE(g.resubscribed_at, '-infinity');
COMMENT ON VIEW @extschema@.suppression IS
    'One row per address (asm_group_id NULL) or per address and unsubscribe group that should not be mailed, with the cause and the event that caused it';

-- PL/pgSQL, not SQL, here and below: Citus cannot plan a SQL function's parameterized query
-- over distributed tables.
CREATE FUNCTION @extschema@.is_suppressed(email text, asm_group_id integer DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM mailstatus.suppression s
                    WHERE s.email OPERATOR(pg_catalog.=) mailstatus.normalize_email(is_suppressed.email)
                      AND (s.asm_group_id IS NULL OR s.asm_group_id OPERATOR(pg_catalog.=) is_suppressed.asm_group_id));
END $$;
COMMENT ON FUNCTION @extschema@.is_suppressed(text, integer) IS
    'For the CRM''s send path: whether an address (for an unsubscribe group, when given) should not be mailed';
REVOKE ALL ON FUNCTION @extschema@.is_suppressed(text, integer) FROM PUBLIC;

-----------------------------------------------------------------------------
-- Deliverability.
-----------------------------------------------------------------------------

-- One hash aggregation of the events into recipient-days, then one of those into days and
-- values; no sort of the table. The recipient-day's categories and custom args are those of
-- its latest event that carries any (SendGrid repeats them on every event of a message).
-- The query is made with the arguments as constants: the time bounds prune partitions and
-- the dimensions not asked for are planned away (and Citus can plan it).
CREATE FUNCTION @extschema@.deliverability_daily_by_query(dimension text, since timestamptz, until timestamptz)
    RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN pg_catalog.format('
    SELECT r.day, r.value,
           pg_catalog.count(*) FILTER (WHERE r.processed),
           pg_catalog.count(*) FILTER (WHERE r.delivered),
           pg_catalog.count(*) FILTER (WHERE r.bounced),
           pg_catalog.count(*) FILTER (WHERE r.blocked),
           pg_catalog.count(*) FILTER (WHERE r.dropped),
           pg_catalog.count(*) FILTER (WHERE r.deferred),
           pg_catalog.count(*) FILTER (WHERE r.spam_reported),
           pg_catalog.count(*) FILTER (WHERE r.opened_by_human),
           pg_catalog.sum(r.machine_opens)::bigint,
           pg_catalog.sum(r.clicks)::bigint,
           pg_catalog.round((pg_catalog.count(*) FILTER (WHERE r.bounced OR r.blocked))::numeric
                            OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE r.processed), 0), 4),
           pg_catalog.round((pg_catalog.count(*) FILTER (WHERE r.spam_reported))::numeric
                            OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE r.delivered), 0), 4),
           pg_catalog.round((pg_catalog.count(*) FILTER (WHERE r.delivered))::numeric
                            OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE r.processed), 0), 4)
      FROM (SELECT d.*,
                   pg_catalog.unnest(CASE
                       WHEN %1$L::text IS NULL THEN ARRAY[NULL::text]
                       WHEN %1$L::text OPERATOR(pg_catalog.=) ''category'' THEN
                            COALESCE(NULLIF(ARRAY(SELECT pg_catalog.jsonb_array_elements_text(d.categories)), ''{}''), ARRAY[NULL::text])
                       ELSE ARRAY[d.custom_args OPERATOR(pg_catalog.->>) %1$L::text] END) AS value
              FROM (SELECT (e.occurred_at AT TIME ZONE ''UTC'')::date AS day, e.message_id, e.email,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''processed'') AS processed,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''delivered'') AS delivered,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''bounce'' AND e.bounce_type IS DISTINCT FROM ''blocked'') AS bounced,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''bounce'' AND e.bounce_type OPERATOR(pg_catalog.=) ''blocked'') AS blocked,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''dropped'') AS dropped,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''deferred'') AS deferred,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''spamreport'') AS spam_reported,
                           pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) ''open'' AND NOT e.machine_open) AS opened_by_human,
                           pg_catalog.count(*) FILTER (WHERE e.event OPERATOR(pg_catalog.=) ''open'' AND e.machine_open) AS machine_opens,
                           pg_catalog.count(*) FILTER (WHERE e.event OPERATOR(pg_catalog.=) ''click'') AS clicks,
                           mailstatus.latest_value(pg_catalog.to_jsonb(e.category), e.occurred_at)
                               FILTER (WHERE e.category IS NOT NULL) AS categories,
                           mailstatus.latest_value(e.custom_args, e.occurred_at)
                               FILTER (WHERE e.custom_args OPERATOR(pg_catalog.<>) ''{}''::jsonb) AS custom_args
                      FROM mailstatus.event e
                     WHERE %2$s AND %3$s
                     GROUP BY 1, 2, 3) AS d) AS r
     GROUP BY r.day, r.value', dimension,
        CASE WHEN since IS NULL THEN 'true' ELSE pg_catalog.format('e.occurred_at OPERATOR(pg_catalog.>=) %L::timestamptz', since) END,
        CASE WHEN until IS NULL THEN 'true' ELSE pg_catalog.format('e.occurred_at OPERATOR(pg_catalog.<) %L::timestamptz', until) END);
END $$;
COMMENT ON FUNCTION @extschema@.deliverability_daily_by_query(text, timestamptz, timestamptz) IS
    'The query deliverability_daily_by runs for these arguments (to EXPLAIN it)';

CREATE FUNCTION @extschema@.deliverability_daily_by(dimension text,
                                                    since timestamptz DEFAULT NULL,
                                                    until timestamptz DEFAULT NULL)
    RETURNS TABLE (day date, value text, sent bigint, delivered bigint, bounced bigint, blocked bigint,
                   dropped bigint, deferred bigint, spam_reports bigint, unique_human_opens bigint,
                   machine_opens bigint, clicks bigint, bounce_rate numeric, spam_report_rate numeric,
                   delivery_rate numeric)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY EXECUTE mailstatus.deliverability_daily_by_query(dimension, since, until);
END $$;
-- Like the views, it reads the events with the owner's rights: whom to show the figures to
-- is granted on it (and on the deliverability_daily view, which calls it).
REVOKE ALL ON FUNCTION @extschema@.deliverability_daily_by(text, timestamptz, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.deliverability_daily_by(text, timestamptz, timestamptz) IS
    'Deliverability per UTC day and value of a dimension: ''category'' (a recipient counts under each of its categories) or the name of a custom arg; NULL for the whole day. Only events from since (inclusive) to until (exclusive) when given: the other months'' partitions are not read';

CREATE VIEW @extschema@.deliverability_daily AS
SELECT d.day, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
       d.unique_human_opens, d.machine_opens, d.clicks, d.bounce_rate, d.spam_report_rate, d.delivery_rate
  FROM @extschema@.deliverability_daily_by(NULL) AS d;
COMMENT ON VIEW @extschema@.deliverability_daily IS
    'Per UTC day: recipients sent, delivered, bounced, blocked, dropped, deferred, spam reports, unique human opens, machine opens, clicks, and the bounce, spam-report and delivery rates';

-----------------------------------------------------------------------------
-- Scale-out on Citus.
-----------------------------------------------------------------------------

-- Where each table goes on a Citus cluster: the event tables by message_id, co-located, so
-- one message's events, send rows and current status live on one node and the status views
-- aggregate on the workers; the small tables everywhere. README's recipe distributes the
-- tables from this view, and the citus_rules test checks the schema against it.
CREATE VIEW @extschema@.citus_layout AS
SELECT l.step, l.table_name, l.placement, l.distribution_column, l.colocate_with
  FROM (VALUES
        (1, 'mailstatus.event'::regclass, 'distributed', 'message_id'::name, NULL::regclass),
        (2, 'mailstatus.send'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (3, 'mailstatus.recipient_status_current'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (4, 'mailstatus.rejected_event'::regclass, 'reference', NULL::name, NULL::regclass),
        (5, 'mailstatus.webhook_key'::regclass, 'reference', NULL::name, NULL::regclass),
        (6, 'mailstatus.event_retention'::regclass, 'reference', NULL::name, NULL::regclass))
       AS l(step, table_name, placement, distribution_column, colocate_with);
COMMENT ON VIEW @extschema@.citus_layout IS
    'How to place each mailstatus table on Citus, in order: distributed by message_id and co-located, or a reference table';

-- The privileges granted on what this script dropped, given back; who could read
-- deliverability_daily may call the function it now reads through.
DO $$
DECLARE
    grant_statement text;
BEGIN
    FOREACH grant_statement IN ARRAY pg_catalog.string_to_array(pg_catalog.current_setting('mailstatus_upgrade.grants'), ';') LOOP
        EXECUTE grant_statement;
        IF grant_statement LIKE 'GRANT SELECT ON TABLE mailstatus.deliverability_daily TO %' THEN
            EXECUTE pg_catalog.replace(grant_statement, 'SELECT ON TABLE mailstatus.deliverability_daily',
                                       'EXECUTE ON FUNCTION mailstatus.deliverability_daily_by(text, timestamptz, timestamptz)');
        END IF;
    END LOOP;
END $$;
