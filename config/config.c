/* Public entry points of config/: load a file or buffer into a validated
 * struct tcb_config, the embedded defaults, and destruction. */
#include "config/config.h"

#include "config/config_internal.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_FILE_BYTES (1024 * 1024)

void tcb_config_destroy(struct tcb_config *cfg)
{
    if (!cfg) {
        return;
    }
    tcb_config_free_fields(tcb_config_root_schema(), cfg);
    free(cfg->source_path);
    free(cfg);
}

static struct tcb_config *config_new(const char *source)
{
    struct tcb_config *cfg = tcb_xcalloc(1, sizeof(*cfg));
    cfg->source_path = tcb_xstrdup(source);
    if (tcb_config_apply_defaults(tcb_config_root_schema(), cfg) != 0) {
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
        while (len > 0 && endpoint[len - 1] == '/') {
            endpoint[--len] = '\0';
        }
    }
}

/* The LINE:COL after the "PATH:" prefix of a diagnostic; 0:0 when absent. */
static void line_col(const char *line, size_t skip, unsigned long *l, unsigned long *c)
{
    if (strlen(line) <= skip) {
        return;
    }
    char *end = NULL;
    *l = strtoul(line + skip, &end, 10);
    *c = *end == ':' ? strtoul(end + 1, NULL, 10) : 0;
}

/* Orders diagnostics by position so a reader fixes the file top to bottom. */
static int compare_positions(const void *a, const void *b, void *prefix_len)
{
    size_t skip = *(const size_t *)prefix_len;
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    unsigned long xl = 0, xc = 0, yl = 0, yc = 0;
    line_col(x, skip, &xl, &xc);
    line_col(y, skip, &yl, &yc);
    if (xl != yl) {
        return xl < yl ? -1 : 1;
    }
    return xc < yc ? -1 : (xc > yc);
}

struct tcb_config *tcb_config_load_buffer(const char *name, const char *yaml, size_t len,
                                          struct tcb_config_diag *diag)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct tcb_config_loader loader = {.path = name, .doc = &doc, .diag = diag};
    struct tcb_config *cfg = config_new(name);
    if (!cfg) {
        return NULL;
    }
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
    if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
        tcb_config_load_mapping(&loader, root, tcb_config_root_schema(), cfg);
    }
    tcb_config_validate(&loader, cfg); /* even after errors: report every problem */
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (loader.errors > 0) {
        size_t prefix_len = strlen(name) + 1;
        if (diag && diag->count > 1) {
            qsort_r(diag->lines, diag->count, sizeof(*diag->lines), compare_positions, &prefix_len);
        }
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
    char *buf = tcb_xmalloc(CONFIG_MAX_FILE_BYTES + 1);
    size_t n = fread(buf, 1, CONFIG_MAX_FILE_BYTES + 1, f);
    int read_error = ferror(f);
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
