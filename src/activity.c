/*
 * The activity type (activity.h): a recipient's deliverability events per
 * UTC day, with the aggregate that builds it from events (activity_state),
 * its merge (the combine function, also used to merge states at ingest), what
 * a merge adds (for the maintained daily counters), and its days as rows.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "activity.h"
#include "quote.h"

#define ACTIVITY_ENTRY_BYTES	(3 * sizeof(uint32))
/* Days fit 24 bits: until the year 47900. */
#define ACTIVITY_MAX_DAY		((1 << 24) - 1)

static const char *const activity_flag_names[ACTIVITY_NFLAGS] = {
	"processed", "delivered", "bounced", "blocked", "dropped", "deferred", "spam_reported", "opened_by_human"
};

/* Whether the n entries of an activity's bytes have sorted, distinct days. */
static bool
activity_days_in_order(const char *data, int n)
{
	for (int i = 1; i < n; i++)
	{
		uint32		previous;
		uint32		current;

		memcpy(&previous, data + (i - 1) * ACTIVITY_ENTRY_BYTES, sizeof(uint32));
		memcpy(&current, data + i * ACTIVITY_ENTRY_BYTES, sizeof(uint32));
		if ((current >> 8) <= (previous >> 8))
			return false;
	}
	return true;
}

/* Reports an activity handed in that no input function can have made. */
static void
ereport_not_activity(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("not a valid activity"),
			 errdetail("%s", detail)));
}

/*
 * Decodes an activity into palloc'd days; returns how many.  An activity
 * handed in may be forged or corrupt (a binary-coercible cast makes one from
 * any bytes): its size and the order of its days are checked, as every merge
 * walks two of them in step.
 */
int
activity_decode(struct varlena *activity, ActivityDay **days)
{
	const char *data = VARDATA_ANY(activity);
	int			n = VARSIZE_ANY_EXHDR(activity) / ACTIVITY_ENTRY_BYTES;

	if (VARSIZE_ANY_EXHDR(activity) % ACTIVITY_ENTRY_BYTES != 0)
		ereport_not_activity(psprintf("An activity is a sequence of %d-byte days; this one has %d bytes.",
									  (int) ACTIVITY_ENTRY_BYTES, (int) VARSIZE_ANY_EXHDR(activity)));
	if (!activity_days_in_order(data, n))
		ereport_not_activity("The days of an activity are sorted and distinct.");
	*days = palloc(sizeof(ActivityDay) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		uint32		entry[3];

		memcpy(entry, data + i * ACTIVITY_ENTRY_BYTES, ACTIVITY_ENTRY_BYTES);
		(*days)[i].day = entry[0] >> 8;
		(*days)[i].flags = entry[0] & 0xFF;
		(*days)[i].machine_opens = entry[1];
		(*days)[i].clicks = entry[2];
	}
	return n;
}

/* An activity of days (sorted, distinct), or NULL when there are none. */
static struct varlena *
activity_encode(ActivityDay *days, int n)
{
	struct varlena *activity;

	if (n == 0)
		return NULL;
	activity = palloc(VARHDRSZ + n * ACTIVITY_ENTRY_BYTES);
	SET_VARSIZE(activity, VARHDRSZ + n * ACTIVITY_ENTRY_BYTES);
	for (int i = 0; i < n; i++)
	{
		uint32		entry[3] = {(uint32) days[i].day << 8 | days[i].flags, days[i].machine_opens, days[i].clicks};

		memcpy(VARDATA(activity) + i * ACTIVITY_ENTRY_BYTES, entry, ACTIVITY_ENTRY_BYTES);
	}
	return activity;
}

/* a + b, saturating: counts never overflow into an error that would fail a batch. */
static uint32
saturating_add(uint32 a, uint32 b)
{
	return a > PG_UINT32_MAX - b ? PG_UINT32_MAX : a + b;
}

/* The union of two activities: per day, flags OR-ed and counts added. */
static struct varlena *
activity_union(struct varlena *first, struct varlena *second)
{
	ActivityDay *a;
	ActivityDay *b;
	int			na = activity_decode(first, &a);
	int			nb = activity_decode(second, &b);
	ActivityDay *merged = palloc(sizeof(ActivityDay) * (na + nb));
	int			i = 0,
				j = 0,
				n = 0;

	while (i < na || j < nb)
	{
		if (j == nb || (i < na && a[i].day < b[j].day))
			merged[n++] = a[i++];
		else if (i == na || b[j].day < a[i].day)
			merged[n++] = b[j++];
		else
		{
			merged[n] = a[i];
			merged[n].flags |= b[j].flags;
			merged[n].machine_opens = saturating_add(a[i].machine_opens, b[j].machine_opens);
			merged[n].clicks = saturating_add(a[i].clicks, b[j].clicks);
			n++, i++, j++;
		}
	}
	return activity_encode(merged, n);
}

/* Reports text that is not an activity. */
static void
ereport_invalid_activity(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type activity: \"%s\"", quoted_prefix(input, strlen(input))),
			 errdetail("%s", detail),
			 errhint("An activity is written [{\"day\": \"2026-11-02\", \"events\": [\"processed\", \"delivered\"], \"machine_opens\": 0, \"clicks\": 1}].")));
}

/* A non-negative integer member of an activity day's object. */
static uint32
activity_count(const char *input, JsonbContainer *day_object, const char *key)
{
	JsonbValue	value;
	char	   *digits;
	int64		count = 0;

	if (getKeyJsonValueFromContainer(day_object, key, strlen(key), &value) == NULL || value.type != jbvNumeric)
		ereport_invalid_activity(input, psprintf("Each day has a number \"%s\".", key));
	/* A whole number (1.5 is no count); numeric_out writes one as digits, with '-' before when negative. */
	digits = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value.val.numeric)));
	if (strchr(digits, '.') != NULL)
		ereport_invalid_activity(input, psprintf("\"%s\" is a whole number.", key));
	if (digits[0] != '-' && strlen(digits) <= 10)
		count = strtoll(digits, NULL, 10);
	if (digits[0] == '-' || strlen(digits) > 10 || count > PG_UINT32_MAX)
		ereport_invalid_activity(input, psprintf("\"%s\" lies between 0 and %u.", key, PG_UINT32_MAX));
	return (uint32) count;
}

/* The flags of an activity day's "events" array. */
static uint32
activity_flags(const char *input, JsonbContainer *day_object)
{
	JsonbValue	events;
	JsonbIterator *it;
	JsonbValue	name;
	JsonbIteratorToken token;
	uint32		flags = 0;

	if (getKeyJsonValueFromContainer(day_object, "events", 6, &events) == NULL ||
		events.type != jbvBinary || !JsonContainerIsArray(events.val.binary.data))
		ereport_invalid_activity(input, "Each day has an array \"events\".");
	it = JsonbIteratorInit(events.val.binary.data);
	while ((token = JsonbIteratorNext(&it, &name, true)) != WJB_DONE)
	{
		int			flag;

		if (token != WJB_ELEM)
			continue;
		for (flag = 0; flag < ACTIVITY_NFLAGS; flag++)
		{
			if (name.type == jbvString && name.val.string.len == (int) strlen(activity_flag_names[flag]) &&
				memcmp(name.val.string.val, activity_flag_names[flag], name.val.string.len) == 0)
				break;
		}
		if (flag == ACTIVITY_NFLAGS)
			ereport_invalid_activity(input, "Events are processed, delivered, bounced, blocked, dropped, deferred, spam_reported or opened_by_human.");
		flags |= 1 << flag;
	}
	return flags;
}

/* qsort comparator: days by date. */
static int
activity_day_compare(const void *a, const void *b)
{
	return (((const ActivityDay *) a)->day > ((const ActivityDay *) b)->day) -
		(((const ActivityDay *) a)->day < ((const ActivityDay *) b)->day);
}

PG_FUNCTION_INFO_V1(activity_in);
/* Text input: the JSON array activity_out writes (days in any order, each at most once). */
Datum
activity_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	Jsonb	   *json = jsonb_of_type_input(input, "activity");
	JsonbIterator *it;
	JsonbValue	element;
	JsonbIteratorToken token;
	ActivityDay *days;
	int			n = 0;
	struct varlena *activity;

	if (!JB_ROOT_IS_ARRAY(json) || JB_ROOT_IS_SCALAR(json))
		ereport_invalid_activity(input, "It must be a JSON array of days.");
	days = palloc(sizeof(ActivityDay) * Max(JB_ROOT_COUNT(json), 1));
	it = JsonbIteratorInit(&json->root);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		JsonbValue	day_value;
		DateADT		date;

		if (token != WJB_ELEM)
			continue;
		if (element.type != jbvBinary || !JsonContainerIsObject(element.val.binary.data) ||
			getKeyJsonValueFromContainer(element.val.binary.data, "day", 3, &day_value) == NULL ||
			day_value.type != jbvString)
			ereport_invalid_activity(input, "Each day is an object with a \"day\" date.");
		/* No date is longer: date_in would quote all of a longer one. */
		if (day_value.val.string.len > MAXDATELEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
					 errmsg("invalid input syntax for type date: \"%s\"",
							quoted_prefix(day_value.val.string.val, day_value.val.string.len))));
		date = DatumGetDateADT(DirectFunctionCall1(date_in,
												   CStringGetDatum(pnstrdup(day_value.val.string.val, day_value.val.string.len))));
		if (DATE_NOT_FINITE(date) || date < 0 || date > ACTIVITY_MAX_DAY)
			ereport_invalid_activity(input, "Days lie from 2000-01-01 on.");
		days[n].day = date;
		days[n].flags = activity_flags(input, element.val.binary.data);
		days[n].machine_opens = activity_count(input, element.val.binary.data, "machine_opens");
		days[n].clicks = activity_count(input, element.val.binary.data, "clicks");
		n++;
	}
	qsort(days, n, sizeof(ActivityDay), activity_day_compare);
	for (int i = 1; i < n; i++)
	{
		if (days[i].day == days[i - 1].day)
			ereport_invalid_activity(input, "Each day appears once.");
	}
	activity = activity_encode(days, n);
	if (activity == NULL)
	{
		activity = palloc(VARHDRSZ);
		SET_VARSIZE(activity, VARHDRSZ);
	}
	PG_RETURN_POINTER(activity);
}

PG_FUNCTION_INFO_V1(activity_out);
/* Text output: a JSON array of days, each with its events and counts. */
Datum
activity_out(PG_FUNCTION_ARGS)
{
	ActivityDay *days;
	int			n = activity_decode(PG_GETARG_VARLENA_PP(0), &days);
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	for (int i = 0; i < n; i++)
	{
		bool		first = true;
		int			year,
					month,
					mday;

		/* ISO 8601 whatever DateStyle says, as JSON writes dates: the text reads back the same everywhere. */
		j2date(days[i].day + POSTGRES_EPOCH_JDATE, &year, &month, &mday);
		appendStringInfo(&out, "%s{\"day\": \"%04d-%02d-%02d\", \"events\": [", i > 0 ? ", " : "",
						 year, month, mday);
		for (int flag = 0; flag < ACTIVITY_NFLAGS; flag++)
		{
			if (days[i].flags & (1 << flag))
			{
				appendStringInfo(&out, "%s\"%s\"", first ? "" : ", ", activity_flag_names[flag]);
				first = false;
			}
		}
		appendStringInfo(&out, "], \"machine_opens\": %u, \"clicks\": %u}", days[i].machine_opens, days[i].clicks);
	}
	appendStringInfoChar(&out, ']');
	PG_RETURN_CSTRING(out.data);
}

PG_FUNCTION_INFO_V1(activity_recv);
/* Binary input: the entries as activity stores them. */
Datum
activity_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	struct varlena *activity;

	if (len % ACTIVITY_ENTRY_BYTES != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary activity of %d bytes", len),
				 errdetail("An activity is a sequence of %d-byte days.", (int) ACTIVITY_ENTRY_BYTES)));
	activity = palloc(VARHDRSZ + len);
	SET_VARSIZE(activity, VARHDRSZ + len);
	/* Each uint32 in network byte order, as every binary format; stored in the machine's. */
	for (int i = 0; i < len / (int) sizeof(uint32); i++)
	{
		uint32		word = pq_getmsgint(buf, sizeof(uint32));

		memcpy(VARDATA(activity) + i * sizeof(uint32), &word, sizeof(uint32));
	}
	if (!activity_days_in_order(VARDATA(activity), len / ACTIVITY_ENTRY_BYTES))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary activity: days out of order"),
				 errdetail("The days of an activity are sorted and distinct.")));
	PG_RETURN_POINTER(activity);
}

PG_FUNCTION_INFO_V1(activity_send);
/* Binary output: the entries as activity stores them. */
Datum
activity_send(PG_FUNCTION_ARGS)
{
	struct varlena *activity = PG_GETARG_VARLENA_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	/* Each uint32 in network byte order (see activity_recv). */
	for (int i = 0; i < (int) (VARSIZE_ANY_EXHDR(activity) / sizeof(uint32)); i++)
	{
		uint32		word;

		memcpy(&word, VARDATA_ANY(activity) + i * sizeof(uint32), sizeof(uint32));
		pq_sendint32(&buf, word);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* What one event adds to its recipient's day: a flag, or a count. */
static bool
activity_of_event(text *event, text *bounce_type, bool machine_open, ActivityDay *day)
{
	const char *name = VARDATA_ANY(event);
	int			len = VARSIZE_ANY_EXHDR(event);

#define EVENT_IS(literal) (len == (int) strlen(literal) && memcmp(name, literal, len) == 0)
	day->flags = 0;
	day->machine_opens = 0;
	day->clicks = 0;
	if (EVENT_IS("processed"))
		day->flags = ACTIVITY_PROCESSED;
	else if (EVENT_IS("delivered"))
		day->flags = ACTIVITY_DELIVERED;
	else if (EVENT_IS("bounce"))
		day->flags = bounce_type != NULL && VARSIZE_ANY_EXHDR(bounce_type) == 7 &&
			memcmp(VARDATA_ANY(bounce_type), "blocked", 7) == 0 ? ACTIVITY_BLOCKED : ACTIVITY_BOUNCED;
	else if (EVENT_IS("dropped"))
		day->flags = ACTIVITY_DROPPED;
	else if (EVENT_IS("deferred"))
		day->flags = ACTIVITY_DEFERRED;
	else if (EVENT_IS("spamreport"))
		day->flags = ACTIVITY_SPAM_REPORTED;
	else if (EVENT_IS("open") && !machine_open)
		day->flags = ACTIVITY_OPENED_BY_HUMAN;
	else if (EVENT_IS("open"))
		day->machine_opens = 1;
	else if (EVENT_IS("click"))
		day->clicks = 1;
	else
		return false;
#undef EVENT_IS
	return true;
}

PG_FUNCTION_INFO_V1(activity_add);
/* activity_state(event, bounce_type, machine_open, at) transition: the event's day gets its flag or count. */
Datum
activity_add(PG_FUNCTION_ARGS)
{
	ActivityDay day;
	TimestampTz at;
	struct varlena *one;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(4) ||
		!activity_of_event(PG_GETARG_TEXT_PP(1), PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2),
						   !PG_ARGISNULL(3) && PG_GETARG_BOOL(3), &day))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	at = PG_GETARG_TIMESTAMPTZ(4);
	if (TIMESTAMP_NOT_FINITE(at) || at < 0 || at / USECS_PER_DAY > ACTIVITY_MAX_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for activity"),
				 errdetail("Activity days lie from 2000-01-01 on.")));
	day.day = (int32) (at / USECS_PER_DAY);
	one = activity_encode(&day, 1);
	PG_RETURN_POINTER(PG_ARGISNULL(0) ? one : activity_union(PG_GETARG_VARLENA_PP(0), one));
}

PG_FUNCTION_INFO_V1(activity_merge);
/* Combine function: the union of two activities, either of which may be NULL. */
Datum
activity_merge(PG_FUNCTION_ARGS)
{
	struct varlena *merged;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(PG_ARGISNULL(0) ? 1 : 0));
	}
	merged = activity_union(PG_GETARG_VARLENA_PP(0), PG_GETARG_VARLENA_PP(1));
	/* Two activities without days ('[]') have none together: no activity, never a NULL pointer. */
	if (merged == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(merged);
}

PG_FUNCTION_INFO_V1(activity_added);
/*
 * What merging partial into stored adds: per day, the flags stored lacks and
 * all of partial's counts; NULL when it adds nothing.  The daily counters
 * are maintained from it.
 */
Datum
activity_added(PG_FUNCTION_ARGS)
{
	ActivityDay *stored = NULL;
	ActivityDay *partial;
	int			nstored = 0;
	int			npartial;
	int			n = 0;
	int			i = 0;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	npartial = activity_decode(PG_GETARG_VARLENA_PP(1), &partial);
	if (!PG_ARGISNULL(0))
		nstored = activity_decode(PG_GETARG_VARLENA_PP(0), &stored);
	for (int j = 0; j < npartial; j++)
	{
		while (i < nstored && stored[i].day < partial[j].day)
			i++;
		if (i < nstored && stored[i].day == partial[j].day)
			partial[j].flags &= ~stored[i].flags;
		if (partial[j].flags != 0 || partial[j].machine_opens != 0 || partial[j].clicks != 0)
			partial[n++] = partial[j];
	}
	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(activity_encode(partial, n));
}

PG_FUNCTION_INFO_V1(activity_days);
/* The days of an activity as rows: the day, a boolean per event kind, and the counts. */
Datum
activity_days(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ActivityDay *days;
	int			n = activity_decode(PG_GETARG_VARLENA_PP(0), &days);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (int i = 0; i < n; i++)
	{
		Datum		values[1 + ACTIVITY_NFLAGS + 2];
		bool		nulls[1 + ACTIVITY_NFLAGS + 2] = {false};

		values[0] = DateADTGetDatum(days[i].day);
		for (int flag = 0; flag < ACTIVITY_NFLAGS; flag++)
			values[1 + flag] = BoolGetDatum((days[i].flags & (1 << flag)) != 0);
		values[1 + ACTIVITY_NFLAGS] = Int64GetDatum(days[i].machine_opens);
		values[2 + ACTIVITY_NFLAGS] = Int64GetDatum(days[i].clicks);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * What a recipient's activity counts in the deliverability figures; false
 * when it counts nothing (no activity, or only days without events).  A
 * recipient counts once, on its send day: the first day of its hand-off
 * (its send or SendGrid's processed, whichever is earlier), or its first
 * day with an event when it has neither.  Every figure counts it on that
 * day, whenever its events came, so that a day's figures are those of the
 * mail handed off that day and no rate exceeds 1: it is delivered when
 * SendGrid said so or it was opened, clicked or reported as spam (which only
 * a delivered mail can be); blocked only when it has no bounce too.  Machine
 * opens and clicks are summed over every day.
 */
bool
activity_figures_of(struct varlena *activity, ActivityFigures *figures)
{
	ActivityDay *days;
	int			n = activity_decode(activity, &days);
	uint32		flags = 0;
	bool		found = false;

	memset(figures, 0, sizeof(ActivityFigures));
	for (int i = 0; i < n; i++)
	{
		if (days[i].flags == 0 && days[i].machine_opens == 0 && days[i].clicks == 0)
			continue;
		/* Days are sorted: the first hand-off wins over the first event of any kind. */
		if (!found || ((days[i].flags & ACTIVITY_PROCESSED) && !(flags & ACTIVITY_PROCESSED)))
			figures->day = days[i].day;
		found = true;
		flags |= days[i].flags;
		figures->counts[FIGURE_MACHINE_OPENS] += days[i].machine_opens;
		figures->counts[FIGURE_CLICKS] += days[i].clicks;
	}
	if (!found)
		return false;
	figures->counts[FIGURE_SENT] = 1;
	figures->counts[FIGURE_DELIVERED] =
		(flags & (ACTIVITY_DELIVERED | ACTIVITY_SPAM_REPORTED | ACTIVITY_OPENED_BY_HUMAN)) != 0 ||
		figures->counts[FIGURE_MACHINE_OPENS] > 0 || figures->counts[FIGURE_CLICKS] > 0;
	figures->counts[FIGURE_BOUNCED] = (flags & ACTIVITY_BOUNCED) != 0;
	figures->counts[FIGURE_BLOCKED] = (flags & ACTIVITY_BLOCKED) != 0 && (flags & ACTIVITY_BOUNCED) == 0;
	figures->counts[FIGURE_DROPPED] = (flags & ACTIVITY_DROPPED) != 0;
	figures->counts[FIGURE_DEFERRED] = (flags & ACTIVITY_DEFERRED) != 0;
	figures->counts[FIGURE_SPAM_REPORTS] = (flags & ACTIVITY_SPAM_REPORTED) != 0;
	figures->counts[FIGURE_UNIQUE_HUMAN_OPENS] = (flags & ACTIVITY_OPENED_BY_HUMAN) != 0;
	return true;
}

PG_FUNCTION_INFO_V1(activity_figures);
/* SQL: activity_figures(activity) → SETOF deliverability_day: activity_figures_of as a row, or none. */
Datum
activity_figures(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ActivityFigures figures;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (rsinfo->setDesc->natts != 1 + NFIGURES)
		elog(ERROR, "activity_figures returns rows of %d columns", 1 + NFIGURES);
	if (activity_figures_of(PG_GETARG_VARLENA_PP(0), &figures))
	{
		Datum		values[1 + NFIGURES];
		bool		nulls[1 + NFIGURES] = {false};

		values[0] = DateADTGetDatum(figures.day);
		for (int f = 0; f < NFIGURES; f++)
			values[1 + f] = Int64GetDatum(figures.counts[f]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * An activity without a part of it: per day, the part's flags off and its
 * counts taken away; NULL when nothing is left.  activity_without(merged,
 * activity_added(stored, partial)) is stored again: the counters take a
 * recipient's former contribution away with it.
 */
struct varlena *
activity_without(struct varlena *activity, struct varlena *part)
{
	ActivityDay *days;
	ActivityDay *removed = NULL;
	int			ndays = activity_decode(activity, &days);
	int			nremoved = part == NULL ? 0 : activity_decode(part, &removed);
	int			n = 0;
	int			j = 0;

	for (int i = 0; i < ndays; i++)
	{
		while (j < nremoved && removed[j].day < days[i].day)
			j++;
		if (j < nremoved && removed[j].day == days[i].day)
		{
			days[i].flags &= ~removed[j].flags;
			days[i].machine_opens -= Min(days[i].machine_opens, removed[j].machine_opens);
			days[i].clicks -= Min(days[i].clicks, removed[j].clicks);
		}
		if (days[i].flags != 0 || days[i].machine_opens != 0 || days[i].clicks != 0)
			days[n++] = days[i];
	}
	return activity_encode(days, n);
}

PG_FUNCTION_INFO_V1(activity_subtract);
/* SQL access to activity_without. */
Datum
activity_subtract(PG_FUNCTION_ARGS)
{
	struct varlena *rest;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	rest = activity_without(PG_GETARG_VARLENA_PP(0), PG_ARGISNULL(1) ? NULL : PG_GETARG_VARLENA_PP(1));
	if (rest == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(rest);
}
