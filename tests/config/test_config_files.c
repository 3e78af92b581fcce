/* Golden tests of the loader: every file in tests/config/valid loads; every
 * file in tests/config/invalid fails with exactly the lines of its .expected
 * file (all problems, each with line and column). Also checks typed values
 * of a full file and the embedded defaults. */
#include "config/config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define VALID_DIR   "tests/config/valid"
#define INVALID_DIR "tests/config/invalid"

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

static void test_valid_files_load(void **state)
{
    (void)state;
    DIR *dir = opendir(VALID_DIR);
    assert_non_null(dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (!has_suffix(e->d_name, ".yaml")) {
            continue;
        }
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", VALID_DIR, e->d_name);
        struct tcb_config_diag diag = {0};
        struct tcb_config *cfg = tcb_config_load_file(path, &diag);
        for (size_t i = 0; i < diag.count; i++) {
            print_error("%s\n", diag.lines[i]);
        }
        assert_non_null(cfg);
        assert_int_equal(diag.count, 0);
        tcb_config_destroy(cfg);
        files++;
    }
    closedir(dir);
    assert_true(files >= 3);
}

static void test_invalid_files_report_every_problem(void **state)
{
    (void)state;
    DIR *dir = opendir(INVALID_DIR);
    assert_non_null(dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (!has_suffix(e->d_name, ".yaml")) {
            continue;
        }
        char path[512], expected_path[512];
        snprintf(path, sizeof(path), "%s/%s", INVALID_DIR, e->d_name);
        snprintf(expected_path, sizeof(expected_path), "%.*s.expected",
                 (int)(strlen(path) - strlen(".yaml")), path);
        struct tcb_config_diag diag = {0};
        struct tcb_config *cfg = tcb_config_load_file(path, &diag);
        assert_null(cfg);
        char *expected = read_text(expected_path);
        /* line by line, so a failure names the first differing line */
        char *saveptr = NULL;
        size_t line_no = 0;
        for (char *line = strtok_r(expected, "\n", &saveptr); line;
             line = strtok_r(NULL, "\n", &saveptr), line_no++) {
            if (line_no >= diag.count) {
                print_error("%s: missing expected line: %s\n", path, line);
            }
            assert_true(line_no < diag.count);
            if (strcmp(line, diag.lines[line_no]) != 0) {
                print_error("%s:\n  expected: %s\n  actual:   %s\n", path, line,
                            diag.lines[line_no]);
            }
            assert_string_equal(line, diag.lines[line_no]);
        }
        if (line_no != diag.count) {
            print_error("%s: unexpected extra line: %s\n", path, diag.lines[line_no]);
        }
        assert_int_equal(line_no, diag.count);
        free(expected);
        tcb_config_diag_free(&diag);
        files++;
    }
    closedir(dir);
    assert_true(files >= 5);
}

static void test_full_file_values(void **state)
{
    (void)state;
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_file(VALID_DIR "/full.yaml", &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->kafka.brokers, "k1:9092,k2:9092");
    assert_int_equal(cfg->kafka.session_timeout_ms, 10000);
    assert_int_equal(cfg->kafka.properties.count, 2);
    assert_string_equal(cfg->kafka.properties.items[1].key, "sasl.mechanisms");
    assert_string_equal(cfg->kafka.properties.items[1].value, "PLAIN");
    assert_int_equal(cfg->clevertap.account_count, 2);
    const struct tcb_account *eu = tcb_config_find_account(cfg, "W9R-ABC-123Z");
    assert_non_null(eu);
    assert_string_equal(eu->name, "shop-eu");
    assert_int_equal(eu->max_in_flight, 15);
    assert_int_equal(eu->max_properties, 256);
    /* trailing slash dropped so "<base>/1/upload" is well formed */
    assert_string_equal(tcb_account_base_url(eu), "http://127.0.0.1:8081");
    const struct tcb_account *in = tcb_config_find_account(cfg, "shop-in");
    assert_non_null(in);
    assert_int_equal(in->max_in_flight, 5);
    assert_string_equal(tcb_account_base_url(in), "https://in1.api.clevertap.com");
    assert_int_equal(cfg->clevertap.request_timeout_ms, 5000);
    assert_int_equal(cfg->sink.batch_max_records, 500);
    assert_int_equal(cfg->sink.batch_max_bytes, 65536);
    assert_int_equal(cfg->sink.batch_linger_ms, 0);
    assert_int_equal(cfg->sink.stale_after_s, 60);
    assert_int_equal(cfg->sink.stale_policy, TCB_STALE_DEAD_LETTER);
    assert_int_equal(cfg->sink.keyed_ordering, 0);
    assert_int_equal(cfg->route_count, 1);
    assert_string_equal(cfg->routes[0].match_notification_type, "TierUpgrade");
    assert_null(cfg->routes[0].match_event_name);
    assert_int_equal(cfg->routes[0].has_stale_policy, 1);
    assert_int_equal(cfg->routes[0].stale_policy, TCB_STALE_RESTAMP);
    const struct tcb_transform_spec *t = tcb_config_find_transform(cfg, "tiers");
    assert_non_null(t);
    assert_int_equal(t->nested, TCB_NESTED_FLATTEN);
    assert_int_equal(t->include.count, 2);
    assert_string_equal(t->include.items[1], "b");
    assert_string_equal(t->rename.items[0].value, "y");
    assert_string_equal(cfg->log.level, "debug");
    assert_string_equal(cfg->log.format, "logfmt");
    tcb_config_destroy(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    struct tcb_config *cfg = tcb_config_defaults();
    assert_non_null(cfg);
    assert_string_equal(cfg->kafka.brokers, "127.0.0.1:9092");
    assert_string_equal(cfg->kafka.topic, "talon.webhooks");
    assert_string_equal(cfg->kafka.dlq_topic, "talon.webhooks.dlq");
    assert_string_equal(cfg->kafka.group_id, "clevertap-sink");
    assert_int_equal(cfg->clevertap.account_count, 0);
    assert_null(cfg->clevertap.default_account);
    assert_string_equal(cfg->ingest.listen, "127.0.0.1:8080");
    assert_int_equal(cfg->ingest.max_body_bytes, 1048576);
    assert_null(cfg->ingest.notification_secret);
    assert_int_equal(cfg->sink.batch_max_records, 1000);
    assert_int_equal(cfg->sink.batch_linger_ms, 200);
    assert_int_equal(cfg->sink.stale_after_s, 7200);
    assert_int_equal(cfg->sink.stale_policy, TCB_STALE_KEEP);
    assert_int_equal(cfg->sink.keyed_ordering, 1);
    assert_int_equal(cfg->sink.max_records_per_message, 10000);
    assert_int_equal(cfg->sink.max_output_bytes_per_message, 8388608);
    assert_int_equal(cfg->sink.no_user_policy, TCB_NO_USER_SKIP);
    assert_int_equal(cfg->sink.long_value_policy, TCB_LONG_VALUE_TRUNCATE);
    assert_string_equal(cfg->log.format, "json");
    tcb_config_destroy(cfg);
}

static void test_regions(void **state)
{
    (void)state;
    assert_string_equal(tcb_region_base_url("eu1"), "https://api.clevertap.com");
    assert_string_equal(tcb_region_base_url("aps3"), "https://aps3.api.clevertap.com");
    assert_string_equal(tcb_region_base_url("mec1"), "https://mec1.api.clevertap.com");
    assert_null(tcb_region_base_url("sk1"));
    assert_null(tcb_region_base_url(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_files_load),
        cmocka_unit_test(test_invalid_files_report_every_problem),
        cmocka_unit_test(test_full_file_values),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
