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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "category_set.h"

/* qsort comparator: texts bytewise, then by length. */
static int
category_compare(const void *a, const void *b)
{
	text	   *first = DatumGetTextPP(*(const Datum *) a);
	text	   *second = DatumGetTextPP(*(const Datum *) b);
	int			first_len = VARSIZE_ANY_EXHDR(first);
	int			second_len = VARSIZE_ANY_EXHDR(second);
	int			cmp = memcmp(VARDATA_ANY(first), VARDATA_ANY(second), Min(first_len, second_len));

	return cmp != 0 ? cmp : (first_len > second_len) - (first_len < second_len);
}

/* The elements of a category set (or of an empty one for NULL); returns how many. */
static int
category_set_elements(FunctionCallInfo fcinfo, int argno, Datum **elements)
{
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(argno))
	{
		*elements = NULL;
		return 0;
	}
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false, TYPALIGN_INT, elements, &nulls, &n);
	/* A NULL element is no category (a set made here never holds one): left out, never compared. */
	{
		int			kept = 0;

		for (int i = 0; i < n; i++)
		{
			if (!nulls[i])
				(*elements)[kept++] = (*elements)[i];
		}
		n = kept;
	}
	return n;
}

/* A category set of elements (sorted and made distinct here); NULL when empty. */
static Datum
category_set_of(Datum *elements, int n, bool *isnull)
{
	int			distinct = 0;

	*isnull = n == 0;
	if (n == 0)
		return (Datum) 0;
	qsort(elements, n, sizeof(Datum), category_compare);
	for (int i = 0; i < n; i++)
	{
		if (distinct == 0 || category_compare(&elements[distinct - 1], &elements[i]) != 0)
			elements[distinct++] = elements[i];
	}
	return PointerGetDatum(construct_array(elements, distinct, TEXTOID, -1, false, TYPALIGN_INT));
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
		if (token != WJB_ELEM && token != WJB_VALUE)
			continue;
		if (item.type == jbvString)
			out[n++] = PointerGetDatum(cstring_to_text_with_len(item.val.string.val, item.val.string.len));
		else if (item.type == jbvNumeric)
			out[n++] = DirectFunctionCall1(textin, DirectFunctionCall1(numeric_out, NumericGetDatum(item.val.numeric)));
		else if (item.type == jbvBool)
			out[n++] = CStringGetTextDatum(item.val.boolean ? "true" : "false");
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
