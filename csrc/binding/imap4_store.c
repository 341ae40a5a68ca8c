/* imap4_store.c - what the engine records: untagged responses filed
 * into untagged_responses (imaplib's _append_untagged), the BYE check,
 * _mesg messages and the log of every line.
 */
#include "store.h"

#include "context.h"
#include "debug.h"
#include "util.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* The interaction log                                                 */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Untagged store                                                      */
/* ------------------------------------------------------------------ */

/* log_line() of a received line that is a span in fr.rb: into the ring
 * without a copy (log_settle copies the last ten before the buffer
 * changes), which is most of the per-line cost of the log otherwise. */
int
log_line_span(engine *e, const unsigned char *p, size_t len, double secs)
{
    if (e->debug < 4 && !OV(e, _log)) {
        log_add_span(e->self, p, len, secs);
        return 0;
    }
    return log_line(e, '<', p, len, secs);
}

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

