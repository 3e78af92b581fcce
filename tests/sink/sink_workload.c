/* The integration tests' workload: numbered CleverTap events (and poison
 * messages) in, and the check that each arrived exactly where it should. */
#include "tests/sink/sink_workload.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int workload_poison(const struct workload *w, size_t i)
{
    return w->poison_every > 0 && i % (size_t)w->poison_every == (size_t)w->poison_every - 1;
}

void workload_make(size_t i, struct sink_msg *msg, void *ctx)
{
    const struct workload *w = ctx;
    int profile = (int)(i % (size_t)(w->profiles > 0 ? w->profiles : 1));
    int two = w->two_accounts && (profile % 2 == 1);
    snprintf(msg->key, sizeof(msg->key), "u%d", profile);
    msg->headers[0] = two ? "clevertap-account=two" : "clevertap-account=one";
    if (w->two_accounts && w->account_per_partition && w->partitions >= 2) {
        int half = w->partitions / 2;
        msg->partition = (two ? half : 0) + profile / 2 % half;
    }
    if (workload_poison(w, i) && (i / (size_t)w->poison_every) % 2 == 0) {
        snprintf(msg->value, sizeof(msg->value),
                 "{\"type\":\"event\",\"identity\":\"u%d\",\"evtData\":{\"seq\":%zu}}", profile, i);
    } else if (workload_poison(w, i)) {
        snprintf(msg->value, sizeof(msg->value), "not json %zu", i);
    } else {
        snprintf(msg->value, sizeof(msg->value),
                 "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"identity\":\"u%d\","
                 "\"evtData\":{\"seq\":%zu,\"CouponCode\":\"C%zu\"}}",
                 profile, i, i);
    }
}

/* The seq a dead letter's value carries, or -1 (not JSON: "not json N"). */
static long dlq_seq(const struct sink_dlq_msg *d)
{
    const char *p = strstr(d->value, "\"seq\":");
    if (p) {
        return strtol(p + 6, NULL, 10);
    }
    p = strstr(d->value, "not json ");
    return p ? strtol(p + 9, NULL, 10) : -1;
}

int workload_check(const struct sink_env *env, const struct workload *w, int *counts,
                   struct outcome_counts *out)
{
    int *seen = counts ? counts : calloc(w->count, sizeof(*seen));
    memset(seen, 0, w->count * sizeof(*seen));
    memset(out, 0, sizeof(*out));
    out->sent = w->count;
    sink_recorded(env, seen, NULL, w->count, NULL);
    size_t dlq_count = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(env, &dlq_count);
    char *dead = calloc(w->count, 1);
    for (size_t d = 0; d < dlq_count; d++) {
        long seq = dlq_seq(&dlq[d]);
        if (seq < 0 || (size_t)seq >= w->count || !workload_poison(w, (size_t)seq)) {
            out->unexpected_dlq++;
            print_error("unexpected dead letter: stage %s code %d reason %s value %.80s\n",
                        dlq[d].stage, dlq[d].code, dlq[d].reason, dlq[d].value);
            continue;
        }
        int json = ((size_t)seq / (size_t)w->poison_every) % 2 == 0;
        if (json) {
            assert_string_equal(dlq[d].stage, "validation");
            assert_int_equal(dlq[d].code, 509);
        } else {
            assert_string_equal(dlq[d].stage, "transform");
        }
        dead[seq] = 1;
    }
    for (size_t i = 0; i < w->count; i++) {
        if (workload_poison(w, i)) {
            assert_int_equal(seen[i], 0);
            out->dead_lettered += dead[i];
            out->missing += !dead[i];
        } else {
            out->delivered += seen[i] > 0;
            out->duplicates += seen[i] > 1 ? (size_t)(seen[i] - 1) : 0;
            out->missing += seen[i] == 0;
        }
    }
    free(dead);
    free(dlq);
    if (!counts) {
        free(seen);
    }
    return out->missing == 0 && out->unexpected_dlq == 0;
}

void workload_report(const char *name, const struct outcome_counts *c)
{
    printf("scenario %s: sent %zu delivered %zu duplicates %zu dead-lettered %zu missing %zu "
           "seconds %.1f\n",
           name, c->sent, c->delivered, c->duplicates, c->dead_lettered, c->missing, c->seconds);
    fflush(stdout);
}
