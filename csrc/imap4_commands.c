/* imap4_commands.c - the IMAP command methods of IMAP4 (append ... xatom).
 *
 * Each method does what imaplib's does, calling _simple_command and
 * _untagged_response through `self` so subclass overrides see the same
 * calls.  Most commands are "send NAME args, return the tagged result" or
 * "... and pop untagged NAME": those are rows in a table.
 */
#include "binding.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Argument parsing: positional-or-keyword, as a Python def would      */
/* ------------------------------------------------------------------ */

#define MAXP 5

typedef struct {
    const char *name;           /* method name */
    const char *params[MAXP];   /* parameter names */
    int nparams;
    int nrequired;
    int varargs;                /* *args after the named parameters */
} sig;

/* Fill out[0..nparams) (borrowed; NULL = default) and rest, nrest for
 * varargs.  Messages follow CPython's for a Python method. */
static int
parse(const sig *s, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
      PyObject **out, PyObject *const **rest, Py_ssize_t *nrest)
{
    Py_ssize_t i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    int j;
    for (j = 0; j < MAXP; j++)
        out[j] = NULL;
    if (rest) {
        *rest = NULL;
        *nrest = 0;
    }
    if (nargs > s->nparams) {
        if (!s->varargs) {
            PyErr_Format(PyExc_TypeError, "IMAP4.%s() takes %d positional argument%s but %zd were given",
                         s->name, s->nparams + 1, s->nparams ? "s" : "", nargs + 1);
            return -1;
        }
        *rest = args + s->nparams;
        *nrest = nargs - s->nparams;
    }
    for (i = 0; i < nargs && i < s->nparams; i++)
        out[i] = args[i];
    for (i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i);
        int found = 0;
        for (j = 0; j < s->nparams; j++) {
            if (PyUnicode_CompareWithASCIIString(k, s->params[j]) == 0) {
                if (out[j] != NULL) {
                    PyErr_Format(PyExc_TypeError, "IMAP4.%s() got multiple values for argument '%s'",
                                 s->name, s->params[j]);
                    return -1;
                }
                out[j] = args[nargs + i];
                found = 1;
            }
        }
        if (!found) {
            PyErr_Format(PyExc_TypeError, "IMAP4.%s() got an unexpected keyword argument '%U'", s->name, k);
            return -1;
        }
    }
    for (j = 0; j < s->nrequired; j++) {
        if (out[j] == NULL) {
            PyErr_Format(PyExc_TypeError, "IMAP4.%s() missing required positional argument: '%s'",
                         s->name, s->params[j]);
            return -1;
        }
    }
    return 0;
}

/* self._simple_command(name, *a, *rest) */
static PyObject *
simple(PyObject *self, const char *name, PyObject *const *a, Py_ssize_t na,
       PyObject *const *rest, Py_ssize_t nrest)
{
    modstate *st = STATE(self);
    PyObject *small[12], **stack = small, *res;
    Py_ssize_t i, n = 0;
    PyObject *pname;
    if (st == NULL)
        return NULL;
    pname = PyUnicode_FromString(name);
    if (pname == NULL)
        return NULL;
    if (2 + na + nrest > (Py_ssize_t)(sizeof(small) / sizeof(small[0]))) {
        stack = PyMem_New(PyObject *, (size_t)(2 + na + nrest));
        if (stack == NULL) {
            Py_DECREF(pname);
            return PyErr_NoMemory();
        }
    }
    stack[n++] = self;
    stack[n++] = pname;
    for (i = 0; i < na; i++)
        stack[n++] = a[i];
    for (i = 0; i < nrest; i++)
        stack[n++] = rest[i];
    res = PyObject_VectorcallMethod(st->s_simple_command, stack, (size_t)n, NULL);
    if (stack != small)
        PyMem_Free(stack);
    Py_DECREF(pname);
    return res;
}

/* typ, dat = pair (any 2-sequence) */
static int
unpack2(PyObject *pair, PyObject **a, PyObject **b)
{
    PyObject *t = PySequence_Tuple(pair);
    if (t == NULL)
        return -1;
    if (PyTuple_GET_SIZE(t) != 2) {
        PyErr_Format(PyExc_ValueError, "%s values to unpack (expected 2)",
                     PyTuple_GET_SIZE(t) < 2 ? "not enough" : "too many");
        Py_DECREF(t);
        return -1;
    }
    *a = Py_NewRef(PyTuple_GET_ITEM(t, 0));
    *b = Py_NewRef(PyTuple_GET_ITEM(t, 1));
    Py_DECREF(t);
    return 0;
}

/* self._untagged_response(typ, dat, name) from a (typ, dat) result;
 * steals `result`. */
static PyObject *
untagged(PyObject *self, PyObject *result, const char *name)
{
    modstate *st = STATE(self);
    PyObject *typ, *dat, *pname, *res;
    if (result == NULL || st == NULL) {
        Py_XDECREF(result);
        return NULL;
    }
    if (unpack2(result, &typ, &dat) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    Py_DECREF(result);
    pname = PyUnicode_FromString(name);
    if (pname == NULL) {
        Py_DECREF(typ);
        Py_DECREF(dat);
        return NULL;
    }
    {
        PyObject *a[3] = {typ, dat, pname};
        res = call_method(self, st->s_untagged_response, a, 3);
    }
    Py_DECREF(typ);
    Py_DECREF(dat);
    Py_DECREF(pname);
    return res;
}

static int
set_state(PyObject *self, PyObject *value)
{
    modstate *st = STATE(self);
    return st ? PyObject_SetAttr(self, st->s_state, value) : -1;
}

/* (x[0], x[-1]) != ('(', ')')  ->  '(%s)' % x, for flags and criteria. */
static PyObject *
wrap_parens(PyObject *x)
{
    PyObject *first = PySequence_GetItem(x, 0), *last = NULL, *open_ = NULL, *close_ = NULL;
    int a = 0, b = 0;
    if (first == NULL)
        return NULL;
    last = PySequence_GetItem(x, -1);
    if (last == NULL)
        goto error;
    if (!(open_ = PyUnicode_FromString("(")) || !(close_ = PyUnicode_FromString(")")))
        goto error;
    a = PyObject_RichCompareBool(first, open_, Py_EQ);
    if (a < 0)
        goto error;
    if (a) {
        b = PyObject_RichCompareBool(last, close_, Py_EQ);
        if (b < 0)
            goto error;
    }
    Py_DECREF(first);
    Py_DECREF(last);
    Py_DECREF(open_);
    Py_DECREF(close_);
    if (a && b)
        return Py_NewRef(x);
    return PyUnicode_FromFormat("(%S)", x);
error:
    Py_XDECREF(first);
    Py_XDECREF(last);
    Py_XDECREF(open_);
    Py_XDECREF(close_);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Table-driven commands                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    sig s;
    const char *command;
    const char *untagged; /* NULL: return the tagged result */
} simple_spec;

static PyObject *
run_simple(PyObject *self, const simple_spec *spec, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    PyObject *a[MAXP];
    PyObject *const *rest;
    Py_ssize_t nrest;
    if (parse(&spec->s, args, nargs, kwnames, a, &rest, &nrest) < 0)
        return NULL;
    if (spec->untagged == NULL)
        return simple(self, spec->command, a, spec->s.nparams, rest, nrest);
    return untagged(self, simple(self, spec->command, a, spec->s.nparams, rest, nrest),
                    spec->untagged);
}

#define SIMPLE(meth, CMD, UNTAGGED, VARARGS, N, ...)                           \
    static const simple_spec spec_##meth = {                                   \
        {#meth, {__VA_ARGS__}, N, N, VARARGS}, CMD, UNTAGGED};                 \
    static PyObject *m_##meth(PyObject *self, PyObject *const *args,           \
                              Py_ssize_t nargs, PyObject *kwnames)             \
    {                                                                          \
        return run_simple(self, &spec_##meth, args, nargs, kwnames);           \
    }

SIMPLE(capability, "CAPABILITY", "CAPABILITY", 0, 0, NULL)
SIMPLE(check, "CHECK", NULL, 0, 0, NULL)
SIMPLE(copy, "COPY", NULL, 0, 2, "message_set", "new_mailbox")
SIMPLE(create, "CREATE", NULL, 0, 1, "mailbox")
SIMPLE(delete, "DELETE", NULL, 0, 1, "mailbox")
SIMPLE(deleteacl, "DELETEACL", NULL, 0, 2, "mailbox", "who")
SIMPLE(expunge, "EXPUNGE", "EXPUNGE", 0, 0, NULL)
SIMPLE(fetch, "FETCH", "FETCH", 0, 2, "message_set", "message_parts")
SIMPLE(getacl, "GETACL", "ACL", 0, 1, "mailbox")
SIMPLE(getannotation, "GETANNOTATION", "ANNOTATION", 0, 3, "mailbox", "entry", "attribute")
SIMPLE(getquota, "GETQUOTA", "QUOTA", 0, 1, "root")
SIMPLE(myrights, "MYRIGHTS", "MYRIGHTS", 0, 1, "mailbox")
SIMPLE(namespace, "NAMESPACE", "NAMESPACE", 0, 0, NULL)
SIMPLE(partial, "PARTIAL", "FETCH", 0, 4, "message_num", "message_part", "start", "length")
SIMPLE(proxyauth, "PROXYAUTH", NULL, 0, 1, "user")
SIMPLE(rename, "RENAME", NULL, 0, 2, "oldmailbox", "newmailbox")
SIMPLE(setacl, "SETACL", NULL, 0, 3, "mailbox", "who", "what")
SIMPLE(setannotation, "SETANNOTATION", "ANNOTATION", 1, 0, NULL)
SIMPLE(setquota, "SETQUOTA", "QUOTA", 0, 2, "root", "limits")
SIMPLE(status, "STATUS", "STATUS", 0, 2, "mailbox", "names")
SIMPLE(subscribe, "SUBSCRIBE", NULL, 0, 1, "mailbox")
SIMPLE(thread, "THREAD", "THREAD", 1, 2, "threading_algorithm", "charset")
SIMPLE(unsubscribe, "UNSUBSCRIBE", NULL, 0, 1, "mailbox")

/* list/lsub: directory='""', pattern='*' */
static PyObject *
list_like(PyObject *self, const char *meth, const char *cmd, PyObject *const *args,
          Py_ssize_t nargs, PyObject *kwnames)
{
    sig s = {meth, {"directory", "pattern"}, 2, 0, 0};
    PyObject *a[MAXP], *dir = NULL, *pat = NULL, *res;
    if (parse(&s, args, nargs, kwnames, a, NULL, NULL) < 0)
        return NULL;
    if (a[0] == NULL && (a[0] = dir = PyUnicode_FromString("\"\"")) == NULL)
        return NULL;
    if (a[1] == NULL && (a[1] = pat = PyUnicode_FromString("*")) == NULL) {
        Py_XDECREF(dir);
        return NULL;
    }
    res = untagged(self, simple(self, cmd, a, 2, NULL, 0), cmd);
    Py_XDECREF(dir);
    Py_XDECREF(pat);
    return res;
}

static PyObject *
m_list(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return list_like(self, "list", "LIST", args, nargs, kwnames);
}

static PyObject *
m_lsub(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return list_like(self, "lsub", "LSUB", args, nargs, kwnames);
}

/* ------------------------------------------------------------------ */
/* Commands with their own logic                                       */
/* ------------------------------------------------------------------ */

/* MapCRLF.sub(CRLF, message) for bytes: every CR, LF or CRLF -> CRLF.
 * Counted with memchr (vectorised) rather than byte by byte; a message
 * that is already CRLF-only is sent as it is, without a copy. */
static PyObject *
map_crlf(modstate *st, PyObject *message)
{
    const char *base, *p, *end, *q;
    char *out;
    Py_ssize_t n, crs = 0, lfs = 0, pairs = 0;
    PyObject *res;
    if (!PyBytes_CheckExact(message)) {
        PyObject *re = ns_get(st, "MapCRLF");
        if (re == NULL)
            return NULL;
        res = PyObject_CallMethod(re, "sub", "OO", st->b_crlf, message);
        Py_DECREF(re);
        return res;
    }
    base = PyBytes_AS_STRING(message);
    n = PyBytes_GET_SIZE(message);
    end = base + n;
    for (p = base; (q = memchr(p, '\n', (size_t)(end - p))) != NULL; p = q + 1) {
        lfs++;
        if (q > base && q[-1] == '\r')
            pairs++;
    }
    for (p = base; (q = memchr(p, '\r', (size_t)(end - p))) != NULL; p = q + 1)
        crs++;
    /* lone LFs and lone CRs each gain one byte */
    if (lfs == pairs && crs == pairs)
        return Py_NewRef(message);
    res = PyBytes_FromStringAndSize(NULL, n + (lfs - pairs) + (crs - pairs));
    if (res == NULL)
        return NULL;
    out = PyBytes_AS_STRING(res);
    p = base;
    while (p < end) {
        const char *cr = memchr(p, '\r', (size_t)(end - p)), *lf = memchr(p, '\n', (size_t)(end - p));
        const char *stop = cr && (!lf || cr < lf) ? cr : lf;
        if (stop == NULL) {
            memcpy(out, p, (size_t)(end - p));
            break;
        }
        memcpy(out, p, (size_t)(stop - p));
        out += stop - p;
        *out++ = '\r';
        *out++ = '\n';
        p = stop + 1;
        if (*stop == '\r' && p < end && *p == '\n')
            p++;
    }
    return res;
}

static const sig sig_append = {"append", {"mailbox", "flags", "date_time", "message"}, 4, 4, 0};

static PyObject *
m_append(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    modstate *st = STATE(self);
    PyObject *a[MAXP], *mailbox = NULL, *flags = NULL, *date = NULL, *literal = NULL, *res = NULL,
                       *utf8;
    int t;
    if (st == NULL || parse(&sig_append, args, nargs, kwnames, a, NULL, NULL) < 0)
        return NULL;
    t = PyObject_IsTrue(a[0]);
    if (t < 0)
        return NULL;
    mailbox = t ? Py_NewRef(a[0]) : PyUnicode_FromString("INBOX");
    if (mailbox == NULL)
        return NULL;
    t = PyObject_IsTrue(a[1]);
    if (t < 0)
        goto done;
    flags = t ? wrap_parens(a[1]) : Py_NewRef(Py_None);
    if (flags == NULL)
        goto done;
    t = PyObject_IsTrue(a[2]);
    if (t < 0)
        goto done;
    if (t) {
        PyObject *fn = ns_get(st, "Time2Internaldate");
        if (fn == NULL)
            goto done;
        date = PyObject_CallOneArg(fn, a[2]);
        Py_DECREF(fn);
    } else {
        date = Py_NewRef(Py_None);
    }
    if (date == NULL || !(literal = map_crlf(st, a[3])))
        goto done;
    utf8 = PyObject_GetAttr(self, st->s_utf8_enabled);
    t = utf8 ? PyObject_IsTrue(utf8) : -1;
    Py_XDECREF(utf8);
    if (t < 0)
        goto done;
#if PY_VERSION_HEX >= 0x030E0000
    t = 0; /* 3.14: _command frames UTF-8 literals itself (UTF8 (~{N} ... )) */
#endif
    if (t) {
        /* Up to 3.13: the wrapper travels inside the {N} literal. */
        PyObject *head = PyBytes_FromString("UTF8 ("), *tail = PyBytes_FromString(")"), *x, *y;
        x = head ? PyNumber_Add(head, literal) : NULL;
        y = x && tail ? PyNumber_Add(x, tail) : NULL;
        Py_XDECREF(head);
        Py_XDECREF(tail);
        Py_XDECREF(x);
        if (y == NULL)
            goto done;
        Py_SETREF(literal, y);
    }
    if (PyObject_SetAttr(self, st->s_literal, literal) < 0)
        goto done;
    {
        PyObject *sa[3] = {mailbox, flags, date};
        res = simple(self, "APPEND", sa, 3, NULL, 0);
    }
done:
    Py_XDECREF(mailbox);
    Py_XDECREF(flags);
    Py_XDECREF(date);
    Py_XDECREF(literal);
    return res;
}

static const sig sig_authenticate = {"authenticate", {"mechanism", "authobject"}, 2, 2, 0};

static PyObject *
m_authenticate(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    modstate *st = STATE(self);
    PyObject *a[MAXP], *mech, *lit, *r, *typ = NULL, *dat = NULL;
    int ok;
    if (st == NULL || parse(&sig_authenticate, args, nargs, kwnames, a, NULL, NULL) < 0)
        return NULL;
    mech = PyObject_CallMethod(a[0], "upper", NULL);
    if (mech == NULL)
        return NULL;
    lit = auth_make_literator(st, a[1]);
    if (lit == NULL || PyObject_SetAttr(self, st->s_literal, lit) < 0) {
        Py_XDECREF(lit);
        Py_DECREF(mech);
        return NULL;
    }
    Py_DECREF(lit);
    r = simple(self, "AUTHENTICATE", &mech, 1, NULL, 0);
    Py_DECREF(mech);
    if (r == NULL || unpack2(r, &typ, &dat) < 0) {
        Py_XDECREF(r);
        return NULL;
    }
    ok = PyObject_RichCompareBool(typ, st->s_OK, Py_EQ);
    if (ok == 0) {
        PyObject *last = PySequence_GetItem(dat, -1), *msg;
        msg = last ? PyObject_CallMethod(last, "decode", "ss", "utf-8", "replace") : NULL;
        Py_XDECREF(last);
        if (msg != NULL) {
            raise_kind(self, st->s_error, msg);
            Py_DECREF(msg);
        }
    }
    if (ok <= 0 || set_state(self, st->s_AUTH) < 0) {
        Py_DECREF(r);
        Py_DECREF(typ);
        Py_DECREF(dat);
        return NULL;
    }
    Py_DECREF(typ);
    Py_DECREF(dat);
    return r;
}

/* close/unselect: state = 'AUTH' in a finally clause. */
static PyObject *
leave_selected(PyObject *self, const char *cmd)
{
    modstate *st = STATE(self);
    PyObject *r, *exc = NULL;
    if (st == NULL)
        return NULL;
    r = simple(self, cmd, NULL, 0, NULL, 0);
    if (r == NULL)
        exc = exc_take();
    if (set_state(self, st->s_AUTH) < 0) {
        if (exc != NULL)
            exc_chain(exc);
        Py_XDECREF(r);
        return NULL;
    }
    if (exc != NULL) {
        exc_give(exc);
        return NULL;
    }
    return r;
}

static PyObject *
m_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return leave_selected(self, "CLOSE");
}

static PyObject *
m_unselect(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return leave_selected(self, "UNSELECT");
}

static PyObject *
m_enable(PyObject *self, PyObject *capability)
{
    modstate *st = STATE(self);
    PyObject *caps, *r, *typ = NULL, *data = NULL, *up;
    int has;
    if (st == NULL)
        return NULL;
    caps = PyObject_GetAttr(self, st->s_capabilities);
    if (caps == NULL)
        return NULL;
    {
        PyObject *key = PyUnicode_FromString("ENABLE");
        has = key ? PySequence_Contains(caps, key) : -1;
        Py_XDECREF(key);
    }
    Py_DECREF(caps);
    if (has < 0)
        return NULL;
    if (!has) {
        /* imaplib raises IMAP4.error itself here, not self.error */
        PyErr_SetString(st->error, "Server does not support ENABLE");
        return NULL;
    }
    r = simple(self, "ENABLE", &capability, 1, NULL, 0);
    if (r == NULL || unpack2(r, &typ, &data) < 0) {
        Py_XDECREF(r);
        return NULL;
    }
    has = PyObject_RichCompareBool(typ, st->s_OK, Py_EQ);
    if (has > 0) {
        up = PyObject_CallMethod(capability, "upper", NULL);
        if (up == NULL) {
            has = -1;
        } else {
            PyObject *key = PyUnicode_FromString("UTF8=ACCEPT");
            has = key ? PySequence_Contains(up, key) : -1;
            Py_XDECREF(key);
            Py_DECREF(up);
        }
        if (has > 0) {
            PyObject *m = call_method(self, st->s_mode_utf8, NULL, 0);
            if (m == NULL)
                has = -1;
            Py_XDECREF(m);
        }
    }
    Py_DECREF(typ);
    Py_DECREF(data);
    if (has < 0) {
        Py_DECREF(r);
        return NULL;
    }
    return r;
}

static PyObject *
m_getquotaroot(PyObject *self, PyObject *mailbox)
{
    modstate *st = STATE(self);
    PyObject *r, *typ = NULL, *dat = NULL, *quota = NULL, *quotaroot = NULL, *res = NULL, *t2, *x;
    if (st == NULL)
        return NULL;
    r = simple(self, "GETQUOTAROOT", &mailbox, 1, NULL, 0);
    if (r == NULL || unpack2(r, &typ, &dat) < 0)
        goto done;
    {
        PyObject *name = PyUnicode_FromString("QUOTA"), *a[3] = {typ, dat, name};
        x = name ? call_method(self, st->s_untagged_response, a, 3) : NULL;
        Py_XDECREF(name);
    }
    if (x == NULL || unpack2(x, &t2, &quota) < 0) {
        Py_XDECREF(x);
        goto done;
    }
    Py_DECREF(x);
    Py_SETREF(typ, t2);
    {
        PyObject *name = PyUnicode_FromString("QUOTAROOT"), *a[3] = {typ, dat, name};
        x = name ? call_method(self, st->s_untagged_response, a, 3) : NULL;
        Py_XDECREF(name);
    }
    if (x == NULL || unpack2(x, &t2, &quotaroot) < 0) {
        Py_XDECREF(x);
        goto done;
    }
    Py_DECREF(x);
    Py_SETREF(typ, t2);
    res = Py_BuildValue("(O[OO])", typ, quotaroot, quota);
done:
    Py_XDECREF(r);
    Py_XDECREF(typ);
    Py_XDECREF(dat);
    Py_XDECREF(quota);
    Py_XDECREF(quotaroot);
    return res;
}

static const sig sig_login = {"login", {"user", "password"}, 2, 2, 0};

static PyObject *
m_login(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    modstate *st = STATE(self);
    PyObject *a[MAXP], *quoted, *r, *typ, *dat;
    PyObject *quote_name;
    int ok;
    if (st == NULL || parse(&sig_login, args, nargs, kwnames, a, NULL, NULL) < 0)
        return NULL;
    quote_name = PyUnicode_FromString("_quote");
    if (quote_name == NULL)
        return NULL;
    quoted = call_method(self, quote_name, &a[1], 1);
    Py_DECREF(quote_name);
    if (quoted == NULL)
        return NULL;
    {
        PyObject *sa[2] = {a[0], quoted};
        r = simple(self, "LOGIN", sa, 2, NULL, 0);
    }
    Py_DECREF(quoted);
    if (r == NULL || unpack2(r, &typ, &dat) < 0) {
        Py_XDECREF(r);
        return NULL;
    }
    ok = PyObject_RichCompareBool(typ, st->s_OK, Py_EQ);
    if (ok == 0) {
        PyObject *last = PySequence_GetItem(dat, -1);
        if (last != NULL) {
            raise_kind(self, st->s_error, last);
            Py_DECREF(last);
        }
    }
    Py_DECREF(typ);
    Py_DECREF(dat);
    if (ok <= 0 || set_state(self, st->s_AUTH) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    return r;
}

static PyObject *
m_login_cram_md5(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const sig s = {"login_cram_md5", {"user", "password"}, 2, 2, 0};
    modstate *st = STATE(self);
    PyObject *a[MAXP], *mech, *cb, *res;
    if (st == NULL || parse(&s, args, nargs, kwnames, a, NULL, NULL) < 0)
        return NULL;
    if (PyObject_SetAttr(self, st->s_user, a[0]) < 0 || PyObject_SetAttr(self, st->s_password, a[1]) < 0)
        return NULL;
    cb = PyObject_GetAttrString(self, "_CRAM_MD5_AUTH");
    if (cb == NULL)
        return NULL;
    mech = PyUnicode_FromString("CRAM-MD5");
    if (mech == NULL) {
        Py_DECREF(cb);
        return NULL;
    }
    {
        PyObject *ca[2] = {mech, cb};
        res = call_method(self, st->s_authenticate, ca, 2);
    }
    Py_DECREF(mech);
    Py_DECREF(cb);
    return res;
}

static PyObject *
m_cram_md5_auth(PyObject *self, PyObject *challenge)
{
    modstate *st = STATE(self);
    PyObject *hmac = NULL, *pwd = NULL, *user = NULL, *h = NULL, *hex = NULL, *res = NULL;
    if (st == NULL)
        return NULL;
    if (!(hmac = PyImport_ImportModule("hmac")) || !(pwd = PyObject_GetAttr(self, st->s_password))
        || !(user = PyObject_GetAttr(self, st->s_user)))
        goto done;
    if (PyUnicode_Check(pwd))
        Py_SETREF(pwd, PyUnicode_AsUTF8String(pwd));
    if (pwd == NULL)
        goto done;
    h = PyObject_CallMethod(hmac, "HMAC", "OOs", pwd, challenge, "md5");
#if PY_VERSION_HEX >= 0x030E0000
    if (h == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear();
        raise_kindf(self, st->s_error, "CRAM-MD5 authentication is not supported");
        goto done;
    }
#endif
    if (h == NULL || !(hex = PyObject_CallMethod(h, "hexdigest", NULL)))
        goto done;
    res = PyUnicode_FromFormat("%S %S", user, hex);
    if (res != NULL && !PyUnicode_Check(user)) {
        /* self.user + " " + ...: let Python raise its own TypeError */
        Py_CLEAR(res);
        {
            PyObject *sp = PyUnicode_FromString(" "), *x = sp ? PyNumber_Add(user, sp) : NULL;
            res = x ? PyNumber_Add(x, hex) : NULL;
            Py_XDECREF(sp);
            Py_XDECREF(x);
        }
    }
done:
    Py_XDECREF(hmac);
    Py_XDECREF(pwd);
    Py_XDECREF(user);
    Py_XDECREF(h);
    Py_XDECREF(hex);
    return res;
}

static PyObject *
m_logout(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *r, *s;
    if (st == NULL || set_state(self, st->s_LOGOUT) < 0)
        return NULL;
    r = simple(self, "LOGOUT", NULL, 0, NULL, 0);
    if (r == NULL)
        return NULL;
    s = call_method(self, st->s_shutdown, NULL, 0);
    if (s == NULL) {
        Py_DECREF(r);
        return NULL;
    }
    Py_DECREF(s);
    return r;
}

static PyObject *
m_noop(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *dv;
    long debug;
    if (st == NULL)
        return NULL;
    dv = PyObject_GetAttr(self, st->s_debug);
    if (dv == NULL)
        return NULL;
    debug = PyLong_AsLong(dv);
    Py_DECREF(dv);
    if (debug == -1 && PyErr_Occurred())
        PyErr_Clear();
    if (debug >= 3) {
        PyObject *ur = PyObject_GetAttr(self, st->s_untagged_responses), *r;
        if (ur == NULL)
            return NULL;
        r = call_method(self, st->s_dump_ur, &ur, 1);
        Py_DECREF(ur);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    return simple(self, "NOOP", NULL, 0, NULL, 0);
}

static PyObject *
m_recent(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    modstate *st = STATE(self);
    PyObject *none_list, *name, *r, *typ, *dat, *last;
    int t;
    if (st == NULL || !(name = PyUnicode_FromString("RECENT")))
        return NULL;
    none_list = Py_BuildValue("[O]", Py_None);
    if (none_list == NULL) {
        Py_DECREF(name);
        return NULL;
    }
    {
        PyObject *a[3] = {st->s_OK, none_list, name};
        r = call_method(self, st->s_untagged_response, a, 3);
    }
    Py_DECREF(none_list);
    if (r == NULL || unpack2(r, &typ, &dat) < 0)
        goto fail_r;
    last = PySequence_GetItem(dat, -1);
    t = last ? PyObject_IsTrue(last) : -1;
    Py_XDECREF(last);
    Py_DECREF(typ);
    Py_DECREF(dat);
    if (t < 0)
        goto fail_r;
    if (t) {
        Py_DECREF(name);
        return r;
    }
    Py_DECREF(r);
    r = call_method(self, st->s_noop, NULL, 0);
    if (r == NULL || unpack2(r, &typ, &dat) < 0)
        goto fail_r;
    Py_DECREF(r);
    {
        PyObject *a[3] = {typ, dat, name};
        r = call_method(self, st->s_untagged_response, a, 3);
    }
    Py_DECREF(typ);
    Py_DECREF(dat);
    Py_DECREF(name);
    return r;
fail_r:
    Py_XDECREF(r);
    Py_DECREF(name);
    return NULL;
}

static PyObject *
m_response(PyObject *self, PyObject *code)
{
    modstate *st = STATE(self);
    PyObject *none_list, *up, *r;
    if (st == NULL)
        return NULL;
    up = PyObject_CallMethod(code, "upper", NULL);
    if (up == NULL)
        return NULL;
    none_list = Py_BuildValue("[O]", Py_None);
    if (none_list == NULL) {
        Py_DECREF(up);
        return NULL;
    }
    {
        PyObject *a[3] = {code, none_list, up};
        r = call_method(self, st->s_untagged_response, a, 3);
    }
    Py_DECREF(none_list);
    Py_DECREF(up);
    return r;
}

static PyObject *
m_search(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const sig s = {"search", {"charset"}, 1, 1, 1};
    modstate *st = STATE(self);
    PyObject *a[MAXP], *const *rest, *r;
    Py_ssize_t nrest;
    int t;
    if (st == NULL || parse(&s, args, nargs, kwnames, a, &rest, &nrest) < 0)
        return NULL;
    t = PyObject_IsTrue(a[0]);
    if (t < 0)
        return NULL;
    if (t) {
        PyObject *utf8 = PyObject_GetAttr(self, st->s_utf8_enabled), *cs;
        int u = utf8 ? PyObject_IsTrue(utf8) : -1;
        Py_XDECREF(utf8);
        if (u < 0)
            return NULL;
        if (u) {
            PyErr_SetString(st->error, "Non-None charset not valid in UTF8 mode");
            return NULL;
        }
        cs = PyUnicode_FromString("CHARSET");
        if (cs == NULL)
            return NULL;
        {
            PyObject *sa[2] = {cs, a[0]};
            r = simple(self, "SEARCH", sa, 2, rest, nrest);
        }
        Py_DECREF(cs);
    } else {
        r = simple(self, "SEARCH", NULL, 0, rest, nrest);
    }
    return untagged(self, r, "SEARCH");
}

static PyObject *
m_select(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const sig s = {"select", {"mailbox", "readonly"}, 2, 0, 0};
    modstate *st = STATE(self);
    PyObject *a[MAXP], *mailbox = NULL, *readonly, *empty, *r = NULL, *typ = NULL, *dat = NULL,
                       *ur = NULL, *res = NULL;
    int ro, ok, has;
    if (st == NULL || parse(&s, args, nargs, kwnames, a, NULL, NULL) < 0)
        return NULL;
    mailbox = a[0] ? Py_NewRef(a[0]) : PyUnicode_FromString("INBOX");
    readonly = a[1] ? a[1] : Py_False;
    if (mailbox == NULL)
        return NULL;
    empty = PyDict_New();
    if (empty == NULL || PyObject_SetAttr(self, st->s_untagged_responses, empty) < 0) {
        Py_XDECREF(empty);
        goto done;
    }
    Py_DECREF(empty);
    if (PyObject_SetAttr(self, st->s_is_readonly, readonly) < 0)
        goto done;
    ro = PyObject_IsTrue(readonly);
    if (ro < 0)
        goto done;
    r = simple(self, ro ? "EXAMINE" : "SELECT", &mailbox, 1, NULL, 0);
    if (r == NULL || unpack2(r, &typ, &dat) < 0)
        goto done;
    ok = PyObject_RichCompareBool(typ, st->s_OK, Py_EQ);
    if (ok < 0)
        goto done;
    if (!ok) {
        if (set_state(self, st->s_AUTH) < 0)
            goto done;
        res = PyTuple_Pack(2, typ, dat);
        goto done;
    }
    if (set_state(self, st->s_SELECTED) < 0 || !(ur = PyObject_GetAttr(self, st->s_untagged_responses)))
        goto done;
    has = PySequence_Contains(ur, st->s_READ_ONLY);
    if (has < 0)
        goto done;
    if (has && !ro) {
        PyObject *dv = PyObject_GetAttr(self, st->s_debug);
        long debug = dv ? PyLong_AsLong(dv) : -1;
        Py_XDECREF(dv);
        if (debug == -1 && PyErr_Occurred())
            PyErr_Clear();
        if (debug >= 1) {
            PyObject *d = call_method(self, st->s_dump_ur, &ur, 1);
            if (d == NULL)
                goto done;
            Py_DECREF(d);
        }
        raise_kindf(self, st->s_readonly, "%S is not writable", mailbox);
        goto done;
    }
    {
        PyObject *none_list = Py_BuildValue("[O]", Py_None), *exists;
        if (none_list == NULL)
            goto done;
        exists = PyObject_CallMethodObjArgs(ur, st->s_get, st->s_EXISTS, none_list, NULL);
        Py_DECREF(none_list);
        if (exists == NULL)
            goto done;
        res = PyTuple_Pack(2, typ, exists);
        Py_DECREF(exists);
    }
done:
    Py_XDECREF(mailbox);
    Py_XDECREF(r);
    Py_XDECREF(typ);
    Py_XDECREF(dat);
    Py_XDECREF(ur);
    return res;
}

static PyObject *
m_sort(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const sig s = {"sort", {"sort_criteria", "charset"}, 2, 2, 1};
    PyObject *a[MAXP], *const *rest, *crit, *r;
    Py_ssize_t nrest;
    if (parse(&s, args, nargs, kwnames, a, &rest, &nrest) < 0)
        return NULL;
    crit = wrap_parens(a[0]);
    if (crit == NULL)
        return NULL;
    {
        PyObject *sa[2] = {crit, a[1]};
        r = simple(self, "SORT", sa, 2, rest, nrest);
    }
    Py_DECREF(crit);
    return untagged(self, r, "SORT");
}

static PyObject *
m_store(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const sig s = {"store", {"message_set", "command", "flags"}, 3, 3, 0};
    PyObject *a[MAXP], *flags, *r;
    if (parse(&s, args, nargs, kwnames, a, NULL, NULL) < 0)
        return NULL;
    flags = wrap_parens(a[2]);
    if (flags == NULL)
        return NULL;
    {
        PyObject *sa[3] = {a[0], a[1], flags};
        r = simple(self, "STORE", sa, 3, NULL, 0);
    }
    Py_DECREF(flags);
    return untagged(self, r, "FETCH");
}

static PyObject *
m_uid(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const sig s = {"uid", {"command"}, 1, 1, 1};
    modstate *st = STATE(self);
    PyObject *a[MAXP], *const *rest, *command = NULL, *commands = NULL, *allowed = NULL,
                       *state = NULL, *r = NULL, *res = NULL;
    Py_ssize_t nrest;
    int has;
    const char *name = "FETCH";
    if (st == NULL || parse(&s, args, nargs, kwnames, a, &rest, &nrest) < 0)
        return NULL;
    if (!(command = PyObject_CallMethod(a[0], "upper", NULL)) || !(commands = ns_get(st, "Commands")))
        goto done;
    has = PySequence_Contains(commands, command);
    if (has < 0)
        goto done;
    if (!has) {
        raise_kindf(self, st->s_error, "Unknown IMAP4 UID command: %S", command);
        goto done;
    }
    if (!(allowed = PyObject_GetItem(commands, command)) || !(state = PyObject_GetAttr(self, st->s_state)))
        goto done;
    has = PySequence_Contains(allowed, state);
    if (has < 0)
        goto done;
    if (!has) {
        PyObject *sep = PyUnicode_FromString(", "), *joined = sep ? PyUnicode_Join(sep, allowed) : NULL;
        Py_XDECREF(sep);
        if (joined != NULL) {
            raise_kindf(self, st->s_error,
                        "command %S illegal in state %S, only allowed in states %S", command, state,
                        joined);
            Py_DECREF(joined);
        }
        goto done;
    }
    r = simple(self, "UID", &command, 1, rest, nrest);
    if (r == NULL)
        goto done;
    if (PyUnicode_Check(command)) {
        if (PyUnicode_CompareWithASCIIString(command, "SEARCH") == 0)
            name = "SEARCH";
        else if (PyUnicode_CompareWithASCIIString(command, "SORT") == 0)
            name = "SORT";
        else if (PyUnicode_CompareWithASCIIString(command, "THREAD") == 0)
            name = "THREAD";
    }
    res = untagged(self, r, name);
    r = NULL;
done:
    Py_XDECREF(command);
    Py_XDECREF(commands);
    Py_XDECREF(allowed);
    Py_XDECREF(state);
    Py_XDECREF(r);
    return res;
}

static PyObject *
m_xatom(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const sig s = {"xatom", {"name"}, 1, 1, 1};
    modstate *st = STATE(self);
    PyObject *a[MAXP], *const *rest, *name, *commands, *res = NULL;
    Py_ssize_t nrest, i;
    int has;
    if (st == NULL || parse(&s, args, nargs, kwnames, a, &rest, &nrest) < 0)
        return NULL;
    if (!(name = PyObject_CallMethod(a[0], "upper", NULL)))
        return NULL;
    if (!(commands = ns_get(st, "Commands"))) {
        Py_DECREF(name);
        return NULL;
    }
    has = PySequence_Contains(commands, name);
    if (has == 0) {
        /* Commands[name] = (self.state,): registered for good, as imaplib does */
        PyObject *state = PyObject_GetAttr(self, st->s_state), *tup;
        tup = state ? PyTuple_Pack(1, state) : NULL;
        Py_XDECREF(state);
        has = tup ? PyObject_SetItem(commands, name, tup) : -1;
        Py_XDECREF(tup);
    }
    Py_DECREF(commands);
    if (has >= 0) {
        PyObject *small[10], **stack = small;
        if (nrest + 2 > 10 && !(stack = PyMem_New(PyObject *, (size_t)nrest + 2))) {
            Py_DECREF(name);
            return PyErr_NoMemory();
        }
        stack[0] = self;
        stack[1] = name;
        for (i = 0; i < nrest; i++)
            stack[i + 2] = rest[i];
        res = PyObject_VectorcallMethod(st->s_simple_command, stack, (size_t)nrest + 2, NULL);
        if (stack != small)
            PyMem_Free(stack);
    }
    Py_DECREF(name);
    return res;
}

#define KW(name, doc)                                                          \
    {#name, (PyCFunction)(void (*)(void))m_##name, METH_FASTCALL | METH_KEYWORDS, doc}

PyMethodDef imap4_command_methods[] = {
    KW(append, "append($self, /, mailbox, flags, date_time, message)\n--\n\n"
               "Append message to named mailbox."),
    KW(authenticate, "authenticate($self, /, mechanism, authobject)\n--\n\n"
                     "Authenticate command - requires response processing."),
    KW(capability, "capability($self, /)\n--\n\nFetch capabilities list from server."),
    KW(check, "check($self, /)\n--\n\nCheckpoint mailbox on server."),
    {"close", m_close, METH_NOARGS, "close($self, /)\n--\n\nClose currently selected mailbox."},
    KW(copy, "copy($self, /, message_set, new_mailbox)\n--\n\n"
             "Copy 'message_set' messages onto end of 'new_mailbox'."),
    KW(create, "create($self, /, mailbox)\n--\n\nCreate new mailbox."),
    KW(delete, "delete($self, /, mailbox)\n--\n\nDelete old mailbox."),
    KW(deleteacl, "deleteacl($self, /, mailbox, who)\n--\n\n"
                  "Delete the ACLs (remove any rights) set for who on mailbox."),
    {"enable", m_enable, METH_O, "enable($self, capability, /)\n--\n\n"
                                 "Send an RFC5161 enable string to the server."},
    KW(expunge, "expunge($self, /)\n--\n\nPermanently remove deleted items from selected mailbox."),
    KW(fetch, "fetch($self, /, message_set, message_parts)\n--\n\nFetch (parts of) messages."),
    KW(getacl, "getacl($self, /, mailbox)\n--\n\nGet the ACLs for a mailbox."),
    KW(getannotation, "getannotation($self, /, mailbox, entry, attribute)\n--\n\nRetrieve ANNOTATIONs."),
    KW(getquota, "getquota($self, /, root)\n--\n\nGet the quota root's resource usage and limits."),
    {"getquotaroot", m_getquotaroot, METH_O, "getquotaroot($self, mailbox, /)\n--\n\n"
                                             "Get the list of quota roots for the named mailbox."},
    KW(list, "list($self, /, directory='\"\"', pattern='*')\n--\n\n"
             "List mailbox names in directory matching pattern."),
    KW(login, "login($self, /, user, password)\n--\n\nIdentify client using plaintext password."),
    KW(login_cram_md5, "login_cram_md5($self, /, user, password)\n--\n\n"
                       "Force use of CRAM-MD5 authentication."),
    {"_CRAM_MD5_AUTH", m_cram_md5_auth, METH_O, "_CRAM_MD5_AUTH($self, challenge, /)\n--\n\n"},
    {"logout", m_logout, METH_NOARGS, "logout($self, /)\n--\n\nShutdown connection to server."},
    KW(lsub, "lsub($self, /, directory='\"\"', pattern='*')\n--\n\n"
             "List 'subscribed' mailbox names in directory matching pattern."),
    KW(myrights, "myrights($self, /, mailbox)\n--\n\nShow my ACLs for a mailbox."),
    KW(namespace, "namespace($self, /)\n--\n\nReturns IMAP namespaces ala rfc2342."),
    {"noop", m_noop, METH_NOARGS, "noop($self, /)\n--\n\nSend NOOP command."},
    KW(partial, "partial($self, /, message_num, message_part, start, length)\n--\n\n"
                "Fetch truncated part of a message."),
    KW(proxyauth, "proxyauth($self, /, user)\n--\n\nAssume authentication as \"user\"."),
    {"recent", m_recent, METH_NOARGS, "recent($self, /)\n--\n\n"
                                      "Return most recent 'RECENT' responses if any exist,\n"
                                      "else prompt server for an update using the 'NOOP' command."},
    KW(rename, "rename($self, /, oldmailbox, newmailbox)\n--\n\nRename old mailbox name to new."),
    {"response", m_response, METH_O, "response($self, code, /)\n--\n\n"
                                     "Return data for response 'code' if received, or None."},
    KW(search, "search($self, charset, /, *criteria)\n--\n\nSearch mailbox for matching messages."),
    KW(select, "select($self, /, mailbox='INBOX', readonly=False)\n--\n\nSelect a mailbox."),
    KW(setacl, "setacl($self, /, mailbox, who, what)\n--\n\nSet a mailbox acl."),
    KW(setannotation, "setannotation($self, /, *args)\n--\n\nSet ANNOTATIONs."),
    KW(setquota, "setquota($self, /, root, limits)\n--\n\nSet the quota root's resource limits."),
    KW(sort, "sort($self, sort_criteria, charset, /, *search_criteria)\n--\n\n"
             "IMAP4rev1 extension SORT command."),
    KW(status, "status($self, /, mailbox, names)\n--\n\nRequest named status conditions for mailbox."),
    KW(store, "store($self, /, message_set, command, flags)\n--\n\n"
              "Alters flag dispositions for messages in mailbox."),
    KW(subscribe, "subscribe($self, /, mailbox)\n--\n\nSubscribe to new mailbox."),
    KW(thread, "thread($self, threading_algorithm, charset, /, *search_criteria)\n--\n\n"
               "IMAPrev1 extension THREAD command."),
    KW(uid, "uid($self, command, /, *args)\n--\n\n"
            "Execute \"command arg ...\" with messages identified by UID."),
    {"unselect", m_unselect, METH_NOARGS, "unselect($self, /)\n--\n\n"
                                          "Free server's resources associated with the selected mailbox."},
    KW(unsubscribe, "unsubscribe($self, /, mailbox)\n--\n\nUnsubscribe from old mailbox."),
    KW(xatom, "xatom($self, name, /, *args)\n--\n\nAllow simple extension commands."),
    {NULL, NULL, 0, NULL},
};
