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

extern PyMethodDef imap4_debug_methods[];
extern PyGetSetDef imap4_debug_getset[];

#endif
