/* clevertap-sink against a faulty CleverTap (the emulator's seeded faults):
 * 5xx, 429, per-record 555, hung and dropped requests. Nothing is lost;
 * nothing is committed before it is final (the group's committed offsets are
 * sampled during the drain and every record below them must already be at
 * CleverTap); a key's records arrive in offset order across retries; and
 * duplicates appear only where a request's fate was unknown to the sink (a
 * timeout after the emulator had recorded the batch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/sink/sink_workload.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES     4000
#define MAX_PROFILES 400

/* Samples the committed offsets while the sink drains and checks that every
 * valid message below them is already recorded. Returns the samples taken. */
static int sample_commits_until_done(const struct sink_env *env, const struct workload *w,
                                     const struct sink_where *where, size_t valid)
{
    int samples = 0;
    int *seen = calloc(w->count, sizeof(*seen));
    int64_t committed[HARNESS_MAX_PARTITIONS];
    for (long long end = sink_now_ms() + 120000; sink_now_ms() < end; sink_sleep_ms(250)) {
        if (sink_committed(env, SINK_GROUP, committed) != 0) {
            continue;
        }
        memset(seen, 0, w->count * sizeof(*seen));
        sink_recorded(env, seen, NULL, w->count, NULL); /* read after the commits: it only grows */
        size_t delivered = 0;
        for (size_t i = 0; i < w->count; i++) {
            int64_t c = committed[where[i].partition];
            if (!workload_poison(w, i) && c >= 0 && where[i].offset < c && seen[i] == 0) {
                fail_msg("message %zu (partition %d offset %lld) is below the committed offset "
                         "%lld but CleverTap never got it",
                         i, (int)where[i].partition, (long long)where[i].offset, (long long)c);
            }
            delivered += !workload_poison(w, i) && seen[i] > 0;
        }
        samples++;
        if (delivered == valid && sink_wait_committed_to_end(env, SINK_GROUP, 1)) {
            break;
        }
    }
    free(seen);
    return samples;
}

/* Within each identity, seqs must appear in increasing order. */
static void assert_key_order(const struct sink_env *env, const struct workload *w)
{
    long *order = calloc(w->count * 2, sizeof(*order));
    int *seen = calloc(w->count, sizeof(*seen));
    size_t lines = sink_recorded(env, seen, NULL, w->count, order);
    long last[MAX_PROFILES];
    for (int p = 0; p < MAX_PROFILES; p++) {
        last[p] = -1;
    }
    for (size_t i = 0; i < lines && i < w->count * 2; i++) {
        int profile = (int)(order[i] % w->profiles);
        if (order[i] <= last[profile]) {
            fail_msg("identity u%d: seq %ld arrived after seq %ld", profile, order[i],
                     last[profile]);
        }
        last[profile] = order[i];
    }
    free(order);
    free(seen);
}

static void run_faults(const char *name, const char *const *emu_args, const char *sink_extra,
                       int profiles, int expect_exactly_once)
{
    struct sink_env env;
    sink_env_start(&env, 4, emu_args);
    struct workload w = {
        .count = MESSAGES, .profiles = profiles, .poison_every = 200, .two_accounts = 1};
    struct sink_where *where = calloc(w.count, sizeof(*where));
    sink_produce(&env, w.count, workload_make, &w, where);
    struct sink_opts opts = {.clevertap_extra = "  max_record_attempts: 40\n",
                             .sink_extra = sink_extra};
    long long start = sink_now_ms();
    struct sink_proc a;
    sink_start(&a, &env, name, &opts);
    size_t valid = w.count - w.count / 200;
    int samples = sample_commits_until_done(&env, &w, where, valid);
    assert_true(samples > 1);
    if (!sink_wait_committed_to_end(&env, SINK_GROUP, 30000)) {
        sink_print_state(&a);
        fail_msg("the drain did not finish: every offset committed");
    }
    struct outcome_counts c;
    int ok = workload_check(&env, &w, NULL, &c);
    c.seconds = (double)(sink_now_ms() - start) / 1000.0;
    workload_report(name, &c);
    double timeouts = sink_metric(&a, "tcb_upload_retries_total", NULL);
    json_t *stats = tcb_test_emu_stats(&env.emu);
    printf("scenario %s: emulator 5xx %lld 429 %lld 555 %lld hung %lld dropped %lld; sink "
           "retries %.0f; %d commit samples\n",
           name, tcb_test_stat(stats, "injected_5xx"), tcb_test_stat(stats, "injected_429"),
           tcb_test_stat(stats, "injected_555"), tcb_test_stat(stats, "hung"),
           tcb_test_stat(stats, "dropped"), timeouts, samples);
    json_decref(stats);
    assert_true(ok);
    if (expect_exactly_once) {
        assert_int_equal(c.duplicates, 0);
        assert_key_order(&env, &w);
    } else {
        /* A duplicate needs a request that timed out after the emulator took it:
         * at most one batch (sink.batch.max_records: 50) per timed-out request. */
        double timed_out =
            sink_metric(&a, "tcb_upload_retries_total", "account=\"one\",reason=\"timeout\"") +
            sink_metric(&a, "tcb_upload_retries_total", "account=\"two\",reason=\"timeout\"");
        printf("scenario %s: %.0f timed-out requests, %zu duplicates\n", name, timed_out,
               c.duplicates);
        assert_true((double)c.duplicates <= (timed_out > 0 ? timed_out : 0) * 50);
    }
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    free(where);
    sink_env_stop(&env);
}

static void test_fault_storm_exactly_once(void **state)
{
    (void)state;
    /* About 30% of requests fail: 5xx, 429, hangs and drops; 10% of records 555. */
    static const char *const args[] = {"--fail-5xx", "0.12",   "--fail-429", "0.1",    "--fail-555",
                                       "0.1",        "--hang", "0.03",       "--drop", "0.05",
                                       "--hang-ms",  "500",    "--seed",     "7",      NULL};
    run_faults("faults", args, NULL, 40, 1);
}

static void test_timeouts_bound_duplicates(void **state)
{
    (void)state;
    /* Answers after 0..2.5 s against a 2 s request timeout: some batches are
     * recorded by the emulator but their answer never reaches the sink. */
    static const char *const args[] = {"--latency-ms", "50",         "--latency-jitter-ms",
                                       "2500",         "--fail-5xx", "0.05",
                                       "--seed",       "11",         NULL};
    /* Keyed ordering allows one record per identity in flight: many identities. */
    run_faults("timeouts", args, "  batch: { max_records: 50, linger_ms: 20 }\n", MAX_PROFILES, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fault_storm_exactly_once, sink_teardown),
        cmocka_unit_test_teardown(test_timeouts_bound_duplicates, sink_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
