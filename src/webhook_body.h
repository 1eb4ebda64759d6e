/* webhook_body.h: see webhook_body.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_WEBHOOK_BODY_H
#define MAILSTATUS_WEBHOOK_BODY_H

#include "postgres.h"

#include "pg_compat.h"

#include "ingest.h"

extern void webhook_body_add_events(IngestBatch *batch, const char *body, size_t len);

#endif
