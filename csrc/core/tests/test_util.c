/* test_util.c - the command helpers: the argument control-byte check and
 * APPEND's CRLF mapper. */
#include "guard.h"
#include "imapc_cmd.h"
#include "tap.h"

#define L(s) (const unsigned char *)(s), sizeof(s) - 1

static const struct {
    const unsigned char *in;
    size_t len;
    ptrdiff_t want;
} argctl_cases[] = {
    {L(""), -1},
    {L("INBOX"), -1},
    {L("\"a b\" \t\x7f\xff\x01"), -1}, /* only CR, LF and NUL are refused */
    {L("\r"), 0},
    {L("\n"), 0},
    {L("\0"), 0},
    {L("a\r\nb"), 1},
    {L("ab\ncd\r"), 2},
    {L("abc\0"), 3},
    {L("x\xff\xfe\r"), 3},
};

/* imaplib's MapCRLF.sub(CRLF, m), restated naively: \r\n|\r|\n -> \r\n. */
static size_t
naive_crlf(const unsigned char *p, size_t n, unsigned char *out)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
                i++;
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            out[o++] = p[i];
        }
    }
    return o;
}

/* Do size, "changed" and bytes of the mapper agree with the naive mapping
 * for in[0..n) (n <= CRLF_MAX) placed at the end of a guard page? */
enum { CRLF_MAX = 128 };

static int
crlf_agrees(const unsigned char *in, size_t n)
{
    unsigned char want[2 * CRLF_MAX], got[2 * CRLF_MAX];
    size_t wn = naive_crlf(in, n, want), gn;
    int changed, agree;
    guard_buf g;
    guard_copy(&g, in, n);
    gn = imapc_crlf_size(g.p, n, &changed);
    if (gn == wn)
        imapc_crlf_copy(got, g.p, n);
    agree = gn == wn && memcmp(got, want, wn) == 0
            && changed == (wn != n || memcmp(in, want, n) != 0);
    guard_free(&g);
    return agree;
}

/* Every string of length 0..8 over {a, CR, LF}, each at the end of a
 * guard page: size, "changed" and bytes agree with the naive mapping. */
static void
test_crlf(void)
{
    static const unsigned char alpha[3] = {'a', '\r', '\n'};
    size_t len, count = 0, bad = 0;
    for (len = 0; len <= 8; len++) {
        size_t code, total = 1, k;
        for (k = 0; k < len; k++)
            total *= 3;
        for (code = 0; code < total; code++) {
            unsigned char in[8];
            size_t c = code;
            for (k = 0; k < len; k++, c /= 3)
                in[k] = alpha[c % 3];
            bad += !crlf_agrees(in, len);
            count++;
        }
    }
    ok(bad == 0, "crlf: %zu strings over {a, CR, LF} agree with MapCRLF", count);
}

/* Longer messages, where the mapper looks at many bytes at a time: CRLF
 * text with its line ends at every offset, each alone and with one defect
 * (a lone CR or LF, a CR before the CRLF, a pair's CR or LF gone) at every
 * position, each at the end of a guard page. */
static void
test_crlf_long(void)
{
    enum { MAX = 100 };
    size_t len, at, count = 0, bad = 0;
    int defect;
    for (len = 0; len <= MAX; len++) {
        for (at = 0; at <= len; at++) {
            for (defect = 0; defect < 6; defect++) {
                unsigned char in[MAX + 2];
                size_t k, n = len;
                for (k = 0; k < len; k++) /* a CRLF every 7 bytes, shifted by len */
                    in[k] = (k + len) % 7 == 5 ? '\r' : (k + len) % 7 == 6 ? '\n' : 'a';
                if (len > 0 && in[len - 1] == '\r')
                    in[len - 1] = 'a';
                if (len > 0 && in[0] == '\n')
                    in[0] = 'a';
                if (defect == 1 || defect == 2) { /* insert a lone CR / LF */
                    memmove(in + at + 1, in + at, len - at);
                    in[at] = defect == 1 ? '\r' : '\n';
                    n++;
                } else if (defect == 3 && at < len) { /* CR -> CR CR */
                    memmove(in + at + 1, in + at, len - at);
                    in[at] = '\r';
                    n++;
                } else if (defect >= 4 && at < len && in[at] == (defect == 4 ? '\r' : '\n')) {
                    memmove(in + at, in + at + 1, len - at - 1); /* drop one half */
                    n--;
                } else if (defect != 0) {
                    continue;
                }
                bad += !crlf_agrees(in, n);
                count++;
            }
        }
    }
    ok(bad == 0, "crlf: %zu longer messages with a defect anywhere agree with MapCRLF", count);
}

int
main(void)
{
    size_t i;

    for (i = 0; i < sizeof(argctl_cases) / sizeof(argctl_cases[0]); i++) {
        guard_buf g;
        guard_copy(&g, argctl_cases[i].in, argctl_cases[i].len);
        is_i64(imapc_arg_ctl(g.p, argctl_cases[i].len), argctl_cases[i].want, "arg_ctl[%zu]", i);
        guard_free(&g);
    }
    /* Every single byte value. */
    {
        int c, bad = 0;
        for (c = 0; c < 256; c++) {
            unsigned char b[3] = {'a', (unsigned char)c, 'b'};
            ptrdiff_t want = (c == '\r' || c == '\n' || c == 0) ? 1 : -1;
            bad += imapc_arg_ctl(b, 3) != want;
        }
        ok(bad == 0, "arg_ctl: all 256 byte values");
    }
    test_crlf();
    test_crlf_long();
    return done_testing();
}
