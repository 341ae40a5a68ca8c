/* describe.h - one-line text renderings of the core's parse results.
 *
 * The same renderings are produced from Python's `re` on imaplib's own
 * patterns (csrc/core/tests/imaplib_oracle.py), so a C result and a regex result
 * compare as strings: in the generated tables (cases_gen.h), in the
 * hand-written tables and in the differential test (tests/test_core_c.py
 * driving csrc/core/tests/build/oracle).
 *
 *   classify  UNEXPECTED | TAGGED tag@O="..." type@O="..." text@O="..."
 *             | UNTAGGED type@O="..." text=None|text@O="..."
 *             | STATUS num@O="..." type@O="..." text=...
 *             | CONTINUATION text=None|text@O="..."
 *   literal   NOLITERAL | LITERAL size=N digits@O
 *   respcode  NOCODE | CODE type@O="..." data=None|data@O="..."
 *
 * Bytes are written as themselves when printable ASCII, `\\` and `\"` for
 * backslash and quote, `\xHH` otherwise.
 */
#ifndef IMAPC_DESCRIBE_H
#define IMAPC_DESCRIBE_H

#include "imapc_cmd.h"
#include "imapc_framer.h"
#include "imapc_rbuf.h"
#include "imapc_resp.h"

#include <stddef.h>

/* A growable NUL-terminated string. */
typedef struct {
    char *s;
    size_t len, cap;
} dstr;

void dstr_init(dstr *d);
void dstr_free(dstr *d);
void dstr_putc(dstr *d, char c);
void dstr_puts(dstr *d, const char *s);
void dstr_printf(dstr *d, const char *fmt, ...);
/* Append `"..."` with the escaping described above. */
void dstr_quote(dstr *d, const unsigned char *p, size_t n);

void describe_classify(dstr *d, const unsigned char *p, size_t n,
                       const unsigned char *tagpre, size_t tagpre_len);
void describe_literal(dstr *d, const unsigned char *p, size_t n);
void describe_respcode(dstr *d, const unsigned char *p, size_t n);
/* All three, separated by TAB (as in cases_gen.h and the oracle output). */
void describe_all(dstr *d, const unsigned char *p, size_t n,
                  const unsigned char *tagpre, size_t tagpre_len);

/* Decode C-style escapes (\r \n \t \0 \\ \" \xHH) into out; returns the
 * length, or (size_t)-1 on a malformed escape.  out must hold strlen(s). */
size_t unescape(const char *s, size_t n, unsigned char *out);

#endif
