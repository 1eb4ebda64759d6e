/*
 * The mail_status type: input, output, binary I/O, display labels, and the
 * mapping from SendGrid event names.  Comparison, hashing and the
 * precedence aggregate reuse int2's built-in support (see the install
 * script), because the representation is an int2.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "mail_status.h"
#include "quote.h"
#include "wire.h"

/* Whether opens flagged sg_machine_open raise a recipient to opened (mailstatus.count_machine_opens). */
static bool count_machine_opens = false;

/* Defines mailstatus.count_machine_opens. */
void
mail_status_define_settings(void)
{
	DefineCustomBoolVariable("mailstatus.count_machine_opens",
							 "Whether opens that SendGrid flags as machine opens raise a recipient to opened.",
							 "Privacy proxies (sg_machine_open) open every message they fetch; "
							 "they are counted apart and, by default, do not make a message Opened.",
							 &count_machine_opens,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/* Labels indexed by status value; index 0 is unused. */
static const char *const mail_status_names[] = {
	NULL, "sent", "deferred", "delivered", "opened", "clicked",
	"unsubscribed", "spam_report", "bounced", "dropped"
};

static const char *const mail_status_display_labels[] = {
	NULL, "Sent", "Deferred", "Delivered", "Opened", "Clicked",
	"Unsubscribed", "Spam Report", "Bounced", "Dropped"
};

/* SendGrid event names that bear on delivery, with the status each one means. */
static const struct
{
	const char *event;
	MailStatus	status;
}			sendgrid_event_statuses[] = {
	{"bounce", MAIL_STATUS_BOUNCED},
	{"click", MAIL_STATUS_CLICKED},
	{"deferred", MAIL_STATUS_DEFERRED},
	{"delivered", MAIL_STATUS_DELIVERED},
	{"dropped", MAIL_STATUS_DROPPED},
	{"group_unsubscribe", MAIL_STATUS_UNSUBSCRIBED},
	{"open", MAIL_STATUS_OPENED},
	{"processed", MAIL_STATUS_SENT},
	{"spamreport", MAIL_STATUS_SPAM_REPORT},
	{"unsubscribe", MAIL_STATUS_UNSUBSCRIBED},
};

/* Status meant by a lowercase SendGrid event name, MAIL_STATUS_NONE if it has none. */
MailStatus
mail_status_of_sendgrid_event(const char *event, int len)
{
	for (int i = 0; i < (int) lengthof(sendgrid_event_statuses); i++)
	{
		const char *name = sendgrid_event_statuses[i].event;

		if ((int) strlen(name) == len && memcmp(name, event, len) == 0)
			return sendgrid_event_statuses[i].status;
	}
	return MAIL_STATUS_NONE;
}

/* Reports a value that is not a valid status. */
static void
ereport_invalid_mail_status(const char *input)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input value for mail_status: \"%s\"", quoted_prefix(input, strlen(input))),
			 errhint("Valid values are sent, deferred, delivered, opened, clicked, "
					 "unsubscribed, spam_report, bounced and dropped, or their "
					 "display labels such as 'Spam Report', in any case.")));
}

/* Status for a label or display label, case-insensitively; NONE if unknown. */
static MailStatus
mail_status_from_label(const char *label)
{
	for (MailStatus s = MAIL_STATUS_SENT; s <= MAIL_STATUS_MAX; s++)
	{
		if (pg_strcasecmp(label, mail_status_names[s]) == 0 ||
			pg_strcasecmp(label, mail_status_display_labels[s]) == 0)
			return s;
	}
	return MAIL_STATUS_NONE;
}

/* Checks that a received int2 is a status. */
static MailStatus
mail_status_received(int value)
{
	if (value < MAIL_STATUS_SENT || value > MAIL_STATUS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary value for mail_status: %d", value),
				 errdetail("A mail_status is sent as an int2 between %d and %d.",
						   MAIL_STATUS_SENT, MAIL_STATUS_MAX)));
	return (MailStatus) value;
}

/*
 * A mail_status handed in (an argument, a column of a row passed whole), checked:
 * every entry point makes valid ones, but a value can be forged (a binary-coercible
 * cast) or corrupted, and the functions index tables with it.
 */
MailStatus
mail_status_valid(int value)
{
	if (value < MAIL_STATUS_SENT || value > MAIL_STATUS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d is not a mail_status", value),
				 errdetail("A mail_status is an int2 between %d (sent) and %d (dropped).",
						   MAIL_STATUS_SENT, MAIL_STATUS_MAX)));
	return (MailStatus) value;
}

PG_FUNCTION_INFO_V1(mail_status_in);
/* Text input: a label or display label, case-insensitive. */
Datum
mail_status_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	MailStatus	status = mail_status_from_label(input);

	if (status == MAIL_STATUS_NONE)
		ereport_invalid_mail_status(input);
	PG_RETURN_MAIL_STATUS(status);
}

PG_FUNCTION_INFO_V1(mail_status_out);
/* Text output: the lowercase label. */
Datum
mail_status_out(PG_FUNCTION_ARGS)
{
	MailStatus	status = mail_status_valid(PG_GETARG_MAIL_STATUS(0));

	PG_RETURN_CSTRING(pstrdup(mail_status_names[status]));
}

PG_FUNCTION_INFO_V1(mail_status_recv);
/* Binary input: the int2 value, checked. */
Datum
mail_status_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_MAIL_STATUS(mail_status_received((int16) pq_getmsgint(buf, sizeof(int16))));
}

PG_FUNCTION_INFO_V1(mail_status_send);
/* Binary output: the int2 value. */
Datum
mail_status_send(PG_FUNCTION_ARGS)
{
	MailStatus	status = mail_status_valid(PG_GETARG_MAIL_STATUS(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, status);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(mail_status_label);
/* The words a person reads in the CRM: Sent, Spam Report, ... */
Datum
mail_status_label(PG_FUNCTION_ARGS)
{
	MailStatus	status = mail_status_valid(PG_GETARG_MAIL_STATUS(0));

	PG_RETURN_TEXT_P(cstring_to_text(mail_status_display_labels[status]));
}

PG_FUNCTION_INFO_V1(mail_status_of_event);
/* SQL access to the SendGrid event name mapping, case-insensitive. */
Datum
mail_status_of_event(PG_FUNCTION_ARGS)
{
	text	   *event = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(event);
	char	   *lower = pnstrdup(VARDATA_ANY(event), len);
	MailStatus	status;

	wire_lowercase_ascii(lower, len);
	status = mail_status_of_sendgrid_event(lower, len);
	if (status == MAIL_STATUS_NONE)
		PG_RETURN_NULL();
	PG_RETURN_MAIL_STATUS(status);
}

PG_FUNCTION_INFO_V1(mail_status_effective);
/* A stored event's status as the views count it: machine opens per the setting. */
Datum
mail_status_effective(PG_FUNCTION_ARGS)
{
	MailStatus	status = mail_status_valid(PG_GETARG_MAIL_STATUS(0));
	bool		machine_open = PG_GETARG_BOOL(1);

	if (machine_open && !count_machine_opens)
		PG_RETURN_NULL();
	PG_RETURN_MAIL_STATUS(status);
}

PG_FUNCTION_INFO_V1(machine_opens_counted);
/* The setting mailstatus.count_machine_opens, for the views (calling it loads the library, which defines it). */
Datum
machine_opens_counted(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(count_machine_opens);
}
