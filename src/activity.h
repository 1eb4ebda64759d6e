/* activity.h: see activity.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_ACTIVITY_H
#define MAILSTATUS_ACTIVITY_H

#include "postgres.h"

#include "pg_compat.h"

/*
 * An activity is what happened to one recipient on each UTC day: which
 * deliverability events it had (as flags: counted once per recipient and
 * day) and how many machine opens and clicks (counted as events).  It is the
 * recipient state's part that deliverability_daily is made from.  The
 * processed flag is a hand-off: SendGrid's processed event or the CRM's own
 * send (record_send), whichever the recipient has.  Varlena
 * layout, read unaligned: entries of three uint32, sorted by day: day << 8 |
 * flags (day counted from 2000-01-01), machine opens, clicks.
 */
#define ACTIVITY_PROCESSED			0x01
#define ACTIVITY_DELIVERED			0x02
#define ACTIVITY_BOUNCED			0x04
#define ACTIVITY_BLOCKED			0x08
#define ACTIVITY_DROPPED			0x10
#define ACTIVITY_DEFERRED			0x20
#define ACTIVITY_SPAM_REPORTED		0x40
#define ACTIVITY_OPENED_BY_HUMAN	0x80
#define ACTIVITY_NFLAGS				8

/* One day of an activity, decoded. */
typedef struct ActivityDay
{
	int32		day;			/* days since 2000-01-01 */
	uint32		flags;
	uint32		machine_opens;
	uint32		clicks;
} ActivityDay;

/*
 * What one recipient counts in the deliverability figures (deliverability_day's
 * columns, in order): every figure on one day, its send day, so that each
 * rate's numerator is a part of its denominator.
 */
#define FIGURE_SENT					0
#define FIGURE_DELIVERED			1
#define FIGURE_BOUNCED				2
#define FIGURE_BLOCKED				3
#define FIGURE_DROPPED				4
#define FIGURE_DEFERRED				5
#define FIGURE_SPAM_REPORTS			6
#define FIGURE_UNIQUE_HUMAN_OPENS	7
#define FIGURE_MACHINE_OPENS		8
#define FIGURE_CLICKS				9
#define NFIGURES					10

typedef struct ActivityFigures
{
	int32		day;			/* the send day, days since 2000-01-01 */
	int64		counts[NFIGURES];
} ActivityFigures;

extern int	activity_decode(struct varlena *activity, ActivityDay **days);
extern bool activity_figures_of(struct varlena *activity, ActivityFigures *figures);
extern struct varlena *activity_without(struct varlena *activity, struct varlena *part);

#endif
