/* store.h - what the engine records (imap4_store.c): untagged responses
 * filed as imaplib files them, the BYE check, _mesg messages, the log of
 * every line.
 */
#ifndef IMAPLIB_C_STORE_H
#define IMAPLIB_C_STORE_H

#include "context.h"

int engine_append_untagged(engine *e, PyObject *typ, PyObject *dat);
int engine_check_bye(engine *e);
int engine_mesg(engine *e, PyObject *msg);
int engine_mesgf(engine *e, const char *fmt, ...);
/* Re-read the cached attributes if Python code ran. */
int engine_ensure_fresh(engine *e);
/* Log a line sent ('>') or received ('<') as imaplib does: to _mesg at
 * debug level 4 and up, else into the ring (through self._log when that
 * is overridden); secs < 0: now. */
int log_line(engine *e, char dir, const unsigned char *p, size_t len, double secs);
/* The same for a received line still in the receive buffer. */
int log_line_span(engine *e, const unsigned char *p, size_t len, double secs);

#endif
