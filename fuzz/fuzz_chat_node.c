/* What a Redis server, or whoever writes into it, hands a chatd node: the
 * bytes of a reply (resp_parse: a tree within the bounds, or a refusal,
 * never a crash or an overread; the same answer and tree when the bytes
 * come in pieces, resp_scan resuming, with work linear in them) and the texts kept in Redis (events,
 * members, history lines, topics: decoded or refused; an accepted event
 * encodes back to text that decodes to the same event). The node's files
 * are compiled in (they live beside the applet, not in the library). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/apps/chatd/node_wire.c"
#include "../src/apps/chatd/resp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct resp *r, int depth)
{
    if (depth > RESP_DEPTH_MAX)
        abort();
    if (r->type == RESP_STR || r->type == RESP_STATUS || r->type == RESP_ERROR) {
        if (r->s[r->n] != '\0')
            abort();
    } else if (r->type == RESP_ARRAY) {
        for (size_t i = 0; i < r->n; i++)
            walk(&r->e[i], depth + 1);
    }
}

static bool same(const struct resp *a, const struct resp *b)
{
    if (a->type != b->type || a->n != b->n || a->i != b->i)
        return false;
    if (a->type == RESP_STR || a->type == RESP_STATUS || a->type == RESP_ERROR)
        return memcmp(a->s, b->s, a->n + 1) == 0;
    if (a->type == RESP_ARRAY)
        for (size_t i = 0; i < a->n; i++)
            if (!same(&a->e[i], &b->e[i]))
                return false;
    return true;
}

/* Feed p[0..size) to resp_scan in pieces of 1..64 bytes (drawn from a
 * generator seeded by the input), each call on a copy of exactly the bytes
 * arrived (an overread past them is caught), stopping at the first answer
 * that is not "more". It must be the answer for the input whole, and the
 * work linear: every byte examined once, plus a type byte and a CR again
 * per call at most. */
static ssize_t split(const char *p, size_t size, struct resp **out)
{
    uint32_t x = 2166136261u;
    for (size_t i = 0; i < size; i++)
        x = (x ^ (uint8_t)p[i]) * 16777619u;
    struct resp_scan s = {0};
    ssize_t k = 0;
    size_t n = 0, calls = 0;
    while (k == 0 && n < size) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t step = 1 + (x % 8 == 0 ? x / 8 % 64 : x / 8 % 4);
        n = n + step < size ? n + step : size;
        char *copy = malloc(n);
        if (!copy)
            abort();
        memcpy(copy, p, n);
        k = resp_scan(&s, copy, n);
        calls++;
        if (k > 0 && resp_tree(&s, copy, (size_t)k, out) < 0)
            k = -ENOMEM;
        free(copy);
    }
    if (s.examined > n + 2 * calls)
        abort();
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct resp *r = NULL, *r2 = NULL;
    ssize_t k = resp_parse(p, size, &r);
    ssize_t k2 = split(p, size, &r2);
    if (k != k2 && k != -ENOMEM && k2 != -ENOMEM)
        abort();
    if (k > 0) {
        if ((size_t)k > size)
            abort();
        walk(r, 0);
        if (k2 > 0 && !same(r, r2))
            abort();
    }
    free(r);
    free(r2);
    struct wire_ev w, w2;
    if (wire_event_decode(p, size, &w) == 0) {
        char buf[WIRE_EVENT_MAX + 1];
        int n = wire_event_encode(buf, sizeof buf, &w);
        if (n < 0 || wire_event_decode(buf, (size_t)n, &w2) != 0 || w2.seq != w.seq ||
            w2.kind != w.kind || strcmp(w2.text, w.text) || strcmp(w2.nick, w.nick) ||
            strcmp(w2.target, w.target))
            abort();
    }
    struct wire_member m;
    (void)wire_member_decode(p, size, &m);
    struct wire_line l;
    (void)wire_line_decode(p, size, true, &l);
    (void)wire_line_decode(p, size, false, &l);
    return 0;
}
