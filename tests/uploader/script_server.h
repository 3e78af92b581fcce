/* A scripted HTTP peer on 127.0.0.1 for answers the emulator does not give
 * (Retry-After, 403, 404, unreadable 200 bodies): it answers POST /1/upload with
 * the next scripted reply (then "success" for everything) and remembers what it
 * received. libmicrohttpd, its own thread; loopback only. */
#ifndef TCB_TESTS_UPLOADER_SCRIPT_SERVER_H
#define TCB_TESTS_UPLOADER_SCRIPT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#define SCRIPT_MAX_REPLIES  16
#define SCRIPT_MAX_REQUESTS 64

struct script_reply {
    int status;
    const char *retry_after; /* NULL = no header */
    const char *body;        /* NULL = a success body for the request's records */
    int delay_ms;            /* wait this long before answering */
};

struct script_request {
    size_t records; /* elements of "d" (0 when not JSON) */
    int64_t at_ms;  /* monotonic arrival time */
    int headers_ok; /* account id, passcode and content type as CleverTap wants */
};

struct script_server;

/* Starts on a free port with replies[0..count) (copied pointers: keep them
 * alive). Returns NULL on failure. */
struct script_server *script_server_start(const struct script_reply *replies, size_t count,
                                          const char *account_id, const char *passcode);
int script_server_port(const struct script_server *server);
/* Requests received so far (thread-safe copy into out[0..cap)); returns count. */
size_t script_server_requests(struct script_server *server, struct script_request *out, size_t cap);
void script_server_stop(struct script_server *server);

#endif
