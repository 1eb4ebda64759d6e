-- X-Message-Id from sg_message_id, and SendGrid's timestamp formats.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

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
    '   ',
    'filter0093p1las1.9128.5717FB8127.0',                          -- older posts: a relay host, no id
    'recvd-5c8b85cc5c-4ccq7-1-64A45F6C-8.0']) AS sg;

-- Events get message_id and keep their sg_message_id (what follows the id, or as posted);
-- empty or missing gives '', the event is stored. When sg_message_id starts with a relay host
-- (older posts) or names no message, the X-Message-Id is the local part of smtp-id.
CREATE TEMP TABLE posted AS SELECT $$[
  {"email": "a@example.com", "timestamp": 1700000000, "event": "delivered", "sg_event_id": "m1", "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "delivered", "sg_event_id": "m2", "sg_message_id": "56WoYBdESN6RyEn_7bJRKA.recvd-5b6594c664-csn64-1-65A9F4D1-A.0"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "m3", "sg_message_id": ""},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "m4"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "dropped", "sg_event_id": "m5", "sg_message_id": "filter0093p1las1.9128.5717FB8127.0",
   "smtp-id": "<wrfRRvF7Q0GgwUo2CvDmEA@ismtpd0006p1sjc2.sendgrid.net>"},
  {"email": "b@example.com", "timestamp": 1700000000, "event": "dropped", "sg_event_id": "m6", "sg_message_id": "filter0093p1las1.9128.5717FB8128.0",
   "smtp-id": "<Z2xpZGVyQmFzZTY0SWQwMQ@ismtpd0006p1sjc2.sendgrid.net>"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "dropped", "sg_event_id": "m7", "sg_message_id": "filter0093p1las1.9128.5717FB8129.0"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "m8", "smtp-id": "<HOtrD2cWQ3-OJbN1azuG2Q@geopod-ismtpd-4>"}
]$$::jsonb AS body;
SELECT * FROM ingest_sendgrid_event((SELECT body FROM posted));
SELECT e.event_key, e.message_id, e.sg_message_suffix, e.smtp_host, e.residual FROM event e ORDER BY 1;
-- Two unrelated drops of older posts are two messages, not one.
SELECT message_id, email, status FROM recipient_status WHERE message_id IN ('wrfRRvF7Q0GgwUo2CvDmEA', 'Z2xpZGVyQmFzZTY0SWQwMQ') ORDER BY 1;
-- Each rebuilt as posted.
SELECT count(*) AS posted, count(*) FILTER (WHERE EXISTS (SELECT FROM event e WHERE e.event_payload = p.element)) AS rebuilt
  FROM posted, jsonb_array_elements(posted.body) AS p(element);

-- Timestamps: seconds, milliseconds (from 1e11 on), digit strings, fractions (of a second, or of a
-- millisecond), and the edges: 2000-01-01 (in seconds and in milliseconds), the largest number of
-- seconds and the smallest of milliseconds (both out of range), 2001 in milliseconds.
CREATE TEMP TABLE stamps AS SELECT $$[
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-seconds", "timestamp": 1700000000},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-millis", "timestamp": 1700000000123},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-millis-whole-second", "timestamp": 1700000001000},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-string", "timestamp": "1700000000"},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-string-millis", "timestamp": "1700000000456"},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-fraction", "timestamp": 1700000000.25},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-padded", "timestamp": " 1700000000 "},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-2000", "timestamp": 946684800},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-1999", "timestamp": 946684799},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-future", "timestamp": 4102444800},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-millis-fraction", "timestamp": "1764500000123.5"},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-millis-2000", "timestamp": 946684800000},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-millis-1999", "timestamp": 946684799999},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-millis-2001", "timestamp": 978307200000},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-largest-seconds", "timestamp": 99999999999},
  {"email": "t@example.com", "event": "open", "sg_event_id": "t-smallest-millis", "timestamp": 100000000000}
]$$::jsonb AS body;
SELECT * FROM ingest_sendgrid_event((SELECT body FROM stamps));
SELECT e.event_key, e.occurred_at, e.residual FROM event e WHERE e.email = 't@example.com' ORDER BY 1;
-- Each stored one rebuilt as posted: a timestamp not in whole seconds is given back as posted.
SELECT count(*) AS stored, count(*) FILTER (WHERE e.event_payload = p.element) AS rebuilt
  FROM stamps, jsonb_array_elements(stamps.body) AS p(element) JOIN event e ON e.sg_event_id = p.element ->> 'sg_event_id';
SELECT reason FROM rejected_event ORDER BY reason;
-- An event a few hours ahead of the server clock (clock drift) is accepted.
SELECT stored FROM ingest_sendgrid_event(jsonb_build_object('email', 't@example.com', 'event', 'open',
  'sg_event_id', 't-drift', 'timestamp', extract(epoch FROM now() + interval '3 hours')::bigint));
