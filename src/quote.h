#ifndef MAILSTATUS_QUOTE_H
#define MAILSTATUS_QUOTE_H

#include "postgres.h"

#include "pg_compat.h"

/* Longest part of a value an error message or a reject reason quotes. */
#define QUOTED_MAX_BYTES	64

extern char *quoted_prefix(const char *value, int len);

#endif
