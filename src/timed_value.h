/* timed_value.h: see timed_value.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_TIMED_VALUE_H
#define MAILSTATUS_TIMED_VALUE_H

#include "postgres.h"

#include "pg_compat.h"

/*
 * A timed_value is a text or jsonb value with the time it was observed:
 * the state of latest_value, stored in the recipient and suppression state
 * tables.  Merging two keeps the later one (on a tie, the larger bytes), so
 * merges commute.  Varlena layout, read unaligned: a kind byte ('t' text,
 * 'j' jsonb), the int64 time, then the value's bytes (a jsonb's without its
 * header).
 */
#define TIMED_VALUE_TEXT	't'
#define TIMED_VALUE_JSONB	'j'
#define TIMED_VALUE_HEADER	(1 + sizeof(int64))

#endif
