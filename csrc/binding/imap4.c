/* imap4.c - the Engine type: lifecycle, attribute access, the engine's
 * read/readline/shutdown, and small helpers shared by the binding.
 *
 * Engine is never used alone: imaplib_c.IMAP4 derives from it and from the
 * interpreter's imaplib.IMAP4 (imaplib_c/__init__.py), so __init__, open,
 * _connect, send, the commands ... are that imaplib's own.
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

/* The hooks the class of self overrides (bit OV_x: not IMAP4's own).  The
 * answer changes only with the class, so it is kept per object together
 * with the class's version tag (which CPython changes whenever a class in
 * the MRO is modified); not cached in a free-threaded build, where the tag
 * may change under us. */
static unsigned
type_overrides(IMAP4Object *self, modstate *st)
{
    PyTypeObject *tp = Py_TYPE(self);
    unsigned mask = 0;
    int i;
#ifndef Py_GIL_DISABLED
    if (self->ov_type_version != 0 && tp->tp_version_tag == self->ov_type_version
        && (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG))
        return self->ov_type_mask;
#endif
    for (i = 0; i < OV_COUNT; i++) {
        if (_PyType_Lookup(tp, st->names[i]) != st->own_descr[i])
            mask |= 1u << i;
    }
    /* _PyType_Lookup gave the class a version tag if it could. */
    self->ov_type_version = (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) ? tp->tp_version_tag : 0;
    self->ov_type_mask = mask;
    return mask;
}

/* All hooks at once, for an engine pass.  The instance dict is searched
 * only when it may hold a hook (see ov_assigned); otherwise each check
 * is one method-cache hit on the type. */
static int
override_mask(IMAP4Object *self, modstate *st, unsigned *mask)
{
    Py_ssize_t size = self->dict ? PyDict_GET_SIZE(self->dict) : 0;
    int assigned = ATOMIC_TAKE_FLAG(&self->ov_assigned);
    int inst = assigned || size != self->ov_dict_size, found = 0, i;
    *mask = 0;
    for (i = 0; inst && size > 0 && i < OV_COUNT; i++) {
        if (PyDict_GetItemWithError(self->dict, st->names[i]) != NULL) { /* not dereferenced */
            *mask |= 1u << i;
            found = 1;
        } else if (PyErr_Occurred()) {
            ATOMIC_STORE_FLAG(&self->ov_assigned, 1); /* look again next time */
            return -1;
        }
    }
    *mask |= type_overrides(self, st);
    if (found)
        ATOMIC_STORE_FLAG(&self->ov_assigned, 1); /* an instance hook: look every time */
    else if (inst)
        self->ov_dict_size = size;
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
    if (self->dict != NULL) {
        PyObject *cap;
        if (dict_get_ref(self->dict, e->st->s_idle_capture, &cap) < 0)
            return -1;
        e->idle_capture = cap != NULL ? PyObject_IsTrue(cap) : 0;
        Py_XDECREF(cap);
        if (e->idle_capture < 0)
            return -1;
        /* not dereferenced */
        e->starttls = PyDict_GetItemWithError(self->dict, e->st->s_starttls_flag) != NULL;
        if (PyErr_Occurred())
            return -1;
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
