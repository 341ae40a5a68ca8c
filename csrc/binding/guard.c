/* guard.c - one thread at a time, per command.
 *
 * The rules (see also imap4_reader.c, "Who owns the bytes"):
 *
 *  1. The command guard.  Every public method of IMAP4 that talks to the
 *     server (the commands, open, starttls, read/readline, the private
 *     layer _command ... _get_response) runs inside busy_enter() /
 *     busy_leave() for its whole duration: fetch() is _simple_command
 *     *and* _untagged_response under one guard, so another thread can
 *     never slip a select() in between.  The owning thread may nest (an
 *     override calling super(), an authobject calling back); another
 *     thread gets RuntimeError.  C methods get the guard by being wrapped
 *     in a `guarded` descriptor when the type is made (guard_wrap_type,
 *     below), so a new method cannot forget it.  busy_enter/busy_leave
 *     and the reset hand-off of rule 2 are busy.c's.
 *
 *  2. shutdown() is the one method another thread may call while a
 *     command runs (stopping a blocked IDLE reader this way is common).
 *     It closes the socket, which wakes the reader with EOF or an error,
 *     but it never touches the engine's buffer: the reset is left to the
 *     owning thread (reset_pending, done in busy_leave or when the reader
 *     lock is released).
 *
 *  3. The reader lock (imap4_reader.c, reader_acquire): while C code holds
 *     a pointer into the receive buffer or a recv() into it is in
 *     progress, any read that re-enters on the same thread (a signal
 *     handler, a socket subclass's recv_into, a finaliser, _mesg) gets
 *     RuntimeError, as BufferedReader refuses a reentrant call in imaplib.
 *     Nothing frees, moves or shrinks the buffer while the lock is held.
 *
 * Without a GIL (free-threaded CPython) the owner is claimed with a
 * compare-and-swap and the reset request is an atomic flag, so two threads
 * can never both be inside, and a reset is done exactly by a thread that
 * may touch the buffer.  Everything else in the object is touched by the
 * owner only.
 */
#include "guard.h"

#include "busy.h"
#include "object.h"
#include "state.h"

#include <structmember.h>

/* ------------------------------------------------------------------ */
/* The guarded descriptor                                              */
/* ------------------------------------------------------------------ */

/* Wraps a function (a method descriptor of Engine, or a function of the
 * interpreter's imaplib); calling it through an instance runs the function
 * inside the command guard.  It looks like the
 * function it wraps: __wrapped__ (so inspect.signature shows the same
 * signature), __name__, __qualname__, __doc__. */
typedef struct {
    PyObject_HEAD
    PyObject *func;
    vectorcallfunc vectorcall;
    int guard; /* 0: a plain pass-through (a method outside the guard) */
} GuardedObject;

static PyObject *
guarded_call(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    GuardedObject *g = (GuardedObject *)op;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *res;
    IMAP4Object *self;
    modstate *st;
    if (nargs < 1 || !g->guard) {
        /* No instance: let the function raise its own TypeError. */
        return PyObject_Vectorcall(g->func, args, nargsf, kwnames);
    }
    st = STATE(op);
    if (st == NULL)
        return NULL;
    if (!g->guard || !PyObject_TypeCheck(args[0], st->imap4_type))
        return PyObject_Vectorcall(g->func, args, nargsf, kwnames);
    self = (IMAP4Object *)args[0];
    Py_INCREF(self); /* the guard outlives whatever the call drops */
    res = NULL;
    if (busy_enter(self) == 0) {
        res = PyObject_Vectorcall(g->func, args, nargsf, kwnames);
        busy_leave(self);
    }
    Py_DECREF(self);
    return res;
}

/* Through an instance: a bound method running under the guard.  Through
 * the class: the function itself (imaplib's own, or the engine's method
 * descriptor), so that IMAP4.fetch is imaplib.IMAP4.fetch and tools that
 * introspect the class (mock.create_autospec, inspect) see imaplib's
 * functions.  An explicit unbound call, IMAP4.fetch(m, ...), therefore
 * runs outside the guard. */
static PyObject *
guarded_descr_get(PyObject *op, PyObject *obj, PyObject *type)
{
    (void)type;
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(((GuardedObject *)op)->func);
    return PyMethod_New(op, obj);
}

static PyObject *
guarded_getattro(PyObject *op, PyObject *name)
{
    /* Own attributes first (__wrapped__, __class__ ...), then the wrapped
     * function's (__name__, __qualname__, __doc__, __text_signature__). */
    PyObject *v = PyObject_GenericGetAttr(op, name);
    if (v != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return v;
    PyErr_Clear();
    return PyObject_GetAttr(((GuardedObject *)op)->func, name);
}

static PyObject *
guarded_repr(PyObject *op)
{
    return PyObject_Repr(((GuardedObject *)op)->func);
}

static int
guarded_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((GuardedObject *)op)->func);
    return 0;
}

static int
guarded_clear(PyObject *op)
{
    Py_CLEAR(((GuardedObject *)op)->func);
    return 0;
}

static void
guarded_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    guarded_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *
guarded_get_doc(PyObject *op, void *closure)
{
    (void)closure;
    return PyObject_GetAttrString(((GuardedObject *)op)->func, "__doc__");
}

static PyGetSetDef guarded_getset[] = {
    {"__doc__", guarded_get_doc, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef guarded_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(GuardedObject, func), READONLY, NULL},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(GuardedObject, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot guarded_slots[] = {
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, guarded_descr_get},
    {Py_tp_getattro, guarded_getattro},
    {Py_tp_repr, guarded_repr},
    {Py_tp_traverse, guarded_traverse},
    {Py_tp_clear, guarded_clear},
    {Py_tp_dealloc, guarded_dealloc},
    {Py_tp_members, guarded_members},
    {Py_tp_getset, guarded_getset},
    {0, NULL},
};

static PyType_Spec guarded_spec = {
    .name = "imaplib_c._guarded",
    .basicsize = sizeof(GuardedObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
             | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .slots = guarded_slots,
};

int
guard_add_type(PyObject *module, modstate *st)
{
    st->guarded_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &guarded_spec, NULL);
    return st->guarded_type == NULL ? -1 : 0;
}

static PyObject *
guarded_new(modstate *st, PyObject *func, int guard)
{
    GuardedObject *g = PyObject_GC_New(GuardedObject, st->guarded_type);
    if (g == NULL)
        return NULL;
    g->func = Py_NewRef(func);
    g->guard = guard;
    g->vectorcall = guarded_call;
    PyObject_GC_Track(g);
    return (PyObject *)g;
}

/* The engine's methods that stay outside the guard: shutdown (rule 2),
 * and the debug hooks, which neither read nor write the connection.  The
 * interpreter's methods are wrapped by the package (imaplib_c/_classes.py),
 * with the same rule. */
static const char *const unguarded[] = {
    "shutdown", "__getstate__", "_mesg", "_log", "print_log", "_append_untagged", NULL,
};

PyObject *
guard_wrap(modstate *st, PyObject *func)
{
    if (!PyCallable_Check(func)) {
        PyErr_SetString(PyExc_TypeError, "_guard() needs a callable");
        return NULL;
    }
    return guarded_new(st, func, 1);
}

static int
is_unguarded(PyObject *name)
{
    int i;
    for (i = 0; unguarded[i] != NULL; i++)
        if (PyUnicode_CompareWithASCIIString(name, unguarded[i]) == 0)
            return 1;
    return 0;
}

/* Wrap every C method defined in tp itself (not inherited) in the guard,
 * or for the unguarded ones in a pass-through: either way instances bind
 * them as Python functions bind (a bound method object), so that
 * inspect.signature shows imaplib's (self, ...) and (...) forms. */
int
guard_wrap_type(PyTypeObject *tp, modstate *st)
{
    PyObject *items = PyDict_Items(tp->tp_dict);
    Py_ssize_t i, n;
    if (items == NULL)
        return -1;
    n = PyList_GET_SIZE(items);
    for (i = 0; i < n; i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        PyObject *name = PyTuple_GET_ITEM(kv, 0), *value = PyTuple_GET_ITEM(kv, 1), *g;
        int r;
        if (!PyUnicode_Check(name) || !PyObject_TypeCheck(value, &PyMethodDescr_Type))
            continue;
        g = guarded_new(st, value, !is_unguarded(name));
        if (g == NULL) {
            Py_DECREF(items);
            return -1;
        }
        r = PyDict_SetItem(tp->tp_dict, name, g);
        Py_DECREF(g);
        if (r < 0) {
            Py_DECREF(items);
            return -1;
        }
    }
    Py_DECREF(items);
    PyType_Modified(tp);
    return 0;
}
