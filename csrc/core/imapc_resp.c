/* imapc_resp.c - classify a response line exactly as imaplib's regexes do.
 *
 * imaplib (3.11) matches, in order (all with re.match, i.e. anchored at the
 * start only, and `.` never crossing LF):
 *   tagre             (?P<tag>TAGPRE\d+) (?P<type>[A-Z]+) (?P<data>.*)
 *   Untagged_response \* (?P<type>[A-Z-]+)( (?P<data>.*))?
 *   Untagged_status   \* (?P<data>\d+) (?P<type>[A-Z-]+)( (?P<data2>.*))?
 *   Continuation      \+( (?P<data>.*))?
 *   Literal           .*{(?P<size>\d+)}$
 *   Response_code     \[(?P<type>[A-Z-]+)( (?P<data>.*))?\]
 * Every run of a character class followed by a fixed separator can only
 * match maximally, so a single forward scan reproduces each pattern.
 * Grammar reference: RFC 3501 §7 (response), §7.1 (resp-text-code).
 */
#include "imapc_resp.h"

#include <string.h>

/* Character classes of the patterns, one table lookup per byte:
 *   DIGIT  \d in a bytes pattern: ASCII digits only (with or without re.ASCII)
 *   UPPER  [A-Z]      (the status word of tagre)
 *   TYPE   [A-Z-]     (type words and response-code names) */
enum { C_DIGIT = 1, C_UPPER = 2, C_TYPE = 4 };

static const unsigned char char_class[256] = {
    ['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT, ['4'] = C_DIGIT,
    ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT, ['8'] = C_DIGIT, ['9'] = C_DIGIT,
    ['-'] = C_TYPE,
    ['A'] = C_UPPER | C_TYPE, ['B'] = C_UPPER | C_TYPE, ['C'] = C_UPPER | C_TYPE,
    ['D'] = C_UPPER | C_TYPE, ['E'] = C_UPPER | C_TYPE, ['F'] = C_UPPER | C_TYPE,
    ['G'] = C_UPPER | C_TYPE, ['H'] = C_UPPER | C_TYPE, ['I'] = C_UPPER | C_TYPE,
    ['J'] = C_UPPER | C_TYPE, ['K'] = C_UPPER | C_TYPE, ['L'] = C_UPPER | C_TYPE,
    ['M'] = C_UPPER | C_TYPE, ['N'] = C_UPPER | C_TYPE, ['O'] = C_UPPER | C_TYPE,
    ['P'] = C_UPPER | C_TYPE, ['Q'] = C_UPPER | C_TYPE, ['R'] = C_UPPER | C_TYPE,
    ['S'] = C_UPPER | C_TYPE, ['T'] = C_UPPER | C_TYPE, ['U'] = C_UPPER | C_TYPE,
    ['V'] = C_UPPER | C_TYPE, ['W'] = C_UPPER | C_TYPE, ['X'] = C_UPPER | C_TYPE,
    ['Y'] = C_UPPER | C_TYPE, ['Z'] = C_UPPER | C_TYPE,
};

static inline int
is_digit(unsigned char c)
{
    return char_class[c] & C_DIGIT;
}

static inline int
is_upper(unsigned char c)
{
    return char_class[c] & C_UPPER;
}

static inline int
is_upper_dash(unsigned char c)
{
    return char_class[c] & C_TYPE;
}

/* Length of the text `.*` can take from `off`: up to the first LF. */
static size_t
dot_run(const unsigned char *p, size_t len, size_t off)
{
    const unsigned char *lf = memchr(p + off, '\n', len - off);
    return lf ? (size_t)(lf - (p + off)) : len - off;
}

static void
span_set(imapc_span *s, size_t off, size_t len)
{
    s->off = off;
    s->len = len;
    s->present = 1;
}

static inline int
match_tagged(const unsigned char *p, size_t len, const unsigned char *tagpre,
             size_t tagpre_len, imapc_resp *out, int no_lf)
{
    size_t i, t0;

    if (tagpre_len == 0 || len < tagpre_len || memcmp(p, tagpre, tagpre_len) != 0)
        return 0;
    i = tagpre_len;
    while (i < len && is_digit(p[i]))
        i++;
    if (i == tagpre_len || i >= len || p[i] != ' ')
        return 0;
    span_set(&out->tag, 0, i);
    t0 = ++i;
    while (i < len && is_upper(p[i]))
        i++;
    if (i == t0 || i >= len || p[i] != ' ')
        return 0;
    span_set(&out->type, t0, i - t0);
    i++;
    span_set(&out->text, i, no_lf ? len - i : dot_run(p, len, i));
    out->kind = IMAPC_RESP_TAGGED;
    return 1;
}

/* "[A-Z-]+( (.*))?" from i: the type word and the optional text. */
static inline int
match_type_text(const unsigned char *p, size_t len, size_t i, imapc_resp *out, int no_lf)
{
    size_t t0 = i;
    while (i < len && is_upper_dash(p[i]))
        i++;
    if (i == t0)
        return 0;
    span_set(&out->type, t0, i - t0);
    if (i < len && p[i] == ' ')
        span_set(&out->text, i + 1, no_lf ? len - (i + 1) : dot_run(p, len, i + 1));
    return 1;
}

/* Field by field: a memset of the struct compiles to `rep stos`, whose
 * start-up cost was a third of this file's time on a FETCH run. */
static inline void
span_clear(imapc_span *s)
{
    s->off = 0;
    s->len = 0;
    s->present = 0;
}

static inline void
resp_clear(imapc_resp *out)
{
    out->kind = IMAPC_RESP_UNEXPECTED;
    span_clear(&out->tag);
    span_clear(&out->type);
    span_clear(&out->num);
    span_clear(&out->text);
}

static void
classify(const unsigned char *p, size_t len, const unsigned char *tagpre, size_t tagpre_len,
         imapc_resp *out, int no_lf)
{
    resp_clear(out);
    out->kind = IMAPC_RESP_UNEXPECTED;
    if (len == 0)
        return;
    /* tagre is tried first, but can only match a line that starts with
     * the tag prefix's first byte: most lines skip it after one compare. */
    if (tagpre_len > 0 && p[0] == tagpre[0]) {
        if (match_tagged(p, len, tagpre, tagpre_len, out, no_lf))
            return;
        resp_clear(out);
    }
    if (len >= 2 && p[0] == '*' && p[1] == ' ') {
        size_t i = 2;
        if (match_type_text(p, len, 2, out, no_lf)) {
            out->kind = IMAPC_RESP_UNTAGGED;
            return;
        }
        while (i < len && is_digit(p[i]))
            i++;
        if (i > 2 && i < len && p[i] == ' ' && match_type_text(p, len, i + 1, out, no_lf)) {
            span_set(&out->num, 2, i - 2);
            out->kind = IMAPC_RESP_STATUS;
            return;
        }
        resp_clear(out);
    }
    if (len >= 1 && p[0] == '+') {
        out->kind = IMAPC_RESP_CONTINUATION;
        if (len >= 2 && p[1] == ' ')
            span_set(&out->text, 2, no_lf ? len - 2 : dot_run(p, len, 2));
        return;
    }
    out->kind = IMAPC_RESP_UNEXPECTED;
}

void
imapc_resp_classify(const unsigned char *p, size_t len, const unsigned char *tagpre,
                    size_t tagpre_len, imapc_resp *out)
{
    classify(p, len, tagpre, tagpre_len, out, 0);
}

void
imapc_resp_classify_nolf(const unsigned char *p, size_t len, const unsigned char *tagpre,
                         size_t tagpre_len, imapc_resp *out)
{
    classify(p, len, tagpre, tagpre_len, out, 1);
}

int
imapc_literal_size(const unsigned char *p, size_t len, uint64_t *size_out,
                   size_t *digits_off)
{
    size_t end = len, i;
    uint64_t v = 0;

    /* `$` also matches just before a final LF. */
    if (end > 0 && p[end - 1] == '\n')
        end--;
    if (end < 3 || p[end - 1] != '}')
        return 0;
    i = end - 1;
    while (i > 0 && is_digit(p[i - 1]))
        i--;
    if (i == end - 1 || i == 0 || p[i - 1] != '{')
        return 0;
    /* `.*` before the brace may not cross a LF. */
    if (memchr(p, '\n', i - 1) != NULL)
        return 0;
    *digits_off = i;
    for (; i < end - 1; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            v = UINT64_MAX; /* saturate: never completes, read to EOF */
            break;
        }
        v = v * 10 + d;
    }
    *size_out = v;
    return 1;
}

int
imapc_resp_code(const unsigned char *p, size_t len, imapc_span *type,
                imapc_span *data)
{
    size_t i = 1;

    memset(type, 0, sizeof(*type));
    memset(data, 0, sizeof(*data));
    if (len < 3 || p[0] != '[')
        return 0;
    while (i < len && is_upper_dash(p[i]))
        i++;
    if (i == 1 || i >= len)
        return 0;
    if (p[i] == ' ') {
        /* Greedy `.*` then `\]`: the last ']' before any LF. */
        size_t run = dot_run(p, len, i + 1), k = i + 1 + run;
        while (k > i + 1 && p[k - 1] != ']')
            k--;
        if (k == i + 1)
            return 0;
        span_set(type, 1, i - 1);
        span_set(data, i + 1, k - 1 - (i + 1));
        return 1;
    }
    if (p[i] != ']')
        return 0;
    span_set(type, 1, i - 1);
    return 1;
}
