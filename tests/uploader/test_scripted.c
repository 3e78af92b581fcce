/* The uploader against a scripted HTTP peer for answers the emulator does not
 * give: the request's headers, Retry-After honoured, 403 halting and probing at
 * auth_retry_ms, an unreadable or ambiguous 200 answer resent in halves (a lone record within its
 * attempt budget), all-or-nothing submits, and 404 halting the account like 403 (a
 * wrong endpoint) rather than split down to single-record rejections; records a revoke or a
 * shutdown abandoned are never sent again, and keyed ordering survives both. Time is only checked
 * as a lower bound the uploader promises (it waited at least that long). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/uploader/script_server.h"
#include "tests/uploader/up_harness.h"

#include "common/log.h"
#include "config/config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct scripted {
    struct script_server *server;
    struct tcb_config *cfg;
    struct tcb_uploader *up;
    struct up_outcomes out;
    struct script_request req[SCRIPT_MAX_REQUESTS];
    size_t req_count;
};

static struct scripted the_case; /* static so the teardown can free a failed test's pieces */

/* Starts the peer and an uploader (batches of up to `batch`, linger 0, plus the
 * sink YAML lines in extra_sink) with room for `records` outcomes. flags: a
 * second account "other" (another id, the same peer), clevertap.retry_after_max_s 0. */
enum { OTHER_ACCOUNT = 1, NO_RETRY_AFTER = 2 };
static struct scripted *start(const struct script_reply *replies, size_t count, size_t records,
                              size_t batch, const char *extra_sink, int flags)
{
    struct scripted *c = &the_case;
    memset(c, 0, sizeof(*c));
    c->server = script_server_start(replies, count, UP_ACCOUNT_ID, UP_PASSCODE);
    assert_non_null(c->server);
    int port = script_server_port(c->server);
    char sink[256];
    snprintf(sink, sizeof(sink), "  batch:\n    max_records: %zu\n    linger_ms: 0\n%s", batch,
             extra_sink);
    char clevertap[512];
    int used = 0;
    if (flags & OTHER_ACCOUNT) {
        used = snprintf(clevertap, sizeof(clevertap),
                        "    - name: \"other\"\n      account_id: \"OTHER-ACC-1\"\n"
                        "      passcode: \"other-passcode\"\n      region: \"eu1\"\n"
                        "      endpoint: \"http://127.0.0.1:%d\"\n",
                        port);
    }
    snprintf(clevertap + used, sizeof(clevertap) - (size_t)used, "%s%s",
             "  retry_initial_ms: 1\n  retry_max_ms: 20\n  auth_retry_ms: 1000\n",
             flags & NO_RETRY_AFTER ? "  retry_after_max_s: 0\n" : "");
    c->cfg = up_config(port, 5, sink, clevertap);
    up_outcomes_init(&c->out, records);
    struct tcb_uploader_options opts = {
        .cfg = c->cfg, .on_outcome = up_outcomes_cb, .ctx = &c->out, .seed = 1};
    char err[256] = "";
    c->up = tcb_uploader_create(&opts, err, sizeof(err));
    assert_non_null(c->up);
    return c;
}

/* Submits event `id` (offset id, identity "user-<id>") to configured account
 * number `account` with the given partition and key. */
static void submit(struct scripted *c, size_t account, long id, int32_t partition, uint64_t key)
{
    char buf[256];
    size_t len = up_event(buf, sizeof(buf), id, (int)id);
    struct tcb_upload_tag tag = {.partition = partition, .offset = (int64_t)id};
    assert_int_equal(
        tcb_uploader_submit(c->up, &c->cfg->clevertap.accounts[account], buf, len, key, &tag), 0);
}

/* start() without ordering keys, and `records` events submitted (tag partition
 * alternating 0, 1; offset = index). */
static struct scripted *begin(const struct script_reply *replies, size_t count, size_t records,
                              size_t batch)
{
    struct scripted *c = start(replies, count, records, batch, "", 0);
    for (size_t i = 0; i < records; i++) {
        submit(c, 0, (long)i, (int32_t)(i % 2), 0);
    }
    return c;
}

static void finish(struct scripted *c, size_t records)
{
    assert_int_equal(up_run_until(c->up, &c->out, records, 20000), records);
    c->req_count = script_server_requests(c->server, c->req, SCRIPT_MAX_REQUESTS);
    for (size_t i = 0; i < c->req_count; i++) {
        assert_true(c->req[i].headers_ok);
    }
}

static int teardown(void **state)
{
    (void)state;
    struct scripted *c = &the_case;
    tcb_uploader_destroy(c->up);
    script_server_stop(c->server);
    tcb_config_destroy(c->cfg);
    up_outcomes_free(&c->out);
    memset(c, 0, sizeof(*c));
    return 0;
}

static void test_retry_after_honoured(void **state)
{
    (void)state;
    static const struct script_reply replies[] = {
        {.status = 429, .retry_after = "1", .body = "Too many concurrent requests"},
    };
    struct scripted *c = begin(replies, 1, 3, 10);
    finish(c, 3);
    assert_int_equal(c->req_count, 2);
    assert_int_equal(c->req[0].records, 3);
    assert_true(c->req[1].at_ms - c->req[0].at_ms >= 1000); /* not before Retry-After */
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(c->out.result[i], TCB_UPLOAD_ACCEPTED);
        assert_int_equal(c->out.attempts[i], 2);
    }
}

static void test_retry_after_max_zero_ignores_header(void **state)
{
    (void)state;
    /* retry_after_max_s: 0 honours no Retry-After: the retry follows the ordinary
     * back-off (retry_max_ms 20 here), not the hour the header asks for. */
    static const struct script_reply replies[] = {
        {.status = 429, .retry_after = "3600", .body = "Too many concurrent requests"},
    };
    struct scripted *c = start(replies, 1, 3, 10, "", NO_RETRY_AFTER);
    for (long i = 0; i < 3; i++) {
        submit(c, 0, i, 0, 0);
    }
    finish(c, 3);
    assert_int_equal(c->req_count, 2);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(c->out.result[i], TCB_UPLOAD_ACCEPTED);
    }
}

static void test_unreadable_200_resent_in_halves(void **state)
{
    (void)state;
    static const struct script_reply replies[] = {
        {.status = 200, .body = "<html><body>OK</body></html>"},
    };
    struct scripted *c = begin(replies, 1, 4, 4);
    finish(c, 4);
    assert_int_equal(c->req_count, 3);
    assert_int_equal(c->req[0].records, 4);
    assert_int_equal(c->req[1].records, 2);
    assert_int_equal(c->req[2].records, 2);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c->out.result[i], TCB_UPLOAD_ACCEPTED);
    }
}

/* A 200 whose processed count does not add up to the records sent is
 * ambiguous: no record counts as accepted until an answer accounts for it. */
static void test_ambiguous_count_resent_in_halves(void **state)
{
    (void)state;
    static const struct script_reply replies[] = {
        {.status = 200, .body = "{\"status\":\"success\",\"processed\":3,\"unprocessed\":[]}"},
    };
    struct scripted *c = begin(replies, 1, 4, 4);
    finish(c, 4);
    assert_int_equal(c->req_count, 3);
    assert_int_equal(c->req[1].records + c->req[2].records, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c->out.result[i], TCB_UPLOAD_ACCEPTED);
        assert_int_equal(c->out.attempts[i], 2);
    }
}

/* A "fail" must name every record: one that names only the first of two
 * leaves the second's fate unknown, so both go again, one by one. */
static void test_fail_naming_one_of_two_is_ambiguous(void **state)
{
    (void)state;
    static const struct script_reply replies[] = {
        {.status = 200,
         .body = "{\"status\":\"fail\",\"processed\":1,\"unprocessed\":[{\"status\":\"fail\","
                 "\"code\":515,\"error\":\"Email is not valid.Skipped record number : 1\"}]}"},
    };
    struct scripted *c = begin(replies, 1, 2, 2);
    finish(c, 2);
    assert_int_equal(c->req_count, 3);
    assert_int_equal(c->req[1].records, 1);
    assert_int_equal(c->req[2].records, 1);
    assert_int_equal(c->out.result[0], TCB_UPLOAD_ACCEPTED);
    assert_int_equal(c->out.result[1], TCB_UPLOAD_ACCEPTED);
}

/* A lone record answered ambiguously waits and goes again, within
 * clevertap.max_record_attempts; then it is exhausted, not accepted. */
static void test_lone_ambiguous_record_exhausts(void **state)
{
    (void)state;
    static const struct script_reply replies[] = {
        {.status = 200, .body = "{\"status\":\"success\",\"processed\":0,\"unprocessed\":[]}"},
        {.status = 200, .body = "{\"status\":\"success\",\"processed\":0,\"unprocessed\":[]}"},
        {.status = 200, .body = "{\"status\":\"success\",\"processed\":0,\"unprocessed\":[]}"},
    };
    struct scripted *c = start(replies, 3, 1, 1, "", 0);
    struct tcb_config *cfg = c->cfg;
    cfg->clevertap.max_record_attempts = 3;
    tcb_uploader_destroy(c->up);
    struct tcb_uploader_options opts = {
        .cfg = cfg, .on_outcome = up_outcomes_cb, .ctx = &c->out, .seed = 1};
    char err[256] = "";
    c->up = tcb_uploader_create(&opts, err, sizeof(err));
    assert_non_null(c->up);
    submit(c, 0, 0, 0, 0);
    finish(c, 1);
    assert_int_equal(c->req_count, 3);
    assert_int_equal(c->out.result[0], TCB_UPLOAD_EXHAUSTED);
    assert_int_equal(c->out.attempts[0], 3);
}

/* submit_all queues a message's records together or not at all; an empty
 * uploader takes a set larger than its bounds (the message must go through). */
static void test_submit_all_is_all_or_nothing(void **state)
{
    (void)state;
    struct scripted *c = start(NULL, 0, 16, 10, "", 0);
    tcb_uploader_destroy(c->up);
    struct tcb_uploader_options opts = {.cfg = c->cfg,
                                        .on_outcome = up_outcomes_cb,
                                        .ctx = &c->out,
                                        .seed = 1,
                                        .max_pending_records = 4};
    char err[256] = "";
    c->up = tcb_uploader_create(&opts, err, sizeof(err));
    assert_non_null(c->up);
    char json[16][256];
    struct tcb_upload_item items[16];
    for (int i = 0; i < 16; i++) {
        size_t len = up_event(json[i], sizeof(json[i]), i, i);
        items[i] = (struct tcb_upload_item){.account = &c->cfg->clevertap.accounts[0],
                                            .json = json[i],
                                            .len = len,
                                            .tag = {.offset = i}};
    }
    struct tcb_uploader_stats stats;
    assert_int_equal(tcb_uploader_submit_all(c->up, items, 3), 0);
    assert_int_equal(tcb_uploader_submit_all(c->up, items + 3, 2), TCB_UPLOAD_FULL);
    tcb_uploader_stats(c->up, &stats);
    assert_int_equal(stats.pending_records, 3); /* none of the two went in */
    assert_int_equal(up_run_until(c->up, &c->out, 3, 20000), 3);
    assert_int_equal(tcb_uploader_submit_all(c->up, items + 3, 13), 0); /* empty: any size */
    finish(c, 16);
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(c->out.result[i], TCB_UPLOAD_ACCEPTED);
    }
}

/* The script's one answer halts the account: nothing final, not ready; the
 * probe after auth_retry_ms gets the default success and everything goes. */
static void expect_halt_then_probe(const struct script_reply *reply)
{
    struct scripted *c = begin(reply, 1, 2, 10);
    up_run_until(c->up, &c->out, 2, 300);
    char why[128];
    assert_int_equal(c->out.finals, 0);
    assert_int_equal(tcb_uploader_ready(c->up, why, sizeof(why)), 0);
    finish(c, 2);
    assert_int_equal(tcb_uploader_ready(c->up, why, sizeof(why)), 1);
    assert_int_equal(c->req_count, 2);
    assert_true(c->req[1].at_ms - c->req[0].at_ms >= 1000); /* auth_retry_ms */
    assert_int_equal(c->out.result[0], TCB_UPLOAD_ACCEPTED);
    assert_int_equal(c->out.result[1], TCB_UPLOAD_ACCEPTED);
}

static void test_403_halts_then_probes(void **state)
{
    (void)state;
    static const struct script_reply reply = {
        .status = 403, .body = "{\"status\":\"fail\",\"error\":\"Forbidden\",\"code\":403}"};
    expect_halt_then_probe(&reply);
}

static void test_404_halts_instead_of_dead_lettering(void **state)
{
    (void)state;
    /* A wrong endpoint answers 404 to everything: the records must wait for a
     * fixed configuration, not be rejected one by one. */
    static const struct script_reply reply = {.status = 404, .body = "Not Found"};
    expect_halt_then_probe(&reply);
}

static void test_redirect_halts_the_account(void **state)
{
    (void)state;
    /* A proxy or wrong base URL answering 301: redirects are never followed
     * (the passcode would travel), so the account halts until fixed. */
    static const struct script_reply reply = {.status = 301, .body = "Moved"};
    expect_halt_then_probe(&reply);
}

static void test_revoked_records_not_resent(void **state)
{
    (void)state;
    /* The first answer is a slow 500: partition 1 is revoked meanwhile, so the
     * retry carries only partition 0's records. */
    static const struct script_reply replies[] = {
        {.status = 500, .body = "Internal Server Error", .delay_ms = 300},
    };
    struct scripted *c = begin(replies, 1, 4, 10); /* partitions 0, 1, 0, 1 */
    assert_true(tcb_uploader_run(c->up, 50) >= 0);
    const int32_t revoked[] = {1};
    assert_int_equal(tcb_uploader_flush_partitions(c->up, 0, revoked, 1), 2);
    finish(c, 2);
    assert_int_equal(c->req_count, 2);
    assert_int_equal(c->req[0].records, 4);
    assert_int_equal(c->req[1].records, 2);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c->out.count[i], i % 2 == 0 ? 1 : 0);
        assert_int_equal(c->out.abandoned[i], i % 2 == 0 ? 0 : 1);
    }
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(c->up, &stats);
    assert_int_equal(stats.pending_records, 0);
}

static void test_unmapped_answer_drops_revoked_records(void **state)
{
    (void)state;
    /* A slow 200 whose one entry names no record sent: the batch is resent in
     * halves, but partition 1 was revoked meanwhile, so the halves carry only
     * partition 0's records. */
    static const struct script_reply replies[] = {
        {.status = 200,
         .delay_ms = 300,
         .body = "{\"status\":\"partial\",\"processed\":3,\"unprocessed\":[{\"status\":"
                 "\"fail\",\"code\":515,\"error\":\"bad.Skipped record number : 9\"}]}"},
    };
    struct scripted *c = begin(replies, 1, 4, 10); /* partitions 0, 1, 0, 1 */
    assert_true(tcb_uploader_run(c->up, 50) >= 0);
    const int32_t revoked[] = {1};
    assert_int_equal(tcb_uploader_flush_partitions(c->up, 0, revoked, 1), 2);
    finish(c, 2);
    assert_int_equal(c->req[0].records, 4);
    size_t resent = 0;
    for (size_t i = 1; i < c->req_count; i++) {
        resent += c->req[i].records;
    }
    assert_int_equal(resent, 2);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c->out.count[i], i % 2 == 0 ? 1 : 0);
        assert_int_equal(c->out.abandoned[i], i % 2 == 0 ? 0 : 1);
    }
}

static void test_shutdown_after_revoke_leaves_nothing(void **state)
{
    (void)state;
    /* Partition 1 is revoked while the request is on the wire (its records are
     * detached), then the shutdown deadline stops the request: nothing may stay
     * behind to be sent again later. */
    static const struct script_reply replies[] = {{.status = 200, .delay_ms = 1000}};
    struct scripted *c = begin(replies, 1, 4, 10); /* partitions 0, 1, 0, 1 */
    assert_true(tcb_uploader_run(c->up, 50) >= 0);
    const int32_t revoked[] = {1};
    assert_int_equal(tcb_uploader_flush_partitions(c->up, 0, revoked, 1), 2);
    assert_int_equal(tcb_uploader_flush(c->up, 0), 2);
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(c->up, &stats);
    assert_int_equal(stats.pending_records, 0);
    assert_int_equal(stats.pending_bytes, 0);
    assert_int_equal(stats.in_flight_requests, 0);
    assert_int_equal(up_run_until(c->up, &c->out, 1, 1500), 0);
    c->req_count = script_server_requests(c->server, c->req, SCRIPT_MAX_REQUESTS);
    for (size_t i = 0; i < c->req_count; i++) {
        assert_int_equal(c->req[i].records, 4); /* only the stopped request, never a resend */
    }
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c->out.count[i], 0);
        assert_int_equal(c->out.abandoned[i], 1);
    }
}

static void test_revoke_keeps_key_order(void **state)
{
    (void)state;
    /* Keyed ordering: record 0 of key K is on the wire; records 1 (partition 1) and
     * 2 (partition 0) of K wait behind it. Revoking partition 1 abandons record 1,
     * which must not let record 2 go before record 0 is final. */
    static const struct script_reply replies[] = {{.status = 200, .delay_ms = 1500}};
    struct scripted *c = start(replies, 1, 3, 10, "  keyed_ordering: true\n", 0);
    const uint64_t key = tcb_upload_key_hash("K", 1);
    submit(c, 0, 0, 0, key);
    assert_true(tcb_uploader_run(c->up, 50) >= 0);
    submit(c, 0, 1, 1, key);
    submit(c, 0, 2, 0, key);
    const int32_t revoked[] = {1};
    assert_int_equal(tcb_uploader_flush_partitions(c->up, 0, revoked, 1), 1);
    assert_true(tcb_uploader_run(c->up, 50) >= 0);
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(c->up, &stats);
    assert_int_equal(stats.in_flight_requests, 1); /* record 2 still waits for record 0 */
    assert_int_equal(c->out.finals, 0);
    finish(c, 2);
    assert_int_equal(c->req_count, 2);
    assert_int_equal(c->out.result[0], TCB_UPLOAD_ACCEPTED);
    assert_int_equal(c->out.result[2], TCB_UPLOAD_ACCEPTED);
    assert_int_equal(c->out.abandoned[1], 1);
}

static void test_key_shared_across_accounts_moves_on(void **state)
{
    (void)state;
    /* Keyed ordering across accounts: record 1 (account "other") waits while
     * record 0 of the same key (account "shop") is on the wire, and goes as soon
     * as record 0 is final, with nothing else happening on its account. */
    static const struct script_reply replies[] = {{.status = 200, .delay_ms = 300}};
    struct scripted *c = start(replies, 1, 2, 10, "  keyed_ordering: true\n", OTHER_ACCOUNT);
    const uint64_t key = tcb_upload_key_hash("K", 1);
    submit(c, 0, 0, 0, key);
    assert_true(tcb_uploader_run(c->up, 50) >= 0);
    submit(c, 1, 1, 0, key);
    assert_int_equal(up_run_until(c->up, &c->out, 2, 10000), 2);
    assert_int_equal(c->out.result[0], TCB_UPLOAD_ACCEPTED);
    assert_int_equal(c->out.result[1], TCB_UPLOAD_ACCEPTED);
    c->req_count = script_server_requests(c->server, c->req, SCRIPT_MAX_REQUESTS);
    assert_int_equal(c->req_count, 2);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcb_log_setup("test-uploader", TCB_LOG_ERROR, TCB_LOG_FORMAT_LOGFMT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_retry_after_honoured, teardown),
        cmocka_unit_test_teardown(test_retry_after_max_zero_ignores_header, teardown),
        cmocka_unit_test_teardown(test_unreadable_200_resent_in_halves, teardown),
        cmocka_unit_test_teardown(test_ambiguous_count_resent_in_halves, teardown),
        cmocka_unit_test_teardown(test_fail_naming_one_of_two_is_ambiguous, teardown),
        cmocka_unit_test_teardown(test_lone_ambiguous_record_exhausts, teardown),
        cmocka_unit_test_teardown(test_submit_all_is_all_or_nothing, teardown),
        cmocka_unit_test_teardown(test_403_halts_then_probes, teardown),
        cmocka_unit_test_teardown(test_404_halts_instead_of_dead_lettering, teardown),
        cmocka_unit_test_teardown(test_redirect_halts_the_account, teardown),
        cmocka_unit_test_teardown(test_revoked_records_not_resent, teardown),
        cmocka_unit_test_teardown(test_unmapped_answer_drops_revoked_records, teardown),
        cmocka_unit_test_teardown(test_shutdown_after_revoke_leaves_nothing, teardown),
        cmocka_unit_test_teardown(test_revoke_keeps_key_order, teardown),
        cmocka_unit_test_teardown(test_key_shared_across_accounts_moves_on, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
