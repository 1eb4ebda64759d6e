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

/* wire_parse_json's error when json-c could not allocate its tokener. */
#define WIRE_PARSE_OUT_OF_MEMORY (-1)

/* What a raw body's pre-scan found. */
typedef enum WireScan
{
	WIRE_SCAN_FOR_JSON_C,		/* json-c may parse it */
	WIRE_SCAN_NEEDS_JSONB_PARSER,	/* an integer json-c would saturate */
	WIRE_SCAN_NUL_ESCAPE,		/* \u0000, which text cannot hold */
	WIRE_SCAN_LONE_SURROGATE,	/* a \uD800-\uDFFF escape without its pair */
	WIRE_SCAN_CONTROL_CHARACTER,	/* a raw byte below 0x20 inside a string */
	WIRE_SCAN_BAD_NUMBER		/* a number JSON does not allow: -01, 1., 1e */
} WireScan;

extern WireScan wire_scan_body(const char *body, size_t len, size_t *at);
extern struct json_object *wire_parse_json(const char *body, size_t len, int max_depth,
										   int *error, size_t *parse_end);
extern bool wire_parse_unix_time(const char *text, size_t len, int64_t *unix_usecs);
extern void wire_trim(const char **text, size_t *len);
extern void wire_message_id_span(const char *sg_message_id, size_t len, size_t *start, size_t *id_len);

#endif
