/*
 * Module entry point: settings of the mailstatus extension.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "mail_status.h"

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
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("mailstatus");
#else
	EmitWarningsOnPlaceholders("mailstatus");
#endif
}
