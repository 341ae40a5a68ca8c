/* framer.h - a test-only framer: a server byte stream -> imaplib events.
 *
 * It frames the stream the way the binding does (imap4_reader.c fast_line,
 * imap4_engine.c get_response / untagged_literals), using only the pure-C
 * core: imapc_rbuf_find_line with a maximum line length, the CRLF check,
 * imapc_resp_classify, imapc_literal_size on an untagged response's `dat`
 * (then N literal bytes and a trailer line, which may announce another
 * literal), and imapc_resp_code on the final dat of OK/NO/BAD.  Bytes may
 * be fed in any pieces; the event log must not depend on how the stream
 * was split (tests/c/test_transcripts.c checks every split point).
 *
 * The event log mirrors what imaplib's _get_response does, one line each:
 *   T tag="..." type="..." dat="..."   tagged_commands[tag] = (type, [dat])
 *   U type="..." dat="..."             _append_untagged(type, dat)
 *   L type="..." dat="..." lit="..."   _append_untagged(type, (dat, literal))
 *   C text=None | C text="..."         continuation_response
 *   E toolong                          error("got more than N bytes")
 *   E unterminated "..."               abort("socket error: unterminated line")
 *   E unexpected "..."                 abort("unexpected response: ...")
 *   E eof                              abort("socket error: EOF")
 * After an error the pending response is dropped and framing resumes with
 * the next line, as a caller that catches the exception and reads on would
 * see it.  tests/c/imaplib_oracle.py produces the same log by running
 * CPython's imaplib over the same bytes.
 */
#ifndef IMAPC_FRAMER_H
#define IMAPC_FRAMER_H

#include "describe.h"
#include "imapc.h"

typedef struct {
    unsigned char *p;
    size_t len, cap;
} fbytes;

typedef enum { FR_LINE, FR_LITERAL, FR_TRAILER, FR_DONE } framer_state;

typedef struct {
    imapc_rbuf rb;
    size_t max;                 /* _MAXLINE: a line incl. CRLF may be this long */
    unsigned char tagpre[32];
    size_t tagpre_len;
    framer_state state;
    fbytes typ;                 /* pending untagged response: its type */
    fbytes dat;                 /* ... and current dat */
    fbytes lit;                 /* literal bytes received so far */
    uint64_t lit_size;          /* the literal's announced size */
    dstr log;                   /* the event log */
    uint64_t fed, consumed;     /* stream bytes fed / taken out of rb */
    size_t events, literals, lines;
    size_t max_cap;             /* largest rb.cap seen */
    int check_lines;            /* re-verify find_line results (O(n)) */
    char failure[256];          /* first invariant violation, "" if none */
} framer;

void framer_init(framer *f, size_t max, const char *tagpre);
/* Append bytes to the receive buffer and emit every event they complete. */
void framer_feed(framer *f, const unsigned char *p, size_t n);
/* End of stream: emit what EOF completes (short literal, unterminated
 * tail, "E eof").  No feeding afterwards. */
void framer_finish(framer *f);
void framer_free(framer *f);

/* Convenience: frame `stream` fed in pieces of `chunk` bytes (0: all at
 * once); returns 0 and the log in *log (caller frees with dstr_free), or
 * -1 with the failure text in *log. */
int framer_run(const unsigned char *stream, size_t len, size_t max, const char *tagpre,
               size_t chunk, dstr *log);

#endif
