/* clevertap-sink's entry point: command line, configuration, signals, and the
 * choice between --transform (offline transform + validation) and the
 * consumer daemon. It owns process exit codes and nothing else. */
#include "common/daemon_cli.h"
#include "common/log.h"
#include "common/signals.h"
#include "config/config.h"
#include "consumer/transform_cli.h"

#include <stdio.h>

static const char program[] = "clevertap-sink";
static const char summary[] =
    "Consumes Talon.One webhooks from Kafka, transforms and validates them into CleverTap\n"
    "records, uploads them in batches per account, and commits offsets only after success.";

int main(int argc, char **argv)
{
    const char *transform_path = NULL;
    const struct tcb_cli_option extra[] = {
        {"transform", 1, &transform_path,
         "run only transform + validation over FILE (one message value a line, - = stdin)"},
    };
    const int extra_count = (int)(sizeof(extra) / sizeof(extra[0]));
    tcb_daemon_setup_allocators();
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
    int exit_now = 0;
    struct tcb_config *cfg = tcb_daemon_load_config(&args, program, &exit_now);
    if (!cfg) {
        return TCB_EXIT_USAGE;
    }
    int rc = TCB_EXIT_OK;
    if (exit_now) {
        goto out;
    }
    if (transform_path) {
        rc = tcb_transform_cli_run(cfg, transform_path, stdout);
        goto out;
    }
    if (tcb_signals_install() != 0) {
        TCB_ERROR("sink.signals", "cannot install signal handlers");
        rc = TCB_EXIT_RUNTIME;
        goto out;
    }
    /* The consumer-group loop (Kafka -> transform -> upload -> commit) is the
     * next issue; until it lands the daemon refuses to start rather than
     * pretend to consume. */
    TCB_ERROR("sink.not_built",
              "the consumer-group loop is not built yet: use --check-config or --transform");
    rc = TCB_EXIT_RUNTIME;
out:
    tcb_config_destroy(cfg);
    return rc;
}
