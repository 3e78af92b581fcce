/* kafka-dev-broker: hosts librdkafka's mock cluster in its own process,
 * announces the bootstrap string (stdout and a file), serves stdin control
 * commands and stops cleanly on SIGTERM/SIGINT. In-memory, for development
 * and tests only: it never persists anything and is no production broker. */
#include "common/signals.h"
#include "tools/kafka-dev-broker/dev_broker_commands.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROGRAM     "kafka-dev-broker"
#define MAX_TOPICS  64
#define MAX_BROKERS 16
#define LINE_MAX_   1024

struct options {
    const char *bootstrap_file;
    int brokers;
    const char *topics[MAX_TOPICS];
    int topic_count;
    int help;
    int version;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: " PROGRAM " --bootstrap-file PATH [--brokers N] [--topic NAME:PARTITIONS]...\n"
            "\n"
            "Runs librdkafka's in-memory mock Kafka cluster (librdkafka %s) as a process for\n"
            "development, the demo and tests. Prints BOOTSTRAP=host:port[,...] on stdout and\n"
            "writes the same bootstrap string to PATH once serving; runs until SIGTERM/SIGINT\n"
            "(exit 0).\n"
            "\n"
            "  --bootstrap-file PATH   where to write the bootstrap string (atomically)\n"
            "  --brokers N             brokers in the cluster, 1..%d (default 1)\n"
            "  --topic NAME:PARTITIONS create a topic (repeatable, up to %d)\n"
            "  --help, --version\n"
            "\n"
            "Control commands, one per line on stdin (answer: OK ... or ERR ... on stdout);\n"
            "end of stdin keeps the cluster running:\n" TCB_DEV_BROKER_COMMAND_HELP "\n"
            "Limits of the mock cluster (librdkafka 2.0.2), know them before trusting a test:\n"
            "  * never for production: in memory, one thread, at most about 5 MiB or 100000\n"
            "    messages kept per partition; not a benchmark target for Kafka itself;\n"
            "  * ports are random on every start: read the bootstrap string, never guess it;\n"
            "  * topic auto-creation is always on: any unknown topic a client names gets 4\n"
            "    partitions (create yours with --topic first); no Admin API (CreateTopics,\n"
            "    ListGroups, DescribeGroups);\n"
            "  * a downed broker's partitions do not fail over: use `leader` to move them;\n"
            "  * consumer groups: the first join waits 3 s and every rejoin\n"
            "    session.timeout.ms - 1 s; use session.timeout.ms=6000 (below ~4000 the first\n"
            "    join never completes) and prefer assign() in tests.\n",
            rd_kafka_version_str(), MAX_BROKERS, MAX_TOPICS);
}

static int parse_args(int argc, char **argv, struct options *opt)
{
    opt->brokers = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0) {
            opt->help = 1;
        } else if (strcmp(arg, "--version") == 0) {
            opt->version = 1;
        } else if (value && strcmp(arg, "--bootstrap-file") == 0) {
            opt->bootstrap_file = value;
            i++;
        } else if (value && strcmp(arg, "--brokers") == 0) {
            char *end = NULL;
            long n = strtol(value, &end, 10);
            if (*end != '\0' || n < 1 || n > MAX_BROKERS) {
                fprintf(stderr, PROGRAM ": --brokers must be 1..%d\n", MAX_BROKERS);
                return -1;
            }
            opt->brokers = (int)n;
            i++;
        } else if (value && strcmp(arg, "--topic") == 0 && opt->topic_count < MAX_TOPICS) {
            opt->topics[opt->topic_count++] = value;
            i++;
        } else {
            fprintf(stderr,
                    PROGRAM ": unknown or incomplete option %s\nTry '" PROGRAM " --help'.\n", arg);
            return -1;
        }
    }
    if (!opt->help && !opt->version && opt->bootstrap_file == NULL) {
        fprintf(stderr, PROGRAM ": --bootstrap-file is required\nTry '" PROGRAM " --help'.\n");
        return -1;
    }
    return 0;
}

/* "NAME:PARTITIONS" -> topic; returns 0 or -1 after printing the problem. */
static int create_topic(rd_kafka_mock_cluster_t *mc, int brokers, const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char *end = NULL;
    long partitions = colon ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == spec || *end != '\0' || partitions < 1 || partitions > 10000) {
        fprintf(stderr, PROGRAM ": --topic wants NAME:PARTITIONS, got '%s'\n", spec);
        return -1;
    }
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(colon - spec), spec);
    rd_kafka_resp_err_t err = tcb_dev_broker_topic(mc, brokers, name, (int)partitions);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, PROGRAM ": topic %s: %s\n", name, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/* Writes PATH.tmp then renames it, so readers never see a partial string. */
static int write_bootstrap(const char *path, const char *bootstrap)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    int bad = fprintf(f, "%s\n", bootstrap) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Reads what stdin has and runs each complete line. Returns 1 on quit,
 * -1 on end of input, 0 otherwise. */
static int serve_stdin(rd_kafka_mock_cluster_t *mc, int brokers, char *line, size_t *used)
{
    ssize_t n = read(STDIN_FILENO, line + *used, LINE_MAX_ - 1 - *used);
    if (n < 0) {
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    }
    if (n == 0) {
        return -1;
    }
    *used += (size_t)n;
    char *newline;
    while ((newline = memchr(line, '\n', *used)) != NULL) {
        *newline = '\0';
        size_t consumed = (size_t)(newline - line) + 1;
        char reply[512];
        int quit = tcb_dev_broker_command(mc, brokers, line, reply, sizeof(reply));
        fputs(reply, stdout);
        fflush(stdout);
        memmove(line, newline + 1, *used - consumed);
        *used -= consumed;
        if (quit) {
            return 1;
        }
    }
    if (*used == LINE_MAX_ - 1) {
        *used = 0; /* an over-long line is dropped */
    }
    return 0;
}

static int serve(rd_kafka_mock_cluster_t *mc, int brokers)
{
    char line[LINE_MAX_];
    size_t used = 0;
    int stdin_open = 1;
    while (!tcb_signals_stop_requested()) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int ready = poll(&pfd, stdin_open ? 1 : 0, 200);
        if (ready <= 0 || !stdin_open) {
            continue;
        }
        int rc = serve_stdin(mc, brokers, line, &used);
        if (rc == 1) {
            return 0;
        }
        if (rc < 0) {
            stdin_open = 0;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options opt = {0};
    if (parse_args(argc, argv, &opt) != 0) {
        return 2;
    }
    if (opt.help) {
        usage(stdout);
        return 0;
    }
    if (opt.version) {
        printf(PROGRAM " %s (librdkafka %s)\n", TCB_VERSION, rd_kafka_version_str());
        return 0;
    }
    if (tcb_signals_install() != 0) {
        perror(PROGRAM ": signals");
        return 1;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "client.id", PROGRAM, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err)); /* no "no bootstrap" notice */
    /* The mock's broker sockets take this handle's settings: TCP_NODELAY, as a
     * real Kafka broker sets it; with Nagle on, its small responses stall
     * behind delayed ACKs (tens of ms p99 for low-linger producers). */
    rd_kafka_conf_set(conf, "socket.nagle.disable", "true", err, sizeof(err));
    /* This handle only hosts the cluster; it never connects anywhere. */
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    int rc = 1;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, opt.brokers);
    if (mc == NULL) {
        fprintf(stderr, PROGRAM ": cannot create the mock cluster\n");
        goto out;
    }
    for (int i = 0; i < opt.topic_count; i++) {
        if (create_topic(mc, opt.brokers, opt.topics[i]) != 0) {
            rc = 2;
            goto out;
        }
    }
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    if (write_bootstrap(opt.bootstrap_file, bootstrap) != 0) {
        fprintf(stderr, PROGRAM ": cannot write %s: %s\n", opt.bootstrap_file, strerror(errno));
        goto out;
    }
    printf("BOOTSTRAP=%s\n", bootstrap);
    fflush(stdout);
    rc = serve(mc, opt.brokers);
out:
    if (mc) {
        rd_kafka_mock_cluster_destroy(mc);
    }
    rd_kafka_destroy(rk);
    return rc;
}
