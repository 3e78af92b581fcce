/* Parses and applies kafka-dev-broker's stdin control commands. Answers go
 * to a caller buffer; nothing here reads stdin, writes stdout or exits. */
#include "tools/kafka-dev-broker/dev_broker_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS   66
#define MAX_ERRORS 64

static int parse_int(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < min || value > max) {
        return -1;
    }
    *out = value;
    return 0;
}

rd_kafka_resp_err_t tcb_dev_broker_topic(rd_kafka_mock_cluster_t *mc, int broker_count,
                                         const char *name, int partitions)
{
    int replication = broker_count < 3 ? broker_count : 3;
    return rd_kafka_mock_topic_create(mc, name, partitions, replication);
}

/* Runs a parsed command; returns -1 for a usage error. */
static int run(rd_kafka_mock_cluster_t *mc, int broker_count, int argc, char **argv,
               rd_kafka_resp_err_t *err)
{
    long a = 0;
    long b = 0;
    const char *cmd = argv[0];
    if (strcmp(cmd, "down") == 0 && argc == 2 && parse_int(argv[1], 1, broker_count, &a) == 0) {
        *err = rd_kafka_mock_broker_set_down(mc, (int32_t)a);
    } else if (strcmp(cmd, "up") == 0 && argc == 2 &&
               parse_int(argv[1], 1, broker_count, &a) == 0) {
        *err = rd_kafka_mock_broker_set_up(mc, (int32_t)a);
    } else if (strcmp(cmd, "topic") == 0 && argc == 3 && parse_int(argv[2], 1, 10000, &a) == 0) {
        *err = tcb_dev_broker_topic(mc, broker_count, argv[1], (int)a);
    } else if (strcmp(cmd, "leader") == 0 && argc == 4 && parse_int(argv[2], 0, 100000, &a) == 0 &&
               parse_int(argv[3], -1, broker_count, &b) == 0) {
        *err = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)a, (int32_t)b);
    } else if (strcmp(cmd, "rtt") == 0 && argc == 3 &&
               parse_int(argv[1], 1, broker_count, &a) == 0 &&
               parse_int(argv[2], 0, 600000, &b) == 0) {
        *err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
    } else if (strcmp(cmd, "clear") == 0 && argc == 2 && parse_int(argv[1], 0, 32767, &a) == 0) {
        rd_kafka_mock_clear_request_errors(mc, (int16_t)a);
    } else if (strcmp(cmd, "err") == 0 && argc >= 3 && argc - 2 <= MAX_ERRORS &&
               parse_int(argv[1], 0, 32767, &a) == 0) {
        rd_kafka_resp_err_t errors[MAX_ERRORS];
        for (int i = 2; i < argc; i++) {
            if (parse_int(argv[i], -200, 32767, &b) != 0) {
                return -1;
            }
            errors[i - 2] = (rd_kafka_resp_err_t)b;
        }
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)(argc - 2), errors);
    } else {
        return -1;
    }
    return 0;
}

int tcb_dev_broker_command(rd_kafka_mock_cluster_t *mc, int broker_count, char *line, char *reply,
                           size_t reply_len)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok && argc < MAX_ARGS;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        argv[argc++] = tok;
    }
    if (argc == 0) {
        reply[0] = '\0';
        return 0;
    }
    if (strcmp(argv[0], "quit") == 0) {
        snprintf(reply, reply_len, "OK quit\n");
        return 1;
    }
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (run(mc, broker_count, argc, argv, &err) != 0) {
        snprintf(reply, reply_len, "ERR %s: bad command or arguments (try --help)\n", argv[0]);
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(reply, reply_len, "ERR %s: %s\n", argv[0], rd_kafka_err2name(err));
    } else {
        snprintf(reply, reply_len, "OK %s\n", argv[0]);
    }
    return 0;
}
