/* Test messages for clevertap-sink's integration tests: CleverTap events that
 * carry their message number in evtData.seq, keyed by identity, with the
 * account header, plus poison messages at fixed positions, and the checks
 * every scenario makes on what arrived. Test-only code. */
#ifndef TCB_TESTS_SINK_WORKLOAD_H
#define TCB_TESTS_SINK_WORKLOAD_H

#include "tests/sink/sink_harness.h"

#include <stddef.h>

struct workload {
    size_t count;              /* messages */
    int profiles;              /* identities spread over */
    int poison_every;          /* every Nth message is invalid (0 = none) */
    int two_accounts;          /* odd identities go to account "two" */
    int account_per_partition; /* with two accounts: partitions 0..P/2-1 "one", the rest "two" */
    int partitions;
};

/* sink_produce's message maker for a struct workload (ctx). Message i: seq i,
 * identity "u<i % profiles>"; poison: no evtName (509 validation) when
 * i / poison_every is even, else not JSON (transform). */
void workload_make(size_t i, struct sink_msg *msg, void *ctx);

/* 1 when message i is poison. */
int workload_poison(const struct workload *w, size_t i);

/* What a scenario saw, printed on one line by workload_report. */
struct outcome_counts {
    size_t sent, delivered, duplicates, missing, dead_lettered, unexpected_dlq;
    double seconds;
};

/* Checks the emulator's records and the DLQ against the workload: every
 * valid message delivered at least once, every poison one dead-lettered with
 * its stage and code and none delivered. Fills *out (counts per seq in
 * counts[], sized w->count, may be NULL). Returns 1 when nothing is missing. */
int workload_check(const struct sink_env *env, const struct workload *w, int *counts,
                   struct outcome_counts *out);
/* Prints "scenario NAME: sent N delivered N duplicates N dead-lettered N ..." */
void workload_report(const char *name, const struct outcome_counts *c);

#endif
