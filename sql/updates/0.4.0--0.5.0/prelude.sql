-- Run first, by hand: what the generator cannot derive from the parts (tools/generate_update.py):
-- ALTER TABLE for changed tables (with a line "-- altered: TABLE @extschema@.name"), DROP of
-- what changes its signature, result or columns (the generator then creates it anew).

-- webhook_key's check says what is wrong with a refused key (sendgrid_public_key_checked, made
-- by the generated part): the constraint is dropped here and made again by the postlude.
ALTER TABLE @extschema@.webhook_key DROP CONSTRAINT webhook_key_is_p256;
-- altered: TABLE @extschema@.webhook_key

-- A send is told apart by its time and custom args too (every distinct send kept, as every
-- distinct event is, so the state no longer depends on which of two sends came first). A
-- 0.4.0 table holds one send per recipient: the new key holds them as they are.
ALTER TABLE @extschema@.send ADD COLUMN custom_args_hash bigint;
UPDATE @extschema@.send SET custom_args_hash = pg_catalog.jsonb_hash_extended(custom_args, 0);
ALTER TABLE @extschema@.send
    ALTER COLUMN custom_args_hash SET NOT NULL,
    DROP CONSTRAINT send_pkey,
    ADD CONSTRAINT send_pkey PRIMARY KEY (message_id, email, sent_at, custom_args_hash);
-- altered: TABLE @extschema@.send

-- status_count is recipient_count_by_status (one letter from the view status_counts, which keeps
-- its name): renamed with its rows and its key; its recomputation is made anew under the new name.
DROP VIEW @extschema@.recomputed_status_count;
ALTER TABLE @extschema@.status_count RENAME TO recipient_count_by_status;
ALTER TABLE @extschema@.recipient_count_by_status RENAME CONSTRAINT status_count_key TO recipient_count_by_status_key;
-- altered: TABLE @extschema@.recipient_count_by_status

-- merge_recipients returns the merged rows (count_and_notify_merge, new, counts and notifies
-- what they changed): its result columns change.
DROP FUNCTION @extschema@.merge_recipients(@extschema@.recipient[]);
