/*
 * ingest_sendgrid_event(jsonb): stores a webhook batch (or one event) in
 * mailstatus.event.  A call maps every element, sorts the events by dedup
 * key (so concurrent, overlapping batches lock index entries in one order),
 * and inserts them with one cached INSERT ... ON CONFLICT DO NOTHING per
 * chunk, through the executor, so triggers on mailstatus.event fire.  With no
 * conflict target, the unique key of whichever schema version is installed
 * decides what a duplicate is: event_key (0.1.0, 0.2.0), or (event_key,
 * message_id, occurred_at) on each monthly partition (0.3.0).  The rows
 * stored are counted from RETURNING, in the query: on Citus the command's own
 * count also holds the duplicates.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "ingest.h"

/* Events per INSERT statement: bounds the array a huge body builds at once. */
#define INGEST_CHUNK_EVENTS 10000

/* Per-backend plans, valid while the tables they were made for exist. */
typedef struct IngestPlans
{
	Oid			event_relid;
	Oid			rejected_relid;
	SPIPlanPtr	insert_events;
	SPIPlanPtr	insert_rejects;
} IngestPlans;

static IngestPlans ingest_plans;

/* OID of a table of the extension's fixed schema. */
static Oid
mailstatus_table_oid(const char *name)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("mailstatus", false));

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table mailstatus.%s does not exist", name),
				 errhint("Reinstall the extension: DROP EXTENSION mailstatus; CREATE EXTENSION mailstatus;")));
	return relid;
}

/* Index in the row type of each EventColumn, by name. */
static void
map_event_columns(TupleDesc rowdesc, int *attnum_of_column)
{
	for (int c = 0; c < EVENT_NCOLUMNS; c++)
	{
		attnum_of_column[c] = -1;
		for (int a = 0; a < rowdesc->natts; a++)
		{
			Form_pg_attribute attr = TupleDescAttr(rowdesc, a);

			if (!attr->attisdropped && strcmp(NameStr(attr->attname), event_column_names[c]) == 0)
				attnum_of_column[c] = a;
		}
		if (attnum_of_column[c] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of mailstatus.event does not exist", event_column_names[c]),
					 errhint("Reinstall or update the extension.")));
	}
}

/*
 * Reads the retention window drop_event_partitions set (schema 0.3.0 on; none
 * before): events that occurred before it are rejected, not stored.  FOR SHARE
 * holds off a concurrent drop_event_partitions until this transaction ends, so
 * no event of this batch lands in a month being dropped.
 */
static void
read_retention(IngestBatch *batch)
{
	bool		isnull;
	Datum		since;

	if (!OidIsValid(get_relname_relid("event_retention", get_namespace_oid("mailstatus", false))))
		return;
	if (SPI_execute("SELECT retained_since FROM mailstatus.event_retention FOR SHARE", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read mailstatus.event_retention");
	if (SPI_processed != 1)
		return;
	since = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	batch->has_retention = !isnull;
	if (!isnull)
		batch->retained_since = DatumGetTimestampTz(since);
}

/*
 * A partitioned event table (schema 0.3.0 on) gets a default partition before
 * its first insert, so that no event lacks a partition to go to.  Called before
 * this transaction takes any lock on the table: the function takes a stronger one.
 */
static void
ensure_default_partition(Oid event_relid)
{
	if (get_rel_relkind(event_relid) != RELKIND_PARTITIONED_TABLE ||
		OidIsValid(get_default_partition_oid(event_relid)))
		return;
	if (SPI_execute("SELECT mailstatus.ensure_event_default_partition()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not make the default partition of mailstatus.event");
}

/* A batch with nothing in it, stamped with the transaction's time. */
void
ingest_batch_init(IngestBatch *batch)
{
	memset(batch, 0, sizeof(IngestBatch));
	batch->received_at = GetCurrentTransactionStartTimestamp();
	batch->scratch = AllocSetContextCreate(CurrentMemoryContext, "mailstatus event mapping",
										   ALLOCSET_DEFAULT_SIZES);
	batch->event_relid = mailstatus_table_oid("event");
	batch->rowdesc = lookup_rowtype_tupdesc_copy(get_rel_type_id(batch->event_relid), -1);
	map_event_columns(batch->rowdesc, batch->attnum_of_column);
	batch->message_id_required =
		TupleDescAttr(batch->rowdesc, batch->attnum_of_column[EVENT_COL_MESSAGE_ID])->attnotnull;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ensure_default_partition(batch->event_relid);
	read_retention(batch);
	SPI_finish();
}

/* Rejects an event that occurred before the retention window: its month was dropped. */
static void
reject_if_before_retention(IngestBatch *batch, MappedEvent *row)
{
	TimestampTz occurred_at = DatumGetTimestampTz(row->values[EVENT_COL_OCCURRED_AT]);

	/* timestamptz_to_str returns a static buffer: one call per copy. */
	if (batch->has_retention && occurred_at < batch->retained_since)
	{
		char	   *occurred = pstrdup(timestamptz_to_str(occurred_at));

		row->reject_reason = psprintf("the event occurred at %s, before the retention window: "
									  "events before %s are no longer kept",
									  occurred, timestamptz_to_str(batch->retained_since));
	}
}

/* Keeps a copy of an element that cannot be stored, with the reason, for mailstatus.rejected_event. */
void
ingest_batch_add_reject(IngestBatch *batch, Jsonb *element, const char *reason)
{
	if (batch->nrejects == batch->rejects_capacity)
	{
		batch->rejects_capacity = Max(16, batch->rejects_capacity * 2);
		batch->reject_keys = batch->reject_keys == NULL ?
			palloc(sizeof(Datum) * batch->rejects_capacity) :
			repalloc(batch->reject_keys, sizeof(Datum) * batch->rejects_capacity);
		batch->reject_reasons = batch->reject_reasons == NULL ?
			palloc(sizeof(Datum) * batch->rejects_capacity) :
			repalloc(batch->reject_reasons, sizeof(Datum) * batch->rejects_capacity);
		batch->reject_elements = batch->reject_elements == NULL ?
			palloc(sizeof(Datum) * batch->rejects_capacity) :
			repalloc(batch->reject_elements, sizeof(Datum) * batch->rejects_capacity);
	}
	batch->reject_keys[batch->nrejects] = PointerGetDatum(cstring_to_text(jsonb_content_key(element)));
	batch->reject_reasons[batch->nrejects] = PointerGetDatum(cstring_to_text(reason));
	batch->reject_elements[batch->nrejects] = PointerGetDatum(memcpy(palloc(VARSIZE(element)), element, VARSIZE(element)));
	batch->nrejects++;
}

/*
 * Maps one element into the batch, as an event (its row formed at once) or as
 * a reject; then resets the scratch context, where the element may live.
 */
void
ingest_batch_add(IngestBatch *batch, Jsonb *element)
{
	MappedEvent row;
	MemoryContext batch_context = MemoryContextSwitchTo(batch->scratch);
	Datum	   *values = palloc(sizeof(Datum) * batch->rowdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * batch->rowdesc->natts);

	sendgrid_event_map(element, batch->received_at, &row);
	if (row.reject_reason == NULL)
		reject_if_before_retention(batch, &row);
	if (row.reject_reason == NULL && row.nulls[EVENT_COL_MESSAGE_ID] && batch->message_id_required)
	{
		row.values[EVENT_COL_MESSAGE_ID] = PointerGetDatum(cstring_to_text(""));
		row.nulls[EVENT_COL_MESSAGE_ID] = false;
	}
	MemoryContextSwitchTo(batch_context);
	if (row.reject_reason != NULL)
		ingest_batch_add_reject(batch, element, row.reject_reason);
	else
	{
		if (batch->nevents == batch->events_capacity)
		{
			batch->events_capacity = Max(64, batch->events_capacity * 2);
			batch->events = batch->events == NULL ?
				palloc(sizeof(StoredEvent) * batch->events_capacity) :
				repalloc_huge(batch->events, sizeof(StoredEvent) * batch->events_capacity);
		}
		for (int a = 0; a < batch->rowdesc->natts; a++)
			nulls[a] = true;
		for (int c = 0; c < EVENT_NCOLUMNS; c++)
		{
			values[batch->attnum_of_column[c]] = row.values[c];
			nulls[batch->attnum_of_column[c]] = row.nulls[c];
		}
		batch->events[batch->nevents].event_key = pstrdup(row.event_key);
		batch->events[batch->nevents].tuple = heap_form_tuple(batch->rowdesc, values, nulls);
		batch->nevents++;
	}
	MemoryContextReset(batch->scratch);
}

/* qsort comparator: events by dedup key, bytewise. */
static int
stored_event_compare(const void *a, const void *b)
{
	return strcmp(((const StoredEvent *) a)->event_key, ((const StoredEvent *) b)->event_key);
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

/* Makes sure the cached plans were made for the tables that exist now. */
static void
ingest_plans_refresh(Oid event_relid)
{
	Oid			rejected_relid = mailstatus_table_oid("rejected_event");
	StringInfoData query;
	Oid			argtypes[3];

	if (ingest_plans.insert_events != NULL &&
		ingest_plans.event_relid == event_relid &&
		ingest_plans.rejected_relid == rejected_relid)
		return;
	if (ingest_plans.insert_events != NULL)
		SPI_freeplan(ingest_plans.insert_events);
	if (ingest_plans.insert_rejects != NULL)
		SPI_freeplan(ingest_plans.insert_rejects);
	memset(&ingest_plans, 0, sizeof(IngestPlans));

	initStringInfo(&query);
	appendStringInfoString(&query, "WITH stored AS (INSERT INTO mailstatus.event (");
	for (int i = 0; i < EVENT_NCOLUMNS; i++)
		appendStringInfo(&query, "%s%s", i > 0 ? ", " : "", quote_identifier(event_column_names[i]));
	appendStringInfoString(&query, ") SELECT ");
	for (int i = 0; i < EVENT_NCOLUMNS; i++)
		appendStringInfo(&query, "%su.%s", i > 0 ? ", " : "", quote_identifier(event_column_names[i]));
	appendStringInfoString(&query, " FROM pg_catalog.unnest($1) AS u ON CONFLICT DO NOTHING RETURNING 1) "
						   "SELECT pg_catalog.count(*) FROM stored");
	argtypes[0] = get_array_type(get_rel_type_id(event_relid));
	ingest_plans.insert_events = prepare_kept_plan(query.data, 1, argtypes);

	argtypes[0] = TEXTARRAYOID;
	argtypes[1] = TEXTARRAYOID;
	argtypes[2] = get_array_type(JSONBOID);
	ingest_plans.insert_rejects = prepare_kept_plan(
		"INSERT INTO mailstatus.rejected_event (element_key, reason, element) "
		"SELECT r.element_key, r.reason, r.element "
		"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3)) "
		"AS r(element_key, reason, element) "
		"ON CONFLICT (element_key) DO NOTHING",
		3, argtypes);
	ingest_plans.event_relid = event_relid;
	ingest_plans.rejected_relid = rejected_relid;
}

/* Runs a kept plan; fails unless it returned the SPI code expected. */
static void
execute_kept_plan(SPIPlanPtr plan, Datum *args, int expected_rc)
{
	int			rc = SPI_execute_plan(plan, args, NULL, false, 0);

	if (rc != expected_rc)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

/* Inserts events[0..n) as one statement, then frees their rows; returns how many were new. */
static uint64
insert_event_chunk(StoredEvent *events, int n, Oid rowtype)
{
	Datum	   *rows = palloc(sizeof(Datum) * n);
	Datum		args[1];
	uint64		inserted;
	bool		isnull;

	for (int i = 0; i < n; i++)
		rows[i] = HeapTupleGetDatum(events[i].tuple);
	args[0] = PointerGetDatum(construct_array(rows, n, rowtype, -1, false, TYPALIGN_DOUBLE));
	execute_kept_plan(ingest_plans.insert_events, args, SPI_OK_SELECT);
	inserted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < n; i++)
		heap_freetuple(events[i].tuple);
	pfree(DatumGetPointer(args[0]));
	pfree(rows);
	return inserted;
}

/* Stores a batch: rejects first (once each), then events in dedup-key order, chunk by chunk. */
IngestCounts
ingest_batch_store(IngestBatch *batch)
{
	IngestCounts counts = {0, 0, batch->nrejects};
	uint64		stored = 0;

	if (batch->nevents == 0 && batch->nrejects == 0)
		return counts;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ingest_plans_refresh(batch->event_relid);

	if (batch->nrejects > 0)
	{
		Datum		args[3];

		args[0] = PointerGetDatum(construct_array(batch->reject_keys, batch->nrejects,
												  TEXTOID, -1, false, TYPALIGN_INT));
		args[1] = PointerGetDatum(construct_array(batch->reject_reasons, batch->nrejects,
												  TEXTOID, -1, false, TYPALIGN_INT));
		args[2] = PointerGetDatum(construct_array(batch->reject_elements, batch->nrejects,
												  JSONBOID, -1, false, TYPALIGN_INT));
		execute_kept_plan(ingest_plans.insert_rejects, args, SPI_OK_INSERT);
	}

	if (batch->nevents > 0)
	{
		qsort(batch->events, batch->nevents, sizeof(StoredEvent), stored_event_compare);
		for (int start = 0; start < batch->nevents; start += INGEST_CHUNK_EVENTS)
		{
			CHECK_FOR_INTERRUPTS();
			stored += insert_event_chunk(&batch->events[start],
										 Min(INGEST_CHUNK_EVENTS, batch->nevents - start),
										 batch->rowdesc->tdtypeid);
		}
	}
	SPI_finish();
	counts.stored = (int) stored;
	counts.duplicates = batch->nevents - counts.stored;
	return counts;
}

/* Returns the counts as the one row of a TABLE(stored, duplicates, rejected) function. */
Datum
ingest_counts_result(FunctionCallInfo fcinfo, IngestCounts counts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext old;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	store = tuplestore_begin_heap(false, false, work_mem);
	values[0] = Int32GetDatum(counts.stored);
	values[1] = Int32GetDatum(counts.duplicates);
	values[2] = Int32GetDatum(counts.rejected);
	tuplestore_putvalues(store, tupdesc, values, nulls);
	MemoryContextSwitchTo(old);

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
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

/* Maps a body, one event object or an array of them, into the batch. */
void
ingest_batch_add_body(IngestBatch *batch, Jsonb *body, const char *function)
{
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;

	if (JB_ROOT_IS_SCALAR(body))
		ereport_body_not_container(function);
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
			ingest_batch_add(batch, copy);
		}
	}
}

PG_FUNCTION_INFO_V1(ingest_sendgrid_event);
/* Stores one event object or a webhook batch (array of events). */
Datum
ingest_sendgrid_event(PG_FUNCTION_ARGS)
{
	Jsonb	   *body = PG_GETARG_JSONB_P(0);
	IngestBatch batch;

	ingest_batch_init(&batch);
	ingest_batch_add_body(&batch, body, "ingest_sendgrid_event");
	return ingest_counts_result(fcinfo, ingest_batch_store(&batch));
}
