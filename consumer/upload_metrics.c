/* Registration of the uploader's metrics; updating them is the client's job.
 * Labels carry account names and CleverTap codes only, never ids or secrets. */
#include "consumer/upload_metrics.h"

#include "common/metrics.h"

#include <string.h>

void tcb_upload_metrics_register(struct tcb_upload_metrics *m, struct tcb_metrics *metrics)
{
    static const char *const by_account[] = {"account", NULL};
    static const char *const by_result[] = {"account", "result", NULL};
    static const char *const by_code[] = {"account", "code", NULL};
    static const char *const by_reason[] = {"account", "reason", NULL};
    static const double sizes[] = {1, 5, 10, 50, 100, 250, 500, 750, 1000};
    /* Fine steps from 0.2 to 0.5 s, where CleverTap's answers usually fall, so a
     * p50/p99 read from the histogram is not a guess across one wide bucket. */
    static const double seconds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35,
                                     0.4,   0.45, 0.5,   0.75, 1,   2.5,  5,   10,   30,  60};
    memset(m, 0, sizeof(*m));
    if (!metrics) {
        return;
    }
    m->uploads = tcb_metrics_counter(metrics, "tcb_upload_requests_total",
                                     "Upload requests finished, by result", by_result);
    m->records_uploaded = tcb_metrics_counter(metrics, "tcb_upload_records_accepted_total",
                                              "Records CleverTap accepted", by_account);
    m->records_rejected =
        tcb_metrics_counter(metrics, "tcb_upload_records_rejected_total",
                            "Records CleverTap refused for good, by CleverTap code", by_code);
    m->records_exhausted = tcb_metrics_counter(
        metrics, "tcb_upload_records_exhausted_total",
        "Records whose retry budget ran out (dead-lettered as exhausted)", by_account);
    m->ambiguous = tcb_metrics_counter(
        metrics, "tcb_upload_ambiguous_answers_total",
        "2xx answers that did not account for every record sent (resent in halves)", by_account);
    m->retries = tcb_metrics_counter(metrics, "tcb_upload_retries_total",
                                     "Batches scheduled for another attempt, by reason", by_reason);
    m->throttled =
        tcb_metrics_counter(metrics, "tcb_upload_throttled_total", "HTTP 429 answers", by_account);
    m->echo_mismatches = tcb_metrics_counter(
        metrics, "tcb_upload_echo_mismatches_total",
        "Unprocessed entries whose record number and echo disagreed", by_account);
    m->batch_records =
        tcb_metrics_histogram(metrics, "tcb_upload_batch_records", "Records per upload request",
                              by_account, sizes, sizeof(sizes) / sizeof(sizes[0]));
    m->latency =
        tcb_metrics_histogram(metrics, "tcb_upload_request_seconds", "Upload request latency",
                              by_account, seconds, sizeof(seconds) / sizeof(seconds[0]));
    m->in_flight = tcb_metrics_gauge(metrics, "tcb_upload_in_flight_requests",
                                     "Upload requests on the wire", by_account);
    m->halted = tcb_metrics_gauge(metrics, "tcb_upload_account_halted",
                                  "1 while 401/403 halts the account", by_account);
}
