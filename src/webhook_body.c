/*
 * The json-c side of the raw-body path: parse a webhook body (strict,
 * depth-limited) and turn each element into the jsonb that
 * ingest_sendgrid_event would have received, so both paths map events with
 * the same code.
 *
 * json-c objects are malloc'd outside PostgreSQL's memory contexts: the
 * tokener is freed before any error is reported, and the parsed tree is freed
 * by PG_FINALLY on every path, errors included.  This file includes no fmgr
 * prototypes: json-c's json_object type and PostgreSQL's json_object()
 * function share a name.
 */
#include "postgres.h"

#include "pg_compat.h"

#include <json-c/json.h>

#include "miscadmin.h"
#include "utils/jsonb.h"

#include "ingest.h"
#include "webhook.h"
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

/* Parses the body with json-c (wire_parse_json); the caller owns (and must put) the result. */
static struct json_object *
parse_webhook_body(const char *body, size_t len)
{
	int			error;
	size_t		parse_end;
	struct json_object *root = wire_parse_json(body, len, WEBHOOK_MAX_DEPTH, &error, &parse_end);
	int			line,
				column;

	if (root != NULL)
		return root;
	body_position(body, Min(parse_end, len), &line, &column);
	if (error == WIRE_PARSE_OUT_OF_MEMORY)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (error == json_tokener_error_depth)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("webhook body is nested too deeply"),
				 errdetail("JSON nesting is limited to %d levels; the limit was passed at line %d, column %d.",
						   WEBHOOK_MAX_DEPTH, line, column)));
	if (error == json_tokener_continue || parse_end >= len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("webhook body is not valid JSON: it ends before the JSON value does"),
				 errdetail("The body is %zu bytes long; was it truncated?", len)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("webhook body is not valid JSON: %s", json_tokener_error_desc(error)),
			 errdetail("At line %d, column %d (byte %zu).", line, column, parse_end)));
	return NULL;
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
			return numeric_from_int64(value);
	}
	/* Doubles keep the text they were parsed from; large unsigned ints print in full. */
	text = json_object_to_json_string_ext(number, JSON_C_TO_STRING_PLAIN);
	/* json-c takes NaN and Infinity, which are not JSON numbers (nor jsonb's). */
	if (!isdigit((unsigned char) text[text[0] == '-' ? 1 : 0]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("webhook body is not valid JSON: %s is not a JSON number", text)));
	return numeric_from_cstring(text);
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

/* Maps one element into the batch, its jsonb built in the batch's scratch context. */
static void
add_body_element(IngestBatch *batch, struct json_object *element)
{
	MemoryContext caller = MemoryContextSwitchTo(batch->scratch);
	Jsonb	   *jsonb = json_c_to_jsonb(element);

	MemoryContextSwitchTo(caller);
	ingest_batch_add(batch, jsonb);
}

/* Maps every element of a parsed body into the batch. */
static void
add_body_elements(IngestBatch *batch, struct json_object *root)
{
	if (json_object_is_type(root, json_type_object))
		add_body_element(batch, root);
	else if (json_object_is_type(root, json_type_array))
	{
		size_t		n = json_object_array_length(root);

		for (size_t i = 0; i < n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			add_body_element(batch, json_object_array_get_idx(root, i));
		}
	}
	else
		ereport_body_not_container("ingest_sendgrid_webhook");
}

/* Parses a raw webhook body with json-c and maps its elements into the batch. */
void
webhook_body_add_events(IngestBatch *batch, const char *body, size_t body_len)
{
	struct json_object *root = parse_webhook_body(body, body_len);

	PG_TRY();
	{
		add_body_elements(batch, root);
	}
	PG_FINALLY();
	{
		json_object_put(root);
	}
	PG_END_TRY();
}
