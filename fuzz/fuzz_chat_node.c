/* What a Redis server, or whoever writes into it, hands a chatd node: the
 * bytes of a reply (resp_parse: a tree within the bounds, or a refusal,
 * never a crash or an overread) and the texts kept in Redis (events,
 * members, history lines, topics: decoded or refused; an accepted event
 * encodes back to text that decodes to the same event). The node's files
 * are compiled in (they live beside the applet, not in the library). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct resp *r = NULL;
    ssize_t k = resp_parse(p, size, &r);
    if (k > 0) {
        if ((size_t)k > size)
            abort();
        walk(r, 0);
        free(r);
    }
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
