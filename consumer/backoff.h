/* Retry timing for uploads: capped exponential back-off with full jitter,
 * Retry-After parsing, and the AIMD in-flight cap per account. Pure arithmetic
 * on values the caller passes (time and randomness included); no I/O, no logging. */
#ifndef TCB_CONSUMER_BACKOFF_H
#define TCB_CONSUMER_BACKOFF_H

#include <stdint.h>
#include <time.h>

/* A small deterministic PRNG (xorshift64*), so tests can seed jitter. */
struct tcb_rng {
    uint64_t state;
};
/* Seeds rng; seed 0 is replaced by a fixed non-zero constant. */
void tcb_rng_seed(struct tcb_rng *rng, uint64_t seed);
uint64_t tcb_rng_next(struct tcb_rng *rng);

/* Full-jitter delay before retry number `attempt` (1 = the first retry):
 * uniform in [0, min(max_ms, initial_ms * 2^(attempt-1))]. A Retry-After of
 * retry_after_s seconds (-1 = none), capped at retry_after_max_s, raises the
 * result to at least that. Never negative. */
long tcb_backoff_delay_ms(struct tcb_rng *rng, int attempt, long initial_ms, long max_ms,
                          long retry_after_s, long retry_after_max_s);

/* Parses a Retry-After header value: delta-seconds or an HTTP-date (relative to
 * now). Returns seconds >= 0, or -1 when value is NULL or unreadable. */
long tcb_retry_after_parse(const char *value, time_t now);

/* Additive-increase / multiplicative-decrease of an account's in-flight cap. */
struct tcb_aimd {
    int cap;    /* current cap, 1..max */
    int max;    /* the configured max_in_flight */
    int credit; /* successes counted toward the next +1 */
};
void tcb_aimd_init(struct tcb_aimd *aimd, int max);
/* After a 429: halves the cap (at least 1). */
void tcb_aimd_throttled(struct tcb_aimd *aimd);
/* After a successful request: +1 once `cap` successes have been seen. */
void tcb_aimd_success(struct tcb_aimd *aimd);
/* A new ceiling (at least 1): the cap drops to it at once, or climbs back to it
 * by additive increase. */
void tcb_aimd_set_max(struct tcb_aimd *aimd, int max);

#endif
