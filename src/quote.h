/* quote.h: see quote.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_QUOTE_H
#define MAILSTATUS_QUOTE_H

#include "postgres.h"

#include "pg_compat.h"

#include "utils/jsonb.h"

/* Longest part of a value an error message or a reject reason quotes. */
#define QUOTED_MAX_BYTES	64

extern char *quoted_prefix(const char *value, int len);
extern bool json_syntax_is_valid(const char *text, size_t len, size_t *error_at);
extern Jsonb *jsonb_of_type_input(const char *input, const char *type_name);

#endif
