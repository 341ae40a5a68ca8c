/* test_util.c - ParseFlags / Internaldate2tuple scanners, calendar math,
 * month names, Int2AP and the command-argument control-byte check. */
#include "cases_gen.h"
#include "describe.h"
#include "guard.h"
#include "tap.h"

#define L(s) (const unsigned char *)(s), sizeof(s) - 1

typedef struct {
    const unsigned char *in;
    size_t len;
    const char *want;
} hcase;

static const hcase flags_cases[] = {
    {L("1 (FLAGS (\\Seen \\Deleted))"), "FLAGS flags@10=\"\\\\Seen \\\\Deleted\""},
    {L("FLAGS ()"), "FLAGS flags@7=\"\""},
    {L("FLAGS (a) FLAGS (b)"), "FLAGS flags@17=\"b\""},  /* greedy .*: the last one */
    {L("FLAGS (a) FLAGS (b"), "FLAGS flags@7=\"a\""},    /* ... that has a ')' after it */
    {L("FLAGS (a FLAGS (b)"), "FLAGS flags@16=\"b\""},
    {L("x FLAGS (a\nb)"), "FLAGS flags@9=\"a\\x0ab\""},  /* [^)]* crosses lines */
    {L("x\nFLAGS (a)"), "NOFLAGS"},                     /* .* does not */
    {L("FLAGS (a)\nFLAGS (b)"), "FLAGS flags@7=\"a\""},
    {L("FLAGS (a\n) FLAGS (b\n)"), "FLAGS flags@7=\"a\\x0a\""},
    {L("FLAGS (FLAGS (x))"), "FLAGS flags@14=\"x\""},
    {L("FLAGS (\xff\0)"), "FLAGS flags@7=\"\\xff\\x00\""},
    {L("FLAGS (a"), "NOFLAGS"},
    {L("FLAGS("), "NOFLAGS"},
    {L("flags (a)"), "NOFLAGS"},
    {L("FLAGS  (a)"), "NOFLAGS"},
    {L(""), "NOFLAGS"},
    {L(")"), "NOFLAGS"},
};

#define ID(s) "INTERNALDATE \"" s "\""
static const hcase idate_cases[] = {
    {L(ID("17-Jul-1996 02:44:25 -0700")),
     "IDATE day=17 mon=7 mon@17=\"Jul\" year=1996 hour=2 min=44 sec=25 zone=-0700"},
    {L("1 (" ID("17-Jul-1996 02:44:25 -0700") ")"),
     "IDATE day=17 mon=7 mon@20=\"Jul\" year=1996 hour=2 min=44 sec=25 zone=-0700"},
    {L(ID(" 1-Jan-2000 00:00:00 +0000")), /* space-padded day */
     "IDATE day=1 mon=1 mon@17=\"Jan\" year=2000 hour=0 min=0 sec=0 zone=+0000"},
    {L(ID("01-Feb-2000 00:00:00 +0000")),
     "IDATE day=1 mon=2 mon@17=\"Feb\" year=2000 hour=0 min=0 sec=0 zone=+0000"},
    {L(ID("15-Mar-2021 12:34:56 +0530")),
     "IDATE day=15 mon=3 mon@17=\"Mar\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("15-Apr-2021 12:34:56 +0530")),
     "IDATE day=15 mon=4 mon@17=\"Apr\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("15-May-2021 12:34:56 +0530")),
     "IDATE day=15 mon=5 mon@17=\"May\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("15-Jun-2021 12:34:56 +0530")),
     "IDATE day=15 mon=6 mon@17=\"Jun\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("15-Aug-2021 12:34:56 +0530")),
     "IDATE day=15 mon=8 mon@17=\"Aug\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("15-Sep-2021 12:34:56 +0530")),
     "IDATE day=15 mon=9 mon@17=\"Sep\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("15-Oct-2021 12:34:56 +0530")),
     "IDATE day=15 mon=10 mon@17=\"Oct\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("15-Nov-2021 12:34:56 +0530")),
     "IDATE day=15 mon=11 mon@17=\"Nov\" year=2021 hour=12 min=34 sec=56 zone=+0530"},
    {L(ID("31-Dec-9999 23:59:59 +2359")),
     "IDATE day=31 mon=12 mon@17=\"Dec\" year=9999 hour=23 min=59 sec=59 zone=+2359"},
    /* Matches the pattern, unknown month: mon=0 (imaplib: KeyError). */
    {L(ID("01-Foo-2000 00:00:00 +0000")),
     "IDATE day=1 mon=0 mon@17=\"Foo\" year=2000 hour=0 min=0 sec=0 zone=+0000"},
    /* The pattern accepts nonsense digits; range checks are the caller's. */
    {L(ID("39-Feb-0000 99:99:99 -9999")),
     "IDATE day=39 mon=2 mon@17=\"Feb\" year=0 hour=99 min=99 sec=99 zone=-9999"},
    /* greedy .*: the last match on the first line */
    {L(ID("01-Jan-2000 00:00:00 +0000") " " ID("02-Feb-2001 01:01:01 -0100")),
     "IDATE day=2 mon=2 mon@59=\"Feb\" year=2001 hour=1 min=1 sec=1 zone=-0100"},
    {L(ID("02-Feb-2001 01:01:01 -0100") " INTERNALDATE \"bad\""),
     "IDATE day=2 mon=2 mon@17=\"Feb\" year=2001 hour=1 min=1 sec=1 zone=-0100"},
    {L(ID("01-Jan-2000 00:00:00 +0000") "\n" ID("02-Feb-2001 01:01:01 -0100")),
     "IDATE day=1 mon=1 mon@17=\"Jan\" year=2000 hour=0 min=0 sec=0 zone=+0000"},
    {L("x\n" ID("01-Jan-2000 00:00:00 +0000")), "NOIDATE"},
    {L(ID("40-Jan-2000 00:00:00 +0000")), "NOIDATE"},
    {L(ID("1-Jan-2000 00:00:00 +0000")), "NOIDATE"},
    {L(ID("01-jan-2000 00:00:00 +0000")), "NOIDATE"},
    {L(ID("01-JAN-2000 00:00:00 +0000")), "NOIDATE"},
    {L(ID("01-Jan-2000 00:00:00 0000")), "NOIDATE"},
    {L(ID("01-Jan-2000  0:00:00 +0000")), "NOIDATE"},
    {L(ID("01-Jan-20O0 00:00:00 +0000")), "NOIDATE"},  /* letter O in the year */
    {L(ID("01-Jan-2000 00:00:00 *0000")), "NOIDATE"},
    {L(ID("01-Jan-2000 00:00:00 +00000")), "NOIDATE"}, /* no closing quote */
    {L("INTERNALDATE \"01-Jan-2000 00:00:00 +0000"), "NOIDATE"},
    {L("INTERNALDATE 01-Jan-2000 00:00:00 +0000"), "NOIDATE"},
    {L(""), "NOIDATE"},
};

static void
run_table(const char *name, const hcase *t, size_t n,
          void (*fn)(dstr *, const unsigned char *, size_t))
{
    size_t i;
    for (i = 0; i < n; i++) {
        guard_buf g;
        dstr d;
        dstr_init(&d);
        guard_copy(&g, t[i].in, t[i].len);
        fn(&d, g.p, t[i].len);
        is_str(d.s, t[i].want, "%s[%zu]", name, i);
        dstr_free(&d);
        guard_free(&g);
    }
}

static const struct {
    int64_t y;
    int mon, day, hour, min, sec;
    int64_t want;
} timegm_cases[] = {
    {1970, 1, 1, 0, 0, 0, 0},
    {1969, 12, 31, 23, 59, 59, -1},
    {2000, 2, 29, 0, 0, 0, 951782400},
    {1996, 7, 17, 2, 44, 25, 837571465},
    {2038, 1, 19, 3, 14, 8, INT64_C(2147483648)},
    {1, 1, 1, 0, 0, 0, INT64_C(-62135596800)},
    {9999, 12, 31, 23, 59, 59, INT64_C(253402300799)},
    /* calendar.timegm carries out-of-range days, hours, minutes, seconds */
    {2024, 1, 0, 0, 0, 0, 1703980800},
    {2023, 2, 31, 0, 0, 0, 1677801600},
    {2024, 12, 31, 24, 60, 60, 1735693260},
};

static const struct {
    uint64_t num;
    const char *want;
} int2ap_cases[] = {
    {0, ""},
    {1, "B"},
    {15, "P"},
    {16, "BA"},
    {17, "BB"},
    {4096, "BAAA"},
    {65535, "PPPP"},
    {UINT64_C(0x123456789ABCDEF0), "BCDEFGHIJKLMNOPA"},
    {UINT64_MAX, "PPPPPPPPPPPPPPPP"},
};

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
    size_t i, n;

    run_table("flags", flags_cases, sizeof(flags_cases) / sizeof(flags_cases[0]), describe_flags);
    run_table("idate", idate_cases, sizeof(idate_cases) / sizeof(idate_cases[0]), describe_idate);

    for (i = 0; i < sizeof(timegm_cases) / sizeof(timegm_cases[0]); i++)
        is_i64(imapc_timegm(timegm_cases[i].y, timegm_cases[i].mon, timegm_cases[i].day,
                            timegm_cases[i].hour, timegm_cases[i].min, timegm_cases[i].sec),
               timegm_cases[i].want, "timegm[%zu] %lld-%02d-%02d", i, (long long)timegm_cases[i].y,
               timegm_cases[i].mon, timegm_cases[i].day);
    n = sizeof(gen_timegm_cases) / sizeof(gen_timegm_cases[0]);
    {
        size_t bad = 0;
        for (i = 0; i < n; i++) {
            const gen_timegm_case *c = &gen_timegm_cases[i];
            int64_t got = imapc_timegm(c->y, c->mon, c->day, c->hour, c->min, c->sec);
            if (got != c->want) {
                bad++;
                is_i64(got, c->want, "generated timegm[%zu]", i);
            }
        }
        ok(bad == 0, "%zu generated timegm cases agree with calendar.timegm", n);
    }
    /* Every day from 1600 to 2400 against a day counter. */
    {
        int64_t y, expect = imapc_timegm(1600, 1, 1, 0, 0, 0) / 86400;
        int m, bad = 0;
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        for (y = 1600; y < 2400; y++)
            for (m = 1; m <= 12; m++) {
                int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                int d, dim = mdays[m - 1] + (m == 2 && leap);
                for (d = 1; d <= dim; d++, expect++)
                    bad += imapc_timegm(y, m, d, 0, 0, 0) != expect * 86400;
            }
        ok(bad == 0 && expect == imapc_timegm(2400, 1, 1, 0, 0, 0) / 86400,
           "timegm: consecutive days 1600..2399 (%d bad)", bad);
    }

    for (i = 1; i <= 12; i++)
        ok(strlen(imapc_month_name((int)i)) == 3, "month_name(%zu) = %s", i,
           imapc_month_name((int)i));
    is_str(imapc_month_name(1), "Jan", "month_name(1)");
    is_str(imapc_month_name(12), "Dec", "month_name(12)");
    is_str(imapc_month_name(0), "", "month_name(0)");
    is_str(imapc_month_name(13), "", "month_name(13)");
    is_str(imapc_month_name(-1), "", "month_name(-1)");

    for (i = 0; i < sizeof(int2ap_cases) / sizeof(int2ap_cases[0]); i++) {
        unsigned char out[16];
        size_t len = imapc_int2ap(int2ap_cases[i].num, out);
        is_mem(out, len, int2ap_cases[i].want, strlen(int2ap_cases[i].want), "int2ap[%zu]", i);
    }
    n = sizeof(gen_int2ap_cases) / sizeof(gen_int2ap_cases[0]);
    {
        size_t bad = 0;
        for (i = 0; i < n; i++) {
            unsigned char out[16];
            size_t len = imapc_int2ap(gen_int2ap_cases[i].num, out);
            if (len != strlen(gen_int2ap_cases[i].want)
                || memcmp(out, gen_int2ap_cases[i].want, len) != 0) {
                bad++;
                is_mem(out, len, gen_int2ap_cases[i].want, strlen(gen_int2ap_cases[i].want),
                       "generated int2ap[%zu]", i);
            }
        }
        ok(bad == 0, "%zu generated Int2AP cases agree with imaplib.Int2AP", n);
    }

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
