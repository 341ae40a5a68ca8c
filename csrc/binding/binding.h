/* binding.h - shared declarations of the Python binding of imaplib_c.
 *
 * The extension is the engine only: the package (imaplib_c/__init__.py)
 * derives IMAP4 from the Engine type defined here *and* the running
 * interpreter's own imaplib.IMAP4, engine first in the MRO, so every
 * command method, open/_connect/starttls, IMAP4_SSL, IMAP4_stream, the
 * module functions and the exception classes are that interpreter's own.
 *
 * Layout of the binding (csrc/binding/; the core is csrc/core/):
 *   module.c          module init, module state, _bind()
 *   compat.h          shims for C-API differences between 3.9 and 3.15
 *   guard.c           the command guard and the `guarded` method wrapper
 *   imap4.c           the Engine type: lifecycle, attribute access,
 *                     read/readline/shutdown and their helpers
 *   imap4_reader.c    the fast reader: receive buffer over sock.recv_into
 *   imap4_engine.c    the response loop (_get_line, _get_response,
 *                     _get_tagged_response, _append_untagged)
 *   imap4_command.c   sending commands (_command, _command_complete,
 *                     _simple_command) and the APPEND line-end helper
 *   imap4_debug.c     _mesg/_log/print_log and the log ring
 *
 * Public attributes (state, untagged_responses, tagged_commands, ...) live
 * in the instance __dict__, exactly as in imaplib, so user code and tools
 * that read, replace or add attributes keep working; the C struct only
 * holds what the engine owns (the receive buffer and the log ring).
 */
#ifndef IMAPLIB_C_BINDING_H
#define IMAPLIB_C_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "compat.h"
#include "imapc.h"

#define LOG_RING 10 /* imaplib's _cmd_log_len */

/* One entry of the interaction log imaplib keeps for print_log(): either a
 * raw line copied from the wire (formatted lazily as "< %r" / "> %r" only
 * if somebody looks) or a str passed to _log() explicitly. */
typedef struct {
    unsigned char *raw;
    size_t len;
    size_t cap;
    char dir; /* '<', '>' for raw lines; 0 when `text` holds the entry */
    PyObject *text;
    double secs;
    int used;
} log_entry;

typedef struct {
    PyObject_HEAD
    PyObject *dict;
    PyObject *weakreflist;

    /* The response framer and its receive buffer (fr.rb): bytes received
     * from `rsock` and not yet consumed; fr.eof: rsock returned EOF. */
    imapc_framer fr;
    PyObject *rsock;     /* socket the buffer reads from, or NULL */
    PyObject *rfile;     /* the `file` seen together with rsock */
    PyObject *recv_into; /* bound rsock.recv_into */
    int rfast;           /* 1: read rsock directly; 0: go through `file` */
    double rsecs;        /* when the buffered bytes were received */

    /* Instance-level overrides (imap._mesg = f): checked again only when
     * one of the hook names was assigned (ov_assigned, set by setattr) or
     * the instance dict changed size since the last look. */
    int ov_assigned; /* atomic: ATOMIC_*_FLAG */
    Py_ssize_t ov_dict_size;
    /* The class's overrides (type_overrides in imap4.c), valid while the
     * class's version tag is ov_type_version (0: not cached). */
    unsigned ov_type_mask;
    unsigned int ov_type_version;

    /* The command guard (guard.c): the thread inside a method, its depth. */
    uintptr_t busy_thread; /* 0: free (atomic: ATOMIC_*_TID) */
    int busy_depth;
    /* The reader lock (imap4_reader.c): C code holds a pointer into rbuf
     * or a recv() is in progress; a reentrant read is refused. */
    int rbusy;
    /* shutdown()/starttls asked for a reader reset; whoever may do it
     * does (busy_try_reset: the owner, or a thread that finds the object
     * free).  Atomic: ATOMIC_*_FLAG. */
    int reset_pending;
    /* A read failed in the middle of a response (timeout, error, a line
     * over _MAXLINE): what is left on the wire cannot be framed, so every
     * further read is refused with `broken` (a str) until a reset. */
    PyObject *broken;
    /* The tagre last seen and the tag prefix it was compiled with (what
     * tagged replies match); tag_prefix is NULL when tagre is not of the
     * shape imaplib's _connect() builds (then imaplib's own _get_response
     * runs). */
    PyObject *tagre_seen;
    PyObject *tag_prefix;

    log_entry log[LOG_RING];
    int log_idx;
    int log_ready; /* _connect() created the log, as imaplib's _cmd_log */
} IMAP4Object;

/* Interned names and the method descriptors of IMAP4 itself, used to tell
 * whether a subclass or an instance overrides a method. */
#define OVERRIDABLE(X)                                                         \
    X(readline) X(read) X(_get_line) X(_get_response) X(_append_untagged)      \
    X(_log) X(_mesg) X(_check_bye) X(print_log) X(_get_tagged_response)        \
    X(_command) X(_command_complete) X(_new_tag) X(send)

enum {
#define X(n) OV_##n,
    OVERRIDABLE(X)
#undef X
    OV_COUNT
};

/* The interned names of the module state: X(field, text), one list that
 * makes the fields, the interning (module.c) and the clearing. */
#define INTERNED_NAMES(X)                                                       \
    X(s_state, "state")                                                     \
    X(s_untagged_responses, "untagged_responses")                           \
    X(s_tagged_commands, "tagged_commands")                                 \
    X(s_literal, "literal")                                                 \
    X(s_continuation_response, "continuation_response")                     \
    X(s_is_readonly, "is_readonly")                                         \
    X(s_tagnum, "tagnum")                                                   \
    X(s_tagpre, "tagpre")                                                   \
    X(s_tagre, "tagre")                                                     \
    X(s_debug, "debug")                                                     \
    X(s_encoding, "_encoding")                                              \
    X(s_sock, "sock")                                                       \
    X(s_file, "file")                                                       \
    X(s_utf8_enabled, "utf8_enabled")                                       \
    X(s_mo, "mo")                                                           \
    X(s_pattern, "pattern")                                                 \
    X(s_error, "error")                                                     \
    X(s_abort, "abort")                                                     \
    X(s_readonly, "readonly")                                               \
    X(s_shutdown, "shutdown")                                               \
    X(s_recv_into, "recv_into")                                             \
    X(s_raw, "raw")                                                         \
    X(s__sock, "_sock")                                                     \
    X(s_OK, "OK")                                                           \
    X(s_NO, "NO")                                                           \
    X(s_BAD, "BAD")                                                         \
    X(s_BYE, "BYE")                                                         \
    X(s_empty_str, "")                                                      \
    X(s_get, "get")                                                         \
    X(s_pop, "pop")                                                         \
    X(s_logging, "logging")                                                 \
    X(s_Commands, "Commands")                                               \
    X(s_MAXLINE, "_MAXLINE")                                                \
    X(s_log, "log")                                                         \
    X(s_idle_capture, "_idle_capture")                                      \
    X(s_release, "release")                                                 \
    X(s_starttls_flag, "_imaplib_c_starttls")                               \
    X(s_sendall, "sendall")                                                 \
    X(s_READ_ONLY, "READ-ONLY")                                             \
    X(s_Continuation, "Continuation")                                       \
    X(s_match, "match")                                                     \
    X(s_MapCRLF, "MapCRLF")

typedef struct {
    PyTypeObject *imap4_type; /* the Engine type */
    PyTypeObject *guarded_type;
    /* The interpreter's imaplib module namespace, set by _bind(): the one
     * home of the settings tools write (_MAXLINE, Debug, ...), read at
     * use time, as imaplib's own methods read them. */
    PyObject *ns;
    /* What the interpreter's imaplib does, found out by _bind() from that
     * imaplib itself (imaplib_c/_rules.py): */
    int skip_blank;       /* blank lines between responses are skipped, and
                             after a literal inside an open parenthesis */
    int own_buffer;       /* imaplib reads sock into its own buffer (3.14+):
                             `file` is a property readline() never reads,
                             and a partial line survives a timeout */
    int literal_overflow; /* a literal over sys.maxsize raises OverflowError
                             at once (file.read, up to 3.13.0) */
    int plain_send;       /* imaplib's send() is sys.audit + sock.sendall:
                             the engine may do both itself */
    /* The methods IMAP4 resolves each hook to (bound by _bind()): a hook
     * that resolves elsewhere is overridden and is called through Python. */
    PyObject *own_descr[OV_COUNT];
    PyObject *names[OV_COUNT];
    /* Interned names (INTERNED_NAMES) and constants. */
#define X(field, text) PyObject *field;
    INTERNED_NAMES(X)
#undef X
    PyObject *i_one, *b_empty, *b_crlf, *b_space;
} modstate;

extern PyModuleDef imaplib_c_module;

modstate *state_of_type(PyTypeObject *tp);
#define STATE(self) state_of_type(Py_TYPE(self))

/* Read a name from the bound namespace; new reference, KeyError-free:
 * a missing name raises AttributeError like a module attribute. */
PyObject *ns_get(modstate *st, const char *name);

/* ---- engine context ------------------------------------------------- */

/* What one engine entry needs, looked up once: which hooks are
 * overridden (so they are called through Python exactly as imaplib
 * calls them) and the debug level. */
typedef struct {
    IMAP4Object *self;
    modstate *st;
    long debug;
    /* _mesg is the debug() of a logging.Logger/LoggerAdapter that drops
     * DEBUG records (IMAPClient's, at its default level): every message
     * would be discarded unseen, so none is built. */
    int mesg_dead;
    unsigned ov; /* bit OV_x set: self.x is not IMAP4's own */
    int idle_capture; /* self._idle_capture is true (3.14's IDLE is on) */
    int starttls;     /* inside starttls(): check the tagged OK (starttls_check) */
    PyObject *ur; /* untagged_responses (strong), refreshed after callouts */
    PyObject *tc; /* tagged_commands (strong) */
    PyObject *tagpre; /* strong */
    int dirty; /* Python code ran: re-read ur/tc before use */
    int synced; /* sock/file checked and _MAXLINE read since then */
    Py_ssize_t maxline;
    /* _get_response(start_timeout): restore this socket's timeout after
     * the first line (IDLE). */
    PyObject *timeout_sock;
    PyObject *saved_timeout;
    /* Per-pass caches, valid while no Python code runs (see CALLED_OUT):
     * the list untagged_responses[last_list_typ]; whether a BYE may be
     * stored (-1: unknown); whether a tagged line arrived since
     * tagged_commands was last looked at. */
    PyObject *last_list;     /* strong */
    PyObject *last_list_typ; /* strong */
    int bye_state;
    int tag_check;
    char last_typ_buf[32]; /* cache: the last type word and its str */
    size_t last_typ_len;
    PyObject *last_typ;
} engine;

int engine_init(engine *e, IMAP4Object *self);
int is_overridden(IMAP4Object *self, modstate *st, int idx);
void engine_fini(engine *e);
int engine_refresh(engine *e);

/* Parse a METH_FASTCALL | METH_KEYWORDS call by imaplib's parameter
 * names (NULL-terminated); unset out[] entries are left alone. */
int parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               const char *const *names, int required, PyObject **out);

/* super(Engine, self).name(*args): the interpreter's imaplib method that
 * the engine's own stands in front of. */
PyObject *call_super(PyObject *self, PyObject *name, PyObject *const *args, size_t nargs);

/* Is hook `name` overridden in this engine pass? */
#define OV(e, name) ((e)->ov & (1u << OV_##name))

/* Run a method body inside the engine: context set up, thread guard held;
 * the body sets res_ and ends with ENGINE_END(). */
#define ENGINE_BEGIN(self_)                                                    \
    engine e;                                                                  \
    PyObject *res_ = NULL;                                                     \
    if (busy_enter((IMAP4Object *)(self_)) < 0)                                \
        return NULL;                                                           \
    if (engine_init(&e, (IMAP4Object *)(self_)) < 0)                           \
        goto end_;

#define ENGINE_END()                                                           \
    end_:                                                                      \
    engine_fini(&e);                                                           \
    busy_leave(e.self);                                                        \
    return res_;

/* Would imaplib send a message of this debug level to _mesg? */
#define MESG_ON(e, level) ((e)->debug >= (level) && !(e)->mesg_dead)

/* Python code ran: cached attributes may be stale. */
#define CALLED_OUT(e) ((e)->dirty = 1, (e)->synced = 0, (e)->bye_state = -1, (e)->tag_check = 1)

/* The command guard (guard.c): the rules are at the top of that file. */
int busy_enter(IMAP4Object *self);
void busy_leave(IMAP4Object *self);
void busy_try_reset(IMAP4Object *self);
int guard_add_type(PyObject *module, modstate *st);
int guard_wrap_type(PyTypeObject *tp, modstate *st);
PyObject *guard_wrap(modstate *st, PyObject *func);

/* Raise self.<kind>(msg) where kind is s_error/s_abort/s_readonly;
 * `msg` may be any object (str, bytes or None, as imaplib passes). */
void raise_kind(PyObject *self, PyObject *kind_name, PyObject *msg);
void raise_kindf(PyObject *self, PyObject *kind_name, const char *fmt, ...);

/* Call self.name(*args) through normal attribute lookup. */
PyObject *call_method(PyObject *self, PyObject *name, PyObject *const *args,
                      size_t nargs);

/* reader (imap4_reader.c) */
int reader_select(engine *e);
PyObject *reader_readline(IMAP4Object *self, modstate *st);
PyObject *reader_read(IMAP4Object *self, modstate *st, PyObject *size);
/* Receive once into fr.rb (fr.eof at EOF); 0, or -1 with an exception. */
int reader_fill(IMAP4Object *self, modstate *st);
/* imaplib's "got more than N bytes"; the connection is marked broken. */
void reader_too_long(IMAP4Object *self, modstate *st, Py_ssize_t maxline);
Py_ssize_t reader_long_line(engine *e, PyObject **obj, size_t have, size_t head,
                            size_t raw_before, size_t *have_out);
PyObject *reader_literal(engine *e, uint64_t size);
void reader_reset(IMAP4Object *self);
void reader_request_reset(IMAP4Object *self);
int reader_acquire(IMAP4Object *self);
void reader_release(IMAP4Object *self);
int reader_check(IMAP4Object *self, modstate *st);
void reader_break(IMAP4Object *self);
int exc_is_timeout(modstate *st, PyObject *exc);
Py_ssize_t current_maxline(modstate *st, int *ok);
PyObject *read_chunked(PyObject *file, PyObject *size_obj);

/* engine (imap4_engine.c) */
PyObject *engine_get_response(engine *e);
int engine_get_tagged(engine *e, PyObject *tag, int expect_bye, PyObject **out);
int engine_append_untagged(engine *e, PyObject *typ, PyObject *dat);
int engine_check_bye(engine *e);
int engine_mesg(engine *e, PyObject *msg);
int engine_mesgf(engine *e, const char *fmt, ...);
int engine_ensure_fresh(engine *e);
/* self._get_response() (through an override): 1 data, 0 none, -1 error */
int engine_call_get_response(engine *e, PyObject **resp_out);
/* Does the pending exception match self.<kind_name>? (it stays set) */
int engine_exc_matches(engine *e, PyObject *kind_name);

/* commands (imap4_command.c) */
extern PyMethodDef imap4_command_methods[];
PyObject *mod_map_crlf_sub(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* debug (imap4_debug.c) */
/* secs < 0: now */
void log_add_raw(IMAP4Object *self, char dir, const unsigned char *p, size_t len, double secs);
void log_clear(IMAP4Object *self);
int log_line(engine *e, char dir, const unsigned char *p, size_t len, double secs);
double now_secs(void);

extern PyMethodDef imap4_engine_methods[];
extern PyMethodDef imap4_debug_methods[];
extern PyGetSetDef imap4_debug_getset[];

/* imap4.c */
int imap4_add_type(PyObject *module, modstate *st);
int imap4_bind(modstate *st, PyTypeObject *cls, PyObject *get_response_variant);

#endif
