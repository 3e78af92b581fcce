/* Unit tests of talon-ingest's pure parts: the raw JSON element scanner, the
 * upload envelope split and its record keys, notification keys for every
 * Talon.One example, credential checks and request ids. */
#include "config/config.h"
#include "producer/ingest_auth.h"
#include "producer/ingest_json.h"
#include "producer/ingest_records.h"
#include "producer/ingest_request_id.h"
#include "util/secret.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *read_data(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "tests/ingest/data/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void value_is(const struct tcb_ingest_record *record, const char *expected)
{
    assert_int_equal(record->value_len, strlen(expected));
    assert_memory_equal(record->value, expected, record->value_len);
}

static void key_is(const struct tcb_ingest_record *record, const char *expected)
{
    if (expected == NULL) {
        assert_null(record->key.data);
        return;
    }
    assert_non_null(record->key.data);
    assert_int_equal(record->key.len, strlen(expected));
    assert_memory_equal(record->key.data, expected, record->key.len);
}

/* Records keep their exact bytes (number spelling, spaces, escapes). */
static void test_split_keeps_record_bytes(void **state)
{
    const char *body =
        " { \"x\" : [1,{\"d\":[9]}], \"d\" : [ {\"type\":\"event\",\"identity\":\"p1\","
        "\"evtData\":{\"v\":0.1,\"s\":\"a\\\"]}\"}} , 12 ,\"junk\", [1, 2] ] } ";
    struct tcb_ingest_upload upload;
    assert_int_equal(tcb_ingest_upload_parse(body, strlen(body), &upload), TCB_INGEST_PARSE_OK);
    assert_int_equal(upload.count, 4);
    value_is(&upload.records[0],
             "{\"type\":\"event\",\"identity\":\"p1\",\"evtData\":{\"v\":0.1,\"s\":\"a\\\"]}\"}}");
    key_is(&upload.records[0], "p1");
    value_is(&upload.records[1], "12");
    key_is(&upload.records[1], NULL);
    value_is(&upload.records[2], "\"junk\"");
    value_is(&upload.records[3], "[1, 2]");
    tcb_ingest_upload_free(&upload);
}

static void test_record_keys(void **state)
{
    const char *body = "{\"d\":[{\"identity\":\"u1\",\"objectId\":\"o1\"},{\"objectId\":\"o2\"},"
                       "{\"FBID\":\"f3\"},{\"GPID\":\"g4\"},{\"identity\":12345},"
                       "{\"identity\":\"\"},{\"identity\":null,\"GPID\":\"g7\"},{}]}";
    struct tcb_ingest_upload upload;
    assert_int_equal(tcb_ingest_upload_parse(body, strlen(body), &upload), TCB_INGEST_PARSE_OK);
    assert_int_equal(upload.count, 8);
    const char *expected[] = {"u1", "o2", "f3", "g4", "12345", NULL, "g7", NULL};
    for (size_t i = 0; i < 8; i++) {
        key_is(&upload.records[i], expected[i]);
    }
    tcb_ingest_upload_free(&upload);
}

/* A "d" spelled with an escape still splits, byte for byte. After a raw "d"
 * a parser keeps the escaped one, the last: so do the records, value and
 * key from the same array. */
static void test_escaped_key_falls_back(void **state)
{
    const char *bodies[] = {"{\"\\u0064\":[{\"identity\":\"p\"}]}",
                            "{\"d\":[{\"identity\":\"a\"}],\"\\u0064\":[{\"identity\":\"p\"}]}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct tcb_ingest_upload upload;
        assert_int_equal(tcb_ingest_upload_parse(bodies[i], strlen(bodies[i]), &upload),
                         TCB_INGEST_PARSE_OK);
        assert_int_equal(upload.count, 1);
        value_is(&upload.records[0], "{\"identity\":\"p\"}");
        key_is(&upload.records[0], "p");
        tcb_ingest_upload_free(&upload);
    }
}

/* An empty request body arrives as (NULL, 0): not JSON, no crash. */
static void test_empty_body(void **state)
{
    struct tcb_ingest_upload upload;
    assert_int_equal(tcb_ingest_upload_parse(NULL, 0, &upload), TCB_INGEST_PARSE_NOT_JSON);
    tcb_ingest_upload_free(&upload);
    struct tcb_ingest_key key;
    assert_int_equal(tcb_ingest_notification_key(NULL, 0, &key), TCB_INGEST_PARSE_NOT_JSON);
    assert_null(key.data);
}

static void test_rejections(void **state)
{
    struct tcb_ingest_upload upload;
    const char *cases[] = {"", "{\"d\":[1,]}", "not json", "{\"d\":[1]} trailing"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(tcb_ingest_upload_parse(cases[i], strlen(cases[i]), &upload),
                         TCB_INGEST_PARSE_NOT_JSON);
        tcb_ingest_upload_free(&upload);
    }
    /* jansson skips raw NUL bytes; such a body is no JSON text. */
    const char nul[] = "{\"d\":[1\0,2]}";
    assert_int_equal(tcb_ingest_upload_parse(nul, sizeof(nul) - 1, &upload),
                     TCB_INGEST_PARSE_NOT_JSON);
    tcb_ingest_upload_free(&upload);
    const char *not_upload[] = {"{\"e\":[]}", "{\"d\":{}}", "[1,2]", "{\"d\":\"x\"}"};
    for (size_t i = 0; i < sizeof(not_upload) / sizeof(not_upload[0]); i++) {
        assert_int_equal(tcb_ingest_upload_parse(not_upload[i], strlen(not_upload[i]), &upload),
                         TCB_INGEST_PARSE_NOT_UPLOAD);
        tcb_ingest_upload_free(&upload);
    }
    assert_int_equal(tcb_ingest_upload_parse("{\"d\":[]}", 8, &upload), TCB_INGEST_PARSE_OK);
    assert_int_equal(upload.count, 0);
    tcb_ingest_upload_free(&upload);
}

static char *records_body(size_t count)
{
    size_t cap = count * 2 + 16;
    char *body = malloc(cap);
    size_t used = (size_t)snprintf(body, cap, "{\"d\":[");
    for (size_t i = 0; i < count; i++) {
        used += (size_t)snprintf(body + used, cap - used, "%s", i ? ",1" : "1");
    }
    snprintf(body + used, cap - used, "]}");
    return body;
}

static void test_record_cap(void **state)
{
    struct tcb_ingest_upload upload;
    char *body = records_body(TCB_INGEST_MAX_RECORDS);
    assert_int_equal(tcb_ingest_upload_parse(body, strlen(body), &upload), TCB_INGEST_PARSE_OK);
    assert_int_equal(upload.count, TCB_INGEST_MAX_RECORDS);
    tcb_ingest_upload_free(&upload);
    free(body);
    body = records_body(TCB_INGEST_MAX_RECORDS + 1);
    assert_int_equal(tcb_ingest_upload_parse(body, strlen(body), &upload),
                     TCB_INGEST_PARSE_TOO_MANY);
    tcb_ingest_upload_free(&upload);
    free(body);
}

static void test_span_limits(void **state)
{
    struct tcb_json_span spans[2];
    const char *three = "[1,2,3]";
    assert_int_equal(tcb_json_elements(three, strlen(three), 0, spans, 2), -2);
    assert_int_equal(tcb_json_elements("{}", 2, 0, spans, 2), -1);
    const char *twice = "{\"d\":[1],\"d\":[7,8]}"; /* the last one wins, like a parser */
    size_t at = 0;
    assert_true(tcb_json_member(twice, strlen(twice), 0, "d", &at));
    assert_int_equal(at, 13);
    assert_int_equal(tcb_json_elements(twice, strlen(twice), at, spans, 2), 2);
    assert_int_equal(spans[1].offset, 16);
}

static int valid(const char *text)
{
    return tcb_json_validate(text, strlen(text));
}

/* The validator accepts exactly RFC 8259 JSON (what CleverTap's parser
 * takes): numbers of any size included, which jansson refused as "not valid
 * JSON"; bad UTF-8, lone surrogates and deep nesting are refused. */
static void test_validator(void **state)
{
    const char *good[] = {"{}",
                          "[]",
                          " [ 1 , -0.5e+10 , 0 , \"\" ] ",
                          "\"\\u00e9\\ud83d\\ude00\\/\"",
                          "{\"a\":{\"b\":[true,false,null]}}",
                          "123456789012345678901234567890",
                          "{\"x\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
                          "\"\\u0000\"",
                          "1E5",
                          "-0"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (valid(good[i]) != TCB_JSON_VALID) {
            fail_msg("refused: %s", good[i]);
        }
    }
    const char *bad[] = {"",
                         " ",
                         "{",
                         "[1,]",
                         "{\"a\":1,}",
                         "{\"a\" 1}",
                         "{1:2}",
                         "01",
                         "1.",
                         ".5",
                         "+1",
                         "1e",
                         "-",
                         "tru",
                         "nul",
                         "[1 2]",
                         "\"a",
                         "\"\\x\"",
                         "\"\\ud83d\"",
                         "\"\\ude00\"",
                         "\"\\ud83d\\u0041\"",
                         "\"\\u12g4\"",
                         "\"\t\"",
                         "\"\xc3\"",
                         "\"\xc0\xaf\"",
                         "\"\xed\xa0\x80\"",
                         "\"\xf4\x90\x80\x80\"",
                         "\"\xff\"",
                         "[1]]",
                         "{}{}",
                         "[1] x",
                         "\xef\xbb\xbf{}",
                         "{\"a\":1\"b\":2}",
                         "[\"a\":1]",
                         "{,}",
                         "[,]",
                         "NaN",
                         "Infinity",
                         "'a'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (valid(bad[i]) != TCB_JSON_INVALID) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
    assert_int_equal(tcb_json_validate("[1\0]", 4), TCB_JSON_INVALID);
    size_t deep_len = 2 * (TCB_JSON_MAX_DEPTH + 1);
    char *deep = malloc(deep_len);
    memset(deep, '[', deep_len / 2);
    memset(deep + deep_len / 2, ']', deep_len / 2);
    assert_int_equal(tcb_json_validate(deep, deep_len), TCB_JSON_TOO_DEEP);
    assert_int_equal(tcb_json_validate(deep + 1, deep_len - 2), TCB_JSON_VALID);
    free(deep);
}

/* A record with an integer beyond 64 bits is CleverTap-valid JSON: it
 * goes to Kafka byte for byte, and such an identity keys by its text. */
static void test_big_integers_are_accepted(void **state)
{
    const char *body = "{\"d\":[{\"identity\":98765432109876543210987,\"evtData\":"
                       "{\"n\":-18446744073709551617}}]}";
    struct tcb_ingest_upload upload;
    assert_int_equal(tcb_ingest_upload_parse(body, strlen(body), &upload), TCB_INGEST_PARSE_OK);
    assert_int_equal(upload.count, 1);
    key_is(&upload.records[0], "98765432109876543210987");
    value_is(&upload.records[0], "{\"identity\":98765432109876543210987,\"evtData\":"
                                 "{\"n\":-18446744073709551617}}");
    tcb_ingest_upload_free(&upload);
}

/* Escaped keys are decoded; an identity with escapes gets its own copy. */
static void test_escaped_identity(void **state)
{
    const char *body = "{\"d\":[{\"\\u0069dentity\":\"caf\\u00e9\\n\"},{\"identity\":1.5,"
                       "\"objectId\":\"o\"}]}";
    struct tcb_ingest_upload upload;
    assert_int_equal(tcb_ingest_upload_parse(body, strlen(body), &upload), TCB_INGEST_PARSE_OK);
    key_is(&upload.records[0], "caf\xc3\xa9\n");
    assert_non_null(upload.records[0].key.owned_key);
    key_is(&upload.records[1], "o"); /* a real number is no key */
    tcb_ingest_upload_free(&upload);
}

/* A megabyte of nested empty objects (80 MB as a jansson tree) is parsed in
 * place: records are spans, nothing is allocated per value. */
static void test_nested_empty_objects(void **state)
{
    size_t cap = 1 << 20;
    char *body = malloc(cap);
    size_t used = (size_t)snprintf(body, cap, "{\"d\":[");
    for (int r = 0; r < 100; r++) {
        used += (size_t)snprintf(body + used, cap - used, "%s[", r ? "," : "");
        for (int i = 0; i < 1000; i++) {
            used += (size_t)snprintf(body + used, cap - used, "%s{}", i ? "," : "");
        }
        body[used++] = ']';
    }
    used += (size_t)snprintf(body + used, cap - used, "]}");
    struct tcb_ingest_upload upload;
    assert_int_equal(tcb_ingest_upload_parse(body, used, &upload), TCB_INGEST_PARSE_OK);
    assert_int_equal(upload.count, 100);
    assert_int_equal(upload.records[99].value_len, 2 + 1000 * 2 + 999);
    tcb_ingest_upload_free(&upload);
    free(body);
}

/* Where the profile integration id lives in each Talon.One notification. */
static void test_notification_keys(void **state)
{
    static const struct {
        const char *file;
        const char *key;
    } cases[] = {
        {"addedDeductedPointsBalancesNotification.json", "URNGV8294NV"},
        {"addedDeductedPointsNotification.json", "URNGV8294NV"},
        {"couponsData.json", "URNGV8294NV"},
        {"createCouponData.json", "URNGV8294NV"},
        {"expiringCouponsNotification.json", "URNGV8294NV"},
        {"expiringPointsNotification.json", "URNGV8294NV"},
        {"expiringCardPointsNotification.json", "URNGV8294NV"},
        {"tierUpgradeNotification.json", "URNGV8294NV"},
        {"tierDowngradeNotification.json", "URNGV8294NV"},
        {"tierWillDowngradeNotification.json", "URNGV8294NV"},
        {"pendingActivePointsNotification.json", "URNGV8294NV"},
        {"cardAddedDeductedPointsNotification.json", NULL}, /* ProfileIntegrationIDs [""] */
        {"campaignCreatedNotification.json", NULL},
        {"strikethroughLabelingNotification.json", NULL},
        {"asyncCouponsData.json", NULL},
        {"deleteCouponsData.json", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        char *body = read_data(cases[i].file, &len);
        struct tcb_ingest_key key;
        assert_int_equal(tcb_ingest_notification_key(body, len, &key), TCB_INGEST_PARSE_OK);
        if (cases[i].key) {
            assert_int_equal(key.len, strlen(cases[i].key));
            assert_memory_equal(key.data, cases[i].key, key.len);
        } else {
            assert_null(key.data);
        }
        tcb_ingest_key_free(&key);
        free(body);
    }
    struct tcb_ingest_key key;
    assert_int_equal(tcb_ingest_notification_key("[1]", 3, &key), TCB_INGEST_PARSE_NOT_JSON);
    assert_int_equal(tcb_ingest_notification_key("{", 1, &key), TCB_INGEST_PARSE_NOT_JSON);
    const char *cards = "{\"ProfileIntegrationIDs\":[7,\"\",\"c\\u0032\"]}";
    assert_int_equal(tcb_ingest_notification_key(cards, strlen(cards), &key), 0);
    assert_int_equal(key.len, 2);
    assert_memory_equal(key.data, "c2", 2);
    tcb_ingest_key_free(&key);
    const char *data = "{\"data\":[{\"Id\":1,\"profileId\":\"pd\"},{\"profileId\":\"x\"}]}";
    assert_int_equal(tcb_ingest_notification_key(data, strlen(data), &key), 0);
    assert_int_equal(key.len, 2);
    assert_memory_equal(key.data, "pd", 2);
}

static void test_secret_equal(void **state)
{
    assert_true(tcb_secret_equal("s3cret", "s3cret"));
    assert_false(tcb_secret_equal("s3cret", "s3cre"));
    assert_false(tcb_secret_equal("s3cret", "s3cret!"));
    assert_false(tcb_secret_equal("s3cret", "S3cret"));
    assert_false(tcb_secret_equal("s3cret", ""));
    assert_false(tcb_secret_equal("s3cret", NULL));
    assert_false(tcb_secret_equal(NULL, "x"));
}

static void test_account_auth(void **state)
{
    struct tcb_account accounts[2] = {
        {.name = "a", .account_id = "ID-A", .passcode = "pa"},
        {.name = "b", .account_id = "ID-B", .passcode = "pb"},
    };
    struct tcb_config cfg = {0};
    cfg.clevertap.accounts = accounts;
    cfg.clevertap.account_count = 2;
    assert_ptr_equal(tcb_ingest_auth_account(&cfg, "ID-B", "pb"), &accounts[1]);
    assert_null(tcb_ingest_auth_account(&cfg, "ID-B", "pa"));
    assert_null(tcb_ingest_auth_account(&cfg, "ID-C", "pa"));
    assert_null(tcb_ingest_auth_account(&cfg, NULL, "pa"));
    assert_null(tcb_ingest_auth_account(&cfg, "ID-A", NULL));

    assert_false(tcb_ingest_auth_notification(&cfg, "x", "x")); /* no secret: disabled */
    cfg.ingest.notification_secret = "n0tif";
    assert_true(tcb_ingest_auth_notification(&cfg, "n0tif", NULL));
    assert_true(tcb_ingest_auth_notification(&cfg, NULL, "n0tif"));
    assert_true(tcb_ingest_auth_notification(&cfg, "wrong", "n0tif"));
    assert_false(tcb_ingest_auth_notification(&cfg, "wrong", NULL));
    assert_false(tcb_ingest_auth_notification(&cfg, NULL, NULL));
}

static void test_request_ids(void **state)
{
    char a[37];
    char b[37];
    tcb_ingest_request_id_new(a);
    tcb_ingest_request_id_new(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
    assert_true(tcb_ingest_request_id_acceptable(a));
    assert_true(tcb_ingest_request_id_acceptable("talon-1"));
    assert_false(tcb_ingest_request_id_acceptable(""));
    assert_false(tcb_ingest_request_id_acceptable("has space"));
    assert_false(tcb_ingest_request_id_acceptable("quote\""));
    char longer[TCB_REQUEST_ID_MAX + 2];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_false(tcb_ingest_request_id_acceptable(longer));
    longer[TCB_REQUEST_ID_MAX] = '\0';
    assert_true(tcb_ingest_request_id_acceptable(longer));
    /* Untrusted header values: a conservative charset only. */
    assert_true(tcb_ingest_request_id_acceptable("evt:123_a.b-C"));
    const char *refused[] = {"a/b", "a+b", "caf\xc3\xa9", "a\tb", "a;b", "<x>", "a,b", "%41"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_false(tcb_ingest_request_id_acceptable(refused[i]));
    }
    assert_false(tcb_ingest_request_id_acceptable(NULL));
}

/* Content ids: equal for the same route, account and body; different when
 * any of them differs, fields never running into each other. */
static void test_request_id_hash(void **state)
{
    char a[TCB_REQUEST_ID_HASH_LEN + 1];
    char b[TCB_REQUEST_ID_HASH_LEN + 1];
    tcb_ingest_request_id_hash("upload", "shop", "{}", 2, a);
    assert_int_equal(strlen(a), TCB_REQUEST_ID_HASH_LEN);
    assert_int_equal(strncmp(a, "sha256:", 7), 0);
    assert_true(tcb_ingest_request_id_acceptable(a));
    tcb_ingest_request_id_hash("upload", "shop", "{}", 2, b);
    assert_string_equal(a, b);
    tcb_ingest_request_id_hash("upload", "shop", "{ }", 3, b);
    assert_string_not_equal(a, b);
    tcb_ingest_request_id_hash("upload", "shop2", "{}", 2, b);
    assert_string_not_equal(a, b);
    tcb_ingest_request_id_hash("notifications", "shop", "{}", 2, b);
    assert_string_not_equal(a, b);
    tcb_ingest_request_id_hash("upload", NULL, "{}", 2, b);
    assert_string_not_equal(a, b);
    tcb_ingest_request_id_hash("upload", "sh", "op{}", 4, b); /* no field runs into another */
    assert_string_not_equal(a, b);
    /* SHA-256 over "upload\0shop\0{}": stable across builds and restarts. */
    assert_string_equal(a, "sha256:61811138cdb8dce3e55388a0d02c0f34");
}

/* Basic credentials: any case of the scheme; malformed ones refused. */
static void test_basic_password(void **state)
{
    char password[64];
    assert_int_equal(tcb_ingest_basic_password("Basic dTpzZWs=", password, sizeof(password)), 0);
    assert_string_equal(password, "sek");
    assert_int_equal(tcb_ingest_basic_password("basic  dTpzZWs", password, sizeof(password)), 0);
    assert_string_equal(password, "sek"); /* padding optional */
    assert_int_equal(tcb_ingest_basic_password("BASIC\tOnA6Yg==", password, sizeof(password)), 0);
    assert_string_equal(password, "p:b"); /* user "", password "p:b" */
    const char *bad[] = {NULL,
                         "",
                         "Basic",
                         "Bearer dTpzZWs=",
                         "Basicx dTpzZWs=",
                         "Basic dTpzZWs=!",
                         "Basic dXNlcg==" /* no colon */,
                         "Basic dQA6c2Vr" /* NUL */};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tcb_ingest_basic_password(bad[i], password, sizeof(password)), -1);
    }
    char tiny[3];
    assert_int_equal(tcb_ingest_basic_password("Basic dTpzZWs=", tiny, sizeof(tiny)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_keeps_record_bytes),
        cmocka_unit_test(test_record_keys),
        cmocka_unit_test(test_escaped_key_falls_back),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_record_cap),
        cmocka_unit_test(test_span_limits),
        cmocka_unit_test(test_validator),
        cmocka_unit_test(test_big_integers_are_accepted),
        cmocka_unit_test(test_escaped_identity),
        cmocka_unit_test(test_nested_empty_objects),
        cmocka_unit_test(test_notification_keys),
        cmocka_unit_test(test_secret_equal),
        cmocka_unit_test(test_account_auth),
        cmocka_unit_test(test_request_ids),
        cmocka_unit_test(test_request_id_hash),
        cmocka_unit_test(test_basic_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
