#ifndef MAILSTATUS_SENDGRID_EVENT_H
#define MAILSTATUS_SENDGRID_EVENT_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* Columns of mailstatus.event that ingest fills, in table order. */
typedef enum EventColumn
{
	EVENT_COL_EVENT_KEY,
	EVENT_COL_SG_EVENT_ID,
	EVENT_COL_SG_MESSAGE_ID,
	EVENT_COL_MESSAGE_ID,
	EVENT_COL_EMAIL,
	EVENT_COL_EVENT,
	EVENT_COL_STATUS,
	EVENT_COL_OCCURRED_AT,
	EVENT_COL_RECEIVED_AT,
	EVENT_COL_REASON,
	EVENT_COL_SMTP_STATUS,
	EVENT_COL_RESPONSE,
	EVENT_COL_BOUNCE_TYPE,
	EVENT_COL_BOUNCE_CLASSIFICATION,
	EVENT_COL_URL,
	EVENT_COL_USERAGENT,
	EVENT_COL_IP,
	EVENT_COL_MACHINE_OPEN,
	EVENT_COL_ATTEMPT,
	EVENT_COL_ASM_GROUP_ID,
	EVENT_COL_CATEGORY,
	EVENT_COL_CUSTOM_ARGS,
	EVENT_COL_PAYLOAD,
	EVENT_NCOLUMNS
} EventColumn;

extern const char *const event_column_names[EVENT_NCOLUMNS];

/* One webhook element mapped onto mailstatus.event, or the reason it cannot be. */
typedef struct MappedEvent
{
	Datum		values[EVENT_NCOLUMNS];
	bool		nulls[EVENT_NCOLUMNS];
	char	   *event_key;		/* dedup key, NUL-terminated; orders a batch */
	char	   *reject_reason;	/* NULL when values hold a storable row */
} MappedEvent;

extern void sendgrid_event_map(Jsonb *event, TimestampTz received_at, MappedEvent *row);
extern char *sendgrid_message_id(const char *sg_message_id, int len, int *message_id_len);
extern char *jsonb_content_key(Jsonb *jsonb);
extern char *normalize_email_ascii(const char *email, int len, int *normalized_len);

#endif
