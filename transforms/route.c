/* Route matching (see route.h): first match wins; payload fields are read
 * with the mapping's path lookup and compared as text. Pure: never
 * allocates, never modifies the record. */
#include "transforms/route.h"

#include <stdio.h>
#include <string.h>

#include "transforms/mapping.h"

static int str_eq(const char *want, const char *have)
{
    return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

int tcb_route_value_is(const json_t *v, const char *want)
{
    char text[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return strcmp(json_string_value(v), want) == 0;
    case JSON_INTEGER:
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strcmp(text, want) == 0;
    case JSON_REAL:
        snprintf(text, sizeof(text), "%.15g", json_real_value(v));
        return strcmp(text, want) == 0;
    case JSON_TRUE:
        return strcmp(want, "true") == 0;
    case JSON_FALSE:
        return strcmp(want, "false") == 0;
    case JSON_NULL:
        return strcmp(want, "null") == 0;
    default:
        return 0; /* objects and arrays never equal a text */
    }
}

static int headers_match(const struct tcb_route *route, const struct tcb_route_query *q)
{
    return str_eq(route->match_notification_type, q->notification_type) &&
           str_eq(route->match_event_name, q->event_name) &&
           str_eq(route->match_account_header, q->account_header);
}

static int fields_match(const struct tcb_route *route, const struct tcb_route_query *q)
{
    for (size_t i = 0; i < route->match_fields.count; i++) {
        const struct tcb_kv *kv = &route->match_fields.items[i];
        const json_t *v = tcb_mapping_lookup(q->item, q->parent, kv->key);
        if (v == NULL || !tcb_route_value_is(v, kv->value)) {
            return 0;
        }
    }
    return 1;
}

const struct tcb_route *tcb_route_match(const struct tcb_config *cfg,
                                        const struct tcb_route_query *q)
{
    for (size_t i = 0; i < cfg->route_count; i++) {
        const struct tcb_route *route = &cfg->routes[i];
        if (headers_match(route, q) && fields_match(route, q)) {
            return route;
        }
    }
    return NULL;
}

int tcb_route_may_handle(const struct tcb_config *cfg, const struct tcb_route_query *q)
{
    for (size_t i = 0; i < cfg->route_count; i++) {
        const struct tcb_route *route = &cfg->routes[i];
        if (headers_match(route, q) &&
            (route->transform != NULL || route->action == TCB_ROUTE_SKIP)) {
            return 1;
        }
    }
    return 0;
}
