/* The de-duplication window: identities remembered up to the window and the
 * oldest forgotten first, checked against a plain model over many random
 * identities (so the set's deletions never lose or keep one wrongly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "consumer/dedup_window.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_identity(void **state)
{
    (void)state;
    uint64_t a = tcb_dedup_identity("req-1", 5, 0, 0);
    assert_int_not_equal(a, 0);
    assert_int_equal(a, tcb_dedup_identity("req-1", 5, 0, 0));
    assert_int_not_equal(a, tcb_dedup_identity("req-1", 5, 1, 0)); /* record-index */
    assert_int_not_equal(a, tcb_dedup_identity("req-1", 5, 0, 1)); /* output index */
    assert_int_not_equal(a, tcb_dedup_identity("req-2", 5, 0, 0));
}

static void test_window(void **state)
{
    (void)state;
    struct tcb_dedup_window w;
    tcb_dedup_window_init(&w, 3);
    for (uint64_t id = 1; id <= 3; id++) {
        assert_false(tcb_dedup_window_seen(&w, id));
        tcb_dedup_window_add(&w, id);
        assert_true(tcb_dedup_window_seen(&w, id));
    }
    tcb_dedup_window_add(&w, 2); /* already there: nothing moves */
    tcb_dedup_window_add(&w, 4); /* 1 leaves */
    assert_false(tcb_dedup_window_seen(&w, 1));
    assert_true(tcb_dedup_window_seen(&w, 2));
    assert_true(tcb_dedup_window_seen(&w, 4));
    tcb_dedup_window_clear(&w);
    assert_false(tcb_dedup_window_seen(&w, 4));
    struct tcb_dedup_window off;
    tcb_dedup_window_init(&off, 0);
    tcb_dedup_window_add(&off, 7);
    assert_false(tcb_dedup_window_seen(&off, 7));
    tcb_dedup_window_clear(&off);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void test_against_model(void **state)
{
    (void)state;
    enum { WINDOW = 1000, ADDS = 20000, SPACE = 3000 };
    struct tcb_dedup_window w;
    tcb_dedup_window_init(&w, WINDOW);
    uint64_t fifo[WINDOW];
    size_t head = 0, count = 0;
    uint64_t s = 12345;
    for (int step = 0; step < ADDS; step++) {
        /* ids from a small space, with their low bits alike, so probes collide */
        uint64_t id = ((rng_next(&s) % SPACE) + 1) << 20;
        int in_model = 0;
        for (size_t i = 0; i < count; i++) {
            in_model |= fifo[(head + i) % WINDOW] == id;
        }
        assert_int_equal(tcb_dedup_window_seen(&w, id), in_model);
        tcb_dedup_window_add(&w, id);
        if (!in_model) {
            if (count == WINDOW) {
                head = (head + 1) % WINDOW;
                count--;
            }
            fifo[(head + count) % WINDOW] = id;
            count++;
        }
    }
    for (uint64_t id = 1; id <= SPACE; id++) {
        int in_model = 0;
        for (size_t i = 0; i < count; i++) {
            in_model |= fifo[(head + i) % WINDOW] == id << 20;
        }
        assert_int_equal(tcb_dedup_window_seen(&w, id << 20), in_model);
    }
    tcb_dedup_window_clear(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
