/* What udpchat shows of a peer: its nick and host, its text, made safe for
 * a terminal by the rules of termtext.h. Pure. */
#include <stdio.h>
#include <string.h>

#include "termtext.h"
#include "udpchat.h"

size_t uc_clean(char *dst, size_t size, const char *src, size_t n)
{
    if (!size)
        return 0;
    /* termtext_fit wants a C string: NUL bytes (which a text may not hold,
     * but a caller might pass) are masked like the other controls */
    char buf[IBX_UDPCHAT_TEXT_MAX + 1];
    if (n > IBX_UDPCHAT_TEXT_MAX)
        n = IBX_UDPCHAT_TEXT_MAX;
    for (size_t i = 0; i < n; i++)
        buf[i] = src[i] ? src[i] : '\x01';
    buf[n] = '\0';
    termtext_fit(dst, size, buf, 2 * IBX_UDPCHAT_TEXT_MAX, TERMTEXT_KEEP_HEAD);
    return strlen(dst);
}

size_t uc_format_who(char *out, size_t size, const char *nick, const char *host,
                     const char *color)
{
    char n[4 * IBX_UDPCHAT_NICK_MAX + 4], h[4 * UC_HOST_MAX + 4];
    uc_clean(n, sizeof n, nick, strlen(nick));
    uc_clean(h, sizeof h, host, strlen(host));
    int r = color ? snprintf(out, size, "\033[%sm%s\033[39m@%s", color, n, h)
                  : snprintf(out, size, "%s@%s", n, h);
    if (r < 0)
        return 0;
    return (size_t)r < size ? (size_t)r : size ? size - 1 : 0;
}

size_t uc_format_message(char *out, size_t size, const char *nick, const char *host,
                         const char *text, size_t n, const char *color)
{
    char who[UC_SHOW_MAX / 4], t[IBX_UDPCHAT_TEXT_MAX + 1];
    uc_format_who(who, sizeof who, nick, host, color);
    uc_clean(t, sizeof t, text, n);
    int r = snprintf(out, size, "%s: %s", who, t);
    if (r < 0)
        return 0;
    return (size_t)r < size ? (size_t)r : size ? size - 1 : 0;
}
