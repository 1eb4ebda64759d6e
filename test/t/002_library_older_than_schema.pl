# A connection whose library is older than the extension's schema (issue 22).
# A backend keeps the library it loaded first: once a new package is installed and
# ALTER EXTENSION mailstatus UPDATE has run, the connections that had loaded the old
# library still run it, against the newer schema. The library compares its own version
# with the extension's at each ingest call; when the extension is newer, the call fails
# once with FATAL 55000 (both versions named, the hint to connect again) and the
# connection is closed, so that a pool opens a new one, which loads the installed library.
# A test has one library: the extension is made newer than it by writing the version the
# catalog holds, as an update to a later version would; put back, new connections store.
#  - the handler's connection posts, the version moves on in another session, its next
#    post gets the FATAL and the connection is gone; so on every ingest entry point;
#  - versions compare as numbers (a.(b+10).0 is newer than a.b.0, though not as text);
#    the same version written shorter, or an older one, is not refused this way.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION mailstatus;
  CREATE SEQUENCE post_number;
  -- Post n: a delivery, an async bounce that names no message, an element that is rejected.
  CREATE FUNCTION batch(n bigint) RETURNS text LANGUAGE sql AS $$
    SELECT jsonb_build_array(
             jsonb_build_object('email', 'ann@example.com', 'timestamp', 1700000000 + n, 'event', 'delivered',
                                'sg_event_id', 'd' || n, 'sg_message_id', 'M' || n || '.filter0001-1'),
             jsonb_build_object('email', 'ann@example.com', 'timestamp', 1700000100 + n, 'event', 'bounce',
                                'type', 'bounce', 'sg_event_id', 'b' || n, 'sg_message_id', ''),
             'not an event ' || n)::text $$;
});
my $library = $node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'mailstatus'});
my ($major, $minor, $patch) = split /\./, $library;

my %entry_point = (
	'ingest_sendgrid_webhook' => q{SELECT * FROM mailstatus.ingest_sendgrid_webhook(batch(nextval('post_number')))},
	'ingest_sendgrid_event(jsonb)' => q{SELECT * FROM mailstatus.ingest_sendgrid_event(batch(nextval('post_number'))::jsonb)},
	'ingest_sendgrid_event(text)' => q{SELECT * FROM mailstatus.ingest_sendgrid_event(batch(nextval('post_number')))});

# Writes the extension's version in the catalog, from a session of its own.
sub set_extension_version
{
	my ($version) = @_;
	$node->safe_psql('postgres', "UPDATE pg_extension SET extversion = '$version' WHERE extname = 'mailstatus'");
}

# The handler's connection: a psql fed one post at a time, which lives until the server closes it.
for my $name (sort keys %entry_point)
{
	my ($in, $out, $err) = ('', '', '');
	my $timer = IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default);
	my $handler = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres') ],
		'<', \$in, '>', \$out, '2>', \$err, $timer);
	$in .= "$entry_point{$name};\n\\echo posted\n";
	pump_until($handler, $timer, \$out, qr/posted\n/) or die "$name: the first post did not return";
	is($out, "2|0|1\nposted\n", "$name: the handler's connection stores at $library");

	set_extension_version("$major.$minor.${\($patch + 1)}");
	$out = '';
	$in .= "$entry_point{$name};\n\\echo posted again\n";
	ok(!$handler->finish, "$name: after the extension moved past the library, the next post ends the connection");
	is($handler->result(0), 2, "$name: psql lost its connection (exit code 2)");
	like($err, qr/FATAL:  mailstatus was updated to $major\.$minor\.${\($patch + 1)} after this connection loaded the library of $library\n/,
		"$name: the FATAL names the extension's version and the library's");
	like($err, qr/HINT:  Connect again: a new connection loads the library installed with $major\.$minor\.${\($patch + 1)}\./,
		"$name: the hint says to connect again");
	is($out, '', "$name: nothing ran after it on that connection");
	set_extension_version($library);
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM mailstatus.event'), '6',
	'the posts refused stored nothing; a new connection finds every event stored before');

# Versions compare as numbers; the same version or an older one is not refused this way.
for my $newer ("$major.${\($minor + 10)}.0", "${\($major + 1)}.0.0", "$major.$minor.$patch.1")
{
	set_extension_version($newer);
	my ($rc, $stdout, $stderr) = $node->psql('postgres', $entry_point{'ingest_sendgrid_webhook'});
	like($stderr, qr/FATAL:  mailstatus was updated to \Q$newer\E after this connection loaded the library of \Q$library\E/,
		"$newer is newer than $library: refused");
}
for my $not_newer ("$major.$minor", $library, "$major.$minor.$patch-devel", '0.4.0')
{
	set_extension_version($not_newer);
	is($node->safe_psql('postgres', $entry_point{'ingest_sendgrid_webhook'}), '2|0|1',
		"$not_newer is not newer than $library: stored");
}
set_extension_version($library);

my ($rc, $stdout, $stderr) = $node->psql('postgres', $entry_point{'ingest_sendgrid_webhook'});
is($stdout, '2|0|1', 'with the version put back, a new connection stores');
is($node->safe_psql('postgres', 'SELECT count(*) FROM mailstatus.state_differences()'), '0',
	'the state agrees with the events stored');

$node->stop;
done_testing();
