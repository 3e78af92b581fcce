/* ${ENV}, ${ENV:-fallback} and ${file:/path} substitution, and the promise
 * that no secret value ever appears in a diagnostic, whatever is wrong. */
#include "config/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define SECRET "hunter2-s3cr3t-value"

static struct tcb_config *load(const char *yaml, struct tcb_config_diag *diag)
{
    return tcb_config_load_buffer("test.yaml", yaml, strlen(yaml), diag);
}

static void assert_no_secret(const struct tcb_config_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++) {
        if (strstr(diag->lines[i], SECRET)) {
            print_error("secret leaked: %s\n", diag->lines[i]);
        }
        assert_null(strstr(diag->lines[i], SECRET));
    }
}

static void test_env_and_fallback(void **state)
{
    (void)state;
    setenv("TCB_TEST_PASSCODE", SECRET, 1);
    unsetenv("TCB_TEST_MISSING");
    const char *yaml = "clevertap:\n"
                       "  accounts:\n"
                       "    - name: a\n"
                       "      account_id: \"${TCB_TEST_MISSING:-fallback-id}\"\n"
                       "      passcode: \"pre-${TCB_TEST_PASSCODE}-post\"\n"
                       "      region: eu1\n"
                       "kafka:\n"
                       "  topic: \"literal $${NOT_EXPANDED} $ sign\"\n";
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->clevertap.accounts[0].account_id, "fallback-id");
    assert_string_equal(cfg->clevertap.accounts[0].passcode, "pre-" SECRET "-post");
    assert_string_equal(cfg->kafka.topic, "literal ${NOT_EXPANDED} $ sign");
    tcb_config_destroy(cfg);
}

static void test_file_substitution(void **state)
{
    (void)state;
    char path[] = "/tmp/tcb-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, SECRET "\n", strlen(SECRET) + 1), (ssize_t)strlen(SECRET) + 1);
    close(fd);
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "ingest:\n  notification_secret: \"${file:%s}\"\n  max_connections: 12\n", path);
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->ingest.notification_secret, SECRET); /* newline dropped */
    tcb_config_destroy(cfg);
    unlink(path);
}

static void test_missing_variable_names_key_and_variable(void **state)
{
    (void)state;
    unsetenv("TCB_TEST_MISSING");
    const char *yaml = "ingest:\n  notification_secret: \"${TCB_TEST_MISSING}\"\n";
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_null(cfg);
    assert_int_equal(diag.count, 1);
    assert_string_equal(diag.lines[0], "test.yaml:2:24: notification_secret: environment "
                                       "variable TCB_TEST_MISSING is not set");
    tcb_config_diag_free(&diag);
}

static void test_secrets_never_in_diagnostics(void **state)
{
    (void)state;
    setenv("TCB_TEST_PASSCODE", SECRET, 1);
    /* Every way a secret-bearing key can be wrong, plus a wrong region next
     * to it: no message may carry the value. */
    const char *yaml = "kafka:\n"
                       "  properties:\n"
                       "    sasl.password: \"${TCB_TEST_PASSCODE}\"\n"
                       "    sasl.password: \"" SECRET "\"\n"
                       "clevertap:\n"
                       "  accounts:\n"
                       "    - name: a\n"
                       "      account_id: b\n"
                       "      passcode: [\"" SECRET "\"]\n"
                       "      region: \"${TCB_TEST_PASSCODE}\"\n"
                       "      max_in_flight: \"${TCB_TEST_PASSCODE}\"\n"
                       "    - name: c\n"
                       "      account_id: d\n"
                       "      passcode: \"${TCB_TEST_PASSCODE}\"\n"
                       "      region: \"nowhere\"\n"
                       "      passcode: \"" SECRET "\"\n"
                       "ingest:\n"
                       "  notification_secret: { nested: \"" SECRET "\" }\n";
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_null(cfg);
    assert_true(diag.count >= 5);
    assert_no_secret(&diag);
    tcb_config_diag_free(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_and_fallback),
        cmocka_unit_test(test_file_substitution),
        cmocka_unit_test(test_missing_variable_names_key_and_variable),
        cmocka_unit_test(test_secrets_never_in_diagnostics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
