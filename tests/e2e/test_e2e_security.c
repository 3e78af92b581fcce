/* Kafka over TLS with SASL, real brokers: each fixture's start.sh made a test
 * CA and the broker's certificate with openssl, a SASL_SSL listener and a user
 * (SCRAM-SHA-512 credentials added with kafka-storage --add-scram; PLAIN with
 * the same password). talon-ingest and clevertap-sink connect through
 * kafka.properties alone (the password from ${TCB_E2E_KAFKA_PASSWORD}):
 * - SCRAM-SHA-512 against Kafka 3.9 (real_kafka_3): webhooks in, CleverTap
 *   gets every record, offsets committed; the password is in no log;
 * - a wrong password: each daemon exits 1 at start-up, naming authentication
 *   (no silent retry loop), and never prints the password;
 * - against Kafka 4.0 (real_kafka): PLAIN over TLS works end to end; SCRAM,
 *   with the right password, cannot work with librdkafka before 2.6.1 (it
 *   sends SCRAM's nonce twice; Kafka 4 checks it, CVE-2024-56128): the daemons
 *   say so and exit 1. With a fixed librdkafka the same case must deliver. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PROFILES       40
#define ENVELOPES      20
#define RECORDS        (ENVELOPES * 10)
#define SCRAM_FIXED    0x020601ff /* librdkafka 2.6.1 */
#define WRONG_PASSWORD "not-the-kafka-password"
#define PASSWORD_ENV   "TCB_E2E_KAFKA_PASSWORD"

struct broker {
    const char *name;
    char plain[64]; /* PLAINTEXT bootstrap: the test's own clients */
    char sasl[64];  /* SASL_SSL bootstrap: the daemons */
    char ca[512];
    char user[64];
    char password[128];
};

static void read_line(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f || !fgets(out, (int)len, f)) {
        fail_msg("cannot read %s (did the fixture start?)", path);
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

/* The broker a fixture started: WORK_ENV names its directory, BOOTSTRAP_ENV
 * its PLAINTEXT address (SASL_SSL is on the port two above). */
static void load_broker(struct broker *b, const char *name, const char *work_env,
                        const char *bootstrap_env, const char *fallback)
{
    memset(b, 0, sizeof(*b));
    b->name = name;
    const char *work = getenv(work_env);
    const char *plain = getenv(bootstrap_env);
    if (!work) {
        fail_msg("%s must name the fixture's directory (ctest sets it)", work_env);
    }
    snprintf(b->plain, sizeof(b->plain), "%s", plain && *plain ? plain : fallback);
    const char *colon = strrchr(b->plain, ':');
    assert_non_null(colon);
    snprintf(b->sasl, sizeof(b->sasl), "%.*s:%ld", (int)(colon - b->plain), b->plain,
             strtol(colon + 1, NULL, 10) + 2);
    char path[600];
    snprintf(b->ca, sizeof(b->ca), "%s/tls/ca.pem", work);
    snprintf(path, sizeof(path), "%s/tls/scram-user", work);
    read_line(path, b->user, sizeof(b->user));
    snprintf(path, sizeof(path), "%s/tls/scram-password", work);
    read_line(path, b->password, sizeof(b->password));
}

/* The kafka section's extra keys: kafka.properties only. */
static const char *kafka_properties(const struct broker *b, const char *mechanism)
{
    static char text[1024];
    snprintf(text, sizeof(text),
             "  properties:\n"
             "    security.protocol: \"SASL_SSL\"\n"
             "    sasl.mechanisms: \"%s\"\n"
             "    sasl.username: \"%s\"\n"
             "    sasl.password: \"${" PASSWORD_ENV "}\"\n"
             "    ssl.ca.location: \"%s\"\n",
             mechanism, b->user, b->ca);
    return text;
}

/* Webhooks in through talon-ingest, every record at CleverTap, offsets
 * committed; neither log holds the password. */
static void run_pipeline(const struct broker *b, const char *scenario, const char *mechanism)
{
    struct sink_env env;
    e2e_env_start_at(&env, b->plain, scenario, 3, NULL, NULL);
    struct sink_opts base = {.brokers = b->sasl, .kafka_extra = kafka_properties(b, mechanism)};
    struct sink_opts opts = e2e_opts(&env, &base);
    setenv(PASSWORD_ENV, b->password, 1);
    long long start = sink_now_ms();
    struct harness_ingest ingest;
    e2e_ingest_start(&ingest, &env, "ingest", &opts);
    struct sink_proc sink;
    sink_start(&sink, &env, "sink", &opts);
    static struct e2e_item items[RECORDS];
    static char body[32768];
    for (int e = 0; e < ENVELOPES; e++) {
        size_t seq = (size_t)e * 10;
        e2e_envelope(body, sizeof(body), seq, 10, PROFILES);
        char request_id[64];
        snprintf(request_id, sizeof(request_id), "%s-%zu", scenario, seq);
        int status = 0;
        for (int tries = 0; tries < 50 && status != 200; tries++) {
            status = e2e_post_upload(&ingest, 1, body, request_id); /* a retry keeps the id */
            if (status != 200) {
                sink_sleep_ms(200); /* the producer's first SASL handshake */
            }
        }
        assert_int_equal(status, 200);
        for (size_t r = 0; r < 10; r++) {
            items[seq + r] = (struct e2e_item){.kind = E2E_VALID, .account = 1};
        }
    }
    assert_true(sink_wait_committed_to_end(&env, env.group, 120000));
    struct e2e_counts c = {.seconds = (double)(sink_now_ms() - start) / 1000.0};
    int ok = e2e_check(&env, items, RECORDS, &c);
    e2e_report(scenario, &c);
    assert_true(ok);
    assert_int_equal(c.delivered, RECORDS);
    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    assert_int_equal(sink_stop(&sink, SIGTERM), 0);
    assert_false(harness_file_contains(ingest.log_path, b->password));
    assert_false(harness_file_contains(sink.log_path, b->password));
    sink_env_stop(&env);
}

/* Runs a daemon on config until it exits (at most 90 s); returns its exit
 * status (-1: still running, killed) and how long it took in *ms. */
static int run_to_exit(const char *binary, const char *config, const char *log, long long *ms)
{
    const char *dir = getenv("TCB_BIN_DIR");
    char command[2048];
    snprintf(command, sizeof(command), "timeout -s KILL 90 %s/%s --config %s >%s 2>&1",
             dir ? dir : "build/bin", binary, config, log);
    long long start = sink_now_ms();
    int status = system(command); /* NOLINT(cert-env33-c): the binaries under test */
    *ms = sink_now_ms() - start;
    return WIFEXITED(status) && WEXITSTATUS(status) != 137 ? WEXITSTATUS(status) : -1;
}

/* Both daemons exit 1 at start-up with an error naming authentication (and
 * note, when given, in it); neither log holds password. */
static void expect_auth_failure(const struct broker *b, const char *scenario, const char *mechanism,
                                const char *password, const char *note)
{
    struct sink_env env;
    e2e_env_start_at(&env, b->plain, scenario, 1, NULL, NULL);
    struct sink_opts base = {.brokers = b->sasl, .kafka_extra = kafka_properties(b, mechanism)};
    struct sink_opts opts = e2e_opts(&env, &base);
    setenv(PASSWORD_ENV, password, 1);
    char config[512];
    snprintf(config, sizeof(config), "%s/%s.yaml", harness_tmpdir(), scenario);
    sink_write_config(config, &env, &opts);
    const char *binaries[] = {"talon-ingest", "clevertap-sink"};
    for (int i = 0; i < 2; i++) {
        char log[600];
        snprintf(log, sizeof(log), "%s/%s-%s.log", harness_tmpdir(), scenario, binaries[i]);
        long long ms = 0;
        int rc = run_to_exit(binaries[i], config, log, &ms);
        printf("%s, %s: %s exited %d after %.1f s\n", b->name, scenario, binaries[i], rc,
               (double)ms / 1000.0);
        if (rc != 1 || !harness_file_contains(log, "Kafka authentication failed") ||
            (note && !harness_file_contains(log, note))) {
            char cat[700];
            snprintf(cat, sizeof(cat), "cat %s >&2", log);
            (void)system(cat); /* NOLINT(cert-env33-c): the failing daemon's log */
            fail_msg("%s did not stop with an authentication error", binaries[i]);
        }
        assert_false(harness_file_contains(log, password));
    }
    sink_env_stop(&env);
}

static void test_scram_over_tls_on_kafka_3(void **state)
{
    (void)state;
    struct broker b;
    load_broker(&b, "Kafka 3.9", "TCB_E2E_KAFKA3_WORK", "TCB_E2E_KAFKA3_BOOTSTRAP",
                "127.0.0.1:29095");
    run_pipeline(&b, "sasl-scram-kafka3", "SCRAM-SHA-512");
}

static void test_wrong_password_stops_start_up(void **state)
{
    (void)state;
    struct broker b;
    load_broker(&b, "Kafka 3.9", "TCB_E2E_KAFKA3_WORK", "TCB_E2E_KAFKA3_BOOTSTRAP",
                "127.0.0.1:29095");
    expect_auth_failure(&b, "wrong-password", "SCRAM-SHA-512", WRONG_PASSWORD, NULL);
}

static void test_kafka_4_over_tls(void **state)
{
    (void)state;
    struct broker b;
    load_broker(&b, "Kafka 4.0", "TCB_E2E_KAFKA_WORK", "TCB_E2E_BOOTSTRAP", "127.0.0.1:29092");
    run_pipeline(&b, "sasl-plain-kafka4", "PLAIN");
    expect_auth_failure(&b, "wrong-password-kafka4", "PLAIN", WRONG_PASSWORD, NULL);
    if (rd_kafka_version() < SCRAM_FIXED) {
        printf("librdkafka %s: SCRAM against Kafka 4 fails whatever the password "
               "(librdkafka #4895); the daemons must say so\n",
               rd_kafka_version_str());
        expect_auth_failure(&b, "scram-kafka4", "SCRAM-SHA-512", b.password, "librdkafka #4895");
    } else {
        run_pipeline(&b, "sasl-scram-kafka4", "SCRAM-SHA-512");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_scram_over_tls_on_kafka_3, sink_teardown),
        cmocka_unit_test_teardown(test_wrong_password_stops_start_up, sink_teardown),
        cmocka_unit_test_teardown(test_kafka_4_over_tls, sink_teardown),
    };
    return E2E_RUN(tests);
}
