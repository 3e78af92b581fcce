/* The CleverTap response parser and outcome classes against every recorded real
 * exchange (tests/uploader/data/responses.jsonl, copied from a public client's
 * cassettes) and against the answers CleverTap documents but nobody recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "consumer/batch.h"
#include "consumer/ct_response.h"
#include "consumer/upload_outcome.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_DIR  "tests/uploader/data/"
#define MAX_CASES 64

struct expected {
    int http_status;
    char status[16];
    long processed; /* -1: absent */
    int entries;
    int number[8];
    int code[8];
};

static int load_expected(struct expected *exp, int cap)
{
    FILE *f = fopen(DATA_DIR "responses.expected", "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#') {
            continue;
        }
        assert_true(n < cap);
        struct expected *e = &exp[n++];
        memset(e, 0, sizeof(*e));
        /* "INDEX HTTP_STATUS STATUS PROCESSED[ N:CODE...]" */
        char *p = line;
        assert_int_equal(strtol(p, &p, 10), n);
        e->http_status = (int)strtol(p, &p, 10);
        int used = 0;
        char processed[16];
        assert_int_equal(sscanf(p, " %15s %15s%n", e->status, processed, &used), 2);
        e->processed = strcmp(processed, "-") == 0 ? -1 : strtol(processed, NULL, 10);
        p += used;
        /* " N:CODE" pairs until the end of the line */
        for (;;) {
            char *end = NULL;
            long number = strtol(p, &end, 10);
            if (end == p || *end != ':') {
                break;
            }
            p = end + 1;
            long code = strtol(p, &end, 10);
            if (end == p) {
                break;
            }
            e->number[e->entries] = (int)number;
            e->code[e->entries] = (int)code;
            e->entries++;
            p = end;
        }
    }
    fclose(f);
    return n;
}

/* A batch holding the records of a recorded request body, in order. */
static struct tcb_batch *batch_from_request(const char *request_body)
{
    json_t *req = json_loads(request_body, 0, NULL);
    assert_non_null(req);
    json_t *d = json_object_get(req, "d");
    struct tcb_batch *batch = tcb_batch_new(1, json_array_size(d));
    struct tcb_upload_tag tag = {0};
    for (size_t i = 0; i < json_array_size(d); i++) {
        char *text = json_dumps(json_array_get(d, i), JSON_COMPACT);
        tag.sub_index = (int32_t)i;
        tcb_batch_add(batch, tcb_batch_record_new(text, strlen(text), 0, &tag, 0));
        free(text);
    }
    json_decref(req);
    return batch;
}

static const char *status_name(enum tcb_ct_status status)
{
    static const char *const names[] = {"unknown", "success", "partial", "fail"};
    return names[status];
}

static void check_case(const json_t *rec, const struct expected *e)
{
    const char *body = json_string_value(json_object_get(rec, "response_body"));
    int http_status = (int)json_integer_value(json_object_get(rec, "status"));
    assert_int_equal(http_status, e->http_status);

    struct tcb_ct_response resp;
    assert_int_equal(tcb_ct_response_parse(body, strlen(body), 1000, &resp), 0);
    assert_string_equal(status_name(resp.status), e->status);
    assert_int_equal(resp.processed, e->processed);
    assert_int_equal(resp.unprocessed_count, (size_t)e->entries);
    for (int i = 0; i < e->entries; i++) {
        assert_int_equal(resp.unprocessed[i].record_number, e->number[i]);
        assert_int_equal(resp.unprocessed[i].code, e->code[i]);
        assert_non_null(strstr(resp.unprocessed[i].text, "Skipped record number"));
    }
    tcb_ct_response_clear(&resp);

    struct tcb_batch *batch =
        batch_from_request(json_string_value(json_object_get(rec, "request_body")));
    struct tcb_upload_verdict_info info;
    tcb_upload_classify(TCB_TRANSPORT_OK, http_status, body, strlen(body), 0, batch->count, &info);
    if (http_status == 401) {
        assert_int_equal(info.verdict, TCB_VERDICT_RETRY);
        assert_int_equal(info.reason, TCB_REASON_AUTH);
        assert_int_equal(info.code, 401);
        assert_string_equal(info.text, "Account ID is not valid");
    } else {
        /* Every 2xx is understood; each entry maps to the record it names and the
         * echoed record agrees with what was sent. */
        assert_int_equal(info.verdict, TCB_VERDICT_OK);
        unsigned char fate[8];
        int entry[8];
        int mismatches = -1;
        assert_true(batch->count <= 8);
        assert_int_equal(tcb_upload_map_records(&info.resp, batch, fate, entry, &mismatches), 0);
        assert_int_equal(mismatches, 0);
        int rejected = 0;
        for (size_t i = 0; i < batch->count; i++) {
            if (fate[i] == TCB_FATE_REJECTED) {
                rejected++;
                assert_int_equal(info.resp.unprocessed[entry[i]].record_number, (int)i + 1);
            } else {
                assert_int_equal(fate[i], TCB_FATE_ACCEPTED);
            }
        }
        assert_int_equal(rejected, e->entries);
        assert_int_equal((long)batch->count - rejected, e->processed);
    }
    tcb_upload_verdict_clear(&info);
    tcb_batch_destroy(batch);
}

static void test_every_recorded_exchange(void **state)
{
    (void)state;
    struct expected exp[MAX_CASES];
    int expected_count = load_expected(exp, MAX_CASES);
    FILE *f = fopen(DATA_DIR "responses.jsonl", "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *rec = json_loads(line, 0, NULL);
        assert_non_null(rec);
        assert_true(n < expected_count);
        check_case(rec, &exp[n]);
        json_decref(rec);
        n++;
    }
    free(line);
    fclose(f);
    assert_int_equal(n, expected_count);
    assert_int_equal(n, 21);
}

static void test_skipped_record_number_variants(void **state)
{
    (void)state;
    assert_int_equal(tcb_ct_skipped_record_number("Email is not valid.Skipped record number : 2"),
                     2);
    assert_int_equal(tcb_ct_skipped_record_number("Graduate..Skipped record number : 1"), 1);
    assert_int_equal(tcb_ct_skipped_record_number("Skipped record number:17"), 17);
    assert_int_equal(tcb_ct_skipped_record_number("Skipped record number : 1000"), 1000);
    assert_int_equal(tcb_ct_skipped_record_number("Email is not valid."), 0);
    assert_int_equal(tcb_ct_skipped_record_number("Skipped record number : "), 0);
    assert_int_equal(tcb_ct_skipped_record_number("Skipped record number : 0"), 0);
    assert_int_equal(tcb_ct_skipped_record_number("Skipped record number : 99999999999"), 0);
    assert_int_equal(tcb_ct_skipped_record_number(NULL), 0);
}

static void test_unreadable_bodies(void **state)
{
    (void)state;
    struct tcb_ct_response resp;
    assert_int_equal(tcb_ct_response_parse("<html>502</html>", 16, 10, &resp), -1);
    assert_int_equal(tcb_ct_response_parse("[1,2]", 5, 10, &resp), -1);
    assert_int_equal(tcb_ct_response_parse("", 0, 10, &resp), -1);
    /* Entries beyond max_entries are not kept. */
    const char *many = "{\"status\":\"fail\",\"processed\":0,\"unprocessed\":[{\"code\":515},"
                       "{\"code\":516},{\"code\":517}]}";
    assert_int_equal(tcb_ct_response_parse(many, strlen(many), 2, &resp), 0);
    assert_int_equal(resp.unprocessed_count, 2);
    assert_int_equal(resp.unprocessed[1].code, 516);
    tcb_ct_response_clear(&resp);
}

struct class_case {
    enum tcb_transport transport;
    int http_status;
    const char *body;
    enum tcb_upload_verdict verdict;
    enum tcb_upload_reason reason;
    int code;
};

static void test_outcome_classes(void **state)
{
    (void)state;
    static const struct class_case cases[] = {
        {TCB_TRANSPORT_OK, 200,
         "{ \"status\" : \"success\" , \"processed\" : 1 , "
         "\"unprocessed\" : [ ]}",
         TCB_VERDICT_OK, TCB_REASON_NONE, 0},
        {TCB_TRANSPORT_OK, 429, "Too many concurrent requests", TCB_VERDICT_RETRY,
         TCB_REASON_THROTTLED, 0},
        {TCB_TRANSPORT_OK, 500, "", TCB_VERDICT_RETRY, TCB_REASON_SERVER, 0},
        {TCB_TRANSPORT_OK, 503, "", TCB_VERDICT_RETRY, TCB_REASON_SERVER, 0},
        {TCB_TRANSPORT_OK, 408, "", TCB_VERDICT_RETRY, TCB_REASON_SERVER, 0},
        {TCB_TRANSPORT_OK, 401,
         "{ \"status\" : \"fail\" , \"error\" : \"Account ID is not "
         "valid\" , \"code\" : 401}",
         TCB_VERDICT_RETRY, TCB_REASON_AUTH, 401},
        {TCB_TRANSPORT_OK, 403, "", TCB_VERDICT_RETRY, TCB_REASON_AUTH, 0},
        {TCB_TRANSPORT_OK, 400,
         "{\"status\":\"fail\",\"error\":\"Payload is not valid JSON\","
         "\"code\":400}",
         TCB_VERDICT_PERMANENT, TCB_REASON_CLIENT, 400},
        {TCB_TRANSPORT_OK, 413, "too large", TCB_VERDICT_PERMANENT, TCB_REASON_CLIENT, 0},
        {TCB_TRANSPORT_TIMEOUT, 0, NULL, TCB_VERDICT_RETRY, TCB_REASON_TIMEOUT, 0},
        {TCB_TRANSPORT_ERROR, 0, NULL, TCB_VERDICT_RETRY, TCB_REASON_TRANSPORT, 0},
        /* A 200 whose body we cannot read is resent, never taken as success. */
        {TCB_TRANSPORT_OK, 200, "<html>ok</html>", TCB_VERDICT_RETRY, TCB_REASON_BAD_RESPONSE, 0},
        {TCB_TRANSPORT_OK, 200, "{\"processed\":1}", TCB_VERDICT_RETRY, TCB_REASON_BAD_RESPONSE, 0},
        /* A whole-request failure inside a 200 is classified by its code. */
        {TCB_TRANSPORT_OK, 200,
         "{\"status\":\"fail\",\"error\":\"Account ID is not valid\","
         "\"code\":401}",
         TCB_VERDICT_RETRY, TCB_REASON_AUTH, 401},
        {TCB_TRANSPORT_OK, 302, "", TCB_VERDICT_RETRY, TCB_REASON_AUTH, 0}, /* halts */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct class_case *c = &cases[i];
        struct tcb_upload_verdict_info info;
        tcb_upload_classify(c->transport, c->http_status, c->body, c->body ? strlen(c->body) : 0, 0,
                            10, &info);
        assert_int_equal(info.verdict, c->verdict);
        assert_int_equal(info.reason, c->reason);
        assert_int_equal(info.code, c->code);
        tcb_upload_verdict_clear(&info);
    }
    /* A truncated 2xx body is never trusted. */
    struct tcb_upload_verdict_info info;
    const char *ok = "{\"status\":\"success\",\"processed\":1,\"unprocessed\":[]}";
    tcb_upload_classify(TCB_TRANSPORT_OK, 200, ok, strlen(ok), 1, 10, &info);
    assert_int_equal(info.verdict, TCB_VERDICT_RETRY);
    tcb_upload_verdict_clear(&info);
}

static struct tcb_batch *batch_of(const char *const *records, size_t n)
{
    struct tcb_batch *batch = tcb_batch_new(1, n);
    struct tcb_upload_tag tag = {0};
    for (size_t i = 0; i < n; i++) {
        tcb_batch_add(batch, tcb_batch_record_new(records[i], strlen(records[i]), 0, &tag, 0));
    }
    return batch;
}

/* Parses body and maps it onto batch; returns tcb_upload_map_records' result. */
static int map_body(const struct tcb_batch *batch, const char *body, unsigned char *fate,
                    int *entry, int *mismatches)
{
    struct tcb_ct_response resp;
    assert_int_equal(tcb_ct_response_parse(body, strlen(body), batch->count, &resp), 0);
    int rc = tcb_upload_map_records(&resp, batch, fate, entry, mismatches);
    tcb_ct_response_clear(&resp);
    return rc;
}

static void test_mapping_cross_check(void **state)
{
    (void)state;
    static const char *const records[] = {
        "{\"type\":\"event\",\"identity\":\"a\",\"evtName\":\"X\",\"evtData\":{}}",
        "{\"type\":\"event\",\"identity\":\"b\",\"evtName\":\"X\",\"evtData\":{}}",
        "{\"type\":\"event\",\"identity\":\"c\",\"evtName\":\"X\",\"evtData\":{}}",
    };
    struct tcb_batch *batch = batch_of(records, 3);
    unsigned char fate[3];
    int entry[3];
    int mismatches = 0;

    /* The number says 1 but the echo is record 3: the echo wins, counted. */
    const char *body = "{\"status\":\"partial\",\"processed\":2,\"unprocessed\":[{\"status\":"
                       "\"fail\",\"code\":515,\"error\":\"bad.Skipped record number : 1\","
                       "\"record\":{\"type\":\"event\",\"identity\":\"c\",\"evtName\":\"X\"}}]}";
    assert_int_equal(map_body(batch, body, fate, entry, &mismatches), 0);
    assert_int_equal(fate[0], TCB_FATE_ACCEPTED);
    assert_int_equal(fate[2], TCB_FATE_REJECTED);
    assert_int_equal(mismatches, 1);

    /* 555 means retry; a number without an echo is trusted. */
    body = "{\"status\":\"partial\",\"processed\":2,\"unprocessed\":[{\"code\":555,"
           "\"error\":\"Server error. Skipped record number : 2\"}]}";
    assert_int_equal(map_body(batch, body, fate, entry, &mismatches), 0);
    assert_int_equal(fate[1], TCB_FATE_RETRY);
    assert_int_equal(mismatches, 0);

    /* No number and an echo matching nothing: the caller cannot tell. */
    body = "{\"status\":\"partial\",\"processed\":2,\"unprocessed\":[{\"code\":515,"
           "\"error\":\"bad\",\"record\":{\"type\":\"event\",\"identity\":\"zz\"}}]}";
    assert_int_equal(map_body(batch, body, fate, entry, &mismatches), -1);
    tcb_batch_destroy(batch);

    /* A one-record request's entry can only be about that record, whatever number
     * or echo it carries: refused, never taken as accepted. */
    batch = batch_of(records, 1);
    body =
        "{\"status\":\"fail\",\"processed\":0,\"unprocessed\":[{\"code\":515,\"error\":"
        "\"bad.Skipped record number : 3\",\"record\":{\"type\":\"event\",\"identity\":\"b\"}}]}";
    assert_int_equal(map_body(batch, body, fate, entry, &mismatches), 0);
    assert_int_equal(fate[0], TCB_FATE_REJECTED);
    assert_int_equal(entry[0], 0);
    assert_int_equal(mismatches, 1);
    tcb_batch_destroy(batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_recorded_exchange),
        cmocka_unit_test(test_skipped_record_number_variants),
        cmocka_unit_test(test_unreadable_bodies),
        cmocka_unit_test(test_outcome_classes),
        cmocka_unit_test(test_mapping_cross_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
