-- Run first, by hand: what the generator cannot derive from the parts (tools/generate_update.py):
-- ALTER TABLE for changed tables (with a line "-- altered: TABLE @extschema@.name"), DROP of
-- what changes its signature, result or columns (the generator then creates it anew).

-- webhook_key's check says what is wrong with a refused key (sendgrid_public_key_checked, made
-- by the generated part): the constraint is dropped here and made again by the postlude.
ALTER TABLE @extschema@.webhook_key DROP CONSTRAINT webhook_key_is_p256;
-- altered: TABLE @extschema@.webhook_key

-- status_count is recipient_count_by_status (one letter from the view status_counts, which keeps
-- its name): renamed with its rows and its key; its recomputation is made anew under the new name.
DROP VIEW @extschema@.recomputed_status_count;
ALTER TABLE @extschema@.status_count RENAME TO recipient_count_by_status;
ALTER TABLE @extschema@.recipient_count_by_status RENAME CONSTRAINT status_count_key TO recipient_count_by_status_key;
-- altered: TABLE @extschema@.recipient_count_by_status

-- merge_recipients returns the merged rows (count_and_notify_merge, new, counts and notifies
-- what they changed): its result columns change.
DROP FUNCTION @extschema@.merge_recipients(@extschema@.recipient[]);
