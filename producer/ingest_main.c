/* talon-ingest: wires the config, the Kafka producer, the webhook server and
 * the operations listener together, reloads the TLS certificate on SIGHUP,
 * waits for SIGTERM/SIGINT or a fatal producer error, then drains in order.
 * Only this file exits. */
#include "common/daemon_cli.h"
#include "common/http_listener.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/signals.h"
#include "config/config.h"
#include "producer/ingest_metrics.h"
#include "producer/ingest_producer.h"
#include "producer/ingest_server.h"

#include <malloc.h>
#include <stdio.h>
#include <time.h>

#define PROGRAM "talon-ingest"
#define SUMMARY                                                                                    \
    "Accepts Talon.One webhooks (CleverTap-compatible POST /1/upload, POST\n"                      \
    "/talon/notifications) and answers 2xx only once Kafka acknowledged every record."
#define STOP_GRACE_MS 2000 /* for answers to reach clients after the drain */
/* Request bodies at or above this size are mmap()ed, so their memory goes
 * back to the system once answered (glibc's threshold otherwise rises to
 * 32 MiB after the first large free, and heaps keep what they grew to). */
#define BODY_MMAP_THRESHOLD (128 * 1024)

static const char *port_file;
static const struct tcb_cli_option options[] = {
    {"port-file", 1, &port_file,
     "once listening, write WEBHOOK_PORT=N and OPS_PORT=N lines to this file"},
};
#define OPTION_COUNT ((int)(sizeof(options) / sizeof(options[0])))

struct ingest {
    struct tcb_config *cfg;
    struct tcb_metrics *registry;
    struct tcb_ingest_metrics metrics;
    struct tcb_ingest_producer *producer;
    struct tcb_ingest_server *server;
    struct tcb_http_listener *ops;
};

static int is_ready(void *ctx, char *why, size_t why_len)
{
    struct ingest *ingest = ctx;
    if (tcb_signals_stop_requested()) { /* draining: take this instance out of rotation */
        snprintf(why, why_len, "shutting down");
        return 0;
    }
    return tcb_ingest_producer_ready(ingest->producer, why, why_len);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int start(struct ingest *ingest)
{
    char err[512] = "";
    ingest->registry = tcb_metrics_create();
    if (ingest->registry == NULL ||
        tcb_ingest_metrics_register(ingest->registry, &ingest->metrics) != 0) {
        TCB_ERROR("ingest.start", "cannot register metrics");
        return -1;
    }
    ingest->producer = tcb_ingest_producer_create(ingest->cfg, &ingest->metrics,
                                                  tcb_ingest_server_on_delivery, err, sizeof(err));
    if (ingest->producer == NULL) {
        TCB_ERROR("ingest.start", "Kafka producer: %s", err);
        return -1;
    }
    ingest->server =
        tcb_ingest_server_start(ingest->cfg, ingest->producer, &ingest->metrics, err, sizeof(err));
    if (ingest->server == NULL) {
        TCB_ERROR("ingest.start", "webhook listener: %s", err);
        return -1;
    }
    ingest->ops = tcb_http_listener_start(ingest->cfg->ingest.metrics_listen, ingest->registry,
                                          is_ready, ingest, err, sizeof(err));
    if (ingest->ops == NULL) {
        TCB_ERROR("ingest.start", "operations listener: %s", err);
        return -1;
    }
    TCB_INFO("ingest.started", "webhooks on port %d (%s), operations on port %d",
             tcb_ingest_server_port(ingest->server),
             tcb_ingest_server_tls(ingest->server) ? "https" : "http",
             tcb_http_listener_port(ingest->ops));
    return 0;
}

/* Writes the bound ports for whoever started us with port 0 (tests):
 * to PATH.tmp, then renamed, so a reader never sees half a file. */
static int write_port_file(const struct ingest *ingest)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "WEBHOOK_PORT=%d\nOPS_PORT=%d\n", tcb_ingest_server_port(ingest->server),
            tcb_http_listener_port(ingest->ops));
    if (fclose(f) != 0 || rename(tmp, port_file) != 0) {
        return -1;
    }
    return 0;
}

static void reload_tls(struct ingest *ingest)
{
    char err[512] = "";
    int rc = tcb_ingest_server_reload_tls(ingest->server, err, sizeof(err));
    if (rc == 0) {
        TCB_INFO("ingest.tls_reloaded", "new TLS handshakes use the reloaded certificate");
    } else if (rc > 0) {
        TCB_INFO("ingest.tls_reloaded", "SIGHUP: no TLS certificate configured, nothing to reload");
    } else {
        TCB_WARN("ingest.tls_reload_failed", "keeping the current certificate: %s", err);
    }
}

/* Stop taking requests, let Kafka acknowledge (or fail) what is queued so
 * that every waiting client gets its answer, then take everything down. */
static void stop(struct ingest *ingest)
{
    tcb_ingest_server_quiesce(ingest->server);
    if (ingest->producer) {
        tcb_ingest_producer_drain(ingest->producer, ingest->cfg->ingest.produce_timeout_ms);
    }
    for (int waited = 0; tcb_ingest_server_waiting(ingest->server) > 0 && waited < STOP_GRACE_MS;
         waited += 10) {
        sleep_ms(10);
    }
    tcb_ingest_server_stop(ingest->server);
    tcb_http_listener_stop(ingest->ops);
    tcb_ingest_producer_destroy(ingest->producer);
    tcb_metrics_destroy(ingest->registry);
}

int main(int argc, char **argv)
{
    tcb_daemon_setup_allocators();
    mallopt(M_MMAP_THRESHOLD, BODY_MMAP_THRESHOLD);
    struct tcb_daemon_args args;
    if (tcb_daemon_args_parse(argc, argv, PROGRAM, SUMMARY, options, OPTION_COUNT, &args) != 0) {
        return TCB_EXIT_USAGE;
    }
    if (args.show_help) {
        tcb_daemon_print_help(PROGRAM, SUMMARY, options, OPTION_COUNT);
        return TCB_EXIT_OK;
    }
    if (args.show_version) {
        printf("%s %s\n", PROGRAM, TCB_VERSION);
        return TCB_EXIT_OK;
    }
    int exit_now = 0;
    struct ingest ingest = {0};
    ingest.cfg = tcb_daemon_load_config(&args, PROGRAM, &exit_now);
    if (ingest.cfg == NULL) {
        return TCB_EXIT_USAGE;
    }
    if (exit_now) {
        tcb_config_destroy(ingest.cfg);
        return TCB_EXIT_OK;
    }
    if (tcb_signals_install() != 0) {
        TCB_ERROR("ingest.start", "cannot install signal handlers");
        tcb_config_destroy(ingest.cfg);
        return TCB_EXIT_RUNTIME;
    }
    int rc = TCB_EXIT_OK;
    if (start(&ingest) != 0) {
        rc = TCB_EXIT_RUNTIME;
    } else if (port_file != NULL && write_port_file(&ingest) != 0) {
        TCB_ERROR("ingest.start", "cannot write the port file");
        rc = TCB_EXIT_RUNTIME;
    } else {
        while (!tcb_signals_stop_requested() && !tcb_ingest_producer_failed(ingest.producer)) {
            if (tcb_signals_take_reload()) {
                reload_tls(&ingest);
            }
            sleep_ms(100);
        }
        if (tcb_ingest_producer_failed(ingest.producer)) {
            rc = TCB_EXIT_RUNTIME;
        }
        TCB_INFO("ingest.stopping", "draining");
    }
    stop(&ingest);
    tcb_config_destroy(ingest.cfg);
    TCB_INFO("ingest.stopped", "exit %d", rc);
    return rc;
}
