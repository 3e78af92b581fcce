/* Internal to config/: diagnostics collection, ${...} substitution, and the
 * loader state shared by the YAML walker and the cross-field checks. */
#ifndef TCB_CONFIG_CONFIG_INTERNAL_H
#define TCB_CONFIG_CONFIG_INTERNAL_H

#include "config/config.h"
#include "config/config_keys.h"

#include <stddef.h>
#include <yaml.h>

/* Appends "PATH:LINE:COL: message" (line and col 1-based). Past the ceiling it
 * adds one "too many problems" line and drops the rest. */
void tcb_config_diag_add(struct tcb_config_diag *diag, const char *path, size_t line, size_t col,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Expands ${NAME}, ${NAME:-fallback} and ${file:/path} in raw ("$${" is a
 * literal "${"). A fallback may itself hold ${...} (nested up to
 * TCB_CONFIG_SUBST_MAX_DEPTH deep), expanded only when NAME is unset. Returns
 * a new string in *out, or -1 with a message in err naming the variable or
 * file (never a value). Files must be regular files after following links
 * (a FIFO, a device or /dev/stdin is an error, never a wait); they are read
 * up to 64 KiB, trailing newlines dropped. */
#define TCB_CONFIG_SUBST_MAX_DEPTH 4
int tcb_config_substitute(const char *raw, char **out, char *err, size_t err_len);

struct tcb_config_loader {
    const char *path;
    yaml_document_t *doc; /* NULL when loading defaults */
    struct tcb_config_diag *diag;
    size_t errors;
};

/* Reports a problem at node's start (or 1:1 when node is NULL). Never pass
 * a configuration value in fmt's arguments: messages about values go through
 * tcb_config_error_values, the one place that shows them. */
void tcb_config_error_at(struct tcb_config_loader *loader, const yaml_node_t *node, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));

/* A value a diagnostic talks about: its YAML node and whether its key holds
 * a secret. */
struct tcb_config_shown {
    const yaml_node_t *node;
    int secret;
};

/* The one place that turns a configuration value into diagnostic text:
 * writes the value as written in the file, quoted, when it is a plain
 * literal scalar of a non-secret key; otherwise "the value". A value that
 * came from ${...} is never shown, whatever key it sits under (an
 * environment variable or a file may hold a secret), and neither is
 * anything under a secret key. */
void tcb_config_describe_value(const struct tcb_config_shown *value, char *out, size_t out_len);

/* Reports a problem at node whose message is template with each "%V"
 * replaced by the i-th value's description (tcb_config_describe_value).
 * template is a fixed text from the code, not a printf format. */
void tcb_config_error_values(struct tcb_config_loader *loader, const yaml_node_t *node,
                             const char *template, const struct tcb_config_shown *values,
                             size_t count);

/* Applies every key's default under schema to base (recursively for sections). */
int tcb_config_apply_defaults(const struct tcb_schema *schema, void *base);
/* Frees everything schema describes under base (not base itself). */
void tcb_config_free_fields(const struct tcb_schema *schema, void *base);
/* Loads a mapping node into base per schema, reporting every problem. */
void tcb_config_load_mapping(struct tcb_config_loader *loader, const yaml_node_t *node,
                             const struct tcb_schema *schema, void *base);

/* Finds the value node at a path of mapping keys and sequence indexes below the
 * document root: keys are strings, an index is given as "#N". NULL if absent. */
const yaml_node_t *tcb_config_node_at(struct tcb_config_loader *loader, const char *const *path);

/* Cross-field checks after loading (duplicate names, dangling references). */
void tcb_config_validate(struct tcb_config_loader *loader, const struct tcb_config *cfg);

#endif
