/* busy.h - the command guard's owner (busy.c; the rules are at the top of
 * guard.c): one thread at a time inside an Engine method, and the reader
 * reset that shutdown() hands to whoever may do it.
 */
#ifndef IMAPLIB_C_BUSY_H
#define IMAPLIB_C_BUSY_H

#include "object.h"

int busy_enter(IMAP4Object *self);
void busy_leave(IMAP4Object *self);
/* Do a requested reader reset now if this thread may (else the owner
 * does when it leaves). */
void busy_try_reset(IMAP4Object *self);
/* Drop the receive buffer and the transport it reads; only by the guard's
 * owner with no read in progress. */
void reader_reset(IMAP4Object *self);

/* CLOCK_MONOTONIC in seconds. */
double monotonic_secs(void);

#endif
