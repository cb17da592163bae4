/* Splitting one IRC line (RFC 1459 2.3.1, with IRCv3 message tags
 * skipped), nicks of prefixes, RFC 1459 case mapping. Small and local:
 * the client needs no more. */
#include <string.h>

#include "chat.h"

/* Skip spaces (several may separate parameters in the wild). */
static char *skip_spaces(char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* Cut the word at p: NUL after it; returns where the next one starts. */
static char *cut_word(char *p)
{
    char *e = strchr(p, ' ');
    if (!e)
        return p + strlen(p);
    *e = '\0';
    return skip_spaces(e + 1);
}

int chat_irc_parse(char *line, struct chat_irc_msg *m)
{
    memset(m, 0, sizeof *m);
    char *p = skip_spaces(line);
    if (*p == '@')                    /* IRCv3 tags: not used */
        p = cut_word(p);
    if (*p == ':') {
        m->prefix = p + 1;
        p = cut_word(p);
        if (!*m->prefix)
            m->prefix = NULL;
    }
    if (!*p)
        return -1;
    m->command = p;
    p = cut_word(p);
    while (*p) {
        if (*p == ':') {
            m->params[m->nparams++] = p + 1;
            break;
        }
        if (m->nparams == CHAT_PARAMS_MAX - 1) {   /* the rest is one */
            m->params[m->nparams++] = p;
            break;
        }
        m->params[m->nparams++] = p;
        p = cut_word(p);
    }
    return 0;
}

void chat_irc_nick(const char *prefix, char *buf, size_t size)
{
    if (!size)
        return;
    if (!prefix)
        prefix = "";
    size_t n = strcspn(prefix, "!@");
    if (n >= size)
        n = size - 1;
    memcpy(buf, prefix, n);
    buf[n] = '\0';
}

/* RFC 1459 lower case. */
static int fold(unsigned char c)
{
    if (c >= 'A' && c <= '^')     /* A-Z and [\]^ -> a-z and {|}~ */
        return c + 32;
    return c;
}

bool chat_irc_same(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    while (*a && *b && fold((unsigned char)*a) == fold((unsigned char)*b))
        a++, b++;
    return !*a && !*b;
}

bool chat_irc_is_room(const char *name)
{
    return name && (*name == '#' || *name == '&' || *name == '+' || *name == '!');
}
