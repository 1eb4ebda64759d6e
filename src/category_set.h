/* category_set.h: see category_set.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_CATEGORY_SET_H
#define MAILSTATUS_CATEGORY_SET_H

#include "postgres.h"

#include "pg_compat.h"

/*
 * A category set is a text[] of distinct categories sorted bytewise: the
 * categories a recipient's events carried (SendGrid repeats a message's
 * categories on each of its events).  Sets only grow by union, so merges
 * commute, and what a merge adds is known exactly.
 */

#endif
