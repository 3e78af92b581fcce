/* Plain driver for libFuzzer targets: feeds every file of the directories (or
 * files) named on the command line to LLVMFuzzerTestOneInput once, so each
 * fuzz corpus runs as an ordinary ctest under the sanitizers. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (4u * 1024 * 1024)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    uint8_t *data = malloc(REPLAY_MAX_INPUT);
    size_t n = data ? fread(data, 1, REPLAY_MAX_INPUT, f) : 0;
    fclose(f);
    if (!data) {
        return -1;
    }
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 0;
}

static int replay_path(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such corpus %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path);
    }
    DIR *dir = opendir(path);
    if (!dir) {
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
        if (replay_path(child, count) != 0) {
            rc = -1;
        }
    }
    closedir(dir);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (replay_path(argv[i], &count) != 0) {
            rc = 1;
        }
    }
    printf("replayed %d inputs: %d passed, 0 failed\n", count, count);
    return rc || count == 0;
}
