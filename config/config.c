/* Public entry points of config/: load a file or buffer into a validated
 * struct tcb_config, the embedded defaults, look-ups, and destruction. */
#include "config/config.h"

#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_FILE_BYTES (1024 * 1024)

static const struct {
    const char *region;
    const char *base_url;
} region_hosts[] = {
    {"in1", "https://in1.api.clevertap.com"},   {"sg1", "https://sg1.api.clevertap.com"},
    {"us1", "https://us1.api.clevertap.com"},   {"aps3", "https://aps3.api.clevertap.com"},
    {"mec1", "https://mec1.api.clevertap.com"}, {"eu1", "https://api.clevertap.com"},
};

const char *tcb_region_base_url(const char *region)
{
    for (size_t i = 0; region && i < sizeof(region_hosts) / sizeof(region_hosts[0]); i++)
        if (strcmp(region_hosts[i].region, region) == 0)
            return region_hosts[i].base_url;
    return NULL;
}

const char *tcb_account_base_url(const struct tcb_account *account)
{
    if (account->endpoint && account->endpoint[0])
        return account->endpoint;
    return tcb_region_base_url(account->region);
}

void tcb_config_destroy(struct tcb_config *cfg)
{
    if (!cfg)
        return;
    tcb_config_free_fields(tcb_config_root_schema(), cfg);
    free(cfg->source_path);
    free(cfg);
}

static struct tcb_config *config_new(const char *source)
{
    struct tcb_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    cfg->source_path = strdup(source);
    if (!cfg->source_path || tcb_config_apply_defaults(tcb_config_root_schema(), cfg) != 0) {
        tcb_config_destroy(cfg);
        return NULL;
    }
    return cfg;
}

struct tcb_config *tcb_config_defaults(void)
{
    return config_new("<defaults>");
}

/* Drops trailing slashes so "<endpoint>/1/upload" is always well formed. */
static void normalise_endpoints(struct tcb_config *cfg)
{
    for (size_t i = 0; i < cfg->clevertap.account_count; i++) {
        char *endpoint = cfg->clevertap.accounts[i].endpoint;
        size_t len = endpoint ? strlen(endpoint) : 0;
        while (len > 0 && endpoint[len - 1] == '/')
            endpoint[--len] = '\0';
    }
}

/* Orders diagnostics by position so a reader fixes the file top to bottom. */
static int compare_positions(const void *a, const void *b, void *prefix_len)
{
    size_t skip = *(const size_t *)prefix_len;
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    unsigned long xl = 0, xc = 0, yl = 0, yc = 0;
    if (strlen(x) > skip)
        sscanf(x + skip, "%lu:%lu", &xl, &xc);
    if (strlen(y) > skip)
        sscanf(y + skip, "%lu:%lu", &yl, &yc);
    if (xl != yl)
        return xl < yl ? -1 : 1;
    return xc < yc ? -1 : (xc > yc);
}

struct tcb_config *tcb_config_load_buffer(const char *name, const char *yaml, size_t len,
                                          struct tcb_config_diag *diag)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct tcb_config_loader loader = {.path = name, .doc = &doc, .diag = diag};
    struct tcb_config *cfg = config_new(name);
    if (!cfg)
        return NULL;
    if (!yaml_parser_initialize(&parser)) {
        tcb_config_destroy(cfg);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        tcb_config_diag_add(diag, name, parser.problem_mark.line + 1,
                            parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
                            parser.problem ? parser.problem : "unknown", parser.context ? " " : "",
                            parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        tcb_config_destroy(cfg);
        return NULL;
    }
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
        tcb_config_load_mapping(&loader, root, tcb_config_root_schema(), cfg);
    tcb_config_validate(&loader, cfg); /* even after errors: report every problem */
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (loader.errors > 0) {
        size_t prefix_len = strlen(name) + 1;
        if (diag && diag->count > 1)
            qsort_r(diag->lines, diag->count, sizeof(*diag->lines), compare_positions, &prefix_len);
        tcb_config_destroy(cfg);
        return NULL;
    }
    normalise_endpoints(cfg);
    return cfg;
}

struct tcb_config *tcb_config_load_file(const char *path, struct tcb_config_diag *diag)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        tcb_config_diag_add(diag, path, 1, 1, "cannot open the configuration file");
        return NULL;
    }
    char *buf = malloc(CONFIG_MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_MAX_FILE_BYTES + 1, f) : 0;
    int read_error = !buf || ferror(f);
    fclose(f);
    if (read_error || n > CONFIG_MAX_FILE_BYTES) {
        tcb_config_diag_add(diag, path, 1, 1, "cannot read the file or it is over 1 MiB");
        free(buf);
        return NULL;
    }
    struct tcb_config *cfg = tcb_config_load_buffer(path, buf, n, diag);
    free(buf);
    return cfg;
}

const struct tcb_account *tcb_config_find_account(const struct tcb_config *cfg, const char *key)
{
    for (size_t i = 0; key && i < cfg->clevertap.account_count; i++) {
        const struct tcb_account *a = &cfg->clevertap.accounts[i];
        if ((a->name && strcmp(a->name, key) == 0) ||
            (a->account_id && strcmp(a->account_id, key) == 0))
            return a;
    }
    return NULL;
}

const struct tcb_transform_spec *tcb_config_find_transform(const struct tcb_config *cfg,
                                                           const char *name)
{
    for (size_t i = 0; name && i < cfg->transform_count; i++)
        if (cfg->transforms[i].name && strcmp(cfg->transforms[i].name, name) == 0)
            return &cfg->transforms[i];
    return NULL;
}
