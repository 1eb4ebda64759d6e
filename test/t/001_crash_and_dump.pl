# Crash recovery and dump/restore of a database using mailstatus.
#  - The server is killed (-m immediate) while batches are being ingested: after restart each
#    batch is wholly stored or wholly absent, its state with it (every state row agrees with
#    the events kept: state_differences() is empty), and posting everything again completes
#    the picture without counting anything twice.
#  - pg_dump / pg_restore round-trips events, rejects, sends, keys and the state tables
#    (pg_extension_config_dump): what the CRM reads (recipient_status, suppression,
#    deliverability_daily, status_counts) is identical after restore, and ingest into the
#    restored database still dedups (a re-posted batch is all duplicates) and still merges
#    (a new event changes a status, the counters and the change log).
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run;
use MIME::Base64;
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
  -- Batch n: message M<n> to r1..r<size>@example.com, events 'b<n>-1' .. 'b<n>-<size>' of every
  -- kind (so recipients, suppressions, group suppressions, categories, custom args and the
  -- counters all have something to merge, across batches too: r<g> is in every batch), plus
  -- one element that is rejected.
  CREATE FUNCTION batch(n int, size int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_object(
             'email', 'r' || g || '@example.com', 'timestamp', 1700000000 + 1000 * n + g,
             'event', (ARRAY['processed', 'delivered', 'open', 'click', 'bounce', 'deferred', 'dropped',
                             'spamreport', 'unsubscribe', 'group_unsubscribe'])[1 + (n + g) % 10],
             'type', CASE WHEN g % 2 = 0 THEN 'bounce' ELSE 'blocked' END,
             'reason', 'reason ' || n, 'asm_group_id', 7, 'sg_machine_open', g % 3 = 0,
             'category', 'cat' || g % 3, 'crm_record', 'R-' || g,
             'sg_event_id', 'b' || n || '-' || g, 'sg_message_id', 'M' || n || '.filter0001.' || g)
           ORDER BY g) || jsonb_build_array(n)
      FROM generate_series(1, size) g $$;
  CREATE PROCEDURE post_all(batches int, size int) LANGUAGE plpgsql AS $$
  BEGIN
    FOR n IN 1..batches LOOP
      PERFORM mailstatus.ingest_sendgrid_event(batch(n, size));
      COMMIT;
    END LOOP;
  END $$;
  CREATE VIEW batch_counts AS
    SELECT split_part(mailstatus.event_key(e), '-', 1) AS batch, count(*) AS events
      FROM mailstatus.event e GROUP BY 1;
});

# The state tables against a recomputation from the raw rows: no row may differ.
sub state_is_right
{
	my ($db, $name) = @_;
	is($node->safe_psql($db, q{SELECT count(*) || coalesce(' ' || string_agg(state || ' ' || key || ': ' || coalesce(stored, '(none)')
	                                         || ' <> ' || coalesce(recomputed, '(none)'), '; '), '')
	                             FROM (SELECT * FROM mailstatus.state_differences() LIMIT 5) d}),
		'0', $name);
}

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
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT message_id) FROM mailstatus.recipient}),
	($stored_batches * $per_batch) . " $stored_batches",
	'the recipient state of committed batches survived, none of the lost ones');
state_is_right('postgres', 'after the crash, every state row agrees with the events kept');

# SendGrid re-posts everything (it retries what failed, and sometimes what succeeded).
$node->safe_psql('postgres', "CALL post_all($batches, $per_batch)");
is($node->safe_psql('postgres', 'SELECT count(*) || \' \' || sum(events) FROM batch_counts'),
	"$batches " . ($batches * $per_batch), 're-posting completes the picture: every event once');
is($node->safe_psql('postgres', 'SELECT count(*) FROM mailstatus.rejected_event'),
	$batches, 'every reject once');
is($node->safe_psql('postgres', 'SELECT count(*) FROM mailstatus.recipient'),
	$batches * $per_batch, 'every recipient once');
is($node->safe_psql('postgres', 'SELECT sum(recipients) FROM mailstatus.status_counts'),
	$batches * $per_batch, 'status_counts counts every recipient once');
state_is_right('postgres', 'after the re-post, every state row agrees with the events (nothing merged twice)');

# One large call killed in flight leaves nothing behind, in the events or in the state.
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
is($node->safe_psql('postgres', q{SELECT count(*) FROM mailstatus.event e WHERE mailstatus.event_key(e) LIKE 'b999-%'}),
	'0', 'a call killed in flight stored no event');
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM mailstatus.recipient WHERE message_id = 'M999')
                                       + (SELECT count(*) FROM mailstatus.recipient_custom_args WHERE message_id = 'M999')
                                       + (SELECT count(*) FROM mailstatus.status_change WHERE message_id = 'M999')}),
	'0', 'a call killed in flight merged nothing into the state');
state_is_right('postgres', 'after the second crash, every state row agrees with the events kept');

# Landing mode: a post that landed is durable before any flush: it survives a crash unflushed,
# and the flush after the restart merges it once.
$node->safe_psql('postgres', q{
  INSERT INTO mailstatus.landing_flush (flushed_at) VALUES (now()) ON CONFLICT (single_row) DO UPDATE SET flushed_at = now();
  SET mailstatus.ingest_mode = landing;
  SET mailstatus.flush_interval = '1d';
  SELECT * FROM mailstatus.ingest_sendgrid_event(batch(1001, 500));
});
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM mailstatus.landed_event) || ' ' || (SELECT count(*) FROM mailstatus.landed_reject)
                                       || ' ' || (SELECT count(*) FROM mailstatus.recipient WHERE message_id = 'M1001')}),
	'500 1 0', 'a landed post survives a crash, not yet merged');
is($node->safe_psql('postgres', 'SELECT flushed || \' \' || stored || \' \' || rejected FROM mailstatus.flush()'),
	'500 500 1', 'the flush after the restart moves it');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mailstatus.recipient WHERE message_id = 'M1001'}),
	'500', 'and merges every recipient once');
state_is_right('postgres', 'after a crash in landing mode and a flush, every state row agrees with the events kept');

# pg_dump / pg_restore round trip, with monthly partitions, the default one, a retention
# window, a send, a lifted suppression and a webhook key (whose signing key test/webhook has).
$node->safe_psql('postgres', q{
  SELECT mailstatus.create_event_partitions(1);
  SELECT mailstatus.drop_event_partitions('2000-02-01');
  SELECT mailstatus.ingest_sendgrid_event('{"email":"late@example.com","timestamp":1500000000,"event":"open","sg_event_id":"in-default"}');
  SELECT mailstatus.record_send('Dump1', ARRAY['d@example.com'], '{"crm_record": "D-1"}', '2023-11-14 22:00+00');
  SELECT mailstatus.lift_suppression('r5@example.com');
});
my $public_key = slurp_file('test/webhook/test-public-key.b64');
chomp $public_key;
$node->safe_psql('postgres', "INSERT INTO mailstatus.webhook_key (public_key, label) VALUES ('$public_key', 'test')");

# What is compared across the dump, each as an md5 of its rows as text, and their count.
my @compared = (
	[ 'events (as posted, with their partition)',
	  q{SELECT e.tableoid::regclass::text || ' ' || mailstatus.event_payload(e)::text || ' ' || e::text FROM mailstatus.event e} ],
	[ 'recipient_status', q{SELECT r::text FROM mailstatus.recipient_status r} ],
	[ 'message_status', q{SELECT m::text FROM mailstatus.message_status m} ],
	[ 'suppression', q{SELECT s::text FROM mailstatus.suppression s} ],
	[ 'deliverability_daily', q{SELECT d::text FROM mailstatus.deliverability_daily d} ],
	[ 'deliverability per category', q{SELECT d::text FROM mailstatus.deliverability_daily_by('category') d} ],
	[ 'status_counts', q{SELECT s::text FROM mailstatus.status_counts s} ],
	[ 'the recipient state', q{SELECT r::text FROM mailstatus.recipient r} ],
	[ 'the suppression states', q{SELECT s::text FROM mailstatus.suppression_state s
	                              UNION ALL SELECT g::text FROM mailstatus.group_suppression_state g} ],
	[ 'recipient_custom_args', q{SELECT a::text FROM mailstatus.recipient_custom_args a} ],
	[ 'the counters', q{SELECT d::text FROM mailstatus.deliverability_day d
	                    UNION ALL SELECT c::text FROM mailstatus.deliverability_category_day c
	                    UNION ALL SELECT s::text FROM mailstatus.recipient_count_by_status s} ],
	[ 'status_change', q{SELECT c::text FROM mailstatus.status_change c} ],
	[ 'rejects, sends, keys and the retention window',
	  q{SELECT j.reason || j.element::text FROM mailstatus.rejected_event j
	    UNION ALL SELECT s::text FROM mailstatus.send s
	    UNION ALL SELECT k.public_key || k.label FROM mailstatus.webhook_key k
	    UNION ALL SELECT r.retained_since::text FROM mailstatus.event_retention r} ]);
sub fingerprints
{
	my ($db) = @_;
	my %fingerprint;
	for my $c (@compared)
	{
		$fingerprint{ $c->[0] } = $node->safe_psql($db,
			"SELECT count(*) || ' ' || coalesce(md5(string_agg(x, '|' ORDER BY x)), '-') FROM ($c->[1]) AS all_rows(x)");
	}
	return %fingerprint;
}
my %before = fingerprints('postgres');
for my $c (@compared)
{
	my ($rows) = split / /, $before{ $c->[0] };
	cmp_ok($rows, '>', 0, "before the dump, $c->[0] has rows to compare ($rows)");
}
state_is_right('postgres', 'before the dump, every state row agrees with the events kept');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mailstatus.suppression WHERE email = 'r5@example.com' AND asm_group_id IS NULL}),
	'0', 'a lifted suppression is not listed');

my $dump = $node->basedir . '/mailstatus.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
my %after = fingerprints('restored');
for my $c (@compared)
{
	is($after{ $c->[0] }, $before{ $c->[0] }, "$c->[0] round-trips through pg_dump/pg_restore");
}
is($node->safe_psql('restored', "SELECT extversion FROM pg_extension WHERE extname = 'mailstatus'"),
	$node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'mailstatus'"),
	'the restored database has the extension at the same version');
is($node->safe_psql('restored', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'mailstatus.event'::regclass}),
	$node->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'mailstatus.event'::regclass}),
	'every partition is restored, attached');
is($node->safe_psql('restored', q{SELECT count(*) FROM pg_inherits i JOIN pg_constraint c ON c.conrelid = i.inhrelid AND c.contype = 'p'
                                  WHERE i.inhparent = 'mailstatus.event'::regclass}),
	$node->safe_psql('restored', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'mailstatus.event'::regclass}),
	'every restored partition has its primary key');
state_is_right('restored', 'after restore, every state row agrees with the events restored');

# The restored database keeps its keys: an unsigned body is refused, a signed one is taken.
my ($rc, $stdout, $stderr) = $node->psql('restored', q{SELECT * FROM mailstatus.ingest_sendgrid_event('["x"]')});
like($stderr, qr/webhook signatures are required/, 'after restore, unsigned ingest is still refused (the keys came back)');
my $keydir = tempdir(CLEANUP => 1);
# Posts a body to the restored database signed with the test key; returns "stored|duplicates|rejected".
sub post_signed
{
	my ($body) = @_;
	my $timestamp = time();
	open(my $fh, '>', "$keydir/payload") or die $!;
	binmode $fh;
	print $fh $timestamp . $body;
	close $fh;
	system('openssl', 'dgst', '-sha256', '-sign', 'test/webhook/test-signing-key.pem',
		'-out', "$keydir/signature", "$keydir/payload") == 0
	  or die 'openssl could not sign';
	my $signature = encode_base64(slurp_file("$keydir/signature"), '');
	(my $quoted = $body) =~ s/'/''/g;
	return $node->safe_psql('restored',
		"SELECT stored || '|' || duplicates || '|' || rejected FROM mailstatus.ingest_sendgrid_webhook('$quoted', '$signature', '$timestamp')");
}

# Ingest after restore still dedups: batch 1 posted again is all duplicates, and the state is
# untouched (nothing merged twice).
my $batch_1 = $node->safe_psql('restored', "SELECT batch(1, $per_batch)::text");
is(post_signed($batch_1), "0|$per_batch|1", 'after restore, a re-posted batch is all duplicates');
my %reposted = fingerprints('restored');
for my $c (@compared)
{
	next if $c->[0] =~ /^rejects/;
	is($reposted{ $c->[0] }, $before{ $c->[0] }, "after restore, a re-posted batch leaves $c->[0] as it was");
}

# Ingest after restore still merges: a drop for r1 of M1 raises its status to dropped; the
# status counts, the figures of r1's send day and the change log follow.
my $status_before = $node->safe_psql('restored', q{SELECT status FROM mailstatus.recipient_status WHERE message_id = 'M1' AND email = 'r1@example.com'});
isnt($status_before, 'dropped', "r1 of M1 is $status_before before the new event");
my $counts_before = $node->safe_psql('restored', q{SELECT string_agg(status || '=' || recipients, ',' ORDER BY status) FROM mailstatus.status_counts});
my $send_day = $node->safe_psql('restored', q{SELECT f.day FROM mailstatus.recipient r, mailstatus.activity_figures(r.activity) f
                                               WHERE r.message_id = 'M1' AND r.email = 'r1@example.com'});
my $dropped_before = $node->safe_psql('restored', "SELECT dropped FROM mailstatus.deliverability_daily WHERE day = '$send_day'");
my $last_change = $node->safe_psql('restored', 'SELECT max(id) FROM mailstatus.status_change');
is(post_signed('[{"email":"r1@example.com","timestamp":1700100000,"event":"dropped","reason":"after restore","sg_event_id":"after-restore-1","sg_message_id":"M1.filter0001.x"}]'),
	'1|0|0', 'after restore, a new event is stored');
is($node->safe_psql('restored', q{SELECT status || ' ' || reason FROM mailstatus.recipient_status WHERE message_id = 'M1' AND email = 'r1@example.com'}),
	'dropped after restore', 'after restore, a new event changes the recipient\'s status');
my $counts_after = $node->safe_psql('restored', q{SELECT string_agg(status || '=' || recipients, ',' ORDER BY status) FROM mailstatus.status_counts});
isnt($counts_after, $counts_before, "status_counts follow ($counts_before -> $counts_after)");
is($node->safe_psql('restored', "SELECT dropped FROM mailstatus.deliverability_daily WHERE day = '$send_day'"),
	($dropped_before || 0) + 1, "the dropped figure of r1's send day ($send_day) counts the new drop");
# Ids after the restored sequence's value (a crash may have skipped some: no exact id).
is($node->safe_psql('restored', "SELECT string_agg(message_id || ' ' || email || ' ' || old_status || '->' || new_status, ',')
                                   FROM mailstatus.status_change WHERE id > $last_change"),
	"M1 r1\@example.com $status_before->dropped", 'the change is logged once, with a fresh id');
is($node->safe_psql('restored', 'SELECT count(*) = count(DISTINCT id) FROM mailstatus.status_change'),
	't', 'status_change ids stay unique after restore');
state_is_right('restored', 'after ingest into the restored database, every state row agrees with the events');

# New rejects get fresh ids.
is(post_signed('["new reject"]'), '0|0|1', 'a new reject is stored after restore');
is($node->safe_psql('restored', 'SELECT count(*) = count(DISTINCT id) FROM mailstatus.rejected_event'),
	't', 'reject ids stay unique after restore');

$node->stop;
done_testing();
