/*
 * libFuzzer harness for mailstatus' byte-level parsing (src/wire.c): the raw
 * body pre-scan, json-c's strict parse and a walk of the tree as the jsonb
 * conversion does it, Unix timestamps, X-Message-Ids and trimming.  Built
 * with ASan and UBSan (and LeakSanitizer, so a json-c tree left unfreed is a
 * finding).  Build and run: make fuzz (README, "Reliability").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "wire.h"

/* Fails the run: a property the callers rely on does not hold. */
#define REQUIRE(condition) do { if (!(condition)) abort(); } while (0)

/* Touches every value of a parsed tree the way webhook_body.c converts it; returns the count. */
static size_t
walk(struct json_object *value)
{
	size_t		count = 1;

	switch (json_object_get_type(value))
	{
		case json_type_object:
			{
				struct json_object_iterator member = json_object_iter_begin(value);
				struct json_object_iterator end = json_object_iter_end(value);

				for (; !json_object_iter_equal(&member, &end); json_object_iter_next(&member))
				{
					REQUIRE(json_object_iter_peek_name(&member) != NULL);
					count += walk(json_object_iter_peek_value(&member));
				}
				break;
			}
		case json_type_array:
			for (size_t i = 0; i < json_object_array_length(value); i++)
				count += walk(json_object_array_get_idx(value, i));
			break;
		case json_type_int:
		case json_type_double:
			REQUIRE(json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN) != NULL);
			break;
		case json_type_string:
			REQUIRE(json_object_get_string_len(value) >= 0);
			break;
		default:
			break;
	}
	return count;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input through every parser of wire.c. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *body = malloc(size + 1);
	size_t		at = 0;
	int64_t		unix_usecs;
	size_t		start;
	size_t		id_len;
	const char *trimmed;
	size_t		trimmed_len = size;

	memcpy(body, data, size);
	body[size] = '\0';

	switch (wire_scan_body(body, size, &at))
	{
		case WIRE_SCAN_FOR_JSON_C:
			{
				int			error;
				size_t		parse_end;
				struct json_object *root = wire_parse_json(body, size, 64, &error, &parse_end);

				if (root != NULL)
				{
					REQUIRE(walk(root) >= 1);
					json_object_put(root);
				}
				else
					REQUIRE(parse_end <= size + 1);
				break;
			}
		case WIRE_SCAN_NEEDS_JSONB_PARSER:
			break;
		case WIRE_SCAN_NUL_ESCAPE:
		case WIRE_SCAN_LONE_SURROGATE:
			REQUIRE(at + 2 <= size && body[at] == '\\' && body[at + 1] == 'u');
			break;
		case WIRE_SCAN_CONTROL_CHARACTER:
			REQUIRE(at < size && (unsigned char) body[at] < 0x20);
			break;
		case WIRE_SCAN_BAD_NUMBER:
			REQUIRE(at + 1 < size);
			break;
	}

	if (wire_parse_unix_time(body, size, &unix_usecs))
		REQUIRE(unix_usecs >= 0);
	wire_message_id_span(body, size, &start, &id_len);
	REQUIRE(start + id_len <= size);
	trimmed = body;
	wire_trim(&trimmed, &trimmed_len);
	REQUIRE(trimmed >= body && trimmed + trimmed_len <= body + size);

	free(body);
	return 0;
}
