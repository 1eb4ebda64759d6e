/*
 * Byte-level parsing of SendGrid's webhook data, free of PostgreSQL: the raw
 * body's scan into elements, json-c's strict parse of one element, Unix
 * timestamps, addresses, X-Message-Ids.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* PostgreSQL's numeric: the largest weight (base-10000 digits before the point) and display scale. */
#define NUMERIC_WEIGHT_LIMIT	32767
#define NUMERIC_DSCALE_LIMIT	16383
/* Exponents from this on overflow numeric whatever the digits (numeric_in refuses |e| >= INT_MAX / 2). */
#define EXPONENT_LIMIT			INT64_C(1073741823)

/* Whether c is JSON white space. */
static bool
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The first byte at or after i that is not JSON white space. */
static size_t
skip_json_space(const char *body, size_t len, size_t i)
{
	while (i < len && json_space(body[i]))
		i++;
	return i;
}

/* Records the first problem found; scanning stops there. */
static bool
scan_fails(WireScanner *scanner, WireBodyStatus status, size_t at)
{
	scanner->status = status;
	scanner->error_at = at;
	return false;
}

/* Whether a JSON integer literal (digits, sign apart) lies outside what json-c holds exactly. */
static bool
integer_beyond_json_c(const char *digits, size_t len, bool negative)
{
	/* json-c keeps integers as int64, or uint64 when positive. */
	const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
	size_t		limit_len = strlen(limit);

	return len > limit_len || (len == limit_len && memcmp(digits, limit, len) > 0);
}

/*
 * Whether a well-formed JSON number fits PostgreSQL's numeric, whose input
 * function refuses exponents of a billion, display scales over 16383 and
 * weights over 32767 (about 131072 digits before the point).
 */
static bool
number_fits_numeric(const char *number, size_t len)
{
	size_t		i = number[0] == '-' ? 1 : 0;
	int64_t		int_digits = 0;
	int64_t		frac_digits = 0;
	int64_t		first_nonzero_weight = 0;	/* decimal weight of the first nonzero digit */
	bool		nonzero = false;
	int64_t		exponent = 0;
	int64_t		dscale;
	int64_t		dweight;

	for (; i < len && number[i] >= '0' && number[i] <= '9'; i++, int_digits++)
	{
		if (!nonzero && number[i] != '0')
		{
			nonzero = true;
			first_nonzero_weight = -int_digits;	/* fixed up by int_digits below */
		}
	}
	if (nonzero)
		first_nonzero_weight += int_digits - 1;
	if (i < len && number[i] == '.')
	{
		for (i++; i < len && number[i] >= '0' && number[i] <= '9'; i++)
		{
			frac_digits++;
			if (!nonzero && number[i] != '0')
			{
				nonzero = true;
				first_nonzero_weight = -frac_digits;
			}
		}
	}
	if (i < len && (number[i] == 'e' || number[i] == 'E'))
	{
		bool		negative_exponent = false;

		i++;
		if (i < len && (number[i] == '+' || number[i] == '-'))
			negative_exponent = number[i++] == '-';
		for (; i < len && number[i] >= '0' && number[i] <= '9'; i++)
		{
			exponent = exponent * 10 + (number[i] - '0');
			if (exponent >= EXPONENT_LIMIT)
				return false;
		}
		if (negative_exponent)
			exponent = -exponent;
	}
	dscale = frac_digits - exponent;
	if (dscale > NUMERIC_DSCALE_LIMIT)
		return false;
	if (!nonzero)
		return true;
	dweight = first_nonzero_weight + exponent;
	return dweight < 0 || dweight / 4 <= NUMERIC_WEIGHT_LIMIT;
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

/*
 * Scans a number starting at body[i] ('-' or a digit); returns the offset
 * after it, or 0 with the scanner's status set.  Flags the element when the
 * number needs PostgreSQL's parser or does not fit numeric at all.
 */
static size_t
scan_number(WireScanner *scanner, size_t i, WireElement *element)
{
	const char *body = scanner->body;
	size_t		len = scanner->len;
	bool		negative = body[i] == '-';
	size_t		digits = i + (negative ? 1 : 0);
	size_t		end = digits;
	bool		integer = true;

	while (end < len && body[end] >= '0' && body[end] <= '9')
		end++;
	if (end - digits > 1 && body[digits] == '0')
		return scan_fails(scanner, WIRE_BODY_BAD_NUMBER, i);
	if (end < len && body[end] == '.')
	{
		integer = false;
		if (!digits_follow(body, len, &end, 1))
			return scan_fails(scanner, WIRE_BODY_BAD_NUMBER, i);
	}
	if (end < len && (body[end] == 'e' || body[end] == 'E'))
	{
		integer = false;
		if (!digits_follow(body, len, &end, end + 1 < len && (body[end + 1] == '+' || body[end + 1] == '-') ? 2 : 1))
			return scan_fails(scanner, WIRE_BODY_BAD_NUMBER, i);
	}
	if (end == digits)
		return end > i ? end : i + 1;	/* a lone '-': json-c reports it */
	if (integer && integer_beyond_json_c(body + digits, end - digits, negative))
		element->needs_jsonb_parser = true;
	if (!number_fits_numeric(body + i, end - i))
		element->number_out_of_range = true;
	return end;
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
 * Scans a string starting at its opening quote body[i]; returns the offset
 * after its closing quote, or 0 with the scanner's status set: a raw control
 * character, \u0000 (text cannot hold it), an unpaired surrogate, or the end
 * of the body.
 */
static size_t
scan_string(WireScanner *scanner, size_t i)
{
	const char *body = scanner->body;
	size_t		len = scanner->len;
	size_t		k = i + 1;

	while (k < len)
	{
		unsigned char c = (unsigned char) body[k];

		if (c < 0x20)
			return scan_fails(scanner, WIRE_BODY_CONTROL_CHARACTER, k);
		if (c == '"')
			return k + 1;
		if (c == '\\' && k + 1 < len && body[k + 1] == 'u')
		{
			int			value = unicode_escape_value(body, len, k);
			int			low = unicode_escape_value(body, len, k + 6);

			if (value == 0)
				return scan_fails(scanner, WIRE_BODY_NUL_ESCAPE, k);
			if (value >= 0xD800 && value <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF)
				k += 12;
			else if (value >= 0xD800 && value <= 0xDFFF)
				return scan_fails(scanner, WIRE_BODY_LONE_SURROGATE, k);
			else
				k += value < 0 ? 2 : 6; /* not hex: json-c reports it */
		}
		else
			k += c == '\\' ? 2 : 1;
	}
	return scan_fails(scanner, WIRE_BODY_TRUNCATED, len);
}

/* Whether a byte ends a literal or number outside strings. */
static bool
ends_token(char c)
{
	return json_space(c) || c == ',' || c == ']' || c == '}' || c == ':';
}

/*
 * Scans one value starting at body[i], at nesting depth base_depth, into
 * element; returns the offset after it, or 0 with the scanner's status set.
 * Brackets are counted, not matched: json-c parses the element's span and
 * refuses a mismatch there.
 */
static size_t
scan_value(WireScanner *scanner, size_t i, int base_depth, WireElement *element)
{
	const char *body = scanner->body;
	size_t		len = scanner->len;
	size_t		end;

	memset(element, 0, sizeof(WireElement));
	element->start = i;
	if (body[i] == '{' || body[i] == '[')
	{
		int			depth = base_depth;

		end = i;
		while (end < len)
		{
			char		c = body[end];

			if (c == '{' || c == '[')
			{
				if (++depth > scanner->max_depth)
					return scan_fails(scanner, WIRE_BODY_TOO_DEEP, end);
				end++;
			}
			else if (c == '}' || c == ']')
			{
				end++;
				if (--depth == base_depth)
					break;
			}
			else if (c == '"')
				end = scan_string(scanner, end);
			else if (c == '\'')
				return scan_fails(scanner, WIRE_BODY_UNEXPECTED, end);	/* json-c takes 'name': JSON does not */
			else if (c == '-' || (c >= '0' && c <= '9'))
				end = scan_number(scanner, end, element);
			else
				end++;
			if (end == 0)
				return 0;
		}
		if (depth != base_depth)
			return scan_fails(scanner, WIRE_BODY_TRUNCATED, len);
	}
	else if (body[i] == '"')
		end = scan_string(scanner, i);
	else if (body[i] == '-' || (body[i] >= '0' && body[i] <= '9'))
		end = scan_number(scanner, i, element);
	else
	{
		for (end = i; end < len && !ends_token(body[end]); end++)
			;
		if (end == i)
			return scan_fails(scanner, WIRE_BODY_UNEXPECTED, i);
	}
	if (end != 0)
		element->len = end - i;
	return end;
}

/* Prepares a scan of body[0..len), nested at most max_depth deep. */
void
wire_scanner_init(WireScanner *scanner, const char *body, size_t len, int max_depth)
{
	memset(scanner, 0, sizeof(WireScanner));
	scanner->body = body;
	scanner->len = len;
	scanner->max_depth = max_depth;
}

/* Checks that only white space follows the body's value; false with the status set otherwise. */
static bool
scan_finishes(WireScanner *scanner, size_t after)
{
	size_t		rest = skip_json_space(scanner->body, scanner->len, after);

	scanner->finished = true;
	if (rest != scanner->len)
		return scan_fails(scanner, WIRE_BODY_UNEXPECTED, rest);
	return true;
}

/*
 * The next element of the body: true with *element filled, false at the end
 * (status OK) or at the first problem (status and error_at set).
 */
bool
wire_scanner_next(WireScanner *scanner, WireElement *element)
{
	const char *body = scanner->body;
	size_t		len = scanner->len;
	size_t		i;
	size_t		end;

	if (scanner->finished || scanner->status != WIRE_BODY_OK)
		return false;
	if (!scanner->started)
	{
		scanner->started = true;
		i = skip_json_space(body, len, 0);
		if (i == len)
			return scan_fails(scanner, WIRE_BODY_TRUNCATED, len);
		if (body[i] != '[')
		{
			/* One value: an object (one event) or a scalar the caller refuses. */
			scanner->is_object = body[i] == '{';
			end = scan_value(scanner, i, 0, element);
			return end != 0 && scan_finishes(scanner, end);
		}
		scanner->is_array = true;
		if (1 > scanner->max_depth)
			return scan_fails(scanner, WIRE_BODY_TOO_DEEP, i);
		i = skip_json_space(body, len, i + 1);
		if (i < len && body[i] == ']')
		{
			scan_finishes(scanner, i + 1);
			return false;
		}
	}
	else
	{
		/* After an element: a comma and the next one, or the closing bracket. */
		i = skip_json_space(body, len, scanner->pos);
		if (i == len)
			return scan_fails(scanner, WIRE_BODY_TRUNCATED, len);
		if (body[i] == ']')
		{
			scan_finishes(scanner, i + 1);
			return false;
		}
		if (body[i] != ',')
			return scan_fails(scanner, WIRE_BODY_UNEXPECTED, i);
		i = skip_json_space(body, len, i + 1);
	}
	if (i == len)
		return scan_fails(scanner, WIRE_BODY_TRUNCATED, len);
	end = scan_value(scanner, i, 1, element);
	if (end == 0)
		return false;
	scanner->pos = end;
	return true;
}

/* A json-c tokener for strict JSON nested at most max_depth deep; NULL when out of memory. */
struct json_tokener *
wire_tokener_new(int max_depth)
{
	struct json_tokener *tokener = json_tokener_new_ex(max_depth);

	if (tokener != NULL)
		json_tokener_set_flags(tokener, JSON_TOKENER_STRICT);
	return tokener;
}

/* The code point of a surrogate pair written as two \u escapes at text[i], or 0 when none is there. */
static uint32_t
escaped_surrogate_pair(const char *text, size_t len, size_t i)
{
	int			high = unicode_escape_value(text, len, i);
	int			low;

	if (high < 0xD800 || high > 0xDBFF)
		return 0;
	low = unicode_escape_value(text, len, i + 6);
	if (low < 0xDC00 || low > 0xDFFF)
		return 0;
	return 0x10000 + ((uint32_t) (high - 0xD800) << 10) + (uint32_t) (low - 0xDC00);
}

/*
 * The length of the unit of a JSON text at text[i]: 12 for a surrogate pair
 * written as two \u escapes inside a string (*code_point set), 2 for any other
 * escape, else 1 (*code_point 0); *in_string follows the quotes.
 */
static size_t
next_unit(const char *text, size_t len, size_t i, bool *in_string, uint32_t *code_point)
{
	*code_point = 0;
	if (!*in_string)
	{
		*in_string = text[i] == '"';
		return 1;
	}
	if (text[i] == '"')
	{
		*in_string = false;
		return 1;
	}
	if (text[i] != '\\')
		return 1;
	*code_point = escaped_surrogate_pair(text, len, i);
	if (*code_point != 0)
		return 12;
	return i + 1 < len ? 2 : 1;
}

/*
 * json-c (0.16 at least) decodes the surrogate pairs of 32 of the 1,024 high
 * surrogates as U+FFFD: every code point whose low 16 bits lie in D800-DFFF,
 * such as U+1D800, "\ud836\udc00" (its pull request 893).  So every pair a
 * string of text[0..len) writes as two \u escapes is written here as its 4
 * UTF-8 bytes instead, which json-c keeps as they are: *rewritten is a
 * malloc'd, NUL-terminated copy of *rewritten_len bytes, or NULL when text
 * holds no such pair.  Lone surrogates are left as they are (the scanner
 * refuses them).  False when out of memory.
 */
static bool
surrogate_pairs_as_utf8(const char *text, size_t len, char **rewritten, size_t *rewritten_len)
{
	bool		in_string = false;
	uint32_t	code_point;
	size_t		step;
	char	   *out = NULL;
	size_t		out_len = 0;

	for (size_t i = 0; i < len; i += step)
	{
		step = next_unit(text, len, i, &in_string, &code_point);
		if (code_point == 0)
		{
			if (out != NULL)
			{
				memcpy(out + out_len, text + i, step);
				out_len += step;
			}
			continue;
		}
		if (out == NULL)
		{
			/* Each pair's 12 bytes become 4: the copy is never longer than the text. */
			out = malloc(len + 1);
			if (out == NULL)
				return false;
			memcpy(out, text, i);
			out_len = i;
		}
		out[out_len++] = (char) (0xF0 | (code_point >> 18));
		out[out_len++] = (char) (0x80 | ((code_point >> 12) & 0x3F));
		out[out_len++] = (char) (0x80 | ((code_point >> 6) & 0x3F));
		out[out_len++] = (char) (0x80 | (code_point & 0x3F));
	}
	if (out != NULL)
		out[out_len] = '\0';
	*rewritten = out;
	*rewritten_len = out_len;
	return true;
}

/*
 * The offset in text of the byte at rewritten_offset of its rewrite by
 * surrogate_pairs_as_utf8 (past the end by as much as that is).
 */
static size_t
offset_before_rewrite(const char *text, size_t len, size_t rewritten_offset)
{
	bool		in_string = false;
	uint32_t	code_point;
	size_t		out_len = 0;
	size_t		i = 0;

	while (i < len && out_len < rewritten_offset)
	{
		size_t		step = next_unit(text, len, i, &in_string, &code_point);

		out_len += code_point != 0 ? 4 : step;
		i += step;
	}
	return out_len < rewritten_offset ? i + (rewritten_offset - out_len) : i;
}

/*
 * Parses one element, text[0..len), with json-c as it is (see
 * wire_parse_element).
 */
static bool
parse_with_json_c(struct json_tokener *tokener, const char *text, size_t len,
				  struct json_object **root, int *error, size_t *parse_end)
{
	json_tokener_reset(tokener);
	if (len > 0 && (text[0] == '{' || text[0] == '['))
		*root = json_tokener_parse_ex(tokener, text, (int) len);
	else
	{
		/* A scalar ends at the end of its input only: json-c needs the terminating NUL. */
		char	   *terminated = malloc(len + 1);

		if (terminated == NULL)
		{
			*root = NULL;
			*error = WIRE_PARSE_OUT_OF_MEMORY;
			*parse_end = 0;
			return false;
		}
		memcpy(terminated, text, len);
		terminated[len] = '\0';
		*root = json_tokener_parse_ex(tokener, terminated, (int) len + 1);
		free(terminated);
	}
	*error = json_tokener_get_error(tokener);
	*parse_end = json_tokener_get_parse_end(tokener);
	if (*error == json_tokener_success && *parse_end < len)
		*error = json_tokener_error_parse_unexpected;
	if (*error != json_tokener_success)
	{
		json_object_put(*root);
		*root = NULL;
		return false;
	}
	return true;
}

/*
 * Parses one element, text[0..len), with json-c (strict JSON; text in a UTF8
 * database is valid UTF-8 already), its surrogate pairs decoded here (see
 * surrogate_pairs_as_utf8).  Returns whether it parsed, with the tree in
 * *root (which the caller puts; NULL is JSON's null), or json-c's error and
 * where parsing stopped within the element.
 */
bool
wire_parse_element(struct json_tokener *tokener, const char *text, size_t len,
				   struct json_object **root, int *error, size_t *parse_end)
{
	char	   *rewritten;
	size_t		rewritten_len;
	bool		parsed;

	if (!surrogate_pairs_as_utf8(text, len, &rewritten, &rewritten_len))
	{
		*root = NULL;
		*error = WIRE_PARSE_OUT_OF_MEMORY;
		*parse_end = 0;
		return false;
	}
	if (rewritten == NULL)
		return parse_with_json_c(tokener, text, len, root, error, parse_end);
	parsed = parse_with_json_c(tokener, rewritten, rewritten_len, root, error, parse_end);
	*parse_end = offset_before_rewrite(text, len, *parse_end);
	free(rewritten);
	return parsed;
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
	/* fraction_usecs is the fraction in millionths of the unit: of a second, or of a millisecond. */
	if (whole >= WIRE_MILLISECONDS_THRESHOLD)
		*unix_usecs = whole * 1000 + fraction_usecs / 1000;
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

/* Lowercases the ASCII letters of text in place. */
void
wire_lowercase_ascii(char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		if (text[i] >= 'A' && text[i] <= 'Z')
			text[i] += 'a' - 'A';
	}
}

/*
 * Length of the UTF-8 sequence at text[i] when it is a Unicode space
 * character (no-break, ideographic, the U+2000 block...) or an invisible
 * format character (zero-width space and joiners, word joiner, byte order
 * mark, soft hyphen), 0 otherwise; *invisible tells which.
 */
static size_t
unicode_blank_at(const unsigned char *text, size_t len, size_t i, bool *invisible)
{
	*invisible = false;
	if (i + 1 < len && text[i] == 0xC2 && (text[i + 1] == 0xA0 || text[i + 1] == 0x85))
		return 2;				/* U+00A0 no-break space, U+0085 next line */
	if (i + 1 < len && text[i] == 0xC2 && text[i + 1] == 0xAD)
	{
		*invisible = true;		/* U+00AD soft hyphen */
		return 2;
	}
	if (i + 2 >= len)
		return 0;
	if (text[i] == 0xE2 && text[i + 1] == 0x80)
	{
		if (text[i + 2] >= 0x80 && text[i + 2] <= 0x8A)
			return 3;			/* U+2000..U+200A */
		if (text[i + 2] >= 0x8B && text[i + 2] <= 0x8D)
		{
			*invisible = true;	/* U+200B zero-width space, U+200C/D joiners */
			return 3;
		}
		if (text[i + 2] == 0xA8 || text[i + 2] == 0xA9 || text[i + 2] == 0xAF)
			return 3;			/* U+2028, U+2029, U+202F */
	}
	if (text[i] == 0xE2 && text[i + 1] == 0x81 && text[i + 2] == 0x9F)
		return 3;				/* U+205F medium mathematical space */
	if (text[i] == 0xE2 && text[i + 1] == 0x81 && text[i + 2] == 0xA0)
	{
		*invisible = true;		/* U+2060 word joiner */
		return 3;
	}
	if (text[i] == 0xE1 && text[i + 1] == 0x9A && text[i + 2] == 0x80)
		return 3;				/* U+1680 ogham space mark */
	if (text[i] == 0xE3 && text[i + 1] == 0x80 && text[i + 2] == 0x80)
		return 3;				/* U+3000 ideographic space */
	if (text[i] == 0xEF && text[i + 1] == 0xBB && text[i + 2] == 0xBF)
	{
		*invisible = true;		/* U+FEFF byte order mark */
		return 3;
	}
	return 0;
}

/*
 * An address as mailstatus stores and compares it, written to out (room for
 * len bytes): white space trimmed (ASCII; with utf8, Unicode spaces too),
 * invisible characters removed wherever they are (with utf8), ASCII letters
 * lowercased.  Returns its length.
 */
size_t
wire_normalize_email(const char *email, size_t len, bool utf8, char *out)
{
	const unsigned char *text = (const unsigned char *) email;
	size_t		out_len = 0;
	size_t		kept_len = 0;	/* out_len without trailing blanks */
	size_t		i = 0;

	while (i < len)
	{
		bool		invisible = false;
		size_t		blank = utf8 ? unicode_blank_at(text, len, i, &invisible) : 0;

		if (blank > 0 && invisible)
		{
			i += blank;
			continue;
		}
		if (blank > 0 || wire_isspace(email[i]))
		{
			size_t		n = blank > 0 ? blank : 1;

			/* Kept only between other characters: trailing blanks are cut below. */
			if (out_len > 0)
			{
				memcpy(out + out_len, email + i, n);
				out_len += n;
			}
			i += n;
			continue;
		}
		out[out_len++] = email[i++];
		kept_len = out_len;
	}
	wire_lowercase_ascii(out, kept_len);
	return kept_len;
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

/* Whether text[0..len) starts with prefix. */
static bool
starts_with(const char *text, size_t len, const char *prefix)
{
	size_t		prefix_len = strlen(prefix);

	return len >= prefix_len && memcmp(text, prefix, prefix_len) == 0;
}

/*
 * Whether an sg_message_id starts with a relay host instead of an
 * X-Message-Id, as older posts do ("filter0093p1las1.9128.5717FB8127.0"):
 * the X-Message-Id is then in the smtp-id.
 */
bool
wire_names_relay(const char *sg_message_id, size_t len)
{
	wire_trim(&sg_message_id, &len);
	return starts_with(sg_message_id, len, "filter") || starts_with(sg_message_id, len, "recvd-");
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

/*
 * Splits an smtp-id, "<local@host>", into the length of its local part (from
 * offset 1) and the offset of its host; false when it has not that form.
 */
bool
wire_smtp_id_parts(const char *smtp_id, size_t len, size_t *local_len, size_t *host_start)
{
	size_t		at;

	if (len < 3 || smtp_id[0] != '<' || smtp_id[len - 1] != '>')
		return false;
	at = find(smtp_id + 1, len - 2, "@");
	if (at == len - 2)
		return false;
	*local_len = at;
	*host_start = 1 + at + 1;
	return true;
}
