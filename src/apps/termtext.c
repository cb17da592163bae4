/* Columns of UTF-8 text on a terminal, and fitting it into a width (see
 * termtext.h for the rules). */
#include "termtext.h"

#include <stdbool.h>
#include <string.h>

/* Decode the character at s: its code point, or -1 for a byte that does
 * not start well-formed UTF-8 (then *n = 1). The NUL terminator is never
 * consumed as a continuation byte. */
static long decode(const unsigned char *s, size_t *n)
{
    unsigned c = s[0];
    *n = 1;
    if (c < 0x80)
        return (long)c;
    int k;
    long cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        k = 1, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 2, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    for (int i = 1; i <= k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *n = (size_t)k + 1;
    return cp;
}

struct range {
    long lo, hi;
};

static bool in(const struct range *r, size_t n, long cp)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return true;
    return false;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Shown as '?': controls, separators that break a line, bidi overrides. */
static const struct range masked[] = {
    {0x00, 0x1f}, {0x7f, 0x9f}, {0x2028, 0x2029}, {0x202a, 0x202e}, {0x2066, 0x2069},
};
/* No column of their own. */
static const struct range zero[] = {
    {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},
    {0x064b, 0x065f}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff}, {0x200b, 0x200f},
    {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff},
    {0xe0100, 0xe01ef},
};
/* Two columns. */
static const struct range wide[] = {
    {0x1100, 0x115f}, {0x2e80, 0x303e}, {0x3041, 0x33ff}, {0x3400, 0x4dbf},
    {0x4e00, 0x9fff}, {0xa000, 0xa4cf}, {0xac00, 0xd7a3}, {0xf900, 0xfaff},
    {0xfe30, 0xfe4f}, {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x1f300, 0x1f64f},
    {0x1f680, 0x1f6ff}, {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

/* Columns of cp (0, 1 or 2), or -1 when it is shown as '?' (1 column). */
static int cp_width(long cp)
{
    if (cp < 0 || in(masked, N(masked), cp))
        return -1;
    if (cp < 0x300)
        return 1;
    if (in(zero, N(zero), cp))
        return 0;
    return in(wide, N(wide), cp) ? 2 : 1;
}

/* The next character of s: bytes in *n, columns returned (a masked one
 * is 1 column, *masked set). */
static int next(const char *s, size_t *n, bool *masked_out)
{
    int w = cp_width(decode((const unsigned char *)s, n));
    *masked_out = w < 0;
    return w < 0 ? 1 : w;
}

int termtext_cols(const char *src)
{
    int cols = 0;
    size_t n;
    bool m;
    for (const char *s = src; *s; s += n)
        cols += next(s, &n, &m);
    return cols;
}

/* Append the character at s (n bytes, masked or not) to dst if it fits. */
static bool put(char *dst, size_t size, size_t *len, const char *s, size_t n, bool m)
{
    if (m)
        s = "?", n = 1;
    if (*len + n + 1 > size)
        return false;
    memcpy(dst + *len, s, n);
    *len += n;
    dst[*len] = '\0';
    return true;
}

/* Append the characters of src from s on that fit in cols columns. */
static int copy(char *dst, size_t size, size_t *len, const char *s, int cols)
{
    int used = 0;
    size_t n;
    bool m;
    for (; *s; s += n) {
        int w = next(s, &n, &m);
        if (used + w > cols || !put(dst, size, len, s, n, m))
            break;
        used += w;
    }
    return used;
}

int termtext_fit(char *dst, size_t size, const char *src, int cols,
                 enum termtext_keep keep)
{
    size_t len = 0;
    if (!size)
        return 0;
    dst[0] = '\0';
    if (cols <= 0)
        return 0;
    int total = termtext_cols(src);
    if (total <= cols)
        return copy(dst, size, &len, src, cols);
    int el = (int)strlen(TERMTEXT_ELLIPSIS);
    if (cols <= el)
        return copy(dst, size, &len, TERMTEXT_ELLIPSIS, cols);
    int room = cols - el, used = 0;
    if (keep == TERMTEXT_KEEP_HEAD) {
        used = copy(dst, size, &len, src, room);
        return used + copy(dst, size, &len, TERMTEXT_ELLIPSIS, el);
    }
    /* skip a head of at least total - room columns, and the marks that
     * belong to its last character */
    const char *s = src;
    size_t n;
    bool m;
    for (int skipped = 0; *s && skipped < total - room; s += n)
        skipped += next(s, &n, &m);
    while (*s && next(s, &n, &m) == 0 && !m)
        s += n;
    used = copy(dst, size, &len, TERMTEXT_ELLIPSIS, el);
    return used + copy(dst, size, &len, s, room);
}
