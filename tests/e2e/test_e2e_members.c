/* Reliability scenario 5 on the real broker: three clevertap-sink members
 * drain together, a fourth joins mid-drain and one of the first three is
 * killed with SIGKILL (two rebalances under load). Nothing is lost, offsets
 * end committed to the end, and the duplicates stay within the records
 * CleverTap had taken past the committed offsets at the join (measured once
 * the new member holds partitions) and at the kill (measured right after it).
 * A real broker accepts commits while a group prepares a rebalance (the mock
 * cluster refuses them), so a revoke commits what is final before letting
 * go; the same workload on kafka-dev-broker runs next, for comparison. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS  30000
#define PROFILES 900

static struct e2e_item items[RECORDS];
static struct sink_where where[RECORDS];

/* The scenario on the real broker (real) or on kafka-dev-broker, the same
 * workload and settings, so that their duplicates compare. */
static void run_members(const char *name, int real)
{
    struct sink_env env;
    /* Slow answers and small batches: the drain outlasts both rebalances. */
    static const char *const emu_args[] = {"--latency-ms", "200", NULL};
    if (real) {
        e2e_env_start(&env, "members", 6, emu_args, NULL);
    } else {
        e2e_env_start_dev_broker(&env, 6, emu_args);
    }
    memset(items, 0, sizeof(items));
    struct e2e_direct plan = {.items = items, .profiles = PROFILES};
    sink_produce(&env, RECORDS, e2e_make_event, &plan, where);
    /* At most 1,500 records held per member: a revoke can settle most of them
     * within its deadline (half the 6 s session). */
    struct sink_opts base = {.max_in_flight = 6, .sink_extra = e2e_slow_drain(20, 1500)};
    struct sink_opts opts = e2e_opts(&env, &base);
    long long start = sink_now_ms();
    struct sink_proc m[4];
    const char *names[] = {"member-a", "member-b", "member-c", "member-d"};
    for (int i = 0; i < 3; i++) {
        sink_start(&m[i], &env, names[i], &opts);
    }
    for (int i = 0; i < 3; i++) {
        assert_true(e2e_wait_assigned(&m[i], 60000));
    }
    sink_sleep_ms(3000);
    size_t before_join = e2e_recorded(&env, NULL, NULL, 0);
    sink_start(&m[3], &env, names[3], &opts);
    assert_true(e2e_wait_assigned(&m[3], 60000));
    size_t join_risk = e2e_at_risk(&env, where, RECORDS);
    printf("join: %zu records at CleverTap before it, %zu past the committed offsets after it\n",
           before_join, join_risk);
    sink_sleep_ms(2500);
    size_t join_duplicates = e2e_duplicates(&env, RECORDS);
    printf("join: %zu duplicates at CleverTap 2.5 s later\n", join_duplicates);
    assert_int_equal(sink_stop(&m[1], SIGKILL), 128 + SIGKILL);
    sink_sleep_ms(600); /* requests the dead member left on the wire are answered */
    size_t kill_risk = e2e_at_risk(&env, where, RECORDS);
    printf("kill: %zu records at CleverTap past the committed offsets\n", kill_risk);
    assert_true(sink_wait_committed_to_end(&env, env.group, 240000));
    struct e2e_counts c = {.seconds = (double)(sink_now_ms() - start) / 1000.0};
    int ok = e2e_check(&env, items, RECORDS, &c);
    e2e_report(name, &c);
    json_t *stats = tcb_test_emu_stats(&env.emu);
    double rebalances = sink_metric(&m[3], "tcb_sink_rebalances_total", NULL);
    printf("scenario %s: duplicate bound %zu (join %zu + kill %zu); %lld requests, %lld "
           "answered 429 by the 15-concurrent limit, highest concurrency for one account %lld; "
           "%.0f rebalance callbacks on the joining member\n",
           name, join_risk + kill_risk, join_risk, kill_risk, tcb_test_stat(stats, "requests"),
           tcb_test_stat(stats, "limit_429"), tcb_test_stat(stats, "max_concurrent_seen"),
           rebalances);
    json_decref(stats);
    assert_true(ok);
    assert_int_equal(c.delivered, RECORDS);
    if (real) {
        /* On the mock, whose coordinator refuses the revoke's commits, a join
         * resends what the leaving owner had made final: no bound is claimed. */
        assert_true(c.duplicates <= join_risk + kill_risk);
    }
    for (int i = 0; i < 4; i++) {
        if (i != 1) {
            assert_int_equal(sink_stop(&m[i], SIGTERM), 0);
        }
    }
    sink_env_stop(&env);
}

static void test_members_join_and_die(void **state)
{
    (void)state;
    run_members("members", 1);
}

/* The same on kafka-dev-broker, whose group coordinator refuses commits for
 * the whole of a rebalance: printed beside the real broker's figures. */
static void test_members_on_dev_broker(void **state)
{
    (void)state;
    run_members("members-dev-broker", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_members_join_and_die, sink_teardown),
        cmocka_unit_test_teardown(test_members_on_dev_broker, sink_teardown),
    };
    return E2E_RUN(tests);
}
