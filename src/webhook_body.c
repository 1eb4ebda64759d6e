/*
 * A raw webhook body, element by element: wire.c checks the body as
 * PostgreSQL's JSON parser would and delimits each element; json-c parses
 * one element at a time (memory holds one element's tree, never the body's),
 * and each becomes the jsonb the jsonb path would have received, so both
 * paths map events with the same code.  An element that needs PostgreSQL's
 * parser (an integer beyond 64 bits, which json-c would saturate; any element
 * in a database that is not UTF8) goes through jsonb_in; an element that no
 * jsonb can hold (a number beyond numeric's range) is rejected alone.
 *
 * json-c objects are malloc'd outside PostgreSQL's memory contexts: the
 * tokener and the element's tree are freed by PG_FINALLY on every path,
 * errors included.  This file includes no fmgr prototypes: json-c's
 * json_object type and PostgreSQL's json_object() function share a name.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include <json-c/json.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "quote.h"
#include "webhook_body.h"
#include "wire.h"

/* Line and column (1-based) of a byte offset, for parse errors. */
static void
body_position(const char *body, size_t offset, int *line, int *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < offset; i++)
	{
		if (body[i] == '\n')
		{
			(*line)++;
			*column = 1;
		}
		else
			(*column)++;
	}
}

/* Reports what the scan found wrong with the body. */
static void
ereport_scan_problem(const char *body, size_t len, WireScanner *scanner)
{
	size_t		at = scanner->error_at;
	int			line,
				column;

	body_position(body, Min(at, len), &line, &column);
	switch (scanner->status)
	{
		case WIRE_BODY_OK:
			break;
		case WIRE_BODY_NUL_ESCAPE:
			ereport(ERROR,
					(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
					 errmsg("unsupported Unicode escape sequence"),
					 errdetail("\\u0000 cannot be converted to text (byte %zu of the webhook body).", at)));
			break;
		case WIRE_BODY_LONE_SURROGATE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type json"),
					 errdetail("Unicode low surrogate must follow a high surrogate (byte %zu of the webhook body).", at)));
			break;
		case WIRE_BODY_CONTROL_CHARACTER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type json"),
					 errdetail("Character with value 0x%02x must be escaped (byte %zu of the webhook body).",
							   (unsigned char) body[at], at)));
			break;
		case WIRE_BODY_BAD_NUMBER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type json"),
					 errdetail("A number is not written as JSON allows (byte %zu of the webhook body).", at)));
			break;
		case WIRE_BODY_TOO_DEEP:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("webhook body is nested too deeply"),
					 errdetail("JSON nesting is limited to %d levels; the limit was passed at line %d, column %d.",
							   BODY_MAX_DEPTH, line, column)));
			break;
		case WIRE_BODY_UNEXPECTED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("webhook body is not valid JSON: unexpected character"),
					 errdetail("At line %d, column %d (byte %zu).", line, column, at)));
			break;
		case WIRE_BODY_TRUNCATED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("webhook body is not valid JSON: it ends before the JSON value does"),
					 errdetail("The body is %zu bytes long; was it truncated?", len)));
			break;
	}
}

/* Reports json-c's error in an element, at its place in the body. */
static void
ereport_element_problem(const char *body, size_t len, WireElement *element, int error, size_t parse_end)
{
	size_t		at = element->start + Min(parse_end, element->len);
	int			line,
				column;

	if (error == WIRE_PARSE_OUT_OF_MEMORY)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	body_position(body, Min(at, len), &line, &column);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("webhook body is not valid JSON: %s", json_tokener_error_desc(error)),
			 errdetail("At line %d, column %d (byte %zu).", line, column, at)));
}

/* A numeric from its text. */
static Numeric
numeric_from_text(const char *text)
{
	return DatumGetNumeric(OidInputFunctionCall(F_NUMERIC_IN, (char *) text, InvalidOid, -1));
}

/* A JSON number as a PostgreSQL numeric, exactly as written. */
static Numeric
json_c_number(struct json_object *number)
{
	const char *text;

	if (json_object_is_type(number, json_type_int))
	{
		int64		value = json_object_get_int64(number);

		if (value != PG_INT64_MAX)
			return int64_to_numeric(value);
	}
	/* Doubles keep the text they were parsed from; large unsigned ints print in full. */
	text = json_object_to_json_string_ext(number, JSON_C_TO_STRING_PLAIN);
	/* json-c takes NaN and Infinity, which are not JSON numbers (nor jsonb's). */
	if (!isdigit((unsigned char) text[text[0] == '-' ? 1 : 0]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("webhook body is not valid JSON: %s is not a JSON number", quoted_prefix(text, strlen(text)))));
	return numeric_from_text(text);
}

/* A JsonbValue for a json-c scalar; its strings point into json-c's memory. */
static void
json_c_scalar(struct json_object *scalar, JsonbValue *out)
{
	switch (json_object_get_type(scalar))
	{
		case json_type_null:
			out->type = jbvNull;
			break;
		case json_type_boolean:
			out->type = jbvBool;
			out->val.boolean = json_object_get_boolean(scalar);
			break;
		case json_type_int:
		case json_type_double:
			out->type = jbvNumeric;
			out->val.numeric = json_c_number(scalar);
			break;
		case json_type_string:
			out->type = jbvString;
			out->val.string.val = (char *) json_object_get_string(scalar);
			out->val.string.len = json_object_get_string_len(scalar);
			break;
		default:
			elog(ERROR, "unexpected json-c type %d", (int) json_object_get_type(scalar));
	}
}

/* Pushes a json-c value, containers recursively, onto a jsonb parse state. */
static JsonbValue *
push_json_c(JsonbParseState **state, JsonbIteratorToken token, struct json_object *value)
{
	JsonbValue	scalar;
	JsonbValue *result;

	check_stack_depth();
	if (json_object_is_type(value, json_type_object))
	{
		struct json_object_iterator member = json_object_iter_begin(value);
		struct json_object_iterator end = json_object_iter_end(value);

		pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
		for (; !json_object_iter_equal(&member, &end); json_object_iter_next(&member))
		{
			JsonbValue	key = {.type = jbvString};

			key.val.string.val = (char *) json_object_iter_peek_name(&member);
			key.val.string.len = strlen(key.val.string.val);
			pushJsonbValue(state, WJB_KEY, &key);
			push_json_c(state, WJB_VALUE, json_object_iter_peek_value(&member));
		}
		result = pushJsonbValue(state, WJB_END_OBJECT, NULL);
	}
	else if (json_object_is_type(value, json_type_array))
	{
		size_t		n = json_object_array_length(value);

		pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
		for (size_t i = 0; i < n; i++)
			push_json_c(state, WJB_ELEM, json_object_array_get_idx(value, i));
		result = pushJsonbValue(state, WJB_END_ARRAY, NULL);
	}
	else
	{
		json_c_scalar(value, &scalar);
		result = pushJsonbValue(state, token, &scalar);
	}
	return result;
}

/* The jsonb the jsonb path would have received for one json-c value. */
static Jsonb *
json_c_to_jsonb(struct json_object *value)
{
	JsonbParseState *state = NULL;
	JsonbValue	scalar;

	if (json_object_is_type(value, json_type_object) || json_object_is_type(value, json_type_array))
		return JsonbValueToJsonb(push_json_c(&state, WJB_ELEM, value));
	json_c_scalar(value, &scalar);
	return JsonbValueToJsonb(&scalar);
}

/*
 * Refuses an element that is not JSON, checked without raising an error
 * first: jsonb_in's own errors quote whole tokens (a 10 MB bare word, a 10 MB
 * string where a colon belongs), which an error here must not.  Returns the
 * element's text.
 */
static char *
element_text_checked(const char *body, size_t len, WireElement *element)
{
	char	   *text = pnstrdup(body + element->start, element->len);
	size_t		error_at;

	if (!json_syntax_is_valid(text, element->len, &error_at))
	{
		size_t		at = element->start + Min(error_at, element->len);
		int			line,
					column;

		body_position(body, Min(at, len), &line, &column);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("webhook body is not valid JSON: unexpected token"),
				 errdetail("At line %d, column %d (byte %zu).", line, column, at)));
	}
	return text;
}

/* An element parsed by PostgreSQL's jsonb parser. */
static Jsonb *
element_by_jsonb_parser(const char *body, size_t len, WireElement *element)
{
	return DatumGetJsonbP(OidInputFunctionCall(F_JSONB_IN, element_text_checked(body, len, element),
											   InvalidOid, -1));
}

/* An element no jsonb can hold, kept as a jsonb string of its text for rejected_event. */
static Jsonb *
element_as_string(const char *body, WireElement *element)
{
	JsonbValue	string = {.type = jbvString};

	string.val.string.val = (char *) body + element->start;
	string.val.string.len = element->len;
	return JsonbValueToJsonb(&string);
}

/*
 * Parses a raw webhook body element by element and maps each into the batch;
 * a body that is one object is one element, a scalar body is refused.
 */
void
webhook_body_add_events(IngestBatch *batch, const char *body, size_t len)
{
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
	struct json_tokener *volatile tokener = NULL;
	struct json_object *volatile tree = NULL;
	WireScanner scanner;
	WireElement element;

	wire_scanner_init(&scanner, body, len, BODY_MAX_DEPTH);
	if (utf8 && (tokener = wire_tokener_new(BODY_MAX_DEPTH + 1)) == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		while (wire_scanner_next(&scanner, &element))
		{
			MemoryContext caller = MemoryContextSwitchTo(batch->scratch);
			Jsonb	   *jsonb;

			CHECK_FOR_INTERRUPTS();
			if (!scanner.is_array && !scanner.is_object && element.number_out_of_range)
				ereport_body_not_container(batch->function);
			if (element.number_out_of_range)
			{
				/* Rejected alone only when it is JSON (the syntax check converts no number). */
				(void) element_text_checked(body, len, &element);
				jsonb = element_as_string(body, &element);
				MemoryContextSwitchTo(caller);
				ingest_batch_add_reject(batch, jsonb, "the element holds a number outside the range of PostgreSQL's numeric type");
				MemoryContextReset(batch->scratch);
				continue;
			}
			if (!utf8 || element.needs_jsonb_parser)
				jsonb = element_by_jsonb_parser(body, len, &element);
			else
			{
				int			error;
				size_t		parse_end;
				struct json_object *parsed;

				if (!wire_parse_element(tokener, body + element.start, element.len, &parsed, &error, &parse_end))
					ereport_element_problem(body, len, &element, error, parse_end);
				tree = parsed;
				jsonb = json_c_to_jsonb(tree);
				json_object_put(tree);
				tree = NULL;
			}
			MemoryContextSwitchTo(caller);
			if (!scanner.is_array && !scanner.is_object)
				ereport_body_not_container(batch->function);
			ingest_batch_add(batch, jsonb);
		}
		ereport_scan_problem(body, len, &scanner);
	}
	PG_FINALLY();
	{
		json_object_put(tree);
		if (tokener != NULL)
			json_tokener_free(tokener);
	}
	PG_END_TRY();
}
