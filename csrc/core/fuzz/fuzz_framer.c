/* fuzz_framer.c - the shipped response framer (imapc_framer.c) over
 * arbitrary server streams.
 *
 * Input: byte 0 picks _MAXLINE, the tag prefix and skip_blank, byte 1 the
 * chunking and how the host feeds the framer (bytes; lines and literals
 * it reads itself, as with an overridden readline/read; taking long
 * lines out of the buffer; or asking for runs of untagged responses
 * with IMAPC_NEXT_UNTAGGED first), byte 2 a seed and the long-line threshold;
 * the rest is the server's byte stream.  The stream is framed twice --
 * in the chosen pieces and way, and all at once from bytes -- by the
 * event-log host (tests/event_log.c).  Checked:
 *  - the host's invariants: bytes taken by events == bytes fed - bytes
 *    buffered at every step, a completed literal holds exactly its
 *    declared size (a short one only at EOF), literal digits and
 *    classifier spans inside their line, the receive buffer never larger
 *    than ~2x the bytes it holds (never sized from a declared {N}), an
 *    EOF event and everything consumed at the end;
 *  - split and host invariance: both runs produce the same event log.
 * A declared {huge} cannot OOM: literal bytes are only ever the bytes fed
 * (and `make fuzz` runs with -malloc_limit_mb as the capped allocator).
 */
#include "event_log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t maxes[16] = {
    0, 1, 2, 3, 4, 5, 8, 12, 16, 24, 40, 64, 100, 1000, 1000000, SIZE_MAX - 1,
};
static const char *const tagpres[4] = {"ABCD", "B", "PPPP", "AB"};

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_framer: %s: %s\n", what, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t max, off = 0, len;
    unsigned mode, seed;
    const char *tagpre;
    const unsigned char *s;
    int skip_blank;
    elog_mode how;
    event_log a;
    dstr whole;

    if (size < 3)
        return 0;
    max = maxes[data[0] & 15];
    mode = data[1] & 7;
    seed = data[2] | (unsigned)data[1] << 8;
    tagpre = tagpres[data[0] >> 6];
    skip_blank = (data[0] >> 4) & 1;
    s = data + 3;
    len = size - 3;
    how = (elog_mode)((data[1] >> 3) % 4);
    if (how == ELOG_LONG && max < len)
        how = ELOG_BYTES; /* the host would have to check _MAXLINE itself */

    elog_init(&a, max, tagpre, skip_blank);
    elog_set_mode(&a, how, (size_t)(data[2] & 31) + 1);
    while (off < len && !a.failure[0]) {
        size_t k;
        switch (mode) {
        case 0: /* all at once */
            k = len;
            break;
        case 1: /* byte at a time */
            k = 1;
            break;
        case 2: /* fixed pieces */
            k = (size_t)data[2] + 1;
            break;
        default: /* pseudo-random pieces, sometimes empty-looking tiny */
            seed = seed * 1103515245u + 12345u;
            k = (seed >> 16) % (mode == 7 ? 300 : 9) + 1;
            break;
        }
        if (k > len - off)
            k = len - off;
        elog_feed(&a, s + off, k);
        off += k;
    }
    elog_finish(&a);
    if (a.failure[0])
        die("invariant", a.failure);
    if (a.consumed != a.fed || a.fed != len)
        die("accounting", "bytes fed/consumed/stream differ");

    if (elog_run(s, len, max, tagpre, skip_blank, 0, &whole) < 0)
        die("invariant (whole stream)", whole.s);
    if (whole.len != a.log.len || (whole.len && memcmp(whole.s, a.log.s, whole.len) != 0)) {
        fprintf(stderr, "--- chunked:\n%s--- whole:\n%s", a.log.s ? a.log.s : "",
                whole.s ? whole.s : "");
        die("split invariance", "event logs differ");
    }
    dstr_free(&whole);
    elog_free(&a);
    return 0;
}
