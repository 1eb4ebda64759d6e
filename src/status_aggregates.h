#ifndef MAILSTATUS_STATUS_AGGREGATES_H
#define MAILSTATUS_STATUS_AGGREGATES_H

/*
 * Aggregates the status views are built from.  mail_status_agg itself needs
 * no C: its transition and combine function is int2larger.
 *
 * mail_status_reached_at packs (status, time) into one int8 whose maximum is
 * "highest status, then earliest time", so its state is by value and its
 * combine function is int8larger.
 *
 * latest_value keeps the value of the latest row, for any varlena type.
 */

#endif
