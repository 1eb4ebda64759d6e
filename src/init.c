/*
 * The library's load hook: each module defines its own settings.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "landing.h"
#include "mail_status.h"
#include "signature.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Defines the extension's settings when the library is loaded; the mailstatus. prefix is reserved. */
void
_PG_init(void)
{
	mail_status_define_settings();
	signature_define_settings();
	landing_define_settings();
	MarkGUCPrefixReserved("mailstatus");
}
