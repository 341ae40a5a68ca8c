/* fuzz_resp.c - the per-line parsers on arbitrary bytes.
 *
 * Input: byte 0 picks the tag prefix; the rest is one line (any bytes:
 * LF, NUL, >= 0x80 included).  Every per-line parser in the core runs on
 * it -- imapc_resp_classify, imapc_literal_size, imapc_resp_code -- plus
 * the command helpers imapc_arg_ctl and the CRLF mapper (imapc_crlf_*).
 * Each result is checked against a deliberately naive re-statement of
 * imaplib's pattern written here independently of the core (try every
 * start position, no clever scanning), and every span must lie inside the
 * line.  Lines are copied to exact-size heap buffers so ASan flags any
 * read past the end.
 */
#include "imapc_cmd.h"
#include "imapc_framer.h"
#include "imapc_rbuf.h"
#include "imapc_resp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tagpres[4] = {"ABCD", "B", "PPPP", "AB"};

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_resp: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static int
dig(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
up(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int
updash(unsigned char c)
{
    return up(c) || c == '-';
}

static int
inb(const imapc_span *s, size_t n)
{
    return !s->present || (s->off <= n && s->len <= n - s->off);
}

/* `.*` from off: does the span [off, off+len) stop exactly at LF or end? */
static int
dot_to_eol(const unsigned char *p, size_t n, size_t off, size_t len)
{
    size_t i;
    for (i = off; i < off + len; i++)
        if (p[i] == '\n')
            return 0;
    return off + len == n || p[off + len] == '\n';
}

/* Naive regex pieces: run of a class from i. */
static size_t
run(const unsigned char *p, size_t n, size_t i, int (*cls)(unsigned char))
{
    size_t j = i;
    while (j < n && cls(p[j]))
        j++;
    return j - i;
}

static void
check_classify(const unsigned char *p, size_t n, const char *tp)
{
    size_t tl = strlen(tp), d, t, i;
    imapc_resp r;
    int tagged = 0, untagged = 0, status = 0, cont = 0;

    imapc_resp_classify(p, n, (const unsigned char *)tp, tl, &r);
    CHECK(inb(&r.tag, n) && inb(&r.type, n) && inb(&r.num, n) && inb(&r.text, n));

    /* tagre: TAGPRE \d+ SP [A-Z]+ SP .* */
    if (n >= tl && memcmp(p, tp, tl) == 0 && (d = run(p, n, tl, dig)) > 0 && tl + d < n
        && p[tl + d] == ' ' && (t = run(p, n, tl + d + 1, up)) > 0 && tl + d + 1 + t < n
        && p[tl + d + 1 + t] == ' ')
        tagged = 1;
    /* Untagged_response: "* " [A-Z-]+ */
    if (!tagged && n >= 3 && p[0] == '*' && p[1] == ' ' && updash(p[2]))
        untagged = 1;
    /* Untagged_status: "* " \d+ SP [A-Z-]+ */
    if (!tagged && !untagged && n >= 2 && p[0] == '*' && p[1] == ' ' && (d = run(p, n, 2, dig)) > 0
        && 2 + d + 1 < n && p[2 + d] == ' ' && updash(p[2 + d + 1]))
        status = 1;
    if (!tagged && !untagged && !status && n >= 1 && p[0] == '+')
        cont = 1;

    switch (r.kind) {
    case IMAPC_RESP_TAGGED:
        CHECK(tagged);
        CHECK(r.tag.present && r.tag.off == 0 && r.tag.len > tl);
        for (i = tl; i < r.tag.len; i++)
            CHECK(dig(p[i]));
        CHECK(p[r.tag.len] == ' ' && r.type.present && r.type.off == r.tag.len + 1);
        CHECK(r.type.len == run(p, n, r.type.off, up) && r.type.len > 0);
        CHECK(p[r.type.off + r.type.len] == ' ');
        CHECK(r.text.present && r.text.off == r.type.off + r.type.len + 1);
        CHECK(dot_to_eol(p, n, r.text.off, r.text.len));
        CHECK(!r.num.present);
        break;
    case IMAPC_RESP_UNTAGGED:
        CHECK(untagged);
        CHECK(r.type.present && r.type.off == 2 && r.type.len == run(p, n, 2, updash));
        i = 2 + r.type.len;
        if (i < n && p[i] == ' ')
            CHECK(r.text.present && r.text.off == i + 1 && dot_to_eol(p, n, i + 1, r.text.len));
        else
            CHECK(!r.text.present);
        CHECK(!r.tag.present && !r.num.present);
        break;
    case IMAPC_RESP_STATUS:
        CHECK(status);
        CHECK(r.num.present && r.num.off == 2 && r.num.len == run(p, n, 2, dig));
        CHECK(r.type.present && r.type.off == 2 + r.num.len + 1);
        CHECK(r.type.len == run(p, n, r.type.off, updash) && r.type.len > 0);
        i = r.type.off + r.type.len;
        if (i < n && p[i] == ' ')
            CHECK(r.text.present && r.text.off == i + 1 && dot_to_eol(p, n, i + 1, r.text.len));
        else
            CHECK(!r.text.present);
        CHECK(!r.tag.present);
        break;
    case IMAPC_RESP_CONTINUATION:
        CHECK(cont);
        if (n >= 2 && p[1] == ' ')
            CHECK(r.text.present && r.text.off == 2 && dot_to_eol(p, n, 2, r.text.len));
        else
            CHECK(!r.text.present);
        break;
    case IMAPC_RESP_UNEXPECTED:
        CHECK(!tagged && !untagged && !status && !cont);
        CHECK(!r.tag.present && !r.type.present && !r.num.present && !r.text.present);
        break;
    default:
        CHECK(0);
    }
}

/* Literal `.*{(\d+)}$`: try every '{' position, keep the last that works. */
static void
check_literal(const unsigned char *p, size_t n)
{
    uint64_t size = 0, want = 0;
    size_t off = 0, i, end = n, best = 0;
    int got = imapc_literal_size(p, n, &size, &off), found = 0;

    if (end > 0 && p[end - 1] == '\n')
        end--;
    for (i = 0; i < end; i++) {
        size_t j;
        if (p[i] == '\n')
            break; /* .* cannot pass a LF */
        if (p[i] != '{')
            continue;
        for (j = i + 1; j < end && dig(p[j]); j++)
            ;
        if (j > i + 1 && j == end - 1 && p[j] == '}') {
            found = 1;
            best = i + 1;
        }
    }
    CHECK(got == found);
    if (!found)
        return;
    CHECK(off == best);
    for (i = best; i < end - 1; i++) {
        unsigned dv = (unsigned)(p[i] - '0');
        if (want > (UINT64_MAX - dv) / 10) {
            want = UINT64_MAX;
            break;
        }
        want = want * 10 + dv;
    }
    CHECK(size == want);
}

/* Response_code `\[([A-Z-]+)( (.*))?\]` */
static void
check_respcode(const unsigned char *p, size_t n)
{
    imapc_span ty, da;
    int got = imapc_resp_code(p, n, &ty, &da), want = 0;
    size_t t = 0, i, last = 0;
    int has_data = 0;

    CHECK(inb(&ty, n) && inb(&da, n));
    if (n >= 1 && p[0] == '[' && (t = run(p, n, 1, updash)) > 0 && 1 + t < n) {
        size_t after = 1 + t;
        if (p[after] == ' ') {
            /* greedy .* then ']': the last ']' before the first LF */
            for (i = after + 1; i < n && p[i] != '\n'; i++)
                if (p[i] == ']')
                    last = i + 1;
            if (last) {
                want = 1;
                has_data = 1;
            }
        } else if (p[after] == ']') {
            want = 1;
        }
    }
    CHECK(got == want);
    if (!got) {
        CHECK(!ty.present && !da.present);
        return;
    }
    CHECK(ty.present && ty.off == 1 && ty.len == t);
    CHECK(da.present == has_data);
    if (has_data)
        CHECK(da.off == 1 + t + 1 && da.off + da.len == last - 1);
}

static void
check_cmd(const unsigned char *p, size_t n)
{
    ptrdiff_t want = -1;
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == 0) {
            want = (ptrdiff_t)i;
            break;
        }
    CHECK(imapc_arg_ctl(p, n) == want);
}

/* imapc_crlf_*: every CRLF, lone CR and lone LF becomes CRLF, as imaplib's
 * MapCRLF.sub(CRLF, msg); restated one byte at a time. */
static void
check_crlf(const unsigned char *p, size_t n)
{
    unsigned char *want = malloc(2 * n + 1), *got;
    size_t i, w = 0, size;
    int changed;
    if (want == NULL)
        return;
    for (i = 0; i < n; i++) {
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
            want[w++] = '\r';
            want[w++] = '\n';
            i++;
        } else if (p[i] == '\r' || p[i] == '\n') {
            want[w++] = '\r';
            want[w++] = '\n';
        } else {
            want[w++] = p[i];
        }
    }
    size = imapc_crlf_size(p, n, &changed);
    CHECK(size == w);
    CHECK(changed == (w != n || memcmp(want, p, n) != 0));
    got = malloc(size ? size : 1); /* exact size: ASan catches a write past it */
    if (got != NULL) {
        imapc_crlf_copy(got, p, n);
        CHECK(memcmp(got, want, w) == 0);
        free(got);
    }
    free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tp;
    unsigned char *p;
    size_t n, cut;

    if (size < 1)
        return 0;
    tp = tagpres[data[0] & 3];
    n = size - 1;
    /* Exact-size copy (NULL is never passed, even for n == 0). */
    p = malloc(n ? n : 1);
    if (p == NULL)
        return 0;
    memcpy(p, data + 1, n);

    check_classify(p, n, tp);
    check_literal(p, n);
    check_respcode(p, n);
    check_cmd(p, n);
    check_crlf(p, n);

    /* The same parsers on a prefix: len is honoured, not the buffer. */
    cut = n ? (size_t)data[0] % (n + 1) : 0;
    check_classify(p, cut, tp);
    check_literal(p, cut);
    check_respcode(p, cut);
    free(p);
    return 0;
}
