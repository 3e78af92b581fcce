/* CleverTap Upload API response bodies -> struct tcb_ct_response. Tolerates the
 * real bodies' spacing and missing fields; bounded (entries and texts capped).
 * Never decides what a response means for retries and never logs. */
#include "consumer/ct_response.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIPPED_MARKER    "Skipped record number"
#define MAX_RECORD_NUMBER 1000000

static void copy_text(char *dst, size_t cap, const json_t *value)
{
    const char *text = json_string_value(value);
    snprintf(dst, cap, "%s", text ? text : "");
}

/* A code as CleverTap sends it (a number or a numeric string); 0 when absent,
 * not a whole number, or outside +-1,000,000 (no real code is). */
static int int_field(const json_t *obj, const char *key)
{
    const json_t *value = json_object_get(obj, key);
    long long n = 0;
    if (json_is_integer(value)) {
        n = json_integer_value(value);
    } else if (json_is_string(value)) {
        const char *text = json_string_value(value);
        char *end = NULL;
        errno = 0;
        n = strtoll(text, &end, 10);
        if (end == text || *end != '\0' || errno == ERANGE) {
            return 0;
        }
    }
    return n > -1000000 && n < 1000000 ? (int)n : 0;
}

static enum tcb_ct_status parse_status(const json_t *value)
{
    const char *text = json_string_value(value);
    if (!text) {
        return TCB_CT_STATUS_UNKNOWN;
    }
    if (strcmp(text, "success") == 0) {
        return TCB_CT_STATUS_SUCCESS;
    }
    if (strcmp(text, "partial") == 0) {
        return TCB_CT_STATUS_PARTIAL;
    }
    if (strcmp(text, "fail") == 0) {
        return TCB_CT_STATUS_FAIL;
    }
    return TCB_CT_STATUS_UNKNOWN;
}

int tcb_ct_skipped_record_number(const char *text)
{
    if (!text) {
        return 0;
    }
    const char *marker = strstr(text, SKIPPED_MARKER);
    if (!marker) {
        return 0;
    }
    const char *p = marker + strlen(SKIPPED_MARKER);
    while (*p == ' ') {
        p++;
    }
    if (*p == ':') {
        p++;
    }
    while (*p == ' ') {
        p++;
    }
    long n = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 8) {
        n = n * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || (*p >= '0' && *p <= '9') || n <= 0 || n >= MAX_RECORD_NUMBER) {
        return 0;
    }
    return (int)n;
}

static void parse_entry(const json_t *entry, struct tcb_ct_unprocessed *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(entry)) {
        return;
    }
    out->code = int_field(entry, "code");
    copy_text(out->text, sizeof(out->text), json_object_get(entry, "error"));
    /* Parse the number from the untruncated text: it sits at the end. */
    out->record_number =
        tcb_ct_skipped_record_number(json_string_value(json_object_get(entry, "error")));
    json_t *record = json_object_get(entry, "record");
    if (record) {
        out->record = json_incref(record);
    }
}

int tcb_ct_response_parse(const char *body, size_t len, size_t max_entries,
                          struct tcb_ct_response *out)
{
    memset(out, 0, sizeof(*out));
    out->processed = -1;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    out->status = parse_status(json_object_get(root, "status"));
    const json_t *processed = json_object_get(root, "processed");
    if (json_is_integer(processed)) {
        out->processed = (long)json_integer_value(processed);
    }
    out->code = int_field(root, "code");
    copy_text(out->error, sizeof(out->error), json_object_get(root, "error"));

    const json_t *list = json_object_get(root, "unprocessed");
    size_t count = json_is_array(list) ? json_array_size(list) : 0;
    if (count > max_entries) {
        count = max_entries;
    }
    if (count > 0) {
        out->unprocessed = tcb_xcalloc(count, sizeof(*out->unprocessed));
        for (size_t i = 0; i < count; i++) {
            parse_entry(json_array_get(list, i), &out->unprocessed[i]);
        }
        out->unprocessed_count = count;
    }
    json_decref(root);
    return 0;
}

void tcb_ct_response_clear(struct tcb_ct_response *resp)
{
    if (!resp) {
        return;
    }
    for (size_t i = 0; i < resp->unprocessed_count; i++) {
        json_decref(resp->unprocessed[i].record);
    }
    free(resp->unprocessed);
    memset(resp, 0, sizeof(*resp));
    resp->processed = -1;
}

/* The value as comparable text: strings as-is, integers in decimal. Writes "" for
 * anything else. */
static void scalar_text(const json_t *value, char *buf, size_t cap)
{
    if (json_is_string(value)) {
        snprintf(buf, cap, "%s", json_string_value(value));
    } else if (json_is_integer(value)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    } else {
        buf[0] = '\0';
    }
}

static int same_field(const json_t *a, const json_t *b, const char *key)
{
    char ta[TCB_CT_TEXT_MAX];
    char tb[TCB_CT_TEXT_MAX];
    const json_t *va = json_object_get(a, key);
    const json_t *vb = json_object_get(b, key);
    if (!va && !vb) {
        return 1;
    }
    if (!va || !vb) {
        return 0;
    }
    scalar_text(va, ta, sizeof(ta));
    scalar_text(vb, tb, sizeof(tb));
    return strcmp(ta, tb) == 0;
}

int tcb_ct_echo_matches(const json_t *echo, const char *sent, size_t len)
{
    static const char *const keys[] = {"type", "identity", "objectId", "FBID", "GPID", "evtName"};
    if (!json_is_object(echo)) {
        return 0;
    }
    json_t *record = json_loadb(sent, len, 0, NULL);
    int match = json_is_object(record);
    for (size_t i = 0; match && i < sizeof(keys) / sizeof(keys[0]); i++) {
        match = same_field(echo, record, keys[i]);
    }
    json_decref(record);
    return match;
}
