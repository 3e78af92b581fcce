/* Reliability scenario 2 on the real broker: clevertap-sink killed with
 * SIGKILL five times at random moments of a 50,000-record drain (each time
 * once it holds partitions and is uploading) and started again. Nothing is
 * lost, offsets end committed to the end, and the duplicates stay within the
 * bound measured at each kill: the records CleverTap had taken past the
 * group's committed offsets when the member died (a restart starts from the
 * committed offset, so it may send those again and nothing else). */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS 50000
#define KILLS   5

static struct e2e_item items[RECORDS];
static struct sink_where where[RECORDS];

static int holds_partitions(const struct sink_proc *p)
{
    return e2e_wait_assigned(p, 60000);
}

static size_t at_risk(void *ctx)
{
    return e2e_at_risk(ctx, where, RECORDS);
}

static void test_sigkill_during_drain(void **state)
{
    (void)state;
    struct sink_env env;
    /* 4 requests of at most 50 records per account, each answered after 250 ms:
     * about 2,400 records/s, so the drain outlasts the kills. */
    static const char *const emu_args[] = {"--latency-ms", "250", NULL};
    e2e_env_start(&env, "sigkill", 6, emu_args, NULL);
    struct e2e_direct plan = {.items = items, .profiles = 1000};
    sink_produce(&env, RECORDS, e2e_make_event, &plan, where);
    struct sink_opts base = {.max_in_flight = 4, .sink_extra = e2e_slow_drain(50, 3000)};
    struct sink_opts opts = e2e_opts(&env, &base);
    long long start = sink_now_ms();
    /* Each kill comes 0.3 to 3 s after the member holds partitions. */
    size_t bound =
        sink_kill_cycles(&env, &opts, KILLS, holds_partitions, 300, 2700, 600, at_risk, &env);
    struct sink_proc p;
    sink_start(&p, &env, "survivor", &opts);
    assert_true(sink_wait_committed_to_end(&env, env.group, 180000));
    struct e2e_counts c = {.seconds = (double)(sink_now_ms() - start) / 1000.0};
    int ok = e2e_check(&env, items, RECORDS, &c);
    e2e_report("sigkill", &c);
    printf("scenario sigkill: duplicate bound %zu (records past the committed offsets at the "
           "kills)\n",
           bound);
    assert_true(ok);
    assert_int_equal(c.delivered, RECORDS);
    assert_true(c.duplicates <= bound);
    assert_int_equal(sink_stop(&p, SIGTERM), 0);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigkill_during_drain, sink_teardown),
    };
    return E2E_RUN(tests);
}
