/* imapc.h - the pure-C protocol core of imaplib_c.
 *
 * Nothing here includes Python.h: the receive buffer, the line framer, the
 * response-line classifier, the command-argument checks and the date/flag
 * helpers are plain C, so they can be unit-tested and fuzzed on their own
 * (tests/c, fuzz/).  The binding (module.c, imap4*.c) turns their results
 * into Python objects.
 *
 * Conventions: wire data is `const unsigned char *` + `size_t` length;
 * spans returned by the classifier point into the caller's line and are
 * valid as long as that line is.  Functions never read outside [p, p+len).
 */
#ifndef IMAPC_H
#define IMAPC_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Receive buffer                                                      */
/* ------------------------------------------------------------------ */

/* Bytes live in data[start, end); data[end, cap) is free space.  `scan`
 * is how far past `start` the current line has already been searched for
 * LF, so a long line arriving in small pieces is scanned once (dovecot's
 * cur_pos), not once per piece. */
typedef struct {
    unsigned char *data;
    size_t start;
    size_t end;
    size_t cap;
    size_t scan;
} imapc_rbuf;

void imapc_rbuf_init(imapc_rbuf *b);
void imapc_rbuf_free(imapc_rbuf *b);

static inline size_t
imapc_rbuf_avail(const imapc_rbuf *b)
{
    return b->end - b->start;
}

static inline const unsigned char *
imapc_rbuf_peek(const imapc_rbuf *b)
{
    /* data is NULL until the first reserve(); NULL + 0 is still UB */
    return b->data != NULL ? b->data + b->start : (const unsigned char *)"";
}

/* Make at least `want` bytes of free space after `end`, compacting first
 * and growing only if needed.  Returns the write position and the usable
 * space in *space_out, or NULL when memory is exhausted. */
unsigned char *imapc_rbuf_reserve(imapc_rbuf *b, size_t want, size_t *space_out);

/* Record that n bytes were written at the position reserve() returned. */
void imapc_rbuf_commit(imapc_rbuf *b, size_t n);

/* Drop n buffered bytes (n <= avail). */
void imapc_rbuf_consume(imapc_rbuf *b, size_t n);

/* Drop everything; keep a small allocation, release a big one. */
void imapc_rbuf_clear(imapc_rbuf *b);

typedef enum {
    IMAPC_LINE_FOUND = 0,     /* *len_out = line length including LF   */
    IMAPC_LINE_NEED_MORE = 1, /* no LF yet and fewer than max+1 bytes   */
    IMAPC_LINE_TOO_LONG = 2,  /* no LF within the first max bytes       */
} imapc_line_status;

/* Find the next line, imaplib-style: `file.readline(max + 1)` and reject a
 * result longer than `max` (CPython's _MAXLINE check).  A line is accepted
 * when its length including the LF is <= max. */
imapc_line_status imapc_rbuf_find_line(imapc_rbuf *b, size_t max, size_t *len_out);

/* ------------------------------------------------------------------ */
/* Response-line classification (RFC 3501 §7, as imaplib's regexes)    */
/* ------------------------------------------------------------------ */

/* One span of the line.  `present` distinguishes an empty match from a
 * group that did not participate (the regex group is None). */
typedef struct {
    size_t off;
    size_t len;
    int present;
} imapc_span;

typedef enum {
    IMAPC_RESP_UNEXPECTED = 0, /* none of imaplib's patterns match        */
    IMAPC_RESP_TAGGED,         /* tagre: TAG + digits SP [A-Z]+ SP text   */
    IMAPC_RESP_UNTAGGED,       /* Untagged_response: "* " [A-Z-]+ [SP text] */
    IMAPC_RESP_STATUS,         /* Untagged_status: "* " digits SP [A-Z-]+ [SP text] */
    IMAPC_RESP_CONTINUATION,   /* Continuation: "+" [SP text]             */
} imapc_resp_kind;

typedef struct {
    imapc_resp_kind kind;
    imapc_span tag;   /* TAGGED: tag prefix + digits                      */
    imapc_span type;  /* TAGGED/UNTAGGED/STATUS: the status or type word   */
    imapc_span num;   /* STATUS: the leading number                        */
    imapc_span text;  /* text after "type SP" (TAGGED: always present),
                         CONTINUATION: text after "+ "                    */
} imapc_resp;

/* Classify one line (without CRLF) the way imaplib's _get_response tries
 * its patterns: tagre first, then Untagged_response, Untagged_status and
 * Continuation.  `tagpre` is the connection's tag prefix. */
void imapc_resp_classify(const unsigned char *line, size_t len,
                         const unsigned char *tagpre, size_t tagpre_len,
                         imapc_resp *out);

/* The same for a line known to contain no LF (what the line framer
 * returns, CRLF stripped): the text spans are not searched for one. */
void imapc_resp_classify_nolf(const unsigned char *line, size_t len,
                              const unsigned char *tagpre, size_t tagpre_len,
                              imapc_resp *out);

/* Literal announcement at the end of `dat` (imaplib's `.*{(\d+)}$`).
 * Returns 1 and stores the size (saturated at UINT64_MAX: such a literal
 * can never complete, and is read until EOF like any other) and the
 * offset of the digits in *digits_off; 0 when there is none. */
int imapc_literal_size(const unsigned char *dat, size_t len,
                       uint64_t *size_out, size_t *digits_off);

/* Response code at the start of `dat` (imaplib's Response_code:
 * `\[([A-Z-]+)( (.*))?\]`, greedy, so data runs to the LAST ']').
 * Returns 1 on a match, filling type and data (data.present == 0 when the
 * optional group did not match). */
int imapc_resp_code(const unsigned char *dat, size_t len,
                    imapc_span *type, imapc_span *data);

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/* Index of the first CR, LF or NUL in an argument, or -1.  Only literals
 * may carry these bytes; in a command line they would split it into a
 * second, injected command (CVE-2025-15366). */
ptrdiff_t imapc_arg_ctl(const unsigned char *p, size_t len);

/* Int2AP: |num| in base 16 with digits "ABCDEFGHIJKLMNOP", most
 * significant first; 0 gives "".  `out` needs 16 bytes; returns length. */
size_t imapc_int2ap(uint64_t num, unsigned char out[16]);

/* imaplib's MapCRLF.sub(CRLF, msg) (pattern \r\n|\r|\n): every CRLF, lone
 * CR and lone LF becomes CRLF.  imapc_crlf_size returns the output size
 * (at most 2 * len) and sets *changed when the output differs from the
 * input (a lone CR or LF); imapc_crlf_copy writes that many bytes to dst. */
size_t imapc_crlf_size(const unsigned char *p, size_t len, int *changed);
void imapc_crlf_copy(unsigned char *dst, const unsigned char *p, size_t len);

/* ------------------------------------------------------------------ */
/* Flags and dates                                                     */
/* ------------------------------------------------------------------ */

/* ParseFlags: imaplib's `.*FLAGS \(([^)]*)\)` (greedy: the last "FLAGS ("
 * on the first line that is followed by a ')').  Returns 1 and the span of
 * the flag list, 0 when there is none. */
int imapc_flags_span(const unsigned char *p, size_t len, imapc_span *flags);

typedef struct {
    int day, mon, year, hour, min, sec;
    int zone_sign;       /* +1 or -1 */
    int zone_h, zone_m;
    size_t mon_off;      /* offset of the 3-letter month in the input   */
} imapc_idate;

/* Internaldate2tuple's pattern `.*INTERNALDATE "DD-Mon-YYYY HH:MM:SS +ZZZZ"`
 * (greedy: the last match on the first line).  `mon` is 1..12, or 0 when
 * the month name is not one of Jan..Dec (the caller reports it). */
int imapc_idate_parse(const unsigned char *p, size_t len, imapc_idate *out);

/* Seconds since the epoch of a UTC civil time (calendar.timegm). */
int64_t imapc_timegm(int64_t year, int mon, int day, int hour, int min, int sec);

/* English month abbreviation, 1..12 ("" otherwise): locale independent. */
const char *imapc_month_name(int mon);

#endif /* IMAPC_H */
