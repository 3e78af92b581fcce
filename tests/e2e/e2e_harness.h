/* The end-to-end reliability suite's harness, on the sink harness: the real
 * Kafka broker of the real_kafka ctest fixture (stopped and restarted on the
 * same data for outages), topics of their own per scenario, the emulator with
 * three accounts in three regions, one configuration file for talon-ingest and
 * clevertap-sink, and the checks every scenario makes. Every record a
 * scenario sends carries a marker "E2E#<seq>#" in a string value, whatever its
 * shape (CleverTap record, envelope, Talon.One notification), so the
 * emulator's record file and the dead-letter topic can be matched against the
 * plan. Test-only code: setup failures fail the test through cmocka. */
#ifndef TCB_TESTS_E2E_HARNESS_H
#define TCB_TESTS_E2E_HARNESS_H

#include "tests/sink/sink_harness.h"

#include <stddef.h>
#include <stdint.h>

struct CMUnitTest;

/* The third account (the harness emulator knows the first two). */
#define E2E_ACCOUNT_3  "E2E-IN1-0003"
#define E2E_PASSCODE_3 "pass-three"
#define E2E_SECRET     "e2e-notification-secret"
#define E2E_MARK       "E2E#"

/* Runs a test program's cmocka group with libcurl initialised around it (the
 * webhook clients use it, from several threads in some tests) and the sink
 * harness's group teardown; returns cmocka's result for main. */
int e2e_run_group(const char *name, const struct CMUnitTest *tests, size_t count);
#define E2E_RUN(tests) e2e_run_group(#tests, (tests), sizeof(tests) / sizeof((tests)[0]))

/* sink.* lines for a drain that lasts: batches of batch_records, at most
 * max_pending records held (static storage until the next call). */
const char *e2e_slow_drain(int batch_records, int max_pending);

/* The fixture's bootstrap (TCB_E2E_BOOTSTRAP, default 127.0.0.1:29092). */
const char *e2e_bootstrap(void);

/* Stops the fixture's broker process, keeping its data (halt.sh), or starts
 * it again on the same data and waits until it serves (restart.sh). Fail the
 * test when the script fails. */
void e2e_broker_halt(void);
void e2e_broker_restart(void);

/* Creates a topic on the broker at bootstrap (max_message_bytes: the topic's
 * max.message.bytes, NULL = the broker's default). Fails the test on error. */
void e2e_create_topic(const char *bootstrap, const char *topic, int partitions,
                      const char *max_message_bytes);

/* Starts an environment on the fixture's broker: topic, DLQ (1 partition) and
 * group named after the scenario and this process, the emulator with three
 * accounts and emu_args. topic_max_bytes: the topic's max.message.bytes
 * (NULL = default). */
void e2e_env_start(struct sink_env *env, const char *scenario, int partitions,
                   const char *const *emu_args, const char *topic_max_bytes);

/* The same on the broker at bootstrap (PLAINTEXT: the test's own clients). */
void e2e_env_start_at(struct sink_env *env, const char *bootstrap, const char *scenario,
                      int partitions, const char *const *emu_args, const char *topic_max_bytes);

/* The same environment on kafka-dev-broker (the mock cluster) instead of the
 * real broker, for comparisons. */
void e2e_env_start_dev_broker(struct sink_env *env, int partitions, const char *const *emu_args);

/* base (may be NULL) plus what every e2e daemon needs: the third account
 * (region in1) and an ingest section (port 0 listeners, the notification
 * secret, notifications to account "three", X-Request-Id as request id,
 * then base's ingest_extra), then base's tail. The strings live in static storage until the next
 * call. */
struct sink_opts e2e_opts(const struct sink_env *env, const struct sink_opts *base);

/* Writes opts' configuration (as a sink member gets it) and starts
 * talon-ingest on the same file's text. Fails the test when it does not start. */
void e2e_ingest_start(struct harness_ingest *ingest, const struct sink_env *env, const char *name,
                      const struct sink_opts *opts);

/* The usual run: an environment, talon-ingest and one clevertap-sink member
 * on one configuration (e2e_opts of base). */
struct e2e_pipeline {
    struct sink_env env;
    struct sink_opts opts;
    struct harness_ingest ingest;
    struct sink_proc sink;
    long long start_ms; /* when the daemons were started */
};
/* Starts it (as e2e_env_start, then both daemons); fails the test on error. */
void e2e_pipeline_start(struct e2e_pipeline *p, const char *scenario, int partitions,
                        const char *const *emu_args, const char *topic_max_bytes,
                        const struct sink_opts *base);
/* Stops both daemons with SIGTERM (each must exit 0) and the environment. */
void e2e_pipeline_stop(struct e2e_pipeline *p);
/* Seconds since the daemons were started. */
double e2e_pipeline_seconds(const struct e2e_pipeline *p);

/* POST /1/upload as account 1..3 (its id and passcode), with X-Request-Id
 * when request_id is not NULL. Returns the HTTP status (-1: no answer). */
int e2e_post_upload(const struct harness_ingest *ingest, int account, const char *body,
                    const char *request_id);
/* POST /talon/notifications with the shared secret and X-UUID uuid. */
int e2e_post_notification(const struct harness_ingest *ingest, const char *body, const char *uuid);

/* One CleverTap event for seq (identity e2e-u<seq % profiles>, the partner
 * guide's Coupon Generated with the marker) appended to out at *len. */
void e2e_event(char *out, size_t cap, size_t *len, size_t seq, int profiles);
/* An envelope {"d":[...]} of count events from seq on; returns its length. */
size_t e2e_envelope(char *out, size_t cap, size_t seq, size_t count, int profiles);
/* The same with identities <prefix><seq % profiles> (profiles of their own,
 * for one account). */
size_t e2e_envelope_as(char *out, size_t cap, size_t seq, size_t count, int profiles,
                       const char *prefix);
/* A Talon.One CouponCreated notification with count coupons from seq on
 * (values carry the markers); returns its length. */
size_t e2e_notification(char *out, size_t cap, size_t seq, size_t count, int profiles);

/* sink_produce's maker (ctx: struct e2e_direct): message i is one event with
 * seq base + i, key its identity e2e-u<seq % profiles>, the identity's
 * account ((seq % profiles) % accounts) + 1 named in the clevertap-account
 * header (one profile, one account, as in CleverTap); marks the plan's item
 * valid for that account. */
struct e2e_direct {
    struct e2e_item *items;
    size_t base;
    int profiles;
    int accounts; /* 1..3 accounts in turn; 0 = 3 */
};
void e2e_make_event(size_t i, struct sink_msg *msg, void *ctx);

/* Waits until the member has partitions assigned (its metric). Returns 1 when it has. */
int e2e_wait_assigned(const struct sink_proc *p, int timeout_ms);

/* The seq of the first marker in text[0..len), or -1. */
long e2e_mark(const char *text, size_t len);

enum e2e_kind { E2E_UNUSED = 0, E2E_VALID, E2E_POISON, E2E_UNSURE };

/* What the plan says of one seq. E2E_UNSURE: sent without an answer (talon-ingest
 * killed mid-request): may arrive or not, never dead-lettered. */
struct e2e_item {
    unsigned char kind;
    unsigned char account; /* E2E_VALID: the account (1..3) it must reach */
    int code;              /* E2E_POISON: the dlq-code expected (0: any) */
    const char *stage;     /* E2E_POISON: the dlq-stage expected */
};

struct e2e_counts {
    size_t sent;          /* valid and poison items */
    size_t delivered;     /* valid items at CleverTap */
    size_t dead_lettered; /* poison items on the DLQ */
    size_t duplicates;    /* extra copies of valid items at CleverTap */
    size_t dlq_duplicates;
    size_t missing;    /* valid items not delivered, poison ones not dead-lettered */
    size_t misrouted;  /* delivered to another account, or poison delivered */
    size_t unexpected; /* dead letters the plan does not expect */
    size_t unsure_delivered;
    double seconds;
};

/* Reads the emulator's record file: counts[seq]++ per marked record below n
 * (counts may be NULL when n is 0: lines only),
 * and accounts[seq] (may be NULL) = the account (1..3, 0 unknown) it reached.
 * Returns the lines read. */
size_t e2e_recorded(const struct sink_env *env, int *counts, unsigned char *accounts, size_t n);

/* Checks the emulator's records and the DLQ against items[0..n); fills *out.
 * Returns 1 when nothing is missing, misrouted or unexpected. */
int e2e_check(const struct sink_env *env, const struct e2e_item *items, size_t n,
              struct e2e_counts *out);

/* Prints "scenario NAME: sent N delivered N dead-lettered N duplicates N seconds S"
 * (and what else is non-zero). */
void e2e_report(const char *name, const struct e2e_counts *c);

/* Reads the whole topic and records where each marker's message sits:
 * where[seq] (partition -1 when not found). */
void e2e_locate(const struct sink_env *env, struct sink_where *where, size_t n);

/* Records at CleverTap (every copy) whose message is at or past the group's
 * committed offset: what a restart may send again. */
size_t e2e_at_risk(const struct sink_env *env, const struct sink_where *where, size_t n);

/* Extra copies at CleverTap of the marked records below n, now. */
size_t e2e_duplicates(const struct sink_env *env, size_t n);

/* Valid items of a plan. */
size_t e2e_count_kind(const struct e2e_item *items, size_t n, enum e2e_kind kind);

#endif
