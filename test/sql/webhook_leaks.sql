-- json-c objects live outside PostgreSQL's memory contexts. Thousands of calls that fail
-- after json-c has parsed elements (or mid-element) must not grow the backend. The body is
-- parsed one element at a time: what a forgotten free would leak is the tokener, or the tree
-- of the element being converted when the error came (~150 kB in the NaN case below, about
-- 120 MB over this test). Both entry points that parse text element by element are
-- exercised: ingest_sendgrid_webhook and ingest_sendgrid_event(text).
SET search_path = mailstatus, public;
CREATE FUNCTION pg_temp.rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint $$;
CREATE FUNCTION pg_temp.fail_many(calls int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  good_elements text := repeat('{"email":"a@example.com","event":"open","timestamp":1700000000},', 1000);
  -- A scalar body: parsed by json-c, then refused.
  scalar_body text := '"' || repeat('x', 100000) || '"';
  -- The scan finds these: after 1000 elements parsed by json-c, a stray closing brace; a
  -- body nested too deep at its end.
  late_syntax_error text := '[' || good_elements || '}';
  too_deep text := '[' || repeat('{"k":"' || repeat('v', 100) || '"},', 800) || repeat('[', 70) || repeat(']', 70) || ']';
  -- json-c finds this one, inside the last element, after parsing part of it.
  late_element_error text := '[' || good_elements || '{"email":"a@example.com","pad":[' || repeat('"' || repeat('p', 100) || '",', 1000)
                             || '"p"],"nested":{"k":[1,2,{"x" 1}]}}]';
  -- json-c takes NaN, which the conversion of its tree to jsonb refuses: the element's whole
  -- tree (1000 strings) is alive when the error comes. Elements with integers beyond 64 bits
  -- go to PostgreSQL's parser before it.
  late_nan text := '[' || repeat('{"crm_id":123456789012345678901234567890,"email":"a@example.com"},', 100) || good_elements
                   || '{"pad":[' || repeat('"' || repeat('p', 100) || '",', 1000) || '"p"],"a":[1,2,NaN]}]';
  failures int := 0;
  body text;
BEGIN
  FOR i IN 1..calls LOOP
    body := CASE i % 5 WHEN 0 THEN scalar_body WHEN 1 THEN late_syntax_error WHEN 2 THEN too_deep
                       WHEN 3 THEN late_element_error ELSE late_nan END;
    BEGIN
      IF i % 2 = 0 THEN
        PERFORM mailstatus.ingest_sendgrid_webhook(body);
      ELSE
        PERFORM mailstatus.ingest_sendgrid_event(body);
      END IF;
    EXCEPTION WHEN invalid_parameter_value OR invalid_text_representation OR program_limit_exceeded THEN
      failures := failures + 1;
    END;
  END LOOP;
  RETURN failures;
END $$;

-- The event table's default partition exists first: made by a call that then fails, it would
-- be made and rolled back on every call, which is not what this test measures.
SELECT ensure_event_default_partition() IS NOT NULL AS default_partition_ready;
SELECT pg_temp.fail_many(300) AS warm_up_failures;
SELECT pg_temp.rss_kb() AS rss_before \gset
SELECT pg_temp.fail_many(4000) AS failures;
SELECT pg_temp.rss_kb() - :rss_before < 20000 AS no_growth_beyond_20mb;
-- Nothing was stored by the failing calls.
SELECT (SELECT count(*) FROM event WHERE email = 'a@example.com') AS stored, (SELECT count(*) FROM rejected_event WHERE element::text LIKE '%NaN%') AS rejected;
