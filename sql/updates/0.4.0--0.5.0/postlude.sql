-- Run last, by hand: repairs and backfills of the data the new definitions need.

-- Databases installed with 0.1.0 as released (before faf3bb2) never had rejected_event's identity
-- sequence registered for pg_dump: its position was left out of dumps, and a restored database
-- failed its first batch with a rejected element. Registered again where it is already: no change.
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.rejected_event', 'id')::regclass, '');
