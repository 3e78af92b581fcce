/* Process-wide stop request: SIGTERM and SIGINT set a flag the main loops
 * poll; SIGHUP sets a reload flag (a daemon without anything to reload just
 * never takes it, so SIGHUP no longer kills it); SIGPIPE is ignored. Only
 * main() installs it. */
#ifndef TCB_COMMON_SIGNALS_H
#define TCB_COMMON_SIGNALS_H

/* Installs the handlers. Returns 0 or -1 (errno set). */
int tcb_signals_install(void);
/* 1 once SIGTERM or SIGINT arrived (or tcb_signals_request_stop was called). */
int tcb_signals_stop_requested(void);
/* Requests a stop from code (tests, fatal conditions). Async-signal-safe. */
void tcb_signals_request_stop(void);
/* 1 once per SIGHUP received since the last call (several may merge). */
int tcb_signals_take_reload(void);

#endif
