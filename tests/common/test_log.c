/* Log lines: one line per event, valid JSON or logfmt, levels filtered,
 * control characters and quotes escaped so a message cannot forge a line. */
#include "common/log.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *capture(enum tcb_log_format format, enum tcb_log_level min_level, void (*emit)(void))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *stream = open_memstream(&buf, &len);
    assert_non_null(stream);
    tcb_log_setup("test-prog", min_level, format);
    tcb_log_set_stream(stream);
    emit();
    tcb_log_set_stream(NULL);
    fclose(stream);
    return buf;
}

static void emit_mixed(void)
{
    TCB_DEBUG("x.debug", "hidden %d", 1);
    TCB_INFO("upload.done", "account %s sent %d records", "shop-eu", 12);
    TCB_WARN("upload.retry", "tricky \"quote\" and\nnewline \\ and \x01 byte");
}

static void test_json_lines(void **state)
{
    (void)state;
    char *out = capture(TCB_LOG_FORMAT_JSON, TCB_LOG_INFO, emit_mixed);
    char *second = strchr(out, '\n');
    assert_non_null(second);
    *second++ = '\0';
    assert_null(strchr(second, '\n') == second + strlen(second) - 1 ? NULL : "two lines");
    json_error_t error;
    json_t *first = json_loads(out, 0, &error);
    assert_non_null(first);
    assert_string_equal(json_string_value(json_object_get(first, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(first, "program")), "test-prog");
    assert_string_equal(json_string_value(json_object_get(first, "event")), "upload.done");
    assert_string_equal(json_string_value(json_object_get(first, "msg")),
                        "account shop-eu sent 12 records");
    assert_non_null(json_object_get(first, "ts"));
    json_t *warn = json_loads(second, JSON_DISABLE_EOF_CHECK, &error);
    assert_non_null(warn);
    assert_string_equal(json_string_value(json_object_get(warn, "msg")),
                        "tricky \"quote\" and\nnewline \\ and \x01 byte");
    json_decref(first);
    json_decref(warn);
    assert_null(strstr(out, "hidden"));
    free(out);
}

static void test_logfmt_lines(void **state)
{
    (void)state;
    char *out = capture(TCB_LOG_FORMAT_LOGFMT, TCB_LOG_DEBUG, emit_mixed);
    int lines = 0;
    for (char *p = out; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, 3);
    assert_non_null(strstr(out, " level=debug program=test-prog event=x.debug msg=\"hidden 1\"\n"));
    assert_non_null(strstr(out, " level=warn program=test-prog event=upload.retry msg=\"tricky "
                                "\\\"quote\\\" and\\nnewline \\\\ and \\u0001 byte\"\n"));
    free(out);
}

static void test_parse_names(void **state)
{
    (void)state;
    enum tcb_log_level level;
    enum tcb_log_format format;
    assert_int_equal(tcb_log_level_parse("warn", &level), 0);
    assert_int_equal(level, TCB_LOG_WARN);
    assert_int_equal(tcb_log_level_parse("verbose", &level), -1);
    assert_int_equal(tcb_log_format_parse("logfmt", &format), 0);
    assert_int_equal(format, TCB_LOG_FORMAT_LOGFMT);
    assert_int_equal(tcb_log_format_parse("xml", &format), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_logfmt_lines),
        cmocka_unit_test(test_parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
