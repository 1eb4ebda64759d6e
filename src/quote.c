/*
 * Values quoted in error messages and reject reasons are cut: a 10 MB value
 * must not make a 10 MB log line.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "mb/pg_wchar.h"

#include "quote.h"

/* A value to quote: at most QUOTED_MAX_BYTES, cut on a character boundary and marked "..." when cut. */
char *
quoted_prefix(const char *value, int len)
{
	int			cut = pg_mbcliplen(value, len, QUOTED_MAX_BYTES);

	return cut < len ? psprintf("%.*s...", cut, value) : pnstrdup(value, len);
}
