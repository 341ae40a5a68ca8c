/* event_log.h - drive the shipped framer (imapc_framer.h) over a byte
 * stream and write what imaplib would do, one line per event.
 *
 * This is a host of the framer, as the binding is: it feeds bytes in the
 * pieces it is given, pulls events, and builds imaplib's results from
 * them (as text instead of Python objects), checking the framer's
 * invariants as it goes.  The log must not depend on how the stream was
 * split (csrc/core/tests/test_transcripts.c checks every split point).
 *
 *   T tag="..." type="..." dat="..."   tagged_commands[tag] = (type, [dat])
 *   U type="..." dat="..."             _append_untagged(type, dat)
 *   L type="..." dat="..." lit="..."   _append_untagged(type, (dat, literal))
 *   C text=None | C text="..."         continuation_response
 *   E toolong                          error("got more than N bytes")
 *   E unterminated "..."               abort("socket error: unterminated line")
 *   E unexpected "..."                 abort("unexpected response: ...")
 *   E eof                              abort("socket error: EOF")
 * After an error the next response begins with the next line, as for a
 * caller that catches the exception and reads on.  A blank line that
 * imaplib skips (skip_blank) leaves no trace.  imaplib_oracle.py produces
 * the same log by running CPython's imaplib over the same bytes.
 */
#ifndef IMAPC_EVENT_LOG_H
#define IMAPC_EVENT_LOG_H

#include "describe.h"
#include "imapc_framer.h"

typedef struct {
    unsigned char *p;
    size_t len, cap;
} fbytes;

/* How the host gets its input to the framer, as the binding does in its
 * three situations; the log must be the same whichever is used. */
typedef enum {
    ELOG_BYTES = 0, /* imapc_framer_next over the buffer (the fast reader)  */
    ELOG_LINES,     /* raw lines (IMAPC_NEXT_RAW) handed back through
                       imapc_framer_line, literals read by the host then
                       imapc_framer_literal_done (readline/read overridden) */
    ELOG_LONG,      /* BYTES, but a first line of long_line bytes or more is
                       taken by the host and finished outside the buffer
                       (imapc_framer_long_line_end), as a long SEARCH line */
    ELOG_RUN,       /* BYTES, but each response is first asked for with
                       IMAPC_NEXT_UNTAGGED (the binding's run of buffered
                       untagged responses), falling back when refused    */
} elog_mode;

typedef struct {
    imapc_framer fr;
    elog_mode mode;
    fbytes long_raw;            /* ELOG_LONG: the raw line being taken */
    imapc_event long_ev;        /* ... and the LONG_LINE event that began it */
    int long_active;
    unsigned char tagpre[32];
    size_t tagpre_len;
    fbytes typ;                 /* the pending untagged response: its type */
    fbytes dat;                 /* ... its current dat */
    fbytes lit;                 /* ... the literal received so far */
    uint64_t lit_size;          /* the literal's announced size */
    int in_literal;
    int done;                   /* "E eof" written */
    dstr log;
    uint64_t fed, consumed;     /* bytes fed / taken out by events */
    size_t events, literals;
    size_t max_cap;             /* largest rb.cap seen */
    char failure[256];          /* first invariant violation, "" if none */
} event_log;

void elog_init(event_log *el, size_t max, const char *tagpre, int skip_blank);
/* Use `mode` from now on; ELOG_LONG with lines of long_line bytes or more
 * (it needs a max of at least the longest line). */
void elog_set_mode(event_log *el, elog_mode mode, size_t long_line);
/* Feed bytes and log every event they complete. */
void elog_feed(event_log *el, const unsigned char *p, size_t n);
/* End of stream: log what EOF completes, ending with "E eof". */
void elog_finish(event_log *el);
void elog_free(event_log *el);

/* Log `stream` fed in pieces of `chunk` bytes (0: all at once); 0 and the
 * log in *log (free with dstr_free), or -1 with the failure text. */
int elog_run(const unsigned char *stream, size_t len, size_t max, const char *tagpre,
             int skip_blank, size_t chunk, dstr *log);

#endif
