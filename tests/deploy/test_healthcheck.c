/* tcb-healthcheck, the image's HEALTHCHECK probe, run as the container runtime
 * runs it (fork + exec, no shell) against the daemons' real operations
 * listener on loopback: 200 is healthy, not-ready / 404 / refused / silent /
 * garbage peers are unhealthy, bad arguments are usage errors. */
#include "common/http_listener.h"
#include "common/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static int ready_flag;

static int is_ready(void *ctx, char *why, size_t why_len)
{
    (void)ctx;
    if (!ready_flag) {
        snprintf(why, why_len, "not yet");
    }
    return ready_flag;
}

/* Runs $TCB_BIN_DIR/tcb-healthcheck with argv[1..] = args (NULL-terminated);
 * env_addr, when not NULL, is put in TCB_HEALTHCHECK_ADDR, else it is unset.
 * Returns the exit code. */
static int run_probe(const char *env_addr, const char *const *args)
{
    const char *bin_dir = getenv("TCB_BIN_DIR");
    assert_non_null(bin_dir);
    char path[1024];
    snprintf(path, sizeof(path), "%s/tcb-healthcheck", bin_dir);
    char *argv[8] = {path};
    int argc = 1;
    for (; args[argc - 1] && argc < 7; argc++) {
        argv[argc] = (char *)args[argc - 1];
    }
    argv[argc] = NULL;
    if (env_addr) {
        setenv("TCB_HEALTHCHECK_ADDR", env_addr, 1);
    } else {
        unsetenv("TCB_HEALTHCHECK_ADDR");
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(path, argv);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

struct listener_fixture {
    struct tcb_metrics *metrics;
    struct tcb_http_listener *listener;
    char addr[64];
};

static int listener_setup(void **state)
{
    static struct listener_fixture fx;
    char err[256];
    fx.metrics = tcb_metrics_create();
    fx.listener =
        tcb_http_listener_start("127.0.0.1:0", fx.metrics, is_ready, NULL, err, sizeof(err));
    assert_non_null(fx.listener);
    snprintf(fx.addr, sizeof(fx.addr), "127.0.0.1:%d", tcb_http_listener_port(fx.listener));
    *state = &fx;
    return 0;
}

static int listener_teardown(void **state)
{
    struct listener_fixture *fx = *state;
    tcb_http_listener_stop(fx->listener);
    tcb_metrics_destroy(fx->metrics);
    return 0;
}

static void test_healthz_answers_200(void **state)
{
    struct listener_fixture *fx = *state;
    const char *args[] = {fx->addr, NULL};
    assert_int_equal(run_probe(NULL, args), 0);
    const char *explicit_path[] = {fx->addr, "/healthz", NULL};
    assert_int_equal(run_probe(NULL, explicit_path), 0);
}

static void test_readyz_follows_readiness(void **state)
{
    struct listener_fixture *fx = *state;
    const char *args[] = {fx->addr, "/readyz", NULL};
    ready_flag = 0;
    assert_int_equal(run_probe(NULL, args), 1);
    ready_flag = 1;
    assert_int_equal(run_probe(NULL, args), 0);
}

static void test_unknown_path_is_unhealthy(void **state)
{
    struct listener_fixture *fx = *state;
    const char *args[] = {fx->addr, "/nope", NULL};
    assert_int_equal(run_probe(NULL, args), 1);
}

static void test_address_from_environment(void **state)
{
    struct listener_fixture *fx = *state;
    const char *none[] = {NULL};
    assert_int_equal(run_probe(fx->addr, none), 0);
    /* an explicit address wins over the environment */
    const char *args[] = {fx->addr, NULL};
    assert_int_equal(run_probe("127.0.0.1:1", args), 0);
}

static void test_wildcard_listen_address_is_probed_on_loopback(void **state)
{
    struct listener_fixture *fx = *state;
    char wildcard[64];
    snprintf(wildcard, sizeof(wildcard), "0.0.0.0:%s", strchr(fx->addr, ':') + 1);
    const char *args[] = {wildcard, NULL};
    assert_int_equal(run_probe(NULL, args), 0);
}

/* A bound, listening TCP socket on 127.0.0.1 port 0; *port gets its port. */
static int listening_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof(sin);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

static void test_refused_connection_is_unhealthy(void **state)
{
    (void)state;
    int port = 0;
    int fd = listening_socket(&port);
    close(fd); /* nothing listens there any more */
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    const char *args[] = {addr, NULL};
    assert_int_equal(run_probe(NULL, args), 1);
}

static void test_silent_peer_is_unhealthy(void **state)
{
    (void)state;
    int port = 0;
    int fd = listening_socket(&port); /* the kernel accepts; nobody answers */
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    const char *args[] = {"--timeout-ms", "200", addr, NULL};
    assert_int_equal(run_probe(NULL, args), 1);
    close(fd);
}

struct canned_peer {
    int fd;
    const char *answer;
};

static void *answer_once(void *arg)
{
    struct canned_peer *peer = arg;
    int conn = accept(peer->fd, NULL, NULL);
    if (conn >= 0) {
        char discard[512];
        (void)recv(conn, discard, sizeof(discard), 0);
        (void)send(conn, peer->answer, strlen(peer->answer), MSG_NOSIGNAL);
        close(conn);
    }
    return NULL;
}

/* Runs the probe against a peer that answers `answer` and closes. */
static int probe_canned(const char *answer)
{
    int port = 0;
    struct canned_peer peer = {.fd = listening_socket(&port), .answer = answer};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, answer_once, &peer), 0);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    const char *args[] = {addr, NULL};
    int rc = run_probe(NULL, args);
    pthread_join(thread, NULL);
    close(peer.fd);
    return rc;
}

static void test_status_line_is_parsed_strictly(void **state)
{
    (void)state;
    assert_int_equal(probe_canned("HTTP/1.1 200 OK\r\n\r\nok\n"), 0);
    assert_int_equal(probe_canned("HTTP/1.0 200\r\n\r\n"), 0);
    assert_int_equal(probe_canned("HTTP/1.1 503 Service Unavailable\r\n\r\n"), 1);
    assert_int_equal(probe_canned("HTTP/1.1 2000 OK\r\n\r\n"), 1);
    assert_int_equal(probe_canned("SSH-2.0-OpenSSH_9.2\r\n"), 1);
    assert_int_equal(probe_canned("HTTP/1.1 20"), 1);
    assert_int_equal(probe_canned(""), 1);
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    const char *bad_addr[] = {"localhost.example:80", NULL};
    assert_int_equal(run_probe(NULL, bad_addr), 2);
    const char *port_zero[] = {"127.0.0.1:0", NULL};
    assert_int_equal(run_probe(NULL, port_zero), 2);
    const char *relative_path[] = {"127.0.0.1:1", "healthz", NULL};
    assert_int_equal(run_probe(NULL, relative_path), 2);
    const char *injected_path[] = {"127.0.0.1:1", "/healthz HTTP/1.0\r\nX: y", NULL};
    assert_int_equal(run_probe(NULL, injected_path), 2);
    const char *bad_timeout[] = {"--timeout-ms", "0", NULL};
    assert_int_equal(run_probe(NULL, bad_timeout), 2);
    const char *unknown[] = {"--frobnicate", NULL};
    assert_int_equal(run_probe(NULL, unknown), 2);
    const char *help[] = {"--help", NULL};
    assert_int_equal(run_probe(NULL, help), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_healthz_answers_200, listener_setup,
                                        listener_teardown),
        cmocka_unit_test_setup_teardown(test_readyz_follows_readiness, listener_setup,
                                        listener_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_is_unhealthy, listener_setup,
                                        listener_teardown),
        cmocka_unit_test_setup_teardown(test_address_from_environment, listener_setup,
                                        listener_teardown),
        cmocka_unit_test_setup_teardown(test_wildcard_listen_address_is_probed_on_loopback,
                                        listener_setup, listener_teardown),
        cmocka_unit_test(test_refused_connection_is_unhealthy),
        cmocka_unit_test(test_silent_peer_is_unhealthy),
        cmocka_unit_test(test_status_line_is_parsed_strictly),
        cmocka_unit_test(test_usage_errors_exit_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
