/* state.h - the module state (state.c): the interned names, the hooks
 * and the descriptors they resolve to, the bound imaplib namespace and what
 * _bind() found out about it; finding it from a type (STATE) and reading
 * the namespace (ns_get).
 */
#ifndef IMAPLIB_C_STATE_H
#define IMAPLIB_C_STATE_H

#include "compat.h"

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
 * makes the fields, the interning and the clearing (state.c). */
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
    X(s_MapCRLF, "MapCRLF")                                                 \
    X(s_deadline, "deadline")                                               \
    X(s_settimeout, "settimeout")                                           \
    X(s_gettimeout, "gettimeout")                                           \
    X(s_getattribute, "__getattribute__")

/* The constants of the module state: X(field, expression making it), one
 * list that makes the fields, the creation and the clearing (state.c). */
#define STATE_CONSTANTS(X)                                                      \
    X(i_one, PyLong_FromLong(1))                                                \
    X(b_empty, PyBytes_FromStringAndSize("", 0))                                \
    X(b_crlf, PyBytes_FromStringAndSize("\r\n", 2))                             \
    X(b_space, PyBytes_FromStringAndSize(" ", 1))

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
    /* How imaplib_c.IMAP4 reads attributes (object.__getattribute__, then
     * imaplib's __getattr__) and object's own __getattribute__ (bound by
     * _bind()): a class that reads them so lets self_attr() look in the
     * instance dict itself (context.c). */
    getattrofunc getattr_hook;
    PyObject *object_getattribute;
    /* Interned names (INTERNED_NAMES) and constants (STATE_CONSTANTS). */
#define X(field, text) PyObject *field;
    INTERNED_NAMES(X)
#undef X
#define X(field, make) PyObject *field;
    STATE_CONSTANTS(X)
#undef X
} modstate;

/* The state of the module object itself. */
static inline modstate *
mstate(PyObject *module)
{
    return (modstate *)PyModule_GetState(module);
}

/* The module definition (state.c); module.c adds its methods and slots. */
extern PyModuleDef imaplib_c_module;

/* The state of the module that defined tp (or a base of tp); NULL with
 * TypeError when there is none. */
modstate *state_of_type(PyTypeObject *tp);
#define STATE(self) state_of_type(Py_TYPE(self))

/* Read a name from the bound namespace; new reference, KeyError-free:
 * a missing name raises AttributeError like a module attribute. */
PyObject *ns_get(modstate *st, const char *name);

/* Intern the names and make the constants of a new state (module exec). */
int state_init(modstate *st);

#endif
