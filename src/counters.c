/*
 * What one merge into the recipient state adds to the maintained counters
 * (deliverability per day, per day and category, recipients per status), in
 * one pass over the merged rows: count_and_notify_merge then adds these few
 * rows to the counter tables.  The rules (also in its comments):
 * - a recipient counts in the deliverability figures as activity_figures_of
 *   says, on its send day, under each of its categories (under NULL while it
 *   has none); a merge takes away what it counted before the merge (its
 *   activity and categories less what the merge added) and adds what it
 *   counts after, so a figure can move from one day to another (an earlier
 *   send arriving late) and rows that net to nothing are left out;
 * - a new recipient adds one to its status, a change of status moves one.
 *
 * The merged rows are an argument like any other: each value read from them
 * is checked before it is used (statuses index an array here).  The work is
 * O(n log n) in the number of categories (rows found by hash, categories by
 * binary search) and can be cancelled.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "activity.h"
#include "category_set.h"
#include "mail_status.h"

/* Counter columns in table order: the figures of activity_figures_of. */
#define NCOUNTERS NFIGURES

/* What a counter row is summed by: a day, and a category (NULL for no category, and for plain days). */
typedef struct CounterKey
{
	int32		day;
	text	   *category;
} CounterKey;

/* One counter row being summed. */
typedef struct CounterRow
{
	CounterKey	key;
	int64		counts[NCOUNTERS];
} CounterRow;

/* hash_create's hash function of a CounterKey: the day and the category's bytes. */
static uint32
counter_key_hash(const void *key, Size keysize)
{
	const CounterKey *k = (const CounterKey *) key;
	uint32		hash = hash_bytes_uint32((uint32) k->day);

	if (k->category != NULL)
		hash = hash_combine(hash, hash_bytes((const unsigned char *) VARDATA_ANY(k->category),
											 VARSIZE_ANY_EXHDR(k->category)));
	return hash;
}

/* hash_create's match function of CounterKeys: 0 when equal. */
static int
counter_key_match(const void *key1, const void *key2, Size keysize)
{
	const CounterKey *a = (const CounterKey *) key1;
	const CounterKey *b = (const CounterKey *) key2;

	if (a->day != b->day)
		return 1;
	if (a->category == NULL || b->category == NULL)
		return a->category != b->category;
	return VARSIZE_ANY_EXHDR(a->category) != VARSIZE_ANY_EXHDR(b->category) ||
		memcmp(VARDATA_ANY(a->category), VARDATA_ANY(b->category), VARSIZE_ANY_EXHDR(a->category)) != 0;
}

/* An empty table of counter rows. */
static HTAB *
counter_rows_create(const char *name)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(CounterKey);
	ctl.entrysize = sizeof(CounterRow);
	ctl.hash = counter_key_hash;
	ctl.match = counter_key_match;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/*
 * Adds sign times a recipient's figures to the row of its send day and a
 * category (NULL: no category).  Every product is of int64s.
 */
static void
count_figures(HTAB *rows, const ActivityFigures *figures, text *category, int64 sign)
{
	CounterKey	key = {figures->day, category};
	bool		found;
	CounterRow *row = hash_search(rows, &key, HASH_ENTER, &found);

	if (!found)
		memset(row->counts, 0, sizeof(row->counts));
	for (int c = 0; c < NCOUNTERS; c++)
		row->counts[c] += sign * figures->counts[c];
}

/* Adds sign times a recipient's figures to the day rows, and to the category rows under each of its categories (or NULL). */
static void
count_contribution(HTAB *days, HTAB *category_days, const ActivityFigures *figures,
				   Datum *categories, int ncategories, int64 sign)
{
	count_figures(days, figures, NULL, sign);
	if (ncategories == 0)
		count_figures(category_days, figures, NULL, sign);
	for (int i = 0; i < ncategories; i++)
	{
		CHECK_FOR_INTERRUPTS();
		count_figures(category_days, figures, DatumGetTextPP(categories[i]), sign);
	}
}

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

/* The categories of a text[] column (none for NULL), sorted and distinct; returns how many. */
static int
column_categories(Datum value, bool isnull, Datum **elements)
{
	*elements = NULL;
	if (isnull)
		return 0;
	return category_set_decode(DatumGetArrayTypeP(value), elements);
}

/* A column of the merged row, detoasted, or NULL. */
#define COLUMN(c) (nulls[column[c]] ? NULL : (struct varlena *) PG_DETOAST_DATUM(values[column[c]]))

/* Counts one merged recipient into the day and category rows: what it counts now, less what it counted before. */
static void
count_recipient(HTAB *days, HTAB *category_days, Datum *values, bool *nulls, const int *column, bool inserted)
{
	struct varlena *activity = COLUMN(R_ACTIVITY);
	struct varlena *added = inserted ? NULL : COLUMN(R_ACTIVITY_ADDED);
	Datum	   *categories;
	Datum	   *new_categories;
	Datum	   *old_categories;
	int			ncategories = column_categories(values[column[R_CATEGORIES]], nulls[column[R_CATEGORIES]], &categories);
	int			nnew = inserted ? 0 :
		column_categories(values[column[R_CATEGORIES_ADDED]], nulls[column[R_CATEGORIES_ADDED]], &new_categories);
	int			nold = 0;
	ActivityFigures figures;

	/* A merge that added neither activity nor a category changes no figure. */
	if (!inserted && added == NULL && nnew == 0)
		return;
	if (activity != NULL && activity_figures_of(activity, &figures))
		count_contribution(days, category_days, &figures, categories, ncategories, 1);
	if (inserted || activity == NULL)
		return;
	/* Before the merge: its activity less what the merge added, its categories less the new ones. */
	old_categories = palloc(sizeof(Datum) * Max(ncategories, 1));
	for (int i = 0; i < ncategories; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (nnew == 0 || bsearch(&categories[i], new_categories, nnew, sizeof(Datum), category_compare) == NULL)
			old_categories[nold++] = categories[i];
	}
	activity = added == NULL ? activity : activity_without(activity, added);
	if (activity != NULL && activity_figures_of(activity, &figures))
		count_contribution(days, category_days, &figures, old_categories, nold, -1);
}

/* Counts one merged recipient's change of status: +1 new, -1 old (a new recipient only adds). */
static void
count_status(int64 statuses[2][MAIL_STATUS_MAX + 1], Datum *values, bool *nulls, const int *column, bool inserted)
{
	for (int counted = 0; counted < 2; counted++)
	{
		int			reached_column = column[counted ? R_REACHED : R_REACHED_HUMAN];
		int			before_column = column[counted ? R_STATUS_BEFORE : R_HUMAN_STATUS_BEFORE];
		MailStatus	now;
		MailStatus	before;

		if (nulls[reached_column])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a merged recipient's column \"%s\" is NULL", recipient_column_names[counted ? R_REACHED : R_REACHED_HUMAN])));
		/* Both decoded with their checks: they index statuses. */
		now = reached_state_status(DatumGetInt64(values[reached_column]));
		before = nulls[before_column] ? MAIL_STATUS_NONE : mail_status_valid(DatumGetMailStatus(values[before_column]));
		if (inserted)
			statuses[counted][now]++;
		else if (now != before)
		{
			statuses[counted][now]++;
			statuses[counted][before]--;
		}
	}
}

/* qsort comparator of counter rows: by day, then category (NULL last, as ORDER BY puts it). */
static int
counter_row_compare(const void *a, const void *b)
{
	const CounterKey *first = &(*(CounterRow *const *) a)->key;
	const CounterKey *second = &(*(CounterRow *const *) b)->key;
	Datum		first_category = PointerGetDatum(first->category);
	Datum		second_category = PointerGetDatum(second->category);

	if (first->day != second->day)
		return first->day < second->day ? -1 : 1;
	if (first->category == NULL || second->category == NULL)
		return (first->category == NULL) - (second->category == NULL);
	return category_compare(&first_category, &second_category);
}

/*
 * An array of rows of a table's row type (day, [category,] the counters),
 * made from the counter rows in key order, but for those that change nothing
 * (a figure that moved away and back within the merge nets to nothing).
 */
static Datum
counter_row_array(HTAB *rows, Oid array_type, bool with_category)
{
	Oid			rowtype = get_element_type(array_type);
	TupleDesc	rowdesc = lookup_rowtype_tupdesc(rowtype, -1);
	long		n = hash_get_num_entries(rows);
	CounterRow **sorted = palloc(sizeof(CounterRow *) * Max(n, 1));
	Datum	   *rowdatums = palloc(sizeof(Datum) * Max(n, 1));
	int			first_count = with_category ? 2 : 1;
	HASH_SEQ_STATUS scan;
	CounterRow *row;
	int			i = 0;

	hash_seq_init(&scan, rows);
	while ((row = hash_seq_search(&scan)) != NULL)
	{
		bool		changes = false;

		for (int c = 0; c < NCOUNTERS; c++)
			changes |= row->counts[c] != 0;
		if (changes)
			sorted[i++] = row;
	}
	n = i;
	qsort(sorted, n, sizeof(CounterRow *), counter_row_compare);
	for (i = 0; i < n; i++)
	{
		Datum		values[2 + NCOUNTERS];
		bool		nulls[2 + NCOUNTERS] = {false};

		CHECK_FOR_INTERRUPTS();
		values[0] = DateADTGetDatum(sorted[i]->key.day);
		if (with_category)
		{
			values[1] = PointerGetDatum(sorted[i]->key.category);
			nulls[1] = sorted[i]->key.category == NULL;
		}
		for (int c = 0; c < NCOUNTERS; c++)
			values[first_count + c] = Int64GetDatum(sorted[i]->counts[c]);
		rowdatums[i] = HeapTupleGetDatum(heap_form_tuple(rowdesc, values, nulls));
	}
	ReleaseTupleDesc(rowdesc);
	return PointerGetDatum(construct_array(rowdatums, n, rowtype, -1, false, TYPALIGN_DOUBLE));
}

/* An array of recipient_count_by_status rows of the nonzero changes. */
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

/* Reports merged rows that recipient_merge_counts cannot read. */
static void
ereport_not_merged_rows(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("recipient_merge_counts needs the rows a merge into mailstatus.recipient returned"),
			 errdetail("%s", detail)));
}

/* The position of each column this reads in the recipient row type. */
static void
recipient_columns(TupleDesc rowdesc, int *column)
{
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
}

PG_FUNCTION_INFO_V1(recipient_merge_counts);
/*
 * SQL: recipient_merge_counts(merged recipient[], inserted boolean[]) →
 * (days deliverability_day[], category_days deliverability_category_day[],
 * statuses recipient_count_by_status[]): what the merge that returned these
 * rows adds to each counter, as rows to add.
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
	bool	   *flag_nulls;
	int			nrows;
	int			nflags;
	int			column[R_NCOLUMNS];
	Datum	   *values = palloc(sizeof(Datum) * rowdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * rowdesc->natts);
	HTAB	   *days = counter_rows_create("mailstatus day counters");
	HTAB	   *category_days = counter_rows_create("mailstatus category counters");
	int64		statuses[2][MAIL_STATUS_MAX + 1] = {{0}};
	Datum		result[3];
	bool		result_nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	recipient_columns(rowdesc, column);
	deconstruct_array(merged, rowtype, -1, false, TYPALIGN_DOUBLE, &rows, &row_nulls, &nrows);
	deconstruct_array(inserted, BOOLOID, 1, true, TYPALIGN_CHAR, &flags, &flag_nulls, &nflags);
	if (nrows != nflags)
		ereport_not_merged_rows(psprintf("There are %d rows and %d flags: a flag per row tells whether it was new.", nrows, nflags));
	for (int i = 0; i < nrows; i++)
	{
		HeapTupleHeader row;
		HeapTupleData tuple;

		CHECK_FOR_INTERRUPTS();
		if (row_nulls[i] || flag_nulls[i])
			ereport_not_merged_rows(psprintf("Row %d or its flag is NULL.", i + 1));
		row = DETOASTED_TUPLE_HEADER(rows[i]);
		tuple.t_len = HeapTupleHeaderGetDatumLength(row);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = row;
		heap_deform_tuple(&tuple, rowdesc, values, nulls);
		count_recipient(days, category_days, values, nulls, column, DatumGetBool(flags[i]));
		count_status(statuses, values, nulls, column, DatumGetBool(flags[i]));
	}
	result[0] = counter_row_array(days, TupleDescAttr(result_desc, 0)->atttypid, false);
	result[1] = counter_row_array(category_days, TupleDescAttr(result_desc, 1)->atttypid, true);
	result[2] = status_row_array(statuses, TupleDescAttr(result_desc, 2)->atttypid);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(result_desc), result, result_nulls)));
}
