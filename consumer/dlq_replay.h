/* `clevertap-sink --config C --replay-dlq [--stage S] [--code N] [--limit N]
 * [--dry-run]`: puts dead letters back onto kafka.topic with their key and
 * their original headers (the dlq-* ones dropped, a replayed-from header
 * added, so the sink's de-duplication lets them through), up to the end the
 * DLQ had when the run started. Its progress is committed on the DLQ under a
 * group of its own per filter (kafka.group_id + ".replay" + the filter), so a
 * second run with the same filter does not repeat. */
#ifndef TCB_CONSUMER_DLQ_REPLAY_H
#define TCB_CONSUMER_DLQ_REPLAY_H

#include <stdio.h>

struct tcb_config;

struct tcb_replay_options {
    const char *stage; /* only dead letters of this stage; NULL = any */
    int code;          /* only this CleverTap code, when has_code */
    int has_code;
    long limit;  /* at most this many replayed; 0 = no limit */
    int dry_run; /* list what would be replayed; produce and commit nothing */
};

/* Runs a replay (cfg and opts borrowed), printing one line per replayed (or,
 * with dry_run, replayable) dead letter and a summary to out. Returns an exit
 * code: 0 done, 1 Kafka failed (nothing past the failure is committed). */
int tcb_dlq_replay(const struct tcb_config *cfg, const struct tcb_replay_options *opts, FILE *out);

#endif
