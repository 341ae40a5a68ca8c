/* imap4_engine.c - the response loop and the command machinery.
 *
 * These are imaplib's private methods (_get_line, _get_response,
 * _get_tagged_response, _command, _command_complete, _simple_command,
 * _untagged_response, _append_untagged, _check_bye, _match) with the same
 * semantics, step for step.  The speed comes from doing the per-line work
 * in C over the receive buffer: a line is classified by one forward scan
 * (imapc_resp_classify) instead of up to four regex matches, and the only
 * objects built are the ones imaplib returns.  Every hook imaplib calls
 * through `self` (readline, read, _get_line, _get_response, _append_untagged,
 * _mesg, _log, send, ...) is still called through Python when a subclass
 * or the instance overrides it.
 */
#include "engine.h"

#include "context.h"
#include "debug.h"
#include "imapc.h"
#include "object.h"
#include "reader.h"
#include "state.h"
#include "util.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static PyObject *
bytes_of(const unsigned char *p, size_t n)
{
    return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
}

int
engine_mesg(engine *e, PyObject *msg)
{
    PyObject *r = call_method((PyObject *)e->self, e->st->names[OV__mesg], &msg, 1);
    CALLED_OUT(e);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

int
engine_mesgf(engine *e, const char *fmt, ...)
{
    va_list va;
    PyObject *msg;
    int r;
    va_start(va, fmt);
    msg = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (msg == NULL)
        return -1;
    r = engine_mesg(e, msg);
    Py_DECREF(msg);
    return r;
}

int
engine_ensure_fresh(engine *e)
{
    return e->dirty ? engine_refresh(e) : 0;
}

/* str of a response type word ([A-Z-]+, so ASCII under either encoding),
 * interned and cached: the same word on consecutive lines is one object. */
static PyObject *
typ_str(engine *e, const unsigned char *p, size_t n)
{
    PyObject *s;
    if (e->last_typ != NULL && n == e->last_typ_len) {
        size_t i = 0;
        while (i < n && p[i] == (unsigned char)e->last_typ_buf[i])
            i++;
        if (i == n)
            return Py_NewRef(e->last_typ);
    }
    s = PyUnicode_DecodeASCII((const char *)p, (Py_ssize_t)n, NULL);
    if (s == NULL)
        return NULL;
    PyUnicode_InternInPlace(&s);
    if (n <= sizeof(e->last_typ_buf)) {
        memcpy(e->last_typ_buf, p, n);
        e->last_typ_len = n;
        Py_XSETREF(e->last_typ, Py_NewRef(s));
    }
    return s;
}

/* The bound regex whose match imaplib would log at debug 5. */
static int
log_match(engine *e, int from_self, const char *name, PyObject *groups)
{
    PyObject *cre, *pat;
    int r;
    if (from_self)
        cre = PyObject_GetAttrString((PyObject *)e->self, name);
    else
        cre = ns_get(e->st, name);
    if (cre == NULL)
        return -1;
    pat = PyObject_GetAttr(cre, e->st->s_pattern);
    Py_DECREF(cre);
    if (pat == NULL)
        return -1;
    r = engine_mesgf(e, "\tmatched %R => %R", pat, groups);
    Py_DECREF(pat);
    return r;
}

/* Group value of an optional span: bytes, or None if it did not match. */
static PyObject *
span_obj(const unsigned char *line, const imapc_span *s)
{
    if (!s->present)
        return Py_NewRef(Py_None);
    return bytes_of(line + s->off, s->len);
}

/* The outer group `( (?P<x>.*))`: b' ' + text, or None. */
static PyObject *
span_obj_sp(const unsigned char *line, const imapc_span *s)
{
    if (!s->present)
        return Py_NewRef(Py_None);
    return bytes_of(line + s->off - 1, s->len + 1);
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */
/* ------------------------------------------------------------------ */

/* One received line without its CRLF.  Either a span in the receive
 * buffer, held under the reader lock (reader_acquire) until line_done or
 * line_own, or a bytes object. */
typedef struct {
    const unsigned char *p;
    size_t len;
    PyObject *obj;   /* owns the bytes when not in the buffer */
    size_t consume;  /* bytes to drop from the buffer when done */
    int in_buf;
    int is_long;     /* only the start of a long line (see long_line_dat) */
    int no_lf;       /* framed by our reader: no LF inside */
} line_t;

/* Let go of a span without consuming it (the bytes stay buffered). */
static void
line_unhold(engine *e, line_t *l)
{
    if (l->in_buf) {
        l->in_buf = 0;
        reader_release(e->self);
    }
}

static void
line_done(engine *e, line_t *l)
{
    if (l->in_buf) {
        imapc_rbuf_consume(&e->self->rbuf, l->consume);
        line_unhold(e, l);
    }
    Py_CLEAR(l->obj);
}

/* Turn a span line into a bytes object (before running Python code). */
static int
line_own(engine *e, line_t *l)
{
    if (l->in_buf) {
        PyObject *o = bytes_of(l->p, l->len);
        if (o == NULL)
            return -1;
        imapc_rbuf_consume(&e->self->rbuf, l->consume);
        line_unhold(e, l);
        l->obj = o;
        l->p = (const unsigned char *)PyBytes_AS_STRING(o);
    }
    return 0;
}

static PyObject *
line_bytes(engine *e, line_t *l)
{
    if (line_own(e, l) < 0)
        return NULL;
    return Py_NewRef(l->obj);
}

/* imaplib logs every line: to _mesg at debug >= 4, else into the ring. */
int
log_line(engine *e, char dir, const unsigned char *p, size_t len, double secs)
{
    PyObject *b, *msg;
    int r;
    if (e->debug < 4 && !OV(e, _log)) {
        log_add_raw(e->self, dir, p, len, secs);
        return 0;
    }
    if (e->debug >= 4 && e->mesg_dead)
        return 0;
    b = bytes_of(p, len);
    if (b == NULL)
        return -1;
    msg = PyUnicode_FromFormat("%c %R", dir, b);
    Py_DECREF(b);
    if (msg == NULL)
        return -1;
    if (e->debug >= 4) {
        r = engine_mesg(e, msg);
    } else {
        PyObject *res = call_method((PyObject *)e->self, e->st->names[OV__log], &msg, 1);
        CALLED_OUT(e);
        r = res ? 0 : -1;
        Py_XDECREF(res);
    }
    Py_DECREF(msg);
    return r;
}

/* Callouts that may run while a line is in hand force it into an object. */
static int
span_safe(engine *e)
{
    return (e->debug < 4 || e->mesg_dead)
           && !(e->ov & ((1u << OV__append_untagged) | (1u << OV__log)))
           && e->ur != NULL && PyDict_CheckExact(e->ur) && e->tc != NULL
           && PyDict_CheckExact(e->tc);
}

/* get_line_internal() on the fast reader, under the reader lock, which
 * stays held while the line is a span in the buffer (l->in_buf): until
 * line_done, line_own or line_unhold. */
static int
fast_line_internal(engine *e, line_t *l, int long_ok)
{
    PyObject *self = (PyObject *)e->self, *bad = NULL;
    const unsigned char *p;
    size_t len;
    int r;
    if (reader_acquire(e->self) < 0)
        return -1;
    l->in_buf = 1; /* owns the lock from here */
    /* Common case first: a whole line is already buffered. */
    if (e->maxline > 0
        && imapc_rbuf_find_line(&e->self->rbuf, (size_t)e->maxline, &len) == IMAPC_LINE_FOUND) {
        p = imapc_rbuf_peek(&e->self->rbuf);
        r = 1;
    } else {
        r = reader_line_span(e, &p, &len, long_ok);
    }
    if (r < 0) {
        line_unhold(e, l);
        return -1;
    }
    if (r == 2) {
        /* The start of a long line: the caller finishes it in its final
         * object (long_line_dat) or asks again without. */
        l->p = p;
        l->len = len;
        l->consume = len;
        l->is_long = 1;
        l->no_lf = 1;
        return 0;
    }
    if (r == 0 && len == 0) {
        line_unhold(e, l);
        raise_kindf(self, e->st->s_abort, "socket error: EOF");
        return -1;
    }
    if (r == 0 || len < 2 || p[len - 2] != '\r') {
        /* EOF inside a line, or a bare LF */
        bad = bytes_of(p, len);
        imapc_rbuf_consume(&e->self->rbuf, len);
        line_unhold(e, l);
        if (bad != NULL) {
            raise_kindf(self, e->st->s_abort, "socket error: unterminated line: %R", bad);
            Py_DECREF(bad);
        }
        return -1;
    }
    l->p = p;
    l->len = len - 2;
    l->consume = len;
    l->no_lf = 1;
    if (!span_safe(e) && line_own(e, l) < 0) {
        line_unhold(e, l);
        return -1;
    }
    /* Stamped with the time its bytes arrived: one clock read per recv,
     * not one per line. */
    if (log_line(e, '<', l->p, l->len, e->self->rsecs) < 0) {
        line_done(e, l);
        return -1;
    }
    return 0;
}

/* _get_line() minus the override check: readline(), the CRLF checks,
 * logging.  0 on success, -1 with an exception. */
static int
get_line_internal(engine *e, line_t *l, int long_ok)
{
    PyObject *self = (PyObject *)e->self;
    memset(l, 0, sizeof(*l));
    if (!OV(e, readline)) {
        int fast = reader_select(e);
        if (fast < 0)
            return -1;
        if (fast)
            return fast_line_internal(e, l, long_ok);
    }
    {
        PyObject *raw;
        Py_buffer view;
        if (OV(e, readline)) {
            raw = call_method(self, e->st->names[OV_readline], NULL, 0);
            CALLED_OUT(e);
        } else {
            raw = reader_readline(e->self, e->st);
        }
        if (raw == NULL)
            return -1;
        {
            /* `if not line: raise self.abort('socket error: EOF')` */
            int t = PyObject_IsTrue(raw);
            if (t <= 0) {
                Py_DECREF(raw);
                if (t == 0)
                    raise_kindf(self, e->st->s_abort, "socket error: EOF");
                return -1;
            }
        }
        if (PyObject_GetBuffer(raw, &view, PyBUF_SIMPLE) < 0) {
            Py_DECREF(raw);
            return -1;
        }
        if (view.len == 0) {
            PyBuffer_Release(&view);
            Py_DECREF(raw);
            raise_kindf(self, e->st->s_abort, "socket error: EOF");
            return -1;
        }
        if (view.len < 2 || memcmp((char *)view.buf + view.len - 2, "\r\n", 2) != 0) {
            PyBuffer_Release(&view);
            raise_kindf(self, e->st->s_abort, "socket error: unterminated line: %R", raw);
            Py_DECREF(raw);
            return -1;
        }
        l->obj = bytes_of(view.buf, (size_t)view.len - 2);
        PyBuffer_Release(&view);
        Py_DECREF(raw);
        if (l->obj == NULL)
            return -1;
        l->p = (const unsigned char *)PyBytes_AS_STRING(l->obj);
        l->len = (size_t)PyBytes_GET_SIZE(l->obj);
        if (log_line(e, '<', l->p, l->len, -1.0) < 0) {
            line_done(e, l);
            return -1;
        }
        return 0;
    }
}

/* self._get_line(), honouring an override. */
static int
next_line_ex(engine *e, line_t *l, int long_ok)
{
    if (OV(e, _get_line)) {
        PyObject *o = call_method((PyObject *)e->self, e->st->names[OV__get_line], NULL, 0);
        memset(l, 0, sizeof(*l));
        CALLED_OUT(e);
        if (o == NULL)
            return -1;
        if (!PyBytes_Check(o)) {
            PyErr_Format(PyExc_TypeError, "_get_line() must return bytes, not %.100s",
                         Py_TYPE(o)->tp_name);
            Py_DECREF(o);
            return -1;
        }
        l->obj = o;
        l->p = (const unsigned char *)PyBytes_AS_STRING(o);
        l->len = (size_t)PyBytes_GET_SIZE(o);
        return 0;
    }
    return get_line_internal(e, l, long_ok);
}

static int
next_line(engine *e, line_t *l)
{
    return next_line_ex(e, l, 0);
}

/* ------------------------------------------------------------------ */
/* Untagged store                                                      */
/* ------------------------------------------------------------------ */

/* self._append_untagged(typ, dat) through Python: an override, or 3.14's
 * own while its IDLE queues responses. */
static int
append_untagged_in_python(engine *e, PyObject *typ, PyObject *dat)
{
    PyObject *a[2] = {typ, dat}, *r, *self = (PyObject *)e->self;
    PyObject *name = e->st->names[OV__append_untagged];
    r = OV(e, _append_untagged) ? call_method(self, name, a, 2) : call_super(self, name, a, 2);
    CALLED_OUT(e);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* imaplib's debug-5 line for a filing: untagged_responses[typ] N += ["dat"] */
static int
log_filing(engine *e, PyObject *typ, PyObject *dat)
{
    PyObject *cur, *n;
    Py_ssize_t len;
    int r;
    cur = PyObject_CallMethodObjArgs(e->ur, e->st->s_get, typ, e->st->s_empty_str, NULL);
    if (cur == NULL)
        return -1;
    len = PyObject_Length(cur);
    Py_DECREF(cur);
    if (len < 0 || !(n = PyLong_FromSsize_t(len)))
        return -1;
    r = engine_mesgf(e, "untagged_responses[%S] %S += [\"%R\"]", typ, n, dat);
    Py_DECREF(n);
    return r < 0 ? -1 : engine_ensure_fresh(e);
}

/* lst.append(dat) for a list already filed under typ; a plain list of an
 * interned type word becomes the pass's cache (a FETCH run goes straight
 * to it until Python code runs). */
static int
append_to_list(engine *e, PyObject *lst, PyObject *typ, PyObject *dat)
{
    PyObject *res;
    if (PyList_CheckExact(lst)) {
        if (PyDict_CheckExact(e->ur) && PyUnicode_CheckExact(typ) && PyUnicode_CHECK_INTERNED(typ)) {
            Py_XSETREF(e->last_list, Py_NewRef(lst));
            /* strong: a borrowed key could be freed and its address reused
             * by another type word */
            Py_XSETREF(e->last_list_typ, Py_NewRef(typ));
        }
        return PyList_Append(lst, dat);
    }
    res = PyObject_CallMethod(lst, "append", "(O)", dat);
    CALLED_OUT(e);
    Py_XDECREF(res);
    return res != NULL ? 0 : -1;
}

/* The list filed under typ (new reference), NULL with no error if none. */
static PyObject *
filed_list(engine *e, PyObject *typ)
{
    PyObject *lst = NULL;
    int has;
    if (PyDict_CheckExact(e->ur)) {
        dict_get_ref(e->ur, typ, &lst);
        return lst;
    }
    has = PySequence_Contains(e->ur, typ); /* a mapping of the user's: Python code */
    CALLED_OUT(e);
    return has > 0 ? PyObject_GetItem(e->ur, typ) : NULL;
}

int
engine_append_untagged(engine *e, PyObject *typ, PyObject *dat)
{
    PyObject *lst;
    int r;
    if (OV(e, _append_untagged) || e->idle_capture)
        return append_untagged_in_python(e, typ, dat);
    if (dat == Py_None)
        dat = e->st->b_empty;
    if (engine_ensure_fresh(e) < 0 || (MESG_ON(e, 5) && log_filing(e, typ, dat) < 0))
        return -1;
    if (typ == e->st->s_BYE)
        e->bye_state = -1;
    if (typ == e->last_list_typ && e->last_list != NULL)
        return PyList_Append(e->last_list, dat);
    lst = filed_list(e, typ);
    if (lst != NULL) {
        r = append_to_list(e, lst, typ, dat);
        Py_DECREF(lst);
        return r;
    }
    if (PyErr_Occurred() || !(lst = PyList_New(1)))
        return -1;
    PyList_SET_ITEM(lst, 0, Py_NewRef(dat));
    r = PyObject_SetItem(e->ur, typ, lst);
    Py_DECREF(lst);
    return r;
}

static int
check_bye_internal(engine *e)
{
    PyObject *bye, *last, *msg;
    int t;
    if (engine_ensure_fresh(e) < 0)
        return -1;
    if (e->bye_state == 0)
        return 0;
    if (PyDict_CheckExact(e->ur)) {
        int found = dict_get_ref(e->ur, e->st->s_BYE, &bye);
        if (found <= 0) {
            if (found == 0)
                e->bye_state = 0; /* until a BYE is filed or Python code runs */
            return found;
        }
    } else {
        bye = PyObject_CallMethodObjArgs(e->ur, e->st->s_get, e->st->s_BYE, NULL);
        CALLED_OUT(e);
        if (bye == NULL)
            return -1;
    }
    t = PyObject_IsTrue(bye);
    if (t <= 0) {
        Py_DECREF(bye);
        return t;
    }
    last = PySequence_GetItem(bye, -1);
    Py_DECREF(bye);
    if (last == NULL)
        return -1;
    {
        PyObject *enc = PyObject_GetAttr((PyObject *)e->self, e->st->s_encoding);
        if (enc == NULL) {
            Py_DECREF(last);
            return -1;
        }
        msg = PyObject_CallMethod(last, "decode", "Os", enc, "replace");
        Py_DECREF(enc);
    }
    Py_DECREF(last);
    if (msg == NULL)
        return -1;
    raise_kind((PyObject *)e->self, e->st->s_abort, msg);
    Py_DECREF(msg);
    return -1;
}

int
engine_check_bye(engine *e)
{
    if (OV(e, _check_bye)) {
        PyObject *r = call_method((PyObject *)e->self, e->st->names[OV__check_bye], NULL, 0);
        CALLED_OUT(e);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        return 0;
    }
    return check_bye_internal(e);
}

/* ------------------------------------------------------------------ */
/* _get_response                                                       */
/* ------------------------------------------------------------------ */

/* How many digits of {N} start at dat[off]: up to the '}', which is the
 * last byte, or the one before a final LF (the pattern's `$`). */
static size_t
literal_digits(PyObject *dat, size_t off)
{
    size_t len = (size_t)PyBytes_GET_SIZE(dat);
    if (len > 0 && PyBytes_AS_STRING(dat)[len - 1] == '\n')
        len--;
    return len - 1 - off;
}

/* Read literal `size` (the digits at dat[off:]) and return its data. */
static PyObject *
read_literal(engine *e, PyObject *dat, size_t digits_off, uint64_t size)
{
    PyObject *n = NULL, *data;
    if (MESG_ON(e, 4) || OV(e, read)) {
        /* int(size) exactly as imaplib builds it, for messages and read(). */
        PyObject *digits = PyUnicode_DecodeASCII(PyBytes_AS_STRING(dat) + digits_off,
                                                 (Py_ssize_t)literal_digits(dat, digits_off),
                                                 NULL);
        if (digits == NULL)
            return NULL;
        n = PyLong_FromUnicodeObject(digits, 10);
        Py_DECREF(digits);
        if (n == NULL)
            return NULL;
        if (MESG_ON(e, 4) && engine_mesgf(e, "read literal size %S", n) < 0) {
            Py_DECREF(n);
            return NULL;
        }
    }
    if (OV(e, read)) {
        data = call_method((PyObject *)e->self, e->st->names[OV_read], &n, 1);
        CALLED_OUT(e);
    } else {
        int fast = reader_select(e);
        data = fast < 0 ? NULL : reader_literal(e, size);
    }
    Py_XDECREF(n);
    return data;
}

/* Cheap first test for imapc_literal_size: does dat end in '}' (or '}\n')? */
static inline int
may_end_in_literal(PyObject *dat)
{
    Py_ssize_t n = PyBytes_GET_SIZE(dat);
    const char *d = PyBytes_AS_STRING(dat);
    return n >= 3 && (d[n - 1] == '}' || d[n - 1] == '\n');
}

/* Net parenthesis nesting of dat, ignoring parentheses inside quoted
 * strings: imaplib's _paren_depth(), whose _quoted regex is
 * "(?:[^"\\]|\\.)*+" -- a backslash escapes any byte but LF, and a quote
 * that does not close leaves the rest to be scanned as plain bytes. */
static long
paren_depth(const char *p, Py_ssize_t n, long depth)
{
    Py_ssize_t i = 0, j;
    while (i < n) {
        char c = p[i];
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

/* The literal loop of an untagged response: append (dat, literal) tuples
 * while dat ends in {N}, then the final dat.  Steals `dat`. */
static int
untagged_literals(engine *e, PyObject *typ, PyObject *dat, PyObject **last_dat)
{
    uint64_t size;
    size_t off;
    long depth = 0; /* open parentheses so far, where blank lines matter */
    *last_dat = NULL;
    while (may_end_in_literal(dat)
           && imapc_literal_size((const unsigned char *)PyBytes_AS_STRING(dat),
                                 (size_t)PyBytes_GET_SIZE(dat), &size, &off)) {
        PyObject *data, *tup;
        line_t l;
        if (MESG_ON(e, 5)) {
            PyObject *g = Py_BuildValue("(N)", bytes_of((const unsigned char *)PyBytes_AS_STRING(dat) + off,
                                                        literal_digits(dat, off)));
            int r = g ? log_match(e, 1, "Literal", g) : -1;
            Py_XDECREF(g);
            if (r < 0)
                goto broken;
        }
        data = read_literal(e, dat, off, size);
        if (data == NULL)
            goto broken;
        if (e->st->skip_blank)
            depth = paren_depth(PyBytes_AS_STRING(dat), PyBytes_GET_SIZE(dat), depth);
        tup = PyTuple_New(2);
        if (tup == NULL) {
            Py_DECREF(data);
            goto broken;
        }
        PyTuple_SET_ITEM(tup, 0, dat); /* steals */
        PyTuple_SET_ITEM(tup, 1, data);
        dat = NULL;
        /* (bytes, bytes) can never be part of a cycle: untrack it now, as
         * the collector would on its first pass, so that a FETCH of 100,000
         * literals does not make each collection walk them all. */
        if (!PyObject_IS_GC(data))
            PyObject_GC_UnTrack(tup);
        if (engine_append_untagged(e, typ, tup) < 0) {
            Py_DECREF(tup);
            goto broken;
        }
        Py_DECREF(tup);
        do {
            /* Blank lines after a literal inside an open parenthesis are
             * skipped where imaplib skips them (at top level they end
             * the response). */
            Py_CLEAR(dat);
            if (next_line(e, &l) < 0)
                goto broken;
            dat = line_bytes(e, &l);
            line_done(e, &l);
            if (dat == NULL)
                goto broken;
        } while (e->st->skip_blank && depth > 0 && PyBytes_GET_SIZE(dat) == 0);
    }
    if (engine_append_untagged(e, typ, dat) < 0)
        goto error;
    *last_dat = dat;
    return 0;
broken:
    /* A literal was announced: the rest of this response is unread. */
    reader_break(e->self);
error:
    Py_XDECREF(dat);
    return -1;
}

/* untagged_literals() in place: *dat (a new reference) becomes the last
 * fragment filed, or NULL on error. */
static int
file_untagged(engine *e, PyObject *typ, PyObject **dat)
{
    PyObject *last;
    int r = untagged_literals(e, typ, *dat, &last);
    *dat = last;
    return r;
}

/* Response codes at the start of an OK/NO/BAD text are filed under their
 * own name ([READ-WRITE] -> untagged_responses['READ-WRITE']).  Updates
 * *typ to the code's name, as imaplib does before its debug message. */
static int
response_code(engine *e, PyObject **typ, PyObject *dat)
{
    imapc_span ctype, cdata;
    const unsigned char *p;
    PyObject *ntyp, *val;
    int r;
    if (*typ != e->st->s_OK && *typ != e->st->s_NO && *typ != e->st->s_BAD) {
        /* typ_str() interns, so identity decides; compare by value only
         * for a str that came from elsewhere. */
        if (!PyUnicode_Check(*typ) || PyUnicode_CHECK_INTERNED(*typ)
            || !(PyUnicode_Compare(*typ, e->st->s_OK) == 0
                                        || PyUnicode_Compare(*typ, e->st->s_NO) == 0
                                        || PyUnicode_Compare(*typ, e->st->s_BAD) == 0))
            return 0;
    }
    p = (const unsigned char *)PyBytes_AS_STRING(dat);
    if (!imapc_resp_code(p, (size_t)PyBytes_GET_SIZE(dat), &ctype, &cdata))
        return 0;
    if (MESG_ON(e, 5)) {
        PyObject *g = Py_BuildValue("(NNN)", span_obj(p, &ctype), span_obj_sp(p, &cdata),
                                    span_obj(p, &cdata));
        r = g ? log_match(e, 0, "Response_code", g) : -1;
        Py_XDECREF(g);
        if (r < 0)
            return -1;
    }
    ntyp = typ_str(e, p + ctype.off, ctype.len);
    if (ntyp == NULL)
        return -1;
    Py_SETREF(*typ, ntyp);
    val = span_obj(p, &cdata);
    if (val == NULL)
        return -1;
    r = engine_append_untagged(e, *typ, val);
    Py_DECREF(val);
    return r;
}

/* After the first line of a _get_response(start_timeout) call: put the
 * socket's timeout back; a timeout while waiting becomes
 * self._responsetimeout (from the TimeoutError), as in 3.14. */
static int
end_start_timeout(engine *e, int failed)
{
    PyObject *exc = failed ? exc_take() : NULL, *r;
    PyObject *sock = e->timeout_sock, *saved = e->saved_timeout;
    e->timeout_sock = e->saved_timeout = NULL;
    r = PyObject_CallMethod(sock, "settimeout", "(O)", saved);
    Py_DECREF(sock);
    Py_DECREF(saved);
    if (r == NULL) {
        Py_XDECREF(exc);
        return -1;
    }
    Py_DECREF(r);
    if (exc == NULL)
        return 0;
    if (exc_is_timeout(e->st, exc)) {
        PyObject *cls = PyObject_GetAttrString((PyObject *)e->self, "_responsetimeout"), *n;
        n = cls ? PyObject_CallNoArgs(cls) : NULL;
        Py_XDECREF(cls);
        if (n == NULL) {
            Py_DECREF(exc);
            return -1;
        }
        PyException_SetCause(n, Py_NewRef(exc));
        PyException_SetContext(n, exc);
        exc_give(n);
        return -1;
    }
    exc_give(exc);
    return -1;
}

/* An untagged line too long for the buffer (a 7 MB SEARCH result): build
 * its dat (the text, or "N " + text for "* N TYPE text") directly and
 * receive the rest of the line into it, so the text is copied once.  The
 * line start is in l (consumed here); returns dat or NULL. */
static PyObject *
long_line_dat(engine *e, line_t *l, const imapc_resp *r)
{
    size_t head = r->kind == IMAPC_RESP_STATUS ? r->num.len + 1 : 0;
    size_t text_off = r->text.off, part = l->len - text_off, have, cap;
    PyObject *obj, *prefix;
    Py_ssize_t k;
    char *d;

    prefix = bytes_of(l->p, text_off); /* for an error message */
    if (prefix == NULL)
        return NULL;
    /* imaplib logs the whole line; the ring keeps a prefix of it anyway */
    log_add_raw(e->self, '<', l->p, l->len, e->self->rsecs);
    cap = 2 * (head + part);
    obj = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (obj == NULL) {
        Py_DECREF(prefix);
        return NULL;
    }
    d = PyBytes_AS_STRING(obj);
    if (head) {
        memcpy(d, l->p + r->num.off, r->num.len);
        d[r->num.len] = ' ';
    }
    memcpy(d + head, l->p + text_off, part);
    line_done(e, l);
    k = reader_long_line(e, &obj, head + part, head, text_off, &have);
    if (k >= 0 && k > (Py_ssize_t)head && PyBytes_AS_STRING(obj)[k - 1] == '\r') {
        Py_DECREF(prefix);
        if (_PyBytes_Resize(&obj, k - 1) < 0)
            return NULL;
        return obj;
    }
    if (k == -1) {
        Py_DECREF(obj);
        Py_DECREF(prefix);
        return NULL;
    }
    {
        /* EOF before the LF, or a bare LF: imaplib's messages, with the
         * raw line rebuilt from its prefix and the received text. */
        size_t end = k >= 0 ? (size_t)k + 1 : have;
        PyObject *tail = bytes_of((const unsigned char *)PyBytes_AS_STRING(obj) + head, end - head);
        PyObject *raw = tail ? PyNumber_Add(prefix, tail) : NULL;
        Py_XDECREF(tail);
        if (raw != NULL) {
            raise_kindf((PyObject *)e->self, e->st->s_abort, "socket error: unterminated line: %R", raw);
            Py_DECREF(raw);
        }
        Py_DECREF(obj);
        Py_DECREF(prefix);
        return NULL;
    }
}

/* The prefix tagged replies carry, from self.tagre: 1 (e->tagpre set),
 * 0 when tagre is not of the shape imaplib's _connect() compiles (then
 * the interpreter's own _get_response runs), -1 on error.  Parsed once
 * per tagre object. */
static int
tag_prefix(engine *e)
{
    static const char head[] = "(?P<tag>", tail[] = "\\d+) (?P<type>[A-Z]+) (?P<data>.*)";
    IMAP4Object *io = e->self;
    PyObject *tagre = PyObject_GetAttr((PyObject *)io, e->st->s_tagre), *pat, *flags;
    const char *p;
    Py_ssize_t n, i, hl = (Py_ssize_t)strlen(head), tl = (Py_ssize_t)strlen(tail);
    long f;
    if (tagre == NULL)
        return -1;
    if (tagre == io->tagre_seen) {
        Py_DECREF(tagre);
        goto done;
    }
    Py_XSETREF(io->tagre_seen, tagre);
    Py_CLEAR(io->tag_prefix);
    pat = PyObject_GetAttr(tagre, e->st->s_pattern);
    flags = pat ? PyObject_GetAttrString(tagre, "flags") : NULL;
    f = flags ? PyLong_AsLong(flags) : -1;
    Py_XDECREF(flags);
    if (f == -1 && PyErr_Occurred()) {
        Py_XDECREF(pat);
        PyErr_Clear(); /* not a compiled regex: imaplib's code says what happens */
        goto done;
    }
    if (f == 256 /* re.ASCII */ && PyBytes_Check(pat)) {
        p = PyBytes_AS_STRING(pat);
        n = PyBytes_GET_SIZE(pat);
        if (n > hl + tl && memcmp(p, head, (size_t)hl) == 0
            && memcmp(p + n - tl, tail, (size_t)tl) == 0) {
            for (i = hl; i < n - tl && Py_ISALNUM(p[i]); i++)
                ;
            if (i == n - tl)
                io->tag_prefix = PyBytes_FromStringAndSize(p + hl, n - tl - hl);
        }
    }
    Py_XDECREF(pat);
    if (PyErr_Occurred())
        return -1;
done:
    if (io->tag_prefix == NULL)
        return 0;
    e->tagpre = Py_NewRef(io->tag_prefix);
    return 1;
}

/* _get_response() of the interpreter's imaplib, as the engine's result. */
static int
super_get_response(engine *e, PyObject **resp_out)
{
    PyObject *r = call_super((PyObject *)e->self, e->st->names[OV__get_response], NULL, 0);
    CALLED_OUT(e);
    if (r == NULL)
        return -1;
    if (r == Py_None) {
        Py_DECREF(r);
        return 0;
    }
    if (resp_out)
        *resp_out = r;
    else
        Py_DECREF(r);
    return 1;
}

/* self.mo = <module regex>.match(line): imaplib's last match, which its
 * _connect() reads after a continuation greeting.  Set only where a
 * caller can look at it (continuations), not for every line. */
static int
set_mo(engine *e, PyObject *line)
{
    PyObject *cre, *mo;
    int r = dict_get_ref(e->st->ns, e->st->s_Continuation, &cre);
    if (r <= 0) {
        if (r == 0)
            PyErr_SetString(PyExc_AttributeError, "imaplib has no attribute 'Continuation'");
        return -1;
    }
    mo = PyObject_CallMethodOneArg(cre, e->st->s_match, line);
    Py_DECREF(cre);
    if (mo == NULL)
        return -1;
    r = PyObject_SetAttr((PyObject *)e->self, e->st->s_mo, mo);
    Py_DECREF(mo);
    CALLED_OUT(e);
    return r;
}

/* One response: 1 (resp in *resp_out if asked), 0 for a continuation
 * (imaplib returns None), -1 on error. */
static int
get_response(engine *e, PyObject **resp_out)
{
    PyObject *self = (PyObject *)e->self, *typ = NULL, *dat = NULL, *resp = NULL;
    line_t l;
    imapc_resp r;
    const unsigned char *p;

    if (resp_out)
        *resp_out = NULL;
    if (engine_ensure_fresh(e) < 0)
        return -1;
    if (e->tagpre == NULL) {
        int t = tag_prefix(e);
        if (t <= 0)
            return t < 0 ? -1 : super_get_response(e, resp_out);
    }
    if (next_line_ex(e, &l, resp_out == NULL && !MESG_ON(e, 1) && e->timeout_sock == NULL) < 0) {
        if (e->timeout_sock != NULL)
            end_start_timeout(e, 1);
        return -1;
    }
    if (e->timeout_sock != NULL && end_start_timeout(e, 0) < 0) {
        line_done(e, &l);
        return -1;
    }
    while (e->st->skip_blank && l.len == 0 && !l.is_long) {
        /* A spurious blank line between responses: skipped where the
         * interpreter's imaplib skips it (else "unexpected response"). */
        line_done(e, &l);
        if (next_line_ex(e, &l, resp_out == NULL && !MESG_ON(e, 1)) < 0)
            return -1;
    }
    if (resp_out || MESG_ON(e, 1)) {
        /* The caller (or a debug message) wants the line itself. */
        if ((resp = line_bytes(e, &l)) == NULL)
            goto error;
    }
    p = l.p;
    (l.no_lf ? imapc_resp_classify_nolf : imapc_resp_classify)(
        p, l.len, (const unsigned char *)PyBytes_AS_STRING(e->tagpre),
        (size_t)PyBytes_GET_SIZE(e->tagpre), &r);
    if (l.is_long) {
        if ((r.kind == IMAPC_RESP_UNTAGGED || r.kind == IMAPC_RESP_STATUS) && r.text.present
            && MESG_ON(e, 5) == 0) {
            typ = typ_str(e, p + r.type.off, r.type.len);
            if (typ == NULL)
                goto error;
            dat = long_line_dat(e, &l, &r);
            if (dat == NULL || file_untagged(e, typ, &dat) < 0)
                goto error;
            goto filed;
        }
        /* Anything else finishes in the buffer like a short line. */
        line_unhold(e, &l);
        if (get_line_internal(e, &l, 0) < 0)
            return -1;
        p = l.p;
        (l.no_lf ? imapc_resp_classify_nolf : imapc_resp_classify)(
            p, l.len, (const unsigned char *)PyBytes_AS_STRING(e->tagpre),
            (size_t)PyBytes_GET_SIZE(e->tagpre), &r);
    }

    switch (r.kind) {
    case IMAPC_RESP_TAGGED: {
        PyObject *tag = bytes_of(p + r.tag.off, r.tag.len), *lst, *val;
        int has;
        if (tag == NULL)
            goto error;
        if (MESG_ON(e, 5)) {
            PyObject *g = Py_BuildValue("(ONN)", tag, bytes_of(p + r.type.off, r.type.len),
                                        bytes_of(p + r.text.off, r.text.len));
            int rr = g ? log_match(e, 1, "tagre", g) : -1;
            Py_XDECREF(g);
            if (rr < 0 || engine_ensure_fresh(e) < 0) {
                Py_DECREF(tag);
                goto error;
            }
            p = l.p;
        }
        has = PyDict_CheckExact(e->tc) ? PyDict_Contains(e->tc, tag) : PySequence_Contains(e->tc, tag);
        if (has <= 0) {
            Py_DECREF(tag);
            if (has == 0) {
                if (resp == NULL)
                    resp = line_bytes(e, &l);
                if (resp != NULL)
                    raise_kindf(self, e->st->s_abort, "unexpected tagged response: %R", resp);
            }
            goto error;
        }
        typ = typ_str(e, p + r.type.off, r.type.len);
        dat = bytes_of(p + r.text.off, r.text.len);
        line_done(e, &l);
        lst = dat ? PyList_New(1) : NULL;
        if (typ == NULL || lst == NULL) {
            Py_DECREF(tag);
            goto error;
        }
        PyList_SET_ITEM(lst, 0, Py_NewRef(dat));
        val = PyTuple_Pack(2, typ, lst);
        Py_DECREF(lst);
        if (val == NULL || PyObject_SetItem(e->tc, tag, val) < 0) {
            Py_XDECREF(val);
            Py_DECREF(tag);
            goto error;
        }
        Py_DECREF(val);
        Py_DECREF(tag);
        e->tag_check = 1;
        break;
    }
    case IMAPC_RESP_UNTAGGED:
    case IMAPC_RESP_STATUS: {
        if (MESG_ON(e, 5)) {
            PyObject *g;
            int rr;
            if (r.kind == IMAPC_RESP_UNTAGGED)
                g = Py_BuildValue("(NNN)", bytes_of(p + r.type.off, r.type.len),
                                  span_obj_sp(p, &r.text), span_obj(p, &r.text));
            else
                g = Py_BuildValue("(NNNN)", bytes_of(p + r.num.off, r.num.len),
                                  bytes_of(p + r.type.off, r.type.len), span_obj_sp(p, &r.text),
                                  span_obj(p, &r.text));
            rr = g ? log_match(e, r.kind == IMAPC_RESP_STATUS,
                               r.kind == IMAPC_RESP_STATUS ? "Untagged_status" : "Untagged_response",
                               g)
                   : -1;
            Py_XDECREF(g);
            if (rr < 0)
                goto error;
            p = l.p;
        }
        typ = typ_str(e, p + r.type.off, r.type.len);
        if (typ == NULL)
            goto error;
        if (r.kind == IMAPC_RESP_UNTAGGED) {
            dat = r.text.present ? bytes_of(p + r.text.off, r.text.len) : Py_NewRef(e->st->b_empty);
        } else if (r.text.present && r.text.len > 0) {
            /* dat + b' ' + data2: the number, a space and the rest. */
            dat = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(r.num.len + 1 + r.text.len));
            if (dat != NULL) {
                char *d = PyBytes_AS_STRING(dat);
                memcpy(d, p + r.num.off, r.num.len);
                d[r.num.len] = ' ';
                memcpy(d + r.num.len + 1, p + r.text.off, r.text.len);
            }
        } else {
            dat = bytes_of(p + r.num.off, r.num.len);
        }
        line_done(e, &l);
        if (dat == NULL || file_untagged(e, typ, &dat) < 0)
            goto error;
        break;
    }
    case IMAPC_RESP_CONTINUATION: {
        PyObject *cont;
        int rr;
        if (MESG_ON(e, 5)) {
            PyObject *g = Py_BuildValue("(NN)", span_obj_sp(p, &r.text), span_obj(p, &r.text));
            rr = g ? log_match(e, 0, "Continuation", g) : -1;
            Py_XDECREF(g);
            if (rr < 0)
                goto error;
            p = l.p;
        }
        cont = span_obj(p, &r.text);
        if (cont != NULL && resp == NULL)
            resp = line_bytes(e, &l);
        line_done(e, &l);
        if (cont == NULL || resp == NULL) {
            Py_XDECREF(cont);
            goto error;
        }
        rr = PyObject_SetAttr(self, e->st->s_continuation_response, cont);
        Py_DECREF(cont);
        if (rr < 0 || set_mo(e, resp) < 0)
            goto error;
        Py_XDECREF(resp);
        return 0;
    }
    default:
        if (resp == NULL)
            resp = line_bytes(e, &l);
        line_done(e, &l);
        if (resp != NULL)
            raise_kindf(self, e->st->s_abort, "unexpected response: %R", resp);
        goto error;
    }

filed:
    if (response_code(e, &typ, dat) < 0)
        goto error;
    if (MESG_ON(e, 1)) {
        const char *t = PyUnicode_AsUTF8(typ);
        if (t == NULL)
            goto error;
        if ((strcmp(t, "NO") == 0 || strcmp(t, "BAD") == 0 || strcmp(t, "BYE") == 0)
            && engine_mesgf(e, "%U response: %R", typ, dat) < 0)
            goto error;
    }
    Py_DECREF(typ);
    Py_DECREF(dat);
    if (resp_out)
        *resp_out = resp;
    else
        Py_XDECREF(resp);
    return 1;
error:
    line_done(e, &l);
    Py_XDECREF(typ);
    Py_XDECREF(dat);
    Py_XDECREF(resp);
    return -1;
}

/* self._get_response(): 1/0/-1 as get_response, through an override. */
int
engine_call_get_response(engine *e, PyObject **resp_out)
{
    if (OV(e, _get_response)) {
        PyObject *r = call_method((PyObject *)e->self, e->st->names[OV__get_response], NULL, 0);
        int t;
        CALLED_OUT(e);
        if (r == NULL)
            return -1;
        t = PyObject_IsTrue(r);
        if (resp_out)
            *resp_out = r;
        else
            Py_DECREF(r);
        if (t < 0) {
            if (resp_out)
                Py_CLEAR(*resp_out);
            return -1;
        }
        return t;
    }
    return get_response(e, resp_out);
}

PyObject *
engine_get_response(engine *e)
{
    PyObject *resp;
    int r = get_response(e, &resp);
    if (r < 0)
        return NULL;
    if (r == 0)
        Py_RETURN_NONE;
    return resp;
}

/* ------------------------------------------------------------------ */
/* _get_tagged_response                                                */
/* ------------------------------------------------------------------ */

/* Does the pending exception match self.<kind>?  The exception is taken
 * out while the attribute is looked up (no C-API call may run with an
 * exception set) and put back unchanged. */
int
engine_exc_matches(engine *e, PyObject *kind_name)
{
    PyObject *exc = exc_take(), *cls;
    int m;
    if (exc == NULL)
        return 0;
    cls = PyObject_GetAttr((PyObject *)e->self, kind_name);
    if (cls == NULL) {
        Py_DECREF(exc);
        return -1;
    }
    m = PyErr_GivenExceptionMatches(exc, cls);
    Py_DECREF(cls);
    exc_give(exc);
    return m;
}

/* The tagged reply to STARTTLS (imaplib_c/_classes.py sets the flag for
 * the call): whatever followed the server's OK in plaintext was sent before
 * the handshake and must never be read as if it came over TLS.  Checked
 * once, here, before imaplib's starttls wraps the socket. */
static int
starttls_check(engine *e, PyObject *result)
{
    IMAP4Object *io = e->self;
    size_t n = imapc_rbuf_avail(&io->rbuf);
    int ok;
    e->starttls = 0;
    if (io->dict != NULL && PyDict_DelItem(io->dict, e->st->s_starttls_flag) < 0)
        PyErr_Clear();
    if (n == 0 || !PyTuple_Check(result) || PyTuple_GET_SIZE(result) < 1)
        return 0;
    ok = PyObject_RichCompareBool(PyTuple_GET_ITEM(result, 0), e->st->s_OK, Py_EQ);
    if (ok <= 0)
        return ok;
    reader_request_reset(io);
    raise_kindf((PyObject *)io, e->st->s_abort,
                "STARTTLS: %zu bytes of plaintext followed the server's OK (response injection?)",
                n);
    return -1;
}

int
engine_get_tagged(engine *e, PyObject *tag, int expect_bye, PyObject **out)
{
    PyObject *self = (PyObject *)e->self;
    for (;;) {
        PyObject *result;
        int r;
        if (engine_ensure_fresh(e) < 0)
            return -1;
        if (!e->tag_check && !expect_bye)
            goto next; /* only untagged lines since the last look */
        e->tag_check = 0;
        result = PyObject_GetItem(e->tc, tag);
        if (result == NULL)
            return -1;
        if (result != Py_None) {
            if (PyObject_DelItem(e->tc, tag) < 0 || (e->starttls && starttls_check(e, result) < 0)) {
                Py_DECREF(result);
                return -1;
            }
            *out = result;
            return 0;
        }
        Py_DECREF(result);
        if (expect_bye) {
            PyObject *bye = PyObject_CallMethodObjArgs(e->ur, e->st->s_pop, e->st->s_BYE, Py_None, NULL);
            if (bye == NULL)
                return -1;
            if (bye != Py_None) {
                *out = Py_BuildValue("(ON)", e->st->s_BYE, bye);
                return *out ? 0 : -1;
            }
            Py_DECREF(bye);
        }
    next:
        if (engine_check_bye(e) < 0)
            return -1;
        r = engine_call_get_response(e, NULL);
        if (r < 0) {
            /* except self.abort: print the interaction log at debug >= 1 */
            int m = engine_exc_matches(e, e->st->s_abort);
            if (m > 0 && e->debug >= 1 && (!e->mesg_dead || OV(e, print_log))) {
                PyObject *exc = exc_take(), *pr;
                pr = PyObject_CallMethod(self, "print_log", NULL);
                CALLED_OUT(e);
                if (pr == NULL) {
                    exc_chain(exc);
                    return -1;
                }
                Py_DECREF(pr);
                exc_give(exc);
            }
            return -1;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Python-visible methods                                              */
/* ------------------------------------------------------------------ */

static PyObject *
m_get_line(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    ENGINE_BEGIN(self)
    {
        line_t l;
        if (get_line_internal(&e, &l, 0) == 0) {
            res_ = line_bytes(&e, &l);
            line_done(&e, &l);
        }
    }
    ENGINE_END()
}

static PyObject *
m_get_response(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    /* _get_response(start_timeout=False): the 3.14 signature, everywhere */
    static const char *const names[] = {"start_timeout", NULL};
    PyObject *start_timeout = Py_False;
    if (parse_args("_get_response", args, nargs, kwnames, names, 0, &start_timeout) < 0)
        return NULL;
    {
        ENGINE_BEGIN(self)
        {
            int t = tag_prefix(&e);
            if (t <= 0) {
                if (t == 0)
                    res_ = call_super(self, e.st->names[OV__get_response], &start_timeout,
                                      start_timeout != Py_False);
                goto end_;
            }
        }
        if (start_timeout != Py_False) {
            PyObject *sock = PyObject_GetAttr(self, e.st->s_sock);
            int t = sock ? PyObject_IsTrue(sock) : -1;
            if (t < 0) {
                Py_XDECREF(sock);
                goto end_;
            }
            if (t) {
                PyObject *saved = PyObject_CallMethod(sock, "gettimeout", NULL), *r;
                r = saved ? PyObject_CallMethod(sock, "settimeout", "(O)", start_timeout) : NULL;
                if (r == NULL) {
                    Py_DECREF(sock);
                    Py_XDECREF(saved);
                    goto end_;
                }
                Py_DECREF(r);
                e.timeout_sock = sock;
                e.saved_timeout = saved;
            } else {
                Py_DECREF(sock);
            }
        }
        res_ = engine_get_response(&e);
        ENGINE_END()
    }
}

static PyObject *
m_get_tagged_response(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                      PyObject *kwnames)
{
    static const char *const names[] = {"tag", "expect_bye", NULL};
    PyObject *a[2] = {NULL, Py_False}, *tag, *expect;
    int eb;
    if (parse_args("_get_tagged_response", args, nargs, kwnames, names, 1, a) < 0)
        return NULL;
    tag = a[0];
    expect = a[1];
    eb = PyObject_IsTrue(expect);
    if (eb < 0)
        return NULL;
    {
        ENGINE_BEGIN(self)
        if (engine_get_tagged(&e, tag, eb, &res_) < 0)
            res_ = NULL;
        ENGINE_END()
    }
}

static PyObject *
m_append_untagged(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"typ", "dat", NULL};
    PyObject *a[2] = {NULL, NULL};
    if (parse_args("_append_untagged", args, nargs, kwnames, names, 2, a) < 0)
        return NULL;
    args = a;
    {
        engine e;
        PyObject *res = NULL;
        if (engine_init(&e, (IMAP4Object *)self) < 0)
            goto out;
        e.ov &= ~(1u << OV__append_untagged); /* this *is* the method */
        if (engine_append_untagged(&e, args[0], args[1]) == 0)
            res = Py_NewRef(Py_None);
    out:
        engine_fini(&e);
        return res;
    }
}

/* Signatures are imaplib's (no positional-only marker); _get_response's
 * is replaced by the interpreter's by imap4_bind(). */
PyMethodDef imap4_engine_methods[] = {
    {"_get_line", m_get_line, METH_NOARGS, "_get_line(self)\n--\n\n"},
    {"_get_response", (PyCFunction)(void (*)(void))m_get_response, METH_FASTCALL | METH_KEYWORDS,
     "_get_response(self, start_timeout=False)\n--\n\n"},
    {"_get_tagged_response", (PyCFunction)(void (*)(void))m_get_tagged_response,
     METH_FASTCALL | METH_KEYWORDS, "_get_tagged_response(self, tag, expect_bye=False)\n--\n\n"},
    {"_append_untagged", (PyCFunction)(void (*)(void))m_append_untagged,
     METH_FASTCALL | METH_KEYWORDS, "_append_untagged(self, typ, dat)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};
