/* Metrics registry: stores counters, gauges and histograms by label set under
 * one mutex and renders them in the Prometheus text format (version 0.0.4).
 * Bounded series per metric; it never does I/O. */
#include "common/metrics.h"

#include "util/alloc.h"
#include "util/buf.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct series {
    char *label_values[TCB_METRICS_MAX_LABELS];
    double value;                                        /* counter / gauge */
    uint64_t bucket_counts[TCB_METRICS_MAX_BUCKETS + 1]; /* per bucket, last = +Inf */
    double sum;
    uint64_t count;
};

struct tcb_metric {
    struct tcb_metrics *owner;
    enum metric_type type;
    char *name;
    char *help;
    char *label_names[TCB_METRICS_MAX_LABELS];
    size_t label_count;
    double bounds[TCB_METRICS_MAX_BUCKETS];
    size_t bucket_count;
    struct series *series;
    size_t series_count;
    struct tcb_metric *next;
};

struct tcb_metrics {
    pthread_mutex_t lock;
    struct tcb_metric *first;
    struct tcb_metric *last;
    struct tcb_metric *dropped_series;
};

static void metric_free(struct tcb_metric *metric)
{
    if (!metric) {
        return;
    }
    for (size_t s = 0; s < metric->series_count; s++) {
        for (size_t l = 0; l < metric->label_count; l++) {
            free(metric->series[s].label_values[l]);
        }
    }
    for (size_t l = 0; l < metric->label_count; l++) {
        free(metric->label_names[l]);
    }
    free(metric->series);
    free(metric->name);
    free(metric->help);
    free(metric);
}

void tcb_metrics_destroy(struct tcb_metrics *metrics)
{
    if (!metrics) {
        return;
    }
    struct tcb_metric *metric = metrics->first;
    while (metric) {
        struct tcb_metric *next = metric->next;
        metric_free(metric);
        metric = next;
    }
    pthread_mutex_destroy(&metrics->lock);
    free(metrics);
}

struct tcb_metrics *tcb_metrics_create(void)
{
    struct tcb_metrics *metrics = tcb_xcalloc(1, sizeof(*metrics));
    pthread_mutex_init(&metrics->lock, NULL);
    static const char *const labels[] = {"metric", NULL};
    metrics->dropped_series = tcb_metrics_counter(
        metrics, "tcb_metrics_dropped_series_total",
        "Label sets not recorded because a metric reached its series limit.", labels);
    if (!metrics->dropped_series) {
        tcb_metrics_destroy(metrics);
        return NULL;
    }
    return metrics;
}

/* Prometheus metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':'). */
static int valid_name(const char *name, int allow_colon)
{
    if (!name || !*name || (name[0] >= '0' && name[0] <= '9')) {
        return 0;
    }
    for (const char *p = name; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '_' || (allow_colon && *p == ':');
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

static struct tcb_metric *find_metric(struct tcb_metrics *metrics, const char *name)
{
    for (struct tcb_metric *m = metrics->first; m; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            return m;
        }
    }
    return NULL;
}

static struct tcb_metric *metric_register(struct tcb_metrics *metrics, enum metric_type type,
                                          const char *name, const char *help,
                                          const char *const *label_names, const double *bounds,
                                          size_t bucket_count)
{
    if (!metrics || !valid_name(name, 1) || bucket_count > TCB_METRICS_MAX_BUCKETS) {
        return NULL;
    }
    struct tcb_metric *metric = tcb_xcalloc(1, sizeof(*metric));
    metric->owner = metrics;
    metric->type = type;
    metric->name = tcb_xstrdup(name);
    metric->help = tcb_xstrdup(help ? help : "");
    metric->series = tcb_xcalloc(TCB_METRICS_MAX_SERIES, sizeof(*metric->series));
    for (size_t i = 0; label_names && label_names[i]; i++) {
        if (i >= TCB_METRICS_MAX_LABELS || !valid_name(label_names[i], 0)) {
            goto fail;
        }
        metric->label_names[i] = tcb_xstrdup(label_names[i]);
        metric->label_count = i + 1;
    }
    for (size_t i = 0; i < bucket_count; i++) {
        if (i > 0 && !(bounds[i] > bounds[i - 1])) {
            goto fail;
        }
        metric->bounds[i] = bounds[i];
    }
    metric->bucket_count = bucket_count;
    if (metric->label_count == 0) {
        metric->series_count = 1; /* an unlabelled metric always renders, from 0 */
    }

    pthread_mutex_lock(&metrics->lock);
    if (find_metric(metrics, name)) {
        pthread_mutex_unlock(&metrics->lock);
        goto fail;
    }
    if (metrics->last) {
        metrics->last->next = metric;
    } else {
        metrics->first = metric;
    }
    metrics->last = metric;
    pthread_mutex_unlock(&metrics->lock);
    return metric;
fail:
    metric_free(metric);
    return NULL;
}

struct tcb_metric *tcb_metrics_counter(struct tcb_metrics *metrics, const char *name,
                                       const char *help, const char *const *label_names)
{
    return metric_register(metrics, METRIC_COUNTER, name, help, label_names, NULL, 0);
}

struct tcb_metric *tcb_metrics_gauge(struct tcb_metrics *metrics, const char *name,
                                     const char *help, const char *const *label_names)
{
    return metric_register(metrics, METRIC_GAUGE, name, help, label_names, NULL, 0);
}

struct tcb_metric *tcb_metrics_histogram(struct tcb_metrics *metrics, const char *name,
                                         const char *help, const char *const *label_names,
                                         const double *bounds, size_t bucket_count)
{
    return metric_register(metrics, METRIC_HISTOGRAM, name, help, label_names, bounds,
                           bucket_count);
}

/* A label value; a missing array or entry reads as "". */
static const char *label_at(const char *const *label_values, size_t l)
{
    return label_values && label_values[l] ? label_values[l] : "";
}

/* Finds or adds the series for label_values; caller holds the lock. NULL when
 * the metric is full (counted). */
static struct series *series_for(struct tcb_metric *metric, const char *const *label_values)
{
    if (metric->label_count == 0) {
        return &metric->series[0];
    }
    for (size_t s = 0; s < metric->series_count; s++) {
        size_t l = 0;
        while (l < metric->label_count &&
               strcmp(metric->series[s].label_values[l], label_at(label_values, l)) == 0) {
            l++;
        }
        if (l == metric->label_count) {
            return &metric->series[s];
        }
    }
    if (metric->series_count == TCB_METRICS_MAX_SERIES) {
        struct tcb_metric *dropped = metric->owner->dropped_series;
        if (dropped && dropped != metric) {
            const char *name[] = {metric->name};
            struct series *d = series_for(dropped, name);
            if (d) {
                d->value += 1;
            }
        }
        return NULL;
    }
    struct series *fresh = &metric->series[metric->series_count];
    for (size_t l = 0; l < metric->label_count; l++) {
        fresh->label_values[l] = tcb_xstrdup(label_at(label_values, l));
    }
    metric->series_count++;
    return fresh;
}

static void update(struct tcb_metric *metric, const char *const *label_values, double amount,
                   int set)
{
    if (!metric) {
        return;
    }
    pthread_mutex_lock(&metric->owner->lock);
    struct series *s = series_for(metric, label_values);
    if (s) {
        if (metric->type == METRIC_HISTOGRAM) {
            size_t b = 0;
            while (b < metric->bucket_count && amount > metric->bounds[b]) {
                b++;
            }
            s->bucket_counts[b]++;
            s->sum += amount;
            s->count++;
        } else if (set) {
            s->value = amount;
        } else {
            s->value += amount;
        }
    }
    pthread_mutex_unlock(&metric->owner->lock);
}

void tcb_counter_add(struct tcb_metric *metric, const char *const *label_values, double delta)
{
    if (delta >= 0) {
        update(metric, label_values, delta, 0);
    }
}

void tcb_gauge_set(struct tcb_metric *metric, const char *const *label_values, double value)
{
    update(metric, label_values, value, 1);
}

void tcb_gauge_add(struct tcb_metric *metric, const char *const *label_values, double delta)
{
    update(metric, label_values, delta, 0);
}

void tcb_histogram_observe(struct tcb_metric *metric, const char *const *label_values, double value)
{
    update(metric, label_values, value, 0);
}

/* Render output: a bounded buffer that latches the first failure. */
#define METRICS_RENDER_LIMIT (16u * 1024 * 1024)
struct text {
    struct tcb_buf buf;
    int failed;
};

static void text_append(struct text *t, const char *bytes, size_t n)
{
    if (!t->failed && tcb_buf_append(&t->buf, bytes, n) != 0) {
        t->failed = 1;
    }
}

#define text_printf(t, ...)                                                                        \
    do {                                                                                           \
        if (!(t)->failed && tcb_buf_printf(&(t)->buf, __VA_ARGS__) != 0)                           \
            (t)->failed = 1;                                                                       \
    } while (0)

/* HELP text escapes \ and newline; label values also escape ". */
static void text_escaped(struct text *t, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\') {
            text_append(t, "\\\\", 2);
        } else if (*s == '\n') {
            text_append(t, "\\n", 2);
        } else if (quote && *s == '"') {
            text_append(t, "\\\"", 2);
        } else {
            text_append(t, s, 1);
        }
    }
}

static void text_number(struct text *t, double v)
{
    if (isnan(v)) {
        text_append(t, "NaN", 3);
    } else if (isinf(v)) {
        text_append(t, v > 0 ? "+Inf" : "-Inf", 4);
    } else if (v == floor(v) && fabs(v) < 1e15) {
        text_printf(t, "%.0f", v);
    } else {
        /* shortest form that reads back as the same double */
        char buf[40];
        for (int precision = 15; precision <= 17; precision++) {
            snprintf(buf, sizeof(buf), "%.*g", precision, v);
            if (strtod(buf, NULL) == v) {
                break;
            }
        }
        text_append(t, buf, strlen(buf));
    }
}

/* Writes "name{labels[,le=\"bound\"]} " (with the trailing space). */
static void text_series_name(struct text *t, const struct tcb_metric *m, const struct series *s,
                             const char *suffix, const char *le)
{
    text_append(t, m->name, strlen(m->name));
    text_append(t, suffix, strlen(suffix));
    if (m->label_count == 0 && !le) {
        text_append(t, " ", 1);
        return;
    }
    text_append(t, "{", 1);
    for (size_t l = 0; l < m->label_count; l++) {
        if (l) {
            text_append(t, ",", 1);
        }
        text_append(t, m->label_names[l], strlen(m->label_names[l]));
        text_append(t, "=\"", 2);
        text_escaped(t, s->label_values[l], 1);
        text_append(t, "\"", 1);
    }
    if (le) {
        if (m->label_count) {
            text_append(t, ",", 1);
        }
        text_append(t, "le=\"", 4);
        text_append(t, le, strlen(le));
        text_append(t, "\"", 1);
    }
    text_append(t, "} ", 2);
}

static void render_histogram_series(struct text *t, const struct tcb_metric *m,
                                    const struct series *s)
{
    uint64_t cumulative = 0;
    char le[64];
    for (size_t b = 0; b <= m->bucket_count; b++) {
        cumulative += s->bucket_counts[b];
        if (b < m->bucket_count) {
            struct text bound = {0};
            tcb_buf_init(&bound.buf, sizeof(le) - 1);
            text_number(&bound, m->bounds[b]);
            snprintf(le, sizeof(le), "%s", bound.buf.data ? bound.buf.data : "0");
            tcb_buf_free(&bound.buf, 0);
        } else {
            snprintf(le, sizeof(le), "+Inf");
        }
        text_series_name(t, m, s, "_bucket", le);
        text_printf(t, "%llu\n", (unsigned long long)cumulative);
    }
    text_series_name(t, m, s, "_sum", NULL);
    text_number(t, s->sum);
    text_append(t, "\n", 1);
    text_series_name(t, m, s, "_count", NULL);
    text_printf(t, "%llu\n", (unsigned long long)s->count);
}

char *tcb_metrics_render(struct tcb_metrics *metrics, size_t *len)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    struct text t = {0};
    tcb_buf_init(&t.buf, METRICS_RENDER_LIMIT);
    text_append(&t, "", 0);
    pthread_mutex_lock(&metrics->lock);
    for (const struct tcb_metric *m = metrics->first; m; m = m->next) {
        text_printf(&t, "# HELP %s ", m->name);
        text_escaped(&t, m->help, 0);
        text_printf(&t, "\n# TYPE %s %s\n", m->name, type_names[m->type]);
        for (size_t i = 0; i < m->series_count; i++) {
            const struct series *s = &m->series[i];
            if (m->type == METRIC_HISTOGRAM) {
                render_histogram_series(&t, m, s);
                continue;
            }
            text_series_name(&t, m, s, "", NULL);
            text_number(&t, s->value);
            text_append(&t, "\n", 1);
        }
    }
    pthread_mutex_unlock(&metrics->lock);
    if (t.failed) {
        tcb_buf_free(&t.buf, 0);
        return NULL;
    }
    if (len) {
        *len = t.buf.len;
    }
    return tcb_buf_take(&t.buf, NULL);
}
