/* clevertap-emulator: parses the command line, starts the server, writes the
 * port file, waits for SIGTERM/SIGINT and stops cleanly. The only place that
 * exits: 0 clean stop, 1 runtime failure, 2 usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/daemon_cli.h"
#include "common/log.h"
#include "common/net_address.h"
#include "common/signals.h"
#include "tools/clevertap-emulator/emulator_options.h"
#include "tools/clevertap-emulator/emulator_server.h"

#define PROGRAM "clevertap-emulator"

enum { EXIT_CLEAN = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static int usage_error(const char *message)
{
    fprintf(stderr, "%s: %s\nTry '%s --help'.\n", PROGRAM, message, PROGRAM);
    return EXIT_USAGE;
}

/* Writes the port to path atomically (temp file + rename), so a reader never
 * sees a partial number. Returns 0 or -1. */
static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return -1;
    }
    int ok = fprintf(f, "%d\n", port) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static uint64_t pick_seed(const struct tcb_emu_options *opts)
{
    if (opts->seed_given) {
        return opts->seed;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return ((uint64_t)now.tv_sec * 1000000007ULL) ^ (uint64_t)now.tv_nsec ^
           ((uint64_t)getpid() << 32);
}

static int setup_logging(const struct tcb_emu_options *opts)
{
    enum tcb_log_level level;
    enum tcb_log_format format;
    if (tcb_log_level_parse(opts->log_level, &level) != 0 ||
        tcb_log_format_parse(opts->log_format, &format) != 0) {
        return -1;
    }
    tcb_log_setup(PROGRAM, level, format);
    return 0;
}

static int serve(const struct tcb_emu_options *opts, const struct sockaddr_storage *addr,
                 socklen_t addr_len)
{
    char err[512];
    uint64_t seed = pick_seed(opts);
    struct tcb_emu_server *server =
        tcb_emu_server_start(opts, addr, addr_len, seed, err, sizeof(err));
    if (!server) {
        TCB_ERROR("emulator.start_failed", "%s", err);
        return EXIT_RUNTIME;
    }
    int port = tcb_emu_server_port(server);
    if (opts->port_file && write_port_file(opts->port_file, port) != 0) {
        TCB_ERROR("emulator.port_file_failed", "cannot write port file %s", opts->port_file);
        tcb_emu_server_stop(server);
        return EXIT_RUNTIME;
    }
    TCB_INFO("emulator.ready",
             "listening on %s (port %d, %s), %d account(s), seed %llu, latency %d+%d ms, "
             "max %d concurrent per account",
             opts->listen, port, opts->tls_cert ? "https" : "http", opts->accounts.count,
             (unsigned long long)seed, opts->faults.latency_ms, opts->faults.latency_jitter_ms,
             opts->max_concurrent);
    while (!tcb_signals_stop_requested()) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    char *stats = tcb_emu_server_stats(server);
    tcb_emu_server_stop(server);
    TCB_INFO("emulator.stopped", "stats %s", stats ? stats : "{}");
    free(stats);
    return EXIT_CLEAN;
}

int main(int argc, char **argv)
{
    tcb_daemon_setup_allocators();
    struct tcb_emu_options opts;
    char err[512];
    if (tcb_emu_options_parse(argc, argv, &opts, err, sizeof(err)) != 0) {
        return usage_error(err);
    }
    if (opts.show_help) {
        fputs(tcb_emu_options_usage(), stdout);
        return EXIT_CLEAN;
    }
    if (opts.show_version) {
        printf("%s %s\n", PROGRAM, TCB_VERSION);
        return EXIT_CLEAN;
    }
    if (setup_logging(&opts) != 0) {
        return usage_error("--log-level must be debug|info|warn|error, --log-format json|logfmt");
    }
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (tcb_net_parse_listen(opts.listen, &addr, &addr_len, err, sizeof(err)) != 0) {
        return usage_error(err);
    }
    if (tcb_signals_install() != 0) {
        TCB_ERROR("emulator.signals_failed", "cannot install signal handlers");
        return EXIT_RUNTIME;
    }
    return serve(&opts, &addr, addr_len);
}
