#ifndef MAILSTATUS_INGEST_H
#define MAILSTATUS_INGEST_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

#include "sendgrid_event.h"

/* What one ingest call did with its elements. */
typedef struct IngestCounts
{
	int			stored;
	int			duplicates;
	int			rejected;
} IngestCounts;

/* Elements of one call, mapped and waiting to be stored together. */
typedef struct IngestBatch
{
	TimestampTz received_at;
	MappedEvent *events;
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
extern void ereport_body_not_container(const char *function) pg_attribute_noreturn();
extern Datum ingest_counts_result(FunctionCallInfo fcinfo, IngestCounts counts);

#endif
