/* describe.c - see describe.h. */
#include "describe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
dstr_init(dstr *d)
{
    d->s = NULL;
    d->len = d->cap = 0;
}

void
dstr_free(dstr *d)
{
    free(d->s);
    dstr_init(d);
}

static void
dstr_grow(dstr *d, size_t extra)
{
    if (d->len + extra + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 64;
        while (cap < d->len + extra + 1)
            cap *= 2;
        d->s = realloc(d->s, cap);
        if (d->s == NULL) {
            perror("realloc");
            abort();
        }
        d->cap = cap;
    }
}

void
dstr_putc(dstr *d, char c)
{
    dstr_grow(d, 1);
    d->s[d->len++] = c;
    d->s[d->len] = '\0';
}

void
dstr_puts(dstr *d, const char *s)
{
    size_t n = strlen(s);
    dstr_grow(d, n);
    memcpy(d->s + d->len, s, n + 1);
    d->len += n;
}

void
dstr_printf(dstr *d, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        abort(); /* only short, fixed formats are used */
    dstr_puts(d, buf);
}

void
dstr_quote(dstr *d, const unsigned char *p, size_t n)
{
    size_t i;
    dstr_grow(d, n * 4 + 2);
    d->s[d->len++] = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '\\' || c == '"') {
            d->s[d->len++] = '\\';
            d->s[d->len++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            d->s[d->len++] = (char)c;
        } else {
            static const char hex[] = "0123456789abcdef";
            d->s[d->len++] = '\\';
            d->s[d->len++] = 'x';
            d->s[d->len++] = hex[c >> 4];
            d->s[d->len++] = hex[c & 15];
        }
    }
    d->s[d->len++] = '"';
    d->s[d->len] = '\0';
}

/* " name@OFF="..."" or " name=None" */
static void
span(dstr *d, const char *name, const unsigned char *p, size_t n, const imapc_span *s)
{
    if (!s->present) {
        dstr_printf(d, " %s=None", name);
        return;
    }
    if (s->off > n || s->len > n - s->off) {
        dstr_printf(d, " %s@%zu=OUT-OF-BOUNDS(len %zu)", name, s->off, s->len);
        return;
    }
    dstr_printf(d, " %s@%zu=", name, s->off);
    dstr_quote(d, p + s->off, s->len);
}

void
describe_classify(dstr *d, const unsigned char *p, size_t n, const unsigned char *tagpre,
                  size_t tagpre_len)
{
    imapc_resp r;
    imapc_resp_classify(p, n, tagpre, tagpre_len, &r);
    switch (r.kind) {
    case IMAPC_RESP_TAGGED:
        dstr_puts(d, "TAGGED");
        span(d, "tag", p, n, &r.tag);
        span(d, "type", p, n, &r.type);
        span(d, "text", p, n, &r.text);
        break;
    case IMAPC_RESP_UNTAGGED:
        dstr_puts(d, "UNTAGGED");
        span(d, "type", p, n, &r.type);
        span(d, "text", p, n, &r.text);
        break;
    case IMAPC_RESP_STATUS:
        dstr_puts(d, "STATUS");
        span(d, "num", p, n, &r.num);
        span(d, "type", p, n, &r.type);
        span(d, "text", p, n, &r.text);
        break;
    case IMAPC_RESP_CONTINUATION:
        dstr_puts(d, "CONTINUATION");
        span(d, "text", p, n, &r.text);
        break;
    case IMAPC_RESP_UNEXPECTED:
        dstr_puts(d, "UNEXPECTED");
        break;
    default:
        dstr_printf(d, "BAD-KIND-%d", (int)r.kind);
    }
}

void
describe_literal(dstr *d, const unsigned char *p, size_t n)
{
    uint64_t size = 0;
    size_t off = 0;
    if (!imapc_literal_size(p, n, &size, &off)) {
        dstr_puts(d, "NOLITERAL");
        return;
    }
    dstr_printf(d, "LITERAL size=%llu digits@%zu", (unsigned long long)size, off);
}

void
describe_respcode(dstr *d, const unsigned char *p, size_t n)
{
    imapc_span type, data;
    if (!imapc_resp_code(p, n, &type, &data)) {
        dstr_puts(d, "NOCODE");
        return;
    }
    dstr_puts(d, "CODE");
    span(d, "type", p, n, &type);
    span(d, "data", p, n, &data);
}

void
describe_all(dstr *d, const unsigned char *p, size_t n, const unsigned char *tagpre,
             size_t tagpre_len)
{
    describe_classify(d, p, n, tagpre, tagpre_len);
    dstr_putc(d, '\t');
    describe_literal(d, p, n);
    dstr_putc(d, '\t');
    describe_respcode(d, p, n);
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t
unescape(const char *s, size_t n, unsigned char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        char c = s[i++];
        if (c != '\\') {
            out[o++] = (unsigned char)c;
            continue;
        }
        if (i >= n)
            return (size_t)-1;
        c = s[i++];
        switch (c) {
        case 'r': out[o++] = '\r'; break;
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case '0': out[o++] = '\0'; break;
        case '\\': out[o++] = '\\'; break;
        case '"': out[o++] = '"'; break;
        case 'x': {
            int h, l;
            if (i + 2 > n || (h = hexval(s[i])) < 0 || (l = hexval(s[i + 1])) < 0)
                return (size_t)-1;
            out[o++] = (unsigned char)(h * 16 + l);
            i += 2;
            break;
        }
        default:
            return (size_t)-1;
        }
    }
    return o;
}
