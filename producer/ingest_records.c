/* Upload envelope splitting and notification keying with jansson. Record
 * bytes are passed through untouched (located by ingest_json_span); records
 * are never validated here: that is the sink's job. */
#include "producer/ingest_records.h"

#include "producer/ingest_json_span.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
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

/* JSON text never holds a raw NUL byte, but jansson's reader skips them: such a
 * body is refused so that the parser and the raw scan see the same text. An
 * empty body may come as NULL (no bytes were ever buffered), which memchr
 * must never see. */
static json_t *parse(const char *body, size_t len)
{
    json_error_t error;
    if (len == 0 || memchr(body, '\0', len) != NULL) {
        return NULL;
    }
    return json_loadb(body, len, 0, &error);
}

/* Sets the record's key from a string or integer value; 0 when set. */
static int key_from_value(struct tcb_ingest_record *record, json_t *value)
{
    if (json_is_string(value) && json_string_length(value) > 0) {
        record->key = json_string_value(value);
        record->key_len = json_string_length(value);
        return 0;
    }
    if (json_is_integer(value)) {
        snprintf(record->key_number, sizeof(record->key_number), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(value));
        record->key = record->key_number;
        record->key_len = strlen(record->key_number);
        return 0;
    }
    return -1;
}

static void key_record(struct tcb_ingest_record *record, json_t *element)
{
    if (!json_is_object(element)) {
        return;
    }
    for (size_t i = 0; i < sizeof(record_key_fields) / sizeof(record_key_fields[0]); i++) {
        if (key_from_value(record, json_object_get(element, record_key_fields[i])) == 0) {
            return;
        }
    }
}

/* Used only when the raw scan disagrees with the parser (an escaped "d" key). */
static int serialize_records(struct tcb_ingest_upload *upload, json_t *array)
{
    for (size_t i = 0; i < upload->count; i++) {
        struct tcb_ingest_record *record = &upload->records[i];
        record->owned_value = json_dumps(json_array_get(array, i), JSON_COMPACT | JSON_ENCODE_ANY);
        if (record->owned_value == NULL) {
            return TCB_INGEST_PARSE_NOMEM;
        }
        record->value = record->owned_value;
        record->value_len = strlen(record->owned_value);
    }
    return TCB_INGEST_PARSE_OK;
}

int tcb_ingest_upload_parse(const char *body, size_t len, struct tcb_ingest_upload *upload)
{
    memset(upload, 0, sizeof(*upload));
    json_t *root = parse(body, len);
    if (root == NULL) {
        return TCB_INGEST_PARSE_NOT_JSON;
    }
    upload->root = root;
    json_t *array = json_object_get(root, "d");
    if (!json_is_array(array)) {
        return TCB_INGEST_PARSE_NOT_UPLOAD;
    }
    size_t count = json_array_size(array);
    if (count > TCB_INGEST_MAX_RECORDS) {
        return TCB_INGEST_PARSE_TOO_MANY;
    }
    if (count == 0) {
        return TCB_INGEST_PARSE_OK;
    }
    upload->records = tcb_xcalloc(count, sizeof(*upload->records));
    struct tcb_json_span *spans = tcb_xcalloc(count, sizeof(*spans));
    upload->count = count;
    long scanned = tcb_json_member_array_spans(body, len, "d", spans, count);
    for (size_t i = 0; i < count; i++) {
        key_record(&upload->records[i], json_array_get(array, i));
        if (scanned == (long)count) {
            upload->records[i].value = body + spans[i].offset;
            upload->records[i].value_len = spans[i].length;
        }
    }
    free(spans);
    if (scanned != (long)count) {
        return serialize_records(upload, array);
    }
    return TCB_INGEST_PARSE_OK;
}

void tcb_ingest_upload_free(struct tcb_ingest_upload *upload)
{
    if (upload == NULL) {
        return;
    }
    for (size_t i = 0; upload->records && i < upload->count; i++) {
        free(upload->records[i].owned_value);
    }
    free(upload->records);
    json_decref(upload->root);
    memset(upload, 0, sizeof(*upload));
}

/* The first non-empty string of value, or of value[] when it is an array. */
static const char *first_string(json_t *value)
{
    if (json_is_string(value)) {
        return json_string_length(value) > 0 ? json_string_value(value) : NULL;
    }
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach (value, i, item) {
            if (json_is_string(item) && json_string_length(item) > 0) {
                return json_string_value(item);
            }
        }
    }
    return NULL;
}

static const char *find_profile_id(json_t *object)
{
    if (!json_is_object(object)) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(notification_key_fields) / sizeof(notification_key_fields[0]);
         i++) {
        const char *id = first_string(json_object_get(object, notification_key_fields[i]));
        if (id != NULL) {
            return id;
        }
    }
    return NULL;
}

int tcb_ingest_notification_key(const char *body, size_t len, char **key_out)
{
    *key_out = NULL;
    json_t *root = parse(body, len);
    if (!json_is_object(root)) {
        json_decref(root);
        return TCB_INGEST_PARSE_NOT_JSON;
    }
    const char *id = find_profile_id(root);
    const char *containers[] = {"data", "Data"};
    for (size_t i = 0; id == NULL && i < 2; i++) {
        id = find_profile_id(json_array_get(json_object_get(root, containers[i]), 0));
    }
    *key_out = tcb_xstrdup(id);
    json_decref(root);
    return TCB_INGEST_PARSE_OK;
}
