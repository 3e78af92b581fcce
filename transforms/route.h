/* Route matching: which `routes` entry decides a record's account,
 * transform, stale policy and action. A route matches when every match field
 * it gives equals the record's: NotificationType, event name, the
 * clevertap-account header, and payload fields (JSON pointer or dotted path,
 * compared as text). Pure: no allocation, no I/O. */
#ifndef TCB_TRANSFORMS_ROUTE_H
#define TCB_TRANSFORMS_ROUTE_H

#include <jansson.h>

#include "config/config_model.h"

/* What a record is matched on; every pointer borrowed, any may be NULL. */
struct tcb_route_query {
    const char *notification_type;
    const char *event_name; /* the record's evtName, or the built-in one of a notification */
    const char *account_header;
    const json_t *item;   /* match.fields are looked up here, then in parent */
    const json_t *parent; /* the notification around item, or NULL */
};

/* The first route of cfg matching q, or NULL. Borrowed from cfg. */
const struct tcb_route *tcb_route_match(const struct tcb_config *cfg,
                                        const struct tcb_route_query *q);

/* 1 when some route matches q in everything but its payload fields and
 * gives a transform or skips: a notification type without a built-in
 * mapping is then judged item by item instead of refused whole. */
int tcb_route_may_handle(const struct tcb_config *cfg, const struct tcb_route_query *q);

/* 1 when v reads as want: a string equal to it, a number or boolean whose
 * JSON text equals it ("211", "true"), or null for "null". */
int tcb_route_value_is(const json_t *v, const char *want);

#endif
