/* CleverTap's per-record Upload API rules (shared/clevertap-api.md), with
 * CleverTap's codes and error texts (texts copied from recorded real answers
 * where one exists). Pure: no I/O, no globals, never modifies the record.
 * It never converts or repairs a record: that is the transform's job. */
#include "transforms/validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/text.h"

#define KEY_MAX           120 /* event keys: characters; profile keys: bytes */
#define VALUE_MAX_BYTES   512
#define NAME_MAX_BYTES    512
#define MAX_ITEMS         100            /* Charged Items entries / multi-value profile entries */
#define TS_MS_THRESHOLD   100000000000LL /* above: a millisecond timestamp */
#define DEFAULT_MAX_PROPS 100

/* Reserved system events (code 513), kept folded (lower case, no spaces)
 * because CleverTap matches event names case- and space-insensitively. The
 * list joins three sources (transforms/MAPPINGS.md cites each): CleverTap's
 * System Events page and its export / metering lists of system events, and
 * the names its Android SDK refuses to send (Validator.restrictedNames:
 * Notification Bounced, wzrk_d, the Signed Call events). */
static const char *const reserved_events[] = {
    "abexperimentdisqualified",
    "abexperimentrendered",
    "abexperimentrolledout",
    "abexperimentstopped",
    "appinstalled",
    "applaunched",
    "appuninstalled",
    "appversionchanged",
    "channelunsubscribed",
    "controlgroup",
    "experimentrendered",
    "geoclusterentered",
    "geoclusterexited",
    "identityerror",
    "identityreset",
    "identityset",
    "notificationbounced",
    "notificationclicked",
    "notificationdelivered",
    "notificationfailed",
    "notificationreplied",
    "notificationsent",
    "notificationviewed",
    "pushimpressions",
    "pushunregistered",
    "reachableby",
    "replysent",
    "sccampaignoptout",
    "scend",
    "scincoming",
    "scoutgoing",
    "sessionconcluded",
    "statetransitioned",
    "stayed",
    "utmvisited",
    "webhookdelivered",
    "webpageviewed",
    "wzrk_d",
};

static const char name_forbidden[] = "%><!|&.:;$'\"\\";

static int fail(char *reason, size_t reason_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *reason, size_t reason_len, int code, const char *fmt, ...)
{
    if (reason != NULL && reason_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, reason_len, fmt, ap);
        va_end(ap);
        tcb_utf8_clip(reason);
    }
    return code;
}

/* Code points in a UTF-8 string (jansson strings are valid UTF-8). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* Lower-cased, spaces removed, into out; -1 when that does not fit in
 * out_len (then it matches no short name; spaces alone never make it long). */
static int fold_name(const char *in, char *out, size_t out_len)
{
    size_t n = 0;
    for (; *in != '\0'; in++) {
        if (*in == ' ') {
            continue;
        }
        if (n + 1 >= out_len) {
            return -1;
        }
        out[n++] = (char)tolower((unsigned char)*in);
    }
    out[n] = '\0';
    return 0;
}

static int is_reserved_event(const char *name)
{
    char folded[64];
    if (fold_name(name, folded, sizeof(folded)) != 0) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(reserved_events) / sizeof(reserved_events[0]); i++) {
        /* The first letter settles most names without a strcmp call. */
        if (reserved_events[i][0] == folded[0] && strcmp(folded, reserved_events[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Charged, matched as CleverTap matches names (case, spaces). */
static int is_charged_event(const char *name)
{
    char folded[16];
    return fold_name(name, folded, sizeof(folded)) == 0 && strcmp(folded, "charged") == 0;
}

/* The first forbidden character in name, or '\0'. */
static char forbidden_char(const char *name, int profile)
{
    for (const char *p = name; *p != '\0'; p++) {
        if (strchr(name_forbidden, *p) != NULL || (profile && *p == '#')) {
            return *p;
        }
    }
    return '\0';
}

static int is_unrendered_template(const char *s)
{
    return strstr(s, "${") != NULL || strstr(s, "{{") != NULL;
}

static int check_user_key(const json_t *record, char *reason, size_t reason_len)
{
    static const char *const keys[] = {"identity", "objectId", "FBID", "GPID"};
    int found = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(record, keys[i]);
        if (v == NULL || json_is_null(v)) {
            continue;
        }
        if (json_is_integer(v) && i == 0) {
            found = 1;
            continue;
        }
        if (!json_is_string(v) || json_string_length(v) == 0) {
            if (i == 1) {
                return fail(reason, reason_len, 526, "Invalid objectId.");
            }
            continue;
        }
        if (is_unrendered_template(json_string_value(v))) {
            return fail(reason, reason_len, 523,
                        "%s is an unrendered template; identity, objectId, FBID or GPID "
                        "is mandatory.",
                        keys[i]);
        }
        if (json_string_length(v) > VALUE_MAX_BYTES) {
            return fail(reason, reason_len, 523, "%s is longer than %d bytes.", keys[i],
                        VALUE_MAX_BYTES);
        }
        found = 1;
    }
    if (!found) {
        return fail(reason, reason_len, 523, "identity, objectId, FBID or GPID is mandatory.");
    }
    return 0;
}

static int check_ts(const json_t *record, char *reason, size_t reason_len)
{
    const json_t *ts = json_object_get(record, "ts");
    if (ts == NULL) {
        return 0;
    }
    if (!json_is_integer(ts) || json_integer_value(ts) <= 0 ||
        json_integer_value(ts) >= TS_MS_THRESHOLD) {
        /* CleverTap's text, trailing space included (it glues on the record number). */
        return fail(reason, reason_len, 525,
                    "Timestamp should be present in the Unix Epoch format. ");
    }
    return 0;
}

/* 1 when a string value is a date that is not "$D_<epoch seconds>" (an
 * optional '-', then digits, below the millisecond threshold). */
static int bad_date(const json_t *value)
{
    const char *s = json_is_string(value) ? json_string_value(value) : "";
    size_t digits;
    if (strncmp(s, "$D_", 3) != 0) {
        return 0;
    }
    s += 3 + (s[3] == '-');
    digits = strspn(s, "0123456789");
    return digits == 0 || s[digits] != '\0' || digits > 11 ||
           strtoll(s, NULL, 10) >= TS_MS_THRESHOLD;
}

/* One property (key, value) of evtData / profileData, or of an Items entry. */
static int check_property(const char *key, const json_t *value, int profile, char *reason,
                          size_t reason_len)
{
    char bad = forbidden_char(key, profile);
    char shown[65];
    const char *what;
    if (key[0] == '\0') {
        return fail(reason, reason_len, 512, "Property name is empty.");
    }
    if (bad != '\0') {
        what = "contains a forbidden character";
    } else if (!profile && utf8_chars(key) > KEY_MAX) {
        what = "is longer than 120 characters"; /* Upload Events: "limited to 120 characters" */
    } else if (profile && strlen(key) > KEY_MAX) {
        what = "is longer than 120 bytes"; /* Upload User Profiles: "limited to 120 bytes" */
    } else if (json_is_string(value) && json_string_length(value) > VALUE_MAX_BYTES) {
        what = "has a value longer than 512 bytes";
    } else if (json_is_object(value) || json_is_array(value)) {
        what = "has a value that is not a scalar (string, number, boolean or date)";
    } else if (bad_date(value)) {
        what = "has a date that is not $D_<epoch seconds>";
    } else {
        return 0;
    }
    tcb_utf8_prefix(key, shown, sizeof(shown));
    if (bad != '\0') {
        return fail(reason, reason_len, 512, "Property \"%s\" %s: '%c'.", shown, what, bad);
    }
    return fail(reason, reason_len, 512, "Property \"%s\" %s.", shown, what);
}

/* Charged's Items: an array of at most MAX_ITEMS objects of scalar properties. */
static int check_items(const json_t *items, char *reason, size_t reason_len)
{
    size_t i;
    const json_t *item;
    if (!json_is_array(items) || json_array_size(items) > MAX_ITEMS) {
        return fail(reason, reason_len, 512,
                    "Items of a Charged event must be an array of at most %d objects.", MAX_ITEMS);
    }
    json_array_foreach (items, i, item) {
        const char *key;
        const json_t *value;
        if (!json_is_object(item)) {
            return fail(reason, reason_len, 512, "Items entry %zu is not an object.", i);
        }
        json_object_foreach ((json_t *)item, key, value) {
            int rc = check_property(key, value, 0, reason, reason_len);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

static int check_event(const json_t *record, int max_props, char *reason, size_t reason_len)
{
    const json_t *name = json_object_get(record, "evtName");
    const json_t *data = json_object_get(record, "evtData");
    const char *key;
    const json_t *value;
    int charged;
    if (!json_is_string(name) || json_string_length(name) == 0) {
        return fail(reason, reason_len, 509, "Event name is mandatory.");
    }
    if (json_string_length(name) > NAME_MAX_BYTES) {
        return fail(reason, reason_len, 512, "Event name is longer than %d bytes.", NAME_MAX_BYTES);
    }
    if (forbidden_char(json_string_value(name), 0) != '\0') {
        return fail(reason, reason_len, 512, "Event name contains '%c'.",
                    forbidden_char(json_string_value(name), 0));
    }
    if (is_reserved_event(json_string_value(name))) {
        return fail(reason, reason_len, 513, "%s is a restricted system event name.",
                    json_string_value(name)); /* short: it matched a reserved name */
    }
    if (!json_is_object(data)) {
        return fail(reason, reason_len, 512, "Event data (evtData) must be an object.");
    }
    if ((int)json_object_size(data) > max_props) {
        return fail(reason, reason_len, 522, "Event has %zu properties; the limit is %d.",
                    json_object_size(data), max_props);
    }
    charged = is_charged_event(json_string_value(name));
    json_object_foreach ((json_t *)data, key, value) {
        int rc = charged && strcmp(key, "Items") == 0
                     ? check_items(value, reason, reason_len)
                     : check_property(key, value, 0, reason, reason_len);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* "x" equals one of the |-separated choices. */
static int one_of(const char *x, const char *choices)
{
    size_t n = strlen(x);
    for (const char *p = choices; *p != '\0';) {
        const char *end = strchr(p, '|');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, x, n) == 0) {
            return 1;
        }
        p += len + (end != NULL ? 1 : 0);
    }
    return 0;
}

static int valid_email(const char *s)
{
    const char *at = strchr(s, '@');
    const char *dot;
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL) {
        return 0;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || strchr("()<>,;:\\\"[]", *p) != NULL) {
            return 0;
        }
    }
    dot = strrchr(at + 1, '.');
    return dot != NULL && dot > at + 1 && dot[1] != '\0';
}

/* +<country code><number>: '+' then 8 to 15 digits (E.164). */
static int valid_phone(const char *s)
{
    size_t digits = 0;
    if (s[0] != '+') {
        return 0;
    }
    for (const char *p = s + 1; *p != '\0'; p++) {
        if (!isdigit((unsigned char)*p)) {
            return 0;
        }
        digits++;
    }
    return digits >= 8 && digits <= 15;
}

static int valid_age(const json_t *v)
{
    if (json_is_integer(v)) {
        return json_integer_value(v) >= 0 && json_integer_value(v) <= 150;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        if (n == 0 || n > 3 || strspn(s, "0123456789") != n) {
            return 0;
        }
        return 1;
    }
    return 0;
}

/* The standard profile keys CleverTap checks (codes 514-520). */
static int check_profile_field(const char *key, const json_t *v, char *reason, size_t reason_len)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (strcmp(key, "Gender") == 0 && (s == NULL || !one_of(s, "M|F|Male|Female|O|Others"))) {
        return fail(reason, reason_len, 514, "Profile data is incorrect. Gender needs to be M/F.");
    }
    if (strcmp(key, "Email") == 0 && (s == NULL || !valid_email(s))) {
        return fail(reason, reason_len, 515, "Profile data is incorrect. Email is not valid.");
    }
    if (strcmp(key, "Phone") == 0 && (s == NULL || !valid_phone(s))) {
        return fail(reason, reason_len, 516,
                    "Profile data is incorrect. Phone number is not valid.");
    }
    if (strcmp(key, "Employed") == 0 && (s == NULL || !one_of(s, "Y|N"))) {
        return fail(reason, reason_len, 517,
                    "Profile data is incorrect. Employed needs to be Y/N.");
    }
    if (strcmp(key, "Education") == 0 && (s == NULL || !one_of(s, "School|College|Graduate"))) {
        /* The double dot is CleverTap's own text. */
        return fail(reason, reason_len, 518,
                    "Profile data is incorrect. Education needs to be School/College/Graduate..");
    }
    if (strcmp(key, "Married") == 0 && (s == NULL || !one_of(s, "Y|N"))) {
        return fail(reason, reason_len, 519, "Profile data is incorrect. Married needs to be Y/N.");
    }
    if (strcmp(key, "Age") == 0 && !valid_age(v)) {
        return fail(reason, reason_len, 520, "Profile data is incorrect. Age is invalid.");
    }
    return 0;
}

/* Profiles accept multi-value properties: arrays of at most MAX_ITEMS strings. */
static int is_multi_value(const json_t *v)
{
    size_t i;
    const json_t *item;
    if (!json_is_array(v) || json_array_size(v) > MAX_ITEMS) {
        return 0;
    }
    json_array_foreach (v, i, item) {
        if (!json_is_string(item) || json_string_length(item) > VALUE_MAX_BYTES) {
            return 0;
        }
    }
    return 1;
}

static int check_profile(const json_t *record, int max_props, char *reason, size_t reason_len)
{
    const json_t *data = json_object_get(record, "profileData");
    const char *key;
    const json_t *value;
    if (!json_is_object(data)) {
        return fail(reason, reason_len, 512, "Profile data (profileData) must be an object.");
    }
    if ((int)json_object_size(data) > max_props) {
        return fail(reason, reason_len, 522, "Profile has %zu properties; the limit is %d.",
                    json_object_size(data), max_props);
    }
    json_object_foreach ((json_t *)data, key, value) {
        int rc = check_profile_field(key, value, reason, reason_len);
        if (rc == 0) {
            rc = check_property(key, is_multi_value(value) ? json_null() : value, 1, reason,
                                reason_len);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int tcb_validate_record(const json_t *record, const struct tcb_validation_limits *limits,
                        char *reason, size_t reason_len)
{
    const json_t *type;
    int max_props =
        limits != NULL && limits->max_properties > 0 ? limits->max_properties : DEFAULT_MAX_PROPS;
    int rc;
    if (reason != NULL && reason_len > 0) {
        reason[0] = '\0';
    }
    if (!json_is_object(record)) {
        return fail(reason, reason_len, 524, "Record is neither an event nor a profile.");
    }
    type = json_object_get(record, "type");
    if (!json_is_string(type) || (strcmp(json_string_value(type), "event") != 0 &&
                                  strcmp(json_string_value(type), "profile") != 0)) {
        return fail(reason, reason_len, 524,
                    "Record type is neither event nor profile (type must be \"event\" or "
                    "\"profile\").");
    }
    rc = check_user_key(record, reason, reason_len);
    if (rc == 0) {
        rc = check_ts(record, reason, reason_len);
    }
    if (rc == 0) {
        rc = strcmp(json_string_value(type), "event") == 0
                 ? check_event(record, max_props, reason, reason_len)
                 : check_profile(record, max_props, reason, reason_len);
    }
    return rc;
}
