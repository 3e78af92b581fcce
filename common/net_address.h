/* Parsing of "HOST:PORT" listen addresses shared by every HTTP listener.
 * Numeric addresses only (no DNS): 127.0.0.1:8080, [::1]:8080, 0.0.0.0:80. */
#ifndef TCB_COMMON_NET_ADDRESS_H
#define TCB_COMMON_NET_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

/* Fills *addr and *addr_len from text. Returns 0, or -1 with a message in err. */
int tcb_net_parse_listen(const char *text, struct sockaddr_storage *addr, socklen_t *addr_len,
                         char *err, size_t err_len);
/* The port of a bound socket's address, or -1. */
int tcb_net_port(const struct sockaddr_storage *addr);

#endif
