/* oracle.c - the C side of the differential tests in tests/test_core_c.py.
 *
 *   oracle lines TAGPRE < records
 *       records: 4-byte little-endian length, then that many bytes; one
 *       output line per record: describe_all() (describe.h), TAB-separated.
 *   oracle stream MAX TAGPRE SEED SKIP_BLANK < stream
 *       the framer's event log (event_log.h) for the stream fed in pieces of
 *       pseudo-random size drawn from SEED (0: all at once); on an
 *       invariant failure "FAILURE: ..." and exit status 1.
 * Python computes the same renderings with imaplib's regexes and with
 * imaplib._get_response itself (csrc/core/tests/imaplib_oracle.py).
 */
#include "event_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *
read_all(FILE *fp, size_t *n)
{
    size_t cap = 1 << 16, len = 0, k;
    unsigned char *buf = malloc(cap);
    while (buf && (k = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += k;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    if (buf == NULL) {
        perror("read");
        exit(2);
    }
    *n = len;
    return buf;
}

static int
do_lines(const char *tagpre)
{
    size_t n, off = 0;
    unsigned char *in = read_all(stdin, &n);
    dstr d;
    dstr_init(&d);
    while (off + 4 <= n) {
        size_t len = (size_t)in[off] | (size_t)in[off + 1] << 8 | (size_t)in[off + 2] << 16
                     | (size_t)in[off + 3] << 24;
        unsigned char *copy;
        off += 4;
        if (len > n - off) {
            fprintf(stderr, "truncated record\n");
            return 2;
        }
        /* An exact-size copy, so a sanitizer sees any over-read. */
        copy = malloc(len ? len : 1);
        memcpy(copy, in + off, len);
        d.len = 0;
        describe_all(&d, copy, len, (const unsigned char *)tagpre, strlen(tagpre));
        fwrite(d.s, 1, d.len, stdout);
        putchar('\n');
        free(copy);
        off += len;
    }
    dstr_free(&d);
    free(in);
    return 0;
}

static int
do_stream(size_t max, const char *tagpre, unsigned long long seed, int skip_blank)
{
    size_t n, off = 0;
    unsigned char *in = read_all(stdin, &n);
    event_log f;
    int rc = 0;
    elog_init(&f, max, tagpre, skip_blank);
    while (off < n) {
        size_t k = n - off;
        if (seed) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            k = (size_t)(seed >> 33) % 17 + 1;
            if ((seed >> 20) % 8 == 0)
                k += (size_t)(seed >> 40) % 300;
            if (k > n - off)
                k = n - off;
        }
        elog_feed(&f, in + off, k);
        off += k;
    }
    elog_finish(&f);
    if (f.failure[0]) {
        printf("FAILURE: %s\n", f.failure);
        rc = 1;
    } else {
        fwrite(f.log.s ? f.log.s : "", 1, f.log.len, stdout);
    }
    elog_free(&f);
    free(in);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "lines") == 0)
        return do_lines(argv[2]);
    if (argc == 6 && strcmp(argv[1], "stream") == 0)
        return do_stream((size_t)strtoull(argv[2], NULL, 10), argv[3],
                         strtoull(argv[4], NULL, 10), atoi(argv[5]));
    fprintf(stderr, "usage: %s lines TAGPRE | stream MAX TAGPRE SEED SKIP_BLANK\n", argv[0]);
    return 2;
}
