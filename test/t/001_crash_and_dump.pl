# Crash recovery and dump/restore of a database using mailstatus.
#  - The server is killed (-m immediate) while batches are being ingested: after restart each
#    batch is wholly stored or wholly absent, and posting everything again completes the picture.
#  - pg_dump / pg_restore round-trips events, rejects, sends, keys and statuses.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $batches = 60;
my $per_batch = 2000;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION mailstatus;
  -- Batch n: events 'b<n>-1' .. 'b<n>-<per_batch>', plus one element that is rejected.
  CREATE FUNCTION batch(n int, size int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_object('email', 'r' || g || '@example.com', 'timestamp', 1700000000 + g,
                     'event', 'delivered', 'sg_event_id', 'b' || n || '-' || g,
                     'sg_message_id', 'M' || n || '.filter0001.' || g)) || jsonb_build_array(n)
      FROM generate_series(1, size) g $$;
  CREATE PROCEDURE post_all(batches int, size int) LANGUAGE plpgsql AS $$
  BEGIN
    FOR n IN 1..batches LOOP
      PERFORM mailstatus.ingest_sendgrid_event(batch(n, size));
      COMMIT;
    END LOOP;
  END $$;
  CREATE VIEW batch_counts AS
    SELECT split_part(event_key, '-', 1) AS batch, count(*) AS events
      FROM mailstatus.event GROUP BY 1;
});

# Post batches one by one in the background and kill the server part-way.
my ($out, $err) = ('', '');
my $poster = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', "CALL post_all($batches, $per_batch)" ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres', 'SELECT count(*) >= 3 FROM batch_counts')
  or die 'ingest did not start';
$node->stop('immediate');
$poster->finish;
$node->start;

my $stored_batches = $node->safe_psql('postgres', 'SELECT count(*) FROM batch_counts');
cmp_ok($stored_batches, '>=', 3, "batches committed before the crash survived ($stored_batches)");
cmp_ok($stored_batches, '<', $batches, 'the crash came before the last batch');
is($node->safe_psql('postgres', "SELECT count(*) FROM batch_counts WHERE events <> $per_batch"),
	'0', 'every batch is wholly stored or wholly absent after the crash');
is($node->safe_psql('postgres', 'SELECT count(*) FROM mailstatus.rejected_event'),
	$stored_batches, 'rejects of committed batches survived, none of the lost ones');

# SendGrid re-posts everything (it retries what failed, and sometimes what succeeded).
$node->safe_psql('postgres', "CALL post_all($batches, $per_batch)");
is($node->safe_psql('postgres', 'SELECT count(*) || \' \' || sum(events) FROM batch_counts'),
	"$batches " . ($batches * $per_batch), 're-posting completes the picture: every event once');
is($node->safe_psql('postgres', 'SELECT count(*) FROM mailstatus.rejected_event'),
	$batches, 'every reject once');

# One large call killed in flight leaves nothing behind.
$poster = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  "SELECT * FROM mailstatus.ingest_sendgrid_event(batch(999, 300000))" ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%batch(999%' AND state = 'active' AND pid <> pg_backend_pid()")
  or die 'large call did not start';
sleep 1;
$node->stop('immediate');
$poster->finish;
$node->start;
is($node->safe_psql('postgres', "SELECT count(*) FROM mailstatus.event WHERE event_key LIKE 'b999-%'"),
	'0', 'a call killed in flight stored nothing');

# pg_dump / pg_restore round trip, with monthly partitions, the default one, and a retention window.
$node->safe_psql('postgres', q{
  SELECT mailstatus.create_event_partitions(1);
  SELECT mailstatus.drop_event_partitions('2000-02-01');
  SELECT mailstatus.ingest_sendgrid_event('{"email":"late@example.com","timestamp":1500000000,"event":"open","sg_event_id":"in-default"}');
  SELECT mailstatus.record_send('Dump1', ARRAY['d@example.com'], '{"crm_record": "D-1"}', '2023-11-14 22:00+00');
  INSERT INTO mailstatus.webhook_key (public_key, label)
    VALUES ('MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDRduy/RZMsiTQ7TlpV9nNsfG/mT7O3WkDi1KzFTodA5vIlukMko6Rxv958e/5UCXQXYCA86E0TaMtksPtRWybA==', 'test');
});
my $fingerprint = q{
  SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT e::text AS x FROM mailstatus.event e
    UNION ALL SELECT r::text FROM mailstatus.recipient_status r
    UNION ALL SELECT m::text FROM mailstatus.message_status m
    UNION ALL SELECT j.reason || j.element::text FROM mailstatus.rejected_event j
    UNION ALL SELECT s::text FROM mailstatus.send s
    UNION ALL SELECT k.public_key || k.label FROM mailstatus.webhook_key k
    UNION ALL SELECT r.retained_since::text FROM mailstatus.event_retention r
    UNION ALL SELECT e.tableoid::regclass::text || e.event_key FROM mailstatus.event e) all_rows };
my $before = $node->safe_psql('postgres', $fingerprint);
my $dump = $node->basedir . '/mailstatus.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', $fingerprint), $before,
	'events, statuses, rejects, sends and keys round-trip through pg_dump/pg_restore');
is($node->safe_psql('restored', "SELECT extversion FROM pg_extension WHERE extname = 'mailstatus'"),
	'0.3.0', 'the restored database has the extension at the same version');
is($node->safe_psql('restored', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'mailstatus.event'::regclass}),
	$node->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'mailstatus.event'::regclass}),
	'every partition is restored, attached');
# The restored database keeps working: new rejects and keys get fresh ids.
is($node->safe_psql('restored', q{SELECT rejected FROM mailstatus.ingest_sendgrid_event('["new reject"]')}),
	'1', 'ingest works after restore');
is($node->safe_psql('restored', 'SELECT count(*) = count(DISTINCT id) FROM mailstatus.rejected_event'),
	't', 'reject ids stay unique after restore');

$node->stop;
done_testing();
