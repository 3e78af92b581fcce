/* Cross-field checks that no single key can make: unique account, route and
 * transform names, references that resolve, sane combinations. Each problem
 * is reported at the YAML node it concerns; values appear in messages only
 * through tcb_config_error_values, never from the loaded struct. */
#include "config/config_internal.h"

#include <stdio.h>
#include <string.h>

/* The node at path; shown as a non-secret value. */
static struct tcb_config_shown shown_at(struct tcb_config_loader *loader, const char *const *path)
{
    return (struct tcb_config_shown){tcb_config_node_at(loader, path), 0};
}

/* Reports template at path's node, "%V" being that node's value. */
static void value_error(struct tcb_config_loader *loader, const char *const *path,
                        const char *template)
{
    const struct tcb_config_shown value = shown_at(loader, path);
    tcb_config_error_values(loader, value.node, template, &value, 1);
}

static void plain_error(struct tcb_config_loader *loader, const char *const *path,
                        const char *message)
{
    tcb_config_error_at(loader, tcb_config_node_at(loader, path), "%s", message);
}

static int starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
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
                value_error(loader, path, "duplicate account name %V");
            }
            if (a->account_id && b->account_id && strcmp(a->account_id, b->account_id) == 0) {
                const char *path[] = {"clevertap", "accounts", index, "account_id", NULL};
                value_error(loader, path, "account_id %V is configured twice");
            }
        }
        if (a->endpoint && !starts_with(a->endpoint, "http://") &&
            !starts_with(a->endpoint, "https://")) {
            const char *path[] = {"clevertap", "accounts", index, "endpoint", NULL};
            value_error(loader, path, "endpoint %V must start with http:// or https://");
        }
    }
    if (cfg->clevertap.default_account &&
        !tcb_config_find_account(cfg, cfg->clevertap.default_account)) {
        const char *path[] = {"clevertap", "default_account", NULL};
        value_error(loader, path, "default_account %V is not a configured account");
    }
}

/* "route %V names unknown <what> %V" at the route's field. */
static void route_reference_error(struct tcb_config_loader *loader, const char *index,
                                  const char *field, const char *template)
{
    const char *name_path[] = {"routes", index, "name", NULL};
    const char *field_path[] = {"routes", index, field, NULL};
    const struct tcb_config_shown values[] = {shown_at(loader, name_path),
                                              shown_at(loader, field_path)};
    tcb_config_error_values(loader, values[1].node, template, values, 2);
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
            /* The key is file text (keys are never substituted); the
             * route name is a value and goes through the one formatter. */
            const char *name_path[] = {"routes", index, "name", NULL};
            const char *path[] = {"routes", index, "match", "fields", NULL};
            const struct tcb_config_shown name = shown_at(loader, name_path);
            char shown[80];
            tcb_config_describe_value(&name, shown, sizeof(shown));
            tcb_config_error_at(loader, tcb_config_node_at(loader, path),
                                "route %s: '%.64s' is neither a JSON pointer (~ only as ~0 or "
                                "~1) nor a dotted path",
                                shown, r->match_fields.items[f].key);
        }
    }
    if (r->action == TCB_ROUTE_SKIP && r->transform) {
        const char *name_path[] = {"routes", index, "name", NULL};
        const char *path[] = {"routes", index, "transform", NULL};
        const struct tcb_config_shown name = shown_at(loader, name_path);
        tcb_config_error_values(loader, tcb_config_node_at(loader, path),
                                "route %V skips what it matches: it takes no transform", &name, 1);
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
                value_error(loader, path, "duplicate route name %V");
            }
        }
        if (r->account && !tcb_config_find_account(cfg, r->account)) {
            route_reference_error(loader, index, "account", "route %V names unknown account %V");
        }
        if (r->transform && !tcb_config_find_transform(cfg, r->transform)) {
            route_reference_error(loader, index, "transform",
                                  "route %V names unknown transform %V");
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
                value_error(loader, path, "duplicate transform name %V");
            }
        }
    }
}

static int empty(const char *text)
{
    return text == NULL || text[0] == '\0';
}

static void check_ingest(struct tcb_config_loader *loader, const struct tcb_config *cfg)
{
    const struct tcb_config_ingest *in = &cfg->ingest;
    if (empty(in->tls_cert_file) != empty(in->tls_key_file)) {
        const char *cert[] = {"ingest", "tls_cert_file", NULL};
        const char *key[] = {"ingest", "tls_key_file", NULL};
        plain_error(loader, empty(in->tls_cert_file) ? key : cert,
                    "tls_cert_file and tls_key_file go together: give both or neither");
    }
    if (in->max_inflight_bytes < in->max_body_bytes) {
        const char *path[] = {"ingest", "max_inflight_bytes", NULL};
        plain_error(loader, path,
                    "max_inflight_bytes must be at least max_body_bytes, or no largest "
                    "body could ever be taken");
    }
}

void tcb_config_validate(struct tcb_config_loader *loader, const struct tcb_config *cfg)
{
    check_accounts(loader, cfg);
    check_routes(loader, cfg);
    check_ingest(loader, cfg);
    if (cfg->clevertap.retry_initial_ms > cfg->clevertap.retry_max_ms) {
        const char *path[] = {"clevertap", "retry_initial_ms", NULL};
        plain_error(loader, path, "retry_initial_ms exceeds retry_max_ms");
    }
    if (cfg->sink.max_records_per_message > cfg->sink.max_pending_records) {
        const char *path[] = {"sink", "max_records_per_message", NULL};
        plain_error(loader, path,
                    "max_records_per_message must not exceed max_pending_records: the sink "
                    "holds every record of a message at once");
    }
    if (cfg->sink.shutdown_timeout_ms >= cfg->kafka.session_timeout_ms) {
        const char *path[] = {"sink", "shutdown_timeout_ms", NULL};
        plain_error(loader, path,
                    "shutdown_timeout_ms must be below kafka.session_timeout_ms so a "
                    "revoke finishes before the group evicts this member");
    }
}
