/* imapc_cmd.h - command helpers: argument checks, line ends.
 *
 * Part of the pure-C core (conventions: csrc/core/README.md). */
#ifndef IMAPC_CMD_H
#define IMAPC_CMD_H

#include <stddef.h>

/* Index of the first CR, LF or NUL in an argument, or -1.  Only literals
 * may carry these bytes; in a command line they would split it into a
 * second, injected command (CVE-2025-15366). */
ptrdiff_t imapc_arg_ctl(const unsigned char *p, size_t len);

/* imaplib's MapCRLF.sub(CRLF, msg) (pattern \r\n|\r|\n): every CRLF, lone
 * CR and lone LF becomes CRLF.  imapc_crlf_size returns the output size
 * (at most 2 * len) and sets *changed when the output differs from the
 * input (a lone CR or LF); imapc_crlf_copy writes that many bytes to dst. */
size_t imapc_crlf_size(const unsigned char *p, size_t len, int *changed);
void imapc_crlf_copy(unsigned char *dst, const unsigned char *p, size_t len);

#endif /* IMAPC_CMD_H */
