/* pg_compat.h: see its comments. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_PG_COMPAT_H
#define MAILSTATUS_PG_COMPAT_H

/*
 * The server APIs that moved between the PostgreSQL versions mailstatus
 * builds against (15 to 18), guarded once here.  Every source file includes
 * this header right after postgres.h.
 */
#include "postgres.h"

/* PostgreSQL 16 moved the varlena macros (VARDATA, VARSIZE_ANY_EXHDR, ...) to varatt.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* PostgreSQL 17 gave makeJsonLexContextCstringLen a first argument: the context to fill, or NULL for a new one. */
#if PG_VERSION_NUM >= 170000
#define compat_json_lex_context(json, len) makeJsonLexContextCstringLen(NULL, (json), (len), GetDatabaseEncoding(), false)
#else
#define compat_json_lex_context(json, len) makeJsonLexContextCstringLen((char *) (json), (len), GetDatabaseEncoding(), false)
#endif

/* PostgreSQL 18 replaced pg_attribute_noreturn(), written after a declaration, with pg_noreturn, written before. */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * A composite datum's tuple header, detoasted. PostgreSQL 17.12 turned
 * DatumGetHeapTupleHeader (and PG_GETARG_HEAPTUPLEHEADER) from a macro into a
 * function that servers of earlier 17.x minors do not export: a library built
 * against newer headers would not load there. This is what the macro did.
 */
#define DETOASTED_TUPLE_HEADER(datum) ((HeapTupleHeader) PG_DETOAST_DATUM(datum))

#endif
