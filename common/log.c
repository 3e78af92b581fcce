/* Structured logging: formats one JSON or logfmt line per event and writes it
 * to stderr (or a test stream) in a single call. Owns no other state. */
#include "common/log.h"

#include "util/buf.h"
#include "util/json_text.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TCB_LOG_MESSAGE_MAX 2048
/* Escaping grows a byte to at most 6 (\u00XX): a whole line always fits. */
#define TCB_LOG_LINE_MAX (TCB_LOG_MESSAGE_MAX * 6 + 512)

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
    if (!tcb_log_enabled(level)) {
        return;
    }
    char message[TCB_LOG_MESSAGE_MAX];
    char when[40];
    vsnprintf(message, sizeof(message), fmt, ap);
    format_time(when, sizeof(when));
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
    struct tcb_buf line;
    tcb_buf_init(&line, TCB_LOG_LINE_MAX);
    int rc = tcb_buf_append_str(&line, json ? "{" : "");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        rc |= tcb_buf_printf(&line, json ? "%s\"%s\":" : "%s%s=", i ? (json ? "," : " ") : "",
                             fields[i].key);
        if (json || fields[i].quoted) { /* the same escapes serve JSON and logfmt */
            rc |= tcb_buf_append_json_string(&line, fields[i].value, strlen(fields[i].value));
        } else {
            rc |= tcb_buf_append_str(&line, fields[i].value);
        }
    }
    rc |= tcb_buf_append_str(&line, json ? "}\n" : "\n");
    if (rc != 0) { /* cannot happen below TCB_LOG_LINE_MAX; never write half a line */
        tcb_buf_free(&line, 0);
        return;
    }

    pthread_mutex_lock(&log_lock);
    FILE *stream = log_stream ? log_stream : stderr;
    fwrite(line.data, 1, line.len, stream);
    fflush(stream);
    pthread_mutex_unlock(&log_lock);
    tcb_buf_free(&line, 0);
}

void tcb_log(enum tcb_log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tcb_vlog(level, event, fmt, ap);
    va_end(ap);
}
