/* Command-line parsing for clevertap-emulator with getopt_long: ranges are
 * checked here so the server never sees a bad value. Prints nothing. */
#include "tools/clevertap-emulator/emulator_options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_LISTEN = 256,
    OPT_ACCOUNT,
    OPT_RECORD,
    OPT_LATENCY,
    OPT_JITTER,
    OPT_FAIL_5XX,
    OPT_FAIL_429,
    OPT_FAIL_555,
    OPT_HANG,
    OPT_DROP,
    OPT_MAX_CONCURRENT,
    OPT_SEED,
    OPT_PORT_FILE,
    OPT_MAX_RECORDS,
    OPT_MAX_PROPERTIES,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_BODY,
    OPT_HANG_MS,
    OPT_RECORD_MAX,
    OPT_LOG_LEVEL,
    OPT_LOG_FORMAT,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_HELP,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"record", required_argument, NULL, OPT_RECORD},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"latency-jitter-ms", required_argument, NULL, OPT_JITTER},
    {"fail-5xx", required_argument, NULL, OPT_FAIL_5XX},
    {"fail-429", required_argument, NULL, OPT_FAIL_429},
    {"fail-555", required_argument, NULL, OPT_FAIL_555},
    {"hang", required_argument, NULL, OPT_HANG},
    {"drop", required_argument, NULL, OPT_DROP},
    {"max-concurrent", required_argument, NULL, OPT_MAX_CONCURRENT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"max-records", required_argument, NULL, OPT_MAX_RECORDS},
    {"max-properties", required_argument, NULL, OPT_MAX_PROPERTIES},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
    {"hang-ms", required_argument, NULL, OPT_HANG_MS},
    {"record-max-bytes", required_argument, NULL, OPT_RECORD_MAX},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "Usage: clevertap-emulator --listen HOST:PORT --account ID:PASSCODE [--account ...] [options]\n"
    "A local stand-in for CleverTap's Upload API (POST /1/upload) for development,\n"
    "demos, tests and benchmarks. GET /stats returns counters as JSON.\n"
    "\n"
    "  --listen HOST:PORT        numeric address to listen on; port 0 picks a free port\n"
    "  --account ID:PASSCODE     an accepted account (repeatable, at most 64)\n"
    "  --record PATH             append one NDJSON line per accepted record:\n"
    "                            {\"account\":\"ID\",\"record\":{...}}\n"
    "  --record-max-bytes N      stop recording after N bytes this run (default 1 GiB; 0 = no "
    "cap)\n"
    "  --port-file PATH          write the bound port to PATH once serving\n"
    "  --latency-ms N            add N ms before every upload answer (default 0)\n"
    "  --latency-jitter-ms N     add a uniform 0..N ms more (default 0)\n"
    "  --fail-5xx P              share of requests answered 500 or 503 (0..1)\n"
    "  --fail-429 P              share of requests answered 429 (0..1)\n"
    "  --fail-555 P              share of records reported unprocessed with code 555 (0..1)\n"
    "  --hang P                  share of requests held unanswered for --hang-ms (0..1)\n"
    "  --hang-ms N               how long a hung request is held (default 600000)\n"
    "  --drop P                  share of connections closed without an answer (0..1)\n"
    "  --max-concurrent N        concurrent uploads per account before 429 (default 15)\n"
    "  --max-records N           records per request before 400 (default 1000)\n"
    "  --max-properties N        properties per event/profile (default 100)\n"
    "  --max-body-bytes N        request body cap, larger -> 413 (default 16777216)\n"
    "  --max-connections N       simultaneous connections (default 256)\n"
    "  --seed N                  PRNG seed for fault injection (default: random, logged)\n"
    "  --log-level LEVEL         debug | info | warn | error (default info)\n"
    "  --log-format FORMAT       json | logfmt (default json)\n"
    "  --tls-cert PATH           serve HTTPS with this PEM certificate chain (with --tls-key)\n"
    "  --tls-key PATH            the certificate's PEM private key\n"
    "  --help, --version\n"
    "\n"
    "Fault injection is deterministic given --seed: upload requests are numbered in\n"
    "arrival order and each one's decisions (jitter, drop, hang, 429, 5xx, then one\n"
    "555 draw per record) come from a PRNG seeded with (seed, request number).\n"
    "Exit status: 0 after SIGTERM/SIGINT, 1 runtime failure, 2 usage error.\n";

const char *tcb_emu_options_usage(void)
{
    return usage_text;
}

static int parse_ull(const char *text, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    if (!text || !*text || *text == '-') {
        return -1;
    }
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end != '\0' || value > max) {
        return -1;
    }
    *out = value;
    return 0;
}

static int parse_int(const char *text, int min, int max, int *out)
{
    unsigned long long value;
    if (parse_ull(text, (unsigned long long)max, &value) != 0 || value < (unsigned long long)min) {
        return -1;
    }
    *out = (int)value;
    return 0;
}

static int parse_probability(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(value) || value < 0.0 || value > 1.0) {
        return -1;
    }
    *out = value;
    return 0;
}

static void set_defaults(struct tcb_emu_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->log_level = "info";
    opts->log_format = "json";
    opts->max_concurrent = 15;
    opts->max_records = 1000;
    opts->max_properties = 100;
    opts->max_connections = 256;
    opts->hang_ms = 600000;
    opts->max_body_bytes = 16u * 1024 * 1024;
    opts->record_max_bytes = 1024ULL * 1024 * 1024;
}

/* Applies one value-taking option. Returns 0 or -1 (bad value). */
static int apply_number(struct tcb_emu_options *opts, int opt, const char *arg)
{
    unsigned long long big;
    switch (opt) {
    case OPT_LATENCY:
        return parse_int(arg, 0, 3600000, &opts->faults.latency_ms);
    case OPT_JITTER:
        return parse_int(arg, 0, 3600000, &opts->faults.latency_jitter_ms);
    case OPT_FAIL_5XX:
        return parse_probability(arg, &opts->faults.p_5xx);
    case OPT_FAIL_429:
        return parse_probability(arg, &opts->faults.p_429);
    case OPT_FAIL_555:
        return parse_probability(arg, &opts->faults.p_555);
    case OPT_HANG:
        return parse_probability(arg, &opts->faults.p_hang);
    case OPT_DROP:
        return parse_probability(arg, &opts->faults.p_drop);
    case OPT_MAX_CONCURRENT:
        return parse_int(arg, 1, 100000, &opts->max_concurrent);
    case OPT_MAX_RECORDS:
        return parse_int(arg, 1, 1000000, &opts->max_records);
    case OPT_MAX_PROPERTIES:
        return parse_int(arg, 1, 100000, &opts->max_properties);
    case OPT_MAX_CONNECTIONS:
        return parse_int(arg, 1, 4096, &opts->max_connections);
    case OPT_HANG_MS:
        return parse_int(arg, 0, 86400000, &opts->hang_ms);
    case OPT_SEED:
        opts->seed_given = 1;
        return parse_ull(arg, UINT64_MAX, &big) == 0 ? (opts->seed = big, 0) : -1;
    case OPT_MAX_BODY:
        if (parse_ull(arg, 1024ULL * 1024 * 1024, &big) != 0 || big < 1024) {
            return -1;
        }
        opts->max_body_bytes = (size_t)big;
        return 0;
    case OPT_RECORD_MAX:
        return parse_ull(arg, UINT64_MAX, &opts->record_max_bytes);
    }
    return -1;
}

/* Applies one option that takes no number. Returns 0, -1 (bad value, message
 * in err) or 1 (not such an option: a number). */
static int apply_option(struct tcb_emu_options *opts, int opt, const char *arg, char *err,
                        size_t err_len)
{
    const struct {
        int opt;
        const char **slot;
    } strings[] = {
        {OPT_LISTEN, &opts->listen},         {OPT_RECORD, &opts->record_path},
        {OPT_PORT_FILE, &opts->port_file},   {OPT_LOG_LEVEL, &opts->log_level},
        {OPT_LOG_FORMAT, &opts->log_format}, {OPT_TLS_CERT, &opts->tls_cert},
        {OPT_TLS_KEY, &opts->tls_key},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        if (strings[i].opt == opt) {
            *strings[i].slot = arg;
            return 0;
        }
    }
    if (opt == OPT_ACCOUNT) {
        return tcb_emu_accounts_add(&opts->accounts, arg, err, err_len);
    }
    if (opt == OPT_HELP || opt == OPT_VERSION) {
        *(opt == OPT_HELP ? &opts->show_help : &opts->show_version) = 1;
        return 0;
    }
    return 1;
}

static const char *option_name(int opt)
{
    for (const struct option *o = long_options; o->name; o++) {
        if (o->val == opt) {
            return o->name;
        }
    }
    return "?";
}

int tcb_emu_options_parse(int argc, char **argv, struct tcb_emu_options *opts, char *err,
                          size_t err_len)
{
    set_defaults(opts);
    opterr = 0;
    optind = 0; /* full re-initialisation, so the parser may run more than once */
    for (;;) {
        int opt = getopt_long(argc, argv, "", long_options, NULL);
        if (opt == -1) {
            break;
        }
        if (opt == '?' || opt == ':') {
            /* Print only the option's name: a mistyped "--acount=ID:PASS" must
             * not echo a passcode. */
            const char *bad = optind > 0 && argv[optind - 1] ? argv[optind - 1] : "?";
            snprintf(err, err_len, "unknown option or missing value: %.*s", (int)strcspn(bad, "="),
                     bad);
            return -1;
        }
        int rc = apply_option(opts, opt, optarg, err, err_len);
        if (rc < 0) {
            return -1;
        }
        if (rc > 0 && apply_number(opts, opt, optarg) != 0) {
            snprintf(err, err_len, "--%s: invalid value '%s'", option_name(opt), optarg);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, err_len, "unexpected argument: %s", argv[optind]);
        return -1;
    }
    if (opts->show_help || opts->show_version) {
        return 0;
    }
    if (!opts->listen) {
        snprintf(err, err_len, "--listen HOST:PORT is required");
        return -1;
    }
    if ((opts->tls_cert == NULL) != (opts->tls_key == NULL)) {
        snprintf(err, err_len, "--tls-cert and --tls-key go together");
        return -1;
    }
    if (opts->accounts.count == 0) {
        snprintf(err, err_len, "at least one --account ID:PASSCODE is required");
        return -1;
    }
    return 0;
}
