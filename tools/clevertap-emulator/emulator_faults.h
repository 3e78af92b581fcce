/* Deterministic fault injection: every upload request gets a sequence number
 * in arrival order, and all its random decisions (added latency, drop, hang,
 * 429, 500/503, per-record 555) come from a PRNG seeded with (seed, sequence
 * number). Same seed + same request order = same outcomes. Pure: no I/O. */
#ifndef TCB_EMULATOR_FAULTS_H
#define TCB_EMULATOR_FAULTS_H

#include <stdint.h>

struct tcb_emu_rng {
    uint64_t state;
};

struct tcb_emu_faults_cfg {
    int latency_ms;        /* added to every upload answer */
    int latency_jitter_ms; /* plus a uniform 0..jitter */
    double p_drop;         /* close the connection without an answer */
    double p_hang;         /* hold the request, never answer in time */
    double p_429;          /* answer 429 Too many concurrent requests */
    double p_5xx;          /* answer 500 or 503 (half each) */
    double p_555;          /* per record: unprocessed with code 555 */
};

enum tcb_emu_fault_action {
    TCB_EMU_FAULT_NONE = 0,
    TCB_EMU_FAULT_DROP,
    TCB_EMU_FAULT_HANG,
    TCB_EMU_FAULT_429,
    TCB_EMU_FAULT_500,
    TCB_EMU_FAULT_503,
};

struct tcb_emu_fault_plan {
    int latency_ms;
    enum tcb_emu_fault_action action;
};

/* Seeds rng for request number seq under the run's seed. */
void tcb_emu_rng_seed(struct tcb_emu_rng *rng, uint64_t seed, uint64_t seq);
/* Next 64 random bits. */
uint64_t tcb_emu_rng_next(struct tcb_emu_rng *rng);
/* 1 with probability p (0..1), else 0. Always consumes exactly one draw. */
int tcb_emu_rng_chance(struct tcb_emu_rng *rng, double p);

/* Draws the request-level decisions, in this fixed order: jitter, drop, hang,
 * 429, 5xx, 500-or-503. Every draw is taken whatever the probabilities, so a
 * request's later draws (the per-record 555s) do not depend on which fault
 * fired. The first fault that fires, in that order, wins. */
void tcb_emu_faults_plan(const struct tcb_emu_faults_cfg *cfg, struct tcb_emu_rng *rng,
                         struct tcb_emu_fault_plan *plan);

/* Short name of an action for logs and tests: "none", "drop", "hang", "429",
 * "500", "503". */
const char *tcb_emu_fault_name(enum tcb_emu_fault_action action);

#endif
