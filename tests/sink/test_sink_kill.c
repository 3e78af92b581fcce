/* clevertap-sink killed with SIGKILL at random moments during a drain and
 * restarted: nothing is lost, and the only duplicates are records CleverTap
 * had taken past the last committed offset when the member died (each
 * kill's count is measured right after it: a restart may resend those and
 * nothing else). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/sink/sink_workload.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES 20000
#define KILLS    3

struct risk_ctx {
    const struct sink_env *env;
    const struct workload *w;
    const struct sink_where *where;
};

/* Records at CleverTap whose message is at or past the committed offset. */
static size_t delivered_uncommitted(void *ctx)
{
    const struct risk_ctx *r = ctx;
    const struct sink_env *env = r->env;
    const struct workload *w = r->w;
    const struct sink_where *where = r->where;
    int64_t committed[HARNESS_MAX_PARTITIONS];
    assert_int_equal(sink_committed(env, SINK_GROUP, committed), 0);
    int *seen = calloc(w->count, sizeof(*seen));
    sink_recorded(env, seen, NULL, w->count, NULL);
    size_t n = 0;
    for (size_t i = 0; i < w->count; i++) {
        int64_t c = committed[where[i].partition];
        if (seen[i] > 0 && (c < 0 || where[i].offset >= c)) {
            n += (size_t)seen[i];
        }
    }
    free(seen);
    return n;
}

static void test_sigkill_and_restart(void **state)
{
    (void)state;
    struct sink_env env;
    static const char *const emu_args[] = {"--latency-ms", "20", NULL};
    sink_env_start(&env, 4, emu_args);
    struct workload w = {.count = MESSAGES, .profiles = 500, .poison_every = 500};
    struct sink_where *where = calloc(w.count, sizeof(*where));
    sink_produce(&env, w.count, workload_make, &w, where);
    struct sink_opts opts = {.sink_extra =
                                 "  max_pending_records: 2000\n  max_records_per_message: 1000\n"};
    long long start = sink_now_ms();
    struct risk_ctx ctx = {&env, &w, where};
    /* A join takes 3 s on the mock: kills come 3.5 to 6.5 s after each start. */
    size_t bound =
        sink_kill_cycles(&env, &opts, KILLS, NULL, 3500, 3000, 1000, delivered_uncommitted, &ctx);
    struct sink_proc p;
    sink_start(&p, &env, "survivor", &opts);
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 120000));
    struct outcome_counts c;
    int ok = workload_check(&env, &w, NULL, &c);
    c.seconds = (double)(sink_now_ms() - start) / 1000.0;
    workload_report("sigkill", &c);
    assert_true(ok);
    assert_true(c.duplicates <= bound);
    assert_int_equal(sink_stop(&p, SIGTERM), 0);
    free(where);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigkill_and_restart, sink_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
