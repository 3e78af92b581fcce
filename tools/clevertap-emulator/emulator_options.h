/* The clevertap-emulator command line (design.md contract) parsed into one
 * struct. Parsing only: it prints nothing and exits nothing; main() does. */
#ifndef TCB_EMULATOR_OPTIONS_H
#define TCB_EMULATOR_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "tools/clevertap-emulator/emulator_auth.h"
#include "tools/clevertap-emulator/emulator_faults.h"

struct tcb_emu_options {
    const char *listen;      /* borrowed from argv */
    const char *record_path; /* borrowed from argv; NULL = no recording */
    const char *port_file;   /* borrowed from argv; NULL = none */
    const char *log_level;   /* borrowed from argv; default "info" */
    const char *log_format;  /* borrowed from argv; default "json" */
    const char *tls_cert;    /* borrowed from argv; NULL = plain HTTP */
    const char *tls_key;     /* borrowed from argv; set with tls_cert */
    struct tcb_emu_accounts accounts;
    struct tcb_emu_faults_cfg faults;
    uint64_t seed;
    int seed_given;
    int max_concurrent;                  /* per account; default 15 */
    int max_records;                     /* per request; default 1000 */
    int max_properties;                  /* per record; default 100 */
    int max_connections;                 /* default 256 */
    int hang_ms;                         /* how long a hung request is held; default 600000 */
    size_t max_body_bytes;               /* default 16 MiB */
    unsigned long long record_max_bytes; /* default 1 GiB; 0 = no cap */
    int show_help;
    int show_version;
};

/* Parses argv into *opts (defaults first). Returns 0, or -1 with a one-line
 * message in err (the caller prints usage and exits 2). --help and --version
 * only set show_help / show_version; required options are then not checked. */
int tcb_emu_options_parse(int argc, char **argv, struct tcb_emu_options *opts, char *err,
                          size_t err_len);

/* The --help text (a static string). */
const char *tcb_emu_options_usage(void);

#endif
