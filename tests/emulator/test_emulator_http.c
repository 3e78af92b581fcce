/* Integration tests of the real clevertap-emulator binary on 127.0.0.1:
 * auth, success/partial/fail answers, request-level 400/413/429, fault
 * injection determinism, hangs, --record content, /stats counters, the
 * command line and a clean SIGTERM exit. */
#include <curl/curl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/emulator/emulator_harness.h"

#define RECORDED_401                                                                               \
    "{ \"status\" : \"fail\" , \"error\" : \"Account ID is not valid\" , \"code\" : 401}"
#define EVENT(id)                                                                                  \
    "{\"type\":\"event\",\"identity\":\"" id "\",\"evtName\":\"Coupon Generated\","                \
    "\"evtData\":{\"CouponCode\":\"ABC-" id "\"}}"
#define BAD_EMAIL(id)                                                                              \
    "{\"type\":\"profile\",\"identity\":\"" id "\",\"profileData\":{\"Email\":\"$$$$$\"}}"
#define NO_IDENTITY "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"evtData\":{}}"

static struct tcb_test_emu *start_emu(const char *const *extra)
{
    struct tcb_test_emu *emu = calloc(1, sizeof(*emu));
    assert_non_null(emu);
    assert_int_equal(tcb_test_emu_start(emu, extra), 0);
    return emu;
}

static void stop_emu(struct tcb_test_emu *emu)
{
    assert_int_equal(tcb_test_emu_stop(emu), 0); /* SIGTERM -> clean exit 0 */
    free(emu);
}

static int setup_default(void **state)
{
    *state = start_emu(NULL);
    return 0;
}

static int teardown_default(void **state)
{
    stop_emu(*state);
    return 0;
}

static json_t *post_json(struct tcb_test_emu *emu, const char *body, long expect_status)
{
    struct tcb_test_reply reply;
    assert_int_equal(
        tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_1, body, 0, &reply), 0);
    assert_int_equal(reply.status, expect_status);
    assert_string_equal(reply.content_type, "application/json;charset=utf-8");
    json_t *doc = json_loads(reply.body, 0, NULL);
    assert_non_null(doc);
    tcb_test_reply_free(&reply);
    return doc;
}

static void test_wrong_credentials_get_recorded_401(void **state)
{
    struct tcb_test_emu *emu = *state;
    struct tcb_test_reply reply;
    const char *body = "{\"d\":[" EVENT("1") "]}";
    const char *cases[][2] = {
        {TCB_TEST_ACCOUNT_1, "wrong"},
        {TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_2}, /* another account's passcode */
        {"NO-SUCH-ACCOUNT", TCB_TEST_PASSCODE_1},
        {TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_1 "x"},
        {TCB_TEST_ACCOUNT_1, NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(tcb_test_emu_post(emu, cases[i][0], cases[i][1], body, 0, &reply), 0);
        assert_int_equal(reply.status, 401);
        assert_string_equal(reply.body, RECORDED_401);
        assert_string_equal(reply.content_type, "application/json;charset=utf-8");
        tcb_test_reply_free(&reply);
    }
    /* The second account works with its own passcode. */
    assert_int_equal(
        tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_2, TCB_TEST_PASSCODE_2, body, 0, &reply), 0);
    assert_int_equal(reply.status, 200);
    tcb_test_reply_free(&reply);
}

static void test_success_uses_clevertap_spacing(void **state)
{
    struct tcb_test_emu *emu = *state;
    struct tcb_test_reply reply;
    assert_int_equal(tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_1,
                                       "{\"d\":[" EVENT("1") "," EVENT("2") "]}", 0, &reply),
                     0);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body,
                        "{ \"status\" : \"success\" , \"processed\" : 2 , \"unprocessed\" : [ ]}");
    tcb_test_reply_free(&reply);
}

/* Checks unprocessed[index] has code and the error ends with the record number,
 * and echoes the sent record. */
static void assert_unprocessed(const json_t *answer, size_t index, int code, int number,
                               const json_t *sent)
{
    char suffix[64];
    const json_t *entry = json_array_get(json_object_get(answer, "unprocessed"), index);
    assert_non_null(entry);
    assert_string_equal(json_string_value(json_object_get(entry, "status")), "fail");
    assert_int_equal(json_integer_value(json_object_get(entry, "code")), code);
    const char *error = json_string_value(json_object_get(entry, "error"));
    assert_non_null(error);
    snprintf(suffix, sizeof(suffix), "Skipped record number : %d", number);
    assert_true(strlen(error) > strlen(suffix));
    assert_string_equal(error + strlen(error) - strlen(suffix), suffix);
    assert_true(json_equal(json_object_get(entry, "record"),
                           json_array_get(json_object_get(sent, "d"), (size_t)number - 1)));
}

static void test_partial_reports_each_bad_record(void **state)
{
    struct tcb_test_emu *emu = *state;
    const char *body = "{\"d\":[" EVENT("1") "," BAD_EMAIL("2") "," EVENT("3") "," NO_IDENTITY "]}";
    json_t *sent = json_loads(body, 0, NULL);
    json_t *answer = post_json(emu, body, 200);
    assert_string_equal(json_string_value(json_object_get(answer, "status")), "partial");
    assert_int_equal(json_integer_value(json_object_get(answer, "processed")), 2);
    assert_int_equal(json_array_size(json_object_get(answer, "unprocessed")), 2);
    assert_unprocessed(answer, 0, 515, 2, sent);
    assert_unprocessed(answer, 1, 523, 4, sent);
    const char *error = json_string_value(
        json_object_get(json_array_get(json_object_get(answer, "unprocessed"), 0), "error"));
    assert_string_equal(error,
                        "Profile data is incorrect. Email is not valid.Skipped record number : 2");
    json_decref(answer);
    json_decref(sent);
}

static void test_fail_when_no_record_is_valid(void **state)
{
    struct tcb_test_emu *emu = *state;
    const char *body = "{\"d\":[" BAD_EMAIL("1") "," NO_IDENTITY "]}";
    json_t *sent = json_loads(body, 0, NULL);
    json_t *answer = post_json(emu, body, 200);
    assert_string_equal(json_string_value(json_object_get(answer, "status")), "fail");
    assert_int_equal(json_integer_value(json_object_get(answer, "processed")), 0);
    assert_unprocessed(answer, 0, 515, 1, sent);
    assert_unprocessed(answer, 1, 523, 2, sent);
    json_decref(answer);
    json_decref(sent);
}

static char *records_body(int count)
{
    size_t cap = (size_t)count * 160 + 16;
    char *body = malloc(cap);
    assert_non_null(body);
    size_t len = (size_t)snprintf(body, cap, "{\"d\":[");
    for (int i = 0; i < count; i++) {
        len += (size_t)snprintf(body + len, cap - len,
                                "%s{\"type\":\"event\",\"identity\":\"u%d\",\"evtName\":\"Coupon "
                                "Generated\",\"evtData\":{\"n\":%d}}",
                                i ? "," : "", i, i);
    }
    snprintf(body + len, cap - len, "]}");
    return body;
}

static void test_request_level_400s(void **state)
{
    struct tcb_test_emu *emu = *state;
    char *body = records_body(1000);
    json_t *answer = post_json(emu, body, 200);
    assert_string_equal(json_string_value(json_object_get(answer, "status")), "success");
    assert_int_equal(json_integer_value(json_object_get(answer, "processed")), 1000);
    json_decref(answer);
    free(body);

    body = records_body(1001);
    const char *bad[] = {body, "not json", "{\"x\":[]}", "{\"d\":{}}", "[1,2]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        answer = post_json(emu, bad[i], 400);
        assert_string_equal(json_string_value(json_object_get(answer, "status")), "fail");
        assert_int_equal(json_integer_value(json_object_get(answer, "code")), 400);
        json_decref(answer);
    }
    free(body);
}

static void test_body_over_cap_is_413(void **state)
{
    const char *extra[] = {"--max-body-bytes", "1024", NULL};
    struct tcb_test_emu *emu = start_emu(extra);
    char *body = records_body(50);
    json_t *answer = post_json(emu, body, 413);
    json_decref(answer);
    free(body);
    answer = post_json(emu, "{\"d\":[" EVENT("1") "]}", 200);
    json_decref(answer);
    stop_emu(emu);
}

/* Uploads sent in the background (curl multi) that the emulator holds, for
 * tests that need requests in flight while they look at something else. */
struct held_uploads {
    CURLM *multi;
    CURL *easy[4];
    int count;
    struct curl_slist *headers;
};

static void hold_uploads(struct held_uploads *held, const struct tcb_test_emu *emu, int count)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/1/upload", emu->port);
    memset(held, 0, sizeof(*held));
    held->headers = curl_slist_append(NULL, "X-CleverTap-Account-Id: " TCB_TEST_ACCOUNT_1);
    held->headers = curl_slist_append(held->headers, "X-CleverTap-Passcode: " TCB_TEST_PASSCODE_1);
    held->multi = curl_multi_init();
    assert_in_range(count, 1, 4);
    for (held->count = 0; held->count < count; held->count++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, held->headers);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "{\"d\":[" EVENT("1") "]}");
        curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
        curl_multi_add_handle(held->multi, easy);
        held->easy[held->count] = easy;
    }
}

/* Drives the held uploads until the /stats value at path reaches want (or a
 * bounded number of rounds passed). Returns the last value seen. */
static long long pump_until(struct held_uploads *held, const struct tcb_test_emu *emu,
                            const char *path, long long want)
{
    long long value = -1;
    for (int round = 0; round < 3000 && value < want; round++) {
        int running = 0;
        curl_multi_perform(held->multi, &running);
        curl_multi_poll(held->multi, NULL, 0, 10, NULL);
        json_t *stats = tcb_test_emu_stats(emu);
        value = tcb_test_stat(stats, path);
        json_decref(stats);
    }
    return value;
}

static void release_uploads(struct held_uploads *held)
{
    for (int i = 0; i < held->count; i++) {
        curl_multi_remove_handle(held->multi, held->easy[i]);
        curl_easy_cleanup(held->easy[i]);
    }
    curl_multi_cleanup(held->multi);
    curl_slist_free_all(held->headers);
}

/* Two requests held by --latency-ms fill --max-concurrent 2; the third is
 * refused with 429 at once. Waits on /stats (never on time) for the two. */
static void test_429_past_max_concurrent(void **state)
{
    const char *extra[] = {"--max-concurrent", "2", "--latency-ms", "60000", NULL};
    struct tcb_test_emu *emu = start_emu(extra);
    struct held_uploads held;
    hold_uploads(&held, emu, 2);
    assert_int_equal(pump_until(&held, emu, "accounts/" TCB_TEST_ACCOUNT_1 "/in_flight", 2), 2);

    struct tcb_test_reply reply;
    assert_int_equal(tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_1,
                                       "{\"d\":[" EVENT("2") "]}", 0, &reply),
                     0);
    assert_int_equal(reply.status, 429);
    assert_string_equal(reply.body, "{ \"status\" : \"fail\" , \"error\" : \"Too many concurrent "
                                    "requests\" , \"code\" : 429}");
    tcb_test_reply_free(&reply);
    json_t *stats = tcb_test_emu_stats(emu);
    assert_int_equal(tcb_test_stat(stats, "status/429"), 1);
    assert_int_equal(tcb_test_stat(stats, "limit_429"), 1);
    assert_int_equal(tcb_test_stat(stats, "max_concurrent_seen"), 2);
    json_decref(stats);

    /* SIGTERM while two requests are held: still a clean exit. */
    stop_emu(emu);
    release_uploads(&held);
}

/* One outcome per request: "drop", an HTTP status, and for 200 the codes. */
static void describe(const struct tcb_test_reply *reply, char *out, size_t out_len)
{
    if (reply->status == 0) {
        snprintf(out, out_len, "nothing(curl %d)", reply->curl_code);
        return;
    }
    size_t len = (size_t)snprintf(out, out_len, "%ld", reply->status);
    json_t *doc = reply->status == 200 ? json_loads(reply->body, 0, NULL) : NULL;
    const json_t *entry;
    size_t i;
    json_array_foreach (json_object_get(doc, "unprocessed"), i, entry) {
        if (len < out_len) {
            len += (size_t)snprintf(out + len, out_len - len, ",%lld",
                                    (long long)json_integer_value(json_object_get(entry, "code")));
        }
    }
    json_decref(doc);
}

#define FAULT_REQUESTS 40

static void run_faults(const char *seed, char outcomes[FAULT_REQUESTS][64])
{
    const char *extra[] = {"--seed",     seed,  "--fail-5xx", "0.2", "--fail-429", "0.15",
                           "--fail-555", "0.2", "--drop",     "0.1", NULL};
    struct tcb_test_emu *emu = start_emu(extra);
    for (int i = 0; i < FAULT_REQUESTS; i++) {
        struct tcb_test_reply reply;
        assert_int_equal(
            tcb_test_emu_post(
                emu, TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_1,
                "{\"d\":[" EVENT("1") "," EVENT("2") "," EVENT("3") "," EVENT("4") "]}", 0, &reply),
            0);
        describe(&reply, outcomes[i], 64);
        tcb_test_reply_free(&reply);
    }
    json_t *stats = tcb_test_emu_stats(emu);
    assert_int_equal(tcb_test_stat(stats, "requests"), FAULT_REQUESTS);
    json_decref(stats);
    stop_emu(emu);
}

static int count_prefix(char outcomes[FAULT_REQUESTS][64], const char *prefix)
{
    int n = 0;
    for (int i = 0; i < FAULT_REQUESTS; i++) {
        n += strncmp(outcomes[i], prefix, strlen(prefix)) == 0;
    }
    return n;
}

static void test_fault_injection_is_deterministic(void **state)
{
    static char first[FAULT_REQUESTS][64];
    static char second[FAULT_REQUESTS][64];
    static char other[FAULT_REQUESTS][64];
    run_faults("42", first);
    run_faults("42", second);
    run_faults("7", other);
    int same_as_other = 1;
    for (int i = 0; i < FAULT_REQUESTS; i++) {
        assert_string_equal(first[i], second[i]);
        same_as_other &= strcmp(first[i], other[i]) == 0;
    }
    assert_false(same_as_other);
    /* Every kind of fault shows up in this fixed sequence. */
    assert_true(count_prefix(first, "nothing") > 0);
    assert_true(count_prefix(first, "429") > 0);
    assert_true(count_prefix(first, "500") + count_prefix(first, "503") > 0);
    int with_555 = 0;
    for (int i = 0; i < FAULT_REQUESTS; i++) {
        with_555 += strstr(first[i], ",555") != NULL;
    }
    assert_true(with_555 > 0);
    assert_true(count_prefix(first, "200") > 0);
}

static void test_hung_request_is_never_answered(void **state)
{
    const char *extra[] = {"--hang", "1", NULL};
    struct tcb_test_emu *emu = start_emu(extra);
    struct tcb_test_reply reply;
    assert_int_equal(tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_1,
                                       "{\"d\":[" EVENT("1") "]}", 1500, &reply),
                     0);
    assert_int_equal(reply.curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(reply.status, 0);
    tcb_test_reply_free(&reply);
    json_t *stats = tcb_test_emu_stats(emu);
    assert_int_equal(tcb_test_stat(stats, "hung"), 1);
    /* A hung request does not hold a concurrency slot. */
    assert_int_equal(tcb_test_stat(stats, "in_flight"), 0);
    json_decref(stats);
    /* The client gave up and closed: the emulator lets the connection go
     * (waits on /stats, bounded, never on time). */
    long long held = 1;
    for (int round = 0; round < 3000 && held != 0; round++) {
        stats = tcb_test_emu_stats(emu);
        held = tcb_test_stat(stats, "hung_held");
        json_decref(stats);
        if (held != 0) {
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        }
    }
    assert_int_equal(held, 0);
    stop_emu(emu);
}

/* A hung request whose client is still waiting is released at SIGTERM: the
 * emulator still exits cleanly. */
static void test_sigterm_releases_hung_requests(void **state)
{
    const char *extra[] = {"--hang", "1", NULL};
    struct tcb_test_emu *emu = start_emu(extra);
    struct held_uploads held;
    hold_uploads(&held, emu, 1);
    assert_int_equal(pump_until(&held, emu, "hung_held", 1), 1);
    stop_emu(emu);
    release_uploads(&held);
}

static json_t *read_records(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    json_t *lines = json_array();
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        json_t *doc = json_loads(line, 0, NULL);
        assert_non_null(doc);
        json_array_append_new(lines, doc);
    }
    fclose(f);
    return lines;
}

static void test_record_file_has_accepted_records_only(void **state)
{
    struct tcb_test_emu *emu = *state;
    const char *body1 = "{\"d\":[" EVENT("1") "," BAD_EMAIL("2") "," EVENT("3") "]}";
    const char *body2 = "{\"d\":[" EVENT("9") "]}";
    struct tcb_test_reply reply;
    json_decref(post_json(emu, body1, 200));
    assert_int_equal(
        tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_2, TCB_TEST_PASSCODE_2, body2, 0, &reply), 0);
    assert_int_equal(reply.status, 200);
    tcb_test_reply_free(&reply);

    json_t *doc1 = json_loads(body1, 0, NULL);
    json_t *doc2 = json_loads(body2, 0, NULL);
    json_t *lines = read_records(emu->record_path);
    assert_int_equal(json_array_size(lines), 3);
    const char *accounts[] = {TCB_TEST_ACCOUNT_1, TCB_TEST_ACCOUNT_1, TCB_TEST_ACCOUNT_2};
    const json_t *records[] = {json_array_get(json_object_get(doc1, "d"), 0),
                               json_array_get(json_object_get(doc1, "d"), 2),
                               json_array_get(json_object_get(doc2, "d"), 0)};
    for (size_t i = 0; i < 3; i++) {
        const json_t *line = json_array_get(lines, i);
        assert_int_equal(json_object_size(line), 2);
        assert_string_equal(json_string_value(json_object_get(line, "account")), accounts[i]);
        assert_true(json_equal(json_object_get(line, "record"), records[i]));
    }
    json_decref(lines);
    json_decref(doc1);
    json_decref(doc2);
}

static void test_555_records_are_not_recorded(void **state)
{
    const char *extra[] = {"--fail-555", "1", "--seed", "3", NULL};
    struct tcb_test_emu *emu = start_emu(extra);
    json_t *answer = post_json(emu, "{\"d\":[" EVENT("1") "," EVENT("2") "]}", 200);
    assert_string_equal(json_string_value(json_object_get(answer, "status")), "fail");
    json_t *sent = json_loads("{\"d\":[" EVENT("1") "," EVENT("2") "]}", 0, NULL);
    assert_unprocessed(answer, 0, 555, 1, sent);
    assert_unprocessed(answer, 1, 555, 2, sent);
    json_decref(sent);
    json_decref(answer);
    json_t *lines = read_records(emu->record_path);
    assert_int_equal(json_array_size(lines), 0);
    json_decref(lines);
    json_t *stats = tcb_test_emu_stats(emu);
    assert_int_equal(tcb_test_stat(stats, "injected_555"), 2);
    assert_int_equal(tcb_test_stat(stats, "records_rejected_by_code/555"), 2);
    assert_int_equal(tcb_test_stat(stats, "records_accepted"), 0);
    json_decref(stats);
    stop_emu(emu);
}

static void test_stats_count_what_happened(void **state)
{
    struct tcb_test_emu *emu = *state;
    struct tcb_test_reply reply;
    assert_int_equal(tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_1, "nope", "{}", 0, &reply), 0);
    tcb_test_reply_free(&reply);
    json_decref(post_json(emu, "{\"d\":[" EVENT("1") "," EVENT("2") "]}", 200));
    json_decref(post_json(emu, "{\"d\":[" EVENT("1") "," BAD_EMAIL("2") "," NO_IDENTITY "]}", 200));
    json_decref(post_json(emu, "nope", 400));

    json_t *stats = tcb_test_emu_stats(emu);
    assert_non_null(stats);
    assert_int_equal(tcb_test_stat(stats, "requests"), 4);
    assert_int_equal(tcb_test_stat(stats, "status/200"), 2);
    assert_int_equal(tcb_test_stat(stats, "status/400"), 1);
    assert_int_equal(tcb_test_stat(stats, "status/401"), 1);
    assert_int_equal(tcb_test_stat(stats, "status/429"), 0);
    assert_int_equal(tcb_test_stat(stats, "status/5xx"), 0);
    assert_int_equal(tcb_test_stat(stats, "records_accepted"), 3);
    assert_int_equal(tcb_test_stat(stats, "records_rejected"), 2);
    assert_int_equal(tcb_test_stat(stats, "records_rejected_by_code/515"), 1);
    assert_int_equal(tcb_test_stat(stats, "records_rejected_by_code/523"), 1);
    assert_int_equal(tcb_test_stat(stats, "injected_555"), 0);
    assert_int_equal(tcb_test_stat(stats, "hung"), 0);
    assert_int_equal(tcb_test_stat(stats, "dropped"), 0);
    assert_int_equal(tcb_test_stat(stats, "in_flight"), 0);
    assert_int_equal(tcb_test_stat(stats, "max_concurrent_seen"), 1);
    assert_int_equal(tcb_test_stat(stats, "accounts/" TCB_TEST_ACCOUNT_1 "/records_accepted"), 3);
    assert_int_equal(tcb_test_stat(stats, "accounts/" TCB_TEST_ACCOUNT_2 "/records_accepted"), 0);
    json_decref(stats);
}

static void test_sigint_stops_cleanly(void **state)
{
    struct tcb_test_emu emu;
    assert_int_equal(tcb_test_emu_start(&emu, NULL), 0);
    json_decref(post_json(&emu, "{\"d\":[" EVENT("1") "]}", 200));
    assert_int_equal(tcb_test_emu_stop_with(&emu, SIGINT), 0);
}

static void test_command_line(void **state)
{
    const char *help[] = {"--help", NULL};
    const char *version[] = {"--version", NULL};
    const char *no_account[] = {"--listen", "127.0.0.1:0", NULL};
    const char *no_listen[] = {"--account", "A:B", NULL};
    const char *bad_p[] = {"--listen",   "127.0.0.1:0", "--account", "A:B",
                           "--fail-5xx", "1.5",         NULL};
    const char *bad_account[] = {"--listen", "127.0.0.1:0", "--account", "nocolon", NULL};
    const char *bad_listen[] = {"--listen", "example.com:80", "--account", "A:B", NULL};
    const char *unknown[] = {"--listen", "127.0.0.1:0", "--account", "A:B", "--bogus", NULL};
    assert_int_equal(tcb_test_emu_run(help), 0);
    assert_int_equal(tcb_test_emu_run(version), 0);
    assert_int_equal(tcb_test_emu_run(no_account), 2);
    assert_int_equal(tcb_test_emu_run(no_listen), 2);
    assert_int_equal(tcb_test_emu_run(bad_p), 2);
    assert_int_equal(tcb_test_emu_run(bad_account), 2);
    assert_int_equal(tcb_test_emu_run(bad_listen), 2);
    assert_int_equal(tcb_test_emu_run(unknown), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wrong_credentials_get_recorded_401, setup_default,
                                        teardown_default),
        cmocka_unit_test_setup_teardown(test_success_uses_clevertap_spacing, setup_default,
                                        teardown_default),
        cmocka_unit_test_setup_teardown(test_partial_reports_each_bad_record, setup_default,
                                        teardown_default),
        cmocka_unit_test_setup_teardown(test_fail_when_no_record_is_valid, setup_default,
                                        teardown_default),
        cmocka_unit_test_setup_teardown(test_request_level_400s, setup_default, teardown_default),
        cmocka_unit_test(test_body_over_cap_is_413),
        cmocka_unit_test(test_429_past_max_concurrent),
        cmocka_unit_test(test_fault_injection_is_deterministic),
        cmocka_unit_test(test_hung_request_is_never_answered),
        cmocka_unit_test(test_sigterm_releases_hung_requests),
        cmocka_unit_test_setup_teardown(test_record_file_has_accepted_records_only, setup_default,
                                        teardown_default),
        cmocka_unit_test(test_555_records_are_not_recorded),
        cmocka_unit_test_setup_teardown(test_stats_count_what_happened, setup_default,
                                        teardown_default),
        cmocka_unit_test(test_sigint_stops_cleanly),
        cmocka_unit_test(test_command_line),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
