/* module.c - the _imaplib_c module: init, state, module-level functions.
 *
 * The module carries imaplib's whole module namespace (constants, the
 * Commands table, the regex objects, the imported modules that test
 * suites patch).  The package imaplib_c re-exports it and then calls
 * _bind(globals()) so that the engine reads the tunables tools write
 * (imaplib._MAXLINE = ..., Commands[...] = ..., mock.patch('imaplib.X'))
 * from the namespace users actually see.
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
    if (strcmp(name, "Commands") == 0)
        key = Py_NewRef(st->s_Commands);
    else if (strcmp(name, "_MAXLINE") == 0)
        key = Py_NewRef(st->s_MAXLINE);
    else
        key = PyUnicode_FromString(name);
    if (key == NULL)
        return NULL;
    v = PyDict_GetItemWithError(st->ns, key); /* borrowed */
    Py_DECREF(key);
    if (v == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_AttributeError,
                         "module 'imaplib_c' has no attribute '%s'", name);
        return NULL;
    }
    return Py_NewRef(v);
}

static modstate *
mstate(PyObject *module)
{
    return (modstate *)PyModule_GetState(module);
}

/* ------------------------------------------------------------------ */
/* Int2AP, ParseFlags, Internaldate2tuple, Time2Internaldate            */
/* ------------------------------------------------------------------ */

PyDoc_STRVAR(int2ap__doc__, "Int2AP($module, num, /)\n--\n\n"
                            "Convert integer to A-P string representation.");

static PyObject *
mod_int2ap(PyObject *module, PyObject *num)
{
    /* int(abs(num)), as imaplib: floats truncate, anything with __abs__
     * and __int__ works, everything else raises the same TypeError. */
    PyObject *a = PyNumber_Absolute(num), *n, *res = NULL;
    unsigned char out[16];
    int overflow;
    long long v;
    (void)module;
    if (a == NULL)
        return NULL;
    n = PyNumber_Long(a);
    Py_DECREF(a);
    if (n == NULL)
        return NULL;
    v = PyLong_AsLongLongAndOverflow(n, &overflow);
    if (v == -1 && PyErr_Occurred())
        goto done;
    if (overflow) {
        /* Beyond 64 bits: build the digits with Python arithmetic. */
        PyObject *acc = PyBytes_FromStringAndSize(NULL, 0), *sixteen = PyLong_FromLong(16);
        PyObject *cur = Py_NewRef(n);
        while (acc && sixteen && PyObject_IsTrue(cur)) {
            PyObject *qr = PyNumber_Divmod(cur, sixteen), *digit, *nacc;
            long d;
            if (qr == NULL) {
                Py_CLEAR(acc);
                break;
            }
            d = PyLong_AsLong(PyTuple_GET_ITEM(qr, 1));
            Py_SETREF(cur, Py_NewRef(PyTuple_GET_ITEM(qr, 0)));
            Py_DECREF(qr);
            digit = PyBytes_FromStringAndSize(&"ABCDEFGHIJKLMNOP"[d], 1);
            if (digit == NULL) {
                Py_CLEAR(acc);
                break;
            }
            nacc = PyNumber_Add(digit, acc);
            Py_DECREF(digit);
            Py_SETREF(acc, nacc);
        }
        Py_XDECREF(sixteen);
        Py_DECREF(cur);
        res = acc;
        goto done;
    }
    res = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)imapc_int2ap((uint64_t)v, out));
done:
    Py_DECREF(n);
    return res;
}

/* The regexes accept any bytes-like object; only exact bytes take the C
 * path, the rest goes through the module's regex so that errors (a str
 * argument, say) are imaplib's own. */
static PyObject *
regex_fallback(modstate *st, const char *regex, PyObject *arg)
{
    PyObject *re = ns_get(st, regex), *res;
    if (re == NULL)
        return NULL;
    res = PyObject_CallMethod(re, "match", "(O)", arg);
    Py_DECREF(re);
    return res;
}

PyDoc_STRVAR(parseflags__doc__, "ParseFlags($module, resp, /)\n--\n\n"
                                "Convert IMAP4 flags response to python tuple.");

static PyObject *
mod_parseflags(PyObject *module, PyObject *resp)
{
    imapc_span sp;
    PyObject *flags, *parts, *res;
    if (!PyBytes_CheckExact(resp)) {
        PyObject *mo = regex_fallback(mstate(module), "Flags", resp);
        if (mo == NULL)
            return NULL;
        if (mo == Py_None) {
            Py_DECREF(mo);
            return PyTuple_New(0);
        }
        flags = PyObject_CallMethod(mo, "group", "s", "flags");
        Py_DECREF(mo);
    } else {
        if (!imapc_flags_span((const unsigned char *)PyBytes_AS_STRING(resp),
                              (size_t)PyBytes_GET_SIZE(resp), &sp))
            return PyTuple_New(0);
        flags = PyBytes_FromStringAndSize(PyBytes_AS_STRING(resp) + sp.off, (Py_ssize_t)sp.len);
    }
    if (flags == NULL)
        return NULL;
    parts = PyObject_CallMethod(flags, "split", NULL);
    Py_DECREF(flags);
    if (parts == NULL)
        return NULL;
    res = PySequence_Tuple(parts);
    Py_DECREF(parts);
    return res;
}

PyDoc_STRVAR(idate__doc__, "Internaldate2tuple($module, resp, /)\n--\n\n"
                           "Parse an IMAP4 INTERNALDATE string.\n\n"
                           "Return corresponding local time.  The return value is a\n"
                           "time.struct_time tuple or None if the string has wrong format.");

static PyObject *
mod_internaldate2tuple(PyObject *module, PyObject *resp)
{
    modstate *st = mstate(module);
    imapc_idate d;
    PyObject *timemod, *res;
    int64_t utc;

    if (!PyBytes_CheckExact(resp)) {
        /* Errors (str input) and odd buffer types: the regex decides. */
        PyObject *mo = regex_fallback(st, "InternalDate", resp);
        if (mo == NULL)
            return NULL;
        if (mo == Py_None)
            return mo;
        Py_DECREF(mo);
        resp = PyBytes_FromObject(resp);
        if (resp == NULL)
            return NULL;
    } else {
        Py_INCREF(resp);
    }
    if (!imapc_idate_parse((const unsigned char *)PyBytes_AS_STRING(resp),
                           (size_t)PyBytes_GET_SIZE(resp), &d)) {
        Py_DECREF(resp);
        Py_RETURN_NONE;
    }
    if (d.mon == 0) { /* Mon2num[b'Foo'] */
        PyObject *key = PyBytes_FromStringAndSize(PyBytes_AS_STRING(resp) + d.mon_off, 3);
        if (key != NULL) {
            PyErr_SetObject(PyExc_KeyError, key);
            Py_DECREF(key);
        }
        Py_DECREF(resp);
        return NULL;
    }
    Py_DECREF(resp);
    if (d.year < 1) {
        /* calendar.timegm rejects year 0 through datetime.date. */
        PyObject *cal = ns_get(st, "calendar"), *r;
        if (cal == NULL)
            return NULL;
        r = PyObject_CallMethod(cal, "timegm", "((iiiiiiiii))", d.year, d.mon, d.day,
                                d.hour, d.min, d.sec, -1, -1, -1);
        Py_DECREF(cal);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    utc = imapc_timegm(d.year, d.mon, d.day, d.hour, d.min, d.sec)
          - (int64_t)d.zone_sign * ((int64_t)d.zone_h * 60 + d.zone_m) * 60;
    timemod = ns_get(st, "time");
    if (timemod == NULL)
        return NULL;
    res = PyObject_CallMethod(timemod, "localtime", "L", (long long)utc);
    Py_DECREF(timemod);
    return res;
}

/* Time2Internaldate, step by step as imaplib does it, with the datetime
 * and time modules looked up in the namespace at call time. */
PyObject *
time2internaldate(modstate *st, PyObject *dt_in)
{
    PyObject *datetime_cls = NULL, *timezone_cls = NULL, *timedelta_cls = NULL,
             *timemod = NULL, *dt = NULL, *res = NULL, *fmt = NULL;

    if (!(datetime_cls = ns_get(st, "datetime")) || !(timezone_cls = ns_get(st, "timezone"))
        || !(timedelta_cls = ns_get(st, "timedelta")) || !(timemod = ns_get(st, "time")))
        goto done;

    if (PyLong_Check(dt_in) || PyFloat_Check(dt_in)) {
        PyObject *utc = PyObject_GetAttrString(timezone_cls, "utc"), *d;
        if (utc == NULL)
            goto done;
        d = PyObject_CallMethod(datetime_cls, "fromtimestamp", "OO", dt_in, utc);
        Py_DECREF(utc);
        if (d == NULL)
            goto done;
        dt = PyObject_CallMethod(d, "astimezone", NULL);
        Py_DECREF(d);
    } else if (PyTuple_Check(dt_in)) {
        PyObject *gmtoff = PyObject_GetAttrString(dt_in, "tm_gmtoff"), *delta, *tz, *args,
                 *kw, *head;
        if (gmtoff == NULL) {
            PyObject *daylight;
            int is_dl;
            if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                goto done;
            PyErr_Clear();
            daylight = PyObject_GetAttrString(timemod, "daylight");
            if (daylight == NULL)
                goto done;
            is_dl = PyObject_IsTrue(daylight);
            Py_DECREF(daylight);
            if (is_dl < 0)
                goto done;
            if (is_dl) {
                PyObject *dst = PySequence_GetItem(dt_in, 8), *pair, *neg;
                long v;
                if (dst == NULL)
                    goto done;
                v = PyLong_AsLong(dst);
                if (v == -1 && PyErr_Occurred())
                    PyErr_Clear();
                if (v == -1 && PyLong_Check(dst)) {
                    PyObject *mk = PyObject_CallMethod(timemod, "mktime", "(O)", dt_in), *lt;
                    Py_DECREF(dst);
                    if (mk == NULL)
                        goto done;
                    lt = PyObject_CallMethod(timemod, "localtime", "(O)", mk);
                    Py_DECREF(mk);
                    if (lt == NULL)
                        goto done;
                    dst = PySequence_GetItem(lt, 8);
                    Py_DECREF(lt);
                    if (dst == NULL)
                        goto done;
                }
                pair = Py_BuildValue("(NN)", PyObject_GetAttrString(timemod, "timezone"),
                                     PyObject_GetAttrString(timemod, "altzone"));
                if (pair == NULL) {
                    Py_DECREF(dst);
                    goto done;
                }
                neg = PyObject_GetItem(pair, dst);
                Py_DECREF(pair);
                Py_DECREF(dst);
                if (neg == NULL)
                    goto done;
                gmtoff = PyNumber_Negative(neg);
                Py_DECREF(neg);
            } else {
                PyObject *tzv = PyObject_GetAttrString(timemod, "timezone");
                if (tzv == NULL)
                    goto done;
                gmtoff = PyNumber_Negative(tzv);
                Py_DECREF(tzv);
            }
            if (gmtoff == NULL)
                goto done;
        }
        kw = Py_BuildValue("{s:N}", "seconds", gmtoff);
        if (kw == NULL)
            goto done;
        args = PyTuple_New(0);
        delta = args ? PyObject_Call(timedelta_cls, args, kw) : NULL;
        Py_XDECREF(args);
        Py_DECREF(kw);
        if (delta == NULL)
            goto done;
        tz = PyObject_CallOneArg(timezone_cls, delta);
        Py_DECREF(delta);
        if (tz == NULL)
            goto done;
        head = PySequence_GetSlice(dt_in, 0, 6);
        args = head ? PySequence_Tuple(head) : NULL;
        Py_XDECREF(head);
        kw = args ? Py_BuildValue("{s:N}", "tzinfo", tz) : NULL;
        if (kw == NULL) {
            if (args == NULL)
                Py_DECREF(tz);
            Py_XDECREF(args);
            goto done;
        }
        dt = PyObject_Call(datetime_cls, args, kw);
        Py_DECREF(args);
        Py_DECREF(kw);
    } else {
        int isdt = PyObject_IsInstance(dt_in, datetime_cls);
        if (isdt < 0)
            goto done;
        if (isdt) {
            PyObject *tzinfo = PyObject_GetAttrString(dt_in, "tzinfo");
            if (tzinfo == NULL)
                goto done;
            Py_DECREF(tzinfo);
            if (tzinfo == Py_None) {
                PyErr_SetString(PyExc_ValueError, "date_time must be aware");
                goto done;
            }
            dt = Py_NewRef(dt_in);
        } else if (PyUnicode_Check(dt_in)) {
            Py_ssize_t n;
            if (PyUnicode_READY(dt_in) < 0)
                goto done;
            n = PyUnicode_GET_LENGTH(dt_in);
            if (n == 0) {
                PyErr_SetString(PyExc_IndexError, "string index out of range");
                goto done;
            }
            if (PyUnicode_READ_CHAR(dt_in, 0) == '"' && PyUnicode_READ_CHAR(dt_in, n - 1) == '"') {
                res = Py_NewRef(dt_in);
                goto done;
            }
            PyErr_SetString(PyExc_ValueError, "date_time not of a known type");
            goto done;
        } else {
            PyErr_SetString(PyExc_ValueError, "date_time not of a known type");
            goto done;
        }
    }
    if (dt == NULL)
        goto done;
    {
        PyObject *mon = PyObject_GetAttrString(dt, "month");
        long m;
        if (mon == NULL)
            goto done;
        m = PyLong_AsLong(mon);
        Py_DECREF(mon);
        if (m == -1 && PyErr_Occurred())
            goto done;
        fmt = PyUnicode_FromFormat("\"%%d-%s-%%Y %%H:%%M:%%S %%z\"", imapc_month_name((int)m));
        if (fmt == NULL)
            goto done;
        res = PyObject_CallMethod(dt, "strftime", "(O)", fmt);
    }
done:
    Py_XDECREF(fmt);
    Py_XDECREF(dt);
    Py_XDECREF(datetime_cls);
    Py_XDECREF(timezone_cls);
    Py_XDECREF(timedelta_cls);
    Py_XDECREF(timemod);
    return res;
}

PyDoc_STRVAR(t2i__doc__,
             "Time2Internaldate($module, date_time, /)\n--\n\n"
             "Convert date_time to IMAP4 INTERNALDATE representation.\n\n"
             "Return string in form: '\"DD-Mmm-YYYY HH:MM:SS +HHMM\"'.");

static PyObject *
mod_time2internaldate(PyObject *module, PyObject *dt)
{
    return time2internaldate(mstate(module), dt);
}

PyDoc_STRVAR(bind__doc__, "_bind($module, namespace, /)\n--\n\n"
                          "Read Commands, _MAXLINE, Debug, ... from `namespace` from now on.");

static PyObject *
mod_bind(PyObject *module, PyObject *ns)
{
    if (!PyDict_Check(ns)) {
        PyErr_SetString(PyExc_TypeError, "_bind() needs a dict");
        return NULL;
    }
    Py_XSETREF(mstate(module)->ns, Py_NewRef(ns));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"Int2AP", mod_int2ap, METH_O, int2ap__doc__},
    {"ParseFlags", mod_parseflags, METH_O, parseflags__doc__},
    {"Internaldate2tuple", mod_internaldate2tuple, METH_O, idate__doc__},
    {"Time2Internaldate", mod_time2internaldate, METH_O, t2i__doc__},
    {"_bind", mod_bind, METH_O, bind__doc__},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ */
/* Module exec                                                         */
/* ------------------------------------------------------------------ */

/* imaplib's Commands table (3.11; 3.8 lacked UNSELECT, 3.14 adds IDLE). */
static const struct {
    const char *name;
    const char *states;
} command_table[] = {
    {"APPEND", "AUTH SELECTED"},
    {"AUTHENTICATE", "NONAUTH"},
    {"CAPABILITY", "NONAUTH AUTH SELECTED LOGOUT"},
    {"CHECK", "SELECTED"},
    {"CLOSE", "SELECTED"},
    {"COPY", "SELECTED"},
    {"CREATE", "AUTH SELECTED"},
    {"DELETE", "AUTH SELECTED"},
    {"DELETEACL", "AUTH SELECTED"},
    {"ENABLE", "AUTH"},
    {"EXAMINE", "AUTH SELECTED"},
    {"EXPUNGE", "SELECTED"},
    {"FETCH", "SELECTED"},
    {"GETACL", "AUTH SELECTED"},
    {"GETANNOTATION", "AUTH SELECTED"},
    {"GETQUOTA", "AUTH SELECTED"},
    {"GETQUOTAROOT", "AUTH SELECTED"},
#if PY_VERSION_HEX >= 0x030E0000
    {"IDLE", "AUTH SELECTED"},
#endif
    {"MYRIGHTS", "AUTH SELECTED"},
    {"LIST", "AUTH SELECTED"},
    {"LOGIN", "NONAUTH"},
    {"LOGOUT", "NONAUTH AUTH SELECTED LOGOUT"},
    {"LSUB", "AUTH SELECTED"},
    {"MOVE", "SELECTED"},
    {"NAMESPACE", "AUTH SELECTED"},
    {"NOOP", "NONAUTH AUTH SELECTED LOGOUT"},
    {"PARTIAL", "SELECTED"},
    {"PROXYAUTH", "AUTH"},
    {"RENAME", "AUTH SELECTED"},
    {"SEARCH", "SELECTED"},
    {"SELECT", "AUTH SELECTED"},
    {"SETACL", "AUTH SELECTED"},
    {"SETANNOTATION", "AUTH SELECTED"},
    {"SETQUOTA", "AUTH SELECTED"},
    {"SORT", "SELECTED"},
    {"STARTTLS", "NONAUTH"},
    {"STATUS", "AUTH SELECTED"},
    {"STORE", "SELECTED"},
    {"SUBSCRIBE", "AUTH SELECTED"},
    {"THREAD", "SELECTED"},
    {"UID", "SELECTED"},
    {"UNSUBSCRIBE", "AUTH SELECTED"},
    {"UNSELECT", "SELECTED"},
};

static PyObject *
make_commands(void)
{
    PyObject *d = PyDict_New();
    size_t i;
    if (d == NULL)
        return NULL;
    for (i = 0; i < sizeof(command_table) / sizeof(command_table[0]); i++) {
        PyObject *s = PyUnicode_FromString(command_table[i].states), *parts, *tup;
        if (s == NULL)
            goto error;
        parts = PyUnicode_Split(s, NULL, -1);
        Py_DECREF(s);
        if (parts == NULL)
            goto error;
        tup = PyList_AsTuple(parts);
        Py_DECREF(parts);
        if (tup == NULL || PyDict_SetItemString(d, command_table[i].name, tup) < 0) {
            Py_XDECREF(tup);
            goto error;
        }
        Py_DECREF(tup);
    }
    return d;
error:
    Py_DECREF(d);
    return NULL;
}

/* Run a few lines of Python in the module namespace: the imports and
 * regex objects imaplib exposes are data, not logic, and this keeps their
 * text identical to imaplib's. */
static const char module_prelude[] =
    "import binascii, errno, random, re, socket, subprocess, sys, time, calendar\n"
    "from datetime import datetime, timezone, timedelta\n"
    "from io import DEFAULT_BUFFER_SIZE\n"
    "try:\n"
    "    import ssl\n"
    "    HAVE_SSL = True\n"
    "except ImportError:\n"
    "    HAVE_SSL = False\n"
    "Continuation = re.compile(br'\\+( (?P<data>.*))?')\n"
    "Flags = re.compile(br'.*FLAGS \\((?P<flags>[^\\)]*)\\)')\n"
    "InternalDate = re.compile(br'.*INTERNALDATE \"'\n"
    "    br'(?P<day>[ 0123][0-9])-(?P<mon>[A-Z][a-z][a-z])-(?P<year>[0-9][0-9][0-9][0-9])'\n"
    "    br' (?P<hour>[0-9][0-9]):(?P<min>[0-9][0-9]):(?P<sec>[0-9][0-9])'\n"
    "    br' (?P<zonen>[-+])(?P<zoneh>[0-9][0-9])(?P<zonem>[0-9][0-9])'\n"
    "    br'\"')\n"
    "Literal = re.compile(br'.*{(?P<size>\\d+)}$', re.ASCII)\n"
    "MapCRLF = re.compile(br'\\r\\n|\\r|\\n')\n"
    "Response_code = re.compile(br'\\[(?P<type>[A-Z-]+)( (?P<data>.*))?\\]')\n"
    "Untagged_response = re.compile(br'\\* (?P<type>[A-Z-]+)( (?P<data>.*))?')\n"
    "Untagged_status = re.compile(\n"
    "    br'\\* (?P<data>\\d+) (?P<type>[A-Z-]+)( (?P<data2>.*))?', re.ASCII)\n"
    "_Literal = br'.*{(?P<size>\\d+)}$'\n"
    "_Untagged_status = br'\\* (?P<data>\\d+) (?P<type>[A-Z-]+)( (?P<data2>.*))?'\n"
    "Months = ' Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')\n"
    "Mon2num = {s.encode():n+1 for n, s in enumerate(Months[1:])}\n";

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
    INTERN(s_state, "state");
    INTERN(s_untagged_responses, "untagged_responses");
    INTERN(s_tagged_commands, "tagged_commands");
    INTERN(s_literal, "literal");
    INTERN(s_continuation_response, "continuation_response");
    INTERN(s_is_readonly, "is_readonly");
    INTERN(s_tagnum, "tagnum");
    INTERN(s_tagpre, "tagpre");
    INTERN(s_tagre, "tagre");
    INTERN(s_debug, "debug");
    INTERN(s_encoding, "_encoding");
    INTERN(s_sock, "sock");
    INTERN(s_file, "file");
    INTERN(s_utf8_enabled, "utf8_enabled");
    INTERN(s_capabilities, "capabilities");
    INTERN(s_welcome, "welcome");
    INTERN(s_host, "host");
    INTERN(s_port, "port");
    INTERN(s_Literal, "Literal");
    INTERN(s_Untagged_status, "Untagged_status");
    INTERN(s_mo, "mo");
    INTERN(s_tls_established, "_tls_established");
    INTERN(s_pattern, "pattern");
    INTERN(s_error, "error");
    INTERN(s_abort, "abort");
    INTERN(s_readonly, "readonly");
    INTERN(s_open, "open");
    INTERN(s_shutdown, "shutdown");
    INTERN(s_create_socket, "_create_socket");
    INTERN(s_connect, "_connect");
    INTERN(s_command, "_command");
    INTERN(s_command_complete, "_command_complete");
    INTERN(s_simple_command, "_simple_command");
    INTERN(s_untagged_response, "_untagged_response");
    INTERN(s_get_capabilities, "_get_capabilities");
    INTERN(s_capability, "capability");
    INTERN(s_mode_ascii, "_mode_ascii");
    INTERN(s_mode_utf8, "_mode_utf8");
    INTERN(s_logout, "logout");
    INTERN(s_dump_ur, "_dump_ur");
    INTERN(s_recv_into, "recv_into");
    INTERN(s_sendall, "sendall");
    INTERN(s_close, "close");
    INTERN(s_raw, "raw");
    INTERN(s__sock, "_sock");
    INTERN(s_noop, "noop");
    INTERN(s_authenticate, "authenticate");
    INTERN(s_user, "user");
    INTERN(s_password, "password");
    INTERN(s_release, "release");
    INTERN(s_PROTOCOL_VERSION, "PROTOCOL_VERSION");
    INTERN(s_ssl_context, "ssl_context");
    INTERN(s_wrap_socket, "wrap_socket");
    INTERN(s_process, "process");
    INTERN(s_readfile, "readfile");
    INTERN(s_writefile, "writefile");
    INTERN(s_command_attr, "command");
    INTERN(s_flush, "flush");
    INTERN(s_write, "write");
    INTERN(s_wait, "wait");
    INTERN(s_OK, "OK");
    INTERN(s_NO, "NO");
    INTERN(s_BAD, "BAD");
    INTERN(s_BYE, "BYE");
    INTERN(s_READ_ONLY, "READ-ONLY");
    INTERN(s_PREAUTH, "PREAUTH");
    INTERN(s_EXISTS, "EXISTS");
    INTERN(s_empty_str, "");
    INTERN(s_ascii, "ascii");
    INTERN(s_utf_8, "utf-8");
    INTERN(s_LOGOUT, "LOGOUT");
    INTERN(s_AUTH, "AUTH");
    INTERN(s_SELECTED, "SELECTED");
    INTERN(s_NONAUTH, "NONAUTH");
    INTERN(s_get, "get");
    INTERN(s_pop, "pop");
    INTERN(s_logging, "logging");
    INTERN(s_Commands, "Commands");
    INTERN(s_MAXLINE, "_MAXLINE");
    INTERN(s_log, "log");
    if (!(st->b_empty = PyBytes_FromStringAndSize("", 0))
        || !(st->b_crlf = PyBytes_FromStringAndSize("\r\n", 2))
        || !(st->b_space = PyBytes_FromStringAndSize(" ", 1)))
        return -1;
    return 0;
}

int imap4_add_type(PyObject *module, modstate *st);

static int
module_exec(PyObject *module)
{
    modstate *st = mstate(module);
    PyObject *d = PyModule_GetDict(module), *v, *builtins;

    if (intern_names(st) < 0)
        return -1;
    st->ns = Py_NewRef(d);

    builtins = PyEval_GetBuiltins();
    if (PyDict_SetItemString(d, "__builtins__", builtins) < 0)
        return -1;
    v = PyRun_String(module_prelude, Py_file_input, d, d);
    if (v == NULL)
        return -1;
    Py_DECREF(v);

#if PY_VERSION_HEX >= 0x030E0000
#define IMAPLIB_VERSION "2.60" /* imaplib's own version string on 3.14 */
#else
#define IMAPLIB_VERSION "2.58"
#endif
    if (PyModule_AddStringConstant(module, "__version__", IMAPLIB_VERSION) < 0
        || PyModule_AddIntConstant(module, "Debug", 0) < 0
        || PyModule_AddIntConstant(module, "IMAP4_PORT", 143) < 0
        || PyModule_AddIntConstant(module, "IMAP4_SSL_PORT", 993) < 0
        || PyModule_AddIntConstant(module, "_MAXLINE", 1000000) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "CRLF", st->b_crlf) < 0)
        return -1;
    v = Py_BuildValue("(ss)", "IMAP4REV1", "IMAP4");
    if (v == NULL || PyModule_AddObjectRef(module, "AllowedVersions", v) < 0) {
        Py_XDECREF(v);
        return -1;
    }
    Py_DECREF(v);
    v = make_commands();
    if (v == NULL || PyModule_AddObjectRef(module, "Commands", v) < 0) {
        Py_XDECREF(v);
        return -1;
    }
    Py_DECREF(v);

    if (guard_add_type(module, st) < 0 || imap4_add_type(module, st) < 0 || auth_add_type(module, st) < 0
        || tls_add_types(module, st) < 0 || stream_add_type(module, st) < 0)
        return -1;

    v = Py_BuildValue("[ssssss]", "IMAP4", "IMAP4_stream", "Internaldate2tuple", "Int2AP",
                      "ParseFlags", "Time2Internaldate");
    if (v == NULL)
        return -1;
    if (st->imap4_ssl_type != NULL) {
        PyObject *s = PyUnicode_FromString("IMAP4_SSL");
        if (s == NULL || PyList_Append(v, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(v);
            return -1;
        }
        Py_DECREF(s);
    }
    if (PyModule_AddObjectRef(module, "__all__", v) < 0) {
        Py_DECREF(v);
        return -1;
    }
    Py_DECREF(v);
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    modstate *st = mstate(module);
    Py_VISIT(st->imap4_type);
    Py_VISIT(st->imap4_ssl_type);
    Py_VISIT(st->imap4_stream_type);
    Py_VISIT(st->auth_type);
    Py_VISIT(st->guarded_type);
    Py_VISIT(st->error);
    Py_VISIT(st->abort);
    Py_VISIT(st->readonly);
    Py_VISIT(st->ns);
    for (int i = 0; i < OV_COUNT; i++)
        Py_VISIT(st->own_descr[i]);
    return 0;
}

static int
module_clear(PyObject *module)
{
    modstate *st = mstate(module);
    PyObject **p;
    Py_CLEAR(st->imap4_type);
    Py_CLEAR(st->imap4_ssl_type);
    Py_CLEAR(st->imap4_stream_type);
    Py_CLEAR(st->auth_type);
    Py_CLEAR(st->guarded_type);
    Py_CLEAR(st->error);
    Py_CLEAR(st->abort);
    Py_CLEAR(st->readonly);
    Py_CLEAR(st->ns);
    for (int i = 0; i < OV_COUNT; i++) {
        Py_CLEAR(st->own_descr[i]);
        Py_CLEAR(st->names[i]);
    }
    /* Every interned name from s_state to b_space is a PyObject* field. */
    for (p = &st->s_state; p <= &st->b_space; p++)
        Py_CLEAR(*p);
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

PyModuleDef imaplib_c_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "imaplib_c._imaplib_c",
    .m_doc = "IMAP4 client: CPython's imaplib on a C protocol engine.",
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
