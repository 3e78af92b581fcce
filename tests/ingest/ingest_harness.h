/* Test harness for talon-ingest's integration tests: runs kafka-dev-broker
 * and talon-ingest as real processes on loopback, talks HTTP to the daemon
 * with libcurl and reads the topic back with librdkafka (assign, no group).
 * Test-only code: it aborts the test through cmocka on setup failures. */
#ifndef TCB_TESTS_INGEST_HARNESS_H
#define TCB_TESTS_INGEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HARNESS_MAX_PARTITIONS 16

struct harness_broker {
    pid_t pid;
    int control_fd; /* its stdin */
    int reply_fd;   /* its stdout */
    char bootstrap[256];
};

struct harness_ingest {
    pid_t pid;
    int port; /* read back from --port-file once listening */
    int ops_port;
    char config_path[512];
    char log_path[512];
    char port_path[512];
    int exit_code; /* set when harness_ingest_start saw it exit */
};

/* One consumed message; strings are NUL-terminated copies. */
struct harness_msg {
    int32_t partition;
    char *key; /* NULL when the message had no key */
    char *value;
    char *account; /* header values, NULL when absent */
    char *request_id;
    char *record_index;
    char *received_at;
};

/* A new temporary directory for a test run (static storage). */
const char *harness_tmpdir(void);
/* Removes the temporary directory and the files in it. */
void harness_tmpdir_remove(void);

/* Starts kafka-dev-broker with one topic "NAME:PARTITIONS". Returns 0 or -1. */
int harness_broker_start(struct harness_broker *broker, const char *topic_spec);
/* Sends one control command and returns 1 when it answered OK, else 0. */
int harness_broker_command(struct harness_broker *broker, const char *command);
void harness_broker_stop(struct harness_broker *broker);

/* Writes yaml to a config file and starts talon-ingest with stderr to a log
 * file and --port-file; yaml should listen on port 0 for both listeners (no
 * port is ever picked here and handed over: that races under parallel
 * tests). Reads the bound ports into ingest->port and ingest->ops_port, then
 * waits until /healthz answers. Returns 0 or -1. */
int harness_ingest_start(struct harness_ingest *ingest, const char *name, const char *yaml);
/* Sends sig and waits for the process; returns its exit status, 128+signal
 * when killed by a signal, or -1 when it did not end within 30 s. */
int harness_ingest_stop(struct harness_ingest *ingest, int sig);

/* HTTP request to 127.0.0.1:port. headers: NULL-terminated "Name: value"
 * strings (may be NULL). body may be NULL (GET). The response body goes to
 * response[0..response_len) (NUL-terminated). Returns the status or -1. */
int harness_http(int port, const char *method, const char *path, const char *const *headers,
                 const char *body, size_t body_len, char *response, size_t response_len);

/* POST body (a NUL-terminated string) to the daemon's webhook port; as
 * harness_http. */
int harness_post(const struct harness_ingest *ingest, const char *path, const char *const *headers,
                 const char *body, char *response, size_t response_len);

/* Stops the daemon (SIGTERM) and the broker when they run, and removes the
 * temporary directory unless TCB_KEEP_TEST_FILES is set (to read the
 * daemon logs). */
void harness_teardown(struct harness_ingest *ingest, struct harness_broker *broker);

/* Writes each partition's high watermark into highs; returns the partition
 * count or -1. */
int harness_watermarks(const char *bootstrap, const char *topic, int64_t *highs);

/* Reads the topic from offsets from[] (NULL = beginning) until every
 * partition reached its end and at least want messages came, or 20 s passed.
 * Returns a new array (free with harness_msgs_free) and its size in *count. */
struct harness_msg *harness_consume(const char *bootstrap, const char *topic, const int64_t *from,
                                    size_t want, size_t *count);
void harness_msgs_free(struct harness_msg *msgs, size_t count);

/* A raw TCP connection to 127.0.0.1:port (for clients curl cannot play);
 * the socket, or -1. */
int harness_connect(int port);

/* Reads from fd until the peer closes, at most timeout_ms in all, into
 * buf[0..cap) (NUL-terminated). Returns the byte count, or -1 when the peer
 * was still open at the deadline. */
long harness_read_to_close(int fd, char *buf, size_t cap, int timeout_ms);

/* A "Name:" value of /proc/PID/status in KiB (VmRSS:, VmHWM:), or -1. */
long harness_proc_kib(pid_t pid, const char *name);

/* 1 when the file at path contains needle. */
int harness_file_contains(const char *path, const char *needle);

#endif
