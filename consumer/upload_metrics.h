/* The uploader's metrics in the shared registry (common/metrics.h): uploads by
 * result, records uploaded and rejected (by code), retries, 429s, batch size,
 * request latency, in-flight requests, exhausted budgets, ambiguous answers. All handles may be
 * NULL (no registry). */
#ifndef TCB_CONSUMER_UPLOAD_METRICS_H
#define TCB_CONSUMER_UPLOAD_METRICS_H

struct tcb_metrics;
struct tcb_metric;

struct tcb_upload_metrics {
    struct tcb_metric *uploads;           /* counter {account, result} */
    struct tcb_metric *records_uploaded;  /* counter {account} */
    struct tcb_metric *records_rejected;  /* counter {account, code} */
    struct tcb_metric *records_exhausted; /* counter {account} */
    struct tcb_metric *ambiguous;         /* counter {account}: 2xx not naming every record */
    struct tcb_metric *retries;           /* counter {account, reason} */
    struct tcb_metric *throttled;         /* counter {account}: HTTP 429 */
    struct tcb_metric *echo_mismatches;   /* counter {account} */
    struct tcb_metric *batch_records;     /* histogram {account} */
    struct tcb_metric *latency;           /* histogram {account}, seconds */
    struct tcb_metric *in_flight;         /* gauge {account}: requests on the wire */
    struct tcb_metric *halted;            /* gauge {account}: 1 while 401/403 halts it */
};

/* Registers every metric in metrics (borrowed; NULL leaves every handle NULL).
 * A name already registered leaves that handle NULL. */
void tcb_upload_metrics_register(struct tcb_upload_metrics *m, struct tcb_metrics *metrics);

#endif
