/* test_resp.c - the response-line classifier, literal sizes, response codes.
 *
 * Three kinds of table:
 *  - hand-written cases with human-checked expectations (the edge cases
 *    named in the house style and the spec, §1.5);
 *  - cases_gen.h: several hundred lines whose expected renderings were
 *    computed by CPython's `re` on imaplib's own patterns (gen_cases.py);
 *  - the same generated lines re-run at every prefix length, copied right
 *    before a PROT_NONE page, checking the spans stay inside the input.
 * tests/test_core_c.py adds a random differential test against `re`.
 */
#include "cases_gen.h"
#include "describe.h"
#include "guard.h"
#include "tap.h"

#define L(s) (const unsigned char *)(s), sizeof(s) - 1

typedef struct {
    const unsigned char *in;
    size_t len;
    const char *want;
} hcase;

/* Tag prefix "ABCD". */
static const hcase classify_cases[] = {
    /* tagged: TAG SP [A-Z]+ SP text -- the space after the type is required */
    {L("ABCD1 OK done"), "TAGGED tag@0=\"ABCD1\" type@6=\"OK\" text@9=\"done\""},
    {L("ABCD1 OK "), "TAGGED tag@0=\"ABCD1\" type@6=\"OK\" text@9=\"\""},
    {L("ABCD1 OK"), "UNEXPECTED"},
    {L("ABCD1 ok done"), "UNEXPECTED"},
    {L("ABCD1 OK-X y"), "UNEXPECTED"},
    {L("ABCD OK x"), "UNEXPECTED"},
    {L("ABCD1\nOK x"), "UNEXPECTED"},
    {L("ABCD1 OK a\nb"), "TAGGED tag@0=\"ABCD1\" type@6=\"OK\" text@9=\"a\""},
    {L("ABCD1 OK \n"), "TAGGED tag@0=\"ABCD1\" type@6=\"OK\" text@9=\"\""},
    {L("ABCD0042 BAD x"), "TAGGED tag@0=\"ABCD0042\" type@9=\"BAD\" text@13=\"x\""},
    /* untagged: "* " [A-Z-]+ ( SP text)? */
    {L("* OK"), "UNTAGGED type@2=\"OK\" text=None"},
    {L("* OK "), "UNTAGGED type@2=\"OK\" text@5=\"\""},
    {L("* OK IMAP4rev1"), "UNTAGGED type@2=\"OK\" text@5=\"IMAP4rev1\""},
    {L("* OK[ALERT] x"), "UNTAGGED type@2=\"OK\" text=None"},
    {L("* -"), "UNTAGGED type@2=\"-\" text=None"},
    {L("* ok hi"), "UNEXPECTED"},
    {L("*OK"), "UNEXPECTED"},
    {L("* OK a\nb"), "UNTAGGED type@2=\"OK\" text@5=\"a\""},
    {L("* OK \xff\x80"), "UNTAGGED type@2=\"OK\" text@5=\"\\xff\\x80\""},
    {L("* OK \0x"), "UNTAGGED type@2=\"OK\" text@5=\"\\x00x\""},
    {L("* \xff"), "UNEXPECTED"},
    /* untagged status: "* " digits SP [A-Z-]+ ( SP text)? */
    {L("* 1 FETCH"), "STATUS num@2=\"1\" type@4=\"FETCH\" text=None"},
    {L("* 1 FETCH "), "STATUS num@2=\"1\" type@4=\"FETCH\" text@10=\"\""},
    {L("* 1 FETCH (UID 7)"), "STATUS num@2=\"1\" type@4=\"FETCH\" text@10=\"(UID 7)\""},
    {L("* 1 fetch"), "UNEXPECTED"},
    {L("* 1  FETCH"), "UNEXPECTED"},
    {L("* 1"), "UNEXPECTED"},
    /* continuation: "+" ( SP text)? -- any line starting with '+' */
    {L("+"), "CONTINUATION text=None"},
    {L("+ "), "CONTINUATION text@2=\"\""},
    {L("+abc"), "CONTINUATION text=None"},
    {L("+ go\nahead"), "CONTINUATION text@2=\"go\""},
    /* nothing matches */
    {L(""), "UNEXPECTED"},
    {L("\0"), "UNEXPECTED"},
    {L("\n"), "UNEXPECTED"},
    {L(" +"), "UNEXPECTED"},
};

static const hcase literal_cases[] = {
    {L("{5}"), "LITERAL size=5 digits@1"},
    {L("1 (BODY[] {12}"), "LITERAL size=12 digits@11"},
    {L("x {0}"), "LITERAL size=0 digits@3"},
    {L("{}"), "NOLITERAL"},
    {L("{12a}"), "NOLITERAL"},
    {L("{a12}"), "NOLITERAL"},
    {L("{5}\n"), "LITERAL size=5 digits@1"}, /* $ matches before a final LF */
    {L("{5}\n\n"), "NOLITERAL"},
    {L("ab\n{5}"), "NOLITERAL"}, /* .* cannot cross the LF before the brace */
    {L("ab{5}\n"), "LITERAL size=5 digits@3"},
    {L("{5}x"), "NOLITERAL"},
    {L("{5} "), "NOLITERAL"},
    {L("{5}\r"), "NOLITERAL"},
    {L("{-5}"), "NOLITERAL"},
    {L("{5+}"), "NOLITERAL"},
    {L("~{5}"), "LITERAL size=5 digits@2"},
    {L("{1{2}"), "LITERAL size=2 digits@3"},
    {L("{18446744073709551615}"), "LITERAL size=18446744073709551615 digits@1"},
    {L("{18446744073709551616}"), "LITERAL size=18446744073709551615 digits@1"}, /* saturates */
    {L("{99999999999999999999999999}"), "LITERAL size=18446744073709551615 digits@1"},
    {L("{000000000000000000000000000007}"), "LITERAL size=7 digits@1"},
    {L("\xff\0{3}"), "LITERAL size=3 digits@3"},
};

static const hcase respcode_cases[] = {
    {L("[READ-WRITE]"), "CODE type@1=\"READ-WRITE\" data=None"},
    {L("[READ-WRITE] SELECT completed"), "CODE type@1=\"READ-WRITE\" data=None"},
    {L("[UIDVALIDITY 42] ok"), "CODE type@1=\"UIDVALIDITY\" data@13=\"42\""},
    {L("[A b] c] d"), "CODE type@1=\"A\" data@3=\"b] c\""}, /* greedy: the last ']' */
    {L("[X-GM-LABELS (\\Inbox [a])] done"),
     "CODE type@1=\"X-GM-LABELS\" data@13=\"(\\\\Inbox [a])\""},
    {L("[A ]"), "CODE type@1=\"A\" data@3=\"\""},
    {L("[A-B]"), "CODE type@1=\"A-B\" data=None"},
    {L("[-]"), "CODE type@1=\"-\" data=None"},
    {L("[ALERT]x"), "CODE type@1=\"ALERT\" data=None"},
    {L("[A b]\n]"), "CODE type@1=\"A\" data@3=\"b\""}, /* .* stops at LF */
    {L("[A \n]"), "NOCODE"},
    {L("[A b"), "NOCODE"},
    {L("[A"), "NOCODE"},
    {L("[]"), "NOCODE"},
    {L("[ A]"), "NOCODE"},
    {L("[a]"), "NOCODE"},
    {L("[A1]"), "NOCODE"},
    {L(" [ALERT]"), "NOCODE"},
};

typedef void (*describe_fn)(dstr *, const unsigned char *, size_t);

static void
describe_classify_abcd(dstr *d, const unsigned char *p, size_t n)
{
    describe_classify(d, p, n, (const unsigned char *)"ABCD", 4);
}

static void
run_table(const char *name, const hcase *t, size_t n, describe_fn fn)
{
    size_t i;
    for (i = 0; i < n; i++) {
        guard_buf g;
        dstr d;
        dstr_init(&d);
        guard_copy(&g, t[i].in, t[i].len);
        fn(&d, g.p, t[i].len);
        is_str(d.s, t[i].want, "%s[%zu]", name, i);
        dstr_free(&d);
        guard_free(&g);
    }
}

static void
test_generated(void)
{
    size_t i, n = sizeof(gen_line_cases) / sizeof(gen_line_cases[0]), bad = 0;
    for (i = 0; i < n; i++) {
        const gen_line_case *c = &gen_line_cases[i];
        guard_buf g;
        dstr d;
        dstr_init(&d);
        guard_copy(&g, c->line, c->len);
        describe_all(&d, g.p, c->len, (const unsigned char *)c->tagpre, strlen(c->tagpre));
        if (strcmp(d.s, c->want) != 0) {
            bad++;
            is_str(d.s, c->want, "generated case %zu differs from imaplib's regexes", i);
        }
        dstr_free(&d);
        guard_free(&g);
    }
    ok(bad == 0, "%zu generated lines agree with imaplib's regexes (%zu differ)", n, bad);
}

static int
span_ok(const imapc_span *s, size_t n)
{
    return !s->present || (s->off <= n && s->len <= n - s->off);
}

/* Every prefix of every generated line, right before a guard page: no
 * read past the end, every span inside the input. */
static void
test_prefixes(void)
{
    size_t i, n = sizeof(gen_line_cases) / sizeof(gen_line_cases[0]), runs = 0, bad = 0;
    for (i = 0; i < n; i++) {
        const gen_line_case *c = &gen_line_cases[i];
        size_t k;
        for (k = 0; k <= c->len; k++) {
            guard_buf g;
            imapc_resp r;
            imapc_span a, b;
            uint64_t sz;
            size_t off;
            guard_copy(&g, c->line, k);
            imapc_resp_classify(g.p, k, (const unsigned char *)c->tagpre, strlen(c->tagpre), &r);
            bad += !(span_ok(&r.tag, k) && span_ok(&r.type, k) && span_ok(&r.num, k)
                     && span_ok(&r.text, k));
            if (imapc_literal_size(g.p, k, &sz, &off))
                bad += !(off > 0 && off < k && g.p[off - 1] == '{');
            if (imapc_resp_code(g.p, k, &a, &b))
                bad += !(span_ok(&a, k) && span_ok(&b, k) && a.present && a.len > 0);
            guard_free(&g);
            runs++;
        }
    }
    ok(bad == 0, "%zu prefixes at a guard page: spans in bounds (%zu bad)", runs, bad);
}

static void
test_misc(void)
{
    imapc_resp r;
    uint64_t sz = 7;
    size_t off = 9;
    imapc_span a, b;

    /* A zero-length tag prefix never yields a tagged response (imaplib's
     * prefix is never empty; the core does not guess). */
    imapc_resp_classify(L("1 OK x"), (const unsigned char *)"", 0, &r);
    ok(r.kind == IMAPC_RESP_UNEXPECTED, "empty tag prefix: no tagged match");
    /* The whole struct is reset: no stale spans from the tagged attempt. */
    imapc_resp_classify(L("ABCD1 OK"), (const unsigned char *)"ABCD", 4, &r);
    ok(r.kind == IMAPC_RESP_UNEXPECTED && !r.tag.present && !r.type.present && !r.text.present,
       "failed tagged match leaves no spans behind");
    imapc_resp_classify(L("* 1 x"), (const unsigned char *)"ABCD", 4, &r);
    ok(!r.num.present && !r.type.present, "failed status match leaves no spans behind");
    /* No match leaves the outputs alone (literal) or cleared (resp code). */
    ok(!imapc_literal_size(L("{x}"), &sz, &off) && sz == 7 && off == 9,
       "literal_size: no match, outputs untouched");
    ok(!imapc_resp_code(L("[a]"), &a, &b) && !a.present && !b.present,
       "resp_code: no match, spans cleared");
    /* Nothing is read at or beyond len. */
    ok(imapc_literal_size((const unsigned char *)"{5}}", 3, &sz, &off) && sz == 5,
       "literal_size honours len");
    imapc_resp_classify((const unsigned char *)"+ xyz", 1, NULL, 0, &r);
    ok(r.kind == IMAPC_RESP_CONTINUATION && !r.text.present, "classify honours len");
}

int
main(void)
{
    run_table("classify", classify_cases, sizeof(classify_cases) / sizeof(classify_cases[0]),
              describe_classify_abcd);
    run_table("literal", literal_cases, sizeof(literal_cases) / sizeof(literal_cases[0]),
              describe_literal);
    run_table("respcode", respcode_cases, sizeof(respcode_cases) / sizeof(respcode_cases[0]),
              describe_respcode);
    test_generated();
    test_prefixes();
    test_misc();
    return done_testing();
}
