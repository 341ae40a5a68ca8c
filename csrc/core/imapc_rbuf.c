/* imapc_rbuf.c - the receive buffer and the line framer over it.
 *
 * The binding fills the buffer in large reads (sock.recv_into) and takes
 * lines out of it; literals are copied out by the binding straight into
 * their final bytes object.  Memory follows the bytes actually received:
 * nothing here is sized from a length the server announced.
 */
#include "imapc_rbuf.h"

#include <stdlib.h>
#include <string.h>

/* Below this, a cleared buffer keeps its allocation for the next reply;
 * above it (after a 50 MB SEARCH line, say) the memory is given back. */
#define IMAPC_RBUF_KEEP ((size_t)1 << 20)
#define IMAPC_RBUF_MIN ((size_t)64 << 10)

void
imapc_rbuf_init(imapc_rbuf *b)
{
    memset(b, 0, sizeof(*b));
}

void
imapc_rbuf_free(imapc_rbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

unsigned char *
imapc_rbuf_reserve(imapc_rbuf *b, size_t want, size_t *space_out)
{
    size_t avail = b->end - b->start;

    if (want == 0)
        want = 1;
    b->gen++;
    /* Compact when the dead prefix is worth a memmove: the unread bytes
     * are usually a short tail of the previous read. */
    if (b->start > 0 && (b->cap - b->end < want || b->start >= b->cap / 2)) {
        if (avail)
            memmove(b->data, b->data + b->start, avail);
        b->start = 0;
        b->end = avail;
    }
    if (b->cap - b->end < want) {
        size_t need, cap;
        unsigned char *p;
        if (want > SIZE_MAX - b->end)
            return NULL;
        need = b->end + want;
        cap = b->cap ? b->cap : IMAPC_RBUF_MIN;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                cap = need;
                break;
            }
            cap *= 2;
        }
        p = realloc(b->data, cap);
        if (p == NULL)
            return NULL;
        b->data = p;
        b->cap = cap;
    }
    *space_out = b->cap - b->end;
    return b->data + b->end;
}

void
imapc_rbuf_commit(imapc_rbuf *b, size_t n)
{
    b->end += n;
}


void
imapc_rbuf_clear(imapc_rbuf *b)
{
    b->start = b->end = b->scan = 0;
    b->gen++;
    if (b->cap > IMAPC_RBUF_KEEP) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
}

imapc_line_status
imapc_rbuf_find_line(imapc_rbuf *b, size_t max, size_t *len_out)
{
    size_t avail = b->end - b->start;
    size_t limit = avail < max ? avail : max; /* LF must be within max */
    const unsigned char *base, *lf;

    /* An empty buffer may not be allocated yet (data == NULL), and even
     * NULL + 0 is undefined behaviour (clang's UBSan reports it). */
    if (avail == 0)
        return IMAPC_LINE_NEED_MORE;
    base = b->data + b->start;
    if (b->scan < limit) {
        lf = memchr(base + b->scan, '\n', limit - b->scan);
        if (lf != NULL) {
            *len_out = (size_t)(lf - base) + 1;
            return IMAPC_LINE_FOUND;
        }
        b->scan = limit;
    }
    /* readline(max + 1) would return max + 1 bytes: longer than max. */
    if (avail > max)
        return IMAPC_LINE_TOO_LONG;
    return IMAPC_LINE_NEED_MORE;
}
