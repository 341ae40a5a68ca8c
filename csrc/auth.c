/* auth.c - _Authenticator: base64 framing of an AUTHENTICATE dialogue.
 *
 * authenticate() stores a *bound method* of one of these in self.literal:
 * _command recognises a continuation generator by exactly that type
 * (type(literal) is type(self._command) in imaplib), so the literator is
 * built as types.MethodType(_Authenticator.process, instance).
 */
#include "binding.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *dict;
} AuthObject;

static int
auth_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"mechinst", NULL};
    PyObject *mech;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:_Authenticator", kwlist, &mech))
        return -1;
    return PyObject_SetAttrString(self, "mech", mech);
}

static PyObject *
binascii_call(const char *fn, PyObject *arg, int newline_kw)
{
    PyObject *mod = PyImport_ImportModule("binascii"), *f, *res;
    if (mod == NULL)
        return NULL;
    f = PyObject_GetAttrString(mod, fn);
    Py_DECREF(mod);
    if (f == NULL)
        return NULL;
    if (newline_kw) {
        PyObject *a = PyTuple_Pack(1, arg), *kw = Py_BuildValue("{s:O}", "newline", Py_False);
        res = a && kw ? PyObject_Call(f, a, kw) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(kw);
    } else {
        res = PyObject_CallOneArg(f, arg);
    }
    Py_DECREF(f);
    return res;
}

static PyObject *
auth_encode(PyObject *self, PyObject *inp)
{
    /* str -> UTF-8; base64 with no newline (imaplib's 48-byte chunks
     * concatenate to exactly the one-shot encoding); b'' -> b''. */
    PyObject *b, *res;
    int t;
    (void)self;
    if (PyUnicode_Check(inp))
        b = PyUnicode_AsUTF8String(inp);
    else
        b = Py_NewRef(inp);
    if (b == NULL)
        return NULL;
    t = PyObject_IsTrue(b);
    if (t <= 0) {
        Py_DECREF(b);
        return t < 0 ? NULL : PyBytes_FromStringAndSize("", 0);
    }
    res = binascii_call("b2a_base64", b, 1);
    Py_DECREF(b);
    return res;
}

static PyObject *
auth_decode(PyObject *self, PyObject *inp)
{
    int t = PyObject_IsTrue(inp);
    (void)self;
    if (t < 0)
        return NULL;
    if (!t)
        return PyBytes_FromStringAndSize("", 0);
    return binascii_call("a2b_base64", inp, 0);
}

static PyObject *
auth_process(PyObject *self, PyObject *data)
{
    PyObject *mech, *dec, *ret, *res;
    dec = PyObject_CallMethod(self, "decode", "(O)", data);
    if (dec == NULL)
        return NULL;
    mech = PyObject_GetAttrString(self, "mech");
    if (mech == NULL) {
        Py_DECREF(dec);
        return NULL;
    }
    ret = PyObject_CallOneArg(mech, dec);
    Py_DECREF(mech);
    Py_DECREF(dec);
    if (ret == NULL)
        return NULL;
    if (ret == Py_None) {
        Py_DECREF(ret);
        return PyBytes_FromString("*"); /* abort the exchange */
    }
    res = PyObject_CallMethod(self, "encode", "(O)", ret);
    Py_DECREF(ret);
    return res;
}

static int
auth_traverse(AuthObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->dict);
    return 0;
}

static int
auth_clear(AuthObject *self)
{
    Py_CLEAR(self->dict);
    return 0;
}

static void
auth_dealloc(AuthObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    auth_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef auth_methods[] = {
    {"process", auth_process, METH_O, NULL},
    {"encode", auth_encode, METH_O, NULL},
    {"decode", auth_decode, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef auth_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(AuthObject, dict), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef auth_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot auth_slots[] = {
    {Py_tp_getset, auth_getset},
    {Py_tp_doc, "Private class to provide en/decoding\n"
                "for base64-based authentication conversation."},
    {Py_tp_init, auth_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, auth_dealloc},
    {Py_tp_traverse, auth_traverse},
    {Py_tp_clear, auth_clear},
    {Py_tp_methods, auth_methods},
    {Py_tp_members, auth_members},
    {0, NULL},
};

static PyType_Spec auth_spec = {
    .name = "imaplib_c._Authenticator",
    .basicsize = sizeof(AuthObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = auth_slots,
};

int
auth_add_type(PyObject *module, modstate *st)
{
    st->auth_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &auth_spec, NULL);
    if (st->auth_type == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "_Authenticator", (PyObject *)st->auth_type);
}

PyObject *
auth_make_literator(modstate *st, PyObject *authobject)
{
    PyObject *inst, *process, *bound;
    inst = PyObject_CallOneArg((PyObject *)st->auth_type, authobject);
    if (inst == NULL)
        return NULL;
    process = PyObject_GetAttrString((PyObject *)st->auth_type, "process");
    if (process == NULL) {
        Py_DECREF(inst);
        return NULL;
    }
    bound = PyMethod_New(process, inst);
    Py_DECREF(process);
    Py_DECREF(inst);
    return bound;
}
