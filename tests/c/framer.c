/* framer.c - see framer.h. */
#include "framer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(framer *f, const char *fmt, unsigned long long a, unsigned long long b)
{
    if (f->failure[0] == '\0')
        snprintf(f->failure, sizeof(f->failure), fmt, a, b);
}

static void
fb_set(fbytes *b, const unsigned char *p, size_t n)
{
    if (n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < n + 1)
            cap *= 2;
        free(b->p);
        b->p = malloc(cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p, p, n);
    b->len = n;
}

static void
fb_append(fbytes *b, const unsigned char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void
framer_init(framer *f, size_t max, const char *tagpre)
{
    memset(f, 0, sizeof(*f));
    imapc_rbuf_init(&f->rb);
    dstr_init(&f->log);
    f->max = max;
    f->tagpre_len = strlen(tagpre);
    if (f->tagpre_len > sizeof(f->tagpre))
        f->tagpre_len = sizeof(f->tagpre);
    memcpy(f->tagpre, tagpre, f->tagpre_len);
    f->state = FR_LINE;
    f->check_lines = 1;
}

void
framer_free(framer *f)
{
    imapc_rbuf_free(&f->rb);
    free(f->typ.p);
    free(f->dat.p);
    free(f->lit.p);
    dstr_free(&f->log);
}

static void
check_rb(framer *f)
{
    const imapc_rbuf *b = &f->rb;
    if (!(b->start <= b->end && b->end <= b->cap))
        fail(f, "rbuf bounds broken: start/end %llu/%llu", b->start, b->end);
    if (f->consumed > f->fed)
        fail(f, "consumed %llu > fed %llu", f->consumed, f->fed);
    if (f->fed - f->consumed != imapc_rbuf_avail(b))
        fail(f, "fed - consumed (%llu) != avail (%llu)", f->fed - f->consumed,
             imapc_rbuf_avail(b));
}

static void
take(framer *f, size_t n)
{
    if (n > imapc_rbuf_avail(&f->rb)) {
        fail(f, "consume %llu > avail %llu", n, imapc_rbuf_avail(&f->rb));
        n = imapc_rbuf_avail(&f->rb);
    }
    imapc_rbuf_consume(&f->rb, n);
    f->consumed += n;
    check_rb(f);
}

static void
ev_begin(framer *f, const char *what)
{
    f->events++;
    dstr_puts(&f->log, what);
}

static void
ev_field(framer *f, const char *name, const unsigned char *p, size_t n)
{
    dstr_printf(&f->log, " %s=", name);
    dstr_quote(&f->log, p, n);
}

static void
ev_end(framer *f)
{
    dstr_putc(&f->log, '\n');
}

static void
emit_u(framer *f, const unsigned char *typ, size_t tlen, const unsigned char *dat, size_t dlen)
{
    ev_begin(f, "U");
    ev_field(f, "type", typ, tlen);
    ev_field(f, "dat", dat, dlen);
    ev_end(f);
}

static int
is_ok_no_bad(const unsigned char *t, size_t n)
{
    return (n == 2 && (memcmp(t, "OK", 2) == 0 || memcmp(t, "NO", 2) == 0))
           || (n == 3 && memcmp(t, "BAD", 3) == 0);
}

/* Step 5 of _get_response: [CODE data] at the start of an OK/NO/BAD dat. */
static void
response_code(framer *f, const unsigned char *typ, size_t tlen, const unsigned char *dat,
              size_t dlen)
{
    imapc_span ct, cd;
    if (!is_ok_no_bad(typ, tlen) || !imapc_resp_code(dat, dlen, &ct, &cd))
        return;
    if (!ct.present || ct.off > dlen || ct.len > dlen - ct.off || ct.len == 0
        || (cd.present && (cd.off > dlen || cd.len > dlen - cd.off)))
        fail(f, "resp_code span out of bounds (off %llu len %llu)", ct.off, ct.len);
    else
        emit_u(f, dat + ct.off, ct.len, cd.present ? dat + cd.off : dat, cd.present ? cd.len : 0);
}

/* The untagged response's dat is complete: a literal follows, or it is
 * appended (and its response code filed). */
static void
dat_complete(framer *f)
{
    uint64_t size;
    size_t off;
    if (imapc_literal_size(f->dat.p, f->dat.len, &size, &off)) {
        if (off == 0 || off >= f->dat.len || f->dat.p[off - 1] != '{')
            fail(f, "literal digits at %llu in a dat of %llu bytes", off, f->dat.len);
        f->state = FR_LITERAL;
        f->lit_size = size;
        f->lit.len = 0;
        return;
    }
    emit_u(f, f->typ.p, f->typ.len, f->dat.p, f->dat.len);
    response_code(f, f->typ.p, f->typ.len, f->dat.p, f->dat.len);
    f->state = FR_LINE;
}

static void
literal_complete(framer *f, int at_eof)
{
    if (!at_eof && (uint64_t)f->lit.len != f->lit_size)
        fail(f, "literal of %llu bytes completed with %llu", f->lit_size, f->lit.len);
    if ((uint64_t)f->lit.len > f->lit_size)
        fail(f, "literal of %llu bytes holds %llu", f->lit_size, f->lit.len);
    f->literals++;
    ev_begin(f, "L");
    ev_field(f, "type", f->typ.p, f->typ.len);
    ev_field(f, "dat", f->dat.p, f->dat.len);
    ev_field(f, "lit", f->lit.p, f->lit.len);
    ev_end(f);
    f->state = FR_TRAILER;
}

static void
span_check(framer *f, const imapc_span *s, size_t n, const char *what)
{
    if (s->present && (s->off > n || s->len > n - s->off))
        fail(f, "classifier span out of bounds (off %llu len %llu)", s->off, s->len);
    (void)what;
}

/* One complete line (without CRLF) in state FR_LINE. */
static void
line(framer *f, const unsigned char *p, size_t n)
{
    imapc_resp r;
    imapc_resp_classify(p, n, f->tagpre, f->tagpre_len, &r);
    span_check(f, &r.tag, n, "tag");
    span_check(f, &r.type, n, "type");
    span_check(f, &r.num, n, "num");
    span_check(f, &r.text, n, "text");
    if (f->failure[0])
        return;
    switch (r.kind) {
    case IMAPC_RESP_TAGGED:
        if (!r.text.present)
            fail(f, "tagged response without text (%llu/%llu)", 0, 0);
        ev_begin(f, "T");
        ev_field(f, "tag", p + r.tag.off, r.tag.len);
        ev_field(f, "type", p + r.type.off, r.type.len);
        ev_field(f, "dat", p + r.text.off, r.text.len);
        ev_end(f);
        response_code(f, p + r.type.off, r.type.len, p + r.text.off, r.text.len);
        break;
    case IMAPC_RESP_UNTAGGED:
        fb_set(&f->typ, p + r.type.off, r.type.len);
        if (r.text.present)
            fb_set(&f->dat, p + r.text.off, r.text.len);
        else
            fb_set(&f->dat, p, 0);
        dat_complete(f);
        break;
    case IMAPC_RESP_STATUS:
        fb_set(&f->typ, p + r.type.off, r.type.len);
        fb_set(&f->dat, p + r.num.off, r.num.len);
        if (r.text.present && r.text.len > 0) { /* dat + b' ' + dat2 */
            fb_append(&f->dat, (const unsigned char *)" ", 1);
            fb_append(&f->dat, p + r.text.off, r.text.len);
        }
        dat_complete(f);
        break;
    case IMAPC_RESP_CONTINUATION:
        if (r.text.present) {
            ev_begin(f, "C");
            ev_field(f, "text", p + r.text.off, r.text.len);
        } else {
            ev_begin(f, "C text=None");
        }
        ev_end(f);
        break;
    default:
        ev_begin(f, "E unexpected ");
        dstr_quote(&f->log, p, n);
        ev_end(f);
        break;
    }
}

/* Is there a LF in p[0, n)? (for the find_line cross-check) */
static int
has_lf(const unsigned char *p, size_t n)
{
    return n > 0 && memchr(p, '\n', n) != NULL;
}

static void
drain(framer *f)
{
    while (!f->failure[0]) {
        size_t avail = imapc_rbuf_avail(&f->rb), len = 0;
        const unsigned char *p;
        imapc_line_status st;

        if (f->state == FR_LITERAL) {
            uint64_t want = f->lit_size - f->lit.len;
            size_t n = (uint64_t)avail < want ? avail : (size_t)want;
            if (n) {
                fb_append(&f->lit, imapc_rbuf_peek(&f->rb), n);
                take(f, n);
            }
            if ((uint64_t)f->lit.len < f->lit_size)
                return;
            literal_complete(f, 0);
            continue;
        }
        if (f->state == FR_DONE)
            return;
        st = imapc_rbuf_find_line(&f->rb, f->max, &len);
        p = avail ? imapc_rbuf_peek(&f->rb) : NULL;
        if (f->check_lines) {
            size_t lim = avail < f->max ? avail : f->max;
            switch (st) {
            case IMAPC_LINE_FOUND:
                if (len == 0 || len > lim || p[len - 1] != '\n' || has_lf(p, len - 1))
                    fail(f, "find_line FOUND %llu bytes, avail %llu: not the first line", len,
                         avail);
                break;
            case IMAPC_LINE_TOO_LONG:
                if (avail <= f->max || has_lf(p, f->max))
                    fail(f, "find_line TOO_LONG with avail %llu, max %llu", avail, f->max);
                break;
            case IMAPC_LINE_NEED_MORE:
                if (avail > f->max || has_lf(p, avail))
                    fail(f, "find_line NEED_MORE with avail %llu, max %llu", avail, f->max);
                break;
            default:
                fail(f, "find_line returned %llu (avail %llu)", (unsigned long long)st, avail);
            }
            if (f->failure[0])
                return;
        }
        if (st == IMAPC_LINE_NEED_MORE)
            return;
        if (st == IMAPC_LINE_TOO_LONG) {
            /* readline(max + 1) took max + 1 bytes; the response is lost. */
            take(f, f->max + 1);
            ev_begin(f, "E toolong");
            ev_end(f);
            f->state = FR_LINE;
            continue;
        }
        f->lines++;
        if (len < 2 || p[len - 2] != '\r') {
            ev_begin(f, "E unterminated ");
            dstr_quote(&f->log, p, len);
            ev_end(f);
            take(f, len);
            f->state = FR_LINE;
            continue;
        }
        if (f->state == FR_TRAILER) {
            fb_set(&f->dat, p, len - 2);
            take(f, len);
            dat_complete(f);
        } else {
            line(f, p, len - 2);
            take(f, len);
        }
    }
}

void
framer_feed(framer *f, const unsigned char *p, size_t n)
{
    if (f->state == FR_DONE) {
        fail(f, "feed of %llu bytes after finish (state %llu)", n, f->state);
        return;
    }
    while (n > 0 && !f->failure[0]) {
        size_t space = 0, avail = imapc_rbuf_avail(&f->rb), k;
        unsigned char *dst = imapc_rbuf_reserve(&f->rb, n, &space);
        if (dst == NULL) {
            fail(f, "reserve(%llu) failed with %llu buffered", n, avail);
            return;
        }
        if (space < n && space == 0)
            fail(f, "reserve(%llu) gave no space (avail %llu)", n, avail);
        /* Memory follows the bytes actually held: never sized from {N}. */
        if (f->rb.cap > 2 * (avail + n) + ((size_t)64 << 10))
            fail(f, "receive buffer of %llu bytes for %llu held", f->rb.cap, avail + n);
        if (f->rb.cap > f->max_cap)
            f->max_cap = f->rb.cap;
        k = space < n ? space : n;
        memcpy(dst, p, k);
        imapc_rbuf_commit(&f->rb, k);
        f->fed += k;
        p += k;
        n -= k;
        check_rb(f);
        drain(f);
    }
}

void
framer_finish(framer *f)
{
    size_t avail;
    if (f->failure[0] || f->state == FR_DONE)
        return;
    drain(f);
    avail = imapc_rbuf_avail(&f->rb);
    if (f->state == FR_LITERAL) {
        /* read(size) returned what there was; the trailer read hits EOF. */
        if (avail != 0)
            fail(f, "%llu bytes left in a literal at EOF (state %llu)", avail, f->state);
        literal_complete(f, 1);
    } else if (avail > 0) {
        if (avail > f->max || has_lf(imapc_rbuf_peek(&f->rb), avail))
            fail(f, "tail of %llu bytes at EOF with max %llu", avail, f->max);
        ev_begin(f, "E unterminated ");
        dstr_quote(&f->log, imapc_rbuf_peek(&f->rb), avail);
        ev_end(f);
        take(f, avail);
    }
    ev_begin(f, "E eof");
    ev_end(f);
    f->state = FR_DONE;
    if (imapc_rbuf_avail(&f->rb) != 0 || f->consumed != f->fed)
        fail(f, "EOF with %llu of %llu bytes unconsumed", f->fed - f->consumed, f->fed);
}

int
framer_run(const unsigned char *stream, size_t len, size_t max, const char *tagpre,
           size_t chunk, dstr *log)
{
    framer f;
    size_t off = 0;
    framer_init(&f, max, tagpre);
    if (chunk == 0)
        chunk = len ? len : 1;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        framer_feed(&f, stream + off, n);
        off += n;
    }
    framer_finish(&f);
    dstr_init(log);
    if (f.failure[0]) {
        dstr_puts(log, f.failure);
        framer_free(&f);
        return -1;
    }
    *log = f.log;
    dstr_init(&f.log);
    framer_free(&f);
    return 0;
}
