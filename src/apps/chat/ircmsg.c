/* A server's line as the library's IRC message (ibx_irc_parse: one
 * parser for server and client), with what only a client meets: IRCv3
 * message tags skipped, an over-long line cut; nicks of prefixes, RFC 1459
 * case mapping, room names. */
#include <string.h>

#include "chat.h"

int chat_irc_read(char *line, struct ibx_irc_msg *m)
{
    char *p = line + strspn(line, " ");
    if (*p == '@') {                  /* IRCv3 tags: not used */
        p = strchr(p, ' ');
        if (!p) {
            memset(m, 0, sizeof *m);
            return -EINVAL;
        }
        p += strspn(p, " ");
    }
    size_t len = strlen(p);
    if (len > IBX_IRC_TEXT_MAX)       /* past the limit: shown cut */
        len = IBX_IRC_TEXT_MAX;
    return ibx_irc_parse(p, len, m);
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

bool chat_irc_same(const char *a, const char *b)
{
    return a && b && ibx_irc_casecmp(a, b) == 0;
}

bool chat_irc_is_room(const char *name)
{
    return name && (*name == '#' || *name == '&' || *name == '+' || *name == '!');
}
