/* ${ENV}, ${ENV:-fallback} and ${file:/path} substitution, and the promise
 * that no secret value ever appears in a diagnostic, whatever is wrong and
 * whatever key it sits under (every key of the table is tried). */
#include "config/config.h"
#include "config/config_keys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define SECRET "hunter2-s3cr3t-value"

static struct tcb_config *load(const char *yaml, struct tcb_config_diag *diag)
{
    return tcb_config_load_buffer("test.yaml", yaml, strlen(yaml), diag);
}

static void assert_no_secret(const struct tcb_config_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++) {
        if (strstr(diag->lines[i], SECRET)) {
            print_error("secret leaked: %s\n", diag->lines[i]);
        }
        assert_null(strstr(diag->lines[i], SECRET));
    }
}

static void test_env_and_fallback(void **state)
{
    (void)state;
    setenv("TCB_TEST_PASSCODE", SECRET, 1);
    unsetenv("TCB_TEST_MISSING");
    const char *yaml = "clevertap:\n"
                       "  accounts:\n"
                       "    - name: a\n"
                       "      account_id: \"${TCB_TEST_MISSING:-fallback-id}\"\n"
                       "      passcode: \"pre-${TCB_TEST_PASSCODE}-post\"\n"
                       "      region: eu1\n"
                       "kafka:\n"
                       "  topic: \"literal $${NOT_EXPANDED} $ sign\"\n";
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->clevertap.accounts[0].account_id, "fallback-id");
    assert_string_equal(cfg->clevertap.accounts[0].passcode, "pre-" SECRET "-post");
    assert_string_equal(cfg->kafka.topic, "literal ${NOT_EXPANDED} $ sign");
    tcb_config_destroy(cfg);
}

static void test_file_substitution(void **state)
{
    (void)state;
    char path[] = "/tmp/tcb-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, SECRET "\n", strlen(SECRET) + 1), (ssize_t)strlen(SECRET) + 1);
    close(fd);
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "ingest:\n  notification_secret: \"${file:%s}\"\n  max_connections: 12\n", path);
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->ingest.notification_secret, SECRET); /* newline dropped */
    tcb_config_destroy(cfg);
    unlink(path);
}

static void test_missing_variable_names_key_and_variable(void **state)
{
    (void)state;
    unsetenv("TCB_TEST_MISSING");
    const char *yaml = "ingest:\n  notification_secret: \"${TCB_TEST_MISSING}\"\n";
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_null(cfg);
    assert_int_equal(diag.count, 1);
    assert_string_equal(diag.lines[0], "test.yaml:2:24: notification_secret: environment "
                                       "variable TCB_TEST_MISSING is not set");
    tcb_config_diag_free(&diag);
}

static void test_secrets_never_in_diagnostics(void **state)
{
    (void)state;
    setenv("TCB_TEST_PASSCODE", SECRET, 1);
    /* Every way a secret-bearing key can be wrong, plus a wrong region next
     * to it: no message may carry the value. */
    const char *yaml = "kafka:\n"
                       "  properties:\n"
                       "    sasl.password: \"${TCB_TEST_PASSCODE}\"\n"
                       "    sasl.password: \"" SECRET "\"\n"
                       "clevertap:\n"
                       "  accounts:\n"
                       "    - name: a\n"
                       "      account_id: b\n"
                       "      passcode: [\"" SECRET "\"]\n"
                       "      region: \"${TCB_TEST_PASSCODE}\"\n"
                       "      max_in_flight: \"${TCB_TEST_PASSCODE}\"\n"
                       "    - name: c\n"
                       "      account_id: d\n"
                       "      passcode: \"${TCB_TEST_PASSCODE}\"\n"
                       "      region: \"nowhere\"\n"
                       "      passcode: \"" SECRET "\"\n"
                       "ingest:\n"
                       "  notification_secret: { nested: \"" SECRET "\" }\n";
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_null(cfg);
    assert_true(diag.count >= 5);
    assert_no_secret(&diag);
    tcb_config_diag_free(&diag);
}

/* One step of the path from the root schema to a key. */
struct step {
    const struct tcb_schema *schema;
    const struct tcb_key *key;
};

static size_t append(char *out, size_t cap, size_t len, const char *text)
{
    int n = snprintf(out + len, cap - len, "%s", text);
    assert_true(n >= 0 && (size_t)n < cap - len);
    return len + (size_t)n;
}

/* The required keys of an object-list entry other than skip, with literal
 * values ("x", or the first allowed choice). */
static size_t append_required(char *out, size_t cap, size_t len, const struct tcb_schema *schema,
                              const struct tcb_key *skip)
{
    for (size_t i = 0; i < schema->key_count; i++) {
        const struct tcb_key *key = &schema->keys[i];
        if (!key->required || key == skip) {
            continue;
        }
        char field[128];
        snprintf(field, sizeof(field), "%s: \"%s\", ", key->name,
                 key->choices ? key->choices[0] : "x");
        len = append(out, cap, len, field);
    }
    return len;
}

/* Flow-style YAML setting the key at path[depth..count) to value (a
 * quoted scalar; wrapped into a map or a list for those key types). Each
 * object list gets two identical entries so duplicate checks fire too. */
static size_t append_path(char *out, size_t cap, size_t len, const struct step *path, size_t depth,
                          size_t count, const char *value)
{
    const struct tcb_key *key = path[depth].key;
    len = append(out, cap, len, key->name);
    len = append(out, cap, len, ": ");
    if (depth + 1 == count) {
        if (key->type == TCB_KEY_MAP) {
            len = append(out, cap, len, "{ k: ");
            len = append(out, cap, len, value);
            return append(out, cap, len, " }");
        }
        if (key->type == TCB_KEY_LIST) {
            len = append(out, cap, len, "[ ");
            len = append(out, cap, len, value);
            return append(out, cap, len, " ]");
        }
        return append(out, cap, len, value);
    }
    if (key->type == TCB_KEY_SECTION) {
        len = append(out, cap, len, "{ ");
        len = append_path(out, cap, len, path, depth + 1, count, value);
        return append(out, cap, len, " }");
    }
    len = append(out, cap, len, "[ ");
    for (int copy = 0; copy < 2; copy++) {
        len = append(out, cap, len, copy ? ", { " : "{ ");
        len = append_required(out, cap, len, key->sub, path[depth + 1].key);
        len = append_path(out, cap, len, path, depth + 1, count, value);
        len = append(out, cap, len, " }");
    }
    return append(out, cap, len, " ]");
}

static int keys_tried;

/* Loads a file with the key at path set to each way of writing a secret
 * and checks that no diagnostic shows it. */
static void try_key(const struct step *path, size_t count, const char *secret_file)
{
    char file_value[256];
    snprintf(file_value, sizeof(file_value), "\"${file:%s}\"", secret_file);
    const char *values[] = {"\"${TCB_TEST_PASSCODE}\"", "\"x${TCB_TEST_PASSCODE}x\"", file_value,
                            "\"${file:/proc/self/environ}\"",
                            "\"${TCB_TEST_MISSING:-${TCB_TEST_PASSCODE}}\""};
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        char yaml[2048];
        size_t len = append_path(yaml, sizeof(yaml), 0, path, 0, count, values[v]);
        append(yaml, sizeof(yaml), len, "\n");
        struct tcb_config_diag diag = {0};
        struct tcb_config *cfg = load(yaml, &diag);
        for (size_t i = 0; i < diag.count; i++) {
            if (strstr(diag.lines[i], SECRET) != NULL) {
                fail_msg("secret shown for %s: %s", yaml, diag.lines[i]);
            }
        }
        tcb_config_diag_free(&diag);
        tcb_config_destroy(cfg);
    }
    keys_tried++;
}

static void walk(const struct tcb_schema *schema, struct step *path, size_t depth,
                 const char *secret_file)
{
    for (size_t i = 0; i < schema->key_count; i++) {
        const struct tcb_key *key = &schema->keys[i];
        path[depth] = (struct step){schema, key};
        if (key->type == TCB_KEY_SECTION || key->type == TCB_KEY_OBJECT_LIST) {
            walk(key->sub, path, depth + 1, secret_file);
        } else {
            try_key(path, depth + 1, secret_file);
        }
    }
}

/* Every key of the table, with a secret from the environment, from a file,
 * from /proc/self/environ or from a nested fallback: --check-config and the
 * start-up diagnostics never show it (endpoint and default_account once
 * quoted it). */
static void test_every_key_hides_substituted_values(void **state)
{
    (void)state;
    setenv("TCB_TEST_PASSCODE", SECRET, 1);
    unsetenv("TCB_TEST_MISSING");
    char path[] = "/tmp/tcb-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, SECRET, strlen(SECRET)), (ssize_t)strlen(SECRET));
    close(fd);
    struct step steps[8];
    keys_tried = 0;
    walk(tcb_config_root_schema(), steps, 0, path);
    unlink(path);
    assert_true(keys_tried > 60);
}

/* The keys whose checks used to quote values: a literal is still shown (it
 * helps), a substituted one never. */
static void test_cross_field_messages_show_literals_only(void **state)
{
    (void)state;
    setenv("TCB_TEST_PASSCODE", SECRET, 1);
    const char *yaml = "clevertap:\n"
                       "  default_account: \"${TCB_TEST_PASSCODE}\"\n"
                       "  accounts:\n"
                       "    - { name: a, account_id: b, passcode: p, region: eu1,\n"
                       "        endpoint: \"${TCB_TEST_PASSCODE}\" }\n"
                       "    - { name: c, account_id: d, passcode: p, region: eu1,\n"
                       "        endpoint: \"ftp://literal\" }\n";
    struct tcb_config_diag diag = {0};
    assert_null(load(yaml, &diag));
    assert_int_equal(diag.count, 3);
    assert_string_equal(diag.lines[0],
                        "test.yaml:2:20: default_account the value is not a configured account");
    assert_string_equal(diag.lines[1],
                        "test.yaml:5:19: endpoint the value must start with http:// or https://");
    assert_string_equal(diag.lines[2], "test.yaml:7:19: endpoint 'ftp://literal' must start with "
                                       "http:// or https://");
    tcb_config_diag_free(&diag);
}

static void expect_file_refused(const char *file, const char *why)
{
    char yaml[512];
    snprintf(yaml, sizeof(yaml), "ingest:\n  notification_secret: \"${file:%s}\"\n", file);
    struct tcb_config_diag diag = {0};
    alarm(20); /* a blocking open or read fails the test instead of hanging it */
    struct tcb_config *cfg = load(yaml, &diag);
    alarm(0);
    assert_null(cfg);
    assert_int_equal(diag.count, 1);
    if (strstr(diag.lines[0], "notification_secret: ") == NULL ||
        strstr(diag.lines[0], why) == NULL) {
        fail_msg("%s: %s", file, diag.lines[0]);
    }
    tcb_config_diag_free(&diag);
}

/* ${file:...} reads regular files only, after following links: a FIFO
 * without a writer, /dev/stdin from an open pipe, a device or a directory is
 * an error naming the key, never a hang. */
static void test_file_must_be_regular(void **state)
{
    (void)state;
    char dir[] = "/tmp/tcb-subst-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[128], link[128], target[128];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    snprintf(link, sizeof(link), "%s/link", dir);
    snprintf(target, sizeof(target), "%s/target", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_file_refused(fifo, "not a regular file");
    expect_file_refused(dir, "not a regular file");
    expect_file_refused("/dev/zero", "not a regular file");

    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0); /* stdin: a pipe whose writer stays open */
    int saved_stdin = dup(STDIN_FILENO);
    assert_true(dup2(pipe_fds[0], STDIN_FILENO) >= 0);
    expect_file_refused("/dev/stdin", "not a regular file");
    assert_true(dup2(saved_stdin, STDIN_FILENO) >= 0);
    close(saved_stdin);
    close(pipe_fds[0]);
    close(pipe_fds[1]);

    FILE *f = fopen(target, "w"); /* a link to a regular file is fine */
    assert_non_null(f);
    fputs("from-the-target\n", f);
    fclose(f);
    assert_int_equal(symlink(target, link), 0);
    char yaml[512];
    snprintf(yaml, sizeof(yaml), "ingest:\n  notification_secret: \"${file:%s}\"\n", link);
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = load(yaml, &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->ingest.notification_secret, "from-the-target");
    tcb_config_destroy(cfg);
    unlink(link);
    unlink(target);
    unlink(fifo);
    rmdir(dir);
}

static char *load_topic(const char *value, struct tcb_config_diag *diag)
{
    char yaml[512];
    snprintf(yaml, sizeof(yaml), "kafka:\n  topic: \"%s\"\n", value);
    struct tcb_config *cfg = load(yaml, diag);
    char *topic = cfg ? strdup(cfg->kafka.topic) : NULL;
    tcb_config_destroy(cfg);
    return topic;
}

/* A fallback may itself be a ${...}: expanded (lazily, only when used),
 * nested at most four deep; it was the literal text "${B}" before. */
static void test_nested_fallbacks_expand(void **state)
{
    (void)state;
    setenv("TCB_TEST_B", "bee", 1);
    unsetenv("TCB_TEST_NOPE");
    unsetenv("TCB_TEST_NOPE2");
    struct tcb_config_diag diag = {0};
    char *topic = load_topic("${TCB_TEST_NOPE:-${TCB_TEST_B}}", &diag);
    assert_non_null(topic);
    assert_string_equal(topic, "bee");
    free(topic);
    topic = load_topic("a-${TCB_TEST_NOPE:-${TCB_TEST_NOPE2:-lit}}-z", &diag);
    assert_string_equal(topic, "a-lit-z");
    free(topic);
    topic = load_topic("${TCB_TEST_B:-${file:/nonexistent/never-read}}", &diag);
    assert_string_equal(topic, "bee");
    free(topic);
    assert_int_equal(diag.count, 0);
    topic = load_topic("${TCB_TEST_NOPE:-${TCB_TEST_NOPE:-${TCB_TEST_NOPE:-${TCB_TEST_NOPE:-"
                       "${TCB_TEST_NOPE:-deep}}}}}",
                       &diag);
    assert_null(topic);
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.lines[0], "nested more than 4 deep"));
    tcb_config_diag_free(&diag);
    assert_null(load_topic("${TCB_TEST_NOPE:-${TCB_TEST_B}", &diag));
    assert_non_null(strstr(diag.lines[0], "unterminated"));
    tcb_config_diag_free(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_hides_substituted_values),
        cmocka_unit_test(test_cross_field_messages_show_literals_only),
        cmocka_unit_test(test_file_must_be_regular),
        cmocka_unit_test(test_nested_fallbacks_expand),
        cmocka_unit_test(test_env_and_fallback),
        cmocka_unit_test(test_file_substitution),
        cmocka_unit_test(test_missing_variable_names_key_and_variable),
        cmocka_unit_test(test_secrets_never_in_diagnostics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
