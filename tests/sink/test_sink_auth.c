/* A CleverTap account with a wrong passcode (HTTP 401): its records are
 * neither uploaded, dead-lettered nor committed, the member reports not
 * ready, the other account keeps flowing; once the passcode is fixed and the
 * member restarted, every record arrives. And a stop while every request
 * hangs: the member exits within sink.shutdown_timeout_ms and commits nothing
 * that CleverTap did not take. And a fatal Kafka error: exit 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/sink/sink_workload.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES 2000

struct progress {
    const struct sink_env *env;
    const struct workload *w;
};

/* Every valid message of account "one" (even identities) arrived. */
static int account_one_done(void *ctx)
{
    struct progress *p = ctx;
    int *seen = calloc(p->w->count, sizeof(*seen));
    sink_recorded(p->env, seen, NULL, p->w->count, NULL);
    int done = 1;
    for (size_t i = 0; i < p->w->count; i++) {
        int two = (i % (size_t)p->w->profiles) % 2 == 1;
        done &= two || workload_poison(p->w, i) || seen[i] > 0;
    }
    free(seen);
    return done;
}

static void test_wrong_passcode_then_fixed(void **state)
{
    (void)state;
    struct sink_env env;
    sink_env_start(&env, 4, NULL);
    struct workload w = {.count = MESSAGES,
                         .profiles = 40,
                         .two_accounts = 1,
                         .account_per_partition = 1,
                         .partitions = 4};
    sink_produce(&env, w.count, workload_make, &w, NULL);
    struct sink_opts wrong = {.passcode_2 = "not-the-passcode"};
    struct sink_proc a;
    sink_start(&a, &env, "wrong-passcode", &wrong);
    struct progress p = {&env, &w};
    assert_true(sink_wait(account_one_done, &p, 60000));
    sink_sleep_ms(2000); /* probes of the halted account go on meanwhile */

    int *seen = calloc(w.count, sizeof(*seen));
    char *accounts = calloc(w.count, 1);
    sink_recorded(&env, seen, accounts, w.count, NULL);
    for (size_t i = 0; i < w.count; i++) {
        int two = (i % (size_t)w.profiles) % 2 == 1;
        assert_int_equal(seen[i], two ? 0 : 1);
    }
    size_t dlq_count = 0;
    free(sink_read_dlq(&env, &dlq_count));
    assert_int_equal(dlq_count, 0); /* auth errors never dead-letter */
    int64_t committed[HARNESS_MAX_PARTITIONS];
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(sink_committed(&env, SINK_GROUP, committed), 0);
    assert_int_equal(harness_watermarks(env.broker.bootstrap, SINK_TOPIC, highs), 4);
    assert_int_equal(committed[0], highs[0]); /* account one's partitions: all final */
    assert_int_equal(committed[1], highs[1]);
    assert_true(committed[2] <= 0); /* account two's: nothing committed */
    assert_true(committed[3] <= 0);
    char body[512];
    assert_int_equal(sink_http_get(&a, "/readyz", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "two"));
    assert_true(sink_metric(&a, "tcb_upload_account_halted", "account=\"two\"") == 1);
    assert_int_equal(sink_stop(&a, SIGTERM), 0);

    struct sink_proc b;
    sink_start(&b, &env, "fixed-passcode", NULL);
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 60000));
    memset(seen, 0, w.count * sizeof(*seen));
    sink_recorded(&env, seen, accounts, w.count, NULL);
    for (size_t i = 0; i < w.count; i++) {
        assert_int_equal(seen[i], 1);
    }
    assert_int_equal(sink_http_get(&b, "/readyz", body, sizeof(body)), 200);
    assert_int_equal(sink_stop(&b, SIGTERM), 0);
    free(seen);
    free(accounts);
    sink_env_stop(&env);
}

static void test_stop_while_requests_hang(void **state)
{
    (void)state;
    struct sink_env env;
    static const char *const emu_args[] = {"--hang", "1", NULL};
    sink_env_start(&env, 2, emu_args);
    struct workload w = {.count = 200, .profiles = 50};
    sink_produce(&env, w.count, workload_make, &w, NULL);
    struct sink_opts opts = {.shutdown_timeout_ms = 2000, .request_timeout_ms = 60000};
    struct sink_proc a;
    sink_start(&a, &env, "hung", &opts);
    for (long long end = sink_now_ms() + 20000; sink_now_ms() < end; sink_sleep_ms(100)) {
        if (sink_metric(&a, "tcb_upload_in_flight_requests", NULL) > 0) {
            break;
        }
    }
    long long before = sink_now_ms();
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    long long took = sink_now_ms() - before;
    printf("stop with hung requests took %lld ms (shutdown_timeout_ms 2000)\n", took);
    assert_true(took < 2000 + 6000); /* the deadline, plus leaving the group */
    int64_t committed[HARNESS_MAX_PARTITIONS];
    assert_int_equal(sink_committed(&env, SINK_GROUP, committed), 0);
    assert_true(committed[0] <= 0 && committed[1] <= 0);
    sink_env_stop(&env);
}

/* A fatal Kafka error (here the dead-letter producer's idempotence broken by
 * the broker) stops the member with exit 1, and the message whose dead letter
 * was never acknowledged stays uncommitted. */
static void test_fatal_kafka_error_exits_1(void **state)
{
    (void)state;
    struct sink_env env;
    sink_env_start(&env, 1, NULL);
    struct workload w = {.count = 10, .profiles = 5, .poison_every = 5};
    sink_produce(&env, w.count, workload_make, &w, NULL);
    /* Produce requests fail with OUT_OF_ORDER_SEQUENCE_NUMBER (45): fatal to
     * an idempotent producer. */
    assert_true(harness_broker_command(&env.broker, "err 0 45 45 45 45 45 45 45 45"));
    struct sink_proc a;
    sink_start(&a, &env, "fatal", NULL);
    assert_int_equal(sink_wait_exit(&a, 30000), 1);
    int64_t committed[HARNESS_MAX_PARTITIONS];
    assert_int_equal(sink_committed(&env, SINK_GROUP, committed), 0);
    assert_true(committed[0] <= 4); /* message 4 is the first poison one */
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_wrong_passcode_then_fixed, sink_teardown),
        cmocka_unit_test_teardown(test_stop_while_requests_hang, sink_teardown),
        cmocka_unit_test_teardown(test_fatal_kafka_error_exits_1, sink_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
