-- Scale-out on Citus.
-----------------------------------------------------------------------------

-- Where each table goes on a Citus cluster: one message's events, sends, state and custom
-- args on one node (distributed by message_id, co-located), so ingest's merge is routed
-- per message and the status views run on the workers; an address's suppression state on
-- one node (by email), so is_suppressed is one task; the small tables everywhere; the
-- counters and the status-change log on the coordinator, where ingest runs, and the landing
-- tables too (local to the node that receives the posts: never distributed); a flush's
-- working tables beside the state each feeds, so each step of a flush runs shard by shard.
CREATE VIEW @extschema@.citus_layout AS
SELECT l.step, l.table_name, l.placement, l.distribution_column, l.colocate_with
  FROM (VALUES
        (1, 'mailstatus.event'::regclass, 'distributed', 'message_id'::name, NULL::regclass),
        (2, 'mailstatus.send'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (3, 'mailstatus.recipient'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (4, 'mailstatus.recipient_custom_args'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (5, 'mailstatus.suppression_state'::regclass, 'distributed', 'email'::name, NULL::regclass),
        (6, 'mailstatus.group_suppression_state'::regclass, 'distributed', 'email'::name, 'mailstatus.suppression_state'::regclass),
        (7, 'mailstatus.rejected_event'::regclass, 'reference', NULL::name, NULL::regclass),
        (8, 'mailstatus.webhook_key'::regclass, 'reference', NULL::name, NULL::regclass),
        (9, 'mailstatus.event_retention'::regclass, 'reference', NULL::name, NULL::regclass),
        (10, 'mailstatus.deliverability_day'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (11, 'mailstatus.deliverability_category_day'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (12, 'mailstatus.recipient_count_by_status'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (13, 'mailstatus.status_change'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (14, 'mailstatus.recipient_retention'::regclass, 'reference', NULL::name, NULL::regclass),
        (15, 'mailstatus.landed_event'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (16, 'mailstatus.landed_reject'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (17, 'mailstatus.landing_flush'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (18, 'mailstatus.flushing_event'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (19, 'mailstatus.flushing_attributed_event'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (20, 'mailstatus.flushing_suppression_event'::regclass, 'distributed', 'email'::name, 'mailstatus.suppression_state'::regclass))
       AS l(step, table_name, placement, distribution_column, colocate_with);
COMMENT ON VIEW @extschema@.citus_layout IS
    'How to place each mailstatus table on Citus, in order: distributed (by message_id and co-located, or by email), a reference table, or left on the coordinator';
