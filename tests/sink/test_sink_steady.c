/* clevertap-sink in steady state against kafka-dev-broker and the emulator:
 * two accounts, single records, envelopes and Talon.One notifications; every
 * valid record delivered exactly once to its account, poison messages in the
 * DLQ with their headers, offsets committed to the end, readiness and
 * metrics as documented, and a restart that resends nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/sink/sink_workload.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVELOPES     30 /* of 3 records each */
#define NOTIFICATIONS 10 /* CouponCreated with 2 coupons each */
#define SEQ_BASE      100000

static void make_mixed(size_t i, struct sink_msg *msg, void *ctx)
{
    (void)ctx;
    msg->headers[0] = "clevertap-account=one";
    if (i < ENVELOPES) {
        snprintf(msg->key, sizeof(msg->key), "env%zu", i);
        size_t seq = SEQ_BASE + i * 3;
        snprintf(msg->value, sizeof(msg->value),
                 "{\"d\":[{\"type\":\"event\",\"evtName\":\"Bundle\",\"identity\":\"e%zu\","
                 "\"evtData\":{\"seq\":%zu}},{\"type\":\"event\",\"evtName\":\"Bundle\","
                 "\"identity\":\"e%zu\",\"evtData\":{\"seq\":%zu}},{\"type\":\"profile\","
                 "\"identity\":\"e%zu\",\"profileData\":{\"Name\":\"P %zu\"}}]}",
                 i, seq, i, seq + 1, i, i);
        return;
    }
    size_t n = i - ENVELOPES;
    snprintf(msg->key, sizeof(msg->key), "note%zu", n);
    snprintf(msg->header_text[0], sizeof(msg->header_text[0]), "request-id=uuid-%zu", n);
    msg->headers[1] = msg->header_text[0];
    snprintf(msg->value, sizeof(msg->value),
             "{\"NotificationType\":\"CouponCreated\",\"data\":[{\"id\":%zu,\"value\":\"N%zua\","
             "\"campaignId\":7,\"recipientIntegrationId\":\"n%zu\"},{\"id\":%zu,\"value\":"
             "\"N%zub\",\"campaignId\":7,\"recipientIntegrationId\":\"m%zu\"}]}",
             n * 2, n, n, n * 2 + 1, n, n);
}

/* Records in the emulator's file by evtName / type. */
static size_t count_named(const struct sink_env *env, const char *name)
{
    FILE *f = fopen(env->emu.record_path, "r");
    char *line = NULL;
    size_t cap = 0, n = 0;
    while (f && getline(&line, &cap, f) > 0) {
        json_t *doc = json_loads(line, 0, NULL);
        json_t *rec = json_object_get(doc, "record");
        const char *evt = json_string_value(json_object_get(rec, "evtName"));
        const char *type = json_string_value(json_object_get(rec, "type"));
        n += (evt && strcmp(evt, name) == 0) || (!evt && type && strcmp(type, name) == 0);
        json_decref(doc);
    }
    free(line);
    if (f) {
        fclose(f);
    }
    return n;
}

static void test_steady_state_and_restart(void **state)
{
    (void)state;
    struct sink_env env;
    sink_env_start(&env, 4, NULL);
    struct workload w = {
        .count = 3000, .profiles = 60, .poison_every = 100, .two_accounts = 1, .partitions = 4};
    long long start = sink_now_ms();
    sink_produce(&env, w.count, workload_make, &w, NULL);
    sink_produce(&env, ENVELOPES + NOTIFICATIONS, make_mixed, NULL, NULL);
    struct sink_proc a;
    sink_start(&a, &env, "steady", NULL);
    size_t valid = w.count - w.count / 100;
    size_t expected_lines = valid + ENVELOPES * 3 + NOTIFICATIONS * 2;
    assert_true(sink_wait_recorded(&env, expected_lines, 60000));
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 30000));

    int *counts = calloc(w.count, sizeof(*counts));
    char *accounts = calloc(w.count, 1);
    struct outcome_counts c;
    assert_true(workload_check(&env, &w, counts, &c));
    c.seconds = (double)(sink_now_ms() - start) / 1000.0;
    workload_report("steady", &c);
    assert_int_equal(c.duplicates, 0);
    assert_int_equal(c.dead_lettered, w.count / 100);
    memset(counts, 0, w.count * sizeof(*counts));
    sink_recorded(&env, counts, accounts, w.count, NULL);
    for (size_t i = 0; i < w.count; i++) {
        if (!workload_poison(&w, i)) {
            int two = (i % (size_t)w.profiles) % 2 == 1;
            assert_int_equal(accounts[i], two ? 'T' : 'W'); /* TEST-XYZ-9999 : W9R-ABC-123Z */
        }
    }
    assert_int_equal(count_named(&env, "Bundle"), ENVELOPES * 2);
    assert_int_equal(count_named(&env, "profile"), ENVELOPES);
    assert_int_equal(count_named(&env, "Coupon Created"), NOTIFICATIONS * 2);

    /* Dead letters carry where they came from and why. */
    size_t dlq_count = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(&env, &dlq_count);
    assert_int_equal(dlq_count, w.count / 100);
    for (size_t d = 0; d < dlq_count; d++) {
        assert_true(dlq[d].src_partition >= 0 && dlq[d].src_partition < 4);
        assert_true(dlq[d].src_offset >= 0);
        assert_true(dlq[d].reason[0] != '\0');
        assert_true(dlq[d].key[0] == 'u'); /* the source message's key */
    }
    free(dlq);

    char body[512];
    assert_int_equal(sink_http_get(&a, "/readyz", body, sizeof(body)), 200);
    sink_sleep_ms(1500);                  /* a lag refresh */
    size_t expected_dead = w.count / 100; /* one record in a hundred is invalid */
    assert_true(sink_metric(&a, "tcb_sink_dead_letters_total", NULL) == (double)expected_dead);
    assert_true(sink_metric(&a, "tcb_sink_consumer_lag", NULL) == 0);
    assert_true(sink_metric(&a, "tcb_sink_assigned_partitions", "") == 4);
    assert_true(sink_metric(&a, "tcb_upload_records_accepted_total", NULL) ==
                (double)expected_lines);
    assert_int_equal(sink_stop(&a, SIGTERM), 0);

    /* A restart of the group resends nothing. */
    size_t before = sink_recorded(&env, counts, NULL, 0, NULL);
    struct sink_proc b;
    sink_start(&b, &env, "steady-restart", NULL);
    for (long long end = sink_now_ms() + 20000; sink_now_ms() < end; sink_sleep_ms(100)) {
        if (sink_http_get(&b, "/readyz", body, sizeof(body)) == 200) {
            break;
        }
    }
    assert_int_equal(sink_http_get(&b, "/readyz", body, sizeof(body)), 200);
    sink_sleep_ms(2000);
    assert_int_equal(sink_recorded(&env, counts, NULL, 0, NULL), before);
    assert_int_equal(sink_stop(&b, SIGINT), 0);
    free(counts);
    free(accounts);
    sink_env_stop(&env);
}

/* Talon.One's retries (same request-id and record-index) are dropped; a
 * replayed message (replayed-from header) is not a duplicate. */
static void make_retried(size_t i, struct sink_msg *msg, void *ctx)
{
    int replay = ctx != NULL;
    size_t n = i % 20; /* messages 20..39 repeat 0..19 */
    snprintf(msg->key, sizeof(msg->key), "r%zu", n);
    snprintf(msg->value, sizeof(msg->value),
             "{\"type\":\"event\",\"evtName\":\"Retried\",\"identity\":\"r%zu\","
             "\"evtData\":{\"seq\":%zu}}",
             n, n);
    msg->headers[0] = "clevertap-account=one";
    snprintf(msg->header_text[0], sizeof(msg->header_text[0]), "request-id=webhook-%zu", n);
    msg->headers[1] = msg->header_text[0];
    msg->headers[2] = "record-index=0";
    msg->headers[3] = replay ? "replayed-from=sink.test.dlq:0:1" : NULL;
}

static void test_duplicates_dropped_replays_pass(void **state)
{
    (void)state;
    struct sink_env env;
    sink_env_start(&env, 2, NULL);
    struct sink_proc a;
    sink_start(&a, &env, "dedup", NULL);
    sink_produce(&env, 40, make_retried, NULL, NULL); /* each webhook twice */
    assert_true(sink_wait_recorded(&env, 20, 30000));
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 30000));
    int counts[20] = {0};
    assert_int_equal(sink_recorded(&env, counts, NULL, 20, NULL), 20);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(counts[i], 1);
    }
    assert_true(sink_metric(&a, "tcb_sink_duplicates_dropped_total", "") == 20);
    sink_produce(&env, 20, make_retried, &env, NULL); /* replays of the same ones */
    assert_true(sink_wait_recorded(&env, 40, 30000));
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    sink_env_stop(&env);
}

/* Dead letters when librdkafka's queue for them holds two messages: the rest
 * wait in the writer's backlog (the member takes nothing new meanwhile) and
 * all arrive; a record larger than one upload request may carry is a dead
 * letter too, and every offset ends committed. */
static void make_poison_or_large(size_t i, struct sink_msg *msg, void *ctx)
{
    (void)ctx;
    snprintf(msg->key, sizeof(msg->key), "p%zu", i);
    msg->headers[0] = "clevertap-account=one";
    if (i % 10 == 9) {
        char filler[1500];
        memset(filler, 'x', sizeof(filler) - 1);
        filler[sizeof(filler) - 1] = '\0';
        snprintf(msg->value, sizeof(msg->value),
                 "{\"type\":\"event\",\"evtName\":\"Large\",\"identity\":\"p%zu\","
                 "\"evtData\":{\"seq\":%zu,\"a\":\"%.400s\",\"b\":\"%.400s\","
                 "\"c\":\"%.400s\"}}",
                 i, i, filler, filler, filler);
    } else {
        snprintf(msg->value, sizeof(msg->value), "not json %zu", i);
    }
}

static void test_dead_letter_backlog_and_oversized_records(void **state)
{
    (void)state;
    struct sink_env env;
    sink_env_start(&env, 2, NULL);
    sink_produce(&env, 100, make_poison_or_large, NULL, NULL);
    struct sink_opts opts = {.kafka_extra = "  properties:\n"
                                            "    queue.buffering.max.messages: \"2\"\n",
                             .sink_extra = "  batch: { max_bytes: 1024, linger_ms: 20 }\n"};
    struct sink_proc a;
    sink_start(&a, &env, "backlog", &opts);
    assert_true(sink_wait_dlq(&env, 100, 60000));
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 30000));
    size_t n = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(&env, &n);
    assert_int_equal(n, 100);
    size_t large = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(dlq[i].stage, "validation") == 0) {
            assert_non_null(strstr(dlq[i].reason, "larger than one upload request"));
            large++;
        } else {
            assert_string_equal(dlq[i].stage, "transform");
        }
    }
    free(dlq);
    assert_int_equal(large, 10);
    sink_sleep_ms(1500); /* a metrics refresh */
    assert_true(sink_metric(&a, "tcb_sink_dead_letters_backlogged", "") > 0);
    assert_true(sink_metric(&a, "tcb_sink_dead_letters_pending", "") == 0);
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    sink_env_stop(&env);
}

/* Without partitions the member is alive but not ready. */
static void test_not_ready_without_partitions(void **state)
{
    (void)state;
    struct sink_env env;
    sink_env_start(&env, 1, NULL);
    struct sink_proc a, b;
    sink_start(&a, &env, "first", NULL);
    char body[512];
    for (long long end = sink_now_ms() + 20000; sink_now_ms() < end; sink_sleep_ms(100)) {
        if (sink_http_get(&a, "/readyz", body, sizeof(body)) == 200) {
            break;
        }
    }
    assert_int_equal(sink_http_get(&a, "/readyz", body, sizeof(body)), 200);
    sink_start(&b, &env, "second", NULL); /* one partition: b gets nothing */
    sink_sleep_ms(3000); /* b joins; the group rebalances (slower on a busy machine) */
    int ready_a = 0, ready_b = 0;
    for (long long end = sink_now_ms() + 30000; sink_now_ms() < end; sink_sleep_ms(200)) {
        ready_a = sink_http_get(&a, "/readyz", body, sizeof(body)) == 200;
        ready_b = sink_http_get(&b, "/readyz", body, sizeof(body)) == 200;
        if (ready_a + ready_b == 1) {
            break;
        }
    }
    assert_int_equal(ready_a + ready_b, 1);
    assert_int_equal(sink_http_get(ready_b ? &a : &b, "/healthz", body, sizeof(body)), 200);
    assert_int_equal(sink_http_get(ready_b ? &a : &b, "/readyz", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "no partition"));
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    assert_int_equal(sink_stop(&b, SIGTERM), 0);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_steady_state_and_restart, sink_teardown),
        cmocka_unit_test_teardown(test_duplicates_dropped_replays_pass, sink_teardown),
        cmocka_unit_test_teardown(test_dead_letter_backlog_and_oversized_records, sink_teardown),
        cmocka_unit_test_teardown(test_not_ready_without_partitions, sink_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
