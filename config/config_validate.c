/* Cross-field checks that no single key can make: unique account, route and
 * transform names, references that resolve, sane combinations. Each problem
 * is reported at the YAML node it concerns. */
#include "config/config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void error_at_path(struct tcb_config_loader *loader, const char *const *path,
                          const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error_at_path(struct tcb_config_loader *loader, const char *const *path,
                          const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    tcb_config_error_at(loader, tcb_config_node_at(loader, path), "%s", message);
}

static void check_accounts(struct tcb_config_loader *loader, const struct tcb_config *cfg)
{
    char index[24];
    for (size_t i = 0; i < cfg->clevertap.account_count; i++) {
        const struct tcb_account *a = &cfg->clevertap.accounts[i];
        snprintf(index, sizeof(index), "#%zu", i);
        for (size_t j = 0; j < i; j++) {
            const struct tcb_account *b = &cfg->clevertap.accounts[j];
            if (a->name && b->name && strcmp(a->name, b->name) == 0) {
                const char *path[] = {"clevertap", "accounts", index, "name", NULL};
                error_at_path(loader, path, "duplicate account name '%s'", a->name);
            }
            if (a->account_id && b->account_id && strcmp(a->account_id, b->account_id) == 0) {
                const char *path[] = {"clevertap", "accounts", index, "account_id", NULL};
                error_at_path(loader, path, "account_id '%s' is configured twice", a->account_id);
            }
        }
        if (a->endpoint && strncmp(a->endpoint, "http://", 7) != 0 &&
            strncmp(a->endpoint, "https://", 8) != 0) {
            const char *path[] = {"clevertap", "accounts", index, "endpoint", NULL};
            error_at_path(loader, path, "endpoint '%s' must start with http:// or https://",
                          a->endpoint);
        }
    }
    if (cfg->clevertap.default_account &&
        !tcb_config_find_account(cfg, cfg->clevertap.default_account)) {
        const char *path[] = {"clevertap", "default_account", NULL};
        error_at_path(loader, path, "default_account '%s' is not a configured account",
                      cfg->clevertap.default_account);
    }
}

/* A match.fields key: a JSON pointer ("/a/0/b", '~' only as ~0 or ~1) or a
 * dotted path ("a.b"), never empty. */
static int valid_field_path(const char *path)
{
    if (path[0] == '\0') {
        return 0;
    }
    for (const char *p = path; path[0] == '/' && *p != '\0'; p++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1') {
            return 0;
        }
    }
    return 1;
}

static void check_route_fields(struct tcb_config_loader *loader, const struct tcb_route *r,
                               const char *index)
{
    for (size_t f = 0; f < r->match_fields.count; f++) {
        if (!valid_field_path(r->match_fields.items[f].key)) {
            const char *path[] = {"routes", index, "match", "fields", NULL};
            error_at_path(loader, path,
                          "route '%s': '%s' is neither a JSON pointer (~ only as ~0 or ~1) "
                          "nor a dotted path",
                          r->name ? r->name : "?", r->match_fields.items[f].key);
        }
    }
    if (r->action == TCB_ROUTE_SKIP && r->transform) {
        const char *path[] = {"routes", index, "transform", NULL};
        error_at_path(loader, path, "route '%s' skips what it matches: it takes no transform",
                      r->name ? r->name : "?");
    }
}

static void check_routes(struct tcb_config_loader *loader, const struct tcb_config *cfg)
{
    char index[24];
    for (size_t i = 0; i < cfg->route_count; i++) {
        const struct tcb_route *r = &cfg->routes[i];
        snprintf(index, sizeof(index), "#%zu", i);
        for (size_t j = 0; j < i; j++) {
            if (r->name && cfg->routes[j].name && strcmp(r->name, cfg->routes[j].name) == 0) {
                const char *path[] = {"routes", index, "name", NULL};
                error_at_path(loader, path, "duplicate route name '%s'", r->name);
            }
        }
        if (r->account && !tcb_config_find_account(cfg, r->account)) {
            const char *path[] = {"routes", index, "account", NULL};
            error_at_path(loader, path, "route '%s' names unknown account '%s'",
                          r->name ? r->name : "?", r->account);
        }
        if (r->transform && !tcb_config_find_transform(cfg, r->transform)) {
            const char *path[] = {"routes", index, "transform", NULL};
            error_at_path(loader, path, "route '%s' names unknown transform '%s'",
                          r->name ? r->name : "?", r->transform);
        }
        check_route_fields(loader, r, index);
    }
    for (size_t i = 0; i < cfg->transform_count; i++) {
        snprintf(index, sizeof(index), "#%zu", i);
        for (size_t j = 0; j < i; j++) {
            const char *a = cfg->transforms[i].name;
            const char *b = cfg->transforms[j].name;
            if (a && b && strcmp(a, b) == 0) {
                const char *path[] = {"transforms", index, "name", NULL};
                error_at_path(loader, path, "duplicate transform name '%s'", a);
            }
        }
    }
}

void tcb_config_validate(struct tcb_config_loader *loader, const struct tcb_config *cfg)
{
    check_accounts(loader, cfg);
    check_routes(loader, cfg);
    if (cfg->clevertap.retry_initial_ms > cfg->clevertap.retry_max_ms) {
        const char *path[] = {"clevertap", "retry_initial_ms", NULL};
        error_at_path(loader, path, "retry_initial_ms exceeds retry_max_ms");
    }
    if (cfg->sink.max_records_per_message > cfg->sink.max_pending_records) {
        const char *path[] = {"sink", "max_records_per_message", NULL};
        error_at_path(loader, path,
                      "max_records_per_message must not exceed max_pending_records: the sink "
                      "holds every record of a message at once");
    }
    if (cfg->sink.shutdown_timeout_ms >= cfg->kafka.session_timeout_ms) {
        const char *path[] = {"sink", "shutdown_timeout_ms", NULL};
        error_at_path(loader, path,
                      "shutdown_timeout_ms must be below kafka.session_timeout_ms so a "
                      "revoke finishes before the group evicts this member");
    }
}
