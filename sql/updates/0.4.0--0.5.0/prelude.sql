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

-- message_custom_args is recipient_custom_args: kept per recipient, so forget_recipients forgets
-- exactly the custom args the recipients it forgets brought (per message, what stayed depended
-- on whether the message's other recipients had arrived yet). A 0.4.0 row goes to the
-- recipients whose kept events or sends carried it, as 0.5.0 would have stored it; a row no
-- kept event or send explains (retention dropped them) to every recipient of its message, so
-- every lookup (recipient_status_for) finds what it found before the update.
DROP VIEW @extschema@.recomputed_message_custom_args;
ALTER TABLE @extschema@.message_custom_args RENAME TO recipient_custom_args;
ALTER TABLE @extschema@.recipient_custom_args DROP CONSTRAINT message_custom_args_pkey;
DROP INDEX @extschema@.message_custom_args_idx;
ALTER TABLE @extschema@.recipient_custom_args ADD COLUMN email text COLLATE "C";
WITH carried AS (
    SELECT COALESCE(v.attributed_message_id, v.message_id) AS message_id, v.email,
           pg_catalog.jsonb_hash_extended(v.custom_args, 0) AS args_hash
      FROM @extschema@.event v WHERE v.custom_args IS NOT NULL
    UNION
    SELECT s.message_id, s.email, pg_catalog.jsonb_hash_extended(s.custom_args, 0)
      FROM @extschema@.send s WHERE s.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb
)
INSERT INTO @extschema@.recipient_custom_args (message_id, args_hash, custom_args, email)
SELECT a.message_id, a.args_hash, a.custom_args, r.email
  FROM @extschema@.recipient_custom_args a
  JOIN @extschema@.recipient r ON r.message_id OPERATOR(pg_catalog.=) a.message_id
 WHERE a.email IS NULL
   AND ((r.message_id, r.email, a.args_hash) IN (SELECT c.message_id, c.email, c.args_hash FROM carried c)
        OR NOT EXISTS (SELECT FROM carried c
                        WHERE c.message_id OPERATOR(pg_catalog.=) a.message_id
                          AND c.args_hash OPERATOR(pg_catalog.=) a.args_hash));
DELETE FROM @extschema@.recipient_custom_args WHERE email IS NULL;
ALTER TABLE @extschema@.recipient_custom_args
    ALTER COLUMN email SET NOT NULL,
    ADD CONSTRAINT recipient_custom_args_pkey PRIMARY KEY (message_id, email, args_hash);
-- altered: TABLE @extschema@.recipient_custom_args
