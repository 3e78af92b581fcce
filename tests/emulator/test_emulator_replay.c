/* Replays the real CleverTap exchanges recorded in data/responses.jsonl
 * against the emulator: same HTTP status, same "status", same processed
 * count, same per-record codes and record numbers. Where the error text
 * differs from CleverTap's, the test says so and fails: the emulator's texts
 * come from the shared validator, which the sink's dead letters use too. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <curl/curl.h>

#include "tests/emulator/emulator_harness.h"

#define RECORDED "tests/emulator/data/responses.jsonl"

static int compare_unprocessed(const char *name, const json_t *want, const json_t *got)
{
    int mismatches = 0;
    size_t i;
    const json_t *w;
    if (json_array_size(want) != json_array_size(got)) {
        print_error("%s: %zu unprocessed recorded, %zu answered\n", name, json_array_size(want),
                    json_array_size(got));
        return 1;
    }
    json_array_foreach (want, i, w) {
        const json_t *g = json_array_get(got, i);
        json_int_t want_code = json_integer_value(json_object_get(w, "code"));
        json_int_t got_code = json_integer_value(json_object_get(g, "code"));
        const char *want_error = json_string_value(json_object_get(w, "error"));
        const char *got_error = json_string_value(json_object_get(g, "error"));
        if (want_code != got_code) {
            print_error("%s: entry %zu code %lld recorded, %lld answered\n", name, i,
                        (long long)want_code, (long long)got_code);
            mismatches++;
        }
        if (!want_error || !got_error || strcmp(want_error, got_error) != 0) {
            print_error("%s: entry %zu error\n  recorded: %s\n  answered: %s\n", name, i,
                        want_error ? want_error : "(none)", got_error ? got_error : "(none)");
            mismatches++;
        }
    }
    return mismatches;
}

/* Replays one exchange; returns how many things differ. */
static int replay(const struct tcb_test_emu *emu, const json_t *exchange)
{
    const char *name = json_string_value(json_object_get(exchange, "case"));
    const char *request = json_string_value(json_object_get(exchange, "request_body"));
    long want_status = (long)json_integer_value(json_object_get(exchange, "status"));
    /* The recorded 401 used bad credentials; every other exchange good ones. */
    const char *passcode = want_status == 401 ? "not-the-passcode" : TCB_TEST_PASSCODE_1;
    struct tcb_test_reply reply;
    assert_int_equal(tcb_test_emu_post(emu, TCB_TEST_ACCOUNT_1, passcode, request, 0, &reply), 0);
    int mismatches = 0;
    if (reply.status != want_status) {
        print_error("%s: HTTP %ld recorded, %ld answered\n", name, want_status, reply.status);
        mismatches++;
    }
    json_t *want =
        json_loads(json_string_value(json_object_get(exchange, "response_body")), 0, NULL);
    json_t *got = json_loads(reply.body, 0, NULL);
    assert_non_null(want);
    if (!got) {
        print_error("%s: answer is not JSON: %s\n", name, reply.body);
        mismatches++;
    } else {
        const char *keys[] = {"status", "processed", "code", "error"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            const json_t *w = json_object_get(want, keys[k]);
            const json_t *g = json_object_get(got, keys[k]);
            if ((w || g) && !json_equal(w, g)) { /* json_equal(NULL, NULL) is 0 */
                print_error("%s: \"%s\" differs\n", name, keys[k]);
                mismatches++;
            }
        }
        mismatches += compare_unprocessed(name, json_object_get(want, "unprocessed"),
                                          json_object_get(got, "unprocessed"));
    }
    json_decref(want);
    json_decref(got);
    tcb_test_reply_free(&reply);
    return mismatches;
}

static void test_recorded_exchanges_replay_identically(void **state)
{
    struct tcb_test_emu emu;
    char line[16384];
    int exchanges = 0;
    int mismatches = 0;
    FILE *f = fopen(RECORDED, "r");
    assert_non_null(f);
    assert_int_equal(tcb_test_emu_start(&emu, NULL), 0);
    while (fgets(line, sizeof(line), f)) {
        json_t *exchange = json_loads(line, 0, NULL);
        assert_non_null(exchange);
        mismatches += replay(&emu, exchange);
        json_decref(exchange);
        exchanges++;
    }
    fclose(f);
    assert_int_equal(tcb_test_emu_stop(&emu), 0);
    assert_int_equal(exchanges, 21);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_exchanges_replay_identically),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
