# Every SQL block of README.md and docs/*.md runs, as the role its text says runs it, and
# prints what test/docs/expected.out says: documentation that cannot rot.
#  - Each ```sql block is tagged in the markdown by the HTML comment on the line before it:
#      <!-- docs-test: ROLE[, first][; TEXT => REPLACEMENT]... -->   or   <!-- docs-test: skip: WHY -->
#    ROLE is owner (the extension's owner, the superuser here) or a role of README's recipe
#    (crm_webhook, crm_reader, crm_worker), which connects as that role; blocks marked first
#    (the recipe) run before the others, the rest in order: README.md, then docs/*.md by name.
#    Each TEXT of the block is replaced by REPLACEMENT, a psql variable this test sets:
#    :'body' (a webhook body of SendGrid events), :'signature' and :'timestamp' (its signature
#    headers, made with the test key), :'public_key' and :'public_key_pem' (that key, base64
#    and PEM), :change_id (the id of the latest status change). A block without a tag fails.
#  - The events of the body occurred on the 1st of the current UTC month, from 00:00:00 on:
#    the output shows that day as <1st>, and times within the run (a send recorded with now())
#    as <now>. Within a minute of a month's turn, the test waits for it to pass.
#  - Each block is run by psql with ON_ERROR_STOP and its statements echoed, rows unaligned
#    (a masked value leaves no width behind); its output is compared with its section of
#    test/docs/expected.out. The whole output is written to
#    tmp_check/docs_sql.out (copy it over the expected file once every line is read).
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run;
use MIME::Base64;
use POSIX qw(strftime);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::Local qw(timegm);

my $root = '.';
my @files = ('README.md', sort glob('docs/*.md'));
my $expected_path = 'test/docs/expected.out';
my $results_path = $PostgreSQL::Test::Utils::tmp_check . '/docs_sql.out';

# --- the blocks -------------------------------------------------------------------------
my @blocks;
for my $file (@files)
{
	my @lines = split /\n/, slurp_file("$root/$file");
	my $ordinal = 0;
	for (my $i = 0; $i < @lines; $i++)
	{
		next unless $lines[$i] =~ /^(\s*)```sql\s*$/;
		my $indent = $1;    # a block in a list item is indented
		$ordinal++;
		my $j = $i + 1;
		my @sql;
		push @sql, $lines[$j++] =~ s/^\Q$indent\E//r while $j < @lines && $lines[$j] !~ /^\s*```/;
		my %block = (id => "$file block $ordinal", line => $i + 1, sql => join("\n", @sql) . "\n");
		my $tag = $i > 0 ? $lines[ $i - 1 ] =~ s/^\s+//r : '';
		if ($tag =~ /^<!-- docs-test: skip: (.+?) -->$/)
		{
			$block{skip} = $1;
		}
		elsif ($tag =~ /^<!-- docs-test: (\w+)(, first)?((?:; .+? => \S+)*) -->$/)
		{
			@block{qw(role first)} = ($1, defined $2);
			for my $replacement (split /; /, substr($3, 2))
			{
				my ($text, $by) = $replacement =~ /^(.+?) => (\S+)$/;
				$block{sql} =~ s/\Q$text\E/$by/g;
			}
		}
		else
		{
			$block{untagged} = 1;
		}
		push @blocks, \%block;
		$i = $j;
	}
}
cmp_ok(scalar @blocks, '>=', 15, 'the docs have their SQL blocks (' . scalar(@blocks) . ')');

# --- the time: the 1st of this UTC month, not within a minute of a month's turn --------------
sub month_start { my @t = gmtime(shift); return timegm(0, 0, 0, 1, $t[4], $t[5]); }
for (1 .. 2)
{
	my $now = time();
	my $next_month = month_start(month_start($now) + 32 * 86400);
	my $wait = $now < month_start($now) + 60 ? month_start($now) + 60 - $now
	  : $now > $next_month - 60 ? $next_month + 60 - $now : 0;
	last if $wait == 0;
	diag("waiting $wait s for the month's turn to pass");
	sleep $wait;
}
my $first = month_start(time());
my $first_date = strftime('%Y-%m-%d', gmtime($first));
my $run_start = time();

# --- the server, the body and its signature ---------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\ndatestyle = 'ISO, YMD'\nlc_messages = 'C'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION mailstatus');

my $body = slurp_file('test/docs/events.json');
$body =~ s/T\+(\d+)/$first + $1/ge;
my $keydir = tempdir(CLEANUP => 1);
my $timestamp = time();
open(my $fh, '>', "$keydir/payload") or die $!;
binmode $fh;
print $fh $timestamp . $body;
close $fh;
system('openssl', 'dgst', '-sha256', '-sign', 'test/webhook/test-signing-key.pem', '-out', "$keydir/signature",
	"$keydir/payload") == 0 or die 'openssl could not sign';
my $signature = encode_base64(slurp_file("$keydir/signature"), '');
my $public_key = slurp_file('test/webhook/test-public-key.b64');
chomp $public_key;
my $public_key_pem = slurp_file('test/webhook/test-public-key.pem');

# --- each block as its role -------------------------------------------------------------
# Times of the run become <now>, the fixture's day <1st>.
sub masked
{
	my ($output, $run_end) = @_;
	$output =~ s{(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?\+00}{
		my $t = timegm($6, $5, $4, $3, $2 - 1, $1);
		$t >= $run_start - 5 && $t <= $run_end + 5 ? '<now>' : "$1-$2-$3 $4:$5:$6" . ($7 // '') . '+00' }ge;
	$output =~ s/\Q$first_date\E/<1st>/g;
	return $output;
}

my %expected;
{
	my $section;
	for my $line (split /\n/, -e $expected_path ? slurp_file($expected_path) : '')
	{
		if ($line =~ /^=== (.+?) \(/) { $section = $1; $expected{$section} = ''; next; }
		$expected{$section} .= "$line\n" if defined $section;
	}
}

my $results = '';
for my $block ((grep { $_->{first} } @blocks), (grep { !$_->{first} } @blocks))
{
	my $id = $block->{id};
	if ($block->{untagged})
	{
		fail("$id (line $block->{line}) has no docs-test tag: say which role runs it");
		next;
	}
	if ($block->{skip})
	{
	  SKIP: { skip("$id: $block->{skip}", 1); }
		next;
	}
	my $change_id = $node->safe_psql('postgres', 'SELECT COALESCE(max(id), 0) FROM mailstatus.status_change');
	my @role = $block->{role} eq 'owner' ? () : ('-U', $block->{role});
	my ($stdout, $stderr) = ('', '');
	my $ok = IPC::Run::run(
		[ 'psql', '-X', '-a', '-A', '-F', ' | ', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port, @role, '-d', 'postgres',
		  '-v', "body=$body", '-v', "signature=$signature", '-v', "timestamp=$timestamp",
		  '-v', "public_key=$public_key", '-v', "public_key_pem=$public_key_pem", '-v', "change_id=$change_id" ],
		'<', \$block->{sql}, '>', \$stdout, '2>&1');
	my $output = masked($stdout, time());
	$results .= "=== $id (as $block->{role})\n$output";
	if (!$ok)
	{
		fail("$id runs as $block->{role}");
		diag($output);
		next;
	}
	if (!defined $expected{$id})
	{
		fail("$id runs as $block->{role}: no section in $expected_path");
		next;
	}
	is($output, $expected{$id}, "$id runs as $block->{role} and prints what $expected_path says");
}
open(my $out, '>', $results_path) or die $!;
print $out $results;
close $out;
diag("the output is in $results_path");

done_testing();
