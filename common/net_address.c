/* "HOST:PORT" parsing for listeners: numeric IPv4 and bracketed IPv6 only, so
 * a listen address never triggers a DNS lookup. Messages never quote the
 * address: it may have come from ${...}. */
#include "common/net_address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *text, uint16_t *port)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || value < 0 || value > 65535) {
        return -1;
    }
    *port = (uint16_t)value;
    return 0;
}

int tcb_net_parse_listen(const char *text, struct sockaddr_storage *addr, socklen_t *addr_len,
                         char *err, size_t err_len)
{
    char host[64];
    const char *port_text;
    uint16_t port;

    memset(addr, 0, sizeof(*addr));
    if (!text || !*text) {
        snprintf(err, err_len, "empty listen address");
        return -1;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host)) {
            snprintf(err, err_len, "listen address is not [IPv6]:PORT");
            return -1;
        }
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof(host)) {
            snprintf(err, err_len, "listen address is not HOST:PORT");
            return -1;
        }
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    }
    if (parse_port(port_text, &port) != 0) {
        snprintf(err, err_len, "listen address has no valid port (0-65535)");
        return -1;
    }
    if (strcmp(host, "localhost") == 0) {
        snprintf(host, sizeof(host), "127.0.0.1");
    }

    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *addr_len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *addr_len = sizeof(*v6);
        return 0;
    }
    snprintf(err, err_len, "listen address has no numeric IP address");
    return -1;
}

int tcb_net_port(const struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)addr)->sin_port);
    }
    if (addr->ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    }
    return -1;
}
