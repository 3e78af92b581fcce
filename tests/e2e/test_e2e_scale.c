/* Scale-out that respects CleverTap's limit, on the real broker: three
 * clevertap-sink members share one account's max_in_flight of 15 in
 * proportion to their partitions (6 partitions, 2 each: 5 requests each).
 * Against an emulator answering after 300 ms, the account's ceiling is
 * 15 x 1000 records / 0.3 s = 50,000 records/s. The backlog is on the topic
 * before the members join one after the other; through those rebalances and
 * the drain, the emulator's peak concurrency for the account
 * (accounts.<id>.max_concurrent_seen) never passes 15 and it never answers
 * 429 for its limit (limit_429); every record arrives. The throughput, as a share of that ceiling,
 * is printed, never asserted (bench/scale/run.sh measures it on a release build). TCB_SCALE_RECORDS
 * sets the record count (default 120,000). */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBERS    3
#define PARTITIONS 6
#define BUDGET     15
#define LATENCY_MS 300
#define CEILING    (BUDGET * 1000.0 / (LATENCY_MS / 1000.0))
#define PROFILES   20000
#define PER_MEMBER 2 /* PARTITIONS / MEMBERS */

struct progress {
    long long t_ms;
    long long accepted;
};

static long long accepted(const struct sink_env *env)
{
    json_t *stats = tcb_test_emu_stats(&env->emu);
    long long n = tcb_test_stat(stats, "records_accepted");
    json_decref(stats);
    return n;
}

static void test_three_members_share_the_limit(void **state)
{
    (void)state;
    const char *count_env = getenv("TCB_SCALE_RECORDS");
    size_t records = count_env ? (size_t)strtoul(count_env, NULL, 10) : 120000;
    struct e2e_item *items = calloc(records, sizeof(*items));
    struct sink_env env;
    static const char *const emu_args[] = {"--latency-ms", "300", "--max-concurrent", "15", NULL};
    e2e_env_start(&env, "scale", PARTITIONS, emu_args, NULL);
    /* A generous request timeout: a request the sink gave up on while the
     * emulator still works on it would count twice against the limit. */
    struct sink_opts base = {.request_timeout_ms = 60000,
                             .sink_extra = "  batch: { max_records: 1000, linger_ms: 50 }\n"};
    struct sink_opts opts = e2e_opts(&env, &base);
    /* The backlog first, so that the producer never limits the drain; then
     * the three members join (the limit holds through those rebalances too). */
    struct e2e_direct plan = {.items = items, .profiles = PROFILES, .accounts = 1};
    long long start = sink_now_ms();
    sink_produce_bulk(&env, records, e2e_make_event, &plan, NULL);
    long long produced = sink_now_ms();
    struct sink_proc m[MEMBERS];
    const char *names[] = {"member-a", "member-b", "member-c"};
    for (int i = 0; i < MEMBERS; i++) {
        sink_start(&m[i], &env, names[i], &opts);
    }
    /* The steady rate: from the moment every member holds its 2 partitions
     * (or 10% of the drain, whichever is later) to 90% of the drain. */
    struct progress from = {0}, to = {0};
    for (long long end = sink_now_ms() + 300000; sink_now_ms() < end; sink_sleep_ms(100)) {
        long long n = accepted(&env);
        int settled = 1;
        for (int i = 0; !from.t_ms && i < MEMBERS; i++) {
            settled &= sink_metric(&m[i], "tcb_sink_assigned_partitions", "") == PER_MEMBER;
        }
        if (!from.t_ms && settled && (size_t)n >= records / 10) {
            from = (struct progress){sink_now_ms(), n};
        }
        if (!to.t_ms && (size_t)n >= records / 10 * 9) {
            to = (struct progress){sink_now_ms(), n};
        }
        if ((size_t)n >= records) {
            break;
        }
    }
    for (int i = 0; i < MEMBERS; i++) {
        assert_true(sink_metric(&m[i], "tcb_sink_assigned_partitions", "") == PER_MEMBER);
    }
    long long done = sink_now_ms();
    assert_true(sink_wait_committed_to_end(&env, env.group, 120000));
    struct e2e_counts c = {.seconds = (double)(done - produced) / 1000.0};
    int ok = e2e_check(&env, items, records, &c);
    e2e_report("scale-out", &c);
    json_t *stats = tcb_test_emu_stats(&env.emu);
    char path[128];
    snprintf(path, sizeof(path), "accounts/%s/max_concurrent_seen", TCB_TEST_ACCOUNT_1);
    long long peak = tcb_test_stat(stats, path);
    long long limit_429 = tcb_test_stat(stats, "limit_429");
    double steady = to.t_ms > from.t_ms ? (double)(to.accepted - from.accepted) * 1000.0 /
                                              (double)(to.t_ms - from.t_ms)
                                        : 0;
    printf("scale-out: %d members, %zu records (produced in %.1f s); peak concurrency for the "
           "account %lld of %d; 429 for the limit %lld; requests %lld\n",
           MEMBERS, records, (double)(produced - start) / 1000.0, peak, BUDGET, limit_429,
           tcb_test_stat(stats, "requests"));
    printf("scale-out: throughput %.0f records/s steady (members settled, to 90%% of the drain), "
           "%.0f overall (joins included); "
           "ceiling %.0f records/s: %.0f%% of it\n",
           steady, (double)records / c.seconds, CEILING, 100.0 * steady / CEILING);
    json_decref(stats);
    assert_true(ok);
    assert_int_equal(c.delivered, records);
    assert_true(peak > 0 && peak <= BUDGET);
    assert_int_equal(limit_429, 0);
    for (int i = 0; i < MEMBERS; i++) {
        assert_int_equal(sink_stop(&m[i], SIGTERM), 0);
    }
    free(items);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_three_members_share_the_limit, sink_teardown),
    };
    return E2E_RUN(tests);
}
