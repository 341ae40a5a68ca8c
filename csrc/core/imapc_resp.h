/* imapc_resp.h - response-line classification (RFC 3501 §7, as imaplib's regexes).
 *
 * Part of the pure-C core (conventions: csrc/core/README.md). */
#ifndef IMAPC_RESP_H
#define IMAPC_RESP_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* IMAPC_RESP_H */
