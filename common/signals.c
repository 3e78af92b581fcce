/* Process-wide stop flag set by SIGTERM/SIGINT and reload flag set by
 * SIGHUP; SIGPIPE ignored so a closed socket is an error return, never a
 * death. Owns no other state. */
#include "common/signals.h"

#include <signal.h>
#include <stddef.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static void on_reload_signal(int signo)
{
    (void)signo;
    reload_requested = 1;
}

int tcb_signals_install(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        return -1;
    }
    struct sigaction reload = {0};
    reload.sa_handler = on_reload_signal;
    sigemptyset(&reload.sa_mask);
    if (sigaction(SIGHUP, &reload, NULL) != 0) {
        return -1;
    }
    struct sigaction ignore = {0};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    return sigaction(SIGPIPE, &ignore, NULL);
}

int tcb_signals_stop_requested(void)
{
    return stop_requested != 0;
}

void tcb_signals_request_stop(void)
{
    stop_requested = 1;
}

int tcb_signals_take_reload(void)
{
    if (!reload_requested) {
        return 0;
    }
    reload_requested = 0;
    return 1;
}
