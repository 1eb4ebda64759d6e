-- X-Message-Id from sg_message_id, and SendGrid's timestamp formats.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event;

SELECT sg, message_id_of(sg)
  FROM unnest(ARRAY[
    '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',       -- legacy: first part before .filter
    '56WoYBdESN6RyEn_7bJRKA.recvd-5b6594c664-csn64-1-65A9F4D1-A.0', -- current: before .recvd
    'X9kLmN0pQr.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC4E8-1.0',
    'abc.def',                                                     -- no marker: before the first dot
    'no-dots-at-all',
    '  padded.filter0001  ',
    '.filter0001.x',                                               -- empty id
    '',
    '   ']) AS sg;

-- Events keep their sg_message_id and get message_id; empty or missing gives NULL but the event is stored.
SELECT * FROM ingest_sendgrid_event($$[
  {"email": "a@example.com", "timestamp": 1700000000, "event": "delivered", "sg_event_id": "m1", "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "delivered", "sg_event_id": "m2", "sg_message_id": "56WoYBdESN6RyEn_7bJRKA.recvd-5b6594c664-csn64-1-65A9F4D1-A.0"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "m3", "sg_message_id": ""},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "m4"}
]$$);
SELECT event_key, sg_message_id, message_id FROM event ORDER BY event_key;

-- Timestamps: seconds, milliseconds (13 digits), digit strings, fractions.
SELECT * FROM ingest_sendgrid_event($$[
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-seconds", "timestamp": 1700000000},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-millis", "timestamp": 1700000000123},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-string", "timestamp": "1700000000"},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-string-millis", "timestamp": "1700000000456"},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-fraction", "timestamp": 1700000000.25},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-padded", "timestamp": " 1700000000 "},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-2000", "timestamp": 946684800},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-1999", "timestamp": 946684799},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-future", "timestamp": 4102444800}
]$$);
SELECT event_key, occurred_at FROM event WHERE email = 't@example.com' ORDER BY event_key;
SELECT reason FROM rejected_event ORDER BY id;
-- An event a few hours ahead of the server clock (clock drift) is accepted.
SELECT stored FROM ingest_sendgrid_event(jsonb_build_object('email', 't@example.com', 'event', 'open',
  'sg_event_id', 't-drift', 'timestamp', extract(epoch FROM now() + interval '3 hours')::bigint));
