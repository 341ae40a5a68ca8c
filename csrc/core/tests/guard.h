/* guard.h - place test input right before an inaccessible page.
 *
 * guard_copy(p, n) returns a copy of p whose last byte is the last byte
 * of a readable page followed by a PROT_NONE page (picohttpparser's
 * trick): any read past the end faults even without a sanitizer.
 * Falls back to a plain malloc'd copy where mmap is unavailable.
 */
#ifndef IMAPC_GUARD_H
#define IMAPC_GUARD_H

#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define GUARD_MMAP 1
#endif

typedef struct {
    unsigned char *base;
    size_t maplen;
    unsigned char *p;
} guard_buf;

static int
guard_copy(guard_buf *g, const void *src, size_t n)
{
#ifdef GUARD_MMAP
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (n + page - 1) / page + 1;
    void *m = mmap(NULL, (data_pages + 1) * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
        g->base = m;
        g->maplen = (data_pages + 1) * page;
        if (mprotect(g->base + data_pages * page, page, PROT_NONE) != 0) {
            munmap(m, g->maplen);
        } else {
            g->p = g->base + data_pages * page - n;
            if (n)
                memcpy(g->p, src, n);
            return 1;
        }
    }
#endif
    g->base = NULL;
    g->maplen = 0;
    g->p = malloc(n ? n : 1);
    if (g->p == NULL)
        abort();
    if (n)
        memcpy(g->p, src, n);
    return 0;
}

static void
guard_free(guard_buf *g)
{
#ifdef GUARD_MMAP
    if (g->base) {
        munmap(g->base, g->maplen);
        g->base = NULL;
        return;
    }
#endif
    free(g->p);
}

#endif
