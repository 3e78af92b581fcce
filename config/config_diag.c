/* Diagnostics: the bounded list of "PATH:LINE:COL: message" lines a load
 * produces. It only collects; printing is the caller's business. */
#include "config/config_internal.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void diag_push(struct tcb_config_diag *diag, const char *line)
{
    diag->lines = tcb_xrealloc(diag->lines, (diag->count + 1) * sizeof(*diag->lines));
    diag->lines[diag->count++] = tcb_xstrdup(line);
}

void tcb_config_diag_add(struct tcb_config_diag *diag, const char *path, size_t line, size_t col,
                         const char *fmt, ...)
{
    char message[768];
    char full[1024];
    if (!diag || diag->count > TCB_CONFIG_MAX_DIAGNOSTICS) {
        return;
    }
    if (diag->count == TCB_CONFIG_MAX_DIAGNOSTICS) {
        snprintf(full, sizeof(full), "%s: too many problems; stopped reporting", path);
        diag_push(diag, full);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "%s:%zu:%zu: %s", path, line, col, message);
    diag_push(diag, full);
}

void tcb_config_diag_free(struct tcb_config_diag *diag)
{
    if (!diag) {
        return;
    }
    for (size_t i = 0; i < diag->count; i++) {
        free(diag->lines[i]);
    }
    free(diag->lines);
    diag->lines = NULL;
    diag->count = 0;
}

void tcb_config_error_at(struct tcb_config_loader *loader, const yaml_node_t *node, const char *fmt,
                         ...)
{
    char message[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    loader->errors++;
    size_t line = node ? node->start_mark.line + 1 : 1;
    size_t col = node ? node->start_mark.column + 1 : 1;
    tcb_config_diag_add(loader->diag, loader->path, line, col, "%s", message);
}

void tcb_config_describe_value(const struct tcb_config_shown *value, char *out, size_t out_len)
{
    const yaml_node_t *node = value->node;
    if (node == NULL || value->secret || node->type != YAML_SCALAR_NODE ||
        strstr((const char *)node->data.scalar.value, "${") != NULL) {
        snprintf(out, out_len, "the value");
        return;
    }
    snprintf(out, out_len, "'%.64s'", (const char *)node->data.scalar.value);
}

void tcb_config_error_values(struct tcb_config_loader *loader, const yaml_node_t *node,
                             const char *template, const struct tcb_config_shown *values,
                             size_t count)
{
    char message[768];
    char shown[80];
    size_t len = 0;
    size_t next = 0;
    message[0] = '\0';
    for (const char *p = template; *p != '\0' && len + 1 < sizeof(message); p++) {
        if (p[0] == '%' && p[1] == 'V') {
            if (next < count) {
                tcb_config_describe_value(&values[next++], shown, sizeof(shown));
            } else {
                snprintf(shown, sizeof(shown), "?");
            }
            len += (size_t)snprintf(message + len, sizeof(message) - len, "%s", shown);
            p++;
            continue;
        }
        message[len++] = *p;
        message[len] = '\0';
    }
    if (len >= sizeof(message)) {
        message[sizeof(message) - 1] = '\0';
    }
    tcb_config_error_at(loader, node, "%s", message);
}
