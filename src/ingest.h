#ifndef MAILSTATUS_INGEST_H
#define MAILSTATUS_INGEST_H

#include "postgres.h"

#include "pg_compat.h"

#include "fmgr.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/jsonb.h"

#include "sendgrid_event.h"

/* What one ingest call did with its elements. */
typedef struct IngestCounts
{
	int			stored;
	int			duplicates;
	int			rejected;
} IngestCounts;

/* An event mapped onto a row of mailstatus.event, waiting to be stored. */
typedef struct StoredEvent
{
	char	   *event_key;		/* dedup key: orders a batch */
	HeapTuple	tuple;			/* the row, in mailstatus.event's row type */
} StoredEvent;

/*
 * Elements of one call, waiting to be stored together.  Each event is mapped
 * in the scratch context, which is reset once its row is formed, so a batch
 * holds one compact row per event (callers build each element there too).
 */
typedef struct IngestBatch
{
	TimestampTz received_at;
	bool		has_retention;	/* events before retained_since are rejected */
	TimestampTz retained_since;
	bool		message_id_required;	/* the schema stores '' for no message id */
	Oid			event_relid;
	MemoryContext scratch;
	TupleDesc	rowdesc;
	int			attnum_of_column[EVENT_NCOLUMNS];
	StoredEvent *events;
	int			nevents;
	int			events_capacity;
	Datum	   *reject_keys;
	Datum	   *reject_reasons;
	Datum	   *reject_elements;
	int			nrejects;
	int			rejects_capacity;
} IngestBatch;

extern void ingest_batch_init(IngestBatch *batch);
extern void ingest_batch_add(IngestBatch *batch, Jsonb *element);
extern void ingest_batch_add_body(IngestBatch *batch, Jsonb *body, const char *function);
extern void ingest_batch_add_reject(IngestBatch *batch, Jsonb *element, const char *reason);
extern IngestCounts ingest_batch_store(IngestBatch *batch);
pg_noreturn extern void ereport_body_not_container(const char *function);
extern Datum ingest_counts_result(FunctionCallInfo fcinfo, IngestCounts counts);

#endif
