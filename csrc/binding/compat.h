/* compat.h - Python.h, and shims for C-API differences between CPython 3.9
 * and 3.15 and for free-threaded builds.  The bottom of the binding: every
 * other header of csrc/binding/ includes it first. */
#ifndef IMAPLIB_C_COMPAT_H
#define IMAPLIB_C_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

/* d[key] as a new reference in *out: 1 found, 0 missing, -1 error.  A
 * borrowed item could be freed by another thread in a free-threaded build. */
static inline int
dict_get_ref(PyObject *d, PyObject *key, PyObject **out)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyDict_GetItemRef(d, key, out);
#else
    PyObject *v = PyDict_GetItemWithError(d, key);
    *out = Py_XNewRef(v);
    return v != NULL ? 1 : (PyErr_Occurred() ? -1 : 0);
#endif
}

/* Fields that another thread may read or write while the owner runs: the
 * guard's owner, the reset request, the hook-assigned flag.  Atomic in a
 * free-threaded build (CPython's own atomics, any compiler); plain with the
 * GIL, which already serialises them. */
#ifdef Py_GIL_DISABLED
#define ATOMIC_LOAD_TID(p) _Py_atomic_load_uintptr(p)
#define ATOMIC_STORE_TID(p, v) _Py_atomic_store_uintptr((p), (v))
#define ATOMIC_CLAIM_TID(p, v) claim_tid((p), (v))
#define ATOMIC_LOAD_FLAG(p) _Py_atomic_load_int(p)
#define ATOMIC_STORE_FLAG(p, v) _Py_atomic_store_int((p), (v))
#define ATOMIC_TAKE_FLAG(p) _Py_atomic_exchange_int((p), 0)
static inline int
claim_tid(uintptr_t *p, uintptr_t v)
{
    uintptr_t expected = 0;
    return _Py_atomic_compare_exchange_uintptr(p, &expected, v);
}
#else
#define ATOMIC_LOAD_TID(p) (*(p))
#define ATOMIC_STORE_TID(p, v) (*(p) = (v))
#define ATOMIC_CLAIM_TID(p, v) (*(p) == 0 ? (*(p) = (v), 1) : 0)
#define ATOMIC_LOAD_FLAG(p) (*(p))
#define ATOMIC_STORE_FLAG(p, v) (*(p) = (v))
static inline int
take_flag(int *p)
{
    int v = *p;
    *p = 0;
    return v;
}
#define ATOMIC_TAKE_FLAG(p) take_flag(p)
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
