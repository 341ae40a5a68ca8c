/* imap4_tls.c - IMAP4_SSL and IMAP4.starttls.
 *
 * TLS is Python's ssl module: the context the user passes (or imaplib's
 * default, ssl._create_stdlib_context()) wraps the socket, so every
 * SSLContext setting behaves exactly as with imaplib.  The engine then
 * reads the SSLSocket with recv_into like a plain one.
 */
#include "binding.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* starttls                                                            */
/* ------------------------------------------------------------------ */

static PyObject *
m_starttls(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"ssl_context", NULL};
    modstate *st = STATE(self);
    PyObject *ctx = Py_None, *v, *name = NULL, *r = NULL, *typ = NULL, *dat = NULL, *res = NULL,
             *sslmod = NULL;
    int t;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "|O:starttls", kwlist, &ctx))
        return NULL;
    v = ns_get(st, "HAVE_SSL");
    t = v ? PyObject_IsTrue(v) : -1;
    Py_XDECREF(v);
    if (t < 0)
        return NULL;
    if (!t) {
        raise_kindf(self, st->s_error, "SSL support missing");
        return NULL;
    }
    v = PyObject_GetAttr(self, st->s_tls_established);
    t = v ? PyObject_IsTrue(v) : -1;
    Py_XDECREF(v);
    if (t < 0)
        return NULL;
    if (t) {
        raise_kindf(self, st->s_abort, "TLS session already established");
        return NULL;
    }
    if (!(name = PyUnicode_FromString("STARTTLS")) || !(v = PyObject_GetAttr(self, st->s_capabilities)))
        goto done;
    t = PySequence_Contains(v, name);
    Py_DECREF(v);
    if (t < 0)
        goto done;
    if (!t) {
        raise_kindf(self, st->s_abort, "TLS not supported by server");
        goto done;
    }
    if (ctx == Py_None) {
        if (!(sslmod = ns_get(st, "ssl")) || !(ctx = PyObject_CallMethod(sslmod, "_create_stdlib_context", NULL)))
            goto done;
    } else {
        Py_INCREF(ctx);
    }
    r = call_method(self, st->s_simple_command, &name, 1);
    if (r == NULL)
        goto done_ctx;
    {
        PyObject *tup = PySequence_Tuple(r);
        if (tup == NULL)
            goto done_ctx;
        if (PyTuple_GET_SIZE(tup) != 2) {
            PyErr_SetString(PyExc_ValueError, "expected (typ, data)");
            Py_DECREF(tup);
            goto done_ctx;
        }
        typ = Py_NewRef(PyTuple_GET_ITEM(tup, 0));
        dat = Py_NewRef(PyTuple_GET_ITEM(tup, 1));
        Py_DECREF(tup);
    }
    t = PyObject_RichCompareBool(typ, st->s_OK, Py_EQ);
    if (t < 0)
        goto done_ctx;
    if (t) {
        PyObject *sock, *host, *kw, *a, *wrapped, *file, *c;
        IMAP4Object *io = (IMAP4Object *)self;
        /* Whatever followed the tagged OK in plaintext was sent before the
         * handshake: never read it as if it came over TLS. */
        if (imapc_rbuf_avail(&io->rbuf) > 0) {
            size_t n = imapc_rbuf_avail(&io->rbuf);
            reader_request_reset(io);
            raise_kindf(self, st->s_abort,
                        "STARTTLS: %zu bytes of plaintext followed the server's OK "
                        "(response injection?)", n);
            goto done_ctx;
        }
        if (!(sock = PyObject_GetAttr(self, st->s_sock)))
            goto done_ctx;
        host = PyObject_GetAttr(self, st->s_host);
        kw = host ? Py_BuildValue("{s:O}", "server_hostname", host) : NULL;
        a = PyTuple_Pack(1, sock);
        wrapped = NULL;
        if (kw && a) {
            PyObject *wrap = PyObject_GetAttr(ctx, st->s_wrap_socket);
            wrapped = wrap ? PyObject_Call(wrap, a, kw) : NULL;
            Py_XDECREF(wrap);
        }
        Py_XDECREF(host);
        Py_XDECREF(kw);
        Py_XDECREF(a);
        Py_DECREF(sock);
        if (wrapped == NULL || PyObject_SetAttr(self, st->s_sock, wrapped) < 0) {
            Py_XDECREF(wrapped);
            goto done_ctx;
        }
        file = PyObject_CallMethod(wrapped, "makefile", "s", "rb");
        Py_DECREF(wrapped);
        if (file == NULL || PyObject_SetAttr(self, st->s_file, file) < 0) {
            Py_XDECREF(file);
            goto done_ctx;
        }
        Py_DECREF(file);
        if (PyObject_SetAttr(self, st->s_tls_established, Py_True) < 0)
            goto done_ctx;
        c = call_method(self, st->s_get_capabilities, NULL, 0);
        if (c == NULL)
            goto done_ctx;
        Py_DECREF(c);
    } else {
        raise_kindf(self, st->s_error, "Couldn't establish TLS session");
        goto done_ctx;
    }
    {
        PyObject *a3[3] = {typ, dat, name};
        res = call_method(self, st->s_untagged_response, a3, 3);
    }
done_ctx:
    Py_XDECREF(ctx);
done:
    Py_XDECREF(sslmod);
    Py_XDECREF(name);
    Py_XDECREF(r);
    Py_XDECREF(typ);
    Py_XDECREF(dat);
    return res;
}

PyMethodDef imap4_tls_methods[] = {
    {"starttls", (PyCFunction)(void (*)(void))m_starttls, METH_VARARGS | METH_KEYWORDS,
     "starttls($self, /, ssl_context=None)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ */
/* IMAP4_SSL                                                           */
/* ------------------------------------------------------------------ */

static int
ssl_init(PyObject *self, PyObject *args, PyObject *kwds)
{
#if PY_VERSION_HEX < 0x030C0000
    static char *kwlist[] = {"host", "port", "keyfile", "certfile", "ssl_context", "timeout", NULL};
    const char *fmt = "|OOOOOO:IMAP4_SSL";
#else
    static char *kwlist[] = {"host", "port", "ssl_context", "timeout", NULL};
    const char *fmt = "|OO$OO:IMAP4_SSL";
#endif
    modstate *st = STATE(self);
    PyObject *host = NULL, *port = NULL, *ctx = Py_None, *timeout = Py_None, *a, *kw, *sslmod;
#if PY_VERSION_HEX < 0x030C0000
    PyObject *keyfile = Py_None, *certfile = Py_None;
#endif
    int r;
    if (st == NULL)
        return -1;
#if PY_VERSION_HEX < 0x030C0000
    if (!PyArg_ParseTupleAndKeywords(args, kwds, fmt, kwlist, &host, &port, &keyfile, &certfile, &ctx,
                                     &timeout))
        return -1;
    if (ctx != Py_None && keyfile != Py_None) {
        PyErr_SetString(PyExc_ValueError, "ssl_context and keyfile arguments are mutually exclusive");
        return -1;
    }
    if (ctx != Py_None && certfile != Py_None) {
        PyErr_SetString(PyExc_ValueError, "ssl_context and certfile arguments are mutually exclusive");
        return -1;
    }
    if ((keyfile != Py_None || certfile != Py_None)
        && PyErr_WarnEx(PyExc_DeprecationWarning,
                        "keyfile and certfile are deprecated, use a custom ssl_context instead", 1) < 0)
        return -1;
    if (PyObject_SetAttrString(self, "keyfile", keyfile) < 0
        || PyObject_SetAttrString(self, "certfile", certfile) < 0)
        return -1;
#else
    if (!PyArg_ParseTupleAndKeywords(args, kwds, fmt, kwlist, &host, &port, &ctx, &timeout))
        return -1;
#endif
    if (ctx == Py_None) {
        sslmod = ns_get(st, "ssl");
        if (sslmod == NULL)
            return -1;
#if PY_VERSION_HEX < 0x030C0000
        {
            PyObject *f = PyObject_GetAttrString(sslmod, "_create_stdlib_context"), *e = PyTuple_New(0);
            PyObject *k = Py_BuildValue("{s:O,s:O}", "certfile", certfile, "keyfile", keyfile);
            ctx = f && e && k ? PyObject_Call(f, e, k) : NULL;
            Py_XDECREF(f);
            Py_XDECREF(e);
            Py_XDECREF(k);
        }
#else
        ctx = PyObject_CallMethod(sslmod, "_create_stdlib_context", NULL);
#endif
        Py_DECREF(sslmod);
        if (ctx == NULL)
            return -1;
    } else {
        Py_INCREF(ctx);
    }
    r = PyObject_SetAttr(self, st->s_ssl_context, ctx);
    Py_DECREF(ctx);
    if (r < 0)
        return -1;
    /* IMAP4.__init__(self, host, port, timeout) */
    if (port == NULL && (port = ns_get(st, "IMAP4_SSL_PORT")) == NULL)
        return -1;
    else if (port != NULL)
        Py_INCREF(port);
    a = PyTuple_Pack(3, host ? host : st->s_empty_str, port, timeout);
    Py_DECREF(port);
    kw = NULL;
    if (a == NULL)
        return -1;
    r = st->imap4_type->tp_init(self, a, kw);
    Py_DECREF(a);
    return r;
}

static PyObject *
ssl_create_socket(PyObject *self, PyObject *timeout)
{
    modstate *st = STATE(self);
    PyObject *base, *sock, *ctx, *host, *kw, *a, *wrap, *res = NULL;
    if (st == NULL)
        return NULL;
    base = PyObject_GetAttr((PyObject *)st->imap4_type, st->s_create_socket);
    if (base == NULL)
        return NULL;
    sock = PyObject_CallFunctionObjArgs(base, self, timeout, NULL);
    Py_DECREF(base);
    if (sock == NULL)
        return NULL;
    ctx = PyObject_GetAttr(self, st->s_ssl_context);
    host = PyObject_GetAttr(self, st->s_host);
    wrap = ctx ? PyObject_GetAttr(ctx, st->s_wrap_socket) : NULL;
    kw = host ? Py_BuildValue("{s:O}", "server_hostname", host) : NULL;
    a = PyTuple_Pack(1, sock);
    if (wrap && kw && a)
        res = PyObject_Call(wrap, a, kw);
    if (res == NULL) {
        /* Don't leak the TCP connection when the handshake fails. */
        PyObject *exc = exc_take(), *c = PyObject_CallMethod(sock, "close", NULL);
        Py_XDECREF(c);
        PyErr_Clear();
        if (exc)
            exc_give(exc);
    }
    Py_XDECREF(ctx);
    Py_XDECREF(host);
    Py_XDECREF(wrap);
    Py_XDECREF(kw);
    Py_XDECREF(a);
    Py_DECREF(sock);
    return res;
}

static PyObject *
ssl_open(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"host", "port", "timeout", NULL};
    modstate *st = STATE(self);
    PyObject *host = NULL, *port = NULL, *timeout = Py_None, *base, *res;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "|OOO:open", kwlist, &host, &port, &timeout))
        return NULL;
    base = PyObject_GetAttr((PyObject *)st->imap4_type, st->s_open);
    if (base == NULL)
        return NULL;
    if (port == NULL) {
        port = ns_get(st, "IMAP4_SSL_PORT");
        if (port == NULL) {
            Py_DECREF(base);
            return NULL;
        }
    } else {
        Py_INCREF(port);
    }
    res = PyObject_CallFunctionObjArgs(base, self, host ? host : st->s_empty_str, port, timeout, NULL);
    Py_DECREF(port);
    Py_DECREF(base);
    return res;
}

static PyMethodDef ssl_methods[] = {
    {"_create_socket", ssl_create_socket, METH_O, "_create_socket($self, timeout, /)\n--\n\n"},
    {"open", (PyCFunction)(void (*)(void))ssl_open, METH_VARARGS | METH_KEYWORDS,
     "open($self, /, host='', port=IMAP4_SSL_PORT, timeout=None)\n--\n\n"
     "Setup connection to remote server on \"host:port\".\n"
     "    (default: localhost:standard IMAP4 SSL port)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot ssl_slots[] = {
    {Py_tp_doc, "IMAP4 client class over SSL connection"},
    {Py_tp_init, ssl_init},
    {Py_tp_methods, ssl_methods},
    {0, NULL},
};

static PyType_Spec ssl_spec = {
    .name = "imaplib_c.IMAP4_SSL",
    .basicsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, /* GC is inherited */
    .slots = ssl_slots,
};

int
tls_add_types(PyObject *module, modstate *st)
{
    PyObject *have = ns_get(st, "HAVE_SSL"), *bases;
    int t = have ? PyObject_IsTrue(have) : -1;
    Py_XDECREF(have);
    if (t <= 0)
        return t; /* no ssl module: no IMAP4_SSL, as in imaplib */
    /* bases as a tuple: 3.9 accepts nothing else */
    bases = PyTuple_Pack(1, (PyObject *)st->imap4_type);
    if (bases == NULL)
        return -1;
    st->imap4_ssl_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &ssl_spec, bases);
    Py_DECREF(bases);
    if (st->imap4_ssl_type == NULL)
        return -1;
    if (guard_wrap_type(st->imap4_ssl_type, st) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "IMAP4_SSL", (PyObject *)st->imap4_ssl_type);
}
