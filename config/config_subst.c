/* ${NAME}, ${NAME:-fallback} and ${file:/path} expansion for config values, so
 * that secrets live in the environment or in mounted files, never in the YAML.
 * Only regular files are read (never a FIFO, device or terminal, which could
 * block forever). Error messages name the variable or file, never a value. */
#include "config/config_internal.h"

#include "util/alloc.h"
#include "util/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUBST_MAX_FILE_BYTES   (64 * 1024)
#define SUBST_MAX_RESULT_BYTES (256 * 1024)

static int substitute(const char *raw, size_t raw_len, int depth, struct tcb_buf *out, char *err,
                      size_t err_len);

/* Reads all of fd (a regular file) up to SUBST_MAX_FILE_BYTES + 1 bytes. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return -1;
        }
        if (got == 0) {
            break;
        }
        n += (size_t)got;
    }
    return (ssize_t)n;
}

/* Appends a small regular file's contents, dropping trailing newlines. The
 * file is opened without blocking (a FIFO without a writer would otherwise
 * wait forever) and refused unless, links followed, it is a regular file. */
static int read_secret_file(const char *path, struct tcb_buf *out, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, err_len, "cannot read file '%s' named by ${file:...}", path);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, err_len,
                 "'%s' named by ${file:...} is not a regular file (links are followed; pipes, "
                 "devices and directories are refused)",
                 path);
        return -1;
    }
    char *buf = tcb_xmalloc(SUBST_MAX_FILE_BYTES + 1);
    ssize_t got = read_all(fd, buf, SUBST_MAX_FILE_BYTES + 1);
    close(fd);
    if (got < 0 || got > SUBST_MAX_FILE_BYTES) {
        snprintf(err, err_len, "file '%s' named by ${file:...} is unreadable or over 64 KiB", path);
        free(buf);
        return -1;
    }
    size_t n = (size_t)got;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    int rc = tcb_buf_append(out, buf, n);
    memset(buf, 0, (size_t)got); /* the file holds a secret */
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

/* Expands one ${...} body (without the braces). A fallback is expanded in
 * turn, one level deeper, and only when it is used. */
static int expand_one(const char *body, size_t len, int depth, struct tcb_buf *out, char *err,
                      size_t err_len)
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
    if (value) {
        if (tcb_buf_append(out, value, strlen(value)) != 0) {
            snprintf(err, err_len, "value too long after substitution");
            return -1;
        }
        return 0;
    }
    if (!fallback) {
        snprintf(err, err_len, "environment variable %s is not set", expr);
        return -1;
    }
    return substitute(fallback, strlen(fallback), depth + 1, out, err, err_len);
}

/* The '}' closing the "${" at p (p[0..1] == "${"), counting nested "${";
 * NULL when there is none before end. */
static const char *closing_brace(const char *p, const char *end)
{
    int open = 0;
    for (const char *q = p; q < end; q++) {
        if (q + 1 < end && q[0] == '$' && q[1] == '{') {
            open++;
            q++;
        } else if (*q == '}' && --open == 0) {
            return q;
        }
    }
    return NULL;
}

static int substitute(const char *raw, size_t raw_len, int depth, struct tcb_buf *out, char *err,
                      size_t err_len)
{
    if (depth > TCB_CONFIG_SUBST_MAX_DEPTH) {
        snprintf(err, err_len, "${...} fallbacks nested more than %d deep",
                 TCB_CONFIG_SUBST_MAX_DEPTH);
        return -1;
    }
    const char *p = raw;
    const char *end = raw + raw_len;
    while (p < end) {
        if (end - p >= 3 && p[0] == '$' && p[1] == '$' && p[2] == '{') {
            if (tcb_buf_append(out, "${", 2) != 0) {
                goto too_long;
            }
            p += 3;
            continue;
        }
        if (end - p >= 2 && p[0] == '$' && p[1] == '{') {
            const char *close = closing_brace(p, end);
            if (!close) {
                snprintf(err, err_len, "unterminated ${ in value");
                return -1;
            }
            if (expand_one(p + 2, (size_t)(close - p - 2), depth, out, err, err_len) != 0) {
                return -1;
            }
            p = close + 1;
            continue;
        }
        const char *next = memchr(p + 1, '$', (size_t)(end - p - 1));
        size_t n = next ? (size_t)(next - p) : (size_t)(end - p);
        if (tcb_buf_append(out, p, n) != 0) {
            goto too_long;
        }
        p += n;
    }
    return 0;
too_long:
    snprintf(err, err_len, "value too long");
    return -1;
}

int tcb_config_substitute(const char *raw, char **out_text, char *err, size_t err_len)
{
    struct tcb_buf out;
    tcb_buf_init(&out, SUBST_MAX_RESULT_BYTES);
    if (tcb_buf_append(&out, "", 0) != 0 || substitute(raw, strlen(raw), 0, &out, err, err_len)) {
        tcb_buf_free(&out, 1);
        return -1;
    }
    *out_text = tcb_buf_take(&out, NULL);
    return 0;
}
