/* IRC line codec (RFC 1459, RFC 2812): parse one message in place, the
 * nickname and channel rules, RFC 1459 casemapping. Pure: no I/O, no
 * allocation. */
#include "ipcbox/irc.h"

#include <errno.h>
#include <string.h>

static bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

int ibx_irc_parse(char *line, size_t len, struct ibx_irc_msg *out)
{
    memset(out, 0, sizeof *out);
    /* one line end, "\r\n", "\n" or "\r" */
    if (len && line[len - 1] == '\n')
        len--;
    if (len && line[len - 1] == '\r')
        len--;
    if (len > IBX_IRC_TEXT_MAX)
        return -EMSGSIZE;
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\0' || line[i] == '\r' || line[i] == '\n')
            return -EINVAL;
    line[len] = '\0';
    char *p = line;
    while (*p == ' ')
        p++;
    if (*p == ':') {
        char *sp = strchr(++p, ' ');
        if (!sp || sp == p)
            return -EINVAL;   /* a prefix and nothing else, or ": " */
        *sp = '\0';
        out->prefix = p;
        p = sp + 1;
        while (*p == ' ')
            p++;
    }
    /* command: letters, or exactly three digits */
    char *cmd = p;
    if (is_letter(*p)) {
        for (; is_letter(*p); p++)
            if (*p >= 'a')
                *p = (char)(*p - 32);
    } else if (is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2])) {
        p += 3;
    } else {
        return -EINVAL;
    }
    if (*p && *p != ' ')
        return -EINVAL;
    out->command = cmd;
    while (*p) {
        *p++ = '\0';          /* the space before this parameter */
        while (*p == ' ')
            p++;
        if (!*p)
            break;            /* trailing spaces */
        if (*p == ':' || out->nparams == IBX_IRC_PARAMS_MAX - 1) {
            if (*p == ':')
                p++;
            out->params[out->nparams++] = p;
            out->trailing = true;
            break;
        }
        out->params[out->nparams++] = p;
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

void ibx_irc_fold(char *s)
{
    for (; *s; s++)
        *s = (char)ibx_irc_tolower((unsigned char)*s);
}

int ibx_irc_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = ibx_irc_tolower((unsigned char)*a), y = ibx_irc_tolower((unsigned char)*b);
        if (x != y || !x)
            return x - y;
    }
}

/* []\`_^{|} */
static bool is_special(char c)
{
    return (c >= '[' && c <= '`') || (c >= '{' && c <= '}');
}

bool ibx_irc_nick_valid(const char *s, size_t maxlen)
{
    size_t n = 0;
    if (!is_letter(s[0]) && !is_special(s[0]))
        return false;
    for (; s[n]; n++)
        if (!is_letter(s[n]) && !is_digit(s[n]) && !is_special(s[n]) && s[n] != '-')
            return false;
    return n <= maxlen;
}

bool ibx_irc_channel_valid(const char *s, size_t maxlen)
{
    if (s[0] != '#' || !s[1])
        return false;
    size_t n = 1;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x20 || c == 0x7f || c == ' ' || c == ',' || c == ':')
            return false;
    }
    return n <= maxlen;
}

bool ibx_irc_middle_valid(const char *s)
{
    if (!*s || *s == ':')
        return false;
    return !strpbrk(s, " \r\n");
}
