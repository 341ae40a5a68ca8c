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
            unsigned char in[8], want[16], got[16];
            size_t c = code, wn, gn;
            int changed;
            guard_buf g;
            for (k = 0; k < len; k++, c /= 3)
                in[k] = alpha[c % 3];
            guard_copy(&g, in, len);
            wn = naive_crlf(in, len, want);
            gn = imapc_crlf_size(g.p, len, &changed);
            if (gn == wn)
                imapc_crlf_copy(got, g.p, len);
            if (gn != wn || memcmp(got, want, wn) != 0
                || changed != (wn != len || memcmp(in, want, len) != 0))
                bad++;
            guard_free(&g);
            count++;
        }
    }
    ok(bad == 0, "crlf: %zu strings over {a, CR, LF} agree with MapCRLF", count);
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
    return done_testing();
}
