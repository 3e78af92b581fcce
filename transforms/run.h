/* Internal to transforms/: the state of one tcb_transform_message call, shared
 * by the shapes it handles (transform.c: records and envelopes; notify.c:
 * Talon.One notifications). Every verdict goes through these functions, so
 * indices, ceilings and the out-of-memory state are kept in one place. */
#ifndef TCB_TRANSFORMS_RUN_H
#define TCB_TRANSFORMS_RUN_H

#include <jansson.h>
#include <stddef.h>

#include "transforms/route.h"
#include "transforms/transform.h"

struct tcb_run {
    const struct tcb_config *cfg; /* borrowed */
    const struct tcb_transform_input *in;
    struct tcb_transform_result *out;
    size_t record_cap;
    size_t dead_cap;
    size_t skip_cap;
    size_t next_index;
    size_t max_outputs; /* sink.max_records_per_message */
    size_t max_bytes;   /* sink.max_output_bytes_per_message */
    size_t out_bytes;   /* serialised output so far, <= max_bytes */
    int oom;            /* jansson could not allocate: the call returns -1 */
    int overflow;       /* more than max_outputs */
    int over_budget;    /* more than max_bytes */
};

/* What decides how one record is handled. */
struct tcb_target {
    const struct tcb_route *route;         /* NULL: no route matched */
    const struct tcb_transform_spec *spec; /* NULL: none configured */
};

/* 1 once the message's verdict can no longer be per output. */
int tcb_run_stopped(const struct tcb_run *r);

/* Appends a dead letter; record (borrowed, may be NULL) is serialised as the
 * DLQ value. Over a ceiling or out of memory it sets the run's flags instead. */
void tcb_run_dead_letter(struct tcb_run *r, const char *stage, int code, const json_t *record,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Appends a skip with a static reason (TCB_SKIP_*). */
void tcb_run_skip(struct tcb_run *r, const char *reason);

/* The target for q: the first matching route and its transform. Returns 0,
 * or -1 after dead-lettering a route that names an unknown transform (the
 * loader refuses that; record, borrowed, may be NULL, is the DLQ value). */
int tcb_run_target(struct tcb_run *r, const struct tcb_route_query *q, const json_t *record,
                   struct tcb_target *t);

/* The last step for every output record (stolen, may be NULL after an
 * allocation failure): ts, long values, validation, templates, required
 * properties, stale policy, account, serialisation. */
void tcb_run_emit(struct tcb_run *r, const struct tcb_target *t, json_t *record);

/* Sets record's ts from the transform's ts_field found by lookup in item,
 * then parent. Returns 0 (set, or no ts_field / blank value: the default
 * applies later), or -1 after dead-lettering a value that is not a date
 * (record, borrowed, is the DLQ value) or on allocation failure (r->oom). */
int tcb_run_ts_field(struct tcb_run *r, const struct tcb_transform_spec *spec, json_t *record,
                     const json_t *item, const json_t *parent);

/* notify.c: one Talon.One notification (msg borrowed; type_value is its
 * NotificationType). */
void tcb_notify_handle(struct tcb_run *r, const json_t *msg, const json_t *type_value);

#endif
