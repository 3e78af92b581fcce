/* Unit tests of talon-ingest's HTTP framing: the strict request-head parser
 * (every smuggling shape is a refusal with its status), head boundaries
 * found once for a trickling client, and the chunked decoder, fed whole and
 * byte by byte. */
#include "producer/ingest_http.h"
#include "util/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char buffer[TCB_HTTP_HEAD_MAX + 64];

/* Parses text as a complete head; returns 0 or the refusal status. */
static int parse(const char *text, struct tcb_http_head *head)
{
    size_t len = strlen(text);
    assert_true(len < sizeof(buffer));
    memcpy(buffer, text, len + 1);
    size_t scanned = 0;
    size_t head_len = tcb_http_head_end(buffer, len, &scanned);
    if (head_len == 0) {
        fail_msg("no complete head in: %s", text);
    }
    const char *why = NULL;
    int rc = tcb_http_head_parse(buffer, head_len, head, &why);
    if (rc != 0) {
        assert_non_null(why);
    }
    return rc;
}

#define HOST "Host: ingest\r\n"

static void test_valid_heads(void **state)
{
    struct tcb_http_head head;
    const char *first = "POST /1/upload HTTP/1.1\r\n" HOST "Content-Length: 5\r\n"
                        "X-Spaced:  a b \t\r\nX-Empty:\r\n\r\nhello";
    assert_int_equal(parse(first, &head), 0);
    assert_int_equal(head.length, strlen(first) - strlen("hello"));
    assert_string_equal(head.method, "POST");
    assert_string_equal(head.path, "/1/upload");
    assert_int_equal(head.minor, 1);
    assert_int_equal(head.content_length, 5);
    assert_false(head.chunked);
    assert_true(head.keep_alive);
    assert_string_equal(tcb_http_field(&head, "x-spaced"), "a b");
    assert_string_equal(tcb_http_field(&head, "X-EMPTY"), "");
    assert_null(tcb_http_field(&head, "X-Missing"));

    assert_int_equal(parse("POST http://ingest:8080/1/upload?x=1 HTTP/1.1\r\n" HOST
                           "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n",
                           &head),
                     0);
    assert_string_equal(head.path, "/1/upload");
    assert_true(head.chunked);
    assert_int_equal(head.content_length, -1);
    assert_false(head.keep_alive);

    assert_int_equal(parse("\r\nPOST /talon/notifications HTTP/1.0\r\n\r\n", &head), 0);
    assert_int_equal(head.minor, 0);
    assert_false(head.keep_alive); /* HTTP/1.0 closes unless asked */
    assert_int_equal(parse("POST / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &head), 0);
    assert_true(head.keep_alive);
    assert_int_equal(parse("POST / HTTP/1.1\r\n" HOST "Expect: 100-Continue\r\n"
                           "Content-Length: 0012\r\n\r\n",
                           &head),
                     0);
    assert_true(head.expect_continue);
    assert_int_equal(head.content_length, 12);
}

struct refusal {
    const char *head;
    int status;
};

/* Every way for two parsers to disagree about a request's end, and other
 * malformations: refused, with the status to answer. */
static void test_refusals(void **state)
{
    static const struct refusal cases[] = {
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 0\r\nContent-Length: 10\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\ncontent-length: 5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip, chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         400},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST HOST "\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 0x10\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 1 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 5, 5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length:\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 12345678901234567890123\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length: 9223372036854775808\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\n" HOST "Content-Length : 5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "X-A: b\r\n c\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "\tX-A: b\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "X-A: b\nContent-Length: 5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "X-A: b\rContent-Length: 5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "X-A: b\x01\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "X-\"A: b\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST ": b\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\n" HOST "NoColon\r\n\r\n", 400},
        {"POST / HTTP/1.1\n" HOST "\r\n", 400},
        {"POST  / HTTP/1.1\r\n" HOST "\r\n", 400},
        {"POST / HTTP/1.1 \r\n" HOST "\r\n", 400},
        {"POST /\x7f HTTP/1.1\r\n" HOST "\r\n", 400},
        {"POST * HTTP/1.1\r\n" HOST "\r\n", 400},
        {"POST ftp://x/ HTTP/1.1\r\n" HOST "\r\n", 400},
        {"POST / http/1.1\r\n" HOST "\r\n", 400},
        {"POST / HTTP/1\r\n" HOST "\r\n", 400},
        {"P(ST / HTTP/1.1\r\n" HOST "\r\n", 400},
        {"POST / HTTP/2.0\r\n" HOST "\r\n", 505},
        {"POST / HTTP/1.2\r\n" HOST "\r\n", 505},
        {"POST / HTTP/0.9\r\n" HOST "\r\n", 505},
        {"POST / HTTP/1.1\r\n" HOST "Expect: 200-ok\r\n\r\n", 417},
        {"\r\n\r\nPOST / HTTP/1.1\r\n" HOST "\r\n", 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tcb_http_head head;
        int rc = parse(cases[i].head, &head);
        if (rc != cases[i].status) {
            fail_msg("case %zu: expected %d, got %d", i, cases[i].status, rc);
        }
    }
    char many[4096];
    size_t used = (size_t)snprintf(many, sizeof(many), "POST / HTTP/1.1\r\n" HOST);
    for (int i = 0; i < TCB_HTTP_FIELDS_MAX; i++) {
        used += (size_t)snprintf(many + used, sizeof(many) - used, "X-%d: v\r\n", i);
    }
    snprintf(many + used, sizeof(many) - used, "\r\n");
    struct tcb_http_head head;
    assert_int_equal(parse(many, &head), 431);
}

/* A head arriving one byte at a time is found when its last byte comes,
 * having been scanned about once. */
static void test_head_end_trickle(void **state)
{
    const char *text = "POST / HTTP/1.1\r\nHost: x\r\n\r\nBODY";
    size_t scanned = 0;
    size_t found = 0;
    size_t at = 0;
    for (size_t len = 1; len <= strlen(text) && found == 0; len++) {
        found = tcb_http_head_end(text, len, &scanned);
        at = len;
        if (found == 0) {
            assert_int_equal(scanned, len);
        }
    }
    assert_int_equal(found, strlen(text) - 4);
    assert_int_equal(at, found);
    assert_int_equal(tcb_http_head_too_large("POST /aaaa", 10), 414);
    assert_int_equal(tcb_http_head_too_large("POST / HTTP/1.1\r\nX-A: aaaa", 26), 431);
}

/* Decodes text whole and byte by byte; both must agree. Returns the status
 * (1 done, 0 more, 400/413) and the body in out (cap bytes). */
static int decode(const char *text, size_t limit, char *out, size_t cap, size_t *consumed)
{
    int results[2];
    size_t used[2];
    for (int split = 0; split < 2; split++) {
        struct tcb_http_chunked chunked = {0};
        struct tcb_buf body;
        tcb_buf_init(&body, limit);
        const char *why = NULL;
        size_t len = strlen(text);
        size_t total = 0;
        int rc = 0;
        while (total < len && rc == 0) {
            size_t step = split ? 1 : len - total;
            size_t took = 0;
            rc = tcb_http_chunked_feed(&chunked, text + total, step, &body, &took, &why);
            total += took;
        }
        results[split] = rc;
        used[split] = total;
        if (rc > 1) {
            assert_non_null(why);
        }
        snprintf(out, cap, "%.*s", (int)body.len, body.data ? body.data : "");
        tcb_buf_free(&body, 0);
    }
    assert_int_equal(results[0], results[1]);
    if (results[0] == 1) {
        assert_int_equal(used[0], used[1]);
    }
    *consumed = used[0];
    return results[0];
}

static void test_chunked(void **state)
{
    char out[256];
    size_t used = 0;
    const char *text = "5\r\nhello\r\n9;ext=1;x\r\n, world!!\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
    assert_int_equal(decode(text, 1000, out, sizeof(out), &used), 1);
    assert_string_equal(out, "hello, world!!");
    assert_int_equal(used, strlen(text) - 4);
    assert_int_equal(decode("3 ;a\r\nabc\r\n0\r\n\r\n", 1000, out, sizeof(out), &used), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(decode("3\r\nab", 1000, out, sizeof(out), &used), 0);

    static const struct refusal bad[] = {
        {"5 x\r\nhello\r\n0\r\n\r\n", 400},
        {"5 5\r\nhello\r\n0\r\n\r\n", 400},
        {"5\nhello\r\n0\r\n\r\n", 400},
        {"g\r\n", 400},
        {"\r\n", 400},
        {";x\r\n", 400},
        {"-5\r\n", 400},
        {"5\r\nhelloX\r\n", 400},
        {"5\r\nhello\r\r", 400},
        {"0\r\nX: \x01\r\n\r\n", 400},
        {"0\r\n\r\r", 400},
        {"0\r\nX: y\n\r\n", 400},
        {"3e9\r\n", 413},
        {"0000000000000001\r\n", 413},
        {"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 413},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = decode(bad[i].head, 5, out, sizeof(out), &used);
        if (rc != bad[i].status) {
            fail_msg("chunked case %zu: expected %d, got %d", i, bad[i].status, rc);
        }
    }
    char line[2048];
    memset(line, ' ', sizeof(line) - 1);
    line[0] = '1';
    line[1] = ';';
    line[sizeof(line) - 1] = '\0';
    assert_int_equal(decode(line, 5, out, sizeof(out), &used), 400);
}

static void test_list_has(void **state)
{
    assert_true(tcb_http_list_has("keep-alive, Close", "close"));
    assert_true(tcb_http_list_has(" close ", "close"));
    assert_false(tcb_http_list_has("closed, x-close", "close"));
    assert_false(tcb_http_list_has("", "close"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_heads),      cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_head_end_trickle), cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_list_has),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
