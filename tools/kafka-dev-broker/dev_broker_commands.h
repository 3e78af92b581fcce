/* kafka-dev-broker's control channel: one text command per stdin line
 * (broker down/up, topic creation, leader moves, error injection) applied to
 * the mock cluster, one "OK ..." or "ERR ..." answer line each. It never
 * touches the process lifetime except by asking to quit. */
#ifndef TCB_TOOLS_DEV_BROKER_COMMANDS_H
#define TCB_TOOLS_DEV_BROKER_COMMANDS_H

#include <librdkafka/rdkafka.h>
/* rdkafka_mock.h must follow rdkafka.h */
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>

#define TCB_DEV_BROKER_COMMAND_HELP                                                                \
    "  down ID                    take broker ID down (connections refused/closed)\n"              \
    "  up ID                      bring broker ID back\n"                                          \
    "  topic NAME PARTITIONS      create a topic (replication = min(brokers, 3))\n"                \
    "  leader TOPIC PARTITION ID  move a partition's leader to broker ID\n"                        \
    "  rtt ID MS                  add MS of round-trip delay to broker ID\n"                       \
    "  err APIKEY CODE [CODE...]  fail the next requests of APIKEY with these error codes\n"       \
    "  clear APIKEY               drop injected errors for APIKEY\n"                               \
    "  quit                       stop (like SIGTERM)\n"

/* Runs one command line (NUL-terminated, without the newline) against mc.
 * Writes the answer line (with newline) into reply[0..reply_len).
 * Returns 1 when the command asks the process to quit, else 0. */
int tcb_dev_broker_command(rd_kafka_mock_cluster_t *mc, int broker_count, char *line, char *reply,
                           size_t reply_len);

/* Creates NAME with partitions partitions; returns the librdkafka error. */
rd_kafka_resp_err_t tcb_dev_broker_topic(rd_kafka_mock_cluster_t *mc, int broker_count,
                                         const char *name, int partitions);

#endif
