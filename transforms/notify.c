/* Talon.One notifications: the built-in mapping of the NotificationType (or a
 * route's transform for other types), one event per item of its array and
 * per identity (or one per notification), optional profile records, routes
 * matched item by item, and the policy for items without a user. Verdicts go
 * through run.h. Pure: no I/O, no logging. */
#include <string.h>

#include "transforms/mapping.h"
#include "transforms/notifications.h"
#include "transforms/run.h"
#include "transforms/text.h"

/* One notification being handled; every pointer borrowed. */
struct notification {
    struct tcb_run *r;
    const json_t *msg;
    const char *type;
    const struct tcb_notification_map *builtin; /* NULL: no usable built-in mapping */
    const char *refusal;                        /* why the type is not mapped without a transform */
};

/* data / Data (Talon.One's casing differs between types), or the field;
 * *name is updated to the key found. */
static const json_t *items_field(const json_t *msg, const char **name)
{
    const json_t *items = json_object_get(msg, *name);
    if (items == NULL && strcmp(*name, "data") == 0) {
        items = json_object_get(msg, "Data");
        *name = items != NULL ? "Data" : *name;
    }
    return items;
}

static void query_for(const struct notification *n, const json_t *item, struct tcb_route_query *q)
{
    q->notification_type = n->type;
    q->event_name = n->builtin != NULL ? n->builtin->event_name : NULL;
    q->account_header = n->r->in->account_header;
    q->item = item;
    q->parent = item != n->msg ? n->msg : NULL;
}

/* The built-in mapping (if any) with the target's transform over it. */
static void mapping_for(const struct notification *n, const struct tcb_target *t,
                        struct tcb_mapping *m)
{
    memset(m, 0, sizeof(*m));
    if (n->builtin != NULL) {
        m->event_name = n->builtin->event_name;
        m->identity_field = n->builtin->identity_field;
        m->builtin_rename = n->builtin->rename;
        m->builtin_include = n->builtin->include;
        m->builtin_dates = n->builtin->date_fields;
        m->builtin_profile = n->builtin->profile;
    }
    tcb_mapping_overlay(m, t->spec);
    if (m->event_name == NULL) {
        m->event_name = n->type;
    }
}

static int usable_identity(const json_t *v)
{
    return (json_is_string(v) && json_string_length(v) > 0) || json_is_integer(v);
}

/* A record {type, evtName?, identity?, <data_key>: data} with the
 * transform's constants (events only) and ts from ts_field. identity and
 * data are borrowed. Returns a new record, or NULL after a dead letter or on
 * allocation failure (r->oom). */
static json_t *build(const struct notification *n, const struct tcb_mapping *m, const json_t *item,
                     const json_t *identity, json_t *data, int event)
{
    json_t *record = json_object();
    if (record == NULL ||
        json_object_set_new(record, "type", json_string(event ? "event" : "profile")) != 0 ||
        (event && json_object_set_new(record, "evtName", json_string(m->event_name)) != 0) ||
        (identity != NULL && json_object_set(record, "identity", (json_t *)identity) != 0) ||
        json_object_set(record, event ? "evtData" : "profileData", data) != 0 ||
        (event && tcb_mapping_add_constants(m, record, data) != 0)) {
        n->r->oom = 1;
        json_decref(record);
        return NULL;
    }
    if (tcb_run_ts_field(n->r, m->spec, record, item, n->msg) != 0) {
        json_decref(record);
        return NULL;
    }
    return record;
}

/* Emits a record for identity with data: a copy of data when copy is set
 * (more identities follow), else data itself. */
static void emit_one(const struct notification *n, const struct tcb_target *t,
                     const struct tcb_mapping *m, const json_t *item, const json_t *identity,
                     json_t *data, int event, int copy)
{
    json_t *own = copy ? json_deep_copy(data) : json_incref(data);
    json_t *record = own != NULL ? build(n, m, item, identity, own, event) : NULL;
    n->r->oom |= own == NULL;
    json_decref(own);
    if (record != NULL) {
        tcb_run_emit(n->r, t, record);
    }
}

/* The event and profile data of one item, as the mapping asks. */
struct item_data {
    json_t *event;   /* NULL with profile: only */
    json_t *profile; /* NULL without profile records, or when none of its fields is present */
};

static int item_data(const struct notification *n, const struct tcb_mapping *m, const json_t *item,
                     struct item_data *d)
{
    enum tcb_profile_mode mode = m->spec != NULL ? m->spec->profile : TCB_PROFILE_NONE;
    const json_t *parent = item != n->msg ? n->msg : NULL;
    d->event = d->profile = NULL;
    if (mode != TCB_PROFILE_ONLY && (d->event = tcb_mapping_properties(m, item, parent)) == NULL) {
        return -1;
    }
    if (mode != TCB_PROFILE_NONE) {
        if ((d->profile = tcb_mapping_profile(m, item, parent)) == NULL) {
            json_decref(d->event);
            d->event = NULL;
            return -1;
        }
        if (json_object_size(d->profile) == 0) {
            json_decref(d->profile); /* nothing to update on the profile */
            d->profile = NULL;
        }
    }
    return 0;
}

/* The records for one identity: the event, then the profile. */
static void emit_identity(const struct notification *n, const struct tcb_target *t,
                          const struct tcb_mapping *m, const json_t *item, const json_t *identity,
                          const struct item_data *d, int copy)
{
    if (d->event != NULL) {
        emit_one(n, t, m, item, identity, d->event, 1, copy);
    }
    if (d->profile != NULL) {
        emit_one(n, t, m, item, identity, d->profile, 0, copy);
    }
}

/* An item without a user: a counted skip, or under the dead_letter policy
 * the record that was built, without identity (validation: 523). */
static void no_user(const struct notification *n, const struct tcb_target *t,
                    const struct tcb_mapping *m, const json_t *item, const struct item_data *d)
{
    if (n->r->cfg->sink.no_user_policy == TCB_NO_USER_SKIP) {
        tcb_run_skip(n->r, TCB_SKIP_NO_USER);
    } else if (d->event != NULL) {
        emit_one(n, t, m, item, NULL, d->event, 1, 0);
    } else if (d->profile != NULL) {
        emit_one(n, t, m, item, NULL, d->profile, 0, 0);
    } else {
        tcb_run_dead_letter(n->r, "validation", 523, NULL,
                            "identity, objectId, FBID or GPID is mandatory.");
    }
}

/* The records of one item for every identity its identity field gives. */
static void emit_item(const struct notification *n, const struct tcb_target *t,
                      const struct tcb_mapping *m, const json_t *item, const struct item_data *d)
{
    const json_t *parent = item != n->msg ? n->msg : NULL;
    const json_t *id =
        m->identity_field != NULL ? tcb_mapping_lookup(item, parent, m->identity_field) : NULL;
    json_t *identity = NULL;
    if (json_is_array(id)) {
        size_t i, usable = 0, done = 0;
        const json_t *entry;
        json_array_foreach (id, i, entry) {
            usable += usable_identity(entry);
        }
        /* One record set per usable entry; empty and malformed entries name
         * no user. The last one takes the data itself. */
        json_array_foreach (id, i, entry) {
            if (tcb_run_stopped(n->r) || !usable_identity(entry)) {
                continue;
            }
            if (tcb_mapping_identity(entry, &identity) != 0) {
                n->r->oom = 1;
                return;
            }
            emit_identity(n, t, m, item, identity, d, ++done < usable);
            json_decref(identity);
        }
        if (usable == 0) {
            no_user(n, t, m, item, d);
        }
    } else if (tcb_mapping_is_blank(id)) {
        no_user(n, t, m, item, d);
    } else if (tcb_mapping_identity(id, &identity) != 0) {
        n->r->oom = 1;
    } else {
        /* identity NULL: a value that is no identity (an object, a
         * boolean); the record without it shows what was built (523). */
        emit_identity(n, t, m, item, identity, d, 0);
        json_decref(identity);
    }
}

static void handle_item(const struct notification *n, const json_t *item)
{
    struct tcb_route_query q;
    struct tcb_target t;
    struct tcb_mapping m;
    struct item_data d;
    query_for(n, item, &q);
    if (tcb_run_target(n->r, &q, NULL, &t) != 0) {
        return;
    }
    if (t.route != NULL && t.route->action == TCB_ROUTE_SKIP) {
        tcb_run_skip(n->r, TCB_SKIP_ROUTE);
        return;
    }
    if (t.spec == NULL && n->builtin == NULL) {
        tcb_run_dead_letter(n->r, "transform", 0, NULL,
                            "NotificationType %s: %s, and no route with a transform matched this "
                            "item",
                            n->type, n->refusal);
        return;
    }
    mapping_for(n, &t, &m);
    if (item_data(n, &m, item, &d) != 0) {
        n->r->oom = 1;
        return;
    }
    if (d.event == NULL && d.profile == NULL) {
        tcb_run_skip(n->r, TCB_SKIP_NO_PROFILE); /* nothing to write for this item */
        return;
    }
    emit_item(n, &t, &m, item, &d);
    json_decref(d.event);
    json_decref(d.profile);
}

/* A notification whose item array is missing: a BatchID-only CouponCreated
 * (above 1000 coupons Talon.One sends only the batch's id) is handled by
 * sink.no_user_policy; anything else is malformed. */
static void missing_items(const struct notification *n, const char *items_name)
{
    const json_t *batch = json_object_get(n->msg, "BatchID");
    if (n->builtin->batch_only && !tcb_mapping_is_blank(batch)) {
        if (n->r->cfg->sink.no_user_policy == TCB_NO_USER_SKIP) {
            tcb_run_skip(n->r, TCB_SKIP_BATCH_ONLY);
        } else {
            tcb_run_dead_letter(n->r, "transform", 0, NULL,
                                "%s carries only a BatchID (Talon.One lists no coupons above "
                                "1000, or with includeData off); sink.no_user_policy is "
                                "dead_letter",
                                n->type);
        }
        return;
    }
    tcb_run_dead_letter(n->r, "transform", 0, NULL, "%s notification has no \"%s\" array", n->type,
                        items_name);
}

void tcb_notify_handle(struct tcb_run *r, const json_t *msg, const json_t *type_value)
{
    struct notification n = {r, msg, json_string_value(type_value), NULL, NULL};
    const struct tcb_notification_map *builtin;
    struct tcb_route_query q;
    struct tcb_target t;
    const char *items_name = "data";
    const json_t *items = NULL;
    int per_notification;
    if (n.type == NULL) {
        tcb_run_dead_letter(r, "transform", 0, NULL, "NotificationType is not a string");
        return;
    }
    builtin = tcb_notification_find(n.type);
    n.builtin = builtin != NULL && builtin->refusal == NULL ? builtin : NULL;
    n.refusal = builtin != NULL ? builtin->refusal : "unknown NotificationType";
    query_for(&n, msg, &q);
    if (n.builtin == NULL && !tcb_route_may_handle(r->cfg, &q)) {
        char shown[96];
        if (builtin == NULL) {
            tcb_run_dead_letter(
                r, "transform", 0, NULL,
                "unknown NotificationType \"%s\"; add a route with a transform to map it",
                tcb_utf8_prefix(n.type, shown, sizeof(shown)));
        } else {
            tcb_run_dead_letter(r, "transform", 0, NULL,
                                "NotificationType %s: %s; add a route with a transform to map it",
                                n.type, builtin->refusal);
        }
        return;
    }
    /* One event per notification or per item: decided by the route that
     * matches the notification as a whole. */
    if (tcb_run_target(r, &q, NULL, &t) != 0) {
        return;
    }
    per_notification = t.spec != NULL && t.spec->event_per == TCB_EVENT_PER_NOTIFICATION;
    if (n.builtin != NULL) {
        items_name = n.builtin->items;
    }
    if (!per_notification && items_name != NULL) {
        items = items_field(msg, &items_name);
    }
    if (!per_notification && n.builtin != NULL && items_name != NULL && !json_is_array(items)) {
        missing_items(&n, items_name);
    } else if (json_is_array(items)) {
        size_t i;
        const json_t *item;
        json_array_foreach (items, i, item) {
            if (tcb_run_stopped(r)) {
                break;
            }
            if (!json_is_object(item)) {
                tcb_run_dead_letter(r, "transform", 0, NULL, "%s[%zu] is not an object", items_name,
                                    i);
            } else {
                handle_item(&n, item);
            }
        }
    } else {
        handle_item(&n, msg);
    }
}
