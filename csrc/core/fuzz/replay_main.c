/* replay_main.c - run a fuzz target over corpus files without libFuzzer.
 *
 *   fuzz/build/replay/fuzz_x FILE_OR_DIR...
 * Each file is copied into an exact-size heap buffer and passed to
 * LLVMFuzzerTestOneInput, so the checked-in corpus is a regression test
 * under gcc (`make fuzz-replay`, tests/test_core_c.py) and under
 * valgrind or ASan when built that way.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t nfiles, nbytes;

static int
run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf;
    long sz;
    if (fp == NULL) {
        perror(path);
        return -1;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return -1;
    }
    buf = malloc(sz ? (size_t)sz : 1);
    if (buf == NULL || fread(buf, 1, (size_t)sz, fp) != (size_t)sz) {
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, (size_t)sz);
    free(buf);
    nfiles++;
    nbytes += (size_t)sz;
    return 0;
}

static int
run_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int rc = 0;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    d = opendir(path);
    if (d == NULL) {
        perror(path);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char sub[4096];
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        if (run_path(sub) < 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    int i, rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++)
        if (run_path(argv[i]) < 0)
            rc = 1;
    printf("%s: replayed %zu inputs (%zu bytes)%s\n", argv[0], nfiles, nbytes,
           rc ? " with errors" : "");
    if (nfiles == 0) {
        fprintf(stderr, "%s: no inputs found\n", argv[0]);
        rc = 1;
    }
    return rc;
}
