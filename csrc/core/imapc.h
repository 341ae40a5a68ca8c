/* imapc.h - the pure-C protocol core of imaplib_c.
 *
 * Nothing in csrc/core includes Python.h: the receive buffer, the response
 * framer, the response-line classifier, the command-argument checks and
 * the date/flag helpers are plain C, tested and fuzzed on their own
 * (csrc/core/tests, csrc/core/fuzz) and shipped as they are tested.  One
 * header per part; this one gathers them for the binding:
 *   imapc_rbuf.h    receive buffer and its line finder
 *   imapc_resp.h    response-line classifier, {N} literal, [CODE] spans
 *   imapc_framer.h  the response framer (owns the protocol state)
 *   imapc_cmd.h     command arguments, tags, CRLF mapping
 *   imapc_date.h    FLAGS and INTERNALDATE parsing, calendar helpers
 *
 * Conventions: wire data is `const unsigned char *` + `size_t` length;
 * spans point into the caller's line and are valid as long as that line
 * is.  Functions never read outside [p, p+len).
 */
#ifndef IMAPC_H
#define IMAPC_H

#include "imapc_cmd.h"
#include "imapc_date.h"
#include "imapc_framer.h"
#include "imapc_rbuf.h"
#include "imapc_resp.h"

#endif /* IMAPC_H */
