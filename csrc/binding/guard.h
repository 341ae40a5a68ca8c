/* guard.h - the `guarded` descriptor (guard.c): the Engine's methods, and
 * the interpreter's that the package wraps, run inside the command guard.
 */
#ifndef IMAPLIB_C_GUARD_H
#define IMAPLIB_C_GUARD_H

#include "state.h"

/* Make the descriptor type (module exec). */
int guard_add_type(PyObject *module, modstate *st);
/* Wrap every C method defined in tp itself. */
int guard_wrap_type(PyTypeObject *tp, modstate *st);
/* _guard(func): func wrapped in the guard. */
PyObject *guard_wrap(modstate *st, PyObject *func);

#endif
