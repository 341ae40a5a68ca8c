/* object.h - the C struct of an Engine instance (IMAP4Object): the
 * receive buffer (imap4_reader.c), the override cache (context.c), the
 * command guard (busy.c) and the log ring (imap4_debug.c).
 */
#ifndef IMAPLIB_C_OBJECT_H
#define IMAPLIB_C_OBJECT_H

#include "compat.h"
#include "imapc_framer.h"

#define LOG_RING 10 /* imaplib's _cmd_log_len */

/* One entry of the interaction log imaplib keeps for print_log(): either a
 * raw line copied from the wire (formatted lazily as "< %r" / "> %r" only
 * if somebody looks), a line still in the receive buffer (`span`: copied
 * only if it is among the last ten when the buffer is next refilled,
 * cleared or looked at: log_settle), or a str passed to _log() explicitly. */
typedef struct {
    unsigned char *raw;
    const unsigned char *span; /* the line in fr.rb, not copied yet */
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
    /* The opt-in deadline (self.deadline, seconds): the monotonic time by
     * which the outermost method call in progress must have read what it
     * reads; 0: none.  Set and cleared by busy_enter/busy_leave. */
    double deadline_at;
    /* A _get_response of the engine's is reading (fr.cur is its state); a
     * nested one (from a callback) saves and restores it. */
    int in_response;

    /* Instance-level overrides (imap._mesg = f): checked again only when
     * one of the hook names was assigned (ov_assigned, set by setattr) or
     * the instance dict changed size since the last look. */
    int ov_assigned; /* atomic: ATOMIC_*_FLAG */
    Py_ssize_t ov_dict_size;
    /* The class's overrides (type_overrides in context.c), valid while the
     * class's version tag is ov_type_version (0: not cached). */
    unsigned ov_type_mask;
    unsigned int ov_type_version;
    /* The class reads attributes as object.__getattribute__ does (with
     * imaplib's __getattr__ after it): see self_attr() in context.c.
     * Valid with ov_type_mask. */
    int plain_getattr;
    int plain_setattr; /* and sets them as the engine's own __setattr__ */

    /* The command guard (busy.c): the thread inside a method, its depth. */
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
    int log_spans; /* entries whose line is still a span in fr.rb */
    int log_ready; /* _connect() created the log, as imaplib's _cmd_log */
} IMAP4Object;

#endif
