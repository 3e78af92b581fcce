/* Unit tests of the emulator's pure pieces: CleverTap-style spacing (checked
 * against real recorded bodies), the command line, credential checks, the
 * seeded fault plan and the upload answer builder. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/clevertap-emulator/emulator_auth.h"
#include "tools/clevertap-emulator/emulator_faults.h"
#include "tools/clevertap-emulator/emulator_json.h"
#include "tools/clevertap-emulator/emulator_options.h"
#include "tools/clevertap-emulator/emulator_upload.h"

#define RECORDED "tests/emulator/data/responses.jsonl"

/* Every recorded response body, parsed and written again with CleverTap's
 * spacing, comes out byte for byte the same. */
static void test_spacing_matches_recorded_bodies(void **state)
{
    FILE *f = fopen(RECORDED, "r");
    char line[16384];
    int checked = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        json_t *exchange = json_loads(line, 0, NULL);
        assert_non_null(exchange);
        const char *body = json_string_value(json_object_get(exchange, "response_body"));
        json_t *doc = json_loads(body, JSON_DECODE_ANY, NULL);
        assert_non_null(doc);
        struct tcb_buf buf;
        tcb_buf_init(&buf, 1 << 20);
        assert_int_equal(tcb_emu_json_spaced(&buf, doc), 0);
        assert_string_equal(buf.data, body);
        tcb_buf_free(&buf, 0);
        json_decref(doc);
        json_decref(exchange);
        checked++;
    }
    fclose(f);
    assert_int_equal(checked, 21);
}

static void test_string_escapes(void **state)
{
    struct tcb_buf buf;
    tcb_buf_init(&buf, 1024);
    json_t *value = json_string("a\"b\\c\nd\te\x01 é");
    assert_int_equal(tcb_emu_json_spaced(&buf, value), 0);
    assert_string_equal(buf.data, "\"a\\\"b\\\\c\\nd\\te\\u0001 é\"");
    json_t *back = json_loads(buf.data, JSON_DECODE_ANY, NULL);
    assert_true(json_equal(back, value));
    json_decref(back);
    json_decref(value);
    tcb_buf_free(&buf, 0);
}

static int parse(struct tcb_emu_options *opts, char *err, size_t err_len, int argc,
                 const char **argv)
{
    return tcb_emu_options_parse(argc, (char **)argv, opts, err, err_len);
}

static void test_options(void **state)
{
    struct tcb_emu_options opts;
    char err[256];
    const char *ok[] = {"emu",
                        "--listen",
                        "127.0.0.1:0",
                        "--account",
                        "A-1:p:w",
                        "--account",
                        "B:q",
                        "--fail-5xx",
                        "0.25",
                        "--seed",
                        "18446744073709551615",
                        "--latency-ms",
                        "300"};
    assert_int_equal(parse(&opts, err, sizeof(err), 13, ok), 0);
    assert_int_equal(opts.accounts.count, 2);
    assert_string_equal(opts.accounts.items[0].id, "A-1");
    assert_string_equal(opts.accounts.items[0].passcode, "p:w"); /* split at the first ':' */
    assert_true(opts.faults.p_5xx == 0.25);
    assert_int_equal(opts.faults.latency_ms, 300);
    assert_true(opts.seed_given);
    assert_true(opts.seed == UINT64_MAX);
    assert_int_equal(opts.max_concurrent, 15);
    assert_int_equal(opts.max_records, 1000);

    const char *bad_p[] = {"emu", "--listen", "x", "--account", "A:B", "--drop", "-0.1"};
    assert_int_equal(parse(&opts, err, sizeof(err), 7, bad_p), -1);
    assert_non_null(strstr(err, "--drop"));
    const char *dup[] = {"emu", "--listen", "x", "--account", "A:B", "--account", "A:C"};
    assert_int_equal(parse(&opts, err, sizeof(err), 7, dup), -1);
    const char *zero[] = {"emu", "--listen", "x", "--account", "A:B", "--max-concurrent", "0"};
    assert_int_equal(parse(&opts, err, sizeof(err), 7, zero), -1);
    const char *help[] = {"emu", "--help"};
    assert_int_equal(parse(&opts, err, sizeof(err), 2, help), 0);
    assert_true(opts.show_help);
}

static void test_option_errors_never_show_passcodes(void **state)
{
    struct tcb_emu_options opts;
    char err[256];
    const char *typo[] = {"emu", "--listen", "x", "--acount=A:SECRET-PASS"};
    assert_int_equal(parse(&opts, err, sizeof(err), 4, typo), -1);
    assert_null(strstr(err, "SECRET-PASS"));
    const char *empty[] = {"emu", "--listen", "x", "--account", "A:"};
    assert_int_equal(parse(&opts, err, sizeof(err), 5, empty), -1);
    char long_pass[400];
    memset(long_pass, 'S', sizeof(long_pass) - 1);
    long_pass[0] = 'A';
    long_pass[1] = ':';
    long_pass[sizeof(long_pass) - 1] = '\0';
    const char *too_long[] = {"emu", "--listen", "x", "--account", long_pass};
    assert_int_equal(parse(&opts, err, sizeof(err), 5, too_long), -1);
    assert_null(strstr(err, "SSSS"));
}

static void test_credentials(void **state)
{
    struct tcb_emu_accounts accounts = {0};
    char err[128];
    assert_int_equal(tcb_emu_accounts_add(&accounts, "ACC-1:one", err, sizeof(err)), 0);
    assert_int_equal(tcb_emu_accounts_add(&accounts, "ACC-2:two", err, sizeof(err)), 0);
    assert_int_equal(tcb_emu_accounts_check(&accounts, "ACC-2", "two"), 1);
    assert_int_equal(tcb_emu_accounts_check(&accounts, "ACC-1", "one"), 0);
    assert_int_equal(tcb_emu_accounts_check(&accounts, "ACC-1", "two"), -1);
    assert_int_equal(tcb_emu_accounts_check(&accounts, "ACC-1", "on"), -1);
    assert_int_equal(tcb_emu_accounts_check(&accounts, "ACC-1", "one "), -1);
    assert_int_equal(tcb_emu_accounts_check(&accounts, "ACC-1", NULL), -1);
    assert_int_equal(tcb_emu_accounts_check(&accounts, NULL, "one"), -1);
    assert_int_equal(tcb_emu_accounts_check(&accounts, "", ""), -1);
}

static void test_fault_plan_is_a_function_of_seed_and_sequence(void **state)
{
    struct tcb_emu_faults_cfg cfg = {.latency_ms = 100,
                                     .latency_jitter_ms = 50,
                                     .p_drop = 0.1,
                                     .p_hang = 0.1,
                                     .p_429 = 0.1,
                                     .p_5xx = 0.2};
    int seen[TCB_EMU_FAULT_503 + 1] = {0};
    for (uint64_t seq = 0; seq < 2000; seq++) {
        struct tcb_emu_rng a;
        struct tcb_emu_rng b;
        struct tcb_emu_fault_plan pa;
        struct tcb_emu_fault_plan pb;
        tcb_emu_rng_seed(&a, 99, seq);
        tcb_emu_rng_seed(&b, 99, seq);
        tcb_emu_faults_plan(&cfg, &a, &pa);
        tcb_emu_faults_plan(&cfg, &b, &pb);
        assert_int_equal(pa.action, pb.action);
        assert_int_equal(pa.latency_ms, pb.latency_ms);
        assert_in_range(pa.latency_ms, 100, 150);
        assert_true(tcb_emu_rng_next(&a) == tcb_emu_rng_next(&b));
        seen[pa.action]++;
    }
    for (int action = TCB_EMU_FAULT_NONE; action <= TCB_EMU_FAULT_503; action++) {
        assert_true(seen[action] > 0);
    }

    struct tcb_emu_faults_cfg none = {0};
    struct tcb_emu_faults_cfg all_drop = {.p_drop = 1.0, .p_429 = 1.0};
    struct tcb_emu_rng rng;
    struct tcb_emu_fault_plan plan;
    tcb_emu_rng_seed(&rng, 1, 1);
    tcb_emu_faults_plan(&none, &rng, &plan);
    assert_int_equal(plan.action, TCB_EMU_FAULT_NONE);
    assert_int_equal(plan.latency_ms, 0);
    tcb_emu_faults_plan(&all_drop, &rng, &plan);
    assert_int_equal(plan.action, TCB_EMU_FAULT_DROP);
}

static struct tcb_emu_upload_cfg upload_cfg(double p_555)
{
    struct tcb_emu_upload_cfg cfg = {.max_records = 3,
                                     .limits = {.max_properties = 100},
                                     .p_555 = p_555,
                                     .max_response_bytes = 1 << 20};
    return cfg;
}

static int process(const struct tcb_emu_upload_cfg *cfg, const char *body,
                   struct tcb_emu_upload_result *result)
{
    struct tcb_emu_rng rng;
    tcb_emu_rng_seed(&rng, 5, 0);
    assert_int_equal(tcb_emu_upload_process(cfg, body, strlen(body), &rng, result), 0);
    return result->http_status;
}

static void test_upload_request_errors(void **state)
{
    struct tcb_emu_upload_cfg cfg = upload_cfg(0);
    struct tcb_emu_upload_result result;
    const char *bad[] = {"", "{", "[]", "{\"d\":1}", "{\"d\":[{},{},{},{}]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(process(&cfg, bad[i], &result), 400);
        assert_non_null(strstr(result.body, "\"code\" : 400}"));
        tcb_emu_upload_result_free(&result);
    }
    assert_int_equal(process(&cfg, "{\"d\":[]}", &result), 200);
    assert_string_equal(result.body,
                        "{ \"status\" : \"success\" , \"processed\" : 0 , \"unprocessed\" : [ ]}");
    tcb_emu_upload_result_free(&result);
}

static void test_upload_flags_accepted_records(void **state)
{
    struct tcb_emu_upload_cfg cfg = upload_cfg(0);
    struct tcb_emu_upload_result result;
    const char *body = "{\"d\":[{\"type\":\"event\",\"identity\":\"1\",\"evtName\":\"A\","
                       "\"evtData\":{}},{\"type\":\"event\",\"identity\":\"2\",\"evtName\":\"App "
                       "Launched\",\"evtData\":{}},{\"type\":\"event\",\"identity\":\"3\","
                       "\"evtName\":\"B\",\"evtData\":{},\"ts\":0}]}";
    assert_int_equal(process(&cfg, body, &result), 200);
    assert_int_equal(result.record_count, 3);
    assert_int_equal(result.accepted[0], 1);
    assert_int_equal(result.accepted[1], 0);
    assert_int_equal(result.accepted[2], 0);
    assert_int_equal(result.processed, 1);
    assert_int_equal(result.unprocessed, 2);
    assert_int_equal(result.rejected_by_code[513 - 500], 1);
    assert_int_equal(result.rejected_by_code[525 - 500], 1);
    assert_non_null(strstr(result.body, "Skipped record number : 2\""));
    assert_non_null(strstr(result.body, "Skipped record number : 3\""));
    assert_non_null(strstr(result.body, "{ \"status\" : \"partial\" , \"processed\" : 1 ,"));
    tcb_emu_upload_result_free(&result);

    cfg = upload_cfg(1.0);
    assert_int_equal(process(&cfg, body, &result), 200);
    assert_int_equal(result.processed, 0);
    assert_int_equal(result.injected_555, 3);
    assert_int_equal(result.rejected_by_code[555 - 500], 3);
    assert_non_null(strstr(result.body, "{ \"status\" : \"fail\" , \"processed\" : 0 ,"));
    tcb_emu_upload_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spacing_matches_recorded_bodies),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_option_errors_never_show_passcodes),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_fault_plan_is_a_function_of_seed_and_sequence),
        cmocka_unit_test(test_upload_request_errors),
        cmocka_unit_test(test_upload_flags_accepted_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
