/* ${NAME}, ${NAME:-fallback} and ${file:/path} expansion for config values, so
 * that secrets live in the environment or in mounted files, never in the YAML.
 * Error messages name the variable or file, never a value. */
#include "config/config_internal.h"

#include "util/alloc.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBST_MAX_FILE_BYTES   (64 * 1024)
#define SUBST_MAX_RESULT_BYTES (256 * 1024)

/* Reads a whole small file, dropping trailing newlines. */
static int read_secret_file(const char *path, struct tcb_buf *out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot read file '%s' named by ${file:...}", path);
        return -1;
    }
    char *buf = tcb_xmalloc(SUBST_MAX_FILE_BYTES + 1);
    size_t n = fread(buf, 1, SUBST_MAX_FILE_BYTES + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || n > SUBST_MAX_FILE_BYTES) {
        snprintf(err, err_len, "file '%s' named by ${file:...} is unreadable or over 64 KiB", path);
        free(buf);
        return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    int rc = tcb_buf_append(out, buf, n);
    memset(buf, 0, n); /* the file holds a secret */
    free(buf);
    if (rc != 0) {
        snprintf(err, err_len, "value too long after substitution");
    }
    return rc;
}

static int valid_env_name(const char *name, size_t len)
{
    if (len == 0) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* Expands one ${...} body (without the braces). */
static int expand_one(const char *body, size_t len, struct tcb_buf *out, char *err, size_t err_len)
{
    char expr[1024];
    if (len >= sizeof(expr)) {
        snprintf(err, err_len, "${...} expression too long");
        return -1;
    }
    memcpy(expr, body, len);
    expr[len] = '\0';
    if (strncmp(expr, "file:", 5) == 0) {
        if (expr[5] != '/') {
            snprintf(err, err_len, "${file:...} needs an absolute path");
            return -1;
        }
        return read_secret_file(expr + 5, out, err, err_len);
    }
    char *fallback = strstr(expr, ":-");
    if (fallback) {
        *fallback = '\0';
        fallback += 2;
    }
    if (!valid_env_name(expr, strlen(expr))) {
        snprintf(err, err_len, "'${%.64s}' is not a valid ${NAME} or ${file:/path}", expr);
        return -1;
    }
    const char *value = getenv(expr);
    if (!value && !fallback) {
        snprintf(err, err_len, "environment variable %s is not set", expr);
        return -1;
    }
    const char *chosen = value ? value : fallback;
    if (tcb_buf_append(out, chosen, strlen(chosen)) != 0) {
        snprintf(err, err_len, "value too long after substitution");
        return -1;
    }
    return 0;
}

int tcb_config_substitute(const char *raw, char **out_text, char *err, size_t err_len)
{
    struct tcb_buf out;
    tcb_buf_init(&out, SUBST_MAX_RESULT_BYTES);
    const char *p = raw;
    if (tcb_buf_append(&out, "", 0) != 0) {
        goto oom;
    }
    while (*p) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            if (tcb_buf_append(&out, "${", 2) != 0) {
                goto oom;
            }
            p += 3;
            continue;
        }
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (!close) {
                snprintf(err, err_len, "unterminated ${ in value");
                goto fail;
            }
            if (expand_one(p + 2, (size_t)(close - p - 2), &out, err, err_len) != 0) {
                goto fail;
            }
            p = close + 1;
            continue;
        }
        const char *next = strchr(p + 1, '$');
        size_t n = next ? (size_t)(next - p) : strlen(p);
        if (tcb_buf_append(&out, p, n) != 0) {
            goto oom;
        }
        p += n;
    }
    *out_text = tcb_buf_take(&out, NULL);
    return 0;
oom:
    snprintf(err, err_len, "value too long");
fail:
    tcb_buf_free(&out, 1);
    return -1;
}
