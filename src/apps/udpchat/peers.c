/* The peer table of udpchat (peers.h): entries in one array, found by id
 * through an open-addressing index (linear probing, backward-shift
 * deletion), the least recently seen evicted when full; the sequence
 * window and the token bucket. */
#include "peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum uc_seq_verdict uc_window_check(const struct uc_window *w, uint32_t seq)
{
    if (!w->started)
        return UC_SEQ_NEW;
    int32_t d = (int32_t)(seq - w->top);
    if (d > 0)
        return UC_SEQ_NEW;
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

/* ---- the table -------------------------------------------------------- */

static size_t slot_of(const struct uc_peers *t, uint64_t id)
{
    uint64_t h = (id ^ t->key) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & t->index_mask;
}

int uc_peers_init(struct uc_peers *t, size_t max, unsigned burst, uint64_t key)
{
    memset(t, 0, sizeof *t);
    if (max < 1)
        max = 1;
    size_t cap = 4;
    while (cap < 2 * max)
        cap *= 2;
    t->v = calloc(max, sizeof *t->v);
    t->index = calloc(cap, sizeof *t->index);
    if (!t->v || !t->index) {
        uc_peers_free(t);
        return -ENOMEM;
    }
    t->max = max;
    t->index_mask = cap - 1;
    t->key = key;
    t->burst = burst;
    return 0;
}

void uc_peers_free(struct uc_peers *t)
{
    free(t->v);
    free(t->index);
    memset(t, 0, sizeof *t);
}

/* Index slot holding entry id, or the empty slot where it would go. */
static size_t probe(const struct uc_peers *t, uint64_t id)
{
    size_t s = slot_of(t, id);
    while (t->index[s] && t->v[t->index[s] - 1].id != id)
        s = (s + 1) & t->index_mask;
    return s;
}

struct uc_peer *uc_peers_find(struct uc_peers *t, uint64_t id)
{
    size_t s = probe(t, id);
    return t->index[s] ? &t->v[t->index[s] - 1] : NULL;
}

/* Empty slot s and shift later entries of its cluster back into it, so
 * that probing never stops early. */
static void index_delete(struct uc_peers *t, size_t s)
{
    size_t mask = t->index_mask, j = s;
    t->index[s] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->index[j])
            return;
        size_t home = slot_of(t, t->v[t->index[j] - 1].id);
        /* move j to s unless its home lies cyclically in (s, j] */
        bool stays = s <= j ? (home > s && home <= j) : (home > s || home <= j);
        if (!stays) {
            t->index[s] = t->index[j];
            t->index[j] = 0;
            s = j;
        }
    }
}

void uc_peers_remove(struct uc_peers *t, struct uc_peer *p)
{
    size_t i = (size_t)(p - t->v);
    index_delete(t, probe(t, p->id));
    size_t last = t->n - 1;
    if (i != last) {
        t->v[i] = t->v[last];
        t->index[probe(t, t->v[i].id)] = (uint32_t)i + 1;
    }
    t->n--;
}

struct uc_peer *uc_peers_add(struct uc_peers *t, uint64_t id, uint64_t now_ms,
                             uint32_t default_ms, struct uc_peer *evicted,
                             bool *was_evicted)
{
    if (was_evicted)
        *was_evicted = false;
    if (t->n == t->max) {
        size_t old = 0;
        for (size_t i = 1; i < t->n; i++)
            if (t->v[i].last_ms < t->v[old].last_ms)
                old = i;
        if (evicted)
            *evicted = t->v[old];
        if (was_evicted)
            *was_evicted = true;
        uc_peers_remove(t, &t->v[old]);
    }
    struct uc_peer *p = &t->v[t->n];
    memset(p, 0, sizeof *p);
    p->id = id;
    p->first_ms = p->last_ms = now_ms;
    p->interval_ms = default_ms;
    uc_bucket_init(&p->bucket, t->burst, now_ms);
    t->index[probe(t, id)] = (uint32_t)t->n + 1;
    t->n++;
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
