/* context.c - the engine context: which hooks an instance or its class
 * overrides (cached per object and class version), the debug level, and
 * the attributes one engine pass reads once (engine_init, engine_refresh).
 */
#include "context.h"

#include "object.h"
#include "state.h"

#include <string.h>

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
    self->plain_getattr = (tp->tp_getattro == PyObject_GenericGetAttr || tp->tp_getattro == st->getattr_hook)
                          && _PyType_Lookup(tp, st->s_getattribute) == st->object_getattribute;
    self->plain_setattr = tp->tp_setattro == st->imap4_type->tp_setattro;
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

/* The class as type_overrides() saw it, and it reads attributes plainly? */
static int
plain_class(IMAP4Object *self)
{
#ifndef Py_GIL_DISABLED
    PyTypeObject *tp = Py_TYPE(self);
    return self->dict != NULL && self->ov_type_version != 0 && tp->tp_version_tag == self->ov_type_version
           && (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG);
#else
    (void)self;
    return 0;
#endif
}

/* Does the class leave `name` to the instance dict (no data descriptor)? */
static int
dict_attr(IMAP4Object *self, PyObject *name)
{
    PyObject *descr = _PyType_Lookup(Py_TYPE(self), name);
    return descr == NULL || Py_TYPE(descr)->tp_descr_set == NULL;
}

/* self.<name> = value for a name that is not a hook (no override to
 * note, see imap4_setattro): straight into the instance dict when the
 * class sets attributes as the engine does and defines no data
 * descriptor of that name, as object.__setattr__ would.  Otherwise a
 * __setattr__ or a property's setter may have run Python code: the
 * pass's caches are read again (CALLED_OUT). */
int
engine_set_attr(engine *e, PyObject *name, PyObject *value)
{
    IMAP4Object *self = e->self;
    int r;
    if (self->plain_setattr && plain_class(self) && dict_attr(self, name))
        return PyDict_SetItem(self->dict, name, value);
    r = PyObject_SetAttr((PyObject *)self, name, value);
    CALLED_OUT(e);
    return r;
}

/* self.<name>.  Most reads are of plain instance attributes (sock,
 * state, tagnum, ...), which object.__getattribute__ finds in the instance
 * dict after looking for a data descriptor on the class: that is done here
 * directly while the class is the one type_overrides() looked at (its
 * version tag unchanged) and reads attributes that way.  Anything else
 * (a property, a class attribute, a missing name for __getattr__) goes
 * through PyObject_GetAttr.  A third of the cost of a read through the
 * class's __getattr__ slot; an APPEND reads about twenty. */
PyObject *
self_attr(IMAP4Object *self, PyObject *name)
{
    if (self->plain_getattr && plain_class(self) && dict_attr(self, name)) {
        PyObject *v;
        int found = dict_get_ref(self->dict, name, &v);
        if (found != 0)
            return found > 0 ? v : NULL;
    }
    return PyObject_GetAttr((PyObject *)self, name);
}

int
engine_refresh(engine *e)
{
    Py_XSETREF(e->ur, self_attr(e->self, e->st->s_untagged_responses));
    Py_CLEAR(e->last_list);
    Py_CLEAR(e->last_list_typ);
    if (e->ur == NULL)
        return -1;
    Py_XSETREF(e->tc, self_attr(e->self, e->st->s_tagged_commands));
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
    v = self_attr(self, e->st->s_debug);
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
