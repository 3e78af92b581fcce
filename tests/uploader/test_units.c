/* Unit tests of the uploader's pure parts: full-jitter back-off and Retry-After,
 * the AIMD in-flight cap, batch bounds and bodies, the ordering-key set, and batch
 * formation per account (linger, record and byte bounds, keyed ordering). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "consumer/backoff.h"
#include "consumer/batch.h"
#include "consumer/batch_keys.h"
#include "consumer/upload_account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_backoff_full_jitter(void **state)
{
    (void)state;
    struct tcb_rng rng;
    tcb_rng_seed(&rng, 1);
    long max_seen[8] = {0};
    for (int round = 0; round < 2000; round++) {
        for (int attempt = 1; attempt <= 7; attempt++) {
            long d = tcb_backoff_delay_ms(&rng, attempt, 100, 1000, -1, 60);
            long ceiling = 100L << (attempt - 1);
            ceiling = ceiling > 1000 ? 1000 : ceiling;
            assert_true(d >= 0 && d <= ceiling);
            if (d > max_seen[attempt]) {
                max_seen[attempt] = d;
            }
        }
    }
    /* Jitter spreads over the whole window, which doubles up to the cap. */
    assert_true(max_seen[1] > 80);
    assert_true(max_seen[3] > 320);
    assert_true(max_seen[7] > 800);
    /* Retry-After is a floor, itself capped. */
    assert_int_equal(tcb_backoff_delay_ms(&rng, 1, 100, 1000, 5, 60) >= 5000, 1);
    long capped = tcb_backoff_delay_ms(&rng, 1, 100, 1000, 3600, 2);
    assert_true(capped >= 2000 && capped <= 2000);
    /* Same seed, same delays: tests can be deterministic. */
    struct tcb_rng a;
    struct tcb_rng b;
    tcb_rng_seed(&a, 99);
    tcb_rng_seed(&b, 99);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(tcb_backoff_delay_ms(&a, 4, 10, 500, -1, 0),
                         tcb_backoff_delay_ms(&b, 4, 10, 500, -1, 0));
    }
}

static void test_retry_after(void **state)
{
    (void)state;
    time_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(tcb_retry_after_parse("120", now), 120);
    assert_int_equal(tcb_retry_after_parse(" 7\r\n", now), 7);
    assert_int_equal(tcb_retry_after_parse("Wed, 21 Oct 2015 07:28:30 GMT", now), 30);
    assert_int_equal(tcb_retry_after_parse("Wed, 21 Oct 2015 07:00:00 GMT", now), 0);
    assert_int_equal(tcb_retry_after_parse("soon", now), -1);
    assert_int_equal(tcb_retry_after_parse("12abc", now), -1);
    assert_int_equal(tcb_retry_after_parse(NULL, now), -1);
}

static void test_aimd(void **state)
{
    (void)state;
    struct tcb_aimd aimd;
    tcb_aimd_init(&aimd, 15);
    assert_int_equal(aimd.cap, 15);
    tcb_aimd_throttled(&aimd);
    assert_int_equal(aimd.cap, 7);
    tcb_aimd_throttled(&aimd);
    tcb_aimd_throttled(&aimd);
    tcb_aimd_throttled(&aimd);
    assert_int_equal(aimd.cap, 1);
    tcb_aimd_throttled(&aimd);
    assert_int_equal(aimd.cap, 1); /* never below one */
    /* Additive increase: +1 per cap successes, up to the configured max. */
    tcb_aimd_success(&aimd);
    assert_int_equal(aimd.cap, 2);
    tcb_aimd_success(&aimd);
    assert_int_equal(aimd.cap, 2);
    tcb_aimd_success(&aimd);
    assert_int_equal(aimd.cap, 3);
    for (int i = 0; i < 1000; i++) {
        tcb_aimd_success(&aimd);
    }
    assert_int_equal(aimd.cap, 15);
}

static struct tcb_batch_record *record(const char *json, uint64_t key, int64_t offset, int64_t now)
{
    struct tcb_upload_tag tag = {.offset = offset};
    return tcb_batch_record_new(json, strlen(json), key, &tag, now);
}

static void test_batch_bounds_and_body(void **state)
{
    (void)state;
    struct tcb_batch *batch = tcb_batch_new(1, 3);
    assert_int_equal(batch->bytes, strlen("{\"d\":[]}"));
    assert_true(tcb_batch_fits(batch, 4, 12));
    assert_false(tcb_batch_fits(batch, 5, 12));
    tcb_batch_add(batch, record("{\"a\":1}", 0, 0, 0));
    tcb_batch_add(batch, record("{\"b\":2}", 0, 1, 0));
    tcb_batch_body(batch);
    assert_string_equal(batch->body, "{\"d\":[{\"a\":1},{\"b\":2}]}");
    assert_int_equal(batch->body_len, batch->bytes);
    assert_false(tcb_batch_fits(batch, 7, batch->bytes + 7)); /* the comma counts */
    assert_true(tcb_batch_fits(batch, 7, batch->bytes + 8));
    tcb_batch_add(batch, record("{\"c\":3}", 0, 2, 0));
    assert_false(tcb_batch_fits(batch, 1, 1 << 20)); /* record bound */

    struct tcb_batch *rest = tcb_batch_split_off(batch, 1, 2);
    tcb_batch_body(batch);
    tcb_batch_body(rest);
    assert_string_equal(batch->body, "{\"d\":[{\"a\":1}]}");
    assert_string_equal(rest->body, "{\"d\":[{\"b\":2},{\"c\":3}]}");
    assert_int_equal(rest->bytes, rest->body_len);
    struct tcb_batch_record *taken = tcb_batch_take(rest, 0);
    assert_int_equal(taken->tag.offset, 1);
    tcb_batch_record_free(taken);
    tcb_batch_body(rest);
    assert_string_equal(rest->body, "{\"d\":[{\"c\":3}]}");
    tcb_batch_destroy(batch);
    tcb_batch_destroy(rest);
}

static void test_keys_against_model(void **state)
{
    (void)state;
    enum { KEYS = 64, OPS = 20000 };
    struct tcb_batch_keys *keys = tcb_batch_keys_create(KEYS);
    int model[KEYS * 4] = {0};
    struct tcb_rng rng;
    tcb_rng_seed(&rng, 5);
    size_t busy = 0;
    for (int op = 0; op < OPS; op++) {
        /* Few distinct values collide in the table: deletion must keep chains intact. */
        size_t k = (size_t)(tcb_rng_next(&rng) % (KEYS * 4));
        uint64_t key = k + 1;
        if (tcb_rng_next(&rng) % 2) {
            int rc = tcb_batch_keys_add(keys, key);
            if (!model[k] && busy >= KEYS) {
                assert_int_equal(rc, -1);
            } else {
                assert_int_equal(rc, 0);
                busy += model[k] ? 0 : 1;
                model[k] = 1;
            }
        } else {
            tcb_batch_keys_release(keys, key);
            busy -= model[k] ? 1 : 0;
            model[k] = 0;
        }
        assert_int_equal(tcb_batch_keys_count(keys), busy);
        for (size_t j = 0; j < KEYS * 4; j += 37) {
            assert_int_equal(tcb_batch_keys_busy(keys, j + 1), model[j]);
        }
    }
    assert_int_equal(tcb_batch_keys_busy(keys, 0), 0);
    assert_int_equal(tcb_batch_keys_add(keys, 0), 0);
    tcb_batch_keys_destroy(keys);
}

struct account_fixture {
    struct tcb_account account;
    struct tcb_upload_account acct;
    struct tcb_batch_keys *keys;
    struct tcb_batch_policy policy;
    uint64_t seq;
};

static void account_setup(struct account_fixture *f, size_t max_records, int keyed)
{
    memset(f, 0, sizeof(*f));
    f->account.name = "shop";
    f->account.account_id = "ID";
    f->account.passcode = "secret";
    f->account.max_in_flight = 20; /* clamped to CleverTap's 15 */
    char err[128];
    assert_int_equal(
        tcb_upload_account_init(&f->acct, &f->account, "http://127.0.0.1:9/", err, sizeof(err)), 0);
    assert_string_equal(f->acct.url, "http://127.0.0.1:9/1/upload");
    assert_int_equal(f->acct.aimd.max, TCB_CLEVERTAP_MAX_IN_FLIGHT);
    f->keys = tcb_batch_keys_create(100);
    f->policy = (struct tcb_batch_policy){.max_records = max_records,
                                          .max_bytes = 1 << 20,
                                          .linger_ms = 100,
                                          .keyed_ordering = keyed};
    f->seq = 1;
}

static void account_teardown(struct account_fixture *f)
{
    tcb_upload_account_cleanup(&f->acct);
    tcb_batch_keys_destroy(f->keys);
}

static struct tcb_batch *form(struct account_fixture *f, int64_t now, int force)
{
    return tcb_upload_account_form(&f->acct, &f->policy, f->keys, &f->seq, now, force);
}

static void test_formation_linger_and_count(void **state)
{
    (void)state;
    struct account_fixture f;
    account_setup(&f, 3, 0);
    tcb_upload_account_enqueue(&f.acct, record("{}", 0, 0, 1000));
    assert_null(form(&f, 1050, 0)); /* lingering */
    assert_int_equal(tcb_upload_account_next_due(&f.acct, &f.policy, 1050), 1100);
    struct tcb_batch *b = form(&f, 1100, 0);
    assert_non_null(b);
    assert_int_equal(b->count, 1);
    /* A full batch's worth goes at once. */
    for (int i = 1; i <= 4; i++) {
        tcb_upload_account_enqueue(&f.acct, record("{}", 0, i, 2000));
    }
    b = form(&f, 2000, 0);
    assert_non_null(b);
    assert_int_equal(b->count, 3);
    assert_int_equal(b->records[0]->tag.offset, 1);
    assert_null(form(&f, 2000, 0));
    b = form(&f, 2000, 1); /* flush forces the remainder */
    assert_int_equal(b->count, 1);
    assert_int_equal(f.acct.pending_count, 0);
    /* Batches in back-off are not ready until their time. */
    b->not_before_ms = 5000;
    assert_ptr_equal(tcb_upload_account_ready_batch(&f.acct, 4000), f.acct.first);
    f.acct.first->sending = 1;
    f.acct.first->next->sending = 1;
    assert_null(tcb_upload_account_ready_batch(&f.acct, 4000));
    assert_ptr_equal(tcb_upload_account_ready_batch(&f.acct, 5000), b);
    account_teardown(&f);
}

static void test_formation_byte_bound(void **state)
{
    (void)state;
    struct account_fixture f;
    account_setup(&f, 1000, 0);
    f.policy.max_bytes = 8 + 10 + 1 + 10; /* envelope + two 10-byte records + comma */
    for (int i = 0; i < 5; i++) {
        tcb_upload_account_enqueue(&f.acct, record("{\"x\":1234}", 0, i, 0));
    }
    struct tcb_batch *b = form(&f, 0, 0); /* due by bytes, not by time */
    assert_non_null(b);
    assert_int_equal(b->count, 2);
    tcb_batch_body(b);
    assert_true(b->body_len <= f.policy.max_bytes);
    account_teardown(&f);
}

static void test_keyed_ordering_holds_later_records(void **state)
{
    (void)state;
    struct account_fixture f;
    account_setup(&f, 10, 1);
    /* key 7: offsets 0, 2, 4; key 8: offset 1; key 0 (unordered): offset 3 */
    uint64_t keys[] = {7, 8, 7, 0, 7};
    for (int i = 0; i < 5; i++) {
        tcb_upload_account_enqueue(&f.acct, record("{}", keys[i], i, 0));
    }
    struct tcb_batch *first = form(&f, 0, 1);
    assert_int_equal(first->count, 3); /* one record per key: 0, 1, 3 */
    assert_int_equal(first->records[0]->tag.offset, 0);
    assert_int_equal(first->records[1]->tag.offset, 1);
    assert_int_equal(first->records[2]->tag.offset, 3);
    /* Offset 2 waits for offset 0 to be final, and offset 4 behind it. */
    assert_null(form(&f, 0, 1));
    assert_int_equal(f.acct.pending_count, 2);
    first->sending = 1; /* on the wire: nothing else is due until it finishes */
    assert_int_equal(tcb_upload_account_next_due(&f.acct, &f.policy, 0), INT64_MAX);
    first->sending = 0;

    struct tcb_batch_record *done = tcb_batch_take(first, 0);
    tcb_batch_keys_release(f.keys, done->key);
    tcb_batch_record_free(done);
    f.acct.form_stalled = 0;
    struct tcb_batch *second = form(&f, 0, 1);
    assert_int_equal(second->count, 1);
    assert_int_equal(second->records[0]->tag.offset, 2);
    assert_int_equal(f.acct.pending_head->tag.offset, 4);
    account_teardown(&f);
}

static void test_account_needs_credentials(void **state)
{
    (void)state;
    struct tcb_account account = {.name = "x", .account_id = "ID"};
    struct tcb_upload_account acct;
    char err[128];
    assert_int_equal(
        tcb_upload_account_init(&acct, &account, "http://127.0.0.1:9", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "x"));
    tcb_upload_account_cleanup(&acct);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_full_jitter),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_aimd),
        cmocka_unit_test(test_batch_bounds_and_body),
        cmocka_unit_test(test_keys_against_model),
        cmocka_unit_test(test_formation_linger_and_count),
        cmocka_unit_test(test_formation_byte_bound),
        cmocka_unit_test(test_keyed_ordering_holds_later_records),
        cmocka_unit_test(test_account_needs_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
