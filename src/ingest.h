/* ingest.h: see ingest.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_INGEST_H
#define MAILSTATUS_INGEST_H

#include "postgres.h"

#include "pg_compat.h"

#include "fmgr.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/hsearch.h"
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
	char	   *recipient;		/* message_id, NUL, email, NUL: the sort key's first part */
	TimestampTz occurred_at;
	int64		content_hash;
	HeapTuple	tuple;			/* the row, in mailstatus.event's row type */
} StoredEvent;

/*
 * Elements of one call, waiting to be stored together.  Each element is
 * mapped in the scratch context, which is reset once its row is formed, so
 * a batch holds one compact row per event; rejected elements are kept once
 * each (by content), whatever their number.
 */
typedef struct IngestBatch
{
	const char *function;		/* the SQL entry point, for messages */
	TimestampTz received_at;
	bool		has_retention;	/* events before retained_since are rejected */
	TimestampTz retained_since;
	bool		has_closed_days;	/* forget_recipients ran: days before closed_until are closed */
	TimestampTz closed_until;
	MemoryContext scratch;
	MemoryContext rows;			/* the events' tuples and sort keys, packed densely */
	Oid			event_relid;	/* the event table the rows are formed for */
	TupleDesc	rowdesc;
	int			attnum_of_column[EVENT_NCOLUMNS];
	StoredEvent *events;
	int			nevents;
	int			events_capacity;
	HTAB	   *rejects;		/* RejectedElement by the SHA-256 of the element */
	int			nrejected;		/* rejected elements, each repetition counted */
	const char *last_reason;	/* shared by consecutive rejects with the same reason */
} IngestBatch;

/* Deepest JSON nesting a body may have, on every path; SendGrid's events nest 3 deep. */
#define BODY_MAX_DEPTH 64

extern void ingest_require_schema(void);
extern void ingest_batch_init(IngestBatch *batch, const char *function);
extern void ingest_batch_add(IngestBatch *batch, Jsonb *element);
extern void ingest_batch_add_reject(IngestBatch *batch, Jsonb *element, const char *reason);
extern IngestCounts ingest_batch_store(IngestBatch *batch);
extern void ingest_refuse_when_signing(const char *function);
pg_noreturn extern void ereport_body_not_container(const char *function);
extern Datum ingest_counts_result(FunctionCallInfo fcinfo, IngestCounts counts);

#endif
