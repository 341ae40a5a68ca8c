/* imapc_cmd.c - pieces of command encoding: argument checks, line-end
 * normalisation of APPEND messages. */
#include "imapc_cmd.h"

#include <string.h>

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

size_t
imapc_crlf_size(const unsigned char *p, size_t len, int *changed)
{
    eol_scan s;
    const unsigned char *q;
    size_t out = len;
    *changed = 0;
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
