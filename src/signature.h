/* signature.h: see signature.c. Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE. */
#ifndef MAILSTATUS_SIGNATURE_H
#define MAILSTATUS_SIGNATURE_H

#include "postgres.h"

#include "pg_compat.h"

extern void signature_define_settings(void);
extern bool sendgrid_signature_matches(const char *public_key, const char *payload, size_t payload_len,
									   const char *signature, const char *timestamp);
extern void sendgrid_signature_timestamp_check(const char *timestamp);

#endif
