/* Uploader throughput: records/s through tcb_uploader into a local
 * clevertap-emulator (loopback), at 0 ms and at 300 ms emulator latency, with
 * keys spread over 100,000 profiles and with colliding keys (1,000: keyed
 * ordering allows one outstanding record per key), plus the uploader's CPU
 * seconds per million records: records and key hashes are made before the clock
 * starts, so the figure is the uploader's alone (getrusage of this process; the
 * emulator runs in its own). A scenario gives up at its deadline (a dead
 * emulator cannot make it spin forever). Never fails on timing. */
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "consumer/upload_client.h"
#include "util/alloc.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ACCOUNT_ID "BENCH-ACC-1"
#define PASSCODE   "bench-passcode"

struct scenario {
    long records;
    int latency_ms;
    int in_flight;
    int batch;
    long keys; /* distinct ordering keys (profiles); 0 = no ordering key */
};

/* The records of a scenario, made before the clock starts. */
struct workload {
    char *json;      /* every record, back to back */
    size_t *offsets; /* record i: json + offsets[i], lengths[i] bytes */
    size_t *lengths;
    uint64_t *hashes; /* ordering key of record i */
};

struct tally {
    long accepted;
    long other;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void on_outcome(void *ctx, const struct tcb_upload_tag *tag,
                       const struct tcb_upload_outcome *outcome)
{
    struct tally *t = ctx;
    (void)tag;
    if (outcome->result == TCB_UPLOAD_ACCEPTED) {
        t->accepted++;
    } else {
        t->other++;
    }
}

/* Mean of the uploader's request-latency histogram (seconds); *count = requests. */
static double mean_latency(struct tcb_metrics *metrics, double *count)
{
    char *text = tcb_metrics_render(metrics, NULL);
    double sum = 0;
    *count = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *value = strrchr(line, ' ');
        if (strncmp(line, "tcb_upload_request_seconds_sum", 30) == 0 && value) {
            sum = strtod(value + 1, NULL);
        } else if (strncmp(line, "tcb_upload_request_seconds_count", 32) == 0 && value) {
            *count = strtod(value + 1, NULL);
        }
    }
    free(text);
    return *count > 0 ? sum / *count : 0;
}

/* Starts the emulator on a free loopback port; returns its pid and sets *port. */
static pid_t start_emulator(const char *binary, int latency_ms, int *port)
{
    char dir[] = "/tmp/tcb-bench-uploader-XXXXXX";
    if (!mkdtemp(dir)) {
        return -1;
    }
    char port_file[96];
    char latency[16];
    snprintf(port_file, sizeof(port_file), "%s/port", dir);
    snprintf(latency, sizeof(latency), "%d", latency_ms);
    pid_t pid = fork();
    if (pid == 0) {
        execl(binary, binary, "--listen", "127.0.0.1:0", "--port-file", port_file, "--account",
              ACCOUNT_ID ":" PASSCODE, "--latency-ms", latency, "--log-level", "error",
              (char *)NULL);
        _exit(127);
    }
    *port = -1;
    for (int i = 0; pid > 0 && i < 1000 && *port <= 0; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            char text[16] = "";
            char *end = NULL;
            long value = fgets(text, sizeof(text), f) ? strtol(text, &end, 10) : -1;
            *port = end != text && value > 0 && value < 65536 ? (int)value : -1;
            fclose(f);
        }
        usleep(10000);
    }
    unlink(port_file);
    rmdir(dir);
    return *port > 0 ? pid : -1;
}

/* Makes every record and key hash of the scenario (outside the timed part). */
static void make_workload(const struct scenario *sc, struct workload *w)
{
    size_t cap = (size_t)sc->records * 160 + 1;
    w->json = tcb_xmalloc(cap);
    w->offsets = tcb_xcalloc((size_t)sc->records, sizeof(*w->offsets));
    w->lengths = tcb_xcalloc((size_t)sc->records, sizeof(*w->lengths));
    w->hashes = tcb_xcalloc((size_t)sc->records, sizeof(*w->hashes));
    size_t used = 0;
    for (long i = 0; i < sc->records; i++) {
        long profile = sc->keys > 0 ? i % sc->keys : i % 100000;
        int len = snprintf(w->json + used, cap - used,
                           "{\"type\":\"event\",\"identity\":\"profile-%ld\",\"evtName\":"
                           "\"Coupon Generated\",\"evtData\":{\"CouponCode\":\"BENCH-%08ld\","
                           "\"Campaign\":\"autumn\",\"Value\":%ld}}",
                           profile, i, i % 97);
        if (len < 0 || (size_t)len >= cap - used) {
            abort();
        }
        char key[32];
        int key_len = snprintf(key, sizeof(key), "profile-%ld", profile);
        w->offsets[i] = used;
        w->lengths[i] = (size_t)len;
        w->hashes[i] = sc->keys > 0 ? tcb_upload_key_hash(key, (size_t)key_len) : 0;
        used += (size_t)len;
    }
}

static void free_workload(struct workload *w)
{
    free(w->json);
    free(w->offsets);
    free(w->lengths);
    free(w->hashes);
}

/* Seconds a scenario may take: generous for this machine, finite for a dead emulator
 * (TCB_BENCH_DEADLINE_S overrides). */
static double deadline_s(const struct scenario *sc)
{
    const char *env = getenv("TCB_BENCH_DEADLINE_S");
    double value = env ? strtod(env, NULL) : 0;
    return value > 0 ? value : 60.0 + (double)sc->records / 2000.0;
}

static int run_scenario(const char *binary, const struct scenario *sc)
{
    int port = 0;
    pid_t emu = start_emulator(binary, sc->latency_ms, &port);
    if (emu < 0) {
        fprintf(stderr, "bench: cannot start %s\n", binary);
        return -1;
    }
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "clevertap:\n  accounts:\n    - name: bench\n      account_id: %s\n"
             "      passcode: %s\n      region: eu1\n      endpoint: http://127.0.0.1:%d\n"
             "      max_in_flight: %d\n  request_timeout_ms: 30000\n"
             "sink:\n  batch:\n    max_records: %d\n  max_pending_records: 50000\n",
             ACCOUNT_ID, PASSCODE, port, sc->in_flight, sc->batch);
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("bench", yaml, strlen(yaml), &diag);
    for (size_t i = 0; i < diag.count; i++) {
        fprintf(stderr, "%s\n", diag.lines[i]);
    }
    tcb_config_diag_free(&diag);
    struct tally tally = {0};
    struct tcb_metrics *metrics = tcb_metrics_create();
    struct tcb_uploader_options opts = {
        .cfg = cfg, .metrics = metrics, .on_outcome = on_outcome, .ctx = &tally};
    char err[256] = "";
    struct tcb_uploader *up = cfg ? tcb_uploader_create(&opts, err, sizeof(err)) : NULL;
    if (!up) {
        fprintf(stderr, "bench: %s\n", err);
        kill(emu, SIGTERM);
        waitpid(emu, NULL, 0);
        tcb_config_destroy(cfg);
        tcb_metrics_destroy(metrics);
        return -1;
    }
    struct workload w;
    make_workload(sc, &w);
    double deadline = deadline_s(sc);
    double cpu0 = cpu_s();
    double t0 = now_s();
    long submitted = 0;
    int timed_out = 0;
    while (tally.accepted + tally.other < sc->records) {
        while (submitted < sc->records) {
            struct tcb_upload_tag tag = {.offset = submitted};
            if (tcb_uploader_submit(up, &cfg->clevertap.accounts[0], w.json + w.offsets[submitted],
                                    w.lengths[submitted], w.hashes[submitted], &tag) != 0) {
                break;
            }
            submitted++;
        }
        if (tcb_uploader_run(up, 5) < 0) {
            break;
        }
        if (now_s() - t0 > deadline) {
            timed_out = 1;
            break;
        }
    }
    double elapsed = now_s() - t0;
    double cpu = cpu_s() - cpu0;
    double rate = (double)tally.accepted / elapsed;
    free_workload(&w);
    printf("latency %4d ms  in_flight %2d  batch %4d  keys %6ld  records %ld  accepted %ld  other "
           "%ld\n",
           sc->latency_ms, sc->in_flight, sc->batch, sc->keys, sc->records, tally.accepted,
           tally.other);
    if (timed_out) {
        printf("  GAVE UP after %.0f s (deadline): %ld of %ld outcomes; is the emulator alive?\n",
               deadline, tally.accepted + tally.other, sc->records);
    }
    printf("  %.0f records/s in %.2f s; uploader CPU %.2f s per million records\n", rate, elapsed,
           cpu / ((double)tally.accepted / 1e6));
    double requests = 0;
    double mean = mean_latency(metrics, &requests);
    printf("  %.0f requests, mean request time seen by the uploader %.1f ms\n", requests,
           mean * 1000);
    if (sc->latency_ms > 0) {
        double ceiling = (double)sc->in_flight * sc->batch / (sc->latency_ms / 1000.0);
        printf("  ceiling %d x %d / %.3f s = %.0f records/s; reached %.1f%%\n", sc->in_flight,
               sc->batch, sc->latency_ms / 1000.0, ceiling, 100.0 * rate / ceiling);
        if (sc->keys > 0 && (double)sc->keys / (sc->latency_ms / 1000.0) < ceiling) {
            /* keyed ordering: at most one outstanding record per key */
            double keyed = (double)sc->keys / (sc->latency_ms / 1000.0);
            printf("  keyed-ordering ceiling %ld keys / %.3f s = %.0f records/s; reached %.1f%%\n",
                   sc->keys, sc->latency_ms / 1000.0, keyed, 100.0 * rate / keyed);
        }
    }
    if (mean > 0) {
        /* How well the uploader keeps every slot busy, whatever the server costs. */
        double slots = (double)sc->in_flight * sc->batch / mean;
        printf("  slot utilisation: %.1f%% of %d x %d / %.1f ms\n", 100.0 * rate / slots,
               sc->in_flight, sc->batch, mean * 1000);
    }
    fflush(stdout);
    tcb_uploader_destroy(up);
    tcb_metrics_destroy(metrics);
    tcb_config_destroy(cfg);
    kill(emu, SIGTERM);
    waitpid(emu, NULL, 0);
    return timed_out ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *binary = getenv("TCB_BIN_DIR") ? NULL : TCB_EMULATOR_PATH;
    char path[512];
    if (!binary) {
        snprintf(path, sizeof(path), "%s/clevertap-emulator", getenv("TCB_BIN_DIR"));
        binary = path;
    }
    long records = argc > 1 ? strtol(argv[1], NULL, 10) : 500000;
    if (records <= 0) {
        fprintf(stderr, "usage: %s [RECORDS]  (env TCB_BIN_DIR: where clevertap-emulator is)\n",
                argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcb_log_setup("bench-uploader", TCB_LOG_WARN, TCB_LOG_FORMAT_LOGFMT);
    printf("command: %s %ld  (emulator: %s)\n", argv[0], records, binary);
    const struct scenario scenarios[] = {
        {.records = records, .latency_ms = 0, .in_flight = 15, .batch = 1000, .keys = 100000},
        {.records = records, .latency_ms = 300, .in_flight = 15, .batch = 1000, .keys = 100000},
        /* colliding keys: 1,000 profiles, each with many records queued at once */
        {.records = records, .latency_ms = 0, .in_flight = 15, .batch = 1000, .keys = 1000},
        {.records = records / 10, .latency_ms = 300, .in_flight = 15, .batch = 1000, .keys = 1000},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        rc |= run_scenario(binary, &scenarios[i]);
    }
    curl_global_cleanup();
    return rc ? 1 : 0;
}
