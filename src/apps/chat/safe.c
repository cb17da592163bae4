/* Peers' text made fit for a terminal: IRC formatting codes dropped,
 * every other control (ESC and so any escape sequence) masked by the
 * rules of termtext.h. */
#include <limits.h>
#include <string.h>

#include "chat.h"
#include "../termtext.h"   /* (relative: the fuzz harness includes this file) */

/* mIRC formatting: bold, colour, hex colour, reset, monospace, reverse,
 * italic, strikethrough, underline. */
#define IRC_BOLD 0x02
#define IRC_COLOR 0x03
#define IRC_HEXCOLOR 0x04
#define IRC_RESET 0x0f
#define IRC_MONO 0x11
#define IRC_REVERSE 0x16
#define IRC_ITALIC 0x1d
#define IRC_STRIKE 0x1e
#define IRC_UNDERLINE 0x1f

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of the colour arguments after ^C at p: "N[N][,N[N]]". */
static size_t color_args(const char *p, bool hex)
{
    size_t n = 0, want = hex ? 6 : 2;
    while (n < want && (hex ? is_hex(p[n]) : is_digit(p[n])))
        n++;
    if (n && p[n] == ',' && (hex ? is_hex(p[n + 1]) : is_digit(p[n + 1]))) {
        size_t m = 1;
        while (m <= want && (hex ? is_hex(p[n + m]) : is_digit(p[n + m])))
            m++;
        n += m;
    }
    return n;
}

size_t chat_safe(char *dst, size_t size, const char *src)
{
    if (!size)
        return 0;
    /* first drop the formatting codes, then mask what is left */
    char plain[CHAT_SHOW_MAX];
    size_t n = 0;
    for (const char *p = src; *p && n + 1 < sizeof plain; p++) {
        switch (*p) {
        case IRC_COLOR:
        case IRC_HEXCOLOR:
            p += color_args(p + 1, *p == IRC_HEXCOLOR);
            continue;
        case IRC_BOLD: case IRC_RESET: case IRC_MONO: case IRC_REVERSE:
        case IRC_ITALIC: case IRC_STRIKE: case IRC_UNDERLINE:
            continue;
        default:
            plain[n++] = *p;
        }
    }
    plain[n] = '\0';
    termtext_fit(dst, size, plain, INT_MAX / 8, TERMTEXT_KEEP_HEAD);
    return strlen(dst);
}
