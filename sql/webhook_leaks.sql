-- json-c objects live outside PostgreSQL's memory contexts. Thousands of calls that fail
-- after json-c has built its tree (or mid-parse) must not grow the backend: each would
-- leak ~100 kB if a path forgot to free it (about 400 MB over this test).
SET search_path = mailstatus, public;
CREATE FUNCTION pg_temp.rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint $$;
CREATE FUNCTION pg_temp.fail_many(calls int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  scalar_body text := '"' || repeat('x', 100000) || '"';
  late_syntax_error text := '[' || repeat('{"email":"a@example.com","event":"open","timestamp":1700000000},', 1500) || '}';
  too_deep text := '[' || repeat('{"k":"' || repeat('v', 100) || '"},', 800) || repeat('[', 70) || repeat(']', 70) || ']';
  failures int := 0;
BEGIN
  FOR i IN 1..calls LOOP
    BEGIN
      PERFORM mailstatus.ingest_sendgrid_webhook(CASE i % 3 WHEN 0 THEN scalar_body
                                                            WHEN 1 THEN late_syntax_error
                                                            ELSE too_deep END);
    EXCEPTION WHEN invalid_parameter_value OR invalid_text_representation OR program_limit_exceeded THEN
      failures := failures + 1;
    END;
  END LOOP;
  RETURN failures;
END $$;

SELECT pg_temp.fail_many(300) AS warm_up_failures;
SELECT pg_temp.rss_kb() AS rss_before \gset
SELECT pg_temp.fail_many(4000) AS failures;
SELECT pg_temp.rss_kb() - :rss_before < 20000 AS no_growth_beyond_20mb;
