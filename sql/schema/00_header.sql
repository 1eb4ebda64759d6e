-- mailstatus: SendGrid event webhook storage and derived email status. The schema of the current
-- version in parts, one per concern, read in name order: the Makefile concatenates
-- sql/schema/*.sql into mailstatus--$(EXTVERSION).sql.
\echo Use "CREATE EXTENSION mailstatus" to load this file. \quit

