/* imapc_cmd.c - pieces of command encoding: tag letters, argument checks. */
#include "imapc.h"

#include <string.h>

ptrdiff_t
imapc_arg_ctl(const unsigned char *p, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '\r' || c == '\n' || c == '\0')
            return (ptrdiff_t)i;
    }
    return -1;
}

size_t
imapc_int2ap(uint64_t num, unsigned char out[16])
{
    static const char digits[] = "ABCDEFGHIJKLMNOP";
    unsigned char tmp[16];
    size_t n = 0, i;

    while (num && n < sizeof(tmp)) {
        tmp[n++] = (unsigned char)digits[num & 15];
        num >>= 4;
    }
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}
