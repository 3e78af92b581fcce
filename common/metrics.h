/* A small, thread-safe metrics registry (counters, gauges, histograms with
 * labels) rendered in the Prometheus text exposition format. Bounded: each
 * metric holds at most TCB_METRICS_MAX_SERIES label sets; further label sets
 * are dropped and counted in tcb_metrics_dropped_series_total. */
#ifndef TCB_COMMON_METRICS_H
#define TCB_COMMON_METRICS_H

#include <stddef.h>

#define TCB_METRICS_MAX_LABELS  4
#define TCB_METRICS_MAX_SERIES  512
#define TCB_METRICS_MAX_BUCKETS 24

struct tcb_metrics;
struct tcb_metric;

/* New registry (never NULL). */
struct tcb_metrics *tcb_metrics_create(void);
/* Frees the registry and every metric in it; accepts NULL. Metric handles
 * become invalid. */
void tcb_metrics_destroy(struct tcb_metrics *metrics);

/* Registers a metric. name and help are copied. label_names is a
 * NULL-terminated array of at most TCB_METRICS_MAX_LABELS names (NULL for none),
 * copied. Returns a handle borrowed from the registry (valid until
 * tcb_metrics_destroy), or NULL on a bad name or a duplicate name.
 * Registering is not meant for hot paths; do it at start-up. */
struct tcb_metric *tcb_metrics_counter(struct tcb_metrics *metrics, const char *name,
                                       const char *help, const char *const *label_names);
struct tcb_metric *tcb_metrics_gauge(struct tcb_metrics *metrics, const char *name,
                                     const char *help, const char *const *label_names);
/* bounds: bucket_count ascending upper bounds (<= TCB_METRICS_MAX_BUCKETS);
 * the +Inf bucket is implicit. */
struct tcb_metric *tcb_metrics_histogram(struct tcb_metrics *metrics, const char *name,
                                         const char *help, const char *const *label_names,
                                         const double *bounds, size_t bucket_count);

/* Updates one series. label_values: as many strings as the metric has label
 * names (NULL when it has none); copied when the series is new. A NULL metric
 * is ignored so optional metrics need no checks at call sites. */
void tcb_counter_add(struct tcb_metric *metric, const char *const *label_values, double delta);
void tcb_gauge_set(struct tcb_metric *metric, const char *const *label_values, double value);
void tcb_gauge_add(struct tcb_metric *metric, const char *const *label_values, double delta);
void tcb_histogram_observe(struct tcb_metric *metric, const char *const *label_values,
                           double value);

/* Renders every metric in registration order (series in first-seen order).
 * Returns a new NUL-terminated string the caller frees (never NULL);
 * *len receives its length when len is not NULL. */
char *tcb_metrics_render(struct tcb_metrics *metrics, size_t *len);

#endif
