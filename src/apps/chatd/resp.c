/* RESP2 codec for chatd's Redis client (see resp.h). A reply is parsed in
 * two passes over the bytes: the first checks that it is complete and
 * within the bounds and counts its nodes and string bytes, the second
 * builds the tree in one allocation. Until a reply is complete nothing is
 * allocated, so a server that sends a huge length costs nothing until it
 * sends the bytes (and the connection's buffer is bounded). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* The line at p (up to CR LF): its length, -1 incomplete, -2 bad. */
static ssize_t line(const char *p, size_t n)
{
    const char *cr = memchr(p, '\r', n);
    if (!cr)
        return n > 64 * 1024 ? -2 : -1;
    size_t k = (size_t)(cr - p);
    if (k + 1 >= n)
        return -1;
    return cr[1] == '\n' ? (ssize_t)k : -2;
}

/* A decimal integer of exactly len bytes. */
static int number(const char *p, size_t len, long long *out)
{
    bool neg = len && p[0] == '-';
    size_t i = neg;
    if (i == len || len - i > 18)
        return -EPROTO;
    long long v = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EPROTO;
        v = v * 10 + (p[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

struct count {
    size_t nodes, bytes;
};

/* First pass: bytes of the reply at p, 0 incomplete, -EPROTO. */
static ssize_t skim(const char *p, size_t n, int depth, struct count *c)
{
    if (n < 1)
        return 0;
    ssize_t l = line(p + 1, n - 1);
    if (l == -1)
        return 0;
    if (l < 0)
        return -EPROTO;
    size_t head = 1 + (size_t)l + 2;
    if (++c->nodes > RESP_NODES_MAX)
        return -EPROTO;
    long long v;
    switch (p[0]) {
    case '+':
    case '-':
        c->bytes += (size_t)l + 1;
        return (ssize_t)head;
    case ':':
        return number(p + 1, (size_t)l, &v) < 0 ? -EPROTO : (ssize_t)head;
    case '$':
        if (number(p + 1, (size_t)l, &v) < 0 || v < -1 || v > RESP_BULK_MAX)
            return -EPROTO;
        if (v == -1)
            return (ssize_t)head;
        if (n < head + (size_t)v + 2)
            return 0;
        if (p[head + v] != '\r' || p[head + v + 1] != '\n')
            return -EPROTO;
        c->bytes += (size_t)v + 1;
        return (ssize_t)(head + (size_t)v + 2);
    case '*': {
        if (number(p + 1, (size_t)l, &v) < 0 || v < -1 || v > RESP_ELEMS_MAX ||
            depth >= RESP_DEPTH_MAX)
            return -EPROTO;
        size_t off = head;
        for (long long i = 0; i < v; i++) {
            ssize_t k = skim(p + off, n - off, depth + 1, c);
            if (k <= 0)
                return k;
            off += (size_t)k;
            if (off > RESP_REPLY_MAX)
                return -EPROTO;
        }
        return (ssize_t)off;
    }
    default:
        return -EPROTO;
    }
}

struct arena {
    struct resp *node;
    char *str;
};

/* Second pass over a reply skim accepted (its n bytes). */
static size_t build(const char *p, size_t n, struct resp *r, struct arena *a)
{
    size_t l = (size_t)((const char *)memchr(p + 1, '\r', n - 1) - (p + 1));   /* skim saw it */
    size_t head = 1 + l + 2;
    long long v = 0;
    *r = (struct resp){0};
    switch (p[0]) {
    case '+':
    case '-':
        r->type = p[0] == '+' ? RESP_STATUS : RESP_ERROR;
        r->s = a->str;
        memcpy(r->s, p + 1, l);
        r->s[l] = '\0';
        r->n = l;
        a->str += l + 1;
        return head;
    case ':':
        number(p + 1, l, &v);
        r->type = RESP_INT;
        r->i = v;
        return head;
    case '$':
        number(p + 1, l, &v);
        if (v < 0)
            return head;   /* nil */
        r->type = RESP_STR;
        r->s = a->str;
        memcpy(r->s, p + head, (size_t)v);
        r->s[v] = '\0';
        r->n = (size_t)v;
        a->str += v + 1;
        return head + (size_t)v + 2;
    default: {   /* '*' */
        number(p + 1, l, &v);
        if (v < 0)
            return head;
        r->type = RESP_ARRAY;
        r->n = (size_t)v;
        r->e = a->node;
        a->node += v;
        size_t off = head;
        for (long long i = 0; i < v; i++)
            off += build(p + off, n - off, &r->e[i], a);
        return off;
    }
    }
}

ssize_t resp_parse(const char *p, size_t n, struct resp **out)
{
    struct count c = {0};
    if (n > RESP_REPLY_MAX + 64)
        n = RESP_REPLY_MAX + 64;
    ssize_t k = skim(p, n, 0, &c);
    if (k <= 0)
        return k;
    if ((size_t)k > RESP_REPLY_MAX)
        return -EPROTO;
    struct resp *r = malloc(c.nodes * sizeof *r + c.bytes);
    if (!r)
        return -ENOMEM;
    struct arena a = {.node = r + 1, .str = (char *)(r + c.nodes)};
    build(p, (size_t)k, r, &a);
    *out = r;
    return k;
}

int resp_cmd(ibx_buf *out, int argc, const char *const *argv, const size_t *lens)
{
    size_t start = out->len;
    if (ibx_buf_printf(out, "*%d\r\n", argc) < 0)
        return -ENOMEM;
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        if (ibx_buf_printf(out, "$%zu\r\n", n) < 0 || ibx_buf_append(out, argv[i], n) < 0 ||
            ibx_buf_append(out, "\r\n", 2) < 0) {
            out->len = start;
            return -ENOMEM;
        }
    }
    return 0;
}

bool resp_is(const struct resp *r, const char *s)
{
    return r && (r->type == RESP_STR || r->type == RESP_STATUS) && r->n == strlen(s) &&
           memcmp(r->s, s, r->n) == 0;
}

int resp_url(const char *url, char *hostport, size_t cap, unsigned *db)
{
    static const char scheme[] = "redis://";
    if (cap < 300 || strncmp(url, scheme, sizeof scheme - 1) != 0)
        return -EINVAL;
    const char *h = url + sizeof scheme - 1;
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (!hl || hl > 260 || memchr(h, '@', hl))
        return -EINVAL;   /* no credentials in the URL (see docs/security.md) */
    *db = 0;
    if (slash && slash[1]) {
        char *end;
        unsigned long d = strtoul(slash + 1, &end, 10);
        if (*end || d > 15 || slash[1] < '0' || slash[1] > '9')
            return -EINVAL;
        *db = (unsigned)d;
    }
    const char *port = NULL;
    if (h[0] == '[') {
        const char *rb = memchr(h, ']', hl);
        if (!rb)
            return -EINVAL;
        if (rb + 1 < h + hl)
            port = rb[1] == ':' ? rb + 2 : NULL;
        if (rb + 1 < h + hl && !port)
            return -EINVAL;
    } else {
        const char *colon = memchr(h, ':', hl);
        port = colon ? colon + 1 : NULL;
    }
    if (port) {
        size_t pl = (size_t)(h + hl - port);
        if (!pl || pl > 5 || strspn(port, "0123456789") < pl)
            return -EINVAL;
        snprintf(hostport, cap, "%.*s", (int)hl, h);
    } else {
        snprintf(hostport, cap, "%.*s:6379", (int)hl, h);
    }
    return 0;
}
