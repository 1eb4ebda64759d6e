/*
 * ingest_sendgrid_webhook(body, signature, timestamp): the POST as it came.
 * The signature covers the raw bytes, so it is checked on the text before
 * anything is parsed; the body is then parsed with json-c (webhook_body.c)
 * and its events stored through the same IngestBatch as the jsonb path.
 * A body with an integer literal beyond 64 bits, which json-c would
 * saturate, is parsed by PostgreSQL's jsonb parser instead.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "ingest.h"
#include "signature.h"
#include "webhook.h"
#include "wire.h"

/* Active verification keys, via a plan kept for the backend's life. */
static List *
active_webhook_keys(void)
{
	static SPIPlanPtr plan = NULL;
	List	   *keys = NIL;
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT k.public_key FROM mailstatus.webhook_key k WHERE k.active", 0, NULL);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the webhook key query: %s", SPI_result_code_string(SPI_result));
	}
	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read mailstatus.webhook_key");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *key = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		keys = lappend(keys, pstrdup(key));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return keys;
}

/* Refuses the body unless, when keys are configured, it is signed by one of them, recently. */
static void
authenticate_webhook(const char *body, size_t body_len, const char *signature, const char *timestamp)
{
	List	   *keys = active_webhook_keys();
	ListCell   *lc;

	if (keys == NIL)
		return;
	if (signature == NULL || timestamp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("webhook body is not signed"),
				 errdetail("Verification keys are configured in mailstatus.webhook_key, so every body must come with its signature and timestamp."),
				 errhint("Pass the X-Twilio-Email-Event-Webhook-Signature and X-Twilio-Email-Event-Webhook-Timestamp headers.")));
	foreach(lc, keys)
	{
		if (sendgrid_signature_matches(lfirst(lc), body, body_len, signature, timestamp))
		{
			sendgrid_signature_timestamp_check(timestamp);
			return;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("webhook signature does not match any active key"),
			 errdetail("%d active key(s) in mailstatus.webhook_key were tried.", list_length(keys)),
			 errhint("The signature covers the timestamp header and the body byte for byte: pass the body exactly as received.")));
}

/*
 * Checks a raw body as PostgreSQL's JSON parser would before json-c sees it
 * (wire_scan_body); returns true when it must go to PostgreSQL's jsonb parser
 * because an integer literal is too large for json-c.
 */
static bool
body_needs_jsonb_parser(const char *body, size_t len)
{
	size_t		at = 0;

	switch (wire_scan_body(body, len, &at))
	{
		case WIRE_SCAN_FOR_JSON_C:
			return false;
		case WIRE_SCAN_NEEDS_JSONB_PARSER:
			return true;
		case WIRE_SCAN_NUL_ESCAPE:
			ereport(ERROR,
					(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
					 errmsg("unsupported Unicode escape sequence"),
					 errdetail("\\u0000 cannot be converted to text (byte %zu of the webhook body).", at)));
			break;
		case WIRE_SCAN_LONE_SURROGATE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type json"),
					 errdetail("Unicode low surrogate must follow a high surrogate (byte %zu of the webhook body).", at)));
			break;
		case WIRE_SCAN_CONTROL_CHARACTER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type json"),
					 errdetail("Character with value 0x%02x must be escaped (byte %zu of the webhook body).",
							   (unsigned char) body[at], at)));
			break;
		case WIRE_SCAN_BAD_NUMBER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type json"),
					 errdetail("A number is not written as JSON allows (byte %zu of the webhook body).", at)));
			break;
	}
	return false;
}

/* A numeric from its text, for json-c's numbers. */
Numeric
numeric_from_cstring(const char *text)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* A numeric from an int64, for json-c's integers. */
Numeric
numeric_from_int64(int64 value)
{
#if PG_VERSION_NUM >= 140000
	return int64_to_numeric(value);
#else
	return DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(value)));
#endif
}

PG_FUNCTION_INFO_V1(ingest_sendgrid_webhook);
/* Verifies a raw webhook body against the configured keys, then stores its events. */
Datum
ingest_sendgrid_webhook(PG_FUNCTION_ARGS)
{
	text	   *body_text;
	char	   *body;
	size_t		body_len;
	IngestBatch batch;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("webhook body must not be NULL")));
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ingest_sendgrid_webhook requires a UTF8 database"),
				 errhint("Use ingest_sendgrid_event(body::jsonb) in this database.")));
	body_text = PG_GETARG_TEXT_PP(0);
	body = text_to_cstring(body_text);
	body_len = VARSIZE_ANY_EXHDR(body_text);

	authenticate_webhook(body, body_len,
						 PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
						 PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	ingest_batch_init(&batch);
	if (body_needs_jsonb_parser(body, body_len))
		ingest_batch_add_body(&batch, DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(body))),
							  "ingest_sendgrid_webhook");
	else
		webhook_body_add_events(&batch, body, body_len);
	return ingest_counts_result(fcinfo, ingest_batch_store(&batch));
}
