/* imap4.c - the IMAP4 type: lifecycle, attribute access, the transport
 * methods imaplib documents as overridable (open, read, readline, send,
 * shutdown, socket, _create_socket), connection setup and small helpers
 * shared by the engine and the command methods.
 */
#include "binding.h"

#include <structmember.h>
#include <string.h>


/* ------------------------------------------------------------------ */
/* Helpers shared by the binding                                       */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Engine context                                                      */
/* ------------------------------------------------------------------ */

/* Is self.<name> IMAP4's own C method?  The instance dict first
 * (IMAPClient sets imap._mesg), then the type through its method cache
 * (_PyType_Lookup, a borrowed reference), which also sees
 * mock.patch.object(IMAP4, ...) on the base class itself. */
int
is_overridden(IMAP4Object *self, modstate *st, int idx)
{
    PyObject *name = st->names[idx];
    if (self->dict != NULL && PyDict_GET_SIZE(self->dict) > 0
        && PyDict_GetItemWithError(self->dict, name) != NULL)
        return 1;
    if (PyErr_Occurred())
        return -1;
    return _PyType_Lookup(Py_TYPE(self), name) != st->own_descr[idx];
}

/* All hooks at once, for an engine pass.  The instance dict is searched
 * only when it may hold a hook (see ov_assigned); otherwise each check
 * is one method-cache hit on the type. */
static int
override_mask(IMAP4Object *self, modstate *st, unsigned *mask)
{
    Py_ssize_t size = self->dict ? PyDict_GET_SIZE(self->dict) : 0;
    int inst = self->ov_assigned || size != self->ov_dict_size, found = 0, i;
    *mask = 0;
    for (i = 0; i < OV_COUNT; i++) {
        PyObject *name = st->names[i];
        if (inst && size > 0) {
            if (PyDict_GetItemWithError(self->dict, name) != NULL) {
                *mask |= 1u << i;
                found = 1;
                continue;
            }
            if (PyErr_Occurred())
                return -1;
        }
        if (_PyType_Lookup(Py_TYPE(self), name) != st->own_descr[i])
            *mask |= 1u << i;
    }
    if (inst && !found) {
        self->ov_assigned = 0;
        self->ov_dict_size = size;
    }
    return 0;
}

int
engine_refresh(engine *e)
{
    PyObject *self = (PyObject *)e->self;
    Py_XSETREF(e->ur, PyObject_GetAttr(self, e->st->s_untagged_responses));
    Py_CLEAR(e->last_list);
    Py_CLEAR(e->last_list_typ);
    if (e->ur == NULL)
        return -1;
    Py_XSETREF(e->tc, PyObject_GetAttr(self, e->st->s_tagged_commands));
    if (e->tc == NULL)
        return -1;
    e->dirty = 0;
    return 0;
}

/* Is self._mesg a stock logging debug() whose logger is not enabled for
 * DEBUG?  Then Logger.debug / LoggerAdapter.debug return without doing
 * anything (LoggerAdapter.process is not even called), so skipping the
 * call is not observable.  Only when logging is already imported. */
static int
mesg_is_dropped(IMAP4Object *self, modstate *st)
{
    PyObject *mesg, *logging = NULL, *func, *obj, *cls = NULL, *stock = NULL, *lvl = NULL, *en;
    static const char *const classes[2] = {"LoggerAdapter", "Logger"};
    int i, dropped = 0;
    mesg = PyObject_GetAttr((PyObject *)self, st->names[OV__mesg]);
    if (mesg == NULL)
        return -1;
    if (!PyMethod_Check(mesg))
        goto done;
    func = PyMethod_GET_FUNCTION(mesg);
    obj = PyMethod_GET_SELF(mesg);
    logging = PyImport_GetModule(st->s_logging);
    if (logging == NULL) {
        if (PyErr_Occurred())
            PyErr_Clear();
        goto done;
    }
    for (i = 0; i < 2; i++) {
        Py_XSETREF(cls, PyObject_GetAttrString(logging, classes[i]));
        Py_XSETREF(stock, cls ? PyObject_GetAttrString(cls, "debug") : NULL);
        if (stock == NULL) {
            PyErr_Clear();
            goto done;
        }
        if (func != stock)
            continue;
        if (i == 0) {
            /* LoggerAdapter.debug -> self.log(): must be the stock log too */
            PyObject *log = PyObject_GetAttrString(cls, "log");
            int same = log != NULL && _PyType_Lookup(Py_TYPE(obj), st->s_log) == log;
            Py_XDECREF(log);
            PyErr_Clear();
            if (!same)
                goto done;
        }
        lvl = PyObject_GetAttrString(logging, "DEBUG");
        en = lvl ? PyObject_CallMethod(obj, "isEnabledFor", "(O)", lvl) : NULL;
        if (en == NULL) {
            PyErr_Clear();
            goto done;
        }
        dropped = en == Py_False;
        Py_DECREF(en);
        goto done;
    }
done:
    Py_XDECREF(cls);
    Py_XDECREF(stock);
    Py_XDECREF(lvl);
    Py_XDECREF(logging);
    Py_DECREF(mesg);
    return dropped;
}

int
engine_init(engine *e, IMAP4Object *self)
{
    PyObject *v;
    memset(e, 0, sizeof(*e));
    e->self = self;
    e->st = STATE(self);
    if (e->st == NULL)
        return -1;
    if (override_mask(self, e->st, &e->ov) < 0)
        return -1;
    v = PyObject_GetAttr((PyObject *)self, e->st->s_debug);
    if (v == NULL)
        return -1;
    e->debug = PyLong_AsLong(v);
    Py_DECREF(v);
    if (e->debug == -1 && PyErr_Occurred()) {
        /* A non-int debug: imaplib would compare it; treat as level 0. */
        PyErr_Clear();
        e->debug = 0;
    }
    if (e->debug >= 1 && (e->ov & (1u << OV__mesg))) {
        e->mesg_dead = mesg_is_dropped(self, e->st);
        if (e->mesg_dead < 0)
            return -1;
    }
    CALLED_OUT(e);
    return 0;
}

void
engine_fini(engine *e)
{
    Py_CLEAR(e->last_list);
    Py_CLEAR(e->last_list_typ);
    Py_CLEAR(e->ur);
    Py_CLEAR(e->tc);
    Py_CLEAR(e->tagpre);
    Py_CLEAR(e->last_typ);
    Py_CLEAR(e->timeout_sock);
    Py_CLEAR(e->saved_timeout);
}

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
    imapc_rbuf_init(&self->rbuf);
    self->ov_assigned = 1; /* nothing checked yet */
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
    imapc_rbuf_free(&self->rbuf);
    for (i = 0; i < LOG_RING; i++)
        PyMem_Free(self->log[i].raw);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static int
set(PyObject *self, PyObject *name, PyObject *value)
{
    return PyObject_SetAttr(self, name, value);
}

static int
imap4_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"host", "port", "timeout", NULL};
    modstate *st = STATE(self);
    PyObject *host = NULL, *port = NULL, *timeout = Py_None, *v, *r;
    int rc = -1;

    if (st == NULL)
        return -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOO:IMAP4", kwlist, &host, &port, &timeout))
        return -1;
    if (((IMAP4Object *)self)->busy_depth > 0) {
        PyErr_SetString(PyExc_RuntimeError, "IMAP4.__init__ called while the object is in use");
        return -1;
    }
    reader_reset((IMAP4Object *)self);
    log_clear((IMAP4Object *)self);

    v = ns_get(st, "Debug");
    if (v == NULL || set(self, st->s_debug, v) < 0)
        goto done_v;
    Py_DECREF(v);
    if (set(self, st->s_state, st->s_LOGOUT) < 0 || set(self, st->s_literal, Py_None) < 0)
        return -1;
    if ((v = PyDict_New()) == NULL || set(self, st->s_tagged_commands, v) < 0)
        goto done_v;
    Py_DECREF(v);
    if ((v = PyDict_New()) == NULL || set(self, st->s_untagged_responses, v) < 0)
        goto done_v;
    Py_DECREF(v);
    if (set(self, st->s_continuation_response, st->s_empty_str) < 0
        || set(self, st->s_is_readonly, Py_False) < 0)
        return -1;
    if ((v = PyLong_FromLong(0)) == NULL || set(self, st->s_tagnum, v) < 0)
        goto done_v;
    Py_DECREF(v);
    if (set(self, st->s_tls_established, Py_False) < 0)
        return -1;
    if ((r = call_method(self, st->s_mode_ascii, NULL, 0)) == NULL)
        return -1;
    Py_DECREF(r);

    /* open() errors propagate untouched; _connect() errors shut down. */
    if (host == NULL && (host = st->s_empty_str) == NULL)
        return -1;
    if (port == NULL) {
        port = ns_get(st, "IMAP4_PORT");
        if (port == NULL)
            return -1;
    } else {
        Py_INCREF(port);
    }
    {
        PyObject *a[3] = {host, port, timeout};
        r = call_method(self, st->s_open, a, 3);
    }
    Py_DECREF(port);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    r = call_method(self, st->s_connect, NULL, 0);
    if (r == NULL) {
        PyObject *exc;
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return -1;
        exc = exc_take();
        r = call_method(self, st->s_shutdown, NULL, 0);
        if (r == NULL) {
            if (PyErr_ExceptionMatches(PyExc_OSError)) {
                PyErr_Clear();
            } else {
                exc_chain(exc);
                return -1;
            }
        }
        Py_XDECREF(r);
        exc_give(exc);
        return -1;
    }
    Py_DECREF(r);
    rc = 0;
    return rc;
done_v:
    Py_XDECREF(v);
    return -1;
}

/* Assigning a hook on the instance (imap._mesg = logger.debug) makes the
 * next engine pass look in the instance dict again. */
static int
imap4_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    IMAP4Object *io = (IMAP4Object *)self;
    if (!io->ov_assigned) {
        modstate *st = STATE(self);
        int i;
        if (st == NULL)
            return -1;
        /* Attribute names are nearly always interned (identifiers, our
         * own names): compare by value only when this one is not. */
        int by_value = PyUnicode_Check(name) && !PyUnicode_CHECK_INTERNED(name);
        for (i = 0; i < OV_COUNT; i++) {
            if (name == st->names[i] || (by_value && PyUnicode_Compare(name, st->names[i]) == 0)) {
                io->ov_assigned = 1;
                break;
            }
        }
        if (PyErr_Occurred())
            return -1;
    }
    return PyObject_GenericSetAttr(self, name, value);
}

/* __getattr__: UPPERCASE aliases of the command methods. */
static PyObject *
imap4_getattro(PyObject *self, PyObject *name)
{
    PyObject *res = PyObject_GenericGetAttr(self, name), *commands, *lower;
    modstate *st;
    int has;
    if (res != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return res;
    PyErr_Clear();
    st = STATE(self);
    if (st == NULL)
        return NULL;
    commands = ns_get(st, "Commands");
    if (commands == NULL)
        return NULL;
    has = PySequence_Contains(commands, name);
    Py_DECREF(commands);
    if (has < 0)
        return NULL;
    if (has) {
        lower = PyObject_CallMethod(name, "lower", NULL);
        if (lower == NULL)
            return NULL;
        res = PyObject_GetAttr(self, lower);
        Py_DECREF(lower);
        return res;
    }
    PyErr_Format(PyExc_AttributeError, "Unknown IMAP4 command: '%S'", name);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Transport methods                                                   */
/* ------------------------------------------------------------------ */

PyDoc_STRVAR(create_socket__doc__, "_create_socket($self, timeout)\n--\n\n");

static PyObject *
imap4__create_socket(PyObject *self, PyObject *timeout)
{
    modstate *st = STATE(self);
    PyObject *host = NULL, *port = NULL, *addr = NULL, *sockmod = NULL, *res = NULL;
    int t;
    if (st == NULL)
        return NULL;
    if (timeout != Py_None) {
        t = PyObject_IsTrue(timeout);
        if (t < 0)
            return NULL;
        if (!t) {
            PyErr_SetString(PyExc_ValueError, "Non-blocking socket (timeout=0) is not supported");
            return NULL;
        }
    }
    if (!(host = PyObject_GetAttr(self, st->s_host)) || !(port = PyObject_GetAttr(self, st->s_port)))
        goto done;
    if (PySys_Audit("imaplib.open", "OOO", self, host, port) < 0)
        goto done;
    /* getaddrinfo() wants None, not '', for "this host" */
    t = PyObject_IsTrue(host);
    if (t < 0)
        goto done;
    addr = PyTuple_Pack(2, t ? host : Py_None, port);
    if (addr == NULL || !(sockmod = ns_get(st, "socket")))
        goto done;
    /* The global default timeout applies unless one was given. */
    if (timeout != Py_None)
        res = PyObject_CallMethod(sockmod, "create_connection", "OO", addr, timeout);
    else
        res = PyObject_CallMethod(sockmod, "create_connection", "(O)", addr);
done:
    Py_XDECREF(host);
    Py_XDECREF(port);
    Py_XDECREF(addr);
    Py_XDECREF(sockmod);
    return res;
}

static PyObject *
imap4_open(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"host", "port", "timeout", NULL};
    modstate *st = STATE(self);
    PyObject *host = NULL, *port = NULL, *timeout = Py_None, *sock, *file;
    if (st == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOO:open", kwlist, &host, &port, &timeout))
        return NULL;
    if (host == NULL)
        host = st->s_empty_str;
    if (set(self, st->s_host, host) < 0)
        return NULL;
    if (port == NULL) {
        PyObject *p = ns_get(st, "IMAP4_PORT");
        int r;
        if (p == NULL)
            return NULL;
        r = set(self, st->s_port, p);
        Py_DECREF(p);
        if (r < 0)
            return NULL;
    } else if (set(self, st->s_port, port) < 0) {
        return NULL;
    }
    sock = call_method(self, st->s_create_socket, &timeout, 1);
    if (sock == NULL)
        return NULL;
    if (set(self, st->s_sock, sock) < 0) {
        Py_DECREF(sock);
        return NULL;
    }
    file = PyObject_CallMethod(sock, "makefile", "s", "rb");
    Py_DECREF(sock);
    if (file == NULL)
        return NULL;
    if (set(self, st->s_file, file) < 0) {
        Py_DECREF(file);
        return NULL;
    }
    Py_DECREF(file);
    Py_RETURN_NONE;
}

static PyObject *
imap4_read(PyObject *self, PyObject *size)
{
    modstate *st = STATE(self);
    PyObject *res;
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

static PyObject *
imap4_send(PyObject *self, PyObject *data)
{
    modstate *st = STATE(self);
    PyObject *sock, *res;
    if (st == NULL)
        return NULL;
    if (PySys_Audit("imaplib.send", "OO", self, data) < 0)
        return NULL;
    sock = PyObject_GetAttr(self, st->s_sock);
    if (sock == NULL)
        return NULL;
    res = PyObject_CallMethodOneArg(sock, st->s_sendall, data);
    Py_DECREF(sock);
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

static PyObject *
imap4_shutdown(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *file, *sock, *r, *how;
    int failed = 0;
    if (st == NULL)
        return NULL;
    /* Unread bytes belong to the connection being closed; if another
     * thread is reading (or we interrupted our own read), the owner
     * resets when it leaves (guard.c, rule 2). */
    reader_request_reset((IMAP4Object *)self);
    if (((IMAP4Object *)self)->reset_pending && wake_reader(self, st) < 0)
        return NULL;
    file = PyObject_GetAttr(self, st->s_file);
    if (file == NULL)
        return NULL;
    r = PyObject_CallMethodNoArgs(file, st->s_close);
    Py_DECREF(file);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    sock = PyObject_GetAttr(self, st->s_sock);
    if (sock == NULL)
        return NULL;
    how = shut_rdwr(st);
    r = how ? PyObject_CallMethod(sock, "shutdown", "(O)", how) : NULL;
    Py_XDECREF(how);
    if (r == NULL) {
        /* ENOTCONN: the server closed first (WSAEINVAL on Windows). */
        if (PyErr_ExceptionMatches(PyExc_OSError)) {
            PyObject *exc = exc_take(), *eno = PyObject_GetAttrString(exc, "errno");
            PyObject *errmod = ns_get(st, "errno"), *enotconn = NULL;
            int ignore = 0;
            if (errmod)
                enotconn = PyObject_GetAttrString(errmod, "ENOTCONN");
            if (eno && enotconn)
                ignore = PyObject_RichCompareBool(eno, enotconn, Py_EQ) == 1;
            if (!ignore) {
                PyObject *w = PyObject_GetAttrString(exc, "winerror");
                if (w == NULL)
                    PyErr_Clear();
                else
                    ignore = PyLong_Check(w) && PyLong_AsLong(w) == 10022;
                Py_XDECREF(w);
            }
            PyErr_Clear();
            Py_XDECREF(eno);
            Py_XDECREF(errmod);
            Py_XDECREF(enotconn);
            if (ignore)
                Py_DECREF(exc);
            else {
                exc_give(exc);
                failed = 1;
            }
        } else {
            failed = 1;
        }
    } else {
        Py_DECREF(r);
    }
    {
        /* finally: sock.close() */
        PyObject *pending = failed ? exc_take() : NULL;
        r = PyObject_CallMethodNoArgs(sock, st->s_close);
        Py_DECREF(sock);
        if (r == NULL) {
            if (pending)
                exc_chain(pending);
            return NULL;
        }
        Py_DECREF(r);
        if (pending) {
            exc_give(pending);
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
imap4_socket(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    return st ? PyObject_GetAttr(self, st->s_sock) : NULL;
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

static PyObject *
imap4_enter(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self);
}

static PyObject *
imap4_exit(PyObject *self, PyObject *args)
{
    modstate *st = STATE(self);
    PyObject *state, *r;
    int eq;
    (void)args;
    if (st == NULL)
        return NULL;
    state = PyObject_GetAttr(self, st->s_state);
    if (state == NULL)
        return NULL;
    eq = PyObject_RichCompareBool(state, st->s_LOGOUT, Py_EQ);
    Py_DECREF(state);
    if (eq < 0)
        return NULL;
    if (eq)
        Py_RETURN_NONE;
    r = call_method(self, st->s_logout, NULL, 0);
    if (r == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_OSError))
            return NULL;
        PyErr_Clear();
    }
    Py_XDECREF(r);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* Connection setup and modes                                          */
/* ------------------------------------------------------------------ */

static int
set_mode(PyObject *self, int utf8)
{
    modstate *st = STATE(self);
    PyObject *re = NULL, *flag = NULL, *pat, *cre;
    int rc = -1;
    if (st == NULL)
        return -1;
    if (set(self, st->s_utf8_enabled, utf8 ? Py_True : Py_False) < 0
        || set(self, st->s_encoding, utf8 ? st->s_utf_8 : st->s_ascii) < 0)
        return -1;
    if (!(re = ns_get(st, "re")))
        goto done;
    if (utf8)
        flag = PyLong_FromLong(0);
    else
        flag = PyObject_GetAttrString(re, "ASCII");
    if (flag == NULL)
        goto done;
    if (!(pat = ns_get(st, "_Literal")))
        goto done;
    cre = PyObject_CallMethod(re, "compile", "OO", pat, flag);
    Py_DECREF(pat);
    if (cre == NULL || set(self, st->s_Literal, cre) < 0) {
        Py_XDECREF(cre);
        goto done;
    }
    Py_DECREF(cre);
    if (!(pat = ns_get(st, "_Untagged_status")))
        goto done;
    cre = PyObject_CallMethod(re, "compile", "OO", pat, flag);
    Py_DECREF(pat);
    if (cre == NULL || set(self, st->s_Untagged_status, cre) < 0) {
        Py_XDECREF(cre);
        goto done;
    }
    Py_DECREF(cre);
    rc = 0;
done:
    Py_XDECREF(re);
    Py_XDECREF(flag);
    return rc;
}

static PyObject *
imap4__mode_ascii(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (set_mode(self, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
imap4__mode_utf8(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (set_mode(self, 1) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
imap4__connect(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *random = NULL, *n = NULL, *tagpre = NULL, *re = NULL, *pat = NULL,
             *tagre = NULL, *welcome = NULL, *ur = NULL, *caps = NULL, *versions = NULL,
             *r, *res = NULL, *a;
    engine e;
    int has;
    Py_ssize_t i;

    if (st == NULL)
        return NULL;
    if (!(random = ns_get(st, "random")))
        goto done;
    if (!(n = PyObject_CallMethod(random, "randint", "ii", 4096, 65535)))
        goto done;
    {
        PyObject *fn = ns_get(st, "Int2AP");
        if (fn == NULL)
            goto done;
        tagpre = PyObject_CallOneArg(fn, n);
        Py_DECREF(fn);
    }
    if (tagpre == NULL || set(self, st->s_tagpre, tagpre) < 0)
        goto done;
    if (!(re = ns_get(st, "re")))
        goto done;
    if (!PyBytes_Check(tagpre)) {
        PyErr_SetString(PyExc_TypeError, "tagpre must be bytes");
        goto done;
    }
    pat = PyBytes_FromFormat("(?P<tag>%s\\d+) (?P<type>[A-Z]+) (?P<data>.*)",
                             PyBytes_AS_STRING(tagpre));
    if (pat == NULL)
        goto done;
    tagre = PyObject_CallMethod(re, "compile", "OO", pat, a = PyObject_GetAttrString(re, "ASCII"));
    Py_XDECREF(a);
    if (tagre == NULL || set(self, st->s_tagre, tagre) < 0)
        goto done;
    /* Replies are matched against this prefix for the rest of the
     * session, as imaplib matches them with this tagre. */
    Py_XSETREF(((IMAP4Object *)self)->tag_prefix, Py_NewRef(tagpre));
    log_clear((IMAP4Object *)self);
    ((IMAP4Object *)self)->log_ready = 1;

    if (engine_init(&e, (IMAP4Object *)self) < 0)
        goto done;
    if (e.debug >= 1) {
        PyObject *ver = ns_get(st, "__version__");
        int bad = ver == NULL || engine_mesgf(&e, "imaplib version %S", ver) < 0;
        Py_XDECREF(ver);
        if (bad || engine_mesgf(&e, "new IMAP4 connection, tag=%S", tagpre) < 0) {
            engine_fini(&e);
            goto done;
        }
    }
    engine_fini(&e);

    welcome = call_method(self, e.st->names[OV__get_response], NULL, 0);
    if (welcome == NULL || set(self, st->s_welcome, welcome) < 0)
        goto done;
    if (!(ur = PyObject_GetAttr(self, st->s_untagged_responses)))
        goto done;
    has = PySequence_Contains(ur, st->s_PREAUTH);
    if (has < 0)
        goto done;
    if (has) {
        if (set(self, st->s_state, st->s_AUTH) < 0)
            goto done;
    } else {
        has = PySequence_Contains(ur, st->s_OK);
        if (has < 0)
            goto done;
        if (!has) {
            raise_kind(self, st->s_error, welcome);
            goto done;
        }
        if (set(self, st->s_state, st->s_NONAUTH) < 0)
            goto done;
    }
    r = call_method(self, st->s_get_capabilities, NULL, 0);
    if (r == NULL)
        goto done;
    Py_DECREF(r);
    if (!(caps = PyObject_GetAttr(self, st->s_capabilities)))
        goto done;
    if (engine_init(&e, (IMAP4Object *)self) < 0)
        goto done;
    if (e.debug >= 3 && engine_mesgf(&e, "CAPABILITIES: %R", caps) < 0) {
        engine_fini(&e);
        goto done;
    }
    engine_fini(&e);
    if (!(versions = ns_get(st, "AllowedVersions")))
        goto done;
    {
        PyObject *seq = PySequence_Fast(versions, "AllowedVersions must be a sequence");
        if (seq == NULL)
            goto done;
        for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            PyObject *v = PySequence_Fast_GET_ITEM(seq, i);
            has = PySequence_Contains(caps, v);
            if (has < 0) {
                Py_DECREF(seq);
                goto done;
            }
            if (has) {
                int rc = set(self, st->s_PROTOCOL_VERSION, v);
                Py_DECREF(seq);
                if (rc < 0)
                    goto done;
                res = Py_NewRef(Py_None);
                goto done;
            }
        }
        Py_DECREF(seq);
    }
    raise_kindf(self, st->s_error, "server not IMAP4 compliant");
done:
    Py_XDECREF(random);
    Py_XDECREF(n);
    Py_XDECREF(tagpre);
    Py_XDECREF(re);
    Py_XDECREF(pat);
    Py_XDECREF(tagre);
    Py_XDECREF(welcome);
    Py_XDECREF(ur);
    Py_XDECREF(caps);
    Py_XDECREF(versions);
    return res;
}

static PyObject *
imap4__get_capabilities(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *r, *dat = NULL, *last, *s = NULL, *up = NULL, *parts = NULL, *tup = NULL,
                 *enc = NULL, *res = NULL;
    int isnone;
    if (st == NULL)
        return NULL;
    r = call_method(self, st->s_capability, NULL, 0);
    if (r == NULL)
        return NULL;
    {
        PyObject *seq = PySequence_Fast(r, "cannot unpack");
        Py_DECREF(r);
        if (seq == NULL)
            return NULL;
        if (PySequence_Fast_GET_SIZE(seq) != 2) {
            PyErr_Format(PyExc_ValueError, "too many values to unpack (expected 2)");
            Py_DECREF(seq);
            return NULL;
        }
        dat = Py_NewRef(PySequence_Fast_GET_ITEM(seq, 1));
        Py_DECREF(seq);
    }
    {
        PyObject *none_list = PyList_New(1);
        if (none_list == NULL)
            goto done;
        PyList_SET_ITEM(none_list, 0, Py_NewRef(Py_None));
        isnone = PyObject_RichCompareBool(dat, none_list, Py_EQ);
        Py_DECREF(none_list);
    }
    if (isnone < 0)
        goto done;
    if (isnone) {
        raise_kindf(self, st->s_error, "no CAPABILITY response from server");
        goto done;
    }
    last = PySequence_GetItem(dat, -1);
    if (last == NULL)
        goto done;
    enc = PyObject_GetAttr(self, st->s_encoding);
    if (enc == NULL) {
        Py_DECREF(last);
        goto done;
    }
    s = PyObject_CallFunctionObjArgs((PyObject *)&PyUnicode_Type, last, enc, NULL);
    Py_DECREF(last);
    if (s == NULL || !(up = PyObject_CallMethod(s, "upper", NULL))
        || !(parts = PyUnicode_Split(up, NULL, -1)) || !(tup = PyList_AsTuple(parts)))
        goto done;
    if (set(self, st->s_capabilities, tup) < 0)
        goto done;
    res = Py_NewRef(Py_None);
done:
    Py_XDECREF(dat);
    Py_XDECREF(enc);
    Py_XDECREF(s);
    Py_XDECREF(up);
    Py_XDECREF(parts);
    Py_XDECREF(tup);
    return res;
}

/* _new_tag(): tagpre + bytes(str(tagnum), _encoding); tagnum += 1;
 * tagged_commands[tag] = None. */
PyObject *
new_tag(PyObject *self, modstate *st)
{
    PyObject *tagpre = NULL, *tagnum = NULL, *numstr = NULL, *enc = NULL, *numb = NULL,
             *tag = NULL, *next = NULL, *tc = NULL, *one;
    if (!(tagpre = PyObject_GetAttr(self, st->s_tagpre)) || !(tagnum = PyObject_GetAttr(self, st->s_tagnum))
        || !(numstr = PyObject_Str(tagnum)) || !(enc = PyObject_GetAttr(self, st->s_encoding)))
        goto error;
    if (PyLong_CheckExact(tagnum) && PyBytes_CheckExact(tagpre))
        numb = PyUnicode_AsASCIIString(numstr); /* decimal digits in any encoding */
    else
        numb = PyUnicode_AsEncodedString(numstr, PyUnicode_AsUTF8(enc), NULL);
    if (numb == NULL || !(tag = PyNumber_Add(tagpre, numb)))
        goto error;
    one = PyLong_FromLong(1);
    if (one == NULL)
        goto error;
    next = PyNumber_Add(tagnum, one);
    Py_DECREF(one);
    if (next == NULL || set(self, st->s_tagnum, next) < 0)
        goto error;
    if (!(tc = PyObject_GetAttr(self, st->s_tagged_commands)) || PyObject_SetItem(tc, tag, Py_None) < 0)
        goto error;
    Py_DECREF(tagpre);
    Py_DECREF(tagnum);
    Py_DECREF(numstr);
    Py_DECREF(enc);
    Py_DECREF(numb);
    Py_DECREF(next);
    Py_DECREF(tc);
    return tag;
error:
    Py_XDECREF(tagpre);
    Py_XDECREF(tagnum);
    Py_XDECREF(numstr);
    Py_XDECREF(enc);
    Py_XDECREF(numb);
    Py_XDECREF(tag);
    Py_XDECREF(next);
    Py_XDECREF(tc);
    return NULL;
}

static PyObject *
imap4__new_tag(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    return st ? new_tag(self, st) : NULL;
}

static PyObject *
imap4__quote(PyObject *self, PyObject *arg)
{
    /* arg.replace('\\', '\\\\').replace('"', '\\"') wrapped in quotes:
     * str only, bytes fail in replace() with imaplib's TypeError. */
    PyObject *a, *b, *res;
    (void)self;
    a = PyObject_CallMethod(arg, "replace", "ss", "\\", "\\\\");
    if (a == NULL)
        return NULL;
    b = PyObject_CallMethod(a, "replace", "ss", "\"", "\\\"");
    Py_DECREF(a);
    if (b == NULL)
        return NULL;
    if (!PyUnicode_Check(b)) {
        Py_DECREF(b);
        PyErr_SetString(PyExc_TypeError, "_quote() needs a str");
        return NULL;
    }
    res = PyUnicode_FromFormat("\"%U\"", b);
    Py_DECREF(b);
    return res;
}

/* ------------------------------------------------------------------ */
/* Type                                                                */
/* ------------------------------------------------------------------ */

static PyMethodDef imap4_methods[] = {
    {"_create_socket", imap4__create_socket, METH_O, create_socket__doc__},
    {"open", (PyCFunction)(void (*)(void))imap4_open, METH_VARARGS | METH_KEYWORDS,
     "open($self, /, host='', port=IMAP4_PORT, timeout=None)\n--\n\n"
     "Setup connection to remote server on \"host:port\"\n"
     "    (default: localhost:standard IMAP4 port).\n"
     "This connection will be used by the routines:\n"
     "    read, readline, send, shutdown."},
    {"read", imap4_read, METH_O, "read($self, size, /)\n--\n\nRead 'size' bytes from remote."},
    {"readline", imap4_readline, METH_NOARGS, "readline($self, /)\n--\n\nRead line from remote."},
    {"send", imap4_send, METH_O, "send($self, data, /)\n--\n\nSend data to remote."},
    {"shutdown", imap4_shutdown, METH_NOARGS,
     "shutdown($self, /)\n--\n\nClose I/O established in \"open\"."},
    {"socket", imap4_socket, METH_NOARGS,
     "socket($self, /)\n--\n\nReturn socket instance used to connect to IMAP4 server."},
    {"__enter__", imap4_enter, METH_NOARGS, NULL},
    {"__getstate__", imap4_getstate, METH_NOARGS, NULL},
    {"__exit__", imap4_exit, METH_VARARGS, NULL},
    {"_mode_ascii", imap4__mode_ascii, METH_NOARGS, NULL},
    {"_mode_utf8", imap4__mode_utf8, METH_NOARGS, NULL},
    {"_connect", imap4__connect, METH_NOARGS, NULL},
    {"_get_capabilities", imap4__get_capabilities, METH_NOARGS, NULL},
    {"_new_tag", imap4__new_tag, METH_NOARGS, NULL},
    {"_quote", imap4__quote, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef imap4_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(IMAP4Object, dict), READONLY, NULL},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(IMAP4Object, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(imap4__doc__,
             "IMAP4(host='', port=IMAP4_PORT, timeout=None)\n--\n\n"
             "IMAP4 client class.\n\n"
             "Instantiate with: IMAP4([host[, port[, timeout=None]]])\n\n"
             "        host - host's name (default: localhost);\n"
             "        port - port number (default: standard IMAP4 port).\n"
             "        timeout - socket timeout (default: None)\n"
             "                  If timeout is not given or is None,\n"
             "                  the global default socket timeout is used\n\n"
             "All IMAP4rev1 commands are supported by methods of the same\n"
             "name (in lowercase).  Each command returns a tuple: (type, [data, ...])\n"
             "where 'type' is usually 'OK' or 'NO', and 'data' is either the\n"
             "text from the tagged response, or untagged results from command.\n\n"
             "imaplib_c: CPython's imaplib on a C protocol engine.");

static PyGetSetDef imap4_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot imap4_slots[] = {
    {Py_tp_getset, imap4_getset},
    {Py_tp_doc, (void *)imap4__doc__},
    {Py_tp_new, imap4_new},
    {Py_tp_init, imap4_init},
    {Py_tp_dealloc, imap4_dealloc},
    {Py_tp_traverse, imap4_traverse},
    {Py_tp_clear, imap4_clear},
    {Py_tp_getattro, imap4_getattro},
    {Py_tp_setattro, imap4_setattro},
    {Py_tp_methods, imap4_methods},
    {Py_tp_members, imap4_members},
    {0, NULL},
};

static PyType_Spec imap4_spec = {
    .name = "imaplib_c.IMAP4",
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

static PyObject *
make_exception(PyObject *module, const char *name, PyObject *base)
{
    char full[64];
    PyObject *exc, *qual;
    (void)module;
    snprintf(full, sizeof(full), "imaplib_c.%s", name);
    exc = PyErr_NewException(full, base, NULL);
    if (exc == NULL)
        return NULL;
    qual = PyUnicode_FromFormat("IMAP4.%s", name);
    if (qual == NULL || PyObject_SetAttrString(exc, "__qualname__", qual) < 0) {
        Py_XDECREF(qual);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(qual);
    return exc;
}

int
imap4_add_type(PyObject *module, modstate *st)
{
    PyTypeObject *tp = (PyTypeObject *)PyType_FromModuleAndSpec(module, &imap4_spec, NULL);
    int i;
    if (tp == NULL)
        return -1;
    st->imap4_type = tp;
    if (add_methods(tp, imap4_engine_methods) < 0 || add_methods(tp, imap4_command_methods) < 0
        || add_methods(tp, imap4_debug_methods) < 0
        || add_methods(tp, imap4_tls_methods) < 0)
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
    if (!(st->error = make_exception(module, "error", PyExc_Exception))
        || !(st->abort = make_exception(module, "abort", st->error))
        || !(st->readonly = make_exception(module, "readonly", st->abort)))
        return -1;
    {
        /* 3.14's IDLE support raises this from _get_response(start_timeout) */
        PyObject *rt = PyErr_NewException("imaplib_c._responsetimeout", PyExc_TimeoutError, NULL);
        int r = rt ? PyDict_SetItemString(tp->tp_dict, "_responsetimeout", rt) : -1;
        Py_XDECREF(rt);
        if (r < 0)
            return -1;
    }
    if (PyDict_SetItemString(tp->tp_dict, "error", st->error) < 0
        || PyDict_SetItemString(tp->tp_dict, "abort", st->abort) < 0
        || PyDict_SetItemString(tp->tp_dict, "readonly", st->readonly) < 0)
        return -1;
    /* Before own_descr is taken: the engine compares against the guarded
     * wrappers that instances actually see. */
    if (guard_wrap_type(tp, st) < 0)
        return -1;
    for (i = 0; i < OV_COUNT; i++) {
        PyObject *d = PyDict_GetItemWithError(tp->tp_dict, st->names[i]);
        if (d == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_SystemError, "IMAP4 lacks %S", st->names[i]);
            return -1;
        }
        st->own_descr[i] = Py_NewRef(d);
    }
    return PyModule_AddObjectRef(module, "IMAP4", (PyObject *)tp);
}
