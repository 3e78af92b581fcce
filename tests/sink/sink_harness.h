/* Test harness for clevertap-sink's integration tests: kafka-dev-broker (the
 * source topic and the DLQ), one clevertap-emulator with both test accounts,
 * and clevertap-sink members as real processes on loopback; a producer that
 * remembers where each test message landed; readers for what the emulator
 * recorded, what the DLQ holds and what the group committed. Test-only code:
 * setup failures fail the test through cmocka. */
#ifndef TCB_TESTS_SINK_HARNESS_H
#define TCB_TESTS_SINK_HARNESS_H

#include "tests/emulator/emulator_harness.h"
#include "tests/ingest/ingest_harness.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SINK_TOPIC "sink.test"
#define SINK_DLQ   "sink.test.dlq"
#define SINK_GROUP "sink-test"

struct sink_env {
    struct harness_broker broker; /* pid 0 for a broker the test did not start */
    struct tcb_test_emu emu;
    int partitions;
    char topic[128]; /* SINK_TOPIC, SINK_DLQ and SINK_GROUP unless set by sink_env_start_on */
    char dlq[128];
    char group[128];
};

/* Starts the broker (SINK_TOPIC with partitions, SINK_DLQ with 1) and the
 * emulator with emu_args (NULL-terminated, may be NULL). Fails the test on error. */
void sink_env_start(struct sink_env *env, int partitions, const char *const *emu_args);
/* The same against a broker that already runs (bootstrap), with the given
 * topic, dead-letter topic and group names: starts the emulator only; the
 * caller creates the topics. Fails the test on error. */
void sink_env_start_on(struct sink_env *env, const char *bootstrap, const char *topic,
                       const char *dlq, const char *group, int partitions,
                       const char *const *emu_args);
/* Restarts the emulator on the same port and record file with new arguments. */
void sink_env_restart_emulator(struct sink_env *env, const char *const *emu_args);
void sink_env_stop(struct sink_env *env);

struct sink_proc {
    pid_t pid;
    int ops_port;
    char config_path[512];
    char log_path[512];
};

/* Configuration knobs: YAML lines appended to each section (may be NULL). */
struct sink_opts {
    const char *passcode_2;      /* account "two"'s passcode; NULL = the right one */
    const char *accounts_extra;  /* more account list items (4-space indented "- {...}") */
    const char *kafka_extra;     /* 2-space indented keys for kafka: */
    const char *clevertap_extra; /* for clevertap: */
    const char *sink_extra;      /* for sink: */
    const char *tail;            /* top-level sections (routes, transforms) */
    int request_timeout_ms;      /* clevertap.request_timeout_ms; 0 = 2000 */
    int shutdown_timeout_ms;     /* sink.shutdown_timeout_ms; 0 = 5000 */
    int https;                   /* the accounts' endpoints are https:// (an emulator with TLS) */
    int max_in_flight;           /* each account's max_in_flight; 0 = 15 */
    const char *ingest_extra;    /* keys for the ingest section tests/e2e adds (ignored here) */
    const char *brokers;         /* kafka.brokers; NULL = the environment's bootstrap */
};

/* Starts a sink member named name (config and log in the test directory) and
 * waits until its /healthz answers. Fails the test when it does not start. */
void sink_start(struct sink_proc *p, const struct sink_env *env, const char *name,
                const struct sink_opts *opts);
/* Writes the configuration sink_start would write to path (opts may be NULL). */
void sink_write_config(const char *path, const struct sink_env *env, const struct sink_opts *opts);
/* The same configuration as a new string (free()). */
char *sink_config_text(const struct sink_env *env, const struct sink_opts *opts);
/* Starts a sink member named name on an existing configuration file (log in
 * the test directory) and waits until its /healthz answers; fails the test
 * when it does not start. */
void sink_launch(struct sink_proc *p, const char *name, const char *config_path);
/* Sends sig and waits up to 60 s; returns the exit status (128 + signal when
 * killed by one), or -1 when it had to be killed. */
int sink_stop(struct sink_proc *p, int sig);
/* Waits up to timeout_ms for the member to exit on its own; returns its exit
 * status (128 + signal when a signal ended it), or -1 when it still runs. */
int sink_wait_exit(struct sink_proc *p, int timeout_ms);
/* GET path on the member's operations port; returns the HTTP status. */
int sink_http_get(const struct sink_proc *p, const char *path, char *body, size_t len);
/* The value of a metric line `name{labels} value` (labels may be "" for none;
 * summed over series when labels is NULL), or -1 when absent. */
double sink_metric(const struct sink_proc *p, const char *name, const char *labels);
/* Prints the member's log to stderr (on failures). */
void sink_print_log(const struct sink_proc *p);
/* Prints a running member's sink gauges and counters (tcb_sink_*, in-flight
 * uploads, halted accounts, retries) and the last 60 lines of its log to stderr: what a
 * test shows when a drain does not finish. */
void sink_print_state(const struct sink_proc *p);

/* One test message. */
struct sink_msg {
    char value[2048];
    const char *big_value; /* when set, the value instead of value[] (borrowed, big_len bytes) */
    size_t big_len;
    char key[64];             /* "" = no key */
    int32_t partition;        /* -1 = by key */
    const char *headers[8];   /* "name=value" strings, NULL-terminated */
    char header_text[2][128]; /* room for makers' own "name=value" strings */
};

struct sink_where {
    int32_t partition;
    int64_t offset;
};

/* Produces count messages built by make(i, msg, ctx) to the environment's
 * topic and waits for Kafka's acknowledgements; where[i] receives where
 * message i landed (may be NULL). Values up to 8 MiB. */
void sink_produce(const struct sink_env *env, size_t count,
                  void (*make)(size_t i, struct sink_msg *msg, void *ctx), void *ctx,
                  struct sink_where *where);
/* The same in large producer batches (linger 50 ms), for throughput tests:
 * the producer must not be what limits the drain. */
void sink_produce_bulk(const struct sink_env *env, size_t count,
                       void (*make)(size_t i, struct sink_msg *msg, void *ctx), void *ctx,
                       struct sink_where *where);

/* Reads the emulator's record file: counts[seq]++ for each record whose
 * evtData.seq is below n, and accounts[seq] (may be NULL) receives the account
 * id's first character ('W' or 'T'); order (may be NULL) receives the seqs in
 * file order. Returns the lines read. */
size_t sink_recorded(const struct sink_env *env, int *counts, char *accounts, size_t n,
                     long *order);

struct sink_dlq_msg {
    int32_t src_partition;
    int64_t src_offset;
    long output_index;
    char stage[32];
    int code;
    int http_status;
    int attempts;
    long truncated_from; /* dlq-value-truncated: the value's size before the cut; -1 = whole */
    char reason[256];
    char account[64];
    char key[64];
    char value[2048];
    char request_id[64]; /* the source message's request-id header, "" when absent */
};

/* Reads the whole DLQ topic. Returns a new array (free()) and its size. */
struct sink_dlq_msg *sink_read_dlq(const struct sink_env *env, size_t *count);

/* The group's committed offset per partition of the topic into out[]
 * (RD_KAFKA_OFFSET_INVALID when none); returns 0 or -1. */
int sink_committed(const struct sink_env *env, const char *group, int64_t *out);

/* Waits until the group committed every partition to its high watermark, up
 * to timeout_ms. Returns 1 when it did. */
int sink_wait_committed_to_end(const struct sink_env *env, const char *group, int timeout_ms);

/* Waits until check(ctx) returns 1 (polled every 100 ms), up to timeout_ms.
 * Returns 1 when it did. */
int sink_wait(int (*check)(void *ctx), void *ctx, int timeout_ms);

/* SIGKILL at random moments: starts a member named "killed" kills times,
 * waits until ready(p) (NULL: not at all) and then min_ms + a random 0..spread_ms
 * (seeded from the clock, the seed printed), kills it, waits settle_ms for the
 * requests it left on the wire, and adds at_risk(ctx), printed per kill: the
 * records a restart may send again. Returns that sum, the duplicate bound. */
size_t sink_kill_cycles(const struct sink_env *env, const struct sink_opts *opts, int kills,
                        int (*ready)(const struct sink_proc *p), int min_ms, int spread_ms,
                        int settle_ms, size_t (*at_risk)(void *ctx), void *ctx);

/* A cmocka teardown: kills every sink member still running and stops the
 * environment started last, so a failed test leaves no process behind. */
int sink_teardown(void **state);
/* A cmocka group teardown: removes the test directory (logs, configs). */
int sink_group_teardown(void **state);

/* Waits until the emulator's record file has at least lines lines, or the DLQ
 * at least count messages, up to timeout_ms. Returns 1 when it did. */
int sink_wait_recorded(const struct sink_env *env, size_t lines, int timeout_ms);
int sink_wait_dlq(const struct sink_env *env, size_t count, int timeout_ms);

long long sink_now_ms(void);
void sink_sleep_ms(int ms);

#endif
