/*
 * mail_status_reached_at(status, at): when the winning status was first
 * reached.  Its state packs (status, time) into one int8 whose maximum is
 * "highest status, then earliest time", so the state is by value, its combine
 * function is int8larger, and the recipient state table stores it as it is
 * (status_reached_state): the status and the time are read from it.
 *
 * Also the functions of schema versions 0.1.0 to 0.4.0 that their SQL calls
 * until ALTER EXTENSION mailstatus UPDATE: the state's functions under their
 * names of then (mail_status_reached_at_transfn, mail_status_reached_status)
 * and the internal-state latest_value functions of 0.1.0 to 0.3.0 (0.4.0
 * replaced that state with the timed_value type, timed_value.c).
 *
 * Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
 */
#include "postgres.h"

#include "pg_compat.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "mail_status.h"

/*
 * Packing of mail_status_reached_at's state: the status in bits 59-62, and
 * in bits 0-58 the time, reversed so that an earlier time packs larger.
 * Times are microseconds since 2000-01-01 and must lie within +-2^58 of it
 * (years 7134 BC .. 11133 AD).
 */
#define REACHED_AT_TIME_BITS	59
#define REACHED_AT_TIME_MASK	((INT64CONST(1) << REACHED_AT_TIME_BITS) - 1)
#define REACHED_AT_TIME_BIAS	(INT64CONST(1) << (REACHED_AT_TIME_BITS - 1))

/* Packs a status and the time it was observed into one comparable int8. */
static int64
reached_at_pack(MailStatus status, TimestampTz at)
{
	if (TIMESTAMP_NOT_FINITE(at) || at < -REACHED_AT_TIME_BIAS || at >= REACHED_AT_TIME_BIAS)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for mail_status_reached_at"),
				 errdetail("Event times must be finite and between the years 7134 BC and 11133 AD.")));
	mail_status_valid(status);
	return ((int64) status << REACHED_AT_TIME_BITS) |
		(REACHED_AT_TIME_MASK - (at + REACHED_AT_TIME_BIAS));
}

/* The time a state (not 0) holds, unpacked: it may lie outside the timestamps PostgreSQL takes. */
static int64
reached_state_time(int64 state)
{
	return REACHED_AT_TIME_MASK - (state & REACHED_AT_TIME_MASK) - REACHED_AT_TIME_BIAS;
}

/*
 * The winning status a mail_status_reached_at state holds; MAIL_STATUS_NONE
 * for no rows (0).  A state is handed in as a plain bigint, so anything can be
 * (the counters index arrays with the status): anything that reached_at_pack
 * cannot have made is an error.
 */
MailStatus
reached_state_status(int64 state)
{
	MailStatus	status;

	if (state == 0)
		return MAIL_STATUS_NONE;
	status = (MailStatus) (state >> REACHED_AT_TIME_BITS);
	if (state < 0 || status < MAIL_STATUS_SENT || status > MAIL_STATUS_MAX ||
		!IS_VALID_TIMESTAMP(reached_state_time(state)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%lld is not a status_reached_state state", (long long) state),
				 errdetail("A state is 0, or holds a status between sent and dropped in bits 59 to 62 and a valid time below them.")));
	return status;
}

PG_FUNCTION_INFO_V1(status_reached_transfn);
/* Keeps the highest status seen and the earliest time it was seen at. */
Datum
status_reached_transfn(PG_FUNCTION_ARGS)
{
	int64		state = PG_GETARG_INT64(0);
	int64		packed = reached_at_pack(PG_GETARG_MAIL_STATUS(1), PG_GETARG_TIMESTAMPTZ(2));

	reached_state_status(state);
	PG_RETURN_INT64(Max(state, packed));
}

PG_FUNCTION_INFO_V1(mail_status_reached_at_final);
/* The time at which the winning status was first reached; NULL for no rows. */
Datum
mail_status_reached_at_final(PG_FUNCTION_ARGS)
{
	int64		state = PG_GETARG_INT64(0);

	if (reached_state_status(state) == MAIL_STATUS_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(reached_state_time(state));
}

PG_FUNCTION_INFO_V1(status_reached_status);
/* The winning status a mail_status_reached_at state holds; NULL for no rows. */
Datum
status_reached_status(PG_FUNCTION_ARGS)
{
	MailStatus	status = reached_state_status(PG_GETARG_INT64(0));

	if (status == MAIL_STATUS_NONE)
		PG_RETURN_NULL();
	PG_RETURN_MAIL_STATUS(status);
}

/*
 * The state's functions under their C names of schema versions 0.1.0 to
 * 0.4.0, whose SQL calls them until ALTER EXTENSION mailstatus UPDATE (0.5.0's
 * SQL keeps the old names as SQL stand-ins over the new functions).
 */

PG_FUNCTION_INFO_V1(mail_status_reached_at_transfn);
/* status_reached_transfn, for the SQL of 0.1.0 to 0.4.0. */
Datum
mail_status_reached_at_transfn(PG_FUNCTION_ARGS)
{
	return status_reached_transfn(fcinfo);
}

PG_FUNCTION_INFO_V1(mail_status_reached_status);
/* status_reached_status, for the SQL of 0.1.0 to 0.4.0. */
Datum
mail_status_reached_status(PG_FUNCTION_ARGS)
{
	return status_reached_status(fcinfo);
}

/*
 * latest_value with an internal state, as schema versions 0.1.0 to 0.3.0
 * declare it.
 */

/* latest_value's state: the value of the latest row so far, in the aggregate's context. */
typedef struct LatestValueState
{
	TimestampTz at;
	struct varlena *value;
} LatestValueState;

/* Whether (value, at) beats the state: later wins, ties go to the larger bytes. */
static bool
latest_value_beats(LatestValueState *state, struct varlena *value, TimestampTz at)
{
	int			len,
				state_len,
				cmp;

	if (state->value == NULL || at > state->at)
		return true;
	if (at < state->at)
		return false;
	len = VARSIZE_ANY_EXHDR(value);
	state_len = VARSIZE_ANY_EXHDR(state->value);
	cmp = memcmp(VARDATA_ANY(value), VARDATA_ANY(state->value), Min(len, state_len));
	return cmp > 0 || (cmp == 0 && len > state_len);
}

/* Replaces the state's value by a copy of value made in the aggregate context. */
static void
latest_value_store(MemoryContext aggcontext, LatestValueState *state,
				   struct varlena *value, TimestampTz at)
{
	MemoryContext old = MemoryContextSwitchTo(aggcontext);
	struct varlena *copy = (struct varlena *) palloc(VARHDRSZ + VARSIZE_ANY_EXHDR(value));

	SET_VARSIZE(copy, VARHDRSZ + VARSIZE_ANY_EXHDR(value));
	memcpy(VARDATA(copy), VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
	MemoryContextSwitchTo(old);
	if (state->value != NULL)
		pfree(state->value);
	state->value = copy;
	state->at = at;
}

/* The aggregate memory context, or an error when called outside an aggregate. */
static MemoryContext
latest_value_context(FunctionCallInfo fcinfo)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "latest_value support function called in non-aggregate context");
	return aggcontext;
}

/* A new, empty state in the aggregate context. */
static LatestValueState *
latest_value_new_state(MemoryContext aggcontext)
{
	return (LatestValueState *) MemoryContextAllocZero(aggcontext, sizeof(LatestValueState));
}

PG_FUNCTION_INFO_V1(latest_value_transfn);
/* Keeps the value of the row with the latest time; NULL values and times are skipped. */
Datum
latest_value_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = latest_value_context(fcinfo);
	LatestValueState *state = PG_ARGISNULL(0) ? NULL : (LatestValueState *) PG_GETARG_POINTER(0);

	if (state == NULL)
		state = latest_value_new_state(aggcontext);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		struct varlena *value = PG_GETARG_VARLENA_PP(1);
		TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);

		if (latest_value_beats(state, value, at))
			latest_value_store(aggcontext, state, value, at);
	}
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(latest_value_combine);
/* Merges two partial states: the later value wins, as in the transition. */
Datum
latest_value_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = latest_value_context(fcinfo);
	LatestValueState *state = PG_ARGISNULL(0) ? NULL : (LatestValueState *) PG_GETARG_POINTER(0);
	LatestValueState *other = PG_ARGISNULL(1) ? NULL : (LatestValueState *) PG_GETARG_POINTER(1);

	if (state == NULL)
		state = latest_value_new_state(aggcontext);
	if (other != NULL && other->value != NULL &&
		latest_value_beats(state, other->value, other->at))
		latest_value_store(aggcontext, state, other->value, other->at);
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(latest_value_serialize);
/* Partial state to bytea for parallel workers: a has-value flag, the time, the value's bytes. */
Datum
latest_value_serialize(PG_FUNCTION_ARGS)
{
	LatestValueState *state = (LatestValueState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, state->value != NULL);
	if (state->value != NULL)
	{
		pq_sendint64(&buf, state->at);
		pq_sendbytes(&buf, VARDATA_ANY(state->value), VARSIZE_ANY_EXHDR(state->value));
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(latest_value_deserialize);
/* Partial state back from latest_value_serialize's bytea. */
Datum
latest_value_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = latest_value_context(fcinfo);
	bytea	   *serialized = PG_GETARG_BYTEA_PP(0);
	LatestValueState *state = latest_value_new_state(aggcontext);
	StringInfoData buf;

	buf.data = VARDATA_ANY(serialized);
	buf.len = VARSIZE_ANY_EXHDR(serialized);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	if (pq_getmsgbyte(&buf))
	{
		int			len;

		state->at = pq_getmsgint64(&buf);
		len = buf.len - buf.cursor;
		state->value = (struct varlena *) MemoryContextAlloc(aggcontext, VARHDRSZ + len);
		SET_VARSIZE(state->value, VARHDRSZ + len);
		pq_copymsgbytes(&buf, VARDATA(state->value), len);
	}
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(latest_value_final);
/* The latest value, NULL when no row had one. */
Datum
latest_value_final(PG_FUNCTION_ARGS)
{
	LatestValueState *state = PG_ARGISNULL(0) ? NULL : (LatestValueState *) PG_GETARG_POINTER(0);

	if (state == NULL || state->value == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(state->value);
}
