/* ingest-bench-floor: the benchmark's floor. The same libmicrohttpd model as
 * talon-ingest (internal epoll thread pool, one thread per CPU up to 8,
 * suspend/resume allowed) reading the POST body and answering the
 * CleverTap-shaped 200, with no JSON parsing, no auth and no Kafka.
 * Usage: ingest-bench-floor PORT (127.0.0.1); runs until SIGTERM/SIGINT. */
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 8

static volatile sig_atomic_t stop;

static void on_signal(int signo)
{
    (void)signo;
    stop = 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    static const char body[] = "{\"status\":\"success\",\"processed\":1,\"unprocessed\":[]}";
    static int marker;
    if (*req_cls == NULL) {
        *req_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result rc = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        printf("Usage: ingest-bench-floor PORT\n"
               "Bare libmicrohttpd responder on 127.0.0.1:PORT answering any POST with\n"
               "talon-ingest's 200 body, without Kafka: the talon-ingest benchmark floor.\n");
        return argc == 2 ? 0 : 2;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned int threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned int)cpus;
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)strtol(argv[1], NULL, 10)),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO,
        0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
        MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "ingest-bench-floor: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop) {
        pause();
    }
    MHD_stop_daemon(daemon);
    return 0;
}
