/* mail_status.h: see mail_status.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_MAIL_STATUS_H
#define MAILSTATUS_MAIL_STATUS_H

#include "postgres.h"

#include "pg_compat.h"

#include "fmgr.h"

/*
 * A mail_status is an int2 whose order is the precedence: a recipient's
 * status is the highest one any of its events reached.  Zero is never a
 * valid status; it marks "no status" inside aggregates.
 */
typedef int16 MailStatus;

#define MAIL_STATUS_NONE			0
#define MAIL_STATUS_SENT			1
#define MAIL_STATUS_DEFERRED		2
#define MAIL_STATUS_DELIVERED		3
#define MAIL_STATUS_OPENED			4
#define MAIL_STATUS_CLICKED			5
#define MAIL_STATUS_UNSUBSCRIBED	6
#define MAIL_STATUS_SPAM_REPORT		7
#define MAIL_STATUS_BOUNCED			8
#define MAIL_STATUS_DROPPED			9
#define MAIL_STATUS_MAX				MAIL_STATUS_DROPPED

#define DatumGetMailStatus(X)		((MailStatus) DatumGetInt16(X))
#define MailStatusGetDatum(X)		Int16GetDatum(X)
#define PG_GETARG_MAIL_STATUS(n)	DatumGetMailStatus(PG_GETARG_DATUM(n))
#define PG_RETURN_MAIL_STATUS(x)	return MailStatusGetDatum(x)

extern void mail_status_define_settings(void);
extern MailStatus mail_status_of_sendgrid_event(const char *event, int len);
extern MailStatus mail_status_valid(int value);
extern MailStatus reached_state_status(int64 state);

#endif
