/* tcb_transform_message: shape detection (record, envelope, notification),
 * route and account resolution, ts defaults and the stale-event policy, then
 * validation and serialisation of every output. Pure: no I/O, no logging;
 * the caller decides what to do with each verdict. */
#include "transforms/transform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/dates.h"
#include "transforms/mapping.h"
#include "transforms/notifications.h"
#include "transforms/text.h"
#include "transforms/validate.h"
#include "util/alloc.h"
#include "util/buf.h"

#define DUMP_MAX_BYTES (8u * 1024u * 1024u) /* one serialised record */

static const struct tcb_kv_list no_kv = {NULL, 0};
static const struct tcb_str_list no_str = {NULL, 0};

struct run {
    const struct tcb_config *cfg;
    const struct tcb_transform_input *in;
    struct tcb_transform_result *out;
    size_t record_cap;
    size_t dead_cap;
    size_t next_index;
    size_t out_bytes; /* serialised output so far, <= TCB_TRANSFORM_MAX_OUTPUT_BYTES */
    int oom;
    int overflow;
    int over_budget;
};

/* What decides how one record is handled. */
struct target {
    const struct tcb_route *route;         /* NULL: no route matched */
    const struct tcb_transform_spec *spec; /* NULL: none configured */
};

struct dump_buf {
    struct tcb_buf buf;
    int too_big;
};

static int dump_write(const char *s, size_t n, void *data)
{
    struct dump_buf *b = data;
    if (n > b->buf.limit - b->buf.len) {
        b->too_big = 1;
        return -1;
    }
    return tcb_buf_append(&b->buf, s, n);
}

/* Compact JSON of v in a new malloc'd buffer (*len bytes + NUL), or NULL on
 * allocation failure or beyond DUMP_MAX_BYTES (then *too_big is set). */
static char *dump(const json_t *v, size_t *len, int *too_big)
{
    struct dump_buf b = {.too_big = 0};
    tcb_buf_init(&b.buf, DUMP_MAX_BYTES - 1); /* the bytes and their NUL fit in the cap */
    if (json_dump_callback(v, dump_write, &b, TCB_JSON_FLAGS | JSON_ENCODE_ANY) != 0 ||
        b.buf.data == NULL) {
        tcb_buf_free(&b.buf, 0);
        *too_big = b.too_big;
        return NULL;
    }
    return tcb_buf_take(&b.buf, len);
}

/* Grows an output array to hold one more element. */
static int reserve(void **items, size_t *cap, size_t count, size_t size)
{
    size_t want = *cap == 0 ? 4 : *cap * 2;
    if (count < *cap) {
        return 0;
    }
    *items = tcb_xrealloc(*items, want * size);
    *cap = want;
    return 0;
}

/* 1 once the message's verdict can no longer be per output. */
static int stopped(const struct run *r)
{
    return r->oom || r->overflow || r->over_budget;
}

/* Counts n serialised bytes against TCB_TRANSFORM_MAX_OUTPUT_BYTES; 0, or -1
 * (r->over_budget set) beyond it. */
static int charge(struct run *r, size_t n)
{
    if (n > TCB_TRANSFORM_MAX_OUTPUT_BYTES - r->out_bytes) {
        r->over_budget = 1;
        return -1;
    }
    r->out_bytes += n;
    return 0;
}

/* Claims the next output index; 0, or -1 when over TCB_TRANSFORM_MAX_RECORDS. */
static int next_index(struct run *r, size_t *index)
{
    if (r->next_index >= TCB_TRANSFORM_MAX_RECORDS) {
        r->overflow = 1;
        return -1;
    }
    *index = r->next_index++;
    return 0;
}

static void dead_letter(struct run *r, const char *stage, int code, const json_t *record,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Appends a dead letter; record (borrowed, may be NULL) is serialised as the
 * DLQ value. Failures set r->oom / r->overflow. */
static void dead_letter(struct run *r, const char *stage, int code, const json_t *record,
                        const char *fmt, ...)
{
    struct tcb_transform_dead_letter *dl;
    va_list ap;
    size_t index;
    int too_big = 0;
    if (stopped(r) || next_index(r, &index) != 0) {
        return;
    }
    if (reserve((void **)&r->out->dead_letters, &r->dead_cap, r->out->dead_letter_count,
                sizeof(*dl)) != 0) {
        r->oom = 1;
        return;
    }
    dl = &r->out->dead_letters[r->out->dead_letter_count];
    memset(dl, 0, sizeof(*dl));
    dl->index = index;
    dl->stage = stage;
    dl->code = code;
    va_start(ap, fmt);
    vsnprintf(dl->reason, sizeof(dl->reason), fmt, ap);
    va_end(ap);
    tcb_utf8_sanitize(dl->reason);
    tcb_utf8_clip(dl->reason);
    r->out->dead_letter_count++;
    if (record != NULL && (dl->json = dump(record, &dl->json_len, &too_big)) == NULL) {
        dl->json_len = 0; /* too big to keep: the DLQ carries the original value */
        r->oom |= !too_big;
    } else if (dl->json != NULL) {
        charge(r, dl->json_len);
    }
}

static int str_eq(const char *want, const char *have)
{
    return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

/* The first route whose every given match field equals the record's. */
static const struct tcb_route *match_route(const struct tcb_config *cfg, const char *type,
                                           const char *event, const char *account_header)
{
    for (size_t i = 0; i < cfg->route_count; i++) {
        const struct tcb_route *route = &cfg->routes[i];
        if (str_eq(route->match_notification_type, type) &&
            str_eq(route->match_event_name, event) &&
            str_eq(route->match_account_header, account_header)) {
            return route;
        }
    }
    return NULL;
}

/* Fills t for a record; 0, or -1 after dead-lettering a route that names an
 * unknown transform (the loader should have refused it). */
static int find_target(struct run *r, const char *type, const char *event, const json_t *record,
                       struct target *t)
{
    t->route = match_route(r->cfg, type, event, r->in->account_header);
    t->spec = NULL;
    if (t->route != NULL && t->route->transform != NULL) {
        t->spec = tcb_config_find_transform(r->cfg, t->route->transform);
        if (t->spec == NULL) {
            dead_letter(r, "transform", 0, record, "route \"%s\" names unknown transform \"%s\"",
                        t->route->name != NULL ? t->route->name : "", t->route->transform);
            return -1;
        }
    }
    return 0;
}

/* Header, else route, else default account; NULL with the reason written. */
static const struct tcb_account *resolve_account(const struct run *r, const struct target *t,
                                                 char *reason, size_t reason_len)
{
    const struct tcb_account *account;
    const char *key = r->in->account_header;
    const char *from = "the clevertap-account header";
    if (key == NULL && t->route != NULL && t->route->account != NULL) {
        key = t->route->account;
        from = "the route";
    } else if (key == NULL) {
        key = r->cfg->clevertap.default_account;
        from = "clevertap.default_account";
    }
    if (key == NULL) {
        snprintf(reason, reason_len,
                 "no CleverTap account: no clevertap-account header, no route with an account, "
                 "no clevertap.default_account");
        return NULL;
    }
    account = tcb_config_find_account(r->cfg, key);
    if (account == NULL) {
        char shown[96];
        snprintf(reason, reason_len, "%s names no configured CleverTap account (\"%s\")", from,
                 tcb_utf8_prefix(key, shown, sizeof(shown)));
    }
    return account;
}

/* Sets a missing ts from received-at, else the Kafka timestamp, else now;
 * converts a millisecond ts to seconds and an integer identity to the string
 * CleverTap expects. 0 or -1 (allocation). */
static int normalise(const struct run *r, json_t *record)
{
    json_t *ts = json_object_get(record, "ts");
    json_t *identity = json_object_get(record, "identity");
    json_int_t value;
    json_t *text;
    if (json_is_integer(identity) && (tcb_mapping_identity(identity, &text) != 0 ||
                                      json_object_set_new(record, "identity", text) != 0)) {
        return -1;
    }
    if (ts == NULL) {
        if (r->in->received_at_ms > 0) {
            value = r->in->received_at_ms / 1000;
        } else if (r->in->kafka_timestamp_ms > 0) {
            value = r->in->kafka_timestamp_ms / 1000;
        } else {
            value = r->in->now_s;
        }
        return json_object_set_new(record, "ts", json_integer(value));
    }
    if (json_is_integer(ts) && json_integer_value(ts) >= TCB_TS_MS_THRESHOLD) {
        return json_integer_set(ts, json_integer_value(ts) / 1000);
    }
    return 0;
}

/* Applies the stale-event policy to a valid event record. Returns 1 when it
 * is stale (kept or restamped), 0 when fresh, -1 when dead-lettered or on
 * allocation failure (r->oom). */
static int apply_stale_policy(struct run *r, const struct target *t, json_t *record)
{
    enum tcb_stale_policy policy = t->route != NULL && t->route->has_stale_policy
                                       ? t->route->stale_policy
                                       : r->cfg->sink.stale_policy;
    long after_s = r->cfg->sink.stale_after_s;
    json_int_t age;
    if (after_s <= 0 || strcmp(json_string_value(json_object_get(record, "type")), "event") != 0) {
        return 0;
    }
    age = (json_int_t)r->in->now_s - json_integer_value(json_object_get(record, "ts"));
    if (age <= after_s) {
        return 0;
    }
    if (policy == TCB_STALE_DEAD_LETTER) {
        dead_letter(r, "validation", 0, record,
                    "event is %" JSON_INTEGER_FORMAT " s old, more than "
                    "sink.stale_events.after_s (%ld s); policy dead_letter",
                    age, after_s);
        return -1;
    }
    if (policy == TCB_STALE_RESTAMP &&
        json_object_set_new(record, "ts", json_integer(r->in->now_s)) != 0) {
        r->oom = 1;
        return -1;
    }
    return 1;
}

/* The last step for every output record (stolen): ts, validation, stale
 * policy, account, serialisation. */
static void emit(struct run *r, const struct target *t, json_t *record)
{
    char reason[TCB_TRANSFORM_REASON_MAX], account_reason[TCB_TRANSFORM_REASON_MAX];
    const struct tcb_account *account =
        resolve_account(r, t, account_reason, sizeof(account_reason));
    struct tcb_validation_limits limits = {account != NULL ? account->max_properties : 0};
    struct tcb_transform_record *rec;
    int code, stale = 0, too_big = 0;
    size_t index, json_len = 0;
    char *json;
    if (record == NULL || stopped(r)) {
        r->oom |= record == NULL;
        json_decref(record);
        return;
    }
    if (json_is_object(record) && normalise(r, record) != 0) {
        r->oom = 1;
    } else if ((code = tcb_validate_record(record, &limits, reason, sizeof(reason))) != 0) {
        dead_letter(r, "validation", code, record, "%s", reason);
    } else if ((stale = apply_stale_policy(r, t, record)) < 0) {
        /* dead-lettered (or out of memory) */
    } else if (account == NULL) {
        dead_letter(r, "transform", 0, record, "%s", account_reason);
    } else if ((json = dump(record, &json_len, &too_big)) == NULL) {
        if (too_big) {
            dead_letter(r, "validation", 0, NULL, "record is larger than %u bytes", DUMP_MAX_BYTES);
        } else {
            r->oom = 1;
        }
    } else if (charge(r, json_len) != 0 || next_index(r, &index) != 0 ||
               reserve((void **)&r->out->records, &r->record_cap, r->out->record_count,
                       sizeof(*rec)) != 0) {
        r->oom |= !r->overflow && !r->over_budget;
        free(json);
    } else {
        rec = &r->out->records[r->out->record_count++];
        rec->index = index;
        rec->account = account;
        rec->json = json;
        rec->json_len = json_len;
        rec->stale = stale;
    }
    json_decref(record);
}

/* Applies a configured transform to a CleverTap record in place. */
static int map_record(const struct tcb_transform_spec *spec, json_t *record)
{
    struct tcb_mapping m = {NULL,   NULL, &no_kv, &no_str, &no_str, &no_kv, TCB_NESTED_STRINGIFY,
                            &no_str};
    const char *type = json_string_value(json_object_get(record, "type"));
    const char *data_key = type != NULL && strcmp(type, "profile") == 0 ? "profileData" : "evtData";
    json_t *data = json_object_get(record, data_key);
    json_t *props = NULL;
    tcb_mapping_overlay(&m, spec);
    if (m.identity_field != NULL) { /* looked up before evtData is rebuilt */
        json_t *identity;
        if (tcb_mapping_identity(tcb_mapping_lookup(record, NULL, m.identity_field), &identity) !=
            0) {
            return -1;
        }
        if (identity == NULL) {
            json_object_del(record, "identity");
        } else if (json_object_set_new(record, "identity", identity) != 0) {
            return -1;
        }
    }
    if (json_is_object(data)) {
        props = tcb_mapping_properties(&m, data, NULL);
        if (props == NULL || json_object_set_new(record, data_key, props) != 0) {
            return -1;
        }
    }
    if (m.event_name != NULL && strcmp(data_key, "evtData") == 0 &&
        json_object_set_new(record, "evtName", json_string(m.event_name)) != 0) {
        return -1;
    }
    return props != NULL ? tcb_mapping_add_constants(&m, record, props) : 0;
}

/* One CleverTap record (borrowed), alone or from an envelope. */
static void handle_record(struct run *r, json_t *record)
{
    struct target t;
    const char *event = json_string_value(json_object_get(record, "evtName"));
    if (find_target(r, NULL, event, record, &t) != 0) {
        return;
    }
    if (t.spec != NULL && json_is_object(record) && map_record(t.spec, record) != 0) {
        r->oom = 1;
        return;
    }
    emit(r, &t, json_incref(record));
}

static void handle_envelope(struct run *r, json_t *d)
{
    size_t i;
    json_t *record;
    if (!json_is_array(d)) {
        dead_letter(r, "transform", 0, NULL, "envelope \"d\" is not an array");
        return;
    }
    if (json_array_size(d) > TCB_TRANSFORM_MAX_RECORDS) {
        dead_letter(r, "transform", 0, NULL, "envelope has %zu records; the limit is %d",
                    json_array_size(d), TCB_TRANSFORM_MAX_RECORDS);
        return;
    }
    json_array_foreach (d, i, record) {
        handle_record(r, record);
    }
}

/* data / Data (Talon.One's casing differs between types), or the field;
 * *name is updated to the key found. */
static json_t *items_field(const json_t *msg, const char **name)
{
    json_t *items = json_object_get(msg, *name);
    if (items == NULL && strcmp(*name, "data") == 0) {
        items = json_object_get(msg, "Data");
        *name = items != NULL ? "Data" : *name;
    }
    return items;
}

/* One event for one identity (stolen, may be NULL) with props: borrowed and
 * copied when copy is set, else stolen (the last event of an item). */
static void emit_event(struct run *r, const struct target *t, const struct tcb_mapping *m,
                       json_t *identity, json_t *props, int copy)
{
    json_t *record = json_object();
    json_t *data = copy ? json_deep_copy(props) : props;
    if (record == NULL || data == NULL ||
        json_object_set_new(record, "type", json_string("event")) != 0 ||
        json_object_set_new(record, "evtName", json_string(m->event_name)) != 0 ||
        (identity != NULL && json_object_set(record, "identity", identity) != 0) ||
        json_object_set(record, "evtData", data) != 0 ||
        tcb_mapping_add_constants(m, record, data) != 0) {
        r->oom = 1;
        json_decref(record);
        record = NULL;
    }
    json_decref(identity);
    json_decref(data);
    if (record != NULL) {
        emit(r, t, record);
    }
}

/* The events for one notification item: one per identity found. */
static void handle_item(struct run *r, const struct target *t, const struct tcb_mapping *m,
                        const json_t *msg, const json_t *item)
{
    const json_t *id =
        m->identity_field != NULL ? tcb_mapping_lookup(item, msg, m->identity_field) : NULL;
    json_t *props = tcb_mapping_properties(m, item, msg);
    json_t *identity = NULL, *pending = NULL;
    if (props == NULL) {
        r->oom = 1;
        return;
    }
    if (json_is_array(id)) {
        size_t i;
        const json_t *entry;
        /* One event per usable entry; the last one takes props itself. */
        json_array_foreach (id, i, entry) {
            if (stopped(r)) {
                break;
            }
            if (tcb_mapping_identity(entry, &identity) != 0) {
                r->oom = 1;
            } else if (identity != NULL && pending != NULL) {
                emit_event(r, t, m, pending, props, 1);
            }
            pending = identity != NULL ? identity : pending;
        }
    } else if (tcb_mapping_identity(id, &pending) != 0) {
        r->oom = 1;
    }
    /* With no identity the event is still built, so that its dead letter
     * shows the record. */
    emit_event(r, t, m, pending, props, 0);
}

static void handle_notification(struct run *r, json_t *msg, const json_t *type_value)
{
    const char *type = json_string_value(type_value);
    const struct tcb_notification_map *builtin;
    struct tcb_mapping m = {NULL,   NULL, &no_kv, &no_str, &no_str, &no_kv, TCB_NESTED_STRINGIFY,
                            &no_str};
    const char *items_name = "data";
    struct target t;
    json_t *items;
    if (type == NULL) {
        dead_letter(r, "transform", 0, NULL, "NotificationType is not a string");
        return;
    }
    builtin = tcb_notification_find(type);
    if (find_target(r, type, builtin != NULL ? builtin->event_name : NULL, NULL, &t) != 0) {
        return;
    }
    if (t.spec == NULL && builtin == NULL) {
        char shown[96];
        dead_letter(r, "transform", 0, NULL,
                    "unknown NotificationType \"%s\"; add a route with a transform to map it",
                    tcb_utf8_prefix(type, shown, sizeof(shown)));
        return;
    }
    if (t.spec == NULL && builtin->refusal != NULL) {
        dead_letter(r, "transform", 0, NULL,
                    "NotificationType %s: %s; add a route with a transform to map it", type,
                    builtin->refusal);
        return;
    }
    if (builtin != NULL && builtin->refusal == NULL) {
        m.event_name = builtin->event_name;
        m.identity_field = builtin->identity_field;
        m.rename = &builtin->rename;
        m.include = &builtin->include;
        m.date_fields = &builtin->date_fields;
        items_name = builtin->items;
    }
    /* A configured transform keeps the built-in's item array, event name and
     * identity unless it sets them, and replaces its field selection. */
    tcb_mapping_overlay(&m, t.spec);
    if (m.event_name == NULL) {
        m.event_name = type;
    }
    items = items_name != NULL ? items_field(msg, &items_name) : NULL;
    if (items_name != NULL && !json_is_array(items) && builtin != NULL &&
        builtin->refusal == NULL) {
        dead_letter(r, "transform", 0, NULL, "%s notification has no \"%s\" array", type,
                    items_name);
    } else if (json_is_array(items)) {
        size_t i;
        json_t *item;
        json_array_foreach (items, i, item) {
            if (stopped(r)) {
                break;
            }
            if (!json_is_object(item)) {
                dead_letter(r, "transform", 0, NULL, "%s[%zu] is not an object", items_name, i);
            } else {
                handle_item(r, &t, &m, msg, item);
            }
        }
    } else {
        handle_item(r, &t, &m, msg, msg);
    }
}

/* The whole message, parsed or not. */
static void handle_value(struct run *r)
{
    const struct tcb_transform_input *in = r->in;
    json_error_t err;
    json_t *root, *field;
    if (in->len == 0) {
        dead_letter(r, "transform", 0, NULL, "empty message value");
        return;
    }
    if (in->len > TCB_TRANSFORM_MAX_INPUT_BYTES) {
        dead_letter(r, "transform", 0, NULL, "message value is %zu bytes; the limit is %d", in->len,
                    TCB_TRANSFORM_MAX_INPUT_BYTES);
        return;
    }
    root = json_loadb(in->value, in->len, 0, &err);
    if (root == NULL &&
        (json_error_code(&err) == json_error_out_of_memory || err.text[0] == '\0')) {
        /* Out of memory (jansson leaves the text empty when its lexer could
         * not even start): not the message's fault, never a dead letter. */
        r->oom = 1;
        return;
    }
    if (root == NULL) {
        dead_letter(r, "transform", 0, NULL, "not JSON: %s (line %d, column %d)", err.text,
                    err.line, err.column);
        return;
    }
    if (!json_is_object(root)) {
        dead_letter(r, "transform", 0, NULL,
                    "not a CleverTap record, {\"d\":[...]} envelope or Talon.One notification");
    } else if ((field = json_object_get(root, "NotificationType")) != NULL) {
        handle_notification(r, root, field);
    } else if ((field = json_object_get(root, "d")) != NULL) {
        handle_envelope(r, field);
    } else {
        handle_record(r, root);
    }
    json_decref(root);
}

void tcb_transform_result_free(struct tcb_transform_result *out)
{
    if (out == NULL) {
        return;
    }
    for (size_t i = 0; i < out->record_count; i++) {
        free(out->records[i].json);
    }
    for (size_t i = 0; i < out->dead_letter_count; i++) {
        free(out->dead_letters[i].json);
    }
    free(out->records);
    free(out->dead_letters);
    memset(out, 0, sizeof(*out));
}

int tcb_transform_message(const struct tcb_config *cfg, const struct tcb_transform_input *in,
                          struct tcb_transform_result *out)
{
    struct run r = {cfg, in, out, 0, 0, 0, 0, 0, 0, 0};
    memset(out, 0, sizeof(*out));
    handle_value(&r);
    if ((r.overflow || r.over_budget) && !r.oom) {
        int over_budget = r.over_budget;
        tcb_transform_result_free(out);
        r = (struct run){cfg, in, out, 0, 0, 0, 0, 0, 0, 0};
        if (over_budget) {
            dead_letter(&r, "transform", 0, NULL, "message yields more than %u bytes of records",
                        TCB_TRANSFORM_MAX_OUTPUT_BYTES);
        } else {
            dead_letter(&r, "transform", 0, NULL, "message yields more than %d records",
                        TCB_TRANSFORM_MAX_RECORDS);
        }
    }
    if (r.oom) {
        tcb_transform_result_free(out);
        return -1;
    }
    return 0;
}
