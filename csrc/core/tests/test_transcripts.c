/* test_transcripts.c - frame each transcript at every split point.
 *
 * A transcript (csrc/core/tests/transcripts/ *.txt) is a server byte stream and
 * the event log it must produce (event_log.h):
 *   # comment
 *   !max N          _MAXLINE for this stream (default 1000000)
 *   !tagpre ABCD    the connection's tag prefix (default ABCD)
 *   !skip_blank     frame as imaplib 3.13.x+ does: blank lines skipped
 *   > bytes         a piece of the stream, C escapes (\r \n \xHH ...);
 *                   the file's own newlines are not part of the stream
 *   = event         one expected event line
 * Each stream is fed whole, in every chunk size 1..len (so byte-at-a-time
 * too), split in two at every offset 0..len, and in three around every
 * CR, each run into a fresh instance of the shipped framer
 * (csrc/core/imapc_framer.c); every run must produce exactly the
 * expected log.
 * tests/test_core_c.py checks the same expected logs against CPython's
 * imaplib.
 *
 * Usage: test_transcripts FILE...      (TAP)
 *        test_transcripts --print FILE (the log the framer produces)
 */
#include "event_log.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *stream;
    size_t len;
    size_t max;
    int skip_blank;
    char tagpre[32];
    dstr expect;
} transcript;

static char *
slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long sz;
    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return NULL;
    }
    buf = malloc((size_t)sz + 1);
    if (buf == NULL || fread(buf, 1, (size_t)sz, fp) != (size_t)sz) {
        free(buf);
        fclose(fp);
        return NULL;
    }
    buf[sz] = '\0';
    fclose(fp);
    *n = (size_t)sz;
    return buf;
}

static int
load(const char *path, transcript *t)
{
    size_t n, i = 0;
    char *text = slurp(path, &n);
    int lineno = 0;
    if (text == NULL) {
        perror(path);
        return -1;
    }
    memset(t, 0, sizeof(*t));
    t->max = 1000000;
    strcpy(t->tagpre, "ABCD");
    t->stream = malloc(n + 1);
    dstr_init(&t->expect);
    while (i < n) {
        char *ln = text + i, *nl = memchr(ln, '\n', n - i);
        size_t ll = nl ? (size_t)(nl - ln) : n - i;
        i += ll + (nl != NULL);
        lineno++;
        if (ll > 0 && ln[ll - 1] == '\r')
            ll--;
        if (ll == 0 || ln[0] == '#')
            continue;
        if (ll >= 2 && ln[0] == '>' && ln[1] == ' ') {
            size_t k = unescape(ln + 2, ll - 2, t->stream + t->len);
            if (k == (size_t)-1) {
                fprintf(stderr, "%s:%d: bad escape\n", path, lineno);
                free(text);
                return -1;
            }
            t->len += k;
        } else if (ll >= 2 && ln[0] == '=' && ln[1] == ' ') {
            char save = ln[ll];
            ln[ll] = '\0';
            dstr_puts(&t->expect, ln + 2);
            dstr_putc(&t->expect, '\n');
            ln[ll] = save;
        } else if (ll > 5 && memcmp(ln, "!max ", 5) == 0) {
            t->max = (size_t)strtoull(ln + 5, NULL, 10);
        } else if (ll == 11 && memcmp(ln, "!skip_blank", 11) == 0) {
            t->skip_blank = 1;
        } else if (ll > 8 && memcmp(ln, "!tagpre ", 8) == 0 && ll - 8 < sizeof(t->tagpre)) {
            memcpy(t->tagpre, ln + 8, ll - 8);
            t->tagpre[ll - 8] = '\0';
        } else {
            fprintf(stderr, "%s:%d: unrecognised line\n", path, lineno);
            free(text);
            return -1;
        }
    }
    free(text);
    return 0;
}

static void
unload(transcript *t)
{
    free(t->stream);
    dstr_free(&t->expect);
}

/* One run: feed the pieces given by `cuts` (offsets, ascending). */
static elog_mode mode; /* of the runs in progress */

/* The long-line threshold of ELOG_LONG runs: small, so that most lines of
 * a transcript are taken by the host. */
#define LONG_AT 6

static int
run_cuts(const transcript *t, const size_t *cuts, size_t ncuts, dstr *log)
{
    event_log f;
    size_t prev = 0, i;
    int r = 0;
    elog_init(&f, t->max, t->tagpre, t->skip_blank);
    elog_set_mode(&f, mode, LONG_AT);
    for (i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : t->len;
        if (end > prev)
            elog_feed(&f, t->stream + prev, end - prev);
        prev = end;
    }
    elog_finish(&f);
    dstr_init(log);
    if (f.failure[0]) {
        dstr_puts(log, "FAILURE: ");
        dstr_puts(log, f.failure);
        r = -1;
    } else {
        *log = f.log;
        dstr_init(&f.log);
    }
    elog_free(&f);
    return r;
}

static int
same(const dstr *log, const dstr *want)
{
    return log->len == want->len && (want->len == 0 || memcmp(log->s, want->s, want->len) == 0);
}

static const char *const mode_names[] = {"bytes", "lines", "long", "run"};

/* Every split of one transcript, with the host in the current mode. */
static void
test_splits(const transcript *tp, const char *file)
{
    transcript t = *tp;
    dstr log;
    size_t k, bad_chunk = 0, bad_split = 0, first_chunk = 0, first_split = 0;
    size_t *cuts;
    char name[300];

    snprintf(name, sizeof(name), "%s [%s]", file, mode_names[mode]);
    /* Whole stream in one piece. */
    run_cuts(&t, NULL, 0, &log);
    is_mem(log.s, log.len, t.expect.s, t.expect.len, "%s: whole stream", name);
    dstr_free(&log);
    /* Every chunk size 1..len (1 = byte at a time). */
    cuts = malloc((t.len + 1) * sizeof(*cuts));
    for (k = 1; k <= t.len; k++) {
        size_t n = 0, off;
        for (off = k; off < t.len; off += k)
            cuts[n++] = off;
        run_cuts(&t, cuts, n, &log);
        if (!same(&log, &t.expect)) {
            if (bad_chunk++ == 0) {
                first_chunk = k;
                is_mem(log.s, log.len, t.expect.s, t.expect.len, "%s: chunks of %zu", name, k);
            }
        }
        dstr_free(&log);
    }
    ok(bad_chunk == 0, "%s: all %zu chunk sizes agree (%zu differ, first %zu)", name, t.len,
       bad_chunk, first_chunk);

    /* Every two-piece split, including the empty first/last piece. */
    for (k = 0; k <= t.len; k++) {
        cuts[0] = k;
        run_cuts(&t, cuts, 1, &log);
        if (!same(&log, &t.expect)) {
            if (bad_split++ == 0) {
                first_split = k;
                is_mem(log.s, log.len, t.expect.s, t.expect.len, "%s: split at %zu", name, k);
            }
        }
        dstr_free(&log);
    }
    ok(bad_split == 0, "%s: all %zu two-piece splits agree (%zu differ, first at %zu)", name,
       t.len + 1, bad_split, first_split);

    /* Three pieces around each line end: CR and LF in different reads. */
    {
        size_t bad3 = 0;
        for (k = 0; k + 1 < t.len; k++) {
            if (t.stream[k] != '\r')
                continue;
            cuts[0] = k;
            cuts[1] = k + 1;
            run_cuts(&t, cuts, 2, &log);
            bad3 += !same(&log, &t.expect);
            dstr_free(&log);
        }
        ok(bad3 == 0, "%s: CR|LF split in every line agrees (%zu differ)", name, bad3);
    }
    free(cuts);
}

static void
test_file(const char *path)
{
    transcript t;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

    if (load(path, &t) < 0) {
        ok(0, "%s: load", name);
        return;
    }
    ok(t.len > 0 && t.expect.len > 0, "%s: %zu stream bytes, expected log present", name, t.len);
    for (mode = ELOG_BYTES; mode <= ELOG_RUN; mode++) {
        /* A host that takes a long line checks _MAXLINE itself (the
         * binding breaks the connection): only where no line reaches it. */
        if (mode == ELOG_LONG && t.max < t.len)
            continue;
        test_splits(&t, name);
    }
    mode = ELOG_BYTES;
    unload(&t);
}

int
main(int argc, char **argv)
{
    int i;
    if (argc == 3 && strcmp(argv[1], "--print") == 0) {
        transcript t;
        dstr log;
        if (load(argv[2], &t) < 0)
            return 2;
        run_cuts(&t, NULL, 0, &log);
        fwrite(log.s ? log.s : "", 1, log.len, stdout);
        dstr_free(&log);
        unload(&t);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE... | --print FILE\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++)
        test_file(argv[i]);
    return done_testing();
}
