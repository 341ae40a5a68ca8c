/* engine.h - the response loop (imap4_engine.c): receiving, framing,
 * filing and completing responses; the engine's methods are entered
 * through ENGINE_BEGIN/ENGINE_END.
 */
#ifndef IMAPLIB_C_ENGINE_H
#define IMAPLIB_C_ENGINE_H

#include "busy.h"
#include "context.h"
#include "object.h"

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
/* Log a line sent ('>') or received ('<') as imaplib does: to _mesg at
 * debug level 4 and up, else into the ring (through self._log when that
 * is overridden); secs < 0: now. */
int log_line(engine *e, char dir, const unsigned char *p, size_t len, double secs);

/* _get_line, _get_response, _get_tagged_response, _append_untagged, ... */
extern PyMethodDef imap4_engine_methods[];

#endif
