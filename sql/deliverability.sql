-- Deliverability per day: counts of recipients, opens and clicks, and the rates a sender watches.
SET search_path = mailstatus, public;
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send;
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"a@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d1","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"d2","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000100,"event":"open","sg_event_id":"d3","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000200,"event":"open","sg_event_id":"d4","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000300,"event":"click","sg_event_id":"d5","sg_message_id":"D1.filter.0"},
  {"email":"b@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d6","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000010,"event":"deferred","sg_event_id":"d7","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000020,"event":"deferred","sg_event_id":"d8","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"d9","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000070,"event":"open","sg_machine_open":true,"sg_event_id":"d10","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000400,"event":"spamreport","sg_event_id":"d11","sg_message_id":"D1.filter.1"},
  {"email":"c@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d12","sg_message_id":"D1.filter.2"},
  {"email":"c@example.com","timestamp":1700000005,"event":"bounce","type":"bounce","sg_event_id":"d13","sg_message_id":"D1.filter.2"},
  {"email":"d@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d14","sg_message_id":"D1.filter.3"},
  {"email":"d@example.com","timestamp":1700000005,"event":"bounce","type":"blocked","sg_event_id":"d15","sg_message_id":"D1.filter.3"},
  {"email":"e@example.com","timestamp":1700000000,"event":"dropped","sg_event_id":"d16","sg_message_id":"D1.filter.4"},
  {"email":"a@example.com","timestamp":1700090000,"event":"open","sg_event_id":"d17","sg_message_id":"D1.filter.0"}
]$$);
SELECT * FROM deliverability_daily ORDER BY day;
-- One pass of hash aggregation: no sort of the table.
SET enable_hashagg = on;
EXPLAIN (COSTS OFF) SELECT * FROM deliverability_daily;
