/* Structured logging: formats one JSON or logfmt line per event and writes it
 * to stderr (or a test stream) in a single call. Owns no other state. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TCB_LOG_MESSAGE_MAX 2048
#define TCB_LOG_LINE_MAX    (TCB_LOG_MESSAGE_MAX * 2 + 512)

static const char *log_program = "tcb";
static enum tcb_log_level log_min_level = TCB_LOG_INFO;
static enum tcb_log_format log_format = TCB_LOG_FORMAT_JSON;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void tcb_log_setup(const char *program, enum tcb_log_level min_level, enum tcb_log_format format)
{
    log_program = program ? program : "tcb";
    log_min_level = min_level;
    log_format = format;
}

void tcb_log_set_stream(FILE *stream)
{
    pthread_mutex_lock(&log_lock);
    log_stream = stream;
    pthread_mutex_unlock(&log_lock);
}

int tcb_log_level_parse(const char *text, enum tcb_log_level *level)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (text && strcmp(text, level_names[i]) == 0) {
            *level = (enum tcb_log_level)i;
            return 0;
        }
    }
    return -1;
}

int tcb_log_format_parse(const char *text, enum tcb_log_format *format)
{
    if (text && strcmp(text, "json") == 0) {
        *format = TCB_LOG_FORMAT_JSON;
        return 0;
    }
    if (text && strcmp(text, "logfmt") == 0) {
        *format = TCB_LOG_FORMAT_LOGFMT;
        return 0;
    }
    return -1;
}

int tcb_log_enabled(enum tcb_log_level level)
{
    return level >= log_min_level;
}

/* Appends text to out[*len..cap) escaped for a JSON string or a quoted logfmt
 * value (the same escapes serve both). Control bytes become \u00XX; output
 * stops silently at the ceiling. */
static void append_escaped(char *out, size_t cap, size_t *len, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p && *len + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[(*len)++] = '\\';
            out[(*len)++] = (char)*p;
        } else if (*p == '\n') {
            out[(*len)++] = '\\';
            out[(*len)++] = 'n';
        } else if (*p < 0x20) {
            *len += (size_t)snprintf(out + *len, cap - *len, "\\u%04x", *p);
        } else {
            out[(*len)++] = (char)*p;
        }
    }
}

static void append_raw(char *out, size_t cap, size_t *len, const char *text)
{
    size_t n = strlen(text);
    if (*len + n >= cap)
        n = cap - *len - 1;
    memcpy(out + *len, text, n);
    *len += n;
}

static void format_time(char *buf, size_t cap)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", now.tv_nsec / 1000000L);
}

void tcb_vlog(enum tcb_log_level level, const char *event, const char *fmt, va_list ap)
{
    if (!tcb_log_enabled(level))
        return;
    char message[TCB_LOG_MESSAGE_MAX];
    char when[40];
    char line[TCB_LOG_LINE_MAX];
    size_t len = 0;
    vsnprintf(message, sizeof(message), fmt, ap);
    format_time(when, sizeof(when));
    const size_t cap = sizeof(line) - 2;
    const struct {
        const char *key;
        const char *value;
        int quoted; /* logfmt: free text is quoted; JSON quotes every value */
    } fields[] = {
        {"ts", when, 0},
        {"level", level_names[level], 0},
        {"program", log_program, 0},
        {"event", event ? event : "", 0},
        {"msg", message, 1},
    };
    const int json = log_format == TCB_LOG_FORMAT_JSON;
    append_raw(line, cap, &len, json ? "{" : "");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (i)
            append_raw(line, cap, &len, json ? "," : " ");
        append_raw(line, cap, &len, json ? "\"" : "");
        append_raw(line, cap, &len, fields[i].key);
        append_raw(line, cap, &len, json ? "\":\"" : (fields[i].quoted ? "=\"" : "="));
        if (json || fields[i].quoted)
            append_escaped(line, cap, &len, fields[i].value);
        else
            append_raw(line, cap, &len, fields[i].value);
        append_raw(line, cap, &len, json || fields[i].quoted ? "\"" : "");
    }
    append_raw(line, cap, &len, json ? "}" : "");
    line[len++] = '\n';
    line[len] = '\0';

    pthread_mutex_lock(&log_lock);
    FILE *stream = log_stream ? log_stream : stderr;
    fwrite(line, 1, len, stream);
    fflush(stream);
    pthread_mutex_unlock(&log_lock);
}

void tcb_log(enum tcb_log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tcb_vlog(level, event, fmt, ap);
    va_end(ap);
}
