/* module.c - the _imaplib_c module: init, state, _bind() and _guard().
 *
 * The module holds the Engine type only.  The package imaplib_c builds
 * IMAP4 from it and the interpreter's own imaplib, then calls _bind() so
 * that the engine reads the settings tools write (_MAXLINE, Commands, ...)
 * from that imaplib's namespace, their one home.
 */
#include "binding.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

modstate *
state_of_type(PyTypeObject *tp)
{
    /* PyType_GetModuleByDef is 3.11+; walk the MRO by hand before that. */
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *m = PyType_GetModuleByDef(tp, &imaplib_c_module);
    if (m == NULL)
        return NULL;
    return (modstate *)PyModule_GetState(m);
#else
    PyObject *mro = tp->tp_mro;
    Py_ssize_t i;
    for (i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
            PyObject *m = ((PyHeapTypeObject *)t)->ht_module;
            if (m != NULL && PyModule_GetDef(m) == &imaplib_c_module)
                return (modstate *)PyModule_GetState(m);
        }
    }
    PyErr_SetString(PyExc_TypeError, "not an imaplib_c type");
    return NULL;
#endif
}

PyObject *
ns_get(modstate *st, const char *name)
{
    /* The hot names are interned once; the rest are rare lookups. */
    PyObject *v, *key;
    int found;
    if (strcmp(name, "Commands") == 0)
        key = Py_NewRef(st->s_Commands);
    else if (strcmp(name, "_MAXLINE") == 0)
        key = Py_NewRef(st->s_MAXLINE);
    else
        key = PyUnicode_FromString(name);
    if (key == NULL)
        return NULL;
    found = dict_get_ref(st->ns, key, &v);
    Py_DECREF(key);
    if (found == 0)
        PyErr_Format(PyExc_AttributeError, "module 'imaplib_c' has no attribute '%s'", name);
    return v;
}

static modstate *
mstate(PyObject *module)
{
    return (modstate *)PyModule_GetState(module);
}

/* ------------------------------------------------------------------ */
/* _bind, _guard                                                        */
/* ------------------------------------------------------------------ */

PyDoc_STRVAR(bind__doc__,
             "_bind($module, cls, namespace, skip_blank, own_buffer, start_timeout, literal_overflow,\n"
             "      plain_send)\n--\n\n"
             "Bind the engine to the final IMAP4 class and the interpreter's imaplib\n"
             "module namespace, with the rules imaplib_c/_rules.py found there.");

static PyObject *
mod_bind(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    modstate *st = mstate(module);
    int skip, prop, ovf, psend;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "_bind() takes 7 arguments");
        return NULL;
    }
    if (!PyType_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_bind() needs a class and a dict");
        return NULL;
    }
    if ((skip = PyObject_IsTrue(args[2])) < 0 || (prop = PyObject_IsTrue(args[3])) < 0
        || (ovf = PyObject_IsTrue(args[5])) < 0 || (psend = PyObject_IsTrue(args[6])) < 0)
        return NULL;
    if (imap4_bind(st, (PyTypeObject *)args[0], args[4]) < 0)
        return NULL;
    Py_XSETREF(st->ns, Py_NewRef(args[1]));
    st->skip_blank = skip;
    st->own_buffer = prop;
    st->literal_overflow = ovf;
    st->plain_send = psend;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(guard__doc__, "_guard($module, func, /)\n--\n\n"
                           "func wrapped in the command guard (see csrc/guard.c).");

static PyObject *
mod_guard(PyObject *module, PyObject *func)
{
    return guard_wrap(mstate(module), func);
}

PyDoc_STRVAR(map_crlf_sub__doc__,
             "_map_crlf_sub($module, namespace, pattern, repl, string, count=0, /)\n--\n\n"
             "namespace['MapCRLF'].sub(repl, string, count), in C while that is `pattern`.");

static PyMethodDef module_methods[] = {
    {"_map_crlf_sub", (PyCFunction)(void (*)(void))mod_map_crlf_sub, METH_FASTCALL,
     map_crlf_sub__doc__},
    {"_bind", (PyCFunction)(void (*)(void))mod_bind, METH_FASTCALL, bind__doc__},
    {"_guard", mod_guard, METH_O, guard__doc__},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ */
/* Module exec                                                         */
/* ------------------------------------------------------------------ */

#define INTERN(field, text)                                                    \
    do {                                                                       \
        if ((st->field = PyUnicode_InternFromString(text)) == NULL)            \
            return -1;                                                         \
    } while (0)

static int
intern_names(modstate *st)
{
#define X(n) INTERN(names[OV_##n], #n);
    OVERRIDABLE(X)
#undef X
#define X(field, text) INTERN(field, text);
    INTERNED_NAMES(X)
#undef X
    if (!(st->i_one = PyLong_FromLong(1)) || !(st->b_empty = PyBytes_FromStringAndSize("", 0))
        || !(st->b_crlf = PyBytes_FromStringAndSize("\r\n", 2))
        || !(st->b_space = PyBytes_FromStringAndSize(" ", 1)))
        return -1;
    return 0;
}

static int
module_exec(PyObject *module)
{
    modstate *st = mstate(module);
    if (intern_names(st) < 0)
        return -1;
    st->ns = Py_NewRef(PyModule_GetDict(module)); /* until _bind() */
    if (guard_add_type(module, st) < 0 || imap4_add_type(module, st) < 0)
        return -1;
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    modstate *st = mstate(module);
    Py_VISIT(st->imap4_type);
    Py_VISIT(st->guarded_type);
    Py_VISIT(st->ns);
    for (int i = 0; i < OV_COUNT; i++)
        Py_VISIT(st->own_descr[i]);
    return 0;
}

static int
module_clear(PyObject *module)
{
    modstate *st = mstate(module);
    Py_CLEAR(st->imap4_type);
    Py_CLEAR(st->guarded_type);
    Py_CLEAR(st->ns);
    for (int i = 0; i < OV_COUNT; i++) {
        Py_CLEAR(st->own_descr[i]);
        Py_CLEAR(st->names[i]);
    }
#define X(field, text) Py_CLEAR(st->field);
    INTERNED_NAMES(X)
#undef X
    Py_CLEAR(st->i_one);
    Py_CLEAR(st->b_empty);
    Py_CLEAR(st->b_crlf);
    Py_CLEAR(st->b_space);
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)module_exec},
#ifdef Py_GIL_DISABLED
    /* Safe without the GIL: the command guard is claimed atomically and
     * nothing else is shared between threads (csrc/guard.c). */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

PyModuleDef imaplib_c_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "imaplib_c._imaplib_c",
    .m_doc = "The C protocol engine of imaplib_c.",
    .m_size = sizeof(modstate),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__imaplib_c(void)
{
    return PyModuleDef_Init(&imaplib_c_module);
}
