/* talon-ingest over HTTPS, as a real process against kafka-dev-broker, with
 * certificates made by openssl at test time (no key is committed): clients
 * trusting the certificate get their 200; after the files are replaced and
 * SIGHUP, new clients get the new certificate while an open keep-alive
 * connection goes on; a broken certificate at reload keeps the old one and
 * says why; a broken one at start-up stops the daemon. */
#include "tests/ingest/ingest_harness.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define TOPIC      "talon.webhooks"
#define ACCOUNT_ID "W9R-TLS-01"
#define PASSCODE   "tls-passcode-value"
#define BODY       "{\"d\":[{\"identity\":\"tls\"}]}"

static struct harness_broker broker;
static struct harness_ingest ingest;
static char dir[256];
static char live_cert[512], live_key[512];

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* A self-signed P-256 certificate for 127.0.0.1 named CN=talon-ingest-<tag>:
 * <tag>.crt and <tag>.key in the test directory. */
static int make_certificate(const char *tag)
{
    char command[1024];
    snprintf(command, sizeof(command),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-days 2 -subj /CN=talon-ingest-%s -addext subjectAltName=IP:127.0.0.1 "
             "-keyout %s/%s.key -out %s/%s.crt >/dev/null 2>&1",
             tag, dir, tag, dir, tag);
    int status = system(command); /* NOLINT(cert-env33-c): test fixtures from openssl */
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void copy_file(const char *from, const char *to)
{
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp", to);
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(tmp, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(rename(tmp, to), 0); /* a reload never sees half a file */
}

/* Puts <tag>.crt and <tag>.key (or the given files) in place. */
static void install(const char *cert_tag, const char *key_tag)
{
    char from[512];
    char name[64];
    snprintf(name, sizeof(name), "%s.crt", cert_tag);
    path_of(from, sizeof(from), name);
    copy_file(from, live_cert);
    snprintf(name, sizeof(name), "%s.key", key_tag);
    path_of(from, sizeof(from), name);
    copy_file(from, live_key);
}

static const char *yaml(void)
{
    static char text[2048];
    snprintf(text, sizeof(text),
             "kafka:\n  brokers: \"%s\"\n  topic: \"" TOPIC "\"\n"
             "clevertap:\n  accounts:\n"
             "    - { name: shop, account_id: \"" ACCOUNT_ID "\", passcode: \"" PASSCODE
             "\", region: eu1 }\n"
             "ingest:\n  listen: \"127.0.0.1:0\"\n  metrics_listen: \"127.0.0.1:0\"\n"
             "  tls_cert_file: \"%s\"\n  tls_key_file: \"%s\"\n"
             "log: { level: info }\n",
             broker.bootstrap, live_cert, live_key);
    return text;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s", harness_tmpdir());
    path_of(live_cert, sizeof(live_cert), "live.crt");
    path_of(live_key, sizeof(live_key), "live.key");
    if (make_certificate("a") != 0 || make_certificate("b") != 0 ||
        harness_broker_start(&broker, TOPIC ":2") != 0) {
        return -1;
    }
    install("a", "a");
    return harness_ingest_start(&ingest, "tls", yaml());
}

static int teardown(void **state)
{
    (void)state;
    harness_teardown(&ingest, &broker);
    return 0;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* A client trusting only <tag>.crt; reuse it for keep-alive. */
static CURL *client(const char *tag)
{
    char ca[512];
    char name[64];
    snprintf(name, sizeof(name), "%s.crt", tag);
    path_of(ca, sizeof(ca), name);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    return curl;
}

/* POSTs BODY over the client's (maybe reused) connection: the status, or -1
 * when the TLS handshake or the transfer failed. *reused tells whether an
 * open connection carried it. */
static long post_https(CURL *curl, int *reused)
{
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/1/upload", ingest.port);
    struct curl_slist *headers = curl_slist_append(NULL, "X-CleverTap-Account-Id: " ACCOUNT_ID);
    headers = curl_slist_append(headers, "X-CleverTap-Passcode: " PASSCODE);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, BODY);
    long status = -1;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    long connects = 0;
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    if (reused != NULL) {
        *reused = connects == 0;
    }
    curl_slist_free_all(headers);
    return status;
}

static long post_once(const char *trusting)
{
    CURL *curl = client(trusting);
    long status = post_https(curl, NULL);
    curl_easy_cleanup(curl);
    return status;
}

/* SIGHUP, then waits for the log line saying how the reload went. */
static void reload_and_wait(const char *event)
{
    assert_int_equal(kill(ingest.pid, SIGHUP), 0);
    for (int i = 0; i < 200 && !harness_file_contains(ingest.log_path, event); i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_true(harness_file_contains(ingest.log_path, event));
}

static void test_https_with_the_configured_certificate(void **state)
{
    (void)state;
    assert_int_equal(post_once("a"), 200);
    assert_int_equal(post_once("b"), -1); /* only certificate a is served */
}

/* New certificate files + SIGHUP: new handshakes present it, an open
 * keep-alive connection keeps working, the daemon never stopped. */
static void test_reload_serves_the_new_certificate(void **state)
{
    (void)state;
    CURL *kept = client("a");
    int reused = 1;
    assert_int_equal(post_https(kept, &reused), 200);
    assert_false(reused);
    install("b", "b");
    reload_and_wait("ingest.tls_reloaded");
    assert_int_equal(post_once("b"), 200);
    assert_int_equal(post_once("a"), -1);
    assert_int_equal(post_https(kept, &reused), 200); /* the connection from before */
    assert_true(reused);
    curl_easy_cleanup(kept);
}

/* A broken certificate (or a key of another certificate) at reload: the
 * current one stays in use and the log says why. */
static void test_bad_reload_keeps_the_current_certificate(void **state)
{
    (void)state;
    FILE *f = fopen(live_cert, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    reload_and_wait("ingest.tls_reload_failed");
    assert_true(harness_file_contains(ingest.log_path, "keeping the current certificate"));
    assert_int_equal(post_once("b"), 200);

    install("a", "b"); /* certificate a with key b */
    assert_int_equal(truncate(ingest.log_path, 0), 0);
    reload_and_wait("ingest.tls_reload_failed");
    assert_int_equal(post_once("b"), 200);
    assert_int_equal(post_once("a"), -1);
}

/* A certificate that cannot be loaded at start-up stops the daemon (exit 1)
 * with the reason, instead of serving plain HTTP. */
static void test_bad_certificate_at_start(void **state)
{
    (void)state;
    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    FILE *f = fopen(live_key, "w");
    assert_non_null(f);
    fputs("garbage\n", f);
    fclose(f);
    struct harness_ingest broken = {0};
    assert_int_equal(harness_ingest_start(&broken, "tls-broken", yaml()), -1);
    assert_int_equal(broken.exit_code, 1);
    assert_true(harness_file_contains(broken.log_path, "tls_key_file cannot be used"));
    install("a", "a");
    assert_int_equal(harness_ingest_start(&ingest, "tls-again", yaml()), 0);
    assert_int_equal(post_once("a"), 200);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_with_the_configured_certificate),
        cmocka_unit_test(test_reload_serves_the_new_certificate),
        cmocka_unit_test(test_bad_reload_keeps_the_current_certificate),
        cmocka_unit_test(test_bad_certificate_at_start),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
