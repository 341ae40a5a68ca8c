/* imap4_reader.c - where received bytes come from.
 *
 * Who owns the bytes:
 *  - Fast mode: `self.file` is a reader over `self.sock` (what open()
 *    makes, or what IMAPClient's open()/starttls() make) and neither
 *    `read` nor `readline` is overridden.  The engine then reads `sock`
 *    directly with large recv_into() calls into its own buffer; the
 *    `file` object is never read, so nobody else sees a partial state.
 *  - File mode: `file` is something else (a test double, a wrapper): read
 *    it exactly as imaplib does, file.readline(_MAXLINE + 1) and
 *    file.read(n) -- the latter in growing chunks, never trusting n.
 *  - Overridden read/readline: the engine calls them (imap4_engine.c).
 * When `sock` or `file` is replaced (STARTTLS), bytes still buffered from
 * the old connection are an error, never carried over (libetpan
 * CVE-2020-15953): see reader_sync().
 *
 * Who may touch the buffer (the rules are in guard.c):
 *  - reader_acquire()/reader_release() bracket every stretch in which C
 *    code holds a pointer into rbuf or a recv() into rbuf or into a
 *    literal is in progress.  Python code can run inside such a stretch
 *    (recv_into of a socket subclass, a signal handler, a finaliser);
 *    if it reads again, it gets RuntimeError instead of growing (and so
 *    freeing) the buffer under the interrupted recv.
 *  - Only the thread that owns the command guard resets the reader, and
 *    never while the lock is held: reader_request_reset() defers it.
 *  - A read that fails once a response has begun (a partial line in the
 *    buffer, a literal or a long line being received, a line over
 *    _MAXLINE) marks the connection broken: the rest of that response is
 *    still on the wire and would otherwise be parsed as responses (a
 *    message body holding "* OK [ALERT]" lines).  A failure before the
 *    first byte of a response (an IDLE wait that times out) is harmless.
 */
#include "reader.h"

#include "busy.h"
#include "context.h"
#include "debug.h"
#include "object.h"
#include "state.h"
#include "util.h"
#include "imapc_rbuf.h"

#include <string.h>

/* One recv_into() asks for at least this much: few system calls per MB. */
#define RECV_CHUNK ((size_t)256 << 10)
/* A literal's bytes object starts at most this far beyond what has
 * arrived and then doubles: memory follows the data, not the {N} the
 * server announced (CPython gh-119511). */
#define LITERAL_STEP ((size_t)1 << 20)
/* Literals up to this size are assembled in the receive buffer. */
#define SMALL_LITERAL ((uint64_t)64 << 10)

Py_ssize_t
current_maxline(modstate *st, int *ok)
{
    PyObject *v = ns_get(st, "_MAXLINE");
    Py_ssize_t n;
    *ok = 0;
    if (v == NULL)
        return 0;
    n = PyNumber_AsSsize_t(v, PyExc_OverflowError);
    Py_DECREF(v);
    if (n == -1 && PyErr_Occurred())
        return 0;
    *ok = 1;
    return n;
}

/* Reset now if that is safe, else leave it to the thread that owns the
 * object (busy_leave / reader_release do it). */
void
reader_request_reset(IMAP4Object *self)
{
    ATOMIC_STORE_FLAG(&self->reset_pending, 1);
    busy_try_reset(self);
}

int
reader_acquire(IMAP4Object *self)
{
    if (self->rbusy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "reentrant call: the IMAP4 object is already reading "
                        "(from a signal handler, a callback or recv_into?)");
        return -1;
    }
    self->rbusy = 1;
    return 0;
}

void
reader_release(IMAP4Object *self)
{
    self->rbusy = 0;
    if (ATOMIC_LOAD_FLAG(&self->reset_pending))
        busy_try_reset(self);
}

/* COMPRESS: the bytes received past the last response, handed over (and
 * dropped here) so that the layer that now owns the stream -- the
 * inflater -- reads them first: a server may compress right after its OK
 * (RFC 4978).  A new reference; b"" when nothing is buffered. */
PyObject *
reader_take_buffered(IMAP4Object *self)
{
    PyObject *out;
    if (reader_acquire(self) < 0)
        return NULL;
    log_settle(self);
    out = PyBytes_FromStringAndSize((const char *)imapc_rbuf_peek(&self->fr.rb),
                                    (Py_ssize_t)imapc_rbuf_avail(&self->fr.rb));
    if (out != NULL)
        imapc_rbuf_clear(&self->fr.rb);
    reader_release(self);
    return out;
}

/* Refuse to read from a broken connection; 0 when reading is allowed. */
int
reader_check(IMAP4Object *self, modstate *st)
{
    if (self->broken == NULL)
        return 0;
    raise_kindf((PyObject *)self, st->s_abort,
                "connection unusable: a read failed in the middle of a response (%U); "
                "the rest of that response was not read",
                self->broken);
    return -1;
}

/* The pending exception ends a response half-read: remember it (its type
 * and text) and refuse later reads.  The exception stays set. */
void
reader_break(IMAP4Object *self)
{
    PyObject *exc, *why;
    if (self->broken != NULL)
        return;
    exc = exc_take();
    if (exc == NULL)
        return;
    why = PyUnicode_FromFormat("%s: %S", _PyType_Name(Py_TYPE(exc)), exc);
    if (why == NULL)
        PyErr_Clear();
    self->broken = why != NULL ? why : PyUnicode_FromString("read failed");
    if (self->broken == NULL)
        PyErr_Clear();
    exc_give(exc);
}

/* TimeoutError, or socket.timeout, which is another class before 3.10;
 * `exc` is not consumed and no exception may be pending. */
int
exc_is_timeout(modstate *st, PyObject *exc)
{
    PyObject *sockmod, *cls;
    int m;
    if (PyErr_GivenExceptionMatches(exc, PyExc_TimeoutError))
        return 1;
    sockmod = ns_get(st, "socket");
    cls = sockmod ? PyObject_GetAttrString(sockmod, "timeout") : NULL;
    Py_XDECREF(sockmod);
    if (cls == NULL) {
        PyErr_Clear();
        return 0;
    }
    m = PyErr_GivenExceptionMatches(exc, cls);
    Py_DECREF(cls);
    return m;
}

/* Is `file` a buffered reader straight over `sock` (sock.makefile('rb'))? */
static int
file_reads_sock(modstate *st, PyObject *file, PyObject *sock)
{
    PyObject *raw, *inner;
    int same;
    if (file == Py_None || sock == Py_None)
        return 0;
    raw = PyObject_GetAttr(file, st->s_raw);
    if (raw == NULL) {
        PyErr_Clear();
        return 0;
    }
    inner = PyObject_GetAttr(raw, st->s__sock);
    Py_DECREF(raw);
    if (inner == NULL) {
        PyErr_Clear();
        return 0;
    }
    same = inner == sock;
    Py_DECREF(inner);
    return same;
}

/* imaplib sends a literal and its CRLF in two writes; with Nagle's
 * algorithm the CRLF waits for the peer's delayed ACK (40 ms per APPEND
 * on Linux).  The engine turns Nagle off on the TCP sockets it adopts, as
 * asyncio does for its streams; anything that is not one is left alone. */
static void
set_nodelay(modstate *st, PyObject *sock)
{
    PyObject *sockmod = ns_get(st, "socket"), *proto = NULL, *opt = NULL, *r = NULL;
    PyObject *exc = exc_take();
    if (sockmod != NULL) {
        proto = PyObject_GetAttrString(sockmod, "IPPROTO_TCP");
        opt = proto ? PyObject_GetAttrString(sockmod, "TCP_NODELAY") : NULL;
    }
    if (opt != NULL)
        r = PyObject_CallMethod(sock, "setsockopt", "OOi", proto, opt, 1);
    Py_XDECREF(r);
    Py_XDECREF(opt);
    Py_XDECREF(proto);
    Py_XDECREF(sockmod);
    PyErr_Clear(); /* AF_UNIX, a socket-like object, a closed socket */
    if (exc != NULL)
        exc_give(exc);
}

/* Pick up the current sock/file pair; 0 on success, -1 with an error. */
static int
reader_sync(IMAP4Object *self, modstate *st)
{
    PyObject *sock = self_attr(self, st->s_sock), *file;
    if (sock == NULL)
        return -1;
    /* Where `file` is a property (3.14+), imaplib's readline reads sock
     * itself and never looks at file: neither does the engine. */
    file = st->own_buffer ? Py_NewRef(Py_None) : self_attr(self, st->s_file);
    if (file == NULL) {
        Py_DECREF(sock);
        return -1;
    }
    if (sock == self->rsock && file == self->rfile) {
        Py_DECREF(sock);
        Py_DECREF(file);
        return 0;
    }
    if (self->broken != NULL) {
        /* A new transport is a new connection: what was left of the
         * broken one is garbage, not data injected before STARTTLS. */
        log_settle(self);
        imapc_rbuf_clear(&self->fr.rb);
        Py_CLEAR(self->broken);
    }
    if (imapc_rbuf_avail(&self->fr.rb) > 0) {
        /* Bytes that arrived on the old transport (plaintext before
         * STARTTLS completed) must not be read as if they came over the
         * new one. */
        size_t n = imapc_rbuf_avail(&self->fr.rb);
        log_settle(self);
        imapc_rbuf_clear(&self->fr.rb);
        Py_DECREF(sock);
        Py_DECREF(file);
        raise_kindf((PyObject *)self, st->s_abort,
                    "%zu unread bytes were buffered when the connection was replaced "
                    "(data injected before STARTTLS?)",
                    n);
        return -1;
    }
    Py_XSETREF(self->rsock, sock);
    Py_XSETREF(self->rfile, file);
    Py_CLEAR(self->recv_into);
    self->fr.eof = 0;
    self->rfast = st->own_buffer || file_reads_sock(st, file, sock);
    set_nodelay(st, sock);
    if (self->rfast) {
        self->recv_into = PyObject_GetAttr(sock, st->s_recv_into);
        if (self->recv_into == NULL) {
            PyErr_Clear();
            self->rfast = 0;
        }
    }
    return 0;
}

/* recv_into(dst[0:cap]) through a temporary memoryview; returns the byte
 * count (0 at EOF) or -1.  The view is released before returning so no
 * Python object keeps pointing into our memory. */
static Py_ssize_t
recv_plain(IMAP4Object *self, modstate *st, char *dst, size_t cap)
{
    PyObject *mv, *n, *r, *recv_into = self->recv_into;
    Py_ssize_t got;
    if (cap > (size_t)PY_SSIZE_T_MAX)
        cap = (size_t)PY_SSIZE_T_MAX;
    if (recv_into == NULL) {
        PyErr_SetString(PyExc_OSError, "the connection was reset while reading");
        return -1;
    }
    mv = PyMemoryView_FromMemory(dst, (Py_ssize_t)cap, PyBUF_WRITE);
    if (mv == NULL)
        return -1;
    Py_INCREF(recv_into); /* the call may reset the reader */
    n = PyObject_CallOneArg(recv_into, mv);
    Py_DECREF(recv_into);
    if (Py_REFCNT(mv) == 1) {
        /* Nobody kept the view: freeing it is all the release needed. */
        Py_DECREF(mv);
    } else {
        /* Somebody holds it (an exception's frame, a recv_into wrapper):
         * release it so it can never reach our memory again.  A timeout
         * or reset stays the error the caller sees. */
        PyObject *exc = n == NULL ? exc_take() : NULL;
        r = PyObject_CallMethodNoArgs(mv, st->s_release);
        Py_DECREF(mv);
        if (r == NULL) {
            Py_XDECREF(n);
            Py_XDECREF(exc);
            return -1;
        }
        Py_DECREF(r);
        if (exc != NULL)
            exc_give(exc);
    }
    if (n == NULL)
        return -1;
    if (n == Py_None) {
        /* A non-blocking socket with nothing to read. */
        Py_DECREF(n);
        PyErr_SetString(PyExc_BlockingIOError, "no data available on a non-blocking socket");
        return -1;
    }
    got = PyLong_AsSsize_t(n);
    Py_DECREF(n);
    if (got < 0 || (size_t)got > cap) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_OSError, "recv_into() returned an invalid count");
        return -1;
    }
    return got;
}

/* The deadline passed: the command ends, and what is left of its response
 * on the wire can never be framed, so the connection is broken.  -1. */
static Py_ssize_t
deadline_expired(IMAP4Object *self, modstate *st)
{
    raise_kindf((PyObject *)self, st->s_abort,
                "command deadline expired (self.deadline): the server did not finish in time");
    reader_break(self);
    return -1;
}

/* The socket's timeout for the next recv: the time left before the
 * deadline, unless its own timeout is shorter.  *saved: what to put back
 * (NULL: nothing changed).  0, or -1 with an exception. */
static int
deadline_timeout(PyObject *sock, modstate *st, double left, PyObject **saved)
{
    PyObject *own = PyObject_CallMethodNoArgs(sock, st->s_gettimeout), *r;
    *saved = NULL;
    if (own == NULL)
        return -1;
    if (own != Py_None && PyFloat_Check(own) && PyFloat_AS_DOUBLE(own) <= left) {
        Py_DECREF(own);
        return 0;
    }
    r = PyObject_CallMethod(sock, "settimeout", "(d)", left);
    if (r == NULL) {
        Py_DECREF(own);
        return -1;
    }
    Py_DECREF(r);
    *saved = own;
    return 0;
}

/* recv_plain() under self.deadline: the wait ends at the deadline at the
 * latest, and then the command ends (deadline_expired). */
static Py_ssize_t
recv_before_deadline(IMAP4Object *self, modstate *st, char *dst, size_t cap)
{
    double left = self->deadline_at - monotonic_secs();
    PyObject *sock = self->rsock, *saved, *exc = NULL;
    Py_ssize_t got;
    if (left <= 0)
        return deadline_expired(self, st);
    Py_INCREF(sock);
    if (deadline_timeout(sock, st, left, &saved) < 0) {
        Py_DECREF(sock);
        return -1;
    }
    got = recv_plain(self, st, dst, cap);
    if (saved != NULL) {
        PyObject *r;
        exc = got < 0 ? exc_take() : NULL;
        r = PyObject_CallMethodOneArg(sock, st->s_settimeout, saved);
        Py_DECREF(saved);
        if (r == NULL) {
            /* Bytes received but not handed on are lost: what follows on
             * the wire can no longer be read in step. */
            if (got > 0)
                reader_break(self);
            Py_XDECREF(exc);
            Py_DECREF(sock);
            return -1;
        }
        Py_DECREF(r);
        if (exc != NULL && exc_is_timeout(st, exc) && monotonic_secs() >= self->deadline_at) {
            Py_DECREF(exc);
            Py_DECREF(sock);
            return deadline_expired(self, st);
        }
        if (exc != NULL)
            exc_give(exc);
    }
    Py_DECREF(sock);
    return got;
}

/* recv_into(dst[0:cap]): 0 at EOF, -1 with an exception. */
static Py_ssize_t
recv_into_mem(IMAP4Object *self, modstate *st, char *dst, size_t cap)
{
    if (self->deadline_at > 0 && self->rsock != NULL)
        return recv_before_deadline(self, st, dst, cap);
    return recv_plain(self, st, dst, cap);
}

int
reader_fill(IMAP4Object *self, modstate *st)
{
    size_t space;
    unsigned char *dst;
    Py_ssize_t got;
    log_settle(self); /* the ring's lines in the buffer may move now */
    dst = imapc_rbuf_reserve(&self->fr.rb, RECV_CHUNK, &space);
    if (dst == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    got = recv_into_mem(self, st, (char *)dst, space);
    if (got < 0) {
        /* A response had begun: its start is lost to imaplib, unless
         * imaplib keeps a partial line across a timeout itself (3.14+,
         * IDLE relies on it).  Callers in the middle of a literal or of a
         * response after one break the connection themselves. */
        if (imapc_rbuf_avail(&self->fr.rb) > 0) {
            PyObject *exc = exc_take();
            int keep = st->own_buffer && exc != NULL && exc_is_timeout(st, exc);
            exc_give(exc);
            if (!keep)
                reader_break(self);
        }
        return -1;
    }
    self->rsecs = now_secs();
    if (got == 0)
        self->fr.eof = 1;
    imapc_rbuf_commit(&self->fr.rb, (size_t)got);
    return 0;
}

/* imaplib's error for a line over _MAXLINE.  imaplib would go on to read
 * the rest of that line as the next response; here the connection is
 * marked broken instead (README, deliberate differences). */
void
reader_too_long(IMAP4Object *self, modstate *st, Py_ssize_t maxline)
{
    raise_kindf((PyObject *)self, st->s_error, "got more than %zd bytes", maxline);
    reader_break(self);
}

/* Fast mode: locate the next line in the buffer, receiving as needed.
 * Returns 1 with *len the line length including LF (bytes stay in the
 * buffer until the caller consumes them), 0 at EOF with *len the length
 * of an unterminated tail (possibly 0), -1 on error. */
static int
fast_line(IMAP4Object *self, modstate *st, Py_ssize_t maxline, size_t *len)
{
    size_t max;
    if (maxline == -1) { /* readline(0) */
        *len = 0;
        return 0;
    }
    max = maxline < -1 ? SIZE_MAX - 1 : (size_t)maxline;
    for (;;) {
        switch (imapc_rbuf_find_line(&self->fr.rb, max, len)) {
        case IMAPC_LINE_FOUND:
            if (maxline < -1) {
                imapc_rbuf_consume(&self->fr.rb, *len);
                reader_too_long(self, st, maxline);
                return -1;
            }
            return 1;
        case IMAPC_LINE_TOO_LONG:
            /* readline(max + 1) consumed max + 1 bytes. */
            imapc_rbuf_consume(&self->fr.rb, max + 1);
            reader_too_long(self, st, maxline);
            return -1;
        case IMAPC_LINE_NEED_MORE:
            if (self->fr.eof) {
                *len = imapc_rbuf_avail(&self->fr.rb);
                return 0;
            }
            if (reader_fill(self, st) < 0)
                return -1;
            break;
        }
    }
}

/* File mode readline: file.readline(_MAXLINE + 1) and imaplib's check. */
static PyObject *
file_readline(IMAP4Object *self, modstate *st, Py_ssize_t maxline)
{
    PyObject *file, *line;
    if (st->own_buffer) {
        /* a socket without recv_into: imaplib's own readline over recv() */
        PyObject *name = PyUnicode_InternFromString("readline");
        line = name ? call_super((PyObject *)self, name, NULL, 0) : NULL;
        Py_XDECREF(name);
        return line;
    }
    file = PyObject_GetAttr((PyObject *)self, st->s_file);
    if (file == NULL)
        return NULL;
    line = PyObject_CallMethod(file, "readline", "n", maxline + 1);
    Py_DECREF(file);
    if (line == NULL)
        return NULL;
    if (PyObject_Length(line) > maxline) {
        Py_DECREF(line);
        if (!PyErr_Occurred())
            reader_too_long(self, st, maxline);
        return NULL;
    }
    return line;
}

PyObject *
reader_readline(IMAP4Object *self, modstate *st)
{
    int ok, r;
    Py_ssize_t maxline = current_maxline(st, &ok);
    size_t len;
    PyObject *line = NULL;
    if (!ok || reader_check(self, st) < 0 || reader_acquire(self) < 0)
        return NULL;
    if (reader_sync(self, st) < 0)
        goto done;
    if (!self->rfast) {
        line = file_readline(self, st, maxline);
        goto done;
    }
    r = fast_line(self, st, maxline, &len);
    if (r < 0)
        goto done;
    line = PyBytes_FromStringAndSize((const char *)imapc_rbuf_peek(&self->fr.rb), (Py_ssize_t)len);
    if (line != NULL)
        imapc_rbuf_consume(&self->fr.rb, len);
done:
    reader_release(self);
    return line;
}

/* Is the fast path usable for the next line? (0/1, -1 on error)  The
 * sock/file check and the _MAXLINE lookup run once per engine pass, and
 * again only after Python code has run (CALLED_OUT). */
int
reader_select(engine *e)
{
    if (reader_check(e->self, e->st) < 0)
        return -1;
    if (!e->synced) {
        int ok;
        e->maxline = current_maxline(e->st, &ok);
        if (!ok || reader_sync(e->self, e->st) < 0)
            return -1;
        e->synced = 1;
    }
    return e->self->rfast;
}

/* Read exactly `size` bytes, or fewer at EOF: the literal is built in
 * its final bytes object, which grows with the data that arrives. */
static PyObject *
fast_read(IMAP4Object *self, modstate *st, uint64_t size)
{
    size_t avail = imapc_rbuf_avail(&self->fr.rb), have, cap;
    PyObject *obj;

    /* A small literal is completed in the buffer (one copy out of it, no
     * oversized allocation); a big one is received straight into its
     * bytes object below. */
    while (size > avail && size <= SMALL_LITERAL && !self->fr.eof) {
        if (reader_fill(self, st) < 0) {
            reader_break(self);
            return NULL;
        }
        avail = imapc_rbuf_avail(&self->fr.rb);
    }
    if (size <= avail) {
        obj = PyBytes_FromStringAndSize((const char *)imapc_rbuf_peek(&self->fr.rb), (Py_ssize_t)size);
        if (obj != NULL)
            imapc_rbuf_consume(&self->fr.rb, (size_t)size);
        return obj;
    }
    cap = avail + (avail > LITERAL_STEP ? avail : LITERAL_STEP);
    if ((uint64_t)cap > size)
        cap = (size_t)size;
    if (cap > (size_t)PY_SSIZE_T_MAX)
        cap = (size_t)PY_SSIZE_T_MAX;
    obj = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (obj == NULL)
        return NULL;
    memcpy(PyBytes_AS_STRING(obj), imapc_rbuf_peek(&self->fr.rb), avail);
    imapc_rbuf_consume(&self->fr.rb, avail);
    have = avail;
    while ((uint64_t)have < size && !self->fr.eof) {
        Py_ssize_t got;
        if (have == cap) {
            size_t ncap = cap > (size_t)PY_SSIZE_T_MAX / 2 ? (size_t)PY_SSIZE_T_MAX : cap * 2;
            if ((uint64_t)ncap > size)
                ncap = (size_t)size;
            if (ncap == cap) {
                Py_DECREF(obj);
                PyErr_NoMemory();
                return NULL;
            }
            if (_PyBytes_Resize(&obj, (Py_ssize_t)ncap) < 0) {
                reader_break(self);
                return NULL;
            }
            cap = ncap;
        }
        got = recv_into_mem(self, st, PyBytes_AS_STRING(obj) + have, cap - have);
        if (got < 0) {
            reader_break(self);
            Py_DECREF(obj);
            return NULL;
        }
        if (got == 0)
            self->fr.eof = 1;
        have += (size_t)got;
    }
    if (have != cap && _PyBytes_Resize(&obj, (Py_ssize_t)have) < 0)
        return NULL;
    return obj;
}

/* The byte count of read(n): a negative n (or None) reads to EOF, as
 * file.read does, which is the same as "more than will ever arrive". */
static int
size_from_obj(PyObject *size_obj, uint64_t *size)
{
    int overflow;
    long long v;
    if (size_obj == Py_None) {
        *size = UINT64_MAX;
        return 0;
    }
    v = PyLong_AsLongLongAndOverflow(size_obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *size = (overflow != 0 || v < 0) ? UINT64_MAX : (uint64_t)v;
    return 0;
}

/* file.read(size) in growing chunks, as the gh-119511 fix does: memory
 * follows the bytes that arrive, not the size the server announced. */
PyObject *
read_chunked(PyObject *file, PyObject *size_obj)
{
    PyObject *parts, *res, *sep;
    uint64_t size, have = 0, chunk = LITERAL_STEP;
    if (size_from_obj(size_obj, &size) < 0)
        return NULL;
    if (size <= LITERAL_STEP)
        return PyObject_CallMethod(file, "read", "(O)", size_obj);
    parts = PyList_New(0);
    if (parts == NULL)
        return NULL;
    while (have < size) {
        uint64_t want = size - have < chunk ? size - have : chunk;
        PyObject *data = PyObject_CallMethod(file, "read", "n", (Py_ssize_t)want);
        Py_ssize_t n;
        if (data == NULL || PyList_Append(parts, data) < 0) {
            Py_XDECREF(data);
            Py_DECREF(parts);
            return NULL;
        }
        n = PyObject_Length(data);
        Py_DECREF(data);
        if (n <= 0)
            break;
        have += (uint64_t)n;
        if ((uint64_t)n < want)
            break;
        if (chunk < ((uint64_t)1 << 30))
            chunk *= 2;
    }
    sep = PyBytes_FromStringAndSize("", 0);
    res = sep ? PyObject_CallMethod(sep, "join", "(O)", parts) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(parts);
    return res;
}

static PyObject *
file_read(IMAP4Object *self, modstate *st, PyObject *size_obj)
{
    PyObject *file, *res;
    if (st->own_buffer) {
        PyObject *name = PyUnicode_InternFromString("read");
        res = name ? call_super((PyObject *)self, name, &size_obj, 1) : NULL;
        Py_XDECREF(name);
        return res;
    }
    file = PyObject_GetAttr((PyObject *)self, st->s_file);
    if (file == NULL)
        return NULL;
    res = read_chunked(file, size_obj);
    Py_DECREF(file);
    return res;
}


/* A size file.read() cannot take (beyond Py_ssize_t either way): what
 * imaplib's read() raises where it is file.read(size) (up to 3.13.0). */
static int
read_size_overflows(modstate *st, PyObject *size_obj)
{
    int overflow = 0;
    long long v;
    if (!st->literal_overflow || size_obj == Py_None || !PyLong_Check(size_obj))
        return 0;
    v = PyLong_AsLongLongAndOverflow(size_obj, &overflow);
    if (overflow == 0 && v >= -(long long)PY_SSIZE_T_MAX - 1 && v <= (long long)PY_SSIZE_T_MAX)
        return 0;
    PyErr_SetString(PyExc_OverflowError, "cannot fit 'int' into an index-sized integer");
    return -1;
}

PyObject *
reader_read(IMAP4Object *self, modstate *st, PyObject *size_obj)
{
    uint64_t size;
    PyObject *res = NULL;
    if (read_size_overflows(st, size_obj) < 0 || size_from_obj(size_obj, &size) < 0
        || reader_check(self, st) < 0 || reader_acquire(self) < 0)
        return NULL;
    if (reader_sync(self, st) == 0)
        res = self->rfast ? fast_read(self, st, size) : file_read(self, st, size_obj);
    reader_release(self);
    return res;
}

/* The engine's literal read: a failure leaves the response half-read. */
PyObject *
reader_literal(engine *e, uint64_t size)
{
    IMAP4Object *self = e->self;
    PyObject *res = NULL, *n;
    if (size > (uint64_t)PY_SSIZE_T_MAX && e->st->literal_overflow) {
        /* What file.read(size) raises in imaplib up to 3.13.0; later
         * versions read what arrives until EOF, as fast_read does. */
        PyErr_SetString(PyExc_OverflowError, "cannot fit 'int' into an index-sized integer");
        reader_break(self);
        return NULL;
    }
    if (reader_acquire(self) < 0)
        return NULL;
    if (self->rfast) {
        res = fast_read(self, e->st, size);
    } else if ((n = PyLong_FromUnsignedLongLong(size)) != NULL) {
        res = file_read(self, e->st, n);
        Py_DECREF(n);
    }
    if (res == NULL)
        reader_break(self);
    reader_release(self);
    return res;
}

/* Finish a long line straight into `obj`, which holds `have` bytes already
 * (the caller copied the start of the line's text there and consumed it
 * from the buffer; `raw_before` counts the raw line bytes that precede
 * obj's data on the wire, minus `head`, bytes obj starts with that are not
 * on the wire).  Receives into obj, growing it, until the LF; bytes after
 * the LF go back into the receive buffer.  Returns the index of the LF in
 * obj, -2 at EOF before a LF (*have_out: bytes in obj), -1 on error
 * (including the _MAXLINE limit). */
static Py_ssize_t
long_line(engine *e, PyObject **obj, size_t have, size_t head, size_t raw_before,
          size_t *have_out);

Py_ssize_t
reader_long_line(engine *e, PyObject **obj, size_t have, size_t head, size_t raw_before,
                 size_t *have_out)
{
    Py_ssize_t k;
    if (reader_acquire(e->self) < 0) {
        reader_break(e->self); /* the line's start is consumed already */
        return -1;
    }
    k = long_line(e, obj, have, head, raw_before, have_out);
    if (k == -1)
        reader_break(e->self);
    reader_release(e->self);
    return k;
}

static Py_ssize_t
long_line(engine *e, PyObject **obj, size_t have, size_t head, size_t raw_before,
          size_t *have_out)
{
    IMAP4Object *self = e->self;
    size_t cap = (size_t)PyBytes_GET_SIZE(*obj), scan = head;
    size_t max = e->maxline < 0 ? SIZE_MAX - 1 : (size_t)e->maxline;
    for (;;) {
        const char *base = PyBytes_AS_STRING(*obj);
        const char *lf = memchr(base + scan, '\n', have - scan);
        Py_ssize_t got;
        if (lf != NULL) {
            size_t k = (size_t)(lf - base), rest = have - (k + 1);
            if (raw_before + (k + 1 - head) > max)
                goto too_long;
            if (rest > 0) {
                size_t space;
                unsigned char *dst;
                log_settle(self);
                dst = imapc_rbuf_reserve(&self->fr.rb, rest, &space);
                if (dst == NULL) {
                    PyErr_NoMemory();
                    return -1;
                }
                memcpy(dst, lf + 1, rest);
                imapc_rbuf_commit(&self->fr.rb, rest);
            }
            *have_out = k + 1;
            return (Py_ssize_t)k;
        }
        scan = have;
        if (raw_before + (have - head) > max)
            goto too_long;
        if (self->fr.eof) {
            *have_out = have;
            return -2;
        }
        if (have == cap) {
            size_t ncap;
            if (cap > (size_t)PY_SSIZE_T_MAX / 2) {
                PyErr_NoMemory();
                return -1;
            }
            ncap = cap * 2;
            if (_PyBytes_Resize(obj, (Py_ssize_t)ncap) < 0)
                return -1;
            cap = ncap;
        }
        got = recv_into_mem(self, e->st, PyBytes_AS_STRING(*obj) + have, cap - have);
        if (got < 0)
            return -1;
        if (got == 0)
            self->fr.eof = 1;
        have += (size_t)got;
    }
too_long:
    reader_too_long(self, e->st, e->maxline);
    return -1;
}
