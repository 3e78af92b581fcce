/* clevertap-sink's entry point: command line, configuration, signals, and the
 * choice between --transform (offline transform + validation), --replay-dlq
 * (dead letters back onto the topic) and the consumer daemon. It owns process
 * exit codes and nothing else. */
#include "common/daemon_cli.h"
#include "common/log.h"
#include "common/signals.h"
#include "config/config.h"
#include "consumer/dlq_replay.h"
#include "consumer/sink.h"
#include "consumer/transform_cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char program[] = "clevertap-sink";
static const char summary[] =
    "Consumes Talon.One webhooks from Kafka, transforms and validates them into CleverTap\n"
    "records, uploads them in batches per account, and commits offsets only after success.";

struct sink_args {
    const char *transform_path;
    const char *replay;
    const char *stage;
    const char *code;
    const char *limit;
    const char *dry_run;
};

/* Reads a non-negative whole number option; returns 0 or -1 (printed). */
static int number_arg(const char *name, const char *text, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || value < 0 || value > max) {
        fprintf(stderr, "%s: --%s takes a whole number from 0 to %ld\n", program, name, max);
        return -1;
    }
    *out = value;
    return 0;
}

static int replay_options(const struct sink_args *a, struct tcb_replay_options *opts)
{
    static const char *const stages[] = {"transform", "validation", "rejected", "exhausted"};
    memset(opts, 0, sizeof(*opts));
    opts->stage = a->stage;
    opts->dry_run = a->dry_run != NULL;
    int known = a->stage == NULL;
    for (size_t i = 0; !known && i < sizeof(stages) / sizeof(stages[0]); i++) {
        known = strcmp(a->stage, stages[i]) == 0;
    }
    if (!known) {
        fprintf(stderr, "%s: --stage is one of transform, validation, rejected, exhausted\n",
                program);
        return -1;
    }
    long code = 0;
    if (a->code && number_arg("code", a->code, 999999, &code) != 0) {
        return -1;
    }
    opts->code = (int)code;
    opts->has_code = a->code != NULL;
    return a->limit ? number_arg("limit", a->limit, 1000000000L, &opts->limit) : 0;
}

static int run_daemon(const struct tcb_config *cfg)
{
    if (tcb_signals_install() != 0) {
        TCB_ERROR("sink.signals", "cannot install signal handlers");
        return TCB_EXIT_RUNTIME;
    }
    char err[512] = "";
    struct tcb_sink *sink = tcb_sink_create(cfg, err, sizeof(err));
    if (!sink) {
        TCB_ERROR("sink.start", "%s", err);
        return TCB_EXIT_RUNTIME;
    }
    int rc = tcb_sink_run(sink) == 0 ? TCB_EXIT_OK : TCB_EXIT_RUNTIME;
    tcb_sink_destroy(sink);
    TCB_INFO("sink.stopped", "exit %d", rc);
    return rc;
}

int main(int argc, char **argv)
{
    tcb_daemon_setup_allocators();
    struct sink_args a = {0};
    const struct tcb_cli_option extra[] = {
        {"transform", 1, &a.transform_path,
         "run only transform + validation over FILE (one message value a line, - = stdin)"},
        {"replay-dlq", 0, &a.replay, "put dead letters back onto kafka.topic, then exit"},
        {"stage", 1, &a.stage, "with --replay-dlq: only this stage (transform, validation, ...)"},
        {"code", 1, &a.code, "with --replay-dlq: only this CleverTap code"},
        {"limit", 1, &a.limit, "with --replay-dlq: at most N dead letters"},
        {"dry-run", 0, &a.dry_run, "with --replay-dlq: list them, change nothing"},
    };
    const int extra_count = (int)(sizeof(extra) / sizeof(extra[0]));
    struct tcb_daemon_args args;
    if (tcb_daemon_args_parse(argc, argv, program, summary, extra, extra_count, &args) != 0) {
        return TCB_EXIT_USAGE;
    }
    if (args.show_help) {
        tcb_daemon_print_help(program, summary, extra, extra_count);
        return TCB_EXIT_OK;
    }
    if (args.show_version) {
        printf("%s %s\n", program, TCB_VERSION);
        return TCB_EXIT_OK;
    }
    struct tcb_replay_options replay;
    if ((a.stage || a.code || a.limit || a.dry_run) && !a.replay) {
        fprintf(stderr, "%s: --stage, --code, --limit and --dry-run go with --replay-dlq\n",
                program);
        return TCB_EXIT_USAGE;
    }
    if (a.replay && replay_options(&a, &replay) != 0) {
        return TCB_EXIT_USAGE;
    }
    int exit_now = 0;
    struct tcb_config *cfg = tcb_daemon_load_config(&args, program, &exit_now);
    if (!cfg) {
        return TCB_EXIT_USAGE;
    }
    int rc = TCB_EXIT_OK;
    if (exit_now) {
        rc = TCB_EXIT_OK;
    } else if (a.transform_path) {
        rc = tcb_transform_cli_run(cfg, a.transform_path, stdout);
    } else if (a.replay) {
        rc = tcb_dlq_replay(cfg, &replay, stdout);
    } else {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = run_daemon(cfg);
        curl_global_cleanup();
    }
    tcb_config_destroy(cfg);
    return rc;
}
