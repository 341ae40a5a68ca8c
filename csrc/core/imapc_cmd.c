/* imapc_cmd.c - pieces of command encoding: argument checks, line-end
 * normalisation of APPEND messages. */
#include "imapc_cmd.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

ptrdiff_t
imapc_arg_ctl(const unsigned char *p, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '\r' || c == '\n' || c == '\0')
            return (ptrdiff_t)i;
    }
    return -1;
}

/* Line-end scanning for the CRLF mapper: memchr for CR and for LF, each
 * rescanned only once passed, so a message costs two memchr passes. */
typedef struct {
    const unsigned char *p, *end, *cr, *lf;
} eol_scan;

static const unsigned char *
find_byte(const unsigned char *from, const unsigned char *end, int c)
{
    return from < end ? memchr(from, c, (size_t)(end - from)) : NULL;
}

static void
eol_init(eol_scan *s, const unsigned char *p, size_t len)
{
    s->p = p;
    s->end = p + len;
    s->cr = find_byte(p, s->end, '\r');
    s->lf = find_byte(p, s->end, '\n');
}

/* The next CR or LF at or after s->p, or NULL. */
static const unsigned char *
eol_next(eol_scan *s)
{
    if (s->cr != NULL && s->cr < s->p)
        s->cr = find_byte(s->p, s->end, '\r');
    if (s->lf != NULL && s->lf < s->p)
        s->lf = find_byte(s->p, s->end, '\n');
    if (s->cr == NULL)
        return s->lf;
    if (s->lf == NULL)
        return s->cr;
    return s->cr < s->lf ? s->cr : s->lf;
}

/* Length of the line end at q (CRLF: 2, lone CR or LF: 1). */
static size_t
eol_len(const eol_scan *s, const unsigned char *q)
{
    return (*q == '\r' && q + 1 < s->end && q[1] == '\n') ? 2 : 1;
}

#if defined(__SSE2__)
/* Bytes of q[0..16) where "is LF" differs from "the byte before is CR". */
static inline __m128i
crlf_diff(const unsigned char *q, __m128i cr, __m128i lf)
{
    return _mm_xor_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(q - 1)), cr),
                         _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)q), lf));
}

/* Is every line end in p a CRLF (no lone CR, no lone LF)?  Most APPENDs
 * are, and then the mapping keeps the message as it is.  Byte k must be
 * an LF exactly when byte k-1 is a CR: compared 64 bytes a round, the
 * bytes at p+i-1 against those at p+i, so a CRLF split between two blocks
 * needs no carry.  A fifth of the memchr scan's instructions. */
static int
crlf_only(const unsigned char *p, size_t len)
{
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    size_t i = 1;
    if (len == 0)
        return 1;
    if (p[0] == '\n' || p[len - 1] == '\r')
        return 0;
    while (i + 64 <= len) {
        __m128i d = _mm_or_si128(_mm_or_si128(crlf_diff(p + i, cr, lf), crlf_diff(p + i + 16, cr, lf)),
                                 _mm_or_si128(crlf_diff(p + i + 32, cr, lf), crlf_diff(p + i + 48, cr, lf)));
        if (_mm_movemask_epi8(d) != 0)
            return 0;
        i += 64;
    }
    for (; i + 16 <= len; i += 16) {
        if (_mm_movemask_epi8(crlf_diff(p + i, cr, lf)) != 0)
            return 0;
    }
    for (; i < len; i++) {
        if ((p[i] == '\n') != (p[i - 1] == '\r'))
            return 0;
    }
    return 1;
}
#endif

size_t
imapc_crlf_size(const unsigned char *p, size_t len, int *changed)
{
    eol_scan s;
    const unsigned char *q;
    size_t out = len;
    *changed = 0;
#if defined(__SSE2__)
    if (crlf_only(p, len))
        return len;
#endif
    eol_init(&s, p, len);
    while ((q = eol_next(&s)) != NULL) {
        size_t n = eol_len(&s, q);
        if (n == 1) {
            out++;
            *changed = 1;
        }
        s.p = q + n;
    }
    return out;
}

void
imapc_crlf_copy(unsigned char *dst, const unsigned char *p, size_t len)
{
    eol_scan s;
    const unsigned char *q;
    eol_init(&s, p, len);
    while ((q = eol_next(&s)) != NULL) {
        memcpy(dst, s.p, (size_t)(q - s.p));
        dst += q - s.p;
        *dst++ = '\r';
        *dst++ = '\n';
        s.p = q + eol_len(&s, q);
    }
    memcpy(dst, s.p, (size_t)(s.end - s.p));
}
