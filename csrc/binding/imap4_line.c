/* imap4_line.c - where a response's lines come from, each one run
 * through the framer (csrc/core/imapc_framer.h).
 *
 * imaplib's _get_line is readline() + the CRLF check + a log entry.  The
 * engine gets each line in one of three ways, decided per line as imaplib
 * would decide it:
 *   - from the receive buffer, when readline is the engine's own and the
 *     socket is read directly: imapc_framer_next() frames it, and the line
 *     stays a span in the buffer while it is in use;
 *   - from readline() (overridden, or a `file` that is not the socket's):
 *     checked as imaplib checks it, then handed to imapc_framer_line();
 *   - from an overridden _get_line(): handed to imapc_framer_line() as it
 *     was returned.
 * Whichever way, the framer's event says what the line is.
 */
#include "response.h"

#include "context.h"
#include "reader.h"
#include "store.h"
#include "util.h"
#include "imapc_framer.h"
#include "imapc_rbuf.h"

#include <assert.h>
#include <string.h>

/* A first line still without its LF after this many bytes may be finished
 * by the caller in its final bytes object (a 7 MB SEARCH result). */
#define LONG_LINE ((size_t)256 << 10)

void
line_take_long(engine *e, line_t *l)
{
    LINE_SPAN_OK(e, l);
    if (l->in_buf && l->is_long)
        imapc_rbuf_consume(&e->self->fr.rb, l->len);
    l->is_long = 0;
    line_unhold(e, l);
}

/* Turn a span into a bytes object (before Python code can run). */
int
line_own(engine *e, line_t *l)
{
    if (l->in_buf) {
        PyObject *o;
        LINE_SPAN_OK(e, l);
        o = bytes_of(l->p, l->len);
        if (o == NULL)
            return -1;
        line_unhold(e, l);
        l->obj = o;
        l->p = (const unsigned char *)PyBytes_AS_STRING(o);
    }
    return 0;
}

PyObject *
line_bytes(engine *e, line_t *l)
{
    if (line_own(e, l) < 0)
        return NULL;
    return Py_NewRef(l->obj);
}

/* May a line stay a span while it is handled?  Only if nothing that runs
 * meanwhile can be Python code (a _mesg, _log or _append_untagged of the
 * user's, a mapping that is not a dict). */
static int
span_safe(engine *e)
{
    return (e->debug < 4 || e->mesg_dead)
           && !(e->ov & ((1u << OV__append_untagged) | (1u << OV__log)))
           && e->ur != NULL && PyDict_CheckExact(e->ur) && e->tc != NULL
           && PyDict_CheckExact(e->tc);
}

/* The framer's settings from this pass's _MAXLINE and imaplib. */
static void
framer_settings(engine *e)
{
    imapc_framer *fr = &e->self->fr;
    fr->max_line = e->maxline < -1 ? SIZE_MAX - 1 : (size_t)e->maxline;
    fr->long_line = LONG_LINE;
    fr->skip_blank = e->st->skip_blank;
}

/* The framer's next event from the receive buffer, receiving as needed. */
static int
buffer_event(engine *e, imapc_event *ev, unsigned flags)
{
    imapc_framer *fr = &e->self->fr;
    framer_settings(e);
    while (imapc_framer_next(fr, flags, ev) == IMAPC_EV_NEED_MORE)
        if (reader_fill(e->self, e->st) < 0)
            return -1;
    return 0;
}

/* imaplib's exception for a framer error event; always -1. */
static int
line_error(engine *e, const imapc_event *ev)
{
    PyObject *self = (PyObject *)e->self, *bad;
    if (ev->kind == IMAPC_EV_TOO_LONG) {
        reader_too_long(e->self, e->st, e->maxline);
        return -1;
    }
    if (ev->kind == IMAPC_EV_EOF) {
        raise_kindf(self, e->st->s_abort, "socket error: EOF");
        return -1;
    }
    bad = bytes_of(ev->line, ev->len); /* EOF inside a line, or a bare LF */
    if (bad != NULL) {
        raise_kindf(self, e->st->s_abort, "socket error: unterminated line: %R", bad);
        Py_DECREF(bad);
    }
    return -1;
}

/* A line from the receive buffer, under the reader lock, which stays held
 * while the line is a span (l->in_buf): until line_done/line_own. */
static int
line_from_buffer(engine *e, line_t *l, imapc_event *ev, unsigned flags)
{
    if (reader_acquire(e->self) < 0)
        return -1;
    l->in_buf = 1; /* owns the lock from here */
    if (e->maxline == -1) { /* readline(0) returns b'' */
        line_unhold(e, l);
        raise_kindf((PyObject *)e->self, e->st->s_abort, "socket error: EOF");
        return -1;
    }
    if (buffer_event(e, ev, flags) < 0) {
        line_unhold(e, l);
        return -1;
    }
    l->p = ev->line;
    l->len = ev->len;
    l->gen = e->self->fr.rb.gen;
    if (ev->kind == IMAPC_EV_LONG_LINE) {
        l->is_long = 1; /* the caller takes it or asks again */
        return 0;
    }
    if (ev->kind >= IMAPC_EV_TOO_LONG && ev->kind <= IMAPC_EV_EOF) {
        int r = line_error(e, ev);
        line_unhold(e, l);
        return r;
    }
    if (e->maxline < -1 || (!span_safe(e) && line_own(e, l) < 0)) {
        if (e->maxline < -1) /* readline(max + 1) took it all: too long */
            reader_too_long(e->self, e->st, e->maxline);
        line_unhold(e, l);
        return -1;
    }
    /* Stamped with the time its bytes arrived: one clock read per recv,
     * not one per line. */
    if ((l->in_buf ? log_line_span(e, l->p, l->len, e->self->rsecs)
                   : log_line(e, '<', l->p, l->len, e->self->rsecs)) < 0) {
        line_done(e, l);
        return -1;
    }
    return 0;
}

/* readline() as imaplib's _get_line() calls it, with its checks; the
 * line without CRLF as bytes (a readline of the user's may return any
 * bytes-like object). */
static PyObject *
checked_readline(engine *e)
{
    PyObject *self = (PyObject *)e->self, *raw, *line = NULL;
    Py_buffer view;
    int t;
    if (OV(e, readline)) {
        raw = call_method(self, e->st->names[OV_readline], NULL, 0);
        CALLED_OUT(e);
    } else {
        raw = reader_readline(e->self, e->st);
    }
    if (raw == NULL)
        return NULL;
    t = PyObject_IsTrue(raw); /* `if not line: raise self.abort(...)` */
    if (t <= 0) {
        if (t == 0)
            raise_kindf(self, e->st->s_abort, "socket error: EOF");
        Py_DECREF(raw);
        return NULL;
    }
    if (PyObject_GetBuffer(raw, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(raw);
        return NULL;
    }
    if (view.len == 0)
        raise_kindf(self, e->st->s_abort, "socket error: EOF");
    else if (view.len < 2 || memcmp((char *)view.buf + view.len - 2, "\r\n", 2) != 0)
        raise_kindf(self, e->st->s_abort, "socket error: unterminated line: %R", raw);
    else
        line = bytes_of(view.buf, (size_t)view.len - 2);
    PyBuffer_Release(&view);
    Py_DECREF(raw);
    return line;
}

/* A line that Python code returned, through the same framer. */
static void
line_from_object(engine *e, line_t *l, PyObject *obj, imapc_event *ev, unsigned flags)
{
    l->obj = obj;
    l->p = (const unsigned char *)PyBytes_AS_STRING(obj);
    l->len = (size_t)PyBytes_GET_SIZE(obj);
    if (flags & IMAPC_NEXT_RAW) {
        memset(ev, 0, sizeof(*ev));
        ev->kind = IMAPC_EV_LINE;
        ev->line = l->p;
        ev->len = l->len;
        return;
    }
    e->self->fr.skip_blank = e->st->skip_blank;
    imapc_framer_line(&e->self->fr, l->p, l->len, 1, ev);
}

int
line_next(engine *e, line_t *l, imapc_event *ev, unsigned flags)
{
    PyObject *obj;
    l->p = NULL;
    l->len = 0;
    l->obj = NULL;
    l->gen = 0;
    l->in_buf = 0;
    l->is_long = 0;
    if (OV(e, _get_line) && !(flags & IMAPC_NEXT_RAW)) {
        obj = call_method((PyObject *)e->self, e->st->names[OV__get_line], NULL, 0);
        CALLED_OUT(e);
        if (obj != NULL && !PyBytes_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "_get_line() must return bytes, not %.100s",
                         Py_TYPE(obj)->tp_name);
            Py_CLEAR(obj);
        }
        if (obj == NULL)
            return -1;
        line_from_object(e, l, obj, ev, flags);
        return 0;
    }
    if (!OV(e, readline)) {
        int fast = reader_select(e);
        if (fast != 0)
            return fast < 0 ? -1 : line_from_buffer(e, l, ev, flags);
    }
    obj = checked_readline(e);
    if (obj == NULL)
        return -1;
    line_from_object(e, l, obj, ev, flags);
    if (log_line(e, '<', l->p, l->len, -1.0) < 0) {
        line_done(e, l);
        return -1;
    }
    return 0;
}

int
line_run_ok(engine *e)
{
    int fast;
    if (OV(e, _get_line) || OV(e, readline))
        return 0;
    fast = reader_select(e);
    if (fast <= 0)
        return fast;
    return e->maxline >= 0 && span_safe(e);
}

int
line_next_untagged(engine *e, line_t *l, imapc_event *ev)
{
    imapc_framer *fr = &e->self->fr;
    l->obj = NULL;
    l->is_long = 0;
    l->in_buf = 0;
    if (reader_acquire(e->self) < 0)
        return -1;
    framer_settings(e);
    if (imapc_framer_next(fr, IMAPC_NEXT_UNTAGGED, ev) != IMAPC_EV_RESPONSE) {
        reader_release(e->self); /* nothing was consumed */
        return 0;
    }
    l->in_buf = 1; /* owns the lock from here, as in line_from_buffer */
    l->p = ev->line;
    l->len = ev->len;
    l->gen = fr->rb.gen;
    if (log_line_span(e, l->p, l->len, e->self->rsecs) < 0) {
        line_done(e, l);
        return -1;
    }
    return 1;
}
