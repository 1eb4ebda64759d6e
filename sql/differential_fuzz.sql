-- In-server fuzzing of the jsonb walk, and differential testing of the two entry points:
-- 3 000 mutations of real webhook bodies (bytes flipped, cut, repeated, spliced, special
-- characters and numbers inserted) go through ingest_sendgrid_webhook (json-c) and
-- ingest_sendgrid_event (PostgreSQL's jsonb parser). Every outcome must be rows or an error of
-- an expected class, the server must live, and where both parsers take a body, both paths
-- must store the same rows and the same rejects.
SET search_path = mailstatus, public;
TRUNCATE event, rejected_event, send;
SELECT setseed(0.2026);

CREATE TEMP TABLE seed_body AS
SELECT n, body FROM (VALUES
  (1, E'[\r\n{"email":"a@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"f1","sg_message_id":"F1.filter0001.0","category":["invoice","x"],"crm_record":"R-1"},\r\n{"email":"B@Example.com","timestamp":"1700000100000","event":"bounce","type":"blocked","reason":"550 5.7.1 blocked","status":"5.7.1","attempt":"2","sg_event_id":"f2","sg_message_id":"F1.recvd-abc-1.0"},\r\n{"email":"c@example.com","timestamp":1700000200,"event":"open","sg_machine_open":true,"useragent":"Mozilla","ip":"1.2.3.4","sg_event_id":"f3"}\r\n]\r\n'),
  (2, '[{"event":"unsubscribe","email":"u@example.com","timestamp":1700000300},{"email":"d@example.com","event":"click","url":"https://x.example/?a=1&b=\u00e9","timestamp":1700000400.5,"sg_event_id":"f4","asm_group_id":12,"nested":{"k":[1,2.50,-3e2,null,true]}}]'),
  (3, '{"email":"e@example.com","timestamp":1700000500,"event":"delivered","sg_event_id":"f5","response":"250 OK","tls":1,"pool":{"name":"p","id":7}}')
) v(n, body);

CREATE FUNCTION pg_temp.mutate(body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  pieces text[] := ARRAY['"', '\', '\u0000', '\ud800', '\udc00', '\ud83d\ude00', '{', '}', '[', ']', ',', ':',
                         'null', 'true', '1e400', '-0', '18446744073709551616', '99999999999999999999',
                         'NaN', ' ', E'\r\n', 'é', '"email"', '"timestamp"', '"sg_event_id"'];
  result text := body;
  len int;
  pos int;
BEGIN
  FOR step IN 1..1 + floor(random() * 3)::int LOOP
    len := length(result);
    pos := 1 + floor(random() * greatest(len, 1))::int;
    CASE floor(random() * 5)::int
      WHEN 0 THEN result := overlay(result PLACING pieces[1 + floor(random() * array_length(pieces, 1))::int] FROM pos FOR 0);
      WHEN 1 THEN result := overlay(result PLACING '' FROM pos FOR 1 + floor(random() * 8)::int);
      WHEN 2 THEN result := left(result, pos);
      WHEN 3 THEN result := overlay(result PLACING substr(result, 1 + floor(random() * len)::int, 1 + floor(random() * 40)::int) FROM pos FOR 0);
      ELSE result := overlay(result PLACING pieces[1 + floor(random() * array_length(pieces, 1))::int] FROM pos FOR 1);
    END CASE;
  END LOOP;
  RETURN result;
END $$;

CREATE TEMP TABLE outcome (path text, verdict text, n int);
CREATE FUNCTION pg_temp.try(path text, body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  counts record;
BEGIN
  IF path = 'json-c' THEN
    SELECT * INTO counts FROM mailstatus.ingest_sendgrid_webhook(body);
  ELSE
    SELECT * INTO counts FROM mailstatus.ingest_sendgrid_event(body::jsonb);
  END IF;
  RETURN 'stored';
EXCEPTION
  WHEN invalid_text_representation OR invalid_parameter_value OR untranslatable_character
       OR program_limit_exceeded OR character_not_in_repertoire OR numeric_value_out_of_range THEN
    RETURN 'error ' || SQLSTATE;
END $$;

CREATE FUNCTION pg_temp.run(iterations int) RETURNS TABLE (mismatches int, both_stored int, verdicts_differ int) LANGUAGE plpgsql AS $$
DECLARE
  body text;
  via_json_c text;
  via_jsonb text;
  rows_json_c text;
  rows_jsonb text;
BEGIN
  mismatches := 0;
  both_stored := 0;
  verdicts_differ := 0;
  FOR i IN 1..iterations LOOP
    body := pg_temp.mutate((SELECT s.body FROM seed_body s WHERE s.n = 1 + i % 3));
    TRUNCATE mailstatus.event, mailstatus.rejected_event;
    via_json_c := pg_temp.try('json-c', body);
    rows_json_c := (SELECT string_agg(e.event_key || e.email || e.event || e.occurred_at || e.payload::text || e.custom_args::text, '|' ORDER BY e.event_key) FROM mailstatus.event e)
                   || (SELECT string_agg(r.reason || r.element::text, '|' ORDER BY r.element_key) FROM mailstatus.rejected_event r);
    TRUNCATE mailstatus.event, mailstatus.rejected_event;
    via_jsonb := pg_temp.try('jsonb', body);
    rows_jsonb := (SELECT string_agg(e.event_key || e.email || e.event || e.occurred_at || e.payload::text || e.custom_args::text, '|' ORDER BY e.event_key) FROM mailstatus.event e)
                  || (SELECT string_agg(r.reason || r.element::text, '|' ORDER BY r.element_key) FROM mailstatus.rejected_event r);
    INSERT INTO outcome VALUES ('json-c', via_json_c, 1), ('jsonb', via_jsonb, 1);
    IF (via_json_c = 'stored') <> (via_jsonb = 'stored') THEN
      verdicts_differ := verdicts_differ + 1;
      RAISE NOTICE 'json-c: %, jsonb: %, on: %', via_json_c, via_jsonb, body;
    END IF;
    IF via_json_c = 'stored' AND via_jsonb = 'stored' THEN
      both_stored := both_stored + 1;
      IF rows_json_c IS DISTINCT FROM rows_jsonb THEN
        mismatches := mismatches + 1;
        RAISE NOTICE 'paths differ on: %', body;
      END IF;
    END IF;
  END LOOP;
  RETURN NEXT;
END $$;

SELECT * FROM pg_temp.run(3000);
-- The mutations reached both outcomes on both paths.
SELECT path, verdict ~ '^error' AS refused, count(*) > 50 AS often FROM outcome GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(DISTINCT verdict) >= 3 AS several_error_kinds FROM outcome WHERE path = 'json-c';
-- Still alive.
SELECT 1 AS alive;
