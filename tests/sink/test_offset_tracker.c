/* The per-partition watermark: examples, and a seeded property test that
 * finishes records in random order (as a faulty CleverTap and a slow DLQ
 * would) and checks after every step that the commit point is exactly the
 * lowest offset with a record not final: never past one (a skip would lose
 * it), never behind the end when all are final. A per-run seed is printed
 * (replay: TCB_PROPERTY_SEED=N). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "consumer/offset_tracker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int freed;

static void count_free(void *payload)
{
    freed++;
    free(payload);
}

static void test_examples(void **state)
{
    (void)state;
    struct tcb_offset_tracker t;
    freed = 0;
    tcb_offset_tracker_init(&t, 3, count_free);
    assert_int_equal(tcb_offset_tracker_commit_point(&t), -1);
    assert_int_equal(tcb_offset_tracker_add(&t, 10, 2, malloc(1)), 0); /* envelope of 2 */
    assert_int_equal(tcb_offset_tracker_add(&t, 11, 0, malloc(1)), 0); /* all skipped */
    assert_int_equal(freed, 1);
    assert_int_equal(tcb_offset_tracker_add(&t, 13, 1, malloc(1)), 0); /* gap: 12 compacted */
    assert_int_equal(tcb_offset_tracker_commit_point(&t), 10);
    assert_int_equal(tcb_offset_tracker_done(&t, 13, 1), 0); /* a later one first */
    assert_int_equal(tcb_offset_tracker_commit_point(&t), 10);
    assert_int_equal(tcb_offset_tracker_done(&t, 10, 1), 0);
    assert_int_equal(tcb_offset_tracker_commit_point(&t), 10); /* one of two is not final */
    assert_int_equal(tcb_offset_tracker_done(&t, 10, 2), -1);  /* more than outstanding */
    assert_int_equal(tcb_offset_tracker_done(&t, 12, 1), -1);  /* never added */
    assert_int_equal(tcb_offset_tracker_done(&t, 10, 1), 0);
    assert_int_equal(tcb_offset_tracker_commit_point(&t), 14);
    assert_int_equal(tcb_offset_tracker_held(&t), 0);
    assert_int_equal(freed, 3);
    assert_int_equal(tcb_offset_tracker_add(&t, 13, 1, malloc(1)), -1); /* not increasing */
    assert_int_equal(freed, 4);
    for (int64_t o = 20; o < 23; o++) {
        assert_int_equal(tcb_offset_tracker_add(&t, o, 1, NULL), 0);
    }
    assert_true(tcb_offset_tracker_full(&t));
    assert_null(tcb_offset_tracker_payload(&t, 20)); /* added without a payload */
    tcb_offset_tracker_clear(&t);
    assert_int_equal(tcb_offset_tracker_held(&t), 0);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* One seeded run: messages with 0..4 records at increasing offsets (with
 * gaps), records finished in random order, interleaved with new messages. */
static void property_round(uint64_t seed)
{
    enum { MESSAGES = 3000 };
    uint64_t s = seed ? seed : 1;
    struct tcb_offset_tracker t;
    tcb_offset_tracker_init(&t, MESSAGES, count_free);
    int64_t offsets[MESSAGES];
    uint32_t left[MESSAGES];
    size_t added = 0;
    int64_t offset = (int64_t)(rng_next(&s) % 1000);
    size_t open_records = 0;
    while (added < MESSAGES || open_records > 0) {
        int add = added < MESSAGES && (open_records == 0 || rng_next(&s) % 3 == 0);
        if (add) {
            offset += 1 + (int64_t)(rng_next(&s) % 3 == 0 ? rng_next(&s) % 5 : 0);
            offsets[added] = offset;
            left[added] = (uint32_t)(rng_next(&s) % 5);
            open_records += left[added];
            assert_int_equal(tcb_offset_tracker_add(&t, offset, left[added], malloc(8)), 0);
            added++;
        } else {
            /* finish one record of a random unfinished message */
            size_t pick = (size_t)(rng_next(&s) % added);
            while (left[pick] == 0) {
                pick = (pick + 1) % added;
            }
            uint32_t n = 1 + (uint32_t)(rng_next(&s) % left[pick]);
            assert_int_equal(tcb_offset_tracker_done(&t, offsets[pick], n), 0);
            left[pick] -= n;
            open_records -= n;
        }
        /* The model: the lowest offset with records left, else after the last. */
        int64_t expect = added ? offsets[added - 1] + 1 : -1;
        for (size_t i = 0; i < added; i++) {
            if (left[i] > 0) {
                expect = offsets[i];
                break;
            }
        }
        int64_t point = tcb_offset_tracker_commit_point(&t);
        if (point != expect) {
            fail_msg("seed %llu: commit point %lld, expected %lld", (unsigned long long)seed,
                     (long long)point, (long long)expect);
        }
    }
    assert_int_equal(tcb_offset_tracker_held(&t), 0);
    tcb_offset_tracker_clear(&t);
}

static void test_property(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {1, 42, 4711, 987654321};
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        property_round(seeds[i]);
    }
    const char *fixed = getenv("TCB_PROPERTY_SEED");
    uint64_t seed =
        fixed ? strtoull(fixed, NULL, 10) : ((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid();
    fprintf(stderr, "drawn round: replay with TCB_PROPERTY_SEED=%llu\n", (unsigned long long)seed);
    property_round(seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
