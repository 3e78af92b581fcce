/* Loading the configuration both daemons share from one YAML file (see
 * config/example.yaml for every key, its default and its meaning): parsing,
 * ${ENV} / ${file:/path} substitution, defaults and validation. The loader
 * never prints or logs a secret value. The structs are in config_model.h. */
#ifndef TCB_CONFIG_CONFIG_H
#define TCB_CONFIG_CONFIG_H

#include "config/config_model.h"

#include <stddef.h>

/* Problems found while loading, each already formatted "PATH:LINE:COL: message".
 * Bounded to TCB_CONFIG_MAX_DIAGNOSTICS entries (one more says "too many"). */
#define TCB_CONFIG_MAX_DIAGNOSTICS 100
struct tcb_config_diag {
    char **lines;
    size_t count;
};
void tcb_config_diag_free(struct tcb_config_diag *diag);

/* Loads and validates a file. Returns a new config (free with
 * tcb_config_destroy), or NULL when any problem was found: then diag holds
 * every problem (the caller frees it with tcb_config_diag_free). */
struct tcb_config *tcb_config_load_file(const char *path, struct tcb_config_diag *diag);
/* The same from memory; name is used in diagnostics in place of a path. */
struct tcb_config *tcb_config_load_buffer(const char *name, const char *yaml, size_t len,
                                          struct tcb_config_diag *diag);
/* The built-in defaults (no accounts, no routes); never NULL. */
struct tcb_config *tcb_config_defaults(void);

/* Frees everything; accepts NULL and partially built configs. Secrets are
 * wiped before their memory is freed. */
void tcb_config_destroy(struct tcb_config *cfg);

#endif
