/* The peer table of udpchat (peers.h): entries in one array, found by
 * (id, endpoint) through an open-addressing index on the id (linear
 * probing, backward-shift deletion), the least recently seen evicted when
 * full; the source addresses in a second array and index; the sequence
 * window and the token bucket. */
#include "peers.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

enum uc_seq_verdict uc_window_check(const struct uc_window *w, uint32_t seq)
{
    if (!w->started)
        return UC_SEQ_NEW;
    int32_t d = (int32_t)(seq - w->top);
    if (d > 0)
        return (uint32_t)d > UC_JUMP_MAX ? UC_SEQ_JUMP : UC_SEQ_NEW;
    uint32_t back = (uint32_t)-(int64_t)d;
    if (back >= UC_WINDOW)
        return UC_SEQ_OLD;
    return (w->seen >> back) & 1u ? UC_SEQ_DUP : UC_SEQ_NEW;
}

void uc_window_mark(struct uc_window *w, uint32_t seq)
{
    if (!w->started) {
        w->started = true;
        w->top = seq;
        w->seen = 1;
        return;
    }
    int32_t d = (int32_t)(seq - w->top);
    if (d > 0) {
        w->seen = (uint32_t)d >= UC_WINDOW ? 1 : w->seen << d | 1;
        w->top = seq;
    } else {
        uint32_t back = (uint32_t)-(int64_t)d;
        if (back < UC_WINDOW)
            w->seen |= (uint64_t)1 << back;
    }
}

void uc_bucket_init(struct uc_bucket *b, unsigned burst, uint64_t now_ms)
{
    b->tokens = burst;
    b->at_ms = now_ms;
}

static void refill(struct uc_bucket *b, unsigned rate, unsigned burst, uint64_t now_ms)
{
    if (now_ms > b->at_ms) {
        b->tokens += (double)rate * (double)(now_ms - b->at_ms) / 1000.0;
        if (b->tokens > burst)
            b->tokens = burst;
    }
    b->at_ms = now_ms;
}

bool uc_bucket_take(struct uc_bucket *b, unsigned rate, unsigned burst, uint64_t now_ms)
{
    if (rate == 0)
        return true;
    refill(b, rate, burst, now_ms);
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

void uc_bucket_charge(struct uc_bucket *b, unsigned rate, unsigned burst, uint64_t now_ms)
{
    if (rate == 0)
        return;
    refill(b, rate, burst, now_ms);
    b->tokens -= 1.0;
}

uint64_t uc_bucket_wait(const struct uc_bucket *b, unsigned rate, unsigned burst,
                        uint64_t now_ms)
{
    struct uc_bucket c = *b;
    refill(&c, rate, burst, now_ms);
    if (c.tokens >= 1.0)
        return 0;
    return (uint64_t)((1.0 - c.tokens) * 1000.0 / rate) + 1;
}

/* ---- endpoints -------------------------------------------------------- */

struct uc_ep uc_ep_of(const struct sockaddr *sa, socklen_t len)
{
    struct uc_ep e;
    memset(&e, 0, sizeof e);
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        e.family = AF_INET;
        e.port = ntohs(s->sin_port);
        memcpy(e.addr, &s->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        e.family = AF_INET6;
        e.port = ntohs(s->sin6_port);
        e.scope = s->sin6_scope_id;
        memcpy(e.addr, &s->sin6_addr, 16);
    }
    return e;
}

bool uc_ep_equal(const struct uc_ep *a, const struct uc_ep *b, bool with_port)
{
    return a->family == b->family && a->scope == b->scope &&
           !memcmp(a->addr, b->addr, sizeof a->addr) && (!with_port || a->port == b->port);
}

/* ---- the index -------------------------------------------------------- */

static size_t home_of(const struct uc_index *x, uint64_t h)
{
    return (size_t)((h * 0x9e3779b97f4a7c15ull) >> 32) & x->mask;
}

static int index_init(struct uc_index *x, size_t max)
{
    size_t cap = 4;
    while (cap < 2 * max)
        cap *= 2;
    x->slot = calloc(cap, sizeof *x->slot);
    x->mask = cap - 1;
    return x->slot ? 0 : -ENOMEM;
}

/* Empty slot s and shift later entries of its cluster back into it, so
 * that probing never stops early; hash(ctx, entry) is an entry's hash. */
static void index_delete(struct uc_index *x, size_t s,
                         uint64_t (*hash)(const struct uc_peers *, size_t),
                         const struct uc_peers *t)
{
    size_t mask = x->mask, j = s;
    x->slot[s] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!x->slot[j])
            return;
        size_t home = home_of(x, hash(t, x->slot[j] - 1));
        /* move j to s unless its home lies cyclically in (s, j] */
        bool stays = s <= j ? (home > s && home <= j) : (home > s || home <= j);
        if (!stays) {
            x->slot[s] = x->slot[j];
            x->slot[j] = 0;
            s = j;
        }
    }
}

/* The slot holding entry e, starting from home. */
static size_t slot_holding(const struct uc_index *x, size_t home, size_t e)
{
    size_t s = home;
    while (x->slot[s] != e + 1)
        s = (s + 1) & x->mask;
    return s;
}

/* The first empty slot from home. */
static size_t slot_free(const struct uc_index *x, size_t home)
{
    size_t s = home;
    while (x->slot[s])
        s = (s + 1) & x->mask;
    return s;
}

static uint64_t peer_hash(const struct uc_peers *t, size_t i)
{
    return t->v[i].id ^ t->key;
}

static uint64_t ep_hash(const struct uc_peers *t, const struct uc_ep *e)
{
    uint64_t h = t->key ^ e->family ^ (uint64_t)e->scope << 16;
    for (size_t i = 0; i < sizeof e->addr; i++)
        h = (h ^ e->addr[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t src_hash(const struct uc_peers *t, size_t i)
{
    return ep_hash(t, &t->src[i].ep);
}

/* ---- the table -------------------------------------------------------- */

int uc_peers_init(struct uc_peers *t, size_t max, unsigned burst, unsigned src_burst,
                  uint64_t key)
{
    memset(t, 0, sizeof *t);
    if (max < 1)
        max = 1;
    t->v = calloc(max, sizeof *t->v);
    t->src = calloc(max + 1, sizeof *t->src);
    if (!t->v || !t->src || index_init(&t->index, max) < 0 ||
        index_init(&t->src_index, max + 1) < 0) {
        uc_peers_free(t);
        return -ENOMEM;
    }
    t->max = max;
    t->key = key;
    t->burst = burst;
    t->src_burst = src_burst;
    return 0;
}

void uc_peers_free(struct uc_peers *t)
{
    free(t->v);
    free(t->index.slot);
    free(t->src);
    free(t->src_index.slot);
    memset(t, 0, sizeof *t);
}

struct uc_peer *uc_peers_find(struct uc_peers *t, uint64_t id, const struct uc_ep *ep,
                              bool *other)
{
    if (other)
        *other = false;
    /* every entry of this id lies between its home and the first empty slot */
    for (size_t s = home_of(&t->index, id ^ t->key); t->index.slot[s];
         s = (s + 1) & t->index.mask) {
        struct uc_peer *p = &t->v[t->index.slot[s] - 1];
        if (p->id != id)
            continue;
        if (uc_ep_equal(&p->ep, ep, true))
            return p;
        if (other)
            *other = true;
    }
    return NULL;
}

/* The index of ep's address among the sources, or -1. */
static long source_find(const struct uc_peers *t, const struct uc_ep *ep)
{
    for (size_t s = home_of(&t->src_index, ep_hash(t, ep)); t->src_index.slot[s];
         s = (s + 1) & t->src_index.mask) {
        size_t i = t->src_index.slot[s] - 1;
        if (uc_ep_equal(&t->src[i].ep, ep, false))
            return (long)i;
    }
    return -1;
}

static void source_remove(struct uc_peers *t, size_t i)
{
    struct uc_index *x = &t->src_index;
    index_delete(x, slot_holding(x, home_of(x, src_hash(t, i)), i), src_hash, t);
    size_t last = t->nsrc - 1;
    if (i != last) {
        size_t s = slot_holding(x, home_of(x, src_hash(t, last)), last);
        t->src[i] = t->src[last];
        x->slot[s] = (uint32_t)i + 1;
    }
    t->nsrc--;
}

struct uc_source *uc_peers_source(struct uc_peers *t, const struct uc_ep *ep,
                                  uint64_t now_ms)
{
    long i = source_find(t, ep);
    if (i >= 0)
        return &t->src[i];
    for (size_t k = t->nsrc; k-- > 0 && t->nsrc == t->max + 1;)
        if (!t->src[k].npeers)
            source_remove(t, k);       /* left without a peer: not needed */
    if (t->nsrc == t->max + 1)
        return NULL;
    struct uc_source *s = &t->src[t->nsrc];
    memset(s, 0, sizeof *s);
    s->ep = *ep;
    s->ep.port = 0;
    uc_bucket_init(&s->bucket, t->src_burst, now_ms);
    t->src_index.slot[slot_free(&t->src_index, home_of(&t->src_index, ep_hash(t, ep)))] =
        (uint32_t)t->nsrc + 1;
    t->nsrc++;
    return s;
}

void uc_peers_remove(struct uc_peers *t, struct uc_peer *p)
{
    size_t i = (size_t)(p - t->v);
    long si = source_find(t, &p->ep);
    if (si >= 0 && --t->src[si].npeers == 0)
        source_remove(t, (size_t)si);
    struct uc_index *x = &t->index;
    index_delete(x, slot_holding(x, home_of(x, peer_hash(t, i)), i), peer_hash, t);
    size_t last = t->n - 1;
    if (i != last) {
        size_t s = slot_holding(x, home_of(x, peer_hash(t, last)), last);
        t->v[i] = t->v[last];
        x->slot[s] = (uint32_t)i + 1;
    }
    t->n--;
}

struct uc_peer *uc_peers_add(struct uc_peers *t, uint64_t id, const struct uc_ep *ep,
                             uint64_t now_ms, uint32_t default_ms, struct uc_peer *evicted,
                             bool *was_evicted)
{
    if (was_evicted)
        *was_evicted = false;
    long si = source_find(t, ep);
    if (t->n == t->max) {
        /* the oldest of this address's own peers if it has some: one
         * address cannot push out the peers of others one id at a time */
        bool own = si >= 0 && t->src[si].npeers > 0;
        size_t old = t->n;
        for (size_t i = 0; i < t->n; i++)
            if ((!own || uc_ep_equal(&t->v[i].ep, ep, false)) &&
                (old == t->n || t->v[i].last_ms < t->v[old].last_ms))
                old = i;
        if (evicted)
            *evicted = t->v[old];
        if (was_evicted)
            *was_evicted = true;
        uc_peers_remove(t, &t->v[old]);
        si = source_find(t, ep);
    }
    struct uc_peer *p = &t->v[t->n];
    memset(p, 0, sizeof *p);
    p->id = id;
    p->ep = *ep;
    p->first_ms = p->last_ms = now_ms;
    p->interval_ms = default_ms;
    uc_bucket_init(&p->bucket, t->burst, now_ms);
    struct uc_index *x = &t->index;
    x->slot[slot_free(x, home_of(x, id ^ t->key))] = (uint32_t)t->n + 1;
    t->n++;
    if (si < 0) {               /* the caller did not ask uc_peers_source: do it */
        struct uc_source *s = uc_peers_source(t, ep, now_ms);
        if (s)
            s->npeers++;
    } else {
        t->src[si].npeers++;
    }
    return p;
}

uint64_t uc_peer_expiry(const struct uc_peer *p)
{
    return p->last_ms + (uint64_t)UC_MISSES * p->interval_ms;
}

struct uc_peer *uc_peers_expired(struct uc_peers *t, uint64_t now_ms)
{
    for (size_t i = 0; i < t->n; i++)
        if (uc_peer_expiry(&t->v[i]) <= now_ms)
            return &t->v[i];
    return NULL;
}
