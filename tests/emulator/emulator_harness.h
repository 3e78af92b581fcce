/* Test harness for the real clevertap-emulator binary, shared by the
 * emulator's and the uploader's tests: starts it on 127.0.0.1 (port 0 +
 * --port-file, or a fixed port to restart it) in a temporary directory, sends
 * requests with libcurl, stops it with SIGTERM. Loopback only. */
#ifndef TCB_TESTS_EMULATOR_HARNESS_H
#define TCB_TESTS_EMULATOR_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* The accounts every harness emulator accepts. */
#define TCB_TEST_ACCOUNT_1  "W9R-ABC-123Z"
#define TCB_TEST_PASSCODE_1 "pass-one"
#define TCB_TEST_ACCOUNT_2  "TEST-XYZ-9999"
#define TCB_TEST_PASSCODE_2 "pass-two"

struct tcb_test_emu {
    pid_t pid;
    int port;
    char dir[128];         /* temporary directory, removed by stop */
    char record_path[192]; /* the --record file inside dir */
};

struct tcb_test_reply {
    long status;   /* HTTP status; 0 when no answer */
    int curl_code; /* CURLcode of the transfer */
    char *body;    /* NUL-terminated, owned; free with tcb_test_reply_free */
    size_t body_len;
    char content_type[128];
};

/* Path of the binary: $TCB_BIN_DIR/clevertap-emulator (static buffer). */
/* Forks and execs argv (argv[0] a path); the child's output goes to log_path
 * (never to ctest's pipe, which a leaked child would hold open), or to
 * /dev/null when NULL, and it dies with the test (PR_SET_PDEATHSIG). Returns
 * the child's pid, or -1 when fork failed. */
pid_t tcb_test_spawn(const char *const *argv, const char *log_path);
const char *tcb_test_emu_binary(void);

/* Fills args[0..cap) with both test accounts, a warn log level and extra
 * (NULL-terminated, may be NULL), NULL-terminated; strings are borrowed. */
void tcb_test_emu_account_args(const char *const *extra, const char **args, size_t cap);

/* Starts the emulator with both test accounts, --record and the extra
 * arguments (NULL-terminated, may be NULL). Returns 0 once it serves, -1 when
 * it could not start (it is then not running). */
int tcb_test_emu_start(struct tcb_test_emu *emu, const char *const *extra_args);
/* Starts the binary on 127.0.0.1:port (0 = any) with --port-file and --record
 * in emu->dir (made on first use, kept across restarts so the record file
 * survives) and args (NULL-terminated, may be NULL); its output goes to
 * emu->dir/emulator.log. Returns 0 once it serves, -1 when it did not start
 * (it is then not running and its log was copied to stderr). */
int tcb_test_emu_launch(struct tcb_test_emu *emu, int port, const char *const *args);
/* Sends signo and waits (SIGKILL after 30 s); keeps the directory. Returns the
 * exit status, or -1 when it died by a signal, had to be killed or was not running. */
int tcb_test_emu_halt(struct tcb_test_emu *emu, int signo);
/* Removes the directory and the files in it; accepts a never-started emu. */
void tcb_test_emu_cleanup(struct tcb_test_emu *emu);
/* Copies the emulator's output (emu->dir/emulator.log) to stderr. */
void tcb_test_emu_print_log(const struct tcb_test_emu *emu);

/* SIGTERM, wait, remove the directory. Returns the exit status (0 = clean),
 * or -1 when it died by a signal or had to be killed. */
int tcb_test_emu_stop(struct tcb_test_emu *emu);
/* The same with another signal (SIGINT). */
int tcb_test_emu_stop_with(struct tcb_test_emu *emu, int signo);

/* POSTs body to /1/upload with the given credentials (NULL = header left out).
 * timeout_ms 0 = 60 s. Returns 0 when the exchange finished (reply filled,
 * even with an HTTP error or a transport error in curl_code). */
int tcb_test_emu_post(const struct tcb_test_emu *emu, const char *account, const char *passcode,
                      const char *body, long timeout_ms, struct tcb_test_reply *reply);
/* GETs path. Same results as tcb_test_emu_post. */
int tcb_test_emu_get(const struct tcb_test_emu *emu, const char *path,
                     struct tcb_test_reply *reply);
/* GET /stats parsed (new reference), or NULL. */
json_t *tcb_test_emu_stats(const struct tcb_test_emu *emu);
/* Reads a JSON integer at a '/'-separated path in stats ("status/200"); -1
 * when missing. */
long long tcb_test_stat(const json_t *stats, const char *path);

void tcb_test_reply_free(struct tcb_test_reply *reply);

/* Runs the binary with args (NULL-terminated), output discarded; returns its
 * exit status or -1. */
int tcb_test_emu_run(const char *const *args);

#endif
