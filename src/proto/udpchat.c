/* udpchat datagram codec (ipcbox/udpchat.h): decode and encode one
 * datagram, UTF-8 and nick rules. Pure: no I/O, no allocation. */
#include "ipcbox/udpchat.h"

#include <errno.h>
#include <string.h>

static const unsigned char magic[2] = {0x55, 0x43};   /* "UC" */

/* The code point of the well-formed UTF-8 character at s (at most n
 * bytes), its length in *len; -1 when s does not start one. */
static long utf8_next(const unsigned char *s, size_t n, size_t *len)
{
    unsigned c = s[0];
    *len = 1;
    if (c < 0x80)
        return (long)c;
    size_t k;
    long cp, min;
    if (c >= 0xc2 && c <= 0xdf)
        k = 1, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        k = 2, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 3, cp = c & 0x07, min = 0x10000;
    else
        return -1;
    if (k >= n)
        return -1;
    for (size_t i = 1; i <= k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *len = k + 1;
    return cp;
}

size_t ibx_udpchat_utf8_span(const void *s, size_t len)
{
    const unsigned char *p = s;
    size_t i = 0, n;
    while (i < len) {
        long cp = utf8_next(p + i, len - i, &n);
        if (cp <= 0)
            break;          /* malformed, or NUL */
        i += n;
    }
    return i;
}

/* Characters a nick may not hold (see the header). */
static bool nick_char_ok(long cp)
{
    if (cp <= 0x20 || cp == '@' || (cp >= 0x7f && cp <= 0x9f))
        return false;
    if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
        return false;
    return true;
}

bool ibx_udpchat_nick_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > IBX_UDPCHAT_NICK_MAX)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    while (i < len) {
        long cp = utf8_next(p + i, len - i, &n);
        if (cp < 0 || !nick_char_ok(cp))
            return false;
        i += n;
    }
    return true;
}

static bool text_valid(const char *s, size_t len)
{
    return s && len >= 1 && len <= IBX_UDPCHAT_TEXT_MAX &&
           ibx_udpchat_utf8_span(s, len) == len;
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

int ibx_udpchat_decode(const void *buf, size_t len, struct ibx_udpchat_pkt *out)
{
    const unsigned char *p = buf;
    memset(out, 0, sizeof *out);
    if (len > IBX_UDPCHAT_MAX)
        return -EMSGSIZE;
    if (len < IBX_UDPCHAT_HDR || memcmp(p, magic, sizeof magic) != 0)
        return -EINVAL;
    if (p[2] != IBX_UDPCHAT_VERSION)
        return -EPROTONOSUPPORT;
    unsigned type = p[3];
    uint64_t sender = get_be(p + 4, 8);
    size_t nick_len = p[16];
    if (sender == 0 || len < IBX_UDPCHAT_HDR + nick_len)
        return -EINVAL;
    const char *nick = (const char *)p + IBX_UDPCHAT_HDR;
    if (!ibx_udpchat_nick_valid(nick, nick_len))
        return -EINVAL;
    const unsigned char *body = p + IBX_UDPCHAT_HDR + nick_len;
    size_t body_len = len - IBX_UDPCHAT_HDR - nick_len;
    switch (type) {
    case IBX_UDPCHAT_MESSAGE:
        if (!text_valid((const char *)body, body_len))
            return -EINVAL;
        out->text = (const char *)body;
        out->text_len = body_len;
        break;
    case IBX_UDPCHAT_PRESENCE:
        if (body_len != 4)
            return -EINVAL;
        out->interval_ms = (uint32_t)get_be(body, 4);
        if (out->interval_ms < IBX_UDPCHAT_INTERVAL_MIN ||
            out->interval_ms > IBX_UDPCHAT_INTERVAL_MAX)
            return -EINVAL;
        break;
    case IBX_UDPCHAT_LEAVE:
        if (body_len != 0)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    out->type = (enum ibx_udpchat_type)type;
    out->sender = sender;
    out->seq = (uint32_t)get_be(p + 12, 4);
    out->nick = nick;
    out->nick_len = nick_len;
    return 0;
}

int ibx_udpchat_encode(void *buf, size_t cap, const struct ibx_udpchat_pkt *pk)
{
    size_t body_len;
    switch (pk->type) {
    case IBX_UDPCHAT_MESSAGE:
        if (!text_valid(pk->text, pk->text_len))
            return -EINVAL;
        body_len = pk->text_len;
        break;
    case IBX_UDPCHAT_PRESENCE:
        if (pk->interval_ms < IBX_UDPCHAT_INTERVAL_MIN ||
            pk->interval_ms > IBX_UDPCHAT_INTERVAL_MAX)
            return -EINVAL;
        body_len = 4;
        break;
    case IBX_UDPCHAT_LEAVE:
        body_len = 0;
        break;
    default:
        return -EINVAL;
    }
    if (pk->sender == 0 || !ibx_udpchat_nick_valid(pk->nick, pk->nick_len))
        return -EINVAL;
    size_t len = IBX_UDPCHAT_HDR + pk->nick_len + body_len;
    if (len > IBX_UDPCHAT_MAX)
        return -EINVAL;     /* cannot happen with the limits above */
    if (len > cap)
        return -ENOSPC;
    unsigned char *p = buf;
    memcpy(p, magic, sizeof magic);
    p[2] = IBX_UDPCHAT_VERSION;
    p[3] = (unsigned char)pk->type;
    put_be(p + 4, pk->sender, 8);
    put_be(p + 12, pk->seq, 4);
    p[16] = (unsigned char)pk->nick_len;
    memcpy(p + IBX_UDPCHAT_HDR, pk->nick, pk->nick_len);
    unsigned char *body = p + IBX_UDPCHAT_HDR + pk->nick_len;
    if (pk->type == IBX_UDPCHAT_MESSAGE)
        memcpy(body, pk->text, body_len);
    else if (pk->type == IBX_UDPCHAT_PRESENCE)
        put_be(body, pk->interval_ms, 4);
    return (int)len;
}

const char *ibx_udpchat_type_name(unsigned type)
{
    switch (type) {
    case IBX_UDPCHAT_MESSAGE:
        return "message";
    case IBX_UDPCHAT_PRESENCE:
        return "presence";
    case IBX_UDPCHAT_LEAVE:
        return "leave";
    default:
        return "?";
    }
}
