/* imap4_response.c - _get_response: a driver that pulls the framer's
 * events and short handlers that build imaplib's objects from them.
 *
 * imaplib's _get_response, step for step: a first line (blank lines
 * skipped where that imaplib skips them), then by its kind a tagged
 * completion, an untagged response with its literals, a continuation or
 * "unexpected response"; then the [CODE] of an OK/NO/BAD and the debug-1
 * message.  The framer (csrc/core/imapc_framer.h) decides what each line
 * is and whether a literal follows; this file only builds objects, files
 * them where imaplib files them, and traces them at debug 5 (the trace_*
 * functions, a separate step before each handler).  response_run reads a
 * run of untagged responses already in the buffer with the same handlers,
 * for _get_tagged_response's loop.
 */
#include "response.h"

#include "context.h"
#include "debug.h"
#include "object.h"
#include "reader.h"
#include "state.h"
#include "store.h"
#include "util.h"
#include "imapc_framer.h"
#include "imapc_rbuf.h"
#include "imapc_resp.h"

#include <assert.h>
#include <string.h>

/* The response being read. */
typedef struct {
    line_t l;         /* the current line                                 */
    imapc_event ev;   /* what the framer made of it                       */
    PyObject *resp;   /* the first line, for the caller or a message      */
    PyObject *typ;    /* the type word (str), or the [CODE]'s name         */
    PyObject *dat;    /* the current dat                                  */
} response;

static void
response_clear(engine *e, response *r)
{
    line_done(e, &r->l);
    Py_CLEAR(r->resp);
    Py_CLEAR(r->typ);
    Py_CLEAR(r->dat);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* str of a response type word ([A-Z-]+, so ASCII under either encoding),
 * interned and cached: the same word on consecutive lines is one object. */
static PyObject *
typ_str(engine *e, const unsigned char *p, size_t n)
{
    PyObject *s;
    /* The completion words: one of them ends every command. */
    if (n == 2 && p[0] == 'O' && p[1] == 'K')
        return Py_NewRef(e->st->s_OK);
    if (n == 2 && p[0] == 'N' && p[1] == 'O')
        return Py_NewRef(e->st->s_NO);
    if (n == 3 && p[0] == 'B' && p[1] == 'A' && p[2] == 'D')
        return Py_NewRef(e->st->s_BAD);
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

/* The prefix tagged replies carry, from self.tagre: 1 (e->tagpre set),
 * 0 when tagre is not of the shape imaplib's _connect() compiles (then
 * the interpreter's own _get_response runs), -1 on error.  Parsed once
 * per tagre object. */
int
response_tag_prefix(engine *e)
{
    static const char head[] = "(?P<tag>", tail[] = "\\d+) (?P<type>[A-Z]+) (?P<data>.*)";
    IMAP4Object *io = e->self;
    PyObject *tagre = self_attr(io, e->st->s_tagre), *pat, *flags;
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

/* ------------------------------------------------------------------ */
/* Debug level 5: the regex matches imaplib logs                       */
/* ------------------------------------------------------------------ */

/* "\tmatched <pattern> => <groups>" for the first line's pattern. */
static int
trace_line(engine *e, response *r)
{
    const unsigned char *p = r->l.p;
    const imapc_resp *rs = &r->ev.resp;
    PyObject *g;
    const char *name;
    int from_self = 0, rc;
    switch (rs->kind) {
    case IMAPC_RESP_TAGGED:
        g = Py_BuildValue("(NNN)", bytes_of(p + rs->tag.off, rs->tag.len),
                          bytes_of(p + rs->type.off, rs->type.len),
                          bytes_of(p + rs->text.off, rs->text.len));
        name = "tagre";
        from_self = 1;
        break;
    case IMAPC_RESP_UNTAGGED:
        g = Py_BuildValue("(NNN)", bytes_of(p + rs->type.off, rs->type.len),
                          span_obj_sp(p, &rs->text), span_obj(p, &rs->text));
        name = "Untagged_response";
        break;
    case IMAPC_RESP_STATUS:
        g = Py_BuildValue("(NNNN)", bytes_of(p + rs->num.off, rs->num.len),
                          bytes_of(p + rs->type.off, rs->type.len), span_obj_sp(p, &rs->text),
                          span_obj(p, &rs->text));
        name = "Untagged_status";
        from_self = 1;
        break;
    case IMAPC_RESP_CONTINUATION:
        g = Py_BuildValue("(NN)", span_obj_sp(p, &rs->text), span_obj(p, &rs->text));
        name = "Continuation";
        break;
    default:
        return 0; /* nothing matched, nothing logged */
    }
    rc = g ? log_match(e, from_self, name, g) : -1;
    Py_XDECREF(g);
    return rc;
}

/* The digits of the {N} that ends dat (before a final LF: the `$`). */
static PyObject *
literal_digits(PyObject *dat, size_t ndigits)
{
    const char *d = PyBytes_AS_STRING(dat);
    size_t end = (size_t)PyBytes_GET_SIZE(dat);
    if (end > 0 && d[end - 1] == '\n')
        end--;
    assert(end >= ndigits + 2);
    return PyBytes_FromStringAndSize(d + end - 1 - ndigits, (Py_ssize_t)ndigits);
}

static int
trace_literal(engine *e, response *r)
{
    PyObject *g = Py_BuildValue("(N)", literal_digits(r->dat, r->ev.lit_ndigits));
    int rc = g ? log_match(e, 1, "Literal", g) : -1;
    Py_XDECREF(g);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

/* "unexpected tagged response" / "unexpected response": -1 always. */
static int
on_unexpected(engine *e, response *r, const char *what)
{
    if (r->resp == NULL)
        r->resp = line_bytes(e, &r->l);
    if (r->resp != NULL)
        raise_kindf((PyObject *)e->self, e->st->s_abort, "%s: %R", what, r->resp);
    return -1;
}

/* tagged_commands[tag] = (typ, [dat]) */
static int
on_tagged(engine *e, response *r)
{
    const unsigned char *p = r->l.p;
    const imapc_resp *rs = &r->ev.resp;
    PyObject *tag = bytes_of(p + rs->tag.off, rs->tag.len), *val;
    int has;
    if (tag == NULL)
        return -1;
    has = PyDict_CheckExact(e->tc) ? PyDict_Contains(e->tc, tag) : PySequence_Contains(e->tc, tag);
    if (has <= 0) {
        Py_DECREF(tag);
        return has < 0 ? -1 : on_unexpected(e, r, "unexpected tagged response");
    }
    p = r->l.p; /* the mapping's code may have run: the line is owned then */
    r->typ = typ_str(e, p + rs->type.off, rs->type.len);
    r->dat = bytes_of(p + rs->text.off, rs->text.len);
    line_done(e, &r->l);
    val = r->typ && r->dat ? PyList_New(1) : NULL; /* (typ, [dat]) */
    if (val != NULL) {
        PyList_SET_ITEM(val, 0, Py_NewRef(r->dat));
        Py_SETREF(val, PyTuple_Pack(2, r->typ, val));
    }
    if (val == NULL || PyObject_SetItem(e->tc, tag, val) < 0) {
        Py_XDECREF(val);
        Py_DECREF(tag);
        return -1;
    }
    Py_DECREF(val);
    Py_DECREF(tag);
    e->tag_check = 1;
    return 1;
}

/* self.continuation_response = text; self.mo as imaplib leaves it, except
 * while a literal waits for it (engine.literal_wait). */
static int
on_continuation(engine *e, response *r)
{
    PyObject *cont = span_obj(r->l.p, &r->ev.resp.text);
    int rc;
    if (cont != NULL && r->resp == NULL)
        r->resp = line_bytes(e, &r->l);
    line_done(e, &r->l);
    if (cont == NULL || r->resp == NULL) {
        Py_XDECREF(cont);
        return -1;
    }
    rc = engine_set_attr(e, e->st->s_continuation_response, cont);
    Py_DECREF(cont);
    if (rc < 0 || (!e->literal_wait && set_mo(e, r->resp) < 0))
        return -1;
    return 0;
}

/* read(size) of a literal: the engine's reader or an override. */
static PyObject *
read_literal(engine *e, response *r)
{
    PyObject *n = NULL, *data;
    if (MESG_ON(e, 4) || OV(e, read)) {
        /* int(size) exactly as imaplib builds it, for messages and read(). */
        PyObject *b = literal_digits(r->dat, r->ev.lit_ndigits), *digits;
        digits = b ? PyUnicode_FromEncodedObject(b, "ascii", NULL) : NULL;
        Py_XDECREF(b);
        n = digits ? PyLong_FromUnicodeObject(digits, 10) : NULL;
        Py_XDECREF(digits);
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
        data = fast < 0 ? NULL : reader_literal(e, r->ev.lit_size);
    }
    Py_XDECREF(n);
    return data;
}

/* The literal announced at the end of r->dat: read, then filed as
 * (dat, literal).  r->dat goes into the tuple. */
static int
file_literal(engine *e, response *r)
{
    PyObject *data, *tup;
    int rc;
    if (MESG_ON(e, 5) && trace_literal(e, r) < 0)
        return -1;
    data = read_literal(e, r);
    if (data == NULL)
        return -1;
    imapc_framer_literal_done(&e->self->fr);
    tup = PyTuple_New(2);
    if (tup == NULL) {
        Py_DECREF(data);
        return -1;
    }
    PyTuple_SET_ITEM(tup, 0, r->dat); /* steals */
    PyTuple_SET_ITEM(tup, 1, data);
    r->dat = NULL;
    /* (bytes, bytes) can never be part of a cycle: untrack it now, as the
     * collector would on its first pass, so that a FETCH of 100,000
     * literals does not make each collection walk them all. */
    if (!PyObject_IS_GC(data))
        PyObject_GC_UnTrack(tup);
    rc = engine_append_untagged(e, r->typ, tup);
    Py_DECREF(tup);
    return rc;
}

/* The line after a literal, the response's next dat (blank lines the
 * framer says imaplib skips are passed over). */
static int
next_dat(engine *e, response *r)
{
    do {
        line_done(e, &r->l);
        if (line_next(e, &r->l, &r->ev, 0) < 0)
            return -1;
    } while (r->ev.kind == IMAPC_EV_BLANK);
    r->dat = line_bytes(e, &r->l);
    line_done(e, &r->l);
    return r->dat != NULL ? 0 : -1;
}

/* An untagged response whose typ and first dat are built: its literals,
 * then the last dat. */
static int
file_untagged(engine *e, response *r)
{
    while (r->ev.literal) {
        if (file_literal(e, r) < 0 || next_dat(e, r) < 0) {
            /* A literal was announced: the rest of this response is
             * unread, and the stream cannot be framed any more. */
            reader_break(e->self);
            return -1;
        }
    }
    return engine_append_untagged(e, r->typ, r->dat) < 0 ? -1 : 1;
}

/* "* TYPE text" or "* N TYPE text": typ and dat, then its literals. */
static int
on_untagged(engine *e, response *r)
{
    const unsigned char *p = r->l.p;
    const imapc_resp *rs = &r->ev.resp;
    r->typ = typ_str(e, p + rs->type.off, rs->type.len);
    if (r->typ == NULL)
        return -1;
    if (rs->kind == IMAPC_RESP_UNTAGGED) {
        r->dat = rs->text.present ? bytes_of(p + rs->text.off, rs->text.len)
                                  : Py_NewRef(e->st->b_empty);
    } else if (rs->text.present && rs->text.len > 0) {
        /* dat + b' ' + data2: the number, a space and the rest. */
        r->dat = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(rs->num.len + 1 + rs->text.len));
        if (r->dat != NULL) {
            char *d = PyBytes_AS_STRING(r->dat);
            memcpy(d, p + rs->num.off, rs->num.len);
            d[rs->num.len] = ' ';
            memcpy(d + rs->num.len + 1, p + rs->text.off, rs->text.len);
        }
    } else {
        r->dat = bytes_of(p + rs->num.off, rs->num.len);
    }
    line_done(e, &r->l);
    if (r->dat == NULL)
        return -1;
    return file_untagged(e, r);
}

/* An untagged line too long for the buffer (a 7 MB SEARCH result): its
 * dat (the text, or "N " + text for "* N TYPE text") is built directly
 * and the rest of the line received into it, so the text is copied once.
 * The line's start is r->l (taken here). */
static PyObject *
long_line_dat(engine *e, response *r)
{
    const imapc_resp *rs = &r->ev.resp;
    line_t *l = &r->l;
    size_t head = rs->kind == IMAPC_RESP_STATUS ? rs->num.len + 1 : 0;
    size_t text_off = rs->text.off, part = l->len - text_off, have, cap;
    PyObject *obj, *prefix;
    Py_ssize_t k;
    char *d;

    LINE_SPAN_OK(e, l);
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
        memcpy(d, l->p + rs->num.off, rs->num.len);
        d[rs->num.len] = ' ';
    }
    memcpy(d + head, l->p + text_off, part);
    line_take_long(e, l);
    k = reader_long_line(e, &obj, head + part, head, text_off, &have);
    if (k >= 0 && k > (Py_ssize_t)head && PyBytes_AS_STRING(obj)[k - 1] == '\r') {
        /* The text ends before the CR; with no text, "N" without its
         * space (imaplib's `if dat2:`). */
        Py_ssize_t end = head > 0 && k - 1 == (Py_ssize_t)head ? k - 2 : k - 1;
        Py_DECREF(prefix);
        if (_PyBytes_Resize(&obj, end) < 0)
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

/* A first line that did not fit the buffer: an untagged one with text is
 * finished in its dat object (1); anything else is read into the buffer
 * like a short line (0). */
static int
take_long_line(engine *e, response *r)
{
    const imapc_resp *rs = &r->ev.resp;
    if ((rs->kind == IMAPC_RESP_UNTAGGED || rs->kind == IMAPC_RESP_STATUS) && rs->text.present
        && !MESG_ON(e, 5)) {
        r->typ = typ_str(e, r->l.p + rs->type.off, rs->type.len);
        r->dat = r->typ ? long_line_dat(e, r) : NULL;
        if (r->dat == NULL)
            return -1;
        imapc_framer_long_line_end(&e->self->fr, (const unsigned char *)PyBytes_AS_STRING(r->dat),
                                   (size_t)PyBytes_GET_SIZE(r->dat), &r->ev);
        return 1;
    }
    line_unhold(e, &r->l);
    return line_next(e, &r->l, &r->ev, 0) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The driver                                                          */
/* ------------------------------------------------------------------ */

/* The response's first line: 1 if it was a long untagged line, already
 * taken (typ and dat built), 0 otherwise, -1 on error. */
static int
first_line(engine *e, response *r, int want_resp)
{
    unsigned flags = !want_resp && !MESG_ON(e, 1) && e->timeout_sock == NULL
                         ? IMAPC_NEXT_LONG_OK : 0;
    int rc = line_next(e, &r->l, &r->ev, flags);
    if (e->timeout_sock != NULL && end_start_timeout(e, rc < 0) < 0) {
        line_done(e, &r->l);
        return -1;
    }
    if (rc < 0)
        return -1;
    while (r->ev.kind == IMAPC_EV_BLANK) {
        /* A spurious blank line between responses: skipped where the
         * interpreter's imaplib skips it (else "unexpected response"). */
        line_done(e, &r->l);
        if (line_next(e, &r->l, &r->ev, flags) < 0)
            return -1;
    }
    if (r->ev.kind == IMAPC_EV_LONG_LINE)
        return take_long_line(e, r);
    if (!want_resp && !MESG_ON(e, 1))
        return 0;
    r->resp = line_bytes(e, &r->l); /* the caller, or a message, wants it */
    return r->resp != NULL ? 0 : -1;
}

/* The handler for the first line's kind: 1 response, 0 continuation. */
static int
dispatch(engine *e, response *r)
{
    /* Python code may have run (a readline, a _mesg): re-read the
     * attributes the handlers use. */
    if ((MESG_ON(e, 5) && trace_line(e, r) < 0) || engine_ensure_fresh(e) < 0)
        return -1;
    switch (r->ev.resp.kind) {
    case IMAPC_RESP_TAGGED:
        return on_tagged(e, r);
    case IMAPC_RESP_UNTAGGED:
    case IMAPC_RESP_STATUS:
        return on_untagged(e, r);
    case IMAPC_RESP_CONTINUATION:
        return on_continuation(e, r);
    default:
        return on_unexpected(e, r, "unexpected response");
    }
}

/* After the response is filed: its [CODE], and the debug-1 message. */
static int
finish(engine *e, response *r)
{
    const char *t;
    if (response_code(e, &r->typ, r->dat) < 0)
        return -1;
    if (!MESG_ON(e, 1))
        return 1;
    t = PyUnicode_AsUTF8(r->typ);
    if (t == NULL)
        return -1;
    if ((strcmp(t, "NO") == 0 || strcmp(t, "BAD") == 0 || strcmp(t, "BYE") == 0)
        && engine_mesgf(e, "%U response: %R", r->typ, r->dat) < 0)
        return -1;
    return 1;
}

int
response_get(engine *e, PyObject **resp_out)
{
    response r;
    imapc_fr_response outer; /* the caller's, if this call is nested */
    int nested = e->self->in_response, rc;
    if (resp_out)
        *resp_out = NULL;
    if (engine_ensure_fresh(e) < 0)
        return -1;
    if (e->tagpre == NULL) {
        int t = response_tag_prefix(e);
        if (t <= 0)
            return t < 0 ? -1 : super_get_response(e, resp_out);
    }
    if (nested)
        outer = e->self->fr.cur;
    e->self->in_response = 1;
    r.l.obj = NULL; /* line_next fills the rest; the event follows the line */
    r.l.in_buf = 0;
    r.resp = r.typ = r.dat = NULL;
    imapc_framer_begin(&e->self->fr, (const unsigned char *)PyBytes_AS_STRING(e->tagpre),
                       (size_t)PyBytes_GET_SIZE(e->tagpre));
    rc = first_line(e, &r, resp_out != NULL);
    if (rc == 1)
        rc = file_untagged(e, &r); /* a long line, taken whole */
    else if (rc == 0)
        rc = dispatch(e, &r);
    if (rc == 1)
        rc = finish(e, &r);
    if (rc == 1 && resp_out) {
        *resp_out = r.resp;
        r.resp = NULL;
    }
    response_clear(e, &r);
    e->self->in_response = nested;
    if (nested)
        e->self->fr.cur = outer;
    return rc;
}

/* _get_tagged_response's loop calls _get_response once per response and
 * between two of them looks at tagged_commands and checks for a BYE.  A
 * run skips that round trip while it would find nothing: the run ends at
 * the first response that is not untagged or not yet buffered, at a BYE,
 * and as soon as Python code has run.  Each response is read exactly as
 * response_get reads it (same handlers, same log, same filing). */
int
response_run(engine *e)
{
    int n = 0, ok;
    if (OV(e, _get_response) || MESG_ON(e, 1) || e->tagpre == NULL || e->timeout_sock != NULL
        || e->idle_capture || e->self->in_response)
        return 0;
    /* Nothing buffered (a command's answer not read yet): no run, and no
     * need to look at sock and file for one. */
    if (imapc_rbuf_avail(&e->self->fr.rb) == 0)
        return 0;
    ok = line_run_ok(e);
    if (ok <= 0)
        return ok;
    e->self->in_response = 1;
    while (!e->dirty && e->bye_state == 0 && !e->tag_check) {
        response r;
        int rc;
        r.resp = r.typ = r.dat = NULL;
        imapc_framer_begin(&e->self->fr, (const unsigned char *)PyBytes_AS_STRING(e->tagpre),
                           (size_t)PyBytes_GET_SIZE(e->tagpre));
        rc = line_next_untagged(e, &r.l, &r.ev);
        if (rc == 1)
            rc = on_untagged(e, &r);
        if (rc == 1)
            rc = finish(e, &r);
        response_clear(e, &r);
        if (rc <= 0) {
            if (rc < 0)
                n = -1;
            break;
        }
        n++;
    }
    e->self->in_response = 0;
    return n;
}

/* self._get_response(): 1/0/-1 as response_get, through an override. */
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
    return response_get(e, resp_out);
}

PyObject *
engine_get_response(engine *e)
{
    PyObject *resp;
    int r = response_get(e, &resp);
    if (r < 0)
        return NULL;
    if (r == 0)
        Py_RETURN_NONE;
    return resp;
}
