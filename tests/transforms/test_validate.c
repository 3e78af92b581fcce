/* Unit tests of tcb_validate_record: each CleverTap rule, with CleverTap's
 * code and (where a real answer was recorded) its exact text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "transforms/validate.h"

static int check(const char *text, int max_props, char *reason, size_t reason_len)
{
    json_error_t err;
    json_t *record = json_loads(text, 0, &err);
    struct tcb_validation_limits limits = {.max_properties = max_props};
    int rc;
    assert_non_null(record);
    rc = tcb_validate_record(record, &limits, reason, reason_len);
    json_decref(record);
    return rc;
}

static void expect(const char *text, int code, const char *reason_part)
{
    char reason[256];
    int rc = check(text, 0, reason, sizeof(reason));
    if (rc != code || strstr(reason, reason_part) == NULL) {
        print_error("record %s: got %d \"%s\", want %d \"%s\"\n", text, rc, reason, code,
                    reason_part);
        fail();
    }
}

static void test_valid_records(void **state)
{
    (void)state;
    expect("{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"$source\":\"Talon.One\","
           "\"identity\":\"u1\",\"evtData\":{\"CouponGenerated\":\"XMAS\"}}",
           0, "");
    expect("{\"identity\":\"555\",\"ts\":1521649275,\"type\":\"event\",\"evtData\":{\"ID\":555,"
           "\"mobile\":true},\"evtName\":\"register\"}",
           0, "");
    expect("{\"FBID\":\"1414\",\"type\":\"event\",\"evtData\":{\"Name\":\"John\"},"
           "\"evtName\":\"Web Event\"}",
           0, "");
    expect("{\"identity\":\"1\",\"ts\":1521649274,\"type\":\"profile\",\"profileData\":{"
           "\"Name\":\"John Rush\",\"Email\":\"example@gmail.com\",\"Gender\":\"M\",\"Phone\":"
           "\"+35922333232\",\"Employed\":\"Y\",\"Education\":\"Graduate\",\"Married\":\"Y\","
           "\"Age\":\"18\",\"Tags\":[\"a\",\"b\"]}}",
           0, "");
    expect("{\"identity\":\"1\",\"type\":\"event\",\"evtName\":\"Charged\",\"evtData\":{"
           "\"Amount\":10,\"Items\":[{\"Name\":\"x\",\"Price\":2}]}}",
           0, "");
}

static void test_recorded_profile_texts(void **state)
{
    (void)state;
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Email\":\"$$$$$\"}}", 515,
           "Profile data is incorrect. Email is not valid.");
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Phone\":\"+44+441234\"}}",
           516, "Profile data is incorrect. Phone number is not valid.");
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Phone\":\"223\"}}", 516,
           "Phone number is not valid.");
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Employed\":\"223\"}}", 517,
           "Profile data is incorrect. Employed needs to be Y/N.");
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Education\":\"223\"}}", 518,
           "Profile data is incorrect. Education needs to be School/College/Graduate..");
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Married\":\"223\"}}", 519,
           "Profile data is incorrect. Married needs to be Y/N.");
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Age\":\"aa\"}}", 520,
           "Profile data is incorrect. Age is invalid.");
    expect("{\"identity\":\"2\",\"type\":\"profile\",\"profileData\":{\"Gender\":\"X\"}}", 514,
           "Gender");
    expect("{\"identity\":\"17\",\"ts\":0,\"type\":\"profile\",\"profileData\":{}}", 525,
           "Timestamp should be present in the Unix Epoch format. ");
}

static void test_event_rules(void **state)
{
    (void)state;
    expect("{\"type\":\"event\",\"identity\":\"u\",\"evtData\":{}}", 509, "Event name");
    expect("{\"type\":\"event\",\"evtName\":\"app launched\",\"identity\":\"u\",\"evtData\":{}}",
           513, "restricted");
    expect("{\"type\":\"event\",\"evtName\":\"NotificationSent\",\"identity\":\"u\","
           "\"evtData\":{}}",
           513, "restricted");
    expect("{\"type\":\"event\",\"evtName\":\"a.b\",\"identity\":\"u\",\"evtData\":{}}", 512,
           "'.'");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{\"a:b\":1}}", 512,
           "':'");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{\"a\":{}}}", 512,
           "scalar");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":[]}", 512,
           "evtData");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"evtData\":{}}", 523, "mandatory");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"\",\"evtData\":{}}", 523,
           "mandatory");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"${$ProfileID}\","
           "\"evtData\":{}}",
           523, "unrendered");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"objectId\":5,\"evtData\":{}}", 526, "objectId");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"ts\":\"1\","
           "\"evtData\":{}}",
           525, "Timestamp");
    expect("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"ts\":1700000000000,"
           "\"evtData\":{}}",
           525, "Timestamp");
    expect("{\"type\":\"x\",\"identity\":\"u\"}", 524, "neither");
    expect("[1]", 524, "neither");
}

/* Dates are "$D_<epoch seconds>": a "$D_" value in any other form (text,
 * milliseconds, nothing) would be stored as a wrong date or refused. */
static void test_dates(void **state)
{
    static const char *const good[] = {"$D_1700000000", "$D_-315619200", "$D_0"};
    static const char *const bad[] = {"$D_abc", "$D_1700000000000", "$D_", "$D_17e8",
                                      "$D_-",   "$D_ 1700000000"};
    char text[256];
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{"
                 "\"When\":\"%s\"}}",
                 good[i]);
        expect(text, 0, "");
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"identity\":\"u\",\"type\":\"profile\",\"profileData\":{\"DOB\":\"%s\"}}",
                 bad[i]);
        expect(text, 512, "$D_<epoch seconds>");
    }
    expect("{\"type\":\"event\",\"evtName\":\"Charged\",\"identity\":\"u\",\"evtData\":{"
           "\"Items\":[{\"Until\":\"$D_x\"}]}}",
           512, "\"Until\"");
}

/* CleverTap matches event names case- and space-insensitively, whatever
 * their length: "charged" is the Charged event (its Items are accepted), and
 * a reserved name padded with spaces is still reserved. */
static void test_event_names_fold(void **state)
{
    char text[512];
    (void)state;
    expect("{\"type\":\"event\",\"evtName\":\"charged\",\"identity\":\"u\",\"evtData\":{"
           "\"Amount\":10,\"Items\":[{\"Name\":\"x\"}]}}",
           0, "");
    expect("{\"type\":\"event\",\"evtName\":\" CHARGED \",\"identity\":\"u\",\"evtData\":{"
           "\"Items\":[{\"Name\":{\"x\":1}}]}}",
           512, "\"Name\"");
    snprintf(text, sizeof(text),
             "{\"type\":\"event\",\"evtName\":\"App Launched%70s\",\"identity\":\"u\","
             "\"evtData\":{}}",
             "");
    expect(text, 513, "restricted");
}

static void test_limits(void **state)
{
    char key[200], text[2048], reason[256];
    (void)state;
    memset(key, 'k', 121);
    key[121] = '\0';
    snprintf(text, sizeof(text),
             "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{\"%s\":1}}",
             key);
    expect(text, 512, "longer than 120 characters");
    key[120] = '\0';
    snprintf(text, sizeof(text),
             "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{\"%s\":1}}",
             key);
    expect(text, 0, "");
    memset(key, 'v', 199);
    key[199] = '\0';
    snprintf(
        text, sizeof(text),
        "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{\"a\":\"%s%s%s\"}}",
        key, key, key);
    expect(text, 512, "512 bytes");
    assert_int_equal(check("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":"
                           "{\"a\":1,\"b\":2,\"c\":3}}",
                           2, reason, sizeof(reason)),
                     522);
    assert_int_equal(check("{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":"
                           "{\"a\":1,\"b\":2}}",
                           2, reason, sizeof(reason)),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_records), cmocka_unit_test(test_recorded_profile_texts),
        cmocka_unit_test(test_event_rules),   cmocka_unit_test(test_event_names_fold),
        cmocka_unit_test(test_dates),         cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
