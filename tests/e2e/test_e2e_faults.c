/* Reliability scenario 4 on the real broker: an emulator fault storm (20% of
 * requests answered 5xx, 10% 429, 5% of records 555, 3% hung past the
 * request timeout, 3% dropped) under records sent through talon-ingest and
 * straight to the topic. Nothing is lost or dead-lettered; the committed
 * offsets, sampled during the drain, never pass a record CleverTap does not
 * have; and duplicates come only from requests whose answer the sink never
 * saw: at most one batch (sink.batch.max_records) per timed-out request. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILES  300
#define ENVELOPES 150 /* through talon-ingest, 10 records each */
#define DIRECT    3000
#define TOTAL     (ENVELOPES * 10 + DIRECT)
#define BATCH     50

static struct e2e_item items[TOTAL];
static struct sink_where where[TOTAL];

/* Samples the committed offsets until every record is delivered and
 * committed; fails when a committed offset passes a record CleverTap lacks.
 * Returns the samples taken. */
static int sample_commits(const struct sink_env *env)
{
    int samples = 0;
    int *seen = calloc(TOTAL, sizeof(*seen));
    int64_t committed[HARNESS_MAX_PARTITIONS];
    for (long long end = sink_now_ms() + 240000; sink_now_ms() < end; sink_sleep_ms(300)) {
        if (sink_committed(env, env->group, committed) != 0) {
            continue;
        }
        memset(seen, 0, TOTAL * sizeof(*seen));
        e2e_recorded(env, seen, NULL, TOTAL); /* read after the commits: it only grows */
        size_t delivered = 0;
        for (size_t i = 0; i < TOTAL; i++) {
            int64_t c = committed[where[i].partition];
            if (c >= 0 && where[i].offset < c && seen[i] == 0) {
                fail_msg("seq %zu (partition %d offset %lld) is below the committed offset %lld "
                         "but CleverTap never got it",
                         i, (int)where[i].partition, (long long)where[i].offset, (long long)c);
            }
            delivered += seen[i] > 0;
        }
        samples++;
        if (delivered == TOTAL && sink_wait_committed_to_end(env, env->group, 1)) {
            break;
        }
    }
    free(seen);
    return samples;
}

static void test_fault_storm(void **state)
{
    (void)state;
    struct sink_env env;
    static const char *const emu_args[] = {
        "--fail-5xx", "0.2",  "--fail-429", "0.1",  "--fail-555", "0.05", "--hang", "0.03",
        "--drop",     "0.03", "--hang-ms",  "3000", "--seed",     "4242", NULL};
    e2e_env_start(&env, "faults", 6, emu_args, NULL);
    struct sink_opts base = {.clevertap_extra = "  max_record_attempts: 40\n",
                             .sink_extra = "  batch: { max_records: 50, linger_ms: 20 }\n"};
    struct sink_opts opts = e2e_opts(&env, &base);
    long long start = sink_now_ms();
    struct harness_ingest ingest;
    e2e_ingest_start(&ingest, &env, "ingest", &opts);
    static char body[32768];
    for (int e = 0; e < ENVELOPES; e++) {
        int account = e % 3 + 1;
        e2e_envelope(body, sizeof(body), (size_t)e * 10, 10, PROFILES);
        assert_int_equal(e2e_post_upload(&ingest, account, body, NULL), 200);
        for (size_t r = 0; r < 10; r++) {
            items[(size_t)e * 10 + r] =
                (struct e2e_item){.kind = E2E_VALID, .account = (unsigned char)account};
        }
    }
    struct e2e_direct plan = {.items = items, .base = ENVELOPES * 10, .profiles = PROFILES};
    sink_produce(&env, DIRECT, e2e_make_event, &plan, NULL);
    e2e_locate(&env, where, TOTAL);
    struct sink_proc sink;
    sink_start(&sink, &env, "sink", &opts);
    int samples = sample_commits(&env);
    assert_true(samples > 1);
    assert_true(sink_wait_committed_to_end(&env, env.group, 60000));
    struct e2e_counts c = {.seconds = (double)(sink_now_ms() - start) / 1000.0};
    int ok = e2e_check(&env, items, TOTAL, &c);
    e2e_report("fault-storm", &c);
    json_t *stats = tcb_test_emu_stats(&env.emu);
    double timed_out = 0;
    for (int a = 0; a < 3; a++) {
        static const char *const labels[] = {"account=\"one\",reason=\"timeout\"",
                                             "account=\"two\",reason=\"timeout\"",
                                             "account=\"three\",reason=\"timeout\""};
        double v = sink_metric(&sink, "tcb_upload_retries_total", labels[a]);
        timed_out += v > 0 ? v : 0;
    }
    printf("scenario fault-storm: emulator requests %lld, 5xx %lld, 429 %lld, 555 %lld, hung %lld, "
           "dropped %lld; %.0f timed-out requests (duplicate bound %.0f); %d commit samples\n",
           tcb_test_stat(stats, "requests"), tcb_test_stat(stats, "injected_5xx"),
           tcb_test_stat(stats, "injected_429"), tcb_test_stat(stats, "injected_555"),
           tcb_test_stat(stats, "hung"), tcb_test_stat(stats, "dropped"), timed_out,
           timed_out * BATCH, samples);
    json_decref(stats);
    assert_true(ok);
    assert_int_equal(c.delivered, TOTAL);
    assert_int_equal(c.dead_lettered, 0);
    assert_true((double)c.duplicates <= timed_out * BATCH);
    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    assert_int_equal(sink_stop(&sink, SIGTERM), 0);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fault_storm, sink_teardown),
    };
    return E2E_RUN(tests);
}
