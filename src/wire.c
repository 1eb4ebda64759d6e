/*
 * Byte-level parsing of SendGrid's webhook data, free of PostgreSQL: the raw
 * body's pre-scan, json-c's strict parse, Unix timestamps, X-Message-Ids.
 */
#include "wire.h"

#include <string.h>

#include <json-c/json.h>

/* Unix time from this value on is milliseconds (year 5138 in seconds). */
#define WIRE_MILLISECONDS_THRESHOLD	INT64_C(100000000000)

/* Whether a JSON integer literal (digits, sign apart) lies outside what json-c holds exactly. */
static bool
integer_beyond_json_c(const char *digits, size_t len, bool negative)
{
	/* json-c keeps integers as int64, or uint64 when positive. */
	const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
	size_t		limit_len = strlen(limit);

	return len > limit_len || (len == limit_len && memcmp(digits, limit, len) > 0);
}

/* Advances *end past skip bytes and the digits after them; false if there are none. */
static bool
digits_follow(const char *body, size_t len, size_t *end, size_t skip)
{
	size_t		start = *end + skip;

	*end = start;
	while (*end < len && body[*end] >= '0' && body[*end] <= '9')
		(*end)++;
	return *end > start;
}

/* The value of the 4 hex digits after "\u" at body[at], or -1 if they are not hex. */
static int
unicode_escape_value(const char *body, size_t len, size_t at)
{
	int			value = 0;

	if (at + 6 > len || body[at] != '\\' || body[at + 1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++)
	{
		char		c = body[at + i];

		value <<= 4;
		if (c >= '0' && c <= '9')
			value |= c - '0';
		else if (c >= 'a' && c <= 'f')
			value |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			value |= c - 'A' + 10;
		else
			return -1;
	}
	return value;
}

/*
 * One pass over a raw body before json-c sees it, checking what PostgreSQL's
 * JSON parser refuses and json-c takes or silently changes: \u0000 (text
 * cannot hold it), unpaired surrogates, raw control characters in strings,
 * numbers JSON does not allow (-01, 1., 1e+).  Integer literals beyond 64 bits, which
 * json-c would saturate, ask for PostgreSQL's parser instead.  *at is the
 * offending byte for the refusals.
 */
WireScan
wire_scan_body(const char *body, size_t len, size_t *at)
{
	bool		in_string = false;
	WireScan	scan = WIRE_SCAN_FOR_JSON_C;
	size_t		i = 0;

	while (i < len)
	{
		char		c = body[i];

		if (in_string)
		{
			if ((unsigned char) c < 0x20)
			{
				*at = i;
				return WIRE_SCAN_CONTROL_CHARACTER;
			}
			if (c == '"')
				in_string = false;
			else if (c == '\\' && i + 1 < len && body[i + 1] == 'u')
			{
				int			value = unicode_escape_value(body, len, i);
				int			low = unicode_escape_value(body, len, i + 6);

				*at = i;
				if (value == 0)
					return WIRE_SCAN_NUL_ESCAPE;
				if (value >= 0xD800 && value <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF)
					i += 12;
				else if (value >= 0xD800 && value <= 0xDFFF)
					return WIRE_SCAN_LONE_SURROGATE;
				else
					i += value < 0 ? 2 : 6; /* not hex: json-c reports it */
				continue;
			}
			else if (c == '\\')
				i++;
			i++;
		}
		else if (c == '"')
		{
			in_string = true;
			i++;
		}
		else if (c == '-' || (c >= '0' && c <= '9'))
		{
			bool		negative = c == '-';
			size_t		digits = i + (negative ? 1 : 0);
			size_t		end = digits;

			while (end < len && body[end] >= '0' && body[end] <= '9')
				end++;
			if (end - digits > 1 && body[digits] == '0')
			{
				*at = i;
				return WIRE_SCAN_BAD_NUMBER;
			}
			if (end < len && (body[end] == '.' || body[end] == 'e' || body[end] == 'E'))
			{
				/* A double (json-c keeps the text it was written as): .digits, then e[+-]digits. */
				if (body[end] == '.' && !digits_follow(body, len, &end, 1))
				{
					*at = i;
					return WIRE_SCAN_BAD_NUMBER;
				}
				if (end < len && (body[end] == 'e' || body[end] == 'E') &&
					!digits_follow(body, len, &end, end + 1 < len && (body[end + 1] == '+' || body[end + 1] == '-') ? 2 : 1))
				{
					*at = i;
					return WIRE_SCAN_BAD_NUMBER;
				}
			}
			else if (integer_beyond_json_c(body + digits, end - digits, negative))
				scan = WIRE_SCAN_NEEDS_JSONB_PARSER;
			i = end > i ? end : i + 1;
		}
		else
			i++;
	}
	return scan;
}

/*
 * Parses body[0..len) with json-c: strict JSON, nesting limited.  body[len]
 * must be '\0' (it ends a top-level number).  Returns the tree, which the
 * caller puts, or NULL with json-c's error and where parsing stopped; the
 * tokener is freed either way.
 */
struct json_object *
wire_parse_json(const char *body, size_t len, int max_depth, int *error, size_t *parse_end)
{
	struct json_tokener *tokener = json_tokener_new_ex(max_depth);
	struct json_object *root;

	if (tokener == NULL)
	{
		*error = WIRE_PARSE_OUT_OF_MEMORY;
		*parse_end = 0;
		return NULL;
	}
	/* Strict JSON only; text in a UTF8 database is valid UTF-8 already. */
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tokener, body, (int) len + 1);
	*error = json_tokener_get_error(tokener);
	*parse_end = json_tokener_get_parse_end(tokener);
	json_tokener_free(tokener);
	if (*error != json_tokener_success)
	{
		json_object_put(root);
		return NULL;
	}
	return root;
}

/*
 * Parses Unix time, seconds or (from 1e11 on) milliseconds, as digits with an
 * optional fraction, into microseconds since the Unix epoch; false for
 * anything else.
 */
bool
wire_parse_unix_time(const char *text, size_t len, int64_t *unix_usecs)
{
	int64_t		whole = 0;
	int64_t		fraction_usecs = 0;
	int64_t		scale = 100000;
	size_t		i = 0;

	/* At most 15 digits: milliseconds below 1e15 (year 33658) times 1000 fit an int64. */
	while (i < len && text[i] >= '0' && text[i] <= '9')
	{
		if (i >= 15)
			return false;
		whole = whole * 10 + (text[i] - '0');
		i++;
	}
	if (i == 0)
		return false;
	if (i < len && text[i] == '.')
	{
		if (++i == len)
			return false;
		for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, scale /= 10)
			fraction_usecs += (text[i] - '0') * scale;
	}
	if (i != len)
		return false;
	if (whole >= WIRE_MILLISECONDS_THRESHOLD)
		*unix_usecs = whole * 1000 + fraction_usecs / 1000000;
	else
		*unix_usecs = whole * INT64_C(1000000) + fraction_usecs;
	return true;
}

/* Whether c is ASCII white space as PostgreSQL's scanner counts it. */
static bool
wire_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Narrows text to leave out leading and trailing ASCII white space. */
void
wire_trim(const char **text, size_t *len)
{
	while (*len > 0 && wire_isspace((*text)[0]))
	{
		(*text)++;
		(*len)--;
	}
	while (*len > 0 && wire_isspace((*text)[*len - 1]))
		(*len)--;
}

/* Offset of the first occurrence of needle in text[0..len), or len. */
static size_t
find(const char *text, size_t len, const char *needle)
{
	size_t		needle_len = strlen(needle);

	for (size_t i = 0; i + needle_len <= len; i++)
	{
		if (memcmp(text + i, needle, needle_len) == 0)
			return i;
	}
	return len;
}

/*
 * The X-Message-Id inside an sg_message_id, as a span of it: trimmed, the part
 * before ".filter", else before ".recvd", else before the first "."
 * (*id_len is 0 when that part is empty).
 */
void
wire_message_id_span(const char *sg_message_id, size_t len, size_t *start, size_t *id_len)
{
	const char *text = sg_message_id;
	size_t		end;

	wire_trim(&text, &len);
	end = find(text, len, ".filter");
	if (end == len)
		end = find(text, len, ".recvd");
	if (end == len)
		end = find(text, len, ".");
	*start = text - sg_message_id;
	*id_len = end;
}
