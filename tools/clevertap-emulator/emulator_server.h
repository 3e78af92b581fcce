/* The emulator's HTTP server (libmicrohttpd, one thread per connection so
 * added latency and hung requests never block other requests): routes
 * POST /1/upload, GET /stats and GET /healthz, applies auth, the concurrency
 * limit and the fault plan. It logs; it never exits the process. */
#ifndef TCB_EMULATOR_SERVER_H
#define TCB_EMULATOR_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tools/clevertap-emulator/emulator_options.h"

struct tcb_emu_server;

/* Starts serving on addr (copied). opts is borrowed until
 * tcb_emu_server_stop. Opens the --record file when opts asks. Returns a new
 * server, or NULL with a message in err. */
struct tcb_emu_server *tcb_emu_server_start(const struct tcb_emu_options *opts,
                                            const struct sockaddr_storage *addr, socklen_t addr_len,
                                            uint64_t seed, char *err, size_t err_len);
/* The bound port (useful with port 0). */
int tcb_emu_server_port(const struct tcb_emu_server *server);
/* The /stats JSON (new string, caller frees) or NULL. */
char *tcb_emu_server_stats(struct tcb_emu_server *server);
/* Wakes held requests (latency, hangs), closes every connection, stops the
 * threads and frees everything. Accepts NULL and half-started servers. */
void tcb_emu_server_stop(struct tcb_emu_server *server);

#endif
