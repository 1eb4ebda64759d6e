/*
 * Module entry point: the extension's settings.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "mail_status.h"
#include "signature.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Defines the extension's settings when the library is loaded. */
void
_PG_init(void)
{
	DefineCustomBoolVariable("mailstatus.count_machine_opens",
							 "Whether opens that SendGrid flags as machine opens raise a recipient to opened.",
							 "Privacy proxies (sg_machine_open) open every message they fetch; "
							 "they are counted apart and, by default, do not make a message Opened.",
							 &mail_status_count_machine_opens,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("mailstatus.signature_tolerance",
							"How far a signed webhook's timestamp may be from the server's clock.",
							"ingest_sendgrid_webhook refuses older (or later) bodies, so a captured POST cannot be replayed.",
							&signature_tolerance_seconds,
							300,
							1,
							7 * 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("mailstatus");
#else
	EmitWarningsOnPlaceholders("mailstatus");
#endif
}
