/* util.h - small helpers of the binding (util.c): raising self.error /
 * self.abort / self.readonly, calling a method or the interpreter's own
 * (super), and the one argument-parsing convention of the engine's
 * METH_FASTCALL | METH_KEYWORDS methods.
 */
#ifndef IMAPLIB_C_UTIL_H
#define IMAPLIB_C_UTIL_H

#include "compat.h"

/* Raise self.<kind>(msg) where kind is s_error/s_abort/s_readonly;
 * `msg` may be any object (str, bytes or None, as imaplib passes). */
void raise_kind(PyObject *self, PyObject *kind_name, PyObject *msg);
void raise_kindf(PyObject *self, PyObject *kind_name, const char *fmt, ...);

/* Call self.name(*args) through normal attribute lookup. */
PyObject *call_method(PyObject *self, PyObject *name, PyObject *const *args, size_t nargs);

/* super(Engine, self).name(*args): the interpreter's imaplib method that
 * the engine's own stands in front of. */
PyObject *call_super(PyObject *self, PyObject *name, PyObject *const *args, size_t nargs);

/* Parse a METH_FASTCALL | METH_KEYWORDS call by imaplib's parameter
 * names (NULL-terminated); unset out[] entries are left alone. */
int parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               const char *const *names, int required, PyObject **out);

/* bytes(p[0:n]) */
static inline PyObject *
bytes_of(const unsigned char *p, size_t n)
{
    return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
}

#endif
