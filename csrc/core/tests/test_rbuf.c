/* test_rbuf.c - the receive buffer and imaplib's readline(_MAXLINE + 1) rule. */
#include "tap.h"
#include "imapc_cmd.h"
#include "imapc_framer.h"
#include "imapc_rbuf.h"
#include "imapc_resp.h"

#include <stdint.h>

static void
put(imapc_rbuf *b, const char *s, size_t n)
{
    size_t space = 0;
    unsigned char *dst = imapc_rbuf_reserve(b, n, &space);
    if (dst == NULL || space < n) {
        ok(0, "reserve(%zu)", n);
        return;
    }
    memcpy(dst, s, n);
    imapc_rbuf_commit(b, n);
}
#define PUT(b, s) put((b), (s), sizeof(s) - 1)

static const char *
stname(imapc_line_status s)
{
    return s == IMAPC_LINE_FOUND ? "FOUND" : s == IMAPC_LINE_NEED_MORE ? "NEED_MORE"
                                          : s == IMAPC_LINE_TOO_LONG  ? "TOO_LONG" : "?";
}

/* A line is accepted when its length including LF is <= max. */
static const struct {
    const char *in;
    size_t len, max;
    imapc_line_status want;
    size_t want_len;
} line_cases[] = {
    {"ab\n", 3, 3, IMAPC_LINE_FOUND, 3},
    {"ab\n", 3, 4, IMAPC_LINE_FOUND, 3},
    {"ab\n", 3, 2, IMAPC_LINE_TOO_LONG, 0},  /* readline(3) gets "ab\n": 3 > 2 */
    {"ab", 2, 2, IMAPC_LINE_NEED_MORE, 0},   /* a third byte decides */
    {"abc", 3, 2, IMAPC_LINE_TOO_LONG, 0},
    {"", 0, 0, IMAPC_LINE_NEED_MORE, 0},
    {"", 0, 5, IMAPC_LINE_NEED_MORE, 0},
    {"\n", 1, 0, IMAPC_LINE_TOO_LONG, 0},
    {"\n", 1, 1, IMAPC_LINE_FOUND, 1},
    {"a\nb\n", 4, 5, IMAPC_LINE_FOUND, 2},
    {"a\nb\n", 4, 1, IMAPC_LINE_TOO_LONG, 0},
    {"\r\n", 2, 2, IMAPC_LINE_FOUND, 2},
    {"a\0b\n", 4, 4, IMAPC_LINE_FOUND, 4},   /* NUL is an ordinary byte */
    {"abc", 3, SIZE_MAX - 1, IMAPC_LINE_NEED_MORE, 0},
    {"abc\n", 4, SIZE_MAX - 1, IMAPC_LINE_FOUND, 4},
    {"abc\n", 4, SIZE_MAX, IMAPC_LINE_FOUND, 4},
};

static void
test_line_table(void)
{
    size_t i;
    for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
        imapc_rbuf b;
        size_t len = 0;
        imapc_line_status st;
        imapc_rbuf_init(&b);
        if (line_cases[i].len)
            put(&b, line_cases[i].in, line_cases[i].len);
        st = imapc_rbuf_find_line(&b, line_cases[i].max, &len);
        ok(st == line_cases[i].want && (st != IMAPC_LINE_FOUND || len == line_cases[i].want_len),
           "find_line[%zu] max %zu: %s %zu (want %s %zu)", i, line_cases[i].max, stname(st),
           st == IMAPC_LINE_FOUND ? len : 0, stname(line_cases[i].want), line_cases[i].want_len);
        imapc_rbuf_free(&b);
    }
}

static void
test_incremental(void)
{
    imapc_rbuf b;
    size_t len = 0;

    /* Never allocated: no access through the NULL data pointer. */
    imapc_rbuf_init(&b);
    ok(imapc_rbuf_avail(&b) == 0 && b.data == NULL, "fresh buffer is empty and unallocated");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_NEED_MORE, "find_line on fresh buffer");
    ok(imapc_rbuf_find_line(&b, 0, &len) == IMAPC_LINE_NEED_MORE, "find_line max 0, nothing held");

    /* A line arriving in pieces: the scan resumes where it stopped. */
    PUT(&b, "abc");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_NEED_MORE && b.scan == 3,
       "piece 1: need more, scanned 3");
    PUT(&b, "de");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_NEED_MORE && b.scan == 5,
       "piece 2: need more, scanned 5");
    PUT(&b, "\nxy");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_FOUND && len == 6, "piece 3: line of 6");
    ok(memcmp(imapc_rbuf_peek(&b), "abcde\n", 6) == 0, "line bytes intact");
    imapc_rbuf_consume(&b, len);
    ok(b.scan == 0 && imapc_rbuf_avail(&b) == 2, "consume resets scan");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_NEED_MORE, "tail: need more");

    /* The maximum may change between calls (a test patching _MAXLINE). */
    PUT(&b, "abcdef"); /* "xyabcdef" */
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_NEED_MORE, "8 bytes, max 100");
    ok(imapc_rbuf_find_line(&b, 4, &len) == IMAPC_LINE_TOO_LONG, "same bytes, max 4: too long");
    PUT(&b, "\n");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_FOUND && len == 9, "max 100 again: 9");
    ok(imapc_rbuf_find_line(&b, 9, &len) == IMAPC_LINE_FOUND && len == 9, "max 9: 9");
    ok(imapc_rbuf_find_line(&b, 8, &len) == IMAPC_LINE_TOO_LONG, "max 8: too long");
    imapc_rbuf_consume(&b, 9);
    ok(imapc_rbuf_avail(&b) == 0 && b.start == 0 && b.end == 0, "consume all rewinds");

    /* A partial consume (literal bytes) in the middle of a scanned run. */
    PUT(&b, "lit12");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_NEED_MORE, "literal bytes scanned");
    imapc_rbuf_consume(&b, 3);
    PUT(&b, "\r\n");
    ok(imapc_rbuf_find_line(&b, 100, &len) == IMAPC_LINE_FOUND && len == 4
           && memcmp(imapc_rbuf_peek(&b), "12\r\n", 4) == 0,
       "line after a partial consume");
    imapc_rbuf_free(&b);
    ok(b.data == NULL && b.cap == 0, "free resets");
}

static void
test_memory(void)
{
    imapc_rbuf b;
    size_t space = 0, len = 0, i, cap0;
    unsigned char *p;
    static char big[200000];
    int same = 1;

    imapc_rbuf_init(&b);
    p = imapc_rbuf_reserve(&b, 0, &space);
    ok(p != NULL && space >= 1, "reserve(0) gives space");
    cap0 = b.cap;
    ok(cap0 >= 1 && cap0 <= ((size_t)64 << 10), "first allocation is small (%zu)", cap0);

    /* Compaction: a short unread tail moves to the front, no growth. */
    for (i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    put(&b, big, cap0 - 10);
    imapc_rbuf_consume(&b, cap0 - 20);
    p = imapc_rbuf_reserve(&b, cap0 / 2, &space);
    ok(p != NULL && b.start == 0 && b.end == 10 && b.cap == cap0,
       "compaction instead of growth (start %zu end %zu cap %zu)", b.start, b.end, b.cap);
    ok(memcmp(imapc_rbuf_peek(&b), big + cap0 - 20, 10) == 0, "tail preserved by compaction");

    /* Growth keeps the data. */
    p = imapc_rbuf_reserve(&b, sizeof(big), &space);
    ok(p != NULL && space >= sizeof(big) && b.cap < 2 * (sizeof(big) + 10) + cap0,
       "growth to %zu for %zu", b.cap, sizeof(big) + 10);
    ok(memcmp(imapc_rbuf_peek(&b), big + cap0 - 20, 10) == 0, "tail preserved by growth");
    memcpy(p, big, sizeof(big));
    imapc_rbuf_commit(&b, sizeof(big));
    ok(imapc_rbuf_avail(&b) == sizeof(big) + 10, "avail after a big commit");

    /* Impossible reservations fail cleanly. */
    ok(imapc_rbuf_reserve(&b, SIZE_MAX, &space) == NULL, "reserve(SIZE_MAX) fails");
    ok(imapc_rbuf_reserve(&b, SIZE_MAX - b.end + 1, &space) == NULL, "reserve past SIZE_MAX fails");
    ok(imapc_rbuf_avail(&b) == sizeof(big) + 10
           && memcmp(imapc_rbuf_peek(&b), big + cap0 - 20, 10) == 0,
       "buffer intact after failed reserves");

    /* clear keeps a small allocation ... */
    imapc_rbuf_clear(&b);
    ok(imapc_rbuf_avail(&b) == 0 && b.data != NULL && b.scan == 0, "clear keeps a small buffer");
    /* ... and gives back a big one. */
    p = imapc_rbuf_reserve(&b, (size_t)3 << 20, &space);
    ok(p != NULL && b.cap > ((size_t)1 << 20), "grown past 1 MB");
    imapc_rbuf_clear(&b);
    ok(b.data == NULL && b.cap == 0, "clear releases a big buffer");
    ok(imapc_rbuf_find_line(&b, 10, &len) == IMAPC_LINE_NEED_MORE, "find_line after release");
    PUT(&b, "ok\n");
    ok(imapc_rbuf_find_line(&b, 10, &len) == IMAPC_LINE_FOUND && len == 3, "usable again");

    /* Data survives many small reserve/commit/consume cycles. */
    imapc_rbuf_clear(&b);
    for (i = 0; i < 100000 && same; i++) {
        char c = (char)('A' + i % 26);
        put(&b, &c, 1);
        if (i % 3 == 2) {
            const unsigned char *q = imapc_rbuf_peek(&b);
            same = imapc_rbuf_avail(&b) == 3 && q[0] == 'A' + (i - 2) % 26
                   && q[1] == 'A' + (i - 1) % 26 && q[2] == 'A' + i % 26;
            imapc_rbuf_consume(&b, 3);
        }
    }
    ok(same && b.cap <= cap0, "100000 byte-sized cycles keep order, no growth (cap %zu)", b.cap);
    imapc_rbuf_free(&b);
}

int
main(void)
{
    test_line_table();
    test_incremental();
    test_memory();
    return done_testing();
}
