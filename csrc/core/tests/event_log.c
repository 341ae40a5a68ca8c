/* event_log.c - see event_log.h. */
#include "event_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fail(event_log *el, const char *fmt, unsigned long long a, unsigned long long b)
{
    if (el->failure[0] == '\0')
        snprintf(el->failure, sizeof(el->failure), fmt, a, b);
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

static void
fb_set(fbytes *b, const unsigned char *p, size_t n)
{
    b->len = 0;
    fb_append(b, p, n);
}

void
elog_init(event_log *el, size_t max, const char *tagpre, int skip_blank)
{
    memset(el, 0, sizeof(*el));
    imapc_framer_init(&el->fr);
    el->fr.max_line = max;
    el->fr.skip_blank = skip_blank;
    dstr_init(&el->log);
    el->tagpre_len = strlen(tagpre);
    if (el->tagpre_len > sizeof(el->tagpre))
        el->tagpre_len = sizeof(el->tagpre);
    memcpy(el->tagpre, tagpre, el->tagpre_len);
    imapc_framer_begin(&el->fr, el->tagpre, el->tagpre_len);
}

void
elog_set_mode(event_log *el, elog_mode mode, size_t long_line)
{
    el->mode = mode;
    el->fr.long_line = mode == ELOG_LONG ? long_line : 0;
}

void
elog_free(event_log *el)
{
    imapc_framer_free(&el->fr);
    free(el->long_raw.p);
    free(el->typ.p);
    free(el->dat.p);
    free(el->lit.p);
    dstr_free(&el->log);
}

static void
entry(event_log *el, const char *what)
{
    el->events++;
    dstr_puts(&el->log, what);
}

static void
field(event_log *el, const char *name, const unsigned char *p, size_t n)
{
    dstr_printf(&el->log, " %s=", name);
    dstr_quote(&el->log, p, n);
}

static void
untagged(event_log *el, const unsigned char *typ, size_t tlen, const unsigned char *dat,
         size_t dlen)
{
    entry(el, "U");
    field(el, "type", typ, tlen);
    field(el, "dat", dat, dlen);
    dstr_putc(&el->log, '\n');
}

static int
is_ok_no_bad(const unsigned char *t, size_t n)
{
    return (n == 2 && (memcmp(t, "OK", 2) == 0 || memcmp(t, "NO", 2) == 0))
           || (n == 3 && memcmp(t, "BAD", 3) == 0);
}

/* [CODE data] at the start of an OK/NO/BAD dat, filed under CODE. */
static void
response_code(event_log *el, const unsigned char *typ, size_t tlen, const unsigned char *dat,
              size_t dlen)
{
    imapc_span ct, cd;
    if (!is_ok_no_bad(typ, tlen) || !imapc_resp_code(dat, dlen, &ct, &cd))
        return;
    if (!ct.present || ct.off > dlen || ct.len > dlen - ct.off || ct.len == 0
        || (cd.present && (cd.off > dlen || cd.len > dlen - cd.off)))
        fail(el, "resp_code span out of bounds (off %llu len %llu)", ct.off, ct.len);
    else
        untagged(el, dat + ct.off, ct.len, cd.present ? dat + cd.off : dat,
                 cd.present ? cd.len : 0);
}

static void
span_check(event_log *el, const imapc_span *s, size_t n)
{
    if (s->present && (s->off > n || s->len > n - s->off))
        fail(el, "classifier span out of bounds (off %llu len %llu)", s->off, s->len);
}

/* The current dat is complete: a literal follows, or it is filed. */
static void
dat_done(event_log *el, const imapc_event *ev)
{
    if (ev->literal) {
        const unsigned char *d = ev->lit_digits;
        if (d < ev->line + 1 || d + ev->lit_ndigits > ev->line + ev->len || d[-1] != '{'
            || d[ev->lit_ndigits] != '}')
            fail(el, "literal digits (%llu of them) outside the line of %llu bytes",
                 ev->lit_ndigits, ev->len);
        el->in_literal = 1;
        el->lit_size = ev->lit_size;
        el->lit.len = 0;
        return;
    }
    untagged(el, el->typ.p, el->typ.len, el->dat.p, el->dat.len);
    response_code(el, el->typ.p, el->typ.len, el->dat.p, el->dat.len);
}

static void
on_response(event_log *el, const imapc_event *ev)
{
    const imapc_resp *r = &ev->resp;
    const unsigned char *p = ev->line;
    span_check(el, &r->tag, ev->len);
    span_check(el, &r->type, ev->len);
    span_check(el, &r->num, ev->len);
    span_check(el, &r->text, ev->len);
    if (el->failure[0])
        return;
    switch (r->kind) {
    case IMAPC_RESP_TAGGED:
        entry(el, "T");
        field(el, "tag", p + r->tag.off, r->tag.len);
        field(el, "type", p + r->type.off, r->type.len);
        field(el, "dat", p + r->text.off, r->text.len);
        dstr_putc(&el->log, '\n');
        response_code(el, p + r->type.off, r->type.len, p + r->text.off, r->text.len);
        break;
    case IMAPC_RESP_UNTAGGED:
        fb_set(&el->typ, p + r->type.off, r->type.len);
        fb_set(&el->dat, p + r->text.off, r->text.present ? r->text.len : 0);
        dat_done(el, ev);
        break;
    case IMAPC_RESP_STATUS:
        fb_set(&el->typ, p + r->type.off, r->type.len);
        fb_set(&el->dat, p + r->num.off, r->num.len);
        if (r->text.present && r->text.len > 0) { /* dat + b' ' + dat2 */
            fb_append(&el->dat, (const unsigned char *)" ", 1);
            fb_append(&el->dat, p + r->text.off, r->text.len);
        }
        dat_done(el, ev);
        break;
    case IMAPC_RESP_CONTINUATION:
        if (r->text.present) {
            entry(el, "C");
            field(el, "text", p + r->text.off, r->text.len);
        } else {
            entry(el, "C text=None");
        }
        dstr_putc(&el->log, '\n');
        break;
    default:
        entry(el, "E unexpected ");
        dstr_quote(&el->log, p, ev->len);
        dstr_putc(&el->log, '\n');
        break;
    }
}

static void
on_literal(event_log *el, const imapc_event *ev)
{
    if (!el->in_literal)
        fail(el, "literal bytes (%llu) with no literal announced (%llu)", ev->len, 0);
    fb_append(&el->lit, ev->line, ev->len);
    if ((uint64_t)el->lit.len > el->lit_size)
        fail(el, "literal of %llu bytes holds %llu", el->lit_size, el->lit.len);
    if (!ev->last)
        return;
    if ((uint64_t)el->lit.len != el->lit_size && !el->fr.eof)
        fail(el, "literal of %llu bytes ended with %llu", el->lit_size, el->lit.len);
    el->literals++;
    el->in_literal = 0;
    entry(el, "L");
    field(el, "type", el->typ.p, el->typ.len);
    field(el, "dat", el->dat.p, el->dat.len);
    field(el, "lit", el->lit.p, el->lit.len);
    dstr_putc(&el->log, '\n');
}

/* Bytes an event took out of the receive buffer. */
static size_t
taken(const imapc_event *ev)
{
    switch (ev->kind) {
    case IMAPC_EV_RESPONSE:
    case IMAPC_EV_TRAILER:
    case IMAPC_EV_BLANK:
        return ev->len + 2;
    case IMAPC_EV_LITERAL:
    case IMAPC_EV_TOO_LONG:
    case IMAPC_EV_UNTERMINATED:
        return ev->len;
    default:
        return 0;
    }
}

static void
on_event(event_log *el, const imapc_event *ev)
{
    switch (ev->kind) {
    case IMAPC_EV_RESPONSE:
        on_response(el, ev);
        break;
    case IMAPC_EV_TRAILER:
        fb_set(&el->dat, ev->line, ev->len);
        dat_done(el, ev);
        break;
    case IMAPC_EV_LITERAL:
        on_literal(el, ev);
        break;
    case IMAPC_EV_BLANK:
        break;
    case IMAPC_EV_TOO_LONG:
        if (ev->len != el->fr.max_line + 1)
            fail(el, "too long after %llu bytes with max %llu", ev->len, el->fr.max_line);
        entry(el, "E toolong\n");
        break;
    case IMAPC_EV_UNTERMINATED:
        entry(el, "E unterminated ");
        dstr_quote(&el->log, ev->line, ev->len);
        dstr_putc(&el->log, '\n');
        break;
    case IMAPC_EV_EOF:
        entry(el, "E eof\n");
        el->done = 1;
        break;
    default:
        fail(el, "unexpected event %llu (len %llu)", ev->kind, ev->len);
    }
}

static void
check_buffer(event_log *el)
{
    const imapc_rbuf *b = &el->fr.rb;
    if (!(b->start <= b->end && b->end <= b->cap))
        fail(el, "rbuf bounds broken: start/end %llu/%llu", b->start, b->end);
    if (el->consumed > el->fed || el->fed - el->consumed != imapc_rbuf_avail(b))
        fail(el, "fed %llu, consumed %llu: not what the buffer holds", el->fed, el->consumed);
}

static void
check_memory(event_log *el)
{
    const imapc_rbuf *b = &el->fr.rb;
    /* Memory follows the bytes actually held: never sized from {N}. */
    if (b->cap > 2 * imapc_rbuf_avail(b) + ((size_t)64 << 10))
        fail(el, "receive buffer of %llu bytes for %llu held", b->cap, imapc_rbuf_avail(b));
    if (b->cap > el->max_cap)
        el->max_cap = b->cap;
}

/* After an event: its bytes accounted for, its log written, and a new
 * response begun if it ended one (as the binding's next _get_response). */
static void
after_event(event_log *el, const imapc_event *ev, size_t took)
{
    el->consumed += took;
    check_buffer(el);
    on_event(el, ev);
    if (ev->end || (el->mode == ELOG_LINES && ev->kind >= IMAPC_EV_TOO_LONG
                    && ev->kind <= IMAPC_EV_EOF)) {
        if (el->in_literal)
            fail(el, "response ended inside a literal (%llu of %llu)", el->lit.len,
                 el->lit_size);
        el->in_literal = 0;
        imapc_framer_begin(&el->fr, el->tagpre, el->tagpre_len);
    }
}

/* ELOG_LINES: the literal read by the host itself, as read(size) would. */
static int
host_literal(event_log *el)
{
    imapc_rbuf *b = &el->fr.rb;
    size_t avail = imapc_rbuf_avail(b);
    uint64_t left = el->lit_size - el->lit.len;
    size_t n = (uint64_t)avail < left ? avail : (size_t)left;
    imapc_event ev;
    if (n < left && !el->fr.eof)
        n = 0; /* wait for all of it, as a blocking read(size) does */
    if (n == 0 && left > 0 && !el->fr.eof)
        return 0;
    memset(&ev, 0, sizeof(ev));
    ev.kind = IMAPC_EV_LITERAL;
    ev.line = imapc_rbuf_peek(b);
    ev.len = n;
    ev.last = 1;
    imapc_rbuf_consume(b, n);
    imapc_framer_literal_done(&el->fr);
    after_event(el, &ev, n);
    return 1;
}

/* ELOG_LINES: one raw line, then through imapc_framer_line. */
static int
host_line(event_log *el)
{
    imapc_event raw, ev;
    if (imapc_framer_next(&el->fr, IMAPC_NEXT_RAW, &raw) == IMAPC_EV_NEED_MORE)
        return 0;
    if (raw.kind != IMAPC_EV_LINE) { /* an error: the host begins anew */
        after_event(el, &raw, taken(&raw));
        return 1;
    }
    imapc_framer_line(&el->fr, raw.line, raw.len, 1, &ev);
    after_event(el, &ev, raw.len + 2);
    return 1;
}

/* ELOG_LONG: the start of a long line, taken out of the buffer. */
static void
long_begin(event_log *el, const imapc_event *ev)
{
    const imapc_resp *r = &ev->resp;
    fb_set(&el->long_raw, ev->line, ev->len);
    fb_set(&el->typ, ev->line + r->type.off, r->type.len);
    el->dat.len = 0;
    if (r->kind == IMAPC_RESP_STATUS) {
        fb_append(&el->dat, ev->line + r->num.off, r->num.len);
        fb_append(&el->dat, (const unsigned char *)" ", 1);
    }
    fb_append(&el->dat, ev->line + r->text.off, ev->len - r->text.off);
    el->long_ev = *ev;
    el->long_active = 1;
    imapc_rbuf_consume(&el->fr.rb, ev->len);
    el->consumed += ev->len;
}

/* ELOG_LONG: the rest of a taken line, up to its LF. */
static int
long_continue(event_log *el)
{
    imapc_rbuf *b = &el->fr.rb;
    size_t avail = imapc_rbuf_avail(b), n;
    const unsigned char *p = imapc_rbuf_peek(b);
    const unsigned char *lf = avail ? memchr(p, '\n', avail) : NULL;
    imapc_event ev;
    n = lf ? (size_t)(lf - p) + 1 : avail;
    fb_append(&el->long_raw, p, n);
    fb_append(&el->dat, p, n);
    imapc_rbuf_consume(b, n);
    el->consumed += n;
    if (lf == NULL && !el->fr.eof)
        return 0;
    el->long_active = 0;
    memset(&ev, 0, sizeof(ev));
    if (lf == NULL || el->dat.len < 2 || el->dat.p[el->dat.len - 2] != '\r') {
        ev.kind = IMAPC_EV_UNTERMINATED; /* the whole raw line, as imaplib says */
        ev.line = el->long_raw.p;
        ev.len = el->long_raw.len;
        ev.end = 1;
        imapc_framer_begin(&el->fr, el->tagpre, el->tagpre_len);
        after_event(el, &ev, 0);
        return 1;
    }
    el->dat.len -= 2;
    ev = el->long_ev;
    if (ev.resp.kind == IMAPC_RESP_STATUS && el->dat.len == ev.resp.num.len + 1)
        el->dat.len--; /* no text: `if dat2:` adds no space */
    imapc_framer_long_line_end(&el->fr, el->dat.p, el->dat.len, &ev);
    check_buffer(el);
    dat_done(el, &ev);
    if (ev.end)
        imapc_framer_begin(&el->fr, el->tagpre, el->tagpre_len);
    return 1;
}

/* ELOG_RUN: the fast path's ask; a refusal must leave everything as it
 * was (checked: nothing consumed, the state unchanged). */
static int
run_next(event_log *el, imapc_event *ev)
{
    size_t avail = imapc_rbuf_avail(&el->fr.rb);
    imapc_fr_response before = el->fr.cur;
    imapc_ev_kind k = imapc_framer_next(&el->fr, IMAPC_NEXT_UNTAGGED, ev);
    if (k == IMAPC_EV_RESPONSE) {
        if (ev->resp.kind != IMAPC_RESP_UNTAGGED && ev->resp.kind != IMAPC_RESP_STATUS)
            fail(el, "IMAPC_NEXT_UNTAGGED took a response of kind %llu (%llu)",
                 (unsigned long long)ev->resp.kind, 0);
        return 1;
    }
    if (k != IMAPC_EV_OTHER && k != IMAPC_EV_NEED_MORE)
        fail(el, "IMAPC_NEXT_UNTAGGED returned event %llu (%llu)", (unsigned long long)k, 0);
    if (imapc_rbuf_avail(&el->fr.rb) != avail || before.state != el->fr.cur.state
        || before.lit_left != el->fr.cur.lit_left || before.depth != el->fr.cur.depth)
        fail(el, "IMAPC_NEXT_UNTAGGED refused but consumed %llu of %llu bytes",
             (unsigned long long)(avail - imapc_rbuf_avail(&el->fr.rb)), (unsigned long long)avail);
    return 0;
}

static void
drain(event_log *el)
{
    imapc_event ev;
    while (!el->failure[0] && !el->done) {
        unsigned flags = el->mode == ELOG_LONG ? IMAPC_NEXT_LONG_OK : 0;
        if (el->mode == ELOG_LINES) {
            int r = el->fr.cur.state == IMAPC_FR_LITERAL ? host_literal(el) : host_line(el);
            if (r == 0)
                return;
            continue;
        }
        if (el->long_active) {
            if (long_continue(el) == 0)
                return;
            continue;
        }
        if (el->mode == ELOG_RUN && run_next(el, &ev)) {
            after_event(el, &ev, taken(&ev));
            continue;
        }
        if (imapc_framer_next(&el->fr, flags, &ev) == IMAPC_EV_NEED_MORE)
            return;
        if (ev.kind == IMAPC_EV_LONG_LINE) {
            const imapc_resp *r = &ev.resp;
            if ((r->kind == IMAPC_RESP_UNTAGGED || r->kind == IMAPC_RESP_STATUS)
                && r->text.present) {
                long_begin(el, &ev);
                continue;
            }
            if (imapc_framer_next(&el->fr, 0, &ev) == IMAPC_EV_NEED_MORE)
                return; /* framed in the buffer like a short line */
        }
        after_event(el, &ev, taken(&ev));
    }
}

void
elog_feed(event_log *el, const unsigned char *p, size_t n)
{
    if (el->done || el->fr.eof) {
        fail(el, "feed of %llu bytes after finish (%llu)", n, 0);
        return;
    }
    if (imapc_framer_feed(&el->fr, p, n) < 0) {
        fail(el, "feed of %llu bytes: out of memory (%llu)", n, 0);
        return;
    }
    el->fed += n;
    check_buffer(el);
    check_memory(el);
    drain(el);
}

void
elog_finish(event_log *el)
{
    if (el->failure[0] || el->done)
        return;
    imapc_framer_eof(&el->fr);
    drain(el);
    if (!el->failure[0] && !el->done)
        fail(el, "no EOF event at the end of the stream (%llu of %llu consumed)", el->consumed,
             el->fed);
    if (imapc_rbuf_avail(&el->fr.rb) != 0 || el->consumed != el->fed)
        fail(el, "EOF with %llu of %llu bytes unconsumed", el->fed - el->consumed, el->fed);
}

int
elog_run(const unsigned char *stream, size_t len, size_t max, const char *tagpre,
         int skip_blank, size_t chunk, dstr *log)
{
    event_log el;
    size_t off = 0;
    elog_init(&el, max, tagpre, skip_blank);
    if (chunk == 0)
        chunk = len ? len : 1;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        elog_feed(&el, stream + off, n);
        off += n;
    }
    elog_finish(&el);
    dstr_init(log);
    if (el.failure[0]) {
        dstr_puts(log, el.failure);
        elog_free(&el);
        return -1;
    }
    *log = el.log;
    dstr_init(&el.log);
    elog_free(&el);
    return 0;
}
