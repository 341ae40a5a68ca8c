/* busy.c - the command guard's owner: which thread is inside an Engine
 * method (busy_enter/busy_leave), and the reader reset that shutdown()
 * (maybe from another thread) leaves to a thread that may do it.  The
 * rules are at the top of guard.c; the reader lock is imap4_reader.c's.
 */
#include "busy.h"

#include "compat.h"
#include "debug.h"
#include "object.h"
#include "state.h"
#include "pythread.h"
#include "imapc_rbuf.h"

#include <time.h>

double
monotonic_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* self.deadline (seconds, or None: off) for the call that begins now. */
static int
deadline_start(IMAP4Object *self)
{
    PyObject *v;
    double secs;
    int r;
    self->deadline_at = 0;
    if (self->dict == NULL)
        return 0;
    r = dict_get_ref(self->dict, STATE(self)->s_deadline, &v);
    if (r <= 0)
        return r;
    if (v == Py_None) {
        Py_DECREF(v);
        return 0;
    }
    secs = PyFloat_AsDouble(v);
    Py_DECREF(v);
    if (secs == -1.0 && PyErr_Occurred()) {
        PyErr_SetString(PyExc_TypeError, "deadline must be a number of seconds or None");
        return -1;
    }
    if (secs > 0)
        self->deadline_at = monotonic_secs() + secs;
    return 0;
}

static uintptr_t
this_thread(void)
{
    return (uintptr_t)PyThread_get_thread_ident(); /* never 0 */
}

int
busy_enter(IMAP4Object *self)
{
    uintptr_t me = this_thread();
    if (ATOMIC_LOAD_TID(&self->busy_thread) == me) {
        self->busy_depth++; /* nested: only the owner touches the depth */
        return 0;
    }
    if (!ATOMIC_CLAIM_TID(&self->busy_thread, me)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "IMAP4 object is in use by another thread; imaplib objects "
                        "are not thread-safe, use one per thread or a lock");
        return -1;
    }
    self->busy_depth = 1;
    if (deadline_start(self) < 0) {
        busy_leave(self);
        return -1;
    }
    return 0;
}

void
busy_leave(IMAP4Object *self)
{
    if (--self->busy_depth > 0)
        return;
    self->deadline_at = 0;
    /* A shutdown() from another thread (or a signal handler) left the
     * buffer to us; nothing of ours points into it any more. */
    if (ATOMIC_LOAD_FLAG(&self->reset_pending) && !self->rbusy)
        reader_reset(self);
    ATOMIC_STORE_TID(&self->busy_thread, 0);
    /* ... or asked just now, between that look and the release. */
    if (ATOMIC_LOAD_FLAG(&self->reset_pending))
        busy_try_reset(self);
}

/* Do a requested reader reset if the calling thread may: as the owner
 * with no read of ours in progress, or by claiming a free object for the
 * moment.  Otherwise the owner does it when it leaves. */
void
busy_try_reset(IMAP4Object *self)
{
    uintptr_t me = this_thread();
    if (ATOMIC_LOAD_TID(&self->busy_thread) == me) {
        if (!self->rbusy)
            reader_reset(self);
        return;
    }
    if (ATOMIC_CLAIM_TID(&self->busy_thread, me)) {
        if (ATOMIC_LOAD_FLAG(&self->reset_pending))
            reader_reset(self); /* nobody inside: no read in progress */
        ATOMIC_STORE_TID(&self->busy_thread, 0);
    }
}

/* Only by the guard's owner with no read in progress (busy_try_reset). */
void
reader_reset(IMAP4Object *self)
{
    log_settle(self);
    imapc_rbuf_clear(&self->fr.rb);
    Py_CLEAR(self->rsock);
    Py_CLEAR(self->rfile);
    Py_CLEAR(self->recv_into);
    Py_CLEAR(self->broken);
    self->rfast = 0;
    self->fr.eof = 0;
    ATOMIC_STORE_FLAG(&self->reset_pending, 0);
}
