/* engine.h - the engine's response methods (imap4_engine.c): completing
 * a command; the engine's methods are entered through
 * ENGINE_BEGIN/ENGINE_END.
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

int engine_get_tagged(engine *e, PyObject *tag, int expect_bye, PyObject **out);
/* Does the pending exception match self.<kind_name>? (it stays set) */
int engine_exc_matches(engine *e, PyObject *kind_name);

/* _get_line, _get_response, _get_tagged_response, _append_untagged, ... */
extern PyMethodDef imap4_engine_methods[];

#endif
