#ifndef MAILSTATUS_WEBHOOK_H
#define MAILSTATUS_WEBHOOK_H

/* Deepest JSON nesting a raw webhook body may have; SendGrid's events nest 3 deep. */
#define WEBHOOK_MAX_DEPTH 64

#include "postgres.h"

#include "utils/numeric.h"

#include "ingest.h"

extern void webhook_body_add_events(IngestBatch *batch, const char *body, size_t body_len);
extern Numeric numeric_from_cstring(const char *text);
extern Numeric numeric_from_int64(int64 value);

#endif
