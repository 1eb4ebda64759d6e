/* wire.h: see wire.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_WIRE_H
#define MAILSTATUS_WIRE_H

/*
 * The byte-level parsing of what SendGrid sends, in plain C: no PostgreSQL
 * headers, so the fuzzer (test/fuzz/) runs exactly this code under ASan and
 * UBSan.  Callers turn the results into rows or errors.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct json_tokener;

/* wire_parse_json's error when json-c could not allocate its tokener. */
#define WIRE_PARSE_OUT_OF_MEMORY (-1)

/* Unix seconds of 2000-01-01, the earliest event time accepted. */
#define WIRE_EARLIEST_UNIX_SECONDS	INT64_C(946684800)

/* Unix time from this value on is milliseconds (year 5138 in seconds). */
#define WIRE_MILLISECONDS_THRESHOLD	INT64_C(100000000000)

/* What the scan of a raw body found wrong; WIRE_BODY_OK when nothing. */
typedef enum WireBodyStatus
{
	WIRE_BODY_OK,
	WIRE_BODY_NUL_ESCAPE,		/* \u0000, which text cannot hold */
	WIRE_BODY_LONE_SURROGATE,	/* a \uD800-\uDFFF escape without its pair */
	WIRE_BODY_CONTROL_CHARACTER,	/* a raw byte below 0x20 inside a string */
	WIRE_BODY_BAD_NUMBER,		/* a number JSON does not allow: -01, 1., 1e */
	WIRE_BODY_TOO_DEEP,			/* nested deeper than the limit */
	WIRE_BODY_UNEXPECTED,		/* a byte where JSON allows none: a missing comma, a stray character */
	WIRE_BODY_TRUNCATED			/* it ends before the JSON value does */
} WireBodyStatus;

/* One top-level element of a body: its bytes, and what parsing it needs. */
typedef struct WireElement
{
	size_t		start;
	size_t		len;
	bool		needs_jsonb_parser; /* an integer literal beyond 64 bits, which json-c would saturate */
	bool		number_out_of_range;	/* a number PostgreSQL's numeric cannot hold */
} WireElement;

/*
 * Walks a raw body element by element, checking it as PostgreSQL's JSON
 * parser would before json-c sees any element: the body's skeleton (the
 * array's brackets and commas), string escapes, control characters, number
 * syntax and nesting depth.  A body that is one object is one element; a
 * body that is a scalar is one element with is_array false and is_object
 * false, for the caller to refuse.
 */
typedef struct WireScanner
{
	const char *body;
	size_t		len;
	size_t		pos;
	int			max_depth;
	bool		is_array;
	bool		is_object;
	bool		started;
	bool		finished;
	WireBodyStatus status;
	size_t		error_at;		/* the offending byte when status is not OK */
} WireScanner;

extern void wire_scanner_init(WireScanner *scanner, const char *body, size_t len, int max_depth);
extern bool wire_scanner_next(WireScanner *scanner, WireElement *element);

extern struct json_tokener *wire_tokener_new(int max_depth);
extern bool wire_parse_element(struct json_tokener *tokener, const char *text, size_t len,
							   struct json_object **root, int *error, size_t *parse_end);
extern bool wire_parse_unix_time(const char *text, size_t len, int64_t *unix_usecs);
extern void wire_trim(const char **text, size_t *len);
extern size_t wire_normalize_email(const char *email, size_t len, bool utf8, char *out);
extern void wire_lowercase_ascii(char *text, size_t len);
extern bool wire_names_relay(const char *sg_message_id, size_t len);
extern void wire_message_id_span(const char *sg_message_id, size_t len, size_t *start, size_t *id_len);
extern bool wire_smtp_id_parts(const char *smtp_id, size_t len, size_t *local_len, size_t *host_start);

#endif
