/* category_set.h: see category_set.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_CATEGORY_SET_H
#define MAILSTATUS_CATEGORY_SET_H

#include "postgres.h"

#include "pg_compat.h"

#include "utils/array.h"
#include "utils/jsonb.h"

/*
 * A category set is a text[] of distinct categories sorted bytewise: the
 * categories a recipient's events carried (SendGrid repeats a message's
 * categories on each of its events).  Sets only grow by union, so merges
 * commute, and what a merge adds is known exactly.
 */

/* Longest category accepted, in bytes: SendGrid's are at most 255 characters; longer ones reject their event. */
#define CATEGORY_MAX_BYTES	1024

extern int	category_compare(const void *a, const void *b);
extern int	category_set_decode(ArrayType *set, Datum **elements);
extern text *category_of_scalar(JsonbValue *item);

#endif
