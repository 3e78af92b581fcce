/* The daemons' shared command line, run as a user would: --check-config on
 * the example and on broken files (every problem, line:col, exit 2), --help,
 * --version, usage errors, and no secret in anything printed. Runs both
 * clevertap-sink and talon-ingest from $TCB_BIN_DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#define SECRET "sup3r-secret-passcode-value"

struct run {
    int exit_code;
    char out[16384];
    char err[16384];
};

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) {
        fclose(f);
    }
}

/* Runs "$TCB_BIN_DIR/<binary> <args>" through the shell. */
static void run(struct run *r, const char *binary, const char *args)
{
    const char *bin_dir = getenv("TCB_BIN_DIR");
    assert_non_null(bin_dir);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s/%s %s >/tmp/tcb-cli-out.$PPID 2>/tmp/tcb-cli-err.$PPID", bin_dir,
             binary, args);
    int status = system(cmd); /* NOLINT(cert-env33-c): the test runs the real binary */
    assert_true(WIFEXITED(status));
    r->exit_code = WEXITSTATUS(status);
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tcb-cli-out.%d", (int)getpid());
    slurp(path, r->out, sizeof(r->out));
    remove(path);
    snprintf(path, sizeof(path), "/tmp/tcb-cli-err.%d", (int)getpid());
    slurp(path, r->err, sizeof(r->err));
    remove(path);
}

static const char *const daemons[] = {"clevertap-sink", "talon-ingest"};

static void test_check_config_example_is_fine(void **state)
{
    (void)state;
    setenv("CLEVERTAP_PASSCODE_SHOP_EU", "from-the-environment", 1);
    setenv("TALON_NOTIFICATION_SECRET", "notification-secret", 1);
    for (size_t i = 0; i < 2; i++) {
        struct run r;
        run(&r, daemons[i], "--config config/example.yaml --check-config");
        if (r.exit_code != 0) {
            print_error("%s: %s", daemons[i], r.err);
        }
        assert_int_equal(r.exit_code, 0);
        assert_string_equal(r.out, "config/example.yaml: ok\n");
    }
}

static void test_check_config_reports_every_problem(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct run r;
        run(&r, daemons[i], "--config tests/config/invalid/many_problems.yaml --check-config");
        assert_int_equal(r.exit_code, 2);
        char expected[16384];
        slurp("tests/config/invalid/many_problems.expected", expected, sizeof(expected));
        assert_string_equal(r.err, expected);
        assert_string_equal(r.out, "");
    }
}

static void test_no_secret_printed(void **state)
{
    (void)state;
    setenv("TCB_CLI_TEST_SECRET", SECRET, 1);
    const char *path = "/tmp/tcb-cli-secret.yaml";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("clevertap:\n  accounts:\n"
          "    - { name: a, account_id: b, passcode: \"${TCB_CLI_TEST_SECRET}\", region: zz9 }\n"
          "    - { name: c, account_id: d, passcode: p, region: eu1,\n"
          "        endpoint: \"${TCB_CLI_TEST_SECRET}\" }\n"
          "    - { name: e, account_id: f, passcode: p, region: eu1,\n"
          "        endpoint: \"${file:/proc/self/environ}\" }\n"
          "  default_account: \"${TCB_CLI_TEST_SECRET}\"\n"
          "ingest:\n  notification_secret: \"${TCB_CLI_TEST_SECRET}\"\n  bogus: 1\n"
          "kafka:\n  properties: { sasl.password: \"${TCB_CLI_TEST_SECRET}\" }\n",
          f);
    fclose(f);
    for (size_t i = 0; i < 2; i++) {
        struct run r;
        run(&r, daemons[i], "--config /tmp/tcb-cli-secret.yaml --check-config");
        assert_int_equal(r.exit_code, 2);
        assert_non_null(strstr(r.err, "zz9"));
        assert_non_null(strstr(r.err, "endpoint the value must start")); /* reported, not shown */
        assert_non_null(strstr(r.err, "default_account the value is not"));
        assert_null(strstr(r.err, SECRET));
        assert_null(strstr(r.out, SECRET));
    }
    remove(path);
}

static void test_help_version_usage(void **state)
{
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct run r;
        run(&r, daemons[i], "--help");
        assert_int_equal(r.exit_code, 0);
        assert_non_null(strstr(r.out, "--check-config"));
        run(&r, daemons[i], "--version");
        assert_int_equal(r.exit_code, 0);
        assert_non_null(strstr(r.out, daemons[i]));
        run(&r, daemons[i], "--no-such-option");
        assert_int_equal(r.exit_code, 2);
        assert_non_null(strstr(r.err, "--no-such-option"));
        run(&r, daemons[i], "--config");
        assert_int_equal(r.exit_code, 2);
        run(&r, daemons[i], "--config /nonexistent/x.yaml --check-config");
        assert_int_equal(r.exit_code, 2);
        assert_non_null(strstr(r.err, "/nonexistent/x.yaml:1:1: cannot open"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_config_example_is_fine),
        cmocka_unit_test(test_check_config_reports_every_problem),
        cmocka_unit_test(test_no_secret_printed),
        cmocka_unit_test(test_help_version_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
