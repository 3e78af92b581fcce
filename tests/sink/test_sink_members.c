/* Several clevertap-sink members in one group during a drain: a second and a
 * third join, the first leaves cleanly and the second is killed, and every
 * rebalance settles and commits before partitions move. Nothing is lost, and
 * the members share each account's concurrency budget (the emulator's 429s
 * from its 15-request limit stay rare). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/sink/sink_workload.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES 24000

static void test_members_join_and_leave(void **state)
{
    (void)state;
    struct sink_env env;
    /* Slow answers and small batches: the drain outlasts the rebalances. */
    static const char *const emu_args[] = {"--latency-ms", "200", NULL};
    sink_env_start(&env, 6, emu_args);
    struct workload w = {
        .count = MESSAGES, .profiles = 600, .poison_every = 1000, .two_accounts = 1};
    sink_produce(&env, w.count, workload_make, &w, NULL);
    struct sink_opts opts = {.sink_extra = "  batch: { max_records: 20, linger_ms: 20 }\n"};
    long long start = sink_now_ms();
    struct sink_proc a, b, c;
    sink_start(&a, &env, "member-a", &opts);
    sink_sleep_ms(4000);
    sink_start(&b, &env, "member-b", &opts);
    sink_sleep_ms(7000);
    sink_start(&c, &env, "member-c", &opts);
    sink_sleep_ms(7000);
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    sink_sleep_ms(7000);
    assert_int_equal(sink_stop(&b, SIGKILL), 128 + SIGKILL);
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 180000));
    struct outcome_counts oc;
    int ok = workload_check(&env, &w, NULL, &oc);
    oc.seconds = (double)(sink_now_ms() - start) / 1000.0;
    workload_report("members", &oc);
    json_t *stats = tcb_test_emu_stats(&env.emu);
    long long limit_429 = tcb_test_stat(stats, "limit_429");
    long long requests = tcb_test_stat(stats, "requests");
    printf("scenario members: %lld requests, %lld answered 429 by the 15-concurrent limit, "
           "%.0f rebalances seen by the last member\n",
           requests, limit_429, sink_metric(&c, "tcb_sink_rebalances_total", NULL));
    json_decref(stats);
    assert_true(ok);
    assert_true(limit_429 * 20 <= requests); /* at most 5%, during hand-overs */
    assert_int_equal(sink_stop(&c, SIGTERM), 0);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_members_join_and_leave, sink_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
