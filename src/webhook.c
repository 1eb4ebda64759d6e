/*
 * The entry points that take a body as text: ingest_sendgrid_webhook(body,
 * signature, timestamp), the POST as it came, and ingest_sendgrid_event(body
 * text).  The signature covers the raw bytes, so it is checked on the text
 * before anything is parsed; the body is then parsed element by element
 * (webhook_body.c) and stored through the same IngestBatch as the jsonb path.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "ingest.h"
#include "signature.h"
#include "webhook_body.h"

/* A verification key of mailstatus.webhook_key. */
typedef struct WebhookKey
{
	char	   *public_key;
	bool		active;
} WebhookKey;

/* Every key of mailstatus.webhook_key, via a plan kept for the backend's life; returns how many. */
static int
webhook_keys(WebhookKey **keys)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext caller = CurrentMemoryContext;
	int			n;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT k.public_key, k.active FROM mailstatus.webhook_key k", 0, NULL);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the webhook key query: %s", SPI_result_code_string(SPI_result));
	}
	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read mailstatus.webhook_key");
	n = (int) SPI_processed;
	*keys = MemoryContextAlloc(caller, sizeof(WebhookKey) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		(*keys)[i].public_key = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		(*keys)[i].active = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_finish();
	return n;
}

/*
 * Refuses the body unless it is signed by an active key, recently, whenever
 * mailstatus.webhook_key holds any key (active or not): once signing is
 * configured, only the owner turns it off, by deleting the keys.
 */
static void
authenticate_webhook(const char *body, size_t body_len, const char *signature, const char *timestamp)
{
	WebhookKey *keys;
	int			nkeys = webhook_keys(&keys);
	int			tried = 0;

	if (nkeys == 0)
		return;
	if (signature == NULL || timestamp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("webhook body is not signed"),
				 errdetail("Verification keys are configured in mailstatus.webhook_key, so every body must come with its signature and timestamp."),
				 errhint("Pass the X-Twilio-Email-Event-Webhook-Signature and X-Twilio-Email-Event-Webhook-Timestamp headers.")));
	for (int i = 0; i < nkeys; i++)
	{
		if (!keys[i].active)
			continue;
		tried++;
		if (sendgrid_signature_matches(keys[i].public_key, body, body_len, signature, timestamp))
		{
			sendgrid_signature_timestamp_check(timestamp);
			return;
		}
	}
	if (tried == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("no webhook key is active, and webhook signatures are required"),
				 errdetail("mailstatus.webhook_key holds %d key(s), none of them active.", nkeys),
				 errhint("Activate the key SendGrid signs with; the owner turns signing off by deleting the keys.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("webhook signature does not match any active key"),
			 errdetail("%d active key(s) in mailstatus.webhook_key were tried; a malformed signature or timestamp matches none.", tried),
			 errhint("The signature covers the timestamp header and the body byte for byte: pass the body exactly as received.")));
}

/* Refuses raw-body ingest outside a UTF8 database. */
static void
require_utf8(const char *function)
{
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s requires a UTF8 database", function),
				 errhint("Use ingest_sendgrid_event(body::jsonb) in this database.")));
}

PG_FUNCTION_INFO_V1(ingest_sendgrid_webhook);
/* Verifies a raw webhook body against the configured keys, then stores its events. */
Datum
ingest_sendgrid_webhook(PG_FUNCTION_ARGS)
{
	text	   *body;
	IngestBatch batch;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("webhook body must not be NULL")));
	require_utf8("ingest_sendgrid_webhook");
	ingest_require_schema();
	body = PG_GETARG_TEXT_PP(0);
	authenticate_webhook(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body),
						 PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
						 PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	ingest_batch_init(&batch, "ingest_sendgrid_webhook");
	webhook_body_add_events(&batch, VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body));
	return ingest_counts_result(fcinfo, ingest_batch_store(&batch));
}

PG_FUNCTION_INFO_V1(ingest_sendgrid_event_text);
/* ingest_sendgrid_event(body text): a body no jsonb holds whole still stores its good elements. */
Datum
ingest_sendgrid_event_text(PG_FUNCTION_ARGS)
{
	text	   *body = PG_GETARG_TEXT_PP(0);
	IngestBatch batch;

	ingest_refuse_when_signing("ingest_sendgrid_event");
	ingest_batch_init(&batch, "ingest_sendgrid_event");
	webhook_body_add_events(&batch, VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body));
	return ingest_counts_result(fcinfo, ingest_batch_store(&batch));
}
