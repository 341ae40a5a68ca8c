/* response.h - reading a response: where its lines come from
 * (imap4_line.c) and the driver and handlers that turn the framer's
 * events into imaplib's objects (imap4_response.c).
 */
#ifndef IMAPLIB_C_RESPONSE_H
#define IMAPLIB_C_RESPONSE_H

#include "context.h"
#include "imapc_framer.h"
#include "reader.h"

/* One received line without its CRLF: a span in the receive buffer, held
 * under the reader lock (reader_acquire) until line_done/line_own, or a
 * bytes object.  A span is valid while the buffer's generation is `gen`
 * (LINE_SPAN_OK checks it in debug builds). */
typedef struct {
    const unsigned char *p;
    size_t len;
    PyObject *obj;  /* owns the bytes when not in the buffer */
    unsigned gen;   /* fr.rb.gen when the span was taken */
    int in_buf;
    int is_long;    /* a LONG_LINE start, not consumed yet */
} line_t;

#define LINE_SPAN_OK(e, l) \
    assert(!(l)->in_buf || (l)->gen == (e)->self->fr.rb.gen)

/* imap4_line.c */
/* The next line of the response and the framer's event for it; flags:
 * IMAPC_NEXT_LONG_OK (a long first line may stay in the buffer, for
 * line_take_long) or IMAPC_NEXT_RAW (_get_line: outside the response). */
int line_next(engine *e, line_t *l, imapc_event *ev, unsigned flags);
int line_own(engine *e, line_t *l);
/* May a run of untagged responses be read straight from the receive
 * buffer (no line hook overridden, the buffer is the reader, spans are
 * safe)?  1 yes, 0 no, -1 error (a broken connection). */
int line_run_ok(engine *e);
/* The first line of an untagged response that is complete in the buffer,
 * for a run: 1 (a span under the reader lock, logged), 0 when the next
 * unit is anything else or not complete (nothing consumed, nothing
 * received), -1 error.  Only after line_run_ok() said yes. */
int line_next_untagged(engine *e, line_t *l, imapc_event *ev);
PyObject *line_bytes(engine *e, line_t *l);

/* Let go of a span (the reader lock), leaving its bytes where they are. */
static inline void
line_unhold(engine *e, line_t *l)
{
    if (l->in_buf) {
        l->in_buf = 0;
        reader_release(e->self);
    }
}

/* Done with the line: the span let go, the object released.  Inline: it
 * runs once per line. */
static inline void
line_done(engine *e, line_t *l)
{
    line_unhold(e, l);
    Py_CLEAR(l->obj);
}
/* A LONG_LINE start: consume it from the buffer and let go of the span. */
void line_take_long(engine *e, line_t *l);

/* imap4_response.c */
/* One response: 1 (the line in *resp_out if asked), 0 for a
 * continuation, -1 with an exception. */
int response_get(engine *e, PyObject **resp_out);
/* The untagged responses already buffered, read one after another as
 * consecutive _get_response() calls would read them: the number read
 * (0: none could be), -1 error. */
int response_run(engine *e);
/* self._get_response() (through an override): 1 data, 0 none, -1 error */
int engine_call_get_response(engine *e, PyObject **resp_out);
/* _get_response()'s result: the line, None for a continuation. */
PyObject *engine_get_response(engine *e);
/* The tag prefix of self.tagre into e->tagpre: 1, 0 when tagre is not
 * imaplib's shape (the interpreter's _get_response runs), -1 error. */
int response_tag_prefix(engine *e);

#endif /* IMAPLIB_C_RESPONSE_H */
