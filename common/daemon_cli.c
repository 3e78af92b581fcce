/* The daemons' shared command line: option parsing, --help/--version text and
 * loading the configuration with every problem reported. It prints to the
 * terminal; it never exits (main() does). */
#include "common/daemon_cli.h"

#include "common/json_arena.h"
#include "common/log.h"
#include "config/config.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

void tcb_daemon_setup_allocators(void)
{
    tcb_json_arena_install(); /* tcb_xmalloc and free outside an arena scope */
}

void tcb_daemon_print_help(const char *program, const char *summary,
                           const struct tcb_cli_option *extra, int extra_count)
{
    printf("Usage: %s [--config PATH] [--check-config] [options]\n\n%s\n\n", program, summary);
    printf("  --config PATH     YAML configuration (see config/example.yaml); without it the\n"
           "                    embedded defaults apply\n"
           "  --check-config    validate the configuration, print every problem as\n"
           "                    PATH:LINE:COL: message, exit 2 on error, 0 when fine\n");
    for (int i = 0; i < extra_count; i++) {
        printf("  --%s%s%*s%s\n", extra[i].name, extra[i].takes_value ? " VALUE" : "",
               (int)(16 - strlen(extra[i].name) - (extra[i].takes_value ? 6 : 0)) > 0
                   ? (int)(16 - strlen(extra[i].name) - (extra[i].takes_value ? 6 : 0))
                   : 1,
               "", extra[i].help);
    }
    printf("  --help            this text\n"
           "  --version         print the version\n\n"
           "Exit codes: 0 clean stop, 1 runtime failure, 2 usage or configuration error.\n"
           "SIGTERM or SIGINT stop cleanly.\n");
}

static const struct tcb_cli_option *find_extra(const char *name, const struct tcb_cli_option *extra,
                                               int extra_count)
{
    for (int i = 0; i < extra_count; i++) {
        if (strcmp(extra[i].name, name) == 0) {
            return &extra[i];
        }
    }
    return NULL;
}

int tcb_daemon_args_parse(int argc, char **argv, const char *program, const char *summary,
                          const struct tcb_cli_option *extra, int extra_count,
                          struct tcb_daemon_args *args)
{
    int i;
    memset(args, 0, sizeof(*args));
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            goto usage_error;
        }
        const char *name = arg + 2;
        if (strcmp(name, "help") == 0) {
            args->show_help = 1;
        } else if (strcmp(name, "version") == 0) {
            args->show_version = 1;
        } else if (strcmp(name, "check-config") == 0) {
            args->check_config = 1;
        } else if (strcmp(name, "config") == 0) {
            if (++i >= argc) {
                goto missing_value;
            }
            args->config_path = argv[i];
        } else {
            const struct tcb_cli_option *opt = find_extra(name, extra, extra_count);
            if (!opt) {
                goto usage_error;
            }
            if (opt->takes_value) {
                if (++i >= argc) {
                    goto missing_value;
                }
                *opt->value_out = argv[i];
            } else {
                *opt->value_out = "1";
            }
        }
    }
    return 0;
missing_value:
    fprintf(stderr, "%s: option %s needs a value\nTry '%s --help'.\n", program, argv[argc - 1],
            program);
    return -1;
usage_error:
    (void)summary;
    fprintf(stderr, "%s: unknown argument '%s'\nTry '%s --help'.\n", program, argv[i], program);
    return -1;
}

static void apply_log_section(const struct tcb_config *cfg, const char *program)
{
    enum tcb_log_level level = TCB_LOG_INFO;
    enum tcb_log_format format = TCB_LOG_FORMAT_JSON;
    tcb_log_level_parse(cfg->log.level, &level);
    tcb_log_format_parse(cfg->log.format, &format);
    tcb_log_setup(program, level, format);
}

struct tcb_config *tcb_daemon_load_config(const struct tcb_daemon_args *args, const char *program,
                                          int *exit_now)
{
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg =
        args->config_path ? tcb_config_load_file(args->config_path, &diag) : tcb_config_defaults();
    *exit_now = 0;
    if (!cfg) {
        for (size_t i = 0; i < diag.count; i++) {
            fprintf(stderr, "%s\n", diag.lines[i]);
        }
        tcb_config_diag_free(&diag);
        return NULL;
    }
    tcb_config_diag_free(&diag);
    if (args->check_config) {
        printf("%s: ok\n", cfg->source_path);
        *exit_now = 1;
    }
    apply_log_section(cfg, program);
    return cfg;
}
