/* sendgrid_event.h: see sendgrid_event.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_SENDGRID_EVENT_H
#define MAILSTATUS_SENDGRID_EVENT_H

#include "postgres.h"

#include "pg_compat.h"

#include "access/tupdesc.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/*
 * Columns of mailstatus.event.  Each posted field is stored once: in a typed
 * column when its column gives it back exactly, otherwise (and for the keys
 * of SendGrid's that have no column) in residual; the CRM's own keys go to
 * custom_args.  event_payload() puts the posted object back together.
 */
typedef enum EventColumn
{
	EVENT_COL_OCCURRED_AT,
	EVENT_COL_CONTENT_HASH,
	EVENT_COL_RECEIVED_AT,
	EVENT_COL_ATTEMPT,
	EVENT_COL_ASM_GROUP_ID,
	EVENT_COL_MACHINE_OPEN,
	EVENT_COL_ATTRIBUTED_MESSAGE_ID,
	EVENT_COL_MESSAGE_ID,
	EVENT_COL_EMAIL,
	EVENT_COL_EVENT,
	EVENT_COL_SG_EVENT_ID,
	EVENT_COL_SG_MESSAGE_SUFFIX,
	EVENT_COL_SMTP_HOST,
	EVENT_COL_REASON,
	EVENT_COL_SMTP_STATUS,
	EVENT_COL_RESPONSE,
	EVENT_COL_BOUNCE_TYPE,
	EVENT_COL_BOUNCE_CLASSIFICATION,
	EVENT_COL_URL,
	EVENT_COL_USERAGENT,
	EVENT_COL_IP,
	EVENT_COL_CATEGORY,
	EVENT_COL_CUSTOM_ARGS,
	EVENT_COL_RESIDUAL,
	EVENT_NCOLUMNS
} EventColumn;

extern const char *const event_column_names[EVENT_NCOLUMNS];

/* Longest address accepted (RFC 3696); longer values reject their element. */
#define EMAIL_MAX_BYTES		320
/* Longest sg_event_id or X-Message-Id accepted: longer ones are not SendGrid's. */
#define ID_MAX_BYTES		256

/* One webhook element mapped onto mailstatus.event, or the reason it cannot be. */
typedef struct MappedEvent
{
	Datum		values[EVENT_NCOLUMNS];
	bool		nulls[EVENT_NCOLUMNS];
	const char *reject_reason;	/* NULL when values hold a storable row */
} MappedEvent;

extern void map_sendgrid_event_row(Jsonb *event, TimestampTz received_at, MappedEvent *row);
extern Jsonb *event_payload_of(Datum *values, bool *nulls);
extern int64 jsonb_content_hash(Jsonb *jsonb);
extern char *jsonb_content_key(Jsonb *jsonb);
extern text *normalized_email(const char *email, int len);
extern void event_columns_of(TupleDesc rowdesc, int *attnum_of_column);
extern bool timestamp_in_event_range(TimestampTz at, TimestampTz received_at);

#endif
