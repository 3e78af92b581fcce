/* Back-off arithmetic: full-jitter exponential delays, Retry-After values and the
 * AIMD in-flight cap. Owns no state beyond the structs callers pass; never sleeps. */
#include "consumer/backoff.h"

#include <curl/curl.h>
#include <stdlib.h>

void tcb_rng_seed(struct tcb_rng *rng, uint64_t seed)
{
    rng->state = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

uint64_t tcb_rng_next(struct tcb_rng *rng)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

long tcb_backoff_delay_ms(struct tcb_rng *rng, int attempt, long initial_ms, long max_ms,
                          long retry_after_s, long retry_after_max_s)
{
    if (initial_ms < 1) {
        initial_ms = 1;
    }
    if (max_ms < initial_ms) {
        max_ms = initial_ms;
    }
    long ceiling = initial_ms;
    for (int i = 1; i < attempt && ceiling < max_ms; i++) {
        ceiling *= 2;
    }
    if (ceiling > max_ms) {
        ceiling = max_ms;
    }
    long delay = (long)(tcb_rng_next(rng) % (uint64_t)(ceiling + 1));
    if (retry_after_s >= 0) {
        long capped = retry_after_s < retry_after_max_s ? retry_after_s : retry_after_max_s;
        if (capped * 1000 > delay) {
            delay = capped * 1000;
        }
    }
    return delay;
}

long tcb_retry_after_parse(const char *value, time_t now)
{
    if (!value) {
        return -1;
    }
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    if (*value >= '0' && *value <= '9') {
        char *end = NULL;
        long seconds = strtol(value, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') {
            end++;
        }
        return *end == '\0' && seconds >= 0 ? seconds : -1;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1) {
        return -1;
    }
    return when > now ? (long)(when - now) : 0;
}

void tcb_aimd_init(struct tcb_aimd *aimd, int max)
{
    aimd->max = max < 1 ? 1 : max;
    aimd->cap = aimd->max;
    aimd->credit = 0;
}

void tcb_aimd_throttled(struct tcb_aimd *aimd)
{
    aimd->cap = aimd->cap / 2;
    if (aimd->cap < 1) {
        aimd->cap = 1;
    }
    aimd->credit = 0;
}

void tcb_aimd_success(struct tcb_aimd *aimd)
{
    if (aimd->cap >= aimd->max) {
        return;
    }
    aimd->credit++;
    if (aimd->credit >= aimd->cap) {
        aimd->cap++;
        aimd->credit = 0;
    }
}

void tcb_aimd_set_max(struct tcb_aimd *aimd, int max)
{
    aimd->max = max < 1 ? 1 : max;
    if (aimd->cap > aimd->max) {
        aimd->cap = aimd->max;
    }
}
