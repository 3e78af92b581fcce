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
    struct sink_opts base = {.max_in_flight = 4,
                             .sink_extra =
                                 "  batch: { max_records: 50, linger_ms: 20 }\n"
                                 "  max_pending_records: 3000\n  max_records_per_message: 1000\n"};
    struct sink_opts opts = e2e_opts(&env, &base);
    unsigned seed = (unsigned)sink_now_ms();
    printf("kill timing seed %u\n", seed);
    long long start = sink_now_ms();
    size_t bound = 0;
    struct sink_proc p;
    for (int k = 0; k < KILLS; k++) {
        sink_start(&p, &env, "killed", &opts);
        if (!e2e_wait_assigned(&p, 60000)) {
            sink_print_log(&p);
            fail_msg("member %d got no partitions", k + 1);
        }
        sink_sleep_ms(300 + (int)(rand_r(&seed) % 2700));
        assert_int_equal(sink_stop(&p, SIGKILL), 128 + SIGKILL);
        sink_sleep_ms(600); /* requests the dead member left on the wire are answered */
        size_t at_risk = e2e_at_risk(&env, where, RECORDS);
        int lines = (int)e2e_recorded(&env, NULL, NULL, 0);
        printf("kill %d: %d records at CleverTap, %zu past the committed offsets\n", k + 1, lines,
               at_risk);
        bound += at_risk;
    }
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
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
