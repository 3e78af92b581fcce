/* The uploader against the real clevertap-emulator on loopback, one outcome
 * class per test: success, partial with a bad record rejected, 555 retried, 429
 * with back-off, 5xx retried, hang -> timeout retried, dropped connection
 * retried, 401 halting without loss, 400 split isolating the bad record, plus
 * back-pressure and flush. What is checked is what a user would check: each
 * record's outcome and what CleverTap (the emulator) recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/uploader/up_harness.h"

#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAST_RETRIES                                                                               \
    "  retry_initial_ms: 10\n  retry_max_ms: 200\n  auth_retry_ms: 1000\n"                         \
    "  request_timeout_ms: 5000\n  connect_timeout_ms: 2000\n"
#define SMALL_BATCHES   "  batch:\n    max_records: 50\n    linger_ms: 20\n"
#define RUN_DEADLINE_MS 30000

struct fixture {
    struct tcb_test_emu emu;
    struct tcb_config *cfg;
    struct tcb_metrics *metrics;
    struct tcb_uploader *up;
    struct up_outcomes out;
    size_t n;
};

static struct fixture the_fixture; /* static so the teardown can stop a failed test's emulator */

static struct fixture *start(const char *const *emu_args, const char *sink, const char *clevertap,
                             size_t n, size_t max_pending)
{
    struct fixture *f = &the_fixture;
    memset(f, 0, sizeof(*f));
    assert_int_equal(up_emu_start(&f->emu, 0, NULL, emu_args), 0);
    f->cfg = up_config(f->emu.port, 15, sink, clevertap);
    f->metrics = tcb_metrics_create();
    f->n = n;
    up_outcomes_init(&f->out, n);
    struct tcb_uploader_options opts = {
        .cfg = f->cfg,
        .metrics = f->metrics,
        .on_outcome = up_outcomes_cb,
        .ctx = &f->out,
        .max_pending_records = max_pending,
        .seed = 42,
    };
    char err[256] = "";
    f->up = tcb_uploader_create(&opts, err, sizeof(err));
    if (!f->up) {
        fail_msg("uploader: %s", err);
    }
    return f;
}

/* cmocka teardown: frees whatever the test built, also after a failed assertion. */
static int teardown(void **state)
{
    (void)state;
    struct fixture *f = &the_fixture;
    tcb_uploader_destroy(f->up);
    int emu_rc = f->emu.pid > 0 ? up_emu_stop(&f->emu) : 0;
    if (f->emu.dir[0]) {
        tcb_test_emu_cleanup(&f->emu);
    }
    tcb_metrics_destroy(f->metrics);
    tcb_config_destroy(f->cfg);
    up_outcomes_free(&f->out);
    memset(f, 0, sizeof(*f));
    return emu_rc; /* the emulator must have stopped cleanly */
}

static void submit_events(struct fixture *f, size_t from, size_t to, int keys)
{
    char buf[512];
    for (size_t i = from; i < to; i++) {
        size_t len = up_event(buf, sizeof(buf), (long)i, (int)(i % (size_t)keys));
        struct tcb_upload_tag tag = {.partition = 0, .offset = (int64_t)i};
        char key_text[32];
        snprintf(key_text, sizeof(key_text), "user-%zu", i % (size_t)keys);
        uint64_t key = tcb_upload_key_hash(key_text, strlen(key_text));
        assert_int_equal(
            tcb_uploader_submit(f->up, &f->cfg->clevertap.accounts[0], buf, len, key, &tag), 0);
    }
}

/* Every record accepted exactly once, in the uploader's outcomes and in what the
 * emulator recorded. Returns how many records needed more than one attempt. */
static size_t expect_all_accepted_once(struct fixture *f)
{
    assert_int_equal(up_run_until(f->up, &f->out, f->n, RUN_DEADLINE_MS), f->n);
    int *recorded = calloc(f->n, sizeof(int));
    assert_non_null(recorded);
    up_recorded(&f->emu, recorded, f->n, NULL);
    size_t retried = 0;
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(f->out.count[i], 1);
        assert_int_equal(f->out.result[i], TCB_UPLOAD_ACCEPTED);
        assert_int_equal(recorded[i], 1);
        retried += f->out.attempts[i] > 1 ? 1 : 0;
    }
    free(recorded);
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(f->up, &stats);
    assert_int_equal(stats.pending_records, 0);
    assert_int_equal(stats.in_flight_requests, 0);
    return retried;
}

static double metric_sum(struct tcb_metrics *metrics, const char *name)
{
    size_t len = 0;
    char *text = tcb_metrics_render(metrics, &len);
    double sum = 0;
    size_t name_len = strlen(name);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, name, name_len) == 0 &&
            (line[name_len] == '{' || line[name_len] == ' ')) {
            const char *value = strrchr(line, ' ');
            sum += value ? strtod(value + 1, NULL) : 0;
        }
    }
    free(text);
    return sum;
}

static void test_success(void **state)
{
    (void)state;
    struct fixture *f = start(NULL, "  batch:\n    linger_ms: 20\n", FAST_RETRIES, 2500, 0);
    submit_events(f, 0, f->n, 100);
    assert_int_equal(expect_all_accepted_once(f), 0);
    /* At most 1000 records per request: 2500 records need at least 3 requests. */
    assert_true(up_emu_stat(&f->emu, "status", "200") >= 3);
    long concurrent = up_emu_stat(&f->emu, "accounts", "max_concurrent_seen");
    assert_true(concurrent >= 1 && concurrent <= 15);
    assert_true(metric_sum(f->metrics, "tcb_upload_records_accepted_total") == 2500);
}

static void test_partial_rejects_bad_records(void **state)
{
    (void)state;
    struct fixture *f = start(NULL, SMALL_BATCHES, FAST_RETRIES, 20, 0);
    char buf[512];
    for (size_t i = 0; i < f->n; i++) {
        size_t len = up_event(buf, sizeof(buf), (long)i, (int)i);
        if (i % 5 == 3) { /* a reserved system event: CleverTap answers code 513 */
            len = (size_t)snprintf(buf, sizeof(buf),
                                   "{\"type\":\"event\",\"identity\":\"u%zu\",\"evtName\":\"App "
                                   "Launched\",\"evtData\":{\"seq\":%zu}}",
                                   i, i);
        }
        struct tcb_upload_tag tag = {.offset = (int64_t)i};
        assert_int_equal(
            tcb_uploader_submit(f->up, &f->cfg->clevertap.accounts[0], buf, len, 0, &tag), 0);
    }
    assert_int_equal(up_run_until(f->up, &f->out, f->n, RUN_DEADLINE_MS), f->n);
    int recorded[20] = {0};
    up_recorded(&f->emu, recorded, f->n, NULL);
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(f->out.count[i], 1);
        if (i % 5 == 3) {
            assert_int_equal(f->out.result[i], TCB_UPLOAD_REJECTED);
            assert_int_equal(f->out.code[i], 513);
            assert_int_equal(f->out.http_status[i], 200);
            assert_int_equal(recorded[i], 0);
        } else {
            assert_int_equal(f->out.result[i], TCB_UPLOAD_ACCEPTED);
            assert_int_equal(recorded[i], 1);
        }
        assert_int_equal(f->out.attempts[i], 1);
    }
    assert_true(metric_sum(f->metrics, "tcb_upload_records_rejected_total") == 4);
}

/* Uploads n events (n/10 keys) in small batches through an emulator started with
 * args; every record must arrive exactly once. Returns how many needed retries. */
static size_t run_faulty(const char *const *args, const char *clevertap, size_t n)
{
    struct fixture *f = start(args, SMALL_BATCHES, clevertap, n, 0);
    submit_events(f, 0, n, (int)(n / 10));
    return expect_all_accepted_once(f);
}

static void test_555_retried(void **state)
{
    (void)state;
    const char *const args[] = {"--fail-555", "0.3", "--seed", "7", NULL};
    assert_true(run_faulty(args, FAST_RETRIES, 300) > 0);
}

static void test_429_backs_off(void **state)
{
    (void)state;
    const char *const args[] = {"--fail-429", "0.5", "--seed", "3", NULL};
    assert_true(run_faulty(args, FAST_RETRIES, 500) > 0);
    assert_true(up_emu_stat(&the_fixture.emu, "status", "429") > 0);
    assert_true(metric_sum(the_fixture.metrics, "tcb_upload_throttled_total") > 0);
}

static void test_concurrency_limit_429(void **state)
{
    (void)state;
    /* The emulator allows 2 concurrent requests, the account claims 15: the cap
     * comes down on 429 and everything still arrives once. */
    const char *const args[] = {"--max-concurrent", "2", "--latency-ms", "20", NULL};
    struct fixture *f =
        start(args, "  batch:\n    max_records: 10\n    linger_ms: 5\n", FAST_RETRIES, 400, 0);
    submit_events(f, 0, f->n, 400);
    expect_all_accepted_once(f);
    assert_true(up_emu_stat(&f->emu, "status", "429") > 0);
    assert_true(metric_sum(f->metrics, "tcb_upload_throttled_total") > 0);
}

static void test_5xx_retried(void **state)
{
    (void)state;
    const char *const args[] = {"--fail-5xx", "0.5", "--seed", "11", NULL};
    assert_true(run_faulty(args, FAST_RETRIES, 500) > 0);
    assert_true(metric_sum(the_fixture.metrics, "tcb_upload_retries_total") > 0);
}

static void test_hang_times_out_and_retries(void **state)
{
    (void)state;
    /* Hung requests are held 3 s; the uploader gives up after 1 s (a healthy
     * answer takes milliseconds, even under sanitizers on a busy machine). */
    const char *const args[] = {"--hang", "0.4", "--hang-ms", "3000", "--seed", "5", NULL};
    assert_true(run_faulty(args,
                           "  retry_initial_ms: 10\n  retry_max_ms: 100\n"
                           "  request_timeout_ms: 1000\n",
                           100) > 0);
}

static void test_drop_retried(void **state)
{
    (void)state;
    const char *const args[] = {"--drop", "0.4", "--seed", "9", NULL};
    /* curl itself resends once when a reused connection dies before any answer;
     * either way every record arrives exactly once. */
    run_faulty(args, FAST_RETRIES, 300);
    assert_true(up_emu_stat(&the_fixture.emu, NULL, "dropped") > 0);
}

static void test_401_halts_without_loss(void **state)
{
    (void)state;
    struct fixture *f = &the_fixture;
    memset(f, 0, sizeof(*f));
    /* Everything the uploader logs, at debug, goes to a file we search for the secret. */
    FILE *log = tmpfile();
    assert_non_null(log);
    tcb_log_setup("test-uploader", TCB_LOG_DEBUG, TCB_LOG_FORMAT_JSON);
    tcb_log_set_stream(log);
    /* The emulator knows the account under another passcode: every upload is 401. */
    assert_int_equal(up_emu_start(&f->emu, 0, "rotated-passcode", NULL), 0);
    int port = f->emu.port;
    f->cfg = up_config(port, 5, SMALL_BATCHES, FAST_RETRIES);
    f->n = 100;
    up_outcomes_init(&f->out, f->n);
    struct tcb_uploader_options opts = {
        .cfg = f->cfg, .on_outcome = up_outcomes_cb, .ctx = &f->out};
    char err[256];
    f->up = tcb_uploader_create(&opts, err, sizeof(err));
    assert_non_null(f->up);
    submit_events(f, 0, f->n, 10);
    assert_int_equal(tcb_uploader_ready(f->up, err, sizeof(err)), 1);
    up_run_until(f->up, &f->out, f->n, 2500);

    char why[256] = "";
    assert_int_equal(f->out.finals, 0); /* nothing dropped, nothing rejected */
    assert_int_equal(tcb_uploader_ready(f->up, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "shop"));
    assert_null(strstr(why, UP_PASSCODE));
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(f->up, &stats);
    assert_int_equal(stats.pending_records, f->n);
    assert_int_equal(stats.halted_accounts, 1);
    /* Halted means slow probes, not a request storm. */
    long probes = up_emu_stat(&f->emu, "status", "401");
    assert_true(probes >= 2 && probes <= 6);

    /* The operator fixes the credentials: the same records go through. */
    assert_int_equal(up_emu_stop(&f->emu), 0);
    assert_int_equal(up_emu_start(&f->emu, port, NULL, NULL), 0);
    expect_all_accepted_once(f);
    assert_int_equal(tcb_uploader_ready(f->up, why, sizeof(why)), 1);

    tcb_log_set_stream(NULL);
    tcb_log_setup("test-uploader", TCB_LOG_ERROR, TCB_LOG_FORMAT_LOGFMT);
    char line[4096];
    int halted_logged = 0;
    rewind(log);
    while (fgets(line, sizeof(line), log)) {
        assert_null(strstr(line, UP_PASSCODE));
        assert_null(strstr(line, "user-")); /* no identities either */
        halted_logged |= strstr(line, "upload.halted") != NULL;
    }
    fclose(log);
    assert_true(halted_logged);
}

static void test_400_split_isolates_bad_record(void **state)
{
    (void)state;
    struct fixture *f =
        start(NULL, "  batch:\n    max_records: 16\n    linger_ms: 20\n", FAST_RETRIES, 16, 0);
    char buf[512];
    for (size_t i = 0; i < f->n; i++) {
        size_t len = up_event(buf, sizeof(buf), (long)i, (int)i);
        if (i == 6) {
            len = (size_t)snprintf(buf, sizeof(buf), "{\"type\":\"event\",\"evtData\":{");
        }
        struct tcb_upload_tag tag = {.offset = (int64_t)i};
        assert_int_equal(
            tcb_uploader_submit(f->up, &f->cfg->clevertap.accounts[0], buf, len, 0, &tag), 0);
    }
    assert_int_equal(up_run_until(f->up, &f->out, f->n, RUN_DEADLINE_MS), f->n);
    int recorded[16] = {0};
    up_recorded(&f->emu, recorded, f->n, NULL);
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(f->out.count[i], 1);
        if (i == 6) {
            assert_int_equal(f->out.result[i], TCB_UPLOAD_REJECTED);
            assert_int_equal(f->out.http_status[i], 400);
            /* 16 -> 8 -> 4 -> 2 -> 1: five requests carried it. */
            assert_int_equal(f->out.attempts[i], 5);
        } else {
            assert_int_equal(f->out.result[i], TCB_UPLOAD_ACCEPTED);
            assert_int_equal(recorded[i], 1);
        }
    }
}

static void test_backpressure_and_flush(void **state)
{
    (void)state;
    /* Every request hangs: nothing can finish, flush abandons all of it. */
    const char *const args[] = {"--hang", "1", "--hang-ms", "5000", NULL};
    struct fixture *f = start(args, SMALL_BATCHES, FAST_RETRIES, 101, 100);
    submit_events(f, 0, 100, 10);
    char buf[512];
    size_t len = up_event(buf, sizeof(buf), 100, 1);
    struct tcb_upload_tag tag = {.offset = 100};
    const struct tcb_account *account = &f->cfg->clevertap.accounts[0];
    assert_int_equal(tcb_uploader_submit(f->up, account, buf, len, 0, &tag), TCB_UPLOAD_FULL);
    char *huge = malloc(2 * 1024 * 1024);
    assert_non_null(huge);
    memset(huge, ' ', 2 * 1024 * 1024);
    assert_int_equal(tcb_uploader_submit(f->up, account, huge, 2 * 1024 * 1024, 0, &tag),
                     TCB_UPLOAD_TOO_LARGE);
    free(huge);
    struct tcb_account stranger = {.name = "x", .account_id = "NOT-KNOWN"};
    assert_int_equal(tcb_uploader_submit(f->up, &stranger, buf, len, 0, &tag),
                     TCB_UPLOAD_BAD_ACCOUNT);

    up_run_until(f->up, &f->out, 1, 300);
    assert_int_equal(tcb_uploader_flush(f->up, 300), 100);
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(f->out.count[i], 0);
        assert_int_equal(f->out.abandoned[i], 1);
    }
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(f->up, &stats);
    assert_int_equal(stats.pending_records, 0);
    assert_int_equal(stats.in_flight_requests, 0);
    /* Room again after the flush. */
    assert_int_equal(tcb_uploader_submit(f->up, account, buf, len, 0, &tag), 0);
    assert_int_equal(tcb_uploader_flush(f->up, 0), 1);
}

static void test_halted_account_leaves_room_for_others(void **state)
{
    (void)state;
    struct fixture *f = &the_fixture;
    memset(f, 0, sizeof(*f));
    assert_int_equal(up_emu_start(&f->emu, 0, NULL, NULL), 0);
    /* A second account the emulator does not know: it halts on 401. */
    char accounts[512];
    snprintf(accounts, sizeof(accounts),
             "    - name: \"other\"\n      account_id: \"OTHER-ACC-1\"\n"
             "      passcode: \"other-passcode\"\n      region: \"eu1\"\n"
             "      endpoint: \"http://127.0.0.1:%d\"\n%s",
             f->emu.port, FAST_RETRIES);
    f->cfg = up_config(f->emu.port, 5, SMALL_BATCHES, accounts);
    f->n = 1000;
    up_outcomes_init(&f->out, f->n);
    struct tcb_uploader_options opts = {
        .cfg = f->cfg, .on_outcome = up_outcomes_cb, .ctx = &f->out, .max_pending_records = 1000};
    char err[256];
    f->up = tcb_uploader_create(&opts, err, sizeof(err));
    assert_non_null(f->up);
    const struct tcb_account *shop = &f->cfg->clevertap.accounts[0];
    const struct tcb_account *other = &f->cfg->clevertap.accounts[1];
    char buf[512];
    size_t i = 0;
    for (;; i++) {
        size_t len = up_event(buf, sizeof(buf), (long)i, (int)i);
        struct tcb_upload_tag tag = {.offset = (int64_t)i};
        if (tcb_uploader_submit(f->up, other, buf, len, 0, &tag) != 0) {
            break;
        }
    }
    assert_int_equal(i, 750); /* three quarters of the budget */
    size_t shop_from = i;
    for (; i < f->n; i++) {
        size_t len = up_event(buf, sizeof(buf), (long)i, (int)i);
        struct tcb_upload_tag tag = {.offset = (int64_t)i};
        assert_int_equal(tcb_uploader_submit(f->up, shop, buf, len, 0, &tag), 0);
    }
    assert_int_equal(up_run_until(f->up, &f->out, f->n - shop_from, RUN_DEADLINE_MS),
                     f->n - shop_from);
    for (i = 0; i < f->n; i++) {
        assert_int_equal(f->out.count[i], i < shop_from ? 0 : 1);
    }
    assert_int_equal(tcb_uploader_ready(f->up, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "other"));
    assert_int_equal(tcb_uploader_flush(f->up, 0), shop_from);
}

static void test_flush_partitions_for_revoke(void **state)
{
    (void)state;
    /* Slow answers keep requests on the wire while partition 1 is revoked. */
    const char *const args[] = {"--latency-ms", "300", NULL};
    struct fixture *f =
        start(args, "  batch:\n    max_records: 10\n    linger_ms: 0\n", FAST_RETRIES, 200, 0);
    char buf[512];
    for (size_t i = 0; i < f->n; i++) {
        size_t len = up_event(buf, sizeof(buf), (long)i, (int)i);
        struct tcb_upload_tag tag = {.partition = (int32_t)(i % 2), .offset = (int64_t)i};
        assert_int_equal(
            tcb_uploader_submit(f->up, &f->cfg->clevertap.accounts[0], buf, len, 0, &tag), 0);
    }
    assert_true(tcb_uploader_run(f->up, 50) >= 0);
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(f->up, &stats);
    assert_true(stats.in_flight_requests > 0);

    const int32_t revoked[] = {1};
    assert_int_equal(tcb_uploader_flush_partitions(f->up, 0, revoked, 1), 100);
    /* Partition 0 goes on; partition 1 heard ABANDONED once and nothing after. */
    assert_int_equal(up_run_until(f->up, &f->out, 100, RUN_DEADLINE_MS), 100);
    for (int i = 0; i < 100 && stats.pending_records > 0; i++) {
        assert_true(tcb_uploader_run(f->up, 50) >= 0);
        tcb_uploader_stats(f->up, &stats);
    }
    assert_int_equal(stats.pending_records, 0);
    for (size_t i = 0; i < f->n; i++) {
        if (i % 2 == 0) {
            assert_int_equal(f->out.count[i], 1);
            assert_int_equal(f->out.result[i], TCB_UPLOAD_ACCEPTED);
            assert_int_equal(f->out.abandoned[i], 0);
        } else {
            assert_int_equal(f->out.count[i], 0);
            assert_int_equal(f->out.abandoned[i], 1);
        }
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcb_log_setup("test-uploader", TCB_LOG_ERROR, TCB_LOG_FORMAT_LOGFMT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_success, teardown),
        cmocka_unit_test_teardown(test_partial_rejects_bad_records, teardown),
        cmocka_unit_test_teardown(test_555_retried, teardown),
        cmocka_unit_test_teardown(test_429_backs_off, teardown),
        cmocka_unit_test_teardown(test_concurrency_limit_429, teardown),
        cmocka_unit_test_teardown(test_5xx_retried, teardown),
        cmocka_unit_test_teardown(test_hang_times_out_and_retries, teardown),
        cmocka_unit_test_teardown(test_drop_retried, teardown),
        cmocka_unit_test_teardown(test_401_halts_without_loss, teardown),
        cmocka_unit_test_teardown(test_400_split_isolates_bad_record, teardown),
        cmocka_unit_test_teardown(test_backpressure_and_flush, teardown),
        cmocka_unit_test_teardown(test_halted_account_leaves_room_for_others, teardown),
        cmocka_unit_test_teardown(test_flush_partitions_for_revoke, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
