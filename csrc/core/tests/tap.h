/* tap.h - a tiny TAP producer for the C tests (header only).
 *
 *   ok(cond, fmt, ...)            one test point
 *   is_str(got, want, fmt, ...)   NUL-terminated strings
 *   is_mem(got, glen, want, wlen, fmt, ...)
 *   is_u64(got, want, fmt, ...) / is_i64(...)
 *   done_testing()                plan line, summary, exit status
 *
 * Output: "ok N - name" / "not ok N - name" with "# got/want" diagnostics,
 * then "1..N" and "# N passed, M failed"; the exit status is 1 on any
 * failure.
 */
#ifndef IMAPC_TAP_H
#define IMAPC_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed;

static void
tap_vreport(int pass, const char *fmt, va_list ap)
{
    ++tap_count;
    if (!pass)
        ++tap_failed;
    printf("%sok %d - ", pass ? "" : "not ", tap_count);
    vprintf(fmt, ap);
    putchar('\n');
}

static int
ok(int pass, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vreport(pass, fmt, ap);
    va_end(ap);
    return pass;
}

static void
tap_dump(const char *label, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;
    printf("#   %s: \"", label);
    for (i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            putchar(s[i]);
        else if (s[i] == '\n')
            fputs("\\n\n#         ", stdout);
        else
            printf("\\x%02x", s[i]);
    }
    puts("\"");
}

static int
is_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *fmt, ...)
{
    int pass = glen == wlen && (wlen == 0 || memcmp(got, want, wlen) == 0);
    va_list ap;
    va_start(ap, fmt);
    tap_vreport(pass, fmt, ap);
    va_end(ap);
    if (!pass) {
        tap_dump("got ", got, glen);
        tap_dump("want", want, wlen);
    }
    return pass;
}

#define is_str(got, want, ...) \
    is_mem((got), strlen(got), (want), strlen(want), __VA_ARGS__)

static int
is_u64(uint64_t got, uint64_t want, const char *fmt, ...)
{
    int pass = got == want;
    va_list ap;
    va_start(ap, fmt);
    tap_vreport(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got  %" PRIu64 "\n#   want %" PRIu64 "\n", got, want);
    return pass;
}

static int
is_i64(int64_t got, int64_t want, const char *fmt, ...)
{
    int pass = got == want;
    va_list ap;
    va_start(ap, fmt);
    tap_vreport(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got  %" PRId64 "\n#   want %" PRId64 "\n", got, want);
    return pass;
}

static int
done_testing(void)
{
    printf("1..%d\n# %d passed, %d failed\n", tap_count, tap_count - tap_failed, tap_failed);
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#endif /* IMAPC_TAP_H */
