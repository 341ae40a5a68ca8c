/* imap4_debug.c - imaplib's debugging helpers and the interaction log.
 *
 * imaplib keeps the last ten lines sent or received, formatted with
 * repr(), in self._cmd_log (even at debug level 0) so print_log() can
 * show them after an abort.  Formatting every line costs more than the
 * rest of the per-line work, so the ring here stores the raw bytes and
 * formats them only when print_log() or _cmd_log asks.  _mesg is here
 * because IMAPClient-style debug logging calls it for every line.
 */
#include "debug.h"

#include "object.h"
#include "state.h"
#include "util.h"

#include <string.h>
#include <time.h>

double
now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
log_clear(IMAP4Object *self)
{
    int i;
    for (i = 0; i < LOG_RING; i++) {
        Py_CLEAR(self->log[i].text);
        self->log[i].span = NULL;
        self->log[i].used = 0;
        self->log[i].len = 0;
    }
    self->log_idx = 0;
    self->log_spans = 0;
}

/* Copy p[0:len] into the entry (a bounded prefix of a huge line). */
static void
entry_copy(log_entry *ent, const unsigned char *p, size_t len)
{
    if (len > ent->cap) {
        /* Keep at most a bounded prefix of a huge line; print_log is for
         * a human, and a 50 MB SEARCH line should not be copied. */
        size_t want = len < 4096 ? len : 4096;
        if (want > ent->cap) {
            unsigned char *n = PyMem_Realloc(ent->raw, want);
            if (n != NULL) {
                ent->raw = n;
                ent->cap = want;
            }
        }
    }
    ent->len = len < ent->cap ? len : ent->cap;
    if (ent->len)
        memcpy(ent->raw, p, ent->len);
}

/* The next entry, emptied of a span it may hold. */
static log_entry *
entry_next(IMAP4Object *self, char dir, double secs)
{
    log_entry *ent = &self->log[self->log_idx];
    if (ent->span != NULL) {
        ent->span = NULL;
        self->log_spans--;
    }
    Py_CLEAR(ent->text);
    ent->dir = dir;
    ent->secs = secs < 0 ? now_secs() : secs;
    ent->used = 1;
    if (++self->log_idx >= LOG_RING)
        self->log_idx = 0;
    return ent;
}

void
log_add_raw(IMAP4Object *self, char dir, const unsigned char *p, size_t len, double secs)
{
    entry_copy(entry_next(self, dir, secs), p, len);
}

void
log_add_span(IMAP4Object *self, const unsigned char *p, size_t len, double secs)
{
    log_entry *ent = entry_next(self, '<', secs);
    ent->span = p;
    ent->len = len;
    self->log_spans++;
}

void
log_settle(IMAP4Object *self)
{
    int i;
    for (i = 0; self->log_spans > 0 && i < LOG_RING; i++) {
        log_entry *ent = &self->log[i];
        if (ent->span != NULL) {
            const unsigned char *p = ent->span;
            ent->span = NULL;
            self->log_spans--;
            entry_copy(ent, p, ent->len);
        }
    }
}

static PyObject *
entry_text(log_entry *ent)
{
    /* (callers settle the ring first: no span is left) */
    PyObject *b, *s;
    if (ent->text != NULL)
        return Py_NewRef(ent->text);
    b = PyBytes_FromStringAndSize((const char *)ent->raw, (Py_ssize_t)ent->len);
    if (b == NULL)
        return NULL;
    s = PyUnicode_FromFormat("%c %R", ent->dir, b);
    Py_DECREF(b);
    return s;
}

/* Before _connect() imaplib has no _cmd_log: an AttributeError (which
 * imaplib's __getattr__ turns into its "Unknown IMAP4 command" one). */
static int
log_missing(IMAP4Object *self)
{
    if (self->log_ready)
        return 0;
    PyErr_SetString(PyExc_AttributeError, "_cmd_log");
    return 1;
}

static PyObject *
m_log(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"line", NULL};
    IMAP4Object *self = (IMAP4Object *)op;
    log_entry *ent = &self->log[self->log_idx];
    PyObject *line = NULL;
    if (parse_args("_log", args, nargs, kwnames, names, 1, &line) < 0 || log_missing(self))
        return NULL;
    Py_XSETREF(ent->text, Py_NewRef(line));
    ent->dir = 0;
    ent->secs = now_secs();
    ent->used = 1;
    if (++self->log_idx >= LOG_RING)
        self->log_idx = 0;
    Py_RETURN_NONE;
}

static PyObject *
m_mesg(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"s", "secs", NULL};
    modstate *st = STATE(self);
    PyObject *a[2] = {NULL, Py_None}, *s, *secs, *timemod = NULL, *sysmod = NULL, *lt = NULL,
             *tm = NULL, *frac = NULL, *line = NULL, *err = NULL, *r, *res = NULL;
    if (st == NULL || parse_args("_mesg", args, nargs, kwnames, names, 1, a) < 0)
        return NULL;
    s = a[0];
    secs = a[1];
    if (!(timemod = ns_get(st, "time")) || !(sysmod = ns_get(st, "sys")))
        goto done;
    if (secs == Py_None) {
        secs = PyObject_CallMethod(timemod, "time", NULL);
        if (secs == NULL)
            goto done;
    } else {
        Py_INCREF(secs);
    }
    /* '  %s.%02d %s\n' % (strftime('%M:%S', localtime(secs)), (secs*100)%100, s) */
    if (!(lt = PyObject_CallMethod(timemod, "localtime", "(O)", secs))
        || !(tm = PyObject_CallMethod(timemod, "strftime", "sO", "%M:%S", lt)))
        goto done_secs;
    {
        PyObject *h = PyLong_FromLong(100), *x;
        x = h ? PyNumber_Multiply(secs, h) : NULL;
        frac = x ? PyNumber_Remainder(x, h) : NULL;
        Py_XDECREF(h);
        Py_XDECREF(x);
    }
    if (frac == NULL)
        goto done_secs;
    {
        PyObject *fmt = PyUnicode_FromString("  %s.%02d %s\n"), *tup = PyTuple_Pack(3, tm, frac, s);
        line = fmt && tup ? PyUnicode_Format(fmt, tup) : NULL;
        Py_XDECREF(fmt);
        Py_XDECREF(tup);
    }
    if (line == NULL || !(err = PyObject_GetAttrString(sysmod, "stderr")))
        goto done_secs;
    r = PyObject_CallMethod(err, "write", "(O)", line);
    if (r == NULL)
        goto done_secs;
    Py_DECREF(r);
    r = PyObject_CallMethod(err, "flush", NULL);
    if (r == NULL)
        goto done_secs;
    Py_DECREF(r);
    res = Py_NewRef(Py_None);
done_secs:
    Py_DECREF(secs);
done:
    Py_XDECREF(timemod);
    Py_XDECREF(sysmod);
    Py_XDECREF(lt);
    Py_XDECREF(tm);
    Py_XDECREF(frac);
    Py_XDECREF(line);
    Py_XDECREF(err);
    return res;
}


static int
used_count(IMAP4Object *self)
{
    int i, n = 0;
    for (i = 0; i < LOG_RING; i++)
        n += self->log[i].used;
    return n;
}

static PyObject *
m_print_log(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    IMAP4Object *self = (IMAP4Object *)op;
    modstate *st = STATE(op);
    PyObject *msg, *r;
    int i, n;
    if (st == NULL || log_missing(self))
        return NULL;
    msg = PyUnicode_FromFormat("last %d IMAP4 interactions:", used_count(self));
    if (msg == NULL)
        return NULL;
    r = call_method(op, st->names[OV__mesg], &msg, 1);
    Py_DECREF(msg);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    /* Oldest first, from the next slot to be written; imaplib swallows any
     * error from _mesg here. */
    for (i = self->log_idx, n = LOG_RING; n; n--) {
        log_entry *ent = &self->log[i];
        log_settle(self); /* (again: a _mesg of the user's may have read) */
        if (ent->used) {
            PyObject *text = entry_text(ent), *secs = PyFloat_FromDouble(ent->secs);
            if (text && secs) {
                PyObject *a[2] = {text, secs};
                r = call_method(op, st->names[OV__mesg], a, 2);
                Py_XDECREF(r);
            }
            Py_XDECREF(text);
            Py_XDECREF(secs);
            PyErr_Clear();
        }
        if (++i >= LOG_RING)
            i = 0;
    }
    Py_RETURN_NONE;
}

static PyObject *
get_cmd_log(PyObject *op, void *closure)
{
    IMAP4Object *self = (IMAP4Object *)op;
    PyObject *d;
    int i;
    (void)closure;
    if (log_missing(self))
        return NULL;
    log_settle(self);
    d = PyDict_New();
    if (d == NULL)
        return NULL;
    for (i = 0; i < LOG_RING; i++) {
        log_entry *ent = &self->log[i];
        PyObject *k, *v;
        if (!ent->used)
            continue;
        k = PyLong_FromLong(i);
        v = Py_BuildValue("(Nd)", entry_text(ent), ent->secs);
        if (k == NULL || v == NULL || PyDict_SetItem(d, k, v) < 0) {
            Py_XDECREF(k);
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return d;
}

static PyObject *
get_cmd_log_idx(PyObject *op, void *closure)
{
    (void)closure;
    if (log_missing((IMAP4Object *)op))
        return NULL;
    return PyLong_FromLong(((IMAP4Object *)op)->log_idx);
}

static PyObject *
get_cmd_log_len(PyObject *op, void *closure)
{
    (void)closure;
    if (log_missing((IMAP4Object *)op))
        return NULL;
    return PyLong_FromLong(LOG_RING);
}

/* imaplib's _connect() starts the log with _cmd_log_len = 10,
 * _cmd_log_idx = 0, _cmd_log = {}: the ring takes those assignments. */
static int
set_cmd_log(PyObject *op, PyObject *value, void *closure)
{
    IMAP4Object *self = (IMAP4Object *)op;
    (void)closure;
    if (value == NULL || !PyDict_Check(value) || PyDict_GET_SIZE(value) != 0) {
        PyErr_SetString(PyExc_ValueError, "imaplib_c keeps _cmd_log itself: only {} can be assigned");
        return -1;
    }
    log_clear(self);
    self->log_ready = 1;
    return 0;
}

static int
set_cmd_log_idx(PyObject *op, PyObject *value, void *closure)
{
    long i = value ? PyLong_AsLong(value) : -1;
    (void)closure;
    if (i < 0 || i >= LOG_RING) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "_cmd_log_idx must be in range(%d)", LOG_RING);
        return -1;
    }
    ((IMAP4Object *)op)->log_idx = (int)i;
    return 0;
}

static int
set_cmd_log_len(PyObject *op, PyObject *value, void *closure)
{
    long n = value ? PyLong_AsLong(value) : -1;
    (void)op;
    (void)closure;
    if (n != LOG_RING) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "imaplib_c keeps the last %d interactions", LOG_RING);
        return -1;
    }
    return 0;
}

PyMethodDef imap4_debug_methods[] = {
    {"_mesg", (PyCFunction)(void (*)(void))m_mesg, METH_FASTCALL | METH_KEYWORDS,
     "_mesg(self, s, secs=None)\n--\n\n"},
    {"_log", (PyCFunction)(void (*)(void))m_log, METH_FASTCALL | METH_KEYWORDS,
     "_log(self, line)\n--\n\n"},
    {"print_log", m_print_log, METH_NOARGS, "print_log(self)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};

PyGetSetDef imap4_debug_getset[] = {
    {"_cmd_log", get_cmd_log, set_cmd_log, "the last interactions, as imaplib's _cmd_log", NULL},
    {"_cmd_log_idx", get_cmd_log_idx, set_cmd_log_idx, NULL, NULL},
    {"_cmd_log_len", get_cmd_log_len, set_cmd_log_len, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
