/* util.c - small helpers shared by the binding: raising imaplib's
 * exceptions through self, calling methods (and the interpreter's own
 * through super()), and parse_args(), the one argument-parsing convention
 * of the engine's methods.
 */
#include "util.h"

#include "state.h"

PyObject *
call_method(PyObject *self, PyObject *name, PyObject *const *args, size_t nargs)
{
    PyObject *stack[8];
    size_t i;
    if (nargs > 7) {
        PyErr_SetString(PyExc_SystemError, "call_method: too many arguments");
        return NULL;
    }
    stack[0] = self;
    for (i = 0; i < nargs; i++)
        stack[i + 1] = args[i];
    return PyObject_VectorcallMethod(name, stack, (nargs + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                     NULL);
}

void
raise_kind(PyObject *self, PyObject *kind_name, PyObject *msg)
{
    /* self.error / self.abort / self.readonly: a subclass may override. */
    PyObject *cls = PyObject_GetAttr(self, kind_name), *exc;
    if (cls == NULL)
        return;
    exc = PyObject_CallOneArg(cls, msg);
    Py_DECREF(cls);
    if (exc == NULL)
        return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

void
raise_kindf(PyObject *self, PyObject *kind_name, const char *fmt, ...)
{
    va_list va;
    PyObject *msg;
    va_start(va, fmt);
    msg = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (msg == NULL)
        return;
    raise_kind(self, kind_name, msg);
    Py_DECREF(msg);
}

/* Arguments of a METH_FASTCALL | METH_KEYWORDS method, by imaplib's
 * parameter names: out[i] is the i-th parameter (borrowed) or left as the
 * caller's default; the first `required` must be given. */
int
parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           const char *const *names, int required, PyObject **out)
{
    int n = 0, i;
    Py_ssize_t k, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    while (names[n] != NULL)
        n++;
    if (nargs > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes %d positional arguments but %zd were given",
                     fname, n + 1, nargs + 1);
        return -1;
    }
    for (i = 0; i < nargs; i++)
        out[i] = args[i];
    for (k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        for (i = 0; i < n; i++)
            if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0)
                break;
        if (i == n) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%S'", fname,
                         key);
            return -1;
        }
        if (i < nargs) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                         names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (i = 0; i < required; i++)
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing 1 required positional argument: '%s'",
                         fname, names[i]);
            return -1;
        }
    return 0;
}

/* super(Engine, self).name(*args) */
PyObject *
call_super(PyObject *self, PyObject *name, PyObject *const *args, size_t nargs)
{
    modstate *st = STATE(self);
    PyObject *sup, *meth, *res;
    if (st == NULL)
        return NULL;
    sup = PyObject_CallFunctionObjArgs((PyObject *)&PySuper_Type, (PyObject *)st->imap4_type, self,
                                       NULL);
    if (sup == NULL)
        return NULL;
    meth = PyObject_GetAttr(sup, name);
    Py_DECREF(sup);
    if (meth == NULL)
        return NULL;
    res = PyObject_Vectorcall(meth, args, nargs, NULL);
    Py_DECREF(meth);
    return res;
}
