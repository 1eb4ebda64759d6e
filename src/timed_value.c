/*
 * The timed_value type (timed_value.h) and the aggregates over it:
 * latest_value(text or jsonb, timestamptz), whose state it is, and
 * latest_timed_value, which returns that state for the state tables.  The
 * state is a concrete type, not internal, so Citus runs the aggregates as
 * partial aggregates on its workers.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "quote.h"
#include "timed_value.h"

/* A timed_value's parts, pointing into its bytes. */
typedef struct TimedValueParts
{
	char		kind;
	TimestampTz at;
	const char *value;
	int			len;
} TimedValueParts;

/* Reports a timed_value handed in that no input function can have made. */
static void
ereport_not_timed_value(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("not a valid timed_value"),
			 errdetail("%s", detail)));
}

/*
 * Reads the parts of a (possibly short-header) timed_value, checked as far as
 * reading them needs: its size, kind and time.  A value handed in may be
 * forged or corrupt (a binary-coercible cast makes one from any bytes); what
 * its value holds is checked where it is read (timed_value_text_of,
 * timed_value_jsonb_of).
 */
static TimedValueParts
timed_value_parts(struct varlena *timed)
{
	TimedValueParts parts;
	const char *data = VARDATA_ANY(timed);

	if (VARSIZE_ANY_EXHDR(timed) < TIMED_VALUE_HEADER)
		ereport_not_timed_value(psprintf("A timed_value has at least %d bytes; this one has %d.",
										 (int) TIMED_VALUE_HEADER, (int) VARSIZE_ANY_EXHDR(timed)));
	parts.kind = data[0];
	memcpy(&parts.at, data + 1, sizeof(int64));
	parts.value = data + TIMED_VALUE_HEADER;
	parts.len = VARSIZE_ANY_EXHDR(timed) - TIMED_VALUE_HEADER;
	if (parts.kind != TIMED_VALUE_TEXT && parts.kind != TIMED_VALUE_JSONB)
		ereport_not_timed_value(psprintf("Its kind is byte %d; a timed_value holds text ('t') or jsonb ('j').",
										 (unsigned char) parts.kind));
	if (!TIMESTAMP_NOT_FINITE(parts.at) && !IS_VALID_TIMESTAMP(parts.at))
		ereport_not_timed_value("Its time is out of the range of timestamptz.");
	return parts;
}

/*
 * Whether bytes are a sound jsonb container: every entry of a known type,
 * lying within the container (nested containers and numerics too).  Reading a
 * jsonb trusts its offsets; a forged timed_value's bytes are checked before
 * they are read as one.
 */
static bool
jsonb_container_is_sound(const char *container, uint32 len, bool root)
{
	uint32		header;
	uint32		count;
	uint32		nentries;
	const JEntry *children;
	const char *base;
	uint32		data_len;
	uint32		offset = 0;

	check_stack_depth();
	if (len < sizeof(uint32))
		return false;
	memcpy(&header, container, sizeof(uint32));
	count = header & JB_CMASK;
	if ((header & JB_FOBJECT) != 0 && (header & (JB_FARRAY | JB_FSCALAR)) == 0)
		nentries = count * 2;
	else if ((header & JB_FARRAY) != 0 && (header & JB_FOBJECT) == 0 &&
			 ((header & JB_FSCALAR) == 0 || (root && count == 1)))
		nentries = count;
	else
		return false;
	if ((uint64) nentries * sizeof(JEntry) > len - sizeof(uint32))
		return false;
	children = (const JEntry *) (container + sizeof(uint32));
	base = (const char *) (children + nentries);
	data_len = len - sizeof(uint32) - nentries * sizeof(JEntry);
	for (uint32 i = 0; i < nentries; i++)
	{
		JEntry		entry = children[i];
		uint32		end = JBE_HAS_OFF(entry) ? JBE_OFFLENFLD(entry) : offset + JBE_OFFLENFLD(entry);
		uint32		start = offset;

		if (end < start || end > data_len)
			return false;
		if ((header & JB_FOBJECT) != 0 && i < count && !JBE_ISSTRING(entry))
			return false;
		if (JBE_ISNUMERIC(entry) || JBE_ISCONTAINER(entry))
		{
			uint32		aligned = INTALIGN(start);

			if (aligned > end)
				return false;
			if (JBE_ISNUMERIC(entry) &&
				(end - aligned < VARHDRSZ || VARSIZE_ANY(base + aligned) > end - aligned ||
				 VARSIZE_ANY_EXHDR(base + aligned) < sizeof(uint16)))
				return false;
			if (JBE_ISCONTAINER(entry) && !jsonb_container_is_sound(base + aligned, end - aligned, false))
				return false;
		}
		else if (JBE_ISSTRING(entry))
		{
			if (pg_encoding_verifymbstr(GetDatabaseEncoding(), base + start, end - start) != (int) (end - start))
				return false;
		}
		else if (!JBE_ISNULL(entry) && !JBE_ISBOOL(entry))
			return false;
		offset = end;
	}
	return true;
}

/* A new timed_value of the given parts. */
static struct varlena *
timed_value_make(char kind, TimestampTz at, const char *value, int len)
{
	struct varlena *timed = palloc(VARHDRSZ + TIMED_VALUE_HEADER + len);
	char	   *data = VARDATA(timed);

	SET_VARSIZE(timed, VARHDRSZ + TIMED_VALUE_HEADER + len);
	data[0] = kind;
	memcpy(data + 1, &at, sizeof(int64));
	memcpy(data + TIMED_VALUE_HEADER, value, len);
	return timed;
}

/* Whether candidate beats current: later wins; on a tie, the larger kind, then the larger bytes. */
static bool
timed_value_beats(TimedValueParts *candidate, TimedValueParts *current)
{
	int			cmp;

	if (candidate->at != current->at)
		return candidate->at > current->at;
	if (candidate->kind != current->kind)
		return candidate->kind > current->kind;
	cmp = memcmp(candidate->value, current->value, Min(candidate->len, current->len));
	return cmp > 0 || (cmp == 0 && candidate->len > current->len);
}

/* Reports text that is not a timed_value. */
static void
ereport_invalid_timed_value(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type timed_value"),
			 errdetail("%s", detail),
			 errhint("A timed_value is written {\"at\": \"2026-11-02T08:00:00+00:00\", \"text\": \"...\"} or with \"jsonb\" and any JSON value; it was \"%s\".",
					 quoted_prefix(input, strlen(input)))));
}

PG_FUNCTION_INFO_V1(timed_value_in);
/* Text input: {"at": timestamptz, "text": string} or {"at": timestamptz, "jsonb": any JSON}. */
Datum
timed_value_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	Jsonb	   *json = jsonb_of_type_input(input, "timed_value");
	JsonbValue	at_value;
	JsonbValue	text_value;
	JsonbValue	jsonb_value;
	bool		has_text;
	bool		has_jsonb;
	TimestampTz at;

	if (!JB_ROOT_IS_OBJECT(json) || JB_ROOT_COUNT(json) != 2 ||
		getKeyJsonValueFromContainer(&json->root, "at", 2, &at_value) == NULL || at_value.type != jbvString)
		ereport_invalid_timed_value(input, "It must be an object of two keys: \"at\", a time, and \"text\" or \"jsonb\".");
	has_text = getKeyJsonValueFromContainer(&json->root, "text", 4, &text_value) != NULL;
	has_jsonb = getKeyJsonValueFromContainer(&json->root, "jsonb", 5, &jsonb_value) != NULL;
	if (has_text == has_jsonb || (has_text && text_value.type != jbvString))
		ereport_invalid_timed_value(input, "The value is a \"text\" string or a \"jsonb\" value.");
	/* No time is longer: timestamptz_in would quote all of a longer one. */
	if (at_value.val.string.len > MAXDATELEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("invalid input syntax for type timestamp with time zone: \"%s\"",
						quoted_prefix(at_value.val.string.val, at_value.val.string.len))));
	at = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												 CStringGetDatum(pnstrdup(at_value.val.string.val, at_value.val.string.len)),
												 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	if (has_text)
		PG_RETURN_POINTER(timed_value_make(TIMED_VALUE_TEXT, at, text_value.val.string.val, text_value.val.string.len));
	else
	{
		Jsonb	   *value = JsonbValueToJsonb(&jsonb_value);

		PG_RETURN_POINTER(timed_value_make(TIMED_VALUE_JSONB, at, VARDATA(value), VARSIZE(value) - VARHDRSZ));
	}
}

/* The jsonb a jsonb timed_value holds, as a palloc'd, aligned Jsonb, checked sound. */
static Jsonb *
timed_value_jsonb_of(TimedValueParts *parts)
{
	Jsonb	   *jsonb = palloc(VARHDRSZ + parts->len);

	SET_VARSIZE(jsonb, VARHDRSZ + parts->len);
	memcpy(VARDATA(jsonb), parts->value, parts->len);
	if (!jsonb_container_is_sound(VARDATA(jsonb), parts->len, true))
		ereport_not_timed_value("Its jsonb value is not a sound jsonb.");
	return jsonb;
}

/* The text of a text timed_value, checked to be text of the database's encoding. */
static const char *
timed_value_text_of(TimedValueParts *parts)
{
	if (pg_encoding_verifymbstr(GetDatabaseEncoding(), parts->value, parts->len) != parts->len)
		ereport_not_timed_value("Its text is not valid in the database's encoding.");
	return parts->value;
}

PG_FUNCTION_INFO_V1(timed_value_out);
/* Text output: the JSON object timed_value_in reads. */
Datum
timed_value_out(PG_FUNCTION_ARGS)
{
	TimedValueParts parts = timed_value_parts(PG_GETARG_VARLENA_PP(0));
	StringInfoData out;
	char		at[MAXDATELEN + 1];

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"at\": \"");
	appendStringInfoString(&out, JsonEncodeDateTime(at, TimestampTzGetDatum(parts.at), TIMESTAMPTZOID, NULL));
	if (parts.kind == TIMED_VALUE_TEXT)
	{
		appendStringInfoString(&out, "\", \"text\": ");
		escape_json(&out, pnstrdup(timed_value_text_of(&parts), parts.len));
	}
	else
	{
		Jsonb	   *jsonb = timed_value_jsonb_of(&parts);

		appendStringInfoString(&out, "\", \"jsonb\": ");
		JsonbToCString(&out, &jsonb->root, VARSIZE(jsonb));
	}
	appendStringInfoChar(&out, '}');
	PG_RETURN_CSTRING(out.data);
}

PG_FUNCTION_INFO_V1(timed_value_recv);
/*
 * Binary input: the kind byte, the time (int8), then the value as its own
 * type sends it: text in the client encoding, jsonb as jsonb_send writes it
 * (a version byte, 1, and the JSON text).  Everything is checked: a value
 * stored here is one that output, dumps and the merge functions can read.
 */
Datum
timed_value_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	char		kind = pq_getmsgbyte(buf);
	TimestampTz at = pq_getmsgint64(buf);
	int			nbytes;
	char	   *value;

	if (kind != TIMED_VALUE_TEXT && kind != TIMED_VALUE_JSONB)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid kind %d in binary timed_value", kind),
				 errdetail("The kind is 't' (text) or 'j' (jsonb).")));
	if (!TIMESTAMP_NOT_FINITE(at) && !IS_VALID_TIMESTAMP(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range in binary timed_value")));
	if (kind == TIMED_VALUE_TEXT)
	{
		value = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
		PG_RETURN_POINTER(timed_value_make(kind, at, value, nbytes));
	}
	else
	{
		int			version = pq_getmsgbyte(buf);
		Jsonb	   *jsonb;

		if (version != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("unsupported jsonb version number %d in binary timed_value", version)));
		value = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
		jsonb = jsonb_of_type_input(value, "jsonb");
		PG_RETURN_POINTER(timed_value_make(kind, at, VARDATA(jsonb), VARSIZE(jsonb) - VARHDRSZ));
	}
}

PG_FUNCTION_INFO_V1(timed_value_send);
/* Binary output: the kind byte, the time, the value as its own type sends it (see timed_value_recv). */
Datum
timed_value_send(PG_FUNCTION_ARGS)
{
	TimedValueParts parts = timed_value_parts(PG_GETARG_VARLENA_PP(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, parts.kind);
	pq_sendint64(&buf, parts.at);
	if (parts.kind == TIMED_VALUE_TEXT)
		pq_sendtext(&buf, timed_value_text_of(&parts), parts.len);
	else
	{
		Jsonb	   *jsonb = timed_value_jsonb_of(&parts);
		StringInfoData text;

		initStringInfo(&text);
		JsonbToCString(&text, &jsonb->root, VARSIZE(jsonb));
		pq_sendbyte(&buf, 1);
		pq_sendtext(&buf, text.data, text.len);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * Transition of latest_value: keeps the state, or a new timed_value of
 * (value, at) when that is later.  NULL values and times are skipped.
 */
static Datum
timed_value_add(FunctionCallInfo fcinfo, char kind, const char *value, int len)
{
	TimedValueParts candidate = {kind, PG_GETARG_TIMESTAMPTZ(2), value, len};

	if (!PG_ARGISNULL(0))
	{
		TimedValueParts current = timed_value_parts(PG_GETARG_VARLENA_PP(0));

		if (!timed_value_beats(&candidate, &current))
			PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	PG_RETURN_POINTER(timed_value_make(kind, candidate.at, value, len));
}

PG_FUNCTION_INFO_V1(timed_value_add_text);
/* latest_value(text, timestamptz) transition. */
Datum
timed_value_add_text(PG_FUNCTION_ARGS)
{
	text	   *value;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	value = PG_GETARG_TEXT_PP(1);
	return timed_value_add(fcinfo, TIMED_VALUE_TEXT, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

PG_FUNCTION_INFO_V1(timed_value_add_jsonb);
/* latest_value(jsonb, timestamptz) transition. */
Datum
timed_value_add_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *value;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	value = PG_GETARG_JSONB_P(1);
	return timed_value_add(fcinfo, TIMED_VALUE_JSONB, VARDATA(value), VARSIZE(value) - VARHDRSZ);
}

PG_FUNCTION_INFO_V1(timed_value_merge);
/* Combine function: the later of two timed_values, either of which may be NULL. */
Datum
timed_value_merge(PG_FUNCTION_ARGS)
{
	TimedValueParts first;
	TimedValueParts second;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(PG_ARGISNULL(0) ? 1 : 0));
	}
	first = timed_value_parts(PG_GETARG_VARLENA_PP(0));
	second = timed_value_parts(PG_GETARG_VARLENA_PP(1));
	PG_RETURN_DATUM(PG_GETARG_DATUM(timed_value_beats(&second, &first) ? 1 : 0));
}

/* Reports a timed_value read as the other kind. */
static void
check_kind(TimedValueParts *parts, char kind)
{
	if (parts->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("timed_value holds %s, not %s",
						parts->kind == TIMED_VALUE_TEXT ? "text" : "jsonb",
						kind == TIMED_VALUE_TEXT ? "text" : "jsonb")));
}

PG_FUNCTION_INFO_V1(timed_value_text);
/* The text a timed_value holds: latest_value(text, timestamptz)'s final function. */
Datum
timed_value_text(PG_FUNCTION_ARGS)
{
	TimedValueParts parts = timed_value_parts(PG_GETARG_VARLENA_PP(0));

	check_kind(&parts, TIMED_VALUE_TEXT);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(timed_value_text_of(&parts), parts.len));
}

PG_FUNCTION_INFO_V1(timed_value_jsonb);
/* The jsonb a timed_value holds: latest_value(jsonb, timestamptz)'s final function. */
Datum
timed_value_jsonb(PG_FUNCTION_ARGS)
{
	TimedValueParts parts = timed_value_parts(PG_GETARG_VARLENA_PP(0));

	check_kind(&parts, TIMED_VALUE_JSONB);
	PG_RETURN_JSONB_P(timed_value_jsonb_of(&parts));
}

PG_FUNCTION_INFO_V1(timed_value_at);
/* When a timed_value's value was observed. */
Datum
timed_value_at(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(timed_value_parts(PG_GETARG_VARLENA_PP(0)).at);
}
