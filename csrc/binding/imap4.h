/* imap4.h - the Engine type (imap4.c). */
#ifndef IMAPLIB_C_IMAP4_H
#define IMAPLIB_C_IMAP4_H

#include "state.h"

/* Make the type, with the engine's, command and debug methods (module exec). */
int imap4_add_type(PyObject *module, modstate *st);
/* _bind(): the final IMAP4 class, and whether _get_response takes
 * start_timeout there. */
int imap4_bind(modstate *st, PyTypeObject *cls, PyObject *get_response_variant);

#endif
