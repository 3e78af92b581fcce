/* clevertap-sink verifies CleverTap's certificate: against an emulator that
 * speaks HTTPS with a certificate openssl makes at test time (no key is
 * committed), a sink that does not trust it sends nothing (every request
 * fails as a transport error, a warning says the certificate is not trusted,
 * records are kept: nothing dead-lettered, nothing committed); with the
 * certificate's CA in clevertap.ca_file, everything is delivered. An
 * unreadable ca_file stops the sink at start-up. */
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

static char cert[512], key[512];

/* A self-signed P-256 certificate for 127.0.0.1 (its own CA). */
static void make_certificate(void)
{
    snprintf(cert, sizeof(cert), "%s/emulator.crt", harness_tmpdir());
    snprintf(key, sizeof(key), "%s/emulator.key", harness_tmpdir());
    char command[1400];
    snprintf(command, sizeof(command),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-days 2 -subj /CN=clevertap-emulator-test -addext subjectAltName=IP:127.0.0.1 "
             "-keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    int status = system(command); /* NOLINT(cert-env33-c): test fixtures from openssl */
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

struct quiet {
    const struct sink_proc *p;
};

/* The untrusting member has tried and failed several times, and said why. */
static int refused_often(void *ctx)
{
    const struct quiet *q = ctx;
    double failed = sink_metric(q->p, "tcb_upload_retries_total", NULL);
    return failed >= 3 && harness_file_contains(q->p->log_path, "certificate is not trusted");
}

static void test_untrusted_certificate_fails_visibly(void **state)
{
    (void)state;
    make_certificate();
    const char *emu_args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    struct sink_env env;
    sink_env_start(&env, 2, emu_args);
    struct workload w = {.count = MESSAGES, .profiles = 50};
    sink_produce(&env, w.count, workload_make, &w, NULL);

    /* No ca_file: the system's trust store does not know the test certificate. */
    struct sink_opts untrusting = {.https = 1};
    struct sink_proc p;
    sink_start(&p, &env, "untrusting", &untrusting);
    struct quiet q = {&p};
    if (!sink_wait(refused_often, &q, 30000)) {
        sink_print_log(&p);
        fail_msg("the sink did not report the untrusted certificate");
    }
    assert_true(
        sink_metric(&p, "tcb_upload_retries_total", "account=\"one\",reason=\"transport\"") >= 3);
    assert_true(harness_file_contains(p.log_path, "event=upload.transport"));
    char body[256];
    assert_int_equal(sink_http_get(&p, "/readyz", body, sizeof(body)), 200); /* no halt: retries */
    assert_int_equal(sink_stop(&p, SIGTERM), 0);
    int counts[MESSAGES] = {0};
    assert_int_equal(sink_recorded(&env, counts, NULL, MESSAGES, NULL), 0);
    size_t dead = 0;
    free(sink_read_dlq(&env, &dead));
    assert_int_equal(dead, 0); /* records kept, never dead-lettered */
    int64_t committed[HARNESS_MAX_PARTITIONS];
    assert_int_equal(sink_committed(&env, env.group, committed), 0);
    for (int i = 0; i < env.partitions; i++) {
        assert_true(committed[i] <= 0); /* nothing was final: no offset past the first */
    }

    /* Trusting the certificate through clevertap.ca_file: all delivered. */
    char extra[700];
    snprintf(extra, sizeof(extra), "  ca_file: \"%s\"\n", cert);
    struct sink_opts trusting = {.https = 1, .clevertap_extra = extra};
    sink_start(&p, &env, "trusting", &trusting);
    assert_true(sink_wait_committed_to_end(&env, env.group, 60000));
    struct outcome_counts c;
    int ok = workload_check(&env, &w, NULL, &c);
    workload_report("tls", &c);
    assert_true(ok);
    assert_int_equal(c.duplicates, 0);
    assert_int_equal(sink_stop(&p, SIGTERM), 0);
    assert_false(harness_file_contains(p.log_path, "event=upload.transport"));
    sink_env_stop(&env);
}

static void test_unreadable_ca_file_stops_start_up(void **state)
{
    (void)state;
    struct sink_env env;
    sink_env_start(&env, 1, NULL);
    struct sink_opts opts = {.https = 1,
                             .clevertap_extra = "  ca_file: \"/nonexistent/tcb-test-ca.pem\"\n"};
    char config[512], log[600], command[1600];
    snprintf(config, sizeof(config), "%s/bad-ca.yaml", harness_tmpdir());
    snprintf(log, sizeof(log), "%s/bad-ca.log", harness_tmpdir());
    sink_write_config(config, &env, &opts);
    const char *dir = getenv("TCB_BIN_DIR");
    snprintf(command, sizeof(command), "timeout 30 %s/clevertap-sink --config %s >%s 2>&1",
             dir ? dir : "build/bin", config, log);
    int status = system(command); /* NOLINT(cert-env33-c): the binary under test */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(harness_file_contains(log, "clevertap.ca_file: cannot read"));
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_untrusted_certificate_fails_visibly, sink_teardown),
        cmocka_unit_test_teardown(test_unreadable_ca_file_stops_start_up, sink_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sink_group_teardown);
}
