/* imap4_command.c - sending commands: _command, _command_complete,
 * _simple_command, and the line-end helper of APPEND.
 *
 * These restate imaplib's methods step for step; they are the hot half of
 * every command (APPEND of many small messages spends most of its time
 * here).  imaplib_c/_rules.py runs them side by side with the running
 * interpreter's own methods on a battery of cases at import, and the
 * package puts the interpreter's methods back if anything differs (a
 * future CPython release that changes _command).  Rare paths hand over to
 * the interpreter's method: a literal in UTF-8 mode, whose framing changed
 * between releases, and arguments of other types than imaplib's commands
 * pass (how they fail changed too).  Every hook imaplib calls through `self` (_new_tag,
 * send, _get_response, _get_tagged_response, _check_bye, _mesg, _log) is
 * called through Python when it is not the class's own.
 */
#include "command.h"

#include "context.h"
#include "engine.h"
#include "state.h"
#include "util.h"
#include "response.h"
#include "store.h"
#include "imapc_cmd.h"

#include <string.h>

/* Below this size a literal and its CRLF go out in one write when the
 * engine sends for imaplib's send(): two writes cost a second syscall and,
 * with Nagle on, a delayed-ACK stall. */
#define JOIN_LITERAL_MAX ((Py_ssize_t)8 << 20)

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* May the engine do send()'s work itself (audit event + sock.sendall)? */
static int
own_send(engine *e)
{
    return e->st->plain_send && !OV(e, send);
}

static int
sendall(engine *e, PyObject *data)
{
    PyObject *sock = self_attr(e->self, e->st->s_sock), *r;
    if (sock == NULL)
        return -1;
    r = PyObject_CallMethodOneArg(sock, e->st->s_sendall, data);
    Py_DECREF(sock);
    CALLED_OUT(e);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* self.send(data) */
static int
send_data(engine *e, PyObject *data)
{
    PyObject *r;
    if (own_send(e)) {
        if (PySys_Audit("imaplib.send", "OO", (PyObject *)e->self, data) < 0)
            return -1;
        return sendall(e, data);
    }
    r = call_method((PyObject *)e->self, e->st->names[OV_send], &data, 1);
    CALLED_OUT(e);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* self.send(literal); self.send(CRLF): one write when the engine sends. */
static int
send_literal(engine *e, PyObject *literal)
{
    Py_buffer view;
    PyObject *joined;
    int r;
    if (!own_send(e) || !PyBytes_CheckExact(literal)
        || PyBytes_GET_SIZE(literal) > JOIN_LITERAL_MAX)
        return send_data(e, literal) < 0 ? -1 : send_data(e, e->st->b_crlf);
    if (PySys_Audit("imaplib.send", "OO", (PyObject *)e->self, literal) < 0
        || PySys_Audit("imaplib.send", "OO", (PyObject *)e->self, e->st->b_crlf) < 0)
        return -1;
    if (PyObject_GetBuffer(literal, &view, PyBUF_SIMPLE) < 0)
        return -1;
    joined = PyBytes_FromStringAndSize(NULL, view.len + 2);
    if (joined != NULL) {
        memcpy(PyBytes_AS_STRING(joined), view.buf, (size_t)view.len);
        memcpy(PyBytes_AS_STRING(joined) + view.len, "\r\n", 2);
    }
    PyBuffer_Release(&view);
    if (joined == NULL)
        return -1;
    r = sendall(e, joined);
    Py_DECREF(joined);
    return r;
}

/* except OSError as val: raise self.abort('socket error: %s' % val) */
static void
wrap_oserror(engine *e)
{
    PyObject *exc;
    if (!PyErr_ExceptionMatches(PyExc_OSError))
        return;
    exc = exc_take();
    raise_kindf((PyObject *)e->self, e->st->s_abort, "socket error: %S", exc);
    exc_chain(exc);
}

/* ------------------------------------------------------------------ */
/* Building the command line                                           */
/* ------------------------------------------------------------------ */

/* bytes(s, encoding); imaplib's two encodings go straight to their codecs
 * (same result, same UnicodeEncodeError). */
static PyObject *
encode_str(PyObject *s, PyObject *enc)
{
    if (PyUnicode_CheckExact(s) && PyUnicode_CheckExact(enc)) {
        if (PyUnicode_CompareWithASCIIString(enc, "ascii") == 0)
            return PyUnicode_AsASCIIString(s);
        if (PyUnicode_CompareWithASCIIString(enc, "utf-8") == 0)
            return PyUnicode_AsUTF8String(s);
    }
    return PyObject_CallFunctionObjArgs((PyObject *)&PyBytes_Type, s, enc, NULL);
}

/* NUL, CR or LF in a str or bytes-like argument would end the command line
 * early (CVE-2025-15366): refused before a tag is taken, so nothing is left
 * in tagged_commands.  The message is imaplib_c/_classes.py's
 * CONTROL_MESSAGE, which the same check in front of the interpreter's
 * _command raises. */
static int
refuse_control_chars(PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t i;
    for (i = 0; i < nargs; i++) {
        PyObject *arg = args[i];
        int bad = 0;
        if (PyUnicode_Check(arg)) {
            Py_ssize_t j, n = PyUnicode_GET_LENGTH(arg);
            int kind = PyUnicode_KIND(arg);
            const void *d = PyUnicode_DATA(arg);
            for (j = 0; j < n && !bad; j++) {
                Py_UCS4 c = PyUnicode_READ(kind, d, j);
                bad = c == '\r' || c == '\n' || c == 0;
            }
        } else if (PyBytes_Check(arg) || PyByteArray_Check(arg)) {
            Py_buffer view;
            if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
                return -1;
            bad = imapc_arg_ctl(view.buf, (size_t)view.len) >= 0;
            PyBuffer_Release(&view);
        }
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "Control characters not allowed in commands");
            return -1;
        }
    }
    return 0;
}

/* if self.state not in Commands[name]: self.literal = None; raise ... */
static int
check_state(engine *e, PyObject *name)
{
    PyObject *self = (PyObject *)e->self, *commands, *allowed = NULL, *state = NULL, *sep,
             *joined;
    int has = -1;
    commands = ns_get(e->st, "Commands");
    if (commands == NULL || !(allowed = PyObject_GetItem(commands, name))
        || !(state = self_attr(e->self, e->st->s_state)))
        goto out;
    has = PySequence_Contains(allowed, state);
    if (has != 0)
        goto out;
    has = -1;
    if (PyObject_SetAttr(self, e->st->s_literal, Py_None) < 0 || !(sep = PyUnicode_FromString(", ")))
        goto out;
    joined = PyUnicode_Join(sep, allowed);
    Py_DECREF(sep);
    if (joined != NULL) {
        raise_kindf(self, e->st->s_error, "command %S illegal in state %S, only allowed in states %S",
                    name, state, joined);
        Py_DECREF(joined);
    }
out:
    Py_XDECREF(commands);
    Py_XDECREF(allowed);
    Py_XDECREF(state);
    return has < 0 ? -1 : 0;
}

/* Drop stale OK/NO/BAD; refuse if the mailbox turned READ-ONLY. */
static int
check_untagged(engine *e)
{
    modstate *st = e->st;
    PyObject *drop[3] = {st->s_OK, st->s_NO, st->s_BAD}, *ro;
    int i, has, t;
    if (engine_ensure_fresh(e) < 0)
        return -1;
    for (i = 0; i < 3; i++) {
        has = PySequence_Contains(e->ur, drop[i]);
        if (has < 0 || (has && PyObject_DelItem(e->ur, drop[i]) < 0))
            return -1;
    }
    has = PySequence_Contains(e->ur, st->s_READ_ONLY);
    if (has <= 0)
        return has;
    ro = PyObject_GetAttr((PyObject *)e->self, st->s_is_readonly);
    t = ro ? PyObject_IsTrue(ro) : -1;
    Py_XDECREF(ro);
    if (t == 0)
        raise_kindf((PyObject *)e->self, st->s_readonly, "mailbox status changed to READ-ONLY");
    return t > 0 ? 0 : -1;
}

/* A command line of up to this many pieces (tag, name, arguments) keeps
 * them on the stack; a longer one in a heap array. */
#define LINE_PIECES 8

/* bytes(arg, enc) for a str, else a new reference to the bytes or
 * bytearray itself (usual_args() admitted only those and None). */
static PyObject *
line_piece(PyObject *arg, PyObject *enc)
{
    return PyUnicode_Check(arg) ? encode_str(arg, enc) : Py_NewRef(arg);
}

static Py_ssize_t
piece_size(PyObject *b)
{
    return PyBytes_Check(b) ? PyBytes_GET_SIZE(b) : PyByteArray_GET_SIZE(b);
}

static const char *
piece_data(PyObject *b)
{
    return PyBytes_Check(b) ? PyBytes_AS_STRING(b) : PyByteArray_AS_STRING(b);
}

/* v in decimal, as str(v) writes it, into buf (24 bytes); the length.
 * (snprintf's format parsing was a tenth of the command line's cost.) */
static int
decimal(char *buf, long long v)
{
    char tmp[24];
    unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = 0, k = 0;
    do {
        tmp[n++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m != 0);
    if (v < 0)
        buf[k++] = '-';
    while (n > 0)
        buf[k++] = tmp[--n];
    return k;
}

/* Is `enc` one of imaplib's encodings, in which ' {N}' is its ASCII bytes? */
static int
ascii_compatible(PyObject *enc)
{
    return PyUnicode_CheckExact(enc)
           && (PyUnicode_CompareWithASCIIString(enc, "ascii") == 0
               || PyUnicode_CompareWithASCIIString(enc, "utf-8") == 0);
}

/* bytes(' {%s}' % len(literal), enc): written to buf (32 bytes) with its
 * length in *alen, or for another encoding made as *ann. */
static int
announce_literal(PyObject *literal, PyObject *enc, char *buf, PyObject **ann, Py_ssize_t *alen)
{
    Py_ssize_t n = PyObject_Length(literal);
    PyObject *text;
    if (n < 0)
        return -1;
    if (ascii_compatible(enc)) {
        buf[0] = ' ';
        buf[1] = '{';
        *alen = 2 + decimal(buf + 2, (long long)n);
        buf[(*alen)++] = '}';
        return 0;
    }
    if (!(text = PyUnicode_FromFormat(" {%zd}", n)))
        return -1;
    *ann = encode_str(text, enc); /* bytes, as every encode_str() result */
    Py_DECREF(text);
    if (*ann == NULL)
        return -1;
    *alen = PyBytes_GET_SIZE(*ann);
    return 0;
}

/* The line imaplib's _command builds, with its CRLF:
 *   tag + b' ' + name + (b' ' + arg for each arg not None)
 *   [+ bytes(' {%s}' % len(literal), _encoding)] + CRLF
 * built in one allocation.  `literal` is self.literal: when it is not
 * None, self.literal is set to None after the arguments are encoded, as
 * imaplib does, and a literal that is not a literator is announced.  The
 * pieces are encoded first, in imaplib's order, so the same
 * UnicodeEncodeError comes first; nothing runs Python code between
 * sizing and copying, so a bytearray cannot change size meanwhile. */
static PyObject *
command_line(engine *e, PyObject *tag, PyObject *name, PyObject *const *args, Py_ssize_t nargs,
             PyObject *enc, PyObject *literal)
{
    PyObject *local[LINE_PIECES], **pieces = local, *data = NULL, *ann = NULL;
    char buf[32];
    const char *announce = buf;
    Py_ssize_t n = 0, i, size = 2, alen = 0;
    char *out;
    if (!PyBytes_CheckExact(tag)) {
        PyErr_SetString(PyExc_TypeError, "_new_tag() must return bytes");
        return NULL;
    }
    if (nargs + 2 > LINE_PIECES && !(pieces = PyMem_New(PyObject *, (size_t)nargs + 2)))
        return PyErr_NoMemory();
    pieces[n++] = Py_NewRef(tag);
    if (!(pieces[n] = encode_str(name, enc)))
        goto out;
    n++;
    for (i = 0; i < nargs; i++) {
        if (args[i] == Py_None)
            continue;
        if (!(pieces[n] = line_piece(args[i], enc)))
            goto out;
        n++;
    }
    if (literal != Py_None
        && (engine_set_attr(e, e->st->s_literal, Py_None) < 0
            || (!Py_IS_TYPE(literal, &PyMethod_Type) && announce_literal(literal, enc, buf, &ann, &alen) < 0)))
        goto out;
    if (ann != NULL)
        announce = PyBytes_AS_STRING(ann);
    for (i = 0; i < n; i++) {
        Py_ssize_t k = piece_size(pieces[i]);
        if (k > PY_SSIZE_T_MAX - size - alen - 1) {
            PyErr_NoMemory();
            goto out;
        }
        size += k + (i > 0);
    }
    if (!(data = PyBytes_FromStringAndSize(NULL, size + alen)))
        goto out;
    out = PyBytes_AS_STRING(data);
    for (i = 0; i < n; i++) {
        Py_ssize_t k = piece_size(pieces[i]);
        if (i > 0)
            *out++ = ' ';
        memcpy(out, piece_data(pieces[i]), (size_t)k);
        out += k;
    }
    memcpy(out, announce, (size_t)alen);
    memcpy(out + alen, "\r\n", 2);
out:
    Py_XDECREF(ann);
    for (i = 0; i < n; i++)
        Py_DECREF(pieces[i]);
    if (pieces != local)
        PyMem_Free(pieces);
    return data;
}

/* A new vector (name, *args) for a call; PyMem_Free it. */
static PyObject **
with_first(PyObject *first, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject **v = PyMem_New(PyObject *, (size_t)nargs + 1);
    if (v == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    v[0] = first;
    if (nargs > 0)
        memcpy(v + 1, args, (size_t)nargs * sizeof(PyObject *));
    return v;
}

/* ------------------------------------------------------------------ */
/* _command                                                            */
/* ------------------------------------------------------------------ */

/* Wait for the continuation; 1: go on, 0: tagged_commands[tag] is set
 * (BAD/NO before it), -1: error. */
static int
await_continuation(engine *e, PyObject *tag)
{
    int r;
    while ((r = engine_call_get_response(e, NULL)) > 0) {
        PyObject *res;
        int t;
        if (engine_ensure_fresh(e) < 0 || !(res = PyObject_GetItem(e->tc, tag)))
            return -1;
        t = PyObject_IsTrue(res);
        Py_DECREF(res);
        if (t != 0)
            return t < 0 ? -1 : 0;
    }
    return r < 0 ? -1 : 1;
}

/* The literal phase: continuation, literal, CRLF; repeated while a
 * literator (a bound method, AUTHENTICATE) answers continuations. */
static int
send_literals(engine *e, PyObject *tag, PyObject *literal)
{
    /* literator is borrowed: the caller's reference (command_impl's) keeps
     * it alive after `literal` moves on to the literator's answers. */
    PyObject *literator = Py_IS_TYPE(literal, &PyMethod_Type) ? literal : NULL;
    int r;
    Py_INCREF(literal);
    for (;;) {
        e->literal_wait = literator == NULL;
        r = await_continuation(e, tag);
        e->literal_wait = 0;
        if (r <= 0)
            break;
        if (literator != NULL) {
            PyObject *cont = PyObject_GetAttr((PyObject *)e->self, e->st->s_continuation_response);
            PyObject *next = cont ? PyObject_CallOneArg(literator, cont) : NULL;
            Py_XDECREF(cont);
            CALLED_OUT(e);
            r = -1;
            if (next == NULL)
                break;
            Py_SETREF(literal, next);
        }
        if (MESG_ON(e, 4)) {
            Py_ssize_t n = PyObject_Length(literal);
            r = -1;
            if (n < 0 || engine_mesgf(e, "write literal size %zd", n) < 0)
                break;
        }
        if (send_literal(e, literal) < 0) {
            wrap_oserror(e);
            r = -1;
            break;
        }
        r = 0;
        if (literator == NULL)
            break;
    }
    Py_DECREF(literal);
    return r < 0 ? -1 : 0;
}

/* tagpre + bytes(str(tagnum), enc) for the usual types (bytes, int, one
 * of imaplib's encodings), without the str and the concatenations; NULL
 * without an error for any other case. */
static PyObject *
decimal_tag(PyObject *pre, PyObject *num, PyObject *enc)
{
    char digits[24];
    long long v;
    int overflow, n;
    PyObject *tag;
    if (!PyBytes_CheckExact(pre) || !PyLong_CheckExact(num) || !ascii_compatible(enc))
        return NULL;
    v = PyLong_AsLongLongAndOverflow(num, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return NULL;
    }
    n = decimal(digits, v);
    tag = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(pre) + n);
    if (tag != NULL) {
        memcpy(PyBytes_AS_STRING(tag), PyBytes_AS_STRING(pre), (size_t)PyBytes_GET_SIZE(pre));
        memcpy(PyBytes_AS_STRING(tag) + PyBytes_GET_SIZE(pre), digits, (size_t)n);
    }
    return tag;
}

/* self._new_tag(): tagpre + bytes(str(tagnum), _encoding); tagnum + 1;
 * tagged_commands[tag] = None. */
static PyObject *
new_tag(engine *e, PyObject *enc)
{
    PyObject *self = (PyObject *)e->self, *num, *text = NULL, *next = NULL, *tag = NULL;
    PyObject *pre = NULL, *btext = NULL;
    if (OV(e, _new_tag)) {
        tag = call_method(self, e->st->names[OV__new_tag], NULL, 0);
        CALLED_OUT(e);
        return tag;
    }
    if (!(num = self_attr(e->self, e->st->s_tagnum)) || !(pre = self_attr(e->self, e->st->s_tagpre))
        || (!(tag = decimal_tag(pre, num, enc))
            && (PyErr_Occurred() || !(text = PyObject_Str(num)) || !(btext = encode_str(text, enc))
                || !(tag = PyNumber_Add(pre, btext))))
        || !(next = PyNumber_Add(num, e->st->i_one))
        || engine_set_attr(e, e->st->s_tagnum, next) < 0 || engine_ensure_fresh(e) < 0
        || PyObject_SetItem(e->tc, tag, Py_None) < 0)
        Py_CLEAR(tag);
    Py_XDECREF(num);
    Py_XDECREF(pre);
    Py_XDECREF(text);
    Py_XDECREF(btext);
    Py_XDECREF(next);
    return tag;
}

/* The tag, or NULL.  `literal` is self.literal (command_line clears it). */
static PyObject *
command_send(engine *e, PyObject *name, PyObject *const *args, Py_ssize_t nargs,
             PyObject *literal)
{
    PyObject *tag = NULL, *enc, *data = NULL;
    if (!(enc = self_attr(e->self, e->st->s_encoding)) || !(tag = new_tag(e, enc))
        || !(data = command_line(e, tag, name, args, nargs, enc, literal)))
        goto error;
    if (log_line(e, '>', (const unsigned char *)PyBytes_AS_STRING(data),
                 (size_t)PyBytes_GET_SIZE(data) - 2, -1.0) < 0)
        goto error;
    if (send_data(e, data) < 0) {
        wrap_oserror(e);
        goto error;
    }
    if (literal != Py_None && send_literals(e, tag, literal) < 0)
        goto error;
    Py_DECREF(enc);
    Py_DECREF(data);
    return tag;
error:
    Py_XDECREF(tag);
    Py_XDECREF(enc);
    Py_XDECREF(data);
    return NULL;
}

/* Is self.literal a literal to frame in UTF-8 mode?  That framing differs
 * between imaplib releases, so the interpreter's _command does it. */
static int
utf8_literal(engine *e, PyObject *literal)
{
    PyObject *v;
    int t;
    if (literal == Py_None || Py_IS_TYPE(literal, &PyMethod_Type))
        return 0;
    v = self_attr(e->self, e->st->s_utf8_enabled);
    t = v ? PyObject_IsTrue(v) : -1;
    Py_XDECREF(v);
    return t;
}

/* Arguments of the types imaplib's commands pass (None, str, bytes,
 * bytearray)?  Others fail in ways that differ between imaplib releases. */
static int
usual_args(PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t i;
    for (i = 0; i < nargs; i++) {
        PyObject *a = args[i];
        if (a != Py_None && !PyUnicode_Check(a) && !PyBytes_Check(a) && !PyByteArray_Check(a))
            return 0;
    }
    return 1;
}

static PyObject *
command_impl(engine *e, PyObject *name, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *self = (PyObject *)e->self, *literal, *tag = NULL;
    int u;
    if (refuse_control_chars(args, nargs) < 0)
        return NULL;
    literal = self_attr(e->self, e->st->s_literal);
    if (literal == NULL || (u = utf8_literal(e, literal)) < 0)
        goto out;
    if (u || !usual_args(args, nargs)) {
        PyObject **stack = with_first(name, args, nargs);
        if (stack != NULL) {
            tag = call_super(self, e->st->names[OV__command], stack, (size_t)nargs + 1);
            PyMem_Free(stack);
            CALLED_OUT(e);
        }
        goto out;
    }
    if (check_state(e, name) < 0 || check_untagged(e) < 0)
        goto out;
    tag = command_send(e, name, args, nargs, literal);
out:
    Py_XDECREF(literal);
    return tag;
}

/* ------------------------------------------------------------------ */
/* _command_complete                                                   */
/* ------------------------------------------------------------------ */

/* Re-raise the pending self.abort / self.error as
 * kind('command: NAME => <message>'), chained as `raise` in `except`. */
static void
rewrap(engine *e, PyObject *name)
{
    PyObject *exc;
    int is_abort = engine_exc_matches(e, e->st->s_abort), is_error;
    if (is_abort < 0)
        return;
    is_error = is_abort ? 1 : engine_exc_matches(e, e->st->s_error);
    if (is_error <= 0)
        return;
    exc = exc_take();
    raise_kindf((PyObject *)e->self, is_abort ? e->st->s_abort : e->st->s_error,
                "command: %S => %S", name, exc);
    exc_chain(exc);
}

/* self._get_tagged_response(tag, expect_bye=logout) */
static PyObject *
tagged_response(engine *e, PyObject *tag, int logout)
{
    PyObject *res = NULL;
    if (OV(e, _get_tagged_response)) {
        PyObject *kw = Py_BuildValue("{sO}", "expect_bye", logout ? Py_True : Py_False);
        PyObject *meth = PyObject_GetAttr((PyObject *)e->self, e->st->names[OV__get_tagged_response]);
        if (kw != NULL && meth != NULL) {
            PyObject *a = PyTuple_Pack(1, tag);
            res = a ? PyObject_Call(meth, a, kw) : NULL;
            Py_XDECREF(a);
        }
        Py_XDECREF(kw);
        Py_XDECREF(meth);
        CALLED_OUT(e);
        return res;
    }
    return engine_get_tagged(e, tag, logout, &res) < 0 ? NULL : res;
}

static PyObject *
command_complete_impl(engine *e, PyObject *name, PyObject *tag)
{
    PyObject *result, *seq;
    int logout = PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "LOGOUT") == 0;
    if (!logout && engine_check_bye(e) < 0)
        return NULL;
    result = tagged_response(e, tag, logout);
    if (result == NULL) {
        rewrap(e, name);
        return NULL;
    }
    seq = PySequence_Tuple(result);
    Py_DECREF(result);
    if (seq == NULL)
        return NULL;
    if (PyTuple_GET_SIZE(seq) != 2) {
        if (PyTuple_GET_SIZE(seq) < 2)
            PyErr_Format(PyExc_ValueError, "not enough values to unpack (expected 2, got %zd)",
                         PyTuple_GET_SIZE(seq));
        else
            PyErr_SetString(PyExc_ValueError, "too many values to unpack (expected 2)");
        Py_DECREF(seq);
        return NULL;
    }
    if (!logout && engine_check_bye(e) < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    if (PyUnicode_Check(PyTuple_GET_ITEM(seq, 0))
        && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(seq, 0), "BAD") == 0) {
        raise_kindf((PyObject *)e->self, e->st->s_error, "%S command error: %S %S", name,
                    PyTuple_GET_ITEM(seq, 0), PyTuple_GET_ITEM(seq, 1));
        Py_DECREF(seq);
        return NULL;
    }
    return seq;
}

/* ------------------------------------------------------------------ */
/* Python-visible methods                                              */
/* ------------------------------------------------------------------ */

/* (name, *args): `name` may also come as a keyword, as in imaplib.  The
 * rest of the positional arguments are *args, so parse_args() sees at most
 * one; a keyword's value is read after the positional arguments, which is
 * right because `name` as a keyword admits no positional argument (any
 * other call fails in parse_args before a value is read). */
static int
name_and_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
              PyObject **name)
{
    static const char *const names[] = {"name", NULL};
    *name = NULL;
    return parse_args(fname, args, nargs > 1 ? 1 : nargs, kwnames, names, 1, name);
}

static PyObject *
m_command(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *name;
    if (name_and_args("_command", args, nargs, kwnames, &name) < 0)
        return NULL;
    if (nargs > 0) {
        args++;
        nargs--;
    }
    {
        ENGINE_BEGIN(self)
        res_ = command_impl(&e, name, args, nargs);
        ENGINE_END()
    }
}

static PyObject *
m_command_complete(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"name", "tag", NULL};
    PyObject *a[2] = {NULL, NULL};
    if (parse_args("_command_complete", args, nargs, kwnames, names, 2, a) < 0)
        return NULL;
    {
        ENGINE_BEGIN(self)
        res_ = command_complete_impl(&e, a[0], a[1]);
        ENGINE_END()
    }
}

/* _simple_command: both halves in one engine pass, or through `self`
 * when either is overridden (IMAPClient calls them itself). */
static PyObject *
m_simple_command(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *name, *tag;
    if (name_and_args("_simple_command", args, nargs, kwnames, &name) < 0)
        return NULL;
    if (nargs > 0) {
        args++;
        nargs--;
    }
    {
        ENGINE_BEGIN(self)
        if (OV(&e, _command) || OV(&e, _command_complete)) {
            PyObject **stack = with_first(name, args, nargs);
            tag = NULL;
            if (stack != NULL) {
                PyObject *meth = PyObject_GetAttr(self, e.st->names[OV__command]);
                tag = meth ? PyObject_Vectorcall(meth, stack, (size_t)nargs + 1, NULL) : NULL;
                Py_XDECREF(meth);
                PyMem_Free(stack);
            }
            if (tag != NULL) {
                PyObject *b[3] = {self, name, tag};
                res_ = PyObject_VectorcallMethod(e.st->names[OV__command_complete], b, 3, NULL);
                Py_DECREF(tag);
            }
        } else if ((tag = command_impl(&e, name, args, nargs)) != NULL) {
            res_ = command_complete_impl(&e, name, tag);
            Py_DECREF(tag);
        }
        ENGINE_END()
    }
}

PyMethodDef imap4_command_methods[] = {
    {"_command", (PyCFunction)(void (*)(void))m_command, METH_FASTCALL | METH_KEYWORDS,
     "_command(self, name, *args)\n--\n\n"},
    {"_command_complete", (PyCFunction)(void (*)(void))m_command_complete,
     METH_FASTCALL | METH_KEYWORDS, "_command_complete(self, name, tag)\n--\n\n"},
    {"_simple_command", (PyCFunction)(void (*)(void))m_simple_command,
     METH_FASTCALL | METH_KEYWORDS, "_simple_command(self, name, *args)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ */
/* APPEND's line ends                                                  */
/* ------------------------------------------------------------------ */

/* MapCRLF.sub(CRLF, msg) for a bytes msg: every line end made CRLF. */
static PyObject *
map_crlf(PyObject *msg)
{
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(msg);
    size_t len = (size_t)PyBytes_GET_SIZE(msg), out;
    int changed;
    PyObject *res;
    out = imapc_crlf_size(p, len, &changed);
    if (!changed)
        return Py_NewRef(msg); /* already CRLF throughout: the same bytes */
    if (out > (size_t)PY_SSIZE_T_MAX)
        return PyErr_NoMemory();
    res = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)out);
    if (res != NULL)
        imapc_crlf_copy((unsigned char *)PyBytes_AS_STRING(res), p, len);
    return res;
}

/* _map_crlf_sub(namespace, pattern, repl, string, count=0): what
 * namespace['MapCRLF'].sub(repl, string, count) returns, done in C for
 * append()'s call while namespace['MapCRLF'] is `pattern` (the one
 * imaplib_c/_classes.py checked the C mapping restates). */
PyObject *
mod_map_crlf_sub(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *ns, *pattern, *repl, *string, *count, *cur, *res;
    int found;
    if (nargs < 4 || nargs > 5 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "_map_crlf_sub(namespace, pattern, repl, string, count=0)");
        return NULL;
    }
    ns = args[0];
    pattern = args[1];
    repl = args[2];
    string = args[3];
    count = nargs > 4 ? args[4] : NULL;
    found = dict_get_ref(ns, ((modstate *)PyModule_GetState(module))->s_MapCRLF, &cur);
    if (found <= 0) {
        if (found == 0)
            PyErr_SetString(PyExc_NameError, "name 'MapCRLF' is not defined");
        return NULL;
    }
    if (cur == pattern && PyBytes_CheckExact(string) && PyBytes_CheckExact(repl)
        && PyBytes_GET_SIZE(repl) == 2 && memcmp(PyBytes_AS_STRING(repl), "\r\n", 2) == 0
        && count == NULL) {
        Py_DECREF(cur);
        return map_crlf(string);
    }
    res = count ? PyObject_CallMethod(cur, "sub", "OOO", repl, string, count)
                : PyObject_CallMethod(cur, "sub", "OO", repl, string);
    Py_DECREF(cur);
    return res;
}
