/* imapc_rbuf.h - the receive buffer and its line finder.
 *
 * Part of the pure-C core (conventions: csrc/core/README.md). */
#ifndef IMAPC_RBUF_H
#define IMAPC_RBUF_H

#include <stddef.h>
#include <stdint.h>
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
    /* Changes whenever bytes may move or be overwritten (reserve, clear):
     * a span into the buffer taken under one gen is stale under another. */
    unsigned gen;
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

/* Drop n buffered bytes (n <= avail).  Inline: once per line. */
static inline void
imapc_rbuf_consume(imapc_rbuf *b, size_t n)
{
    b->start += n;
    b->scan = 0;
    if (b->start == b->end)
        b->start = b->end = 0;
}

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

#endif /* IMAPC_RBUF_H */
