/* libFuzzer harness for ipcbox pool's pure parts: the input is split at
 * the first NUL into a template and values (newline-separated). The
 * template is parsed and expanded; the shell decision is checked (a
 * template run without a shell has only plain literal bytes, so its
 * command line and its words must agree: the line split on blanks, with
 * quotes removed, gives the words, whenever no value holds a blank), and
 * every quoted value must read back through a tiny sh single-quote
 * parser. The rest of the input is also read as a job log. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/apps/pool/joblog.c"
#include "../src/apps/pool/policy.c"
#include "../src/apps/pool/template.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "check failed: %s\n", #x), abort()))

/* Undo sh quoting of the kind tpl_quote writes: '...' and "'" pieces. */
static size_t unquote(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\'') {
            i++;
            while (i < n && s[i] != '\'')
                out[o++] = s[i++];
            CHECK(i < n);
            i++;
        } else if (s[i] == '"') {
            i++;
            while (i < n && s[i] != '"')
                out[o++] = s[i++];
            CHECK(i < n);
            i++;
        } else {
            out[o++] = s[i++];
        }
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    size_t tl = strlen(in);
    const char *rest = in + tl + (tl < size ? 1 : 0);
    size_t restlen = size - (size_t)(rest - in);
    if (tl >= size)
        rest = in + size, restlen = 0;

    /* values: the rest, split at newlines (at most 8) */
    const char *v[8];
    size_t vl[8], nv = 0;
    bool blank_value = false;
    const char *p = rest, *end = rest + restlen;
    while (nv < 8) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        v[nv] = p;
        vl[nv] = (size_t)(e - p);
        for (const char *q = p; q < e; q++)
            if (*q == ' ' || *q == '\t' || *q == '\0')
                blank_value = true;
        nv++;
        if (!nl)
            break;
        p = nl + 1;
    }

    /* each value quoted reads back as itself */
    for (size_t i = 0; i < nv; i++) {
        struct tpl_buf q = {0};
        CHECK(tpl_quote(v[i], vl[i], &q) == 0);
        char *back = malloc(q.len + 1);
        size_t bl = unquote(q.p, q.len, back);
        CHECK(bl == vl[i] && !memcmp(back, v[i], bl));
        free(back);
        tpl_buf_free(&q);
        const char *m;
        size_t ml;
        for (int mod = TPL_M_NONE; mod <= TPL_M_BASENOEXT; mod++) {
            tpl_modify((enum tpl_mod)mod, v[i], vl[i], &m, &ml);
            CHECK(ml <= vl[i] || ml == 1);
        }
    }

    struct tpl t;
    if (tpl_parse(&t, in) == 0) {
        struct tpl_job j = {.v = v, .vlen = vl, .nv = nv, .seq = 42, .slot = 3};
        struct tpl_buf line = {0}, words = {0};
        CHECK(tpl_line(&t, &j, &line) == 0);
        if (!t.shell) {
            CHECK(t.prog && *t.prog);
            long n = tpl_words(&t, &j, &words);
            CHECK(n >= 1);
            CHECK(!strncmp(words.p, t.prog, strlen(t.prog) + 1));
            if (!blank_value) {
                /* split the line on blanks outside quotes, unquote each */
                char *w = malloc(line.len + 1);
                size_t wi = 0, k = 0;
                long count = 0;
                const char *s = line.p, *se = line.p + line.len;
                while (s < se) {
                    while (s < se && (*s == ' ' || *s == '\t'))
                        s++;
                    if (s == se)
                        break;
                    const char *b = s;
                    char quote = 0;
                    while (s < se && (quote || (*s != ' ' && *s != '\t'))) {
                        if (quote && *s == quote)
                            quote = 0;
                        else if (!quote && (*s == '\'' || *s == '"'))
                            quote = *s;
                        s++;
                    }
                    wi = unquote(b, (size_t)(s - b), w);
                    CHECK(k + wi <= words.len && !memcmp(words.p + k, w, wi) &&
                          words.p[k + wi] == '\0');
                    k += wi + 1;
                    count++;
                }
                CHECK(count == n && k == words.len);
                free(w);
            }
        }
        tpl_buf_free(&line);
        tpl_buf_free(&words);
        tpl_free(&t);
    }

    /* the whole input as a job log */
    struct joblog_done d;
    size_t bad;
    if (joblog_read((const char *)data, size, size & 1, &d, &bad) == 0) {
        for (size_t i = 1; i < d.n; i++)
            CHECK(d.seq[i - 1] < d.seq[i]);
        joblog_done_free(&d);
    }
    /* and its first line as a record, formatted and read back */
    struct joblog_rec r;
    const char *nl = memchr(data, '\n', size);
    if (joblog_parse((const char *)data, nl ? (size_t)(nl - (const char *)data) : size, &r) == 0) {
        char out[8192];
        int n = joblog_format(&r, out, sizeof out);
        struct joblog_rec r2;
        if (n > 0 && (size_t)n < sizeof out && !memchr(r.cmd, '\n', r.cmdlen)) {
            CHECK(joblog_parse(out, (size_t)n - 1, &r2) == 0);
            CHECK(r2.seq == r.seq && r2.exitval == r.exitval && r2.sig == r.sig);
        }
    }
    /* the option parsers take any text */
    struct halt h;
    unsigned jobs;
    uint64_t ms;
    if (halt_parse(in, &h) == 0)
        CHECK(h.value >= 0 && (!h.pct || h.value <= 100));
    if (pool_parse_jobs(in, 2, &jobs) == 0)
        CHECK(jobs >= 1 && jobs <= POOL_JOBS_MAX);
    if (pool_parse_seconds(in, &ms) == 0)
        CHECK(ms >= 1 && ms <= 86400000ull + 999);
    free(in);
    return 0;
}
