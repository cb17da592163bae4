/* libFuzzer harness for the IRC line codec: parse any line; what parsed
 * is checked (fields inside the line, the limits) and rebuilt, and the
 * rebuilt line parses back to the same message. The name rules and the
 * casemapping run on the input as a string. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/irc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Like assert(), but also active in release builds. */
#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "check failed: %s\n", #x), abort()))

/* Rebuild m as one line into buf (cap bytes); returns its length. */
static size_t rebuild(const struct ibx_irc_msg *m, char *buf, size_t cap)
{
    size_t n = 0;
    if (m->prefix)
        n += (size_t)snprintf(buf + n, cap - n, ":%s ", m->prefix);
    n += (size_t)snprintf(buf + n, cap - n, "%s", m->command);
    for (size_t i = 0; i < m->nparams; i++) {
        bool last = i + 1 == m->nparams;
        n += (size_t)snprintf(buf + n, cap - n, last && m->trailing ? " :%s" : " %s",
                              m->params[i]);
    }
    CHECK(n < cap);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * IBX_IRC_LINE_MAX)
        return 0;
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    struct ibx_irc_msg m, q;
    if (ibx_irc_parse(line, size, &m) == 0) {
        CHECK(m.command && m.nparams <= IBX_IRC_PARAMS_MAX);
        CHECK(m.command >= line && m.command <= line + size);
        for (size_t i = 0; i < m.nparams; i++) {
            CHECK(m.params[i] >= line && m.params[i] <= line + size);
            if (i + 1 < m.nparams || !m.trailing)
                CHECK(ibx_irc_middle_valid(m.params[i]));
        }
        static char buf[3 * IBX_IRC_LINE_MAX];
        size_t n = rebuild(&m, buf, sizeof buf);
        /* one byte more at most: the ':' of a 15th parameter given without */
        CHECK(n <= IBX_IRC_TEXT_MAX + 1);
        if (n > IBX_IRC_TEXT_MAX)
            goto rules;
        static char copy[3 * IBX_IRC_LINE_MAX];
        memcpy(copy, buf, n + 1);
        CHECK(ibx_irc_parse(copy, n, &q) == 0);
        CHECK(strcmp(q.command, m.command) == 0 && q.nparams == m.nparams);
        CHECK(!q.prefix == !m.prefix && (!q.prefix || strcmp(q.prefix, m.prefix) == 0));
        for (size_t i = 0; i < m.nparams; i++)
            CHECK(strcmp(q.params[i], m.params[i]) == 0);
    }
rules:
    /* the rules and the casemapping on the input as a string */
    memcpy(line, data, size);
    line[size] = '\0';
    (void)ibx_irc_nick_valid(line, 30);
    (void)ibx_irc_channel_valid(line, 50);
    char *folded = strdup(line);
    ibx_irc_fold(folded);
    CHECK(ibx_irc_casecmp(folded, line) == 0);
    ibx_irc_fold(line);
    CHECK(strcmp(folded, line) == 0);   /* folding twice changes nothing more */
    ibx_irc_fold(line);
    CHECK(strcmp(folded, line) == 0);
    free(folded);
    free(line);
    return 0;
}
