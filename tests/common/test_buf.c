/* The bounded buffer: appends up to the ceiling and not one byte more, the
 * overflow mark, printf, reset and take. */
#include "util/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_ceiling(void **state)
{
    (void)state;
    struct tcb_buf buf;
    tcb_buf_init(&buf, 8);
    assert_int_equal(tcb_buf_append_str(&buf, "12345678"), 0);
    assert_false(buf.overflow);
    assert_int_equal(tcb_buf_append_str(&buf, "9"), -1);
    assert_true(buf.overflow);
    assert_string_equal(buf.data, "12345678");
    assert_int_equal(tcb_buf_printf(&buf, "%d", 1), -1);
    tcb_buf_reset(&buf);
    assert_false(buf.overflow);
    assert_int_equal(buf.len, 0);
    assert_int_equal(tcb_buf_printf(&buf, "%s-%03d", "ab", 7), 0);
    assert_string_equal(buf.data, "ab-007");
    size_t len = 0;
    char *taken = tcb_buf_take(&buf, &len);
    assert_string_equal(taken, "ab-007");
    assert_int_equal(len, 6);
    assert_null(buf.data);
    free(taken);
    taken = tcb_buf_take(&buf, &len); /* empty: "" */
    assert_string_equal(taken, "");
    assert_int_equal(len, 0);
    free(taken);
    tcb_buf_free(&buf, 1);
}

static void test_growth_keeps_bytes(void **state)
{
    (void)state;
    struct tcb_buf buf;
    tcb_buf_init(&buf, 1 << 20);
    char chunk[100];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(tcb_buf_append(&buf, chunk, sizeof(chunk)), 0);
    }
    assert_int_equal(buf.len, 100000);
    assert_true(buf.cap <= (1 << 20) + 1);
    assert_int_equal(buf.data[99999], 'x');
    assert_int_equal(buf.data[100000], '\0');
    tcb_buf_free(&buf, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_growth_keeps_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
