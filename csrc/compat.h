/* compat.h - shims for C-API differences between CPython 3.9 and 3.14. */
#ifndef IMAPLIB_C_COMPAT_H
#define IMAPLIB_C_COMPAT_H

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
Py_NewRef(PyObject *o)
{
    Py_INCREF(o);
    return o;
}

static inline PyObject *
Py_XNewRef(PyObject *o)
{
    Py_XINCREF(o);
    return o;
}

static inline int
PyModule_AddObjectRef(PyObject *m, const char *name, PyObject *value)
{
    int r;
    Py_XINCREF(value);
    r = PyModule_AddObject(m, name, value);
    if (r < 0)
        Py_XDECREF(value);
    return r;
}
#endif

/* Take the raised exception (normalized) out of the error indicator. */
static inline PyObject *
exc_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (t == NULL)
        return NULL;
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb != NULL && v != NULL)
        PyException_SetTraceback(v, tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    return v;
#endif
}

/* Put an exception taken with exc_take() back (steals the reference). */
static inline void
exc_give(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyObject *tb = PyException_GetTraceback(exc);
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, tb);
#endif
}

/* The exception now being raised happened while handling `old` (taken
 * with exc_take()): chain it as __context__, as a `raise` inside an
 * `except` block does.  Consumes `old`. */
static inline void
exc_chain(PyObject *old)
{
    PyObject *cur = exc_take();
    if (cur == NULL) {
        Py_DECREF(old);
        return;
    }
    PyException_SetContext(cur, old); /* steals old */
    exc_give(cur);
}

#endif
