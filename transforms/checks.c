/* Long values, unrendered templates and required properties (see checks.h).
 * Pure: no I/O, no globals; modifies only the record it is given for the
 * long-value policy. */
#include "transforms/checks.h"

#include <stdio.h>
#include <string.h>

#include "transforms/text.h"

#define SHOWN_MAX 65 /* bytes of a property name shown in a reason */

/* The data object of a record: evtData for events, profileData else. */
static json_t *data_of(const json_t *record)
{
    const char *type = json_string_value(json_object_get(record, "type"));
    return json_object_get(record, type != NULL && strcmp(type, "profile") == 0 ? "profileData"
                                                                                : "evtData");
}

/* Bytes of s to keep so that at most max bytes remain, cut on a UTF-8
 * sequence boundary. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    return n;
}

int tcb_check_long_values(json_t *record, enum tcb_long_value_policy policy, size_t *truncated,
                          size_t *dropped)
{
    json_t *data = data_of(record);
    const char *key;
    json_t *value;
    void *tmp;
    if (!json_is_object(data) || policy == TCB_LONG_VALUE_DEAD_LETTER) {
        return 0;
    }
    json_object_foreach_safe (data, tmp, key, value) {
        if (!json_is_string(value) || json_string_length(value) <= TCB_VALUE_MAX_BYTES) {
            continue;
        }
        if (policy == TCB_LONG_VALUE_DROP) {
            json_object_del(data, key);
            (*dropped)++;
            continue;
        }
        if (json_string_setn(value, json_string_value(value),
                             utf8_cut(json_string_value(value), TCB_VALUE_MAX_BYTES)) != 0) {
            return -1;
        }
        (*truncated)++;
    }
    return 0;
}

/* "${" then optional blanks then '$': Talon.One's template syntax. */
static int has_template(const char *s)
{
    for (const char *p = strchr(s, '$'); p != NULL; p = strchr(p + 1, '$')) {
        const char *q = p + 2;
        if (p[1] != '{') {
            continue;
        }
        while (*q == ' ' || *q == '\t') {
            q++;
        }
        if (*q == '$') {
            return 1;
        }
    }
    return 0;
}

/* Depth-first over v; where names the property found (borrowed). */
static int find_template(const json_t *v, const char *name, const char **where)
{
    if (json_is_string(v)) {
        if (has_template(json_string_value(v))) {
            *where = name;
            return 1;
        }
        return 0;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach ((json_t *)v, key, child) {
            if (find_template(child, name != NULL ? name : key, where)) {
                return 1;
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            if (find_template(child, name, where)) {
                return 1;
            }
        }
    }
    return 0;
}

int tcb_check_templates(const json_t *record, char *reason, size_t reason_len)
{
    const char *key, *where = NULL;
    json_t *value;
    char shown[SHOWN_MAX];
    json_object_foreach ((json_t *)record, key, value) {
        int data = strcmp(key, "evtData") == 0 || strcmp(key, "profileData") == 0;
        if (find_template(value, data ? NULL : key, &where)) {
            snprintf(reason, reason_len,
                     "%s \"%s\" holds an unrendered Talon.One template (${$...}): the webhook or "
                     "notification was sent before its template was filled",
                     data ? "property" : "field", tcb_utf8_prefix(where, shown, sizeof(shown)));
            tcb_utf8_clip(reason);
            return 1;
        }
    }
    return 0;
}

static int is_blank_string(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

int tcb_check_required(const json_t *record, const struct tcb_str_list *required,
                       const char *route_name, char *reason, size_t reason_len)
{
    const json_t *data;
    const char *type = json_string_value(json_object_get(record, "type"));
    char shown[SHOWN_MAX], route_shown[SHOWN_MAX];
    if (required->count == 0 || type == NULL || strcmp(type, "event") != 0) {
        return 0;
    }
    data = json_object_get(record, "evtData");
    for (size_t i = 0; i < required->count; i++) {
        const json_t *v = json_object_get(data, required->items[i]);
        if (v == NULL || json_is_null(v) ||
            (json_is_string(v) && is_blank_string(json_string_value(v)))) {
            snprintf(reason, reason_len,
                     "required property \"%s\" is %s (route \"%s\", required_properties)",
                     tcb_utf8_prefix(required->items[i], shown, sizeof(shown)),
                     v == NULL || json_is_null(v) ? "missing" : "empty",
                     tcb_utf8_prefix(route_name != NULL ? route_name : "", route_shown,
                                     sizeof(route_shown)));
            tcb_utf8_clip(reason);
            return 1;
        }
    }
    return 0;
}
