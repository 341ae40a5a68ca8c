/* imap4_stream.c - IMAP4_stream: IMAP over a child process's pipes.
 *
 * Its read/readline/send/shutdown go to the pipes exactly as imaplib's
 * do (no _MAXLINE check on readline, as in imaplib); the response engine
 * sees them as overrides and calls them through Python.
 */
#include "binding.h"

static int
stream_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"command", NULL};
    modstate *st = STATE(self);
    PyObject *command, *empty;
    int r;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "O:IMAP4_stream", kwlist, &command))
        return -1;
    if (PyObject_SetAttr(self, st->s_command_attr, command) < 0)
        return -1;
    empty = PyTuple_New(0);
    if (empty == NULL)
        return -1;
    r = st->imap4_type->tp_init(self, empty, NULL);
    Py_DECREF(empty);
    return r;
}

static PyObject *
stream_open(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"host", "port", "timeout", NULL};
    modstate *st = STATE(self);
    PyObject *host = Py_None, *port = Py_None, *timeout = Py_None, *sp = NULL, *popen = NULL,
             *pipe = NULL, *bufsize = NULL, *command = NULL, *a = NULL, *kw = NULL, *proc = NULL,
             *res = NULL, *f;
    if (st == NULL || !PyArg_ParseTupleAndKeywords(args, kwds, "|OOO:open", kwlist, &host, &port, &timeout))
        return NULL;
    if (PyObject_SetAttr(self, st->s_host, Py_None) < 0 || PyObject_SetAttr(self, st->s_port, Py_None) < 0
        || PyObject_SetAttr(self, st->s_sock, Py_None) < 0 || PyObject_SetAttr(self, st->s_file, Py_None) < 0)
        return NULL;
    if (!(sp = ns_get(st, "subprocess")) || !(popen = PyObject_GetAttrString(sp, "Popen"))
        || !(pipe = PyObject_GetAttrString(sp, "PIPE")) || !(bufsize = ns_get(st, "DEFAULT_BUFFER_SIZE"))
        || !(command = PyObject_GetAttr(self, st->s_command_attr)))
        goto done;
    a = PyTuple_Pack(1, command);
    kw = Py_BuildValue("{s:O,s:O,s:O,s:O,s:O}", "bufsize", bufsize, "stdin", pipe, "stdout", pipe,
                       "shell", Py_True, "close_fds", Py_True);
    if (a == NULL || kw == NULL || !(proc = PyObject_Call(popen, a, kw)))
        goto done;
    if (PyObject_SetAttr(self, st->s_process, proc) < 0)
        goto done;
    if (!(f = PyObject_GetAttrString(proc, "stdin")) || PyObject_SetAttr(self, st->s_writefile, f) < 0) {
        Py_XDECREF(f);
        goto done;
    }
    Py_DECREF(f);
    if (!(f = PyObject_GetAttrString(proc, "stdout")) || PyObject_SetAttr(self, st->s_readfile, f) < 0) {
        Py_XDECREF(f);
        goto done;
    }
    Py_DECREF(f);
    res = Py_NewRef(Py_None);
done:
    Py_XDECREF(sp);
    Py_XDECREF(popen);
    Py_XDECREF(pipe);
    Py_XDECREF(bufsize);
    Py_XDECREF(command);
    Py_XDECREF(a);
    Py_XDECREF(kw);
    Py_XDECREF(proc);
    return res;
}

static PyObject *
stream_read(PyObject *self, PyObject *size)
{
    modstate *st = STATE(self);
    PyObject *rf, *res;
    if (st == NULL || !(rf = PyObject_GetAttr(self, st->s_readfile)))
        return NULL;
    /* imaplib's stream read() was never bounded (gh-119511); ours is */
    res = read_chunked(rf, size);
    Py_DECREF(rf);
    return res;
}

static PyObject *
stream_readline(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *rf, *res;
    if (st == NULL || !(rf = PyObject_GetAttr(self, st->s_readfile)))
        return NULL;
    res = PyObject_CallMethod(rf, "readline", NULL);
    Py_DECREF(rf);
    return res;
}

static PyObject *
stream_send(PyObject *self, PyObject *data)
{
    modstate *st = STATE(self);
    PyObject *wf, *r;
    if (st == NULL || !(wf = PyObject_GetAttr(self, st->s_writefile)))
        return NULL;
    r = PyObject_CallMethodOneArg(wf, st->s_write, data);
    if (r != NULL) {
        Py_DECREF(r);
        r = PyObject_CallMethodNoArgs(wf, st->s_flush);
    }
    Py_DECREF(wf);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *
stream_shutdown(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *names[2], *p, *r;
    int i;
    if (st == NULL)
        return NULL;
    names[0] = st->s_readfile;
    names[1] = st->s_writefile;
    for (i = 0; i < 2; i++) {
        PyObject *f = PyObject_GetAttr(self, names[i]);
        if (f == NULL)
            return NULL;
        r = PyObject_CallMethodNoArgs(f, st->s_close);
        Py_DECREF(f);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    p = PyObject_GetAttr(self, st->s_process);
    if (p == NULL)
        return NULL;
    r = PyObject_CallMethodNoArgs(p, st->s_wait);
    Py_DECREF(p);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyMethodDef stream_methods[] = {
    {"open", (PyCFunction)(void (*)(void))stream_open, METH_VARARGS | METH_KEYWORDS,
     "open($self, /, host=None, port=None, timeout=None)\n--\n\nSetup a stream connection."},
    {"read", stream_read, METH_O, "read($self, size, /)\n--\n\nRead 'size' bytes from remote."},
    {"readline", stream_readline, METH_NOARGS, "readline($self, /)\n--\n\nRead line from remote."},
    {"send", stream_send, METH_O, "send($self, data, /)\n--\n\nSend data to remote."},
    {"shutdown", stream_shutdown, METH_NOARGS,
     "shutdown($self, /)\n--\n\nClose I/O established in \"open\"."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot stream_slots[] = {
    {Py_tp_doc, "IMAP4 client class over a stream\n\n"
                "Instantiate with: IMAP4_stream(command)\n\n"
                "        \"command\" - a string that can be passed to subprocess.Popen()"},
    {Py_tp_init, stream_init},
    {Py_tp_methods, stream_methods},
    {0, NULL},
};

static PyType_Spec stream_spec = {
    .name = "imaplib_c.IMAP4_stream",
    .basicsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, /* GC is inherited */
    .slots = stream_slots,
};

int
stream_add_type(PyObject *module, modstate *st)
{
    PyObject *bases = PyTuple_Pack(1, (PyObject *)st->imap4_type);
    if (bases == NULL)
        return -1;
    st->imap4_stream_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &stream_spec, bases);
    Py_DECREF(bases);
    if (st->imap4_stream_type == NULL)
        return -1;
    if (guard_wrap_type(st->imap4_stream_type, st) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "IMAP4_stream", (PyObject *)st->imap4_stream_type);
}
