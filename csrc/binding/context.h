/* context.h - the engine context (context.c): what one engine pass looks
 * up once and caches while no Python code runs.  Made by the engine's
 * methods (ENGINE_BEGIN, engine.h) and handed down to the reader.
 */
#ifndef IMAPLIB_C_CONTEXT_H
#define IMAPLIB_C_CONTEXT_H

#include "compat.h"
#include "object.h"
#include "state.h"

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
    /* _command waits for the continuation to send a literal: the
     * continuation leaves self.mo as it was (nothing can read it before
     * the command ends, and imaplib's would be the tagged line's match by
     * then anyway); the regex match cost a tenth of an APPEND. */
    int literal_wait;
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
void engine_fini(engine *e);
/* Re-read untagged_responses and tagged_commands (after Python code ran). */
int engine_refresh(engine *e);
/* self.<name>, as PyObject_GetAttr gives it (see context.c). */
PyObject *self_attr(IMAP4Object *self, PyObject *name);
/* self.<name> = value, for a name that is not a hook (see context.c). */
int engine_set_attr(engine *e, PyObject *name, PyObject *value);
/* Is self.<names[idx]> something else than IMAP4's own method? (-1: error) */
int is_overridden(IMAP4Object *self, modstate *st, int idx);

/* Is hook `name` overridden in this engine pass? */
#define OV(e, name) ((e)->ov & (1u << OV_##name))

/* Would imaplib send a message of this debug level to _mesg? */
#define MESG_ON(e, level) ((e)->debug >= (level) && !(e)->mesg_dead)

/* Python code ran: cached attributes may be stale. */
#define CALLED_OUT(e) ((e)->dirty = 1, (e)->synced = 0, (e)->bye_state = -1, (e)->tag_check = 1)

#endif
