/* The retry budget and the DLQ replay: records CleverTap answers 555 for
 * ever are dead-lettered as "exhausted" after clevertap.max_record_attempts
 * requests and the partition moves on; whole-request failures end the same
 * way once clevertap.max_retry_s passed. Then `--replay-dlq` puts them back
 * (a dry run first changes nothing), the sink delivers them, and a second
 * replay finds nothing left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/sink/sink_workload.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MESSAGES 300

static int all_recorded(void *ctx)
{
    int counts[MESSAGES] = {0};
    sink_recorded(ctx, counts, NULL, MESSAGES, NULL);
    for (int i = 0; i < MESSAGES; i++) {
        if (counts[i] == 0) {
            return 0;
        }
    }
    return 1;
}

/* Runs `clevertap-sink --config CONFIG --replay-dlq ARGS`; returns its exit
 * status and its output's last line in summary. */
static int replay(const struct sink_proc *p, const char *args, char *summary, size_t len,
                  size_t *lines)
{
    char cmd[2048];
    const char *dir = getenv("TCB_BIN_DIR");
    snprintf(cmd, sizeof(cmd), "%s/clevertap-sink --config %s --replay-dlq %s 2>>%s",
             dir ? dir : "build/bin", p->config_path, args, p->log_path);
    FILE *out = popen(cmd, "r"); /* NOLINT(cert-env33-c): the test runs the real binary */
    assert_non_null(out);
    char line[1024];
    *lines = 0;
    summary[0] = '\0';
    while (fgets(line, sizeof(line), out)) {
        (*lines)++;
        snprintf(summary, len, "%s", line);
    }
    int status = pclose(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_exhausted_then_replayed(void **state)
{
    (void)state;
    struct sink_env env;
    static const char *const always_555[] = {"--fail-555", "1", NULL};
    sink_env_start(&env, 2, always_555);
    struct workload w = {.count = MESSAGES, .profiles = 30};
    sink_produce(&env, w.count, workload_make, &w, NULL);
    struct sink_opts opts = {.clevertap_extra = "  max_record_attempts: 3\n"};
    struct sink_proc a;
    sink_start(&a, &env, "exhausted", &opts);
    assert_true(sink_wait_dlq(&env, MESSAGES, 60000));
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 30000)); /* the partitions move on */
    size_t n = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(&env, &n);
    assert_int_equal(n, MESSAGES);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(dlq[i].stage, "exhausted");
        assert_int_equal(dlq[i].code, 555);
        assert_int_equal(dlq[i].attempts, 3);
        assert_int_equal(dlq[i].http_status, 200);
        assert_string_equal(dlq[i].account, "one");
        assert_non_null(strstr(dlq[i].value, "\"seq\":")); /* the record itself */
    }
    free(dlq);
    int counts[MESSAGES] = {0};
    assert_int_equal(sink_recorded(&env, counts, NULL, MESSAGES, NULL), 0);

    /* CleverTap recovers; replay what was exhausted. */
    sink_env_restart_emulator(&env, NULL);
    char summary[512];
    size_t lines = 0;
    int64_t before = 0, after = 0;
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(env.broker.bootstrap, SINK_TOPIC, highs), 2);
    before = highs[0] + highs[1];
    assert_int_equal(replay(&a, "--stage exhausted --dry-run", summary, sizeof(summary), &lines),
                     0);
    assert_int_equal(lines, MESSAGES + 1);
    assert_non_null(strstr(summary, "would replay 300 of 300"));
    assert_int_equal(harness_watermarks(env.broker.bootstrap, SINK_TOPIC, highs), 2);
    assert_int_equal(highs[0] + highs[1], before); /* a dry run produces nothing */
    assert_int_equal(replay(&a, "--stage validation", summary, sizeof(summary), &lines), 0);
    assert_non_null(strstr(summary, "replayed 0 of 300"));
    assert_int_equal(replay(&a, "--stage exhausted --limit 100", summary, sizeof(summary), &lines),
                     0);
    assert_non_null(strstr(summary, "replayed 100 of 100"));
    assert_int_equal(replay(&a, "--stage exhausted", summary, sizeof(summary), &lines), 0);
    assert_non_null(strstr(summary, "replayed 200 of 200"));
    assert_int_equal(replay(&a, "--stage exhausted", summary, sizeof(summary), &lines), 0);
    assert_non_null(strstr(summary, "replayed 0 of 0"));
    assert_int_equal(harness_watermarks(env.broker.bootstrap, SINK_TOPIC, highs), 2);
    after = highs[0] + highs[1];
    assert_int_equal(after - before, MESSAGES);
    assert_true(sink_wait(all_recorded, &env, 60000));
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 30000));
    memset(counts, 0, sizeof(counts));
    sink_recorded(&env, counts, NULL, MESSAGES, NULL);
    for (int i = 0; i < MESSAGES; i++) {
        assert_int_equal(counts[i], 1);
    }
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    sink_env_stop(&env);
}

static void test_whole_request_failures_exhaust_after_max_retry_s(void **state)
{
    (void)state;
    struct sink_env env;
    static const char *const always_5xx[] = {"--fail-5xx", "1", NULL};
    sink_env_start(&env, 1, always_5xx);
    struct workload w = {.count = 50, .profiles = 50};
    sink_produce(&env, w.count, workload_make, &w, NULL);
    struct sink_opts opts = {.clevertap_extra = "  max_retry_s: 2\n"};
    struct sink_proc a;
    long long start = sink_now_ms();
    sink_start(&a, &env, "max-retry", &opts);
    assert_true(sink_wait_dlq(&env, 50, 60000));
    assert_true(sink_now_ms() - start >= 2000);
    size_t n = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(&env, &n);
    assert_int_equal(n, 50);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(dlq[i].stage, "exhausted");
        assert_true(dlq[i].http_status == 500 || dlq[i].http_status == 503);
        assert_true(dlq[i].attempts >= 2);
    }
    free(dlq);
    assert_true(sink_wait_committed_to_end(&env, SINK_GROUP, 30000));
    assert_int_equal(sink_stop(&a, SIGTERM), 0);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_exhausted_then_replayed, sink_teardown),
        cmocka_unit_test_teardown(test_whole_request_failures_exhaust_after_max_retry_s,
                                  sink_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
