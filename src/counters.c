/*
 * What one merge into the recipient state adds to the maintained counters
 * (deliverability per day, per day and category, recipients per status), in
 * one pass over the merged rows: merge_recipients then adds these few rows to
 * the counter tables.  The rules (also in the comments of merge_recipients):
 * - a recipient counts in the deliverability figures as activity_figures_of
 *   says, on its send day, under each of its categories (under NULL while it
 *   has none); a merge takes away what it counted before the merge (its
 *   activity and categories less what the merge added) and adds what it
 *   counts after, so a figure can move from one day to another (an earlier
 *   send arriving late) and rows that net to nothing are left out;
 * - a new recipient adds one to its status, a change of status moves one.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "activity.h"
#include "mail_status.h"

/* Counter columns in table order: the figures of activity_figures_of. */
#define NCOUNTERS NFIGURES

/* One counter row being summed: a day, or a day and category. */
typedef struct CounterRow
{
	int32		day;
	text	   *category;		/* NULL for no category (and for plain days) */
	int64		counts[NCOUNTERS];
} CounterRow;

/* Counter rows of one table, found by a linear search: a batch touches a few days. */
typedef struct CounterRows
{
	CounterRow *rows;
	int			n;
	int			capacity;
} CounterRows;

/* The columns of recipient this reads, by name. */
enum
{
	R_REACHED, R_REACHED_HUMAN, R_CATEGORIES, R_ACTIVITY, R_STATUS_BEFORE,
	R_HUMAN_STATUS_BEFORE, R_ACTIVITY_ADDED, R_CATEGORIES_ADDED, R_NCOLUMNS
};
static const char *const recipient_column_names[R_NCOLUMNS] = {
	"reached", "reached_human", "categories", "activity", "status_before",
	"human_status_before", "activity_added", "categories_added"
};

/* Whether two categories are equal (NULL stands for no category). */
static bool
same_category(text *a, text *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* The row of a day and category, added when missing. */
static CounterRow *
counter_row(CounterRows *rows, int32 day, text *category)
{
	CounterRow *row;

	for (int i = 0; i < rows->n; i++)
	{
		if (rows->rows[i].day == day && same_category(rows->rows[i].category, category))
			return &rows->rows[i];
	}
	if (rows->n == rows->capacity)
	{
		rows->capacity = Max(16, rows->capacity * 2);
		rows->rows = rows->rows == NULL ? palloc(sizeof(CounterRow) * rows->capacity) :
			repalloc(rows->rows, sizeof(CounterRow) * rows->capacity);
	}
	row = &rows->rows[rows->n++];
	memset(row, 0, sizeof(CounterRow));
	row->day = day;
	row->category = category;
	return row;
}

/* Adds sign times what an activity counts (activity_figures_of) to the row of a category (NULL: no category). */
static void
count_activity(CounterRows *rows, struct varlena *activity, text *category, int sign)
{
	ActivityFigures figures;
	CounterRow *row;

	if (activity == NULL || !activity_figures_of(activity, &figures))
		return;
	row = counter_row(rows, figures.day, category);
	for (int c = 0; c < NCOUNTERS; c++)
		row->counts[c] += sign * figures.counts[c];
}

/* The elements of a text[] (none for NULL); returns how many. */
static int
text_elements(Datum array, bool isnull, Datum **elements)
{
	bool	   *nulls;
	int			n = 0;

	*elements = NULL;
	if (!isnull)
		deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT, elements, &nulls, &n);
	return n;
}

/* Whether a category is one of a set's. */
static bool
category_in(text *category, Datum *set, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (same_category(category, DatumGetTextPP(set[i])))
			return true;
	}
	return false;
}

/* A column of the merged row, or NULL. */
#define COLUMN(c) (nulls[column[c]] ? NULL : (struct varlena *) PG_DETOAST_DATUM(values[column[c]]))

/* Adds sign times what an activity counts to the day rows, and under each category (or NULL) to the category rows. */
static void
count_contribution(CounterRows *days, CounterRows *category_days, struct varlena *activity,
				   Datum *categories, int ncategories, int sign)
{
	count_activity(days, activity, NULL, sign);
	if (ncategories == 0)
		count_activity(category_days, activity, NULL, sign);
	for (int i = 0; i < ncategories; i++)
		count_activity(category_days, activity, DatumGetTextPP(categories[i]), sign);
}

/* Counts one merged recipient into the day and category rows: what it counts now, less what it counted before. */
static void
count_recipient(CounterRows *days, CounterRows *category_days, Datum *values, bool *nulls,
				const int *column, bool inserted)
{
	struct varlena *activity = COLUMN(R_ACTIVITY);
	struct varlena *added = COLUMN(R_ACTIVITY_ADDED);
	Datum	   *categories;
	Datum	   *new_categories;
	int			ncategories = text_elements(values[column[R_CATEGORIES]], nulls[column[R_CATEGORIES]], &categories);
	int			nnew = text_elements(values[column[R_CATEGORIES_ADDED]], nulls[column[R_CATEGORIES_ADDED]], &new_categories);
	Datum	   *old_categories;
	int			nold = 0;

	/* A merge that added neither activity nor a category changes no figure. */
	if (!inserted && added == NULL && nnew == 0)
		return;
	count_contribution(days, category_days, activity, categories, ncategories, 1);
	if (inserted)
		return;
	old_categories = palloc(sizeof(Datum) * Max(ncategories, 1));
	for (int i = 0; i < ncategories; i++)
	{
		if (!category_in(DatumGetTextPP(categories[i]), new_categories, nnew))
			old_categories[nold++] = categories[i];
	}
	count_contribution(days, category_days, activity == NULL || added == NULL ? activity : activity_without(activity, added),
					   old_categories, nold, -1);
}

/* Counts one merged recipient's change of status: +1 new, -1 old (a new recipient only adds). */
static void
count_status(int64 statuses[2][MAIL_STATUS_MAX + 1], Datum *values, bool *nulls, const int *column, bool inserted)
{
	for (int counted = 0; counted < 2; counted++)
	{
		int			reached_column = column[counted ? R_REACHED : R_REACHED_HUMAN];
		int			before_column = column[counted ? R_STATUS_BEFORE : R_HUMAN_STATUS_BEFORE];
		MailStatus	now = reached_state_status(DatumGetInt64(values[reached_column]));
		MailStatus	before = nulls[before_column] ? MAIL_STATUS_NONE : DatumGetMailStatus(values[before_column]);

		if (inserted)
			statuses[counted][now]++;
		else if (now != before)
		{
			statuses[counted][now]++;
			statuses[counted][before]--;
		}
	}
}

/*
 * An array of rows of a table's row type (day, [category,] the counters),
 * made from the counter rows that change something (a figure that moved away
 * and back within the merge nets to nothing).
 */
static Datum
counter_row_array(CounterRows *rows, Oid array_type, bool with_category)
{
	Oid			rowtype = get_element_type(array_type);
	TupleDesc	rowdesc = lookup_rowtype_tupdesc(rowtype, -1);
	Datum	   *rowdatums = palloc(sizeof(Datum) * Max(rows->n, 1));
	int			first_count = with_category ? 2 : 1;
	int			n = 0;

	for (int i = 0; i < rows->n; i++)
	{
		Datum		values[2 + NCOUNTERS];
		bool		nulls[2 + NCOUNTERS] = {false};
		bool		changes = false;

		for (int c = 0; c < NCOUNTERS; c++)
			changes |= rows->rows[i].counts[c] != 0;
		if (!changes)
			continue;

		values[0] = DateADTGetDatum(rows->rows[i].day);
		if (with_category)
		{
			values[1] = PointerGetDatum(rows->rows[i].category);
			nulls[1] = rows->rows[i].category == NULL;
		}
		for (int c = 0; c < NCOUNTERS; c++)
			values[first_count + c] = Int64GetDatum(rows->rows[i].counts[c]);
		rowdatums[n++] = HeapTupleGetDatum(heap_form_tuple(rowdesc, values, nulls));
	}
	ReleaseTupleDesc(rowdesc);
	return PointerGetDatum(construct_array(rowdatums, n, rowtype, -1, false, TYPALIGN_DOUBLE));
}

/* An array of status_count rows of the nonzero changes. */
static Datum
status_row_array(int64 statuses[2][MAIL_STATUS_MAX + 1], Oid array_type)
{
	Oid			rowtype = get_element_type(array_type);
	TupleDesc	rowdesc = lookup_rowtype_tupdesc(rowtype, -1);
	Datum		rowdatums[2 * (MAIL_STATUS_MAX + 1)];
	int			n = 0;

	for (int counted = 1; counted >= 0; counted--)
	{
		for (int status = MAIL_STATUS_NONE; status <= MAIL_STATUS_MAX; status++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, status == MAIL_STATUS_NONE, false};

			if (statuses[counted][status] == 0)
				continue;
			values[0] = BoolGetDatum(counted == 1);
			values[1] = MailStatusGetDatum(status);
			values[2] = Int64GetDatum(statuses[counted][status]);
			rowdatums[n++] = HeapTupleGetDatum(heap_form_tuple(rowdesc, values, nulls));
		}
	}
	ReleaseTupleDesc(rowdesc);
	return PointerGetDatum(construct_array(rowdatums, n, rowtype, -1, false, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(recipient_merge_counts);
/*
 * SQL: recipient_merge_counts(merged recipient[], inserted boolean[]) →
 * (days deliverability_day[], category_days deliverability_category_day[],
 * statuses status_count[]): what the merge that returned these rows adds to
 * each counter, as rows to add.
 */
Datum
recipient_merge_counts(PG_FUNCTION_ARGS)
{
	ArrayType  *merged = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *inserted = PG_GETARG_ARRAYTYPE_P(1);
	Oid			rowtype = ARR_ELEMTYPE(merged);
	TupleDesc	rowdesc = lookup_rowtype_tupdesc_copy(rowtype, -1);
	TupleDesc	result_desc;
	Datum	   *rows;
	Datum	   *flags;
	bool	   *row_nulls;
	int			nrows;
	int			nflags;
	int			column[R_NCOLUMNS];
	Datum	   *values = palloc(sizeof(Datum) * rowdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * rowdesc->natts);
	CounterRows days = {0};
	CounterRows category_days = {0};
	int64		statuses[2][MAIL_STATUS_MAX + 1] = {{0}};
	Datum		result[3];
	bool		result_nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	for (int c = 0; c < R_NCOLUMNS; c++)
	{
		column[c] = -1;
		for (int a = 0; a < rowdesc->natts; a++)
		{
			if (!TupleDescAttr(rowdesc, a)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(rowdesc, a)->attname), recipient_column_names[c]) == 0)
				column[c] = a;
		}
		if (column[c] < 0)
			elog(ERROR, "column \"%s\" of mailstatus.recipient does not exist", recipient_column_names[c]);
	}
	deconstruct_array(merged, rowtype, -1, false, TYPALIGN_DOUBLE, &rows, &row_nulls, &nrows);
	deconstruct_array(inserted, BOOLOID, 1, true, TYPALIGN_CHAR, &flags, &row_nulls, &nflags);
	if (nrows != nflags)
		elog(ERROR, "recipient_merge_counts needs a flag per merged row");
	for (int i = 0; i < nrows; i++)
	{
		HeapTupleHeader row = DETOASTED_TUPLE_HEADER(rows[i]);
		HeapTupleData tuple;
		bool		was_inserted = DatumGetBool(flags[i]);

		tuple.t_len = HeapTupleHeaderGetDatumLength(row);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = row;
		heap_deform_tuple(&tuple, rowdesc, values, nulls);
		count_recipient(&days, &category_days, values, nulls, column, was_inserted);
		count_status(statuses, values, nulls, column, was_inserted);
	}
	result[0] = counter_row_array(&days, TupleDescAttr(result_desc, 0)->atttypid, false);
	result[1] = counter_row_array(&category_days, TupleDescAttr(result_desc, 1)->atttypid, true);
	result[2] = status_row_array(statuses, TupleDescAttr(result_desc, 2)->atttypid);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(result_desc), result, result_nulls)));
}
