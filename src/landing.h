/* landing.h: see landing.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_LANDING_H
#define MAILSTATUS_LANDING_H

#include "postgres.h"

#include "pg_compat.h"

extern void landing_define_settings(void);
extern bool ingest_lands_posts(void);

#endif
