/* jansson's bump arena (common/json_arena.h): inside a scope a parsed tree
 * lives in the thread's chunk and the next scope reuses the same bytes; a
 * tree too large for the chunk spills to the heap and is freed normally (ASan's
 * leak check would see a spilled block left behind); outside a scope, and on
 * another thread during one, jansson allocates from the heap; a tree made
 * outside a scope can be freed inside one; results are the same with and
 * without the arena. */
#include "common/json_arena.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *RECORD =
    "{\"type\":\"event\",\"evtName\":\"Coupon Generated\","
    "\"identity\":\"u1\",\"evtData\":{\"CouponCode\":\"XMAS-20\",\"V\":[1,2]}}";

static char *roundtrip(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    char *out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(v);
    return out;
}

static void test_scope_allocates_in_chunk_and_reuses_it(void **state)
{
    (void)state;
    tcb_json_arena_begin();
    json_t *first = json_loads(RECORD, 0, NULL);
    assert_non_null(first);
    assert_true(tcb_json_arena_owns(first));
    assert_true(tcb_json_arena_owns(json_object_get(first, "evtData")));
    json_decref(first);
    tcb_json_arena_end();

    tcb_json_arena_begin();
    json_t *second = json_loads(RECORD, 0, NULL);
    assert_ptr_equal(first, second); /* the same bytes again: nothing piled up */
    json_decref(second);
    tcb_json_arena_end();
}

static void test_outside_scope_is_heap(void **state)
{
    (void)state;
    json_t *v = json_loads(RECORD, 0, NULL);
    assert_non_null(v);
    assert_false(tcb_json_arena_owns(v));
    tcb_json_arena_begin();
    json_decref(v); /* a heap tree freed inside a scope goes back to the heap */
    tcb_json_arena_end();
}

static void test_large_tree_spills_to_heap(void **state)
{
    (void)state;
    size_t items = TCB_JSON_ARENA_BYTES / 16;
    char *text = malloc(items * 8 + 16);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, 16, "[");
    for (size_t i = 0; i < items; i++) {
        len += (size_t)snprintf(text + len, 16, "%s{\"a\":1}", i ? "," : "");
    }
    text[len++] = ']';
    text[len] = '\0';
    tcb_json_arena_begin();
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    assert_int_equal(json_array_size(v), items);
    /* The chunk filled up: the last items came from the heap. */
    assert_false(tcb_json_arena_owns(json_array_get(v, items - 1)));
    assert_true(tcb_json_arena_owns(json_array_get(v, 0)));
    json_decref(v);
    tcb_json_arena_end();
    free(text);
}

static void *other_thread(void *arg)
{
    json_t **out = arg;
    *out = json_loads(RECORD, 0, NULL);
    return NULL;
}

static void test_other_thread_uses_heap_during_scope(void **state)
{
    (void)state;
    json_t *theirs = NULL;
    pthread_t t;
    tcb_json_arena_begin();
    assert_int_equal(pthread_create(&t, NULL, other_thread, &theirs), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    tcb_json_arena_end();
    assert_non_null(theirs);
    assert_false(tcb_json_arena_owns(theirs));
    json_decref(theirs); /* still valid after our scope ended */
}

static void test_same_results_with_and_without(void **state)
{
    (void)state;
    char *plain = roundtrip(RECORD);
    tcb_json_arena_begin();
    char *in_arena = roundtrip(RECORD);
    char *copy = strdup(in_arena); /* the text must be copied out before the end */
    json_free_t jansson_free;
    json_get_alloc_funcs(NULL, &jansson_free);
    jansson_free(in_arena); /* json_dumps's text is jansson's: freed through it */
    tcb_json_arena_end();
    assert_string_equal(plain, copy);
    free(plain);
    free(copy);
}

int main(void)
{
    tcb_json_arena_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_allocates_in_chunk_and_reuses_it),
        cmocka_unit_test(test_outside_scope_is_heap),
        cmocka_unit_test(test_large_tree_spills_to_heap),
        cmocka_unit_test(test_other_thread_uses_heap_during_scope),
        cmocka_unit_test(test_same_results_with_and_without),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
