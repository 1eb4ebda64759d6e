/*
 * Landing mode: the settings that send each post to a table local to the
 * node that receives it (mailstatus.landed_event), from which a flush moves
 * what has landed into the events and merges the state once per interval
 * (sql/schema/13_landing.sql), instead of per post.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include <limits.h>

#include "utils/guc.h"

#include "landing.h"

/* Where a post goes: straight into the events and the state, or into the landing table. */
typedef enum IngestMode
{
	INGEST_MODE_DIRECT,
	INGEST_MODE_LANDING
} IngestMode;

static const struct config_enum_entry ingest_mode_options[] = {
	{"direct", INGEST_MODE_DIRECT, false},
	{"landing", INGEST_MODE_LANDING, false},
	{NULL, 0, false}
};

static int	ingest_mode = INGEST_MODE_DIRECT;

/* Read by mailstatus.flush_when_due (SQL), through current_setting. */
static int	flush_interval_seconds = 10;
static int	flush_rows = 50000;

/* Defines mailstatus.ingest_mode, mailstatus.flush_interval and mailstatus.flush_rows. */
void
landing_define_settings(void)
{
	DefineCustomEnumVariable("mailstatus.ingest_mode",
							 "Where a webhook post goes: direct (the events and the state, in the post's transaction) or landing.",
							 "landing stores the post in mailstatus.landed_event on the node that receives it; "
							 "mailstatus.flush() moves what has landed into the events and the state, "
							 "one statement per table for every post of the interval.",
							 &ingest_mode,
							 INGEST_MODE_DIRECT,
							 ingest_mode_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("mailstatus.flush_interval",
							"In landing mode, how long after the last flush a post flushes what has landed.",
							"The post that finds the last flush this old flushes, unless a flush is running.",
							&flush_interval_seconds,
							10,
							1,
							86400,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("mailstatus.flush_rows",
							"In landing mode, how many landed events make a post flush them, however recent the last flush.",
							"Counted from the statistics of mailstatus.landed_event: an estimate.",
							&flush_rows,
							50000,
							1,
							INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/* Whether this session's posts land (mailstatus.ingest_mode = landing). */
bool
ingest_lands_posts(void)
{
	return ingest_mode == INGEST_MODE_LANDING;
}
