/* RESP2 codec for chatd's Redis client (see resp.h). A reply is parsed in
 * two passes over the bytes: the first (resp_scan) frames it, resumably,
 * as its bytes arrive: it checks the bounds as soon as the bytes that
 * pass them come and counts nodes and string bytes; the second
 * (resp_tree), once the reply is complete, builds the tree in one
 * allocation. Until a reply is complete nothing is allocated, so a server
 * that sends a huge length costs nothing until it sends the bytes (and
 * the connection's buffer is bounded), and since the scan resumes where
 * it stopped, a reply trickled in small pieces costs no more than one
 * sent whole. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* A decimal integer of exactly len bytes (resp_scan checked it). */
static long long number(const char *p, size_t len)
{
    bool neg = len && p[0] == '-';
    long long v = 0;
    for (size_t i = neg; i < len; i++)
        v = v * 10 + (p[i] - '0');
    return neg ? -v : v;
}

/* The largest value a numeric header of type t may carry. */
static long long num_max(char t)
{
    return t == '$' ? RESP_BULK_MAX : t == '*' ? RESP_ELEMS_MAX : LLONG_MAX;
}

/* Go on with the header line of the value at s->off (its type byte is
 * there, and valid) from where the last call stopped. Returns 1 when the
 * line and its CR LF are in (*len: its bytes after the type byte), 0 when
 * more are needed, -EPROTO. A numeric line is checked byte by byte as it
 * comes: a sign, at most 18 digits, and (for '$' and '*') a value within
 * the bound, so a huge length is refused from its digits alone. */
static int header(struct resp_scan *s, const char *p, size_t n, size_t *len)
{
    char t = p[s->off];
    const char *l = p + s->off + 1;
    size_t avail = n - s->off - 1;
    if (t == '+' || t == '-') {
        size_t lim = avail < RESP_LINE_MAX + 1 ? avail : RESP_LINE_MAX + 1;
        const char *cr = memchr(l + s->seen, '\r', lim - s->seen);
        size_t upto = cr ? (size_t)(cr - l) : lim;
        s->examined += upto - s->seen + (cr != NULL);
        s->seen = upto;
    } else {
        long long max = num_max(t);
        for (; s->seen < avail && l[s->seen] != '\r'; s->seen++) {
            char c = l[s->seen];
            s->examined++;
            if (c == '-' && s->seen == 0) {
                s->neg = true;
                continue;
            }
            if (c < '0' || c > '9' || s->seen - s->neg >= 18)
                return -EPROTO;
            s->num = s->num * 10 + (c - '0');
            if (s->neg ? (t != ':' && s->num > 1) : s->num > max)
                return -EPROTO;
        }
        if (s->seen < avail)
            s->examined++;   /* the CR */
    }
    if (s->seen > RESP_LINE_MAX || s->off + 1 + s->seen > RESP_REPLY_MAX)
        return -EPROTO;
    if (s->seen + 1 >= avail)
        return 0;   /* no CR yet, or no LF after it */
    s->examined++;
    if (l[s->seen + 1] != '\n' || (t != '+' && t != '-' && s->seen == s->neg))
        return -EPROTO;
    *len = s->seen;
    return 1;
}

/* A value ended at s->off: count it against the arrays open. True when it
 * ended the reply. */
static bool value_done(struct resp_scan *s)
{
    while (s->depth) {
        if (--s->left[s->depth - 1])
            return false;
        s->depth--;
    }
    return true;
}

/* The fewest values the reply can have, from what is framed: those seen,
 * and one for each element the open arrays still owe (beyond the one in
 * progress at each depth, seen already). */
static size_t owed(const struct resp_scan *s)
{
    size_t k = s->nodes;
    for (unsigned d = 0; d < s->depth; d++)
        k += s->left[d] - 1;
    return k;
}

ssize_t resp_scan(struct resp_scan *s, const char *p, size_t n)
{
    for (;;) {
        if (s->body) {   /* a bulk string: only its CR LF is looked at */
            size_t have = n - s->off;
            if (have + 1 >= s->body) {
                s->examined++;
                if (p[s->off + s->body - 2] != '\r')
                    return -EPROTO;
            }
            if (have < s->body)
                return 0;
            s->examined++;
            if (p[s->off + s->body - 1] != '\n')
                return -EPROTO;
            s->off += s->body;
            s->body = 0;
            if (value_done(s))
                return (ssize_t)s->off;
            continue;
        }
        if (n <= s->off)
            return 0;
        char t = p[s->off];
        if (!s->seen) {
            s->examined++;
            if (!t || !strchr("+-:$*", t) || (t == '*' && s->depth >= RESP_DEPTH_MAX))
                return -EPROTO;
        }
        size_t l;
        int h = header(s, p, n, &l);
        if (h <= 0)
            return h;
        long long v = s->neg ? -s->num : s->num;
        s->seen = 0;
        s->num = 0;
        s->neg = false;
        s->off += 1 + l + 2;
        if (++s->nodes > RESP_NODES_MAX || s->off > RESP_REPLY_MAX)
            return -EPROTO;
        if (t == '+' || t == '-') {
            s->bytes += l + 1;
        } else if (t == '$' && v >= 0) {
            if (s->off + (size_t)v + 2 > RESP_REPLY_MAX)
                return -EPROTO;
            s->bytes += (size_t)v + 1;
            s->body = (size_t)v + 2;
            continue;
        } else if (t == '*' && v > 0) {
            if (owed(s) + (size_t)v > RESP_NODES_MAX)
                return -EPROTO;
            s->left[s->depth++] = (uint32_t)v;
            continue;
        }
        if (value_done(s))
            return (ssize_t)s->off;
    }
}

struct arena {
    struct resp *node;
    char *str;
};

/* The tree of a reply resp_scan framed (its n bytes). */
static size_t build(const char *p, size_t n, struct resp *r, struct arena *a)
{
    size_t l = (size_t)((const char *)memchr(p + 1, '\r', n - 1) - (p + 1));   /* resp_scan saw it */
    size_t head = 1 + l + 2;
    long long v;
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
        v = number(p + 1, l);
        r->type = RESP_INT;
        r->i = v;
        return head;
    case '$':
        v = number(p + 1, l);
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
        v = number(p + 1, l);
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

int resp_tree(const struct resp_scan *s, const char *p, size_t k, struct resp **out)
{
    struct resp *r = malloc(s->nodes * sizeof *r + s->bytes);
    if (!r)
        return -ENOMEM;
    struct arena a = {.node = r + 1, .str = (char *)(r + s->nodes)};
    build(p, k, r, &a);
    *out = r;
    return 0;
}

ssize_t resp_parse(const char *p, size_t n, struct resp **out)
{
    struct resp_scan s = {0};
    ssize_t k = resp_scan(&s, p, n);
    if (k <= 0)
        return k;
    int e = resp_tree(&s, p, (size_t)k, out);
    return e < 0 ? e : k;
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
