/*
 * Mapping of one SendGrid webhook event (a jsonb object) onto the columns of
 * mailstatus.event.  Both entry points, the jsonb one and the raw-body one,
 * map events through here, so they store the same rows and reject the same
 * elements for the same reasons.
 */
#include "postgres.h"

#include "pg_compat.h"

#include <openssl/evp.h>

#include "fmgr.h"
#include "catalog/pg_type.h"
#include "parser/scansup.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "mail_status.h"
#include "sendgrid_event.h"
#include "wire.h"

const char *const event_column_names[EVENT_NCOLUMNS] = {
	"event_key", "sg_event_id", "sg_message_id", "message_id", "email",
	"event", "status", "occurred_at", "received_at", "reason", "smtp_status",
	"response", "bounce_type", "bounce_classification", "url", "useragent",
	"ip", "machine_open", "attempt", "asm_group_id", "category",
	"custom_args", "payload"
};

/* What ingest does with a top-level key of an event. */
typedef enum SendgridField
{
	FIELD_PAYLOAD_ONLY,			/* SendGrid's own, kept in payload only */
	FIELD_EMAIL,
	FIELD_TIMESTAMP,
	FIELD_EVENT,
	FIELD_SG_EVENT_ID,
	FIELD_SG_MESSAGE_ID,
	FIELD_REASON,
	FIELD_STATUS,
	FIELD_RESPONSE,
	FIELD_TYPE,
	FIELD_BOUNCE_CLASSIFICATION,
	FIELD_URL,
	FIELD_USERAGENT,
	FIELD_IP,
	FIELD_SG_MACHINE_OPEN,
	FIELD_ATTEMPT,
	FIELD_ASM_GROUP_ID,
	FIELD_CATEGORY
} SendgridField;

typedef struct SendgridFieldName
{
	const char *key;
	SendgridField field;
} SendgridFieldName;

/*
 * SendGrid's reserved keys, sorted by strcmp for bsearch.  Every other
 * top-level key is one of the CRM's custom args.
 */
static const SendgridFieldName sendgrid_fields[] = {
	{"asm_group_id", FIELD_ASM_GROUP_ID},
	{"attempt", FIELD_ATTEMPT},
	{"bounce_classification", FIELD_BOUNCE_CLASSIFICATION},
	{"category", FIELD_CATEGORY},
	{"cert_err", FIELD_PAYLOAD_ONLY},
	{"email", FIELD_EMAIL},
	{"event", FIELD_EVENT},
	{"ip", FIELD_IP},
	{"marketing_campaign_id", FIELD_PAYLOAD_ONLY},
	{"marketing_campaign_name", FIELD_PAYLOAD_ONLY},
	{"marketing_campaign_split_id", FIELD_PAYLOAD_ONLY},
	{"marketing_campaign_version", FIELD_PAYLOAD_ONLY},
	{"mc_stats", FIELD_PAYLOAD_ONLY},
	{"newsletter", FIELD_PAYLOAD_ONLY},
	{"phase_id", FIELD_PAYLOAD_ONLY},
	{"pool", FIELD_PAYLOAD_ONLY},
	{"post_type", FIELD_PAYLOAD_ONLY},
	{"reason", FIELD_REASON},
	{"response", FIELD_RESPONSE},
	{"send_at", FIELD_PAYLOAD_ONLY},
	{"sg_content_type", FIELD_PAYLOAD_ONLY},
	{"sg_event_id", FIELD_SG_EVENT_ID},
	{"sg_machine_open", FIELD_SG_MACHINE_OPEN},
	{"sg_message_id", FIELD_SG_MESSAGE_ID},
	{"sg_template_id", FIELD_PAYLOAD_ONLY},
	{"sg_template_name", FIELD_PAYLOAD_ONLY},
	{"sg_user_id", FIELD_PAYLOAD_ONLY},
	{"singlesend_id", FIELD_PAYLOAD_ONLY},
	{"singlesend_name", FIELD_PAYLOAD_ONLY},
	{"smtp-id", FIELD_PAYLOAD_ONLY},
	{"status", FIELD_STATUS},
	{"template_id", FIELD_PAYLOAD_ONLY},
	{"template_version_id", FIELD_PAYLOAD_ONLY},
	{"timestamp", FIELD_TIMESTAMP},
	{"tls", FIELD_PAYLOAD_ONLY},
	{"type", FIELD_TYPE},
	{"url", FIELD_URL},
	{"url_offset", FIELD_PAYLOAD_ONLY},
	{"useragent", FIELD_USERAGENT},
};

/* A jsonb string: bytes and length, not NUL-terminated. */
typedef struct StringSpan
{
	const char *data;
	int			len;
} StringSpan;

/* Unix seconds of 2000-01-01, the earliest event time accepted. */
#define EARLIEST_EVENT_UNIX_SECONDS	INT64CONST(946684800)
/* How far past the transaction start an event time may be: clocks drift. */
#define FUTURE_TOLERANCE_USECS		(INT64CONST(86400) * USECS_PER_SEC)

/*
 * Longest values of the indexed columns.  An address is at most 320 bytes
 * (RFC 3696); ids longer than 256 bytes are not SendGrid's.  Longer values
 * would not fit a btree entry and would fail the whole batch, so the element
 * is rejected instead.
 */
#define EMAIL_MAX_BYTES		320
#define ID_MAX_BYTES		256

/* bsearch comparator of a StringSpan key against a SendgridFieldName. */
static int
sendgrid_field_compare(const void *key, const void *entry)
{
	const StringSpan *span = (const StringSpan *) key;
	const char *name = ((const SendgridFieldName *) entry)->key;
	int			cmp = strncmp(span->data, name, span->len);

	if (cmp != 0)
		return cmp;
	return name[span->len] == '\0' ? 0 : -1;
}

/* Which field a top-level key is; NULL for a custom arg. */
static const SendgridFieldName *
sendgrid_field_lookup(const char *key, int len)
{
	StringSpan	span = {key, len};

	return bsearch(&span, sendgrid_fields, lengthof(sendgrid_fields),
				   sizeof(SendgridFieldName), sendgrid_field_compare);
}

/* Text of a scalar (strings as they are, numbers and booleans as JSON writes them); false for containers. */
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
		row->reject_reason = pstrdup(reason);
}

/* Rejects an element whose field holds a value of the wrong JSON type. */
static void
reject_type(MappedEvent *row, const char *field, const char *expected, JsonbValue *value)
{
	reject(row, psprintf("field \"%s\" must be %s, not %s", field, expected, JsonbTypeName(value)));
}

/* Span without leading and trailing ASCII white space. */
static StringSpan
trimmed(StringSpan span)
{
	size_t		len = span.len;

	wire_trim(&span.data, &len);
	span.len = (int) len;
	return span;
}

/* Email as stored and compared: trimmed, ASCII letters lowercased. */
char *
normalize_email_ascii(const char *email, int len, int *normalized_len)
{
	StringSpan	span = trimmed((StringSpan) {email, len});
	char	   *out = palloc(span.len + 1);

	for (int i = 0; i < span.len; i++)
		out[i] = pg_ascii_tolower((unsigned char) span.data[i]);
	out[span.len] = '\0';
	*normalized_len = span.len;
	return out;
}

/* The X-Message-Id inside an sg_message_id (wire_message_id_span), palloc'd; NULL when empty. */
char *
sendgrid_message_id(const char *sg_message_id, int len, int *message_id_len)
{
	size_t		start;
	size_t		id_len;

	wire_message_id_span(sg_message_id, len, &start, &id_len);
	*message_id_len = (int) id_len;
	return id_len == 0 ? NULL : pnstrdup(sg_message_id + start, id_len);
}

/* Stores a scalar as a text column; containers are rejected, null leaves the column NULL. */
static void
map_text_field(MappedEvent *row, EventColumn column, const char *field, JsonbValue *value)
{
	StringSpan	text;

	if (value->type == jbvNull)
		return;
	if (!scalar_text(value, &text))
	{
		reject_type(row, field, "a string", value);
		return;
	}
	row->values[column] = PointerGetDatum(cstring_to_text_with_len(text.data, text.len));
	row->nulls[column] = false;
}

/* A required, non-empty string field, trimmed; false (and the row rejected) otherwise. */
static bool
required_string(MappedEvent *row, const char *field, JsonbValue *value, StringSpan *out)
{
	if (value == NULL || value->type == jbvNull)
	{
		reject(row, psprintf("required field \"%s\" is missing", field));
		return false;
	}
	if (value->type != jbvString)
	{
		reject_type(row, field, "a string", value);
		return false;
	}
	*out = trimmed((StringSpan) {value->val.string.val, value->val.string.len});
	if (out->len == 0)
	{
		reject(row, psprintf("field \"%s\" is empty", field));
		return false;
	}
	return true;
}

/* Parses an integer (JSON number or digit string) into int4; false if it is not one. */
static bool
parse_int32(JsonbValue *value, int32 *out)
{
	StringSpan	text;
	char	   *digits;
	char	   *end;
	long		parsed;

	if ((value->type != jbvNumeric && value->type != jbvString) || !scalar_text(value, &text))
		return false;
	digits = pnstrdup(text.data, text.len);
	errno = 0;
	parsed = strtol(digits, &end, 10);
	if (errno != 0 || end == digits || *end != '\0' || parsed < PG_INT32_MIN || parsed > PG_INT32_MAX)
		return false;
	*out = (int32) parsed;
	return true;
}

/* Stores an integer field; other values reject the element. */
static void
map_int_field(MappedEvent *row, EventColumn column, const char *field, JsonbValue *value)
{
	int32		parsed;
	StringSpan	text;

	if (value->type == jbvNull)
		return;
	if (!parse_int32(value, &parsed))
	{
		if ((value->type == jbvNumeric || value->type == jbvString) && scalar_text(value, &text))
			reject(row, psprintf("field \"%s\" must be a 32-bit integer, not \"%s\"",
								 field, pnstrdup(text.data, Min(text.len, 64))));
		else
			reject_type(row, field, "an integer", value);
		return;
	}
	row->values[column] = Int32GetDatum(parsed);
	row->nulls[column] = false;
}

/* sg_machine_open: a boolean, or the strings "true" and "false". */
static void
map_machine_open(MappedEvent *row, JsonbValue *value)
{
	bool		machine_open;

	if (value->type == jbvNull)
		return;
	if (value->type == jbvBool)
		machine_open = value->val.boolean;
	else if (value->type == jbvString && value->val.string.len == 4 &&
			 pg_strncasecmp(value->val.string.val, "true", 4) == 0)
		machine_open = true;
	else if (value->type == jbvString && value->val.string.len == 5 &&
			 pg_strncasecmp(value->val.string.val, "false", 5) == 0)
		machine_open = false;
	else
	{
		reject_type(row, "sg_machine_open", "a boolean", value);
		return;
	}
	row->values[EVENT_COL_MACHINE_OPEN] = BoolGetDatum(machine_open);
}

/* category: one string, or an array of strings, stored as text[]. */
static void
map_category(MappedEvent *row, JsonbValue *value)
{
	Datum	   *items;
	int			nitems = 0;
	StringSpan	text;

	if (value->type == jbvNull)
		return;
	if (value->type == jbvBinary && JsonContainerIsArray(value->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(value->val.binary.data);
		JsonbValue	item;
		JsonbIteratorToken token;

		items = palloc(sizeof(Datum) * Max(1, JsonContainerSize(value->val.binary.data)));
		while ((token = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
		{
			if (token != WJB_ELEM || item.type == jbvNull)
				continue;
			if (!scalar_text(&item, &text))
			{
				reject(row, psprintf("field \"category\" must hold strings, not %s", JsonbTypeName(&item)));
				return;
			}
			items[nitems++] = PointerGetDatum(cstring_to_text_with_len(text.data, text.len));
		}
	}
	else if (scalar_text(value, &text))
	{
		items = palloc(sizeof(Datum));
		items[nitems++] = PointerGetDatum(cstring_to_text_with_len(text.data, text.len));
	}
	else
	{
		reject_type(row, "category", "a string or an array of strings", value);
		return;
	}
	row->values[EVENT_COL_CATEGORY] = PointerGetDatum(construct_array(items, nitems, TEXTOID, -1, false, TYPALIGN_INT));
	row->nulls[EVENT_COL_CATEGORY] = false;
}

/*
 * Maps "timestamp" onto occurred_at: Unix seconds or milliseconds, number or
 * digit string, no later than a day after received_at.
 */
static void
map_timestamp(MappedEvent *row, JsonbValue *value, TimestampTz received_at)
{
	StringSpan	text;
	int64		unix_usecs;
	int64		latest_unix_usecs;

	if (value == NULL || value->type == jbvNull)
	{
		reject(row, "required field \"timestamp\" is missing");
		return;
	}
	if ((value->type != jbvNumeric && value->type != jbvString) || !scalar_text(value, &text))
	{
		reject_type(row, "timestamp", "Unix seconds or milliseconds", value);
		return;
	}
	text = trimmed(text);
	if (!wire_parse_unix_time(text.data, text.len, &unix_usecs))
	{
		reject(row, psprintf("field \"timestamp\" must be Unix seconds or milliseconds, not \"%s\"",
							 pnstrdup(text.data, Min(text.len, 64))));
		return;
	}
	latest_unix_usecs = received_at + FUTURE_TOLERANCE_USECS +
		EARLIEST_EVENT_UNIX_SECONDS * USECS_PER_SEC;
	if (unix_usecs < EARLIEST_EVENT_UNIX_SECONDS * USECS_PER_SEC || unix_usecs > latest_unix_usecs)
	{
		reject(row, psprintf("timestamp %s is out of range: events must lie between 2000-01-01 and one day from now",
							 pnstrdup(text.data, text.len)));
		return;
	}
	row->values[EVENT_COL_OCCURRED_AT] =
		TimestampTzGetDatum(unix_usecs - EARLIEST_EVENT_UNIX_SECONDS * USECS_PER_SEC);
	row->nulls[EVENT_COL_OCCURRED_AT] = false;
}

/*
 * "sha256:" and the hex SHA-256 of a jsonb's bytes (jsonb is canonical: key
 * order and white space do not change them): the dedup key of an event
 * without sg_event_id, and of a rejected element.
 */
char *
jsonb_content_key(Jsonb *event)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len;
	char	   *key;

	if (!EVP_Digest(VARDATA(event), VARSIZE(event) - VARHDRSZ, digest, &digest_len, EVP_sha256(), NULL))
		elog(ERROR, "could not compute SHA-256 of an event");
	key = palloc(strlen("sha256:") + 2 * digest_len + 1);
	strcpy(key, "sha256:");
	hex_encode((const char *) digest, digest_len, key + strlen("sha256:"));
	key[strlen("sha256:") + 2 * digest_len] = '\0';
	return key;
}

/* The shared, empty custom_args of events that carry none. */
static Datum
empty_custom_args(void)
{
	static Jsonb *empty = NULL;

	if (empty == NULL)
	{
		JsonbParseState *state = NULL;
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		empty = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
		MemoryContextSwitchTo(old);
	}
	return PointerGetDatum(empty);
}

/*
 * Maps one event object onto a row of mailstatus.event in one pass over its
 * keys.  On a bad element, row->reject_reason says why and values are unused.
 */
void
sendgrid_event_map(Jsonb *event, TimestampTz received_at, MappedEvent *row)
{
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	value;
	JsonbValue	email = {.type = jbvNull};
	JsonbValue	event_name = {.type = jbvNull};
	JsonbValue	timestamp = {.type = jbvNull};
	JsonbParseState *custom_args = NULL;
	JsonbIteratorToken token;
	StringSpan	span;

	memset(row, 0, sizeof(MappedEvent));
	for (int i = 0; i < EVENT_NCOLUMNS; i++)
		row->nulls[i] = true;
	row->values[EVENT_COL_RECEIVED_AT] = TimestampTzGetDatum(received_at);
	row->values[EVENT_COL_MACHINE_OPEN] = BoolGetDatum(false);
	row->values[EVENT_COL_PAYLOAD] = PointerGetDatum(event);
	row->nulls[EVENT_COL_RECEIVED_AT] = row->nulls[EVENT_COL_MACHINE_OPEN] =
		row->nulls[EVENT_COL_PAYLOAD] = row->nulls[EVENT_COL_CUSTOM_ARGS] = false;

	if (!JB_ROOT_IS_OBJECT(event))
	{
		reject(row, psprintf("element is %s, not an object",
							 JB_ROOT_IS_SCALAR(event) ? "a scalar" : "an array"));
		return;
	}

	it = JsonbIteratorInit(&event->root);
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		const SendgridFieldName *field;

		if (token != WJB_KEY)
			continue;
		token = JsonbIteratorNext(&it, &value, true);
		Assert(token == WJB_VALUE);
		field = sendgrid_field_lookup(key.val.string.val, key.val.string.len);
		if (field == NULL)
		{
			if (custom_args == NULL)
				pushJsonbValue(&custom_args, WJB_BEGIN_OBJECT, NULL);
			pushJsonbValue(&custom_args, WJB_KEY, &key);
			pushJsonbValue(&custom_args, WJB_VALUE, &value);
			continue;
		}
		switch (field->field)
		{
			case FIELD_PAYLOAD_ONLY:
				break;
			case FIELD_EMAIL:
				email = value;
				break;
			case FIELD_EVENT:
				event_name = value;
				break;
			case FIELD_TIMESTAMP:
				timestamp = value;
				break;
			case FIELD_SG_EVENT_ID:
				map_text_field(row, EVENT_COL_SG_EVENT_ID, field->key, &value);
				break;
			case FIELD_SG_MESSAGE_ID:
				map_text_field(row, EVENT_COL_SG_MESSAGE_ID, field->key, &value);
				break;
			case FIELD_REASON:
				map_text_field(row, EVENT_COL_REASON, field->key, &value);
				break;
			case FIELD_STATUS:
				map_text_field(row, EVENT_COL_SMTP_STATUS, field->key, &value);
				break;
			case FIELD_RESPONSE:
				map_text_field(row, EVENT_COL_RESPONSE, field->key, &value);
				break;
			case FIELD_TYPE:
				map_text_field(row, EVENT_COL_BOUNCE_TYPE, field->key, &value);
				break;
			case FIELD_BOUNCE_CLASSIFICATION:
				map_text_field(row, EVENT_COL_BOUNCE_CLASSIFICATION, field->key, &value);
				break;
			case FIELD_URL:
				map_text_field(row, EVENT_COL_URL, field->key, &value);
				break;
			case FIELD_USERAGENT:
				map_text_field(row, EVENT_COL_USERAGENT, field->key, &value);
				break;
			case FIELD_IP:
				map_text_field(row, EVENT_COL_IP, field->key, &value);
				break;
			case FIELD_SG_MACHINE_OPEN:
				map_machine_open(row, &value);
				break;
			case FIELD_ATTEMPT:
				map_int_field(row, EVENT_COL_ATTEMPT, field->key, &value);
				break;
			case FIELD_ASM_GROUP_ID:
				map_int_field(row, EVENT_COL_ASM_GROUP_ID, field->key, &value);
				break;
			case FIELD_CATEGORY:
				map_category(row, &value);
				break;
		}
	}

	/* Required fields, in the order a reader checks them. */
	if (required_string(row, "email", &email, &span))
	{
		int			len;

		if (span.len > EMAIL_MAX_BYTES)
			reject(row, psprintf("field \"email\" is %d bytes long; an address has at most %d",
								 span.len, EMAIL_MAX_BYTES));

		row->values[EVENT_COL_EMAIL] =
			PointerGetDatum(cstring_to_text(normalize_email_ascii(span.data, span.len, &len)));
		row->nulls[EVENT_COL_EMAIL] = false;
	}
	if (required_string(row, "event", &event_name, &span))
	{
		char	   *name = pnstrdup(span.data, span.len);
		MailStatus	status;

		for (int i = 0; i < span.len; i++)
			name[i] = pg_ascii_tolower((unsigned char) name[i]);
		row->values[EVENT_COL_EVENT] = PointerGetDatum(cstring_to_text_with_len(name, span.len));
		row->nulls[EVENT_COL_EVENT] = false;
		status = mail_status_of_sendgrid_event(name, span.len);
		if (status != MAIL_STATUS_NONE)
		{
			row->values[EVENT_COL_STATUS] = MailStatusGetDatum(status);
			row->nulls[EVENT_COL_STATUS] = false;
		}
	}
	map_timestamp(row, &timestamp, received_at);
	if (row->reject_reason != NULL)
		return;

	if (!row->nulls[EVENT_COL_SG_MESSAGE_ID])
	{
		text	   *sg_message_id = DatumGetTextPP(row->values[EVENT_COL_SG_MESSAGE_ID]);
		int			len;
		char	   *message_id = sendgrid_message_id(VARDATA_ANY(sg_message_id),
													 VARSIZE_ANY_EXHDR(sg_message_id), &len);

		if (len > ID_MAX_BYTES)
		{
			reject(row, psprintf("field \"sg_message_id\" holds a message id of %d bytes; at most %d are accepted",
								 len, ID_MAX_BYTES));
			return;
		}
		if (message_id != NULL)
		{
			row->values[EVENT_COL_MESSAGE_ID] = PointerGetDatum(cstring_to_text_with_len(message_id, len));
			row->nulls[EVENT_COL_MESSAGE_ID] = false;
		}
	}

	if (!row->nulls[EVENT_COL_SG_EVENT_ID] &&
		VARSIZE_ANY_EXHDR(DatumGetPointer(row->values[EVENT_COL_SG_EVENT_ID])) > ID_MAX_BYTES)
	{
		reject(row, psprintf("field \"sg_event_id\" is %d bytes long; at most %d are accepted",
							 (int) VARSIZE_ANY_EXHDR(DatumGetPointer(row->values[EVENT_COL_SG_EVENT_ID])), ID_MAX_BYTES));
		return;
	}
	if (!row->nulls[EVENT_COL_SG_EVENT_ID] &&
		VARSIZE_ANY_EXHDR(DatumGetPointer(row->values[EVENT_COL_SG_EVENT_ID])) > 0)
		row->event_key = text_to_cstring(DatumGetTextPP(row->values[EVENT_COL_SG_EVENT_ID]));
	else
		row->event_key = jsonb_content_key(event);
	row->values[EVENT_COL_EVENT_KEY] = PointerGetDatum(cstring_to_text(row->event_key));
	row->nulls[EVENT_COL_EVENT_KEY] = false;

	row->values[EVENT_COL_CUSTOM_ARGS] = custom_args == NULL ? empty_custom_args() :
		PointerGetDatum(JsonbValueToJsonb(pushJsonbValue(&custom_args, WJB_END_OBJECT, NULL)));
}

PG_FUNCTION_INFO_V1(normalize_email);
/* SQL access to the email normalization ingest applies. */
Datum
normalize_email(PG_FUNCTION_ARGS)
{
	text	   *email = PG_GETARG_TEXT_PP(0);
	int			len;
	char	   *normalized = normalize_email_ascii(VARDATA_ANY(email), VARSIZE_ANY_EXHDR(email), &len);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(normalized, len));
}

PG_FUNCTION_INFO_V1(message_id_of);
/* SQL access to the X-Message-Id extraction ingest applies. */
Datum
message_id_of(PG_FUNCTION_ARGS)
{
	text	   *sg_message_id = PG_GETARG_TEXT_PP(0);
	int			len;
	char	   *message_id = sendgrid_message_id(VARDATA_ANY(sg_message_id),
												 VARSIZE_ANY_EXHDR(sg_message_id), &len);

	if (message_id == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(message_id, len));
}
