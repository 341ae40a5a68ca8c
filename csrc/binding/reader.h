/* reader.h - where received bytes come from (imap4_reader.c): the fast
 * reader's receive buffer over sock.recv_into, or `file` read as imaplib
 * reads it; the reader lock; a connection broken mid-response.
 */
#ifndef IMAPLIB_C_READER_H
#define IMAPLIB_C_READER_H

#include "context.h"
#include "object.h"
#include "state.h"

/* Engine.readline() / Engine.read(size) */
PyObject *reader_readline(IMAP4Object *self, modstate *st);
PyObject *reader_read(IMAP4Object *self, modstate *st, PyObject *size);

/* The engine's reads: is the fast path usable for the next line (0/1,
 * -1 error), one receive into fr.rb (fr.eof at EOF), a literal, the rest
 * of a long line. */
int reader_select(engine *e);
int reader_fill(IMAP4Object *self, modstate *st);
PyObject *reader_literal(engine *e, uint64_t size);
Py_ssize_t reader_long_line(engine *e, PyObject **obj, size_t have, size_t head,
                            size_t raw_before, size_t *have_out);

/* shutdown()/STARTTLS: drop the buffer now or when it is safe. */
void reader_request_reset(IMAP4Object *self);
/* The reader lock: held while C code points into the buffer. */
int reader_acquire(IMAP4Object *self);
void reader_release(IMAP4Object *self);
/* COMPRESS: take the bytes buffered past the last response (new ref). */
PyObject *reader_take_buffered(IMAP4Object *self);
/* Refuse to read from a broken connection (0: reading is allowed). */
int reader_check(IMAP4Object *self, modstate *st);
/* The pending exception leaves a response half-read: break the connection. */
void reader_break(IMAP4Object *self);
/* imaplib's "got more than N bytes"; the connection is marked broken. */
void reader_too_long(IMAP4Object *self, modstate *st, Py_ssize_t maxline);
/* Is exc a socket timeout? (the exception is not consumed) */
int exc_is_timeout(modstate *st, PyObject *exc);
/* The namespace's _MAXLINE (*ok = 0 with an error set if unusable). */
Py_ssize_t current_maxline(modstate *st, int *ok);
/* file.read(size) in growing chunks. */
PyObject *read_chunked(PyObject *file, PyObject *size_obj);

#endif
