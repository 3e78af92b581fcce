/* Golden cases for `clevertap-sink --transform`: each folder of
 * tests/transforms/golden/ holds input.json (message values, one a line; one
 * pretty JSON document is fed as one line), optional headers.json and
 * config.yaml (else config-path, naming a shipped file such as
 * config/example.yaml, else golden/default.yaml), and expected.json, the
 * exact output at TCB_TRANSFORM_NOW=1700000000. TCB_GOLDEN_UPDATE=1 rewrites expected.json
 * (authoring only: every expected file is reviewed by hand); it refuses to
 * run when CI is set, since a rewritten file can never fail its comparison. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "consumer/transform_cli.h"

#define GOLDEN_DIR "tests/transforms/golden"
#define GOLDEN_NOW "1700000000"

/* The whole file in a new malloc'd buffer (NUL-terminated), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)size + 1)) != NULL) {
        *len = fread(data, 1, (size_t)size, f);
        data[*len] = '\0';
    }
    fclose(f);
    return data;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Writes the CLI input for a case into a new temp file; returns its path
 * (static buffer). A single JSON document is fed as one line. */
static const char *prepare_input(const char *case_dir)
{
    static char tmp[64];
    char path[512];
    size_t len = 0;
    char *data;
    json_t *doc;
    int fd;
    snprintf(path, sizeof(path), "%s/input.json", case_dir);
    data = slurp(path, &len);
    assert_non_null(data);
    doc = json_loadb(data, len, 0, NULL);
    if (doc != NULL) {
        for (size_t i = 0; i < len; i++) {
            data[i] = data[i] == '\n' || data[i] == '\r' ? ' ' : data[i];
        }
        while (len > 0 && data[len - 1] == ' ') {
            len--;
        }
        data[len++] = '\n';
        json_decref(doc);
    }
    snprintf(tmp, sizeof(tmp), "/tmp/tcb-golden-XXXXXX");
    fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    free(data);
    return tmp;
}

/* The shipped file named by case_dir/config-path into path; 0, or -1 when
 * the case has none. The shipped example takes its secrets from the
 * environment: any value will do here. */
static int shipped_config(const char *case_dir, char *path, size_t path_len)
{
    char ref[512];
    size_t len = 0;
    char *text;
    snprintf(ref, sizeof(ref), "%s/config-path", case_dir);
    text = slurp(ref, &len);
    if (text == NULL) {
        return -1;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ')) {
        text[--len] = '\0';
    }
    snprintf(path, path_len, "%s", text);
    free(text);
    setenv("CLEVERTAP_PASSCODE_SHOP_EU", "golden-passcode", 1);
    setenv("TALON_NOTIFICATION_SECRET", "golden-secret", 1);
    return 0;
}

static struct tcb_config *load_config(const char *case_dir)
{
    char path[512];
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg;
    snprintf(path, sizeof(path), "%s/config.yaml", case_dir);
    if (!exists(path) && shipped_config(case_dir, path, sizeof(path)) != 0) {
        snprintf(path, sizeof(path), "%s/default.yaml", GOLDEN_DIR);
    }
    cfg = tcb_config_load_file(path, &diag);
    for (size_t i = 0; i < diag.count; i++) {
        print_error("%s\n", diag.lines[i]);
    }
    tcb_config_diag_free(&diag);
    return cfg;
}

static void set_headers(const char *case_dir)
{
    char path[512];
    size_t len;
    char *headers;
    snprintf(path, sizeof(path), "%s/headers.json", case_dir);
    headers = slurp(path, &len);
    if (headers != NULL) {
        setenv("TCB_TRANSFORM_HEADERS", headers, 1);
    } else {
        unsetenv("TCB_TRANSFORM_HEADERS");
    }
    free(headers);
}

/* Runs one case; returns 0 when the output matches expected.json. */
/* 1 when TCB_GOLDEN_UPDATE asks to rewrite expected files. */
static int updating(void)
{
    return getenv("TCB_GOLDEN_UPDATE") != NULL;
}

static int run_case(const char *name)
{
    char case_dir[256], expected_path[512];
    char *actual = NULL, *expected;
    size_t actual_len = 0, expected_len = 0;
    struct tcb_config *cfg;
    const char *input;
    FILE *out;
    int rc, ok;
    snprintf(case_dir, sizeof(case_dir), "%s/%s", GOLDEN_DIR, name);
    snprintf(expected_path, sizeof(expected_path), "%s/expected.json", case_dir);
    cfg = load_config(case_dir);
    if (cfg == NULL) {
        print_error("case %s: config does not load\n", name);
        return -1;
    }
    set_headers(case_dir);
    input = prepare_input(case_dir);
    out = open_memstream(&actual, &actual_len);
    assert_non_null(out);
    rc = tcb_transform_cli_run(cfg, input, out);
    fclose(out);
    unlink(input);
    tcb_config_destroy(cfg);
    if (updating()) {
        FILE *f = fopen(expected_path, "wb");
        assert_non_null(f);
        fwrite(actual, 1, actual_len, f);
        fclose(f);
    }
    expected = slurp(expected_path, &expected_len);
    ok = rc == 0 && expected != NULL && expected_len == actual_len &&
         memcmp(expected, actual, actual_len) == 0;
    if (!ok) {
        print_error("case %s: rc %d\n  expected: %s\n  actual:   %s\n", name, rc,
                    expected != NULL ? expected : "(missing expected.json)", actual);
    }
    free(expected);
    free(actual);
    return ok ? 0 : -1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden_cases(void **state)
{
    DIR *dir = opendir(GOLDEN_DIR);
    struct dirent *ent;
    char *names[512];
    size_t count = 0, failed = 0;
    (void)state;
    assert_non_null(dir);
    setenv("TCB_TRANSFORM_NOW", GOLDEN_NOW, 1);
    while ((ent = readdir(dir)) != NULL && count < 512) {
        char input[512];
        snprintf(input, sizeof(input), "%s/%s/input.json", GOLDEN_DIR, ent->d_name);
        if (ent->d_name[0] != '.' && exists(input)) {
            names[count++] = strdup(ent->d_name);
        }
    }
    closedir(dir);
    qsort(names, count, sizeof(names[0]), compare_names);
    for (size_t i = 0; i < count; i++) {
        failed += run_case(names[i]) != 0;
        free(names[i]);
    }
    print_message("%zu golden cases, %zu failed\n", count, failed);
    assert_true(count >= 60);
    assert_int_equal(failed, 0);
}

/* The real binary gives the same line as the in-process run. */
static void test_binary_matches(void **state)
{
    const char *bin_dir = getenv("TCB_BIN_DIR");
    char cmd[1024], line[4096];
    const char *case_dir = GOLDEN_DIR "/envelope-mixed";
    char *expected;
    size_t len;
    FILE *p;
    (void)state;
    if (bin_dir == NULL) {
        skip();
    }
    snprintf(cmd, sizeof(cmd),
             "TCB_TRANSFORM_NOW=" GOLDEN_NOW " %s/clevertap-sink --config %s/default.yaml "
             "--transform - < %s/input.json",
             bin_dir, GOLDEN_DIR, case_dir);
    unsetenv("TCB_TRANSFORM_HEADERS");
    p = popen(cmd, "r"); /* NOLINT(cert-env33-c): the test runs the real binary */
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof(line), p));
    assert_int_equal(pclose(p), 0);
    snprintf(cmd, sizeof(cmd), "%s/expected.json", case_dir);
    expected = slurp(cmd, &len);
    assert_non_null(expected);
    assert_string_equal(line, expected);
    free(expected);
}

/* A file that cannot be opened, or malformed knobs, end the run with 1 and
 * print nothing; a missing trailing newline still gives its line; output that
 * cannot be written ends it with 1 too. */
static void test_cli_errors(void **state)
{
    struct tcb_config *cfg = load_config(GOLDEN_DIR);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    char tmp[] = "/tmp/tcb-cli-XXXXXX";
    int fd = mkstemp(tmp);
    (void)state;
    assert_non_null(cfg);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"d\":[]}", 8), 8);
    close(fd);
    unsetenv("TCB_TRANSFORM_HEADERS");
    assert_int_equal(tcb_transform_cli_run(cfg, "/nonexistent/input.ndjson", out), 1);
    setenv("TCB_TRANSFORM_NOW", "yesterday", 1);
    assert_int_equal(tcb_transform_cli_run(cfg, tmp, out), 1);
    setenv("TCB_TRANSFORM_NOW", GOLDEN_NOW, 1);
    setenv("TCB_TRANSFORM_HEADERS", "[1]", 1);
    assert_int_equal(tcb_transform_cli_run(cfg, tmp, out), 1);
    unsetenv("TCB_TRANSFORM_HEADERS");
    fflush(out);
    assert_int_equal(len, 0);
    assert_int_equal(tcb_transform_cli_run(cfg, tmp, out), 0);
    fclose(out);
    assert_string_equal(text, "{\"records\":[],\"dead_letters\":[]}\n");
    free(text);
    /* Output that cannot be written (disk full) is a failed run, not exit 0
     * with results silently missing. */
    out = fopen("/dev/full", "w");
    assert_non_null(out);
    assert_int_equal(tcb_transform_cli_run(cfg, tmp, out), 1);
    fclose(out);
    unlink(tmp);
    tcb_config_destroy(cfg);
}

int main(void)
{
    if (updating() && getenv("CI") != NULL) {
        fprintf(stderr,
                "TCB_GOLDEN_UPDATE rewrites the expected files and cannot run with CI set\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_cases),
        cmocka_unit_test(test_binary_matches),
        cmocka_unit_test(test_cli_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
