/* tcb-healthcheck: the container image's HEALTHCHECK probe, so that no shell,
 * curl or wget is needed at run time. One HTTP/1.0 GET to a numeric HOST:PORT
 * (a daemon's metrics_listen), exit 0 on a 200 answer, else 1; 2 on a usage
 * error. It never resolves names, never follows redirects, reads at most the
 * status line (bounded) and gives up after a deadline. */
#include "common/net_address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM         "tcb-healthcheck"
#define DEFAULT_ADDR    "127.0.0.1:9464"
#define DEFAULT_PATH    "/healthz"
#define ADDR_ENV        "TCB_HEALTHCHECK_ADDR"
#define PATH_MAX_LEN    256
#define STATUS_LINE_MAX 512
#define EXIT_HEALTHY    0
#define EXIT_UNHEALTHY  1
#define EXIT_USAGE      2

struct options {
    const char *addr;
    const char *path;
    int timeout_ms;
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: " PROGRAM " [--timeout-ms N] [HOST:PORT [PATH]]\n"
                 "\n"
                 "Asks a talon-clevertap-bridge daemon's operations listener for PATH "
                 "(default\n" DEFAULT_PATH
                 ") and exits 0 when it answers 200, 1 otherwise (refused, timed out, any other\n"
                 "status), 2 on a usage error. HOST:PORT is numeric (127.0.0.1:9465, [::1]:9464);\n"
                 "without it, $" ADDR_ENV " or " DEFAULT_ADDR " (talon-ingest's default).\n"
                 "A listener bound to 0.0.0.0 or [::] is probed on the matching loopback address.\n"
                 "\n"
                 "  --timeout-ms N   whole-probe deadline, 1..60000 (default 2000)\n"
                 "  --help, --version\n");
}

static int parse_timeout(const char *text, int *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || value < 1 || value > 60000) {
        return -1;
    }
    *out = (int)value;
    return 0;
}

/* A path is sent verbatim in the request line: it must start with '/' and
 * hold only visible ASCII. Returns 0 when it may be sent, else -1. */
static int path_is_safe(const char *path)
{
    size_t len = strlen(path);
    if (len == 0 || len > PATH_MAX_LEN || path[0] != '/') {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (path[i] <= ' ' || path[i] >= 0x7f) {
            return -1;
        }
    }
    return 0;
}

/* Returns 0 to go on, 1 after --help/--version (exit 0), or -1 (exit 2). */
static int parse_args(int argc, char **argv, struct options *opt)
{
    int positional = 0;
    opt->addr = NULL;
    opt->path = DEFAULT_PATH;
    opt->timeout_ms = 2000;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(arg, "--version") == 0) {
            printf(PROGRAM " %s\n", TCB_VERSION);
            return 1;
        }
        if (strcmp(arg, "--timeout-ms") == 0) {
            if (i + 1 >= argc || parse_timeout(argv[i + 1], &opt->timeout_ms) != 0) {
                fprintf(stderr, PROGRAM ": --timeout-ms needs a number 1..60000\n");
                return -1;
            }
            i++;
        } else if (arg[0] == '-' && arg[1] == '-') {
            fprintf(stderr, PROGRAM ": unknown option %s\n", arg);
            return -1;
        } else if (positional == 0) {
            opt->addr = arg;
            positional++;
        } else if (positional == 1) {
            opt->path = arg;
            positional++;
        } else {
            fprintf(stderr, PROGRAM ": too many arguments\n");
            return -1;
        }
    }
    if (!opt->addr) {
        const char *env = getenv(ADDR_ENV);
        opt->addr = (env && *env) ? env : DEFAULT_ADDR;
    }
    if (path_is_safe(opt->path) != 0) {
        fprintf(stderr, PROGRAM ": PATH must start with '/' and hold no space or control byte\n");
        return -1;
    }
    return 0;
}

/* A wildcard listen address is reached on the loopback address of its family. */
static void wildcard_to_loopback(struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
        if (v4->sin_addr.s_addr == htonl(INADDR_ANY)) {
            v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        }
    } else if (addr->ss_family == AF_INET6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
        if (IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr)) {
            v6->sin6_addr = in6addr_loopback;
        }
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. Returns 0 when
 * ready, -1 on timeout or error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            return -1;
        }
        struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
        int rc = poll(&pfd, 1, (int)left);
        if (rc > 0) {
            return 0;
        }
        if (rc == 0 || errno != EINTR) {
            return -1;
        }
    }
}

static int connect_by(int fd, const struct sockaddr_storage *addr, socklen_t addr_len,
                      long long deadline)
{
    if (connect(fd, (const struct sockaddr *)addr, addr_len) == 0) {
        return 0;
    }
    if (errno != EINPROGRESS) {
        return -1;
    }
    if (wait_fd(fd, POLLOUT, deadline) != 0) {
        return -1;
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
        return -1;
    }
    return 0;
}

static int send_all(int fd, const char *data, size_t len, long long deadline)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) != 0) {
                return -1;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads until the status line is complete (or the peer closes, or the
 * buffer is full). Returns the HTTP status, or -1 when there is none. */
static int read_status(int fd, long long deadline)
{
    char line[STATUS_LINE_MAX + 1] = {0};
    size_t used = 0;
    while (used < STATUS_LINE_MAX && !memchr(line, '\n', used)) {
        if (wait_fd(fd, POLLIN, deadline) != 0) {
            return -1;
        }
        ssize_t n = recv(fd, line + used, STATUS_LINE_MAX - used, 0);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            return -1;
        }
        used += (size_t)n;
    }
    line[used] = '\0';
    /* "HTTP/1.x NNN" followed by a space or the line end */
    if (used < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ') {
        return -1;
    }
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9') {
            return -1;
        }
        status = status * 10 + (line[i] - '0');
    }
    if (line[12] != ' ' && line[12] != '\r' && line[12] != '\n') {
        return -1;
    }
    return status;
}

/* Returns the HTTP status of GET path, or -1 with a reason in err. */
static int probe(const struct options *opt, char *err, size_t err_len)
{
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (tcb_net_parse_listen(opt->addr, &addr, &addr_len, err, err_len) != 0) {
        return -2;
    }
    if (tcb_net_port(&addr) == 0) {
        snprintf(err, err_len, "%s: port 0 cannot be probed", opt->addr);
        return -2;
    }
    wildcard_to_loopback(&addr);

    long long deadline = now_ms() + opt->timeout_ms;
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    int status = -1;
    char request[PATH_MAX_LEN + 128];
    int len =
        snprintf(request, sizeof(request),
                 "GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n", opt->path);
    if (len < 0 || (size_t)len >= sizeof(request)) {
        snprintf(err, err_len, "request too long");
        goto out;
    }
    if (connect_by(fd, &addr, addr_len, deadline) != 0) {
        snprintf(err, err_len, "%s: cannot connect (refused or timed out)", opt->addr);
        goto out;
    }
    if (send_all(fd, request, (size_t)len, deadline) != 0) {
        snprintf(err, err_len, "%s: cannot send the request", opt->addr);
        goto out;
    }
    status = read_status(fd, deadline);
    if (status < 0) {
        snprintf(err, err_len, "%s: no HTTP status line before the deadline", opt->addr);
    }
out:
    close(fd);
    return status;
}

int main(int argc, char **argv)
{
    struct options opt;
    int rc = parse_args(argc, argv, &opt);
    if (rc != 0) {
        return rc > 0 ? EXIT_HEALTHY : EXIT_USAGE;
    }
    char err[256] = "";
    int status = probe(&opt, err, sizeof(err));
    if (status == -2) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        return EXIT_USAGE;
    }
    if (status < 0) {
        fprintf(stderr, PROGRAM ": unhealthy: %s\n", err);
        return EXIT_UNHEALTHY;
    }
    if (status != 200) {
        fprintf(stderr, PROGRAM ": unhealthy: %s%s answered %d\n", opt.addr, opt.path, status);
        return EXIT_UNHEALTHY;
    }
    return EXIT_HEALTHY;
}
