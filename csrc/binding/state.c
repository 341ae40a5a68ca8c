/* state.c - the module state: its definition, finding it from a type,
 * the bound namespace, and the one list of interned names and constants
 * (state.h) that makes and clears it.
 */
#include "state.h"

#include <string.h>

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

#define INTERN(field, text)                                                    \
    do {                                                                       \
        if ((st->field = PyUnicode_InternFromString(text)) == NULL)            \
            return -1;                                                         \
    } while (0)

#define MAKE(field, make)                                                      \
    do {                                                                       \
        if ((st->field = (make)) == NULL)                                      \
            return -1;                                                         \
    } while (0)

int
state_init(modstate *st)
{
#define X(n) INTERN(names[OV_##n], #n);
    OVERRIDABLE(X)
#undef X
#define X(field, text) INTERN(field, text);
    INTERNED_NAMES(X)
#undef X
#define X(field, make) MAKE(field, make);
    STATE_CONSTANTS(X)
#undef X
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    modstate *st = mstate(module);
    Py_VISIT(st->imap4_type);
    Py_VISIT(st->guarded_type);
    Py_VISIT(st->ns);
    Py_VISIT(st->object_getattribute);
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
    Py_CLEAR(st->object_getattribute);
    for (int i = 0; i < OV_COUNT; i++) {
        Py_CLEAR(st->own_descr[i]);
        Py_CLEAR(st->names[i]);
    }
#define X(field, text) Py_CLEAR(st->field);
    INTERNED_NAMES(X)
#undef X
#define X(field, make) Py_CLEAR(st->field);
    STATE_CONSTANTS(X)
#undef X
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

/* The module's own parts (methods, the exec slot) are module.c's, which
 * adds them before PyModuleDef_Init: the state is defined below the
 * files that use it, the module above them. */
PyModuleDef imaplib_c_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "imaplib_c._imaplib_c",
    .m_doc = "The C protocol engine of imaplib_c.",
    .m_size = sizeof(modstate),
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};
