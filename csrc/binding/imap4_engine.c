/* imap4_engine.c - the engine's response methods: _get_line,
 * _get_response, _get_tagged_response (the loop that completes a
 * command) and _append_untagged.
 *
 * These are imaplib's private methods with the same semantics, step for
 * step: the response itself is read by imap4_response.c, and filed by
 * imap4_store.c.  Every hook imaplib calls through `self` (readline,
 * read, _get_line, _get_response, _append_untagged, _mesg, _log, ...) is
 * still called through Python when a subclass or the instance overrides
 * it.
 */
#include "engine.h"

#include "context.h"
#include "object.h"
#include "response.h"
#include "store.h"
#include "util.h"
#include "reader.h"
#include "imapc_framer.h"
#include "imapc_rbuf.h"

#include <string.h>

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
    size_t n = imapc_rbuf_avail(&io->fr.rb);
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
        r = response_run(e); /* the buffered untagged responses, if it can */
        if (r > 0)
            continue;
        if (r == 0)
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
        imapc_event ev;
        if (line_next(&e, &l, &ev, IMAPC_NEXT_RAW) == 0) {
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
            int t = response_tag_prefix(&e);
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
