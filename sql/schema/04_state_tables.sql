-- State: the aggregates' partial states, merged at ingest with their combine functions.
-----------------------------------------------------------------------------

-- One row per recipient of a message: every figure recipient_status shows, as partial
-- states. Ingest and record_send merge each statement's partial states into it
-- (merge_recipients), so arrival order, retries and concurrent batches give the same row,
-- and dropping old events changes nothing. The last four columns say what the latest
-- merge changed: the maintained counters and the status-change log are made from them.
CREATE TABLE @extschema@.recipient (
    message_id text COLLATE "C" NOT NULL,
    email text COLLATE "C" NOT NULL,
    reached bigint NOT NULL,
    reached_human bigint NOT NULL,
    first_event_at timestamptz NOT NULL,
    last_event_at timestamptz NOT NULL,
    opens integer NOT NULL,
    machine_opens integer NOT NULL,
    clicks integer NOT NULL,
    reason @extschema@.timed_value,
    smtp_status @extschema@.timed_value,
    bounce_classification @extschema@.timed_value,
    custom_args @extschema@.timed_value,
    categories text[],
    activity @extschema@.activity,
    status_before @extschema@.mail_status,
    human_status_before @extschema@.mail_status,
    activity_added @extschema@.activity,
    categories_added text[],
    custom_args_changed boolean,
    CONSTRAINT recipient_pkey PRIMARY KEY (message_id, email)
) WITH (fillfactor = 70);
CREATE INDEX recipient_email_idx ON @extschema@.recipient (email);
COMMENT ON TABLE @extschema@.recipient IS
    'Per recipient of a message, the partial states of every aggregate recipient_status shows, merged at ingest with the aggregates'' combine functions';
COMMENT ON COLUMN @extschema@.recipient.reached IS 'status_reached_state of its events and send, machine opens counted as opens';
COMMENT ON COLUMN @extschema@.recipient.reached_human IS 'status_reached_state of its events and send, machine opens left out (the default)';
COMMENT ON COLUMN @extschema@.recipient.reason IS 'latest_timed_value of the reasons of its bounces and drops';
COMMENT ON COLUMN @extschema@.recipient.custom_args IS 'latest_timed_value of the custom args of its events and send';
COMMENT ON COLUMN @extschema@.recipient.categories IS 'category_set of its events';
COMMENT ON COLUMN @extschema@.recipient.activity IS 'activity_state of its events and sends (a send as processed): what deliverability_daily counts, through activity_figures';
COMMENT ON COLUMN @extschema@.recipient.status_before IS 'The status (machine opens counted) before the latest merge';
COMMENT ON COLUMN @extschema@.recipient.human_status_before IS 'The status (machine opens left out) before the latest merge';
COMMENT ON COLUMN @extschema@.recipient.activity_added IS 'What the latest merge added to activity; NULL after the recipient''s first (where all of activity is new)';
COMMENT ON COLUMN @extschema@.recipient.categories_added IS 'What the latest merge added to categories; NULL after the recipient''s first (where all of categories are new)';
COMMENT ON COLUMN @extschema@.recipient.custom_args_changed IS 'Whether the latest merge changed the value of custom_args; NULL after the recipient''s first';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.recipient', '');

-- The custom args each recipient was sent or reported with, once per distinct value: how
-- recipient_status_for finds one CRM record's messages. Kept per recipient, not per message,
-- so forget_recipients forgets exactly what the recipients it forgets brought (email comes
-- last: the 0.4.0 table, per message, gained it).
CREATE TABLE @extschema@.recipient_custom_args (
    message_id text COLLATE "C" NOT NULL,
    args_hash bigint NOT NULL,
    custom_args jsonb NOT NULL,
    email text COLLATE "C" NOT NULL,
    CONSTRAINT recipient_custom_args_pkey PRIMARY KEY (message_id, email, args_hash)
);
CREATE INDEX recipient_custom_args_idx ON @extschema@.recipient_custom_args USING gin (custom_args jsonb_path_ops);
COMMENT ON TABLE @extschema@.recipient_custom_args IS
    'Each distinct set of custom args a recipient''s events or sends carried (args_hash is jsonb_hash_extended(custom_args, 0))';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.recipient_custom_args', '');

-- Per address: why not to mail it. Merged at ingest like recipient, by event time.
CREATE TABLE @extschema@.suppression_state (
    email text COLLATE "C" NOT NULL,
    decision @extschema@.timed_value,
    failure @extschema@.timed_value,
    delivered_at timestamptz,
    lifted_at timestamptz,
    CONSTRAINT suppression_state_pkey PRIMARY KEY (email)
) WITH (fillfactor = 70);
COMMENT ON TABLE @extschema@.suppression_state IS
    'Per address, the partial states the suppression view reads: its latest spam report or unsubscribe, its latest bounce, block or drop, its latest delivery';
COMMENT ON COLUMN @extschema@.suppression_state.decision IS 'latest_timed_value of its spam reports and unsubscribes: {cause, reason, event_key}';
COMMENT ON COLUMN @extschema@.suppression_state.failure IS 'latest_timed_value of its bounces, blocks and drops: {cause, reason, event_key}';
COMMENT ON COLUMN @extschema@.suppression_state.delivered_at IS 'Its latest delivery: a failure at or before it no longer holds';
COMMENT ON COLUMN @extschema@.suppression_state.lifted_at IS 'The owner lifted its suppressions up to this time (lift_suppression)';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.suppression_state', '');

CREATE TABLE @extschema@.group_suppression_state (
    email text COLLATE "C" NOT NULL,
    asm_group_id integer NOT NULL,
    unsubscribe @extschema@.timed_value,
    resubscribed_at timestamptz,
    lifted_at timestamptz,
    CONSTRAINT group_suppression_state_pkey PRIMARY KEY (email, asm_group_id)
);
COMMENT ON TABLE @extschema@.group_suppression_state IS
    'Per address and unsubscribe group, the partial states the suppression view reads: its latest group unsubscribe and its latest group resubscribe';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.group_suppression_state', '');

-- Counters maintained from what each merge changed in what its recipients count
-- (activity_figures): the dashboards read a row a day, not the events.
CREATE TABLE @extschema@.deliverability_day (
    day date NOT NULL,
    sent bigint NOT NULL,
    delivered bigint NOT NULL,
    bounced bigint NOT NULL,
    blocked bigint NOT NULL,
    dropped bigint NOT NULL,
    deferred bigint NOT NULL,
    spam_reports bigint NOT NULL,
    unique_human_opens bigint NOT NULL,
    machine_opens bigint NOT NULL,
    clicks bigint NOT NULL,
    CONSTRAINT deliverability_day_pkey PRIMARY KEY (day)
);
COMMENT ON TABLE @extschema@.deliverability_day IS
    'Per UTC send day, the sums of what the recipients handed off that day count (activity_figures): recipients sent, delivered, bounced, ..., and their machine opens and clicks';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.deliverability_day', '');

CREATE TABLE @extschema@.deliverability_category_day (
    day date NOT NULL,
    category text COLLATE "C",
    sent bigint NOT NULL,
    delivered bigint NOT NULL,
    bounced bigint NOT NULL,
    blocked bigint NOT NULL,
    dropped bigint NOT NULL,
    deferred bigint NOT NULL,
    spam_reports bigint NOT NULL,
    unique_human_opens bigint NOT NULL,
    machine_opens bigint NOT NULL,
    clicks bigint NOT NULL,
    CONSTRAINT deliverability_category_day_key UNIQUE NULLS NOT DISTINCT (day, category)
);
COMMENT ON TABLE @extschema@.deliverability_category_day IS
    'deliverability_day per category: a recipient counts under each category its events carried, or under NULL when they carried none';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.deliverability_category_day', '');

CREATE TABLE @extschema@.recipient_count_by_status (
    machine_opens_counted boolean NOT NULL,
    status @extschema@.mail_status,
    recipients bigint NOT NULL,
    CONSTRAINT recipient_count_by_status_key UNIQUE NULLS NOT DISTINCT (machine_opens_counted, status)
);
COMMENT ON TABLE @extschema@.recipient_count_by_status IS
    'How many recipients are at each status, with machine opens counted and without';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.recipient_count_by_status', '');

-- Every change of a recipient's status, for workers that react to them. A notification on
-- channel mailstatus_status_changed carries only the id: any role may LISTEN, but only
-- the roles granted SELECT here read the change.
CREATE TABLE @extschema@.status_change (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    message_id text COLLATE "C" NOT NULL,
    email text COLLATE "C" NOT NULL,
    old_status @extschema@.mail_status,
    new_status @extschema@.mail_status,
    status_at timestamptz
);
COMMENT ON TABLE @extschema@.status_change IS
    'Each change of a recipient''s status (as the ingesting session counts machine opens), notified by id on channel mailstatus_status_changed';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.status_change', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.status_change', 'id')::regclass, '');

