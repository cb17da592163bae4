/* Request-path decoding and normalisation: the one place a URL becomes a
 * file-system path, so it refuses everything that could reach outside the
 * document root or mean two things to two layers. */
#include "ipcbox/http_fields.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static int path_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Skip "http://authority" or "https://authority" of an absolute-form
 * target; returns the offset of the path (len if there is none). */
static size_t skip_absolute(const char *t, size_t len)
{
    size_t i;
    if (len >= 7 && strncasecmp(t, "http://", 7) == 0)
        i = 7;
    else if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
        i = 8;
    else
        return 0;
    while (i < len && t[i] != '/' && t[i] != '?')
        i++;
    return i;
}

int ibx_http_path_normalize(const char *target, size_t len, char *out,
                            size_t cap, struct ibx_http_str *query)
{
    if (query) {
        query->p = NULL;
        query->n = 0;
    }
    size_t i = skip_absolute(target, len);
    size_t plen = len;
    const char *q = memchr(target + i, '?', len - i);
    if (q) {
        plen = (size_t)(q - target);
        if (query) {
            query->p = q + 1;
            query->n = len - plen - 1;
        }
    }
    const char *frag = memchr(target + i, '#', plen - i);
    if (frag)
        plen = (size_t)(frag - target);
    if (i == plen) {
        if (i == 0)
            return -EINVAL;
        target = "/";   /* "http://host" means "/" */
        i = 0;
        plen = 1;
    }
    if (target[i] != '/' || cap < 2)
        return cap < 2 ? -ENAMETOOLONG : -EINVAL;

    /* out[0] is always '/'; o is the output length; seg is where the
     * current segment starts in out */
    size_t o = 0;
    out[o++] = '/';
    size_t seg = o;
    for (i++;; i++) {
        bool sep = i == plen || target[i] == '/';
        if (!sep) {
            unsigned char c = (unsigned char)target[i];
            if (c == '%') {
                if (plen - i < 3)
                    return -EINVAL;
                int h1 = path_hexval((unsigned char)target[i + 1]);
                int h2 = path_hexval((unsigned char)target[i + 2]);
                if (h1 < 0 || h2 < 0)
                    return -EINVAL;
                c = (unsigned char)(h1 * 16 + h2);
                if (c == '/' || c == 0)
                    return -EINVAL;
                if (c == '%' && plen - i >= 5 &&
                    path_hexval((unsigned char)target[i + 3]) >= 0 &&
                    path_hexval((unsigned char)target[i + 4]) >= 0)
                    return -EINVAL;   /* %25XX: double encoding */
                i += 2;
            }
            if (c == '\\' || c < 0x20 || c == 0x7f)
                return -EINVAL;
            if (o + 1 >= cap)
                return -ENAMETOOLONG;
            out[o++] = (char)c;
            continue;
        }
        /* a segment ends at out[seg..o) */
        size_t n = o - seg;
        if (n == 1 && out[seg] == '.') {
            o = seg;
        } else if (n == 2 && out[seg] == '.' && out[seg + 1] == '.') {
            if (seg == 1)
                return -EINVAL;   /* above the root */
            o = seg - 1;          /* back over "/.." and the segment before */
            while (o > 0 && out[o - 1] != '/')
                o--;
        } else if (n > 0 && i < plen) {
            if (o + 1 >= cap)
                return -ENAMETOOLONG;
            out[o++] = '/';
        }
        seg = o;
        if (i == plen)
            break;
    }
    out[o] = '\0';
    return (int)o;
}
