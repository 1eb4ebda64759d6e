EXTENSION = mailstatus
EXTVERSION = 0.5.0

MODULE_big = mailstatus
# In reading order: the types and aggregates, then wire -> event mapping -> ingest -> raw body -> webhook.
OBJS = src/init.o src/quote.o src/mail_status.o src/status_aggregates.o src/timed_value.o src/activity.o \
       src/category_set.o src/counters.o src/wire.o src/sendgrid_event.o src/ingest.o src/landing.o src/webhook_body.o src/webhook.o \
       src/signature.o
# The current version's schema is sql/schema/*.sql, one part per concern, read in name order:
# the install script is their concatenation. The released scripts ship too, frozen (the install
# scripts of 0.1.0 and 0.4.0, every upgrade script): CREATE EXTENSION ... VERSION and
# ALTER EXTENSION ... UPDATE reach every version.
# The update script of the unreleased version is generated (tools/generate_update.py) from the
# released install script, the parts, and a hand-written prelude and postlude
# (sql/updates/FROM--TO/); at release it is frozen: committed and moved to DATA.
SCHEMA_PARTS = $(sort $(wildcard sql/schema/*.sql))
RELEASED = 0.4.0
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--$(RELEASED)--$(EXTVERSION).sql
DATA = sql/$(EXTENSION)--0.1.0.sql sql/$(EXTENSION)--0.1.0--0.2.0.sql sql/$(EXTENSION)--0.2.0--0.3.0.sql \
       sql/$(EXTENSION)--0.3.0--0.4.0.sql sql/$(EXTENSION)--$(RELEASED).sql

REGRESS = mail_status_type aggregates parallel_aggregates ingest ingest_rejects \
          message_id_and_timestamps views order_independence triggers \
          webhook_signature webhook_body webhook_leaks hostile_input differential_fuzz roles privileges forged_values \
          hostile_schema state state_edges input_edges suppression recipient_events deliverability partitions landing partman citus_rules upgrade \
          upgrade_repairs upgrade_custom_args upgrade_partman upgrade_dump_registration upgrade_counters schema_equivalence
REGRESS_OPTS = --inputdir=test --temp-instance=./tmp_check --temp-config=test/regress.conf

# Concurrency: test/specs/*.spec against test/expected/*.out.
ISOLATION = concurrent_ingest ingest_while_reading status_notifications retention_while_ingesting \
            concurrent_state_exact ingest_deadlock_order retention_lock_timeout create_partitions_lock_timeout \
            notification_privacy ingest_deadlock_large_posts update_under_live_connection \
            first_ingest_while_partitioning landing_concurrency
ISOLATION_OPTS = --inputdir=test --temp-instance=./tmp_check_iso --temp-config=test/regress.conf \
                 --load-extension=mailstatus

# Crash recovery and dump/restore: test/t/*.pl (PostgreSQL::Test::Cluster).
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

# MAILSTATUS_VERSION: the version the library is built for, which it compares with the schema's.
PG_CPPFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror=implicit-function-declaration \
              -DMAILSTATUS_VERSION='"$(EXTVERSION)"'
SHLIB_LINK = -ljson-c -lcrypto

EXTRA_CLEAN = tmp_check results regression.diffs regression.out test/fuzz/fuzz_wire test/fuzz/work

PG_CONFIG ?= pg_config
PGXS := $(shell command -v $(PG_CONFIG) >/dev/null 2>&1 && $(PG_CONFIG) --pgxs)
ifneq ($(PGXS),)
include $(PGXS)
endif

# Every object depends on the project's headers (PGXS tracks no header dependencies).
$(OBJS): $(wildcard src/*.h)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SCHEMA_PARTS)
	cat $^ > $@

sql/$(EXTENSION)--$(RELEASED)--$(EXTVERSION).sql: tools/generate_update.py sql/$(EXTENSION)--$(RELEASED).sql \
		sql/$(EXTENSION)--$(EXTVERSION).sql $(wildcard sql/updates/$(RELEASED)--$(EXTVERSION)/*.sql)
	python3 tools/generate_update.py sql/$(EXTENSION)--$(RELEASED).sql sql/$(EXTENSION)--$(EXTVERSION).sql \
	  sql/updates/$(RELEASED)--$(EXTVERSION) $(RELEASED) $(EXTVERSION) > $@.tmp && mv $@.tmp $@

# The fuzzer of src/wire.c (libFuzzer, ASan, UBSan): make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang-14
.PHONY: fuzz
test/fuzz/fuzz_wire: test/fuzz/fuzz_wire.c src/wire.c src/wire.h
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -Isrc test/fuzz/fuzz_wire.c src/wire.c -ljson-c -o $@
fuzz: test/fuzz/fuzz_wire
	mkdir -p test/fuzz/findings && rm -rf test/fuzz/work && mkdir -p test/fuzz/work
	test/fuzz/fuzz_wire -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -print_final_stats=1 \
	  -artifact_prefix=test/fuzz/findings/ test/fuzz/work test/fuzz/corpus

# The README's quick start: each target brings what it needs on a fresh Debian 12 machine.
.PHONY: demo test
demo:
	test/run demo
test:
	test/run test

# The property harness (test/property/) for as long as asked: make soak SECONDS=3600. make test
# runs it for two minutes.
SECONDS ?= 600
.PHONY: soak
soak:
	test/run soak $(SECONDS)

# Mutation testing (not part of make test): every planted bug in test/mutation/ must be caught.
.PHONY: mutation
mutation:
	test/mutation/run.sh
