/* Upload envelope splitting and notification keying over the validated body
 * (ingest_json): record bytes are passed through untouched and keys are
 * spans, decoded only when they hold escapes; records are never validated
 * for CleverTap here: that is the sink's job. */
#include "producer/ingest_records.h"

#include "producer/ingest_json.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

/* CleverTap's user keys, in the order a record is keyed by them. */
static const char *const record_key_fields[] = {"identity", "objectId", "FBID", "GPID"};

/* Where Talon.One notifications carry the customer's profile integration id:
 * top-level fields first, then the first element of data / Data. */
static const char *const notification_key_fields[] = {"ProfileIntegrationID",
                                                      "ProfileIntegrationIDs",
                                                      "CustomerProfileID",
                                                      "CustomerProfileId",
                                                      "recipientIntegrationId",
                                                      "profileId",
                                                      "ProfileID",
                                                      "Profiles"};

/* Validates the body; on TCB_INGEST_PARSE_OK, *root is its value's offset. */
static int validate(const char *body, size_t len, size_t *root)
{
    switch (tcb_json_validate(body, len)) {
    case TCB_JSON_VALID:
        *root = tcb_json_skip_ws(body, len, 0);
        return TCB_INGEST_PARSE_OK;
    case TCB_JSON_TOO_DEEP:
        return TCB_INGEST_PARSE_TOO_DEEP;
    default:
        return TCB_INGEST_PARSE_NOT_JSON;
    }
}

/* Sets key from a non-empty string (decoded when it holds escapes). */
static int key_from_string(struct tcb_ingest_key *key, const char *body, size_t len, size_t at)
{
    struct tcb_json_span raw;
    if (!tcb_json_string_raw(body, len, at, &raw) || raw.length == 0) {
        return -1;
    }
    const char *text = body + raw.offset;
    if (memchr(text, '\\', raw.length) == NULL) {
        key->data = text;
        key->len = raw.length;
        return 0;
    }
    key->owned_key = tcb_xmalloc(raw.length);
    key->len = tcb_json_string_decode(text, raw.length, key->owned_key);
    key->data = key->owned_key;
    return 0;
}

/* Sets key from a string or an integer (its text) at at; 0 when set. */
static int key_from_value(struct tcb_ingest_key *key, const char *body, size_t len, size_t at)
{
    struct tcb_json_span number;
    if (tcb_json_integer_text(body, len, at, &number)) {
        key->data = body + number.offset;
        key->len = number.length;
        return 0;
    }
    return key_from_string(key, body, len, at);
}

static void key_record(struct tcb_ingest_record *record, const char *body, size_t len, size_t at)
{
    for (size_t i = 0; i < sizeof(record_key_fields) / sizeof(record_key_fields[0]); i++) {
        size_t value_at;
        if (tcb_json_member(body, len, at, record_key_fields[i], &value_at) &&
            key_from_value(&record->key, body, len, value_at) == 0) {
            return;
        }
    }
}

int tcb_ingest_upload_parse(const char *body, size_t len, struct tcb_ingest_upload *upload)
{
    memset(upload, 0, sizeof(*upload));
    size_t root;
    int rc = validate(body, len, &root);
    if (rc != TCB_INGEST_PARSE_OK) {
        return rc;
    }
    size_t array_at;
    if (!tcb_json_member(body, len, root, "d", &array_at) || body[array_at] != '[') {
        return TCB_INGEST_PARSE_NOT_UPLOAD;
    }
    struct tcb_json_span *spans = tcb_xcalloc(TCB_INGEST_MAX_RECORDS, sizeof(*spans));
    long count = tcb_json_elements(body, len, array_at, spans, TCB_INGEST_MAX_RECORDS);
    if (count < 0) {
        free(spans);
        return TCB_INGEST_PARSE_TOO_MANY;
    }
    if (count > 0) {
        upload->records = tcb_xcalloc((size_t)count, sizeof(*upload->records));
    }
    upload->count = (size_t)count;
    for (size_t i = 0; i < upload->count; i++) {
        struct tcb_ingest_record *record = &upload->records[i];
        record->value = body + spans[i].offset;
        record->value_len = spans[i].length;
        key_record(record, body, len, spans[i].offset);
    }
    free(spans);
    return TCB_INGEST_PARSE_OK;
}

void tcb_ingest_key_free(struct tcb_ingest_key *key)
{
    if (key != NULL) {
        free(key->owned_key);
        memset(key, 0, sizeof(*key));
    }
}

void tcb_ingest_upload_free(struct tcb_ingest_upload *upload)
{
    if (upload == NULL) {
        return;
    }
    for (size_t i = 0; upload->records && i < upload->count; i++) {
        tcb_ingest_key_free(&upload->records[i].key);
    }
    free(upload->records);
    memset(upload, 0, sizeof(*upload));
}

/* Sets key from the first non-empty string of the value at at, or of its
 * elements when it is an array. */
static int first_string(struct tcb_ingest_key *key, const char *body, size_t len, size_t at)
{
    if (key_from_string(key, body, len, at) == 0) {
        return 0;
    }
    if (body[at] != '[') {
        return -1;
    }
    size_t i = tcb_json_skip_ws(body, len, at + 1);
    while (i < len && body[i] != ']') {
        if (key_from_string(key, body, len, i) == 0) {
            return 0;
        }
        i = tcb_json_skip_ws(body, len, tcb_json_value_end(body, len, i));
        if (i < len && body[i] == ',') {
            i = tcb_json_skip_ws(body, len, i + 1);
        }
    }
    return -1;
}

static int find_profile_id(struct tcb_ingest_key *key, const char *body, size_t len, size_t at)
{
    for (size_t i = 0; i < sizeof(notification_key_fields) / sizeof(notification_key_fields[0]);
         i++) {
        size_t value_at;
        if (tcb_json_member(body, len, at, notification_key_fields[i], &value_at) &&
            first_string(key, body, len, value_at) == 0) {
            return 0;
        }
    }
    return -1;
}

int tcb_ingest_notification_key(const char *body, size_t len, struct tcb_ingest_key *key)
{
    memset(key, 0, sizeof(*key));
    size_t root;
    int rc = validate(body, len, &root);
    if (rc != TCB_INGEST_PARSE_OK) {
        return rc;
    }
    if (body[root] != '{') {
        return TCB_INGEST_PARSE_NOT_JSON;
    }
    if (find_profile_id(key, body, len, root) == 0) {
        return TCB_INGEST_PARSE_OK;
    }
    const char *containers[] = {"data", "Data"};
    for (size_t i = 0; i < 2; i++) {
        size_t array_at;
        struct tcb_json_span first;
        if (!tcb_json_member(body, len, root, containers[i], &array_at)) {
            continue;
        }
        long count = tcb_json_elements(body, len, array_at, &first, 1); /* -2: more than one */
        if ((count == 1 || count == -2) && find_profile_id(key, body, len, first.offset) == 0) {
            return TCB_INGEST_PARSE_OK;
        }
    }
    return TCB_INGEST_PARSE_OK;
}
