/*
 * Values quoted in error messages and reject reasons are cut: a 10 MB value
 * must not make a 10 MB log line.
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "quote.h"

/* A value to quote: at most QUOTED_MAX_BYTES, cut on a character boundary and marked "..." when cut. */
char *
quoted_prefix(const char *value, int len)
{
	int			cut = pg_mbcliplen(value, len, QUOTED_MAX_BYTES);

	return cut < len ? psprintf("%.*s...", cut, value) : pnstrdup(value, len);
}

/*
 * Whether text is JSON, checked by PostgreSQL's JSON parser without raising
 * an error (jsonb_in's own errors quote a whole token, which may be 10 MB);
 * *error_at is the offset of the offending token when it is not.
 */
bool
json_syntax_is_valid(const char *text, size_t len, size_t *error_at)
{
	JsonLexContext *lex = compat_json_lex_context(text, len);
	bool		valid = pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS;

	if (!valid && error_at != NULL)
		*error_at = lex->token_start != NULL ? (size_t) (lex->token_start - lex->input) : 0;
	return valid;
}

/* The jsonb of a type's text input; input that is not JSON is reported as the type's bad input, quoted short. */
Jsonb *
jsonb_of_type_input(const char *input, const char *type_name)
{
	size_t		len = strlen(input);

	if (!json_syntax_is_valid(input, len, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", type_name, quoted_prefix(input, len)),
				 errdetail("It is not JSON.")));
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(input)));
}
