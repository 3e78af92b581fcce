/* SplitMix64-based PRNG and the per-request fault plan. Pure functions over
 * caller-owned state; never logs, never sleeps. */
#include "tools/clevertap-emulator/emulator_faults.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tcb_emu_rng_seed(struct tcb_emu_rng *rng, uint64_t seed, uint64_t seq)
{
    uint64_t x = seed;
    uint64_t mixed_seed = splitmix64(&x);
    x = seq ^ 0x5851f42d4c957f2dULL;
    rng->state = mixed_seed ^ splitmix64(&x);
}

uint64_t tcb_emu_rng_next(struct tcb_emu_rng *rng)
{
    return splitmix64(&rng->state);
}

int tcb_emu_rng_chance(struct tcb_emu_rng *rng, double p)
{
    /* 53 random bits -> uniform double in [0, 1). */
    double u = (double)(tcb_emu_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return u < p;
}

void tcb_emu_faults_plan(const struct tcb_emu_faults_cfg *cfg, struct tcb_emu_rng *rng,
                         struct tcb_emu_fault_plan *plan)
{
    uint64_t jitter = tcb_emu_rng_next(rng);
    int drop = tcb_emu_rng_chance(rng, cfg->p_drop);
    int hang = tcb_emu_rng_chance(rng, cfg->p_hang);
    int too_many = tcb_emu_rng_chance(rng, cfg->p_429);
    int server_error = tcb_emu_rng_chance(rng, cfg->p_5xx);
    int is_503 = tcb_emu_rng_chance(rng, 0.5);

    plan->latency_ms = cfg->latency_ms;
    if (cfg->latency_jitter_ms > 0) {
        plan->latency_ms += (int)(jitter % ((uint64_t)cfg->latency_jitter_ms + 1));
    }
    if (drop) {
        plan->action = TCB_EMU_FAULT_DROP;
    } else if (hang) {
        plan->action = TCB_EMU_FAULT_HANG;
    } else if (too_many) {
        plan->action = TCB_EMU_FAULT_429;
    } else if (server_error) {
        plan->action = is_503 ? TCB_EMU_FAULT_503 : TCB_EMU_FAULT_500;
    } else {
        plan->action = TCB_EMU_FAULT_NONE;
    }
}

const char *tcb_emu_fault_name(enum tcb_emu_fault_action action)
{
    switch (action) {
    case TCB_EMU_FAULT_NONE:
        return "none";
    case TCB_EMU_FAULT_DROP:
        return "drop";
    case TCB_EMU_FAULT_HANG:
        return "hang";
    case TCB_EMU_FAULT_429:
        return "429";
    case TCB_EMU_FAULT_500:
        return "500";
    case TCB_EMU_FAULT_503:
        return "503";
    }
    return "unknown";
}
