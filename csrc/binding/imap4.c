/* imap4.c - the Engine type: lifecycle, attribute access, the engine's
 * read/readline/shutdown, and _bind()'s table of what each hook resolves to.
 *
 * Engine is never used alone: imaplib_c.IMAP4 derives from it and from the
 * interpreter's imaplib.IMAP4 (imaplib_c/__init__.py), so __init__, open,
 * _connect, send, the commands ... are that imaplib's own.
 */
#include "imap4.h"

#include "busy.h"
#include "command.h"
#include "debug.h"
#include "engine.h"
#include "guard.h"
#include "object.h"
#include "reader.h"
#include "state.h"
#include "util.h"
#include "imapc_framer.h"

#include <structmember.h>
#include <string.h>


/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

static PyObject *
imap4_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    /* Accept and ignore any arguments: subclasses define their own
     * __init__ signatures (IMAP4_SSL, IMAPClient's IMAP4WithTimeout). */
    IMAP4Object *self = (IMAP4Object *)type->tp_alloc(type, 0);
    (void)args;
    (void)kwds;
    if (self == NULL)
        return NULL;
    imapc_framer_init(&self->fr);
    ATOMIC_STORE_FLAG(&self->ov_assigned, 1); /* nothing checked yet */
    return (PyObject *)self;
}

static int
imap4_traverse(IMAP4Object *self, visitproc visit, void *arg)
{
    int i;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->dict);
    Py_VISIT(self->rsock);
    Py_VISIT(self->rfile);
    Py_VISIT(self->recv_into);
    Py_VISIT(self->broken);
    Py_VISIT(self->tagre_seen);
    Py_VISIT(self->tag_prefix);
    for (i = 0; i < LOG_RING; i++)
        Py_VISIT(self->log[i].text);
    return 0;
}

static int
imap4_clear(IMAP4Object *self)
{
    int i;
    Py_CLEAR(self->dict);
    Py_CLEAR(self->rsock);
    Py_CLEAR(self->rfile);
    Py_CLEAR(self->recv_into);
    Py_CLEAR(self->broken);
    Py_CLEAR(self->tagre_seen);
    Py_CLEAR(self->tag_prefix);
    for (i = 0; i < LOG_RING; i++)
        Py_CLEAR(self->log[i].text);
    return 0;
}

static void
imap4_dealloc(IMAP4Object *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    int i;
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    imap4_clear(self);
    imapc_framer_free(&self->fr);
    for (i = 0; i < LOG_RING; i++)
        PyMem_Free(self->log[i].raw);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* Assigning a hook on the instance (imap._mesg = logger.debug) makes the
 * next engine pass look in the instance dict again. */
static int
imap4_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    IMAP4Object *io = (IMAP4Object *)self;
    if (!ATOMIC_LOAD_FLAG(&io->ov_assigned)) {
        modstate *st = STATE(self);
        int i;
        if (st == NULL)
            return -1;
        /* Attribute names are nearly always interned (identifiers, our
         * own names): compare by value only when this one is not. */
        int by_value = PyUnicode_Check(name) && !PyUnicode_CHECK_INTERNED(name);
        for (i = 0; i < OV_COUNT; i++) {
            if (name == st->names[i] || (by_value && PyUnicode_Compare(name, st->names[i]) == 0)) {
                ATOMIC_STORE_FLAG(&io->ov_assigned, 1);
                break;
            }
        }
        if (PyErr_Occurred())
            return -1;
    }
    return PyObject_GenericSetAttr(self, name, value);
}

static PyObject *
imap4_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"size", NULL};
    modstate *st = STATE(self);
    PyObject *res, *size = NULL;
    if (parse_args("read", args, nargs, kwnames, names, 1, &size) < 0)
        return NULL;
    if (st == NULL || busy_enter((IMAP4Object *)self) < 0)
        return NULL;
    res = reader_read((IMAP4Object *)self, st, size);
    busy_leave((IMAP4Object *)self);
    return res;
}

static PyObject *
imap4_readline(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *res;
    if (st == NULL || busy_enter((IMAP4Object *)self) < 0)
        return NULL;
    res = reader_readline((IMAP4Object *)self, st);
    busy_leave((IMAP4Object *)self);
    return res;
}

/* Another thread may be blocked in a recv() on sock (or in file.readline,
 * holding the file's lock, which file.close() would wait for): shut the
 * socket down first so that the read returns.  ENOTCONN and the like are
 * left for the normal shutdown below to report. */
/* socket.SHUT_RDWR from the namespace, as imaplib reads it (new ref). */
static PyObject *
shut_rdwr(modstate *st)
{
    PyObject *sockmod = ns_get(st, "socket"), *how;
    how = sockmod ? PyObject_GetAttrString(sockmod, "SHUT_RDWR") : NULL;
    Py_XDECREF(sockmod);
    return how;
}

static int
wake_reader(PyObject *self, modstate *st)
{
    PyObject *sock = PyObject_GetAttr(self, st->s_sock), *how, *r;
    if (sock == NULL)
        return -1;
    how = shut_rdwr(st);
    r = how ? PyObject_CallMethodOneArg(sock, st->s_shutdown, how) : NULL;
    Py_XDECREF(how);
    Py_DECREF(sock);
    if (r == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_OSError))
            return -1;
        PyErr_Clear();
    }
    Py_XDECREF(r);
    return 0;
}

/* shutdown(): the interpreter's own, after handing the unread bytes of
 * the connection being closed to a reset.  If another thread is reading
 * (or we interrupted our own read), the owner resets when it leaves
 * (guard.c, rule 2), and the socket is shut down first to wake it. */
static PyObject *
imap4_shutdown(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    if (st == NULL)
        return NULL;
    reader_request_reset((IMAP4Object *)self);
    if (ATOMIC_LOAD_FLAG(&((IMAP4Object *)self)->reset_pending) && wake_reader(self, st) < 0)
        return NULL;
    return call_super(self, st->s_shutdown, NULL, 0);
}

/* compress() hands what the engine read past the OK to the inflater. */
static PyObject *
imap4_take_buffered(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return reader_take_buffered((IMAP4Object *)self);
}

/* copy.copy(m) and copy.deepcopy(m) work as on imaplib's plain Python
 * object: the state is the instance __dict__ (the engine's buffer is not
 * copied; a copy reads from the shared socket like imaplib's copies share
 * the file).  Without this, object.__reduce_ex__ refuses a C type with a
 * larger struct. */
static PyObject *
imap4_getstate(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *d = ((IMAP4Object *)self)->dict;
    return d != NULL ? Py_NewRef(d) : PyDict_New();
}

/* ------------------------------------------------------------------ */
/* Type                                                                */
/* ------------------------------------------------------------------ */

/* Signatures and docstrings are imaplib's: the text signatures carry no
 * positional-only marker, so keyword calls work as on imaplib's methods. */
static PyMethodDef imap4_methods[] = {
    {"read", (PyCFunction)(void (*)(void))imap4_read, METH_FASTCALL | METH_KEYWORDS,
     "read(self, size)\n--\n\nRead 'size' bytes from remote."},
    {"readline", imap4_readline, METH_NOARGS, "readline(self)\n--\n\nRead line from remote."},
    {"shutdown", imap4_shutdown, METH_NOARGS,
     "shutdown(self)\n--\n\nClose I/O established in \"open\"."},
    {"__getstate__", imap4_getstate, METH_NOARGS, NULL},
    {"_imaplib_c_take_buffered", imap4_take_buffered, METH_NOARGS,
     "The bytes received past the last response, taken out of the engine's buffer."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef imap4_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(IMAP4Object, dict), READONLY, NULL},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(IMAP4Object, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(imap4__doc__,
             "The C protocol engine of imaplib_c.IMAP4: receiving, framing, filing\n"
             "and completing responses.  Not used on its own.");

static PyGetSetDef imap4_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot imap4_slots[] = {
    {Py_tp_getset, imap4_getset},
    {Py_tp_doc, (void *)imap4__doc__},
    {Py_tp_new, imap4_new},
    {Py_tp_dealloc, imap4_dealloc},
    {Py_tp_traverse, imap4_traverse},
    {Py_tp_clear, imap4_clear},
    {Py_tp_setattro, imap4_setattro},
    {Py_tp_methods, imap4_methods},
    {Py_tp_members, imap4_members},
    {0, NULL},
};

static PyType_Spec imap4_spec = {
    .name = "imaplib_c._imaplib_c.Engine",
    .basicsize = sizeof(IMAP4Object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = imap4_slots,
};

static int
add_methods(PyTypeObject *tp, PyMethodDef *defs)
{
    /* The engine, command and debug methods live in their own files; add
     * them to the type dict as method descriptors. */
    for (; defs->ml_name != NULL; defs++) {
        PyObject *descr = PyDescr_NewMethod(tp, defs);
        int r;
        if (descr == NULL)
            return -1;
        r = PyDict_SetItemString(tp->tp_dict, defs->ml_name, descr);
        Py_DECREF(descr);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* _get_response's signature is the interpreter's: 3.14 added start_timeout
 * (IDLE).  Both entries run the same function, which accepts start_timeout
 * everywhere (the IDLE of imaplib_c/_idle.py uses it on older versions). */
static PyMethodDef get_response_plain = {
    "_get_response", NULL, METH_FASTCALL | METH_KEYWORDS, "_get_response(self)\n--\n\n"};

int
imap4_add_type(PyObject *module, modstate *st)
{
    PyTypeObject *tp = (PyTypeObject *)PyType_FromModuleAndSpec(module, &imap4_spec, NULL);
    if (tp == NULL)
        return -1;
    st->imap4_type = tp;
    if (add_methods(tp, imap4_engine_methods) < 0 || add_methods(tp, imap4_command_methods) < 0
        || add_methods(tp, imap4_debug_methods) < 0)
        return -1;
    {
        PyGetSetDef *g;
        for (g = imap4_debug_getset; g->name != NULL; g++) {
            PyObject *descr = PyDescr_NewGetSet(tp, g);
            int r;
            if (descr == NULL)
                return -1;
            r = PyDict_SetItemString(tp->tp_dict, g->name, descr);
            Py_DECREF(descr);
            if (r < 0)
                return -1;
        }
    }
    if (guard_wrap_type(tp, st) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "Engine", (PyObject *)tp);
}

/* Called once by _bind() with the final IMAP4 class: give _get_response
 * the interpreter's signature, and record what each hook resolves to on
 * that class (the engine calls a hook through Python only when an
 * instance or a subclass resolves it to something else). */
int
imap4_bind(modstate *st, PyTypeObject *cls, PyObject *start_timeout)
{
    PyTypeObject *tp = st->imap4_type;
    int i, t = PyObject_IsTrue(start_timeout);
    if (t < 0)
        return -1;
    if (!PyType_IsSubtype(cls, tp)) {
        PyErr_SetString(PyExc_TypeError, "_bind() needs a subclass of Engine");
        return -1;
    }
    if (!t) {
        PyObject *cur, *wrapped, *descr;
        int r = dict_get_ref(tp->tp_dict, st->names[OV__get_response], &cur);
        if (r <= 0)
            return r;
        wrapped = PyObject_GetAttrString(cur, "__wrapped__");
        Py_DECREF(cur);
        if (wrapped == NULL)
            return -1;
        if (!PyObject_TypeCheck(wrapped, &PyMethodDescr_Type)) {
            Py_DECREF(wrapped);
            PyErr_SetString(PyExc_SystemError, "Engine._get_response is not a C method");
            return -1;
        }
        get_response_plain.ml_meth = ((PyMethodDescrObject *)wrapped)->d_method->ml_meth;
        Py_DECREF(wrapped);
        descr = PyDescr_NewMethod(tp, &get_response_plain);
        r = descr ? PyDict_SetItem(tp->tp_dict, st->names[OV__get_response], descr) : -1;
        Py_XDECREF(descr);
        if (r < 0 || guard_wrap_type(tp, st) < 0)
            return -1;
    }
    PyType_Modified(cls);
    st->getattr_hook = cls->tp_getattro;
    Py_XSETREF(st->object_getattribute,
               Py_XNewRef(_PyType_Lookup(&PyBaseObject_Type, st->s_getattribute)));
    if (st->object_getattribute == NULL) {
        PyErr_SetString(PyExc_SystemError, "object has no __getattribute__");
        return -1;
    }
    for (i = 0; i < OV_COUNT; i++) {
        PyObject *d = _PyType_Lookup(cls, st->names[i]);
        if (d == NULL) {
            PyErr_Format(PyExc_TypeError, "%s has no %S", cls->tp_name, st->names[i]);
            return -1;
        }
        Py_XSETREF(st->own_descr[i], Py_NewRef(d));
    }
    return 0;
}
