/* tcb_transform_message: shape detection (record, envelope, notification),
 * the verdicts of one message (records, dead letters, skips, ceilings),
 * routes for CleverTap records, and the last step of every record: ts
 * defaults, the long-value policy, validation, trust checks, the stale-event
 * policy, the account and serialisation. Pure: no I/O, no logging; the
 * caller decides what to do with each verdict. */
#include "transforms/transform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/checks.h"
#include "transforms/dates.h"
#include "transforms/mapping.h"
#include "transforms/run.h"
#include "transforms/text.h"
#include "transforms/validate.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/hash.h"

#define DUMP_MAX_BYTES (8u * 1024u * 1024u) /* one serialised record */
/* Used when a hand-built configuration leaves the ceilings at 0. */
#define FALLBACK_MAX_OUTPUTS 10000
#define FALLBACK_MAX_BYTES   (8u * 1024u * 1024u)

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

/* Grows an output array to hold one more element (aborts when out of
 * memory: util/alloc.h). */
static void reserve(void **items, size_t *cap, size_t count, size_t size)
{
    size_t want = *cap == 0 ? 4 : *cap * 2;
    if (count < *cap) {
        return;
    }
    *items = tcb_xrealloc(*items, want * size);
    *cap = want;
}

int tcb_run_stopped(const struct tcb_run *r)
{
    return r->oom || r->overflow || r->over_budget;
}

/* Counts n serialised bytes against the byte ceiling; 0, or -1
 * (r->over_budget set) beyond it. */
static int charge(struct tcb_run *r, size_t n)
{
    if (n > r->max_bytes - r->out_bytes) {
        r->over_budget = 1;
        return -1;
    }
    r->out_bytes += n;
    return 0;
}

/* Claims the next output index; 0, or -1 (r->overflow set) over the ceiling. */
static int next_index(struct tcb_run *r, size_t *index)
{
    if (r->next_index >= r->max_outputs) {
        r->overflow = 1;
        return -1;
    }
    *index = r->next_index++;
    return 0;
}

void tcb_run_skip(struct tcb_run *r, const char *reason)
{
    size_t index;
    if (tcb_run_stopped(r) || next_index(r, &index) != 0) {
        return;
    }
    reserve((void **)&r->out->skips, &r->skip_cap, r->out->skip_count, sizeof(*r->out->skips));
    r->out->skips[r->out->skip_count].index = index;
    r->out->skips[r->out->skip_count].reason = reason;
    r->out->skip_count++;
}

void tcb_run_dead_letter(struct tcb_run *r, const char *stage, int code, const json_t *record,
                         const char *fmt, ...)
{
    struct tcb_transform_dead_letter *dl;
    va_list ap;
    size_t index;
    int too_big = 0;
    if (tcb_run_stopped(r) || next_index(r, &index) != 0) {
        return;
    }
    reserve((void **)&r->out->dead_letters, &r->dead_cap, r->out->dead_letter_count, sizeof(*dl));
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

int tcb_run_target(struct tcb_run *r, const struct tcb_route_query *q, const json_t *record,
                   struct tcb_target *t)
{
    t->route = tcb_route_match(r->cfg, q);
    t->spec = NULL;
    if (t->route != NULL && t->route->transform != NULL) {
        t->spec = tcb_config_find_transform(r->cfg, t->route->transform);
        if (t->spec == NULL) {
            tcb_run_dead_letter(r, "transform", 0, record,
                                "route \"%s\" names unknown transform \"%s\"",
                                t->route->name != NULL ? t->route->name : "", t->route->transform);
            return -1;
        }
    }
    return 0;
}

/* Header, else route, else default account; NULL with the reason written. */
static const struct tcb_account *resolve_account(const struct tcb_run *r,
                                                 const struct tcb_target *t, char *reason,
                                                 size_t reason_len)
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
static int normalise(const struct tcb_run *r, json_t *record)
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

int tcb_run_ts_field(struct tcb_run *r, const struct tcb_transform_spec *spec, json_t *record,
                     const json_t *item, const json_t *parent)
{
    const json_t *v;
    int64_t epoch;
    char shown[96];
    if (spec == NULL || spec->ts_field == NULL) {
        return 0;
    }
    v = tcb_mapping_lookup(item, parent, spec->ts_field);
    if (tcb_mapping_is_blank(v)) {
        return 0;
    }
    if (tcb_date_epoch(v, &epoch) != 0) {
        tcb_run_dead_letter(r, "transform", 0, record,
                            "ts_field \"%s\" is not a date (ISO 8601, epoch seconds or "
                            "milliseconds)",
                            tcb_utf8_prefix(spec->ts_field, shown, sizeof(shown)));
        return -1;
    }
    if (json_object_set_new(record, "ts", json_integer((json_int_t)epoch)) != 0) {
        r->oom = 1;
        return -1;
    }
    return 0;
}

/* Applies the stale-event policy to a valid event record. Returns 1 when it
 * is stale (kept or restamped), 0 when fresh, -1 when dead-lettered or on
 * allocation failure (r->oom). */
static int apply_stale_policy(struct tcb_run *r, const struct tcb_target *t, json_t *record,
                              int event)
{
    enum tcb_stale_policy policy = t->route != NULL && t->route->has_stale_policy
                                       ? t->route->stale_policy
                                       : r->cfg->sink.stale_policy;
    long after_s = r->cfg->sink.stale_after_s;
    json_int_t age;
    if (after_s <= 0 || !event) {
        return 0;
    }
    age = (json_int_t)r->in->now_s - json_integer_value(json_object_get(record, "ts"));
    if (age <= after_s) {
        return 0;
    }
    if (policy == TCB_STALE_DEAD_LETTER) {
        tcb_run_dead_letter(r, "validation", 0, record,
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

/* The checks after CleverTap's own rules: unrendered templates, then the
 * route's required properties. 0, or -1 after dead-lettering. */
static int check_trust(struct tcb_run *r, const struct tcb_target *t, const json_t *record)
{
    char reason[TCB_TRANSFORM_REASON_MAX];
    if (tcb_check_templates(record, reason, sizeof(reason)) ||
        (t->route != NULL && tcb_check_required(record, &t->route->required_properties,
                                                t->route->name, reason, sizeof(reason)))) {
        tcb_run_dead_letter(r, "validation", 0, record, "%s", reason);
        return -1;
    }
    return 0;
}

/* The hash of a valid record's user key as text (validation made sure there
 * is one: a string or a whole number). */
static uint64_t user_key_of(const json_t *record)
{
    static const char *const keys[] = {"identity", "objectId", "FBID", "GPID"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(record, keys[i]);
        if (json_is_string(v)) {
            return tcb_hash64(json_string_value(v), json_string_length(v));
        }
        if (json_is_integer(v)) {
            char text[32];
            int n = snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            return tcb_hash64(text, (size_t)n);
        }
    }
    return 0;
}

/* Appends a serialised record (json taken). */
static void add_record(struct tcb_run *r, const struct tcb_account *account, char *json,
                       size_t json_len, int stale, int event, uint64_t user_key)
{
    struct tcb_transform_record *rec;
    size_t index;
    if (charge(r, json_len) != 0 || next_index(r, &index) != 0) {
        free(json);
        return;
    }
    reserve((void **)&r->out->records, &r->record_cap, r->out->record_count, sizeof(*rec));
    rec = &r->out->records[r->out->record_count++];
    rec->index = index;
    rec->account = account;
    rec->json = json;
    rec->json_len = json_len;
    rec->stale = stale;
    rec->type = event ? "event" : "profile";
    rec->user_key = user_key;
}

void tcb_run_emit(struct tcb_run *r, const struct tcb_target *t, json_t *record)
{
    char reason[TCB_TRANSFORM_REASON_MAX], account_reason[TCB_TRANSFORM_REASON_MAX];
    const struct tcb_account *account =
        resolve_account(r, t, account_reason, sizeof(account_reason));
    struct tcb_validation_limits limits = {account != NULL ? account->max_properties : 0};
    const char *type;
    int code, stale = 0, too_big = 0, event;
    size_t json_len = 0;
    char *json;
    if (record == NULL || tcb_run_stopped(r)) {
        r->oom |= record == NULL;
        json_decref(record);
        return;
    }
    type = json_string_value(json_object_get(record, "type"));
    event = type != NULL && strcmp(type, "event") == 0;
    if (json_is_object(record) &&
        (normalise(r, record) != 0 ||
         tcb_check_long_values(record, r->cfg->sink.long_value_policy, &r->out->values_truncated,
                               &r->out->values_dropped) != 0)) {
        r->oom = 1;
    } else if ((code = tcb_validate_record(record, &limits, reason, sizeof(reason))) != 0) {
        tcb_run_dead_letter(r, "validation", code, record, "%s", reason);
    } else if (check_trust(r, t, record) != 0 ||
               (stale = apply_stale_policy(r, t, record, event)) < 0) {
        /* dead-lettered (or out of memory) */
    } else if (account == NULL) {
        tcb_run_dead_letter(r, "transform", 0, record, "%s", account_reason);
    } else if ((json = dump(record, &json_len, &too_big)) == NULL) {
        if (too_big) {
            tcb_run_dead_letter(r, "validation", 0, NULL, "record is larger than %u bytes",
                                DUMP_MAX_BYTES);
        } else {
            r->oom = 1;
        }
    } else {
        add_record(r, account, json, json_len, stale, event, user_key_of(record));
    }
    json_decref(record);
}

/* Applies a configured transform to a CleverTap record in place. 0, or -1
 * after a dead letter (ts_field) or on allocation failure (r->oom). */
static int map_record(struct tcb_run *r, const struct tcb_transform_spec *spec, json_t *record)
{
    struct tcb_mapping m = {0};
    const char *type = json_string_value(json_object_get(record, "type"));
    const char *data_key = type != NULL && strcmp(type, "profile") == 0 ? "profileData" : "evtData";
    json_t *data = json_object_get(record, data_key);
    json_t *props = NULL;
    tcb_mapping_overlay(&m, spec);
    if (m.identity_field != NULL) { /* looked up before evtData is rebuilt */
        json_t *identity;
        if (tcb_mapping_identity(tcb_mapping_lookup(record, NULL, m.identity_field), &identity) !=
            0) {
            r->oom = 1;
            return -1;
        }
        if (identity == NULL) {
            json_object_del(record, "identity");
        } else if (json_object_set_new(record, "identity", identity) != 0) {
            r->oom = 1;
            return -1;
        }
    }
    if (tcb_run_ts_field(r, spec, record, record, NULL) != 0) {
        return -1;
    }
    if (json_is_object(data)) {
        props = tcb_mapping_properties(&m, data, NULL);
        if (props == NULL || json_object_set_new(record, data_key, props) != 0) {
            r->oom = 1;
            return -1;
        }
    }
    if ((m.event_name != NULL && strcmp(data_key, "evtData") == 0 &&
         json_object_set_new(record, "evtName", json_string(m.event_name)) != 0) ||
        (props != NULL && tcb_mapping_add_constants(&m, record, props) != 0)) {
        r->oom = 1;
        return -1;
    }
    return 0;
}

/* One CleverTap record (borrowed), alone or from an envelope. */
static void handle_record(struct tcb_run *r, json_t *record)
{
    struct tcb_target t;
    struct tcb_route_query q = {NULL, json_string_value(json_object_get(record, "evtName")),
                                r->in->account_header, record, NULL};
    if (tcb_run_target(r, &q, record, &t) != 0) {
        return;
    }
    if (t.route != NULL && t.route->action == TCB_ROUTE_SKIP) {
        tcb_run_skip(r, TCB_SKIP_ROUTE);
        return;
    }
    if (t.spec != NULL && json_is_object(record) && map_record(r, t.spec, record) != 0) {
        return;
    }
    tcb_run_emit(r, &t, json_incref(record));
}

static void handle_envelope(struct tcb_run *r, json_t *d)
{
    size_t i;
    json_t *record;
    if (!json_is_array(d)) {
        tcb_run_dead_letter(r, "transform", 0, NULL, "envelope \"d\" is not an array");
        return;
    }
    if (json_array_size(d) > r->max_outputs) {
        r->overflow = 1; /* one dead letter for the message, below */
        return;
    }
    json_array_foreach (d, i, record) {
        if (tcb_run_stopped(r)) {
            break;
        }
        handle_record(r, record);
    }
}

/* The whole message, parsed or not. */
static void handle_value(struct tcb_run *r)
{
    const struct tcb_transform_input *in = r->in;
    json_error_t err;
    json_t *root, *field;
    if (in->len == 0) {
        tcb_run_dead_letter(r, "transform", 0, NULL, "empty message value");
        return;
    }
    if (in->len > TCB_TRANSFORM_MAX_INPUT_BYTES) {
        tcb_run_dead_letter(r, "transform", 0, NULL, "message value is %zu bytes; the limit is %d",
                            in->len, TCB_TRANSFORM_MAX_INPUT_BYTES);
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
        tcb_run_dead_letter(r, "transform", 0, NULL, "not JSON: %s (line %d, column %d)", err.text,
                            err.line, err.column);
        return;
    }
    if (!json_is_object(root)) {
        tcb_run_dead_letter(
            r, "transform", 0, NULL,
            "not a CleverTap record, {\"d\":[...]} envelope or Talon.One notification");
    } else if ((field = json_object_get(root, "NotificationType")) != NULL) {
        tcb_notify_handle(r, root, field);
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
    free(out->skips);
    memset(out, 0, sizeof(*out));
}

static void run_init(struct tcb_run *r, const struct tcb_config *cfg,
                     const struct tcb_transform_input *in, struct tcb_transform_result *out)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->in = in;
    r->out = out;
    r->max_outputs = cfg->sink.max_records_per_message > 0
                         ? (size_t)cfg->sink.max_records_per_message
                         : FALLBACK_MAX_OUTPUTS;
    r->max_bytes = cfg->sink.max_output_bytes_per_message > 0
                       ? (size_t)cfg->sink.max_output_bytes_per_message
                       : FALLBACK_MAX_BYTES;
}

int tcb_transform_message(const struct tcb_config *cfg, const struct tcb_transform_input *in,
                          struct tcb_transform_result *out)
{
    struct tcb_run r;
    memset(out, 0, sizeof(*out));
    run_init(&r, cfg, in, out);
    handle_value(&r);
    if ((r.overflow || r.over_budget) && !r.oom) {
        int over_budget = r.over_budget;
        tcb_transform_result_free(out);
        run_init(&r, cfg, in, out);
        if (over_budget) {
            tcb_run_dead_letter(&r, "transform", 0, NULL,
                                "message yields more than %zu bytes of records "
                                "(sink.max_output_bytes_per_message)",
                                r.max_bytes);
        } else {
            tcb_run_dead_letter(&r, "transform", 0, NULL,
                                "message yields more than %zu records "
                                "(sink.max_records_per_message)",
                                r.max_outputs);
        }
    }
    if (r.oom) {
        tcb_transform_result_free(out);
        return -1;
    }
    return 0;
}
