/*
 * One SendGrid webhook event (a jsonb object) mapped onto a row of
 * mailstatus.event, and the row put back together into the event as posted.
 *
 * The mapping is a loop over the event's keys and a table of SendGrid's
 * fields: each field names its column and how its value is stored.  A value
 * is stored once: in its column when the column gives it back exactly (the
 * field's canonical form: "attempt" as a string of digits, "timestamp" as a
 * number of seconds, ...), otherwise as posted in residual (the column still
 * holds it normalized, for the views).  Keys that are not SendGrid's are the
 * CRM's custom args.  Both entry points, the jsonb one and the raw-body one,
 * map events through here, so they store the same rows and reject the same
 * elements for the same reasons.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include <openssl/evp.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/typcache.h"

#include "category_set.h"
#include "mail_status.h"
#include "quote.h"
#include "sendgrid_event.h"
#include "wire.h"

const char *const event_column_names[EVENT_NCOLUMNS] = {
	"occurred_at", "content_hash", "received_at", "attempt", "asm_group_id",
	"machine_open", "attributed_message_id", "message_id", "email", "event",
	"sg_event_id", "sg_message_suffix", "smtp_host", "reason", "smtp_status",
	"response", "bounce_type", "bounce_classification", "url", "useragent",
	"ip", "category", "custom_args", "residual"
};

/* How a field of SendGrid's is stored. */
typedef enum FieldKind
{
	FIELD_EMAIL,				/* normalized; required */
	FIELD_EVENT,				/* lowercased; required */
	FIELD_TIMESTAMP,			/* occurred_at; required */
	FIELD_SG_EVENT_ID,			/* text */
	FIELD_SG_MESSAGE_ID,		/* message_id and what follows it */
	FIELD_SMTP_ID,				/* "<message_id@host>": the host */
	FIELD_TEXT,					/* a string */
	FIELD_BOOLEAN,				/* true or false */
	FIELD_INTEGER,				/* a number: asm_group_id */
	FIELD_INTEGER_STRING,		/* a string of digits: attempt */
	FIELD_CATEGORY,				/* a string or an array of them, kept as posted */
	FIELD_RESIDUAL				/* SendGrid's, without a column of its own */
} FieldKind;

#define NO_COLUMN (-1)

typedef struct SendgridField
{
	const char *key;
	FieldKind	kind;
	int			column;
} SendgridField;

/*
 * Every key SendGrid's Event Webhook Reference documents, sorted by strcmp
 * for bsearch.  Any other top-level key is one of the CRM's custom args.
 */
static const SendgridField sendgrid_fields[] = {
	{"asm_group_id", FIELD_INTEGER, EVENT_COL_ASM_GROUP_ID},
	{"attempt", FIELD_INTEGER_STRING, EVENT_COL_ATTEMPT},
	{"bounce_classification", FIELD_TEXT, EVENT_COL_BOUNCE_CLASSIFICATION},
	{"category", FIELD_CATEGORY, EVENT_COL_CATEGORY},
	{"cert_err", FIELD_RESIDUAL, NO_COLUMN},
	{"email", FIELD_EMAIL, EVENT_COL_EMAIL},
	{"event", FIELD_EVENT, EVENT_COL_EVENT},
	{"ip", FIELD_TEXT, EVENT_COL_IP},
	{"marketing_campaign_id", FIELD_RESIDUAL, NO_COLUMN},
	{"marketing_campaign_name", FIELD_RESIDUAL, NO_COLUMN},
	{"marketing_campaign_split_id", FIELD_RESIDUAL, NO_COLUMN},
	{"marketing_campaign_version", FIELD_RESIDUAL, NO_COLUMN},
	{"mc_auto_id", FIELD_RESIDUAL, NO_COLUMN},
	{"mc_auto_name", FIELD_RESIDUAL, NO_COLUMN},
	{"mc_auto_step_id", FIELD_RESIDUAL, NO_COLUMN},
	{"mc_pod_id", FIELD_RESIDUAL, NO_COLUMN},
	{"mc_stats", FIELD_RESIDUAL, NO_COLUMN},
	{"newsletter", FIELD_RESIDUAL, NO_COLUMN},
	{"phase_id", FIELD_RESIDUAL, NO_COLUMN},
	{"pool", FIELD_RESIDUAL, NO_COLUMN},
	{"post_type", FIELD_RESIDUAL, NO_COLUMN},
	{"reason", FIELD_TEXT, EVENT_COL_REASON},
	{"response", FIELD_TEXT, EVENT_COL_RESPONSE},
	{"send_at", FIELD_RESIDUAL, NO_COLUMN},
	{"sg_content_type", FIELD_RESIDUAL, NO_COLUMN},
	{"sg_event_id", FIELD_SG_EVENT_ID, EVENT_COL_SG_EVENT_ID},
	{"sg_machine_open", FIELD_BOOLEAN, EVENT_COL_MACHINE_OPEN},
	{"sg_message_id", FIELD_SG_MESSAGE_ID, EVENT_COL_SG_MESSAGE_SUFFIX},
	{"sg_template_id", FIELD_RESIDUAL, NO_COLUMN},
	{"sg_template_name", FIELD_RESIDUAL, NO_COLUMN},
	{"sg_user_id", FIELD_RESIDUAL, NO_COLUMN},
	{"singlesend_id", FIELD_RESIDUAL, NO_COLUMN},
	{"singlesend_name", FIELD_RESIDUAL, NO_COLUMN},
	{"smtp-id", FIELD_SMTP_ID, EVENT_COL_SMTP_HOST},
	{"status", FIELD_TEXT, EVENT_COL_SMTP_STATUS},
	{"template_hash", FIELD_RESIDUAL, NO_COLUMN},
	{"template_id", FIELD_RESIDUAL, NO_COLUMN},
	{"template_name", FIELD_RESIDUAL, NO_COLUMN},
	{"template_version_id", FIELD_RESIDUAL, NO_COLUMN},
	{"timestamp", FIELD_TIMESTAMP, EVENT_COL_OCCURRED_AT},
	{"tls", FIELD_RESIDUAL, NO_COLUMN},
	{"type", FIELD_TEXT, EVENT_COL_BOUNCE_TYPE},
	{"url", FIELD_TEXT, EVENT_COL_URL},
	{"url_offset", FIELD_RESIDUAL, NO_COLUMN},
	{"useragent", FIELD_TEXT, EVENT_COL_USERAGENT},
};

/* The field each column is filled from (NULL for columns no field fills), for putting events back together. */
static const SendgridField *
field_of_column(int column)
{
	static const SendgridField *fields[EVENT_NCOLUMNS];
	static bool filled = false;

	if (!filled)
	{
		for (int i = 0; i < (int) lengthof(sendgrid_fields); i++)
		{
			if (sendgrid_fields[i].column != NO_COLUMN)
				fields[sendgrid_fields[i].column] = &sendgrid_fields[i];
		}
		filled = true;
	}
	return fields[column];
}

/* A jsonb string: bytes and length, not NUL-terminated. */
typedef struct StringSpan
{
	const char *data;
	int			len;
} StringSpan;

/* How far past the transaction start an event time may be: clocks drift. */
#define FUTURE_TOLERANCE_USECS		(INT64CONST(86400) * USECS_PER_SEC)
/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define UNIX_EPOCH_OFFSET_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)
/* The earliest event time accepted, as a timestamptz. */
#define EARLIEST_EVENT_TIME \
	(WIRE_EARLIEST_UNIX_SECONDS * USECS_PER_SEC - UNIX_EPOCH_OFFSET_USECS)

/* Where one element's mapping stands: the fields read in the loop, and the jsonb objects built. */
typedef struct MappingState
{
	MappedEvent *row;
	JsonbValue	email;
	JsonbValue	event_name;
	JsonbValue	timestamp;
	JsonbValue	sg_message_id;
	JsonbValue	smtp_id;
	JsonbParseState *custom_args;
	JsonbParseState *residual;
} MappingState;

/* bsearch comparator of a StringSpan key against a SendgridField. */
static int
sendgrid_field_compare(const void *key, const void *entry)
{
	const StringSpan *span = (const StringSpan *) key;
	const char *name = ((const SendgridField *) entry)->key;
	int			cmp = strncmp(span->data, name, span->len);

	if (cmp != 0)
		return cmp;
	return name[span->len] == '\0' ? 0 : -1;
}

/* Which of SendGrid's fields a top-level key is; NULL for a custom arg. */
static const SendgridField *
sendgrid_field_lookup(const char *key, int len)
{
	StringSpan	span = {key, len};

	return bsearch(&span, sendgrid_fields, lengthof(sendgrid_fields),
				   sizeof(SendgridField), sendgrid_field_compare);
}

/* Text of a scalar (strings as they are, numbers and booleans as JSON writes them); false for containers and null. */
static bool
scalar_text(JsonbValue *value, StringSpan *out)
{
	switch (value->type)
	{
		case jbvString:
			out->data = value->val.string.val;
			out->len = value->val.string.len;
			return true;
		case jbvNumeric:
			out->data = DatumGetCString(DirectFunctionCall1(numeric_out,
															NumericGetDatum(value->val.numeric)));
			out->len = strlen(out->data);
			return true;
		case jbvBool:
			out->data = value->val.boolean ? "true" : "false";
			out->len = strlen(out->data);
			return true;
		default:
			return false;
	}
}

/* Records why an element is rejected; the first reason found is kept. */
static void
reject(MappedEvent *row, const char *reason)
{
	if (row->reject_reason == NULL)
		row->reject_reason = reason;
}

/* Rejects an element whose field holds a value of the wrong JSON type. */
static void
reject_type(MappedEvent *row, const char *field, const char *expected, JsonbValue *value)
{
	reject(row, psprintf("field \"%s\" must be %s, not %s", field, expected, JsonbTypeName(value)));
}

/* Sets a column. */
static void
set_column(MappedEvent *row, int column, Datum value)
{
	row->values[column] = value;
	row->nulls[column] = false;
}

/* Adds a key and its value to a jsonb object under construction. */
static void
push_pair(JsonbParseState **object, const char *key, int key_len, JsonbValue *value)
{
	JsonbValue	name = {.type = jbvString};

	name.val.string.val = (char *) key;
	name.val.string.len = key_len;
	if (*object == NULL)
		pushJsonbValue(object, WJB_BEGIN_OBJECT, NULL);
	pushJsonbValue(object, WJB_KEY, &name);
	pushJsonbValue(object, WJB_VALUE, value);
}

/* Keeps a field's value as posted, in residual: its column does not give it back exactly. */
static void
keep_as_posted(MappingState *state, const SendgridField *field, JsonbValue *value)
{
	push_pair(&state->residual, field->key, strlen(field->key), value);
}

/* The jsonb of an object under construction, or NULL when it has no key. */
static Datum
finish_object(JsonbParseState **object, bool *isnull)
{
	*isnull = *object == NULL;
	if (*object == NULL)
		return (Datum) 0;
	return PointerGetDatum(JsonbValueToJsonb(pushJsonbValue(object, WJB_END_OBJECT, NULL)));
}

/* A string field: strings are stored as they are; numbers and booleans as their text, and as posted. */
static void
map_text(MappingState *state, const SendgridField *field, JsonbValue *value)
{
	StringSpan	text;

	if (!scalar_text(value, &text))
	{
		reject_type(state->row, field->key, "a string", value);
		return;
	}
	set_column(state->row, field->column, PointerGetDatum(cstring_to_text_with_len(text.data, text.len)));
	if (value->type != jbvString)
		keep_as_posted(state, field, value);
}

/* sg_machine_open: a boolean, or the strings "true" and "false" (also kept as posted). */
static void
map_boolean(MappingState *state, const SendgridField *field, JsonbValue *value)
{
	bool		parsed;

	if (value->type == jbvBool)
		parsed = value->val.boolean;
	else if (value->type == jbvString && value->val.string.len == 4 &&
			 pg_strncasecmp(value->val.string.val, "true", 4) == 0)
		parsed = true;
	else if (value->type == jbvString && value->val.string.len == 5 &&
			 pg_strncasecmp(value->val.string.val, "false", 5) == 0)
		parsed = false;
	else
	{
		reject_type(state->row, field->key, "a boolean", value);
		return;
	}
	set_column(state->row, field->column, BoolGetDatum(parsed));
	if (value->type != jbvBool)
		keep_as_posted(state, field, value);
}

/* Parses a decimal int4 written without sign, spaces or leading zeros; false otherwise. */
static bool
parse_plain_int32(StringSpan text, int32 *out)
{
	int64		parsed = 0;

	if (text.len == 0 || text.len > 10 || (text.len > 1 && text.data[0] == '0'))
		return false;
	for (int i = 0; i < text.len; i++)
	{
		if (text.data[i] < '0' || text.data[i] > '9')
			return false;
		parsed = parsed * 10 + (text.data[i] - '0');
	}
	if (parsed > PG_INT32_MAX)
		return false;
	*out = (int32) parsed;
	return true;
}

/*
 * An integer field: asm_group_id is posted as a number, attempt as a string
 * of digits; the other form (or a negative number) is accepted too and kept
 * as posted.
 */
static void
map_integer(MappingState *state, const SendgridField *field, JsonbValue *value)
{
	StringSpan	text;
	int32		parsed;
	bool		canonical;
	char	   *digits;
	char	   *end;
	long		wide;

	if ((value->type != jbvNumeric && value->type != jbvString) || !scalar_text(value, &text))
	{
		reject_type(state->row, field->key, "an integer", value);
		return;
	}
	canonical = parse_plain_int32(text, &parsed) &&
		value->type == (field->kind == FIELD_INTEGER ? jbvNumeric : jbvString);
	if (!canonical)
	{
		digits = pnstrdup(text.data, text.len);
		errno = 0;
		wide = strtol(digits, &end, 10);
		if (errno != 0 || end == digits || *end != '\0' || wide < PG_INT32_MIN || wide > PG_INT32_MAX)
		{
			reject(state->row, psprintf("field \"%s\" must be a 32-bit integer, not \"%s\"",
										field->key, quoted_prefix(text.data, text.len)));
			return;
		}
		parsed = (int32) wide;
		keep_as_posted(state, field, value);
	}
	set_column(state->row, field->column, Int32GetDatum(parsed));
}

/*
 * Whether one posted category fits: the counters keep a row per day and
 * category, under an index whose entries have room for CATEGORY_MAX_BYTES;
 * SendGrid's own categories are at most 255 characters.
 */
static bool
category_fits(MappingState *state, JsonbValue *item)
{
	text	   *category = category_of_scalar(item);

	if (category == NULL || VARSIZE_ANY_EXHDR(category) <= CATEGORY_MAX_BYTES)
		return true;
	reject(state->row, psprintf("field \"category\" holds a category of %d bytes; at most %d are accepted",
								(int) VARSIZE_ANY_EXHDR(category), CATEGORY_MAX_BYTES));
	return false;
}

/* category: a string (or number), or an array of them; kept exactly as posted. */
static void
map_category(MappingState *state, const SendgridField *field, JsonbValue *value)
{
	if (value->type == jbvBinary)
	{
		JsonbIterator *it;
		JsonbValue	item;
		JsonbIteratorToken token;

		if (!JsonContainerIsArray(value->val.binary.data))
		{
			reject_type(state->row, field->key, "a string or an array of strings", value);
			return;
		}
		it = JsonbIteratorInit(value->val.binary.data);
		while ((token = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
		{
			CHECK_FOR_INTERRUPTS();
			if (token == WJB_ELEM && item.type == jbvBinary)
			{
				reject(state->row, psprintf("field \"category\" must hold strings, not %s", JsonbTypeName(&item)));
				return;
			}
			if (token == WJB_ELEM && !category_fits(state, &item))
				return;
		}
	}
	else if (!category_fits(state, value))
		return;
	set_column(state->row, field->column, PointerGetDatum(JsonbValueToJsonb(value)));
}

/* Lets the loop's value of a field of its own kind through to the checks after the loop. */
static void
map_field(MappingState *state, const SendgridField *field, JsonbValue *value)
{
	if (value->type == jbvNull)
	{
		/* A null is kept as posted; its column stays NULL (required fields then reject the element). */
		keep_as_posted(state, field, value);
		return;
	}
	switch (field->kind)
	{
		case FIELD_EMAIL:
			state->email = *value;
			break;
		case FIELD_EVENT:
			state->event_name = *value;
			break;
		case FIELD_TIMESTAMP:
			state->timestamp = *value;
			break;
		case FIELD_SG_MESSAGE_ID:
			state->sg_message_id = *value;
			break;
		case FIELD_SMTP_ID:
			state->smtp_id = *value;
			break;
		case FIELD_SG_EVENT_ID:
		case FIELD_TEXT:
			map_text(state, field, value);
			break;
		case FIELD_BOOLEAN:
			map_boolean(state, field, value);
			break;
		case FIELD_INTEGER:
		case FIELD_INTEGER_STRING:
			map_integer(state, field, value);
			break;
		case FIELD_CATEGORY:
			map_category(state, field, value);
			break;
		case FIELD_RESIDUAL:
			keep_as_posted(state, field, value);
			break;
	}
}

/* A required string field, trimmed; false (and the element rejected) when missing, mistyped or empty. */
static bool
required_string(MappingState *state, const char *field, JsonbValue *value, StringSpan *out)
{
	size_t		len;

	if (value->type == jbvNull)
	{
		reject(state->row, psprintf("required field \"%s\" is missing", field));
		return false;
	}
	if (value->type != jbvString)
	{
		reject_type(state->row, field, "a string", value);
		return false;
	}
	out->data = value->val.string.val;
	len = value->val.string.len;
	wire_trim(&out->data, &len);
	out->len = (int) len;
	if (out->len == 0)
	{
		reject(state->row, psprintf("field \"%s\" is empty", field));
		return false;
	}
	return true;
}

/* An address as stored and compared: one normalization for every path (wire_normalize_email). */
text *
normalized_email(const char *email, int len)
{
	text	   *normalized = (text *) palloc(VARHDRSZ + len);

	SET_VARSIZE(normalized, VARHDRSZ +
				wire_normalize_email(email, len, GetDatabaseEncoding() == PG_UTF8, VARDATA(normalized)));
	return normalized;
}

/* email: normalized into its column, kept as posted when normalizing changed it. */
static void
map_email(MappingState *state)
{
	StringSpan	span;
	text	   *email;
	int			len;

	if (!required_string(state, "email", &state->email, &span))
		return;
	email = normalized_email(state->email.val.string.val, state->email.val.string.len);
	len = VARSIZE(email) - VARHDRSZ;
	if (len == 0)
	{
		reject(state->row, "field \"email\" is empty");
		return;
	}
	if (len > EMAIL_MAX_BYTES)
	{
		reject(state->row, psprintf("field \"email\" is %d bytes long; an address has at most %d",
									len, EMAIL_MAX_BYTES));
		return;
	}
	set_column(state->row, EVENT_COL_EMAIL, PointerGetDatum(email));
	if (len != state->email.val.string.len ||
		memcmp(VARDATA(email), state->email.val.string.val, len) != 0)
		keep_as_posted(state, sendgrid_field_lookup("email", 5), &state->email);
}

/* event: the name lowercased into its column, kept as posted when that changed it. */
static void
map_event_name(MappingState *state)
{
	StringSpan	span;
	char	   *name;

	if (!required_string(state, "event", &state->event_name, &span))
		return;
	name = pnstrdup(span.data, span.len);
	wire_lowercase_ascii(name, span.len);
	set_column(state->row, EVENT_COL_EVENT, PointerGetDatum(cstring_to_text_with_len(name, span.len)));
	if (span.len != state->event_name.val.string.len ||
		memcmp(name, state->event_name.val.string.val, span.len) != 0)
		keep_as_posted(state, sendgrid_field_lookup("event", 5), &state->event_name);
}

/* Whether an event time lies between 2000-01-01 and a day after received_at. */
bool
timestamp_in_event_range(TimestampTz at, TimestampTz received_at)
{
	return at >= EARLIEST_EVENT_TIME && at <= received_at + FUTURE_TOLERANCE_USECS;
}

/*
 * timestamp: Unix seconds or milliseconds, number or digit string, no later
 * than a day after received_at.  Its column gives back a whole number of
 * seconds posted as a number; any other form is kept as posted.
 */
static void
map_timestamp(MappingState *state, TimestampTz received_at)
{
	JsonbValue *value = &state->timestamp;
	StringSpan	text;
	size_t		len;
	int64		unix_usecs;
	TimestampTz occurred_at;
	char		seconds[MAXINT8LEN + 1];

	if (value->type == jbvNull)
	{
		reject(state->row, "required field \"timestamp\" is missing");
		return;
	}
	if ((value->type != jbvNumeric && value->type != jbvString) || !scalar_text(value, &text))
	{
		reject_type(state->row, "timestamp", "Unix seconds or milliseconds", value);
		return;
	}
	len = text.len;
	wire_trim(&text.data, &len);
	text.len = (int) len;
	if (!wire_parse_unix_time(text.data, text.len, &unix_usecs))
	{
		reject(state->row, psprintf("field \"timestamp\" must be Unix seconds or milliseconds, not \"%s\"",
									quoted_prefix(text.data, text.len)));
		return;
	}
	occurred_at = unix_usecs - UNIX_EPOCH_OFFSET_USECS;
	if (!timestamp_in_event_range(occurred_at, received_at))
	{
		reject(state->row, psprintf("timestamp %s is out of range: events must lie between 2000-01-01 and one day from now",
									quoted_prefix(text.data, text.len)));
		return;
	}
	set_column(state->row, EVENT_COL_OCCURRED_AT, TimestampTzGetDatum(occurred_at));
	snprintf(seconds, sizeof(seconds), INT64_FORMAT, unix_usecs / USECS_PER_SEC);
	if (value->type != jbvNumeric || unix_usecs % USECS_PER_SEC != 0 ||
		strlen(seconds) != (size_t) text.len || memcmp(seconds, text.data, text.len) != 0)
		keep_as_posted(state, sendgrid_field_lookup("timestamp", 9), value);
}

/*
 * message_id, the X-Message-Id the CRM got back when it sent: the part of
 * sg_message_id before ".filter" (else ".recvd", else the first dot); when
 * sg_message_id starts with a relay host instead ("filter0093p1las1.9128..."),
 * or is missing or empty, the local part of smtp-id ("<id@host>").  sg_message_id
 * is stored as what follows the id, and smtp-id as its host, when they give
 * them back exactly; otherwise as posted.
 */
static void
map_message_id(MappingState *state)
{
	JsonbValue *sg = &state->sg_message_id;
	JsonbValue *smtp = &state->smtp_id;
	StringSpan	sg_text = {NULL, 0};
	bool		has_sg = false;
	bool		has_smtp_parts = false;
	size_t		local_len = 0;
	size_t		host_start = 0;
	const char *id = "";
	size_t		id_len = 0;

	if (sg->type != jbvNull)
	{
		if (!scalar_text(sg, &sg_text))
		{
			reject_type(state->row, "sg_message_id", "a string", sg);
			return;
		}
		has_sg = true;
	}
	if (smtp->type == jbvString)
		has_smtp_parts = wire_smtp_id_parts(smtp->val.string.val, smtp->val.string.len, &local_len, &host_start);

	if (has_sg && !wire_names_relay(sg_text.data, sg_text.len))
	{
		size_t		start;

		wire_message_id_span(sg_text.data, sg_text.len, &start, &id_len);
		id = sg_text.data + start;
	}
	if (id_len == 0 && has_smtp_parts)
	{
		id = smtp->val.string.val + 1;
		id_len = local_len;
	}
	if (id_len > ID_MAX_BYTES)
	{
		reject(state->row, psprintf("the message id is %d bytes long; at most %d are accepted",
									(int) id_len, ID_MAX_BYTES));
		return;
	}
	set_column(state->row, EVENT_COL_MESSAGE_ID, PointerGetDatum(cstring_to_text_with_len(id, id_len)));

	if (has_sg)
	{
		if (sg->type == jbvString && id_len > 0 && (size_t) sg_text.len >= id_len &&
			memcmp(sg_text.data, id, id_len) == 0)
			set_column(state->row, EVENT_COL_SG_MESSAGE_SUFFIX,
					   PointerGetDatum(cstring_to_text_with_len(sg_text.data + id_len, sg_text.len - id_len)));
		else
			keep_as_posted(state, sendgrid_field_lookup("sg_message_id", 13), sg);
	}
	if (smtp->type != jbvNull)
	{
		if (has_smtp_parts && id_len > 0 && local_len == id_len &&
			memcmp(smtp->val.string.val + 1, id, id_len) == 0)
			set_column(state->row, EVENT_COL_SMTP_HOST,
					   PointerGetDatum(cstring_to_text_with_len(smtp->val.string.val + host_start,
																smtp->val.string.len - host_start - 1)));
		else
			keep_as_posted(state, sendgrid_field_lookup("smtp-id", 7), smtp);
	}
}

/* Rejects an sg_event_id longer than SendGrid's. */
static void
check_sg_event_id(MappedEvent *row)
{
	int			len;

	if (row->nulls[EVENT_COL_SG_EVENT_ID])
		return;
	len = VARSIZE_ANY_EXHDR(DatumGetPointer(row->values[EVENT_COL_SG_EVENT_ID]));
	if (len > ID_MAX_BYTES)
		reject(row, psprintf("field \"sg_event_id\" is %d bytes long; at most %d are accepted",
							 len, ID_MAX_BYTES));
}

/* The SHA-256 of a jsonb's bytes (jsonb is canonical: key order and white space do not change them). */
static void
jsonb_sha256(Jsonb *jsonb, unsigned char *digest, unsigned int *digest_len)
{
	if (!EVP_Digest(VARDATA(jsonb), VARSIZE(jsonb) - VARHDRSZ, digest, digest_len, EVP_sha256(), NULL))
		elog(ERROR, "could not compute SHA-256");
}

/* The dedup hash of an event: the first 64 bits of the SHA-256 of its jsonb. */
int64
jsonb_content_hash(Jsonb *jsonb)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len;
	uint64		hash = 0;

	jsonb_sha256(jsonb, digest, &digest_len);
	for (int i = 0; i < 8; i++)
		hash = (hash << 8) | digest[i];
	return (int64) hash;
}

/* "sha256:" and the hex SHA-256 of a jsonb: the key of a rejected element, and of an event without sg_event_id. */
char *
jsonb_content_key(Jsonb *jsonb)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len;
	char	   *key;

	jsonb_sha256(jsonb, digest, &digest_len);
	key = palloc(strlen("sha256:") + 2 * digest_len + 1);
	strcpy(key, "sha256:");
	hex_encode((const char *) digest, digest_len, key + strlen("sha256:"));
	key[strlen("sha256:") + 2 * digest_len] = '\0';
	return key;
}

/*
 * Maps one element onto a row of mailstatus.event in one pass over its keys.
 * On a bad element, row->reject_reason says why and values are unused.
 */
void
map_sendgrid_event_row(Jsonb *event, TimestampTz received_at, MappedEvent *row)
{
	MappingState state = {.row = row};
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	value;
	JsonbIteratorToken token;

	memset(row, 0, sizeof(MappedEvent));
	for (int i = 0; i < EVENT_NCOLUMNS; i++)
		row->nulls[i] = true;
	set_column(row, EVENT_COL_RECEIVED_AT, TimestampTzGetDatum(received_at));
	state.email.type = state.event_name.type = state.timestamp.type = jbvNull;
	state.sg_message_id.type = state.smtp_id.type = jbvNull;

	if (!JB_ROOT_IS_OBJECT(event))
	{
		reject(row, psprintf("element is %s, not an object",
							 JB_ROOT_IS_SCALAR(event) ? "a scalar" : "an array"));
		return;
	}

	it = JsonbIteratorInit(&event->root);
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		const SendgridField *field;

		if (token != WJB_KEY)
			continue;
		token = JsonbIteratorNext(&it, &value, true);
		Assert(token == WJB_VALUE);
		field = sendgrid_field_lookup(key.val.string.val, key.val.string.len);
		if (field == NULL)
			push_pair(&state.custom_args, key.val.string.val, key.val.string.len, &value);
		else
			map_field(&state, field, &value);
	}

	/* Required fields, in the order a reader checks them, then what depends on several fields. */
	map_email(&state);
	map_event_name(&state);
	map_timestamp(&state, received_at);
	map_message_id(&state);
	check_sg_event_id(row);
	if (row->reject_reason != NULL)
		return;

	set_column(row, EVENT_COL_CONTENT_HASH, Int64GetDatum(jsonb_content_hash(event)));
	row->values[EVENT_COL_CUSTOM_ARGS] = finish_object(&state.custom_args, &row->nulls[EVENT_COL_CUSTOM_ARGS]);
	row->values[EVENT_COL_RESIDUAL] = finish_object(&state.residual, &row->nulls[EVENT_COL_RESIDUAL]);
}

/* Adds a text column to the payload as a string. */
static void
push_text_column(JsonbParseState **payload, const char *key, text *value)
{
	JsonbValue	string = {.type = jbvString};

	string.val.string.val = VARDATA_ANY(value);
	string.val.string.len = VARSIZE_ANY_EXHDR(value);
	push_pair(payload, key, strlen(key), &string);
}

/* Adds a string made of a prefix, a text column's value and a suffix (sg_message_id, smtp-id). */
static void
push_joined_text(JsonbParseState **payload, const char *key, const char *before, text *first,
				 const char *middle, text *second, const char *after)
{
	StringInfoData joined;
	JsonbValue	string = {.type = jbvString};

	initStringInfo(&joined);
	appendStringInfoString(&joined, before);
	appendBinaryStringInfo(&joined, VARDATA_ANY(first), VARSIZE_ANY_EXHDR(first));
	appendStringInfoString(&joined, middle);
	appendBinaryStringInfo(&joined, VARDATA_ANY(second), VARSIZE_ANY_EXHDR(second));
	appendStringInfoString(&joined, after);
	string.val.string.val = joined.data;
	string.val.string.len = joined.len;
	push_pair(payload, key, strlen(key), &string);
}

/* Adds every key of a jsonb object to the payload. */
static void
push_object_pairs(JsonbParseState **payload, Jsonb *object)
{
	JsonbIterator *it = JsonbIteratorInit(&object->root);
	JsonbValue	key;
	JsonbValue	value;
	JsonbIteratorToken token;

	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		if (token != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &value, true);
		push_pair(payload, key.val.string.val, key.val.string.len, &value);
	}
}

/* Adds a jsonb value (a scalar or a container) to the payload under a key. */
static void
push_jsonb_value(JsonbParseState **payload, const char *key, Jsonb *jsonb)
{
	JsonbValue	value;

	if (JB_ROOT_IS_SCALAR(jsonb))
		JsonbExtractScalar(&jsonb->root, &value);
	else
	{
		value.type = jbvBinary;
		value.val.binary.data = &jsonb->root;
		value.val.binary.len = VARSIZE(jsonb) - VARHDRSZ;
	}
	push_pair(payload, key, strlen(key), &value);
}

/*
 * The event as posted, from a row of mailstatus.event: each typed column in
 * its field's canonical form, then the custom args, then residual, whose
 * values (the posted forms) win over a column's, as a later key wins in jsonb.
 */
Jsonb *
event_payload_of(Datum *values, bool *nulls)
{
	JsonbParseState *payload = NULL;
	JsonbValue	scalar;
	text	   *message_id = DatumGetTextPP(values[EVENT_COL_MESSAGE_ID]);

	pushJsonbValue(&payload, WJB_BEGIN_OBJECT, NULL);
	for (int column = 0; column < EVENT_NCOLUMNS; column++)
	{
		const SendgridField *field = field_of_column(column);

		if (field == NULL || nulls[column])
			continue;
		switch (field->kind)
		{
			case FIELD_EMAIL:
			case FIELD_EVENT:
			case FIELD_SG_EVENT_ID:
			case FIELD_TEXT:
				push_text_column(&payload, field->key, DatumGetTextPP(values[column]));
				break;
			case FIELD_TIMESTAMP:
				scalar.type = jbvNumeric;
				scalar.val.numeric = int64_to_numeric((DatumGetTimestampTz(values[column]) + UNIX_EPOCH_OFFSET_USECS) /
													  USECS_PER_SEC);
				push_pair(&payload, field->key, strlen(field->key), &scalar);
				break;
			case FIELD_SG_MESSAGE_ID:
				push_joined_text(&payload, field->key, "", message_id, "", DatumGetTextPP(values[column]), "");
				break;
			case FIELD_SMTP_ID:
				push_joined_text(&payload, field->key, "<", message_id, "@", DatumGetTextPP(values[column]), ">");
				break;
			case FIELD_BOOLEAN:
				scalar.type = jbvBool;
				scalar.val.boolean = DatumGetBool(values[column]);
				push_pair(&payload, field->key, strlen(field->key), &scalar);
				break;
			case FIELD_INTEGER:
				scalar.type = jbvNumeric;
				scalar.val.numeric = int64_to_numeric(DatumGetInt32(values[column]));
				push_pair(&payload, field->key, strlen(field->key), &scalar);
				break;
			case FIELD_INTEGER_STRING:
				scalar.type = jbvString;
				scalar.val.string.val = psprintf("%d", DatumGetInt32(values[column]));
				scalar.val.string.len = strlen(scalar.val.string.val);
				push_pair(&payload, field->key, strlen(field->key), &scalar);
				break;
			case FIELD_CATEGORY:
				push_jsonb_value(&payload, field->key, DatumGetJsonbP(values[column]));
				break;
			case FIELD_RESIDUAL:
				break;
		}
	}
	if (!nulls[EVENT_COL_CUSTOM_ARGS])
		push_object_pairs(&payload, DatumGetJsonbP(values[EVENT_COL_CUSTOM_ARGS]));
	if (!nulls[EVENT_COL_RESIDUAL])
		push_object_pairs(&payload, DatumGetJsonbP(values[EVENT_COL_RESIDUAL]));
	return JsonbValueToJsonb(pushJsonbValue(&payload, WJB_END_OBJECT, NULL));
}

/* Index in a row type of each EventColumn, by name; -1 when the row type lacks it. */
void
event_columns_of(TupleDesc rowdesc, int *attnum_of_column)
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
	}
}

/* Per-call cache of event_payload: the row type it was made for and its column positions. */
typedef struct EventRowReader
{
	Oid			rowtype;
	int32		rowtypmod;
	TupleDesc	rowdesc;
	int			attnum_of_column[EVENT_NCOLUMNS];
} EventRowReader;

/* The columns of a mailstatus.event row, in EventColumn order. */
static void
event_row_columns(FunctionCallInfo fcinfo, HeapTupleHeader row, Datum *values, bool *nulls)
{
	EventRowReader *reader = (EventRowReader *) fcinfo->flinfo->fn_extra;
	Oid			rowtype = HeapTupleHeaderGetTypeId(row);
	int32		rowtypmod = HeapTupleHeaderGetTypMod(row);
	HeapTupleData tuple;
	Datum	   *row_values;
	bool	   *row_nulls;

	if (reader == NULL || reader->rowtype != rowtype || reader->rowtypmod != rowtypmod)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		reader = palloc(sizeof(EventRowReader));
		reader->rowtype = rowtype;
		reader->rowtypmod = rowtypmod;
		reader->rowdesc = lookup_rowtype_tupdesc_copy(rowtype, rowtypmod);
		event_columns_of(reader->rowdesc, reader->attnum_of_column);
		for (int c = 0; c < EVENT_NCOLUMNS; c++)
		{
			if (reader->attnum_of_column[c] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of mailstatus.event does not exist", event_column_names[c]),
						 errhint("Update the extension: ALTER EXTENSION mailstatus UPDATE;")));
		}
		fcinfo->flinfo->fn_extra = reader;
		MemoryContextSwitchTo(old);
	}
	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	row_values = palloc(sizeof(Datum) * reader->rowdesc->natts);
	row_nulls = palloc(sizeof(bool) * reader->rowdesc->natts);
	heap_deform_tuple(&tuple, reader->rowdesc, row_values, row_nulls);
	for (int c = 0; c < EVENT_NCOLUMNS; c++)
	{
		values[c] = row_values[reader->attnum_of_column[c]];
		nulls[c] = row_nulls[reader->attnum_of_column[c]];
	}
	/* The table never holds one; sg_message_id and smtp-id are put back together around it. */
	if (nulls[EVENT_COL_MESSAGE_ID])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an event's message_id is never NULL"),
				 errdetail("An event that names no message has message_id ''.")));
}

PG_FUNCTION_INFO_V1(event_payload);
/* SQL: event_payload(mailstatus.event) → jsonb, the event as posted. */
Datum
event_payload(PG_FUNCTION_ARGS)
{
	Datum		values[EVENT_NCOLUMNS];
	bool		nulls[EVENT_NCOLUMNS];

	event_row_columns(fcinfo, DETOASTED_TUPLE_HEADER(PG_GETARG_DATUM(0)), values, nulls);
	PG_RETURN_JSONB_P(event_payload_of(values, nulls));
}

PG_FUNCTION_INFO_V1(event_key);
/* SQL: event_key(mailstatus.event) → text, sg_event_id, or sha256: of the event as posted when it has none. */
Datum
event_key(PG_FUNCTION_ARGS)
{
	Datum		values[EVENT_NCOLUMNS];
	bool		nulls[EVENT_NCOLUMNS];

	event_row_columns(fcinfo, DETOASTED_TUPLE_HEADER(PG_GETARG_DATUM(0)), values, nulls);
	if (!nulls[EVENT_COL_SG_EVENT_ID] && VARSIZE_ANY_EXHDR(DatumGetPointer(values[EVENT_COL_SG_EVENT_ID])) > 0)
		PG_RETURN_DATUM(values[EVENT_COL_SG_EVENT_ID]);
	PG_RETURN_TEXT_P(cstring_to_text(jsonb_content_key(event_payload_of(values, nulls))));
}

PG_FUNCTION_INFO_V1(content_hash);
/* SQL: content_hash(jsonb) → bigint, the dedup hash ingest gives an event. */
Datum
content_hash(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(jsonb_content_hash(PG_GETARG_JSONB_P(0)));
}

PG_FUNCTION_INFO_V1(content_key);
/* SQL: content_key(jsonb) → text, "sha256:" and the hex SHA-256 of a jsonb. */
Datum
content_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(jsonb_content_key(PG_GETARG_JSONB_P(0))));
}

PG_FUNCTION_INFO_V1(map_sendgrid_event);
/* SQL: map_sendgrid_event(element jsonb, received_at) → (event mailstatus.event, reject_reason text). */
Datum
map_sendgrid_event(PG_FUNCTION_ARGS)
{
	Jsonb	   *element = PG_GETARG_JSONB_P(0);
	TimestampTz received_at = PG_GETARG_TIMESTAMPTZ(1);
	TupleDesc	result_desc;
	TupleDesc	rowdesc;
	int			attnum_of_column[EVENT_NCOLUMNS];
	MappedEvent row;
	Datum		result[2] = {0, 0};
	bool		result_nulls[2] = {true, true};

	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	/* Events may lie a day past received_at: infinity has no day after it. */
	if (TIMESTAMP_NOT_FINITE(received_at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("received_at must be a finite time")));
	rowdesc = lookup_rowtype_tupdesc_copy(TupleDescAttr(result_desc, 0)->atttypid, -1);
	event_columns_of(rowdesc, attnum_of_column);
	map_sendgrid_event_row(element, received_at, &row);
	if (row.reject_reason != NULL)
	{
		result[1] = CStringGetTextDatum(row.reject_reason);
		result_nulls[1] = false;
	}
	else
	{
		Datum	   *values = palloc0(sizeof(Datum) * rowdesc->natts);
		bool	   *nulls = palloc(sizeof(bool) * rowdesc->natts);

		memset(nulls, true, sizeof(bool) * rowdesc->natts);
		for (int c = 0; c < EVENT_NCOLUMNS; c++)
		{
			if (attnum_of_column[c] < 0)
				elog(ERROR, "column \"%s\" of mailstatus.event does not exist", event_column_names[c]);
			values[attnum_of_column[c]] = row.values[c];
			nulls[attnum_of_column[c]] = row.nulls[c];
		}
		result[0] = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(rowdesc), values, nulls));
		result_nulls[0] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(result_desc), result, result_nulls)));
}

PG_FUNCTION_INFO_V1(normalize_email);
/* SQL access to the address normalization every path applies. */
Datum
normalize_email(PG_FUNCTION_ARGS)
{
	text	   *email = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(normalized_email(VARDATA_ANY(email), VARSIZE_ANY_EXHDR(email)));
}

PG_FUNCTION_INFO_V1(email_max_bytes);
/* SQL: the longest address accepted (EMAIL_MAX_BYTES), for record_send's check: one definition. */
Datum
email_max_bytes(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(EMAIL_MAX_BYTES);
}

PG_FUNCTION_INFO_V1(sendgrid_id_max_bytes);
/* SQL: the longest sg_event_id or X-Message-Id accepted (ID_MAX_BYTES), for record_send's check. */
Datum
sendgrid_id_max_bytes(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ID_MAX_BYTES);
}

PG_FUNCTION_INFO_V1(message_id_of);
/* SQL access to the X-Message-Id extraction from an sg_message_id; NULL when it holds none. */
Datum
message_id_of(PG_FUNCTION_ARGS)
{
	text	   *sg_message_id = PG_GETARG_TEXT_PP(0);
	size_t		start;
	size_t		len = 0;

	if (!wire_names_relay(VARDATA_ANY(sg_message_id), VARSIZE_ANY_EXHDR(sg_message_id)))
		wire_message_id_span(VARDATA_ANY(sg_message_id), VARSIZE_ANY_EXHDR(sg_message_id), &start, &len);
	if (len == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(VARDATA_ANY(sg_message_id) + start, len));
}

PG_FUNCTION_INFO_V1(checked_event_time);
/* SQL: checked_event_time(at, what) → at, or an error when it lies outside the times ingest accepts. */
Datum
checked_event_time(PG_FUNCTION_ARGS)
{
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(0);
	char	   *what = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (TIMESTAMP_NOT_FINITE(at) || !timestamp_in_event_range(at, GetCurrentTransactionStartTimestamp()))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is out of range", what, TIMESTAMP_NOT_FINITE(at) ? "(infinite)" : timestamptz_to_str(at)),
				 errdetail("Times must lie between 2000-01-01 and one day from now, as for SendGrid's events.")));
	PG_RETURN_TIMESTAMPTZ(at);
}
