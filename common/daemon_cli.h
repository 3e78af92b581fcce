/* The command line both daemons share: --help, --version, --config PATH,
 * --check-config, plus daemon-specific options handed back to the caller.
 * Exit codes follow design.md: 0 clean, 1 runtime failure, 2 usage/config. */
#ifndef TCB_COMMON_DAEMON_CLI_H
#define TCB_COMMON_DAEMON_CLI_H

enum { TCB_EXIT_OK = 0, TCB_EXIT_RUNTIME = 1, TCB_EXIT_USAGE = 2 };

struct tcb_config;

struct tcb_daemon_args {
    const char *config_path; /* borrowed from argv; NULL = embedded defaults */
    int check_config;        /* --check-config given */
    int show_help;
    int show_version;
};

/* One extra option a daemon accepts: "--name VALUE" (takes_value) or "--name".
 * When seen, *value_out is set to the value (borrowed from argv) or to "1". */
struct tcb_cli_option {
    const char *name;
    int takes_value;
    const char **value_out;
    const char *help; /* one line for --help */
};

/* Applies the out-of-memory policy (util/alloc.h) to third-party allocators
 * that support it (jansson), so they abort instead of returning NULL, and
 * lets a thread give jansson a bump arena for a while (common/json_arena.h).
 * Call first thing in main, before any thread starts. */
void tcb_daemon_setup_allocators(void);

/* Parses argv. extra is an array of extra_count options (may be NULL).
 * Returns 0, or -1 after printing the problem and usage to stderr (exit 2). */
int tcb_daemon_args_parse(int argc, char **argv, const char *program, const char *summary,
                          const struct tcb_cli_option *extra, int extra_count,
                          struct tcb_daemon_args *args);

/* Prints usage to stdout for --help. */
void tcb_daemon_print_help(const char *program, const char *summary,
                           const struct tcb_cli_option *extra, int extra_count);

/* Loads args->config_path (or the embedded defaults), prints every problem as
 * PATH:LINE:COL: message on stderr. With --check-config prints "PATH: ok" and
 * sets *exit_now. Returns a new config, or NULL (the caller exits 2).
 * Also applies the log section to the logger. */
struct tcb_config *tcb_daemon_load_config(const struct tcb_daemon_args *args, const char *program,
                                          int *exit_now);

#endif
