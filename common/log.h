/* Structured logging for every binary: one line per event on stderr, JSON or
 * logfmt, filtered by level. It never decides anything and never exits;
 * callers must not pass payloads, identities or secrets above TCB_LOG_DEBUG. */
#ifndef TCB_COMMON_LOG_H
#define TCB_COMMON_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum tcb_log_level { TCB_LOG_DEBUG = 0, TCB_LOG_INFO, TCB_LOG_WARN, TCB_LOG_ERROR };
enum tcb_log_format { TCB_LOG_FORMAT_JSON = 0, TCB_LOG_FORMAT_LOGFMT };

/* Sets the program name shown on every line, the minimum level and the format.
 * program is borrowed for the life of the process (pass a string literal).
 * Safe to call again; not thread-safe against concurrent tcb_log calls. */
void tcb_log_setup(const char *program, enum tcb_log_level min_level, enum tcb_log_format format);

/* Redirects output (tests); NULL restores stderr. stream is borrowed. */
void tcb_log_set_stream(FILE *stream);

/* Parses "debug" | "info" | "warn" | "error"; returns 0 or -1 (unknown). */
int tcb_log_level_parse(const char *text, enum tcb_log_level *level);
/* Parses "json" | "logfmt"; returns 0 or -1. */
int tcb_log_format_parse(const char *text, enum tcb_log_format *format);

/* 1 when a line at this level would be written (skip expensive formatting). */
int tcb_log_enabled(enum tcb_log_level level);

/* Writes one line: time, level, program, event (a short dotted machine key such
 * as "upload.retry") and a printf-formatted human message. Thread-safe; each
 * line is written with a single write so lines never interleave. Messages are
 * truncated at 2 KiB. */
void tcb_log(enum tcb_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tcb_vlog(enum tcb_log_level level, const char *event, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define TCB_DEBUG(event, ...) tcb_log(TCB_LOG_DEBUG, (event), __VA_ARGS__)
#define TCB_INFO(event, ...)  tcb_log(TCB_LOG_INFO, (event), __VA_ARGS__)
#define TCB_WARN(event, ...)  tcb_log(TCB_LOG_WARN, (event), __VA_ARGS__)
#define TCB_ERROR(event, ...) tcb_log(TCB_LOG_ERROR, (event), __VA_ARGS__)

#endif
