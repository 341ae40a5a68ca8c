/* debug.h - imaplib's debugging helpers and the interaction log
 * (imap4_debug.c): _mesg, _log, print_log, _cmd_log over the log ring.
 */
#ifndef IMAPLIB_C_DEBUG_H
#define IMAPLIB_C_DEBUG_H

#include "object.h"

/* time.time(), in C */
double now_secs(void);
/* Record a raw line sent ('>') or received ('<') in the ring; secs < 0: now. */
void log_add_raw(IMAP4Object *self, char dir, const unsigned char *p, size_t len, double secs);
/* The same for a received line that is a span in fr.rb, without copying
 * it: log_settle() must run before the buffer is refilled or cleared. */
void log_add_span(IMAP4Object *self, const unsigned char *p, size_t len, double secs);
/* Copy the lines still in fr.rb into the ring (the buffer is about to
 * change, or the ring is read). */
void log_settle(IMAP4Object *self);

extern PyMethodDef imap4_debug_methods[];
extern PyGetSetDef imap4_debug_getset[];

#endif
