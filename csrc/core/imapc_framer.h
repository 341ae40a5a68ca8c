/* imapc_framer.h - the resumable response framer: a server byte stream in,
 * imaplib's response structure out.
 *
 * imaplib's _get_response reads a line, classifies it, and while an
 * untagged response's data ends in {N} reads N literal bytes and the line
 * that follows them.  The framer is that state machine as a value: the
 * host feeds bytes into `rb` (or hands over a line or a literal it read
 * some other way: an overridden readline/_get_line/read) and pulls events
 * until the response is complete.  hiredis's reader is the model: the host
 * owns the I/O, the framer owns the protocol state, and nothing here
 * depends on how the stream was split into reads.
 *
 * A response is:   RESPONSE (literal? LITERAL... TRAILER)*   with BLANK
 * events where the interpreter's imaplib skips blank lines, and an error
 * event (TOO_LONG, UNTERMINATED, EOF) ending it early.
 *
 * Spans in an event point into the receive buffer (or into the line the
 * host passed) and are valid until the next imapc_rbuf_reserve() on `rb`
 * (rb.gen changes then; a host can check it).
 */
#ifndef IMAPC_FRAMER_H
#define IMAPC_FRAMER_H

#include "imapc_rbuf.h"
#include "imapc_resp.h"

typedef enum {
    IMAPC_FR_RESPONSE = 0, /* next: a response's first line              */
    IMAPC_FR_LITERAL,      /* next: lit_left more bytes of a literal      */
    IMAPC_FR_TRAILER,      /* next: the line after a literal (a new dat)   */
} imapc_fr_state;

/* The state of the response being framed: reset by imapc_framer_begin().
 * A host that reads a nested response (a callback that calls
 * _get_response) saves and restores it around that. */
typedef struct {
    const unsigned char *tagpre; /* tag prefix of tagged replies (host-owned) */
    size_t tagpre_len;
    imapc_fr_state state;
    uint64_t lit_left; /* LITERAL: bytes of the literal still to come       */
    long depth;        /* open parentheses of the dats so far (skip_blank)  */
} imapc_fr_response;

typedef struct {
    /* Settings: set by the host, kept until it changes them. */
    size_t max_line;   /* a line, LF included, may be this long (_MAXLINE) */
    size_t long_line;  /* with IMAPC_NEXT_LONG_OK, a line start of this many
                          bytes without a LF is offered as LONG_LINE (0: never) */
    int skip_blank;    /* the interpreter's imaplib skips blank lines between
                          responses and after a literal inside parentheses */

    /* Kept across responses. */
    imapc_rbuf rb;     /* received bytes not framed yet                    */
    int eof;           /* the stream has ended (imapc_framer_eof)           */

    imapc_fr_response cur; /* the response being framed                    */
} imapc_framer;

typedef enum {
    IMAPC_EV_NEED_MORE = 0, /* no complete unit buffered: feed, or set eof  */
    IMAPC_EV_RESPONSE,      /* a response's first line: `resp` says which   */
    IMAPC_EV_TRAILER,       /* the line after a literal: the next dat        */
    IMAPC_EV_LITERAL,       /* `line` holds the next bytes of the literal    */
    IMAPC_EV_BLANK,         /* a blank line that imaplib skips               */
    IMAPC_EV_LONG_LINE,     /* the start of a long line, classified, NOT
                               consumed: take it (imapc_framer_long_line_end)
                               or ask again without IMAPC_NEXT_LONG_OK      */
    IMAPC_EV_TOO_LONG,      /* no LF within max_line: max_line + 1 bytes
                               dropped (imaplib's readline(max + 1))         */
    IMAPC_EV_UNTERMINATED,  /* a line without CRLF (bare LF, or the tail at
                               EOF): dropped; `line` is the raw bytes       */
    IMAPC_EV_EOF,           /* the stream ended where a line should begin   */
    IMAPC_EV_LINE,          /* IMAPC_NEXT_RAW: one line, not interpreted     */
    IMAPC_EV_OTHER,         /* IMAPC_NEXT_UNTAGGED: the next unit is buffered
                               but is something else; nothing consumed      */
} imapc_ev_kind;

typedef struct {
    imapc_ev_kind kind;
    const unsigned char *line; /* the line without CRLF; LITERAL: the data   */
    size_t len;
    imapc_resp resp;           /* RESPONSE, LONG_LINE: spans into `line`     */
    /* RESPONSE (untagged) and TRAILER: the dat ends in {N} (the lit_*
     * fields are valid only then). */
    int literal;
    uint64_t lit_size;             /* N (saturated at UINT64_MAX)          */
    const unsigned char *lit_digits; /* N's digits, in `line`             */
    size_t lit_ndigits;
    int last;      /* LITERAL: the literal's last piece (short at EOF)    */
    int end;       /* the response is complete (or cut, for an error)     */
    int cut;       /* an error after a literal was announced: the rest of
                      the response is lost and the stream cannot be framed */
} imapc_event;

enum {
    IMAPC_NEXT_LONG_OK = 1, /* may return LONG_LINE (a response's first line) */
    IMAPC_NEXT_RAW = 2,     /* one line as imaplib's _get_line reads it, outside
                               the response state, which stays as it was     */
    IMAPC_NEXT_UNTAGGED = 4, /* only the first line of an untagged response,
                               complete in the buffer and well formed; for
                               anything else NEED_MORE or OTHER, with nothing
                               consumed and the state as it was (a host's
                               fast path for runs of untagged responses)    */
};

void imapc_framer_init(imapc_framer *f);
void imapc_framer_free(imapc_framer *f);

/* Start a response: the state machine is reset, buffered bytes are kept. */
void imapc_framer_begin(imapc_framer *f, const unsigned char *tagpre, size_t tagpre_len);

/* Copy bytes into the buffer (a host that reads into rb itself uses
 * imapc_rbuf_reserve/commit instead).  -1 when memory is exhausted. */
int imapc_framer_feed(imapc_framer *f, const unsigned char *p, size_t n);

/* The stream has ended: what is buffered is all there will be. */
void imapc_framer_eof(imapc_framer *f);

/* The next event from the buffer.  Consumes the bytes of the event it
 * returns (except LONG_LINE). */
imapc_ev_kind imapc_framer_next(imapc_framer *f, unsigned flags, imapc_event *ev);

/* A line (CRLF removed) the host read itself, through the same state
 * machine; may_have_lf: the line may contain a LF (it came from Python). */
imapc_ev_kind imapc_framer_line(imapc_framer *f, const unsigned char *line, size_t len,
                                int may_have_lf, imapc_event *ev);

/* The host read the announced literal itself (LITERAL -> TRAILER). */
void imapc_framer_literal_done(imapc_framer *f);

/* The host took a LONG_LINE into its own object: it consumed the line
 * from rb and passes the complete dat (the text, or "N text" of a status
 * response); `ev` (the LONG_LINE event, its `resp` kept) becomes a
 * RESPONSE event whose `line` is that dat, with its literal fields. */
void imapc_framer_long_line_end(imapc_framer *f, const unsigned char *dat, size_t len,
                                imapc_event *ev);

/* Net parenthesis nesting of a dat, quoted strings skipped (imaplib's
 * _paren_depth), starting from `depth`. */
long imapc_paren_depth(const unsigned char *p, size_t n, long depth);

#endif /* IMAPC_FRAMER_H */
