-- In-server fuzzing of the element walk, and differential testing of the three entry points:
-- 3 000 mutations of real webhook bodies (bytes flipped, cut, repeated, spliced, special
-- characters and numbers inserted) go through ingest_sendgrid_webhook (wire.c's scan and
-- json-c, element by element), ingest_sendgrid_event(text) (the same, unsigned) and
-- ingest_sendgrid_event(jsonb) (PostgreSQL's jsonb parser). Every outcome must be rows or an
-- error of an expected class, the server must live, and the paths must agree: the same
-- verdict, and where they store, the same rows (every column, the key and the event as
-- posted) and the same rejects. One difference is expected: a number beyond numeric's range
-- makes the body no jsonb at all (22003, or 22P02 for an exponent beyond 64 bits), while the
-- text paths reject its element alone.
SET search_path = mailstatus, public;
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();
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

CREATE TEMP TABLE outcome (path text, verdict text);
CREATE FUNCTION pg_temp.try(path text, body text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.ingest_on_path(path, body);
  RETURN 'stored';
EXCEPTION
  WHEN invalid_text_representation OR invalid_parameter_value OR untranslatable_character
       OR program_limit_exceeded OR character_not_in_repertoire OR numeric_value_out_of_range THEN
    RETURN 'error ' || SQLSTATE;
END $$;

-- What a path left: every event (all its columns but received_at, its key, the event as
-- posted) and every reject, as one text.
CREATE FUNCTION pg_temp.snapshot() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce((SELECT string_agg(concat_ws(' ', mailstatus.event_key(e), mailstatus.event_payload(e), to_jsonb(e) - 'received_at'),
                                     '|' ORDER BY e.message_id, e.occurred_at, e.content_hash)
                     FROM mailstatus.event e), '')
      || ' # ' ||
      coalesce((SELECT string_agg(concat_ws(' ', r.element_key, r.reason, r.element), '|' ORDER BY r.element_key)
                  FROM mailstatus.rejected_event r), '') $$;

CREATE FUNCTION pg_temp.run(iterations int)
  RETURNS TABLE (all_stored int, mismatches int, verdicts_differ int, range_rejected_on_text_only int) LANGUAGE plpgsql AS $$
DECLARE
  body text;
  verdict text[];
  rows text[];
BEGIN
  all_stored := 0;
  mismatches := 0;
  verdicts_differ := 0;
  range_rejected_on_text_only := 0;
  FOR i IN 1..iterations LOOP
    body := pg_temp.mutate((SELECT s.body FROM seed_body s WHERE s.n = 1 + i % 3));
    verdict := '{}';
    rows := '{}';
    -- Each path starts from empty tables (DELETE: 9 000 TRUNCATEs in one transaction slow
    -- down with every table the earlier tests filled).
    FOR p IN 1..3 LOOP
      DELETE FROM mailstatus.event;
      DELETE FROM mailstatus.rejected_event;
      verdict := verdict || pg_temp.try((ARRAY['webhook', 'text', 'jsonb'])[p], body);
      rows := rows || pg_temp.snapshot();
      INSERT INTO outcome VALUES ((ARRAY['webhook', 'text', 'jsonb'])[p], verdict[p]);
    END LOOP;
    -- The two text paths run the same code: always the same verdict, and the same rows.
    IF verdict[1] IS DISTINCT FROM verdict[2] OR rows[1] IS DISTINCT FROM rows[2] THEN
      mismatches := mismatches + 1;
      RAISE NOTICE 'webhook: %, text: %, on: %', verdict[1], verdict[2], body;
    ELSIF verdict[1] = 'stored' AND verdict[3] IN ('error 22003', 'error 22P02')
          AND rows[1] LIKE '%the element holds a number outside the range of PostgreSQL''s numeric type%' THEN
      range_rejected_on_text_only := range_rejected_on_text_only + 1;
    ELSIF (verdict[1] = 'stored') <> (verdict[3] = 'stored') THEN
      verdicts_differ := verdicts_differ + 1;
      RAISE NOTICE 'text paths: %, jsonb: %, on: %', verdict[1], verdict[3], body;
    ELSIF verdict[1] = 'stored' THEN
      all_stored := all_stored + 1;
      IF rows[1] IS DISTINCT FROM rows[3] THEN
        mismatches := mismatches + 1;
        RAISE NOTICE 'paths differ on: %', body;
      END IF;
    END IF;
  END LOOP;
  RETURN NEXT;
END $$;

SELECT * FROM pg_temp.run(3000);
-- The mutations reached both outcomes on every path.
SELECT path, verdict ~ '^error' AS refused, count(*) > 50 AS often FROM outcome GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(DISTINCT verdict) >= 3 AS several_error_kinds FROM outcome WHERE path = 'webhook';
-- Still alive.
SELECT 1 AS alive;
