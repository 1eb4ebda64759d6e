/*
 * Category sets (category_set.h): the aggregate that gathers them from
 * events' category fields (category_set), their union (the combine function,
 * also used to merge states at ingest), and what a union adds.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "category_set.h"

/* qsort comparator of categories (text Datums): bytewise, then by length. */
int
category_compare(const void *a, const void *b)
{
	text	   *first = DatumGetTextPP(*(const Datum *) a);
	text	   *second = DatumGetTextPP(*(const Datum *) b);
	int			first_len = VARSIZE_ANY_EXHDR(first);
	int			second_len = VARSIZE_ANY_EXHDR(second);
	int			cmp = memcmp(VARDATA_ANY(first), VARDATA_ANY(second), Min(first_len, second_len));

	return cmp != 0 ? cmp : (first_len > second_len) - (first_len < second_len);
}

/* Sorts categories and makes them distinct, in place; returns how many are left. */
static int
categories_sorted_distinct(Datum *elements, int n)
{
	int			distinct = 0;
	bool		sorted = true;

	/* A set made here is sorted already: checked in one pass before any sort. */
	for (int i = 1; i < n && sorted; i++)
		sorted = category_compare(&elements[i - 1], &elements[i]) < 0;
	if (sorted)
		return n;
	qsort(elements, n, sizeof(Datum), category_compare);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (distinct == 0 || category_compare(&elements[distinct - 1], &elements[i]) != 0)
			elements[distinct++] = elements[i];
	}
	return distinct;
}

/*
 * The categories of a category set handed in, sorted and distinct; returns
 * how many.  Any text[] can be handed in: a NULL element is no category (a
 * set made here never holds one) and is left out; a set out of order, or with
 * a category twice, is sorted and made distinct (bsearch and the merges walk
 * sets in order).
 */
int
category_set_decode(ArrayType *set, Datum **elements)
{
	bool	   *nulls;
	int			n;
	int			kept = 0;

	deconstruct_array(set, TEXTOID, -1, false, TYPALIGN_INT, elements, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (!nulls[i])
			(*elements)[kept++] = (*elements)[i];
	}
	return categories_sorted_distinct(*elements, kept);
}

/* The elements of a category set argument (none for NULL); returns how many. */
static int
category_set_elements(FunctionCallInfo fcinfo, int argno, Datum **elements)
{
	if (PG_ARGISNULL(argno))
	{
		*elements = NULL;
		return 0;
	}
	return category_set_decode(PG_GETARG_ARRAYTYPE_P(argno), elements);
}

/* A category set of elements (sorted and made distinct here); NULL when empty. */
static Datum
category_set_of(Datum *elements, int n, bool *isnull)
{
	int			distinct;

	*isnull = n == 0;
	if (n == 0)
		return (Datum) 0;
	distinct = categories_sorted_distinct(elements, n);
	return PointerGetDatum(construct_array(elements, distinct, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The category a posted scalar is: a string as it is, a number or boolean as JSON writes it; NULL for others. */
text *
category_of_scalar(JsonbValue *item)
{
	if (item->type == jbvString)
		return cstring_to_text_with_len(item->val.string.val, item->val.string.len);
	if (item->type == jbvNumeric)
		return DatumGetTextPP(DirectFunctionCall1(textin, DirectFunctionCall1(numeric_out, NumericGetDatum(item->val.numeric))));
	if (item->type == jbvBool)
		return cstring_to_text(item->val.boolean ? "true" : "false");
	return NULL;
}

/* The categories of one posted category value: a string (or number), or an array of them; nulls skipped. */
static int
categories_of_value(Jsonb *category, Datum *out)
{
	JsonbIterator *it = JsonbIteratorInit(&category->root);
	JsonbValue	item;
	JsonbIteratorToken token;
	int			n = 0;

	while ((token = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
	{
		text	   *one;

		CHECK_FOR_INTERRUPTS();
		if (token != WJB_ELEM && token != WJB_VALUE)
			continue;
		one = category_of_scalar(&item);
		if (one != NULL)
			out[n++] = PointerGetDatum(one);
	}
	return n;
}

PG_FUNCTION_INFO_V1(category_set_add);
/* category_set(jsonb) transition: the state with one event's categories added. */
Datum
category_set_add(PG_FUNCTION_ARGS)
{
	Datum	   *stored;
	int			nstored = category_set_elements(fcinfo, 0, &stored);
	Jsonb	   *category;
	Datum	   *elements;
	int			n;
	bool		isnull;
	Datum		result;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	category = PG_GETARG_JSONB_P(1);
	elements = palloc(sizeof(Datum) * (nstored + Max(JB_ROOT_COUNT(category), 1)));
	if (nstored > 0)
		memcpy(elements, stored, sizeof(Datum) * nstored);
	n = nstored + categories_of_value(category, elements + nstored);
	result = category_set_of(elements, n, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(category_set_merge);
/* Combine function: the union of two category sets, either of which may be NULL. */
Datum
category_set_merge(PG_FUNCTION_ARGS)
{
	Datum	   *first;
	Datum	   *second;
	int			nfirst = category_set_elements(fcinfo, 0, &first);
	int			nsecond = category_set_elements(fcinfo, 1, &second);
	Datum	   *elements = palloc(sizeof(Datum) * Max(nfirst + nsecond, 1));
	bool		isnull;
	Datum		result;

	if (nfirst > 0)
		memcpy(elements, first, sizeof(Datum) * nfirst);
	if (nsecond > 0)
		memcpy(elements + nfirst, second, sizeof(Datum) * nsecond);
	result = category_set_of(elements, nfirst + nsecond, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(category_set_added);
/* What merging partial into stored adds: partial's categories stored lacks; NULL when none. */
Datum
category_set_added(PG_FUNCTION_ARGS)
{
	Datum	   *stored;
	Datum	   *partial;
	int			nstored = category_set_elements(fcinfo, 0, &stored);
	int			npartial = category_set_elements(fcinfo, 1, &partial);
	int			n = 0;
	bool		isnull;
	Datum		result;

	for (int i = 0; i < npartial; i++)
	{
		if (nstored == 0 || bsearch(&partial[i], stored, nstored, sizeof(Datum), category_compare) == NULL)
			partial[n++] = partial[i];
	}
	result = category_set_of(partial, n, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
