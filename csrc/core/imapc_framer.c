/* imapc_framer.c - the response framer (see imapc_framer.h).
 *
 * The rules are imaplib's _get_response/_get_line, version differences
 * included where the host says so (skip_blank):
 *   - a line ends at LF and must end in CRLF; one over max_line is an
 *     error after readline(max_line + 1) took max_line + 1 bytes;
 *   - tagre, Untagged_response, Untagged_status, Continuation, in that
 *     order (imapc_resp_classify);
 *   - an untagged dat ending in {N} is followed by N literal bytes and a
 *     line that is the next dat, which may announce another literal;
 *   - skip_blank: a blank line between responses is skipped, and so is a
 *     blank line after a literal while a parenthesis is open.
 */
#include "imapc_framer.h"
#include "imapc_rbuf.h"
#include "imapc_resp.h"

#include <string.h>

/* imaplib's default _MAXLINE; the host sets its own. */
#define IMAPC_FRAMER_MAX_LINE ((size_t)1000000)

void
imapc_framer_init(imapc_framer *f)
{
    memset(f, 0, sizeof(*f));
    imapc_rbuf_init(&f->rb);
    f->max_line = IMAPC_FRAMER_MAX_LINE;
    f->cur.state = IMAPC_FR_RESPONSE;
}

void
imapc_framer_free(imapc_framer *f)
{
    imapc_rbuf_free(&f->rb);
    f->cur.state = IMAPC_FR_RESPONSE;
}

static void
reset(imapc_framer *f)
{
    f->cur.state = IMAPC_FR_RESPONSE;
    f->cur.lit_left = 0;
    f->cur.depth = 0;
}

void
imapc_framer_begin(imapc_framer *f, const unsigned char *tagpre, size_t tagpre_len)
{
    f->cur.tagpre = tagpre;
    f->cur.tagpre_len = tagpre_len;
    reset(f);
}

int
imapc_framer_feed(imapc_framer *f, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t space, k;
        unsigned char *dst = imapc_rbuf_reserve(&f->rb, n, &space);
        if (dst == NULL)
            return -1;
        k = space < n ? space : n;
        memcpy(dst, p, k);
        imapc_rbuf_commit(&f->rb, k);
        p += k;
        n -= k;
    }
    return 0;
}

void
imapc_framer_eof(imapc_framer *f)
{
    f->eof = 1;
}

long
imapc_paren_depth(const unsigned char *p, size_t n, long depth)
{
    /* imaplib's _quoted is "(?:[^"\\]|\\.)*+": a backslash escapes any
     * byte but LF, and a quote that does not close leaves the rest to be
     * scanned as plain bytes. */
    size_t i = 0, j;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"') {
            for (j = i + 1; j < n && p[j] != '"'; j++)
                if (p[j] == '\\' && (++j >= n || p[j] == '\n'))
                    break;
            if (j < n && p[j] == '"') {
                i = j + 1; /* a quoted string: its contents do not count */
                continue;
            }
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        }
        i++;
    }
    return depth;
}

/* A dat is complete: a literal follows it, or the response ends. */
static void
dat_end(imapc_framer *f, const unsigned char *dat, size_t len, imapc_event *ev)
{
    uint64_t size;
    size_t off, end = len;
    /* Most dats end in neither '}' nor '}' LF: skip the scan for them. */
    int maybe = len >= 3 && (dat[len - 1] == '}' || dat[len - 1] == '\n');
    if (!maybe || !imapc_literal_size(dat, len, &size, &off)) {
        ev->end = 1;
        reset(f);
        return;
    }
    if (end > 0 && dat[end - 1] == '\n')
        end--; /* `$` matched before a final LF */
    ev->literal = 1;
    ev->lit_size = size;
    ev->lit_digits = dat + off;
    ev->lit_ndigits = end - 1 - off;
    if (f->skip_blank)
        f->cur.depth = imapc_paren_depth(dat, len, f->cur.depth);
    f->cur.state = IMAPC_FR_LITERAL;
    f->cur.lit_left = size;
}

/* The dat of a RESPONSE line: an untagged text, or a status response's
 * "N text" (whose literal, if any, is at the end of the text, and whose
 * number holds no parenthesis). */
static void
response_dat(imapc_framer *f, const unsigned char *line, imapc_event *ev)
{
    const imapc_span *t = &ev->resp.text;
    if (ev->resp.kind != IMAPC_RESP_UNTAGGED && ev->resp.kind != IMAPC_RESP_STATUS) {
        ev->end = 1; /* tagged, continuation, unexpected: one line */
        reset(f);
    } else if (t->present) {
        dat_end(f, line + t->off, t->len, ev);
    } else {
        dat_end(f, line, 0, ev);
    }
}

static imapc_ev_kind
error(imapc_framer *f, unsigned flags, imapc_ev_kind kind, imapc_event *ev)
{
    ev->kind = kind;
    if (flags & IMAPC_NEXT_RAW)
        return kind; /* a raw read leaves the response state alone */
    ev->end = 1;
    ev->cut = f->cur.state != IMAPC_FR_RESPONSE;
    reset(f);
    return kind;
}

/* A new event over `line`.  Field by field, not memset: this runs once
 * per line; `resp` is filled (and read) only for RESPONSE/LONG_LINE, the
 * lit_* fields only where `literal` is set. */
static void
event_clear(imapc_event *ev, const unsigned char *line, size_t len)
{
    ev->kind = IMAPC_EV_NEED_MORE;
    ev->line = line;
    ev->len = len;
    ev->resp.kind = IMAPC_RESP_UNEXPECTED;
    ev->literal = 0; /* lit_* are set where literal is */
    ev->last = 0;
    ev->end = 0;
    ev->cut = 0;
}

static imapc_ev_kind
on_line(imapc_framer *f, const unsigned char *p, size_t len, int may_have_lf, imapc_event *ev)
{
    event_clear(ev, p, len);
    if (len == 0 && f->skip_blank && (f->cur.state == IMAPC_FR_RESPONSE || f->cur.depth > 0)) {
        ev->kind = IMAPC_EV_BLANK;
        return ev->kind;
    }
    if (f->cur.state == IMAPC_FR_TRAILER) {
        ev->kind = IMAPC_EV_TRAILER;
        dat_end(f, p, len, ev);
        return ev->kind;
    }
    ev->kind = IMAPC_EV_RESPONSE;
    (may_have_lf ? imapc_resp_classify : imapc_resp_classify_nolf)(p, len, f->cur.tagpre,
                                                                    f->cur.tagpre_len, &ev->resp);
    response_dat(f, p, ev);
    return ev->kind;
}

imapc_ev_kind
imapc_framer_line(imapc_framer *f, const unsigned char *line, size_t len, int may_have_lf,
                  imapc_event *ev)
{
    if (f->cur.state == IMAPC_FR_LITERAL)
        imapc_framer_literal_done(f); /* the host skipped the literal */
    return on_line(f, line, len, may_have_lf, ev);
}

void
imapc_framer_literal_done(imapc_framer *f)
{
    f->cur.state = IMAPC_FR_TRAILER;
    f->cur.lit_left = 0;
}

void
imapc_framer_long_line_end(imapc_framer *f, const unsigned char *dat, size_t len,
                           imapc_event *ev)
{
    ev->kind = IMAPC_EV_RESPONSE;
    ev->line = dat;
    ev->len = len;
    dat_end(f, dat, len, ev);
}

static imapc_ev_kind
next_literal(imapc_framer *f, imapc_event *ev)
{
    size_t avail = imapc_rbuf_avail(&f->rb);
    size_t n = (uint64_t)avail < f->cur.lit_left ? avail : (size_t)f->cur.lit_left;
    if (n == 0 && f->cur.lit_left > 0 && !f->eof)
        return IMAPC_EV_NEED_MORE;
    event_clear(ev, imapc_rbuf_peek(&f->rb), n);
    ev->kind = IMAPC_EV_LITERAL;
    imapc_rbuf_consume(&f->rb, n);
    f->cur.lit_left -= n;
    if (f->cur.lit_left == 0 || (f->eof && n == avail)) {
        ev->last = 1; /* at EOF: read(size) returned what there was */
        imapc_framer_literal_done(f);
    }
    return ev->kind;
}

/* No LF buffered within max_line: a long line's start, EOF, or wait. */
static imapc_ev_kind
no_line(imapc_framer *f, unsigned flags, imapc_event *ev)
{
    size_t avail = imapc_rbuf_avail(&f->rb);
    const unsigned char *p = imapc_rbuf_peek(&f->rb);
    if ((flags & (IMAPC_NEXT_LONG_OK | IMAPC_NEXT_RAW)) == IMAPC_NEXT_LONG_OK
        && f->long_line > 0 && avail >= f->long_line && f->cur.state == IMAPC_FR_RESPONSE) {
        event_clear(ev, p, avail);
        ev->kind = IMAPC_EV_LONG_LINE;
        imapc_resp_classify_nolf(p, avail, f->cur.tagpre, f->cur.tagpre_len, &ev->resp);
        return ev->kind;
    }
    if (!f->eof)
        return IMAPC_EV_NEED_MORE;
    event_clear(ev, p, avail);
    imapc_rbuf_consume(&f->rb, avail);
    return error(f, flags, avail == 0 ? IMAPC_EV_EOF : IMAPC_EV_UNTERMINATED, ev);
}

/* IMAPC_NEXT_UNTAGGED: the buffered line is consumed only when it is what
 * the normal path would frame as an untagged RESPONSE (a complete line,
 * CRLF-terminated, classified UNTAGGED or STATUS at a response's start). */
static imapc_ev_kind
next_untagged(imapc_framer *f, imapc_event *ev)
{
    size_t len = 0;
    const unsigned char *p = imapc_rbuf_peek(&f->rb);
    imapc_line_status st;
    if (f->cur.state != IMAPC_FR_RESPONSE || imapc_rbuf_avail(&f->rb) == 0)
        return f->cur.state == IMAPC_FR_RESPONSE ? IMAPC_EV_NEED_MORE : IMAPC_EV_OTHER;
    if (p[0] != '*')
        return IMAPC_EV_OTHER; /* every untagged line starts so: skip the scan */
    st = imapc_rbuf_find_line(&f->rb, f->max_line, &len);
    if (st != IMAPC_LINE_FOUND)
        return st == IMAPC_LINE_NEED_MORE && !f->eof ? IMAPC_EV_NEED_MORE : IMAPC_EV_OTHER;
    if (len < 2 || p[len - 2] != '\r')
        return IMAPC_EV_OTHER;
    event_clear(ev, p, len - 2);
    ev->kind = IMAPC_EV_RESPONSE;
    imapc_resp_classify_nolf(p, len - 2, f->cur.tagpre, f->cur.tagpre_len, &ev->resp);
    if (ev->resp.kind != IMAPC_RESP_UNTAGGED && ev->resp.kind != IMAPC_RESP_STATUS)
        return IMAPC_EV_OTHER;
    imapc_rbuf_consume(&f->rb, len); /* p stays valid until a reserve */
    response_dat(f, p, ev);
    return ev->kind;
}

imapc_ev_kind
imapc_framer_next(imapc_framer *f, unsigned flags, imapc_event *ev)
{
    size_t len = 0;
    const unsigned char *p;
    if (flags & IMAPC_NEXT_UNTAGGED)
        return next_untagged(f, ev);
    if (f->cur.state == IMAPC_FR_LITERAL && !(flags & IMAPC_NEXT_RAW))
        return next_literal(f, ev);
    switch (imapc_rbuf_find_line(&f->rb, f->max_line, &len)) {
    case IMAPC_LINE_FOUND:
        p = imapc_rbuf_peek(&f->rb);
        imapc_rbuf_consume(&f->rb, len); /* p stays valid until a reserve */
        if (len < 2 || p[len - 2] != '\r') {
            event_clear(ev, p, len); /* a bare LF */
            return error(f, flags, IMAPC_EV_UNTERMINATED, ev);
        }
        if (flags & IMAPC_NEXT_RAW) {
            event_clear(ev, p, len - 2);
            ev->kind = IMAPC_EV_LINE;
            return ev->kind;
        }
        return on_line(f, p, len - 2, 0, ev);
    case IMAPC_LINE_TOO_LONG:
        event_clear(ev, imapc_rbuf_peek(&f->rb), f->max_line + 1);
        imapc_rbuf_consume(&f->rb, f->max_line + 1);
        return error(f, flags, IMAPC_EV_TOO_LONG, ev);
    case IMAPC_LINE_NEED_MORE:
    default:
        return no_line(f, flags, ev);
    }
}
