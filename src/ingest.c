/*
 * Ingest: webhook elements mapped into a batch, then stored in one go.
 *
 * A call maps every element (sendgrid_event.c), rejects the ones that cannot
 * be stored (once each, by content), attributes async bounces to their send,
 * and sorts the events by recipient, time and content hash.  Then it takes
 * its locks in one order, the same for every post, across all its statements
 * (so concurrent, overlapping posts wait for each other and never deadlock):
 * its rejects in key order; its events in key order, a chunk per statement
 * (INSERT ... ON CONFLICT DO NOTHING into mailstatus.event through the
 * executor, so triggers on the table fire, RETURNING the rows that were new);
 * then all its new events at once to merge_events, which merges their partial
 * states into the state tables with the aggregates' combine functions, one
 * statement per table: recipients in key order, the counters, the
 * suppressions.  Stored and duplicate counts come from RETURNING: on Citus
 * the command's own count also holds the duplicates.  In landing mode
 * (landing.c) the same rows go to the local tables landed_event and
 * landed_reject instead, and a flush merges them later (12_flush.sql).
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include <openssl/evp.h>

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "ingest.h"
#include "landing.h"

/* Events or rejects inserted per statement: bounds the arrays a huge body builds at once. */
#define INGEST_CHUNK_ROWS 1000
#define DIGEST_BYTES 32

/* A rejected element, kept once whatever how often the call carries it. */
typedef struct RejectedElement
{
	unsigned char digest[DIGEST_BYTES]; /* SHA-256 of the element: the hash key */
	const char *reason;
	Jsonb	   *element;
} RejectedElement;

/*
 * Plans prepared at their first use and kept for the backend's life.
 * PostgreSQL's plan cache plans them again when an object they name is
 * altered, dropped or made again (an extension update, DROP and CREATE
 * EXTENSION); what it cannot follow is the parameter type insert_events,
 * merge_events and land_events were prepared with, the event table's row
 * type.  So they are made again when mailstatus.event is another table:
 * event_plans_for and land_plan_for are the places that decide; the others
 * take built-in types only.
 */
static struct
{
	Oid			event_relid;	/* the table insert_events was made for */
	SPIPlanPtr	insert_events;
	SPIPlanPtr	merge_events;
	Oid			land_relid;		/* the table land_events was made for */
	SPIPlanPtr	land_events;	/* landing mode: into landed_event */
	SPIPlanPtr	insert_rejects;
	SPIPlanPtr	land_rejects;	/* landing mode: into landed_reject */
	SPIPlanPtr	flush_when_due;
	SPIPlanPtr	attribute_bounce;
	SPIPlanPtr	state_before_closed_days;
}			ingest_plans;

/* Whether version a is newer than version b: dot-separated numbers, compared number by number. */
static bool
version_is_newer(const char *a, const char *b)
{
	for (;;)
	{
		long		x = 0;
		long		y = 0;

		for (; isdigit((unsigned char) *a); a++)
			x = Min(x * 10 + (*a - '0'), 1000000000L);
		for (; isdigit((unsigned char) *b); b++)
			y = Min(y * 10 + (*b - '0'), 1000000000L);
		if (x != y)
			return x > y;
		if (*a != '.' && *b != '.')
			return false;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
}

/* The version of the extension in this database's catalog, or NULL when it is not installed. */
static char *
installed_extension_version(void)
{
	Relation	extensions = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("mailstatus"));
	scan = systable_beginscan(extensions, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;

		/* Not heap_getattr: newer 17.x headers make it call heap_datum_check, which servers of earlier 17.x minors lack. */
		Datum		extversion = fastgetattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(extensions), &isnull);

		if (!isnull)
			version = TextDatumGetCString(extversion);
	}
	systable_endscan(scan);
	table_close(extensions, AccessShareLock);
	return version;
}

/*
 * Ends the connection when the extension was updated past this library.  A
 * backend keeps the library it loaded first, whatever was installed since,
 * and this one cannot know a newer schema: only a new connection, which loads
 * the installed library, can.  FATAL fails this one call and closes the
 * connection, so that a pool opens a new one, instead of an error on every
 * call for as long as the pool keeps it.
 */
static void
end_connection_if_library_is_older(void)
{
	char	   *version = installed_extension_version();

	if (version != NULL && version_is_newer(version, MAILSTATUS_VERSION))
		ereport(FATAL,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("mailstatus was updated to %s after this connection loaded the library of %s",
						version, MAILSTATUS_VERSION),
				 errdetail("A connection keeps the library it loaded first, and that library cannot work with a newer schema."),
				 errhint("Connect again: a new connection loads the library installed with %s.", version)));
}

/* An array grown (doubling) to hold at least needed elements; *capacity is updated. */
static void *
grow_array(void *array, int *capacity, int needed, Size element_size)
{
	if (needed <= *capacity)
		return array;
	*capacity = Max(Max(64, needed), *capacity * 2);
	if (array == NULL)
		return palloc(element_size * *capacity);
	return repalloc_huge(array, element_size * *capacity);
}

/* Runs a query of one result column through SPI; the first row's value, or isnull. */
static Datum
spi_value(const char *query, bool *isnull)
{
	if (SPI_execute(query, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not run \"%s\"", query);
	if (SPI_processed == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

/*
 * Reads the retention window drop_event_partitions set: events that occurred
 * before it are rejected, not stored.  Then the days forget_recipients closed:
 * every day up to the one of its cut-off counts the recipients it forgot, so
 * an event on those days is stored only for a recipient whose state holds
 * something of them (reject_if_on_closed_days).  FOR SHARE holds off a
 * concurrent drop_event_partitions or forget_recipients until this
 * transaction ends, so no event of this batch lands in a month being dropped
 * or is judged against a cut-off being moved.  A landing post takes neither
 * lock (on Citus both tables are reference tables, locked on every node): the
 * flush checks the retention window again, under its lock, and the landing
 * table held since lock_landing_table keeps forget_recipients waiting.
 */
static void
read_retention(IngestBatch *batch)
{
	bool		isnull;
	Datum		since = spi_value(batch->landing
								  ? "SELECT r.retained_since FROM mailstatus.event_retention r"
								  : "SELECT r.retained_since FROM mailstatus.event_retention r FOR SHARE", &isnull);
	Datum		closed_until;

	batch->has_retention = !isnull;
	if (!isnull)
		batch->retained_since = DatumGetTimestampTz(since);
	closed_until = spi_value(batch->landing
							 ? "SELECT pg_catalog.date_trunc('day', r.forgotten_before, 'UTC') "
							 "OPERATOR(pg_catalog.+) '1 day'::interval "
							 "FROM mailstatus.recipient_retention r"
							 : "SELECT pg_catalog.date_trunc('day', r.forgotten_before, 'UTC') "
							 "OPERATOR(pg_catalog.+) '1 day'::interval "
							 "FROM mailstatus.recipient_retention r FOR SHARE", &isnull);
	batch->has_closed_days = !isnull;
	if (!isnull)
		batch->closed_until = DatumGetTimestampTz(closed_until);
}

/*
 * A landing post holds its landing table from before it reads the cut-off of
 * forget_recipients, which it reads without a lock: forget_recipients locks
 * the table (SHARE) before it flushes and moves the cut-off, so it waits for
 * the posts under way, its flush merges their events before it forgets, and a
 * post after it reads the new cut-off.  (Otherwise an event judged by the old
 * cut-off and flushed after the forget brought a forgotten recipient back.)
 */
static void
lock_landing_table(void)
{
	RangeVarGetRelid(makeRangeVar("mailstatus", "landed_event", -1), RowExclusiveLock, false);
}

/*
 * The event table gets a default partition before its first insert, so that
 * no event lacks a partition to go to.  Called before this transaction takes
 * any lock on the table (the function takes a stronger one), and after the
 * retention window's (the order maintenance takes them in).
 */
static void
ensure_default_partition(void)
{
	bool		isnull;

	if (OidIsValid(get_default_partition_oid(RangeVarGetRelid(makeRangeVar("mailstatus", "event", -1), NoLock, false))))
		return;
	spi_value("SELECT mailstatus.ensure_event_default_partition()", &isnull);
}

/*
 * Refuses the event table's layout when it is an older version's (the
 * library is newer than the schema until the update): a column the library
 * writes is missing, or the table is not partitioned.  Read from the catalog
 * alone, so that it needs no lock on the table.
 */
static void
require_current_layout(Oid event_relid)
{
	for (int c = 0; c < EVENT_NCOLUMNS; c++)
	{
		if (get_attnum(event_relid, event_column_names[c]) == InvalidAttrNumber ||
			get_rel_relkind(event_relid) != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("mailstatus.event has the layout of an older version of mailstatus"),
					 errdetail("The library installed is newer than the extension's schema in this database."),
					 errhint("Update the extension: ALTER EXTENSION mailstatus UPDATE;")));
	}
}

/*
 * mailstatus.event, locked in lockmode: refused when the extension is newer
 * than this library (the connection ends), when the table is missing or has
 * an older version's layout.  A lock waited for brings what an update
 * committed meanwhile: the name is looked up again after it.
 */
static Oid
checked_event_table(LOCKMODE lockmode)
{
	Oid			event_relid;

	end_connection_if_library_is_older();
	event_relid = RangeVarGetRelid(makeRangeVar("mailstatus", "event", -1), lockmode, true);
	if (!OidIsValid(event_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table mailstatus.event does not exist"),
				 errhint("Update the extension: ALTER EXTENSION mailstatus UPDATE;")));
	require_current_layout(event_relid);
	return event_relid;
}

/* Refuses a schema this library cannot work with (checked_event_table), before a call reads anything of it, taking no lock. */
void
ingest_require_schema(void)
{
	checked_event_table(NoLock);
}

/* Prepares and keeps a plan for the rest of the backend's life. */
static SPIPlanPtr
prepare_kept_plan(const char *query, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(query, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", query, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * A batch with nothing in it, stamped with the transaction's time, its rows
 * to be formed for the event table as it is now.  The table is locked only
 * while its row type is read, as PostgreSQL's type cache does: ingest locks
 * it for good when it stores (lock_event_table_for_store), after the send
 * and rejected_event tables, the order an update takes them in too.
 */
void
ingest_batch_init(IngestBatch *batch, const char *function)
{
	HASHCTL		rejects_hash;

	memset(batch, 0, sizeof(IngestBatch));
	batch->function = function;
	batch->landing = ingest_lands_posts();
	batch->received_at = GetCurrentTransactionStartTimestamp();
	batch->scratch = AllocSetContextCreate(CurrentMemoryContext, "mailstatus event mapping",
										   ALLOCSET_DEFAULT_SIZES);
	/* A generation context: no rounding of each tuple up to a power of two. */
	batch->rows = GenerationContextCreate(CurrentMemoryContext, "mailstatus stored events",
										  ALLOCSET_DEFAULT_SIZES);
	rejects_hash.keysize = DIGEST_BYTES;
	rejects_hash.entrysize = sizeof(RejectedElement);
	rejects_hash.hcxt = CurrentMemoryContext;
	batch->rejects = hash_create("mailstatus rejected elements", 64, &rejects_hash,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (batch->landing)
		lock_landing_table();
	read_retention(batch);
	/* A landing post leaves the event table alone: the flush makes the partition. */
	if (!batch->landing)
		ensure_default_partition();
	SPI_finish();
	batch->event_relid = checked_event_table(AccessShareLock);
	batch->rowdesc = lookup_rowtype_tupdesc_copy(get_rel_type_id(batch->event_relid), -1);
	event_columns_of(batch->rowdesc, batch->attnum_of_column);
	UnlockRelationOid(batch->event_relid, AccessShareLock);
}

/* Frees a kept plan, if any, and forgets it (until it is made again: preparing may fail). */
static void
drop_kept_plan(SPIPlanPtr *plan)
{
	if (*plan != NULL)
		SPI_freeplan(*plan);
	*plan = NULL;
}

/* Makes the plans that take the event table's row type again unless they were made for event_relid's table (see ingest_plans). */
static void
event_plans_for(Oid event_relid)
{
	Oid			argtype = get_array_type(get_rel_type_id(event_relid));

	if (ingest_plans.insert_events != NULL && ingest_plans.event_relid == event_relid)
		return;
	drop_kept_plan(&ingest_plans.insert_events);
	drop_kept_plan(&ingest_plans.merge_events);
	ingest_plans.merge_events = prepare_kept_plan("SELECT mailstatus.merge_events($1)", 1, &argtype);
	ingest_plans.insert_events = prepare_kept_plan(
		"WITH stored AS (INSERT INTO mailstatus.event AS e SELECT * FROM pg_catalog.unnest($1) "
		"ON CONFLICT DO NOTHING RETURNING ROW(e.*)::mailstatus.event AS e) "
		"SELECT pg_catalog.array_agg(s.e) FROM stored s",
		1, &argtype);
	ingest_plans.event_relid = event_relid;
}

/*
 * Makes the landing plan again unless it was made for event_relid's table
 * (see ingest_plans).  Apart from event_plans_for: preparing an insert into
 * the event table locks it till the end of the transaction, which a landing
 * post must not (a flush in another session, making the table's default
 * partition, would wait for this post while this post waits for that one's
 * landed rows).
 */
static void
land_plan_for(Oid event_relid)
{
	Oid			argtype = get_array_type(get_rel_type_id(event_relid));

	if (ingest_plans.land_events != NULL && ingest_plans.land_relid == event_relid)
		return;
	drop_kept_plan(&ingest_plans.land_events);
	ingest_plans.land_events = prepare_kept_plan(
		"WITH landed AS (INSERT INTO mailstatus.landed_event SELECT * FROM pg_catalog.unnest($1) "
		"ON CONFLICT ON CONSTRAINT landed_event_pkey DO NOTHING RETURNING 1) "
		"SELECT pg_catalog.count(*) FROM landed",
		1, &argtype);
	ingest_plans.land_relid = event_relid;
}

/* A time as text in UTC, whatever the session's time zone: the reasons stored say the same to everyone. */
static char *
utc_time_text(TimestampTz at)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		text[MAXDATELEN + 1];

	if (timestamp2tm(at, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, text);
	return psprintf("%s+00", text);
}

/* Rejects an event that occurred before the retention window: its month was dropped. */
static void
reject_if_before_retention(IngestBatch *batch, MappedEvent *row)
{
	TimestampTz occurred_at = DatumGetTimestampTz(row->values[EVENT_COL_OCCURRED_AT]);

	if (batch->has_retention && occurred_at < batch->retained_since)
		row->reject_reason = psprintf("the event occurred at %s, before the retention window: "
									  "events before %s are no longer kept",
									  utc_time_text(occurred_at), utc_time_text(batch->retained_since));
}

/*
 * An async bounce that names no message belongs to the address's latest send
 * recorded before it (attributed_message_id): the CRM's record then shows it.
 * Its message_id stays '', part of the dedup key, so that a re-post finds it
 * whatever sends were recorded since.
 */
static void
attribute_async_bounce(MappedEvent *row)
{
	text	   *event = DatumGetTextPP(row->values[EVENT_COL_EVENT]);
	Datum		args[2];
	bool		isnull;
	Datum		message_id;

	if (VARSIZE_ANY_EXHDR(DatumGetPointer(row->values[EVENT_COL_MESSAGE_ID])) != 0 ||
		VARSIZE_ANY_EXHDR(event) != 6 || memcmp(VARDATA_ANY(event), "bounce", 6) != 0)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (ingest_plans.attribute_bounce == NULL)
	{
		Oid			argtypes[2] = {TEXTOID, TIMESTAMPTZOID};

		ingest_plans.attribute_bounce = prepare_kept_plan("SELECT mailstatus.attributed_message_id($1, $2)", 2, argtypes);
	}
	args[0] = row->values[EVENT_COL_EMAIL];
	args[1] = row->values[EVENT_COL_OCCURRED_AT];
	if (SPI_execute_plan(ingest_plans.attribute_bounce, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not attribute an async bounce");
	message_id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		row->values[EVENT_COL_ATTRIBUTED_MESSAGE_ID] = SPI_datumTransfer(message_id, false, -1);
		row->nulls[EVENT_COL_ATTRIBUTED_MESSAGE_ID] = false;
	}
	SPI_finish();
}

/*
 * Rejects an event on the days forget_recipients closed for a recipient whose
 * state holds nothing of that day or an earlier one: the recipient was
 * forgotten (its figures of those days stand as counted, and would be counted
 * twice) or is seen there for the first time after they closed.  An event
 * stored on a closed day never moves its recipient's first day, so whether an
 * event is stored depends neither on the order of the posts nor on when a
 * later forget_recipients closed more days (a rejected event posted again is
 * rejected again).  The recipient is the one the state counts the event
 * under: its message, or the send an async bounce is attributed to.
 */
static void
reject_if_on_closed_days(IngestBatch *batch, MappedEvent *row)
{
	TimestampTz occurred_at = DatumGetTimestampTz(row->values[EVENT_COL_OCCURRED_AT]);
	Datum		args[3];
	bool		isnull;
	bool		held;

	if (!batch->has_closed_days || occurred_at >= batch->closed_until)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (ingest_plans.state_before_closed_days == NULL)
	{
		Oid			argtypes[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};

		ingest_plans.state_before_closed_days = prepare_kept_plan(
			"SELECT EXISTS (SELECT FROM mailstatus.recipient r WHERE r.message_id OPERATOR(pg_catalog.=) $1 "
			"AND r.email OPERATOR(pg_catalog.=) $2 AND r.first_event_at OPERATOR(pg_catalog.<) "
			"(pg_catalog.date_trunc('day', $3, 'UTC') OPERATOR(pg_catalog.+) '1 day'::interval))", 3, argtypes);
	}
	args[0] = row->nulls[EVENT_COL_ATTRIBUTED_MESSAGE_ID] ? row->values[EVENT_COL_MESSAGE_ID] :
		row->values[EVENT_COL_ATTRIBUTED_MESSAGE_ID];
	args[1] = row->values[EVENT_COL_EMAIL];
	args[2] = TimestampTzGetDatum(occurred_at);
	if (SPI_execute_plan(ingest_plans.state_before_closed_days, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up a recipient's state");
	held = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (!held)
		row->reject_reason = psprintf("the event occurred at %s, on a day closed by forget_recipients (before %s), "
									  "and its recipient's state holds nothing of that day or an earlier one: "
									  "the figures of those days stand as counted",
									  utc_time_text(occurred_at), utc_time_text(batch->closed_until));
}

/* The first part of an event's sort key: its message id and address, NUL-terminated each. */
static char *
recipient_sort_key(MappedEvent *row)
{
	text	   *message_id = DatumGetTextPP(row->values[EVENT_COL_MESSAGE_ID]);
	text	   *email = DatumGetTextPP(row->values[EVENT_COL_EMAIL]);
	int			message_id_len = VARSIZE_ANY_EXHDR(message_id);
	int			email_len = VARSIZE_ANY_EXHDR(email);
	char	   *key = palloc(message_id_len + email_len + 2);

	memcpy(key, VARDATA_ANY(message_id), message_id_len);
	key[message_id_len] = '\0';
	memcpy(key + message_id_len + 1, VARDATA_ANY(email), email_len);
	key[message_id_len + 1 + email_len] = '\0';
	return key;
}

/*
 * Maps one element into the batch, as an event (its row formed at once) or
 * as a reject; then resets the scratch context, where the element may live.
 */
void
ingest_batch_add(IngestBatch *batch, Jsonb *element)
{
	MappedEvent row;
	MemoryContext batch_context = MemoryContextSwitchTo(batch->scratch);
	Datum	   *values = palloc(sizeof(Datum) * batch->rowdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * batch->rowdesc->natts);
	StoredEvent *event;

	map_sendgrid_event_row(element, batch->received_at, &row);
	if (row.reject_reason == NULL)
		reject_if_before_retention(batch, &row);
	if (row.reject_reason == NULL)
		attribute_async_bounce(&row);
	if (row.reject_reason == NULL)
		reject_if_on_closed_days(batch, &row);
	MemoryContextSwitchTo(batch_context);
	if (row.reject_reason != NULL)
	{
		ingest_batch_add_reject(batch, element, row.reject_reason);
		MemoryContextReset(batch->scratch);
		return;
	}
	batch->events = grow_array(batch->events, &batch->events_capacity, batch->nevents + 1, sizeof(StoredEvent));
	memset(nulls, true, sizeof(bool) * batch->rowdesc->natts);
	for (int c = 0; c < EVENT_NCOLUMNS; c++)
	{
		values[batch->attnum_of_column[c]] = row.values[c];
		nulls[batch->attnum_of_column[c]] = row.nulls[c];
	}
	event = &batch->events[batch->nevents++];
	event->occurred_at = DatumGetTimestampTz(row.values[EVENT_COL_OCCURRED_AT]);
	event->content_hash = DatumGetInt64(row.values[EVENT_COL_CONTENT_HASH]);
	MemoryContextSwitchTo(batch->rows);
	event->recipient = recipient_sort_key(&row);
	event->tuple = heap_form_tuple(batch->rowdesc, values, nulls);
	MemoryContextSwitchTo(batch_context);
	MemoryContextReset(batch->scratch);
}

/*
 * Keeps an element that cannot be stored, with the reason, for
 * mailstatus.rejected_event: once per distinct element, however often the
 * call carries it.  Consecutive rejects with the same reason share it.
 */
void
ingest_batch_add_reject(IngestBatch *batch, Jsonb *element, const char *reason)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len;
	RejectedElement *entry;
	bool		found;

	batch->nrejected++;
	if (!EVP_Digest(VARDATA(element), VARSIZE(element) - VARHDRSZ, digest, &digest_len, EVP_sha256(), NULL))
		elog(ERROR, "could not compute SHA-256");
	entry = hash_search(batch->rejects, digest, HASH_ENTER, &found);
	if (found)
		return;
	if (batch->last_reason == NULL || strcmp(batch->last_reason, reason) != 0)
		batch->last_reason = pstrdup(reason);
	entry->reason = batch->last_reason;
	entry->element = memcpy(palloc(VARSIZE(element)), element, VARSIZE(element));
}

/* qsort comparator: events by message id, address, time, content hash. */
static int
stored_event_compare(const void *a, const void *b)
{
	const StoredEvent *first = (const StoredEvent *) a;
	const StoredEvent *second = (const StoredEvent *) b;
	int			cmp = strcmp(first->recipient, second->recipient);

	if (cmp == 0)
		cmp = strcmp(first->recipient + strlen(first->recipient) + 1,
					 second->recipient + strlen(second->recipient) + 1);
	if (cmp == 0 && first->occurred_at != second->occurred_at)
		cmp = first->occurred_at < second->occurred_at ? -1 : 1;
	if (cmp == 0 && first->content_hash != second->content_hash)
		cmp = first->content_hash < second->content_hash ? -1 : 1;
	return cmp;
}

/* qsort comparator: rejected elements by digest, the order of their hex keys. */
static int
rejected_element_compare(const void *a, const void *b)
{
	return memcmp((*(RejectedElement *const *) a)->digest, (*(RejectedElement *const *) b)->digest, DIGEST_BYTES);
}

/* The key rejected_event stores for a digest: "sha256:" and its hex. */
static Datum
reject_key(const unsigned char *digest)
{
	char		key[sizeof("sha256:") + 2 * DIGEST_BYTES];

	strcpy(key, "sha256:");
	hex_encode((const char *) digest, DIGEST_BYTES, key + strlen("sha256:"));
	key[strlen("sha256:") + 2 * DIGEST_BYTES] = '\0';
	return CStringGetTextDatum(key);
}

/*
 * Writes the rejected elements, in key order (as events: concurrent batches
 * never deadlock on them), into rejected_event, or into landed_reject (the
 * same columns and key) when the post lands.
 */
static void
store_rejects(IngestBatch *batch)
{
	int			n = hash_get_num_entries(batch->rejects);
	RejectedElement **sorted = palloc(sizeof(RejectedElement *) * Max(n, 1));
	HASH_SEQ_STATUS scan;
	RejectedElement *entry;
	int			i = 0;
	SPIPlanPtr	plan;

	if (ingest_plans.insert_rejects == NULL)
	{
		Oid			argtypes[3] = {TEXTARRAYOID, TEXTARRAYOID, get_array_type(JSONBOID)};

		ingest_plans.insert_rejects = prepare_kept_plan(
			"INSERT INTO mailstatus.rejected_event (element_key, reason, element) "
			"SELECT r.element_key, r.reason, r.element "
			"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3)) "
			"AS r(element_key, reason, element) "
			"ON CONFLICT ON CONSTRAINT rejected_event_element_key DO NOTHING",
			3, argtypes);
	}
	/* Made at the first landing post only: a schema older than landing mode has no landed_reject. */
	if (batch->landing && ingest_plans.land_rejects == NULL)
	{
		Oid			argtypes[3] = {TEXTARRAYOID, TEXTARRAYOID, get_array_type(JSONBOID)};

		ingest_plans.land_rejects = prepare_kept_plan(
			"INSERT INTO mailstatus.landed_reject (element_key, reason, element) "
			"SELECT r.element_key, r.reason, r.element "
			"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3)) "
			"AS r(element_key, reason, element) "
			"ON CONFLICT ON CONSTRAINT landed_reject_pkey DO NOTHING",
			3, argtypes);
	}
	plan = batch->landing ? ingest_plans.land_rejects : ingest_plans.insert_rejects;
	hash_seq_init(&scan, batch->rejects);
	while ((entry = hash_seq_search(&scan)) != NULL)
		sorted[i++] = entry;
	qsort(sorted, n, sizeof(RejectedElement *), rejected_element_compare);
	for (int start = 0; start < n; start += INGEST_CHUNK_ROWS)
	{
		int			count = Min(INGEST_CHUNK_ROWS, n - start);
		Datum	   *keys = palloc(sizeof(Datum) * count);
		Datum	   *reasons = palloc(sizeof(Datum) * count);
		Datum	   *elements = palloc(sizeof(Datum) * count);
		Datum		args[3];

		for (int j = 0; j < count; j++)
		{
			keys[j] = reject_key(sorted[start + j]->digest);
			reasons[j] = CStringGetTextDatum(sorted[start + j]->reason);
			elements[j] = PointerGetDatum(sorted[start + j]->element);
		}
		args[0] = PointerGetDatum(construct_array(keys, count, TEXTOID, -1, false, TYPALIGN_INT));
		args[1] = PointerGetDatum(construct_array(reasons, count, TEXTOID, -1, false, TYPALIGN_INT));
		args[2] = PointerGetDatum(construct_array(elements, count, JSONBOID, -1, false, TYPALIGN_INT));
		if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not store rejected elements");
		CHECK_FOR_INTERRUPTS();
	}
}

/* Inserts events[0..n) in one statement; the new ones join the post's new events. */
static void
insert_event_chunk(StoredEvent *events, int n, Oid rowtype, ArrayBuildState *new_events)
{
	Datum	   *rows = palloc(sizeof(Datum) * n);
	Datum		args[1];
	Datum		inserted;
	bool		isnull;

	for (int i = 0; i < n; i++)
		rows[i] = HeapTupleGetDatum(events[i].tuple);
	args[0] = PointerGetDatum(construct_array(rows, n, rowtype, -1, false, TYPALIGN_DOUBLE));
	if (SPI_execute_plan(ingest_plans.insert_events, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not store events");
	inserted = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		ArrayIterator it = array_create_iterator(DatumGetArrayTypeP(inserted), 0, NULL);
		Datum		row;
		bool		row_isnull;

		while (array_iterate(it, &row, &row_isnull))
			accumArrayResult(new_events, row, row_isnull, rowtype, new_events->mcontext);
		array_free_iterator(it);
	}
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < n; i++)
		heap_freetuple(events[i].tuple);
	pfree(DatumGetPointer(args[0]));
	pfree(rows);
}

/* Merges all the new events of a post into the state, in one statement (one per state table within it). */
static void
merge_new_events(ArrayBuildState *new_events)
{
	Datum		args[1];

	args[0] = makeArrayResult(new_events, CurrentMemoryContext);
	if (SPI_execute_plan(ingest_plans.merge_events, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not merge events into the state");
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Locks the event table for the store and makes sure the batch's rows fit
 * it.  An update that committed while this call waited (for send or
 * rejected_event) may have added or dropped other columns, which leaves the
 * rows as they are; when it made the table again, or moved or retyped a
 * column ingest writes, the call is refused once, and the next one maps its
 * events for the table as it is.
 */
static void
lock_event_table_for_store(IngestBatch *batch)
{
	Oid			event_relid = checked_event_table(RowExclusiveLock);
	bool		fits = event_relid == batch->event_relid;

	if (fits)
	{
		TupleDesc	rowdesc = lookup_rowtype_tupdesc(get_rel_type_id(event_relid), -1);
		int			attnum_of_column[EVENT_NCOLUMNS];

		event_columns_of(rowdesc, attnum_of_column);
		for (int c = 0; c < EVENT_NCOLUMNS; c++)
			fits = fits && attnum_of_column[c] == batch->attnum_of_column[c] &&
				TupleDescAttr(rowdesc, attnum_of_column[c])->atttypid ==
				TupleDescAttr(batch->rowdesc, attnum_of_column[c])->atttypid;
		ReleaseTupleDesc(rowdesc);
	}
	if (!fits)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("mailstatus.event changed while this call waited"),
				 errdetail("An update made the table again, or changed a column ingest writes, after the call had mapped its events."),
				 errhint("Post again: the next call maps its events for the table as it is.")));
	event_plans_for(event_relid);
}

/*
 * Lands a batch (landing mode): rejects first, then events in key order,
 * chunk by chunk, into landed_event, each once; then flushes when the
 * landing is due (flush_when_due).  Stored counts the events that were not
 * waiting yet.  The event table is neither locked nor written.
 */
static IngestCounts
land_batch(IngestBatch *batch)
{
	IngestCounts counts = {0, 0, batch->nrejected};

	if (batch->nrejected > 0)
		store_rejects(batch);
	land_plan_for(batch->event_relid);
	if (ingest_plans.flush_when_due == NULL)
		ingest_plans.flush_when_due = prepare_kept_plan("SELECT mailstatus.flush_when_due()", 0, NULL);
	qsort(batch->events, batch->nevents, sizeof(StoredEvent), stored_event_compare);
	for (int start = 0; start < batch->nevents; start += INGEST_CHUNK_ROWS)
	{
		int			n = Min(INGEST_CHUNK_ROWS, batch->nevents - start);
		Datum	   *rows = palloc(sizeof(Datum) * n);
		Datum		args[1];
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			rows[i] = HeapTupleGetDatum(batch->events[start + i].tuple);
		args[0] = PointerGetDatum(construct_array(rows, n, batch->rowdesc->tdtypeid, -1, false, TYPALIGN_DOUBLE));
		if (SPI_execute_plan(ingest_plans.land_events, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not land events");
		counts.stored += (int) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		SPI_freetuptable(SPI_tuptable);
		pfree(DatumGetPointer(args[0]));
		pfree(rows);
	}
	if (SPI_execute_plan(ingest_plans.flush_when_due, NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not flush the landed events");
	counts.duplicates = batch->nevents - counts.stored;
	return counts;
}

/*
 * Stores a batch: rejects first (once each), then events in key order, chunk
 * by chunk, then the new ones merged into the state at once; or lands it.
 */
IngestCounts
ingest_batch_store(IngestBatch *batch)
{
	IngestCounts counts = {0, 0, batch->nrejected};
	ArrayBuildState *new_events;

	if (batch->nevents == 0 && batch->nrejected == 0)
		return counts;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (batch->landing)
	{
		counts = land_batch(batch);
		SPI_finish();
		return counts;
	}
	if (batch->nrejected > 0)
		store_rejects(batch);
	if (batch->nevents > 0)
		lock_event_table_for_store(batch);
	qsort(batch->events, batch->nevents, sizeof(StoredEvent), stored_event_compare);
	new_events = initArrayResult(batch->rowdesc->tdtypeid, CurrentMemoryContext, true);
	for (int start = 0; start < batch->nevents; start += INGEST_CHUNK_ROWS)
	{
		CHECK_FOR_INTERRUPTS();
		insert_event_chunk(&batch->events[start], Min(INGEST_CHUNK_ROWS, batch->nevents - start),
						   batch->rowdesc->tdtypeid, new_events);
	}
	counts.stored = new_events->nelems;
	if (new_events->nelems > 0)
		merge_new_events(new_events);
	SPI_finish();
	counts.duplicates = batch->nevents - counts.stored;
	return counts;
}

/*
 * Refuses an entry point that cannot check signatures once signing is
 * configured: while mailstatus.webhook_key holds any key (active or not),
 * only signed raw bodies are taken. A schema this library cannot work with is
 * refused first (an older one may predate the key table).
 */
void
ingest_refuse_when_signing(const char *function)
{
	bool		isnull;
	bool		keyed;

	ingest_require_schema();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	keyed = DatumGetBool(spi_value("SELECT EXISTS (SELECT FROM mailstatus.webhook_key)", &isnull));
	SPI_finish();
	if (keyed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("%s cannot check signatures, and webhook signatures are required", function),
				 errdetail("mailstatus.webhook_key holds verification keys: every body must be signed."),
				 errhint("Pass the raw body and SendGrid's signature headers to ingest_sendgrid_webhook; the owner turns signing off by deleting the keys.")));
}

/*
 * Returns the counts as the one row of a TABLE(stored, duplicates, rejected)
 * function, in the row type the caller expects: the function itself may have
 * been dropped and made again while the call waited for a lock.
 */
Datum
ingest_counts_result(FunctionCallInfo fcinfo, IngestCounts counts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	values[0] = Int32GetDatum(counts.stored);
	values[1] = Int32GetDatum(counts.duplicates);
	values[2] = Int32GetDatum(counts.rejected);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/* Reports a body that is a JSON scalar: neither one event nor a batch. */
void
ereport_body_not_container(const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s expects a JSON object or array", function),
			 errdetail("The body is a JSON scalar."),
			 errhint("Pass one SendGrid event object, or the webhook body: an array of them.")));
}

/* How deeply a jsonb nests: its root array or object is level 1. */
static int
jsonb_depth(Jsonb *jsonb)
{
	JsonbIterator *it = JsonbIteratorInit(&jsonb->root);
	JsonbValue	value;
	JsonbIteratorToken token;
	int			depth = 0;
	int			deepest = 0;

	while ((token = JsonbIteratorNext(&it, &value, false)) != WJB_DONE)
	{
		if (token == WJB_BEGIN_ARRAY || token == WJB_BEGIN_OBJECT)
		{
			depth++;
			deepest = Max(deepest, depth);
		}
		else if (token == WJB_END_ARRAY || token == WJB_END_OBJECT)
			depth--;
	}
	return deepest;
}

/* Maps a jsonb body, one event object or an array of them, into the batch. */
static void
ingest_batch_add_jsonb_body(IngestBatch *batch, Jsonb *body)
{
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;

	if (JB_ROOT_IS_SCALAR(body))
		ereport_body_not_container(batch->function);
	if (jsonb_depth(body) > BODY_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("webhook body is nested too deeply"),
				 errdetail("JSON nesting is limited to %d levels.", BODY_MAX_DEPTH)));
	if (JB_ROOT_IS_OBJECT(body))
	{
		ingest_batch_add(batch, body);
		return;
	}
	it = JsonbIteratorInit(&body->root);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		if (token == WJB_ELEM)
		{
			MemoryContext caller = MemoryContextSwitchTo(batch->scratch);
			Jsonb	   *copy = JsonbValueToJsonb(&element);

			MemoryContextSwitchTo(caller);
			CHECK_FOR_INTERRUPTS();
			ingest_batch_add(batch, copy);
		}
	}
}

PG_FUNCTION_INFO_V1(ingest_sendgrid_event);
/* Stores one event object or a webhook batch (array of events), given as jsonb. */
Datum
ingest_sendgrid_event(PG_FUNCTION_ARGS)
{
	Jsonb	   *body = PG_GETARG_JSONB_P(0);
	IngestBatch batch;

	ingest_refuse_when_signing("ingest_sendgrid_event");
	ingest_batch_init(&batch, "ingest_sendgrid_event");
	ingest_batch_add_jsonb_body(&batch, body);
	return ingest_counts_result(fcinfo, ingest_batch_store(&batch));
}
