/* The metrics registry renders the Prometheus text format exactly: HELP/TYPE
 * lines, label escaping, histogram buckets with +Inf, _sum and _count, and a
 * bounded number of series per metric. */
#include "common/metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_render_exact_text(void **state)
{
    (void)state;
    struct tcb_metrics *m = tcb_metrics_create();
    assert_non_null(m);
    static const char *const by_stage[] = {"stage", "code", NULL};
    struct tcb_metric *records =
        tcb_metrics_counter(m, "tcb_records_in_total", "Records read.", NULL);
    struct tcb_metric *dead = tcb_metrics_counter(
        m, "tcb_dead_letters_total", "Dead letters by stage\nand code \\ escaped.", by_stage);
    struct tcb_metric *inflight =
        tcb_metrics_gauge(m, "tcb_in_flight", "Requests in flight.", NULL);
    static const double bounds[] = {0.1, 0.5, 2.5};
    static const char *const by_account[] = {"account", NULL};
    struct tcb_metric *latency =
        tcb_metrics_histogram(m, "tcb_upload_seconds", "Upload latency.", by_account, bounds, 3);
    assert_non_null(records);
    assert_non_null(dead);
    assert_non_null(inflight);
    assert_non_null(latency);

    tcb_counter_add(records, NULL, 3);
    tcb_counter_add(records, NULL, 2);
    tcb_counter_add(records, NULL, -1); /* counters never go down */
    const char *v1[] = {"validation", "513"};
    const char *v2[] = {"tr\"ans\\form\n", "0"};
    tcb_counter_add(dead, v1, 1);
    tcb_counter_add(dead, v2, 4);
    tcb_counter_add(dead, v1, 1);
    tcb_gauge_set(inflight, NULL, 7);
    tcb_gauge_add(inflight, NULL, -2.5);
    const char *acc[] = {"shop-eu"};
    tcb_histogram_observe(latency, acc, 0.05);
    tcb_histogram_observe(latency, acc, 0.5); /* le is inclusive */
    tcb_histogram_observe(latency, acc, 3);

    size_t len = 0;
    char *text = tcb_metrics_render(m, &len);
    assert_non_null(text);
    const char *expected =
        "# HELP tcb_metrics_dropped_series_total Label sets not recorded because a metric "
        "reached its series limit.\n"
        "# TYPE tcb_metrics_dropped_series_total counter\n"
        "# HELP tcb_records_in_total Records read.\n"
        "# TYPE tcb_records_in_total counter\n"
        "tcb_records_in_total 5\n"
        "# HELP tcb_dead_letters_total Dead letters by stage\\nand code \\\\ escaped.\n"
        "# TYPE tcb_dead_letters_total counter\n"
        "tcb_dead_letters_total{stage=\"validation\",code=\"513\"} 2\n"
        "tcb_dead_letters_total{stage=\"tr\\\"ans\\\\form\\n\",code=\"0\"} 4\n"
        "# HELP tcb_in_flight Requests in flight.\n"
        "# TYPE tcb_in_flight gauge\n"
        "tcb_in_flight 4.5\n"
        "# HELP tcb_upload_seconds Upload latency.\n"
        "# TYPE tcb_upload_seconds histogram\n"
        "tcb_upload_seconds_bucket{account=\"shop-eu\",le=\"0.1\"} 1\n"
        "tcb_upload_seconds_bucket{account=\"shop-eu\",le=\"0.5\"} 2\n"
        "tcb_upload_seconds_bucket{account=\"shop-eu\",le=\"2.5\"} 2\n"
        "tcb_upload_seconds_bucket{account=\"shop-eu\",le=\"+Inf\"} 3\n"
        "tcb_upload_seconds_sum{account=\"shop-eu\"} 3.55\n"
        "tcb_upload_seconds_count{account=\"shop-eu\"} 3\n";
    if (strcmp(text, expected) != 0) {
        print_error("rendered:\n%s", text);
    }
    assert_string_equal(text, expected);
    assert_int_equal(len, strlen(expected));
    free(text);
    tcb_metrics_destroy(m);
}

static void test_unlabelled_histogram_and_bad_names(void **state)
{
    (void)state;
    struct tcb_metrics *m = tcb_metrics_create();
    static const double bounds[] = {1, 10};
    struct tcb_metric *h =
        tcb_metrics_histogram(m, "batch_records", "Batch size.", NULL, bounds, 2);
    assert_non_null(h);
    assert_null(tcb_metrics_counter(m, "batch_records", "duplicate", NULL));
    assert_null(tcb_metrics_counter(m, "9starts_with_digit", "", NULL));
    assert_null(tcb_metrics_counter(m, "has-dash", "", NULL));
    static const char *const bad_label[] = {"le:x", NULL};
    assert_null(tcb_metrics_counter(m, "ok_name", "", bad_label));
    static const double unsorted[] = {5, 1};
    assert_null(tcb_metrics_histogram(m, "h2", "", NULL, unsorted, 2));
    tcb_histogram_observe(h, NULL, 10);
    tcb_histogram_observe(h, NULL, 1000);
    tcb_counter_add(NULL, NULL, 1); /* a NULL metric is ignored */
    static const char *const labels[] = {"account", NULL};
    struct tcb_metric *labelled = tcb_metrics_counter(m, "labelled", "L.", labels);
    tcb_counter_add(labelled, NULL, 2); /* missing label values read as "" */
    char *text = tcb_metrics_render(m, NULL);
    assert_non_null(strstr(text, "batch_records_bucket{le=\"1\"} 0\n"
                                 "batch_records_bucket{le=\"10\"} 1\n"
                                 "batch_records_bucket{le=\"+Inf\"} 2\n"
                                 "batch_records_sum 1010\n"
                                 "batch_records_count 2\n"));
    assert_non_null(strstr(text, "labelled{account=\"\"} 2\n"));
    free(text);
    tcb_metrics_destroy(m);
}

static void test_series_are_bounded(void **state)
{
    (void)state;
    struct tcb_metrics *m = tcb_metrics_create();
    static const char *const labels[] = {"partition", NULL};
    struct tcb_metric *lag = tcb_metrics_gauge(m, "lag", "Lag.", labels);
    char value[16];
    const char *lv[] = {value};
    for (int i = 0; i < TCB_METRICS_MAX_SERIES + 10; i++) {
        snprintf(value, sizeof(value), "%d", i);
        tcb_gauge_set(lag, lv, i);
    }
    char *text = tcb_metrics_render(m, NULL);
    assert_non_null(strstr(text, "lag{partition=\"511\"} 511\n"));
    assert_null(strstr(text, "lag{partition=\"512\"}"));
    assert_non_null(strstr(text, "tcb_metrics_dropped_series_total{metric=\"lag\"} 10\n"));
    free(text);
    tcb_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact_text),
        cmocka_unit_test(test_unlabelled_histogram_and_bad_names),
        cmocka_unit_test(test_series_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
